//! Native tests: the mod runs against `RecordingHost` through the SDK's native path, so each
//! test sees exactly the import calls the component would make.

use nexori_sdk::native::{Call, ModDriver, RecordingHost};
use nexori_sdk::*;
use serde_json::json;

use crate::Scripted;

const M: &str = "m1";
const P: &str = "11111111-1111-1111-1111-111111111111";

fn start(config: &str) -> (RecordingHost, ModDriver<Scripted>) {
    let host = RecordingHost::new();
    host.install();
    let mut driver = ModDriver::new();
    driver.init(config).expect("init");
    host.take_calls();
    (host, driver)
}

fn event(kind: &str, data: serde_json::Value) -> GameEvent {
    GameEvent {
        match_id: M.into(),
        kind: kind.into(),
        data: Some(data.to_string()),
        ..Default::default()
    }
}

fn script(driver: &mut ModDriver<Scripted>, method: &str, args: serde_json::Value) {
    driver.on_game_event(event(
        "script.call",
        json!({ "method": method, "args": args }),
    ));
}

fn warnings(host: &RecordingHost) -> Vec<String> {
    host.logs()
        .into_iter()
        .filter(|(level, _)| *level == LogLevel::Warn)
        .map(|(_, message)| message)
        .collect()
}

fn s(text: &str) -> String {
    text.to_string()
}

#[test]
fn init_registers_both_listeners_for_every_configured_id() {
    let host = RecordingHost::new();
    host.install();
    let mut driver = ModDriver::<Scripted>::new();
    driver.init("{}").unwrap();
    driver.init("{}").unwrap_err(); // once per instance
    assert_eq!(
        host.take_calls(),
        vec![
            Call::RegisterMatchLifecycleListener {
                rules_engine_id: s("scripted")
            },
            Call::RegisterAfkActivityListener {
                rules_engine_id: s("scripted")
            },
        ]
    );

    let mut driver = ModDriver::<Scripted>::new();
    driver.init(r#"{"rulesEngineIds": ["a", "b"]}"#).unwrap();
    assert_eq!(
        host.take_calls(),
        vec![
            Call::RegisterMatchLifecycleListener {
                rules_engine_id: s("a")
            },
            Call::RegisterAfkActivityListener {
                rules_engine_id: s("a")
            },
            Call::RegisterMatchLifecycleListener {
                rules_engine_id: s("b")
            },
            Call::RegisterAfkActivityListener {
                rules_engine_id: s("b")
            },
        ]
    );
}

#[test]
fn init_fails_on_bad_config_or_registration_error() {
    let host = RecordingHost::new();
    host.install();
    let error = ModDriver::<Scripted>::new()
        .init(r#"{"rulesEngineIds": "scripted"}"#)
        .unwrap_err();
    assert!(error.starts_with("invalid mod configuration"), "{error}");

    host.configure(|answers| answers.register_error = Some(s("taken by mod other")));
    let mut driver = ModDriver::<Scripted>::new();
    assert_eq!(driver.init("{}").unwrap_err(), "taken by mod other");
    assert_eq!(driver.init_error(), Some("taken by mod other"));
}

#[test]
#[should_panic(expected = "`on_game_event` was called after `init` failed")]
fn callbacks_after_a_failed_init_trap_with_a_message() {
    let host = RecordingHost::new();
    host.install();
    host.configure(|answers| answers.register_error = Some(s("blank")));
    let mut driver = ModDriver::<Scripted>::new();
    let _ = driver.init("{}");
    driver.on_game_event(event("script.call", json!({})));
}

/// Every public API method, with every argument, in one `script.calls` event.
#[test]
#[allow(deprecated)]
fn every_api_method_is_callable_with_java_argument_names() {
    let (host, mut driver) = start("{}");
    let policy = json!({ "enabled": true, "inactivityTimeoutSeconds": 45 });
    let calls = json!([
        { "method": "findActiveMatchId", "args": { "playerUuid": P } },
        { "method": "findActivePlayerUuid", "args": { "matchId": M, "playerToken": "Alice" } },
        { "method": "findActiveMatchInfo", "args": { "matchId": M } },
        { "method": "findRulesEngineId", "args": { "matchId": M } },
        { "method": "findMatchPlacementState", "args": { "matchId": M } },
        { "method": "findMatchResultRequirements", "args": { "matchId": M } },
        { "method": "findMatchResolutionTriggerId", "args": { "matchId": M } },
        { "method": "setPlayerOutcome", "args": { "matchId": M, "playerUuid": P, "outcome": "NO_CONTEST", "reason": "x" } },
        { "method": "setPlayerSpectator", "args": { "matchId": M, "playerUuid": P, "spectator": true, "reason": "r", "spectatorModelId": "ghost" } },
        { "method": "setMatchAfkDetectionPolicy", "args": { "matchId": M, "policy": policy } },
        { "method": "clearMatchAfkDetectionPolicy", "args": { "matchId": M } },
        { "method": "setPlayerAfkDetectionPolicy", "args": { "matchId": M, "playerUuid": P, "policy": policy } },
        { "method": "clearPlayerAfkDetectionPolicy", "args": { "matchId": M, "playerUuid": P } },
        { "method": "setPlayerAfk", "args": { "matchId": M, "playerUuid": P, "afk": true, "reason": "idle", "showHud": false } },
        { "method": "returnPlayerToLobby", "args": { "matchId": M, "playerUuid": P, "delaySeconds": 5, "reason": "done" } },
        { "method": "submitFinalMatchResult", "args": { "matchId": M, "reason": "done", "customDataJson": "{\"a\":1}" } },
        { "method": "closeMatchAdmission", "args": { "matchId": M, "reason": "ROSTER_LOCKED", "message": "locked" } },
        { "method": "registerMatchLifecycleListener", "args": { "rulesEngineId": "extra" } },
        { "method": "registerAfkActivityListener", "args": { "rulesEngineId": "extra" } },
    ]);
    driver.on_game_event(event("script.calls", calls));

    let afk_policy = Some(AfkDetectionPolicy {
        enabled: true,
        inactivity_timeout_seconds: 45,
    });
    assert_eq!(
        host.calls(),
        vec![
            Call::FindActiveMatchId { player_uuid: s(P) },
            Call::FindActivePlayerUuid {
                match_id: s(M),
                player_token: s("Alice")
            },
            Call::FindActiveMatchInfo { match_id: s(M) },
            Call::FindRulesEngineId { match_id: s(M) },
            Call::FindMatchPlacementState { match_id: s(M) },
            Call::FindMatchResultRequirements { match_id: s(M) },
            Call::FindMatchResolutionTriggerId { match_id: s(M) },
            Call::SetPlayerOutcome {
                match_id: s(M),
                player_uuid: s(P),
                outcome: Some(Outcome::NoContest),
                reason: s("x"),
            },
            Call::SetPlayerSpectator {
                match_id: s(M),
                player_uuid: s(P),
                spectator: true,
                reason: s("r"),
                spectator_model_id: Some(s("ghost")),
            },
            Call::SetMatchAfkDetectionPolicy {
                match_id: s(M),
                policy: afk_policy
            },
            Call::ClearMatchAfkDetectionPolicy { match_id: s(M) },
            Call::SetPlayerAfkDetectionPolicy {
                match_id: s(M),
                player_uuid: s(P),
                policy: afk_policy
            },
            Call::ClearPlayerAfkDetectionPolicy {
                match_id: s(M),
                player_uuid: s(P)
            },
            Call::SetPlayerAfk {
                request: SetPlayerAfkRequest {
                    match_id: s(M),
                    player_uuid: s(P),
                    afk: true,
                    reason: s("idle"),
                    show_hud: false,
                },
            },
            Call::ReturnPlayerToLobby {
                match_id: s(M),
                player_uuid: s(P),
                delay_seconds: 5,
                reason: s("done")
            },
            Call::SubmitFinalMatchResult {
                request: SubmitFinalMatchResultRequest {
                    match_id: s(M),
                    reason: s("done"),
                    custom_data: Some(s("{\"a\":1}")),
                },
            },
            Call::CloseMatchAdmission {
                request: CloseMatchAdmissionRequest {
                    match_id: s(M),
                    reason: Some(CloseMatchAdmissionReason::RosterLocked),
                    message: Some(s("locked")),
                },
            },
            Call::RegisterMatchLifecycleListener {
                rules_engine_id: s("extra")
            },
            Call::RegisterAfkActivityListener {
                rules_engine_id: s("extra")
            },
        ]
    );
    assert_eq!(warnings(&host), Vec::<String>::new());
}

#[test]
fn absent_or_unknown_nullable_arguments_are_passed_as_null() {
    let (host, mut driver) = start("{}");
    script(
        &mut driver,
        "setPlayerOutcome",
        json!({ "matchId": M, "playerUuid": P, "reason": "x" }),
    );
    script(
        &mut driver,
        "setPlayerOutcome",
        json!({ "matchId": M, "playerUuid": P, "outcome": "TIE", "reason": "x" }),
    );
    script(
        &mut driver,
        "setMatchAfkDetectionPolicy",
        json!({ "matchId": M, "policy": null }),
    );
    script(
        &mut driver,
        "setPlayerAfkDetectionPolicy",
        json!({ "matchId": M, "playerUuid": P }),
    );
    script(&mut driver, "closeMatchAdmission", json!({ "matchId": M }));
    script(
        &mut driver,
        "closeMatchAdmission",
        json!({ "matchId": M, "reason": "BECAUSE" }),
    );
    script(
        &mut driver,
        "submitFinalMatchResult",
        json!({ "matchId": M, "reason": "done" }),
    );

    let outcome_null = Call::SetPlayerOutcome {
        match_id: s(M),
        player_uuid: s(P),
        outcome: None,
        reason: s("x"),
    };
    let close_null = Call::CloseMatchAdmission {
        request: CloseMatchAdmissionRequest {
            match_id: s(M),
            reason: None,
            message: None,
        },
    };
    assert_eq!(
        host.api_calls(),
        vec![
            outcome_null.clone(),
            outcome_null,
            Call::SetMatchAfkDetectionPolicy {
                match_id: s(M),
                policy: None
            },
            Call::SetPlayerAfkDetectionPolicy {
                match_id: s(M),
                player_uuid: s(P),
                policy: None
            },
            close_null.clone(),
            close_null,
            Call::SubmitFinalMatchResult {
                request: SubmitFinalMatchResultRequest {
                    match_id: s(M),
                    reason: s("done"),
                    custom_data: None
                },
            },
        ]
    );
    // Absent is Java's null and says nothing; an unknown constant is reported.
    let warnings = warnings(&host);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(
        warnings[0].contains("setPlayerOutcome") && warnings[0].contains("`TIE`"),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("closeMatchAdmission") && warnings[1].contains("`BECAUSE`"),
        "{warnings:?}"
    );
}

#[test]
fn missing_strings_are_empty_and_defaults_apply() {
    let (host, mut driver) = start("{}");
    script(&mut driver, "setPlayerOutcome", json!({ "outcome": "WIN" }));
    script(
        &mut driver,
        "setPlayerAfk",
        json!({ "matchId": M, "playerUuid": P, "afk": true }),
    );
    script(
        &mut driver,
        "returnPlayerToLobby",
        json!({ "matchId": M, "playerUuid": P, "delaySeconds": -1 }),
    );
    script(
        &mut driver,
        "setMatchAfkDetectionPolicy",
        json!({ "matchId": M, "policy": {} }),
    );
    assert_eq!(
        host.api_calls(),
        vec![
            Call::SetPlayerOutcome {
                match_id: s(""),
                player_uuid: s(""),
                outcome: Some(Outcome::Win),
                reason: s("")
            },
            Call::SetPlayerAfk {
                request: SetPlayerAfkRequest {
                    match_id: s(M),
                    player_uuid: s(P),
                    afk: true,
                    reason: s(""),
                    show_hud: true,
                },
            },
            Call::ReturnPlayerToLobby {
                match_id: s(M),
                player_uuid: s(P),
                delay_seconds: -1,
                reason: s("")
            },
            Call::SetMatchAfkDetectionPolicy {
                match_id: s(M),
                policy: Some(AfkDetectionPolicy {
                    enabled: false,
                    inactivity_timeout_seconds: 0
                }),
            },
        ]
    );
    assert!(warnings(&host).is_empty());
}

#[test]
fn custom_data_json_is_passed_verbatim_even_when_invalid() {
    let (host, mut driver) = start("{}");
    script(
        &mut driver,
        "submitFinalMatchResult",
        json!({ "matchId": M, "reason": "r", "customDataJson": "{not json" }),
    );
    assert_eq!(
        host.api_calls(),
        vec![Call::SubmitFinalMatchResult {
            request: SubmitFinalMatchResultRequest {
                match_id: s(M),
                reason: s("r"),
                custom_data: Some(s("{not json")),
            },
        }]
    );
}

#[test]
fn misunderstood_input_is_logged_at_warn_naming_it() {
    let (host, mut driver) = start("{}");
    script(&mut driver, "launchRockets", json!({ "matchId": M }));
    script(
        &mut driver,
        "findRulesEngineId",
        json!({ "matchId": 7, "color": "red" }),
    );
    script(
        &mut driver,
        "setPlayerSpectator",
        json!({ "matchId": M, "playerUuid": P, "spectator": "yes" }),
    );
    script(
        &mut driver,
        "returnPlayerToLobby",
        json!({ "matchId": M, "playerUuid": P, "delaySeconds": 1.5 }),
    );
    driver.on_game_event(event("script.call", json!({ "args": {} })));
    driver.on_game_event(event("script.call", json!("findRulesEngineId")));
    driver.on_game_event(event("script.calls", json!({ "method": "log" })));
    driver.on_game_event(GameEvent {
        kind: "script.call".into(),
        data: Some("{oops".into()),
        ..Default::default()
    });
    driver.on_game_event(GameEvent {
        kind: "script.call".into(),
        data: None,
        ..Default::default()
    });

    let warnings = warnings(&host);
    let expected = [
        "unknown script method `launchRockets`",
        "findRulesEngineId: argument `matchId` must be a string, got a number",
        "findRulesEngineId: unknown argument `color`",
        "setPlayerSpectator: argument `spectator` must be a boolean, got a string",
        "returnPlayerToLobby: argument `delaySeconds` must be an s32 integer, got a number",
        "script call: `method` is missing",
        "script call must be an object {method, args}, got a string",
        "script.calls: data must be an array of calls, got an object",
        "script.call: data is not JSON",
        "script.call: the event has no data",
    ];
    assert_eq!(warnings.len(), expected.len(), "{warnings:#?}");
    for (warning, expected) in warnings.iter().zip(expected) {
        assert!(
            warning.starts_with(expected),
            "{warning:?} should start with {expected:?}"
        );
    }
    // Wrong types still make the call, with the neutral value, so the host answers.
    assert_eq!(host.api_calls().len(), 3);
}

#[test]
fn close_listener_registrations_closes_every_handle_twice() {
    let (host, mut driver) = start(r#"{"rulesEngineIds": ["a"]}"#);
    script(
        &mut driver,
        "registerMatchLifecycleListener",
        json!({ "rulesEngineId": "b" }),
    );
    host.take_calls();
    script(&mut driver, "closeListenerRegistrations", json!({}));
    let closes: Vec<u64> = host
        .calls()
        .into_iter()
        .map(|call| match call {
            Call::CloseListenerRegistration { handle } => handle,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(closes, vec![1, 2, 3, 1, 2, 3]);
}

#[test]
fn host_services_timers_commands_and_log() {
    let (host, mut driver) = start("{}");
    script(&mut driver, "setTimer", json!({ "delayMs": 250 }));
    script(
        &mut driver,
        "sendGameCommand",
        json!({ "matchId": M, "playerUuid": P, "name": "hud.show", "data": { "text": "hi" } }),
    );
    script(
        &mut driver,
        "sendGameCommand",
        json!({ "matchId": M, "name": "round.reset" }),
    );
    script(
        &mut driver,
        "log",
        json!({ "level": "ERROR", "message": "boom" }),
    );
    script(
        &mut driver,
        "log",
        json!({ "level": "loud", "message": "hey" }),
    );
    driver.on_timer(TimerId(1));

    assert_eq!(
        host.pending_timers(),
        vec![(TimerId(1), nexori_sdk::native::DEFAULT_START_EPOCH_MS + 250)]
    );
    let calls: Vec<Call> = host
        .calls()
        .into_iter()
        .filter(|call| !matches!(call, Call::Log { .. }))
        .collect();
    assert_eq!(
        calls,
        vec![
            Call::SetTimer { delay_ms: 250 },
            Call::SendGameCommand {
                command: GameCommand {
                    match_id: s(M),
                    player: Some(s(P)),
                    name: s("hud.show"),
                    data: Some(s(r#"{"text":"hi"}"#)),
                },
            },
            Call::SendGameCommand {
                command: GameCommand {
                    match_id: s(M),
                    player: None,
                    name: s("round.reset"),
                    data: None
                },
            },
        ]
    );
    let logs = host.logs();
    assert_eq!(logs[0], (LogLevel::Error, s("boom")));
    assert_eq!(logs[1].0, LogLevel::Warn);
    assert!(logs[1].1.contains("`level`"), "{logs:?}");
    assert_eq!(logs[2], (LogLevel::Info, s("hey")));
    assert_eq!(logs[3], (LogLevel::Info, s("timer 1 fired")));
}

#[test]
fn host_service_failures_are_logged() {
    let (host, mut driver) = start("{}");
    host.configure(|answers| {
        answers.set_timer_error = Some(s("too many pending timers"));
        answers.send_game_command_error = Some(s("match m2 is not owned by this mod"));
    });
    script(&mut driver, "setTimer", json!({ "delayMs": 1 }));
    script(
        &mut driver,
        "sendGameCommand",
        json!({ "matchId": "m2", "name": "x" }),
    );
    assert_eq!(
        warnings(&host),
        vec![
            s("setTimer failed: too many pending timers"),
            s("sendGameCommand failed: match m2 is not owned by this mod")
        ]
    );
}

#[test]
#[should_panic(expected = "trap requested")]
fn script_trap_traps() {
    let (_host, mut driver) = start("{}");
    driver.on_game_event(GameEvent {
        kind: "script.trap".into(),
        ..Default::default()
    });
}

#[test]
fn other_event_kinds_are_ignored() {
    let (host, mut driver) = start("{}");
    driver.on_game_event(GameEvent {
        kind: "player.died".into(),
        ..Default::default()
    });
    assert!(host.calls().is_empty());
}
