//! `{{name}}`: the first player to die loses, everyone else wins.
//!
//! Start here: the callbacks are the `RulesMod` methods (nexori-sdk's docs list them all), the
//! Nexori API is the `nexori_sdk::*` functions, and `scenarios/first-blood.json` plays a match
//! through the mod and checks what it did.

use nexori_sdk::{
    GameEvent, MatchLifecycleEvent, ModConfig, Outcome, RulesMod, SetPlayerOutcomeStatus, info,
    warn,
};
use serde::{Deserialize, Serialize};

/// The rules engine id this mod registers: matches created with it are this mod's.
pub const RULES_ENGINE_ID: &str = "{{name}}";

/// The operator's configuration (`config.mods.{{name}}`); unknown keys are refused.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Delay of the return to the lobby once the result is accepted.
    pub return_delay_seconds: i32,
}

impl Default for Config {
    fn default() -> Self {
        Config { return_delay_seconds: 5 }
    }
}

/// `customData` of the final result.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultData<'a> {
    mode: &'static str,
    first_out_player_uuid: &'a str,
}

pub struct Mod {
    config: Config,
    resolved: bool,
}

impl RulesMod for Mod {
    fn init(config: ModConfig) -> Result<Self, String> {
        let config: Config = config.parse()?;
        nexori_sdk::register_match_lifecycle_listener(RULES_ENGINE_ID)?;
        Ok(Mod { config, resolved: false })
    }

    fn on_match_start_allowed(&mut self, event: MatchLifecycleEvent) {
        info!("match {} started ({})", event.match_id, event.reason);
    }

    fn on_game_event(&mut self, event: GameEvent) {
        let (true, Some(victim), false) =
            (event.kind == "player.died", event.player.as_deref(), self.resolved)
        else {
            return;
        };
        self.resolved = true;
        let match_id = &event.match_id;
        let Some(requirements) = nexori_sdk::find_match_result_requirements(match_id) else {
            return;
        };
        for player in &requirements.required_player_uuids {
            let (outcome, reason) = if player == victim {
                (Outcome::Loss, "first_out")
            } else {
                (Outcome::Win, "survived")
            };
            let result = nexori_sdk::set_player_outcome(match_id, player, outcome, reason);
            if result.status != SetPlayerOutcomeStatus::Updated {
                warn!("no outcome for {player} ({}): {}", result.status, result.message);
            }
        }
        let data = ResultData { mode: RULES_ENGINE_ID, first_out_player_uuid: victim };
        match nexori_sdk::submit_final_match_result(match_id, "first_blood", &data) {
            Ok(result) if result.is_completed() => {
                for player in &requirements.required_player_uuids {
                    nexori_sdk::return_player_to_lobby(
                        match_id,
                        player,
                        self.config.return_delay_seconds,
                        "match_completed",
                    );
                }
            }
            Ok(result) => warn!("result not accepted ({}): {}", result.match_status, result.message),
            Err(err) => warn!("result not submitted: {err}"),
        }
    }
}

nexori_sdk::export_rules_mod!(Mod);
