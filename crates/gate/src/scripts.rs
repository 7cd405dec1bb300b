//! Scripts the code runs (`./x.sh`, `bash x.sh`, `python tool.py`,
//! `psql -f x.sql`): read them (inside the workspace, size-capped) and inspect
//! their text too, so writing a script and then running it is no way around
//! the gate. This is the gate's I/O; the inspector stays pure.

use std::io::Read;

use inspect::{Analysis, Context, Lang, Op};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::Limits;

/// A script as the gate saw it, for the digest and the record.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ScriptRecord {
    pub path: String,
    /// SHA-256 of its bytes; `None` when the file did not exist.
    pub sha256: Option<String>,
}

enum Read_ {
    Text(String, String),
    Absent,
    Problem(String),
}

fn read_script(path: &str, ctx: &Context, limits: &Limits) -> Read_ {
    if !inspect::paths::is_within(path, &ctx.workspace) {
        return Read_::Problem(format!("runs {path}, a script outside the workspace"));
    }
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Read_::Absent,
        Err(e) => return Read_::Problem(format!("runs {path}, which cannot be read: {e}")),
    };
    match f.metadata() {
        Ok(m) if m.is_dir() => return Read_::Problem(format!("runs {path}, which is a directory")),
        Ok(m) if m.len() > limits.max_script_bytes => {
            return Read_::Problem(format!(
                "runs {path}, which is {} bytes (over the {} byte limit for inspection)",
                m.len(),
                limits.max_script_bytes
            ));
        }
        Err(e) => return Read_::Problem(format!("runs {path}, which cannot be read: {e}")),
        _ => {}
    }
    let mut buf = Vec::new();
    if let Err(e) = f.take(limits.max_script_bytes + 1).read_to_end(&mut buf) {
        return Read_::Problem(format!("runs {path}, which cannot be read: {e}"));
    }
    if buf.len() as u64 > limits.max_script_bytes {
        return Read_::Problem(format!(
            "runs {path}, which grew past the size limit while read"
        ));
    }
    let sha = crate::digest::hex(&Sha256::digest(&buf));
    match String::from_utf8(buf) {
        Ok(t) => Read_::Text(t, sha),
        Err(_) => Read_::Problem(format!(
            "runs {path}, which is not UTF-8 text (a binary cannot be inspected)"
        )),
    }
}

/// The language a script file is written in: its `#!` line first, then the hint.
fn script_lang(text: &str, hint: Lang) -> Option<Lang> {
    if let Some(first) = text.lines().next().and_then(|l| l.strip_prefix("#!")) {
        let mut words = first.split_whitespace();
        let mut prog = words.next().unwrap_or("").rsplit('/').next().unwrap_or("");
        if prog == "env" {
            prog = words.find(|w| !w.starts_with('-')).unwrap_or("");
        }
        return match prog {
            "sh" | "dash" | "ash" => Some(Lang::Sh),
            "bash" | "zsh" | "ksh" => Some(Lang::Bash),
            p if p.starts_with("python") => Some(Lang::Python),
            _ => None,
        };
    }
    Some(hint)
}

/// Follow every script the analysis references, adding their operations.
/// Checks, right before execution, that every script the verdict covered is still what
/// was judged: the same bytes, or still absent. The sandbox runs the files on disk, so a
/// script changed between check and run would otherwise run unjudged. (A change after
/// this check, during the sandbox's setup, is the window sealed snapshots will close.)
pub fn unchanged(records: &[ScriptRecord], limits: &Limits) -> Result<(), String> {
    for r in records {
        let now = match std::fs::File::open(&r.path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("{} cannot be read again: {e}", r.path)),
            Ok(f) => {
                let mut buf = Vec::new();
                f.take(limits.max_script_bytes + 1)
                    .read_to_end(&mut buf)
                    .map_err(|e| format!("{} cannot be read again: {e}", r.path))?;
                Some(crate::digest::hex(&Sha256::digest(&buf)))
            }
        };
        if now != r.sha256 {
            return Err(format!(
                "{} changed after it was checked ({}); nothing ran",
                r.path,
                match (&r.sha256, &now) {
                    (None, Some(_)) => "it was absent and now exists",
                    (Some(_), None) => "it was removed",
                    _ => "its bytes differ",
                }
            ));
        }
    }
    Ok(())
}

pub fn follow(analysis: &mut Analysis, ctx: &Context, limits: &Limits) -> Vec<ScriptRecord> {
    let mut records: Vec<ScriptRecord> = Vec::new();
    let mut queue = std::mem::take(&mut analysis.scripts);
    let mut i = 0;
    while i < queue.len() {
        let s = queue[i].clone();
        i += 1;
        if records.iter().any(|r| r.path == s.path) {
            continue;
        }
        if records.len() >= limits.max_scripts {
            analysis.ops.push(Op::opaque(format!(
                "runs more than {} script files",
                limits.max_scripts
            )));
            break;
        }
        match read_script(&s.path, ctx, limits) {
            Read_::Absent => records.push(ScriptRecord {
                path: s.path.clone(),
                sha256: None,
            }),
            Read_::Problem(why) => {
                records.push(ScriptRecord {
                    path: s.path.clone(),
                    sha256: None,
                });
                analysis.ops.push(Op::opaque(why));
            }
            Read_::Text(text, sha) => {
                records.push(ScriptRecord {
                    path: s.path.clone(),
                    sha256: Some(sha),
                });
                match script_lang(&text, s.lang) {
                    Some(lang) => {
                        let sub = inspect::analyze(lang, &text, ctx);
                        for op in sub.ops {
                            if !analysis.ops.contains(&op) {
                                analysis.ops.push(op);
                            }
                        }
                        queue.extend(sub.scripts);
                    }
                    None => analysis.ops.push(Op::opaque(format!(
                        "runs {}, a script in a language airlock cannot inspect",
                        s.path
                    ))),
                }
            }
        }
    }
    records
}
