//! The ledger on disk, and appending to it from many threads and processes.
//!
//! ```text
//! <dir>/segments/<first index, 20 digits>.seg   framed records, append-only
//! <dir>/index            40 bytes per record: leaf hash ‖ offset in its segment
//! <dir>/head             size, current segment, last leaf, Merkle frontier (a cache)
//! <dir>/checkpoints      signed checkpoints (C2SP signed notes), framed, append-only,
//!                        each with the head as of it (a trusted restart point)
//! <dir>/lock, <dir>/sync writer lock; sync lock holding the durable-so-far marker
//! <dir>/keys/ledger.key  Ed25519 signing key (0600); keys/ledger.pub its verifier key
//! ```
//!
//! **Appending.** Threads of one process queue their records; one of them (the leader)
//! takes the writer lock, writes the whole queue as one `pwrite`, updates index and head,
//! releases the lock, and then syncs. Syncing is shared across processes: under the sync
//! lock a syncer notes the segment's length, `fdatasync`s it and records that length as
//! durable, so a writer whose records lie below a recorded length skips its own sync. An
//! append returns only after its bytes are covered by a completed `fdatasync` (group
//! commit). A checkpoint over what was synced is signed at most every
//! `checkpoint_interval` and whenever a ledger that appended is closed, so a short-lived
//! process leaves its records covered; appending it costs no rename.
//!
//! **Recovery.** Index and head are derived data. Each writer checks under the lock that
//! the current segment ends where the head says; bytes past it are a crashed writer's
//! (whole frames are adopted, a torn frame is cut and the cut recorded); a segment
//! shorter than the head, or a damaged head, restarts from the last checkpoint's state
//! and rescans. Opening therefore costs the same at any size.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::frame::{self, Decoded};
use crate::merkle::{Frontier, Hash, leaf_hash};
use crate::note::{Checkpoint, SignedCheckpoint, SignerKey, VerifierKey};
use crate::record::{self, Kind, MAX_RECORD_BYTES, NewRecord, Prepared};
use crate::{Error, hex};

pub const INDEX_ENTRY: u64 = 40;
const STATE_MAGIC: &[u8; 8] = b"AIRLST01";

/// Tunables.
#[derive(Debug, Clone)]
pub struct Options {
    /// A segment is closed and a new one started past this size.
    pub segment_bytes: u64,
    /// How long a writer waits for the lock before failing closed.
    pub lock_timeout: Duration,
    /// Create the directory and key if missing (`false`: open an existing ledger only).
    pub create: bool,
    /// Sign a checkpoint at most this often while appending (and always on close).
    pub checkpoint_interval: Duration,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            segment_bytes: 64 << 20,
            lock_timeout: Duration::from_secs(10),
            create: true,
            checkpoint_interval: Duration::from_millis(250),
        }
    }
}

/// Where a record landed: what alerts and later records cite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub index: u64,
    pub leaf: Hash,
}

/// Something recovery found and repaired (also appended as a `control` record).
#[derive(Debug, Clone)]
pub struct Recovery {
    pub event: String,
    /// True when the repair reaches below the last signed checkpoint: records a checkpoint
    /// vouched for are gone, which a crash cannot do; treat it as tampering.
    pub below_checkpoint: bool,
    pub details: serde_json::Value,
    /// The `control` record that put it on the record, once written.
    pub recorded: Option<Receipt>,
}

impl Recovery {
    /// The `control` record that puts this repair on the record.
    fn record(&self) -> NewRecord {
        NewRecord::new(
            Kind::Control,
            serde_json::json!({"event": self.event, "below_checkpoint": self.below_checkpoint, "details": self.details}),
        )
    }
}

/// The writer's view of the log: a cache in `head`, a restart point in the checkpoint log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct State {
    pub size: u64,
    pub seg_start: u64,
    pub seg_len: u64,
    pub last_leaf: Hash,
    pub frontier: Frontier,
}

impl State {
    fn empty() -> State {
        State {
            size: 0,
            seg_start: 0,
            seg_len: 0,
            last_leaf: [0; 32],
            frontier: Frontier::new(),
        }
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(100 + 32 * 64);
        b.extend_from_slice(STATE_MAGIC);
        b.extend_from_slice(&self.size.to_le_bytes());
        b.extend_from_slice(&self.seg_start.to_le_bytes());
        b.extend_from_slice(&self.seg_len.to_le_bytes());
        b.extend_from_slice(&self.last_leaf);
        b.extend_from_slice(&(self.frontier.nodes().len() as u32).to_le_bytes());
        for n in self.frontier.nodes() {
            b.extend_from_slice(n);
        }
        let crc = crc32c::crc32c(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Option<State> {
        if b.len() < 72 || &b[..8] != STATE_MAGIC {
            return None;
        }
        let u = |o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8"));
        let n = u32::from_le_bytes(b[64..68].try_into().expect("4")) as usize;
        let end = 68 + 32 * n;
        if n > 64 || b.len() < end + 4 {
            return None;
        }
        let crc = u32::from_le_bytes(b[end..end + 4].try_into().expect("4"));
        if crc32c::crc32c(&b[..end]) != crc {
            return None;
        }
        let nodes = (0..n)
            .map(|i| b[68 + 32 * i..100 + 32 * i].try_into().expect("32"))
            .collect();
        Some(State {
            size: u(8),
            seg_start: u(16),
            seg_len: u(24),
            last_leaf: b[32..64].try_into().expect("32"),
            frontier: Frontier::from_parts(u(8), nodes)?,
        })
    }
}

/// The checkpoint log is cut back to its newest entry past this size: readers scan it
/// whole for the newest checkpoint (on every alert and close), so it stays small.
const COMPACT_CHECKPOINTS: u64 = 256 << 10;

const FORKED_MSG: &str = "records covered by a signed checkpoint are gone (see FORKED in the \
ledger directory); signing is stopped until an operator has investigated and removed FORKED";

pub fn segment_name(start: u64) -> String {
    format!("{start:020}.seg")
}

/// First indexes of the segments present, in order.
pub fn list_segments(dir: &Path) -> Result<Vec<u64>, Error> {
    let mut v = Vec::new();
    let rd = match std::fs::read_dir(dir.join("segments")) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(v),
        Err(e) => return Err(Error::io("list segments", e)),
    };
    for e in rd {
        let e = e.map_err(|e| Error::io("list segments", e))?;
        let name = e.file_name();
        let Some(s) = name.to_str().and_then(|n| n.strip_suffix(".seg")) else {
            continue;
        };
        if s.len() == 20
            && let Ok(n) = s.parse()
        {
            v.push(n);
        }
    }
    v.sort_unstable();
    Ok(v)
}

fn boot_id() -> [u8; 36] {
    let mut b = [0u8; 36];
    if let Ok(s) = std::fs::read("/proc/sys/kernel/random/boot_id") {
        let n = s.len().min(36);
        b[..n].copy_from_slice(&s[..n]);
    }
    b
}

/// What the sync lock's file holds: how much of which segment is known durable, and the
/// size of the newest checkpoint. Only touched under the sync lock.
/// What the sync lock's file holds: how much of which segment is known durable, and
/// where the checkpoint log stands. Only touched under the sync lock.
#[derive(Debug, Clone, Copy, Default)]
struct SyncMarker {
    seg_start: u64,
    synced: u64,
    checkpoint_size: u64,
    /// Where the checkpoint log's whole frames end (0: not known, scan it).
    checkpoint_end: u64,
    /// When the last checkpoint was signed (ms since the epoch).
    checkpoint_ms: u64,
    /// Bumped whenever bytes are cut from a segment: a length read before a cut must not
    /// be recorded as durable after it.
    cuts: u64,
}

const MARKER: usize = 88;

fn read_marker(f: &File, boot: &[u8; 36]) -> SyncMarker {
    let mut b = [0u8; MARKER];
    let u = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().expect("8"));
    match f.read_at(&mut b, 0) {
        // After a reboot nothing is known to be in the page cache only: start afresh.
        Ok(MARKER) if &b[..36] == boot => SyncMarker {
            seg_start: u(&b, 40),
            synced: u(&b, 48),
            checkpoint_size: u(&b, 56),
            checkpoint_end: u(&b, 64),
            checkpoint_ms: u(&b, 72),
            cuts: u(&b, 80),
        },
        _ => SyncMarker::default(),
    }
}

fn write_marker(f: &File, boot: &[u8; 36], m: SyncMarker) -> Result<(), Error> {
    let mut b = [0u8; MARKER];
    b[..36].copy_from_slice(boot);
    for (o, v) in [
        (40, m.seg_start),
        (48, m.synced),
        (56, m.checkpoint_size),
        (64, m.checkpoint_end),
        (72, m.checkpoint_ms),
        (80, m.cuts),
    ] {
        b[o..o + 8].copy_from_slice(&v.to_le_bytes());
    }
    f.write_all_at(&b, 0)
        .map_err(|e| Error::io("write the sync marker", e))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
}

/// A checkpoint log frame: the signed note, a NUL, then the encoded head as of it.
pub(crate) struct CheckpointFrame {
    pub note: String,
    pub state: Option<State>,
}

/// Every whole checkpoint frame in order, and where the whole frames end.
pub(crate) fn scan_checkpoints(dir: &Path) -> Result<(Vec<CheckpointFrame>, u64), Error> {
    let path = dir.join("checkpoints");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > 64 << 20) {
        return Err(Error::Corrupt(
            "the checkpoint log is over 64 MiB (it is compacted at 256 KiB)".into(),
        ));
    }
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(e) => return Err(Error::io("read the checkpoints", e)),
    };
    let mut out = Vec::new();
    let mut off = 0;
    while off < data.len() {
        let Decoded::Frame(payload, len) = frame::decode(&data[off..], 1 << 20) else {
            break;
        };
        let split = payload
            .iter()
            .position(|b| *b == 0)
            .unwrap_or(payload.len());
        let Ok(note) = std::str::from_utf8(&payload[..split]) else {
            break;
        };
        out.push(CheckpointFrame {
            note: note.to_string(),
            state: payload.get(split + 1..).and_then(State::decode),
        });
        off += len;
    }
    Ok((out, off as u64))
}

/// Every signed checkpoint the ledger keeps, oldest first.
pub fn checkpoint_history(dir: &Path) -> Result<Vec<String>, Error> {
    Ok(scan_checkpoints(dir)?
        .0
        .into_iter()
        .map(|c| c.note)
        .collect())
}

/// An exclusive `flock` on a descriptor of its own, waited for up to `timeout` (then the
/// caller fails closed). Its own descriptor: `flock` excludes open file descriptions, so
/// two threads sharing one descriptor would both "hold" the lock.
struct Flock(File);

impl Flock {
    fn acquire(path: &Path, timeout: Duration, what: &str) -> Result<Flock, Error> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| Error::io(what, e))?;
        let start = Instant::now();
        let mut pause = Duration::from_micros(20);
        let mut spins = 0;
        loop {
            // SAFETY: flock on a file descriptor we own.
            if unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                return Ok(Flock(f));
            }
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EWOULDBLOCK) && e.raw_os_error() != Some(libc::EINTR)
            {
                return Err(Error::io(what, e));
            }
            if start.elapsed() >= timeout {
                return Err(Error::Busy(format!(
                    "{what}: another airlock process held the ledger lock for over {:.1} s",
                    timeout.as_secs_f64()
                )));
            }
            // The lock is held for tens of microseconds per batch: yield a few times
            // first, then sleep briefly (a long sleep costs more latency than polls cost CPU).
            if spins < 20 {
                spins += 1;
                std::thread::yield_now();
                continue;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_micros(200));
        }
    }
}

impl Drop for Flock {
    fn drop(&mut self) {
        // SAFETY: unlocking a descriptor we own.
        unsafe { libc::flock(self.0.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// What one commit wrote, handed to the sync step.
struct Written {
    seg_start: u64,
    seg: std::sync::Arc<File>,
    end: u64,
    state: State,
    receipts: Vec<Receipt>,
}

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    /// Ticket, record, and whether its append waits for a sync.
    pending: Vec<(u64, Prepared, bool)>,
    done: std::collections::HashMap<u64, Result<Receipt, Error>>,
    leader: bool,
}

struct Files {
    index: File,
    head: File,
    seg: Option<(u64, std::sync::Arc<File>)>,
    /// Repairs found by recovery, for the caller to alert on.
    recoveries: Vec<Recovery>,
}

/// An open ledger. `Sync`: threads share one and their appends share syncs.
pub struct Ledger {
    dir: PathBuf,
    opts: Options,
    key: SignerKey,
    sync: File,
    /// Records were appended since the last checkpoint this handle signed.
    dirty: std::sync::atomic::AtomicBool,
    boot: [u8; 36],
    files: Mutex<Files>,
    queue: Mutex<Queue>,
    cv: Condvar,
}

fn open_rw(p: &Path, mode: u32) -> std::io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(mode)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(p)
}

fn fsync_dir(p: &Path) -> Result<(), Error> {
    File::open(p)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(&format!("sync directory {}", p.display()), e))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], Error> {
    let mut b = [0u8; N];
    let mut got = 0;
    while got < N {
        // SAFETY: writes at most N - got bytes into our buffer.
        let r = unsafe { libc::getrandom(b[got..].as_mut_ptr().cast(), N - got, 0) };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            return Err(Error::io("getrandom", e));
        }
        got += r as usize;
    }
    Ok(b)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                .collect::<String>()
        })
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

pub fn key_path(dir: &Path) -> PathBuf {
    dir.join("keys/ledger.key")
}

pub fn pub_path(dir: &Path) -> PathBuf {
    dir.join("keys/ledger.pub")
}

/// Reads the verifier key a ledger publishes about itself (unanchored: whoever can
/// rewrite the ledger can rewrite this file).
pub fn read_own_verifier(dir: &Path) -> Result<VerifierKey, Error> {
    let s = std::fs::read_to_string(pub_path(dir))
        .map_err(|e| Error::io("read the ledger's public key", e))?;
    VerifierKey::parse(&s).map_err(|e| Error::Corrupt(format!("ledger public key: {e}")))
}

impl Ledger {
    /// Opens (creating if `opts.create`) the ledger in `dir`, repairing a crashed tail.
    pub fn open(dir: &Path, opts: Options) -> Result<Ledger, Error> {
        if !dir.join("lock").exists() && !opts.create {
            return Err(Error::NotFound(dir.display().to_string()));
        }
        for d in [dir.to_path_buf(), dir.join("segments"), dir.join("keys")] {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&d)
                .map_err(|e| Error::io(&format!("create {}", d.display()), e))?;
        }
        // The writer lock's file; each acquisition opens its own descriptor.
        drop(open_rw(&dir.join("lock"), 0o600).map_err(|e| Error::io("open lock", e))?);
        let sync = open_rw(&dir.join("sync"), 0o600).map_err(|e| Error::io("open sync", e))?;
        let index = open_rw(&dir.join("index"), 0o600).map_err(|e| Error::io("open index", e))?;
        let head = open_rw(&dir.join("head"), 0o600).map_err(|e| Error::io("open head", e))?;

        let (key, created) = {
            let _g = Flock::acquire(&dir.join("lock"), opts.lock_timeout, "open the ledger")?;
            Self::load_or_create_key(dir)?
        };
        let ledger = Ledger {
            dir: dir.to_path_buf(),
            opts,
            key,
            sync,
            dirty: std::sync::atomic::AtomicBool::new(false),
            boot: boot_id(),
            files: Mutex::new(Files {
                index,
                head,
                seg: None,
                recoveries: Vec::new(),
            }),
            queue: Mutex::new(Queue::default()),
            cv: Condvar::new(),
        };
        if created {
            ledger.append(NewRecord::new(
                Kind::Control,
                serde_json::json!({
                    "event": "key_created",
                    "details": {"verifier_key": ledger.key.verifier().encode()},
                }),
            ))?;
        } else {
            // Run recovery now, so a damaged ledger is reported at open, not first append.
            let _g = Flock::acquire(
                &ledger.dir.join("lock"),
                ledger.opts.lock_timeout,
                "open the ledger",
            )?;
            let mut files = ledger.files.lock().expect("files lock");
            let (_, events) = ledger.load_state(&mut files)?;
            drop(files);
            drop(_g);
            if !events.is_empty() {
                ledger.record_recoveries(events)?;
            }
        }
        Ok(ledger)
    }

    fn load_or_create_key(dir: &Path) -> Result<(SignerKey, bool), Error> {
        let kp = key_path(dir);
        match std::fs::read_to_string(&kp) {
            Ok(s) => {
                let k = SignerKey::parse(&s)
                    .map_err(|e| Error::Corrupt(format!("ledger signing key: {e}")))?;
                Ok((k, false))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let has_records = list_segments(dir)?.iter().any(|s| {
                    std::fs::metadata(dir.join("segments").join(segment_name(*s)))
                        .map(|m| m.len() > 0)
                        .unwrap_or(true)
                });
                if has_records {
                    return Err(Error::Corrupt(format!(
                        "the ledger has records but its signing key {} is missing; refusing to \
                         start a new key over an existing log (restore the key)",
                        kp.display()
                    )));
                }
                let id: [u8; 4] = random_bytes()?;
                let name = format!("airlock.{}/ledger-{}", hostname(), hex(&id));
                let key = SignerKey::from_seed(&name, random_bytes()?)
                    .map_err(|e| Error::Corrupt(e.to_string()))?;
                let tmp = dir.join("keys/.ledger.key.tmp");
                let _ = std::fs::remove_file(&tmp);
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&tmp)
                    .map_err(|e| Error::io("create the signing key", e))?;
                f.write_all(format!("{}\n", key.encode()).as_bytes())
                    .and_then(|_| f.sync_all())
                    .map_err(|e| Error::io("write the signing key", e))?;
                std::fs::rename(&tmp, &kp).map_err(|e| Error::io("install the signing key", e))?;
                std::fs::write(pub_path(dir), format!("{}\n", key.verifier().encode()))
                    .map_err(|e| Error::io("write the public key", e))?;
                fsync_dir(&dir.join("keys"))?;
                Ok((key, true))
            }
            Err(e) => Err(Error::io("read the signing key", e)),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn verifier_key(&self) -> VerifierKey {
        self.key.verifier()
    }

    pub fn origin(&self) -> &str {
        self.key.name()
    }

    /// Repairs found since open (torn tails cut, a rescan), for the caller to alert on.
    pub fn take_recoveries(&self) -> Vec<Recovery> {
        std::mem::take(&mut self.files.lock().expect("files lock").recoveries)
    }

    /// Appends one record; returns once it is durable.
    pub fn append(&self, r: NewRecord) -> Result<Receipt, Error> {
        Ok(self.append_many(vec![r])?.remove(0))
    }

    /// Appends records in order (contiguous indexes); returns once all are durable.
    pub fn append_many(&self, rs: Vec<NewRecord>) -> Result<Vec<Receipt>, Error> {
        self.append_inner(rs, true)
    }

    /// Appends records in order without waiting for them to be synced: for records that
    /// gate nothing (alerts, which their sinks also keep). They become durable with the
    /// next sync by anyone, at the latest when this handle is closed (its closing
    /// checkpoint syncs first). A crash of the machine may lose them; a killed process
    /// does not.
    pub fn append_many_unsynced(&self, rs: Vec<NewRecord>) -> Result<Vec<Receipt>, Error> {
        self.append_inner(rs, false)
    }

    fn append_inner(&self, rs: Vec<NewRecord>, durable: bool) -> Result<Vec<Receipt>, Error> {
        let mut prepared = Vec::with_capacity(rs.len());
        for r in &rs {
            prepared.push(record::prepare(r).map_err(|e| Error::Record(e.to_string()))?);
        }
        let n = prepared.len();
        let mut q = self.queue.lock().expect("queue lock");
        let first = q.next_ticket;
        q.next_ticket += n as u64;
        for (i, p) in prepared.into_iter().enumerate() {
            q.pending.push((first + i as u64, p, durable));
        }
        let mine = first..first + n as u64;
        loop {
            if mine.clone().all(|t| q.done.contains_key(&t)) {
                return mine.map(|t| q.done.remove(&t).expect("present")).collect();
            }
            if !q.leader {
                q.leader = true;
                while !q.pending.is_empty() {
                    let batch = std::mem::take(&mut q.pending);
                    drop(q);
                    let tickets: Vec<u64> = batch.iter().map(|(t, _, _)| *t).collect();
                    // One sync for the batch if any of its records needs it.
                    let sync = batch.iter().any(|(_, _, d)| *d);
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        self.commit(batch.into_iter().map(|(_, p, _)| p).collect(), sync)
                    }))
                    .unwrap_or_else(|_| {
                        Err(Error::Corrupt("internal error while appending".into()))
                    });
                    q = self.queue.lock().expect("queue lock");
                    match result {
                        Ok(receipts) => {
                            for (t, r) in tickets.into_iter().zip(receipts) {
                                q.done.insert(t, Ok(r));
                            }
                        }
                        Err(e) => {
                            for t in tickets {
                                q.done.insert(t, Err(e.clone()));
                            }
                        }
                    }
                    self.cv.notify_all();
                }
                q.leader = false;
                self.cv.notify_all();
                continue;
            }
            q = self.cv.wait(q).expect("queue lock");
        }
    }

    /// Writes a batch under the writer lock, then makes it durable.
    fn commit(&self, batch: Vec<Prepared>, sync: bool) -> Result<Vec<Receipt>, Error> {
        let written = {
            let _g = Flock::acquire(
                &self.dir.join("lock"),
                self.opts.lock_timeout,
                "append to the ledger",
            )?;
            let mut files = self.files.lock().expect("files lock");
            let (state, events) = self.load_state(&mut files)?;
            let mut all = Vec::new();
            for r in &events {
                all.push(record::prepare(&r.record()).map_err(|e| Error::Record(e.to_string()))?);
            }
            let skip = all.len();
            all.extend(batch);
            let written = self.write_batch(&mut files, state, &all);
            let mut events = events;
            if let Ok(w) = &written {
                for (r, receipt) in events.iter_mut().zip(&w.receipts) {
                    r.recorded = Some(receipt.clone());
                }
            }
            files.recoveries.extend(events);
            let mut w = written?;
            w.receipts.drain(..skip);
            w
        };
        if sync {
            self.make_durable(&written)?;
        } else {
            self.dirty.store(true, std::sync::atomic::Ordering::Relaxed);
        }
        Ok(written.receipts)
    }

    fn segment_file(
        &self,
        files: &mut Files,
        start: u64,
        create: bool,
    ) -> Result<std::sync::Arc<File>, Error> {
        if let Some((s, f)) = &files.seg
            && *s == start
        {
            return Ok(f.clone());
        }
        let p = self.dir.join("segments").join(segment_name(start));
        let f = if create {
            let f = open_rw(&p, 0o600).map_err(|e| Error::io("create a segment", e))?;
            fsync_dir(&self.dir.join("segments"))?;
            f
        } else {
            OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
                .open(&p)
                .map_err(|e| Error::io(&format!("open segment {}", p.display()), e))?
        };
        let f = std::sync::Arc::new(f);
        files.seg = Some((start, f.clone()));
        Ok(f)
    }

    fn write_batch(
        &self,
        files: &mut Files,
        mut st: State,
        batch: &[Prepared],
    ) -> Result<Written, Error> {
        // Rotate: the closed segment is synced before the next one starts, so a later
        // sync of the new segment covers everything before it.
        if st.seg_len > 0 && st.seg_len >= self.opts.segment_bytes {
            let old = self.segment_file(files, st.seg_start, false)?;
            old.sync_data()
                .map_err(|e| Error::io("sync a closed segment", e))?;
            st.seg_start = st.size;
            st.seg_len = 0;
            let next = self.segment_file(files, st.seg_start, true)?;
            if next.metadata().map(|m| m.len()).unwrap_or(1) != 0 {
                return Err(Error::Corrupt(format!(
                    "segment {} already holds data the head does not know; refusing to \
                     write over it",
                    segment_name(st.seg_start)
                )));
            }
            let _g = Flock::acquire(
                &self.dir.join("sync"),
                self.opts.lock_timeout,
                "rotate the ledger",
            )?;
            let mut m = read_marker(&self.sync, &self.boot);
            m.seg_start = st.seg_start;
            m.synced = 0;
            write_marker(&self.sync, &self.boot, m)?;
        }
        let seg = self.segment_file(files, st.seg_start, st.seg_len == 0)?;
        let time = record::rfc3339(SystemTime::now());
        let mut buf = Vec::with_capacity(batch.len() * 512);
        let mut idx = Vec::with_capacity(batch.len() * INDEX_ENTRY as usize);
        let mut payload = Vec::with_capacity(1024);
        let mut receipts = Vec::with_capacity(batch.len());
        let (start_len, start_size) = (st.seg_len, st.size);
        for p in batch {
            payload.clear();
            record::encode(p, st.size, &st.last_leaf, &time, &mut payload);
            if payload.len() > MAX_RECORD_BYTES {
                return Err(Error::Record(format!(
                    "record is {} bytes, over the limit of {MAX_RECORD_BYTES}",
                    payload.len()
                )));
            }
            let leaf = leaf_hash(&payload);
            let offset = start_len + buf.len() as u64;
            frame::encode(&payload, &mut buf);
            idx.extend_from_slice(&leaf);
            idx.extend_from_slice(&offset.to_le_bytes());
            st.frontier.push(leaf);
            st.last_leaf = leaf;
            receipts.push(Receipt {
                index: st.size,
                leaf,
            });
            st.size += 1;
        }
        if let Err(e) = seg.write_all_at(&buf, start_len) {
            // Leave no partial record behind: cut back to where this batch began, and let
            // no one count the cut bytes as synced.
            let _ = seg.set_len(start_len);
            let _ = self.note_cut(st.seg_start, start_len);
            return Err(Error::io("write to the ledger", e));
        }
        st.seg_len = start_len + buf.len() as u64;
        files
            .index
            .write_all_at(&idx, start_size * INDEX_ENTRY)
            .map_err(|e| Error::io("write the ledger index", e))?;
        files
            .head
            .write_all_at(&st.encode(), 0)
            .map_err(|e| Error::io("write the ledger head", e))?;
        Ok(Written {
            seg_start: st.seg_start,
            seg,
            end: st.seg_len,
            state: st,
            receipts,
        })
    }

    /// Returns once `w`'s bytes are covered by a completed `fdatasync`, doing it unless
    /// another writer's sync already covered them; then signs a checkpoint over `w` if the
    /// last one is older than the interval.
    fn make_durable(&self, w: &Written) -> Result<(), Error> {
        let cuts = {
            let _g = Flock::acquire(
                &self.dir.join("sync"),
                self.opts.lock_timeout,
                "sync the ledger",
            )?;
            let mut m = read_marker(&self.sync, &self.boot);
            if m.seg_start > w.seg_start || (m.seg_start == w.seg_start && m.synced >= w.end) {
                return self.checkpoint_if_due(&mut m, w);
            }
            m.cuts
        };
        // The sync itself runs outside the lock: processes syncing at once share the
        // file system's journal commit instead of queueing behind each other.
        let len = w
            .seg
            .metadata()
            .map_err(|e| Error::io("stat the segment", e))?
            .len();
        w.seg
            .sync_data()
            .map_err(|e| Error::io("sync the ledger", e))?;
        let _g = Flock::acquire(
            &self.dir.join("sync"),
            self.opts.lock_timeout,
            "sync the ledger",
        )?;
        let mut m = read_marker(&self.sync, &self.boot);
        // Our own batch is durable for sure; the rest of `len` only if nothing was cut
        // since it was read (a cut torn tail could otherwise count as synced).
        let durable = if m.cuts == cuts {
            len.max(w.end)
        } else {
            w.end
        };
        if m.seg_start < w.seg_start {
            m.seg_start = w.seg_start;
            m.synced = durable;
            write_marker(&self.sync, &self.boot, m)?;
        } else if m.seg_start == w.seg_start && m.synced < durable {
            m.synced = durable;
            write_marker(&self.sync, &self.boot, m)?;
        }
        self.checkpoint_if_due(&mut m, w)
    }

    /// Under the sync lock, after `w` is durable: signs a checkpoint over it if the last
    /// one is older than the interval.
    fn checkpoint_if_due(&self, m: &mut SyncMarker, w: &Written) -> Result<(), Error> {
        self.dirty.store(true, std::sync::atomic::Ordering::Relaxed);
        if self.forked() {
            return Ok(());
        }
        let due = now_ms().saturating_sub(m.checkpoint_ms)
            >= self.opts.checkpoint_interval.as_millis() as u64;
        if w.state.size > m.checkpoint_size && due {
            self.write_checkpoint(m, &w.state)?;
        }
        Ok(())
    }

    /// Under the sync lock: makes `seg` durable through byte `end` unless the marker says
    /// it already is.
    fn sync_through(
        &self,
        m: &mut SyncMarker,
        seg_start: u64,
        seg: &File,
        end: u64,
    ) -> Result<(), Error> {
        let covered = m.seg_start > seg_start || (m.seg_start == seg_start && m.synced >= end);
        if !covered {
            let len = seg
                .metadata()
                .map_err(|e| Error::io("stat the segment", e))?
                .len();
            seg.sync_data()
                .map_err(|e| Error::io("sync the ledger", e))?;
            m.seg_start = seg_start;
            m.synced = len.max(end);
            write_marker(&self.sync, &self.boot, *m)?;
        }
        Ok(())
    }

    /// Under the sync lock: signs a checkpoint over a synced state and appends it to the
    /// checkpoint log (compacted to its last entry once it grows past 256 KiB).
    fn write_checkpoint(&self, m: &mut SyncMarker, st: &State) -> Result<(), Error> {
        let note = self.key.sign(&Checkpoint {
            origin: self.key.name().to_string(),
            size: st.size,
            root: st.frontier.root(),
        });
        let mut payload = note.into_bytes();
        payload.push(0);
        payload.extend_from_slice(&st.encode());
        let mut framed = Vec::with_capacity(payload.len() + 8);
        frame::encode(&payload, &mut framed);
        if m.checkpoint_end == 0 {
            // Unknown (first use, or after a reboot): find where the whole frames end,
            // so a torn frame from a crash is overwritten, not built upon.
            m.checkpoint_end = scan_checkpoints(&self.dir)?.1;
        }
        let path = self.dir.join("checkpoints");
        if m.checkpoint_end > COMPACT_CHECKPOINTS {
            let tmp = self.dir.join(".checkpoints.tmp");
            std::fs::write(&tmp, &framed)
                .and_then(|_| std::fs::rename(&tmp, &path))
                .map_err(|e| Error::io("compact the checkpoints", e))?;
            m.checkpoint_end = framed.len() as u64;
        } else {
            let f = open_rw(&path, 0o600).map_err(|e| Error::io("open checkpoints", e))?;
            f.write_all_at(&framed, m.checkpoint_end)
                .and_then(|_| f.set_len(m.checkpoint_end + framed.len() as u64))
                .map_err(|e| Error::io("write a checkpoint", e))?;
            m.checkpoint_end += framed.len() as u64;
        }
        m.checkpoint_size = st.size;
        m.checkpoint_ms = now_ms();
        write_marker(&self.sync, &self.boot, *m)?;
        self.dirty
            .store(false, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }

    /// Retention: deletes whole segments whose records all come before `index` (never the
    /// segment being written). The index keeps every leaf hash, so the tree, the
    /// checkpoints and proofs stay valid; only bodies go. The pruning is recorded first.
    /// Returns the first index still held in full.
    pub fn prune_before(&self, index: u64) -> Result<u64, Error> {
        type Plan = (Vec<u64>, u64, Vec<Recovery>);
        let plan = |this: &Ledger| -> Result<Plan, Error> {
            let segs = list_segments(&this.dir)?;
            let mut files = this.files.lock().expect("files lock");
            let (st, events) = this.load_state(&mut files)?;
            let mut gone = Vec::new();
            for w in segs.windows(2) {
                if w[1] <= index && w[0] != st.seg_start {
                    gone.push(w[0]);
                }
            }
            let first_kept = segs
                .iter()
                .copied()
                .find(|s| !gone.contains(s))
                .unwrap_or(0);
            Ok((gone, first_kept, events))
        };
        let (gone, first_kept, events) = {
            let _g = Flock::acquire(
                &self.dir.join("lock"),
                self.opts.lock_timeout,
                "prune the ledger",
            )?;
            plan(self)?
        };
        if !events.is_empty() {
            self.record_recoveries(events)?;
        }
        if gone.is_empty() {
            return Ok(first_kept);
        }
        // Checkpoint first, so a signed root covers the leaf hashes that outlive the bodies.
        self.append(NewRecord::new(
            Kind::Control,
            serde_json::json!({"event": "pruned", "details": {
                "before": first_kept,
                "segments": gone.iter().map(|s| segment_name(*s)).collect::<Vec<_>>(),
            }}),
        ))?;
        self.checkpoint_now()?;
        let _g = Flock::acquire(
            &self.dir.join("lock"),
            self.opts.lock_timeout,
            "prune the ledger",
        )?;
        let (again, first_kept, events) = plan(self)?;
        if !events.is_empty() {
            // Something changed under us; record it and leave the pruning for another run.
            drop(_g);
            self.record_recoveries(events)?;
            return Ok(0);
        }
        for s in again.iter().filter(|s| gone.contains(s)) {
            std::fs::remove_file(self.dir.join("segments").join(segment_name(*s)))
                .map_err(|e| Error::io("remove a pruned segment", e))?;
        }
        fsync_dir(&self.dir.join("segments"))?;
        let mut files = self.files.lock().expect("files lock");
        files.seg = None;
        Ok(first_kept)
    }

    /// Signs a checkpoint over everything appended so far (syncing first if needed),
    /// unless the latest one already covers it. Returns the latest checkpoint's text.
    pub fn checkpoint_now(&self) -> Result<Option<String>, Error> {
        let found;
        {
            let _g = Flock::acquire(
                &self.dir.join("lock"),
                self.opts.lock_timeout,
                "checkpoint the ledger",
            )?;
            let mut files = self.files.lock().expect("files lock");
            let (st, events) = self.load_state(&mut files)?;
            found = events;
            if st.size > 0 && found.is_empty() {
                if self.forked() {
                    return Err(Error::Corrupt(FORKED_MSG.into()));
                }
                let seg = self.segment_file(&mut files, st.seg_start, false)?;
                let _s = Flock::acquire(
                    &self.dir.join("sync"),
                    self.opts.lock_timeout,
                    "checkpoint the ledger",
                )?;
                let mut m = read_marker(&self.sync, &self.boot);
                if st.size > m.checkpoint_size || m.checkpoint_end == 0 {
                    self.sync_through(&mut m, st.seg_start, &seg, st.seg_len)?;
                    self.write_checkpoint(&mut m, &st)?;
                }
            }
        }
        if !found.is_empty() {
            // Repairs found here go on the record like those found by an append (whose
            // commit then signs the checkpoint).
            self.record_recoveries(found)?;
            return self.checkpoint_now();
        }
        self.dirty
            .store(false, std::sync::atomic::Ordering::Relaxed);
        self.latest_checkpoint()
    }

    /// After cutting a segment back to `len`: nothing past the cut counts as synced any
    /// more, and the cut counter moves so a length read before it is not recorded later.
    fn note_cut(&self, seg_start: u64, len: u64) -> Result<(), Error> {
        let _g = Flock::acquire(
            &self.dir.join("sync"),
            self.opts.lock_timeout,
            "sync the ledger",
        )?;
        let mut m = read_marker(&self.sync, &self.boot);
        if m.seg_start == seg_start {
            m.synced = m.synced.min(len);
        }
        m.cuts += 1;
        write_marker(&self.sync, &self.boot, m)
    }

    fn record_recoveries(&self, mut events: Vec<Recovery>) -> Result<(), Error> {
        let recs = events.iter().map(Recovery::record).collect();
        let written = self.append_many(recs);
        if let Ok(receipts) = &written {
            for (r, receipt) in events.iter_mut().zip(receipts) {
                r.recorded = Some(receipt.clone());
            }
        }
        self.files
            .lock()
            .expect("files lock")
            .recoveries
            .extend(events);
        written.map(|_| ())
    }

    /// Set when recovery found records under a signed checkpoint gone: signing stops, so
    /// the ledger never signs a history inconsistent with one it signed before.
    fn forked(&self) -> bool {
        self.dir.join("FORKED").exists()
    }

    /// The latest signed checkpoint, as text.
    pub fn latest_checkpoint(&self) -> Result<Option<String>, Error> {
        read_checkpoint_text(&self.dir)
    }

    /// The head, checked against the segment under the writer lock; repaired if a writer
    /// crashed. Returns the state and what was repaired.
    fn load_state(&self, files: &mut Files) -> Result<(State, Vec<Recovery>), Error> {
        let (st, events) = self.load_state_inner(files)?;
        if let Some(r) = events.iter().find(|r| r.below_checkpoint) {
            let _ = std::fs::write(
                self.dir.join("FORKED"),
                format!(
                    "{}\n",
                    serde_json::json!({"event": r.event, "details": r.details})
                ),
            );
        }
        Ok((st, events))
    }

    fn load_state_inner(&self, files: &mut Files) -> Result<(State, Vec<Recovery>), Error> {
        let mut b = vec![0u8; 100 + 32 * 64];
        let n = files
            .head
            .read_at(&mut b, 0)
            .map_err(|e| Error::io("read the head", e))?;
        let head = State::decode(&b[..n]);
        let index_len = files
            .index
            .metadata()
            .map_err(|e| Error::io("stat the index", e))?
            .len();
        let mut events = Vec::new();
        if let Some(st) = head {
            let seg_len = if st.size == 0 && st.seg_len == 0 {
                Some(0)
            } else {
                self.segment_file(files, st.seg_start, false)
                    .ok()
                    .and_then(|f| f.metadata().ok())
                    .map(|m| m.len())
            };
            if let Some(len) = seg_len
                && len >= st.seg_len
                && index_len >= st.size * INDEX_ENTRY
            {
                // A later segment starting where this one ends means the head predates a
                // rotation (it is not synced): adopt what that segment holds.
                let next = self.dir.join("segments").join(segment_name(st.size));
                if len == st.seg_len && (st.size == st.seg_start || !next.exists()) {
                    return Ok((st, events));
                }
                let mut st = st;
                self.scan_forward(files, &mut st, &mut events)?;
                files
                    .head
                    .write_all_at(&st.encode(), 0)
                    .map_err(|e| Error::io("write the ledger head", e))?;
                return Ok((st, events));
            }
        } else if n == 0 && list_segments(&self.dir)?.is_empty() {
            return Ok((State::empty(), events));
        }
        // The head does not match the files: restart from the last checkpoint's state.
        let ckpt = read_checkpoint_state(&self.dir);
        let mut st = match &ckpt {
            Some(c) => c.clone(),
            None => State::empty(),
        };
        let seg_ok = st.size == 0
            || std::fs::metadata(self.dir.join("segments").join(segment_name(st.seg_start)))
                .map(|m| m.len() >= st.seg_len)
                .unwrap_or(false);
        if !seg_ok {
            st = State::empty();
        }
        files.seg = None;
        self.scan_forward(files, &mut st, &mut events)?;
        let ckpt_size = checkpoint_size(&self.dir)?;
        events.push(Recovery {
            event: "rebuilt_head".into(),
            below_checkpoint: st.size < ckpt_size,
            details: serde_json::json!({
                "from_checkpoint": ckpt.as_ref().filter(|_| seg_ok).map(|c| c.size),
                "size": st.size,
                "checkpoint_size": ckpt_size,
            }),
            recorded: None,
        });
        files
            .head
            .write_all_at(&st.encode(), 0)
            .map_err(|e| Error::io("write the ledger head", e))?;
        Ok((st, events))
    }

    /// Adopts whole, well-chained frames past `st` (segment after segment), rewriting
    /// their index entries; cuts a torn tail in the last segment and records the cut.
    fn scan_forward(
        &self,
        files: &mut Files,
        st: &mut State,
        events: &mut Vec<Recovery>,
    ) -> Result<(), Error> {
        let segs = list_segments(&self.dir)?;
        loop {
            let path = self.dir.join("segments").join(segment_name(st.seg_start));
            let mut data = Vec::new();
            match File::open(&path) {
                Ok(mut f) => {
                    f.read_to_end(&mut data)
                        .map_err(|e| Error::io("read a segment", e))?;
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && st.size == 0 => {}
                Err(e) => return Err(Error::io(&format!("read {}", path.display()), e)),
            }
            let mut off = st.seg_len as usize;
            let mut idx = Vec::new();
            let idx_start = st.size;
            let mut bad: Option<&str> = None;
            while off < data.len() {
                match frame::decode(&data[off..], MAX_RECORD_BYTES) {
                    Decoded::Frame(payload, len) => {
                        match check_link(payload, st.size, &st.last_leaf) {
                            Ok(()) => {
                                let leaf = leaf_hash(payload);
                                idx.extend_from_slice(&leaf);
                                idx.extend_from_slice(&(off as u64).to_le_bytes());
                                st.frontier.push(leaf);
                                st.last_leaf = leaf;
                                st.size += 1;
                                off += len;
                            }
                            Err(why) => {
                                bad = Some(why);
                                break;
                            }
                        }
                    }
                    Decoded::Short => {
                        bad = Some("torn record at the end");
                        break;
                    }
                    Decoded::Bad(why) => {
                        bad = Some(why);
                        break;
                    }
                }
            }
            st.seg_len = off as u64;
            files
                .index
                .write_all_at(&idx, idx_start * INDEX_ENTRY)
                .map_err(|e| Error::io("write the ledger index", e))?;
            let later: Vec<u64> = segs.iter().copied().filter(|s| *s > st.seg_start).collect();
            if let Some(why) = bad {
                if later.iter().any(|s| {
                    std::fs::metadata(self.dir.join("segments").join(segment_name(*s)))
                        .map(|m| m.len() > 0)
                        .unwrap_or(true)
                }) {
                    return Err(Error::Corrupt(format!(
                        "segment {} is damaged at byte {off} ({why}) with later segments after \
                         it: this is not a crash's torn tail; run `airlock ledger verify`",
                        segment_name(st.seg_start)
                    )));
                }
                let cut = data.len() - off;
                let f = self.segment_file(files, st.seg_start, false)?;
                f.set_len(off as u64)
                    .and_then(|_| f.sync_data())
                    .map_err(|e| Error::io("cut a torn tail", e))?;
                self.note_cut(st.seg_start, off as u64)?;
                let ckpt_size = checkpoint_size(&self.dir)?;
                events.push(Recovery {
                    event: "recovered_truncation".into(),
                    below_checkpoint: st.size < ckpt_size,
                    details: serde_json::json!({
                        "segment": segment_name(st.seg_start),
                        "offset": off,
                        "bytes": cut,
                        "reason": why,
                        "size": st.size,
                        "checkpoint_size": ckpt_size,
                    }),
                    recorded: None,
                });
                return Ok(());
            }
            // This segment is whole: continue into the next one if it starts here.
            match later.first() {
                Some(&next) if next == st.size => {
                    st.seg_start = next;
                    st.seg_len = 0;
                }
                _ => return Ok(()),
            }
        }
    }
}

/// Checks a payload's `index` and `prev` against the expected chain position.
pub(crate) fn check_link(payload: &[u8], index: u64, prev: &Hash) -> Result<(), &'static str> {
    #[derive(serde::Deserialize)]
    struct Link<'a> {
        index: u64,
        #[serde(borrow)]
        prev: &'a str,
    }
    let l: Link = serde_json::from_slice(payload).map_err(|_| "record is not valid JSON")?;
    if l.index != index {
        return Err("record index out of sequence");
    }
    if l.prev != hex(prev) {
        return Err("record does not chain to the one before it");
    }
    Ok(())
}

pub(crate) fn read_checkpoint_state(dir: &Path) -> Option<State> {
    let (frames, _) = scan_checkpoints(dir).ok()?;
    let last = frames.into_iter().last()?;
    let st = last.state?;
    // Only a state that matches the signed checkpoint is a trusted restart point.
    let note = SignedCheckpoint::parse(&last.note).ok()?;
    (note.checkpoint.size == st.size && note.checkpoint.root == st.frontier.root()).then_some(st)
}

/// How many records the latest signed checkpoint covers (0 without one).
fn checkpoint_size(dir: &Path) -> Result<u64, Error> {
    Ok(read_checkpoint_text(dir)?
        .and_then(|t| SignedCheckpoint::parse(&t).ok())
        .map_or(0, |c| c.checkpoint.size))
}

/// The latest signed checkpoint's text.
pub fn read_checkpoint_text(dir: &Path) -> Result<Option<String>, Error> {
    Ok(scan_checkpoints(dir)?.0.into_iter().last().map(|c| c.note))
}

impl Drop for Ledger {
    /// A handle that appended leaves a checkpoint covering its records.
    fn drop(&mut self) {
        if self.dirty.load(std::sync::atomic::Ordering::Relaxed)
            && let Err(e) = self.checkpoint_now()
        {
            eprintln!("airlock: ledger: could not sign a closing checkpoint: {e}");
        }
    }
}
