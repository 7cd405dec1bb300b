//! The pipeline every way in shares. For now: proposal → inspect → decide,
//! with the scripts the code runs read and inspected too, and the digest that
//! binds a verdict to exactly what was judged.
//!
//! This is the only crate that knows the order of the steps; the CLI (and
//! later the server, MCP server and hooks) call only this.

mod digest;
pub mod execute;
mod scripts;

use inspect::{Analysis, Context, Lang, Op};
use policy::{BoundPolicy, Decision, Grants, Policy, Scope, Verdict};
use serde::{Deserialize, Serialize};

pub use digest::DIGEST_VERSION;
pub use scripts::ScriptRecord;

/// Limits on what the gate accepts.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest code accepted, in bytes.
    pub max_code_bytes: usize,
    /// Deepest bracket/quote nesting accepted before parsing.
    pub max_nesting: usize,
    /// Largest script file read for inspection.
    pub max_script_bytes: u64,
    /// Most script files followed for one proposal.
    pub max_scripts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_code_bytes: 1 << 20,
            max_nesting: 200,
            max_script_bytes: 256 << 10,
            max_scripts: 32,
        }
    }
}

/// What an agent asks to run.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    pub lang: String,
    pub code: String,
    /// Working directory; relative paths are taken against the workspace root.
    #[serde(default)]
    pub cwd: Option<String>,
    /// The caller's id for this proposal, echoed back.
    #[serde(default)]
    pub id: Option<String>,
    /// The agent's session (for the record and for alerts on repeated refusals).
    #[serde(default)]
    pub session: Option<String>,
    /// Which agent proposed it.
    #[serde(default)]
    pub agent: Option<String>,
    /// The inputs that drove the code (user turn, file, fetched page), labelled by trust.
    /// Recorded, never judged: the verdict depends only on the code.
    #[serde(default)]
    pub provenance: Vec<Provenance>,
}

/// One input behind a proposal.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// Where it came from: `user`, `file:<path>`, `url:<address>`, `tool:<name>`, ...
    pub source: String,
    pub trust: Trust,
    /// The input itself (recorded capped, with its SHA-256 over the whole).
    #[serde(default)]
    pub content: Option<String>,
    /// Its SHA-256, when the content is not given.
    #[serde(default)]
    pub sha256: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Trust {
    Trusted,
    Untrusted,
}

/// Bad input: the gate refuses to judge it, and nothing runs.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GateError {
    #[error("unknown language {0:?} (bash, sh, python or sql)")]
    UnknownLanguage(String),
    #[error("code is {size} bytes, over the limit of {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("code nests deeper than {0} levels")]
    TooDeep(usize),
    #[error("code is empty")]
    Empty,
    #[error("code contains a NUL byte")]
    NulByte,
    #[error("cwd {cwd:?} is outside the workspace {workspace:?}")]
    CwdOutsideWorkspace { cwd: String, workspace: String },
    #[error("invalid policy: {0}")]
    Policy(String),
}

/// The gate's answer for one proposal.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub id: Option<String>,
    pub decision: Verdict,
    pub digest: String,
    pub policy_version: String,
    pub lang: Lang,
    pub cwd: String,
    pub operations: Vec<Op>,
    pub reasons: Vec<ReasonOut>,
    pub scripts: Vec<ScriptRecord>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReasonOut {
    pub verdict: Verdict,
    pub rule: String,
    /// Index into `operations`.
    pub op: usize,
    pub message: String,
}

/// The gate: a policy bound to one workspace, and the limits.
pub struct Gate {
    bound: BoundPolicy,
    scope: Scope,
    limits: Limits,
    /// Working directory of proposals that name none (default: the workspace root).
    default_cwd: Option<String>,
}

impl Gate {
    pub fn new(policy: Policy, scope: Scope, limits: Limits) -> Result<Gate, GateError> {
        let bound = policy
            .into_bound(&scope)
            .map_err(|e| GateError::Policy(e.to_string()))?;
        Ok(Gate {
            bound,
            scope,
            limits,
            default_cwd: None,
        })
    }

    /// Proposals without a `cwd` run here (an absolute path inside the workspace).
    pub fn with_default_cwd(mut self, cwd: String) -> Gate {
        self.default_cwd = Some(cwd);
        self
    }

    pub fn policy(&self) -> &Policy {
        self.bound.policy()
    }

    pub fn workspace(&self) -> &str {
        &self.scope.workspace
    }

    /// Inspect and decide one proposal, with no task grants.
    pub fn check(&self, p: &Proposal) -> Result<Checked, GateError> {
        self.check_granted(p, &Grants::default())
    }

    /// Inspect and decide one proposal under the task's grants (which can widen only
    /// what the policy marks as grantable, and enter the digest).
    pub fn check_granted(&self, p: &Proposal, grants: &Grants) -> Result<Checked, GateError> {
        let lang =
            Lang::parse(&p.lang).ok_or_else(|| GateError::UnknownLanguage(p.lang.clone()))?;
        if p.code.len() > self.limits.max_code_bytes {
            return Err(GateError::TooLarge {
                size: p.code.len(),
                limit: self.limits.max_code_bytes,
            });
        }
        if p.code.trim().is_empty() {
            return Err(GateError::Empty);
        }
        if p.code.contains('\0') {
            return Err(GateError::NulByte);
        }
        if nesting_depth(&p.code) > self.limits.max_nesting {
            return Err(GateError::TooDeep(self.limits.max_nesting));
        }
        let cwd = match p.cwd.as_deref() {
            None | Some("") => self
                .default_cwd
                .clone()
                .unwrap_or_else(|| self.scope.workspace.clone()),
            Some(c) => inspect::paths::resolve(&self.scope.workspace, c),
        };
        if !inspect::paths::is_within(&cwd, &self.scope.workspace) {
            return Err(GateError::CwdOutsideWorkspace {
                cwd,
                workspace: self.scope.workspace.clone(),
            });
        }
        let ctx = Context::new(&cwd, &self.scope.workspace, &self.scope.home);
        // A panic in a parser is a bug, and must still not become "allow".
        let mut analysis: Analysis =
            std::panic::catch_unwind(|| inspect::analyze(lang, &p.code, &ctx)).unwrap_or_else(
                |_| Analysis {
                    ops: vec![Op::opaque(
                        "the inspector failed on this code (internal error)",
                    )],
                    scripts: Vec::new(),
                },
            );
        let scripts = scripts::follow(&mut analysis, &ctx, &self.limits);

        let mut grant_list: Vec<String> = grants
            .hosts
            .iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        grant_list.sort();
        grant_list.dedup();
        let decision: Decision = self.bound.decide(&analysis.ops, grants);
        // The inputs and the requester enter the digest: an approval for code driven by
        // one input does not carry over to the same code driven by another.
        let provenance: Vec<(String, &'static str, Option<String>)> = p
            .provenance
            .iter()
            .map(|pv| {
                let sha = match &pv.content {
                    Some(c) => Some(digest::hex(&<sha2::Sha256 as sha2::Digest>::digest(
                        c.as_bytes(),
                    ))),
                    None => pv.sha256.as_ref().map(|h| h.to_ascii_lowercase()),
                };
                let trust = match pv.trust {
                    Trust::Trusted => "trusted",
                    Trust::Untrusted => "untrusted",
                };
                (pv.source.clone(), trust, sha)
            })
            .collect();
        let requester = (p.agent.is_some() || p.session.is_some())
            .then_some((p.agent.as_deref(), p.session.as_deref()));
        let digest = digest::proposal_digest(&digest::DigestInput {
            lang: lang.as_str(),
            code: &p.code,
            cwd: &cwd,
            workspace: &self.scope.workspace,
            policy_version: &self.policy().version,
            scripts: &scripts,
            grants: &grant_list,
            provenance: &provenance,
            requester,
        });
        Ok(Checked {
            id: p.id.clone(),
            decision: decision.verdict,
            digest,
            policy_version: self.policy().version.clone(),
            lang,
            cwd,
            operations: analysis.ops,
            reasons: decision
                .reasons
                .into_iter()
                .map(|r| ReasonOut {
                    verdict: r.verdict,
                    rule: r.rule,
                    op: r.op,
                    message: r.message,
                })
                .collect(),
            scripts,
        })
    }
}

/// Deepest nesting of brackets, braces and parentheses outside quotes: a
/// cheap guard that keeps recursive parsers far from the stack's end.
pub fn nesting_depth(code: &str) -> usize {
    let mut depth: usize = 0;
    let mut max = 0;
    for b in code.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}
