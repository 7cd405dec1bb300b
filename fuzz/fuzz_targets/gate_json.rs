//! Fuzz the whole gate from its JSON input: arbitrary bytes → `gate::Proposal`
//! (serde_json) → `gate.check` → the verdict serialized back to JSON.
#![no_main]

use std::sync::LazyLock;

use gate::{Gate, Limits, Proposal};
use libfuzzer_sys::fuzz_target;
use policy::{Policy, Scope};

// A workspace that does not exist: scripts the code runs are looked up inside
// it, so every lookup is a cheap "not found" and the run touches no files.
static GATE: LazyLock<Gate> = LazyLock::new(|| {
    let scope = Scope {
        workspace: "/nonexistent/airlock-fuzz/ws".into(),
        home: "/nonexistent/airlock-fuzz/home".into(),
        airlock_paths: vec!["/nonexistent/airlock-fuzz/home/.config/airlock".into()],
    };
    Gate::new(Policy::default_policy(), scope, Limits::default()).expect("the default policy binds")
});

fuzz_target!(|data: &[u8]| {
    let Ok(p) = serde_json::from_slice::<Proposal>(data) else {
        return;
    };
    if let Ok(checked) = GATE.check(&p) {
        let _ = serde_json::to_vec(&checked);
    }
});
