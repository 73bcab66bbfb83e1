//! Native tests through the SDK's native path: the mod code that goes into the component runs
//! against `RecordingHost`, and each test checks the exact API calls it made.

use nexori_sdk::native::{Call, DEFAULT_START_EPOCH_MS as T0, ModDriver, RecordingHost};
use nexori_sdk::*;
use serde_json::{Value, json};

use crate::LastStanding;

const M: &str = "m1";
const ALICE: &str = "11111111-1111-1111-1111-111111111111";
const BOB: &str = "22222222-2222-2222-2222-222222222222";
const CARA: &str = "33333333-3333-3333-3333-333333333333";
const DAN: &str = "44444444-4444-4444-4444-444444444444";

fn s(text: &str) -> String {
    text.to_string()
}

/// A match driven through the mod's exports, with the host's answers under the test's control.
struct Game {
    host: RecordingHost,
    driver: ModDriver<LastStanding>,
    /// How many recorded calls `api_calls` already returned (logs stay recorded for asserts).
    seen: usize,
}

impl Game {
    fn new(config: &str) -> Self {
        let host = RecordingHost::new();
        host.install();
        let mut driver = ModDriver::new();
        driver.init(config).expect("init");
        driver.on_match_created(match_event("MATCH_CREATED"));
        Game {
            host,
            driver,
            seen: 0,
        }
    }

    /// Tells the recording host who is required (as Nexori would answer).
    fn require(&self, uuids: &[&str]) {
        let required = uuids.iter().map(|uuid| s(uuid)).collect();
        self.host.configure(|answers| {
            answers.find_match_result_requirements = Some(MatchResultRequirements {
                match_id: s(M),
                required_player_uuids: required,
            });
        });
    }

    fn arrive(&mut self, uuid: &str, name: &str) {
        self.driver.on_player_arrived(player_event(uuid, name));
    }

    fn place(&mut self, uuid: &str, name: &str) {
        self.driver
            .on_player_placement_confirmed(PlayerPlacementLifecycleEvent {
                player: player_event(uuid, name),
                ..Default::default()
            });
    }

    fn join(&mut self, players: &[(&str, &str)]) {
        for (uuid, name) in players {
            self.arrive(uuid, name);
            self.place(uuid, name);
        }
    }

    fn start(&mut self, reason: &str) {
        self.driver.on_match_start_allowed(match_event(reason));
    }

    fn die(&mut self, victim: &str, killer: Option<&str>) {
        let data = killer.map(|killer| json!({ "killerPlayerUuid": killer }).to_string());
        self.driver.on_game_event(GameEvent {
            match_id: s(M),
            kind: s("player.died"),
            player: Some(s(victim)),
            data,
            // Deliberately not the host clock: the mod must use now_epoch_ms().
            at_epoch_ms: 42,
        });
    }

    fn disconnect(&mut self, uuid: &str) {
        self.driver.on_player_disconnected(PlayerDisconnectedEvent {
            match_id: s(M),
            player_uuid: s(uuid),
            reason: s("quit"),
            at_epoch_ms: 42,
        });
    }

    /// API calls since the last call to this, without the setup (registration) calls.
    fn api_calls(&mut self) -> Vec<Call> {
        let calls = self.host.calls();
        let new = calls[self.seen..].to_vec();
        self.seen = calls.len();
        new.into_iter()
            .filter(|call| {
                call.is_nexori_api()
                    && !matches!(
                        call,
                        Call::RegisterMatchLifecycleListener { .. }
                            | Call::RegisterAfkActivityListener { .. }
                    )
            })
            .collect()
    }

    fn warnings(&self) -> Vec<String> {
        self.host
            .logs()
            .into_iter()
            .filter(|(level, _)| *level == LogLevel::Warn)
            .map(|(_, m)| m)
            .collect()
    }
}

fn match_event(reason: &str) -> MatchLifecycleEvent {
    MatchLifecycleEvent {
        match_id: s(M),
        rules_engine_id: s("last_standing"),
        reason: s(reason),
        ..Default::default()
    }
}

fn player_event(uuid: &str, name: &str) -> PlayerMatchLifecycleEvent {
    PlayerMatchLifecycleEvent {
        match_: match_event("PLAYER_ARRIVED"),
        player_uuid: s(uuid),
        player_name: s(name),
        ..Default::default()
    }
}

// ----------------------------------------------------------------------------- expected calls

fn close_admission() -> Call {
    Call::CloseMatchAdmission {
        request: CloseMatchAdmissionRequest {
            match_id: s(M),
            reason: Some(CloseMatchAdmissionReason::GamePhaseLocked),
            message: Some(s("Last Standing round started.")),
        },
    }
}

fn outcome(uuid: &str, outcome: Outcome, reason: &str) -> Call {
    Call::SetPlayerOutcome {
        match_id: s(M),
        player_uuid: s(uuid),
        outcome: Some(outcome),
        reason: s(reason),
    }
}

fn spectator(uuid: &str) -> Call {
    Call::SetPlayerSpectator {
        match_id: s(M),
        player_uuid: s(uuid),
        spectator: true,
        reason: s("eliminated_can_watch"),
        spectator_model_id: None,
    }
}

fn lookups() -> [Call; 2] {
    [
        Call::FindMatchResultRequirements { match_id: s(M) },
        Call::FindActiveMatchInfo { match_id: s(M) },
    ]
}

fn returned(uuid: &str, delay_seconds: i32) -> Call {
    Call::ReturnPlayerToLobby {
        match_id: s(M),
        player_uuid: s(uuid),
        delay_seconds,
        reason: s("match_completed"),
    }
}

/// Splits the submit out of `calls`, returning its reason and parsed customData.
fn take_submit(calls: &mut Vec<Call>) -> (String, Value) {
    let index = calls
        .iter()
        .position(|call| matches!(call, Call::SubmitFinalMatchResult { .. }))
        .expect("a submitFinalMatchResult call");
    let Call::SubmitFinalMatchResult { request } = calls.remove(index) else {
        unreachable!()
    };
    assert_eq!(request.match_id, M);
    let custom = serde_json::from_str(request.custom_data.as_deref().expect("customData"))
        .expect("customData is JSON");
    (request.reason, custom)
}

// ----------------------------------------------------------------------------- tests

#[test]
fn three_players_two_die_the_last_one_wins() {
    let mut game = Game::new("{}");
    game.require(&[ALICE, BOB, CARA]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob"), (CARA, "Cara")]);
    game.start("ALL_INITIAL_PLAYERS_PLACED");
    assert_eq!(game.api_calls(), vec![close_admission()]);

    game.host.advance(1_000);
    game.die(ALICE, Some(CARA));
    assert_eq!(
        game.api_calls(),
        vec![
            outcome(ALICE, Outcome::Loss, "eliminated"),
            spectator(ALICE)
        ]
    );

    game.host.advance(1_000);
    game.die(BOB, Some(CARA));
    let mut calls = game.api_calls();
    let (reason, custom) = take_submit(&mut calls);
    assert_eq!(reason, "last_player_standing");
    assert_eq!(
        custom,
        json!({
            "mode": "last_standing",
            "winnerPlayerUuid": CARA,
            "players": {
                ALICE: { "name": "Alice", "kills": 0, "eliminatedAtEpochMs": T0 + 1_000, "placement": 3 },
                BOB: { "name": "Bob", "kills": 0, "eliminatedAtEpochMs": T0 + 2_000, "placement": 2 },
                CARA: { "name": "Cara", "kills": 2, "eliminatedAtEpochMs": 0, "placement": 1 },
            }
        })
    );
    let [requirements, info] = lookups();
    assert_eq!(
        calls,
        vec![
            outcome(BOB, Outcome::Loss, "eliminated"),
            spectator(BOB),
            outcome(CARA, Outcome::Win, "last_standing"),
            requirements,
            info,
            // (the submit was here)
            returned(ALICE, 5),
            returned(BOB, 5),
            returned(CARA, 5),
        ]
    );

    // Never resolve twice: later deaths and disconnects change nothing.
    game.die(CARA, Some(ALICE));
    game.disconnect(CARA);
    game.driver
        .on_match_completed(match_event("MATCH_COMPLETED"));
    assert_eq!(game.api_calls(), vec![]);
    assert!(game.warnings().is_empty(), "{:?}", game.warnings());
    assert!(
        game.host
            .logs()
            .iter()
            .any(|(level, message)| *level == LogLevel::Info
                && message.starts_with(
                    "Last Standing round started (ALL_INITIAL_PLAYERS_PLACED) with 3 players alive"
                ))
    );
}

#[test]
fn a_disconnect_eliminates_an_alive_player() {
    let mut game = Game::new("{}");
    game.require(&[ALICE, BOB, CARA]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.arrive(CARA, "Cara"); // arrived, never placed: not alive
    game.start("INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_MET");
    game.api_calls();

    game.disconnect(CARA); // not alive: nothing to record
    assert_eq!(game.api_calls(), vec![]);

    game.host.advance(500);
    game.disconnect(BOB);
    let mut calls = game.api_calls();
    let (_, custom) = take_submit(&mut calls);
    let [requirements, info] = lookups();
    assert_eq!(
        calls,
        vec![
            outcome(BOB, Outcome::Disconnected, "disconnected"),
            outcome(ALICE, Outcome::Win, "last_standing"),
            requirements,
            info,
            outcome(CARA, Outcome::Loss, "did_not_finish"),
            returned(ALICE, 5),
            returned(BOB, 5),
            returned(CARA, 5),
        ]
    );
    assert_eq!(custom["winnerPlayerUuid"], ALICE);
    assert_eq!(custom["players"][BOB]["eliminatedAtEpochMs"], T0 + 500);
    assert_eq!(custom["players"][BOB]["placement"], 2);
    assert_eq!(
        custom["players"][CARA],
        json!({ "name": "Cara", "kills": 0, "eliminatedAtEpochMs": 0, "placement": 3 })
    );
}

#[test]
fn partial_roster_start_keeps_nexori_outcomes_of_missing_players() {
    let mut game = Game::new("{}");
    game.require(&[ALICE, BOB, CARA]);
    // Nexori gave the player who missed the placement window NO_CONTEST when the gate opened.
    game.host.configure(|answers| {
        answers.find_active_match_info = Some(ActiveMatchInfo {
            match_id: s(M),
            player_outcomes: vec![PlayerOutcomeState {
                player_uuid: s(CARA),
                outcome: Outcome::NoContest,
                reason: s("INITIAL_PLACEMENT_WINDOW_MISSED"),
            }],
            ..Default::default()
        });
    });
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start("INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_MET");
    game.die(BOB, None);

    let mut calls = game.api_calls();
    let (_, custom) = take_submit(&mut calls);
    let [requirements, info] = lookups();
    assert_eq!(
        calls,
        vec![
            close_admission(),
            outcome(BOB, Outcome::Loss, "eliminated"),
            spectator(BOB),
            outcome(ALICE, Outcome::Win, "last_standing"),
            requirements,
            info,
            // no did_not_finish for Cara: she already has NO_CONTEST
            returned(ALICE, 5),
            returned(BOB, 5),
            returned(CARA, 5),
        ]
    );
    // Cara never arrived: the mod lists her with what it knows, placed last.
    assert_eq!(
        custom["players"][CARA],
        json!({ "name": "", "kills": 0, "eliminatedAtEpochMs": 0, "placement": 3 })
    );
    assert_eq!(custom["players"][ALICE]["placement"], 1);
    assert_eq!(custom["players"][BOB]["placement"], 2);
}

#[test]
fn a_start_with_a_single_player_resolves_at_once() {
    let mut game = Game::new("{}");
    game.require(&[ALICE, BOB]);
    game.join(&[(ALICE, "Alice")]);
    game.start("INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_MET");
    let mut calls = game.api_calls();
    let (_, custom) = take_submit(&mut calls);
    let [requirements, info] = lookups();
    assert_eq!(
        calls,
        vec![
            close_admission(),
            outcome(ALICE, Outcome::Win, "last_standing"),
            requirements,
            info,
            outcome(BOB, Outcome::Loss, "did_not_finish"),
            returned(ALICE, 5),
            returned(BOB, 5),
        ]
    );
    assert_eq!(custom["players"][BOB]["placement"], 2);
}

#[test]
fn backfill_players_placed_after_the_start_join_alive() {
    let mut game = Game::new("{}");
    game.require(&[ALICE, BOB, DAN]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start("ALL_INITIAL_PLAYERS_PLACED");
    game.join(&[(DAN, "Dan")]);
    let session = game.driver.get().unwrap().session_of(M).unwrap();
    assert_eq!(session.alive(), vec![ALICE, BOB, DAN]);

    game.die(ALICE, Some(DAN));
    assert!(
        !game
            .driver
            .get()
            .unwrap()
            .session_of(M)
            .unwrap()
            .is_resolved()
    );
    game.die(BOB, Some(DAN));
    let mut calls = game.api_calls();
    let (_, custom) = take_submit(&mut calls);
    assert_eq!(custom["winnerPlayerUuid"], DAN);
    assert_eq!(custom["players"][DAN]["kills"], 2);
    assert!(calls.contains(&outcome(DAN, Outcome::Win, "last_standing")));
}

#[test]
fn deaths_before_the_start_or_of_unknown_players_are_ignored_and_kills_need_a_known_killer() {
    let mut game = Game::new("{}");
    game.require(&[ALICE, BOB, CARA]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob"), (CARA, "Cara")]);
    game.die(ALICE, Some(BOB)); // before the start
    game.start("ALL_INITIAL_PLAYERS_PLACED");
    game.api_calls();

    game.die(DAN, Some(BOB)); // not in the round
    assert_eq!(game.api_calls(), vec![]);

    game.die(&ALICE.to_uppercase(), Some(&BOB.to_uppercase())); // game data in any case
    game.die(ALICE, Some(BOB)); // already out
    assert_eq!(
        game.api_calls(),
        vec![
            outcome(ALICE, Outcome::Loss, "eliminated"),
            spectator(ALICE)
        ]
    );
    let session = game.driver.get().unwrap().session_of(M).unwrap();
    assert_eq!(session.player(BOB).unwrap().kills, 1);

    game.die(BOB, Some(BOB)); // suicide: no credit
    let session = game.driver.get().unwrap().session_of(M).unwrap();
    assert_eq!(session.player(BOB).unwrap().kills, 1);
    assert!(session.is_resolved());
}

#[test]
fn config_changes_the_return_delay_and_admission_closing() {
    let mut game = Game::new(r#"{"returnDelaySeconds": 10, "closeAdmissionAtStart": false}"#);
    game.require(&[ALICE, BOB]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start("ALL_INITIAL_PLAYERS_PLACED");
    assert_eq!(game.api_calls(), vec![]);
    game.die(BOB, Some(ALICE));
    let calls = game.api_calls();
    assert!(
        calls.contains(&returned(ALICE, 10)) && calls.contains(&returned(BOB, 10)),
        "{calls:?}"
    );
}

#[test]
fn config_defaults_and_rejection() {
    let host = RecordingHost::new();
    host.install();
    let mut driver = ModDriver::<LastStanding>::new();
    driver.init("").unwrap();
    assert_eq!(
        host.take_calls(),
        vec![
            Call::RegisterMatchLifecycleListener {
                rules_engine_id: s("last_standing")
            },
            Call::RegisterAfkActivityListener {
                rules_engine_id: s("last_standing")
            },
        ]
    );
    let error = ModDriver::<LastStanding>::new()
        .init(r#"{"returnDelaySecs": 3}"#)
        .unwrap_err();
    assert!(error.contains("unknown field `returnDelaySecs`"), "{error}");
}

#[test]
fn admission_statuses_are_logged_at_the_right_level() {
    for (status, warned) in [
        (CloseMatchAdmissionStatus::Closed, false),
        (CloseMatchAdmissionStatus::AlreadyClosed, false),
        (CloseMatchAdmissionStatus::MatchNotBackendDriven, false),
        (CloseMatchAdmissionStatus::ReportingDisabled, true),
        (CloseMatchAdmissionStatus::InvalidReason, true),
    ] {
        let mut game = Game::new("{}");
        game.host.configure(|answers| {
            answers.close_match_admission.status = status;
            answers.close_match_admission.message = s("detail");
        });
        game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
        game.start("ALL_INITIAL_PLAYERS_PLACED");
        let warnings = game.warnings();
        assert_eq!(!warnings.is_empty(), warned, "{status}: {warnings:?}");
        if warned {
            assert_eq!(
                warnings,
                vec![format!("could not close admission ({status}): detail")]
            );
        }
        let debug_logged = game.host.logs().iter().any(|(level, message)| {
            *level == LogLevel::Debug && message.contains("admission not closed")
        });
        assert_eq!(
            debug_logged,
            status == CloseMatchAdmissionStatus::MatchNotBackendDriven,
            "{status}"
        );
    }
}

#[test]
fn players_return_only_after_an_accepted_or_already_submitted_result() {
    for (status, returns) in [
        (MatchCompletionStatus::Accepted, true),
        (MatchCompletionStatus::AlreadySubmitted, true),
        (MatchCompletionStatus::InvalidResult, false),
        (MatchCompletionStatus::MatchMissing, false),
    ] {
        let mut game = Game::new("{}");
        game.require(&[ALICE, BOB]);
        game.host.configure(|answers| {
            answers.submit_final_match_result.match_status = status;
            answers.submit_final_match_result.message = s("why");
        });
        game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
        game.start("ALL_INITIAL_PLAYERS_PLACED");
        game.die(BOB, None);
        let calls = game.api_calls();
        let returned = calls
            .iter()
            .filter(|call| matches!(call, Call::ReturnPlayerToLobby { .. }))
            .count();
        assert_eq!(returned, if returns { 2 } else { 0 }, "{status}");
        let warnings = game.warnings();
        if returns {
            assert!(warnings.is_empty(), "{status}: {warnings:?}");
        } else {
            assert_eq!(
                warnings,
                vec![format!("final result not accepted ({status}): why")]
            );
        }
    }
}

#[test]
fn the_time_limit_makes_every_survivor_win() {
    let mut game = Game::new(r#"{"roundTimeLimitSeconds": 60}"#);
    game.require(&[ALICE, BOB, CARA]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob"), (CARA, "Cara")]);
    game.start("ALL_INITIAL_PLAYERS_PLACED");
    assert!(
        game.host
            .calls()
            .contains(&Call::SetTimer { delay_ms: 60_000 })
    );
    game.host.advance(10_000);
    game.die(ALICE, Some(BOB));
    game.api_calls();

    game.host.advance(50_000);
    for timer in game.host.take_due_timers() {
        game.driver.on_timer(timer);
    }
    let mut calls = game.api_calls();
    let (reason, custom) = take_submit(&mut calls);
    assert_eq!(reason, "round_time_limit");
    assert_eq!(custom["winnerPlayerUuid"], Value::Null);
    assert_eq!(custom["players"][BOB]["placement"], 1);
    assert_eq!(custom["players"][CARA]["placement"], 1);
    assert_eq!(custom["players"][ALICE]["placement"], 3);
    assert!(calls.contains(&outcome(BOB, Outcome::Win, "survived_time_limit")));
    assert!(calls.contains(&outcome(CARA, Outcome::Win, "survived_time_limit")));
}

#[test]
fn an_early_finish_cancels_the_time_limit() {
    let mut game = Game::new(r#"{"roundTimeLimitSeconds": 60}"#);
    game.require(&[ALICE, BOB]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start("ALL_INITIAL_PLAYERS_PLACED");
    game.die(BOB, None);
    assert!(game.host.calls().contains(&Call::CancelTimer { id: 1 }));
    assert!(game.host.pending_timers().is_empty());
}

#[test]
fn cancellation_and_runtime_close_drop_the_session_and_its_timers() {
    let mut game = Game::new(r#"{"roundTimeLimitSeconds": 60}"#);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start("ALL_INITIAL_PLAYERS_PLACED");
    game.driver
        .on_match_cancellation_requested(match_event("INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET"));
    assert!(game.host.calls().contains(&Call::CancelTimer { id: 1 }));
    assert!(game.driver.get().unwrap().session_of(M).is_none());
    game.api_calls();

    // A stale timer or a late death reaches no round.
    game.driver.on_timer(TimerId(1));
    game.die(ALICE, None);
    assert_eq!(game.api_calls(), vec![]);

    game.driver
        .on_match_runtime_closed(match_event("MATCH_RUNTIME_CLOSED"));
    assert!(game.driver.get().unwrap().session_of(M).is_none());
}
