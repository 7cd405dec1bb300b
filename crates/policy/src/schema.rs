//! The policy file as written (TOML), before compilation.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Schema version of the file format; this build reads 1.
    pub schema: u32,
    pub name: String,
    /// Verdict for operations no rule matches: `ask` or `deny`.
    pub default: String,
    /// Verdict for opaque operations: `ask` or `deny`.
    pub opaque: String,
    #[serde(default)]
    pub databases: Vec<DatabaseDecl>,
    /// Environment of SQL that names no database.
    #[serde(default = "default_env")]
    pub default_database_env: String,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RuleDecl>,
}

fn default_env() -> String {
    "dev".to_string()
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseDecl {
    pub name: String,
    /// `dev`, `staging`, `prod` or `scratch`.
    pub env: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDecl {
    pub id: String,
    /// Operation kind: exec, file_read, file_write, file_delete, file_mode,
    /// network, sql, privilege, signal, persistence, package_install, opaque.
    /// A list applies the rule to each.
    pub op: OneOrMany,
    pub verdict: String,
    /// A sentence for people.
    pub reason: String,

    // exec
    #[serde(default)]
    pub programs: Vec<String>,
    /// `system`, `project` or `external`.
    #[serde(default)]
    pub program_kind: Option<String>,
    /// First argument that is not an option is one of these.
    #[serde(default)]
    pub subcommands: Vec<String>,
    /// Regex matched against each argument; any match counts.
    #[serde(default)]
    pub any_arg: Option<String>,
    /// Regex matched against the arguments joined by spaces.
    #[serde(default)]
    pub args: Option<String>,

    // files
    #[serde(default)]
    pub paths: Vec<String>,
    #[serde(default)]
    pub except_paths: Vec<String>,
    #[serde(default)]
    pub recursive: Option<bool>,
    #[serde(default)]
    pub setid: Option<bool>,

    // network
    #[serde(default)]
    pub hosts: Vec<String>,
    #[serde(default)]
    pub except_hosts: Vec<String>,
    /// The rule does not apply to hosts the task grants.
    #[serde(default)]
    pub unless_granted: bool,
    /// The rule applies only to hosts the task grants.
    #[serde(default)]
    pub granted_only: bool,

    // sql
    #[serde(default)]
    pub sql_kinds: Vec<String>,
    /// Glob over the statement verb (`DROP *`, `CREATE TEMP *`).
    #[serde(default)]
    pub verbs: Vec<String>,
    #[serde(default)]
    pub envs: Vec<String>,
    /// Matches UPDATE/DELETE whose WHERE is missing or always true.
    #[serde(default)]
    pub unrestricted: Option<bool>,
    /// Any of these dangers present (`*` for any).
    #[serde(default)]
    pub dangers: Vec<String>,
    /// Glob over objects (any matches).
    #[serde(default)]
    pub objects: Vec<String>,

    // privilege, signal, persistence, package_install, opaque
    /// Regex over the operation's description (`how`, `target`, `what`, `reason`).
    #[serde(default)]
    pub detail: Option<String>,

    #[serde(default)]
    pub examples: Option<Examples>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Examples {
    /// Bash code that must produce an operation this rule matches.
    #[serde(default, rename = "match")]
    pub matches: Vec<String>,
    /// Bash code that must not.
    #[serde(default)]
    pub not_match: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl Default for OneOrMany {
    fn default() -> Self {
        OneOrMany::Many(Vec::new())
    }
}

impl OneOrMany {
    pub fn list(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}
