//! Backend admission (docs/arena-behaviour.md#admission-state): the evaluator (with Decision D4:
//! the start gate starts the match), `closeMatchAdmission`, the backfill admission check of
//! docs/arena-behaviour.md#arrivals-and-backfill, and the explicit close when a runtime ends.

use serde::Serialize;
use uuid::Uuid;

use super::Arena;
use super::match_state::{ExplicitClose, Match};
use super::model::*;
use crate::ids::normalize_match_id;

/// Close reason of a started match whose mode no longer admits (`NONE`, `PLACEMENT_ONLY`), or of
/// an `ACTIVE_WINDOW` match with no free slot inside its window.
pub const MATCH_NO_LONGER_ACCEPTING_PLAYERS: &str = "MATCH_NO_LONGER_ACCEPTING_PLAYERS";
/// Close reason of an `ACTIVE_WINDOW` match past `matchStartedAt + backfillWindowSeconds × 1000`;
/// published with primary reason `ADMISSION_WINDOW_EXPIRED`.
pub const BACKFILL_WINDOW_EXPIRED: &str = "BACKFILL_WINDOW_EXPIRED";
/// The explicit close (and change reason) of a backend-driven, backfill-enabled match whose
/// runtime closed before admission was closed.
pub const MATCH_RUNTIME_ENDED: &str = "MATCH_RUNTIME_ENDED";

/// The evaluated admission state of a match at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionState {
    /// The launch's `backfillEnabled`.
    pub backfill_enabled: bool,
    /// The effective mode: `NONE` unless backfill is enabled and the launch's mode is known.
    pub backfill_mode: BackfillMode,
    /// The launch's `backfillWindowSeconds`, ≥ 0.
    pub backfill_window_seconds: i32,
    /// `ACTIVE` once the start gate opened (D4), else `PLACEMENT`.
    pub match_lifecycle_status: &'static str,
    /// Whether the match admits backfill players now.
    pub admission_open: bool,
    /// For a started `ACTIVE_WINDOW` match, the last instant (inclusive, epoch ms) it admits;
    /// 0 otherwise and after an explicit close.
    pub admission_open_until_epoch_ms: i64,
    /// The launch's capacity, ≥ 0.
    pub admission_capacity: i32,
    /// min(capacity, initial roster + consumed backfill admissions).
    pub admitted_slot_count: i32,
    /// Free slots (capacity − admitted, ≥ 0) while admission is open; 0 otherwise.
    pub available_admission_slots: i32,
    /// max(`expectedPlayerCount`, number of expected UUIDs).
    pub initial_roster_size: i32,
    /// Expected players who arrived.
    pub arrived_initial_player_count: i32,
    /// Initial roster − arrived initial players, ≥ 0.
    pub unfilled_initial_roster_count: i32,
    /// Whether the initial roster alone is larger than the capacity. Not in the snapshot body;
    /// shown in the simulation trace's final `admission` state.
    pub initial_roster_exceeds_admission_capacity: bool,
    /// Whether admission is closed (explicitly or by the mode); the snapshot's
    /// `admissionReportingClosed`.
    pub admission_reporting_closed: bool,
    /// Why it is closed: the explicit close's reason id, [`MATCH_NO_LONGER_ACCEPTING_PLAYERS`]
    /// or [`BACKFILL_WINDOW_EXPIRED`]; `""` when not closed (a `NONE` match in placement is
    /// neither open nor closed).
    pub admission_reporting_close_reason: String,
    /// The reason a closed state is reported with: the explicit reason id for an explicit close,
    /// else `ADMISSION_WINDOW_EXPIRED` or `ADMISSION_CLOSED`; `""` when not closed.
    pub primary_reason: String,
}

/// `AdmissionStateEvaluator` (docs/arena-behaviour.md#evaluation): the admission state of `m` at
/// `now` (epoch ms). Pure; the publisher calls it for each snapshot.
pub fn evaluate(m: &Match, now: i64) -> AdmissionState {
    let capacity = m.admission.capacity.max(0);
    let initial_roster = m.expected_player_count.max(m.expected.len() as i32);
    let arrived_initial = m.arrived_initial_count();
    let admitted = capacity.min(initial_roster.saturating_add(m.consumed_backfill_admission_count));
    let started = m.placement.gate_open();
    let mode = m.admission.effective_mode();
    let mut state = AdmissionState {
        backfill_enabled: m.admission.backfill_enabled,
        backfill_mode: mode,
        backfill_window_seconds: m.admission.backfill_window_seconds.max(0),
        match_lifecycle_status: if started { "ACTIVE" } else { "PLACEMENT" },
        admission_open: false,
        admission_open_until_epoch_ms: 0,
        admission_capacity: capacity,
        admitted_slot_count: admitted,
        available_admission_slots: 0,
        initial_roster_size: initial_roster,
        arrived_initial_player_count: arrived_initial,
        unfilled_initial_roster_count: (initial_roster - arrived_initial).max(0),
        initial_roster_exceeds_admission_capacity: initial_roster > capacity,
        admission_reporting_closed: false,
        admission_reporting_close_reason: String::new(),
        primary_reason: String::new(),
    };
    let free = (capacity - admitted).max(0);
    let close = |state: &mut AdmissionState, reason: &str| {
        state.admission_open = false;
        state.available_admission_slots = 0;
        state.admission_reporting_closed = true;
        state.admission_reporting_close_reason = reason.to_string();
    };
    if let Some(explicit) = &m.explicit_close {
        state.admission_open_until_epoch_ms = 0;
        close(&mut state, &explicit.reason_id);
        state.primary_reason = explicit.reason_id.clone();
        return state;
    }
    match mode {
        BackfillMode::None => {
            if started {
                close(&mut state, MATCH_NO_LONGER_ACCEPTING_PLAYERS);
            }
        }
        BackfillMode::PlacementOnly => {
            if started {
                close(&mut state, MATCH_NO_LONGER_ACCEPTING_PLAYERS);
            } else {
                state.admission_open = true;
                state.available_admission_slots = free;
            }
        }
        BackfillMode::ActiveWindow => {
            if !started {
                state.admission_open = true;
                state.available_admission_slots = free;
            } else if m.match_started_at > 0 {
                let until = m.match_started_at
                    + i64::from(m.admission.backfill_window_seconds.max(0)) * 1000;
                state.admission_open_until_epoch_ms = until;
                if until > 0 && now <= until {
                    if free == 0 {
                        close(&mut state, MATCH_NO_LONGER_ACCEPTING_PLAYERS);
                    } else {
                        state.admission_open = true;
                        state.available_admission_slots = free;
                    }
                } else {
                    close(&mut state, BACKFILL_WINDOW_EXPIRED);
                }
            }
        }
    }
    if state.admission_reporting_closed {
        state.primary_reason = if state.admission_reporting_close_reason == BACKFILL_WINDOW_EXPIRED
        {
            "ADMISSION_WINDOW_EXPIRED".to_string()
        } else {
            "ADMISSION_CLOSED".to_string()
        };
    }
    state
}

/// Why a backfill arrival was refused (`BackfillAdmissionDecider`), in the order checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BackfillRejection {
    /// `admissionExpiresAtEpochMs` is ≤ 0 (absent) or already past.
    #[error("EXPIRED_RESERVATION")]
    ExpiredReservation,
    /// The match's source is `LOCAL_FIFO`.
    #[error("NOT_BACKEND_DRIVEN")]
    NotBackendDriven,
    /// Admission was closed explicitly (`closeMatchAdmission`, shortfall, fault policy, runtime
    /// end).
    #[error("EXPLICIT_ADMISSION_CLOSED")]
    ExplicitAdmissionClosed,
    /// The effective mode does not admit now: `NONE` never; `PLACEMENT_ONLY` only before the
    /// start; `ACTIVE_WINDOW` before the start and until the end of its backfill window.
    #[error("ADMISSION_CLOSED")]
    AdmissionClosed,
    /// The admitted slots already reach the capacity.
    #[error("CAPACITY_FULL")]
    CapacityFull,
    /// The match already consumed this reservation id (compared exactly, case-sensitive).
    #[error("DUPLICATE_RESERVATION")]
    DuplicateReservation,
}

impl Arena {
    /// The admission state of a live or recently closed match at `now`, as the publisher would
    /// evaluate it. Looks the match up with [`Arena::get_any`], so the ownership scope does not
    /// apply.
    pub fn admission_state(&self, match_id: &str, now: i64) -> Option<AdmissionState> {
        self.get_any(match_id).map(|m| evaluate(m, now))
    }

    /// `BackfillAdmissionDecider` (docs/arena-behaviour.md#arrivals-and-backfill). The mode gate is
    /// the evaluator's, without the capacity rule, which has its own answer.
    pub(crate) fn check_backfill(
        &self,
        match_id: &str,
        _player: Uuid,
        reservation: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<(), BackfillRejection> {
        let m = &self.matches[match_id];
        if expires_at <= 0 || now > expires_at {
            return Err(BackfillRejection::ExpiredReservation);
        }
        if m.match_source != MatchSource::BackendDriven {
            return Err(BackfillRejection::NotBackendDriven);
        }
        if m.explicit_close.is_some() {
            return Err(BackfillRejection::ExplicitAdmissionClosed);
        }
        let started = m.placement.gate_open();
        let mode_open = match m.admission.effective_mode() {
            BackfillMode::None => false,
            BackfillMode::PlacementOnly => !started,
            BackfillMode::ActiveWindow => {
                !started || {
                    let until = m.match_started_at
                        + i64::from(m.admission.backfill_window_seconds.max(0)) * 1000;
                    m.match_started_at > 0 && now <= until
                }
            }
        };
        if !mode_open {
            return Err(BackfillRejection::AdmissionClosed);
        }
        if evaluate(m, now).admitted_slot_count >= m.admission.capacity {
            return Err(BackfillRejection::CapacityFull);
        }
        if m.reservation_ids.contains(reservation) {
            return Err(BackfillRejection::DuplicateReservation);
        }
        Ok(())
    }

    /// `closeMatchAdmission` (docs/arena-behaviour.md#api-methods): closes admission of a
    /// backend-driven match explicitly, with `reason`'s `EXPLICIT_*` id and the trimmed
    /// `message`, and marks admission dirty. `reason` is `None` when the mod passed null
    /// (`INVALID_REASON`). The answer's `closedLocally` is true for `CLOSED`, `ALREADY_CLOSED`
    /// and `REPORTING_DISABLED`.
    pub fn close_match_admission(
        &mut self,
        match_id: &str,
        reason: Option<CloseAdmissionReason>,
        message: Option<&str>,
    ) -> CloseAdmissionResult {
        use CloseAdmissionStatus as S;
        let normalized = normalize_match_id(match_id).unwrap_or_default();
        let answer = |status, closed_locally, message: &str| CloseAdmissionResult {
            status,
            match_id: normalized.clone(),
            closed_locally,
            message: message.to_string(),
        };
        let id = match self.live_match_id(match_id) {
            Ok(id) => id,
            Err(message) => return answer(S::MatchMissing, false, message),
        };
        let Some(reason) = reason else {
            return answer(S::InvalidReason, false, "Close reason cannot be null.");
        };
        let m = self.matches.get_mut(&id).expect("checked");
        if m.match_source != MatchSource::BackendDriven {
            return answer(
                S::MatchNotBackendDriven,
                false,
                "Match is not backend-driven.",
            );
        }
        if m.explicit_close.is_some() {
            return answer(
                S::AlreadyClosed,
                true,
                "Admission was already closed locally.",
            );
        }
        let reason_id = reason.close_reason_id();
        m.explicit_close = Some(ExplicitClose {
            reason_id: reason_id.to_string(),
            message: message
                .map(crate::ids::java_trim)
                .unwrap_or_default()
                .to_string(),
        });
        self.mark_admission_dirty(&id, reason_id);
        if self.settings.admission_reporting_usable {
            answer(S::Closed, true, "Admission was closed locally.")
        } else {
            answer(
                S::ReportingDisabled,
                true,
                "Admission was closed locally, but backend may not have been notified.",
            )
        }
    }

    /// docs/arena-behaviour.md#change-reasons: an empty runtime of a backend-driven,
    /// backfill-enabled match that was not closed yet closes admission with `MATCH_RUNTIME_ENDED`,
    /// so the backend stops offering it.
    pub(crate) fn close_admission_on_runtime_end(&mut self, match_id: &str) {
        let Some(m) = self.matches.get_mut(match_id) else {
            return;
        };
        if m.match_source != MatchSource::BackendDriven
            || !m.admission.backfill_enabled
            || m.explicit_close.is_some()
        {
            return;
        }
        m.explicit_close = Some(ExplicitClose {
            reason_id: MATCH_RUNTIME_ENDED.to_string(),
            message: "Match runtime ended locally before admission was closed.".to_string(),
        });
        self.mark_admission_dirty(match_id, MATCH_RUNTIME_ENDED);
    }
}
