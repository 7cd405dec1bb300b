//! The normalized operation model: what a piece of code would do, whatever
//! language it was written in. Every analyzer produces these; the policy judges
//! only these.

use serde::Serialize;

/// One thing the code would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Run a program. `program` is normalized: quoting removed, trusted system
    /// directories stripped (`/bin/rm` → `rm`); a workspace-relative program
    /// (`./sed`, `bin/grep`) keeps its path and is `ProgramKind::Project`.
    Exec {
        program: String,
        argv: Vec<String>,
        kind: ProgramKind,
    },
    /// Read a file or directory.
    FileRead { path: PathRef },
    /// Create or modify a file (redirections, `cp` destinations, `open(.., 'w')`).
    FileWrite { path: PathRef },
    /// Remove a file or directory tree.
    FileDelete { path: PathRef, recursive: bool },
    /// Change permissions or ownership. `setid` is true for set-uid/set-gid bits.
    FileMode { path: PathRef, setid: bool },
    /// Open a network connection (or send to a host).
    Network {
        host: String,
        port: Option<u16>,
        /// What opened it: `curl`, `git push`, `socket.connect`, ...
        via: String,
    },
    /// Send a file's content over the network (`curl -d @file`, `scp`, an upload).
    Upload {
        path: PathRef,
        host: String,
        via: String,
    },
    /// A SQL statement.
    Sql(SqlOp),
    /// Gain privileges: sudo, su, setuid, capabilities, privileged containers.
    Privilege { how: String },
    /// Signal or stop processes or services.
    Signal { target: String, how: String },
    /// Make something run later or at login: cron, services, rc files, hooks.
    Persistence { what: String },
    /// Install or publish packages.
    PackageInstall { manager: String, what: String },
    /// Load or run code whose effect cannot be known statically.
    Opaque { reason: String },
}

/// What kind of program an `Exec` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProgramKind {
    /// Found by name on PATH or in a trusted system directory.
    System,
    /// Named by a path inside the workspace: project code.
    Project,
    /// Named by a path outside the workspace and outside trusted system directories.
    External,
}

/// A path as far as it can be known statically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathRef {
    /// Absolute, lexically normalized (`.`/`..` folded) when `exact`;
    /// otherwise the best-known text (with `*` glob or `$?` unknown parts).
    pub path: String,
    pub exact: Exactness,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exactness {
    /// A literal path.
    Literal,
    /// A glob: `path` is absolute and its directory part is literal.
    Glob,
    /// Part of the path is computed or unknown; `path` is the known prefix.
    Unknown,
}

/// A SQL statement, classified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SqlOp {
    pub kind: SqlKind,
    /// The statement's verb, upper case: `SELECT`, `DROP TABLE`, `UPDATE`, ...
    pub verb: String,
    /// Objects the statement names (tables, views, roles...), lower case as written.
    pub objects: Vec<String>,
    /// The target database: from the proposal, `USE`, `\c`, `ATTACH`, a
    /// qualified name or a client's argument; `None` means the default (dev) one.
    pub database: Option<String>,
    /// For UPDATE/DELETE: a WHERE clause is present.
    pub has_where: bool,
    /// The WHERE clause is a tautology (`1=1`, `OR true`) or missing.
    pub where_tautological: bool,
    /// Dangerous functions or forms found: `COPY PROGRAM`, `pg_read_file`,
    /// `INTO OUTFILE`, `dblink`, `load_extension`, `pg_terminate_backend`,
    /// `ATTACH`, `VACUUM INTO`, `pg_sleep`, ...
    pub dangers: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SqlKind {
    /// SELECT, EXPLAIN, SHOW, read-only PRAGMA, catalog reads.
    Read,
    /// INSERT, UPDATE, DELETE, MERGE, data-modifying CTEs.
    Dml,
    /// CREATE, ALTER, DROP, TRUNCATE, RENAME.
    Ddl,
    /// GRANT, REVOKE, roles, passwords.
    Dcl,
    /// Transactions, SET, VACUUM, ANALYZE, server administration.
    Admin,
}

impl Op {
    /// A short name of the operation kind, as used by policy rules.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Op::Exec { .. } => "exec",
            Op::FileRead { .. } => "file_read",
            Op::FileWrite { .. } => "file_write",
            Op::FileDelete { .. } => "file_delete",
            Op::FileMode { .. } => "file_mode",
            Op::Network { .. } => "network",
            Op::Upload { .. } => "upload",
            Op::Sql(_) => "sql",
            Op::Privilege { .. } => "privilege",
            Op::Signal { .. } => "signal",
            Op::Persistence { .. } => "persistence",
            Op::PackageInstall { .. } => "package_install",
            Op::Opaque { .. } => "opaque",
        }
    }

    pub fn opaque(reason: impl Into<String>) -> Op {
        Op::Opaque {
            reason: reason.into(),
        }
    }
}

/// A script file the code runs, for the gate to read and inspect in turn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScriptRef {
    /// Absolute, normalized path.
    pub path: String,
    pub lang: crate::Lang,
}
