//! The webhook sink: one signed HTTPS POST per alert.
//!
//! # What the receiver gets
//!
//! The body is a CloudEvents 1.0 event in structured JSON mode
//! (`Content-Type: application/cloudevents+json`) whose `data` is the [`Alert`]:
//! `{"specversion":"1.0","type":"dev.airlock.alert","source":"airlock","id":<alert id>,
//! "time":<alert time>,"subject":"<subject_index>","datacontenttype":"application/json","data":{…}}`.
//! Headers:
//!
//! * `X-Airlock-Timestamp: <unix seconds when this try was sent>`
//! * `X-Airlock-Signature: sha256=<lower-case hex HMAC-SHA256(secret, <timestamp> "." <body>)>`
//! * `X-Airlock-Alert-Id: <alert id>`
//!
//! The signed string is the timestamp header's exact text, one `.`, then the raw
//! body bytes. Covering the timestamp lets a receiver refuse replays: check the
//! MAC (in constant time; [`verify_signature`] does both steps), then refuse
//! timestamps more than a few minutes from its own clock, then deduplicate on the
//! alert id, since delivery is at-least-once (a 2xx whose acknowledgement was
//! not recorded before the process ended is sent again later).
//!
//! # Transport guarantees
//!
//! * **No proxy, ever.** The sandbox's egress proxy is configured through
//!   `HTTP(S)_PROXY`; the webhook must never follow it (it would route alerts
//!   about an agent through the agent's own proxy). The HTTP agent is built with
//!   its proxy explicitly set to none, after the library's defaults read the
//!   environment, so the environment is never consulted.
//! * **Verified TLS.** rustls (ring provider) checking the chain and host name
//!   against Mozilla's roots (webpki-roots), or only against `ca_file` when it is
//!   set. `http://` is accepted only for loopback hosts (local relays, tests).
//! * **No redirects** (a redirect could carry the signed alert elsewhere).
//! * **Bounded.** Each try is bounded by `timeout_ms` (resolve, connect, TLS,
//!   send, response), retries back off 100 ms, 200 ms, 400 ms…, and nothing
//!   starts after the caller's deadline.
//!
//! 2xx acknowledges. 5xx, 408, 429 and transport errors are retried and, once the
//! tries are spent, end the round (the receiver is down; later alerts would fail
//! the same way). Other statuses (4xx, 3xx) are not retried but do not block the
//! alerts behind: the alert stays in the outbox for a later round, because a
//! rejected signature is usually a configuration being fixed.

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use ureq::tls::{PemItem, RootCerts, TlsConfig, TlsProvider};

use crate::config::WebhookConfig;
use crate::{Alert, Error};

pub const SIGNATURE_HEADER: &str = "X-Airlock-Signature";
pub const TIMESTAMP_HEADER: &str = "X-Airlock-Timestamp";
pub const ALERT_ID_HEADER: &str = "X-Airlock-Alert-Id";
pub const CONTENT_TYPE: &str = "application/cloudevents+json";
/// The CloudEvents `type` of an alert.
pub const EVENT_TYPE: &str = "dev.airlock.alert";

const BLOCK: usize = 64;

/// HMAC-SHA256 (RFC 2104) over `msg` with `key`.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let inner = inner.finalize();
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner);
    outer.finalize().into()
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The `X-Airlock-Signature` value for a body sent with `timestamp` (the exact
/// text of the `X-Airlock-Timestamp` header).
pub fn signature(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    let mut msg = Vec::with_capacity(timestamp.len() + 1 + body.len());
    msg.extend_from_slice(timestamp.as_bytes());
    msg.push(b'.');
    msg.extend_from_slice(body);
    format!("sha256={}", hex(&hmac_sha256(secret, &msg)))
}

/// Checks a received signature header in constant time, and that the timestamp
/// is within `tolerance` of `now` (replay protection). For receivers and tests.
pub fn verify_signature(
    secret: &[u8],
    timestamp: &str,
    body: &[u8],
    header: &str,
    now: SystemTime,
    tolerance: Duration,
) -> bool {
    let expect = signature(secret, timestamp, body);
    let same = expect.len() == header.len()
        && expect
            .bytes()
            .zip(header.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    let Ok(ts) = timestamp.parse::<u64>() else {
        return false;
    };
    let now = crate::time::unix_secs(now) as u64;
    same && now.abs_diff(ts) <= tolerance.as_secs()
}

/// The CloudEvents envelope sent for an alert.
pub fn event_body(alert: &Alert) -> Vec<u8> {
    let ev = serde_json::json!({
        "specversion": "1.0",
        "type": EVENT_TYPE,
        "source": "airlock",
        "id": alert.id,
        "time": alert.time,
        "subject": alert.subject_index.to_string(),
        "datacontenttype": "application/json",
        "data": alert,
    });
    serde_json::to_vec(&ev).expect("an alert serializes")
}

/// How one alert's delivery ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 2xx.
    Delivered,
    /// The receiver answered but refused (4xx other than 408/429, 3xx): keep the
    /// alert, go on with the next.
    Refused(String),
    /// Transport failure or 5xx after all tries, or out of time: stop the round.
    Failed(String),
}

pub(crate) struct Webhook {
    agent: ureq::Agent,
    url: String,
    secret: Vec<u8>,
    timeout: Duration,
    retries: u32,
    pub(crate) deadline: Duration,
}

impl Webhook {
    pub(crate) fn new(cfg: &WebhookConfig) -> Result<Webhook, Error> {
        crate::config::check_webhook_url(&cfg.url).map_err(Error::Config)?;
        let secret = read_secret(&cfg.secret_file)?;
        let timeout = Duration::from_millis(cfg.timeout_ms);
        Ok(Webhook {
            agent: agent(timeout, cfg.ca_file.as_deref())?,
            url: cfg.url.clone(),
            secret,
            timeout,
            retries: cfg.retries,
            deadline: Duration::from_millis(cfg.deadline_ms),
        })
    }

    /// Sends one alert, retrying until delivered, refused, out of tries or past
    /// `deadline`.
    pub(crate) fn send(&self, alert: &Alert, deadline: Instant) -> Outcome {
        let body = event_body(alert);
        let mut last = String::from("out of time before the first try");
        for attempt in 0..=self.retries {
            if attempt > 0 {
                let backoff = Duration::from_millis(100 << (attempt - 1).min(4));
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    break;
                };
                if left <= backoff + Duration::from_millis(10) {
                    break;
                }
                std::thread::sleep(backoff);
            }
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                break;
            };
            if left < Duration::from_millis(10) {
                break;
            }
            match self.try_once(alert, &body, left.min(self.timeout)) {
                Try::Ok => return Outcome::Delivered,
                Try::Permanent(why) => return Outcome::Refused(why),
                Try::Again(why) => last = why,
            }
        }
        Outcome::Failed(last)
    }

    fn try_once(&self, alert: &Alert, body: &[u8], timeout: Duration) -> Try {
        let ts = (crate::time::unix_secs(SystemTime::now()) as u64).to_string();
        let sig = signature(&self.secret, &ts, body);
        let res = self
            .agent
            .post(&self.url)
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("Content-Type", CONTENT_TYPE)
            .header(TIMESTAMP_HEADER, &ts)
            .header(SIGNATURE_HEADER, &sig)
            .header(ALERT_ID_HEADER, &alert.id)
            .send(body);
        match res {
            Ok(resp) => {
                let code = resp.status().as_u16();
                match code {
                    200..=299 => Try::Ok,
                    408 | 429 | 500..=599 => Try::Again(format!("HTTP {code}")),
                    300..=399 => {
                        Try::Permanent(format!("HTTP {code} (redirects are not followed)"))
                    }
                    _ => Try::Permanent(format!("HTTP {code}")),
                }
            }
            Err(e) => Try::Again(e.to_string()),
        }
    }
}

/// The HTTP agent every request here uses: no proxy, no redirects, verified TLS
/// (Mozilla roots, or only `ca_file`), statuses returned rather than raised,
/// `timeout` over the whole call.
fn agent(timeout: Duration, ca_file: Option<&Path>) -> Result<ureq::Agent, Error> {
    let roots = match ca_file {
        Some(p) => load_roots(p)?,
        None => RootCerts::WebPki,
    };
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(roots)
        .build();
    let config = ureq::Agent::config_builder()
        // The builder starts from defaults that read HTTP(S)_PROXY/ALL_PROXY;
        // this drops whatever they found.
        .proxy(None)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .https_only(false)
        .tls_config(tls)
        .user_agent(concat!("airlock-alert/", env!("CARGO_PKG_VERSION")))
        .timeout_global(Some(timeout))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    if agent.config().proxy().is_some() {
        return Err(Error::Config(
            "webhook: the HTTP agent would use a proxy".into(),
        ));
    }
    Ok(agent)
}

/// POSTs `text` (`text/plain; charset=utf-8`) to `url` once, with the webhook's
/// transport guarantees: https (plain http only to loopback), verified TLS
/// (`ca_file` replaces the built-in roots), no proxy, no redirects, at most
/// `timeout` in all. Unsigned: for publishing material that carries its own
/// signature, such as signed checkpoints. Succeeds on 2xx.
pub fn post_text(
    url: &str,
    text: &str,
    timeout: Duration,
    ca_file: Option<&Path>,
) -> Result<(), Error> {
    crate::config::check_webhook_url(url).map_err(Error::Config)?;
    let resp = agent(timeout, ca_file)?
        .post(url)
        .header("Content-Type", "text/plain; charset=utf-8")
        .send(text.as_bytes())
        .map_err(|e| Error::Delivery(format!("{url}: {e}")))?;
    let code = resp.status().as_u16();
    if (200..300).contains(&code) {
        Ok(())
    } else {
        Err(Error::Delivery(format!("{url}: HTTP {code}")))
    }
}

enum Try {
    Ok,
    Permanent(String),
    Again(String),
}

/// The HMAC key: the file's bytes without a trailing newline. Refused when empty
/// or when other users can read or write it.
fn read_secret(path: &Path) -> Result<Vec<u8>, Error> {
    let meta = fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.mode() & 0o007 != 0 {
        return Err(Error::Config(format!(
            "webhook.secret_file {}: other users can access it (mode {:o}); chmod o-rwx",
            path.display(),
            meta.mode() & 0o777
        )));
    }
    let mut s = fs::read(path).map_err(|e| Error::io(path, e))?;
    while s.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        s.pop();
    }
    if s.is_empty() {
        return Err(Error::Config(format!(
            "webhook.secret_file {}: empty",
            path.display()
        )));
    }
    Ok(s)
}

fn load_roots(path: &Path) -> Result<RootCerts, Error> {
    let pem = fs::read(path).map_err(|e| Error::io(path, e))?;
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => {
                return Err(Error::Config(format!(
                    "webhook.ca_file {}: {e}",
                    path.display()
                )));
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::Config(format!(
            "webhook.ca_file {}: no certificates",
            path.display()
        )));
    }
    Ok(RootCerts::new_with_certs(&certs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_vectors() {
        // RFC 4231 test cases 1, 2, 3, 6 and 7 (HMAC-SHA-256).
        let cases: [(Vec<u8>, Vec<u8>, &str); 5] = [
            (
                vec![0x0b; 20],
                b"Hi There".to_vec(),
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?".to_vec(),
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 20],
                vec![0xdd; 50],
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First".to_vec(),
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                vec![0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.".to_vec(),
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (key, msg, mac) in cases {
            assert_eq!(hex(&hmac_sha256(&key, &msg)), mac);
        }
        assert_eq!(hex(&[0, 1, 0xab, 0xff]), "0001abff");
    }

    #[test]
    fn signature_covers_timestamp_and_body() {
        let s = signature(b"k", "1700000000", b"{}");
        assert!(s.starts_with("sha256=") && s.len() == 7 + 64);
        assert_eq!(
            s,
            format!("sha256={}", hex(&hmac_sha256(b"k", b"1700000000.{}")))
        );
        assert_ne!(s, signature(b"k", "1700000001", b"{}"));
        assert_ne!(s, signature(b"k", "1700000000", b"{ }"));
        assert_ne!(s, signature(b"j", "1700000000", b"{}"));
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_100);
        let tol = Duration::from_secs(300);
        assert!(verify_signature(b"k", "1700000000", b"{}", &s, now, tol));
        assert!(!verify_signature(
            b"k",
            "1700000000",
            b"{}",
            &s[..70],
            now,
            tol
        ));
        assert!(!verify_signature(b"k", "1700000000", b"{ }", &s, now, tol));
        let late = now + Duration::from_secs(600);
        assert!(!verify_signature(b"k", "1700000000", b"{}", &s, late, tol));
    }

    #[test]
    fn secret_file_checks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("alert-secret-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("s");
        fs::write(&p, b"topsecret\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(read_secret(&p).unwrap(), b"topsecret");
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            read_secret(&p)
                .unwrap_err()
                .to_string()
                .contains("other users")
        );
        fs::write(&p, b"\n").unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(read_secret(&p).unwrap_err().to_string().contains("empty"));
        assert!(read_secret(&dir.join("missing")).is_err());
        fs::write(&p, b"not a pem").unwrap();
        assert!(
            load_roots(&p)
                .unwrap_err()
                .to_string()
                .contains("no certificates")
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn event_envelope() {
        let a = Alert {
            id: "7-opaque".into(),
            rule: "opaque".into(),
            severity: crate::Severity::Warning,
            summary: "s".into(),
            time: "2026-01-01T00:00:00.000Z".into(),
            request: None,
            session: None,
            subject_index: 7,
            subject_leaf: "00".repeat(32),
            checkpoint: None,
            details: serde_json::json!({}),
        };
        let v: serde_json::Value = serde_json::from_slice(&event_body(&a)).unwrap();
        assert_eq!(v["specversion"], "1.0");
        assert_eq!(v["id"], "7-opaque");
        assert_eq!(v["subject"], "7");
        let back: Alert = serde_json::from_value(v["data"].clone()).unwrap();
        assert_eq!(back, a);
    }
}
