//! airlock's ledger: every step of every proposal, recorded where it cannot be quietly
//! rewritten. Records are canonical JSON (`record`), framed with checksums in
//! append-only segments (`frame`, `store`), chained by hash and covered by an RFC 6962
//! Merkle tree (`merkle`) whose heads are signed as C2SP checkpoints (`note`).
//! `verify` checks all of it with public material only; `read` streams it back.

pub mod frame;
pub mod merkle;
pub mod note;
pub mod read;
pub mod record;
pub mod store;
pub mod verify;

pub use merkle::Hash;
pub use record::{Entry, Kind, NewRecord};
pub use store::{Ledger, Options, Receipt, Recovery};

/// Ledger failures. Every one of them means "nothing was recorded", and a caller that
/// was about to run code must not run it.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    #[error("ledger: cannot {what}: {err}")]
    Io { what: String, err: String },
    #[error("ledger busy: {0}")]
    Busy(String),
    #[error("ledger damaged: {0}")]
    Corrupt(String),
    #[error("ledger: {0}")]
    Record(String),
    #[error("no ledger at {0}")]
    NotFound(String),
}

impl Error {
    pub(crate) fn io(what: &str, e: std::io::Error) -> Error {
        Error::Io {
            what: what.to_string(),
            err: e.to_string(),
        }
    }
}

pub fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(D[(x >> 4) as usize] as char);
        s.push(D[(x & 15) as usize] as char);
    }
    s
}

pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
