//! Coordination between direct-mode runs on one workspace. Placeholders for protected
//! paths are real entries in the checkout; if one run removed its placeholders while
//! another run still had them mounted read-only, the kernel would detach that mount and
//! the other run could write there. So each run registers its placeholders and holds a
//! shared "live" lock for its whole life, and placeholders are removed only by a run that
//! finds itself the last one alive (a killed run's leftovers go with the next last run).
//! Lock order is always registry, then live, so no two runs wait on each other in a cycle.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub struct WorkspaceLock {
    registry: File,
    live: File,
}

fn lock_dir() -> Result<PathBuf, String> {
    // SAFETY: plain getter.
    let uid = unsafe { libc::geteuid() };
    let base = if uid == 0 {
        PathBuf::from("/run/airlock")
    } else if let Some(x) =
        std::env::var_os("XDG_RUNTIME_DIR").filter(|x| Path::new(x).is_absolute())
    {
        Path::new(&x).join("airlock")
    } else {
        PathBuf::from(format!("/tmp/airlock-{uid}"))
    };
    let dir = base.join("workspaces");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    // Another user must not own (or have planted) the directory we coordinate in.
    for d in [&base, &dir] {
        let m = std::fs::symlink_metadata(d).map_err(|e| format!("{}: {e}", d.display()))?;
        if !m.is_dir() || m.uid() != uid || m.mode() & 0o022 != 0 {
            return Err(format!(
                "{} is not a private directory of uid {uid}; refusing to coordinate runs there",
                d.display()
            ));
        }
    }
    Ok(dir)
}

fn flock(f: &File, op: libc::c_int) -> bool {
    // SAFETY: flock on an fd we own.
    unsafe { libc::flock(f.as_raw_fd(), op) == 0 }
}

fn open(p: &Path) -> Result<File, String> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(p)
        .map_err(|e| format!("{}: {e}", p.display()))
}

impl WorkspaceLock {
    /// Takes the registry lock for `ws` (held until [`WorkspaceLock::register`]).
    pub fn begin(ws: &Path) -> Result<WorkspaceLock, String> {
        let m = std::fs::metadata(ws).map_err(|e| format!("{}: {e}", ws.display()))?;
        let dir = lock_dir()?;
        let key = format!("{:x}-{:x}", m.dev(), m.ino());
        let registry = open(&dir.join(format!("{key}.placeholders")))?;
        let live = open(&dir.join(format!("{key}.live")))?;
        if !flock(&registry, libc::LOCK_EX) {
            return Err("cannot lock the workspace registry".into());
        }
        Ok(WorkspaceLock { registry, live })
    }

    /// Records this run's placeholders, joins the live runs and releases the registry.
    pub fn register(&mut self, ws: &Path, placeholders: &[PathBuf]) -> Result<(), String> {
        self.registry
            .seek(std::io::SeekFrom::End(0))
            .map_err(|e| e.to_string())?;
        let mut text = String::new();
        for p in placeholders {
            if let Ok(rel) = p.strip_prefix(ws) {
                text.push_str(&rel.to_string_lossy());
                text.push('\n');
            }
        }
        self.registry
            .write_all(text.as_bytes())
            .map_err(|e| format!("workspace registry: {e}"))?;
        if !flock(&self.live, libc::LOCK_SH) {
            return Err("cannot join the workspace's live runs".into());
        }
        flock(&self.registry, libc::LOCK_UN);
        Ok(())
    }

    /// At the end of a run: if no other run is alive, removes every registered
    /// placeholder (with `remove`, which must not follow links) and clears the registry.
    pub fn finish(mut self, remove: impl Fn(&Path)) {
        if !flock(&self.registry, libc::LOCK_EX) {
            return;
        }
        if flock(&self.live, libc::LOCK_EX | libc::LOCK_NB) {
            let mut text = String::new();
            let _ = self.registry.rewind();
            let _ = self.registry.read_to_string(&mut text);
            // Deepest first, so a placeholder file goes before a placeholder directory.
            let mut rels: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
            rels.sort_by_key(|r| std::cmp::Reverse(r.len()));
            rels.dedup();
            for r in rels {
                remove(Path::new(r));
            }
            let _ = self.registry.set_len(0);
        }
        // Dropping the files releases both locks.
    }
}
