//! `airlock ledger verify`: one streaming pass over the segments, trusting nothing the
//! writer keeps for itself (head, index) and needing only public material.
//!
//! Checked: framing and checksums; each record's index and `prev` link; the Merkle root
//! at the ledger's own signed checkpoint and at a checkpoint kept elsewhere (which proves
//! the log only grew: a consistency proof from the kept tree to the current one is also
//! built and checked with ct-merkle); signatures against a pinned key; and meaning: every
//! execution start follows an allow, or an unexpired approval, of the same digest, and
//! every start has an outcome. Memory stays flat: the tree is a frontier, and earlier
//! records a start cites are read back through the index, checked against their leaf.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::Deserialize;

use crate::merkle::{self, Frontier, Hash, leaf_hash};
use crate::note::{SignedCheckpoint, VerifierKey};
use crate::read::{Frames, Item};
use crate::record::{Kind, RECORD_VERSION, parse_rfc3339};
use crate::store::{INDEX_ENTRY, checkpoint_history, read_own_verifier, segment_name};
use crate::{Error, hex, unhex};

#[derive(Debug, Default)]
pub struct VerifyOptions {
    /// The verifier key the operator pinned (kept away from the ledger's host).
    pub pinned_key: Option<VerifierKey>,
    /// A signed checkpoint kept elsewhere (published earlier).
    pub kept_checkpoint: Option<String>,
}

/// One thing wrong, and where.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Problem {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    pub what: String,
}

#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub records: u64,
    pub segments: usize,
    pub root: String,
    /// True when a pinned key and a kept checkpoint anchored the result.
    pub anchored: bool,
    /// Size of the ledger's own latest checkpoint, if it has one.
    pub checkpoint_size: Option<u64>,
    /// Size of the kept checkpoint the log was proven to extend.
    pub kept_size: Option<u64>,
    pub executions: u64,
    /// Records before this index were pruned (bodies gone, leaf hashes kept).
    pub pruned: u64,
    /// Starts whose run is still going on this host (not a problem).
    pub in_progress: Vec<u64>,
    pub problems: Vec<Problem>,
    /// Problems beyond the first `MAX_PROBLEMS`, counted only.
    pub more_problems: u64,
    pub notes: Vec<String>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

const MAX_PROBLEMS: usize = 200;

// Cow: a string with escapes (an agent-chosen session id) cannot be borrowed.
#[derive(Deserialize)]
struct Envelope<'a> {
    v: u64,
    index: u64,
    #[serde(borrow)]
    prev: Cow<'a, str>,
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    request: Option<Cow<'a, str>>,
    #[allow(dead_code)]
    #[serde(default, borrow)]
    session: Option<Cow<'a, str>>,
    #[allow(dead_code)]
    body: serde::de::IgnoredAny,
}

#[derive(Deserialize)]
struct WithBody {
    body: serde_json::Value,
}

struct Checker<'a> {
    dir: &'a Path,
    report: Report,
}

impl Checker<'_> {
    fn problem(&mut self, index: Option<u64>, at: Option<(u64, u64)>, what: String) {
        if self.report.problems.len() >= MAX_PROBLEMS {
            self.report.more_problems += 1;
            return;
        }
        self.report.problems.push(Problem {
            index,
            segment: at.map(|(s, _)| segment_name(s)),
            offset: at.map(|(_, o)| o),
            what,
        });
    }
}

fn parse_checkpoint(
    text: &str,
    key: Option<&VerifierKey>,
    label: &str,
    c: &mut Checker,
) -> Option<SignedCheckpoint> {
    let sc = match SignedCheckpoint::parse(text) {
        Ok(sc) => sc,
        Err(e) => {
            c.problem(None, None, format!("{label}: {e}"));
            return None;
        }
    };
    if let Some(k) = key {
        if let Err(e) = sc.verify(k) {
            c.problem(None, None, format!("{label}: {e}"));
            return None;
        }
        if sc.checkpoint.origin != k.name {
            c.problem(
                None,
                None,
                format!(
                    "{label}: origin {:?} is not the key's log {:?}",
                    sc.checkpoint.origin, k.name
                ),
            );
            return None;
        }
    }
    Some(sc)
}

/// Verifies the ledger in `dir`.
pub fn verify(dir: &Path, opts: &VerifyOptions) -> Result<Report, Error> {
    let mut c = Checker {
        dir,
        report: Report::default(),
    };
    let key = match &opts.pinned_key {
        Some(k) => Some(k.clone()),
        None => match read_own_verifier(dir) {
            Ok(k) => Some(k),
            Err(e) => {
                c.problem(None, None, format!("no usable public key: {e}"));
                None
            }
        },
    };
    c.report.anchored = opts.pinned_key.is_some() && opts.kept_checkpoint.is_some();
    if !c.report.anchored {
        c.report.notes.push(
            "unanchored: without a pinned public key and a checkpoint kept elsewhere, a log \
             and key replaced wholesale would also verify; pass --public-key and --checkpoint"
                .into(),
        );
    }
    // Every checkpoint the ledger kept must match the tree at its size; the newest one
    // also bounds how much of the tail could have been cut unseen.
    let mut history = Vec::new();
    for t in checkpoint_history(dir)? {
        if let Some(cp) = parse_checkpoint(&t, key.as_ref(), "a ledger checkpoint", &mut c) {
            history.push(cp);
        }
    }
    history.sort_by_key(|cp| cp.checkpoint.size);
    let own = history.last().cloned();
    let mut history = history.into_iter().peekable();
    c.report.checkpoint_size = own.as_ref().map(|s| s.checkpoint.size);
    let kept = opts
        .kept_checkpoint
        .as_deref()
        .and_then(|t| parse_checkpoint(t, key.as_ref(), "the kept checkpoint", &mut c));
    if opts.kept_checkpoint.is_some() && kept.is_none() {
        c.report.notes.push(
            "the kept checkpoint could not be used; the log was not proven to extend it".into(),
        );
    }
    c.report.kept_size = kept.as_ref().map(|k| k.checkpoint.size);

    let mut frames = Frames::open(dir)?;
    c.report.segments = frames.segments().len();
    let mut index_file = File::open(dir.join("index")).ok().map(BufReader::new);
    let mut index_ok = index_file.is_some();
    let mut frontier = Frontier::new();
    let mut last: Hash = [0; 32];
    let mut open_starts: HashSet<u64> = HashSet::new();
    let mut used_approvals: HashSet<u64> = HashSet::new();
    let mut kept_matched = false;
    let mut broken = false;
    // Retention: records before the first segment kept were pruned. Their leaf hashes
    // stay in the index; the signed roots below are what vouch for them.
    let pruned = frames.segments().first().copied().unwrap_or(0);
    if pruned > 0 {
        let Some(r) = index_file.as_mut() else {
            c.problem(None, None, format!("records 0..{pruned} were pruned and the index that keeps their leaf hashes is missing"));
            return Ok(c.report);
        };
        for i in 0..pruned {
            let mut ent = [0u8; INDEX_ENTRY as usize];
            if r.read_exact(&mut ent).is_err() {
                c.problem(
                    Some(i),
                    None,
                    "the index ends inside the pruned records".into(),
                );
                return Ok(c.report);
            }
            let leaf: Hash = ent[..32].try_into().expect("32");
            frontier.push(leaf);
            last = leaf;
            if let Some(cp) = &kept
                && cp.checkpoint.size == frontier.size()
            {
                if frontier.root() == cp.checkpoint.root {
                    kept_matched = true;
                } else {
                    c.problem(Some(i), None, format!("the kept checkpoint at {} records does not match the leaf hashes kept for pruned records", cp.checkpoint.size));
                }
            }
            while let Some(cp) = history.next_if(|cp| cp.checkpoint.size <= frontier.size()) {
                if cp.checkpoint.size == frontier.size() && frontier.root() != cp.checkpoint.root {
                    c.problem(Some(i), None, format!("the signed checkpoint at {} records does not match the leaf hashes kept for pruned records", cp.checkpoint.size));
                }
            }
        }
        c.report.notes.push(format!(
            "records 0..{pruned} were pruned: their bodies are gone; their leaf hashes are \
             kept and covered by the signed roots checked here"
        ));
        if own.as_ref().is_none_or(|o| o.checkpoint.size < pruned) && kept.is_none() {
            c.problem(
                None,
                None,
                format!("no signed checkpoint covers the {pruned} pruned records' leaf hashes"),
            );
        }
    }
    c.report.pruned = pruned;
    let mut pruned_allowed = 0u64;
    for item in frames.by_ref() {
        let (segment, offset, payload) = match item? {
            Item::Record {
                segment,
                offset,
                payload,
            } => (segment, offset, payload),
            Item::Damaged {
                segment,
                offset,
                why,
            } => {
                c.problem(
                    Some(frontier.size()),
                    Some((segment, offset)),
                    why.to_string(),
                );
                broken = true;
                continue;
            }
        };
        let at = Some((segment, offset));
        let expect = frontier.size();
        let leaf = leaf_hash(&payload);
        match serde_json::from_slice::<Envelope>(&payload) {
            Err(e) => c.problem(Some(expect), at, format!("not a valid record: {e}")),
            Ok(env) => {
                if env.v != RECORD_VERSION {
                    c.problem(
                        Some(expect),
                        at,
                        format!("unknown record version {}", env.v),
                    );
                }
                if env.index != expect && !broken {
                    c.problem(
                        Some(expect),
                        at,
                        format!(
                            "record says it is number {} where number {expect} belongs: records \
                             were removed, inserted or reordered",
                            env.index
                        ),
                    );
                    broken = true;
                } else if env.prev != hex(&last).as_str() && !broken {
                    c.problem(
                        Some(expect),
                        at,
                        "record does not chain to the one before it (prev hash differs): a \
                         record before it was changed, removed or reordered"
                            .into(),
                    );
                    broken = true;
                }
                if parse_rfc3339(&env.time).is_none() {
                    c.problem(Some(expect), at, "bad time".into());
                }
                match Kind::parse(&env.kind) {
                    None => c.problem(Some(expect), at, format!("unknown kind {:?}", env.kind)),
                    Some(Kind::ExecStart) => {
                        c.report.executions += 1;
                        check_start(
                            &mut c,
                            expect,
                            at,
                            &payload,
                            env.request.as_deref(),
                            &mut used_approvals,
                        );
                        open_starts.insert(expect);
                    }
                    Some(Kind::Control) => {
                        // A recorded pruning: how far back bodies may legitimately be gone.
                        if let Ok(w) = serde_json::from_slice::<WithBody>(&payload)
                            && w.body.get("event").and_then(|e| e.as_str()) == Some("pruned")
                            && let Some(b) =
                                w.body.pointer("/details/before").and_then(|b| b.as_u64())
                        {
                            pruned_allowed = pruned_allowed.max(b);
                        }
                    }
                    Some(Kind::ExecOutcome) => {
                        let start = serde_json::from_slice::<WithBody>(&payload)
                            .ok()
                            .and_then(|w| w.body.get("start_index").and_then(|v| v.as_u64()));
                        match start {
                            Some(s) if open_starts.remove(&s) || s < pruned => {}
                            Some(s) => c.problem(
                                Some(expect),
                                at,
                                format!(
                                    "outcome for start {s}, which is not an open execution start"
                                ),
                            ),
                            None => {
                                c.problem(Some(expect), at, "outcome without start_index".into())
                            }
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        if let Some(r) = index_file.as_mut().filter(|_| index_ok) {
            let mut ent = [0u8; INDEX_ENTRY as usize];
            if r.read_exact(&mut ent).is_err()
                || ent[..32] != leaf
                || ent[32..] != offset.to_le_bytes()
            {
                index_ok = false;
                c.report.notes.push(format!(
                    "the index file (derived data) disagrees with the records from record \
                     {expect}; lookups by index are unreliable until it is rebuilt"
                ));
            }
        }
        frontier.push(leaf);
        last = leaf;
        while let Some(cp) = history.next_if(|cp| cp.checkpoint.size <= frontier.size()) {
            if cp.checkpoint.size == frontier.size() && frontier.root() != cp.checkpoint.root {
                c.problem(
                    Some(expect),
                    at,
                    format!(
                        "the tree over records 0..{} does not match the ledger's signed \
                         checkpoint at that size: history up to record {expect} was rewritten{}",
                        cp.checkpoint.size,
                        if pruned > 0 {
                            " (or the leaf hashes kept for pruned records were changed)"
                        } else {
                            ""
                        }
                    ),
                );
            }
        }
        for (cp, label, is_kept) in [
            (&own, "the ledger's checkpoint", false),
            (&kept, "the kept checkpoint", true),
        ] {
            if let Some(cp) = cp
                && cp.checkpoint.size == frontier.size()
            {
                if frontier.root() == cp.checkpoint.root {
                    kept_matched |= is_kept;
                } else {
                    c.problem(
                        Some(expect),
                        at,
                        format!(
                            "the tree over records 0..{} does not match {label}: history up to \
                             record {} was rewritten",
                            cp.checkpoint.size,
                            cp.checkpoint.size - 1
                        ),
                    );
                }
            }
        }
    }
    let size = frontier.size();
    if pruned > pruned_allowed {
        c.problem(
            Some(pruned_allowed),
            None,
            format!(
                "the bodies of records {pruned_allowed}..{pruned} are missing and no recorded \
                 pruning covers them: segments were deleted"
            ),
        );
    }
    c.report.records = size;
    c.report.root = hex(&frontier.root());
    for (cp, label) in [
        (&own, "the ledger's checkpoint"),
        (&kept, "the kept checkpoint"),
    ] {
        if let Some(cp) = cp
            && cp.checkpoint.size > size
        {
            c.problem(
                Some(size),
                None,
                format!(
                    "{label} covers {} records but the log holds {size}: records {size}..{} \
                     were cut from the end",
                    cp.checkpoint.size,
                    cp.checkpoint.size - 1
                ),
            );
        } else if let Some(cp) = cp
            && cp.checkpoint.size == 0
            && cp.checkpoint.root != merkle::empty_root()
        {
            c.problem(None, None, format!("{label}: bad root for an empty tree"));
        }
    }
    // The consistency proof a witness holding only the kept checkpoint would check.
    if let Some(k) = &kept
        && kept_matched
        && index_ok
        && k.checkpoint.size > 0
        && k.checkpoint.size < size
    {
        let idx = File::open(dir.join("index")).map_err(|e| Error::io("open the index", e))?;
        let mut leaf = |i: u64| crate::read::index_leaf(&idx, i).unwrap_or([0; 32]);
        let proof = merkle::consistency_proof(k.checkpoint.size, size, &mut leaf);
        if merkle::verify_consistency(
            k.checkpoint.size,
            &k.checkpoint.root,
            size,
            &frontier.root(),
            &proof,
        ) {
            c.report.notes.push(format!(
                "consistency proof from the kept checkpoint ({} records) to the log ({size}) \
                 verified: {} hashes",
                k.checkpoint.size,
                proof.len()
            ));
        } else {
            c.problem(
                None,
                None,
                "the consistency proof from the kept checkpoint fails".into(),
            );
        }
    }
    let mut open: Vec<u64> = open_starts.into_iter().collect();
    open.sort_unstable();
    for s in open {
        if start_still_running(dir, s) {
            c.report.in_progress.push(s);
        } else {
            c.problem(Some(s), None, "execution start has no outcome".into());
        }
    }
    Ok(c.report)
}

fn str_field<'a>(v: &'a serde_json::Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(|x| x.as_str())
}

/// An execution start must cite the verdict (and approval) that let it run, by index and
/// leaf hash, for the same digest and request.
fn check_start(
    c: &mut Checker,
    index: u64,
    at: Option<(u64, u64)>,
    payload: &[u8],
    request: Option<&str>,
    used_approvals: &mut HashSet<u64>,
) {
    let Ok(w) = serde_json::from_slice::<WithBody>(payload) else {
        c.problem(Some(index), at, "execution start is not readable".into());
        return;
    };
    let b = &w.body;
    let digest = str_field(b, "digest");
    let cited = |kidx: &str, kleaf: &str| -> Option<(u64, Hash)> {
        let i = b.get(kidx)?.as_u64()?;
        let l: Hash = unhex(str_field(b, kleaf)?)?.try_into().ok()?;
        Some((i, l))
    };
    let Some((vi, vleaf)) = cited("verdict_index", "verdict_leaf") else {
        c.problem(Some(index), at, "execution start cites no verdict".into());
        return;
    };
    if vi < c.report.pruned {
        // The body is pruned; the leaf kept for it is vouched for by the signed roots.
        let ok = File::open(c.dir.join("index"))
            .ok()
            .and_then(|f| crate::read::index_leaf(&f, vi).ok())
            .is_some_and(|l| l == vleaf);
        if !ok {
            c.problem(
                Some(index),
                at,
                format!(
                    "execution start cites pruned verdict {vi} by a leaf hash it does not have"
                ),
            );
        }
        return;
    }
    let verdict = match cited_record(c.dir, vi, &vleaf, index) {
        Ok(v) => v,
        Err(e) => {
            c.problem(
                Some(index),
                at,
                format!("execution start cites verdict {vi}: {e}"),
            );
            return;
        }
    };
    if verdict.kind != Kind::Verdict
        || verdict.request.as_deref() != request
        || str_field(&verdict.body, "digest") != digest
        || digest.is_none()
    {
        c.problem(
            Some(index),
            at,
            format!("execution start does not match verdict {vi} (kind, request or digest differ)"),
        );
        return;
    }
    match str_field(&verdict.body, "decision") {
        Some("allow") => {}
        Some("ask") => {
            let Some((ai, aleaf)) = cited("approval_index", "approval_leaf") else {
                c.problem(
                    Some(index),
                    at,
                    format!("execution start follows ask verdict {vi} without an approval"),
                );
                return;
            };
            let a = match cited_record(c.dir, ai, &aleaf, index) {
                Ok(a) => a,
                Err(e) => {
                    c.problem(
                        Some(index),
                        at,
                        format!("execution start cites approval {ai}: {e}"),
                    );
                    return;
                }
            };
            let start_time = serde_json::from_slice::<serde_json::Value>(payload)
                .ok()
                .and_then(|v| {
                    v.get("time")
                        .and_then(|t| t.as_str())
                        .and_then(parse_rfc3339)
                });
            let expires = str_field(&a.body, "expires_at").and_then(parse_rfc3339);
            let ok = a.kind == Kind::Approval
                && str_field(&a.body, "decision") == Some("approve")
                && str_field(&a.body, "digest") == digest
                && a.body.get("verdict_index").and_then(|v| v.as_u64()) == Some(vi);
            if !ok {
                c.problem(
                    Some(index),
                    at,
                    format!("approval {ai} does not approve this digest for verdict {vi}"),
                );
            } else if expires.is_none() {
                c.problem(
                    Some(index),
                    at,
                    format!("approval {ai} has no valid expiry"),
                );
            } else if matches!((start_time, expires), (Some(s), Some(e)) if s > e) {
                c.problem(
                    Some(index),
                    at,
                    format!("approval {ai} had expired when execution started"),
                );
            } else if !used_approvals.insert(ai) {
                c.problem(Some(index), at, format!("approval {ai} was used twice"));
            }
        }
        other => c.problem(
            Some(index),
            at,
            format!(
                "execution started after a {:?} verdict ({vi})",
                other.unwrap_or("?")
            ),
        ),
    }
}

struct Cited {
    kind: Kind,
    request: Option<String>,
    body: serde_json::Value,
}

fn cited_record(dir: &Path, i: u64, leaf: &Hash, from: u64) -> Result<Cited, String> {
    if i >= from {
        return Err("it is not an earlier record".into());
    }
    let (payload, got) = crate::read::read_payload(dir, i).map_err(|e| e.to_string())?;
    if &got != leaf {
        return Err("the cited leaf hash does not match the record".into());
    }
    #[derive(Deserialize)]
    struct K {
        index: u64,
        kind: Kind,
        #[serde(default)]
        request: Option<String>,
        body: serde_json::Value,
    }
    let k: K = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
    if k.index != i {
        return Err(format!("the record found there is number {}", k.index));
    }
    Ok(Cited {
        kind: k.kind,
        request: k.request,
        body: k.body,
    })
}

/// A start whose recorded process is alive on this boot is still running, not orphaned.
fn start_still_running(dir: &Path, index: u64) -> bool {
    let Ok((e, _)) = crate::read::read_index(dir, index) else {
        return false;
    };
    let (Some(pid), Some(boot)) = (
        e.body.get("pid").and_then(|p| p.as_u64()),
        str_field(&e.body, "boot_id"),
    ) else {
        return false;
    };
    let ours = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
    let start = e.body.get("pid_start").and_then(|p| p.as_u64());
    boot == ours.trim() && start.is_some() && process_start_time(pid as i32) == start
}

/// Field 22 of /proc/PID/stat: when the process started, in clock ticks since boot.
pub fn process_start_time(pid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}
