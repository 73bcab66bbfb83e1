//! End to end: `nexori serve` and the reference backend (`nexori backend`) as real processes on
//! loopback, a WebSocket game server playing a Capture The Zone match, the commands it receives
//! (also across a reconnect), the result at the backend, `/healthz` and `/metrics`, and a
//! graceful SIGTERM.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const BRIDGE_TOKEN: &str = "bridge-secret";
const BACKEND_TOKEN: &str = "backend-secret";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn player(n: u8) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

fn nexori(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_nexori"));
    cmd.args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    cmd
}

/// Kills a child process when the test ends, whatever happens.
struct Reaper(Child);

impl Drop for Reaper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn wait_healthy(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(url).await.map_or(true, |r| r.status() != 200) {
        assert!(Instant::now() < deadline, "{url} never became healthy");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn connect(
    port: u16,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let mut request = format!("ws://127.0.0.1:{port}/bridge?server=arena-1")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {BRIDGE_TOKEN}").parse().unwrap(),
    );
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

fn text(v: Value) -> Message {
    Message::Text(v.to_string().into())
}

#[test]
fn a_game_server_plays_capture_the_zone_through_nexori_serve() {
    let ctz = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/nexori-mods/capture_the_zone.wasm");
    assert!(
        ctz.is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    let work = std::env::temp_dir().join(format!("nexori-serve-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("mods")).unwrap();
    std::fs::copy(&ctz, work.join("mods/capture_the_zone.wasm")).unwrap();

    let backend_port = free_port();
    let backend_url = format!("http://127.0.0.1:{backend_port}");
    let backend_db = work.join("backend.sqlite");
    let _backend = Reaper(
        nexori(&[
            "backend",
            "--token",
            BACKEND_TOKEN,
            "--listen",
            &format!("127.0.0.1:{backend_port}"),
            "--db",
        ])
        .arg(&backend_db)
        .spawn()
        .unwrap(),
    );
    let port = free_port();
    let config = work.join("nexori.toml");
    std::fs::write(
        &config,
        format!(
            r#"
serverId = "5e4e0000-0000-4000-8000-000000000001"
baseUrl = "{backend_url}"
serverToken = "{BACKEND_TOKEN}"
resultReportingEnabled = true
matchStateReportingEnabled = true
modsDir = "{mods}"
dataDir = "{data}"
shutdownTimeoutMs = 5000

[bridge]
listen = "127.0.0.1:{port}"
token = "{BRIDGE_TOKEN}"

[log]
level = "warn"

[mods.capture_the_zone]
captureSecondsToWin = 1.0
returnDelaySeconds = 5
"#,
            mods = work.join("mods").display(),
            data = work.join("data").display(),
        ),
    )
    .unwrap();
    let mut serve = Reaper(nexori(&["serve", "--config"]).arg(&config).spawn().unwrap());
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    rt.block_on(async {
        wait_healthy(&format!("{backend_url}/healthz")).await;
        wait_healthy(&format!("{base}/healthz")).await;
        // No token, no bridge.
        assert!(tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/bridge")).await.is_err());

        let mut ws = connect(port).await;
        // A bad message is answered with an error naming the field.
        ws.send(text(json!({"type": "player.arrive", "matchId": "ctz-1", "player": "nope"}))).await.unwrap();
        let error: Value = match ws.next().await.unwrap().unwrap() {
            Message::Text(t) => serde_json::from_str(&t).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"], "player.arrive: field \"player\": \"nope\" is not a UUID");

        let (a, b) = (player(0xa), player(0xb));
        ws.send(text(json!({"type": "match.create", "matchId": "ctz-1", "queueId": "ctz_queue", "arenaId": "ctz_arena",
            "rulesEngineId": "capture_the_zone", "externalMatchId": "backend-ctz-e2e",
            "expectedPlayers": [{"uuid": a, "name": "Alice"}, {"uuid": b, "name": "Bob"}]})))
        .await
        .unwrap();
        for p in [&a, &b] {
            ws.send(text(json!({"type": "player.arrive", "matchId": "ctz-1", "player": p}))).await.unwrap();
        }
        for p in [&a, &b] {
            ws.send(text(json!({"type": "player.placed", "matchId": "ctz-1", "player": p, "worldName": "arena-1"})))
                .await
                .unwrap();
        }

        // Alice stands in the zone, Bob outside, ticking at 10 Hz until the result reaches the backend.
        let mut commands: Vec<Value> = Vec::new();
        let results_url = format!("{backend_url}/api/results?externalMatchId=backend-ctz-e2e");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            assert!(Instant::now() < deadline, "no result; commands so far: {commands:?}");
            for (p, x) in [(&a, 62.0), (&b, 90.0)] {
                let tick = json!({"type": "game.event", "matchId": "ctz-1", "kind": "player.tick", "player": p,
                    "data": {"worldName": "arena-1", "x": x, "y": 90.0, "z": -6.0, "alive": true}});
                ws.send(text(tick)).await.unwrap();
            }
            let until = tokio::time::Instant::now() + Duration::from_millis(100);
            while let Ok(Some(Ok(Message::Text(t)))) = tokio::time::timeout_at(until, ws.next()).await {
                commands.push(serde_json::from_str(&t).unwrap());
            }
            if reqwest::get(&results_url).await.unwrap().text().await.unwrap().contains("mid_capture_point_captured") {
                break;
            }
        }
        assert!(commands.iter().any(|c| c["type"] == "game.command"
            && c["name"] == "player.setRespawnPoint"
            && c["player"] == a.as_str()));
        assert!(!commands.iter().any(|c| c["type"] == "player.return"), "returns come 5 s after the capture");

        // The game server goes away before the returns are due and comes back: they waited for it.
        ws.close(None).await.ok();
        drop(ws);
        tokio::time::sleep(Duration::from_secs(6)).await;
        let mut ws = connect(port).await;
        let mut returns = Vec::new();
        let until = tokio::time::Instant::now() + Duration::from_secs(3);
        while returns.len() < 2 {
            match tokio::time::timeout_at(until, ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => {
                    let v: Value = serde_json::from_str(&t).unwrap();
                    if v["type"] == "player.return" {
                        returns.push(v);
                    }
                }
                other => panic!("no queued returns after reconnecting: {other:?}"),
            }
        }
        assert_eq!(returns.len(), 2);
        assert!(returns.iter().all(|r| r["reason"] == "mid_capture_match_completed" && r["matchId"] == "ctz-1"));

        let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
        for expected in [
            "nexori_callbacks_total{callback=\"onMatchStartAllowed\"} 1",
            "nexori_api_calls_total{method=\"submitFinalMatchResult\",status=\"ACCEPTED\"} 1",
            "nexori_outbox_results{status=\"pending\"} 0",
            "nexori_instantiation_microseconds_count 1",
            "nexori_result_reports_total{outcome=\"acknowledged\"} 1",
        ] {
            assert!(metrics.contains(expected), "missing {expected}:\n{metrics}");
        }
        ws.close(None).await.ok();
    });

    // SIGTERM: a graceful, successful exit.
    unsafe {
        kill(serve.0.id() as i32, 15);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = serve.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "nexori serve did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&work);
}

unsafe extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}
