//! Helpers shared by the tests that run `nexori serve` (and `nexori backend`) as real processes
//! on loopback and talk to the bridge with a real WebSocket client.

#![allow(dead_code)] // Each test binary uses its own share of these.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const BRIDGE_TOKEN: &str = "bridge-secret";
pub const BACKEND_TOKEN: &str = "backend-secret";

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn player(n: u8) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

pub fn nexori(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexori"));
    cmd.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

/// `nexori stdio` with `config`, the mods in `mods` and the data directory `data`, draining for
/// `drain_seconds` once its input ends; its output is dropped.
pub fn stdio_host(config: &Path, mods: &Path, data: &Path, drain_seconds: u64) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexori"));
    cmd.args(["stdio", "--config"])
        .arg(config)
        .arg("--mods")
        .arg(mods)
        .arg("--data-dir")
        .arg(data)
        .args(["--drain-seconds", &drain_seconds.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

/// The reference backend on loopback, its database in `work`, answering as `faults` says.
pub fn reference_backend(
    rt: &tokio::runtime::Runtime,
    work: &Path,
    token: &str,
    faults: nexori_backend::FaultPlan,
) -> nexori_backend::BackendHandle {
    rt.block_on(nexori_backend::start(nexori_backend::BackendConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: token.into(),
        database: work.join("backend.sqlite"),
        faults,
        connections: Default::default(),
    }))
    .unwrap()
}

/// Kills a child process when the test ends, whatever happens.
pub struct Reaper(pub Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn wait_healthy(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(url).await.map_or(true, |r| r.status() != 200) {
        assert!(Instant::now() < deadline, "{url} never became healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A bridge connection for game server `server`, with the bridge token.
pub async fn connect(port: u16, server: &str) -> Ws {
    let mut request = format!("ws://127.0.0.1:{port}/bridge?server={server}")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {BRIDGE_TOKEN}").parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

pub fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

/// A mod from `target/nexori-mods` (`cargo xtask build-mods`).
pub fn built_mod(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../target/nexori-mods/{name}.wasm"));
    assert!(
        path.is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    path
}

/// `nexori serve` with the `scripted` mod and no backend, in its own directory; `bridge` is
/// added to the `[bridge]` section.
pub struct Serve {
    pub port: u16,
    pub work: PathBuf,
    pub process: Reaper,
}

impl Serve {
    pub fn start(name: &str, bridge: &str) -> Serve {
        Self::start_with(name, bridge, "")
    }

    /// [`start`](Self::start) with more configuration after the `[bridge]` and `[log]` sections.
    pub fn start_with(name: &str, bridge: &str, more: &str) -> Serve {
        let work = std::env::temp_dir().join(format!("nexori-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&work);
        std::fs::create_dir_all(work.join("mods")).unwrap();
        std::fs::copy(built_mod("scripted"), work.join("mods/scripted.wasm")).unwrap();
        let port = free_port();
        let config = work.join("nexori.toml");
        std::fs::write(
            &config,
            format!(
                "modsDir = \"{mods}\"\ndataDir = \"{data}\"\nshutdownTimeoutMs = 1000\n\n\
                 [bridge]\nlisten = \"127.0.0.1:{port}\"\ntoken = \"{BRIDGE_TOKEN}\"\n{bridge}\n\n\
                 [log]\nlevel = \"warn\"\n\n{more}\n",
                mods = work.join("mods").display(),
                data = work.join("data").display(),
            ),
        )
        .unwrap();
        // Faults some tests provoke on purpose would fill the output with guest backtraces.
        let process = Reaper(
            nexori(&["serve", "--config"])
                .arg(&config)
                .env("NEXORI_LOG", "warn,nexori::faults=off")
                .spawn()
                .unwrap(),
        );
        Serve {
            port,
            work,
            process,
        }
    }

    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub async fn ready(&self) {
        wait_healthy(&format!("{}/healthz", self.base())).await;
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base()))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Waits until `/metrics` has every line of `expected`.
    pub async fn wait_metrics(&self, expected: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let metrics = self.metrics().await;
            if expected
                .iter()
                .all(|line| metrics.lines().any(|l| l == *line))
            {
                return metrics;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {expected:?} in:\n{metrics}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.work.as_path() as &Path);
    }
}

/// The next text message, as JSON, within `within`; panics with what came instead.
pub async fn next_json(ws: &mut Ws, within: Duration) -> Value {
    match tokio::time::timeout(within, ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str(&t).unwrap(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// Sends a message the host refuses and waits for its error: everything sent before it on this
/// connection has been handled.
pub async fn sync(ws: &mut Ws) {
    let probe = json!({"type": "player.arrive", "matchId": "sync-probe", "player": "sync"});
    ws.send(text(probe)).await.unwrap();
    let reply = next_json(ws, Duration::from_secs(10)).await;
    assert_eq!(reply["type"], "error", "{reply}");
    assert_eq!(reply["message"]["player"], "sync", "{reply}");
}

unsafe extern "C" {
    pub fn kill(pid: i32, sig: i32) -> i32;
}
