//! End to end: `nexori serve` and the reference backend (`nexori backend`) as real processes on
//! loopback, a WebSocket game server playing a Capture The Zone match, the commands it receives
//! (also across a reconnect), the result at the backend, `/healthz` and `/metrics`, and a
//! graceful SIGTERM.

mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

#[test]
fn a_game_server_plays_capture_the_zone_through_nexori_serve() {
    let ctz = built_mod("capture_the_zone");
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

        let mut ws = connect(port, "arena-1").await;
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
        let mut ws = connect(port, "arena-1").await;
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

/// The next text message on the bridge, or `None` if none comes before `until`.
async fn next_text(
    ws: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
    until: tokio::time::Instant,
) -> Option<Value> {
    loop {
        match tokio::time::timeout_at(until, ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
            Ok(Some(Ok(_))) => {}
            _ => return None,
        }
    }
}

/// Another process holds the write lock on `outbox.sqlite` (a real SQLite fault): while the
/// host cannot commit a turn's result, `/healthz` answers 503 naming the cause, `/metrics`
/// counts the failures and the held commands, and the game server hears nothing of that turn;
/// once the lock goes, the held command arrives and the host is healthy again.
#[test]
fn a_failing_outbox_commit_makes_serve_degraded_and_holds_the_commands() {
    let scripted =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods/scripted.wasm");
    assert!(
        scripted.is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    let work = std::env::temp_dir().join(format!("nexori-serve-commit-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("mods")).unwrap();
    std::fs::copy(&scripted, work.join("mods/scripted.wasm")).unwrap();
    let port = free_port();
    // Results go to a backend that is not there: they stay pending, which is all this needs.
    let config = work.join("nexori.toml");
    std::fs::write(
        &config,
        format!(
            r#"
baseUrl = "http://127.0.0.1:{backend_port}"
serverToken = "{BACKEND_TOKEN}"
resultReportingEnabled = true
modsDir = "{mods}"
dataDir = "{data}"
outboxBusyTimeoutMs = 50
# One held command pauses the host.
outboxMaxHeldCommands = 1

[bridge]
listen = "127.0.0.1:{port}"
token = "{BRIDGE_TOKEN}"

[log]
level = "warn"
"#,
            backend_port = free_port(),
            mods = work.join("mods").display(),
            data = work.join("data").display(),
        ),
    )
    .unwrap();
    let _serve = Reaper(nexori(&["serve", "--config"]).arg(&config).spawn().unwrap());
    let base = format!("http://127.0.0.1:{port}");
    let db = work.join("data/outbox.sqlite");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        wait_healthy(&format!("{base}/healthz")).await;
        let mut ws = connect(port, "arena-1").await;
        let a = player(0xa);
        let command = |name: &str| {
            json!({"type": "game.event", "matchId": "m1", "kind": "script.call",
                   "data": {"method": "sendGameCommand", "args": {"matchId": "m1", "name": name}}})
        };
        for message in [
            json!({"type": "match.create", "matchId": "m1", "queueId": "q", "arenaId": "a",
                   "rulesEngineId": "scripted", "externalMatchId": "ext-m1",
                   "expectedPlayers": [{"uuid": a, "name": "Alice"}]}),
            json!({"type": "player.arrive", "matchId": "m1", "player": a}),
            json!({"type": "player.placed", "matchId": "m1", "player": a}),
            command("ready"),
        ] {
            ws.send(text(message)).await.unwrap();
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        assert_eq!(
            next_text(&mut ws, deadline).await,
            Some(json!({"type": "game.command", "matchId": "m1", "name": "ready"}))
        );

        let locker = rusqlite::Connection::open(&db).unwrap();
        locker.execute_batch("BEGIN IMMEDIATE").unwrap();
        ws.send(text(json!({"type": "game.event", "matchId": "m1", "kind": "script.calls", "data": [
            {"method": "sendGameCommand", "args": {"matchId": "m1", "name": "with-result"}},
            {"method": "setPlayerOutcome", "args": {"matchId": "m1", "playerUuid": a, "outcome": "WIN", "reason": "won"}},
            {"method": "submitFinalMatchResult", "args": {"matchId": "m1", "reason": "done"}}
        ]}))).await.unwrap();

        let health = loop {
            let answer = reqwest::get(format!("{base}/healthz")).await.unwrap();
            let status = answer.status().as_u16();
            let body = answer.text().await.unwrap();
            if status != 200 {
                break (status, body);
            }
            assert!(tokio::time::Instant::now() < deadline, "/healthz never said degraded");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(health.0, 503);
        assert!(
            health.1.starts_with("degraded: outbox commit failing: ") && health.1.contains("database is locked"),
            "{}",
            health.1
        );
        // /healthz reads the commit state live; /metrics is the snapshot of the host's last turn,
        // so wait for the turn that saw the failure.
        let metrics = loop {
            let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
            if !metrics.contains("\nnexori_outbox_commit_failures_total 0\n") {
                break metrics;
            }
            assert!(tokio::time::Instant::now() < deadline, "/metrics never counted the failure:\n{metrics}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let value = |name: &str| -> u64 {
            let line = metrics.lines().find(|l| l.starts_with(&format!("{name} "))).unwrap_or_else(|| panic!("no {name}:\n{metrics}"));
            line.rsplit(' ').next().unwrap().parse().unwrap()
        };
        assert!(value("nexori_outbox_commit_failures_total") >= 1, "{metrics}");
        assert_eq!(value("nexori_outbox_held_commands"), 1, "{metrics}");
        // What the host keeps for the one live match.
        assert_eq!(value("nexori_runtime_players_tracked"), 1, "{metrics}");
        assert_eq!(value("nexori_instances_live"), 1, "{metrics}");

        // The held command pauses the host: a message sent now is not taken while two more
        // commits fail (the loop runs, retries and publishes its metrics, but reads nothing).
        let taken = value("nexori_bridge_messages_total");
        let failures = value("nexori_outbox_commit_failures_total");
        ws.send(text(json!({"type": "player.teleport", "matchId": "m1"}))).await.unwrap();
        let paused = loop {
            let metrics = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
            let now = |name: &str| -> u64 {
                metrics.lines().find(|l| l.starts_with(&format!("{name} "))).and_then(|l| l.rsplit(' ').next()?.parse().ok()).unwrap_or(0)
            };
            if now("nexori_outbox_commit_failures_total") >= failures + 2 {
                break now("nexori_bridge_messages_total");
            }
            assert!(tokio::time::Instant::now() < deadline, "the commit was not retried:\n{metrics}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(paused, taken, "a paused host took a message");
        let early = tokio::time::Instant::now() + Duration::from_millis(300);
        assert_eq!(next_text(&mut ws, early).await, None, "a command went out before its result was durable");

        locker.execute_batch("ROLLBACK").unwrap();
        drop(locker);
        assert_eq!(
            next_text(&mut ws, deadline).await,
            Some(json!({"type": "game.command", "matchId": "m1", "name": "with-result"}))
        );
        // Then the host reads on: the message sent while it was paused is answered.
        let answer = next_text(&mut ws, deadline).await.expect("an answer to the held-up message");
        assert_eq!(answer["type"], "error", "{answer}");
        assert_eq!(answer["message"], json!({"type": "player.teleport", "matchId": "m1"}), "{answer}");
        wait_healthy(&format!("{base}/healthz")).await;
        ws.close(None).await.ok();
    });
    let _ = std::fs::remove_dir_all(&work);
}
