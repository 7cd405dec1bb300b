//! Check, then execute: the only path from a proposal to running code. Nothing runs
//! unless the verdict is `allow` (until approvals exist, `ask` never runs), the sandbox
//! gets exactly the grants the verdict was made under, and nothing starts before the
//! recorder has made the verdict and the intent to run durable.

use policy::{Grants, Verdict};
use sandbox::egress::HostGrant;
use sandbox::{Outcome, Profile};

use crate::{Checked, Gate, GateError, Proposal};

/// What happened to a proposal on its way to execution.
pub enum Ran {
    /// Not allowed: nothing ran. The verdict and its reasons say why.
    Refused(Checked),
    /// Allowed and run in the sandbox.
    Ran(Checked, Box<Outcome>),
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Gate(#[from] GateError),
    #[error("{0}")]
    Unsupported(String),
    /// The workspace, cwd or a bind is not acceptable for a sandbox; nothing ran.
    #[error("{0}")]
    Profile(String),
    /// The sandbox could not be built; nothing ran.
    #[error("sandbox: {0}")]
    Sandbox(String),
    /// The record could not be written; nothing ran.
    #[error("{0}")]
    Record(String),
    /// A script the verdict covered changed before execution; nothing ran.
    #[error("{0}")]
    Changed(String),
}

/// Where each step of a run is written down. `decided` and `starting` must be durable
/// when they return `Ok`; an `Err` from either stops the run before anything executes.
pub trait Recorder {
    /// The proposal and its verdict, before anything else happens.
    fn decided(&mut self, p: &Proposal, c: &Checked) -> Result<(), String>;
    /// The intent to run exactly this program under exactly this profile.
    fn starting(&mut self, c: &Checked, profile: &Profile, program: &str) -> Result<(), String>;
    /// What happened; called for every `starting` that returned `Ok`.
    fn finished(&mut self, c: &Checked, outcome: Result<&Outcome, &str>);
}

/// Records nothing (for benchmarks and tests of the sandbox path alone).
pub struct NoRecorder;

impl Recorder for NoRecorder {
    fn decided(&mut self, _: &Proposal, _: &Checked) -> Result<(), String> {
        Ok(())
    }
    fn starting(&mut self, _: &Checked, _: &Profile, _: &str) -> Result<(), String> {
        Ok(())
    }
    fn finished(&mut self, _: &Checked, _: Result<&Outcome, &str>) {}
}

/// The program and arguments that run a proposal's code in its language.
pub fn command_for(lang: inspect::Lang, code: &str) -> Result<(String, Vec<String>), RunError> {
    use inspect::Lang;
    let (prog, flag) = match lang {
        Lang::Bash => ("/bin/bash", "-c"),
        Lang::Sh => ("/bin/sh", "-c"),
        Lang::Python => ("python3", "-c"),
        Lang::Sql => {
            return Err(RunError::Unsupported(
                "running SQL needs a database target, which `airlock run` does not take yet; SQL can be checked, not run".into(),
            ));
        }
    };
    Ok((prog.to_string(), vec![flag.to_string(), code.to_string()]))
}

impl Gate {
    /// Checks `p` under `grants` and, only if allowed, runs it under `profile` (whose
    /// workspace, cwd and network grants are set here from the verdict).
    pub fn run(
        &self,
        p: &Proposal,
        grants: &[HostGrant],
        mut profile: Profile,
        rec: &mut dyn Recorder,
    ) -> Result<Ran, RunError> {
        let policy_grants = Grants {
            hosts: grants.iter().map(|g| g.pattern.clone()).collect(),
        };
        let checked = self.check_granted(p, &policy_grants)?;
        rec.decided(p, &checked).map_err(RunError::Record)?;
        if checked.decision != Verdict::Allow {
            return Ok(Ran::Refused(checked));
        }
        let (program, args) = command_for(checked.lang, &p.code)?;
        profile.workspace = self.scope.workspace.clone().into();
        profile.cwd = checked.cwd.clone().into();
        profile.grants = grants.to_vec();
        profile
            .hidden
            .extend(self.scope.airlock_paths.iter().map(Into::into));
        crate::scripts::unchanged(&checked.scripts, &self.limits).map_err(RunError::Changed)?;
        rec.starting(&checked, &profile, &program)
            .map_err(RunError::Record)?;
        match sandbox::run(&profile, &program, &args) {
            Ok(outcome) => {
                rec.finished(&checked, Ok(&outcome));
                Ok(Ran::Ran(checked, Box::new(outcome)))
            }
            Err(e) => {
                let e = match e {
                    sandbox::RunError::Refused(m) => RunError::Profile(m),
                    sandbox::RunError::Setup(m) => RunError::Sandbox(m),
                };
                rec.finished(&checked, Err(&e.to_string()));
                Err(e)
            }
        }
    }
}
