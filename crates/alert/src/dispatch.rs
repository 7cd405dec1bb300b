//! Delivering alerts without ever losing one or holding up execution.
//!
//! Order matters. [`Dispatcher::dispatch`] first appends the alerts to the
//! outbox and fsyncs it (its format and bounds are described in `src/outbox.rs`); from then
//! on they survive anything, and [`Report::durable`] says so. Only then does it
//! write one line per alert to stderr and, in parallel worker threads, send them
//! to syslog and the webhook. It waits for the workers until their deadlines plus
//! [`GRACE`] and then returns whatever happened: a hung receiver costs at most
//! [`Dispatcher::bound`] + [`GRACE`], never an execution. A worker still running
//! after that is abandoned; it stops at its own timeout, and the alert it was
//! sending is still pending, so a later call delivers it.
//!
//! The webhook round sends every pending alert, not only the new ones, so a
//! short-lived process that could not deliver leaves its alerts to the next
//! process's `dispatch` or [`Dispatcher::flush_outbox`]. One process delivers at
//! a time (a lock next to the outbox); the others wait for it within their own
//! deadline. Delivery is at-least-once: receivers deduplicate on the alert id.
//!
//! If the outbox itself cannot be written (disk full, permissions), the alerts
//! are still sent to every sink directly, and the report says they are not
//! durable.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::config::AlertConfig;
use crate::outbox::Outbox;
use crate::syslog::SyslogSink;
use crate::webhook::{Outcome, Webhook};
use crate::{Alert, Error, clip};

/// Extra time `dispatch` waits for its workers to report after their deadlines.
pub const GRACE: Duration = Duration::from_millis(250);

/// What one `dispatch` or `flush_outbox` did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Alerts given to `dispatch` (0 for `flush_outbox`).
    pub alerts: usize,
    /// Of those, written and fsynced to the outbox.
    pub queued: usize,
    /// Lines written to stderr.
    pub stderr: usize,
    /// Lines sent to syslog.
    pub syslog: usize,
    /// Alerts the webhook acknowledged in this call, older pending ones included.
    pub webhook_delivered: usize,
    /// Alerts the webhook answered but refused (4xx): kept for a later round.
    pub webhook_refused: usize,
    /// Alerts still waiting for the webhook after this call.
    pub webhook_pending: usize,
    /// A worker had not finished by the deadline and was left behind.
    pub timed_out: bool,
    /// One line per problem.
    pub errors: Vec<String>,
}

impl Report {
    /// Every alert given is in the outbox: none can be lost any more.
    pub fn durable(&self) -> bool {
        self.queued == self.alerts
    }

    /// The problems met, one line each (empty when everything went out).
    pub fn errors(&self) -> &[String] {
        &self.errors
    }
}

/// Sends alerts to the configured sinks. Cheap to keep; build once per process.
pub struct Dispatcher {
    enabled: bool,
    stderr: bool,
    outbox: Arc<Outbox>,
    webhook: Option<Arc<Webhook>>,
    syslog: Option<Arc<SyslogSink>>,
}

enum Part {
    Syslog(Result<usize, String>),
    Webhook(Round),
}

#[derive(Default)]
struct Round {
    delivered: usize,
    refused: usize,
    errors: Vec<String>,
}

impl Dispatcher {
    /// Builds the sinks. `state_dir` is airlock's state directory; the outbox
    /// defaults to `<state_dir>/alerts/outbox.jsonl`. Fails on an unreadable or
    /// unsafe webhook secret or CA file, so misconfiguration shows at startup.
    pub fn new(cfg: &AlertConfig, state_dir: &Path) -> Result<Dispatcher, Error> {
        let path = cfg
            .outbox
            .path
            .clone()
            .unwrap_or_else(|| state_dir.join("alerts").join("outbox.jsonl"));
        Ok(Dispatcher {
            enabled: cfg.enabled,
            stderr: cfg.stderr.enabled,
            outbox: Arc::new(Outbox::new(path, cfg.outbox.rotate_bytes)),
            webhook: cfg
                .webhook
                .as_ref()
                .map(Webhook::new)
                .transpose()?
                .map(Arc::new),
            syslog: cfg.syslog.as_ref().map(|s| Arc::new(SyslogSink::new(s))),
        })
    }

    pub fn outbox_path(&self) -> &Path {
        &self.outbox.path
    }

    /// Where the webhook cursor (acknowledged alert keys) is kept.
    pub fn cursor_path(&self) -> PathBuf {
        let mut s = self.outbox.path.as_os_str().to_owned();
        s.push(".acked");
        PathBuf::from(s)
    }

    /// Alerts waiting for the webhook (none without a webhook).
    pub fn pending(&self) -> Result<Vec<Alert>, Error> {
        if self.webhook.is_none() {
            return Ok(Vec::new());
        }
        self.outbox.pending()
    }

    /// Every alert currently in the outbox file (delivered or not).
    pub fn outbox_alerts(&self) -> Result<Vec<Alert>, Error> {
        self.outbox.all()
    }

    /// The longest `dispatch` waits for its sinks after the outbox write
    /// (plus [`GRACE`]): the webhook's `deadline_ms` or syslog's `timeout_ms`.
    pub fn bound(&self) -> Duration {
        let w = self.webhook.as_ref().map_or(Duration::ZERO, |w| w.deadline);
        let s = self.syslog.as_ref().map_or(Duration::ZERO, |s| s.timeout());
        w.max(s)
    }

    /// Queues the alerts durably, then notifies every sink within the bound.
    pub fn dispatch(&self, alerts: &[Alert]) -> Report {
        if !self.enabled || alerts.is_empty() {
            // Alerting is off (nothing is taken) or there is nothing to send.
            return Report::default();
        }
        let mut report = Report {
            alerts: alerts.len(),
            ..Report::default()
        };
        let start = Instant::now();
        let durable = match self.outbox.append(alerts) {
            Ok(size) => {
                report.queued = alerts.len();
                if self.webhook.is_none() && size > self.outbox.rotate_bytes {
                    self.rotate(&mut report);
                }
                true
            }
            Err(e) => {
                report
                    .errors
                    .push(format!("outbox (alerts not durable): {e}"));
                false
            }
        };

        if self.stderr {
            report.stderr = write_stderr(alerts);
        }

        let (tx, rx) = mpsc::channel();
        let mut waiting = 0;
        let mut until = start;
        if let Some(sink) = &self.syslog {
            let sink = Arc::clone(sink);
            let lines = sink.lines(alerts);
            let deadline = start + sink.timeout();
            until = until.max(deadline);
            let tx = tx.clone();
            waiting += spawn(&mut report, "syslog", move || {
                let _ = tx.send(Part::Syslog(sink.send(&lines, deadline)));
            });
        }
        if let Some(hook) = &self.webhook {
            let deadline = start + hook.deadline;
            until = until.max(deadline);
            waiting += self.spawn_round(&mut report, tx.clone(), deadline, durable, alerts);
        }
        drop(tx);
        self.collect(&mut report, rx, waiting, until + GRACE);
        report
    }

    /// Delivers what earlier calls (maybe other processes) left pending, within
    /// `deadline` (plus [`GRACE`]). Also rotates the outbox when it is due.
    pub fn flush_outbox(&self, deadline: Duration) -> Report {
        let mut report = Report::default();
        if self.webhook.is_none() {
            self.rotate(&mut report);
            return report;
        }
        let until = Instant::now() + deadline;
        let (tx, rx) = mpsc::channel();
        let waiting = self.spawn_round(&mut report, tx, until, true, &[]);
        self.collect(&mut report, rx, waiting, until + GRACE);
        report
    }

    fn rotate(&self, report: &mut Report) {
        if let Err(e) = self.outbox.rotate_if_needed(self.webhook.is_some()) {
            report.errors.push(format!("outbox rotation: {e}"));
        }
    }

    fn spawn_round(
        &self,
        report: &mut Report,
        tx: mpsc::Sender<Part>,
        deadline: Instant,
        durable: bool,
        alerts: &[Alert],
    ) -> usize {
        let Some(hook) = &self.webhook else { return 0 };
        let hook = Arc::clone(hook);
        let outbox = Arc::clone(&self.outbox);
        // Alerts that could not be queued are sent directly (and not tracked).
        let direct = if durable { Vec::new() } else { alerts.to_vec() };
        spawn(report, "webhook", move || {
            let round = webhook_round(&outbox, &hook, direct, deadline);
            let _ = tx.send(Part::Webhook(round));
        })
    }

    fn collect(
        &self,
        report: &mut Report,
        rx: mpsc::Receiver<Part>,
        mut waiting: usize,
        until: Instant,
    ) {
        while waiting > 0 {
            let left = until.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Part::Syslog(Ok(n))) => report.syslog = n,
                Ok(Part::Syslog(Err(e))) => report.errors.push(e),
                Ok(Part::Webhook(r)) => {
                    report.webhook_delivered += r.delivered;
                    report.webhook_refused += r.refused;
                    report.errors.extend(r.errors);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    report.timed_out = true;
                    report
                        .errors
                        .push("a sink did not finish within its deadline; pending alerts stay in the outbox".into());
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            waiting -= 1;
        }
        if self.webhook.is_some() {
            match self.outbox.pending() {
                Ok(p) => report.webhook_pending = p.len(),
                Err(e) => report.errors.push(format!("outbox: {e}")),
            }
        }
    }
}

/// Runs `f` on a named thread; returns 1 if it started (a reply will come).
fn spawn(report: &mut Report, name: &str, f: impl FnOnce() + Send + 'static) -> usize {
    match std::thread::Builder::new()
        .name(format!("alert-{name}"))
        .spawn(f)
    {
        Ok(_) => 1,
        Err(e) => {
            report
                .errors
                .push(format!("{name}: cannot start a thread: {e}"));
            0
        }
    }
}

/// One webhook round: direct (unqueued) alerts first, then every pending alert
/// in the outbox, oldest first. Stops at the deadline or at the first alert
/// that failed after all its tries (the receiver is down).
fn webhook_round(outbox: &Outbox, hook: &Webhook, direct: Vec<Alert>, deadline: Instant) -> Round {
    let mut round = Round::default();
    // Unqueued alerts go out whatever state the outbox is in; queued ones only
    // by the process holding the delivery lock.
    let guard = match outbox.lock_delivery(deadline) {
        Ok(Some(g)) => Some(g),
        Ok(None) => {
            round
                .errors
                .push("webhook: another process is delivering; alerts stay in the outbox".into());
            None
        }
        Err(e) => {
            round.errors.push(format!("webhook: {e}"));
            None
        }
    };
    let queued = match guard.as_ref().map(|_| outbox.pending()) {
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            round
                .errors
                .push(format!("webhook: reading the outbox: {e}"));
            Vec::new()
        }
        None => Vec::new(),
    };
    let items = direct
        .into_iter()
        .map(|a| (a, false))
        .chain(queued.into_iter().map(|a| (a, true)));
    for (alert, tracked) in items {
        if Instant::now() >= deadline {
            round
                .errors
                .push("webhook: deadline reached; the rest stays in the outbox".into());
            break;
        }
        match hook.send(&alert, deadline) {
            Outcome::Delivered => {
                round.delivered += 1;
                if tracked && let Err(e) = outbox.ack(&alert) {
                    round.errors.push(format!("webhook cursor: {e}"));
                }
            }
            Outcome::Refused(why) => {
                round.refused += 1;
                round
                    .errors
                    .push(format!("webhook refused {}: {why}", alert.id));
            }
            Outcome::Failed(why) => {
                round
                    .errors
                    .push(format!("webhook: {why}; alerts stay in the outbox"));
                break;
            }
        }
    }
    if let Some(g) = guard {
        drop(g);
        if let Err(e) = outbox.rotate_if_needed(true) {
            round.errors.push(format!("outbox rotation: {e}"));
        }
    }
    round
}

/// `airlock alert [high] privilege #12 (leaf 1a2b3c4d5e6f): <summary> [12-privilege]`
fn stderr_line(a: &Alert) -> String {
    format!(
        "airlock alert [{}] {} #{} (leaf {}): {} [{}]",
        a.severity,
        clip(&a.rule, 40),
        a.subject_index,
        clip(a.subject_leaf.get(..12).unwrap_or(&a.subject_leaf), 12),
        clip(&a.summary, 300),
        clip(&a.id, 80),
    )
}

fn write_stderr(alerts: &[Alert]) -> usize {
    let mut err = std::io::stderr().lock();
    alerts
        .iter()
        .filter(|a| writeln!(err, "{}", stderr_line(a)).is_ok())
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    #[test]
    fn stderr_line_is_one_safe_line() {
        let a = Alert {
            id: "12-privilege".into(),
            rule: "privilege".into(),
            severity: Severity::High,
            summary: "privilege escalation (denied): sudo\n\u{1b}[2Jrm".into(),
            time: "t".into(),
            request: None,
            session: None,
            subject_index: 12,
            subject_leaf: "1a2b3c4d5e6f7a8b".into(),
            checkpoint: None,
            details: serde_json::json!({}),
        };
        assert_eq!(
            stderr_line(&a),
            "airlock alert [high] privilege #12 (leaf 1a2b3c4d5e6f): privilege escalation (denied): sudo\\u{a}\\u{1b}[2Jrm [12-privilege]"
        );
    }
}
