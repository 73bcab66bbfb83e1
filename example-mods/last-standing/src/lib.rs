//! `last_standing`: an elimination round. The last player alive wins.
//!
//! The mod uses the Nexori API the way the Nexori docs recommend for an adapter:
//!
//! - listeners are registered in `init` for the rules engine id `last_standing`;
//! - the session is built from lifecycle callbacks (players become alive when their placement is
//!   confirmed) and gameplay starts only on `on_match_start_allowed`, which also covers
//!   partial-roster starts;
//! - deaths arrive as `game.event` kind `player.died` (`player` = the victim, `data` optionally
//!   `{"killerPlayerUuid": "…"}`); a disconnect of an alive player counts as leaving the round;
//! - when at most one player is alive, outcomes are completed for every required player, the
//!   final result is submitted once, and players are returned to the lobby only after the result
//!   was accepted.
//!
//! Configuration (JSON, every key optional):
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `returnDelaySeconds` | 5 | delay of the return to lobby after the result |
//! | `closeAdmissionAtStart` | `true` | close backfill admission when the round starts |
//! | `roundTimeLimitSeconds` | 0 (none) | when it runs out, every survivor wins |
//!
//! The game logic lives in [`session::Session`], plain Rust that calls the SDK; this file only
//! routes callbacks to the right session.

pub mod session;

use std::collections::BTreeMap;

use nexori_sdk::{
    GameEvent, MatchLifecycleEvent, ModConfig, PlayerAfkChangedEvent, PlayerDisconnectedEvent,
    PlayerMatchLifecycleEvent, PlayerPlacementLifecycleEvent, RulesMod, TimerId, debug, info,
};
use serde::Deserialize;

use session::Session;

/// The rules engine id this mod registers.
pub const RULES_ENGINE_ID: &str = "last_standing";

/// Operator configuration (`config.mods.last_standing`). Unknown keys are rejected so that a
/// typo fails at load instead of silently using a default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// Delay of the return to lobby once the result is accepted.
    pub return_delay_seconds: i32,
    /// Close backfill admission when the round starts (late joiners would be unfair).
    pub close_admission_at_start: bool,
    /// Round time limit in seconds; 0 disables it. When it runs out every survivor wins.
    pub round_time_limit_seconds: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            return_delay_seconds: 5,
            close_admission_at_start: true,
            round_time_limit_seconds: 0,
        }
    }
}

/// The mod: its configuration and one session per match it serves.
///
/// An instance normally serves a single match, but keying by match id costs nothing and keeps
/// the mod correct if a host ever shares an instance.
pub struct LastStanding {
    config: Config,
    sessions: BTreeMap<String, Session>,
}

impl LastStanding {
    fn session(&mut self, match_id: &str) -> &mut Session {
        self.sessions
            .entry(match_id.to_string())
            .or_insert_with(|| Session::new(match_id))
    }

    /// The session of a match, if the mod has one (tests inspect it).
    pub fn session_of(&self, match_id: &str) -> Option<&Session> {
        self.sessions.get(match_id)
    }

    fn close_session(&mut self, match_id: &str) {
        if let Some(mut session) = self.sessions.remove(match_id) {
            session.clear();
        }
    }
}

impl RulesMod for LastStanding {
    fn init(config: ModConfig) -> Result<Self, String> {
        let config: Config = config.parse()?;
        nexori_sdk::register_match_lifecycle_listener(RULES_ENGINE_ID)?;
        nexori_sdk::register_afk_activity_listener(RULES_ENGINE_ID)?;
        Ok(LastStanding {
            config,
            sessions: BTreeMap::new(),
        })
    }

    fn on_match_created(&mut self, event: MatchLifecycleEvent) {
        debug!(
            "match {} created with {} expected players",
            event.match_id,
            event.expected_player_uuids.len()
        );
        self.session(&event.match_id);
    }

    fn on_player_arrived(&mut self, event: PlayerMatchLifecycleEvent) {
        self.session(event.match_id())
            .player_arrived(&event.player_uuid, &event.player_name);
    }

    fn on_player_placement_confirmed(&mut self, event: PlayerPlacementLifecycleEvent) {
        let name = event.player.player_name.clone();
        self.session(event.match_id())
            .player_placed(event.player_uuid(), &name);
    }

    fn on_match_start_allowed(&mut self, event: MatchLifecycleEvent) {
        let config = self.config;
        self.session(&event.match_id).start(&config, &event.reason);
    }

    fn on_match_cancellation_requested(&mut self, event: MatchLifecycleEvent) {
        info!(
            "match {} cancelled by Nexori ({}); dropping the round",
            event.match_id, event.reason
        );
        self.close_session(&event.match_id);
    }

    fn on_match_completed(&mut self, event: MatchLifecycleEvent) {
        info!("match {} completed ({})", event.match_id, event.reason);
    }

    fn on_match_runtime_closed(&mut self, event: MatchLifecycleEvent) {
        self.close_session(&event.match_id);
    }

    fn on_player_afk_changed(&mut self, event: PlayerAfkChangedEvent) {
        // AFK players still count as alive: the round only ends by elimination.
        let state = if event.afk { "AFK" } else { "active again" };
        info!("player {} is {state} ({})", event.player_uuid, event.source);
    }

    fn on_game_event(&mut self, event: GameEvent) {
        if event.kind != "player.died" {
            return;
        }
        let config = self.config;
        self.session(&event.match_id).player_died(&config, &event);
    }

    fn on_player_disconnected(&mut self, event: PlayerDisconnectedEvent) {
        let config = self.config;
        self.session(&event.match_id)
            .player_disconnected(&config, &event.player_uuid);
    }

    fn on_timer(&mut self, id: TimerId) {
        let config = self.config;
        if let Some(session) = self
            .sessions
            .values_mut()
            .find(|session| session.owns_timer(id))
        {
            session.time_limit_reached(&config, id);
        }
    }
}

nexori_sdk::export_rules_mod!(LastStanding);

#[cfg(test)]
mod tests;
