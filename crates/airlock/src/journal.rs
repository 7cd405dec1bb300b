//! What `check` and `run` write to the ledger: the proposal and the input behind it, the
//! verdict, the intent to run (durable before anything starts), the outcome, and the
//! alerts they raise. Secret values injected into a run are redacted from all of it.

use std::path::{Path, PathBuf};

use gate::execute::Recorder;
use gate::{Checked, Proposal};
use ledger::{Kind, Ledger, NewRecord, Receipt};
use sandbox::{Outcome, Profile};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::config::Config;

/// Bytes of each provenance input kept in the record (the SHA-256 covers all of it).
const PROVENANCE_BYTES: usize = 16 << 10;

pub fn sha256_hex(b: &[u8]) -> String {
    ledger::hex(&Sha256::digest(b))
}

/// Request ids: a random per-process prefix and a counter (ids are labels, not secrets;
/// one `getrandom` per process, not a file open per proposal).
fn request_prefix() -> &'static str {
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PREFIX.get_or_init(|| {
        let mut b = [0u8; 6];
        // SAFETY: writes at most 6 bytes into our buffer.
        let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
        if n != b.len() as isize {
            // Unique enough without randomness: time and pid.
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos() as u64;
            b.copy_from_slice(&(t ^ u64::from(std::process::id()) << 40).to_le_bytes()[..6]);
        }
        ledger::hex(&b)
    })
}

pub fn new_request_id() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("r-{}{n:04x}", request_prefix())
}

/// Secret values a run receives, and their replacement everywhere they would be recorded
/// or shown back to the agent.
#[derive(Default, Clone)]
pub struct Redactor {
    secrets: Vec<(String, String)>,
}

impl Redactor {
    pub fn new(secrets: Vec<(String, String)>) -> Redactor {
        let mut secrets: Vec<_> = secrets.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|(_, v)| std::cmp::Reverse(v.len()));
        Redactor { secrets }
    }

    pub fn bytes(&self, b: &[u8]) -> Vec<u8> {
        let mut out = b.to_vec();
        for (name, v) in &self.secrets {
            let v = v.as_bytes();
            if out.len() < v.len() {
                continue;
            }
            let mask = format!("[redacted:{name}]").into_bytes();
            let mut res = Vec::with_capacity(out.len());
            let mut i = 0;
            while i < out.len() {
                if out[i..].starts_with(v) {
                    res.extend_from_slice(&mask);
                    i += v.len();
                } else {
                    res.push(out[i]);
                    i += 1;
                }
            }
            out = res;
        }
        out
    }

    pub fn str(&self, s: &str) -> String {
        if self.secrets.is_empty() {
            return s.to_string();
        }
        String::from_utf8_lossy(&self.bytes(s.as_bytes())).into_owned()
    }

    pub fn value(&self, v: &mut Value) {
        if self.secrets.is_empty() {
            return;
        }
        match v {
            Value::String(s) => *s = self.str(s),
            Value::Array(a) => a.iter_mut().for_each(|x| self.value(x)),
            Value::Object(o) => o.values_mut().for_each(|x| self.value(x)),
            _ => {}
        }
    }
}

/// One checked proposal to record.
pub struct Decided<'a> {
    pub request: String,
    pub proposal: &'a Proposal,
    pub checked: &'a Checked,
    pub target: Option<&'a str>,
    pub grants: &'a [String],
}

/// The ledger plus what airlock adds around it: ids, redaction, alerts, publishing.
pub struct Journal {
    pub ledger: Ledger,
    pub config: Config,
    alerts: crate::alerts::Alerts,
}

pub fn ledger_dir(state: &Path, config: &Config) -> PathBuf {
    config
        .ledger
        .dir
        .clone()
        .unwrap_or_else(|| state.join("ledger"))
}

/// The ledger's tunables from airlock's configuration.
pub fn ledger_options(config: &Config, create: bool) -> ledger::Options {
    ledger::Options {
        segment_bytes: config.ledger.segment_bytes,
        lock_timeout: std::time::Duration::from_millis(config.ledger.lock_timeout_ms),
        create,
        ..ledger::Options::default()
    }
}

impl Journal {
    pub fn open(state: &Path, config: Config) -> Result<Journal, String> {
        let dir = ledger_dir(state, &config);
        let ledger = Ledger::open(&dir, ledger_options(&config, true)).map_err(|e| {
            format!("{e} (airlock records every step before it runs anything, so it stops here)")
        })?;
        let alerts = crate::alerts::Alerts::new(&config, state)?;
        let j = Journal {
            ledger,
            config,
            alerts,
        };
        j.alert_on_recoveries();
        close_abandoned(&j);
        Ok(j)
    }

    pub fn alert_on_recoveries(&self) {
        for r in self.ledger.take_recoveries() {
            let (severity, summary) = if r.below_checkpoint {
                (
                    alert::Severity::Critical,
                    format!(
                        "ledger {}: records covered by a signed checkpoint are gone (tampering, not a crash)",
                        r.event
                    ),
                )
            } else {
                (
                    alert::Severity::Warning,
                    format!("ledger {}: a crashed writer's torn tail was cut", r.event),
                )
            };
            let body = json!({"event": r.event, "details": r.details});
            // The alert cites the control record the ledger wrote for the repair; only if
            // that write failed is one written here.
            let subject = match r.recorded {
                Some(receipt) => receipt,
                None => match self.ledger.append(NewRecord::new(
                    Kind::Control,
                    json!({"event": "recovery_noticed", "details": body}),
                )) {
                    Ok(receipt) => receipt,
                    Err(e) => {
                        eprintln!("airlock: ledger: {e}");
                        continue;
                    }
                },
            };
            self.alerts
                .raise_direct(self, &subject, "ledger_recovery", severity, &summary, body);
        }
    }

    /// Appends records; alerts on any repair the append had to make first.
    fn append(&self, recs: Vec<NewRecord>) -> Result<Vec<Receipt>, String> {
        let r = self.ledger.append_many(recs).map_err(|e| e.to_string());
        self.alert_on_recoveries();
        r
    }

    /// Records a proposal and its verdict (contiguous, durable); raises alerts.
    #[allow(clippy::too_many_arguments)]
    pub fn decided(
        &self,
        request: &str,
        p: &Proposal,
        c: &Checked,
        gate: &gate::Gate,
        target: Option<&str>,
        grants: &[String],
        red: &Redactor,
    ) -> Result<(Receipt, Receipt), String> {
        let item = Decided {
            request: request.to_string(),
            proposal: p,
            checked: c,
            target,
            grants,
        };
        Ok(self.decided_batch(&[item], gate, red)?.remove(0))
    }

    /// Records many proposals and verdicts with one durable append (`check --jsonl`).
    pub fn decided_batch(
        &self,
        items: &[Decided],
        gate: &gate::Gate,
        red: &Redactor,
    ) -> Result<Vec<(Receipt, Receipt)>, String> {
        let mut recs = Vec::with_capacity(items.len() * 2 + 1);
        let mut verdicts = Vec::with_capacity(items.len());
        let policy_seen = items
            .first()
            .and_then(|first| self.note_policy(&first.checked.policy_version, &mut recs));
        for it in items {
            let (proposal, verdict) = self.decided_bodies(it, gate, red);
            let session = it.proposal.session.as_deref();
            recs.push(
                NewRecord::new(Kind::Proposal, proposal)
                    .request(Some(&it.request))
                    .session(session),
            );
            recs.push(
                NewRecord::new(Kind::Verdict, verdict.clone())
                    .request(Some(&it.request))
                    .session(session),
            );
            verdicts.push(verdict);
        }
        let extra = recs.len() - items.len() * 2;
        let mut receipts = self.append(recs)?;
        receipts.drain(..extra);
        if let Some((path, version)) = policy_seen {
            let _ = std::fs::write(path, version);
        }
        let mut out = Vec::with_capacity(items.len());
        let mut subjects = Vec::with_capacity(items.len());
        for (i, pair) in receipts.chunks(2).enumerate() {
            out.push((pair[0].clone(), pair[1].clone()));
            subjects.push(crate::alerts::Raised {
                receipt: pair[1].clone(),
                request: Some(items[i].request.clone()),
                session: items[i].proposal.session.clone(),
                kind: "verdict",
                body: &verdicts[i],
            });
        }
        self.alerts.on_records(self, &subjects);
        Ok(out)
    }

    fn decided_bodies(&self, it: &Decided, gate: &gate::Gate, red: &Redactor) -> (Value, Value) {
        let (p, c) = (it.proposal, it.checked);
        let mut prov = Vec::new();
        for pv in &p.provenance {
            let (sha, excerpt, truncated) = match &pv.content {
                Some(c) => {
                    let mut cut = c.len().min(PROVENANCE_BYTES);
                    while !c.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    (
                        Some(sha256_hex(c.as_bytes())),
                        Some(&c[..cut]),
                        cut < c.len(),
                    )
                }
                None => (pv.sha256.clone(), None, false),
            };
            prov.push(json!({
                "source": pv.source, "trust": pv.trust, "sha256": sha,
                "content": excerpt, "truncated": truncated,
            }));
        }
        let mut proposal = json!({
            "caller_id": p.id,
            "agent": p.agent,
            "lang": c.lang,
            "code": p.code,
            "code_sha256": sha256_hex(p.code.as_bytes()),
            "cwd": c.cwd,
            "workspace": gate.workspace(),
            "target": it.target,
            "grants": it.grants,
            "provenance": prov,
        });
        red.value(&mut proposal);
        (proposal, self.verdict_body(c, gate, red))
    }

    /// A control record when the policy in force differs from the one last recorded
    /// (kept beside the ledger), so a policy change is on the record before its first use.
    /// Returns the marker to write once the record is durable.
    fn note_policy(&self, version: &str, recs: &mut Vec<NewRecord>) -> Option<(PathBuf, String)> {
        let path = self.ledger.dir().join("policy.last");
        let last = std::fs::read_to_string(&path).unwrap_or_default();
        if last.trim() == version {
            return None;
        }
        recs.push(NewRecord::new(
            Kind::Control,
            json!({"event": "policy_changed", "details": {
                "from": (!last.trim().is_empty()).then(|| last.trim().to_string()),
                "to": version,
            }}),
        ));
        Some((path, version.to_string()))
    }

    fn verdict_body(&self, c: &Checked, gate: &gate::Gate, red: &Redactor) -> Value {
        let mut categories: Vec<&str> = c.operations.iter().map(|o| o.kind_name()).collect();
        categories.sort_unstable();
        categories.dedup();
        let targets: Vec<Value> = c
            .operations
            .iter()
            .enumerate()
            .filter_map(|(i, o)| match o {
                inspect::Op::Sql(s) => Some(json!({
                    "op": i,
                    "database": s.database,
                    "env": gate.policy().database_env(s.database.as_deref()),
                })),
                _ => None,
            })
            .collect();
        let mut v = json!({
            "decision": c.decision,
            "digest": c.digest,
            "policy_version": c.policy_version,
            "reasons": c.reasons,
            "operations": c.operations,
            "scripts": c.scripts,
            "categories": categories,
            "targets": targets,
        });
        red.value(&mut v);
        v
    }

    /// Publishes the latest checkpoint where the configuration says (best effort: a
    /// failure is reported, and the checkpoint stays in the ledger for the next try).
    pub fn publish(&self) {
        if self.config.ledger.publish.is_empty() {
            return;
        }
        let cp = match self.ledger.checkpoint_now() {
            Ok(Some(cp)) => cp,
            Ok(None) => return,
            Err(e) => {
                eprintln!("airlock: could not sign a checkpoint to publish: {e}");
                return;
            }
        };
        for target in &self.config.ledger.publish {
            if let Err(e) = crate::alerts::publish_checkpoint(target, &cp, &self.config) {
                eprintln!("airlock: could not publish the checkpoint to {target}: {e}");
            }
        }
    }

    /// Delivers alerts an earlier process could not (bounded by the webhook's deadline).
    pub fn flush_alerts(&self) {
        self.alerts.flush();
    }
}

/// Records one `airlock run`: verdict, start, outcome.
pub struct RunRecorder<'a> {
    pub journal: &'a Journal,
    pub gate: &'a gate::Gate,
    pub request: String,
    pub session: Option<String>,
    pub target: Option<String>,
    pub grants: Vec<String>,
    pub redactor: Redactor,
    /// Bytes of stdout and stderr kept in the outcome record.
    pub output_bytes: usize,
    verdict: Option<Receipt>,
    start: Option<Receipt>,
    /// Set if the outcome could not be recorded (the run happened; the record is incomplete).
    pub failed: Option<String>,
}

impl<'a> RunRecorder<'a> {
    pub fn new(journal: &'a Journal, gate: &'a gate::Gate, request: String, red: Redactor) -> Self {
        RunRecorder {
            journal,
            gate,
            request,
            session: None,
            target: None,
            grants: Vec::new(),
            redactor: red,
            output_bytes: journal.config.record.output_bytes,
            verdict: None,
            start: None,
            failed: None,
        }
    }

    fn stream(&self, b: &[u8], truncated: bool) -> Value {
        let red = self.redactor.bytes(b);
        let mut cut = red.len().min(self.output_bytes);
        let text = String::from_utf8_lossy(&red[..cut]).into_owned();
        while cut > 0 && !text.is_char_boundary(text.len().min(cut)) {
            cut -= 1;
        }
        json!({
            // Over the redacted bytes: a hash of the raw output would let anyone holding
            // the record confirm a guess of the secret.
            "sha256": sha256_hex(&red),
            "bytes": b.len(),
            "copy": text,
            "copy_truncated": red.len() > self.output_bytes,
            "truncated": truncated,
        })
    }
}

impl Recorder for RunRecorder<'_> {
    fn decided(&mut self, p: &Proposal, c: &Checked) -> Result<(), String> {
        self.session = p.session.clone();
        let (_, v) = self.journal.decided(
            &self.request,
            p,
            c,
            self.gate,
            self.target.as_deref(),
            &self.grants,
            &self.redactor,
        )?;
        self.verdict = Some(v);
        Ok(())
    }

    fn starting(&mut self, c: &Checked, profile: &Profile, program: &str) -> Result<(), String> {
        let v = self
            .verdict
            .as_ref()
            .ok_or("no verdict was recorded for this run")?;
        let pid = std::process::id();
        let pid_start = ledger::verify::process_start_time(pid as i32);
        let mut body = json!({
            "digest": c.digest,
            "verdict_index": v.index,
            "verdict_leaf": ledger::hex(&v.leaf),
            "program": program,
            "profile": {
                "mode": profile.mode,
                "workspace": profile.workspace,
                "cwd": profile.cwd,
                "limits": profile.limits,
                "grants": profile.grants.iter().map(|g| json!({
                    "host": g.pattern, "port": g.port, "private": g.allow_private,
                })).collect::<Vec<_>>(),
                // Names only: values may be secrets.
                "env": profile.env.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
                "read_only": profile.read_only,
            },
            "pid": pid,
            "pid_start": pid_start,
            "boot_id": boot_id(),
        });
        self.redactor.value(&mut body);
        let r = self
            .journal
            .ledger
            .append(
                NewRecord::new(Kind::ExecStart, body)
                    .request(Some(&self.request))
                    .session(self.session.as_deref()),
            )
            .map_err(|e| format!("{e}: not running anything unrecorded"))?;
        self.journal.alert_on_recoveries();
        // A marker for the run in progress: if this process dies before the outcome, a
        // later one finds it and records the run as abandoned (every start gets one).
        let marker = json!({
            "pid": pid,
            "pid_start": pid_start,
            "boot_id": boot_id(),
            "request": self.request,
            "session": self.session,
        });
        let dir = self.journal.ledger.dir().join("running");
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(r.index.to_string()), marker.to_string());
        self.start = Some(r);
        Ok(())
    }

    fn finished(&mut self, _c: &Checked, outcome: Result<&Outcome, &str>) {
        let Some(start) = &self.start else {
            return;
        };
        let mut body = match outcome {
            Ok(o) => json!({
                "start_index": start.index,
                "exit": o.exit,
                "status": o.status,
                "duration_ms": o.duration_ms,
                "stdout": self.stream(&o.stdout, o.stdout_truncated),
                "stderr": self.stream(&o.stderr, o.stderr_truncated),
                "egress": o.egress,
                "memory_exhausted": o.memory_exhausted,
                "changes": o.changes,
                "overlay_error": o.overlay_error,
                "removed_after_run": o.removed_after_run,
                "layers": o.layers,
            }),
            Err(e) => json!({
                "start_index": start.index,
                "exit": "not_started",
                "error": e,
            }),
        };
        self.redactor.value(&mut body);
        match self.journal.ledger.append(
            NewRecord::new(Kind::ExecOutcome, body.clone())
                .request(Some(&self.request))
                .session(self.session.as_deref()),
        ) {
            Ok(r) => self.journal.alerts.on_records(
                self.journal,
                &[crate::alerts::Raised {
                    receipt: r,
                    request: Some(self.request.clone()),
                    session: self.session.clone(),
                    kind: "exec_outcome",
                    body: &body,
                }],
            ),
            Err(e) => self.failed = Some(e.to_string()),
        }
        if self.failed.is_none() {
            let _ = std::fs::remove_file(
                self.journal
                    .ledger
                    .dir()
                    .join("running")
                    .join(start.index.to_string()),
            );
        }
        self.journal.alert_on_recoveries();
    }
}

fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Runs whose airlock process died before recording an outcome (killed, crashed, the
/// machine rebooted): each gets an `exec_outcome` saying so, written by the one process
/// that claims its marker (an atomic rename), so `ledger verify` finds every start
/// finished and the record says what happened.
fn close_abandoned(j: &Journal) {
    let dir = j.ledger.dir().join("running");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return;
    };
    let me = std::process::id();
    for ent in rd.flatten() {
        let name = ent.file_name().to_string_lossy().into_owned();
        let Ok(index) = name.parse::<u64>() else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(ent.path()) else {
            continue;
        };
        let m: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let pid = m["pid"].as_u64().unwrap_or(0) as i32;
        let alive = m["boot_id"].as_str() == Some(boot_id().as_str())
            && m["pid_start"].as_u64().is_some()
            && ledger::verify::process_start_time(pid) == m["pid_start"].as_u64();
        if alive {
            continue;
        }
        let claimed = dir.join(format!(".{index}.claimed-{me}"));
        if std::fs::rename(ent.path(), &claimed).is_err() {
            continue; // another process claimed it
        }
        let body = json!({
            "start_index": index,
            "exit": "abandoned",
            "error": "the airlock process running this died before recording its outcome \
                      (killed, crashed, or the machine restarted); found by a later process",
            "pid": pid,
        });
        match j.ledger.append(
            NewRecord::new(Kind::ExecOutcome, body)
                .request(m["request"].as_str())
                .session(m["session"].as_str()),
        ) {
            Ok(_) => {
                let _ = std::fs::remove_file(&claimed);
            }
            // Put it back for a later process to try.
            Err(_) => {
                let _ = std::fs::rename(&claimed, ent.path());
            }
        }
    }
}
