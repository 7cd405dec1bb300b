//! Alerts for airlock's ledger: rules that notice what a person should look at,
//! and sinks that make sure they hear about it.
//!
//! # Why this crate exists
//!
//! The gate answers allow, ask or deny, and the ledger records every answer, but a
//! record nobody reads protects nobody. Some records deserve a person's attention
//! *now*: an agent asking for root, a destructive statement, code nobody can read,
//! anything aimed at production, traffic to a host the task never granted, and an
//! agent that keeps rephrasing what it was refused. This crate turns such records
//! into [`Alert`]s and delivers them.
//!
//! # Shape
//!
//! * [`rules`]: pure functions from a ledger record (kind + JSON body) to
//!   [`Draft`]s. No I/O, so they are cheap to test and cannot fail the gate.
//! * [`BurstTracker`]: the one rule that needs memory. airlock runs as many
//!   short-lived processes, so the memory is a small locked file, not a field.
//! * [`Dispatcher`]: writes every alert to the outbox first (the durable queue),
//!   then to stderr, syslog and a signed webhook, all within a fixed time bound so
//!   that alerting can never hold up execution. What the webhook could not take
//!   stays in the outbox and is delivered by a later call ([`Dispatcher::flush_outbox`]).
//!
//! Every alert names the record that raised it (`subject_index`, `subject_leaf`,
//! and the latest signed checkpoint when known), so an analyst can prove that the
//! alert matches a logged fact instead of trusting the alert itself.
//!
//! Rules and sinks are configured in airlock's own configuration ([`AlertConfig`]),
//! never in the workspace: the agent must not be able to switch its own alarms off.

pub mod burst;
pub mod config;
pub mod dispatch;
mod outbox;
pub mod rules;
pub mod syslog;
pub mod time;
pub mod webhook;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use burst::BurstTracker;
pub use config::{
    AlertConfig, BurstSetting, Facility, OutboxConfig, RuleConfig, RuleSetting, StderrConfig,
    SyslogConfig, SyslogTarget, WebhookConfig,
};
pub use dispatch::{Dispatcher, Report};
pub use rules::{Draft, evaluate};

/// How urgent an alert is. Ordered: `Info < Warning < High < Critical`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// The RFC 5424 severity code: critical → 2 (crit), high → 3 (err),
    /// warning → 4 (warning), info → 6 (informational).
    pub fn syslog_code(self) -> u8 {
        match self {
            Severity::Critical => 2,
            Severity::High => 3,
            Severity::Warning => 4,
            Severity::Info => 6,
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One alert, as written to the outbox and sent to every sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// `"<subject_index>-<rule>"`: unique within one ledger, because each rule
    /// raises at most one alert per record. Receivers deduplicate on it (delivery
    /// is at-least-once).
    pub id: String,
    pub rule: String,
    pub severity: Severity,
    /// One line for people. Text the agent controls is clipped and has its control
    /// characters escaped.
    pub summary: String,
    /// When the alert was raised, RFC 3339 UTC with milliseconds.
    pub time: String,
    pub request: Option<String>,
    pub session: Option<String>,
    /// Ledger index of the record that raised the alert.
    pub subject_index: u64,
    /// Hex leaf hash of that record.
    pub subject_leaf: String,
    /// The latest signed checkpoint (note text) when known.
    pub checkpoint: Option<String>,
    /// Rule-specific facts: the decision, the matching operations, hosts, counts.
    pub details: serde_json::Value,
}

/// The ledger record an alert is about, and where the ledger stood.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    pub index: u64,
    /// Hex leaf hash of the record.
    pub leaf: String,
    pub request: Option<String>,
    pub session: Option<String>,
    /// The latest signed checkpoint text, if the caller has one.
    pub checkpoint: Option<String>,
}

impl Alert {
    /// Completes a rule's draft with the record it is about.
    pub fn from_draft(draft: Draft, subject: &Subject, time: String) -> Alert {
        Alert {
            id: format!("{}-{}", subject.index, draft.rule),
            rule: draft.rule,
            severity: draft.severity,
            summary: draft.summary,
            time,
            request: subject.request.clone(),
            session: subject.session.clone(),
            subject_index: subject.index,
            subject_leaf: subject.leaf.clone(),
            checkpoint: subject.checkpoint.clone(),
            details: draft.details,
        }
    }
}

/// Everything the rules raise for one ledger record: the pure rules, plus the
/// denial-burst rule when a tracker is given and the record is a refused
/// (`deny` or `ask`) verdict in a session. Empty when alerts are disabled.
pub fn alerts_for_record(
    cfg: &AlertConfig,
    tracker: Option<&BurstTracker>,
    kind: &str,
    body: &serde_json::Value,
    subject: &Subject,
    now: std::time::SystemTime,
) -> Result<Vec<Alert>, Error> {
    if !cfg.enabled {
        return Ok(Vec::new());
    }
    let mut drafts = evaluate(&cfg.rules, kind, body);
    if kind == "verdict"
        && matches!(
            body.get("decision").and_then(|d| d.as_str()),
            Some("deny" | "ask")
        )
        && let (Some(tracker), Some(session)) = (tracker, subject.session.as_deref())
        && let Some(d) = tracker.observe(session, time::unix_secs(now))?
    {
        drafts.push(d);
    }
    let stamp = time::rfc3339(now);
    Ok(drafts
        .into_iter()
        .map(|d| Alert::from_draft(d, subject, stamp.clone()))
        .collect())
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("alert configuration: {0}")]
    Config(String),
    #[error("delivery: {0}")]
    Delivery(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Clips text for a one-line summary: control characters and other invisible
/// characters are escaped (`\u{1b}`), the result is cut to `max` characters with
/// an ellipsis.
pub(crate) fn clip(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push('…');
            break;
        }
        if c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}') {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_escapes_controls_and_cuts() {
        assert_eq!(clip("a\nb\u{1b}[31m", 100), "a\\u{a}b\\u{1b}[31m");
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(clip("ab", 2), "ab");
        assert_eq!(clip("x\u{202e}y", 10), "x\\u{202e}y");
    }

    #[test]
    fn severity_orders_and_maps() {
        assert!(Severity::Info < Severity::Warning && Severity::High < Severity::Critical);
        assert_eq!(Severity::Critical.syslog_code(), 2);
        assert_eq!(serde_json::to_string(&Severity::High).unwrap(), "\"high\"");
    }

    #[test]
    fn draft_becomes_alert_with_subject() {
        let d = Draft {
            rule: "opaque".into(),
            severity: Severity::Warning,
            summary: "s".into(),
            details: serde_json::json!({"k": 1}),
        };
        let s = Subject {
            index: 42,
            leaf: "ab".repeat(32),
            request: Some("r-1".into()),
            session: Some("s-1".into()),
            checkpoint: None,
        };
        let a = Alert::from_draft(d, &s, "2026-01-01T00:00:00.000Z".into());
        assert_eq!(a.id, "42-opaque");
        assert_eq!(a.subject_index, 42);
        assert_eq!(a.session.as_deref(), Some("s-1"));
        let back: Alert = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
        assert_eq!(back, a);
    }
}
