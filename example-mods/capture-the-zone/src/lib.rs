//! `capture_the_zone`: a port of the Java Capture The Zone ("mid capture") rules mod.
//!
//! A free-for-all king of the hill on one cylinder zone, "mid". Every player has their own
//! progress counter; whoever is counted in the zone gains one second of progress per second of
//! host time (contesting does not freeze anyone), nothing decays, and the first advance in which
//! the leader has 60 s resolves the match: `WIN` (`mid_capture_win`) for the leader, `LOSS`
//! (`mid_capture_loss`) for every other required player, the final result
//! (`mid_capture_point_captured`), and, once it is accepted, returns to lobby 8 s later
//! (`mid_capture_match_completed`). Nobody is eliminated: dead players are force-respawned after
//! a penalty that grows by 3 s per forced respawn and shrinks by 3 s per kill.
//!
//! Inputs:
//!
//! - lifecycle callbacks: players join on `onPlayerPlacementConfirmed` (arrival only marks them
//!   pending), gameplay starts on `onMatchStartAllowed` (once), cancellation and runtime close
//!   drop the session without any Nexori call;
//! - `game.event` kind `player.tick` with `player` set and `data`
//!   `{worldName, x, y, z, alive, killerPlayerUuid?}` (the killer only on the first tick of a
//!   death), one per player per server tick;
//! - the host's disconnect notification: the player is removed and their progress is lost.
//!
//! Outputs (game commands for the player): `player.setRespawnPoint`, `player.setDeathScreen`,
//! `player.forceRespawn`, `player.message` (`{text}`), `hud.update` and `hud.remove`.
//!
//! Time always comes from the host clock. The game logic lives in plain modules: [`zone`]
//! (geometry), [`advance`] (throttle, progress, leader), [`respawn`], [`hud`] and [`session`];
//! this file only routes callbacks to the match's session.
//!
//! Configuration (`config.mods.capture_the_zone`, camelCase, every key optional, unknown keys
//! rejected): see [`Config`]; the defaults are the Java mod's constants.

pub mod advance;
pub mod hud;
pub mod respawn;
pub mod session;
pub mod zone;

use std::collections::BTreeMap;

use nexori_sdk::{
    GameEvent, MatchLifecycleEvent, ModConfig, PlayerDisconnectedEvent, PlayerMatchLifecycleEvent,
    PlayerPlacementLifecycleEvent, RulesMod, info, warn,
};
use serde::Deserialize;

use session::{PlayerTick, Session};

/// The game event kind carrying one player's per-tick state.
pub const PLAYER_TICK: &str = "player.tick";

/// Operator configuration. The defaults are the constants of the Java mod.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Config {
    /// `RULES_ENGINE_ID`: the rules engine id the mod registers and controls.
    pub rules_engine_id: String,
    /// `INSTANCE_WORLD_PREFIX`: default match world = prefix + match id.
    pub instance_world_prefix: String,
    /// `HOME_RESPAWN_NAME`: name of the home respawn point.
    pub home_respawn_name: String,
    /// `CAPTURE_CENTER_X`.
    pub capture_center_x: f64,
    /// `CAPTURE_CENTER_Z`.
    pub capture_center_z: f64,
    /// `CAPTURE_RADIUS_XZ` (inclusive).
    pub capture_radius: f64,
    /// `CAPTURE_MIN_Y` (inclusive).
    pub capture_min_y: f64,
    /// `CAPTURE_MAX_Y` (inclusive).
    pub capture_max_y: f64,
    /// `CAPTURE_SECONDS_TO_WIN`: progress needed to win, and its clamp.
    pub capture_seconds_to_win: f64,
    /// `WORLD_ADVANCE_INTERVAL_MS`: the advance throttle, and the first advance's delta.
    pub world_advance_interval_ms: i64,
    /// `RESPAWN_DELAY_PER_DEATH_MS`: added to the penalty after each forced respawn.
    pub respawn_delay_per_death_ms: i64,
    /// `RESPAWN_KILL_REWARD_MS`: taken off the killer's penalty (floored at 0).
    pub respawn_kill_reward_ms: i64,
    /// `RESPAWN_REWARD_HUD_MS`: how long the kill-bonus notice shows.
    pub respawn_reward_hud_ms: i64,
    /// `RETURN_DELAY_SECONDS`: delay of the returns to lobby after the result.
    pub return_delay_seconds: i32,
    /// Port addition: send the HUD at all.
    pub hud_enabled: bool,
    /// Port addition: each player's HUD is looked at once per this many ms and a `hud.update`
    /// sent only when it changed (so at most one per interval).
    pub hud_update_interval_ms: i64,
    /// Debug log throttle of the per-advance zone report; 0 disables it.
    pub debug_log_throttle_ms: i64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rules_engine_id: "capture_the_zone".into(),
            instance_world_prefix: "nexori-match-".into(),
            home_respawn_name: "mid_capture_home".into(),
            capture_center_x: 62.0,
            capture_center_z: -6.0,
            capture_radius: 8.0,
            capture_min_y: 84.0,
            capture_max_y: 100.0,
            capture_seconds_to_win: 60.0,
            world_advance_interval_ms: 200,
            respawn_delay_per_death_ms: 3_000,
            respawn_kill_reward_ms: 3_000,
            respawn_reward_hud_ms: 4_000,
            return_delay_seconds: 8,
            hud_enabled: true,
            hud_update_interval_ms: 500,
            debug_log_throttle_ms: 3_000,
        }
    }
}

impl Config {
    /// Rejects values the rules cannot work with, naming the key.
    pub fn validate(&self) -> Result<(), String> {
        let problems = [
            (
                self.rules_engine_id.trim().is_empty(),
                "rulesEngineId must not be blank",
            ),
            (
                !(self.capture_radius.is_finite() && self.capture_radius >= 0.0),
                "captureRadius must be a finite number >= 0",
            ),
            (
                !(self.capture_min_y.is_finite()
                    && self.capture_max_y.is_finite()
                    && self.capture_min_y <= self.capture_max_y),
                "captureMinY must be <= captureMaxY",
            ),
            (
                !(self.capture_center_x.is_finite() && self.capture_center_z.is_finite()),
                "captureCenterX and captureCenterZ must be finite",
            ),
            (
                !(self.capture_seconds_to_win.is_finite() && self.capture_seconds_to_win > 0.0),
                "captureSecondsToWin must be > 0",
            ),
            (
                self.world_advance_interval_ms <= 0,
                "worldAdvanceIntervalMs must be > 0",
            ),
            (
                self.respawn_delay_per_death_ms < 0
                    || self.respawn_kill_reward_ms < 0
                    || self.respawn_reward_hud_ms < 0,
                "respawn durations must be >= 0",
            ),
            (
                self.return_delay_seconds < 0,
                "returnDelaySeconds must be >= 0",
            ),
            (
                self.hud_update_interval_ms < 0 || self.debug_log_throttle_ms < 0,
                "hudUpdateIntervalMs and debugLogThrottleMs must be >= 0",
            ),
        ];
        match problems.iter().find(|(bad, _)| *bad) {
            Some((_, message)) => Err(format!("invalid mod configuration: {message}")),
            None => Ok(()),
        }
    }
}

/// The mod: its configuration and one session per match it serves.
pub struct CaptureTheZone {
    config: Config,
    sessions: BTreeMap<String, Session>,
}

impl CaptureTheZone {
    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The session of a match, if the mod has one (tests inspect it).
    pub fn session_of(&self, match_id: &str) -> Option<&Session> {
        self.sessions.get(match_id)
    }

    /// Create or update the session from a lifecycle snapshot.
    fn session(&mut self, event: &MatchLifecycleEvent) -> &mut Session {
        let config = &self.config;
        let session = self
            .sessions
            .entry(event.match_id.clone())
            .or_insert_with(|| Session::new(config, &event.match_id));
        session.apply_snapshot(event);
        session
    }

    fn close_session(&mut self, match_id: &str, reason: &str) {
        if let Some(mut session) = self.sessions.remove(match_id) {
            session.close(reason);
        }
    }

    /// After a player left a session: an empty session is deleted (`SESSION_EMPTY`).
    fn drop_if_empty(&mut self, match_id: &str) {
        if self.sessions.get(match_id).is_some_and(Session::is_empty) {
            self.close_session(match_id, "SESSION_EMPTY");
        }
    }
}

impl RulesMod for CaptureTheZone {
    fn init(config: ModConfig) -> Result<Self, String> {
        let config: Config = config.parse()?;
        config.validate()?;
        nexori_sdk::register_match_lifecycle_listener(&config.rules_engine_id)?;
        Ok(CaptureTheZone {
            config,
            sessions: BTreeMap::new(),
        })
    }

    fn on_match_created(&mut self, event: MatchLifecycleEvent) {
        let controlled = event.rules_engine_id == self.config.rules_engine_id;
        let session = self.session(&event);
        info!(
            "CTZ session {} created in world {} ({})",
            event.match_id,
            session.world_name(),
            if controlled {
                "MATCH_ACCEPTED"
            } else {
                "MATCH_OBSERVED"
            }
        );
    }

    fn on_player_arrived(&mut self, event: PlayerMatchLifecycleEvent) {
        self.session(&event.match_)
            .player_arrived(&event.player_uuid);
    }

    fn on_player_placement_confirmed(&mut self, event: PlayerPlacementLifecycleEvent) {
        let name = event.player.player_name.clone();
        let uuid = event.player.player_uuid.clone();
        self.session(&event.player.match_)
            .player_placed(&uuid, &name, &event.world_name);
    }

    fn on_match_placement_completed(&mut self, event: MatchLifecycleEvent) {
        self.session(&event);
    }

    fn on_match_start_allowed(&mut self, event: MatchLifecycleEvent) {
        let at = event.event_at_epoch_ms;
        let reason = event.reason.clone();
        self.session(&event).mark_start_allowed(&reason, at);
    }

    fn on_match_cancellation_requested(&mut self, event: MatchLifecycleEvent) {
        info!(
            "Nexori requested cancellation of CTZ match {} ({})",
            event.match_id, event.reason
        );
        self.close_session(&event.match_id, "NEXORI_MATCH_CANCELLATION_REQUESTED");
    }

    fn on_match_completed(&mut self, event: MatchLifecycleEvent) {
        info!(
            "Observed Nexori match completed for CTZ matchId={}.",
            event.match_id
        );
    }

    fn on_match_runtime_closed(&mut self, event: MatchLifecycleEvent) {
        self.close_session(&event.match_id, "NEXORI_MATCH_RUNTIME_CLOSED");
    }

    fn on_game_event(&mut self, event: GameEvent) {
        if event.kind != PLAYER_TICK {
            return;
        }
        let (Some(player), Some(session)) = (
            event.player.as_deref(),
            self.sessions.get_mut(&event.match_id),
        ) else {
            return;
        };
        let tick = match event.data_as::<PlayerTick>() {
            Ok(tick) => tick.unwrap_or_default(),
            Err(err) => {
                warn!("{err}; tick ignored");
                return;
            }
        };
        let now = nexori_sdk::now_epoch_ms();
        if session.tick(&self.config, player, &tick, now) {
            self.drop_if_empty(&event.match_id);
        }
    }

    fn on_player_disconnected(&mut self, event: PlayerDisconnectedEvent) {
        let Some(session) = self.sessions.get_mut(&event.match_id) else {
            return;
        };
        if session.player_disconnected(&event.player_uuid) {
            self.drop_if_empty(&event.match_id);
        }
    }
}

nexori_sdk::export_rules_mod!(CaptureTheZone);

#[cfg(test)]
mod tests;
