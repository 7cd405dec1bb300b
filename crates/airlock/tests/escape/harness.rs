//! Shared machinery of the escape suite: the two identities airlock runs as, scratch
//! directories, running `airlock sandbox --json`, running the same probe on the host (the
//! positive controls), and checks for processes left behind.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{PermissionsExt, lchown};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_airlock");

/// The unprivileged account airlock also runs as (created when absent).
pub const USER: &str = "airlock-escape";

/// The uid (and gid) code runs as inside the sandbox, and the host uid it maps to when
/// airlock itself runs as root.
pub const NOBODY: u32 = 65534;

/// Reserved exit statuses of `airlock sandbox`.
pub const EXIT_BAD_INPUT: i32 = 122;
pub const EXIT_TIMEOUT: i32 = 124;

const HOST_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Who runs airlock.
#[derive(Clone, Copy, Debug)]
pub struct Ident {
    pub name: &'static str,
    /// The caller's uid and gid; `None` is root (the test process itself).
    pub caller: Option<(u32, u32)>,
    /// The host uid and gid the sandbox's uid 65534 maps to.
    pub host: (u32, u32),
}

impl Ident {
    /// The uid and gid that own the caller's files (the workspace, HOME, state).
    pub fn owner(&self) -> (u32, u32) {
        self.caller.unwrap_or((0, 0))
    }
}

unsafe extern "C" {
    fn geteuid() -> u32;
    fn dup2(oldfd: i32, newfd: i32) -> i32;
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
}

const F_SETFD: i32 = 2;

/// Both identities: airlock as root (the sandbox is host uid 65534 and the workspace an
/// id-mapped mount) and as an unprivileged user (the sandbox maps onto that user).
pub fn identities() -> [Ident; 2] {
    // SAFETY: a plain getter.
    let euid = unsafe { geteuid() };
    assert_eq!(
        euid, 0,
        "the escape suite runs as root (it plants files in /root, creates the {USER} account and runs airlock as both root and {USER})"
    );
    let (u, g) = *test_user();
    [
        Ident {
            name: "root",
            caller: None,
            host: (NOBODY, NOBODY),
        },
        Ident {
            name: USER,
            caller: Some((u, g)),
            host: (u, g),
        },
    ]
}

fn id_of(flag: &str) -> Option<u32> {
    let o = Command::new("id").args([flag, USER]).output().ok()?;
    if !o.status.success() {
        return None;
    }
    String::from_utf8_lossy(&o.stdout).trim().parse().ok()
}

/// The unprivileged account, created once; also checks that it can execute airlock.
fn test_user() -> &'static (u32, u32) {
    static USER_IDS: OnceLock<(u32, u32)> = OnceLock::new();
    USER_IDS.get_or_init(|| {
        if id_of("-u").is_none() {
            let o = Command::new("useradd")
                .args([
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    USER,
                ])
                .output()
                .expect("running useradd");
            assert!(
                o.status.success() || id_of("-u").is_some(),
                "useradd {USER} failed: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let ids = (
            id_of("-u").expect("uid of the test user"),
            id_of("-g").expect("gid of the test user"),
        );
        let o = Command::new("setpriv")
            .args(as_user_args(ids))
            .args([BIN, "--version"])
            .env_clear()
            .env("PATH", HOST_PATH)
            .output()
            .expect("running setpriv (util-linux)");
        assert!(
            o.status.success(),
            "the unprivileged test user {USER} (uid {}) cannot execute {BIN}: {}\n\
             every directory above the cargo target dir must be searchable by others \
             (chmod o+x), or set CARGO_TARGET_DIR to such a place",
            ids.0,
            String::from_utf8_lossy(&o.stderr).trim()
        );
        ids
    })
}

fn as_user_args((u, g): (u32, u32)) -> Vec<String> {
    vec![
        format!("--reuid={u}"),
        format!("--regid={g}"),
        "--clear-groups".into(),
        "--".into(),
    ]
}

/// A unique number per call in this test process.
pub fn seq() -> usize {
    static N: AtomicUsize = AtomicUsize::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A unique name for host-side objects of this test process.
pub fn unique(tag: &str) -> String {
    format!("airlock-escape-{}-{tag}-{}", std::process::id(), seq())
}

/// A random hex string.
pub fn random_hex() -> String {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .expect("reading /dev/urandom");
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The host's python3 (the test process's PATH may point at a shim).
pub fn host_python() -> &'static str {
    if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    }
}

/// One run's directories under a fresh root-owned 0755 base in the temp dir:
/// `ws` (the workspace, owned by the caller), `home` and `state` (airlock's HOME and
/// state, owned by the caller), and `outside` (a host directory outside the workspace,
/// owned by the sandbox's host uid so that file permissions alone would let it write
/// there). Everything is removed on drop, whoever created it.
pub struct Scratch {
    pub id: Ident,
    pub base: PathBuf,
    pub ws: PathBuf,
    pub home: PathBuf,
    pub state: PathBuf,
    pub outside: PathBuf,
}

impl Scratch {
    pub fn new(id: Ident, tag: &str) -> Scratch {
        let tmp = std::env::temp_dir()
            .canonicalize()
            .expect("canonical temp dir");
        let base = tmp.join(unique(tag));
        let _ = std::fs::remove_dir_all(&base);
        std::fs::create_dir(&base).expect("creating the scratch dir");
        std::fs::set_permissions(&base, std::fs::Permissions::from_mode(0o755)).unwrap();
        let sc = Scratch {
            id,
            ws: base.join("ws"),
            home: base.join("home"),
            state: base.join("state"),
            outside: base.join("outside"),
            base,
        };
        for (d, owner) in [
            (&sc.ws, id.owner()),
            (&sc.home, id.owner()),
            (&sc.state, id.owner()),
            (&sc.outside, id.host),
        ] {
            std::fs::create_dir(d).unwrap();
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
            lchown(d, Some(owner.0), Some(owner.1)).unwrap();
        }
        sc
    }

    /// Writes a file in the workspace (creating parents), owned by the caller.
    pub fn write_ws(&self, rel: &str, content: &str) -> PathBuf {
        let p = self.ws.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        self.own_ws();
        p
    }

    /// Creates a directory in the workspace (and parents), owned by the caller.
    pub fn mkdir_ws(&self, rel: &str) -> PathBuf {
        let p = self.ws.join(rel);
        std::fs::create_dir_all(&p).unwrap();
        self.own_ws();
        p
    }

    /// Hands everything in the workspace to the caller (the test creates it as root).
    pub fn own_ws(&self) {
        let (u, g) = self.id.owner();
        for p in walk(&self.ws) {
            lchown(&p, Some(u), Some(g)).unwrap();
        }
    }

    /// A command running `airlock sandbox --json` as this identity, in the workspace.
    /// `--workspace` is added unless `opts` names `--workspace` or `--cwd`; `--timeout 30`
    /// unless `opts` names a timeout.
    pub fn command(&self, opts: &[&str], argv: &[&str]) -> Command {
        let mut c = match self.id.caller {
            None => Command::new(BIN),
            Some(ids) => {
                let mut c = Command::new("setpriv");
                c.args(as_user_args(ids)).arg(BIN);
                c
            }
        };
        c.args(["sandbox", "--json"]);
        if !opts.iter().any(|o| *o == "--workspace" || *o == "--cwd") {
            c.arg("--workspace").arg(&self.ws);
        }
        if !opts.contains(&"--timeout") {
            c.args(["--timeout", "30"]);
        }
        c.args(opts).arg("--").args(argv);
        c.current_dir(&self.ws)
            .env_clear()
            .env("PATH", HOST_PATH)
            .env("HOME", &self.home)
            .env("AIRLOCK_STATE", &self.state)
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs `argv` in the sandbox with `opts`.
    pub fn sandbox(&self, opts: &[&str], argv: &[&str]) -> Run {
        Run::finish(self.id, self.command(opts, argv))
    }

    /// Runs a python probe (`PRELUDE` + `body`) in the sandbox.
    pub fn sandbox_py(&self, opts: &[&str], body: &str, args: &[&str]) -> Run {
        let code = format!("{PRELUDE}\n{body}");
        let mut argv = vec!["python3", "-c", code.as_str()];
        argv.extend_from_slice(args);
        self.sandbox(opts, &argv)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Every path below `root` (not following symlinks), `root` excluded.
pub fn walk(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Workspace-relative paths below `root`, for before/after comparisons.
pub fn listing(root: &Path) -> Vec<String> {
    walk(root)
        .iter()
        .map(|p| p.strip_prefix(root).unwrap().to_string_lossy().into_owned())
        .collect()
}

/// What one `airlock sandbox --json` run printed.
pub struct Run {
    pub ident: &'static str,
    /// airlock's own exit status.
    pub status: i32,
    pub json: Value,
    pub raw_stderr: String,
    pub wall: Duration,
}

impl Run {
    pub fn finish(id: Ident, mut c: Command) -> Run {
        let start = Instant::now();
        let o = c.output().expect("spawning airlock");
        Run::from_output(id, o, start.elapsed())
    }

    fn from_output(id: Ident, o: Output, wall: Duration) -> Run {
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        let raw_stderr = String::from_utf8_lossy(&o.stderr).into_owned();
        let line = stdout
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .unwrap_or_else(|| {
                panic!(
                    "[{}] airlock printed no JSON (status {:?}); stderr: {raw_stderr}",
                    id.name,
                    o.status.code()
                )
            });
        let json: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("[{}] airlock printed bad JSON ({e}): {line}", id.name));
        Run {
            ident: id.name,
            status: o.status.code().unwrap_or(-1),
            json,
            raw_stderr,
            wall,
        }
    }

    pub fn ran(&self) -> bool {
        self.json["ran"] == Value::Bool(true)
    }

    /// The outcome, asserting the program ran.
    pub fn outcome(&self) -> &Value {
        assert!(
            self.ran(),
            "[{}] the sandbox did not run (status {}): {}\nairlock stderr: {}",
            self.ident,
            self.status,
            self.json,
            self.raw_stderr
        );
        &self.json["outcome"]
    }

    /// The program's stdout.
    pub fn out(&self) -> &str {
        self.outcome()["stdout"].as_str().unwrap_or("")
    }

    /// The program's stderr.
    pub fn err(&self) -> &str {
        self.outcome()["stderr"].as_str().unwrap_or("")
    }

    /// `key=value` lines of the program's stdout.
    pub fn kv(&self) -> BTreeMap<String, String> {
        kv(self.out())
    }

    /// One `key=value` result, failing clearly when the probe did not print it.
    pub fn get(&self, key: &str) -> String {
        self.kv().get(key).cloned().unwrap_or_else(|| {
            panic!(
                "[{}] the probe printed no {key}=...; {}",
                self.ident,
                self.describe()
            )
        })
    }

    /// The whole outcome, for assertion messages.
    pub fn describe(&self) -> String {
        if !self.ran() {
            return format!("not run (status {}): {}", self.status, self.json);
        }
        let o = &self.json["outcome"];
        format!(
            "status {} exit {} after {:.0} ms\n--- stdout\n{}\n--- stderr\n{}",
            self.status,
            o["exit"],
            o["duration_ms"].as_f64().unwrap_or(-1.0),
            o["stdout"].as_str().unwrap_or(""),
            o["stderr"].as_str().unwrap_or("")
        )
    }

    /// Asserts the probe result `key` is exactly `want`.
    pub fn expect(&self, key: &str, want: &str) {
        let got = self.get(key);
        assert_eq!(
            got,
            want,
            "[{}] {key}: expected {want}, got {got}; {}",
            self.ident,
            self.describe()
        );
    }

    /// Asserts the program's stderr contains `needle`.
    pub fn expect_err(&self, needle: &str) {
        assert!(
            self.err().contains(needle),
            "[{}] expected {needle:?} in the program's stderr; {}",
            self.ident,
            self.describe()
        );
    }
}

pub fn kv(s: &str) -> BTreeMap<String, String> {
    s.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// Runs `argv` on the host, as root (`None`) or as the given uid/gid.
pub fn host(as_ids: Option<(u32, u32)>, argv: &[&str]) -> Output {
    host_command(as_ids, argv)
        .output()
        .expect("spawning a host control")
}

pub fn host_command(as_ids: Option<(u32, u32)>, argv: &[&str]) -> Command {
    let mut c = match as_ids {
        None => Command::new(argv[0]),
        Some(ids) => {
            let mut c = Command::new("setpriv");
            c.args(as_user_args(ids)).arg(argv[0]);
            c
        }
    };
    c.args(&argv[1..])
        .current_dir("/")
        .env_clear()
        .env("PATH", HOST_PATH)
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::null());
    c
}

/// Runs a python probe (`PRELUDE` + `body`) on the host; returns its `key=value` lines.
pub fn host_py(as_ids: Option<(u32, u32)>, body: &str, args: &[&str]) -> BTreeMap<String, String> {
    let code = format!("{PRELUDE}\n{body}");
    let mut argv = vec![host_python(), "-c", code.as_str()];
    argv.extend_from_slice(args);
    let o = host(as_ids, &argv);
    assert!(
        o.status.success(),
        "host control probe failed ({:?}): {}{}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    kv(&String::from_utf8_lossy(&o.stdout))
}

/// A host process that is killed and reaped on drop.
pub struct Sleeper(pub Child);

impl Sleeper {
    /// `sleep 60` as the given host uid/gid, with extra environment.
    pub fn start(as_ids: (u32, u32), env: &[(&str, &str)]) -> Sleeper {
        let mut c = host_command(Some(as_ids), &["sleep", "60"]);
        for (k, v) in env {
            c.env(k, v);
        }
        let child = c
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting a host sleeper");
        let s = Sleeper(child);
        // Wait until setpriv has exec'd sleep (the comm changes).
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let comm =
                std::fs::read_to_string(format!("/proc/{}/comm", s.pid())).unwrap_or_default();
            if comm.trim() == "sleep" {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        s
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    pub fn alive(&mut self) -> bool {
        matches!(self.0.try_wait(), Ok(None))
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A file planted in the host's /root, removed on drop.
pub struct RootSecret {
    pub path: PathBuf,
    pub content: String,
}

impl RootSecret {
    pub fn plant(tag: &str) -> RootSecret {
        let path = PathBuf::from(format!("/root/airlock-escape-{}-{tag}", std::process::id()));
        let content = format!("airlock-escape-secret-{}", random_hex());
        std::fs::write(&path, &content).expect("planting a secret in /root");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        RootSecret { path, content }
    }
}

impl Drop for RootSecret {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Gives the spawned process `file` as descriptor `target`, without close-on-exec.
pub fn pass_fd(c: &mut Command, file: &std::fs::File, target: i32) {
    use std::os::fd::AsRawFd;
    let raw = file.as_raw_fd();
    // SAFETY: dup2/fcntl are async-signal-safe; the closure touches no allocator.
    unsafe {
        c.pre_exec(move || {
            let r = if raw == target {
                fcntl(target, F_SETFD, 0)
            } else {
                dup2(raw, target)
            };
            if r < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Host processes that are still in the PID namespace `pidns` (as `readlink
/// /proc/self/ns/pid` printed it inside), or whose command line carries `marker`.
pub fn leftovers(pidns: &str, marker: Option<&str>) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let ns = std::fs::read_link(format!("/proc/{name}/ns/pid"))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        let cmdline = std::fs::read(format!("/proc/{name}/cmdline"))
            .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
            .unwrap_or_default();
        if ns == pidns || marker.is_some_and(|m| cmdline.contains(m)) {
            let status =
                std::fs::read_to_string(format!("/proc/{name}/status")).unwrap_or_default();
            let uid = status
                .lines()
                .find(|l| l.starts_with("Uid:"))
                .unwrap_or("Uid: ?")
                .to_string();
            found.push(format!("pid {name} ({uid}) {ns}: {cmdline}"));
        }
    }
    found
}

/// Asserts that nothing of a finished run is left on the host (allowing 2 s for the
/// kernel to finish tearing the namespace down).
pub fn assert_no_leftovers(ident: &str, pidns: &str, marker: Option<&str>) {
    assert!(
        pidns.starts_with("pid:["),
        "[{ident}] the probe did not print its PID namespace: {pidns:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let left = leftovers(pidns, marker);
        if left.is_empty() {
            return;
        }
        if Instant::now() >= deadline {
            panic!(
                "[{ident}] sandbox processes outlived airlock:\n{}",
                left.join("\n")
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Python helpers for probes: results print as `key=RESULT`, where RESULT is `OK` or the
/// errno's symbolic name.
pub const PRELUDE: &str = r#"
import ctypes, errno, os, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
def name(e):
    return errno.errorcode.get(e, str(e))
def call(f, *a):
    ctypes.set_errno(0)
    r = f(*a)
    return "OK" if r != -1 else name(ctypes.get_errno())
def attempt(f):
    try:
        f()
        return "OK"
    except OSError as e:
        return name(e.errno)
def in_child(f):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            res = f()
        except BaseException as e:
            res = "EXC:" + type(e).__name__
        os.write(w, str(res).encode())
        os._exit(0)
    os.close(w)
    out = b""
    while True:
        b = os.read(r, 4096)
        if not b:
            break
        out += b
    os.close(r)
    os.waitpid(pid, 0)
    return out.decode()
def report(k, v):
    print("%s=%s" % (k, v), flush=True)
def create(p):
    os.close(os.open(p, os.O_WRONLY | os.O_CREAT, 0o644))
def read_len(p):
    try:
        with open(p, "rb") as f:
            return "LEN%d" % len(f.read())
    except OSError as e:
        return name(e.errno)
"#;
