//! Delivery of stored results to `POST <baseUrl>/nexori/results` (see
//! docs/arena-behaviour.md#reporting-a-result and Decision D9).
//!
//! A dedicated thread runs a small tokio runtime with one shared HTTP client. It takes due
//! records from the [`Outbox`], keeps at most `max_in_flight` requests going, and applies each
//! answer to the record: acknowledged, failed for good, or retried after the back-off of its
//! status class. Records are re-read from SQLite on every round, so a restarted host simply picks
//! up where the previous one stopped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::value::RawValue;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::outbox::{Answer, AnswerRecord, DueRecord, NewRecord, Outbox};
use super::policy::{Health, ResultVerdict, result_verdict};
use super::{EnqueueOutcome, IdGenerator, ResultReporter, duplicate_status, precheck, result_body};
use crate::ReportingSettings;
use nexori_runtime::clock::SharedClock;
use nexori_runtime::results::AcceptedResult;

/// The health record of result reporting (see
/// docs/arena-behaviour.md#how-the-backends-answers-are-read).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportingHealth {
    /// What the latest answer says about reporting.
    pub status: Health,
    /// The HTTP status of the latest answer, 0 when none came (timeout, connection error) or
    /// nothing was sent yet.
    pub last_status_code: u16,
    /// The latest failure's class (`TRANSPORT`, `EMPTY_BODY`, `INVALID_JSON`, `HTTP_<status>`);
    /// `""` after an acknowledgement.
    pub last_error_class: String,
    /// The latest failure's detail: the transport error, or the answer's body cut to 512
    /// characters; `""` after an acknowledgement.
    pub last_message: String,
    /// When the latest answer (or failed request) was judged, epoch ms; 0 before the first.
    pub last_attempt_at_epoch_ms: i64,
    /// When the result judged last is due again, epoch ms; 0 after an acknowledgement or a
    /// permanent failure.
    pub next_attempt_at_epoch_ms: i64,
}

impl Default for ReportingHealth {
    fn default() -> Self {
        Self {
            status: Health::Healthy,
            last_status_code: 0,
            last_error_class: String::new(),
            last_message: String::new(),
            last_attempt_at_epoch_ms: 0,
            next_attempt_at_epoch_ms: 0,
        }
    }
}

/// Counters for operators and tests.
#[derive(Debug, Default)]
pub struct SenderStats {
    /// Requests started.
    pub attempts: AtomicU64,
    /// Answers that acknowledged their result, counted once the outbox recorded them.
    pub acknowledged: AtomicU64,
    /// Answers that failed their result for good (400/422), counted once recorded.
    pub failed_permanent: AtomicU64,
    /// Answers (or missing answers) that scheduled another attempt, counted once recorded.
    pub retries: AtomicU64,
    /// Sum of request latencies (answered or not), in microseconds, over `attempts` requests.
    pub latency_micros_sum: AtomicU64,
}

/// Settings of the sender.
#[derive(Debug, Clone)]
pub struct SenderSettings {
    /// `<baseUrl>/nexori/results`.
    pub results_url: String,
    /// Sent as `Authorization: Bearer <serverToken>`.
    pub server_token: String,
    /// Sent as `X-Nexori-Server-Id`.
    pub server_id: String,
    /// How long one request may take before it counts as no answer (`requestTimeoutMs`).
    pub request_timeout: Duration,
    /// The back-off after 429, 5xx or no answer, in ms (`resultRetryIntervalMs`).
    pub retry_interval_ms: i64,
    /// Requests in flight at once (`resultMaxInFlight`), at least 1.
    pub max_in_flight: usize,
}

impl SenderSettings {
    /// The sender's part of `config`: the results URL, credentials and timings, with the timeout
    /// and the in-flight limit raised to at least 1.
    pub fn from_settings(config: &ReportingSettings) -> Self {
        Self {
            results_url: format!("{}/nexori/results", config.base_url),
            server_token: config.server_token.clone(),
            server_id: config.server_id.clone(),
            request_timeout: Duration::from_millis(config.request_timeout_ms.max(1) as u64),
            retry_interval_ms: config.result_retry_interval_ms,
            max_in_flight: config.result_max_in_flight.max(1) as usize,
        }
    }
}

struct Inner {
    outbox: Arc<Outbox>,
    clock: SharedClock,
    settings: SenderSettings,
    wake: Notify,
    stop: AtomicBool,
    health: Mutex<ReportingHealth>,
    stats: SenderStats,
    in_flight: Mutex<Vec<String>>,
}

/// The running sender. Dropping it stops the thread (in-flight requests are abandoned; their
/// records stay `PENDING` and go out again later).
pub struct ResultSender {
    inner: Arc<Inner>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ResultSender {
    /// Starts the sender's thread (`nexori-results`), which delivers `outbox`'s due records on
    /// `clock`'s time until the sender is dropped.
    ///
    /// # Errors
    ///
    /// The operating system's error when the thread cannot be spawned. A tokio runtime or HTTP
    /// client that cannot be built is logged by the thread, which then delivers nothing.
    pub fn start(
        outbox: Arc<Outbox>,
        clock: SharedClock,
        settings: SenderSettings,
    ) -> std::io::Result<Self> {
        let inner = Arc::new(Inner {
            outbox,
            clock,
            settings,
            wake: Notify::new(),
            stop: AtomicBool::new(false),
            health: Mutex::new(ReportingHealth::default()),
            stats: SenderStats::default(),
            in_flight: Mutex::new(Vec::new()),
        });
        let runner = inner.clone();
        let thread = std::thread::Builder::new().name("nexori-results".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!(target: "nexori::reporting", "cannot start the result sender: {e}");
                    return;
                }
            };
            runtime.block_on(run(runner));
        })?;
        Ok(Self {
            inner,
            thread: Some(thread),
        })
    }

    /// Asks the sender to look at the outbox now (a result was just queued).
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// A copy of the health record as the latest answer left it.
    pub fn health(&self) -> ReportingHealth {
        self.inner
            .health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The sender's counters, for `/metrics`.
    pub fn stats(&self) -> &SenderStats {
        &self.inner.stats
    }

    /// Requests sent and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.inner
            .in_flight
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// Waits (real time) until nothing is due or in flight, or `timeout` passes. True if idle.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let now = self.inner.clock.now_epoch_ms();
            let due = self
                .inner
                .outbox
                .next_due_at()
                .ok()
                .flatten()
                .is_some_and(|at| at <= now);
            if !due && self.in_flight() == 0 {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            self.wake();
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for ResultSender {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        self.inner.wake.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The outcome of one HTTP attempt.
struct Attempt {
    result_id: String,
    elapsed: Duration,
    status: u16,
    body: String,
    error: String,
}

async fn run(inner: Arc<Inner>) {
    let client = match reqwest::Client::builder()
        .timeout(inner.settings.request_timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(target: "nexori::reporting", "cannot build the HTTP client: {e}");
            return;
        }
    };
    let mut requests: JoinSet<Attempt> = JoinSet::new();
    // Answers judged but not yet in the outbox: the next round records them together with
    // the attempts it starts, in one transaction.
    let mut answers: Vec<AnswerRecord> = Vec::new();
    while !inner.stop.load(Ordering::SeqCst) {
        let now = inner.clock.now_epoch_ms();
        let free = inner.settings.max_in_flight.saturating_sub(requests.len());
        if free > 0 || !answers.is_empty() {
            let in_flight = inner
                .in_flight
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            match inner.outbox.delivery_round(&answers, now, free, &in_flight) {
                Ok(records) => {
                    count_answers(&inner, &answers);
                    answers.clear();
                    start_attempts(&inner, &client, &mut requests, records, now);
                }
                // Nothing was recorded and nothing new sent: the answers wait for the next
                // round (at most one per request that was in flight), which records them
                // before it takes anything due.
                Err(e) => {
                    tracing::error!(target: "nexori::reporting", "cannot update the outbox: {e}")
                }
            }
        }
        // Sleep until an answer, a wake-up, or the next due record (polled, since the clock
        // may be virtual).
        let idle = Duration::from_millis(100);
        tokio::select! {
            Some(done) = requests.join_next(), if !requests.is_empty() => {
                // Every answer already in goes into the same round.
                let mut attempts: Vec<Attempt> = done.into_iter().collect();
                while let Some(done) = requests.try_join_next() {
                    attempts.extend(done);
                }
                answers.extend(judge_all(&inner, attempts));
            }
            _ = inner.wake.notified() => {}
            _ = tokio::time::sleep(idle) => {}
        }
    }
    // Answers that came in after the last round: recorded, so a restart does not send their
    // results again.
    if !answers.is_empty() {
        match inner.outbox.record_answers(&answers) {
            Ok(()) => count_answers(&inner, &answers),
            Err(e) => tracing::error!(target: "nexori::reporting", "cannot update the outbox: {e}"),
        }
    }
}

fn start_attempts(
    inner: &Arc<Inner>,
    client: &reqwest::Client,
    requests: &mut JoinSet<Attempt>,
    records: Vec<DueRecord>,
    now: i64,
) {
    inner
        .stats
        .attempts
        .fetch_add(records.len() as u64, Ordering::Relaxed);
    inner
        .in_flight
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .extend(records.iter().map(|r| r.result_id.clone()));
    for record in records {
        start_attempt(inner, client, requests, record, now);
    }
}

fn start_attempt(
    inner: &Arc<Inner>,
    client: &reqwest::Client,
    requests: &mut JoinSet<Attempt>,
    record: DueRecord,
    now: i64,
) {
    let body = with_sent_at(&record.body, now);
    let request = client
        .post(&inner.settings.results_url)
        .bearer_auth(&inner.settings.server_token)
        .header("Content-Type", "application/json")
        .header("X-Nexori-Server-Id", &inner.settings.server_id)
        .header("X-Nexori-Result-Id", &record.result_id)
        .header("X-Nexori-Sent-At-Epoch-Ms", now.to_string())
        .body(body);
    let result_id = record.result_id;
    requests.spawn(async move {
        let started = std::time::Instant::now();
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                Attempt {
                    result_id,
                    elapsed: started.elapsed(),
                    status,
                    body,
                    error: String::new(),
                }
            }
            Err(e) => Attempt {
                result_id,
                elapsed: started.elapsed(),
                status: 0,
                body: String::new(),
                error: e.to_string(),
            },
        }
    });
}

/// What the answers that arrived together mean: health and latency now, the records in the
/// next round.
fn judge_all(inner: &Arc<Inner>, attempts: Vec<Attempt>) -> Vec<AnswerRecord> {
    inner
        .in_flight
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .retain(|id| !attempts.iter().any(|a| &a.result_id == id));
    let now = inner.clock.now_epoch_ms();
    attempts
        .into_iter()
        .map(|attempt| AnswerRecord {
            answer: judge(inner, &attempt, now),
            at: now,
            status_code: attempt.status,
            result_id: attempt.result_id,
        })
        .collect()
}

/// Counted once the outbox has them, so a reader of the counters finds the records updated.
fn count_answers(inner: &Inner, answers: &[AnswerRecord]) {
    for answer in answers {
        let counter = match answer.answer {
            Answer::Acknowledged { .. } => &inner.stats.acknowledged,
            Answer::FailedPermanent { .. } => &inner.stats.failed_permanent,
            Answer::Retry { .. } => &inner.stats.retries,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// What one answer means for its record, with the health and counters it moves.
fn judge(inner: &Inner, attempt: &Attempt, now: i64) -> Answer {
    inner
        .stats
        .latency_micros_sum
        .fetch_add(attempt.elapsed.as_micros() as u64, Ordering::Relaxed);
    let verdict = result_verdict(
        attempt.status,
        &attempt.body,
        &attempt.result_id,
        inner.settings.retry_interval_ms,
    );
    let mut health = inner.health.lock().unwrap_or_else(|p| p.into_inner());
    health.last_status_code = attempt.status;
    health.last_attempt_at_epoch_ms = now;
    match verdict {
        ResultVerdict::Acknowledged { backend_status } => {
            *health = ReportingHealth {
                last_status_code: attempt.status,
                last_attempt_at_epoch_ms: now,
                ..Default::default()
            };
            Answer::Acknowledged { backend_status }
        }
        ResultVerdict::FailedPermanent { error_class } => {
            health.status = Health::FailedPermanent;
            health.last_error_class = error_class.clone();
            health.last_message = truncate(&attempt.body);
            health.next_attempt_at_epoch_ms = 0;
            tracing::error!(
                target: "nexori::reporting",
                result_id = %attempt.result_id,
                status = attempt.status,
                "backend rejected a result permanently; `nexori outbox retry` resends it"
            );
            Answer::FailedPermanent {
                class: error_class,
                message: truncate(&attempt.body),
            }
        }
        ResultVerdict::Retry {
            backoff_ms,
            health: h,
            error_class,
        } => {
            let message = if attempt.error.is_empty() {
                truncate(&attempt.body)
            } else {
                attempt.error.clone()
            };
            health.status = h;
            health.last_error_class = error_class.clone();
            health.last_message = message.clone();
            health.next_attempt_at_epoch_ms = now + backoff_ms;
            if matches!(h, Health::AuthFailed | Health::AuthForbidden) {
                tracing::warn!(target: "nexori::reporting", status = attempt.status, "backend refused the server token");
            }
            Answer::Retry {
                next_attempt_at: now + backoff_ms,
                class: error_class,
                message,
            }
        }
    }
}

/// The stored body with `sentAtEpochMs` set to the time of this attempt (see
/// docs/arena-behaviour.md#the-result-body). Only the top level is parsed: `customData` and the
/// player lists are copied through as text.
fn with_sent_at(body: &str, now: i64) -> String {
    match serde_json::from_str::<IndexMap<String, &RawValue>>(body) {
        Ok(mut fields) => {
            let sent_at = RawValue::from_string(now.to_string()).expect("an integer is JSON");
            fields.insert("sentAtEpochMs".to_string(), &sent_at);
            serde_json::to_string(&fields).expect("serialising JSON text cannot fail")
        }
        // Not an object (a record written by hand?): sent as stored, and the backend's answer
        // says what is wrong with it.
        Err(_) => body.to_string(),
    }
}

fn truncate(text: &str) -> String {
    text.chars().take(512).collect()
}

/// A [`ResultReporter`] that stores results in the outbox and wakes the sender.
pub struct DurableReporter {
    config: ReportingSettings,
    ids: IdGenerator,
    outbox: Arc<Outbox>,
    sender: Option<Arc<ResultSender>>,
    /// Accepted this turn, committed by [`ResultReporter::commit`].
    uncommitted: Vec<NewRecord>,
}

impl DurableReporter {
    /// A reporter that applies `config`'s enqueue plan, makes result ids with `ids`, stores in
    /// `outbox`, and wakes `sender` (if any) after each successful commit.
    pub fn new(
        config: ReportingSettings,
        ids: IdGenerator,
        outbox: Arc<Outbox>,
        sender: Option<Arc<ResultSender>>,
    ) -> Self {
        Self {
            config,
            ids,
            outbox,
            sender,
            uncommitted: Vec::new(),
        }
    }
}

impl ResultReporter for DurableReporter {
    fn enqueue(&mut self, result: &AcceptedResult, now: i64) -> EnqueueOutcome {
        let server_id = self.config.server_id.clone();
        if let Some((status, message)) = precheck(&self.config, result) {
            return EnqueueOutcome {
                status,
                message: message.to_string(),
                result_id: String::new(),
                body: result_body(result, "", &server_id, now),
            };
        }
        let stored = match self.outbox.existing(result) {
            Ok(stored) => stored,
            Err(e) => {
                tracing::error!(target: "nexori::reporting", "cannot store a result: {e}");
                return EnqueueOutcome {
                    status: super::BackendReportStatus::StoreFailed,
                    message: "Failed to persist backend result.".to_string(),
                    result_id: String::new(),
                    body: result_body(result, "", &server_id, now),
                };
            }
        };
        let earlier = stored
            .views()
            .chain(self.uncommitted.iter().map(NewRecord::view));
        if let Some((status, message, result_id)) = duplicate_status(earlier, result) {
            return EnqueueOutcome {
                status,
                message: message.to_string(),
                body: result_body(result, &result_id, &server_id, now),
                result_id,
            };
        }
        let result_id = self.ids.next_uuid();
        let body = result_body(result, &result_id, &server_id, now);
        self.uncommitted
            .push(NewRecord::new(result, &result_id, &body, now));
        EnqueueOutcome {
            status: super::BackendReportStatus::Queued,
            message: "Result queued.".to_string(),
            result_id,
            body,
        }
    }

    fn commit(&mut self) -> Result<(), super::outbox::StoreError> {
        if self.uncommitted.is_empty() {
            return Ok(());
        }
        // On failure the records stay here and are committed again by the next call; the host
        // holds back what the game server would see of them meanwhile.
        self.outbox.insert_pending(&self.uncommitted)?;
        self.uncommitted.clear();
        if let Some(sender) = &self.sender {
            sender.wake();
        }
        Ok(())
    }

    fn uncommitted(&self) -> usize {
        self.uncommitted.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_attempt_sets_sent_at_in_place_and_copies_the_rest() {
        let stored = r#"{"resultId":"r1","sentAtEpochMs":1,"customData":{"sentAtEpochMs":"mine","x":[1.50,{"y":null}]},"endedAtEpochMs":2}"#;
        assert_eq!(
            with_sent_at(stored, 1_760_000_000_123),
            r#"{"resultId":"r1","sentAtEpochMs":1760000000123,"customData":{"sentAtEpochMs":"mine","x":[1.50,{"y":null}]},"endedAtEpochMs":2}"#
        );
        // A body without the field gets it at the end; a body that is not an object is sent as
        // it is, for the backend to refuse with a reason.
        assert_eq!(
            with_sent_at(r#"{"a":1}"#, 5),
            r#"{"a":1,"sentAtEpochMs":5}"#
        );
        assert_eq!(with_sent_at("[1]", 5), "[1]");
    }
}
