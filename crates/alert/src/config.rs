//! The `[alerts]` section of airlock's configuration.
//!
//! It lives in airlock's own configuration (next to the policy, outside the
//! workspace), so an agent cannot turn its own alarms off. Every key is optional;
//! the defaults alert on every rule and write to stderr and the outbox. Unknown
//! keys are errors, because a misspelt key that silently does nothing is how a
//! webhook ends up never configured.
//!
//! ```toml
//! [alerts]
//! enabled = true
//! [alerts.rules]
//! privilege     = { enabled = true, severity = "high" }
//! egress_denied = { severity = "high" }
//! destructive   = { severity = "high" }
//! opaque        = { severity = "warning" }
//! production    = { severity = "high" }
//! denial_burst  = { severity = "high", count = 3, window_secs = 300 }
//! [alerts.stderr]
//! enabled = true
//! [alerts.outbox]
//! path = "/var/lib/airlock/alerts/outbox.jsonl"   # default <state>/alerts/outbox.jsonl
//! rotate_bytes = 8388608
//! [alerts.webhook]
//! url = "https://siem.example.net/hooks/airlock"
//! secret_file = "/etc/airlock/webhook.secret"
//! timeout_ms = 2000      # per try
//! retries = 2            # tries after the first
//! deadline_ms = 5000     # all webhook work in one call
//! ca_file = "/etc/airlock/siem-ca.pem"   # optional: replaces the built-in roots
//! [alerts.syslog]
//! target = "unix:/dev/log"   # or "udp:127.0.0.1:514", "tcp:loghost:601"
//! app_name = "airlock"
//! facility = "auth"
//! timeout_ms = 1000
//! ```
//!
//! Paths must be absolute: the configuration is read by processes started in
//! arbitrary working directories.

use std::net::IpAddr;
use std::path::PathBuf;

use serde::Deserialize;

use crate::{Error, Severity};

/// The whole `[alerts]` table, validated.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawAlerts")]
pub struct AlertConfig {
    /// Off: no rule fires and `dispatch` writes nothing (a queued outbox is still
    /// flushed).
    pub enabled: bool,
    pub rules: RuleConfig,
    pub stderr: StderrConfig,
    pub outbox: OutboxConfig,
    pub webhook: Option<WebhookConfig>,
    pub syslog: Option<SyslogConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleConfig {
    pub privilege: RuleSetting,
    pub egress_denied: RuleSetting,
    pub destructive: RuleSetting,
    pub opaque: RuleSetting,
    pub production: RuleSetting,
    pub denial_burst: BurstSetting,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleSetting {
    pub enabled: bool,
    pub severity: Severity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BurstSetting {
    pub enabled: bool,
    pub severity: Severity,
    /// Refused verdicts in one session that make a burst (1..=100).
    pub count: u32,
    /// The sliding window, in seconds (1..=86400).
    pub window_secs: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StderrConfig {
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxConfig {
    /// Absolute path of the JSON-lines outbox; `None` means
    /// `<state>/alerts/outbox.jsonl`.
    pub path: Option<PathBuf>,
    /// Size past which delivered entries are rotated out to `<path>.1`.
    pub rotate_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookConfig {
    /// `https://…`, or `http://` to a loopback host (a local relay or a test).
    pub url: String,
    /// File holding the HMAC key (trailing newline ignored); must not be
    /// readable by others.
    pub secret_file: PathBuf,
    /// Bound on one try (connect, TLS, request, response), milliseconds.
    pub timeout_ms: u64,
    /// Tries after the first, for 5xx, 408, 429 and transport errors.
    pub retries: u32,
    /// Bound on all webhook work in one `dispatch`, milliseconds.
    pub deadline_ms: u64,
    /// PEM roots that replace the built-in Mozilla roots.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyslogConfig {
    pub target: SyslogTarget,
    /// RFC 5424 APP-NAME: 1 to 48 printable ASCII characters.
    pub app_name: String,
    pub facility: Facility,
    /// Bound on connecting and sending, milliseconds.
    pub timeout_ms: u64,
}

/// Where syslog lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyslogTarget {
    /// A Unix datagram socket such as `/dev/log`.
    Unix(PathBuf),
    /// `host:port`, one datagram per alert (RFC 5426).
    Udp(String),
    /// `host:port`, octet-counting framing (RFC 6587 §3.4.1).
    Tcp(String),
}

impl SyslogTarget {
    /// Parses `unix:/path`, `udp:host:port` or `tcp:host:port` (IPv6 in brackets).
    pub fn parse(s: &str) -> Result<SyslogTarget, String> {
        let (scheme, rest) = s.split_once(':').ok_or_else(|| {
            format!("syslog target {s:?}: expected unix:PATH, udp:HOST:PORT or tcp:HOST:PORT")
        })?;
        match scheme {
            "unix" => {
                let p = PathBuf::from(rest);
                if !p.is_absolute() {
                    return Err(format!(
                        "syslog target {s:?}: the socket path must be absolute"
                    ));
                }
                Ok(SyslogTarget::Unix(p))
            }
            "udp" | "tcp" => {
                let (host, port) = rest
                    .rsplit_once(':')
                    .ok_or_else(|| format!("syslog target {s:?}: expected {scheme}:HOST:PORT"))?;
                let port_ok = port.parse::<u16>().is_ok_and(|p| p != 0);
                let host_inner = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
                let host_ok = match host_inner {
                    Some(h) => h.parse::<std::net::Ipv6Addr>().is_ok(),
                    None => {
                        !host.is_empty()
                            && !host.contains(':')
                            && host
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
                    }
                };
                if !port_ok || !host_ok {
                    return Err(format!(
                        "syslog target {s:?}: expected {scheme}:HOST:PORT with a port 1-65535 (IPv6 in brackets)"
                    ));
                }
                let hp = rest.to_string();
                Ok(if scheme == "udp" {
                    SyslogTarget::Udp(hp)
                } else {
                    SyslogTarget::Tcp(hp)
                })
            }
            _ => Err(format!(
                "syslog target {s:?}: unknown transport {scheme:?} (unix, udp or tcp)"
            )),
        }
    }
}

/// A syslog facility (RFC 5424 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facility(pub u8);

impl Facility {
    const NAMES: [&'static str; 24] = [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
        "authpriv", "ftp", "ntp", "audit", "alert", "clock", "local0", "local1", "local2",
        "local3", "local4", "local5", "local6", "local7",
    ];

    pub fn parse(s: &str) -> Result<Facility, String> {
        let s = if s == "security" { "auth" } else { s };
        Facility::NAMES
            .iter()
            .position(|n| *n == s)
            .map(|i| Facility(i as u8))
            .ok_or_else(|| {
                format!(
                    "unknown syslog facility {s:?}; one of: {}",
                    Facility::NAMES.join(", ")
                )
            })
    }

    pub fn name(self) -> &'static str {
        Facility::NAMES
            .get(usize::from(self.0))
            .copied()
            .unwrap_or("?")
    }
}

impl Default for AlertConfig {
    fn default() -> AlertConfig {
        AlertConfig::try_from(RawAlerts::default()).expect("the defaults are valid")
    }
}

impl AlertConfig {
    /// Reads the `[alerts]` table of a whole airlock configuration document; other
    /// tables are ignored (they belong to other parts of airlock). A document
    /// without `[alerts]` gives the defaults. Errors carry TOML line numbers.
    pub fn from_toml_str(doc: &str) -> Result<AlertConfig, Error> {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            alerts: Option<AlertConfig>,
        }
        let d: Doc = toml::from_str(doc).map_err(|e| Error::Config(e.to_string()))?;
        Ok(d.alerts.unwrap_or_default())
    }

    /// Reads the value of the `alerts` key (the table itself, not the document).
    pub fn from_toml_table(v: &toml::Value) -> Result<AlertConfig, Error> {
        v.clone()
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config(e.to_string()))
    }
}

// ---- raw, as written --------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAlerts {
    enabled: Option<bool>,
    rules: RawRules,
    stderr: RawStderr,
    outbox: RawOutbox,
    webhook: Option<RawWebhook>,
    syslog: Option<RawSyslog>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawRules {
    privilege: RawRule,
    egress_denied: RawRule,
    destructive: RawRule,
    opaque: RawRule,
    production: RawRule,
    denial_burst: RawBurst,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawRule {
    enabled: Option<bool>,
    severity: Option<Severity>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawBurst {
    enabled: Option<bool>,
    severity: Option<Severity>,
    count: Option<u32>,
    window_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawStderr {
    enabled: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawOutbox {
    path: Option<PathBuf>,
    rotate_bytes: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    enabled: Option<bool>,
    url: String,
    secret_file: PathBuf,
    timeout_ms: Option<u64>,
    retries: Option<u32>,
    deadline_ms: Option<u64>,
    ca_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSyslog {
    enabled: Option<bool>,
    target: Option<String>,
    app_name: Option<String>,
    facility: Option<String>,
    timeout_ms: Option<u64>,
}

pub(crate) const DEFAULT_ROTATE_BYTES: u64 = 8 << 20;

impl TryFrom<RawAlerts> for AlertConfig {
    type Error = String;

    fn try_from(r: RawAlerts) -> Result<AlertConfig, String> {
        let rule = |raw: RawRule, default: Severity| RuleSetting {
            enabled: raw.enabled.unwrap_or(true),
            severity: raw.severity.unwrap_or(default),
        };
        let b = r.rules.denial_burst;
        let burst = BurstSetting {
            enabled: b.enabled.unwrap_or(true),
            severity: b.severity.unwrap_or(Severity::High),
            count: b.count.unwrap_or(3),
            window_secs: b.window_secs.unwrap_or(300),
        };
        if !(1..=100).contains(&burst.count) {
            return Err(format!(
                "rules.denial_burst.count = {}: must be 1 to 100",
                burst.count
            ));
        }
        if !(1..=86_400).contains(&burst.window_secs) {
            return Err(format!(
                "rules.denial_burst.window_secs = {}: must be 1 to 86400",
                burst.window_secs
            ));
        }
        let rules = RuleConfig {
            privilege: rule(r.rules.privilege, Severity::High),
            egress_denied: rule(r.rules.egress_denied, Severity::High),
            destructive: rule(r.rules.destructive, Severity::High),
            opaque: rule(r.rules.opaque, Severity::Warning),
            production: rule(r.rules.production, Severity::High),
            denial_burst: burst,
        };

        if let Some(p) = &r.outbox.path
            && !p.is_absolute()
        {
            return Err(format!("outbox.path {}: must be absolute", p.display()));
        }
        let rotate_bytes = r.outbox.rotate_bytes.unwrap_or(DEFAULT_ROTATE_BYTES);
        if rotate_bytes < 4096 {
            return Err(format!(
                "outbox.rotate_bytes = {rotate_bytes}: must be at least 4096"
            ));
        }

        let webhook = match r.webhook {
            Some(w) if w.enabled.unwrap_or(true) => Some(webhook(w)?),
            _ => None,
        };
        let syslog = match r.syslog {
            Some(s) if s.enabled.unwrap_or(true) => Some(syslog(s)?),
            _ => None,
        };

        Ok(AlertConfig {
            enabled: r.enabled.unwrap_or(true),
            rules,
            stderr: StderrConfig {
                enabled: r.stderr.enabled.unwrap_or(true),
            },
            outbox: OutboxConfig {
                path: r.outbox.path,
                rotate_bytes,
            },
            webhook,
            syslog,
        })
    }
}

fn ms(name: &str, v: Option<u64>, default: u64) -> Result<u64, String> {
    let v = v.unwrap_or(default);
    if !(1..=60_000).contains(&v) {
        return Err(format!("{name} = {v}: must be 1 to 60000 (milliseconds)"));
    }
    Ok(v)
}

fn webhook(w: RawWebhook) -> Result<WebhookConfig, String> {
    check_webhook_url(&w.url)?;
    if !w.secret_file.is_absolute() {
        return Err(format!(
            "webhook.secret_file {}: must be absolute",
            w.secret_file.display()
        ));
    }
    if let Some(ca) = &w.ca_file
        && !ca.is_absolute()
    {
        return Err(format!(
            "webhook.ca_file {}: must be absolute",
            ca.display()
        ));
    }
    let retries = w.retries.unwrap_or(2);
    if retries > 10 {
        return Err(format!("webhook.retries = {retries}: must be 0 to 10"));
    }
    Ok(WebhookConfig {
        url: w.url,
        secret_file: w.secret_file,
        timeout_ms: ms("webhook.timeout_ms", w.timeout_ms, 2000)?,
        retries,
        deadline_ms: ms("webhook.deadline_ms", w.deadline_ms, 5000)?,
        ca_file: w.ca_file,
    })
}

/// `https` anywhere; plain `http` only to a loopback host (`localhost`,
/// 127.0.0.0/8, `::1`), where nothing crosses a network. No credentials in the
/// URL: they would end up in logs and error messages.
pub(crate) fn check_webhook_url(url: &str) -> Result<(), String> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| format!("webhook.url {url:?}: not a URL ({e})"))?;
    let scheme = uri.scheme_str().unwrap_or("");
    let auth = uri
        .authority()
        .ok_or_else(|| format!("webhook.url {url:?}: no host"))?;
    if auth.as_str().contains('@') {
        return Err(format!(
            "webhook.url {url:?}: credentials in the URL are not allowed (the request is signed)"
        ));
    }
    let host = auth.host();
    match scheme {
        "https" => Ok(()),
        "http" if is_loopback_host(host) => Ok(()),
        "http" => Err(format!(
            "webhook.url {url:?}: plain http is allowed only to a loopback host; use https"
        )),
        _ => Err(format!("webhook.url {url:?}: the scheme must be https")),
    }
}

pub(crate) fn is_loopback_host(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn syslog(s: RawSyslog) -> Result<SyslogConfig, String> {
    let target = SyslogTarget::parse(s.target.as_deref().unwrap_or("unix:/dev/log"))?;
    let app_name = s.app_name.unwrap_or_else(|| "airlock".into());
    if app_name.is_empty()
        || app_name.len() > 48
        || !app_name.bytes().all(|b| (33..=126).contains(&b))
    {
        return Err(format!(
            "syslog.app_name {app_name:?}: must be 1 to 48 printable ASCII characters without spaces"
        ));
    }
    let facility = Facility::parse(s.facility.as_deref().unwrap_or("auth"))
        .map_err(|e| format!("syslog.facility: {e}"))?;
    Ok(SyslogConfig {
        target,
        app_name,
        facility,
        timeout_ms: ms("syslog.timeout_ms", s.timeout_ms, 1000)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(doc: &str) -> Result<AlertConfig, Error> {
        AlertConfig::from_toml_str(doc)
    }

    #[test]
    fn defaults() {
        let c = AlertConfig::default();
        assert!(c.enabled && c.stderr.enabled);
        assert_eq!(c.rules.privilege.severity, Severity::High);
        assert_eq!(c.rules.opaque.severity, Severity::Warning);
        assert_eq!(c.rules.denial_burst.count, 3);
        assert_eq!(c.rules.denial_burst.window_secs, 300);
        assert!(c.webhook.is_none() && c.syslog.is_none() && c.outbox.path.is_none());
        assert_eq!(parse("").unwrap(), c);
        assert_eq!(parse("[policy]\nx = 1\n").unwrap(), c);
        assert_eq!(parse("[alerts]\n").unwrap(), c);
    }

    #[test]
    fn full_example() {
        let c = parse(
            r#"
            [alerts]
            enabled = true
            [alerts.rules]
            privilege = { enabled = true, severity = "critical" }
            egress_denied = { enabled = false }
            opaque = { severity = "info" }
            denial_burst = { count = 5, window_secs = 60 }
            [alerts.stderr]
            enabled = false
            [alerts.outbox]
            path = "/var/lib/airlock/alerts/out.jsonl"
            [alerts.webhook]
            url = "https://siem.example.net/hook"
            secret_file = "/etc/airlock/secret"
            timeout_ms = 1500
            retries = 1
            [alerts.syslog]
            target = "udp:[::1]:514"
            facility = "local3"
            "#,
        )
        .unwrap();
        assert_eq!(c.rules.privilege.severity, Severity::Critical);
        assert!(!c.rules.egress_denied.enabled);
        assert_eq!(c.rules.egress_denied.severity, Severity::High);
        assert_eq!(c.rules.opaque.severity, Severity::Info);
        assert!(c.rules.opaque.enabled);
        assert_eq!(c.rules.denial_burst.count, 5);
        assert_eq!(c.rules.denial_burst.severity, Severity::High);
        assert!(!c.stderr.enabled);
        let w = c.webhook.unwrap();
        assert_eq!((w.timeout_ms, w.retries, w.deadline_ms), (1500, 1, 5000));
        let s = c.syslog.unwrap();
        assert_eq!(s.target, SyslogTarget::Udp("[::1]:514".into()));
        assert_eq!(s.facility, Facility(19));
        assert_eq!(s.app_name, "airlock");
    }

    #[test]
    fn table_form_matches_document_form() {
        let doc = "[alerts.rules]\ndestructive = { severity = \"critical\" }\n";
        let v: toml::Table = toml::from_str(doc).unwrap();
        let t = AlertConfig::from_toml_table(&v["alerts"]).unwrap();
        assert_eq!(t, parse(doc).unwrap());
        assert_eq!(t.rules.destructive.severity, Severity::Critical);
    }

    fn err(doc: &str) -> String {
        parse(doc).unwrap_err().to_string()
    }

    #[test]
    fn clear_errors() {
        assert!(err("[alerts]\nenabeld = true\n").contains("unknown field `enabeld`"));
        assert!(err("[alerts.rules]\nprivilege = { severity = \"urgent\" }\n").contains("urgent"));
        assert!(err("[alerts.rules]\nescalation = {}\n").contains("unknown field `escalation`"));
        assert!(err("[alerts.rules]\ndenial_burst = { count = 0 }\n").contains("must be 1 to 100"));
        assert!(err("[alerts.outbox]\npath = \"rel/out.jsonl\"\n").contains("must be absolute"));
        let e = err("[alerts.webhook]\nurl = \"http://siem.example.net/\"\nsecret_file = \"/s\"\n");
        assert!(e.contains("only to a loopback host"), "{e}");
        let e = err(
            "[alerts.webhook]\nurl = \"https://u:p@siem.example.net/\"\nsecret_file = \"/s\"\n",
        );
        assert!(e.contains("credentials"), "{e}");
        assert!(err("[alerts.webhook]\nurl = \"https://x.net/\"\n").contains("secret_file"));
        let e = err(
            "[alerts.webhook]\nurl = \"https://x.net/\"\nsecret_file = \"/s\"\ntimeout_ms = 0\n",
        );
        assert!(e.contains("timeout_ms"), "{e}");
        assert!(err("[alerts.syslog]\ntarget = \"udp:host\"\n").contains("HOST:PORT"));
        assert!(err("[alerts.syslog]\ntarget = \"unix:dev/log\"\n").contains("absolute"));
        assert!(
            err("[alerts.syslog]\nfacility = \"kernel\"\n").contains("unknown syslog facility")
        );
        assert!(err("[alerts.syslog]\napp_name = \"air lock\"\n").contains("app_name"));
        // TOML positions survive the validation step.
        assert!(err("\n\n[alerts]\nenabled = \"yes\"\n").contains("line 4"));
    }

    #[test]
    fn webhook_urls() {
        assert!(check_webhook_url("https://siem.example.net/a?b=c").is_ok());
        assert!(check_webhook_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(check_webhook_url("http://127.3.2.1/hook").is_ok());
        assert!(check_webhook_url("http://[::1]:9/hook").is_ok());
        assert!(check_webhook_url("http://localhost:9/hook").is_ok());
        assert!(check_webhook_url("http://10.0.0.1/hook").is_err());
        assert!(check_webhook_url("http://127.0.0.1.nip.io/hook").is_err());
        assert!(check_webhook_url("ftp://127.0.0.1/hook").is_err());
        assert!(check_webhook_url("/just/a/path").is_err());
    }

    #[test]
    fn disabled_sinks_are_absent() {
        let c = parse(
            "[alerts.webhook]\nenabled = false\nurl = \"https://x.net/\"\nsecret_file = \"/s\"\n[alerts.syslog]\nenabled = false\n",
        )
        .unwrap();
        assert!(c.webhook.is_none() && c.syslog.is_none());
    }

    #[test]
    fn syslog_targets() {
        assert_eq!(
            SyslogTarget::parse("unix:/dev/log").unwrap(),
            SyslogTarget::Unix("/dev/log".into())
        );
        assert_eq!(
            SyslogTarget::parse("tcp:loghost.example.net:601").unwrap(),
            SyslogTarget::Tcp("loghost.example.net:601".into())
        );
        assert!(SyslogTarget::parse("tcp:::1:601").is_err());
        assert!(SyslogTarget::parse("udp:127.0.0.1:0").is_err());
        assert!(SyslogTarget::parse("udp:127.0.0.1:99999").is_err());
        assert!(SyslogTarget::parse("file:/var/log/x").is_err());
        assert_eq!(Facility::parse("auth").unwrap().name(), "auth");
        assert_eq!(Facility::parse("local7").unwrap(), Facility(23));
    }
}
