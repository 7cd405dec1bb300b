//! `airlock-bench-ledger`: what recording costs, with baselines measured in the same run.
//! It prints figures with the targets beside them; it does not pass or fail.
//!
//! ```text
//! cargo build --release -p bench
//! target/release/airlock-bench-ledger [--dir DIR] [--big N] [--appends N]
//! ```
//!
//! Sections:
//! 1. single durable append: median/p90 latency of `Ledger::append` from one thread,
//!    beside the baseline `pwrite` + `fdatasync` of the same bytes;
//! 2. concurrent durable appends: records/s with T threads in one process, and with P
//!    processes of T threads each (the shape of many hook processes plus a server);
//! 3. verify: records/s over a ledger of `--big` records, beside the baseline of
//!    reading the segments and SHA-256-hashing every record;
//! 4. open: median time to open the big ledger beside a 1,000-record one;
//! 5. memory: peak RSS of a process verifying 1/10 of the big ledger, and all of it.

use std::fs;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::Arc;
use std::time::Instant;

use ledger::{Kind, Ledger, NewRecord, Options};
use serde_json::json;

const TARGET_CONCURRENT_RPS: f64 = 20_000.0;
const TARGET_APPEND_MEDIAN_MS: f64 = 1.0;
const TARGET_VERIFY_RPS: f64 = 200_000.0;

fn record(i: u64) -> NewRecord {
    // About the size of a real verdict record.
    NewRecord::new(
        Kind::Verdict,
        json!({
            "decision": if i.is_multiple_of(3) { "deny" } else { "allow" },
            "digest": format!("{:064x}", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)),
            "policy_version": "default-2026.11",
            "reasons": [{"verdict": "allow", "rule": "exec.read-only", "op": 0,
                         "message": "Reading files inside the workspace."}],
            "operations": [{"op": "exec", "program": "ls", "argv": ["ls", "-la"], "kind": "system"}],
            "categories": ["exec"],
        }),
    )
    .request(Some(&format!("r-{i:016x}")))
    .session(Some("s-bench"))
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn fresh(dir: &Path, name: &str) -> PathBuf {
    let d = dir.join(name);
    let _ = fs::remove_dir_all(&d);
    d
}

fn single(dir: &Path, n: usize) {
    let d = fresh(dir, "single");
    let l = Ledger::open(&d, Options::default()).expect("open");
    // Baseline: one pwrite + fdatasync of a record-sized buffer per record.
    let f = fs::OpenOptions::new()
        .create(true)
        .read(true)
        .write(true)
        .truncate(true)
        .open(dir.join("baseline.bin"))
        .expect("baseline file");
    let buf = vec![b'x'; 560];
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for i in 0..n {
        // Interleaved, so load bursts hit both alike.
        let t = Instant::now();
        l.append(record(i as u64)).expect("append");
        ours.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        f.write_all_at(&buf, (i * buf.len()) as u64).expect("write");
        f.sync_data().expect("sync");
        base.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (om, op) = (percentile(&mut ours, 0.5), percentile(&mut ours, 0.9));
    let (bm, bp) = (percentile(&mut base, 0.5), percentile(&mut base, 0.9));
    println!("single durable append ({n} appends, interleaved with the baseline)");
    println!(
        "  airlock append     median {om:.3} ms  p90 {op:.3} ms   (target median <= {TARGET_APPEND_MEDIAN_MS} ms)"
    );
    println!("  pwrite+fdatasync   median {bm:.3} ms  p90 {bp:.3} ms");
    println!("  ratio (median)     {:.2}x the bare sync", om / bm);
    drop(l);
    let _ = fs::remove_dir_all(&d);
}

fn threads(d: &Path, threads: usize, per: usize) -> f64 {
    let l = Arc::new(Ledger::open(d, Options::default()).expect("open"));
    let t = Instant::now();
    let hs: Vec<_> = (0..threads)
        .map(|k| {
            let l = l.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    l.append(record((k * per + i) as u64)).expect("append");
                }
            })
        })
        .collect();
    for h in hs {
        h.join().expect("thread");
    }
    (threads * per) as f64 / t.elapsed().as_secs_f64()
}

fn concurrent(dir: &Path, exe: &Path) {
    println!("concurrent durable appends (each append returns only when synced)");
    for (t, per) in [(1usize, 2000usize), (16, 1000), (64, 500), (128, 400)] {
        let d = fresh(dir, "threads");
        let rps = threads(&d, t, per);
        println!(
            "  1 process x {t:>3} threads   {rps:>9.0} records/s{}",
            if t >= 16 {
                format!("   (target >= {TARGET_CONCURRENT_RPS:.0})")
            } else {
                "   (one writer: one sync per record)".into()
            }
        );
        let _ = fs::remove_dir_all(&d);
    }
    for (p, t, per) in [(4usize, 16usize, 500usize), (8, 16, 300)] {
        let d = fresh(dir, "procs");
        drop(Ledger::open(&d, Options::default()).expect("open"));
        let start = Instant::now();
        let kids: Vec<_> = (0..p)
            .map(|_| {
                Command::new(exe)
                    .args([
                        "--child-append",
                        &d.to_string_lossy(),
                        &t.to_string(),
                        &per.to_string(),
                    ])
                    .spawn()
                    .expect("spawn")
            })
            .collect();
        for mut k in kids {
            assert!(k.wait().expect("wait").success());
        }
        let rps = (p * t * per) as f64 / start.elapsed().as_secs_f64();
        println!(
            "  {p} processes x {t} threads  {rps:>9.0} records/s   (target >= {TARGET_CONCURRENT_RPS:.0}; includes process start)"
        );
        let r = ledger::verify::verify(&d, &Default::default()).expect("verify");
        assert!(r.ok(), "{:?}", r.problems);
        let _ = fs::remove_dir_all(&d);
    }
}

/// Builds a ledger of `n` records quickly (large batches: one sync per batch).
fn build(d: &Path, n: u64) {
    if let Ok(r) = ledger::read::indexed_size(d)
        && r >= n
    {
        return;
    }
    let _ = fs::remove_dir_all(d);
    let l = Ledger::open(d, Options::default()).expect("open");
    let mut i = 1;
    while i < n {
        let k = (n - i).min(20_000);
        l.append_many((i..i + k).map(record).collect())
            .expect("append");
        i += k;
    }
}

fn verify_speed(dir: &Path, big: u64) {
    let d = dir.join(format!("big-{big}"));
    let t = Instant::now();
    build(&d, big);
    println!(
        "verify (ledger of {big} records, built in {:.1} s)",
        t.elapsed().as_secs_f64()
    );
    let bytes: u64 = fs::read_dir(d.join("segments"))
        .expect("segments")
        .map(|e| e.expect("entry").metadata().expect("meta").len())
        .sum();
    let (mut ours, mut base) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let t = Instant::now();
        let r = ledger::verify::verify(&d, &Default::default()).expect("verify");
        assert!(r.ok(), "{:?}", r.problems);
        ours.push(r.records as f64 / t.elapsed().as_secs_f64());
        // Baseline: read every frame and hash it, nothing else.
        let t = Instant::now();
        let mut n = 0u64;
        for item in ledger::read::Frames::open(&d).expect("frames") {
            if let ledger::read::Item::Record { payload, .. } = item.expect("frame") {
                std::hint::black_box(ledger::merkle::leaf_hash(&payload));
                n += 1;
            }
        }
        base.push(n as f64 / t.elapsed().as_secs_f64());
    }
    let o = percentile(&mut ours, 0.5);
    let b = percentile(&mut base, 0.5);
    println!(
        "  airlock verify      {o:>9.0} records/s ({:.0} MB/s)   (target >= {TARGET_VERIFY_RPS:.0})",
        o * bytes as f64 / big as f64 / 1e6
    );
    println!(
        "  read + SHA-256 only {b:>9.0} records/s   ratio {:.2}x the baseline's time",
        b / o
    );
}

fn open_cost(dir: &Path, big: u64) {
    let small = dir.join("small-1000");
    build(&small, 1000);
    let large = dir.join(format!("big-{big}"));
    build(&large, big);
    let (mut s, mut l) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        for (d, v) in [(&small, &mut s), (&large, &mut l)] {
            let t = Instant::now();
            let led = Ledger::open(d, Options::default()).expect("open");
            v.push(t.elapsed().as_secs_f64() * 1e6);
            drop(led);
        }
    }
    let (sm, lm) = (percentile(&mut s, 0.5), percentile(&mut l, 0.5));
    println!("open (median of 50, interleaved)");
    println!("  1,000 records       {sm:>8.0} us");
    println!("  {big} records   {lm:>8.0} us   ratio {:.2}x", lm / sm);
}

fn child_rss(exe: &Path, d: &Path, limit: u64) -> (u64, f64) {
    let t = Instant::now();
    let st = Command::new(exe)
        .args(["--child-verify", &d.to_string_lossy(), &limit.to_string()])
        .output()
        .expect("child");
    let secs = t.elapsed().as_secs_f64();
    let out = String::from_utf8_lossy(&st.stdout);
    (out.trim().parse().unwrap_or(0), secs)
}

fn memory(dir: &Path, exe: &Path, big: u64) {
    let d = dir.join(format!("big-{big}"));
    build(&d, big);
    // A copy holding the first tenth: the same records, a tenth of the log.
    let tenth = dir.join("tenth");
    let _ = fs::remove_dir_all(&tenth);
    build(&tenth, big / 10);
    let (small, ts) = child_rss(exe, &tenth, 0);
    let (large, tl) = child_rss(exe, &d, 0);
    println!("memory while verifying (peak RSS of the verifying process)");
    println!("  {} records   {:>7} KiB  ({ts:.1} s)", big / 10, small);
    println!(
        "  {big} records   {:>7} KiB  ({tl:.1} s)   ratio {:.2}x for 10x the records",
        large,
        large as f64 / small.max(1) as f64
    );
    let _ = fs::remove_dir_all(&tenth);
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--child-append") {
        let d = PathBuf::from(&args[2]);
        let t: usize = args[3].parse().expect("threads");
        let per: usize = args[4].parse().expect("per");
        threads(&d, t, per);
        return ExitCode::SUCCESS;
    }
    if args.get(1).map(String::as_str) == Some("--child-verify") {
        let d = PathBuf::from(&args[2]);
        let r = ledger::verify::verify(&d, &Default::default()).expect("verify");
        assert!(r.ok());
        // VmHWM is this process image's own peak (ru_maxrss would carry the parent's
        // peak across fork and exec).
        let status = fs::read_to_string("/proc/self/status").expect("status");
        let hwm = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        println!("{hwm}");
        return ExitCode::SUCCESS;
    }
    let mut dir = std::env::temp_dir().join("airlock-bench-ledger");
    let mut big = 1_000_000u64;
    let mut appends = 2000usize;
    let mut it = args.iter().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--dir" => dir = PathBuf::from(it.next().expect("--dir DIR")),
            "--big" => big = it.next().and_then(|s| s.parse().ok()).expect("--big N"),
            "--appends" => appends = it.next().and_then(|s| s.parse().ok()).expect("--appends N"),
            _ => {
                eprintln!("usage: airlock-bench-ledger [--dir DIR] [--big N] [--appends N]");
                return ExitCode::from(2);
            }
        }
    }
    fs::create_dir_all(&dir).expect("bench dir");
    let exe = std::env::current_exe().expect("exe");
    println!(
        "airlock-bench-ledger in {} ({} CPUs)",
        dir.display(),
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    single(&dir, appends);
    concurrent(&dir, &exe);
    verify_speed(&dir, big);
    open_cost(&dir, big);
    memory(&dir, &exe, big);
    ExitCode::SUCCESS
}
