//! End to end: `nexori serve` and the reference backend as real processes-on-loopback, a
//! WebSocket game server playing a Capture The Zone match, the commands it receives, the result
//! at the backend, `/healthz` and `/metrics`, and a graceful SIGTERM.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use nexori_host::backend::{self, BackendConfig, FaultPlan};
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

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let backend = rt
        .block_on(backend::start(BackendConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            token: BACKEND_TOKEN.into(),
            database: work.join("backend.sqlite"),
            faults: FaultPlan::none(),
        }))
        .unwrap();
    let port = free_port();
    let config = work.join("nexori.toml");
    std::fs::write(
        &config,
        format!(
            r#"
serverId = "5e4e0000-0000-4000-8000-000000000001"
baseUrl = "{base}"
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
returnDelaySeconds = 1
"#,
            base = backend.base_url(),
            mods = work.join("mods").display(),
            data = work.join("data").display(),
        ),
    )
    .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nexori"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");

    rt.block_on(async {
        // Healthy once the bridge listens.
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = reqwest::get(format!("{base}/healthz")).await {
                if r.status() == 200 {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "nexori serve never became healthy");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // No token, no bridge.
        let refused = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/bridge")).await;
        assert!(refused.is_err());

        let mut request = format!("ws://127.0.0.1:{port}/bridge?server=arena-1").into_client_request().unwrap();
        request.headers_mut().insert("Authorization", format!("Bearer {BRIDGE_TOKEN}").parse().unwrap());
        let (mut ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let send = |v: Value| Message::Text(v.to_string().into());
        // A bad message is answered with an error naming the field.
        ws.send(send(json!({"type": "player.arrive", "matchId": "ctz-1", "player": "nope"}))).await.unwrap();
        let error: Value = match ws.next().await.unwrap().unwrap() {
            Message::Text(t) => serde_json::from_str(&t).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"], "player.arrive: field \"player\": \"nope\" is not a UUID");

        let (a, b) = (player(0xa), player(0xb));
        ws.send(send(json!({"type": "match.create", "matchId": "ctz-1", "queueId": "ctz_queue", "arenaId": "ctz_arena",
            "rulesEngineId": "capture_the_zone", "externalMatchId": "backend-ctz-e2e",
            "expectedPlayers": [{"uuid": a, "name": "Alice"}, {"uuid": b, "name": "Bob"}]}))).await.unwrap();
        for p in [&a, &b] {
            ws.send(send(json!({"type": "player.arrive", "matchId": "ctz-1", "player": p}))).await.unwrap();
        }
        for p in [&a, &b] {
            ws.send(send(json!({"type": "player.placed", "matchId": "ctz-1", "player": p, "worldName": "arena-1"}))).await.unwrap();
        }
        // Alice stands in the zone, Bob outside, ticking at 10 Hz until the match resolves.
        let mut commands: Vec<Value> = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut returned = 0;
        while returned < 2 {
            assert!(Instant::now() < deadline, "no returns; commands so far: {commands:?}");
            for (p, x) in [(&a, 62.0), (&b, 90.0)] {
                let tick = json!({"type": "game.event", "matchId": "ctz-1", "kind": "player.tick", "player": p,
                    "data": {"worldName": "arena-1", "x": x, "y": 90.0, "z": -6.0, "alive": true}});
                let _ = ws.send(send(tick)).await;
            }
            let until = tokio::time::Instant::now() + Duration::from_millis(100);
            while let Ok(Some(Ok(Message::Text(text)))) = tokio::time::timeout_at(until, ws.next()).await {
                let v: Value = serde_json::from_str(&text).unwrap();
                if v["type"] == "player.return" {
                    returned += 1;
                }
                commands.push(v);
            }
        }
        assert!(commands.iter().any(|c| c["type"] == "game.command" && c["name"] == "player.setRespawnPoint" && c["player"] == a.as_str()));
        let returns: Vec<&Value> = commands.iter().filter(|c| c["type"] == "player.return").collect();
        assert!(returns.iter().all(|r| r["reason"] == "mid_capture_match_completed" && r["matchId"] == "ctz-1"));

        // The result reached the backend.
        let deadline = Instant::now() + Duration::from_secs(10);
        let results = loop {
            let results: Value = reqwest::get(format!("{}/api/results?externalMatchId=backend-ctz-e2e", backend.base_url()))
                .await.unwrap().json().await.unwrap();
            if results.to_string().contains("backend-ctz-e2e") || Instant::now() > deadline {
                break results;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let text = results.to_string();
        assert!(text.contains("mid_capture_point_captured"), "{text}");

        let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
        assert!(metrics.contains("nexori_callbacks_total{callback=\"onMatchStartAllowed\"} 1"), "{metrics}");
        assert!(metrics.contains("nexori_api_calls_total{method=\"submitFinalMatchResult\",status=\"ACCEPTED\"} 1"), "{metrics}");
        assert!(metrics.contains("nexori_outbox_results{status=\"pending\"} 0"), "{metrics}");
        ws.close(None).await.ok();
    });

    // SIGTERM: a graceful, successful exit.
    unsafe {
        libc_kill(child.id() as i32, 15);
    }
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
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
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
