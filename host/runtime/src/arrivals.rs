//! Players arriving, being placed and leaving (docs/arena-behaviour.md#arrivals-and-backfill,
//! docs/arena-behaviour.md#disconnects).

use uuid::Uuid;

use super::admission::BackfillRejection;
use super::model::*;
use super::{Arena, CallbackPayload, RuntimeEvent};
use crate::ids::{normalize_match_id, normalize_text};

/// A player reaching the arena for a match (`player.arrive`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Arrival {
    /// `matchId`, raw; looked up trimmed and lowercased.
    pub match_id: String,
    /// The arriving player.
    pub player: Uuid,
    /// The player's name, raw; a non-blank one replaces the last name seen.
    pub name: String,
    /// The player's assignment id, raw; kept (trimmed) when not blank.
    pub assignment_id: String,
    /// Present (non-blank) for a backfill arrival.
    pub admission_reservation_id: String,
    /// When the backfill reservation expires (epoch ms); 0 when absent, which a backfill
    /// arrival answers with `EXPIRED_RESERVATION`. Unused for an initial arrival.
    pub admission_expires_at_epoch_ms: i64,
}

/// A player's initial placement reaching a terminal outcome (`player.placed`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// `matchId`, raw; looked up trimmed and lowercased.
    pub match_id: String,
    /// The placed player; must have arrived.
    pub player: Uuid,
    /// `CONFIRMED` (queues `onPlayerPlacementConfirmed`) or `FALLBACK` (no callback).
    pub outcome: PlacementOutcome,
    /// The world the player was placed in, raw; passed on trimmed in the callback.
    pub world_name: String,
    /// The instance template used, raw; passed on trimmed in the callback.
    pub instance_template_id: String,
}

/// Why a game-server message about a player was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlayerEventError {
    /// No live match has this id (blank, never created, or closed); carries the id as sent.
    #[error("unknown match {0:?}")]
    UnknownMatch(String),
    /// An initial arrival (no reservation id) of a player the launch did not expect.
    #[error(
        "player {player} is not expected in match {match_id:?} (an initial arrival must be in the launch's expected players; a backfill arrival needs admissionReservationId)"
    )]
    NotExpected {
        /// The match, as stored.
        match_id: String,
        /// The player who arrived.
        player: Uuid,
    },
    /// A backfill arrival failed one of the admission checks.
    #[error("backfill arrival of player {player} rejected: {reason}")]
    BackfillRejected {
        /// The player who arrived.
        player: Uuid,
        /// The first check that failed.
        reason: BackfillRejection,
    },
    /// `player.placed` for a player who has not arrived in the match.
    #[error("player {player} has not arrived in match {match_id:?}")]
    NotArrived {
        /// The match, as stored.
        match_id: String,
        /// The player reported placed.
        player: Uuid,
    },
    /// `player.disconnect` for a player in no live match (or unknown to the arena).
    #[error("player {0} is not in any match")]
    NotInMatch(Uuid),
}

impl Arena {
    /// A player arrived. Initial players must be expected; a reservation id makes it a backfill
    /// arrival checked as docs/arena-behaviour.md#arrivals-and-backfill describes.
    ///
    /// # Errors
    ///
    /// [`PlayerEventError::UnknownMatch`] when no live match has the id,
    /// [`PlayerEventError::NotExpected`] for an initial arrival of a player the launch did not
    /// expect, [`PlayerEventError::BackfillRejected`] when a backfill check fails. Nothing
    /// changes then.
    pub fn arrive(&mut self, arrival: Arrival, now: i64) -> Result<(), PlayerEventError> {
        let id = normalize_match_id(&arrival.match_id)
            .filter(|id| self.matches.contains_key(id))
            .ok_or_else(|| PlayerEventError::UnknownMatch(arrival.match_id.clone()))?;
        let player = arrival.player;
        let reservation = normalize_text(&arrival.admission_reservation_id);
        let backfill = !reservation.is_empty();

        if backfill {
            self.check_backfill(
                &id,
                player,
                &reservation,
                arrival.admission_expires_at_epoch_ms,
                now,
            )
            .map_err(|reason| PlayerEventError::BackfillRejected { player, reason })?;
        } else if !self.matches[&id].expected.contains(&player) {
            return Err(PlayerEventError::NotExpected {
                match_id: id,
                player,
            });
        }

        // A player belongs to one match at a time: arriving here drops them from another.
        if let Some(previous) = self.players.get(&player).and_then(|p| p.match_id.clone())
            && previous != id
        {
            self.drop_player_from_match(&previous, player, now);
        }
        let name = normalize_text(&arrival.name);
        let presence = self.players.entry(player).or_default();
        presence.match_id = Some(id.clone());
        presence.online = true;
        if !name.is_empty() {
            presence.name = name.clone();
        }

        let m = self.matches.get_mut(&id).expect("checked above");
        m.runtime_was_occupied = true;
        if !name.is_empty() {
            m.names.insert(player, name);
        }
        let assignment = normalize_text(&arrival.assignment_id);
        if !assignment.is_empty() {
            m.assignment_ids.insert(player, assignment);
        }
        if backfill {
            m.reservation_ids.insert(reservation.clone());
            m.consumed_backfill_admission_count += 1;
        }
        let newly_arrived = m.arrived.insert(player);
        self.start_afk_tracking(&id, player, now);

        if newly_arrived {
            let reason = if backfill {
                "BACKFILL_PLAYER_ARRIVED"
            } else {
                "PLAYER_ARRIVED"
            };
            let m = &self.matches[&id];
            let event = self.player_event(m, player, reason, now);
            let rules_engine_id = m.rules_engine_id.clone();
            self.emit(RuntimeEvent::Callback {
                rules_engine_id,
                callback: Callback::PlayerArrived,
                payload: CallbackPayload::Player(event),
            });
            self.mark_admission_dirty(&id, reason);
        }
        if backfill {
            self.emit(RuntimeEvent::AdmissionReservationConsumed {
                match_id: id.clone(),
                reservation_id: reservation,
            });
        }
        self.reconcile(&id, now);
        Ok(())
    }

    /// A player's placement reached a terminal outcome: the player becomes active. Only
    /// `CONFIRMED` placements are dispatched to the mod, as in the reference. A repeated
    /// placement, or one after the player missed the window, is ignored.
    ///
    /// # Errors
    ///
    /// [`PlayerEventError::UnknownMatch`] when no live match has the id,
    /// [`PlayerEventError::NotArrived`] when the player has not arrived in it.
    pub fn placed(&mut self, placed: Placed, now: i64) -> Result<(), PlayerEventError> {
        let id = normalize_match_id(&placed.match_id)
            .filter(|id| self.matches.contains_key(id))
            .ok_or_else(|| PlayerEventError::UnknownMatch(placed.match_id.clone()))?;
        let player = placed.player;
        let m = self.matches.get_mut(&id).expect("checked above");
        if !m.arrived.contains(&player) {
            return Err(PlayerEventError::NotArrived {
                match_id: id,
                player,
            });
        }
        // A placement after the window was missed is ignored (see
        // docs/arena-behaviour.md#placement-window-and-start-gate), as is a repeat.
        if m.missed_placement.contains(&player) || m.active.contains(&player) {
            return Ok(());
        }
        m.active.insert(player);
        if placed.outcome == PlacementOutcome::Confirmed {
            let m = &self.matches[&id];
            let player_event = self.player_event(m, player, "PLACEMENT_CONFIRMED", now);
            let event = PlayerPlacementLifecycleEvent {
                player: player_event,
                placement_outcome: placed.outcome,
                placement_state: m.placement_state(),
                world_name: normalize_text(&placed.world_name),
                instance_template_id: normalize_text(&placed.instance_template_id),
                event_at_epoch_ms: now,
            };
            let rules_engine_id = m.rules_engine_id.clone();
            self.emit(RuntimeEvent::Callback {
                rules_engine_id,
                callback: Callback::PlayerPlacementConfirmed,
                payload: CallbackPayload::Placement(event),
            });
        }
        self.reconcile(&id, now);
        Ok(())
    }

    /// The player left the server (docs/arena-behaviour.md#disconnects). They stay expected and
    /// arrived, so they remain required for the result; the owning mod decides whether that is
    /// `DISCONNECTED`. `reason` is kept trimmed in `lastError` and passed to the mod.
    ///
    /// # Errors
    ///
    /// [`PlayerEventError::NotInMatch`] when the player is in no live match; a player the arena
    /// knew is still marked offline and forgotten.
    pub fn disconnect(
        &mut self,
        player: Uuid,
        reason: &str,
        now: i64,
    ) -> Result<(), PlayerEventError> {
        let presence = self
            .players
            .get_mut(&player)
            .ok_or(PlayerEventError::NotInMatch(player))?;
        presence.online = false;
        let id = presence
            .match_id
            .take()
            .filter(|id| self.matches.contains_key(id));
        // Offline and in no live match: nothing to keep for this player.
        self.forget_player_if_gone(player);
        let id = id.ok_or(PlayerEventError::NotInMatch(player))?;
        let reason = normalize_text(reason);
        let m = self.matches.get_mut(&id).expect("checked above");
        // Setup disconnect: an initial player who was never placed lowers the expected count,
        // but not below the initial players who arrived (docs/arena-behaviour.md#disconnects).
        if !m.placement.gate_open() && m.expected.contains(&player) && !m.active.contains(&player) {
            let floor = m.arrived_initial_count();
            m.expected_player_count = (m.expected_player_count - 1).max(floor);
            m.minimum_initial_players = super::launch::normalize_minimum_initial_players(
                m.minimum_initial_players as i64,
                m.expected_player_count,
                m.expected.len(),
            );
        }
        m.last_error = format!("Player disconnected: {reason}");
        let rules_engine_id = m.rules_engine_id.clone();
        self.drop_player_from_match(&id, player, now);
        self.emit(RuntimeEvent::PlayerDisconnected {
            match_id: id.clone(),
            rules_engine_id,
            player,
            reason,
            at_epoch_ms: now,
        });
        self.reconcile(&id, now);
        self.close_runtime_if_empty(&id, now);
        Ok(())
    }

    /// Removes a player from a match's live sets, keeping them required (arrived/expected,
    /// outcomes and assignment ids stay).
    fn drop_player_from_match(&mut self, match_id: &str, player: Uuid, now: i64) {
        self.stop_afk_tracking(match_id, player, now);
        let Some(m) = self.matches.get_mut(match_id) else {
            return;
        };
        m.active.remove(&player);
        m.eliminated.remove(&player);
        m.spectators.remove(&player);
        m.pending_returns.remove(&player);
        if m.winner == Some(player) {
            m.winner = None;
        }
    }
}
