//! The admission-state publisher (`POST <baseUrl>/nexori/matches/state`; see
//! docs/arena-behaviour.md#admission-state, with Decisions D6, D7 and D10).
//!
//! A state machine on the injected clock, like the runtime: [`AdmissionPublisher::mark_dirty`]
//! records why a match's admission may have changed; [`AdmissionPublisher::tick`] decides which
//! snapshots go out (debounce, max coalesce window, retries, expiry) and hands them to an
//! [`AdmissionTransport`]; answers come back through [`AdmissionTransport::poll_answers`] and are
//! applied on the next tick, never in an HTTP callback.
//!
//! Departures from the reference, by decision: a closed match is re-marked only while it is not
//! already dirty, so its closure goes out after the normal debounce (D6); a `STALE` (or other
//! non-accepting) answer re-dirties the snapshot's reasons behind the debounce instead of
//! flushing at once (D7); sequences are persisted, so they stay monotonic across restarts (D7);
//! retries reuse the snapshot's `stateUpdateId` (D10). Several matches may be in flight at once
//! (one per match), bounded by [`MAX_IN_FLIGHT`].

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::Value;

use super::IdGenerator;
use super::outbox::Outbox;
use super::policy::{AUTH_BACKOFF_MS, Health, StateVerdict, state_verdict};
use crate::ReportingSettings;
use nexori_runtime::admission::{AdmissionState, evaluate};
use nexori_runtime::model::MatchSource;
use nexori_runtime::{Arena, Match};

/// Closed matches remembered so they never report again.
pub const CLOSED_MEMORY: usize = 2048;
/// Snapshots in flight at once, across matches.
pub const MAX_IN_FLIGHT: usize = 16;

/// One snapshot as sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The match (normalised id) it describes.
    pub match_id: String,
    /// `stateUpdateId`: a new random lowercase UUID per built snapshot, reused by its retries
    /// (D10); answers are matched to the snapshot in flight by it.
    pub state_update_id: String,
    /// `admissionStateSequence`: one more than the match's last (D7).
    pub sequence: i64,
    /// `sentAtEpochMs`: the build time, kept by retries.
    pub sent_at: i64,
    /// `stateExpiresAtEpochMs`: build time + `matchStateStaleAfterMs`; a retry after it is
    /// dropped.
    pub expires_at: i64,
    /// `admissionReportingClosed`: an acknowledged closed snapshot ends publication for the match.
    pub closed: bool,
    /// `coalescedChangeReasons`: trimmed, blanks removed, sorted case-insensitively.
    pub reasons: Vec<String>,
    /// `consumedAdmissionReservationIds` not yet acknowledged, sorted the same way.
    pub reservations: Vec<String>,
    /// The JSON body as sent, `payloadHash` included (docs/arena-behaviour.md#the-snapshot).
    pub body: Value,
}

/// Where sequences are kept (D7). A store keeps a sequence per match only while the publisher
/// tracks the match; [`SequenceStore::forget`] folds a match's last sequence into a floor that
/// every match without its own entry continues from, so sequences stay monotonic per match
/// while the store stays as small as the set of matches being published.
pub trait SequenceStore: Send {
    /// The last sequence built for `match_id`: its own entry, else the floor (0 at first).
    fn last(&self, match_id: &str) -> i64;
    /// Records `sequence` as the last one built for `match_id`.
    fn store(&mut self, match_id: &str, sequence: i64);
    /// The publisher is done with `match_id`: drop its entry, raising the floor to its last
    /// sequence.
    fn forget(&mut self, match_id: &str);
}

/// Sequences in memory (simulations).
#[derive(Debug, Default)]
pub struct MemorySequences {
    last: HashMap<String, i64>,
    floor: i64,
}

impl SequenceStore for MemorySequences {
    fn last(&self, match_id: &str) -> i64 {
        self.last.get(match_id).copied().unwrap_or(self.floor)
    }
    fn store(&mut self, match_id: &str, sequence: i64) {
        self.last.insert(match_id.to_string(), sequence);
    }
    fn forget(&mut self, match_id: &str) {
        if let Some(last) = self.last.remove(match_id) {
            self.floor = self.floor.max(last);
        }
    }
}

/// Sequences in the outbox database, so a restarted host continues them.
pub struct DurableSequences(Arc<Outbox>);

impl DurableSequences {
    /// Folds what a previous run left into the floor: no match survives a restart.
    pub fn new(outbox: Arc<Outbox>) -> Self {
        if let Err(e) = outbox.forget_all_admission_sequences() {
            tracing::error!(target: "nexori::admission", "cannot prune old admission sequences: {e}");
        }
        Self(outbox)
    }
}

impl SequenceStore for DurableSequences {
    fn last(&self, match_id: &str) -> i64 {
        self.0.last_admission_sequence(match_id).unwrap_or(0)
    }
    fn store(&mut self, match_id: &str, sequence: i64) {
        if let Err(e) = self.0.store_admission_sequence(match_id, sequence) {
            tracing::error!(target: "nexori::admission", "cannot persist an admission sequence: {e}");
        }
    }
    fn forget(&mut self, match_id: &str) {
        if let Err(e) = self.0.forget_admission_sequence(match_id) {
            tracing::error!(target: "nexori::admission", match_id, "cannot prune an admission sequence: {e}");
        }
    }
}

/// Sends snapshots and returns answers.
pub trait AdmissionTransport: Send {
    /// Starts `POST <state_url>` for `snapshot` with the headers of
    /// docs/arena-behaviour.md#the-snapshot. Must not apply the answer: it is returned by
    /// [`poll_answers`](Self::poll_answers).
    fn send(&mut self, snapshot: &Snapshot, settings: &PublisherSettings);
    /// `(state_update_id, HTTP status (0 = no answer), body)` of finished requests.
    fn poll_answers(&mut self) -> Vec<(String, u16, String)>;
}

/// Answers every snapshot `ACCEPTED` (simulations) and keeps what was sent.
#[derive(Debug, Default)]
pub struct RecordingTransport {
    answers: Vec<(String, u16, String)>,
    /// Every snapshot sent, retries included, in order.
    pub sent: Vec<Snapshot>,
}

impl AdmissionTransport for RecordingTransport {
    fn send(&mut self, snapshot: &Snapshot, _settings: &PublisherSettings) {
        let body = format!(
            r#"{{"schemaVersion":1,"receivedStateUpdateId":"{}","receivedAdmissionStateSequence":{},"status":"ACCEPTED"}}"#,
            snapshot.state_update_id, snapshot.sequence
        );
        self.answers
            .push((snapshot.state_update_id.clone(), 200, body));
        self.sent.push(snapshot.clone());
    }

    fn poll_answers(&mut self) -> Vec<(String, u16, String)> {
        std::mem::take(&mut self.answers)
    }
}

/// Timing and identity of the publisher (the configuration keys of
/// docs/arena-behaviour.md#defaults).
#[derive(Debug, Clone)]
pub struct PublisherSettings {
    /// `matchStateReportingEnabled`: when false the publisher keeps nothing and sends nothing.
    pub enabled: bool,
    /// Whether `baseUrl` and `serverToken` are set too; enabled but unusable means health
    /// `CONFIG_INVALID` and a retry after `retry_interval_ms`, marks kept.
    pub usable: bool,
    /// `<baseUrl>/nexori/matches/state`.
    pub state_url: String,
    /// Sent as `Authorization: Bearer <serverToken>`.
    pub server_token: String,
    /// `reportingServerId` and `X-Nexori-Server-Id`.
    pub server_id: String,
    /// `reportingServerConnectionAddress` (`serverConnectionAddress`, `""` if unset).
    pub connection_address: String,
    /// `matchStateDebounceMs`: how long a mark waits for others before its snapshot goes out.
    pub debounce_ms: i64,
    /// `matchStateMaxCoalesceWindowMs`: the longest a snapshot waits after the first mark.
    pub max_coalesce_window_ms: i64,
    /// `matchStateRetryIntervalMs`: the wait after 408, 429, 5xx, no answer or an unusable
    /// configuration.
    pub retry_interval_ms: i64,
    /// `matchStateStaleAfterMs`: how long a snapshot stays valid (`stateExpiresAtEpochMs`).
    pub stale_after_ms: i64,
}

impl PublisherSettings {
    /// The publisher's part of `c`: switches, URL, identity and timings, taken as they are
    /// (already normalised by the CLI's configuration).
    pub fn from_settings(c: &ReportingSettings) -> Self {
        Self {
            enabled: c.match_state_reporting_enabled,
            usable: c.admission_reporting_usable(),
            state_url: format!("{}/nexori/matches/state", c.base_url),
            server_token: c.server_token.clone(),
            server_id: c.server_id.clone(),
            connection_address: c.server_connection_address.clone(),
            debounce_ms: c.match_state_debounce_ms,
            max_coalesce_window_ms: c.match_state_max_coalesce_window_ms,
            retry_interval_ms: c.match_state_retry_interval_ms,
            stale_after_ms: c.match_state_stale_after_ms,
        }
    }
}

/// Publication state of one match (docs/arena-behaviour.md#publication).
#[derive(Debug, Default)]
struct Publication {
    dirty: bool,
    first_dirty_at: i64,
    scheduled_flush_at: i64,
    primary: String,
    coalesced: Vec<String>,
    pending_reservations: BTreeSet<String>,
    in_flight: Option<Snapshot>,
    pending_retry: Option<Snapshot>,
    retry_not_before: i64,
    /// Whether a sequence was allocated for the match (it has an entry in the store).
    sequenced: bool,
}

impl Publication {
    fn mark(&mut self, reason: &str, now: i64, settings: &PublisherSettings) {
        self.dirty = true;
        if self.first_dirty_at == 0 {
            self.first_dirty_at = now;
        }
        self.primary = reason.to_string();
        if !self.coalesced.iter().any(|r| r == reason) {
            self.coalesced.push(reason.to_string());
        }
        self.scheduled_flush_at =
            (now + settings.debounce_ms).min(self.first_dirty_at + settings.max_coalesce_window_ms);
    }

    fn closure_outstanding(&self) -> bool {
        self.in_flight.as_ref().is_some_and(|s| s.closed)
            || self.pending_retry.as_ref().is_some_and(|s| s.closed)
    }
}

/// Counts of answers, for operators and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PublisherStats {
    /// Snapshots handed to the transport, retries included.
    pub sent: u64,
    /// 2xx answers with an accepting status (`OK`, `ACCEPTED`, `DUPLICATE`, ...).
    pub acknowledged: u64,
    /// 2xx answers with another status (`STALE`, `REJECTED`, ...).
    pub not_acknowledged: u64,
    /// 400 and 422 answers.
    pub permanent_failures: u64,
    /// 401 and 403 answers.
    pub auth_failures: u64,
    /// 408, 429, 5xx answers and requests that got no answer.
    pub retryable: u64,
    /// Any other answer (3xx, 404, 409, ...).
    pub unexpected: u64,
}

/// The publisher: per-match publication state (docs/arena-behaviour.md#publication), the closed
/// matches it remembers, and the global gate. Driven by the host thread through
/// [`mark_dirty`](Self::mark_dirty) and [`tick`](Self::tick).
pub struct AdmissionPublisher {
    settings: PublisherSettings,
    states: BTreeMap<String, Publication>,
    closed: VecDeque<String>,
    closed_set: BTreeSet<String>,
    next_global_attempt_at: i64,
    ids: IdGenerator,
    sequences: Box<dyn SequenceStore>,
    transport: Box<dyn AdmissionTransport>,
    /// Admission reporting's health as the latest answer (or an unusable configuration) left
    /// it.
    pub health: Health,
    /// Counts of snapshots sent and answers by class.
    pub stats: PublisherStats,
}

fn reportable(m: &Match) -> bool {
    m.match_source == MatchSource::BackendDriven
        && !m.external_match_id.is_empty()
        && !m.queue_id.is_empty()
        && !m.arena_id.is_empty()
        && !m.expected.is_empty()
        && m.admission.schema_version > 0
        && m.admission.capacity > 0
        && !m.admission.backfill_mode.is_empty()
}

fn sorted_case_insensitive(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = items
        .into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    // Java's CASE_INSENSITIVE_ORDER, stable, as the reference sorts these lists.
    v.sort_by(|a, b| nexori_protocol::payload_hash::java_case_insensitive(a, b));
    v
}

impl AdmissionPublisher {
    /// A publisher with nothing tracked: ids for `stateUpdateId` come from `ids`, sequences from
    /// `sequences`, and snapshots go out through `transport`.
    pub fn new(
        settings: PublisherSettings,
        ids: IdGenerator,
        sequences: Box<dyn SequenceStore>,
        transport: Box<dyn AdmissionTransport>,
    ) -> Self {
        Self {
            settings,
            states: BTreeMap::new(),
            closed: VecDeque::new(),
            closed_set: BTreeSet::new(),
            next_global_attempt_at: 0,
            ids,
            sequences,
            transport,
            health: Health::Healthy,
            stats: PublisherStats::default(),
        }
    }

    /// A runtime change that may affect admission (docs/arena-behaviour.md#change-reasons). Blank
    /// reasons and remembered closed matches are ignored; reportability is checked when the
    /// snapshot is due.
    pub fn mark_dirty(&mut self, match_id: &str, reason: &str, now: i64) {
        if !self.settings.enabled || reason.trim().is_empty() || self.closed_set.contains(match_id)
        {
            return;
        }
        let settings = self.settings.clone();
        let state = self.states.entry(match_id.to_string()).or_default();
        state.mark(reason, now, &settings);
        // The runtime ended before admission was closed: say so at once (see
        // docs/arena-behaviour.md#change-reasons).
        if reason == nexori_runtime::admission::MATCH_RUNTIME_ENDED {
            state.scheduled_flush_at = now;
        }
    }

    /// A backfill arrival consumed a reservation: it rides on the next snapshot.
    pub fn reservation_consumed(&mut self, match_id: &str, reservation_id: &str) {
        if !self.settings.enabled || self.closed_set.contains(match_id) {
            return;
        }
        self.states
            .entry(match_id.to_string())
            .or_default()
            .pending_reservations
            .insert(reservation_id.to_string());
    }

    /// Shutdown: everything dirty goes out at the next tick instead of after its debounce, so
    /// closures reach the backend before the host stops.
    pub fn flush_all(&mut self, now: i64) {
        for state in self.states.values_mut().filter(|s| s.dirty) {
            state.scheduled_flush_at = now;
        }
    }

    /// The earliest instant the publisher has something to do.
    pub fn next_deadline(&self) -> Option<i64> {
        let per_match = self.states.values().filter_map(|s| {
            if s.in_flight.is_some() {
                None
            } else if s.pending_retry.is_some() {
                Some(s.retry_not_before)
            } else if s.dirty {
                Some(s.scheduled_flush_at)
            } else {
                None
            }
        });
        per_match
            .min()
            .map(|at| at.max(self.next_global_attempt_at))
    }

    /// Applies answers, re-marks closed matches, and sends what is due.
    pub fn tick(&mut self, arena: &Arena, now: i64) -> Vec<Snapshot> {
        for (id, status, body) in self.transport.poll_answers() {
            self.apply_answer(&id, status, &body, arena, now);
        }
        if !self.settings.enabled {
            self.states.clear();
            return Vec::new();
        }
        // (a) Closure detection, and dropping states of matches that can no longer report.
        let ids: Vec<String> = self.states.keys().cloned().collect();
        for id in &ids {
            let m = arena.get_any(id);
            let state = self.states.get_mut(id).expect("listed");
            if state.closure_outstanding() {
                continue;
            }
            match m.filter(|m| reportable(m)) {
                None => {
                    if state.in_flight.is_none() {
                        self.drop_state(id);
                    }
                }
                Some(m) => {
                    let eval = evaluate(m, now);
                    if eval.admission_reporting_closed && !state.dirty {
                        state.mark(&eval.primary_reason, now, &self.settings);
                    }
                }
            }
        }
        // (b) Send what is due.
        let mut sent = Vec::new();
        if now < self.next_global_attempt_at {
            return sent;
        }
        let mut in_flight = self
            .states
            .values()
            .filter(|s| s.in_flight.is_some())
            .count();
        for id in ids {
            if in_flight >= MAX_IN_FLIGHT {
                break;
            }
            let Some(state) = self.states.get_mut(&id) else {
                continue;
            };
            if state.in_flight.is_some() {
                continue;
            }
            if let Some(retry) = state.pending_retry.take() {
                if state.dirty {
                    // Newer state wins: the dirty state gets a new snapshot below.
                } else if now < state.retry_not_before {
                    state.pending_retry = Some(retry);
                    continue;
                } else if now > retry.expires_at {
                    if arena.get_any(&id).is_some_and(reportable) {
                        state.mark("MATCH_STARTED", now, &self.settings);
                    }
                    continue;
                } else {
                    self.transport.send(&retry, &self.settings);
                    self.stats.sent += 1;
                    state.in_flight = Some(retry.clone());
                    sent.push(retry);
                    in_flight += 1;
                    continue;
                }
            }
            if !state.dirty || now < state.scheduled_flush_at {
                continue;
            }
            let Some(m) = arena.get_any(&id).filter(|m| reportable(m)) else {
                continue;
            };
            if !self.settings.usable {
                // Enabled but not usable: try again later, keep the reasons (see
                // docs/arena-behaviour.md#publication).
                self.health = Health::ConfigInvalid;
                self.next_global_attempt_at = now + self.settings.retry_interval_ms;
                break;
            }
            let snapshot = self.build(m, now);
            let state = self.states.get_mut(&id).expect("present");
            state.sequenced = true;
            state.dirty = false;
            state.first_dirty_at = 0;
            state.scheduled_flush_at = 0;
            state.primary.clear();
            state.coalesced.clear();
            state.in_flight = Some(snapshot.clone());
            self.transport.send(&snapshot, &self.settings);
            self.stats.sent += 1;
            sent.push(snapshot);
            in_flight += 1;
        }
        sent
    }

    /// Builds the next snapshot of a match (docs/arena-behaviour.md#the-snapshot).
    fn build(&mut self, m: &Match, now: i64) -> Snapshot {
        let state = self.states.get(&m.match_id).expect("present");
        let eval: AdmissionState = evaluate(m, now);
        let sequence = self.sequences.last(&m.match_id) + 1;
        self.sequences.store(&m.match_id, sequence);
        let state_update_id = self.ids.next_uuid();
        let reasons = sorted_case_insensitive(state.coalesced.iter().cloned());
        let reservations = sorted_case_insensitive(state.pending_reservations.iter().cloned());
        let primary = if !state.primary.is_empty() {
            state.primary.clone()
        } else {
            reasons
                .last()
                .cloned()
                .unwrap_or_else(|| "MATCH_STARTED".to_string())
        };
        let expires_at = now + self.settings.stale_after_ms;
        let body = nexori_protocol::admission::SnapshotBody {
            state_update_id: &state_update_id,
            admission_state_sequence: sequence,
            sent_at_epoch_ms: now,
            state_expires_at_epoch_ms: expires_at,
            reporting_server_id: &self.settings.server_id,
            reporting_server_connection_address: &self.settings.connection_address,
            match_id: &m.match_id,
            external_match_id: &m.external_match_id,
            queue_id: &m.queue_id,
            arena_id: &m.arena_id,
            backfill_enabled: eval.backfill_enabled,
            backfill_mode: eval.backfill_mode.as_str(),
            backfill_window_seconds: eval.backfill_window_seconds.into(),
            match_lifecycle_status: eval.match_lifecycle_status,
            admission_open: eval.admission_open,
            admission_open_until_epoch_ms: eval.admission_open_until_epoch_ms,
            admission_capacity: eval.admission_capacity.into(),
            admitted_slot_count: eval.admitted_slot_count.into(),
            available_admission_slots: eval.available_admission_slots.into(),
            initial_roster_size: eval.initial_roster_size.into(),
            arrived_initial_player_count: eval.arrived_initial_player_count.into(),
            unfilled_initial_roster_count: eval.unfilled_initial_roster_count.into(),
            consumed_admission_reservation_ids: &reservations,
            admission_reporting_closed: eval.admission_reporting_closed,
            admission_reporting_close_reason: &eval.admission_reporting_close_reason,
            primary_change_reason: &primary,
            coalesced_change_reasons: &reasons,
        }
        .to_json();
        Snapshot {
            match_id: m.match_id.clone(),
            state_update_id,
            sequence,
            sent_at: now,
            expires_at,
            closed: eval.admission_reporting_closed,
            reasons,
            reservations,
            body,
        }
    }

    /// Stops publishing a match: its state goes, and its sequence entry with it (folded into
    /// the store's floor, so the match never goes back below it).
    fn drop_state(&mut self, match_id: &str) {
        if self
            .states
            .remove(match_id)
            .is_some_and(|state| state.sequenced)
        {
            self.sequences.forget(match_id);
        }
    }

    fn remember_closed(&mut self, match_id: &str) {
        self.drop_state(match_id);
        if self.closed_set.insert(match_id.to_string()) {
            self.closed.push_back(match_id.to_string());
            while self.closed.len() > CLOSED_MEMORY {
                if let Some(old) = self.closed.pop_front() {
                    self.closed_set.remove(&old);
                }
            }
        }
    }

    /// The snapshot did not take: its reasons are pending again, behind the debounce.
    fn redirty(&mut self, match_id: &str, snapshot: &Snapshot, now: i64) {
        let settings = self.settings.clone();
        if let Some(state) = self.states.get_mut(match_id) {
            for reason in &snapshot.reasons {
                state.mark(reason, now, &settings);
            }
        }
    }

    /// docs/arena-behaviour.md#answers, with D7.
    fn apply_answer(
        &mut self,
        state_update_id: &str,
        status: u16,
        body: &str,
        arena: &Arena,
        now: i64,
    ) {
        let Some(match_id) = self.states.iter().find_map(|(id, s)| {
            s.in_flight
                .as_ref()
                .is_some_and(|f| f.state_update_id == state_update_id)
                .then(|| id.clone())
        }) else {
            return; // a late answer for a snapshot no longer in flight
        };
        let Some(snapshot) = self
            .states
            .get_mut(&match_id)
            .and_then(|s| s.in_flight.take())
        else {
            return;
        };
        let settings = self.settings.clone();
        let still_reportable = arena.get_any(&match_id).is_some_and(reportable);
        match state_verdict(status, body) {
            StateVerdict::Acknowledged { .. } => {
                self.stats.acknowledged += 1;
                self.health = Health::Healthy;
                self.next_global_attempt_at = 0;
                if snapshot.closed {
                    self.remember_closed(&match_id);
                    return;
                }
                let Some(state) = self.states.get_mut(&match_id) else {
                    return;
                };
                for id in &snapshot.reservations {
                    state.pending_reservations.remove(id);
                }
                if state.dirty {
                    state.scheduled_flush_at = now;
                }
            }
            StateVerdict::NotAcknowledged { backend_status } => {
                self.stats.not_acknowledged += 1;
                self.health = Health::Healthy;
                self.next_global_attempt_at = 0;
                tracing::info!(target: "nexori::admission", match_id, backend_status, "snapshot not accepted; a newer one follows");
                self.redirty(&match_id, &snapshot, now);
            }
            StateVerdict::PermanentFailure => {
                self.stats.permanent_failures += 1;
                if snapshot.closed {
                    self.remember_closed(&match_id);
                } else if !still_reportable {
                    self.drop_state(&match_id);
                }
            }
            StateVerdict::AuthFailure => {
                self.stats.auth_failures += 1;
                self.health = Health::AuthFailed;
                self.next_global_attempt_at = now + AUTH_BACKOFF_MS;
                tracing::warn!(target: "nexori::admission", status, "backend refused the server token");
                self.redirty(&match_id, &snapshot, now);
            }
            StateVerdict::Retryable => {
                self.stats.retryable += 1;
                self.next_global_attempt_at = now + settings.retry_interval_ms;
                let Some(state) = self.states.get_mut(&match_id) else {
                    return;
                };
                if state.dirty {
                    state.retry_not_before = self.next_global_attempt_at;
                } else if now <= snapshot.expires_at {
                    state.retry_not_before = now + settings.retry_interval_ms;
                    state.pending_retry = Some(snapshot);
                } else if still_reportable {
                    state.mark("MATCH_STARTED", now, &settings);
                } else {
                    self.drop_state(&match_id);
                }
            }
            StateVerdict::Unexpected => {
                self.stats.unexpected += 1;
                let Some(state) = self.states.get_mut(&match_id) else {
                    return;
                };
                if state.dirty {
                    state.scheduled_flush_at = now;
                }
            }
        }
    }

    /// Matches with publication state (for tests and metrics).
    pub fn tracked(&self) -> usize {
        self.states.len()
    }

    /// Whether the match's closure was acknowledged or permanently rejected and it is among the
    /// latest [`CLOSED_MEMORY`] such matches, so it is never reported again.
    pub fn is_remembered_closed(&self, match_id: &str) -> bool {
        self.closed_set.contains(match_id)
    }

    /// The reservation ids of the match consumed and not yet acknowledged by the backend, sorted;
    /// empty for a match the publisher does not track.
    pub fn pending_reservations(&self, match_id: &str) -> Vec<String> {
        self.states
            .get(match_id)
            .map(|s| s.pending_reservations.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// The settings the publisher was built with.
    pub fn settings(&self) -> &PublisherSettings {
        &self.settings
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use uuid::Uuid;

    use sha2::{Digest, Sha256};

    use super::*;
    use nexori_runtime::arrivals::Arrival;
    use nexori_runtime::launch::{ExpectedPlayer, LaunchAdmission, LaunchSpec};
    use nexori_runtime::{RuntimeEvent, RuntimeSettings};

    const T0: i64 = 1_760_000_000_000;

    /// A transport whose answers the test decides.
    #[derive(Clone, Default)]
    struct Scripted(Arc<Mutex<(Vec<Snapshot>, Vec<Answer>)>>);

    /// An answer the backend gave: (stateUpdateId, HTTP status, body).
    type Answer = (String, u16, String);

    impl AdmissionTransport for Scripted {
        fn send(&mut self, snapshot: &Snapshot, _: &PublisherSettings) {
            self.0.lock().unwrap().0.push(snapshot.clone());
        }
        fn poll_answers(&mut self) -> Vec<(String, u16, String)> {
            std::mem::take(&mut self.0.lock().unwrap().1)
        }
    }

    impl Scripted {
        fn sent(&self) -> Vec<Snapshot> {
            self.0.lock().unwrap().0.clone()
        }
        fn answer_last(&self, status: u16, body: &str) {
            let mut g = self.0.lock().unwrap();
            let id = g.0.last().unwrap().state_update_id.clone();
            g.1.push((id, status, body.to_string()));
        }
    }

    fn p(n: u8) -> Uuid {
        Uuid::parse_str(&format!("{n:08x}-0000-4000-8000-000000000000")).unwrap()
    }

    struct Fixture {
        arena: Arena,
        publisher: AdmissionPublisher,
        transport: Scripted,
        sequences: Arc<Mutex<i64>>,
    }

    struct SharedSequences(Arc<Mutex<i64>>);
    impl SequenceStore for SharedSequences {
        fn last(&self, _: &str) -> i64 {
            *self.0.lock().unwrap()
        }
        fn store(&mut self, _: &str, s: i64) {
            *self.0.lock().unwrap() = s;
        }
        // One sequence for every match: it already is its own floor.
        fn forget(&mut self, _: &str) {}
    }

    fn fixture(mode: &str) -> Fixture {
        let mut arena = Arena::new(RuntimeSettings {
            admission_reporting_usable: true,
        });
        arena
            .create_match(
                LaunchSpec {
                    match_id: "m1".into(),
                    queue_id: "q".into(),
                    arena_id: "a".into(),
                    external_match_id: "ext".into(),
                    match_source: Some(MatchSource::BackendDriven),
                    expected_players: vec![ExpectedPlayer {
                        uuid: p(1),
                        name: "A".into(),
                        assignment_id: String::new(),
                    }],
                    admission: Some(LaunchAdmission {
                        capacity: 3,
                        backfill_enabled: true,
                        backfill_mode: mode.into(),
                        backfill_window_seconds: 10,
                    }),
                    ..Default::default()
                },
                T0,
            )
            .unwrap();
        let config = ReportingSettings {
            match_state_reporting_enabled: true,
            base_url: "http://backend".into(),
            server_token: "t".into(),
            server_id: "srv".into(),
            ..ReportingSettings::default()
        };
        let transport = Scripted::default();
        let sequences = Arc::new(Mutex::new(0));
        let publisher = AdmissionPublisher::new(
            PublisherSettings::from_settings(&config),
            IdGenerator::Seeded(1),
            Box::new(SharedSequences(sequences.clone())),
            Box::new(transport.clone()),
        );
        let mut f = Fixture {
            arena,
            publisher,
            transport,
            sequences,
        };
        f.feed(T0);
        f
    }

    impl Fixture {
        /// Hands the runtime's admission events to the publisher, as the host does.
        fn feed(&mut self, now: i64) {
            for e in self.arena.drain_events().collect::<Vec<_>>() {
                match e {
                    RuntimeEvent::AdmissionDirty { match_id, reason } => {
                        self.publisher.mark_dirty(&match_id, &reason, now)
                    }
                    RuntimeEvent::AdmissionReservationConsumed {
                        match_id,
                        reservation_id,
                    } => self
                        .publisher
                        .reservation_consumed(&match_id, &reservation_id),
                    _ => {}
                }
            }
        }
        fn tick(&mut self, now: i64) -> Vec<Snapshot> {
            self.publisher.tick(&self.arena, now)
        }
    }

    #[test]
    fn debounce_then_coalesced_snapshot_with_exact_fields() {
        let mut f = fixture("ACTIVE_WINDOW");
        assert_eq!(f.publisher.next_deadline(), Some(T0 + 1000));
        assert!(f.tick(T0 + 999).is_empty());
        f.arena
            .arrive(
                Arrival {
                    match_id: "m1".into(),
                    player: p(1),
                    ..Default::default()
                },
                T0 + 500,
            )
            .unwrap();
        f.feed(T0 + 500);
        assert_eq!(
            f.publisher.next_deadline(),
            Some(T0 + 1500),
            "a new mark pushes the debounce"
        );
        let sent = f.tick(T0 + 1500);
        assert_eq!(sent.len(), 1);
        let body = &sent[0].body;
        assert_eq!(body["admissionStateSequence"], 1);
        assert_eq!(body["primaryChangeReason"], "PLAYER_ARRIVED");
        assert_eq!(
            body["coalescedChangeReasons"],
            serde_json::json!(["MATCH_CREATED", "PLAYER_ARRIVED"])
        );
        assert_eq!(body["matchLifecycleStatus"], "PLACEMENT");
        assert_eq!(
            (
                body["admissionOpen"].as_bool(),
                body["availableAdmissionSlots"].as_i64()
            ),
            (Some(true), Some(2))
        );
        assert_eq!(body["stateExpiresAtEpochMs"], T0 + 1500 + 30_000);
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "schemaVersion",
                "stateUpdateId",
                "admissionStateSequence",
                "payloadHash",
                "sentAtEpochMs",
                "stateExpiresAtEpochMs",
                "reportingServerId",
                "reportingServerConnectionAddress",
                "matchId",
                "externalMatchId",
                "queueId",
                "arenaId",
                "backfillEnabled",
                "backfillMode",
                "backfillWindowSeconds",
                "matchLifecycleStatus",
                "admissionOpen",
                "admissionOpenUntilEpochMs",
                "admissionCapacity",
                "admittedSlotCount",
                "availableAdmissionSlots",
                "initialRosterSize",
                "arrivedInitialPlayerCount",
                "unfilledInitialRosterCount",
                "consumedAdmissionReservationIds",
                "admissionReportingClosed",
                "admissionReportingCloseReason",
                "primaryChangeReason",
                "coalescedChangeReasons"
            ]
        );
        // The hash covers the documented fields without payloadHash and the connection address,
        // compact JSON (nothing to HTML-escape in these values).
        let mut hashed = body.as_object().unwrap().clone();
        hashed.shift_remove("payloadHash");
        hashed.shift_remove("reportingServerConnectionAddress");
        let expected = nexori_protocol::payload_hash::hex(&Sha256::digest(
            Value::Object(hashed).to_string().as_bytes(),
        ));
        assert_eq!(body["payloadHash"], expected);
    }

    #[test]
    fn retries_reuse_the_state_update_id_and_stale_waits_for_the_debounce() {
        let mut f = fixture("ACTIVE_WINDOW");
        let first = f.tick(T0 + 1000).remove(0);
        f.transport.answer_last(503, "");
        assert!(f.tick(T0 + 1100).is_empty(), "retry waits retryIntervalMs");
        assert_eq!(f.publisher.stats.retryable, 1);
        let again = f.tick(T0 + 1100 + 3000);
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].state_update_id, first.state_update_id, "D10");
        assert_eq!(again[0].body, first.body);
        // STALE: reasons dirty again, a new snapshot after the debounce (D7), new sequence.
        f.transport.answer_last(200, r#"{"status":"STALE"}"#);
        assert!(f.tick(T0 + 4200).is_empty());
        assert!(
            f.tick(T0 + 5199).is_empty(),
            "the answer was applied at 4200; debounce from there"
        );
        let next = f.tick(T0 + 5200);
        assert_eq!(next.len(), 1);
        assert_ne!(next[0].state_update_id, first.state_update_id);
        assert_eq!(next[0].sequence, 2);
        assert_eq!(*f.sequences.lock().unwrap(), 2);
    }

    #[test]
    fn reservations_clear_only_on_an_accepted_snapshot() {
        let mut f = fixture("ACTIVE_WINDOW");
        f.arena
            .arrive(
                Arrival {
                    match_id: "m1".into(),
                    player: p(9),
                    admission_reservation_id: "res-1".into(),
                    admission_expires_at_epoch_ms: T0 + 60_000,
                    ..Default::default()
                },
                T0 + 10,
            )
            .unwrap();
        f.feed(T0 + 10);
        let sent = f.tick(T0 + 1010);
        assert_eq!(
            sent[0].body["consumedAdmissionReservationIds"],
            serde_json::json!(["res-1"])
        );
        f.transport.answer_last(200, r#"{"status":"STALE"}"#);
        f.tick(T0 + 1020);
        assert_eq!(
            f.publisher.pending_reservations("m1"),
            vec!["res-1".to_string()]
        );
        let sent = f.tick(T0 + 2020);
        assert_eq!(
            sent[0].body["consumedAdmissionReservationIds"],
            serde_json::json!(["res-1"])
        );
        f.transport.answer_last(200, r#"{"status":"ACCEPTED"}"#);
        f.tick(T0 + 2030);
        assert!(f.publisher.pending_reservations("m1").is_empty());
    }

    #[test]
    fn a_window_expiry_closes_after_the_debounce_and_is_remembered() {
        let mut f = fixture("ACTIVE_WINDOW");
        f.arena
            .arrive(
                Arrival {
                    match_id: "m1".into(),
                    player: p(1),
                    ..Default::default()
                },
                T0,
            )
            .unwrap();
        f.arena
            .placed(
                nexori_runtime::arrivals::Placed {
                    match_id: "m1".into(),
                    player: p(1),
                    outcome: nexori_runtime::PlacementOutcome::Confirmed,
                    world_name: String::new(),
                    instance_template_id: String::new(),
                },
                T0,
            )
            .unwrap();
        f.feed(T0);
        f.tick(T0 + 1000);
        f.transport.answer_last(200, "");
        f.tick(T0 + 1001);
        // The window (10 s from the start at T0) is over at T0 + 10 001; D6: sent 1 s later, not 5 s.
        assert!(f.tick(T0 + 10_001).is_empty());
        assert_eq!(f.publisher.next_deadline(), Some(T0 + 11_001));
        assert!(f.tick(T0 + 11_000).is_empty());
        let closed = f.tick(T0 + 11_001);
        assert_eq!(closed[0].body["admissionReportingClosed"], true);
        assert_eq!(
            closed[0].body["admissionReportingCloseReason"],
            "BACKFILL_WINDOW_EXPIRED"
        );
        assert_eq!(
            closed[0].body["primaryChangeReason"],
            "ADMISSION_WINDOW_EXPIRED"
        );
        f.transport.answer_last(200, r#"{"status":"ACCEPTED"}"#);
        f.tick(T0 + 11_002);
        assert!(f.publisher.is_remembered_closed("m1"));
        f.publisher.mark_dirty("m1", "PLAYER_ARRIVED", T0 + 12_000);
        assert!(
            f.tick(T0 + 20_000).is_empty(),
            "a closed match never reports again"
        );
        assert_eq!(f.transport.sent().len(), 2);
    }

    /// A backend-driven match that nobody reaches: created, reported, cancelled at the end of
    /// its 5 s window, closure reported and acknowledged.
    fn no_show(
        arena: &mut Arena,
        publisher: &mut AdmissionPublisher,
        t: &Scripted,
        id: &str,
        at: i64,
    ) {
        arena
            .create_match(
                LaunchSpec {
                    match_id: id.into(),
                    queue_id: "q".into(),
                    arena_id: "a".into(),
                    external_match_id: format!("ext-{id}"),
                    match_source: Some(MatchSource::BackendDriven),
                    expected_players: vec![ExpectedPlayer {
                        uuid: p(1),
                        name: "A".into(),
                        assignment_id: String::new(),
                    }],
                    initial_placement_window_seconds: Some(5),
                    admission: Some(LaunchAdmission {
                        capacity: 3,
                        backfill_enabled: true,
                        backfill_mode: "PLACEMENT_ONLY".into(),
                        backfill_window_seconds: 10,
                    }),
                    ..Default::default()
                },
                at,
            )
            .unwrap();
        let feed = |arena: &mut Arena, publisher: &mut AdmissionPublisher, now: i64| {
            for e in arena.drain_events().collect::<Vec<_>>() {
                if let RuntimeEvent::AdmissionDirty { match_id, reason } = e {
                    publisher.mark_dirty(&match_id, &reason, now);
                }
            }
            let sent = publisher.tick(arena, now);
            for _ in &sent {
                t.answer_last(200, r#"{"status":"ACCEPTED"}"#);
            }
            sent.len()
        };
        feed(arena, publisher, at);
        assert_eq!(feed(arena, publisher, at + 1000), 1, "the open state");
        arena.advance(at + 5000);
        // The runtime ended (nobody came), so the closure goes out at once.
        assert_eq!(feed(arena, publisher, at + 5000), 1, "the closure");
        assert_eq!(feed(arena, publisher, at + 6000), 0);
        assert!(publisher.is_remembered_closed(id));
    }

    #[test]
    fn sequences_of_closed_matches_are_pruned_and_stay_monotonic_after_a_restart() {
        let dir = std::env::temp_dir().join(format!("nexori-seq-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("outbox.sqlite");
        let rows = || -> i64 {
            rusqlite::Connection::open(&path)
                .unwrap()
                .query_row("SELECT COUNT(*) FROM admission_sequences", [], |r| r.get(0))
                .unwrap()
        };
        let config = ReportingSettings {
            match_state_reporting_enabled: true,
            base_url: "http://backend".into(),
            server_token: "t".into(),
            ..ReportingSettings::default()
        };
        let start = |outbox: &Arc<Outbox>, t: &Scripted| {
            AdmissionPublisher::new(
                PublisherSettings::from_settings(&config),
                IdGenerator::Seeded(1),
                Box::new(DurableSequences::new(outbox.clone())),
                Box::new(t.clone()),
            )
        };
        let outbox = Arc::new(Outbox::open(&path).unwrap());
        let transport = Scripted::default();
        let mut publisher = start(&outbox, &transport);
        let mut arena = Arena::new(RuntimeSettings {
            admission_reporting_usable: true,
        });
        for n in 0..100 {
            no_show(
                &mut arena,
                &mut publisher,
                &transport,
                &format!("m{n}"),
                T0 + n * 10_000,
            );
        }
        assert_eq!(
            rows(),
            0,
            "no row for a match whose closure was acknowledged"
        );
        assert_eq!(publisher.tracked(), 0);
        let last_of_m0 = transport
            .sent()
            .iter()
            .filter(|s| s.match_id == "m0")
            .map(|s| s.sequence)
            .max()
            .unwrap();

        // A restarted host that sees m0 again continues above what m0 ever sent.
        drop(publisher);
        let restarted = Scripted::default();
        let mut publisher = start(&outbox, &restarted);
        let mut arena = Arena::new(RuntimeSettings {
            admission_reporting_usable: true,
        });
        no_show(
            &mut arena,
            &mut publisher,
            &restarted,
            "m0",
            T0 + 10_000_000,
        );
        let again: Vec<i64> = restarted.sent().iter().map(|s| s.sequence).collect();
        assert!(again[0] > last_of_m0, "{again:?} after {last_of_m0}");
        assert!(again[1] > again[0]);
        assert_eq!(rows(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn auth_failures_back_off_for_thirty_seconds() {
        let mut f = fixture("ACTIVE_WINDOW");
        f.tick(T0 + 1000);
        f.transport.answer_last(401, "");
        assert!(f.tick(T0 + 2000).is_empty());
        assert_eq!(f.publisher.health, Health::AuthFailed);
        // The answer was applied at T0 + 2000: nothing goes out for 30 s from there.
        assert_eq!(f.publisher.next_deadline(), Some(T0 + 32_000));
        assert!(f.tick(T0 + 31_999).is_empty());
        assert_eq!(f.tick(T0 + 32_000).len(), 1);
    }
}
