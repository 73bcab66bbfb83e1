//! One match's state and the snapshots built from it.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use uuid::Uuid;

use super::afk::MatchAfk;
use super::model::*;

/// The launch policy for backend admission, frozen onto the match
/// (docs/arena-behaviour.md#match-creation).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AdmissionPolicy {
    /// 0 when the launch carried no admission policy.
    pub schema_version: i32,
    /// `admission.capacity`, clamped to ≥ 0: the most slots (initial roster plus consumed
    /// backfill admissions) the match may fill.
    pub capacity: i32,
    /// `admission.backfillEnabled`; without it the effective mode is `NONE`.
    pub backfill_enabled: bool,
    /// The mode as launched (effective mode is `NONE` unless backfill is enabled).
    /// Trimmed and uppercased, blank → `NONE`; an unknown mode is kept here and counts as `NONE`.
    pub backfill_mode: String,
    /// `admission.backfillWindowSeconds`, clamped to ≥ 0: how long after the match started an
    /// `ACTIVE_WINDOW` match still admits backfill players.
    pub backfill_window_seconds: i32,
}

impl AdmissionPolicy {
    /// NONE unless backfill is enabled and the mode parses
    /// (docs/arena-behaviour.md#match-creation).
    pub fn effective_mode(&self) -> BackfillMode {
        if !self.backfill_enabled {
            return BackfillMode::None;
        }
        BackfillMode::parse(&self.backfill_mode).unwrap_or(BackfillMode::None)
    }
}

/// The initial placement window and start gate
/// (docs/arena-behaviour.md#placement-window-and-start-gate).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Placement {
    /// When the window opened (epoch ms): the match's creation time.
    pub window_started_at: i64,
    /// When the window expires (epoch ms): start + `initialPlacementWindowSeconds` × 1000.
    pub window_expires_at: i64,
    /// When the window closed (epoch ms); 0 while it is open.
    pub window_closed_at: i64,
    /// Why it closed (`ALL_INITIAL_PLAYERS_PLACED`, `INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_MET`,
    /// `INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET`); `""` while open.
    pub window_close_reason: String,
    /// When every expected player arrived and was placed (epoch ms); 0 otherwise, also after a
    /// partial-roster start.
    pub placement_completed_at: i64,
    /// When the start gate opened, which is when the match started (D4); 0 while closed.
    pub gate_opened_at: i64,
    /// Why the gate opened (`ALL_INITIAL_PLAYERS_PLACED` or
    /// `INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_MET`); `""` while closed.
    pub gate_open_reason: String,
}

impl Placement {
    /// Whether the window was opened and has not closed yet (it may be past its expiry until
    /// the deadline is run).
    pub fn window_open(&self) -> bool {
        self.window_started_at > 0 && self.window_closed_at == 0
    }

    /// Whether the start gate opened, i.e. the match started (D4).
    pub fn gate_open(&self) -> bool {
        self.gate_opened_at > 0
    }
}

/// An explicit admission close (closeMatchAdmission, shortfall cancellation, runtime end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplicitClose {
    /// The close reason reported to the backend: `EXPLICIT_MOD_REQUEST` and the other
    /// `EXPLICIT_*` ids, `INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET`, `RULES_MOD_FAULT` or
    /// `MATCH_RUNTIME_ENDED`.
    pub reason_id: String,
    /// A human-readable message kept with the close (for `closeMatchAdmission`, the caller's
    /// message, trimmed).
    pub message: String,
}

/// A return to lobby waiting for its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReturn {
    /// When the return falls due (epoch ms).
    pub at: i64,
    /// The reason sent with `player.return`, trimmed; `""` means `MATCH_WON` for the winner and
    /// `ELIMINATED` for anyone else.
    pub reason: String,
}

/// One match. Player sets are `BTreeSet<Uuid>`, whose order is the canonical order (sorted by
/// the lowercase UUID text).
#[derive(Debug, Clone)]
pub struct Match {
    /// The match id, trimmed and lowercased (D1); the key of every lookup.
    pub match_id: String,
    /// The launch's `queueId`, trimmed (`""` when absent).
    pub queue_id: String,
    /// The launch's `arenaId`, trimmed (`""` when absent).
    pub arena_id: String,
    /// The launch's `assignmentId`, trimmed (`""` when absent).
    pub assignment_id: String,
    /// The backend's id for the match, trimmed; `""` when absent, which makes a result
    /// `EXTERNAL_MATCH_MISSING` and the match unreportable for admission.
    pub external_match_id: String,
    /// The launch's `rulesEngineId`, trimmed with case kept: selects the mod that owns the match
    /// (D13). `""` reaches no mod.
    pub rules_engine_id: String,
    /// `LOCAL_FIFO` unless the launch said `BACKEND_DRIVEN`.
    pub match_source: MatchSource,
    /// The launch's admission policy (schema version 0 when it had none).
    pub admission: AdmissionPolicy,
    /// The launch's `afkDetectionPolicy`, or disabled/30 s; the fallback under the match and
    /// player overrides in [`MatchAfk`].
    pub launch_afk_policy: AfkPolicy,

    /// The launch's expected (initial) players.
    pub expected: BTreeSet<Uuid>,
    /// How many expected players must be placed for placement to complete; lowered by a
    /// disconnect before the start gate opens (docs/arena-behaviour.md#disconnects).
    pub expected_player_count: i32,
    /// How many expected players must be placed when the window expires for the match to start
    /// with a partial roster rather than be cancelled.
    pub minimum_initial_players: i32,
    /// Players who arrived (initial and backfill); they stay arrived after a disconnect.
    pub arrived: BTreeSet<Uuid>,
    /// Players placed and still in the match (left on disconnect and on a due return).
    pub active: BTreeSet<Uuid>,
    /// Players given `LOSS` or `DISCONNECTED`: kept through a later `NO_CONTEST`, removed by a
    /// `WIN` or when they leave the server.
    pub eliminated: BTreeSet<Uuid>,
    /// Players currently spectating (`setPlayerSpectator`).
    pub spectators: BTreeSet<Uuid>,
    /// Non-blank names from the launch and arrivals, last one seen winning; the arena's
    /// presence name takes precedence when it has one.
    pub names: HashMap<Uuid, String>,
    /// Non-blank assignment ids from the launch and arrivals, reported as
    /// `assignmentIdsByPlayerUuid`.
    pub assignment_ids: BTreeMap<Uuid, String>,
    /// Expected players whose placement window was missed; late placements are ignored.
    pub missed_placement: BTreeSet<Uuid>,

    /// Each player's latest outcome, from `setPlayerOutcome` or set by Nexori (missed window,
    /// shortfall, fault policy).
    pub outcomes: BTreeMap<Uuid, OutcomeRecord>,
    /// The player most recently given `WIN`, cleared when that player gets another outcome or
    /// leaves the server; decides `MATCH_WON` for a return without a reason. A `WIN` completes
    /// nothing (D3).
    pub winner: Option<Uuid>,

    /// The initial placement window and start gate.
    pub placement: Placement,
    /// When the start gate opened (epoch ms), which starts the `ACTIVE_WINDOW` clock; 0 before.
    pub match_started_at: i64,
    /// When `match.create` created the match (epoch ms).
    pub created_at: i64,
    /// When the match completed (epoch ms): accepted result, shortfall, fault policy or manual
    /// end; 0 while it is not completed.
    pub completed_at: i64,
    /// When a result was accepted and recorded (epoch ms); 0 when none was, including a match
    /// completed without a result.
    pub result_submitted_at: i64,
    /// The payload hash of the recorded result (docs/arena-behaviour.md#payload-hash), against
    /// which a re-submission is compared; `""` without one.
    pub result_hash: String,
    /// The latest notable reason: a disconnect, a spectator reason, a result's reason, a manual
    /// end, a fault or a validation failure of a Nexori-made result. Not an error in every case.
    pub last_error: String,

    /// Scheduled returns to lobby, at most one per player (a newer one replaces the older).
    pub pending_returns: BTreeMap<Uuid, PendingReturn>,
    /// Set once admission was closed explicitly; `None` while the mode alone decides.
    pub explicit_close: Option<ExplicitClose>,
    /// How many backfill arrivals were admitted; counts towards the admitted slots.
    pub consumed_backfill_admission_count: i32,
    /// Reservation ids of accepted backfill arrivals (exact text), for `DUPLICATE_RESERVATION`.
    pub reservation_ids: BTreeSet<String>,
    /// Whether anyone ever arrived. A runtime nobody occupied closes only once its match
    /// completed (D14); one that held someone closes as soon as it is empty.
    pub runtime_was_occupied: bool,

    /// AFK detection state, policy overrides and the `nexoriAfk` report.
    pub afk: MatchAfk,
}

impl Match {
    /// hasPlayer (docs/arena-behaviour.md#conventions): active ∪ eliminated ∪ spectators ∪ arrived
    /// ∪ expected.
    pub fn has_player(&self, player: Uuid) -> bool {
        self.active.contains(&player)
            || self.eliminated.contains(&player)
            || self.spectators.contains(&player)
            || self.arrived.contains(&player)
            || self.expected.contains(&player)
    }

    /// Whether the match completed (result, shortfall, fault policy or manual end); a completed
    /// match refuses outcome, spectator and AFK changes with `MATCH_ALREADY_COMPLETED`.
    pub fn is_completed(&self) -> bool {
        self.completed_at > 0
    }

    /// D2: expected ∪ arrived ∪ active ∪ eliminated, insertion-ordered, each list canonical.
    pub fn required_players(&self) -> Vec<Uuid> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::with_capacity(self.expected.len() + self.arrived.len());
        for set in [
            &self.expected,
            &self.arrived,
            &self.active,
            &self.eliminated,
        ] {
            for &uuid in set {
                if seen.insert(uuid) {
                    out.push(uuid);
                }
            }
        }
        out
    }

    /// Everyone the match knows, for clean-up.
    pub fn all_players(&self) -> BTreeSet<Uuid> {
        let mut all = self.expected.clone();
        all.extend(&self.arrived);
        all.extend(&self.active);
        all.extend(&self.eliminated);
        all.extend(&self.spectators);
        all
    }

    /// Expected players who arrived (backfill players are not counted).
    pub fn arrived_initial_count(&self) -> i32 {
        self.arrived.intersection(&self.expected).count() as i32
    }

    /// Expected players who are active, i.e. placed and still in the match.
    pub fn placed_initial_count(&self) -> i32 {
        self.active.intersection(&self.expected).count() as i32
    }

    /// docs/arena-behaviour.md#placement-window-and-start-gate: every expected initial player
    /// arrived and was placed.
    pub fn placement_complete(&self) -> bool {
        self.expected_player_count > 0
            && self.arrived_initial_count() >= self.expected_player_count
            && self.placed_initial_count() >= self.expected_player_count
    }

    /// Whether the start gate is still waiting for the initial placement window.
    pub fn placement_pending(&self) -> bool {
        !self.placement.gate_open() && !self.is_completed() && self.placement.window_open()
    }

    /// The earliest time something in this match falls due.
    pub fn next_deadline(&self) -> Option<i64> {
        // Every launch's window falls due, one that expects nobody included (Decision D14).
        let window =
            (self.placement.window_open() && !self.placement.gate_open() && !self.is_completed())
                .then_some(self.placement.window_expires_at);
        let returns = self.pending_returns.values().map(|r| r.at).min();
        let afk = self.afk.next_deadline();
        [window, returns, afk].into_iter().flatten().min()
    }

    /// `NexoriMatchPlacementState` as of now (`findMatchPlacementState`, every lifecycle event).
    pub fn placement_state(&self) -> PlacementState {
        let p = &self.placement;
        PlacementState {
            expected_players: self.expected_player_count,
            arrived_players: self.arrived_initial_count(),
            placed_players: self.placed_initial_count(),
            placement_complete: p.placement_completed_at > 0,
            minimum_initial_players: self.minimum_initial_players,
            initial_placement_window_open: p.window_open(),
            initial_placement_window_started_at_epoch_ms: p.window_started_at,
            initial_placement_window_expires_at_epoch_ms: p.window_expires_at,
            initial_placement_window_closed_at_epoch_ms: p.window_closed_at,
            initial_placement_window_close_reason: p.window_close_reason.clone(),
            start_gate_open: p.gate_open(),
            start_gate_opened_at_epoch_ms: p.gate_opened_at,
            start_gate_open_reason: p.gate_open_reason.clone(),
        }
    }

    /// The snapshot a match-level callback carries, with `reason` and event time `now` (epoch
    /// ms).
    pub fn lifecycle_event(&self, reason: &str, now: i64) -> MatchLifecycleEvent {
        MatchLifecycleEvent {
            match_id: self.match_id.clone(),
            queue_id: self.queue_id.clone(),
            arena_id: self.arena_id.clone(),
            assignment_id: self.assignment_id.clone(),
            external_match_id: self.external_match_id.clone(),
            rules_engine_id: self.rules_engine_id.clone(),
            match_resolution_trigger_id: "none".to_string(),
            expected_player_uuids: self.expected.iter().copied().collect(),
            arrived_player_uuids: self.arrived.iter().copied().collect(),
            active_player_uuids: self.active.iter().copied().collect(),
            spectator_player_uuids: self.spectators.iter().copied().collect(),
            required_result_player_uuids: self.required_players(),
            placement_state: self.placement_state(),
            reason: reason.to_string(),
            created_at_epoch_ms: self.created_at,
            event_at_epoch_ms: now,
        }
    }

    /// `NexoriActiveMatchInfo` (`findActiveMatchInfo`, and the trace's final `matches`).
    pub fn info(&self) -> ActiveMatchInfo {
        ActiveMatchInfo {
            match_id: self.match_id.clone(),
            queue_id: self.queue_id.clone(),
            arena_id: self.arena_id.clone(),
            assignment_id: self.assignment_id.clone(),
            external_match_id: self.external_match_id.clone(),
            rules_engine_id: self.rules_engine_id.clone(),
            match_resolution_trigger_id: "none".to_string(),
            expected_player_uuids: self.expected.iter().copied().collect(),
            arrived_player_uuids: self.arrived.iter().copied().collect(),
            active_player_uuids: self.active.iter().copied().collect(),
            eliminated_player_uuids: self.eliminated.iter().copied().collect(),
            spectator_player_uuids: self.spectators.iter().copied().collect(),
            afk_player_uuids: self.afk.afk_players(),
            required_result_player_uuids: self.required_players(),
            player_outcomes: self.outcomes.clone(),
            expected_player_count: self.expected_player_count,
            completed_at_epoch_ms: self.completed_at,
            result_submitted_at_epoch_ms: self.result_submitted_at,
        }
    }
}
