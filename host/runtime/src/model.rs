//! The public records of the Nexori API as the runtime builds them. They serialise in the
//! camelCase of Nexori's JSON (the simulation trace prints them); the wasm layer converts them to
//! the WIT records.

use serde::Serialize;
use uuid::Uuid;

/// Serialises player UUIDs lowercase and hyphenated (D11).
pub(crate) mod uuid_list {
    use serde::Serializer;
    use serde::ser::SerializeSeq;
    use uuid::Uuid;

    pub fn serialize<S: Serializer>(list: &[Uuid], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(list.len()))?;
        for uuid in list {
            seq.serialize_element(&uuid.hyphenated())?;
        }
        seq.end()
    }
}

macro_rules! java_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// The Java enum constant name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the Java constant name, case-insensitively.
            pub fn parse(text: &str) -> Option<Self> {
                let text = text.trim();
                $(if text.eq_ignore_ascii_case($text) { return Some(Self::$variant); })+
                None
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

java_enum!(
    /// `NexoriMatchResultPlayerOutcome`.
    Outcome { Win => "WIN", Loss => "LOSS", Disconnected => "DISCONNECTED", NoContest => "NO_CONTEST" }
);

java_enum!(
    /// `NexoriPlayerPlacementOutcome`.
    PlacementOutcome { Confirmed => "CONFIRMED", Fallback => "FALLBACK" }
);

java_enum!(
    /// `NexoriAfkActivitySource`.
    AfkSource {
        Unknown => "UNKNOWN",
        IdleTimeout => "IDLE_TIMEOUT",
        PlayerInput => "PLAYER_INPUT",
        InventoryPacket => "INVENTORY_PACKET",
        PolicyChange => "POLICY_CHANGE",
        ExternalApi => "EXTERNAL_API",
    }
);

java_enum!(
    /// Where a match came from; only backend-driven matches report admission state.
    MatchSource { LocalFifo => "LOCAL_FIFO", BackendDriven => "BACKEND_DRIVEN" }
);

java_enum!(
    /// `backfillMode` of a launch policy.
    BackfillMode { None => "NONE", PlacementOnly => "PLACEMENT_ONLY", ActiveWindow => "ACTIVE_WINDOW" }
);

java_enum!(
    /// The eight lifecycle callbacks plus the AFK callback, named as in the Java listeners.
    Callback {
        MatchCreated => "onMatchCreated",
        PlayerArrived => "onPlayerArrived",
        PlayerPlacementConfirmed => "onPlayerPlacementConfirmed",
        MatchPlacementCompleted => "onMatchPlacementCompleted",
        MatchStartAllowed => "onMatchStartAllowed",
        MatchCancellationRequested => "onMatchCancellationRequested",
        MatchCompleted => "onMatchCompleted",
        MatchRuntimeClosed => "onMatchRuntimeClosed",
        PlayerAfkChanged => "onPlayerAfkChanged",
    }
);

/// `NexoriMatchPlacementState`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacementState {
    pub expected_players: i32,
    pub arrived_players: i32,
    pub placed_players: i32,
    pub placement_complete: bool,
    pub minimum_initial_players: i32,
    pub initial_placement_window_open: bool,
    pub initial_placement_window_started_at_epoch_ms: i64,
    pub initial_placement_window_expires_at_epoch_ms: i64,
    pub initial_placement_window_closed_at_epoch_ms: i64,
    pub initial_placement_window_close_reason: String,
    pub start_gate_open: bool,
    pub start_gate_opened_at_epoch_ms: i64,
    pub start_gate_open_reason: String,
}

/// `NexoriMatchLifecycleEvent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchLifecycleEvent {
    pub match_id: String,
    pub queue_id: String,
    pub arena_id: String,
    pub assignment_id: String,
    pub external_match_id: String,
    pub rules_engine_id: String,
    pub match_resolution_trigger_id: String,
    #[serde(with = "uuid_list")]
    pub expected_player_uuids: Vec<Uuid>,
    #[serde(with = "uuid_list")]
    pub arrived_player_uuids: Vec<Uuid>,
    #[serde(with = "uuid_list")]
    pub active_player_uuids: Vec<Uuid>,
    #[serde(with = "uuid_list")]
    pub spectator_player_uuids: Vec<Uuid>,
    #[serde(with = "uuid_list")]
    pub required_result_player_uuids: Vec<Uuid>,
    pub placement_state: PlacementState,
    pub reason: String,
    pub created_at_epoch_ms: i64,
    pub event_at_epoch_ms: i64,
}

/// `NexoriPlayerMatchLifecycleEvent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerMatchLifecycleEvent {
    #[serde(rename = "match")]
    pub match_event: MatchLifecycleEvent,
    pub player_uuid: Uuid,
    pub player_name: String,
    pub player_assignment_id: String,
    pub reason: String,
    pub event_at_epoch_ms: i64,
}

/// `NexoriPlayerPlacementLifecycleEvent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerPlacementLifecycleEvent {
    pub player: PlayerMatchLifecycleEvent,
    pub placement_outcome: PlacementOutcome,
    pub placement_state: PlacementState,
    pub world_name: String,
    pub instance_template_id: String,
    pub event_at_epoch_ms: i64,
}

/// `NexoriPlayerAfkChangedEvent`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerAfkChangedEvent {
    pub match_id: String,
    pub queue_id: String,
    pub arena_id: String,
    pub rules_engine_id: String,
    pub player_uuid: Uuid,
    pub player_name: String,
    pub afk: bool,
    pub changed_at_epoch_ms: i64,
    pub idle_ms: i64,
    pub source: AfkSource,
}

/// One stored outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeRecord {
    pub outcome: Outcome,
    pub reason: String,
}

/// `NexoriActiveMatchInfo`. `playerOutcomes` serialises as `{uuid: {outcome, reason}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveMatchInfo {
    pub match_id: String,
    pub queue_id: String,
    pub arena_id: String,
    pub assignment_id: String,
    pub external_match_id: String,
    pub rules_engine_id: String,
    pub match_resolution_trigger_id: String,
    #[serde(with = "uuid_list")]
    pub expected_player_uuids: Vec<Uuid>,
    #[serde(with = "uuid_list")]
    pub arrived_player_uuids: Vec<Uuid>,
    #[serde(with = "uuid_list")]
    pub active_player_uuids: Vec<Uuid>,
    #[serde(with = "uuid_list")]
    pub eliminated_player_uuids: Vec<Uuid>,
    #[serde(with = "uuid_list")]
    pub spectator_player_uuids: Vec<Uuid>,
    #[serde(with = "uuid_list")]
    pub afk_player_uuids: Vec<Uuid>,
    #[serde(with = "uuid_list")]
    pub required_result_player_uuids: Vec<Uuid>,
    pub player_outcomes: std::collections::BTreeMap<Uuid, OutcomeRecord>,
    pub expected_player_count: i32,
    pub completed_at_epoch_ms: i64,
    pub result_submitted_at_epoch_ms: i64,
}

/// `NexoriMatchResultRequirements`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchResultRequirements {
    pub match_id: String,
    #[serde(with = "uuid_list")]
    pub required_player_uuids: Vec<Uuid>,
}

/// `NexoriAfkDetectionPolicy`, normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AfkPolicy {
    pub enabled: bool,
    pub inactivity_timeout_seconds: i32,
}

impl Default for AfkPolicy {
    fn default() -> Self {
        Self {
            enabled: false,
            inactivity_timeout_seconds: 30,
        }
    }
}

impl AfkPolicy {
    /// docs/arena-behaviour.md#afk: ≤ 0 → 30, < 5 → 5, > 3600 → 3600.
    pub fn normalized(enabled: bool, inactivity_timeout_seconds: i32) -> Self {
        let seconds = match inactivity_timeout_seconds {
            s if s <= 0 => 30,
            s if s < 5 => 5,
            s if s > 3600 => 3600,
            s => s,
        };
        Self {
            enabled,
            inactivity_timeout_seconds: seconds,
        }
    }

    pub fn timeout_ms(&self) -> i64 {
        i64::from(self.inactivity_timeout_seconds) * 1000
    }
}

macro_rules! status_result {
    ($(#[$meta:meta])* $result:ident, $status:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        java_enum!($(#[$meta])* $status { $($variant => $text),+ });

        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        pub struct $result {
            pub status: $status,
            pub message: String,
        }

        impl $result {
            pub fn new(status: $status, message: impl Into<String>) -> Self {
                Self { status, message: message.into() }
            }
        }
    };
}

status_result!(
    /// `NexoriSetPlayerOutcomeStatus`.
    SetPlayerOutcomeResult, SetPlayerOutcomeStatus {
        Updated => "UPDATED",
        MatchMissing => "MATCH_MISSING",
        PlayerMissing => "PLAYER_MISSING",
        MatchAlreadyCompleted => "MATCH_ALREADY_COMPLETED",
        InvalidOutcome => "INVALID_OUTCOME",
        InvalidReason => "INVALID_REASON",
    }
);

status_result!(
    /// `NexoriSetPlayerSpectatorStatus`.
    SetPlayerSpectatorResult, SetPlayerSpectatorStatus {
        Updated => "UPDATED",
        MatchMissing => "MATCH_MISSING",
        PlayerMissing => "PLAYER_MISSING",
        MatchAlreadyCompleted => "MATCH_ALREADY_COMPLETED",
        InvalidReason => "INVALID_REASON",
    }
);

status_result!(
    /// `NexoriReturnPlayerStatus`.
    ReturnPlayerResult, ReturnPlayerStatus {
        Scheduled => "SCHEDULED",
        MatchMissing => "MATCH_MISSING",
        PlayerMissing => "PLAYER_MISSING",
        InvalidDelay => "INVALID_DELAY",
        InvalidReason => "INVALID_REASON",
    }
);

status_result!(
    /// `NexoriSetAfkDetectionPolicyStatus`.
    SetAfkPolicyResult, SetAfkPolicyStatus {
        Updated => "UPDATED",
        Cleared => "CLEARED",
        MatchMissing => "MATCH_MISSING",
        PlayerMissing => "PLAYER_MISSING",
        MatchAlreadyCompleted => "MATCH_ALREADY_COMPLETED",
        InvalidPolicy => "INVALID_POLICY",
        NotSupported => "NOT_SUPPORTED",
    }
);

status_result!(
    /// `NexoriSetPlayerAfkStatus`.
    SetPlayerAfkResult, SetPlayerAfkStatus {
        Updated => "UPDATED",
        Unchanged => "UNCHANGED",
        MatchMissing => "MATCH_MISSING",
        PlayerMissing => "PLAYER_MISSING",
        MatchAlreadyCompleted => "MATCH_ALREADY_COMPLETED",
        InvalidRequest => "INVALID_REQUEST",
        NotSupported => "NOT_SUPPORTED",
    }
);

java_enum!(
    /// `NexoriMatchCompletionStatus`.
    MatchCompletionStatus {
        Accepted => "ACCEPTED",
        AlreadySubmitted => "ALREADY_SUBMITTED",
        MatchMissing => "MATCH_MISSING",
        InvalidResult => "INVALID_RESULT",
    }
);

java_enum!(
    /// `NexoriBackendReportStatus`.
    BackendReportStatus {
        Queued => "QUEUED",
        Disabled => "DISABLED",
        ExternalMatchMissing => "EXTERNAL_MATCH_MISSING",
        StoreFailed => "STORE_FAILED",
        AlreadySubmitted => "ALREADY_SUBMITTED",
        DuplicateConflict => "DUPLICATE_CONFLICT",
        NotAttempted => "NOT_ATTEMPTED",
    }
);

/// `NexoriSubmitFinalMatchResultResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitResult {
    pub match_status: MatchCompletionStatus,
    pub backend_report_status: BackendReportStatus,
    pub result_id: String,
    pub message: String,
}

impl SubmitResult {
    /// A submission that was not accepted locally.
    pub fn rejected(match_status: MatchCompletionStatus, message: impl Into<String>) -> Self {
        Self {
            match_status,
            backend_report_status: BackendReportStatus::NotAttempted,
            result_id: String::new(),
            message: message.into(),
        }
    }
}

java_enum!(
    /// `NexoriCloseMatchAdmissionReason`.
    CloseAdmissionReason {
        ModRequest => "MOD_REQUEST",
        GamePhaseLocked => "GAME_PHASE_LOCKED",
        RosterLocked => "ROSTER_LOCKED",
        AdminForced => "ADMIN_FORCED",
    }
);

impl CloseAdmissionReason {
    /// The admission change reason id the close is reported with
    /// (docs/arena-behaviour.md#change-reasons).
    pub fn close_reason_id(self) -> &'static str {
        match self {
            Self::ModRequest => "EXPLICIT_MOD_REQUEST",
            Self::GamePhaseLocked => "EXPLICIT_GAME_PHASE_LOCKED",
            Self::RosterLocked => "EXPLICIT_ROSTER_LOCKED",
            Self::AdminForced => "EXPLICIT_ADMIN_FORCED",
        }
    }
}

java_enum!(
    /// `NexoriCloseMatchAdmissionStatus`.
    CloseAdmissionStatus {
        Closed => "CLOSED",
        AlreadyClosed => "ALREADY_CLOSED",
        MatchMissing => "MATCH_MISSING",
        MatchNotBackendDriven => "MATCH_NOT_BACKEND_DRIVEN",
        InvalidReason => "INVALID_REASON",
        ReportingDisabled => "REPORTING_DISABLED",
    }
);

/// `NexoriCloseMatchAdmissionResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseAdmissionResult {
    pub status: CloseAdmissionStatus,
    pub match_id: String,
    pub closed_locally: bool,
    pub message: String,
}
