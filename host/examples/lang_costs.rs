//! What a rules mod costs in each language: the same mod, `last_standing`, in Rust
//! (`target/nexori-mods`, `[profile.mods]`), Python (componentize-py) and TypeScript
//! (componentize-js) (`target/nexori-lang-mods/`), through the real host (`ArenaHost`, the
//! default engine settings and limits).
//!
//! ```sh
//! cargo xtask build-mods && cargo xtask build-lang-mods
//! cargo build --release -p nexori --example lang_costs
//! target/release/examples/lang_costs                    # everything (5 to 6 minutes on 2 cores)
//! target/release/examples/lang_costs compile memory     # only the sections named
//! target/release/examples/lang_costs --quick            # one short run of each, to try it out
//! LANG_COSTS_TS=other.wasm target/release/examples/lang_costs growth   # another build of a port
//! ```
//!
//! Sections (BENCHMARKS.md, 2026-12-07, has the figures and what they mean):
//!
//! - `size`: the component's bytes, its core modules and instantiations, its linear memories
//!   (declared size) and data segments, read with wasmparser;
//! - `compile`: Cranelift compiling the component with the host's engine (`loader::prepare`
//!   without a cache, as `nexori check --no-cache` does), then a restart's load from the compile
//!   cache: a fresh `ArenaHost` with `set_compile_cache` loading the mod (`compile_cached` reads and
//!   deserialises the artifact; `load_mod` also links it and runs `init` in the probe instance);
//! - `instantiate`: one match's instance as the host makes it (`new_store` + `ModInstance::start`:
//!   instantiate from the `InstancePre`, then `init`), in a slot a finished match used before (the
//!   steady state) and in slots no match used yet;
//! - `events`: the same `player.tick` stream (16 players, 20 Hz, a tick `last_standing` ignores)
//!   into one started match through the host, per event; the Rust mod gets a turn's ticks in one
//!   `game-event-batches` call, the ports one `on-game-event` call each. Beside it, a bare
//!   `on-game-event` call of each mod with no host around it (the same export in all three);
//! - `growth`: linear memory growth per call of three calls (`on-timer`, `on-game-event` without
//!   and with 4 000 bytes of data), then one instance of each mod taking 960 000 `on-game-event`
//!   calls (50 minutes of a 16-player match at 20 Hz), its linear memory sampled on the way;
//! - `scenario`: a whole 16-player round through the host: created, joined, placed, a minute of
//!   20 Hz ticks with a `player.died` every 4 s until one player is left, the result, the return
//!   to the lobby and the instance dropped;
//! - `memory`: N live matches (1, 10, 50, 200) each ticking for 20 s of play, each N and language
//!   in a process of its own, three times: growth of RSS and of PSS (which counts a page mapped in
//!   several instance slots once) per match, the slowest match start and the slowest turn against
//!   `callbackDeadlineMs`;
//! - `limits`: the least `memoryBytes` with which each mod loads and plays the scenario, and how
//!   many live matches of each mod the instance pool takes, sized for 20 instances and at its
//!   default size (1 000).
//!
//! The compile cache it loads from is `target/lang-costs-cache` (filled at the start of a run).
//!
//! Each timed section alternates the languages within a run (Rust, Python, TypeScript, the
//! first one rotating from run to run), so a neighbour's burst of load falls on all three, and a
//! ratio to Rust is the median of the runs' own ratios. Lines print `median (min-max)`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

use nexori::config::HostConfig;
use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::bridge::{self, BridgeMessage};
use nexori_host::host_state::lock;
use nexori_host::wasm::engine::{EngineSettings, build_engine};
use nexori_host::wasm::instance::{ModInstance, new_store};
use nexori_host::wasm::loader::{self, CompileSource};
use nexori_host::wasm::since_v1_1_0::types::GameEvent;
use nexori_host::wasm::state::RegistrationPolicy;
use nexori_reporting::{IdGenerator, RecordingReporter};
use nexori_runtime::clock::VirtualClock;
use serde_json::{Value, json};

const T0: i64 = 1_760_000_000_000;
const PLAYERS: u8 = 16;
/// The mod's name in the host (its file name) and the rules engine id it registers.
const MOD: &str = "last_standing";

/// One language's build of the mod.
#[derive(Clone, Copy)]
struct Lang {
    name: &'static str,
    /// Relative to the workspace root.
    file: &'static str,
}

const LANGS: [Lang; 3] = [
    Lang {
        name: "rust",
        file: "target/nexori-mods/last_standing.wasm",
    },
    Lang {
        name: "python",
        file: "target/nexori-lang-mods/python/last_standing.wasm",
    },
    Lang {
        name: "ts",
        file: "target/nexori-lang-mods/ts/last_standing.wasm",
    },
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

impl Lang {
    /// The component: `LANG_COSTS_RUST`, `LANG_COSTS_PYTHON` or `LANG_COSTS_TS` when set (another
    /// build of the mod, registering `last_standing`), else the one the xtask builds.
    fn path(self) -> PathBuf {
        let variable = format!("LANG_COSTS_{}", self.name.to_uppercase());
        std::env::var_os(variable).map_or_else(|| root().join(self.file), PathBuf::from)
    }

    fn bytes(self) -> Vec<u8> {
        let path = self.path();
        std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; build it with `cargo xtask build-mods` (Rust) or `cargo xtask build-lang-mods`",
                path.display()
            )
        })
    }

    fn by_name(name: &str) -> Lang {
        *LANGS
            .iter()
            .find(|l| l.name == name)
            .unwrap_or_else(|| panic!("no language {name:?}"))
    }
}

/// The languages in the order of run `run`: the first one rotates, so none is always measured
/// first (right after another language's work).
fn order(run: usize) -> [Lang; 3] {
    let mut langs = LANGS;
    langs.rotate_left(run % 3);
    langs
}

/// The compile cache this program loads from (filled by [`fill_cache`]).
fn cache_dir() -> PathBuf {
    root().join("target").join("lang-costs-cache")
}

// ------------------------------------------------------------------------------------ figures

/// The values of one quantity over a section's runs.
struct Runs(Vec<f64>);

impl Runs {
    fn new(mut values: Vec<f64>) -> Self {
        assert!(!values.is_empty(), "no runs");
        values.sort_by(f64::total_cmp);
        Runs(values)
    }

    fn median(&self) -> f64 {
        let n = self.0.len();
        if n % 2 == 1 {
            self.0[n / 2]
        } else {
            (self.0[n / 2 - 1] + self.0[n / 2]) / 2.0
        }
    }

    /// `median (min-max)`, each value through `show`.
    fn show(&self, show: impl Fn(f64) -> String) -> String {
        format!(
            "{} ({}-{})",
            show(self.median()),
            show(self.0[0]),
            show(self.0[self.0.len() - 1])
        )
    }
}

/// Seconds as a readable duration with 3 significant figures.
fn time(seconds: f64) -> String {
    let (value, unit) = if seconds >= 1.0 {
        (seconds, "s")
    } else if seconds >= 1e-3 {
        (seconds * 1e3, "ms")
    } else {
        (seconds * 1e6, "µs")
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$} {unit}")
}

fn ratio(r: f64) -> String {
    format!("{r:.1}x")
}

fn mib(bytes: f64) -> String {
    format!("{:.2} MiB", bytes / (1 << 20) as f64)
}

/// Figures per language over the runs, keyed by language name, and each run's ratio to Rust.
struct ByLang {
    values: Vec<(&'static str, Vec<f64>)>,
}

impl ByLang {
    fn new() -> Self {
        Self {
            values: LANGS.iter().map(|l| (l.name, Vec::new())).collect(),
        }
    }

    fn push(&mut self, lang: Lang, value: f64) {
        self.values
            .iter_mut()
            .find(|(name, _)| *name == lang.name)
            .expect("a known language")
            .1
            .push(value);
    }

    fn runs(&self, lang: Lang) -> Runs {
        let values = &self.values.iter().find(|(n, _)| *n == lang.name).unwrap().1;
        Runs::new(values.clone())
    }

    /// Each run's value of `lang` over Rust's in the same run.
    fn ratios(&self, lang: Lang) -> Runs {
        let rust = &self.values[0].1;
        let other = &self.values.iter().find(|(n, _)| *n == lang.name).unwrap().1;
        Runs::new(rust.iter().zip(other).map(|(r, o)| o / r).collect())
    }

    /// One line per language: the figure, and its ratio to Rust.
    fn print(&self, what: &str, show: impl Fn(f64) -> String + Copy) {
        println!("{what}");
        for lang in LANGS {
            let runs = self.runs(lang);
            let versus = if lang.name == "rust" {
                String::new()
            } else {
                format!(", {} Rust", self.ratios(lang).show(ratio))
            };
            println!(
                "  {:<7} {}{versus}   [{} runs]",
                lang.name,
                runs.show(show),
                runs.0.len()
            );
        }
    }
}

// --------------------------------------------------------------------------------- the host

/// A host with the default configuration, engine `settings`, virtual time and results recorded
/// in memory, loading from the compile cache when `cache` is set.
fn new_host(settings: &EngineSettings, cache: bool, memory_bytes: Option<u64>) -> ArenaHost {
    let config = HostConfig::default();
    let mut host_settings = config.host_settings();
    if let Some(bytes) = memory_bytes {
        host_settings.limits.memory_bytes = bytes;
    }
    let reporter = RecordingReporter::new(config.reporting(), IdGenerator::Seeded(1));
    let mut host = ArenaHost::new(
        host_settings,
        HostClock::Virtual(VirtualClock::new(T0)),
        Box::new(reporter),
        false,
        settings,
    )
    .expect("host");
    if cache {
        host.set_compile_cache(cache_dir());
    }
    host
}

/// A host (default engine) serving `lang`'s mod, loaded from the compile cache.
fn host_for(lang: Lang) -> ArenaHost {
    let mut host = new_host(&EngineSettings::default(), true, None);
    let bytes = lang.bytes();
    let source = host.load_mod(MOD, &bytes).expect("load").compilation.source;
    assert_eq!(source, CompileSource::Cache, "{}: not cached", lang.name);
    host
}

/// Compiles every language's mod into the compile cache once (a restart then loads from it).
fn fill_cache() {
    for lang in LANGS {
        let mut host = new_host(&EngineSettings::default(), true, None);
        let bytes = lang.bytes();
        let compilation = host.load_mod(MOD, &bytes).expect("load").compilation;
        if compilation.source == CompileSource::CompiledAndCached {
            println!(
                "  {}: compiled and stored in the compile cache in {}",
                lang.name,
                time(compilation.took.as_secs_f64())
            );
        }
    }
}

/// The entry of `lang` in a per-language list.
fn of_lang<T>(items: &mut [(Lang, T)], lang: Lang) -> &mut T {
    &mut items
        .iter_mut()
        .find(|(l, _)| l.name == lang.name)
        .expect("every language has an entry")
        .1
}

/// A `player.tick` of player 1 in `match_id`, as Capture The Zone's game server sends it.
fn tick_event(match_id: &str) -> GameEvent {
    GameEvent {
        match_id: match_id.into(),
        kind: "player.tick".into(),
        player: Some(player_in(0, 1)),
        data: Some(
            json!({"worldName": format!("nexori-match-{match_id}"), "x": 62.0, "y": 90.0, "z": -6.0, "alive": true})
                .to_string(),
        ),
        at_epoch_ms: T0,
    }
}

fn player_in(group: u32, n: u8) -> String {
    format!("{n:08x}-{:04x}-4000-8000-{group:012x}", group & 0xffff)
}

fn message(value: Value) -> BridgeMessage {
    bridge::parse(&value).expect("bridge message")
}

/// A 16-player match created, joined and placed: `last_standing` starts its round.
fn start_match(host: &mut ArenaHost, match_id: &str, group: u32) {
    let player = |n| player_in(group, n);
    let expected: Vec<Value> = (1..=PLAYERS)
        .map(|n| json!({"uuid": player(n), "name": format!("P{n}")}))
        .collect();
    host.apply(message(json!({
        "type": "match.create", "matchId": match_id, "queueId": "q", "arenaId": "a",
        "rulesEngineId": MOD, "externalMatchId": format!("ext-{match_id}"),
        "expectedPlayers": expected,
    })))
    .unwrap();
    for n in 1..=PLAYERS {
        host.apply(message(
            json!({"type": "player.arrive", "matchId": match_id,
                                  "player": player(n), "name": format!("P{n}")}),
        ))
        .unwrap();
    }
    for n in 1..=PLAYERS {
        host.apply(message(
            json!({"type": "player.placed", "matchId": match_id, "player": player(n)}),
        ))
        .unwrap();
    }
    take(host);
}

/// The 16 players' `player.tick`s of one 20 Hz round (the arena bot's tick data).
fn ticks(match_id: &str, group: u32) -> Vec<BridgeMessage> {
    (1..=PLAYERS)
        .map(|n| {
            message(
                json!({"type": "game.event", "matchId": match_id, "kind": "player.tick",
                "player": player_in(group, n),
                "data": {"worldName": format!("nexori-match-{match_id}"), "x": 62.0, "y": 90.0,
                         "z": -6.0, "alive": true}}),
            )
        })
        .collect()
}

fn round_at(round: usize) -> i64 {
    T0 + 1_000 + round as i64 * 50
}

/// One turn as `nexori serve` runs it: the messages, then the commands handed over.
fn turn(host: &mut ArenaHost, messages: &[BridgeMessage]) {
    for result in host.apply_turn(messages.iter().cloned()) {
        result.unwrap();
    }
    take(host);
}

fn take(host: &mut ArenaHost) {
    black_box(host.take_commands());
}

fn end_match(host: &mut ArenaHost, match_id: &str) {
    host.apply(message(json!({"type": "match.end", "matchId": match_id})))
        .unwrap();
    take(host);
}

/// A counter of the host's (`nexori_faults_total`, ...), summed over its labels.
fn counter(host: &ArenaHost, metric: &str) -> u64 {
    lock(host.shared())
        .trace
        .counters()
        .filter(|(m, _, _)| *m == metric)
        .map(|(_, _, v)| v)
        .sum()
}

fn result_submitted(host: &ArenaHost, match_id: &str) -> bool {
    lock(host.shared())
        .arena
        .get(match_id)
        .is_some_and(|m| m.result_submitted_at > 0)
}

// ----------------------------------------------------------------------------------- size

fn section_size() {
    println!("\n== size: the component file");
    for lang in LANGS {
        let bytes = lang.bytes();
        let mut modules = 0;
        let mut instantiations = 0;
        let mut code = 0;
        let mut data = 0;
        let mut memories = Vec::new();
        let mut depth_modules = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
            use wasmparser::Payload;
            match payload.expect("valid component") {
                Payload::Version { encoding, .. } => {
                    let module = encoding == wasmparser::Encoding::Module;
                    if module {
                        modules += 1;
                    }
                    depth_modules.push(module);
                }
                Payload::End(_) => {
                    depth_modules.pop();
                }
                Payload::InstanceSection(reader) => {
                    for instance in reader {
                        if matches!(instance.unwrap(), wasmparser::Instance::Instantiate { .. }) {
                            instantiations += 1;
                        }
                    }
                }
                Payload::MemorySection(reader) => {
                    for memory in reader {
                        memories.push(memory.unwrap().initial << 16);
                    }
                }
                Payload::DataSection(reader) => {
                    for segment in reader {
                        data += segment.unwrap().data.len();
                    }
                }
                Payload::CodeSectionStart { size, .. } => code += size as usize,
                _ => {}
            }
        }
        println!(
            "  {:<7} {:>10} bytes ({}): {modules} core modules, {instantiations} core instantiations, \
             code {}, data segments {}, {} linear memories declared at {}",
            lang.name,
            bytes.len(),
            mib(bytes.len() as f64),
            mib(code as f64),
            mib(data as f64),
            memories.len(),
            memories
                .iter()
                .map(|m| mib(*m as f64))
                .collect::<Vec<_>>()
                .join(" + ")
        );
    }
}

// -------------------------------------------------------------------------------- compile

fn section_compile(runs: usize) {
    println!(
        "\n== compile: Cranelift with the host's engine, and a restart from the compile cache"
    );
    let mut compile = ByLang::new();
    let mut cached = ByLang::new();
    let mut restart = ByLang::new();
    let mut artifact = Vec::new();
    for lang in LANGS {
        let bytes = lang.bytes();
        let engine = build_engine(&EngineSettings::default()).unwrap();
        let path = loader::cache_path(&engine, &bytes, &cache_dir());
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        artifact.push((lang.name, size));
    }
    for run in 0..runs {
        for lang in order(run) {
            let bytes = lang.bytes();
            // Cranelift: a fresh engine, no cache (what `nexori check --no-cache` does).
            let engine = build_engine(&EngineSettings::default()).unwrap();
            let linker = loader::linker(&engine).unwrap();
            let prepared = loader::prepare(&engine, &linker, &bytes, None).expect("compile");
            assert_eq!(prepared.compilation.source, CompileSource::Compiled);
            compile.push(lang, prepared.compilation.took.as_secs_f64());
            drop((prepared, linker, engine));
            // A restart: a fresh host (engine, linker) that finds the mod in its compile cache.
            let started = Instant::now();
            let mut host = new_host(&EngineSettings::default(), true, None);
            let loaded = host.load_mod(MOD, &bytes).expect("load");
            assert_eq!(loaded.compilation.source, CompileSource::Cache);
            let took = loaded.compilation.took.as_secs_f64();
            restart.push(lang, started.elapsed().as_secs_f64());
            cached.push(lang, took);
        }
    }
    compile.print(
        "compile (loader::prepare without a cache: Cranelift, then linking)",
        time,
    );
    cached.print(
        "from the compile cache (compile_cached: read the artifact, deserialise)",
        time,
    );
    restart.print(
        "restart to serving: a new ArenaHost, set_compile_cache, load_mod (cache, link, init in the probe instance)",
        time,
    );
    println!("compiled artifact in the cache (.cwasm)");
    for (name, size) in artifact {
        println!("  {name:<7} {size:>10} bytes ({})", mib(size as f64));
    }
}

// ---------------------------------------------------------------------------- instantiate

fn section_instantiate(runs: usize, batch: usize) {
    println!(
        "\n== instantiate: one match's instance (new_store + ModInstance::start: instantiate from the InstancePre, init)"
    );
    let hosts: Vec<(Lang, ArenaHost)> = LANGS.iter().map(|&l| (l, host_for(l))).collect();
    let host = |lang: Lang| &hosts.iter().find(|(l, _)| l.name == lang.name).unwrap().1;
    let store = |host: &ArenaHost, n: usize| {
        let loaded = host.mods().next().unwrap();
        new_store(
            host.engine(),
            loaded.info.clone(),
            host.shared().clone(),
            Some(format!("i{n}")),
            RegistrationPolicy::Loaded,
        )
    };
    // Fresh slots: `batch` instances kept alive at once in a new host (a new engine and pool)
    // that has run no match yet, so each takes a slot no instance used before (its memory image
    // mapped, every page it touches a fault), but for the first, which may get the load-time
    // probe's slot.
    let mut fresh = ByLang::new();
    for run in 0..runs.min(5) {
        for lang in order(run) {
            let host = host_for(lang);
            let pre = host.mods().next().unwrap().pre.clone();
            let mut live = Vec::new();
            let mut starting = 0.0;
            for n in 0..batch {
                let started = Instant::now();
                live.push(ModInstance::start(&pre, store(&host, n)).expect("start"));
                starting += started.elapsed().as_secs_f64();
            }
            fresh.push(lang, starting / batch as f64);
            drop(live);
        }
    }
    let mut start = ByLang::new();
    let mut reset = ByLang::new();
    let mut bare = ByLang::new();
    for run in 0..=runs {
        for lang in order(run) {
            let host = host(lang);
            let pre = host.mods().next().unwrap().pre.clone();
            // Each instance is dropped before the next starts, so every start after the first
            // reuses the slot (and its resident pages) of the one before, as a new match does
            // after a finished one. The drop, which resets the slot, is timed on its own.
            let (mut starting, mut dropping) = (0.0, 0.0);
            for n in 0..batch {
                let started = Instant::now();
                let instance = ModInstance::start(&pre, store(host, n)).expect("start");
                starting += started.elapsed().as_secs_f64();
                let started = Instant::now();
                drop(black_box(instance));
                dropping += started.elapsed().as_secs_f64();
            }
            let mut instantiating = 0.0;
            for n in 0..batch {
                let mut store = store(host, n);
                store.set_epoch_deadline(1_000);
                let started = Instant::now();
                let instance = pre.instantiate(&mut store).expect("instantiate");
                instantiating += started.elapsed().as_secs_f64();
                drop(black_box((instance, store)));
            }
            // Run 0 warms up.
            if run > 0 {
                let per = |total: f64| total / batch as f64;
                start.push(lang, per(starting));
                reset.push(lang, per(dropping));
                bare.push(lang, per(instantiating));
            }
        }
    }
    start.print(
        &format!(
            "per match, a slot a finished match used before (the steady state), {batch} per run"
        ),
        time,
    );
    bare.print("  of which instantiate alone (no init)", time);
    reset.print(
        "  and when the match ends, dropping the instance (its slot reset for the next)",
        time,
    );
    fresh.print(
        &format!("per match, slots no match used yet ({batch} live at once in a new host)"),
        time,
    );
}

// --------------------------------------------------------------------------------- events

fn section_events(runs: usize, rounds: usize, calls: usize) {
    println!(
        "\n== events: the same player.tick stream (16 players, 20 Hz; last_standing ignores player.tick)"
    );
    let mut hosts: Vec<(Lang, ArenaHost)> = LANGS.iter().map(|&l| (l, host_for(l))).collect();
    let mut through = ByLang::new();
    let mut calls_per_event = Vec::new();
    for run in 0..=runs {
        for lang in order(run) {
            let host = of_lang(&mut hosts, lang);
            let match_id = format!("e{run}");
            let group = run as u32 + 1;
            start_match(host, &match_id, group);
            let ticks = ticks(&match_id, group);
            let calls_before = counter(host, "nexori_game_event_calls_total");
            let events_before = counter(host, "nexori_game_events_total");
            let started = Instant::now();
            for round in 0..rounds {
                host.advance_to(round_at(round));
                turn(host, &ticks);
            }
            let per_event =
                started.elapsed().as_secs_f64() / (rounds * usize::from(PLAYERS)) as f64;
            let events = counter(host, "nexori_game_events_total") - events_before;
            let calls = counter(host, "nexori_game_event_calls_total") - calls_before;
            assert_eq!(
                events as usize,
                rounds * usize::from(PLAYERS),
                "every tick delivered"
            );
            assert_eq!(counter(host, "nexori_faults_total"), 0, "no fault");
            end_match(host, &match_id);
            if run == 0 {
                calls_per_event.push((lang.name, calls as f64 / events as f64));
            } else {
                through.push(lang, per_event);
            }
        }
    }
    through.print(
        &format!("through the host, per event ({rounds} rounds of 16 ticks into one started match per run)"),
        time,
    );
    for (name, share) in calls_per_event {
        println!("  {name:<7} {share:.4} guest calls per event");
    }

    // The same export in all three, no host around it: `game-events.on-game-event`.
    let mut bare_call = ByLang::new();
    let bare: Vec<(Lang, ArenaHost)> = LANGS.iter().map(|&l| (l, host_for(l))).collect();
    let mut instances: Vec<(Lang, ModInstance)> = bare
        .iter()
        .map(|(lang, host)| {
            let loaded = host.mods().next().unwrap();
            let store = new_store(
                host.engine(),
                loaded.info.clone(),
                host.shared().clone(),
                Some("bare".into()),
                RegistrationPolicy::Loaded,
            );
            (
                *lang,
                ModInstance::start(&loaded.pre, store).expect("start"),
            )
        })
        .collect();
    let event = tick_event("bare");
    let memory_after_init: Vec<usize> = instances.iter().map(|(_, i)| i.memory_bytes()).collect();
    for run in 0..=runs {
        for lang in order(run) {
            let instance = of_lang(&mut instances, lang);
            let started = Instant::now();
            for _ in 0..calls {
                instance
                    .call(|b, s| {
                        b.nexori_minigame_game_events()
                            .call_on_game_event(s, &event)
                    })
                    .expect("call");
            }
            if run > 0 {
                bare_call.push(lang, started.elapsed().as_secs_f64() / calls as f64);
            }
        }
    }
    bare_call.print(
        &format!(
            "a bare on-game-event call (player.tick), no host around it, {calls} calls per run"
        ),
        time,
    );
    println!(
        "linear memory of those instances (the limiter's largest memory, what limits.memoryBytes bounds)"
    );
    for ((lang, instance), after_init) in instances.iter().zip(memory_after_init) {
        println!(
            "  {:<7} {} after init, {} after {} calls",
            lang.name,
            mib(after_init as f64),
            mib(instance.memory_bytes() as f64),
            (runs + 1) * calls
        );
    }
}

// --------------------------------------------------------------------------------- growth

/// Whether an instance's linear memory keeps growing over a long match: `calls` bare
/// `on-game-event` calls (player.tick) into one instance of each mod, its memory sampled ten
/// times on the way. 320 calls are one second of a 16-player match at 20 Hz.
fn section_growth(calls: usize) {
    println!(
        "\n== growth: linear memory of one instance over {calls} on-game-event calls ({:.0} minutes of a 16-player match at 20 Hz)",
        calls as f64 / 320.0 / 60.0
    );
    let event = tick_event("grow");
    for lang in LANGS {
        let host = host_for(lang);
        let loaded = host.mods().next().unwrap();
        let start = || {
            let store = new_store(
                host.engine(),
                loaded.info.clone(),
                host.shared().clone(),
                Some("grow".into()),
                RegistrationPolicy::Loaded,
            );
            ModInstance::start(&loaded.pre, store).expect("start")
        };
        // Growth per call of three calls, each into a fresh instance: does it depend on the
        // export or on the size of what the call carries?
        let per_call = |call: &dyn Fn(&mut ModInstance)| {
            let mut instance = start();
            let before = instance.memory_bytes();
            for _ in 0..20_000 {
                call(&mut instance);
            }
            format!(
                "{:.0} B",
                (instance.memory_bytes() - before) as f64 / 20_000.0
            )
        };
        let with_data = |data: Option<String>| GameEvent {
            data,
            ..event.clone()
        };
        let (empty, large) = (with_data(None), with_data(Some("x".repeat(4_000))));
        println!(
            "  {:<7} linear memory growth per call over 20 000 calls: on-timer {}, on-game-event without data {}, with 4 000 bytes of data {}",
            lang.name,
            per_call(&|i| {
                i.call(|b, s| b.nexori_minigame_timers().call_on_timer(s, 7))
                    .expect("call")
            }),
            per_call(&|i| {
                i.call(|b, s| {
                    b.nexori_minigame_game_events()
                        .call_on_game_event(s, &empty)
                })
                .expect("call")
            }),
            per_call(&|i| {
                i.call(|b, s| {
                    b.nexori_minigame_game_events()
                        .call_on_game_event(s, &large)
                })
                .expect("call")
            }),
        );
        let mut instance = start();
        let mut samples = vec![mib(instance.memory_bytes() as f64)];
        let mut fault = None;
        let started = Instant::now();
        let mut made = 0;
        'calls: for _ in 0..10 {
            for _ in 0..calls / 10 {
                let call = instance.call(|b, s| {
                    b.nexori_minigame_game_events()
                        .call_on_game_event(s, &event)
                });
                if let Err(f) = call {
                    // The limit's fault ends the instance: say when, and at what size.
                    fault = Some(format!(
                        "FAULT at call {} ({:.1} minutes of the match): {}, the memory {} before it",
                        made + 1,
                        (made + 1) as f64 / 320.0 / 60.0,
                        f.kind,
                        mib(instance.memory_bytes() as f64)
                    ));
                    break 'calls;
                }
                made += 1;
            }
            samples.push(mib(instance.memory_bytes() as f64));
        }
        println!(
            "  {:<7} {} ({} per call)",
            lang.name,
            samples.join(" -> "),
            time(started.elapsed().as_secs_f64() / made.max(1) as f64)
        );
        if let Some(fault) = fault {
            println!("          {fault}");
        }
    }
}

// ------------------------------------------------------------------------------- scenario

/// A whole round through `host`: 16 players, a minute of ticks, a death every 4 s until one is
/// left, the result, the return to the lobby; until the instance is gone. Returns the events
/// delivered.
fn play_round(host: &mut ArenaHost, match_id: &str, group: u32, at: i64) -> usize {
    // Lifecycle first, at `at` (virtual time only moves forward).
    host.advance_to(at);
    start_match(host, match_id, group);
    let ticks = ticks(match_id, group);
    let mut events = 0;
    let mut round = 0;
    let mut next_victim = PLAYERS;
    while !result_submitted(host, match_id) {
        assert!(round < 2_000, "the round never ended");
        host.advance_to(at + 1_000 + round as i64 * 50);
        let mut messages = ticks.clone();
        if round % 80 == 79 && next_victim > 1 {
            messages.push(message(json!({"type": "game.event", "matchId": match_id,
                "kind": "player.died", "player": player_in(group, next_victim),
                "data": {"killerPlayerUuid": player_in(group, 1)}})));
            next_victim -= 1;
        }
        events += messages.len();
        turn(host, &messages);
        round += 1;
    }
    // The return delay (5 s) runs out, the players go back to the lobby, the match closes.
    let end = at + 1_000 + round as i64 * 50;
    for step in 1..=20 {
        host.advance_to(end + step * 500);
        take(host);
    }
    assert_eq!(host.live_instances(), 0, "the match closed");
    events
}

fn section_scenario(runs: usize) {
    println!(
        "\n== scenario: a whole 16-player round through the host (a death every 4 s, 15 deaths, ~60 s of 20 Hz ticks, result, return)"
    );
    let mut hosts: Vec<(Lang, ArenaHost)> = LANGS.iter().map(|&l| (l, host_for(l))).collect();
    let mut whole = ByLang::new();
    let mut per_event = ByLang::new();
    let mut events_seen = 0;
    for run in 0..=runs {
        for lang in order(run) {
            let host = of_lang(&mut hosts, lang);
            let at = host.now() + 1_000;
            let started = Instant::now();
            let events = play_round(host, &format!("s{run}"), run as u32 + 1, at);
            let seconds = started.elapsed().as_secs_f64();
            assert_eq!(counter(host, "nexori_faults_total"), 0, "no fault");
            if events_seen == 0 {
                events_seen = events;
            }
            assert_eq!(events, events_seen, "the same round in every language");
            if run > 0 {
                whole.push(lang, seconds);
                per_event.push(lang, seconds / events as f64);
            }
        }
    }
    whole.print(
        &format!(
            "host CPU for the whole round ({events_seen} game events, 16 players x ~1 200 rounds)"
        ),
        time,
    );
    per_event.print("  the same, per game event", time);
}

// --------------------------------------------------------------------------------- memory

/// This process's memory: `VmRSS`, `RssAnon`, `RssShmem` of `/proc/self/status` and `Pss` of
/// `/proc/self/smaps_rollup`, in bytes. An error, never 0, when unreadable.
fn memory() -> [u64; 4] {
    let field = |file: &str, name: &str| -> u64 {
        let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
        let line = text
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .unwrap_or_else(|| panic!("{file} has no {name}"));
        line.trim()
            .strip_suffix("kB")
            .and_then(|n| n.trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{file}: {name} is not kB: {line:?}"))
            * 1024
    };
    [
        field("/proc/self/status", "VmRSS:"),
        field("/proc/self/status", "RssAnon:"),
        field("/proc/self/status", "RssShmem:"),
        field("/proc/self/smaps_rollup", "Pss:"),
    ]
}

/// `--memory-run LANG MATCHES ROUNDS`, in a process of its own: `MATCHES` live matches of the
/// language's mod, each ticking for `ROUNDS` 20 Hz rounds. Prints one `memory-run` line.
fn memory_run(lang: Lang, matches: usize, rounds: usize) {
    let mut host = host_for(lang);
    // One match first, so that what every match shares (the code, the memory image) is counted
    // before the baseline.
    start_match(&mut host, "warm", 0);
    let warm = ticks("warm", 0);
    for round in 0..20 {
        host.advance_to(round_at(round));
        turn(&mut host, &warm);
    }
    let ids: Vec<String> = (0..matches).map(|n| format!("m{n}")).collect();
    let all_ticks: Vec<Vec<BridgeMessage>> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| ticks(id, n as u32 + 1))
        .collect();
    let before = memory();
    let mut slowest_start = 0f64;
    for (n, id) in ids.iter().enumerate() {
        let started = Instant::now();
        start_match(&mut host, id, n as u32 + 1);
        slowest_start = slowest_start.max(started.elapsed().as_secs_f64());
    }
    let after_start = memory();
    let play = Instant::now();
    let mut slowest_turn = 0f64;
    for round in 20..20 + rounds {
        host.advance_to(round_at(round));
        for match_ticks in &all_ticks {
            let started = Instant::now();
            turn(&mut host, match_ticks);
            slowest_turn = slowest_turn.max(started.elapsed().as_secs_f64());
        }
    }
    let seconds = play.elapsed().as_secs_f64();
    let after = memory();
    assert_eq!(counter(&host, "nexori_faults_total"), 0, "no fault");
    assert_eq!(host.live_instances(), matches + 1, "every match still live");
    let figures = |m: [u64; 4]| m.map(|v| v.to_string()).join(" ");
    println!(
        "memory-run {} {matches} {} {} {} {slowest_start} {slowest_turn} {seconds}",
        lang.name,
        figures(before),
        figures(after_start),
        figures(after)
    );
}

fn memory_child(lang: Lang, matches: usize, rounds: usize) -> Vec<f64> {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--memory-run",
            lang.name,
            &matches.to_string(),
            &rounds.to_string(),
        ])
        .output()
        .expect("start the memory run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "memory run failed ({}): {stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("memory-run "))
        .expect("the memory-run line");
    println!("  raw: {line}");
    line.split(' ')
        .skip(2)
        .map(|f| f.parse().unwrap())
        .collect()
}

fn section_memory(runs: usize, counts: &[usize], rounds: usize) {
    println!(
        "\n== memory: live matches, each in a process of its own, {} s of 20 Hz ticks (16 players each)",
        rounds / 20
    );
    println!(
        "  raw: lang matches | before: rss anon shmem pss | after the starts: ... | after the play: ... | slowest start (s) | slowest turn (s) | play (s)"
    );
    for &matches in counts {
        let mut rss = ByLang::new();
        let mut pss = ByLang::new();
        let mut anon = ByLang::new();
        let mut start_rss = ByLang::new();
        let mut slowest_start = ByLang::new();
        let mut slowest_turn = ByLang::new();
        for run in 0..runs {
            for lang in order(run) {
                let f = memory_child(lang, matches, rounds);
                let n = matches as f64;
                rss.push(lang, (f[8] - f[0]) / n);
                anon.push(lang, (f[9] - f[1]) / n);
                pss.push(lang, (f[11] - f[3]) / n);
                start_rss.push(lang, (f[4] - f[0]) / n);
                slowest_start.push(lang, f[12]);
                slowest_turn.push(lang, f[13]);
            }
        }
        rss.print(
            &format!("{matches} live matches: RSS growth per match after the play"),
            mib,
        );
        pss.print("  PSS growth per match (shared pages counted once)", mib);
        anon.print(
            "  RssAnon growth per match (pages the instances wrote)",
            mib,
        );
        start_rss.print(
            "  RSS growth per match right after the starts (before any tick)",
            mib,
        );
        slowest_start.print(
            "  the slowest match start (match.create to placed, init included)",
            time,
        );
        slowest_turn.print(
            "  the slowest turn (one match's 16 ticks; callbackDeadlineMs is 250 ms per call)",
            time,
        );
    }
}

// --------------------------------------------------------------------------------- limits

fn section_limits() {
    println!("\n== limits");
    // The least memoryBytes (in 64 KiB pages) with which the mod loads and plays a round.
    for lang in LANGS {
        let plays = |bytes: u64| -> bool {
            let mut host = new_host(&EngineSettings::default(), true, Some(bytes));
            if host.load_mod(MOD, &lang.bytes()).is_err() {
                return false;
            }
            let ok = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                play_round(&mut host, "lim", 1, T0);
            }))
            .is_ok();
            ok && counter(&host, "nexori_faults_total") == 0
        };
        let default = 64u64 << 20;
        assert!(plays(default), "{} plays within the default", lang.name);
        let (mut lo, mut hi) = (0u64, default >> 16);
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if plays(mid << 16) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        println!(
            "  {:<7} the least memoryBytes that loads and plays the round: {} ({} pages; default 64 MiB)",
            lang.name,
            mib((hi << 16) as f64),
            hi
        );
    }
    // How many live matches of each mod the instance pool takes: sized for 20 instances, and
    // at its default size (1 000).
    for max_instances in [20u32, EngineSettings::default().max_instances] {
        for lang in LANGS {
            let settings = EngineSettings {
                max_instances,
                ..EngineSettings::default()
            };
            let mut host = new_host(&settings, true, None);
            host.load_mod(MOD, &lang.bytes()).expect("load");
            let before = memory();
            let mut live = 0;
            for n in 0..=max_instances {
                // match.create starts the instance (onMatchCreated); when the pool has no slot
                // left, the match faults and closes at once.
                let _ = host.apply(message(json!({
                    "type": "match.create", "matchId": format!("p{n}"), "queueId": "q",
                    "arenaId": "a", "rulesEngineId": MOD, "externalMatchId": format!("ext-p{n}"),
                    "expectedPlayers": [{"uuid": player_in(n + 1, 1), "name": "P1"}],
                })));
                take(&mut host);
                if host.live_instances() == live + 1 {
                    live += 1;
                } else {
                    break;
                }
            }
            let after = memory();
            let per_match = |i: usize| mib((after[i] as f64 - before[i] as f64) / live as f64);
            println!(
                "  {:<7} live matches in a pool of {max_instances} instances: {live} (created, no players: RSS {} and PSS {} more per match)",
                lang.name,
                per_match(0),
                per_match(3)
            );
        }
    }
}

// ----------------------------------------------------------------------------------- main

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--memory-run") {
        let number = |i: usize| {
            args[i]
                .parse::<usize>()
                .expect("--memory-run LANG MATCHES ROUNDS")
        };
        memory_run(Lang::by_name(&args[1]), number(2), number(3));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only: Vec<&str> = args
        .iter()
        .filter(|a| !a.starts_with("--"))
        .map(String::as_str)
        .collect();
    let wanted = |name: &str| only.is_empty() || only.contains(&name);
    println!(
        "nexori lang_costs: last_standing in Rust, Python, TypeScript ({})",
        if quick { "quick run" } else { "full run" }
    );
    println!(
        "  {} cores, engine: EngineSettings::default() (pool of 1 000 instances, warm slots {}), limits: defaults",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        EngineSettings::default().keeps_warm_slots()
    );
    let started = Instant::now();
    fill_cache();
    if wanted("size") {
        section_size();
    }
    if wanted("compile") {
        section_compile(if quick { 1 } else { 5 });
    }
    if wanted("instantiate") {
        section_instantiate(if quick { 1 } else { 11 }, if quick { 5 } else { 20 });
    }
    if wanted("events") {
        let (runs, rounds, calls) = if quick { (1, 20, 100) } else { (7, 200, 2_000) };
        section_events(runs, rounds, calls);
    }
    if wanted("growth") {
        section_growth(if quick { 10_000 } else { 960_000 });
    }
    if wanted("scenario") {
        section_scenario(if quick { 1 } else { 5 });
    }
    if wanted("memory") {
        if quick {
            section_memory(1, &[1, 10], 40);
        } else {
            section_memory(3, &[1, 10, 50, 200], 400);
        }
    }
    if wanted("limits") {
        section_limits();
    }
    println!("\nthe measurements took {:.0?}", started.elapsed());
}
