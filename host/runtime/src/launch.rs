//! Match creation from a launch context (`match.create`), with the normalisation and defaults
//! of docs/arena-behaviour.md#match-creation.

use std::collections::BTreeSet;

use uuid::Uuid;

use super::Arena;
use super::match_state::{AdmissionPolicy, Match, Placement};
use super::model::*;
use crate::ids::{is_valid_rules_engine_id, normalize_match_id, normalize_text};

/// An expected player of the launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedPlayer {
    /// The player; the same UUID listed twice collapses into one expected player.
    pub uuid: Uuid,
    /// The player's name, raw; kept (trimmed) when not blank, until an arrival names them.
    pub name: String,
    /// The player's assignment id, raw; kept (trimmed) when not blank.
    pub assignment_id: String,
}

/// The launch's backend admission policy.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LaunchAdmission {
    /// `capacity`: the most slots the match may fill; clamped to ≥ 0.
    pub capacity: i64,
    /// `backfillEnabled`: without it the effective mode is `NONE`.
    pub backfill_enabled: bool,
    /// `backfillMode` as sent (`NONE`, `PLACEMENT_ONLY`, `ACTIVE_WINDOW`, any case); trimmed and
    /// uppercased, blank → `NONE`, unknown counts as `NONE`.
    pub backfill_mode: String,
    /// `backfillWindowSeconds`: how long after the start an `ACTIVE_WINDOW` match admits
    /// backfill players; clamped to ≥ 0.
    pub backfill_window_seconds: i64,
}

/// A launch context as received, before normalisation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LaunchSpec {
    /// `matchId`, raw: stored trimmed and lowercased (D1); blank or already live is refused.
    pub match_id: String,
    /// `queueId`, raw; stored trimmed.
    pub queue_id: String,
    /// `arenaId`, raw; stored trimmed.
    pub arena_id: String,
    /// `rulesEngineId`, raw: trimmed with case kept, and refused unless it is at most 64
    /// characters of `[A-Za-z0-9_.-]`; blank is allowed and reaches no mod.
    pub rules_engine_id: String,
    /// `assignmentId`, raw; stored trimmed.
    pub assignment_id: String,
    /// `externalMatchId`, raw: the backend's id for the match; stored trimmed.
    pub external_match_id: String,
    /// `matchSource`; `None` means `LOCAL_FIFO`.
    pub match_source: Option<MatchSource>,
    /// `expectedPlayers`: the initial roster, in the launch's order.
    pub expected_players: Vec<ExpectedPlayer>,
    /// `expectedPlayerCount`; `None` means the number of distinct expected players. Clamped to
    /// ≥ 0.
    pub expected_player_count: Option<i64>,
    /// `minimumInitialPlayers`; `None` or ≤ 0 means every expected player, see
    /// [`normalize_minimum_initial_players`].
    pub minimum_initial_players: Option<i64>,
    /// `initialPlacementWindowSeconds`; `None` or ≤ 0 means 60, above 600 means 600.
    pub initial_placement_window_seconds: Option<i64>,
    /// `admission`; `None` leaves the match without an admission policy (schema version 0), so
    /// it is never reportable.
    pub admission: Option<LaunchAdmission>,
    /// `afkDetectionPolicy`, expected already normalised ([`AfkPolicy::normalized`], as the
    /// bridge does); `None` means disabled, 30 s. Stored as given.
    pub afk_detection_policy: Option<AfkPolicy>,
}

/// Why a launch was refused. The text names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchError {
    /// `matchId` is blank after trimming.
    #[error("matchId cannot be blank")]
    BlankMatchId,
    /// A live match already has this id (normalised); a closed one does not count.
    #[error("match {0:?} already exists")]
    AlreadyExists(String),
    /// The trimmed `rulesEngineId` is longer than 64 characters or has one outside
    /// `[A-Za-z0-9_.-]`.
    #[error("rulesEngineId {0:?} must be at most 64 characters of [A-Za-z0-9_.-]")]
    InvalidRulesEngineId(String),
}

fn clamp_i32(v: i64, lo: i64, hi: i64) -> i32 {
    v.clamp(lo, hi) as i32
}

/// `minimumInitialPlayers` normalisation: the default is all expected players.
///
/// With `max` = min(`expected_player_count`, `expected_uuids`) (or `expected_player_count` when
/// the launch lists no UUIDs): `max` ≤ 0 gives 0, `raw` ≤ 0 gives `max`, else min(`raw`, `max`).
/// Also re-applied after a disconnect lowers the expected count.
pub fn normalize_minimum_initial_players(
    raw: i64,
    expected_player_count: i32,
    expected_uuids: usize,
) -> i32 {
    let max = if expected_uuids > 0 {
        (expected_player_count as i64).min(expected_uuids as i64)
    } else {
        expected_player_count as i64
    };
    if max <= 0 {
        0
    } else if raw <= 0 {
        max as i32
    } else {
        raw.min(max) as i32
    }
}

impl Arena {
    /// Creates a match and opens its placement window; `onMatchCreated` is queued and admission
    /// marked dirty with `MATCH_CREATED`. Answers the stored (normalised) match id.
    ///
    /// # Errors
    ///
    /// [`LaunchError`] when the match id is blank or already live, or the rules engine id is
    /// not acceptable; nothing is created then.
    pub fn create_match(&mut self, spec: LaunchSpec, now: i64) -> Result<String, LaunchError> {
        let match_id = normalize_match_id(&spec.match_id).ok_or(LaunchError::BlankMatchId)?;
        if self.matches.contains_key(&match_id) {
            return Err(LaunchError::AlreadyExists(match_id));
        }
        let rules_engine_id = normalize_text(&spec.rules_engine_id);
        if !is_valid_rules_engine_id(&rules_engine_id) {
            return Err(LaunchError::InvalidRulesEngineId(rules_engine_id));
        }

        let mut expected = BTreeSet::new();
        let mut names = std::collections::HashMap::new();
        let mut assignment_ids = std::collections::BTreeMap::new();
        for p in &spec.expected_players {
            expected.insert(p.uuid);
            let name = normalize_text(&p.name);
            if !name.is_empty() {
                names.insert(p.uuid, name);
            }
            let assignment = normalize_text(&p.assignment_id);
            if !assignment.is_empty() {
                assignment_ids.insert(p.uuid, assignment);
            }
        }
        let expected_player_count = clamp_i32(
            spec.expected_player_count.unwrap_or(expected.len() as i64),
            0,
            i32::MAX as i64,
        );
        let minimum_initial_players = normalize_minimum_initial_players(
            spec.minimum_initial_players.unwrap_or(0),
            expected_player_count,
            expected.len(),
        );
        let window_seconds = match spec.initial_placement_window_seconds.unwrap_or(60) {
            s if s <= 0 => 60,
            s => s.min(600),
        };
        let admission = spec
            .admission
            .map(|a| AdmissionPolicy {
                schema_version: 1,
                capacity: clamp_i32(a.capacity, 0, i32::MAX as i64),
                backfill_enabled: a.backfill_enabled,
                backfill_mode: {
                    let mode = normalize_text(&a.backfill_mode);
                    if mode.is_empty() {
                        "NONE".to_string()
                    } else {
                        mode.to_uppercase()
                    }
                },
                backfill_window_seconds: clamp_i32(a.backfill_window_seconds, 0, i32::MAX as i64),
            })
            .unwrap_or_else(|| AdmissionPolicy {
                backfill_mode: "NONE".to_string(),
                ..Default::default()
            });

        // Only players the arena already tracks learn their launch name here; a presence is
        // made by an arrival (the match keeps the launch names for the rest).
        for (&uuid, name) in &names {
            if let Some(presence) = self.players.get_mut(&uuid)
                && presence.name.is_empty()
            {
                presence.name = name.clone();
            }
        }

        let m = Match {
            match_id: match_id.clone(),
            queue_id: normalize_text(&spec.queue_id),
            arena_id: normalize_text(&spec.arena_id),
            assignment_id: normalize_text(&spec.assignment_id),
            external_match_id: normalize_text(&spec.external_match_id),
            rules_engine_id,
            match_source: spec.match_source.unwrap_or(MatchSource::LocalFifo),
            admission,
            launch_afk_policy: spec.afk_detection_policy.unwrap_or_default(),
            expected,
            expected_player_count,
            minimum_initial_players,
            arrived: BTreeSet::new(),
            active: BTreeSet::new(),
            eliminated: BTreeSet::new(),
            spectators: BTreeSet::new(),
            names,
            assignment_ids,
            missed_placement: BTreeSet::new(),
            outcomes: Default::default(),
            winner: None,
            placement: Placement {
                window_started_at: now,
                window_expires_at: now + window_seconds * 1000,
                ..Placement::default()
            },
            match_started_at: 0,
            created_at: now,
            completed_at: 0,
            result_submitted_at: 0,
            result_hash: String::new(),
            last_error: String::new(),
            pending_returns: Default::default(),
            explicit_close: None,
            consumed_backfill_admission_count: 0,
            reservation_ids: BTreeSet::new(),
            runtime_was_occupied: false,
            afk: Default::default(),
        };
        self.matches.insert(match_id.clone(), m);
        self.emit_match_callback(&match_id, Callback::MatchCreated, "MATCH_CREATED", now);
        self.mark_admission_dirty(&match_id, "MATCH_CREATED");
        Ok(match_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimum_initial_players_defaults_to_everyone_and_is_clamped() {
        assert_eq!(normalize_minimum_initial_players(0, 4, 4), 4);
        assert_eq!(normalize_minimum_initial_players(-3, 4, 4), 4);
        assert_eq!(normalize_minimum_initial_players(2, 4, 4), 2);
        assert_eq!(normalize_minimum_initial_players(9, 4, 3), 3);
        assert_eq!(normalize_minimum_initial_players(2, 0, 0), 0);
    }
}
