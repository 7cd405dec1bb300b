//! The sandbox dies with airlock: killing airlock (even with SIGKILL, which it cannot
//! handle) takes every process in the sandbox with it.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn pgrep(pattern: &str) -> Vec<String> {
    let out = Command::new("pgrep")
        .arg("-f")
        .arg(pattern)
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn killing_airlock_kills_the_sandbox() {
    let ws = std::env::temp_dir().join(format!("airlock-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&ws).unwrap();
    // A sleep with a duration no other process uses, to find it on the host.
    let marker = format!("{}.{}", 600 + std::process::id() % 97, std::process::id());
    let mut child = Command::new(env!("CARGO_BIN_EXE_airlock"))
        .args(["sandbox", "--no-toolchains", "--workspace"])
        .arg(&ws)
        .arg("--cwd")
        .arg(&ws)
        .args(["--", "/bin/sh", "-c"])
        .arg(format!("sleep {marker} & sleep {marker}; wait"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while pgrep(&format!("sleep {marker}")).len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the sandboxed sleeps never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let start = Instant::now();
    loop {
        let left = pgrep(&format!("sleep {marker}"));
        if left.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "sandboxed processes outlived airlock: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::remove_dir_all(&ws).unwrap();
}
