//! Resource limits: rlimits always (the floor), cgroup controllers when the host offers
//! them. Cgroups are feature-detected: v1 `memory`, `pids` and `cpu` hierarchies where
//! mounted and writable (as on this project's CI hosts); cgroup v2 is reported but not
//! used yet. The outcome says which limits were in force.

use std::path::{Path, PathBuf};

use crate::profile::Limits;

/// The rlimits applied in the child, clamped to the caller's own hard limits (raising a
/// hard limit needs a privilege the sandbox never has).
pub fn rlimits(l: &Limits) -> Vec<(libc::c_int, u64, &'static str)> {
    let wanted: [(libc::__rlimit_resource_t, u64, &str); 6] = [
        (libc::RLIMIT_AS, l.address_space, "address_space"),
        (libc::RLIMIT_NPROC, l.processes, "processes"),
        (libc::RLIMIT_NOFILE, l.open_files, "open_files"),
        (libc::RLIMIT_FSIZE, l.file_size, "file_size"),
        (libc::RLIMIT_CPU, l.cpu_seconds, "cpu_seconds"),
        (libc::RLIMIT_CORE, 0, "core"),
    ];
    wanted
        .into_iter()
        .map(|(res, v, name)| {
            let mut cur = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit fills a stack struct.
            let hard = if unsafe { libc::getrlimit(res, &mut cur) } == 0 {
                cur.rlim_max
            } else {
                libc::RLIM_INFINITY
            };
            (res as libc::c_int, v.min(hard), name)
        })
        .collect()
}

/// A per-run group in each usable cgroup v1 controller.
#[derive(Debug, Default)]
pub struct Cgroups {
    dirs: Vec<PathBuf>,
    /// Human-readable limits in force, e.g. "memory 2147483648".
    pub in_force: Vec<String>,
}

const V1_ROOT: &str = "/sys/fs/cgroup";

fn writable_dir(p: &Path) -> bool {
    let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap_or_default();
    // SAFETY: access on a valid C string.
    p.is_dir() && unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0
}

/// What cgroup support the host offers, for `doctor`.
pub fn detect() -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for c in ["memory", "pids", "cpu"] {
        let p = controller_dir(c);
        out.push((
            format!("cgroup v1 {c}"),
            p.join("cgroup.procs").exists() && writable_dir(&p),
        ));
    }
    let v2 = [
        "/sys/fs/cgroup/cgroup.controllers",
        "/sys/fs/cgroup/unified/cgroup.controllers",
    ]
    .iter()
    .find_map(|p| std::fs::read_to_string(p).ok())
    .unwrap_or_default();
    out.push((
        format!("cgroup v2 controllers [{}] (not used)", v2.trim()),
        false,
    ));
    out
}

/// The caller's own group in a v1 controller's hierarchy: runs nest below it, so limits
/// set on the caller still bind the sandbox.
fn controller_dir(controller: &str) -> PathBuf {
    let mine = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let rel = mine
        .lines()
        .filter_map(|l| {
            let mut f = l.splitn(3, ':');
            let (_, names, path) = (f.next()?, f.next()?, f.next()?);
            names
                .split(',')
                .any(|n| n == controller)
                .then(|| path.trim_start_matches('/').to_string())
        })
        .next()
        .unwrap_or_default();
    Path::new(V1_ROOT).join(controller).join(rel)
}

/// Removes groups left by runs whose airlock was killed (`airlock-<pid>-*` where the pid
/// is gone; rmdir succeeds only on an empty group).
fn remove_stale() {
    for c in ["memory", "pids", "cpu"] {
        let Ok(rd) = std::fs::read_dir(controller_dir(c)) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(pid) = name
                .strip_prefix("airlock-")
                .and_then(|r| r.split('-').next())
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            if !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir(e.path());
            }
        }
    }
}

impl Cgroups {
    /// Creates the groups and writes the limits; controllers that are absent or not
    /// writable are skipped (rlimits remain).
    pub fn create(l: &Limits, run_id: &str) -> Cgroups {
        let mut cg = Cgroups::default();
        if !l.cgroups {
            return cg;
        }
        // Groups are left behind only when airlock is killed: sweep for them on about one
        // run in sixteen (the sweep reads every group of three hierarchies).
        if run_id.ends_with('0') {
            remove_stale();
        }
        let memory = controller_dir("memory");
        if memory.join("cgroup.procs").exists() && writable_dir(&memory) {
            let d = memory.join(format!("airlock-{run_id}"));
            if std::fs::create_dir(&d).is_ok() {
                let ok =
                    std::fs::write(d.join("memory.limit_in_bytes"), l.memory_bytes.to_string())
                        .is_ok();
                // Without swap accounting this file is absent; memory.limit still holds.
                let _ = std::fs::write(
                    d.join("memory.memsw.limit_in_bytes"),
                    l.memory_bytes.to_string(),
                );
                let _ = std::fs::write(d.join("memory.swappiness"), "0");
                if ok {
                    cg.in_force
                        .push(format!("cgroup v1 memory {}", l.memory_bytes));
                }
                cg.dirs.push(d);
            }
        }
        let pids = controller_dir("pids");
        if pids.join("cgroup.procs").exists() && writable_dir(&pids) {
            let d = pids.join(format!("airlock-{run_id}"));
            if std::fs::create_dir(&d).is_ok() {
                if std::fs::write(d.join("pids.max"), l.processes.to_string()).is_ok() {
                    cg.in_force.push(format!("cgroup v1 pids {}", l.processes));
                }
                cg.dirs.push(d);
            }
        }
        let cpu = controller_dir("cpu");
        if l.cpus > 0.0 && cpu.join("cgroup.procs").exists() && writable_dir(&cpu) {
            let d = cpu.join(format!("airlock-{run_id}"));
            if std::fs::create_dir(&d).is_ok() {
                let period = 100_000u64;
                let quota = ((l.cpus * period as f64) as u64).max(1000);
                if std::fs::write(d.join("cpu.cfs_period_us"), period.to_string()).is_ok()
                    && std::fs::write(d.join("cpu.cfs_quota_us"), quota.to_string()).is_ok()
                {
                    cg.in_force
                        .push(format!("cgroup v1 cpu {:.2} cpus", l.cpus));
                }
                cg.dirs.push(d);
            }
        }
        cg
    }

    /// Moves `pid` into every group. Failing to attach is an error: the limits were promised.
    pub fn attach(&self, pid: libc::pid_t) -> Result<(), String> {
        for d in &self.dirs {
            std::fs::write(d.join("cgroup.procs"), pid.to_string())
                .map_err(|e| format!("attaching to {}: {e}", d.display()))?;
        }
        Ok(())
    }

    /// Removes the groups once every process in them is gone (waits up to ~1 s).
    pub fn remove(&mut self) {
        for d in self.dirs.drain(..) {
            for _ in 0..100 {
                if std::fs::remove_dir(&d).is_ok() || !d.exists() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    }

    /// Whether the memory group recorded an out-of-memory kill.
    pub fn oom_killed(&self) -> bool {
        self.dirs
            .iter()
            .filter(|d| d.to_string_lossy().contains("/memory/"))
            .filter_map(|d| std::fs::read_to_string(d.join("memory.oom_control")).ok())
            .any(|s| {
                s.lines()
                    .any(|l| l.starts_with("oom_kill ") && l.trim_end() != "oom_kill 0")
            })
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        self.remove();
    }
}
