//! The proposal digest: one definition, computed here and nowhere else.
//!
//! SHA-256 over the RFC 8785 canonical JSON of the proposal as judged: its
//! language, code, working directory, workspace root, target, grants,
//! provenance, requester and the policy version, plus the path and SHA-256 of
//! every script file the code runs (or `null` where the file was absent).

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::scripts::ScriptRecord;

/// Bumped whenever the digested fields or their encoding change.
pub const DIGEST_VERSION: u32 = 1;

pub struct DigestInput<'a> {
    pub lang: &'a str,
    pub code: &'a str,
    pub cwd: &'a str,
    pub workspace: &'a str,
    pub policy_version: &'a str,
    pub scripts: &'a [ScriptRecord],
}

#[derive(Serialize)]
struct Canonical<'a> {
    version: u32,
    lang: &'a str,
    code: &'a str,
    cwd: &'a str,
    workspace: &'a str,
    target: Option<&'a str>,
    grants: [&'a str; 0],
    provenance: [&'a str; 0],
    requester: Option<&'a str>,
    policy_version: &'a str,
    scripts: &'a [ScriptRecord],
}

pub fn proposal_digest(d: &DigestInput) -> String {
    let c = Canonical {
        version: DIGEST_VERSION,
        lang: d.lang,
        code: d.code,
        cwd: d.cwd,
        workspace: d.workspace,
        target: None,
        grants: [],
        provenance: [],
        requester: None,
        policy_version: d.policy_version,
        scripts: d.scripts,
    };
    // serde_jcs cannot fail on these plain types; if it ever did, hashing a
    // fixed marker plus the code would still bind the digest to the code.
    let text = serde_jcs::to_string(&c).unwrap_or_else(|_| format!("jcs-error:{}", d.code));
    format!("sha256:{}", hex(&Sha256::digest(text.as_bytes())))
}

pub(crate) fn hex(b: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(H[(x >> 4) as usize] as char);
        s.push(H[(x & 15) as usize] as char);
    }
    s
}
