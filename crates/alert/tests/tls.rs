//! The webhook verifies TLS: a server whose certificate chains to a private CA
//! is refused with the built-in roots and accepted with that CA as `ca_file`.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alert::Dispatcher;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

/// An HTTPS server on 127.0.0.1 answering 200; returns its port and the alert
/// ids it received over completed TLS sessions.
fn tls_server() -> (u16, Arc<Mutex<Vec<String>>>) {
    let certs = vec![CertificateDer::from_pem_file(fixtures().join("server.pem")).unwrap()];
    let key = PrivateKeyDer::from_pem_file(fixtures().join("server.key")).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let got2 = Arc::clone(&got);
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let conn = rustls::ServerConnection::new(Arc::clone(&config)).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            let mut r = BufReader::new(&mut tls);
            let mut id = String::new();
            let mut len = 0usize;
            // A failed handshake ends here (the client refused our certificate).
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end().to_string();
                if line.is_empty() {
                    let mut body = vec![0; len];
                    if r.read_exact(&mut body).is_ok() {
                        got2.lock().unwrap().push(id.clone());
                        let _ = tls.write_all(
                            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        );
                        let _ = tls.flush();
                        tls.conn.send_close_notify();
                        let _ = tls.flush();
                    }
                    break;
                }
                let lower = line.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                if let Some(v) = lower.strip_prefix("x-airlock-alert-id:") {
                    id = v.trim().to_string();
                }
            }
        }
    });
    (port, got)
}

#[test]
fn untrusted_certificate_is_refused_and_the_alert_kept() {
    let (port, got) = tls_server();
    let dir = common::state_dir("tls-untrusted");
    let cfg = common::webhook_config(
        &dir,
        &format!("https://127.0.0.1:{port}/hook"),
        1000,
        1,
        2000,
    );
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    let r = d.dispatch(&[common::alert(31, "privilege")]);
    assert_eq!((r.webhook_delivered, r.webhook_pending), (0, 1), "{r:?}");
    assert!(
        r.errors
            .iter()
            .any(|e| e.to_lowercase().contains("certificate")),
        "{r:?}"
    );
    assert!(
        got.lock().unwrap().is_empty(),
        "nothing was sent over an unverified connection"
    );
}

#[test]
fn the_configured_ca_is_trusted() {
    let (port, got) = tls_server();
    let dir = common::state_dir("tls-ca");
    let mut cfg = common::webhook_config(
        &dir,
        &format!("https://127.0.0.1:{port}/hook"),
        2000,
        1,
        4000,
    );
    cfg.webhook.as_mut().unwrap().ca_file = Some(fixtures().join("ca.pem"));
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    let r = d.dispatch(&[common::alert(32, "privilege")]);
    assert_eq!((r.webhook_delivered, r.webhook_pending), (1, 0), "{r:?}");
    assert_eq!(*got.lock().unwrap(), ["32-privilege"]);
}

#[test]
fn a_ca_for_another_name_does_not_help() {
    // The server certificate names 127.0.0.1 and localhost; reaching the same
    // server as 127.0.0.2 must fail host-name verification even with the CA.
    let (port, got) = tls_server();
    let dir = common::state_dir("tls-name");
    // Listening on 127.0.0.1 only: bind a forwarder on 127.0.0.2 to the same server.
    let fwd = TcpListener::bind("127.0.0.2:0").unwrap();
    let fport = fwd.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in fwd.incoming() {
            let Ok(c) = c else { continue };
            let up = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
            let (mut a, mut b) = (c.try_clone().unwrap(), up.try_clone().unwrap());
            std::thread::spawn(move || std::io::copy(&mut a, &mut { up }));
            std::thread::spawn(move || std::io::copy(&mut b, &mut { c }));
        }
    });
    let mut cfg = common::webhook_config(
        &dir,
        &format!("https://127.0.0.2:{fport}/hook"),
        1000,
        0,
        2000,
    );
    cfg.webhook.as_mut().unwrap().ca_file = Some(fixtures().join("ca.pem"));
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    let r = d.dispatch(&[common::alert(33, "privilege")]);
    assert_eq!((r.webhook_delivered, r.webhook_pending), (0, 1), "{r:?}");
    assert!(
        r.errors
            .iter()
            .any(|e| e.to_lowercase().contains("certificate")),
        "refused for the name, not for the connection: {r:?}"
    );
    assert!(got.lock().unwrap().is_empty());
}
