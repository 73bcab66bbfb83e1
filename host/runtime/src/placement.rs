//! The initial placement window and the start gate
//! (docs/arena-behaviour.md#placement-window-and-start-gate, Decision D4), and the shortfall
//! cancellation when the window expires without enough players (Decision D5).

use serde_json::json;
use uuid::Uuid;

use super::model::*;
use super::results::{AcceptedResult, ResultDraft};
use super::{Arena, RuntimeEvent};
use nexori_protocol::commands::GameServerCommand;

/// Window close and gate open reason when every expected player arrived and was placed.
pub const ALL_INITIAL_PLAYERS_PLACED: &str = "ALL_INITIAL_PLAYERS_PLACED";
/// Window close and gate open reason when the window expired with at least
/// `minimumInitialPlayers` placed: the match starts with a partial roster.
pub const WINDOW_EXPIRED_MIN_PLAYERS_MET: &str = "INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_MET";
/// Window close reason, result reason and admission close reason of a shortfall cancellation.
pub const WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET: &str = "INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET";
/// `NO_CONTEST` reason and return reason of an expected player not placed when a partial roster
/// started.
pub const PLACEMENT_WINDOW_MISSED: &str = "INITIAL_PLACEMENT_WINDOW_MISSED";
/// What an online expected player who missed the window is told (`player.message`).
pub const WINDOW_MISSED_MESSAGE: &str =
    "Match start window expired: you did not join in time. Returning to lobby...";
/// What online required players of a cancelled match are told; also their `NO_CONTEST` reason
/// and the explicit admission close's message.
pub const SHORTFALL_MESSAGE: &str =
    "Match cancelled: not enough players joined in time. Returning to lobby...";
/// Returns after a missed window or a cancellation happen this long after it.
pub const NO_CONTEST_RETURN_DELAY_MS: i64 = 10_000;

impl Arena {
    /// Decides the start gate of one match
    /// (docs/arena-behaviour.md#placement-window-and-start-gate): placement complete, window
    /// expired with the minimum met, or window expired short of it.
    pub(crate) fn reconcile(&mut self, match_id: &str, now: i64) {
        let Some(m) = self.matches.get(match_id) else {
            return;
        };
        if m.placement.gate_open() || m.is_completed() {
            return;
        }
        if m.expected_player_count <= 0 {
            // Decision D14: the reference skips a launch that expects nobody, and its window
            // would stay open forever. Here the window expires like any other: with nobody
            // placed the match is cancelled (no required player, so no result is made),
            // otherwise it starts with the backfill players who are there.
            if now >= m.placement.window_expires_at {
                if m.active.is_empty() {
                    self.cancel_for_shortfall(match_id, now);
                } else {
                    self.start_partial_roster(match_id, now);
                }
            }
            return;
        }
        if m.placement_complete() {
            let m = self.matches.get_mut(match_id).expect("present");
            m.placement.placement_completed_at = now;
            self.open_start_gate(match_id, ALL_INITIAL_PLAYERS_PLACED, now);
            self.emit_match_callback(
                match_id,
                Callback::MatchPlacementCompleted,
                "MATCH_PLACEMENT_COMPLETED",
                now,
            );
            self.mark_admission_dirty(match_id, "PLACEMENT_COMPLETED");
            self.emit_match_callback(
                match_id,
                Callback::MatchStartAllowed,
                ALL_INITIAL_PLAYERS_PLACED,
                now,
            );
            self.mark_admission_dirty(match_id, "MATCH_STARTED");
        } else if now >= m.placement.window_expires_at {
            if m.placed_initial_count() >= m.minimum_initial_players {
                self.start_partial_roster(match_id, now);
            } else {
                self.cancel_for_shortfall(match_id, now);
            }
        }
    }

    /// D4: opening the gate starts the match, whatever the reason.
    fn open_start_gate(&mut self, match_id: &str, reason: &str, now: i64) {
        let m = self.matches.get_mut(match_id).expect("present");
        if m.placement.window_closed_at == 0 {
            m.placement.window_closed_at = now;
            m.placement.window_close_reason = reason.to_string();
        }
        m.placement.gate_opened_at = now;
        m.placement.gate_open_reason = reason.to_string();
        m.match_started_at = now;
    }

    /// The window expired with enough players placed: start with who is there; expected players
    /// who are not placed get `NO_CONTEST` and, if present, a return.
    fn start_partial_roster(&mut self, match_id: &str, now: i64) {
        self.open_start_gate(match_id, WINDOW_EXPIRED_MIN_PLAYERS_MET, now);
        let m = self.matches.get(match_id).expect("present");
        let missed: Vec<Uuid> = m
            .expected
            .iter()
            .copied()
            .filter(|p| !m.active.contains(p) && !m.outcomes.contains_key(p))
            .collect();
        for player in missed {
            let present = self.is_online(player);
            let m = self.matches.get_mut(match_id).expect("present");
            m.outcomes.insert(
                player,
                OutcomeRecord {
                    outcome: Outcome::NoContest,
                    reason: PLACEMENT_WINDOW_MISSED.to_string(),
                },
            );
            m.missed_placement.insert(player);
            if present {
                m.pending_returns.insert(
                    player,
                    super::match_state::PendingReturn {
                        at: now + NO_CONTEST_RETURN_DELAY_MS,
                        reason: PLACEMENT_WINDOW_MISSED.to_string(),
                    },
                );
                self.emit_command(GameServerCommand::Message {
                    match_id: match_id.to_string(),
                    player,
                    text: WINDOW_MISSED_MESSAGE.to_string(),
                });
            }
        }
        self.emit_match_callback(
            match_id,
            Callback::MatchStartAllowed,
            WINDOW_EXPIRED_MIN_PLAYERS_MET,
            now,
        );
        self.mark_admission_dirty(match_id, "MATCH_STARTED");
    }

    /// docs/arena-behaviour.md#shortfall-cancellation: not enough players placed when the window
    /// expired. Every required player gets `NO_CONTEST`, admission closes, and Nexori records (and,
    /// D5, reports) the result.
    fn cancel_for_shortfall(&mut self, match_id: &str, now: i64) {
        let m = self.matches.get_mut(match_id).expect("present");
        m.placement.window_closed_at = now;
        m.placement.window_close_reason = WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET.to_string();
        if m.result_submitted_at > 0 {
            return;
        }
        self.emit_match_callback(
            match_id,
            Callback::MatchCancellationRequested,
            WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET,
            now,
        );
        let m = self.matches.get(match_id).expect("present");
        let placed = m.placed_initial_count();
        let minimum = m.minimum_initial_players;
        let required = m.required_players();
        let draft = ResultDraft {
            reason: WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET.to_string(),
            metadata: vec![
                ("cancelled_by".into(), "nexori".into()),
                (
                    "cancel_reason".into(),
                    WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET.into(),
                ),
                ("placed_initial_players".into(), placed.to_string()),
                ("minimum_initial_players".into(), minimum.to_string()),
            ],
            custom_data: json!({
                "cancelledBy": "nexori",
                "cancelReason": WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET,
                "placedInitialPlayers": placed,
                "minimumInitialPlayers": minimum,
            }),
        };
        let online: Vec<bool> = required.iter().map(|p| self.is_online(*p)).collect();
        let m = self.matches.get_mut(match_id).expect("present");
        m.explicit_close = Some(super::match_state::ExplicitClose {
            reason_id: WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET.to_string(),
            message: SHORTFALL_MESSAGE.to_string(),
        });
        let mut messages = Vec::new();
        for (&player, present) in required.iter().zip(online) {
            m.outcomes.insert(
                player,
                OutcomeRecord {
                    outcome: Outcome::NoContest,
                    reason: SHORTFALL_MESSAGE.to_string(),
                },
            );
            // Absent players have nowhere to be returned from; scheduling them would keep the
            // runtime open forever.
            if present {
                m.pending_returns.insert(
                    player,
                    super::match_state::PendingReturn {
                        at: now + NO_CONTEST_RETURN_DELAY_MS,
                        reason: WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET.to_string(),
                    },
                );
                messages.push(player);
            }
        }
        for player in messages {
            self.emit_command(GameServerCommand::Message {
                match_id: match_id.to_string(),
                player,
                text: SHORTFALL_MESSAGE.to_string(),
            });
        }
        self.mark_admission_dirty(match_id, WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET);
        match self.record_nexori_result(match_id, draft, now) {
            Ok(accepted) => self.emit(RuntimeEvent::NexoriResult(Box::new(accepted))),
            Err(message) => {
                let m = self.matches.get_mut(match_id).expect("present");
                m.completed_at = now;
                m.last_error =
                    format!("Initial placement shortfall result validation failed: {message}");
            }
        }
        self.emit_match_callback(match_id, Callback::MatchCompleted, "MATCH_COMPLETED", now);
    }

    /// Validates and records a result Nexori made itself; the caller reports it.
    pub(crate) fn record_nexori_result(
        &mut self,
        match_id: &str,
        draft: ResultDraft,
        now: i64,
    ) -> Result<AcceptedResult, String> {
        let m = self
            .matches
            .get(match_id)
            .ok_or_else(|| super::messages::MATCH_NOT_ACTIVE.to_string())?;
        let custom_data =
            super::custom_data::from_value(draft.custom_data.clone()).map_err(|e| e.to_string())?;
        let accepted = super::results::validate(m, &draft.reason, &draft.metadata, custom_data)?;
        let m = self.matches.get_mut(match_id).expect("present");
        m.completed_at = now;
        m.result_submitted_at = now;
        m.result_hash = accepted.payload_hash.clone();
        Ok(accepted.accepted_at(now))
    }
}
