//! The egress proxy: the only way out of the sandbox's network namespace.
//!
//! The sandbox's network namespace has nothing but loopback. When a task is granted hosts, the
//! runner creates a listening TCP socket on `127.0.0.1:3128` inside that namespace and hands the
//! listener to the host process, where [`EgressProxy`] serves it. Every outbound connection is
//! therefore made by the host, after the checks below, to exactly the address that was checked.
//!
//! # Protocol
//!
//! - `CONNECT host:port HTTP/1.1` opens a tunnel (`HTTP/1.1 200 Connection established`).
//! - Plain HTTP in absolute form (`GET http://host[:port]/path HTTP/1.1`, any method) is
//!   forwarded with the request line rewritten to origin form, `Host` set from the URL,
//!   `Proxy-Authorization` and the other hop-by-hop headers removed and `Connection: close`
//!   forced. The request body (delimited by `Content-Length` or chunked encoding, exactly as
//!   the origin will delimit it; ambiguous framing gets `400`) and the response, until the
//!   origin closes, are relayed byte for byte. One request per connection: nothing the client
//!   sends after the body is forwarded.
//! - Anything else (origin-form requests, `https://` URLs, garbage, a head over
//!   [`MAX_HEADER_BYTES`], a head not complete within [`HEADER_TIMEOUT`]) gets `400`.
//!
//! Every request must carry `Proxy-Authorization: Basic base64("airlock:" + credential)`
//! (see [`EgressProxy::proxy_env`]); otherwise `407` with `Proxy-Authenticate: Basic
//! realm="airlock"`.
//!
//! # Checks, in order
//!
//! 1. The host must be a plain ASCII DNS name (letters, digits, `-`, `_`, dots) or an IP literal.
//!    Names whose last label is numeric (`127.1`, `0x7f.1`, `2130706433`) are treated as IP
//!    literals in disguise.
//! 2. IP literals are refused (`ip-literal`) unless a grant names that exact address; a granted
//!    literal that is not public still needs `allow_private` (else `private-address`).
//! 3. Names must match a [`HostGrant`] (pattern and port).
//! 4. Names are resolved on the host: first [`EgressConfig::static_hosts`], else the system
//!    resolver. If any resolved address is not public (see [`is_private_address`]) the request
//!    is refused unless a matching grant has `allow_private`.
//! 5. The proxy connects to the checked addresses in order (never re-resolving the name) and
//!    records which one it used.
//!
//! Refusals answer `403 Forbidden`; every error response carries `X-Airlock-Refused: <reason>`.
//!
//! # Recorded reasons ([`EgressAttempt::reason`])
//!
//! `granted` (allowed), `bad-credential` (407), `bad-request` (400), `bad-host`, `ip-literal`,
//! `not-granted`, `private-address` (403), `resolve-failed`, `connect-failed` (502),
//! `too-many-connections` (503), and `stopped` (the proxy was stopped before the request was
//! complete or connected; no response is sent).

use serde::Serialize;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::net::{
    IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs,
};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// User name expected in `Proxy-Authorization` (the password is the proxy's credential).
pub const PROXY_USER: &str = "airlock";

/// Largest accepted request head (request line plus headers), in bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// Time a client has, from connecting, to send a complete request head.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);

/// Time allowed for the system resolver to answer one name.
pub const RESOLVE_TIMEOUT: Duration = Duration::from_secs(10);

/// At most this many attempts are kept; beyond it they are only counted (see
/// [`EgressProxy::stop`]).
pub const MAX_RECORDED_ATTEMPTS: usize = 100_000;

/// Most header lines accepted in one request head.
const MAX_HEADERS: usize = 128;
/// Size of each relay buffer (one per direction per connection).
const RELAY_BUFFER_BYTES: usize = 16 * 1024;
/// At most this many resolved addresses are tried, in order.
const MAX_ADDRESSES_TRIED: usize = 16;
/// At most this many system-resolver lookups run at once (lookups cannot be cancelled).
const MAX_CONCURRENT_RESOLVES: usize = 32;
/// Time allowed for writing a proxy-generated response to the client.
const RESPONSE_WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// After an error response, unread request bytes are discarded for at most this long (closing
/// a socket with unread data would reset it and could destroy the response in flight).
const LINGER_TIMEOUT: Duration = Duration::from_millis(500);
/// ... and at most this many bytes.
const LINGER_MAX_BYTES: usize = 64 * 1024;
/// Recorded host names are cut to this many characters.
const MAX_RECORDED_HOST_CHARS: usize = 255;
/// Request headers never forwarded to the origin (hop-by-hop, proxy-only, or rewritten).
const HOP_BY_HOP: &[&str] = &[
    "host",
    "connection",
    "proxy-connection",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "upgrade",
];

// ---------------------------------------------------------------------------------------------
// Grants and host names
// ---------------------------------------------------------------------------------------------

/// One destination the sandboxed code may reach through the proxy.
///
/// Pattern forms:
/// - `example.com` matches exactly `example.com`;
/// - `*.example.com` matches any subdomain at any depth (`a.example.com`, `a.b.example.com`)
///   but **not** `example.com` itself; grant both patterns when both are needed;
/// - `203.0.113.7` or `[2001:db8::1]` matches a request for that exact IP literal.
///
/// Matching is ASCII case-insensitive and ignores one trailing dot. A grant with a port matches
/// only that port; without one, any port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostGrant {
    /// The host pattern. [`HostGrant::parse`] stores it canonically: a lowercase name without
    /// trailing dot, `*.` followed by such a name, or an IP literal (IPv6 in brackets).
    pub pattern: String,
    /// Only this destination port, or any port when `None`.
    pub port: Option<u16>,
    /// Allow destinations whose addresses are not public (loopback, private, link-local, cloud
    /// metadata, ...; see [`is_private_address`]).
    pub allow_private: bool,
}

impl HostGrant {
    /// Parses `host`, `*.domain`, `host:port`, `*.domain:port`, an IPv4 literal with optional
    /// `:port`, or an IPv6 literal (`[::1]`, `[::1]:80`, or bare `::1`).
    ///
    /// IP literals that are not public (see [`is_private_address`]) are rejected unless
    /// `allow_private` is set. Schemes, paths, user info, `*` anywhere but a leading `*.`,
    /// non-ASCII names and numeric-looking names that are not canonical IP literals are
    /// rejected.
    pub fn parse(s: &str, allow_private: bool) -> Result<HostGrant, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty host grant".to_string());
        }
        if s.contains("://") || s.contains(['/', '@']) || s.chars().any(char::is_whitespace) {
            return Err(format!(
                "host grant `{s}` must be `host`, `*.domain` or `host:port` \
                 (no scheme, path, user or spaces)"
            ));
        }
        let (host, port) = if s.parse::<Ipv6Addr>().is_ok() {
            (s, None)
        } else {
            let (host, port) =
                split_host_port(s).ok_or_else(|| format!("malformed host grant `{s}`"))?;
            let port = match port {
                None => None,
                Some(p) => Some(
                    parse_port(p).ok_or_else(|| format!("bad port `{p}` in host grant `{s}`"))?,
                ),
            };
            (host, port)
        };
        let pattern = Pattern::parse(host)?;
        if let Pattern::Ip(ip) = pattern
            && !allow_private
            && is_private_address(ip)
        {
            return Err(format!(
                "host grant `{s}` names a non-public address; it needs allow_private"
            ));
        }
        Ok(HostGrant {
            pattern: pattern.canonical(),
            port,
            allow_private,
        })
    }

    /// Whether this grant covers a request for `host` (a name or IP literal, IPv6 with or
    /// without brackets) on `port`. Invalid patterns and invalid hosts match nothing.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        if self.port.is_some_and(|p| p != port) {
            return false;
        }
        match (Pattern::parse(self.pattern.trim()), classify_host(host)) {
            (Ok(pattern), Ok(host)) => pattern.matches(&host),
            _ => false,
        }
    }
}

/// A compiled grant pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    /// Exactly this name.
    Exact(String),
    /// Names ending in this suffix, which includes its leading dot (`.example.com`).
    Subdomains(String),
    /// Exactly this IP literal.
    Ip(IpAddr),
}

impl Pattern {
    fn parse(raw: &str) -> Result<Pattern, String> {
        if let Some(rest) = raw.strip_prefix("*.") {
            return match classify_host(rest) {
                Ok(HostKind::Name(name)) => Ok(Pattern::Subdomains(format!(".{name}"))),
                Ok(HostKind::Ip(_)) => Err(format!("wildcard `{raw}` must name a domain")),
                Err(_) => Err(format!("invalid domain in wildcard `{raw}`")),
            };
        }
        if raw.contains('*') {
            return Err(format!("`{raw}`: `*` is only allowed as a leading `*.`"));
        }
        match classify_host(raw) {
            Ok(HostKind::Name(name)) => Ok(Pattern::Exact(name)),
            Ok(HostKind::Ip(ip)) => Ok(Pattern::Ip(ip)),
            Err(_) => Err(format!(
                "invalid host `{raw}` (ASCII names or canonical IP literals only)"
            )),
        }
    }

    fn canonical(&self) -> String {
        match self {
            Pattern::Exact(name) => name.clone(),
            Pattern::Subdomains(suffix) => format!("*{suffix}"),
            Pattern::Ip(IpAddr::V4(ip)) => ip.to_string(),
            Pattern::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
        }
    }

    fn matches(&self, host: &HostKind) -> bool {
        match (self, host) {
            (Pattern::Exact(p), HostKind::Name(n)) => p == n,
            (Pattern::Subdomains(suffix), HostKind::Name(n)) => {
                n.len() > suffix.len() && n.ends_with(suffix.as_str())
            }
            (Pattern::Ip(p), HostKind::Ip(ip)) => p == ip,
            _ => false,
        }
    }
}

/// A grant ready for matching.
#[derive(Debug, Clone)]
struct Rule {
    pattern: Pattern,
    port: Option<u16>,
    allow_private: bool,
}

impl Rule {
    fn matches(&self, host: &HostKind, port: u16) -> bool {
        self.port.is_none_or(|p| p == port) && self.pattern.matches(host)
    }
}

/// A validated, normalized request host.
#[derive(Debug, Clone, PartialEq, Eq)]
enum HostKind {
    /// Lowercase ASCII DNS name without trailing dot.
    Name(String),
    /// An IP literal.
    Ip(IpAddr),
}

impl HostKind {
    /// The host as recorded in [`EgressAttempt::host`] (IPv6 without brackets).
    fn display(&self) -> String {
        match self {
            HostKind::Name(name) => name.clone(),
            HostKind::Ip(ip) => ip.to_string(),
        }
    }

    /// The host as written in a `Host` header, with the port unless it is `default_port`.
    fn authority(&self, port: u16, default_port: u16) -> String {
        let mut out = match self {
            HostKind::Name(name) => name.clone(),
            HostKind::Ip(IpAddr::V4(ip)) => ip.to_string(),
            HostKind::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
        };
        if port != default_port {
            let _ = write!(out, ":{port}");
        }
        out
    }
}

/// Validates and normalizes a host: bracketed or bare IPv6, canonical dotted IPv4, or an ASCII
/// DNS name (lowercased, one trailing dot removed). Errors are recorded reasons: `bad-host` for
/// anything malformed or non-ASCII, `ip-literal` for names whose last label is numeric (`127.1`,
/// `0x7f.0.0.1`, `2130706433`: non-canonical IPv4 forms a resolver might still honour).
fn classify_host(raw: &str) -> Result<HostKind, &'static str> {
    if let Some(inner) = raw.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or("bad-host")?;
        return inner
            .parse::<Ipv6Addr>()
            .map(|ip| HostKind::Ip(IpAddr::V6(ip)))
            .map_err(|_| "bad-host");
    }
    if raw.is_empty() || raw.len() > 254 || !raw.is_ascii() {
        return Err("bad-host");
    }
    let lower = raw.to_ascii_lowercase();
    let name = lower.strip_suffix('.').unwrap_or(&lower);
    if let Ok(ip) = name.parse::<Ipv4Addr>() {
        return Ok(HostKind::Ip(IpAddr::V4(ip)));
    }
    if let Ok(ip) = name.parse::<Ipv6Addr>() {
        return Ok(HostKind::Ip(IpAddr::V6(ip)));
    }
    if name.is_empty() || name.len() > 253 {
        return Err("bad-host");
    }
    for label in name.split('.') {
        let label_ok = !label.is_empty()
            && label.len() <= 63
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !label_ok {
            return Err("bad-host");
        }
    }
    let last = name.rsplit('.').next().unwrap_or(name);
    let numeric = last.bytes().all(|b| b.is_ascii_digit())
        || last
            .strip_prefix("0x")
            .is_some_and(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if numeric {
        return Err("ip-literal");
    }
    Ok(HostKind::Name(name.to_string()))
}

/// Splits `host[:port]` (IPv6 hosts in brackets, kept in the returned host). `None` when the
/// shape is wrong (e.g. an unbracketed IPv6 address or junk after `]`).
fn split_host_port(s: &str) -> Option<(&str, Option<&str>)> {
    if s.starts_with('[') {
        let close = s.find(']')?;
        let (host, rest) = s.split_at(close + 1);
        if rest.is_empty() {
            return Some((host, None));
        }
        return rest.strip_prefix(':').map(|port| (host, Some(port)));
    }
    match s.rsplit_once(':') {
        Some((host, _)) if host.contains(':') => None,
        Some((host, port)) => Some((host, Some(port))),
        None => Some((s, None)),
    }
}

/// A decimal port in `1..=65535`.
fn parse_port(s: &str) -> Option<u16> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u16>().ok().filter(|&p| p != 0)
}

/// Whether `ip` is anything but a public unicast address, i.e. anything the sandbox may only
/// reach with `allow_private`.
///
/// IPv4: `0/8` (incl. unspecified), `10/8`, `100.64/10` (CGNAT), `127/8`, `169.254/16`
/// (link-local, incl. the cloud metadata address `169.254.169.254`), `172.16/12`, `192.0.0/24`,
/// `192.0.2/24`, `192.88.99/24`, `192.168/16`, `198.18/15`, `198.51.100/24`, `203.0.113/24`,
/// `224/4` (multicast) and `240/4` (reserved, incl. broadcast).
///
/// IPv6: everything outside `2000::/3` (loopback, unspecified, IPv4-compatible, `fc00::/7`
/// unique-local incl. `fd00:ec2::254`, `fe80::/10`, multicast, discard, ...), plus
/// `2001:db8::/32` and `3fff::/20` (documentation), `2001:2::/48` and `2001:10::/28`.
/// IPv4-mapped (`::ffff:a.b.c.d`), NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses are
/// judged by the IPv4 address they carry.
pub fn is_private_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => private_v6(v6),
    }
}

fn private_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    match a {
        0 | 10 | 127 => true,
        100 => b & 0xc0 == 64,
        169 => b == 254,
        172 => b & 0xf0 == 16,
        192 => b == 168 || (b == 0 && (c == 0 || c == 2)) || (b == 88 && c == 99),
        198 => b & 0xfe == 18 || (b == 51 && c == 100),
        203 => b == 0 && c == 113,
        224..=255 => true,
        _ => false,
    }
}

fn private_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return private_v4(v4);
    }
    let s = ip.segments();
    let o = ip.octets();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return private_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    if s[0] & 0xe000 != 0x2000 {
        return true;
    }
    if s[0] == 0x2002 {
        return private_v4(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] == 0x3fff && s[1] & 0xf000 == 0)
        || (s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0)
        || (s[0] == 0x2001 && s[1] & 0xfff0 == 0x0010)
}

// ---------------------------------------------------------------------------------------------
// Configuration and records
// ---------------------------------------------------------------------------------------------

/// What the proxy allows and how it behaves.
#[derive(Debug, Clone)]
pub struct EgressConfig {
    /// Destinations that may be reached; everything else is refused.
    pub grants: Vec<HostGrant>,
    /// Fixed name-to-address entries consulted before the system resolver, like `/etc/hosts`
    /// or `--add-host`. Names match exactly, case-insensitively, ignoring a trailing dot; a
    /// name listed several times resolves to all its addresses, in order. Addresses found here
    /// are checked like any other.
    pub static_hosts: Vec<(String, IpAddr)>,
    /// Timeout for each outbound connection attempt (one per resolved address).
    pub connect_timeout: Duration,
    /// Most client connections handled at once; further ones get `503` (0 refuses all).
    pub max_connections: usize,
}

impl Default for EgressConfig {
    /// No grants, no static hosts, 10 s connect timeout, 64 connections.
    fn default() -> Self {
        EgressConfig {
            grants: Vec::new(),
            static_hosts: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            max_connections: 64,
        }
    }
}

/// One request that reached the proxy, allowed or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EgressAttempt {
    /// Requested host, normalized when valid (lowercase, no trailing dot, IPv6 without
    /// brackets), otherwise as sent with non-printable characters escaped. Empty when no host
    /// could be parsed.
    pub host: String,
    /// Requested port (0 when unknown).
    pub port: u16,
    /// Request method: `CONNECT`, `GET`, ... (empty when none could be parsed).
    pub method: String,
    /// Whether the proxy connected to the origin.
    pub allowed: bool,
    /// Short machine-readable reason; see the module documentation for the list.
    pub reason: String,
    /// The exact address connected to (`ip:port`), if any.
    pub address: Option<String>,
    /// Bytes sent to the origin (for plain HTTP, including the rewritten request head).
    pub bytes_up: u64,
    /// Bytes from the origin delivered to the client.
    pub bytes_down: u64,
}

// ---------------------------------------------------------------------------------------------
// The proxy
// ---------------------------------------------------------------------------------------------

/// A running egress proxy. Dropping it stops it like [`EgressProxy::stop`] (discarding the
/// record).
pub struct EgressProxy {
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
    local_addr: SocketAddr,
}

impl std::fmt::Debug for EgressProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EgressProxy")
            .field("local_addr", &self.local_addr)
            .field("running", &self.accept.is_some())
            .finish_non_exhaustive()
    }
}

impl EgressProxy {
    /// Serves `listener` on a background thread (one more thread per client connection).
    ///
    /// Fails with `InvalidInput` for an empty credential, a grant whose pattern does not parse,
    /// or a static host whose name is not a valid DNS name.
    pub fn start(
        listener: TcpListener,
        config: EgressConfig,
        credential: String,
    ) -> io::Result<EgressProxy> {
        let invalid = |msg: String| io::Error::new(io::ErrorKind::InvalidInput, msg);
        if credential.is_empty() {
            return Err(invalid("egress proxy credential is empty".to_string()));
        }
        let mut rules = Vec::with_capacity(config.grants.len());
        for grant in &config.grants {
            rules.push(Rule {
                pattern: Pattern::parse(grant.pattern.trim()).map_err(invalid)?,
                port: grant.port,
                allow_private: grant.allow_private,
            });
        }
        let mut static_hosts = Vec::with_capacity(config.static_hosts.len());
        for (name, ip) in &config.static_hosts {
            match classify_host(name) {
                Ok(HostKind::Name(name)) => static_hosts.push((name, *ip)),
                _ => return Err(invalid(format!("invalid static host name `{name}`"))),
            }
        }
        listener.set_nonblocking(true)?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            rules,
            static_hosts,
            connect_timeout: config.connect_timeout,
            max_connections: config.max_connections,
            expected_auth: format!("{PROXY_USER}:{credential}").into_bytes(),
            stop: Stop::new()?,
            log: Mutex::new(AttemptLog::default()),
            active: AtomicUsize::new(0),
            resolving: Arc::new(AtomicUsize::new(0)),
        });
        let for_thread = Arc::clone(&shared);
        let accept = thread::Builder::new()
            .name("airlock-egress".to_string())
            .spawn(move || accept_loop(&listener, &for_thread))?;
        Ok(EgressProxy {
            shared,
            accept: Some(accept),
            local_addr,
        })
    }

    /// The address the proxy listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The attempts recorded so far, in order of arrival. Attempts still being read are not
    /// included yet, and byte counts of open connections are not final.
    pub fn attempts(&self) -> Vec<EgressAttempt> {
        self.shared
            .log()
            .entries
            .iter()
            .flatten()
            .cloned()
            .collect()
    }

    /// Environment variables pointing common tools (curl, wget, git, pip, npm, most HTTP
    /// libraries) at the proxy on `127.0.0.1:port` with `credential`:
    /// `http_proxy`, `https_proxy`, `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`, `all_proxy`,
    /// `npm_config_proxy`, `npm_config_https_proxy` and `PIP_PROXY` set to
    /// `http://airlock:<credential>@127.0.0.1:<port>`, and `no_proxy`/`NO_PROXY` set empty so
    /// that nothing bypasses the proxy.
    pub fn proxy_env(port: u16, credential: &str) -> Vec<(String, String)> {
        let url = format!(
            "http://{PROXY_USER}:{}@127.0.0.1:{port}",
            percent_encode(credential)
        );
        let mut env: Vec<(String, String)> = [
            "http_proxy",
            "https_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "all_proxy",
            "npm_config_proxy",
            "npm_config_https_proxy",
            "PIP_PROXY",
        ]
        .iter()
        .map(|name| (name.to_string(), url.clone()))
        .collect();
        env.push(("no_proxy".to_string(), String::new()));
        env.push(("NO_PROXY".to_string(), String::new()));
        env
    }

    /// The `Proxy-Authorization` header value clients must send for `credential`:
    /// `Basic base64("airlock:" + credential)`.
    pub fn proxy_authorization(credential: &str) -> String {
        format!(
            "Basic {}",
            base64_encode(format!("{PROXY_USER}:{credential}").as_bytes())
        )
    }

    /// A fresh random credential: 16 bytes from the kernel's CSPRNG as 32 lowercase hex
    /// characters.
    ///
    /// # Panics
    ///
    /// When the kernel cannot provide randomness at all (see [`EgressProxy::try_new_credential`]);
    /// a predictable credential is never returned.
    pub fn new_credential() -> String {
        match Self::try_new_credential() {
            Ok(credential) => credential,
            Err(err) => panic!("no randomness available for the egress proxy credential: {err}"),
        }
    }

    /// Like [`EgressProxy::new_credential`], reporting failure instead of panicking. Uses
    /// `getrandom(2)`, falling back to `/dev/urandom` where the syscall is missing.
    pub fn try_new_credential() -> io::Result<String> {
        let mut bytes = [0u8; 16];
        let mut filled = 0;
        while filled < bytes.len() {
            let rest = &mut bytes[filled..];
            // SAFETY: the pointer and length describe `rest`, a live, writable buffer we own.
            let n = unsafe { libc::getrandom(rest.as_mut_ptr().cast(), rest.len(), 0) };
            if n > 0 {
                filled += n.unsigned_abs();
                continue;
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::ENOSYS) => {
                    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
                    filled = bytes.len();
                }
                _ => return Err(err),
            }
        }
        let mut hex = String::with_capacity(32);
        for b in bytes {
            let _ = write!(hex, "{b:02x}");
        }
        Ok(hex)
    }

    /// Stops the proxy: stops accepting, ends open tunnels and pending requests (shutting
    /// their sockets down), joins every thread, and returns every attempt in order of arrival.
    /// Returns within a few hundred milliseconds whatever the clients or origins do. System
    /// resolver lookups still in flight are abandoned (their threads end on their own).
    ///
    /// If more than [`MAX_RECORDED_ATTEMPTS`] attempts arrived, the list ends with one extra
    /// entry (empty host and method, port 0) whose reason is `attempts-truncated:<count>`.
    pub fn stop(mut self) -> Vec<EgressAttempt> {
        self.shutdown();
        let (entries, dropped) = {
            let mut log = self.shared.log();
            (std::mem::take(&mut log.entries), log.dropped)
        };
        let mut attempts: Vec<EgressAttempt> = entries.into_iter().flatten().collect();
        if dropped > 0 {
            attempts.push(EgressAttempt {
                host: String::new(),
                port: 0,
                method: String::new(),
                allowed: false,
                reason: format!("attempts-truncated:{dropped}"),
                address: None,
                bytes_up: 0,
                bytes_down: 0,
            });
        }
        attempts
    }

    fn shutdown(&mut self) {
        self.shared.stop.trigger();
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

impl Drop for EgressProxy {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// State shared by the accept thread and the connection threads.
struct Shared {
    rules: Vec<Rule>,
    static_hosts: Vec<(String, IpAddr)>,
    connect_timeout: Duration,
    max_connections: usize,
    /// `airlock:<credential>`, compared in constant time with the decoded client credential.
    expected_auth: Vec<u8>,
    stop: Stop,
    log: Mutex<AttemptLog>,
    /// Client connections being handled.
    active: AtomicUsize,
    /// System-resolver lookups in flight (shared with the detached lookup threads).
    resolving: Arc<AtomicUsize>,
}

impl Shared {
    /// The attempt log. Only ever held for in-memory bookkeeping, never across I/O.
    fn log(&self) -> MutexGuard<'_, AttemptLog> {
        self.log.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Reserves the next place in arrival order, or counts the attempt as dropped when the log
    /// is full.
    fn reserve_slot(&self) -> Option<usize> {
        let mut log = self.log();
        if log.entries.len() < MAX_RECORDED_ATTEMPTS {
            log.entries.push(None);
            Some(log.entries.len() - 1)
        } else {
            log.dropped += 1;
            None
        }
    }

    /// Whether a grant covers `host:port`; `Ok(allow_private)` (true if any matching grant
    /// allows private addresses) or the refusal reason.
    fn authorize(&self, host: &HostKind, port: u16) -> Result<bool, &'static str> {
        let mut matched = false;
        let mut allow_private = false;
        for rule in self.rules.iter().filter(|rule| rule.matches(host, port)) {
            matched = true;
            allow_private |= rule.allow_private;
        }
        match (matched, host) {
            (true, _) => Ok(allow_private),
            (false, HostKind::Ip(_)) => Err("ip-literal"),
            (false, HostKind::Name(_)) => Err("not-granted"),
        }
    }
}

#[derive(Default)]
struct AttemptLog {
    /// One place per accepted connection, in order of arrival; filled once the outcome is known.
    entries: Vec<Option<EgressAttempt>>,
    /// Attempts not recorded because the log was full.
    dropped: u64,
}

/// The stop signal: a flag plus a pipe whose read end becomes (and stays) readable once
/// stopped, so every `poll` that includes it wakes up.
struct Stop {
    flag: AtomicBool,
    reader: io::PipeReader,
    writer: io::PipeWriter,
}

impl Stop {
    fn new() -> io::Result<Stop> {
        let (reader, writer) = io::pipe()?;
        Ok(Stop {
            flag: AtomicBool::new(false),
            reader,
            writer,
        })
    }

    fn trigger(&self) {
        if !self.flag.swap(true, Ordering::SeqCst) {
            // One byte into an empty pipe never blocks; the byte is never read.
            let _ = (&self.writer).write(&[1]);
        }
    }

    fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    fn fd(&self) -> RawFd {
        self.reader.as_raw_fd()
    }
}

/// Records the outcome of one connection in its reserved place. If dropped before recording,
/// records `fallback_reason`.
struct Recorder {
    shared: Arc<Shared>,
    slot: Option<usize>,
    method: String,
    host: String,
    port: u16,
    recorded: bool,
    fallback_reason: &'static str,
}

impl Recorder {
    fn new(shared: Arc<Shared>, slot: Option<usize>) -> Recorder {
        Recorder {
            shared,
            slot,
            method: String::new(),
            host: String::new(),
            port: 0,
            recorded: false,
            fallback_reason: "bad-request",
        }
    }

    /// Notes the requested host (normalized when valid, escaped otherwise) and port.
    fn note_target(&mut self, host: &str, port: u16) {
        self.host = match classify_host(host) {
            Ok(kind) => kind.display(),
            Err(_) => escape_for_record(host),
        };
        self.port = port;
    }

    /// Notes method and target from the first line of a head that could not be fully parsed.
    fn note_request_line(&mut self, partial_head: &[u8]) {
        let Some(end) = partial_head.iter().position(|&b| b == b'\n') else {
            return;
        };
        let line = &partial_head[..end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some((method, target, _)) = parse_request_line(line) else {
            return;
        };
        self.method = escape_for_record(method);
        match parse_target(method, target) {
            Ok(t) => self.note_target(t.host, t.port),
            Err(Some((host, port))) => self.note_target(host, port),
            Err(None) => {}
        }
    }

    fn record(&mut self, allowed: bool, reason: &str, address: Option<SocketAddr>) {
        self.recorded = true;
        let Some(slot) = self.slot else { return };
        let attempt = EgressAttempt {
            host: self.host.clone(),
            port: self.port,
            method: self.method.clone(),
            allowed,
            reason: reason.to_string(),
            address: address.map(|a| a.to_string()),
            bytes_up: 0,
            bytes_down: 0,
        };
        if let Some(entry) = self.shared.log().entries.get_mut(slot) {
            *entry = Some(attempt);
        }
    }

    fn add_bytes(&self, up: u64, down: u64) {
        let Some(slot) = self.slot else { return };
        if let Some(Some(attempt)) = self.shared.log().entries.get_mut(slot) {
            attempt.bytes_up += up;
            attempt.bytes_down += down;
        }
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        if !self.recorded {
            let reason = self.fallback_reason;
            self.record(false, reason, None);
        }
    }
}

/// Decrements the active-connection count when a connection thread ends (or never starts).
struct ActiveGuard(Arc<Shared>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    'serve: loop {
        match wait_for(listener.as_raw_fd(), libc::POLLIN, &shared.stop, None) {
            Ok(Wait::Stopped) => break,
            Ok(_) => {}
            Err(_) => {
                if pause(&shared.stop, Duration::from_millis(50)) {
                    break;
                }
            }
        }
        loop {
            if shared.stop.is_set() {
                break 'serve;
            }
            match listener.accept() {
                Ok((client, _)) => dispatch(shared, client, &mut workers),
                Err(err) => match err.kind() {
                    io::ErrorKind::WouldBlock => break,
                    io::ErrorKind::Interrupted | io::ErrorKind::ConnectionAborted => {}
                    // Out of descriptors or similar: back off instead of spinning.
                    _ => {
                        if pause(&shared.stop, Duration::from_millis(50)) {
                            break 'serve;
                        }
                        break;
                    }
                },
            }
        }
        let (done, running): (Vec<_>, Vec<_>) =
            workers.into_iter().partition(JoinHandle::is_finished);
        workers = running;
        for worker in done {
            let _ = worker.join();
        }
    }
    for worker in workers {
        let _ = worker.join();
    }
}

/// Sleeps up to `duration` unless stopped; returns whether the proxy was stopped.
fn pause(stop: &Stop, duration: Duration) -> bool {
    let mut fds = [pollfd(stop.fd(), libc::POLLIN)];
    let _ = poll(&mut fds, Some(Instant::now() + duration));
    stop.is_set()
}

fn dispatch(shared: &Arc<Shared>, client: TcpStream, workers: &mut Vec<JoinHandle<()>>) {
    let mut recorder = Recorder::new(Arc::clone(shared), shared.reserve_slot());
    if client.set_nonblocking(true).is_err() {
        return;
    }
    let _ = client.set_nodelay(true);
    if shared.active.load(Ordering::SeqCst) >= shared.max_connections {
        recorder.record(false, "too-many-connections", None);
        reject_busy(&client);
        return;
    }
    shared.active.fetch_add(1, Ordering::SeqCst);
    let guard = ActiveGuard(Arc::clone(shared));
    // If the thread cannot be spawned, the closure is dropped: the guard releases the count and
    // the recorder records the fallback reason.
    recorder.fallback_reason = "too-many-connections";
    let for_thread = Arc::clone(shared);
    let spawned = thread::Builder::new()
        .name("airlock-egress-conn".to_string())
        .spawn(move || {
            let _guard = guard;
            let mut recorder = recorder;
            recorder.fallback_reason = "bad-request";
            serve(&for_thread, &client, &mut recorder);
            let _ = client.shutdown(Shutdown::Both);
        });
    if let Ok(worker) = spawned {
        workers.push(worker);
    }
}

/// Answers `503` without blocking the accept thread.
fn reject_busy(client: &TcpStream) {
    let _ = (&*client).write(&error_response(503, "too-many-connections"));
    let _ = client.shutdown(Shutdown::Write);
    let mut scratch = [0u8; 4096];
    for _ in 0..16 {
        match (&*client).read(&mut scratch) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// One client connection
// ---------------------------------------------------------------------------------------------

fn serve(shared: &Arc<Shared>, client: &TcpStream, rec: &mut Recorder) {
    let stop = &shared.stop;
    let mut buf = vec![0u8; MAX_HEADER_BYTES];
    let (filled, head) = read_head(client, &mut buf, stop, Instant::now() + HEADER_TIMEOUT);
    let (head_end, body_start) = match head {
        Ok(found) => found,
        Err(err) => {
            rec.note_request_line(&buf[..filled]);
            let reason = if err == HeadError::Stopped {
                "stopped"
            } else {
                "bad-request"
            };
            return refuse(client, stop, rec, 400, reason);
        }
    };
    let Some(req) = parse_head(&buf[..head_end]) else {
        rec.note_request_line(&buf[..head_end]);
        return refuse(client, stop, rec, 400, "bad-request");
    };
    rec.method = escape_for_record(req.method);
    let target = parse_target(req.method, req.target);
    match &target {
        Ok(t) => rec.note_target(t.host, t.port),
        Err(Some((host, port))) => rec.note_target(host, *port),
        Err(None) => {
            if let Some(value) = req.header("host") {
                let value = String::from_utf8_lossy(value);
                match split_host_port(&value) {
                    Some((host, port)) => {
                        rec.note_target(host, port.and_then(parse_port).unwrap_or(0));
                    }
                    None => rec.note_target(&value, 0),
                }
            }
        }
    }

    if !authorized(&req, &shared.expected_auth) {
        return refuse(client, stop, rec, 407, "bad-credential");
    }
    let Ok(target) = target else {
        return refuse(client, stop, rec, 400, "bad-request");
    };
    let host = match classify_host(target.host) {
        Ok(host) => host,
        Err(reason) => return refuse(client, stop, rec, 403, reason),
    };
    let allow_private = match shared.authorize(&host, target.port) {
        Ok(allow_private) => allow_private,
        Err(reason) => return refuse(client, stop, rec, 403, reason),
    };
    let addresses = match &host {
        HostKind::Ip(ip) => vec![*ip],
        HostKind::Name(name) => match resolve(shared, name, target.port) {
            Ok(addresses) => addresses,
            Err(reason) => return refuse(client, stop, rec, 502, reason),
        },
    };
    if !allow_private && addresses.iter().any(|&ip| is_private_address(ip)) {
        return refuse(client, stop, rec, 403, "private-address");
    }
    // Plain HTTP: only this request's body is forwarded, delimited as the origin will
    // delimit it, so that nothing the client sends after it reaches the origin.
    let leftover = &buf[body_start..filled];
    let mut body = None;
    if !target.tunnel {
        let mut framing = match BodyFraming::of(&req) {
            Some(framing) => framing,
            None => return refuse(client, stop, rec, 400, "bad-request"),
        };
        match framing.feed(leftover) {
            Ok(used) => body = Some((framing, used)),
            Err(()) => return refuse(client, stop, rec, 400, "bad-request"),
        }
    }
    let (upstream, address) =
        match connect_any(&addresses, target.port, shared.connect_timeout, stop) {
            Ok(connected) => connected,
            Err(reason) => return refuse(client, stop, rec, 502, reason),
        };
    rec.record(true, "granted", Some(address));

    let (initial_up, framing) = match body {
        None => {
            let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
            let deadline = Instant::now() + RESPONSE_WRITE_TIMEOUT;
            if write_all(client, established, stop, deadline).is_err() {
                let _ = upstream.shutdown(Shutdown::Both);
                return;
            }
            (leftover.to_vec(), None)
        }
        Some((framing, used)) => {
            let mut head = forward_head(&req, &target, &host);
            head.extend_from_slice(&leftover[..used]);
            (head, Some(framing))
        }
    };
    // Free the head buffer before relaying: only the relay buffers stay alive.
    drop(target);
    drop(req);
    drop(buf);
    let (up, down) = relay(client, &upstream, initial_up, framing, stop);
    rec.add_bytes(up, down);
}

/// Records a refusal and, unless the proxy is stopping, answers it and closes gracefully.
fn refuse(client: &TcpStream, stop: &Stop, rec: &mut Recorder, status: u16, reason: &str) {
    rec.record(false, reason, None);
    if stop.is_set() {
        return;
    }
    let response = error_response(status, reason);
    let _ = write_all(
        client,
        &response,
        stop,
        Instant::now() + RESPONSE_WRITE_TIMEOUT,
    );
    let _ = client.shutdown(Shutdown::Write);
    linger(client, stop);
}

/// Discards what the client still sends, until it closes, a time or byte limit is reached, or
/// the proxy stops.
fn linger(client: &TcpStream, stop: &Stop) {
    let deadline = Instant::now() + LINGER_TIMEOUT;
    let mut scratch = [0u8; 4096];
    let mut discarded = 0;
    while discarded < LINGER_MAX_BYTES {
        match (&*client).read(&mut scratch) {
            Ok(0) => return,
            Ok(n) => discarded += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                match wait_for(client.as_raw_fd(), libc::POLLIN, stop, Some(deadline)) {
                    Ok(Wait::Ready) => {}
                    _ => return,
                }
            }
            Err(_) => return,
        }
    }
}

fn error_response(status: u16, reason: &str) -> Vec<u8> {
    let text = match status {
        400 => "Bad Request",
        403 => "Forbidden",
        407 => "Proxy Authentication Required",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    };
    let body = format!("airlock egress proxy: {reason}\n");
    let mut out = format!("HTTP/1.1 {status} {text}\r\n");
    if status == 407 {
        out.push_str("Proxy-Authenticate: Basic realm=\"airlock\"\r\n");
    }
    let _ = write!(
        out,
        "X-Airlock-Refused: {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    out.into_bytes()
}

/// Escapes a client-supplied string for the record: printable ASCII kept, everything else
/// escaped, at most [`MAX_RECORDED_HOST_CHARS`] characters.
fn escape_for_record(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(MAX_RECORDED_HOST_CHARS) {
        if c.is_ascii_graphic() {
            out.push(c);
        } else {
            out.extend(c.escape_default());
        }
    }
    out
}

/// Why a request head could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadError {
    Closed,
    TooLarge,
    TimedOut,
    Stopped,
    Io,
}

/// Reads into `buf` until it holds a complete head. Returns how many bytes were read and, on
/// success, `(head_end, body_start)` (see [`find_head_end`]).
fn read_head(
    client: &TcpStream,
    buf: &mut [u8],
    stop: &Stop,
    deadline: Instant,
) -> (usize, Result<(usize, usize), HeadError>) {
    let mut filled = 0;
    loop {
        if let Some(found) = find_head_end(&buf[..filled]) {
            return (filled, Ok(found));
        }
        if filled == buf.len() {
            return (filled, Err(HeadError::TooLarge));
        }
        match (&*client).read(&mut buf[filled..]) {
            Ok(0) => return (filled, Err(HeadError::Closed)),
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                match wait_for(client.as_raw_fd(), libc::POLLIN, stop, Some(deadline)) {
                    Ok(Wait::Ready) => {}
                    Ok(Wait::Stopped) => return (filled, Err(HeadError::Stopped)),
                    Ok(Wait::TimedOut) => return (filled, Err(HeadError::TimedOut)),
                    Err(_) => return (filled, Err(HeadError::Io)),
                }
            }
            Err(_) => return (filled, Err(HeadError::Io)),
        }
    }
}

/// Finds the empty line ending a head (lines end in CRLF or a bare LF). Returns the offset where
/// that empty line starts (the head, including its last line break, is `buf[..head_end]`) and
/// the offset just after it, where the body starts.
fn find_head_end(buf: &[u8]) -> Option<(usize, usize)> {
    let mut start = 0;
    while let Some(offset) = buf[start..].iter().position(|&b| b == b'\n') {
        let newline = start + offset;
        let line = &buf[start..newline];
        if line.is_empty() || line == b"\r" {
            return Some((start, newline + 1));
        }
        start = newline + 1;
    }
    None
}

/// A parsed request head, borrowing the header buffer.
struct Request<'a> {
    method: &'a str,
    target: &'a str,
    version: &'a str,
    headers: Vec<Header<'a>>,
}

impl Request<'_> {
    /// The values of every header named `name`.
    fn header_values<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s [u8]> + 's {
        self.headers
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value)
    }

    /// The value of the only header named `name`, if there is exactly one.
    fn header(&self, name: &str) -> Option<&[u8]> {
        let mut found = self
            .headers
            .iter()
            .filter(|h| h.name.eq_ignore_ascii_case(name));
        let first = found.next()?;
        match found.next() {
            Some(_) => None,
            None => Some(first.value),
        }
    }
}

struct Header<'a> {
    name: &'a str,
    value: &'a [u8],
}

/// Parses a head as delimited by [`find_head_end`]: request line and header lines. Strict: no
/// obsolete line folding, no control characters, header names must be tokens.
fn parse_head(head: &[u8]) -> Option<Request<'_>> {
    let head = head.strip_suffix(b"\n")?;
    let mut lines = head
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line));
    let (method, target, version) = parse_request_line(lines.next()?)?;
    let mut headers = Vec::new();
    for line in lines {
        if headers.len() >= MAX_HEADERS {
            return None;
        }
        headers.push(parse_header_line(line)?);
    }
    Some(Request {
        method,
        target,
        version,
        headers,
    })
}

/// `METHOD SP target SP HTTP/1.x`: method a token, target UTF-8 without controls or spaces.
fn parse_request_line(line: &[u8]) -> Option<(&str, &str, &str)> {
    if line.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return None;
    }
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || method.is_empty()
        || !method.bytes().all(is_tchar)
        || target.is_empty()
        || !matches!(version, "HTTP/1.1" | "HTTP/1.0")
    {
        return None;
    }
    Some((method, target, version))
}

fn parse_header_line(line: &[u8]) -> Option<Header<'_>> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = std::str::from_utf8(&line[..colon]).ok()?;
    if name.is_empty() || !name.bytes().all(is_tchar) {
        return None;
    }
    let value = trim_ows(&line[colon + 1..]);
    if value.iter().any(|&b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return None;
    }
    Some(Header { name, value })
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// Where a request wants to go.
#[derive(Debug, PartialEq, Eq)]
struct Target<'a> {
    /// `CONNECT` (tunnel) rather than plain HTTP forwarding.
    tunnel: bool,
    /// Raw host as written (IPv6 in brackets); validated later by [`classify_host`].
    host: &'a str,
    port: u16,
    /// Origin-form path and query for plain HTTP (fragment removed); empty for tunnels.
    path: String,
}

/// Interprets the request target: authority form for `CONNECT`, `http://` absolute form for
/// everything else. On failure returns the host and port if they could be told (for the
/// record).
fn parse_target<'a>(method: &str, target: &'a str) -> Result<Target<'a>, Option<(&'a str, u16)>> {
    if method == "CONNECT" {
        let (host, port) = split_host_port(target).ok_or(None)?;
        return match port.and_then(parse_port) {
            Some(port) if !host.is_empty() => Ok(Target {
                tunnel: true,
                host,
                port,
                path: String::new(),
            }),
            _ => Err(Some((host, 0))),
        };
    }
    let (scheme, rest) = target.split_once("://").ok_or(None)?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    if authority.contains('@') {
        // User info in a proxied URL is never legitimate and invites confusion.
        return Err(None);
    }
    let (host, port) = split_host_port(authority).ok_or(None)?;
    let is_http = scheme.eq_ignore_ascii_case("http");
    let port = match port {
        Some(port) => parse_port(port),
        None if is_http => Some(80),
        None if scheme.eq_ignore_ascii_case("https") => Some(443),
        None => None,
    };
    match port {
        Some(port) if is_http && !host.is_empty() => {
            let tail = tail.split('#').next().unwrap_or("");
            let path = if tail.starts_with('/') {
                tail.to_string()
            } else {
                format!("/{tail}")
            };
            Ok(Target {
                tunnel: false,
                host,
                port,
                path,
            })
        }
        _ => Err(Some((host, port.unwrap_or(0)))),
    }
}

/// Whether the request carries exactly one `Proxy-Authorization: Basic` header whose decoded
/// value equals `expected` (compared in constant time).
fn authorized(req: &Request<'_>, expected: &[u8]) -> bool {
    let Some(value) = req.header("proxy-authorization") else {
        return false;
    };
    let Some(space) = value.iter().position(|&b| b == b' ') else {
        return false;
    };
    let (scheme, token) = value.split_at(space);
    if !scheme.eq_ignore_ascii_case(b"basic") {
        return false;
    }
    match base64_decode(trim_ows(token)) {
        Some(decoded) => constant_time_eq(&decoded, expected),
        None => false,
    }
}

/// Compares `given` with `expected` in time that depends only on `expected`'s length.
fn constant_time_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = u8::from(given.len() != expected.len());
    for (i, &e) in expected.iter().enumerate() {
        diff |= given.get(i).copied().unwrap_or(0) ^ e;
    }
    std::hint::black_box(diff) == 0
}

const BASE64_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(
                    BASE64_ALPHABET[((n >> (18 - 6 * i)) & 63) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Standard base64; padding optional but, when present, must complete the last quantum.
fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    let data = input
        .strip_suffix(b"==")
        .or_else(|| input.strip_suffix(b"="))
        .unwrap_or(input);
    let padded = data.len() != input.len();
    if (padded && !input.len().is_multiple_of(4)) || data.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(data.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for &c in data {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// Percent-encodes everything but RFC 3986 unreserved characters (for URL user info).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// The request head sent to the origin for plain HTTP: origin-form request line, `Host` from
/// the URL, hop-by-hop headers (and those named in `Connection`) removed, `Connection: close`.
fn forward_head(req: &Request<'_>, target: &Target<'_>, host: &HostKind) -> Vec<u8> {
    let mut listed: Vec<String> = Vec::new();
    for h in &req.headers {
        if h.name.eq_ignore_ascii_case("connection")
            || h.name.eq_ignore_ascii_case("proxy-connection")
        {
            for token in h.value.split(|&b| b == b',') {
                let token = trim_ows(token);
                if !token.is_empty() {
                    listed.push(String::from_utf8_lossy(token).to_ascii_lowercase());
                }
            }
        }
    }
    let mut out = Vec::with_capacity(MAX_HEADER_BYTES / 2);
    out.extend_from_slice(
        format!(
            "{} {} {}\r\nHost: {}\r\n",
            req.method,
            target.path,
            req.version,
            host.authority(target.port, 80)
        )
        .as_bytes(),
    );
    for h in &req.headers {
        let name = h.name.to_ascii_lowercase();
        let framing = matches!(name.as_str(), "content-length" | "transfer-encoding");
        if HOP_BY_HOP.contains(&name.as_str()) || (!framing && listed.contains(&name)) {
            continue;
        }
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(h.value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out
}

/// Where a plain-HTTP request body ends, tracked as its bytes pass (RFC 9112 section 6).
#[derive(Debug)]
enum BodyFraming {
    /// This many body bytes are still to come (0 when there is no body).
    Length(u64),
    /// A chunked body.
    Chunked(ChunkedBody),
}

impl BodyFraming {
    /// The framing a request declares: `Transfer-Encoding` ending in `chunked`, a single valid
    /// `Content-Length`, or no body. `None` (a 400) for anything ambiguous: both headers, several
    /// or malformed lengths, or a transfer coding that does not end in `chunked`.
    fn of(req: &Request<'_>) -> Option<BodyFraming> {
        let lengths: Vec<&[u8]> = req.header_values("content-length").collect();
        let codings: Vec<&[u8]> = req.header_values("transfer-encoding").collect();
        match (lengths.as_slice(), codings.is_empty()) {
            ([], true) => Some(BodyFraming::Length(0)),
            ([length], true) => {
                let digits = std::str::from_utf8(length).ok()?;
                if digits.is_empty()
                    || digits.len() > 18
                    || !digits.bytes().all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                digits.parse().ok().map(BodyFraming::Length)
            }
            ([], false) => {
                let last = codings.last()?.split(|&b| b == b',').next_back()?;
                trim_ows(last)
                    .eq_ignore_ascii_case(b"chunked")
                    .then(|| BodyFraming::Chunked(ChunkedBody::default()))
            }
            _ => None,
        }
    }

    /// Consumes the body bytes at the start of `data`; returns how many belong to the body.
    /// `Err` for a malformed chunked body.
    fn feed(&mut self, data: &[u8]) -> Result<usize, ()> {
        match self {
            BodyFraming::Length(remaining) => {
                let used = usize::try_from(*remaining).map_or(data.len(), |r| r.min(data.len()));
                *remaining -= used as u64;
                Ok(used)
            }
            BodyFraming::Chunked(chunked) => chunked.feed(data),
        }
    }

    fn done(&self) -> bool {
        match self {
            BodyFraming::Length(remaining) => *remaining == 0,
            BodyFraming::Chunked(chunked) => chunked.state == ChunkState::Done,
        }
    }
}

/// Longest chunk-size line (size plus extensions) accepted.
const MAX_CHUNK_LINE: usize = 4096;
/// Most trailer bytes accepted after the last chunk.
const MAX_TRAILER_BYTES: usize = 16 * 1024;

/// A chunked-body scanner: follows chunk sizes and trailers without storing anything.
#[derive(Debug, Default)]
struct ChunkedBody {
    state: ChunkState,
    /// The chunk size being read.
    size: u64,
    /// Hex digits read for `size`.
    digits: usize,
    /// Bytes seen on the current chunk-size or trailer line.
    line: usize,
    /// Trailer bytes seen in total.
    trailer: usize,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Reading hex digits of a chunk size.
    #[default]
    Size,
    /// After the size: extensions, until the line ends.
    Extension,
    /// The chunk-size line's CR was seen; LF must follow.
    SizeLf,
    /// Inside chunk data; the count is what remains.
    Data(u64),
    /// After chunk data: CR must follow.
    DataCr,
    /// After chunk data and CR: LF must follow.
    DataLf,
    /// After the last chunk: trailer lines until an empty one.
    Trailer,
    /// A trailer line's CR was seen; LF must follow.
    TrailerLf,
    /// The body is complete.
    Done,
}

impl ChunkedBody {
    /// Strict: lines must end in CRLF; anything unexpected is an error (the relay is then cut),
    /// so that the proxy never disagrees with the origin about where the body ends.
    fn feed(&mut self, data: &[u8]) -> Result<usize, ()> {
        let mut i = 0;
        while i < data.len() {
            let b = data[i];
            match self.state {
                ChunkState::Done => break,
                ChunkState::Data(remaining) => {
                    let available = data.len() - i;
                    let take = usize::try_from(remaining).map_or(available, |r| r.min(available));
                    i += take;
                    let left = remaining - take as u64;
                    self.state = if left == 0 {
                        ChunkState::DataCr
                    } else {
                        ChunkState::Data(left)
                    };
                    continue;
                }
                ChunkState::Size | ChunkState::Extension => {
                    self.line += 1;
                    if self.line > MAX_CHUNK_LINE {
                        return Err(());
                    }
                    let digit = char::from(b).to_digit(16);
                    if b == b'\r' {
                        if self.digits == 0 {
                            return Err(());
                        }
                        self.state = ChunkState::SizeLf;
                    } else if let (ChunkState::Size, Some(d)) = (self.state, digit) {
                        if self.size > u64::MAX >> 4 {
                            return Err(());
                        }
                        self.size = (self.size << 4) | u64::from(d);
                        self.digits += 1;
                    } else if matches!(b, b';' | b' ' | b'\t') {
                        self.state = ChunkState::Extension;
                    } else if self.state != ChunkState::Extension || (b < 0x20 || b == 0x7f) {
                        return Err(());
                    }
                }
                ChunkState::SizeLf => {
                    if b != b'\n' {
                        return Err(());
                    }
                    self.state = if self.size == 0 {
                        ChunkState::Trailer
                    } else {
                        ChunkState::Data(self.size)
                    };
                    self.size = 0;
                    self.digits = 0;
                    self.line = 0;
                }
                ChunkState::DataCr if b == b'\r' => self.state = ChunkState::DataLf,
                ChunkState::DataLf if b == b'\n' => self.state = ChunkState::Size,
                ChunkState::DataCr | ChunkState::DataLf => return Err(()),
                ChunkState::Trailer => {
                    self.trailer += 1;
                    if self.trailer > MAX_TRAILER_BYTES {
                        return Err(());
                    }
                    if b == b'\r' {
                        self.state = ChunkState::TrailerLf;
                    } else if (b < 0x20 && b != b'\t') || b == 0x7f {
                        return Err(());
                    } else {
                        self.line += 1;
                    }
                }
                ChunkState::TrailerLf => {
                    if b != b'\n' {
                        return Err(());
                    }
                    self.state = if self.line == 0 {
                        ChunkState::Done
                    } else {
                        ChunkState::Trailer
                    };
                    self.line = 0;
                }
            }
            i += 1;
        }
        Ok(i)
    }
}

// ---------------------------------------------------------------------------------------------
// Resolution and connection
// ---------------------------------------------------------------------------------------------

/// Addresses for `name`: the static entries if any, else the system resolver's answer (run on
/// a detached thread so that a slow resolver cannot delay [`EgressProxy::stop`]).
fn resolve(shared: &Shared, name: &str, port: u16) -> Result<Vec<IpAddr>, &'static str> {
    let fixed: Vec<IpAddr> = shared
        .static_hosts
        .iter()
        .filter(|(host, _)| host == name)
        .map(|&(_, ip)| ip)
        .collect();
    if !fixed.is_empty() {
        return Ok(fixed);
    }
    if shared.resolving.fetch_add(1, Ordering::SeqCst) >= MAX_CONCURRENT_RESOLVES {
        shared.resolving.fetch_sub(1, Ordering::SeqCst);
        return Err("resolve-failed");
    }
    let (tx, rx) = mpsc::sync_channel(1);
    let counter = Arc::clone(&shared.resolving);
    let query = name.to_string();
    let spawned = thread::Builder::new()
        .name("airlock-egress-dns".to_string())
        .spawn(move || {
            let answer = (query.as_str(), port)
                .to_socket_addrs()
                .map(|addrs| addrs.map(|a| a.ip()).collect::<Vec<_>>());
            counter.fetch_sub(1, Ordering::SeqCst);
            let _ = tx.send(answer);
        });
    if spawned.is_err() {
        shared.resolving.fetch_sub(1, Ordering::SeqCst);
        return Err("resolve-failed");
    }
    let deadline = Instant::now() + RESOLVE_TIMEOUT;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(Ok(answer)) => {
                let mut unique: Vec<IpAddr> = Vec::new();
                for ip in answer {
                    if !unique.contains(&ip) {
                        unique.push(ip);
                    }
                }
                return if unique.is_empty() {
                    Err("resolve-failed")
                } else {
                    Ok(unique)
                };
            }
            Ok(Err(_)) | Err(mpsc::RecvTimeoutError::Disconnected) => return Err("resolve-failed"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if shared.stop.is_set() {
                    return Err("stopped");
                }
                if Instant::now() >= deadline {
                    return Err("resolve-failed");
                }
            }
        }
    }
}

/// Connects to the first of `addresses` (on `port`) that accepts, each within `timeout`.
fn connect_any(
    addresses: &[IpAddr],
    port: u16,
    timeout: Duration,
    stop: &Stop,
) -> Result<(TcpStream, SocketAddr), &'static str> {
    for &ip in addresses.iter().take(MAX_ADDRESSES_TRIED) {
        let address = SocketAddr::new(ip, port);
        match connect_to(address, timeout, stop) {
            Ok(stream) => return Ok((stream, address)),
            Err(ConnectError::Stopped) => return Err("stopped"),
            Err(ConnectError::Failed) => {}
        }
    }
    Err("connect-failed")
}

enum ConnectError {
    Stopped,
    Failed,
}

/// A non-blocking connect, waited for with `poll` so that stopping interrupts it. The returned
/// stream is non-blocking.
fn connect_to(
    address: SocketAddr,
    timeout: Duration,
    stop: &Stop,
) -> Result<TcpStream, ConnectError> {
    let domain = match address {
        SocketAddr::V4(_) => libc::AF_INET,
        SocketAddr::V6(_) => libc::AF_INET6,
    };
    let flags = libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC;
    // SAFETY: socket(2) takes no pointers; the result is checked before use.
    let fd = unsafe { libc::socket(domain, flags, 0) };
    if fd < 0 {
        return Err(ConnectError::Failed);
    }
    // SAFETY: `fd` is a freshly created descriptor that nothing else owns.
    let socket = unsafe { OwnedFd::from_raw_fd(fd) };
    let rc = match address {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
            let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_port = a.port().to_be();
            sa.sin_addr.s_addr = u32::from_ne_bytes(a.ip().octets());
            // SAFETY: `sa` is a valid sockaddr_in and the length passed is its size.
            unsafe {
                libc::connect(
                    fd,
                    (&raw const sa).cast(),
                    size_of::<libc::sockaddr_in>() as libc::socklen_t,
                )
            }
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_in6 is plain old data; all-zero is a valid value.
            let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sa.sin6_port = a.port().to_be();
            sa.sin6_flowinfo = a.flowinfo();
            sa.sin6_addr.s6_addr = a.ip().octets();
            sa.sin6_scope_id = a.scope_id();
            // SAFETY: `sa` is a valid sockaddr_in6 and the length passed is its size.
            unsafe {
                libc::connect(
                    fd,
                    (&raw const sa).cast(),
                    size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                )
            }
        }
    };
    if rc != 0 {
        let err = io::Error::last_os_error();
        if !matches!(err.raw_os_error(), Some(libc::EINPROGRESS | libc::EINTR)) {
            return Err(ConnectError::Failed);
        }
        match wait_for(fd, libc::POLLOUT, stop, Some(Instant::now() + timeout)) {
            Ok(Wait::Ready) => {}
            Ok(Wait::Stopped) => return Err(ConnectError::Stopped),
            _ => return Err(ConnectError::Failed),
        }
        let mut so_error: libc::c_int = 0;
        let mut len = size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `so_error` and `len` are valid out-pointers of the size SO_ERROR uses.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&raw mut so_error).cast(),
                &mut len,
            )
        };
        if rc != 0 || so_error != 0 {
            return Err(ConnectError::Failed);
        }
    }
    let stream = TcpStream::from(socket);
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

// ---------------------------------------------------------------------------------------------
// Relaying
// ---------------------------------------------------------------------------------------------

/// One direction of a relay: a fixed buffer between a source and a destination socket.
struct Flow {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// The source has closed (or half-closed) its side.
    eof: bool,
    /// The destination's write side has been shut down after everything was delivered.
    closed: bool,
    /// Bytes delivered to the destination.
    moved: u64,
    /// For a plain-HTTP request body: where it ends. Nothing after that end is read.
    framing: Option<BodyFraming>,
}

impl Flow {
    /// A flow whose buffer starts out holding `initial` (never smaller than the relay size).
    fn new(initial: Vec<u8>, framing: Option<BodyFraming>) -> Flow {
        let end = initial.len();
        let mut buf = initial;
        buf.resize(end.max(RELAY_BUFFER_BYTES), 0);
        Flow {
            buf,
            start: 0,
            end,
            eof: false,
            closed: false,
            moved: 0,
            framing,
        }
    }

    fn pending(&self) -> bool {
        self.start < self.end
    }

    fn wants_read(&self) -> bool {
        !self.eof
            && self.end < self.buf.len()
            && !self.framing.as_ref().is_some_and(BodyFraming::done)
    }

    fn fill(&mut self, mut src: &TcpStream) -> io::Result<()> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        match src.read(&mut self.buf[self.end..]) {
            Ok(0) => self.eof = true,
            Ok(n) => {
                // Bytes past the end of the body are dropped, never forwarded.
                let used = match &mut self.framing {
                    Some(framing) => framing
                        .feed(&self.buf[self.end..self.end + n])
                        .map_err(|()| io::Error::from(io::ErrorKind::InvalidData))?,
                    None => n,
                };
                self.end += used;
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(err) => return Err(err),
        }
        Ok(())
    }

    fn drain(&mut self, mut dst: &TcpStream) -> io::Result<()> {
        match dst.write(&self.buf[self.start..self.end]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                self.start += n;
                self.moved += n as u64;
            }
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) => {}
            Err(err) => return Err(err),
        }
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        Ok(())
    }
}

/// Copies bytes both ways between the (non-blocking) client and upstream sockets until both
/// directions are finished, either side fails, or the proxy stops; `initial_up` is sent to the
/// upstream first.
///
/// For plain HTTP, `request_body` delimits what is still to come of the request body (the
/// client is not read past it) and the relay ends as soon as the upstream's response has been
/// delivered (the origin was asked for `Connection: close`). Returns bytes delivered
/// (to upstream, to client).
fn relay(
    client: &TcpStream,
    upstream: &TcpStream,
    initial_up: Vec<u8>,
    request_body: Option<BodyFraming>,
    stop: &Stop,
) -> (u64, u64) {
    let response_ends = request_body.is_some();
    let mut up = Flow::new(initial_up, request_body);
    let mut down = Flow::new(Vec::new(), None);
    let (client_fd, upstream_fd) = (client.as_raw_fd(), upstream.as_raw_fd());
    loop {
        if up.eof && !up.pending() && !up.closed {
            let _ = upstream.shutdown(Shutdown::Write);
            up.closed = true;
        }
        if down.eof && !down.pending() && !down.closed {
            let _ = client.shutdown(Shutdown::Write);
            down.closed = true;
        }
        if down.closed && (up.closed || response_ends) {
            break;
        }
        let client_events = interest(up.wants_read(), down.pending());
        let upstream_events = interest(down.wants_read(), up.pending());
        let mut fds = [
            pollfd(
                if client_events != 0 { client_fd } else { -1 },
                client_events,
            ),
            pollfd(
                if upstream_events != 0 {
                    upstream_fd
                } else {
                    -1
                },
                upstream_events,
            ),
            pollfd(stop.fd(), libc::POLLIN),
        ];
        if poll(&mut fds, None).is_err() || stop.is_set() {
            break;
        }
        let (client_ready, upstream_ready) = (fds[0].revents != 0, fds[1].revents != 0);
        let step = (|| -> io::Result<()> {
            if client_ready && up.wants_read() {
                up.fill(client)?;
            }
            if upstream_ready && down.wants_read() {
                down.fill(upstream)?;
            }
            if upstream_ready && up.pending() {
                up.drain(upstream)?;
            }
            if client_ready && down.pending() {
                down.drain(client)?;
            }
            Ok(())
        })();
        if step.is_err() {
            break;
        }
    }
    let _ = client.shutdown(Shutdown::Both);
    let _ = upstream.shutdown(Shutdown::Both);
    (up.moved, down.moved)
}

fn interest(read: bool, write: bool) -> libc::c_short {
    (if read { libc::POLLIN } else { 0 }) | (if write { libc::POLLOUT } else { 0 })
}

// ---------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------

fn pollfd(fd: RawFd, events: libc::c_short) -> libc::pollfd {
    libc::pollfd {
        fd,
        events,
        revents: 0,
    }
}

/// `poll(2)` until something is ready or `deadline` passes (forever without one), retrying
/// on `EINTR`.
fn poll(fds: &mut [libc::pollfd], deadline: Option<Instant>) -> io::Result<usize> {
    loop {
        let timeout = match deadline {
            None => -1,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                // Round up so that a timeout means the deadline has really passed.
                let ms = left.as_millis() + u128::from(left.subsec_nanos() % 1_000_000 != 0);
                i32::try_from(ms).unwrap_or(i32::MAX)
            }
        };
        // SAFETY: `fds` is a valid, exclusively borrowed slice of pollfd for its whole length.
        let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if rc >= 0 {
            return Ok(rc.unsigned_abs() as usize);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

enum Wait {
    Ready,
    Stopped,
    TimedOut,
}

/// Waits until `fd` reports one of `events` (or an error/hang-up), the proxy stops, or
/// `deadline` passes.
fn wait_for(
    fd: RawFd,
    events: libc::c_short,
    stop: &Stop,
    deadline: Option<Instant>,
) -> io::Result<Wait> {
    loop {
        let mut fds = [pollfd(fd, events), pollfd(stop.fd(), libc::POLLIN)];
        poll(&mut fds, deadline)?;
        if stop.is_set() {
            return Ok(Wait::Stopped);
        }
        if fds[0].revents != 0 {
            return Ok(Wait::Ready);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(Wait::TimedOut);
        }
    }
}

/// Writes all of `data` to a non-blocking socket, waiting as needed until `deadline`.
fn write_all(
    stream: &TcpStream,
    mut data: &[u8],
    stop: &Stop,
    deadline: Instant,
) -> io::Result<()> {
    while !data.is_empty() {
        match (&*stream).write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => data = &data[n..],
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                match wait_for(stream.as_raw_fd(), libc::POLLOUT, stop, Some(deadline))? {
                    Wait::Ready => {}
                    Wait::Stopped | Wait::TimedOut => return Err(io::ErrorKind::TimedOut.into()),
                }
            }
            Err(err) => return Err(err),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_vectors() {
        let vectors: [(&str, &str); 7] = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in vectors {
            assert_eq!(base64_encode(plain.as_bytes()), encoded);
            assert_eq!(base64_decode(encoded.as_bytes()).unwrap(), plain.as_bytes());
        }
        assert_eq!(base64_decode(b"Zm9vYg").unwrap(), b"foob");
        assert_eq!(base64_decode(b"Zm9vYmE").unwrap(), b"fooba");
        for bad in ["Zm9v!", "Z", "Zg=", "Zg===", "=", "Zm9vY===", "Zm 9v"] {
            assert_eq!(base64_decode(bad.as_bytes()), None, "{bad}");
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(base64_encode(&all).as_bytes()).unwrap(), all);
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"airlock:abc", b"airlock:abc"));
        assert!(!constant_time_eq(b"airlock:abd", b"airlock:abc"));
        assert!(!constant_time_eq(b"airlock:ab", b"airlock:abc"));
        assert!(!constant_time_eq(b"airlock:abc\0", b"airlock:abc"));
        assert!(!constant_time_eq(b"", b"airlock:abc"));
    }

    #[test]
    fn grant_parsing() {
        let g = HostGrant::parse("Example.COM.", false).unwrap();
        assert_eq!((g.pattern.as_str(), g.port), ("example.com", None));
        let g = HostGrant::parse(" *.Example.com:443 ", false).unwrap();
        assert_eq!((g.pattern.as_str(), g.port), ("*.example.com", Some(443)));
        let g = HostGrant::parse("[::1]:80", true).unwrap();
        assert_eq!((g.pattern.as_str(), g.port), ("[::1]", Some(80)));
        assert_eq!(HostGrant::parse("::1", true).unwrap().pattern, "[::1]");
        assert_eq!(
            HostGrant::parse("1.1.1.1:53", false).unwrap().pattern,
            "1.1.1.1"
        );
        assert_eq!(
            HostGrant::parse("[2606:4700::1111]", false)
                .unwrap()
                .pattern,
            "[2606:4700::1111]"
        );
        assert!(HostGrant::parse("127.0.0.1", true).is_ok());
        for bad in [
            "",
            "*",
            "*.",
            "a.*.com",
            "*example.com",
            "http://example.com",
            "example.com/path",
            "user@example.com",
            "example.com:0",
            "example.com:65536",
            "example.com:",
            "example.com:x",
            "exa mple.com",
            "bücher.example",
            "a..b",
            "127.0.0.1",
            "[::1]",
            "10.1.2.3:80",
            "169.254.169.254",
            "[fd00:ec2::254]",
            "127.1",
            "0x7f.0.0.1",
            "2130706433",
            "[::1",
            "[::1]x",
            "*.127.0.0.1",
        ] {
            assert!(
                HostGrant::parse(bad, false).is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn grant_matching() {
        let exact = HostGrant::parse("example.com", false).unwrap();
        assert!(exact.matches("example.com", 443));
        assert!(exact.matches("EXAMPLE.com.", 80));
        assert!(!exact.matches("a.example.com", 443));
        assert!(!exact.matches("example.com.evil", 443));
        assert!(!exact.matches("xexample.com", 443));

        let wild = HostGrant::parse("*.example.com", false).unwrap();
        assert!(wild.matches("a.example.com", 1));
        assert!(wild.matches("a.b.Example.com.", 1));
        assert!(!wild.matches("example.com", 1));
        assert!(!wild.matches("badexample.com", 1));
        assert!(!wild.matches("a.example.com.evil", 1));

        let port = HostGrant::parse("example.com:443", false).unwrap();
        assert!(port.matches("example.com", 443));
        assert!(!port.matches("example.com", 80));

        let ip = HostGrant::parse("[::1]", true).unwrap();
        assert!(ip.matches("[::1]", 80));
        assert!(ip.matches("::1", 80));
        assert!(!ip.matches("127.0.0.1", 80));
        let v4 = HostGrant::parse("1.1.1.1", false).unwrap();
        assert!(v4.matches("1.1.1.1", 80));
        assert!(!v4.matches("[::ffff:1.1.1.1]", 80));
        // A name grant never covers an address, whatever that address resolves from.
        assert!(!exact.matches("93.184.215.14", 80));
    }

    #[test]
    fn host_classification() {
        assert_eq!(
            classify_host("Example.Com."),
            Ok(HostKind::Name("example.com".into()))
        );
        assert_eq!(
            classify_host("_srv.x-y.example"),
            Ok(HostKind::Name("_srv.x-y.example".into()))
        );
        assert_eq!(
            classify_host("127.0.0.1"),
            Ok(HostKind::Ip("127.0.0.1".parse().unwrap()))
        );
        assert_eq!(
            classify_host("[::ffff:127.0.0.1]"),
            Ok(HostKind::Ip("::ffff:127.0.0.1".parse().unwrap()))
        );
        for disguised in [
            "127.1",
            "0x7f.1",
            "2130706433",
            "017700000001",
            "1.2.3.4.5",
            "a.0x1f",
        ] {
            assert_eq!(classify_host(disguised), Err("ip-literal"), "{disguised}");
        }
        for bad in [
            "",
            ".",
            "a..b",
            ".a",
            "bücher.de",
            "a b",
            "a%2eb",
            "a/b",
            "[::1",
            "[1.2.3.4]",
            "[fe80::1%25eth0]",
            "a\u{0}b",
            "xn--caf-dma.example\u{200b}",
        ] {
            assert_eq!(classify_host(bad), Err("bad-host"), "{bad:?}");
        }
        assert_eq!(classify_host(&"a".repeat(64)), Err("bad-host"));
        let long = format!("{0}.{0}.{0}.{1}", "a".repeat(63), "a".repeat(61));
        assert_eq!(long.len(), 253);
        assert_eq!(classify_host(&long), Ok(HostKind::Name(long.clone())));
        assert_eq!(classify_host(&format!("{long}.b")), Err("bad-host"));
    }

    #[test]
    fn private_address_classification() {
        let private = [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.5",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::10.0.0.1",
            "64:ff9b:1::1",
            "100::1",
            "2001:db8::1",
            "2001:2::1",
            "2001:10::1",
            "2002:0a00:0001::1",
            "2002:7f00:0001::1",
            "3fff::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "4000::1",
        ];
        for ip in private {
            assert!(
                is_private_address(ip.parse().unwrap()),
                "{ip} should be private"
            );
        }
        let public = [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "169.253.1.1",
            "192.0.1.1",
            "192.167.1.1",
            "198.17.0.1",
            "198.20.0.1",
            "223.255.255.255",
            "::ffff:1.1.1.1",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2001::1",
            "3fff:1000::1",
        ];
        for ip in public {
            assert!(
                !is_private_address(ip.parse().unwrap()),
                "{ip} should be public"
            );
        }
    }

    #[test]
    fn head_parsing() {
        let raw = b"GET http://a.test/x HTTP/1.1\r\nHost: a.test\r\nX-Y:  z \r\n\r\nBODY";
        let (head_end, body_start) = find_head_end(raw).unwrap();
        assert_eq!(&raw[body_start..], b"BODY");
        let req = parse_head(&raw[..head_end]).unwrap();
        assert_eq!(
            (req.method, req.target, req.version),
            ("GET", "http://a.test/x", "HTTP/1.1")
        );
        assert_eq!(req.header("x-y"), Some(&b"z"[..]));
        assert_eq!(req.header("host"), Some(&b"a.test"[..]));

        let bare_lf = b"CONNECT a.test:443 HTTP/1.0\nA: b\n\n";
        let (head_end, body_start) = find_head_end(bare_lf).unwrap();
        assert_eq!(body_start, bare_lf.len());
        assert!(parse_head(&bare_lf[..head_end]).is_some());
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n"), None);

        for bad in [
            &b"\r\n\r\n"[..],
            b"GET http://a/ HTTP/2\r\n\r\n",
            b"GET  http://a/ HTTP/1.1\r\n\r\n",
            b"GET http://a/ HTTP/1.1 x\r\n\r\n",
            b"G(T http://a/ HTTP/1.1\r\n\r\n",
            b"GET http://a/\x01 HTTP/1.1\r\n\r\n",
            b"GET http://a/ HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
            b"GET http://a/ HTTP/1.1\r\nA : b\r\n\r\n",
            b"GET http://a/ HTTP/1.1\r\nNoColon\r\n\r\n",
            b"GET http://a/ HTTP/1.1\r\nA: b\rc\r\n\r\n",
            b"GET http://\xff/ HTTP/1.1\r\n\r\n",
        ] {
            let (head_end, _) = find_head_end(bad).unwrap();
            assert!(
                parse_head(&bad[..head_end]).is_none(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let many = format!(
            "GET http://a/ HTTP/1.1\r\n{}\r\n",
            "A: b\r\n".repeat(MAX_HEADERS + 1)
        );
        let (head_end, _) = find_head_end(many.as_bytes()).unwrap();
        assert!(parse_head(&many.as_bytes()[..head_end]).is_none());
    }

    #[test]
    fn target_parsing() {
        let t = parse_target("CONNECT", "Example.com:443").unwrap();
        assert_eq!((t.tunnel, t.host, t.port), (true, "Example.com", 443));
        let t = parse_target("CONNECT", "[::1]:8443").unwrap();
        assert_eq!((t.host, t.port), ("[::1]", 8443));
        assert_eq!(
            parse_target("CONNECT", "example.com"),
            Err(Some(("example.com", 0)))
        );
        assert_eq!(
            parse_target("CONNECT", "example.com:0"),
            Err(Some(("example.com", 0)))
        );
        assert_eq!(parse_target("CONNECT", "::1:443"), Err(None));

        let t = parse_target("GET", "http://a.test:8080/x/y?q=1#frag").unwrap();
        assert_eq!(
            (t.tunnel, t.host, t.port, t.path.as_str()),
            (false, "a.test", 8080, "/x/y?q=1")
        );
        let t = parse_target("POST", "HTTP://a.test").unwrap();
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        let t = parse_target("GET", "http://a.test?q").unwrap();
        assert_eq!(t.path, "/?q");
        let t = parse_target("GET", "http://[::1]:81/").unwrap();
        assert_eq!((t.host, t.port), ("[::1]", 81));

        assert_eq!(parse_target("GET", "/x"), Err(None));
        assert_eq!(parse_target("GET", "*"), Err(None));
        assert_eq!(parse_target("GET", "http://u:p@a.test/"), Err(None));
        assert_eq!(
            parse_target("GET", "https://a.test/"),
            Err(Some(("a.test", 443)))
        );
        assert_eq!(
            parse_target("GET", "ftp://a.test/"),
            Err(Some(("a.test", 0)))
        );
        assert_eq!(
            parse_target("GET", "http://a.test:99999/"),
            Err(Some(("a.test", 0)))
        );
        assert_eq!(parse_target("GET", "http:///x"), Err(Some(("", 80))));
    }

    #[test]
    fn authorization_header() {
        let expected = b"airlock:secret";
        let head = |value: &str| format!("GET http://a/ HTTP/1.1\r\n{value}\r\n\r\n");
        let check = |value: &str| {
            let raw = head(value);
            let (end, _) = find_head_end(raw.as_bytes()).unwrap();
            authorized(&parse_head(&raw.as_bytes()[..end]).unwrap(), expected)
        };
        let good = base64_encode(expected);
        assert!(check(&format!("Proxy-Authorization: Basic {good}")));
        assert!(check(&format!("proxy-authorization: basic   {good} ")));
        assert!(!check(&format!("Proxy-Authorization: Bearer {good}")));
        assert!(!check(&format!(
            "Proxy-Authorization: Basic {}",
            base64_encode(b"airlock:secreT")
        )));
        assert!(!check(&format!(
            "Proxy-Authorization: Basic {}",
            base64_encode(b"root:secret")
        )));
        assert!(!check("Proxy-Authorization: Basic"));
        assert!(!check("Proxy-Authorization: Basic !!!"));
        assert!(!check(&format!("Authorization: Basic {good}")));
        // Two credentials are ambiguous: refused even if one is right.
        assert!(!check(&format!(
            "Proxy-Authorization: Basic {good}\r\nProxy-Authorization: Basic eA=="
        )));
    }

    #[test]
    fn forwarded_head_is_origin_form_without_hop_by_hop_headers() {
        let raw = b"POST http://A.test:8080/p?q HTTP/1.1\r\nHost: evil.test\r\n\
            Proxy-Authorization: Basic eA==\r\nProxy-Connection: keep-alive\r\n\
            Connection: keep-alive, X-Secret, Content-Length\r\nX-Secret: 1\r\nKeep-Alive: 5\r\n\
            TE: trailers\r\nUpgrade: h2c\r\nContent-Length: 4\r\nAccept: */*\r\n\r\n";
        let (end, _) = find_head_end(raw).unwrap();
        let req = parse_head(&raw[..end]).unwrap();
        let target = parse_target(req.method, req.target).unwrap();
        let host = classify_host(target.host).unwrap();
        let out = String::from_utf8(forward_head(&req, &target, &host)).unwrap();
        assert_eq!(
            out,
            "POST /p?q HTTP/1.1\r\nHost: a.test:8080\r\nContent-Length: 4\r\nAccept: */*\r\n\
             Connection: close\r\n\r\n"
        );
        let host = HostKind::Ip("::1".parse().unwrap());
        assert_eq!(host.authority(80, 80), "[::1]");
        assert_eq!(host.authority(81, 80), "[::1]:81");
    }

    fn framing(head: &str) -> Option<BodyFraming> {
        let raw = format!("POST http://a/ HTTP/1.1\r\n{head}\r\n");
        let (end, _) = find_head_end(raw.as_bytes()).unwrap();
        BodyFraming::of(&parse_head(&raw.as_bytes()[..end]).unwrap())
    }

    #[test]
    fn request_body_framing() {
        assert!(framing("").unwrap().done());
        let mut length = framing("Content-Length: 5\r\n").unwrap();
        assert!(!length.done());
        assert_eq!(length.feed(b"hel"), Ok(3));
        assert_eq!(length.feed(b"loGET /next"), Ok(2));
        assert!(length.done());
        assert_eq!(length.feed(b"more"), Ok(0));
        assert!(matches!(
            framing("Transfer-Encoding: gzip, Chunked\r\n"),
            Some(BodyFraming::Chunked(_))
        ));
        for bad in [
            "Content-Length: 5\r\nContent-Length: 5\r\n",
            "Content-Length: +5\r\n",
            "Content-Length: 5, 5\r\n",
            "Content-Length: \r\n",
            "Content-Length: 99999999999999999999\r\n",
            "Transfer-Encoding: gzip\r\n",
            "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
        ] {
            assert!(framing(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn chunked_body_scanning() {
        let body: &[u8] = b"5;ext=1\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: y\r\n\r\n";
        let mut input = body.to_vec();
        input.extend_from_slice(b"GET /smuggled HTTP/1.1\r\n\r\n");

        let mut whole = ChunkedBody::default();
        assert_eq!(whole.feed(&input), Ok(body.len()));
        assert_eq!(whole.state, ChunkState::Done);

        let mut bytewise = ChunkedBody::default();
        let mut used = 0;
        for b in &input {
            used += bytewise.feed(std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(used, body.len());

        let mut plain = ChunkedBody::default();
        assert_eq!(plain.feed(b"0\r\n\r\nrest"), Ok(5));
        for bad in [
            &b"5\nhello"[..],
            b"zz\r\n",
            b"\r\n",
            b";x\r\n",
            b"5\r\nhelloXX",
            b"5\r\nhello\n",
            b"1\r0\r\n",
            b"fffffffffffffffff\r\n",
            b"0\r\nX: y\n",
            b"0\r\n\x01\r\n",
        ] {
            assert_eq!(
                ChunkedBody::default().feed(bad),
                Err(()),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        let long_line = format!("1;{}\r\n", "e".repeat(MAX_CHUNK_LINE));
        assert_eq!(ChunkedBody::default().feed(long_line.as_bytes()), Err(()));
    }

    #[test]
    fn error_responses() {
        let r = String::from_utf8(error_response(407, "bad-credential")).unwrap();
        assert!(r.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"));
        assert!(r.contains("\r\nProxy-Authenticate: Basic realm=\"airlock\"\r\n"));
        assert!(r.contains("\r\nX-Airlock-Refused: bad-credential\r\n"));
        let r = String::from_utf8(error_response(403, "not-granted")).unwrap();
        assert!(r.starts_with("HTTP/1.1 403 Forbidden\r\n"));
        let (head, body) = r.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}", body.len())));
    }

    #[test]
    fn proxy_env_and_credentials() {
        let env = EgressProxy::proxy_env(3128, "abc");
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        for k in [
            "http_proxy",
            "https_proxy",
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "all_proxy",
            "npm_config_proxy",
            "npm_config_https_proxy",
            "PIP_PROXY",
        ] {
            assert_eq!(get(k), Some("http://airlock:abc@127.0.0.1:3128"), "{k}");
        }
        assert_eq!(get("no_proxy"), Some(""));
        assert_eq!(get("NO_PROXY"), Some(""));
        assert_eq!(percent_encode("a:b@c/d%"), "a%3Ab%40c%2Fd%25");
        assert_eq!(
            EgressProxy::proxy_authorization("abc"),
            "Basic YWlybG9jazphYmM="
        );

        let a = EgressProxy::new_credential();
        let b = EgressProxy::new_credential();
        assert_eq!(a.len(), 32);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn recorded_strings_are_escaped_and_bounded() {
        assert_eq!(escape_for_record("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        assert_eq!(escape_for_record("bü"), "b\\u{fc}");
        assert_eq!(
            escape_for_record(&"x".repeat(1000)).len(),
            MAX_RECORDED_HOST_CHARS
        );
    }

    #[test]
    fn proxy_can_move_between_threads() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<EgressProxy>();
        send_sync::<EgressAttempt>();
    }

    #[test]
    fn start_rejects_invalid_configuration() {
        let listener = || TcpListener::bind("127.0.0.1:0").unwrap();
        let bad_grant = EgressConfig {
            grants: vec![HostGrant {
                pattern: "exa mple.com".into(),
                port: None,
                allow_private: false,
            }],
            ..EgressConfig::default()
        };
        assert!(EgressProxy::start(listener(), bad_grant, "c".into()).is_err());
        let bad_static = EgressConfig {
            static_hosts: vec![("1.2.3.4".into(), "127.0.0.1".parse().unwrap())],
            ..EgressConfig::default()
        };
        assert!(EgressProxy::start(listener(), bad_static, "c".into()).is_err());
        assert!(EgressProxy::start(listener(), EgressConfig::default(), String::new()).is_err());
    }
}
