//! The limits the host enforces on what a mod sends: reasons, result metadata and the
//! `customData` of a final result (docs/arena-behaviour.md#customdata-rules). Going over one gets
//! the API call's `INVALID_REASON` or `INVALID_RESULT` answer.
//!
//! Lengths named `..._CHARS` count UTF-16 code units (Java `char`s, what the reference runtime
//! measures): a character outside the Basic Multilingual Plane, such as most emoji, counts two.
//! Where a text is trimmed first, it is trimmed as Java's `String.trim()` does (every character up
//! to U+0020 at either end). `CUSTOM_DATA_MAX_BYTES` counts UTF-8 bytes.

/// Longest reason of `setPlayerOutcome`, `setPlayerSpectator` and `returnPlayerToLobby`, in
/// UTF-16 code units after trimming.
pub const PLAYER_REASON_MAX_CHARS: usize = 256;

/// Longest reason of a final match result, in UTF-16 code units after trimming.
pub const RESULT_REASON_MAX_CHARS: usize = 512;
/// Most metadata entries a final match result may carry (only results the host makes carry
/// metadata; mods' never do).
pub const RESULT_METADATA_MAX_ENTRIES: usize = 32;
/// Longest metadata key of a final match result, in UTF-16 code units after trimming.
pub const RESULT_METADATA_KEY_MAX_CHARS: usize = 64;
/// Longest metadata value of a final match result, in UTF-16 code units after trimming.
pub const RESULT_METADATA_VALUE_MAX_CHARS: usize = 512;

/// Largest `customData`, in UTF-8 bytes of its canonical JSON text (compact, members sorted,
/// `null` members dropped), that is accepted; strictly larger fails.
pub const CUSTOM_DATA_MAX_BYTES: usize = 32_768;
/// Deepest element of `customData` allowed: the root object is depth 1 and every member value or
/// array element is one deeper than its container.
pub const CUSTOM_DATA_MAX_DEPTH: usize = 8;
/// Most object members allowed in `customData`, counted across every object at every depth.
pub const CUSTOM_DATA_MAX_PROPERTIES: usize = 256;
/// Most elements allowed in any one array of `customData`.
pub const CUSTOM_DATA_MAX_ARRAY_LENGTH: usize = 128;
/// Longest property name in `customData`, in UTF-16 code units after trimming.
pub const CUSTOM_DATA_PROPERTY_NAME_MAX_CHARS: usize = 64;
/// Longest string value in `customData`, in UTF-16 code units, measured untrimmed.
pub const CUSTOM_DATA_STRING_MAX_CHARS: usize = 1024;
