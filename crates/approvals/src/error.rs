//! One error type, worded for the person who will read it.

use std::io;
use std::path::PathBuf;

use crate::time::UnixMs;
use crate::types::Status;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything the store refuses or fails at. Refusals of a decision or of a use are
/// distinct variants, so the daemon can answer each precisely and the ledger can
/// record which rule held; every message can be shown to a person as it is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- opening the store ----
    #[error("approvals store {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error(
        "approvals store: the {kind} {} can be {what} by other users (mode {mode:04o}); \
         it must be private to the user airlock runs as (chmod {fix} {})",
        path.display(),
        path.display()
    )]
    Exposed {
        path: PathBuf,
        /// `file` or `directory`.
        kind: &'static str,
        /// `read`, `written`, or `read and written`.
        what: &'static str,
        mode: u32,
        /// The mode to set, as `chmod` takes it.
        fix: &'static str,
    },

    #[error(
        "approvals store: {} belongs to uid {owner}, not to uid {expected} that airlock runs as; \
         another user could change it",
        path.display()
    )]
    WrongOwner {
        path: PathBuf,
        owner: u32,
        expected: u32,
    },

    #[error(
        "approvals store: {} is not a regular file (a symbolic link, a directory or a device); \
         refusing to open it",
        path.display()
    )]
    NotRegularFile { path: PathBuf },

    #[error(
        "approvals store {} has schema version {found}, newer than the {supported} this airlock \
         understands; use the airlock that wrote it",
        path.display()
    )]
    SchemaTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    #[error("approvals store {} is not an airlock approvals database: {why}", path.display())]
    NotAStore { path: PathBuf, why: String },

    #[error("approvals database error: {0}")]
    Database(#[from] rusqlite::Error),

    #[error("could not read random bytes for an approval id: {0}")]
    Random(#[source] io::Error),

    // ---- requests ----
    #[error("invalid approval request: {0}")]
    Invalid(String),

    #[error("no approval with id {0:?}")]
    NotFound(String),

    // ---- decisions ----
    #[error(
        "{name:?} is an agent identity: agent credentials can never approve or deny; \
         a person must decide, signed in as an approver"
    )]
    AgentCannotDecide { name: String },

    #[error(
        "{name:?} requested approval {id} and cannot decide on their own request; \
         another approver must"
    )]
    RequesterCannotDecide { id: String, name: String },

    #[error(
        "approval {id} expired at {at}; it is recorded as expired (nobody denied it) and can \
         no longer be decided or used; the code must be proposed again"
    )]
    Expired { id: String, at: UnixMs },

    #[error("approval {id} is already {status}; only a pending approval can be decided")]
    NotPending { id: String, status: Status },

    #[error(
        "{name:?} has already approved {id}; it needs another approval from a different person"
    )]
    AlreadyApprovedBy { id: String, name: String },

    #[error(
        "approval {id} was not requested from an agent session, so it cannot be approved for a \
         session; approve it once instead"
    )]
    NoSession { id: String },

    #[error("invalid session window: {0}")]
    SessionWindow(String),

    // ---- use ----
    #[error("approval {id} is {status}, not approved: nothing may run under it")]
    NotApproved { id: String, status: Status },

    #[error("approval {id} has already been used; an approval runs its code once")]
    AlreadyConsumed { id: String },

    #[error(
        "approval {id} allowed this code in its session until {until}; that window has ended, \
         so the code must be approved again"
    )]
    SessionWindowOver { id: String, until: UnixMs },

    #[error(
        "the code to run is not the code approved under {id} (approved {approved}, about to \
         run {got}); nothing may run and the approval was not used"
    )]
    DigestMismatch {
        id: String,
        approved: String,
        got: String,
    },

    #[error(
        "approval {id} belongs to another agent session; it can only be used in the session \
         that asked for it"
    )]
    SessionMismatch { id: String },
}
