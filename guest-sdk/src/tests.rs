//! Unit tests of the native path and the SDK types.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use crate::native::{Call, ModDriver, RecordingHost};
use crate::*;

fn s(text: &str) -> String {
    text.to_string()
}

#[test]
fn enums_serialise_display_and_parse_as_java_names() {
    fn check<T>(all: &[T])
    where
        T: Copy + PartialEq + core::fmt::Debug + core::fmt::Display + serde::Serialize,
        T: core::str::FromStr<Err = Error> + serde::de::DeserializeOwned,
    {
        for value in all {
            let text = value.to_string();
            assert_eq!(serde_json::to_value(value).unwrap(), json!(text));
            assert_eq!(text.parse::<T>().unwrap(), *value);
            assert_eq!(serde_json::from_value::<T>(json!(text)).unwrap(), *value);
        }
    }
    check(Outcome::ALL);
    check(PlayerPlacementOutcome::ALL);
    check(AfkActivitySource::ALL);
    check(SetAfkDetectionPolicyStatus::ALL);
    check(SetPlayerAfkStatus::ALL);
    check(SetPlayerOutcomeStatus::ALL);
    check(SetPlayerSpectatorStatus::ALL);
    check(ReturnPlayerStatus::ALL);
    check(MatchCompletionStatus::ALL);
    check(BackendReportStatus::ALL);
    check(CloseMatchAdmissionReason::ALL);
    check(CloseMatchAdmissionStatus::ALL);
    check(LogLevel::ALL);

    assert_eq!(Outcome::NoContest.as_str(), "NO_CONTEST");
    assert_eq!(
        SetPlayerOutcomeStatus::MatchMissing.to_string(),
        "MATCH_MISSING"
    );
    assert_eq!(
        CloseMatchAdmissionStatus::MatchNotBackendDriven.as_str(),
        "MATCH_NOT_BACKEND_DRIVEN"
    );
    // Names are read by the host's rule (nexori_vocabulary::parse_java_name): trimmed, ASCII case
    // ignored.
    assert_eq!(" win ".parse::<Outcome>().unwrap(), Outcome::Win);
    assert_eq!(
        "No_Contest\n".parse::<Outcome>().unwrap(),
        Outcome::NoContest
    );
    assert_eq!("WARN".parse::<LogLevel>().unwrap(), LogLevel::Warn);
    let error = "tie".parse::<Outcome>().unwrap_err();
    assert_eq!(
        error.message(),
        "unknown Outcome `tie`; expected one of WIN, LOSS, DISCONNECTED, NO_CONTEST"
    );
    let error = "".parse::<CloseMatchAdmissionReason>().unwrap_err();
    assert_eq!(
        error.message(),
        "unknown CloseMatchAdmissionReason ``; expected one of MOD_REQUEST, GAME_PHASE_LOCKED, \
         ROSTER_LOCKED, ADMIN_FORCED"
    );
}

/// The hand-written `Deserialize` of the SDK's enums accepts everything serde's derive (which they
/// used before) accepted, with the same result, and fails the same way where it failed; the only
/// difference is that names are read by the host's rule, so what it adds are names with other
/// ASCII case or surrounding white space.
#[test]
fn enums_deserialise_like_the_derive_plus_the_shared_parse_rule() {
    #[derive(Debug, PartialEq, serde::Deserialize)]
    enum Derived {
        #[serde(rename = "WIN")]
        Win,
        #[serde(rename = "LOSS")]
        Loss,
        #[serde(rename = "DISCONNECTED")]
        Disconnected,
        #[serde(rename = "NO_CONTEST")]
        NoContest,
    }
    // Derived's variants are Outcome's, in the same order.
    fn same(derived: &Derived, outcome: Outcome) -> bool {
        let derived = match derived {
            Derived::Win => 0,
            Derived::Loss => 1,
            Derived::Disconnected => 2,
            Derived::NoContest => 3,
        };
        Outcome::ALL[derived] == outcome
    }

    let inputs = [
        json!("WIN"),
        json!("NO_CONTEST"),
        json!({"LOSS": null}),
        json!({"LOSS": 1}),
        json!({"LOSS": null, "WIN": null}),
        json!("TIE"),
        json!(""),
        json!("NO-CONTEST"),
        json!(0),
        json!(null),
        json!(true),
        json!(["WIN"]),
        json!({}),
        json!("win"),
        json!(" Disconnected\t"),
        json!({" loss ": null}),
    ];
    for input in inputs {
        let derived = serde_json::from_value::<Derived>(input.clone());
        let ours = serde_json::from_value::<Outcome>(input.clone());
        match (&derived, &ours) {
            (Ok(derived), Ok(ours)) => assert!(same(derived, *ours), "{input}"),
            (Err(derived), Err(ours)) => {
                // Same message, but for the type's name.
                let derived = derived.to_string().replace("Derived", "Outcome");
                assert_eq!(derived, ours.to_string(), "{input}");
            }
            (Err(_), Ok(ours)) => {
                let text = input
                    .as_str()
                    .or_else(|| {
                        input
                            .as_object()
                            .and_then(|o| o.keys().next())
                            .map(|k| k.as_str())
                    })
                    .unwrap();
                assert_eq!(text.trim().to_ascii_uppercase(), ours.as_str(), "{input}");
            }
            (Ok(_), Err(err)) => panic!("{input}: the derive accepted it, ours says {err}"),
        }
    }
    assert_eq!(
        serde_json::from_value::<Outcome>(json!(" win ")).unwrap(),
        Outcome::Win
    );
    // Formats that identify variants by index (serde_json does not) get the same answers too.
    use serde::Deserialize;
    use serde::de::IntoDeserializer;
    use serde::de::value::Error as ValueError;
    for index in [0u32, 3, 4, u32::MAX] {
        let derived = Derived::deserialize(index.into_deserializer()).map_err(|e: ValueError| e);
        let ours = Outcome::deserialize(index.into_deserializer()).map_err(|e: ValueError| e);
        match (derived, ours) {
            (Ok(derived), Ok(ours)) => assert!(same(&derived, ours), "{index}"),
            (Err(derived), Err(ours)) => assert_eq!(derived.to_string(), ours.to_string()),
            (derived, ours) => panic!("{index}: derive {derived:?}, ours {ours:?}"),
        }
    }
}

#[test]
fn records_serialise_in_camel_case() {
    let event = PlayerPlacementLifecycleEvent {
        player: PlayerMatchLifecycleEvent {
            match_: MatchLifecycleEvent {
                match_id: s("m1"),
                ..Default::default()
            },
            player_uuid: s("p"),
            ..Default::default()
        },
        ..Default::default()
    };
    let value = serde_json::to_value(&event).unwrap();
    assert_eq!(value["placementOutcome"], "CONFIRMED");
    assert_eq!(value["player"]["match"]["matchId"], "m1");
    assert_eq!(value["player"]["playerUuid"], "p");
    assert_eq!(value["placementState"]["startGateOpen"], false);
    assert_eq!(event.match_id(), "m1");
    assert_eq!(event.player_uuid(), "p");

    let result = SubmitFinalMatchResultResult {
        match_status: MatchCompletionStatus::AlreadySubmitted,
        backend_report_status: BackendReportStatus::DuplicateConflict,
        result_id: s("r"),
        message: s(""),
    };
    assert_eq!(
        serde_json::to_value(&result).unwrap(),
        json!({ "matchStatus": "ALREADY_SUBMITTED", "backendReportStatus": "DUPLICATE_CONFLICT", "resultId": "r", "message": "" })
    );
    assert!(result.is_completed());
}

#[test]
fn mod_config_parses_with_defaults() {
    #[derive(serde::Deserialize, Debug, PartialEq)]
    #[serde(default)]
    struct Config {
        a: i32,
        b: Vec<String>,
    }
    impl Default for Config {
        fn default() -> Self {
            Config {
                a: 1,
                b: vec![s("x")],
            }
        }
    }
    assert_eq!(
        ModConfig::new("").parse::<Config>().unwrap(),
        Config::default()
    );
    assert_eq!(
        ModConfig::default().parse::<Config>().unwrap(),
        Config::default()
    );
    assert_eq!(
        ModConfig::new(r#"{"a": 2}"#).parse::<Config>().unwrap(),
        Config {
            a: 2,
            b: vec![s("x")]
        }
    );
    let error = ModConfig::new(r#"{"a": "two"}"#)
        .parse::<Config>()
        .unwrap_err();
    assert!(
        error
            .message()
            .starts_with("invalid mod configuration: invalid type"),
        "{error}"
    );
    let as_string: String = error.into();
    assert!(as_string.starts_with("invalid mod configuration"));
}

#[test]
fn game_event_data_as() {
    let mut event = GameEvent {
        kind: s("k"),
        ..Default::default()
    };
    assert_eq!(event.data_as::<serde_json::Value>().unwrap(), None);
    event.data = Some(s(r#"{"x": 1}"#));
    assert_eq!(
        event.data_as::<serde_json::Value>().unwrap(),
        Some(json!({ "x": 1 }))
    );
    event.data = Some(s("{"));
    assert!(
        event
            .data_as::<serde_json::Value>()
            .unwrap_err()
            .message()
            .starts_with("invalid data for game event `k`")
    );
}

#[test]
fn every_import_reaches_the_native_host_with_its_arguments() {
    let host = RecordingHost::new();
    host.install();
    host.configure(|answers| {
        answers.find_rules_engine_id = Some(s("mode"));
        answers.current_match_id = Some(s("m1"));
    });

    let registration = register_match_lifecycle_listener("mode").unwrap();
    assert_eq!(registration.kind(), ListenerKind::MatchLifecycle);
    assert_eq!(registration.rules_engine_id(), "mode");
    registration.close();
    registration.close();
    let afk = register_afk_activity_listener("mode").unwrap();
    assert_eq!(afk.kind(), ListenerKind::AfkActivity);

    assert_eq!(find_rules_engine_id("m1"), Some(s("mode")));
    assert_eq!(find_active_match_info("m1"), None);
    let policy = AfkDetectionPolicy {
        enabled: true,
        inactivity_timeout_seconds: 10,
    };
    assert_eq!(
        set_match_afk_detection_policy("m1", policy).status,
        SetAfkDetectionPolicyStatus::Updated
    );
    assert_eq!(
        raw::set_player_afk_detection_policy("m1", "p", None).status,
        SetAfkDetectionPolicyStatus::Updated
    );
    assert_eq!(
        clear_player_afk_detection_policy("m1", "p").status,
        SetAfkDetectionPolicyStatus::Cleared
    );
    assert_eq!(
        raw::set_player_outcome("m1", "p", None, "r").status,
        SetPlayerOutcomeStatus::Updated
    );
    let close = close_match_admission(" M1 ", CloseMatchAdmissionReason::ModRequest, None);
    assert_eq!(close.match_id, "m1");

    assert_eq!(now_epoch_ms(), native::DEFAULT_START_EPOCH_MS);
    host.advance(5);
    assert_eq!(now_epoch_ms(), native::DEFAULT_START_EPOCH_MS + 5);
    assert_eq!(current_match_id(), Some(s("m1")));
    let timer = set_timer(Duration::from_millis(1500)).unwrap();
    assert_eq!(set_timer_ms(10).unwrap(), TimerId(2));
    assert!(cancel_timer(TimerId(2)));
    assert!(!cancel_timer(TimerId(2)));
    assert_eq!(
        host.pending_timers(),
        vec![(timer, native::DEFAULT_START_EPOCH_MS + 5 + 1500)]
    );
    send_game_command("m1", Some("p"), "hud", Some(&json!({ "a": [1, 2] }))).unwrap();
    send_game_command("m1", None, "reset", None::<&()>).unwrap();
    crate::info!("hello {}", 1);
    crate::warn!("careful");

    assert_eq!(
        host.calls(),
        vec![
            Call::RegisterMatchLifecycleListener {
                rules_engine_id: s("mode")
            },
            Call::CloseListenerRegistration { handle: 1 },
            Call::CloseListenerRegistration { handle: 1 },
            Call::RegisterAfkActivityListener {
                rules_engine_id: s("mode")
            },
            Call::FindRulesEngineId { match_id: s("m1") },
            Call::FindActiveMatchInfo { match_id: s("m1") },
            Call::SetMatchAfkDetectionPolicy {
                match_id: s("m1"),
                policy: Some(policy)
            },
            Call::SetPlayerAfkDetectionPolicy {
                match_id: s("m1"),
                player_uuid: s("p"),
                policy: None
            },
            Call::ClearPlayerAfkDetectionPolicy {
                match_id: s("m1"),
                player_uuid: s("p")
            },
            Call::SetPlayerOutcome {
                match_id: s("m1"),
                player_uuid: s("p"),
                outcome: None,
                reason: s("r")
            },
            Call::CloseMatchAdmission {
                request: CloseMatchAdmissionRequest {
                    match_id: s(" M1 "),
                    reason: Some(CloseMatchAdmissionReason::ModRequest),
                    message: None,
                },
            },
            Call::NowEpochMs,
            Call::NowEpochMs,
            Call::CurrentMatchId,
            Call::SetTimer { delay_ms: 1500 },
            Call::SetTimer { delay_ms: 10 },
            Call::CancelTimer { id: 2 },
            Call::CancelTimer { id: 2 },
            Call::SendGameCommand {
                command: GameCommand {
                    match_id: s("m1"),
                    player: Some(s("p")),
                    name: s("hud"),
                    data: Some(s(r#"{"a":[1,2]}"#)),
                },
            },
            Call::SendGameCommand {
                command: GameCommand {
                    match_id: s("m1"),
                    player: None,
                    name: s("reset"),
                    data: None
                },
            },
            Call::Log {
                level: LogLevel::Info,
                message: s("hello 1")
            },
            Call::Log {
                level: LogLevel::Warn,
                message: s("careful")
            },
        ]
    );
    assert_eq!(host.logs().len(), 2);
    assert_eq!(host.api_calls().len(), 11);
}

#[test]
fn submit_serialises_custom_data_or_reports_why_not() {
    let host = RecordingHost::new();
    host.install();
    let result = submit_final_match_result("m1", "done", &json!({ "mode": "x" })).unwrap();
    assert_eq!(result.match_status, MatchCompletionStatus::Accepted);
    raw::submit_final_match_result("m1", "done", Some("not json"));
    raw::submit_final_match_result("m1", "done", None);

    // JSON object keys must be strings; serde_json refuses, and nothing reaches the host.
    let bad: BTreeMap<(i32, i32), i32> = BTreeMap::from([((1, 2), 3)]);
    let error = submit_final_match_result("m1", "done", &bad).unwrap_err();
    assert!(
        error
            .message()
            .starts_with("customData could not be serialised"),
        "{error}"
    );

    let bodies: Vec<Option<String>> = host
        .calls()
        .into_iter()
        .map(|call| match call {
            Call::SubmitFinalMatchResult { request } => request.custom_data,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        bodies,
        vec![Some(s(r#"{"mode":"x"}"#)), Some(s("not json")), None]
    );
}

#[test]
fn host_errors_become_sdk_errors() {
    let host = RecordingHost::new();
    host.install();
    host.configure(|answers| {
        answers.register_error = Some(s("Rules engine id cannot be blank."));
        answers.set_timer_error = Some(s("too many timers"));
        answers.send_game_command_error = Some(s("no such match"));
    });
    assert_eq!(
        register_match_lifecycle_listener(" ")
            .unwrap_err()
            .message(),
        "Rules engine id cannot be blank."
    );
    assert_eq!(set_timer_ms(1).unwrap_err().to_string(), "too many timers");
    assert_eq!(
        raw::send_game_command("m9", None, "x", None)
            .unwrap_err()
            .message(),
        "no such match"
    );
}

#[test]
fn call_serialises_as_method_and_camel_case_arguments() {
    let call = Call::ReturnPlayerToLobby {
        match_id: s("m1"),
        player_uuid: s("p"),
        delay_seconds: 5,
        reason: s("r"),
    };
    assert_eq!(
        serde_json::to_value(&call).unwrap(),
        json!({ "method": "returnPlayerToLobby", "matchId": "m1", "playerUuid": "p", "delaySeconds": 5, "reason": "r" })
    );
    assert_eq!(
        serde_json::to_value(Call::NowEpochMs).unwrap(),
        json!({ "method": "nowEpochMs" })
    );
    assert!(call.is_nexori_api());
    assert!(!Call::SetTimer { delay_ms: 1 }.is_nexori_api());
}

#[test]
fn due_timers_come_out_in_due_order() {
    let host = RecordingHost::new();
    host.install();
    let late = set_timer_ms(300).unwrap();
    let early = set_timer_ms(100).unwrap();
    let never = set_timer_ms(10_000).unwrap();
    assert_eq!(host.take_due_timers(), vec![]);
    host.advance(300);
    assert_eq!(host.take_due_timers(), vec![early, late]);
    assert_eq!(host.pending_timers().len(), 1);
    assert!(cancel_timer(never));
}

struct Probe {
    seen: Vec<String>,
}

impl RulesMod for Probe {
    fn init(config: ModConfig) -> Result<Self, String> {
        if config.as_str() == "fail" {
            return Err(s("refused"));
        }
        Ok(Probe { seen: Vec::new() })
    }

    fn on_player_disconnected(&mut self, event: PlayerDisconnectedEvent) {
        self.seen.push(event.player_uuid);
    }

    fn on_timer(&mut self, id: TimerId) {
        self.seen.push(format!("timer {id}"));
    }
}

#[test]
fn driver_calls_init_once_then_callbacks_and_defaults_are_no_ops() {
    let mut driver = ModDriver::<Probe>::new();
    assert!(!driver.is_ready());
    driver.init("{}").unwrap();
    assert_eq!(
        driver.init("{}").unwrap_err(),
        "nexori-sdk: `init` was already called for this instance"
    );
    driver.on_player_disconnected(PlayerDisconnectedEvent {
        player_uuid: s("p"),
        ..Default::default()
    });
    driver.on_timer(TimerId(7));
    // Callbacks the mod does not implement are accepted and do nothing.
    driver.on_match_created(MatchLifecycleEvent::default());
    driver.on_player_afk_changed(PlayerAfkChangedEvent::default());
    driver.on_game_event(GameEvent::default());
    assert_eq!(driver.get().unwrap().seen, vec![s("p"), s("timer 7")]);

    let mut failed = ModDriver::<Probe>::new();
    assert_eq!(failed.init("fail").unwrap_err(), "refused");
    assert_eq!(failed.init_error(), Some("refused"));
    assert!(failed.get().is_none());
}

#[test]
#[should_panic(expected = "`on_timer` was called before `init`")]
fn driver_refuses_callbacks_before_init() {
    ModDriver::<Probe>::new().on_timer(TimerId(1));
}

#[test]
#[should_panic(expected = "no native host installed")]
fn imports_without_a_native_host_say_what_to_do() {
    native::clear_host();
    now_epoch_ms();
}
