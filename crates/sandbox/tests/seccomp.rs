//! Real-kernel tests for the seccomp filter.
//!
//! Every probe runs in a forked child: the child optionally installs the filter, performs
//! the probe with raw syscalls and `_exit`s with a code encoding the outcome (0 = success,
//! otherwise the errno; codes >= 200 are harness failures). Each denial is paired with a
//! control run of the same probe without the filter, to show that the errno comes from the
//! filter and not from the kernel or the environment. The tests expect to run as root.

#![cfg(all(target_os = "linux", target_arch = "x86_64"))]

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use sandbox::seccomp::{Filter, FilterOptions, rules_summary};

const OK: i32 = 0;
const INSTALL_FAILED: i32 = 250;
const PANICKED: i32 = 251;

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Outcome {
    Exited(i32),
    Signaled(i32),
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// 0 if the raw syscall result is non-negative, else errno.
fn sys(r: libc::c_long) -> i32 {
    if r < 0 { errno() } else { OK }
}

fn filter(allow_inet: bool) -> Filter {
    Filter::build(&FilterOptions { allow_inet })
}

/// Forks; in the child runs `setup` (unfiltered), installs `filter` if any, runs `probe`
/// and exits with its result.
fn fork_probe(
    setup: &dyn Fn() -> i32,
    filter: Option<&Filter>,
    probe: &dyn Fn() -> i32,
) -> Outcome {
    // SAFETY: the child only runs the probe and `_exit`s; it never returns into the
    // test harness.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed: {}", errno());
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let s = setup();
            if s != OK {
                return 200 + s.min(49);
            }
            if let Some(f) = filter
                && f.install().is_err()
            {
                return INSTALL_FAILED;
            }
            probe()
        }))
        .unwrap_or(PANICKED);
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    loop {
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        if r == pid {
            break;
        }
        assert!(
            r < 0 && errno() == libc::EINTR,
            "waitpid failed: {}",
            errno()
        );
    }
    if libc::WIFEXITED(status) {
        let code = libc::WEXITSTATUS(status);
        assert!(
            code != INSTALL_FAILED && code != PANICKED,
            "child harness failure: {code}"
        );
        Outcome::Exited(code)
    } else if libc::WIFSIGNALED(status) {
        Outcome::Signaled(libc::WTERMSIG(status))
    } else {
        panic!("unexpected wait status {status:#x}");
    }
}

fn no_setup() -> i32 {
    OK
}

/// Runs `probe` with and without the filter; returns (without, with) exit codes.
fn both(f: &Filter, probe: &dyn Fn() -> i32) -> (i32, i32) {
    both_with_setup(f, &no_setup, probe)
}

fn both_with_setup(f: &Filter, setup: &dyn Fn() -> i32, probe: &dyn Fn() -> i32) -> (i32, i32) {
    let code = |o: Outcome| match o {
        Outcome::Exited(c) => c,
        Outcome::Signaled(s) => panic!("child killed by signal {s}"),
    };
    (
        code(fork_probe(setup, None, probe)),
        code(fork_probe(setup, Some(f), probe)),
    )
}

/// Asserts the filtered probe fails with `want` and the unfiltered control does not.
#[track_caller]
fn assert_denied(what: &str, f: &Filter, want: i32, probe: &dyn Fn() -> i32) {
    let (without, with) = both(f, probe);
    assert_eq!(with, want, "{what}: with filter");
    assert_ne!(without, want, "{what}: control without filter");
}

fn with_filter(f: &Filter, probe: &dyn Fn() -> i32) -> i32 {
    match fork_probe(&no_setup, Some(f), probe) {
        Outcome::Exited(c) => c,
        Outcome::Signaled(s) => panic!("child killed by signal {s}"),
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "airlock-seccomp-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn cstr(p: &Path) -> CString {
    CString::new(p.as_os_str().as_bytes()).unwrap()
}

fn mode_of(p: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::symlink_metadata(p)
        .ok()
        .map(|m| m.permissions().mode())
}

fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

// ---------------------------------------------------------------------------------------

#[test]
fn program_length_is_bounded() {
    for allow_inet in [false, true] {
        let f = filter(allow_inet);
        println!(
            "seccomp filter (allow_inet={allow_inet}): {} instructions",
            f.len()
        );
        assert!(f.len() < 4096);
        assert!(f.len() > 100);
        assert!(!f.is_empty());
    }
}

#[test]
fn rules_summary_names_the_denials() {
    let s = rules_summary();
    for name in [
        "ptrace",
        "clone3",
        "clone",
        "mount",
        "io_uring_setup",
        "socket",
    ] {
        assert!(s.iter().any(|&(n, _)| n == name), "{name} missing");
    }
    assert!(s.contains(&("ptrace", "EPERM")));
}

#[test]
fn install_sets_no_new_privs_and_stacks() {
    let f = filter(false);
    let r = with_filter(&f, &|| {
        if unsafe { libc::prctl(libc::PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) } != 1 {
            return 1;
        }
        // Installing a second time is allowed (filters stack).
        if f.install().is_err() {
            return 2;
        }
        let mode = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) };
        if mode != 2 {
            return 3;
        }
        OK
    });
    assert_eq!(r, OK);
}

#[test]
fn foreign_arch_kills_process() {
    fn int80_getpid() -> i64 {
        let mut ret: i64 = 20; // __NR_getpid on i386
        // SAFETY: a compat-ABI getpid; it touches no memory.
        unsafe {
            std::arch::asm!(
                "int 0x80",
                inout("rax") ret,
                out("r8") _, out("r9") _, out("r10") _, out("r11") _,
                options(nostack)
            );
        }
        ret
    }
    let probe = || {
        if int80_getpid() == i64::from(unsafe { libc::getpid() }) {
            OK
        } else {
            1
        }
    };
    let f = filter(false);
    match fork_probe(&no_setup, None, &probe) {
        Outcome::Exited(OK) => {}
        other => {
            eprintln!("skipping: no IA-32 emulation ({other:?})");
            return;
        }
    }
    assert_eq!(
        fork_probe(&no_setup, Some(&f), &probe),
        Outcome::Signaled(libc::SIGSYS)
    );
}

#[test]
fn x32_abi_gets_eperm() {
    let f = filter(false);
    let (without, with) = both(&f, &|| {
        sys(unsafe { libc::syscall(0x4000_0000 | libc::SYS_getpid) })
    });
    // ENOSYS on kernels without x32 support (like the one the suite was written on);
    // a kernel with x32 would run the call.
    assert!(
        without == libc::ENOSYS || without == OK,
        "x32 control: {without}"
    );
    assert_eq!(with, libc::EPERM);
}

#[test]
fn ptrace_traceme_denied() {
    let f = filter(false);
    let (without, with) = both(&f, &|| {
        sys(unsafe { libc::syscall(libc::SYS_ptrace, libc::PTRACE_TRACEME, 0, 0, 0) })
    });
    assert_eq!(without, OK);
    assert_eq!(with, libc::EPERM);
}

#[test]
fn io_uring_setup_denied() {
    let f = filter(false);
    let (without, with) = both(&f, &|| {
        let mut params = [0u64; 15]; // struct io_uring_params, 120 bytes
        sys(unsafe { libc::syscall(libc::SYS_io_uring_setup, 1, params.as_mut_ptr()) })
    });
    // kernel.io_uring_disabled=2 refuses io_uring to everyone, root included.
    let disabled = std::fs::read_to_string("/proc/sys/kernel/io_uring_disabled")
        .is_ok_and(|s| s.trim() == "2");
    if disabled {
        println!("io_uring disabled by sysctl; control inconclusive ({without})");
    } else {
        assert_eq!(without, OK);
    }
    assert_eq!(with, libc::EPERM);
}

#[test]
fn terminal_injection_ioctls_denied() {
    let f = filter(false);
    for cmd in [libc::TIOCSTI, libc::TIOCLINUX] {
        let (without, with) = both(&f, &|| {
            let mut fds = [0; 2];
            if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
                return 201;
            }
            let c = 0u8;
            sys(unsafe { libc::syscall(libc::SYS_ioctl, fds[0], cmd, &c as *const u8) })
        });
        assert_eq!(without, libc::ENOTTY, "ioctl {cmd:#x} without filter");
        assert_eq!(with, libc::EPERM, "ioctl {cmd:#x} with filter");
    }
    // Other ioctls pass.
    let r = with_filter(&f, &|| {
        let mut fds = [0; 2];
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return 201;
        }
        let mut n: libc::c_int = -1;
        let r = sys(unsafe { libc::ioctl(fds[0], libc::FIONREAD, &mut n) }.into());
        if r == OK && n == 0 { OK } else { 1 }
    });
    assert_eq!(r, OK);
}

#[test]
fn clone3_and_openat2_get_enosys() {
    let f = filter(false);
    let (without, with) = both(&f, &|| {
        sys(unsafe { libc::syscall(libc::SYS_clone3, std::ptr::null::<u8>(), 0usize) })
    });
    assert_eq!(without, libc::EINVAL);
    assert_eq!(with, libc::ENOSYS);

    let root = c"/";
    let (without, with) = both(&f, &|| {
        // struct open_how { u64 flags; u64 mode; u64 resolve; }
        let how = [(libc::O_RDONLY | libc::O_DIRECTORY) as u64, 0, 0];
        sys(unsafe {
            libc::syscall(
                libc::SYS_openat2,
                libc::AT_FDCWD,
                root.as_ptr(),
                how.as_ptr(),
                std::mem::size_of_val(&how),
            )
        })
    });
    assert_eq!(without, OK);
    assert_eq!(with, libc::ENOSYS);
}

/// Raw `clone(flags, 0 stack)`: the new process `_exit(0)`s at once; the caller reaps it.
fn raw_clone(flags: libc::c_int) -> i32 {
    let r = unsafe {
        libc::syscall(
            libc::SYS_clone,
            (flags | libc::SIGCHLD) as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    if r == 0 {
        unsafe { libc::_exit(0) };
    }
    if r < 0 {
        return errno();
    }
    let mut status = 0;
    if unsafe { libc::waitpid(r as libc::pid_t, &mut status, 0) } != r as libc::pid_t {
        return 202;
    }
    if libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0 {
        OK
    } else {
        203
    }
}

#[test]
fn clone_with_namespace_flags_denied() {
    let f = filter(false);
    let (without, with) = both(&f, &|| raw_clone(libc::CLONE_NEWUSER));
    assert_eq!(without, OK);
    assert_eq!(with, libc::EPERM);

    for (name, flag) in [
        ("CLONE_NEWNS", libc::CLONE_NEWNS),
        ("CLONE_NEWUTS", libc::CLONE_NEWUTS),
        ("CLONE_NEWIPC", libc::CLONE_NEWIPC),
        ("CLONE_NEWPID", libc::CLONE_NEWPID),
        ("CLONE_NEWNET", libc::CLONE_NEWNET),
        ("CLONE_NEWCGROUP", libc::CLONE_NEWCGROUP),
        // For clone() this bit overlaps the exit-signal byte, so the kernel says EINVAL.
        ("CLONE_NEWTIME", libc::CLONE_NEWTIME),
    ] {
        assert_denied(name, &f, libc::EPERM, &|| raw_clone(flag));
    }

    // A plain fork-style clone is fine.
    assert_eq!(with_filter(&f, &|| raw_clone(0)), OK);
}

#[test]
fn unshare_and_setns_denied() {
    let f = filter(false);
    let (without, with) = both(&f, &|| {
        sys(unsafe { libc::unshare(libc::CLONE_NEWNS) }.into())
    });
    assert_eq!(without, OK);
    assert_eq!(with, libc::EPERM);

    let ns = c"/proc/self/ns/uts";
    let (without, with) = both(&f, &|| {
        let fd = unsafe { libc::open(ns.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return 201;
        }
        sys(unsafe { libc::setns(fd, libc::CLONE_NEWUTS) }.into())
    });
    assert_eq!(without, OK);
    assert_eq!(with, libc::EPERM);
}

#[test]
fn mount_and_umount_denied() {
    let f = filter(false);
    let dir = TempDir::new("mount");
    let target = cstr(&dir.0);
    // A private mount namespace, entered before the filter, so a control mount never
    // reaches the host.
    let setup = || {
        if unsafe { libc::unshare(libc::CLONE_NEWNS) } != 0 {
            return 1;
        }
        let r = unsafe {
            libc::mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            )
        };
        if r != 0 { 2 } else { OK }
    };
    let (without, with) = both_with_setup(&f, &setup, &|| {
        let r = unsafe {
            libc::mount(
                c"tmpfs".as_ptr(),
                target.as_ptr(),
                c"tmpfs".as_ptr(),
                0,
                std::ptr::null(),
            )
        };
        if r != 0 {
            return errno();
        }
        sys(unsafe { libc::umount2(target.as_ptr(), 0) }.into())
    });
    assert_eq!(without, OK);
    assert_eq!(with, libc::EPERM);

    let (without, with) = both_with_setup(&f, &setup, &|| {
        sys(unsafe { libc::umount2(target.as_ptr(), 0) }.into())
    });
    assert_eq!(without, libc::EINVAL, "not a mount point");
    assert_eq!(with, libc::EPERM);
}

#[test]
fn personality_changes_denied_queries_allowed() {
    let f = filter(false);
    let (without, with) = both(&f, &|| {
        sys(unsafe { libc::personality(libc::ADDR_NO_RANDOMIZE as libc::c_ulong) }.into())
    });
    assert_eq!(without, OK);
    assert_eq!(with, libc::EPERM);
    let r = with_filter(&f, &|| {
        let cur = unsafe { libc::personality(0xffff_ffff) };
        if cur < 0 {
            return errno();
        }
        sys(unsafe { libc::personality(cur as libc::c_ulong) }.into())
    });
    assert_eq!(r, OK, "query and re-setting PER_LINUX (0)");
}

/// Syscalls denied outright, called with harmless arguments (invalid pointers, fds or
/// magic numbers), so the control run cannot do damage.
/// Calls a hardened kernel may refuse to root as well (kexec_load_disabled,
/// modules_disabled, lockdown); for these an EPERM control is reported, not failed.
const ENV_MAY_DENY: &[&str] = &[
    "kexec_load",
    "kexec_file_load",
    "init_module",
    "finit_module",
    "delete_module",
    "iopl",
    "ioperm",
];

#[test]
fn always_denied_syscalls_get_eperm() {
    let f = filter(false);
    let null = 0usize;
    let nofile = c"/nonexistent/airlock-seccomp";
    let nf = nofile.as_ptr() as usize;
    let neg = -1isize as usize;
    let probes: &[(&str, libc::c_long, [usize; 6])] = &[
        ("process_vm_readv", libc::SYS_process_vm_readv, [0; 6]),
        ("process_vm_writev", libc::SYS_process_vm_writev, [0; 6]),
        ("pidfd_getfd", libc::SYS_pidfd_getfd, [neg, neg, 0, 0, 0, 0]),
        ("pivot_root", libc::SYS_pivot_root, [nf, nf, 0, 0, 0, 0]),
        ("fsopen", libc::SYS_fsopen, [null, 0, 0, 0, 0, 0]),
        ("fsconfig", libc::SYS_fsconfig, [neg, 0, 0, 0, 0, 0]),
        ("fsmount", libc::SYS_fsmount, [neg, 0, 0, 0, 0, 0]),
        ("fspick", libc::SYS_fspick, [neg, nf, 0, 0, 0, 0]),
        ("move_mount", libc::SYS_move_mount, [neg, nf, neg, nf, 0, 0]),
        ("open_tree", libc::SYS_open_tree, [neg, nf, 0, 0, 0, 0]),
        ("open_tree_attr", 467, [neg, nf, 0, 0, 0, 0]),
        (
            "mount_setattr",
            libc::SYS_mount_setattr,
            [neg, nf, 0, 0, 0, 0],
        ),
        ("bpf", libc::SYS_bpf, [neg, 0, 0, 0, 0, 0]),
        ("add_key", libc::SYS_add_key, [null, null, 0, 0, 0, 0]),
        (
            "request_key",
            libc::SYS_request_key,
            [null, null, 0, 0, 0, 0],
        ),
        ("keyctl", libc::SYS_keyctl, [neg, 0, 0, 0, 0, 0]),
        (
            "perf_event_open",
            libc::SYS_perf_event_open,
            [null, 0, neg, neg, 0, 0],
        ),
        (
            "userfaultfd",
            libc::SYS_userfaultfd,
            [libc::O_CLOEXEC as usize, 0, 0, 0, 0, 0],
        ),
        ("kexec_load", libc::SYS_kexec_load, [0, 0, 0, neg, 0, 0]),
        (
            "kexec_file_load",
            libc::SYS_kexec_file_load,
            [neg, neg, 0, 0, neg, 0],
        ),
        (
            "init_module",
            libc::SYS_init_module,
            [null, 0, null, 0, 0, 0],
        ),
        (
            "finit_module",
            libc::SYS_finit_module,
            [neg, null, 0, 0, 0, 0],
        ),
        (
            "delete_module",
            libc::SYS_delete_module,
            [nf, 0, 0, 0, 0, 0],
        ),
        (
            "io_uring_enter",
            libc::SYS_io_uring_enter,
            [neg, 0, 0, 0, 0, 0],
        ),
        (
            "io_uring_register",
            libc::SYS_io_uring_register,
            [neg, 0, 0, 0, 0, 0],
        ),
        ("acct", libc::SYS_acct, [nf, 0, 0, 0, 0, 0]),
        ("quotactl", libc::SYS_quotactl, [0, nf, 0, 0, 0, 0]),
        ("quotactl_fd", libc::SYS_quotactl_fd, [neg, 0, 0, 0, 0, 0]),
        ("reboot", libc::SYS_reboot, [0, 0, 0, 0, 0, 0]),
        ("swapon", libc::SYS_swapon, [nf, 0, 0, 0, 0, 0]),
        ("swapoff", libc::SYS_swapoff, [nf, 0, 0, 0, 0, 0]),
        (
            "name_to_handle_at",
            libc::SYS_name_to_handle_at,
            [neg, nf, 0, 0, 0, 0],
        ),
        (
            "open_by_handle_at",
            libc::SYS_open_by_handle_at,
            [neg, null, 0, 0, 0, 0],
        ),
        ("lookup_dcookie", libc::SYS_lookup_dcookie, [0; 6]),
        ("syslog", libc::SYS_syslog, [10, 0, 0, 0, 0, 0]), // SYSLOG_ACTION_SIZE_BUFFER
        ("iopl", libc::SYS_iopl, [0; 6]),
        ("ioperm", libc::SYS_ioperm, [0; 6]),
        ("chroot", libc::SYS_chroot, [nf, 0, 0, 0, 0, 0]),
        (
            "settimeofday",
            libc::SYS_settimeofday,
            [null, null, 0, 0, 0, 0],
        ),
        (
            "clock_settime",
            libc::SYS_clock_settime,
            [neg, null, 0, 0, 0, 0],
        ),
        (
            "clock_adjtime",
            libc::SYS_clock_adjtime,
            [neg, null, 0, 0, 0, 0],
        ),
        ("adjtimex", libc::SYS_adjtimex, [null, 0, 0, 0, 0, 0]),
        ("nfsservctl", libc::SYS_nfsservctl, [0; 6]),
        ("uselib", libc::SYS_uselib, [nf, 0, 0, 0, 0, 0]),
        ("_sysctl", libc::SYS__sysctl, [null, 0, 0, 0, 0, 0]),
    ];
    let mut report = Vec::new();
    for &(name, nr, a) in probes {
        let (without, with) = both(&f, &|| {
            sys(unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) })
        });
        report.push(format!("{name}: without={without} with={with}"));
        assert_eq!(with, libc::EPERM, "{name} with filter");
        if without == libc::EPERM && ENV_MAY_DENY.contains(&name) {
            report.push(format!(
                "  {name}: denied by this kernel's configuration too"
            ));
        } else {
            assert_ne!(without, libc::EPERM, "{name} control without filter");
        }
    }
    // vhangup in a fresh session (no controlling terminal), so the control is a no-op.
    let (without, with) = both_with_setup(
        &f,
        &|| if unsafe { libc::setsid() } < 0 { 1 } else { OK },
        &|| sys(unsafe { libc::syscall(libc::SYS_vhangup) }),
    );
    report.push(format!("vhangup: without={without} with={with}"));
    assert_eq!(with, libc::EPERM);
    assert_ne!(without, libc::EPERM);
    println!("{}", report.join("\n"));
}

#[test]
fn setid_chmod_denied() {
    let f = filter(false);
    let dir = TempDir::new("chmod");
    let file = dir.path("f");
    std::fs::write(&file, b"x").unwrap();
    let c = cstr(&file);

    type Probe<'a> = (&'a str, Box<dyn Fn(u32) -> i32 + 'a>);
    let probes: Vec<Probe> = vec![
        (
            "chmod",
            Box::new(|m| sys(unsafe { libc::syscall(libc::SYS_chmod, c.as_ptr(), m) })),
        ),
        (
            "fchmod",
            Box::new(|m| {
                let fd = unsafe { libc::open(c.as_ptr(), libc::O_RDONLY) };
                if fd < 0 {
                    return 201;
                }
                sys(unsafe { libc::syscall(libc::SYS_fchmod, fd, m) })
            }),
        ),
        (
            "fchmodat",
            Box::new(|m| {
                sys(unsafe { libc::syscall(libc::SYS_fchmodat, libc::AT_FDCWD, c.as_ptr(), m) })
            }),
        ),
        (
            "fchmodat2",
            Box::new(|m| {
                sys(unsafe { libc::syscall(libc::SYS_fchmodat2, libc::AT_FDCWD, c.as_ptr(), m, 0) })
            }),
        ),
    ];
    for (name, probe) in &probes {
        for bits in [0o4000, 0o2000] {
            set_mode(&file, 0o644);
            let mode = 0o755 | bits;
            let without = match fork_probe(&no_setup, None, &|| probe(mode)) {
                Outcome::Exited(c) => c,
                o => panic!("{o:?}"),
            };
            assert_eq!(without, OK, "{name} {mode:o} without filter");
            assert_eq!(mode_of(&file).unwrap() & 0o7777, mode, "{name}: bit set");

            set_mode(&file, 0o644);
            assert_eq!(
                with_filter(&f, &|| probe(mode)),
                libc::EPERM,
                "{name} {mode:o}"
            );
            assert_eq!(mode_of(&file).unwrap() & 0o7777, 0o644, "{name}: unchanged");
        }
        // Ordinary modes pass.
        assert_eq!(with_filter(&f, &|| probe(0o600)), OK, "{name} 0600");
        assert_eq!(mode_of(&file).unwrap() & 0o7777, 0o600);
    }
}

#[test]
fn setid_create_denied() {
    let f = filter(false);
    let dir = TempDir::new("create");
    type Probe = (&'static str, fn(&CString, u32) -> i32);
    let probes: [Probe; 3] = [
        ("open", |p, m| {
            let fl = libc::O_CREAT | libc::O_WRONLY | libc::O_EXCL;
            sys(unsafe { libc::syscall(libc::SYS_open, p.as_ptr(), fl, m) })
        }),
        ("openat", |p, m| {
            let fl = libc::O_CREAT | libc::O_WRONLY | libc::O_EXCL;
            sys(unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, p.as_ptr(), fl, m) })
        }),
        ("creat", |p, m| {
            sys(unsafe { libc::syscall(libc::SYS_creat, p.as_ptr(), m) })
        }),
    ];
    for (name, probe) in probes {
        for mode in [0o4755, 0o2755] {
            let p1 = dir.path(&format!("{name}-{mode:o}-control"));
            let c1 = cstr(&p1);
            let setup = || {
                unsafe { libc::umask(0o022) };
                OK
            };
            let o = fork_probe(&setup, None, &|| probe(&c1, mode));
            assert_eq!(o, Outcome::Exited(OK), "{name} {mode:o} without filter");
            assert_eq!(
                mode_of(&p1).unwrap() & 0o7777,
                mode,
                "{name}: created set-id"
            );

            let p2 = dir.path(&format!("{name}-{mode:o}-filtered"));
            let c2 = cstr(&p2);
            let o = fork_probe(&setup, Some(&f), &|| probe(&c2, mode));
            assert_eq!(o, Outcome::Exited(libc::EPERM), "{name} {mode:o}");
            assert_eq!(mode_of(&p2), None, "{name}: nothing created");
        }
        let p3 = dir.path(&format!("{name}-plain"));
        let c3 = cstr(&p3);
        assert_eq!(with_filter(&f, &|| probe(&c3, 0o644)), OK, "{name} 0644");
        assert!(mode_of(&p3).is_some());
    }
}

#[test]
fn setid_mkdir_denied() {
    let f = filter(false);
    let dir = TempDir::new("mkdir");
    type Probe = (&'static str, fn(&CString, u32) -> i32);
    let probes: [Probe; 2] = [
        ("mkdir", |p, m| {
            sys(unsafe { libc::syscall(libc::SYS_mkdir, p.as_ptr(), m) })
        }),
        ("mkdirat", |p, m| {
            sys(unsafe { libc::syscall(libc::SYS_mkdirat, libc::AT_FDCWD, p.as_ptr(), m) })
        }),
    ];
    for (name, probe) in probes {
        for mode in [0o4755, 0o2755] {
            let p1 = cstr(&dir.path(&format!("{name}-{mode:o}-control")));
            let (without, _) = both(&f, &|| probe(&p1, mode));
            assert_eq!(without, OK, "{name} {mode:o} without filter");
            let p2 = dir.path(&format!("{name}-{mode:o}-filtered"));
            let c2 = cstr(&p2);
            assert_eq!(with_filter(&f, &|| probe(&c2, mode)), libc::EPERM, "{name}");
            assert_eq!(mode_of(&p2), None);
        }
        let p3 = dir.path(&format!("{name}-plain"));
        let c3 = cstr(&p3);
        assert_eq!(with_filter(&f, &|| probe(&c3, 0o755)), OK, "{name} 0755");
        assert!(p3.is_dir());
    }
}

#[test]
fn device_nodes_and_setid_mknod_denied() {
    let f = filter(false);
    let dir = TempDir::new("mknod");
    let dev = libc::makedev(1, 3); // /dev/null
    type Probe = (&'static str, fn(&CString, u32, libc::dev_t) -> i32);
    let probes: [Probe; 2] = [
        ("mknod", |p, m, d| {
            sys(unsafe { libc::syscall(libc::SYS_mknod, p.as_ptr(), m, d) })
        }),
        ("mknodat", |p, m, d| {
            sys(unsafe { libc::syscall(libc::SYS_mknodat, libc::AT_FDCWD, p.as_ptr(), m, d) })
        }),
    ];
    for (name, probe) in probes {
        for (kind, mode) in [
            ("chr", libc::S_IFCHR | 0o600),
            ("blk", libc::S_IFBLK | 0o600),
            ("setuid-reg", libc::S_IFREG | 0o4755),
            ("setgid-fifo", libc::S_IFIFO | 0o2755),
        ] {
            let p1 = dir.path(&format!("{name}-{kind}-control"));
            let c1 = cstr(&p1);
            let o = fork_probe(&no_setup, None, &|| probe(&c1, mode, dev));
            assert_eq!(o, Outcome::Exited(OK), "{name} {kind} without filter");
            assert!(mode_of(&p1).is_some());

            let p2 = dir.path(&format!("{name}-{kind}-filtered"));
            let c2 = cstr(&p2);
            let r = with_filter(&f, &|| probe(&c2, mode, dev));
            assert_eq!(r, libc::EPERM, "{name} {kind}");
            assert_eq!(mode_of(&p2), None);
        }
        for (kind, mode) in [
            ("fifo", libc::S_IFIFO | 0o600),
            ("reg", libc::S_IFREG | 0o644),
        ] {
            let p = dir.path(&format!("{name}-{kind}-ok"));
            let c = cstr(&p);
            assert_eq!(with_filter(&f, &|| probe(&c, mode, 0)), OK, "{name} {kind}");
        }
    }
}

fn socket(domain: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> i32 {
    sys(unsafe { libc::syscall(libc::SYS_socket, domain, ty, proto) })
}

#[test]
fn exotic_socket_families_denied() {
    let f = filter(true);
    let eth_p_all = (libc::ETH_P_ALL as u16).to_be() as libc::c_int;
    // (name, domain, type, protocol, whether the control must succeed). AF_PACKET is in
    // every kernel that runs the sandbox; the others depend on kernel config, so when the
    // family is missing the control is reported as inconclusive rather than failed.
    let cases: &[(&str, libc::c_int, libc::c_int, libc::c_int, bool)] = &[
        (
            "AF_PACKET",
            libc::AF_PACKET,
            libc::SOCK_RAW,
            eth_p_all,
            true,
        ),
        ("AF_VSOCK", libc::AF_VSOCK, libc::SOCK_STREAM, 0, false),
        ("AF_ALG", libc::AF_ALG, libc::SOCK_SEQPACKET, 0, false),
        ("AF_KEY", libc::AF_KEY, libc::SOCK_RAW, 2, false),
        ("AF_XDP", libc::AF_XDP, libc::SOCK_RAW, 0, false),
        ("AF_CAN", libc::AF_CAN, libc::SOCK_RAW, 1, false),
        ("AF_BLUETOOTH", libc::AF_BLUETOOTH, libc::SOCK_RAW, 0, false),
        ("AF_TIPC", libc::AF_TIPC, libc::SOCK_RDM, 0, false),
    ];
    for &(name, dom, ty, proto, required) in cases {
        let (without, with) = both(&f, &|| socket(dom, ty, proto));
        assert_eq!(with, libc::EAFNOSUPPORT, "{name} with filter");
        if without == libc::EAFNOSUPPORT && !required {
            println!("{name}: family not in this kernel; control inconclusive");
        } else {
            println!("{name}: without={without} with={with}");
            assert_eq!(without, OK, "{name} control without filter");
        }
    }
    // socketpair goes through the same domain check.
    let (without, with) = both(&f, &|| {
        let mut sv = [0; 2];
        sys(unsafe {
            libc::syscall(
                libc::SYS_socketpair,
                libc::AF_PACKET,
                libc::SOCK_RAW,
                0,
                sv.as_mut_ptr(),
            )
        })
    });
    assert_eq!(with, libc::EAFNOSUPPORT);
    assert_ne!(without, libc::EAFNOSUPPORT);
}

#[test]
fn netlink_route_only() {
    let f = filter(false);
    let r = with_filter(&f, &|| {
        socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    });
    assert_eq!(r, OK);
    let (without, with) = both(&f, &|| {
        socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM,
            libc::NETLINK_KOBJECT_UEVENT,
        )
    });
    assert_eq!(without, OK);
    assert_eq!(with, libc::EPROTONOSUPPORT);
}

#[test]
fn unix_sockets_always_allowed() {
    for allow_inet in [false, true] {
        let f = filter(allow_inet);
        let r = with_filter(&f, &|| {
            let a = socket(libc::AF_UNIX, libc::SOCK_STREAM, 0);
            let mut sv = [0; 2];
            let b = sys(unsafe {
                libc::syscall(
                    libc::SYS_socketpair,
                    libc::AF_UNIX,
                    libc::SOCK_STREAM,
                    0,
                    sv.as_mut_ptr(),
                )
            });
            if a != OK {
                return a;
            }
            if b != OK {
                return b;
            }
            // And they work.
            let msg = b"hi";
            let mut buf = [0u8; 2];
            unsafe {
                if libc::write(sv[0], msg.as_ptr().cast(), 2) != 2 {
                    return 1;
                }
                if libc::read(sv[1], buf.as_mut_ptr().cast(), 2) != 2 {
                    return 2;
                }
            }
            if &buf == msg { OK } else { 3 }
        });
        assert_eq!(r, OK, "allow_inet={allow_inet}");
    }
}

#[test]
fn inet_sockets_follow_allow_inet() {
    let deny = filter(false);
    let allow = filter(true);
    for (name, dom) in [("AF_INET", libc::AF_INET), ("AF_INET6", libc::AF_INET6)] {
        let probe = || socket(dom, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        assert_eq!(with_filter(&allow, &probe), OK, "{name} allowed");
        let (without, with) = both(&deny, &probe);
        assert_eq!(without, OK, "{name} without filter");
        assert_eq!(with, libc::EAFNOSUPPORT, "{name} denied");
    }
    // With allow_inet, loopback TCP works end to end.
    let r = with_filter(&allow, &|| {
        use std::io::{Read, Write};
        let Ok(l) = std::net::TcpListener::bind("127.0.0.1:0") else {
            return 1;
        };
        let Ok(addr) = l.local_addr() else { return 2 };
        let Ok(mut c) = std::net::TcpStream::connect(addr) else {
            return 3;
        };
        let Ok((mut s, _)) = l.accept() else { return 4 };
        if c.write_all(b"ping").is_err() {
            return 5;
        }
        let mut buf = [0u8; 4];
        if s.read_exact(&mut buf).is_err() || &buf != b"ping" {
            return 6;
        }
        OK
    });
    assert_eq!(r, OK);
}

#[test]
fn ordinary_work_still_runs() {
    let f = filter(false);
    let dir = TempDir::new("work");
    let d = dir.0.clone();
    let r = with_filter(&f, &|| {
        use std::os::unix::fs::PermissionsExt;
        // fork+exec through std (glibc tries clone3, gets ENOSYS, falls back to clone).
        let out = match std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg("echo ok")
            .output()
        {
            Ok(o) => o,
            Err(_) => return 1,
        };
        if !out.status.success() || out.stdout != b"ok\n" {
            return 2;
        }
        // Threads (pthread_create also tries clone3 first).
        match std::thread::spawn(|| 40 + 2).join() {
            Ok(42) => {}
            _ => return 3,
        }
        // Files.
        let p = d.join("file");
        if std::fs::write(&p, b"hello").is_err() {
            return 4;
        }
        if std::fs::read(&p).ok().as_deref() != Some(&b"hello"[..]) {
            return 5;
        }
        if std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).is_err() {
            return 6;
        }
        if std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).is_err() {
            return 7;
        }
        let q = d.join("renamed");
        if std::fs::rename(&p, &q).is_err() {
            return 8;
        }
        let sub = d.join("sub/dir");
        if std::fs::create_dir_all(&sub).is_err() {
            return 9;
        }
        if std::fs::read_dir(&d).map(|r| r.count()).unwrap_or(0) != 2 {
            return 10;
        }
        if std::fs::remove_file(&q).is_err() || std::fs::remove_dir_all(d.join("sub")).is_err() {
            return 11;
        }
        // A shell pipeline with redirections and a subshell.
        let out = match std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg("cd \"$1\" && (echo a; echo b) > f && sort -r f | head -n1 && rm f")
            .arg("sh")
            .arg(&d)
            .output()
        {
            Ok(o) => o,
            Err(_) => return 12,
        };
        if !out.status.success() || out.stdout != b"b\n" {
            return 13;
        }
        // A plain fork() via libc.
        match unsafe { libc::fork() } {
            0 => unsafe { libc::_exit(0) },
            pid if pid > 0 => {
                let mut st = 0;
                unsafe { libc::waitpid(pid, &mut st, 0) };
                if !(libc::WIFEXITED(st) && libc::WEXITSTATUS(st) == 0) {
                    return 14;
                }
            }
            _ => return 15,
        }
        OK
    });
    assert_eq!(r, OK);
}
