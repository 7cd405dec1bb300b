//! Overlay workspace mode: read back what a sandboxed run did, keep it, and apply it.
//!
//! In overlay mode the runner mounts overlayfs over the workspace inside an unprivileged user
//! namespace: lower = the real checkout (read-only), upper = a directory on a size-limited
//! tmpfs. Because the mount happens in a user namespace it uses `userxattr`, so the upper
//! layer marks opaque directories with `user.overlay.opaque` = `y` and deleted entries with
//! whiteouts (character devices 0:0, or zero-size regular files carrying
//! `user.overlay.whiteout`). The `trusted.overlay.*` spellings are recognised too.
//! Redirects and metacopy are not supported: the mount must use `redirect_dir=nofollow`
//! (on Linux 6.x `redirect_dir=off` is rejected together with `userxattr`, because it still
//! means "follow") and no `metacopy=on`; an upper layer carrying either is an error.
//!
//! All walking is done relative to directory fds with `O_NOFOLLOW` (`openat`, `fstatat`,
//! `readlinkat`, `fdopendir` on a dup), so the upper layer can be read through an fd that
//! outlived the sandbox's mount namespace, and no symlink is ever followed below the roots.
//!
//! * [`scan`] lists what the run changed compared with the lower layer.
//! * [`save`] stores those changes (plus a baseline of every lower entry they modify or
//!   delete) in a private directory, bounded in bytes and entries.
//! * [`apply`] validates a saved layer against the workspace and only then writes it.
//!
//! Saved layer format (`dest/`, mode 0700): `manifest` (text, one record per line after the
//! header `airlock-overlay-layer v1`) and `blobs/<n>` (contents of created/modified files).
//! A record is `<created|modified|deleted> <path> <new> <base>`, fields percent-encoded, where
//! `<new>` is `-`, `dir:<mode>`, `file:<mode>:<size>:<fnv64>:<blob>` or `symlink:<target>` and
//! `<base>` (the lower entry at save time) is `-`, `dir:<mode>`,
//! `file:<mode>:<size>:<mtime_s>:<mtime_ns>:<fnv64>`, `symlink:<target>` or
//! `special:<fmt>:<mode>` (modes in octal). Deleted directories are listed together with
//! everything below them, so each deleted file carries its own baseline.

use std::collections::{HashMap, HashSet};
use std::ffi::{CStr, CString};
use std::fs::{self, DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// What a run did to the workspace: workspace-relative, `/`-separated, sorted paths.
///
/// A new directory is listed together with everything in it; a deleted directory likewise.
/// Names that are not UTF-8 are shown lossily here (the saved layer keeps the exact bytes).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Changes {
    pub created: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
}

/// Paths a run may never change through [`apply`]; the runner also mounts them read-only.
///
/// [`is_protected`] matches them at any depth (a nested checkout's `.git/hooks` or a
/// subdirectory's `.envrc` are as dangerous as the top-level ones), ASCII case-insensitively,
/// and everything below a listed path is protected too.
pub const PROTECTED: &[&str] = &[
    ".git/hooks",
    ".git/config",
    ".gitmodules",
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".profile",
    ".zshrc",
    ".zprofile",
    ".zshenv",
    ".envrc",
    ".vscode",
    ".idea",
    ".claude",
    ".codex",
    ".cursor",
    ".mcp.json",
];

/// Git internals that can also make a later `git` run execute code or read another config
/// (`commondir` moves the config, `modules/*` holds submodules' hooks and configs). Checked by
/// [`is_protected`] in addition to [`PROTECTED`].
const EXTRA_PROTECTED: &[&str] = &[
    ".git/config.worktree",
    ".git/commondir",
    ".git/modules",
    ".git/worktrees",
];

/// Whether `rel` (workspace-relative, `/`-separated) is, or lies below, a protected path.
///
/// Matching is per component at any depth, ASCII case-insensitive. Empty and `.` components
/// are ignored; a path with a `..` component cannot be judged and counts as protected.
pub fn is_protected(rel: &str) -> bool {
    is_protected_bytes(rel.as_bytes())
}

fn is_protected_bytes(rel: &[u8]) -> bool {
    let comps: Vec<&[u8]> = rel
        .split(|&b| b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .collect();
    if comps.iter().any(|c| *c == b"..") {
        return true;
    }
    PROTECTED.iter().chain(EXTRA_PROTECTED).any(|pat| {
        let pat: Vec<&[u8]> = pat.as_bytes().split(|&b| b == b'/').collect();
        comps
            .windows(pat.len())
            .any(|w| w.iter().zip(&pat).all(|(a, b)| a.eq_ignore_ascii_case(b)))
    })
}

/// Compare the upper layer against the lower (the real workspace) and list what the run did.
///
/// * a whiteout deletes the lower entry (and everything below it); a whiteout of something
///   the lower does not have is ignored;
/// * in an opaque directory (and below it) every lower entry not present in the upper is
///   deleted;
/// * an upper file, symlink or directory is created if the lower lacks it, and modified if
///   type, content, symlink target or permission bits (`0o7777`) differ; a copy-up without a
///   real change (touch, chmod to the same mode, rewriting the same bytes) is no change, and a
///   directory is only listed when new, when it replaced a non-directory, or when its mode
///   changed.
pub fn scan(upper: BorrowedFd<'_>, lower: &Path) -> io::Result<Changes> {
    let low = open_root(lower)?;
    let mut diff = Differ::new(false, usize::MAX, u64::MAX);
    diff.walk(upper, Some(low.as_fd()), b"", false, 0)?;
    Ok(changes_of(&diff.recs))
}

/// Store the run's changes in `dest` (a new directory, created 0700; it must not exist) so
/// they survive the sandbox, with a baseline (type, mode, size, mtime, FNV-1a 64 of the
/// content) of every lower entry that is modified or deleted, for [`apply`] to check.
///
/// Refuses (and leaves no `dest`) when the changes hold more than `max_bytes` bytes of file
/// content and symlink targets, or more than `max_entries` created/modified/deleted entries.
pub fn save(
    upper: BorrowedFd<'_>,
    lower: &Path,
    dest: &Path,
    max_bytes: u64,
    max_entries: usize,
) -> io::Result<()> {
    let low = open_root(lower)?;
    let mut diff = Differ::new(true, max_entries, max_bytes);
    diff.walk(upper, Some(low.as_fd()), b"", false, 0)?;
    let mut recs = diff.recs;
    recs.sort_by(|a, b| a.path.cmp(&b.path));
    DirBuilder::new().mode(0o700).create(dest)?;
    let res = write_saved(upper, &mut recs, dest);
    if res.is_err() {
        let _ = fs::remove_dir_all(dest);
    }
    res
}

/// Apply a layer stored by [`save`] onto `workspace`, and return what it changed.
///
/// Everything is validated before anything is written, so a refusal applies nothing:
/// every path must be relative without `.`/`..`/empty components and not protected (see
/// [`is_protected`]; a non-directory named `.git` is refused as well, since a gitfile can
/// point git at another directory); every entry to be modified or deleted must still match
/// its baseline, a created entry must still be absent, and a directory to be removed must
/// hold nothing but entries that are deleted too. The workspace is walked one component at a
/// time with `O_NOFOLLOW`: a symlink where a directory is expected is an error. Modes are
/// masked with `0o777` (no set-uid, set-gid or sticky bit is ever created). Files and
/// symlinks are written to a temporary name and renamed into place.
///
/// An I/O error while writing (after validation) can leave the change half applied.
pub fn apply(saved: &Path, workspace: &Path) -> io::Result<Changes> {
    let text = fs::read(saved.join("manifest"))?;
    let mut recs = parse_manifest(&text)?;
    recs.sort_by(|a, b| a.path.cmp(&b.path));
    let saved_fd = open_root(saved)?;
    let blobs = open_dir_at(saved_fd.as_fd(), b"blobs")?;
    let root = open_root(workspace)?;
    validate(&recs, root.as_fd(), blobs.as_fd())?;
    write_changes(&recs, root.as_fd(), blobs.as_fd())?;
    Ok(changes_of(&recs))
}

// ---------------------------------------------------------------------------------------
// Records

/// Deepest directory nesting walked; deeper trees are refused rather than risking the stack
/// or the fd limit (each level holds up to two directory fds).
const MAX_DEPTH: usize = 256;

const HEADER: &str = "airlock-overlay-layer v1";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Created,
    Modified,
    Deleted,
}

/// The entry as the run left it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum New {
    Dir {
        mode: u32,
    },
    File {
        mode: u32,
        size: u64,
        hash: u64,
        blob: u64,
    },
    Symlink {
        target: Vec<u8>,
    },
}

/// The lower entry as it was when the layer was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Base {
    Dir {
        mode: u32,
    },
    File {
        mode: u32,
        size: u64,
        mtime_sec: i64,
        mtime_nsec: i64,
        hash: u64,
    },
    Symlink {
        target: Vec<u8>,
    },
    Special {
        fmt: u32,
        mode: u32,
    },
}

impl Base {
    fn is_dir(&self) -> bool {
        matches!(self, Base::Dir { .. })
    }
}

#[derive(Debug, Clone)]
struct Rec {
    path: Vec<u8>,
    change: Change,
    new: Option<New>,
    base: Option<Base>,
}

fn changes_of(recs: &[Rec]) -> Changes {
    let mut out = Changes::default();
    for r in recs {
        let p = show(&r.path);
        match r.change {
            Change::Created => out.created.push(p),
            Change::Modified => out.modified.push(p),
            Change::Deleted => out.deleted.push(p),
        }
    }
    out.created.sort();
    out.modified.sort();
    out.deleted.sort();
    out
}

// ---------------------------------------------------------------------------------------
// Diffing the upper layer against the lower

enum Upper {
    Whiteout,
    Dir {
        mode: u32,
        opaque: bool,
        fd: OwnedFd,
    },
    File {
        mode: u32,
        size: u64,
        file: File,
    },
    Symlink {
        target: Vec<u8>,
    },
}

fn classify(dir: BorrowedFd<'_>, name: &[u8], path: &[u8]) -> io::Result<Option<Upper>> {
    let Some(st) = lstat_at(dir, name)? else {
        return Ok(None);
    };
    let kind = match fmt(&st) {
        libc::S_IFCHR if st.st_rdev == 0 => Upper::Whiteout,
        libc::S_IFREG => {
            let file = open_file_at(dir, name).map_err(|e| ctx(e, "opening upper", path))?;
            let st = fstat(file.as_fd())?;
            if overlay_xattr(file.as_fd(), "metacopy")?.is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!(
                        "upper layer holds a metacopy file (mount with metacopy=off): {}",
                        show(path)
                    ),
                ));
            }
            if st.st_size == 0 && overlay_xattr(file.as_fd(), "whiteout")?.is_some() {
                Upper::Whiteout
            } else {
                Upper::File {
                    mode: perm(&st),
                    size: st.st_size as u64,
                    file,
                }
            }
        }
        libc::S_IFDIR => {
            let fd = open_dir_at(dir, name).map_err(|e| ctx(e, "opening upper", path))?;
            let st = fstat(fd.as_fd())?;
            if overlay_xattr(fd.as_fd(), "redirect")?.is_some() {
                return Err(io::Error::new(
                    io::ErrorKind::Unsupported,
                    format!(
                        "upper layer holds a redirected directory (mount with redirect_dir=nofollow): {}",
                        show(path)
                    ),
                ));
            }
            // "x" marks a directory that merely contains xattr whiteouts; only "y" is opaque.
            let opaque = overlay_xattr(fd.as_fd(), "opaque")?.as_deref() == Some(b"y");
            Upper::Dir {
                mode: perm(&st),
                opaque,
                fd,
            }
        }
        libc::S_IFLNK => Upper::Symlink {
            target: readlink_at(dir, name)?,
        },
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "upper layer holds an unsupported file type (fifo, socket or device): {}",
                    show(path)
                ),
            ));
        }
    };
    Ok(Some(kind))
}

struct Differ {
    baseline: bool,
    max_entries: usize,
    max_bytes: u64,
    bytes: u64,
    recs: Vec<Rec>,
}

impl Differ {
    fn new(baseline: bool, max_entries: usize, max_bytes: u64) -> Self {
        Differ {
            baseline,
            max_entries,
            max_bytes,
            bytes: 0,
            recs: Vec::new(),
        }
    }

    fn push(
        &mut self,
        path: Vec<u8>,
        change: Change,
        new: Option<New>,
        base: Option<Base>,
    ) -> io::Result<()> {
        match &new {
            Some(New::File { size, .. }) => self.bytes = self.bytes.saturating_add(*size),
            Some(New::Symlink { target }) => {
                self.bytes = self.bytes.saturating_add(target.len() as u64)
            }
            _ => {}
        }
        if self.bytes > self.max_bytes {
            return Err(io::Error::new(
                io::ErrorKind::QuotaExceeded,
                format!(
                    "the run's changes exceed the limit of {} bytes",
                    self.max_bytes
                ),
            ));
        }
        if self.recs.len() >= self.max_entries {
            return Err(io::Error::new(
                io::ErrorKind::QuotaExceeded,
                format!(
                    "the run's changes exceed the limit of {} entries",
                    self.max_entries
                ),
            ));
        }
        self.recs.push(Rec {
            path,
            change,
            new,
            base,
        });
        Ok(())
    }

    fn base_of(
        &self,
        dir: BorrowedFd<'_>,
        name: &[u8],
        st: &libc::stat,
    ) -> io::Result<Option<Base>> {
        if !self.baseline {
            return Ok(None);
        }
        baseline_of(dir, name, st).map(Some)
    }

    /// Walk one upper directory. `low` is the lower directory at the same path, if any;
    /// `opaque` says the lower entries missing from the upper are deleted.
    fn walk(
        &mut self,
        up: BorrowedFd<'_>,
        low: Option<BorrowedFd<'_>>,
        prefix: &[u8],
        opaque: bool,
        depth: usize,
    ) -> io::Result<()> {
        if depth > MAX_DEPTH {
            return Err(too_deep(prefix));
        }
        let names = list_dir(up).map_err(|e| ctx(e, "reading upper directory", prefix))?;
        for name in &names {
            let path = join(prefix, name);
            let Some(kind) = classify(up, name, &path)? else {
                continue;
            };
            let lower = match low {
                Some(l) => lstat_at(l, name)?.map(|st| (l, st)),
                None => None,
            };
            match kind {
                Upper::Whiteout => {
                    if let Some((l, st)) = lower {
                        self.deleted(l, name, path, &st, depth)?;
                    }
                }
                Upper::Dir {
                    mode,
                    opaque: marked,
                    fd,
                } => {
                    let new = Some(New::Dir { mode });
                    match lower {
                        None => {
                            self.push(path.clone(), Change::Created, new, None)?;
                            self.walk(fd.as_fd(), None, &path, false, depth + 1)?;
                        }
                        Some((l, st)) if fmt(&st) == libc::S_IFDIR => {
                            if perm(&st) != mode {
                                let base = self.base_of(l, name, &st)?;
                                self.push(path.clone(), Change::Modified, new, base)?;
                            }
                            let lfd = open_dir_at(l, name).map_err(|e| ctx(e, "opening", &path))?;
                            self.walk(
                                fd.as_fd(),
                                Some(lfd.as_fd()),
                                &path,
                                opaque || marked,
                                depth + 1,
                            )?;
                        }
                        Some((l, st)) => {
                            let base = self.base_of(l, name, &st)?;
                            self.push(path.clone(), Change::Modified, new, base)?;
                            self.walk(fd.as_fd(), None, &path, false, depth + 1)?;
                        }
                    }
                }
                Upper::File {
                    mode,
                    size,
                    mut file,
                } => {
                    let new = Some(New::File {
                        mode,
                        size,
                        hash: 0,
                        blob: 0,
                    });
                    match lower {
                        None => self.push(path, Change::Created, new, None)?,
                        Some((l, st)) => {
                            let changed = if fmt(&st) == libc::S_IFREG {
                                perm(&st) != mode
                                    || st.st_size as u64 != size
                                    || !same_content(&mut file, &mut open_file_at(l, name)?)?
                            } else {
                                if fmt(&st) == libc::S_IFDIR {
                                    self.deleted_children(l, name, &path, depth)?;
                                }
                                true
                            };
                            if changed {
                                let base = self.base_of(l, name, &st)?;
                                self.push(path, Change::Modified, new, base)?;
                            }
                        }
                    }
                }
                Upper::Symlink { target } => match lower {
                    None => {
                        self.push(path, Change::Created, Some(New::Symlink { target }), None)?
                    }
                    Some((l, st)) => {
                        let changed = if fmt(&st) == libc::S_IFLNK {
                            readlink_at(l, name)? != target
                        } else {
                            if fmt(&st) == libc::S_IFDIR {
                                self.deleted_children(l, name, &path, depth)?;
                            }
                            true
                        };
                        if changed {
                            let base = self.base_of(l, name, &st)?;
                            self.push(path, Change::Modified, Some(New::Symlink { target }), base)?;
                        }
                    }
                },
            }
        }
        if opaque && let Some(l) = low {
            let seen: HashSet<&[u8]> = names.iter().map(Vec::as_slice).collect();
            for name in list_dir(l)? {
                if seen.contains(name.as_slice()) {
                    continue;
                }
                if let Some(st) = lstat_at(l, &name)? {
                    self.deleted(l, &name, join(prefix, &name), &st, depth)?;
                }
            }
        }
        Ok(())
    }

    /// Record the lower entry `name` in `dir` (and everything below it) as deleted.
    fn deleted(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &[u8],
        path: Vec<u8>,
        st: &libc::stat,
        depth: usize,
    ) -> io::Result<()> {
        let base = self.base_of(dir, name, st)?;
        let is_dir = fmt(st) == libc::S_IFDIR;
        self.push(path.clone(), Change::Deleted, None, base)?;
        if is_dir {
            self.deleted_children(dir, name, &path, depth)?;
        }
        Ok(())
    }

    /// Record everything below the lower directory `name` in `dir` as deleted.
    fn deleted_children(
        &mut self,
        dir: BorrowedFd<'_>,
        name: &[u8],
        path: &[u8],
        depth: usize,
    ) -> io::Result<()> {
        if depth + 1 > MAX_DEPTH {
            return Err(too_deep(path));
        }
        let fd = open_dir_at(dir, name).map_err(|e| ctx(e, "opening", path))?;
        for child in list_dir(fd.as_fd())? {
            if let Some(st) = lstat_at(fd.as_fd(), &child)? {
                self.deleted(fd.as_fd(), &child, join(path, &child), &st, depth + 1)?;
            }
        }
        Ok(())
    }
}

fn baseline_of(dir: BorrowedFd<'_>, name: &[u8], st: &libc::stat) -> io::Result<Base> {
    Ok(match fmt(st) {
        libc::S_IFDIR => Base::Dir { mode: perm(st) },
        libc::S_IFREG => {
            let mut f = open_file_at(dir, name)?;
            let st = fstat(f.as_fd())?;
            let (hash, _) = hash_of(&mut f)?;
            Base::File {
                mode: perm(&st),
                size: st.st_size as u64,
                mtime_sec: st.st_mtime,
                mtime_nsec: st.st_mtime_nsec,
                hash,
            }
        }
        libc::S_IFLNK => Base::Symlink {
            target: readlink_at(dir, name)?,
        },
        f => Base::Special {
            fmt: f,
            mode: perm(st),
        },
    })
}

fn too_deep(path: &[u8]) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "directory tree nested deeper than {MAX_DEPTH} levels at {}",
            show(path)
        ),
    )
}

// ---------------------------------------------------------------------------------------
// Saving

fn write_saved(upper: BorrowedFd<'_>, recs: &mut [Rec], dest: &Path) -> io::Result<()> {
    fs::set_permissions(dest, Permissions::from_mode(0o700))?;
    let blobs = dest.join("blobs");
    DirBuilder::new().mode(0o700).create(&blobs)?;
    let mut next = 0u64;
    for r in recs.iter_mut() {
        if let Some(New::File {
            size, hash, blob, ..
        }) = &mut r.new
        {
            let src = open_path_file(upper, &r.path)?;
            let mut out = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(blobs.join(next.to_string()))?;
            let (h, n) = copy_hashed(&mut src.take(*size + 1), &mut out)?;
            if n != *size {
                return Err(io::Error::other(format!(
                    "{} changed while the layer was being saved",
                    show(&r.path)
                )));
            }
            *hash = h;
            *blob = next;
            next += 1;
        }
    }
    let mut out = BufWriter::new(
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dest.join("manifest"))?,
    );
    writeln!(out, "{HEADER}")?;
    for r in recs.iter() {
        writeln!(out, "{}", format_rec(r))?;
    }
    out.into_inner().map_err(|e| e.into_error())?.sync_all()
}

fn format_rec(r: &Rec) -> String {
    let change = match r.change {
        Change::Created => "created",
        Change::Modified => "modified",
        Change::Deleted => "deleted",
    };
    let new = match &r.new {
        None => "-".to_string(),
        Some(New::Dir { mode }) => format!("dir:{mode:o}"),
        Some(New::File {
            mode,
            size,
            hash,
            blob,
        }) => format!("file:{mode:o}:{size}:{hash:016x}:{blob}"),
        Some(New::Symlink { target }) => format!("symlink:{}", enc(target)),
    };
    let base = match &r.base {
        None => "-".to_string(),
        Some(Base::Dir { mode }) => format!("dir:{mode:o}"),
        Some(Base::File {
            mode,
            size,
            mtime_sec,
            mtime_nsec,
            hash,
        }) => format!("file:{mode:o}:{size}:{mtime_sec}:{mtime_nsec}:{hash:016x}"),
        Some(Base::Symlink { target }) => format!("symlink:{}", enc(target)),
        Some(Base::Special { fmt, mode }) => format!("special:{fmt:o}:{mode:o}"),
    };
    format!("{change} {} {new} {base}", enc(&r.path))
}

fn parse_manifest(text: &[u8]) -> io::Result<Vec<Rec>> {
    let text = std::str::from_utf8(text).map_err(|_| bad_manifest("not UTF-8"))?;
    let mut lines = text.lines();
    if lines.next() != Some(HEADER) {
        return Err(bad_manifest("unknown header"));
    }
    let mut recs = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(' ').collect();
        let [change, path, new, base] = f[..] else {
            return Err(bad_manifest(line));
        };
        let change = match change {
            "created" => Change::Created,
            "modified" => Change::Modified,
            "deleted" => Change::Deleted,
            _ => return Err(bad_manifest(line)),
        };
        recs.push(Rec {
            path: dec(path)?,
            change,
            new: parse_new(new).ok_or_else(|| bad_manifest(line))?,
            base: parse_base(base).ok_or_else(|| bad_manifest(line))?,
        });
    }
    Ok(recs)
}

fn parse_new(s: &str) -> Option<Option<New>> {
    if s == "-" {
        return Some(None);
    }
    let f: Vec<&str> = s.split(':').collect();
    Some(Some(match f[..] {
        ["dir", mode] => New::Dir {
            mode: mode_of(mode)?,
        },
        ["file", mode, size, hash, blob] => New::File {
            mode: mode_of(mode)?,
            size: size.parse().ok()?,
            hash: u64::from_str_radix(hash, 16).ok()?,
            blob: blob.parse().ok()?,
        },
        ["symlink", target] => New::Symlink {
            target: nonempty(dec(target).ok()?)?,
        },
        _ => return None,
    }))
}

fn parse_base(s: &str) -> Option<Option<Base>> {
    if s == "-" {
        return Some(None);
    }
    let f: Vec<&str> = s.split(':').collect();
    Some(Some(match f[..] {
        ["dir", mode] => Base::Dir {
            mode: mode_of(mode)?,
        },
        ["file", mode, size, sec, nsec, hash] => Base::File {
            mode: mode_of(mode)?,
            size: size.parse().ok()?,
            mtime_sec: sec.parse().ok()?,
            mtime_nsec: nsec.parse().ok()?,
            hash: u64::from_str_radix(hash, 16).ok()?,
        },
        ["symlink", target] => Base::Symlink {
            target: nonempty(dec(target).ok()?)?,
        },
        ["special", fmt, mode] => Base::Special {
            fmt: u32::from_str_radix(fmt, 8).ok()?,
            mode: mode_of(mode)?,
        },
        _ => return None,
    }))
}

fn mode_of(s: &str) -> Option<u32> {
    u32::from_str_radix(s, 8).ok().filter(|m| *m <= 0o7777)
}

fn nonempty(v: Vec<u8>) -> Option<Vec<u8>> {
    (!v.is_empty()).then_some(v)
}

fn bad_manifest(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("saved layer manifest is invalid: {what}"),
    )
}

/// Percent-encode everything but a conservative set of bytes (never ' ', ':', '%').
fn enc(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"._-/+,@~=".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s
}

fn dec(s: &str) -> io::Result<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or_else(|| bad_manifest(s))?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad_manifest(s))?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Applying

/// The current workspace entry at a record's path.
struct Cur {
    dir: OwnedFd,
    name: Vec<u8>,
    st: libc::stat,
}

fn check_path(path: &[u8]) -> io::Result<()> {
    let p = show(path);
    if path.is_empty() || path.contains(&0) {
        return Err(bad_manifest("empty path or NUL byte in a path"));
    }
    for comp in path.split(|&b| b == b'/') {
        if comp == b".." {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("refusing to apply a path containing '..': {p}"),
            ));
        }
        if comp.is_empty() || comp == b"." {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("refusing to apply a path that is absolute or not normalised: {p}"),
            ));
        }
    }
    Ok(())
}

fn conflict(path: &[u8], what: &str) -> io::Error {
    io::Error::other(format!(
        "workspace changed since the run: {} {what}; refusing to apply",
        show(path)
    ))
}

fn validate(recs: &[Rec], root: BorrowedFd<'_>, blobs: BorrowedFd<'_>) -> io::Result<()> {
    let mut by_path: HashMap<&[u8], &Rec> = HashMap::new();
    for r in recs {
        check_path(&r.path)?;
        if is_protected_bytes(&r.path) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "refusing to apply a change to protected path {}",
                    show(&r.path)
                ),
            ));
        }
        let last = r.path.rsplit(|&b| b == b'/').next().unwrap_or_default();
        if last.eq_ignore_ascii_case(b".git")
            && matches!(r.new, Some(New::File { .. } | New::Symlink { .. }))
        {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "refusing to apply a gitfile or symlink named .git: {}",
                    show(&r.path)
                ),
            ));
        }
        let consistent = matches!(
            (r.change, &r.new, &r.base),
            (Change::Created, Some(_), None)
                | (Change::Modified, Some(_), Some(_))
                | (Change::Deleted, None, Some(_))
        );
        if !consistent {
            return Err(bad_manifest(&show(&r.path)));
        }
        if by_path.insert(&r.path, r).is_some() {
            return Err(bad_manifest(&format!("duplicate path {}", show(&r.path))));
        }
    }
    for r in recs {
        // Where the run leaves an entry, its parent must end up a directory: one the layer
        // creates, or one that is a real directory in the workspace now.
        if r.new.is_some()
            && let Some(parent) = parent_of(&r.path)
        {
            match by_path.get(parent) {
                Some(p) if matches!(p.new, Some(New::Dir { .. })) => {}
                Some(_) => {
                    return Err(bad_manifest(&format!(
                        "{} lies below an entry that is not a directory",
                        show(&r.path)
                    )));
                }
                None => match lookup(root, parent, &by_path)? {
                    Some(c) if fmt(&c.st) == libc::S_IFDIR => {}
                    Some(c) if fmt(&c.st) == libc::S_IFLNK => {
                        return Err(symlink_refusal(
                            io::Error::from_raw_os_error(libc::ELOOP),
                            parent,
                        ));
                    }
                    _ => return Err(conflict(parent, "is missing or not a directory")),
                },
            }
        }
        let cur = lookup(root, &r.path, &by_path)?;
        match (&r.base, cur) {
            (None, Some(_)) => return Err(conflict(&r.path, "now exists")),
            (None, None) => {}
            (Some(_), None) => return Err(conflict(&r.path, "was removed")),
            (Some(base), Some(cur)) => {
                check_base(&cur, base, &r.path)?;
                if base.is_dir() && !matches!(r.new, Some(New::Dir { .. })) {
                    // The directory goes away: it may hold nothing the run did not see.
                    let fd = open_dir_at(cur.dir.as_fd(), &cur.name)?;
                    for child in list_dir(fd.as_fd())? {
                        let cp = join(&r.path, &child);
                        if !by_path
                            .get(cp.as_slice())
                            .is_some_and(|c| c.change == Change::Deleted)
                        {
                            return Err(conflict(&cp, "is new in a directory the run removed"));
                        }
                    }
                }
            }
        }
        if let Some(New::File {
            size, hash, blob, ..
        }) = &r.new
        {
            let mut f = open_file_at(blobs, blob.to_string().as_bytes())?;
            if hash_of(&mut f)? != (*hash, *size) {
                return Err(bad_manifest(&format!(
                    "stored content of {} is corrupt",
                    show(&r.path)
                )));
            }
        }
    }
    Ok(())
}

fn check_base(cur: &Cur, base: &Base, path: &[u8]) -> io::Result<()> {
    let st = &cur.st;
    let same = match base {
        Base::Dir { mode } => fmt(st) == libc::S_IFDIR && perm(st) == *mode,
        Base::File {
            mode,
            size,
            mtime_sec,
            mtime_nsec,
            hash,
        } => {
            fmt(st) == libc::S_IFREG
                && perm(st) == *mode
                && st.st_size as u64 == *size
                && st.st_mtime == *mtime_sec
                && st.st_mtime_nsec == *mtime_nsec
                && hash_of(&mut open_file_at(cur.dir.as_fd(), &cur.name)?)? == (*hash, *size)
        }
        Base::Symlink { target } => {
            fmt(st) == libc::S_IFLNK && readlink_at(cur.dir.as_fd(), &cur.name)? == *target
        }
        Base::Special { fmt: f, mode } => fmt(st) == *f && perm(st) == *mode,
    };
    if same {
        Ok(())
    } else {
        Err(conflict(path, "was modified"))
    }
}

/// Find the current workspace entry at `path`, opening every directory with `O_NOFOLLOW`.
/// `None` if it does not exist, or if an ancestor is a non-directory the layer replaces with
/// a directory. A symlink (or other non-directory) ancestor is otherwise an error.
fn lookup(
    root: BorrowedFd<'_>,
    path: &[u8],
    by_path: &HashMap<&[u8], &Rec>,
) -> io::Result<Option<Cur>> {
    let comps: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    let mut dir = root.try_clone_to_owned()?;
    let mut end = 0;
    for (i, comp) in comps.iter().enumerate() {
        end += comp.len() + usize::from(i > 0);
        let Some(st) = lstat_at(dir.as_fd(), comp)? else {
            return Ok(None);
        };
        if i + 1 == comps.len() {
            return Ok(Some(Cur {
                dir,
                name: comp.to_vec(),
                st,
            }));
        }
        let prefix = &path[..end];
        if fmt(&st) == libc::S_IFDIR {
            dir = open_dir_at(dir.as_fd(), comp).map_err(|e| symlink_refusal(e, prefix))?;
            continue;
        }
        if let Some(r) = by_path.get(prefix)
            && matches!(r.new, Some(New::Dir { .. }))
            && r.base.as_ref().is_some_and(|b| !b.is_dir())
        {
            return Ok(None);
        }
        if fmt(&st) == libc::S_IFLNK {
            return Err(symlink_refusal(
                io::Error::from_raw_os_error(libc::ELOOP),
                prefix,
            ));
        }
        return Err(conflict(prefix, "is not a directory"));
    }
    Ok(None)
}

fn symlink_refusal(e: io::Error, prefix: &[u8]) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "refusing to follow {} in the workspace (a directory was expected, found a symlink or other non-directory): {e}",
            show(prefix)
        ),
    )
}

fn write_changes(recs: &[Rec], root: BorrowedFd<'_>, blobs: BorrowedFd<'_>) -> io::Result<()> {
    // Removals first, children before their parents.
    for r in recs.iter().rev() {
        let Some(base) = &r.base else { continue };
        if !replaces(r) {
            continue;
        }
        let (dir, name) = open_parent(root, &r.path)?;
        let flags = if base.is_dir() { libc::AT_REMOVEDIR } else { 0 };
        let c = c_name(&name)?;
        cvt(unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), flags) })
            .map_err(|e| ctx(e, "removing", &r.path))?;
    }
    // Then creations, parents before their children; directory modes last, deepest first,
    // so a read-only directory can still be filled.
    let mut dir_modes = Vec::new();
    // As root, what apply writes belongs to the owner of the directory it lands in (the
    // workspace's owner, as in a direct run), never to root.
    // SAFETY: plain getter.
    let as_root = unsafe { libc::geteuid() } == 0;
    for r in recs {
        let Some(new) = &r.new else { continue };
        let (dir, name) = open_parent(root, &r.path)?;
        let owner = if as_root {
            let st = fstat(dir.as_fd())?;
            Some((st.st_uid, st.st_gid))
        } else {
            None
        };
        let chown_at = |entry: &[u8]| -> io::Result<()> {
            if let Some((uid, gid)) = owner {
                let c = c_name(entry)?;
                cvt(unsafe {
                    libc::fchownat(
                        dir.as_raw_fd(),
                        c.as_ptr(),
                        uid,
                        gid,
                        libc::AT_SYMLINK_NOFOLLOW,
                    )
                })?;
            }
            Ok(())
        };
        // Whether the final name is free (created, or its old entry was removed above).
        let noreplace = r.base.is_none() || replaces(r);
        match new {
            New::Dir { mode } => {
                if noreplace {
                    let c = c_name(&name)?;
                    cvt(unsafe { libc::mkdirat(dir.as_raw_fd(), c.as_ptr(), 0o700) })
                        .map_err(|e| ctx(e, "creating", &r.path))?;
                    chown_at(&name).map_err(|e| ctx(e, "creating", &r.path))?;
                }
                dir_modes.push((&r.path, *mode));
            }
            New::File {
                mode, size, blob, ..
            } => {
                let src = open_file_at(blobs, blob.to_string().as_bytes())?;
                let (tmp, mut out) = create_temp(dir.as_fd())?;
                let res = (|| {
                    let (_, n) = copy_hashed(&mut src.take(*size), &mut out)?;
                    if n != *size {
                        return Err(bad_manifest("stored content is short"));
                    }
                    if let Some((uid, gid)) = owner {
                        std::os::unix::fs::fchown(&out, Some(uid), Some(gid))?;
                    }
                    out.set_permissions(Permissions::from_mode(mode & 0o777))?;
                    drop(out);
                    rename_into(dir.as_fd(), &tmp, &name, noreplace)
                })();
                if let Err(e) = res {
                    unlink_quiet(dir.as_fd(), &tmp);
                    return Err(ctx(e, "writing", &r.path));
                }
            }
            New::Symlink { target } => {
                let tmp = create_temp_symlink(dir.as_fd(), target)?;
                if let Err(e) =
                    chown_at(&tmp).and_then(|_| rename_into(dir.as_fd(), &tmp, &name, noreplace))
                {
                    unlink_quiet(dir.as_fd(), &tmp);
                    return Err(ctx(e, "writing", &r.path));
                }
            }
        }
    }
    for (path, mode) in dir_modes.iter().rev() {
        let (parent, name) = open_parent(root, path)?;
        let fd = open_dir_at(parent.as_fd(), &name).map_err(|e| ctx(e, "opening", path))?;
        cvt(unsafe { libc::fchmod(fd.as_raw_fd(), mode & 0o777) })?;
    }
    Ok(())
}

/// Whether applying `r` removes the old entry first: deletions, and type changes between a
/// directory and a non-directory (a file or symlink over a file or symlink is renamed over).
fn replaces(r: &Rec) -> bool {
    match (&r.new, &r.base) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(new), Some(base)) => matches!(new, New::Dir { .. }) != base.is_dir(),
    }
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

fn temp_name() -> Vec<u8> {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(".airlock-apply.{}.{n}", std::process::id()).into_bytes()
}

fn create_temp(dir: BorrowedFd<'_>) -> io::Result<(Vec<u8>, File)> {
    loop {
        let name = temp_name();
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW;
        match open_at(dir, &name, flags, 0o600) {
            Ok(fd) => return Ok((name, File::from(fd))),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

fn create_temp_symlink(dir: BorrowedFd<'_>, target: &[u8]) -> io::Result<Vec<u8>> {
    let t = c_name(target)?;
    loop {
        let name = temp_name();
        let c = c_name(&name)?;
        match cvt(unsafe { libc::symlinkat(t.as_ptr(), dir.as_raw_fd(), c.as_ptr()) }) {
            Ok(_) => return Ok(name),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}

fn rename_into(dir: BorrowedFd<'_>, from: &[u8], to: &[u8], noreplace: bool) -> io::Result<()> {
    let (f, t) = (c_name(from)?, c_name(to)?);
    let flags = if noreplace { libc::RENAME_NOREPLACE } else { 0 };
    cvt(unsafe {
        libc::renameat2(
            dir.as_raw_fd(),
            f.as_ptr(),
            dir.as_raw_fd(),
            t.as_ptr(),
            flags,
        )
    })
    .map(drop)
}

fn unlink_quiet(dir: BorrowedFd<'_>, name: &[u8]) {
    if let Ok(c) = c_name(name) {
        unsafe { libc::unlinkat(dir.as_raw_fd(), c.as_ptr(), 0) };
    }
}

/// Open the parent directory of `path` below `root`, one `O_NOFOLLOW` component at a time.
fn open_parent(root: BorrowedFd<'_>, path: &[u8]) -> io::Result<(OwnedFd, Vec<u8>)> {
    let mut comps: Vec<&[u8]> = path.split(|&b| b == b'/').collect();
    let name = comps.pop().unwrap_or_default().to_vec();
    let mut dir = root.try_clone_to_owned()?;
    for comp in comps {
        dir = open_dir_at(dir.as_fd(), comp).map_err(|e| symlink_refusal(e, path))?;
    }
    Ok((dir, name))
}

/// Open the regular file at `path` below `root` without following any symlink.
fn open_path_file(root: BorrowedFd<'_>, path: &[u8]) -> io::Result<File> {
    let (dir, name) = open_parent(root, path)?;
    let f = open_file_at(dir.as_fd(), &name).map_err(|e| ctx(e, "opening", path))?;
    if fmt(&fstat(f.as_fd())?) != libc::S_IFREG {
        return Err(io::Error::other(format!(
            "{} is no longer a regular file",
            show(path)
        )));
    }
    Ok(f)
}

fn parent_of(path: &[u8]) -> Option<&[u8]> {
    path.iter().rposition(|&b| b == b'/').map(|i| &path[..i])
}

// ---------------------------------------------------------------------------------------
// Content helpers

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut h: u64, data: &[u8]) -> u64 {
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// FNV-1a 64 and length of everything `r` yields.
fn hash_of(r: &mut impl Read) -> io::Result<(u64, u64)> {
    copy_hashed(r, &mut io::sink())
}

fn copy_hashed(r: &mut impl Read, w: &mut impl Write) -> io::Result<(u64, u64)> {
    let mut buf = vec![0u8; 64 * 1024];
    let (mut h, mut n) = (FNV_OFFSET, 0u64);
    loop {
        let k = match r.read(&mut buf) {
            Ok(0) => return Ok((h, n)),
            Ok(k) => k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h = fnv(h, &buf[..k]);
        w.write_all(&buf[..k])?;
        n += k as u64;
    }
}

fn read_full(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn same_content(a: &mut File, b: &mut File) -> io::Result<bool> {
    let mut x = vec![0u8; 64 * 1024];
    let mut y = vec![0u8; 64 * 1024];
    loop {
        let n = read_full(a, &mut x)?;
        let m = read_full(b, &mut y)?;
        if x[..n] != y[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Thin fd-relative syscall wrappers

fn show(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    if prefix.is_empty() {
        return name.to_vec();
    }
    let mut p = Vec::with_capacity(prefix.len() + 1 + name.len());
    p.extend_from_slice(prefix);
    p.push(b'/');
    p.extend_from_slice(name);
    p
}

fn ctx(e: io::Error, what: &str, path: &[u8]) -> io::Error {
    io::Error::new(e.kind(), format!("{what} {}: {e}", show(path)))
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn c_name(name: &[u8]) -> io::Result<CString> {
    CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file name contains a NUL byte"))
}

fn fmt(st: &libc::stat) -> u32 {
    st.st_mode & libc::S_IFMT
}

fn perm(st: &libc::stat) -> u32 {
    st.st_mode & 0o7777
}

fn open_root(path: &Path) -> io::Result<OwnedFd> {
    let c = c_name(path.as_os_str().as_bytes())?;
    let fd = cvt(unsafe {
        libc::open(
            c.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    })
    .map_err(|e| ctx(e, "opening", path.as_os_str().as_bytes()))?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn open_at(
    dir: BorrowedFd<'_>,
    name: &[u8],
    flags: libc::c_int,
    mode: libc::mode_t,
) -> io::Result<OwnedFd> {
    let c = c_name(name)?;
    let fd = cvt(unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c.as_ptr(),
            flags | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    })?;
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn open_dir_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<OwnedFd> {
    open_at(
        dir,
        name,
        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW,
        0,
    )
}

fn open_file_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<File> {
    let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NOCTTY | libc::O_NONBLOCK;
    open_at(dir, name, flags, 0).map(File::from)
}

fn lstat_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Option<libc::stat>> {
    let c = c_name(name)?;
    let mut st = MaybeUninit::<libc::stat>::uninit();
    let r = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            c.as_ptr(),
            st.as_mut_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if r < 0 {
        let e = io::Error::last_os_error();
        return if e.raw_os_error() == Some(libc::ENOENT) {
            Ok(None)
        } else {
            Err(e)
        };
    }
    Ok(Some(unsafe { st.assume_init() }))
}

fn fstat(fd: BorrowedFd<'_>) -> io::Result<libc::stat> {
    let mut st = MaybeUninit::<libc::stat>::uninit();
    cvt(unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) })?;
    Ok(unsafe { st.assume_init() })
}

fn readlink_at(dir: BorrowedFd<'_>, name: &[u8]) -> io::Result<Vec<u8>> {
    let c = c_name(name)?;
    let mut buf = vec![0u8; 256];
    loop {
        let n = unsafe {
            libc::readlinkat(
                dir.as_raw_fd(),
                c.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        if n < buf.len() {
            buf.truncate(n);
            return Ok(buf);
        }
        buf.resize(buf.len() * 2, 0);
    }
}

/// Names in the directory `dir` (without `.` and `..`), sorted.
fn list_dir(dir: BorrowedFd<'_>) -> io::Result<Vec<Vec<u8>>> {
    let dup = cvt(unsafe { libc::fcntl(dir.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) })?;
    let d = unsafe { libc::fdopendir(dup) };
    if d.is_null() {
        let e = io::Error::last_os_error();
        unsafe { libc::close(dup) };
        return Err(e);
    }
    // The dup shares the file offset with `dir`: start from the beginning.
    unsafe { libc::rewinddir(d) };
    let mut names = Vec::new();
    let res = loop {
        unsafe { *libc::__errno_location() = 0 };
        let ent = unsafe { libc::readdir(d) };
        if ent.is_null() {
            let e = io::Error::last_os_error();
            break if e.raw_os_error() == Some(0) {
                Ok(())
            } else {
                Err(e)
            };
        }
        let name = unsafe { CStr::from_ptr((*ent).d_name.as_ptr()) }.to_bytes();
        if name != b"." && name != b".." {
            names.push(name.to_vec());
        }
    };
    unsafe { libc::closedir(d) };
    res?;
    names.sort();
    Ok(names)
}

fn get_xattr(fd: BorrowedFd<'_>, name: &CStr) -> io::Result<Option<Vec<u8>>> {
    let mut buf = vec![0u8; 64];
    loop {
        let n = unsafe {
            libc::fgetxattr(
                fd.as_raw_fd(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n >= 0 {
            buf.truncate(n as usize);
            return Ok(Some(buf));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ENODATA) | Some(libc::EOPNOTSUPP) => return Ok(None),
            Some(libc::ERANGE) if buf.len() < 1 << 16 => buf.resize(buf.len() * 16, 0),
            _ => return Err(e),
        }
    }
}

/// The overlay xattr `suffix` (`opaque`, `whiteout`, ...) in the `user.` (userxattr mounts)
/// or `trusted.` namespace.
fn overlay_xattr(fd: BorrowedFd<'_>, suffix: &str) -> io::Result<Option<Vec<u8>>> {
    for prefix in ["user.overlay.", "trusted.overlay."] {
        let name = c_name(format!("{prefix}{suffix}").as_bytes())?;
        if let Some(v) = get_xattr(fd, &name)? {
            return Ok(Some(v));
        }
    }
    Ok(None)
}
