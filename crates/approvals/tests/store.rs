//! The approvals store against real SQLite files in private temporary directories.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use approvals::{
    Decision, Error, EventKind, Identity, MAX_SESSION_WINDOW, NewApproval, Role, Status, Store,
    UnixMs,
};

// ---- fixtures ----

/// A private (0700) directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let p = std::env::temp_dir().join(format!(
            "approvals-test-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir(&p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o700)).unwrap();
        TempDir(p)
    }

    fn db(&self) -> PathBuf {
        self.0.join("approvals.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

const T0: UnixMs = UnixMs(1_800_000_000_000);

fn at(secs: u64) -> UnixMs {
    T0.plus(Duration::from_secs(secs))
}

fn digest(n: u8) -> String {
    format!("sha256:{}", format!("{n:02x}").repeat(32))
}

fn agent() -> Identity {
    Identity::new("agent-7", Role::Agent)
}

fn alice() -> Identity {
    Identity::new("alice", Role::Approver)
}

fn bob() -> Identity {
    Identity::new("bob", Role::Approver)
}

fn new_approval(session: Option<&str>) -> NewApproval {
    let mut n = NewApproval::new("req-1", digest(1), agent(), "rm -rf build/ on the CI host");
    n.session = session.map(str::to_string);
    n.target = Some("ci-host".into());
    n.env = Some("dev".into());
    n
}

fn open(dir: &TempDir) -> Store {
    Store::open(dir.db()).expect("open store")
}

fn kinds(store: &Store, id: &str) -> Vec<EventKind> {
    store
        .events(id)
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect()
}

fn mode(p: &Path) -> u32 {
    fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

// ---- requests ----

#[test]
fn request_is_pending_with_random_id_and_expiry() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let a = store.request(&new_approval(Some("s1")), T0).unwrap();
    assert_eq!(a.status, Status::Pending);
    assert_eq!(a.created_at, T0);
    assert_eq!(a.expires_at, at(30 * 60), "default ttl is 30 minutes");
    assert_eq!(a.id.len(), 32);
    assert!(a.id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(a.requester, agent());
    assert_eq!(a.session.as_deref(), Some("s1"));
    assert_eq!(a.uses, 0);
    assert!(a.decisions.is_empty());
    let b = store.request(&new_approval(None), T0).unwrap();
    assert_ne!(a.id, b.id);
    assert_eq!(store.get(&a.id).unwrap(), a);
    assert_eq!(kinds(&store, &a.id), [EventKind::Requested]);
    let pending: Vec<String> = store.pending().unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(pending.len(), 2);
    assert!(pending.contains(&a.id) && pending.contains(&b.id));
}

#[test]
fn invalid_requests_are_refused() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let mut n = new_approval(None);
    n.required_approvals = 3;
    assert!(matches!(store.request(&n, T0), Err(Error::Invalid(_))));
    let mut n = new_approval(None);
    n.required_approvals = 0;
    assert!(matches!(store.request(&n, T0), Err(Error::Invalid(_))));
    for bad in [
        "",
        "sha256:",
        "sha256:ABCD",
        "md5:00",
        &digest(1).to_uppercase(),
    ] {
        let mut n = new_approval(None);
        n.digest = bad.to_string();
        assert!(
            matches!(store.request(&n, T0), Err(Error::Invalid(_))),
            "{bad:?}"
        );
    }
    let mut n = new_approval(None);
    n.ttl = Duration::ZERO;
    assert!(matches!(store.request(&n, T0), Err(Error::Invalid(_))));
    let mut n = new_approval(None);
    n.requester.name = "evil\u{1b}[2J".into();
    assert!(matches!(store.request(&n, T0), Err(Error::Invalid(_))));
    assert!(store.pending().unwrap().is_empty());
}

// ---- who may decide ----

#[test]
fn agent_cannot_approve_or_deny() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let a = store.request(&new_approval(None), T0).unwrap();
    // Another agent, not the requester: still refused for its role.
    let other_agent = Identity::new("agent-9", Role::Agent);
    for d in [
        Decision::Approve,
        Decision::Deny,
        Decision::ApproveForSession { until: at(600) },
    ] {
        let err = store
            .decide(&a.id, &other_agent, d, None, at(1))
            .unwrap_err();
        assert!(matches!(err, Error::AgentCannotDecide { .. }), "{err}");
    }
    let now = store.get(&a.id).unwrap();
    assert_eq!(now.status, Status::Pending);
    assert!(now.decisions.is_empty());
    assert!(matches!(
        store.consume(&a.id, &digest(1), None, at(2)),
        Err(Error::NotApproved {
            status: Status::Pending,
            ..
        })
    ));
}

#[test]
fn requester_cannot_approve_their_own() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    // A person who is an approver asks for something; they cannot approve it
    // themselves, under any spelling of their name.
    let mut n = new_approval(None);
    n.requester = alice();
    let a = store.request(&n, T0).unwrap();
    for name in ["alice", "Alice", " ALICE "] {
        let me = Identity::new(name, Role::Admin);
        let err = store
            .decide(&a.id, &me, Decision::Approve, None, at(1))
            .unwrap_err();
        assert!(matches!(err, Error::RequesterCannotDecide { .. }), "{err}");
    }
    assert_eq!(store.get(&a.id).unwrap().status, Status::Pending);
    let ok = store
        .decide(&a.id, &bob(), Decision::Approve, None, at(2))
        .unwrap();
    assert_eq!(ok.status, Status::Approved);
}

// ---- expiry ----

#[test]
fn expired_is_expired_not_denied() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let mut n = new_approval(None);
    n.ttl = Duration::from_secs(60);
    let a = store.request(&n, T0).unwrap();
    let err = store
        .decide(&a.id, &alice(), Decision::Approve, None, at(60))
        .unwrap_err();
    assert!(
        matches!(err, Error::Expired { ref id, at: when } if *id == a.id && when == at(60)),
        "{err}"
    );
    // The refused decision's transaction recorded the expiry, and committed it.
    drop(store);
    let mut store = open(&dir);
    let now = store.get(&a.id).unwrap();
    assert_eq!(now.status, Status::Expired);
    assert!(now.decisions.is_empty(), "no decision was recorded");
    let events = store.events(&a.id).unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Requested, EventKind::Expired]);
    assert_eq!(
        events[1].actor.as_ref(),
        Some(&alice()),
        "who found it late"
    );
    assert!(!kinds.contains(&EventKind::Deny));
    // Now it is simply not pending, and never usable.
    assert!(matches!(
        store.decide(&a.id, &bob(), Decision::Approve, None, at(61)),
        Err(Error::NotPending {
            status: Status::Expired,
            ..
        })
    ));
    assert!(matches!(
        store.consume(&a.id, &digest(1), None, at(62)),
        Err(Error::NotApproved {
            status: Status::Expired,
            ..
        })
    ));
    // A deny that arrives late is also refused as expired, not recorded as a deny.
    let b = store.request(&n, T0).unwrap();
    assert!(matches!(
        store.decide(&b.id, &alice(), Decision::Deny, None, at(100)),
        Err(Error::Expired { .. })
    ));
    assert_eq!(store.get(&b.id).unwrap().status, Status::Expired);
}

#[test]
fn decision_just_before_expiry_counts() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let mut n = new_approval(None);
    n.ttl = Duration::from_secs(60);
    let a = store.request(&n, T0).unwrap();
    let ok = store
        .decide(
            &a.id,
            &alice(),
            Decision::Approve,
            None,
            at(60).minus(Duration::from_millis(1)),
        )
        .unwrap();
    assert_eq!(ok.status, Status::Approved);
}

#[test]
fn approved_but_unused_expires_too() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let mut n = new_approval(None);
    n.ttl = Duration::from_secs(60);
    let a = store.request(&n, T0).unwrap();
    store
        .decide(&a.id, &alice(), Decision::Approve, None, at(10))
        .unwrap();
    let err = store.consume(&a.id, &digest(1), None, at(60)).unwrap_err();
    assert!(matches!(err, Error::Expired { .. }), "{err}");
    assert_eq!(store.get(&a.id).unwrap().status, Status::Expired);
    assert!(matches!(
        store.consume(&a.id, &digest(1), None, at(61)),
        Err(Error::NotApproved {
            status: Status::Expired,
            ..
        })
    ));
}

#[test]
fn expire_due_sweeps_what_is_late_and_returns_it() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let mut short = new_approval(None);
    short.ttl = Duration::from_secs(60);
    let late_pending = store.request(&short, T0).unwrap();
    let late_approved = store.request(&short, T0).unwrap();
    store
        .decide(&late_approved.id, &alice(), Decision::Approve, None, at(5))
        .unwrap();
    let used = store.request(&short, T0).unwrap();
    store
        .decide(&used.id, &alice(), Decision::Approve, None, at(5))
        .unwrap();
    store.consume(&used.id, &digest(1), None, at(6)).unwrap();
    let denied = store.request(&short, T0).unwrap();
    store
        .decide(&denied.id, &alice(), Decision::Deny, None, at(5))
        .unwrap();
    let fresh = store.request(&new_approval(None), T0).unwrap();

    assert!(store.expire_due(at(59)).unwrap().is_empty());
    let swept = store.expire_due(at(60)).unwrap();
    let mut ids: Vec<&str> = swept.iter().map(|a| a.id.as_str()).collect();
    ids.sort();
    let mut want = vec![late_pending.id.as_str(), late_approved.id.as_str()];
    want.sort();
    assert_eq!(ids, want);
    assert!(swept.iter().all(|a| a.status == Status::Expired));
    assert!(store.expire_due(at(61)).unwrap().is_empty(), "only once");
    assert_eq!(store.get(&used.id).unwrap().status, Status::Consumed);
    assert_eq!(store.get(&denied.id).unwrap().status, Status::Denied);
    assert_eq!(store.get(&fresh.id).unwrap().status, Status::Pending);
    assert_eq!(
        kinds(&store, &late_pending.id),
        [EventKind::Requested, EventKind::Expired]
    );
    let sweeper_event = store.events(&late_pending.id).unwrap().pop().unwrap();
    assert_eq!(sweeper_event.actor, None);
    assert_eq!(sweeper_event.at, at(60));
}

// ---- use ----

#[test]
fn single_use() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let a = store.request(&new_approval(Some("s1")), T0).unwrap();
    let approved = store
        .decide(
            &a.id,
            &alice(),
            Decision::Approve,
            Some("looks fine".into()),
            at(5),
        )
        .unwrap();
    assert_eq!(approved.status, Status::Approved);
    assert_eq!(approved.decided_at, Some(at(5)));
    assert_eq!(approved.decisions.len(), 1);
    assert_eq!(approved.decisions[0].approver, alice());
    assert_eq!(approved.decisions[0].decision, Decision::Approve);
    assert_eq!(approved.decisions[0].comment.as_deref(), Some("looks fine"));
    assert_eq!(approved.decisions[0].at, at(5));

    let used = store.consume(&a.id, &digest(1), Some("s1"), at(6)).unwrap();
    assert_eq!(used.status, Status::Consumed);
    assert_eq!(used.uses, 1);
    let err = store
        .consume(&a.id, &digest(1), Some("s1"), at(7))
        .unwrap_err();
    assert!(matches!(err, Error::AlreadyConsumed { .. }), "{err}");
    assert_eq!(store.get(&a.id).unwrap().uses, 1);
    assert_eq!(
        kinds(&store, &a.id),
        [EventKind::Requested, EventKind::Approve, EventKind::Used]
    );
}

#[test]
fn digest_mismatch_refuses_without_consuming() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let a = store.request(&new_approval(None), T0).unwrap();
    store
        .decide(&a.id, &alice(), Decision::Approve, None, at(5))
        .unwrap();
    let err = store.consume(&a.id, &digest(2), None, at(6)).unwrap_err();
    match &err {
        Error::DigestMismatch { approved, got, .. } => {
            assert_eq!(*approved, digest(1));
            assert_eq!(*got, digest(2));
        }
        other => panic!("expected a digest mismatch, got {other}"),
    }
    // A prefix of the approved digest is a mismatch too.
    assert!(matches!(
        store.consume(&a.id, &digest(1)[..20], None, at(6)),
        Err(Error::DigestMismatch { .. })
    ));
    let still = store.get(&a.id).unwrap();
    assert_eq!(still.status, Status::Approved);
    assert_eq!(still.uses, 0);
    assert!(!kinds(&store, &a.id).contains(&EventKind::Used));
    // The right bytes still run, once.
    assert_eq!(
        store
            .consume(&a.id, &digest(1), None, at(7))
            .unwrap()
            .status,
        Status::Consumed
    );
}

#[test]
fn session_is_bound_for_single_use_too() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let a = store.request(&new_approval(Some("s1")), T0).unwrap();
    store
        .decide(&a.id, &alice(), Decision::Approve, None, at(5))
        .unwrap();
    for other in [None, Some("s2"), Some("S1")] {
        assert!(
            matches!(
                store.consume(&a.id, &digest(1), other, at(6)),
                Err(Error::SessionMismatch { .. })
            ),
            "{other:?}"
        );
    }
    assert_eq!(store.get(&a.id).unwrap().uses, 0);
    store.consume(&a.id, &digest(1), Some("s1"), at(7)).unwrap();
}

// ---- two approvers, deny ----

#[test]
fn two_approver_flow_needs_two_distinct_approvers() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let mut n = new_approval(None);
    n.required_approvals = 2;
    n.env = Some("prod".into());
    let a = store.request(&n, T0).unwrap();

    let first = store
        .decide(&a.id, &alice(), Decision::Approve, None, at(1))
        .unwrap();
    assert_eq!(first.status, Status::Pending);
    assert_eq!(first.approvals_so_far(), 1);
    assert_eq!(first.decided_at, None);
    // Not usable with one approval.
    assert!(matches!(
        store.consume(&a.id, &digest(1), None, at(2)),
        Err(Error::NotApproved {
            status: Status::Pending,
            ..
        })
    ));
    // The same person again (any spelling, any role) does not count twice.
    for again in [alice(), Identity::new("ALICE", Role::Admin)] {
        let err = store
            .decide(&a.id, &again, Decision::Approve, None, at(3))
            .unwrap_err();
        assert!(matches!(err, Error::AlreadyApprovedBy { .. }), "{err}");
    }
    assert_eq!(store.get(&a.id).unwrap().status, Status::Pending);
    // Nor can the requester or an agent be the second.
    assert!(matches!(
        store.decide(&a.id, &agent(), Decision::Approve, None, at(4)),
        Err(Error::AgentCannotDecide { .. })
    ));
    let second = store
        .decide(&a.id, &bob(), Decision::Approve, None, at(5))
        .unwrap();
    assert_eq!(second.status, Status::Approved);
    assert_eq!(second.decided_at, Some(at(5)));
    let who: Vec<&str> = second
        .decisions
        .iter()
        .map(|d| d.approver.name.as_str())
        .collect();
    assert_eq!(who, ["alice", "bob"]);
    store.consume(&a.id, &digest(1), None, at(6)).unwrap();
}

#[test]
fn deny_wins() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let mut n = new_approval(None);
    n.required_approvals = 2;
    let a = store.request(&n, T0).unwrap();
    store
        .decide(&a.id, &alice(), Decision::Approve, None, at(1))
        .unwrap();
    let denied = store
        .decide(
            &a.id,
            &bob(),
            Decision::Deny,
            Some("not on a Friday".into()),
            at(2),
        )
        .unwrap();
    assert_eq!(denied.status, Status::Denied);
    assert_eq!(denied.decisions.len(), 2);
    assert_eq!(denied.decisions[1].decision, Decision::Deny);
    assert_eq!(
        denied.decisions[1].comment.as_deref(),
        Some("not on a Friday")
    );
    let carol = Identity::new("carol", Role::Approver);
    assert!(matches!(
        store.decide(&a.id, &carol, Decision::Approve, None, at(3)),
        Err(Error::NotPending {
            status: Status::Denied,
            ..
        })
    ));
    assert!(matches!(
        store.consume(&a.id, &digest(1), None, at(4)),
        Err(Error::NotApproved {
            status: Status::Denied,
            ..
        })
    ));

    // With one approver, a deny first leaves nothing to approve.
    let b = store.request(&new_approval(None), T0).unwrap();
    store
        .decide(&b.id, &alice(), Decision::Deny, None, at(1))
        .unwrap();
    assert!(matches!(
        store.decide(&b.id, &bob(), Decision::Approve, None, at(2)),
        Err(Error::NotPending { .. })
    ));
    // And an approval, once given, is not turned into a deny afterwards either:
    // decisions are final.
    let c = store.request(&new_approval(None), T0).unwrap();
    store
        .decide(&c.id, &alice(), Decision::Approve, None, at(1))
        .unwrap();
    assert!(matches!(
        store.decide(&c.id, &bob(), Decision::Deny, None, at(2)),
        Err(Error::NotPending {
            status: Status::Approved,
            ..
        })
    ));
}

// ---- approve for this session ----

#[test]
fn approve_for_session_reuses_same_digest_same_session_within_time_only() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let a = store.request(&new_approval(Some("s1")), T0).unwrap();
    let until = at(10 * 60);
    let approved = store
        .decide(
            &a.id,
            &alice(),
            Decision::ApproveForSession { until },
            None,
            at(1),
        )
        .unwrap();
    assert_eq!(approved.status, Status::Approved);
    assert_eq!(approved.session_until, Some(until));

    for (i, t) in [2, 100, 599].into_iter().enumerate() {
        let used = store.consume(&a.id, &digest(1), Some("s1"), at(t)).unwrap();
        assert_eq!(used.uses, i as u32 + 1);
        assert_eq!(used.status, Status::Consumed);
    }
    // Another session, no session, another digest: refused, and not counted.
    assert!(matches!(
        store.consume(&a.id, &digest(1), Some("s2"), at(300)),
        Err(Error::SessionMismatch { .. })
    ));
    assert!(matches!(
        store.consume(&a.id, &digest(1), None, at(300)),
        Err(Error::SessionMismatch { .. })
    ));
    assert!(matches!(
        store.consume(&a.id, &digest(2), Some("s1"), at(300)),
        Err(Error::DigestMismatch { .. })
    ));
    // The window ends.
    assert!(matches!(
        store.consume(&a.id, &digest(1), Some("s1"), until),
        Err(Error::SessionWindowOver { .. })
    ));
    let after = store.get(&a.id).unwrap();
    assert_eq!(after.uses, 3);
    let used: Vec<_> = store
        .events(&a.id)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::Used)
        .collect();
    assert_eq!(used.len(), 3, "each use recorded");
    assert!(used.iter().all(|e| e.session.as_deref() == Some("s1")));
    assert!(
        used.iter()
            .all(|e| e.digest.as_deref() == Some(&*digest(1)))
    );
    assert_eq!(
        used.iter().map(|e| e.at).collect::<Vec<_>>(),
        [at(2), at(100), at(599)]
    );
}

#[test]
fn approve_for_session_limits() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    // No session: nothing to bind the window to.
    let a = store.request(&new_approval(None), T0).unwrap();
    assert!(matches!(
        store.decide(
            &a.id,
            &alice(),
            Decision::ApproveForSession { until: at(60) },
            None,
            at(1)
        ),
        Err(Error::NoSession { .. })
    ));
    assert_eq!(store.get(&a.id).unwrap().status, Status::Pending);
    // A window in the past, or longer than the cap.
    let b = store.request(&new_approval(Some("s1")), T0).unwrap();
    for until in [
        at(1),
        at(0),
        at(1)
            .plus(MAX_SESSION_WINDOW)
            .plus(Duration::from_millis(1)),
    ] {
        assert!(matches!(
            store.decide(
                &b.id,
                &alice(),
                Decision::ApproveForSession { until },
                None,
                at(1)
            ),
            Err(Error::SessionWindow(_))
        ));
    }
    // Two approvers: a window only if both gave one, and then the shorter.
    let mut n = new_approval(Some("s1"));
    n.required_approvals = 2;
    let c = store.request(&n, T0).unwrap();
    store
        .decide(
            &c.id,
            &alice(),
            Decision::ApproveForSession { until: at(900) },
            None,
            at(1),
        )
        .unwrap();
    let both = store
        .decide(
            &c.id,
            &bob(),
            Decision::ApproveForSession { until: at(600) },
            None,
            at(2),
        )
        .unwrap();
    assert_eq!(both.session_until, Some(at(600)));
    let d = store.request(&n, T0).unwrap();
    store
        .decide(
            &d.id,
            &alice(),
            Decision::ApproveForSession { until: at(900) },
            None,
            at(1),
        )
        .unwrap();
    let once = store
        .decide(&d.id, &bob(), Decision::Approve, None, at(2))
        .unwrap();
    assert_eq!(once.session_until, None);
    store.consume(&d.id, &digest(1), Some("s1"), at(3)).unwrap();
    assert!(matches!(
        store.consume(&d.id, &digest(1), Some("s1"), at(4)),
        Err(Error::AlreadyConsumed { .. })
    ));
}

// ---- durability and concurrency ----

#[test]
fn state_survives_reopen() {
    let dir = TempDir::new();
    let (pending_id, approved_id) = {
        let mut store = open(&dir);
        let p = store.request(&new_approval(Some("s1")), T0).unwrap();
        let mut short = new_approval(None);
        short.ttl = Duration::from_secs(60);
        let q = store.request(&short, T0).unwrap();
        store
            .decide(&q.id, &alice(), Decision::Approve, Some("ok".into()), at(5))
            .unwrap();
        (p.id, q.id)
    };
    let mut store = open(&dir);
    let pending = store.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].id, pending_id);
    assert_eq!(pending[0].session.as_deref(), Some("s1"));
    assert_eq!(pending[0].summary, "rm -rf build/ on the CI host");
    let approved = store.get(&approved_id).unwrap();
    assert_eq!(approved.status, Status::Approved);
    assert_eq!(approved.decisions[0].comment.as_deref(), Some("ok"));
    // Restarted after its expiry: it never runs, and stays expired across restarts.
    assert!(matches!(
        store.consume(&approved_id, &digest(1), None, at(61)),
        Err(Error::Expired { .. })
    ));
    drop(store);
    let mut store = open(&dir);
    assert_eq!(store.get(&approved_id).unwrap().status, Status::Expired);
    assert!(
        store
            .consume(&approved_id, &digest(1), None, at(62))
            .is_err()
    );
    // The still-pending one can be decided and used after the restart.
    store
        .decide(&pending_id, &bob(), Decision::Approve, None, at(70))
        .unwrap();
    store
        .consume(&pending_id, &digest(1), Some("s1"), at(71))
        .unwrap();
    let history = store.history(10).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0].id, pending_id, "most recently changed first");
    assert_eq!(store.history(1).unwrap().len(), 1);
}

#[test]
fn concurrent_consume_is_exactly_once_across_handles() {
    const ROUNDS: usize = 40;
    let dir = TempDir::new();
    let mut store = open(&dir);
    let mut ids = Vec::new();
    for _ in 0..ROUNDS {
        let a = store.request(&new_approval(Some("s1")), T0).unwrap();
        store
            .decide(&a.id, &alice(), Decision::Approve, None, at(1))
            .unwrap();
        ids.push(a.id);
    }
    drop(store);
    let ids = Arc::new(ids);
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let ids = Arc::clone(&ids);
            let barrier = Arc::clone(&barrier);
            let path = dir.db();
            std::thread::spawn(move || {
                // Each thread is its own handle on the file, as two processes would be.
                let mut store = Store::open(&path).unwrap();
                let mut wins = Vec::new();
                for id in ids.iter() {
                    barrier.wait();
                    match store.consume(id, &digest(1), Some("s1"), at(2)) {
                        Ok(a) => {
                            assert_eq!(a.uses, 1);
                            wins.push(id.clone());
                        }
                        Err(Error::AlreadyConsumed { .. }) => {}
                        Err(e) => panic!("unexpected error racing to consume: {e}"),
                    }
                }
                wins
            })
        })
        .collect();
    let wins: Vec<Vec<String>> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(
        wins[0].len() + wins[1].len(),
        ROUNDS,
        "every approval used exactly once"
    );
    for id in ids.iter() {
        assert!(wins[0].contains(id) != wins[1].contains(id), "{id}");
    }
    let store = open(&dir);
    for id in ids.iter() {
        let a = store.get(id).unwrap();
        assert_eq!((a.status, a.uses), (Status::Consumed, 1));
        let used = kinds(&store, id)
            .into_iter()
            .filter(|k| *k == EventKind::Used)
            .count();
        assert_eq!(used, 1);
    }
}

// ---- the file ----

#[test]
fn new_store_is_private() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    store.request(&new_approval(None), T0).unwrap();
    assert_eq!(mode(&dir.db()), 0o600);
    let wal = PathBuf::from(format!("{}-wal", dir.db().display()));
    assert!(wal.exists(), "WAL mode");
    assert_eq!(mode(&wal), 0o600);
}

#[test]
fn file_and_directory_others_can_reach_are_refused() {
    let dir = TempDir::new();
    drop(open(&dir));

    // A database file readable by others.
    fs::set_permissions(dir.db(), fs::Permissions::from_mode(0o644)).unwrap();
    let err = Store::open(dir.db()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Exposed {
                kind: "file",
                mode: 0o644,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("chmod 600"), "{err}");
    fs::set_permissions(dir.db(), fs::Permissions::from_mode(0o620)).unwrap();
    assert!(matches!(
        Store::open(dir.db()),
        Err(Error::Exposed {
            what: "written",
            ..
        })
    ));
    fs::set_permissions(dir.db(), fs::Permissions::from_mode(0o600)).unwrap();
    open(&dir);

    // A companion file left readable.
    let wal = PathBuf::from(format!("{}-wal", dir.db().display()));
    fs::write(&wal, b"").unwrap();
    fs::set_permissions(&wal, fs::Permissions::from_mode(0o604)).unwrap();
    assert!(matches!(
        Store::open(dir.db()),
        Err(Error::Exposed { kind: "file", .. })
    ));
    fs::remove_file(&wal).unwrap();

    // A directory others can list or write.
    for m in [0o755, 0o730, 0o707] {
        fs::set_permissions(&dir.0, fs::Permissions::from_mode(m)).unwrap();
        let err = Store::open(dir.db()).unwrap_err();
        assert!(
            matches!(
                err,
                Error::Exposed {
                    kind: "directory",
                    ..
                }
            ),
            "{m:o}: {err}"
        );
    }
    // Search permission alone is fine: the file's own mode protects it.
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o711)).unwrap();
    open(&dir);
    fs::set_permissions(&dir.0, fs::Permissions::from_mode(0o700)).unwrap();

    // A symbolic link in place of the file.
    let link = dir.0.join("link.db");
    std::os::unix::fs::symlink(dir.db(), &link).unwrap();
    assert!(matches!(
        Store::open(&link),
        Err(Error::NotRegularFile { .. })
    ));

    // A file that is not SQLite, and a SQLite file that is not ours.
    let junk = dir.0.join("junk.db");
    fs::write(&junk, vec![b'x'; 4096]).unwrap();
    fs::set_permissions(&junk, fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(Store::open(&junk), Err(Error::NotAStore { .. })));
    let other = dir.0.join("other.db");
    {
        fs::File::create(&other).unwrap();
        fs::set_permissions(&other, fs::Permissions::from_mode(0o600)).unwrap();
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
    }
    assert!(matches!(Store::open(&other), Err(Error::NotAStore { .. })));
}

#[test]
fn newer_schema_is_refused() {
    let dir = TempDir::new();
    drop(open(&dir));
    {
        let c = rusqlite::Connection::open(dir.db()).unwrap();
        c.execute(
            "UPDATE meta SET value = '99' WHERE key = 'schema_version'",
            [],
        )
        .unwrap();
    }
    let err = Store::open(dir.db()).unwrap_err();
    assert!(
        matches!(
            err,
            Error::SchemaTooNew {
                found: 99,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn history_in_the_file_is_append_only_and_binding_fixed() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let a = store.request(&new_approval(None), T0).unwrap();
    store
        .decide(&a.id, &alice(), Decision::Deny, None, at(1))
        .unwrap();
    drop(store);
    let c = rusqlite::Connection::open(dir.db()).unwrap();
    assert!(c.execute("DELETE FROM events", []).is_err());
    assert!(
        c.execute("UPDATE events SET kind = 'approve' WHERE kind = 'deny'", [])
            .is_err()
    );
    assert!(
        c.execute("UPDATE approvals SET status = 'approved'", [])
            .is_err()
    );
    assert!(
        c.execute("UPDATE approvals SET digest = 'sha256:00'", [])
            .is_err()
    );
    drop(c);
    let store = open(&dir);
    assert_eq!(store.get(&a.id).unwrap().status, Status::Denied);
}

#[test]
fn unknown_ids_are_not_found() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    assert!(matches!(store.get("nope"), Err(Error::NotFound(_))));
    assert!(matches!(
        store.decide("nope", &alice(), Decision::Approve, None, T0),
        Err(Error::NotFound(_))
    ));
    assert!(matches!(
        store.consume("nope", &digest(1), None, T0),
        Err(Error::NotFound(_))
    ));
}

#[test]
fn errors_read_as_sentences() {
    let dir = TempDir::new();
    let mut store = open(&dir);
    let mut n = new_approval(None);
    n.ttl = Duration::from_secs(60);
    let a = store.request(&n, T0).unwrap();
    let e = store
        .decide(&a.id, &agent(), Decision::Approve, None, at(1))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("agent credentials can never approve"),
        "{e}"
    );
    let e = store
        .decide(&a.id, &alice(), Decision::Approve, None, at(61))
        .unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("expired at 2027-01-15T08:01:00.000Z"), "{msg}");
    assert!(msg.contains("nobody denied it"), "{msg}");
}

#[test]
fn approvals_serialise_for_the_daemon_and_errors_cross_threads() {
    fn send_sync<T: Send + Sync + 'static>() {}
    send_sync::<Error>();
    fn send<T: Send>() {}
    send::<Store>();

    let dir = TempDir::new();
    let mut store = open(&dir);
    let a = store.request(&new_approval(Some("s1")), T0).unwrap();
    let a = store
        .decide(
            &a.id,
            &alice(),
            Decision::ApproveForSession { until: at(60) },
            Some("for this session".into()),
            at(1),
        )
        .unwrap();
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["status"], "approved");
    assert_eq!(json["requester"]["role"], "agent");
    assert_eq!(json["expires_at"], T0.0 + 30 * 60 * 1000);
    assert_eq!(
        json["decisions"][0]["decision"]["kind"],
        "approve_for_session"
    );
    assert_eq!(json["decisions"][0]["decision"]["until"], at(60).0);
    let back: approvals::Approval = serde_json::from_value(json).unwrap();
    assert_eq!(back, a);
}
