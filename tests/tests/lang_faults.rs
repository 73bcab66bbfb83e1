//! Faults of mods written in Python and TypeScript say the mod's own exception, end to end: the
//! `raising` test mod (`tests/fixtures/raising-py`, `tests/fixtures/raising-ts`, built on the
//! SDKs by `cargo xtask build-lang-mods` into `target/nexori-test-lang-mods/<language>/`) raises
//! in a callback on a `boom` game event, and in its constructor when configured to.

use std::path::PathBuf;

use nexori::scenario::{self, RunOptions, Scenario, ScenarioError, SimulationOutput};
use nexori_tests::{create, join_all, lang_mods_dir, player, shared_compile_cache, trace_json};
use serde_json::{Value, json};

const T0: i64 = 1_760_000_000_000;

/// `target/nexori-test-lang-mods/<language>`, holding that language's `raising.wasm`.
fn raising_dir(language: &str) -> PathBuf {
    lang_mods_dir("nexori-test-lang-mods", language, "raising")
}

/// Plays `scenario` against the `raising` mod of `language`, through the compile cache the
/// cross-language tests share (compiling a Python or JavaScript component takes seconds), and
/// checks that a faulting match replays to the same fault.
fn run(language: &str, scenario: Value) -> Result<SimulationOutput, ScenarioError> {
    let sink = nexori_recording::MemorySink::new();
    let options = RunOptions {
        compile_cache: Some(shared_compile_cache()),
        record: Some(sink.clone()),
        ..RunOptions::default()
    };
    let scenario = Scenario::from_value(scenario).expect("valid scenario");
    let output = scenario::run(&scenario, &raising_dir(language), &options)?;
    nexori_tests::assert_replays(&sink);
    Ok(output)
}

/// A match of `raising` with one player that gets a `boom` game event at 1 s.
fn boom(config: Value) -> Value {
    let mut steps = vec![create(0, "m", "raising", &[1])];
    steps.extend(join_all(100, "m", &[1]));
    steps.push(json!({"at": 1_000, "type": "game.event", "matchId": "m", "kind": "boom", "player": player(1)}));
    steps.push(json!({"at": 5_000, "type": "wait"}));
    json!({"startEpochMs": T0, "config": config, "steps": steps})
}

#[test]
fn an_exception_in_a_callback_is_the_faults_message() {
    for (language, message) in [
        // componentize-py prints the traceback; its last line is the exception.
        ("python", "ValueError: boom from python"),
        // componentize-js (StarlingMonkey) prints the error's message and stack, not its name.
        ("ts", "boom from typescript"),
    ] {
        let output = run(language, boom(json!({})))
            .unwrap_or_else(|e| panic!("the {language} mod runs: {e}"));
        let trace = trace_json(&output);
        let faults: Vec<&Value> = trace.iter().filter(|e| e["kind"] == "fault").collect();
        assert_eq!(faults.len(), 1, "{language}: {faults:#?}");
        let expected = format!("trap: unreachable (the mod panicked or aborted): {message}");
        assert_eq!(faults[0]["matchId"], "m", "{language}");
        assert_eq!(faults[0]["mod"], "raising", "{language}");
        assert_eq!(faults[0]["error"], expected, "{language}");
        // The fault policy ended the match with it.
        let results: Vec<&Value> = trace.iter().filter(|e| e["kind"] == "result").collect();
        assert_eq!(results.len(), 1, "{language}: {results:#?}");
        assert_eq!(
            results[0]["body"]["reason"], "RULES_MOD_FAULT",
            "{language}"
        );
        assert_eq!(
            results[0]["body"]["players"][0]["reason"],
            format!("RULES_MOD_FAULT: {expected}"),
            "{language}"
        );
        assert_eq!(
            results[0]["body"]["customData"]["fault"], expected,
            "{language}"
        );
    }
}

#[test]
fn an_exception_in_the_constructor_is_the_load_errors_message() {
    let config = json!({"mods": {"raising": {"raiseInInit": true}}});
    for (language, message) in [
        // The SDKs catch it and return it from `init` as `<name>: <message>`.
        ("python", "ValueError: boom from python init"),
        ("ts", "Error: boom from typescript init"),
    ] {
        let error = run(language, boom(config.clone()))
            .err()
            .unwrap_or_else(|| panic!("the {language} mod loaded although its constructor raised"));
        let file = raising_dir(language).join("raising.wasm");
        assert_eq!(
            error.to_string(),
            format!(
                "mod {} failed to load: the mod failed at start-up: {message}",
                file.display()
            ),
            "{language}"
        );
    }
}
