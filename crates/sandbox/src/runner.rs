//! The parent side of a run: plan the child's view, spawn it in new namespaces, write its
//! id maps and cgroups, serve egress, capture output under a cap, enforce the wall-clock
//! timeout, and report what happened and which layers were in force.

use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use libc::{c_int, c_ulong};
use serde::Serialize;

use crate::child::{self, ChildPlan, LandlockPlan, MountOp, STAGE, Source, Step};
use crate::coord::WorkspaceLock;
use crate::egress::{EgressAttempt, EgressConfig, EgressProxy};
use crate::limits::{self, Cgroups};
use crate::overlay::{self, Changes};
use crate::profile::{PROXY_PORT, Profile, SANDBOX_HOME, WorkspaceMode};
use crate::seccomp::{Filter, FilterOptions};
use crate::sys;

/// The unprivileged identity code runs as inside the sandbox ("nobody").
pub const SANDBOX_ID: u32 = 65534;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// Killed by airlock at the wall-clock timeout.
    Timeout,
    /// Killed by airlock because a read-only mount in the sandbox was detached (a host
    /// process replaced a protected path during the run).
    ProtectionLost,
}

/// Which protections were actually in force for a run (never claimed, only observed).
#[derive(Debug, Clone, Serialize)]
pub struct Layers {
    pub namespaces: Vec<&'static str>,
    pub uid: u32,
    pub host_uid: u32,
    pub idmapped_workspace: bool,
    pub landlock_abi: u32,
    pub landlock_scopes: bool,
    pub landlock_network: bool,
    pub seccomp_instructions: usize,
    pub rlimits: Vec<(String, u64)>,
    pub cgroups: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Outcome {
    pub exit: Exit,
    /// Shell-style status: the exit code, or 128 + signal.
    pub status: i32,
    #[serde(serialize_with = "lossy")]
    pub stdout: Vec<u8>,
    #[serde(serialize_with = "lossy")]
    pub stderr: Vec<u8>,
    pub stdout_truncated: bool,
    pub stderr_truncated: bool,
    /// From the start of `run` to the reaping of the sandbox (its cleanup afterwards,
    /// cgroup removal and placeholder removal, is not included).
    pub duration_ms: f64,
    pub layers: Layers,
    pub memory_exhausted: bool,
    pub egress: Vec<EgressAttempt>,
    /// Protected paths the run created that could not be made read-only beforehand
    /// (see `CHECKED_AFTER`): removed from the workspace after the run.
    pub removed_after_run: Vec<String>,
    /// Overlay mode: what the run created, changed and deleted in the workspace.
    pub changes: Option<Changes>,
    /// Overlay mode: why the changes could not be listed (nothing can be applied then).
    pub overlay_error: Option<String>,
    /// Overlay mode: the upper layer, to save for a later `apply`.
    #[serde(skip)]
    pub upper: Option<OwnedFd>,
    #[serde(skip)]
    pub workspace: PathBuf,
}

fn lossy<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&String::from_utf8_lossy(b))
}

/// Paths inside a workspace that run code later outside any sandbox (hooks, shell rc,
/// editor and agent settings). They stay read-only in every run, existing or not.
pub use crate::overlay::PROTECTED;

/// Secrets masked even though the sandbox uid could not read them anyway.
const MASKED_FILES: &[&str] = &[
    "/etc/shadow",
    "/etc/shadow-",
    "/etc/gshadow",
    "/etc/gshadow-",
    "/etc/sudoers",
    "/etc/security/opasswd",
    "/etc/machine-id",
];
const MASKED_DIRS: &[&str] = &["/etc/sudoers.d", "/etc/ssl/private", "/etc/polkit-1"];
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom"];

// Landlock filesystem rights (include/uapi/linux/landlock.h).
const LL_EXECUTE: u64 = 1;
const LL_WRITE_FILE: u64 = 1 << 1;
const LL_READ_FILE: u64 = 1 << 2;
const LL_READ_DIR: u64 = 1 << 3;
const LL_REMOVE_DIR: u64 = 1 << 4;
const LL_REMOVE_FILE: u64 = 1 << 5;
const LL_MAKE_CHAR: u64 = 1 << 6;
const LL_MAKE_DIR: u64 = 1 << 7;
const LL_MAKE_REG: u64 = 1 << 8;
const LL_MAKE_SOCK: u64 = 1 << 9;
const LL_MAKE_FIFO: u64 = 1 << 10;
const LL_MAKE_BLOCK: u64 = 1 << 11;
const LL_MAKE_SYM: u64 = 1 << 12;
const LL_REFER: u64 = 1 << 13;
const LL_TRUNCATE: u64 = 1 << 14;
const LL_IOCTL_DEV: u64 = 1 << 15;
const LL_READ: u64 = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR;
const LL_WRITE: u64 = LL_READ
    | LL_WRITE_FILE
    | LL_REMOVE_DIR
    | LL_REMOVE_FILE
    | LL_MAKE_DIR
    | LL_MAKE_REG
    | LL_MAKE_SOCK
    | LL_MAKE_FIFO
    | LL_MAKE_SYM
    | LL_REFER
    | LL_TRUNCATE;
const LL_DEVICE: u64 = LL_READ_FILE | LL_WRITE_FILE | LL_TRUNCATE | LL_IOCTL_DEV;
const LL_CONNECT_TCP: u64 = 1 << 1;
const LL_SCOPE_ALL: u64 = 0b11; // abstract unix sockets, signals

/// The least Landlock ABI a run accepts; below it, `run` fails closed.
pub const MIN_LANDLOCK_ABI: u32 = 1;

fn fs_rights_for_abi(abi: u32) -> u64 {
    let mut all = LL_EXECUTE
        | LL_WRITE_FILE
        | LL_READ_FILE
        | LL_READ_DIR
        | LL_REMOVE_DIR
        | LL_REMOVE_FILE
        | LL_MAKE_CHAR
        | LL_MAKE_DIR
        | LL_MAKE_REG
        | LL_MAKE_SOCK
        | LL_MAKE_FIFO
        | LL_MAKE_BLOCK
        | LL_MAKE_SYM;
    if abi >= 2 {
        all |= LL_REFER;
    }
    if abi >= 3 {
        all |= LL_TRUNCATE;
    }
    if abi >= 5 {
        all |= LL_IOCTL_DEV;
    }
    all
}

fn cstr(p: impl AsRef<Path>) -> Result<CString, String> {
    CString::new(p.as_ref().as_os_str().as_bytes())
        .map_err(|_| format!("path {} contains NUL", p.as_ref().display()))
}

fn staged(p: impl AsRef<Path>) -> Result<CString, String> {
    let p = p.as_ref();
    cstr(format!("{STAGE}{}", p.display()))
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: pipe2 fills two fds.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        return Err(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fresh fds we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Builds the list of mount steps for the child. Reads the host only to learn which
/// paths exist; returns the steps, the sources to clone and the placeholders created in
/// the workspace (to remove after a direct run).
struct View {
    sources: Vec<Source>,
    ops: Vec<MountOp>,
    placeholders: Vec<PathBuf>,
    landlock_rules: Vec<(CString, u64)>,
}

fn mkdir_p(ops: &mut Vec<MountOp>, made: &mut Vec<PathBuf>, path: &Path) -> Result<(), String> {
    let mut acc = PathBuf::from("/");
    for c in path.components().skip(1) {
        acc.push(c);
        if !made.contains(&acc) {
            made.push(acc.clone());
            ops.push(MountOp::Mkdir {
                path: staged(&acc)?,
                mode: 0o755,
            });
        }
    }
    Ok(())
}

fn plan_view(profile: &Profile, ws: &Path, ws_fd: Option<RawFd>) -> Result<View, String> {
    let mut sources = Vec::new();
    let mut ops = Vec::new();
    let mut made: Vec<PathBuf> = Vec::new();
    let mut rules: Vec<(CString, u64)> = vec![(cstr("/")?, LL_READ)];
    let ro = sys::MOUNT_ATTR_RDONLY | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;

    // System directories, read-only; merged-/usr symlinks recreated as symlinks.
    for top in [
        "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32",
    ] {
        let p = Path::new(top);
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::read_link(p).map_err(|e| format!("{top}: {e}"))?;
                ops.push(MountOp::Symlink {
                    target: cstr(&target)?,
                    path: staged(p)?,
                });
            }
            Ok(m) if m.is_dir() => {
                sources.push(Source {
                    path: cstr(p)?,
                    attr: ro,
                    parent_fd: None,
                });
                mkdir_p(&mut ops, &mut made, p)?;
                ops.push(MountOp::Attach {
                    source: sources.len() - 1,
                    path: staged(p)?,
                });
            }
            _ => {}
        }
    }
    // Extra read-only binds (toolchains), at the same place as on the host.
    for extra in &profile.read_only {
        let p = std::fs::canonicalize(extra).map_err(|e| format!("{}: {e}", extra.display()))?;
        if SYSTEM_TOPS.iter().any(|t| p.starts_with(t)) {
            continue; // already visible
        }
        sources.push(Source {
            path: cstr(&p)?,
            attr: ro,
            parent_fd: None,
        });
        if p.is_dir() {
            mkdir_p(&mut ops, &mut made, &p)?;
        } else {
            mkdir_p(&mut ops, &mut made, p.parent().unwrap_or(Path::new("/")))?;
            ops.push(MountOp::Touch { path: staged(&p)? });
        }
        ops.push(MountOp::Attach {
            source: sources.len() - 1,
            path: staged(&p)?,
        });
    }

    // A fresh /proc for the new PID namespace, with the kernel knobs read-only.
    mkdir_p(&mut ops, &mut made, Path::new("/proc"))?;
    ops.push(MountOp::Proc {
        path: staged("/proc")?,
    });
    for k in ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"] {
        ops.push(MountOp::ReadOnly {
            path: staged(k)?,
            optional: true,
        });
    }

    // A minimal /dev.
    mkdir_p(&mut ops, &mut made, Path::new("/dev"))?;
    ops.push(MountOp::Tmpfs {
        path: staged("/dev")?,
        flags: libc::MS_NOSUID | libc::MS_NOEXEC,
        data: CString::new("size=64k,nr_inodes=64,mode=0755").expect("static"),
    });
    for d in DEVICES {
        let host = format!("/dev/{d}");
        sources.push(Source {
            path: cstr(&host)?,
            attr: sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NOEXEC,
            parent_fd: None,
        });
        ops.push(MountOp::Touch {
            path: staged(&host)?,
        });
        ops.push(MountOp::Attach {
            source: sources.len() - 1,
            path: staged(&host)?,
        });
        rules.push((cstr(&host)?, LL_DEVICE));
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        ops.push(MountOp::Symlink {
            target: cstr(target)?,
            path: staged(format!("/dev/{name}"))?,
        });
    }
    let small = |mode: &str, bytes: u64| {
        CString::new(format!("size={bytes},nr_inodes=65536,mode={mode}")).expect("no NUL")
    };
    ops.push(MountOp::Mkdir {
        path: staged("/dev/shm")?,
        mode: 0o755,
    });
    ops.push(MountOp::Tmpfs {
        path: staged("/dev/shm")?,
        flags: libc::MS_NOSUID | libc::MS_NODEV,
        data: small("1777", profile.limits.tmp_bytes.min(64 << 20)),
    });
    rules.push((cstr("/dev/shm")?, LL_WRITE));

    // Private /tmp and HOME.
    mkdir_p(&mut ops, &mut made, Path::new("/tmp"))?;
    ops.push(MountOp::Tmpfs {
        path: staged("/tmp")?,
        flags: libc::MS_NOSUID | libc::MS_NODEV,
        data: small("1777", profile.limits.tmp_bytes),
    });
    rules.push((cstr("/tmp")?, LL_WRITE));
    mkdir_p(&mut ops, &mut made, Path::new(SANDBOX_HOME))?;
    ops.push(MountOp::Tmpfs {
        path: staged(SANDBOX_HOME)?,
        flags: libc::MS_NOSUID | libc::MS_NODEV,
        data: CString::new(format!(
            "size={},nr_inodes=65536,mode=0700,uid={SANDBOX_ID},gid={SANDBOX_ID}",
            profile.limits.tmp_bytes.min(64 << 20)
        ))
        .expect("no NUL"),
    });
    rules.push((cstr(SANDBOX_HOME)?, LL_WRITE));

    // Secrets masked even where the view shows them.
    ops.push(MountOp::Touch {
        path: staged("/.airlock-empty")?,
    });
    let mut masked_files: Vec<String> = MASKED_FILES.iter().map(|s| s.to_string()).collect();
    if let Ok(rd) = std::fs::read_dir("/etc/ssh") {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().to_string();
            if n.starts_with("ssh_host_") && n.contains("key") {
                masked_files.push(format!("/etc/ssh/{n}"));
            }
        }
    }
    for f in &masked_files {
        if std::fs::symlink_metadata(f)
            .map(|m| m.is_file())
            .unwrap_or(false)
        {
            ops.push(MountOp::MaskFile {
                empty: staged("/.airlock-empty")?,
                path: staged(f)?,
            });
        }
    }
    // airlock's own files that happen to sit inside a bound tree (e.g. /etc/airlock).
    for h in &profile.hidden {
        let visible = SYSTEM_TOPS.iter().any(|t| h.starts_with(t))
            || profile.read_only.iter().any(|r| h.starts_with(r));
        match std::fs::symlink_metadata(h) {
            Ok(m) if visible && m.is_dir() => ops.push(MountOp::MaskDir { path: staged(h)? }),
            Ok(m) if visible && m.is_file() => ops.push(MountOp::MaskFile {
                empty: staged("/.airlock-empty")?,
                path: staged(h)?,
            }),
            _ => {}
        }
    }
    for d in MASKED_DIRS {
        if std::fs::symlink_metadata(d)
            .map(|m| m.is_dir())
            .unwrap_or(false)
        {
            ops.push(MountOp::MaskDir { path: staged(d)? });
        }
    }

    // The workspace.
    let ws_attr = sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV;
    sources.push(Source {
        path: cstr(ws)?,
        attr: if ws_fd.is_some() { 0 } else { ws_attr },
        parent_fd: ws_fd,
    });
    let ws_source = sources.len() - 1;
    match profile.mode {
        WorkspaceMode::Direct => {
            mkdir_p(&mut ops, &mut made, ws)?;
            ops.push(MountOp::Attach {
                source: ws_source,
                path: staged(ws)?,
            });
        }
        WorkspaceMode::Overlay => {
            for d in ["/.airlock", "/.airlock/lower", "/.airlock/upper"] {
                ops.push(MountOp::Mkdir {
                    path: staged(d)?,
                    mode: 0o755,
                });
            }
            ops.push(MountOp::Attach {
                source: ws_source,
                path: staged("/.airlock/lower")?,
            });
            // The lower layer is the checkout: read-only, so nothing reaches it.
            ops.push(MountOp::ReadOnly {
                path: staged("/.airlock/lower")?,
                optional: false,
            });
            ops.push(MountOp::Tmpfs {
                path: staged("/.airlock/upper")?,
                flags: libc::MS_NOSUID | libc::MS_NODEV,
                data: small("0755", profile.limits.overlay_bytes),
            });
            for d in ["/.airlock/upper/u", "/.airlock/upper/w"] {
                ops.push(MountOp::Mkdir {
                    path: staged(d)?,
                    mode: 0o755,
                });
            }
            mkdir_p(&mut ops, &mut made, ws)?;
            let data = format!(
                "lowerdir={s}/.airlock/lower,upperdir={s}/.airlock/upper/u,workdir={s}/.airlock/upper/w,userxattr,redirect_dir=nofollow,index=off,metacopy=off",
                s = STAGE
            );
            ops.push(MountOp::Overlay {
                path: staged(ws)?,
                data: CString::new(data).map_err(|_| "NUL in path")?,
            });
            ops.push(MountOp::KeepDir {
                path: staged("/.airlock/upper/u")?,
            });
        }
    }
    rules.push((cstr(ws)?, LL_WRITE));

    // Protected paths: read-only whether or not they exist yet. Every directory between
    // the workspace root and a protected path is pinned (bound onto itself), so renaming
    // it away (`mv .git .git-old`) fails with EBUSY instead of unprotecting its contents.
    let mut placeholders = Vec::new();
    let mut covered: Vec<PathBuf> = Vec::new();
    let mut pins: Vec<PathBuf> = Vec::new();
    let mut protect_ops = Vec::new();
    let mut create_ops = Vec::new();
    let mut first_file: Vec<(PathBuf, PathBuf)> = Vec::new();
    let hooks_paths = git_hooks_paths(ws);
    let protected = PROTECTED
        .iter()
        .map(|p| (*p, PROTECTED_DIRS.contains(p)))
        .chain(EXTRA_PROTECTED.iter().copied())
        .chain(hooks_paths.iter().map(|h| (h.as_str(), true)));
    for (rel, is_dir) in protected {
        let comps: Vec<_> = Path::new(rel).components().collect();
        let mut acc = ws.to_path_buf();
        // (path, is a directory, exists)
        let mut target: Option<(PathBuf, bool, bool)> = None;
        for (i, c) in comps.iter().enumerate() {
            acc.push(c);
            let last = i + 1 == comps.len();
            match std::fs::symlink_metadata(&acc) {
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(format!(
                        "protected path {} is a symlink; refusing to run (it could be redirected outside the sandbox's read-only view)",
                        acc.display()
                    ));
                }
                Ok(m) if last => target = Some((acc.clone(), m.is_dir(), true)),
                // A `.git` file (a worktree or submodule checkout) names the real git
                // directory: protect it as it stands.
                Ok(m) if !m.is_dir() => {
                    target = Some((acc.clone(), false, true));
                    break;
                }
                Ok(_) => {
                    if !pins.contains(&acc) {
                        pins.push(acc.clone());
                    }
                }
                Err(_) => {
                    target = Some((acc.clone(), if last { is_dir } else { true }, false));
                    break;
                }
            }
        }
        let Some((target, dir, exists)) = target else {
            continue;
        };
        if covered.iter().any(|c| target.starts_with(c)) {
            continue;
        }
        covered.push(target.clone());
        if exists {
            protect_ops.push(MountOp::ReadOnly {
                path: staged(&target)?,
                optional: false,
            });
        } else if dir {
            create_ops.push(MountOp::Mkdir {
                path: staged(&target)?,
                mode: 0o755,
            });
            protect_ops.push(MountOp::MaskDir {
                path: staged(&target)?,
            });
            placeholders.push(target);
        } else {
            // File placeholders in one directory share one inode (hard links): a new
            // inode on the host's filesystem costs far more than a directory entry.
            // (Links cannot cross mounts, and pinned directories are mounts.)
            let parent = target.parent().map(Path::to_path_buf);
            match first_file.iter().find(|(d, _)| Some(d) == parent.as_ref()) {
                None => {
                    create_ops.push(MountOp::Touch {
                        path: staged(&target)?,
                    });
                    if let Some(d) = parent {
                        first_file.push((d, target.clone()));
                    }
                }
                Some((_, first)) => create_ops.push(MountOp::Link {
                    from: staged(first)?,
                    path: staged(&target)?,
                }),
            }
            protect_ops.push(MountOp::MaskFile {
                empty: staged("/.airlock-empty")?,
                path: staged(&target)?,
            });
            placeholders.push(target);
        }
    }
    for p in &pins {
        ops.push(MountOp::Pin { path: staged(p)? });
    }
    // Placeholders first (links need their source unmounted), then the read-only mounts.
    ops.extend(create_ops);
    ops.extend(protect_ops);
    if !placeholders.is_empty() {
        // Keep git inside the sandbox from adding the placeholders (see GIT_CONFIG_* below).
        let mut list = String::new();
        for p in &placeholders {
            if let Ok(rel) = p.strip_prefix(ws) {
                list.push_str(&format!("/{}\n", rel.display()));
            }
        }
        ops.push(MountOp::WriteFile {
            path: staged(GIT_EXCLUDES)?,
            data: list.into_bytes(),
        });
    }
    if profile.mode == WorkspaceMode::Overlay {
        // Gone from the view once the overlay holds its own references.
        ops.push(MountOp::Detach {
            path: staged("/.airlock/upper")?,
        });
        ops.push(MountOp::Detach {
            path: staged("/.airlock/lower")?,
        });
    }
    Ok(View {
        sources,
        ops,
        placeholders,
        landlock_rules: rules,
    })
}

/// The excludes file naming the placeholders, for git inside the sandbox.
const GIT_EXCLUDES: &str = "/.airlock-git-excludes";

const SYSTEM_TOPS: &[&str] = &[
    "/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32",
];
/// More git paths that make a later git command on the host run code or read another
/// configuration: submodule and worktree git directories, per-worktree configuration.
const EXTRA_PROTECTED: &[(&str, bool)] = &[
    (".git/config.worktree", false),
    (".git/modules", true),
    (".git/worktrees", true),
];

/// Paths that cannot have a placeholder (git refuses to work with an empty one) and so are
/// checked after a direct run instead: created by the run, they are removed and reported.
pub const CHECKED_AFTER: &[&str] = &[".git/commondir"];

/// Protected names that are directories (the rest are files).
const PROTECTED_DIRS: &[&str] = &[
    ".git/hooks",
    ".vscode",
    ".idea",
    ".claude",
    ".codex",
    ".cursor",
];

/// Hook directories git would use for this workspace besides `.git/hooks`: every
/// `core.hooksPath` in the repository's, the caller's and the system's configuration that
/// points inside the workspace (husky and similar tools keep hooks in the worktree).
/// Returned relative to the workspace.
fn git_hooks_paths(ws: &Path) -> Vec<String> {
    let mut files = vec![ws.join(".git/config"), PathBuf::from("/etc/gitconfig")];
    if let Some(h) = std::env::var_os("HOME") {
        files.push(Path::new(&h).join(".gitconfig"));
        files.push(Path::new(&h).join(".config/git/config"));
    }
    let mut out = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let mut in_core = false;
        for line in text.lines() {
            let l = line.trim();
            if l.starts_with('[') {
                in_core = l
                    .trim_start_matches('[')
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("core");
                continue;
            }
            let Some((k, v)) = l.split_once('=') else {
                continue;
            };
            if !in_core || !k.trim().eq_ignore_ascii_case("hookspath") {
                continue;
            }
            let v = v.trim().trim_matches('"');
            let p = if Path::new(v).is_absolute() {
                PathBuf::from(v)
            } else {
                ws.join(v)
            };
            // Lexically normal and inside the workspace, or not ours to protect.
            if p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
            {
                continue;
            }
            if let Ok(rel) = p.strip_prefix(ws)
                && !rel.as_os_str().is_empty()
            {
                let rel = rel.to_string_lossy().trim_end_matches('/').to_string();
                if !out.contains(&rel) {
                    out.push(rel);
                }
            }
        }
    }
    out
}

/// Creates a user namespace whose only mapping is `inside -> outside` (uid and gid) and
/// returns an fd to it, for an id-mapped mount.
fn mapping_userns(uid_in: u32, gid_in: u32, outside: u32) -> Result<OwnedFd, String> {
    let (r, w) = pipe()?;
    // SAFETY: fork-like clone; the child only blocks on a read and exits.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (libc::CLONE_NEWUSER | libc::SIGCHLD) as c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if pid < 0 {
        return Err(format!(
            "creating an id-mapping namespace: {}",
            std::io::Error::last_os_error()
        ));
    }
    if pid == 0 {
        let mut b = 0u8;
        // SAFETY: child: block until the parent closes the pipe, then exit.
        unsafe {
            libc::close(w.as_raw_fd());
            libc::read(r.as_raw_fd(), (&mut b as *mut u8).cast(), 1);
            libc::_exit(0);
        }
    }
    drop(r);
    let result = (|| {
        std::fs::write(
            format!("/proc/{pid}/uid_map"),
            format!("{uid_in} {outside} 1\n"),
        )
        .map_err(|e| format!("id-mapping uid_map: {e}"))?;
        std::fs::write(
            format!("/proc/{pid}/gid_map"),
            format!("{gid_in} {outside} 1\n"),
        )
        .map_err(|e| format!("id-mapping gid_map: {e}"))?;
        let f = std::fs::File::open(format!("/proc/{pid}/ns/user"))
            .map_err(|e| format!("id-mapping ns: {e}"))?;
        Ok(OwnedFd::from(f))
    })();
    drop(w);
    // SAFETY: reap our own child.
    unsafe { libc::waitpid(pid as libc::pid_t, std::ptr::null_mut(), 0) };
    result
}

/// An id-mapped clone of the workspace in which files owned by the workspace's owner
/// appear owned by the sandbox uid (and the sandbox's files land owned by that owner).
fn idmapped_workspace(ws: &Path) -> Result<OwnedFd, String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(ws).map_err(|e| format!("{}: {e}", ws.display()))?;
    let ns = mapping_userns(m.uid(), m.gid(), SANDBOX_ID)?;
    let c = cstr(ws)?;
    // SAFETY: valid C string; the fd is owned below.
    let fd = unsafe {
        sys::open_tree(
            libc::AT_FDCWD,
            c.as_ptr(),
            sys::OPEN_TREE_CLONE | sys::OPEN_TREE_CLOEXEC,
        )
    }
    .map_err(|e| {
        format!(
            "open_tree {}: {}",
            ws.display(),
            std::io::Error::from_raw_os_error(e)
        )
    })?;
    // SAFETY: fresh fd.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let attr = sys::MountAttr {
        attr_set: sys::MOUNT_ATTR_IDMAP | sys::MOUNT_ATTR_NOSUID | sys::MOUNT_ATTR_NODEV,
        attr_clr: 0,
        propagation: 0,
        userns_fd: ns.as_raw_fd() as u64,
    };
    sys::mount_setattr_fd(fd.as_raw_fd(), false, &attr).map_err(|e| {
        format!(
            "id-mapped mount of {}: {} (needs kernel ≥ 5.12 and a filesystem that supports id mapping)",
            ws.display(),
            std::io::Error::from_raw_os_error(e)
        )
    })?;
    Ok(fd)
}

fn cap_last() -> c_int {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(63)
}

fn run_id() -> String {
    let mut b = [0u8; 6];
    // SAFETY: getrandom fills the stack buffer.
    unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    format!(
        "{}-{}",
        std::process::id(),
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    )
}

fn recv_fds(sock: RawFd, want: usize) -> Result<Vec<OwnedFd>, String> {
    let mut byte = [0u8; 1];
    let mut iov = libc::iovec {
        iov_base: byte.as_mut_ptr().cast(),
        iov_len: 1,
    };
    #[repr(C, align(8))]
    struct Cmsg([u8; 64]);
    let mut cbuf = Cmsg([0; 64]);
    // SAFETY: msghdr over stack buffers; we only read fds the kernel wrote.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.0.as_mut_ptr().cast();
        msg.msg_controllen = cbuf.0.len();
        let n = libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n <= 0 {
            return Err("the sandbox closed its channel before handing over its sockets".into());
        }
        let mut out = Vec::new();
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                let data = libc::CMSG_DATA(cmsg).cast::<c_int>();
                let count =
                    ((*cmsg).cmsg_len - libc::CMSG_LEN(0) as usize) / std::mem::size_of::<c_int>();
                for i in 0..count {
                    out.push(OwnedFd::from_raw_fd(*data.add(i)));
                }
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
        if out.len() != want {
            return Err(format!(
                "expected {want} descriptors from the sandbox, got {}",
                out.len()
            ));
        }
        Ok(out)
    }
}

fn describe_setup_error(step: Step, errno: i32, program: &str) -> String {
    let err = std::io::Error::from_raw_os_error(errno);
    match step {
        Step::Exec => format!("cannot execute {program} in the sandbox: {err}"),
        Step::Sync => "the sandbox did not start (airlock's side went away)".into(),
        _ => format!("sandbox setup failed at step {step:?}: {err}"),
    }
}

/// Why nothing ran.
#[derive(Debug, Clone)]
pub enum RunError {
    /// The profile is not acceptable (workspace, cwd or a bind): bad input.
    Refused(String),
    /// The sandbox could not be built: setup failed closed.
    Setup(String),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Refused(m) | RunError::Setup(m) => f.write_str(m),
        }
    }
}

/// Runs `program args` under `profile`. An error means nothing ran.
pub fn run(profile: &Profile, program: &str, args: &[String]) -> Result<Outcome, RunError> {
    let start = Instant::now();
    let home = std::env::var_os("HOME").map(PathBuf::from);
    let (ws, cwd) = profile
        .validate(home.as_deref())
        .map_err(RunError::Refused)?;
    spawn(profile, ws, cwd, program, args, start).map_err(RunError::Setup)
}

fn spawn(
    profile: &Profile,
    ws: PathBuf,
    cwd: PathBuf,
    program: &str,
    args: &[String],
    start: Instant,
) -> Result<Outcome, String> {
    // SAFETY: plain getters.
    let (euid, egid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let root_caller = euid == 0;

    let abi = sys::landlock_abi();
    if abi < MIN_LANDLOCK_ABI {
        return Err("Landlock is not available on this kernel (or disabled by the LSM list); airlock does not run code without it".into());
    }

    // The workspace source: as root, an id-mapped clone so the sandbox uid can write
    // files that belong to the workspace owner without ever holding host uid 0.
    let ws_tree = if root_caller {
        Some(idmapped_workspace(&ws)?)
    } else {
        None
    };
    // Direct runs on one workspace coordinate their placeholders (see `coord`).
    let mut ws_lock = if profile.mode == WorkspaceMode::Direct {
        Some(WorkspaceLock::begin(&ws)?)
    } else {
        None
    };
    let view = plan_view(profile, &ws, ws_tree.as_ref().map(|f| f.as_raw_fd()))?;
    if let Some(l) = &mut ws_lock {
        l.register(&ws, &view.placeholders)?;
    }
    let _placeholders = PlaceholderGuard {
        lock: ws_lock,
        ws: ws.clone(),
    };
    let has_upper = profile.mode == WorkspaceMode::Overlay;
    let egress_on = !profile.grants.is_empty();

    // Environment: only what the profile names plus the sandbox's own variables.
    let credential = if egress_on {
        EgressProxy::new_credential()
    } else {
        String::new()
    };
    let mut path_dirs: Vec<String> = profile.path_prepend.clone();
    path_dirs.extend(
        [
            "/usr/local/sbin",
            "/usr/local/bin",
            "/usr/sbin",
            "/usr/bin",
            "/sbin",
            "/bin",
        ]
        .map(String::from),
    );
    let mut env: Vec<(String, String)> = vec![
        ("PATH".into(), path_dirs.join(":")),
        ("HOME".into(), SANDBOX_HOME.into()),
        ("USER".into(), "nobody".into()),
        ("LOGNAME".into(), "nobody".into()),
        ("TMPDIR".into(), "/tmp".into()),
        ("LANG".into(), "C.UTF-8".into()),
        ("TERM".into(), "dumb".into()),
        ("PWD".into(), cwd.to_string_lossy().into_owned()),
    ];
    if !view.placeholders.is_empty() {
        env.extend([
            ("GIT_CONFIG_COUNT".to_string(), "1".to_string()),
            (
                "GIT_CONFIG_KEY_0".to_string(),
                "core.excludesFile".to_string(),
            ),
            ("GIT_CONFIG_VALUE_0".to_string(), GIT_EXCLUDES.to_string()),
        ]);
    }
    for (k, v) in &profile.env {
        env.retain(|(ek, _)| ek != k);
        env.push((k.clone(), v.clone()));
    }
    if egress_on {
        for (k, v) in EgressProxy::proxy_env(PROXY_PORT, &credential) {
            env.retain(|(ek, _)| *ek != k);
            env.push((k, v));
        }
    }
    let env_c: Vec<CString> = env
        .iter()
        .map(|(k, v)| {
            CString::new(format!("{k}={v}"))
                .map_err(|_| format!("environment variable {k} contains NUL"))
        })
        .collect::<Result<_, _>>()?;
    let mut argv_c = vec![CString::new(program).map_err(|_| "program contains NUL")?];
    for a in args {
        argv_c.push(CString::new(a.as_str()).map_err(|_| "argument contains NUL")?);
    }
    let candidates: Vec<CString> = if program.contains('/') {
        Vec::new()
    } else if program.is_empty() {
        return Err("empty program name".into());
    } else {
        path_dirs
            .iter()
            .map(|d| CString::new(format!("{d}/{program}")).map_err(|_| "NUL in PATH".to_string()))
            .collect::<Result<_, _>>()?
    };

    let rl = limits::rlimits(&profile.limits);
    let handled_fs = fs_rights_for_abi(abi);
    let landlock = LandlockPlan {
        handled_fs,
        handled_net: if abi >= 4 { LL_CONNECT_TCP } else { 0 },
        scoped: if abi >= 6 { LL_SCOPE_ALL } else { 0 },
        attr_size: if abi >= 6 { 24 } else { 16 },
        rules: view.landlock_rules,
        connect_ports: if egress_on && abi >= 4 {
            vec![PROXY_PORT]
        } else {
            Vec::new()
        },
    };
    let seccomp = Filter::build(&FilterOptions {
        allow_inet: egress_on,
    });
    let seccomp_len = seccomp.len();

    let (stdout_r, stdout_w) = pipe()?;
    let (stderr_r, stderr_w) = pipe()?;
    let (sync_r, sync_w) = pipe()?;
    let (error_r, error_w) = pipe()?;
    let (status_r, status_w) = pipe()?;
    let mut sp = [0 as c_int; 2];
    // SAFETY: socketpair fills two fds.
    if unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC,
            0,
            sp.as_mut_ptr(),
        )
    } < 0
    {
        return Err(format!("socketpair: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: fresh fds.
    let (chan_parent, chan_child) =
        unsafe { (OwnedFd::from_raw_fd(sp[0]), OwnedFd::from_raw_fd(sp[1])) };
    let devnull = std::fs::File::open("/dev/null").map_err(|e| format!("/dev/null: {e}"))?;

    let n_sources = view.sources.len();
    let mut plan = ChildPlan {
        stdin: devnull.as_raw_fd(),
        stdout: stdout_w.as_raw_fd(),
        stderr: stderr_w.as_raw_fd(),
        sync_read: sync_r.as_raw_fd(),
        sync_write_parent: sync_w.as_raw_fd(),
        error_write: error_w.as_raw_fd(),
        status_write: status_w.as_raw_fd(),
        channel: chan_child.as_raw_fd(),
        drop_groups: root_caller,
        uid: SANDBOX_ID,
        gid: SANDBOX_ID,
        sources: view.sources,
        tree_fds: vec![-1; n_sources],
        stage: cstr(STAGE)?,
        ops: view.ops,
        hostname: CString::new("airlock").expect("static"),
        proxy_port: egress_on.then_some(PROXY_PORT),
        landlock: Some(landlock),
        rlimits: rl.iter().map(|(r, v, _)| (*r, *v)).collect(),
        cap_last: cap_last(),
        seccomp,
        cwd: cstr(&cwd)?,
        program: argv_c[0].clone(),
        candidates,
        argv: Vec::new(),
        envp: Vec::new(),
    };
    plan.argv = argv_c
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();
    plan.envp = env_c
        .iter()
        .map(|c| c.as_ptr())
        .chain(std::iter::once(std::ptr::null()))
        .collect();

    // Paths checked after a direct run: present now means the run did not create them.
    let checked_before: Vec<bool> = CHECKED_AFTER
        .iter()
        .map(|r| std::fs::symlink_metadata(ws.join(r)).is_ok())
        .collect();
    let id = run_id();
    let cgroups = Cgroups::create(&profile.limits, &id);

    let flags = libc::CLONE_NEWUSER
        | libc::CLONE_NEWNS
        | libc::CLONE_NEWPID
        | libc::CLONE_NEWNET
        | libc::CLONE_NEWIPC
        | libc::CLONE_NEWUTS
        | libc::CLONE_NEWCGROUP
        | libc::CLONE_PIDFD
        | libc::SIGCHLD;
    let mut pidfd: c_int = -1;
    let spawned = Instant::now();
    // SAFETY: fork-like clone (no CLONE_VM, no new stack). The child runs only
    // async-signal-safe code over the prepared plan and never returns.
    let pid = unsafe {
        libc::syscall(
            libc::SYS_clone,
            flags as c_ulong,
            0usize,
            &mut pidfd as *mut c_int,
            0usize,
            0usize,
        )
    };
    if pid < 0 {
        let e = std::io::Error::last_os_error();
        return Err(format!(
            "cannot create the sandbox's namespaces: {e} (user namespaces disabled? see `airlock doctor`)"
        ));
    }
    if pid == 0 {
        // SAFETY: we are the freshly cloned child.
        unsafe { child::run(&mut plan) }
    }
    let pid = pid as libc::pid_t;
    // SAFETY: the kernel returned a fresh pidfd.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    drop((
        stdout_w, stderr_w, sync_r, error_w, status_w, chan_child, devnull,
    ));

    let kill = |pidfd: &OwnedFd| {
        let _ = sys::pidfd_send_signal(pidfd.as_raw_fd(), libc::SIGKILL);
    };
    let reap = |pidfd: &OwnedFd| {
        // SAFETY: waitid on our own child's pidfd.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PIDFD,
                pidfd.as_raw_fd() as libc::id_t,
                &mut info,
                libc::WEXITED,
            );
        }
    };
    let fail =
        |msg: String, pidfd: &OwnedFd, placeholders: &[PathBuf]| -> Result<Outcome, String> {
            kill(pidfd);
            reap(pidfd);
            let _ = placeholders; // removed when the guard drops, if no other run needs them
            Err(msg)
        };

    // Identity maps: the sandbox uid is "nobody"; as root it is host nobody, otherwise
    // the caller's own uid. Never host uid 0.
    let (host_uid, host_gid) = if root_caller {
        (SANDBOX_ID, SANDBOX_ID)
    } else {
        (euid, egid)
    };
    let maps = (|| {
        if !root_caller {
            std::fs::write(format!("/proc/{pid}/setgroups"), "deny")
                .map_err(|e| format!("setgroups: {e}"))?;
        }
        std::fs::write(
            format!("/proc/{pid}/uid_map"),
            format!("{SANDBOX_ID} {host_uid} 1\n"),
        )
        .map_err(|e| format!("uid_map: {e}"))?;
        std::fs::write(
            format!("/proc/{pid}/gid_map"),
            format!("{SANDBOX_ID} {host_gid} 1\n"),
        )
        .map_err(|e| format!("gid_map: {e}"))
    })();
    if let Err(e) = maps {
        return fail(
            format!("sandbox identity setup failed: {e}"),
            &pidfd,
            &view.placeholders,
        );
    }
    // SAFETY: one byte to release the child into its setup.
    if unsafe { libc::write(sync_w.as_raw_fd(), b"g".as_ptr().cast(), 1) } != 1 {
        return fail(
            "could not release the sandbox".into(),
            &pidfd,
            &view.placeholders,
        );
    }
    // Cgroups are attached while the child builds its view; it waits for this second
    // byte before it starts the workload, so the limits hold from the first instruction.
    if let Err(e) = cgroups.attach(pid) {
        return fail(format!("sandbox limits: {e}"), &pidfd, &view.placeholders);
    }
    // SAFETY: one byte: the workload may start.
    if unsafe { libc::write(sync_w.as_raw_fd(), b"c".as_ptr().cast(), 1) } != 1 {
        // The child is gone: its own report says why.
        let msg = match read_error(error_r.as_raw_fd())
            .and_then(|(s, e)| Some((Step::from_u32(s)?, e)))
        {
            Some((step, errno)) => describe_setup_error(step, errno, program),
            None => "the sandbox exited during setup".into(),
        };
        return fail(msg, &pidfd, &view.placeholders);
    }
    // sync_w stays open for the whole run: the child watches it to learn that airlock died.

    let deadline = spawned + profile.limits.timeout;
    // Setup: wait for the handed-over descriptors (if any) and for exec (error pipe EOF).
    let want_fds = usize::from(egress_on) + usize::from(has_upper);
    let mut received: Vec<OwnedFd> = Vec::new();
    let mut setup_error: Option<(u32, i32)> = None;
    let mut error_open = true;
    while error_open || (want_fds > 0 && received.is_empty()) {
        let now = Instant::now();
        if now >= deadline {
            return fail(
                "sandbox setup did not finish before the timeout".into(),
                &pidfd,
                &view.placeholders,
            );
        }
        let mut fds = vec![libc::pollfd {
            fd: error_r.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        if !error_open {
            fds[0].fd = -1;
        }
        if want_fds > 0 && received.is_empty() {
            fds.push(libc::pollfd {
                fd: chan_parent.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            });
        }
        let ms = (deadline - now).as_millis().min(1000) as c_int;
        // SAFETY: poll over a live vector.
        let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
        if r < 0 {
            continue;
        }
        if fds.len() > 1 && fds[1].revents != 0 {
            match recv_fds(chan_parent.as_raw_fd(), want_fds) {
                Ok(v) => received = v,
                Err(e) => {
                    // The child failed first: prefer its own error report.
                    if let Some(err) = read_error(error_r.as_raw_fd()) {
                        setup_error = Some(err);
                        break;
                    }
                    return fail(e, &pidfd, &view.placeholders);
                }
            }
        }
        if error_open && fds[0].revents != 0 {
            match read_error(error_r.as_raw_fd()) {
                Some(err) => {
                    setup_error = Some(err);
                    break;
                }
                None => error_open = false,
            }
        }
    }
    if let Some((step, errno)) = setup_error {
        let step = Step::from_u32(step);
        let msg = match step {
            Some(s) => describe_setup_error(s, errno, program),
            None => "sandbox setup failed".into(),
        };
        return fail(msg, &pidfd, &view.placeholders);
    }
    let mut received = received.into_iter();
    let proxy = if egress_on {
        let listener =
            std::net::TcpListener::from(received.next().ok_or("missing proxy listener")?);
        let config = EgressConfig {
            grants: profile.grants.clone(),
            static_hosts: profile.static_hosts.clone(),
            connect_timeout: Duration::from_secs(10),
            max_connections: 64,
        };
        match EgressProxy::start(listener, config, credential.clone()) {
            Ok(p) => Some(p),
            Err(e) => return fail(format!("egress proxy: {e}"), &pidfd, &view.placeholders),
        }
    } else {
        None
    };
    let upper = if has_upper { received.next() } else { None };

    // Run: capture output under the cap until the init exits; kill at the deadline.
    let cap = profile.limits.output_bytes;
    let mut out = Capture::new(cap);
    let mut err = Capture::new(cap);
    let mut timed_out = false;
    let mut exited = false;
    let mut out_open = true;
    let mut err_open = true;
    let mut drain_deadline: Option<Instant> = None;
    // The sandbox cannot change its own mounts (no capabilities, seccomp), so any change
    // to its mount table now is the kernel detaching a read-only mount because something
    // on the host renamed or removed the path under it (`git config` rewrites
    // `.git/config` by rename). That protection is gone: stop the run at once.
    let mountinfo = std::fs::File::open(format!("/proc/{pid}/mountinfo")).ok();
    let mut protection_lost = false;
    while out_open || err_open || !exited {
        let now = Instant::now();
        if !exited && !timed_out && now >= deadline {
            kill(&pidfd);
            timed_out = true;
        }
        if let Some(d) = drain_deadline
            && now >= d
        {
            break; // a stray writer outlived the namespace: stop waiting
        }
        let mut fds = [
            libc::pollfd {
                fd: if out_open { stdout_r.as_raw_fd() } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if err_open { stderr_r.as_raw_fd() } else { -1 },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: if exited { -1 } else { pidfd.as_raw_fd() },
                events: libc::POLLIN,
                revents: 0,
            },
            libc::pollfd {
                fd: match &mountinfo {
                    Some(f) if !exited && !protection_lost => f.as_raw_fd(),
                    _ => -1,
                },
                events: libc::POLLPRI,
                revents: 0,
            },
        ];
        let ms = if timed_out {
            100
        } else {
            deadline
                .saturating_duration_since(now)
                .as_millis()
                .clamp(1, 1000) as c_int
        };
        // SAFETY: poll over a stack array.
        unsafe { libc::poll(fds.as_mut_ptr(), 4, ms) };
        if out_open && fds[0].revents != 0 {
            out_open = out.read_from(stdout_r.as_raw_fd());
        }
        if err_open && fds[1].revents != 0 {
            err_open = err.read_from(stderr_r.as_raw_fd());
        }
        if !exited && fds[2].revents == 0 && fds[3].revents & (libc::POLLPRI | libc::POLLERR) != 0 {
            kill(&pidfd);
            protection_lost = true;
        }
        if !exited && fds[2].revents != 0 {
            reap(&pidfd);
            exited = true;
            drain_deadline = Some(Instant::now() + Duration::from_secs(2));
        }
    }
    let duration = start.elapsed();
    let mut status_buf = [0u8; 4];
    // SAFETY: non-blocking-ish read: the init wrote before exiting, or the pipe is at EOF.
    let got = unsafe { libc::read(status_r.as_raw_fd(), status_buf.as_mut_ptr().cast(), 4) };
    let exit = if timed_out {
        Exit::Timeout
    } else if protection_lost {
        Exit::ProtectionLost
    } else if got == 4 {
        let st = c_int::from_ne_bytes(status_buf);
        if libc::WIFEXITED(st) {
            Exit::Code(libc::WEXITSTATUS(st))
        } else if libc::WIFSIGNALED(st) {
            Exit::Signal(libc::WTERMSIG(st))
        } else {
            Exit::Signal(libc::SIGKILL)
        }
    } else {
        // The init died without a report: killed from outside (e.g. the OOM killer).
        Exit::Signal(libc::SIGKILL)
    };
    let status = match exit {
        Exit::Code(c) => c,
        Exit::Signal(s) => 128 + s,
        Exit::Timeout | Exit::ProtectionLost => 128 + libc::SIGKILL,
    };
    let egress = proxy.map(|p| p.stop()).unwrap_or_default();
    let memory_exhausted = cgroups.oom_killed();
    let mut cgroups = cgroups;
    let cg_in_force = cgroups.in_force.clone();
    cgroups.remove();

    let mut removed_after_run = Vec::new();
    if profile.mode == WorkspaceMode::Direct {
        for (rel, existed) in CHECKED_AFTER.iter().zip(&checked_before) {
            if !existed && remove_below(&ws, Path::new(rel), false) {
                removed_after_run.push(rel.to_string());
            }
        }
    }
    if let Some(u) = &upper {
        // Placeholders for protected paths are airlock's, not the run's: take them out of
        // the upper layer (they are empty; anything else there is left to show up).
        for ph in view.placeholders.iter().rev() {
            if let Ok(rel) = ph.strip_prefix(&ws)
                && let Ok(c) = cstr(rel)
            {
                // SAFETY: unlinkat relative to the upper layer's directory fd.
                unsafe {
                    if libc::unlinkat(u.as_raw_fd(), c.as_ptr(), libc::AT_REMOVEDIR) < 0 {
                        libc::unlinkat(u.as_raw_fd(), c.as_ptr(), 0);
                    }
                }
            }
        }
    }
    // The run happened: from here on a problem is reported in the outcome, never as
    // "nothing ran" (its output and egress record must not be lost).
    let mut overlay_error = None;
    let changes = match &upper {
        Some(u) => 'scan: {
            use std::os::fd::AsFd;
            let mut c = match overlay::scan(u.as_fd(), &ws) {
                Ok(c) => c,
                Err(e) => {
                    overlay_error = Some(format!(
                        "the overlay's changes cannot be listed or applied: {e}"
                    ));
                    break 'scan None;
                }
            };
            // Placeholders for protected paths are airlock's, not the run's.
            let ours = |p: &String| {
                view.placeholders
                    .iter()
                    .any(|ph| ws.join(p) == *ph || ws.join(p).starts_with(ph))
            };
            c.created.retain(|p| !ours(p));
            c.modified.retain(|p| !ours(p));
            Some(c)
        }
        None => None,
    };
    let upper = if overlay_error.is_some() { None } else { upper };
    Ok(Outcome {
        exit,
        status,
        stdout: out.buf,
        stderr: err.buf,
        stdout_truncated: out.truncated,
        stderr_truncated: err.truncated,
        duration_ms: duration.as_secs_f64() * 1000.0,
        layers: Layers {
            namespaces: vec!["user", "mount", "pid", "net", "ipc", "uts", "cgroup"],
            uid: SANDBOX_ID,
            host_uid,
            idmapped_workspace: root_caller,
            landlock_abi: abi,
            landlock_scopes: abi >= 6,
            landlock_network: abi >= 4,
            seccomp_instructions: seccomp_len,
            rlimits: rl.iter().map(|(_, v, n)| (n.to_string(), *v)).collect(),
            cgroups: cg_in_force,
        },
        memory_exhausted,
        egress,
        removed_after_run,
        changes,
        overlay_error,
        upper,
        workspace: ws,
    })
}

fn read_error(fd: RawFd) -> Option<(u32, i32)> {
    let mut buf = [0u8; 8];
    // SAFETY: read into a stack buffer.
    let n = unsafe { libc::read(fd, buf.as_mut_ptr().cast(), 8) };
    if n == 8 {
        Some((
            u32::from_ne_bytes(buf[..4].try_into().expect("4 bytes")),
            i32::from_ne_bytes(buf[4..].try_into().expect("4 bytes")),
        ))
    } else {
        None
    }
}

/// Removes `rel` below `ws` without following any symlink on the way (the run may have
/// replaced a directory with a link to elsewhere). With `only_empty`, only an empty
/// directory or an empty regular file is removed. Returns whether something was removed.
fn remove_below(ws: &Path, rel: &Path, only_empty: bool) -> bool {
    let Ok(root) = std::fs::File::open(ws) else {
        return false;
    };
    let comps: Vec<CString> = match rel
        .components()
        .map(|c| CString::new(c.as_os_str().as_bytes()))
        .collect::<Result<_, _>>()
    {
        Ok(v) => v,
        Err(_) => return false,
    };
    let Some((name, parents)) = comps.split_last() else {
        return false;
    };
    let mut dir = OwnedFd::from(root);
    for c in parents {
        // SAFETY: openat relative to a directory fd we own.
        let fd = unsafe {
            libc::openat(
                dir.as_raw_fd(),
                c.as_ptr(),
                libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            return false;
        }
        // SAFETY: fresh fd.
        dir = unsafe { OwnedFd::from_raw_fd(fd) };
    }
    // SAFETY: fstatat/unlinkat relative to a directory fd we own, on a stack stat.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstatat(
            dir.as_raw_fd(),
            name.as_ptr(),
            &mut st,
            libc::AT_SYMLINK_NOFOLLOW,
        ) < 0
        {
            return false;
        }
        let kind = st.st_mode & libc::S_IFMT;
        if kind == libc::S_IFDIR {
            libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), libc::AT_REMOVEDIR) == 0
        } else if !only_empty || (kind == libc::S_IFREG && st.st_size == 0) {
            libc::unlinkat(dir.as_raw_fd(), name.as_ptr(), 0) == 0
        } else {
            false
        }
    }
}

/// Removes placeholders (this run's and any a killed run left) when the run ends, if no
/// other run on the workspace still has them mounted.
struct PlaceholderGuard {
    lock: Option<WorkspaceLock>,
    ws: PathBuf,
}

impl Drop for PlaceholderGuard {
    fn drop(&mut self) {
        if let Some(l) = self.lock.take() {
            l.finish(|rel| {
                remove_below(&self.ws, rel, true);
            });
        }
    }
}

struct Capture {
    buf: Vec<u8>,
    cap: usize,
    truncated: bool,
}

impl Capture {
    fn new(cap: usize) -> Capture {
        Capture {
            buf: Vec::new(),
            cap,
            truncated: false,
        }
    }

    /// Reads what is available; returns false at EOF. Bytes past the cap are dropped.
    fn read_from(&mut self, fd: RawFd) -> bool {
        let mut chunk = [0u8; 16384];
        // SAFETY: read into a stack buffer.
        let n = unsafe { libc::read(fd, chunk.as_mut_ptr().cast(), chunk.len()) };
        if n <= 0 {
            return n < 0 && sys::errno() == libc::EINTR;
        }
        let n = n as usize;
        let room = self.cap.saturating_sub(self.buf.len());
        if n > room {
            self.truncated = true;
        }
        self.buf.extend_from_slice(&chunk[..n.min(room)]);
        true
    }
}
