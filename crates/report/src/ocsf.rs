//! Ledger records as OCSF events (schema version [`OCSF_VERSION`]), for SIEMs.
//!
//! Mapping (class uids and enums checked against the compiled OCSF 1.4.0 schema):
//!
//! | record | OCSF class | activity |
//! |---|---|---|
//! | `exec_start` | Process Activity 1007 (System Activity, 1) | 1 Launch |
//! | `exec_outcome` | Process Activity 1007 | 2 Terminate |
//! | `alert` | Detection Finding 2004 (Findings, 2) | 1 Create |
//! | `verdict` `deny` / `ask` | Detection Finding 2004, `security_control` profile | 1 Create |
//! | `verdict` `allow` | not exported (`None`) | |
//! | `proposal`, `approval`, `control` | Base Event 0, data in `unmapped` | 99 Other |
//!
//! Why so:
//! * A `deny` or `ask` verdict is a security control intervening on an action, which
//!   OCSF expresses with the `security_control` profile (`action_id`,
//!   `disposition_id`); its rule and message are what `finding_info` and `analytic`
//!   describe, and Detection Finding needs nothing airlock does not have. API Activity
//!   6003 with activity 99 was the other candidate: it requires `actor`, `api` and
//!   `src_endpoint`, which airlock would have to invent (the agent is not a network
//!   endpoint), and activity 99 says nothing. `deny` is action 2 Denied with
//!   disposition 2 Blocked; `ask` is action 2 Denied (the action did not happen as
//!   proposed) with disposition 99 Other, "Held for approval" (OCSF's Delayed means an
//!   action that is allowed late, which an `ask` may never be).
//! * A run's Launch and Terminate share `process.uid` `airlock-exec-<exec_start index>`;
//!   the `pid` of `exec_start` is airlock's own, so it is `actor.process.pid`. An
//!   alert's `finding_info.uid` is its `id` when it has one, else `airlock-<index>`.
//! * An `allow` verdict is not a finding; what it let run is exported as Process
//!   Activity, and the native JSONL export has every verdict.
//! * Proposals, approvals and control events have no OCSF class (approvals: RFC
//!   ocsf/ocsf-schema#1753), so they go as Base Events with the record in
//!   `unmapped.airlock`. A proposal's `code` is cut to [`MAX_CODE_BYTES`]; its
//!   `code_sha256` identifies the whole.
//! * Severity: alert `info` 1 Informational, `warning` 3 Medium, `high` 4 High,
//!   `critical` 5 Critical; verdict `deny` 3 Medium, `ask` 2 Low; an outcome 1, or 2 Low
//!   after a timeout, a signal or no start, 3 Medium when egress was refused, 4 High
//!   when a protection was lost; control `recovered_truncation` and `pruned` 4 High,
//!   `freeze_on` / `freeze_off` / `policy_changed` 3 Medium, others 1.
//!
//! Every event carries `metadata.uid` (the ledger index as text), `metadata.sequence`
//! (the index), `metadata.correlation_uid` (the request id, one across a proposal's
//! lifecycle), `metadata.log_name` `airlock-ledger`, and, for integrity, the ledger
//! index, the leaf hash, the previous leaf hash and (given in [`OcsfContext`]) the
//! latest checkpoint in `unmapped.airlock` (OCSF 1.4 has no attribute for them), so an
//! analyst can prove the event matches a logged fact.
//! `time` is the record's time in milliseconds since the epoch; a record whose time
//! cannot be read (the ledger never writes one) is not exported.

use ledger::record::{Entry, Kind, parse_rfc3339};
use serde_json::{Map, Value, json};

/// The OCSF schema version the events follow.
pub const OCSF_VERSION: &str = "1.4.0";
/// The longest proposal code copied into an event, in bytes.
pub const MAX_CODE_BYTES: usize = 8 * 1024;
/// At most this many egress attempts, reasons or operations are copied into an event.
pub const MAX_LIST: usize = 100;

pub const CLASS_BASE_EVENT: u32 = 0;
pub const CLASS_PROCESS_ACTIVITY: u32 = 1007;
pub const CLASS_DETECTION_FINDING: u32 = 2004;

/// Where the events come from, for the attributes a record does not hold.
#[derive(Debug, Clone, Default)]
pub struct OcsfContext {
    /// The host airlock runs on (`device.hostname` of Process Activity). Without it
    /// the device is described as the airlock sandbox of unknown type.
    pub hostname: Option<String>,
    /// The latest signed checkpoint covering the records (the C2SP note text), copied
    /// into `unmapped.airlock.checkpoint` so each event can be proven on its own.
    pub checkpoint: Option<String>,
}

/// The OCSF event for a record, or `None` where none is exported (see the module
/// documentation). `leaf_hex` is the record's leaf hash.
pub fn to_ocsf(e: &Entry, leaf_hex: &str) -> Option<Value> {
    to_ocsf_with(e, leaf_hex, &OcsfContext::default())
}

/// [`to_ocsf`] with what the records do not say about where they come from.
pub fn to_ocsf_with(e: &Entry, leaf_hex: &str, ctx: &OcsfContext) -> Option<Value> {
    let ms = (parse_rfc3339(&e.time)? * 1000.0).round() as i64;
    let ev = Event {
        e,
        leaf_hex,
        ms,
        ctx,
    };
    match e.kind {
        Kind::ExecStart => Some(ev.exec_start()),
        Kind::ExecOutcome => Some(ev.exec_outcome()),
        Kind::Alert => Some(ev.alert()),
        Kind::Verdict => ev.verdict(),
        Kind::Proposal | Kind::Approval | Kind::Control => Some(ev.base_event()),
    }
}

fn severity_caption(id: u32) -> &'static str {
    match id {
        1 => "Informational",
        2 => "Low",
        3 => "Medium",
        4 => "High",
        5 => "Critical",
        6 => "Fatal",
        99 => "Other",
        _ => "Unknown",
    }
}

fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

fn first_n(v: Option<&Value>, n: usize) -> Value {
    match v {
        Some(Value::Array(a)) => Value::Array(a.iter().take(n).cloned().collect()),
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

/// Cuts a string to at most `max` bytes at a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

struct Event<'a> {
    e: &'a Entry,
    leaf_hex: &'a str,
    ms: i64,
    ctx: &'a OcsfContext,
}

struct Class {
    uid: u32,
    name: &'static str,
    category_uid: u32,
    category_name: &'static str,
}

const PROCESS_ACTIVITY: Class = Class {
    uid: CLASS_PROCESS_ACTIVITY,
    name: "Process Activity",
    category_uid: 1,
    category_name: "System Activity",
};
const DETECTION_FINDING: Class = Class {
    uid: CLASS_DETECTION_FINDING,
    name: "Detection Finding",
    category_uid: 2,
    category_name: "Findings",
};
const BASE_EVENT: Class = Class {
    uid: CLASS_BASE_EVENT,
    name: "Base Event",
    category_uid: 0,
    category_name: "Uncategorized",
};

impl Event<'_> {
    /// The attributes every event has, with `extra` (record-specific data) under
    /// `unmapped.airlock` beside the integrity fields.
    fn base(
        &self,
        class: &Class,
        activity_id: u32,
        activity_name: &str,
        severity_id: u32,
        extra: Map<String, Value>,
    ) -> Map<String, Value> {
        let e = self.e;
        let mut metadata = json!({
            "version": OCSF_VERSION,
            "product": {
                "name": "airlock",
                "vendor_name": "airlock",
                "version": env!("CARGO_PKG_VERSION"),
            },
            "uid": e.index.to_string(),
            "sequence": e.index,
            "log_name": "airlock-ledger",
            "log_provider": "airlock",
            "log_version": e.v.to_string(),
            "original_time": e.time,
            "logged_time": self.ms,
        });
        if let Some(r) = &e.request {
            metadata["correlation_uid"] = json!(r);
        }
        let mut airlock = Map::new();
        airlock.insert("log_index".into(), json!(e.index));
        airlock.insert("leaf_hash".into(), json!(self.leaf_hex));
        airlock.insert("prev_leaf_hash".into(), json!(e.prev));
        airlock.insert("record_version".into(), json!(e.v));
        airlock.insert("kind".into(), json!(e.kind.as_str()));
        if let Some(r) = &e.request {
            airlock.insert("request".into(), json!(r));
        }
        if let Some(s) = &e.session {
            airlock.insert("session".into(), json!(s));
        }
        if let Some(c) = &self.ctx.checkpoint {
            airlock.insert("checkpoint".into(), json!(c));
        }
        airlock.extend(extra);

        let mut m = Map::new();
        m.insert("class_uid".into(), json!(class.uid));
        m.insert("class_name".into(), json!(class.name));
        m.insert("category_uid".into(), json!(class.category_uid));
        m.insert("category_name".into(), json!(class.category_name));
        m.insert("activity_id".into(), json!(activity_id));
        m.insert("activity_name".into(), json!(activity_name));
        m.insert(
            "type_uid".into(),
            json!(u64::from(class.uid) * 100 + u64::from(activity_id)),
        );
        // For activity 99 the name is the source's own; the type keeps OCSF's caption.
        let type_activity = if activity_id == 99 {
            "Other"
        } else {
            activity_name
        };
        m.insert(
            "type_name".into(),
            json!(format!("{}: {}", class.name, type_activity)),
        );
        m.insert("time".into(), json!(self.ms));
        m.insert("timezone_offset".into(), json!(0));
        m.insert("severity_id".into(), json!(severity_id));
        m.insert("severity".into(), json!(severity_caption(severity_id)));
        m.insert("metadata".into(), metadata);
        m.insert("unmapped".into(), json!({ "airlock": airlock }));
        m
    }

    /// airlock launched the process: the actor is airlock (with its own pid when the
    /// record has it), in the agent's session.
    fn actor(&self, airlock_pid: Option<i64>) -> Value {
        let mut a = json!({ "app_name": "airlock" });
        if let Some(pid) = airlock_pid {
            a["process"] = json!({ "pid": pid, "name": "airlock" });
        }
        if let Some(s) = &self.e.session {
            a["session"] = json!({ "uid": s });
        }
        a
    }

    fn device(&self) -> Value {
        match &self.ctx.hostname {
            Some(h) => json!({ "type_id": 0, "type": "Unknown", "hostname": h }),
            None => json!({ "type_id": 0, "type": "Unknown", "name": "airlock sandbox" }),
        }
    }

    /// The process uid shared by a run's Launch and Terminate events: the ledger index
    /// of its `exec_start` record.
    fn process_uid(start_index: u64) -> String {
        format!("airlock-exec-{start_index}")
    }

    fn exec_start(&self) -> Value {
        let b = &self.e.body;
        let (name, cmd_line) = match b.get("program") {
            Some(Value::Array(argv)) => {
                let words: Vec<&str> = argv.iter().filter_map(Value::as_str).collect();
                (
                    words.first().map(|p| basename(p).to_string()),
                    Some(words.join(" ")),
                )
            }
            Some(Value::String(s)) => (
                s.split_whitespace().next().map(|p| basename(p).to_string()),
                Some(s.clone()),
            ),
            _ => (None, None),
        };
        // The record's `pid` is airlock's own (the supervisor), not the sandboxed
        // program's: it goes to the actor.
        let mut process = json!({ "uid": Self::process_uid(self.e.index) });
        if let Some(n) = &name {
            process["name"] = json!(n);
        }
        if let Some(c) = &cmd_line {
            process["cmd_line"] = json!(cut(c, MAX_CODE_BYTES));
        }
        let mut extra = Map::new();
        for k in [
            "digest",
            "verdict_index",
            "verdict_leaf",
            "approval_index",
            "approval_leaf",
            "profile",
            "pid_start",
            "boot_id",
        ] {
            if let Some(v) = b.get(k) {
                extra.insert(k.into(), v.clone());
            }
        }
        let mut m = self.base(&PROCESS_ACTIVITY, 1, "Launch", 1, extra);
        m.insert("status_id".into(), json!(1));
        m.insert("status".into(), json!("Success"));
        m.insert(
            "message".into(),
            json!(format!(
                "airlock started {} in its sandbox",
                name.as_deref().unwrap_or("a program")
            )),
        );
        m.insert(
            "actor".into(),
            self.actor(b.get("pid").and_then(Value::as_i64)),
        );
        m.insert("device".into(), self.device());
        m.insert("process".into(), process);
        let mut observables = Vec::new();
        if let Some(n) = &name {
            observables.push(
                json!({"name": "process.name", "type_id": 9, "type": "Process Name", "value": n}),
            );
        }
        if !observables.is_empty() {
            m.insert("observables".into(), Value::Array(observables));
        }
        Value::Object(m)
    }

    fn exec_outcome(&self) -> Value {
        let b = &self.e.body;
        let start = b.get("start_index").and_then(Value::as_u64);
        let exit = b.get("exit");
        let code = exit.and_then(|x| x.get("code")).and_then(Value::as_i64);
        let signal = exit.and_then(|x| x.get("signal")).and_then(Value::as_i64);
        let word = exit.and_then(Value::as_str);
        let refused: Vec<&Value> = b
            .get("egress")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|a| a.get("allowed").and_then(Value::as_bool) != Some(true))
            .collect();
        let (detail, mut severity) = match (code, signal, word) {
            (Some(c), _, _) => (format!("exit {c}"), 1),
            (None, Some(s), _) => (format!("signal {s}"), 2),
            (None, None, Some("protection_lost")) => ("protection_lost".to_string(), 4),
            (None, None, Some(w)) => (w.to_string(), 2),
            _ => ("unknown".to_string(), 2),
        };
        if !refused.is_empty() {
            severity = severity.max(3);
        }
        let success = code == Some(0);

        let process = json!({
            "uid": start.map_or_else(|| format!("airlock-exec-unknown-{}", self.e.index), Self::process_uid),
            "terminated_time": self.ms,
        });
        let mut outcome = Map::new();
        for k in [
            "start_index",
            "exit",
            "status",
            "duration_ms",
            "changes",
            "error",
        ] {
            if let Some(v) = b.get(k) {
                outcome.insert(k.into(), first_n(Some(v), MAX_LIST));
            }
        }
        for k in ["stdout", "stderr"] {
            // The digests and sizes; the captured copy stays in the ledger.
            if let Some(Value::Object(s)) = b.get(k) {
                let kept: Map<String, Value> = s
                    .iter()
                    .filter(|(k, _)| k.as_str() != "copy")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                outcome.insert(k.into(), Value::Object(kept));
            }
        }
        if let Some(eg) = b.get("egress") {
            outcome.insert("egress".into(), first_n(Some(eg), MAX_LIST));
        }
        let mut extra = Map::new();
        extra.insert("outcome".into(), Value::Object(outcome));

        let mut m = self.base(&PROCESS_ACTIVITY, 2, "Terminate", severity, extra);
        m.insert("status_id".into(), json!(if success { 1 } else { 2 }));
        m.insert(
            "status".into(),
            json!(if success { "Success" } else { "Failure" }),
        );
        m.insert("status_detail".into(), json!(detail));
        if let Some(s) = b.get("status").and_then(Value::as_i64) {
            m.insert("status_code".into(), json!(s.to_string()));
        }
        if let Some(c) = code {
            m.insert("exit_code".into(), json!(c));
        }
        if let Some(d) = b.get("duration_ms").and_then(Value::as_u64) {
            m.insert("duration".into(), json!(d));
            m.insert("start_time".into(), json!(self.ms - d as i64));
            m.insert("end_time".into(), json!(self.ms));
        }
        let mut message = format!("airlock run ended: {detail}");
        if !refused.is_empty() {
            message.push_str(&format!("; {} egress attempt(s) refused", refused.len()));
        }
        m.insert("message".into(), json!(message));
        m.insert("actor".into(), self.actor(None));
        m.insert("device".into(), self.device());
        m.insert("process".into(), process);
        let observables: Vec<Value> = refused
            .iter()
            .filter_map(|a| str_field(a, "host"))
            .filter(|h| !h.is_empty())
            .take(MAX_LIST)
            .map(|h| {
                json!({
                    "name": "unmapped.airlock.outcome.egress.host",
                    "type_id": 1,
                    "type": "Hostname",
                    "value": h,
                })
            })
            .collect();
        if !observables.is_empty() {
            m.insert("observables".into(), Value::Array(observables));
        }
        Value::Object(m)
    }

    fn finding_uid(&self) -> String {
        format!("airlock-{}", self.e.index)
    }

    fn alert(&self) -> Value {
        let b = &self.e.body;
        let rule = str_field(b, "rule").unwrap_or("airlock alert");
        let summary = str_field(b, "summary").unwrap_or(rule);
        let severity = match str_field(b, "severity") {
            Some("info") => 1,
            Some("warning") => 3,
            Some("high") => 4,
            Some("critical") => 5,
            _ => 0,
        };
        let mut data = Map::new();
        for k in ["id", "subject_index", "subject_leaf", "details"] {
            if let Some(v) = b.get(k) {
                data.insert(k.into(), v.clone());
            }
        }
        let mut extra = Map::new();
        extra.insert("alert".into(), Value::Object(data.clone()));
        let mut m = self.base(&DETECTION_FINDING, 1, "Create", severity, extra);
        m.insert("status_id".into(), json!(1));
        m.insert("status".into(), json!("New"));
        m.insert("is_alert".into(), json!(true));
        m.insert("message".into(), json!(summary));
        // The alert's own id (the one its notification carries), else the record's.
        let uid = str_field(b, "id").map_or_else(|| self.finding_uid(), str::to_string);
        m.insert(
            "finding_info".into(),
            json!({
                "uid": uid,
                "title": summary,
                "desc": summary,
                "types": [rule],
                "created_time": self.ms,
                "analytic": { "uid": rule, "name": rule, "type_id": 1, "type": "Rule" },
            }),
        );
        m.insert("evidences".into(), json!([{ "data": data }]));
        Value::Object(m)
    }

    fn verdict(&self) -> Option<Value> {
        let b = &self.e.body;
        let decision = str_field(b, "decision")?;
        let (severity, action, disposition_id, disposition, verb) = match decision {
            "deny" => (3, "Denied", 2, "Blocked", "denied"),
            "ask" => (2, "Denied", 99, "Held for approval", "held for approval"),
            _ => return None,
        };
        let reasons: Vec<&Value> = b
            .get("reasons")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        // The reason that decided: the first whose verdict is the decision's.
        let lead = reasons
            .iter()
            .find(|r| str_field(r, "verdict") == Some(decision))
            .or(reasons.first());
        let rule = lead.and_then(|r| str_field(r, "rule")).unwrap_or("default");
        let messages: Vec<&str> = reasons
            .iter()
            .filter(|r| matches!(str_field(r, "verdict"), Some("deny" | "ask") | None))
            .filter_map(|r| str_field(r, "message"))
            .take(MAX_LIST)
            .collect();
        let title = format!("airlock {verb} a proposal: {rule}");
        let desc = if messages.is_empty() {
            title.clone()
        } else {
            messages.join("; ")
        };
        let types: Vec<Value> = b
            .get("categories")
            .and_then(Value::as_array)
            .map(|c| c.iter().take(MAX_LIST).cloned().collect())
            .unwrap_or_default();

        let mut data = Map::new();
        data.insert("decision".into(), json!(decision));
        for k in ["digest", "policy_version", "proposal_index"] {
            if let Some(v) = b.get(k) {
                data.insert(k.into(), v.clone());
            }
        }
        data.insert("reasons".into(), first_n(b.get("reasons"), MAX_LIST));
        data.insert("operations".into(), first_n(b.get("operations"), MAX_LIST));
        let mut extra = Map::new();
        extra.insert("verdict".into(), Value::Object(data.clone()));

        let mut m = self.base(&DETECTION_FINDING, 1, "Create", severity, extra);
        m["metadata"]["profiles"] = json!(["security_control"]);
        m.insert("action_id".into(), json!(2));
        m.insert("action".into(), json!(action));
        m.insert("disposition_id".into(), json!(disposition_id));
        m.insert("disposition".into(), json!(disposition));
        m.insert("status_id".into(), json!(1));
        m.insert("status".into(), json!("New"));
        m.insert("is_alert".into(), json!(false));
        m.insert("message".into(), json!(title));
        let mut info = json!({
            "uid": self.finding_uid(),
            "title": title,
            "desc": desc,
            "created_time": self.ms,
            "analytic": { "uid": rule, "name": rule, "type_id": 1, "type": "Rule" },
        });
        if !types.is_empty() {
            info["types"] = Value::Array(types);
        }
        m.insert("finding_info".into(), info);
        m.insert("evidences".into(), json!([{ "data": data }]));
        Some(Value::Object(m))
    }

    fn base_event(&self) -> Value {
        let e = self.e;
        let b = &e.body;
        let (severity, message) = match e.kind {
            Kind::Proposal => (
                1,
                format!(
                    "proposal ({})",
                    str_field(b, "lang").unwrap_or("unknown language")
                ),
            ),
            Kind::Approval => (
                1,
                format!(
                    "approval: {}",
                    str_field(b, "decision").unwrap_or("unknown decision")
                ),
            ),
            _ => {
                let ev = str_field(b, "event").unwrap_or("unknown");
                let sev = match ev {
                    "recovered_truncation" | "pruned" => 4,
                    "freeze_on" | "freeze_off" | "policy_changed" => 3,
                    _ => 1,
                };
                (sev, format!("control: {ev}"))
            }
        };
        let mut body = b.clone();
        if e.kind == Kind::Proposal
            && let Some(Value::String(code)) = body.get("code")
            && code.len() > MAX_CODE_BYTES
        {
            let kept = cut(code, MAX_CODE_BYTES).to_string();
            body["code"] = json!(kept);
            body["code_truncated"] = json!(true);
        }
        let mut extra = Map::new();
        extra.insert("body".into(), body);
        let mut m = self.base(&BASE_EVENT, 99, e.kind.as_str(), severity, extra);
        m.insert("message".into(), json!(message));
        Value::Object(m)
    }
}

fn basename(p: &str) -> &str {
    p.rsplit('/').next().unwrap_or(p)
}
