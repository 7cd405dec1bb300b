//! What a run may see and use: the workspace, extra read-only binds, environment, limits
//! and network grants. Validation here is the first line: a workspace that is `/`, a
//! system directory, a home directory itself or airlock's own state never reaches a spawn.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::egress::HostGrant;

/// Where writes to the workspace land.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceMode {
    /// Writes land in the checkout.
    Direct,
    /// Writes land in a size-limited upper layer; the outcome lists them and nothing in
    /// the checkout changes until they are applied.
    Overlay,
}

#[derive(Clone, Debug, Serialize)]
pub struct Limits {
    /// RLIMIT_AS, bytes.
    pub address_space: u64,
    /// RLIMIT_NPROC: processes of the sandbox uid in the sandbox's user namespace.
    pub processes: u64,
    pub open_files: u64,
    /// RLIMIT_FSIZE, bytes: the largest file a process may write.
    pub file_size: u64,
    pub cpu_seconds: u64,
    #[serde(with = "millis")]
    pub timeout: Duration,
    /// Size of the private /tmp (and of /dev/shm and HOME, each).
    pub tmp_bytes: u64,
    /// Size of the overlay upper layer.
    pub overlay_bytes: u64,
    /// Captured bytes per stream; the rest is read and dropped, and flagged.
    pub output_bytes: usize,
    /// cgroup memory limit (when a memory controller is usable), bytes.
    pub memory_bytes: u64,
    /// cgroup CPU quota in CPUs (when a cpu controller is usable); 0 means no quota.
    pub cpus: f64,
    /// Use cgroup controllers where usable (whole-sandbox memory and process limits).
    /// Off leaves rlimits only; the outcome says which were in force.
    pub cgroups: bool,
}

mod millis {
    pub fn serialize<S: serde::Serializer>(
        d: &std::time::Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            address_space: 4 << 30,
            processes: 256,
            open_files: 1024,
            file_size: 1 << 30,
            cpu_seconds: 600,
            timeout: Duration::from_secs(300),
            tmp_bytes: 256 << 20,
            overlay_bytes: 512 << 20,
            output_bytes: 1 << 20,
            memory_bytes: 2 << 30,
            cpus: 0.0,
            cgroups: true,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Profile {
    /// The root the code works in: the only host directory it may write (direct mode).
    pub workspace: PathBuf,
    pub cwd: PathBuf,
    pub mode: WorkspaceMode,
    /// Extra host paths made visible read-only at the same place (toolchains).
    pub read_only: Vec<PathBuf>,
    /// The whole environment of the program besides the sandbox's own variables.
    pub env: Vec<(String, String)>,
    /// Directories prepended to PATH.
    pub path_prepend: Vec<String>,
    pub limits: Limits,
    /// Hosts the task grants; empty means no network at all.
    pub grants: Vec<HostGrant>,
    /// Static name → address entries for the egress proxy (like `--add-host`).
    pub static_hosts: Vec<(String, std::net::IpAddr)>,
    /// Paths that must never be visible (airlock's state, keys, policy).
    pub hidden: Vec<PathBuf>,
}

/// HOME inside the sandbox: a private tmpfs, never the workspace.
pub const SANDBOX_HOME: &str = "/home/sandbox";
/// The egress proxy's port on the sandbox's loopback.
pub const PROXY_PORT: u16 = 3128;

const SYSTEM_DIRS: &[&str] = &[
    "/", "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
    "/sbin", "/sys", "/usr", "/var", "/opt", "/srv", "/mnt", "/media", "/home", "/root", "/tmp",
    "/var/tmp", "/snap",
];
const SYSTEM_TREES: &[&str] = &[
    "/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys",
    "/usr",
];

impl Profile {
    /// A profile with defaults for `workspace`, `cwd` inside it.
    pub fn new(workspace: impl Into<PathBuf>, cwd: impl Into<PathBuf>) -> Profile {
        Profile {
            workspace: workspace.into(),
            cwd: cwd.into(),
            mode: WorkspaceMode::Direct,
            read_only: Vec::new(),
            env: Vec::new(),
            path_prepend: Vec::new(),
            limits: Limits::default(),
            grants: Vec::new(),
            static_hosts: Vec::new(),
            hidden: Vec::new(),
        }
    }

    /// Resolves the workspace and cwd and refuses what must never be a workspace.
    /// Returns the canonical (workspace, cwd).
    pub fn validate(&self, home: Option<&Path>) -> Result<(PathBuf, PathBuf), String> {
        let ws = std::fs::canonicalize(&self.workspace)
            .map_err(|e| format!("workspace {}: {e}", self.workspace.display()))?;
        if !ws.is_dir() {
            return Err(format!("workspace {} is not a directory", ws.display()));
        }
        let s = ws.to_str().ok_or("workspace path is not UTF-8")?;
        if SYSTEM_DIRS.contains(&s) || SYSTEM_TREES.iter().any(|t| ws.starts_with(t)) {
            return Err(format!(
                "workspace {s} is a system directory; choose a project directory"
            ));
        }
        if let Some(h) = home
            && let Ok(h) = std::fs::canonicalize(h)
            && ws == h
        {
            return Err(format!(
                "workspace {s} is a home directory; choose a project directory"
            ));
        }
        if ws.parent() == Some(Path::new("/home")) {
            return Err(format!(
                "workspace {s} is a home directory; choose a project directory"
            ));
        }
        for hidden in &self.hidden {
            let hidden = std::fs::canonicalize(hidden).unwrap_or_else(|_| hidden.clone());
            if ws.starts_with(&hidden) || hidden.starts_with(&ws) {
                return Err(format!(
                    "workspace {s} overlaps airlock's own files ({}); they must stay outside every sandbox",
                    hidden.display()
                ));
            }
        }
        let cwd_abs = if self.cwd.is_absolute() {
            self.cwd.clone()
        } else {
            ws.join(&self.cwd)
        };
        let cwd = std::fs::canonicalize(&cwd_abs)
            .map_err(|e| format!("cwd {}: {e}", cwd_abs.display()))?;
        if !cwd.starts_with(&ws) {
            return Err(format!(
                "cwd {} is outside the workspace {s}",
                cwd.display()
            ));
        }
        if s == SANDBOX_HOME || ws.starts_with(SANDBOX_HOME) {
            return Err(format!("workspace {s} collides with the sandbox's HOME"));
        }
        for ro in &self.read_only {
            let r = std::fs::canonicalize(ro)
                .map_err(|e| format!("read-only bind {}: {e}", ro.display()))?;
            if r == Path::new("/") {
                return Err("read-only bind of / would show the whole host".into());
            }
            for hidden in &self.hidden {
                let hidden = std::fs::canonicalize(hidden).unwrap_or_else(|_| hidden.clone());
                if r.starts_with(&hidden) || hidden.starts_with(&r) {
                    return Err(format!(
                        "read-only bind {} would show airlock's own files ({})",
                        r.display(),
                        hidden.display()
                    ));
                }
            }
        }
        Ok((ws, cwd))
    }
}
