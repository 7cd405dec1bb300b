//! Thin wrappers over the Linux calls the runner needs that `libc` does not wrap:
//! the new mount API, pidfds and Landlock. Every function here is async-signal-safe
//! (no allocation), because the child side of the spawn calls them after `clone`.

use libc::{c_char, c_int, c_long, c_uint, c_void};

pub const OPEN_TREE_CLONE: c_uint = 1;
pub const OPEN_TREE_CLOEXEC: c_uint = libc::O_CLOEXEC as c_uint;
pub const AT_RECURSIVE: c_uint = 0x8000;
pub const MOVE_MOUNT_F_EMPTY_PATH: c_uint = 0x4;
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
pub const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

#[repr(C)]
pub struct MountAttr {
    pub attr_set: u64,
    pub attr_clr: u64,
    pub propagation: u64,
    pub userns_fd: u64,
}

fn ret(r: c_long) -> Result<c_long, i32> {
    if r < 0 { Err(errno()) } else { Ok(r) }
}

pub fn errno() -> i32 {
    // SAFETY: __errno_location always returns a valid thread-local pointer.
    unsafe { *libc::__errno_location() }
}

/// `open_tree(dirfd, path, flags)`: a detached clone of the mount tree at `path`.
///
/// # Safety
/// `path` must be a valid NUL-terminated string.
pub unsafe fn open_tree(dirfd: c_int, path: *const c_char, flags: c_uint) -> Result<c_int, i32> {
    // SAFETY: raw syscall with caller-checked pointer.
    ret(unsafe { libc::syscall(libc::SYS_open_tree, dirfd, path, flags) }).map(|r| r as c_int)
}

/// `move_mount(from_fd, "", AT_FDCWD, to, MOVE_MOUNT_F_EMPTY_PATH)`: attach a detached tree.
///
/// # Safety
/// `to` must be a valid NUL-terminated string.
pub unsafe fn move_mount_to(from_fd: c_int, to: *const c_char) -> Result<(), i32> {
    // SAFETY: raw syscall with valid pointers.
    ret(unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from_fd,
            c"".as_ptr(),
            libc::AT_FDCWD,
            to,
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    })
    .map(|_| ())
}

/// `mount_setattr(fd, "", AT_EMPTY_PATH [| AT_RECURSIVE], attr)`.
pub fn mount_setattr_fd(fd: c_int, recursive: bool, attr: &MountAttr) -> Result<(), i32> {
    let flags = libc::AT_EMPTY_PATH as c_uint | if recursive { AT_RECURSIVE } else { 0 };
    // SAFETY: attr points to a live MountAttr of the declared size.
    ret(unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd,
            c"".as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    })
    .map(|_| ())
}

pub fn pidfd_send_signal(pidfd: c_int, sig: c_int) -> Result<(), i32> {
    // SAFETY: no pointers besides NULL siginfo.
    ret(unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd,
            sig,
            std::ptr::null::<c_void>(),
            0,
        )
    })
    .map(|_| ())
}

// ---- Landlock ----

pub const LANDLOCK_CREATE_RULESET_VERSION: u32 = 1;
pub const LANDLOCK_RULE_PATH_BENEATH: c_int = 1;
pub const LANDLOCK_RULE_NET_PORT: c_int = 2;

#[repr(C)]
pub struct LandlockRulesetAttr {
    pub handled_access_fs: u64,
    pub handled_access_net: u64,
    pub scoped: u64,
}

#[repr(C, packed)]
pub struct LandlockPathBeneathAttr {
    pub allowed_access: u64,
    pub parent_fd: i32,
}

#[repr(C)]
pub struct LandlockNetPortAttr {
    pub allowed_access: u64,
    pub port: u64,
}

/// The Landlock ABI version the kernel offers, 0 when Landlock is absent or disabled.
pub fn landlock_abi() -> u32 {
    // SAFETY: the version query takes no attribute pointer.
    let r = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<c_void>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    if r < 0 { 0 } else { r as u32 }
}

/// Creates a ruleset; `size` lets older ABIs (without `scoped`) be served.
pub fn landlock_create_ruleset(attr: &LandlockRulesetAttr, size: usize) -> Result<c_int, i32> {
    // SAFETY: attr is valid for `size` bytes (size <= size_of).
    ret(unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            attr as *const LandlockRulesetAttr,
            size,
            0u32,
        )
    })
    .map(|r| r as c_int)
}

pub fn landlock_add_path_rule(ruleset: c_int, access: u64, fd: c_int) -> Result<(), i32> {
    let attr = LandlockPathBeneathAttr {
        allowed_access: access,
        parent_fd: fd,
    };
    // SAFETY: attr lives on the stack for the call.
    ret(unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset,
            LANDLOCK_RULE_PATH_BENEATH,
            &attr as *const LandlockPathBeneathAttr,
            0u32,
        )
    })
    .map(|_| ())
}

pub fn landlock_add_port_rule(ruleset: c_int, access: u64, port: u16) -> Result<(), i32> {
    let attr = LandlockNetPortAttr {
        allowed_access: access,
        port: port as u64,
    };
    // SAFETY: attr lives on the stack for the call.
    ret(unsafe {
        libc::syscall(
            libc::SYS_landlock_add_rule,
            ruleset,
            LANDLOCK_RULE_NET_PORT,
            &attr as *const LandlockNetPortAttr,
            0u32,
        )
    })
    .map(|_| ())
}

pub fn landlock_restrict_self(ruleset: c_int) -> Result<(), i32> {
    // SAFETY: plain fd argument.
    ret(unsafe { libc::syscall(libc::SYS_landlock_restrict_self, ruleset, 0u32) }).map(|_| ())
}
