//! Shared test helpers: a real HTTP server on 127.0.0.1 that checks the HMAC,
//! and realistic alerts.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alert::webhook::{hex, hmac_sha256};
use alert::{Alert, Severity};

pub const SECRET: &[u8] = b"s3cret-hmac-key-for-tests";

/// How the server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Answer with this status.
    Status(u16),
    /// Read the request, never answer; close when the mode changes (or after 10 s).
    Hang,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    /// The signature header equals HMAC-SHA256(SECRET, "<timestamp>.<body>"),
    /// computed here from the documented string, not by the library's helper.
    pub signature_ok: bool,
    pub status: u16,
}

impl Received {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
    pub fn alert(&self) -> Alert {
        serde_json::from_value(self.json()["data"].clone()).expect("data is an alert")
    }
}

struct State {
    mode: Mode,
    /// Per-alert-id overrides of the mode.
    refuse: HashMap<String, u16>,
    received: Vec<Received>,
    connections: usize,
}

#[derive(Clone)]
pub struct Server {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl Server {
    pub fn start(mode: Mode) -> Server {
        Server::start_on(TcpListener::bind("127.0.0.1:0").unwrap(), mode)
    }

    pub fn start_on(listener: TcpListener, mode: Mode) -> Server {
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            mode,
            refuse: HashMap::new(),
            received: Vec::new(),
            connections: 0,
        }));
        let st = Arc::clone(&state);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                st.lock().unwrap().connections += 1;
                let st = Arc::clone(&st);
                std::thread::spawn(move || handle(conn, st));
            }
        });
        Server { port, state }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    pub fn refuse(&self, id: &str, status: u16) {
        self.state
            .lock()
            .unwrap()
            .refuse
            .insert(id.to_string(), status);
    }

    /// Requests answered with 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.state
            .lock()
            .unwrap()
            .received
            .iter()
            .filter(|r| (200..300).contains(&r.status))
            .cloned()
            .collect()
    }

    pub fn all_requests(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }
}

fn handle(conn: TcpStream, st: Arc<Mutex<State>>) {
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    assert!(
        line.starts_with("POST /hook HTTP/1.1"),
        "request line {line:?}"
    );
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len: usize = headers["content-length"].parse().unwrap();
    let mut body = vec![0; len];
    r.read_exact(&mut body).unwrap();
    let ts = headers
        .get("x-airlock-timestamp")
        .cloned()
        .unwrap_or_default();
    let mut signed = ts.clone().into_bytes();
    signed.push(b'.');
    signed.extend_from_slice(&body);
    let expect = format!("sha256={}", hex(&hmac_sha256(SECRET, &signed)));
    let signature_ok = headers.get("x-airlock-signature") == Some(&expect);
    let id = headers
        .get("x-airlock-alert-id")
        .cloned()
        .unwrap_or_default();

    let (mode, refuse) = {
        let s = st.lock().unwrap();
        (s.mode, s.refuse.get(&id).copied())
    };
    let status = match (refuse, mode) {
        (Some(code), _) | (None, Mode::Status(code)) => code,
        (None, Mode::Hang) => {
            // Hold the connection without answering until the mode changes (the
            // client has given up by then), then drop it unanswered.
            let started = Instant::now();
            while st.lock().unwrap().mode == Mode::Hang
                && started.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            return;
        }
    };
    let mut w = conn;
    // Record before answering, so a client that has its 2xx finds the request here.
    st.lock().unwrap().received.push(Received {
        headers,
        body,
        signature_ok,
        status,
    });
    let _ = write!(
        w,
        "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
    );
    let _ = w.flush();
}

/// A fresh state directory with a secret file (mode 0600).
pub fn state_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("alert-it-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let s = d.join("webhook.secret");
    std::fs::write(&s, [SECRET, b"\n"].concat()).unwrap();
    std::fs::set_permissions(&s, std::fs::Permissions::from_mode(0o600)).unwrap();
    d
}

/// An `[alerts]` configuration with a webhook to `url`.
pub fn webhook_config(
    dir: &Path,
    url: &str,
    timeout_ms: u64,
    retries: u32,
    deadline_ms: u64,
) -> alert::AlertConfig {
    alert::AlertConfig::from_toml_str(&format!(
        r#"
        [alerts.stderr]
        enabled = false
        [alerts.webhook]
        url = "{url}"
        secret_file = "{}"
        timeout_ms = {timeout_ms}
        retries = {retries}
        deadline_ms = {deadline_ms}
        "#,
        dir.join("webhook.secret").display()
    ))
    .unwrap()
}

/// A realistic alert about ledger record `index`.
pub fn alert(index: u64, rule: &str) -> Alert {
    Alert {
        id: format!("{index}-{rule}"),
        rule: rule.into(),
        severity: Severity::High,
        summary: format!("{rule} (denied): sudo rm -rf /var/lib/postgresql"),
        time: "2026-11-27T22:51:00.123Z".into(),
        request: Some(format!("r-{index}")),
        session: Some("s-1".into()),
        subject_index: index,
        subject_leaf: format!("{:064x}", index * 7919 + 1),
        checkpoint: Some("airlock.example/log\n12\nq83jfkd=\n\n— airlock Az3k...\n".into()),
        details: serde_json::json!({"decision": "deny", "matches": [{"op": 0, "what": "privilege: sudo rm -rf /var/lib/postgresql"}]}),
    }
}

pub fn ids(v: &[Alert]) -> Vec<String> {
    v.iter().map(|a| a.id.clone()).collect()
}
