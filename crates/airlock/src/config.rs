//! airlock's own configuration: where the ledger lives and where its checkpoints go,
//! how much output a record keeps, and the alert rules and sinks. It is read from
//! airlock's configuration directory (never the workspace), which the sandbox hides and
//! the default policy denies to agents.
//!
//! ```toml
//! [ledger]
//! dir = "/var/lib/airlock/ledger"          # default: <state>/ledger
//! publish = ["file:/mnt/witness/airlock.checkpoint", "https://witness.example/airlock"]
//! segment_bytes = 67108864
//! lock_timeout_ms = 10000
//!
//! [record]
//! output_bytes = 65536                     # copy of stdout/stderr kept per run
//!
//! [alerts]                                 # see the alert crate
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LedgerConfig {
    pub dir: Option<PathBuf>,
    /// Where each new checkpoint is sent: `file:PATH` or an `https://` URL (`http://`
    /// only to loopback).
    pub publish: Vec<String>,
    pub segment_bytes: u64,
    pub lock_timeout_ms: u64,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            dir: None,
            publish: Vec::new(),
            segment_bytes: 64 << 20,
            lock_timeout_ms: 10_000,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordConfig {
    pub output_bytes: usize,
}

impl Default for RecordConfig {
    fn default() -> Self {
        RecordConfig {
            output_bytes: 64 << 10,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub ledger: LedgerConfig,
    pub record: RecordConfig,
    pub alerts: alert::AlertConfig,
    /// Where this configuration was read from (`None`: built-in defaults).
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// The configuration file airlock reads: `$AIRLOCK_CONFIG`, else the user's
/// `$XDG_CONFIG_HOME/airlock/config.toml` (or `~/.config/...`), else
/// `/etc/airlock/config.toml`.
pub fn config_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AIRLOCK_CONFIG") {
        return Some(PathBuf::from(p));
    }
    let user = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .map(|d| d.join("airlock/config.toml"));
    if let Some(u) = user
        && u.exists()
    {
        return Some(u);
    }
    let sys = PathBuf::from("/etc/airlock/config.toml");
    sys.exists().then_some(sys)
}

impl Config {
    pub fn parse(text: &str) -> Result<Config, String> {
        let c: Config = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), String> {
        if self.ledger.segment_bytes < 4096 {
            return Err("ledger.segment_bytes must be at least 4096".into());
        }
        if self.ledger.lock_timeout_ms == 0 {
            return Err("ledger.lock_timeout_ms must be positive".into());
        }
        for p in &self.ledger.publish {
            crate::alerts::check_publish_target(p)?;
        }
        if let Some(d) = &self.ledger.dir
            && !d.is_absolute()
        {
            return Err("ledger.dir must be an absolute path".into());
        }
        Ok(())
    }

    /// Loads the configuration; a missing file means the defaults, a bad one is an error
    /// (airlock does not run on a configuration it cannot read).
    pub fn load(workspace: Option<&str>) -> Result<Config, String> {
        let Some(path) = config_path() else {
            return Ok(Config::default());
        };
        Config::load_from(&path, workspace)
    }

    pub fn load_from(path: &Path, workspace: Option<&str>) -> Result<Config, String> {
        let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let (Some(ws), Some(a)) = (workspace, abs.to_str())
            && inspect::paths::is_within(a, ws)
        {
            return Err(format!(
                "refusing configuration {a}: it lies inside the workspace {ws}, where the agent can change it"
            ));
        }
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e)
                if e.kind() == std::io::ErrorKind::NotFound
                    && std::env::var_os("AIRLOCK_CONFIG").is_none() =>
            {
                return Ok(Config::default());
            }
            Err(e) => return Err(format!("cannot read configuration {}: {e}", path.display())),
        };
        let mut c = Config::parse(&text)
            .map_err(|e| format!("invalid configuration {}: {e}", path.display()))?;
        c.source = Some(abs);
        Ok(c)
    }
}
