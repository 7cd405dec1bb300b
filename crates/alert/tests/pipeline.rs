//! From ledger records to alerts in the outbox, as the gate would run it: one
//! short-lived process per proposal, so each step builds its own tracker and
//! dispatcher over the same state directory.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alert::{AlertConfig, BurstTracker, Dispatcher, Subject, alerts_for_record};
use serde_json::json;

fn verdict(decision: &str, ops: serde_json::Value) -> serde_json::Value {
    json!({
        "decision": decision,
        "digest": "5e".repeat(32),
        "policy_version": "v3",
        "proposal_index": 0,
        "reasons": [{"verdict": decision, "rule": "r", "op": 0, "message": "m"}],
        "operations": ops,
        "targets": [],
    })
}

fn subject(index: u64) -> Subject {
    Subject {
        index,
        leaf: format!("{:064x}", index + 0xabc),
        request: Some(format!("r-{index}")),
        session: Some("s-agent-7".into()),
        checkpoint: Some("airlock.example/log\n10\nroot=\n".into()),
    }
}

#[test]
fn refused_rephrasings_raise_a_burst_and_everything_lands_in_the_outbox() {
    let dir = common::state_dir("pipeline");
    let cfg = AlertConfig::from_toml_str(
        "[alerts.stderr]\nenabled = false\n[alerts.rules]\ndenial_burst = { count = 3, window_secs = 300, severity = \"critical\" }\n",
    )
    .unwrap();
    let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    // The agent is refused, rephrases, is refused again, and again.
    let attempts = [
        (
            "deny",
            json!([{"op": "exec", "program": "rm", "argv": ["-rf", "/srv/data"], "kind": "system"},
                        {"op": "file_delete", "path": {"path": "/srv/data", "exact": "literal"}, "recursive": true}]),
        ),
        (
            "deny",
            json!([{"op": "exec", "program": "find", "argv": ["/srv/data", "-delete"], "kind": "system"}]),
        ),
        (
            "ask",
            json!([{"op": "opaque", "reason": "python: shutil.rmtree on a computed path"}]),
        ),
    ];
    let mut all = Vec::new();
    for (i, (decision, ops)) in attempts.iter().enumerate() {
        let tracker = BurstTracker::new(dir.join("alerts/burst.json"), &cfg.rules.denial_burst);
        let now = t0 + Duration::from_secs(30 * i as u64);
        let alerts = alerts_for_record(
            &cfg,
            Some(&tracker),
            "verdict",
            &verdict(decision, ops.clone()),
            &subject(10 + 3 * i as u64),
            now,
        )
        .unwrap();
        let d = Dispatcher::new(&cfg, &dir).unwrap();
        let r = d.dispatch(&alerts);
        assert!(r.durable() && r.errors.is_empty(), "{r:?}");
        all.extend(alerts);
    }
    let rules: Vec<(u64, &str)> = all
        .iter()
        .map(|a| (a.subject_index, a.rule.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            (10, "destructive"),
            (13, "destructive"),
            (16, "opaque"),
            (16, "denial_burst")
        ]
    );
    let burst = all.last().unwrap();
    assert_eq!(burst.severity, alert::Severity::Critical);
    assert_eq!(burst.id, "16-denial_burst");
    assert_eq!(burst.time, "2027-01-15T08:01:00.000Z");
    assert_eq!(burst.session.as_deref(), Some("s-agent-7"));
    assert_eq!(burst.subject_leaf, subject(16).leaf);
    assert!(burst.checkpoint.is_some());

    // The outbox holds exactly these alerts, in order, with index and leaf.
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    assert_eq!(d.outbox_path(), dir.join("alerts/outbox.jsonl"));
    assert_eq!(d.outbox_alerts().unwrap(), all);
    // No webhook: nothing is pending.
    assert!(d.pending().unwrap().is_empty());

    // An allowed verdict does not feed the burst, but its own rules still fire.
    let tracker = BurstTracker::new(dir.join("alerts/burst.json"), &cfg.rules.denial_burst);
    let allowed = verdict(
        "allow",
        json!([{"op": "sql", "kind": "ddl", "verb": "DROP TABLE", "objects": ["tmp_import"],
        "database": null, "has_where": false, "where_tautological": true, "dangers": []}]),
    );
    let a = alerts_for_record(
        &cfg,
        Some(&tracker),
        "verdict",
        &allowed,
        &subject(20),
        t0 + Duration::from_secs(100),
    )
    .unwrap();
    assert_eq!(a.len(), 1);
    assert!(
        a[0].summary
            .starts_with("destructive operation (allowed): SQL DROP TABLE tmp_import"),
        "{}",
        a[0].summary
    );
}

#[test]
fn disabled_alerts_raise_and_write_nothing() {
    let dir = common::state_dir("disabled");
    let cfg = AlertConfig::from_toml_str("[alerts]\nenabled = false\n").unwrap();
    let body = verdict("deny", json!([{"op": "privilege", "how": "sudo -i"}]));
    let a =
        alerts_for_record(&cfg, None, "verdict", &body, &subject(1), SystemTime::now()).unwrap();
    assert!(a.is_empty());
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    let r = d.dispatch(&[common::alert(1, "privilege")]);
    assert_eq!(r, alert::Report::default());
    assert!(!d.outbox_path().exists());
}
