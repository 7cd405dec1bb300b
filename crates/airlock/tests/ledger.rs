//! The ledger as `airlock` writes it: `run` of allowed, asked and denied proposals
//! leaves the expected records, an injected secret leaves no trace, `ledger verify`
//! passes (and fails on a tampered copy, anchored by a kept checkpoint and pinned key),
//! alerts reach a real webhook and the outbox, and reports and exports come out.
//!
//! Runs the real sandbox, so it needs a host where `airlock doctor` is ready.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_airlock");
static SEQ: AtomicUsize = AtomicUsize::new(0);

struct Env {
    root: PathBuf,
}

impl Env {
    fn new(tag: &str) -> Env {
        let root = std::env::temp_dir().join(format!(
            "airlock-ledger-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&root);
        for d in ["ws", "state", "conf"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        let root = root.canonicalize().unwrap();
        std::fs::write(root.join("conf/config.toml"), "").unwrap();
        Env { root }
    }

    fn ws(&self) -> PathBuf {
        self.root.join("ws")
    }

    fn state(&self) -> PathBuf {
        self.root.join("state")
    }

    fn config(&self, text: &str) {
        std::fs::write(self.root.join("conf/config.toml"), text).unwrap();
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(self.ws())
            .env("AIRLOCK_STATE", self.state())
            .env("AIRLOCK_CONFIG", self.root.join("conf/config.toml"))
            .env_remove("XDG_STATE_HOME")
            .env_remove("XDG_CONFIG_HOME");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn records(&self) -> Vec<Value> {
        let o = self.run(&["ledger", "search"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn kinds_of(recs: &[Value], request: &str) -> Vec<String> {
    recs.iter()
        .filter(|r| r["request"] == request)
        .map(|r| r["kind"].as_str().unwrap().to_string())
        .collect()
}

fn request_of(o: &Output) -> String {
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["request"].as_str().unwrap().to_string()
}

#[test]
fn allowed_asked_and_denied_runs_leave_their_records_and_verify() {
    let e = Env::new("runs");
    let ws = e.ws();
    let ws = ws.to_str().unwrap();
    let allowed = e.run(&["run", "--json", "--workspace", ws, "--", "echo", "hi"]);
    assert_eq!(
        allowed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&allowed.stderr)
    );
    let asked = e.run(&[
        "run",
        "--json",
        "--workspace",
        ws,
        "--lang",
        "bash",
        "--code",
        "kill -TERM $$",
    ]);
    assert_eq!(
        asked.status.code(),
        Some(120),
        "{}",
        String::from_utf8_lossy(&asked.stderr)
    );
    let denied = e.run(&[
        "run",
        "--json",
        "--workspace",
        ws,
        "--lang",
        "bash",
        "--code",
        "rm -rf /etc",
    ]);
    assert_eq!(denied.status.code(), Some(121));
    let recs = e.records();
    let (a, q, d) = (
        request_of(&allowed),
        request_of(&asked),
        request_of(&denied),
    );
    assert_eq!(
        kinds_of(&recs, &a),
        ["proposal", "verdict", "exec_start", "exec_outcome"]
    );
    assert_eq!(kinds_of(&recs, &q)[..2], ["proposal", "verdict"]);
    assert!(!kinds_of(&recs, &q).contains(&"exec_start".to_string()));
    // The denied recursive delete also raised a destructive alert citing its verdict.
    assert_eq!(kinds_of(&recs, &d), ["proposal", "verdict", "alert"]);
    let verdict = recs
        .iter()
        .find(|r| r["request"] == d.as_str() && r["kind"] == "verdict")
        .unwrap();
    let alert = recs
        .iter()
        .find(|r| r["request"] == d.as_str() && r["kind"] == "alert")
        .unwrap();
    assert_eq!(verdict["body"]["decision"], "deny");
    assert_eq!(alert["body"]["rule"], "destructive");
    assert_eq!(alert["body"]["subject_index"], verdict["index"]);
    assert_eq!(alert["body"]["subject_leaf"], verdict["leaf_hash"]);
    // The outcome holds the output's hash and copy; the start cites the allow verdict.
    let start = recs
        .iter()
        .find(|r| r["request"] == a.as_str() && r["kind"] == "exec_start")
        .unwrap();
    let out = recs
        .iter()
        .find(|r| r["request"] == a.as_str() && r["kind"] == "exec_outcome")
        .unwrap();
    assert_eq!(out["body"]["stdout"]["copy"], "hi\n");
    assert_eq!(out["body"]["status"], 0);
    assert_eq!(out["body"]["start_index"], start["index"]);
    assert!(start["body"]["profile"]["limits"]["timeout"].is_number());
    let v = e.run(&["ledger", "verify", "--json"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    let r: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(r["report"]["executions"], 1);
    assert_eq!(r["report"]["anchored"], false);
}

#[test]
fn an_injected_secret_leaves_no_trace() {
    let e = Env::new("secret");
    let ws = e.ws();
    let secret = "s3cr3t-value-7f1e2d9c";
    let o = e
        .cmd(&[
            "run",
            "--workspace",
            ws.to_str().unwrap(),
            "--secret",
            "API_TOKEN",
            "--lang",
            "bash",
            "--code",
            "echo \"token=$API_TOKEN\"; echo \"$API_TOKEN\" >&2; echo \"$API_TOKEN\" | rev",
        ])
        .env("API_TOKEN", secret)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("token=[redacted:API_TOKEN]"), "{stdout}");
    assert!(!stdout.contains(secret) && !String::from_utf8_lossy(&o.stderr).contains(secret));
    // Nowhere under the state directory: segments, index, checkpoints, alert outbox.
    fn scan(dir: &Path, needle: &[u8]) {
        for ent in std::fs::read_dir(dir).unwrap() {
            let p = ent.unwrap().path();
            if p.is_dir() {
                scan(&p, needle);
            } else {
                let b = std::fs::read(&p).unwrap();
                assert!(
                    !b.windows(needle.len()).any(|w| w == needle),
                    "the secret is in {}",
                    p.display()
                );
            }
        }
    }
    scan(&e.state(), secret.as_bytes());
    let recs = e.records();
    let out = recs.iter().find(|r| r["kind"] == "exec_outcome").unwrap();
    assert!(
        out["body"]["stdout"]["copy"]
            .as_str()
            .unwrap()
            .contains("[redacted:API_TOKEN]")
    );
    // The program really had the secret: its reversed form (not a redaction target) shows it.
    let reversed: String = secret.chars().rev().collect();
    assert!(stdout.contains(&reversed), "{stdout}");
    let start = recs.iter().find(|r| r["kind"] == "exec_start").unwrap();
    assert!(
        start["body"]["profile"]["env"]
            .as_array()
            .unwrap()
            .contains(&Value::from("API_TOKEN"))
    );
    assert!(e.run(&["ledger", "verify"]).status.success());
}

#[test]
fn verify_with_kept_checkpoint_and_pinned_key_catches_a_cut_tail() {
    let e = Env::new("anchor");
    let ws = e.ws();
    for i in 0..3 {
        let o = e.run(&[
            "check",
            "--workspace",
            ws.to_str().unwrap(),
            "--lang",
            "bash",
            "--code",
            &format!("echo {i}"),
        ]);
        assert!(o.status.success());
    }
    let kept = e.root.join("kept.checkpoint");
    let key = e.root.join("ledger.pub");
    assert!(
        e.run(&["ledger", "checkpoint", "--out", kept.to_str().unwrap()])
            .status
            .success()
    );
    let o = e.run(&["ledger", "public-key"]);
    std::fs::write(&key, &o.stdout).unwrap();
    let anchored = |e: &Env| {
        e.run(&[
            "ledger",
            "verify",
            "--checkpoint",
            kept.to_str().unwrap(),
            "--public-key",
            key.to_str().unwrap(),
        ])
    };
    let o = anchored(&e);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(String::from_utf8_lossy(&o.stdout).contains("verified (anchored)"));
    // Cut the last record and everything the ledger keeps about its own checkpoints.
    let seg = e.state().join("ledger/segments/00000000000000000000.seg");
    let data = std::fs::read(&seg).unwrap();
    let mut off = 0;
    let mut last = 0;
    while off < data.len() {
        last = off;
        off += 8 + u32::from_le_bytes(data[off..off + 4].try_into().unwrap()) as usize;
    }
    std::fs::write(&seg, &data[..last]).unwrap();
    std::fs::remove_file(e.state().join("ledger/checkpoints")).unwrap();
    let o = anchored(&e);
    assert_eq!(o.status.code(), Some(1));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("kept checkpoint covers") && text.contains("FAILED"),
        "{text}"
    );
}

/// A local HTTP server that records each request's headers and body and answers 200.
/// Requests the test server received: head and body.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

fn webhook_server() -> (String, Received) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = Vec::new();
            let mut tmp = [0u8; 4096];
            let (head, body) = loop {
                let n = s.read(&mut tmp).unwrap_or(0);
                if n == 0 {
                    break (String::new(), Vec::new());
                }
                buf.extend_from_slice(&tmp[..n]);
                if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..i]).to_string();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    let mut body = buf[i + 4..].to_vec();
                    while body.len() < len {
                        let n = s.read(&mut tmp).unwrap_or(0);
                        if n == 0 {
                            break;
                        }
                        body.extend_from_slice(&tmp[..n]);
                    }
                    break (head, body);
                }
            };
            let _ =
                s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            g.lock().unwrap().push((head, body));
        }
    });
    (url, got)
}

#[test]
fn alerts_reach_a_webhook_signed_and_the_outbox() {
    let e = Env::new("webhook");
    let (url, got) = webhook_server();
    let secret = e.root.join("conf/hook.secret");
    std::fs::write(&secret, "hook-shared-secret").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    e.config(&format!(
        "[alerts.webhook]\nurl = \"{url}\"\nsecret_file = \"{}\"\n[alerts.stderr]\nenabled = false\n",
        secret.display()
    ));
    let ws = e.ws();
    let o = e.run(&[
        "check",
        "--workspace",
        ws.to_str().unwrap(),
        "--lang",
        "sql",
        "--code",
        "DELETE FROM users",
    ]);
    assert_eq!(
        o.status.code(),
        Some(20),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let reqs = got.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let (head, body) = &reqs[0];
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap()
    };
    assert!(alert::webhook::verify_signature(
        b"hook-shared-secret",
        &header("x-airlock-timestamp"),
        body,
        &header("x-airlock-signature"),
        std::time::SystemTime::now(),
        std::time::Duration::from_secs(300),
    ));
    let v: Value = serde_json::from_slice(body).unwrap();
    assert_eq!(v["data"]["rule"], "destructive");
    // The alert cites a verdict record that is in the ledger with that leaf hash.
    let idx = v["data"]["subject_index"].as_u64().unwrap();
    let shown = e.run(&["ledger", "show", &idx.to_string()]);
    let rec: Value = serde_json::from_slice(&shown.stdout).unwrap();
    assert_eq!(rec["kind"], "verdict");
    assert_eq!(rec["leaf_hash"], v["data"]["subject_leaf"]);
    let outbox = std::fs::read_to_string(e.state().join("alerts/outbox.jsonl")).unwrap();
    assert!(outbox.contains("\"destructive\""));
}

#[test]
fn report_and_exports_come_out() {
    let e = Env::new("report");
    let ws = e.ws();
    let ws = ws.to_str().unwrap();
    e.run(&[
        "run",
        "--workspace",
        ws,
        "--",
        "echo",
        "<script>alert(1)</script>",
    ]);
    e.run(&[
        "run",
        "--workspace",
        ws,
        "--lang",
        "bash",
        "--code",
        "rm -rf /",
    ]);
    let html = e.run(&["report", "--format", "html", "--since", "1h"]);
    assert!(
        html.status.success(),
        "{}",
        String::from_utf8_lossy(&html.stderr)
    );
    let html = String::from_utf8(html.stdout).unwrap();
    assert!(html.contains("<svg") && html.contains("</html>"));
    assert!(!html.contains("<script>alert(1)</script>"));
    let md = String::from_utf8(e.run(&["report", "--format", "md"]).stdout).unwrap();
    assert!(md.contains("deny"), "{md}");
    let ocsf = e.run(&["ledger", "export", "--format", "ocsf"]);
    assert!(ocsf.status.success());
    let events: Vec<Value> = String::from_utf8(ocsf.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(events.iter().any(|v| v["class_uid"] == 1007));
    assert!(events.iter().any(|v| v["class_uid"] == 2004));
    for v in &events {
        assert!(
            v["time"].is_number() && v["metadata"]["version"].is_string(),
            "{v}"
        );
    }
    let jsonl = e.run(&["ledger", "export", "--from-index", "2"]);
    let first: Value = serde_json::from_str(
        String::from_utf8(jsonl.stdout)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["index"], 2);
    let _ = Stdio::null();
}

#[test]
fn checkpoints_are_published_to_a_file_and_an_http_endpoint() {
    let e = Env::new("publish");
    let (url, got) = webhook_server();
    let file = e.root.join("witness/airlock.checkpoint");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    e.config(&format!(
        "[ledger]\npublish = [\"file:{}\", \"{url}\"]\n[alerts.stderr]\nenabled = false\n",
        file.display()
    ));
    let ws = e.ws();
    let o = e.run(&[
        "check",
        "--workspace",
        ws.to_str().unwrap(),
        "--lang",
        "bash",
        "--code",
        "ls",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let published = std::fs::read_to_string(&file).unwrap();
    let latest = String::from_utf8(e.run(&["ledger", "checkpoint"]).stdout).unwrap();
    assert_eq!(published, latest);
    // The checkpoint covers every record the check wrote (key, policy, proposal, verdict).
    assert_eq!(published.lines().nth(1), Some("4"), "{published}");
    let reqs = got.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1);
    assert_eq!(String::from_utf8_lossy(&reqs[0].1), published);
    // And it anchors a later verify: the log only grew past it.
    e.run(&[
        "check",
        "--workspace",
        ws.to_str().unwrap(),
        "--lang",
        "bash",
        "--code",
        "pwd",
    ]);
    let key = e.root.join("ledger.pub");
    std::fs::write(&key, e.run(&["ledger", "public-key"]).stdout).unwrap();
    let kept = e.root.join("kept");
    std::fs::write(&kept, &published).unwrap();
    let v = e.run(&[
        "ledger",
        "verify",
        "--checkpoint",
        kept.to_str().unwrap(),
        "--public-key",
        key.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&v.stdout);
    assert!(
        v.status.success() && text.contains("consistency proof"),
        "{text}"
    );
}

/// A run whose granted host redirects to one not granted: the proxy refuses the second
/// request, the outcome records it, and an `egress_denied` alert cites the outcome.
#[test]
fn refused_egress_in_a_run_raises_an_alert() {
    let e = Env::new("egress");
    e.config("[alerts.stderr]\nenabled = false\n");
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let resp = format!(
                "HTTP/1.1 302 Found\r\nLocation: http://other.airlock.internal:{port}/x\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    let ws = e.ws();
    let url = format!("http://granted.airlock.internal:{port}/");
    let o = e.run(&[
        "run",
        "--json",
        "--workspace",
        ws.to_str().unwrap(),
        "--grant-private-host",
        "granted.airlock.internal",
        "--add-host",
        "granted.airlock.internal=127.0.0.1",
        "--add-host",
        "other.airlock.internal=127.0.0.1",
        "--",
        "/usr/bin/curl",
        "-sS",
        "-L",
        &url,
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ran"], true, "{v}");
    let recs = e.records();
    let out = recs.iter().find(|r| r["kind"] == "exec_outcome").unwrap();
    let egress = out["body"]["egress"].as_array().unwrap();
    assert!(
        egress
            .iter()
            .any(|a| a["host"] == "other.airlock.internal" && a["allowed"] == false),
        "{out}"
    );
    let alert = recs
        .iter()
        .find(|r| r["kind"] == "alert" && r["body"]["rule"] == "egress_denied")
        .unwrap_or_else(|| panic!("no egress alert: {recs:?}"));
    assert_eq!(alert["body"]["subject_index"], out["index"]);
    assert!(
        alert["body"]["summary"]
            .as_str()
            .unwrap()
            .contains("other.airlock.internal")
    );
}

/// Output shown on a terminal cannot drive it: escape sequences and bidi overrides from
/// the sandboxed program come out visible; through a pipe the bytes are unchanged.
#[test]
fn sandbox_output_cannot_drive_the_terminal() {
    let e = Env::new("tty");
    let ws = e.ws();
    let code = r#"printf 'a\033]52;c;ZXZpbA==\007b\342\200\256ok\n'"#;
    let cmd = format!(
        "{BIN} run --workspace {} --lang bash --code \"$AIRLOCK_TEST_CODE\"",
        ws.display()
    );
    let o = Command::new("script")
        .args(["-qc", &cmd, "/dev/null"])
        .env("AIRLOCK_TEST_CODE", code)
        .env("AIRLOCK_STATE", e.state())
        .env("AIRLOCK_CONFIG", e.root.join("conf/config.toml"))
        .current_dir(&ws)
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(
        !o.stdout.contains(&0x1b),
        "an escape reached the terminal: {shown:?}"
    );
    assert!(
        shown.contains("a\\u{1b}]52;c;ZXZpbA==\\u{7}b\\u{202e}ok"),
        "{shown:?}"
    );
    // Piped, the program's bytes are passed through as they are.
    let o = e.run(&[
        "run",
        "--workspace",
        ws.to_str().unwrap(),
        "--lang",
        "bash",
        "--code",
        code,
    ]);
    assert_eq!(o.stdout, b"a\x1b]52;c;ZXZpbA==\x07b\xe2\x80\xaeok\n");
}

/// `airlock run` killed with SIGKILL mid-run: while it runs, `verify` counts the start as
/// in progress; once it is dead, the next airlock process records the run as abandoned,
/// so every start still has an outcome and the log verifies.
#[test]
fn a_killed_run_is_recorded_as_abandoned() {
    let e = Env::new("abandon");
    let ws = e.ws();
    let mut run = e
        .cmd(&[
            "run",
            "--workspace",
            ws.to_str().unwrap(),
            "--",
            "sleep",
            "30",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let start_index = loop {
        let o = e.run(&["ledger", "search", "--kind", "exec_start"]);
        if let Some(line) = String::from_utf8_lossy(&o.stdout).lines().next() {
            let v: Value = serde_json::from_str(line).unwrap();
            break v["index"].as_u64().unwrap();
        }
        assert!(started.elapsed().as_secs() < 20, "the run never started");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let v = e.run(&["ledger", "verify", "--json"]);
    let r: Value = serde_json::from_slice(&v.stdout).unwrap();
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(
        r["report"]["in_progress"],
        serde_json::json!([start_index]),
        "{r}"
    );
    run.kill().unwrap();
    run.wait().unwrap();
    // Verify alone (read-only) sees a start without an outcome.
    let v = e.run(&["ledger", "verify"]);
    assert_eq!(v.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&v.stdout).contains("has no outcome"));
    // The next airlock process closes it.
    assert!(
        e.run(&[
            "check",
            "--workspace",
            ws.to_str().unwrap(),
            "--lang",
            "bash",
            "--code",
            "ls"
        ])
        .status
        .success()
    );
    let outcome = e
        .records()
        .into_iter()
        .find(|r| r["kind"] == "exec_outcome")
        .expect("an outcome for the killed run");
    assert_eq!(outcome["body"]["start_index"], start_index);
    assert_eq!(outcome["body"]["exit"], "abandoned");
    let v = e.run(&["ledger", "verify"]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}
