//! The ledger on a real filesystem: appends from threads and processes, crash recovery,
//! and every tamper the issue names, each caught by `verify` at the place it happened.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ledger::frame::{self, Decoded};
use ledger::note::VerifierKey;
use ledger::verify::{Report, VerifyOptions, verify};
use ledger::{Kind, Ledger, NewRecord, Options};
use serde_json::json;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("airlock-ledger-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn rec(i: u64) -> NewRecord {
    NewRecord::new(
        Kind::Proposal,
        json!({"lang": "bash", "code": format!("echo {i}")}),
    )
    .request(Some(&format!("r-{i}")))
    .session(Some("s-1"))
}

fn fill(dir: &Path, n: u64) -> Ledger {
    let l = Ledger::open(dir, Options::default()).unwrap();
    for i in 0..n {
        l.append(rec(i)).unwrap();
    }
    l
}

fn check(dir: &Path) -> Report {
    verify(dir, &VerifyOptions::default()).unwrap()
}

fn anchored(dir: &Path, key: &VerifierKey, kept: &str) -> Report {
    verify(
        dir,
        &VerifyOptions {
            pinned_key: Some(key.clone()),
            kept_checkpoint: Some(kept.to_string()),
        },
    )
    .unwrap()
}

fn seg0(dir: &Path) -> PathBuf {
    dir.join("segments").join(ledger::store::segment_name(0))
}

/// The frames of a segment, as raw bytes each (header included).
fn frames(p: &Path) -> Vec<Vec<u8>> {
    let data = fs::read(p).unwrap();
    let mut out = Vec::new();
    let mut off = 0;
    while off < data.len() {
        match frame::decode(&data[off..], 1 << 24) {
            Decoded::Frame(_, n) => {
                out.push(data[off..off + n].to_vec());
                off += n;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

fn payload(f: &[u8]) -> serde_json::Value {
    serde_json::from_slice(&f[8..]).unwrap()
}

fn reframe(v: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    frame::encode(&serde_jcs::to_vec(v).unwrap(), &mut out);
    out
}

fn problems(r: &Report) -> String {
    serde_json::to_string_pretty(&r.problems).unwrap()
}

#[test]
fn appends_verify_and_reopen() {
    let d = tmp("basic");
    let l = fill(&d, 50);
    l.checkpoint_now().unwrap();
    let r = check(&d);
    assert!(r.ok(), "{}", problems(&r));
    // Record 0 is the key's creation; 50 proposals follow.
    assert_eq!(r.records, 51);
    assert_eq!(r.checkpoint_size, Some(51));
    assert!(!r.anchored);
    drop(l);
    let l = Ledger::open(&d, Options::default()).unwrap();
    let got = l.append(rec(99)).unwrap();
    assert_eq!(got.index, 51);
    let (e, leaf) = ledger::read::read_index(&d, 51).unwrap();
    assert_eq!(leaf, got.leaf);
    assert_eq!(e.request.as_deref(), Some("r-99"));
    let first = ledger::read::read_index(&d, 0).unwrap().0;
    assert_eq!(first.kind, Kind::Control);
    assert_eq!(first.body["event"], "key_created");
    assert_eq!(
        first.body["details"]["verifier_key"],
        l.verifier_key().encode()
    );
    // The signing key is private to its owner.
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(d.join("keys/ledger.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn threads_share_syncs_and_keep_order() {
    let d = tmp("threads");
    let l = std::sync::Arc::new(Ledger::open(&d, Options::default()).unwrap());
    let hs: Vec<_> = (0..8)
        .map(|t| {
            let l = l.clone();
            std::thread::spawn(move || {
                (0..100)
                    .map(|i| l.append(rec(t * 1000 + i)).unwrap().index)
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut all: Vec<u64> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
    all.sort_unstable();
    assert_eq!(all, (1..801).collect::<Vec<_>>());
    let r = check(&d);
    assert!(r.ok(), "{}", problems(&r));
    assert_eq!(r.records, 801);
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn rotation_keeps_one_tree() {
    let d = tmp("rotate");
    let opts = Options {
        segment_bytes: 4096,
        ..Options::default()
    };
    let l = Ledger::open(&d, opts.clone()).unwrap();
    for i in 0..100 {
        l.append(rec(i)).unwrap();
    }
    let kept = l.checkpoint_now().unwrap().unwrap();
    for i in 100..300 {
        l.append(rec(i)).unwrap();
    }
    let segs = ledger::store::list_segments(&d).unwrap();
    assert!(segs.len() > 5, "{segs:?}");
    let r = anchored(&d, &l.verifier_key(), &kept);
    assert!(r.ok(), "{}", problems(&r));
    assert!(
        !r.notes.iter().any(|n| n.contains("index file")),
        "{:?}",
        r.notes
    );
    assert!(r.anchored);
    assert_eq!(r.kept_size, Some(101));
    assert!(
        r.notes.iter().any(|n| n.contains("consistency proof")),
        "{:?}",
        r.notes
    );
    // Every record is reachable by index across segments.
    for i in [0, 57, 150, 300] {
        assert_eq!(ledger::read::read_index(&d, i).unwrap().0.index, i);
    }
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn flipped_byte_is_caught_where_it_is() {
    let d = tmp("flip");
    drop(fill(&d, 20));
    let fs_ = frames(&seg0(&d));
    let off: usize = fs_[..7].iter().map(Vec::len).sum();
    let mut data = fs::read(seg0(&d)).unwrap();
    data[off + 30] ^= 0x01;
    fs::write(seg0(&d), &data).unwrap();
    let r = check(&d);
    assert!(!r.ok());
    let p = &r.problems[0];
    assert_eq!(p.index, Some(7), "{}", problems(&r));
    assert_eq!(p.offset, Some(off as u64));
    assert!(p.what.contains("checksum"), "{}", p.what);
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn edited_record_with_fixed_checksum_breaks_the_chain_and_the_root() {
    let d = tmp("edit");
    drop(fill(&d, 20));
    let mut fs_ = frames(&seg0(&d));
    let mut v = payload(&fs_[5]);
    v["body"]["code"] = json!("rm -rf /");
    fs_[5] = reframe(&v);
    fs::write(seg0(&d), fs_.concat()).unwrap();
    let r = check(&d);
    assert!(!r.ok());
    assert_eq!(r.problems[0].index, Some(6), "{}", problems(&r));
    assert!(r.problems[0].what.contains("chain"), "{}", problems(&r));
    assert!(
        r.problems
            .iter()
            .any(|p| p.what.contains("does not match the ledger's checkpoint")),
        "{}",
        problems(&r)
    );
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn deleted_and_reordered_records_are_caught() {
    for (name, edit) in [
        (
            "delete",
            Box::new(|f: &mut Vec<Vec<u8>>| {
                f.remove(9);
            }) as Box<dyn Fn(&mut Vec<Vec<u8>>)>,
        ),
        ("reorder", Box::new(|f: &mut Vec<Vec<u8>>| f.swap(9, 10))),
    ] {
        let d = tmp(name);
        drop(fill(&d, 20));
        let mut fs_ = frames(&seg0(&d));
        edit(&mut fs_);
        fs::write(seg0(&d), fs_.concat()).unwrap();
        let r = check(&d);
        assert!(!r.ok(), "{name}");
        assert_eq!(r.problems[0].index, Some(9), "{name}: {}", problems(&r));
        assert!(
            r.problems[0].what.contains("removed"),
            "{name}: {}",
            problems(&r)
        );
        let _ = fs::remove_dir_all(&d);
    }
}

#[test]
fn truncated_tail_is_caught_by_the_checkpoint_then_by_the_kept_one() {
    let d = tmp("truncate");
    let l = fill(&d, 20);
    let key = l.verifier_key();
    let kept = l.checkpoint_now().unwrap().unwrap();
    drop(l);
    let fs_ = frames(&seg0(&d));
    fs::write(seg0(&d), fs_[..15].concat()).unwrap();
    let r = check(&d);
    assert!(!r.ok());
    assert!(
        r.problems[0].what.contains("cut from the end"),
        "{}",
        problems(&r)
    );
    assert_eq!(r.problems[0].index, Some(15));
    // The attacker also removes the ledger's own checkpoint: the kept one still knows.
    fs::remove_file(d.join("checkpoints")).unwrap();
    let r = anchored(&d, &key, &kept);
    assert!(
        r.problems
            .iter()
            .any(|p| p.what.contains("kept checkpoint covers 21")),
        "{}",
        problems(&r)
    );
    let _ = fs::remove_dir_all(&d);
}

/// Cut records out of the middle and rebuild the chain, the checksums and the index so
/// everything a keyless attacker can compute is consistent.
fn rebuild_without(d: &Path, drop_index: usize) {
    let fs_ = frames(&seg0(d));
    let mut prev = [0u8; 32];
    let mut out = Vec::new();
    let mut idx = Vec::new();
    for (n, f) in fs_
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != drop_index)
        .map(|(_, f)| f)
        .enumerate()
    {
        let mut v = payload(f);
        v["index"] = json!(n);
        v["prev"] = json!(ledger::hex(&prev));
        let bytes = serde_jcs::to_vec(&v).unwrap();
        prev = ledger::merkle::leaf_hash(&bytes);
        idx.extend_from_slice(&prev);
        idx.extend_from_slice(&(out.len() as u64).to_le_bytes());
        frame::encode(&bytes, &mut out);
    }
    fs::write(seg0(d), out).unwrap();
    fs::write(d.join("index"), idx).unwrap();
    fs::remove_file(d.join("head")).unwrap();
}

#[test]
fn rebuilt_chain_without_the_key_is_caught() {
    let d = tmp("rebuild");
    let l = fill(&d, 20);
    let key = l.verifier_key();
    let kept = l.checkpoint_now().unwrap().unwrap();
    drop(l);
    rebuild_without(&d, 12);
    // The chain is self-consistent now, but the signed checkpoint's root is not.
    let r = check(&d);
    assert!(!r.ok());
    assert!(
        r.problems
            .iter()
            .any(|p| p.what.contains("cut from the end") || p.what.contains("rewritten")),
        "{}",
        problems(&r)
    );
    // Without the key the attacker cannot sign a new checkpoint; deleting it leaves the
    // kept one, which the pinned key vouches for.
    fs::remove_file(d.join("checkpoints")).unwrap();
    let r = anchored(&d, &key, &kept);
    assert!(!r.ok());
    assert!(
        r.problems
            .iter()
            .any(|p| p.what.contains("kept checkpoint")),
        "{}",
        problems(&r)
    );
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn wholesale_forgery_is_caught_only_with_pinned_material() {
    let d = tmp("forge");
    let l = fill(&d, 10);
    let key = l.verifier_key();
    let kept = l.checkpoint_now().unwrap().unwrap();
    drop(l);
    // The attacker writes a fresh, self-consistent ledger with a key of their own.
    fs::remove_dir_all(&d).unwrap();
    let forged = fill(&d, 10);
    drop(forged);
    let r = check(&d);
    assert!(r.ok(), "{}", problems(&r));
    assert!(r.notes.iter().any(|n| n.contains("unanchored")));
    let r = anchored(&d, &key, &kept);
    assert!(!r.ok());
    assert!(
        r.problems
            .iter()
            .any(|p| p.what.contains("no signature by key") || p.what.contains("does not verify")),
        "{}",
        problems(&r)
    );
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn torn_tail_is_cut_recorded_and_the_log_verifies() {
    let d = tmp("torn");
    drop(fill(&d, 10));
    let mut data = fs::read(seg0(&d)).unwrap();
    let whole = data.len();
    // Half of a frame, as a writer killed mid-write leaves it.
    let mut f = Vec::new();
    frame::encode(br#"{"body":{},"index":11}"#, &mut f);
    data.extend_from_slice(&f[..f.len() / 2]);
    fs::write(seg0(&d), &data).unwrap();
    let l = Ledger::open(&d, Options::default()).unwrap();
    let rec = l.take_recoveries();
    assert_eq!(rec.len(), 1, "{rec:?}");
    assert_eq!(rec[0].event, "recovered_truncation");
    assert!(!rec[0].below_checkpoint);
    assert_eq!(rec[0].details["offset"], whole);
    let (e, _) = ledger::read::read_index(&d, 11).unwrap();
    assert_eq!(e.body["event"], "recovered_truncation");
    let r = check(&d);
    assert!(r.ok(), "{}", problems(&r));
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn cut_below_the_checkpoint_is_flagged_as_tampering() {
    let d = tmp("below");
    drop(fill(&d, 10));
    let fs_ = frames(&seg0(&d));
    let mut data = fs_[..8].concat();
    data.extend_from_slice(&fs_[8][..5]);
    fs::write(seg0(&d), data).unwrap();
    let l = Ledger::open(&d, Options::default()).unwrap();
    let rec = l.take_recoveries();
    assert!(rec.iter().any(|r| r.below_checkpoint), "{rec:?}");
    // And verify, holding the checkpoint, says records are gone.
    let r = check(&d);
    assert!(!r.ok());
    let _ = fs::remove_dir_all(&d);
}

fn start_body(
    verdict: &ledger::Receipt,
    approval: Option<&ledger::Receipt>,
    digest: &str,
) -> serde_json::Value {
    let mut b = json!({
        "digest": digest,
        "verdict_index": verdict.index,
        "verdict_leaf": ledger::hex(&verdict.leaf),
        "program": "/bin/bash",
    });
    if let Some(a) = approval {
        b["approval_index"] = json!(a.index);
        b["approval_leaf"] = json!(ledger::hex(&a.leaf));
    }
    b
}

#[test]
fn meaning_every_start_is_allowed_and_finished() {
    let d = tmp("meaning");
    let l = Ledger::open(&d, Options::default()).unwrap();
    let verdict = |decision: &str, req: &str| {
        l.append(
            NewRecord::new(
                Kind::Verdict,
                json!({"decision": decision, "digest": format!("d-{req}")}),
            )
            .request(Some(req)),
        )
        .unwrap()
    };
    let start = |req: &str, body: serde_json::Value| {
        l.append(NewRecord::new(Kind::ExecStart, body).request(Some(req)))
            .unwrap()
    };
    let finish = |req: &str, s: &ledger::Receipt| {
        l.append(
            NewRecord::new(
                Kind::ExecOutcome,
                json!({"start_index": s.index, "status": 0}),
            )
            .request(Some(req)),
        )
        .unwrap()
    };
    // Allowed, started, finished: fine.
    let v = verdict("allow", "a");
    let s = start("a", start_body(&v, None, "d-a"));
    finish("a", &s);
    // Asked, approved, started, finished: fine.
    let v = verdict("ask", "b");
    let a = l
        .append(
            NewRecord::new(
                Kind::Approval,
                json!({"decision": "approve", "digest": "d-b", "verdict_index": v.index,
                       "approver": "alice", "expires_at": "2999-01-01T00:00:00.000Z"}),
            )
            .request(Some("b")),
        )
        .unwrap();
    let s = start("b", start_body(&v, Some(&a), "d-b"));
    finish("b", &s);
    assert!(check(&d).ok(), "{}", problems(&check(&d)));
    // A start after a deny, one whose digest differs, one reusing the approval, one after an
    // expired approval, and one that never finishes: each is a problem at its index.
    let v = verdict("deny", "c");
    let bad1 = start("c", start_body(&v, None, "d-c"));
    let v = verdict("allow", "e");
    let bad2 = start("e", start_body(&v, None, "d-other"));
    let v2 = verdict("ask", "b");
    let bad3 = start("b", start_body(&v2, Some(&a), "d-b"));
    let v3 = verdict("ask", "f");
    let old = l
        .append(
            NewRecord::new(
                Kind::Approval,
                json!({"decision": "approve", "digest": "d-f", "verdict_index": v3.index,
                       "approver": "alice", "expires_at": "2001-01-01T00:00:00.000Z"}),
            )
            .request(Some("f")),
        )
        .unwrap();
    let bad4 = start("f", start_body(&v3, Some(&old), "d-f"));
    let r = check(&d);
    let at = |i: u64| {
        r.problems
            .iter()
            .filter(|p| p.index == Some(i))
            .map(|p| p.what.clone())
            .collect::<Vec<_>>()
            .join("; ")
    };
    assert!(
        at(bad1.index).contains("\"deny\" verdict"),
        "{}",
        problems(&r)
    );
    assert!(
        at(bad2.index).contains("does not match verdict"),
        "{}",
        problems(&r)
    );
    assert!(
        at(bad3.index).contains("does not approve"),
        "{}",
        problems(&r)
    );
    assert!(at(bad4.index).contains("expired"), "{}", problems(&r));
    assert!(at(bad4.index).contains("no outcome"), "{}", problems(&r));
    let _ = fs::remove_dir_all(&d);
}

/// Child side of the process tests: append forever (or N times), printing each
/// acknowledged index and leaf only after `append` returned.
#[test]
fn writer_child() {
    let Ok(dir) = std::env::var("LEDGER_TEST_WRITER") else {
        return;
    };
    let n: u64 = std::env::var("LEDGER_TEST_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(u64::MAX);
    let l = Ledger::open(Path::new(&dir), Options::default()).unwrap();
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for i in 0..n {
        let r = l.append(rec(i)).unwrap();
        // One write per acknowledgement, so a trace shows exactly when it happened.
        let line = format!("ACK {} {}\n", r.index, ledger::hex(&r.leaf));
        out.write_all(line.as_bytes()).unwrap();
        out.flush().unwrap();
    }
}

fn spawn_writer(dir: &Path, count: Option<u64>) -> std::process::Child {
    let mut c = Command::new(std::env::current_exe().unwrap());
    c.args(["writer_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("LEDGER_TEST_WRITER", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(n) = count {
        c.env("LEDGER_TEST_COUNT", n.to_string());
    }
    c.spawn().unwrap()
}

#[test]
fn kill_9_writers_loses_no_acknowledged_record() {
    use std::io::BufRead;
    let d = tmp("kill9");
    drop(Ledger::open(&d, Options::default()).unwrap());
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(u64, String)>::new()));
    for round in 0..12 {
        let mut kids: Vec<_> = (0..4).map(|_| spawn_writer(&d, None)).collect();
        let readers: Vec<_> = kids
            .iter_mut()
            .map(|k| {
                let out = k.stdout.take().unwrap();
                let acked = acked.clone();
                std::thread::spawn(move || {
                    for line in std::io::BufReader::new(out).lines() {
                        let Ok(line) = line else { break };
                        let mut p = line.split(' ');
                        if p.next() == Some("ACK") {
                            let i: u64 = p.next().unwrap().parse().unwrap();
                            let leaf = p.next().unwrap().to_string();
                            acked.lock().unwrap().push((i, leaf));
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(60 + 17 * (round % 5)));
        for k in &mut kids {
            k.kill().unwrap();
        }
        for k in &mut kids {
            k.wait().unwrap();
        }
        for r in readers {
            r.join().unwrap();
        }
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 100, "only {} acknowledged", acked.len());
    // Reopening repairs whatever the kills left, and every acknowledged record is there.
    let l = Ledger::open(&d, Options::default()).unwrap();
    drop(l);
    for (i, leaf) in &acked {
        let (_, got) = ledger::read::read_index(&d, *i).unwrap();
        assert_eq!(&ledger::hex(&got), leaf, "record {i}");
    }
    let r = check(&d);
    assert!(r.ok(), "{}", problems(&r));
    let _ = fs::remove_dir_all(&d);
}

/// The ordering that makes "acknowledged" mean durable: in a system-call trace of a
/// writer, each acknowledgement follows an `fdatasync` of the segment, which follows the
/// `pwrite` of the record.
#[test]
fn acknowledgement_follows_the_sync() {
    if Command::new("strace").arg("-V").output().is_err() {
        panic!("strace is needed for this test (CI installs it)");
    }
    let d = tmp("order");
    drop(Ledger::open(&d, Options::default()).unwrap());
    let trace = d.join("trace");
    let st = Command::new("strace")
        .args([
            "-f",
            "-qq",
            "-e",
            "trace=pwrite64,fdatasync,write",
            "-y",
            "-o",
        ])
        .arg(&trace)
        .arg(std::env::current_exe().unwrap())
        .args(["writer_child", "--exact", "--nocapture", "--test-threads=1"])
        .env("LEDGER_TEST_WRITER", &d)
        .env("LEDGER_TEST_COUNT", "5")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let t = fs::read_to_string(&trace).unwrap();
    let mut wrote = false;
    let mut synced = false;
    let mut acks = 0;
    for line in t.lines() {
        if line.contains("pwrite64(") && line.contains(".seg>") {
            wrote = true;
            synced = false;
        } else if line.contains("fdatasync(") && line.contains(".seg>") && wrote {
            synced = true;
        } else if line.contains("write(1") && line.contains("ACK ") {
            assert!(wrote && synced, "acknowledged before the sync:\n{t}");
            acks += 1;
            wrote = false;
            synced = false;
        }
    }
    assert_eq!(acks, 5, "{t}");
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn busy_lock_fails_closed_within_its_bound() {
    let d = tmp("busy");
    drop(Ledger::open(&d, Options::default()).unwrap());
    let holder = fs::OpenOptions::new()
        .write(true)
        .open(d.join("lock"))
        .unwrap();
    use std::os::fd::AsRawFd;
    assert_eq!(unsafe { libc_flock(holder.as_raw_fd(), 2) }, 0);
    let l = Ledger::open(
        &d,
        Options {
            lock_timeout: std::time::Duration::from_millis(300),
            ..Options::default()
        },
    );
    let t = std::time::Instant::now();
    let err = match l {
        Err(e) => e,
        Ok(l) => l.append(rec(1)).unwrap_err(),
    };
    assert!(matches!(err, ledger::Error::Busy(_)), "{err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(3));
    drop(holder);
    let l = Ledger::open(&d, Options::default()).unwrap();
    l.append(rec(2)).unwrap();
    let _ = fs::remove_dir_all(&d);
}

unsafe extern "C" {
    #[link_name = "flock"]
    fn libc_flock(fd: i32, op: i32) -> i32;
}

#[test]
fn pruning_keeps_the_tree_provable() {
    let d = tmp("prune");
    let opts = Options {
        segment_bytes: 4096,
        ..Options::default()
    };
    let l = Ledger::open(&d, opts).unwrap();
    for i in 0..200 {
        l.append(rec(i)).unwrap();
    }
    let kept = l.checkpoint_now().unwrap().unwrap();
    let first = l.prune_before(150).unwrap();
    assert!(first > 50 && first <= 150, "{first}");
    assert_eq!(ledger::store::list_segments(&d).unwrap()[0], first);
    for i in 200..220 {
        l.append(rec(i)).unwrap();
    }
    l.checkpoint_now().unwrap();
    let r = anchored(&d, &l.verifier_key(), &kept);
    assert!(r.ok(), "{}", problems(&r));
    assert_eq!(r.pruned, first);
    assert_eq!(r.records, 222);
    assert!(
        r.notes.iter().any(|n| n.contains("pruned")),
        "{:?}",
        r.notes
    );
    // Pruned bodies are gone; later ones read as before; the pruning is on record.
    assert!(ledger::read::read_index(&d, 3).is_err());
    let pr = ledger::read::entries(&d)
        .unwrap()
        .map(|x| x.unwrap().0)
        .find(|e| e.body["event"] == "pruned")
        .unwrap();
    assert_eq!(pr.body["details"]["before"], first);
    // The leaf hashes kept for pruned records are still vouched for by the signed roots.
    drop(l);
    let mut idx = fs::read(d.join("index")).unwrap();
    idx[40 * 7] ^= 1;
    fs::write(d.join("index"), idx).unwrap();
    let r = check(&d);
    assert!(!r.ok());
    assert!(
        r.problems.iter().any(|p| p.what.contains("pruned records")),
        "{}",
        problems(&r)
    );
    let _ = fs::remove_dir_all(&d);
}

// ---- Regressions from review -------------------------------------------------------

#[test]
fn deleted_segments_without_a_recorded_pruning_are_caught() {
    let d = tmp("wipe");
    let l = Ledger::open(
        &d,
        Options {
            segment_bytes: 4096,
            ..Options::default()
        },
    )
    .unwrap();
    for i in 0..200 {
        l.append(rec(i)).unwrap();
    }
    let key = l.verifier_key();
    let kept = l.checkpoint_now().unwrap().unwrap();
    drop(l);
    let segs = ledger::store::list_segments(&d).unwrap();
    for s in &segs[..segs.len() - 1] {
        fs::remove_file(d.join("segments").join(ledger::store::segment_name(*s))).unwrap();
    }
    let r = anchored(&d, &key, &kept);
    assert!(!r.ok());
    assert!(
        r.problems
            .iter()
            .any(|p| p.what.contains("no recorded pruning")),
        "{}",
        problems(&r)
    );
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn a_stale_head_from_before_a_rotation_does_not_overwrite_records() {
    let d = tmp("stalehead");
    let opts = Options {
        segment_bytes: 4096,
        ..Options::default()
    };
    let l = Ledger::open(&d, opts.clone()).unwrap();
    let mut snap = None;
    let mut acked = Vec::new();
    for i in 0..300u64 {
        let r = l.append(rec(i)).unwrap();
        let segs = ledger::store::list_segments(&d).unwrap();
        if snap.is_none() && segs.len() == 1 && fs::metadata(seg0(&d)).unwrap().len() >= 4096 {
            // The head as written when the first segment filled: what a power loss could
            // leave behind, since the head is never synced.
            snap = Some(fs::read(d.join("head")).unwrap());
        } else if snap.is_some() {
            acked.push(r);
            if acked.len() == 10 {
                break;
            }
        }
    }
    std::mem::forget(l);
    fs::write(d.join("head"), snap.unwrap()).unwrap();
    let l = Ledger::open(&d, opts).unwrap();
    l.append(NewRecord::new(
        Kind::Control,
        json!({"event": "after-reboot"}),
    ))
    .unwrap();
    drop(l);
    for a in &acked {
        assert_eq!(ledger::read::read_index(&d, a.index).unwrap().1, a.leaf);
    }
    let r = check(&d);
    assert!(r.ok(), "{}", problems(&r));
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn agent_chosen_ids_with_escapes_verify() {
    let d = tmp("escapes");
    let l = Ledger::open(&d, Options::default()).unwrap();
    for s in ["a\"b", "tab\there", "back\\slash", "\u{1}ctl"] {
        l.append(rec(1).session(Some(s)).request(Some(s))).unwrap();
    }
    drop(l);
    let r = check(&d);
    assert!(r.ok(), "{}", problems(&r));
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn after_a_cut_below_its_checkpoint_the_ledger_stops_signing() {
    let d = tmp("forked");
    drop(fill(&d, 40));
    let fs_ = frames(&seg0(&d));
    fs::write(seg0(&d), fs_[..30].concat()).unwrap();
    let l = Ledger::open(&d, Options::default()).unwrap();
    assert!(l.take_recoveries().iter().any(|r| r.below_checkpoint));
    assert!(d.join("FORKED").exists());
    // Appends go on (durable, recorded), but no checkpoint is signed over a forked history.
    l.append(rec(99)).unwrap();
    let err = l.checkpoint_now().unwrap_err();
    assert!(err.to_string().contains("FORKED"), "{err}");
    std::mem::forget(l);
    let sizes: Vec<u64> = ledger::store::checkpoint_history(&d)
        .unwrap()
        .iter()
        .map(|t| {
            ledger::note::SignedCheckpoint::parse(t)
                .unwrap()
                .checkpoint
                .size
        })
        .collect();
    assert_eq!(sizes.iter().max(), Some(&41), "{sizes:?}");
    let _ = fs::remove_dir_all(&d);
}

/// Threads of one process checkpointing while others append, beside a writer process:
/// every acknowledged record survives (flock alone does not exclude threads).
#[test]
fn checkpointing_threads_and_writer_processes_lose_nothing() {
    use std::io::BufRead;
    let d = tmp("ckthreads");
    let l = std::sync::Arc::new(Ledger::open(&d, Options::default()).unwrap());
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut kid = spawn_writer(&d, None);
    let out = kid.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        for line in std::io::BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let p: Vec<&str> = line.split(' ').collect();
            if p.first() == Some(&"ACK") {
                v.push((p[1].parse::<u64>().unwrap(), p[2].to_string()));
            }
        }
        v
    });
    let (l1, s1) = (l.clone(), stop.clone());
    let appender = std::thread::spawn(move || {
        let mut v = Vec::new();
        while !s1.load(std::sync::atomic::Ordering::Relaxed) {
            let r = l1.append(rec(7)).unwrap();
            v.push((r.index, ledger::hex(&r.leaf)));
        }
        v
    });
    let (l2, s2) = (l.clone(), stop.clone());
    let checkpointer = std::thread::spawn(move || {
        while !s2.load(std::sync::atomic::Ordering::Relaxed) {
            l2.checkpoint_now().unwrap();
        }
    });
    std::thread::sleep(std::time::Duration::from_millis(1500));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut acked = appender.join().unwrap();
    checkpointer.join().unwrap();
    kid.kill().unwrap();
    kid.wait().unwrap();
    acked.extend(reader.join().unwrap());
    drop(l);
    assert!(acked.len() > 50, "{}", acked.len());
    for (i, leaf) in &acked {
        let (_, got) = ledger::read::read_index(&d, *i).unwrap();
        assert_eq!(&ledger::hex(&got), leaf, "record {i}");
    }
    let r = check(&d);
    assert!(r.ok(), "{}", problems(&r));
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn unsynced_appends_are_covered_when_the_handle_closes() {
    let d = tmp("unsynced");
    let l = Ledger::open(&d, Options::default()).unwrap();
    l.append(rec(1)).unwrap();
    let r = l.append_many_unsynced(vec![rec(2), rec(3)]).unwrap();
    assert_eq!(r.iter().map(|x| x.index).collect::<Vec<_>>(), [2, 3]);
    // Ordered with synced appends around them.
    assert_eq!(l.append(rec(4)).unwrap().index, 4);
    l.append_many_unsynced(vec![rec(5)]).unwrap();
    drop(l);
    let r = check(&d);
    assert!(r.ok(), "{}", problems(&r));
    assert_eq!(r.checkpoint_size, Some(6));
    let _ = fs::remove_dir_all(&d);
}

#[test]
fn the_checkpoint_log_is_compacted_and_still_verifies() {
    let d = tmp("compact");
    let l = Ledger::open(&d, Options::default()).unwrap();
    let mut peak = 0;
    for i in 0..1200 {
        l.append(rec(i)).unwrap();
        l.checkpoint_now().unwrap();
        peak = peak.max(fs::metadata(d.join("checkpoints")).unwrap().len());
    }
    let kept = ledger::store::checkpoint_history(&d).unwrap();
    assert!(kept.len() < 1000, "{} checkpoints kept", kept.len());
    assert!(peak < 300 << 10, "{peak}");
    let key = l.verifier_key();
    let last = l.checkpoint_now().unwrap().unwrap();
    drop(l);
    let r = anchored(&d, &key, &last);
    assert!(r.ok(), "{}", problems(&r));
    assert_eq!(r.checkpoint_size, Some(1201));
    let _ = fs::remove_dir_all(&d);
}
