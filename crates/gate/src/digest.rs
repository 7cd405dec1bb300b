//! The proposal digest: one definition, computed here and nowhere else.
//!
//! SHA-256 over the RFC 8785 canonical JSON of the proposal as judged: its
//! language, code, working directory, workspace root, target, grants,
//! provenance, requester and the policy version, plus the path and SHA-256 of
//! every script file the code runs (or `null` where the file was absent).

use sha2::{Digest, Sha256};

use crate::scripts::ScriptRecord;

/// Bumped whenever the digested fields or their encoding change.
pub const DIGEST_VERSION: u32 = 2;

pub struct DigestInput<'a> {
    pub lang: &'a str,
    pub code: &'a str,
    pub cwd: &'a str,
    pub workspace: &'a str,
    pub policy_version: &'a str,
    pub scripts: &'a [ScriptRecord],
    /// Host grants, sorted and deduplicated by the caller.
    pub grants: &'a [String],
    /// The inputs behind the code: (source, trust, SHA-256 of the content or null).
    pub provenance: &'a [(String, &'static str, Option<String>)],
    /// Who asked: (agent, session); `None` when neither is known.
    pub requester: Option<(Option<&'a str>, Option<&'a str>)>,
}

pub fn proposal_digest(d: &DigestInput) -> String {
    let text = canonical_json(d);
    format!("sha256:{}", hex(&Sha256::digest(text.as_bytes())))
}

/// The RFC 8785 (JCS) form of the digested fields, written directly: members
/// sorted by key (all keys are ASCII, so UTF-16 order is byte order), strings
/// escaped as JCS prescribes, integers as plain digits. A general JCS library
/// costs several times more per proposal; a test checks this writer against one.
pub fn canonical_json(d: &DigestInput) -> String {
    let mut o = String::with_capacity(d.code.len() + 256);
    // Sorted keys: code, cwd, grants, lang, policy_version, provenance,
    // requester, scripts, target, version, workspace.
    o.push_str("{\"code\":");
    jcs_str(&mut o, d.code);
    o.push_str(",\"cwd\":");
    jcs_str(&mut o, d.cwd);
    o.push_str(",\"grants\":[");
    for (i, g) in d.grants.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        jcs_str(&mut o, g);
    }
    o.push_str("],\"lang\":");
    jcs_str(&mut o, d.lang);
    o.push_str(",\"policy_version\":");
    jcs_str(&mut o, d.policy_version);
    o.push_str(",\"provenance\":[");
    for (i, (source, trust, sha)) in d.provenance.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("{\"sha256\":");
        match sha {
            Some(h) => jcs_str(&mut o, h),
            None => o.push_str("null"),
        }
        o.push_str(",\"source\":");
        jcs_str(&mut o, source);
        o.push_str(",\"trust\":");
        jcs_str(&mut o, trust);
        o.push('}');
    }
    o.push_str("],\"requester\":");
    match d.requester {
        None => o.push_str("null"),
        Some((agent, session)) => {
            let opt = |o: &mut String, v: Option<&str>| match v {
                Some(v) => jcs_str(o, v),
                None => o.push_str("null"),
            };
            o.push_str("{\"agent\":");
            opt(&mut o, agent);
            o.push_str(",\"session\":");
            opt(&mut o, session);
            o.push('}');
        }
    }
    o.push_str(",\"scripts\":[");
    for (i, s) in d.scripts.iter().enumerate() {
        if i > 0 {
            o.push(',');
        }
        o.push_str("{\"path\":");
        jcs_str(&mut o, &s.path);
        o.push_str(",\"sha256\":");
        match &s.sha256 {
            Some(h) => jcs_str(&mut o, h),
            None => o.push_str("null"),
        }
        o.push('}');
    }
    o.push_str("],\"target\":null,\"version\":");
    o.push_str(&DIGEST_VERSION.to_string());
    o.push_str(",\"workspace\":");
    jcs_str(&mut o, d.workspace);
    o.push('}');
    o
}

fn jcs_str(o: &mut String, s: &str) {
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\u{08}' => o.push_str("\\b"),
            '\u{0c}' => o.push_str("\\f"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                o.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => o.push(c),
        }
    }
    o.push('"');
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Serialize;

    #[derive(Serialize)]
    struct Oracle<'a> {
        version: u32,
        lang: &'a str,
        code: &'a str,
        cwd: &'a str,
        workspace: &'a str,
        target: Option<&'a str>,
        grants: &'a [String],
        provenance: Vec<Prov<'a>>,
        requester: Option<Req<'a>>,
        policy_version: &'a str,
        scripts: &'a [ScriptRecord],
    }

    #[derive(Serialize)]
    struct Prov<'a> {
        source: &'a str,
        trust: &'a str,
        sha256: Option<&'a str>,
    }

    #[derive(Serialize)]
    struct Req<'a> {
        agent: Option<&'a str>,
        session: Option<&'a str>,
    }

    #[test]
    fn writer_matches_a_general_jcs_serializer() {
        let prov = vec![
            (
                "url:https://x/\"y\"".to_string(),
                "untrusted",
                Some("cd".repeat(32)),
            ),
            ("user".to_string(), "trusted", None),
        ];
        let scripts = [
            ScriptRecord {
                path: "/w/a \"b\".sh".into(),
                sha256: Some("ab".repeat(32)),
            },
            ScriptRecord {
                path: "/w/\u{1}\u{7f}é\u{2028}".into(),
                sha256: None,
            },
        ];
        for code in [
            "ls",
            "a\"b\\c\n\t\r\u{8}\u{c}\u{1f}\u{0}",
            "ünï 😀 \u{feff}",
            "",
        ] {
            for (sc, grants) in [
                (&scripts[..0], vec![]),
                (
                    &scripts[..],
                    vec!["*.a.com".to_string(), "b\"c".to_string()],
                ),
            ] {
                let d = DigestInput {
                    lang: "bash",
                    code,
                    cwd: "/w/p",
                    workspace: "/w",
                    policy_version: "sha256:00",
                    scripts: sc,
                    grants: &grants,
                    provenance: if sc.is_empty() { &[] } else { &prov },
                    requester: (!sc.is_empty()).then_some((Some("claude\u{1}"), None)),
                };
                let oracle = Oracle {
                    version: DIGEST_VERSION,
                    lang: d.lang,
                    code: d.code,
                    cwd: d.cwd,
                    workspace: d.workspace,
                    target: None,
                    grants: d.grants,
                    provenance: d
                        .provenance
                        .iter()
                        .map(|(s, t, h)| Prov {
                            source: s,
                            trust: t,
                            sha256: h.as_deref(),
                        })
                        .collect(),
                    requester: d.requester.map(|(agent, session)| Req { agent, session }),
                    policy_version: d.policy_version,
                    scripts: d.scripts,
                };
                assert_eq!(
                    canonical_json(&d),
                    serde_jcs::to_string(&oracle).unwrap(),
                    "{code:?}"
                );
            }
        }
    }
}
