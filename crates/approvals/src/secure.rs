//! The store's file must be private to the user airlock runs as.
//!
//! Whoever can write the approvals database can approve anything; whoever can read it
//! learns approval ids (which are capabilities to use an approval). So before SQLite
//! touches the path: the directory holding it belongs to us and no other user can list
//! or change it (so the file cannot be swapped for another), and the file itself (and
//! SQLite's `-wal`, `-shm` and `-journal` companions, which hold the same data) is a
//! regular file of ours with no group or other permission bits. A new file is created
//! 0600 here, not by SQLite (which would apply the umask to 0644); SQLite gives its
//! companion files the mode of the database file.

use std::fs::{self, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// SQLite's companion files, which hold the same data as the database.
const COMPANIONS: [&str; 3] = ["-wal", "-shm", "-journal"];

fn euid() -> u32 {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Check the directory and the file at `path`, creating the file 0600 if it does not
/// exist yet. Returns whether the file was created.
pub(crate) fn prepare(path: &Path) -> Result<bool> {
    let me = euid();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    check_dir(&dir, me)?;
    let created = match fs::symlink_metadata(path) {
        Ok(_) => false,
        Err(e) if e.kind() == io::ErrorKind::NotFound => create_private(path)?,
        Err(e) => return Err(io_err(path, e)),
    };
    check_files(path)?;
    Ok(created)
}

/// Check the database file and whichever companion files exist.
pub(crate) fn check_files(path: &Path) -> Result<()> {
    let me = euid();
    let meta = fs::symlink_metadata(path).map_err(|e| io_err(path, e))?;
    check_file(path, &meta, me)?;
    for suffix in COMPANIONS {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let companion = PathBuf::from(name);
        match fs::symlink_metadata(&companion) {
            Ok(meta) => check_file(&companion, &meta, me)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&companion, e)),
        }
    }
    Ok(())
}

fn create_private(path: &Path) -> Result<bool> {
    let made = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path);
    match made {
        Ok(_) => Ok(true),
        // Another process created it between our look and our create: judge theirs.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_err(path, e)),
    }
}

fn check_dir(dir: &Path, me: u32) -> Result<()> {
    let meta = fs::metadata(dir).map_err(|e| io_err(dir, e))?;
    if !meta.is_dir() {
        return Err(io_err(
            dir,
            io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        ));
    }
    check_owner(dir, &meta, me)?;
    // Search permission alone (0711) lets others reach a file whose name they know,
    // which the file's own 0600 then refuses; reading the listing or changing entries
    // is what must be closed.
    let exposed = meta.mode() & 0o066;
    if exposed != 0 {
        return Err(Error::Exposed {
            path: dir.to_path_buf(),
            kind: "directory",
            what: what(exposed),
            mode: meta.mode() & 0o7777,
            fix: "700",
        });
    }
    Ok(())
}

fn check_file(path: &Path, meta: &Metadata, me: u32) -> Result<()> {
    if !meta.file_type().is_file() {
        return Err(Error::NotRegularFile {
            path: path.to_path_buf(),
        });
    }
    check_owner(path, meta, me)?;
    let exposed = meta.mode() & 0o077;
    if exposed != 0 {
        return Err(Error::Exposed {
            path: path.to_path_buf(),
            kind: "file",
            what: what(exposed),
            mode: meta.mode() & 0o7777,
            fix: "600",
        });
    }
    Ok(())
}

fn check_owner(path: &Path, meta: &Metadata, me: u32) -> Result<()> {
    if meta.uid() != me {
        return Err(Error::WrongOwner {
            path: path.to_path_buf(),
            owner: meta.uid(),
            expected: me,
        });
    }
    Ok(())
}

fn what(bits: u32) -> &'static str {
    match (bits & 0o044 != 0, bits & 0o022 != 0) {
        (true, true) => "read and written",
        (true, false) => "read",
        (false, true) => "written",
        (false, false) => "executed",
    }
}

fn io_err(path: &Path, source: io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}
