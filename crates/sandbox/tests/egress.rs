//! The egress proxy over real loopback sockets: a tiny origin server, raw clients and curl.

use sandbox::egress::{EgressAttempt, EgressConfig, EgressProxy, HostGrant};
use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const NAME: &str = "test.airlock.internal";

// ---------------------------------------------------------------------------------------------
// A tiny origin server
// ---------------------------------------------------------------------------------------------

/// Answers every request with `200` and body `hello from origin <path>[ <request body>]`,
/// remembering each request head it saw.
struct Origin {
    port: u16,
    heads: Arc<Mutex<Vec<String>>>,
}

impl Origin {
    fn start() -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let heads = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&heads);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let seen = Arc::clone(&seen);
                thread::spawn(move || serve_origin(stream, &seen));
            }
        });
        Origin { port, heads }
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

fn serve_origin(mut stream: TcpStream, seen: &Mutex<Vec<String>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let content_length: usize = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < content_length {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    let path = head.split(' ').nth(1).unwrap_or("").to_string();
    if path.starts_with("/drain") {
        // Record everything that arrives, to show what the proxy forwards after the body.
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        while let Ok(n @ 1..) = stream.read(&mut chunk) {
            body.extend_from_slice(&chunk[..n]);
        }
    }
    seen.lock().unwrap().push(head);
    let mut reply = format!("hello from origin {path}");
    if !body.is_empty() {
        reply.push(' ');
        reply.push_str(&String::from_utf8_lossy(&body));
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{reply}",
        reply.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

// ---------------------------------------------------------------------------------------------
// Proxy and client helpers
// ---------------------------------------------------------------------------------------------

struct Proxy {
    proxy: EgressProxy,
    addr: SocketAddr,
    credential: String,
}

fn grant(pattern: &str, allow_private: bool) -> HostGrant {
    HostGrant::parse(pattern, allow_private).unwrap()
}

fn start_proxy(grants: Vec<HostGrant>, static_hosts: &[(&str, IpAddr)]) -> Proxy {
    start_proxy_with(EgressConfig {
        grants,
        static_hosts: static_hosts
            .iter()
            .map(|&(name, ip)| (name.to_string(), ip))
            .collect(),
        connect_timeout: Duration::from_secs(2),
        max_connections: 16,
    })
}

fn start_proxy_with(config: EgressConfig) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let credential = EgressProxy::new_credential();
    let proxy = EgressProxy::start(listener, config, credential.clone()).unwrap();
    assert_eq!(proxy.local_addr(), addr);
    Proxy {
        proxy,
        addr,
        credential,
    }
}

/// Base64 written independently of the proxy's, to check its decoder.
fn b64(data: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let mut n = 0u32;
        for (i, &b) in chunk.iter().enumerate() {
            n |= u32::from(b) << (16 - 8 * i);
        }
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize])
            } else {
                '='
            });
        }
    }
    out
}

fn auth_line(user: &str, password: &str) -> String {
    format!(
        "Proxy-Authorization: Basic {}\r\n",
        b64(format!("{user}:{password}").as_bytes())
    )
}

impl Proxy {
    fn auth(&self) -> String {
        auth_line("airlock", &self.credential)
    }

    fn connect(&self) -> TcpStream {
        let stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
    }

    /// Sends `request` on a fresh connection and reads until the proxy closes it.
    fn exchange(&self, request: &[u8]) -> String {
        let mut stream = self.connect();
        // The proxy may answer (and stop reading) before a huge request is fully written.
        let _ = stream.write_all(request);
        read_to_close(&mut stream)
    }

    /// `CONNECT target` with the right credential; returns the stream and the response head.
    fn tunnel(&self, target: &str) -> (TcpStream, String) {
        let mut stream = self.connect();
        let request = format!(
            "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{}\r\n",
            self.auth()
        );
        stream.write_all(request.as_bytes()).unwrap();
        let head = read_head(&mut stream);
        (stream, head)
    }

    /// `CONNECT target` expected to be refused: returns (status, X-Airlock-Refused).
    fn refused_connect(&self, target: &str) -> (u16, String) {
        let request = format!(
            "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{}\r\n",
            self.auth()
        );
        let response = self.exchange(request.as_bytes());
        (status(&response), refused_reason(&response))
    }
}

fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&chunk[..n]),
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(err) => panic!("reading from the proxy: {err}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            other => panic!(
                "response head cut short ({other:?}): {:?}",
                String::from_utf8_lossy(&head)
            ),
        }
    }
    String::from_utf8(head).unwrap()
}

fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status in {response:?}"))
}

fn header<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    let head = response.split("\r\n\r\n").next()?;
    head.lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

fn refused_reason(response: &str) -> String {
    header(response, "X-Airlock-Refused")
        .unwrap_or_else(|| panic!("no X-Airlock-Refused in {response:?}"))
        .to_string()
}

fn body(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A port on which nothing listens.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn reasons(attempts: &[EgressAttempt]) -> Vec<&str> {
    attempts.iter().map(|a| a.reason.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// Allowed traffic
// ---------------------------------------------------------------------------------------------

#[test]
fn connect_tunnel_reaches_granted_static_host() {
    let origin = Origin::start();
    let p = start_proxy(vec![grant(NAME, true)], &[(NAME, LOCALHOST)]);
    let target = format!("{NAME}:{}", origin.port);

    let (mut stream, head) = p.tunnel(&target);
    assert_eq!(head, "HTTP/1.1 200 Connection established\r\n\r\n");
    let request = format!("GET /hello HTTP/1.1\r\nHost: {target}\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let response = read_to_close(&mut stream);
    assert_eq!(status(&response), 200);
    assert_eq!(body(&response), "hello from origin /hello");
    drop(stream);

    let attempts = p.proxy.stop();
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    let a = &attempts[0];
    assert_eq!(
        (a.host.as_str(), a.port, a.method.as_str()),
        (NAME, origin.port, "CONNECT")
    );
    assert!(a.allowed);
    assert_eq!(a.reason, "granted");
    let address = format!("127.0.0.1:{}", origin.port);
    assert_eq!(a.address.as_deref(), Some(address.as_str()));
    assert_eq!(a.bytes_up, request.len() as u64);
    assert_eq!(a.bytes_down, response.len() as u64);

    let json = serde_json::to_value(a).unwrap();
    assert_eq!(json["host"], NAME);
    assert_eq!(json["allowed"], true);
    assert_eq!(json["address"], address.as_str());
    assert_eq!(json["bytes_down"], response.len() as u64);
}

#[test]
fn connect_forwards_bytes_sent_along_with_the_request() {
    let origin = Origin::start();
    let p = start_proxy(vec![grant(NAME, true)], &[(NAME, LOCALHOST)]);
    let target = format!("{NAME}:{}", origin.port);
    let mut stream = p.connect();
    // The tunnelled request arrives in the same write as the CONNECT head.
    let request = format!(
        "CONNECT {target} HTTP/1.1\r\n{}\r\nGET /early HTTP/1.1\r\nHost: x\r\n\r\n",
        p.auth()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let response = read_to_close(&mut stream);
    assert!(
        response.starts_with("HTTP/1.1 200 Connection established\r\n\r\nHTTP/1.1 200 OK\r\n"),
        "{response:?}"
    );
    assert!(response.ends_with("hello from origin /early"));
    drop(stream);
    let attempts = p.proxy.stop();
    assert_eq!(reasons(&attempts), ["granted"]);
}

#[test]
fn plain_http_is_forwarded_in_origin_form() {
    let origin = Origin::start();
    let p = start_proxy(vec![grant(NAME, true)], &[(NAME, LOCALHOST)]);

    let request = format!(
        "GET http://Test.Airlock.Internal:{}/x?y=1#frag HTTP/1.1\r\nHost: evil.example\r\n{}\
         Proxy-Connection: keep-alive\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n\
         User-Agent: test\r\n\r\n",
        origin.port,
        p.auth()
    );
    let response = p.exchange(request.as_bytes());
    assert_eq!(status(&response), 200, "{response:?}");
    assert_eq!(body(&response), "hello from origin /x?y=1");

    let post = format!(
        "POST http://{NAME}:{}/submit HTTP/1.1\r\n{}Content-Length: 11\r\n\r\nhello world",
        origin.port,
        p.auth()
    );
    let response = p.exchange(post.as_bytes());
    assert_eq!(status(&response), 200, "{response:?}");
    assert_eq!(body(&response), "hello from origin /submit hello world");

    let heads = origin.heads();
    assert_eq!(heads.len(), 2);
    assert_eq!(
        heads[0],
        format!(
            "GET /x?y=1 HTTP/1.1\r\nHost: {NAME}:{}\r\nUser-Agent: test\r\nConnection: close\r\n\r\n",
            origin.port
        )
    );
    for head in &heads {
        let lower = head.to_ascii_lowercase();
        assert!(!lower.contains("proxy-authorization"), "{head}");
        assert!(!lower.contains("proxy-connection"), "{head}");
        assert!(!lower.contains("x-hop"), "{head}");
        assert!(!lower.contains("evil"), "{head}");
    }
    assert!(heads[1].starts_with("POST /submit HTTP/1.1\r\n"));
    assert!(heads[1].contains("\r\nContent-Length: 11\r\n"));

    let attempts = p.proxy.stop();
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.method.as_str(), a.host.as_str(), a.allowed))
            .collect::<Vec<_>>(),
        [("GET", NAME, true), ("POST", NAME, true)]
    );
    assert!(attempts[0].bytes_up > 0);
    assert_eq!(attempts[1].bytes_down, {
        let reply = "hello from origin /submit hello world";
        (format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n",
            reply.len()
        )
        .len()
            + reply.len()) as u64
    });
}

#[test]
fn plain_http_forwards_only_the_request_body() {
    let origin = Origin::start();
    let p = start_proxy(vec![grant(NAME, true)], &[(NAME, LOCALHOST)]);
    let smuggled = "GET http://elsewhere.test/ HTTP/1.1\r\nHost: elsewhere.test\r\n\r\n";

    let with_length = format!(
        "POST http://{NAME}:{}/drain HTTP/1.1\r\n{}Content-Length: 5\r\n\r\nhello{smuggled}",
        origin.port,
        p.auth()
    );
    let response = p.exchange(with_length.as_bytes());
    assert_eq!(body(&response), "hello from origin /drain hello");

    let chunked_body = "5\r\nhello\r\n3;x=y\r\nabc\r\n0\r\n\r\n";
    let chunked = format!(
        "POST http://{NAME}:{}/drain HTTP/1.1\r\n{}Transfer-Encoding: chunked\r\n\r\n\
         {chunked_body}{smuggled}",
        origin.port,
        p.auth()
    );
    let response = p.exchange(chunked.as_bytes());
    assert_eq!(
        body(&response),
        format!("hello from origin /drain {chunked_body}")
    );
    assert!(
        origin.heads()[1].contains("\r\nTransfer-Encoding: chunked\r\n"),
        "{:?}",
        origin.heads()
    );

    // A request whose body cannot be delimited unambiguously never reaches the origin.
    let ambiguous = format!(
        "POST http://{NAME}:{}/drain HTTP/1.1\r\n{}Transfer-Encoding: chunked\r\n\
         Content-Length: 5\r\n\r\nhello",
        origin.port,
        p.auth()
    );
    let response = p.exchange(ambiguous.as_bytes());
    assert_eq!(
        (status(&response), refused_reason(&response).as_str()),
        (400, "bad-request")
    );
    assert_eq!(origin.heads().len(), 2);

    let attempts = p.proxy.stop();
    assert_eq!(reasons(&attempts), ["granted", "granted", "bad-request"]);
    assert!(attempts.iter().all(|a| a.host == NAME));
}

#[test]
fn tunnel_relays_bulk_data_both_ways() {
    // An echo origin: everything sent through the tunnel comes back through it.
    let echo = TcpListener::bind("127.0.0.1:0").unwrap();
    let echo_port = echo.local_addr().unwrap().port();
    thread::spawn(move || {
        for stream in echo.incoming().flatten() {
            thread::spawn(move || {
                let mut reader = stream.try_clone().unwrap();
                let mut writer = stream;
                let _ = std::io::copy(&mut reader, &mut writer);
            });
        }
    });
    let p = start_proxy(vec![grant(NAME, true)], &[(NAME, LOCALHOST)]);
    let (stream, head) = p.tunnel(&format!("{NAME}:{echo_port}"));
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");

    const TOTAL: usize = 8 * 1024 * 1024;
    let pattern = |i: usize| (i % 251) as u8;
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let data: Vec<u8> = (0..TOTAL).map(pattern).collect();
        writer.write_all(&data).unwrap();
        writer.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut reader = stream;
    let mut received = Vec::with_capacity(TOTAL);
    reader.read_to_end(&mut received).unwrap();
    sender.join().unwrap();
    assert_eq!(received.len(), TOTAL);
    assert!(received.iter().enumerate().all(|(i, &b)| b == pattern(i)));

    let attempts = p.proxy.stop();
    assert_eq!(reasons(&attempts), ["granted"]);
    assert_eq!(
        (attempts[0].bytes_up, attempts[0].bytes_down),
        (TOTAL as u64, TOTAL as u64)
    );
}

#[test]
fn connection_flood_is_bounded_and_fully_recorded() {
    let p = start_proxy_with(EgressConfig {
        max_connections: 4,
        ..EgressConfig::default()
    });
    let clients: Vec<TcpStream> = (0..60).map(|_| p.connect()).collect();
    thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let attempts = p.proxy.stop();
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(clients);
    assert_eq!(attempts.len(), 60);
    assert_eq!(attempts.iter().filter(|a| a.reason == "stopped").count(), 4);
    assert_eq!(
        attempts
            .iter()
            .filter(|a| a.reason == "too-many-connections")
            .count(),
        56
    );
    assert!(attempts.iter().all(|a| !a.allowed));
}

#[test]
fn wildcard_port_and_literal_grants() {
    let origin = Origin::start();
    let other_port = closed_port();
    let p = start_proxy(
        vec![
            grant("*.example.test", true),
            grant(&format!("port.airlock.internal:{}", origin.port), true),
            grant("127.0.0.1", true),
        ],
        &[
            ("a.example.test", LOCALHOST),
            ("deep.a.example.test", LOCALHOST),
            ("example.test", LOCALHOST),
            ("port.airlock.internal", LOCALHOST),
        ],
    );
    for host in [
        "a.example.test",
        "deep.a.example.test",
        "port.airlock.internal",
        "127.0.0.1",
    ] {
        let (mut stream, head) = p.tunnel(&format!("{host}:{}", origin.port));
        assert!(head.starts_with("HTTP/1.1 200 "), "{host}: {head}");
        stream
            .write_all(b"GET /w HTTP/1.1\r\nHost: w\r\n\r\n")
            .unwrap();
        assert!(
            read_to_close(&mut stream).ends_with("hello from origin /w"),
            "{host}"
        );
    }
    assert_eq!(
        p.refused_connect(&format!("example.test:{}", origin.port)),
        (403, "not-granted".to_string())
    );
    assert_eq!(
        p.refused_connect(&format!("port.airlock.internal:{other_port}")),
        (403, "not-granted".to_string())
    );
    let attempts = p.proxy.stop();
    assert_eq!(
        reasons(&attempts),
        [
            "granted",
            "granted",
            "granted",
            "granted",
            "not-granted",
            "not-granted"
        ]
    );
    assert_eq!(
        attempts[3].address,
        Some(format!("127.0.0.1:{}", origin.port))
    );
}

#[test]
fn system_resolver_answers_are_checked_and_tried_in_order() {
    // `localhost` is not a static host: the system resolver (here /etc/hosts) answers it, with
    // loopback addresses, perhaps ::1 first, where nothing listens.
    let origin = Origin::start();
    let strict = start_proxy(vec![grant("localhost", false)], &[]);
    assert_eq!(
        strict.refused_connect(&format!("localhost:{}", origin.port)),
        (403, "private-address".to_string())
    );
    assert_eq!(reasons(&strict.proxy.stop()), ["private-address"]);

    let lenient = start_proxy(vec![grant("localhost", true)], &[]);
    let (mut stream, head) = lenient.tunnel(&format!("localhost:{}", origin.port));
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    stream
        .write_all(b"GET /r HTTP/1.1\r\nHost: r\r\n\r\n")
        .unwrap();
    assert!(read_to_close(&mut stream).ends_with("hello from origin /r"));
    let attempts = lenient.proxy.stop();
    assert_eq!(reasons(&attempts), ["granted"]);
    assert_eq!(
        attempts[0].address,
        Some(format!("127.0.0.1:{}", origin.port))
    );
}

// ---------------------------------------------------------------------------------------------
// Refusals
// ---------------------------------------------------------------------------------------------

#[test]
fn refusals_are_answered_and_recorded() {
    let origin = Origin::start();
    let port = origin.port;
    let p = start_proxy(
        vec![
            grant("strict.airlock.internal", false),
            grant("ten.airlock.internal", false),
            grant("meta.airlock.internal", false),
        ],
        &[
            ("strict.airlock.internal", LOCALHOST),
            ("other.airlock.internal", LOCALHOST),
            ("ten.airlock.internal", "10.0.0.5".parse().unwrap()),
            ("meta.airlock.internal", "1.1.1.1".parse().unwrap()),
            ("meta.airlock.internal", "169.254.169.254".parse().unwrap()),
        ],
    );
    let cases: Vec<(String, &str)> = vec![
        (format!("strict.airlock.internal:{port}"), "private-address"),
        (
            format!("STRICT.airlock.internal.:{port}"),
            "private-address",
        ),
        (format!("other.airlock.internal:{port}"), "not-granted"),
        (format!("127.0.0.1:{port}"), "ip-literal"),
        (format!("[::1]:{port}"), "ip-literal"),
        (format!("[::ffff:127.0.0.1]:{port}"), "ip-literal"),
        (format!("127.1:{port}"), "ip-literal"),
        (format!("2130706433:{port}"), "ip-literal"),
        (format!("ten.airlock.internal:{port}"), "private-address"),
        // One public and one metadata address: any non-public answer refuses the name.
        (format!("meta.airlock.internal:{port}"), "private-address"),
        (format!("tést.airlock.internal:{port}"), "bad-host"),
        (format!("a%2eb:{port}"), "bad-host"),
    ];
    for (target, reason) in &cases {
        assert_eq!(
            p.refused_connect(target),
            (403, reason.to_string()),
            "{target}"
        );
    }
    let response =
        p.exchange(format!("GET http://127.0.0.1:{port}/ HTTP/1.1\r\n{}\r\n", p.auth()).as_bytes());
    assert_eq!(
        (status(&response), refused_reason(&response).as_str()),
        (403, "ip-literal")
    );
    assert!(response.starts_with("HTTP/1.1 403 Forbidden\r\n"));

    assert!(origin.heads().is_empty(), "nothing may reach the origin");
    let attempts = p.proxy.stop();
    assert_eq!(attempts.len(), cases.len() + 1);
    for (attempt, (_, reason)) in attempts.iter().zip(&cases) {
        assert_eq!(attempt.reason, *reason, "{attempt:?}");
        assert!(!attempt.allowed);
        assert_eq!(attempt.address, None);
        assert_eq!((attempt.bytes_up, attempt.bytes_down), (0, 0));
        assert_eq!(attempt.port, port);
        assert_eq!(attempt.method, "CONNECT");
    }
    assert_eq!(attempts[1].host, "strict.airlock.internal");
    assert_eq!(attempts[4].host, "::1");
    assert_eq!(attempts[10].host, "t\\u{e9}st.airlock.internal");
    assert_eq!(
        (attempts[12].method.as_str(), attempts[12].host.as_str()),
        ("GET", "127.0.0.1")
    );
}

#[test]
fn missing_or_wrong_credentials_get_407() {
    let origin = Origin::start();
    let p = start_proxy(vec![grant(NAME, true)], &[(NAME, LOCALHOST)]);
    let target = format!("{NAME}:{}", origin.port);
    let credentials = [
        String::new(),
        auth_line("airlock", "wrong"),
        auth_line("root", &p.credential),
        auth_line("airlock", &format!("{}x", p.credential)),
        format!("Proxy-Authorization: Bearer {}\r\n", p.credential),
        format!("{}{}", p.auth(), auth_line("airlock", "wrong")),
    ];
    for credential in &credentials {
        let response =
            p.exchange(format!("CONNECT {target} HTTP/1.1\r\n{credential}\r\n").as_bytes());
        assert!(
            response.starts_with("HTTP/1.1 407 Proxy Authentication Required\r\n"),
            "{response:?}"
        );
        assert_eq!(
            header(&response, "Proxy-Authenticate"),
            Some("Basic realm=\"airlock\"")
        );
        assert_eq!(refused_reason(&response), "bad-credential");
    }
    let response = p.exchange(
        format!(
            "GET http://{target}/ HTTP/1.1\r\n{}\r\n",
            auth_line("airlock", "nope")
        )
        .as_bytes(),
    );
    assert_eq!(status(&response), 407);
    assert!(origin.heads().is_empty());

    let attempts = p.proxy.stop();
    assert_eq!(attempts.len(), credentials.len() + 1);
    for a in &attempts {
        assert_eq!(
            (a.allowed, a.reason.as_str(), a.host.as_str()),
            (false, "bad-credential", NAME)
        );
    }
}

#[test]
fn malformed_requests_get_400() {
    let origin = Origin::start();
    let p = start_proxy(vec![grant(NAME, true)], &[(NAME, LOCALHOST)]);
    let auth = p.auth();
    let huge = format!(
        "GET http://{NAME}:{}/ HTTP/1.1\r\n{auth}X-Big: {}\r\n\r\n",
        origin.port,
        "a".repeat(20 * 1024)
    );
    let requests: Vec<(String, &str)> = vec![
        (
            format!("GET / HTTP/1.1\r\nHost: {NAME}\r\n{auth}\r\n"),
            NAME,
        ),
        (format!("GET https://{NAME}/ HTTP/1.1\r\n{auth}\r\n"), NAME),
        (
            format!("GET http://user:pw@{NAME}/ HTTP/1.1\r\n{auth}\r\n"),
            "",
        ),
        (format!("CONNECT {NAME} HTTP/1.1\r\n{auth}\r\n"), NAME),
        ("hello there\r\n\r\n".to_string(), ""),
        (
            format!("GET http://{NAME}/ HTTP/1.1\r\n{auth} folded\r\n\r\n"),
            NAME,
        ),
        ("\u{0}\u{1}\u{2}\r\n\r\n".to_string(), ""),
        (huge, NAME),
    ];
    for (request, _) in &requests {
        let response = p.exchange(request.as_bytes());
        assert!(
            response.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{response:?}"
        );
        assert_eq!(refused_reason(&response), "bad-request");
    }
    // A client that connects and leaves without a word is recorded too.
    drop(p.connect());
    thread::sleep(Duration::from_millis(200));

    assert!(origin.heads().is_empty());
    let attempts = p.proxy.stop();
    assert_eq!(attempts.len(), requests.len() + 1, "{attempts:?}");
    for (attempt, (_, host)) in attempts.iter().zip(&requests) {
        assert_eq!(
            (attempt.reason.as_str(), attempt.host.as_str()),
            ("bad-request", *host)
        );
        assert!(!attempt.allowed);
    }
    assert_eq!(attempts[0].method, "GET");
    let last = attempts.last().unwrap();
    assert_eq!(
        (
            last.reason.as_str(),
            last.host.as_str(),
            last.method.as_str()
        ),
        ("bad-request", "", "")
    );
}

#[test]
fn unreachable_origin_gets_502() {
    let port = closed_port();
    let p = start_proxy(vec![grant(NAME, true)], &[(NAME, LOCALHOST)]);
    assert_eq!(
        p.refused_connect(&format!("{NAME}:{port}")),
        (502, "connect-failed".to_string())
    );
    let attempts = p.proxy.stop();
    assert_eq!(reasons(&attempts), ["connect-failed"]);
    assert_eq!(attempts[0].address, None);
}

#[test]
fn connections_beyond_the_limit_get_503() {
    let origin = Origin::start();
    let mut config = EgressConfig {
        grants: vec![grant(NAME, true)],
        static_hosts: vec![(NAME.to_string(), LOCALHOST)],
        ..EgressConfig::default()
    };
    config.max_connections = 1;
    let p = start_proxy_with(config);

    let first = p.connect();
    thread::sleep(Duration::from_millis(200));
    let mut second = p.connect();
    let response = read_to_close(&mut second);
    assert!(response.starts_with("HTTP/1.1 503 "), "{response:?}");
    assert_eq!(refused_reason(&response), "too-many-connections");

    // Once the first connection is gone, its place is free again.
    drop(first);
    thread::sleep(Duration::from_millis(300));
    let (mut third, head) = p.tunnel(&format!("{NAME}:{}", origin.port));
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    third
        .write_all(b"GET /3 HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    assert!(read_to_close(&mut third).ends_with("hello from origin /3"));

    let attempts = p.proxy.stop();
    assert_eq!(
        reasons(&attempts),
        ["bad-request", "too-many-connections", "granted"]
    );
}

#[test]
fn incomplete_head_times_out_with_400() {
    let p = start_proxy(vec![], &[]);
    let mut stream = p.connect();
    stream
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    stream
        .write_all(b"CONNECT a.example:443 HTTP/1.1\r\n")
        .unwrap();
    let started = Instant::now();
    let response = read_to_close(&mut stream);
    let waited = started.elapsed();
    assert!(response.starts_with("HTTP/1.1 400 "), "{response:?}");
    assert!(
        waited >= Duration::from_secs(8) && waited < Duration::from_secs(13),
        "{waited:?}"
    );
    let attempts = p.proxy.stop();
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.reason.as_str(), a.host.as_str(), a.port))
            .collect::<Vec<_>>(),
        [("bad-request", "a.example", 443)]
    );
}

// ---------------------------------------------------------------------------------------------
// Stopping
// ---------------------------------------------------------------------------------------------

#[test]
fn stop_is_prompt_with_open_tunnels_and_slow_clients() {
    // An origin that accepts and then says nothing, keeping the tunnel idle.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = Arc::clone(&held);
    thread::spawn(move || {
        for stream in silent.incoming().flatten() {
            keep.lock().unwrap().push(stream);
        }
    });
    let p = start_proxy(vec![grant(NAME, true)], &[(NAME, LOCALHOST)]);

    let (mut tunnel, head) = p.tunnel(&format!("{NAME}:{silent_port}"));
    assert!(head.starts_with("HTTP/1.1 200 "), "{head}");
    let mut slow = p.connect();
    slow.write_all(b"CONNECT test.airlock").unwrap();
    let mut mute = p.connect();
    thread::sleep(Duration::from_millis(200));

    let addr = p.addr;
    let started = Instant::now();
    let attempts = p.proxy.stop();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "stop took {took:?}");

    for stream in [&mut tunnel, &mut slow, &mut mute] {
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut buf = [0u8; 64];
        match stream.read(&mut buf) {
            Ok(0) => {}
            Ok(n) => panic!("unexpected bytes after stop: {:?}", &buf[..n]),
            Err(err) => assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}"),
        }
    }
    assert!(
        TcpStream::connect(addr).is_err(),
        "the listener must be closed"
    );
    assert_eq!(reasons(&attempts), ["granted", "stopped", "stopped"]);
    assert_eq!(
        attempts[0].address,
        Some(format!("127.0.0.1:{silent_port}"))
    );
    assert_eq!(attempts[1].host, "");
}

#[test]
fn dropping_the_proxy_stops_it() {
    let p = start_proxy(vec![], &[]);
    let mut idle = p.connect();
    thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    drop(p.proxy);
    assert!(started.elapsed() < Duration::from_secs(1));
    idle.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    assert_eq!(idle.read(&mut [0u8; 8]).unwrap(), 0);
}

// ---------------------------------------------------------------------------------------------
// curl
// ---------------------------------------------------------------------------------------------

fn curl(args: &[&str], env: &[(String, String)]) -> std::process::Output {
    let mut command = Command::new("curl");
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(env.iter().map(|(k, v)| (k, v)))
        .args(["-sS", "--max-time", "10"])
        .args(args);
    command
        .output()
        .expect("curl must be installed to run the egress proxy tests")
}

#[test]
fn curl_through_the_proxy() {
    let origin = Origin::start();
    let p = start_proxy(vec![grant(NAME, true)], &[(NAME, LOCALHOST)]);
    let proxy_url = format!(
        "http://airlock:{}@127.0.0.1:{}",
        p.credential,
        p.addr.port()
    );
    let url = |path: &str| format!("http://{NAME}:{}/{path}", origin.port);

    // Plain HTTP forwarding.
    let out = curl(&["-x", &proxy_url, &url("plain")], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from origin /plain"
    );

    // CONNECT tunnel.
    let out = curl(&["-p", "-x", &proxy_url, &url("tunnel")], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from origin /tunnel"
    );

    // Configured only through the environment the sandbox would get.
    let env = EgressProxy::proxy_env(p.addr.port(), &p.credential);
    let out = curl(&[&url("env")], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello from origin /env"
    );

    // Wrong credential, and a refused destination.
    let wrong = format!("http://airlock:nope@127.0.0.1:{}", p.addr.port());
    let out = curl(
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-x",
            &wrong,
            &url("x"),
        ],
        &[],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "407");
    let out = curl(
        &[
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-x",
            &proxy_url,
            "http://elsewhere.test/",
        ],
        &[],
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "403");

    let heads = origin.heads();
    assert_eq!(heads.len(), 3);
    assert!(
        heads[0].starts_with("GET /plain HTTP/1.1\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        !heads
            .iter()
            .any(|h| h.to_ascii_lowercase().contains("proxy-authorization"))
    );

    let attempts = p.proxy.stop();
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.method.as_str(), a.reason.as_str()))
            .collect::<Vec<_>>(),
        [
            ("GET", "granted"),
            ("CONNECT", "granted"),
            ("GET", "granted"),
            ("GET", "bad-credential"),
            ("GET", "not-granted"),
        ]
    );
    assert_eq!(attempts[4].host, "elsewhere.test");
    assert_eq!(attempts[4].port, 80);
}
