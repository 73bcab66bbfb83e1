//! The one seam between the public API and whatever answers it.
//!
//! Every public import wrapper calls [`with_host`] and one [`NativeHost`] method with SDK types.
//! On wasm the "host" is a zero-sized adapter over the generated bindings (`crate::wasm`);
//! natively it is whatever the caller installed with [`crate::native::set_host`]. Keeping a
//! single trait for both means the native path cannot drift from the wasm one: a mod unit-tested
//! natively makes exactly the calls it makes in the component.

use crate::types::*;

/// One method per import of the `rules-mod` world (`nexori:minigame/api` and
/// `nexori:minigame/host`), with SDK types.
///
/// Implement it to run mods natively: in unit tests ([`crate::native::RecordingHost`] is a ready
/// one) or in a benchmark that drives "the same mod logic compiled natively". Install it with
/// [`crate::native::set_host`]. The SDK's public functions do the argument shaping (serde for
/// `customData`, `Duration` to milliseconds, ...), so an implementation sees exactly what the
/// real host would receive over WIT.
///
/// Listener registrations are identified by a handle the implementation chooses; the SDK hands
/// it back to [`close_listener_registration`](Self::close_listener_registration) each time the
/// mod calls [`crate::ListenerRegistration::close`] (which, like the WIT resource, must be
/// idempotent).
///
/// Methods take `&mut self` so recording hosts need no interior mutability. The SDK holds the
/// host borrowed while a method runs, so a method must not call back into the SDK's public
/// functions (that panics with a message saying so).
pub trait NativeHost {
    /// `api.register-match-lifecycle-listener`: `Ok(handle)` or the host's error text.
    fn register_match_lifecycle_listener(&mut self, rules_engine_id: &str) -> Result<u64, String>;
    /// `api.register-afk-activity-listener`: `Ok(handle)` or the host's error text.
    fn register_afk_activity_listener(&mut self, rules_engine_id: &str) -> Result<u64, String>;
    /// `listener-registration.close` for a handle returned above.
    fn close_listener_registration(&mut self, handle: u64);

    /// `api.find-active-match-id`.
    fn find_active_match_id(&mut self, player_uuid: &str) -> Option<String>;
    /// `api.find-active-player-uuid`.
    fn find_active_player_uuid(&mut self, match_id: &str, player_token: &str)
    -> Option<PlayerUuid>;
    /// `api.find-active-match-info`.
    fn find_active_match_info(&mut self, match_id: &str) -> Option<ActiveMatchInfo>;
    /// `api.find-rules-engine-id`.
    fn find_rules_engine_id(&mut self, match_id: &str) -> Option<String>;
    /// `api.find-match-placement-state`.
    fn find_match_placement_state(&mut self, match_id: &str) -> Option<MatchPlacementState>;
    /// `api.find-match-result-requirements`.
    fn find_match_result_requirements(&mut self, match_id: &str)
    -> Option<MatchResultRequirements>;
    /// `api.find-match-resolution-trigger-id`.
    fn find_match_resolution_trigger_id(&mut self, match_id: &str) -> Option<String>;

    /// `api.set-player-outcome`; `outcome` is `None` for Java `null`.
    fn set_player_outcome(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        outcome: Option<Outcome>,
        reason: &str,
    ) -> SetPlayerOutcomeResult;
    /// `api.set-player-spectator`.
    fn set_player_spectator(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        spectator: bool,
        reason: &str,
        spectator_model_id: Option<&str>,
    ) -> SetPlayerSpectatorResult;

    /// `api.set-match-afk-detection-policy`; `policy` is `None` for Java `null`.
    fn set_match_afk_detection_policy(
        &mut self,
        match_id: &str,
        policy: Option<AfkDetectionPolicy>,
    ) -> SetAfkDetectionPolicyResult;
    /// `api.clear-match-afk-detection-policy`.
    fn clear_match_afk_detection_policy(&mut self, match_id: &str) -> SetAfkDetectionPolicyResult;
    /// `api.set-player-afk-detection-policy`; `policy` is `None` for Java `null`.
    fn set_player_afk_detection_policy(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        policy: Option<AfkDetectionPolicy>,
    ) -> SetAfkDetectionPolicyResult;
    /// `api.clear-player-afk-detection-policy`.
    fn clear_player_afk_detection_policy(
        &mut self,
        match_id: &str,
        player_uuid: &str,
    ) -> SetAfkDetectionPolicyResult;
    /// `api.set-player-afk`.
    fn set_player_afk(&mut self, request: &SetPlayerAfkRequest) -> SetPlayerAfkResult;

    /// `api.return-player-to-lobby`.
    fn return_player_to_lobby(
        &mut self,
        match_id: &str,
        player_uuid: &str,
        delay_seconds: i32,
        reason: &str,
    ) -> ReturnPlayerResult;
    /// `api.submit-final-match-result`; `custom_data` is the JSON text exactly as the mod gave it.
    fn submit_final_match_result(
        &mut self,
        request: &SubmitFinalMatchResultRequest,
    ) -> SubmitFinalMatchResultResult;
    /// `api.close-match-admission`.
    fn close_match_admission(
        &mut self,
        request: &CloseMatchAdmissionRequest,
    ) -> CloseMatchAdmissionResult;

    /// `host.now-epoch-ms`: the host clock (virtual in simulations).
    fn now_epoch_ms(&mut self) -> i64;
    /// `host.current-match-id`.
    fn current_match_id(&mut self) -> Option<String>;
    /// `host.set-timer`: `Ok(timer id)` or the host's error text.
    fn set_timer(&mut self, delay_ms: u64) -> Result<u64, String>;
    /// `host.cancel-timer`: `false` if the timer was not pending.
    fn cancel_timer(&mut self, id: u64) -> bool;
    /// `host.send-game-command`.
    fn send_game_command(&mut self, command: &GameCommand) -> Result<(), String>;
    /// `host.log`.
    fn log(&mut self, level: LogLevel, message: &str);
}

/// Runs `f` against the host answering imports on this target.
#[cfg(target_arch = "wasm32")]
pub(crate) fn with_host<R>(f: impl FnOnce(&mut dyn NativeHost) -> R) -> R {
    f(&mut crate::wasm::WitHost)
}

/// Runs `f` against the host answering imports on this target.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn with_host<R>(f: impl FnOnce(&mut dyn NativeHost) -> R) -> R {
    crate::native::with_installed_host(f)
}
