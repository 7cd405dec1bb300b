//! Parse the built-in policy at build time into compact JSON (the canonical
//! form that the policy version hashes) and its version. `Policy::compile`
//! computes the same for any policy file at run time; a test checks the two agree.

#[path = "src/schema.rs"]
#[allow(dead_code)]
mod schema;

use sha2::{Digest, Sha256};

fn main() {
    println!("cargo:rerun-if-changed=src/default.toml");
    println!("cargo:rerun-if-changed=src/schema.rs");
    let text = std::fs::read_to_string("src/default.toml").expect("read src/default.toml");
    let file: schema::PolicyFile = toml::from_str(&text).expect("the built-in policy parses");
    let canonical = serde_json::to_string(&file).expect("serialize the built-in policy");
    let digest = Sha256::digest(canonical.as_bytes());
    let version: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    std::fs::write(out.join("default_policy.json"), canonical).expect("write json");
    std::fs::write(
        out.join("default_policy.version"),
        format!("sha256:{version}"),
    )
    .expect("write version");
}
