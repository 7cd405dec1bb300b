//! The webhook never goes through the proxy named in the environment (the
//! sandbox's egress proxy is configured that way). Its own test binary: it
//! changes the process environment, which no other test may observe.

mod common;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use alert::Dispatcher;
use common::{Mode, Server, alert, state_dir, webhook_config};

#[test]
fn proxy_variables_are_ignored() {
    // A "proxy" that counts every connection it gets.
    let proxy = TcpListener::bind("127.0.0.1:0").unwrap();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.local_addr().unwrap().port());
    let hits = Arc::new(AtomicUsize::new(0));
    let h = Arc::clone(&hits);
    std::thread::spawn(move || {
        for c in proxy.incoming() {
            h.fetch_add(1, Ordering::SeqCst);
            drop(c);
        }
    });
    for name in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        // SAFETY: this binary's only test; no other thread reads the environment now.
        unsafe { std::env::set_var(name, &proxy_url) };
    }
    for name in ["NO_PROXY", "no_proxy"] {
        // SAFETY: as above.
        unsafe { std::env::remove_var(name) };
    }

    let server = Server::start(Mode::Status(200));
    let dir = state_dir("proxy-env");
    let d = Dispatcher::new(&webhook_config(&dir, &server.url(), 1000, 0, 2000), &dir).unwrap();
    let r = d.dispatch(&[alert(40, "egress_denied")]);
    assert_eq!(r.webhook_delivered, 1, "{r:?}");
    assert_eq!(server.delivered().len(), 1);
    assert_eq!(hits.load(Ordering::SeqCst), 0, "nothing went to the proxy");
}
