//! The seccomp-BPF filter installed in the sandboxed child (x86_64 only).
//!
//! The filter narrows which kernel interfaces the sandboxed command may use. It is a
//! deny-list: everything not named here is allowed, because the other layers (namespaces,
//! an unprivileged uid, Landlock, resource limits) carry most of the weight and a strict
//! allow-list breaks ordinary tools in surprising ways. What it removes is the attack
//! surface those layers do not cover: namespace and mount manipulation, ptrace-style access
//! to other processes, kernel keyrings, BPF, io_uring, perf, module loading, the terminal
//! injection ioctls, set-id bits on files, device nodes and exotic socket families.
//!
//! The program is assembled by hand, once, in the parent ([`Filter::build`], which may
//! allocate), and installed in the forked child ([`Filter::install`], which does not
//! allocate and never panics, so it is safe between `fork` and `exec`).
//!
//! # Rules, in order
//!
//! 1. `seccomp_data.arch != AUDIT_ARCH_X86_64` (for instance `int 0x80` i386 calls):
//!    kill the whole process.
//! 2. x32 ABI numbers (`nr >= __X32_SYSCALL_BIT`): `EPERM`.
//! 3. `clone3` and `openat2`: `ENOSYS`, so libc falls back to `clone` / `openat`, whose
//!    arguments are registers the filter can inspect (a BPF filter cannot read memory).
//! 4. `clone` with any `CLONE_NEW*` flag: `EPERM`; otherwise allowed.
//! 5. A fixed list of syscalls always gets `EPERM` (see [`rules_summary`]);
//!    `personality` only when it would change the persona (0 and the `0xffffffff` query
//!    are allowed).
//! 6. `ioctl` with `TIOCSTI` or `TIOCLINUX`: `EPERM`.
//! 7. A mode with `S_ISUID` or `S_ISGID` for `chmod`, `fchmod`, `fchmodat`, `fchmodat2`,
//!    `open`, `openat`, `creat`, `mkdir`, `mkdirat`, `mknod`, `mknodat`: `EPERM`. For the
//!    `open` family the flags are not consulted (a set-id mode without `O_CREAT` is
//!    meaningless anyway). `mkdir` is strict on purpose: a set-GID directory is mostly
//!    harmless, but no ordinary build needs to ask for one, and a single rule is simpler
//!    to reason about. `mknod`/`mknodat` additionally refuse character and block devices.
//! 8. `socket`/`socketpair`: `AF_UNIX` always; `AF_NETLINK` only with protocol 0
//!    (`NETLINK_ROUTE`, which glibc's `getaddrinfo`/`getifaddrs` use; other protocols get
//!    `EPROTONOSUPPORT`); `AF_INET`/`AF_INET6` only when [`FilterOptions::allow_inet`];
//!    every other family gets `EAFNOSUPPORT`.
//! 9. Everything else: allowed.
//!
//! Arguments are 64-bit in `seccomp_data`; every argument checked here is a C `int`,
//! `unsigned int` or `umode_t` in the kernel (or, for `clone`, a flags word the kernel
//! truncates to 32 bits), so only the low 32-bit word is inspected.

use std::fmt;
use std::mem::offset_of;

// ---------------------------------------------------------------------------------------
// Constants (spelled out here so the table reads as the kernel ABI it encodes).

/// `AUDIT_ARCH_X86_64` = `EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE`.
const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
/// `__X32_SYSCALL_BIT`.
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const RET_KILL_PROCESS: u32 = 0x8000_0000;
const RET_ERRNO: u32 = 0x0005_0000;
const RET_ALLOW: u32 = 0x7fff_0000;
const RET_DATA: u32 = 0x0000_ffff;

const fn ret_errno(errno: i32) -> u32 {
    RET_ERRNO | (errno as u32 & RET_DATA)
}

// Classic BPF opcodes (linux/bpf_common.h).
const BPF_LD: u16 = 0x00;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_W: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_AND: u16 = 0x50;
const BPF_JEQ: u16 = 0x10;
const BPF_JGE: u16 = 0x30;
const BPF_JSET: u16 = 0x40;
const BPF_K: u16 = 0x00;

/// Offsets into `struct seccomp_data`.
const OFF_NR: u32 = offset_of!(libc::seccomp_data, nr) as u32;
const OFF_ARCH: u32 = offset_of!(libc::seccomp_data, arch) as u32;
const OFF_ARGS: u32 = offset_of!(libc::seccomp_data, args) as u32;

/// Offset of the low 32-bit word of argument `i` (x86_64 is little-endian).
const fn arg_lo(i: u8) -> u32 {
    OFF_ARGS + 8 * i as u32
}

const CLONE_NEW_MASK: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP
    | libc::CLONE_NEWTIME) as u32;

const TIOCSTI: u32 = 0x5412;
const TIOCLINUX: u32 = 0x541c;

const SETID_BITS: u32 = 0o6000;
const S_IFMT: u32 = 0o170000;
const S_IFCHR: u32 = 0o020000;
const S_IFBLK: u32 = 0o060000;

const AF_UNIX: u32 = 1;
const AF_INET: u32 = 2;
const AF_INET6: u32 = 10;
const AF_NETLINK: u32 = 16;
const NETLINK_ROUTE: u32 = 0;

// ---------------------------------------------------------------------------------------
// The rule table: one entry per syscall, shared by the assembler and `rules_summary`.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// Unconditionally fail with this errno.
    Errno(i32),
    /// `clone`: `EPERM` if the flags word (arg 0) has any `CLONE_NEW*` bit.
    CloneFlags,
    /// `personality`: allow 0 and the `0xffffffff` query, else `EPERM`.
    Personality,
    /// `ioctl`: `EPERM` for `TIOCSTI` / `TIOCLINUX` (arg 1).
    Ioctl,
    /// `EPERM` if the mode argument at this index has set-id bits.
    SetidMode(u8),
    /// Like `SetidMode`, and also `EPERM` for character/block device types.
    Mknod(u8),
    /// `socket` / `socketpair` domain filtering.
    Socket,
}

/// (name, x86_64 syscall number, rule). Numbers are from
/// `arch/x86/entry/syscalls/syscall_64.tbl`; a unit test cross-checks them against `libc`.
const RULES: &[(&str, u32, Rule)] = &[
    // 3. Pushed back onto their inspectable predecessors.
    ("clone3", 435, Rule::Errno(libc::ENOSYS)),
    ("openat2", 437, Rule::Errno(libc::ENOSYS)),
    // 4.
    ("clone", 56, Rule::CloneFlags),
    // 5. Always denied.
    ("ptrace", 101, Rule::Errno(libc::EPERM)),
    ("process_vm_readv", 310, Rule::Errno(libc::EPERM)),
    ("process_vm_writev", 311, Rule::Errno(libc::EPERM)),
    ("pidfd_getfd", 438, Rule::Errno(libc::EPERM)),
    ("mount", 165, Rule::Errno(libc::EPERM)),
    ("umount2", 166, Rule::Errno(libc::EPERM)),
    ("pivot_root", 155, Rule::Errno(libc::EPERM)),
    ("fsopen", 430, Rule::Errno(libc::EPERM)),
    ("fsconfig", 431, Rule::Errno(libc::EPERM)),
    ("fsmount", 432, Rule::Errno(libc::EPERM)),
    ("fspick", 433, Rule::Errno(libc::EPERM)),
    ("move_mount", 429, Rule::Errno(libc::EPERM)),
    ("open_tree", 428, Rule::Errno(libc::EPERM)),
    ("open_tree_attr", 467, Rule::Errno(libc::EPERM)),
    ("mount_setattr", 442, Rule::Errno(libc::EPERM)),
    ("bpf", 321, Rule::Errno(libc::EPERM)),
    ("unshare", 272, Rule::Errno(libc::EPERM)),
    ("setns", 308, Rule::Errno(libc::EPERM)),
    ("add_key", 248, Rule::Errno(libc::EPERM)),
    ("request_key", 249, Rule::Errno(libc::EPERM)),
    ("keyctl", 250, Rule::Errno(libc::EPERM)),
    ("perf_event_open", 298, Rule::Errno(libc::EPERM)),
    ("userfaultfd", 323, Rule::Errno(libc::EPERM)),
    ("kexec_load", 246, Rule::Errno(libc::EPERM)),
    ("kexec_file_load", 320, Rule::Errno(libc::EPERM)),
    ("init_module", 175, Rule::Errno(libc::EPERM)),
    ("finit_module", 313, Rule::Errno(libc::EPERM)),
    ("delete_module", 176, Rule::Errno(libc::EPERM)),
    ("io_uring_setup", 425, Rule::Errno(libc::EPERM)),
    ("io_uring_enter", 426, Rule::Errno(libc::EPERM)),
    ("io_uring_register", 427, Rule::Errno(libc::EPERM)),
    ("acct", 163, Rule::Errno(libc::EPERM)),
    ("quotactl", 179, Rule::Errno(libc::EPERM)),
    ("quotactl_fd", 443, Rule::Errno(libc::EPERM)),
    ("reboot", 169, Rule::Errno(libc::EPERM)),
    ("swapon", 167, Rule::Errno(libc::EPERM)),
    ("swapoff", 168, Rule::Errno(libc::EPERM)),
    ("name_to_handle_at", 303, Rule::Errno(libc::EPERM)),
    ("open_by_handle_at", 304, Rule::Errno(libc::EPERM)),
    ("lookup_dcookie", 212, Rule::Errno(libc::EPERM)),
    ("syslog", 103, Rule::Errno(libc::EPERM)),
    ("vhangup", 153, Rule::Errno(libc::EPERM)),
    ("iopl", 172, Rule::Errno(libc::EPERM)),
    ("ioperm", 173, Rule::Errno(libc::EPERM)),
    ("chroot", 161, Rule::Errno(libc::EPERM)),
    ("settimeofday", 164, Rule::Errno(libc::EPERM)),
    ("clock_settime", 227, Rule::Errno(libc::EPERM)),
    ("clock_adjtime", 305, Rule::Errno(libc::EPERM)),
    ("adjtimex", 159, Rule::Errno(libc::EPERM)),
    ("nfsservctl", 180, Rule::Errno(libc::EPERM)),
    ("uselib", 134, Rule::Errno(libc::EPERM)),
    ("_sysctl", 156, Rule::Errno(libc::EPERM)),
    ("personality", 135, Rule::Personality),
    // 6.
    ("ioctl", 16, Rule::Ioctl),
    // 7. Set-id modes and device nodes.
    ("chmod", 90, Rule::SetidMode(1)),
    ("fchmod", 91, Rule::SetidMode(1)),
    ("fchmodat", 268, Rule::SetidMode(2)),
    ("fchmodat2", 452, Rule::SetidMode(2)),
    ("open", 2, Rule::SetidMode(2)),
    ("openat", 257, Rule::SetidMode(3)),
    ("creat", 85, Rule::SetidMode(1)),
    ("mkdir", 83, Rule::SetidMode(1)),
    ("mkdirat", 258, Rule::SetidMode(2)),
    ("mknod", 133, Rule::Mknod(1)),
    ("mknodat", 259, Rule::Mknod(2)),
    // 8.
    ("socket", 41, Rule::Socket),
    ("socketpair", 53, Rule::Socket),
];

// ---------------------------------------------------------------------------------------
// A tiny forward-only assembler with labels.

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Label(usize);

struct Insn {
    code: u16,
    k: u32,
    /// Jump targets for conditional jumps; `None` means "fall through" (offset 0).
    jt: Option<Label>,
    jf: Option<Label>,
}

#[derive(Default)]
struct Asm {
    insns: Vec<Insn>,
    labels: Vec<Option<usize>>,
}

impl Asm {
    fn label(&mut self) -> Label {
        self.labels.push(None);
        Label(self.labels.len() - 1)
    }

    fn bind(&mut self, l: Label) {
        assert!(self.labels[l.0].is_none(), "label bound twice");
        self.labels[l.0] = Some(self.insns.len());
    }

    fn stmt(&mut self, code: u16, k: u32) {
        self.insns.push(Insn {
            code,
            k,
            jt: None,
            jf: None,
        });
    }

    fn jump(&mut self, op: u16, k: u32, jt: Option<Label>, jf: Option<Label>) {
        self.insns.push(Insn {
            code: BPF_JMP | op | BPF_K,
            k,
            jt,
            jf,
        });
    }

    /// A = 32-bit word at `off` in `seccomp_data`.
    fn ld(&mut self, off: u32) {
        self.stmt(BPF_LD | BPF_W | BPF_ABS, off);
    }

    fn and(&mut self, k: u32) {
        self.stmt(BPF_ALU | BPF_AND | BPF_K, k);
    }

    fn ret(&mut self, action: u32) {
        self.stmt(BPF_RET | BPF_K, action);
    }

    fn jeq(&mut self, k: u32, jt: Option<Label>, jf: Option<Label>) {
        self.jump(BPF_JEQ, k, jt, jf);
    }

    fn jge(&mut self, k: u32, jt: Option<Label>, jf: Option<Label>) {
        self.jump(BPF_JGE, k, jt, jf);
    }

    fn jset(&mut self, k: u32, jt: Option<Label>, jf: Option<Label>) {
        self.jump(BPF_JSET, k, jt, jf);
    }

    /// Resolves labels into relative offsets. Panics on a backward or out-of-range jump
    /// or an unbound label: those are bugs in the (static) program, caught by the tests.
    fn finish(self) -> Vec<libc::sock_filter> {
        let resolve = |at: usize, l: Option<Label>| -> u8 {
            let Some(l) = l else { return 0 };
            let target = self.labels[l.0].expect("unbound label");
            let off = target
                .checked_sub(at + 1)
                .expect("backward jump in seccomp program");
            u8::try_from(off).expect("seccomp jump offset exceeds 255")
        };
        let prog: Vec<libc::sock_filter> = self
            .insns
            .iter()
            .enumerate()
            .map(|(i, ins)| libc::sock_filter {
                code: ins.code,
                jt: resolve(i, ins.jt),
                jf: resolve(i, ins.jf),
                k: ins.k,
            })
            .collect();
        assert!(
            prog.len() <= BPF_MAXINSNS,
            "seccomp program too long: {}",
            prog.len()
        );
        prog
    }
}

/// Kernel limit on classic BPF program length.
const BPF_MAXINSNS: usize = 4096;

// ---------------------------------------------------------------------------------------
// Public API.

/// Knobs for [`Filter::build`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FilterOptions {
    /// Allow `AF_INET`/`AF_INET6` sockets (needed to reach the egress proxy and loopback).
    pub allow_inet: bool,
}

/// An assembled seccomp-BPF program, built once in the parent and installed in the child.
#[derive(Clone)]
pub struct Filter {
    prog: Vec<libc::sock_filter>,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Filter")
            .field("instructions", &self.prog.len())
            .finish()
    }
}

impl Filter {
    /// Assembles the filter. Pure; allocates.
    pub fn build(opts: &FilterOptions) -> Filter {
        let mut a = Asm::default();

        // 1. Architecture.
        let arch_ok = a.label();
        a.ld(OFF_ARCH);
        a.jeq(AUDIT_ARCH_X86_64, Some(arch_ok), None);
        a.ret(RET_KILL_PROCESS);
        a.bind(arch_ok);

        // 2. x32 ABI.
        let native = a.label();
        a.ld(OFF_NR);
        a.jge(X32_SYSCALL_BIT, None, Some(native));
        a.ret(ret_errno(libc::EPERM));
        a.bind(native);

        // 3-8. One block per syscall. Each block is entered with A = nr, begins with
        // `jeq nr` whose false branch skips the whole block, and ends in a return, so the
        // next block again sees A = nr. All jumps are local to a block (a few instructions).
        for &(_, nr, rule) in RULES {
            let next = a.label();
            a.jeq(nr, None, Some(next));
            emit_rule(&mut a, rule, opts);
            a.bind(next);
        }

        // 9.
        a.ret(RET_ALLOW);

        Filter { prog: a.finish() }
    }

    /// Number of BPF instructions.
    pub fn len(&self) -> usize {
        self.prog.len()
    }

    /// Always false for a built filter; present for API symmetry with `len`.
    pub fn is_empty(&self) -> bool {
        self.prog.is_empty()
    }

    /// Installs the filter on the calling thread (no `TSYNC`).
    ///
    /// Sets `no_new_privs` first (idempotent). Async-signal-safe: makes two raw syscalls,
    /// does not allocate and cannot panic, so it may run between `fork` and `exec`.
    /// Returns `Err(errno)` on failure; on non-x86_64 targets it always returns
    /// `Err(ENOSYS)` because the program encodes x86_64 syscall numbers.
    pub fn install(&self) -> Result<(), i32> {
        if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
            return Err(libc::ENOSYS);
        }
        let Ok(len) = u16::try_from(self.prog.len()) else {
            return Err(libc::EINVAL);
        };
        let fprog = libc::sock_fprog {
            len,
            filter: self.prog.as_ptr().cast_mut(),
        };
        // SAFETY: plain syscalls; `fprog` points at `self.prog`, which outlives the call
        // (the kernel copies the program).
        unsafe {
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(last_errno());
            }
            let rc = libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER as libc::c_ulong,
                0 as libc::c_ulong,
                &fprog as *const libc::sock_fprog,
            );
            if rc != 0 {
                return Err(last_errno());
            }
        }
        Ok(())
    }
}

fn last_errno() -> i32 {
    // SAFETY: `__errno_location` returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}

fn emit_rule(a: &mut Asm, rule: Rule, opts: &FilterOptions) {
    let eperm = ret_errno(libc::EPERM);
    match rule {
        Rule::Errno(e) => a.ret(ret_errno(e)),
        Rule::CloneFlags => {
            let allow = a.label();
            a.ld(arg_lo(0));
            a.jset(CLONE_NEW_MASK, None, Some(allow));
            a.ret(eperm);
            a.bind(allow);
            a.ret(RET_ALLOW);
        }
        Rule::Personality => {
            let allow = a.label();
            a.ld(arg_lo(0));
            a.jeq(0, Some(allow), None);
            a.jeq(0xffff_ffff, Some(allow), None);
            a.ret(eperm);
            a.bind(allow);
            a.ret(RET_ALLOW);
        }
        Rule::Ioctl => {
            let deny = a.label();
            a.ld(arg_lo(1));
            a.jeq(TIOCSTI, Some(deny), None);
            a.jeq(TIOCLINUX, Some(deny), None);
            a.ret(RET_ALLOW);
            a.bind(deny);
            a.ret(eperm);
        }
        Rule::SetidMode(i) => {
            let allow = a.label();
            a.ld(arg_lo(i));
            a.jset(SETID_BITS, None, Some(allow));
            a.ret(eperm);
            a.bind(allow);
            a.ret(RET_ALLOW);
        }
        Rule::Mknod(i) => {
            let deny = a.label();
            a.ld(arg_lo(i));
            a.jset(SETID_BITS, Some(deny), None);
            a.and(S_IFMT);
            a.jeq(S_IFCHR, Some(deny), None);
            a.jeq(S_IFBLK, Some(deny), None);
            a.ret(RET_ALLOW);
            a.bind(deny);
            a.ret(eperm);
        }
        Rule::Socket => {
            let allow = a.label();
            let netlink = a.label();
            a.ld(arg_lo(0));
            a.jeq(AF_UNIX, Some(allow), None);
            if opts.allow_inet {
                a.jeq(AF_INET, Some(allow), None);
                a.jeq(AF_INET6, Some(allow), None);
            }
            a.jeq(AF_NETLINK, Some(netlink), None);
            a.ret(ret_errno(libc::EAFNOSUPPORT));
            a.bind(netlink);
            a.ld(arg_lo(2));
            a.jeq(NETLINK_ROUTE, Some(allow), None);
            a.ret(ret_errno(libc::EPROTONOSUPPORT));
            a.bind(allow);
            a.ret(RET_ALLOW);
        }
    }
}

/// The rules as (syscall name, action) pairs, for docs and `airlock doctor`.
///
/// Besides real syscall names there are three pseudo-entries in parentheses: the
/// architecture check, the x32 guard and the default action.
pub fn rules_summary() -> Vec<(&'static str, &'static str)> {
    let mut out = vec![("(non-x86_64 ABI)", "KILL_PROCESS"), ("(x32 ABI)", "EPERM")];
    out.extend(RULES.iter().map(|&(name, _, rule)| (name, describe(rule))));
    out.push(("(everything else)", "ALLOW"));
    out
}

fn describe(rule: Rule) -> &'static str {
    match rule {
        Rule::Errno(libc::ENOSYS) => "ENOSYS (libc falls back to the inspectable variant)",
        Rule::Errno(libc::EPERM) => "EPERM",
        Rule::Errno(_) => "errno",
        Rule::CloneFlags => "EPERM if flags contain any CLONE_NEW*; else ALLOW",
        Rule::Personality => "ALLOW for 0 and the 0xffffffff query; else EPERM",
        Rule::Ioctl => "EPERM for TIOCSTI and TIOCLINUX; else ALLOW",
        Rule::SetidMode(_) => "EPERM if mode has S_ISUID or S_ISGID; else ALLOW",
        Rule::Mknod(_) => {
            "EPERM if mode has S_ISUID or S_ISGID or the type is S_IFCHR/S_IFBLK; else ALLOW"
        }
        Rule::Socket => {
            "ALLOW AF_UNIX, AF_NETLINK with NETLINK_ROUTE (other protocols EPROTONOSUPPORT), \
             AF_INET/AF_INET6 when allow_inet; else EAFNOSUPPORT"
        }
    }
}

// ---------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal interpreter for the subset of classic BPF the assembler emits, so the
    /// program's decisions can be checked exhaustively without a kernel.
    fn run(prog: &[libc::sock_filter], arch: u32, nr: u32, args: [u64; 6]) -> u32 {
        let mut data = [0u8; 64];
        data[0..4].copy_from_slice(&nr.to_le_bytes());
        data[4..8].copy_from_slice(&arch.to_le_bytes());
        for (i, a) in args.iter().enumerate() {
            data[16 + 8 * i..24 + 8 * i].copy_from_slice(&a.to_le_bytes());
        }
        let mut acc: u32 = 0;
        let mut pc = 0usize;
        loop {
            let ins = prog[pc];
            pc += 1;
            match ins.code {
                c if c == BPF_LD | BPF_W | BPF_ABS => {
                    let o = ins.k as usize;
                    acc = u32::from_le_bytes(data[o..o + 4].try_into().unwrap());
                }
                c if c == BPF_ALU | BPF_AND | BPF_K => acc &= ins.k,
                c if c == BPF_RET | BPF_K => return ins.k,
                c if c & 0x07 == BPF_JMP => {
                    let taken = match c & 0xf0 {
                        BPF_JEQ => acc == ins.k,
                        BPF_JGE => acc >= ins.k,
                        BPF_JSET => acc & ins.k != 0,
                        op => panic!("unexpected jump op {op:#x}"),
                    };
                    pc += usize::from(if taken { ins.jt } else { ins.jf });
                }
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    fn nr_of(name: &str) -> u32 {
        RULES.iter().find(|r| r.0 == name).unwrap().1
    }

    const EPERM: u32 = ret_errno(libc::EPERM);

    #[test]
    fn numbers_match_libc() {
        let expected: &[(&str, libc::c_long)] = &[
            ("clone3", libc::SYS_clone3),
            ("openat2", libc::SYS_openat2),
            ("clone", libc::SYS_clone),
            ("ptrace", libc::SYS_ptrace),
            ("process_vm_readv", libc::SYS_process_vm_readv),
            ("process_vm_writev", libc::SYS_process_vm_writev),
            ("pidfd_getfd", libc::SYS_pidfd_getfd),
            ("mount", libc::SYS_mount),
            ("umount2", libc::SYS_umount2),
            ("pivot_root", libc::SYS_pivot_root),
            ("fsopen", libc::SYS_fsopen),
            ("fsconfig", libc::SYS_fsconfig),
            ("fsmount", libc::SYS_fsmount),
            ("fspick", libc::SYS_fspick),
            ("move_mount", libc::SYS_move_mount),
            ("open_tree", libc::SYS_open_tree),
            ("mount_setattr", libc::SYS_mount_setattr),
            ("bpf", libc::SYS_bpf),
            ("unshare", libc::SYS_unshare),
            ("setns", libc::SYS_setns),
            ("add_key", libc::SYS_add_key),
            ("request_key", libc::SYS_request_key),
            ("keyctl", libc::SYS_keyctl),
            ("perf_event_open", libc::SYS_perf_event_open),
            ("userfaultfd", libc::SYS_userfaultfd),
            ("kexec_load", libc::SYS_kexec_load),
            ("kexec_file_load", libc::SYS_kexec_file_load),
            ("init_module", libc::SYS_init_module),
            ("finit_module", libc::SYS_finit_module),
            ("delete_module", libc::SYS_delete_module),
            ("io_uring_setup", libc::SYS_io_uring_setup),
            ("io_uring_enter", libc::SYS_io_uring_enter),
            ("io_uring_register", libc::SYS_io_uring_register),
            ("acct", libc::SYS_acct),
            ("quotactl", libc::SYS_quotactl),
            ("quotactl_fd", libc::SYS_quotactl_fd),
            ("reboot", libc::SYS_reboot),
            ("swapon", libc::SYS_swapon),
            ("swapoff", libc::SYS_swapoff),
            ("name_to_handle_at", libc::SYS_name_to_handle_at),
            ("open_by_handle_at", libc::SYS_open_by_handle_at),
            ("lookup_dcookie", libc::SYS_lookup_dcookie),
            ("syslog", libc::SYS_syslog),
            ("vhangup", libc::SYS_vhangup),
            ("iopl", libc::SYS_iopl),
            ("ioperm", libc::SYS_ioperm),
            ("chroot", libc::SYS_chroot),
            ("settimeofday", libc::SYS_settimeofday),
            ("clock_settime", libc::SYS_clock_settime),
            ("clock_adjtime", libc::SYS_clock_adjtime),
            ("adjtimex", libc::SYS_adjtimex),
            ("nfsservctl", libc::SYS_nfsservctl),
            ("uselib", libc::SYS_uselib),
            ("_sysctl", libc::SYS__sysctl),
            ("personality", libc::SYS_personality),
            ("ioctl", libc::SYS_ioctl),
            ("chmod", libc::SYS_chmod),
            ("fchmod", libc::SYS_fchmod),
            ("fchmodat", libc::SYS_fchmodat),
            ("fchmodat2", libc::SYS_fchmodat2),
            ("open", libc::SYS_open),
            ("openat", libc::SYS_openat),
            ("creat", libc::SYS_creat),
            ("mkdir", libc::SYS_mkdir),
            ("mkdirat", libc::SYS_mkdirat),
            ("mknod", libc::SYS_mknod),
            ("mknodat", libc::SYS_mknodat),
            ("socket", libc::SYS_socket),
            ("socketpair", libc::SYS_socketpair),
        ];
        for &(name, nr) in expected {
            assert_eq!(i64::from(nr_of(name)), nr, "{name}");
        }
        // Not in libc 0.2.191; from syscall_64.tbl (Linux 6.15).
        assert_eq!(nr_of("open_tree_attr"), 467);
        assert_eq!(
            expected.len() + 1,
            RULES.len(),
            "every rule is cross-checked"
        );
    }

    #[test]
    fn rule_numbers_are_unique() {
        let mut nrs: Vec<u32> = RULES.iter().map(|r| r.1).collect();
        nrs.sort_unstable();
        nrs.dedup();
        assert_eq!(nrs.len(), RULES.len());
    }

    #[test]
    fn interpreter_agrees_with_table() {
        for allow_inet in [false, true] {
            let f = Filter::build(&FilterOptions { allow_inet });
            let p = &f.prog;
            let x86 = AUDIT_ARCH_X86_64;

            // Arch and x32.
            assert_eq!(run(p, 0x4000_0003, 20, [0; 6]), RET_KILL_PROCESS); // i386
            assert_eq!(run(p, 0xc000_00b7, 172, [0; 6]), RET_KILL_PROCESS); // aarch64
            assert_eq!(run(p, x86, X32_SYSCALL_BIT | 39, [0; 6]), EPERM);
            assert_eq!(run(p, x86, u32::MAX, [0; 6]), EPERM);

            // Default allow for everything not in the table.
            for nr in 0..1024 {
                if RULES.iter().any(|r| r.1 == nr) {
                    continue;
                }
                assert_eq!(run(p, x86, nr, [u64::MAX; 6]), RET_ALLOW, "nr {nr}");
            }
            for &(name, nr, rule) in RULES {
                if let Rule::Errno(e) = rule {
                    assert_eq!(run(p, x86, nr, [0; 6]), ret_errno(e), "{name}");
                }
            }

            // clone.
            let clone = nr_of("clone");
            let sigchld = libc::SIGCHLD as u64;
            assert_eq!(run(p, x86, clone, [sigchld, 0, 0, 0, 0, 0]), RET_ALLOW);
            let thread_flags = (libc::CLONE_VM
                | libc::CLONE_FS
                | libc::CLONE_FILES
                | libc::CLONE_SIGHAND
                | libc::CLONE_THREAD
                | libc::CLONE_SYSVSEM
                | libc::CLONE_SETTLS
                | libc::CLONE_PARENT_SETTID
                | libc::CLONE_CHILD_CLEARTID) as u64;
            assert_eq!(run(p, x86, clone, [thread_flags, 0, 0, 0, 0, 0]), RET_ALLOW);
            for bit in [
                libc::CLONE_NEWNS,
                libc::CLONE_NEWUTS,
                libc::CLONE_NEWIPC,
                libc::CLONE_NEWUSER,
                libc::CLONE_NEWPID,
                libc::CLONE_NEWNET,
                libc::CLONE_NEWCGROUP,
                libc::CLONE_NEWTIME,
            ] {
                let flags = bit as u64 | sigchld;
                assert_eq!(run(p, x86, clone, [flags, 0, 0, 0, 0, 0]), EPERM);
            }

            // personality.
            let pers = nr_of("personality");
            assert_eq!(run(p, x86, pers, [0; 6]), RET_ALLOW);
            assert_eq!(run(p, x86, pers, [0xffff_ffff, 0, 0, 0, 0, 0]), RET_ALLOW);
            assert_eq!(run(p, x86, pers, [0x0040000, 0, 0, 0, 0, 0]), EPERM);

            // ioctl: masked compare on the low word.
            let ioctl = nr_of("ioctl");
            assert_eq!(run(p, x86, ioctl, [0, 0x5412, 0, 0, 0, 0]), EPERM);
            assert_eq!(
                run(p, x86, ioctl, [0, 0xdead_0000_0000_5412, 0, 0, 0, 0]),
                EPERM
            );
            assert_eq!(run(p, x86, ioctl, [0, 0x541c, 0, 0, 0, 0]), EPERM);
            assert_eq!(run(p, x86, ioctl, [0, 0x541b, 0, 0, 0, 0]), RET_ALLOW);

            // Modes.
            for &(name, nr, rule) in RULES {
                let (Rule::SetidMode(i) | Rule::Mknod(i)) = rule else {
                    continue;
                };
                let mut args = [0u64; 6];
                args[usize::from(i)] = 0o100644;
                assert_eq!(run(p, x86, nr, args), RET_ALLOW, "{name}");
                for bad in [0o4755, 0o2755, 0o6755, 0o104755] {
                    args[usize::from(i)] = bad;
                    assert_eq!(run(p, x86, nr, args), EPERM, "{name} {bad:o}");
                }
                if matches!(rule, Rule::Mknod(_)) {
                    for (mode, want) in [
                        (0o020600, EPERM),
                        (0o060600, EPERM),
                        (0o010600, RET_ALLOW),
                        (0o140600, RET_ALLOW),
                        (0o100600, RET_ALLOW),
                    ] {
                        args[usize::from(i)] = mode;
                        assert_eq!(run(p, x86, nr, args), want, "{name} {mode:o}");
                    }
                }
            }

            // Sockets.
            let inet = if allow_inet {
                RET_ALLOW
            } else {
                ret_errno(libc::EAFNOSUPPORT)
            };
            for name in ["socket", "socketpair"] {
                let nr = nr_of(name);
                let s = |dom: u64, proto: u64| run(p, x86, nr, [dom, 1, proto, 0, 0, 0]);
                assert_eq!(s(1, 0), RET_ALLOW);
                assert_eq!(s(2, 0), inet);
                assert_eq!(s(10, 0), inet);
                assert_eq!(s(16, 0), RET_ALLOW);
                assert_eq!(s(16, 9), ret_errno(libc::EPROTONOSUPPORT));
                for dom in [0, 3, 4, 15, 17, 31, 38, 40, 44, 46, 0x1_0000_0001] {
                    let want = if dom == 0x1_0000_0001 {
                        RET_ALLOW
                    } else {
                        ret_errno(libc::EAFNOSUPPORT)
                    };
                    assert_eq!(s(dom, 0), want, "domain {dom}");
                }
            }
        }
    }

    #[test]
    fn summary_lists_every_rule() {
        let s = rules_summary();
        for &(name, _, _) in RULES {
            assert!(s.iter().any(|&(n, _)| n == name), "{name}");
        }
        assert_eq!(s.len(), RULES.len() + 3);
    }
}
