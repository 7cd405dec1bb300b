//! The inspector: proposed code → normalized operations.
//!
//! A pure step: no I/O, no clock, no environment. Everything it needs to know
//! about the world (working directory, workspace root, home) comes in a
//! [`Context`]. Scripts the code runs are reported as [`ScriptRef`]s for the
//! caller (the gate) to read and hand back through [`analyze`] again.
//!
//! Fail closed: a parse error is not "no operations", it is an `Opaque` op.

mod bash;
mod collector;
mod ops;
pub mod paths;
mod python;
mod sql;

pub use collector::Collector;
pub use ops::{Exactness, Op, PathRef, ProgramKind, ScriptRef, SqlKind, SqlOp};

use serde::Serialize;

/// Languages the inspector understands. Anything else is refused before analysis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    Bash,
    Sh,
    Python,
    Sql,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "bash" | "shell" | "zsh" => Some(Lang::Bash),
            "sh" | "dash" | "posix-sh" => Some(Lang::Sh),
            "python" | "python3" | "py" => Some(Lang::Python),
            "sql" | "sqlite" | "postgres" | "postgresql" | "psql" | "mysql" => Some(Lang::Sql),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Bash => "bash",
            Lang::Sh => "sh",
            Lang::Python => "python",
            Lang::Sql => "sql",
        }
    }
}

/// What the inspector knows about where the code would run.
#[derive(Debug, Clone)]
pub struct Context {
    /// Absolute working directory.
    pub cwd: String,
    /// Absolute workspace root (contains `cwd`).
    pub workspace: String,
    /// The user's home directory, for `~` and `$HOME`.
    pub home: String,
    /// The database SQL goes to when nothing names one (the proposal's target).
    pub database: Option<String>,
    /// How deep code may nest (`bash -c "python -c '...'"`) before it is opaque.
    pub max_depth: usize,
}

impl Context {
    pub fn new(cwd: &str, workspace: &str, home: &str) -> Context {
        Context {
            cwd: cwd.to_string(),
            workspace: workspace.to_string(),
            home: home.to_string(),
            database: None,
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }
}

pub const DEFAULT_MAX_DEPTH: usize = 8;

/// The result of inspecting one piece of code.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Analysis {
    pub ops: Vec<Op>,
    /// Script files the code runs, for the gate to read and inspect.
    pub scripts: Vec<ScriptRef>,
}

/// Inspect `code` written in `lang` as if run in `ctx`.
pub fn analyze(lang: Lang, code: &str, ctx: &Context) -> Analysis {
    let mut c = Collector::new(ctx);
    let cwd = ctx.cwd.clone();
    let db = ctx.database.clone();
    c.nested(lang, code, &cwd, db.as_deref());
    c.finish()
}
