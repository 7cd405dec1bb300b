//! Link the airlock binary with packed relative relocations (RELR): the same
//! position-independent executable, with its ~26k start-up relocations stored
//! compactly, so the dynamic loader touches far less memory at every start.
fn main() {
    println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
}
