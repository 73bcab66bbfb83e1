//! One Capture The Zone match: who is tracked, their cached tick state and progress, the advance
//! loop, respawns, and the resolution (the rules in the crate docs).
//!
//! Plain Rust over the SDK's API functions, so the same code runs in the component and, through
//! the SDK's native host, in unit tests.

use std::collections::BTreeMap;

use nexori_sdk::{
    MatchLifecycleEvent, Outcome, ReturnPlayerStatus, SetPlayerOutcomeStatus, debug, error, info,
    warn,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Config;
use crate::advance::{AdvanceClock, add_progress, leader};
use crate::hud::{HudInput, HudView, Row};
use crate::respawn::{RespawnState, seconds_text};
use crate::zone::Zone;

/// `customData.mode`.
pub const MODE: &str = "mid_capture";
/// `customData.capturePointId`.
pub const CAPTURE_POINT_ID: &str = "mid";
/// Outcome reason of the winner.
pub const WIN_REASON: &str = "mid_capture_win";
/// Outcome reason of everyone else.
pub const LOSS_REASON: &str = "mid_capture_loss";
/// Reason of the final result.
pub const RESULT_REASON: &str = "mid_capture_point_captured";
/// Reason of the returns to lobby.
pub const RETURN_REASON: &str = "mid_capture_match_completed";

/// Game command: the player's per-world respawn point.
pub const CMD_SET_RESPAWN_POINT: &str = "player.setRespawnPoint";
/// Game command: show the death menu without the respawn button or the death data.
pub const CMD_SET_DEATH_SCREEN: &str = "player.setDeathScreen";
/// Game command: respawn the player now.
pub const CMD_FORCE_RESPAWN: &str = "player.forceRespawn";
/// Game command: a chat message to the player (`{text}`).
pub const CMD_MESSAGE: &str = "player.message";
/// Game command: show or update the player's HUD.
pub const CMD_HUD_UPDATE: &str = "hud.update";
/// Game command: remove the player's HUD.
pub const CMD_HUD_REMOVE: &str = "hud.remove";

/// The zone state of the last advance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZoneState {
    /// The match has not advanced yet.
    Preparing,
    /// Nobody counted.
    Empty,
    /// Exactly one player counted: that player (lowercase UUID).
    Capturing(String),
    /// Two or more counted; each of them still gains progress.
    Contested,
}

/// `data` of a `player.tick` game event: the player's state on one server tick.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PlayerTick {
    /// The world the player's entity is in (absent: no world).
    pub world_name: Option<String>,
    /// Position; absent when the transform is unknown (the cached one is kept).
    pub x: Option<f64>,
    /// Position.
    pub y: Option<f64>,
    /// Position.
    pub z: Option<f64>,
    /// `false` while the entity has a death component.
    pub alive: bool,
    /// On the first tick of a death: the player whose damage killed this one, if any.
    pub killer_player_uuid: Option<String>,
}

impl Default for PlayerTick {
    fn default() -> Self {
        PlayerTick {
            world_name: None,
            x: None,
            y: None,
            z: None,
            alive: true,
            killer_player_uuid: None,
        }
    }
}

impl PlayerTick {
    fn position(&self) -> Option<[f64; 3]> {
        match (self.x, self.y, self.z) {
            (Some(x), Some(y), Some(z)) => Some([x, y, z]),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct SentHud {
    /// The view last sent.
    view: HudView,
    /// When the view was last built and compared (sent or not).
    checked_at: i64,
}

/// One tracked player.
#[derive(Debug, Clone, PartialEq)]
pub struct Player {
    /// Lowercase UUID.
    pub uuid: String,
    /// Name from the placement event (the UUID if it had none).
    pub name: String,
    /// Seconds of capture, in `[0, captureSecondsToWin]`.
    pub progress: f64,
    /// Alive flag of the player's latest tick.
    pub alive: bool,
    /// World of the latest tick.
    pub world: Option<String>,
    /// Latest known position.
    pub position: Option<[f64; 3]>,
    /// The home respawn point was written (first tick after the start).
    pub home_set: bool,
    /// Penalty and pending forced respawn.
    pub respawn: RespawnState,
    /// Until when the kill-bonus notice shows.
    pub kill_bonus_until: Option<i64>,
    hud: Option<SentHud>,
}

impl Player {
    fn new(uuid: String, name: String) -> Self {
        Player {
            uuid,
            name,
            progress: 0.0,
            alive: true,
            world: None,
            position: None,
            home_set: false,
            respawn: RespawnState::default(),
            kill_bonus_until: None,
            hud: None,
        }
    }

    /// `true` if a HUD was shown to the player and not removed.
    pub fn has_hud(&self) -> bool {
        self.hud.is_some()
    }
}

/// How the match was resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    /// Winner's lowercase UUID.
    pub winner: String,
    /// Players who got an outcome, in order.
    pub participants: Vec<String>,
    /// Host time of the resolving advance.
    pub finished_at: i64,
}

/// `customData` of the final result: the Java mod's fields plus the per-player progress map.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct FinishData<'a> {
    mode: &'static str,
    capture_point_id: &'static str,
    winner_player_uuid: &'a str,
    participant_count: usize,
    finished_at_epoch_ms: i64,
    capture_seconds_to_win: f64,
    player_capture_progress: BTreeMap<&'a str, PlayerProgress<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PlayerProgress<'a> {
    player_name: &'a str,
    progress_seconds: f64,
    progress_percent: f64,
}

/// Canonical form of a UUID from the host or from game data.
pub fn canonical(uuid: &str) -> String {
    uuid.trim().to_ascii_lowercase()
}

/// Java's `equalsIgnoreCase`, close enough for world names.
fn eq_ignore_case(a: &str, b: &str) -> bool {
    // Every tick compares world names, nearly always equal as written: take the fast ways.
    if a == b {
        return true;
    }
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.chars()
        .flat_map(char::to_lowercase)
        .eq(b.chars().flat_map(char::to_lowercase))
}

/// Blank entries dropped, canonical, duplicates removed with the order kept.
fn roster(uuids: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(uuids.len());
    for uuid in uuids.iter().map(|uuid| canonical(uuid)) {
        if !uuid.is_empty() && !out.contains(&uuid) {
            out.push(uuid);
        }
    }
    out
}

/// The state of one match.
#[derive(Debug)]
pub struct Session {
    match_id: String,
    rules_engine_id: String,
    world_name: String,
    expected: Vec<String>,
    required: Vec<String>,
    pending_placement: Vec<String>,
    players: Vec<Player>,
    start_allowed: bool,
    started_at: i64,
    start_reason: String,
    zone: ZoneState,
    clock: AdvanceClock,
    resolved: bool,
    finish: Option<Finish>,
    last_debug_log_at: Option<i64>,
}

impl Session {
    /// A session for `match_id` in the `PREPARING` state, in the default world.
    pub fn new(config: &Config, match_id: &str) -> Self {
        Session {
            match_id: match_id.to_string(),
            rules_engine_id: String::new(),
            world_name: format!("{}{}", config.instance_world_prefix, match_id),
            expected: Vec::new(),
            required: Vec::new(),
            pending_placement: Vec::new(),
            players: Vec::new(),
            start_allowed: false,
            started_at: 0,
            start_reason: String::new(),
            zone: ZoneState::Preparing,
            clock: AdvanceClock::new(config.world_advance_interval_ms),
            resolved: false,
            finish: None,
            last_debug_log_at: None,
        }
    }

    // ------------------------------------------------------------------------ inspection

    /// The match world (compared case-insensitively).
    pub fn world_name(&self) -> &str {
        &self.world_name
    }

    /// `true` once the start gate opened.
    pub fn is_started(&self) -> bool {
        self.start_allowed
    }

    /// Reason and host time of the start gate.
    pub fn start(&self) -> Option<(&str, i64)> {
        self.start_allowed
            .then_some((self.start_reason.as_str(), self.started_at))
    }

    /// `true` once the match resolved.
    pub fn is_resolved(&self) -> bool {
        self.resolved
    }

    /// How the match resolved.
    pub fn finish(&self) -> Option<&Finish> {
        self.finish.as_ref()
    }

    /// The zone state of the last advance.
    pub fn zone(&self) -> &ZoneState {
        &self.zone
    }

    /// Tracked players, in insertion order.
    pub fn players(&self) -> &[Player] {
        &self.players
    }

    /// A tracked player by UUID (any case).
    pub fn player(&self, uuid: &str) -> Option<&Player> {
        let uuid = canonical(uuid);
        self.players.iter().find(|player| player.uuid == uuid)
    }

    /// Players that arrived but whose placement was not confirmed yet.
    pub fn pending_placement(&self) -> &[String] {
        &self.pending_placement
    }

    /// The required-result roster of the latest snapshot.
    pub fn required(&self) -> &[String] {
        &self.required
    }

    /// `true` when no player is tracked.
    pub fn is_empty(&self) -> bool {
        self.players.is_empty()
    }

    fn index_of(&self, uuid: &str) -> Option<usize> {
        self.players.iter().position(|player| player.uuid == uuid)
    }

    /// [`Self::index_of`] for a UUID as the game wrote it: the same as `index_of(&canonical(token))`
    /// (tracked UUIDs are canonical already), without allocating on every tick.
    fn index_of_token(&self, token: &str) -> Option<usize> {
        let token = token.trim();
        // The host always writes UUIDs lowercase: an exact match (which fails at the first
        // differing byte) nearly always finds the player.
        self.index_of(token).or_else(|| {
            self.players
                .iter()
                .position(|player| player.uuid.eq_ignore_ascii_case(token))
        })
    }

    // ------------------------------------------------------------------------ lifecycle

    /// Refreshes the match-level fields from a lifecycle snapshot.
    pub fn apply_snapshot(&mut self, event: &MatchLifecycleEvent) {
        self.rules_engine_id = event.rules_engine_id.clone();
        self.expected = roster(&event.expected_player_uuids);
        self.required = roster(&event.required_result_player_uuids);
    }

    /// `onPlayerArrived`: the player is pending placement (unless already tracked).
    pub fn player_arrived(&mut self, uuid: &str) {
        let uuid = canonical(uuid);
        if self.index_of(&uuid).is_none() && !self.pending_placement.contains(&uuid) {
            self.pending_placement.push(uuid);
        }
    }

    /// `onPlayerPlacementConfirmed`: the player joins with 0 progress (a backfill player after
    /// the start too). A known player keeps their progress; nobody else's changes.
    pub fn player_placed(&mut self, uuid: &str, name: &str, world_name: &str) {
        let uuid = canonical(uuid);
        if !world_name.trim().is_empty() {
            self.world_name = world_name.trim().to_string();
        }
        self.pending_placement.retain(|pending| *pending != uuid);
        let name = if name.trim().is_empty() {
            uuid.clone()
        } else {
            name.trim().to_string()
        };
        match self.index_of(&uuid) {
            Some(index) => self.players[index].name = name,
            None => {
                info!(
                    "CTZ player {name} ({uuid}) joined match {} (PLAYER_TRACKED{})",
                    self.match_id,
                    if self.start_allowed {
                        ", backfill after start"
                    } else {
                        ""
                    }
                );
                self.players.push(Player::new(uuid, name));
            }
        }
    }

    /// `onMatchStartAllowed`: gameplay starts, once; repeats are no-ops.
    pub fn mark_start_allowed(&mut self, reason: &str, at: i64) {
        if self.start_allowed {
            debug!(
                "CTZ match {} start gate already open; {reason} ignored",
                self.match_id
            );
            return;
        }
        self.start_allowed = true;
        self.started_at = at;
        self.start_reason = reason.to_string();
        info!(
            "CTZ match {} started ({reason}) with {} tracked players in world {}",
            self.match_id,
            self.players.len(),
            self.world_name
        );
    }

    /// A player left the server: removed, progress lost (`PLAYER_DETACHED`). No Nexori call.
    /// `true` if the player was tracked.
    pub fn player_disconnected(&mut self, uuid: &str) -> bool {
        let uuid = canonical(uuid);
        self.pending_placement.retain(|pending| *pending != uuid);
        match self.index_of(&uuid) {
            Some(index) => {
                self.detach(index, "disconnected");
                true
            }
            None => false,
        }
    }

    fn detach(&mut self, index: usize, why: &str) {
        let player = self.players.remove(index);
        info!(
            "CTZ player {} ({}) left match {} (PLAYER_DETACHED: {why}); progress {:.1}s dropped",
            player.name, player.uuid, self.match_id, player.progress
        );
        if player.has_hud() {
            self.command(&player.uuid, CMD_HUD_REMOVE, None::<&()>);
        }
    }

    /// The session closes (cancellation, runtime closed, or empty): HUDs go; no Nexori call.
    pub fn close(&mut self, reason: &str) {
        info!("CTZ session {} closed ({reason})", self.match_id);
        for player in std::mem::take(&mut self.players) {
            if player.has_hud() {
                self.command(&player.uuid, CMD_HUD_REMOVE, None::<&()>);
            }
        }
        self.pending_placement.clear();
    }

    // ------------------------------------------------------------------------ ticks

    /// One `player.tick` of a tracked player. `true` if the player was detached (wrong world
    /// after the start).
    ///
    /// Order as in the Java tick system: refresh the player's own state, respawn handling, then
    /// a throttled match advance, then the player's HUD. The advance sees this player's fresh
    /// state and every other player's latest known state.
    pub fn tick(&mut self, config: &Config, uuid: &str, tick: &PlayerTick, now: i64) -> bool {
        if self.resolved || self.rules_engine_id != config.rules_engine_id {
            return false;
        }
        let Some(index) = self.index_of_token(uuid) else {
            return false;
        };
        if let Some(world) = &tick.world_name
            && !eq_ignore_case(world, &self.world_name)
        {
            if self.start_allowed {
                self.detach(index, &format!("wrong_world:{world}"));
                return true;
            }
            return false; // before the start: ignored, still tracked
        }

        let player = &mut self.players[index];
        player.alive = tick.alive;
        if player.world != tick.world_name {
            player.world.clone_from(&tick.world_name);
        }
        if let Some(position) = tick.position() {
            player.position = Some(position);
        }
        if !self.start_allowed {
            return false;
        }

        self.set_home(config, index);
        self.handle_respawn(config, index, tick, now);
        if let Some(delta) = self.clock.try_advance(now) {
            self.advance(config, delta, now);
        }
        if !self.resolved {
            self.update_hud(config, index, now);
        }
        false
    }

    fn command<T: Serialize + ?Sized>(&self, player: &str, name: &str, data: Option<&T>) {
        if let Err(err) = nexori_sdk::send_game_command(&self.match_id, Some(player), name, data) {
            debug!("game command {name} for {player} not sent: {err}");
        }
    }

    /// First tick after the start: the player's position becomes their home respawn point.
    fn set_home(&mut self, config: &Config, index: usize) {
        let player = &self.players[index];
        let (false, Some([x, y, z])) = (player.home_set, player.position) else {
            return;
        };
        let data = json!({
            "worldName": self.world_name,
            "name": config.home_respawn_name,
            "blockX": x.floor() as i64,
            "blockY": y.floor() as i64,
            "blockZ": z.floor() as i64,
            "x": x,
            "y": y,
            "z": z,
        });
        self.command(&player.uuid, CMD_SET_RESPAWN_POINT, Some(&data));
        self.players[index].home_set = true;
    }

    fn handle_respawn(&mut self, config: &Config, index: usize, tick: &PlayerTick, now: i64) {
        let effect =
            self.players[index]
                .respawn
                .on_tick(tick.alive, now, config.respawn_delay_per_death_ms);
        if !effect.new_death && !effect.force_respawn {
            return;
        }
        let victim = self.players[index].uuid.clone();
        if effect.new_death {
            let data =
                json!({"showDeathMenu": true, "showDeathData": false, "hideRespawnButton": true});
            self.command(&victim, CMD_SET_DEATH_SCREEN, Some(&data));
            if let Some(killer) = tick.killer_player_uuid.as_deref().map(canonical)
                && killer != victim
                && let Some(killer_index) = self.index_of(&killer)
            {
                let killer = &mut self.players[killer_index];
                if killer
                    .respawn
                    .apply_kill_reward(config.respawn_kill_reward_ms)
                {
                    killer.kill_bonus_until = Some(now + config.respawn_reward_hud_ms);
                }
                debug!(
                    "CTZ kill: {} killed {victim}; killer penalty now {} ms",
                    killer.uuid, killer.respawn.penalty_ms
                );
            }
        }
        if effect.force_respawn {
            self.command(&victim, CMD_FORCE_RESPAWN, None::<&()>);
            let text = format!(
                "Respawn penalty added: +{}s for your next death.",
                seconds_text(config.respawn_delay_per_death_ms)
            );
            self.command(&victim, CMD_MESSAGE, Some(&json!({ "text": text })));
        }
    }

    /// Why a tracked player does not count in the zone, checked in the Java order.
    fn count_check(&self, zone: &Zone, player: &Player) -> Result<(), String> {
        if player.world.is_none() && player.position.is_none() {
            return Err("player_ref_missing".into()); // never ticked
        }
        let Some(world) = &player.world else {
            return Err("player_world_missing".into());
        };
        if !eq_ignore_case(world, &self.world_name) {
            return Err(format!("wrong_world:{world}"));
        }
        if !player.alive {
            return Err("player_dead".into());
        }
        let Some([x, y, z]) = player.position else {
            return Err("transform_missing".into());
        };
        match zone.outside_reason(x, y, z) {
            Some(reason) => Err(reason),
            None => Ok(()),
        }
    }

    fn advance(&mut self, config: &Config, delta: f64, now: i64) {
        let zone = Zone::from_config(config);
        let checks: Vec<Result<(), String>> = self
            .players
            .iter()
            .map(|player| self.count_check(&zone, player))
            .collect();
        let counted: Vec<usize> = (0..self.players.len())
            .filter(|index| checks[*index].is_ok())
            .collect();
        self.zone = match counted.as_slice() {
            [] => ZoneState::Empty,
            [only] => ZoneState::Capturing(self.players[*only].uuid.clone()),
            _ => ZoneState::Contested,
        };
        for index in &counted {
            let player = &mut self.players[*index];
            player.progress = add_progress(player.progress, delta, config.capture_seconds_to_win);
        }

        if config.debug_log_throttle_ms > 0
            && self
                .last_debug_log_at
                .is_none_or(|at| now - at >= config.debug_log_throttle_ms)
        {
            self.last_debug_log_at = Some(now);
            let states: Vec<String> = self
                .players
                .iter()
                .zip(&checks)
                .map(|(player, check)| match check {
                    Ok(()) => format!("{} {:.1}s in_zone", player.name, player.progress),
                    Err(reason) => format!("{} {:.1}s {reason}", player.name, player.progress),
                })
                .collect();
            let zone = match &self.zone {
                ZoneState::Preparing => "PREPARING".to_string(),
                ZoneState::Empty => "EMPTY".to_string(),
                ZoneState::Contested => "CONTESTED".to_string(),
                ZoneState::Capturing(uuid) => format!(
                    "CAPTURING:{}",
                    self.players
                        .iter()
                        .find(|p| p.uuid == *uuid)
                        .map_or(uuid.as_str(), |p| p.name.as_str())
                ),
            };
            debug!(
                "CTZ advance {} zone={zone} delta={delta:.3}s: {}",
                self.match_id,
                states.join("; ")
            );
        }

        let best = leader(
            self.players
                .iter()
                .map(|player| (player.name.as_str(), player.progress)),
        );
        if let Some(best) = best
            && self.players[best].progress >= config.capture_seconds_to_win
        {
            self.resolve(config, best, now);
        }
    }

    fn update_hud(&mut self, config: &Config, index: usize, now: i64) {
        if !config.hud_enabled {
            return;
        }
        // The view is built and compared at most once per interval: building it is most of a
        // tick's cost, and rebuilding it every tick while it did not change cost as much.
        if let Some(sent) = &self.players[index].hud
            && now - sent.checked_at < config.hud_update_interval_ms
        {
            return;
        }
        let view = {
            let rows: Vec<Row<'_>> = self
                .players
                .iter()
                .map(|player| Row {
                    uuid: &player.uuid,
                    name: &player.name,
                    progress: player.progress,
                })
                .collect();
            let viewer = &self.players[index];
            HudView::build(&HudInput {
                zone: &self.zone,
                players: &rows,
                viewer: &viewer.uuid,
                respawn_remaining_ms: viewer.respawn.remaining_ms(now),
                penalty_ms: viewer.respawn.penalty_ms,
                kill_bonus_until: viewer.kill_bonus_until,
                kill_reward_ms: config.respawn_kill_reward_ms,
                seconds_to_win: config.capture_seconds_to_win,
                now,
            })
        };
        if let Some(sent) = &mut self.players[index].hud
            && sent.view == view
        {
            sent.checked_at = now;
            return;
        }
        self.command(&self.players[index].uuid, CMD_HUD_UPDATE, Some(&view));
        self.players[index].hud = Some(SentHud {
            view,
            checked_at: now,
        });
    }

    // ------------------------------------------------------------------------ resolution

    /// Someone reached the target: outcomes, the final result, and the returns, with two fixes over
    /// the Java mod, which could leave a finished match unresolved: an empty required list falls
    /// back to the tracked players, and the winner gets `WIN` even when missing from it.
    fn resolve(&mut self, config: &Config, winner: usize, now: i64) {
        if self.rules_engine_id != config.rules_engine_id {
            warn!(
                "CTZ match {} reached the capture target but its rulesEngineId is {:?}; not resolving",
                self.match_id, self.rules_engine_id
            );
            return;
        }
        let winner = self.players[winner].uuid.clone();
        let mut participants = self.required.clone();
        if participants.is_empty() {
            warn!(
                "CTZ match {}: the required-result player list is empty; using the {} tracked players",
                self.match_id,
                self.players.len()
            );
            participants = self.players.iter().map(|p| p.uuid.clone()).collect();
        }
        if !participants.contains(&winner) {
            warn!(
                "CTZ match {}: winner {winner} is not in the required-result list; giving WIN anyway",
                self.match_id
            );
            participants.push(winner.clone());
        }
        self.resolved = true;
        self.finish = Some(Finish {
            winner: winner.clone(),
            participants: participants.clone(),
            finished_at: now,
        });
        info!(
            "CTZ match {} captured by {winner} at {now} ({} participants)",
            self.match_id,
            participants.len()
        );

        self.report(config, &winner, &participants, now);

        for player in &mut self.players {
            if player.hud.take().is_some() {
                let uuid = player.uuid.clone();
                if let Err(err) = nexori_sdk::send_game_command(
                    &self.match_id,
                    Some(&uuid),
                    CMD_HUD_REMOVE,
                    None::<&()>,
                ) {
                    debug!("game command {CMD_HUD_REMOVE} for {uuid} not sent: {err}");
                }
            }
        }
    }

    fn report(&self, config: &Config, winner: &str, participants: &[String], now: i64) {
        for uuid in participants {
            let (outcome, reason) = if uuid == winner {
                (Outcome::Win, WIN_REASON)
            } else {
                (Outcome::Loss, LOSS_REASON)
            };
            let result = nexori_sdk::set_player_outcome(&self.match_id, uuid, outcome, reason);
            if !matches!(
                result.status,
                SetPlayerOutcomeStatus::Updated | SetPlayerOutcomeStatus::MatchAlreadyCompleted
            ) {
                warn!(
                    "CTZ could not set {outcome} for {uuid} ({}): {}",
                    result.status, result.message
                );
            }
        }

        let target = config.capture_seconds_to_win;
        let player_capture_progress = self
            .players
            .iter()
            .filter(|player| participants.contains(&player.uuid))
            .map(|player| {
                (
                    player.uuid.as_str(),
                    PlayerProgress {
                        player_name: &player.name,
                        progress_seconds: player.progress,
                        progress_percent: player.progress / target * 100.0,
                    },
                )
            })
            .collect();
        let custom_data = FinishData {
            mode: MODE,
            capture_point_id: CAPTURE_POINT_ID,
            winner_player_uuid: winner,
            participant_count: participants.len(),
            finished_at_epoch_ms: now,
            capture_seconds_to_win: target,
            player_capture_progress,
        };
        let result = match nexori_sdk::submit_final_match_result(
            &self.match_id,
            RESULT_REASON,
            &custom_data,
        ) {
            Ok(result) => result,
            Err(err) => {
                error!("CTZ final result not submitted: {err}");
                return;
            }
        };
        if !result.is_completed() {
            warn!(
                "CTZ final result for {} not accepted ({}): {}",
                self.match_id, result.match_status, result.message
            );
            return;
        }
        for uuid in participants {
            let returned = nexori_sdk::return_player_to_lobby(
                &self.match_id,
                uuid,
                config.return_delay_seconds,
                RETURN_REASON,
            );
            if returned.status != ReturnPlayerStatus::Scheduled {
                warn!(
                    "CTZ could not return {uuid} ({}): {}",
                    returned.status, returned.message
                );
            }
        }
        info!(
            "Reported CTZ match finish to Nexori matchId={} winner={winner} participants={} status={}",
            self.match_id,
            participants.len(),
            result.match_status
        );
    }
}
