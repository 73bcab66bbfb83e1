//! Game event batches (`game-event-batches`, new in `nexori:minigame@1.1.0`): the game events
//! of one turn that follow one another for a match reach its mod in one guest call, and nothing
//! else may change. Each test plays the same turns twice through the real host, once with
//! `ArenaHost::apply` on every message (one call per event) and once with
//! `ArenaHost::apply_turn`, and asserts the same trace (callbacks, API answers, commands,
//! results, faults, in order) and the same answer to every message; then it asserts how many
//! guest calls the batched run made.

use std::path::Path;

use nexori_host::arena_host::ArenaHost;
use nexori_host::bridge;
use nexori_host::host_state::lock;
use nexori_tests::*;
use serde_json::{Value, json};

const T0: i64 = 1_760_000_000_000;

/// The scripted mod as built against `nexori:minigame@1.0.0` (at commit 39edfd0), before
/// batches existed.
fn scripted_1_0_0() -> std::path::PathBuf {
    root().join("tests/fixtures/scripted-nexori-minigame-1.0.0.wasm")
}

fn host_with(mod_name: &str, file: &Path) -> ArenaHost {
    let mut host = virtual_host(T0, 7, true);
    host.load_mod(mod_name, &std::fs::read(file).expect("mod file"))
        .expect("mod loads");
    host
}

/// What a run produced: the trace, each message's answer, and the game-event counters
/// `(guest calls, events)`.
struct Played {
    trace: Vec<Value>,
    answers: Vec<Result<(), String>>,
    calls: u64,
    events: u64,
}

/// Plays `steps` (scenario steps: bridge messages with an `at`), each group of consecutive
/// steps with the same `at` as one turn.
fn play(mut host: ArenaHost, steps: &[Value], batched: bool) -> Played {
    let mut answers = Vec::new();
    let mut rest = steps;
    while let Some(first) = rest.first() {
        let at = first["at"].as_i64().unwrap();
        let len = rest.iter().take_while(|s| s["at"] == at).count();
        let (turn, next) = rest.split_at(len);
        rest = next;
        host.advance_to(T0 + at);
        let messages = turn.iter().map(|step| {
            let mut message = step.clone();
            message.as_object_mut().unwrap().remove("at");
            bridge::parse(&message).expect("bridge message")
        });
        // The answers as the game server reads them: the error reply's text.
        let turn: Vec<_> = if batched {
            host.apply_turn(messages)
        } else {
            messages.map(|m| host.apply(m)).collect()
        };
        answers.extend(turn.into_iter().map(|r| r.map_err(|e| e.to_string())));
        host.take_commands();
    }
    let shared = lock(host.shared());
    let counter = |metric: &str| {
        shared
            .trace
            .counters()
            .filter(|(m, _, _)| *m == metric)
            .map(|(_, _, value)| value)
            .sum()
    };
    Played {
        trace: shared
            .trace
            .entries()
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect(),
        answers,
        calls: counter("nexori_game_event_calls_total"),
        events: counter("nexori_game_events_total"),
    }
}

/// Plays `steps` both ways on fresh hosts and asserts the runs cannot be told apart.
fn both_ways(mod_name: &str, file: &Path, steps: &[Value]) -> (Played, Played) {
    let single = play(host_with(mod_name, file), steps, false);
    let batched = play(host_with(mod_name, file), steps, true);
    assert_eq!(batched.answers, single.answers);
    assert_eq!(batched.trace.len(), single.trace.len());
    for (i, (b, s)) in batched.trace.iter().zip(&single.trace).enumerate() {
        assert_eq!(b, s, "trace entry {i} differs");
    }
    assert_eq!(single.calls, single.events, "apply: one call per event");
    (single, batched)
}

fn started(rules: &str, players: &[u8]) -> Vec<Value> {
    let mut steps = vec![create(0, "m1", rules, players)];
    steps.extend(join_all(100, "m1", players));
    steps
}

fn api_entries(trace: &[Value]) -> Vec<(String, String)> {
    of_kind(trace, "api")
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_string(),
                e["status"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn scripted_turn(at: i64) -> Vec<Value> {
    let outcome = |n, outcome, reason| {
        call(
            at,
            "m1",
            "setPlayerOutcome",
            json!({"matchId": "m1", "playerUuid": player(n), "outcome": outcome, "reason": reason}),
        )
    };
    let lookup = |method| call(at, "m1", method, json!({"matchId": "m1"}));
    vec![
        lookup("findRulesEngineId"),
        outcome(1, "WIN", "first"),
        outcome(2, "LOSS", "second"),
        // Refused on its own, whatever the batch around it.
        json!({"at": at, "type": "game.event", "matchId": "m1", "kind": "script.call",
               "player": player(9), "data": {"method": "findRulesEngineId", "args": {"matchId": "m1"}}}),
        call(
            at,
            "m1",
            "submitFinalMatchResult",
            json!({"matchId": "m1", "reason": "done", "customDataJson": "{\"score\":[3,1]}"}),
        ),
        lookup("findActiveMatchInfo"),
        lookup("findMatchPlacementState"),
        outcome(1, "LOSS", "late"),
        json!({"at": at, "type": "game.event", "matchId": "nope", "kind": "script.call",
               "data": {"method": "findRulesEngineId", "args": {"matchId": "m1"}}}),
    ]
}

/// A change stops the batch: the runtime acts on it (the result is accepted, the match
/// completes and `onMatchCompleted` is delivered) before the mod sees the next event, just as
/// with one call per event. Lookups do not stop it.
#[test]
fn a_batch_stops_after_each_change_and_the_runtime_acts_before_the_next_event() {
    let scripted = mods_dir().join("scripted.wasm");
    let mut steps = started("scripted", &[1, 2]);
    steps.extend(scripted_turn(5_000));
    let (single, batched) = both_ways("scripted", &scripted, &steps);

    let answers = &batched.answers[batched.answers.len() - 9..];
    assert_eq!(
        answers[3],
        Err(format!("player {} is not part of match \"m1\"", player(9)))
    );
    assert_eq!(answers[8], Err("unknown match \"nope\"".to_string()));
    assert!(
        answers
            .iter()
            .enumerate()
            .all(|(i, a)| a.is_ok() || i == 3 || i == 8)
    );

    let api = api_entries(&batched.trace);
    let from = api
        .iter()
        .position(|(m, _)| m == "findRulesEngineId")
        .unwrap();
    assert_eq!(
        api[from..]
            .iter()
            .map(|(m, s)| format!("{m} {s}"))
            .collect::<Vec<_>>(),
        [
            "findRulesEngineId FOUND",
            "setPlayerOutcome UPDATED",
            "setPlayerOutcome UPDATED",
            "submitFinalMatchResult ACCEPTED",
            "findActiveMatchInfo FOUND",
            "findMatchPlacementState FOUND",
            "setPlayerOutcome MATCH_ALREADY_COMPLETED",
        ]
    );
    // onMatchCompleted sits between the submission and the next event's lookup.
    let position = |pred: &dyn Fn(&Value) -> bool| batched.trace.iter().position(pred).unwrap();
    let submitted = position(&|e| e["method"] == "submitFinalMatchResult");
    let completed = position(&|e| e["callback"] == "onMatchCompleted");
    let looked_up = position(&|e| e["method"] == "findActiveMatchInfo");
    assert!(submitted < completed && completed < looked_up);

    // 7 events reached the mod, in 5 calls: [lookup, change] (of 3 sent), [change] (the refused
    // event ends the run), [submit] (of 4 sent), then batches of at most twice what the mod
    // last took: [lookup, lookup], [change]. The refused events reached nobody.
    assert_eq!((single.events, batched.events), (7, 7));
    assert_eq!(batched.calls, 5);
}

/// A mod that traps in the middle of a batch faults its match as it would alone; the events
/// after it go nowhere, and answer as they would one by one.
#[test]
fn a_trap_in_a_batch_faults_the_match_like_a_trap_alone() {
    let scripted = mods_dir().join("scripted.wasm");
    let mut steps = started("scripted", &[1, 2]);
    steps.push(call(
        5_000,
        "m1",
        "findRulesEngineId",
        json!({"matchId": "m1"}),
    ));
    steps.push(json!({"at": 5_000, "type": "game.event", "matchId": "m1", "kind": "script.trap"}));
    steps.push(call(
        5_000,
        "m1",
        "findRulesEngineId",
        json!({"matchId": "m1"}),
    ));
    steps.push(call(
        5_000,
        "m1",
        "findRulesEngineId",
        json!({"matchId": "m1"}),
    ));
    let (_, batched) = both_ways("scripted", &scripted, &steps);
    let faults = of_kind(&batched.trace, "fault");
    assert_eq!(faults.len(), 1, "{faults:?}");
    assert_eq!(faults[0]["matchId"], "m1");
    assert_eq!(
        api_entries(&batched.trace)
            .iter()
            .filter(|(m, _)| m == "findRulesEngineId")
            .count(),
        1,
        "nothing after the trap reached a mod"
    );
}

/// A whole Capture The Zone match at 20 Hz, 16 players in the zone until the capture: the
/// HUD commands, outcome calls, result and returns are the same, in far fewer guest calls.
#[test]
fn a_whole_capture_the_zone_match_is_the_same_in_batches() {
    let ctz = mods_dir().join("capture_the_zone.wasm");
    let players: Vec<u8> = (1..=16).collect();
    let mut steps = started("capture_the_zone", &players);
    let inside =
        json!({"worldName": "nexori-match-m1", "x": 62.0, "y": 90.0, "z": -6.0, "alive": true});
    // 61 s of ticks: the contested capture completes at the 300th advance (about 60.8 s).
    steps.extend(player_ticks("m1", 1_000, 62_000, 50, &players, |_, _| {
        Some(inside.clone())
    }));
    // The returns to the lobby are due 8 s after the result.
    steps.push(json!({"at": 75_000, "type": "wait"}));
    let (single, batched) = both_ways("capture_the_zone", &ctz, &steps);

    assert_eq!(batched.events, single.events);
    assert_eq!(of_kind(&batched.trace, "result").len(), 1, "one capture");
    assert!(
        !of_kind(&batched.trace, "command").is_empty(),
        "HUD commands"
    );
    assert!(
        single.events > 16 * 1_000,
        "{} ticks reached the mod",
        single.events
    );
    // One call per 16-tick turn; only turns with a change (the capture) are split, and the few
    // after it, while the batch limit grows back.
    let turns = single.events.div_ceil(16);
    assert!(
        batched.calls >= turns && batched.calls <= turns + 8,
        "{} calls for {} events in {turns} turns",
        batched.calls,
        single.events
    );
}

/// A mod built against 1.0.0 has no batch export: `apply_turn` gives it one call per event,
/// and the same trace as the 1.1.0 build of the same mod.
#[test]
fn a_mod_built_against_1_0_0_gets_one_call_per_event_and_the_same_trace() {
    let mut steps = started("scripted", &[1, 2]);
    steps.extend(scripted_turn(5_000));
    let (_, old) = both_ways("scripted", &scripted_1_0_0(), &steps);
    assert_eq!(old.calls, old.events);
    assert_eq!(old.events, 7);
    let new = play(
        host_with("scripted", &mods_dir().join("scripted.wasm")),
        &steps,
        true,
    );
    assert_eq!(new.answers, old.answers);
    assert_eq!(new.trace, old.trace);
}
