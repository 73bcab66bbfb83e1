//! `setPlayerOutcome` (docs/arena-behaviour.md#outcomes). Decision D3: a `WIN` neither completes
//! the match nor returns anyone; only an accepted final result (or a Nexori decision) does.

use uuid::Uuid;

use super::Arena;
use super::model::*;
use crate::ids::{java_trim, utf16_len};

/// Longest reason of `setPlayerOutcome`, `setPlayerSpectator` and `returnPlayerToLobby`, in
/// UTF-16 code units after trimming: [`nexori_vocabulary::limits::PLAYER_REASON_MAX_CHARS`],
/// shared with the SDK.
pub const MAX_PLAYER_REASON: usize = nexori_vocabulary::limits::PLAYER_REASON_MAX_CHARS;

impl Arena {
    /// `setPlayerOutcome`: stores or replaces one player's outcome
    /// (docs/arena-behaviour.md#outcomes). `player` is `None` when the guest's text was not a
    /// UUID: such a player cannot be part of any match. `outcome` is `None` when the mod passed
    /// null (`INVALID_OUTCOME`).
    pub fn set_player_outcome(
        &mut self,
        match_id: &str,
        player: Option<Uuid>,
        outcome: Option<Outcome>,
        reason: &str,
    ) -> SetPlayerOutcomeResult {
        use SetPlayerOutcomeStatus as S;
        let (id, player) = match self.check_player_update(match_id, player, true) {
            Ok(ok) => ok,
            Err((check, message)) => return SetPlayerOutcomeResult::new(check.status(), message),
        };
        let Some(outcome) = outcome else {
            return SetPlayerOutcomeResult::new(S::InvalidOutcome, "Outcome cannot be null.");
        };
        let reason = java_trim(reason);
        if utf16_len(reason) > MAX_PLAYER_REASON {
            return SetPlayerOutcomeResult::new(
                S::InvalidReason,
                "Player result reason exceeds 256 characters.",
            );
        }
        let m = self.matches.get_mut(&id).expect("checked");
        m.outcomes.insert(
            player,
            OutcomeRecord {
                outcome,
                reason: reason.to_string(),
            },
        );
        match outcome {
            Outcome::Win => {
                m.eliminated.remove(&player);
                m.winner = Some(player);
            }
            Outcome::Loss | Outcome::Disconnected => {
                m.eliminated.insert(player);
                if m.winner == Some(player) {
                    m.winner = None;
                }
            }
            // NO_CONTEST leaves a previous elimination in place.
            Outcome::NoContest => {
                if m.winner == Some(player) {
                    m.winner = None;
                }
            }
        }
        SetPlayerOutcomeResult::new(S::Updated, "")
    }
}
