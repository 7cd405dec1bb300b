//! The child side of a spawn: runs between `clone` and `execve` and so may only make
//! async-signal-safe calls. Everything it needs (paths, argv, environment, BPF, rule
//! lists) is prepared in the parent as a [`ChildPlan`]; nothing here allocates, formats
//! or panics. A failed step writes `(step, errno)` to the error pipe and exits, and the
//! parent turns that into a message: setup never half-succeeds into running code.

use std::ffi::CString;

use libc::{c_char, c_int, c_ulong};

use crate::seccomp::Filter;
use crate::sys;

/// Where the new root is assembled before `pivot_root`. Every bind source is opened as a
/// detached tree before this tmpfs covers the host's directory of the same name.
pub const STAGE: &str = "/tmp";

/// One step of building the sandbox's mount view, in order. Paths are absolute on the
/// host side, below [`STAGE`].
pub enum MountOp {
    Mkdir {
        path: CString,
        mode: u32,
    },
    Symlink {
        target: CString,
        path: CString,
    },
    /// An empty file to mount a file on.
    Touch {
        path: CString,
    },
    /// A hard link to `from` (placeholders share one inode).
    Link {
        from: CString,
        path: CString,
    },
    /// A small file with fixed contents (in the staging root, before it turns read-only).
    WriteFile {
        path: CString,
        data: Vec<u8>,
    },
    Tmpfs {
        path: CString,
        flags: c_ulong,
        data: CString,
    },
    /// Attach source tree number `source` at `path`.
    Attach {
        source: usize,
        path: CString,
    },
    Proc {
        path: CString,
    },
    /// Bind `path` over itself and make that mount read-only (skipped when `optional`
    /// and the path does not exist).
    ReadOnly {
        path: CString,
        optional: bool,
    },
    /// Bind `path` onto itself (same flags), so that it is a mount point: renaming or
    /// removing it then fails with EBUSY.
    Pin {
        path: CString,
    },
    /// Cover a file with the empty read-only file at `empty`.
    MaskFile {
        empty: CString,
        path: CString,
    },
    /// Cover a directory with an empty read-only tmpfs.
    MaskDir {
        path: CString,
    },
    Overlay {
        path: CString,
        data: CString,
    },
    /// Open `path` as a directory and keep the fd to send to the parent (overlay upper).
    KeepDir {
        path: CString,
    },
    /// Lazily unmount a staging mount that is no longer needed in the view.
    Detach {
        path: CString,
    },
}

/// A tree to clone from the host view (or one the parent already made, e.g. id-mapped).
pub struct Source {
    pub path: CString,
    pub attr: u64,
    /// An fd prepared by the parent; `path` is then only for messages.
    pub parent_fd: Option<c_int>,
}

pub struct LandlockPlan {
    pub handled_fs: u64,
    pub handled_net: u64,
    pub scoped: u64,
    /// `size` argument for `landlock_create_ruleset` (older ABIs lack `scoped`).
    pub attr_size: usize,
    pub rules: Vec<(CString, u64)>,
    pub connect_ports: Vec<u16>,
}

pub struct ChildPlan {
    pub stdin: c_int,
    pub stdout: c_int,
    pub stderr: c_int,
    pub sync_read: c_int,
    /// The parent's end of the sync pipe, closed here so that its hang-up means the
    /// parent is gone.
    pub sync_write_parent: c_int,
    pub error_write: c_int,
    pub status_write: c_int,
    pub channel: c_int,
    pub drop_groups: bool,
    pub uid: u32,
    pub gid: u32,
    pub sources: Vec<Source>,
    pub tree_fds: Vec<c_int>,
    pub stage: CString,
    pub ops: Vec<MountOp>,
    pub hostname: CString,
    pub proxy_port: Option<u16>,
    pub landlock: Option<LandlockPlan>,
    pub rlimits: Vec<(c_int, u64)>,
    pub cap_last: c_int,
    pub seccomp: Filter,
    pub cwd: CString,
    pub program: CString,
    /// Candidate full paths for `program` when it has no slash (PATH search), in order.
    pub candidates: Vec<CString>,
    pub argv: Vec<*const c_char>,
    pub envp: Vec<*const c_char>,
}

/// Declares `Step` and the list of all its values from one list of names, so decoding a
/// step number read back from the child cannot drift from the enum.
macro_rules! steps {
    ($first:ident, $($name:ident),* $(,)?) => {
        /// Setup steps, reported to the parent with the errno of the call that failed.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum Step {
            $first = 1,
            $($name),*
        }

        impl Step {
            const ALL: &'static [Step] = &[Step::$first, $(Step::$name),*];

            pub fn from_u32(v: u32) -> Option<Step> {
                Step::ALL.iter().copied().find(|s| *s as u32 == v)
            }
        }
    };
}

steps!(
    Sync,
    Stdio,
    DeathSignal,
    Session,
    Groups,
    Gid,
    Uid,
    PrivateRoot,
    OpenTree,
    TreeAttr,
    StageRoot,
    Mkdir,
    Symlink,
    Touch,
    Tmpfs,
    Attach,
    Proc,
    ReadOnly,
    Mask,
    Overlay,
    KeepDir,
    Detach,
    StageReadOnly,
    PivotRoot,
    Hostname,
    Loopback,
    ProxyListener,
    SendFds,
    NoNewPrivs,
    Landlock,
    Rlimit,
    Capabilities,
    Seccomp,
    Cwd,
    CloseFds,
    Fork,
    Exec,
);

/// Exit status of the sandbox init when setup failed (the parent reads the error pipe).
pub const SETUP_FAILED: c_int = 125;

fn fail(plan: &ChildPlan, step: Step, err: i32) -> ! {
    let mut buf = [0u8; 8];
    buf[..4].copy_from_slice(&(step as u32).to_ne_bytes());
    buf[4..].copy_from_slice(&err.to_ne_bytes());
    // SAFETY: writing a stack buffer to an fd; _exit never returns.
    unsafe {
        libc::write(plan.error_write, buf.as_ptr().cast(), 8);
        libc::_exit(SETUP_FAILED)
    }
}

fn check(plan: &ChildPlan, step: Step, r: c_int) {
    if r < 0 {
        fail(plan, step, sys::errno());
    }
}

fn mount(
    src: *const c_char,
    target: *const c_char,
    fstype: *const c_char,
    flags: c_ulong,
    data: *const c_char,
) -> c_int {
    // SAFETY: all pointers are NUL-terminated strings from the plan or null.
    unsafe { libc::mount(src, target, fstype, flags, data.cast()) }
}

/// Runs in the cloned child (PID 1 of the new PID namespace). Never returns.
///
/// # Safety
/// Must be called only in a freshly cloned child, with a plan built by the parent.
pub unsafe fn run(plan: &mut ChildPlan) -> ! {
    // SAFETY (whole function): raw libc calls on plan-owned, NUL-terminated data.
    unsafe {
        // Standard streams first, so nothing later can write to the caller's terminal.
        if libc::dup2(plan.stdin, 0) < 0
            || libc::dup2(plan.stdout, 1) < 0
            || libc::dup2(plan.stderr, 2) < 0
        {
            fail(plan, Step::Stdio, sys::errno());
        }
        libc::close(plan.sync_write_parent);
        // Wait until the parent has written our uid/gid maps (and cgroups). EOF means the
        // parent died before that: stop.
        let mut go = 0u8;
        if libc::read(plan.sync_read, (&mut go as *mut u8).cast(), 1) != 1 {
            fail(plan, Step::Sync, sys::errno());
        }
        check(plan, Step::Session, libc::setsid());
        check(
            plan,
            Step::PrivateRoot,
            mount(
                std::ptr::null(),
                c"/".as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_PRIVATE,
                std::ptr::null(),
            ),
        );

        for i in 0..plan.sources.len() {
            let fd = match plan.sources[i].parent_fd {
                Some(fd) => fd,
                None => match sys::open_tree(
                    libc::AT_FDCWD,
                    plan.sources[i].path.as_ptr(),
                    sys::OPEN_TREE_CLONE | sys::OPEN_TREE_CLOEXEC | sys::AT_RECURSIVE,
                ) {
                    Ok(fd) => fd,
                    Err(e) => fail(plan, Step::OpenTree, e),
                },
            };
            if plan.sources[i].attr != 0 {
                let attr = sys::MountAttr {
                    attr_set: plan.sources[i].attr,
                    attr_clr: 0,
                    propagation: 0,
                    userns_fd: 0,
                };
                if let Err(e) = sys::mount_setattr_fd(fd, true, &attr) {
                    fail(plan, Step::TreeAttr, e);
                }
            }
            plan.tree_fds[i] = fd;
        }

        // Sources are opened above with the caller's identity (a root caller's own
        // 0700 directories stay traversable); everything from here on as the sandbox uid.
        if plan.drop_groups {
            check(
                plan,
                Step::Groups,
                libc::syscall(libc::SYS_setgroups, 0usize, std::ptr::null::<libc::gid_t>())
                    as c_int,
            );
        }
        check(
            plan,
            Step::Gid,
            libc::syscall(libc::SYS_setresgid, plan.gid, plan.gid, plan.gid) as c_int,
        );
        // Identity changes are raw system calls: glibc's wrappers broadcast the change to
        // every thread it believes exists (the parent's threads, copied into our memory)
        // under a lock another parent thread may have held at clone time: a deadlock.
        // Namespace capabilities survive this change (namespace uid 0 is unmapped) and are
        // dropped below and at execve.
        check(
            plan,
            Step::Uid,
            libc::syscall(libc::SYS_setresuid, plan.uid, plan.uid, plan.uid) as c_int,
        );
        // Die with airlock. Set only now: a credential change clears the setting. If the
        // parent died before this, its end of the sync pipe has hung up.
        check(
            plan,
            Step::DeathSignal,
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as c_ulong, 0, 0, 0),
        );
        let mut pfd = libc::pollfd {
            fd: plan.sync_read,
            events: libc::POLLIN,
            revents: 0,
        };
        if libc::poll(&mut pfd, 1, 0) != 0 && pfd.revents & (libc::POLLHUP | libc::POLLERR) != 0 {
            fail(plan, Step::DeathSignal, libc::ESRCH);
        }

        check(
            plan,
            Step::StageRoot,
            mount(
                c"tmpfs".as_ptr(),
                plan.stage.as_ptr(),
                c"tmpfs".as_ptr(),
                libc::MS_NOSUID | libc::MS_NODEV,
                c"size=1m,nr_inodes=4096,mode=0755".as_ptr(),
            ),
        );

        let mut kept_dir: c_int = -1;
        for op in &plan.ops {
            match op {
                MountOp::Mkdir { path, mode } => {
                    if libc::mkdir(path.as_ptr(), *mode) < 0 && sys::errno() != libc::EEXIST {
                        fail(plan, Step::Mkdir, sys::errno());
                    }
                }
                MountOp::Symlink { target, path } => {
                    check(
                        plan,
                        Step::Symlink,
                        libc::symlink(target.as_ptr(), path.as_ptr()),
                    );
                }
                MountOp::Touch { path } => {
                    let fd = libc::open(
                        path.as_ptr(),
                        libc::O_CREAT | libc::O_WRONLY | libc::O_CLOEXEC,
                        0o444,
                    );
                    check(plan, Step::Touch, fd);
                    libc::close(fd);
                }
                MountOp::Link { from, path } => {
                    check(
                        plan,
                        Step::Touch,
                        libc::linkat(
                            libc::AT_FDCWD,
                            from.as_ptr(),
                            libc::AT_FDCWD,
                            path.as_ptr(),
                            0,
                        ),
                    );
                }
                MountOp::WriteFile { path, data } => {
                    let fd = libc::open(
                        path.as_ptr(),
                        libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC | libc::O_CLOEXEC,
                        0o444,
                    );
                    check(plan, Step::Touch, fd);
                    if libc::write(fd, data.as_ptr().cast(), data.len()) != data.len() as isize {
                        fail(plan, Step::Touch, sys::errno());
                    }
                    libc::close(fd);
                }
                MountOp::Tmpfs { path, flags, data } => {
                    check(
                        plan,
                        Step::Tmpfs,
                        mount(
                            c"tmpfs".as_ptr(),
                            path.as_ptr(),
                            c"tmpfs".as_ptr(),
                            *flags,
                            data.as_ptr(),
                        ),
                    );
                }
                MountOp::Attach { source, path } => {
                    if let Err(e) = sys::move_mount_to(plan.tree_fds[*source], path.as_ptr()) {
                        fail(plan, Step::Attach, e);
                    }
                }
                MountOp::Proc { path } => {
                    check(
                        plan,
                        Step::Proc,
                        mount(
                            c"proc".as_ptr(),
                            path.as_ptr(),
                            c"proc".as_ptr(),
                            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                            std::ptr::null(),
                        ),
                    );
                }
                MountOp::ReadOnly { path, optional } => {
                    if *optional && libc::access(path.as_ptr(), libc::F_OK) < 0 {
                        continue;
                    }
                    let fd = match sys::open_tree(
                        libc::AT_FDCWD,
                        path.as_ptr(),
                        sys::OPEN_TREE_CLONE
                            | sys::OPEN_TREE_CLOEXEC
                            | sys::AT_RECURSIVE
                            | libc::AT_SYMLINK_NOFOLLOW as u32,
                    ) {
                        Ok(fd) => fd,
                        Err(e) => fail(plan, Step::ReadOnly, e),
                    };
                    let attr = sys::MountAttr {
                        attr_set: sys::MOUNT_ATTR_RDONLY
                            | sys::MOUNT_ATTR_NOSUID
                            | sys::MOUNT_ATTR_NODEV,
                        attr_clr: 0,
                        propagation: 0,
                        userns_fd: 0,
                    };
                    if let Err(e) = sys::mount_setattr_fd(fd, true, &attr) {
                        fail(plan, Step::ReadOnly, e);
                    }
                    if let Err(e) = sys::move_mount_to(fd, path.as_ptr()) {
                        fail(plan, Step::ReadOnly, e);
                    }
                    libc::close(fd);
                }
                MountOp::Pin { path } => {
                    let fd = match sys::open_tree(
                        libc::AT_FDCWD,
                        path.as_ptr(),
                        sys::OPEN_TREE_CLONE
                            | sys::OPEN_TREE_CLOEXEC
                            | sys::AT_RECURSIVE
                            | libc::AT_SYMLINK_NOFOLLOW as u32,
                    ) {
                        Ok(fd) => fd,
                        Err(e) => fail(plan, Step::ReadOnly, e),
                    };
                    if let Err(e) = sys::move_mount_to(fd, path.as_ptr()) {
                        fail(plan, Step::ReadOnly, e);
                    }
                    libc::close(fd);
                }
                MountOp::MaskFile { empty, path } => {
                    check(
                        plan,
                        Step::Mask,
                        mount(
                            empty.as_ptr(),
                            path.as_ptr(),
                            std::ptr::null(),
                            libc::MS_BIND,
                            std::ptr::null(),
                        ),
                    );
                    check(
                        plan,
                        Step::Mask,
                        mount(
                            std::ptr::null(),
                            path.as_ptr(),
                            std::ptr::null(),
                            libc::MS_REMOUNT
                                | libc::MS_BIND
                                | libc::MS_RDONLY
                                | libc::MS_NOSUID
                                | libc::MS_NODEV
                                | libc::MS_NOEXEC,
                            std::ptr::null(),
                        ),
                    );
                }
                MountOp::MaskDir { path } => {
                    check(
                        plan,
                        Step::Mask,
                        mount(
                            c"tmpfs".as_ptr(),
                            path.as_ptr(),
                            c"tmpfs".as_ptr(),
                            libc::MS_RDONLY | libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
                            c"size=4k,nr_inodes=2,mode=0555".as_ptr(),
                        ),
                    );
                }
                MountOp::Overlay { path, data } => {
                    check(
                        plan,
                        Step::Overlay,
                        mount(
                            c"overlay".as_ptr(),
                            path.as_ptr(),
                            c"overlay".as_ptr(),
                            libc::MS_NOSUID | libc::MS_NODEV,
                            data.as_ptr(),
                        ),
                    );
                }
                MountOp::KeepDir { path } => {
                    kept_dir = libc::open(
                        path.as_ptr(),
                        libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC | libc::O_NOFOLLOW,
                    );
                    check(plan, Step::KeepDir, kept_dir);
                }
                MountOp::Detach { path } => {
                    check(
                        plan,
                        Step::Detach,
                        libc::umount2(path.as_ptr(), libc::MNT_DETACH),
                    );
                }
            }
        }
        for fd in &plan.tree_fds {
            libc::close(*fd);
        }

        check(
            plan,
            Step::StageReadOnly,
            mount(
                std::ptr::null(),
                plan.stage.as_ptr(),
                std::ptr::null(),
                libc::MS_REMOUNT
                    | libc::MS_BIND
                    | libc::MS_RDONLY
                    | libc::MS_NOSUID
                    | libc::MS_NODEV,
                std::ptr::null(),
            ),
        );
        check(plan, Step::PivotRoot, libc::chdir(plan.stage.as_ptr()));
        check(
            plan,
            Step::PivotRoot,
            libc::syscall(libc::SYS_pivot_root, c".".as_ptr(), c".".as_ptr()) as c_int,
        );
        check(
            plan,
            Step::PivotRoot,
            libc::umount2(c".".as_ptr(), libc::MNT_DETACH),
        );
        check(plan, Step::PivotRoot, libc::chdir(c"/".as_ptr()));

        check(
            plan,
            Step::Hostname,
            libc::sethostname(plan.hostname.as_ptr(), plan.hostname.as_bytes().len()),
        );
        loopback_up(plan);

        let mut send = [-1 as c_int; 2];
        let mut nsend = 0;
        if let Some(port) = plan.proxy_port {
            send[nsend] = proxy_listener(plan, port);
            nsend += 1;
        }
        if kept_dir >= 0 {
            send[nsend] = kept_dir;
            nsend += 1;
        }
        if nsend > 0 {
            send_fds(plan, &send[..nsend]);
            for fd in &send[..nsend] {
                libc::close(*fd);
            }
        }

        check(
            plan,
            Step::NoNewPrivs,
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
        );
        if let Some(ll) = &plan.landlock {
            apply_landlock(plan, ll);
        }
        for (res, value) in &plan.rlimits {
            let lim = libc::rlimit {
                rlim_cur: *value,
                rlim_max: *value,
            };
            check(plan, Step::Rlimit, libc::setrlimit(*res as _, &lim));
        }
        drop_capabilities(plan);
        if let Err(e) = plan.seccomp.install() {
            fail(plan, Step::Seccomp, e);
        }
        check(plan, Step::Cwd, libc::chdir(plan.cwd.as_ptr()));
        // Everything above fd 2 closes at execve; the init keeps its pipes until it exits.
        if libc::close_range(3, c_int::MAX as u32, libc::CLOSE_RANGE_CLOEXEC as c_int) < 0 {
            fail(plan, Step::CloseFds, sys::errno());
        }

        // The parent moves us into the run's cgroups while we build the view (a cgroup
        // move can wait for an RCU grace period); the workload starts only after that.
        let mut attached = 0u8;
        if libc::read(plan.sync_read, (&mut attached as *mut u8).cast(), 1) != 1 {
            fail(plan, Step::Sync, sys::errno());
        }
        let pid = libc::syscall(
            libc::SYS_clone,
            libc::SIGCHLD as c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        );
        if pid < 0 {
            fail(plan, Step::Fork, sys::errno());
        }
        if pid == 0 {
            exec_workload(plan);
        }
        libc::close(plan.error_write);
        init_loop(plan, pid as libc::pid_t)
    }
}

/// PID 1 after the workload starts: reap every child, and when the workload ends, report
/// its wait status to the parent and exit (the kernel then kills what is left).
unsafe fn init_loop(plan: &ChildPlan, workload: libc::pid_t) -> ! {
    // SAFETY: waiting and writing a stack buffer.
    unsafe {
        loop {
            let mut status: c_int = 0;
            let pid = libc::waitpid(-1, &mut status, 0);
            if pid == workload {
                let bytes = status.to_ne_bytes();
                libc::write(plan.status_write, bytes.as_ptr().cast(), 4);
                libc::_exit(0);
            }
            if pid < 0 && sys::errno() != libc::EINTR {
                libc::_exit(SETUP_FAILED);
            }
        }
    }
}

unsafe fn exec_workload(plan: &ChildPlan) -> ! {
    // SAFETY: argv/envp are NULL-terminated arrays of plan-owned strings.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        let mut err = libc::ENOENT;
        if plan.candidates.is_empty() {
            libc::execve(
                plan.program.as_ptr(),
                plan.argv.as_ptr(),
                plan.envp.as_ptr(),
            );
            err = sys::errno();
        } else {
            for c in &plan.candidates {
                libc::execve(c.as_ptr(), plan.argv.as_ptr(), plan.envp.as_ptr());
                let e = sys::errno();
                // Like execvp: keep looking past missing or unusable entries.
                if e != libc::ENOENT && e != libc::ENOTDIR && e != libc::EACCES {
                    err = e;
                    break;
                }
                if e == libc::EACCES {
                    err = e;
                }
            }
        }
        let mut buf = [0u8; 8];
        buf[..4].copy_from_slice(&(Step::Exec as u32).to_ne_bytes());
        buf[4..].copy_from_slice(&err.to_ne_bytes());
        libc::write(plan.error_write, buf.as_ptr().cast(), 8);
        libc::_exit(if err == libc::ENOENT { 127 } else { 126 })
    }
}

unsafe fn loopback_up(plan: &ChildPlan) {
    // SAFETY: ioctl on a fresh socket with a stack ifreq.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        check(plan, Step::Loopback, s);
        let mut ifr: libc::ifreq = std::mem::zeroed();
        ifr.ifr_name[0] = b'l' as c_char;
        ifr.ifr_name[1] = b'o' as c_char;
        ifr.ifr_ifru.ifru_flags = (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
        check(
            plan,
            Step::Loopback,
            libc::ioctl(s, libc::SIOCSIFFLAGS, &ifr),
        );
        libc::close(s);
    }
}

/// A listener on the sandbox's own loopback; the parent's egress proxy accepts on it,
/// so the only way out of the network namespace is through the proxy.
unsafe fn proxy_listener(plan: &ChildPlan, port: u16) -> c_int {
    // SAFETY: socket calls with stack structures.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        check(plan, Step::ProxyListener, s);
        let one: c_int = 1;
        libc::setsockopt(
            s,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&one as *const c_int).cast(),
            std::mem::size_of::<c_int>() as u32,
        );
        let mut addr: libc::sockaddr_in = std::mem::zeroed();
        addr.sin_family = libc::AF_INET as u16;
        addr.sin_port = port.to_be();
        addr.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
        check(
            plan,
            Step::ProxyListener,
            libc::bind(
                s,
                (&addr as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as u32,
            ),
        );
        check(plan, Step::ProxyListener, libc::listen(s, 128));
        s
    }
}

unsafe fn send_fds(plan: &ChildPlan, fds: &[c_int]) {
    // SAFETY: building a msghdr over stack buffers sized for two fds.
    unsafe {
        let mut byte = [fds.len() as u8];
        let mut iov = libc::iovec {
            iov_base: byte.as_mut_ptr().cast(),
            iov_len: 1,
        };
        #[repr(C, align(8))]
        struct Cmsg([u8; 64]);
        let mut cbuf = Cmsg([0; 64]);
        let payload = std::mem::size_of_val(fds) as u32;
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.0.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(payload) as usize;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(payload) as usize;
        std::ptr::copy_nonoverlapping(
            fds.as_ptr(),
            libc::CMSG_DATA(cmsg).cast::<c_int>(),
            fds.len(),
        );
        if libc::sendmsg(plan.channel, &msg, 0) < 0 {
            fail(plan, Step::SendFds, sys::errno());
        }
    }
}

unsafe fn apply_landlock(plan: &ChildPlan, ll: &LandlockPlan) {
    // SAFETY: Landlock syscalls on stack attributes and plan-owned paths.
    unsafe {
        let attr = sys::LandlockRulesetAttr {
            handled_access_fs: ll.handled_fs,
            handled_access_net: ll.handled_net,
            scoped: ll.scoped,
        };
        let rs = match sys::landlock_create_ruleset(&attr, ll.attr_size) {
            Ok(fd) => fd,
            Err(e) => fail(plan, Step::Landlock, e),
        };
        for (path, access) in &ll.rules {
            let fd = libc::open(path.as_ptr(), libc::O_PATH | libc::O_CLOEXEC);
            check(plan, Step::Landlock, fd);
            if let Err(e) = sys::landlock_add_path_rule(rs, *access & ll.handled_fs, fd) {
                fail(plan, Step::Landlock, e);
            }
            libc::close(fd);
        }
        for port in &ll.connect_ports {
            if let Err(e) = sys::landlock_add_port_rule(rs, ll.handled_net, *port) {
                fail(plan, Step::Landlock, e);
            }
        }
        if let Err(e) = sys::landlock_restrict_self(rs) {
            fail(plan, Step::Landlock, e);
        }
        libc::close(rs);
    }
}

/// Empties the bounding, ambient, inheritable, permitted and effective sets.
unsafe fn drop_capabilities(plan: &ChildPlan) {
    // SAFETY: prctl and capset with stack structures.
    unsafe {
        for cap in 0..=plan.cap_last {
            if libc::prctl(libc::PR_CAPBSET_DROP, cap as c_ulong, 0, 0, 0) < 0
                && sys::errno() != libc::EINVAL
            {
                fail(plan, Step::Capabilities, sys::errno());
            }
        }
        check(
            plan,
            Step::Capabilities,
            libc::prctl(
                libc::PR_CAP_AMBIENT,
                libc::PR_CAP_AMBIENT_CLEAR_ALL as c_ulong,
                0,
                0,
                0,
            ),
        );
        #[repr(C)]
        struct Header {
            version: u32,
            pid: c_int,
        }
        #[repr(C)]
        struct Data {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        let hdr = Header {
            version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
            pid: 0,
        };
        let data = [
            Data {
                effective: 0,
                permitted: 0,
                inheritable: 0,
            },
            Data {
                effective: 0,
                permitted: 0,
                inheritable: 0,
            },
        ];
        check(
            plan,
            Step::Capabilities,
            libc::syscall(libc::SYS_capset, &hdr as *const Header, data.as_ptr()) as c_int,
        );
    }
}
