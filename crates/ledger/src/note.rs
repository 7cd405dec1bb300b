//! Checkpoints as C2SP signed notes (`tlog-checkpoint` over `signed-note`), signed with
//! Ed25519, and the key strings of the same specification:
//!
//! ```text
//! <origin>\n<tree size>\n<base64 root>\n
//! \n
//! — <key name> <base64(key hash[4] ‖ signature)>\n
//! ```
//!
//! The key hash is the first 4 bytes of `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`;
//! a verifier key is `<name>+<hex key hash>+<base64(0x01 ‖ public key)>`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

const ALG_ED25519: u8 = 0x01;
const DASH: &str = "\u{2014} ";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("malformed key: {0}")]
    Key(String),
    #[error("malformed note: {0}")]
    Malformed(String),
    #[error("no signature by key {0} on this checkpoint")]
    NoSignature(String),
    #[error("the signature by key {0} does not verify: the checkpoint was altered or forged")]
    BadSignature(String),
}

fn key_hash(name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ALG_ED25519]);
    h.update(public);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('+')
        && name.chars().all(|c| !c.is_whitespace() && !c.is_control())
}

/// The public half: what `verify` needs, and all it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    pub name: String,
    key: VerifyingKey,
}

impl VerifierKey {
    pub fn parse(s: &str) -> Result<VerifierKey, NoteError> {
        let s = s.trim();
        let mut parts = s.splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::Key("expected NAME+HASH+KEY".into()));
        };
        if !valid_name(name) {
            return Err(NoteError::Key(format!("invalid key name {name:?}")));
        }
        let raw = B64
            .decode(key)
            .map_err(|_| NoteError::Key("key is not base64".into()))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(NoteError::Key("not an Ed25519 key".into()));
        }
        let public: [u8; 32] = raw[1..].try_into().expect("33 - 1 bytes");
        if crate::hex(&key_hash(name, &public)) != hash.to_ascii_lowercase() {
            return Err(NoteError::Key("key hash does not match the key".into()));
        }
        let key = VerifyingKey::from_bytes(&public)
            .map_err(|_| NoteError::Key("not a valid Ed25519 point".into()))?;
        Ok(VerifierKey {
            name: name.to_string(),
            key,
        })
    }

    pub fn encode(&self) -> String {
        let public = self.key.to_bytes();
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(&public);
        format!(
            "{}+{}+{}",
            self.name,
            crate::hex(&key_hash(&self.name, &public)),
            B64.encode(raw)
        )
    }
}

/// The private half, kept 0600 in airlock's state directory.
pub struct SignerKey {
    name: String,
    key: SigningKey,
}

impl SignerKey {
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<SignerKey, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::Key(format!("invalid key name {name:?}")));
        }
        Ok(SignerKey {
            name: name.to_string(),
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`.
    pub fn parse(s: &str) -> Result<SignerKey, NoteError> {
        let rest = s
            .trim()
            .strip_prefix("PRIVATE+KEY+")
            .ok_or_else(|| NoteError::Key("expected PRIVATE+KEY+...".into()))?;
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(hash), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::Key("expected PRIVATE+KEY+NAME+HASH+KEY".into()));
        };
        let raw = B64
            .decode(key)
            .map_err(|_| NoteError::Key("key is not base64".into()))?;
        if raw.len() != 33 || raw[0] != ALG_ED25519 {
            return Err(NoteError::Key("not an Ed25519 key".into()));
        }
        let k = SignerKey::from_seed(name, raw[1..].try_into().expect("32 bytes"))?;
        if crate::hex(&key_hash(name, &k.key.verifying_key().to_bytes()))
            != hash.to_ascii_lowercase()
        {
            return Err(NoteError::Key("key hash does not match the key".into()));
        }
        Ok(k)
    }

    pub fn encode(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(&self.key.to_bytes());
        let public = self.key.verifying_key().to_bytes();
        format!(
            "PRIVATE+KEY+{}+{}+{}",
            self.name,
            crate::hex(&key_hash(&self.name, &public)),
            B64.encode(raw)
        )
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key: self.key.verifying_key(),
        }
    }

    /// Signs a checkpoint and returns the whole signed note.
    pub fn sign(&self, c: &Checkpoint) -> String {
        let body = c.body();
        let sig = self.key.sign(body.as_bytes());
        let mut raw = key_hash(&self.name, &self.key.verifying_key().to_bytes()).to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        format!("{body}\n{DASH}{} {}\n", self.name, B64.encode(raw))
    }
}

/// A tree head: which log, how many records, and the root over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

impl Checkpoint {
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        )
    }
}

/// A signed note parsed: the checkpoint and its signature lines (unverified).
#[derive(Debug, Clone)]
pub struct SignedCheckpoint {
    pub checkpoint: Checkpoint,
    body: String,
    signatures: Vec<(String, Vec<u8>)>,
    pub text: String,
}

impl SignedCheckpoint {
    pub fn parse(text: &str) -> Result<SignedCheckpoint, NoteError> {
        let m = |s: &str| NoteError::Malformed(s.to_string());
        if text.len() > 1 << 16 || text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(m("too long, or contains control characters"));
        }
        let (body, sigs) = text
            .rsplit_once("\n\n")
            .ok_or_else(|| m("no blank line between the checkpoint and its signatures"))?;
        let body = format!("{body}\n");
        let mut lines = body.lines();
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or_else(|| m("no origin"))?;
        let size: u64 = lines
            .next()
            .and_then(|s| {
                let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
                (digits && (s == "0" || !s.starts_with('0'))).then_some(())?;
                s.parse().ok()
            })
            .ok_or_else(|| m("bad tree size"))?;
        let root: Hash = lines
            .next()
            .and_then(|r| B64.decode(r).ok())
            .and_then(|r| r.try_into().ok())
            .ok_or_else(|| m("bad root hash"))?;
        let mut signatures = Vec::new();
        for line in sigs.lines() {
            let rest = line
                .strip_prefix(DASH)
                .ok_or_else(|| m("signature line does not start with an em dash"))?;
            let (name, sig) = rest
                .split_once(' ')
                .ok_or_else(|| m("bad signature line"))?;
            let raw = B64.decode(sig).map_err(|_| m("signature is not base64"))?;
            signatures.push((name.to_string(), raw));
        }
        if signatures.is_empty() {
            return Err(m("no signatures"));
        }
        Ok(SignedCheckpoint {
            checkpoint: Checkpoint {
                origin: origin.to_string(),
                size,
                root,
            },
            body,
            signatures,
            text: text.to_string(),
        })
    }

    /// Checks the signature of `key` (signatures by other keys are ignored, as the
    /// specification asks, so cosignatures can be added).
    pub fn verify(&self, key: &VerifierKey) -> Result<(), NoteError> {
        let public = key.key.to_bytes();
        let want = key_hash(&key.name, &public);
        // Every signature by this key must verify (a bad one beside a good one rejects
        // the note, as the specification advises).
        let mut good = false;
        for (name, raw) in &self.signatures {
            if name != &key.name || raw.len() < 4 || raw[..4] != want {
                continue;
            }
            let ok = raw.len() == 68 && {
                let sig = ed25519_dalek::Signature::from_bytes(raw[4..].try_into().expect("64"));
                key.key.verify(self.body.as_bytes(), &sig).is_ok()
            };
            if !ok {
                return Err(NoteError::BadSignature(key.name.clone()));
            }
            good = true;
        }
        if good {
            Ok(())
        } else {
            Err(NoteError::NoSignature(key.name.clone()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_parse_verify() {
        let k = SignerKey::from_seed("airlock.example/log", [7; 32]).unwrap();
        let v = VerifierKey::parse(&k.verifier().encode()).unwrap();
        assert_eq!(v, k.verifier());
        let k2 = SignerKey::parse(&k.encode()).unwrap();
        assert_eq!(k2.verifier(), v);
        let c = Checkpoint {
            origin: "airlock.example/log".into(),
            size: 12,
            root: [9; 32],
        };
        let note = k.sign(&c);
        let p = SignedCheckpoint::parse(&note).unwrap();
        assert_eq!(p.checkpoint, c);
        p.verify(&v).unwrap();
        // Any change to the body breaks the signature.
        let forged = note.replace("\n12\n", "\n13\n");
        let p = SignedCheckpoint::parse(&forged).unwrap();
        assert_eq!(p.verify(&v), Err(NoteError::BadSignature(v.name.clone())));
        // Another key's signature is not this key's.
        let other = SignerKey::from_seed("airlock.example/log", [8; 32]).unwrap();
        let p = SignedCheckpoint::parse(&other.sign(&c)).unwrap();
        assert!(p.verify(&v).is_err());
        assert!(VerifierKey::parse("a+00000000+AQ==").is_err());
        // A bad signature by the key beside a good one rejects the note.
        let note = k.sign(&c);
        let sig_line = note.lines().last().unwrap().to_string();
        let mut bad_line = sig_line.clone();
        let last = bad_line.pop().unwrap();
        bad_line.push(if last == 'A' { 'B' } else { 'A' });
        let doubled = format!("{note}{bad_line}\n");
        let p = SignedCheckpoint::parse(&doubled).unwrap();
        assert!(p.verify(&v).is_err());
        // Sizes are plain decimal digits.
        assert!(SignedCheckpoint::parse(&note.replace("\n12\n", "\n+12\n")).is_err());
    }
}
