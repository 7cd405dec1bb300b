//! The syslog sink: RFC 5424 lines for SIEMs and log collectors that already
//! watch syslog.
//!
//! ```text
//! <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [airlock@32473 id=".." rule=".." severity=".." index="N" leaf="<hex>" request=".." session=".."] MSG
//! ```
//!
//! * PRI is `facility * 8 + severity` with severity from [`crate::Severity::syslog_code`].
//! * TIMESTAMP is the alert's own time (when it was raised), MSGID the rule.
//! * The structured data carries the ledger index and leaf hash, so a collector
//!   can join the line back to the record without parsing the message. The SD-ID
//!   uses enterprise number 32473, which RFC 5612 reserves for documentation:
//!   airlock has no IANA number of its own yet.
//! * Text the agent controls never breaks the framing: parameter values escape
//!   `"`, `\` and `]` as RFC 5424 requires, and control characters (NUL, CR, LF,
//!   ESC…) are written as `\u{…}` in values and in the message. The message is
//!   plain ASCII (other characters are escaped the same way), so no BOM is needed.
//!
//! Transports: a Unix datagram socket (`/dev/log`), UDP (one datagram per line,
//! RFC 5426; lines are cut to 2048 bytes by shortening the message, never the
//! structured data), or TCP with octet-counting framing (`LEN SP LINE`, RFC 6587
//! §3.4.1), which needs no delimiter and so survives any content. Syslog is a
//! notification path: it is not retried, the outbox is the record.

use std::io::Write;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use crate::Alert;
use crate::config::{Facility, SyslogConfig, SyslogTarget};
use crate::time::is_syslog_timestamp;

/// The structured-data id of airlock's parameters.
pub const SD_ID: &str = "airlock@32473";
/// Largest datagram sent (UDP and Unix sockets).
pub const MAX_DATAGRAM: usize = 2048;

/// One RFC 5424 line (no trailing newline), at most `max_len` bytes when given
/// (the message is shortened; the header and structured data are kept whole).
pub fn format_line(
    alert: &Alert,
    facility: Facility,
    app_name: &str,
    hostname: &str,
    procid: u32,
    max_len: Option<usize>,
) -> String {
    let pri = u16::from(facility.0) * 8 + u16::from(alert.severity.syslog_code());
    let ts = if is_syslog_timestamp(&alert.time) {
        alert.time.as_str()
    } else {
        "-"
    };
    let mut sd = format!("[{SD_ID}");
    let mut param = |name: &str, value: &str| {
        sd.push(' ');
        sd.push_str(name);
        sd.push_str("=\"");
        sd.push_str(&param_value(value, 128));
        sd.push('"');
    };
    param("id", &alert.id);
    param("rule", &alert.rule);
    param("severity", alert.severity.as_str());
    param("index", &alert.subject_index.to_string());
    param("leaf", &alert.subject_leaf);
    if let Some(r) = &alert.request {
        param("request", r);
    }
    if let Some(s) = &alert.session {
        param("session", s);
    }
    sd.push(']');
    let head = format!(
        "<{pri}>1 {ts} {} {} {procid} {} {sd} ",
        header_field(hostname, 255),
        header_field(app_name, 48),
        header_field(&alert.rule, 32),
    );
    let mut msg = ascii_text(&alert.summary);
    if let Some(max) = max_len {
        let room = max.saturating_sub(head.len());
        if msg.len() > room {
            // `msg` is ASCII, so any byte index is a character boundary.
            msg.truncate(room.saturating_sub(3));
            msg.push_str("...");
            msg.truncate(room);
        }
    }
    head + &msg
}

/// A header field: printable ASCII without spaces, at most `max` bytes, `-` when
/// nothing is left.
fn header_field(s: &str, max: usize) -> String {
    let f: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if f.is_empty() { "-".into() } else { f }
}

/// A PARAM-VALUE: `"`, `\` and `]` escaped with a backslash, control characters
/// written as `\u{…}`, at most `max` characters.
fn param_value(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (n, c) in s.chars().enumerate() {
        if n >= max {
            out.push_str("...");
            break;
        }
        match c {
            '"' | '\\' | ']' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// The message: printable ASCII and spaces; everything else as `\u{…}`.
fn ascii_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c == ' ' || c.is_ascii_graphic() {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    out
}

pub(crate) struct SyslogSink {
    cfg: SyslogConfig,
    hostname: String,
}

impl SyslogSink {
    pub(crate) fn new(cfg: &SyslogConfig) -> SyslogSink {
        let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_string())
            .unwrap_or_default();
        SyslogSink {
            cfg: cfg.clone(),
            hostname,
        }
    }

    pub(crate) fn timeout(&self) -> Duration {
        Duration::from_millis(self.cfg.timeout_ms)
    }

    pub(crate) fn lines(&self, alerts: &[Alert]) -> Vec<String> {
        let max = match self.cfg.target {
            SyslogTarget::Tcp(_) => None,
            _ => Some(MAX_DATAGRAM),
        };
        alerts
            .iter()
            .map(|a| {
                format_line(
                    a,
                    self.cfg.facility,
                    &self.cfg.app_name,
                    &self.hostname,
                    std::process::id(),
                    max,
                )
            })
            .collect()
    }

    /// Sends the lines; returns how many were sent.
    pub(crate) fn send(&self, lines: &[String], deadline: Instant) -> Result<usize, String> {
        let left = || {
            deadline
                .checked_duration_since(Instant::now())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| "syslog: out of time".to_string())
        };
        match &self.cfg.target {
            SyslogTarget::Unix(path) => {
                let sock = UnixDatagram::unbound().map_err(|e| format!("syslog socket: {e}"))?;
                sock.set_write_timeout(Some(left()?))
                    .map_err(|e| format!("syslog socket: {e}"))?;
                for (n, l) in lines.iter().enumerate() {
                    if let Err(e) = sock.send_to(l.as_bytes(), path) {
                        return Err(format!(
                            "syslog {}: {e} ({n} of {} sent)",
                            path.display(),
                            lines.len()
                        ));
                    }
                }
                Ok(lines.len())
            }
            SyslogTarget::Udp(hp) => {
                let addr = resolve(hp)?;
                let bind: SocketAddr = if addr.is_ipv4() {
                    "0.0.0.0:0".parse().expect("literal")
                } else {
                    "[::]:0".parse().expect("literal")
                };
                let sock = UdpSocket::bind(bind).map_err(|e| format!("syslog udp: {e}"))?;
                sock.set_write_timeout(Some(left()?))
                    .map_err(|e| format!("syslog udp: {e}"))?;
                for l in lines {
                    sock.send_to(l.as_bytes(), addr)
                        .map_err(|e| format!("syslog udp {hp}: {e}"))?;
                }
                Ok(lines.len())
            }
            SyslogTarget::Tcp(hp) => {
                let addr = resolve(hp)?;
                let mut s = TcpStream::connect_timeout(&addr, left()?)
                    .map_err(|e| format!("syslog tcp {hp}: {e}"))?;
                s.set_write_timeout(Some(left()?))
                    .map_err(|e| format!("syslog tcp {hp}: {e}"))?;
                let mut buf = Vec::new();
                for l in lines {
                    buf.extend_from_slice(format!("{} ", l.len()).as_bytes());
                    buf.extend_from_slice(l.as_bytes());
                }
                s.write_all(&buf)
                    .and_then(|_| s.flush())
                    .map_err(|e| format!("syslog tcp {hp}: {e}"))?;
                Ok(lines.len())
            }
        }
    }
}

fn resolve(hp: &str) -> Result<SocketAddr, String> {
    hp.to_socket_addrs()
        .map_err(|e| format!("syslog {hp}: {e}"))?
        .next()
        .ok_or_else(|| format!("syslog {hp}: no address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    fn alert(summary: &str, session: &str) -> Alert {
        Alert {
            id: "12-privilege".into(),
            rule: "privilege".into(),
            severity: Severity::High,
            summary: summary.into(),
            time: "2026-11-27T22:51:00.123Z".into(),
            request: Some("r-1".into()),
            session: Some(session.into()),
            subject_index: 12,
            subject_leaf: "ab".repeat(32),
            checkpoint: None,
            details: serde_json::json!({}),
        }
    }

    #[test]
    fn line_shape() {
        let l = format_line(
            &alert("privilege escalation (denied): sudo -i", "s-1"),
            Facility(4),
            "airlock",
            "host1",
            77,
            None,
        );
        assert_eq!(
            l,
            format!(
                "<35>1 2026-11-27T22:51:00.123Z host1 airlock 77 privilege [airlock@32473 id=\"12-privilege\" rule=\"privilege\" severity=\"high\" index=\"12\" leaf=\"{}\" request=\"r-1\" session=\"s-1\"] privilege escalation (denied): sudo -i",
                "ab".repeat(32)
            )
        );
    }

    #[test]
    fn hostile_text_cannot_break_the_frame() {
        let l = format_line(
            &alert("a\nb\0c\u{1b}[2J é", "s\"] x=\"y\\\n"),
            Facility(4),
            "airlock",
            "",
            1,
            None,
        );
        assert!(!l.contains('\n') && !l.contains('\0') && !l.contains('\u{1b}'));
        assert!(l.is_ascii());
        assert!(l.contains(r#"session="s\"\] x=\"y\\\u{a}""#), "{l}");
        assert!(l.ends_with(r"a\u{a}b\u{0}c\u{1b}[2J \u{e9}"), "{l}");
        // Empty hostname becomes the NILVALUE.
        assert!(
            l.starts_with("<35>1 2026-11-27T22:51:00.123Z - airlock 1 "),
            "{l}"
        );
    }

    #[test]
    fn datagrams_are_cut_in_the_message_only() {
        let l = format_line(
            &alert(&"x".repeat(5000), "s"),
            Facility(4),
            "airlock",
            "h",
            1,
            Some(MAX_DATAGRAM),
        );
        assert_eq!(l.len(), MAX_DATAGRAM);
        assert!(l.ends_with("x..."));
        assert!(l.contains(&format!("leaf=\"{}\"", "ab".repeat(32))));
    }

    #[test]
    fn bad_time_is_nil() {
        let mut a = alert("s", "s");
        a.time = "yesterday".into();
        assert!(format_line(&a, Facility(16), "airlock", "h", 1, None).starts_with("<131>1 - h "));
    }
}
