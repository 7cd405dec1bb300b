//! Command-line arguments and dispatch.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit statuses of `airlock check` (documented in the README).
pub const EXIT_ALLOW: u8 = 0;
pub const EXIT_INTERNAL: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;
pub const EXIT_ASK: u8 = 10;
pub const EXIT_DENY: u8 = 20;

#[derive(Parser, Debug)]
#[command(
    name = "airlock",
    version,
    about = "An execution gate for code that AI agents propose"
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Inspect proposed code and decide: allow, ask or deny. Runs nothing.
    Check(CheckArgs),
    /// Show or validate policies.
    #[command(subcommand)]
    Policy(PolicyCmd),
}

#[derive(Subcommand, Debug)]
pub enum PolicyCmd {
    /// Print the effective policy (TOML) and its version.
    Show {
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Validate a policy file: syntax, rules and their examples.
    Check { file: PathBuf },
}

#[derive(Args, Debug, Default)]
pub struct GateArgs {
    /// Policy file (TOML) replacing the built-in default. Never read from the workspace.
    #[arg(long)]
    pub policy: Option<PathBuf>,
    /// Working directory of the code (default: the current directory).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Workspace root (default: the working directory).
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Largest code accepted, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_code_bytes: usize,
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub gate: GateArgs,
    /// Language of --code or --file: bash, sh, python or sql.
    #[arg(long)]
    pub lang: Option<String>,
    /// The code to check.
    #[arg(long, conflicts_with_all = ["file", "stdin_json", "jsonl"])]
    pub code: Option<String>,
    /// Read the code from a file.
    #[arg(long, conflicts_with_all = ["stdin_json", "jsonl"])]
    pub file: Option<PathBuf>,
    /// Read one proposal as JSON on stdin: {"lang","code"} plus optional "cwd", "id".
    #[arg(long, conflicts_with = "jsonl")]
    pub stdin_json: bool,
    /// Read proposals as JSON lines on stdin; write one verdict line each.
    #[arg(long)]
    pub jsonl: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Json)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Json,
    Text,
}

pub fn run(cli: Cli) -> ExitCode {
    match cli.cmd {
        Cmd::Check(a) => crate::check::run(a),
        Cmd::Policy(PolicyCmd::Show { policy }) => crate::setup::policy_show(policy.as_deref()),
        Cmd::Policy(PolicyCmd::Check { file }) => crate::setup::policy_check(&file),
    }
}
