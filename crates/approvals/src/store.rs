//! The SQLite store: one file, WAL, `synchronous = FULL`, every change one
//! `BEGIN IMMEDIATE` transaction.
//!
//! `IMMEDIATE` takes the write lock before the first read, so the check and the change
//! of every call (is it pending? has this person approved already? is it still
//! approved and unused?) happen under one lock: two processes racing to use one
//! approval are serialised by SQLite, and the second one reads the first one's
//! result. A deferred transaction would read first and fail to upgrade its lock
//! (`SQLITE_BUSY`) instead of waiting; the busy timeout makes an `IMMEDIATE` begin
//! wait for the lock instead.
//!
//! `synchronous = FULL` makes each commit wait for the WAL to reach the disk: a
//! decision or a use the caller was told about survives a power cut.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSqlOutput, ValueRef};
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, ToSql, Transaction, TransactionBehavior,
    params,
};

use crate::error::{Error, Result};
use crate::secure;
use crate::time::UnixMs;
use crate::types::{
    Approval, Decision, DecisionRecord, Event, EventKind, Identity, MAX_SESSION_WINDOW, MAX_TTL,
    NewApproval, Role, Status,
};

/// The schema this code writes and reads, kept in the `meta` table.
pub const SCHEMA_VERSION: u32 = 1;

/// What `meta.application` holds, so that another SQLite file is never taken for ours.
const APPLICATION: &str = "airlock-approvals";

/// How long a call waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const MAX_NAME: usize = 256;
const MAX_SUMMARY: usize = 64 * 1024;
const MAX_COMMENT: usize = 4 * 1024;

const SCHEMA: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE approvals (
    id                 TEXT PRIMARY KEY NOT NULL,
    request_id         TEXT NOT NULL,
    digest             TEXT NOT NULL,
    requester_name     TEXT NOT NULL,
    requester_role     TEXT NOT NULL CHECK (requester_role IN ('agent', 'approver', 'admin')),
    session            TEXT,
    summary            TEXT NOT NULL,
    target             TEXT,
    env                TEXT,
    required_approvals INTEGER NOT NULL CHECK (required_approvals IN (1, 2)),
    status             TEXT NOT NULL
                       CHECK (status IN ('pending', 'approved', 'denied', 'expired', 'consumed')),
    created_at_ms      INTEGER NOT NULL,
    expires_at_ms      INTEGER NOT NULL,
    decided_at_ms      INTEGER,
    session_until_ms   INTEGER,
    uses               INTEGER NOT NULL DEFAULT 0 CHECK (uses >= 0),
    updated_at_ms      INTEGER NOT NULL,
    CHECK (session_until_ms IS NULL OR session IS NOT NULL)
) STRICT;

CREATE INDEX approvals_by_status ON approvals (status, created_at_ms);
CREATE INDEX approvals_by_update ON approvals (updated_at_ms);

CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    approval_id TEXT NOT NULL REFERENCES approvals (id),
    at_ms       INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN
                ('requested', 'approve', 'approve_for_session', 'deny', 'expired', 'used')),
    actor_name  TEXT,
    actor_role  TEXT CHECK (actor_role IS NULL OR actor_role IN ('agent', 'approver', 'admin')),
    actor_key   TEXT,
    comment     TEXT,
    session     TEXT,
    digest      TEXT,
    until_ms    INTEGER
) STRICT;

CREATE INDEX events_by_approval ON events (approval_id, seq);

-- Two approvals of one request by one person count once: refused here as well as in code.
CREATE UNIQUE INDEX events_one_approval_per_person ON events (approval_id, actor_key)
    WHERE kind IN ('approve', 'approve_for_session');

-- Guards against bugs in this crate (not against someone who can write the file, who
-- could drop them): history is append-only, the binding never changes, and a status
-- only moves forward.
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'approval events are append-only'); END;

CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'approval events are append-only'); END;

CREATE TRIGGER approvals_binding_is_fixed BEFORE UPDATE ON approvals
WHEN NEW.id IS NOT OLD.id OR NEW.request_id IS NOT OLD.request_id
  OR NEW.digest IS NOT OLD.digest OR NEW.requester_name IS NOT OLD.requester_name
  OR NEW.requester_role IS NOT OLD.requester_role OR NEW.session IS NOT OLD.session
  OR NEW.required_approvals IS NOT OLD.required_approvals
  OR NEW.created_at_ms IS NOT OLD.created_at_ms OR NEW.expires_at_ms IS NOT OLD.expires_at_ms
BEGIN SELECT RAISE(ABORT, 'what an approval is bound to cannot change'); END;

CREATE TRIGGER approvals_status_moves_forward BEFORE UPDATE OF status ON approvals
WHEN NOT (NEW.status = OLD.status
  OR (OLD.status = 'pending' AND NEW.status IN ('approved', 'denied', 'expired'))
  OR (OLD.status = 'approved' AND NEW.status IN ('consumed', 'expired')))
BEGIN SELECT RAISE(ABORT, 'an approval status cannot move backwards'); END;
"#;

/// The columns `approval_from_row` reads, in its order.
macro_rules! approval_columns {
    () => {
        "id, request_id, digest, requester_name, requester_role, session, summary, target, \
         env, required_approvals, status, created_at_ms, expires_at_ms, decided_at_ms, \
         session_until_ms, uses"
    };
}

/// The approvals store. One handle is one SQLite connection; several handles (in one
/// process or several) may share a file, and SQLite's locking serialises their
/// changes.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open the store at `path`, creating it (mode 0600) and its schema if absent.
    ///
    /// Refused, before SQLite reads a byte: a directory that other users can read or
    /// write, a file with any group or other permission, a file or directory owned by
    /// another user, a symbolic link. Also refused: a SQLite file that is not an
    /// approvals store, and a schema newer than this code.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        secure::prepare(&path)?;
        // No CREATE (the file exists, made private above), no URI parsing of the path,
        // and no following a symbolic link put there since the check.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn = Connection::open_with_flags(&path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let not_ours = |e: rusqlite::Error| match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => Error::NotAStore {
                path: path.clone(),
                why: "it is not an SQLite database".into(),
            },
            _ => Error::Database(e),
        };
        let journal: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(not_ours)?;
        if !journal.eq_ignore_ascii_case("wal") {
            return Err(Error::NotAStore {
                path,
                why: format!("it could not be switched to write-ahead logging (mode {journal})"),
            });
        }
        // FULL: a commit returns only once the WAL is on disk. trusted_schema OFF:
        // a schema someone else wrote cannot call functions with side effects.
        conn.execute_batch(
            "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;",
        )?;
        let sync: i64 = conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?;
        if sync != 2 {
            return Err(Error::NotAStore {
                path,
                why: format!("SQLite refused synchronous = FULL (got {sync})"),
            });
        }
        let mut store = Store { conn, path };
        store.migrate()?;
        // The WAL and shared-memory files exist now: SQLite gives them the database
        // file's mode, and a leftover one from elsewhere must not be trusted.
        secure::check_files(&store.path)?;
        Ok(store)
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&mut self) -> Result<()> {
        let path = self.path.clone();
        let tx = Transaction::new(&mut self.conn, TransactionBehavior::Immediate)?;
        let tables: Vec<String> = tx
            .prepare(
                "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if tables.is_empty() {
            tx.execute_batch(SCHEMA)?;
            tx.execute(
                "INSERT INTO meta (key, value) VALUES ('application', ?1), ('schema_version', ?2)",
                params![APPLICATION, SCHEMA_VERSION.to_string()],
            )?;
            tx.commit()?;
            return Ok(());
        }
        if !tables.iter().any(|t| t == "meta") {
            return Err(Error::NotAStore {
                path,
                why: "it has tables but no meta table".into(),
            });
        }
        let meta = |key: &str| -> Result<Option<String>> {
            Ok(tx
                .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()?)
        };
        if meta("application")?.as_deref() != Some(APPLICATION) {
            return Err(Error::NotAStore {
                path,
                why: format!("its meta table does not name it {APPLICATION:?}"),
            });
        }
        let version = meta("schema_version")?;
        let found = version.as_deref().and_then(|v| v.parse::<u32>().ok());
        match found {
            Some(v) if v == SCHEMA_VERSION => {}
            Some(v) if v > SCHEMA_VERSION => {
                return Err(Error::SchemaTooNew {
                    path,
                    found: v,
                    supported: SCHEMA_VERSION,
                });
            }
            // Version 1 is the first: anything else was not written by airlock.
            _ => {
                return Err(Error::NotAStore {
                    path,
                    why: format!("unknown schema version {version:?}"),
                });
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Record a new pending approval for the proposal `new` describes, expiring
    /// `new.ttl` after `now`. Its id is 128 random bits: the id is what an approver's
    /// link and the agent's wait refer to, so it must not be guessable.
    pub fn request(&mut self, new: &NewApproval, now: UnixMs) -> Result<Approval> {
        validate_new(new)?;
        let id = random_id()?;
        let expires_at = now.plus(new.ttl);
        let tx = Transaction::new(&mut self.conn, TransactionBehavior::Immediate)?;
        tx.prepare_cached(
            "INSERT INTO approvals (id, request_id, digest, requester_name, requester_role, \
             session, summary, target, env, required_approvals, status, created_at_ms, \
             expires_at_ms, updated_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 'pending', ?11, ?12, ?11)",
        )?
        .execute(params![
            id,
            new.request_id,
            new.digest,
            new.requester.name,
            new.requester.role,
            new.session,
            new.summary,
            new.target,
            new.env,
            new.required_approvals,
            now,
            expires_at,
        ])?;
        insert_event(
            &tx,
            &id,
            now,
            EventKind::Requested,
            EventDetail {
                actor: Some(&new.requester),
                session: new.session.as_deref(),
                digest: Some(&new.digest),
                ..EventDetail::default()
            },
        )?;
        let approval = load(&tx, &id)?;
        tx.commit()?;
        Ok(approval)
    }

    /// A person's decision on a pending approval, checked and recorded in one
    /// transaction.
    ///
    /// Refused (nothing recorded): an agent identity ([`Error::AgentCannotDecide`]),
    /// the requester under any spelling of their name
    /// ([`Error::RequesterCannotDecide`]), an approval that is not pending
    /// ([`Error::NotPending`]), a second approval by the same person
    /// ([`Error::AlreadyApprovedBy`]), a session window on an approval without a
    /// session or longer than [`MAX_SESSION_WINDOW`].
    ///
    /// A pending approval whose time is up is marked `expired` by this same
    /// transaction, which commits, and the call returns [`Error::Expired`]: the
    /// expiry is recorded (with who found it), the decision is not.
    ///
    /// With `required_approvals = 2` the first approval leaves it pending; the second,
    /// by another person, makes it approved. Any deny makes it denied.
    pub fn decide(
        &mut self,
        id: &str,
        approver: &Identity,
        decision: Decision,
        comment: Option<String>,
        now: UnixMs,
    ) -> Result<Approval> {
        if approver.role == Role::Agent {
            return Err(Error::AgentCannotDecide {
                name: approver.name.clone(),
            });
        }
        check_name("approver name", &approver.name)?;
        if let Some(c) = &comment {
            check_text("comment", c, MAX_COMMENT)?;
        }
        if let Decision::ApproveForSession { until } = decision {
            if until <= now {
                return Err(Error::SessionWindow(format!(
                    "it must end in the future (it ends at {until}, now is {now})"
                )));
            }
            if until > now.plus(MAX_SESSION_WINDOW) {
                return Err(Error::SessionWindow(format!(
                    "it may last at most {} hours (it ends at {until})",
                    MAX_SESSION_WINDOW.as_secs() / 3600
                )));
            }
        }

        let tx = Transaction::new(&mut self.conn, TransactionBehavior::Immediate)?;
        let current = load_opt(&tx, id)?.ok_or_else(|| Error::NotFound(id.to_string()))?;
        if current.requester.key() == approver.key() {
            return Err(Error::RequesterCannotDecide {
                id: id.to_string(),
                name: approver.name.clone(),
            });
        }
        if current.status == Status::Pending && now >= current.expires_at {
            mark_expired(&tx, id, now, Some(approver))?;
            tx.commit()?;
            return Err(Error::Expired {
                id: id.to_string(),
                at: current.expires_at,
            });
        }
        if current.status != Status::Pending {
            return Err(Error::NotPending {
                id: id.to_string(),
                status: current.status,
            });
        }
        let detail = EventDetail {
            actor: Some(approver),
            comment: comment.as_deref(),
            ..EventDetail::default()
        };
        match decision {
            Decision::Deny => {
                insert_event(&tx, id, now, EventKind::Deny, detail)?;
                set_status(&tx, id, Status::Denied, now, None)?;
            }
            Decision::Approve | Decision::ApproveForSession { .. } => {
                let until = match decision {
                    Decision::ApproveForSession { until } => {
                        if current.session.is_none() {
                            return Err(Error::NoSession { id: id.to_string() });
                        }
                        Some(until)
                    }
                    _ => None,
                };
                if current
                    .decisions
                    .iter()
                    .any(|d| d.approver.key() == approver.key())
                {
                    return Err(Error::AlreadyApprovedBy {
                        id: id.to_string(),
                        name: approver.name.clone(),
                    });
                }
                let kind = match until {
                    Some(_) => EventKind::ApproveForSession,
                    None => EventKind::Approve,
                };
                insert_event(&tx, id, now, kind, EventDetail { until, ..detail })?;
                let approvals = current.approvals_so_far() + 1;
                if approvals >= usize::from(current.required_approvals) {
                    // A session window only if every approver gave one; then the
                    // shortest of them.
                    let mut windows = current
                        .decisions
                        .iter()
                        .map(|d| match d.decision {
                            Decision::ApproveForSession { until } => Some(until),
                            _ => None,
                        })
                        .chain([until]);
                    let session_until =
                        windows.try_fold(UnixMs(i64::MAX), |min, w| w.map(|w| min.min(w)));
                    set_status(&tx, id, Status::Approved, now, session_until)?;
                } else {
                    touch(&tx, id, now)?;
                }
            }
        }
        let approval = load(&tx, id)?;
        tx.commit()?;
        Ok(approval)
    }

    /// Use an approval to start execution: the one call that turns an approval into
    /// code running. In one `IMMEDIATE` transaction it checks that the approval is
    /// approved and unused (or a session approval inside its window), not expired,
    /// asked for in `session`, and approved for exactly `digest`; then marks it
    /// consumed and records the use.
    ///
    /// **`digest` must be recomputed by the caller over the sealed bytes that are
    /// about to run** (code, referenced scripts, grants, requester, policy version,
    /// sandbox profile), not copied from the proposal or the approval: that
    /// recomputation is what makes "nothing but the approved bytes can run" true.
    ///
    /// A single-use approval succeeds once; every later call fails with
    /// [`Error::AlreadyConsumed`]. A digest or session mismatch fails and uses
    /// nothing. An approval found past its time is marked `expired` (committed) and
    /// the call fails with [`Error::Expired`].
    pub fn consume(
        &mut self,
        id: &str,
        digest: &str,
        session: Option<&str>,
        now: UnixMs,
    ) -> Result<Approval> {
        let tx = Transaction::new(&mut self.conn, TransactionBehavior::Immediate)?;
        let current = load_opt(&tx, id)?.ok_or_else(|| Error::NotFound(id.to_string()))?;
        let id = current.id.as_str();
        match current.status {
            Status::Pending | Status::Approved if now >= current.deadline() => {
                mark_expired(&tx, id, now, None)?;
                tx.commit()?;
                return Err(Error::Expired {
                    id: id.to_string(),
                    at: current.deadline(),
                });
            }
            Status::Approved => {}
            Status::Pending | Status::Denied | Status::Expired => {
                return Err(Error::NotApproved {
                    id: id.to_string(),
                    status: current.status,
                });
            }
            Status::Consumed => match current.session_until {
                None => {
                    return Err(Error::AlreadyConsumed { id: id.to_string() });
                }
                Some(until) if now >= until => {
                    return Err(Error::SessionWindowOver {
                        id: id.to_string(),
                        until,
                    });
                }
                Some(_) => {}
            },
        }
        if current.session.as_deref() != session {
            return Err(Error::SessionMismatch { id: id.to_string() });
        }
        if current.digest != digest {
            return Err(Error::DigestMismatch {
                id: id.to_string(),
                approved: current.digest.clone(),
                got: digest.to_string(),
            });
        }
        let changed = tx
            .prepare_cached(
                "UPDATE approvals SET status = 'consumed', uses = uses + 1, updated_at_ms = ?2 \
                 WHERE id = ?1 AND status IN ('approved', 'consumed')",
            )?
            .execute(params![id, now])?;
        debug_assert_eq!(changed, 1);
        insert_event(
            &tx,
            id,
            now,
            EventKind::Used,
            EventDetail {
                session,
                digest: Some(digest),
                ..EventDetail::default()
            },
        )?;
        let approval = load(&tx, id)?;
        tx.commit()?;
        Ok(approval)
    }

    /// Mark every approval whose time is up as `expired`: pending ones past
    /// `expires_at`, and approved ones never used before their deadline. Returns them
    /// (in their new state) so that the caller can record each expiry in the ledger.
    /// A sweeper calls this; `decide` and `consume` also expire what they find late,
    /// so correctness never depends on the sweeper having run.
    pub fn expire_due(&mut self, now: UnixMs) -> Result<Vec<Approval>> {
        let tx = Transaction::new(&mut self.conn, TransactionBehavior::Immediate)?;
        let ids: Vec<String> = tx
            .prepare(
                "SELECT id FROM approvals \
                 WHERE (status = 'pending' AND expires_at_ms <= ?1) \
                    OR (status = 'approved' AND COALESCE(session_until_ms, expires_at_ms) <= ?1) \
                 ORDER BY expires_at_ms, id",
            )?
            .query_map([now], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut expired = Vec::with_capacity(ids.len());
        for id in &ids {
            mark_expired(&tx, id, now, None)?;
            expired.push(load(&tx, id)?);
        }
        tx.commit()?;
        Ok(expired)
    }

    /// One approval by id.
    pub fn get(&self, id: &str) -> Result<Approval> {
        load_opt(&self.conn, id)?.ok_or_else(|| Error::NotFound(id.to_string()))
    }

    /// Approvals waiting for a decision, oldest first. Some may be past their
    /// `expires_at` until the sweeper or a decision marks them: show
    /// [`Approval::expires_at`] and let `decide` refuse them.
    pub fn pending(&self) -> Result<Vec<Approval>> {
        self.list(
            concat!(
                "SELECT ",
                approval_columns!(),
                " FROM approvals WHERE status = 'pending' ORDER BY created_at_ms, id"
            ),
            &[],
        )
    }

    /// Approvals no longer pending (approved, denied, expired, consumed), most
    /// recently changed first, at most `limit` of them.
    pub fn history(&self, limit: usize) -> Result<Vec<Approval>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.list(
            concat!(
                "SELECT ",
                approval_columns!(),
                " FROM approvals WHERE status <> 'pending' ORDER BY updated_at_ms DESC, id LIMIT ?1"
            ),
            &[&limit],
        )
    }

    /// Everything that happened to one approval, oldest first: the request, each
    /// decision, an expiry, each use.
    pub fn events(&self, id: &str) -> Result<Vec<Event>> {
        let mut stmt = self.conn.prepare(
            "SELECT seq, approval_id, at_ms, kind, actor_name, actor_role, comment, session, \
             digest, until_ms FROM events WHERE approval_id = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([id], |r| {
            let actor = match (r.get::<_, Option<String>>(4)?, r.get::<_, Option<Role>>(5)?) {
                (Some(name), Some(role)) => Some(Identity { name, role }),
                _ => None,
            };
            Ok(Event {
                seq: r.get(0)?,
                approval_id: r.get(1)?,
                at: r.get(2)?,
                kind: r.get(3)?,
                actor,
                comment: r.get(6)?,
                session: r.get(7)?,
                digest: r.get(8)?,
                until: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn list(&self, sql: &str, args: &[&dyn ToSql]) -> Result<Vec<Approval>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut out: Vec<Approval> = stmt
            .query_map(args, approval_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        for a in &mut out {
            a.decisions = decisions(&self.conn, &a.id)?;
        }
        Ok(out)
    }
}

// ---- rows ----

fn approval_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Approval> {
    Ok(Approval {
        id: r.get(0)?,
        request_id: r.get(1)?,
        digest: r.get(2)?,
        requester: Identity {
            name: r.get(3)?,
            role: r.get(4)?,
        },
        session: r.get(5)?,
        summary: r.get(6)?,
        target: r.get(7)?,
        env: r.get(8)?,
        required_approvals: r.get(9)?,
        status: r.get(10)?,
        created_at: r.get(11)?,
        expires_at: r.get(12)?,
        decided_at: r.get(13)?,
        session_until: r.get(14)?,
        uses: r.get(15)?,
        decisions: Vec::new(),
    })
}

fn load_opt(conn: &Connection, id: &str) -> Result<Option<Approval>> {
    let found = conn
        .prepare_cached(concat!(
            "SELECT ",
            approval_columns!(),
            " FROM approvals WHERE id = ?1"
        ))?
        .query_row([id], approval_from_row)
        .optional()?;
    match found {
        Some(mut a) => {
            a.decisions = decisions(conn, id)?;
            Ok(Some(a))
        }
        None => Ok(None),
    }
}

fn load(conn: &Connection, id: &str) -> Result<Approval> {
    load_opt(conn, id)?.ok_or_else(|| Error::NotFound(id.to_string()))
}

fn decisions(conn: &Connection, id: &str) -> Result<Vec<DecisionRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT actor_name, actor_role, kind, comment, at_ms, until_ms FROM events \
         WHERE approval_id = ?1 AND kind IN ('approve', 'approve_for_session', 'deny') \
         ORDER BY seq",
    )?;
    let rows = stmt.query_map([id], |r| {
        let kind: EventKind = r.get(2)?;
        let decision = match kind {
            EventKind::Approve => Decision::Approve,
            EventKind::Deny => Decision::Deny,
            _ => Decision::ApproveForSession {
                until: r.get::<_, Option<UnixMs>>(5)?.unwrap_or(UnixMs(0)),
            },
        };
        Ok(DecisionRecord {
            approver: Identity {
                name: r.get(0)?,
                role: r.get(1)?,
            },
            decision,
            comment: r.get(3)?,
            at: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Default)]
struct EventDetail<'a> {
    actor: Option<&'a Identity>,
    comment: Option<&'a str>,
    session: Option<&'a str>,
    digest: Option<&'a str>,
    until: Option<UnixMs>,
}

fn insert_event(
    tx: &Transaction<'_>,
    id: &str,
    now: UnixMs,
    kind: EventKind,
    d: EventDetail<'_>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO events (approval_id, at_ms, kind, actor_name, actor_role, actor_key, \
         comment, session, digest, until_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        id,
        now,
        kind,
        d.actor.map(|a| a.name.as_str()),
        d.actor.map(|a| a.role),
        d.actor.map(Identity::key),
        d.comment,
        d.session,
        d.digest,
        d.until,
    ])?;
    Ok(())
}

fn set_status(
    tx: &Transaction<'_>,
    id: &str,
    status: Status,
    now: UnixMs,
    session_until: Option<UnixMs>,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE approvals SET status = ?2, decided_at_ms = ?3, session_until_ms = ?4, \
         updated_at_ms = ?3 WHERE id = ?1 AND status = 'pending'",
    )?
    .execute(params![id, status, now, session_until])?;
    Ok(())
}

fn touch(tx: &Transaction<'_>, id: &str, now: UnixMs) -> Result<()> {
    tx.prepare_cached("UPDATE approvals SET updated_at_ms = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

/// Expired, with who found it late (none for the sweeper and for `consume`).
fn mark_expired(tx: &Transaction<'_>, id: &str, now: UnixMs, by: Option<&Identity>) -> Result<()> {
    tx.prepare_cached(
        "UPDATE approvals SET status = 'expired', updated_at_ms = ?2 \
         WHERE id = ?1 AND status IN ('pending', 'approved')",
    )?
    .execute(params![id, now])?;
    insert_event(
        tx,
        id,
        now,
        EventKind::Expired,
        EventDetail {
            actor: by,
            ..EventDetail::default()
        },
    )
}

// ---- input checks ----

fn validate_new(new: &NewApproval) -> Result<()> {
    check_name("request id", &new.request_id)?;
    check_digest(&new.digest)?;
    check_name("requester name", &new.requester.name)?;
    if let Some(s) = &new.session {
        check_name("session", s)?;
    }
    check_text("summary", &new.summary, MAX_SUMMARY)?;
    if let Some(t) = &new.target {
        check_name("target", t)?;
    }
    if let Some(e) = &new.env {
        check_name("environment", e)?;
    }
    if !matches!(new.required_approvals, 1 | 2) {
        return Err(Error::Invalid(format!(
            "required approvals must be 1 or 2, not {}",
            new.required_approvals
        )));
    }
    if new.ttl < Duration::from_secs(1) || new.ttl > MAX_TTL {
        return Err(Error::Invalid(format!(
            "an approval must expire between 1 second and {} hours after it is requested \
             (asked for {} s)",
            MAX_TTL.as_secs() / 3600,
            new.ttl.as_secs_f64()
        )));
    }
    Ok(())
}

/// Identifiers and names: non-empty, short, one line, no control characters (a name
/// shown to a person must look like what it is).
fn check_name(what: &str, s: &str) -> Result<()> {
    if s.trim().is_empty() {
        return Err(Error::Invalid(format!("the {what} is empty")));
    }
    if s.len() > MAX_NAME {
        return Err(Error::Invalid(format!(
            "the {what} is {} bytes long; at most {MAX_NAME} are allowed",
            s.len()
        )));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "the {what} contains control characters"
        )));
    }
    Ok(())
}

/// Free text (a summary, a comment): lines and tabs allowed, other control
/// characters not (they could rewrite what a terminal shows).
fn check_text(what: &str, s: &str, max: usize) -> Result<()> {
    if s.len() > max {
        return Err(Error::Invalid(format!(
            "the {what} is {} bytes long; at most {max} are allowed",
            s.len()
        )));
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::Invalid(format!(
            "the {what} contains control characters other than newlines and tabs"
        )));
    }
    Ok(())
}

fn check_digest(d: &str) -> Result<()> {
    let ok = d.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    });
    if !ok {
        return Err(Error::Invalid(format!(
            "the digest must be \"sha256:\" and 64 lowercase hex digits, not {d:?}"
        )));
    }
    Ok(())
}

// ---- ids ----

/// 128 bits from the kernel's CSPRNG, as 32 hex digits.
fn random_id() -> Result<String> {
    let mut b = [0u8; 16];
    fill_random(&mut b).map_err(Error::Random)?;
    let mut s = String::with_capacity(32);
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    Ok(s)
}

fn fill_random(buf: &mut [u8]) -> io::Result<()> {
    let mut got = 0;
    while got < buf.len() {
        let rest = &mut buf[got..];
        // SAFETY: the pointer and length describe `rest`, which is writable and lives
        // for the whole call.
        let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
        if n < 0 {
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                Some(libc::ENOSYS) => return File::open("/dev/urandom")?.read_exact(rest),
                _ => return Err(e),
            }
        }
        got += n as usize;
    }
    Ok(())
}

// ---- SQL conversions ----

impl ToSql for UnixMs {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0))
    }
}

impl FromSql for UnixMs {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        i64::column_result(value).map(UnixMs)
    }
}

macro_rules! text_enum_sql {
    ($t:ty) => {
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }

        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let s = value.as_str()?;
                <$t>::parse(s).ok_or_else(|| {
                    FromSqlError::Other(
                        format!("unknown {} {s:?} in the approvals store", stringify!($t)).into(),
                    )
                })
            }
        }
    };
}

text_enum_sql!(Role);
text_enum_sql!(Status);
text_enum_sql!(EventKind);
