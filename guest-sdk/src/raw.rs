//! The nullable forms of the API: arguments exactly as WIT (and Java) take them.
//!
//! The common functions at the crate root take plain values because a real mod always has an
//! outcome, a policy or a close reason. These forms exist for Java-`null` parity, so that a mod
//! (in particular the `scripted` test mod) can make the host answer `INVALID_OUTCOME`,
//! `INVALID_POLICY` or `INVALID_REASON`, and for JSON text the mod already has:
//!
//! ```no_run
//! use nexori_sdk::raw;
//!
//! // Java: api.setPlayerOutcome("m1", uuid, null, "x") -> INVALID_OUTCOME
//! let answer = raw::set_player_outcome("m1", "11111111-1111-1111-1111-111111111111", None, "x");
//! // customData passed verbatim, even when it is not valid JSON
//! let answer = raw::submit_final_match_result("m1", "done", Some("{\"mode\":\"x\"}"));
//! ```

use crate::Error;
use crate::host_calls::with_host;
use crate::types::*;

/// `setPlayerOutcome` with a nullable outcome: `None` answers `INVALID_OUTCOME`
/// (`Outcome cannot be null.`).
pub fn set_player_outcome(
    match_id: &str,
    player_uuid: &str,
    outcome: Option<Outcome>,
    reason: &str,
) -> SetPlayerOutcomeResult {
    with_host(|host| host.set_player_outcome(match_id, player_uuid, outcome, reason))
}

/// `setMatchAfkDetectionPolicy` with a nullable policy: `None` answers `INVALID_POLICY`.
pub fn set_match_afk_detection_policy(
    match_id: &str,
    policy: Option<AfkDetectionPolicy>,
) -> SetAfkDetectionPolicyResult {
    with_host(|host| host.set_match_afk_detection_policy(match_id, policy))
}

/// `setPlayerAfkDetectionPolicy` with a nullable policy: `None` answers `INVALID_POLICY`.
pub fn set_player_afk_detection_policy(
    match_id: &str,
    player_uuid: &str,
    policy: Option<AfkDetectionPolicy>,
) -> SetAfkDetectionPolicyResult {
    with_host(|host| host.set_player_afk_detection_policy(match_id, player_uuid, policy))
}

/// `submitFinalMatchResult` with `customData` as JSON text, passed to the host verbatim. `None`
/// is treated as `{}`; text that is not a JSON object answers `INVALID_RESULT`.
pub fn submit_final_match_result(
    match_id: &str,
    reason: &str,
    custom_data_json: Option<&str>,
) -> SubmitFinalMatchResultResult {
    let request = SubmitFinalMatchResultRequest {
        match_id: match_id.to_string(),
        reason: reason.to_string(),
        custom_data: custom_data_json.map(str::to_string),
    };
    with_host(|host| host.submit_final_match_result(&request))
}

/// `closeMatchAdmission` with a nullable reason: `None` answers `INVALID_REASON`
/// (`Close reason cannot be null.`).
pub fn close_match_admission(
    match_id: &str,
    reason: Option<CloseMatchAdmissionReason>,
    message: Option<&str>,
) -> CloseMatchAdmissionResult {
    let request = CloseMatchAdmissionRequest {
        match_id: match_id.to_string(),
        reason,
        message: message.map(str::to_string),
    };
    with_host(|host| host.close_match_admission(&request))
}

/// `send-game-command` with `data` as JSON text, passed to the host verbatim.
pub fn send_game_command(
    match_id: &str,
    player: Option<&str>,
    name: &str,
    data_json: Option<&str>,
) -> Result<(), Error> {
    let command = GameCommand {
        match_id: match_id.to_string(),
        player: player.map(str::to_string),
        name: name.to_string(),
        data: data_json.map(str::to_string),
    };
    with_host(|host| host.send_game_command(&command)).map_err(Error::new)
}
