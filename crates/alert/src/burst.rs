//! The denial-burst rule: an agent that keeps trying after being refused.
//!
//! One refusal is the gate working. Several refusals in one session within a few
//! minutes usually mean the agent is rephrasing what it was refused (`rm -rf` →
//! `find -delete` → a Python `shutil.rmtree`) until something gets through. Each
//! proposal is judged by a separate, short-lived airlock process, so the memory
//! of recent refusals lives in a small JSON file, guarded by `flock` on a
//! sibling `.lock` file and replaced atomically (write + rename).
//!
//! **When it fires.** On the refusal that brings the session's count within
//! `window_secs` to `count`, and then not again for that session until
//! `window_secs` have passed since it fired: at most one alert per session per
//! window. A burst that goes on longer fires again once the quiet period is over
//! and the count is still at the threshold, so a sustained campaign is reported
//! periodically rather than on every further attempt, and never goes silent.
//!
//! **Bounds.** Per session only the last `count` timestamps are kept; sessions
//! with nothing in the window are dropped; at most [`MAX_SESSIONS`] are kept
//! (least recently active dropped first); overlong session ids are hashed. The
//! file is a cache: it is not fsynced, and a missing or corrupt file starts empty
//! (at worst one burst goes unnoticed after a crash).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::BurstSetting;
use crate::rules::{DENIAL_BURST, Draft};
use crate::{Error, clip};

/// Most sessions remembered at once.
pub const MAX_SESSIONS: usize = 1024;
/// Session ids longer than this are stored by their SHA-256.
const MAX_KEY: usize = 128;

/// Remembers refused verdicts per session across processes.
#[derive(Debug, Clone)]
pub struct BurstTracker {
    path: PathBuf,
    lock_path: PathBuf,
    setting: BurstSetting,
    max_sessions: usize,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    v: u32,
    sessions: BTreeMap<String, Session>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Session {
    /// Unix seconds of the latest refusals, oldest first, at most `count`.
    times: Vec<f64>,
    /// When this session's burst alert last fired.
    fired_at: Option<f64>,
}

impl Session {
    fn last_activity(&self) -> f64 {
        let t = self.times.last().copied().unwrap_or(f64::MIN);
        t.max(self.fired_at.unwrap_or(f64::MIN))
    }
}

impl BurstTracker {
    /// A tracker keeping its state in `path` (created on first use, with its
    /// parent directory).
    pub fn new(path: impl Into<PathBuf>, setting: &BurstSetting) -> BurstTracker {
        let path = path.into();
        let mut lock = path.clone().into_os_string();
        lock.push(".lock");
        BurstTracker {
            path,
            lock_path: PathBuf::from(lock),
            setting: *setting,
            max_sessions: MAX_SESSIONS,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records one refused (deny or ask) verdict in `session` at `now` (Unix
    /// seconds) and returns the burst alert when this refusal completes a burst.
    pub fn observe(&self, session: &str, now: f64) -> Result<Option<Draft>, Error> {
        if !self.setting.enabled || !now.is_finite() {
            return Ok(None);
        }
        let count = self.setting.count.max(1) as usize;
        let window = self.setting.window_secs as f64;

        if let Some(dir) = self.path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&self.lock_path)
            .map_err(|e| Error::io(&self.lock_path, e))?;
        lock.lock().map_err(|e| Error::io(&self.lock_path, e))?;

        let mut state = self.load();
        let key = session_key(session);

        // Forget what is outside the window (and anything implausibly far in the
        // future, after a clock step back).
        let fresh = |t: f64| t > now - window && t <= now + window;
        state.sessions.retain(|_, s| {
            s.times.retain(|t| fresh(*t));
            if s.fired_at.is_some_and(|f| !fresh(f)) {
                s.fired_at = None;
            }
            !s.times.is_empty() || s.fired_at.is_some()
        });

        let s = state.sessions.entry(key).or_default();
        s.times.push(now);
        s.times.sort_by(f64::total_cmp);
        if s.times.len() > count {
            let extra = s.times.len() - count;
            s.times.drain(..extra);
        }
        let quiet = s.fired_at.is_some_and(|f| now - f < window);
        let fire = s.times.len() >= count && !quiet;
        let first = s.times.first().copied().unwrap_or(now);
        if fire {
            s.fired_at = Some(now);
        }

        if state.sessions.len() > self.max_sessions {
            let mut by_age: Vec<(f64, String)> = state
                .sessions
                .iter()
                .map(|(k, s)| (s.last_activity(), k.clone()))
                .collect();
            by_age.sort_by(|a, b| a.0.total_cmp(&b.0));
            let excess = state.sessions.len() - self.max_sessions;
            for (_, k) in by_age.into_iter().take(excess) {
                state.sessions.remove(&k);
            }
        }
        state.v = 1;
        self.store(&state)?;
        drop(lock);

        Ok(fire.then(|| Draft {
            rule: DENIAL_BURST.to_string(),
            severity: self.setting.severity,
            summary: format!(
                "burst of refused attempts: {count} denied or held verdicts in session {} within {}s (the agent may be rephrasing a refused request)",
                clip(session, 64),
                self.setting.window_secs
            ),
            details: json!({
                "session": session,
                "refusals": count,
                "threshold": self.setting.count,
                "window_secs": self.setting.window_secs,
                "first": first,
                "last": now,
            }),
        }))
    }

    fn load(&self) -> State {
        match fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_default(),
            Err(_) => State::default(),
        }
    }

    fn store(&self, state: &State) -> Result<(), Error> {
        let mut tmp = self.path.clone().into_os_string();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let bytes = serde_json::to_vec(state).expect("state serializes");
        let mut f: File = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| Error::io(&tmp, e))?;
        f.write_all(&bytes).map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, &self.path).map_err(|e| Error::io(&self.path, e))
    }
}

fn session_key(session: &str) -> String {
    if session.len() <= MAX_KEY {
        session.to_string()
    } else {
        let h = Sha256::digest(session.as_bytes());
        format!("sha256:{}", crate::webhook::hex(&h))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Severity;

    fn setting(count: u32, window_secs: u64) -> BurstSetting {
        BurstSetting {
            enabled: true,
            severity: Severity::High,
            count,
            window_secs,
        }
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("alert-burst-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn two_trackers_share_one_file() {
        // Two instances on one file stand for two airlock processes.
        let dir = tmpdir("share");
        let path = dir.join("state/burst.json");
        let a = BurstTracker::new(&path, &setting(3, 300));
        let b = BurstTracker::new(&path, &setting(3, 300));
        let t0 = 1_800_000_000.0;
        assert!(a.observe("s-1", t0).unwrap().is_none());
        assert!(b.observe("s-1", t0 + 10.0).unwrap().is_none());
        // Another session does not add to s-1.
        assert!(b.observe("s-2", t0 + 11.0).unwrap().is_none());
        let d = a
            .observe("s-1", t0 + 20.0)
            .unwrap()
            .expect("third refusal fires");
        assert_eq!(d.rule, DENIAL_BURST);
        assert_eq!(d.severity, Severity::High);
        assert_eq!(d.details["session"], "s-1");
        assert_eq!(d.details["first"], t0);
        assert!(
            d.summary
                .contains("3 denied or held verdicts in session s-1 within 300s"),
            "{}",
            d.summary
        );
        // Fires once per crossing: later refusals within the window stay quiet ...
        assert!(b.observe("s-1", t0 + 30.0).unwrap().is_none());
        assert!(a.observe("s-1", t0 + 200.0).unwrap().is_none());
        // ... until a window has passed since it fired, with the burst still going.
        assert!(b.observe("s-1", t0 + 321.0).unwrap().is_some());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn refusals_outside_the_window_do_not_count() {
        let dir = tmpdir("window");
        let t = BurstTracker::new(dir.join("b.json"), &setting(3, 60));
        let t0 = 1_000_000.0;
        assert!(t.observe("s", t0).unwrap().is_none());
        assert!(t.observe("s", t0 + 50.0).unwrap().is_none());
        // The first one has left the window: only two in the last 60 s.
        assert!(t.observe("s", t0 + 70.0).unwrap().is_none());
        assert!(t.observe("s", t0 + 80.0).unwrap().is_some());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn concurrent_observers_lose_no_refusal() {
        // Eight threads each record one refusal at the same moment: with the lock,
        // exactly one of them completes the burst of eight.
        let dir = tmpdir("threads");
        let path = dir.join("b.json");
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let t = BurstTracker::new(&path, &setting(8, 300));
                std::thread::spawn(move || t.observe("s", 5_000.0).unwrap().is_some())
            })
            .collect();
        let fired = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|f| *f)
            .count();
        assert_eq!(fired, 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn state_stays_bounded() {
        let dir = tmpdir("bounded");
        let path = dir.join("b.json");
        let mut t = BurstTracker::new(&path, &setting(2, 86_400));
        t.max_sessions = 40;
        for i in 0..90 {
            t.observe(&format!("s-{i}"), 10_000.0 + i as f64).unwrap();
        }
        let long = "x".repeat(5000);
        t.observe(&long, 20_000.0).unwrap();
        let s: State = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(s.sessions.len(), 40);
        // The least recently active went first; the newest and the hashed long id are there.
        assert!(!s.sessions.contains_key("s-0"));
        assert!(!s.sessions.contains_key("s-50"));
        assert!(s.sessions.contains_key("s-89"));
        assert!(s.sessions.keys().any(|k| k.starts_with("sha256:")));
        assert!(s.sessions.keys().all(|k| k.len() <= MAX_KEY));
        // Only the last `count` refusals of a session are kept.
        for i in 0..10 {
            t.observe("s-89", 20_001.0 + f64::from(i)).unwrap();
        }
        let s: State = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(s.sessions["s-89"].times.len(), 2);
        // Far later, everything has expired and the file shrinks to one session.
        t.observe("late", 1_000_000.0).unwrap();
        let s: State = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
        assert_eq!(s.sessions.len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn corrupt_state_starts_over_and_disabled_never_fires() {
        let dir = tmpdir("corrupt");
        let path = dir.join("b.json");
        fs::write(&path, b"{not json").unwrap();
        let t = BurstTracker::new(&path, &setting(1, 10));
        assert!(t.observe("s", 1.0).unwrap().is_some());
        let mut off = setting(1, 10);
        off.enabled = false;
        let t = BurstTracker::new(dir.join("off.json"), &off);
        assert!(t.observe("s", 1.0).unwrap().is_none());
        assert!(!dir.join("off.json").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
