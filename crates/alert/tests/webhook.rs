//! The webhook sink against a real HTTP server on 127.0.0.1.

mod common;

use std::time::{Duration, Instant, SystemTime};

use alert::Dispatcher;
use alert::dispatch::GRACE;
use common::{Mode, Server, alert, ids, state_dir, webhook_config};

#[test]
fn delivers_a_signed_alert_once_and_records_the_cursor() {
    let server = Server::start(Mode::Status(200));
    let dir = state_dir("deliver");
    let cfg = webhook_config(&dir, &server.url(), 2000, 2, 5000);
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    let a = alert(12, "privilege");

    let r = d.dispatch(std::slice::from_ref(&a));
    assert!(r.durable(), "{r:?}");
    assert_eq!(
        (r.queued, r.webhook_delivered, r.webhook_pending),
        (1, 1, 0),
        "{r:?}"
    );
    assert!(r.errors.is_empty(), "{r:?}");

    let got = server.delivered();
    assert_eq!(got.len(), 1);
    let req = &got[0];
    assert!(
        req.signature_ok,
        "the HMAC over <timestamp>.<body> verifies"
    );
    assert_eq!(req.headers["content-type"], "application/cloudevents+json");
    assert_eq!(req.headers["x-airlock-alert-id"], "12-privilege");
    // The library's verifier agrees, and the timestamp is current.
    assert!(alert::webhook::verify_signature(
        common::SECRET,
        &req.headers["x-airlock-timestamp"],
        &req.body,
        &req.headers["x-airlock-signature"],
        SystemTime::now(),
        Duration::from_secs(60),
    ));
    // The same request with another key does not verify.
    assert!(!alert::webhook::verify_signature(
        b"another key",
        &req.headers["x-airlock-timestamp"],
        &req.body,
        &req.headers["x-airlock-signature"],
        SystemTime::now(),
        Duration::from_secs(60),
    ));
    let ev = req.json();
    assert_eq!(ev["type"], "dev.airlock.alert");
    assert_eq!(ev["id"], "12-privilege");
    assert_eq!(
        req.alert(),
        a,
        "the event's data is the alert, index, leaf and checkpoint included"
    );

    // The outbox keeps the alert as a JSON line; the cursor marks it delivered.
    let text = std::fs::read_to_string(d.outbox_path()).unwrap();
    assert_eq!(text.lines().count(), 1);
    assert_eq!(
        serde_json::from_str::<alert::Alert>(text.trim()).unwrap(),
        a
    );
    assert!(
        std::fs::read_to_string(d.cursor_path())
            .unwrap()
            .contains("12-privilege")
    );
    assert!(d.pending().unwrap().is_empty());

    // A later flush sends nothing again.
    let r = d.flush_outbox(Duration::from_secs(2));
    assert_eq!(r.webhook_delivered, 0, "{r:?}");
    assert_eq!(server.all_requests().len(), 1);
}

#[test]
fn a_failing_webhook_loses_nothing_and_does_not_hold_up_execution() {
    let server = Server::start(Mode::Status(500));
    let dir = state_dir("fail500");
    // 3 tries of up to 300 ms each, 1 s for everything.
    let cfg = webhook_config(&dir, &server.url(), 300, 2, 1000);
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    let alerts = [alert(3, "destructive"), alert(4, "opaque")];

    let t = Instant::now();
    let r = d.dispatch(&alerts);
    let took = t.elapsed();
    assert!(
        took < Duration::from_millis(1000) + GRACE + Duration::from_millis(500),
        "{took:?}"
    );
    assert!(r.durable());
    assert_eq!(r.webhook_delivered, 0);
    assert_eq!(r.webhook_pending, 2, "{r:?}");
    assert!(r.errors.iter().any(|e| e.contains("HTTP 500")), "{r:?}");
    // It did retry: 1 try + 2 retries for the first alert, then stopped the round.
    assert_eq!(server.all_requests().len(), 3);
    assert_eq!(ids(&d.pending().unwrap()), ["3-destructive", "4-opaque"]);

    // A later process (a new dispatcher) flushes once the receiver is healthy.
    server.set_mode(Mode::Status(204));
    let later = Dispatcher::new(&cfg, &dir).unwrap();
    let r = later.flush_outbox(Duration::from_secs(3));
    assert_eq!((r.webhook_delivered, r.webhook_pending), (2, 0), "{r:?}");
    let got = server.delivered();
    assert_eq!(
        got.iter().map(|g| g.alert().id).collect::<Vec<_>>(),
        ["3-destructive", "4-opaque"]
    );
    assert!(got.iter().all(|g| g.signature_ok));
    assert!(later.pending().unwrap().is_empty());
}

#[test]
fn a_hanging_webhook_is_cut_at_the_deadline() {
    let server = Server::start(Mode::Hang);
    let dir = state_dir("hang");
    // Each try may take 5 s, but the whole round only 800 ms.
    let cfg = webhook_config(&dir, &server.url(), 5000, 2, 800);
    let d = Dispatcher::new(&cfg, &dir).unwrap();

    let t = Instant::now();
    let r = d.dispatch(&[alert(9, "production")]);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(700),
        "it waited for the server: {took:?}"
    );
    assert!(
        took < Duration::from_millis(800) + GRACE + Duration::from_millis(500),
        "{took:?}"
    );
    assert!(r.durable());
    assert_eq!((r.webhook_delivered, r.webhook_pending), (0, 1), "{r:?}");
    assert!(server.connections() >= 1, "the request reached the server");

    server.set_mode(Mode::Status(200));
    let r = Dispatcher::new(&cfg, &dir)
        .unwrap()
        .flush_outbox(Duration::from_secs(3));
    assert_eq!((r.webhook_delivered, r.webhook_pending), (1, 0), "{r:?}");
    assert_eq!(server.delivered().len(), 1);
    assert_eq!(server.delivered()[0].alert().id, "9-production");
}

#[test]
fn a_short_lived_process_leaves_its_alert_for_the_next_one() {
    // Nothing listens yet: connection refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let dir = state_dir("refused");
    let cfg = webhook_config(&dir, &format!("http://127.0.0.1:{port}/hook"), 300, 1, 1000);
    {
        let first = Dispatcher::new(&cfg, &dir).unwrap();
        let r = first.dispatch(&[alert(1, "egress_denied")]);
        assert!(r.durable());
        assert_eq!(r.webhook_pending, 1, "{r:?}");
    } // the first process ends

    let server = Server::start_on(
        std::net::TcpListener::bind(("127.0.0.1", port)).unwrap(),
        Mode::Status(200),
    );
    // The next process's own dispatch delivers the old alert too, oldest first.
    let next = Dispatcher::new(&cfg, &dir).unwrap();
    let r = next.dispatch(&[alert(2, "privilege")]);
    assert_eq!((r.webhook_delivered, r.webhook_pending), (2, 0), "{r:?}");
    let got: Vec<String> = server.delivered().iter().map(|g| g.alert().id).collect();
    assert_eq!(got, ["1-egress_denied", "2-privilege"]);
}

#[test]
fn a_refused_alert_stays_but_does_not_block_the_others() {
    let server = Server::start(Mode::Status(200));
    server.refuse("5-opaque", 400);
    let dir = state_dir("refuse4xx");
    let cfg = webhook_config(&dir, &server.url(), 1000, 2, 3000);
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    let r = d.dispatch(&[alert(5, "opaque"), alert(6, "privilege")]);
    assert_eq!(
        (r.webhook_delivered, r.webhook_refused, r.webhook_pending),
        (1, 1, 1),
        "{r:?}"
    );
    // A 400 is not retried.
    assert_eq!(
        server
            .all_requests()
            .iter()
            .filter(|q| q.headers["x-airlock-alert-id"] == "5-opaque")
            .count(),
        1
    );
    assert_eq!(ids(&d.pending().unwrap()), ["5-opaque"]);
    // Once the receiver accepts it, it goes out.
    server.refuse("5-opaque", 202);
    let r = d.flush_outbox(Duration::from_secs(2));
    assert_eq!((r.webhook_delivered, r.webhook_pending), (1, 0), "{r:?}");
}

#[test]
fn concurrent_processes_keep_the_outbox_whole_and_deliver_each_alert_once() {
    let server = Server::start(Mode::Status(200));
    let dir = state_dir("concurrent");
    let cfg = webhook_config(&dir, &server.url(), 2000, 2, 8000);
    let handles: Vec<_> = (0..6u64)
        .map(|p| {
            let cfg = cfg.clone();
            let dir = dir.clone();
            std::thread::spawn(move || {
                let d = Dispatcher::new(&cfg, &dir).unwrap();
                for i in 0..5 {
                    let r = d.dispatch(&[alert(p * 100 + i, "destructive")]);
                    assert!(r.durable(), "{r:?}");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    d.flush_outbox(Duration::from_secs(5));
    let all = d.outbox_alerts().unwrap();
    assert_eq!(all.len(), 30, "every line parses");
    assert!(d.pending().unwrap().is_empty());
    let mut got: Vec<String> = server.delivered().iter().map(|g| g.alert().id).collect();
    got.sort();
    let mut want: Vec<String> = all.iter().map(|a| a.id.clone()).collect();
    want.sort();
    assert_eq!(got, want, "each alert delivered exactly once");
}

#[test]
fn rotation_moves_delivered_alerts_and_keeps_pending_ones() {
    let server = Server::start(Mode::Status(200));
    let dir = state_dir("rotate");
    let mut cfg = webhook_config(&dir, &server.url(), 1000, 0, 3000);
    cfg.outbox.rotate_bytes = 4096;
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    for i in 0..10 {
        assert_eq!(d.dispatch(&[alert(i, "opaque")]).webhook_delivered, 1);
    }
    // The file was rotated at least once: the outbox stays small.
    let size = std::fs::metadata(d.outbox_path()).unwrap().len();
    assert!(size <= 4096 + 1024, "{size}");
    let rotated = std::path::PathBuf::from(format!("{}.1", d.outbox_path().display()));
    assert!(rotated.exists());

    // With the receiver down, pending alerts are never rotated away.
    server.set_mode(Mode::Status(503));
    let mut cfg2 = cfg.clone();
    cfg2.webhook.as_mut().unwrap().retries = 0;
    let d = Dispatcher::new(&cfg2, &dir).unwrap();
    for i in 100..120 {
        d.dispatch(&[alert(i, "opaque")]);
    }
    let pending = ids(&d.pending().unwrap());
    assert_eq!(pending.len(), 20);
    assert_eq!(pending[0], "100-opaque");
    server.set_mode(Mode::Status(200));
    let r = d.flush_outbox(Duration::from_secs(5));
    assert_eq!((r.webhook_delivered, r.webhook_pending), (20, 0), "{r:?}");
}

#[test]
fn an_unwritable_outbox_still_notifies_and_says_so() {
    let server = Server::start(Mode::Status(200));
    let dir = state_dir("unwritable");
    // The outbox's directory is a regular file: nothing can be created in it.
    std::fs::write(dir.join("blocker"), b"x").unwrap();
    let mut cfg = webhook_config(&dir, &server.url(), 1000, 0, 2000);
    cfg.outbox.path = Some(dir.join("blocker/outbox.jsonl"));
    let d = Dispatcher::new(&cfg, &dir).unwrap();
    let r = d.dispatch(&[alert(77, "privilege")]);
    assert!(!r.durable());
    assert_eq!(r.queued, 0);
    assert!(r.errors.iter().any(|e| e.contains("not durable")), "{r:?}");
    assert_eq!(r.webhook_delivered, 1, "{r:?}");
    assert_eq!(server.delivered()[0].alert().id, "77-privilege");
}

#[test]
fn plain_http_is_refused_for_remote_hosts_and_bad_secrets_fail_early() {
    let dir = state_dir("config");
    let bad = alert::AlertConfig::from_toml_str(&format!(
        "[alerts.webhook]\nurl = \"http://192.0.2.10/hook\"\nsecret_file = \"{}\"\n",
        dir.join("webhook.secret").display()
    ));
    assert!(bad.unwrap_err().to_string().contains("loopback"));
    let cfg = webhook_config(&dir, "https://192.0.2.10/hook", 100, 0, 100);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.join("webhook.secret"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let e = Dispatcher::new(&cfg, &dir)
        .err()
        .expect("a world-readable secret is refused");
    assert!(e.to_string().contains("other users"), "{e}");
}

#[test]
fn post_text_sends_once_with_the_same_transport_rules() {
    let server = Server::start(Mode::Status(200));
    let note = "airlock.example/log\n12\nq83jfkd=\n\n— airlock Az3k\n";
    alert::webhook::post_text(&server.url(), note, Duration::from_secs(2), None).unwrap();
    let got = server.delivered();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body, note.as_bytes());
    assert_eq!(got[0].headers["content-type"], "text/plain; charset=utf-8");

    server.set_mode(Mode::Status(500));
    let e =
        alert::webhook::post_text(&server.url(), note, Duration::from_secs(2), None).unwrap_err();
    assert!(e.to_string().contains("HTTP 500"), "{e}");
    let e = alert::webhook::post_text("http://192.0.2.1/x", note, Duration::from_secs(2), None)
        .unwrap_err();
    assert!(e.to_string().contains("loopback"), "{e}");
    assert_eq!(server.all_requests().len(), 2);
}
