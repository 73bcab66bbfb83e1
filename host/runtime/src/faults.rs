//! The fault policy: what happens to a match whose rules mod instance died (trap, panic,
//! deadline overrun, memory limit). The instance is gone, so Nexori finishes the match itself:
//! every required player without a decided result gets `NO_CONTEST` naming the fault, a result is
//! recorded and reported like any other (Decision D5), admission closes, and everyone still in
//! the arena is told and returned to the lobby.

use serde_json::json;

use super::match_state::{ExplicitClose, PendingReturn};
use super::model::*;
use super::results::ResultDraft;
use super::{Arena, RuntimeEvent};
use nexori_protocol::commands::GameServerCommand;

/// The fault policy's result reason, admission close reason, change reason and return reason,
/// and the prefix of the outcome reasons and `lastError` (`RULES_MOD_FAULT: <what>`).
pub const RULES_MOD_FAULT: &str = "RULES_MOD_FAULT";
/// What every online active player and spectator of a faulted match is told (`player.message`)
/// before their return.
pub const FAULT_MESSAGE: &str =
    "The match was stopped by an error in its rules mod. Returning to lobby...";
/// Long enough for the message to be read before the player is moved.
pub const FAULT_RETURN_DELAY_MS: i64 = 5_000;

impl Arena {
    /// Applies the fault policy to `match_id`. `fault` is a short description (e.g.
    /// `trap: unreachable`); it is cut to fit the 256-character outcome reason.
    pub fn apply_fault_policy(&mut self, match_id: &str, fault: &str, now: i64) {
        let Some(m) = self.matches.get(match_id) else {
            return;
        };
        let reason: String = format!("{RULES_MOD_FAULT}: {fault}")
            .chars()
            .take(256)
            .collect();
        if !m.is_completed() {
            let required = m.required_players();
            let draft = ResultDraft {
                reason: RULES_MOD_FAULT.to_string(),
                metadata: vec![("faulted_by".into(), "nexori".into())],
                custom_data: json!({
                    "faultedBy": "nexori",
                    "fault": fault.chars().take(1024).collect::<String>(),
                }),
            };
            let m = self.matches.get_mut(match_id).expect("present");
            for player in required {
                m.outcomes.insert(
                    player,
                    OutcomeRecord {
                        outcome: Outcome::NoContest,
                        reason: reason.clone(),
                    },
                );
            }
            match self.record_nexori_result(match_id, draft, now) {
                Ok(accepted) => self.emit(RuntimeEvent::NexoriResult(Box::new(accepted))),
                Err(message) => {
                    let m = self.matches.get_mut(match_id).expect("present");
                    m.completed_at = now;
                    m.last_error = format!("Fault policy result validation failed: {message}");
                }
            }
        }
        let m = self.matches.get_mut(match_id).expect("present");
        m.last_error = reason;
        if m.explicit_close.is_none() && m.match_source == MatchSource::BackendDriven {
            m.explicit_close = Some(ExplicitClose {
                reason_id: RULES_MOD_FAULT.to_string(),
                message: FAULT_MESSAGE.to_string(),
            });
        }
        let present: Vec<_> = m.active.union(&m.spectators).copied().collect();
        let present: Vec<_> = present.into_iter().filter(|p| self.is_online(*p)).collect();
        let m = self.matches.get_mut(match_id).expect("present");
        for &player in &present {
            m.pending_returns.insert(
                player,
                PendingReturn {
                    at: now + FAULT_RETURN_DELAY_MS,
                    reason: RULES_MOD_FAULT.to_string(),
                },
            );
        }
        for player in present {
            self.emit_command(GameServerCommand::Message {
                match_id: match_id.to_string(),
                player,
                text: FAULT_MESSAGE.to_string(),
            });
        }
        self.mark_admission_dirty(match_id, RULES_MOD_FAULT);
        // Nobody to return (D14: perhaps nobody ever came): the runtime closes now.
        self.close_runtime_if_empty(match_id, now);
    }
}
