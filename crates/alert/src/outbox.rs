//! The outbox: a JSON-lines file of alerts that is both a sink (people and
//! collectors can tail it) and the webhook's durable queue.
//!
//! An alert is appended and fsynced *before* any sink is tried, so once
//! `dispatch` reports it queued, no crash, timeout or dead receiver can lose it.
//! Files, all next to the outbox (`P` = `outbox.jsonl`):
//!
//! * `P`: one [`Alert`] per line, oldest first. A torn last line (a crash
//!   mid-append) is skipped when read and never glued to the next alert.
//! * `P.acked`: the cursor, one `["<id>","<leaf>"]` line per alert the webhook
//!   acknowledged (2xx). Keyed by id *and* leaf so a new ledger reusing indexes
//!   cannot mark an old alert delivered. Pending = in `P` and not in `P.acked`.
//! * `P.lock`: `flock`ed around every read and write of `P` and `P.acked` (a
//!   separate file, because rotation replaces `P` by rename).
//! * `P.deliver.lock`: held by the one process delivering to the webhook, so
//!   concurrent processes do not send the same alert twice.
//! * `P.1`: delivered alerts rotated out.
//!
//! **Bound.** When `P` grows past `rotate_bytes` and at least half of it is
//! delivered (or no webhook is configured, so every line counts as delivered),
//! the delivered lines move to `P.1` (replacing the previous `P.1`), `P` keeps
//! only pending lines and the cursor starts empty. So the files hold about twice
//! `rotate_bytes` of history plus whatever is still pending; pending alerts are
//! never dropped, however long the receiver is down. The ledger keeps every
//! alert permanently; the outbox is a delivery queue with a short history.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::{Alert, Error};

pub(crate) struct Outbox {
    pub(crate) path: PathBuf,
    acked: PathBuf,
    lock: PathBuf,
    deliver_lock: PathBuf,
    rotated: PathBuf,
    pub(crate) rotate_bytes: u64,
}

fn sibling(p: &Path, suffix: &str) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn key(a: &Alert) -> (String, String) {
    (a.id.clone(), a.subject_leaf.clone())
}

impl Outbox {
    pub(crate) fn new(path: PathBuf, rotate_bytes: u64) -> Outbox {
        Outbox {
            acked: sibling(&path, ".acked"),
            lock: sibling(&path, ".lock"),
            deliver_lock: sibling(&path, ".deliver.lock"),
            rotated: sibling(&path, ".1"),
            path,
            rotate_bytes,
        }
    }

    fn dir(&self) -> &Path {
        self.path.parent().unwrap_or(Path::new("."))
    }

    fn ensure_dir(&self) -> Result<(), Error> {
        let dir = self.dir();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, e))
    }

    fn open_lock(&self, path: &Path) -> Result<File, Error> {
        self.ensure_dir()?;
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| Error::io(path, e))
    }

    fn lock_exclusive(&self) -> Result<File, Error> {
        let f = self.open_lock(&self.lock)?;
        f.lock().map_err(|e| Error::io(&self.lock, e))?;
        Ok(f)
    }

    fn lock_shared(&self) -> Result<File, Error> {
        let f = self.open_lock(&self.lock)?;
        f.lock_shared().map_err(|e| Error::io(&self.lock, e))?;
        Ok(f)
    }

    fn sync_dir(&self) -> Result<(), Error> {
        let d = self.dir();
        File::open(d)
            .and_then(|f| f.sync_all())
            .map_err(|e| Error::io(d, e))
    }

    /// Appends the alerts and fsyncs. Returns the outbox's size afterwards.
    pub(crate) fn append(&self, alerts: &[Alert]) -> Result<u64, Error> {
        let _guard = self.lock_exclusive()?;
        let existed = self.path.exists();
        let p = &self.path;
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .read(true)
            .mode(0o600)
            .open(p)
            .map_err(|e| Error::io(p, e))?;
        let len = f.metadata().map_err(|e| Error::io(p, e))?.len();
        let mut buf = Vec::new();
        if len > 0 {
            let mut last = [0u8];
            f.read_exact_at(&mut last, len - 1)
                .map_err(|e| Error::io(p, e))?;
            if last[0] != b'\n' {
                buf.push(b'\n');
            }
        }
        for a in alerts {
            serde_json::to_writer(&mut buf, a).expect("an alert serializes");
            buf.push(b'\n');
        }
        f.write_all(&buf).map_err(|e| Error::io(p, e))?;
        f.sync_data().map_err(|e| Error::io(p, e))?;
        if !existed {
            self.sync_dir()?;
        }
        Ok(len + buf.len() as u64)
    }

    fn read_acked(&self) -> Result<HashSet<(String, String)>, Error> {
        let data = match fs::read(&self.acked) {
            Ok(d) => d,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(HashSet::new()),
            Err(e) => return Err(Error::io(&self.acked, e)),
        };
        Ok(data
            .split(|b| *b == b'\n')
            .filter_map(|l| serde_json::from_slice::<(String, String)>(l).ok())
            .collect())
    }

    fn read_lines(&self) -> Result<Vec<u8>, Error> {
        match fs::read(&self.path) {
            Ok(d) => Ok(d),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(Error::io(&self.path, e)),
        }
    }

    /// Alerts not yet acknowledged by the webhook, oldest first, each once.
    pub(crate) fn pending(&self) -> Result<Vec<Alert>, Error> {
        let _guard = self.lock_shared()?;
        let acked = self.read_acked()?;
        let data = self.read_lines()?;
        let mut seen = HashSet::new();
        Ok(data
            .split(|b| *b == b'\n')
            .filter_map(|l| serde_json::from_slice::<Alert>(l).ok())
            .filter(|a| {
                let k = key(a);
                !acked.contains(&k) && seen.insert(k)
            })
            .collect())
    }

    /// Every alert in the outbox, delivered or not (torn lines skipped).
    pub(crate) fn all(&self) -> Result<Vec<Alert>, Error> {
        let _guard = self.lock_shared()?;
        let data = self.read_lines()?;
        Ok(data
            .split(|b| *b == b'\n')
            .filter_map(|l| serde_json::from_slice::<Alert>(l).ok())
            .collect())
    }

    /// Records that the webhook acknowledged `a`.
    pub(crate) fn ack(&self, a: &Alert) -> Result<(), Error> {
        let _guard = self.lock_exclusive()?;
        let p = &self.acked;
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(p)
            .map_err(|e| Error::io(p, e))?;
        let mut line = serde_json::to_vec(&key(a)).expect("strings serialize");
        line.push(b'\n');
        f.write_all(&line).map_err(|e| Error::io(p, e))?;
        f.sync_data().map_err(|e| Error::io(p, e))
    }

    /// Waits up to `deadline` to become the one delivering process.
    pub(crate) fn lock_delivery(&self, deadline: Instant) -> Result<Option<File>, Error> {
        let f = self.open_lock(&self.deliver_lock)?;
        loop {
            match f.try_lock() {
                Ok(()) => return Ok(Some(f)),
                Err(fs::TryLockError::WouldBlock) => {}
                Err(fs::TryLockError::Error(e)) => return Err(Error::io(&self.deliver_lock, e)),
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                return Ok(None);
            };
            std::thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    /// Moves delivered lines to `P.1` when `P` is past `rotate_bytes` (see the
    /// module documentation). `webhook` says whether anything waits for
    /// delivery at all. Returns whether it rotated.
    pub(crate) fn rotate_if_needed(&self, webhook: bool) -> Result<bool, Error> {
        match fs::metadata(&self.path) {
            Ok(m) if m.len() > self.rotate_bytes => {}
            _ => return Ok(false),
        }
        let _guard = self.lock_exclusive()?;
        let data = self.read_lines()?;
        if data.len() as u64 <= self.rotate_bytes {
            return Ok(false);
        }
        let acked = if webhook {
            self.read_acked()?
        } else {
            HashSet::new()
        };
        let (mut done, mut keep) = (Vec::new(), Vec::new());
        for line in data.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let pending = webhook
                && serde_json::from_slice::<Alert>(line).is_ok_and(|a| !acked.contains(&key(&a)));
            let out = if pending { &mut keep } else { &mut done };
            out.extend_from_slice(line);
            out.push(b'\n');
        }
        if done.len() * 2 < data.len() {
            // Mostly pending: rewriting would cost more than it frees.
            return Ok(false);
        }
        self.replace(&self.rotated, &done)?;
        self.replace(&self.path, &keep)?;
        // Everything still in P is pending, so no acknowledgement is needed any more.
        self.replace(&self.acked, &[])?;
        self.sync_dir()?;
        Ok(true)
    }

    fn replace(&self, path: &Path, bytes: &[u8]) -> Result<(), Error> {
        let tmp = sibling(path, ".tmp");
        let mut f = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io(&tmp, e))?;
        f.write_all(bytes)
            .and_then(|_| f.sync_data())
            .map_err(|e| Error::io(&tmp, e))?;
        fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
    }
}
