//! `nexori serve`: the sidecar a server operator runs next to the game server.
//!
//! - The **bridge**: game servers connect over WebSocket to `ws://LISTEN/bridge?server=NAME` with
//!   `Authorization: Bearer <bridge.token>` (or `?token=`), send the JSON messages of
//!   bridge-protocol.md and receive the host's commands. Errors go back to the sender as
//!   `{"type":"error","error":...,"message":<what was sent>}`. Commands for a match go to the game
//!   server that created it; while that server is disconnected they are queued, and delivered
//!   when it reconnects under the same name.
//! - **Operations**: `GET /healthz` (200 while serving, 503 while shutting down) and
//!   `GET /metrics` (Prometheus text).
//! - **Shutdown** on SIGTERM or Ctrl-C: new matches are refused, admission state is flushed,
//!   pending results are delivered for up to `shutdownTimeoutMs`, then the process exits. Results
//!   still pending stay in the outbox for the next start; a SIGKILL loses nothing either.
//!
//! The host itself runs on one thread (it owns the wasm stores); the network side runs on a tokio
//! runtime and talks to it through channels.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::arena_host::ArenaHost;
use crate::bridge::{self, BridgeMessage};
use crate::config::HostConfig;
use crate::live::LiveHost;
use crate::reporting;
use crate::shared::lock;

/// How often the mods directory is checked for new or changed mods.
const MOD_SCAN_INTERVAL: Duration = Duration::from_secs(2);
/// Queued commands kept for a disconnected game server.
const MAX_QUEUED_PER_SERVER: usize = 10_000;

/// What the network side hands the host thread.
enum Inbound {
    Message { server: String, text: String },
    Shutdown,
}

/// Connected game servers, queued commands and which server owns which match.
#[derive(Default)]
struct Hub {
    connections: HashMap<String, UnboundedSender<String>>,
    queued: HashMap<String, VecDeque<String>>,
    owners: HashMap<String, String>,
}

impl Hub {
    fn deliver(&mut self, server: &str, text: String) {
        if let Some(tx) = self.connections.get(server) {
            if tx.send(text.clone()).is_ok() {
                return;
            }
            self.connections.remove(server);
        }
        let queue = self.queued.entry(server.to_string()).or_default();
        if queue.len() >= MAX_QUEUED_PER_SERVER {
            queue.pop_front();
        }
        queue.push_back(text);
    }
}

struct NetState {
    token: String,
    hub: Arc<Mutex<Hub>>,
    inbound: Mutex<Sender<Inbound>>,
    metrics: Arc<Mutex<String>>,
    shutting_down: Arc<AtomicBool>,
}

/// Runs until SIGTERM / Ctrl-C.
pub fn run(config: HostConfig) -> anyhow::Result<()> {
    config
        .validate_for_serve()
        .map_err(|e| anyhow::anyhow!("invalid config: {e}"))?;
    let listen: std::net::SocketAddr = config.bridge.listen.parse()?;
    let data_dir = PathBuf::from(&config.data_dir);
    let mods_dir = PathBuf::from(&config.mods_dir);
    let (live, failures) = LiveHost::start(&config, &data_dir, &mods_dir)?;
    for (file, error) in failures {
        tracing::error!(target: "nexori::mods", file, "not loaded: {error}");
    }
    let mut live = live;
    let (outbox, sender) = (live.outbox.clone(), live.sender.clone());
    let host = &mut live.host;
    tracing::info!(target: "nexori::serve", mods = host.mods().count(), "mods loaded from {}", mods_dir.display());

    let (inbound_tx, inbound_rx) = channel::<Inbound>();
    let hub = Arc::new(Mutex::new(Hub::default()));
    let metrics = Arc::new(Mutex::new(String::new()));
    let shutting_down = Arc::new(AtomicBool::new(false));
    let net = Arc::new(NetState {
        token: config.bridge.token.clone(),
        hub: hub.clone(),
        inbound: Mutex::new(inbound_tx.clone()),
        metrics: metrics.clone(),
        shutting_down: shutting_down.clone(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("nexori-net")
        .enable_all()
        .build()?;
    let listener = runtime.block_on(tokio::net::TcpListener::bind(listen))?;
    tracing::info!(target: "nexori::serve", "bridge on ws://{}/bridge", listener.local_addr()?);
    let app = Router::new()
        .route("/bridge", get(bridge_upgrade))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .with_state(net);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    runtime.spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stop_rx.await;
            })
            .await;
    });
    let signal_tx = inbound_tx.clone();
    runtime.spawn(async move {
        wait_for_signal().await;
        let _ = signal_tx.send(Inbound::Shutdown);
    });

    host.watch_mods_dir(&mods_dir, MOD_SCAN_INTERVAL)?;
    let started = Instant::now();
    let mut processed: u64 = 0;
    let mut refused: u64 = 0;
    let mut stop = false;
    while !stop {
        let now = host.now();
        let wait = host
            .next_deadline()
            .map_or(50, |at| (at - now).clamp(0, 50)) as u64;
        let mut next = match inbound_rx.recv_timeout(Duration::from_millis(wait)) {
            Ok(inbound) => Some(inbound),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                stop = true;
                None
            }
        };
        // Whatever arrived while the last turn ran joins this one, so that all the results it
        // accepts share one commit (group commit; see reporting::outbox).
        let mut in_turn = 0;
        // (server, text) of each message, and the message or why it was refused.
        let mut received: Vec<(String, String)> = Vec::new();
        let mut messages: Vec<Result<BridgeMessage, String>> = Vec::new();
        while let Some(inbound) = next.take() {
            match inbound {
                Inbound::Message { server, text } => {
                    processed += 1;
                    let message = bridge::parse_line(&text).and_then(|message| {
                        if let BridgeMessage::MatchCreate(spec) = &message {
                            if shutting_down.load(Ordering::SeqCst) {
                                return Err("the host is shutting down and accepts no new matches"
                                    .to_string());
                            }
                            if let Some(id) = crate::ids::normalize_match_id(&spec.match_id) {
                                lock_hub(&hub).owners.insert(id, server.clone());
                            }
                        }
                        Ok(message)
                    });
                    messages.push(message);
                    received.push((server, text));
                }
                Inbound::Shutdown => {
                    stop = true;
                    break;
                }
            }
            in_turn += 1;
            if in_turn < ArenaHost::MAX_MESSAGES_PER_TURN {
                next = inbound_rx.try_recv().ok();
            }
        }
        // One turn: a match's consecutive game events reach its mod in one call.
        let applied = host.apply_received_turn(messages);
        for ((server, text), result) in received.into_iter().zip(applied) {
            if let Err(error) = result {
                refused += 1;
                let reply = json!({"type": "error", "error": error, "message": serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text))});
                lock_hub(&hub).deliver(&server, reply.to_string());
            }
        }
        // Mods reload without a restart: the watch's thread reads and compiles changed or new
        // files; here each one only runs its `init` and has its registrations checked (failures
        // are logged there, and the loaded version, if any, keeps serving).
        host.take_mod_updates();
        let now = host.now();
        host.advance_to(now);
        route_commands(host, &hub);
        *metrics.lock().unwrap_or_else(|p| p.into_inner()) = render_metrics(
            host,
            outbox.as_deref(),
            sender.as_deref(),
            processed,
            refused,
            started,
        );
    }

    // Graceful shutdown.
    tracing::info!(target: "nexori::serve", "shutting down: refusing new matches, flushing reports");
    shutting_down.store(true, Ordering::SeqCst);
    host.flush_admission();
    let deadline = Instant::now() + Duration::from_millis(config.shutdown_timeout_ms.max(0) as u64);
    let pending = live
        .drain(deadline, |host| {
            route_commands(host, &hub);
            Ok::<(), std::convert::Infallible>(())
        })
        .unwrap_or_else(|never| match never {});
    tracing::info!(target: "nexori::serve", pending, "stopped; pending results stay in the outbox");
    let _ = stop_tx.send(());
    drop(live);
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(())
}

fn lock_hub(hub: &Mutex<Hub>) -> std::sync::MutexGuard<'_, Hub> {
    hub.lock().unwrap_or_else(|p| p.into_inner())
}

/// Sends the host's commands to the game server that owns each match.
fn route_commands(host: &mut ArenaHost, hub: &Mutex<Hub>) {
    let commands = host.take_commands();
    if commands.is_empty() {
        return;
    }
    let mut hub = lock_hub(hub);
    for (_, command) in commands {
        let server = hub
            .owners
            .get(command.match_id())
            .cloned()
            .unwrap_or_else(|| "default".to_string());
        hub.deliver(&server, serde_json::to_string(&command).unwrap_or_default());
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn authorized(state: &NetState, headers: &HeaderMap, query: &HashMap<String, String>) -> bool {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let token = bearer.or_else(|| query.get("token").map(String::as_str));
    token.is_some_and(|t| !t.is_empty() && t == state.token)
}

async fn bridge_upgrade(
    State(state): State<Arc<NetState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !authorized(&state, &headers, &query) {
        return (StatusCode::UNAUTHORIZED, "a valid bridge token is required").into_response();
    }
    let server = query
        .get("server")
        .cloned()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "default".into());
    ws.on_upgrade(move |socket| connection(socket, server, state))
}

async fn connection(mut socket: WebSocket, server: String, state: Arc<NetState>) {
    let (tx, mut rx) = unbounded_channel::<String>();
    {
        let mut hub = lock_hub(&state.hub);
        // A reconnecting game server resumes: whatever was queued for it goes out first.
        if let Some(queued) = hub.queued.remove(&server) {
            for text in queued {
                let _ = tx.send(text);
            }
        }
        hub.connections.insert(server.clone(), tx);
    }
    tracing::info!(target: "nexori::serve", server, "game server connected");
    loop {
        tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    let inbound = Inbound::Message { server: server.clone(), text: text.to_string() };
                    if state.inbound.lock().unwrap_or_else(|p| p.into_inner()).send(inbound).is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            outgoing = rx.recv() => match outgoing {
                Some(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                None => break,
            },
        }
    }
    // Whatever was not sent stays queued for the next connection under this name.
    let mut hub = lock_hub(&state.hub);
    hub.connections.remove(&server);
    let mut leftover = Vec::new();
    while let Ok(text) = rx.try_recv() {
        leftover.push(text);
    }
    for text in leftover {
        hub.deliver(&server, text);
    }
    tracing::info!(target: "nexori::serve", server, "game server disconnected");
}

async fn healthz(State(state): State<Arc<NetState>>) -> Response {
    if state.shutting_down.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    } else {
        (StatusCode::OK, "ok\n").into_response()
    }
}

async fn metrics_text(State(state): State<Arc<NetState>>) -> Response {
    let body = state
        .metrics
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    ([("content-type", "text/plain; version=0.0.4")], body).into_response()
}

/// Prometheus text for the current state.
fn render_metrics(
    host: &ArenaHost,
    outbox: Option<&reporting::outbox::Outbox>,
    sender: Option<&reporting::sender::ResultSender>,
    processed: u64,
    refused: u64,
    started: Instant,
) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let shared = lock(host.shared());
    let now = shared.now();
    let mut by_state: HashMap<&str, u64> = HashMap::new();
    for m in shared
        .arena
        .match_ids()
        .filter_map(|id| shared.arena.get(id))
    {
        let state = if m.is_completed() {
            "completed"
        } else if m.placement.gate_open() {
            "active"
        } else {
            "placement"
        };
        *by_state.entry(state).or_default() += 1;
    }
    let _ = writeln!(out, "# TYPE nexori_matches gauge");
    for state in ["placement", "active", "completed"] {
        let _ = writeln!(
            out,
            "nexori_matches{{state=\"{state}\"}} {}",
            by_state.get(state).copied().unwrap_or(0)
        );
    }
    let _ = writeln!(
        out,
        "# TYPE nexori_bridge_messages_total counter\nnexori_bridge_messages_total {processed}"
    );
    let _ = writeln!(
        out,
        "# TYPE nexori_bridge_errors_total counter\nnexori_bridge_errors_total {refused}"
    );
    for (name, labels, value) in shared.trace.counters() {
        let _ = writeln!(out, "{name}{labels} {value}");
    }
    if let Some(outbox) = outbox
        && let Ok((pending, acknowledged, failed, oldest)) = outbox.depth()
    {
        let _ = writeln!(out, "# TYPE nexori_outbox_results gauge");
        let _ = writeln!(out, "nexori_outbox_results{{status=\"pending\"}} {pending}");
        let _ = writeln!(
            out,
            "nexori_outbox_results{{status=\"acknowledged\"}} {acknowledged}"
        );
        let _ = writeln!(out, "nexori_outbox_results{{status=\"failed\"}} {failed}");
        let age = oldest.map_or(0, |t| (now - t).max(0));
        let _ = writeln!(
            out,
            "# TYPE nexori_outbox_oldest_pending_age_ms gauge\nnexori_outbox_oldest_pending_age_ms {age}"
        );
    }
    if let Some(sender) = sender {
        let stats = sender.stats();
        let _ = writeln!(out, "# TYPE nexori_result_reports_total counter");
        for (outcome, n) in [
            ("acknowledged", &stats.acknowledged),
            ("retried", &stats.retries),
            ("failed_permanent", &stats.failed_permanent),
        ] {
            let _ = writeln!(
                out,
                "nexori_result_reports_total{{outcome=\"{outcome}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "nexori_result_report_attempts_total {}",
            stats.attempts.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# TYPE nexori_result_report_latency_microseconds_sum counter\nnexori_result_report_latency_microseconds_sum {}",
            stats.latency_micros_sum.load(Ordering::Relaxed)
        );
    }
    if let Some(publisher) = host.admission_publisher() {
        let s = &publisher.stats;
        let _ = writeln!(out, "# TYPE nexori_admission_snapshots_total counter");
        for (answer, n) in [
            ("acknowledged", s.acknowledged),
            ("not_acknowledged", s.not_acknowledged),
            ("permanent_failure", s.permanent_failures),
            ("auth_failure", s.auth_failures),
            ("retryable", s.retryable),
            ("unexpected", s.unexpected),
        ] {
            let _ = writeln!(
                out,
                "nexori_admission_snapshots_total{{answer=\"{answer}\"}} {n}"
            );
        }
    }
    let _ = writeln!(
        out,
        "# TYPE nexori_uptime_seconds gauge\nnexori_uptime_seconds {}",
        started.elapsed().as_secs()
    );
    out
}
