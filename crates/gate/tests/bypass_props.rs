//! Property tests: rewriting a risky command in ways the shell treats as the
//! same (quoting, `$IFS`, `VAR=` prefixes, split and reordered flags, newline
//! splits, wrappers, nested shells) never loosens the verdict.

use gate::{Gate, Limits, Proposal};
use policy::{Policy, Scope, Verdict};
use proptest::prelude::*;

fn gate() -> &'static Gate {
    static G: std::sync::OnceLock<Gate> = std::sync::OnceLock::new();
    G.get_or_init(build_gate)
}

fn build_gate() -> Gate {
    let scope = Scope {
        workspace: "/w/p".into(),
        home: "/home/u".into(),
        airlock_paths: vec!["/home/u/.local/state/airlock".into()],
    };
    Gate::new(Policy::default_policy(), scope, Limits::default()).unwrap()
}

fn verdict(g: &Gate, code: &str) -> Verdict {
    let p = Proposal {
        lang: "bash".into(),
        code: code.into(),
        cwd: None,
        id: None,
        ..Default::default()
    };
    g.check(&p).map(|c| c.decision).unwrap_or(Verdict::Deny)
}

/// A risky command: program, single-letter flags, operands.
#[derive(Debug, Clone)]
struct Cmd {
    prog: &'static str,
    flags: Vec<char>,
    args: Vec<&'static str>,
}

fn base_commands() -> Vec<Cmd> {
    vec![
        Cmd {
            prog: "rm",
            flags: vec!['r', 'f'],
            args: vec!["/home/u/work"],
        },
        Cmd {
            prog: "rm",
            flags: vec!['r', 'f'],
            args: vec!["~/"],
        },
        Cmd {
            prog: "cat",
            flags: vec![],
            args: vec!["/home/u/.ssh/id_rsa"],
        },
        Cmd {
            prog: "cp",
            flags: vec!['r'],
            args: vec!["/home/u/.aws", "loot"],
        },
        Cmd {
            prog: "curl",
            flags: vec!['s', 'L'],
            args: vec!["https://198.51.100.23/x"],
        },
        Cmd {
            prog: "chmod",
            flags: vec!['R'],
            args: vec!["777", "/etc"],
        },
        Cmd {
            prog: "git",
            flags: vec![],
            args: vec!["reset", "--hard"],
        },
        Cmd {
            prog: "truncate",
            flags: vec![],
            args: vec!["-s0", "/var/log/syslog"],
        },
        Cmd {
            prog: "tee",
            flags: vec!['a'],
            args: vec!["/home/u/.bashrc"],
        },
    ]
}

#[derive(Debug, Clone)]
enum Tx {
    QuoteSplit,
    AnsiC,
    Backslash,
    Ifs,
    VarPrefix,
    SplitFlags,
    ReorderFlags,
    NewlineBefore,
    LineContinuation,
    Wrapper(usize),
    NestedShell(bool),
}

const WRAPPERS: &[&str] = &[
    "env",
    "command",
    "builtin command",
    "exec",
    "nice -n 5",
    "nohup",
    "timeout 5",
    "stdbuf -o0",
    "time",
    "busybox",
    "env -i",
    "env FOO=1",
    "sudo",
    "doas",
    "ionice -c3",
    "setsid",
    "flock /tmp/l",
];

fn tx_strategy() -> impl Strategy<Value = Tx> {
    prop_oneof![
        Just(Tx::QuoteSplit),
        Just(Tx::AnsiC),
        Just(Tx::Backslash),
        Just(Tx::Ifs),
        Just(Tx::VarPrefix),
        Just(Tx::SplitFlags),
        Just(Tx::ReorderFlags),
        Just(Tx::NewlineBefore),
        Just(Tx::LineContinuation),
        (0..WRAPPERS.len()).prop_map(Tx::Wrapper),
        any::<bool>().prop_map(Tx::NestedShell),
    ]
}

/// Render a command with the transformations applied. Returns shell code.
fn render(c: &Cmd, txs: &[Tx]) -> String {
    let mut prog = c.prog.to_string();
    let mut flag_words: Vec<String> = if c.flags.is_empty() {
        vec![]
    } else {
        vec![format!("-{}", c.flags.iter().collect::<String>())]
    };
    let mut sep = " ".to_string();
    let mut prefix = String::new();
    let mut wrappers: Vec<&str> = Vec::new();
    let mut nest: Vec<bool> = Vec::new();
    for t in txs {
        match t {
            Tx::QuoteSplit
                if prog.len() > 1 && prog.chars().all(|ch| ch.is_ascii_alphanumeric()) =>
            {
                prog = format!("{}''{}", &prog[..1], &prog[1..]);
            }
            Tx::AnsiC if prog.chars().all(|ch| ch.is_ascii_alphanumeric()) => {
                prog = format!(
                    "$'{}'",
                    prog.bytes()
                        .map(|b| format!("\\x{b:02x}"))
                        .collect::<String>()
                );
            }
            Tx::Backslash if prog.chars().all(|ch| ch.is_ascii_alphanumeric()) => {
                prog = format!("\\{prog}")
            }
            // After `${IFS}` a `~` is no longer at a word's start, so bash does
            // not expand it: `rm${IFS}-rf${IFS}~/` deletes `./~`, which is fine.
            Tx::Ifs if !c.args.iter().any(|a| a.starts_with('~')) => sep = "${IFS}".into(),
            Tx::VarPrefix => prefix.push_str("LC_ALL=C "),
            Tx::SplitFlags => flag_words = c.flags.iter().map(|f| format!("-{f}")).collect(),
            Tx::ReorderFlags => flag_words.reverse(),
            Tx::NewlineBefore => prefix = format!("true\n{prefix}"),
            Tx::LineContinuation if sep == " " => sep = " \\\n  ".into(),
            Tx::Wrapper(i) => wrappers.push(WRAPPERS[*i]),
            Tx::NestedShell(u) => nest.push(*u),
            _ => {}
        }
    }
    let mut words = vec![prog];
    words.extend(flag_words);
    words.extend(c.args.iter().map(|a| a.to_string()));
    let mut code = words.join(&sep);
    for w in wrappers {
        code = format!("{w} {code}");
    }
    let newline_prefix = prefix.starts_with("true\n");
    let env_prefix = prefix.trim_start_matches("true\n").to_string();
    code = format!("{env_prefix}{code}");
    for u in nest {
        let quoted = format!("'{}'", code.replace('\'', "'\\''"));
        code = if u {
            format!("sh -u -c {quoted}")
        } else {
            format!("bash -c {quoted}")
        };
    }
    if newline_prefix {
        code = format!("true\n{code}");
    }
    code
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn rewrites_never_loosen_a_verdict(
        which in 0..9usize,
        txs in proptest::collection::vec(tx_strategy(), 0..5),
    ) {
        let g = gate();
        let base = &base_commands()[which];
        let plain = render(base, &[]);
        let v0 = verdict(g, &plain);
        prop_assert!(v0 != Verdict::Allow, "base case {plain:?} must be risky");
        let code = render(base, &txs);
        let v1 = verdict(g, &code);
        prop_assert!(v1 >= v0, "{plain:?} is {v0}, but {code:?} is {v1}");
    }
}

#[test]
fn xargs_and_find_wrappers_keep_the_verdict() {
    let g = gate();
    for code in [
        "echo /home/u/work | xargs rm -rf",
        "printf '%s\\0' /home/u/.ssh | xargs -0 rm -rf",
        "find /home/u/work -maxdepth 0 -exec rm -rf {} \\;",
        "find /home/u -name id_rsa -exec cat {} +",
        "watch -n 1 rm -rf /home/u/work",
    ] {
        assert_ne!(verdict(g, code), Verdict::Allow, "{code}");
    }
}
