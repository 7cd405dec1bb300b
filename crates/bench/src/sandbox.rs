//! `airlock-bench-sandbox`: what the Linux sandbox costs, measured side by side in one
//! run. It prints figures and ratios with the targets beside them; it does not pass or
//! fail.
//!
//! ```text
//! cargo build --release -p airlock -p bench
//! target/release/airlock-bench-sandbox [--runs N] [--warmup N] [--airlock PATH]
//!                                      [--bwrap PATH] [--breakdown] [--shuffle]
//! ```
//!
//! The machine this runs on is shared and noisy, so the variants of each section are
//! interleaved round-robin (A, B, C, A, B, C, ...) after a few discarded warm-up rounds:
//! a burst of load then hits every variant alike. Wall time is reported as median, p90
//! and min; CPU time (user + system of the whole process tree, from RUSAGE_CHILDREN
//! deltas with the harness a child subreaper, plus the harness itself in-process) is
//! reported per run because it is the stable part of the cost.

use std::ffi::{CString, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

const USAGE: &str =
    "usage: airlock-bench-sandbox [--runs N] [--warmup N] [--airlock PATH] [--bwrap PATH]
                             [--breakdown] [--shuffle] [--populated]

  --runs N        measured runs per variant (default 200)
  --warmup N      discarded warm-up rounds per section (default 10)
  --airlock PATH  the airlock binary (default target/release/airlock, else next to this binary)
  --bwrap PATH    bubblewrap (default: bwrap on PATH)
  --breakdown     also time `airlock sandbox` with --no-cgroups, --workspace-mode overlay and
                  --grant-host example.com (egress proxy on)
  --populated     the workspace already holds every protected name (.git/hooks, .bashrc,
                  .vscode, ...), so airlock makes no placeholders
  --shuffle       whole-process runs in a fresh random order each round instead of
                  A, B, C, A, B, C (a variant's cost can depend on what ran just before
                  it, e.g. the kernel's RCU state after a cgroup move)";

/// The program every variant runs.
const TRUE: &str = "/bin/true";

/// Target: `airlock sandbox` at most this many times bwrap's wall time (median).
const TARGET_RATIO_BWRAP: f64 = 1.2;
/// Target: in-process `sandbox::run` at most this much slower than fork/exec (median).
const TARGET_OVERHEAD_MS: f64 = 1.5;

struct Args {
    runs: usize,
    warmup: usize,
    airlock: Option<PathBuf>,
    bwrap: Option<PathBuf>,
    breakdown: bool,
    shuffle: bool,
    populated: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        runs: 200,
        warmup: 10,
        airlock: None,
        bwrap: None,
        breakdown: false,
        shuffle: false,
        populated: false,
    };
    let mut it = std::env::args_os().skip(1);
    while let Some(flag) = it.next() {
        let flag = flag
            .into_string()
            .map_err(|f| format!("unknown option {}", f.to_string_lossy()))?;
        match flag.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            "--breakdown" => {
                a.breakdown = true;
                continue;
            }
            "--shuffle" => {
                a.shuffle = true;
                continue;
            }
            "--populated" => {
                a.populated = true;
                continue;
            }
            _ => {}
        }
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let count = |min: usize| -> Result<usize, String> {
            value
                .to_str()
                .and_then(|v| v.parse::<usize>().ok())
                .map(|n| n.max(min))
                .ok_or_else(|| format!("{flag}: not a number: {}", value.to_string_lossy()))
        };
        match flag.as_str() {
            "--runs" => a.runs = count(1)?,
            "--warmup" => a.warmup = count(0)?,
            "--airlock" => a.airlock = Some(PathBuf::from(&value)),
            "--bwrap" => a.bwrap = Some(PathBuf::from(&value)),
            _ => return Err(format!("unknown option {flag}\n\n{USAGE}")),
        }
    }
    Ok(a)
}

// ------------------------------------------------------------ statistics

/// Summary of one variant's samples (milliseconds).
struct Stats {
    median: f64,
    p90: f64,
    min: f64,
}

/// Percentile `q` (0..=1) of sorted samples, linearly interpolated between ranks.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn stats(samples: &[f64]) -> Stats {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    Stats {
        median: percentile(&s, 0.5),
        p90: percentile(&s, 0.9),
        min: s.first().copied().unwrap_or(f64::NAN),
    }
}

fn mean(samples: &[f64]) -> f64 {
    samples.iter().sum::<f64>() / samples.len().max(1) as f64
}

/// Wall-clock and CPU samples of one variant, in milliseconds.
#[derive(Default)]
struct Samples {
    /// Spawn to reap of the direct child.
    wall: Vec<f64>,
    /// Spawn until every descendant is reaped (whole-process runs only).
    gone: Vec<f64>,
    cpu: Vec<f64>,
}

impl Samples {
    fn with_capacity(n: usize) -> Samples {
        Samples {
            wall: Vec::with_capacity(n),
            gone: Vec::with_capacity(n),
            cpu: Vec::with_capacity(n),
        }
    }
}

const LABEL_WIDTH: usize = 44;

fn print_header(with_gone: bool) {
    let gone = if with_gone {
        format!("{:>10}", "all gone")
    } else {
        String::new()
    };
    println!(
        "  {:<LABEL_WIDTH$}{:>9}{:>10}{:>10}{gone}{:>10}",
        "", "median", "p90", "min", "CPU/run"
    );
}

fn ms(v: f64) -> String {
    format!("{v:>7.2} ms")
}

/// Prints one row (wall median, p90, min, [all-gone median,] mean CPU); returns the
/// wall statistics and the mean CPU per run.
fn print_row(label: &str, s: &Samples) -> (Stats, f64) {
    let w = stats(&s.wall);
    let cpu = mean(&s.cpu);
    let gone = if s.gone.is_empty() {
        String::new()
    } else {
        ms(stats(&s.gone).median)
    };
    println!(
        "  {label:<LABEL_WIDTH$}{}{}{}{gone}{}",
        ms(w.median),
        ms(w.p90),
        ms(w.min),
        ms(cpu)
    );
    (w, cpu)
}

// ------------------------------------------------------------ CPU accounting

fn timeval_ms(t: libc::timeval) -> f64 {
    t.tv_sec as f64 * 1e3 + t.tv_usec as f64 / 1e3
}

fn rusage_cpu_ms(ru: &libc::rusage) -> f64 {
    timeval_ms(ru.ru_utime) + timeval_ms(ru.ru_stime)
}

/// User + system CPU so far of `who` (RUSAGE_SELF or RUSAGE_CHILDREN), in ms.
fn cpu_of(who: libc::c_int) -> f64 {
    // SAFETY: rusage is plain data; getrusage only writes into it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a local.
    unsafe { libc::getrusage(who, &mut ru) };
    rusage_cpu_ms(&ru)
}

/// CPU of this process and of every child reaped so far, in ms.
fn cpu_self_and_children() -> f64 {
    cpu_of(libc::RUSAGE_SELF) + cpu_of(libc::RUSAGE_CHILDREN)
}

/// A small xorshift generator: enough to shuffle the run order.
struct Rng(u64);

impl Rng {
    fn seeded() -> Rng {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        Rng((nanos ^ u64::from(std::process::id())) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Fisher–Yates.
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

// ------------------------------------------------------------ processes

/// One whole-process variant: a command line run from the workspace directory.
struct Variant {
    label: String,
    program: PathBuf,
    args: Vec<OsString>,
}

impl Variant {
    fn command(&self, ws: &Path) -> Command {
        let mut c = Command::new(&self.program);
        c.args(&self.args).current_dir(ws).stdin(Stdio::null());
        c
    }

    /// One timed run. Returns the wall time from spawn to the reaping of the direct
    /// child, the wall time until every descendant is reaped too, and the CPU time
    /// (user + system) of all of them. This process is a child subreaper, so a
    /// descendant that outlives its parent (bwrap exits before its sandbox's pid 1 is
    /// gone) is reparented here, reaped, and counted in RUSAGE_CHILDREN.
    fn time_once(&self, ws: &Path) -> Result<(f64, f64, f64), String> {
        let mut cmd = self.command(ws);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let cpu0 = cpu_of(libc::RUSAGE_CHILDREN);
        let t = Instant::now();
        let child = cmd.spawn().map_err(|e| {
            format!(
                "{}: cannot start {}: {e}",
                self.label,
                self.program.display()
            )
        })?;
        let status = reap(child.id() as libc::pid_t)?;
        let wall = t.elapsed().as_secs_f64() * 1e3;
        reap_all()?;
        let gone = t.elapsed().as_secs_f64() * 1e3;
        let cpu = cpu_of(libc::RUSAGE_CHILDREN) - cpu0;
        if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
            return Err(format!(
                "{}: a timed run failed ({}); rerun to see its output",
                self.label,
                describe_status(status)
            ));
        }
        Ok((wall, gone, cpu))
    }

    /// Runs once with stderr captured, so that a broken setup is reported plainly
    /// instead of as a failed timing.
    fn preflight(&self, ws: &Path) -> Result<(), String> {
        let out = self
            .command(ws)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .map_err(|e| {
                format!(
                    "{}: cannot start {}: {e}",
                    self.label,
                    self.program.display()
                )
            })?;
        if out.status.success() {
            return Ok(());
        }
        Err(format!(
            "{}: `{}` failed ({}):\n{}",
            self.label,
            self.display_command(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim_end()
        ))
    }

    fn display_command(&self) -> String {
        std::iter::once(self.program.as_os_str())
            .chain(self.args.iter().map(|a| a.as_os_str()))
            .map(|s| s.to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Waits for our child `pid`; returns its wait status.
fn reap(pid: libc::pid_t) -> Result<libc::c_int, String> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: pid is a child of ours that nothing else waits for; valid pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            return Ok(status);
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("waitpid({pid}): {e}"));
        }
    }
}

/// Waits for every remaining child (orphans reparented to this subreaper) to exit.
fn reap_all() -> Result<(), String> {
    loop {
        let mut status: libc::c_int = 0;
        // SAFETY: valid pointer; any child of ours may be reaped here.
        let r = unsafe { libc::waitpid(-1, &mut status, 0) };
        if r > 0 {
            continue;
        }
        let e = std::io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ECHILD) => return Ok(()),
            Some(libc::EINTR) => continue,
            _ => return Err(format!("waitpid(-1): {e}")),
        }
    }
}

/// Makes orphaned descendants (bwrap's sandbox init, once bwrap has exited) children
/// of this process, so that they are waited for and their CPU time is counted.
fn become_subreaper() {
    // SAFETY: prctl with integer arguments; affects this process only.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

fn describe_status(status: libc::c_int) -> String {
    if libc::WIFEXITED(status) {
        format!("exit status {}", libc::WEXITSTATUS(status))
    } else if libc::WIFSIGNALED(status) {
        format!("killed by signal {}", libc::WTERMSIG(status))
    } else {
        format!("wait status {status:#x}")
    }
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn find_airlock(given: Option<&Path>) -> Result<PathBuf, String> {
    const HINT: &str = "build it with `cargo build --release -p airlock` (from the workspace root), or pass --airlock PATH";
    if let Some(p) = given {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(format!(
                "airlock binary not found at {}; {HINT}",
                p.display()
            ))
        };
    }
    let default = PathBuf::from("target/release/airlock");
    if default.is_file() {
        return Ok(default);
    }
    // Next to this binary: the same target directory.
    if let Some(p) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("airlock")))
        .filter(|p| p.is_file())
    {
        return Ok(p);
    }
    Err(format!(
        "airlock binary not found at {} (nor next to this benchmark); {HINT}",
        default.display()
    ))
}

/// First line of `program --version`, if it runs.
fn version_of(program: &Path) -> Option<String> {
    let out = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout);
    s.lines().next().map(|l| l.trim().to_string())
}

/// A private scratch directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(prefix: &str) -> Result<TempDir, String> {
        let base = std::env::temp_dir();
        let template = base.join(format!("{prefix}-XXXXXX"));
        let template = CString::new(template.as_os_str().as_bytes())
            .map_err(|_| "temporary directory path contains NUL".to_string())?;
        let mut buf = template.into_bytes_with_nul();
        // SAFETY: buf is a writable NUL-terminated template ending in XXXXXX.
        let p = unsafe { libc::mkdtemp(buf.as_mut_ptr().cast()) };
        if p.is_null() {
            return Err(format!(
                "mkdtemp in {}: {}",
                base.display(),
                std::io::Error::last_os_error()
            ));
        }
        buf.pop(); // the NUL
        let dir = PathBuf::from(std::ffi::OsStr::from_bytes(&buf));
        std::fs::canonicalize(&dir)
            .map(TempDir)
            .map_err(|e| format!("{}: {e}", dir.display()))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ------------------------------------------------------------ host description

fn describe_host() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load = std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "?".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    // SAFETY: plain getter.
    let uid = unsafe { libc::geteuid() };
    let who = if uid == 0 {
        "root".to_string()
    } else {
        format!("uid {uid}")
    };
    format!("{cpus} CPUs, load {load}, kernel {kernel}, running as {who}")
}

/// Load average right now (one minute), for the before/after line.
fn load1() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

// ------------------------------------------------------------ 1. whole process

struct WholeResult {
    label: String,
    wall: Stats,
    cpu: f64,
}

fn bench_whole(
    args: &Args,
    airlock: &Path,
    bwrap: Option<&Path>,
    ws: &Path,
) -> Result<Vec<WholeResult>, String> {
    let ws_os = ws.as_os_str().to_os_string();
    let os = |s: &str| OsString::from(s);
    let airlock_args = |extra: &[&str]| -> Vec<OsString> {
        let mut v = vec![
            os("sandbox"),
            os("--no-toolchains"),
            os("--workspace"),
            ws_os.clone(),
            os("--cwd"),
            ws_os.clone(),
        ];
        v.extend(extra.iter().map(|s| os(s)));
        v.push(os("--"));
        v.push(os(TRUE));
        v
    };

    let mut variants = vec![Variant {
        label: "bare /bin/true".into(),
        program: PathBuf::from(TRUE),
        args: Vec::new(),
    }];
    if let Some(bwrap) = bwrap {
        variants.push(Variant {
            label: "bwrap (comparable profile)".into(),
            program: bwrap.to_path_buf(),
            args: bwrap_args(ws),
        });
    }
    variants.push(Variant {
        label: "airlock sandbox".into(),
        program: airlock.to_path_buf(),
        args: airlock_args(&[]),
    });
    if args.breakdown {
        variants.push(Variant {
            label: "airlock sandbox --no-cgroups".into(),
            program: airlock.to_path_buf(),
            args: airlock_args(&["--no-cgroups"]),
        });
        variants.push(Variant {
            label: "airlock sandbox --workspace-mode overlay".into(),
            program: airlock.to_path_buf(),
            args: airlock_args(&["--workspace-mode", "overlay"]),
        });
        variants.push(Variant {
            label: "airlock sandbox --grant-host example.com".into(),
            program: airlock.to_path_buf(),
            args: airlock_args(&["--grant-host", "example.com"]),
        });
    }

    for v in &variants {
        v.preflight(ws).map_err(|e| {
            if v.program == airlock {
                format!("{e}\n(if the binary is stale, rebuild: cargo build --release -p airlock)")
            } else {
                e
            }
        })?;
    }

    let mut samples: Vec<Samples> = variants
        .iter()
        .map(|_| Samples::with_capacity(args.runs))
        .collect();
    let mut order: Vec<usize> = (0..variants.len()).collect();
    let mut rng = Rng::seeded();
    for round in 0..args.warmup + args.runs {
        if args.shuffle {
            rng.shuffle(&mut order);
        }
        for &i in &order {
            let (v, s) = (&variants[i], &mut samples[i]);
            let (wall, gone, cpu) = v.time_once(ws)?;
            if round >= args.warmup {
                s.wall.push(wall);
                s.gone.push(gone);
                s.cpu.push(cpu);
            }
        }
    }

    println!(
        "\n[1] whole process, {TRUE}, {} runs each, interleaved{} ({} warm-up rounds)",
        args.runs,
        if args.shuffle { " in random order" } else { "" },
        args.warmup
    );
    print_header(true);
    let mut results = Vec::new();
    for (v, s) in variants.iter().zip(&samples) {
        let (wall, cpu) = print_row(&v.label, s);
        results.push(WholeResult {
            label: v.label.clone(),
            wall,
            cpu,
        });
    }
    println!(
        "  (all gone: until every descendant is reaped; CPU/run: mean user+sys of the child\n   and all its descendants, RUSAGE_CHILDREN deltas with this process a subreaper)"
    );
    Ok(results)
}

/// bwrap with a profile comparable to `airlock sandbox --no-toolchains`: every
/// namespace, an unprivileged uid, no capabilities, /usr and /etc read-only, private
/// /proc, /dev and /tmp, the workspace read-write. Top-level entries that are symlinks
/// on the host (a merged /usr: /bin -> usr/bin) are recreated as the same symlinks;
/// real directories among them are bound read-only.
fn bwrap_args(ws: &Path) -> Vec<OsString> {
    let mut v: Vec<OsString> = [
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    for top in ["/bin", "/lib", "/lib64", "/sbin"] {
        let p = Path::new(top);
        match std::fs::read_link(p) {
            Ok(target) => {
                v.push("--symlink".into());
                v.push(target.into_os_string());
                v.push(top.into());
            }
            Err(_) if p.is_dir() => {
                v.push("--ro-bind".into());
                v.push(top.into());
                v.push(top.into());
            }
            Err(_) => {}
        }
    }
    let ws = ws.as_os_str();
    for a in [
        "--ro-bind",
        "/etc",
        "/etc",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--bind",
    ] {
        v.push(a.into());
    }
    v.push(ws.into());
    v.push(ws.into());
    v.push("--chdir".into());
    v.push(ws.into());
    for a in [
        "--unshare-user",
        "--uid",
        "65534",
        "--gid",
        "65534",
        "--cap-drop",
        "ALL",
        TRUE,
    ] {
        v.push(a.into());
    }
    v
}

// ------------------------------------------------------------ 2. in-process

struct InProcessResult {
    overhead_ms: f64,
}

fn bench_in_process(args: &Args, ws: &Path) -> Result<InProcessResult, String> {
    let profile = sandbox::Profile::new(ws, ws);
    let no_args: &[String] = &[];

    // A first run both checks the setup and shows which layers are in force.
    let first = sandbox::run(&profile, TRUE, no_args)
        .map_err(|e| format!("sandbox::run({TRUE}) failed: {e}"))?;
    if first.status != 0 {
        return Err(format!(
            "sandbox::run({TRUE}) exited {} (stderr: {})",
            first.status,
            String::from_utf8_lossy(&first.stderr).trim_end()
        ));
    }

    let mut fork = Samples::with_capacity(args.runs);
    let mut lib = Samples::with_capacity(args.runs);
    let mut reported = Vec::with_capacity(args.runs);
    for round in 0..args.warmup + args.runs {
        let measured = round >= args.warmup;

        let c0 = cpu_self_and_children();
        let t = Instant::now();
        let st = Command::new(TRUE)
            .status()
            .map_err(|e| format!("{TRUE}: {e}"))?;
        let wall = t.elapsed().as_secs_f64() * 1e3;
        let cpu = cpu_self_and_children() - c0;
        if !st.success() {
            return Err(format!("{TRUE} (fork/exec) failed: {st}"));
        }
        if measured {
            fork.wall.push(wall);
            fork.cpu.push(cpu);
        }

        let c0 = cpu_self_and_children();
        let t = Instant::now();
        let o = sandbox::run(&profile, TRUE, no_args)
            .map_err(|e| format!("sandbox::run({TRUE}) failed: {e}"))?;
        let wall = t.elapsed().as_secs_f64() * 1e3;
        let cpu = cpu_self_and_children() - c0;
        if o.status != 0 {
            return Err(format!("sandbox::run({TRUE}) exited {}", o.status));
        }
        if measured {
            lib.wall.push(wall);
            lib.cpu.push(cpu);
            reported.push(o.duration_ms);
        }
    }

    println!(
        "\n[2] in-process spawn→reap, {TRUE}, {} runs each, interleaved ({} warm-up rounds)",
        args.runs, args.warmup
    );
    print_header(false);
    let (f, _) = print_row("Command::status (fork/exec)", &fork);
    let (l, _) = print_row("sandbox::run (Profile::new defaults)", &lib);
    let r = stats(&reported);
    println!(
        "  {:<LABEL_WIDTH$}{}{}{}",
        "  its own Outcome.duration_ms",
        ms(r.median),
        ms(r.p90),
        ms(r.min)
    );
    println!("  (CPU/run: user+sys of this process and its reaped children; mean)");
    let overhead = l.median - f.median;
    println!(
        "  overhead over fork/exec (difference of medians)  {overhead:.2} ms   (target ≤ {TARGET_OVERHEAD_MS} ms){}",
        verdict(overhead <= TARGET_OVERHEAD_MS)
    );
    let layers = &first.layers;
    println!(
        "  layers: namespaces [{}], uid {} (host {}), id-mapped workspace {}, Landlock ABI {}{}{}, seccomp {} insns, {} rlimits, cgroups [{}]",
        layers.namespaces.join(" "),
        layers.uid,
        layers.host_uid,
        if layers.idmapped_workspace {
            "yes"
        } else {
            "no"
        },
        layers.landlock_abi,
        if layers.landlock_network { " +net" } else { "" },
        if layers.landlock_scopes {
            " +scopes"
        } else {
            ""
        },
        layers.seccomp_instructions,
        layers.rlimits.len(),
        layers.cgroups.join("; ")
    );
    Ok(InProcessResult {
        overhead_ms: overhead,
    })
}

fn verdict(ok: bool) -> &'static str {
    if ok { "  ok" } else { "  OVER" }
}

// ------------------------------------------------------------ main

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("airlock-bench-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<(), String> {
    let args = parse_args()?;
    // Absolute paths: the variants run with the workspace as their directory.
    let absolute = |p: PathBuf| std::fs::canonicalize(&p).unwrap_or(p);
    let airlock = absolute(find_airlock(args.airlock.as_deref())?);
    let bwrap = match &args.bwrap {
        Some(p) if p.is_file() => Some(absolute(p.clone())),
        Some(p) => return Err(format!("bwrap not found at {}", p.display())),
        None => find_on_path("bwrap").map(absolute),
    };
    let ws = TempDir::new("airlock-bench-sandbox")?;
    if args.populated {
        // Every protected name already present: airlock mounts them read-only and makes
        // no placeholders (in an empty workspace it creates and removes ~16 entries).
        for d in [
            ".git/hooks",
            ".git/modules",
            ".git/worktrees",
            ".vscode",
            ".idea",
            ".claude",
            ".codex",
            ".cursor",
        ] {
            std::fs::create_dir_all(ws.0.join(d)).map_err(|e| format!("{d}: {e}"))?;
        }
        for f in sandbox::overlay::PROTECTED
            .iter()
            .chain(&[".git/config.worktree"])
        {
            let p = ws.0.join(f);
            if !p.exists() {
                std::fs::write(&p, "").map_err(|e| format!("{f}: {e}"))?;
            }
        }
    }
    become_subreaper();

    println!("airlock-bench-sandbox: {}", describe_host());
    println!("  airlock  {}", airlock.display());
    match &bwrap {
        Some(b) => println!(
            "  bwrap    {} ({})",
            b.display(),
            version_of(b).unwrap_or_else(|| "version unknown".into())
        ),
        None => println!(
            "  bwrap    NOT FOUND: the comparison with bubblewrap is skipped; install it \
             (Debian/Ubuntu: apt-get install bubblewrap) or pass --bwrap PATH"
        ),
    }
    println!(
        "  workspace {}{}",
        ws.0.display(),
        if args.populated {
            " (protected names present: no placeholders)"
        } else {
            " (empty: placeholders made and removed)"
        }
    );

    let whole = bench_whole(&args, &airlock, bwrap.as_deref(), &ws.0)?;
    let find = |label: &str| whole.iter().find(|r| r.label == label);
    let bare = find("bare /bin/true");
    let bw = find("bwrap (comparable profile)");
    let al = find("airlock sandbox");
    let mut ratio_bwrap = None;
    if let (Some(al), Some(bw)) = (al, bw) {
        let r = al.wall.median / bw.wall.median;
        ratio_bwrap = Some(r);
        println!(
            "  ratio airlock/bwrap   median {r:.2}  p90 {:.2}  CPU {:.2}   (target ≤ {TARGET_RATIO_BWRAP} on the median){}",
            al.wall.p90 / bw.wall.p90,
            al.cpu / bw.cpu,
            verdict(r <= TARGET_RATIO_BWRAP)
        );
        println!(
            "  airlock − bwrap       median {:+.2} ms  CPU {:+.2} ms",
            al.wall.median - bw.wall.median,
            al.cpu - bw.cpu
        );
    }
    if let (Some(al), Some(bare)) = (al, bare) {
        println!(
            "  ratio airlock/bare    median {:.1}  CPU {:.1}   (airlock − bare: {:+.2} ms)",
            al.wall.median / bare.wall.median,
            al.cpu / bare.cpu,
            al.wall.median - bare.wall.median
        );
    }
    if args.breakdown
        && let Some(al) = al
    {
        for r in whole
            .iter()
            .filter(|r| r.label.starts_with("airlock sandbox --"))
        {
            let what = r.label.trim_start_matches("airlock sandbox ");
            println!(
                "  cost of {what:<32} median {:+.2} ms  CPU {:+.2} ms over plain airlock",
                r.wall.median - al.wall.median,
                r.cpu - al.cpu
            );
        }
    }

    let inproc = bench_in_process(&args, &ws.0)?;

    println!("\nsummary                                            measured   target");
    if let Some(r) = ratio_bwrap {
        println!(
            "  whole process, airlock/bwrap (median)            {r:>7.2}×   ≤ {TARGET_RATIO_BWRAP}×{}",
            verdict(r <= TARGET_RATIO_BWRAP)
        );
    } else {
        println!(
            "  whole process, airlock/bwrap (median)            (no bwrap)  ≤ {TARGET_RATIO_BWRAP}×"
        );
    }
    println!(
        "  in-process overhead over fork/exec (median)      {:>6.2} ms  ≤ {TARGET_OVERHEAD_MS} ms{}",
        inproc.overhead_ms,
        verdict(inproc.overhead_ms <= TARGET_OVERHEAD_MS)
    );
    println!("  (load average, 1 min, at the end: {})", load1());
    Ok(())
}
