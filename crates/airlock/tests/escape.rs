//! Escape attempts against the Linux sandbox (`airlock sandbox`), each asserted contained,
//! each with a positive control showing the same probe works outside the sandbox.
//!
//! Every attack runs twice: with airlock as root (the test process: the sandbox is host
//! uid 65534 and the workspace an id-mapped mount) and as the unprivileged account
//! `airlock-escape` (created when absent; the sandbox maps onto it). Host-side controls
//! run as the host uid the sandbox maps to wherever file permissions matter, so that only
//! the sandbox, not plain ownership, stands between the probe and its target.
//!
//! Run as root: `cargo test -p airlock --test escape`.

#[path = "escape/harness.rs"]
mod harness;

use std::io::ErrorKind;
use std::net::{TcpListener, UdpSocket};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt, lchown, symlink};
use std::os::unix::net::{SocketAddr, UnixListener};
use std::path::Path;
use std::time::Duration;

use harness::*;

fn exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}

// ---------------------------------------------------------------------------------------
// 1. Writing outside the workspace.

const WRITE_PROBE: &str = r#"
for i, p in enumerate(sys.argv[1:]):
    report("w%d" % i, attempt(lambda: create(p)))
report("mkdir", attempt(lambda: os.mkdir(sys.argv[1] + ".d")))
"#;

#[test]
fn writes_outside_the_workspace_do_not_reach_the_host() {
    for id in identities() {
        let sc = Scratch::new(id, "write");
        let etc_target = format!("/etc/{}", unique("etc"));
        let out_target = sc.outside.join("pwned");
        let sibling = sc.base.join("escape");
        let targets = [
            out_target.to_str().unwrap(),
            sibling.to_str().unwrap(),
            etc_target.as_str(),
            "/usr/airlock-escape-probe",
            "/airlock-escape-probe",
        ];

        let r = sc.sandbox_py(&[], WRITE_PROBE, &targets);
        // The host directory outside the workspace is not in the sandbox's view at all.
        r.expect("w0", "ENOENT");
        r.expect("mkdir", "ENOENT");
        // The workspace's parent exists inside only as part of the private /tmp (or is
        // refused by Landlock when the temp dir is elsewhere).
        let w1 = r.get("w1");
        assert!(
            ["OK", "EACCES", "EROFS"].contains(&w1.as_str()),
            "[{}] w1={w1}; {}",
            id.name,
            r.describe()
        );
        r.expect("w2", "EROFS");
        r.expect("w3", "EROFS");
        r.expect("w4", "EROFS");
        let t = sc.sandbox(&[], &["touch", &etc_target]);
        t.expect_err("Read-only file system");

        // Nothing landed on the host.
        let left: Vec<_> = std::fs::read_dir(&sc.outside).unwrap().flatten().collect();
        assert!(
            left.is_empty(),
            "[{}] the outside dir got {left:?}",
            id.name
        );
        assert!(
            !exists(&sibling),
            "[{}] {} was created",
            id.name,
            sibling.display()
        );
        assert!(
            !exists(Path::new(&etc_target)),
            "[{}] {etc_target} was created",
            id.name
        );
        assert!(!exists(Path::new("/airlock-escape-probe")));
        assert!(!exists(Path::new("/usr/airlock-escape-probe")));

        // Control: the same probe as the sandbox's host uid writes the outside dir.
        let c = host_py(Some(id.host), WRITE_PROBE, &targets[..1]);
        assert_eq!(c["w0"], "OK", "[{}] host control: {c:?}", id.name);
        assert!(out_target.is_file());
    }
}

// ---------------------------------------------------------------------------------------
// 2. Reading /etc/shadow and /root.

const READ_PROBE: &str = r#"
for i, p in enumerate(sys.argv[1:]):
    report("r%d" % i, read_len(p))
"#;

#[test]
fn shadow_and_root_files_cannot_be_read() {
    let secret = RootSecret::plant("read");
    let paths = ["/etc/shadow", "/etc/gshadow", secret.path.to_str().unwrap()];
    // Control: root on the host reads all three.
    let c = host_py(None, READ_PROBE, &paths);
    for k in ["r0", "r1"] {
        assert!(
            c[k].starts_with("LEN") && c[k] != "LEN0",
            "host control: {k}={} (expected a non-empty read)",
            c[k]
        );
    }
    assert_eq!(c["r2"], format!("LEN{}", secret.content.len()));

    for id in identities() {
        let sc = Scratch::new(id, "read");
        let r = sc.sandbox_py(&[], READ_PROBE, &paths);
        for k in ["r0", "r1"] {
            let v = r.get(k);
            assert!(
                v == "LEN0" || v == "EACCES",
                "[{}] {k}={v}: shadow files must read empty or be refused; {}",
                id.name,
                r.describe()
            );
        }
        r.expect("r2", "ENOENT");
        let cat = sc.sandbox(&[], &["cat", secret.path.to_str().unwrap()]);
        cat.expect_err("No such file or directory");
        assert_ne!(cat.status, 0);
        let mut runs = vec![r, cat];
        // As root with HOME=/root, the caller's rustup and cargo bin directories are bound
        // read-only at their place under /root: the rest of /root stays invisible.
        if id.caller.is_none()
            && Path::new("/root/.rustup").is_dir()
            && Path::new("/root/.cargo/bin").is_dir()
        {
            let mut c = sc.command(
                &[],
                &[
                    "sh",
                    "-c",
                    "ls -A /root; cat \"$1\"; echo cat_status=$?",
                    "sh",
                    secret.path.to_str().unwrap(),
                ],
            );
            c.env("HOME", "/root")
                .env_remove("RUSTUP_HOME")
                .env_remove("CARGO_HOME");
            let t = Run::finish(id, c);
            t.expect_err("No such file or directory");
            t.expect("cat_status", "1");
            assert!(
                t.out().contains(".rustup"),
                "[{}] {}",
                id.name,
                t.describe()
            );
            runs.push(t);
        }
        for run in &runs {
            assert!(
                !run.json.to_string().contains(&secret.content),
                "[{}] the secret leaked: {}",
                id.name,
                run.describe()
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// 3. Another process's environment through /proc.

const ENVIRON_PROBE: &str = r#"
pid = sys.argv[1]
try:
    with open("/proc/%s/environ" % pid, "rb") as f:
        data = f.read()
    report("direct", "READ" + ("-SECRET" if b"AIRLOCK_SECRET=" in data else ""))
except OSError as e:
    report("direct", name(e.errno))
found = scanned = 0
for d in os.listdir("/proc"):
    if not d.isdigit():
        continue
    try:
        with open("/proc/%s/environ" % d, "rb") as f:
            data = f.read()
    except OSError:
        continue
    scanned += 1
    if b"AIRLOCK_SECRET=" in data:
        found += 1
report("scanned", scanned)
report("found", found)
"#;

#[test]
fn host_process_environment_is_not_readable() {
    for id in identities() {
        let secret = random_hex();
        let sleeper = Sleeper::start(id.host, &[("AIRLOCK_SECRET", &secret)]);
        let pid = sleeper.pid().to_string();

        // Control: the sleeper's own uid reads its environment on the host.
        let c = host_py(Some(id.host), ENVIRON_PROBE, &[&pid]);
        assert_eq!(
            c["direct"], "READ-SECRET",
            "[{}] host control: {c:?}",
            id.name
        );
        assert_ne!(c["found"], "0", "[{}] host control: {c:?}", id.name);

        let sc = Scratch::new(id, "environ");
        let r = sc.sandbox_py(&[], ENVIRON_PROBE, &[&pid]);
        if sleeper.pid() > 1000 {
            r.expect("direct", "ENOENT");
        } else {
            assert_ne!(r.get("direct"), "READ-SECRET");
        }
        r.expect("found", "0");
        assert_ne!(r.get("scanned"), "0", "[{}] the scan saw nothing", id.name);
        assert!(
            !r.json.to_string().contains(&secret),
            "[{}] secret leaked",
            id.name
        );
        drop(sleeper);
    }
}

// ---------------------------------------------------------------------------------------
// 4. Symlinks planted in the workspace that point at host files.

const SYMLINK_PROBE: &str = r#"
report("read_root", read_len("link"))
report("read_outside", read_len("link2"))
report("write_outside", attempt(lambda: create("out/pwned")))
report("write_etc", attempt(lambda: create("etc/airlock-escape-probe")))
"#;

#[test]
fn symlinks_to_host_files_do_not_escape() {
    let secret = RootSecret::plant("symlink");
    for id in identities() {
        let sc = Scratch::new(id, "symlink");
        let outside_secret = sc.outside.join("secret.txt");
        let outside_content = format!("outside-{}", random_hex());
        std::fs::write(&outside_secret, &outside_content).unwrap();
        lchown(&outside_secret, Some(id.host.0), Some(id.host.1)).unwrap();
        for (name, target) in [
            ("link", secret.path.as_path()),
            ("link2", outside_secret.as_path()),
            ("out", sc.outside.as_path()),
            ("etc", Path::new("/etc")),
        ] {
            symlink(target, sc.ws.join(name)).unwrap();
        }
        sc.own_ws();

        let r = sc.sandbox_py(&[], SYMLINK_PROBE, &[]);
        r.expect("read_root", "ENOENT");
        r.expect("read_outside", "ENOENT");
        r.expect("write_outside", "ENOENT");
        r.expect("write_etc", "EROFS");
        let s = r.json.to_string();
        assert!(!s.contains(&secret.content) && !s.contains(&outside_content));

        // The host is unchanged.
        assert_eq!(
            std::fs::read_to_string(&secret.path).unwrap(),
            secret.content
        );
        assert_eq!(
            std::fs::read_dir(&sc.outside).unwrap().count(),
            1,
            "[{}] the outside dir changed",
            id.name
        );
        assert!(!exists(Path::new("/etc/airlock-escape-probe")));

        // Control: on the host the same links reach their targets.
        assert_eq!(
            std::fs::read_to_string(sc.ws.join("link")).unwrap(),
            secret.content
        );
        let ws = sc.ws.to_str().unwrap();
        let c = host_py(
            Some(id.host),
            &format!(
                "os.chdir({ws:?})\nreport('read_outside', read_len('link2'))\nreport('write_outside', attempt(lambda: create('out/pwned')))"
            ),
            &[],
        );
        assert_eq!(c["read_outside"], format!("LEN{}", outside_content.len()));
        assert_eq!(
            c["write_outside"], "OK",
            "[{}] host control: {c:?}",
            id.name
        );
    }
}

// ---------------------------------------------------------------------------------------
// 5. Set-uid / set-gid files (and file capabilities) left in the workspace.

const SETID_PY: &str = r#"
import struct
report("open_setuid", attempt(lambda: os.close(os.open("s3", os.O_CREAT | os.O_WRONLY, 0o4755))))
report("mkdir_setgid", attempt(lambda: os.mkdir("d", 0o2755)))
os.mkdir("d2")
report("chmod_dir_setgid", attempt(lambda: os.chmod("d2", 0o2755)))
fd = os.open("s4", os.O_CREAT | os.O_WRONLY, 0o755)
report("fchmod", attempt(lambda: os.fchmod(fd, 0o6755)))
os.close(fd)
report("mknod", attempt(lambda: os.mknod("n", 0o104755)))
report("fchmodat2", call(libc.syscall, 452, -100, b"s4", 0o4755, 0))
cap = struct.pack("<IIIII", 0x02000001, 1 << 21, 0, 0, 0)
report("setcap", attempt(lambda: os.setxattr("s4", "security.capability", cap)))
"#;

const SETID_SH: &str = r#"
cp /bin/sh s && chmod 4755 s
chmod g+s s
install -m 4755 /bin/sh s2
if [ -n "$1" ]; then cp -p "$1" su-copy; ln "$1" su-link; fi
python3 -c "$2"
"#;

const CAPS_SCAN: &str = r#"
bad = []
for root, dirs, files in os.walk(sys.argv[1]):
    for n in dirs + files:
        p = os.path.join(root, n)
        try:
            os.getxattr(p, "security.capability", follow_symlinks=False)
            bad.append(p)
        except OSError:
            pass
report("caps", ",".join(bad) or "none")
"#;

/// A set-uid program on the host, if there is one.
fn host_setuid_binary() -> Option<&'static str> {
    [
        "/usr/bin/su",
        "/usr/bin/passwd",
        "/usr/bin/mount",
        "/bin/su",
    ]
    .into_iter()
    .find(|p| {
        std::fs::metadata(p)
            .map(|m| m.mode() & 0o4000 != 0)
            .unwrap_or(false)
    })
}

#[test]
fn set_id_bits_and_file_capabilities_are_refused() {
    let su = host_setuid_binary().unwrap_or("");
    let py = format!("{PRELUDE}\n{SETID_PY}");
    for id in identities() {
        let sc = Scratch::new(id, "setid");
        let r = sc.sandbox(&[], &["sh", "-c", SETID_SH, "sh", su, &py]);
        assert_eq!(
            r.err()
                .matches("chmod: changing permissions of 's': Operation not permitted")
                .count(),
            2,
            "[{}] both chmod 4755 and chmod g+s must fail; {}",
            id.name,
            r.describe()
        );
        r.expect_err("install: cannot change permissions of 's2': Operation not permitted");
        if !su.is_empty() {
            r.expect_err("preserving permissions for");
            r.expect_err("Invalid cross-device link");
        }
        for k in [
            "open_setuid",
            "mkdir_setgid",
            "chmod_dir_setgid",
            "fchmod",
            "mknod",
            "fchmodat2",
            "setcap",
        ] {
            r.expect(k, "EPERM");
        }

        // On the host: no file in the workspace carries a set-id bit or a capability.
        let setid: Vec<_> = walk(&sc.ws)
            .into_iter()
            .filter(|p| {
                std::fs::symlink_metadata(p)
                    .map(|m| m.mode() & 0o6000 != 0)
                    .unwrap_or(false)
            })
            .collect();
        assert!(
            setid.is_empty(),
            "[{}] set-id files on the host: {setid:?}",
            id.name
        );
        assert!(
            sc.ws.join("s").is_file(),
            "[{}] the probe did not run",
            id.name
        );
        let caps = host_py(None, CAPS_SCAN, &[sc.ws.to_str().unwrap()]);
        assert_eq!(
            caps["caps"], "none",
            "[{}] file capabilities on the host",
            id.name
        );

        // Control: outside the sandbox the same uid sets the bits, and root sets a
        // capability.
        let copy = sc.outside.join("c");
        let o = host(
            Some(id.host),
            &[
                "sh",
                "-c",
                "cp /bin/sh \"$1\" && chmod 4755 \"$1\" && chmod g+s \"$1\"",
                "sh",
                copy.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "host control: {o:?}");
        assert_eq!(std::fs::metadata(&copy).unwrap().mode() & 0o7777, 0o6755);
        let c = host_py(
            None,
            &format!(
                "import struct\nos.chdir({:?})\ncreate('s4')\nreport('setcap', attempt(lambda: os.setxattr('s4', 'security.capability', struct.pack('<IIIII', 0x02000001, 1 << 21, 0, 0, 0))))",
                sc.outside.to_str().unwrap()
            ),
            &[],
        );
        assert_eq!(c["setcap"], "OK", "host control: {c:?}");
    }
}

// ---------------------------------------------------------------------------------------
// 6. ptrace, mount, unshare, clone(CLONE_NEWUSER).

const PRIV_PROBE: &str = r#"
mode, target = sys.argv[1], sys.argv[2]
report("ptrace", in_child(lambda: call(libc.ptrace, 0, 0, 0, 0)))
report("unshare_user", in_child(lambda: call(libc.unshare, 0x10000000)))
report("unshare_ns", in_child(lambda: call(libc.unshare, 0x20000)))
def clone_user():
    ctypes.set_errno(0)
    r = libc.syscall(56, 0x10000000 | 17, 0, 0, 0, 0)
    if r == 0:
        os._exit(0)
    if r == -1:
        return name(ctypes.get_errno())
    os.waitpid(r, 0)
    return "OK"
report("clone_newuser", in_child(clone_user))
def mnt():
    u = call(libc.unshare, 0x20000)
    if u != "OK" and mode == "host":
        return "unshare-" + u  # never mount in the host's own namespace
    if u == "OK":
        p = call(libc.mount, b"none", b"/", None, 0x4000 | 0x40000, None)
        if p != "OK":
            return "private-" + p
    os.makedirs(target, exist_ok=True)
    return call(libc.mount, b"airlock-escape", target.encode(), b"tmpfs", 0, None)
report("mount", in_child(mnt))
"#;

#[test]
fn ptrace_mount_and_namespaces_are_refused() {
    // Control: root on the host can do all of it (the mount happens in a private mount
    // namespace of a forked child).
    let scratch_ctl = Scratch::new(identities()[0], "priv-ctl");
    let target = scratch_ctl.outside.join("mnt");
    let c = host_py(None, PRIV_PROBE, &["host", target.to_str().unwrap()]);
    for k in [
        "ptrace",
        "unshare_user",
        "unshare_ns",
        "clone_newuser",
        "mount",
    ] {
        assert_eq!(c[k], "OK", "host control {k}: {c:?}");
    }
    let u = host(None, &["unshare", "-U", "true"]);
    assert!(u.status.success(), "host control unshare -U: {u:?}");

    for id in identities() {
        let sc = Scratch::new(id, "priv");
        let r = sc.sandbox_py(&[], PRIV_PROBE, &["sandbox", "/tmp/airlock-escape-mnt"]);
        for k in [
            "ptrace",
            "unshare_user",
            "unshare_ns",
            "clone_newuser",
            "mount",
        ] {
            r.expect(k, "EPERM");
        }
        let u = sc.sandbox(&[], &["unshare", "-U", "true"]);
        u.expect_err("unshare failed: Operation not permitted");
        assert_eq!(u.status, 1, "[{}] {}", id.name, u.describe());
    }
}

// ---------------------------------------------------------------------------------------
// 7. Signalling a host process.

const KILL_PY: &str = r#"
pid = int(sys.argv[1])
report("kill0", attempt(lambda: os.kill(pid, 0)))
report("kill9", attempt(lambda: os.kill(pid, 9)))
report("pidfd_open", call(libc.syscall, 434, pid, 0))
try:
    os.kill(pid, 0)
    report("exc", "none")
except ProcessLookupError:
    report("exc", "ProcessLookupError")
except OSError as e:
    report("exc", type(e).__name__)
"#;

#[test]
fn host_processes_cannot_be_signalled() {
    for id in identities() {
        let mut sleeper = Sleeper::start(id.host, &[]);
        let pid = sleeper.pid().to_string();
        let sc = Scratch::new(id, "kill");
        let r = sc.sandbox(
            &[],
            &[
                "sh",
                "-c",
                "kill -0 \"$1\"; echo kill_status=$?",
                "sh",
                &pid,
            ],
        );
        r.expect_err("No such process");
        r.expect("kill_status", "1");
        let p = sc.sandbox_py(&[], KILL_PY, &[&pid]);
        p.expect("kill0", "ESRCH");
        p.expect("kill9", "ESRCH");
        p.expect("pidfd_open", "ESRCH");
        p.expect("exc", "ProcessLookupError");
        assert!(sleeper.alive(), "[{}] the host sleeper died", id.name);

        // Control: the same uid signals it on the host.
        let o = host(Some(id.host), &["kill", "-0", &pid]);
        assert!(
            o.status.success(),
            "[{}] host control kill -0: {o:?}",
            id.name
        );
    }
}

// ---------------------------------------------------------------------------------------
// 8. TCP, UDP and DNS to listeners on the host's loopback.

const NET_PROBE: &str = r#"
P, Q, R = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(("127.0.0.1", P))
    s.close()
def udp(port, payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(payload, ("127.0.0.1", port))
    s.close()
query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" + b"".join(bytes([len(x)]) + x for x in b"example.com".split(b".")) + b"\x00\x00\x01\x00\x01"
report("tcp", attempt(tcp))
report("udp", attempt(lambda: udp(Q, b"airlock-escape-udp")))
report("dns", attempt(lambda: udp(R, query)))
def proxy(target):
    import base64, urllib.parse
    u = urllib.parse.urlparse(os.environ["http_proxy"])
    auth = base64.b64encode(("%s:%s" % (u.username, urllib.parse.unquote(u.password))).encode()).decode()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(("127.0.0.1", u.port))
    s.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\nProxy-Authorization: Basic %s\r\n\r\n" % (target, target, auth)).encode())
    line = s.recv(4096).split(b"\r\n")[0].decode()
    s.close()
    return line.replace(" ", "_")
for i, t in enumerate(sys.argv[4:]):
    try:
        report("proxy%d" % i, proxy(t))
    except OSError as e:
        report("proxy%d" % i, name(e.errno))
"#;

struct NetListeners {
    tcp: TcpListener,
    udp: UdpSocket,
    dns: UdpSocket,
}

impl NetListeners {
    fn new() -> NetListeners {
        let l = NetListeners {
            tcp: TcpListener::bind("127.0.0.1:0").unwrap(),
            udp: UdpSocket::bind("127.0.0.1:0").unwrap(),
            dns: UdpSocket::bind("127.0.0.1:0").unwrap(),
        };
        l.tcp.set_nonblocking(true).unwrap();
        l.udp.set_nonblocking(true).unwrap();
        l.dns.set_nonblocking(true).unwrap();
        l
    }

    fn ports(&self) -> [String; 3] {
        [
            self.tcp.local_addr().unwrap().port().to_string(),
            self.udp.local_addr().unwrap().port().to_string(),
            self.dns.local_addr().unwrap().port().to_string(),
        ]
    }

    /// What arrived since the last call: (TCP connections, UDP datagrams, DNS datagrams).
    fn drain(&self) -> (usize, usize, usize) {
        let mut tcp = 0;
        while self.tcp.accept().is_ok() {
            tcp += 1;
        }
        let mut buf = [0u8; 512];
        let mut count = |s: &UdpSocket| {
            let mut n = 0;
            loop {
                match s.recv_from(&mut buf) {
                    Ok(_) => n += 1,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break n,
                    Err(_) => break n,
                }
            }
        };
        let udp = count(&self.udp);
        let dns = count(&self.dns);
        (tcp, udp, dns)
    }
}

#[test]
fn host_loopback_listeners_are_unreachable() {
    for id in identities() {
        let l = NetListeners::new();
        let [p, q, r] = l.ports();
        let sc = Scratch::new(id, "net");

        // No grants: no inet sockets at all.
        let a = sc.sandbox_py(&[], NET_PROBE, &[&p, &q, &r]);
        for k in ["tcp", "udp", "dns"] {
            a.expect(k, "EAFNOSUPPORT");
        }
        assert_eq!(
            l.drain(),
            (0, 0, 0),
            "[{}] the host listeners got traffic",
            id.name
        );

        // A public grant whose name the egress proxy is told maps to loopback: inet
        // sockets exist, but only the proxy port is reachable, in an empty netns.
        let grant = format!("example.com:{p}");
        let b = sc.sandbox_py(
            &[
                "--grant-host",
                &grant,
                "--add-host",
                "example.com=127.0.0.1",
            ],
            NET_PROBE,
            &[&p, &q, &r, &grant, &format!("127.0.0.1:{p}")],
        );
        let tcp = b.get("tcp");
        assert!(
            tcp == "EACCES" || tcp == "ECONNREFUSED",
            "[{}] direct TCP with a grant: {tcp}; {}",
            id.name,
            b.describe()
        );
        for k in ["udp", "dns"] {
            // The datagram can only land on the sandbox's own loopback.
            let v = b.get(k);
            assert!(
                ["OK", "ECONNREFUSED", "ENETUNREACH", "EACCES"].contains(&v.as_str()),
                "[{}] {k}={v}",
                id.name
            );
        }
        for k in ["proxy0", "proxy1"] {
            let v = b.get(k);
            assert!(
                v.starts_with("HTTP/1.1_403"),
                "[{}] {k}: the proxy must refuse loopback: {v}; {}",
                id.name,
                b.describe()
            );
        }
        let egress = b.outcome()["egress"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(
            !egress.is_empty(),
            "[{}] the proxy recorded nothing",
            id.name
        );
        assert!(
            egress
                .iter()
                .all(|e| e["allowed"] == serde_json::Value::Bool(false)),
            "[{}] egress allowed: {egress:?}",
            id.name
        );
        assert_eq!(
            l.drain(),
            (0, 0, 0),
            "[{}] the host listeners got traffic",
            id.name
        );

        // Control inside: a private grant for the same name does reach the listener, so
        // the probe above would have seen a leak.
        let c = sc.sandbox_py(
            &[
                "--grant-private-host",
                &grant,
                "--add-host",
                "example.com=127.0.0.1",
            ],
            NET_PROBE,
            &[&p, &q, &r, &grant],
        );
        let v = c.get("proxy0");
        assert!(
            v.starts_with("HTTP/1.1_200"),
            "[{}] private grant: {v}",
            id.name
        );
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(
            l.drain(),
            (1, 0, 0),
            "[{}] the granted CONNECT did not arrive",
            id.name
        );

        // Control on the host: the same probe reaches all three listeners.
        let h = host_py(Some(id.host), NET_PROBE, &[&p, &q, &r]);
        for k in ["tcp", "udp", "dns"] {
            assert_eq!(h[k], "OK", "[{}] host control: {h:?}", id.name);
        }
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(l.drain(), (1, 1, 1), "[{}] host control traffic", id.name);
    }
}

// ---------------------------------------------------------------------------------------
// 9. Abstract and path Unix sockets on the host.

const UNIX_PROBE: &str = r#"
def conn(addr):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(3)
    s.connect(addr)
    s.close()
report("abstract", attempt(lambda: conn(b"\0" + sys.argv[1].encode())))
report("path", attempt(lambda: conn(sys.argv[2])))
"#;

#[test]
fn host_unix_sockets_are_unreachable() {
    for id in identities() {
        let sc = Scratch::new(id, "unix");
        let abstract_name = unique("abstract");
        let abs = UnixListener::bind_addr(
            &SocketAddr::from_abstract_name(abstract_name.as_bytes()).unwrap(),
        )
        .unwrap();
        let sock_path = sc.outside.join("host.sock");
        let path = UnixListener::bind(&sock_path).unwrap();
        // File permissions alone would let anyone connect.
        std::fs::set_permissions(&sock_path, std::fs::Permissions::from_mode(0o777)).unwrap();
        abs.set_nonblocking(true).unwrap();
        path.set_nonblocking(true).unwrap();
        let args = [abstract_name.as_str(), sock_path.to_str().unwrap()];

        let r = sc.sandbox_py(&[], UNIX_PROBE, &args);
        let a = r.get("abstract");
        assert!(
            a == "ECONNREFUSED" || a == "EPERM",
            "[{}] abstract: {a}; {}",
            id.name,
            r.describe()
        );
        r.expect("path", "ENOENT");
        assert!(
            abs.accept().is_err(),
            "[{}] abstract listener accepted",
            id.name
        );
        assert!(
            path.accept().is_err(),
            "[{}] path listener accepted",
            id.name
        );

        // Control: the same uid connects to both on the host.
        let c = host_py(Some(id.host), UNIX_PROBE, &args);
        assert_eq!(c["abstract"], "OK", "[{}] host control: {c:?}", id.name);
        assert_eq!(c["path"], "OK", "[{}] host control: {c:?}", id.name);
        assert!(abs.accept().is_ok() && path.accept().is_ok());
    }
}

// ---------------------------------------------------------------------------------------
// 10-12. TIOCSTI, io_uring, x32 system calls.

const TIOCSTI_PROBE: &str = r#"
import fcntl, termios
r, w = os.pipe()
report("tiocsti", attempt(lambda: fcntl.ioctl(w, termios.TIOCSTI, b"x")))
"#;

#[test]
fn tiocsti_is_refused_by_the_filter() {
    let c = host_py(None, TIOCSTI_PROBE, &[]);
    assert_eq!(c["tiocsti"], "ENOTTY", "host control: {c:?}");
    for id in identities() {
        let sc = Scratch::new(id, "tiocsti");
        // EPERM comes from the seccomp filter; the kernel alone would say ENOTTY.
        sc.sandbox_py(&[], TIOCSTI_PROBE, &[])
            .expect("tiocsti", "EPERM");
    }
}

const IO_URING_PROBE: &str = r#"
buf = ctypes.create_string_buffer(120)
ctypes.set_errno(0)
fd = libc.syscall(425, 8, buf)
report("io_uring", "OK" if fd >= 0 else name(ctypes.get_errno()))
if fd >= 0:
    os.close(fd)
"#;

#[test]
fn io_uring_is_refused() {
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .unwrap_or_default()
        .trim()
        .to_string();
    if disabled == "2" {
        eprintln!("io_uring control skipped: kernel.io_uring_disabled=2 refuses it everywhere");
    } else {
        let c = host_py(None, IO_URING_PROBE, &[]);
        assert_eq!(c["io_uring"], "OK", "host control: {c:?}");
    }
    for id in identities() {
        let sc = Scratch::new(id, "uring");
        sc.sandbox_py(&[], IO_URING_PROBE, &[])
            .expect("io_uring", "EPERM");
    }
}

const X32_PROBE: &str = r#"
report("x32_getpid", call(libc.syscall, 0x40000000 | 39))
"#;

#[test]
fn x32_system_calls_are_refused() {
    let c = host_py(None, X32_PROBE, &[]);
    // Kernels without x32 say ENOSYS; with it, the call works.
    assert!(
        c["x32_getpid"] == "ENOSYS" || c["x32_getpid"] == "OK",
        "host control: {c:?}"
    );
    for id in identities() {
        let sc = Scratch::new(id, "x32");
        sc.sandbox_py(&[], X32_PROBE, &[])
            .expect("x32_getpid", "EPERM");
    }
}

// ---------------------------------------------------------------------------------------
// 13. Fork bombs and the process limit.

fn pidns_of(r: &Run) -> String {
    r.out()
        .lines()
        .find(|l| l.starts_with("pid:["))
        .unwrap_or("")
        .to_string()
}

#[test]
fn fork_bombs_end_and_leave_nothing_behind() {
    // Control: the leftover scan does find the processes of a live PID namespace.
    let own = std::fs::read_link("/proc/self/ns/pid").unwrap();
    assert!(!leftovers(&own.to_string_lossy(), None).is_empty());

    for id in identities() {
        let sc = Scratch::new(id, "bomb");
        let marker = unique("bomb");

        // The classic bomb: the shell that starts it exits at once, which ends the run.
        let script = format!("readlink /proc/self/ns/pid; :(){{ :|:& }};: # {marker}");
        let r = sc.sandbox(
            &["--processes", "64", "--timeout", "5"],
            &["bash", "-c", &script],
        );
        assert!(
            r.wall < Duration::from_secs(15),
            "[{}] took {:?}",
            id.name,
            r.wall
        );
        r.outcome();
        assert_no_leftovers(id.name, &pidns_of(&r), Some(&marker));

        // A bomb whose first shell stays: it runs into the limit until the timeout.
        let script = format!("readlink /proc/self/ns/pid; :(){{ :|:& }};:; sleep 30 # {marker}");
        let r = sc.sandbox(
            &["--processes", "64", "--timeout", "5"],
            &["bash", "-c", &script],
        );
        assert_eq!(r.status, EXIT_TIMEOUT, "[{}] {}", id.name, r.describe());
        assert_eq!(r.outcome()["exit"], "timeout");
        r.expect_err("Resource temporarily unavailable");
        assert!(
            r.wall < Duration::from_secs(15),
            "[{}] took {:?}",
            id.name,
            r.wall
        );
        assert_no_leftovers(id.name, &pidns_of(&r), Some(&marker));
    }
}

#[test]
fn the_process_limit_bites() {
    for id in identities() {
        let sc = Scratch::new(id, "nproc");
        let r = sc.sandbox(
            &["--processes", "32", "--timeout", "10"],
            &[
                "bash",
                "-c",
                "readlink /proc/self/ns/pid; for i in $(seq 200); do sleep 5 & done; wait",
            ],
        );
        r.expect_err("Resource temporarily unavailable");
        assert!(
            r.wall < Duration::from_secs(20),
            "[{}] took {:?}",
            id.name,
            r.wall
        );
        assert_no_leftovers(id.name, &pidns_of(&r), None);

        // Control: the same loop with the default limit starts all 200 (a short sleep).
        let c = sc.sandbox(
            &["--timeout", "20"],
            &[
                "bash",
                "-c",
                "for i in $(seq 200); do sleep 0.5 & done; wait; echo started=all",
            ],
        );
        c.expect("started", "all");
        assert!(!c.err().contains("Resource temporarily unavailable"));
    }
}

// ---------------------------------------------------------------------------------------
// 14. Memory bombs.

const MEMORY_PROBE: &str = r#"
chunks = []
try:
    for i in range(64):
        chunks.append(b"\x01" * (16 << 20))
    print("SURVIVED", flush=True)
except MemoryError:
    print("MemoryError", flush=True)
    sys.exit(3)
"#;

#[test]
fn memory_bombs_fail_promptly() {
    // Control: 1 GiB is fine on the host.
    let o = host(None, &[host_python(), "-c", MEMORY_PROBE]);
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("SURVIVED"),
        "host control: {o:?}"
    );
    for id in identities() {
        let sc = Scratch::new(id, "mem");
        let r = sc.sandbox(
            &["--memory", "256M", "--timeout", "30"],
            &["python3", "-c", MEMORY_PROBE],
        );
        let o = r.outcome();
        assert!(
            !r.out().contains("SURVIVED"),
            "[{}] {}",
            id.name,
            r.describe()
        );
        let killed = o["exit"].get("signal").is_some() || o["memory_exhausted"] == true;
        assert!(
            r.out().contains("MemoryError") || killed,
            "[{}] expected MemoryError or a kill; {}",
            id.name,
            r.describe()
        );
        assert_ne!(r.status, 0);
        assert!(
            r.wall < Duration::from_secs(20),
            "[{}] took {:?}",
            id.name,
            r.wall
        );
    }
}

// ---------------------------------------------------------------------------------------
// 15. Filling /tmp and the overlay.

#[test]
fn tmp_and_overlay_fill_up_without_touching_the_host() {
    for id in identities() {
        let sc = Scratch::new(id, "fill");
        // Control: 64 MiB is fine on the host.
        let fill = sc.outside.join("fill");
        let o = host(
            Some(id.host),
            &[
                "dd",
                "if=/dev/zero",
                &format!("of={}", fill.display()),
                "bs=1M",
                "count=64",
            ],
        );
        assert!(o.status.success(), "host control dd: {o:?}");
        assert_eq!(std::fs::metadata(&fill).unwrap().len(), 64 << 20);
        std::fs::remove_file(&fill).unwrap();

        let r = sc.sandbox(
            &["--tmp-size", "16M"],
            &["dd", "if=/dev/zero", "of=/tmp/fill", "bs=1M", "count=64"],
        );
        r.expect_err("No space left on device");
        assert_ne!(r.status, 0);

        sc.write_ws("keep.txt", "orig\n");
        let before = listing(&sc.ws);
        let r = sc.sandbox(
            &["--workspace-mode", "overlay", "--overlay-size", "16M"],
            &[
                "sh",
                "-c",
                "echo changed > keep.txt; dd if=/dev/zero of=fill bs=1M count=64",
            ],
        );
        r.expect_err("No space left on device");
        assert_ne!(r.status, 0);
        assert_eq!(
            std::fs::read_to_string(sc.ws.join("keep.txt")).unwrap(),
            "orig\n",
            "[{}] the checkout changed",
            id.name
        );
        assert_eq!(
            listing(&sc.ws),
            before,
            "[{}] the checkout changed",
            id.name
        );
        let created = &r.outcome()["changes"]["created"];
        assert!(
            created
                .as_array()
                .is_some_and(|a| a.iter().any(|p| p == "fill")),
            "[{}] the overlay should list the partial file: {}",
            id.name,
            r.describe()
        );
    }
}

// ---------------------------------------------------------------------------------------
// 16. Infinite loops past the timeout.

#[test]
fn infinite_loops_are_killed_at_the_timeout() {
    for id in identities() {
        let sc = Scratch::new(id, "loop");
        let r = sc.sandbox(
            &["--timeout", "1"],
            &[
                "sh",
                "-c",
                "readlink /proc/self/ns/pid; while :; do :; done",
            ],
        );
        assert_eq!(r.status, EXIT_TIMEOUT, "[{}] {}", id.name, r.describe());
        let o = r.outcome();
        assert_eq!(o["exit"], "timeout");
        let ms = o["duration_ms"].as_f64().unwrap();
        assert!(ms < 3000.0, "[{}] duration {ms} ms", id.name);
        assert!(
            r.wall < Duration::from_secs(5),
            "[{}] took {:?}",
            id.name,
            r.wall
        );
        assert_no_leftovers(id.name, &pidns_of(&r), None);
    }
}

// ---------------------------------------------------------------------------------------
// 17. A descriptor leaked to airlock.

#[test]
fn leaked_descriptors_are_closed() {
    for id in identities() {
        let sc = Scratch::new(id, "fd");
        let target = sc.outside.join("leak.txt");
        std::fs::write(&target, "").unwrap();
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(&target)
            .unwrap();

        let mut c = sc.command(&[], &["sh", "-c", "echo pwned >&7; ls /proc/self/fd"]);
        pass_fd(&mut c, &file, 7);
        let r = Run::finish(id, c);
        r.expect_err("Bad file descriptor");
        assert_eq!(
            r.out().split_whitespace().collect::<Vec<_>>(),
            ["0", "1", "2", "3"],
            "[{}] descriptors inside: {}",
            id.name,
            r.describe()
        );
        assert_eq!(
            std::fs::read_to_string(&target).unwrap(),
            "",
            "[{}] the leaked descriptor was written",
            id.name
        );

        // Control: a plain host child with the same descriptor writes through it.
        let mut c = host_command(Some(id.host), &["sh", "-c", "echo control >&7"]);
        pass_fd(&mut c, &file, 7);
        let o = c.output().unwrap();
        assert!(o.status.success(), "host control: {o:?}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "control\n");
    }
}

// ---------------------------------------------------------------------------------------
// 18. Protected paths (.git/hooks, .git/config, .vscode, ...).

const PROTECTED_PROBE: &str = r#"
for i, p in enumerate(sys.argv[1:]):
    report("w%d" % i, attempt(lambda: create(p)))
"#;

#[test]
fn protected_paths_are_read_only_and_placeholders_vanish() {
    for id in identities() {
        // An existing .git/hooks and .git/config.
        let a = Scratch::new(id, "hooks");
        a.mkdir_ws(".git/hooks");
        a.write_ws(".git/config", "[core]\n");
        let before = listing(&a.ws);
        let r = a.sandbox_py(
            &[],
            PROTECTED_PROBE,
            &[".git/hooks/pre-commit", ".git/config", ".envrc", ".bashrc"],
        );
        r.expect("w0", "EROFS");
        r.expect("w1", "EROFS");
        // Absent files get read-only empty placeholders: writing them is refused.
        for k in ["w2", "w3"] {
            let v = r.get(k);
            assert!(v == "EROFS" || v == "EACCES", "[{}] {k}={v}", id.name);
        }
        let sh = a.sandbox(&[], &["sh", "-c", "echo evil > .git/hooks/pre-commit"]);
        sh.expect_err("Read-only file system");
        assert_eq!(
            listing(&a.ws),
            before,
            "[{}] placeholders or writes left",
            id.name
        );
        assert_eq!(
            std::fs::read_to_string(a.ws.join(".git/config")).unwrap(),
            "[core]\n"
        );

        // .git without hooks: the missing directory is still read-only.
        let b = Scratch::new(id, "nohooks");
        b.mkdir_ws(".git");
        let before = listing(&b.ws);
        let r = b.sandbox_py(&[], PROTECTED_PROBE, &[".git/hooks/pre-commit"]);
        r.expect("w0", "EROFS");
        assert_eq!(listing(&b.ws), before, "[{}] placeholders left", id.name);

        // No .vscode at all.
        let c = Scratch::new(id, "vscode");
        let r = c.sandbox_py(&[], PROTECTED_PROBE, &[".vscode/settings.json"]);
        r.expect("w0", "EROFS");
        assert_eq!(
            listing(&c.ws),
            Vec::<String>::new(),
            "[{}] placeholders left",
            id.name
        );

        // Control: the same uid writes all of it on the host.
        for (sc, rel) in [
            (&a, ".git/hooks/pre-commit"),
            (&b, ".git/hooks/pre-commit"),
            (&c, ".vscode/settings.json"),
        ] {
            let p = sc.ws.join(rel);
            let o = host(
                id.caller,
                &[
                    "sh",
                    "-c",
                    "mkdir -p \"$(dirname \"$1\")\" && echo control > \"$1\"",
                    "sh",
                    p.to_str().unwrap(),
                ],
            );
            assert!(
                o.status.success(),
                "[{}] host control {rel}: {o:?}",
                id.name
            );
        }
    }
}

/// Panics with every collected failure (the bug tests check both identities first).
#[track_caller]
fn assert_none_failed(failures: Vec<String>) {
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

const GIT_RENAME_ATTACK: &str = "mv .git .git-old; mkdir -p .git/hooks; \
     printf '#!/bin/sh\\necho PWNED\\n' > .git/hooks/pre-commit; \
     printf '[core]\\n\\tfsmonitor = echo PWNED\\n' > .git/config";

/// A repository's `.git` is not itself protected: renaming it carries the read-only
/// mounts of `.git/hooks` and `.git/config` away, and a fresh `.git` is writable. Git on
/// the host would then run the planted hook or `core.fsmonitor` command.
#[test]
fn renaming_dot_git_does_not_unprotect_hooks_and_config() {
    let mut failures = Vec::new();
    for id in identities() {
        let sc = Scratch::new(id, "gitmv");
        sc.mkdir_ws(".git/hooks");
        sc.write_ws(".git/config", "[core]\n");
        let r = sc.sandbox(&[], &["sh", "-c", GIT_RENAME_ATTACK]);
        r.outcome();
        if exists(&sc.ws.join(".git/hooks/pre-commit")) {
            failures.push(format!(
                "[{}] ESCAPE: `mv .git .git-old` inside the sandbox, then a new .git: \
                 .git/hooks/pre-commit was planted on the host; {}",
                id.name,
                r.describe()
            ));
        }
        let config = std::fs::read_to_string(sc.ws.join(".git/config")).unwrap_or_default();
        if config != "[core]\n" {
            failures.push(format!(
                "[{}] ESCAPE: .git/config on the host was rewritten to {config:?}",
                id.name
            ));
        }

        // Control: the same script as the caller on the host plants both.
        let ctl = Scratch::new(id, "gitmv-ctl");
        ctl.mkdir_ws(".git/hooks");
        ctl.write_ws(".git/config", "[core]\n");
        let ws = ctl.ws.to_str().unwrap();
        let o = host(
            id.caller,
            &[
                "sh",
                "-c",
                &format!("cd \"$1\" && {GIT_RENAME_ATTACK}"),
                "sh",
                ws,
            ],
        );
        assert!(o.status.success(), "host control: {o:?}");
        assert!(ctl.ws.join(".git/hooks/pre-commit").is_file());
    }
    assert_none_failed(failures);
}

/// `.git/commondir` makes git read its config (and hooks) from another directory, which
/// the sandbox can write, so it is as sensitive as `.git/config` (the overlay's `apply`
/// already treats it so).
#[test]
fn git_commondir_cannot_redirect_the_config() {
    let mut failures = Vec::new();
    for id in identities() {
        let sc = Scratch::new(id, "commondir");
        sc.mkdir_ws(".git/hooks");
        sc.write_ws(".git/config", "[core]\n");
        let r = sc.sandbox_py(&[], PROTECTED_PROBE, &[".git/commondir"]);
        let v = r.get("w0");
        // git refuses to work with an empty commondir, so it cannot get a read-only
        // placeholder: a direct run may create it, and airlock removes it (without
        // following links) and reports it when the run ends.
        let reported = r.outcome()["removed_after_run"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == ".git/commondir"));
        let on_host = exists(&sc.ws.join(".git/commondir"));
        let contained = match v.as_str() {
            "EROFS" | "EACCES" => !on_host,
            _ => !on_host && reported,
        };
        if !contained {
            failures.push(format!(
                "[{}] ESCAPE: creating .git/commondir inside the sandbox gave {v}; on the host \
                 afterwards: {on_host}; reported as removed: {reported}; git would read its \
                 config from wherever it points",
                id.name,
            ));
        }

        // Control: the caller creates it on the host.
        let o = host(
            id.caller,
            &[
                "touch",
                sc.ws.join(".git/commondir-control").to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "host control: {o:?}");
    }
    assert_none_failed(failures);
}

/// After a run, airlock removes the placeholders it made; it must not follow a `.git`
/// that the run replaced with a symlink to somewhere else on the host.
#[test]
fn placeholder_cleanup_does_not_follow_planted_symlinks() {
    let mut failures = Vec::new();
    for id in identities() {
        let sc = Scratch::new(id, "cleanup");
        sc.mkdir_ws(".git");
        // A host directory outside the workspace holding an empty file named like the
        // `.git/config` placeholder, owned by the caller (who could delete it anyway: the
        // point is that airlock does it on the sandbox's say-so).
        let victim = sc.base.join("victim");
        std::fs::create_dir(&victim).unwrap();
        std::fs::write(victim.join("config"), "").unwrap();
        let (u, g) = id.owner();
        lchown(&victim, Some(u), Some(g)).unwrap();
        lchown(victim.join("config"), Some(u), Some(g)).unwrap();

        let r = sc.sandbox(
            &[],
            &[
                "sh",
                "-c",
                "mv .git .git-old && ln -s \"$1\" .git",
                "sh",
                victim.to_str().unwrap(),
            ],
        );
        r.outcome();
        if !victim.join("config").exists() {
            let planted = std::fs::symlink_metadata(sc.ws.join(".git"))
                .map(|m| m.file_type().is_symlink())
                .unwrap_or(false);
            failures.push(format!(
                "[{}] airlock deleted {} outside the workspace while removing its .git/config \
                 placeholder, following the .git symlink the sandbox planted (planted: \
                 {planted}); {}",
                id.name,
                victim.join("config").display(),
                r.describe()
            ));
        }
    }
    assert_none_failed(failures);
}

/// A linked worktree's (or submodule's) `.git` is a file naming the real git dir; rewriting
/// it points git at a directory the sandbox controls. Either the run is refused or the file
/// stays as it was.
#[test]
fn a_worktree_dot_git_file_is_not_rewritten() {
    for id in identities() {
        let sc = Scratch::new(id, "worktree");
        let gitdir = sc.outside.join("gitdir");
        let original = format!("gitdir: {}\n", gitdir.display());
        sc.write_ws(".git", &original);
        let r = sc.sandbox(
            &[],
            &["sh", "-c", "mkdir evil && echo 'gitdir: evil' > .git"],
        );
        if !r.ran() {
            // Today: "sandbox setup failed at step Mkdir: Not a directory" (fails closed,
            // but no run is possible in a worktree checkout).
            eprintln!("[{}] worktree checkout refused: {}", id.name, r.json);
        }
        assert_eq!(
            std::fs::read_to_string(sc.ws.join(".git")).unwrap(),
            original,
            "[{}] ESCAPE: the worktree's .git file was rewritten; {}",
            id.name,
            r.describe()
        );
        assert_eq!(listing(&sc.ws).len(), usize::from(r.ran()) + 1);
    }
}

// ---------------------------------------------------------------------------------------
// 19. Refused workspaces and working directories.

#[test]
fn system_and_home_workspaces_are_refused_before_anything_runs() {
    let mut wrong_status = Vec::new();
    for id in identities() {
        let sc = Scratch::new(id, "refuse");
        let marker = sc.ws.join("marker");
        let probe = ["sh", "-c", "touch \"$1\"", "sh", marker.to_str().unwrap()];
        let ws = sc.ws.to_str().unwrap();
        let home = sc.home.to_str().unwrap();
        let root_link = sc.base.join("root-link");
        symlink("/", &root_link).unwrap();
        let root_link = root_link.to_str().unwrap();
        let cases: [(&[&str], &str); 9] = [
            (&["--workspace", "/"], "system directory"),
            (&["--workspace", "/usr"], "system directory"),
            (&["--workspace", "/etc"], "system directory"),
            (&["--workspace", "/root"], "system directory"),
            // A symlink to / is still /.
            (&["--workspace", root_link], "system directory"),
            // No --workspace: it defaults to the cwd.
            (&["--cwd", "/etc"], "system directory"),
            (
                &["--workspace", ws, "--cwd", "/etc"],
                "outside the workspace",
            ),
            (&["--workspace", ws, "--cwd", "/"], "outside the workspace"),
            (&["--workspace", home], "home directory"),
        ];
        for (opts, why) in cases {
            let r = sc.sandbox(opts, &probe);
            assert!(!r.ran(), "[{}] {opts:?} ran: {}", id.name, r.describe());
            assert!(
                r.json["error"].as_str().unwrap_or("").contains(why),
                "[{}] {opts:?}: expected {why:?} in {}",
                id.name,
                r.json
            );
            assert!(!exists(&marker), "[{}] {opts:?}: the probe ran", id.name);
            if r.status != EXIT_BAD_INPUT {
                wrong_status.push(format!(
                    "[{}] {opts:?}: exit {} (expected 122, bad input): {}",
                    id.name, r.status, r.json
                ));
            }
        }
        // Control: the same probe in the temp workspace runs.
        let r = sc.sandbox(&[], &probe);
        assert_eq!(r.status, 0, "[{}] {}", id.name, r.describe());
        assert!(marker.exists());
    }
    assert_none_failed(wrong_status);
}

// ---------------------------------------------------------------------------------------
// 20. The layers in force.

#[test]
fn layers_are_in_force() {
    for id in identities() {
        let sc = Scratch::new(id, "layers");
        let r = sc.sandbox(&[], &["cat", "/proc/self/status"]);
        let l = &r.outcome()["layers"];
        assert_eq!(l["uid"], NOBODY, "[{}] {l}", id.name);
        assert_eq!(l["host_uid"], id.host.0, "[{}] {l}", id.name);
        assert_eq!(
            l["idmapped_workspace"],
            id.caller.is_none(),
            "[{}] {l}",
            id.name
        );
        assert!(
            l["landlock_abi"].as_u64().unwrap_or(0) >= 6,
            "[{}] {l}",
            id.name
        );
        assert!(
            l["seccomp_instructions"].as_u64().unwrap_or(0) > 0,
            "[{}] {l}",
            id.name
        );
        let mut ns: Vec<&str> = l["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|v| v.as_str())
            .collect();
        ns.sort_unstable();
        assert_eq!(
            ns,
            ["cgroup", "ipc", "mount", "net", "pid", "user", "uts"],
            "[{}]",
            id.name
        );

        let status: std::collections::BTreeMap<&str, &str> = r
            .out()
            .lines()
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k, v.trim()))
            .collect();
        for (k, want) in [
            ("Uid", "65534\t65534\t65534\t65534"),
            ("CapInh", "0000000000000000"),
            ("CapPrm", "0000000000000000"),
            ("CapEff", "0000000000000000"),
            ("CapBnd", "0000000000000000"),
            ("CapAmb", "0000000000000000"),
            ("NoNewPrivs", "1"),
            ("Seccomp", "2"),
        ] {
            assert_eq!(status.get(k).copied(), Some(want), "[{}] {k}", id.name);
        }

        // Control: root on the host holds capabilities.
        let o = host(None, &["cat", "/proc/self/status"]);
        let host_status = String::from_utf8_lossy(&o.stdout);
        assert!(
            host_status
                .lines()
                .any(|l| l.starts_with("CapEff:") && !l.ends_with("0000000000000000")),
            "host control: {host_status}"
        );
    }
}
