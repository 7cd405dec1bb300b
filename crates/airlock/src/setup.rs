//! Building a gate from the command line: policy, workspace, home, airlock's
//! own paths. And the `policy` subcommands.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use gate::{Gate, Limits};
use policy::{Policy, Scope};

use crate::cli::{EXIT_ALLOW, EXIT_BAD_INPUT, GateArgs};

fn abs(p: &Path) -> Result<String, String> {
    let p = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?
            .join(p)
    };
    // Resolve symlinks where the path exists, so the workspace check sees the real place.
    let p = std::fs::canonicalize(&p).unwrap_or(p);
    p.to_str()
        .map(inspect::paths::normalize)
        .ok_or_else(|| format!("path {} is not UTF-8", p.display()))
}

fn home() -> String {
    std::env::var("HOME")
        .ok()
        .filter(|h| h.starts_with('/'))
        .map(|h| inspect::paths::normalize(&h))
        .unwrap_or_else(|| "/root".to_string())
}

/// airlock's own state and configuration directories (for self-protection).
pub fn airlock_paths(home: &str, policy_file: Option<&str>) -> Vec<String> {
    let mut v = Vec::new();
    if let Ok(s) = std::env::var("AIRLOCK_STATE")
        && s.starts_with('/')
    {
        v.push(inspect::paths::normalize(&s));
    }
    match std::env::var("XDG_STATE_HOME") {
        Ok(x) if x.starts_with('/') => v.push(format!("{}/airlock", inspect::paths::normalize(&x))),
        _ => v.push(format!("{home}/.local/state/airlock")),
    }
    match std::env::var("XDG_CONFIG_HOME") {
        Ok(x) if x.starts_with('/') => v.push(format!("{}/airlock", inspect::paths::normalize(&x))),
        _ => v.push(format!("{home}/.config/airlock")),
    }
    v.push("/etc/airlock".into());
    v.push("/var/lib/airlock".into());
    if let Some(p) = policy_file {
        v.push(p.to_string());
    }
    v
}

pub fn load_policy(path: Option<&Path>, workspace: Option<&str>) -> Result<Policy, String> {
    match path {
        None => Ok(Policy::default_policy()),
        Some(p) => {
            let ap = abs(p)?;
            if let Some(ws) = workspace
                && inspect::paths::is_within(&ap, ws)
            {
                return Err(format!(
                    "refusing policy {ap}: it lies inside the workspace {ws}, where the agent can change it"
                ));
            }
            let text = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read policy {}: {e}", p.display()))?;
            Policy::from_toml(&text).map_err(|e| format!("invalid policy {}: {e}", p.display()))
        }
    }
}

pub fn build_gate(a: &GateArgs) -> Result<Gate, String> {
    let cwd = match &a.cwd {
        Some(c) => abs(c)?,
        None => abs(Path::new("."))?,
    };
    let workspace = match &a.workspace {
        Some(w) => abs(w)?,
        None => cwd.clone(),
    };
    if workspace == "/" {
        return Err("the workspace cannot be / ".into());
    }
    let home = home();
    let policy = load_policy(a.policy.as_deref(), Some(&workspace))?;
    let policy_path = match &a.policy {
        Some(p) => Some(abs(p)?),
        None => None,
    };
    let scope = Scope {
        workspace,
        home: home.clone(),
        airlock_paths: airlock_paths(&home, policy_path.as_deref()),
    };
    let limits = Limits {
        max_code_bytes: a.max_code_bytes,
        ..Limits::default()
    };
    let _ = PathBuf::new();
    let g = Gate::new(policy, scope, limits).map_err(|e| e.to_string())?;
    Ok(g.with_default_cwd(cwd))
}

pub fn policy_show(path: Option<&Path>) -> ExitCode {
    match load_policy(path, None) {
        Ok(p) => {
            let text = match path {
                None => policy::DEFAULT_POLICY_TOML.to_string(),
                Some(f) => std::fs::read_to_string(f).unwrap_or_default(),
            };
            println!("# policy: {}", p.file.name);
            println!("# version: {}", p.version);
            println!(
                "# source: {}",
                path.map(|p| p.display().to_string())
                    .unwrap_or_else(|| "built-in".into())
            );
            print!("{text}");
            ExitCode::from(EXIT_ALLOW)
        }
        Err(e) => {
            eprintln!("airlock: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

pub fn policy_check(file: &Path) -> ExitCode {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("airlock: cannot read {}: {e}", file.display());
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    match Policy::from_toml(&text) {
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            ExitCode::from(EXIT_BAD_INPUT)
        }
        Ok(p) => {
            let problems = p.check_examples();
            for m in &problems {
                eprintln!("{}: {m}", file.display());
            }
            if problems.is_empty() {
                println!(
                    "{}: ok ({} rules, version {})",
                    file.display(),
                    p.rule_ids().count(),
                    p.version
                );
                ExitCode::from(EXIT_ALLOW)
            } else {
                ExitCode::from(EXIT_BAD_INPUT)
            }
        }
    }
}
