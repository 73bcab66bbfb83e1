//! One Last Standing round: who is alive, who eliminated whom, and the resolution.
//!
//! Plain Rust over the SDK's API functions, so the same code runs in the component and, through
//! the SDK's native host, in unit tests.

use std::collections::{BTreeMap, BTreeSet};

use nexori_sdk::{
    CloseMatchAdmissionReason, CloseMatchAdmissionStatus, GameEvent, Outcome, ReturnPlayerStatus,
    SetPlayerOutcomeStatus, SetPlayerSpectatorStatus, TimerId, debug, error, info, warn,
};
use serde::{Deserialize, Serialize};

use crate::Config;

/// Per-player state. Only what the result and the rules need.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Player {
    /// Name from the arrival or placement event ("" if never seen).
    pub name: String,
    /// Kills credited through `killerPlayerUuid`.
    pub kills: u32,
    /// Placed and not eliminated.
    pub alive: bool,
    /// Host time of the elimination (death or disconnect), 0 if not eliminated.
    pub eliminated_at_epoch_ms: i64,
}

/// `data` of a `player.died` event.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
struct Died {
    killer_player_uuid: Option<String>,
}

/// `customData` of the final result.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultData<'a> {
    mode: &'static str,
    winner_player_uuid: Option<&'a str>,
    players: BTreeMap<&'a str, PlayerResult<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PlayerResult<'a> {
    name: &'a str,
    kills: u32,
    eliminated_at_epoch_ms: i64,
    placement: usize,
}

/// The state of one match's round.
#[derive(Debug)]
pub struct Session {
    match_id: String,
    started: bool,
    resolved: bool,
    /// Keyed by lowercase UUID: the host hands UUIDs out lowercase, game data may not.
    players: BTreeMap<String, Player>,
    /// Eliminated players, first out first.
    eliminations: Vec<String>,
    /// Players this mod gave an outcome, so resolution does not overwrite them.
    outcomes: BTreeSet<String>,
    time_limit: Option<TimerId>,
}

fn canonical(uuid: &str) -> String {
    uuid.trim().to_ascii_lowercase()
}

impl Session {
    /// A round for `match_id` that has not started.
    pub fn new(match_id: &str) -> Self {
        Session {
            match_id: match_id.to_string(),
            started: false,
            resolved: false,
            players: BTreeMap::new(),
            eliminations: Vec::new(),
            outcomes: BTreeSet::new(),
            time_limit: None,
        }
    }

    /// `true` once the start gate opened.
    pub fn is_started(&self) -> bool {
        self.started
    }

    /// `true` once the final result was submitted (whatever the host answered).
    pub fn is_resolved(&self) -> bool {
        self.resolved
    }

    /// The player's state, by UUID in any case.
    pub fn player(&self, uuid: &str) -> Option<&Player> {
        self.players.get(&canonical(uuid))
    }

    /// Alive players, by UUID.
    pub fn alive(&self) -> Vec<&str> {
        self.players
            .iter()
            .filter(|(_, player)| player.alive)
            .map(|(uuid, _)| uuid.as_str())
            .collect()
    }

    fn remember(&mut self, uuid: &str, name: &str) -> &mut Player {
        let player = self.players.entry(canonical(uuid)).or_default();
        if !name.is_empty() {
            player.name = name.to_string();
        }
        player
    }

    /// A player arrived: known (for the name), not yet alive.
    pub fn player_arrived(&mut self, uuid: &str, name: &str) {
        self.remember(uuid, name);
    }

    /// A player's placement was confirmed: alive, including backfill players placed after the
    /// start. An eliminated player stays out, and nobody joins a resolved round.
    pub fn player_placed(&mut self, uuid: &str, name: &str) {
        let (started, resolved) = (self.started, self.resolved);
        let player = self.remember(uuid, name);
        if resolved || player.eliminated_at_epoch_ms != 0 {
            return;
        }
        player.alive = true;
        if started {
            info!("backfill player {uuid} joins the round alive");
        }
    }

    /// The start gate opened: the round begins.
    pub fn start(&mut self, config: &Config, gate_reason: &str) {
        if self.started {
            return;
        }
        self.started = true;
        info!(
            "Last Standing round started ({gate_reason}) with {} players alive",
            self.alive().len()
        );

        if config.close_admission_at_start {
            self.close_admission();
        }
        if config.round_time_limit_seconds > 0 {
            match nexori_sdk::set_timer(std::time::Duration::from_secs(
                config.round_time_limit_seconds,
            )) {
                Ok(id) => self.time_limit = Some(id),
                Err(err) => warn!("round time limit disabled: {err}"),
            }
        }
        // A partial-roster start may leave one player (or none): the round is over already.
        self.check_last_standing(config);
    }

    fn close_admission(&self) {
        let result = nexori_sdk::close_match_admission(
            &self.match_id,
            CloseMatchAdmissionReason::GamePhaseLocked,
            Some("Last Standing round started."),
        );
        match result.status {
            CloseMatchAdmissionStatus::Closed | CloseMatchAdmissionStatus::AlreadyClosed => {}
            // Local matches have no backend admission to close.
            CloseMatchAdmissionStatus::MatchNotBackendDriven => {
                debug!("admission not closed: {}", result.message);
            }
            status => warn!("could not close admission ({status}): {}", result.message),
        }
    }

    /// `player.died`: the victim is out (LOSS, then spectator); the killer gets the kill.
    pub fn player_died(&mut self, config: &Config, event: &GameEvent) {
        let Some(victim) = event.player.as_deref().map(canonical) else {
            warn!("player.died without a player");
            return;
        };
        if !self.started || self.resolved {
            debug!("player.died for {victim} ignored: the round is not running");
            return;
        }
        if !self.players.get(&victim).is_some_and(|player| player.alive) {
            debug!("player.died for {victim} ignored: not alive");
            return;
        }
        let died = event.data_as::<Died>().unwrap_or_else(|err| {
            warn!("{err}; no kill credited");
            None
        });

        self.eliminate(&victim, Outcome::Loss, "eliminated");
        let spectator = nexori_sdk::set_player_spectator(
            &self.match_id,
            &victim,
            true,
            "eliminated_can_watch",
            None,
        );
        if spectator.status != SetPlayerSpectatorStatus::Updated {
            warn!(
                "could not make {victim} a spectator ({}): {}",
                spectator.status, spectator.message
            );
        }

        if let Some(killer) = died
            .and_then(|died| died.killer_player_uuid)
            .map(|uuid| canonical(&uuid))
        {
            match self.players.get_mut(&killer) {
                Some(player) if killer != victim => player.kills += 1,
                Some(_) => {}
                None => debug!("killer {killer} is not in the round; no kill credited"),
            }
        }
        self.check_last_standing(config);
    }

    /// An alive player left the server: DISCONNECTED, and out of the round.
    pub fn player_disconnected(&mut self, config: &Config, uuid: &str) {
        let uuid = canonical(uuid);
        if self.resolved || !self.players.get(&uuid).is_some_and(|player| player.alive) {
            return;
        }
        self.eliminate(&uuid, Outcome::Disconnected, "disconnected");
        self.check_last_standing(config);
    }

    fn eliminate(&mut self, uuid: &str, outcome: Outcome, reason: &str) {
        let now = nexori_sdk::now_epoch_ms();
        if let Some(player) = self.players.get_mut(uuid) {
            player.alive = false;
            player.eliminated_at_epoch_ms = now;
        }
        self.eliminations.push(uuid.to_string());
        self.set_outcome(uuid, outcome, reason);
    }

    fn set_outcome(&mut self, uuid: &str, outcome: Outcome, reason: &str) {
        let result = nexori_sdk::set_player_outcome(&self.match_id, uuid, outcome, reason);
        if result.status != SetPlayerOutcomeStatus::Updated {
            warn!(
                "could not set {outcome} for {uuid} ({}): {}",
                result.status, result.message
            );
        }
        // Recorded even when refused: retrying at resolution would be refused the same way.
        self.outcomes.insert(uuid.to_string());
    }

    fn check_last_standing(&mut self, config: &Config) {
        if !self.started || self.resolved {
            return;
        }
        let alive: Vec<String> = self.alive().into_iter().map(str::to_string).collect();
        if alive.len() <= 1 {
            self.resolve(config, &alive, "last_standing", "last_player_standing");
        }
    }

    /// `true` if `id` is this round's time limit.
    pub fn owns_timer(&self, id: TimerId) -> bool {
        self.time_limit == Some(id)
    }

    /// The round time limit ran out: every survivor wins.
    pub fn time_limit_reached(&mut self, config: &Config, id: TimerId) {
        if !self.owns_timer(id) {
            return;
        }
        self.time_limit = None;
        if !self.started || self.resolved {
            return;
        }
        let survivors: Vec<String> = self.alive().into_iter().map(str::to_string).collect();
        info!(
            "round time limit reached with {} survivors",
            survivors.len()
        );
        self.resolve(
            config,
            &survivors,
            "survived_time_limit",
            "round_time_limit",
        );
    }

    /// Outcomes for everyone required, the final result once, then the returns.
    fn resolve(
        &mut self,
        config: &Config,
        winners: &[String],
        win_reason: &str,
        result_reason: &str,
    ) {
        self.resolved = true;
        self.cancel_timers();
        for winner in winners {
            self.set_outcome(winner, Outcome::Win, win_reason);
        }

        // The host's list, not ours: it includes players the mod never saw placed (late,
        // absent, backfill), and every one of them needs an outcome for the submit to pass.
        let required: Vec<String> = match nexori_sdk::find_match_result_requirements(&self.match_id)
        {
            Some(requirements) => requirements
                .required_player_uuids
                .iter()
                .map(|uuid| canonical(uuid))
                .collect(),
            None => self.players.keys().cloned().collect(),
        };
        // Nexori may already have given outcomes (NO_CONTEST to players who missed the
        // placement window); overwriting those with LOSS would misreport them.
        let mut decided = self.outcomes.clone();
        if let Some(info) = nexori_sdk::find_active_match_info(&self.match_id) {
            decided.extend(
                info.player_outcomes
                    .iter()
                    .map(|state| canonical(&state.player_uuid)),
            );
        }
        for uuid in &required {
            if !decided.contains(uuid) {
                self.set_outcome(uuid, Outcome::Loss, "did_not_finish");
            }
        }

        let custom_data = self.result_data(winners, &required);
        let result = match nexori_sdk::submit_final_match_result(
            &self.match_id,
            result_reason,
            &custom_data,
        ) {
            Ok(result) => result,
            Err(err) => {
                error!("final result not submitted: {err}");
                return;
            }
        };
        if !result.is_completed() {
            warn!(
                "final result not accepted ({}): {}",
                result.match_status, result.message
            );
            return;
        }
        for uuid in &required {
            let returned = nexori_sdk::return_player_to_lobby(
                &self.match_id,
                uuid,
                config.return_delay_seconds,
                "match_completed",
            );
            if returned.status != ReturnPlayerStatus::Scheduled {
                warn!(
                    "could not return {uuid} ({}): {}",
                    returned.status, returned.message
                );
            }
        }
    }

    /// `customData`: placements use competition ranking, so tied winners share 1, the last
    /// player out comes next, and players who never played share the last place.
    fn result_data<'a>(&'a self, winners: &'a [String], required: &'a [String]) -> ResultData<'a> {
        let mut placements: BTreeMap<&str, usize> = BTreeMap::new();
        for winner in winners {
            placements.insert(winner.as_str(), 1);
        }
        for (rank, uuid) in self.eliminations.iter().rev().enumerate() {
            placements.insert(uuid.as_str(), winners.len() + rank + 1);
        }
        let last = winners.len() + self.eliminations.len() + 1;

        let uuids: BTreeSet<&str> = self
            .players
            .keys()
            .map(String::as_str)
            .chain(required.iter().map(String::as_str))
            .collect();
        let players = uuids
            .into_iter()
            .map(|uuid| {
                let placement = placements.get(uuid).copied().unwrap_or(last);
                let result = match self.players.get(uuid) {
                    Some(player) => PlayerResult {
                        name: &player.name,
                        kills: player.kills,
                        eliminated_at_epoch_ms: player.eliminated_at_epoch_ms,
                        placement,
                    },
                    // Required by the host but never seen by the mod (absent all along).
                    None => PlayerResult {
                        name: "",
                        kills: 0,
                        eliminated_at_epoch_ms: 0,
                        placement,
                    },
                };
                (uuid, result)
            })
            .collect();
        ResultData {
            mode: "last_standing",
            winner_player_uuid: match winners {
                [winner] => Some(winner.as_str()),
                _ => None,
            },
            players,
        }
    }

    fn cancel_timers(&mut self) {
        if let Some(id) = self.time_limit.take() {
            nexori_sdk::cancel_timer(id);
        }
    }

    /// Drops the round (cancellation or runtime closed): pending timers must not fire into a
    /// match that no longer exists.
    pub fn clear(&mut self) {
        self.cancel_timers();
        self.players.clear();
        self.eliminations.clear();
        self.outcomes.clear();
        self.started = false;
    }
}
