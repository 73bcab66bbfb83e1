//! `setPlayerSpectator` (docs/arena-behaviour.md#spectators): logical spectator state. Spectators
//! keep their outcomes and stay in the runtime (a spectator keeps it from closing).

use uuid::Uuid;

use super::Arena;
use super::model::*;
use crate::ids::{java_trim, utf16_len};
use nexori_protocol::commands::GameServerCommand;

impl Arena {
    /// `setPlayerSpectator`: adds the player to the spectators or removes them, and tells the
    /// game server (`player.spectator`) when that changed something or a model id is given for
    /// an online player who is a spectator. A non-blank `reason` (trimmed, at most 256 UTF-16
    /// code units) becomes `lastError`. `player` is `None` when the guest's text was not a UUID;
    /// `spectator_model_id` is passed on trimmed, blank meaning none.
    pub fn set_player_spectator(
        &mut self,
        match_id: &str,
        player: Option<Uuid>,
        spectator: bool,
        reason: &str,
        spectator_model_id: Option<&str>,
    ) -> SetPlayerSpectatorResult {
        use SetPlayerSpectatorStatus as S;
        let (id, player) = match self.check_player_update(match_id, player, true) {
            Ok(ok) => ok,
            Err((check, message)) => return SetPlayerSpectatorResult::new(check.status(), message),
        };
        let reason = java_trim(reason);
        if utf16_len(reason) > super::outcomes::MAX_PLAYER_REASON {
            return SetPlayerSpectatorResult::new(
                S::InvalidReason,
                "Spectator reason exceeds 256 characters.",
            );
        }
        let m = self.matches.get_mut(&id).expect("checked");
        let changed = if spectator {
            m.spectators.insert(player)
        } else {
            m.spectators.remove(&player)
        };
        if !reason.is_empty() {
            m.last_error = reason.to_string();
        }
        let model_id = spectator_model_id
            .map(java_trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        // The game hears about a change, or about a model to apply while the player is online.
        if changed || (spectator && model_id.is_some() && self.is_online(player)) {
            self.emit_command(GameServerCommand::Spectator {
                match_id: id,
                player,
                spectator,
                model_id,
            });
        }
        SetPlayerSpectatorResult::new(S::Updated, "")
    }
}
