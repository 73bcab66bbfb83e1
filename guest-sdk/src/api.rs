//! Typed wrappers for `NexoriMinigameApi` (WIT interface `nexori:minigame/api`).
//!
//! Every function is re-exported at the crate root. Ownership applies everywhere: a mod sees and
//! changes only matches whose `rulesEngineId` it registered; for any other match id the host
//! answers exactly as if the match did not exist (`MATCH_MISSING`, or `None`). Match ids are
//! trimmed and lowercased by the host.
//!
//! Where the WIT signature has an `option<..>` only for Java-`null` parity (outcome, AFK
//! policy, admission close reason, raw `customData`), the function here takes the plain value
//! and [`crate::raw`] has the nullable form.

use serde::Serialize;

use crate::Error;
use crate::host_calls::with_host;
use crate::types::*;

// ---------------------------------------------------------------------------- registration

/// Which listener a [`ListenerRegistration`] routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ListenerKind {
    /// Lifecycle callbacks (`registerMatchLifecycleListener`).
    MatchLifecycle,
    /// AFK callbacks (`registerAfkActivityListener`).
    AfkActivity,
}

/// `NexoriListenerRegistration`: the handle a registration returns.
///
/// As in Nexori, dropping the handle does **not** unregister, so a mod that never unregisters can
/// ignore it (`register_match_lifecycle_listener("my_mode")?;`). [`close`](Self::close)
/// unregisters; it may be called any number of times, and every call reaches the host, whose
/// `close` is idempotent by contract.
#[derive(Debug)]
pub struct ListenerRegistration {
    handle: u64,
    kind: ListenerKind,
    rules_engine_id: String,
}

impl ListenerRegistration {
    /// Unregisters the listener. Calling it again does nothing.
    ///
    /// ```no_run
    /// let registration = nexori_sdk::register_afk_activity_listener("my_mode")?;
    /// registration.close();
    /// registration.close(); // no effect
    /// # Ok::<(), nexori_sdk::Error>(())
    /// ```
    pub fn close(&self) {
        with_host(|host| host.close_listener_registration(self.handle))
    }

    /// Which callbacks this registration routes.
    pub fn kind(&self) -> ListenerKind {
        self.kind
    }

    /// The rules engine id given at registration (as passed, before the host trims it).
    pub fn rules_engine_id(&self) -> &str {
        &self.rules_engine_id
    }
}

fn registration(
    kind: ListenerKind,
    rules_engine_id: &str,
    result: Result<u64, String>,
) -> Result<ListenerRegistration, Error> {
    result
        .map(|handle| ListenerRegistration {
            handle,
            kind,
            rules_engine_id: rules_engine_id.to_string(),
        })
        .map_err(Error::new)
}

/// `registerMatchLifecycleListener`: routes the lifecycle callbacks of matches whose
/// `rulesEngineId` equals `rules_engine_id` (trimmed, case-sensitive) to this mod's
/// [`RulesMod`](crate::RulesMod) lifecycle methods. Call it from
/// [`RulesMod::init`](crate::RulesMod::init).
///
/// Errors: a blank id (`Rules engine id cannot be blank.`), or an id another mod registered.
///
/// ```no_run
/// # fn init() -> Result<(), String> {
/// nexori_sdk::register_match_lifecycle_listener("last_standing")?;
/// # Ok(()) }
/// ```
pub fn register_match_lifecycle_listener(
    rules_engine_id: &str,
) -> Result<ListenerRegistration, Error> {
    let result = with_host(|host| host.register_match_lifecycle_listener(rules_engine_id));
    registration(ListenerKind::MatchLifecycle, rules_engine_id, result)
}

/// `registerAfkActivityListener`: routes [`RulesMod::on_player_afk_changed`] for matches of
/// `rules_engine_id` to this mod. Errors as [`register_match_lifecycle_listener`].
///
/// [`RulesMod::on_player_afk_changed`]: crate::RulesMod::on_player_afk_changed
pub fn register_afk_activity_listener(
    rules_engine_id: &str,
) -> Result<ListenerRegistration, Error> {
    let result = with_host(|host| host.register_afk_activity_listener(rules_engine_id));
    registration(ListenerKind::AfkActivity, rules_engine_id, result)
}

// ---------------------------------------------------------------------------- lookups

/// `findActiveMatchId`: the active match of a player, if it is one of this mod's.
pub fn find_active_match_id(player_uuid: &str) -> Option<String> {
    with_host(|host| host.find_active_match_id(player_uuid))
}

/// `findActivePlayerUuid`: resolves a UUID or the name of an active, online player
/// (case-insensitive) inside a match.
///
/// ```no_run
/// if let Some(uuid) = nexori_sdk::find_active_player_uuid("m1", "Alice") {
///     nexori_sdk::info!("Alice is {uuid}");
/// }
/// ```
pub fn find_active_player_uuid(match_id: &str, player_token: &str) -> Option<PlayerUuid> {
    with_host(|host| host.find_active_player_uuid(match_id, player_token))
}

/// `findActiveMatchInfo`: the full public snapshot of a match.
pub fn find_active_match_info(match_id: &str) -> Option<ActiveMatchInfo> {
    with_host(|host| host.find_active_match_info(match_id))
}

/// `findRulesEngineId`: the rules engine id of a match.
pub fn find_rules_engine_id(match_id: &str) -> Option<String> {
    with_host(|host| host.find_rules_engine_id(match_id))
}

/// `findMatchPlacementState`: the placement window and start gate snapshot. Callback-driven mods
/// rarely need it: [`RulesMod::on_match_start_allowed`](crate::RulesMod::on_match_start_allowed)
/// is the gameplay unlock signal.
pub fn find_match_placement_state(match_id: &str) -> Option<MatchPlacementState> {
    with_host(|host| host.find_match_placement_state(match_id))
}

/// `findMatchResultRequirements`: the players that need an outcome before
/// [`submit_final_match_result`].
///
/// ```no_run
/// use nexori_sdk::{Outcome, find_match_result_requirements, set_player_outcome};
///
/// if let Some(requirements) = find_match_result_requirements("m1") {
///     for uuid in &requirements.required_player_uuids {
///         set_player_outcome("m1", uuid, Outcome::NoContest, "aborted");
///     }
/// }
/// ```
pub fn find_match_result_requirements(match_id: &str) -> Option<MatchResultRequirements> {
    with_host(|host| host.find_match_result_requirements(match_id))
}

/// `findMatchResolutionTriggerId`: deprecated, answers `"none"` for active matches. Use the
/// `rules_engine_id` of events or [`find_rules_engine_id`] instead.
#[deprecated(note = "Nexori answers \"none\" for active matches; use `find_rules_engine_id`")]
pub fn find_match_resolution_trigger_id(match_id: &str) -> Option<String> {
    with_host(|host| host.find_match_resolution_trigger_id(match_id))
}

// ---------------------------------------------------------------------------- player state

/// `setPlayerOutcome`: stores or replaces one player's outcome. `LOSS` and `DISCONNECTED` mark
/// the player eliminated; nothing is reported or returned until
/// [`submit_final_match_result`] / [`return_player_to_lobby`].
///
/// ```no_run
/// use nexori_sdk::{Outcome, SetPlayerOutcomeStatus, set_player_outcome, warn};
///
/// let result = set_player_outcome("m1", "11111111-1111-1111-1111-111111111111", Outcome::Loss, "fell_into_void");
/// if result.status != SetPlayerOutcomeStatus::Updated {
///     warn!("could not store outcome: {}", result.message);
/// }
/// ```
pub fn set_player_outcome(
    match_id: &str,
    player_uuid: &str,
    outcome: Outcome,
    reason: &str,
) -> SetPlayerOutcomeResult {
    crate::raw::set_player_outcome(match_id, player_uuid, Some(outcome), reason)
}

/// `setPlayerSpectator` (both Java overloads): logical spectator state, plus an optional
/// temporary spectator model the host applies while the player is online.
///
/// ```no_run
/// nexori_sdk::set_player_spectator("m1", "11111111-1111-1111-1111-111111111111", true, "eliminated_can_watch", None);
/// ```
pub fn set_player_spectator(
    match_id: &str,
    player_uuid: &str,
    spectator: bool,
    reason: &str,
    spectator_model_id: Option<&str>,
) -> SetPlayerSpectatorResult {
    with_host(|host| {
        host.set_player_spectator(match_id, player_uuid, spectator, reason, spectator_model_id)
    })
}

// ---------------------------------------------------------------------------- AFK

/// `setMatchAfkDetectionPolicy`: overrides the AFK detection policy of a whole match.
///
/// ```no_run
/// use nexori_sdk::AfkDetectionPolicy;
/// let policy = AfkDetectionPolicy { enabled: true, inactivity_timeout_seconds: 60 };
/// nexori_sdk::set_match_afk_detection_policy("m1", policy);
/// ```
pub fn set_match_afk_detection_policy(
    match_id: &str,
    policy: AfkDetectionPolicy,
) -> SetAfkDetectionPolicyResult {
    crate::raw::set_match_afk_detection_policy(match_id, Some(policy))
}

/// `clearMatchAfkDetectionPolicy`: drops the match-level override.
pub fn clear_match_afk_detection_policy(match_id: &str) -> SetAfkDetectionPolicyResult {
    with_host(|host| host.clear_match_afk_detection_policy(match_id))
}

/// `setPlayerAfkDetectionPolicy`: overrides the AFK detection policy of one player (takes
/// precedence over the match policy).
pub fn set_player_afk_detection_policy(
    match_id: &str,
    player_uuid: &str,
    policy: AfkDetectionPolicy,
) -> SetAfkDetectionPolicyResult {
    crate::raw::set_player_afk_detection_policy(match_id, player_uuid, Some(policy))
}

/// `clearPlayerAfkDetectionPolicy`: drops the player-level override.
pub fn clear_player_afk_detection_policy(
    match_id: &str,
    player_uuid: &str,
) -> SetAfkDetectionPolicyResult {
    with_host(|host| host.clear_player_afk_detection_policy(match_id, player_uuid))
}

/// `setPlayerAfk`: marks a player AFK or active from the mod's own logic (works with detection
/// disabled). The request type mirrors Java's, which keeps the two booleans readable.
///
/// ```no_run
/// use nexori_sdk::{SetPlayerAfkRequest, set_player_afk};
/// set_player_afk(&SetPlayerAfkRequest {
///     match_id: "m1".into(),
///     player_uuid: "11111111-1111-1111-1111-111111111111".into(),
///     afk: true,
///     reason: "camping".into(),
///     show_hud: false,
/// });
/// ```
pub fn set_player_afk(request: &SetPlayerAfkRequest) -> SetPlayerAfkResult {
    with_host(|host| host.set_player_afk(request))
}

// ---------------------------------------------------------------------------- returns, results, admission

/// `returnPlayerToLobby`: schedules one player's return after `delay_seconds` of host time. Does
/// not set outcomes or complete the match.
///
/// ```no_run
/// # let required: Vec<String> = vec![];
/// for uuid in &required {
///     nexori_sdk::return_player_to_lobby("m1", uuid, 5, "match_completed");
/// }
/// ```
pub fn return_player_to_lobby(
    match_id: &str,
    player_uuid: &str,
    delay_seconds: i32,
    reason: &str,
) -> ReturnPlayerResult {
    with_host(|host| host.return_player_to_lobby(match_id, player_uuid, delay_seconds, reason))
}

/// `submitFinalMatchResult`: completes the match with the accumulated outcomes. `custom_data` is
/// serialised with serde_json and must be a JSON object within Nexori's [limits](crate::limits)
/// ([32 KiB](crate::limits::CUSTOM_DATA_MAX_BYTES),
/// [depth 8](crate::limits::CUSTOM_DATA_MAX_DEPTH),
/// [256 properties](crate::limits::CUSTOM_DATA_MAX_PROPERTIES), ...), and `reason` at most
/// [512 characters](crate::limits::RESULT_REASON_MAX_CHARS) once trimmed, or the host answers
/// `INVALID_RESULT`.
///
/// Errors only if `custom_data` cannot be serialised (then nothing is sent). Call it once, after
/// every required player has an outcome; it does not return players to the lobby.
///
/// ```no_run
/// use nexori_sdk::{submit_final_match_result, warn};
///
/// #[derive(serde::Serialize)]
/// #[serde(rename_all = "camelCase")]
/// struct Custom { mode: &'static str, capture_point_id: &'static str }
///
/// let result = submit_final_match_result("m1", "mid_capture_point_captured",
///     &Custom { mode: "mid_capture", capture_point_id: "mid" })?;
/// if !result.is_completed() {
///     warn!("result rejected: {}", result.message);
/// }
/// # Ok::<(), nexori_sdk::Error>(())
/// ```
pub fn submit_final_match_result<T: Serialize + ?Sized>(
    match_id: &str,
    reason: &str,
    custom_data: &T,
) -> Result<SubmitFinalMatchResultResult, Error> {
    let text = serde_json::to_string(custom_data)
        .map_err(|err| Error::new(format!("customData could not be serialised: {err}")))?;
    Ok(crate::raw::submit_final_match_result(
        match_id,
        reason,
        Some(&text),
    ))
}

/// `closeMatchAdmission`: stops backend admission (backfill) for a backend-driven match.
/// `MATCH_NOT_BACKEND_DRIVEN` is the normal answer for local matches.
///
/// ```no_run
/// use nexori_sdk::{CloseMatchAdmissionReason, CloseMatchAdmissionStatus, close_match_admission, warn};
///
/// let result = close_match_admission("m1", CloseMatchAdmissionReason::GamePhaseLocked,
///     Some("Capture phase has started."));
/// if !matches!(result.status, CloseMatchAdmissionStatus::Closed | CloseMatchAdmissionStatus::AlreadyClosed) {
///     warn!("could not close admission: {}", result.message);
/// }
/// ```
pub fn close_match_admission(
    match_id: &str,
    reason: CloseMatchAdmissionReason,
    message: Option<&str>,
) -> CloseMatchAdmissionResult {
    crate::raw::close_match_admission(match_id, Some(reason), message)
}
