//! The **reference backend**: a real HTTP server implementing the operator side of Nexori's two
//! reporting endpoints, durable in SQLite, with fault injection and a JSON/HTML view of what it
//! received. Operators and backend developers develop against it; the host's tests use it over
//! loopback.
//!
//! It knows the host only through the wire: it depends on `nexori-protocol` (the bodies and the
//! payload hash it checks) and `nexori-http-server`, never on the runtime, reporting or the
//! component host, so it builds without wasmtime and an edit here rebuilds nothing of the host.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use nexori_backend::{self as backend, BackendConfig, FaultKind, FaultPlan};
//! let handle = backend::start(BackendConfig {
//!     listen: "127.0.0.1:0".parse()?,
//!     token: "secret".into(),
//!     database: ":memory:".into(),
//!     faults: FaultPlan::none(),
//!     connections: Default::default(),
//! })
//! .await?;
//! println!("POST {}/nexori/results", handle.base_url());
//! handle.set_faults(FaultPlan::none().with_seed(7).with(FaultKind::ServerError, 0.25))?;
//! handle.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! | endpoint | auth | answers |
//! |---|---|---|
//! | `POST /nexori/results` | bearer | 200 `{schemaVersion:1, receivedResultId, status: ACCEPTED\|DUPLICATE}`; 400, 401, 403, 415, 422 |
//! | `POST /nexori/matches/state` | bearer | 200 `{schemaVersion:1, receivedStateUpdateId, receivedAdmissionStateSequence, status: ACCEPTED\|DUPLICATE\|STALE}`; 400, 401, 403, 415, 422 |
//! | `POST /admin/faults` | bearer | 200 `{faults}` (the new [`FaultPlan`]); 400 bad JSON; 422 invalid plan |
//! | `POST /admin/reservations` | bearer | 201 the reservation; 409 exists; 422 invalid |
//! | `POST /admin/reservations/{id}/release` | bearer | 200 the reservation; 404 unknown; 409 not ACTIVE |
//! | `GET /api/results[?externalMatchId=&limit=]` | none | results, newest first |
//! | `GET /api/results/{resultId}` | none | one result with its stored body; 404 |
//! | `POST /api/results/{resultId}/verify` | none | checks a match log against the result (below): 200 `{verified:true, ...}`; 404; 413; 422 `{verified:false, ...}` |
//! | `GET /api/snapshots[?matchId=&limit=]` | none | snapshots, newest first; `matchId` matches the match key, the externalMatchId or the Nexori matchId |
//! | `GET /api/matches[?queueId=]` | none | the whole open-match registry with eligibility |
//! | `GET /api/matches/open[?queueId=]` | none | only eligible matches, with `effectiveAvailableSlots` |
//! | `GET /api/reservations` | none | issued reservations and the consumption ledger |
//! | `GET /api/stats` | none | counters (below) |
//! | `GET /api/faults` | none | the live fault plan and the injected-fault counts |
//! | `GET /healthz` | none | `{status:"ok"}` |
//! | `GET /` | none | read-only HTML overview (server-rendered, escaped, no script) |
//!
//! The read endpoints (`/api/*`, `/`, `/healthz`) need **no authentication**: this is a local
//! development tool; bind it to loopback (the default) or keep it behind something that is not public.
//! Every error answer is JSON `{"error": "..."}`, with `"header"` or `"field"` naming the culprit where
//! there is one.
//!
//! Connections are capped and a request's head must arrive in time ([`BackendConfig::connections`],
//! [`nexori_http_server`]), so clients that open connections and send nothing cannot exhaust it.
//!
//! # Request checks (both report endpoints), in order
//!
//! 1. **Auth**: no `Authorization` header, not the `Bearer` scheme, or an empty token → **401**
//!    (`WWW-Authenticate: Bearer`); a bearer token other than the configured one → **403**.
//! 2. `Content-Type` must be `application/json` (parameters allowed) → else **415**.
//! 3. The body must be JSON (**400**) and an object (**422**).
//! 4. The trace headers must be present (**400**, naming the header): results
//!    `X-Nexori-Server-Id`, `X-Nexori-Result-Id`, `X-Nexori-Sent-At-Epoch-Ms`; state
//!    `X-Nexori-Server-Id`, `X-Nexori-State-Update-Id`, `X-Nexori-Sequence`, `X-Nexori-Sent-At-Epoch-Ms`.
//! 5. Schema validation → **422** naming the field (JSON path such as `players[0].outcome`); see the
//!    `validate` module for the exact rules (results also enforce the host's winner rule: at least one
//!    `WIN` unless every player is `NO_CONTEST`).
//! 6. The trace headers must equal the body (`X-Nexori-Server-Id` = `serverId` / `reportingServerId`,
//!    `X-Nexori-Result-Id` = `resultId`, `X-Nexori-State-Update-Id` = `stateUpdateId`,
//!    `X-Nexori-Sequence` = `admissionStateSequence`, `X-Nexori-Sent-At-Epoch-Ms` = `sentAtEpochMs`)
//!    → **400** naming the header.
//!
//! # Results: idempotency and conflicts
//!
//! `resultId` is the idempotency key: the first time it is stored and answered `ACCEPTED`; every
//! later request with the same `resultId` answers `DUPLICATE` and only bumps `duplicateCount` (the body
//! stored is the first one; a repeat whose *content* differs — see below — also bumps
//! `duplicateMismatchCount`, since a correct host re-sends the same result on retry).
//!
//! Content is compared through a **fingerprint**: SHA-256 of the canonical body (keys sorted, players
//! sorted by `playerUuid`) without `resultId`, `sentAtEpochMs`, `endedAtEpochMs` and `serverId`. A new
//! `resultId` for an `externalMatchId` that already has results is still **`ACCEPTED`** (so a host does
//! not retry it forever) and stored with a `matchRole`:
//! - `FIRST`: the first result for that external match — this is the authoritative one;
//! - `REPEAT`: same fingerprint as the earlier result(s), `relatedResultId` = the first one;
//! - `CONFLICT`: a different fingerprint, `relatedResultId` = the earliest result it disagrees with.
//!
//! Conflicts are counted in `GET /api/stats` (`results.conflicts`) and shown on the page.
//!
//! The stored `body` is the request body exactly as received (the first time), not a
//! re-serialisation of it.
//!
//! # Verifying a match log (`POST /api/results/{resultId}/verify`)
//!
//! The host records each match's inputs in a match log (`nexori-recording`) and stamps the result
//! it reports with the SHA-256 of the mod and of the log's inputs before the result (`metadata`
//! `modSha256` and `inputLogSha256`). Upload the log as the raw request body (any
//! `Content-Type`, e.g. `application/octet-stream`; a compressed `.nxlog` or plain JSON lines, at
//! most 256 MiB, and a compressed one at most 256 MiB of text once decompressed, else **413**)
//! and the backend checks it against the body it stored for that `resultId`
//! ([`nexori_recording::verify()`]: the input hash, the mod and the recorded result body):
//!
//! - **200** `{"verified":true, "resultId", "matchId", "inputLogSha256", "modSha256", "line"}`
//!   (`line`: the log line, 1-based, that records the result);
//! - **422** `{"verified":false, "resultId", "error"}`, `error` saying what differs (for a changed
//!   input, both hashes), or that the log cannot be read or the result carries no hashes;
//! - **404** `{"error":"unknown result <id>"}`.
//!
//! Like the other `/api/*` endpoints it needs no token: it changes nothing. Logs are verified one
//! at a time.
//!
//! # Admission state: idempotency, ordering, reservations, registry
//!
//! Match identity is `ext:<externalMatchId>` when `externalMatchId` is not blank, otherwise
//! `local:<reportingServerId>:<matchId>` (lowercased). (The seed document also says to require a
//! non-blank `externalMatchId`; this backend accepts a blank one and uses the fallback identity that the
//! same document recommends, because the host only reports matches that have one anyway.)
//!
//! - `stateUpdateId` is the idempotency key. A `stateUpdateId` already seen replays the first verdict
//!   with no side effects: first `ACCEPTED` → `DUPLICATE`; first `STALE` → `STALE` again (answering
//!   `DUPLICATE` there would make the host clear reservation ids the backend never consumed).
//! - A new `stateUpdateId` whose `admissionStateSequence` is **not greater** than the last accepted
//!   sequence of its match identity is stored with status `STALE` and answered `STALE`, with no side
//!   effects. Otherwise it is `ACCEPTED`.
//! - Only an accepted snapshot consumes its `consumedAdmissionReservationIds` (trimmed, blanks ignored).
//!   Each id is consumed **at most once, ever** (the `consumed_reservations` ledger; an id consumed
//!   before is listed in the snapshot's `alreadyConsumedReservationIds` and nothing happens). An id
//!   issued through `POST /admin/reservations` moves from `ACTIVE` to `CONSUMED`; an id the backend did
//!   not issue is still recorded, with a warning on the snapshot.
//! - The **open-match registry** keeps, per match identity, the latest accepted snapshot (including
//!   `reportingServerConnectionAddress`, the future backfill target). `admissionReportingClosed=true`
//!   closes the match **for good**: a later accepted snapshot updates the record but the match stays
//!   ineligible (Nexori "does not expect it to reopen").
//! - **Eligibility** at read time (`now` = the backend's wall clock): not closed, `admissionOpen`,
//!   `now <= stateExpiresAtEpochMs` (an expired snapshot is ignored), `admissionOpenUntilEpochMs` is 0
//!   or `now <=` it, `availableAdmissionSlots > 0`, and
//!   `effectiveAvailableSlots = availableAdmissionSlots - ACTIVE reservation count > 0` (ACTIVE =
//!   issued through `/admin/reservations`, not consumed, released or past its `expiresAtEpochMs`).
//!   `effectiveAvailableSlots` is reported unclamped (negative = overbooked). `?queueId=` filters by
//!   queue. `GET /api/matches` lists every match with `ineligibleReasons`.
//! - A snapshot that had already expired on arrival is still accepted (its reservation ids are real
//!   arrivals) but the registry ignores it for eligibility; it carries a warning.
//! - The backend re-computes `payloadHash` as docs/arena-behaviour.md#the-snapshot describes (Gson
//!   compact JSON with HTML-safe escaping) and stores `payloadHashCheck`: `MATCHES`, or one of the
//!   tolerated variations `MATCHES_WITHOUT_HTML_ESCAPING` (plain compact JSON),
//!   `MATCHES_WITH_CONNECTION_ADDRESS` (`reportingServerConnectionAddress` hashed after
//!   `reportingServerId`, which the Java reference may or may not do) and
//!   `MATCHES_WITH_CONNECTION_ADDRESS_WITHOUT_HTML_ESCAPING`, or `MISMATCH` (with a warning). It
//!   never rejects on it. Other inconsistencies (admitted > capacity, more available slots than
//!   `capacity - admitted`, closed but open, expiry before sending) are stored as warnings.
//!
//! # Durability
//!
//! Everything above is in SQLite ([`store`] documents the schema) in WAL mode; each request is one
//! transaction, durable (fsync'd) before the answer is sent, with the transactions of concurrent
//! requests sharing one fsync (`durability`, group commit). Restarting
//! with the same database file keeps results, snapshots, the ledger and the registry, so a re-sent
//! `resultId` or `stateUpdateId` is still answered `DUPLICATE`. `":memory:"` gives a throw-away database.
//! What is *not* durable: fault counts and the per-status answer counters (`answers` in the stats).
//!
//! # Fault injection
//!
//! See [`faults`]. Faults apply only to the two `/nexori/*` endpoints and are drawn before any other
//! check. `serverError`, `rateLimited` and `unauthorized` answer without processing; `timeout` holds
//! the request and then processes it even if the client has given up (or, with no hold time, never
//! answers and never processes); `slow` delays then processes; `malformed` and `dropAnswer` process
//! the request (stored, side effects applied) and then answer 200 with a non-JSON body, or 503 — so a
//! retry of the same id gets `DUPLICATE`. The draw is one xorshift step per in-scope request, so with
//! sequential requests the same seed gives the same faults. Injected answers carry
//! `X-Nexori-Backend-Fault: <kind>`; counts are in `GET /api/stats` and
//! [`BackendHandle::fault_counts`].
//!
//! # Stats (`GET /api/stats`)
//!
//! `results` {accepted, first, repeats, conflicts, duplicates, duplicateMismatches}; `snapshots`
//! {stored, accepted, duplicate, stale, payloadHashMismatches} (answers by status: `duplicate` and
//! `stale` count every such answer, replays included); `matches` {known, closed, eligible};
//! `reservations` {active, expired, released, consumed}; `faults` ([`FaultCounts`]); `answers`
//! {results: {status code: n}, state: {...}} since start.

#![warn(missing_docs)]

mod durability;
pub mod faults;
pub mod hash;
pub mod html;
pub mod store;
mod validate;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::{Endpoint, FaultCounts, FaultKind, FaultPlan, FaultScope, InvalidFaultPlan};
pub use hash::admission_payload_hash;
pub use store::match_key;

use faults::FaultInjector;
use nexori_http_server::ConnectionLimits;
use store::{Answer, ReservationError, Store};

/// Header set on every answer produced by fault injection.
pub const FAULT_HEADER: &str = "x-nexori-backend-fault";

/// Configuration of a backend instance.
#[derive(Clone, Debug)]
pub struct BackendConfig {
    /// Where to listen (default `127.0.0.1:8787`; port 0 picks a free port, see [`BackendHandle::addr`]).
    pub listen: SocketAddr,
    /// The bearer token the host must send (`serverToken`); must not be blank.
    pub token: String,
    /// SQLite database file (created with its parent directories), or `":memory:"`.
    pub database: PathBuf,
    /// Fault injection at start (default none); change it later with [`BackendHandle::set_faults`] or
    /// `POST /admin/faults`.
    pub faults: FaultPlan,
    /// Connection cap and header-read timeout (default 256 connections, 10 s; the CLI's
    /// `--max-connections` and `--header-read-timeout-ms`); see [`nexori_http_server`].
    pub connections: ConnectionLimits,
}

impl BackendConfig {
    /// Loopback on port 8787, no faults.
    pub fn new(token: impl Into<String>, database: impl Into<PathBuf>) -> Self {
        BackendConfig {
            token: token.into(),
            database: database.into(),
            ..BackendConfig::default()
        }
    }
}

impl Default for BackendConfig {
    /// `127.0.0.1:8787`, an empty token (set one: [`start`] refuses a blank token),
    /// `nexori-backend.sqlite` in the working directory, no faults.
    fn default() -> Self {
        BackendConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8787)),
            token: String::new(),
            database: PathBuf::from("nexori-backend.sqlite"),
            faults: FaultPlan::none(),
            connections: ConnectionLimits::default(),
        }
    }
}

/// A running backend. Dropping it without [`shutdown`](BackendHandle::shutdown) still asks the server
/// to stop, without waiting.
pub struct BackendHandle {
    addr: SocketAddr,
    app: Arc<App>,
    shutdown_tx: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl BackendHandle {
    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`: the `baseUrl` to configure in the host.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces the fault plan (the generator restarts from the plan's seed); an invalid plan is
    /// refused and the old one stays.
    ///
    /// # Errors
    ///
    /// [`InvalidFaultPlan`] for a plan that cannot apply.
    pub fn set_faults(&self, plan: FaultPlan) -> Result<(), InvalidFaultPlan> {
        plan.validate()?;
        self.app.faults.set(plan);
        Ok(())
    }

    /// The live fault plan.
    pub fn faults(&self) -> FaultPlan {
        self.app.faults.plan()
    }

    /// Faults injected since start, by kind.
    pub fn fault_counts(&self) -> FaultCounts {
        self.app.faults.counts()
    }

    /// Stops accepting connections, releases held requests, waits for in-flight requests to finish
    /// and closes the database.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for BackendHandle {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
    }
}

/// Opens the database, binds `config.listen` and serves in a tokio task.
///
/// # Errors
///
/// When `config.token` is blank, `config.faults` is invalid ([`FaultPlan::validate`]), the
/// database (or its parent directory) cannot be created or opened, refuses WAL mode or its
/// schema, or the address cannot be bound (in use, not permitted).
pub async fn start(config: BackendConfig) -> anyhow::Result<BackendHandle> {
    if config.token.trim().is_empty() {
        anyhow::bail!("the backend token must not be blank");
    }
    config
        .faults
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid fault plan: {e}"))?;
    let database = config.database.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&database)).await??;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding the backend to {}", config.listen))?;
    let addr = listener.local_addr()?;
    let (shutdown_tx, shutdown_rx) = watch::channel(false);
    let app = Arc::new(App {
        token: config.token.trim().to_owned(),
        store: Arc::new(Mutex::new(store)),
        durability: Arc::new(durability::Durability::default()),
        faults: FaultInjector::new(config.faults),
        shutdown: shutdown_rx.clone(),
        answers: Mutex::new(BTreeMap::new()),
        verifications: tokio::sync::Semaphore::new(1),
    });
    let router = router(app.clone());
    let mut signal = shutdown_rx;
    let task = tokio::spawn(nexori_http_server::serve(
        listener,
        router,
        config.connections,
        async move {
            let _ = signal.wait_for(|stop| *stop).await;
        },
    ));
    tracing::info!("nexori backend listening on http://{addr}");
    Ok(BackendHandle {
        addr,
        app,
        shutdown_tx,
        task: Some(task),
    })
}

/// For the CLI: builds a multi-threaded runtime, serves until Ctrl-C or SIGTERM, then shuts down
/// gracefully.
///
/// # Errors
///
/// When the tokio runtime cannot be built, [`start`] fails, or the signal handlers cannot be
/// installed.
pub fn run_blocking(config: BackendConfig) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let database = config.database.display().to_string();
        let handle = start(config).await?;
        eprintln!(
            "nexori backend listening on {} (database {database}); Ctrl-C to stop",
            handle.base_url()
        );
        wait_for_stop_signal().await?;
        eprintln!("nexori backend stopping");
        handle.shutdown().await;
        Ok(())
    })
}

async fn wait_for_stop_signal() -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c().await?;
    Ok(())
}

// ==================================================================== internals

struct App {
    token: String,
    store: Arc<Mutex<Store>>,
    durability: Arc<durability::Durability>,
    faults: FaultInjector,
    shutdown: watch::Receiver<bool>,
    answers: Mutex<BTreeMap<(&'static str, u16), u64>>,
    /// One match log is verified at a time: reading one takes a few times its size in memory.
    verifications: tokio::sync::Semaphore,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An error answer: `{"error": message}` plus an optional naming member (`header` / `field`).
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
    name: Option<(&'static str, String)>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            name: None,
        }
    }

    fn header(header: &str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            name: Some(("header", header.to_owned())),
        }
    }

    fn field(field: String, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: message.into(),
            name: Some(("field", field)),
        }
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!("nexori backend internal error: {e}");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {e}"),
        )
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(e: rusqlite::Error) -> Self {
        ApiError::internal(e)
    }
}

impl From<ReservationError> for ApiError {
    fn from(e: ReservationError) -> Self {
        match e {
            ReservationError::Exists(_) | ReservationError::NotActive(..) => {
                ApiError::new(StatusCode::CONFLICT, e.to_string())
            }
            ReservationError::Unknown(_) => ApiError::new(StatusCode::NOT_FOUND, e.to_string()),
            ReservationError::Db(e) => ApiError::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let Some((k, v)) = self.name {
            body[k] = Value::from(v);
        }
        let mut response = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl App {
    /// Runs `f` on the store in the blocking pool (one request at a time), and returns once what
    /// it committed is durable (group commit, see [`durability`]).
    async fn with_store<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    {
        let store = self.store.clone();
        let durability = self.durability.clone();
        tokio::task::spawn_blocking(move || {
            let lock = || {
                store
                    .lock()
                    .map_err(|_| ApiError::internal("store lock poisoned"))
            };
            let (answer, ticket) = {
                let mut guard = lock()?;
                let answer = f(&mut guard);
                (answer, durability.committed())
            };
            durability.wait(ticket, || lock()?.sync().map_err(ApiError::internal))?;
            answer
        })
        .await
        .map_err(ApiError::internal)?
    }

    fn check_auth(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let missing = || {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "missing bearer token (Authorization: Bearer <token>)",
            )
        };
        let value = headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
        let value = value.to_str().map_err(|_| missing())?.trim();
        let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
            return Err(missing());
        }
        if !constant_time_eq(token.trim().as_bytes(), self.token.as_bytes()) {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "invalid bearer token"));
        }
        Ok(())
    }

    fn count_answer(&self, endpoint: &'static str, status: StatusCode) {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        *answers.entry((endpoint, status.as_u16())).or_default() += 1;
    }

    fn answers_json(&self) -> Value {
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = json!({ "results": {}, "state": {} });
        for ((endpoint, status), n) in answers.iter() {
            out[*endpoint][status.to_string()] = Value::from(*n);
        }
        out
    }

    /// Waits until `ms` have passed or the backend shuts down.
    async fn hold(&self, ms: Option<u64>) {
        let mut shutdown = self.shutdown.clone();
        match ms {
            Some(ms) => {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
                    _ = shutdown.wait_for(|stop| *stop) => {}
                }
            }
            None => {
                let _ = shutdown.wait_for(|stop| *stop).await;
            }
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/nexori/results", post(post_results))
        .route("/nexori/matches/state", post(post_state))
        .route("/admin/faults", post(post_faults))
        .route("/admin/reservations", post(post_reservation))
        .route(
            "/admin/reservations/{id}/release",
            post(post_release_reservation),
        )
        .route("/api/results", get(get_results))
        .route("/api/results/{result_id}", get(get_result))
        .route(
            "/api/results/{result_id}/verify",
            post(post_verify_result).layer(DefaultBodyLimit::max(MAX_LOG_BYTES)),
        )
        .route("/api/snapshots", get(get_snapshots))
        .route("/api/matches", get(get_matches))
        .route("/api/matches/open", get(get_open_matches))
        .route("/api/reservations", get(get_reservations))
        .route("/api/stats", get(get_stats))
        .route("/api/faults", get(get_faults))
        .route(
            "/healthz",
            get(|| async { axum::Json(json!({ "status": "ok" })) }),
        )
        .route("/", get(get_page))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(app)
}

async fn not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no route for {method} {}", uri.path()),
    )
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{method} is not allowed on {}", uri.path()),
    )
}

// -------------------------------------------------------------------- report endpoints

async fn post_results(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    report_endpoint(app, Endpoint::Results, headers, body).await
}

async fn post_state(State(app): State<Arc<App>>, headers: HeaderMap, body: Bytes) -> Response {
    report_endpoint(app, Endpoint::State, headers, body).await
}

fn fault_answer(kind: FaultKind, status: StatusCode, body: Response) -> Response {
    let mut response = body;
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(FAULT_HEADER, HeaderValue::from_static(kind.as_str()));
    response
}

/// Fault injection around the real processing of a report.
///
/// Everything after the immediate fault answers runs in its own task, so a client that gives up
/// (timeout, slow answer) does not cancel the processing: like a real backend, a request that was
/// received is processed. Only a never-answered timeout lives in the handler itself (and so ends with
/// the client's connection, or at shutdown) and is never processed.
async fn report_endpoint(
    app: Arc<App>,
    endpoint: Endpoint,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let name = match endpoint {
        Endpoint::Results => "results",
        Endpoint::State => "state",
    };
    let fault = app.faults.decide(endpoint);
    let mut delay = None;
    if let Some((kind, plan)) = &fault {
        tracing::debug!("nexori backend injects {} on {name}", kind.as_str());
        let injected = match kind {
            FaultKind::ServerError => {
                let status = StatusCode::from_u16(plan.server_error_status)
                    .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Some(fault_answer(
                    *kind,
                    status,
                    ApiError::new(status, "injected fault: server error").into_response(),
                ))
            }
            FaultKind::RateLimited => {
                let mut r = fault_answer(
                    *kind,
                    StatusCode::TOO_MANY_REQUESTS,
                    ApiError::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "injected fault: rate limited",
                    )
                    .into_response(),
                );
                r.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                Some(r)
            }
            FaultKind::Unauthorized => Some(fault_answer(
                *kind,
                StatusCode::UNAUTHORIZED,
                ApiError::new(StatusCode::UNAUTHORIZED, "injected fault: unauthorized")
                    .into_response(),
            )),
            FaultKind::Timeout => match plan.timeout_hold_ms {
                None => {
                    app.hold(None).await;
                    Some(stopping_answer(*kind))
                }
                Some(ms) => {
                    delay = Some(ms);
                    None
                }
            },
            FaultKind::Slow => {
                delay = Some(plan.slow_delay_ms);
                None
            }
            FaultKind::Malformed | FaultKind::DropAnswer => None,
        };
        if let Some(response) = injected {
            app.count_answer(name, response.status());
            return response;
        }
    }

    let kind = fault.map(|f| f.0);
    let task_app = app.clone();
    let task = tokio::spawn(async move {
        let app = task_app;
        if let Some(ms) = delay {
            app.hold(Some(ms)).await;
            if *app.shutdown.borrow() {
                let response = stopping_answer(kind.unwrap_or(FaultKind::Slow));
                app.count_answer(name, response.status());
                return response;
            }
        }
        let processed = match endpoint {
            Endpoint::Results => process_result(&app, &headers, &body).await,
            Endpoint::State => process_state(&app, &headers, &body).await,
        };
        let mut response = match processed {
            Ok(v) => (StatusCode::OK, axum::Json(v)).into_response(),
            Err(e) => {
                tracing::debug!("nexori backend rejects {name}: {} {}", e.status, e.message);
                e.into_response()
            }
        };
        match kind {
            Some(FaultKind::Malformed) => {
                response = fault_answer(
                    FaultKind::Malformed,
                    StatusCode::OK,
                    (
                        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                        "this is not JSON (injected malformed answer)",
                    )
                        .into_response(),
                );
            }
            Some(FaultKind::DropAnswer) => {
                response = fault_answer(
                    FaultKind::DropAnswer,
                    StatusCode::SERVICE_UNAVAILABLE,
                    ApiError::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "injected fault: processed, answer dropped",
                    )
                    .into_response(),
                );
            }
            Some(kind @ (FaultKind::Slow | FaultKind::Timeout)) => {
                response
                    .headers_mut()
                    .insert(FAULT_HEADER, HeaderValue::from_static(kind.as_str()));
            }
            _ => {}
        }
        app.count_answer(name, response.status());
        response
    });
    task.await
        .unwrap_or_else(|e| ApiError::internal(format!("report task failed: {e}")).into_response())
}

/// The answer of a held request released by shutdown (never processed).
fn stopping_answer(kind: FaultKind) -> Response {
    fault_answer(
        kind,
        StatusCode::SERVICE_UNAVAILABLE,
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "injected fault: request held until the backend stopped",
        )
        .into_response(),
    )
}

fn check_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let ok = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case("application/json")
        })
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        ))
    }
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("body is not valid JSON: {e}"),
        )
    })?;
    match value {
        Value::Object(map) => Ok(map),
        _ => Err(ApiError::field(String::new(), "body must be a JSON object")),
    }
}

fn required_header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    let value = headers
        .get(name)
        .ok_or_else(|| ApiError::header(name, format!("missing header {name}")))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::header(name, format!("header {name} is not visible ASCII")))?;
    Ok(value.trim())
}

fn header_equals(name: &str, header: &str, field: &str, body: &str) -> Result<(), ApiError> {
    if header == body {
        Ok(())
    } else {
        Err(ApiError::header(
            name,
            format!("header {name} ({header:?}) does not match body {field} ({body:?})"),
        ))
    }
}

fn header_equals_int(name: &str, header: &str, field: &str, body: i64) -> Result<(), ApiError> {
    match header.parse::<i64>() {
        Ok(v) if v == body => Ok(()),
        Ok(v) => Err(ApiError::header(
            name,
            format!("header {name} ({v}) does not match body {field} ({body})"),
        )),
        Err(_) => Err(ApiError::header(
            name,
            format!("header {name} ({header:?}) is not an integer"),
        )),
    }
}

const H_SERVER: &str = "X-Nexori-Server-Id";
const H_RESULT: &str = "X-Nexori-Result-Id";
const H_SENT_AT: &str = "X-Nexori-Sent-At-Epoch-Ms";
const H_STATE_UPDATE: &str = "X-Nexori-State-Update-Id";
const H_SEQUENCE: &str = "X-Nexori-Sequence";

async fn process_result(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    app.check_auth(headers)?;
    check_json_content_type(headers)?;
    let obj = parse_object(body)?;
    let h_server = required_header(headers, H_SERVER)?;
    let h_result = required_header(headers, H_RESULT)?;
    let h_sent = required_header(headers, H_SENT_AT)?;
    let report =
        validate::validate_result(&obj).map_err(|e| ApiError::field(e.field, e.message))?;
    header_equals(H_RESULT, h_result, "resultId", &report.result_id)?;
    header_equals(H_SERVER, h_server, "serverId", &report.server_id)?;
    header_equals_int(H_SENT_AT, h_sent, "sentAtEpochMs", report.sent_at_epoch_ms)?;

    let fingerprint = hash::result_fingerprint(&obj);
    // The body exactly as the host sent it, not re-serialised: a match log recorded it, and
    // `POST /api/results/{id}/verify` checks the log against it. It parsed as JSON, so it is UTF-8.
    let stored_body = String::from_utf8(body.to_vec()).map_err(ApiError::internal)?;
    let result_id = report.result_id.clone();
    let answer = app
        .with_store(move |s| Ok(s.record_result(&report, &stored_body, &fingerprint, now_ms())?))
        .await?;
    Ok(json!({ "schemaVersion": 1, "receivedResultId": result_id, "status": answer.as_str() }))
}

fn snapshot_warnings(
    snap: &validate::StateSnapshot,
    hash_check: hash::PayloadHashCheck,
    now: i64,
) -> Vec<String> {
    let mut w = Vec::new();
    if hash_check == hash::PayloadHashCheck::Mismatch {
        w.push(
            "payloadHash differs from the hash the backend computes (docs/arena-behaviour.md#the-snapshot)"
                .to_owned(),
        );
    }
    if now > snap.state_expires_at_epoch_ms {
        w.push(format!(
            "snapshot had already expired when received (stateExpiresAtEpochMs {})",
            snap.state_expires_at_epoch_ms
        ));
    }
    if snap.state_expires_at_epoch_ms < snap.sent_at_epoch_ms {
        w.push("stateExpiresAtEpochMs is before sentAtEpochMs".to_owned());
    }
    if snap.admitted_slot_count > snap.admission_capacity {
        w.push(format!(
            "admittedSlotCount {} exceeds admissionCapacity {}",
            snap.admitted_slot_count, snap.admission_capacity
        ));
    }
    let room = (snap.admission_capacity - snap.admitted_slot_count).max(0);
    if snap.available_admission_slots > room {
        w.push(format!(
            "availableAdmissionSlots {} exceeds admissionCapacity - admittedSlotCount = {room}",
            snap.available_admission_slots
        ));
    }
    if snap.reporting_closed && snap.admission_open {
        w.push("admissionReportingClosed is true but admissionOpen is true".to_owned());
    }
    w
}

async fn process_state(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    app.check_auth(headers)?;
    check_json_content_type(headers)?;
    let obj = parse_object(body)?;
    let h_server = required_header(headers, H_SERVER)?;
    let h_update = required_header(headers, H_STATE_UPDATE)?;
    let h_sequence = required_header(headers, H_SEQUENCE)?;
    let h_sent = required_header(headers, H_SENT_AT)?;
    let snap =
        validate::validate_snapshot(&obj).map_err(|e| ApiError::field(e.field, e.message))?;
    header_equals(
        H_STATE_UPDATE,
        h_update,
        "stateUpdateId",
        &snap.state_update_id,
    )?;
    header_equals(
        H_SERVER,
        h_server,
        "reportingServerId",
        &snap.reporting_server_id,
    )?;
    header_equals_int(
        H_SEQUENCE,
        h_sequence,
        "admissionStateSequence",
        snap.sequence,
    )?;
    header_equals_int(H_SENT_AT, h_sent, "sentAtEpochMs", snap.sent_at_epoch_ms)?;

    let now = now_ms();
    let hash_check = hash::check_payload_hash(&obj);
    let warnings = snapshot_warnings(&snap, hash_check, now);
    let stored_body = Value::Object(obj).to_string();
    let (id, sequence) = (snap.state_update_id.clone(), snap.sequence);
    let answer: Answer = app
        .with_store(move |s| {
            Ok(s.record_snapshot(&snap, &stored_body, hash_check, warnings, now)?)
        })
        .await?;
    Ok(json!({
        "schemaVersion": 1,
        "receivedStateUpdateId": id,
        "receivedAdmissionStateSequence": sequence,
        "status": answer.as_str(),
    }))
}

// -------------------------------------------------------------------- admin endpoints

fn parse_admin_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => {
            ApiError::field(String::new(), format!("invalid body: {e}"))
        }
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("body is not valid JSON: {e}"),
        ),
    })
}

async fn post_faults(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    app.check_auth(&headers)?;
    let plan: FaultPlan = parse_admin_json(&body)?;
    plan.validate()
        .map_err(|e| ApiError::field(String::new(), e.0))?;
    app.faults.set(plan.clone());
    tracing::info!("nexori backend fault plan set: {plan:?}");
    Ok(axum::Json(json!({ "faults": plan })).into_response())
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewReservation {
    reservation_id: String,
    #[serde(default)]
    external_match_id: String,
    #[serde(default)]
    reporting_server_id: String,
    #[serde(default)]
    match_id: String,
    /// Time to live; absent or 0 = the reservation stays ACTIVE until consumed or released.
    #[serde(default)]
    ttl_ms: u64,
}

async fn post_reservation(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    app.check_auth(&headers)?;
    let req: NewReservation = parse_admin_json(&body)?;
    let id = req.reservation_id.trim().to_owned();
    if id.is_empty() {
        return Err(ApiError::field(
            "reservationId".into(),
            "reservationId must not be blank",
        ));
    }
    if req.external_match_id.trim().is_empty()
        && (req.reporting_server_id.trim().is_empty() || req.match_id.trim().is_empty())
    {
        return Err(ApiError::field(
            "externalMatchId".into(),
            "give externalMatchId, or reportingServerId and matchId",
        ));
    }
    let key = match_key(
        &req.external_match_id,
        &req.reporting_server_id,
        &req.match_id,
    );
    let now = now_ms();
    let expires = if req.ttl_ms == 0 {
        0
    } else {
        now.saturating_add(req.ttl_ms.min(i64::MAX as u64) as i64)
    };
    let view = app
        .with_store(move |s| Ok(s.create_reservation(&id, &key, expires, now)?))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

async fn post_release_reservation(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    app.check_auth(&headers)?;
    let view = app
        .with_store(move |s| Ok(s.release_reservation(id.trim(), now_ms())?))
        .await?;
    Ok(axum::Json(view).into_response())
}

// -------------------------------------------------------------------- read API

fn limit(q: &HashMap<String, String>) -> Result<i64, ApiError> {
    match q.get("limit") {
        None => Ok(200),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "limit must be an integer in 1..=10000",
                )
            }),
    }
}

fn non_blank_param<'a>(q: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty())
}

async fn get_results(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let limit = limit(&q)?;
    let filter = non_blank_param(&q, "externalMatchId").map(str::to_owned);
    let results = app
        .with_store(move |s| Ok(s.list_results(filter.as_deref(), limit)?))
        .await?;
    Ok(axum::Json(json!({ "results": results })).into_response())
}

async fn get_result(
    State(app): State<Arc<App>>,
    Path(result_id): Path<String>,
) -> Result<Response, ApiError> {
    let id = result_id.clone();
    match app.with_store(move |s| Ok(s.get_result(&id)?)).await? {
        Some(v) => Ok(axum::Json(v).into_response()),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no result {result_id}"),
        )),
    }
}

/// The largest match log `POST /api/results/{id}/verify` takes: the upload, and the text of a
/// compressed log once decompressed.
const MAX_LOG_BYTES: usize = 256 << 20;

/// The JSON lines of an uploaded log: `file` itself when it is not zstd, else its decompressed
/// text, refused (413) beyond `limit` bytes so that a small upload cannot decompress to gigabytes.
/// A broken zstd stream is handed on as it is, for `verify` to name the problem.
fn log_text(file: &[u8], limit: usize) -> Result<std::borrow::Cow<'_, [u8]>, ApiError> {
    use nexori_recording::format::{ReadError, decompress_up_to};
    match decompress_up_to(file, limit) {
        Ok(text) => Ok(text),
        Err(ReadError::TooLarge(_)) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the log decompresses to more than {} MiB of text",
                limit >> 20
            ),
        )),
        Err(_) => Ok(std::borrow::Cow::Borrowed(file)),
    }
}

/// `POST /api/results/{resultId}/verify`: checks the uploaded match log against the body of the
/// stored result ([`nexori_recording::verify`]).
async fn post_verify_result(
    State(app): State<Arc<App>>,
    Path(result_id): Path<String>,
    file: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let id = result_id.clone();
    let Some(stored) = app.with_store(move |s| Ok(s.result_body(&id)?)).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("unknown result {result_id}"),
        ));
    };
    let file = file.map_err(|e| ApiError::new(e.status(), e.body_text()))?;
    let stored: Value = serde_json::from_str(&stored).map_err(ApiError::internal)?;
    let _turn = app
        .verifications
        .acquire()
        .await
        .map_err(ApiError::internal)?;
    let verdict = tokio::task::spawn_blocking(move || {
        let text = log_text(&file, MAX_LOG_BYTES)?;
        Ok::<_, ApiError>(nexori_recording::verify(&text, &stored))
    })
    .await
    .map_err(ApiError::internal)??;
    Ok(match verdict {
        Ok(v) => {
            tracing::info!("nexori backend verified the log of result {result_id}");
            axum::Json(json!({
                "verified": true,
                "resultId": v.result_id,
                "matchId": v.match_id,
                "inputLogSha256": v.input_log_sha256,
                "modSha256": v.mod_sha256,
                "line": v.line,
            }))
            .into_response()
        }
        Err(e) => {
            tracing::info!("nexori backend: the log does not back result {result_id}: {e}");
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                axum::Json(json!({
                    "verified": false,
                    "resultId": result_id,
                    "error": e.to_string(),
                })),
            )
                .into_response()
        }
    })
}

async fn get_snapshots(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let limit = limit(&q)?;
    let filter = non_blank_param(&q, "matchId").map(str::to_owned);
    let snapshots = app
        .with_store(move |s| Ok(s.list_snapshots(filter.as_deref(), limit)?))
        .await?;
    Ok(axum::Json(json!({ "snapshots": snapshots })).into_response())
}

async fn matches_filtered(
    app: &App,
    q: &HashMap<String, String>,
    only_eligible: bool,
) -> Result<Vec<Value>, ApiError> {
    let queue = non_blank_param(q, "queueId").map(str::to_owned);
    let all = app.with_store(|s| Ok(s.matches(now_ms())?)).await?;
    Ok(all
        .into_iter()
        .filter(|m| !only_eligible || m["eligible"] == true)
        .filter(|m| queue.as_deref().is_none_or(|qid| m["queueId"] == qid))
        .collect())
}

async fn get_matches(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let matches = matches_filtered(&app, &q, false).await?;
    Ok(axum::Json(json!({ "matches": matches })).into_response())
}

async fn get_open_matches(
    State(app): State<Arc<App>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let matches = matches_filtered(&app, &q, true).await?;
    Ok(axum::Json(json!({ "matches": matches })).into_response())
}

async fn get_reservations(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let v = app.with_store(|s| Ok(s.reservations(now_ms())?)).await?;
    Ok(axum::Json(v).into_response())
}

async fn stats(app: &App) -> Result<Value, ApiError> {
    let mut v = app.with_store(|s| Ok(s.stats(now_ms())?)).await?;
    v["faults"] = serde_json::to_value(app.faults.counts()).map_err(ApiError::internal)?;
    v["answers"] = app.answers_json();
    Ok(v)
}

async fn get_stats(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    Ok(axum::Json(stats(&app).await?).into_response())
}

async fn get_faults(State(app): State<Arc<App>>) -> Response {
    axum::Json(json!({ "plan": app.faults.plan(), "counts": app.faults.counts() })).into_response()
}

async fn get_page(State(app): State<Arc<App>>) -> Result<Response, ApiError> {
    let stats = stats(&app).await?;
    let now = now_ms();
    let (matches, results, snapshots, reservations) = app
        .with_store(move |s| {
            Ok((
                s.matches(now)?,
                s.list_results(None, 100)?,
                s.list_snapshots(None, 100)?,
                s.reservations(now)?,
            ))
        })
        .await?;
    Ok(Html(html::render(
        &stats,
        &matches,
        &results,
        &snapshots,
        &reservations,
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_uploaded_log_is_decompressed_up_to_the_limit() {
        let text = b"{\"format\":\"nexori-match-log/1\"}\n".repeat(128);
        let file = nexori_recording::format::compress(&text);
        assert!(file.starts_with(&nexori_recording::format::ZSTD_MAGIC));
        assert_eq!(&*log_text(&file, text.len()).unwrap(), &text[..]);
        let refused = log_text(&file, text.len() - 1).unwrap_err();
        assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
        // Plain text is the upload itself, which the route's body limit bounds.
        assert_eq!(&*log_text(&text, 1).unwrap(), &text[..]);
        // A broken stream goes to `verify` as it is, which names the problem.
        let broken = &file[..file.len() / 2];
        assert_eq!(&*log_text(broken, text.len()).unwrap(), broken);
        let error = nexori_recording::verify(broken, &json!({})).unwrap_err();
        assert!(matches!(
            error,
            nexori_recording::VerifyError::NotStamped(_)
        ));
        let stamped =
            json!({"resultId": "r", "metadata": {"modSha256": "a", "inputLogSha256": "b"}});
        let error = nexori_recording::verify(broken, &stamped).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the log cannot be read: cannot decompress"),
            "{error}"
        );
    }
}
