//! Synthetic ledger entries with realistic bodies (per the schema in
//! `ledger::record`), for the report tests.

#![allow(dead_code)]

use ledger::record::{Entry, Kind};
use serde_json::{Value, json};

/// `2026-11-{day}T{h}:{m}:{s}.000Z`
pub fn at(day: u32, h: u32, m: u32, s: u32) -> String {
    format!("2026-11-{day:02}T{h:02}:{m:02}:{s:02}.000Z")
}

/// Unix seconds of 2026-11-{day}T00:00:00Z (2026-11-01 is day 20758 since 1970).
pub fn day_secs(day: u32) -> f64 {
    (20_758 + i64::from(day) - 1) as f64 * 86_400.0
}

/// Appends entries with consecutive indexes, like a ledger read back.
pub struct Log {
    pub entries: Vec<Entry>,
}

impl Log {
    pub fn new() -> Log {
        Log {
            entries: Vec::new(),
        }
    }

    pub fn push(&mut self, time: &str, kind: Kind, request: Option<&str>, body: Value) -> u64 {
        let index = self.entries.len() as u64;
        self.entries.push(entry(index, time, kind, request, body));
        index
    }
}

pub fn entry(index: u64, time: &str, kind: Kind, request: Option<&str>, body: Value) -> Entry {
    Entry {
        v: 1,
        index,
        prev: format!("{:064x}", index.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
        time: time.to_string(),
        kind,
        request: request.map(str::to_string),
        session: Some("s-1".to_string()),
        body,
    }
}

pub fn proposal(lang: &str, code: &str, agent: &str) -> Value {
    json!({
        "lang": lang,
        "code": code,
        "code_sha256": "9f".repeat(32),
        "cwd": "/w",
        "workspace": "/w",
        "target": null,
        "grants": [],
        "agent": agent,
        "provenance": [{"source": "user_turn", "trust": "trusted", "label": "turn 3", "sha256": "ab".repeat(32)}],
    })
}

/// A reason: (verdict, rule, op index, message).
pub type Reason<'a> = (&'a str, &'a str, usize, &'a str);

pub fn verdict(
    decision: &str,
    reasons: &[Reason],
    operations: Value,
    categories: &[&str],
) -> Value {
    let reasons: Vec<Value> = reasons
        .iter()
        .map(|(v, rule, op, message)| json!({"verdict": v, "rule": rule, "op": op, "message": message}))
        .collect();
    json!({
        "decision": decision,
        "digest": "d1".repeat(32),
        "policy_version": "p-7c1e",
        "proposal_index": 0,
        "reasons": reasons,
        "operations": operations,
        "categories": categories,
    })
}

pub fn op_delete(path: &str) -> Value {
    json!({"op": "file_delete", "path": {"path": path, "exact": "literal"}, "recursive": true})
}

pub fn op_exec(program: &str) -> Value {
    json!({"op": "exec", "program": program, "argv": [program], "kind": "system"})
}

pub fn op_network(host: &str) -> Value {
    json!({"op": "network", "host": host, "port": 443, "via": "curl"})
}

pub fn approval(
    approver: Option<&str>,
    decision: &str,
    requested_at: &str,
    decided_at: &str,
) -> Value {
    json!({
        "digest": "d1".repeat(32),
        "verdict_index": 1,
        "approver": approver,
        "decision": decision,
        "requested_at": requested_at,
        "decided_at": decided_at,
        "expires_at": "2026-11-30T00:00:00.000Z",
    })
}

pub fn exec_start(program: Value, pid: i64) -> Value {
    json!({
        "digest": "d1".repeat(32),
        "verdict_index": 1,
        "verdict_leaf": "aa".repeat(32),
        "program": program,
        "profile": {"mode": "direct", "limits": {"timeout_secs": 300}, "grants": []},
        "pid": pid,
    })
}

pub fn exec_outcome(
    start_index: u64,
    exit: Value,
    status: i64,
    duration_ms: u64,
    egress: Value,
) -> Value {
    json!({
        "start_index": start_index,
        "exit": exit,
        "status": status,
        "duration_ms": duration_ms,
        "stdout": {"sha256": "00".repeat(32), "bytes": 12, "copy": "hello world\n", "truncated": false},
        "stderr": {"sha256": "01".repeat(32), "bytes": 0, "copy": "", "truncated": false},
        "egress": egress,
        "changes": [],
        "error": null,
    })
}

pub fn egress(host: &str, allowed: bool) -> Value {
    json!({"host": host, "port": 443, "allowed": allowed, "reason": if allowed { "granted" } else { "not_granted" }})
}

pub fn alert(rule: &str, severity: &str, summary: &str, subject_index: u64) -> Value {
    json!({
        "rule": rule,
        "severity": severity,
        "summary": summary,
        "subject_index": subject_index,
        "subject_leaf": "cc".repeat(32),
        "details": {"ops": ["file_delete"]},
    })
}

pub fn control(event: &str, details: Value) -> Value {
    json!({"event": event, "details": details})
}
