//! The values the store takes and returns.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::time::UnixMs;

/// How long a pending approval waits for a person before it expires.
pub const DEFAULT_TTL: Duration = Duration::from_secs(30 * 60);

/// The longest a request may wait: past a day, the person deciding no longer has the
/// context the agent had, and the digest may bind a policy version long replaced.
pub const MAX_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest "approve for this session" window an approver may give.
pub const MAX_SESSION_WINDOW: Duration = Duration::from_secs(8 * 60 * 60);

/// Who an identity is to the daemon. Only people decide: an `Agent` identity can
/// request approvals and use them, never approve or deny one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Approver,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Approver => "approver",
            Role::Admin => "admin",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "agent" => Role::Agent,
            "approver" => Role::Approver,
            "admin" => Role::Admin,
            _ => return None,
        })
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An authenticated identity as the daemon established it (peer credentials and a
/// token for agents, a signed-in session for people). The store trusts the role it
/// is given: authentication is the caller's job; refusing what a role may not do is
/// this crate's.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    pub role: Role,
}

impl Identity {
    pub fn new(name: impl Into<String>, role: Role) -> Identity {
        Identity {
            name: name.into(),
            role,
        }
    }

    /// The form in which two names are compared: trimmed and lower-cased, so that
    /// `Alice` and `alice ` count as the same person. Comparing loosely refuses more
    /// (a requester can never approve under a variant of their own name, and two
    /// variants of one name are never two distinct approvers).
    pub fn key(&self) -> String {
        name_key(&self.name)
    }
}

pub(crate) fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Where an approval is in its life.
///
/// ```text
/// pending ──approve (enough distinct approvers)──▶ approved ──consume──▶ consumed
///    │  └──deny──▶ denied                            │
///    └──time──▶ expired ◀────────────time────────────┘
/// ```
///
/// `expired` is never `denied`: nobody said no, the time ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
    Denied,
    Expired,
    Consumed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Expired => "expired",
            Status::Consumed => "consumed",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "pending" => Status::Pending,
            "approved" => Status::Approved,
            "denied" => Status::Denied,
            "expired" => Status::Expired,
            "consumed" => Status::Consumed,
            _ => return None,
        })
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a person decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Decision {
    /// Run this digest once.
    Approve,
    /// Run this digest, in the session that asked, as often as it is proposed again
    /// until `until` (at most [`MAX_SESSION_WINDOW`] after the decision). Never another
    /// digest, never a prefix or a pattern: only the exact bytes approved.
    ApproveForSession { until: UnixMs },
    /// Do not run it.
    Deny,
}

/// A decision as recorded: who, what, when, and what they said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    pub approver: Identity,
    pub decision: Decision,
    pub comment: Option<String>,
    pub at: UnixMs,
}

/// A request for a person's decision, built by the gate from an `ask` verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApproval {
    /// The ledger's id of the proposal this approval is for.
    pub request_id: String,
    /// The execution digest (`sha256:` and 64 lowercase hex digits) over the exact
    /// code, referenced scripts, grants, requester, policy version and sandbox profile.
    pub digest: String,
    /// Who proposed the code; this identity can never decide on it.
    pub requester: Identity,
    /// The agent session the proposal came from; the approval is usable only there.
    pub session: Option<String>,
    /// What a person is shown about the proposal (the gate's own words, not the
    /// agent's).
    pub summary: String,
    /// The target the code acts on (for example a database name), if any.
    pub target: Option<String>,
    /// The target's environment (`dev`, `staging`, `prod`), if any.
    pub env: Option<String>,
    /// How many distinct people must approve: 1, or 2 where the policy says so
    /// (production targets).
    pub required_approvals: u8,
    /// How long the request waits for a decision, and how long an approval stays
    /// usable if nobody runs it (default [`DEFAULT_TTL`], at most [`MAX_TTL`]).
    pub ttl: Duration,
}

impl NewApproval {
    /// A request needing one approver and expiring after [`DEFAULT_TTL`].
    pub fn new(
        request_id: impl Into<String>,
        digest: impl Into<String>,
        requester: Identity,
        summary: impl Into<String>,
    ) -> NewApproval {
        NewApproval {
            request_id: request_id.into(),
            digest: digest.into(),
            requester,
            session: None,
            summary: summary.into(),
            target: None,
            env: None,
            required_approvals: 1,
            ttl: DEFAULT_TTL,
        }
    }
}

/// An approval as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// 128 random bits in hex: unguessable, so knowing one id tells nothing of another.
    pub id: String,
    pub request_id: String,
    pub digest: String,
    pub requester: Identity,
    pub session: Option<String>,
    pub summary: String,
    pub target: Option<String>,
    pub env: Option<String>,
    pub required_approvals: u8,
    pub status: Status,
    pub created_at: UnixMs,
    /// Until then a decision may be made, and a single-use approval may be used.
    pub expires_at: UnixMs,
    /// When the approval became approved or denied.
    pub decided_at: Option<UnixMs>,
    /// Set when every approver chose "approve for this session": the digest may run
    /// again in `session` until then (instead of once before `expires_at`).
    pub session_until: Option<UnixMs>,
    /// How many times the approval was used to start execution.
    pub uses: u32,
    /// The approve and deny decisions, oldest first.
    pub decisions: Vec<DecisionRecord>,
}

impl Approval {
    /// The instant after which an approval in this state can no longer be decided on
    /// (pending) or used (approved, or a session approval in its window).
    pub fn deadline(&self) -> UnixMs {
        match (self.status, self.session_until) {
            (Status::Approved | Status::Consumed, Some(until)) => until,
            _ => self.expires_at,
        }
    }

    /// How many distinct approvers have approved so far.
    pub fn approvals_so_far(&self) -> usize {
        self.decisions
            .iter()
            .filter(|d| !matches!(d.decision, Decision::Deny))
            .count()
    }
}

/// One line of an approval's own history, append-only in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: i64,
    pub approval_id: String,
    pub at: UnixMs,
    pub kind: EventKind,
    /// Who acted: the requester (`requested`), the approver (`approve*`, `deny`), the
    /// person whose refused decision found it expired (`expired`; none when the
    /// sweeper did). None for `used`: the caller's identity is in the ledger.
    pub actor: Option<Identity>,
    pub comment: Option<String>,
    /// The session of a `used` event.
    pub session: Option<String>,
    /// The digest of a `used` event (always the approved one).
    pub digest: Option<String>,
    /// The end of the window of an `approve_for_session` event.
    pub until: Option<UnixMs>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Requested,
    Approve,
    ApproveForSession,
    Deny,
    Expired,
    Used,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Requested => "requested",
            EventKind::Approve => "approve",
            EventKind::ApproveForSession => "approve_for_session",
            EventKind::Deny => "deny",
            EventKind::Expired => "expired",
            EventKind::Used => "used",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<EventKind> {
        Some(match s {
            "requested" => EventKind::Requested,
            "approve" => EventKind::Approve,
            "approve_for_session" => EventKind::ApproveForSession,
            "deny" => EventKind::Deny,
            "expired" => EventKind::Expired,
            "used" => EventKind::Used,
            _ => return None,
        })
    }
}
