//! `airlock doctor`: what this host supports, probed rather than assumed. A layer is
//! reported as in force only when a real sandboxed process observed it.

use serde::Serialize;

use crate::limits;
use crate::sys;

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

fn check(name: &str, ok: bool, detail: impl Into<String>) -> Check {
    Check {
        name: name.into(),
        ok,
        detail: detail.into(),
    }
}

fn read(p: &str) -> Option<String> {
    std::fs::read_to_string(p)
        .ok()
        .map(|s| s.trim().to_string())
}

/// Static facts about the host. `required` checks are those `run` cannot do without.
pub fn host_checks() -> Vec<Check> {
    let mut v = Vec::new();
    let max_userns = read("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    let apparmor = read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns");
    v.push(check(
        "user namespaces",
        max_userns != "0" && apparmor.as_deref() != Some("1"),
        match apparmor.as_deref() {
            Some("1") => "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1); add an AppArmor profile with `userns,` for airlock".to_string(),
            _ => format!("user.max_user_namespaces = {max_userns}"),
        },
    ));
    let abi = sys::landlock_abi();
    v.push(check(
        "landlock",
        abi >= crate::runner::MIN_LANDLOCK_ABI,
        if abi == 0 {
            "absent or not in the LSM list; run refuses to start".to_string()
        } else {
            format!(
                "ABI {abi}: filesystem{}{}",
                if abi >= 4 { ", TCP connect" } else { "" },
                if abi >= 6 {
                    ", scopes (abstract sockets, signals)"
                } else {
                    ""
                }
            )
        },
    ));
    let seccomp = read("/proc/self/status")
        .map(|s| s.lines().any(|l| l.starts_with("Seccomp:")))
        .unwrap_or(false);
    v.push(check(
        "seccomp",
        seccomp,
        if seccomp {
            "filter mode available"
        } else {
            "kernel without seccomp"
        },
    ));
    let x32 = std::path::Path::new("/proc/sys/abi/x32").exists();
    v.push(check(
        "x32 guard",
        true,
        if x32 {
            "x32 ABI present; the filter's guard refuses it"
        } else {
            "x32 ABI absent; the filter's guard refuses it anyway"
        },
    ));
    for (name, ok) in limits::detect() {
        v.push(check(
            &name,
            ok,
            if ok {
                "usable"
            } else {
                "not usable; rlimits remain"
            },
        ));
    }
    v
}

/// Runs a real sandboxed process and reads back, from inside, what was in force.
pub fn probe() -> Vec<Check> {
    let dir = std::env::temp_dir().join(format!("airlock-doctor-{}", std::process::id()));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        return vec![check(
            "sandboxed probe",
            false,
            format!("cannot create {}: {e}", dir.display()),
        )];
    }
    let profile = crate::Profile::new(&dir, &dir);
    let result = crate::run(
        &profile,
        "/bin/sh",
        &["-c".into(), "grep -E '^(Uid|CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; test -s /etc/shadow && cat /etc/shadow >/dev/null 2>&1 && echo shadow-readable".into()],
    );
    let _ = std::fs::remove_dir_all(&dir);
    let out = match result {
        Ok(o) if o.status == 0 || o.status == 1 => o,
        Ok(o) => {
            return vec![check(
                "sandboxed probe",
                false,
                format!(
                    "exit {}: {}",
                    o.status,
                    String::from_utf8_lossy(&o.stderr).trim()
                ),
            )];
        }
        Err(e) => return vec![check("sandboxed probe", false, e.to_string())],
    };
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |k: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(k)
                    .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
            })
            .unwrap_or_default()
    };
    let mut v = vec![check(
        "sandboxed probe",
        true,
        format!("ran in {:.1} ms", out.duration_ms),
    )];
    let uid = field("Uid:");
    v.push(check(
        "unprivileged uid",
        uid == "65534",
        format!("uid inside: {uid}"),
    ));
    let capeff = field("CapEff:");
    let capbnd = field("CapBnd:");
    v.push(check(
        "no capabilities",
        capeff.trim_start_matches('0').is_empty() && capbnd.trim_start_matches('0').is_empty(),
        format!("CapEff {capeff}, CapBnd {capbnd}"),
    ));
    let nnp = field("NoNewPrivs:");
    v.push(check(
        "no_new_privs",
        nnp == "1",
        format!("NoNewPrivs {nnp}"),
    ));
    let sc = field("Seccomp:");
    v.push(check(
        "seccomp in force",
        sc == "2",
        format!("Seccomp mode {sc}"),
    ));
    v.push(check(
        "secrets masked",
        !text.contains("shadow-readable"),
        "/etc/shadow unreadable inside",
    ));
    // SAFETY: plain getter.
    let root = unsafe { libc::geteuid() } == 0;
    v.push(check(
        "workspace mapping",
        !root || out.layers.idmapped_workspace,
        if root {
            "airlock runs as root: the probe's workspace was an id-mapped mount (the sandbox uid 65534 writes as the owner)"
                .to_string()
        } else {
            format!("airlock runs unprivileged: the sandbox uid maps onto uid {}", out.layers.host_uid)
        },
    ));
    v.push(check(
        "landlock in force",
        out.layers.landlock_abi >= crate::runner::MIN_LANDLOCK_ABI,
        format!("restricted with ABI {}", out.layers.landlock_abi),
    ));
    v
}
