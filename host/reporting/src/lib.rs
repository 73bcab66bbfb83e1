//! Reporting to the operator's backend: the result enqueue plan
//! (docs/arena-behaviour.md#reporting-a-result) in front of a delivery backend, the durable
//! SQLite [`outbox`], the HTTP result [`sender`] and the [`admission`] snapshot publisher, each
//! configured from [`ReportingSettings`].
//!
//! Depends on `nexori-runtime` (the results it reports, the admission state it publishes) and
//! `nexori-protocol` (the bodies). It must not depend on wasmtime or on the `nexori` CLI's
//! configuration file.
//!
//! [`ResultReporter`] is the seam between the runtime's accepted results and delivery. The
//! [`RecordingReporter`] keeps results in memory and treats them as acknowledged; it is what
//! simulations use (docs/bridge-protocol.md#scenario-files: "an in-process recorder that answers
//! ACCEPTED").

// A panic on the host thread stops every match: outside tests, say why a value must be there
// (`expect`) or handle its absence.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
#![warn(missing_docs)]

pub mod admission;
pub mod admission_http;
pub mod outbox;
pub mod policy;
pub mod sender;
mod settings;

use serde_json::Value;
use uuid::Uuid;

pub use nexori_runtime::model::BackendReportStatus;
use nexori_runtime::results::AcceptedResult;
pub use settings::{DEFAULT_RESULTS_IN_FLIGHT, MAX_RESULTS_IN_FLIGHT, ReportingSettings};

/// What enqueueing a result decided.
#[derive(Debug, Clone, PartialEq)]
pub struct EnqueueOutcome {
    /// The answer's `backendReportStatus` (docs/arena-behaviour.md#reporting-a-result): `QUEUED`
    /// when stored, otherwise why nothing new was stored.
    pub status: BackendReportStatus,
    /// The message of the plan's row for `status`, e.g. `Result queued.` or `Match has no
    /// externalMatchId.`.
    pub message: String,
    /// The durable id (`resultId`), `""` when nothing was stored; for `ALREADY_SUBMITTED` and
    /// `DUPLICATE_CONFLICT`, the id of the stored result it collided with.
    pub result_id: String,
    /// The body as sent, or as it would have been sent (with `resultId` `""`).
    pub body: Value,
}

/// Accepts results for delivery to `POST /nexori/results`.
pub trait ResultReporter: Send {
    /// Runs the enqueue plan for a result the runtime just accepted at `now` (epoch ms) and
    /// stores it unless the plan says otherwise. What it decides becomes the
    /// `submitFinalMatchResult` answer's `backendReportStatus`, `resultId` and message. A stored
    /// result is only durable after [`commit`](Self::commit).
    fn enqueue(&mut self, result: &AcceptedResult, now: i64) -> EnqueueOutcome;

    /// Makes the results enqueued since the last commit durable (group commit, see
    /// [`outbox`]). The host calls it at the end of every turn, before the turn's commands leave.
    /// On `Err` (the cause, e.g. `database is locked`) the results stay pending in memory and
    /// are committed again by the next call; the host holds the turn's commands back meanwhile.
    ///
    /// # Errors
    ///
    /// The outbox's, when the write fails.
    fn commit(&mut self) -> Result<(), outbox::StoreError> {
        Ok(())
    }

    /// Results accepted but not yet durable.
    fn uncommitted(&self) -> usize {
        0
    }
}

/// Whether committing accepted results to the outbox is failing, for the operator: written by
/// the host thread, read by `/healthz` and `/metrics` without taking the host's lock.
#[derive(Debug, Default)]
pub struct CommitHealth {
    failing: std::sync::Mutex<Option<String>>,
    failures_total: std::sync::atomic::AtomicU64,
    held_commands: std::sync::atomic::AtomicU64,
}

impl CommitHealth {
    /// The cause of the failing commit, while it fails.
    pub fn failing(&self) -> Option<String> {
        self.failing
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Failed commit attempts since the start.
    pub fn failures_total(&self) -> u64 {
        self.failures_total
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Commands for the game server held back until the results before them are durable.
    pub fn held_commands(&self) -> u64 {
        self.held_commands
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Records a failed commit attempt: `cause` is shown by `/healthz` until
    /// [`recovered`](Self::recovered), `held` is the number of commands now held back.
    pub fn failed(&self, cause: &str, held: usize) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = Some(cause.to_string());
        self.failures_total
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.set_held(held);
    }

    /// Records that a commit succeeded again: no cause, no held commands.
    pub fn recovered(&self) {
        *self.failing.lock().unwrap_or_else(|p| p.into_inner()) = None;
        self.set_held(0);
    }

    /// Updates the number of commands held back behind the failing commit.
    pub fn set_held(&self, held: usize) {
        self.held_commands
            .store(held as u64, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Makes ids. Simulations use a seeded sequence so that traces are reproducible.
#[derive(Debug, Clone)]
pub enum IdGenerator {
    /// `Uuid::new_v4` from the operating system's randomness: `nexori serve`, `nexori stdio`, and
    /// simulations against a real backend (which remembers ids across runs).
    Random,
    /// A splitmix64 sequence; the value is its state, starting at the seed, so the same seed
    /// gives the same ids (`nexori simulate` with the in-process recorder, tests).
    Seeded(u64),
}

impl IdGenerator {
    /// A second generator that does not repeat this one's ids (seeded ones stay reproducible).
    pub fn clone_offset(&self, stream: u64) -> Self {
        match self {
            Self::Random => Self::Random,
            Self::Seeded(seed) => Self::Seeded(seed ^ stream.wrapping_mul(0xA076_1D64_78BD_642F)),
        }
    }

    /// A lowercase, hyphenated, version-4 UUID.
    pub fn next_uuid(&mut self) -> String {
        let uuid = match self {
            Self::Random => Uuid::new_v4(),
            Self::Seeded(state) => {
                let mut bytes = [0u8; 16];
                for chunk in bytes.chunks_mut(8) {
                    // splitmix64: cheap, well-distributed and dependency-free.
                    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
                    let mut z = *state;
                    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
                    chunk.copy_from_slice(&(z ^ (z >> 31)).to_be_bytes());
                }
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            }
        };
        uuid.hyphenated().to_string()
    }
}

/// The part of the enqueue plan (docs/arena-behaviour.md#reporting-a-result) that does not depend
/// on the store: reporting switches and `externalMatchId`. `None` means "go on and store it".
pub fn precheck(
    config: &ReportingSettings,
    result: &AcceptedResult,
) -> Option<(BackendReportStatus, &'static str)> {
    if !config.result_reporting_enabled {
        return Some((
            BackendReportStatus::Disabled,
            "Result reporting is disabled.",
        ));
    }
    if !config.backend_usable() {
        return Some((
            BackendReportStatus::Disabled,
            "Result reporting requires baseUrl and serverToken.",
        ));
    }
    if result.external_match_id.is_empty() {
        return Some((
            BackendReportStatus::ExternalMatchMissing,
            "Match has no externalMatchId.",
        ));
    }
    None
}

/// Which stored record a new result collides with (docs/arena-behaviour.md#reporting-a-result):
/// same non-blank local or external match id. Same hash is a repeat, a different one a conflict.
pub fn duplicate_status<'a>(
    existing: impl IntoIterator<Item = (&'a str, &'a str, &'a str, &'a str)>,
    result: &AcceptedResult,
) -> Option<(BackendReportStatus, &'static str, String)> {
    for (result_id, local, external, hash) in existing {
        let same_local = !local.is_empty() && local == result.local_match_id;
        let same_external = !external.is_empty() && external == result.external_match_id;
        if same_local || same_external {
            return Some(if hash == result.payload_hash {
                (
                    BackendReportStatus::AlreadySubmitted,
                    "Result already exists.",
                    result_id.to_string(),
                )
            } else {
                (
                    BackendReportStatus::DuplicateConflict,
                    "Result conflicts with an existing local or external match result.",
                    result_id.to_string(),
                )
            });
        }
    }
    None
}

/// A stored result of the in-memory recorder.
#[derive(Debug, Clone)]
pub struct RecordedResult {
    /// The `resultId` it was given (from the reporter's [`IdGenerator`]).
    pub result_id: String,
    /// The result as the runtime accepted it.
    pub result: AcceptedResult,
    /// The `POST /nexori/results` body it would have been sent with, `sentAtEpochMs` being the
    /// time it was enqueued.
    pub body: Value,
}

/// Keeps results in memory and treats each as acknowledged at once.
pub struct RecordingReporter {
    config: ReportingSettings,
    ids: IdGenerator,
    /// Every result queued so far, in order; they are never pruned.
    pub results: Vec<RecordedResult>,
}

impl RecordingReporter {
    /// A recorder that applies `config`'s reporting switches (a disabled or unusable backend still
    /// answers `DISABLED`) and makes result ids with `ids`.
    pub fn new(config: ReportingSettings, ids: IdGenerator) -> Self {
        Self {
            config,
            ids,
            results: Vec::new(),
        }
    }
}

impl ResultReporter for RecordingReporter {
    fn enqueue(&mut self, result: &AcceptedResult, now: i64) -> EnqueueOutcome {
        let server_id = self.config.server_id.clone();
        let unsent = |status, message: &str| EnqueueOutcome {
            status,
            message: message.to_string(),
            result_id: String::new(),
            body: result_body(result, "", &server_id, now),
        };
        if let Some((status, message)) = precheck(&self.config, result) {
            return unsent(status, message);
        }
        let existing = self.results.iter().map(|r| {
            (
                r.result_id.as_str(),
                r.result.local_match_id.as_str(),
                r.result.external_match_id.as_str(),
                r.result.payload_hash.as_str(),
            )
        });
        if let Some((status, message, result_id)) = duplicate_status(existing, result) {
            return EnqueueOutcome {
                result_id: result_id.clone(),
                body: result_body(result, &result_id, &server_id, now),
                ..unsent(status, message)
            };
        }
        let result_id = self.ids.next_uuid();
        let body = result_body(result, &result_id, &server_id, now);
        self.results.push(RecordedResult {
            result_id: result_id.clone(),
            result: result.clone(),
            body: body.clone(),
        });
        EnqueueOutcome {
            status: BackendReportStatus::Queued,
            message: "Result queued.".to_string(),
            result_id,
            body,
        }
    }
}

/// Result reporting and admission publishing, wired for one configuration.
pub struct Reporting {
    /// Where the runtime's accepted results go: a [`sender::DurableReporter`] with an HTTP
    /// backend, else a [`RecordingReporter`].
    pub reporter: Box<dyn ResultReporter>,
    /// The HTTP sender, when results go to a real backend.
    pub sender: Option<std::sync::Arc<sender::ResultSender>>,
    /// The durable outbox, when results go to a real backend (also holds the admission
    /// sequences).
    pub outbox: Option<std::sync::Arc<outbox::Outbox>>,
    /// The admission snapshot publisher, with an HTTP transport for a real backend, else one that
    /// answers `ACCEPTED` in process.
    pub publisher: admission::AdmissionPublisher,
}

/// Whether the configuration points at a real HTTP backend (rather than the in-process
/// recorder that simulations use by default).
pub fn is_http_backend(base_url: &str) -> bool {
    base_url.starts_with("http://") || base_url.starts_with("https://")
}

/// Why [`setup`] could not build reporting.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The outbox could not be opened or configured.
    #[error("cannot open the outbox: {0}")]
    Outbox(#[from] outbox::StoreError),
    /// The sender's or the admission transport's thread or HTTP client could not start.
    #[error("cannot start reporting: {0}")]
    Start(#[from] std::io::Error),
}

/// Builds reporting for `config`: with an HTTP backend, a durable outbox (at `outbox_path`, or
/// in memory) and its sender plus an HTTP admission transport; otherwise the in-process
/// recorder, which acknowledges everything.
///
/// # Errors
///
/// [`SetupError`] when the outbox cannot be opened or a reporting thread cannot start.
pub fn setup(
    config: &ReportingSettings,
    clock: nexori_runtime::clock::SharedClock,
    ids: IdGenerator,
    outbox_path: Option<&std::path::Path>,
    simulation: bool,
) -> Result<Reporting, SetupError> {
    use std::sync::Arc;
    let settings = admission::PublisherSettings::from_settings(config);
    if !is_http_backend(&config.base_url) {
        let publisher = admission::AdmissionPublisher::new(
            settings,
            ids.clone_offset(1),
            Box::new(admission::MemorySequences::default()),
            Box::new(admission::RecordingTransport::default()),
        );
        return Ok(Reporting {
            reporter: Box::new(RecordingReporter::new(config.clone(), ids)),
            sender: None,
            outbox: None,
            publisher,
        });
    }
    let outbox = Arc::new(match outbox_path {
        Some(path) => outbox::Outbox::open(path)?,
        None => outbox::Outbox::in_memory()?,
    });
    outbox.set_busy_timeout(std::time::Duration::from_millis(
        config.outbox_busy_timeout_ms.max(0) as u64,
    ))?;
    let sender = if config.result_reporting_enabled && config.backend_usable() {
        Some(Arc::new(sender::ResultSender::start(
            outbox.clone(),
            clock,
            sender::SenderSettings::from_settings(config),
        )?))
    } else {
        None
    };
    let transport = admission_http::HttpTransport::new(
        std::time::Duration::from_millis(config.request_timeout_ms.max(1) as u64),
        simulation,
    )?;
    let publisher = admission::AdmissionPublisher::new(
        settings,
        ids.clone_offset(1),
        Box::new(admission::DurableSequences::new(outbox.clone())),
        Box::new(transport),
    );
    Ok(Reporting {
        reporter: Box::new(sender::DurableReporter::new(
            config.clone(),
            ids,
            outbox.clone(),
            sender.clone(),
        )),
        sender,
        outbox: Some(outbox),
        publisher,
    })
}

/// The `POST /nexori/results` body of one sending attempt of `result`
/// (docs/arena-behaviour.md#the-result-body).
pub fn result_body(
    result: &AcceptedResult,
    result_id: &str,
    server_id: &str,
    sent_at_epoch_ms: i64,
) -> Value {
    nexori_protocol::results::ResultBody {
        result_id,
        server_id,
        sent_at_epoch_ms,
        local_match_id: &result.local_match_id,
        external_match_id: &result.external_match_id,
        assignment_id: &result.assignment_id,
        assignment_ids_by_player_uuid: &result.assignment_ids_by_player_uuid,
        queue_id: &result.queue_id,
        arena_id: &result.arena_id,
        rules_engine_id: &result.rules_engine_id,
        players: &result.players,
        reason: &result.reason,
        metadata: &result.metadata,
        custom_data: &result.custom_data.to_object(),
        ended_at_epoch_ms: result.ended_at_epoch_ms,
    }
    .to_json()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_are_reproducible_v4_uuids() {
        let mut a = IdGenerator::Seeded(7);
        let mut b = IdGenerator::Seeded(7);
        let first = a.next_uuid();
        assert_eq!(first, b.next_uuid());
        assert_ne!(first, a.next_uuid());
        assert_eq!(first.len(), 36);
        assert_eq!(&first[14..15], "4");
    }
}
