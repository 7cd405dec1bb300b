//! The alert rules: which ledger records deserve a person's attention.
//!
//! Rules read records exactly as the ledger stores them (`kind` + JSON body), so
//! they can run at append time, over an old ledger, or in a separate process.
//! They are pure (no I/O, no clock) and never fail: a body of an unexpected shape
//! simply matches less. The one rule that needs history, the denial burst, lives
//! in [`crate::burst`].
//!
//! A rule fires on verdicts of *every* decision: a denied `sudo` did not run, but
//! an agent that asked for it is worth knowing about, and an allowed `DROP TABLE`
//! even more. The decision is in the summary and the details.
//!
//! Each rule raises at most one alert per record, listing every operation that
//! matched, so alert ids (`<index>-<rule>`) stay unique and a command with ten
//! deletions makes one alert, not ten.

use serde_json::{Value, json};

use crate::config::{RuleConfig, RuleSetting};
use crate::{Severity, clip};

pub const PRIVILEGE: &str = "privilege";
pub const EGRESS_DENIED: &str = "egress_denied";
pub const DESTRUCTIVE: &str = "destructive";
pub const OPAQUE: &str = "opaque";
pub const PRODUCTION: &str = "production";
pub const DENIAL_BURST: &str = "denial_burst";

/// At most this many matching operations are listed in an alert's details.
const MAX_MATCHES: usize = 20;
/// At most this many are named in the one-line summary.
const SUMMARY_ITEMS: usize = 3;

/// What a rule raised, before it is tied to a ledger record.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub rule: String,
    pub severity: Severity,
    pub summary: String,
    pub details: Value,
}

/// The rules that fire on one ledger record (all but the denial burst).
pub fn evaluate(cfg: &RuleConfig, kind: &str, body: &Value) -> Vec<Draft> {
    match kind {
        "verdict" => verdict(cfg, body),
        "exec_outcome" => exec_outcome(cfg, body),
        _ => Vec::new(),
    }
}

/// One operation that matched a rule.
struct Hit {
    op: Option<usize>,
    what: String,
}

fn verdict(cfg: &RuleConfig, body: &Value) -> Vec<Draft> {
    let ops: &[Value] = body
        .get("operations")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice);
    let mut out = Vec::new();

    let scan = |setting: &RuleSetting, f: fn(&Value) -> Option<String>| -> Vec<Hit> {
        if !setting.enabled {
            return Vec::new();
        }
        ops.iter()
            .enumerate()
            .filter_map(|(i, op)| f(op).map(|what| Hit { op: Some(i), what }))
            .collect()
    };

    let rules: [(&str, &RuleSetting, Vec<Hit>, &str); 4] = [
        (
            PRIVILEGE,
            &cfg.privilege,
            scan(&cfg.privilege, privilege_of),
            "privilege escalation",
        ),
        (
            DESTRUCTIVE,
            &cfg.destructive,
            scan(&cfg.destructive, destructive_of),
            "destructive operation",
        ),
        (
            OPAQUE,
            &cfg.opaque,
            scan(&cfg.opaque, opaque_of),
            "opaque code",
        ),
        (
            PRODUCTION,
            &cfg.production,
            if cfg.production.enabled {
                production_hits(body, ops)
            } else {
                Vec::new()
            },
            "production target",
        ),
    ];
    for (rule, setting, hits, label) in rules {
        if !hits.is_empty() {
            out.push(verdict_draft(rule, setting.severity, label, body, hits));
        }
    }
    out
}

fn verdict_draft(
    rule: &str,
    severity: Severity,
    label: &str,
    body: &Value,
    hits: Vec<Hit>,
) -> Draft {
    let decision = body
        .get("decision")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    let said = match decision {
        "allow" => "allowed",
        "ask" => "held for approval",
        "deny" => "denied",
        _ => "undecided",
    };
    let summary = format!(
        "{label} ({said}): {}",
        list(hits.iter().map(|h| h.what.as_str()), hits.len())
    );
    let ops: Vec<usize> = hits.iter().filter_map(|h| h.op).collect();
    let reasons: Vec<&Value> = body
        .get("reasons")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .filter(|r| {
                    r.get("op")
                        .and_then(Value::as_u64)
                        .is_some_and(|i| ops.contains(&(i as usize)))
                })
                .take(MAX_MATCHES)
                .collect()
        })
        .unwrap_or_default();
    let matches: Vec<Value> = hits
        .iter()
        .take(MAX_MATCHES)
        .map(|h| json!({"op": h.op, "what": h.what}))
        .collect();
    Draft {
        rule: rule.to_string(),
        severity,
        summary,
        details: json!({
            "decision": decision,
            "digest": body.get("digest"),
            "policy_version": body.get("policy_version"),
            "matches": matches,
            "matched": hits.len(),
            "reasons": reasons,
        }),
    }
}

/// `a; b; c and 4 more`, each item clipped.
fn list<'a>(items: impl Iterator<Item = &'a str>, total: usize) -> String {
    let mut s: Vec<String> = items.take(SUMMARY_ITEMS).map(|w| clip(w, 80)).collect();
    if total > SUMMARY_ITEMS {
        s.push(format!("and {} more", total - SUMMARY_ITEMS));
    }
    s.join("; ")
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn path_of(op: &Value) -> (&str, &str) {
    let p = op.get("path").unwrap_or(&Value::Null);
    (
        str_of(p, "path"),
        p.get("exact").and_then(Value::as_str).unwrap_or("unknown"),
    )
}

fn objects(op: &Value) -> String {
    op.get("objects")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn sql_what(op: &Value, extra: &str) -> String {
    let objs = objects(op);
    let mut s = format!("SQL {}", str_of(op, "verb"));
    if !objs.is_empty() {
        s.push(' ');
        s.push_str(&objs);
    }
    if let Some(db) = op.get("database").and_then(Value::as_str) {
        s.push_str(&format!(" on {db}"));
    }
    s.push_str(extra);
    s
}

fn program_name(op: &Value) -> &str {
    let p = str_of(op, "program");
    p.rsplit('/').next().unwrap_or(p)
}

fn argv(op: &Value) -> Vec<&str> {
    op.get("argv")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn command_line(op: &Value) -> String {
    let mut s = program_name(op).to_string();
    for a in argv(op) {
        s.push(' ');
        s.push_str(a);
    }
    s
}

// ---- privilege ----------------------------------------------------------------

/// Asking for more power than the sandbox's unprivileged user: the inspector's
/// `privilege` operations (sudo, su, setcap, namespaces, privileged containers,
/// system configuration), set-id bits, and SQL access control (GRANT, roles).
fn privilege_of(op: &Value) -> Option<String> {
    match str_of(op, "op") {
        "privilege" => Some(format!("privilege: {}", str_of(op, "how"))),
        "file_mode" if op.get("setid").and_then(Value::as_bool) == Some(true) => {
            Some(format!("set-uid/set-gid bit on {}", path_of(op).0))
        }
        "sql" if str_of(op, "kind") == "dcl" => Some(sql_what(op, "")),
        _ => None,
    }
}

// ---- destructive --------------------------------------------------------------

/// Operations that destroy data beyond a single known file: recursive or
/// wildcard deletes, writes to block devices, dropped or emptied tables,
/// unrestricted DELETE/UPDATE, and commands whose purpose is to erase (history
/// rewrites on a remote, file systems, cloud resources).
fn destructive_of(op: &Value) -> Option<String> {
    match str_of(op, "op") {
        "file_delete" => {
            let (path, exact) = path_of(op);
            if op.get("recursive").and_then(Value::as_bool) == Some(true) {
                Some(format!("recursive delete of {path}"))
            } else if exact != "literal" {
                Some(format!("delete of a {exact} path {path}"))
            } else {
                None
            }
        }
        "file_write" => {
            let (path, _) = path_of(op);
            is_device_write(path).then(|| format!("write to device {path}"))
        }
        "sql" => destructive_sql(op),
        "exec" => destructive_exec(program_name(op), &argv(op)).map(|why| {
            let line = command_line(op);
            format!("{why}: {}", clip(&line, 120))
        }),
        _ => None,
    }
}

/// A write under `/dev` other than the pseudo-devices every script uses.
fn is_device_write(path: &str) -> bool {
    let Some(dev) = path.strip_prefix("/dev/") else {
        return false;
    };
    let harmless = [
        "null", "zero", "full", "random", "urandom", "tty", "stdin", "stdout", "stderr", "console",
        "ptmx",
    ];
    let harmless_dirs = ["fd/", "pts/", "shm/", "mqueue/", "tcp/", "udp/"];
    !dev.is_empty() && !harmless.contains(&dev) && !harmless_dirs.iter().any(|d| dev.starts_with(d))
}

fn destructive_sql(op: &Value) -> Option<String> {
    let verb = str_of(op, "verb").to_ascii_uppercase();
    let first = verb.split_whitespace().next().unwrap_or("");
    match first {
        "DROP" | "TRUNCATE" => Some(sql_what(op, "")),
        "DELETE" | "UPDATE" => {
            let has_where = op
                .get("has_where")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let taut = op
                .get("where_tautological")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            if !has_where {
                Some(sql_what(op, " without WHERE"))
            } else if taut {
                Some(sql_what(op, " with an always-true WHERE"))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// Programs that exist to erase, and erasing subcommands of general tools.
/// Matching is by program name and whole arguments, never by substring of a
/// command line, so a commit message that says "drop" does not match.
fn destructive_exec(program: &str, args: &[&str]) -> Option<String> {
    let erasers = ["shred", "srm", "wipefs", "mkswap", "blkdiscard", "mke2fs"];
    if erasers.contains(&program) || program == "mkfs" || program.starts_with("mkfs.") {
        return Some(format!("{program} erases data"));
    }
    match program {
        "git" => return git_destructive(args),
        "dd" => {
            return args.iter().find_map(|a| {
                let dest = a.strip_prefix("of=")?;
                is_device_write(dest).then(|| format!("dd writes to device {dest}"))
            });
        }
        "find" if args.contains(&"-delete") => return Some("find -delete".into()),
        _ => {}
    }
    // Tools whose subcommand destroys resources: (program, words in a row).
    const SUBCOMMANDS: &[(&str, &[&str])] = &[
        ("kubectl", &["delete"]),
        ("oc", &["delete"]),
        ("terraform", &["destroy"]),
        ("tofu", &["destroy"]),
        ("pulumi", &["destroy"]),
        ("helm", &["uninstall"]),
        ("helm", &["delete"]),
        ("dropdb", &[]),
        ("docker", &["system", "prune"]),
        ("docker", &["volume", "rm"]),
        ("docker", &["volume", "prune"]),
        ("podman", &["system", "prune"]),
        ("podman", &["volume", "rm"]),
        ("podman", &["volume", "prune"]),
        ("aws", &["s3", "rm"]),
        ("aws", &["s3", "rb"]),
        ("gsutil", &["rm"]),
        ("gcloud", &["delete"]),
        ("az", &["delete"]),
        ("gh", &["repo", "delete"]),
        ("redis-cli", &["flushall"]),
        ("redis-cli", &["flushdb"]),
    ];
    let lower: Vec<String> = args.iter().map(|a| a.to_ascii_lowercase()).collect();
    SUBCOMMANDS.iter().find_map(|(p, words)| {
        let hit = *p == program
            && (words.is_empty()
                || lower
                    .windows(words.len())
                    .any(|w| w.iter().zip(words.iter()).all(|(a, b)| a == b))
                // Cloud CLIs put the verb last: `gcloud compute instances delete`.
                || (words.len() == 1 && matches!(program, "gcloud" | "az") && lower.contains(&words[0].to_string())));
        hit.then(|| {
            if words.is_empty() {
                format!("{program} destroys a resource")
            } else {
                format!("{program} {}", words.join(" "))
            }
        })
    })
}

/// `git push` that rewrites or deletes remote history, and local commands that
/// throw away uncommitted work or rewrite history.
fn git_destructive(args: &[&str]) -> Option<String> {
    // Skip git's global options; some take the next argument as their value.
    let mut i = 0;
    while i < args.len() && args[i].starts_with('-') {
        let takes_value = matches!(
            args[i],
            "-C" | "-c"
                | "--git-dir"
                | "--work-tree"
                | "--namespace"
                | "--config-env"
                | "--super-prefix"
        );
        i += if takes_value { 2 } else { 1 };
    }
    let sub = *args.get(i)?;
    let rest = args.get(i + 1..).unwrap_or(&[]);
    // Bundled short flags such as `-fu`: does the bundle contain one of `chars`?
    let short = |chars: &[char]| {
        rest.iter().any(|a| {
            a.len() > 1 && a.starts_with('-') && !a.starts_with("--") && a[1..].contains(chars)
        })
    };
    let long = |names: &[&str]| {
        rest.iter().any(|a| {
            names
                .iter()
                .any(|n| *a == *n || a.strip_prefix(n).is_some_and(|r| r.starts_with('=')))
        })
    };
    match sub {
        "push" => {
            if long(&[
                "--force",
                "--force-with-lease",
                "--mirror",
                "--delete",
                "--prune",
            ]) || short(&['f', 'd'])
            {
                return Some("git push rewrites or deletes remote history".into());
            }
            // Refspecs: `+src:dst` forces, `:dst` deletes. The first operand is
            // the remote, which cannot start with either.
            let refspecs = rest.iter().filter(|a| !a.starts_with('-')).skip(1);
            for r in refspecs {
                if r.starts_with('+') {
                    return Some("git push forces a refspec".into());
                }
                if r.starts_with(':') && r.len() > 1 {
                    return Some("git push deletes a remote ref".into());
                }
            }
            None
        }
        "reset" if long(&["--hard"]) => Some("git reset --hard discards work".into()),
        "clean"
            if (long(&["--force"]) || short(&['f'])) && !long(&["--dry-run"]) && !short(&['n']) =>
        {
            Some("git clean deletes untracked files".into())
        }
        "branch" if rest.contains(&"-D") || (long(&["--delete"]) && long(&["--force"])) => {
            Some("git branch force-deletes a branch".into())
        }
        "filter-branch" | "filter-repo" => Some(format!("git {sub} rewrites history")),
        _ => None,
    }
}

// ---- opaque -------------------------------------------------------------------

/// Code whose effect could not be known before running it: it was judged
/// without being understood.
fn opaque_of(op: &Value) -> Option<String> {
    (str_of(op, "op") == "opaque").then(|| format!("opaque: {}", str_of(op, "reason")))
}

// ---- production ---------------------------------------------------------------

/// Anything aimed at a target the policy classifies as production.
fn production_hits(body: &Value, ops: &[Value]) -> Vec<Hit> {
    let Some(targets) = body.get("targets").and_then(Value::as_array) else {
        return Vec::new();
    };
    targets
        .iter()
        .filter(|t| {
            t.get("env").and_then(Value::as_str).is_some_and(|e| {
                e.eq_ignore_ascii_case("prod") || e.eq_ignore_ascii_case("production")
            })
        })
        .map(|t| {
            let op = t.get("op").and_then(Value::as_u64).map(|i| i as usize);
            let db = str_of(t, "database");
            let what = match op.and_then(|i| ops.get(i)) {
                Some(o) if str_of(o, "op") == "sql" => sql_what(o, ""),
                Some(o) if str_of(o, "op") == "exec" => command_line(o),
                Some(o) => str_of(o, "op").to_string(),
                None => "operation".to_string(),
            };
            Hit {
                op,
                what: format!("{} on production database {db}", clip(&what, 100)),
            }
        })
        .collect()
}

// ---- egress -------------------------------------------------------------------

/// Connections the egress proxy refused: the code tried to reach a host the
/// task did not grant. One alert per run, listing each host and port once.
fn exec_outcome(cfg: &RuleConfig, body: &Value) -> Vec<Draft> {
    let setting = &cfg.egress_denied;
    if !setting.enabled {
        return Vec::new();
    }
    let Some(attempts) = body.get("egress").and_then(Value::as_array) else {
        return Vec::new();
    };
    // (host, port) → (count, reasons), in first-seen order.
    let mut seen: Vec<(String, Value, usize, Vec<String>)> = Vec::new();
    let mut refused = 0usize;
    for a in attempts {
        // Only an explicit `allowed: true` counts as allowed. A granted host that could
        // not be reached (the proxy's `resolve-failed`, `connect-failed`, `stopped`,
        // `too-many-connections`) is a failure, not egress to a host not granted.
        if a.get("allowed").and_then(Value::as_bool) == Some(true)
            || matches!(
                str_of(a, "reason"),
                "resolve-failed" | "connect-failed" | "stopped" | "too-many-connections"
            )
        {
            continue;
        }
        refused += 1;
        let host = match str_of(a, "host") {
            "" => "(no host)".to_string(),
            h => h.to_string(),
        };
        let port = a.get("port").cloned().unwrap_or(Value::Null);
        let reason = str_of(a, "reason").to_string();
        if let Some(e) = seen.iter_mut().find(|e| e.0 == host && e.1 == port) {
            e.2 += 1;
            if !reason.is_empty() && !e.3.contains(&reason) && e.3.len() < 5 {
                e.3.push(reason);
            }
        } else {
            let reasons = if reason.is_empty() {
                vec![]
            } else {
                vec![reason]
            };
            seen.push((host, port, 1, reasons));
        }
    }
    if refused == 0 {
        return Vec::new();
    }
    let names: Vec<String> = seen
        .iter()
        .map(|(h, p, n, _)| {
            let hp = match p.as_u64() {
                Some(p) if p != 0 => format!("{h}:{p}"),
                _ => h.clone(),
            };
            if *n > 1 { format!("{hp} ({n}x)") } else { hp }
        })
        .collect();
    let summary = format!(
        "egress to hosts not granted (refused by the proxy): {}",
        list(names.iter().map(String::as_str), names.len())
    );
    let listed: Vec<Value> = seen
        .iter()
        .take(MAX_MATCHES)
        .map(|(h, p, n, r)| json!({"host": h, "port": p, "attempts": n, "reasons": r}))
        .collect();
    vec![Draft {
        rule: EGRESS_DENIED.to_string(),
        severity: setting.severity,
        summary,
        details: json!({
            "start_index": body.get("start_index"),
            "refused": refused,
            "hosts": listed,
            "distinct": seen.len(),
        }),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AlertConfig;

    fn cfg() -> RuleConfig {
        AlertConfig::default().rules
    }

    fn exec(program: &str, argv: &[&str]) -> Value {
        json!({"op": "exec", "program": program, "argv": argv, "kind": "system"})
    }

    fn verdict_body(decision: &str, ops: Vec<Value>) -> Value {
        json!({
            "decision": decision,
            "digest": "9f".repeat(32),
            "policy_version": "p-1",
            "reasons": [],
            "operations": ops,
            "targets": [],
        })
    }

    fn rules_fired(body: &Value) -> Vec<String> {
        evaluate(&cfg(), "verdict", body)
            .into_iter()
            .map(|d| d.rule)
            .collect()
    }

    fn destructive(ops: Vec<Value>) -> bool {
        rules_fired(&verdict_body("allow", ops)).contains(&DESTRUCTIVE.to_string())
    }

    #[test]
    fn sudo_rm_rf_denied() {
        // `sudo rm -rf /var/lib/postgresql` as the bash inspector records it.
        let body = json!({
            "decision": "deny",
            "digest": "ab".repeat(32),
            "policy_version": "v7",
            "reasons": [
                {"verdict": "deny", "rule": "no-privilege", "op": 0, "message": "agents do not get root"},
                {"verdict": "deny", "rule": "outside-workspace", "op": 2, "message": "deletes outside the workspace"}
            ],
            "operations": [
                {"op": "privilege", "how": "sudo rm -rf /var/lib/postgresql"},
                exec("rm", &["-rf", "/var/lib/postgresql"]),
                {"op": "file_delete", "path": {"path": "/var/lib/postgresql", "exact": "literal"}, "recursive": true}
            ],
            "targets": []
        });
        let drafts = evaluate(&cfg(), "verdict", &body);
        let names: Vec<&str> = drafts.iter().map(|d| d.rule.as_str()).collect();
        assert_eq!(names, [PRIVILEGE, DESTRUCTIVE]);
        let p = &drafts[0];
        assert_eq!(p.severity, Severity::High);
        assert!(p.summary.contains("denied"), "{}", p.summary);
        assert!(p.summary.contains("sudo rm -rf"), "{}", p.summary);
        assert_eq!(p.details["decision"], "deny");
        assert_eq!(p.details["matches"][0]["op"], 0);
        assert_eq!(p.details["reasons"][0]["rule"], "no-privilege");
        assert_eq!(p.details["reasons"].as_array().unwrap().len(), 1);
        let d = &drafts[1];
        assert!(
            d.summary
                .contains("recursive delete of /var/lib/postgresql"),
            "{}",
            d.summary
        );
        assert_eq!(d.details["matches"][0]["op"], 2);
        assert_eq!(d.details["reasons"][0]["rule"], "outside-workspace");
    }

    #[test]
    fn privilege_forms() {
        let setid = json!({"op": "file_mode", "path": {"path": "/tmp/sh", "exact": "literal"}, "setid": true});
        let plain_mode = json!({"op": "file_mode", "path": {"path": "/w/x.sh", "exact": "literal"}, "setid": false});
        let grant = json!({"op": "sql", "kind": "dcl", "verb": "GRANT", "objects": ["agent"], "database": null,
            "has_where": false, "where_tautological": false, "dangers": []});
        let alter_role = json!({"op": "sql", "kind": "dcl", "verb": "ALTER ROLE", "objects": ["app"], "database": "prod",
            "has_where": false, "where_tautological": false, "dangers": []});
        let select = json!({"op": "sql", "kind": "read", "verb": "SELECT", "objects": ["users"], "database": null,
            "has_where": false, "where_tautological": true, "dangers": []});
        for (op, fires) in [
            (setid, true),
            (plain_mode, false),
            (grant, true),
            (alter_role, true),
            (select, false),
        ] {
            let fired = rules_fired(&verdict_body("ask", vec![op.clone()]));
            assert_eq!(fired.contains(&PRIVILEGE.to_string()), fires, "{op}");
        }
        let d = evaluate(
            &cfg(),
            "verdict",
            &verdict_body(
                "ask",
                vec![json!({"op": "sql", "kind": "dcl",
            "verb": "GRANT", "objects": ["agent"], "database": null, "has_where": false,
            "where_tautological": false, "dangers": []})],
            ),
        );
        assert!(
            d[0].summary.contains("held for approval") && d[0].summary.contains("SQL GRANT agent"),
            "{}",
            d[0].summary
        );
    }

    #[test]
    fn file_deletes() {
        let del = |path: &str, exact: &str, recursive: bool| json!({"op": "file_delete", "path": {"path": path, "exact": exact}, "recursive": recursive});
        assert!(destructive(vec![del("/w/build", "literal", true)]));
        assert!(destructive(vec![del("/w/*.log", "glob", false)]));
        assert!(destructive(vec![del("/w/$?", "unknown", false)]));
        assert!(!destructive(vec![del("/w/a.txt", "literal", false)]));
    }

    #[test]
    fn device_writes() {
        let w = |p: &str| json!({"op": "file_write", "path": {"path": p, "exact": "literal"}});
        assert!(destructive(vec![w("/dev/sda")]));
        assert!(destructive(vec![w("/dev/nvme0n1p2")]));
        assert!(!destructive(vec![w("/dev/null")]));
        assert!(!destructive(vec![w("/dev/fd/2")]));
        assert!(!destructive(vec![w("/dev/shm/x")]));
        assert!(!destructive(vec![w("/w/dev/sda")]));
        assert!(destructive(vec![exec(
            "dd",
            &["if=/w/img", "of=/dev/sdb", "bs=4M"]
        )]));
        assert!(!destructive(vec![exec(
            "dd",
            &["if=/dev/zero", "of=/w/blank", "count=1"]
        )]));
    }

    #[test]
    fn sql_destruction() {
        let sql = |verb: &str, has_where: bool, taut: bool| {
            json!({"op": "sql", "kind": if verb.starts_with("DROP") || verb == "TRUNCATE" { "ddl" } else { "dml" },
                "verb": verb, "objects": ["users"], "database": null, "has_where": has_where,
                "where_tautological": taut, "dangers": []})
        };
        assert!(destructive(vec![sql("DROP TABLE", false, true)]));
        assert!(destructive(vec![sql("DROP DATABASE", false, true)]));
        assert!(destructive(vec![sql("TRUNCATE", false, true)]));
        assert!(destructive(vec![sql("DELETE", false, true)]));
        assert!(destructive(vec![sql("UPDATE", true, true)]));
        assert!(!destructive(vec![sql("DELETE", true, false)]));
        assert!(!destructive(vec![sql("UPDATE", true, false)]));
        assert!(!destructive(vec![sql("INSERT", false, true)]));
        assert!(!destructive(vec![sql("CREATE TABLE", false, true)]));
        let d = evaluate(
            &cfg(),
            "verdict",
            &verdict_body("deny", vec![sql("DELETE", false, true)]),
        );
        assert!(
            d[0].summary.contains("SQL DELETE users without WHERE"),
            "{}",
            d[0].summary
        );
    }

    #[test]
    fn git_history_rewrites() {
        let git = |a: &[&str]| destructive(vec![exec("git", a)]);
        assert!(git(&["push", "--force", "origin", "main"]));
        assert!(git(&["push", "-f"]));
        assert!(git(&["push", "-uf", "origin", "main"]));
        assert!(git(&[
            "push",
            "--force-with-lease=main:abc",
            "origin",
            "main"
        ]));
        assert!(git(&["push", "origin", "+main"]));
        assert!(git(&["push", "origin", "+HEAD:refs/heads/main"]));
        assert!(git(&["push", "origin", ":old-branch"]));
        assert!(git(&["push", "--delete", "origin", "old"]));
        assert!(git(&["push", "--mirror", "backup"]));
        assert!(git(&["-C", "/w/repo", "push", "--force"]));
        assert!(git(&["-c", "user.name=x", "push", "-f", "origin"]));
        assert!(git(&["reset", "--hard", "HEAD~3"]));
        assert!(git(&["clean", "-fdx"]));
        assert!(git(&["branch", "-D", "feature"]));
        assert!(!git(&["push", "origin", "main"]));
        assert!(!git(&["push", "-u", "origin", "feature"]));
        assert!(!git(&["push", "--follow-tags"]));
        assert!(!git(&["commit", "-m", "push --force later; drop table"]));
        assert!(!git(&["-C", "push", "status"]));
        assert!(!git(&["clean", "-n"]));
        assert!(!git(&["reset", "--soft", "HEAD~1"]));
        assert!(!git(&["branch", "-d", "merged"]));
        assert!(destructive(vec![exec(
            "/usr/local/bin/git",
            &["push", "-f"]
        )]));
    }

    #[test]
    fn erasing_programs() {
        assert!(destructive(vec![exec("mkfs.ext4", &["/dev/sdb1"])]));
        assert!(destructive(vec![exec("mkfs", &["-t", "xfs", "/dev/sdc"])]));
        assert!(destructive(vec![exec("shred", &["-u", "/w/secrets.txt"])]));
        assert!(destructive(vec![exec("wipefs", &["-a", "/dev/sda"])]));
        assert!(destructive(vec![exec(
            "find",
            &[".", "-name", "*.tmp", "-delete"]
        )]));
        assert!(destructive(vec![exec(
            "kubectl",
            &["--context", "prod", "delete", "namespace", "payments"]
        )]));
        assert!(destructive(vec![exec(
            "terraform",
            &["destroy", "-auto-approve"]
        )]));
        assert!(destructive(vec![exec(
            "aws",
            &["--profile", "x", "s3", "rm", "s3://b/", "--recursive"]
        )]));
        assert!(destructive(vec![exec(
            "gcloud",
            &["compute", "instances", "delete", "vm-1"]
        )]));
        assert!(destructive(vec![exec(
            "redis-cli",
            &["-h", "cache", "FLUSHALL"]
        )]));
        assert!(destructive(vec![exec("dropdb", &["appdb"])]));
        assert!(!destructive(vec![exec(
            "kubectl",
            &["get", "pods", "delete-me"]
        )]));
        assert!(!destructive(vec![exec("find", &[".", "-name", "*.rs"])]));
        assert!(!destructive(vec![exec("mkdir", &["-p", "build"])]));
        assert!(!destructive(vec![exec("terraform", &["plan"])]));
    }

    #[test]
    fn opaque_code() {
        let body = verdict_body(
            "deny",
            vec![
                exec("bash", &["-c", "$x"]),
                json!({"op": "opaque", "reason": "eval of a computed string"}),
                json!({"op": "opaque", "reason": "exec(base64.b64decode(...))"}),
            ],
        );
        let d = evaluate(&cfg(), "verdict", &body);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].rule, OPAQUE);
        assert_eq!(d[0].severity, Severity::Warning);
        assert_eq!(d[0].details["matched"], 2);
        assert!(
            d[0].summary.contains("opaque code (denied)"),
            "{}",
            d[0].summary
        );
        assert!(d[0].summary.contains("eval of a computed string"));
    }

    #[test]
    fn production_targets() {
        let mut body = verdict_body(
            "allow",
            vec![
                json!({"op": "sql", "kind": "read", "verb": "SELECT", "objects": ["orders"], "database": "prod",
                    "has_where": false, "where_tautological": true, "dangers": []}),
                json!({"op": "sql", "kind": "read", "verb": "SELECT", "objects": ["t"], "database": "dev",
                    "has_where": false, "where_tautological": true, "dangers": []}),
            ],
        );
        body["targets"] = json!([
            {"op": 0, "database": "prod", "env": "prod"},
            {"op": 1, "database": "dev", "env": "dev"}
        ]);
        let d = evaluate(&cfg(), "verdict", &body);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].rule, PRODUCTION);
        assert_eq!(d[0].details["matches"].as_array().unwrap().len(), 1);
        assert_eq!(d[0].details["matches"][0]["op"], 0);
        assert!(d[0].summary.contains("allowed"), "{}", d[0].summary);
        assert!(
            d[0].summary
                .contains("SQL SELECT orders on prod on production database prod"),
            "{}",
            d[0].summary
        );
        body["targets"][0]["env"] = json!("staging");
        assert!(evaluate(&cfg(), "verdict", &body).is_empty());
    }

    #[test]
    fn disabled_rules_and_severity_overrides() {
        let mut c = cfg();
        let body = verdict_body("deny", vec![json!({"op": "privilege", "how": "sudo -i"})]);
        c.privilege.severity = Severity::Critical;
        assert_eq!(
            evaluate(&c, "verdict", &body)[0].severity,
            Severity::Critical
        );
        c.privilege.enabled = false;
        assert!(evaluate(&c, "verdict", &body).is_empty());
    }

    #[test]
    fn quiet_records() {
        let body = verdict_body(
            "allow",
            vec![
                exec("cargo", &["test"]),
                json!({"op": "file_read", "path": {"path": "/w/src/lib.rs", "exact": "literal"}}),
                json!({"op": "file_write", "path": {"path": "/w/target/x", "exact": "literal"}}),
                json!({"op": "network", "host": "crates.io", "port": 443, "via": "cargo"}),
            ],
        );
        assert!(evaluate(&cfg(), "verdict", &body).is_empty());
        assert!(evaluate(&cfg(), "proposal", &json!({"code": "sudo rm -rf /"})).is_empty());
        // Malformed bodies match nothing and do not panic.
        for junk in [
            json!(null),
            json!([1, 2]),
            json!({"operations": "x"}),
            json!({"operations": [1, null, {"op": 5}]}),
        ] {
            assert!(evaluate(&cfg(), "verdict", &junk).is_empty());
            assert!(evaluate(&cfg(), "exec_outcome", &junk).is_empty());
        }
    }

    #[test]
    fn summaries_are_clipped_and_escaped() {
        let how = format!("sudo \u{1b}[2J{}", "x".repeat(500));
        let d = evaluate(
            &cfg(),
            "verdict",
            &verdict_body("deny", vec![json!({"op": "privilege", "how": how})]),
        );
        assert!(!d[0].summary.contains('\u{1b}'));
        assert!(d[0].summary.contains("\\u{1b}"));
        assert!(d[0].summary.chars().count() < 200, "{}", d[0].summary.len());
        let many: Vec<Value> = (0..30)
            .map(|i| json!({"op": "opaque", "reason": format!("r{i}")}))
            .collect();
        let d = evaluate(&cfg(), "verdict", &verdict_body("deny", many));
        assert!(d[0].summary.ends_with("and 27 more"), "{}", d[0].summary);
        assert_eq!(
            d[0].details["matches"].as_array().unwrap().len(),
            MAX_MATCHES
        );
        assert_eq!(d[0].details["matched"], 30);
    }

    #[test]
    fn egress_refusals() {
        let body = json!({
            "start_index": 11,
            "exit": {"code": 6},
            "egress": [
                {"host": "pypi.org", "port": 443, "allowed": true, "reason": "granted"},
                {"host": "exfil.example.net", "port": 443, "allowed": false, "reason": "host not granted"},
                {"host": "exfil.example.net", "port": 443, "allowed": false, "reason": "host not granted"},
                {"host": "169.254.169.254", "port": 80, "allowed": false, "reason": "address not public"},
                {"host": "", "port": 0, "allowed": false, "reason": "bad request"}
            ]
        });
        let d = evaluate(&cfg(), "exec_outcome", &body);
        assert_eq!(d.len(), 1);
        let d = &d[0];
        assert_eq!(d.rule, EGRESS_DENIED);
        assert_eq!(d.details["refused"], 4);
        assert_eq!(d.details["distinct"], 3);
        assert_eq!(d.details["start_index"], 11);
        assert_eq!(d.details["hosts"][0]["attempts"], 2);
        assert!(
            d.summary.contains("exfil.example.net:443 (2x)"),
            "{}",
            d.summary
        );
        assert!(d.summary.contains("169.254.169.254:80"), "{}", d.summary);
        assert!(d.summary.contains("(no host)"), "{}", d.summary);
        assert!(!d.summary.contains("pypi.org"));

        let ok = json!({"egress": [{"host": "pypi.org", "port": 443, "allowed": true, "reason": "granted"}]});
        assert!(evaluate(&cfg(), "exec_outcome", &ok).is_empty());
        let missing_flag = json!({"egress": [{"host": "x.net", "port": 443, "reason": "?"}]});
        assert_eq!(evaluate(&cfg(), "exec_outcome", &missing_flag).len(), 1);
    }
}
