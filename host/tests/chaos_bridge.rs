//! The bridge of `nexori serve` under abuse, with real processes and real sockets: oversized and
//! long messages, a game server that does not read, reconnects under the same name, a server that
//! tries to take over another's match, and commands for a server that is away.

mod common;

use std::time::{Duration, Instant};

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const WAIT: Duration = Duration::from_secs(10);

/// A `scripted` match waiting for one player (who never comes within the test).
fn create(match_id: &str) -> Message {
    text(
        json!({"type": "match.create", "matchId": match_id, "queueId": "q", "arenaId": "a",
        "rulesEngineId": "scripted", "expectedPlayers": [{"uuid": player(1)}],
        "initialPlacementWindowSeconds": 600}),
    )
}

/// A game event that makes the `scripted` mod send one `game.command` per name, each carrying
/// `data_bytes` bytes of data.
fn commands(match_id: &str, names: &[String], data_bytes: usize) -> Message {
    let data = "x".repeat(data_bytes);
    let calls: Vec<Value> = names
        .iter()
        .map(|name| json!({"method": "sendGameCommand", "args": {"matchId": match_id, "name": name, "data": data}}))
        .collect();
    text(json!({"type": "game.event", "matchId": match_id, "kind": "script.calls", "data": calls}))
}

fn names(prefix: &str, n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("{prefix}{i}")).collect()
}

/// Creates a match on `ws` and has the host send it one command: the match's owner is served.
async fn play(ws: &mut Ws, match_id: &str) {
    ws.send(create(match_id)).await.unwrap();
    ws.send(commands(match_id, &["ping".to_string()], 0))
        .await
        .unwrap();
    let command = next_json(ws, WAIT).await;
    assert_eq!(
        (&command["type"], &command["matchId"], &command["name"]),
        (&json!("game.command"), &json!(match_id), &json!("ping")),
        "{command}"
    );
}

/// Reads until the connection ends and returns its close frame, failing on any text message.
async fn close_of(ws: &mut Ws) -> (CloseCode, String) {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => {
                return (frame.code, frame.reason.to_string());
            }
            Ok(Some(Ok(Message::Text(t)))) => panic!(
                "expected the connection to close, got a text message of {} bytes: {}",
                t.len(),
                &t[..t.len().min(200)]
            ),
            Ok(Some(Ok(_))) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_message_is_refused_unread_and_the_host_serves_on() {
    let serve = Serve::start("chaos-oversized", "");
    serve.ready().await;
    let mut flooder = connect(serve.port, "flooder").await;
    // 1 MiB, well-formed: today's host reads it whole and echoes it back in its error reply.
    let big = format!(
        r#"{{"type":"game.event","matchId":"nope","kind":"k","data":"{}"}}"#,
        "x".repeat(1 << 20)
    );
    // The host may close before the client has finished writing; what matters is the answer.
    let _ = flooder.send(Message::Text(big.into())).await;
    let (code, reason) = close_of(&mut flooder).await;
    assert_eq!(code, CloseCode::Size, "{reason}");
    assert_eq!(
        reason,
        "message of 1048635 bytes is over bridge.maxMessageBytes (262144)"
    );

    // Another game server is served as before.
    let mut arena = connect(serve.port, "arena").await;
    play(&mut arena, "m1").await;
    serve.wait_metrics(&["nexori_bridge_connections 1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_replies_quote_only_the_start_of_a_long_message() {
    let serve = Serve::start("chaos-quote", "");
    serve.ready().await;
    let mut ws = connect(serve.port, "arena").await;
    // Two-byte characters placed so that byte 256 falls inside one.
    let head = r#"{"type":"player.arrive","matchId":"m","player":"nope","pad":""#;
    let pad = if (256 - head.len()).is_multiple_of(2) {
        "x"
    } else {
        ""
    };
    let sent = format!("{head}{pad}{}\"}}", "é".repeat(5000));
    ws.send(Message::Text(sent.clone().into())).await.unwrap();
    let reply = next_json(&mut ws, WAIT).await;
    assert_eq!(reply["type"], "error");
    assert_eq!(
        reply["error"],
        "player.arrive: field \"player\": \"nope\" is not a UUID"
    );
    let quoted = reply["message"]
        .as_str()
        .unwrap_or_else(|| panic!("the message is quoted as text, not whole: {reply:.300}"));
    assert_eq!(quoted.len(), 255, "cut before the character at byte 256");
    assert!(sent.starts_with(quoted));
    assert_eq!(reply["messageTruncated"], true);
    assert_eq!(reply["messageBytes"], sent.len());

    // A short message is still quoted whole, as JSON.
    ws.send(text(json!({"type": "nope"}))).await.unwrap();
    let reply = next_json(&mut ws, WAIT).await;
    assert_eq!(reply["message"], json!({"type": "nope"}));
    assert_eq!(reply.get("messageTruncated"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_game_server_that_does_not_read_is_disconnected_and_others_play_on() {
    let serve = Serve::start("chaos-slow", "maxQueuedCommands = 200");
    serve.ready().await;
    let mut sleepy = connect(serve.port, "sleepy").await;
    sleepy.send(create("slow")).await.unwrap();
    sync(&mut sleepy).await;
    // From here on `sleepy` reads nothing, while another server's events make the host send it
    // 100 commands of 2 KiB each, again and again.
    let mut busy = connect(serve.port, "busy").await;
    play(&mut busy, "fine").await;
    let before = rss(serve.process.0.id());
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut sent = 0;
    loop {
        for _ in 0..10 {
            busy.send(commands("slow", &names("c", 100), 2048))
                .await
                .unwrap();
            sent += 100;
        }
        // Handled, so that the host holds no message of busy's while it is measured.
        sync(&mut busy).await;
        let grown = rss(serve.process.0.id()).saturating_sub(before);
        assert!(
            grown < 32 << 20,
            "the host grew by {} MiB after {sent} commands for sleepy",
            grown >> 20
        );
        let metrics = serve.metrics().await;
        if metrics.contains("nexori_bridge_slow_reader_disconnects_total{server=\"sleepy\"} 1") {
            let queued = metrics
                .lines()
                .find_map(|l| l.strip_prefix("nexori_bridge_commands_queued{server=\"sleepy\"} "))
                .map(|n| n.parse::<usize>().unwrap());
            assert!(queued.is_some_and(|n| n <= 200), "{metrics}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "sleepy was never disconnected after {sent} commands:\n{metrics}"
        );
    }
    // What reached sleepy's socket before it was cut is there to read, then the stream ends.
    let mut received = 0;
    loop {
        match tokio::time::timeout(WAIT, sleepy.next()).await {
            Ok(Some(Ok(Message::Text(_)))) => received += 1,
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) | Ok(Some(Err(_))) => break,
            Ok(Some(Ok(_))) => {}
            Err(_) => panic!("sleepy's connection is still open after {received} commands"),
        }
    }
    assert!(received < sent, "{received} of {sent}");
    // The other game server's match goes on.
    busy.send(commands("fine", &["again".to_string()], 0))
        .await
        .unwrap();
    assert_eq!(next_json(&mut busy, WAIT).await["name"], "again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_reconnects_under_its_name_keeps_the_new_connection() {
    let serve = Serve::start("chaos-reconnect", "");
    serve.ready().await;
    let mut old = connect(serve.port, "arena-1").await;
    old.send(create("r1")).await.unwrap();
    sync(&mut old).await;

    let mut new = connect(serve.port, "arena-1").await;
    // The old connection is closed, so that the match's commands cannot split between the two.
    let (code, reason) = close_of(&mut old).await;
    assert_eq!(
        (code, reason.as_str()),
        (
            CloseCode::from(4000),
            "replaced by a newer connection under the same server name"
        )
    );
    new.send(commands("r1", &["after".to_string()], 0))
        .await
        .unwrap();
    let command = next_json(&mut new, WAIT).await;
    assert_eq!(
        (&command["matchId"], &command["name"]),
        (&json!("r1"), &json!("after"))
    );
    serve.wait_metrics(&["nexori_bridge_connections 1"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_duplicate_create_does_not_take_over_the_match() {
    let serve = Serve::start("chaos-takeover", "");
    serve.ready().await;
    let mut a = connect(serve.port, "arena-a").await;
    a.send(create("dup")).await.unwrap();
    sync(&mut a).await;

    let mut b = connect(serve.port, "arena-b").await;
    b.send(create("dup")).await.unwrap();
    let refused = next_json(&mut b, WAIT).await;
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["message"]["matchId"], "dup");
    // The match's commands still go to the server that created it, whoever sends its events.
    b.send(commands("dup", &["mine".to_string()], 0))
        .await
        .unwrap();
    let command = next_json(&mut a, WAIT).await;
    assert_eq!(
        (&command["matchId"], &command["name"]),
        (&json!("dup"), &json!("mine"))
    );
    // B's next message is the answer to its own next message: no command came before it.
    sync(&mut b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_for_an_absent_server_are_capped_and_the_drops_counted() {
    let serve = Serve::start("chaos-queue", "maxQueuedCommands = 5");
    serve.ready().await;
    let mut away = connect(serve.port, "arena-q").await;
    away.send(create("q")).await.unwrap();
    sync(&mut away).await;
    // Once the host has let go of the socket, it has let go of the server.
    away.close(None).await.unwrap();
    while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, away.next()).await {}

    let mut other = connect(serve.port, "arena-o").await;
    other.send(commands("q", &names("c", 8), 0)).await.unwrap();
    sync(&mut other).await;
    serve
        .wait_metrics(&[
            "nexori_bridge_commands_dropped_total{server=\"arena-q\",reason=\"queue_full\"} 3",
            "nexori_bridge_commands_queued{server=\"arena-q\"} 5",
        ])
        .await;

    // Back under the same name: the five newest, in order.
    let mut back = connect(serve.port, "arena-q").await;
    let mut got = Vec::new();
    for _ in 0..5 {
        got.push(next_json(&mut back, WAIT).await["name"].clone());
    }
    assert_eq!(got, ["c4", "c5", "c6", "c7", "c8"]);
    serve
        .wait_metrics(&["nexori_bridge_commands_queued{server=\"arena-q\"} 0"])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_owner_of_a_match_that_is_over_is_forgotten() {
    let serve = Serve::start("chaos-owners", "");
    serve.ready().await;
    let mut ws = connect(serve.port, "arena").await;
    ws.send(create("brief")).await.unwrap();
    sync(&mut ws).await;
    serve.wait_metrics(&["nexori_bridge_match_owners 1"]).await;
    // The one player comes, plays and is sent back: the runtime closes.
    let p = player(1);
    ws.send(text(
        json!({"type": "player.arrive", "matchId": "brief", "player": p}),
    ))
    .await
    .unwrap();
    ws.send(text(
        json!({"type": "player.placed", "matchId": "brief", "player": p}),
    ))
    .await
    .unwrap();
    let back = json!({"method": "returnPlayerToLobby",
        "args": {"matchId": "brief", "playerUuid": p, "delaySeconds": 0, "reason": "done"}});
    ws.send(text(
        json!({"type": "game.event", "matchId": "brief", "kind": "script.call", "data": back}),
    ))
    .await
    .unwrap();
    let command = next_json(&mut ws, WAIT).await;
    assert_eq!(
        (&command["type"], &command["player"]),
        (&json!("player.return"), &json!(p))
    );
    serve
        .wait_metrics(&[
            "nexori_matches{state=\"placement\"} 0",
            "nexori_matches{state=\"active\"} 0",
            "nexori_matches{state=\"completed\"} 0",
            "nexori_bridge_match_owners 0",
        ])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_while_the_host_is_busy_waits_in_the_socket_not_in_the_host() {
    let serve = Serve::start_with(
        "chaos-flood",
        "inboundQueueBytes = 1048576",
        "[limits]\ncallbackDeadlineMs = 1000",
    );
    serve.ready().await;
    // Four mod callbacks that run to their deadline keep the host thread busy for 4 s.
    let mut stall = connect(serve.port, "stall").await;
    let spin = |n: u32| {
        text(json!({"type": "game.event", "matchId": format!("s{n}"), "kind": "script.spin"}))
    };
    for n in 0..=4 {
        stall.send(create(&format!("s{n}"))).await.unwrap();
    }
    // The first fault costs what faults cost (backtraces, logs); it is not what is measured.
    stall.send(spin(0)).await.unwrap();
    sync(&mut stall).await;
    let before = rss(serve.process.0.id());
    for n in 1..=4 {
        stall.send(spin(n)).await.unwrap();
    }
    // Meanwhile another game server sends 100 MiB.
    let mut flooder = connect(serve.port, "flooder").await;
    let flood = tokio::spawn(async move {
        let junk = format!("x{}", "y".repeat(250 << 10));
        for _ in 0..400 {
            flooder
                .send(Message::Text(junk.clone().into()))
                .await
                .unwrap();
        }
        flooder
    });
    let mut grown = 0;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        grown = grown.max(rss(serve.process.0.id()).saturating_sub(before));
    }
    assert!(grown < 32 << 20, "the host grew by {} MiB", grown >> 20);
    // Once the host is free, every message is handled, in order.
    let mut flooder = tokio::time::timeout(Duration::from_secs(60), flood)
        .await
        .expect("the flood never got through")
        .unwrap();
    for _ in 0..400 {
        let reply = next_json(&mut flooder, Duration::from_secs(60)).await;
        assert_eq!(reply["messageBytes"], 1 + (250 << 10), "{reply:.300}");
    }
    sync(&mut flooder).await;
}

/// Resident memory of a process, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap();
    kib << 10
}
