//! airlock's reports over its ledger, as pure functions of the entries (no file or
//! network I/O: the caller streams entries in).
//!
//! * [`summary`]: a summary for the people who answer for the risk, in Markdown and as a
//!   self-contained HTML page.
//! * [`ocsf`]: records as OCSF events for SIEMs.
//! * [`jsonl`]: the native export, one entry per line with its log index and leaf hash.
//!
//! Records hold attacker-controlled text (proposed code, paths, messages, request ids);
//! everything here treats it as such.

pub mod jsonl;
pub mod ocsf;
pub mod summary;

mod stats;
mod text;
mod time;

pub use jsonl::to_jsonl_line;
pub use ocsf::{OCSF_VERSION, OcsfContext, to_ocsf, to_ocsf_with};
pub use summary::{ReportData, ReportOptions, Summary};
