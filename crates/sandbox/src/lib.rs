//! The execution step: run a command in a Linux sandbox with no standing privileges.
//!
//! Layers, outermost first: namespaces and a minimal pivot_root view (what exists at all),
//! an unprivileged uid that never maps onto host root, Landlock (what may be touched),
//! seccomp (which kernel interfaces may be used), and resource limits with a wall-clock
//! timeout. Network leaves only through the egress proxy in [`egress`].

pub mod egress;
pub mod overlay;
pub mod seccomp;

mod child;
mod coord;
pub mod doctor;
pub mod limits;
pub mod profile;
pub mod runner;
mod sys;

pub use profile::{Limits, Profile, WorkspaceMode};
pub use runner::{Exit, Layers, Outcome, RunError, run};
