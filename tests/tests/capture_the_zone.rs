//! The Capture The Zone mod through the real host: per-tick player state as `player.tick` game
//! events, asserted on the trace (outcome calls, the result body, the returns 8 s later, the
//! game commands).
//!
//! Ticks are generated at 5 Hz (20 Hz in the solo run): the mod advances at most every 200 ms,
//! so both give the nominal 0.2 s per advance.

use nexori_tests::*;
use serde_json::{Map, Value, json};

const T0: i64 = 1_760_000_000_000;
const WORLD: &str = "nexori-match-m1";

fn pos(x: f64, y: f64, z: f64) -> Value {
    json!({"worldName": WORLD, "x": x, "y": y, "z": z, "alive": true})
}

fn inside() -> Value {
    pos(62.0, 90.0, -6.0)
}

fn outside() -> Value {
    pos(0.0, 64.0, 0.0)
}

fn dead(killer: Option<u8>) -> Value {
    let mut data = inside();
    data["alive"] = json!(false);
    if let Some(killer) = killer {
        data["killerPlayerUuid"] = json!(player(killer));
    }
    data
}

/// The progress arithmetic of the mod, to predict float results exactly.
fn add(progress: f64, delta: f64) -> f64 {
    (progress + delta).clamp(0.0, 60.0)
}

/// `n` advances of 0.2 s from 0.
fn fifths(n: usize) -> f64 {
    (0..n).fold(0.0, |p, _| add(p, 0.2))
}

struct Run {
    trace: Vec<Value>,
    matches: Map<String, Value>,
}

fn run(steps: Vec<Value>) -> Run {
    let dir = mods_subset(&["capture_the_zone"]);
    let out = simulate_in(dir.path(), json!({ "startEpochMs": T0, "steps": steps }));
    let matches = serde_json::to_value(&out.matches)
        .unwrap()
        .as_object()
        .unwrap()
        .clone();
    Run {
        trace: trace_json(&out),
        matches,
    }
}

/// `create` + `join_all`: the gate opens when the last player is placed.
fn started(players: &[u8]) -> Vec<Value> {
    let mut steps = vec![create(0, "m1", "capture_the_zone", players)];
    steps.extend(join_all(100, "m1", players));
    steps
}

fn rel(entry: &Value) -> i64 {
    entry["at"].as_i64().unwrap() - T0
}

impl Run {
    /// Nexori API calls (without the registration): `(at, method, player, status)`.
    fn api(&self) -> Vec<(i64, String, Option<String>, String)> {
        of_kind(&self.trace, "api")
            .iter()
            .filter(|e| e["method"] != "registerMatchLifecycleListener")
            .map(|e| {
                (
                    rel(e),
                    e["method"].as_str().unwrap().to_string(),
                    e["player"].as_str().map(str::to_string),
                    e["status"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn result(&self) -> Value {
        let results = of_kind(&self.trace, "result");
        assert_eq!(results.len(), 1, "{results:?}");
        results[0].clone()
    }

    /// Game commands except `hud.update`: `(at, player, name, data)`.
    fn game_commands(&self) -> Vec<(i64, String, String, Value)> {
        self.commands_named(|name| name != "hud.update")
    }

    /// `hud.update` commands: `(at, player, data)`.
    fn huds(&self) -> Vec<(i64, String, Value)> {
        self.commands_named(|name| name == "hud.update")
            .into_iter()
            .map(|(at, p, _, data)| (at, p, data))
            .collect()
    }

    fn commands_named(&self, keep: impl Fn(&str) -> bool) -> Vec<(i64, String, String, Value)> {
        self.trace
            .iter()
            .filter(|e| e["kind"] == "command" && e["type"] == "game.command")
            .filter(|e| keep(e["name"].as_str().unwrap()))
            .map(|e| {
                assert_eq!(e["matchId"], "m1");
                (
                    rel(e),
                    e["player"].as_str().unwrap_or("").to_string(),
                    e["name"].as_str().unwrap().to_string(),
                    e.get("data").cloned().unwrap_or(Value::Null),
                )
            })
            .collect()
    }

    /// `player.return` commands: `(at, player, reason)`.
    fn returns(&self) -> Vec<(i64, String, String)> {
        self.trace
            .iter()
            .filter(|e| e["kind"] == "command" && e["type"] == "player.return")
            .map(|e| {
                (
                    rel(e),
                    e["player"].as_str().unwrap().to_string(),
                    e["reason"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    fn logs(&self, level: &str) -> Vec<(i64, String)> {
        of_kind(&self.trace, "log")
            .iter()
            .filter(|e| e["level"] == level)
            .map(|e| (rel(e), e["message"].as_str().unwrap().to_string()))
            .collect()
    }

    fn callbacks(&self) -> Vec<(i64, String)> {
        of_kind(&self.trace, "callback")
            .iter()
            .map(|e| (rel(e), e["callback"].as_str().unwrap().to_string()))
            .collect()
    }

    /// No bad step, no fault, no warning from the mod.
    fn assert_clean(&self) {
        assert_eq!(of_kind(&self.trace, "error"), Vec::<Value>::new());
        assert_eq!(of_kind(&self.trace, "fault"), Vec::<Value>::new());
        assert_eq!(self.logs("warn"), vec![]);
        assert_eq!(self.logs("error"), vec![]);
    }

    /// At most one HUD update per player per 500 ms.
    fn assert_hud_throttled(&self) {
        let huds = self.huds();
        assert!(!huds.is_empty(), "no HUD updates to check");
        let mut players: Vec<&String> = huds.iter().map(|(_, p, _)| p).collect();
        players.dedup();
        for p in players {
            let times: Vec<i64> = huds
                .iter()
                .filter(|(_, q, _)| q == p)
                .map(|(at, _, _)| *at)
                .collect();
            assert!(
                times.windows(2).all(|w| w[1] - w[0] >= 500),
                "HUD of {p} updated faster than every 500 ms: {times:?}"
            );
        }
    }
}

fn api_call(
    at: i64,
    method: &str,
    n: Option<u8>,
    status: &str,
) -> (i64, String, Option<String>, String) {
    (at, method.to_string(), n.map(player), status.to_string())
}

/// The calls of a resolution at `at`: outcomes in required order, the submit, the returns.
fn resolution_calls(at: i64, required: &[u8]) -> Vec<(i64, String, Option<String>, String)> {
    let mut calls: Vec<_> = required
        .iter()
        .map(|n| api_call(at, "setPlayerOutcome", Some(*n), "UPDATED"))
        .collect();
    calls.push(api_call(at, "submitFinalMatchResult", None, "ACCEPTED"));
    calls.extend(
        required
            .iter()
            .map(|n| api_call(at, "returnPlayerToLobby", Some(*n), "SCHEDULED")),
    );
    calls
}

/// The result body's `players`: WIN for `winner`, LOSS for the others, in required order.
fn result_players(winner: u8, required: &[u8]) -> Value {
    json!(
        required
            .iter()
            .map(|n| if *n == winner {
                json!({"playerUuid": player(*n), "outcome": "WIN", "reason": "mid_capture_win"})
            } else {
                json!({"playerUuid": player(*n), "outcome": "LOSS", "reason": "mid_capture_loss"})
            })
            .collect::<Vec<_>>()
    )
}

/// Checks the result entry: status, body players/reason/times, and `customData` (progress
/// compared with a 1e-6 tolerance; `progress` lists exactly the players in the map).
fn assert_result(
    run: &Run,
    at: i64,
    winner: u8,
    required: &[u8],
    progress: &[(u8, &str, f64)],
) -> Value {
    let result = run.result();
    assert_eq!(rel(&result), at);
    assert_eq!(
        (&result["matchStatus"], &result["backendReportStatus"]),
        (&json!("ACCEPTED"), &json!("QUEUED"))
    );
    let body = &result["body"];
    assert_eq!(body["rulesEngineId"], "capture_the_zone");
    assert_eq!(body["localMatchId"], "m1");
    assert_eq!(body["externalMatchId"], "ext-m1");
    assert_eq!(body["reason"], "mid_capture_point_captured");
    // A recorded match's result names its mod and the hash of its inputs (docs/replay.md).
    let metadata = body["metadata"].as_object().expect("metadata");
    assert_eq!(
        metadata.keys().collect::<Vec<_>>(),
        ["modSha256", "inputLogSha256"]
    );
    assert_eq!(
        metadata["modSha256"],
        nexori_recording::format::sha256_hex(
            &std::fs::read(mods_dir().join("capture_the_zone.wasm")).expect("the mod")
        )
    );
    assert!(
        metadata["inputLogSha256"]
            .as_str()
            .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit())),
        "{metadata:?}"
    );
    assert_eq!(body["endedAtEpochMs"], T0 + at);
    assert_eq!(body["players"], result_players(winner, required));

    let custom = &body["customData"];
    let mut head = custom.clone();
    let map = head
        .as_object_mut()
        .unwrap()
        .remove("playerCaptureProgress")
        .unwrap();
    assert_eq!(
        head,
        json!({
            "capturePointId": "mid",
            "captureSecondsToWin": 60.0,
            "finishedAtEpochMs": T0 + at,
            "mode": "mid_capture",
            "participantCount": required.len(),
            "winnerPlayerUuid": player(winner),
        })
    );
    let map = map.as_object().unwrap();
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let mut expected: Vec<String> = progress.iter().map(|(n, _, _)| player(*n)).collect();
    expected.sort();
    assert_eq!(keys, expected.iter().collect::<Vec<_>>());
    for (n, name, seconds) in progress {
        let entry = &map[&player(*n)];
        assert_eq!(entry["playerName"], *name, "{n}");
        let got = entry["progressSeconds"].as_f64().unwrap();
        assert!((got - seconds).abs() < 1e-6, "P{n}: {got} != {seconds}");
        let percent = entry["progressPercent"].as_f64().unwrap();
        assert!(
            (percent - seconds / 60.0 * 100.0).abs() < 1e-6,
            "P{n}: {percent}%"
        );
    }
    custom.clone()
}

fn returns(at: i64, players: &[u8]) -> Vec<(i64, String, String)> {
    players
        .iter()
        .map(|n| (at, player(*n), "mid_capture_match_completed".to_string()))
        .collect()
}

fn home(at: i64, n: u8, block: [i64; 3], exact: [f64; 3]) -> (i64, String, String, Value) {
    (
        at,
        player(n),
        "player.setRespawnPoint".into(),
        json!({"worldName": WORLD, "name": "mid_capture_home",
               "blockX": block[0], "blockY": block[1], "blockZ": block[2],
               "x": exact[0], "y": exact[1], "z": exact[2]}),
    )
}

fn cmd(at: i64, n: u8, name: &str, data: Value) -> (i64, String, String, Value) {
    (at, player(n), name.to_string(), data)
}

fn death_screen(at: i64, n: u8) -> (i64, String, String, Value) {
    cmd(
        at,
        n,
        "player.setDeathScreen",
        json!({"showDeathMenu": true, "showDeathData": false, "hideRespawnButton": true}),
    )
}

fn respawn(at: i64, n: u8) -> [(i64, String, String, Value); 2] {
    [
        cmd(at, n, "player.forceRespawn", Value::Null),
        cmd(
            at,
            n,
            "player.message",
            json!({"text": "Respawn penalty added: +3s for your next death."}),
        ),
    ]
}

// ----------------------------------------------------------------------------- scenarios

#[test]
fn a_solo_capture_at_20_hz_wins_after_300_advances() {
    let mut steps = started(&[1]);
    steps.extend(player_ticks("m1", 1_000, 62_000, 50, &[1], |_, _| {
        Some(inside())
    }));
    steps.push(json!({"at": 75_000, "type": "wait"}));
    let run = run(steps);
    run.assert_clean();

    // First advance at 1 000 (0.2 s), then one per 200 ms: the 300th is at 60 800.
    assert_eq!(run.api(), resolution_calls(60_800, &[1]));
    assert_result(&run, 60_800, 1, &[1], &[(1, "P1", 60.0)]);
    assert_eq!(run.returns(), returns(68_800, &[1]));
    assert_eq!(
        run.game_commands(),
        vec![
            home(1_000, 1, [62, 90, -6], [62.0, 90.0, -6.0]),
            cmd(60_800, 1, "hud.remove", Value::Null),
        ]
    );
    let huds = run.huds();
    assert_eq!(
        huds[0],
        (
            1_000,
            player(1),
            json!({"title": "MID CONTROL", "status": "P1 is capturing (60s)", "accent": "#9FF0A8",
                   "sidebarTitle": "Capture Progress", "rows": ["1. P1 0%"], "respawn": "Respawn: 0.0s"})
        )
    );
    // 1 200 ticks, but the HUD only follows its text, at most twice a second.
    assert!(huds.len() <= 120, "{}", huds.len());
    assert!(huds.iter().all(|(at, _, _)| *at < 60_800));
    run.assert_hud_throttled();
    let callbacks = run.callbacks();
    assert_eq!(
        callbacks[callbacks.len() - 2..],
        [
            (60_800, "onMatchCompleted".to_string()),
            (68_800, "onMatchRuntimeClosed".to_string())
        ]
    );
    assert_eq!(run.matches["m1"]["resultSubmittedAtEpochMs"], T0 + 60_800);
}

#[test]
fn a_contested_race_credits_everyone_in_the_zone() {
    // P1 and P2 share the zone except while P1 is away (20 s to 30 s); P3 stays out.
    let mut steps = started(&[1, 2, 3]);
    steps.extend(player_ticks(
        "m1",
        1_000,
        62_000,
        200,
        &[1, 2, 3],
        |n, at| {
            Some(match n {
                1 if (20_000..30_000).contains(&at) => outside(),
                1 | 2 => inside(),
                _ => outside(),
            })
        },
    ));
    steps.push(json!({"at": 75_000, "type": "wait"}));
    let run = run(steps);
    run.assert_clean();

    // P1 ticks first, so the first advance (1 000) cannot count P2 yet: P2 counts from 1 200 and
    // reaches 60 s at its 300th advance, 61 000. P1 missed 50 advances while away: 251 × 0.2.
    assert_eq!(run.api(), resolution_calls(61_000, &[1, 2, 3]));
    assert_result(
        &run,
        61_000,
        2,
        &[1, 2, 3],
        &[(1, "P1", fifths(251)), (2, "P2", 60.0), (3, "P3", 0.0)],
    );
    assert_eq!(run.returns(), returns(69_000, &[1, 2, 3]));
    let status_of_p3 = |from: i64, to: i64| -> Vec<String> {
        run.huds()
            .into_iter()
            .filter(|(at, p, _)| *p == player(3) && (from..to).contains(at))
            .map(|(_, _, data)| data["status"].as_str().unwrap().to_string())
            .collect()
    };
    let contested = status_of_p3(1_400, 20_000);
    assert!(!contested.is_empty());
    assert!(contested.iter().all(|s| s == "Zone contested"));
    let p2_alone = status_of_p3(20_200, 30_000);
    assert!(!p2_alone.is_empty());
    assert!(p2_alone.iter().all(|s| s.starts_with("P2 is capturing (")));
    run.assert_hud_throttled();
}

#[test]
fn a_tie_at_60_goes_to_the_greatest_name_in_java_order() {
    // Player 1 is "Bob", player 2 "alice": in UTF-16 order "alice" > "Bob" (lowercase after
    // uppercase), although player 1 was tracked first and "Bob" is greater case-insensitively.
    let mut steps = vec![json!({
        "at": 0, "type": "match.create", "matchId": "m1", "queueId": "q", "arenaId": "a",
        "rulesEngineId": "capture_the_zone", "externalMatchId": "ext-m1",
        "expectedPlayers": [{"uuid": player(1), "name": "Bob"}, {"uuid": player(2), "name": "alice"}]
    })];
    for (i, (n, name)) in [(1u8, "Bob"), (2, "alice")].into_iter().enumerate() {
        let i = i as i64;
        steps.push(json!({"at": 100 + i * 10, "type": "player.arrive", "matchId": "m1", "player": player(n), "name": name}));
        steps.push(json!({"at": 200 + i * 10, "type": "player.placed", "matchId": "m1", "player": player(n)}));
    }
    // The first advance (P1 outside, P2 unknown) counts nobody; from 1 200 both count.
    steps.extend(player_ticks("m1", 1_000, 62_000, 200, &[1, 2], |n, at| {
        Some(if n == 1 && at == 1_000 {
            outside()
        } else {
            inside()
        })
    }));
    steps.push(json!({"at": 75_000, "type": "wait"}));
    let run = run(steps);
    run.assert_clean();

    assert_eq!(run.api(), resolution_calls(61_000, &[1, 2]));
    let custom = assert_result(
        &run,
        61_000,
        2,
        &[1, 2],
        &[(1, "Bob", 60.0), (2, "alice", 60.0)],
    );
    // Both exactly at the clamp: a true tie.
    assert_eq!(
        custom["playerCaptureProgress"][player(1)]["progressSeconds"],
        60.0
    );
    assert_eq!(
        custom["playerCaptureProgress"][player(2)]["progressSeconds"],
        60.0
    );
    assert_eq!(run.returns(), returns(69_000, &[1, 2]));
}

#[test]
fn zone_boundaries_radius_and_height_are_inclusive() {
    let mut steps = started(&[1, 2, 3, 4, 5]);
    steps.extend(player_ticks(
        "m1",
        1_000,
        62_000,
        200,
        &[1, 2, 3, 4, 5],
        |n, at| {
            Some(match n {
                // Exactly on the radius at the bottom of the band, then at the top.
                1 if at < 30_000 => pos(70.0, 84.0, -6.0),
                1 => pos(62.0, 100.0, -14.0),
                2 => pos(70.001, 90.0, -6.0),  // just beyond the radius
                3 => pos(62.0, 83.999, -6.0),  // just below the band
                4 => pos(62.0, 100.001, -6.0), // just above
                _ => pos(70.0, 90.0, 2.0),     // a corner of the legacy square
            })
        },
    ));
    steps.push(json!({"at": 75_000, "type": "wait"}));
    let run = run(steps);
    run.assert_clean();

    let everyone = [1, 2, 3, 4, 5];
    assert_eq!(run.api(), resolution_calls(60_800, &everyone));
    assert_result(
        &run,
        60_800,
        1,
        &everyone,
        &[
            (1, "P1", 60.0),
            (2, "P2", 0.0),
            (3, "P3", 0.0),
            (4, "P4", 0.0),
            (5, "P5", 0.0),
        ],
    );
    // Nobody else ever counted: the zone was never contested.
    assert!(!run.huds().is_empty());
    assert!(run.huds().iter().all(|(_, _, data)| {
        data["status"]
            .as_str()
            .unwrap()
            .starts_with("P1 is capturing")
    }));
    let homes: Vec<_> = run
        .game_commands()
        .into_iter()
        .filter(|c| c.2 == "player.setRespawnPoint")
        .collect();
    assert_eq!(homes[0], home(1_000, 1, [70, 84, -6], [70.0, 84.0, -6.0]));
    assert_eq!(homes[2], home(1_000, 3, [62, 83, -6], [62.0, 83.999, -6.0]));
    assert_eq!(homes.len(), 5);
}

#[test]
fn deaths_respawn_after_0_3_then_3_seconds_with_a_kill_bonus() {
    // P1 holds the zone. P2 kills P1 at 10 s (first death: instant respawn, penalty 3 s); P1
    // dies alone at 20 s (waits 3 s, penalty 6 s); P1 kills P2 at 30 s (P1's penalty 6 → 3 s);
    // P1 dies at 40 s and waits only 3 s.
    let p1_dead = |at: i64| {
        at == 10_000 || (20_000..=23_000).contains(&at) || (40_000..=43_000).contains(&at)
    };
    let mut steps = started(&[1, 2]);
    steps.extend(player_ticks(
        "m1",
        1_000,
        68_000,
        200,
        &[1, 2],
        move |n, at| {
            Some(match (n, at) {
                (1, 10_000) => dead(Some(2)),
                (1, at) if p1_dead(at) => dead(None),
                (1, _) => inside(),
                (2, 30_000) => dead(Some(1)),
                _ => outside(),
            })
        },
    ));
    steps.push(json!({"at": 80_000, "type": "wait"}));
    let run = run(steps);
    run.assert_clean();

    // P1 is not counted in 33 advances while dead: the 300th counted one is at 67 400.
    assert_eq!(run.api(), resolution_calls(67_400, &[1, 2]));
    assert_result(&run, 67_400, 1, &[1, 2], &[(1, "P1", 60.0), (2, "P2", 0.0)]);
    assert_eq!(run.returns(), returns(75_400, &[1, 2]));

    let mut expected = vec![
        home(1_000, 1, [62, 90, -6], [62.0, 90.0, -6.0]),
        home(1_000, 2, [0, 64, 0], [0.0, 64.0, 0.0]),
        death_screen(10_000, 1),
    ];
    expected.extend(respawn(10_000, 1));
    expected.push(death_screen(20_000, 1));
    expected.extend(respawn(23_000, 1));
    expected.push(death_screen(30_000, 2));
    expected.extend(respawn(30_000, 2));
    expected.push(death_screen(40_000, 1));
    expected.extend(respawn(43_000, 1));
    expected.push(cmd(67_400, 1, "hud.remove", Value::Null));
    expected.push(cmd(67_400, 2, "hud.remove", Value::Null));
    assert_eq!(run.game_commands(), expected);

    let p1_huds: Vec<(i64, Value)> = run
        .huds()
        .into_iter()
        .filter(|(_, p, _)| *p == player(1))
        .map(|(at, _, data)| (at, data))
        .collect();
    // While waiting, the HUD counts down in red.
    let waiting: Vec<&(i64, Value)> = p1_huds
        .iter()
        .filter(|(at, _)| (20_000..23_000).contains(at))
        .collect();
    assert!(!waiting.is_empty());
    for (at, data) in &waiting {
        let left = (23_000 - at) as f64 / 1000.0;
        assert_eq!(data["status"], format!("Respawn in {left:.1}s"));
        assert_eq!(data["accent"], "#FF7C7C");
        assert_eq!(data["respawn"], "Respawn: 3.0s");
    }
    // After the kill: penalty 3 s and the notice until 34 s.
    let bonus: Vec<&(i64, Value)> = p1_huds
        .iter()
        .filter(|(_, data)| data.get("killBonus").is_some())
        .collect();
    assert!(!bonus.is_empty());
    for (at, data) in &bonus {
        assert!((30_200..34_000).contains(at), "{at}");
        assert_eq!(
            data["killBonus"],
            json!({"text": "Kill bonus: -3s", "fromColor": "#9FF0A8", "toColor": "#3A553E", "untilEpochMs": T0 + 34_000})
        );
        assert_eq!(data["respawn"], "Respawn: 3.0s");
    }
    let after_kill_bonus = p1_huds
        .iter()
        .find(|(at, _)| *at >= 34_000)
        .expect("a later HUD");
    assert!(after_kill_bonus.1.get("killBonus").is_none());
    run.assert_hud_throttled();
}

#[test]
fn a_disconnect_drops_the_player_and_their_progress() {
    // P2 holds the zone alone for ~39 s, then leaves; P1 then needs a full 60 s.
    let mut steps = started(&[1, 2, 3]);
    steps.extend(player_ticks(
        "m1",
        1_000,
        39_900,
        200,
        &[1, 2, 3],
        |n, _| Some(if n == 2 { inside() } else { outside() }),
    ));
    steps.push(
        json!({"at": 39_900, "type": "player.disconnect", "player": player(2), "reason": "quit"}),
    );
    steps.extend(player_ticks("m1", 40_000, 101_000, 200, &[1, 3], |n, _| {
        Some(if n == 1 { inside() } else { outside() })
    }));
    steps.push(json!({"at": 115_000, "type": "wait"}));
    let run = run(steps);
    run.assert_clean();

    // No Nexori call at the disconnect; at the end P2 is still required and gets LOSS, but has no
    // progress entry.
    assert_eq!(run.api(), resolution_calls(99_800, &[1, 2, 3]));
    assert_result(
        &run,
        99_800,
        1,
        &[1, 2, 3],
        &[(1, "P1", 60.0), (3, "P3", 0.0)],
    );
    // P2's return is scheduled, then dropped: P2 is offline.
    assert_eq!(run.returns(), returns(107_800, &[1, 3]));
    assert_eq!(
        run.game_commands()
            .into_iter()
            .filter(|c| c.0 > 1_000)
            .collect::<Vec<_>>(),
        vec![
            cmd(39_900, 2, "hud.remove", Value::Null),
            cmd(99_800, 1, "hud.remove", Value::Null),
            cmd(99_800, 3, "hud.remove", Value::Null),
        ]
    );
    assert!(run.logs("info").contains(&(
        39_900,
        format!(
            "CTZ player P2 ({}) left match m1 (PLAYER_DETACHED: disconnected); progress 38.8s dropped",
            player(2)
        )
    )));
}

#[test]
fn a_shortfall_cancellation_is_nexoris_and_the_mod_does_nothing() {
    let steps = {
        let mut steps = vec![create(0, "m1", "capture_the_zone", &[1, 2])];
        steps.push(json!({"at": 100, "type": "player.arrive", "matchId": "m1", "player": player(1), "name": "P1"}));
        steps.push(
            json!({"at": 200, "type": "player.placed", "matchId": "m1", "player": player(1)}),
        );
        // P1 waits in the zone: before the start gate nothing counts.
        steps.extend(player_ticks("m1", 1_000, 60_000, 200, &[1], |_, _| {
            Some(inside())
        }));
        steps.push(json!({"at": 80_000, "type": "wait"}));
        steps
    };
    let run = run(steps);
    run.assert_clean();

    assert_eq!(run.api(), vec![]);
    assert_eq!(run.game_commands(), vec![]);
    assert_eq!(run.huds(), vec![]);
    let result = run.result();
    assert_eq!(rel(&result), 60_000);
    assert_eq!(
        result["body"]["reason"],
        "INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET"
    );
    assert_eq!(result["body"]["metadata"]["cancelled_by"], "nexori");
    let outcomes: Vec<&Value> = result["body"]["players"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["outcome"])
        .collect();
    assert_eq!(outcomes, [&json!("NO_CONTEST"), &json!("NO_CONTEST")]);
    assert_eq!(
        run.callbacks(),
        [
            (0, "onMatchCreated"),
            (100, "onPlayerArrived"),
            (200, "onPlayerPlacementConfirmed"),
            (60_000, "onMatchCancellationRequested"),
            (60_000, "onMatchCompleted"),
            (70_000, "onMatchRuntimeClosed"),
        ]
        .map(|(at, name)| (at, name.to_string()))
    );
    assert_eq!(
        run.returns(),
        vec![(
            70_000,
            player(1),
            "INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET".to_string()
        )]
    );
    assert!(run.logs("info").contains(&(
        60_000,
        "CTZ session m1 closed (NEXORI_MATCH_CANCELLATION_REQUESTED)".to_string()
    )));
}

#[test]
fn a_partial_roster_start_plays_on_and_every_required_player_gets_an_outcome() {
    let mut create = create(0, "m1", "capture_the_zone", &[1, 2, 3]);
    create["minimumInitialPlayers"] = json!(2);
    create["initialPlacementWindowSeconds"] = json!(10);
    let mut steps = vec![create];
    steps.extend(join_all(100, "m1", &[1, 2]));
    // Ticks from 1 s; the gate opens when the window expires at 10 s.
    steps.extend(player_ticks("m1", 1_000, 71_000, 200, &[1, 2], |n, _| {
        Some(if n == 1 { inside() } else { outside() })
    }));
    steps.push(json!({"at": 85_000, "type": "wait"}));
    let run = run(steps);
    run.assert_clean();

    assert!(
        run.callbacks()
            .contains(&(10_000, "onMatchStartAllowed".to_string()))
    );
    // Nothing before the gate; then P1 from its first tick at 10 s: 60 s later minus one step.
    assert_eq!(run.game_commands()[0].0, 10_000);
    assert_eq!(run.api(), resolution_calls(69_800, &[1, 2, 3]));
    // P3 missed the window (Nexori gave NO_CONTEST); CTZ, as the Java mod, gives every required
    // player other than the winner LOSS, which replaces it.
    assert_result(
        &run,
        69_800,
        1,
        &[1, 2, 3],
        &[(1, "P1", 60.0), (2, "P2", 0.0)],
    );
    assert_eq!(
        run.matches["m1"]["playerOutcomes"][player(3)],
        json!({"outcome": "LOSS", "reason": "mid_capture_loss"})
    );
    // P3 never came: nobody to return.
    assert_eq!(run.returns(), returns(77_800, &[1, 2]));
}

#[test]
fn a_backfill_player_joins_with_zero_and_counts_at_once() {
    let mut create = create(0, "m1", "capture_the_zone", &[1, 2]);
    create["matchSource"] = json!("BACKEND_DRIVEN");
    create["admission"] = json!({"capacity": 3, "backfillEnabled": true, "backfillMode": "ACTIVE_WINDOW", "backfillWindowSeconds": 60});
    let mut steps = vec![create];
    steps.extend(join_all(100, "m1", &[1, 2]));
    steps.push(json!({"at": 20_000, "type": "player.arrive", "matchId": "m1", "player": player(3), "name": "P3",
                      "admissionReservationId": "res-3", "admissionExpiresAtEpochMs": T0 + 30_000}));
    steps
        .push(json!({"at": 20_100, "type": "player.placed", "matchId": "m1", "player": player(3)}));
    steps.extend(player_ticks(
        "m1",
        1_000,
        62_000,
        200,
        &[1, 2, 3],
        |n, at| match n {
            1 => Some(inside()),
            2 => Some(outside()),
            _ if at >= 20_200 => Some(inside()),
            _ => None,
        },
    ));
    steps.push(json!({"at": 75_000, "type": "wait"}));
    let run = run(steps);
    run.assert_clean();

    let arrivals: Vec<Value> = of_kind(&run.trace, "callback")
        .into_iter()
        .filter(|e| e["callback"] == "onPlayerArrived" && e["player"] == json!(player(3)))
        .collect();
    assert_eq!(arrivals[0]["reason"], "BACKFILL_PLAYER_ARRIVED");
    assert!(run.logs("info").contains(&(
        20_100,
        format!(
            "CTZ player P3 ({}) joined match m1 (PLAYER_TRACKED, backfill after start)",
            player(3)
        )
    )));
    // P3's first tick (20 200) comes after the advance P1's tick ran: P3 counts from 20 400.
    assert_eq!(run.api(), resolution_calls(60_800, &[1, 2, 3]));
    assert_result(
        &run,
        60_800,
        1,
        &[1, 2, 3],
        &[(1, "P1", 60.0), (2, "P2", 0.0), (3, "P3", fifths(203))],
    );
    assert_eq!(run.returns(), returns(68_800, &[1, 2, 3]));
    assert!(
        run.game_commands()
            .contains(&home(20_200, 3, [62, 90, -6], [62.0, 90.0, -6.0]))
    );
}

#[test]
fn a_long_stall_credits_the_whole_gap_to_whoever_is_inside_next() {
    // P1 holds the zone until 9.8 s; no tick at all for 30 s; then P1 is still inside.
    let mut steps = started(&[1, 2]);
    steps.extend(player_ticks("m1", 1_000, 10_000, 200, &[1, 2], |n, _| {
        Some(if n == 1 { inside() } else { outside() })
    }));
    steps.extend(player_ticks("m1", 40_000, 62_000, 200, &[1, 2], |n, _| {
        Some(if n == 1 { inside() } else { outside() })
    }));
    steps.push(json!({"at": 85_000, "type": "wait"}));

    // The mod's arithmetic: 45 advances of 0.2 s, one of 30.2 s, then 0.2 s until 60.
    let mut progress = add(fifths(45), (40_000 - 9_800) as f64 / 1000.0);
    let mut finished = 40_000;
    while progress < 60.0 {
        finished += 200;
        progress = add(progress, 0.2);
    }
    assert!((60_600..=61_000).contains(&finished), "{finished}");

    let run = run(steps);
    run.assert_clean();
    assert!(run.logs("debug").iter().any(|(at, m)| *at == 40_000
        && m.starts_with(
            "CTZ advance m1 zone=CAPTURING:P1 delta=30.200s: P1 39.2s in_zone; P2 0.0s outside_zone"
        )));
    assert_eq!(run.api(), resolution_calls(finished, &[1, 2]));
    assert_result(
        &run,
        finished,
        1,
        &[1, 2],
        &[(1, "P1", 60.0), (2, "P2", 0.0)],
    );
    assert_eq!(run.returns(), returns(finished + 8_000, &[1, 2]));
}
