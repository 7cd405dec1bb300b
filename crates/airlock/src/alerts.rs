//! Alerts on what the ledger records: the alert crate's rules judge each verdict and
//! outcome; every alert is itself a ledger record (so it cannot be quietly dropped), and
//! then goes to the configured sinks citing the index and leaf hash of the record that
//! raised it. Also: sending checkpoints off the host.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use alert::{Alert, AlertConfig, BurstTracker, Dispatcher, Subject};
use ledger::{Kind, NewRecord, Receipt};
use serde_json::{Value, json};

use crate::config::Config;
use crate::journal::Journal;

/// A record that may raise alerts.
pub struct Raised<'a> {
    pub receipt: Receipt,
    pub request: Option<String>,
    pub session: Option<String>,
    pub kind: &'static str,
    pub body: &'a Value,
}

pub struct Alerts {
    cfg: AlertConfig,
    tracker: Option<BurstTracker>,
    dispatcher: Option<Dispatcher>,
}

impl Alerts {
    pub fn new(config: &Config, state: &Path) -> Result<Alerts, String> {
        let cfg = config.alerts.clone();
        let dir = state.join("alerts");
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let tracker = cfg
            .rules
            .denial_burst
            .enabled
            .then(|| BurstTracker::new(dir.join("bursts.json"), &cfg.rules.denial_burst));
        let dispatcher = Dispatcher::new(&cfg, state).map_err(|e| format!("alerts: {e}"))?;
        Ok(Alerts {
            cfg,
            tracker,
            dispatcher: Some(dispatcher),
        })
    }

    /// Evaluates the rules on records just written; appends the alerts, then sends them.
    /// Failures are reported, never fatal: the subject records are already durable.
    pub fn on_records(&self, j: &Journal, raised: &[Raised]) {
        let checkpoint = j.ledger.latest_checkpoint().ok().flatten();
        let now = SystemTime::now();
        let mut alerts = Vec::new();
        for r in raised {
            let subject = Subject {
                index: r.receipt.index,
                leaf: ledger::hex(&r.receipt.leaf),
                request: r.request.clone(),
                session: r.session.clone(),
                checkpoint: checkpoint.clone(),
            };
            match alert::alerts_for_record(
                &self.cfg,
                self.tracker.as_ref(),
                r.kind,
                r.body,
                &subject,
                now,
            ) {
                Ok(a) => alerts.extend(a),
                Err(e) => eprintln!("airlock: alert rules: {e}"),
            }
        }
        self.record_and_send(j, alerts);
    }

    /// An alert airlock raises itself (ledger recovery), not from a rule.
    pub fn raise_direct(
        &self,
        j: &Journal,
        subject: &Receipt,
        rule: &str,
        severity: alert::Severity,
        summary: &str,
        details: Value,
    ) {
        let a = Alert {
            id: format!("{}-{rule}", subject.index),
            rule: rule.to_string(),
            severity,
            summary: summary.to_string(),
            time: ledger::record::rfc3339(SystemTime::now()),
            request: None,
            session: None,
            subject_index: subject.index,
            subject_leaf: ledger::hex(&subject.leaf),
            checkpoint: j.ledger.latest_checkpoint().ok().flatten(),
            details,
        };
        self.record_and_send(j, vec![a]);
    }

    fn record_and_send(&self, j: &Journal, alerts: Vec<Alert>) {
        if alerts.is_empty() {
            return;
        }
        let recs = alerts
            .iter()
            .map(|a| {
                NewRecord::new(
                    Kind::Alert,
                    json!({
                        "id": a.id,
                        "rule": a.rule,
                        "severity": a.severity,
                        "summary": a.summary,
                        "subject_index": a.subject_index,
                        "subject_leaf": a.subject_leaf,
                        "details": a.details,
                    }),
                )
                .request(a.request.as_deref())
                .session(a.session.as_deref())
            })
            .collect();
        // Unsynced: an alert gates nothing, the outbox below keeps it durably, and the
        // ledger syncs it with the next record or when this process closes it.
        if let Err(e) = j.ledger.append_many_unsynced(recs) {
            eprintln!("airlock: could not record alerts: {e}");
        }
        if let Some(d) = &self.dispatcher {
            let report = d.dispatch(&alerts);
            for e in report.errors() {
                eprintln!("airlock: alert delivery: {e}");
            }
        }
    }

    /// Redelivers what earlier processes left in the outbox, within the webhook's bound.
    pub fn flush(&self) {
        if let Some(d) = &self.dispatcher {
            let report = d.flush_outbox(Duration::from_secs(2));
            for e in report.errors() {
                eprintln!("airlock: alert delivery: {e}");
            }
        }
    }
}

/// Checks a checkpoint publisher target: `file:/ABS/PATH`, `https://...`, or `http://`
/// to a loopback address.
pub fn check_publish_target(t: &str) -> Result<(), String> {
    if let Some(p) = t.strip_prefix("file:") {
        if !Path::new(p).is_absolute() {
            return Err(format!(
                "publish target {t:?}: the file path must be absolute"
            ));
        }
        return Ok(());
    }
    if t.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = t.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or("");
        let host = host.rsplit_once(':').map(|(h, _)| h).unwrap_or(host);
        let host = host.trim_matches(|c| c == '[' || c == ']');
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.is_loopback())
                .unwrap_or(false);
        if loopback {
            return Ok(());
        }
        return Err(format!(
            "publish target {t:?}: plain http is allowed only to loopback; use https"
        ));
    }
    Err(format!(
        "publish target {t:?}: expected file:/PATH, https://... or http://127.0.0.1..."
    ))
}

/// Sends one checkpoint to one target: a file is replaced atomically; an HTTP endpoint
/// gets a POST of the note text (bounded, no proxy, TLS verified).
pub fn publish_checkpoint(target: &str, text: &str, config: &Config) -> Result<(), String> {
    check_publish_target(target)?;
    if let Some(p) = target.strip_prefix("file:") {
        let p = PathBuf::from(p);
        let tmp = p.with_extension("tmp-airlock");
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &p))
            .map_err(|e| format!("{}: {e}", p.display()))?;
        return Ok(());
    }
    let ca = config
        .alerts
        .webhook
        .as_ref()
        .and_then(|w| w.ca_file.clone());
    alert::webhook::post_text(target, text, Duration::from_secs(3), ca.as_deref())
        .map_err(|e| e.to_string())
}
