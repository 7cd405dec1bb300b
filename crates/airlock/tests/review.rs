//! Regressions from an adversarial review of the sandbox: each test is an attack that
//! once worked, run against the real sandbox, with the host checked afterwards.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn airlock() -> Command {
    Command::new(env!("CARGO_BIN_EXE_airlock"))
}

fn workspace(tag: &str) -> PathBuf {
    let ws = std::env::temp_dir().join(format!("airlock-review-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&ws);
    std::fs::create_dir_all(&ws).unwrap();
    ws
}

fn git(ws: &Path, args: &[&str]) -> Output {
    let o = Command::new("git")
        .arg("-C")
        .arg(ws)
        .args(args)
        .output()
        .unwrap();
    assert!(o.status.success(), "git {args:?}: {o:?}");
    o
}

fn sandbox(ws: &Path, extra: &[&str], script: &str) -> Command {
    let mut c = airlock();
    c.args(["sandbox", "--no-toolchains", "--json", "--workspace"])
        .arg(ws)
        .arg("--cwd")
        .arg(ws)
        .args(extra)
        .args(["--", "/bin/sh", "-c", script]);
    c
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o:?}"))
}

/// Two runs at once on one workspace: the first run's placeholder for `.git/hooks` must
/// not be removed while the second still relies on it (removing a mount point detaches
/// the mount in the other namespace, and the path turns writable).
#[test]
fn concurrent_runs_keep_each_others_protection() {
    let ws = workspace("concurrent");
    git(&ws, &["init", "-q"]);
    std::fs::remove_dir_all(ws.join(".git/hooks")).unwrap();
    let mut first = sandbox(&ws, &["--timeout", "20"], "sleep 1.5")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(400));
    let second = sandbox(
        &ws,
        &["--timeout", "20"],
        "for i in 1 2 3 4 5 6 7 8 9 10; do mkdir -p .git/hooks 2>/dev/null; \
         echo evil > .git/hooks/pre-commit 2>/dev/null && echo WROTE && exit 0; sleep 0.3; done; echo held",
    )
    .output()
    .unwrap();
    first.wait().unwrap();
    let v = json(&second);
    assert_eq!(v["outcome"]["stdout"], "held\n", "{v}");
    assert!(!ws.join(".git/hooks/pre-commit").exists());
    // The last run out removed every placeholder.
    assert!(!ws.join(".git/hooks").exists(), "placeholder left behind");
    assert!(!ws.join(".envrc").exists(), "placeholder left behind");
    std::fs::remove_dir_all(&ws).unwrap();
}

/// A host program that rewrites a protected file by rename (as `git config` does) detaches
/// the sandbox's read-only mount of it; airlock notices and stops the run.
#[test]
fn host_rename_of_a_protected_file_stops_the_run() {
    let ws = workspace("rename");
    git(&ws, &["init", "-q"]);
    let child = sandbox(
        &ws,
        &["--timeout", "20"],
        "for i in $(seq 60); do echo '[core] fsmonitor = evil' >> .git/config 2>/dev/null && echo WROTE; sleep 0.1; done",
    )
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    git(&ws, &["config", "user.name", "host-user"]);
    let o = child.wait_with_output().unwrap();
    let v = json(&o);
    assert_eq!(o.status.code(), Some(123), "{v}");
    assert_eq!(v["outcome"]["exit"], "protection_lost", "{v}");
    let config = std::fs::read_to_string(ws.join(".git/config")).unwrap();
    assert!(!config.contains("evil"), "{config}");
    assert!(config.contains("host-user"));
    std::fs::remove_dir_all(&ws).unwrap();
}

/// An overlay the runner cannot list (a fifo in the upper layer) still reports the run:
/// its output and the fact that it ran are never lost.
#[test]
fn unlistable_overlay_still_reports_the_run() {
    let ws = workspace("fifo");
    let o = sandbox(&ws, &["--workspace-mode", "overlay"], "echo ran; mkfifo p")
        .output()
        .unwrap();
    let v = json(&o);
    assert_eq!(v["ran"], true, "{v}");
    assert_eq!(v["outcome"]["stdout"], "ran\n");
    assert!(
        v["outcome"]["overlay_error"]
            .as_str()
            .unwrap()
            .contains("fifo"),
        "{v}"
    );
    assert!(v["overlay_id"].is_null(), "nothing to apply: {v}");
    assert!(!ws.join("p").exists());
    std::fs::remove_dir_all(&ws).unwrap();
}

/// Hooks kept in the worktree through `core.hooksPath` (husky) are as protected as
/// `.git/hooks`.
#[test]
fn hooks_path_in_the_worktree_is_read_only() {
    let ws = workspace("hookspath");
    git(&ws, &["init", "-q"]);
    git(&ws, &["config", "core.hooksPath", ".husky"]);
    std::fs::create_dir(ws.join(".husky")).unwrap();
    let o = sandbox(&ws, &[], "echo evil > .husky/pre-commit; echo $?")
        .output()
        .unwrap();
    let v = json(&o);
    assert_eq!(v["outcome"]["stdout"], "2\n", "{v}");
    assert!(
        v["outcome"]["stderr"]
            .as_str()
            .unwrap()
            .contains("Read-only"),
        "{v}"
    );
    assert!(!ws.join(".husky/pre-commit").exists());
    // Control: the same write works on the host.
    std::fs::write(ws.join(".husky/pre-commit"), "ok").unwrap();
    std::fs::remove_dir_all(&ws).unwrap();
}
