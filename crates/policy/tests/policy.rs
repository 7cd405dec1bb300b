//! The policy engine: the default policy, its examples, and invalid policies.

use inspect::{Context, Lang, analyze};
use policy::{Grants, Policy, Scope, Verdict};

fn scope() -> Scope {
    Scope {
        workspace: "/w/p".into(),
        home: "/home/u".into(),
        airlock_paths: vec!["/home/u/.local/state/airlock".into()],
    }
}

fn decide(code: &str) -> Verdict {
    let p = Policy::default_policy();
    let b = p.bind(&scope()).unwrap();
    let a = analyze(Lang::Bash, code, &Context::new("/w/p", "/w/p", "/home/u"));
    b.decide(&a.ops, &Grants::default()).verdict
}

#[test]
fn default_policy_compiles_and_its_examples_hold() {
    // With full validation (the fast built-in path skips regex syntax checks).
    let checked = Policy::from_toml(policy::DEFAULT_POLICY_TOML).unwrap();
    let p = Policy::default_policy();
    assert_eq!(checked.version, p.version);
    assert!(p.version.starts_with("sha256:"));
    let problems = p.check_examples();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn verdicts_of_the_default_policy() {
    assert_eq!(decide("ls -la"), Verdict::Allow);
    assert_eq!(decide("rm -rf build/"), Verdict::Allow);
    assert_eq!(decide("rm -rf ~/"), Verdict::Deny);
    assert_eq!(decide("rm -rf ."), Verdict::Deny);
    assert_eq!(decide("cat ~/.ssh/id_rsa"), Verdict::Deny);
    assert_eq!(decide("cat .env.example"), Verdict::Allow);
    assert_eq!(decide("curl https://example.com"), Verdict::Deny);
    assert_eq!(decide("curl http://localhost:3000/health"), Verdict::Allow);
    assert_eq!(decide("git reset --hard"), Verdict::Ask);
    assert_eq!(decide("some-unknown-tool --flag"), Verdict::Ask);
    assert_eq!(decide("eval \"$X\""), Verdict::Ask);
    assert_eq!(decide("echo x > .claude/settings.json"), Verdict::Deny);
    assert_eq!(decide("cat ~/.local/state/airlock/key"), Verdict::Deny);
    assert_eq!(decide("airlock approvals approve 7"), Verdict::Deny);
    // A path that is only partly known and may be a secret is asked, not allowed.
    assert_eq!(decide("cat \"$F\""), Verdict::Ask);
}

#[test]
fn grants_open_named_hosts_only() {
    let p = Policy::default_policy();
    let b = p.bind(&scope()).unwrap();
    let ctx = Context::new("/w/p", "/w/p", "/home/u");
    let g = Grants {
        hosts: vec!["*.example.com".into()],
    };
    let ok = analyze(Lang::Bash, "curl https://api.example.com/x", &ctx);
    assert_eq!(b.decide(&ok.ops, &g).verdict, Verdict::Allow);
    // `*.example.com` covers subdomains, not the apex.
    let apex = analyze(Lang::Bash, "curl https://example.com/x", &ctx);
    assert_eq!(b.decide(&apex.ops, &g).verdict, Verdict::Deny);
}

fn compile_err(text: &str) -> String {
    Policy::from_toml(text).unwrap_err().to_string()
}

const HEAD: &str = "schema = 1\nname = \"t\"\ndefault = \"ask\"\nopaque = \"ask\"\n";

#[test]
fn invalid_policies_are_refused_with_lines() {
    let e = compile_err("schema = 1\nname = \"t\"\ndefault = \"allow\"\nopaque = \"ask\"\n");
    assert!(e.contains("default must be ask or deny"), "{e}");
    let e = compile_err("schema = 1\nname = \"t\"\ndefault = \"ask\"\nopaque = \"allow\"\n");
    assert!(e.contains("opaque must be ask or deny"), "{e}");
    let e = compile_err(&format!(
        "{HEAD}\n[[rule]]\nid = \"x\"\nop = \"opaque\"\nverdict = \"allow\"\nreason = \"r\"\n"
    ));
    assert!(
        e.contains("line 7") && e.contains("never be allowed"),
        "{e}"
    );
    let e = compile_err(&format!(
        "{HEAD}\n[[rule]]\nid = \"x\"\nop = \"exec\"\nverdict = \"allow\"\nreason = \"r\"\nany_arg = \"(\"\n"
    ));
    assert!(e.contains("line 7") && e.contains("regex"), "{e}");
    let e = compile_err(&format!(
        "{HEAD}\n[[rule]]\nid = \"x\"\nop = \"exec\"\nverdict = \"allow\"\nreason = \"r\"\nbogus = 1\n"
    ));
    assert!(e.contains("line 11") && e.contains("unknown field"), "{e}");
    let e = compile_err("schema = 1\nname = [\n");
    assert!(e.starts_with("line 2"), "{e}");
    let e = compile_err(&format!(
        "{HEAD}\n[[rule]]\nid = \"x\"\nop = \"nope\"\nverdict = \"allow\"\nreason = \"r\"\n"
    ));
    assert!(e.contains("unknown op kind"), "{e}");
}

#[test]
fn an_allowlist_allows_nothing_unnamed() {
    let p = Policy::from_toml(HEAD).unwrap();
    let b = p.bind(&scope()).unwrap();
    let a = analyze(Lang::Bash, "ls", &Context::new("/w/p", "/w/p", "/home/u"));
    assert_eq!(b.decide(&a.ops, &Grants::default()).verdict, Verdict::Ask);
    // No operations at all (a comment) is allowed: there is nothing to run.
    let a = analyze(
        Lang::Bash,
        "# nothing",
        &Context::new("/w/p", "/w/p", "/home/u"),
    );
    assert_eq!(b.decide(&a.ops, &Grants::default()).verdict, Verdict::Allow);
}

#[test]
fn version_is_canonical() {
    let a = Policy::from_toml(HEAD).unwrap();
    let b = Policy::from_toml(
        "name = \"t\"\nschema = 1\nopaque = \"ask\"\n\n# comment\ndefault = \"ask\"\n",
    )
    .unwrap();
    assert_eq!(a.version, b.version);
}

#[test]
fn a_rule_whose_paths_bind_to_nothing_matches_no_path() {
    let text = r#"
schema = 1
name = "t"
default = "deny"
opaque = "deny"

[[rule]]
id = "read.airlock-public"
op = "file_read"
verdict = "allow"
paths = ["{airlock}/public/**"]
reason = "test"
"#;
    let p = Policy::from_toml(text).unwrap();
    let no_airlock = Scope {
        workspace: "/w/p".into(),
        home: "/home/u".into(),
        airlock_paths: vec![],
    };
    let b = p.bind(&no_airlock).unwrap();
    let a = analyze(
        Lang::Bash,
        "cat /etc/passwd",
        &Context::new("/w/p", "/w/p", "/home/u"),
    );
    let reads: Vec<_> = a
        .ops
        .iter()
        .filter(|o| o.kind_name() == "file_read")
        .cloned()
        .collect();
    assert_eq!(reads.len(), 1, "{:?}", a.ops);
    let d = b.decide(&reads, &Grants::default());
    assert_ne!(d.verdict, Verdict::Allow, "{d:?}");
    // With an airlock path the rule allows what it names, and only that.
    let b = p.bind(&scope()).unwrap();
    let a = analyze(
        Lang::Bash,
        "cat /home/u/.local/state/airlock/public/x",
        &Context::new("/w/p", "/w/p", "/home/u"),
    );
    let reads: Vec<_> = a
        .ops
        .iter()
        .filter(|o| o.kind_name() == "file_read")
        .cloned()
        .collect();
    assert_eq!(b.decide(&reads, &Grants::default()).verdict, Verdict::Allow);
}
