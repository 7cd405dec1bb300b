//! What one ledger record holds, and its canonical bytes.
//!
//! Every record is one JSON object in RFC 8785 (JCS) canonical form. Every field is
//! under the leaf hash: the envelope (`v`, `index`, `prev`, `time`, `kind`,
//! `request`, `session`) and the whole `body`.
//!
//! ```text
//! {"body":{..},"index":7,"kind":"verdict","prev":"<hex leaf hash of record 6>",
//!  "request":"r-..","session":"s-..","time":"2026-11-27T22:51:00.123Z","v":1}
//! ```
//!
//! Bodies by kind (fields the verifier and reports rely on; others may be added):
//!
//! * `proposal`: `lang`, `code`, `code_sha256`, `cwd`, `workspace`, `target`
//!   (database or null), `grants` (host patterns), `agent`, `provenance` (list of
//!   `{source, trust: "trusted"|"untrusted", label, sha256}`).
//! * `verdict`: `decision` (`allow`|`ask`|`deny`), `digest`, `policy_version`,
//!   `proposal_index`, `reasons` (`{verdict, rule, op, message}`), `operations`
//!   (the inspector's ops, `{"op": kind, ...}`), `categories` (op kinds).
//! * `approval`: `digest`, `verdict_index`, `approver`, `decision`
//!   (`approve`|`deny`|`expired`), `requested_at`, `decided_at`, `expires_at`.
//! * `exec_start`: `digest`, `verdict_index`, `verdict_leaf` (hex), optional
//!   `approval_index` and `approval_leaf`, `program`, `profile` (mode, limits,
//!   grants), `pid`.
//! * `exec_outcome`: `start_index`, `exit` (`{"code":n}` | `{"signal":n}` | `"timeout"`
//!   | `"protection_lost"` | `"not_started"`), `status`, `duration_ms`, `stdout` and
//!   `stderr` (`{sha256, bytes, copy, truncated}`), `egress`
//!   (`{host, port, allowed, reason}`), `changes`, `error`.
//! * `alert`: `rule`, `severity` (`info`|`warning`|`high`|`critical`), `summary`,
//!   `subject_index`, `subject_leaf` (the record that raised it), `details`.
//! * `control`: `event` (`key_created`, `recovered_truncation`, `policy_changed`,
//!   `freeze_on`, `freeze_off`, `account_created`, `pruned`, ...), `details`.

use serde::{Deserialize, Serialize};

/// The envelope version written by this code.
pub const RECORD_VERSION: u64 = 1;

/// Largest canonical record accepted, in bytes. Large payloads (output) are capped
/// copies plus their SHA-256, so a record never needs more.
pub const MAX_RECORD_BYTES: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Proposal,
    Verdict,
    Approval,
    ExecStart,
    ExecOutcome,
    Alert,
    Control,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Proposal => "proposal",
            Kind::Verdict => "verdict",
            Kind::Approval => "approval",
            Kind::ExecStart => "exec_start",
            Kind::ExecOutcome => "exec_outcome",
            Kind::Alert => "alert",
            Kind::Control => "control",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "proposal" => Kind::Proposal,
            "verdict" => Kind::Verdict,
            "approval" => Kind::Approval,
            "exec_start" => Kind::ExecStart,
            "exec_outcome" => Kind::ExecOutcome,
            "alert" => Kind::Alert,
            "control" => Kind::Control,
            _ => return None,
        })
    }
}

/// A record to append: the ledger adds `v`, `index`, `prev` and `time`.
#[derive(Debug, Clone)]
pub struct NewRecord {
    pub kind: Kind,
    pub request: Option<String>,
    pub session: Option<String>,
    pub body: serde_json::Value,
}

impl NewRecord {
    pub fn new(kind: Kind, body: serde_json::Value) -> NewRecord {
        NewRecord {
            kind,
            request: None,
            session: None,
            body,
        }
    }

    pub fn request(mut self, r: Option<&str>) -> NewRecord {
        self.request = r.map(str::to_string);
        self
    }

    pub fn session(mut self, s: Option<&str>) -> NewRecord {
        self.session = s.map(str::to_string);
        self
    }
}

/// A record as stored, parsed back.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub v: u64,
    pub index: u64,
    pub prev: String,
    pub time: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    pub body: serde_json::Value,
}

/// The body in canonical form, prepared outside the writer's lock.
pub(crate) struct Prepared {
    pub kind: Kind,
    /// `"request":"..",` or empty: JSON-escaped, canonical key order kept by the caller.
    pub request: Option<String>,
    pub session: Option<String>,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("record body cannot be made canonical: {0}")]
    Canonical(String),
    #[error("record is {0} bytes, over the limit of {MAX_RECORD_BYTES}")]
    TooLarge(usize),
}

/// Writes `v` in RFC 8785 form in one pass: object keys sorted by UTF-16 code units,
/// strings escaped as ECMAScript does (which serde_json's escaping matches), integers
/// as written, and other numbers through serde_jcs (ECMAScript number formatting).
pub fn canonical(v: &serde_json::Value, out: &mut String) -> Result<(), RecordError> {
    use serde_json::Value;
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            // Integers a double holds exactly print the same in ECMAScript; others go
            // through its number formatting like every float.
            if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= 1 << 53) {
                use std::fmt::Write;
                let _ = write!(out, "{i}");
            } else if let Some(u) = n.as_u64().filter(|u| *u <= 1 << 53) {
                use std::fmt::Write;
                let _ = write!(out, "{u}");
            } else {
                out.push_str(
                    &serde_jcs::to_string(n).map_err(|e| RecordError::Canonical(e.to_string()))?,
                );
            }
        }
        Value::String(s) => out.push_str(&serde_json::to_string(s).expect("a string serializes")),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(x, out)?;
            }
            out.push(']');
        }
        Value::Object(o) => {
            let mut keys: Vec<&String> = o.keys().collect();
            // The map is ordered by UTF-8 bytes; JCS orders by UTF-16 code units, which
            // differs only when characters above U+FFFF meet ones in U+E000..U+FFFF.
            if keys.iter().any(|k| !k.is_ascii()) {
                keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            }
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).expect("a string serializes"));
                out.push(':');
                canonical(&o[k], out)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

pub(crate) fn prepare(r: &NewRecord) -> Result<Prepared, RecordError> {
    let mut body = String::with_capacity(512);
    canonical(&r.body, &mut body)?;
    let esc = |s: &Option<String>| {
        s.as_ref()
            .map(|v| serde_json::to_string(v).expect("a string serializes"))
    };
    let p = Prepared {
        kind: r.kind,
        request: esc(&r.request),
        session: esc(&r.session),
        body,
    };
    if p.body.len() + 512 > MAX_RECORD_BYTES {
        return Err(RecordError::TooLarge(p.body.len()));
    }
    Ok(p)
}

/// The canonical bytes of one record. Keys are written in JCS order (UTF-16 code
/// unit order, which for these ASCII keys is byte order).
pub(crate) fn encode(p: &Prepared, index: u64, prev: &[u8; 32], time: &str, out: &mut Vec<u8>) {
    use std::io::Write;
    out.extend_from_slice(b"{\"body\":");
    out.extend_from_slice(p.body.as_bytes());
    let _ = write!(out, ",\"index\":{index},\"kind\":\"{}\"", p.kind.as_str());
    out.extend_from_slice(b",\"prev\":\"");
    out.extend_from_slice(crate::hex(prev).as_bytes());
    out.push(b'"');
    if let Some(r) = &p.request {
        out.extend_from_slice(b",\"request\":");
        out.extend_from_slice(r.as_bytes());
    }
    if let Some(s) = &p.session {
        out.extend_from_slice(b",\"session\":");
        out.extend_from_slice(s.as_bytes());
    }
    let _ = write!(out, ",\"time\":\"{time}\",\"v\":{RECORD_VERSION}}}");
}

/// UTC time as RFC 3339 with milliseconds (`2026-11-27T22:51:00.123Z`).
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let ms = d.subsec_millis();
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = civil(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// The civil (year, month, day) of a day number (days since 1970-01-01), by the
/// proleptic Gregorian calendar (Howard Hinnant's algorithm).
pub fn civil(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of each 400-year era.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153; // 0 = March
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Seconds since the epoch of an RFC 3339 UTC time written by [`rfc3339`]
/// (`None` for anything else).
pub fn parse_rfc3339(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac: f64 = match s.get(19..s.len() - 1) {
        Some("") => 0.0,
        Some(f) if f.starts_with('.') => format!("0{f}").parse().ok()?,
        _ => return None,
    };
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + hh * 3600 + mm * 60 + ss) as f64 + frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_is_jcs() {
        let r = NewRecord::new(
            Kind::Verdict,
            serde_json::json!({"z": 1, "a": "é\n", "m": [true, null]}),
        )
        .request(Some("r\"1"));
        let p = prepare(&r).unwrap();
        let mut out = Vec::new();
        encode(&p, 3, &[0xab; 32], "2026-01-01T00:00:00.000Z", &mut out);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(serde_jcs::to_vec(&v).unwrap(), out);
        let e: Entry = serde_json::from_slice(&out).unwrap();
        assert_eq!(e.index, 3);
        assert_eq!(e.request.as_deref(), Some("r\"1"));
    }

    #[test]
    fn canonical_matches_serde_jcs() {
        let cases = [
            serde_json::json!({"b": [1, -2, 3.5, 1e21, 0.1, null, true], "a": {"é": "\u{1F600}", "\u{E000}": 1, "\u{1F600}": 2}, "c": "q\"\\\n\u{7}"}),
            serde_json::json!([{"z": {}, "y": []}, "", 18446744073709551615u64, -9223372036854775808i64]),
        ];
        for v in cases {
            let mut s = String::new();
            canonical(&v, &mut s).unwrap();
            assert_eq!(s, serde_jcs::to_string(&v).unwrap());
        }
    }

    #[test]
    fn time_round_trips() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_795_820_400_123);
        let s = rfc3339(t);
        assert_eq!(s, "2026-11-27T23:00:00.123Z");
        assert!((parse_rfc3339(&s).unwrap() - 1_795_820_400.123).abs() < 1e-6);
        assert_eq!(rfc3339(std::time::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(parse_rfc3339("2024-02-29T12:00:00Z"), Some(1_709_208_000.0));
    }
}
