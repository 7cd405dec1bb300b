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
    /// Check proposed code, then run it in the sandbox only if the policy allows it.
    Run(RunArgs),
    /// Run a command in the sandbox with no policy step (the operator's tool for trying
    /// a profile; the default policy denies it to agents).
    Sandbox(SandboxArgs),
    /// Commit the changes an overlay run left in its upper layer.
    Apply(ApplyArgs),
    /// Report what this host supports and whether a sandboxed run works.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Show or validate policies.
    #[command(subcommand)]
    Policy(PolicyCmd),
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq, Default)]
pub enum WorkspaceModeArg {
    /// Writes land in the checkout.
    #[default]
    Direct,
    /// Writes land in an upper layer; the run lists them and `airlock apply` commits them.
    Overlay,
}

/// Sandbox settings shared by `run` and `sandbox`.
#[derive(Args, Debug, Default)]
pub struct SandboxOpts {
    /// Grant network access to a host (`example.com`, `*.example.com` = subdomains only,
    /// optional `:PORT`). Public addresses only.
    #[arg(long = "grant-host", value_name = "HOST[:PORT]")]
    pub grant_host: Vec<String>,
    /// Like --grant-host, but the host may also resolve to loopback or private addresses.
    #[arg(long = "grant-private-host", value_name = "HOST[:PORT]")]
    pub grant_private_host: Vec<String>,
    /// A static name for the egress proxy, like /etc/hosts: NAME=ADDRESS.
    #[arg(long = "add-host", value_name = "NAME=ADDRESS")]
    pub add_host: Vec<String>,
    /// Wall-clock limit in seconds (default 300); the whole sandbox is killed at it.
    #[arg(long)]
    pub timeout: Option<f64>,
    /// Memory limit (address space, and the cgroup where available), e.g. 2G.
    #[arg(long)]
    pub memory: Option<String>,
    /// Process limit.
    #[arg(long)]
    pub processes: Option<u64>,
    /// Open-file limit.
    #[arg(long)]
    pub open_files: Option<u64>,
    /// Largest file a process may write, e.g. 1G.
    #[arg(long)]
    pub file_size: Option<String>,
    /// CPU seconds.
    #[arg(long)]
    pub cpu: Option<u64>,
    /// CPU quota in CPUs (e.g. 0.5), where a cgroup cpu controller is usable.
    #[arg(long)]
    pub cpus: Option<f64>,
    /// Size of the private /tmp, e.g. 256M.
    #[arg(long)]
    pub tmp_size: Option<String>,
    /// Size of the overlay's upper layer, e.g. 512M.
    #[arg(long)]
    pub overlay_size: Option<String>,
    /// Captured bytes per output stream, e.g. 1M.
    #[arg(long)]
    pub output_limit: Option<String>,
    /// Where writes to the workspace land.
    #[arg(long, value_enum, default_value_t = WorkspaceModeArg::Direct)]
    pub workspace_mode: WorkspaceModeArg,
    /// Extra host path shown read-only at the same place.
    #[arg(long = "ro-bind", value_name = "PATH")]
    pub ro_bind: Vec<PathBuf>,
    /// Environment variable for the program: NAME=VALUE.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Do not use cgroup controllers (rlimits only): skips the cgroup move, which waits for
    /// an RCU grace period on cgroup v1 hosts.
    #[arg(long)]
    pub no_cgroups: bool,
    /// Do not bind the caller's Rust toolchain (rustup, cargo's bin) read-only.
    #[arg(long)]
    pub no_toolchains: bool,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    pub gate: GateArgs,
    #[command(flatten)]
    pub sandbox: SandboxOpts,
    /// Language of --code or --file: bash, sh or python (SQL is checked, not run).
    #[arg(long)]
    pub lang: Option<String>,
    /// The code to run.
    #[arg(long, conflicts_with_all = ["file", "stdin_json"])]
    pub code: Option<String>,
    /// Read the code from a file.
    #[arg(long, conflicts_with = "stdin_json")]
    pub file: Option<PathBuf>,
    /// Read one proposal as JSON on stdin.
    #[arg(long)]
    pub stdin_json: bool,
    /// Print the whole outcome as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// A program and its arguments, checked as the equivalent shell command.
    #[arg(last = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct SandboxArgs {
    #[command(flatten)]
    pub sandbox: SandboxOpts,
    /// Working directory (default: the current directory).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Workspace root (default: the working directory).
    #[arg(long)]
    pub workspace: Option<PathBuf>,
    /// Print the whole outcome as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// The program and its arguments.
    #[arg(last = true, required = true)]
    pub command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ApplyArgs {
    /// The id an overlay run printed.
    pub id: String,
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
        Cmd::Run(a) => crate::run::run(a),
        Cmd::Sandbox(a) => crate::run::sandbox(a),
        Cmd::Apply(a) => crate::run::apply(a),
        Cmd::Doctor { json } => crate::run::doctor(json),
        Cmd::Policy(PolicyCmd::Show { policy }) => crate::setup::policy_show(policy.as_deref()),
        Cmd::Policy(PolicyCmd::Check { file }) => crate::setup::policy_check(&file),
    }
}
