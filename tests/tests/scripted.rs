//! The scripted mod through the real host: callback order, API statuses and messages, result
//! bodies, ownership and fault containment, asserted on the trace.

use nexori_tests::*;
use serde_json::{Value, json};

const T0: i64 = 1_760_000_000_000;

fn scenario(steps: Vec<Value>) -> Value {
    json!({ "startEpochMs": T0, "steps": steps })
}

fn run(steps: Vec<Value>) -> (Vec<Value>, serde_json::Map<String, Value>) {
    let dir = mods_subset(&["scripted"]);
    let out = simulate_in(dir.path(), scenario(steps));
    let matches = serde_json::to_value(&out.matches)
        .unwrap()
        .as_object()
        .unwrap()
        .clone();
    (trace_json(&out), matches)
}

fn api<'a>(trace: &'a [Value], method: &str) -> Vec<&'a Value> {
    trace
        .iter()
        .filter(|e| e["kind"] == "api" && e["method"] == method)
        .collect()
}

/// `(status, message)` of each call of `method`.
fn statuses(trace: &[Value], method: &str) -> Vec<(String, String)> {
    api(trace, method)
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap().to_string(),
                e["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn started_match(players: &[u8]) -> Vec<Value> {
    let mut steps = vec![create(0, "m1", "scripted", players)];
    steps.extend(join_all(100, "m1", players));
    steps
}

#[test]
fn callbacks_arrive_in_order_with_reasons_and_times() {
    let mut steps = started_match(&[1, 2]);
    steps.push(json!({"at": 90_000, "type": "wait"}));
    let (trace, _) = run(steps);
    let callbacks: Vec<(i64, String, String, Option<String>)> = of_kind(&trace, "callback")
        .iter()
        .map(|e| {
            assert_eq!(e["mod"], "scripted");
            assert_eq!(e["matchId"], "m1");
            (
                e["at"].as_i64().unwrap() - T0,
                e["callback"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
                e["player"].as_str().map(str::to_string),
            )
        })
        .collect();
    let p1 = Some(player(1));
    let p2 = Some(player(2));
    assert_eq!(
        callbacks,
        vec![
            (0, "onMatchCreated".into(), "MATCH_CREATED".into(), None),
            (
                100,
                "onPlayerArrived".into(),
                "PLAYER_ARRIVED".into(),
                p1.clone()
            ),
            (
                110,
                "onPlayerArrived".into(),
                "PLAYER_ARRIVED".into(),
                p2.clone()
            ),
            (
                200,
                "onPlayerPlacementConfirmed".into(),
                "PLACEMENT_CONFIRMED".into(),
                p1
            ),
            (
                210,
                "onPlayerPlacementConfirmed".into(),
                "PLACEMENT_CONFIRMED".into(),
                p2
            ),
            (
                210,
                "onMatchPlacementCompleted".into(),
                "MATCH_PLACEMENT_COMPLETED".into(),
                None
            ),
            (
                210,
                "onMatchStartAllowed".into(),
                "ALL_INITIAL_PLAYERS_PLACED".into(),
                None
            ),
        ]
    );
    // No window deadline remains once the gate opened: nothing else happens.
    assert!(of_kind(&trace, "error").is_empty() && of_kind(&trace, "fault").is_empty());
}

#[test]
fn a_full_match_submits_the_exact_result_body() {
    let mut steps = started_match(&[1, 2]);
    steps.push(json!({"at": 5_000, "type": "game.event", "matchId": "m1", "kind": "script.calls", "data": [
        {"method": "setPlayerOutcome", "args": {"matchId": "m1", "playerUuid": player(1), "outcome": "WIN", "reason": "captured"}},
        {"method": "setPlayerOutcome", "args": {"matchId": "M1", "playerUuid": player(2).to_uppercase(), "outcome": "LOSS", "reason": "  too slow "}},
        {"method": "submitFinalMatchResult", "args": {"matchId": "m1", "reason": "rules_mod_completed",
            "customDataJson": "{\"z\": 1, \" a \": [true, null], \"gone\": null, \"html\": \"<&>\"}"}},
        {"method": "submitFinalMatchResult", "args": {"matchId": "m1", "reason": "rules_mod_completed",
            "customDataJson": "{\"a\":[true,null],\"html\":\"<&>\",\"z\":1}"}},
        {"method": "submitFinalMatchResult", "args": {"matchId": "m1", "reason": "rules_mod_completed",
            "customDataJson": "{\"z\": 2}"}},
        {"method": "returnPlayerToLobby", "args": {"matchId": "m1", "playerUuid": player(1), "delaySeconds": 3, "reason": "done"}},
    ]}));
    steps.push(json!({"at": 10_000, "type": "wait"}));
    let (trace, matches) = run(steps);

    assert_eq!(
        statuses(&trace, "setPlayerOutcome"),
        vec![("UPDATED".into(), "".into()); 2]
    );
    let submits = api(&trace, "submitFinalMatchResult");
    assert_eq!(submits.len(), 3);
    assert_eq!(
        (
            submits[0]["status"].as_str(),
            submits[0]["backendReportStatus"].as_str(),
            submits[0]["message"].as_str()
        ),
        (Some("ACCEPTED"), Some("QUEUED"), Some("Result queued."))
    );
    let result_id = submits[0]["resultId"].as_str().unwrap();
    assert_eq!(result_id.len(), 36);
    assert_eq!(
        (
            submits[1]["status"].as_str(),
            submits[1]["backendReportStatus"].as_str(),
            submits[1]["message"].as_str()
        ),
        (
            Some("ALREADY_SUBMITTED"),
            Some("ALREADY_SUBMITTED"),
            Some("Match result was already submitted.")
        )
    );
    assert_eq!(
        (
            submits[2]["status"].as_str(),
            submits[2]["backendReportStatus"].as_str(),
            submits[2]["message"].as_str()
        ),
        (
            Some("ALREADY_SUBMITTED"),
            Some("DUPLICATE_CONFLICT"),
            Some("Match already has a different submitted result.")
        )
    );
    assert_eq!(submits[1]["resultId"], "");

    let results = of_kind(&trace, "result");
    assert_eq!(results.len(), 1);
    assert_eq!(
        (
            results[0]["matchStatus"].as_str(),
            results[0]["backendReportStatus"].as_str()
        ),
        (Some("ACCEPTED"), Some("QUEUED"))
    );
    assert_eq!(
        results[0]["body"],
        json!({
            "schemaVersion": 1,
            "resultId": result_id,
            "sentAtEpochMs": T0 + 5_000,
            "serverId": "00000000-0000-4000-8000-00000000a11e",
            "localMatchId": "m1",
            "externalMatchId": "ext-m1",
            "assignmentId": "",
            "assignmentIdsByPlayerUuid": {},
            "queueId": "q",
            "arenaId": "a",
            "rulesEngineId": "scripted",
            "players": [
                {"playerUuid": player(1), "outcome": "WIN", "reason": "captured"},
                {"playerUuid": player(2), "outcome": "LOSS", "reason": "too slow"}
            ],
            "reason": "rules_mod_completed",
            // The recorded match's mod and the hash of its inputs (docs/replay.md): the hash
            // covers the header, whose random seed is fresh on every run.
            "metadata": {
                "modSha256": nexori_recording::format::sha256_hex(
                    &std::fs::read(mods_dir().join("scripted.wasm")).unwrap()
                ),
                "inputLogSha256": results[0]["body"]["metadata"]["inputLogSha256"],
            },
            "customData": {"a": [true, null], "html": "<&>", "z": 1},
            "endedAtEpochMs": T0 + 5_000
        })
    );
    assert_eq!(
        results[0]["body"]["metadata"]["inputLogSha256"]
            .as_str()
            .map(str::len),
        Some(64)
    );
    // Key order of the body is the contract's order.
    let keys: Vec<&str> = results[0]["body"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "schemaVersion",
            "resultId",
            "sentAtEpochMs",
            "serverId",
            "localMatchId",
            "externalMatchId",
            "assignmentId",
            "assignmentIdsByPlayerUuid",
            "queueId",
            "arenaId",
            "rulesEngineId",
            "players",
            "reason",
            "metadata",
            "customData",
            "endedAtEpochMs"
        ]
    );
    // The result does not return anyone; the mod's explicit return does, 3 s later.
    let commands = of_kind(&trace, "command");
    assert_eq!(commands.len(), 1);
    assert_eq!(
        commands[0],
        json!({"at": T0 + 8_000, "kind": "command", "type": "player.return", "matchId": "m1", "player": player(1), "reason": "done"})
    );
    let m = &matches["m1"];
    assert_eq!(m["completedAtEpochMs"], T0 + 5_000);
    assert_eq!(m["resultSubmittedAtEpochMs"], T0 + 5_000);
    assert_eq!(
        m["playerOutcomes"][player(2)],
        json!({"outcome": "LOSS", "reason": "too slow"})
    );
    assert_eq!(m["activePlayerUuids"], json!([player(2)]));
}

#[test]
fn invalid_submissions_get_exact_messages() {
    let mut steps = started_match(&[1]);
    let submit = |at: i64, custom: Value| {
        call(
            at,
            "m1",
            "submitFinalMatchResult",
            json!({"matchId": "m1", "reason": "r", "customDataJson": custom}),
        )
    };
    steps.push(submit(1_000, json!("{}")));
    steps.push(call(
        1_100,
        "m1",
        "setPlayerOutcome",
        json!({"matchId": "m1", "playerUuid": player(1), "outcome": "LOSS", "reason": ""}),
    ));
    steps.push(submit(1_200, json!("{}")));
    steps.push(call(
        1_300,
        "m1",
        "setPlayerOutcome",
        json!({"matchId": "m1", "playerUuid": player(1), "outcome": "WIN", "reason": ""}),
    ));
    steps.push(submit(1_400, json!("{not json")));
    steps.push(submit(1_500, json!("[1,2]")));
    steps.push(submit(
        1_600,
        json!(format!("{{\"s\": \"{}\"}}", "x".repeat(1025))),
    ));
    steps.push(submit(
        1_700,
        json!("{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":1}}}}}}}}"),
    ));
    steps.push(call(
        1_800,
        "m1",
        "submitFinalMatchResult",
        json!({"matchId": "nope", "reason": "r"}),
    ));
    steps.push(call(
        1_900,
        "m1",
        "setPlayerOutcome",
        json!({"matchId": "m1", "playerUuid": player(9), "outcome": "WIN", "reason": ""}),
    ));
    steps.push(call(
        2_000,
        "m1",
        "setPlayerOutcome",
        json!({"matchId": "m1", "playerUuid": player(1), "reason": ""}),
    ));
    steps.push(call(
        2_100,
        "m1",
        "setPlayerOutcome",
        json!({"matchId": "m1", "playerUuid": "not-a-uuid", "outcome": "WIN", "reason": ""}),
    ));
    let (trace, _) = run(steps);
    let submits: Vec<(String, String)> = statuses(&trace, "submitFinalMatchResult");
    assert_eq!(
        submits[0],
        (
            "INVALID_RESULT".into(),
            format!("Result is missing required player outcome {}.", player(1))
        )
    );
    assert_eq!(
        submits[1],
        ("INVALID_RESULT".into(), "Final match result must include at least one WIN outcome unless all players are NO_CONTEST.".into())
    );
    assert_eq!(submits[2].0, "INVALID_RESULT");
    assert!(
        submits[2].1.starts_with("customData is not valid JSON"),
        "{}",
        submits[2].1
    );
    assert_eq!(
        submits[3],
        (
            "INVALID_RESULT".into(),
            "customData root must be a JSON object.".into()
        )
    );
    assert_eq!(
        submits[4],
        (
            "INVALID_RESULT".into(),
            "customData string value exceeds 1024 characters.".into()
        )
    );
    assert_eq!(
        submits[5],
        (
            "INVALID_RESULT".into(),
            "customData exceeds max depth 8.".into()
        )
    );
    assert_eq!(
        submits[6],
        ("MATCH_MISSING".into(), "Match is not active.".into())
    );
    let submit_entries = api(&trace, "submitFinalMatchResult");
    assert_eq!(submit_entries.len(), 7, "one entry per submit step");
    assert!(
        submit_entries
            .iter()
            .all(|e| e["backendReportStatus"] == "NOT_ATTEMPTED")
    );
    assert_eq!(
        statuses(&trace, "setPlayerOutcome")[2..],
        [
            (
                "PLAYER_MISSING".to_string(),
                "Player is not part of the active match.".to_string()
            ),
            (
                "INVALID_OUTCOME".to_string(),
                "Outcome cannot be null.".to_string()
            ),
            (
                "PLAYER_MISSING".to_string(),
                "Player is not part of the active match.".to_string()
            ),
        ]
    );
    assert!(of_kind(&trace, "result").is_empty());
}

#[test]
fn queries_carry_their_answers() {
    let mut steps = started_match(&[1, 2]);
    for (i, (method, args)) in [
        ("findActiveMatchId", json!({"playerUuid": player(2)})),
        (
            "findActivePlayerUuid",
            json!({"matchId": "m1", "playerToken": "p1"}),
        ),
        ("findRulesEngineId", json!({"matchId": " M1 "})),
        ("findMatchResultRequirements", json!({"matchId": "m1"})),
        ("findMatchResolutionTriggerId", json!({"matchId": "m1"})),
        ("findActiveMatchInfo", json!({"matchId": "missing"})),
        ("findMatchPlacementState", json!({"matchId": "m1"})),
    ]
    .into_iter()
    .enumerate()
    {
        steps.push(call(1_000 + i as i64, "m1", method, args));
    }
    let (trace, _) = run(steps);
    let answer = |method: &str| api(&trace, method)[0]["result"].clone();
    assert_eq!(answer("findActiveMatchId"), json!("m1"));
    assert_eq!(answer("findActivePlayerUuid"), json!(player(1)));
    assert_eq!(answer("findRulesEngineId"), json!("scripted"));
    assert_eq!(
        answer("findMatchResultRequirements"),
        json!({"matchId": "m1", "requiredPlayerUuids": [player(1), player(2)]})
    );
    assert_eq!(answer("findMatchResolutionTriggerId"), json!("none"));
    assert_eq!(answer("findActiveMatchInfo"), Value::Null);
    let placement = answer("findMatchPlacementState");
    assert_eq!(placement["placedPlayers"], 2);
    assert_eq!(
        placement["startGateOpenReason"],
        "ALL_INITIAL_PLAYERS_PLACED"
    );
    assert_eq!(placement["startGateOpenedAtEpochMs"], T0 + 210);
}

#[test]
fn mods_only_see_their_own_matches() {
    let dir = mods_subset(&["scripted", "last_standing"]);
    let mut steps = vec![
        create(0, "ls", "last_standing", &[1]),
        create(0, "mine", "scripted", &[2]),
    ];
    steps.extend(join_all(100, "mine", &[2]));
    steps.push(call(1_000, "mine", "script.calls", json!(null)));
    steps.push(json!({"at": 1_000, "type": "game.event", "matchId": "mine", "kind": "script.calls", "data": [
        {"method": "findActiveMatchInfo", "args": {"matchId": "ls"}},
        {"method": "findActiveMatchId", "args": {"playerUuid": player(1)}},
        {"method": "setPlayerOutcome", "args": {"matchId": "ls", "playerUuid": player(1), "outcome": "WIN", "reason": ""}},
        {"method": "submitFinalMatchResult", "args": {"matchId": "ls", "reason": ""}},
        {"method": "closeMatchAdmission", "args": {"matchId": "ls", "reason": "MOD_REQUEST"}},
        {"method": "returnPlayerToLobby", "args": {"matchId": "ls", "playerUuid": player(1), "delaySeconds": 0, "reason": ""}},
        {"method": "sendGameCommand", "args": {"matchId": "ls", "name": "boom"}},
    ]}));
    let out = simulate_in(dir.path(), scenario(steps));
    let trace = trace_json(&out);
    assert_eq!(api(&trace, "findActiveMatchInfo")[0]["result"], Value::Null);
    assert_eq!(api(&trace, "findActiveMatchId")[0]["result"], Value::Null);
    for method in [
        "setPlayerOutcome",
        "submitFinalMatchResult",
        "closeMatchAdmission",
        "returnPlayerToLobby",
    ] {
        assert_eq!(
            statuses(&trace, method),
            vec![("MATCH_MISSING".into(), "Match is not active.".into())],
            "{method}"
        );
    }
    // The other mod's match is untouched.
    let ls = &out.matches["ls"];
    assert_eq!(ls["playerOutcomes"], json!({}));
    assert!(of_kind(&trace, "command").is_empty());
}

#[test]
fn a_second_mod_registering_the_same_id_is_rejected_naming_both() {
    let dir = mods_subset(&["scripted"]);
    std::fs::copy(
        dir.path().join("scripted.wasm"),
        dir.path().join("zz_copy.wasm"),
    )
    .unwrap();
    let scenario = nexori::scenario::Scenario::from_value(scenario(vec![])).unwrap();
    let err = nexori::scenario::run(&scenario, dir.path(), &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("zz_copy") && err.contains("\"scripted\""),
        "{err}"
    );
    assert!(err.contains("already registered"), "{err}");
}

#[test]
fn a_faulting_match_is_contained_and_finished_by_the_fault_policy() {
    for (kind, fault) in [
        ("script.trap", "trap: unreachable"),
        ("script.spin", "deadline exceeded"),
        ("script.grow", "memory limit reached"),
    ] {
        let mut steps = vec![
            create(0, "bad", "scripted", &[1]),
            create(0, "good", "scripted", &[2]),
        ];
        steps.extend(join_all(100, "bad", &[1]));
        steps.extend(join_all(100, "good", &[2]));
        steps.push(json!({"at": 1_000, "type": "game.event", "matchId": "bad", "kind": kind}));
        steps.push(json!({"at": 2_000, "type": "game.event", "matchId": "good", "kind": "script.calls", "data": [
            {"method": "setPlayerOutcome", "args": {"matchId": "good", "playerUuid": player(2), "outcome": "WIN", "reason": ""}},
            {"method": "submitFinalMatchResult", "args": {"matchId": "good", "reason": "fine"}},
        ]}));
        steps.push(
            json!({"at": 2_100, "type": "game.event", "matchId": "bad", "kind": "script.call",
            "data": {"method": "log", "args": {"level": "info", "message": "still here?"}}}),
        );
        steps.push(json!({"at": 10_000, "type": "wait"}));
        let (trace, matches) = run(steps);
        let faults = of_kind(&trace, "fault");
        assert_eq!(faults.len(), 1, "{kind}: {faults:?}");
        assert_eq!(faults[0]["matchId"], "bad");
        assert!(
            faults[0]["error"].as_str().unwrap().starts_with(fault),
            "{kind}: {}",
            faults[0]["error"]
        );
        let results = of_kind(&trace, "result");
        assert_eq!(results.len(), 2, "{kind}");
        let bad = results
            .iter()
            .find(|r| r["body"]["localMatchId"] == "bad")
            .unwrap();
        assert_eq!(bad["body"]["reason"], "RULES_MOD_FAULT");
        assert_eq!(bad["body"]["players"][0]["outcome"], "NO_CONTEST");
        assert!(
            bad["body"]["players"][0]["reason"]
                .as_str()
                .unwrap()
                .starts_with("RULES_MOD_FAULT: ")
        );
        let good = results
            .iter()
            .find(|r| r["body"]["localMatchId"] == "good")
            .unwrap();
        assert_eq!(good["body"]["players"][0]["outcome"], "WIN");
        // Nothing more reaches the dead instance; its player is told and returned.
        assert!(
            !trace
                .iter()
                .any(|e| e["kind"] == "log" && e["message"] == "still here?"),
            "{kind}"
        );
        assert!(
            trace
                .iter()
                .any(|e| e["type"] == "player.return" && e["matchId"] == "bad"),
            "{kind}"
        );
        assert_eq!(matches["good"]["resultSubmittedAtEpochMs"], T0 + 2_000);
    }
}

#[test]
fn shortfall_cancellation_is_reported_and_callbacks_ordered() {
    let steps = vec![
        create(0, "m1", "scripted", &[1, 2]),
        json!({"at": 100, "type": "player.arrive", "matchId": "m1", "player": player(1)}),
        json!({"at": 200, "type": "player.placed", "matchId": "m1", "player": player(1)}),
        json!({"at": 80_000, "type": "wait"}),
    ];
    let (trace, _) = run(steps);
    let order: Vec<String> = trace
        .iter()
        .filter(|e| e["at"].as_i64() >= Some(T0 + 60_000))
        .map(|e| match e["kind"].as_str().unwrap() {
            "callback" => e["callback"].as_str().unwrap().to_string(),
            "command" => e["type"].as_str().unwrap().to_string(),
            other => other.to_string(),
        })
        .collect();
    assert_eq!(
        order,
        [
            "player.message",
            "onMatchCancellationRequested",
            "result",
            "onMatchCompleted",
            "player.return",
            "onMatchRuntimeClosed"
        ]
    );
    let result = &of_kind(&trace, "result")[0];
    assert_eq!(result["backendReportStatus"], "QUEUED");
    assert_eq!(
        result["body"]["reason"],
        "INITIAL_WINDOW_EXPIRED_MIN_PLAYERS_NOT_MET"
    );
    assert_eq!(result["body"]["at"], Value::Null);
    assert_eq!(result["at"], T0 + 60_000);
    let ret = trace.iter().find(|e| e["type"] == "player.return").unwrap();
    assert_eq!(ret["at"], T0 + 70_000);
}

#[test]
fn bad_messages_become_error_entries_and_change_nothing() {
    let mut steps = started_match(&[1]);
    steps.push(json!({"at": 300, "type": "player.arrive", "matchId": "m1", "player": "zzz"}));
    steps.push(json!({"at": 301, "type": "player.arrive", "matchId": "nope", "player": player(1)}));
    steps.push(
        json!({"at": 302, "type": "game.event", "matchId": "m1", "kind": "x", "player": player(7)}),
    );
    steps.push(json!({"at": 303, "type": "player.disconnect", "player": player(8)}));
    let (trace, matches) = run(steps);
    let errors: Vec<String> = of_kind(&trace, "error")
        .iter()
        .map(|e| e["error"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        errors,
        [
            "player.arrive: field \"player\": \"zzz\" is not a UUID".to_string(),
            "unknown match \"nope\"".to_string(),
            format!("player {} is not part of match \"m1\"", player(7)),
            format!("player {} is not in any match", player(8)),
        ]
    );
    assert_eq!(of_kind(&trace, "error")[0]["step"], 3);
    assert_eq!(matches["m1"]["activePlayerUuids"], json!([player(1)]));
}

#[test]
fn one_bad_mod_does_not_stop_the_others_loading() {
    let dir = mods_subset(&["scripted", "last_standing"]);
    std::fs::write(dir.path().join("aaa_broken.wasm"), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dir.path().join("not_a_mod.txt"), b"ignored").unwrap();
    let mut host = virtual_host(T0, 1, false);
    let failures = host.load_mods_dir(dir.path()).unwrap();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].0.ends_with("aaa_broken.wasm"));
    assert!(
        failures[0]
            .1
            .to_string()
            .contains("core WebAssembly module")
    );
    let loaded: Vec<&str> = host.mods().map(|m| m.info.name.as_str()).collect();
    assert_eq!(loaded, ["last_standing", "scripted"]);
}

/// Player `n` of the leak test (more than a `u8` of them).
fn many(n: usize) -> String {
    format!("{n:08x}-0000-4000-8000-00000000abcd")
}

/// Decision D14: a match nobody reaches gets its shortfall result and then closes, so its
/// instance, timers and players are gone. Before, every no-show match kept its instance, and
/// after 1 000 of them every new match faulted on the instance limit. 1 100 no-show matches
/// (and launches that expect nobody) go through the real host; then a normal match plays out.
#[test]
fn no_show_matches_close_and_a_normal_match_still_completes_after_1100() {
    use nexori_host::bridge::parse;
    use nexori_host::host_state::lock;
    use nexori_protocol::trace::TraceEntry;

    let dir = mods_subset(&["scripted"]);
    let mut host = virtual_host(T0, 1, true);
    assert!(host.load_mods_dir(dir.path()).unwrap().is_empty());
    let apply = |host: &mut nexori_host::arena_host::ArenaHost, message: Value| {
        host.apply(parse(&message).unwrap()).unwrap();
    };
    let mut now = T0;
    let mut n = 0;
    for _batch in 0..11 {
        for _ in 0..100 {
            let expected = if n % 10 == 0 {
                // A launch that expects nobody expires too.
                vec![]
            } else {
                vec![
                    json!({"uuid": many(2 * n), "name": "A"}),
                    json!({"uuid": many(2 * n + 1)}),
                ]
            };
            apply(
                &mut host,
                json!({"type": "match.create", "matchId": format!("noshow-{n}"), "queueId": "q",
                       "arenaId": "a", "rulesEngineId": "scripted", "externalMatchId": format!("ext-{n}"),
                       "initialPlacementWindowSeconds": 1, "expectedPlayers": expected}),
            );
            n += 1;
        }
        now += 1_000;
        host.advance_to(now);
    }
    // A normal match after them gets an instance and completes with its own result.
    apply(
        &mut host,
        json!({"type": "match.create", "matchId": "normal", "queueId": "q", "arenaId": "a",
               "rulesEngineId": "scripted", "externalMatchId": "ext-normal",
               "expectedPlayers": [{"uuid": player(1), "name": "P1"}]}),
    );
    apply(
        &mut host,
        json!({"type": "player.arrive", "matchId": "normal", "player": player(1)}),
    );
    apply(
        &mut host,
        json!({"type": "player.placed", "matchId": "normal", "player": player(1)}),
    );
    apply(
        &mut host,
        json!({"type": "game.event", "matchId": "normal", "kind": "script.calls", "data": [
            {"method": "setPlayerOutcome", "args": {"matchId": "normal", "playerUuid": player(1), "outcome": "WIN", "reason": "won"}},
            {"method": "submitFinalMatchResult", "args": {"matchId": "normal", "reason": "done"}}
        ]}),
    );
    let shared = lock(host.shared());
    let results: Vec<&Value> = shared
        .trace
        .entries()
        .iter()
        .filter_map(|e| match e {
            TraceEntry::Result { body, .. } if body["localMatchId"] == "normal" => Some(body),
            _ => None,
        })
        .collect();
    let faults: Vec<&TraceEntry> = shared
        .trace
        .entries()
        .iter()
        .filter(|e| matches!(e, TraceEntry::Fault { .. }))
        .collect();
    assert!(
        faults.is_empty(),
        "{} faults, the first: {:?}",
        faults.len(),
        faults.first()
    );
    assert_eq!(results.len(), 1, "the normal match reported one result");
    assert_eq!(results[0]["reason"], "done");
    assert_eq!(results[0]["players"][0]["outcome"], "WIN");

    // Nothing of the no-show matches is left: only the normal match is live.
    assert_eq!(shared.arena.match_ids().collect::<Vec<_>>(), ["normal"]);
    assert_eq!(shared.arena.players_tracked(), 1);
    assert_eq!(shared.timers.matches_with_timers(), 0);
    let closed = shared
        .trace
        .entries()
        .iter()
        .filter(|e| {
            matches!(
                e,
                TraceEntry::Callback {
                    callback: "onMatchRuntimeClosed",
                    ..
                }
            )
        })
        .count();
    assert_eq!(closed, 1100);
    drop(shared);
    assert_eq!(host.live_instances(), 1);
}
