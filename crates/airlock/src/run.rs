//! `airlock run` (check, then run what is allowed in the sandbox), `airlock sandbox`
//! (the operator's tool: run a command in the sandbox with no policy step),
//! `airlock apply` (commit an overlay run's changes) and `airlock doctor`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gate::execute::{Ran, RunError};
use gate::{Checked, Proposal};
use sandbox::egress::HostGrant;
use sandbox::{Outcome, Profile, WorkspaceMode};
use serde_json::json;

use crate::cli::{ApplyArgs, RunArgs, SandboxArgs, SandboxOpts, WorkspaceModeArg};

/// Reserved exit statuses of `airlock run` and `airlock sandbox` (a program's own
/// status passes through; these mean airlock itself did not run it or stopped it).
pub const RUN_ASK: u8 = 120;
pub const RUN_DENY: u8 = 121;
pub const RUN_BAD_INPUT: u8 = 122;
/// Stopped by airlock: a protection was lost during the run (see `Exit::ProtectionLost`).
pub const RUN_STOPPED: u8 = 123;
pub const RUN_TIMEOUT: u8 = 124;
pub const RUN_SANDBOX_FAILED: u8 = 125;
/// The ledger could not record the run: nothing ran (or, if the run had started, its
/// outcome is missing from the ledger and `ledger verify` will say so).
pub const RUN_NOT_RECORDED: u8 = 126;

fn bad_input(json_out: bool, msg: &str) -> ExitCode {
    if json_out {
        println!(
            "{}",
            json!({"ran": false, "decision": "deny", "error": msg})
        );
    }
    eprintln!("airlock: {msg}");
    ExitCode::from(RUN_BAD_INPUT)
}

fn parse_size(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let (num, mult) = match s.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        None => (s, 1u64),
        Some((i, _)) => {
            let m = match s[i..].to_ascii_lowercase().as_str() {
                "k" | "kib" | "kb" => 1 << 10,
                "m" | "mib" | "mb" => 1 << 20,
                "g" | "gib" | "gb" => 1 << 30,
                other => {
                    return Err(format!(
                        "unknown size unit {other:?} in {s:?} (use K, M or G)"
                    ));
                }
            };
            (&s[..i], m)
        }
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("invalid size {s:?}"))
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
}

/// airlock's state directory (overlay layers awaiting `apply`, later the ledger).
pub fn state_dir() -> PathBuf {
    if let Some(s) = std::env::var_os("AIRLOCK_STATE")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return s;
    }
    if let Some(x) = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return x.join("airlock");
    }
    home_dir()
        .unwrap_or_else(|| PathBuf::from("/root"))
        .join(".local/state/airlock")
}

/// Builds the sandbox profile from the command line. Toolchains found under the
/// caller's home (rustup, cargo's bin) are bound read-only, without cargo's credentials.
pub fn profile_from(
    o: &SandboxOpts,
    workspace: &Path,
    cwd: &Path,
) -> Result<(Profile, Vec<HostGrant>), String> {
    let mut p = Profile::new(workspace, cwd);
    p.mode = match o.workspace_mode {
        WorkspaceModeArg::Direct => WorkspaceMode::Direct,
        WorkspaceModeArg::Overlay => WorkspaceMode::Overlay,
    };
    if let Some(t) = o.timeout {
        if t <= 0.0 || !t.is_finite() {
            return Err("--timeout must be a positive number of seconds".into());
        }
        p.limits.timeout = std::time::Duration::from_secs_f64(t);
    }
    if let Some(m) = &o.memory {
        let v = parse_size(m)?;
        p.limits.address_space = v;
        p.limits.memory_bytes = v;
    }
    if let Some(n) = o.processes {
        p.limits.processes = n;
    }
    if let Some(n) = o.open_files {
        p.limits.open_files = n;
    }
    if let Some(s) = &o.file_size {
        p.limits.file_size = parse_size(s)?;
    }
    if let Some(s) = &o.tmp_size {
        p.limits.tmp_bytes = parse_size(s)?;
    }
    if let Some(s) = &o.overlay_size {
        p.limits.overlay_bytes = parse_size(s)?;
    }
    if let Some(s) = &o.output_limit {
        p.limits.output_bytes = parse_size(s)? as usize;
    }
    if let Some(c) = o.cpu {
        p.limits.cpu_seconds = c;
    }
    if o.no_cgroups {
        p.limits.cgroups = false;
    }
    if let Some(c) = o.cpus {
        if !(c > 0.0 && c.is_finite()) {
            return Err("--cpus must be a positive number".into());
        }
        p.limits.cpus = c;
    }
    if !o.no_toolchains
        && let Some(h) = home_dir()
    {
        let rustup = std::env::var_os("RUSTUP_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| h.join(".rustup"));
        let cargo = std::env::var_os("CARGO_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| h.join(".cargo"));
        if rustup.is_dir() && cargo.join("bin").is_dir() {
            p.read_only.push(rustup.clone());
            p.read_only.push(cargo.join("bin"));
            p.path_prepend
                .push(cargo.join("bin").to_string_lossy().into_owned());
            p.env
                .push(("RUSTUP_HOME".into(), rustup.to_string_lossy().into_owned()));
            // A private, empty CARGO_HOME: the host's holds registry credentials.
            p.env.push((
                "CARGO_HOME".into(),
                format!("{}/.cargo", sandbox::profile::SANDBOX_HOME),
            ));
            if let Ok(t) = std::env::var("RUSTUP_TOOLCHAIN") {
                p.env.push(("RUSTUP_TOOLCHAIN".into(), t));
            }
        }
    }
    for b in &o.ro_bind {
        p.read_only.push(b.clone());
    }
    for e in &o.env {
        let (k, v) = e
            .split_once('=')
            .ok_or_else(|| format!("--env {e:?}: expected NAME=VALUE"))?;
        if k.is_empty() || k.contains('\0') {
            return Err(format!("--env {e:?}: invalid name"));
        }
        p.env.push((k.to_string(), v.to_string()));
    }
    let mut grants = Vec::new();
    for g in &o.grant_host {
        grants.push(HostGrant::parse(g, false)?);
    }
    for g in &o.grant_private_host {
        grants.push(HostGrant::parse(g, true)?);
    }
    for h in &o.add_host {
        let (name, ip) = h
            .split_once('=')
            .or_else(|| h.rsplit_once(':').filter(|(_, ip)| !ip.contains(':')))
            .ok_or_else(|| format!("--add-host {h:?}: expected NAME=ADDRESS"))?;
        let ip: std::net::IpAddr = ip
            .trim_matches(|c| c == '[' || c == ']')
            .parse()
            .map_err(|_| format!("--add-host {h:?}: invalid address"))?;
        p.static_hosts.push((name.to_ascii_lowercase(), ip));
    }
    p.grants = grants.clone();
    p.hidden.push(state_dir());
    let home = home_dir().unwrap_or_else(|| PathBuf::from("/root"));
    p.hidden.extend(
        crate::setup::airlock_paths(&home.to_string_lossy(), None)
            .into_iter()
            .map(PathBuf::from),
    );
    Ok((p, grants))
}

/// `--secret NAME` (from airlock's environment) or `NAME=@FILE`.
fn secrets_from(specs: &[String]) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for spec in specs {
        let (name, value) = match spec.split_once("=@") {
            Some((n, f)) => (
                n,
                std::fs::read_to_string(f)
                    .map_err(|e| format!("--secret {n}: cannot read {f}: {e}"))?
                    .trim_end_matches('\n')
                    .to_string(),
            ),
            None => (
                spec.as_str(),
                std::env::var(spec)
                    .map_err(|_| format!("--secret {spec}: airlock's environment has no {spec}"))?,
            ),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(format!("--secret {name:?}: invalid variable name"));
        }
        if value.len() < 4 {
            return Err(format!(
                "--secret {name}: the value is under 4 bytes, too short to redact reliably"
            ));
        }
        out.push((name.to_string(), value));
    }
    Ok(out)
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn force_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Output for a terminal: the sandboxed program's bytes must not drive the terminal of
/// the person reading them (OSC 52 clipboard writes, title changes, cursor games that
/// hide text, bidirectional overrides). Control characters other than newline and tab,
/// C1 controls, and bidi and zero-width format characters are shown as `\u{..}`; a
/// carriage return is kept only before a newline. Output to a pipe or file is unchanged.
pub fn for_terminal(b: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(b);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let visible = match c {
            '\n' | '\t' => true,
            '\r' => chars.peek() == Some(&'\n'),
            c if c.is_control() => false,
            '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{feff}' => false,
            _ => true,
        };
        if visible {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    out.into_bytes()
}

fn is_terminal(fd: i32) -> bool {
    // SAFETY: isatty only inspects the descriptor.
    unsafe { libc::isatty(fd) == 1 }
}

fn print_outcome_streams(o: &Outcome) {
    fn show(b: &[u8], fd: i32) -> std::borrow::Cow<'_, [u8]> {
        if is_terminal(fd) {
            std::borrow::Cow::Owned(for_terminal(b))
        } else {
            std::borrow::Cow::Borrowed(b)
        }
    }
    let _ = std::io::stdout().write_all(&show(&o.stdout, 1));
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().write_all(&show(&o.stderr, 2));
    if o.stdout_truncated || o.stderr_truncated {
        eprintln!("airlock: output was truncated at the capture limit");
    }
    if matches!(o.exit, sandbox::Exit::Timeout) {
        eprintln!("airlock: killed at the timeout");
    }
    if matches!(o.exit, sandbox::Exit::ProtectionLost) {
        eprintln!(
            "airlock: stopped: a protected path was replaced on the host during the run, which \
             detached its read-only mount; check the workspace's protected files"
        );
    }
    for a in &o.egress {
        if !a.allowed {
            eprintln!(
                "airlock: egress refused: {}:{} ({})",
                a.host, a.port, a.reason
            );
        }
    }
}

fn exit_for_outcome(o: &Outcome) -> ExitCode {
    if matches!(o.exit, sandbox::Exit::Timeout) {
        return ExitCode::from(RUN_TIMEOUT);
    }
    if matches!(o.exit, sandbox::Exit::ProtectionLost) {
        return ExitCode::from(RUN_STOPPED);
    }
    ExitCode::from(o.status.clamp(0, 255) as u8)
}

/// Saves an overlay run's upper layer for `airlock apply`; returns its id.
fn keep_overlay(o: &Outcome) -> Result<Option<String>, String> {
    use std::os::fd::AsFd;
    let (Some(upper), Some(changes)) = (&o.upper, &o.changes) else {
        return Ok(None);
    };
    if changes.created.is_empty() && changes.modified.is_empty() && changes.deleted.is_empty() {
        return Ok(None);
    }
    let mut b = [0u8; 8];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| format!("random: {e}"))?;
    let id: String = b.iter().map(|x| format!("{x:02x}")).collect();
    let runs = state_dir().join("runs");
    std::fs::create_dir_all(&runs).map_err(|e| format!("{}: {e}", runs.display()))?;
    let dest = runs.join(&id);
    sandbox::overlay::save(upper.as_fd(), &o.workspace, &dest, 1 << 31, 1 << 20)
        .map_err(|e| format!("saving the overlay: {e}"))?;
    std::fs::write(
        runs.join(format!("{id}.workspace")),
        o.workspace.as_os_str().as_encoded_bytes(),
    )
    .map_err(|e| format!("saving the overlay: {e}"))?;
    Ok(Some(id))
}

fn report(
    checked: Option<&Checked>,
    o: &Outcome,
    json_out: bool,
    kept: Option<&str>,
    request: Option<&str>,
    red: &crate::journal::Redactor,
) {
    if json_out {
        let mut v = json!({"ran": true, "outcome": o});
        if let Some(c) = checked {
            v["check"] = json!(c);
        }
        if let Some(id) = kept {
            v["overlay_id"] = json!(id);
        }
        if let Some(r) = request {
            v["request"] = json!(r);
        }
        red.value(&mut v);
        println!("{v}");
    } else {
        print_outcome_streams(o);
        if let Some(e) = &o.overlay_error {
            eprintln!("airlock: overlay: {e}");
        }
        if let Some(c) = &o.changes {
            eprintln!(
                "airlock: overlay: {} created, {} modified, {} deleted{}",
                c.created.len(),
                c.modified.len(),
                c.deleted.len(),
                kept.map(|id| format!("; commit with `airlock apply {id}`"))
                    .unwrap_or_default()
            );
            for (k, list) in [
                ("created", &c.created),
                ("modified", &c.modified),
                ("deleted", &c.deleted),
            ] {
                for p in list {
                    eprintln!("  {k} {p}");
                }
            }
        }
    }
}

pub fn run(a: RunArgs) -> ExitCode {
    let json_out = a.json;
    let gate = match crate::setup::build_gate(&a.gate) {
        Ok(g) => g,
        Err(e) => return bad_input(json_out, &e),
    };
    let proposal = if !a.command.is_empty() {
        if a.code.is_some() || a.file.is_some() || a.stdin_json {
            return bad_input(
                json_out,
                "give either -- PROGRAM ARGS or --code/--file/--stdin-json, not both",
            );
        }
        Proposal {
            lang: "bash".into(),
            // The program word is always quoted, so `X=1 env` stays a program named
            // `X=1` and `if` is not a keyword: the check sees exactly what runs.
            code: a
                .command
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    if i == 0 {
                        force_quote(s)
                    } else {
                        shell_quote(s)
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            cwd: None,
            id: None,
            ..Default::default()
        }
    } else if a.stdin_json {
        let mut buf = Vec::new();
        let limit = (a.gate.max_code_bytes as u64)
            .saturating_mul(2)
            .saturating_add(1 << 16);
        if let Err(e) = std::io::stdin().take(limit + 1).read_to_end(&mut buf) {
            return bad_input(json_out, &format!("cannot read stdin: {e}"));
        }
        if buf.len() as u64 > limit {
            return bad_input(json_out, &format!("input is over {limit} bytes"));
        }
        match crate::check::parse_proposal(&buf) {
            Ok(p) => p,
            Err(e) => return bad_input(json_out, &e),
        }
    } else {
        let Some(lang) = a.lang.clone() else {
            return bad_input(json_out, "--lang is required with --code or --file");
        };
        let code = match (&a.code, &a.file) {
            (Some(c), _) => c.clone(),
            (None, Some(f)) => match std::fs::read(f).map(String::from_utf8) {
                Ok(Ok(s)) => s,
                Ok(Err(_)) => {
                    return bad_input(json_out, &format!("{} is not valid UTF-8", f.display()));
                }
                Err(e) => return bad_input(json_out, &format!("cannot read {}: {e}", f.display())),
            },
            (None, None) => {
                return bad_input(
                    json_out,
                    "give the code with --code, --file, --stdin-json or -- PROGRAM ARGS",
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
    crate::check::fill_identity(&mut proposal, &a.gate);
    let ws = PathBuf::from(gate.workspace());
    let (mut profile, grants) = match profile_from(&a.sandbox, &ws, &ws) {
        Ok(p) => p,
        Err(e) => return bad_input(json_out, &e),
    };
    let secrets = match secrets_from(&a.secret) {
        Ok(s) => s,
        Err(e) => return bad_input(json_out, &e),
    };
    for (k, v) in &secrets {
        profile.env.push((k.clone(), v.clone()));
    }
    let red = crate::journal::Redactor::new(secrets);
    let config = match crate::config::Config::load(Some(gate.workspace())) {
        Ok(c) => c,
        Err(e) => return bad_input(json_out, &e),
    };
    let journal = match crate::journal::Journal::open(&state_dir(), config) {
        Ok(j) => j,
        Err(e) => return not_recorded(json_out, &e),
    };
    let request = crate::journal::new_request_id();
    let mut rec = crate::journal::RunRecorder::new(&journal, &gate, request.clone(), red.clone());
    rec.grants = grants.iter().map(|g| g.pattern.clone()).collect();
    let result = gate.run(&proposal, &grants, profile, &mut rec);
    let record_failed = rec.failed.take();
    drop(rec);
    let code = match result {
        Ok(Ran::Refused(c)) => {
            if json_out {
                let mut v = json!({"ran": false, "check": c, "request": request});
                red.value(&mut v);
                println!("{v}");
            } else {
                eprintln!("airlock: {} — not run (request {request})", c.decision);
                for r in &c.reasons {
                    eprintln!("  {} [{}]: {}", r.verdict, r.rule, red.str(&r.message));
                }
                if c.decision == policy::Verdict::Ask {
                    eprintln!(
                        "airlock: this needs a person's approval, which `airlock run` cannot give yet"
                    );
                }
            }
            ExitCode::from(if c.decision == policy::Verdict::Ask {
                RUN_ASK
            } else {
                RUN_DENY
            })
        }
        Ok(Ran::Ran(c, mut o)) => {
            let kept = match keep_overlay(&o) {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("airlock: {e}");
                    None
                }
            };
            // The agent sees the output with injected secrets masked, as the ledger does.
            o.stdout = red.bytes(&o.stdout);
            o.stderr = red.bytes(&o.stderr);
            report(
                Some(&c),
                &o,
                json_out,
                kept.as_deref(),
                Some(&request),
                &red,
            );
            exit_for_outcome(&o)
        }
        Err(RunError::Gate(e)) => bad_input(json_out, &e.to_string()),
        Err(RunError::Unsupported(e)) | Err(RunError::Profile(e)) => bad_input(json_out, &e),
        Err(RunError::Record(e)) => not_recorded(json_out, &e),
        Err(RunError::Changed(e)) => {
            if json_out {
                println!(
                    "{}",
                    json!({"ran": false, "decision": "deny", "error": e, "request": request})
                );
            }
            eprintln!("airlock: {e}");
            ExitCode::from(RUN_DENY)
        }
        Err(RunError::Sandbox(e)) => {
            if json_out {
                println!(
                    "{}",
                    json!({"ran": false, "error": format!("sandbox: {e}"), "request": request})
                );
            }
            eprintln!("airlock: sandbox: {e}");
            ExitCode::from(RUN_SANDBOX_FAILED)
        }
    };
    journal.publish();
    journal.flush_alerts();
    if let Some(e) = record_failed {
        eprintln!("airlock: the run's outcome could not be recorded: {e}");
        return ExitCode::from(RUN_NOT_RECORDED);
    }
    code
}

fn not_recorded(json_out: bool, msg: &str) -> ExitCode {
    if json_out {
        println!(
            "{}",
            json!({"ran": false, "decision": "deny", "error": msg})
        );
    }
    eprintln!("airlock: {msg}");
    ExitCode::from(RUN_NOT_RECORDED)
}

pub fn sandbox(a: SandboxArgs) -> ExitCode {
    let cwd = match &a.cwd {
        Some(c) => c.clone(),
        None => match std::env::current_dir() {
            Ok(d) => d,
            Err(e) => return bad_input(a.json, &format!("cannot read the current directory: {e}")),
        },
    };
    let ws = a.workspace.clone().unwrap_or_else(|| cwd.clone());
    let (profile, _) = match profile_from(&a.sandbox, &ws, &cwd) {
        Ok(p) => p,
        Err(e) => return bad_input(a.json, &e),
    };
    let Some((prog, args)) = a.command.split_first() else {
        return bad_input(a.json, "give the command after --");
    };
    match sandbox::run(&profile, prog, args) {
        Ok(o) => {
            let kept = match keep_overlay(&o) {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("airlock: {e}");
                    None
                }
            };
            report(
                None,
                &o,
                a.json,
                kept.as_deref(),
                None,
                &crate::journal::Redactor::default(),
            );
            exit_for_outcome(&o)
        }
        Err(sandbox::RunError::Refused(e)) => bad_input(a.json, &e),
        Err(sandbox::RunError::Setup(e)) => {
            if a.json {
                println!(
                    "{}",
                    json!({"ran": false, "error": format!("sandbox: {e}")})
                );
            }
            eprintln!("airlock: sandbox: {e}");
            ExitCode::from(RUN_SANDBOX_FAILED)
        }
    }
}

pub fn apply(a: ApplyArgs) -> ExitCode {
    if a.id.is_empty() || !a.id.bytes().all(|b| b.is_ascii_hexdigit()) {
        eprintln!("airlock: invalid run id {:?}", a.id);
        return ExitCode::from(RUN_BAD_INPUT);
    }
    let runs = state_dir().join("runs");
    let saved = runs.join(&a.id);
    let ws = match std::fs::read(runs.join(format!("{}.workspace", a.id))) {
        Ok(b) => PathBuf::from(String::from_utf8_lossy(&b).into_owned()),
        Err(e) => {
            eprintln!("airlock: no saved overlay run {}: {e}", a.id);
            return ExitCode::from(RUN_BAD_INPUT);
        }
    };
    match sandbox::overlay::apply(&saved, &ws) {
        Ok(c) => {
            println!(
                "{}",
                json!({"applied": a.id, "workspace": ws, "changes": c})
            );
            let _ = std::fs::remove_dir_all(&saved);
            let _ = std::fs::remove_file(runs.join(format!("{}.workspace", a.id)));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("airlock: apply refused: {e}");
            ExitCode::from(1)
        }
    }
}

pub fn doctor(json_out: bool) -> ExitCode {
    let mut checks = sandbox::doctor::host_checks();
    checks.extend(sandbox::doctor::probe());
    let required = [
        "user namespaces",
        "landlock",
        "seccomp",
        "sandboxed probe",
        "unprivileged uid",
        "no capabilities",
        "no_new_privs",
        "seccomp in force",
        "landlock in force",
    ];
    let ok = checks
        .iter()
        .filter(|c| required.contains(&c.name.as_str()))
        .all(|c| c.ok);
    if json_out {
        println!("{}", json!({"ready": ok, "checks": checks}));
    } else {
        for c in &checks {
            println!(
                "{} {:<28} {}",
                match (c.ok, required.contains(&c.name.as_str())) {
                    (true, _) => "ok  ",
                    (false, true) => "FAIL",
                    (false, false) => "no  ",
                },
                c.name,
                c.detail
            );
        }
        println!(
            "{}",
            if ok {
                "airlock can run code here"
            } else {
                "airlock cannot run code safely here: `run` will refuse"
            }
        );
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
