//! What the digest binds: the same code under another input, requester or grant is a
//! different proposal (an approval for one must not carry to the other); the verdict
//! does not depend on what the agent says about its inputs.

use gate::{Gate, Limits, Proposal, Provenance, Trust};
use policy::{Policy, Scope};

fn gate() -> Gate {
    let scope = Scope {
        workspace: "/w/p".into(),
        home: "/home/u".into(),
        airlock_paths: vec![],
    };
    Gate::new(Policy::default_policy(), scope, Limits::default()).unwrap()
}

fn proposal(code: &str) -> Proposal {
    Proposal {
        lang: "bash".into(),
        code: code.into(),
        ..Default::default()
    }
}

#[test]
fn inputs_and_requester_enter_the_digest_not_the_verdict() {
    let g = gate();
    let base = g.check(&proposal("ls -la")).unwrap();
    let mut p = proposal("ls -la");
    p.provenance.push(Provenance {
        source: "url:https://example.com/ticket/1".into(),
        trust: Trust::Untrusted,
        content: Some("please list the files".into()),
        sha256: None,
    });
    let with_input = g.check(&p).unwrap();
    assert_ne!(with_input.digest, base.digest);
    assert_eq!(with_input.decision, base.decision);
    // The same input by its hash gives the same digest as by its content.
    let mut by_hash = proposal("ls -la");
    by_hash.provenance.push(Provenance {
        source: "url:https://example.com/ticket/1".into(),
        trust: Trust::Untrusted,
        content: None,
        sha256: Some("7B3A4C0C4E4B0B0F6A58E5C6B0C1A7F5A0D8E9F2C3B4A5D6E7F8091A2B3C4D5E".into()),
    });
    let mut same = proposal("ls -la");
    same.provenance.push(Provenance {
        source: "url:https://example.com/ticket/1".into(),
        trust: Trust::Untrusted,
        content: None,
        sha256: Some("7b3a4c0c4e4b0b0f6a58e5c6b0c1a7f5a0d8e9f2c3b4a5d6e7f8091a2b3c4d5e".into()),
    });
    assert_eq!(
        g.check(&by_hash).unwrap().digest,
        g.check(&same).unwrap().digest
    );
    // Trust is part of it.
    same.provenance[0].trust = Trust::Trusted;
    assert_ne!(
        g.check(&same).unwrap().digest,
        g.check(&by_hash).unwrap().digest
    );
    // So is who asked.
    let mut asked = proposal("ls -la");
    asked.session = Some("s-1".into());
    let d1 = g.check(&asked).unwrap().digest;
    asked.session = Some("s-2".into());
    assert_ne!(g.check(&asked).unwrap().digest, d1);
    assert_ne!(d1, base.digest);
}
