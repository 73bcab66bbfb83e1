//! Native tests through the SDK's native path: the mod code that goes into the component runs
//! against `RecordingHost`; the tests check the exact API calls and game commands it made.

use nexori_sdk::native::{Call, DEFAULT_START_EPOCH_MS as T0, ModDriver, RecordingHost};
use nexori_sdk::*;
use serde_json::{Value, json};

use crate::advance::{AdvanceClock, add_progress, java_compare, leader};
use crate::hud::{HudInput, HudView, Row, percent};
use crate::respawn::RespawnState;
use crate::session::ZoneState;
use crate::zone::Zone;
use crate::{CaptureTheZone, Config};

const M: &str = "m1";
const WORLD: &str = "nexori-match-m1";
const ALICE: &str = "11111111-1111-1111-1111-111111111111";
const BOB: &str = "22222222-2222-2222-2222-222222222222";
const CARA: &str = "33333333-3333-3333-3333-333333333333";
const DAN: &str = "44444444-4444-4444-4444-444444444444";

fn s(text: &str) -> String {
    text.to_string()
}

// ----------------------------------------------------------------------------- zone geometry

fn zone() -> Zone {
    Zone::from_config(&Config::default())
}

#[test]
fn radius_eight_is_inside_and_just_beyond_is_outside() {
    let zone = zone();
    // Exactly on the circle, in the four directions: dx² + dz² == 64.
    for (x, z) in [(70.0, -6.0), (54.0, -6.0), (62.0, 2.0), (62.0, -14.0)] {
        assert!(zone.contains(x, 90.0, z), "({x}, {z}) is on the radius");
    }
    // A Pythagorean point on the circle: 4.8² + 6.4² == 64 (in doubles: ≤ 64).
    assert!(zone.contains(62.0 + 4.8, 90.0, -6.0 + 6.4));
    for (x, z) in [
        (70.000_001, -6.0),
        (53.999_999, -6.0),
        (62.0, 2.000_001),
        (62.0, -14.000_001),
    ] {
        assert!(!zone.contains(x, 90.0, z), "({x}, {z}) is just outside");
    }
    assert!(zone.contains(62.0, 90.0, -6.0), "the centre");
}

#[test]
fn the_vertical_band_is_inclusive() {
    let zone = zone();
    assert!(zone.contains(62.0, 84.0, -6.0));
    assert!(zone.contains(62.0, 100.0, -6.0));
    assert!(!zone.contains(62.0, 83.999_999, -6.0));
    assert!(!zone.contains(62.0, 100.000_001, -6.0));
    // Both limits at once: on the radius and on the band's edge.
    assert!(zone.contains(70.0, 84.0, -6.0));
    assert!(zone.contains(70.0, 100.0, -6.0));
}

#[test]
fn the_corners_of_the_legacy_square_are_outside() {
    let zone = zone();
    for (x, z) in [(70.0, 2.0), (54.0, 2.0), (70.0, -14.0), (54.0, -14.0)] {
        assert!(!zone.contains(x, 90.0, z), "corner ({x}, {z})");
    }
    // Well inside the square but outside the circle: |dx| = |dz| = 6 gives 72 > 64.
    assert!(!zone.contains(68.0, 90.0, 0.0));
    assert!(zone.contains(67.0, 90.0, -1.0), "5² + 5² = 50");
    assert!(!zone.contains(f64::NAN, 90.0, -6.0));
    assert!(zone.outside_reason(62.0, 90.0, -6.0).is_none());
    assert!(
        zone.outside_reason(62.0, 101.0, -6.0)
            .unwrap()
            .starts_with("outside_zone ")
    );
}

// ----------------------------------------------------------------------------- advance maths

#[test]
fn three_hundred_advances_of_a_fifth_reach_sixty() {
    let mut progress = 0.0;
    for step in 1..=300 {
        progress = add_progress(progress, 0.2, 60.0);
        match step {
            150 => assert!((progress - 30.0).abs() < 1e-6, "{progress}"),
            299 => {
                assert!((progress - 59.8).abs() < 1e-6, "{progress}");
                assert!(
                    progress < 60.0,
                    "not yet won after 299 advances: {progress}"
                );
            }
            _ => {}
        }
    }
    assert_eq!(
        progress, 60.0,
        "the clamp makes the 300th advance exactly 60"
    );
    assert_eq!(add_progress(59.9, 5.0, 60.0), 60.0);
    assert_eq!(add_progress(0.0, -1.0, 60.0), 0.0);
}

#[test]
fn the_throttle_runs_one_advance_per_200_ms() {
    let mut clock = AdvanceClock::new(200);
    // The first advance is exactly 0.2 s, however late it comes.
    assert_eq!(clock.try_advance(T0 + 12_345), Some(0.2));
    assert_eq!(clock.try_advance(T0 + 12_345 + 50), None);
    assert_eq!(clock.try_advance(T0 + 12_345 + 199), None);
    assert_eq!(clock.try_advance(T0 + 12_345 + 200), Some(0.2));
    assert_eq!(clock.last_advance_at(), Some(T0 + 12_545));
    // A later one credits what really passed since the previous advance, uncapped.
    assert_eq!(clock.try_advance(T0 + 12_545 + 250), Some(0.25));
    assert_eq!(clock.try_advance(T0 + 12_795 + 5_000), Some(5.0));
    // A clock going backwards does not advance.
    assert_eq!(clock.try_advance(T0), None);
}

#[test]
fn ticks_at_20_hz_advance_every_fourth_tick() {
    let mut clock = AdvanceClock::new(200);
    let advanced: Vec<i64> = (0..20)
        .map(|i| T0 + i * 50)
        .filter(|now| clock.try_advance(*now).is_some())
        .map(|now| now - T0)
        .collect();
    assert_eq!(advanced, vec![0, 200, 400, 600, 800]);
}

#[test]
fn java_compare_is_utf16_and_case_sensitive() {
    use std::cmp::Ordering::*;
    assert_eq!(
        java_compare("Bob", "alice"),
        Less,
        "uppercase before lowercase"
    );
    assert_eq!(java_compare("bob", "Bob"), Greater);
    assert_eq!(java_compare("Al", "Alice"), Less, "a prefix sorts first");
    assert_eq!(java_compare("same", "same"), Equal);
    // U+FF61 is one unit 0xFF61; U+1F600 is the surrogate pair 0xD83D 0xDE00. Code point order
    // says U+1F600 is greater; Java's UTF-16 order says the opposite.
    assert_eq!(java_compare("\u{FF61}", "\u{1F600}"), Greater);
    assert!("\u{FF61}" < "\u{1F600}");
}

#[test]
fn the_leader_is_the_highest_then_the_greatest_name_then_the_first() {
    assert_eq!(leader([("A", 1.0), ("B", 3.0), ("C", 2.0)]), Some(1));
    assert_eq!(leader([("Zed", 60.0), ("alice", 60.0)]), Some(1));
    assert_eq!(leader([("alice", 60.0), ("Zed", 60.0)]), Some(0));
    assert_eq!(leader([("Sam", 5.0), ("Sam", 5.0)]), Some(0));
    assert_eq!(leader(Vec::<(&str, f64)>::new()), None);
}

// ----------------------------------------------------------------------------- respawn

#[test]
fn forced_respawns_wait_0_3_6_9_seconds() {
    let mut state = RespawnState::default();
    let mut now = T0;
    let mut waits = Vec::new();
    for _ in 0..4 {
        // A death: the first tick seeing it schedules; ticks every 100 ms until the respawn.
        let died_at = now;
        let first = state.on_tick(false, now, 3_000);
        assert!(first.new_death);
        let mut respawned = first.force_respawn;
        while !respawned {
            now += 100;
            let effect = state.on_tick(false, now, 3_000);
            assert!(!effect.new_death);
            respawned = effect.force_respawn;
        }
        waits.push(now - died_at);
        // Still dead on the next tick (the game has not applied the respawn yet): nothing.
        assert_eq!(state.on_tick(false, now + 50, 3_000), Default::default());
        now += 1_000;
        assert_eq!(state.on_tick(true, now, 3_000), Default::default());
        now += 1_000;
    }
    assert_eq!(waits, vec![0, 3_000, 6_000, 9_000]);
    assert_eq!(state.penalty_ms, 12_000);
}

#[test]
fn an_early_respawn_clears_the_schedule_without_a_penalty() {
    let mut state = RespawnState {
        penalty_ms: 6_000,
        ..Default::default()
    };
    assert!(state.on_tick(false, T0, 3_000).new_death);
    assert_eq!(state.remaining_ms(T0 + 1_000), Some(5_000));
    let effect = state.on_tick(true, T0 + 2_000, 3_000);
    assert!(effect.schedule_cleared);
    assert_eq!((state.penalty_ms, state.due_at), (6_000, None));
}

#[test]
fn the_kill_reward_is_floored_at_zero() {
    let mut state = RespawnState {
        penalty_ms: 4_000,
        ..Default::default()
    };
    assert!(state.apply_kill_reward(3_000));
    assert_eq!(state.penalty_ms, 1_000);
    assert!(state.apply_kill_reward(3_000));
    assert_eq!(state.penalty_ms, 0);
    assert!(!state.apply_kill_reward(3_000), "nothing left to take off");
}

// ----------------------------------------------------------------------------- HUD

#[test]
fn the_hud_shows_status_rows_and_panels() {
    let players = [
        Row {
            uuid: ALICE,
            name: "Alice",
            progress: 12.0,
        },
        Row {
            uuid: BOB,
            name: "bob",
            progress: 30.0,
        },
        Row {
            uuid: CARA,
            name: "Cara",
            progress: 30.0,
        },
    ];
    let capturing = ZoneState::Capturing(s(BOB));
    let input = HudInput {
        zone: &capturing,
        players: &players,
        viewer: ALICE,
        respawn_remaining_ms: None,
        penalty_ms: 3_000,
        kill_bonus_until: Some(T0 + 4_000),
        kill_reward_ms: 3_000,
        seconds_to_win: 60.0,
        now: T0,
    };
    let view = HudView::build(&input);
    assert_eq!(
        serde_json::to_value(&view).unwrap(),
        json!({
            "title": "MID CONTROL",
            "status": "bob is capturing (30s)",
            "accent": "#9FF0A8",
            "sidebarTitle": "Capture Progress",
            "rows": ["3. Alice 20%", "1. bob 50%", "2. Cara 50%"],
            "respawn": "Respawn: 3.0s",
            "killBonus": {"text": "Kill bonus: -3s", "fromColor": "#9FF0A8", "toColor": "#3A553E", "untilEpochMs": T0 + 4_000},
        })
    );
    let dead = HudView::build(&HudInput {
        respawn_remaining_ms: Some(2_450),
        now: T0 + 4_000,
        zone: &ZoneState::Contested,
        ..input.clone()
    });
    assert_eq!(
        (dead.status.as_str(), dead.accent, dead.kill_bonus),
        ("Respawn in 2.5s", "#FF7C7C", None)
    );
    let empty = HudView::build(&HudInput {
        zone: &ZoneState::Empty,
        ..input.clone()
    });
    assert_eq!(
        (empty.status.as_str(), empty.accent),
        ("No one is holding the zone", "#82C7FF")
    );
    let gone = ZoneState::Capturing(s(DAN));
    let unknown = HudView::build(&HudInput {
        zone: &gone,
        ..input
    });
    assert_eq!(unknown.status, "Capturing");
    assert_eq!(percent(59.7, 60.0), 100);
    assert_eq!(percent(0.29, 60.0), 0);
    assert_eq!(percent(0.3, 60.0), 1);
}

// ----------------------------------------------------------------------------- the mod

/// A match driven through the mod's exports, with the host's answers under the test's control.
struct Game {
    host: RecordingHost,
    driver: ModDriver<CaptureTheZone>,
    required: Vec<String>,
    seen: usize,
}

fn pos(x: f64, y: f64, z: f64) -> Value {
    json!({"worldName": WORLD, "x": x, "y": y, "z": z, "alive": true})
}

fn inside() -> Value {
    pos(62.0, 90.0, -6.0)
}

fn outside() -> Value {
    pos(0.0, 64.0, 0.0)
}

fn dead(killer: Option<&str>) -> Value {
    let mut tick = json!({"worldName": WORLD, "x": 62.0, "y": 90.0, "z": -6.0, "alive": false});
    if let Some(killer) = killer {
        tick["killerPlayerUuid"] = json!(killer);
    }
    tick
}

/// A game command as `(player, name, data)`.
type Command = (String, String, Value);

impl Game {
    fn new(config: &str, required: &[&str]) -> Self {
        let host = RecordingHost::new();
        host.install();
        let mut driver = ModDriver::new();
        driver.init(config).expect("init");
        let mut game = Game {
            host,
            driver,
            required: required.iter().map(|u| s(u)).collect(),
            seen: 0,
        };
        game.driver
            .on_match_created(game.match_event("MATCH_CREATED"));
        game.take();
        game
    }

    fn match_event(&self, reason: &str) -> MatchLifecycleEvent {
        MatchLifecycleEvent {
            match_id: s(M),
            rules_engine_id: s("capture_the_zone"),
            expected_player_uuids: self.required.clone(),
            required_result_player_uuids: self.required.clone(),
            reason: s(reason),
            event_at_epoch_ms: self.host.now(),
            ..Default::default()
        }
    }

    fn player_event(&self, uuid: &str, name: &str) -> PlayerMatchLifecycleEvent {
        PlayerMatchLifecycleEvent {
            match_: self.match_event("PLAYER_ARRIVED"),
            player_uuid: s(uuid),
            player_name: s(name),
            ..Default::default()
        }
    }

    fn arrive(&mut self, uuid: &str, name: &str) {
        let event = self.player_event(uuid, name);
        self.driver.on_player_arrived(event);
    }

    fn place(&mut self, uuid: &str, name: &str) {
        self.place_in(uuid, name, "");
    }

    fn place_in(&mut self, uuid: &str, name: &str, world: &str) {
        let event = PlayerPlacementLifecycleEvent {
            player: self.player_event(uuid, name),
            world_name: s(world),
            ..Default::default()
        };
        self.driver.on_player_placement_confirmed(event);
    }

    fn join(&mut self, players: &[(&str, &str)]) {
        for (uuid, name) in players {
            self.arrive(uuid, name);
            self.place(uuid, name);
        }
    }

    fn start(&mut self) {
        let event = self.match_event("ALL_INITIAL_PLAYERS_PLACED");
        self.driver.on_match_start_allowed(event);
    }

    fn tick(&mut self, uuid: &str, data: Value) {
        self.driver.on_game_event(GameEvent {
            match_id: s(M),
            kind: s("player.tick"),
            player: Some(s(uuid)),
            data: Some(data.to_string()),
            // Deliberately not the host clock: the mod must use now_epoch_ms().
            at_epoch_ms: 42,
        });
    }

    /// `rounds` rounds of ticks, `step_ms` apart, each player ticking in order with its state.
    fn ticks(&mut self, rounds: usize, step_ms: i64, states: &[(&str, Value)]) {
        for _ in 0..rounds {
            self.host.advance(step_ms);
            for (uuid, data) in states {
                self.tick(uuid, data.clone());
            }
        }
    }

    fn disconnect(&mut self, uuid: &str) {
        self.driver.on_player_disconnected(PlayerDisconnectedEvent {
            match_id: s(M),
            player_uuid: s(uuid),
            reason: s("quit"),
            at_epoch_ms: 42,
        });
    }

    fn session(&self) -> &crate::session::Session {
        self.driver.get().unwrap().session_of(M).expect("session")
    }

    fn progress(&self, uuid: &str) -> f64 {
        self.session().player(uuid).expect("tracked").progress
    }

    /// Calls since the last `take`.
    fn take(&mut self) -> Vec<Call> {
        let calls = self.host.calls();
        let new = calls[self.seen..].to_vec();
        self.seen = calls.len();
        new
    }

    /// Nexori API calls and game commands since the last `take`.
    fn split(&mut self) -> (Vec<Call>, Vec<Command>) {
        let calls = self.take();
        let api = calls
            .iter()
            .filter(|call| call.is_nexori_api())
            .cloned()
            .collect();
        let commands = calls
            .into_iter()
            .filter_map(|call| match call {
                Call::SendGameCommand { command } => Some((
                    command.player.unwrap_or_default(),
                    command.name,
                    command
                        .data
                        .map(|d| serde_json::from_str(&d).unwrap())
                        .unwrap_or(Value::Null),
                )),
                _ => None,
            })
            .collect();
        (api, commands)
    }

    fn api(&mut self) -> Vec<Call> {
        self.split().0
    }

    /// Game commands other than HUD updates since the last `take`.
    fn commands(&mut self) -> Vec<Command> {
        self.split()
            .1
            .into_iter()
            .filter(|(_, name, _)| name != "hud.update")
            .collect()
    }

    fn warnings(&self) -> Vec<String> {
        self.host
            .logs()
            .into_iter()
            .filter(|(level, _)| matches!(level, LogLevel::Warn | LogLevel::Error))
            .map(|(_, message)| message)
            .collect()
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

fn win(uuid: &str) -> Call {
    outcome(uuid, Outcome::Win, "mid_capture_win")
}

fn loss(uuid: &str) -> Call {
    outcome(uuid, Outcome::Loss, "mid_capture_loss")
}

fn returned(uuid: &str) -> Call {
    Call::ReturnPlayerToLobby {
        match_id: s(M),
        player_uuid: s(uuid),
        delay_seconds: 8,
        reason: s("mid_capture_match_completed"),
    }
}

/// Splits the submit out of `calls`, checking its reason, and returns its customData.
fn take_submit(calls: &mut Vec<Call>) -> Value {
    let index = calls
        .iter()
        .position(|call| matches!(call, Call::SubmitFinalMatchResult { .. }))
        .expect("a submitFinalMatchResult call");
    let Call::SubmitFinalMatchResult { request } = calls.remove(index) else {
        unreachable!()
    };
    assert_eq!(request.match_id, M);
    assert_eq!(request.reason, "mid_capture_point_captured");
    serde_json::from_str(request.custom_data.as_deref().expect("customData")).unwrap()
}

fn command(player: &str, name: &str, data: Value) -> Command {
    (s(player), s(name), data)
}

fn message(player: &str) -> Command {
    command(
        player,
        "player.message",
        json!({"text": "Respawn penalty added: +3s for your next death."}),
    )
}

fn death_screen(player: &str) -> Command {
    command(
        player,
        "player.setDeathScreen",
        json!({"showDeathMenu": true, "showDeathData": false, "hideRespawnButton": true}),
    )
}

#[test]
fn a_solo_capture_takes_300_advances_and_reports_the_result() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.join(&[(ALICE, "Alice")]);
    game.start();
    assert_eq!(
        game.session().start(),
        Some(("ALL_INITIAL_PLAYERS_PLACED", T0))
    );
    game.take();

    game.host.advance(1_000);
    game.tick(ALICE, inside());
    let (api, commands) = game.split();
    assert_eq!(api, vec![]);
    assert_eq!(
        commands[0],
        command(
            ALICE,
            "player.setRespawnPoint",
            json!({"worldName": WORLD, "name": "mid_capture_home", "blockX": 62, "blockY": 90, "blockZ": -6,
                   "x": 62.0, "y": 90.0, "z": -6.0})
        )
    );
    assert_eq!(commands[1].1, "hud.update");
    assert_eq!(game.progress(ALICE), 0.2);
    assert_eq!(game.session().zone(), &ZoneState::Capturing(s(ALICE)));

    game.ticks(149, 200, &[(ALICE, inside())]);
    assert!((game.progress(ALICE) - 30.0).abs() < 1e-6);
    game.ticks(149, 200, &[(ALICE, inside())]);
    assert!((game.progress(ALICE) - 59.8).abs() < 1e-6);
    assert!(!game.session().is_resolved());
    let (api, commands) = game.split();
    assert_eq!(api, vec![]);
    // Bounded by text changes and the 500 ms throttle: at most 2 per second, never per tick.
    assert!(
        commands.len() <= 120 && commands.len() >= 60,
        "{}",
        commands.len()
    );
    assert!(
        commands.iter().all(|(_, name, _)| name == "hud.update"),
        "only HUD updates while capturing: {commands:?}"
    );

    game.ticks(1, 200, &[(ALICE, inside())]);
    let finished_at = T0 + 1_000 + 299 * 200;
    assert_eq!(game.host.now(), finished_at);
    assert_eq!(game.progress(ALICE), 60.0);
    let (mut api, commands) = game.split();
    let custom = take_submit(&mut api);
    assert_eq!(
        api,
        vec![win(ALICE), loss(BOB), returned(ALICE), returned(BOB)]
    );
    assert_eq!(
        custom,
        json!({
            "mode": "mid_capture",
            "capturePointId": "mid",
            "winnerPlayerUuid": ALICE,
            "participantCount": 2,
            "finishedAtEpochMs": finished_at,
            "captureSecondsToWin": 60.0,
            "playerCaptureProgress": {
                ALICE: {"playerName": "Alice", "progressSeconds": 60.0, "progressPercent": 100.0}
            }
        })
    );
    assert_eq!(commands, vec![command(ALICE, "hud.remove", Value::Null)]);
    assert!(game.warnings().is_empty(), "{:?}", game.warnings());

    // Resolved: ticks do nothing, deaths are not handled, nothing is reported twice.
    game.ticks(10, 200, &[(ALICE, dead(None))]);
    game.driver
        .on_match_completed(game.match_event("MATCH_COMPLETED"));
    assert_eq!(game.split(), (vec![], vec![]));
    assert!(
        game.host
            .logs()
            .iter()
            .any(|(_, m)| m == "Observed Nexori match completed for CTZ matchId=m1.")
    );
}

#[test]
fn nothing_happens_before_the_start_gate_and_the_gate_opens_once() {
    let mut game = Game::new("{}", &[ALICE]);
    game.join(&[(ALICE, "Alice")]);
    game.ticks(20, 200, &[(ALICE, inside())]);
    game.ticks(2, 200, &[(ALICE, dead(None))]);
    assert_eq!(game.progress(ALICE), 0.0);
    assert_eq!(game.session().zone(), &ZoneState::Preparing);
    assert_eq!(game.split(), (vec![], vec![]), "no respawn, no HUD");

    game.start();
    game.ticks(1, 200, &[(ALICE, inside())]);
    game.host.advance(5_000);
    game.start(); // a repeat is a no-op: the start time is kept
    assert_eq!(
        game.session().start(),
        Some(("ALL_INITIAL_PLAYERS_PLACED", T0 + 4_400))
    );
    game.ticks(1, 0, &[(ALICE, inside())]);
    assert!(
        (game.progress(ALICE) - 5.2).abs() < 1e-9,
        "{}",
        game.progress(ALICE)
    );
}

#[test]
fn a_stall_between_ticks_is_credited_in_full() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start();
    game.ticks(5, 200, &[(ALICE, inside()), (BOB, outside())]);
    assert!((game.progress(ALICE) - 1.0).abs() < 1e-9);
    // 25 s without any tick: the next advance credits all of it.
    game.host.advance(25_000);
    game.tick(ALICE, inside());
    assert!(
        (game.progress(ALICE) - 26.0).abs() < 1e-9,
        "{}",
        game.progress(ALICE)
    );
    // A 40 s stall overshoots the target: clamped at 60, and the match resolves at once.
    game.host.advance(40_000);
    game.tick(BOB, outside());
    let (mut api, _) = game.split();
    let custom = take_submit(&mut api);
    assert_eq!(
        custom["playerCaptureProgress"][ALICE]["progressSeconds"],
        60.0
    );
    assert_eq!(custom["playerCaptureProgress"][BOB]["progressSeconds"], 0.0);
    assert_eq!(custom["finishedAtEpochMs"], T0 + 66_000);
    assert_eq!(api[..2], [win(ALICE), loss(BOB)]);
}

#[test]
fn contested_players_all_gain_and_nothing_decays() {
    let mut game = Game::new("{}", &[ALICE, BOB, CARA]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob"), (CARA, "Cara")]);
    game.ticks(1, 0, &[(BOB, pos(69.0, 85.0, -6.0))]);
    game.start();
    game.ticks(
        50,
        200,
        &[
            (ALICE, inside()),
            (BOB, pos(69.0, 85.0, -6.0)),
            (CARA, outside()),
        ],
    );
    assert_eq!(game.session().zone(), &ZoneState::Contested);
    assert!((game.progress(ALICE) - 10.0).abs() < 1e-9);
    assert!((game.progress(BOB) - 10.0).abs() < 1e-9);
    assert_eq!(game.progress(CARA), 0.0);

    // Alice leaves: Bob captures alone, Alice keeps her 10 s.
    game.ticks(
        25,
        200,
        &[(ALICE, outside()), (BOB, inside()), (CARA, outside())],
    );
    assert_eq!(game.session().zone(), &ZoneState::Capturing(s(BOB)));
    assert!((game.progress(ALICE) - 10.0).abs() < 1e-9);
    assert!((game.progress(BOB) - 15.0).abs() < 1e-9);
    game.ticks(
        5,
        200,
        &[(ALICE, outside()), (BOB, outside()), (CARA, outside())],
    );
    assert_eq!(game.session().zone(), &ZoneState::Empty);
    assert!((game.progress(ALICE) - 10.0).abs() < 1e-9);
}

#[test]
fn the_advance_sees_the_ticking_players_fresh_state_and_the_others_latest() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start();
    game.host.advance(100);
    game.tick(BOB, inside()); // Bob's state is known; this advance counts him
    game.host.advance(100);
    game.tick(ALICE, inside()); // throttled
    assert_eq!((game.progress(ALICE), game.progress(BOB)), (0.0, 0.2));
    // Bob leaves, but has not ticked since: the advance on Alice's tick still counts him.
    game.host.advance(100);
    game.tick(ALICE, inside());
    assert_eq!(game.session().zone(), &ZoneState::Contested);
    assert!((game.progress(BOB) - 0.4).abs() < 1e-9);
    game.host.advance(200);
    game.tick(BOB, outside());
    assert_eq!(game.session().zone(), &ZoneState::Capturing(s(ALICE)));
    assert!((game.progress(BOB) - 0.4).abs() < 1e-9);
}

#[test]
fn a_tie_at_the_target_goes_to_the_greatest_name() {
    // "alice" > "Bob" in UTF-16 order (lowercase after uppercase), whatever the insertion order.
    let mut game = Game::new("{}", &[BOB, ALICE]);
    game.join(&[(BOB, "Bob"), (ALICE, "alice")]);
    // Both positions are known before the first advance, so both count from the start.
    game.ticks(1, 0, &[(BOB, inside()), (ALICE, inside())]);
    game.start();
    game.ticks(300, 200, &[(BOB, inside()), (ALICE, inside())]);
    let (mut api, _) = game.split();
    let custom = take_submit(&mut api);
    assert_eq!(api[..2], [loss(BOB), win(ALICE)]);
    assert_eq!(custom["winnerPlayerUuid"], ALICE);
    assert_eq!(
        custom["playerCaptureProgress"][BOB]["progressPercent"],
        100.0
    );
    assert_eq!(game.session().finish().unwrap().finished_at, T0 + 60_000);
}

#[test]
fn equal_names_tie_to_the_first_tracked_player() {
    let mut game = Game::new("{}", &[CARA, DAN]);
    game.join(&[(DAN, "Sam"), (CARA, "Sam")]);
    game.ticks(1, 0, &[(CARA, inside()), (DAN, inside())]);
    game.start();
    game.ticks(300, 200, &[(CARA, inside()), (DAN, inside())]);
    assert_eq!(game.session().finish().unwrap().winner, DAN);
}

#[test]
fn deaths_respawn_after_a_growing_penalty_and_kills_shorten_it() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start();
    game.ticks(1, 200, &[(ALICE, inside()), (BOB, outside())]);
    game.take();

    // Bob kills Alice: her first respawn is immediate, then her penalty is 3 s. Bob had no
    // penalty: no reward, no notice.
    game.host.advance(200);
    game.tick(ALICE, dead(Some(BOB)));
    assert_eq!(
        game.commands(),
        vec![
            death_screen(ALICE),
            command(ALICE, "player.forceRespawn", Value::Null),
            message(ALICE)
        ]
    );
    assert_eq!(
        game.session().player(ALICE).unwrap().respawn.penalty_ms,
        3_000
    );
    assert_eq!(game.session().player(BOB).unwrap().kill_bonus_until, None);
    // Dead players do not count; their progress is kept.
    let before = game.progress(ALICE);
    game.ticks(1, 200, &[(ALICE, dead(None)), (BOB, outside())]);
    assert_eq!(game.progress(ALICE), before);
    assert_eq!(
        game.commands(),
        vec![],
        "the same death is not handled twice"
    );
    game.ticks(1, 200, &[(ALICE, inside()), (BOB, outside())]);

    // Second death: respawn 3 s later; in between the HUD shows the countdown.
    game.host.advance(200);
    game.tick(ALICE, dead(None));
    let died_at = game.host.now();
    assert_eq!(game.commands(), vec![death_screen(ALICE)]);
    let hud = game.session().player(ALICE).unwrap().respawn;
    assert_eq!(hud.remaining_ms(died_at), Some(3_000));
    game.ticks(14, 200, &[(ALICE, dead(None))]);
    assert_eq!(game.commands(), vec![]);
    game.ticks(1, 200, &[(ALICE, dead(None))]);
    assert_eq!(game.host.now() - died_at, 3_000);
    assert_eq!(
        game.commands(),
        vec![
            command(ALICE, "player.forceRespawn", Value::Null),
            message(ALICE)
        ]
    );
    assert_eq!(
        game.session().player(ALICE).unwrap().respawn.penalty_ms,
        6_000
    );
    game.ticks(1, 200, &[(ALICE, inside())]);

    // Alice kills Bob: her penalty drops to 3 s and she sees the notice for 4 s.
    game.host.advance(200);
    game.tick(BOB, dead(Some(ALICE)));
    let alice = game.session().player(ALICE).unwrap();
    assert_eq!(alice.respawn.penalty_ms, 3_000);
    assert_eq!(alice.kill_bonus_until, Some(game.host.now() + 4_000));
    game.take();
    game.ticks(3, 200, &[(ALICE, inside())]);
    let (_, commands) = game.split();
    let hud = &commands.last().expect("a HUD update").2;
    assert_eq!(hud["killBonus"]["text"], "Kill bonus: -3s");
    assert_eq!(hud["respawn"], "Respawn: 3.0s");

    // A suicide or an unknown killer gives nothing.
    game.ticks(1, 200, &[(BOB, inside())]);
    game.ticks(1, 200, &[(ALICE, dead(Some(ALICE)))]);
    game.ticks(1, 200, &[(BOB, dead(Some(DAN)))]);
    assert_eq!(
        game.session().player(ALICE).unwrap().respawn.penalty_ms,
        3_000
    );
    assert_eq!(
        game.session().player(BOB).unwrap().respawn.penalty_ms,
        3_000
    );
}

#[test]
fn the_home_respawn_point_is_written_once_on_the_first_tick_after_start() {
    let mut game = Game::new(r#"{"hudEnabled": false}"#, &[ALICE]);
    game.join(&[(ALICE, "Alice")]);
    game.ticks(3, 200, &[(ALICE, pos(1.5, 70.0, -2.5))]);
    assert_eq!(game.commands(), vec![]);
    game.start();
    game.ticks(1, 200, &[(ALICE, pos(10.7, 65.2, -3.5))]);
    game.ticks(5, 200, &[(ALICE, pos(11.0, 65.0, -3.0))]);
    assert_eq!(
        game.commands(),
        vec![command(
            ALICE,
            "player.setRespawnPoint",
            json!({"worldName": WORLD, "name": "mid_capture_home", "blockX": 10, "blockY": 65, "blockZ": -4,
                   "x": 10.7, "y": 65.2, "z": -3.5})
        )]
    );
}

#[test]
fn the_placement_world_is_the_match_world_compared_case_insensitively() {
    let mut game = Game::new(r#"{"hudEnabled": false}"#, &[ALICE]);
    game.arrive(ALICE, "Alice");
    game.place_in(ALICE, "Alice", "Arena-7");
    assert_eq!(game.session().world_name(), "Arena-7");
    game.start();
    let mut tick = inside();
    tick["worldName"] = json!("ARENA-7");
    game.ticks(10, 200, &[(ALICE, tick)]);
    assert!((game.progress(ALICE) - 2.0).abs() < 1e-9);
    assert_eq!(game.commands()[0].2["worldName"], "Arena-7");
}

#[test]
fn only_placement_confirmed_players_are_tracked() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.join(&[(ALICE, "Alice")]);
    game.arrive(BOB, "Bob");
    assert_eq!(game.session().pending_placement(), [s(BOB)]);
    game.start();
    game.ticks(10, 200, &[(BOB, inside())]);
    assert!(game.session().player(BOB).is_none());
    assert_eq!(game.split(), (vec![], vec![]));
    // Uppercase UUIDs in game data are the same player.
    game.tick(&ALICE.to_uppercase(), inside());
    assert_eq!(game.progress(ALICE), 0.2);
}

#[test]
fn a_disconnect_drops_the_player_and_their_progress() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start();
    game.ticks(100, 200, &[(ALICE, inside()), (BOB, inside())]);
    game.take();
    game.disconnect(BOB);
    let (api, commands) = game.split();
    assert_eq!(api, vec![], "no Nexori call on disconnect");
    assert_eq!(commands, vec![command(BOB, "hud.remove", Value::Null)]);
    assert!(game.session().player(BOB).is_none());
    // Ticks of a removed player are ignored.
    game.ticks(5, 200, &[(BOB, inside())]);
    assert!(game.session().player(BOB).is_none());

    // Placement confirmed again: back with 0 progress, at the end of the order. The next
    // advance credits the 1.2 s since the previous one to both.
    game.place(BOB, "Bob");
    assert_eq!(game.progress(BOB), 0.0);
    assert_eq!(game.session().players()[1].uuid, BOB);
    game.ticks(200, 200, &[(BOB, inside()), (ALICE, inside())]);
    let (mut api, _) = game.split();
    let custom = take_submit(&mut api);
    assert_eq!(api[..2], [win(ALICE), loss(BOB)]);
    assert!(
        (custom["playerCaptureProgress"][BOB]["progressSeconds"]
            .as_f64()
            .unwrap()
            - 40.0)
            .abs()
            < 1e-6
    );
}

#[test]
fn the_last_player_leaving_deletes_the_session() {
    let mut game = Game::new("{}", &[ALICE]);
    game.join(&[(ALICE, "Alice")]);
    game.start();
    game.disconnect(ALICE);
    assert!(game.driver.get().unwrap().session_of(M).is_none());
    assert!(
        game.host
            .logs()
            .iter()
            .any(|(_, m)| m == "CTZ session m1 closed (SESSION_EMPTY)")
    );
}

#[test]
fn a_wrong_world_detaches_after_the_start_only() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    let mut lobby = inside();
    lobby["worldName"] = json!("lobby");
    game.ticks(3, 200, &[(ALICE, lobby.clone())]);
    assert!(
        game.session().player(ALICE).is_some(),
        "ignored before the start"
    );
    game.start();
    game.ticks(10, 200, &[(ALICE, inside()), (BOB, inside())]);
    game.take();
    game.ticks(1, 200, &[(ALICE, lobby)]);
    assert!(game.session().player(ALICE).is_none());
    assert_eq!(
        game.split(),
        (vec![], vec![command(ALICE, "hud.remove", Value::Null)])
    );
    // A tick without a world is not a world change: not counted, still tracked.
    game.ticks(1, 200, &[(BOB, json!({"x": 62.0, "y": 90.0, "z": -6.0}))]);
    assert!(game.session().player(BOB).is_some());
    assert_eq!(game.session().zone(), &ZoneState::Empty);
}

#[test]
fn a_backfill_player_joins_with_zero_and_counts_at_once() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start();
    game.ticks(50, 200, &[(ALICE, inside()), (BOB, outside())]);
    game.required.push(s(DAN));
    game.join(&[(DAN, "Dan")]);
    // Nobody's progress or the zone changed.
    assert!((game.progress(ALICE) - 10.0).abs() < 1e-9);
    assert_eq!(game.session().zone(), &ZoneState::Capturing(s(ALICE)));
    game.ticks(1, 200, &[(DAN, inside())]);
    assert_eq!(game.progress(DAN), 0.2);
    assert_eq!(game.session().zone(), &ZoneState::Contested);
    game.ticks(250, 200, &[(ALICE, inside()), (DAN, inside())]);
    let (mut api, _) = game.split();
    let custom = take_submit(&mut api);
    assert_eq!(api[..3], [win(ALICE), loss(BOB), loss(DAN)]);
    assert_eq!(custom["participantCount"], 3);
    assert!(
        custom["playerCaptureProgress"][DAN]["progressSeconds"]
            .as_f64()
            .unwrap()
            > 49.9
    );
}

#[test]
fn q6_an_empty_required_list_falls_back_to_the_tracked_players() {
    let mut game = Game::new("{}", &[]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start();
    game.ticks(300, 200, &[(ALICE, inside()), (BOB, outside())]);
    let (mut api, _) = game.split();
    let custom = take_submit(&mut api);
    assert_eq!(
        api,
        vec![win(ALICE), loss(BOB), returned(ALICE), returned(BOB)]
    );
    assert_eq!(custom["participantCount"], 2);
    assert_eq!(
        game.warnings(),
        vec!["CTZ match m1: the required-result player list is empty; using the 2 tracked players"]
    );
}

#[test]
fn q7_the_winner_gets_win_even_when_missing_from_the_required_list() {
    let mut game = Game::new("{}", &[BOB]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start();
    game.ticks(300, 200, &[(ALICE, inside()), (BOB, outside())]);
    let (mut api, _) = game.split();
    let custom = take_submit(&mut api);
    assert_eq!(
        api,
        vec![loss(BOB), win(ALICE), returned(BOB), returned(ALICE)]
    );
    assert_eq!(custom["participantCount"], 2);
    assert_eq!(
        custom["playerCaptureProgress"][ALICE]["progressPercent"],
        100.0
    );
    assert_eq!(game.warnings().len(), 1);
}

#[test]
fn players_return_only_after_an_accepted_or_already_submitted_result() {
    for (status, returns) in [
        (MatchCompletionStatus::Accepted, true),
        (MatchCompletionStatus::AlreadySubmitted, true),
        (MatchCompletionStatus::InvalidResult, false),
        (MatchCompletionStatus::MatchMissing, false),
    ] {
        let mut game = Game::new("{}", &[ALICE]);
        game.host.configure(|answers| {
            answers.submit_final_match_result.match_status = status;
            answers.submit_final_match_result.message = s("why");
        });
        game.join(&[(ALICE, "Alice")]);
        game.start();
        game.ticks(300, 200, &[(ALICE, inside())]);
        let returns_made = game
            .api()
            .iter()
            .filter(|call| matches!(call, Call::ReturnPlayerToLobby { .. }))
            .count();
        assert_eq!(returns_made, usize::from(returns), "{status}");
        assert!(game.session().is_resolved(), "{status}: no retry");
        if !returns {
            assert_eq!(
                game.warnings(),
                vec![format!(
                    "CTZ final result for m1 not accepted ({status}): why"
                )]
            );
        }
    }
}

#[test]
fn outcome_statuses_are_warned_and_the_loop_continues() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.host.configure(|answers| {
        answers.set_player_outcome.status = SetPlayerOutcomeStatus::PlayerMissing;
        answers.set_player_outcome.message = s("nope");
    });
    game.join(&[(ALICE, "Alice")]);
    game.start();
    game.ticks(300, 200, &[(ALICE, inside())]);
    let api = game.api();
    assert_eq!(
        api.len(),
        5,
        "two outcomes, the submit, two returns: {api:?}"
    );
    assert_eq!(game.warnings().len(), 2);
}

#[test]
fn cancellation_and_runtime_close_drop_the_session_without_nexori_calls() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.join(&[(ALICE, "Alice")]);
    game.driver.on_match_cancellation_requested(
        game.match_event("INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET"),
    );
    assert!(game.driver.get().unwrap().session_of(M).is_none());
    game.driver
        .on_match_completed(game.match_event("MATCH_COMPLETED"));
    game.ticks(5, 200, &[(ALICE, inside())]);
    game.driver
        .on_match_runtime_closed(game.match_event("MATCH_RUNTIME_CLOSED"));
    assert_eq!(game.split(), (vec![], vec![]));

    // A running match closed by the runtime: the session goes, HUDs are removed, no API call.
    let mut game = Game::new("{}", &[ALICE]);
    game.join(&[(ALICE, "Alice")]);
    game.start();
    game.ticks(5, 200, &[(ALICE, inside())]);
    game.take();
    game.driver
        .on_match_runtime_closed(game.match_event("MATCH_RUNTIME_CLOSED"));
    assert!(game.driver.get().unwrap().session_of(M).is_none());
    assert_eq!(
        game.split(),
        (vec![], vec![command(ALICE, "hud.remove", Value::Null)])
    );
}

#[test]
fn hud_updates_follow_changes_not_ticks() {
    let mut game = Game::new("{}", &[ALICE, BOB]);
    game.join(&[(ALICE, "Alice"), (BOB, "Bob")]);
    game.start();
    // Nobody in the zone for 10 s at 20 Hz: the HUD text never changes after the first update.
    game.ticks(200, 50, &[(ALICE, outside()), (BOB, outside())]);
    let (_, commands) = game.split();
    let huds: Vec<&Command> = commands
        .iter()
        .filter(|(_, name, _)| name == "hud.update")
        .collect();
    assert_eq!(huds.len(), 2);
    assert_eq!(
        (huds[0].0.as_str(), &huds[0].2["rows"]),
        (ALICE, &json!(["1. Alice 0%", "2. Bob 0%"]))
    );
    assert_eq!(
        (huds[1].0.as_str(), &huds[1].2["rows"]),
        (BOB, &json!(["2. Bob 0%", "1. Alice 0%"]))
    );
    assert_eq!(huds[1].2["status"], "No one is holding the zone");
    assert_eq!(huds[1].2["accent"], "#82C7FF");

    // Capturing for 10 s at 20 Hz: at most one update per 500 ms per player.
    game.ticks(200, 50, &[(ALICE, inside()), (BOB, outside())]);
    let (_, commands) = game.split();
    let updates = commands
        .iter()
        .filter(|(_, name, _)| name == "hud.update")
        .count();
    assert!((20..=42).contains(&updates), "{updates}");
    let last = &commands.last().unwrap().2;
    assert!(
        last["status"]
            .as_str()
            .unwrap()
            .starts_with("Alice is capturing ("),
        "{last}"
    );

    let mut quiet = Game::new(r#"{"hudEnabled": false}"#, &[ALICE]);
    quiet.join(&[(ALICE, "Alice")]);
    quiet.start();
    quiet.ticks(50, 50, &[(ALICE, inside())]);
    assert_eq!(quiet.split().1.len(), 1, "only the home respawn point");
}

#[test]
fn invalid_tick_data_is_ignored_with_a_warning() {
    let mut game = Game::new("{}", &[ALICE]);
    game.join(&[(ALICE, "Alice")]);
    game.start();
    game.tick(ALICE, json!({"worldName": 7}));
    assert_eq!(game.progress(ALICE), 0.0);
    assert_eq!(game.warnings().len(), 1);
    assert!(game.warnings()[0].starts_with("invalid data for game event `player.tick`"));
    // Other kinds are not this mod's business.
    game.driver.on_game_event(GameEvent {
        match_id: s(M),
        kind: s("player.died"),
        player: Some(s(ALICE)),
        ..Default::default()
    });
    assert_eq!(game.split(), (vec![], vec![]));
}

#[test]
fn config_defaults_overrides_and_rejection() {
    let host = RecordingHost::new();
    host.install();
    let mut driver = ModDriver::<CaptureTheZone>::new();
    driver.init("").unwrap();
    assert_eq!(driver.get().unwrap().config(), &Config::default());
    assert_eq!(
        host.take_calls(),
        vec![Call::RegisterMatchLifecycleListener {
            rules_engine_id: s("capture_the_zone")
        }]
    );

    let error = ModDriver::<CaptureTheZone>::new()
        .init(r#"{"captureRadiusXz": 3}"#)
        .unwrap_err();
    assert!(error.contains("unknown field `captureRadiusXz`"), "{error}");
    let error = ModDriver::<CaptureTheZone>::new()
        .init(r#"{"captureMinY": 120}"#)
        .unwrap_err();
    assert_eq!(
        error,
        "invalid mod configuration: captureMinY must be <= captureMaxY"
    );

    // A 20 s capture with a smaller zone and a 5 s return.
    let mut game = Game::new(
        r#"{"captureSecondsToWin": 20, "captureRadius": 2, "returnDelaySeconds": 5}"#,
        &[ALICE],
    );
    game.join(&[(ALICE, "Alice")]);
    game.start();
    game.ticks(10, 200, &[(ALICE, pos(65.0, 90.0, -6.0))]);
    assert_eq!(game.progress(ALICE), 0.0);
    // 100 × 0.2 in doubles is just under 20 (as in Java): the 101st advance clamps to 20.
    game.ticks(100, 200, &[(ALICE, pos(63.0, 90.0, -6.0))]);
    assert!((game.progress(ALICE) - 20.0).abs() < 1e-9 && game.progress(ALICE) < 20.0);
    game.ticks(1, 200, &[(ALICE, pos(63.0, 90.0, -6.0))]);
    let (mut api, _) = game.split();
    let custom = take_submit(&mut api);
    assert_eq!(custom["captureSecondsToWin"], 20.0);
    assert!(api.contains(&Call::ReturnPlayerToLobby {
        match_id: s(M),
        player_uuid: s(ALICE),
        delay_seconds: 5,
        reason: s("mid_capture_match_completed"),
    }));
}
