//! Helpers for the integration tests: compiled mods, run through the real host.

use std::path::PathBuf;

use nexori::scenario::{self, RunOptions, Scenario, SimulationOutput};
use serde_json::{Value, json};

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// `target/nexori-mods`, where `cargo xtask build-mods` puts the example mods.
pub fn mods_dir() -> PathBuf {
    let dir = root().join("target").join("nexori-mods");
    assert!(
        dir.join("scripted.wasm").is_file(),
        "{} has no scripted.wasm: build the mods first with `cargo xtask build-mods` (or run `cargo xtask test`)",
        dir.display()
    );
    dir
}

/// `target/<dir>/<language>`, where `cargo xtask build-mods` puts the Python (`python`) and
/// TypeScript (`ts`) mods (`dir` is `nexori-lang-mods` or `nexori-test-lang-mods`), checked to hold
/// `<name>.wasm`.
pub fn lang_mods_dir(dir: &str, language: &str, name: &str) -> PathBuf {
    let dir = root().join("target").join(dir).join(language);
    assert!(
        dir.join(format!("{name}.wasm")).is_file(),
        "{} has no {name}.wasm: build it with `cargo xtask build-mods` (it needs Python 3 and \
         Node.js; NEXORI_SKIP_LANG_MODS=1 skips it, and then this test cannot run)",
        dir.display()
    );
    dir
}

/// The compile cache the tests of Python and TypeScript mods share (compiling one of those
/// components takes seconds), kept between test runs.
pub fn shared_compile_cache() -> PathBuf {
    root()
        .join("target")
        .join("nexori-test-cache")
        .join("compiled")
}

/// A mods directory holding only the named mods, so a test controls exactly what is loaded.
pub fn mods_subset(names: &[&str]) -> tempdir::Dir {
    let dir = tempdir::Dir::new();
    for name in names {
        let file = format!("{name}.wasm");
        std::fs::copy(mods_dir().join(&file), dir.path().join(&file)).expect("copy mod");
    }
    dir
}

/// A host on a virtual clock starting at `start_epoch_ms`, with the default configuration, an
/// in-process result recorder with seeded ids, no mods, and the trace on or off.
pub fn virtual_host(
    start_epoch_ms: i64,
    id_seed: u64,
    trace: bool,
) -> nexori_host::arena_host::ArenaHost {
    virtual_host_with(Default::default(), start_epoch_ms, id_seed, trace)
}

/// [`virtual_host`] with the given configuration.
pub fn virtual_host_with(
    config: nexori::config::HostConfig,
    start_epoch_ms: i64,
    id_seed: u64,
    trace: bool,
) -> nexori_host::arena_host::ArenaHost {
    use nexori_host::arena_host::{ArenaHost, HostClock};
    use nexori_reporting::{IdGenerator, RecordingReporter};
    use nexori_runtime::clock::VirtualClock;

    let reporter = RecordingReporter::new(config.reporting(), IdGenerator::Seeded(id_seed));
    ArenaHost::new(
        config.host_settings(),
        HostClock::Virtual(VirtualClock::new(start_epoch_ms)),
        Box::new(reporter),
        trace,
        &Default::default(),
    )
    .expect("host")
}

/// Runs a scenario given as JSON against the mods in `dir`, recording every match, and checks
/// that each match replays from its log to the same log (docs/replay.md): every scenario the
/// tests play is a replay test too.
pub fn simulate_in(dir: &std::path::Path, scenario: Value) -> SimulationOutput {
    let scenario = Scenario::from_value(scenario).expect("valid scenario");
    simulate_recorded(&scenario, dir, RunOptions::default())
}

/// [`simulate_in`] for a parsed scenario with `options`.
pub fn simulate_recorded(
    scenario: &Scenario,
    dir: &std::path::Path,
    options: RunOptions,
) -> SimulationOutput {
    let sink = nexori_recording::MemorySink::new();
    let options = RunOptions {
        record: Some(sink.clone()),
        ..options
    };
    let output = scenario::run(scenario, dir, &options).expect("scenario runs");
    assert_replays(&sink);
    output
}

/// Replays every log in `sink` against its embedded mod and asserts that each one plays out
/// exactly as recorded.
pub fn assert_replays(sink: &nexori_recording::MemorySink) {
    let file = sink.to_file(true);
    if sink.logs_in_order().is_empty() {
        return;
    }
    let options = nexori::replay::ReplayOptions {
        compile_cache: Some(shared_compile_cache()),
        ..Default::default()
    };
    for log in nexori_recording::read_logs(&file).expect("a recorded file reads back") {
        let wasm = log.wasm.as_deref().expect("the record embeds the mod");
        let replayed = nexori::replay::replay(&log, wasm, &options).expect("the log replays");
        assert!(
            replayed.identical(),
            "match {} does not replay as recorded:\n{}",
            log.header.match_id,
            nexori::replay::report(&replayed, log.header.started_at).join("\n")
        );
    }
}

/// The trace as JSON values, for assertions against the contract's field names.
pub fn trace_json(output: &SimulationOutput) -> Vec<Value> {
    output
        .trace
        .iter()
        .map(|e| serde_json::to_value(e).expect("serialisable"))
        .collect()
}

/// Trace entries of one kind.
pub fn of_kind(trace: &[Value], kind: &str) -> Vec<Value> {
    trace
        .iter()
        .filter(|e| e["kind"] == kind)
        .cloned()
        .collect()
}

/// Player UUID `n`, lowercase.
pub fn player(n: u8) -> String {
    format!("{n:08x}-0000-4000-8000-000000000000")
}

/// A `match.create` step.
pub fn create(at: i64, match_id: &str, rules: &str, players: &[u8]) -> Value {
    json!({
        "at": at, "type": "match.create", "matchId": match_id, "queueId": "q", "arenaId": "a",
        "rulesEngineId": rules, "externalMatchId": format!("ext-{match_id}"),
        "expectedPlayers": players.iter().map(|n| json!({"uuid": player(*n), "name": format!("P{n}")})).collect::<Vec<_>>()
    })
}

/// `player.arrive` then `player.placed` for each player, 10 ms apart from `at`.
pub fn join_all(at: i64, match_id: &str, players: &[u8]) -> Vec<Value> {
    let mut steps = Vec::new();
    for (i, n) in players.iter().enumerate() {
        steps.push(json!({"at": at + i as i64 * 10, "type": "player.arrive", "matchId": match_id, "player": player(*n), "name": format!("P{n}")}));
    }
    for (i, n) in players.iter().enumerate() {
        steps.push(json!({"at": at + 100 + i as i64 * 10, "type": "player.placed", "matchId": match_id, "player": player(*n)}));
    }
    steps
}

/// A `script.call` game event for the scripted mod.
pub fn call(at: i64, match_id: &str, method: &str, args: Value) -> Value {
    json!({"at": at, "type": "game.event", "matchId": match_id, "kind": "script.call",
           "data": {"method": method, "args": args}})
}

/// Minimal temporary directories (no extra dependency for one helper).
pub mod tempdir {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU64, Ordering};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new() -> Self {
            static N: AtomicU64 = AtomicU64::new(0);
            let path = std::env::temp_dir().join(format!(
                "nexori-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&path).expect("create temp dir");
            Self(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Default for Dir {
        fn default() -> Self {
            Self::new()
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A `game.event` of kind `player.tick` (the Capture The Zone per-tick player state) for player
/// `n` at `at`.
pub fn tick(at: i64, match_id: &str, n: u8, data: Value) -> Value {
    json!({"at": at, "type": "game.event", "matchId": match_id, "kind": "player.tick",
           "player": player(n), "data": data})
}

/// `player.tick` events every `step_ms` from `from` (inclusive) to `to` (exclusive), each round
/// in the order of `players`; `state(n, at)` is player `n`'s tick data at `at`, `None` for no
/// tick. 20 Hz is `step_ms = 50`.
pub fn player_ticks(
    match_id: &str,
    from: i64,
    to: i64,
    step_ms: i64,
    players: &[u8],
    state: impl Fn(u8, i64) -> Option<Value>,
) -> Vec<Value> {
    let mut steps = Vec::new();
    let mut at = from;
    while at < to {
        for n in players {
            if let Some(data) = state(*n, at) {
                steps.push(tick(at, match_id, *n, data));
            }
        }
        at += step_ms;
    }
    steps
}
