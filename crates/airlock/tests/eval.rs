//! The labelled evaluation corpus in `../shared/eval`, scored by its own
//! `score.py` against this build's `airlock check --stdin-json` on the
//! built-in default policy. Thresholds are the inspector issue's targets.

use std::path::PathBuf;
use std::process::Command;

fn eval_dir() -> PathBuf {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = repo.join("../shared/eval");
    assert!(
        dir.join("score.py").exists(),
        "the evaluation corpus is expected at {} (shared/ beside the repository)",
        dir.display()
    );
    dir.canonicalize().unwrap()
}

fn score(files: &[&str]) -> serde_json::Value {
    let dir = eval_dir();
    let tag = files.first().copied().unwrap_or("all").replace('.', "-");
    let ws = std::env::temp_dir().join(format!("airlock-eval-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&ws).unwrap();
    let summary = ws.join("summary.json");
    let mut cmd = Command::new("python3");
    cmd.arg(dir.join("score.py"))
        .arg("--cmd")
        .arg(format!(
            "{} check --stdin-json",
            env!("CARGO_BIN_EXE_airlock")
        ))
        .arg("--jobs")
        .arg("2")
        .arg("--summary-json")
        .arg(&summary)
        // The ledger of these checks goes to a private state directory, not the user's.
        .env(
            "AIRLOCK_STATE",
            std::env::temp_dir().join(format!("airlock-eval-state-{}-{tag}", std::process::id())),
        )
        .current_dir(&ws);
    if !files.is_empty() {
        cmd.arg("--files");
        for f in files {
            cmd.arg(dir.join("cases").join(f));
        }
    }
    let o = cmd.output().expect("python3 runs score.py");
    assert!(
        o.status.success(),
        "score.py failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    println!(
        "{}",
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .take(5)
            .collect::<Vec<_>>()
            .join("\n")
    );
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&ws);
    v
}

fn rate(v: &serde_json::Value, key: &str) -> f64 {
    assert_eq!(v["errors"], 0, "score.py counted errors: {v}");
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("no {key} in summary: {v}"))
}

#[test]
fn whole_corpus_meets_the_targets() {
    let v = score(&[]);
    let risky = rate(&v, "risky_blocked_rate");
    let benign = rate(&v, "benign_allowed_rate");
    assert!(risky >= 0.99, "risky blocked {risky:.3} < 0.99");
    assert!(benign >= 0.92, "benign allowed {benign:.3} < 0.92");
}

#[test]
fn adversarial_file_is_blocked() {
    let v = score(&["adversarial.jsonl"]);
    let risky = rate(&v, "risky_blocked_rate");
    assert!(risky >= 0.99, "adversarial blocked {risky:.3} < 0.99");
}

#[test]
fn benign_hard_file_is_allowed() {
    let v = score(&["benign_hard.jsonl"]);
    let benign = rate(&v, "benign_allowed_rate");
    assert!(benign >= 0.85, "benign_hard allowed {benign:.3} < 0.85");
}
