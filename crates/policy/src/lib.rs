//! The policy: an allowlist that maps every operation to allow, ask or deny,
//! with the rule and a sentence for people. A pure step: it reads no files;
//! callers hand it TOML text.
//!
//! Semantics, in order:
//! 1. For each operation, every rule whose `op` kind and conditions match is
//!    collected. A `deny` rule beats `ask`, which beats `allow`.
//! 2. An operation no rule matches gets the policy's `default` verdict (never
//!    `allow`). Opaque operations get `opaque` (never `allow`).
//! 3. The proposal's verdict is the strictest over its operations; with no
//!    operations at all (`true`, an empty script) it is `allow`.

mod compile;
mod paths;
mod schema;

use std::fmt;

use serde::Serialize;

pub use compile::{BoundPolicy, CompileError, Policy};
pub use schema::PolicyFile;

/// The built-in default developer policy.
pub const DEFAULT_POLICY_TOML: &str = include_str!("default.toml");
/// The built-in policy as compact JSON, made by build.rs.
const DEFAULT_POLICY_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/default_policy.json"));
/// The built-in policy's version, made by build.rs.
const DEFAULT_POLICY_VERSION: &str =
    include_str!(concat!(env!("OUT_DIR"), "/default_policy.version"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Allow,
    Ask,
    Deny,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Ask => "ask",
            Verdict::Deny => "deny",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        match s {
            "allow" => Some(Verdict::Allow),
            "ask" => Some(Verdict::Ask),
            "deny" => Some(Verdict::Deny),
            _ => None,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an operation got its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub verdict: Verdict,
    /// The rule's id, or `default` / `opaque` for the policy-wide verdicts.
    pub rule: String,
    /// Index into the decision's operations.
    pub op: usize,
    /// A sentence for people.
    pub message: String,
}

/// The decision over a whole proposal.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    pub verdict: Verdict,
    /// Reasons for every operation that is not allowed, strictest first;
    /// when everything is allowed, the allowing rules.
    pub reasons: Vec<Reason>,
}

/// What the task explicitly grants (a ceiling: grants never beat a deny).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Grants {
    /// Host patterns (`api.example.com`, `*.example.com`) the code may reach.
    pub hosts: Vec<String>,
}

/// Where a decision is made: the paths rules refer to as `{workspace}` and `{home}`.
#[derive(Debug, Clone)]
pub struct Scope {
    pub workspace: String,
    pub home: String,
    /// Where airlock keeps its own state, policy and keys.
    pub airlock_paths: Vec<String>,
}
