//! The OCSF events against the schema (OCSF 1.4.0). The tables below were derived from
//! the compiled 1.4.0 schema (events `base_event`, `system` → `process_activity`,
//! `finding` → `detection_finding`, the `security_control` profile, and the objects'
//! `requirement` and `at_least_one` constraints), so a mapping that drops a required
//! attribute, misspells one or uses an enum value the schema lacks fails here.

mod common;

use std::collections::HashSet;

use common::*;
use ledger::record::Kind;
use report::ocsf::{MAX_CODE_BYTES, OCSF_VERSION, OcsfContext, to_ocsf, to_ocsf_with};
use serde_json::{Value, json};

/// Required by every class (base event, 1.4.0).
const BASE_REQUIRED: &[&str] = &[
    "activity_id",
    "category_uid",
    "class_uid",
    "metadata",
    "severity_id",
    "time",
    "type_uid",
];

/// Every attribute of the base event (1.4.0).
const BASE_ATTRS: &[&str] = &[
    "activity_id",
    "activity_name",
    "category_name",
    "category_uid",
    "class_name",
    "class_uid",
    "count",
    "duration",
    "end_time",
    "enrichments",
    "message",
    "metadata",
    "observables",
    "raw_data",
    "severity",
    "severity_id",
    "start_time",
    "status",
    "status_code",
    "status_detail",
    "status_id",
    "time",
    "timezone_offset",
    "type_name",
    "type_uid",
    "unmapped",
];

/// Attributes of the `security_control` profile (1.4.0), valid only when the event
/// lists the profile in `metadata.profiles`.
const SECURITY_CONTROL_ATTRS: &[&str] = &[
    "action",
    "action_id",
    "attacks",
    "authorizations",
    "confidence",
    "confidence_id",
    "confidence_score",
    "disposition",
    "disposition_id",
    "firewall_rule",
    "is_alert",
    "malware",
    "risk_details",
    "risk_level",
    "risk_level_id",
    "risk_score",
];

struct ClassSpec {
    uid: u64,
    name: &'static str,
    category_uid: u64,
    category_name: &'static str,
    required: &'static [&'static str],
    /// Attributes beyond the base event's.
    attrs: &'static [&'static str],
    activity_ids: &'static [u64],
    status_ids: &'static [u64],
}

const CLASSES: &[ClassSpec] = &[
    ClassSpec {
        uid: 0,
        name: "Base Event",
        category_uid: 0,
        category_name: "Uncategorized",
        required: &[],
        attrs: &[],
        activity_ids: &[0, 99],
        status_ids: &[0, 1, 2, 99],
    },
    ClassSpec {
        uid: 1007,
        name: "Process Activity",
        category_uid: 1,
        category_name: "System Activity",
        // `actor` and `device` from System Activity, `process` from the class.
        required: &["actor", "device", "process"],
        attrs: &[
            "actor",
            "actual_permissions",
            "device",
            "exit_code",
            "injection_type",
            "injection_type_id",
            "module",
            "process",
            "requested_permissions",
        ],
        activity_ids: &[0, 1, 2, 3, 4, 5, 99],
        status_ids: &[0, 1, 2, 99],
    },
    ClassSpec {
        uid: 2004,
        name: "Detection Finding",
        category_uid: 2,
        category_name: "Findings",
        required: &["finding_info"],
        attrs: &[
            "comment",
            "confidence",
            "confidence_id",
            "confidence_score",
            "device",
            "evidences",
            "finding_info",
            "impact",
            "impact_id",
            "impact_score",
            "is_alert",
            "remediation",
            "resources",
            "risk_details",
            "risk_level",
            "risk_level_id",
            "risk_score",
            "vendor_attributes",
            "vulnerabilities",
        ],
        activity_ids: &[0, 1, 2, 3, 99],
        // Finding status: New, In Progress, Suppressed, Resolved, Archived.
        status_ids: &[0, 1, 2, 3, 4, 5, 99],
    },
];

const METADATA_ATTRS: &[&str] = &[
    "correlation_uid",
    "debug",
    "event_code",
    "extension",
    "extensions",
    "labels",
    "log_level",
    "log_name",
    "log_provider",
    "log_version",
    "logged_time",
    "loggers",
    "modified_time",
    "original_time",
    "processed_time",
    "product",
    "profiles",
    "sequence",
    "tags",
    "tenant_uid",
    "uid",
    "version",
];

const SEVERITY_IDS: &[u64] = &[0, 1, 2, 3, 4, 5, 6, 99];
const ACTION_IDS: &[u64] = &[0, 1, 2, 99];

fn has(v: &Value, k: &str) -> bool {
    v.get(k).is_some_and(|x| !x.is_null())
}

fn at_least_one(v: &Value, what: &str, keys: &[&str], errors: &mut Vec<String>) {
    if !keys.iter().any(|k| has(v, k)) {
        errors.push(format!("{what}: needs one of {keys:?}"));
    }
}

fn int_in(v: &Value, k: &str, allowed: &[u64], errors: &mut Vec<String>) {
    match v.get(k) {
        None => {}
        Some(x) => match x.as_u64() {
            Some(n) if allowed.contains(&n) => {}
            _ => errors.push(format!("{k}: {x} is not one of {allowed:?}")),
        },
    }
}

/// Every way `ev` breaks the OCSF 1.4.0 schema as tabled above.
fn violations(ev: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(obj) = ev.as_object() else {
        return vec!["not an object".into()];
    };
    let Some(class) = ev
        .get("class_uid")
        .and_then(Value::as_u64)
        .and_then(|u| CLASSES.iter().find(|c| c.uid == u))
    else {
        return vec![format!("unknown class_uid {:?}", ev.get("class_uid"))];
    };
    for k in BASE_REQUIRED.iter().chain(class.required) {
        if !has(ev, k) {
            errors.push(format!("missing required {k}"));
        }
    }
    let profiles: Vec<&str> = ev["metadata"]["profiles"]
        .as_array()
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut allowed: HashSet<&str> = BASE_ATTRS.iter().chain(class.attrs).copied().collect();
    if profiles.contains(&"security_control") {
        allowed.extend(SECURITY_CONTROL_ATTRS);
    }
    for k in obj.keys() {
        if !allowed.contains(k.as_str()) {
            errors.push(format!("attribute {k} is not in class {}", class.name));
        }
    }
    // Classification.
    if ev["category_uid"].as_u64() != Some(class.category_uid) {
        errors.push(format!(
            "category_uid {} for class {}",
            ev["category_uid"], class.uid
        ));
    }
    if ev["class_name"] != json!(class.name) || ev["category_name"] != json!(class.category_name) {
        errors.push("class or category name".into());
    }
    let activity = ev["activity_id"].as_u64().unwrap_or(u64::MAX);
    if ev["type_uid"].as_u64() != Some(class.uid * 100 + activity) {
        errors.push(format!(
            "type_uid {} != {} * 100 + {activity}",
            ev["type_uid"], class.uid
        ));
    }
    int_in(ev, "activity_id", class.activity_ids, &mut errors);
    int_in(ev, "status_id", class.status_ids, &mut errors);
    int_in(ev, "severity_id", SEVERITY_IDS, &mut errors);
    int_in(ev, "action_id", ACTION_IDS, &mut errors);
    int_in(
        ev,
        "disposition_id",
        &(0..=27).chain([99]).collect::<Vec<_>>(),
        &mut errors,
    );
    for k in [
        "time",
        "start_time",
        "end_time",
        "duration",
        "timezone_offset",
        "exit_code",
    ] {
        if ev.get(k).is_some_and(|v| !v.is_i64()) {
            errors.push(format!("{k} must be an integer"));
        }
    }
    // Metadata: `product` and `version` required; the product's vendor named.
    let md = &ev["metadata"];
    for k in ["product", "version"] {
        if !has(md, k) {
            errors.push(format!("metadata.{k} missing"));
        }
    }
    if let Some(m) = md.as_object() {
        for k in m.keys() {
            if !METADATA_ATTRS.contains(&k.as_str()) {
                errors.push(format!("metadata.{k} is not a metadata attribute"));
            }
        }
    }
    if !md["uid"].is_string() || !md["sequence"].is_u64() || !md["logged_time"].is_i64() {
        errors.push("metadata uid/sequence/logged_time types".into());
    }
    if !md["product"]["vendor_name"].is_string() || !md["product"]["name"].is_string() {
        errors.push("metadata.product names".into());
    }
    // Objects.
    if let Some(p) = ev.get("process") {
        at_least_one(p, "process", &["pid", "uid"], &mut errors);
    }
    if let Some(a) = ev.get("actor") {
        at_least_one(
            a,
            "actor",
            &[
                "process",
                "user",
                "invoked_by",
                "session",
                "app_name",
                "app_uid",
            ],
            &mut errors,
        );
    }
    if let Some(d) = ev.get("device") {
        if !d["type_id"].is_u64() {
            errors.push("device.type_id required".into());
        }
        at_least_one(
            d,
            "device",
            &[
                "ip",
                "uid",
                "name",
                "hostname",
                "instance_uid",
                "interface_uid",
                "interface_name",
            ],
            &mut errors,
        );
    }
    if let Some(f) = ev.get("finding_info") {
        // `uid` required; `title` recommended in 1.4 (required in 1.3): both expected.
        for k in ["uid", "title"] {
            if !f[k].is_string() {
                errors.push(format!("finding_info.{k} missing"));
            }
        }
        if let Some(a) = f.get("analytic")
            && !a["type_id"].is_u64()
        {
            errors.push("analytic.type_id required".into());
        }
    }
    for o in ev
        .get("observables")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if !o["type_id"].is_u64() || !o["name"].is_string() {
            errors.push(format!("observable {o}"));
        }
    }
    for e in ev
        .get("evidences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        at_least_one(
            e,
            "evidences",
            &[
                "actor",
                "api",
                "connection_info",
                "data",
                "database",
                "databucket",
                "device",
                "dst_endpoint",
                "email",
                "file",
                "process",
                "query",
                "src_endpoint",
                "url",
                "user",
                "job",
                "script",
            ],
            &mut errors,
        );
    }
    errors
}

const LEAF: &str = "5e1f0a9d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f";

fn ocsf(kind: Kind, body: Value) -> Value {
    let e = entry(7, "2026-11-27T22:20:00.123Z", kind, Some("r-42"), body);
    to_ocsf(&e, LEAF).expect("exported")
}

fn deny_verdict() -> Value {
    verdict(
        "deny",
        &[
            ("allow", "exec-system", 2, "runs sh"),
            (
                "deny",
                "no-delete-outside-workspace",
                0,
                "deletes /root outside the workspace",
            ),
            (
                "deny",
                "no-network",
                1,
                "contacts 198.51.100.23, which the task does not grant",
            ),
        ],
        json!([
            op_delete("/root"),
            op_network("198.51.100.23"),
            op_exec("sh")
        ]),
        &["file_delete", "network", "exec"],
    )
}

fn all_events() -> Vec<Value> {
    vec![
        ocsf(
            Kind::ExecStart,
            exec_start(json!(["/usr/bin/git", "status"]), 4242),
        ),
        ocsf(
            Kind::ExecStart,
            exec_start(json!("python3 -c 'print(1)'"), 4243),
        ),
        ocsf(
            Kind::ExecOutcome,
            exec_outcome(3, json!({"code": 0}), 0, 120, json!([])),
        ),
        ocsf(
            Kind::ExecOutcome,
            exec_outcome(
                3,
                json!("timeout"),
                124,
                300_000,
                json!([egress("evil.example", false)]),
            ),
        ),
        ocsf(
            Kind::Alert,
            alert("destructive_op", "high", "rm -rf outside the workspace", 6),
        ),
        ocsf(Kind::Verdict, deny_verdict()),
        ocsf(
            Kind::Verdict,
            verdict(
                "ask",
                &[("ask", "ask-network", 0, "a person decides")],
                json!([op_network("pypi.org")]),
                &["network"],
            ),
        ),
        ocsf(Kind::Proposal, proposal("bash", "rm -rf ~/", "claude-code")),
        ocsf(
            Kind::Approval,
            approval(
                Some("alice"),
                "approve",
                &at(27, 22, 19, 0),
                &at(27, 22, 20, 0),
            ),
        ),
        ocsf(Kind::Control, control("key_created", json!({"key": "k1"}))),
    ]
}

#[test]
fn every_event_meets_the_schema() {
    for ev in all_events() {
        let v = violations(&ev);
        assert!(v.is_empty(), "{v:?} in {ev:#}");
    }
}

type Breakage = Box<dyn Fn(&mut Value)>;

#[test]
fn the_schema_check_catches_violations() {
    let good = ocsf(Kind::Verdict, deny_verdict());
    let broken: Vec<(&str, Breakage)> = vec![
        (
            "missing required time",
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("time");
            }),
        ),
        ("type_uid", Box::new(|v| v["type_uid"] = json!(200402))),
        (
            "attribute evidence is not",
            Box::new(|v| v["evidence"] = json!([])),
        ),
        (
            "attribute action_id is not",
            Box::new(|v| v["metadata"]["profiles"] = json!([])),
        ),
        (
            "finding_info.uid",
            Box::new(|v| {
                v["finding_info"].as_object_mut().unwrap().remove("uid");
            }),
        ),
        ("severity_id", Box::new(|v| v["severity_id"] = json!(7))),
        ("category_uid", Box::new(|v| v["category_uid"] = json!(1))),
        (
            "metadata.version",
            Box::new(|v| {
                v["metadata"].as_object_mut().unwrap().remove("version");
            }),
        ),
        (
            "disposition_id",
            Box::new(|v| v["disposition_id"] = json!(28)),
        ),
    ];
    assert!(violations(&good).is_empty());
    for (expect, f) in broken {
        let mut ev = good.clone();
        f(&mut ev);
        let v = violations(&ev);
        assert!(v.iter().any(|m| m.contains(expect)), "{expect}: got {v:?}");
    }
    let mut ev = ocsf(Kind::ExecStart, exec_start(json!(["git"]), 1));
    ev["process"] = json!({"name": "git"});
    ev.as_object_mut().unwrap().remove("device");
    let v = violations(&ev);
    assert!(
        v.iter().any(|m| m.contains("process: needs one of")),
        "{v:?}"
    );
    assert!(
        v.iter().any(|m| m.contains("missing required device")),
        "{v:?}"
    );
}

#[test]
fn classes_activities_and_type_uid_arithmetic() {
    let got: Vec<(u64, u64, u64, u64)> = all_events()
        .iter()
        .map(|e| {
            (
                e["class_uid"].as_u64().unwrap(),
                e["category_uid"].as_u64().unwrap(),
                e["activity_id"].as_u64().unwrap(),
                e["type_uid"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (1007, 1, 1, 100_701),
            (1007, 1, 1, 100_701),
            (1007, 1, 2, 100_702),
            (1007, 1, 2, 100_702),
            (2004, 2, 1, 200_401),
            (2004, 2, 1, 200_401),
            (2004, 2, 1, 200_401),
            (0, 0, 99, 99),
            (0, 0, 99, 99),
            (0, 0, 99, 99),
        ]
    );
    for e in all_events() {
        assert_eq!(
            e["type_uid"].as_u64().unwrap(),
            e["class_uid"].as_u64().unwrap() * 100 + e["activity_id"].as_u64().unwrap()
        );
    }
}

#[test]
fn metadata_time_and_integrity_fields() {
    let e = entry(
        7,
        "2026-11-27T22:20:00.123Z",
        Kind::Alert,
        Some("r-42"),
        alert("x", "info", "y", 1),
    );
    let ev = to_ocsf(&e, LEAF).unwrap();
    // 2026-11-27 is day 20784: 20784 * 86400 + 22:20:00 = 1795818000 s.
    assert_eq!(ev["time"], json!(1_795_818_000_123_i64));
    let md = &ev["metadata"];
    assert_eq!(md["version"], json!(OCSF_VERSION));
    assert_eq!(OCSF_VERSION, "1.4.0");
    assert_eq!(md["product"]["name"], json!("airlock"));
    assert_eq!(md["product"]["vendor_name"], json!("airlock"));
    assert_eq!(md["uid"], json!("7"));
    assert_eq!(md["sequence"], json!(7));
    assert_eq!(md["log_name"], json!("airlock-ledger"));
    assert_eq!(md["correlation_uid"], json!("r-42"));
    assert_eq!(md["original_time"], json!("2026-11-27T22:20:00.123Z"));
    let a = &ev["unmapped"]["airlock"];
    assert_eq!(a["log_index"], json!(7));
    assert_eq!(a["leaf_hash"], json!(LEAF));
    assert_eq!(a["prev_leaf_hash"], json!(e.prev));
    assert_eq!(a["kind"], json!("alert"));
    assert_eq!(a["session"], json!("s-1"));

    let bad = entry(
        8,
        "yesterday",
        Kind::Alert,
        None,
        alert("x", "info", "y", 1),
    );
    assert!(to_ocsf(&bad, LEAF).is_none(), "no event without a time");
}

#[test]
fn process_activity_launch_and_terminate() {
    let start = ocsf(
        Kind::ExecStart,
        exec_start(json!(["/usr/bin/git", "status"]), 4242),
    );
    // The record's pid is airlock's own: the launching actor, not the program.
    assert_eq!(start["actor"]["process"]["pid"], json!(4242));
    assert!(start["process"].get("pid").is_none());
    assert_eq!(start["process"]["name"], json!("git"));
    assert_eq!(start["process"]["cmd_line"], json!("/usr/bin/git status"));
    assert_eq!(start["process"]["uid"], json!("airlock-exec-7"));
    assert_eq!(start["device"]["type_id"], json!(0));
    assert_eq!(start["actor"]["app_name"], json!("airlock"));
    assert_eq!(
        start["unmapped"]["airlock"]["verdict_leaf"],
        json!("aa".repeat(32))
    );

    // The outcome names the start record: both events share the process uid.
    let e = entry(
        9,
        &at(27, 22, 21, 0),
        Kind::ExecOutcome,
        Some("r-42"),
        exec_outcome(7, json!({"code": 3}), 3, 1500, json!([])),
    );
    let end = to_ocsf(&e, LEAF).unwrap();
    assert_eq!(end["process"]["uid"], start["process"]["uid"]);
    assert_eq!(end["exit_code"], json!(3));
    assert_eq!(
        (end["status_id"].clone(), end["status_detail"].clone()),
        (json!(2), json!("exit 3"))
    );
    assert_eq!(end["status_code"], json!("3"));
    assert_eq!(end["duration"], json!(1500));
    assert_eq!(
        end["start_time"].as_i64().unwrap() + 1500,
        end["end_time"].as_i64().unwrap()
    );
    assert_eq!(end["severity_id"], json!(1));
    assert!(
        end["unmapped"]["airlock"]["outcome"]["stdout"]
            .get("copy")
            .is_none(),
        "output stays in the ledger"
    );
    assert_eq!(
        end["unmapped"]["airlock"]["outcome"]["stdout"]["bytes"],
        json!(12)
    );

    let ok = ocsf(
        Kind::ExecOutcome,
        exec_outcome(3, json!({"code": 0}), 0, 10, json!([])),
    );
    assert_eq!(
        (ok["status_id"].clone(), ok["exit_code"].clone()),
        (json!(1), json!(0))
    );

    let timeout = ocsf(
        Kind::ExecOutcome,
        exec_outcome(
            3,
            json!("timeout"),
            124,
            300_000,
            json!([egress("pypi.org", true), egress("evil.example", false)]),
        ),
    );
    assert!(timeout.get("exit_code").is_none());
    assert_eq!(timeout["status_detail"], json!("timeout"));
    assert_eq!(
        timeout["severity_id"],
        json!(3),
        "refused egress raises the severity"
    );
    assert_eq!(
        timeout["observables"],
        json!([{"name": "unmapped.airlock.outcome.egress.host", "type_id": 1, "type": "Hostname", "value": "evil.example"}])
    );
    let lost = ocsf(
        Kind::ExecOutcome,
        exec_outcome(3, json!("protection_lost"), 123, 10, json!([])),
    );
    assert_eq!(lost["severity_id"], json!(4));
    let signal = ocsf(
        Kind::ExecOutcome,
        exec_outcome(3, json!({"signal": 9}), 137, 10, json!([])),
    );
    assert_eq!(
        (
            signal["severity_id"].clone(),
            signal["status_detail"].clone()
        ),
        (json!(2), json!("signal 9"))
    );

    let ctx = OcsfContext {
        hostname: Some("build-7".into()),
        checkpoint: Some("airlock.example/log\n8\nq3...=\n".into()),
    };
    let e = entry(
        7,
        &at(27, 1, 0, 0),
        Kind::ExecStart,
        None,
        exec_start(json!(["ls"]), 1),
    );
    let ev = to_ocsf_with(&e, LEAF, &ctx).unwrap();
    assert_eq!(ev["device"]["hostname"], json!("build-7"));
    assert_eq!(
        ev["unmapped"]["airlock"]["checkpoint"],
        json!("airlock.example/log\n8\nq3...=\n")
    );
    assert!(violations(&ev).is_empty());
    assert!(start["unmapped"]["airlock"].get("checkpoint").is_none());
}

#[test]
fn alerts_are_detection_findings_with_mapped_severity() {
    for (sev, id) in [
        ("info", 1),
        ("warning", 3),
        ("high", 4),
        ("critical", 5),
        ("bogus", 0),
    ] {
        let ev = ocsf(
            Kind::Alert,
            alert("secrets_read", sev, "reads ~/.ssh/id_ed25519", 6),
        );
        assert_eq!(ev["severity_id"], json!(id), "{sev}");
        assert!(violations(&ev).is_empty());
    }
    let ev = ocsf(
        Kind::Alert,
        alert("secrets_read", "high", "reads ~/.ssh/id_ed25519", 6),
    );
    assert_eq!(ev["class_uid"], json!(2004));
    assert_eq!(ev["is_alert"], json!(true));
    assert_eq!(ev["status_id"], json!(1));
    let fi = &ev["finding_info"];
    assert_eq!(fi["uid"], json!("airlock-7"));
    let mut with_id = alert("secrets_read", "high", "reads ~/.ssh/id_ed25519", 6);
    with_id["id"] = json!("al-0042");
    let ev2 = ocsf(Kind::Alert, with_id);
    assert_eq!(ev2["finding_info"]["uid"], json!("al-0042"));
    assert_eq!(fi["title"], json!("reads ~/.ssh/id_ed25519"));
    assert_eq!(fi["analytic"]["name"], json!("secrets_read"));
    assert_eq!(fi["analytic"]["type_id"], json!(1));
    assert_eq!(ev["evidences"][0]["data"]["subject_index"], json!(6));
    assert!(ev.get("action_id").is_none() && ev["metadata"].get("profiles").is_none());
}

#[test]
fn refusals_are_blocked_findings_and_allows_are_not_exported() {
    let ev = ocsf(Kind::Verdict, deny_verdict());
    assert_eq!(
        (ev["action_id"].clone(), ev["disposition_id"].clone()),
        (json!(2), json!(2))
    );
    assert_eq!(ev["disposition"], json!("Blocked"));
    assert_eq!(ev["severity_id"], json!(3));
    assert_eq!(ev["metadata"]["profiles"], json!(["security_control"]));
    assert_eq!(ev["is_alert"], json!(false));
    let fi = &ev["finding_info"];
    assert_eq!(
        fi["title"],
        json!("airlock denied a proposal: no-delete-outside-workspace")
    );
    assert_eq!(
        fi["desc"],
        json!(
            "deletes /root outside the workspace; contacts 198.51.100.23, which the task does not grant"
        ),
        "allow reasons are not why it was refused"
    );
    assert_eq!(fi["types"], json!(["file_delete", "network", "exec"]));
    assert_eq!(
        ev["evidences"][0]["data"]["policy_version"],
        json!("p-7c1e")
    );
    assert_eq!(
        ev["evidences"][0]["data"]["operations"][0]["op"],
        json!("file_delete")
    );

    let ask = ocsf(
        Kind::Verdict,
        verdict(
            "ask",
            &[("ask", "ask-network", 0, "a person decides")],
            json!([]),
            &["network"],
        ),
    );
    assert_eq!(
        (ask["action_id"].clone(), ask["disposition_id"].clone()),
        (json!(2), json!(99))
    );
    assert_eq!(ask["disposition"], json!("Held for approval"));
    assert_eq!(ask["severity_id"], json!(2));

    let allow = entry(
        7,
        &at(27, 1, 0, 0),
        Kind::Verdict,
        None,
        verdict("allow", &[], json!([op_exec("ls")]), &["exec"]),
    );
    assert!(to_ocsf(&allow, LEAF).is_none());
}

#[test]
fn proposals_approvals_and_control_are_base_events() {
    let ap = approval(
        Some("alice"),
        "approve",
        &at(27, 22, 19, 0),
        &at(27, 22, 20, 0),
    );
    let ev = ocsf(Kind::Approval, ap.clone());
    assert_eq!(
        (ev["class_uid"].clone(), ev["activity_name"].clone()),
        (json!(0), json!("approval"))
    );
    assert_eq!(ev["type_name"], json!("Base Event: Other"));
    assert_eq!(ev["unmapped"]["airlock"]["body"], ap);
    assert_eq!(ev["message"], json!("approval: approve"));

    let c = ocsf(
        Kind::Control,
        control("recovered_truncation", json!({"lost_bytes": 17})),
    );
    assert_eq!(c["severity_id"], json!(4));
    let c = ocsf(Kind::Control, control("policy_changed", json!({})));
    assert_eq!(c["severity_id"], json!(3));
    let c = ocsf(Kind::Control, control("key_created", json!({})));
    assert_eq!(c["severity_id"], json!(1));

    // Code past the cap is cut at a character boundary and marked.
    let code = "é".repeat(MAX_CODE_BYTES); // 2 bytes each
    let ev = ocsf(Kind::Proposal, proposal("python", &code, "agent"));
    let body = &ev["unmapped"]["airlock"]["body"];
    assert_eq!(body["code"].as_str().unwrap().len(), MAX_CODE_BYTES);
    assert_eq!(body["code_truncated"], json!(true));
    assert_eq!(body["code_sha256"], json!("9f".repeat(32)));
    let short = ocsf(Kind::Proposal, proposal("bash", "ls", "agent"));
    assert_eq!(short["unmapped"]["airlock"]["body"]["code"], json!("ls"));
    assert!(
        short["unmapped"]["airlock"]["body"]
            .get("code_truncated")
            .is_none()
    );
}
