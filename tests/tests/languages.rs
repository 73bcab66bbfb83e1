//! The same mod in three languages: `last_standing` in Rust (`example-mods/last-standing`),
//! Python (`example-mods/last-standing-py`, componentize-py) and TypeScript
//! (`example-mods/last-standing-ts`, componentize-js) play the same scenarios and must leave the
//! same trace: every callback, API call and status, game command, result body (its
//! `customData` included) and admission snapshot, in the same order. Only the mods' own log
//! lines may differ. `cargo xtask build-mods` builds the Python and TypeScript components into
//! `target/nexori-lang-mods/`.

use std::path::{Path, PathBuf};

use nexori::scenario::{self, RunOptions, Scenario, ScenarioError};
use nexori_tests::{mods_subset, root, trace_json};
use serde_json::{Value, json};

const LANGUAGES: &[&str] = &["python", "ts"];

/// `target/nexori-lang-mods/<language>`, holding that language's `last_standing.wasm`.
fn lang_mods_dir(language: &str) -> PathBuf {
    nexori_tests::lang_mods_dir("nexori-lang-mods", language, "last_standing")
}

/// Compiling an 18 MB Python or 12 MB JavaScript component takes seconds: the runs share a
/// compile cache (kept between test runs, like `nexori simulate`'s own).
fn options() -> RunOptions {
    RunOptions {
        compile_cache: Some(nexori_tests::shared_compile_cache()),
        ..RunOptions::default()
    }
}

/// Plays `scenario`, recording it, and checks that every match replays from its log as it
/// played (in Python and JavaScript too: their runtimes draw on the match's seeded random).
fn run(scenario: &Value, mods: &Path) -> Result<scenario::SimulationOutput, ScenarioError> {
    let scenario = Scenario::from_value(scenario.clone()).expect("valid scenario");
    let sink = nexori_recording::MemorySink::new();
    let options = RunOptions {
        record: Some(sink.clone()),
        ..options()
    };
    let output = scenario::run(&scenario, mods, &options)?;
    nexori_tests::assert_replays(&sink);
    Ok(output)
}

/// The trace without the mods' log lines (their wording is each port's own) and without what
/// names the build in a result's metadata (the mod's SHA-256, and the input hash, whose log
/// header names the mod).
fn comparable(output: &scenario::SimulationOutput) -> Vec<Value> {
    trace_json(output)
        .into_iter()
        .filter(|entry| entry["kind"] != "log")
        .map(|mut entry| {
            if let Some(metadata) = entry
                .pointer_mut("/body/metadata")
                .and_then(Value::as_object_mut)
            {
                for key in ["modSha256", "inputLogSha256"] {
                    assert!(
                        metadata.remove(key).is_some(),
                        "a recorded result has {key}"
                    );
                }
            }
            entry
        })
        .collect()
}

fn scenarios() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/scenarios/last-standing"))
        .expect("tests/scenarios/last-standing")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files.push(root().join("host/demo/last-standing.json"));
    files.push(root().join("host/demo/shortfall.json"));
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("read scenario");
            let name = path
                .strip_prefix(root())
                .unwrap_or(&path)
                .display()
                .to_string();
            (name, serde_json::from_str(&text).expect("scenario JSON"))
        })
        .collect()
}

#[test]
fn python_and_typescript_ports_leave_the_rust_mods_trace() {
    let rust = mods_subset(&["last_standing"]);
    let scenarios = scenarios();
    assert!(scenarios.len() >= 5, "the scenarios are there");
    for (name, scenario) in &scenarios {
        let expected = run(scenario, rust.path()).expect("the Rust mod runs");
        let expected_trace = comparable(&expected);
        // The scenarios exercise the mod, not its failure: no faults, and something happened.
        assert!(
            !expected_trace.iter().any(|e| e["kind"] == "fault"),
            "{name}: the Rust mod faulted: {expected_trace:#?}"
        );
        assert!(
            expected_trace.iter().any(|e| e["kind"] == "api"),
            "{name}: the mod made no API call"
        );
        for language in LANGUAGES {
            let output = run(scenario, &lang_mods_dir(language))
                .unwrap_or_else(|e| panic!("{name}: the {language} mod: {e}"));
            let trace = comparable(&output);
            for (i, (want, got)) in expected_trace.iter().zip(&trace).enumerate() {
                assert_eq!(
                    got, want,
                    "{name}: entry {i} of the {language} trace differs from the Rust mod's"
                );
            }
            assert_eq!(
                trace.len(),
                expected_trace.len(),
                "{name}: the {language} trace has another length: {:#?}",
                &trace[expected_trace.len().min(trace.len())..]
            );
            assert_eq!(
                serde_json::to_value(&output.matches).unwrap(),
                serde_json::to_value(&expected.matches).unwrap(),
                "{name}: the {language} run's final match snapshots differ"
            );
        }
    }
}

#[test]
fn every_port_rejects_an_unknown_configuration_key_by_name() {
    let scenario = json!({
        "config": { "mods": { "last_standing": { "returnDelay": 3 } } },
        "steps": [ { "at": 0, "type": "wait" } ]
    });
    let rust = mods_subset(&["last_standing"]);
    let mut dirs = vec![("rust", rust.path().to_path_buf())];
    dirs.extend(LANGUAGES.iter().map(|l| (*l, lang_mods_dir(l))));
    for (language, dir) in dirs {
        let error = run(&scenario, &dir)
            .err()
            .unwrap_or_else(|| panic!("the {language} mod accepted an unknown key"));
        let message = error.to_string();
        assert!(
            message.contains("last_standing.wasm failed to load: the mod failed at start-up: invalid mod configuration: unknown field `returnDelay`, expected one of `returnDelaySeconds`, `closeAdmissionAtStart`, `roundTimeLimitSeconds`"),
            "{language}: {message}"
        );
    }
}
