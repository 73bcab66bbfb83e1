//! Backend admission (docs/arena-behaviour.md#admission-state): the evaluator (with Decision D4:
//! the start gate starts the match), `closeMatchAdmission`, the backfill admission check of
//! docs/arena-behaviour.md#arrivals-and-backfill, and the explicit close when a runtime ends.

use serde::Serialize;
use uuid::Uuid;

use super::Arena;
use super::match_state::{ExplicitClose, Match};
use super::model::*;
use crate::ids::normalize_match_id;

pub const MATCH_NO_LONGER_ACCEPTING_PLAYERS: &str = "MATCH_NO_LONGER_ACCEPTING_PLAYERS";
pub const BACKFILL_WINDOW_EXPIRED: &str = "BACKFILL_WINDOW_EXPIRED";
pub const MATCH_RUNTIME_ENDED: &str = "MATCH_RUNTIME_ENDED";

/// The evaluated admission state of a match at one instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionState {
    pub backfill_enabled: bool,
    pub backfill_mode: BackfillMode,
    pub backfill_window_seconds: i32,
    pub match_lifecycle_status: &'static str,
    pub admission_open: bool,
    pub admission_open_until_epoch_ms: i64,
    pub admission_capacity: i32,
    pub admitted_slot_count: i32,
    pub available_admission_slots: i32,
    pub initial_roster_size: i32,
    pub arrived_initial_player_count: i32,
    pub unfilled_initial_roster_count: i32,
    pub initial_roster_exceeds_admission_capacity: bool,
    pub admission_reporting_closed: bool,
    pub admission_reporting_close_reason: String,
    /// The reason a closed state is reported with (`ADMISSION_CLOSED`, ...); empty when open.
    pub primary_reason: String,
}

/// `AdmissionStateEvaluator` (docs/arena-behaviour.md#evaluation).
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
    #[error("EXPIRED_RESERVATION")]
    ExpiredReservation,
    #[error("NOT_BACKEND_DRIVEN")]
    NotBackendDriven,
    #[error("EXPLICIT_ADMISSION_CLOSED")]
    ExplicitAdmissionClosed,
    #[error("ADMISSION_CLOSED")]
    AdmissionClosed,
    #[error("CAPACITY_FULL")]
    CapacityFull,
    #[error("DUPLICATE_RESERVATION")]
    DuplicateReservation,
}

impl Arena {
    /// The admission state of a live match now, as the publisher would evaluate it.
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

    /// `closeMatchAdmission` (docs/arena-behaviour.md#api-methods).
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
