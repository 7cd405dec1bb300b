//! airlock's approvals store: where an `ask` verdict waits for a person, and the only
//! way an approval turns into code running.
//!
//! # Why it is shaped like this
//!
//! The agent is the adversary. Whatever it proposes may have been steered by text it
//! read, and anything running as its user may try to get around the gate. An approval
//! is therefore treated as a capability the agent wants and must not be able to mint,
//! stretch or reuse:
//!
//! - **Bound to the exact digest.** A person approves the execution digest (SHA-256
//!   over the code, the bytes of every script it runs, the grants, the requester, the
//!   policy version and the sandbox profile), never a command string, a prefix or a
//!   pattern. [`Store::consume`] compares the digest the caller recomputed on the
//!   sealed bytes about to run with the approved one; a mismatch runs nothing and
//!   spends nothing.
//! - **Bound to the requester and the session.** The requester can never decide on
//!   their own request, under any spelling of their name, and an approval is usable
//!   only in the agent session that asked for it.
//! - **Only people decide.** An identity with the `agent` role can never approve or
//!   deny; a policy may require two distinct people (production targets), and one
//!   person approving twice counts once.
//! - **Single use.** Using an approval and marking it used are one `BEGIN IMMEDIATE`
//!   transaction, so two processes racing to use it get exactly one success. The one
//!   exception is an approver's explicit "approve for this session": the same digest,
//!   in the same session, until a time the approver chose (at most eight hours), each
//!   use counted and recorded.
//! - **Expiring, and honest about it.** A request waits 30 minutes by default. When
//!   time runs out it becomes `expired`, never `denied` (nobody said no), and the
//!   expiry is written in the same transaction that noticed it, whether that was a
//!   late decision, a late use or the sweeper ([`Store::expire_due`]).
//! - **Durable and private.** SQLite in WAL mode with `synchronous = FULL`: a
//!   decision a person was told about survives a crash, and pending approvals survive
//!   a restart. The file is created 0600 and refused if other users could read or
//!   change it or the directory holding it ([`Store::open`]).
//!
//! The store authenticates nobody: the daemon establishes who is calling (peer
//! credentials and tokens for agents, signed-in sessions for people) and passes an
//! [`Identity`]. The store enforces what each identity may do with an approval, and
//! records every decision with who made it, when, and what they said.
//!
//! Time is always a parameter ([`UnixMs`]): the caller reads the clock, tests control
//! it.
//!
//! ```no_run
//! use approvals::{Decision, Identity, NewApproval, Role, Store, UnixMs};
//!
//! # fn main() -> approvals::Result<()> {
//! let mut store = Store::open("/var/lib/airlock/approvals.db")?;
//! let digest = format!("sha256:{}", "ab".repeat(32));
//! let agent = Identity::new("agent-7", Role::Agent);
//! let mut new = NewApproval::new("req-42", &digest, agent, "DROP TABLE sessions on prod");
//! new.session = Some("session-1".into());
//! new.required_approvals = 2;
//! let pending = store.request(&new, UnixMs::now())?;
//!
//! let alice = Identity::new("alice", Role::Approver);
//! let bob = Identity::new("bob", Role::Approver);
//! store.decide(&pending.id, &alice, Decision::Approve, None, UnixMs::now())?;
//! store.decide(&pending.id, &bob, Decision::Approve, Some("ok".into()), UnixMs::now())?;
//!
//! // At execution start, over the sealed bytes about to run:
//! let recomputed = digest.clone();
//! store.consume(&pending.id, &recomputed, Some("session-1"), UnixMs::now())?;
//! # Ok(())
//! # }
//! ```

mod error;
mod secure;
mod store;
mod time;
mod types;

pub use error::{Error, Result};
pub use store::{SCHEMA_VERSION, Store};
pub use time::UnixMs;
pub use types::{
    Approval, DEFAULT_TTL, Decision, DecisionRecord, Event, EventKind, Identity,
    MAX_SESSION_WINDOW, MAX_TTL, NewApproval, Role, Status,
};
