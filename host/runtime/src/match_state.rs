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
    pub capacity: i32,
    pub backfill_enabled: bool,
    /// The mode as launched (effective mode is `NONE` unless backfill is enabled).
    pub backfill_mode: String,
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
    pub window_started_at: i64,
    pub window_expires_at: i64,
    pub window_closed_at: i64,
    pub window_close_reason: String,
    pub placement_completed_at: i64,
    pub gate_opened_at: i64,
    pub gate_open_reason: String,
}

impl Placement {
    pub fn window_open(&self) -> bool {
        self.window_started_at > 0 && self.window_closed_at == 0
    }

    pub fn gate_open(&self) -> bool {
        self.gate_opened_at > 0
    }
}

/// An explicit admission close (closeMatchAdmission, shortfall cancellation, runtime end).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplicitClose {
    pub reason_id: String,
    pub message: String,
}

/// A return to lobby waiting for its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingReturn {
    pub at: i64,
    pub reason: String,
}

/// One match. Player sets are `BTreeSet<Uuid>`, whose order is the canonical order (sorted by
/// the lowercase UUID text).
#[derive(Debug, Clone)]
pub struct Match {
    pub match_id: String,
    pub queue_id: String,
    pub arena_id: String,
    pub assignment_id: String,
    pub external_match_id: String,
    pub rules_engine_id: String,
    pub match_source: MatchSource,
    pub admission: AdmissionPolicy,
    pub launch_afk_policy: AfkPolicy,

    pub expected: BTreeSet<Uuid>,
    pub expected_player_count: i32,
    pub minimum_initial_players: i32,
    pub arrived: BTreeSet<Uuid>,
    pub active: BTreeSet<Uuid>,
    pub eliminated: BTreeSet<Uuid>,
    pub spectators: BTreeSet<Uuid>,
    pub names: HashMap<Uuid, String>,
    pub assignment_ids: BTreeMap<Uuid, String>,
    /// Expected players whose placement window was missed; late placements are ignored.
    pub missed_placement: BTreeSet<Uuid>,

    pub outcomes: BTreeMap<Uuid, OutcomeRecord>,
    pub winner: Option<Uuid>,

    pub placement: Placement,
    pub match_started_at: i64,
    pub created_at: i64,
    pub completed_at: i64,
    pub result_submitted_at: i64,
    pub result_hash: String,
    pub last_error: String,

    pub pending_returns: BTreeMap<Uuid, PendingReturn>,
    pub explicit_close: Option<ExplicitClose>,
    pub consumed_backfill_admission_count: i32,
    pub reservation_ids: BTreeSet<String>,
    /// Whether anyone ever arrived; a runtime closes only after it held someone.
    pub runtime_was_occupied: bool,

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

    pub fn arrived_initial_count(&self) -> i32 {
        self.arrived.intersection(&self.expected).count() as i32
    }

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
