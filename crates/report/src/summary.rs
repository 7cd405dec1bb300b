//! A summary of the ledger for the people who answer for the risk: what agents
//! proposed, what the gate allowed, held for a person or refused, and why; how people
//! decided (and whether they show approval fatigue); what ran and how it ended; the
//! alerts raised; and the control events (keys, recoveries, freezes, policy changes).
//!
//! The caller streams entries in with [`Summary::add`]; memory is bounded by the
//! number of distinct categories, people and rules (each list is capped), not by the
//! number of entries. [`Summary::data`] gives the figures; [`Summary::render_markdown`]
//! and [`Summary::render_html`] give a document. Every string taken from a record is
//! treated as hostile: clipped, with control and bidirectional-override characters made
//! visible, and escaped for the output format.
//!
//! Conventions:
//! * A record whose `time` is before [`ReportOptions::since`] is skipped (counted as
//!   such); a record whose time cannot be read is kept and counted as undated.
//! * Time to decide is `decided_at - requested_at` of `approve` and `deny` approvals
//!   (`expired` ones are counted but not timed); both may be RFC 3339 strings or unix
//!   seconds. A negative difference is counted as a clock anomaly and left out.
//! * Quantiles are exact (linear interpolation between closest ranks; the median of
//!   an even count is the mean of the middle two) up to [`EXACT_SAMPLES`] values, and
//!   estimated within about 3% beyond.
//! * Lists of open-ended keys (rules, messages, hosts, alert rules) keep the
//!   [`TOP_N`] most frequent by the Space-Saving algorithm; a count that may be high
//!   carries its bound (`max_overcount`). Lists of keys from small sets (categories,
//!   languages, agents, approvers, control events) are exact for the first
//!   [`MAX_KEYS`] keys, and later keys are added up in one row (`name: None`).

mod html;
mod markdown;

use std::collections::{BTreeMap, HashSet, VecDeque};

use ledger::record::{Entry, Kind, parse_rfc3339};
use serde::Serialize;
use serde_json::Value;

use crate::stats::{Capped, Quantiles, TopK};
use crate::text::{MAX_TEXT_CHARS, clip};

/// Open-ended lists (rules, messages, refused hosts, alert rules) keep this many keys.
pub const TOP_N: usize = 50;
/// Lists of keys from small sets keep this many distinct keys before adding up the rest.
pub const MAX_KEYS: usize = 500;
/// Quantiles are exact up to this many values (per approver: a quarter of it).
pub const EXACT_SAMPLES: usize = 4096;
/// The daily timeline keeps this many days (the oldest are dropped first).
pub const MAX_DAYS: usize = 400;
/// Control events listed one by one (the most recent); all are counted by kind.
pub const MAX_CONTROL_LISTED: usize = 200;
/// Approval fatigue: an approver who approved more than this share...
pub const FATIGUE_RATE: f64 = 0.90;
/// ...of at least this many approve/deny decisions is flagged.
pub const FATIGUE_MIN_DECISIONS: u64 = 20;
/// Approval fatigue: a median time to decide under this many seconds...
pub const FATIGUE_FAST_SECS: f64 = 2.0;
/// ...over at least this many timed decisions is flagged.
pub const FATIGUE_MIN_TIMED: u64 = 5;

/// What to report on.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Unix seconds: entries with a time before this are skipped.
    pub since: Option<f64>,
    /// Unix seconds: when the report is made (shown in its header).
    pub now: f64,
    /// The report's title (escaped like record text).
    pub title: String,
}

/// allow / ask / deny counts (and decisions that were none of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Decisions {
    pub allow: u64,
    pub ask: u64,
    pub deny: u64,
    pub other: u64,
}

impl Decisions {
    pub fn total(&self) -> u64 {
        self.allow + self.ask + self.deny + self.other
    }

    fn bump(&mut self, d: Decision) {
        match d {
            Decision::Allow => self.allow += 1,
            Decision::Ask => self.ask += 1,
            Decision::Deny => self.deny += 1,
            Decision::Other => self.other += 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Allow,
    Ask,
    Deny,
    Other,
}

impl Decision {
    fn parse(v: &Value) -> Decision {
        match v.as_str() {
            Some("allow") => Decision::Allow,
            Some("ask") => Decision::Ask,
            Some("deny") => Decision::Deny,
            _ => Decision::Other,
        }
    }
}

/// A count under a name; `name` is `None` for the row that adds up the keys past
/// [`MAX_KEYS`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    pub name: Option<String>,
    pub count: u64,
}

/// A record that shows an example of a row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Example {
    /// Its request id, if it has one.
    pub request: Option<String>,
    /// Its ledger index.
    pub index: u64,
}

/// The first and last entries the report covers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LedgerRange {
    pub first_index: u64,
    pub last_index: u64,
    pub first_time: String,
    pub last_time: String,
}

/// How many entries were seen, and what about them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryCounts {
    /// Entries given to [`Summary::add`].
    pub seen: u64,
    /// Entries the report covers.
    pub counted: u64,
    /// Entries before [`ReportOptions::since`].
    pub skipped_before_since: u64,
    /// Entries whose time could not be read (covered all the same).
    pub undated: u64,
    /// Times an entry's index was not the previous one's plus one (a gap or a
    /// repetition in what the caller streamed in).
    pub index_breaks: u64,
    /// Counted entries by kind, in the ledger's kind order.
    pub by_kind: Vec<Count>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposalStats {
    pub total: u64,
    pub by_lang: Vec<Count>,
    pub by_agent: Vec<Count>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryRow {
    pub category: Option<String>,
    pub decisions: Decisions,
}

/// A rule that held or refused proposals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRow {
    pub rule: String,
    /// Reasons of this rule with verdict `deny` (since the rule entered the list).
    pub deny: u64,
    /// Reasons of this rule with verdict `ask` (since the rule entered the list).
    pub ask: u64,
    /// All its reasons; at most `max_overcount` too high.
    pub count: u64,
    pub max_overcount: u64,
    pub example: Example,
}

/// A refusal message (the sentence the gate gave).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageRow {
    pub message: String,
    /// The rule of the first reason seen with this message.
    pub rule: String,
    pub count: u64,
    pub max_overcount: u64,
    pub example: Example,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayRow {
    /// `YYYY-MM-DD` (UTC).
    pub day: String,
    /// Days since 1970-01-01.
    pub day_number: i64,
    pub decisions: Decisions,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalStats {
    pub total: u64,
    pub approve: u64,
    pub deny: u64,
    pub expired: u64,
    pub other: u64,
    /// approve / (approve + deny).
    pub approval_rate: Option<f64>,
    /// approve and deny decisions with both times readable and in order.
    pub timed: u64,
    pub median_secs: Option<f64>,
    pub p90_secs: Option<f64>,
    /// Whether the quantiles are exact (see the module documentation).
    pub exact: bool,
    /// Decisions recorded before they were requested.
    pub clock_anomalies: u64,
}

/// An approval-fatigue signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Approved more than [`FATIGUE_RATE`] of at least [`FATIGUE_MIN_DECISIONS`].
    HighApprovalRate,
    /// Median time to decide under [`FATIGUE_FAST_SECS`] over at least
    /// [`FATIGUE_MIN_TIMED`] decisions.
    FastDecisions,
    /// The approver's name is also the name of an agent that made proposals.
    ApproverIsAgent,
}

impl Flag {
    pub fn describe(self) -> String {
        match self {
            Flag::HighApprovalRate => format!(
                "approves more than {:.0}% of requests",
                FATIGUE_RATE * 100.0
            ),
            Flag::FastDecisions => format!("median decision under {FATIGUE_FAST_SECS} s"),
            Flag::ApproverIsAgent => "same name as a proposing agent".to_string(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApproverRow {
    /// `None`: the approvers past [`MAX_KEYS`], added up.
    pub approver: Option<String>,
    pub approve: u64,
    pub deny: u64,
    pub expired: u64,
    pub other: u64,
    pub approval_rate: Option<f64>,
    pub timed: u64,
    pub median_secs: Option<f64>,
    pub p90_secs: Option<f64>,
    pub flags: Vec<Flag>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostRow {
    pub host: String,
    pub count: u64,
    pub max_overcount: u64,
    pub example: Example,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExecStats {
    pub started: u64,
    pub finished: u64,
    /// By exit kind: `exit 0`, `exit non-zero`, `signal`, `timeout`,
    /// `protection_lost`, `not_started`, `unknown` (kinds with no outcome left out).
    pub outcomes: Vec<Count>,
    pub timeouts: u64,
    /// Outcomes that carry an `error`.
    pub errors: u64,
    pub median_duration_ms: Option<f64>,
    pub p90_duration_ms: Option<f64>,
    pub egress_attempts: u64,
    pub egress_allowed: u64,
    pub egress_refused: u64,
    pub refused_hosts: Vec<HostRow>,
}

/// Alerts by severity: `info`, `warning`, `high`, `critical`, and anything else.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Severities {
    pub info: u64,
    pub warning: u64,
    pub high: u64,
    pub critical: u64,
    pub other: u64,
}

impl Severities {
    pub fn total(&self) -> u64 {
        self.info + self.warning + self.high + self.critical + self.other
    }

    fn bump(&mut self, s: &str) {
        match s {
            "info" => self.info += 1,
            "warning" => self.warning += 1,
            "high" => self.high += 1,
            "critical" => self.critical += 1,
            _ => self.other += 1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRow {
    pub rule: String,
    /// By severity, since the rule entered the list.
    pub severities: Severities,
    pub count: u64,
    pub max_overcount: u64,
    pub example: Example,
    /// The summary of the latest alert of this rule.
    pub latest_summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertStats {
    pub total: u64,
    pub by_severity: Severities,
    pub by_rule: Vec<AlertRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlEvent {
    pub index: u64,
    pub time: String,
    pub event: String,
    /// The record's `details`, as compact JSON, clipped.
    pub details: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlStats {
    pub total: u64,
    pub by_event: Vec<Count>,
    /// The most recent [`MAX_CONTROL_LISTED`], oldest first.
    pub events: Vec<ControlEvent>,
    /// Older events not listed.
    pub not_listed: u64,
}

/// Everything the report shows, as figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportData {
    pub title: String,
    pub now: f64,
    pub since: Option<f64>,
    pub range: Option<LedgerRange>,
    pub entries: EntryCounts,
    pub proposals: ProposalStats,
    pub decisions: Decisions,
    pub by_category: Vec<CategoryRow>,
    pub blocked_rules: Vec<RuleRow>,
    pub blocked_messages: Vec<MessageRow>,
    pub timeline: Vec<DayRow>,
    pub timeline_days_dropped: u64,
    pub approvals: ApprovalStats,
    pub approvers: Vec<ApproverRow>,
    pub executions: ExecStats,
    pub alerts: AlertStats,
    pub control: ControlStats,
}

#[derive(Debug, Default)]
struct RuleStat {
    deny: u64,
    ask: u64,
    example: Option<Example>,
}

#[derive(Debug, Default)]
struct MessageStat {
    rule: String,
    example: Option<Example>,
}

#[derive(Debug)]
struct ApproverStat {
    approve: u64,
    deny: u64,
    expired: u64,
    other: u64,
    times: Quantiles,
}

impl Default for ApproverStat {
    fn default() -> ApproverStat {
        ApproverStat {
            approve: 0,
            deny: 0,
            expired: 0,
            other: 0,
            times: Quantiles::new(EXACT_SAMPLES / 4),
        }
    }
}

#[derive(Debug, Default)]
struct AlertStat {
    severities: Severities,
    example: Option<Example>,
    latest_summary: String,
}

#[derive(Debug, Clone)]
struct Point {
    index: u64,
    time: String,
}

const OUTCOME_KINDS: [&str; 7] = [
    "exit 0",
    "exit non-zero",
    "signal",
    "timeout",
    "protection_lost",
    "not_started",
    "unknown",
];

const KINDS: [Kind; 7] = [
    Kind::Proposal,
    Kind::Verdict,
    Kind::Approval,
    Kind::ExecStart,
    Kind::ExecOutcome,
    Kind::Alert,
    Kind::Control,
];

/// The streaming accumulator behind a report.
#[derive(Debug)]
pub struct Summary {
    opts: ReportOptions,
    seen: u64,
    counted: u64,
    skipped: u64,
    undated: u64,
    index_breaks: u64,
    last_seen_index: Option<u64>,
    first: Option<Point>,
    last: Option<Point>,
    kinds: [u64; 7],

    proposals: u64,
    langs: Capped<u64>,
    agents: Capped<u64>,

    decisions: Decisions,
    by_category: Capped<Decisions>,
    rules: TopK<RuleStat>,
    messages: TopK<MessageStat>,
    days: BTreeMap<i64, Decisions>,
    days_dropped: u64,

    approvals: [u64; 4],
    decide_times: Quantiles,
    clock_anomalies: u64,
    approvers: Capped<ApproverStat>,

    exec_started: u64,
    outcomes: [u64; 7],
    exec_errors: u64,
    exec_durations: Quantiles,
    egress_attempts: u64,
    egress_allowed: u64,
    egress_refused: u64,
    refused_hosts: TopK<Option<Example>>,

    alert_severities: Severities,
    alert_rules: TopK<AlertStat>,

    control_counts: Capped<u64>,
    control_events: VecDeque<ControlEvent>,
    control_not_listed: u64,
}

fn str_field<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key).and_then(Value::as_str)
}

/// A name from a string, or from an object's `name`, `id`, `uid` or `email`.
fn name_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) => ["name", "id", "uid", "email"]
            .iter()
            .find_map(|k| m.get(*k).and_then(Value::as_str))
            .map(str::to_string),
        _ => None,
    }
}

/// A time as RFC 3339 text or unix seconds.
fn time_value(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::String(s) => parse_rfc3339(s),
        Value::Number(n) => n.as_f64().filter(|x| x.is_finite()),
        _ => None,
    }
}

/// Compact JSON of a value, clipped.
fn compact(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => clip(s, MAX_TEXT_CHARS),
        Some(v) => clip(&v.to_string(), MAX_TEXT_CHARS),
    }
}

/// The op kinds of a verdict: its `categories`, else the `op` of its `operations`;
/// each kind once.
fn categories(body: &Value) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let push = |s: &str| {
        if out.len() < 64 && !out.iter().any(|c| c == s) {
            out.push(s.to_string());
        }
    };
    match body.get("categories").and_then(Value::as_array) {
        Some(cats) if !cats.is_empty() => cats.iter().filter_map(Value::as_str).for_each(push),
        _ => body
            .get("operations")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|op| op.get("op").and_then(Value::as_str))
            .for_each(push),
    }
    out
}

fn outcome_kind(exit: Option<&Value>) -> usize {
    match exit {
        Some(Value::Object(m)) => {
            if let Some(code) = m.get("code") {
                if code.as_i64() == Some(0) { 0 } else { 1 }
            } else if m.contains_key("signal") {
                2
            } else {
                6
            }
        }
        Some(Value::String(s)) => match s.as_str() {
            "timeout" => 3,
            "protection_lost" => 4,
            "not_started" => 5,
            _ => 6,
        },
        _ => 6,
    }
}

fn example(e: &Entry) -> Example {
    Example {
        request: e.request.as_deref().map(|r| clip(r, MAX_TEXT_CHARS)),
        index: e.index,
    }
}

fn counts<'a>(it: impl Iterator<Item = (&'a str, &'a u64)>, overflow: Option<&u64>) -> Vec<Count> {
    let mut v: Vec<Count> = it
        .map(|(k, c)| Count {
            name: Some(k.to_string()),
            count: *c,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    if let Some(c) = overflow {
        v.push(Count {
            name: None,
            count: *c,
        });
    }
    v
}

fn rate(yes: u64, no: u64) -> Option<f64> {
    (yes + no > 0).then(|| yes as f64 / (yes + no) as f64)
}

impl Summary {
    pub fn new(opts: ReportOptions) -> Summary {
        Summary {
            opts,
            seen: 0,
            counted: 0,
            skipped: 0,
            undated: 0,
            index_breaks: 0,
            last_seen_index: None,
            first: None,
            last: None,
            kinds: [0; 7],
            proposals: 0,
            langs: Capped::new(MAX_KEYS),
            agents: Capped::new(MAX_KEYS),
            decisions: Decisions::default(),
            by_category: Capped::new(MAX_KEYS),
            rules: TopK::new(TOP_N),
            messages: TopK::new(TOP_N),
            days: BTreeMap::new(),
            days_dropped: 0,
            approvals: [0; 4],
            decide_times: Quantiles::new(EXACT_SAMPLES),
            clock_anomalies: 0,
            approvers: Capped::new(MAX_KEYS),
            exec_started: 0,
            outcomes: [0; 7],
            exec_errors: 0,
            exec_durations: Quantiles::new(EXACT_SAMPLES),
            egress_attempts: 0,
            egress_allowed: 0,
            egress_refused: 0,
            refused_hosts: TopK::new(TOP_N),
            alert_severities: Severities::default(),
            alert_rules: TopK::new(TOP_N),
            control_counts: Capped::new(MAX_KEYS),
            control_events: VecDeque::new(),
            control_not_listed: 0,
        }
    }

    pub fn options(&self) -> &ReportOptions {
        &self.opts
    }

    /// Takes one ledger entry into account (entries are expected in index order).
    pub fn add(&mut self, e: &Entry) {
        self.seen += 1;
        if let Some(prev) = self.last_seen_index
            && prev.checked_add(1) != Some(e.index)
        {
            self.index_breaks += 1;
        }
        self.last_seen_index = Some(e.index);

        let secs = parse_rfc3339(&e.time);
        if let (Some(since), Some(t)) = (self.opts.since, secs)
            && t < since
        {
            self.skipped += 1;
            return;
        }
        if secs.is_none() {
            self.undated += 1;
        }
        self.counted += 1;
        let point = Point {
            index: e.index,
            time: clip(&e.time, 40),
        };
        if self.first.is_none() {
            self.first = Some(point.clone());
        }
        self.last = Some(point);
        if let Some(k) = KINDS.iter().position(|k| *k == e.kind) {
            self.kinds[k] += 1;
        }

        let body = &e.body;
        match e.kind {
            Kind::Proposal => self.add_proposal(body),
            Kind::Verdict => self.add_verdict(e, secs),
            Kind::Approval => self.add_approval(body),
            Kind::ExecStart => self.exec_started += 1,
            Kind::ExecOutcome => self.add_outcome(e),
            Kind::Alert => self.add_alert(e),
            Kind::Control => self.add_control(e),
        }
    }

    fn add_proposal(&mut self, body: &Value) {
        self.proposals += 1;
        *self.langs.get(str_field(body, "lang").unwrap_or("")) += 1;
        *self
            .agents
            .get(name_of(body.get("agent")).as_deref().unwrap_or("")) += 1;
    }

    fn add_verdict(&mut self, e: &Entry, secs: Option<f64>) {
        let body = &e.body;
        let d = Decision::parse(body.get("decision").unwrap_or(&Value::Null));
        self.decisions.bump(d);
        for c in categories(body) {
            self.by_category.get(&c).bump(d);
        }
        if let Some(t) = secs {
            self.days.entry(crate::time::day_of(t)).or_default().bump(d);
            while self.days.len() > MAX_DAYS {
                self.days.pop_first();
                self.days_dropped += 1;
            }
        }
        if !matches!(d, Decision::Ask | Decision::Deny) {
            return;
        }
        let reasons = body.get("reasons").and_then(Value::as_array);
        let mut counted = 0;
        for r in reasons.into_iter().flatten() {
            let rv = match r.get("verdict") {
                Some(v) => Decision::parse(v),
                None => d,
            };
            if !matches!(rv, Decision::Ask | Decision::Deny) {
                continue;
            }
            counted += 1;
            let rule = str_field(r, "rule").unwrap_or("");
            let st = self.rules.hit(rule);
            if rv == Decision::Deny {
                st.deny += 1;
            } else {
                st.ask += 1;
            }
            st.example.get_or_insert_with(|| example(e));
            let m = self.messages.hit(str_field(r, "message").unwrap_or(""));
            if m.example.is_none() {
                m.rule = clip(rule, MAX_TEXT_CHARS);
                m.example = Some(example(e));
            }
        }
        if counted == 0 {
            // Held or refused with no reason recorded: still shown, under no rule.
            let st = self.rules.hit("");
            if d == Decision::Deny {
                st.deny += 1;
            } else {
                st.ask += 1;
            }
            st.example.get_or_insert_with(|| example(e));
        }
    }

    fn add_approval(&mut self, body: &Value) {
        let slot = match str_field(body, "decision") {
            Some("approve") => 0,
            Some("deny") => 1,
            Some("expired") => 2,
            _ => 3,
        };
        self.approvals[slot] += 1;
        let mut took_ms = None;
        if slot < 2
            && let (Some(req), Some(dec)) = (
                time_value(body.get("requested_at")),
                time_value(body.get("decided_at")),
            )
        {
            if dec < req {
                self.clock_anomalies += 1;
            } else {
                let ms = (dec - req) * 1000.0;
                self.decide_times.add(ms);
                took_ms = Some(ms);
            }
        }
        if let Some(who) = name_of(body.get("approver")) {
            let st = self.approvers.get(&who);
            match slot {
                0 => st.approve += 1,
                1 => st.deny += 1,
                2 => st.expired += 1,
                _ => st.other += 1,
            }
            if let Some(ms) = took_ms {
                st.times.add(ms);
            }
        }
    }

    fn add_outcome(&mut self, e: &Entry) {
        let body = &e.body;
        self.outcomes[outcome_kind(body.get("exit"))] += 1;
        if body.get("error").is_some_and(|v| match v {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            _ => true,
        }) {
            self.exec_errors += 1;
        }
        if let Some(ms) = body.get("duration_ms").and_then(Value::as_f64) {
            self.exec_durations.add(ms);
        }
        for a in body
            .get("egress")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.egress_attempts += 1;
            if a.get("allowed").and_then(Value::as_bool) == Some(true) {
                self.egress_allowed += 1;
            } else {
                self.egress_refused += 1;
                let ex = self.refused_hosts.hit(str_field(a, "host").unwrap_or(""));
                ex.get_or_insert_with(|| example(e));
            }
        }
    }

    fn add_alert(&mut self, e: &Entry) {
        let body = &e.body;
        let sev = str_field(body, "severity").unwrap_or("");
        self.alert_severities.bump(sev);
        let st = self.alert_rules.hit(str_field(body, "rule").unwrap_or(""));
        st.severities.bump(sev);
        st.example.get_or_insert_with(|| example(e));
        st.latest_summary = clip(str_field(body, "summary").unwrap_or(""), MAX_TEXT_CHARS);
    }

    fn add_control(&mut self, e: &Entry) {
        let event = str_field(&e.body, "event").unwrap_or("");
        *self.control_counts.get(event) += 1;
        if self.control_events.len() == MAX_CONTROL_LISTED {
            self.control_events.pop_front();
            self.control_not_listed += 1;
        }
        self.control_events.push_back(ControlEvent {
            index: e.index,
            time: clip(&e.time, 40),
            event: clip(event, MAX_TEXT_CHARS),
            details: compact(e.body.get("details")),
        });
    }

    /// The figures of the report.
    pub fn data(&self) -> ReportData {
        let range = match (&self.first, &self.last) {
            (Some(f), Some(l)) => Some(LedgerRange {
                first_index: f.index,
                last_index: l.index,
                first_time: f.time.clone(),
                last_time: l.time.clone(),
            }),
            _ => None,
        };
        let by_kind = KINDS
            .iter()
            .zip(self.kinds)
            .map(|(k, c)| Count {
                name: Some(k.as_str().to_string()),
                count: c,
            })
            .collect();

        let mut by_category: Vec<CategoryRow> = self
            .by_category
            .iter()
            .map(|(k, d)| CategoryRow {
                category: Some(k.to_string()),
                decisions: *d,
            })
            .collect();
        by_category.sort_by(|a, b| {
            b.decisions
                .total()
                .cmp(&a.decisions.total())
                .then_with(|| a.category.cmp(&b.category))
        });
        if let Some(d) = self.by_category.overflow() {
            by_category.push(CategoryRow {
                category: None,
                decisions: *d,
            });
        }

        let blocked_rules = self
            .rules
            .sorted()
            .into_iter()
            .map(|(k, s)| RuleRow {
                rule: k.to_string(),
                deny: s.value.deny,
                ask: s.value.ask,
                count: s.count,
                max_overcount: s.error,
                example: s.value.example.clone().unwrap_or_default(),
            })
            .collect();
        let blocked_messages = self
            .messages
            .sorted()
            .into_iter()
            .map(|(k, s)| MessageRow {
                message: k.to_string(),
                rule: s.value.rule.clone(),
                count: s.count,
                max_overcount: s.error,
                example: s.value.example.clone().unwrap_or_default(),
            })
            .collect();
        let timeline = self
            .days
            .iter()
            .map(|(d, c)| DayRow {
                day: crate::time::date(*d),
                day_number: *d,
                decisions: *c,
            })
            .collect();

        let [approve, deny, expired, other] = self.approvals;
        let approvals = ApprovalStats {
            total: approve + deny + expired + other,
            approve,
            deny,
            expired,
            other,
            approval_rate: rate(approve, deny),
            timed: self.decide_times.count(),
            median_secs: self.decide_times.quantile(0.5).map(|ms| ms / 1000.0),
            p90_secs: self.decide_times.quantile(0.9).map(|ms| ms / 1000.0),
            exact: self.decide_times.is_exact(),
            clock_anomalies: self.clock_anomalies,
        };
        let agents: HashSet<&str> = self.agents.iter().map(|(k, _)| k).collect();
        let approver_row = |name: Option<&str>, s: &ApproverStat| {
            let approval_rate = rate(s.approve, s.deny);
            let median_secs = s.times.quantile(0.5).map(|ms| ms / 1000.0);
            let mut flags = Vec::new();
            if s.approve + s.deny >= FATIGUE_MIN_DECISIONS
                && approval_rate.is_some_and(|r| r > FATIGUE_RATE)
            {
                flags.push(Flag::HighApprovalRate);
            }
            if s.times.count() >= FATIGUE_MIN_TIMED
                && median_secs.is_some_and(|m| m < FATIGUE_FAST_SECS)
            {
                flags.push(Flag::FastDecisions);
            }
            if name.is_some_and(|n| !n.is_empty() && agents.contains(n)) {
                flags.push(Flag::ApproverIsAgent);
            }
            ApproverRow {
                approver: name.map(str::to_string),
                approve: s.approve,
                deny: s.deny,
                expired: s.expired,
                other: s.other,
                approval_rate,
                timed: s.times.count(),
                median_secs,
                p90_secs: s.times.quantile(0.9).map(|ms| ms / 1000.0),
                flags,
            }
        };
        let mut approvers: Vec<ApproverRow> = self
            .approvers
            .iter()
            .map(|(k, s)| approver_row(Some(k), s))
            .collect();
        approvers.sort_by(|a, b| {
            let n = |r: &ApproverRow| r.approve + r.deny + r.expired + r.other;
            n(b).cmp(&n(a)).then_with(|| a.approver.cmp(&b.approver))
        });
        if let Some(s) = self.approvers.overflow() {
            approvers.push(approver_row(None, s));
        }

        let executions = ExecStats {
            started: self.exec_started,
            finished: self.outcomes.iter().sum(),
            outcomes: OUTCOME_KINDS
                .iter()
                .zip(self.outcomes)
                .filter(|(_, c)| *c > 0)
                .map(|(k, c)| Count {
                    name: Some(k.to_string()),
                    count: c,
                })
                .collect(),
            timeouts: self.outcomes[3],
            errors: self.exec_errors,
            median_duration_ms: self.exec_durations.quantile(0.5),
            p90_duration_ms: self.exec_durations.quantile(0.9),
            egress_attempts: self.egress_attempts,
            egress_allowed: self.egress_allowed,
            egress_refused: self.egress_refused,
            refused_hosts: self
                .refused_hosts
                .sorted()
                .into_iter()
                .map(|(k, s)| HostRow {
                    host: k.to_string(),
                    count: s.count,
                    max_overcount: s.error,
                    example: s.value.clone().unwrap_or_default(),
                })
                .collect(),
        };

        let alerts = AlertStats {
            total: self.alert_severities.total(),
            by_severity: self.alert_severities,
            by_rule: self
                .alert_rules
                .sorted()
                .into_iter()
                .map(|(k, s)| AlertRow {
                    rule: k.to_string(),
                    severities: s.value.severities,
                    count: s.count,
                    max_overcount: s.error,
                    example: s.value.example.clone().unwrap_or_default(),
                    latest_summary: s.value.latest_summary.clone(),
                })
                .collect(),
        };

        let control = ControlStats {
            total: self.kinds[6],
            by_event: counts(self.control_counts.iter(), self.control_counts.overflow()),
            events: self.control_events.iter().cloned().collect(),
            not_listed: self.control_not_listed,
        };

        ReportData {
            title: self.opts.title.clone(),
            now: self.opts.now,
            since: self.opts.since,
            range,
            entries: EntryCounts {
                seen: self.seen,
                counted: self.counted,
                skipped_before_since: self.skipped,
                undated: self.undated,
                index_breaks: self.index_breaks,
                by_kind,
            },
            proposals: ProposalStats {
                total: self.proposals,
                by_lang: counts(self.langs.iter(), self.langs.overflow()),
                by_agent: counts(self.agents.iter(), self.agents.overflow()),
            },
            decisions: self.decisions,
            by_category,
            blocked_rules,
            blocked_messages,
            timeline,
            timeline_days_dropped: self.days_dropped,
            approvals,
            approvers,
            executions,
            alerts,
            control,
        }
    }

    /// The report as Markdown (GitHub-flavoured tables).
    pub fn render_markdown(&self) -> String {
        markdown::render(&self.data())
    }

    /// The report as one self-contained HTML document: inline CSS and SVG, no
    /// scripts, no external resources (and a Content-Security-Policy that forbids them).
    pub fn render_html(&self) -> String {
        html::render(&self.data())
    }
}
