//! The records, enums and statuses of the Nexori minigame API, as plain Rust types.
//!
//! Each type mirrors one WIT type of `nexori:minigame/types` (and so one Java type of the public
//! Nexori API). They are the SDK's own types rather than the generated bindings so that:
//!
//! - they exist on every target, which is what lets mods be unit-tested natively
//!   (see [`crate::native`]);
//! - they implement `serde::Serialize` with Nexori's JSON spelling (camelCase fields, enums as
//!   the Java constant names such as `NO_CONTEST`, from the tables of
//!   [`nexori_vocabulary::names`] the host uses too), handy for `customData` and logs;
//! - records that tests build by hand (`MatchLifecycleEvent`, ...) implement [`Default`].
//!
//! Player UUIDs are plain strings: the host accepts them in any case and always hands them out
//! lowercase and hyphenated.

use nexori_vocabulary::names;
use serde::{Deserialize, Serialize};

use crate::Error;

/// A player UUID, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (lowercase when it comes from the host).
pub type PlayerUuid = String;

/// Declares a WIT enum as a Rust enum whose serde, `Display` and `FromStr` spelling is the Java
/// constant name, so the three can never disagree.
///
/// An enum the host has too takes its names from its table in [`nexori_vocabulary::names`], by
/// variant position (`pub enum Outcome = names::MATCH_RESULT_PLAYER_OUTCOME { Win, ... }`): the
/// host builds its enum from the same table. A compile-time check makes sure that the table has
/// one name per variant and that each is its variant's name in SCREAMING_SNAKE_CASE. An enum only
/// the SDK has gives its names inline (`Trace => "trace"`).
macro_rules! java_enum {
    (
        @define
        $(#[$meta:meta])*
        pub enum $name:ident = $names:expr;
        $( $(#[$vmeta:meta])* $variant:ident, )+
    ) => {
        $(#[$meta])*
        // Ord follows declaration order, so `level >= LogLevel::Warn` reads as expected.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        const _: () = assert!(
            $name::NAMES.len() == $name::ALL.len(),
            concat!("the names of ", stringify!($name), " are not one per variant"),
        );

        impl $name {
            /// Every value, in WIT declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The Java constant names, in the order of [`ALL`](Self::ALL).
            const NAMES: &'static [&'static str] = $names;

            /// The name Nexori's JSON uses for this value (the Java constant name).
            pub const fn as_str(self) -> &'static str {
                Self::NAMES[self as usize]
            }
        }

        impl core::fmt::Display for $name {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        /// Writes the name [`as_str`](Self::as_str) gives.
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_unit_variant(stringify!($name), *self as u32, self.as_str())
            }
        }

        /// Reads a name the way [`FromStr`](core::str::FromStr) does (and, in formats that
        /// identify variants by number, the index in [`ALL`](Self::ALL)).
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                java_serde::deserialize(deserializer, stringify!($name), Self::NAMES, Self::ALL)
            }
        }

        /// Parses a name [`as_str`](Self::as_str) produces by the host's rule
        /// ([`nexori_vocabulary::parse_java_name`]): surrounding white space is trimmed and ASCII
        /// case ignored, so `" no_contest "` reads as `NO_CONTEST`. (Java's `valueOf` is stricter;
        /// this is what the host accepts.) Any other text is an error that lists the names.
        impl core::str::FromStr for $name {
            type Err = Error;

            fn from_str(text: &str) -> Result<Self, Error> {
                match nexori_vocabulary::parse_java_name(Self::NAMES, text) {
                    Some(index) => Ok(Self::ALL[index]),
                    None => Err(Error::new(format!(
                        "unknown {} `{}`; expected one of {}",
                        stringify!($name),
                        text,
                        Self::NAMES.join(", "),
                    ))),
                }
            }
        }
    };
    (
        $(#[$meta:meta])*
        pub enum $name:ident = $table:path {
            $( $(#[$vmeta:meta])* $variant:ident, )+
        }
    ) => {
        java_enum! {
            @define
            $(#[$meta])*
            pub enum $name = $table;
            $( $(#[$vmeta])* $variant, )+
        }

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
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $java:literal, )+
        }
    ) => {
        java_enum! {
            @define
            $(#[$meta])*
            pub enum $name = &[$($java),+];
            $( $(#[$vmeta])* $variant, )+
        }
    };
}

/// `Deserialize` for the enums of `java_enum!`: what serde's derive does for unit variants (the
/// variant's name, or its index in formats that identify variants by number), except that names
/// are read by the host's rule ([`nexori_vocabulary::parse_java_name`]).
mod java_serde {
    use core::fmt;

    use serde::de::{self, DeserializeSeed, EnumAccess, Unexpected, VariantAccess, Visitor};

    /// Deserialises a value of the enum `name`, whose variants are `all`, named `names`.
    pub(super) fn deserialize<'de, D, T>(
        deserializer: D,
        name: &'static str,
        names: &'static [&'static str],
        all: &'static [T],
    ) -> Result<T, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: Copy,
    {
        deserializer.deserialize_enum(name, names, EnumVisitor { name, names, all })
    }

    struct EnumVisitor<T: 'static> {
        name: &'static str,
        names: &'static [&'static str],
        all: &'static [T],
    }

    impl<'de, T: Copy> Visitor<'de> for EnumVisitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "enum {}", self.name)
        }

        fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<T, A::Error> {
            let (index, variant) = data.variant_seed(VariantIndex(self.names))?;
            variant.unit_variant()?;
            Ok(self.all[index])
        }
    }

    /// A variant identifier (a name, or an index), read as the variant's index.
    struct VariantIndex(&'static [&'static str]);

    impl<'de> DeserializeSeed<'de> for VariantIndex {
        type Value = usize;

        fn deserialize<D: serde::Deserializer<'de>>(
            self,
            deserializer: D,
        ) -> Result<usize, D::Error> {
            deserializer.deserialize_identifier(self)
        }
    }

    impl<'de> Visitor<'de> for VariantIndex {
        type Value = usize;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("variant identifier")
        }

        fn visit_u64<E: de::Error>(self, index: u64) -> Result<usize, E> {
            match usize::try_from(index) {
                Ok(index) if index < self.0.len() => Ok(index),
                _ => Err(E::invalid_value(
                    Unexpected::Unsigned(index),
                    &format!("variant index 0 <= i < {}", self.0.len()).as_str(),
                )),
            }
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<usize, E> {
            nexori_vocabulary::parse_java_name(self.0, text)
                .ok_or_else(|| E::unknown_variant(text, self.0))
        }

        fn visit_bytes<E: de::Error>(self, bytes: &[u8]) -> Result<usize, E> {
            match core::str::from_utf8(bytes) {
                Ok(text) => self.visit_str(text),
                Err(_) => Err(E::unknown_variant(&String::from_utf8_lossy(bytes), self.0)),
            }
        }
    }
}

// ---------------------------------------------------------------------------- lifecycle events

/// `NexoriMatchPlacementState`: the initial placement window and start gate of a match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchPlacementState {
    /// Players Nexori expects for the match.
    pub expected_players: i32,
    /// Players that arrived at the arena runtime.
    pub arrived_players: i32,
    /// Players that completed initial placement.
    pub placed_players: i32,
    /// `true` once all expected initial players were placed.
    pub placement_complete: bool,
    /// Minimum placed initial players for a partial-roster start when the window closes.
    pub minimum_initial_players: i32,
    /// `true` while Nexori still waits for initial placement.
    pub initial_placement_window_open: bool,
    /// When the initial placement window opened, or 0.
    pub initial_placement_window_started_at_epoch_ms: i64,
    /// Deadline of the initial placement window, or 0.
    pub initial_placement_window_expires_at_epoch_ms: i64,
    /// When the initial placement window closed, or 0.
    pub initial_placement_window_closed_at_epoch_ms: i64,
    /// Why the initial placement window closed (empty while open).
    pub initial_placement_window_close_reason: String,
    /// `true` once gameplay may start (see [`crate::RulesMod::on_match_start_allowed`]).
    pub start_gate_open: bool,
    /// When the start gate opened, or 0.
    pub start_gate_opened_at_epoch_ms: i64,
    /// Why the start gate opened (`ALL_INITIAL_PLAYERS_PLACED`, ...).
    pub start_gate_open_reason: String,
}

/// `NexoriMatchLifecycleEvent`: the snapshot every match-level callback carries.
///
/// The lists are snapshots: copy what you need into your own session state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchLifecycleEvent {
    /// Local Nexori match id (lowercase).
    pub match_id: String,
    /// Queue that launched or owns the match.
    pub queue_id: String,
    /// Arena/game id.
    pub arena_id: String,
    /// Backend assignment id, when available.
    pub assignment_id: String,
    /// Backend-owned match id, when available.
    pub external_match_id: String,
    /// Rules engine id that controls the match.
    pub rules_engine_id: String,
    /// Deprecated; always `"none"`.
    pub match_resolution_trigger_id: String,
    /// Players expected by the launch context.
    pub expected_player_uuids: Vec<PlayerUuid>,
    /// Players that reached the arena runtime.
    pub arrived_player_uuids: Vec<PlayerUuid>,
    /// Players still active in the match runtime.
    pub active_player_uuids: Vec<PlayerUuid>,
    /// Players marked as logical spectators.
    pub spectator_player_uuids: Vec<PlayerUuid>,
    /// Players that must have an outcome before the final submit
    /// (expected ∪ arrived ∪ active ∪ eliminated, in that order).
    pub required_result_player_uuids: Vec<PlayerUuid>,
    /// Placement snapshot at the time of the event.
    pub placement_state: MatchPlacementState,
    /// Nexori's lifecycle reason (`MATCH_CREATED`, `ALL_INITIAL_PLAYERS_PLACED`, ...).
    pub reason: String,
    /// When the match was created.
    pub created_at_epoch_ms: i64,
    /// When the event was emitted.
    pub event_at_epoch_ms: i64,
}

/// `NexoriPlayerMatchLifecycleEvent`: a player-scoped lifecycle event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerMatchLifecycleEvent {
    /// The match-level snapshot (`match` in WIT and Java).
    #[serde(rename = "match")]
    pub match_: MatchLifecycleEvent,
    /// The player this event is about.
    pub player_uuid: PlayerUuid,
    /// Current player name, when known.
    pub player_name: String,
    /// Backend/player assignment id, when available.
    pub player_assignment_id: String,
    /// Nexori's reason for the player event (`PLAYER_ARRIVED`, ...).
    pub reason: String,
    /// When the event was emitted.
    pub event_at_epoch_ms: i64,
}

impl PlayerMatchLifecycleEvent {
    /// Shorthand for `self.match_.match_id`.
    pub fn match_id(&self) -> &str {
        &self.match_.match_id
    }
}

java_enum! {
    /// `NexoriPlayerPlacementOutcome`: how one player's initial placement ended.
    #[derive(Default)]
    pub enum PlayerPlacementOutcome = names::PLAYER_PLACEMENT_OUTCOME {
        /// Nexori confirmed the player's placement.
        #[default]
        Confirmed,
        /// Nexori reached a terminal fallback placement for the player.
        Fallback,
    }
}

/// `NexoriPlayerPlacementLifecycleEvent`: one player's initial placement reached a terminal
/// outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerPlacementLifecycleEvent {
    /// The player-scoped snapshot.
    pub player: PlayerMatchLifecycleEvent,
    /// Terminal outcome of this player's placement.
    pub placement_outcome: PlayerPlacementOutcome,
    /// Match placement snapshot at this point.
    pub placement_state: MatchPlacementState,
    /// World involved in the placement, when known.
    pub world_name: String,
    /// Instance template involved in the placement, when known.
    pub instance_template_id: String,
    /// When the event was emitted.
    pub event_at_epoch_ms: i64,
}

impl PlayerPlacementLifecycleEvent {
    /// Shorthand for `self.player.match_.match_id`.
    pub fn match_id(&self) -> &str {
        self.player.match_id()
    }

    /// Shorthand for `self.player.player_uuid`.
    pub fn player_uuid(&self) -> &str {
        &self.player.player_uuid
    }
}

// ---------------------------------------------------------------------------- AFK

java_enum! {
    /// `NexoriAfkActivitySource`: what caused an AFK transition.
    #[derive(Default)]
    pub enum AfkActivitySource = names::AFK_ACTIVITY_SOURCE {
        /// The source was not specified.
        #[default]
        Unknown,
        /// Nexori's inactivity detector marked the player AFK.
        IdleTimeout,
        /// Player input marked the player active.
        PlayerInput,
        /// Inventory activity marked the player active.
        InventoryPacket,
        /// A policy change reset or changed the AFK state.
        PolicyChange,
        /// A rules mod changed the AFK state through [`crate::set_player_afk`].
        ExternalApi,
    }
}

/// `NexoriPlayerAfkChangedEvent`: a player's AFK state changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerAfkChangedEvent {
    /// Match id.
    pub match_id: String,
    /// Queue that launched or owns the match.
    pub queue_id: String,
    /// Arena/game id.
    pub arena_id: String,
    /// Rules engine id the event was routed by.
    pub rules_engine_id: String,
    /// Player whose AFK state changed.
    pub player_uuid: PlayerUuid,
    /// Player name snapshot, when known.
    pub player_name: String,
    /// The new AFK state.
    pub afk: bool,
    /// When the state changed.
    pub changed_at_epoch_ms: i64,
    /// How long the player had been idle at the transition.
    pub idle_ms: i64,
    /// What caused the transition.
    pub source: AfkActivitySource,
}

/// `NexoriAfkDetectionPolicy`. The host normalises the timeout: ≤ 0 → 30, < 5 → 5, > 3600 → 3600.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AfkDetectionPolicy {
    /// Whether Nexori's built-in inactivity detector runs for this scope.
    pub enabled: bool,
    /// Idle time before a player becomes AFK.
    pub inactivity_timeout_seconds: i32,
}

impl Default for AfkDetectionPolicy {
    /// `NexoriAfkDetectionPolicy.defaults()`: disabled, 30 seconds.
    fn default() -> Self {
        AfkDetectionPolicy {
            enabled: false,
            inactivity_timeout_seconds: 30,
        }
    }
}

java_enum! {
    /// `NexoriSetAfkDetectionPolicyStatus`.
    pub enum SetAfkDetectionPolicyStatus = names::SET_AFK_DETECTION_POLICY_STATUS {
        /// The policy override was stored.
        Updated,
        /// The policy override was cleared.
        Cleared,
        /// The match does not exist (or is not this mod's).
        MatchMissing,
        /// The player does not belong to the match.
        PlayerMissing,
        /// The match was already completed.
        MatchAlreadyCompleted,
        /// The request or policy was invalid (a `None` policy).
        InvalidPolicy,
        /// The host does not support runtime AFK policy overrides.
        NotSupported,
    }
}

/// `NexoriSetAfkDetectionPolicyResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetAfkDetectionPolicyResult {
    /// What happened.
    pub status: SetAfkDetectionPolicyStatus,
    /// Human-readable detail for logs.
    pub message: String,
}

/// `NexoriSetPlayerAfkRequest`: the argument of [`crate::set_player_afk`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetPlayerAfkRequest {
    /// Match id.
    pub match_id: String,
    /// Player to mark.
    pub player_uuid: PlayerUuid,
    /// The requested AFK state.
    pub afk: bool,
    /// Accepted and ignored, as in Nexori.
    pub reason: String,
    /// Whether Nexori shows its AFK HUD; `false` if the mod shows its own feedback.
    pub show_hud: bool,
}

java_enum! {
    /// `NexoriSetPlayerAfkStatus`.
    pub enum SetPlayerAfkStatus = names::SET_PLAYER_AFK_STATUS {
        /// The AFK state changed.
        Updated,
        /// The player already was in the requested state.
        Unchanged,
        /// The match does not exist (or is not this mod's).
        MatchMissing,
        /// The player does not belong to the match.
        PlayerMissing,
        /// The match was already completed.
        MatchAlreadyCompleted,
        /// The request, match id or player UUID was invalid.
        InvalidRequest,
        /// The host does not support external AFK control.
        NotSupported,
    }
}

/// `NexoriSetPlayerAfkResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetPlayerAfkResult {
    /// What happened.
    pub status: SetPlayerAfkStatus,
    /// Human-readable detail for logs.
    pub message: String,
}

// ---------------------------------------------------------------------------- snapshots

java_enum! {
    /// `NexoriMatchResultPlayerOutcome` (WIT `match-result-player-outcome`): one player's result.
    pub enum Outcome = names::MATCH_RESULT_PLAYER_OUTCOME {
        /// The player won.
        Win,
        /// The player lost (marks the player eliminated).
        Loss,
        /// The player left (marks the player eliminated).
        Disconnected,
        /// No contest: for cancelled matches; does not mark the player eliminated.
        NoContest,
    }
}

/// One accumulated outcome of [`ActiveMatchInfo::player_outcomes`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerOutcomeState {
    /// The player.
    pub player_uuid: PlayerUuid,
    /// The stored outcome.
    pub outcome: Outcome,
    /// The reason given with it.
    pub reason: String,
}

/// `NexoriActiveMatchInfo`: the full public snapshot of a match.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveMatchInfo {
    /// Local Nexori match id.
    pub match_id: String,
    /// Queue that launched or owns the match.
    pub queue_id: String,
    /// Arena/game id.
    pub arena_id: String,
    /// Backend assignment id, when available.
    pub assignment_id: String,
    /// Backend-owned match id, when available.
    pub external_match_id: String,
    /// Rules engine id that controls the match.
    pub rules_engine_id: String,
    /// Deprecated; always `"none"`.
    pub match_resolution_trigger_id: String,
    /// Players expected by the launch context.
    pub expected_player_uuids: Vec<PlayerUuid>,
    /// Players that reached the arena runtime.
    pub arrived_player_uuids: Vec<PlayerUuid>,
    /// Players still active in the match runtime.
    pub active_player_uuids: Vec<PlayerUuid>,
    /// Players marked eliminated (a `LOSS` or `DISCONNECTED` outcome).
    pub eliminated_player_uuids: Vec<PlayerUuid>,
    /// Players marked as logical spectators.
    pub spectator_player_uuids: Vec<PlayerUuid>,
    /// Players currently AFK.
    pub afk_player_uuids: Vec<PlayerUuid>,
    /// Players that must have an outcome before the final submit.
    pub required_result_player_uuids: Vec<PlayerUuid>,
    /// Outcomes stored so far by [`crate::set_player_outcome`].
    pub player_outcomes: Vec<PlayerOutcomeState>,
    /// Expected player count.
    pub expected_player_count: i32,
    /// Local completion time, or 0.
    pub completed_at_epoch_ms: i64,
    /// Accepted result submit time, or 0.
    pub result_submitted_at_epoch_ms: i64,
}

/// `NexoriMatchResultRequirements`: who needs an outcome before the final submit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MatchResultRequirements {
    /// Match id.
    pub match_id: String,
    /// expected ∪ arrived ∪ active ∪ eliminated, in that order.
    pub required_player_uuids: Vec<PlayerUuid>,
}

// ---------------------------------------------------------------------------- player state

java_enum! {
    /// `NexoriSetPlayerOutcomeStatus`.
    pub enum SetPlayerOutcomeStatus = names::SET_PLAYER_OUTCOME_STATUS {
        /// The outcome was stored.
        Updated,
        /// The match does not exist (or is not this mod's).
        MatchMissing,
        /// The player does not belong to the match.
        PlayerMissing,
        /// The match was already completed.
        MatchAlreadyCompleted,
        /// The outcome was missing (`Outcome cannot be null.`).
        InvalidOutcome,
        /// The reason, trimmed, exceeds [`PLAYER_REASON_MAX_CHARS`](crate::limits::PLAYER_REASON_MAX_CHARS)
        /// (256) characters (UTF-16 code units).
        InvalidReason,
    }
}

/// `NexoriSetPlayerOutcomeResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetPlayerOutcomeResult {
    /// What happened.
    pub status: SetPlayerOutcomeStatus,
    /// Human-readable detail for logs.
    pub message: String,
}

java_enum! {
    /// `NexoriSetPlayerSpectatorStatus`.
    pub enum SetPlayerSpectatorStatus = names::SET_PLAYER_SPECTATOR_STATUS {
        /// The spectator state was stored.
        Updated,
        /// The match does not exist (or is not this mod's).
        MatchMissing,
        /// The player does not belong to the match.
        PlayerMissing,
        /// The match was already completed.
        MatchAlreadyCompleted,
        /// The reason, trimmed, exceeds [`PLAYER_REASON_MAX_CHARS`](crate::limits::PLAYER_REASON_MAX_CHARS)
        /// (256) characters (UTF-16 code units).
        InvalidReason,
    }
}

/// `NexoriSetPlayerSpectatorResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SetPlayerSpectatorResult {
    /// What happened.
    pub status: SetPlayerSpectatorStatus,
    /// Human-readable detail for logs.
    pub message: String,
}

java_enum! {
    /// `NexoriReturnPlayerStatus`.
    pub enum ReturnPlayerStatus = names::RETURN_PLAYER_STATUS {
        /// The return was scheduled.
        Scheduled,
        /// The match does not exist (or is not this mod's).
        MatchMissing,
        /// The player does not belong to the match.
        PlayerMissing,
        /// The delay was negative.
        InvalidDelay,
        /// The reason, trimmed, exceeds [`PLAYER_REASON_MAX_CHARS`](crate::limits::PLAYER_REASON_MAX_CHARS)
        /// (256) characters (UTF-16 code units).
        InvalidReason,
    }
}

/// `NexoriReturnPlayerResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnPlayerResult {
    /// What happened.
    pub status: ReturnPlayerStatus,
    /// Human-readable detail for logs.
    pub message: String,
}

// ---------------------------------------------------------------------------- final result

/// `NexoriSubmitFinalMatchResultRequest`, as the host receives it.
///
/// Mods normally call [`crate::submit_final_match_result`], which builds this from a
/// `serde::Serialize` value; [`crate::raw::submit_final_match_result`] passes the text as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitFinalMatchResultRequest {
    /// Match to complete.
    pub match_id: String,
    /// Match-level completion reason.
    pub reason: String,
    /// `customData` as JSON text of an object; `None` is treated as `{}`. Text that is not JSON
    /// fails with [`MatchCompletionStatus::InvalidResult`].
    pub custom_data: Option<String>,
}

java_enum! {
    /// `NexoriMatchCompletionStatus`: whether Nexori accepted the result locally.
    pub enum MatchCompletionStatus = names::MATCH_COMPLETION_STATUS {
        /// Nexori accepted the final result.
        Accepted,
        /// The match already has a submitted final result (same payload: idempotent).
        AlreadySubmitted,
        /// The match does not exist (or is not this mod's).
        MatchMissing,
        /// The result failed validation (missing outcomes, no winner, bad `customData`, ...).
        InvalidResult,
    }
}

java_enum! {
    /// `NexoriBackendReportStatus`: what happened with backend reporting (separate from local
    /// completion).
    pub enum BackendReportStatus = names::BACKEND_REPORT_STATUS {
        /// Reporting was queued.
        Queued,
        /// Reporting is disabled or unusable for this match.
        Disabled,
        /// The match has no backend `externalMatchId`.
        ExternalMatchMissing,
        /// The pending report could not be persisted.
        StoreFailed,
        /// The same result was already submitted.
        AlreadySubmitted,
        /// A different result was already submitted.
        DuplicateConflict,
        /// Not attempted because local completion failed.
        NotAttempted,
    }
}

/// `NexoriSubmitFinalMatchResultResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitFinalMatchResultResult {
    /// Local acceptance of the result.
    pub match_status: MatchCompletionStatus,
    /// Backend reporting, separate from local completion.
    pub backend_report_status: BackendReportStatus,
    /// Durable result id when reporting was queued or matched.
    pub result_id: String,
    /// Human-readable detail for logs.
    pub message: String,
}

impl SubmitFinalMatchResultResult {
    /// `true` for [`MatchCompletionStatus::Accepted`] and
    /// [`MatchCompletionStatus::AlreadySubmitted`]: the match is complete either way, so it is
    /// time to return the players.
    pub fn is_completed(&self) -> bool {
        matches!(
            self.match_status,
            MatchCompletionStatus::Accepted | MatchCompletionStatus::AlreadySubmitted
        )
    }
}

// ---------------------------------------------------------------------------- admission

java_enum! {
    /// `NexoriCloseMatchAdmissionReason`: why a mod closes admission.
    pub enum CloseMatchAdmissionReason = names::CLOSE_MATCH_ADMISSION_REASON {
        /// General rules-mod initiated close.
        ModRequest,
        /// Gameplay reached a phase where late joins should stop.
        GamePhaseLocked,
        /// The roster is locked.
        RosterLocked,
        /// An operator forced the close.
        AdminForced,
    }
}

/// `NexoriCloseMatchAdmissionRequest`, as the host receives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseMatchAdmissionRequest {
    /// Match to close.
    pub match_id: String,
    /// Why; `None` answers [`CloseMatchAdmissionStatus::InvalidReason`].
    pub reason: Option<CloseMatchAdmissionReason>,
    /// Optional detail for logs.
    pub message: Option<String>,
}

java_enum! {
    /// `NexoriCloseMatchAdmissionStatus`.
    pub enum CloseMatchAdmissionStatus = names::CLOSE_MATCH_ADMISSION_STATUS {
        /// Admission was closed locally.
        Closed,
        /// Admission was already closed.
        AlreadyClosed,
        /// The match does not exist (or is not this mod's).
        MatchMissing,
        /// The match is active but not backend-driven (normal for local matches).
        MatchNotBackendDriven,
        /// The reason was missing.
        InvalidReason,
        /// Closed locally, but the backend may not have been notified.
        ReportingDisabled,
    }
}

/// `NexoriCloseMatchAdmissionResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseMatchAdmissionResult {
    /// What happened.
    pub status: CloseMatchAdmissionStatus,
    /// Normalised match id the request targeted.
    pub match_id: String,
    /// `true` when admission is closed locally, even if reporting was unusable.
    pub closed_locally: bool,
    /// Human-readable detail for logs.
    pub message: String,
}

// ---------------------------------------------------------------------------- game bridge

/// A gameplay event the game server sent for a match (`game.event` on the bridge). The host does
/// not interpret it; `kind` and `data` are between the game and the mod.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GameEvent {
    /// Match the event belongs to.
    pub match_id: String,
    /// Event kind, e.g. `player.died`.
    pub kind: String,
    /// The player the event is about, if any.
    pub player: Option<PlayerUuid>,
    /// JSON text, if the game sent data.
    pub data: Option<String>,
    /// When the host received the event.
    pub at_epoch_ms: i64,
}

impl GameEvent {
    /// Deserializes [`data`](Self::data): `Ok(None)` when the game sent none, an error naming the
    /// event kind when the JSON does not fit `T`.
    ///
    /// ```
    /// # use nexori_sdk::GameEvent;
    /// #[derive(serde::Deserialize)]
    /// #[serde(rename_all = "camelCase")]
    /// struct Died { killer_player_uuid: Option<String> }
    ///
    /// let event = GameEvent {
    ///     kind: "player.died".into(),
    ///     data: Some(r#"{"killerPlayerUuid":"22222222-2222-2222-2222-222222222222"}"#.into()),
    ///     ..Default::default()
    /// };
    /// let died: Died = event.data_as()?.unwrap();
    /// assert!(died.killer_player_uuid.is_some());
    /// # Ok::<(), nexori_sdk::Error>(())
    /// ```
    pub fn data_as<T: serde::de::DeserializeOwned>(&self) -> Result<Option<T>, Error> {
        self.data
            .as_deref()
            .map(|text| {
                serde_json::from_str(text).map_err(|err| {
                    Error::new(format!(
                        "invalid data for game event `{}`: {err}",
                        self.kind
                    ))
                })
            })
            .transpose()
    }
}

/// `game-events.on-player-disconnected`: a player of the match left the server.
///
/// The runtime keeps the player required for the result; recording
/// [`Outcome::Disconnected`] (or not) is the mod's decision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlayerDisconnectedEvent {
    /// Match the player belonged to.
    pub match_id: String,
    /// The player that left.
    pub player_uuid: PlayerUuid,
    /// Why, as the game server reported it.
    pub reason: String,
    /// When the host learned of it.
    pub at_epoch_ms: i64,
}

/// Something the mod asks the game server to do (`game.command` on the bridge), as the host
/// receives it. Built by [`crate::send_game_command`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GameCommand {
    /// Match the command is for (must be one this mod owns).
    pub match_id: String,
    /// Target player, if any.
    pub player: Option<PlayerUuid>,
    /// Command name, between the game and the mod.
    pub name: String,
    /// JSON text, forwarded as JSON.
    pub data: Option<String>,
}

java_enum! {
    /// Severity of a line in the operator's log (serialised lowercase, as the trace writes it).
    pub enum LogLevel {
        /// Very detailed diagnostics.
        Trace => "trace",
        /// Diagnostics.
        Debug => "debug",
        /// Normal operation.
        Info => "info",
        /// Something the operator should look at.
        Warn => "warn",
        /// Something failed.
        Error => "error",
    }
}
