//! Conversions between the runtime's records and the `nexori:minigame` WIT records (a batch of
//! game events is built in `game_event_batch`).

use uuid::Uuid;

use super::since_v1_1_0::types as wit;
use nexori_runtime::model as rt;

fn uuids(list: &[Uuid]) -> Vec<String> {
    list.iter().map(|u| u.hyphenated().to_string()).collect()
}

/// A `game.event` for `game-events.on-game-event` (one call per event, for 1.0.0 mods). Takes
/// the event's strings: it is delivered once.
pub fn game_event(
    event: &mut crate::bridge::GameEventMessage,
    match_id: &str,
    at_epoch_ms: i64,
) -> wit::GameEvent {
    wit::GameEvent {
        match_id: match_id.to_string(),
        kind: std::mem::take(&mut event.kind),
        player: event.player.map(|p| p.hyphenated().to_string()),
        data: event.data.take(),
        at_epoch_ms,
    }
}

/// The placement state of a match (docs/arena-behaviour.md#lifecycle-callbacks), as
/// `find-match-placement-state` answers it and every lifecycle event carries it.
pub fn placement_state(p: &rt::PlacementState) -> wit::MatchPlacementState {
    wit::MatchPlacementState {
        expected_players: p.expected_players,
        arrived_players: p.arrived_players,
        placed_players: p.placed_players,
        placement_complete: p.placement_complete,
        minimum_initial_players: p.minimum_initial_players,
        initial_placement_window_open: p.initial_placement_window_open,
        initial_placement_window_started_at_epoch_ms: p
            .initial_placement_window_started_at_epoch_ms,
        initial_placement_window_expires_at_epoch_ms: p
            .initial_placement_window_expires_at_epoch_ms,
        initial_placement_window_closed_at_epoch_ms: p.initial_placement_window_closed_at_epoch_ms,
        initial_placement_window_close_reason: p.initial_placement_window_close_reason.clone(),
        start_gate_open: p.start_gate_open,
        start_gate_opened_at_epoch_ms: p.start_gate_opened_at_epoch_ms,
        start_gate_open_reason: p.start_gate_open_reason.clone(),
    }
}

/// The snapshot a match-level lifecycle callback (`onMatchCreated`, `onMatchStartAllowed`,
/// `onMatchCompleted`, ...) receives; UUID lists are written lowercase and hyphenated.
pub fn match_event(e: &rt::MatchLifecycleEvent) -> wit::MatchLifecycleEvent {
    wit::MatchLifecycleEvent {
        match_id: e.match_id.clone(),
        queue_id: e.queue_id.clone(),
        arena_id: e.arena_id.clone(),
        assignment_id: e.assignment_id.clone(),
        external_match_id: e.external_match_id.clone(),
        rules_engine_id: e.rules_engine_id.clone(),
        match_resolution_trigger_id: e.match_resolution_trigger_id.clone(),
        expected_player_uuids: uuids(&e.expected_player_uuids),
        arrived_player_uuids: uuids(&e.arrived_player_uuids),
        active_player_uuids: uuids(&e.active_player_uuids),
        spectator_player_uuids: uuids(&e.spectator_player_uuids),
        required_result_player_uuids: uuids(&e.required_result_player_uuids),
        placement_state: placement_state(&e.placement_state),
        reason: e.reason.clone(),
        created_at_epoch_ms: e.created_at_epoch_ms,
        event_at_epoch_ms: e.event_at_epoch_ms,
    }
}

/// The event of a player-level lifecycle callback (`onPlayerArrived`), wrapping the match's
/// snapshot.
pub fn player_event(e: &rt::PlayerMatchLifecycleEvent) -> wit::PlayerMatchLifecycleEvent {
    wit::PlayerMatchLifecycleEvent {
        match_: match_event(&e.match_event),
        player_uuid: e.player_uuid.hyphenated().to_string(),
        player_name: e.player_name.clone(),
        player_assignment_id: e.player_assignment_id.clone(),
        reason: e.reason.clone(),
        event_at_epoch_ms: e.event_at_epoch_ms,
    }
}

/// The event of `onPlayerPlacementConfirmed`: the player's event with the placement outcome,
/// world and instance template.
pub fn placement_event(
    e: &rt::PlayerPlacementLifecycleEvent,
) -> wit::PlayerPlacementLifecycleEvent {
    wit::PlayerPlacementLifecycleEvent {
        player: player_event(&e.player),
        placement_outcome: match e.placement_outcome {
            rt::PlacementOutcome::Confirmed => wit::PlayerPlacementOutcome::Confirmed,
            rt::PlacementOutcome::Fallback => wit::PlayerPlacementOutcome::Fallback,
        },
        placement_state: placement_state(&e.placement_state),
        world_name: e.world_name.clone(),
        instance_template_id: e.instance_template_id.clone(),
        event_at_epoch_ms: e.event_at_epoch_ms,
    }
}

/// The WIT form of an AFK transition's source (`IDLE_TIMEOUT`, `PLAYER_INPUT`, ...).
pub fn afk_source(s: rt::AfkSource) -> wit::AfkActivitySource {
    use rt::AfkSource as S;
    match s {
        S::Unknown => wit::AfkActivitySource::Unknown,
        S::IdleTimeout => wit::AfkActivitySource::IdleTimeout,
        S::PlayerInput => wit::AfkActivitySource::PlayerInput,
        S::InventoryPacket => wit::AfkActivitySource::InventoryPacket,
        S::PolicyChange => wit::AfkActivitySource::PolicyChange,
        S::ExternalApi => wit::AfkActivitySource::ExternalApi,
    }
}

/// The event of `onPlayerAfkChanged`, for an AFK listener.
pub fn afk_event(e: &rt::PlayerAfkChangedEvent) -> wit::PlayerAfkChangedEvent {
    wit::PlayerAfkChangedEvent {
        match_id: e.match_id.clone(),
        queue_id: e.queue_id.clone(),
        arena_id: e.arena_id.clone(),
        rules_engine_id: e.rules_engine_id.clone(),
        player_uuid: e.player_uuid.hyphenated().to_string(),
        player_name: e.player_name.clone(),
        afk: e.afk,
        changed_at_epoch_ms: e.changed_at_epoch_ms,
        idle_ms: e.idle_ms,
        source: afk_source(e.source),
    }
}

/// The WIT form of a player outcome (`WIN`, `LOSS`, `DISCONNECTED`, `NO_CONTEST`).
pub fn outcome_to_wit(o: rt::Outcome) -> wit::MatchResultPlayerOutcome {
    match o {
        rt::Outcome::Win => wit::MatchResultPlayerOutcome::Win,
        rt::Outcome::Loss => wit::MatchResultPlayerOutcome::Loss,
        rt::Outcome::Disconnected => wit::MatchResultPlayerOutcome::Disconnected,
        rt::Outcome::NoContest => wit::MatchResultPlayerOutcome::NoContest,
    }
}

/// The runtime form of the outcome a mod passed to `setPlayerOutcome`.
pub fn outcome_from_wit(o: wit::MatchResultPlayerOutcome) -> rt::Outcome {
    match o {
        wit::MatchResultPlayerOutcome::Win => rt::Outcome::Win,
        wit::MatchResultPlayerOutcome::Loss => rt::Outcome::Loss,
        wit::MatchResultPlayerOutcome::Disconnected => rt::Outcome::Disconnected,
        wit::MatchResultPlayerOutcome::NoContest => rt::Outcome::NoContest,
    }
}

/// `NexoriActiveMatchInfo` as `find-active-match-info` answers it: ids, player lists, outcomes
/// (one per player, sorted by UUID) and completion times.
pub fn match_info(i: &rt::ActiveMatchInfo) -> wit::ActiveMatchInfo {
    wit::ActiveMatchInfo {
        match_id: i.match_id.clone(),
        queue_id: i.queue_id.clone(),
        arena_id: i.arena_id.clone(),
        assignment_id: i.assignment_id.clone(),
        external_match_id: i.external_match_id.clone(),
        rules_engine_id: i.rules_engine_id.clone(),
        match_resolution_trigger_id: i.match_resolution_trigger_id.clone(),
        expected_player_uuids: uuids(&i.expected_player_uuids),
        arrived_player_uuids: uuids(&i.arrived_player_uuids),
        active_player_uuids: uuids(&i.active_player_uuids),
        eliminated_player_uuids: uuids(&i.eliminated_player_uuids),
        spectator_player_uuids: uuids(&i.spectator_player_uuids),
        afk_player_uuids: uuids(&i.afk_player_uuids),
        required_result_player_uuids: uuids(&i.required_result_player_uuids),
        player_outcomes: i
            .player_outcomes
            .iter()
            .map(|(uuid, r)| wit::PlayerOutcomeState {
                player_uuid: uuid.hyphenated().to_string(),
                outcome: outcome_to_wit(r.outcome),
                reason: r.reason.clone(),
            })
            .collect(),
        expected_player_count: i.expected_player_count,
        completed_at_epoch_ms: i.completed_at_epoch_ms,
        result_submitted_at_epoch_ms: i.result_submitted_at_epoch_ms,
    }
}

/// What `find-match-result-requirements` answers: the match id and its required players.
pub fn requirements(r: &rt::MatchResultRequirements) -> wit::MatchResultRequirements {
    wit::MatchResultRequirements {
        match_id: r.match_id.clone(),
        required_player_uuids: uuids(&r.required_player_uuids),
    }
}

/// Maps a runtime status enum onto the WIT enum of the same constants.
macro_rules! status_map {
    ($fn:ident, $rt:ty => $wit:ty { $($v:ident),+ $(,)? }) => {
        #[doc = concat!(
            "The `", stringify!($wit), "` a mod receives for a runtime `", stringify!($rt),
            "`: the constant of the same name."
        )]
        pub fn $fn(s: $rt) -> $wit {
            match s { $(<$rt>::$v => <$wit>::$v),+ }
        }
    };
}

status_map!(outcome_status, rt::SetPlayerOutcomeStatus => wit::SetPlayerOutcomeStatus {
    Updated, MatchMissing, PlayerMissing, MatchAlreadyCompleted, InvalidOutcome, InvalidReason,
});
status_map!(spectator_status, rt::SetPlayerSpectatorStatus => wit::SetPlayerSpectatorStatus {
    Updated, MatchMissing, PlayerMissing, MatchAlreadyCompleted, InvalidReason,
});
status_map!(return_status, rt::ReturnPlayerStatus => wit::ReturnPlayerStatus {
    Scheduled, MatchMissing, PlayerMissing, InvalidDelay, InvalidReason,
});
status_map!(afk_policy_status, rt::SetAfkPolicyStatus => wit::SetAfkDetectionPolicyStatus {
    Updated, Cleared, MatchMissing, PlayerMissing, MatchAlreadyCompleted, InvalidPolicy, NotSupported,
});
status_map!(set_afk_status, rt::SetPlayerAfkStatus => wit::SetPlayerAfkStatus {
    Updated, Unchanged, MatchMissing, PlayerMissing, MatchAlreadyCompleted, InvalidRequest, NotSupported,
});
status_map!(completion_status, rt::MatchCompletionStatus => wit::MatchCompletionStatus {
    Accepted, AlreadySubmitted, MatchMissing, InvalidResult,
});
status_map!(backend_status, rt::BackendReportStatus => wit::BackendReportStatus {
    Queued, Disabled, ExternalMatchMissing, StoreFailed, AlreadySubmitted, DuplicateConflict, NotAttempted,
});
status_map!(close_status, rt::CloseAdmissionStatus => wit::CloseMatchAdmissionStatus {
    Closed, AlreadyClosed, MatchMissing, MatchNotBackendDriven, InvalidReason, ReportingDisabled,
});

/// The runtime form of the reason a mod passed to `closeMatchAdmission` (`MOD_REQUEST`,
/// `GAME_PHASE_LOCKED`, `ROSTER_LOCKED`, `ADMIN_FORCED`).
pub fn close_reason(r: wit::CloseMatchAdmissionReason) -> rt::CloseAdmissionReason {
    match r {
        wit::CloseMatchAdmissionReason::ModRequest => rt::CloseAdmissionReason::ModRequest,
        wit::CloseMatchAdmissionReason::GamePhaseLocked => {
            rt::CloseAdmissionReason::GamePhaseLocked
        }
        wit::CloseMatchAdmissionReason::RosterLocked => rt::CloseAdmissionReason::RosterLocked,
        wit::CloseMatchAdmissionReason::AdminForced => rt::CloseAdmissionReason::AdminForced,
    }
}

/// The name of a mod's log level as the trace's `log` entries write it (`trace`, `debug`, `info`,
/// `warn`, `error`); the host logs `trace` at debug.
pub fn log_level(l: wit::LogLevel) -> &'static str {
    match l {
        wit::LogLevel::Trace => "trace",
        wit::LogLevel::Debug => "debug",
        wit::LogLevel::Info => "info",
        wit::LogLevel::Warn => "warn",
        wit::LogLevel::Error => "error",
    }
}
