//! The syslog sink against real local listeners: UDP, a Unix datagram socket
//! (as `/dev/log` is) and TCP with octet counting. Each received line is parsed
//! as RFC 5424 here, independently of the formatter.

mod common;

use std::collections::HashMap;
use std::io::Read;
use std::net::{TcpListener, UdpSocket};
use std::os::unix::net::UnixDatagram;
use std::time::Duration;

use alert::{Alert, AlertConfig, Dispatcher};

/// The parts of one RFC 5424 line.
#[derive(Debug)]
struct Line {
    pri: u16,
    version: u8,
    timestamp: String,
    hostname: String,
    app_name: String,
    procid: String,
    msgid: String,
    sd_id: String,
    params: HashMap<String, String>,
    msg: String,
}

/// Parses `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG]`
/// with one SD-ELEMENT, unescaping `\"`, `\\` and `\]` in values.
fn parse(line: &str) -> Line {
    assert!(!line.contains('\n') && !line.contains('\0'), "{line:?}");
    let rest = line.strip_prefix('<').expect("PRI");
    let (pri, rest) = rest.split_once('>').unwrap();
    let mut f = rest.splitn(7, ' ');
    let version = f.next().unwrap().parse().unwrap();
    let timestamp = f.next().unwrap().to_string();
    let hostname = f.next().unwrap().to_string();
    let app_name = f.next().unwrap().to_string();
    let procid = f.next().unwrap().to_string();
    let msgid = f.next().unwrap().to_string();
    let sd = f.next().unwrap();
    let mut chars = sd.chars().peekable();
    assert_eq!(chars.next(), Some('['));
    let sd_id: String = chars.by_ref().take_while(|c| *c != ' ').collect();
    let mut params = HashMap::new();
    loop {
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert_eq!(chars.next(), Some('"'));
        let mut value = String::new();
        loop {
            match chars.next().expect("unterminated value") {
                '\\' => match chars.peek() {
                    Some('"' | '\\' | ']') => value.push(chars.next().unwrap()),
                    _ => value.push('\\'),
                },
                '"' => break,
                c => value.push(c),
            }
        }
        params.insert(name, value);
        match chars.next() {
            Some(' ') => continue,
            Some(']') => break,
            other => panic!("after a param: {other:?}"),
        }
    }
    let msg: String = chars.collect();
    Line {
        pri: pri.parse().unwrap(),
        version,
        timestamp,
        hostname,
        app_name,
        procid,
        msgid,
        sd_id,
        params,
        msg: msg.strip_prefix(' ').unwrap_or(&msg).to_string(),
    }
}

fn config(target: &str) -> AlertConfig {
    AlertConfig::from_toml_str(&format!(
        "[alerts.stderr]\nenabled = false\n[alerts.syslog]\ntarget = \"{target}\"\napp_name = \"airlock-test\"\nfacility = \"auth\"\ntimeout_ms = 1000\n"
    ))
    .unwrap()
}

fn hostile() -> Alert {
    let mut a = common::alert(57, "privilege");
    a.summary =
        "privilege escalation (denied): sudo sh -c 'x'\n<13>1 - forged - - - - injected\0".into();
    a.session = Some("s-\"evil\"] [x".into());
    a
}

fn check(l: &Line, a: &Alert) {
    assert_eq!(l.pri, 4 * 8 + 3, "facility auth, severity err for high");
    assert_eq!(l.version, 1);
    assert_eq!(l.timestamp, a.time);
    assert_ne!(l.hostname, "");
    assert_eq!(l.app_name, "airlock-test");
    assert_eq!(l.procid, std::process::id().to_string());
    assert_eq!(l.msgid, a.rule);
    assert_eq!(l.sd_id, "airlock@32473");
    assert_eq!(l.params["index"], a.subject_index.to_string());
    assert_eq!(l.params["leaf"], a.subject_leaf);
    assert_eq!(l.params["id"], a.id);
    assert_eq!(l.params["severity"], "high");
    assert_eq!(l.params.get("session"), a.session.as_ref());
    assert!(
        l.msg
            .starts_with("privilege escalation (denied): sudo sh -c 'x'"),
        "{:?}",
        l.msg
    );
    assert!(
        l.msg.contains("\\u{a}<13>1 - forged"),
        "the newline is escaped: {:?}",
        l.msg
    );
}

#[test]
fn udp() {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let port = sock.local_addr().unwrap().port();
    let dir = common::state_dir("syslog-udp");
    let d = Dispatcher::new(&config(&format!("udp:127.0.0.1:{port}")), &dir).unwrap();
    let alerts = [hostile(), common::alert(58, "opaque")];
    let r = d.dispatch(&alerts);
    assert_eq!(r.syslog, 2, "{r:?}");
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).unwrap();
    check(&parse(std::str::from_utf8(&buf[..n]).unwrap()), &alerts[0]);
    let n = sock.recv(&mut buf).unwrap();
    let l = parse(std::str::from_utf8(&buf[..n]).unwrap());
    assert_eq!(l.params["index"], "58");
    assert_eq!(l.msgid, "opaque");
}

#[test]
fn unix_datagram() {
    let dir = common::state_dir("syslog-unix");
    let path = dir.join("log.sock");
    let sock = UnixDatagram::bind(&path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let d = Dispatcher::new(&config(&format!("unix:{}", path.display())), &dir).unwrap();
    let a = hostile();
    let r = d.dispatch(std::slice::from_ref(&a));
    assert_eq!(r.syslog, 1, "{r:?}");
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).unwrap();
    check(&parse(std::str::from_utf8(&buf[..n]).unwrap()), &a);
}

#[test]
fn tcp_octet_counting() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let reader = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut all = Vec::new();
        c.read_to_end(&mut all).unwrap();
        all
    });
    let dir = common::state_dir("syslog-tcp");
    let d = Dispatcher::new(&config(&format!("tcp:127.0.0.1:{port}")), &dir).unwrap();
    let alerts = [hostile(), common::alert(59, "destructive")];
    let r = d.dispatch(&alerts);
    assert_eq!(r.syslog, 2, "{r:?}");
    drop(d);
    let stream = reader.join().unwrap();
    // MSG-LEN SP SYSLOG-MSG, repeated.
    let mut frames = Vec::new();
    let mut rest = &stream[..];
    while !rest.is_empty() {
        let sp = rest.iter().position(|b| *b == b' ').unwrap();
        let len: usize = std::str::from_utf8(&rest[..sp]).unwrap().parse().unwrap();
        frames.push(
            std::str::from_utf8(&rest[sp + 1..sp + 1 + len])
                .unwrap()
                .to_string(),
        );
        rest = &rest[sp + 1 + len..];
    }
    assert_eq!(frames.len(), 2);
    check(&parse(&frames[0]), &alerts[0]);
    assert_eq!(parse(&frames[1]).params["index"], "59");
}

#[test]
fn a_dead_syslog_target_is_reported_and_bounded() {
    let dir = common::state_dir("syslog-dead");
    // A socket path nobody listens on.
    let d = Dispatcher::new(
        &config(&format!("unix:{}", dir.join("nobody.sock").display())),
        &dir,
    )
    .unwrap();
    let t = std::time::Instant::now();
    let r = d.dispatch(&[common::alert(60, "opaque")]);
    assert!(t.elapsed() < Duration::from_secs(2));
    assert_eq!(r.syslog, 0);
    assert!(r.durable(), "the outbox has it anyway");
    assert!(r.errors.iter().any(|e| e.contains("nobody.sock")), "{r:?}");
}
