//! The race between check and run: a script the verdict covered is changed (or created)
//! after the verdict is recorded and before execution starts. The gate refuses, and no
//! execution start is recorded. The change is made from the recorder's `decided` hook,
//! which runs exactly in that window.

use gate::execute::{Recorder, RunError};
use gate::{Checked, Gate, Limits, Proposal};
use policy::{Policy, Scope};
use sandbox::{Outcome, Profile};

struct Swap {
    script: std::path::PathBuf,
    replace_with: Option<&'static str>,
    starts: usize,
}

impl Recorder for Swap {
    fn decided(&mut self, _: &Proposal, c: &Checked) -> Result<(), String> {
        assert_eq!(c.decision, policy::Verdict::Allow, "{c:?}");
        match self.replace_with {
            Some(text) => std::fs::write(&self.script, text).unwrap(),
            None => std::fs::remove_file(&self.script).unwrap(),
        }
        Ok(())
    }
    fn starting(&mut self, _: &Checked, _: &Profile, _: &str) -> Result<(), String> {
        self.starts += 1;
        Ok(())
    }
    fn finished(&mut self, _: &Checked, _: Result<&Outcome, &str>) {}
}

fn gate(ws: &std::path::Path) -> Gate {
    let ws = ws.to_str().unwrap().to_string();
    let scope = Scope {
        workspace: ws.clone(),
        home: "/nonexistent-home".into(),
        airlock_paths: vec!["/nonexistent-home/.local/state/airlock".into()],
    };
    Gate::new(Policy::default_policy(), scope, Limits::default()).unwrap()
}

#[test]
fn a_script_changed_after_the_verdict_does_not_run() {
    for (tag, replace_with) in [("edited", Some("rm -rf ~\n")), ("removed", None)] {
        let ws =
            std::env::temp_dir().join(format!("airlock-gate-race-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&ws);
        std::fs::create_dir_all(&ws).unwrap();
        let ws = ws.canonicalize().unwrap();
        let script = ws.join("build.sh");
        std::fs::write(&script, "echo building\n").unwrap();
        let g = gate(&ws);
        let p = Proposal {
            lang: "bash".into(),
            code: "bash ./build.sh".into(),
            ..Default::default()
        };
        let mut rec = Swap {
            script: script.clone(),
            replace_with,
            starts: 0,
        };
        let profile = Profile::new(&ws, &ws);
        match g.run(&p, &[], profile, &mut rec) {
            Err(RunError::Changed(m)) => assert!(m.contains("build.sh"), "{m}"),
            Err(e) => panic!("{tag}: {e}"),
            Ok(_) => panic!("{tag}: ran a script that changed after its verdict"),
        }
        assert_eq!(rec.starts, 0, "{tag}");
        let _ = std::fs::remove_dir_all(&ws);
    }
}
