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
    /// airlock's state directory (the ledger, saved overlay runs); default
    /// $AIRLOCK_STATE, else $XDG_STATE_HOME/airlock or ~/.local/state/airlock.
    #[arg(long, global = true, value_name = "DIR")]
    pub state: Option<PathBuf>,
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
    /// Verify, search and export the ledger (the record of every proposal and run).
    #[command(subcommand)]
    Ledger(LedgerCmd),
    /// Summarise the ledger for the people who answer for the risk.
    Report(ReportArgs),
}

#[derive(Subcommand, Debug)]
pub enum LedgerCmd {
    /// Check framing, chain, Merkle tree, signatures and meaning; with a checkpoint kept
    /// elsewhere and a pinned key, prove the log only grew.
    Verify {
        /// A signed checkpoint kept elsewhere (from `ledger checkpoint` or a publisher).
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The ledger's verifier key, pinned by the operator (`ledger public-key`).
        #[arg(long)]
        public_key: Option<PathBuf>,
        /// The ledger directory (default: the state directory's).
        #[arg(long)]
        dir: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Print records by index, or every record of a request.
    Show {
        /// Record indexes.
        index: Vec<u64>,
        /// Every record of this request id.
        #[arg(long)]
        request: Option<String>,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print records matching all the given filters, as JSON lines.
    Search {
        #[arg(long)]
        request: Option<String>,
        #[arg(long)]
        session: Option<String>,
        /// Record kind: proposal, verdict, approval, exec_start, exec_outcome, alert, control.
        #[arg(long)]
        kind: Option<String>,
        /// Verdict decision: allow, ask or deny.
        #[arg(long)]
        decision: Option<String>,
        /// Only records newer than this (e.g. 30m, 24h, 7d).
        #[arg(long)]
        since: Option<String>,
        /// Only records older than this (same form).
        #[arg(long)]
        until: Option<String>,
        #[arg(long)]
        limit: Option<usize>,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Export records as JSON lines: airlock's own form, or OCSF events.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Jsonl)]
        format: ExportFormat,
        #[arg(long)]
        since: Option<String>,
        /// Start at this record index (an export cursor: the SIEM sees any gap).
        #[arg(long)]
        from_index: Option<u64>,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print the latest signed checkpoint, or write it to a file; --publish sends it to
    /// the configured publishers.
    Checkpoint {
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(long)]
        publish: bool,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Retention: delete whole old segments (bodies), keeping every leaf hash so the
    /// tree, checkpoints and proofs stay valid. The pruning is itself recorded.
    Prune {
        /// Prune segments whose records all come before this index.
        #[arg(
            long,
            conflicts_with = "older_than",
            required_unless_present = "older_than"
        )]
        before: Option<u64>,
        /// Prune segments whose records are all older than this (e.g. 90d).
        #[arg(long)]
        older_than: Option<String>,
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Print the ledger's verifier key (to pin it elsewhere).
    PublicKey {
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Jsonl,
    Ocsf,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Md,
    Html,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Only records newer than this (e.g. 24h, 7d).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
    pub format: ReportFormat,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long)]
    pub dir: Option<PathBuf>,
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
    /// A secret for the program: NAME takes the value of airlock's own environment
    /// variable NAME, NAME=@FILE reads it from a file. The program sees it as $NAME; the
    /// value is redacted from the ledger and from the output shown.
    #[arg(long = "secret", value_name = "NAME[=@FILE]")]
    pub secret: Vec<String>,
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
    /// The agent's session id, recorded (a proposal's own `session` wins).
    #[arg(long)]
    pub session: Option<String>,
    /// Which agent proposed the code, recorded (a proposal's own `agent` wins).
    #[arg(long)]
    pub agent: Option<String>,
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
    if let Some(s) = &cli.state {
        let abs = if s.is_absolute() {
            s.clone()
        } else {
            match std::env::current_dir() {
                Ok(d) => d.join(s),
                Err(e) => {
                    eprintln!("airlock: cannot read the current directory: {e}");
                    return ExitCode::from(EXIT_BAD_INPUT);
                }
            }
        };
        // SAFETY: set before any other thread of this process starts (the main thread
        // only waits for this one), so nothing reads the environment concurrently.
        unsafe { std::env::set_var("AIRLOCK_STATE", abs) };
    }
    match cli.cmd {
        Cmd::Ledger(c) => crate::ledger_cmd::run(c),
        Cmd::Report(a) => crate::ledger_cmd::report(a),
        Cmd::Check(a) => crate::check::run(a),
        Cmd::Run(a) => crate::run::run(a),
        Cmd::Sandbox(a) => crate::run::sandbox(a),
        Cmd::Apply(a) => crate::run::apply(a),
        Cmd::Doctor { json } => crate::run::doctor(json),
        Cmd::Policy(PolicyCmd::Show { policy }) => crate::setup::policy_show(policy.as_deref()),
        Cmd::Policy(PolicyCmd::Check { file }) => crate::setup::policy_check(&file),
    }
}
