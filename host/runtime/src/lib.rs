//! The Nexori match runtime as a pure state machine.
//!
//! Nothing here touches wasm, IO or the system clock: every operation takes the current time as
//! `now` (epoch ms) and records what the outside world must learn as [`RuntimeEvent`]s in a queue
//! the host drains. The host dispatches those events to mods *after* the operation that produced
//! them returned, in collection order, like Nexori's reference
//! (docs/arena-behaviour.md#lifecycle-callbacks), so a mod's API call made from inside a callback
//! sees a consistent runtime and its own effects are queued behind the callback that caused them.
//!
//! Each Nexori concept has its own module: [`launch`] (match creation), [`arrivals`] (arrive,
//! place, disconnect), [`placement`] (window and start gate), [`outcomes`], [`spectators`],
//! [`returns`] (returns to lobby and manual end), [`afk`], [`admission`], [`results`] (final
//! result submission) and [`custom_data`]; [`ids`] spells identifiers as Nexori does and [`clock`]
//! is the injected clock.
//!
//! This crate owns the behaviour of docs/arena-behaviour.md. It must not depend on wasmtime,
//! tokio, HTTP, SQLite or the file system (its `Cargo.toml` lists none of them), nor on any Nexori
//! crate but `nexori-protocol`, whose command vocabulary it emits.
//!
//! **Decision D14 (ours): nobody came.** The reference closes a runtime only after it held
//! someone, and never reconciles a launch that expects nobody; with `match.create` separate from
//! the first arrival, both would keep a match (and its mod instance) forever. Here a runtime
//! nobody ever occupied closes as soon as its match completed (shortfall result, fault policy,
//! manual end or a mod's result), and a launch with `expectedPlayerCount` 0 has a placement
//! window like any other: with nobody placed when it expires it is cancelled as a shortfall
//! (no required player, so no result), else it starts with who is there. A player who is
//! offline and in no live match is forgotten, so the player map holds only the players the
//! arena can still act on.

#![warn(missing_docs)]

pub mod admission;
pub mod afk;
pub mod arrivals;
pub mod clock;
pub mod custom_data;
pub mod faults;
pub mod ids;
pub mod launch;
pub mod match_state;
pub mod model;
pub mod outcomes;
pub mod ownership;
pub mod placement;
pub mod results;
pub mod returns;
pub mod spectators;

use std::collections::{BTreeMap, HashMap, VecDeque};

use uuid::Uuid;

use crate::ids::{match_key, normalize_match_id};
pub use match_state::Match;
pub use model::*;
use nexori_protocol::commands::GameServerCommand;

/// Messages shared by several API methods (docs/arena-behaviour.md#api-methods). They are part of
/// the contract: mods see them word for word, as the reference words them.
pub mod messages {
    /// `MATCH_MISSING` for an id that names no live match the caller may see (unknown, closed or
    /// owned by another mod's rules engine id, D13).
    pub const MATCH_NOT_ACTIVE: &str = "Match is not active.";
    /// `MATCH_MISSING` for a match id that is blank after trimming.
    pub const MATCH_ID_BLANK: &str = "Match id cannot be blank.";
    /// `MATCH_ALREADY_COMPLETED` from the player-state methods once the match completed; also
    /// `submitFinalMatchResult`'s `ALREADY_SUBMITTED` (same payload hash) and `INVALID_RESULT`
    /// (match completed without a result) answers.
    pub const RESULT_ALREADY_SUBMITTED: &str = "Match result was already submitted.";
    /// `PLAYER_MISSING`: the player is not part of the match ("hasPlayer"), or the argument was
    /// not a UUID.
    pub const PLAYER_NOT_IN_MATCH: &str = "Player is not part of the active match.";
}

/// How long closed matches stay answerable to lookups from the trace and reporting (the
/// reference's closed-match memory).
const CLOSED_MATCH_MEMORY: usize = 2048;

/// What the host must do after a runtime operation.
// Callbacks are most of these and the largest variant; boxing their payload would add an
// allocation to every lifecycle callback for the sake of the rarer, smaller variants.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum RuntimeEvent {
    /// Call a listener of the mod that registered `rules_engine_id`.
    Callback {
        /// The match's `rulesEngineId`; only an instance that registered a listener for exactly
        /// this id (case-sensitive) receives the callback.
        rules_engine_id: String,
        /// Which listener method to call.
        callback: Callback,
        /// The record passed to it, a snapshot taken when the event was queued.
        payload: CallbackPayload,
    },
    /// Tell the game server something.
    Command(GameServerCommand),
    /// A result Nexori made itself (shortfall cancellation, fault policy) to report (D5).
    NexoriResult(Box<results::AcceptedResult>),
    /// The match's admission state may have changed (docs/arena-behaviour.md#change-reasons).
    AdmissionDirty {
        /// The match, as stored (normalised by [`ids::normalize_match_id`]).
        match_id: String,
        /// The change reason the admission publisher coalesces, e.g. `MATCH_CREATED` or
        /// `EXPLICIT_MOD_REQUEST`.
        reason: String,
    },
    /// A backfill arrival consumed a reservation; it goes out with the next admission snapshot.
    AdmissionReservationConsumed {
        /// The match, as stored.
        match_id: String,
        /// The arrival's `admissionReservationId`, trimmed; reported in
        /// `consumedAdmissionReservationIds` until a snapshot carrying it is acknowledged.
        reservation_id: String,
    },
    /// A player of the match left the server; the owning mod is told.
    PlayerDisconnected {
        /// The live match the player was in, as stored.
        match_id: String,
        /// The match's `rulesEngineId`, which selects the mod to tell.
        rules_engine_id: String,
        /// The player who left.
        player: Uuid,
        /// The `player.disconnect` reason, trimmed (`""` when none was given).
        reason: String,
        /// When the disconnect was handled, in epoch ms.
        at_epoch_ms: i64,
    },
}

/// The record a callback carries.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackPayload {
    /// A match-level callback (`onMatchCreated`, `onMatchStartAllowed`, `onMatchCompleted`, …).
    Match(MatchLifecycleEvent),
    /// A player-level callback: `onPlayerArrived`.
    Player(PlayerMatchLifecycleEvent),
    /// `onPlayerPlacementConfirmed`.
    Placement(PlayerPlacementLifecycleEvent),
    /// `onPlayerAfkChanged`, for AFK listeners.
    Afk(PlayerAfkChangedEvent),
}

impl CallbackPayload {
    /// The match the callback is about, as stored (trimmed and lowercased).
    pub fn match_id(&self) -> &str {
        match self {
            Self::Match(e) => &e.match_id,
            Self::Player(e) => &e.match_event.match_id,
            Self::Placement(e) => &e.player.match_event.match_id,
            Self::Afk(e) => &e.match_id,
        }
    }

    /// The player the callback is about; `None` for a match-level callback.
    pub fn player(&self) -> Option<Uuid> {
        match self {
            Self::Match(_) => None,
            Self::Player(e) => Some(e.player_uuid),
            Self::Placement(e) => Some(e.player.player_uuid),
            Self::Afk(e) => Some(e.player_uuid),
        }
    }

    /// The callback's reason (e.g. `PLAYER_ARRIVED`); for an AFK change, the AFK source's Java
    /// name (e.g. `IDLE_TIMEOUT`).
    pub fn reason(&self) -> &str {
        match self {
            Self::Match(e) => &e.reason,
            Self::Player(e) => &e.reason,
            Self::Placement(e) => &e.player.reason,
            Self::Afk(e) => e.source.as_str(),
        }
    }
}

/// Which shared check refused a player-state call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlayerCheck {
    MatchMissing,
    Completed,
    PlayerMissing,
}

impl PlayerCheck {
    /// The status each API method answers for this check.
    pub(crate) fn status<S: PlayerCheckStatus>(self) -> S {
        match self {
            Self::MatchMissing => S::MATCH_MISSING,
            Self::Completed => S::MATCH_ALREADY_COMPLETED,
            Self::PlayerMissing => S::PLAYER_MISSING,
        }
    }
}

/// A status enum that has the three answers of the shared player checks.
pub(crate) trait PlayerCheckStatus {
    const MATCH_MISSING: Self;
    const MATCH_ALREADY_COMPLETED: Self;
    const PLAYER_MISSING: Self;
}

macro_rules! player_check_status {
    ($($status:ty),+) => {$(
        impl PlayerCheckStatus for $status {
            const MATCH_MISSING: Self = Self::MatchMissing;
            const MATCH_ALREADY_COMPLETED: Self = Self::MatchAlreadyCompleted;
            const PLAYER_MISSING: Self = Self::PlayerMissing;
        }
    )+};
}
player_check_status!(
    SetPlayerOutcomeStatus,
    SetPlayerSpectatorStatus,
    SetAfkPolicyStatus,
    SetPlayerAfkStatus
);

/// Settings the runtime needs from the host configuration.
#[derive(Debug, Clone, Default)]
pub struct RuntimeSettings {
    /// Whether admission-state reporting is enabled and usable; `closeMatchAdmission` answers
    /// `REPORTING_DISABLED` otherwise.
    pub admission_reporting_usable: bool,
}

/// Where a player is, across matches (a player belongs to one match at a time).
#[derive(Debug, Clone, Default)]
pub(crate) struct Presence {
    pub match_id: Option<String>,
    pub online: bool,
    pub name: String,
}

/// All matches of one arena server.
#[derive(Debug, Default)]
pub struct Arena {
    pub(crate) matches: BTreeMap<String, Match>,
    /// Matches whose runtime closed, kept for final snapshots; bounded.
    pub(crate) closed: BTreeMap<String, Match>,
    closed_order: VecDeque<String>,
    pub(crate) players: HashMap<Uuid, Presence>,
    pub(crate) events: VecDeque<RuntimeEvent>,
    /// The host configuration the runtime reads (see [`RuntimeSettings`]).
    pub settings: RuntimeSettings,
    /// Set while a mod's call runs: see [`ownership`].
    pub(crate) scope: Option<ownership::Scope>,
}

impl Arena {
    /// An arena with no matches, no players and no queued events.
    pub fn new(settings: RuntimeSettings) -> Self {
        Self {
            settings,
            ..Self::default()
        }
    }

    /// Takes the events collected so far, oldest first.
    pub fn drain_events(&mut self) -> impl Iterator<Item = RuntimeEvent> + '_ {
        self.events.drain(..)
    }

    /// Takes the oldest queued event, if any. The host delivers events one at a time this way,
    /// so that events queued by a callback it is delivering land behind the ones already waiting.
    pub fn next_event(&mut self) -> Option<RuntimeEvent> {
        self.events.pop_front()
    }

    /// Takes the queued commands for the game server out of the event queue. Commands need no
    /// mod, so the host sends them as soon as the operation that issued them returns, while
    /// callbacks wait their turn.
    pub fn take_commands(&mut self) -> Vec<GameServerCommand> {
        if !self
            .events
            .iter()
            .any(|e| matches!(e, RuntimeEvent::Command(_)))
        {
            return Vec::new();
        }
        let mut commands = Vec::new();
        self.events.retain(|e| match e {
            RuntimeEvent::Command(c) => {
                commands.push(c.clone());
                false
            }
            _ => true,
        });
        commands
    }

    /// Whether any event is waiting to be taken.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// The live match with this (raw) id, looked up trimmed and lowercased (D1).
    pub fn get(&self, match_id: &str) -> Option<&Match> {
        self.matches
            .get(match_key(match_id)?.as_ref())
            .filter(|m| self.visible(m))
    }

    /// A live or recently closed match, for final snapshots.
    pub fn get_any(&self, match_id: &str) -> Option<&Match> {
        let id = match_key(match_id)?;
        self.matches
            .get(id.as_ref())
            .or_else(|| self.closed.get(id.as_ref()))
    }

    /// Ids of live matches, sorted.
    pub fn match_ids(&self) -> impl Iterator<Item = &str> {
        self.matches.keys().map(String::as_str)
    }

    /// Every match this arena ever held (live, then closed ones still remembered).
    pub fn all_matches(&self) -> impl Iterator<Item = &Match> {
        self.matches.values().chain(self.closed.values())
    }

    /// The rules engine id of a live match.
    pub fn rules_engine_id(&self, match_id: &str) -> Option<&str> {
        self.get(match_id).map(|m| m.rules_engine_id.as_str())
    }

    // ---------------------------------------------- queries (docs/arena-behaviour.md#api-methods)

    /// `findActiveMatchId`: the live match the player is in, if the caller may see it (D13).
    pub fn find_active_match_id(&self, player: Uuid) -> Option<String> {
        let id = self.players.get(&player)?.match_id.clone()?;
        self.get(&id).map(|m| m.match_id.clone())
    }

    /// `findActivePlayerUuid`: a UUID token is returned iff that player is part of the match;
    /// otherwise a case-insensitive name match among the active, online players. A blank token,
    /// or a blank, unknown or foreign match, answers `None`.
    pub fn find_active_player_uuid(&self, match_id: &str, token: &str) -> Option<Uuid> {
        let m = self.get(match_id)?;
        let token = crate::ids::java_trim(token);
        if token.is_empty() {
            return None;
        }
        if let Some(uuid) = crate::ids::parse_uuid(token) {
            return m.has_player(uuid).then_some(uuid);
        }
        let wanted = token.to_lowercase();
        // The name the arrival gave, else the launch's: an arrival may leave it out.
        m.active.iter().copied().find(|uuid| {
            self.is_online(*uuid) && self.player_name(m, *uuid).to_lowercase() == wanted
        })
    }

    /// `findActiveMatchInfo`: a snapshot of a live, visible match; `None` for a blank, unknown,
    /// closed or foreign id.
    pub fn find_active_match_info(&self, match_id: &str) -> Option<ActiveMatchInfo> {
        self.get(match_id).map(Match::info)
    }

    /// `findMatchPlacementState`: the placement window and start gate of a live, visible match.
    pub fn find_match_placement_state(&self, match_id: &str) -> Option<PlacementState> {
        self.get(match_id).map(Match::placement_state)
    }

    /// `findMatchResultRequirements`: the match id and the players a final result must give an
    /// outcome to (expected ∪ arrived ∪ active ∪ eliminated, D2).
    pub fn find_match_result_requirements(
        &self,
        match_id: &str,
    ) -> Option<MatchResultRequirements> {
        self.get(match_id).map(|m| MatchResultRequirements {
            match_id: m.match_id.clone(),
            required_player_uuids: m.required_players(),
        })
    }

    /// Deprecated (D12): `"none"` for active matches.
    pub fn find_match_resolution_trigger_id(&self, match_id: &str) -> Option<String> {
        self.get(match_id).map(|_| "none".to_string())
    }

    // ------------------------------------------------------------------ time

    /// The earliest time at which [`Arena::advance`] has something to do.
    pub fn next_deadline(&self) -> Option<i64> {
        self.matches
            .values()
            .filter_map(|m| m.next_deadline())
            .min()
    }

    /// Runs everything that falls due at or before `now`: placement windows, returns and AFK
    /// timeouts, in match id order.
    pub fn advance(&mut self, now: i64) {
        let ids: Vec<String> = self
            .matches
            .values()
            .filter(|m| m.next_deadline().is_some_and(|at| at <= now))
            .map(|m| m.match_id.clone())
            .collect();
        for id in ids {
            self.reconcile(&id, now);
            self.run_due_returns(&id, now);
            self.run_afk_timeouts(&id, now);
            self.close_runtime_if_empty(&id, now);
        }
    }

    // ------------------------------------------------------------------ helpers

    /// Resolves a match id for an API call: the stored id, or the `MATCH_MISSING` message.
    pub(crate) fn live_match_id(&self, match_id: &str) -> Result<String, &'static str> {
        let id = normalize_match_id(match_id).ok_or(messages::MATCH_ID_BLANK)?;
        if self.get(&id).is_some() {
            Ok(id)
        } else {
            Err(messages::MATCH_NOT_ACTIVE)
        }
    }

    /// The checks every player-state method shares (docs/arena-behaviour.md#api-methods): match,
    /// completion, membership. `Err` carries which check failed and its message.
    pub(crate) fn check_player_update(
        &self,
        match_id: &str,
        player: Option<Uuid>,
        check_completed: bool,
    ) -> Result<(String, Uuid), (PlayerCheck, &'static str)> {
        let id = self
            .live_match_id(match_id)
            .map_err(|msg| (PlayerCheck::MatchMissing, msg))?;
        let m = &self.matches[&id];
        if check_completed && m.is_completed() {
            return Err((PlayerCheck::Completed, messages::RESULT_ALREADY_SUBMITTED));
        }
        match player {
            Some(p) if m.has_player(p) => Ok((id, p)),
            _ => Err((PlayerCheck::PlayerMissing, messages::PLAYER_NOT_IN_MATCH)),
        }
    }

    pub(crate) fn emit(&mut self, event: RuntimeEvent) {
        self.events.push_back(event);
    }

    pub(crate) fn emit_command(&mut self, command: GameServerCommand) {
        self.emit(RuntimeEvent::Command(command));
    }

    pub(crate) fn mark_admission_dirty(&mut self, match_id: &str, reason: &str) {
        self.emit(RuntimeEvent::AdmissionDirty {
            match_id: match_id.to_string(),
            reason: reason.to_string(),
        });
    }

    /// Queues a match-level callback carrying a snapshot taken now.
    pub fn emit_match_callback(
        &mut self,
        match_id: &str,
        callback: Callback,
        reason: &str,
        now: i64,
    ) {
        let Some(m) = self.matches.get(match_id) else {
            return;
        };
        let event = m.lifecycle_event(reason, now);
        let rules_engine_id = m.rules_engine_id.clone();
        self.emit(RuntimeEvent::Callback {
            rules_engine_id,
            callback,
            payload: CallbackPayload::Match(event),
        });
    }

    pub(crate) fn player_event(
        &self,
        m: &Match,
        player: Uuid,
        reason: &str,
        now: i64,
    ) -> PlayerMatchLifecycleEvent {
        PlayerMatchLifecycleEvent {
            match_event: m.lifecycle_event(reason, now),
            player_uuid: player,
            player_name: self.player_name(m, player),
            player_assignment_id: m.assignment_ids.get(&player).cloned().unwrap_or_default(),
            reason: reason.to_string(),
            event_at_epoch_ms: now,
        }
    }

    /// The last non-blank name seen for the player.
    pub(crate) fn player_name(&self, m: &Match, player: Uuid) -> String {
        self.players
            .get(&player)
            .map(|p| p.name.clone())
            .filter(|n| !n.is_empty())
            .or_else(|| m.names.get(&player).cloned())
            .unwrap_or_default()
    }

    pub(crate) fn is_online(&self, player: Uuid) -> bool {
        self.players.get(&player).is_some_and(|p| p.online)
    }

    /// docs/arena-behaviour.md#closing-a-runtime: a runtime that went empty (no active players, no
    /// pending returns, no spectators) with no initial placement pending is closed and forgotten.
    /// Decision D14: a runtime nobody ever occupied closes too, once its match completed (a
    /// shortfall, a fault, a manual end or a result), so a no-show match frees its instance and
    /// timers.
    pub(crate) fn close_runtime_if_empty(&mut self, match_id: &str, now: i64) {
        let Some(m) = self.matches.get(match_id) else {
            return;
        };
        // Spectators who left the server no longer hold the runtime open.
        let spectator_present = m.spectators.iter().any(|p| self.is_online(*p));
        if !m.active.is_empty()
            || !m.pending_returns.is_empty()
            || spectator_present
            || m.placement_pending()
            || (!m.runtime_was_occupied && !m.is_completed())
        {
            return;
        }
        self.emit_match_callback(
            match_id,
            Callback::MatchRuntimeClosed,
            "MATCH_RUNTIME_CLOSED",
            now,
        );
        self.close_admission_on_runtime_end(match_id);
        let Some(m) = self.matches.remove(match_id) else {
            return;
        };
        for player in m.all_players() {
            if let Some(p) = self.players.get_mut(&player)
                && p.match_id.as_deref() == Some(match_id)
            {
                p.match_id = None;
            }
            self.forget_player_if_gone(player);
        }
        self.remember_closed(m);
    }

    /// Drops what the arena knows about a player in no live match, whether they left the server
    /// or went back to its lobby: nothing reads it any more (a later arrival starts afresh), and
    /// keeping it would grow the map with every player who ever played on this server, however
    /// the game server reports (or fails to report) their leaving.
    pub(crate) fn forget_player_if_gone(&mut self, player: Uuid) {
        if self
            .players
            .get(&player)
            .is_some_and(|p| p.match_id.is_none())
        {
            self.players.remove(&player);
        }
    }

    /// Players the arena keeps presence for (online, or in a live match); for the gauge and
    /// the leak tests.
    #[doc(hidden)]
    pub fn players_tracked(&self) -> usize {
        self.players.len()
    }

    /// Closed matches still remembered for final snapshots (bounded).
    #[doc(hidden)]
    pub fn closed_remembered(&self) -> usize {
        self.closed.len()
    }

    fn remember_closed(&mut self, m: Match) {
        let id = m.match_id.clone();
        if self.closed.insert(id.clone(), m).is_none() {
            self.closed_order.push_back(id);
        }
        while self.closed_order.len() > CLOSED_MATCH_MEMORY {
            if let Some(old) = self.closed_order.pop_front() {
                self.closed.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests;
