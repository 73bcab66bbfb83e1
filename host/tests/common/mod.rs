//! Helpers shared by the test files that run `nexori` as a real process (`mod common;`).

// Each test file uses its own subset.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A port free on loopback right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `nexori ARGS...` with stdout discarded and stderr shown with the test's output.
pub fn nexori(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexori"));
    cmd.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

/// Kills a child process when the test ends, whatever happens.
pub struct Reaper(pub Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits (up to 30 s) until `url` answers 200.
pub async fn wait_healthy(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(url).await.map_or(true, |r| r.status() != 200) {
        assert!(Instant::now() < deadline, "{url} never became healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
