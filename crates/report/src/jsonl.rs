//! The native export: one ledger entry per line, as the ledger holds it, plus its
//! place in the log (`log_index`) and its leaf hash (`leaf_hash`), so a consumer can
//! prove each line against a checkpoint and see gaps by index.

use ledger::record::Entry;
use serde_json::{Value, json};

/// One JSON object on one line (no trailing newline): the entry's fields and
/// `log_index`, `leaf_hash`. Keys are in sorted order.
pub fn to_jsonl_line(e: &Entry, leaf_hex: &str) -> String {
    let mut v = serde_json::to_value(e).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut v {
        m.insert("log_index".into(), json!(e.index));
        m.insert("leaf_hash".into(), json!(leaf_hex));
    }
    // serde_json escapes every control character in strings, so this is one line.
    v.to_string()
}
