mod common;

use common::*;
use ledger::record::{Entry, Kind};
use report::to_jsonl_line;
use serde_json::{Value, json};

#[test]
fn a_line_is_the_entry_plus_its_place_in_the_log() {
    let leaf = "ab".repeat(32);
    let e = entry(
        12,
        "2026-11-27T22:20:00.123Z",
        Kind::Proposal,
        Some("r-1"),
        proposal("bash", "echo 'a\nb'\u{1b}[2J\u{2028}", "claude-code"),
    );
    let line = to_jsonl_line(&e, &leaf);
    assert!(
        !line.contains('\n') && !line.contains('\r'),
        "one line: {line}"
    );
    assert!(!line.contains('\u{1b}'), "control characters are escaped");
    let mut v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["log_index"], json!(12));
    assert_eq!(v["leaf_hash"], json!(leaf));
    assert_eq!(v["kind"], json!("proposal"));
    assert_eq!(v["body"]["code"], json!("echo 'a\nb'\u{1b}[2J\u{2028}"));
    // Without the two export fields it is the entry, exactly.
    let m = v.as_object_mut().unwrap();
    m.remove("log_index");
    m.remove("leaf_hash");
    let back: Entry = serde_json::from_value(v).unwrap();
    assert_eq!(
        serde_json::to_value(&back).unwrap(),
        serde_json::to_value(&e).unwrap()
    );
}

#[test]
fn absent_request_and_session_stay_absent() {
    let mut e = entry(
        3,
        &at(27, 1, 0, 0),
        Kind::Control,
        None,
        control("freeze_on", json!({})),
    );
    e.session = None;
    let v: Value = serde_json::from_str(&to_jsonl_line(&e, "00")).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        vec![
            "body",
            "index",
            "kind",
            "leaf_hash",
            "log_index",
            "prev",
            "time",
            "v"
        ]
    );
}
