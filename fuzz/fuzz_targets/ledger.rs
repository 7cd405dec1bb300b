//! Fuzz the ledger's readers with hostile files: arbitrary bytes become a segment, a
//! checkpoint log and an index in a scratch ledger directory, and `verify` must finish
//! without panicking; the same bytes go through the signed-note parser and the frame
//! decoder. (A verifier is run on ledgers an attacker may have written.)
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

static DIR: LazyLock<PathBuf> = LazyLock::new(|| {
    let d = std::env::temp_dir().join(format!("airlock-fuzz-ledger-{}", std::process::id()));
    std::fs::create_dir_all(d.join("segments")).expect("scratch dir");
    std::fs::create_dir_all(d.join("keys")).expect("scratch dir");
    d
});

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(sc) = ledger::note::SignedCheckpoint::parse(text) {
            let _ = sc.checkpoint.body();
        }
        let _ = ledger::note::VerifierKey::parse(text);
    }
    let _ = ledger::frame::decode(data, 1 << 20);
    // Three files from one input: the first two bytes say where it is cut.
    if data.len() < 2 {
        return;
    }
    let rest = &data[2..];
    let a = (data[0] as usize * rest.len()) / 256;
    let b = a + ((data[1] as usize) * (rest.len() - a)) / 256;
    let d = &*DIR;
    let seg = d.join("segments").join(ledger::store::segment_name(0));
    let _ = std::fs::write(&seg, &rest[..a]);
    let _ = std::fs::write(d.join("checkpoints"), &rest[a..b]);
    let _ = std::fs::write(d.join("index"), &rest[b..]);
    let _ = ledger::verify::verify(d, &ledger::verify::VerifyOptions::default());
    let _ = ledger::read::entries(d).map(|it| it.take(64).count());
});
