mod common;
use common::*;
use ledger::record::Kind;
use serde_json::json;
#[test]
fn dump_ocsf() {
    let leaf = "ab".repeat(32);
    let mut al = alert("destructive_op", "high", "rm -rf", 6);
    al["id"] = json!("al-1");
    let items = vec![
        (Kind::ExecStart, exec_start(json!("bash"), 4242)),
        (Kind::ExecOutcome, exec_outcome(3, json!({"code": 0}), 0, 120, json!([]))),
        (Kind::ExecOutcome, exec_outcome(3, json!("timeout"), 124, 300_000, json!([egress("evil.example", false)]))),
        (Kind::Alert, al),
        (Kind::Verdict, verdict("deny", &[("deny", "no-network", 1, "contacts x")], json!([op_network("x")]), &["network"])),
        (Kind::Proposal, proposal("bash", "rm -rf ~/", "claude-code")),
        (Kind::Control, control("key_created", json!({"key": "k1"}))),
    ];
    let mut out = String::new();
    for (i, (k, b)) in items.into_iter().enumerate() {
        let e = entry(i as u64, "2026-11-27T22:20:00.123Z", k, Some("r-1"), b);
        out.push_str(&report::to_ocsf(&e, &leaf).unwrap().to_string());
        out.push('\n');
    }
    std::fs::write("/tmp/ocsf_events.jsonl", out).unwrap();
}
