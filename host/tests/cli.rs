//! The `nexori` binary: exit statuses and messages of `simulate` and `check`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn nexori(args: &[&str]) -> Output {
    command().args(args).output().expect("run nexori")
}

/// The binary, its default compile cache (`check`, `simulate`) in a directory of this test run,
/// never the user's `~/.cache`.
fn command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nexori"));
    command
        .env("XDG_CACHE_HOME", scratch("xdg-cache"))
        .env_remove("NEXORI_CACHE_DIR");
    command
}

/// A directory of this test run.
fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("nexori-cli-{}/{name}", std::process::id()))
}

/// A new, empty directory of this test run.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = scratch(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn mods() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods");
    assert!(
        dir.join("scripted.wasm").is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    dir
}

/// `nexori simulate --mods <the built mods> SCENARIO`, with `--json` when `json`.
fn simulate(scenario: &Path, json: bool) -> Output {
    let mods = mods();
    let mut args = vec![
        "simulate",
        "--mods",
        mods.to_str().unwrap(),
        scenario.to_str().unwrap(),
    ];
    if json {
        args.push("--json");
    }
    nexori(&args)
}

fn temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexori-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Replaces every occurrence of `from` with `to` (same length, so the binary stays well-formed).
fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut i = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
    assert_ne!(out, bytes, "the pattern must occur");
    out
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn simulate_prints_the_trace_as_json() {
    let scenario = temp(
        "ok.json",
        br#"{"steps": [
            {"at": 0, "type": "match.create", "matchId": "M1", "queueId": "q", "arenaId": "a", "rulesEngineId": "scripted",
             "expectedPlayers": [{"uuid": "11111111-1111-1111-1111-111111111111", "name": "Alice"}]},
            {"at": 100, "type": "player.arrive", "matchId": "m1", "player": "11111111-1111-1111-1111-111111111111"}
        ]}"#,
    );
    let out = simulate(&scenario, true);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let trace = json["trace"].as_array().unwrap();
    // The match's instance registers its listeners in init, then gets its first callback.
    assert_eq!(trace[0]["method"], "registerMatchLifecycleListener");
    assert_eq!(trace[2]["kind"], "callback");
    assert_eq!(trace[2]["callback"], "onMatchCreated");
    assert_eq!(trace[2]["at"], 1_760_000_000_000i64);
    assert_eq!(trace.last().unwrap()["callback"], "onPlayerArrived");
    assert_eq!(
        json["matches"]["m1"]["arrivedPlayerUuids"][0],
        "11111111-1111-1111-1111-111111111111"
    );
    assert_eq!(json["matches"]["m1"]["placementState"]["arrivedPlayers"], 1);

    let text = simulate(&scenario, false);
    assert!(
        String::from_utf8_lossy(&text.stdout)
            .contains("scripted.onPlayerArrived(m1, 11111111…) PLAYER_ARRIVED")
    );
}

#[test]
fn simulate_rejects_bad_input_with_status_2() {
    let mods = mods();
    let long_type = format!(
        r#"{{"steps": [{{"at": 0, "type": "{}"}}]}}"#,
        "t".repeat(200)
    );
    let cases: [(&str, &[u8], &str); 4] = [
        ("bad.json", b"{ nope", "scenario is not valid JSON"),
        (
            "unknown.json",
            br#"{"steps": [{"at": 0, "type": "player.teleport"}]}"#,
            "scenario step 0: unknown step type \"player.teleport\"",
        ),
        (
            "shape.json",
            br#"{"steps": {}}"#,
            "\"steps\" must be an array",
        ),
        (
            "long-type.json",
            long_type.as_bytes(),
            "scenario step 0: field \"type\": is 200 bytes; the limit is 128",
        ),
    ];
    for (name, body, message) in cases {
        let path = temp(name, body);
        let out = nexori(&[
            "simulate",
            "--mods",
            mods.to_str().unwrap(),
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(stderr(&out).contains(message), "{name}: {}", stderr(&out));
    }
    let out = nexori(&[
        "simulate",
        "--mods",
        mods.to_str().unwrap(),
        "/nonexistent/scenario.json",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read scenario /nonexistent/scenario.json"));
}

#[test]
fn simulate_fails_with_status_2_when_a_mod_fails_to_load() {
    let dir = std::env::temp_dir().join(format!("nexori-cli-mods-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("broken.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let scenario = temp("empty.json", br#"{"steps": []}"#);
    let out = nexori(&[
        "simulate",
        "--mods",
        dir.to_str().unwrap(),
        scenario.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(
            "broken.wasm failed to load: this is a core WebAssembly module, not a component"
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn check_describes_a_mod() {
    let path = mods().join("last_standing.wasm");
    let out = nexori(&["check", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("mod:        last_standing"), "{text}");
    assert!(text.contains("registers:  last_standing"), "{text}");
    assert!(text.contains("nexori:minigame/api@1.1.0"), "{text}");
    assert!(
        text.contains("world:      nexori:minigame@1.1.0 rules-mod — ok"),
        "{text}"
    );
    assert!(
        text.contains("events:     a turn's game events in one call"),
        "{text}"
    );
}

/// A mod built against 1.0.0 and shipped as a binary (the `scripted` mod as it was built at
/// commit 39edfd0) keeps loading after the host moved to 1.1.0.
#[test]
fn check_accepts_a_mod_built_against_1_0_0() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/scripted-nexori-minigame-1.0.0.wasm");
    let out = nexori(&["check", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("world:      nexori:minigame@1.0.0 rules-mod — ok"),
        "{text}"
    );
    assert!(text.contains("registers:  scripted"), "{text}");
    assert!(
        text.contains(
            "events:     one call each (built before nexori:minigame@1.1.0; rebuild for batches)"
        ),
        "{text}"
    );
}

/// A mod built against 1.1.0 that exports only `rules-mod-base` (here `scripted` with its
/// `game-event-batches` export renamed away) is not told it was built before 1.1.0.
#[test]
fn check_tells_a_base_world_mod_from_an_old_one() {
    let scripted = std::fs::read(mods().join("scripted.wasm")).unwrap();
    let path = temp(
        "base-only.wasm",
        &replace_all(
            &scripted,
            b"nexori:minigame/game-event-batches@1.1.0",
            b"nexori:minigame/game-event-batchez@1.1.0",
        ),
    );
    let out = nexori(&["check", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "events:     one call each (the mod targets `rules-mod-base`: it does not export \
             `game-event-batches`)"
        ),
        "{text}"
    );
}

#[test]
fn check_names_what_is_wrong() {
    let scripted = std::fs::read(mods().join("scripted.wasm")).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "text.wasm",
            b"hello world".to_vec(),
            "not a WebAssembly file",
        ),
        (
            "core.wasm",
            b"\0asm\x01\0\0\0".to_vec(),
            "this is a core WebAssembly module, not a component",
        ),
        (
            "truncated.wasm",
            scripted[..scripted.len() / 2].to_vec(),
            "the component could not be compiled",
        ),
        // An empty component: valid, but it exports nothing of the rules-mod world.
        (
            "empty.wasm",
            b"\0asm\x0d\0\x01\0".to_vec(),
            "does not export `nexori:minigame/mod-init@1.1.0`, which the `rules-mod` world requires \
             (a Rust mod exports the whole world with `nexori_sdk::export_rules_mod!(YourMod);` in \
             its lib.rs)",
        ),
        // The same mod, as if built against another version of the contract (same-length edit).
        (
            "future.wasm",
            replace_all(
                &scripted,
                b"nexori:minigame/api@1.1.0",
                b"nexori:minigame/api@9.0.0",
            ),
            "targets nexori:minigame@9.0.0 (`nexori:minigame/api@9.0.0`), but this host implements nexori:minigame@1.1.0 (and serves mods built against 1.0.0)",
        ),
        // The same mod with one export renamed away.
        (
            "noexport.wasm",
            replace_all(
                &scripted,
                b"nexori:minigame/timers@1.1.0",
                b"nexori:minigame/timerz@1.1.0",
            ),
            "does not export `nexori:minigame/timers@1.1.0`",
        ),
    ];
    for (name, bytes, message) in cases {
        let path = temp(name, &bytes);
        let out = nexori(&["check", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        assert!(stderr(&out).contains(message), "{name}: {}", stderr(&out));
    }
}

/// `nexori simulate --json | head -c 1`: the reader goes away before the trace is written; the
/// program ends quietly instead of panicking on the broken pipe.
#[test]
fn simulate_ends_quietly_when_its_reader_goes_away() {
    let scenario = temp(
        "pipe.json",
        br#"{"steps": [
            {"at": 0, "type": "match.create", "matchId": "m1", "queueId": "q", "arenaId": "a", "rulesEngineId": "scripted",
             "expectedPlayers": [{"uuid": "11111111-1111-1111-1111-111111111111"}]}
        ]}"#,
    );
    let mods = mods();
    let mut child = command()
        .args([
            "simulate",
            "--mods",
            mods.to_str().unwrap(),
            scenario.to_str().unwrap(),
            "--json",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run nexori");
    // Closed before the mods are loaded and the trace written.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait for nexori");
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
    assert_eq!(stderr(&out), "");
}

/// A match whose rulesEngineId no loaded mod registered runs (Nexori allows it), but is not
/// silent: a warning names the id and the ids that are registered.
#[test]
fn simulate_warns_about_a_rules_engine_no_mod_registered() {
    let scenario = temp(
        "unrouted.json",
        br#"{"steps": [
            {"at": 0, "type": "match.create", "matchId": "m1", "queueId": "q", "arenaId": "a", "rulesEngineId": "capture_the_zon",
             "expectedPlayers": [{"uuid": "11111111-1111-1111-1111-111111111111"}]}
        ]}"#,
    );
    let out = simulate(&scenario, true);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = "no loaded mod registered rulesEngineId \"capture_the_zon\" (registered: \
                   capture_the_zone, last_standing, scripted); the match runs without rules: nothing \
                   decides it until it is ended";
    assert_eq!(
        json["trace"],
        serde_json::json!([{"kind": "warning", "at": 1_760_000_000_000_i64, "matchId": "m1", "message": message}])
    );
    let readable = simulate(&scenario, false);
    let text = String::from_utf8_lossy(&readable.stdout);
    assert!(
        text.contains(&format!("0.000s  WARNING m1: {message}")),
        "{text}"
    );
}

/// A bundled scenario (host/demo) as JSON.
fn demo_scenario(name: &str) -> serde_json::Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("demo")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

const ALICE: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const BOB: &str = "bbbbbbbb-0000-4000-8000-000000000002";

/// host/demo/last-standing-expect.json: every expectation holds, so the status is 0; the
/// timeline marks each ✓ and `--json` adds their outcomes.
#[test]
fn simulate_expectations_that_hold_exit_0() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/last-standing-expect.json");
    let out = simulate(&path, false);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let text = String::from_utf8_lossy(&out.stdout);
    for line in [
        "    2.200s  ✓ step 7: the round starts once everyone is placed",
        "   45.000s  ✓ step 14: Alice wins, Bob and Carol are eliminated",
        "   50.000s  ✓ step 16: everyone goes back to the lobby 5 s later",
        "   60.000s  ✓ step 18: the mod never faulted",
    ] {
        assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    }
    assert!(
        text.ends_with("\nexpectations: 10 passed, 0 failed\n"),
        "{text}"
    );

    let out = simulate(&path, true);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expectations = json["expectations"].as_array().unwrap();
    assert_eq!(expectations.len(), 10);
    assert!(expectations.iter().all(|e| e["passed"] == true));
    assert_eq!(
        expectations[8],
        serde_json::json!({"step": 18, "at": 1_760_000_060_000_i64, "description": "the mod never faulted",
                           "expectation": "fault {} (none)", "passed": true, "matched": 0})
    );
    // A scenario without expectations keeps its output as it was: no `expectations` key.
    let plain = temp(
        "plain.json",
        &serde_json::to_vec(&demo_scenario("last-standing.json")).unwrap(),
    );
    let json: serde_json::Value = serde_json::from_slice(&simulate(&plain, true).stdout).unwrap();
    assert_eq!(
        json.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["trace", "matches"]
    );
}

/// Failed expectations: the whole scenario runs, the status is 1, and each failure is named
/// with what was seen instead.
#[test]
fn simulate_failed_expectations_exit_1_and_are_named() {
    let mut scenario = demo_scenario("last-standing.json");
    let steps = scenario["steps"].as_array_mut().unwrap();
    assert_eq!(steps.len(), 10);
    steps.extend([
        serde_json::json!({"type": "expect", "api": {"method": "setPlayerOutcome", "player": ALICE, "status": "PLAYER_MISSING"}}),
        serde_json::json!({"type": "expect", "description": "Bob wins",
                           "result": {"players": {BOB: "WIN"}, "customData": {"winnerPlayerUuid": BOB}}}),
        serde_json::json!({"type": "expect", "command": {"type": "player.return", "player": BOB}, "count": 2}),
        serde_json::json!({"type": "expect", "fault": {}, "none": true}),
    ]);
    let path = temp("failing.json", &serde_json::to_vec(&scenario).unwrap());
    let failures = [
        (
            format!(
                "step 10 at 60.000s: api {{\"method\":\"setPlayerOutcome\",\"player\":\"{ALICE}\",\"status\":\"PLAYER_MISSING\"}}"
            ),
            "no matching api entry; closest: 45.000s last_standing → setPlayerOutcome(demo-ls-1, \
             aaaaaaaa…) = UPDATED [status: expected \"PLAYER_MISSING\", seen \"UPDATED\"]"
                .to_string(),
        ),
        (
            "step 11 at 60.000s: Bob wins".to_string(),
            format!(
                "no matching result entry; closest: 45.000s RESULT demo-ls-1 \
                 reason=\"last_player_standing\" players=aaaaaaaa…=WIN bbbbbbbb…=LOSS \
                 cccccccc…=LOSS (QUEUED) [players.{BOB}.outcome: expected \"WIN\", seen \"LOSS\"; \
                 customData.winnerPlayerUuid: expected \"{BOB}\", seen \"{ALICE}\"]"
            ),
        ),
        (
            format!(
                "step 12 at 60.000s: command {{\"type\":\"player.return\",\"player\":\"{BOB}\"}} (count 2)"
            ),
            format!(
                "expected 2 matching command entries, found 1: 50.000s → game \
                 {{\"type\":\"player.return\",\"matchId\":\"demo-ls-1\",\"player\":\"{BOB}\",\
                 \"reason\":\"match_completed\"}}"
            ),
        ),
    ];
    let out = simulate(&path, false);
    assert_eq!(out.status.code(), Some(1));
    let mut expected = "nexori simulate: 3 of 4 expectations failed\n".to_string();
    for (label, failure) in &failures {
        expected.push_str(&format!("  {label}\n    {failure}\n"));
    }
    assert_eq!(stderr(&out), expected);
    let text = String::from_utf8_lossy(&out.stdout);
    for (label, failure) in &failures {
        let step = label.split_once(" at 60.000s: ").unwrap();
        let marked = format!(
            "   60.000s  ✗ {}: {}\n              {failure}\n",
            step.0, step.1
        );
        assert!(text.contains(&marked), "{marked}\n{text}");
    }
    assert!(
        text.contains("\n   60.000s  ✓ step 13: fault {} (none)\n"),
        "{text}"
    );
    assert!(
        text.ends_with("\nexpectations: 1 passed, 3 failed\n"),
        "{text}"
    );

    let out = simulate(&path, true);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stderr(&out), expected);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let passed: Vec<_> = json["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["step"].clone(), e["passed"].clone(), e["matched"].clone()))
        .collect();
    assert_eq!(
        passed,
        [
            (10, false, 0),
            (11, false, 0),
            (12, false, 1),
            (13, true, 0)
        ]
        .map(|(s, p, m)| (s.into(), p.into(), m.into()))
    );
    assert_eq!(json["expectations"][1]["failure"], failures[1].1.as_str());
}

/// A malformed `expect` step is bad input (status 2), named by its key.
#[test]
fn simulate_rejects_a_malformed_expectation_with_status_2() {
    let cases: [(&str, &[u8], &str); 2] = [
        (
            "expect-key.json",
            br#"{"steps": [{"type": "wait"}, {"type": "expect", "api": {"stauts": "UPDATED"}}]}"#,
            "nexori simulate: scenario step 1: unknown key \"stauts\" in \"api\" (known: mod, \
             method, matchId, player, status, message, backendReportStatus, resultId, result)\n",
        ),
        (
            "expect-step-key.json",
            br#"{"steps": [{"type": "expect", "fault": {}, "nope": true}]}"#,
            "nexori simulate: scenario step 0: unknown key \"nope\" in an expect step (known: at, \
             type, description, count, none, and one of callback, api, command, result, admission, \
             fault, error, log, warning)\n",
        ),
    ];
    for (name, body, message) in cases {
        let out = simulate(&temp(name, body), false);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert_eq!(stderr(&out), message, "{name}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "", "{name}");
    }
}

/// The readable timeline says which mod got each game event (or why none did) and shows the
/// result's customData.
#[test]
fn simulate_shows_game_event_deliveries_and_custom_data() {
    let path = temp(
        "deliveries.json",
        &serde_json::to_vec(&demo_scenario("last-standing.json")).unwrap(),
    );
    let out = simulate(&path, false);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let delivered = format!(
        "   30.000s  ← game.event {{\"matchId\":\"demo-ls-1\",\"kind\":\"player.died\",\"player\":\"{BOB}\",\"data\":{{\"killerPlayerUuid\":\"{ALICE}\"}}}}\n   \
         30.000s  last_standing.onGameEvent(demo-ls-1, bbbbbbbb…) player.died {{\"killerPlayerUuid\":\"{ALICE}\"}}\n"
    );
    assert!(text.contains(&delivered), "{text}");
    let result = format!(
        "   45.000s  RESULT demo-ls-1 reason=\"last_player_standing\" players=aaaaaaaa…=WIN bbbbbbbb…=LOSS cccccccc…=LOSS (QUEUED)
              customData:
                mode: \"last_standing\"
                players:
                  {ALICE}: {{\"eliminatedAtEpochMs\":0,\"kills\":2,\"name\":\"Alice\",\"placement\":1}}
                  {BOB}: {{\"eliminatedAtEpochMs\":1760000030000,\"kills\":0,\"name\":\"Bob\",\"placement\":3}}
                  cccccccc-0000-4000-8000-000000000003: {{\"eliminatedAtEpochMs\":1760000045000,\"kills\":0,\"name\":\"Carol\",\"placement\":2}}
                winnerPlayerUuid: \"{ALICE}\"
   45.000s    last_standing → submitFinalMatchResult(demo-ls-1)"
    );
    assert!(text.contains(&result), "{text}");

    let unrouted = temp(
        "undelivered.json",
        br#"{"steps": [
            {"at": 0, "type": "match.create", "matchId": "m2", "queueId": "q", "arenaId": "a", "rulesEngineId": "nobody",
             "expectedPlayers": ["22222222-1111-1111-1111-111111111111"]},
            {"at": 100, "type": "game.event", "matchId": "m2", "kind": "tick"},
            {"at": 200, "type": "game.event", "matchId": "m9", "kind": "tick"}
        ]}"#,
    );
    let text = String::from_utf8_lossy(&simulate(&unrouted, false).stdout).into_owned();
    assert!(
        text.contains(
            "    0.100s  game.event tick not delivered: no mod serves match m2 (no loaded mod \
             registered rulesEngineId \"nobody\")\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "    0.200s  game.event tick not delivered: refused\n    0.200s  ERROR (step 2): unknown match \"m9\"\n"
        ),
        "{text}"
    );
}

#[test]
fn check_names_the_toolchain_and_the_compile_time() {
    let path = mods().join("scripted.wasm");
    let out = nexori(&["check", path.to_str().unwrap(), "--no-cache"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    // The example mods are stripped (profile.mods): the component and its modules keep the
    // tools' names only, no language.
    let line = |label: &str| text.lines().find(|l| l.starts_with(label)).unwrap();
    let built = line("built with: ");
    assert!(
        built.starts_with("built with: wit-component 0.")
            && built.ends_with(" (no language named)"),
        "{text}"
    );
    let modules = line("modules:    ");
    assert!(
        modules.contains("wit-bindgen-rust 0.") && modules.ends_with(" (no language named)"),
        "{text}"
    );
    // The language, from the bindings generator of the SDK that survives the stripping.
    let language = line("language:   ");
    assert!(
        language.starts_with("language:   Rust (wit-bindgen-rust 0.") && language.ends_with(')'),
        "{text}"
    );
    let compiled = line("compiled:   ");
    assert!(
        compiled.starts_with("compiled:   compiled in ")
            && compiled.ends_with(" (no compile cache)"),
        "{text}"
    );
}

/// `target/nexori-lang-mods/<language>/last_standing.wasm`, built by `cargo xtask build-mods`.
fn lang_mod(language: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/nexori-lang-mods")
        .join(language)
        .join("last_standing.wasm");
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo xtask build-mods` (which needs Python 3 and Node.js; \
         NEXORI_SKIP_LANG_MODS=1 skips it, and then this test cannot run)",
        path.display()
    );
    path
}

/// `check` on the Python and TypeScript ports of `last_standing`: the language each was written
/// in (componentize-py records none: its interpreter library says it), and what the probe
/// instance used against the default limits, which the ports stay well within.
#[test]
fn check_names_the_language_of_python_and_typescript_mods_and_their_use_of_the_limits() {
    // The compile cache the cross-language tests share: compiling them takes seconds.
    let cache =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-test-cache/compiled");
    for (language, built_with, named) in [
        (
            "python",
            "built with: wit-component 0.245.1, component-init-transform 0.2.0 (no language named)",
            "language:   Python 3.14 (componentize-py)",
        ),
        (
            "ts",
            "built with: JavaScript (wit-component 0.258.0, ComponentizeJS 0.23.0)",
            "language:   JavaScript (ComponentizeJS 0.23.0)",
        ),
    ] {
        let path = lang_mod(language);
        let out = nexori(&[
            "check",
            path.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{language}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.contains(&built_with), "{language}: {text}");
        assert!(lines.contains(&named), "{language}: {text}");
        // Right after the producers lines.
        let at = lines.iter().position(|l| *l == named).unwrap();
        assert!(
            lines[at - 1].starts_with("built with: ") || lines[at - 1].starts_with("modules:    "),
            "{language}: {text}"
        );
        let memory = lines
            .iter()
            .find_map(|l| l.strip_prefix("memory:     "))
            .unwrap_or_else(|| panic!("{language}: no memory line: {text}"));
        let mib: f64 = memory
            .strip_suffix(" MiB after init (limits.memoryBytes: 64 MiB)")
            .unwrap_or_else(|| panic!("{language}: {memory}"))
            .parse()
            .unwrap();
        // 12.8 MiB (Python) and 9.1 MiB (TypeScript) when this was written.
        assert!(mib > 1.0 && mib < 32.0, "{language}: {memory}");
        let init = lines
            .iter()
            .find(|l| l.starts_with("init:       "))
            .unwrap_or_else(|| panic!("{language}: no init line: {text}"));
        assert!(
            init.ends_with(" (limits.callbackDeadlineMs: 250 ms)"),
            "{language}: {init}"
        );
        // No warning about the memory after init (one about the time of init would depend on
        // the machine; the TypeScript mod's growth is warned about, see the next test).
        assert!(
            !lines.iter().any(|l| l.starts_with("warning:")
                && l.contains("limits.memoryBytes before its first callback")),
            "{language}: {text}"
        );
    }
}

/// `check` plays a probe match of each build of `last_standing` and says, measured, how its
/// memory grows with game events and how many of its matches the instance pool holds: the Rust
/// and Python builds do not grow, the TypeScript one (componentize-js 0.23.0) grows a few hundred
/// bytes per event and is warned about; a componentize-py match takes 14 core instances of the
/// pool's 8000.
#[test]
fn check_measures_growth_per_game_event_and_the_instances_a_match_takes() {
    let rust =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods/last_standing.wasm");
    assert!(
        rust.is_file(),
        "{} is missing: build it with `cargo xtask build-mods`",
        rust.display()
    );
    let cache = fresh_dir("probe-cache").join("compiled");
    let check = |path: &Path| {
        let started = std::time::Instant::now();
        let out = nexori(&[
            "check",
            path.to_str().unwrap(),
            "--cache-dir",
            cache.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
        eprintln!("check {} took {:?}", path.display(), started.elapsed());
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let line = |text: &str, label: &str| {
        text.lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label:?} line: {text}"))
            .to_string()
    };
    let memory_warning = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("warning:") && l.contains("limits.memoryBytes"))
            .map(str::to_string)
    };
    for (language, path) in [("rust", rust.clone()), ("python", lang_mod("python"))] {
        let text = check(&path);
        assert_eq!(
            line(&text, "growth:"),
            "growth:     +0 bytes per game event over 20000 events",
            "{language}: {text}"
        );
        assert_eq!(memory_warning(&text), None, "{language}: {text}");
        let instances = line(&text, "instances:");
        if language == "python" {
            // componentize-py links CPython's libraries as core modules of their own.
            assert_eq!(
                instances,
                "instances:  14 core instances per match: the instance pool (fixed: 8000 core \
                 instances, 1000 component instances) holds 571 live matches of this mod"
            );
        } else {
            assert!(
                instances.ends_with(
                    " core instances per match: the instance pool (fixed: 8000 core instances, \
                     1000 component instances) holds 1000 live matches of this mod"
                ),
                "{language}: {instances}"
            );
        }
        // The new lines come after what the probe instance used, before the imports.
        let lines: Vec<&str> = text.lines().collect();
        let at = |label: &str| lines.iter().position(|l| l.starts_with(label)).unwrap();
        assert!(
            at("init:") < at("growth:")
                && at("growth:") < at("instances:")
                && at("instances:") < at("imports:"),
            "{language}: {text}"
        );
    }
    let text = check(&lang_mod("ts"));
    let growth = line(&text, "growth:");
    let bytes: f64 = growth
        .strip_prefix("growth:     ~")
        .and_then(|rest| {
            rest.split_once(" bytes per game event over 20000 events: at 320 events/s")
        })
        .map(|(bytes, _)| bytes.parse().unwrap())
        .unwrap_or_else(|| panic!("{growth}"));
    // 334 when this was written (2 MiB every 6 288 events).
    assert!(bytes > 200.0 && bytes < 1000.0, "{growth}");
    assert!(
        growth.contains(" (16 players at 20 Hz) limits.memoryBytes (64 MiB) lasts about "),
        "{growth}"
    );
    let warning = memory_warning(&text).unwrap_or_else(|| panic!("no warning: {text}"));
    assert!(
        warning.contains("faults with `memory limit reached (limits.memoryBytes)` after about ")
            && warning.contains("raise memoryBytes in [limits] (or in [modLimits.last_standing] for this mod alone), at most to 256 MiB"),
        "{warning}"
    );
    assert!(
        line(&text, "instances:").starts_with("instances:  4 core instances per match: "),
        "{text}"
    );
}

/// `check` twice on one mod: the second run takes the compiled mod from the cache; `--no-cache`
/// compiles; `simulate` uses the same cache.
#[test]
fn check_and_simulate_use_the_compile_cache() {
    use std::os::unix::fs::PermissionsExt;
    let cache = fresh_dir("cache-twice").join("compiled");
    let path = mods().join("last_standing.wasm");
    let check = |extra: &[&str]| {
        let mut args = vec!["check", path.to_str().unwrap()];
        args.extend(extra);
        let out = nexori(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| l.strip_prefix("compiled:   "))
            .unwrap()
            .to_string()
    };
    let dir = cache.to_str().unwrap();
    let first = check(&["--cache-dir", dir]);
    assert!(
        first.starts_with("compiled in ")
            && first.ends_with(&format!("; stored in the compile cache ({dir})")),
        "{first}"
    );
    let mode = std::fs::metadata(&cache).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "the cache directory is created private");
    let second = check(&["--cache-dir", dir]);
    assert!(
        second.starts_with("taken from the compile cache in ")
            && second.ends_with(&format!(" ({dir})")),
        "{second}"
    );
    // The environment variable names the same directory.
    let out = command()
        .env("NEXORI_CACHE_DIR", &cache)
        .args(["check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("compiled:   taken from the compile cache in "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let uncached = check(&["--cache-dir", dir, "--no-cache"]);
    assert!(uncached.ends_with(" (no compile cache)"), "{uncached}");

    // simulate stores what it compiles there, and takes it from there the next time.
    let scenario = temp("cached.json", br#"{"steps": []}"#);
    let simulate = || {
        command()
            .env("NEXORI_LOG", "nexori::mods=debug")
            .args([
                "simulate",
                "--mods",
                mods().to_str().unwrap(),
                scenario.to_str().unwrap(),
                "--cache-dir",
                dir,
            ])
            .output()
            .unwrap()
    };
    let out = simulate();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = simulate();
    assert!(out.status.success(), "{}", stderr(&out));
    let taken = stderr(&out).matches("taken from the compile cache").count();
    assert_eq!(taken, 3, "every mod from the cache: {}", stderr(&out));
    let scripted = mods().join("scripted.wasm");
    let out = nexori(&["check", scripted.to_str().unwrap(), "--cache-dir", dir]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("compiled:   taken from the compile cache in "),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The default cache is `$XDG_CACHE_HOME/nexori/compiled`, else `~/.cache/nexori/compiled`.
#[test]
fn the_default_compile_cache_follows_xdg() {
    let path = mods().join("scripted.wasm");
    let xdg = fresh_dir("xdg-default");
    let out = command()
        .env("XDG_CACHE_HOME", &xdg)
        .args(["check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let expected = xdg.join("nexori/compiled");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!(
            "stored in the compile cache ({})",
            expected.display()
        )),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(std::fs::read_dir(&expected).unwrap().count(), 1);

    let home = fresh_dir("home-default");
    let out = command()
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", &home)
        .args(["check", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_dir(home.join(".cache/nexori/compiled"))
            .unwrap()
            .count(),
        1
    );
}

/// A cache that cannot be used is logged and the mod compiled: the command still succeeds.
#[test]
fn an_unusable_compile_cache_never_fails_the_command() {
    use std::os::unix::fs::PermissionsExt;
    let path = mods().join("scripted.wasm");
    let base = fresh_dir("unusable");
    let file = base.join("a-file");
    std::fs::write(&file, b"").unwrap();
    let shared = base.join("shared");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    for dir in [file.join("compiled"), shared.clone()] {
        let out = nexori(&[
            "check",
            path.to_str().unwrap(),
            "--cache-dir",
            dir.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(&format!(
                "; the compile cache {} could not be used (see the log)",
                dir.display()
            )),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            stderr(&out).contains("not using the compile cache"),
            "{}",
            stderr(&out)
        );
    }
    assert_eq!(
        std::fs::read_dir(&shared).unwrap().count(),
        0,
        "nothing written there"
    );
    let scenario = temp("unusable.json", br#"{"steps": []}"#);
    let out = nexori(&[
        "simulate",
        "--mods",
        mods().to_str().unwrap(),
        scenario.to_str().unwrap(),
        "--cache-dir",
        shared.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
}
