//! `airlock check`: read proposals, print verdicts.

use std::io::{BufRead, Read, Write};
use std::process::ExitCode;

use gate::{Checked, Gate, Proposal};
use policy::Verdict;
use serde_json::json;

use crate::cli::{
    CheckArgs, EXIT_ALLOW, EXIT_ASK, EXIT_BAD_INPUT, EXIT_DENY, EXIT_INTERNAL, Format,
};

fn exit_for(v: Verdict) -> u8 {
    match v {
        Verdict::Allow => EXIT_ALLOW,
        Verdict::Ask => EXIT_ASK,
        Verdict::Deny => EXIT_DENY,
    }
}

/// An error answer: always carries a non-allow decision, so that anything
/// reading only `decision` still fails closed.
fn error_json(msg: &str, id: Option<&str>) -> serde_json::Value {
    let mut v = json!({"decision": "deny", "error": msg});
    if let Some(id) = id {
        v["id"] = json!(id);
    }
    v
}

fn fail(format: Format, msg: &str) -> ExitCode {
    match format {
        Format::Json => println!("{}", error_json(msg, None)),
        Format::Text => {}
    }
    eprintln!("airlock: {msg}");
    ExitCode::from(EXIT_BAD_INPUT)
}

fn print_text(c: &Checked, request: &str, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "decision: {}", c.decision)?;
    writeln!(out, "request:  {request}")?;
    writeln!(out, "digest:   {}", c.digest)?;
    writeln!(out, "operations:")?;
    for (i, op) in c.operations.iter().enumerate() {
        writeln!(
            out,
            "  [{i}] {}",
            serde_json::to_string(op).unwrap_or_default()
        )?;
    }
    if !c.reasons.is_empty() {
        writeln!(out, "reasons:")?;
        for r in &c.reasons {
            writeln!(
                out,
                "  {} [{}] op {}: {}",
                r.verdict, r.rule, r.op, r.message
            )?;
        }
    }
    Ok(())
}

/// Parse one JSON proposal from bytes.
pub fn parse_proposal(bytes: &[u8]) -> Result<Proposal, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("input is not valid UTF-8: {e}"))?;
    serde_json::from_str::<Proposal>(text).map_err(|e| format!("malformed proposal JSON: {e}"))
}

pub fn run(a: CheckArgs) -> ExitCode {
    let gate = match crate::setup::build_gate(&a.gate) {
        Ok(g) => g,
        Err(e) => return fail(a.format, &e),
    };
    // The process ends right after answering: freeing the compiled policy
    // would only cost time (a tenth of a short check's instructions).
    let gate = std::mem::ManuallyDrop::new(gate);
    let config = match crate::config::Config::load(Some(gate.workspace())) {
        Ok(c) => c,
        Err(e) => return fail(a.format, &e),
    };
    let journal = match crate::journal::Journal::open(&crate::run::state_dir(), config) {
        Ok(j) => j,
        Err(e) => {
            if a.format == Format::Json {
                println!("{}", error_json(&e, None));
            }
            eprintln!("airlock: {e}");
            return ExitCode::from(EXIT_INTERNAL);
        }
    };
    if a.jsonl {
        let code = run_jsonl(&gate, &journal, &a);
        journal.publish();
        return code;
    }
    let proposal = if a.stdin_json {
        let mut buf = Vec::new();
        let limit = (a.gate.max_code_bytes as u64)
            .saturating_mul(2)
            .saturating_add(1 << 16);
        if let Err(e) = std::io::stdin().take(limit + 1).read_to_end(&mut buf) {
            return fail(a.format, &format!("cannot read stdin: {e}"));
        }
        if buf.len() as u64 > limit {
            return fail(a.format, &format!("input is over {limit} bytes"));
        }
        match parse_proposal(&buf) {
            Ok(p) => p,
            Err(e) => return fail(a.format, &e),
        }
    } else {
        let Some(lang) = a.lang.clone() else {
            return fail(a.format, "--lang is required with --code or --file");
        };
        let code = match (&a.code, &a.file) {
            (Some(c), _) => c.clone(),
            (None, Some(f)) => match std::fs::read(f) {
                Ok(b) => match String::from_utf8(b) {
                    Ok(s) => s,
                    Err(_) => {
                        return fail(a.format, &format!("{} is not valid UTF-8", f.display()));
                    }
                },
                Err(e) => return fail(a.format, &format!("cannot read {}: {e}", f.display())),
            },
            (None, None) => {
                return fail(
                    a.format,
                    "give the code with --code, --file, --stdin-json or --jsonl",
                );
            }
        };
        Proposal {
            lang,
            code,
            cwd: None,
            id: None,
            ..Default::default()
        }
    };
    let mut proposal = proposal;
    fill_identity(&mut proposal, &a.gate);
    match gate.check(&proposal) {
        Ok(c) => {
            let request = crate::journal::new_request_id();
            let red = crate::journal::Redactor::default();
            if let Err(e) = journal.decided(&request, &proposal, &c, &gate, None, &[], &red) {
                if a.format == Format::Json {
                    println!("{}", error_json(&e, proposal.id.as_deref()));
                }
                eprintln!("airlock: {e}");
                return ExitCode::from(EXIT_INTERNAL);
            }
            journal.publish();
            let mut out = std::io::stdout().lock();
            let r = match a.format {
                Format::Json => with_request(&c, &request)
                    .map_err(std::io::Error::other)
                    .and_then(|v| out.write_all(v.as_bytes()))
                    .and_then(|_| writeln!(out)),
                Format::Text => print_text(&c, &request, &mut out),
            };
            if r.is_err() {
                return ExitCode::from(EXIT_INTERNAL);
            }
            ExitCode::from(exit_for(c.decision))
        }
        Err(e) => fail(a.format, &e.to_string()),
    }
}

/// `--session` and `--agent` for proposals that do not name their own.
pub fn fill_identity(p: &mut Proposal, a: &crate::cli::GateArgs) {
    if p.session.is_none() {
        p.session = a.session.clone();
    }
    if p.agent.is_none() {
        p.agent = a.agent.clone();
    }
}

/// The verdict as printed: the gate's answer plus the ledger's request id.
fn with_request(c: &Checked, request: &str) -> Result<String, serde_json::Error> {
    // Spliced as text: a round trip through a JSON value costs more than the check.
    let body = serde_json::to_string(c)?;
    Ok(format!(
        "{{\"request\":{},{}",
        serde_json::to_string(request)?,
        body.strip_prefix('{').unwrap_or(&body)
    ))
}

/// One answer line in `--jsonl` mode, waiting for its batch to be recorded.
enum Line {
    Checked(Box<(Proposal, Checked, String)>),
    Error(serde_json::Value),
}

/// Reads proposals line by line. Lines already buffered are checked and recorded as one
/// batch (one durable append), then answered; an interactive caller writing one line at a
/// time gets each answer as soon as it is recorded.
fn run_jsonl(gate: &Gate, journal: &crate::journal::Journal, a: &CheckArgs) -> ExitCode {
    let stdin = std::io::stdin();
    let mut input = std::io::BufReader::with_capacity(1 << 16, stdin.lock());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = Vec::new();
    let mut n = 0usize;
    let mut batch: Vec<Line> = Vec::new();
    let red = crate::journal::Redactor::default();
    loop {
        line.clear();
        let eof = match input.read_until(b'\n', &mut line) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => {
                eprintln!("airlock: cannot read stdin: {e}");
                return ExitCode::from(EXIT_INTERNAL);
            }
        };
        if !eof {
            n += 1;
            let trimmed = line.trim_ascii();
            if !trimmed.is_empty() {
                batch.push(match parse_proposal(trimmed) {
                    Err(e) => {
                        let mut v = error_json(&e, None);
                        v["line"] = json!(n);
                        Line::Error(v)
                    }
                    Ok(mut p) => {
                        fill_identity(&mut p, &a.gate);
                        match gate.check(&p) {
                            Ok(c) => {
                                Line::Checked(Box::new((p, c, crate::journal::new_request_id())))
                            }
                            Err(e) => {
                                let mut v = error_json(&e.to_string(), p.id.as_deref());
                                v["line"] = json!(n);
                                Line::Error(v)
                            }
                        }
                    }
                });
            }
        }
        if (eof || input.buffer().is_empty() || batch.len() >= 1024) && !batch.is_empty() {
            let items: Vec<crate::journal::Decided> = batch
                .iter()
                .filter_map(|l| match l {
                    Line::Checked(b) => Some(crate::journal::Decided {
                        request: b.2.clone(),
                        proposal: &b.0,
                        checked: &b.1,
                        target: None,
                        grants: &[],
                    }),
                    Line::Error(_) => None,
                })
                .collect();
            let recorded = if items.is_empty() {
                Ok(Vec::new())
            } else {
                journal.decided_batch(&items, gate, &red)
            };
            for l in batch.drain(..) {
                let v = match (&l, &recorded) {
                    (Line::Error(v), _) => Ok(v.to_string()),
                    (Line::Checked(b), Ok(_)) => with_request(&b.1, &b.2),
                    // Not recorded: never an allow.
                    (Line::Checked(b), Err(e)) => Ok(error_json(e, b.0.id.as_deref()).to_string()),
                };
                let written = v.map(|v| out.write_all(v.as_bytes()));
                if !matches!(written, Ok(Ok(()))) || out.write_all(b"\n").is_err() {
                    return ExitCode::from(EXIT_INTERNAL);
                }
            }
            if out.flush().is_err() {
                return ExitCode::from(EXIT_INTERNAL);
            }
            if let Err(e) = recorded {
                eprintln!("airlock: {e}");
                return ExitCode::from(EXIT_INTERNAL);
            }
        }
        if eof {
            break;
        }
    }
    ExitCode::from(EXIT_ALLOW)
}
