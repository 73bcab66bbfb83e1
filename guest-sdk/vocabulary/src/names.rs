//! The Java constant names of the enums the host and mods both have, one table per WIT enum of
//! `nexori:minigame/types` (`wit/types.wit`), in WIT declaration order.
//!
//! A table's order is part of the contract: the host's and the SDK's Rust enums declare their
//! variants in the same order and take a variant's name from its position (`TABLE[variant as
//! usize]`), and WIT enums are matched by position too. A constant may never be reordered or
//! removed, and a new one goes last, in a new WIT version (see `wit/README.md`).
//!
//! Each table is named after its WIT enum; the Java type is `Nexori` followed by the name in
//! UpperCamelCase (`NexoriSetPlayerOutcomeStatus`). Enums only one side has (the runtime's
//! callbacks and match sources, the SDK's log levels, ...) are not here.

/// WIT `player-placement-outcome`, Java `NexoriPlayerPlacementOutcome`: how a player's initial
/// placement ended. The runtime's `PlacementOutcome`, the SDK's `PlayerPlacementOutcome`.
pub const PLAYER_PLACEMENT_OUTCOME: &[&str] = &["CONFIRMED", "FALLBACK"];

/// WIT `afk-activity-source`, Java `NexoriAfkActivitySource`: what caused an AFK transition. The
/// runtime's `AfkSource`, the SDK's `AfkActivitySource`.
pub const AFK_ACTIVITY_SOURCE: &[&str] = &[
    "UNKNOWN",
    "IDLE_TIMEOUT",
    "PLAYER_INPUT",
    "INVENTORY_PACKET",
    "POLICY_CHANGE",
    "EXTERNAL_API",
];

/// WIT `set-afk-detection-policy-status`, Java `NexoriSetAfkDetectionPolicyStatus`: the answers of
/// the AFK policy methods. The runtime's `SetAfkPolicyStatus`, the SDK's
/// `SetAfkDetectionPolicyStatus`.
pub const SET_AFK_DETECTION_POLICY_STATUS: &[&str] = &[
    "UPDATED",
    "CLEARED",
    "MATCH_MISSING",
    "PLAYER_MISSING",
    "MATCH_ALREADY_COMPLETED",
    "INVALID_POLICY",
    "NOT_SUPPORTED",
];

/// WIT `set-player-afk-status`, Java `NexoriSetPlayerAfkStatus`: `setPlayerAfk`'s answers.
/// `SetPlayerAfkStatus` on both sides.
pub const SET_PLAYER_AFK_STATUS: &[&str] = &[
    "UPDATED",
    "UNCHANGED",
    "MATCH_MISSING",
    "PLAYER_MISSING",
    "MATCH_ALREADY_COMPLETED",
    "INVALID_REQUEST",
    "NOT_SUPPORTED",
];

/// WIT `match-result-player-outcome`, Java `NexoriMatchResultPlayerOutcome`: a player's outcome
/// in the final result. `Outcome` on both sides.
pub const MATCH_RESULT_PLAYER_OUTCOME: &[&str] = &["WIN", "LOSS", "DISCONNECTED", "NO_CONTEST"];

/// WIT `set-player-outcome-status`, Java `NexoriSetPlayerOutcomeStatus`: `setPlayerOutcome`'s
/// answers. `SetPlayerOutcomeStatus` on both sides.
pub const SET_PLAYER_OUTCOME_STATUS: &[&str] = &[
    "UPDATED",
    "MATCH_MISSING",
    "PLAYER_MISSING",
    "MATCH_ALREADY_COMPLETED",
    "INVALID_OUTCOME",
    "INVALID_REASON",
];

/// WIT `set-player-spectator-status`, Java `NexoriSetPlayerSpectatorStatus`:
/// `setPlayerSpectator`'s answers. `SetPlayerSpectatorStatus` on both sides.
pub const SET_PLAYER_SPECTATOR_STATUS: &[&str] = &[
    "UPDATED",
    "MATCH_MISSING",
    "PLAYER_MISSING",
    "MATCH_ALREADY_COMPLETED",
    "INVALID_REASON",
];

/// WIT `return-player-status`, Java `NexoriReturnPlayerStatus`: `returnPlayerToLobby`'s answers.
/// `ReturnPlayerStatus` on both sides.
pub const RETURN_PLAYER_STATUS: &[&str] = &[
    "SCHEDULED",
    "MATCH_MISSING",
    "PLAYER_MISSING",
    "INVALID_DELAY",
    "INVALID_REASON",
];

/// WIT `match-completion-status`, Java `NexoriMatchCompletionStatus`: whether the host accepted a
/// final result locally. `MatchCompletionStatus` on both sides.
pub const MATCH_COMPLETION_STATUS: &[&str] = &[
    "ACCEPTED",
    "ALREADY_SUBMITTED",
    "MATCH_MISSING",
    "INVALID_RESULT",
];

/// WIT `backend-report-status`, Java `NexoriBackendReportStatus`: what reporting did with a
/// submission. `BackendReportStatus` on both sides.
pub const BACKEND_REPORT_STATUS: &[&str] = &[
    "QUEUED",
    "DISABLED",
    "EXTERNAL_MATCH_MISSING",
    "STORE_FAILED",
    "ALREADY_SUBMITTED",
    "DUPLICATE_CONFLICT",
    "NOT_ATTEMPTED",
];

/// WIT `close-match-admission-reason`, Java `NexoriCloseMatchAdmissionReason`: why a mod closes
/// admission. The runtime's `CloseAdmissionReason`, the SDK's `CloseMatchAdmissionReason`.
pub const CLOSE_MATCH_ADMISSION_REASON: &[&str] = &[
    "MOD_REQUEST",
    "GAME_PHASE_LOCKED",
    "ROSTER_LOCKED",
    "ADMIN_FORCED",
];

/// WIT `close-match-admission-status`, Java `NexoriCloseMatchAdmissionStatus`:
/// `closeMatchAdmission`'s answers. The runtime's `CloseAdmissionStatus`, the SDK's
/// `CloseMatchAdmissionStatus`.
pub const CLOSE_MATCH_ADMISSION_STATUS: &[&str] = &[
    "CLOSED",
    "ALREADY_CLOSED",
    "MATCH_MISSING",
    "MATCH_NOT_BACKEND_DRIVEN",
    "INVALID_REASON",
    "REPORTING_DISABLED",
];
