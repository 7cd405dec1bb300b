//! Fuzz the sql analyzer: `inspect::analyze(Lang::Sql, ..)` on arbitrary UTF-8.
#![no_main]

use std::sync::LazyLock;

use inspect::{Context, Lang};
use libfuzzer_sys::fuzz_target;

static CTX: LazyLock<Context> = LazyLock::new(|| Context::new("/fuzz/ws/src", "/fuzz/ws", "/fuzz/home"));

fuzz_target!(|data: &[u8]| {
    // Non-UTF-8 input never reaches the analyzer (the gate refuses it first).
    let Ok(code) = std::str::from_utf8(data) else {
        return;
    };
    let _ = inspect::analyze(Lang::Sql, code, &CTX);
});
