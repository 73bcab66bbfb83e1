//! `nexori serve`: the sidecar a server operator runs next to the game server.
//!
//! - The **bridge**: game servers connect over WebSocket to `ws://LISTEN/bridge?server=NAME` with
//!   `Authorization: Bearer <bridge.token>` (or `?token=`), send the JSON messages of
//!   docs/bridge-protocol.md and receive the host's commands. Errors go back to the sender as
//!   `{"type":"error","error":...,"message":<what was sent>}`; a message longer than 256 bytes
//!   is quoted by its first 256 bytes (cut on a character boundary) as a string, with
//!   `"messageTruncated": true` and `"messageBytes": <its length>`. A message over
//!   `bridge.maxMessageBytes` is not read at all: the connection is closed with code 1009.
//!   Commands for a match go to the game server whose `match.create` created it (no other server
//!   can take them over); while that server is disconnected they are queued, and delivered when it
//!   reconnects under the same name. A new connection under a name that is connected already
//!   replaces the old one, which is closed with code 4000, so a match's commands never split.
//! - **Queues**. Everything between the sockets and the host thread is bounded. Inbound, received
//!   messages wait for the host thread within `bridge.inboundQueueBytes` (all connections
//!   together); when that is full a connection stops reading its socket until the host catches
//!   up, so a flooding game server slows itself down, not the host. Outbound, each game server
//!   has one queue of commands, connected or not, of at most `bridge.maxQueuedCommands` and
//!   `bridge.maxQueuedBytes`: a connected server that falls that far behind is disconnected as too slow a reader (close
//!   code 1008, a warning naming it) and its commands stay queued; for a disconnected server the
//!   oldest are dropped. After `bridge.absentServerExpiryMs` without a connection its queue is
//!   dropped, as is anything more for it, and the server is forgotten once it owns no match.
//!   Every drop is counted in `nexori_bridge_commands_dropped_total{server,reason}` and the first
//!   of each absence is logged. A command whose match has no owner (never the case for a match a
//!   server created) is dropped and counted in `nexori_bridge_commands_unroutable_total`.
//! - **Operations**: `GET /healthz` (200 while serving; 503 while shutting down, or degraded while
//!   the outbox commit fails) and `GET /metrics` (Prometheus text; behind `bridge.metricsToken`
//!   when one is set).
//! - **Access**: `bridge_auth` says who may use the bridge and `/metrics` (`?token=` is
//!   discouraged). At most `bridge.maxConnections` connections at once, and a request head must
//!   arrive within `bridge.headerReadTimeoutMs` (see `http_server`).
//! - **Shutdown** on SIGTERM or Ctrl-C: new matches are refused, admission state is flushed,
//!   pending results are delivered for up to `shutdownTimeoutMs`, then the process exits. Results
//!   still pending stay in the outbox for the next start; a SIGKILL loses nothing either.
//!
//! The host itself runs on one thread (it owns the wasm stores); the network side runs on a tokio
//! runtime and talks to it through channels.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::bridge_auth::{BridgeAuth, Credential};
use crate::config::{BridgeSettings, HostConfig};
use crate::live::{LiveHost, turn_time};
use nexori_host::arena_host::ArenaHost;
use nexori_host::bridge::{self, BridgeMessage};
use nexori_host::host_state::lock;
use nexori_reporting as reporting;

/// How often the mods directory is checked for new or changed mods.
const MOD_SCAN_INTERVAL: Duration = Duration::from_secs(2);
/// How often `/metrics` is rendered afresh (its text is what the host saw at most this long ago).
const METRICS_REFRESH: Duration = Duration::from_millis(250);

/// How much of a refused message an error reply quotes, in bytes.
const QUOTED_MESSAGE_BYTES: usize = 256;
/// How much of an error text an error reply carries, in bytes (errors may quote field values).
const QUOTED_ERROR_BYTES: usize = 1024;
/// Longest `server` name a game server may connect under (it becomes a metrics label).
const MAX_SERVER_NAME_BYTES: usize = 128;
/// How often the hub forgets owners of closed matches and expires absent servers' queues.
const HUB_PRUNE_INTERVAL: Duration = Duration::from_secs(1);
/// Owners recorded beyond this many make the host prune at once rather than at the next tick.
const OWNERS_PRUNE_AT: usize = 10_000;
/// How long a new connection waits for the old one under its name to hand over its queue.
const HANDOVER_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a closing connection tries to send its close frame.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);
/// The close code a connection gets when a newer one takes its server name (private range).
const CLOSE_REPLACED: u16 = 4000;

/// What the network side hands the host thread.
enum Inbound {
    Message {
        server: String,
        text: String,
        /// The message's share of `bridge.inboundQueueBytes`, given back once its turn is over.
        capacity: OwnedSemaphorePermit,
    },
    Shutdown,
}

/// Why a connection ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    /// The game server closed it, or the socket broke.
    Gone,
    /// A message over `bridge.maxMessageBytes` came in.
    TooBig { size: usize, limit: usize },
    /// A newer connection took the server name.
    Replaced,
    /// The server let `bridge.maxQueuedCommands` commands, or `bridge.maxQueuedBytes`, pile up.
    TooSlow { queued: usize, bytes: usize },
    /// The host thread stopped.
    HostStopped,
}

impl Ending {
    /// The close frame the game server gets, if any.
    fn close_frame(self) -> Option<CloseFrame> {
        let (code, reason) = match self {
            Ending::Gone | Ending::HostStopped => return None,
            Ending::TooBig { size, limit } => (
                close_code::SIZE,
                format!("message of {size} bytes is over bridge.maxMessageBytes ({limit})"),
            ),
            Ending::Replaced => (
                CLOSE_REPLACED,
                "replaced by a newer connection under the same server name".to_string(),
            ),
            Ending::TooSlow { queued, bytes } => (
                close_code::POLICY,
                format!("too slow a reader: {queued} commands ({bytes} bytes) waiting"),
            ),
        };
        Some(CloseFrame {
            code,
            reason: reason.into(),
        })
    }
}

/// Wakes a connection task: a command is queued, or it must go.
#[derive(Default)]
struct LinkSignals {
    wake: Notify,
    stop: Notify,
}

/// The connection a game server is reachable through.
struct Link {
    id: u64,
    signals: Arc<LinkSignals>,
    /// Set when the hub told the connection to go; it stays here until its task has left.
    leaving: Option<Ending>,
}

/// A game server's commands waiting for its socket, with their size.
#[derive(Default)]
struct Backlog {
    items: VecDeque<String>,
    bytes: usize,
}

impl Backlog {
    fn len(&self) -> usize {
        self.items.len()
    }

    fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether `text` would take it over either limit.
    fn full_for(&self, text: &str, limits: QueueLimits) -> bool {
        self.items.len() >= limits.commands || self.bytes + text.len() > limits.bytes
    }

    fn push_back(&mut self, text: String) {
        self.bytes += text.len();
        self.items.push_back(text);
    }

    fn push_front(&mut self, text: String) {
        self.bytes += text.len();
        self.items.push_front(text);
    }

    fn pop_front(&mut self) -> Option<String> {
        let text = self.items.pop_front()?;
        self.bytes -= text.len();
        Some(text)
    }

    fn clear(&mut self) {
        *self = Backlog::default();
    }
}

/// `bridge.maxQueuedCommands` and `bridge.maxQueuedBytes`.
#[derive(Clone, Copy)]
struct QueueLimits {
    commands: usize,
    bytes: usize,
}

/// One game server the hub knows: connected, or disconnected for less than
/// `absentServerExpiryMs`, or owning a match.
#[derive(Default)]
struct GameServer {
    /// Commands and error replies not yet written to its socket, oldest first: one queue
    /// whether or not it is connected, so that nothing overtakes anything across reconnects.
    queue: Backlog,
    link: Option<Link>,
    /// Since when no connection reads for it; `None` while one does.
    absent_since: Option<Instant>,
    dropped_queue_full: u64,
    dropped_expired: u64,
    slow_disconnects: u64,
    /// Whether this absence's first drop was logged; the rest are only counted.
    drop_logged: bool,
}

impl GameServer {
    fn reading(&self) -> bool {
        self.link.as_ref().is_some_and(|l| l.leaving.is_none())
    }

    fn expired(&self, now: Instant, expiry: Duration) -> bool {
        self.absent_since
            .is_some_and(|since| now.saturating_duration_since(since) >= expiry)
    }

    /// Tells the connection to go; its commands stay queued.
    fn cut(&mut self, why: Ending, now: Instant) {
        if let Some(link) = self.link.as_mut().filter(|l| l.leaving.is_none()) {
            link.leaving = Some(why);
            link.signals.stop.notify_one();
            self.absent_since = Some(now);
        }
    }

    fn log_drop(&mut self, server: &str, reason: &str, text: &str) {
        if !self.drop_logged {
            self.drop_logged = true;
            tracing::warn!(target: "nexori::serve", server, reason, command = quote(text, QUOTED_MESSAGE_BYTES).0,
                "game server is not connected: dropping its commands (the rest of this absence only in nexori_bridge_commands_dropped_total)");
        }
    }
}

/// Connected game servers, queued commands and which server owns which match.
struct Hub {
    servers: HashMap<String, GameServer>,
    /// Match id (normalized) to the server whose `match.create` created it.
    owners: HashMap<String, String>,
    queue_limits: QueueLimits,
    absent_expiry: Duration,
    next_link: u64,
    unroutable: u64,
}

impl Hub {
    fn new(settings: &BridgeSettings) -> Self {
        Self {
            servers: HashMap::new(),
            owners: HashMap::new(),
            queue_limits: QueueLimits {
                commands: settings.max_queued_commands,
                bytes: settings.max_queued_bytes,
            },
            absent_expiry: Duration::from_millis(settings.absent_server_expiry_ms),
            next_link: 0,
            unroutable: 0,
        }
    }

    /// Queues `text` for `server` and wakes its connection, under the queue policy of the
    /// module docs.
    fn deliver(&mut self, server: &str, text: String, now: Instant) {
        Self::deliver_to(
            &mut self.servers,
            (self.queue_limits, self.absent_expiry),
            server,
            text,
            now,
        );
    }

    /// [`deliver`](Self::deliver) with the hub's fields apart, so that `route` can deliver to an
    /// owner it has borrowed from `owners`.
    fn deliver_to(
        servers: &mut HashMap<String, GameServer>,
        (limits, expiry): (QueueLimits, Duration),
        server: &str,
        text: String,
        now: Instant,
    ) {
        if !servers.contains_key(server) {
            let absent = GameServer {
                absent_since: Some(now),
                ..GameServer::default()
            };
            servers.insert(server.to_string(), absent);
        }
        let Some(s) = servers.get_mut(server) else {
            return;
        };
        if s.reading() {
            if !s.queue.full_for(&text, limits) {
                s.queue.push_back(text);
                if let Some(link) = &s.link {
                    link.signals.wake.notify_one();
                }
                return;
            }
            let (queued, bytes) = (s.queue.len(), s.queue.bytes);
            tracing::warn!(target: "nexori::serve", server, queued, bytes,
                "game server reads too slowly: disconnecting it (bridge.maxQueuedCommands, maxQueuedBytes); its commands stay queued");
            s.slow_disconnects += 1;
            s.cut(Ending::TooSlow { queued, bytes }, now);
            // Cut for being behind, not for this command: it joins the queue the server finds
            // when it reconnects, one over the limit rather than pushing out the oldest.
            s.queue.push_back(text);
            return;
        }
        if s.expired(now, expiry) {
            s.dropped_expired += 1;
            s.log_drop(server, "expired", &text);
            return;
        }
        while s.queue.full_for(&text, limits)
            && let Some(oldest) = s.queue.pop_front()
        {
            s.dropped_queue_full += 1;
            s.log_drop(server, "queue_full", &oldest);
        }
        s.queue.push_back(text);
    }

    /// Sends a command to the server that owns its match.
    fn route(&mut self, match_id: &str, text: String, now: Instant) {
        let settings = (self.queue_limits, self.absent_expiry);
        match self.owners.get(match_id) {
            Some(server) => Self::deliver_to(&mut self.servers, settings, server, text, now),
            None => {
                self.unroutable += 1;
                if self.unroutable.is_power_of_two() {
                    tracing::warn!(target: "nexori::serve", match_id, dropped = self.unroutable,
                        "no game server owns this match: command dropped");
                }
            }
        }
    }

    /// Makes a new connection `server`'s link, or, while an older one still holds the name,
    /// tells that one to go and returns `None` (`force`: take the name anyway).
    fn join(&mut self, server: &str, force: bool) -> Option<(u64, Arc<LinkSignals>)> {
        let s = self.servers.entry(server.to_string()).or_default();
        if s.link.is_some() && !force {
            if s.reading() {
                tracing::info!(target: "nexori::serve", server, "a new connection replaces the game server's current one");
            }
            s.cut(Ending::Replaced, Instant::now());
            return None;
        }
        self.next_link += 1;
        let signals = Arc::new(LinkSignals::default());
        s.link = Some(Link {
            id: self.next_link,
            signals: signals.clone(),
            leaving: None,
        });
        s.absent_since = None;
        s.drop_logged = false;
        Some((self.next_link, signals))
    }

    /// Why connection `id` must end, if it must.
    fn ending_of(&self, server: &str, id: u64) -> Option<Ending> {
        match self.servers.get(server).and_then(|s| s.link.as_ref()) {
            Some(link) if link.id == id => link.leaving,
            _ => Some(Ending::Replaced),
        }
    }

    /// The next command for connection `id`, or why it must end.
    fn next_for(&mut self, server: &str, id: u64) -> Result<Option<String>, Ending> {
        match self.ending_of(server, id) {
            Some(ending) => Err(ending),
            None => Ok(self
                .servers
                .get_mut(server)
                .and_then(|s| s.queue.pop_front())),
        }
    }

    /// Puts back a command connection `id` could not send, first in line. It was counted
    /// against the limits when it was queued, so it always goes back: the queue may stand one
    /// or two over them until the next command for the server makes room.
    fn put_back(&mut self, server: &str, text: String) {
        let s = self.servers.entry(server.to_string()).or_default();
        s.queue.push_front(text);
    }

    /// Connection `id` has ended: the server is absent unless a newer connection has it.
    fn leave(&mut self, server: &str, id: u64, now: Instant) {
        if let Some(s) = self.servers.get_mut(server)
            && s.link.as_ref().is_some_and(|l| l.id == id)
        {
            s.link = None;
            s.absent_since.get_or_insert(now);
        }
    }

    /// Forgets owners of matches that are over (`live` says which are not), and expires the
    /// queues of servers absent for longer than `absentServerExpiryMs`.
    fn prune(&mut self, now: Instant, live: impl Fn(&str) -> bool) {
        self.owners.retain(|id, _| live(id));
        let owning: HashSet<&str> = self.owners.values().map(String::as_str).collect();
        let expiry = self.absent_expiry;
        self.servers.retain(|server, s| {
            if s.link.is_some() || owning.contains(server.as_str()) && !s.expired(now, expiry) {
                return true;
            }
            if s.expired(now, expiry) {
                if !s.queue.is_empty() {
                    tracing::warn!(target: "nexori::serve", server, dropped = s.queue.len(),
                        "game server gone for longer than bridge.absentServerExpiryMs: its queued commands are dropped");
                    s.dropped_expired += s.queue.len() as u64;
                    s.queue.clear();
                }
                return owning.contains(server.as_str());
            }
            // Absent, owning nothing: kept while it has something to say (queued replies,
            // counts), forgotten at once otherwise, so names that come and go cost nothing.
            !s.queue.is_empty()
                || s.dropped_queue_full + s.dropped_expired + s.slow_disconnects > 0
        });
    }

    /// The hub's part of `/metrics`.
    fn write_metrics(&self, out: &mut String) {
        use std::fmt::Write as _;
        let mut servers: Vec<_> = self.servers.iter().collect();
        servers.sort_by(|a, b| a.0.cmp(b.0));
        let connected = servers.iter().filter(|(_, s)| s.reading()).count();
        let _ = writeln!(
            out,
            "# TYPE nexori_bridge_connections gauge\nnexori_bridge_connections {connected}"
        );
        let _ = writeln!(
            out,
            "# TYPE nexori_bridge_match_owners gauge\nnexori_bridge_match_owners {}",
            self.owners.len()
        );
        let _ = writeln!(out, "# TYPE nexori_bridge_commands_queued gauge");
        for (name, s) in &servers {
            let _ = writeln!(
                out,
                "nexori_bridge_commands_queued{{server=\"{}\"}} {}",
                label(name),
                s.queue.len()
            );
        }
        let _ = writeln!(out, "# TYPE nexori_bridge_commands_dropped_total counter");
        for (name, s) in &servers {
            for (reason, n) in [
                ("queue_full", s.dropped_queue_full),
                ("expired", s.dropped_expired),
            ] {
                if n > 0 {
                    let _ = writeln!(
                        out,
                        "nexori_bridge_commands_dropped_total{{server=\"{}\",reason=\"{reason}\"}} {n}",
                        label(name)
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "# TYPE nexori_bridge_slow_reader_disconnects_total counter"
        );
        for (name, s) in &servers {
            if s.slow_disconnects > 0 {
                let _ = writeln!(
                    out,
                    "nexori_bridge_slow_reader_disconnects_total{{server=\"{}\"}} {}",
                    label(name),
                    s.slow_disconnects
                );
            }
        }
        let _ = writeln!(
            out,
            "# TYPE nexori_bridge_commands_unroutable_total counter\nnexori_bridge_commands_unroutable_total {}",
            self.unroutable
        );
    }
}

/// A Prometheus label value: `\`, `"` and line feeds escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// At most `limit` bytes of `text`, cut on a character boundary, and whether it was cut.
fn quote(text: &str, limit: usize) -> (&str, bool) {
    if text.len() <= limit {
        return (text, false);
    }
    let mut end = limit;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

/// The error reply to a refused message: the message itself when short, else only its start.
fn error_reply(error: &str, text: &str) -> String {
    let error = match quote(error, QUOTED_ERROR_BYTES) {
        (error, false) => error.to_string(),
        (start, true) => format!("{start}…"),
    };
    match quote(text, QUOTED_MESSAGE_BYTES) {
        (_, false) => json!({"type": "error", "error": error,
            "message": serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::String(text.to_string()))}),
        (start, true) => json!({"type": "error", "error": error, "message": start,
            "messageTruncated": true, "messageBytes": text.len()}),
    }
    .to_string()
}

struct NetState {
    auth: BridgeAuth,
    hub: Arc<Mutex<Hub>>,
    inbound: Mutex<Sender<Inbound>>,
    /// `bridge.inboundQueueBytes`, in permits of one byte.
    inbound_capacity: Arc<Semaphore>,
    /// Told when a connection leaves the hub, for a new one waiting to take its name.
    handover: Notify,
    max_message_bytes: usize,
    metrics: Arc<Mutex<String>>,
    shutting_down: Arc<AtomicBool>,
    /// Whether the outbox commit is failing (`/healthz` says degraded).
    commit_health: Arc<reporting::CommitHealth>,
}

/// Runs until SIGTERM / Ctrl-C.
pub fn run(config: HostConfig) -> anyhow::Result<()> {
    config
        .validate_for_serve()
        .map_err(|e| anyhow::anyhow!("invalid config: {e}"))?;
    let listen: std::net::SocketAddr = config.bridge.listen.parse()?;
    let data_dir = PathBuf::from(&config.data_dir);
    let mods_dir = PathBuf::from(&config.mods_dir);
    let (live, failures) = LiveHost::start(&config, &data_dir, &mods_dir, "serve")?;
    for (file, error) in failures {
        tracing::error!(target: "nexori::mods", file, "not loaded: {error}");
    }
    let mut live = live;
    let (outbox, sender) = (live.outbox.clone(), live.sender.clone());
    let host = &mut live.host;
    tracing::info!(target: "nexori::serve", mods = host.mods().count(), "mods loaded from {}", mods_dir.display());

    let (inbound_tx, inbound_rx) = channel::<Inbound>();
    let hub = Arc::new(Mutex::new(Hub::new(&config.bridge)));
    let metrics = Arc::new(Mutex::new(String::new()));
    let shutting_down = Arc::new(AtomicBool::new(false));
    let net = Arc::new(NetState {
        auth: BridgeAuth::new(&config.bridge.token, &config.bridge.metrics_token),
        hub: hub.clone(),
        inbound: Mutex::new(inbound_tx.clone()),
        inbound_capacity: Arc::new(Semaphore::new(config.bridge.inbound_queue_bytes)),
        handover: Notify::new(),
        max_message_bytes: config.bridge.max_message_bytes,
        metrics: metrics.clone(),
        shutting_down: shutting_down.clone(),
        commit_health: host.commit_health(),
    });
    // One network thread: the host's turns run on this thread's own, and a second network
    // worker on two cores mostly added wake-ups between the two (measured with serve-load.sh:
    // 8.7 -> 8.2 us of serve CPU per game event, p99 event-to-command 6.6 -> 5.4 ms).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
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
    let limits = config.bridge.connection_limits();
    runtime.spawn(nexori_http_server::serve(listener, app, limits, async {
        let _ = stop_rx.await;
    }));
    let signal_tx = inbound_tx.clone();
    // Also a flag: a host paused behind a failing outbox commit reads no messages, but must
    // still hear SIGTERM.
    let signalled = Arc::new(AtomicBool::new(false));
    let signal_flag = signalled.clone();
    runtime.spawn(async move {
        wait_for_signal().await;
        signal_flag.store(true, Ordering::SeqCst);
        let _ = signal_tx.send(Inbound::Shutdown);
    });

    host.watch_mods_dir(&mods_dir, MOD_SCAN_INTERVAL)?;
    let started = Instant::now();
    let mut last_prune = Instant::now();
    // Rendering reads the outbox (SQLite) under the shared lock: at most every
    // METRICS_REFRESH, not on every turn.
    let last_metrics: std::cell::Cell<Option<Instant>> = std::cell::Cell::new(None);
    let publish_metrics = |host: &ArenaHost, processed: u64, refused: u64| {
        if last_metrics
            .get()
            .is_some_and(|at| at.elapsed() < METRICS_REFRESH)
        {
            return;
        }
        last_metrics.set(Some(Instant::now()));
        *metrics.lock().unwrap_or_else(|p| p.into_inner()) = render_metrics(
            host,
            outbox.as_deref(),
            sender.as_deref(),
            processed,
            refused,
            started,
            &hub,
        );
    };
    let mut processed: u64 = 0;
    let mut refused: u64 = 0;
    let mut stop = false;
    while !stop {
        if host.paused() {
            // Behind a failing outbox commit with `outboxMaxHeldCommands` held: take no
            // messages (the inbound queue fills and the sockets push back) and move no time,
            // only retry the commit, until it succeeds.
            std::thread::sleep(Duration::from_millis(50));
            route_commands(host, &hub);
            publish_metrics(host, processed, refused);
            stop = signalled.load(Ordering::SeqCst);
            continue;
        }
        let now = turn_time();
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
        // The match each `match.create` would create: its sender owns it once it is created.
        let mut creates: Vec<Option<String>> = Vec::new();
        // The turn's messages keep their place in the inbound queue until the turn is over.
        let mut capacity: Vec<OwnedSemaphorePermit> = Vec::new();
        while let Some(inbound) = next.take() {
            match inbound {
                Inbound::Message {
                    server,
                    text,
                    capacity: permit,
                } => {
                    processed += 1;
                    capacity.push(permit);
                    let message = bridge::parse_line(&text)
                        .map_err(|e| e.to_string())
                        .and_then(|message| {
                            if let BridgeMessage::MatchCreate(_) = &message
                                && shutting_down.load(Ordering::SeqCst)
                            {
                                return Err("the host is shutting down and accepts no new matches"
                                    .to_string());
                            }
                            Ok(message)
                        });
                    creates.push(match &message {
                        Ok(BridgeMessage::MatchCreate(spec)) => {
                            nexori_runtime::ids::normalize_match_id(&spec.match_id)
                        }
                        _ => None,
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
        // One turn, at one time: first what fell due up to now, then the messages (a match's
        // consecutive game events reach its mod in one call).
        host.advance_to(turn_time());
        // What fell due goes out before anything that answers the turn's messages: a match that
        // closed now has its players returned before the error reply to a tick that came too
        // late for it.
        route_commands(host, &hub);
        let applied = host.apply_received_turn(messages);
        if !received.is_empty() {
            let mut hub = lock_hub(&hub);
            let now = Instant::now();
            for (((server, text), created), result) in
                received.into_iter().zip(creates).zip(applied)
            {
                match result {
                    // Only a match this server's message created is this server's.
                    Ok(()) => {
                        if let Some(id) = created {
                            hub.owners.insert(id, server);
                        }
                    }
                    Err(error) => {
                        refused += 1;
                        hub.deliver(&server, error_reply(&error.to_string(), &text), now);
                    }
                }
            }
        }
        drop(capacity);
        // Mods reload without a restart: the watch's thread reads and compiles changed or new
        // files; here each one only runs its `init` and has its registrations checked (failures
        // are logged there, and the loaded version, if any, keeps serving).
        host.take_mod_updates();
        route_commands(host, &hub);
        if last_prune.elapsed() >= HUB_PRUNE_INTERVAL
            || lock_hub(&hub).owners.len() > OWNERS_PRUNE_AT
        {
            last_prune = Instant::now();
            prune_hub(host, &hub);
        }
        publish_metrics(host, processed, refused);
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
    let now = Instant::now();
    for (_, command) in commands {
        let text = command.to_json_line();
        hub.route(command.match_id(), text, now);
    }
}

/// Forgets the owners of matches that are over: gone from the runtime, with no command of theirs
/// still held back in the host. Expires absent servers' queues.
fn prune_hub(host: &ArenaHost, hub: &Mutex<Hub>) {
    let shared = lock(host.shared());
    let held: HashSet<&str> = shared.commands.iter().map(|(_, c)| c.match_id()).collect();
    lock_hub(hub).prune(Instant::now(), |id| {
        held.contains(id) || shared.arena.get(id).is_some()
    });
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

async fn bridge_upgrade(
    State(state): State<Arc<NetState>>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    // Taken as a `Result` so the token is checked first: a client that is not a game server
    // hears 401 and loses the connection, whatever it sent.
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let token = query.get("token").map(String::as_str);
    let Some(credential) = state.auth.bridge(&headers, token) else {
        // The connection goes with the answer: a client without the token must not keep one of
        // the `maxConnections` slots game servers need.
        return (
            StatusCode::UNAUTHORIZED,
            [("connection", "close")],
            "a valid bridge token is required",
        )
            .into_response();
    };
    let server = query
        .get("server")
        .cloned()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "default".into());
    if server.len() > MAX_SERVER_NAME_BYTES {
        let error = format!("the server name is longer than {MAX_SERVER_NAME_BYTES} bytes");
        return (StatusCode::BAD_REQUEST, error).into_response();
    }
    if credential == Credential::Query {
        state.auth.warn_query_token(&server);
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => return rejection.into_response(),
    };
    // Tungstenite checks a frame's length from its header, so an oversized message is refused
    // before it is read, not after it has been buffered.
    ws.max_message_size(state.max_message_bytes)
        .max_frame_size(state.max_message_bytes)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| connection(socket, server, state))
}

/// How much one read of a bridge socket takes at most. Tungstenite zero-fills this much of its
/// buffer before every read, so its default of 128 KiB cost a 128 KiB `memset` per read, about a
/// tenth of serve's CPU under load; 8 KiB still takes some thirty 250-byte ticks per read.
const READ_BUFFER_BYTES: usize = 8 * 1024;

async fn connection(mut socket: WebSocket, server: String, state: Arc<NetState>) {
    let (id, signals) = join_hub(&state, &server).await;
    tracing::info!(target: "nexori::serve", server, "game server connected");
    let (ending, clean) = serve_link(&mut socket, &server, id, &signals, &state).await;
    lock_hub(&state.hub).leave(&server, id, Instant::now());
    state.handover.notify_waiters();
    match ending {
        Ending::Gone | Ending::HostStopped | Ending::Replaced => {
            tracing::info!(target: "nexori::serve", server, ?ending, "game server disconnected")
        }
        Ending::TooBig { .. } | Ending::TooSlow { .. } => {
            tracing::warn!(target: "nexori::serve", server, ?ending, "game server disconnected")
        }
    }
    if clean && let Some(frame) = ending.close_frame() {
        // A reader that does not read would hold this forever.
        let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
    }
}

/// Takes `server`'s name in the hub. An older connection under the name is told to go and given
/// [`HANDOVER_TIMEOUT`] to hand its queue back, so that the new one sends in order.
async fn join_hub(state: &NetState, server: &str) -> (u64, Arc<LinkSignals>) {
    let deadline = tokio::time::Instant::now() + HANDOVER_TIMEOUT;
    loop {
        let handover = state.handover.notified();
        tokio::pin!(handover);
        // Registered before the hub is looked at, so a hand-over in between is not missed.
        handover.as_mut().enable();
        let late = tokio::time::Instant::now() >= deadline;
        if let Some(joined) = lock_hub(&state.hub).join(server, late) {
            return joined;
        }
        let _ = tokio::time::timeout_at(deadline, handover).await;
    }
}

/// Carries messages both ways until the connection ends, and says why it did and whether the
/// socket can still take a close frame.
async fn serve_link(
    socket: &mut WebSocket,
    server: &str,
    id: u64,
    signals: &LinkSignals,
    state: &NetState,
) -> (Ending, bool) {
    loop {
        let next = lock_hub(&state.hub).next_for(server, id);
        let incoming = match next {
            Err(ending) => return (ending, true),
            Ok(Some(text)) => {
                let frame = axum::extract::ws::Utf8Bytes::from(text);
                // A write that does not finish while the queue fills up is cut short here.
                let sent = tokio::select! {
                    sent = socket.send(Message::Text(frame.clone())) => Some(sent.is_ok()),
                    _ = signals.stop.notified() => None,
                };
                if sent != Some(true) {
                    // Not (wholly) written: it goes out first on the next connection. Nothing
                    // more is written here (not even a close frame), which would complete it.
                    let mut hub = lock_hub(&state.hub);
                    hub.put_back(server, frame.as_str().to_string());
                    let ending = match sent {
                        None => hub.ending_of(server, id).unwrap_or(Ending::Replaced),
                        Some(_) => Ending::Gone,
                    };
                    return (ending, false);
                }
                // A message that is already there is taken between two commands, so that a
                // steady stream of commands cannot starve the game server's own messages.
                tokio::select! {
                    biased;
                    incoming = socket.recv() => incoming,
                    _ = std::future::ready(()) => continue,
                }
            }
            Ok(None) => tokio::select! {
                _ = signals.wake.notified() => continue,
                _ = signals.stop.notified() => continue,
                incoming = socket.recv() => incoming,
            },
        };
        match incoming {
            Some(Ok(Message::Text(text))) => {
                if let Err(ending) = hand_in(state, server, text.to_string()).await {
                    return (ending, true);
                }
            }
            Some(Ok(Message::Close(_))) | None => return (Ending::Gone, true),
            Some(Err(error)) => return (read_failure(server, error), true),
            Some(Ok(_)) => {}
        }
    }
}

/// Hands a received message to the host thread, waiting for room in the inbound queue: the
/// socket is not read meanwhile, which is the backpressure on a flooding game server.
async fn hand_in(state: &NetState, server: &str, text: String) -> Result<(), Ending> {
    let bytes = text.len().clamp(1, state.max_message_bytes) as u32;
    let capacity = state
        .inbound_capacity
        .clone()
        .acquire_many_owned(bytes)
        .await
        .map_err(|_| Ending::HostStopped)?;
    let inbound = Inbound::Message {
        server: server.to_string(),
        text,
        capacity,
    };
    let sent = state
        .inbound
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send(inbound);
    sent.map_err(|_| Ending::HostStopped)
}

/// Why reading failed: an oversized message, or a broken connection.
fn read_failure(server: &str, error: axum::Error) -> Ending {
    use tungstenite::error::{CapacityError, Error};
    match error.into_inner().downcast::<Error>() {
        Ok(error) => match *error {
            Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => Ending::TooBig {
                size,
                limit: max_size,
            },
            error => {
                tracing::debug!(target: "nexori::serve", server, "reading failed: {error}");
                Ending::Gone
            }
        },
        Err(error) => {
            tracing::debug!(target: "nexori::serve", server, "reading failed: {error}");
            Ending::Gone
        }
    }
}

async fn healthz(State(state): State<Arc<NetState>>) -> Response {
    if state.shutting_down.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response()
    } else if let Some(cause) = state.commit_health.failing() {
        // Results are not durable and the game server hears nothing: an operator must look.
        let body = format!("degraded: outbox commit failing: {cause}\n");
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    } else {
        (StatusCode::OK, "ok\n").into_response()
    }
}

async fn metrics_text(State(state): State<Arc<NetState>>, headers: HeaderMap) -> Response {
    if !state.auth.metrics(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", "Bearer"), ("connection", "close")],
            "a valid metrics token is required\n",
        )
            .into_response();
    }
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
    hub: &Mutex<Hub>,
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
        "# TYPE nexori_instances_live gauge\nnexori_instances_live {}",
        host.live_instances()
    );
    let _ = writeln!(
        out,
        "# TYPE nexori_mod_compilations_total counter\nnexori_mod_compilations_total {}",
        nexori_host::wasm::loader::compilations()
    );
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
    let commits = host.commit_health();
    let _ = writeln!(
        out,
        "# TYPE nexori_outbox_commit_failures_total counter\nnexori_outbox_commit_failures_total {}",
        commits.failures_total()
    );
    let _ = writeln!(
        out,
        "# TYPE nexori_outbox_held_commands gauge\nnexori_outbox_held_commands {}",
        commits.held_commands()
    );
    // What the host keeps per match and per player, for watching a long run stay flat.
    let _ = writeln!(
        out,
        "# TYPE nexori_runtime_players_tracked gauge\nnexori_runtime_players_tracked {}",
        shared.arena.players_tracked()
    );
    let _ = writeln!(
        out,
        "# TYPE nexori_runtime_closed_matches_remembered gauge\nnexori_runtime_closed_matches_remembered {}",
        shared.arena.closed_remembered()
    );
    let _ = writeln!(
        out,
        "# TYPE nexori_timer_matches gauge\nnexori_timer_matches {}",
        shared.timers.matches_with_timers()
    );
    if let Some(outbox) = outbox
        && let Ok(rows) = outbox.admission_sequence_rows()
    {
        let _ = writeln!(
            out,
            "# TYPE nexori_admission_sequence_rows gauge\nnexori_admission_sequence_rows {rows}"
        );
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
        let _ = writeln!(
            out,
            "# TYPE nexori_admission_matches_tracked gauge\nnexori_admission_matches_tracked {}",
            publisher.tracked()
        );
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
    lock_hub(hub).write_metrics(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hub(max_queued: usize, expiry_ms: u64) -> Hub {
        Hub::new(&BridgeSettings {
            max_queued_commands: max_queued,
            absent_server_expiry_ms: expiry_ms,
            ..BridgeSettings::default()
        })
    }

    fn counts(hub: &Hub, server: &str) -> Option<(usize, u64, u64)> {
        hub.servers
            .get(server)
            .map(|s| (s.queue.len(), s.dropped_queue_full, s.dropped_expired))
    }

    #[test]
    fn an_absent_server_loses_its_queue_after_the_expiry_and_is_forgotten_once_it_owns_nothing() {
        let mut hub = hub(3, 60_000);
        let t0 = Instant::now();
        let (a, _) = hub.join("a", false).unwrap();
        let (b, _) = hub.join("b", false).unwrap();
        hub.owners.insert("m".into(), "a".into());
        hub.leave("a", a, t0);
        hub.leave("b", b, t0);
        for n in 0..5 {
            hub.route("m", format!("c{n}"), t0);
        }
        assert_eq!(counts(&hub, "a"), Some((3, 2, 0)), "the oldest two dropped");
        let queued: Vec<_> = hub.servers["a"].queue.items.iter().cloned().collect();
        assert_eq!(queued, ["c2", "c3", "c4"]);

        // Within the expiry nothing changes; after it the queue goes, and so does what follows.
        let live = |id: &str| id == "m";
        hub.prune(t0 + Duration::from_secs(59), live);
        assert_eq!(counts(&hub, "a"), Some((3, 2, 0)));
        assert_eq!(counts(&hub, "b"), None, "b had nothing and owns nothing");
        let later = t0 + Duration::from_secs(61);
        hub.prune(later, live);
        assert_eq!(counts(&hub, "a"), Some((0, 2, 3)), "kept: it owns m");
        hub.route("m", "c5".into(), later);
        assert_eq!(counts(&hub, "a"), Some((0, 2, 4)));

        // Once m is over, a is forgotten too, counters and all.
        hub.prune(later, |_| false);
        assert!(hub.owners.is_empty());
        assert_eq!(counts(&hub, "a"), None);
        // A command of a match nobody owns is counted, not queued under some name.
        hub.route("m", "c6".into(), later);
        assert_eq!(hub.unroutable, 1);
        assert!(hub.servers.is_empty());
    }

    #[test]
    fn the_queue_is_bounded_in_bytes_too() {
        let mut hub = Hub::new(&BridgeSettings {
            max_queued_bytes: 10,
            ..BridgeSettings::default()
        });
        let now = Instant::now();
        for text in ["aaaa", "bbbb", "cccccc"] {
            hub.deliver("a", text.into(), now);
        }
        let s = &hub.servers["a"];
        assert_eq!(
            (s.queue.len(), s.queue.bytes, s.dropped_queue_full),
            (2, 10, 1)
        );
        // Connected, the same limit means too slow a reader.
        let (id, _) = hub.join("a", false).unwrap();
        hub.deliver("a", "d".into(), now);
        assert_eq!(
            hub.next_for("a", id),
            Err(Ending::TooSlow {
                queued: 2,
                bytes: 10
            })
        );
    }

    #[test]
    fn a_server_cut_as_too_slow_loses_no_command() {
        let mut hub = hub(2, 60_000);
        let now = Instant::now();
        let (id, _) = hub.join("a", false).unwrap();
        hub.deliver("a", "one".into(), now);
        // `one` is being written while the server falls behind.
        assert_eq!(hub.next_for("a", id), Ok(Some("one".into())));
        for text in ["two", "three", "four"] {
            hub.deliver("a", text.into(), now);
        }
        assert_eq!(
            hub.next_for("a", id),
            Err(Ending::TooSlow {
                queued: 2,
                bytes: 8
            })
        );
        hub.put_back("a", "one".into());
        hub.leave("a", id, now);
        let (new, _) = hub.join("a", false).unwrap();
        let resumed: Vec<String> =
            std::iter::from_fn(|| hub.next_for("a", new).ok().flatten()).collect();
        assert_eq!(resumed, ["one", "two", "three", "four"]);
        assert_eq!(hub.servers["a"].dropped_queue_full, 0);
    }

    #[test]
    fn a_new_connection_takes_the_name_only_once_the_old_one_has_left() {
        let mut hub = hub(10, 60_000);
        let now = Instant::now();
        let (old, _) = hub.join("a", false).unwrap();
        hub.deliver("a", "first".into(), now);
        // The old one is writing `first` when the new one comes: it is told to go, and puts
        // back what it could not finish.
        assert_eq!(hub.next_for("a", old), Ok(Some("first".into())));
        assert!(hub.join("a", false).is_none());
        assert_eq!(hub.next_for("a", old), Err(Ending::Replaced));
        hub.put_back("a", "first".into());
        hub.deliver("a", "second".into(), now);
        hub.leave("a", old, now);
        let (new, _) = hub.join("a", false).unwrap();
        assert_eq!(hub.next_for("a", new), Ok(Some("first".into())));
        assert_eq!(hub.next_for("a", new), Ok(Some("second".into())));
        // The old connection's late clean-up leaves the new one alone.
        hub.leave("a", old, now);
        assert_eq!(hub.next_for("a", new), Ok(None));
        assert!(hub.servers["a"].reading());
    }

    #[test]
    fn error_replies_cut_long_messages_on_a_character_boundary() {
        assert_eq!(quote("héllo", 2), ("h", true));
        assert_eq!(quote("héllo", 3), ("hé", true));
        assert_eq!(quote("héllo", 6), ("héllo", false));
        let reply: Value = serde_json::from_str(&error_reply(&"e".repeat(2000), "{}")).unwrap();
        assert_eq!(
            reply["error"].as_str().unwrap().len(),
            1024 + '…'.len_utf8()
        );
        assert_eq!(reply["message"], json!({}));
    }
}
