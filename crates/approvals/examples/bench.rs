//! Cost of the store's durable operations, each one `BEGIN IMMEDIATE` transaction
//! committed with `synchronous = FULL` (an fsync of the WAL per call).
//!
//! ```sh
//! cargo run --release -p approvals --example bench -- [DIR] [N]
//! ```
//!
//! DIR (default: the system temporary directory) must be on the disk you want to
//! measure; a tmpfs makes the fsync free. N defaults to 1000.

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use approvals::{Decision, Identity, NewApproval, Role, Store, UnixMs};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let n: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1000);
    let dir = base.join(format!("approvals-bench-{}", std::process::id()));
    std::fs::create_dir(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    let result = run(&dir, n);
    std::fs::remove_dir_all(&dir)?;
    result
}

fn run(dir: &std::path::Path, n: usize) -> Result<(), Box<dyn std::error::Error>> {
    let mut store = Store::open(dir.join("approvals.db"))?;
    let agent = Identity::new("agent-1", Role::Agent);
    let alice = Identity::new("alice", Role::Approver);
    let digest = format!("sha256:{}", "5a".repeat(32));
    let mut new = NewApproval::new("req", &digest, agent, "bench");
    new.session = Some("s1".into());

    let (mut request, mut decide, mut consume) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let now = UnixMs::now();
        let t = Instant::now();
        let a = store.request(&new, now)?;
        request.push(t.elapsed());
        let t = Instant::now();
        store.decide(&a.id, &alice, Decision::Approve, None, now)?;
        decide.push(t.elapsed());
        let t = Instant::now();
        store.consume(&a.id, &digest, Some("s1"), now)?;
        consume.push(t.elapsed());
    }
    println!(
        "{n} ops each, synchronous=FULL, WAL, file in {}",
        dir.display()
    );
    for (name, v) in [
        ("request", request),
        ("decide", decide),
        ("consume", consume),
    ] {
        report(name, v);
    }
    Ok(())
}

fn report(name: &str, mut v: Vec<Duration>) {
    v.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let pct = |p: f64| us(v[((v.len() - 1) as f64 * p).round() as usize]);
    let mean = v.iter().map(|d| us(*d)).sum::<f64>() / v.len() as f64;
    println!(
        "{name:>8}: median {:>8.1} µs   p90 {:>8.1} µs   p99 {:>8.1} µs   mean {:>8.1} µs",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        mean
    );
}
