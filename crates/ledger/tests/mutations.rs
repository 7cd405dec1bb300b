//! Random damage to a ledger's segment: a flipped byte, a cut, a removed or duplicated
//! range. `verify` never panics, and always reports a problem (the ledger's own
//! checkpoint covers every record, so even a cut at a frame boundary shows).

use std::fs;
use std::path::{Path, PathBuf};

use ledger::verify::{VerifyOptions, verify};
use ledger::{Kind, Ledger, NewRecord, Options};
use proptest::prelude::*;

fn template() -> &'static (PathBuf, Vec<u8>) {
    static T: std::sync::OnceLock<(PathBuf, Vec<u8>)> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("airlock-ledger-mut-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        let l = Ledger::open(&d, Options::default()).unwrap();
        for i in 0..30u64 {
            l.append(
                NewRecord::new(
                    Kind::Verdict,
                    serde_json::json!({"decision": "allow", "n": i}),
                )
                .request(Some(&format!("r-{i}"))),
            )
            .unwrap();
        }
        drop(l);
        let seg = fs::read(d.join("segments").join(ledger::store::segment_name(0))).unwrap();
        (d, seg)
    })
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

#[derive(Debug, Clone)]
enum Damage {
    Flip(usize, u8),
    Cut(usize),
    Remove(usize, usize),
    Duplicate(usize, usize),
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(o, b)| Damage::Flip(o, b)),
        any::<usize>().prop_map(Damage::Cut),
        (any::<usize>(), 1usize..400).prop_map(|(o, n)| Damage::Remove(o, n)),
        (any::<usize>(), 1usize..400).prop_map(|(o, n)| Damage::Duplicate(o, n)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn any_damage_is_reported(d in damage()) {
        let (dir, seg) = template();
        let mut data = seg.clone();
        let len = data.len();
        match d {
            Damage::Flip(o, b) => data[o % len] ^= b,
            Damage::Cut(o) => data.truncate(o % len),
            Damage::Remove(o, n) => {
                let o = o % len;
                data.drain(o..(o + n).min(len));
            }
            Damage::Duplicate(o, n) => {
                let o = o % len;
                let piece: Vec<u8> = data[o..(o + n).min(len)].to_vec();
                data.splice(o..o, piece);
            }
        }
        let work = std::env::temp_dir().join(format!(
            "airlock-ledger-mut-case-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&work);
        copy_dir(dir, &work);
        fs::write(work.join("segments").join(ledger::store::segment_name(0)), &data).unwrap();
        let r = verify(&work, &VerifyOptions::default()).unwrap();
        let _ = fs::remove_dir_all(&work);
        prop_assert!(!r.ok(), "undetected: {:?}", d);
    }
}
