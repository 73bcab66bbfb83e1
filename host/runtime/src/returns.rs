//! Returns to lobby (`returnPlayerToLobby`, docs/arena-behaviour.md#returns-to-lobby) and the
//! operator's manual end (docs/arena-behaviour.md#manual-end).

use uuid::Uuid;

use super::match_state::PendingReturn;
use super::model::*;
use super::{Arena, Callback, PlayerCheck};
use crate::ids::{java_trim, normalize_match_id, utf16_len};
use nexori_protocol::commands::GameServerCommand;

/// Why a manual end was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndMatchError {
    /// No live match has this id; carries the id as sent.
    #[error("unknown match {0:?}")]
    UnknownMatch(String),
}

impl Arena {
    /// `returnPlayerToLobby`: schedules one player's return at `now` + `delay_seconds` × 1000,
    /// replacing a pending one. No completion check and no upper bound on the delay, as in the
    /// reference. `player` is `None` when the guest's text was not a UUID (`PLAYER_MISSING`).
    pub fn return_player_to_lobby(
        &mut self,
        match_id: &str,
        player: Option<Uuid>,
        delay_seconds: i32,
        reason: &str,
        now: i64,
    ) -> ReturnPlayerResult {
        use ReturnPlayerStatus as S;
        let (id, player) = match self.check_player_update(match_id, player, false) {
            Ok(ok) => ok,
            Err((PlayerCheck::PlayerMissing, message)) => {
                return ReturnPlayerResult::new(S::PlayerMissing, message);
            }
            Err((_, message)) => return ReturnPlayerResult::new(S::MatchMissing, message),
        };
        if delay_seconds < 0 {
            return ReturnPlayerResult::new(S::InvalidDelay, "return delay cannot be negative.");
        }
        let reason = java_trim(reason);
        if utf16_len(reason) > super::outcomes::MAX_PLAYER_REASON {
            return ReturnPlayerResult::new(
                S::InvalidReason,
                "Return reason exceeds 256 characters.",
            );
        }
        let m = self.matches.get_mut(&id).expect("checked");
        m.pending_returns.insert(
            player,
            PendingReturn {
                at: now + i64::from(delay_seconds) * 1000,
                reason: reason.to_string(),
            },
        );
        ReturnPlayerResult::new(S::Scheduled, "")
    }

    /// Sends every return of the match that is due. A player who is offline by then has already
    /// left: the return is dropped rather than retried forever.
    pub(crate) fn run_due_returns(&mut self, match_id: &str, now: i64) {
        let Some(m) = self.matches.get(match_id) else {
            return;
        };
        let mut due: Vec<(Uuid, PendingReturn)> = m
            .pending_returns
            .iter()
            .filter(|(_, r)| r.at <= now)
            .map(|(p, r)| (*p, r.clone()))
            .collect();
        due.sort_by_key(|(p, r)| (r.at, *p));
        for (player, pending) in due {
            let online = self.is_online(player);
            let m = self.matches.get_mut(match_id).expect("present");
            m.pending_returns.remove(&player);
            m.active.remove(&player);
            m.spectators.remove(&player);
            let reason = if !pending.reason.is_empty() {
                pending.reason
            } else if m.winner == Some(player) {
                "MATCH_WON".to_string()
            } else {
                "ELIMINATED".to_string()
            };
            self.stop_afk_tracking(match_id, player, now);
            if let Some(p) = self.players.get_mut(&player)
                && p.match_id.as_deref() == Some(match_id)
            {
                p.match_id = None;
            }
            self.forget_player_if_gone(player);
            if online {
                self.emit_command(GameServerCommand::Return {
                    match_id: match_id.to_string(),
                    player,
                    reason,
                });
            }
        }
    }

    /// `match.end`: every active player returns now (reason as given, `MATCH_ENDED` when blank),
    /// and the match completes without a result (docs/arena-behaviour.md#manual-end).
    ///
    /// # Errors
    ///
    /// [`EndMatchError::UnknownMatch`] when no live match has the id.
    pub fn end_match(
        &mut self,
        match_id: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), EndMatchError> {
        let id = normalize_match_id(match_id)
            .filter(|id| self.matches.contains_key(id))
            .ok_or_else(|| EndMatchError::UnknownMatch(match_id.to_string()))?;
        let reason = match java_trim(reason) {
            "" => "MATCH_ENDED",
            r => r,
        };
        let m = self.matches.get_mut(&id).expect("checked");
        for player in m.active.clone() {
            m.pending_returns.insert(
                player,
                PendingReturn {
                    at: now,
                    reason: reason.to_string(),
                },
            );
        }
        m.last_error = format!("Manual match end requested: {reason}");
        let newly_completed = !m.is_completed();
        if newly_completed {
            m.completed_at = now;
            self.emit_match_callback(&id, Callback::MatchCompleted, "MATCH_COMPLETED", now);
            self.mark_admission_dirty(&id, "MATCH_COMPLETED");
        }
        self.run_due_returns(&id, now);
        self.close_runtime_if_empty(&id, now);
        Ok(())
    }
}
