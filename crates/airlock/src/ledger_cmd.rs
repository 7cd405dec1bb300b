//! `airlock ledger ...` and `airlock report`: read-only views of the ledger. `verify`
//! needs only public material (a pinned key and a kept checkpoint), so it can run on a
//! copy of the ledger on another machine.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use ledger::verify::{VerifyOptions, verify};
use ledger::{Entry, Hash};

use crate::cli::{ExportFormat, LedgerCmd, ReportArgs, ReportFormat};
use crate::config::Config;

const EXIT_FAILED: u8 = 1;
const EXIT_BAD: u8 = 2;

fn bad(msg: &str) -> ExitCode {
    eprintln!("airlock: {msg}");
    ExitCode::from(EXIT_BAD)
}

/// `30s`, `15m`, `24h`, `7d`, `2w` → seconds.
pub fn parse_duration(s: &str) -> Result<f64, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let n: f64 = s[..split]
        .parse()
        .map_err(|_| format!("invalid duration {s:?} (e.g. 30m, 24h, 7d)"))?;
    let mult = match &s[split..] {
        "s" => 1.0,
        "m" => 60.0,
        "h" | "" => 3600.0,
        "d" => 86_400.0,
        "w" => 604_800.0,
        u => return Err(format!("unknown duration unit {u:?} (s, m, h, d or w)")),
    };
    if !(n >= 0.0 && n.is_finite()) {
        return Err(format!("invalid duration {s:?}"));
    }
    Ok(n * mult)
}

fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// `--since 24h` and the like: the moment that long ago, in seconds since the epoch.
fn ago(d: Option<&str>, now: f64) -> Result<Option<f64>, String> {
    d.map(parse_duration)
        .transpose()
        .map(|s| s.map(|s| now - s))
}

/// airlock's configuration and the ledger directory (`--dir`, else the configured one).
fn config_and_dir(dir: Option<PathBuf>) -> Result<(Config, PathBuf), String> {
    let config = Config::load(None)?;
    let dir = dir.unwrap_or_else(|| crate::journal::ledger_dir(&crate::run::state_dir(), &config));
    Ok((config, dir))
}

fn resolve_dir(dir: Option<PathBuf>) -> Result<PathBuf, String> {
    if let Some(d) = dir {
        return Ok(d);
    }
    let config = Config::load(None)?;
    Ok(crate::journal::ledger_dir(
        &crate::run::state_dir(),
        &config,
    ))
}

fn open_entries(
    dir: &Path,
) -> Result<impl Iterator<Item = Result<(Entry, Hash), ledger::Error>>, String> {
    if !dir.join("segments").is_dir() {
        return Err(format!("no ledger at {}", dir.display()));
    }
    ledger::read::entries(dir).map_err(|e| e.to_string())
}

pub fn run(c: LedgerCmd) -> ExitCode {
    match c {
        LedgerCmd::Verify {
            checkpoint,
            public_key,
            dir,
            json,
        } => verify_cmd(dir, checkpoint, public_key, json),
        LedgerCmd::Show {
            index,
            request,
            dir,
        } => show(dir, index, request),
        LedgerCmd::Search {
            request,
            session,
            kind,
            decision,
            since,
            until,
            limit,
            dir,
        } => search(
            dir,
            Filter {
                request,
                session,
                kind,
                decision,
                since,
                until,
            },
            limit,
        ),
        LedgerCmd::Export {
            format,
            since,
            from_index,
            dir,
        } => export(dir, format, since, from_index),
        LedgerCmd::Checkpoint { out, publish, dir } => checkpoint(dir, out, publish),
        LedgerCmd::Prune {
            before,
            older_than,
            dir,
        } => prune(dir, before, older_than),
        LedgerCmd::PublicKey { dir } => match resolve_dir(dir)
            .and_then(|d| ledger::store::read_own_verifier(&d).map_err(|e| e.to_string()))
        {
            Ok(k) => {
                println!("{}", k.encode());
                ExitCode::SUCCESS
            }
            Err(e) => bad(&e),
        },
    }
}

fn verify_cmd(
    dir: Option<PathBuf>,
    checkpoint: Option<PathBuf>,
    public_key: Option<PathBuf>,
    json: bool,
) -> ExitCode {
    let dir = match resolve_dir(dir) {
        Ok(d) => d,
        Err(e) => return bad(&e),
    };
    if !dir.join("segments").is_dir() {
        return bad(&format!("no ledger at {}", dir.display()));
    }
    let pinned_key = match public_key {
        None => None,
        Some(p) => match std::fs::read_to_string(&p)
            .map_err(|e| e.to_string())
            .and_then(|s| ledger::note::VerifierKey::parse(&s).map_err(|e| e.to_string()))
        {
            Ok(k) => Some(k),
            Err(e) => return bad(&format!("public key {}: {e}", p.display())),
        },
    };
    let kept_checkpoint = match checkpoint {
        None => None,
        Some(p) => match std::fs::read_to_string(&p) {
            Ok(t) => Some(t),
            Err(e) => return bad(&format!("checkpoint {}: {e}", p.display())),
        },
    };
    let report = match verify(
        &dir,
        &VerifyOptions {
            pinned_key,
            kept_checkpoint,
        },
    ) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("airlock: verify: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    if json {
        println!(
            "{}",
            serde_json::json!({"ok": report.ok(), "report": report})
        );
    } else {
        println!(
            "{} records in {} segment(s), root {}",
            report.records, report.segments, report.root
        );
        if let Some(s) = report.checkpoint_size {
            println!("ledger checkpoint at {s} records: signature and root checked");
        }
        if let Some(s) = report.kept_size {
            println!("kept checkpoint at {s} records: the log extends it");
        }
        println!(
            "{} executions checked against their verdicts",
            report.executions
        );
        for i in &report.in_progress {
            println!("execution start {i}: still running");
        }
        for n in &report.notes {
            println!("note: {n}");
        }
        for p in &report.problems {
            let mut at = Vec::new();
            if let Some(i) = p.index {
                at.push(format!("record {i}"));
            }
            if let Some(s) = &p.segment {
                at.push(format!("{s}@{}", p.offset.unwrap_or(0)));
            }
            println!("PROBLEM [{}] {}", at.join(", "), p.what);
        }
        if report.more_problems > 0 {
            println!("... and {} more problems", report.more_problems);
        }
        println!(
            "{}",
            match (report.ok(), report.anchored) {
                (true, true) => "verified (anchored)",
                (true, false) => "verified (unanchored)",
                (false, _) => "FAILED",
            }
        );
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_FAILED)
    }
}

fn print_entry(out: &mut impl Write, e: &Entry, leaf: &Hash) -> std::io::Result<()> {
    writeln!(
        out,
        "{}",
        report::jsonl::to_jsonl_line(e, &ledger::hex(leaf))
    )
}

fn show(dir: Option<PathBuf>, index: Vec<u64>, request: Option<String>) -> ExitCode {
    let dir = match resolve_dir(dir) {
        Ok(d) => d,
        Err(e) => return bad(&e),
    };
    let mut out = std::io::stdout().lock();
    if let Some(r) = request {
        return search(
            Some(dir),
            Filter {
                request: Some(r),
                ..Filter::default()
            },
            None,
        );
    }
    if index.is_empty() {
        return bad("give record indexes or --request ID");
    }
    for i in index {
        match ledger::read::read_index(&dir, i) {
            Ok((e, leaf)) => {
                if print_entry(&mut out, &e, &leaf).is_err() {
                    return ExitCode::from(EXIT_FAILED);
                }
            }
            Err(e) => return bad(&format!("record {i}: {e}")),
        }
    }
    ExitCode::SUCCESS
}

#[derive(Default)]
struct Filter {
    request: Option<String>,
    session: Option<String>,
    kind: Option<String>,
    decision: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

fn search(dir: Option<PathBuf>, f: Filter, limit: Option<usize>) -> ExitCode {
    let dir = match resolve_dir(dir) {
        Ok(d) => d,
        Err(e) => return bad(&e),
    };
    if let Some(k) = &f.kind
        && ledger::Kind::parse(k).is_none()
    {
        return bad(&format!("unknown kind {k:?}"));
    }
    if let Some(d) = &f.decision
        && policy::Verdict::parse(d).is_none()
    {
        return bad(&format!("unknown decision {d:?} (allow, ask or deny)"));
    }
    let now = now_secs();
    let (since, until) = match (ago(f.since.as_deref(), now), ago(f.until.as_deref(), now)) {
        (Ok(s), Ok(u)) => (s, u),
        (Err(e), _) | (_, Err(e)) => return bad(&e),
    };
    let entries = match open_entries(&dir) {
        Ok(e) => e,
        Err(e) => return bad(&e),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut n = 0;
    for item in entries {
        let (e, leaf) = match item {
            Ok(x) => x,
            Err(e) => {
                let _ = out.flush();
                eprintln!("airlock: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        };
        if f.request
            .as_deref()
            .is_some_and(|r| e.request.as_deref() != Some(r))
            || f.session
                .as_deref()
                .is_some_and(|s| e.session.as_deref() != Some(s))
            || f.kind.as_deref().is_some_and(|k| e.kind.as_str() != k)
            || f.decision.as_deref().is_some_and(|d| {
                e.kind != ledger::Kind::Verdict
                    || e.body.get("decision").and_then(|x| x.as_str()) != Some(d)
            })
        {
            continue;
        }
        if since.is_some() || until.is_some() {
            let t = ledger::record::parse_rfc3339(&e.time).unwrap_or(0.0);
            if since.is_some_and(|s| t < s) || until.is_some_and(|u| t > u) {
                continue;
            }
        }
        if print_entry(&mut out, &e, &leaf).is_err() {
            return ExitCode::from(EXIT_FAILED);
        }
        n += 1;
        if limit.is_some_and(|l| n >= l) {
            break;
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(EXIT_FAILED);
    }
    ExitCode::SUCCESS
}

fn export(
    dir: Option<PathBuf>,
    format: ExportFormat,
    since: Option<String>,
    from_index: Option<u64>,
) -> ExitCode {
    let dir = match resolve_dir(dir) {
        Ok(d) => d,
        Err(e) => return bad(&e),
    };
    let since = match ago(since.as_deref(), now_secs()) {
        Ok(s) => s,
        Err(e) => return bad(&e),
    };
    let entries = match open_entries(&dir) {
        Ok(e) => e,
        Err(e) => return bad(&e),
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for item in entries {
        let (e, leaf) = match item {
            Ok(x) => x,
            Err(e) => {
                let _ = out.flush();
                eprintln!("airlock: {e}");
                return ExitCode::from(EXIT_FAILED);
            }
        };
        if from_index.is_some_and(|i| e.index < i) {
            continue;
        }
        if let Some(s) = since
            && ledger::record::parse_rfc3339(&e.time).unwrap_or(0.0) < s
        {
            continue;
        }
        let leaf = ledger::hex(&leaf);
        let r = match format {
            ExportFormat::Jsonl => writeln!(out, "{}", report::jsonl::to_jsonl_line(&e, &leaf)),
            ExportFormat::Ocsf => match report::ocsf::to_ocsf(&e, &leaf) {
                Some(v) => writeln!(out, "{v}"),
                None => Ok(()),
            },
        };
        if r.is_err() {
            return ExitCode::from(EXIT_FAILED);
        }
    }
    if out.flush().is_err() {
        return ExitCode::from(EXIT_FAILED);
    }
    ExitCode::SUCCESS
}

fn checkpoint(dir: Option<PathBuf>, out: Option<PathBuf>, publish: bool) -> ExitCode {
    let (config, dir) = match config_and_dir(dir) {
        Ok(x) => x,
        Err(e) => return bad(&e),
    };
    let text = match ledger::store::read_checkpoint_text(&dir) {
        Ok(Some(t)) => t,
        Ok(None) => return bad(&format!("no checkpoint in {}", dir.display())),
        Err(e) => return bad(&e.to_string()),
    };
    if let Some(p) = out {
        if let Err(e) = std::fs::write(&p, &text) {
            return bad(&format!("{}: {e}", p.display()));
        }
    } else {
        print!("{text}");
    }
    if publish {
        if config.ledger.publish.is_empty() {
            return bad("no publishers configured ([ledger] publish in airlock's configuration)");
        }
        let mut ok = true;
        for t in &config.ledger.publish {
            if let Err(e) = crate::alerts::publish_checkpoint(t, &text, &config) {
                eprintln!("airlock: could not publish the checkpoint to {t}: {e}");
                ok = false;
            }
        }
        if !ok {
            return ExitCode::from(EXIT_FAILED);
        }
    }
    ExitCode::SUCCESS
}

fn prune(dir: Option<PathBuf>, before: Option<u64>, older_than: Option<String>) -> ExitCode {
    let (config, dir) = match config_and_dir(dir) {
        Ok(x) => x,
        Err(e) => return bad(&e),
    };
    if !dir.join("segments").is_dir() {
        return bad(&format!("no ledger at {}", dir.display()));
    }
    let before = match (before, older_than) {
        (Some(b), _) => b,
        (None, Some(d)) => {
            let cutoff = match parse_duration(&d) {
                Ok(s) => now_secs() - s,
                Err(e) => return bad(&e),
            };
            // The first record at or after the cutoff: everything before it may go.
            let entries = match open_entries(&dir) {
                Ok(e) => e,
                Err(e) => return bad(&e),
            };
            let mut first = None;
            for item in entries {
                match item {
                    Ok((e, _)) => {
                        if ledger::record::parse_rfc3339(&e.time).unwrap_or(0.0) >= cutoff {
                            first = Some(e.index);
                            break;
                        }
                    }
                    Err(e) => return bad(&e.to_string()),
                }
            }
            first.unwrap_or(u64::MAX)
        }
        (None, None) => return bad("give --before INDEX or --older-than DURATION"),
    };
    let led = match ledger::Ledger::open(&dir, crate::journal::ledger_options(&config, false)) {
        Ok(l) => l,
        Err(e) => return bad(&e.to_string()),
    };
    match led.prune_before(before) {
        Ok(first) => {
            println!("{}", serde_json::json!({"first_kept_index": first}));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("airlock: prune: {e}");
            ExitCode::from(EXIT_FAILED)
        }
    }
}

pub fn report(a: ReportArgs) -> ExitCode {
    let dir = match resolve_dir(a.dir) {
        Ok(d) => d,
        Err(e) => return bad(&e),
    };
    let now = now_secs();
    let since = match ago(a.since.as_deref(), now) {
        Ok(s) => s,
        Err(e) => return bad(&e),
    };
    let entries = match open_entries(&dir) {
        Ok(e) => e,
        Err(e) => return bad(&e),
    };
    let mut summary = report::summary::Summary::new(report::summary::ReportOptions {
        since,
        now,
        title: format!("airlock report: {}", dir.display()),
    });
    for item in entries {
        match item {
            Ok((e, _)) => summary.add(&e),
            Err(e) => {
                eprintln!("airlock: {e} (the report stops here; run `airlock ledger verify`)");
                return ExitCode::from(EXIT_FAILED);
            }
        }
    }
    let text = match a.format {
        ReportFormat::Md => summary.render_markdown(),
        ReportFormat::Html => summary.render_html(),
    };
    match a.out {
        Some(p) => {
            if let Err(e) = std::fs::write(&p, text) {
                return bad(&format!("{}: {e}", p.display()));
            }
        }
        None => print!("{text}"),
    }
    ExitCode::SUCCESS
}
