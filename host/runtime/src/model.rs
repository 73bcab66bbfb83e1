//! The public records of the Nexori API as the runtime builds them. They serialise in the
//! camelCase of Nexori's JSON (the simulation trace prints them); the wasm layer converts them to
//! the WIT records.

use nexori_vocabulary::names;
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

/// Declares an enum of Java constant names: `as_str` and `Display` give the name, serde writes it,
/// and `parse` reads it by the host's rule ([`nexori_vocabulary::parse_java_name`]: trimmed, ASCII
/// case ignored).
///
/// An enum the mods have too takes its names from its [`names`] table, by variant position
/// (`Outcome = names::MATCH_RESULT_PLAYER_OUTCOME { Win, Loss, ... }`); a compile-time check makes
/// sure that the table has one name per variant and that each is its variant's name in
/// SCREAMING_SNAKE_CASE. An enum only the runtime has gives its names inline
/// (`MatchSource { LocalFifo => "LOCAL_FIFO", ... }`).
macro_rules! java_enum {
    (@define $(#[$meta:meta])* $name:ident = $names:expr; $([$vdoc:expr] $variant:ident),+) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $(#[doc = $vdoc] $variant),+
        }

        impl $name {
            /// The Java constant names, in variant order.
            const NAMES: &'static [&'static str] = $names;
            /// Every variant, in declaration order (`ALL[i]` is named `NAMES[i]`).
            const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The Java enum constant name.
            pub fn as_str(self) -> &'static str {
                Self::NAMES[self as usize]
            }

            /// Parses the Java constant name by the host's rule: trimmed, then case-insensitively
            /// ([`nexori_vocabulary::parse_java_name`]).
            pub fn parse(text: &str) -> Option<Self> {
                nexori_vocabulary::parse_java_name(Self::NAMES, text).map(|i| Self::ALL[i])
            }
        }

        const _: () = assert!(
            $name::NAMES.len() == $name::ALL.len(),
            concat!("the names of ", stringify!($name), " are not one per variant"),
        );

        /// Serialises as the Java constant name ([`as_str`](Self::as_str)).
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_unit_variant(stringify!($name), *self as u32, self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        java_enum!(
            @define $(#[$meta])* $name = &[$($text),+];
            $([concat!("`", $text, "` in Nexori's Java API; see the type's documentation.")] $variant),+
        );
    };
    ($(#[$meta:meta])* $name:ident = $table:path { $($variant:ident),+ $(,)? }) => {
        java_enum!(
            @define $(#[$meta])* $name = $table;
            $([concat!(
                "A constant of Nexori's Java API, named by its position in [`",
                stringify!($table),
                "`](nexori_vocabulary::",
                stringify!($table),
                "); see the type's documentation."
            )] $variant),+
        );

        // The table is indexed by variant position: position `i` must name variant `i` (the
        // lengths are checked with the enum).
        const _: () = {
            let variants: &[&str] = &[$(stringify!($variant)),+];
            let names: &[&str] = $table;
            let mut i = 0;
            while i < variants.len() && i < names.len() {
                assert!(
                    nexori_vocabulary::is_java_name_of(names[i], variants[i]),
                    concat!(stringify!($table), " does not follow the variants of ", stringify!($name)),
                );
                i += 1;
            }
        };
    };
}

java_enum!(
    /// `NexoriMatchResultPlayerOutcome`: a player's outcome in the final result
    /// (docs/arena-behaviour.md#outcomes).
    ///
    /// - `WIN`: the player won; they leave the eliminated players and become the winner. It
    ///   completes nothing and returns nobody (D3).
    /// - `LOSS`: the player lost; they join the eliminated players.
    /// - `DISCONNECTED`: the player left; they join the eliminated players. Mods usually set it
    ///   after a disconnect; Nexori never does.
    /// - `NO_CONTEST`: no decision for the player; a result where every required player has it
    ///   needs no `WIN`. Nexori sets it for a missed window, a shortfall and a fault.
    Outcome = names::MATCH_RESULT_PLAYER_OUTCOME { Win, Loss, Disconnected, NoContest }
);

java_enum!(
    /// `NexoriPlayerPlacementOutcome`: how a player's initial placement ended (`player.placed`).
    ///
    /// - `CONFIRMED`: the placement was confirmed; queues `onPlayerPlacementConfirmed`. The
    ///   bridge's default.
    /// - `FALLBACK`: a fallback placement; the player becomes active all the same, but without a
    ///   callback, as in the reference.
    PlacementOutcome = names::PLAYER_PLACEMENT_OUTCOME { Confirmed, Fallback }
);

java_enum!(
    /// `NexoriAfkActivitySource`: what caused an AFK transition (docs/arena-behaviour.md#afk).
    ///
    /// - `UNKNOWN`: exists for compatibility; the host never produces it.
    /// - `IDLE_TIMEOUT`: the player's inactivity timeout fell due (always shows the HUD).
    /// - `PLAYER_INPUT`, `INVENTORY_PACKET`: a `player.activity` of that source made an AFK
    ///   player active again.
    /// - `POLICY_CHANGE`: detection was disabled for a player the detector had made AFK.
    /// - `EXTERNAL_API`: `setPlayerAfk`.
    AfkSource = names::AFK_ACTIVITY_SOURCE {
        Unknown,
        IdleTimeout,
        PlayerInput,
        InventoryPacket,
        PolicyChange,
        ExternalApi,
    }
);

java_enum!(
    /// Where a match came from (the launch's `matchSource`); only backend-driven matches report
    /// admission state.
    ///
    /// - `LOCAL_FIFO`: matched by the game server itself; the default. Backfill arrivals are
    ///   refused (`NOT_BACKEND_DRIVEN`) and `closeMatchAdmission` answers
    ///   `MATCH_NOT_BACKEND_DRIVEN`.
    /// - `BACKEND_DRIVEN`: matched by the backend, which may send backfill players and is told
    ///   the admission state.
    MatchSource { LocalFifo => "LOCAL_FIFO", BackendDriven => "BACKEND_DRIVEN" }
);

java_enum!(
    /// `backfillMode` of a launch policy: when a backend-driven match admits backfill players
    /// (docs/arena-behaviour.md#evaluation).
    ///
    /// - `NONE`: never; also the effective mode when backfill is disabled or the mode unknown.
    /// - `PLACEMENT_ONLY`: until the start gate opens.
    /// - `ACTIVE_WINDOW`: before the start, and after it until `matchStartedAt +
    ///   backfillWindowSeconds × 1000` (inclusive) while a slot is free.
    BackfillMode { None => "NONE", PlacementOnly => "PLACEMENT_ONLY", ActiveWindow => "ACTIVE_WINDOW" }
);

java_enum!(
    /// The eight lifecycle callbacks plus the AFK callback, named as in the Java listeners; the
    /// text is the listener method's name. When each is queued, and with which reason, is in
    /// docs/arena-behaviour.md#lifecycle-callbacks. `onPlayerAfkChanged` goes to AFK listeners,
    /// the others to lifecycle listeners.
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
    /// The match's `expectedPlayerCount` (which a disconnect before the start may lower), not
    /// the number of expected UUIDs.
    pub expected_players: i32,
    /// Expected players who arrived (backfill players are not counted).
    pub arrived_players: i32,
    /// Expected players placed and still active.
    pub placed_players: i32,
    /// True only once every expected player arrived and was placed; false after a
    /// partial-roster start.
    pub placement_complete: bool,
    /// Expected players that must be placed when the window expires for the match to start.
    pub minimum_initial_players: i32,
    /// Whether the initial placement window is still open.
    pub initial_placement_window_open: bool,
    /// When the window opened (epoch ms): the match's creation.
    pub initial_placement_window_started_at_epoch_ms: i64,
    /// When the window expires (epoch ms).
    pub initial_placement_window_expires_at_epoch_ms: i64,
    /// When the window closed (epoch ms); 0 while open.
    pub initial_placement_window_closed_at_epoch_ms: i64,
    /// Why the window closed (`ALL_INITIAL_PLAYERS_PLACED`,
    /// `INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_MET`, `INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET`);
    /// `""` while open.
    pub initial_placement_window_close_reason: String,
    /// Whether the start gate opened, i.e. the match started (D4).
    pub start_gate_open: bool,
    /// When the gate opened (epoch ms); 0 while closed.
    pub start_gate_opened_at_epoch_ms: i64,
    /// Why the gate opened (`ALL_INITIAL_PLAYERS_PLACED` or
    /// `INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_MET`); `""` while closed.
    pub start_gate_open_reason: String,
}

/// `NexoriMatchLifecycleEvent`: the match snapshot every lifecycle callback carries, taken when
/// the callback was queued.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchLifecycleEvent {
    /// The match id, trimmed and lowercased (D1).
    pub match_id: String,
    /// The launch's queue id (`""` when absent).
    pub queue_id: String,
    /// The launch's arena id (`""` when absent).
    pub arena_id: String,
    /// The launch's assignment id (`""` when absent).
    pub assignment_id: String,
    /// The backend's id for the match (`""` when absent).
    pub external_match_id: String,
    /// The rules engine id that owns the match, case kept.
    pub rules_engine_id: String,
    /// Deprecated; always `"none"` (D12).
    pub match_resolution_trigger_id: String,
    /// The launch's expected players, sorted.
    #[serde(with = "uuid_list")]
    pub expected_player_uuids: Vec<Uuid>,
    /// Players who arrived (initial and backfill), sorted.
    #[serde(with = "uuid_list")]
    pub arrived_player_uuids: Vec<Uuid>,
    /// Players placed and still in the match, sorted.
    #[serde(with = "uuid_list")]
    pub active_player_uuids: Vec<Uuid>,
    /// Current spectators, sorted.
    #[serde(with = "uuid_list")]
    pub spectator_player_uuids: Vec<Uuid>,
    /// The players a final result must cover, in required order (D2).
    #[serde(with = "uuid_list")]
    pub required_result_player_uuids: Vec<Uuid>,
    /// The placement window and start gate.
    pub placement_state: PlacementState,
    /// Why the callback fires (e.g. `MATCH_CREATED`, a gate reason, `MATCH_COMPLETED`).
    pub reason: String,
    /// When the match was created (epoch ms).
    pub created_at_epoch_ms: i64,
    /// When the event was queued (epoch ms).
    pub event_at_epoch_ms: i64,
}

/// `NexoriPlayerMatchLifecycleEvent`: a match snapshot plus the player a callback is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerMatchLifecycleEvent {
    /// The match snapshot (serialised as `match`), with the same reason and time.
    #[serde(rename = "match")]
    pub match_event: MatchLifecycleEvent,
    /// The player.
    pub player_uuid: Uuid,
    /// The last non-blank name seen for the player (arrival, else launch); `""` if none.
    pub player_name: String,
    /// The player's assignment id from the launch or arrival; `""` if none.
    pub player_assignment_id: String,
    /// Why the callback fires (`PLAYER_ARRIVED`, `BACKFILL_PLAYER_ARRIVED`,
    /// `PLACEMENT_CONFIRMED`).
    pub reason: String,
    /// When the event was queued (epoch ms).
    pub event_at_epoch_ms: i64,
}

/// `NexoriPlayerPlacementLifecycleEvent`: what `onPlayerPlacementConfirmed` carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerPlacementLifecycleEvent {
    /// The player event, reason `PLACEMENT_CONFIRMED`.
    pub player: PlayerMatchLifecycleEvent,
    /// The placement's outcome; `CONFIRMED`, as only confirmed placements are dispatched.
    pub placement_outcome: PlacementOutcome,
    /// The placement state with the player active, before the start gate is decided.
    pub placement_state: PlacementState,
    /// The `player.placed` world name, trimmed (`""` when absent).
    pub world_name: String,
    /// The `player.placed` instance template id, trimmed (`""` when absent).
    pub instance_template_id: String,
    /// When the event was queued (epoch ms).
    pub event_at_epoch_ms: i64,
}

/// `NexoriPlayerAfkChangedEvent`: what `onPlayerAfkChanged` carries for one AFK transition.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerAfkChangedEvent {
    /// The match id, trimmed and lowercased (D1).
    pub match_id: String,
    /// The launch's queue id.
    pub queue_id: String,
    /// The launch's arena id.
    pub arena_id: String,
    /// The rules engine id that owns the match.
    pub rules_engine_id: String,
    /// The player.
    pub player_uuid: Uuid,
    /// The last non-blank name seen for the player; `""` if none.
    pub player_name: String,
    /// The new state: `true` when the player became AFK, `false` when active again.
    pub afk: bool,
    /// When the transition happened (epoch ms).
    pub changed_at_epoch_ms: i64,
    /// Milliseconds since the player's last activity at the transition.
    pub idle_ms: i64,
    /// What caused the transition.
    pub source: AfkSource,
}

/// One stored outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutcomeRecord {
    /// The outcome.
    pub outcome: Outcome,
    /// Its reason: the mod's, trimmed and at most 256 UTF-16 code units, or the one Nexori set
    /// (e.g. `INITIAL_PLACEMENT_WINDOW_MISSED`). Sent with the player in the result.
    pub reason: String,
}

/// `NexoriActiveMatchInfo`. `playerOutcomes` serialises as `{uuid: {outcome, reason}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveMatchInfo {
    /// The match id, trimmed and lowercased (D1).
    pub match_id: String,
    /// The launch's queue id.
    pub queue_id: String,
    /// The launch's arena id.
    pub arena_id: String,
    /// The launch's assignment id.
    pub assignment_id: String,
    /// The backend's id for the match (`""` when absent).
    pub external_match_id: String,
    /// The rules engine id that owns the match.
    pub rules_engine_id: String,
    /// Deprecated; always `"none"` (D12).
    pub match_resolution_trigger_id: String,
    /// The launch's expected players, sorted.
    #[serde(with = "uuid_list")]
    pub expected_player_uuids: Vec<Uuid>,
    /// Players who arrived (initial and backfill), sorted.
    #[serde(with = "uuid_list")]
    pub arrived_player_uuids: Vec<Uuid>,
    /// Players placed and still in the match, sorted.
    #[serde(with = "uuid_list")]
    pub active_player_uuids: Vec<Uuid>,
    /// Players given `LOSS` or `DISCONNECTED` and still in the match, sorted.
    #[serde(with = "uuid_list")]
    pub eliminated_player_uuids: Vec<Uuid>,
    /// Current spectators, sorted.
    #[serde(with = "uuid_list")]
    pub spectator_player_uuids: Vec<Uuid>,
    /// Players AFK now, sorted.
    #[serde(with = "uuid_list")]
    pub afk_player_uuids: Vec<Uuid>,
    /// The players a final result must cover, in required order (D2).
    #[serde(with = "uuid_list")]
    pub required_result_player_uuids: Vec<Uuid>,
    /// Every stored outcome, by player.
    pub player_outcomes: std::collections::BTreeMap<Uuid, OutcomeRecord>,
    /// The match's `expectedPlayerCount` (lowered by disconnects before the start).
    pub expected_player_count: i32,
    /// When the match completed (epoch ms); 0 while not completed.
    pub completed_at_epoch_ms: i64,
    /// When a result was accepted (epoch ms); 0 when none was.
    pub result_submitted_at_epoch_ms: i64,
}

/// `NexoriMatchResultRequirements`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchResultRequirements {
    /// The match id, trimmed and lowercased (D1).
    pub match_id: String,
    /// The players a final result must give an outcome to, and no one else: expected ∪ arrived
    /// ∪ active ∪ eliminated, in that order (D2).
    #[serde(with = "uuid_list")]
    pub required_player_uuids: Vec<Uuid>,
}

/// `NexoriAfkDetectionPolicy`, normalised. The default is disabled, 30 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AfkPolicy {
    /// Whether idle players are detected; with it off, only `setPlayerAfk` makes a player AFK.
    pub enabled: bool,
    /// How long a player may be idle before becoming AFK, in seconds; 5 to 3600 once
    /// [normalised](AfkPolicy::normalized).
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

    /// The inactivity timeout in milliseconds.
    pub fn timeout_ms(&self) -> i64 {
        i64::from(self.inactivity_timeout_seconds) * 1000
    }
}

macro_rules! status_result {
    ($(#[$meta:meta])* $result:ident, $status:ident = $table:path { $($variant:ident),+ $(,)? }) => {
        java_enum!($(#[$meta])* $status = $table { $($variant),+ });

        #[doc = concat!(
            "The answer of a status method: a [`", stringify!($status), "`] and its message."
        )]
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        pub struct $result {
            /// The success status, or the first check that failed.
            pub status: $status,
            /// The exact failure message of docs/arena-behaviour.md#api-methods; `""` on success.
            pub message: String,
        }

        impl $result {
            /// An answer with this status and message.
            pub fn new(status: $status, message: impl Into<String>) -> Self {
                Self { status, message: message.into() }
            }
        }
    };
}

status_result!(
    /// `NexoriSetPlayerOutcomeStatus`: `setPlayerOutcome`'s answers. Success is `UPDATED`; the
    /// failures, in check order: `MATCH_MISSING`, `MATCH_ALREADY_COMPLETED`, `PLAYER_MISSING`,
    /// `INVALID_OUTCOME` (null outcome), `INVALID_REASON` (over 256 characters).
    SetPlayerOutcomeResult, SetPlayerOutcomeStatus = names::SET_PLAYER_OUTCOME_STATUS {
        Updated,
        MatchMissing,
        PlayerMissing,
        MatchAlreadyCompleted,
        InvalidOutcome,
        InvalidReason,
    }
);

status_result!(
    /// `NexoriSetPlayerSpectatorStatus`: `setPlayerSpectator`'s answers. Success is `UPDATED`;
    /// the failures, in check order: `MATCH_MISSING`, `MATCH_ALREADY_COMPLETED`,
    /// `PLAYER_MISSING`, `INVALID_REASON` (over 256 characters).
    SetPlayerSpectatorResult, SetPlayerSpectatorStatus = names::SET_PLAYER_SPECTATOR_STATUS {
        Updated,
        MatchMissing,
        PlayerMissing,
        MatchAlreadyCompleted,
        InvalidReason,
    }
);

status_result!(
    /// `NexoriReturnPlayerStatus`: `returnPlayerToLobby`'s answers. Success is `SCHEDULED`; the
    /// failures, in check order: `MATCH_MISSING`, `PLAYER_MISSING`, `INVALID_DELAY` (negative),
    /// `INVALID_REASON` (over 256 characters). There is no completion check.
    ReturnPlayerResult, ReturnPlayerStatus = names::RETURN_PLAYER_STATUS {
        Scheduled,
        MatchMissing,
        PlayerMissing,
        InvalidDelay,
        InvalidReason,
    }
);

status_result!(
    /// `NexoriSetAfkDetectionPolicyStatus`: the answers of the four AFK policy methods. Success is
    /// `UPDATED` (set) or `CLEARED` (clear); the failures, in check order: `INVALID_POLICY` (null
    /// policy), `MATCH_MISSING`, `MATCH_ALREADY_COMPLETED`, `PLAYER_MISSING` (player methods
    /// only). `NOT_SUPPORTED` exists for compatibility and is never answered.
    SetAfkPolicyResult, SetAfkPolicyStatus = names::SET_AFK_DETECTION_POLICY_STATUS {
        Updated,
        Cleared,
        MatchMissing,
        PlayerMissing,
        MatchAlreadyCompleted,
        InvalidPolicy,
        NotSupported,
    }
);

status_result!(
    /// `NexoriSetPlayerAfkStatus`: `setPlayerAfk`'s answers. Success is `UPDATED`, or
    /// `UNCHANGED` when the player already is in the requested state; the failures, in check
    /// order: `INVALID_REQUEST` (blank match id, player not a UUID), `MATCH_MISSING`,
    /// `MATCH_ALREADY_COMPLETED`, `PLAYER_MISSING`. `NOT_SUPPORTED` exists for compatibility and
    /// is never answered.
    SetPlayerAfkResult, SetPlayerAfkStatus = names::SET_PLAYER_AFK_STATUS {
        Updated,
        Unchanged,
        MatchMissing,
        PlayerMissing,
        MatchAlreadyCompleted,
        InvalidRequest,
        NotSupported,
    }
);

java_enum!(
    /// `NexoriMatchCompletionStatus`: `submitFinalMatchResult`'s local answer
    /// (docs/arena-behaviour.md#results).
    ///
    /// - `ACCEPTED`: validated, recorded and handed to reporting; the match is completed.
    /// - `ALREADY_SUBMITTED`: a result was already accepted; the backend status says whether the
    ///   new one is the same (`ALREADY_SUBMITTED`) or not (`DUPLICATE_CONFLICT`).
    /// - `MATCH_MISSING`: blank, unknown, closed or foreign match id.
    /// - `INVALID_RESULT`: customData or the result failed validation, or the match completed
    ///   without a result.
    MatchCompletionStatus = names::MATCH_COMPLETION_STATUS {
        Accepted,
        AlreadySubmitted,
        MatchMissing,
        InvalidResult,
    }
);

java_enum!(
    /// `NexoriBackendReportStatus`: what reporting did with a submission
    /// (docs/arena-behaviour.md#reporting-a-result).
    ///
    /// - `QUEUED`: stored in the outbox as pending with a new `resultId`.
    /// - `DISABLED`: result reporting is off, or lacks `baseUrl` or `serverToken`.
    /// - `EXTERNAL_MATCH_MISSING`: the match has no `externalMatchId`; nothing is stored or sent.
    /// - `STORE_FAILED`: the outbox could not be read.
    /// - `ALREADY_SUBMITTED`: the same result (same hash) already exists.
    /// - `DUPLICATE_CONFLICT`: a different result exists for the same local or external match.
    /// - `NOT_ATTEMPTED`: the submission was not accepted locally.
    BackendReportStatus = names::BACKEND_REPORT_STATUS {
        Queued,
        Disabled,
        ExternalMatchMissing,
        StoreFailed,
        AlreadySubmitted,
        DuplicateConflict,
        NotAttempted,
    }
);

/// `NexoriSubmitFinalMatchResultResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitResult {
    /// The runtime's decision.
    pub match_status: MatchCompletionStatus,
    /// Reporting's decision for an accepted result; for an `ALREADY_SUBMITTED` answer,
    /// `ALREADY_SUBMITTED` (same payload hash) or `DUPLICATE_CONFLICT`; `NOT_ATTEMPTED`
    /// otherwise.
    pub backend_report_status: BackendReportStatus,
    /// For an accepted result, the id (a lowercase UUID) of the outbox record reporting stored
    /// (`QUEUED`) or collided with; `""` otherwise.
    pub result_id: String,
    /// Reporting's message for an accepted result, else the runtime's exact message
    /// (docs/arena-behaviour.md#results).
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
    /// `NexoriCloseMatchAdmissionReason`: why a mod closes admission with `closeMatchAdmission`;
    /// each is reported as its `EXPLICIT_*` id ([`CloseAdmissionReason::close_reason_id`]).
    ///
    /// The runtime treats all four alike; they differ only in the id the backend is told:
    ///
    /// - `MOD_REQUEST`: the mod's own decision.
    /// - `GAME_PHASE_LOCKED`: the game reached a phase that takes no newcomers.
    /// - `ROSTER_LOCKED`: the roster is final.
    /// - `ADMIN_FORCED`: an administrator forced the close.
    CloseAdmissionReason = names::CLOSE_MATCH_ADMISSION_REASON {
        ModRequest,
        GamePhaseLocked,
        RosterLocked,
        AdminForced,
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
    /// `NexoriCloseMatchAdmissionStatus`: `closeMatchAdmission`'s answers
    /// (docs/arena-behaviour.md#api-methods).
    ///
    /// - `CLOSED`: closed now, admission reporting usable.
    /// - `ALREADY_CLOSED`: admission was closed explicitly before.
    /// - `MATCH_MISSING`: blank, unknown, closed or foreign match id.
    /// - `MATCH_NOT_BACKEND_DRIVEN`: a `LOCAL_FIFO` match.
    /// - `INVALID_REASON`: no reason was given.
    /// - `REPORTING_DISABLED`: closed now, but admission reporting is disabled or unusable, so
    ///   the backend may not learn it.
    CloseAdmissionStatus = names::CLOSE_MATCH_ADMISSION_STATUS {
        Closed,
        AlreadyClosed,
        MatchMissing,
        MatchNotBackendDriven,
        InvalidReason,
        ReportingDisabled,
    }
);

/// `NexoriCloseMatchAdmissionResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseAdmissionResult {
    /// The answer.
    pub status: CloseAdmissionStatus,
    /// The match id as given, trimmed and lowercased; `""` for a blank one.
    pub match_id: String,
    /// Whether admission is now closed on this host (`CLOSED`, `ALREADY_CLOSED`,
    /// `REPORTING_DISABLED`).
    pub closed_locally: bool,
    /// The exact message of docs/arena-behaviour.md#api-methods for the status.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `java_enum!` generates: the name from the table (or inline), serialised as a JSON
    /// string, parsed back trimmed and in any ASCII case.
    fn check<T>(all: &[T], names: &[&str])
    where
        T: Copy + PartialEq + std::fmt::Debug + std::fmt::Display + Serialize,
        T: JavaName,
    {
        assert_eq!(all.len(), names.len());
        for (value, name) in all.iter().zip(names) {
            assert_eq!(value.name(), *name);
            assert_eq!(value.to_string(), *name);
            assert_eq!(
                serde_json::to_value(value).unwrap(),
                serde_json::json!(name)
            );
            assert_eq!(T::parse_name(name), Some(*value));
            assert_eq!(
                T::parse_name(&format!(" {}\n", name.to_ascii_lowercase())),
                Some(*value)
            );
        }
        assert_eq!(T::parse_name("NOT_A_NAME"), None);
        assert_eq!(T::parse_name(""), None);
    }

    trait JavaName: Sized {
        fn name(self) -> &'static str;
        fn parse_name(text: &str) -> Option<Self>;
    }

    macro_rules! java_names {
        ($($name:ident),+) => {$(
            impl JavaName for $name {
                fn name(self) -> &'static str {
                    self.as_str()
                }
                fn parse_name(text: &str) -> Option<Self> {
                    Self::parse(text)
                }
            }
        )+};
    }

    java_names!(
        Outcome,
        PlacementOutcome,
        AfkSource,
        MatchSource,
        BackfillMode,
        Callback,
        SetPlayerOutcomeStatus,
        SetPlayerSpectatorStatus,
        ReturnPlayerStatus,
        SetAfkPolicyStatus,
        SetPlayerAfkStatus,
        MatchCompletionStatus,
        BackendReportStatus,
        CloseAdmissionReason,
        CloseAdmissionStatus
    );

    #[test]
    fn enums_are_named_by_their_tables() {
        use nexori_vocabulary::names::*;
        check(Outcome::ALL, MATCH_RESULT_PLAYER_OUTCOME);
        check(PlacementOutcome::ALL, PLAYER_PLACEMENT_OUTCOME);
        check(AfkSource::ALL, AFK_ACTIVITY_SOURCE);
        check(SetPlayerOutcomeStatus::ALL, SET_PLAYER_OUTCOME_STATUS);
        check(SetPlayerSpectatorStatus::ALL, SET_PLAYER_SPECTATOR_STATUS);
        check(ReturnPlayerStatus::ALL, RETURN_PLAYER_STATUS);
        check(SetAfkPolicyStatus::ALL, SET_AFK_DETECTION_POLICY_STATUS);
        check(SetPlayerAfkStatus::ALL, SET_PLAYER_AFK_STATUS);
        check(MatchCompletionStatus::ALL, MATCH_COMPLETION_STATUS);
        check(BackendReportStatus::ALL, BACKEND_REPORT_STATUS);
        check(CloseAdmissionReason::ALL, CLOSE_MATCH_ADMISSION_REASON);
        check(CloseAdmissionStatus::ALL, CLOSE_MATCH_ADMISSION_STATUS);
        assert_eq!(Outcome::NoContest.as_str(), "NO_CONTEST");
        assert_eq!(
            CloseAdmissionStatus::MatchNotBackendDriven.as_str(),
            "MATCH_NOT_BACKEND_DRIVEN"
        );
    }

    #[test]
    fn runtime_only_enums_keep_their_inline_names() {
        check(MatchSource::ALL, &["LOCAL_FIFO", "BACKEND_DRIVEN"]);
        check(
            BackfillMode::ALL,
            &["NONE", "PLACEMENT_ONLY", "ACTIVE_WINDOW"],
        );
        check(
            Callback::ALL,
            &[
                "onMatchCreated",
                "onPlayerArrived",
                "onPlayerPlacementConfirmed",
                "onMatchPlacementCompleted",
                "onMatchStartAllowed",
                "onMatchCancellationRequested",
                "onMatchCompleted",
                "onMatchRuntimeClosed",
                "onPlayerAfkChanged",
            ],
        );
    }

    #[test]
    fn records_serialise_enums_as_names() {
        let record = OutcomeRecord {
            outcome: Outcome::NoContest,
            reason: "r".into(),
        };
        assert_eq!(
            serde_json::to_value(&record).unwrap(),
            serde_json::json!({"outcome": "NO_CONTEST", "reason": "r"})
        );
    }
}
