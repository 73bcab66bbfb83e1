//! The HTTP servers under abuse, as real processes on loopback: `nexori serve` and `nexori backend`
//! with more half-sent requests than their connection cap, clients waiting at the cap, the
//! bridge's and `/metrics`' authentication, and bridge strings over their length caps.

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::{BACKEND_TOKEN, BRIDGE_TOKEN, Reaper, free_port, nexori, wait_healthy};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};

const METRICS_TOKEN: &str = "metrics-secret";

/// A working directory removed when the test ends.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("nexori-chaos-http-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("mods")).unwrap();
        WorkDir(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running server: the process, its `host:port` and its working directory.
struct Running {
    _process: Reaper,
    addr: String,
    work: WorkDir,
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What the process logged so far (JSON lines for `serve`).
    fn log(&self) -> String {
        std::fs::read_to_string(self.work.0.join("stderr.log")).unwrap_or_default()
    }
}

/// `nexori serve` with no mods and `bridge` appended to its `[bridge]` section (which sets
/// `listen`; give `token` there). Logs go, as JSON, to the work directory's `stderr.log`.
async fn serve(name: &str, bridge: &str) -> Running {
    let work = WorkDir::new(name);
    let port = free_port();
    let config = work.0.join("nexori.toml");
    std::fs::write(
        &config,
        format!(
            "modsDir = {mods:?}\ndataDir = {data:?}\nshutdownTimeoutMs = 1000\n\n\
             [bridge]\nlisten = \"127.0.0.1:{port}\"\n{bridge}\n\n\
             [log]\nlevel = \"warn\"\nformat = \"json\"\n",
            mods = work.0.join("mods").display().to_string(),
            data = work.0.join("data").display().to_string(),
        ),
    )
    .unwrap();
    let stderr = std::fs::File::create(work.0.join("stderr.log")).unwrap();
    let process = Reaper(
        nexori(&["serve", "--config"])
            .arg(&config)
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap(),
    );
    let running = Running {
        _process: process,
        addr: format!("127.0.0.1:{port}"),
        work,
    };
    wait_healthy(&running.url("/healthz")).await;
    running
}

/// `nexori backend` with the given connection limits.
async fn backend(name: &str, max_connections: u32, header_read_timeout_ms: u64) -> Running {
    let work = WorkDir::new(name);
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let stderr = std::fs::File::create(work.0.join("stderr.log")).unwrap();
    let process = Reaper(
        nexori(&["backend", "--token", BACKEND_TOKEN, "--listen", &addr])
            .arg("--db")
            .arg(work.0.join("backend.sqlite"))
            .args(["--max-connections", &max_connections.to_string()])
            .args([
                "--header-read-timeout-ms",
                &header_read_timeout_ms.to_string(),
            ])
            .stderr(Stdio::from(stderr))
            .spawn()
            .unwrap(),
    );
    let running = Running {
        _process: process,
        addr,
        work,
    };
    wait_healthy(&running.url("/healthz")).await;
    running
}

async fn serve_with_limits(
    name: &str,
    max_connections: u32,
    header_read_timeout_ms: u64,
) -> Running {
    serve(
        name,
        &format!(
            "token = \"{BRIDGE_TOKEN}\"\nmaxConnections = {max_connections}\n\
             headerReadTimeoutMs = {header_read_timeout_ms}"
        ),
    )
    .await
}

/// `n` connections that each send the start of a request and never finish its head.
async fn half_sent_requests(addr: &str, n: usize) -> Vec<TcpStream> {
    let mut connections = Vec::with_capacity(n);
    for _ in 0..n {
        let mut connection = TcpStream::connect(addr).await.unwrap();
        connection
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: nexori\r\nX-Slow: ")
            .await
            .unwrap();
        connections.push(connection);
    }
    connections
}

/// Every connection is closed by the server (end of stream or reset) before the deadline.
async fn assert_closed_by_server(connections: Vec<TcpStream>, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    for (i, mut connection) in connections.into_iter().enumerate() {
        let mut answer = Vec::new();
        let read = tokio::time::timeout_at(deadline, connection.read_to_end(&mut answer)).await;
        assert!(
            read.is_ok(),
            "connection {i} (a half-sent request or a silent client) is still open after {within:?}"
        );
    }
}

/// A fresh client, so that no kept-alive connection of an earlier request holds a slot.
async fn get(url: &str, timeout: Duration) -> reqwest::Result<(u16, String)> {
    let response = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .unwrap()
        .get(url)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

/// More half-sent requests than the cap, and connections that send nothing at all, with a short
/// header-read timeout: the server closes all of them (those beyond the cap once they get a
/// slot), then serves a normal request.
async fn half_sent_requests_are_closed(server: &Running, healthy_path: &str) {
    let mut connections = half_sent_requests(&server.addr, 12).await;
    for _ in 0..3 {
        connections.push(TcpStream::connect(&server.addr).await.unwrap());
    }
    assert_closed_by_server(connections, Duration::from_secs(20)).await;
    let (status, _) = get(&server.url(healthy_path), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(status, 200);
}

/// At the cap (held by half-sent requests, with a long header-read timeout) a new client waits:
/// its request is not served until a slot frees, and then it is.
async fn clients_wait_for_a_slot_at_the_cap(server: &Running, healthy_path: &str) {
    let mut connections = half_sent_requests(&server.addr, 4).await;
    let waiting = get(&server.url(healthy_path), Duration::from_secs(1)).await;
    assert!(
        waiting.as_ref().is_err_and(reqwest::Error::is_timeout),
        "a request was served beyond the cap of 4 connections: {:?}",
        waiting.map(|(status, _)| status)
    );
    drop(connections.remove(0));
    let (status, _) = get(&server.url(healthy_path), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(status, 200, "served once a slot is free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_closes_half_sent_requests_beyond_its_cap_and_keeps_serving() {
    let server = serve_with_limits("serve-timeout", 4, 300).await;
    half_sent_requests_are_closed(&server, "/healthz").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_closes_half_sent_requests_beyond_its_cap_and_keeps_serving() {
    let server = backend("backend-timeout", 4, 300).await;
    half_sent_requests_are_closed(&server, "/api/stats").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_at_its_connection_cap_lets_a_new_client_wait_for_a_slot() {
    let server = serve_with_limits("serve-cap", 4, 60_000).await;
    clients_wait_for_a_slot_at_the_cap(&server, "/healthz").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_at_its_connection_cap_lets_a_new_client_wait_for_a_slot() {
    let server = backend("backend-cap", 4, 60_000).await;
    clients_wait_for_a_slot_at_the_cap(&server, "/api/stats").await;
}

type Bridge =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the bridge with `query` (after `?`) and, if given, this `Authorization` header.
async fn bridge(
    server: &Running,
    query: &str,
    authorization: Option<&str>,
) -> Result<Bridge, tungstenite::Error> {
    let mut request = format!("ws://{}/bridge?{query}", server.addr)
        .into_client_request()
        .unwrap();
    if let Some(authorization) = authorization {
        request
            .headers_mut()
            .insert("Authorization", authorization.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

fn refused_status(attempt: Result<Bridge, tungstenite::Error>) -> u16 {
    match attempt {
        Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("refused without an HTTP answer: {other}"),
        Ok(_) => panic!("the bridge accepted the connection"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bearer_scheme_is_case_insensitive_and_the_configured_token_trimmed() {
    // A token pasted with surrounding blanks, as from a secrets file with a trailing newline.
    let server = serve("bearer", &format!("token = \"  {BRIDGE_TOKEN}\\n\"")).await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let authorization = format!("{scheme} {BRIDGE_TOKEN}");
        let ws = bridge(&server, "server=a", Some(&authorization)).await;
        assert!(ws.is_ok(), "{authorization}: {:?}", ws.err());
    }
    for wrong in [
        format!("Bearer {BRIDGE_TOKEN}x"),
        format!("Bearer {}", &BRIDGE_TOKEN[1..]),
        format!("Basic {BRIDGE_TOKEN}"),
        "Bearer ".to_string(),
    ] {
        assert_eq!(
            refused_status(bridge(&server, "server=a", Some(&wrong)).await),
            401,
            "{wrong}"
        );
    }
    assert_eq!(refused_status(bridge(&server, "server=a", None).await), 401);
}

/// The log's warnings about `?token=`, by connection name.
fn query_token_warnings(log: &str) -> Vec<String> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|entry| {
            entry["level"] == "WARN"
                && entry["fields"]["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("?token="))
        })
        .map(|entry| entry["fields"]["server"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_query_token_still_works_and_is_warned_about_once_per_connection_name() {
    let server = serve("query-token", &format!("token = \"{BRIDGE_TOKEN}\"")).await;
    let query = |name: &str| format!("server={name}&token={BRIDGE_TOKEN}");
    for name in ["legacy", "legacy", "other", "legacy"] {
        let ws = bridge(&server, &query(name), None).await;
        assert!(ws.is_ok(), "{name}: {:?}", ws.err());
    }
    let header = format!("Bearer {BRIDGE_TOKEN}");
    assert!(
        bridge(&server, "server=modern", Some(&header))
            .await
            .is_ok()
    );
    assert_eq!(
        refused_status(bridge(&server, "server=x&token=wrong", None).await),
        401
    );
    assert_eq!(query_token_warnings(&server.log()), ["legacy", "other"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_put_behind_their_own_token() {
    let server = serve(
        "metrics",
        &format!("token = \"{BRIDGE_TOKEN}\"\nmetricsToken = \"{METRICS_TOKEN}\""),
    )
    .await;
    let client = reqwest::Client::new();
    let metrics = |authorization: Option<String>| {
        let mut request = client.get(server.url("/metrics"));
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };
    assert_eq!(metrics(None).await.0, 401);
    assert_eq!(
        metrics(Some(format!("Bearer {BRIDGE_TOKEN}"))).await.0,
        401,
        "the bridge token does not open /metrics"
    );
    assert_eq!(
        metrics(Some(format!("Bearer {METRICS_TOKEN}x"))).await.0,
        401
    );
    for scheme in ["Bearer", "bearer"] {
        let (status, body) = metrics(Some(format!("{scheme} {METRICS_TOKEN}"))).await;
        assert_eq!(status, 200);
        assert!(body.contains("nexori_uptime_seconds"), "{body}");
    }
    let (status, _) = get(&server.url("/healthz"), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(status, 200, "/healthz stays open");
}

/// The `error` of the next error reply on the bridge.
async fn next_error(ws: &mut Bridge) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                let reply: Value = serde_json::from_str(&text).unwrap();
                if reply["type"] == "error" {
                    return reply["error"].as_str().unwrap().to_string();
                }
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no error reply: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bridge_strings_over_their_cap_are_refused_naming_the_field() {
    let server = serve("strings", &format!("token = \"{BRIDGE_TOKEN}\"")).await;
    let header = format!("Bearer {BRIDGE_TOKEN}");
    let mut ws = bridge(&server, "server=arena-1", Some(&header))
        .await
        .unwrap();
    let player = "11111111-1111-4111-8111-111111111111";
    let send = |message: Value| Message::Text(message.to_string().into());
    ws.send(send(
        json!({"type": "player.arrive", "matchId": "m".repeat(5000), "player": player}),
    ))
    .await
    .unwrap();
    assert_eq!(
        next_error(&mut ws).await,
        "player.arrive: field \"matchId\": is 5000 bytes; the limit is 128"
    );
    ws.send(send(
        json!({"type": "player.disconnect", "player": player, "reason": "r".repeat(1025)}),
    ))
    .await
    .unwrap();
    assert_eq!(
        next_error(&mut ws).await,
        "player.disconnect: field \"reason\": is 1025 bytes; the limit is 1024"
    );
    ws.send(send(json!({"type": "match.create", "matchId": "m1",
        "expectedPlayers": [{"uuid": player, "name": "n".repeat(129)}]})))
        .await
        .unwrap();
    assert_eq!(
        next_error(&mut ws).await,
        "match.create: field \"expectedPlayers[0].name\": is 129 bytes; the limit is 128"
    );
    // The connection and the host go on: a message within the caps is handled as usual.
    ws.send(send(
        json!({"type": "game.event", "matchId": "nope", "kind": "k".repeat(128)}),
    ))
    .await
    .unwrap();
    assert_eq!(next_error(&mut ws).await, "unknown match \"nope\"");
    let (status, _) = get(&server.url("/healthz"), Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(status, 200);
}

/// A client without the bridge token gets its 401 and loses the connection with it, however
/// it asks to keep it alive: unauthenticated clients cannot sit on the slots game servers need.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_client_does_not_keep_its_connection() {
    let server = serve(
        "refused-close",
        &format!("token = \"{BRIDGE_TOKEN}\"\nheaderReadTimeoutMs = 60000"),
    )
    .await;
    for request in [
        "GET /bridge?server=x HTTP/1.1\r\nHost: nexori\r\nConnection: keep-alive\r\n\r\n",
        "GET /bridge?server=x HTTP/1.1\r\nHost: nexori\r\nAuthorization: Bearer wrong\r\n\r\n",
    ] {
        let mut connection = TcpStream::connect(&server.addr).await.unwrap();
        connection.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        let read =
            tokio::time::timeout(Duration::from_secs(10), connection.read_to_end(&mut answer))
                .await;
        assert!(read.is_ok(), "the connection stayed open after the 401");
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    }
}
