//! `nexori check`: is this file a rules mod the host will load?

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use crate::config::HostConfig;
use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::bridge::{self, BridgeMessage, GameEventMessage};
use nexori_host::host_state::lock;
use nexori_host::settings::ModLimits;
use nexori_host::wasm::engine::{EngineSettings, PoolSize};
use nexori_host::wasm::loader::{Compilation, CompileSource, ProbeUse, WIT_PACKAGE};
use nexori_reporting::{IdGenerator, RecordingReporter};
use nexori_runtime::clock::VirtualClock;
use nexori_runtime::faults::RULES_MOD_FAULT;
use wasmparser::{ComponentName, Dylink0Subsection, KnownCustom, Name, Parser, Payload};

/// Loads the file the way the host would (compile, link against the `rules-mod` world, run
/// `init` in a probe instance) and describes it. The error says what is wrong. With `cache`, the
/// compiled component is taken from and stored in that compile cache directory.
pub fn check_file(
    path: &Path,
    config_json: Option<&str>,
    cache: Option<&Path>,
) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read the file: {e}"))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut config = HostConfig::default();
    if let Some(text) = config_json {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("--config is not valid JSON: {e}"))?;
        config.mods.insert(name.clone(), value);
    }
    let mut host = check_host(&config, cache)?;
    let loaded = host.load_mod(&name, &bytes)?;
    let mut out = String::new();
    writeln!(
        out,
        "mod:        {name} ({}, {} KiB)",
        path.display(),
        bytes.len().div_ceil(1024)
    )?;
    writeln!(out, "sha256:     {}", loaded.info.sha256)?;
    let toolchain = toolchain(&bytes);
    writeln!(out, "built with: {}", toolchain.component)?;
    if let Some(modules) = &toolchain.modules {
        writeln!(out, "modules:    {modules}")?;
    }
    writeln!(out, "language:   {}", toolchain.language)?;
    writeln!(
        out,
        "compiled:   {}",
        compilation(&loaded.compilation, cache)
    )?;
    writeln!(
        out,
        "world:      nexori:minigame@{} rules-mod — ok",
        loaded.wit_version
    )?;
    if loaded.pre.batches_game_events() {
        writeln!(
            out,
            "events:     a turn's game events in one call (game-event-batches)"
        )?;
    } else if loaded.wit_version == "1.0.0" {
        writeln!(
            out,
            "events:     one call each (built before {WIT_PACKAGE}; rebuild for batches)"
        )?;
    } else {
        // Built against this contract, but exporting only the base world.
        writeln!(
            out,
            "events:     one call each (the mod targets `rules-mod-base`: it does not export \
             `game-event-batches`)"
        )?;
    }
    let ids: Vec<&str> = loaded.info.scope.iter().map(String::as_str).collect();
    writeln!(out, "registers:  {}", ids.join(", "))?;
    for line in probe_use(&loaded.probe, &loaded.info.limits, &name) {
        writeln!(out, "{line}")?;
    }
    let limits = loaded.info.limits.clone();
    let imports = loaded.imports.clone();
    let rules_engine_id = loaded.info.scope.iter().next().cloned();
    let probe = match rules_engine_id {
        Some(id) => probe_match(&mut host, &id),
        // The loader refuses a mod that registers nothing.
        None => MatchProbe::not_measured("the mod registered no rules engine id"),
    };
    let pool = EngineSettings::default().pool();
    for line in growth_lines(&probe.growth, &limits, pool.memory_slot_bytes, &name) {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}", instances_line(probe.instance.as_ref(), &pool))?;
    writeln!(out, "imports:")?;
    for import in &imports {
        writeln!(out, "  {import}")?;
    }
    Ok(out)
}

/// Game events a match sends its mod per second at 16 players and 20 Hz: the rate `check`
/// states a mod's memory growth at.
pub const EVENTS_PER_SECOND: u64 = 320;

/// Game events of the growth probe that are measured, after [`PROBE_WARMUP_EVENTS`].
pub const PROBE_EVENTS: u64 = 20_000;

/// Game events the probe delivers before it measures, so that what a mod allocates once (on
/// its first events) is not taken for growth.
pub const PROBE_WARMUP_EVENTS: u64 = 1_000;

/// The kind of the probe's game events: one no mod knows, so a mod does what it does with an
/// event it ignores (what most of a match's per-tick events are to most mods).
pub const PROBE_EVENT_KIND: &str = "nexori.check.probe";

/// The probe's game events per turn (one tick of a 16-player match), and the virtual time
/// between turns (20 Hz).
const PROBE_EVENTS_PER_TURN: u64 = 16;
const PROBE_TURN_MS: i64 = 50;

/// The probe match's id and its two players.
const PROBE_MATCH: &str = "nexori-check-probe";
const PROBE_PLAYERS: [&str; 2] = [
    "00000000-0000-4000-8000-0000000c4ec1",
    "00000000-0000-4000-8000-0000000c4ec2",
];

/// What the probe match of `check` measured: what the match's instance took of the instance
/// pool, and how its linear memory grew with game events.
#[derive(Debug, Clone, PartialEq)]
pub struct MatchProbe {
    /// What the match's instance took of the pool; `None` when it did not start.
    pub instance: Option<InstanceUse>,
    /// How its memory grew.
    pub growth: Growth,
}

impl MatchProbe {
    fn not_measured(why: impl Into<String>) -> Self {
        Self {
            instance: None,
            growth: Growth::NotMeasured(why.into()),
        }
    }
}

/// What one match's instance takes of the engine's instance pool, as the pooling allocator
/// counted it when the instance started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceUse {
    /// Core (module) instances.
    pub core_instances: u32,
    /// Linear memories.
    pub memories: u32,
    /// Tables.
    pub tables: u32,
}

/// How the linear memory of the probe match's instance grew with game events.
#[derive(Debug, Clone, PartialEq)]
pub enum Growth {
    /// The events were delivered.
    Measured {
        /// Game events measured (after the warm-up).
        events: u64,
        /// Game events delivered before the measured ones (the warm-up).
        warmup: u64,
        /// The memory's size in bytes when the measured events began.
        start: u64,
        /// Each time it grew while they were delivered: how many of them had been delivered when
        /// it was seen, and its new size in bytes.
        steps: Vec<(u64, u64)>,
    },
    /// The match's instance faulted, with the fault as the match's `lastError` says it (after
    /// `RULES_MOD_FAULT: `).
    Faulted {
        /// How many game events had been delivered before the turn it faulted in (the warm-up
        /// counted); `None` when it faulted before the first, as the match started.
        after: Option<u64>,
        /// What the fault policy recorded: `memory limit reached (limits.memoryBytes)`, ...
        fault: String,
    },
    /// The probe could not deliver its events: why.
    NotMeasured(String),
}

/// Bytes a mod's memory grows by per game event, from `steps` (see [`Growth::Measured`]) over
/// `events` events that began at a memory of `start` bytes. Memory grows in 64 KiB pages, and
/// a language runtime asks for more in chunks of its own (the TypeScript `last_standing` 2 MiB
/// at a time): the difference of the sizes before and after would say 315 or 420 bytes of one
/// mod depending on where the last chunk fell. So with two steps or more it is what the mod used up between the
/// first and the last time it had to grow: the memory it had before the last step beyond the
/// one it started with, over the events between the two. With one step, the step over all
/// `events`; with none, 0.
pub fn growth_per_event(start: u64, steps: &[(u64, u64)], events: u64) -> f64 {
    match steps {
        [] => 0.0,
        [(_, size)] => size.saturating_sub(start) as f64 / events.max(1) as f64,
        [(first, _), .., (last, _)] => {
            let before_last = steps[steps.len() - 2].1;
            before_last.saturating_sub(start) as f64 / last.saturating_sub(*first).max(1) as f64
        }
    }
}

/// `check`'s `growth:` line for `growth`, and a warning when a match of 320 game events a
/// second ([`EVENTS_PER_SECOND`]) reaches the memory limit within an hour. The limit is the
/// least of `limits.memoryBytes` and the pool's slot size `slot_bytes`; `name` is the mod's, for
/// `[modLimits.<name>]`.
pub fn growth_lines(
    growth: &Growth,
    limits: &ModLimits,
    slot_bytes: u64,
    name: &str,
) -> Vec<String> {
    let (events, warmup, start, steps) = match growth {
        Growth::Measured {
            events,
            warmup,
            start,
            steps,
        } => (*events, *warmup, *start, steps),
        Growth::Faulted { after, fault } => {
            let when = match after {
                None => "as the probe match started".to_string(),
                Some(n) => format!("after {n} game events of the probe match"),
            };
            return vec![
                format!("growth:     not measured: the mod faulted {when}: {fault}"),
                format!(
                    "warning:    the mod faulted in a match of two players that received only game \
                     events of a kind it does not know ({PROBE_EVENT_KIND}): its matches may \
                     fault the same way"
                ),
            ];
        }
        Growth::NotMeasured(why) => return vec![format!("growth:     not measured: {why}")],
    };
    let per_event = growth_per_event(start, steps, events);
    if steps.is_empty() || per_event <= 0.0 {
        return vec![format!(
            "growth:     +0 bytes per game event over {events} events"
        )];
    }
    // How long a match lasts from its start: the warm-up, then the rest of the memory at the
    // measured rate.
    let lasts = |limit: u64| {
        let events = warmup as f64 + limit.saturating_sub(start) as f64 / per_event;
        Duration::from_secs_f64(events / EVENTS_PER_SECOND as f64)
    };
    let limit = limits.memory_bytes.min(slot_bytes);
    let named = if limits.memory_bytes <= slot_bytes {
        format!("limits.memoryBytes ({})", size(limit))
    } else {
        format!(
            "the instance pool's slot size ({}, below limits.memoryBytes)",
            size(limit)
        )
    };
    let mut lines = vec![format!(
        "growth:     ~{} bytes per game event over {events} events: at {EVENTS_PER_SECOND} \
         events/s (16 players at 20 Hz) {named} lasts about {}",
        bytes_per_event(per_event),
        about(lasts(limit))
    )];
    if lasts(limit) < Duration::from_secs(3600) {
        let raise = if limit < slot_bytes {
            format!(
                "raise memoryBytes in [limits] (or in [modLimits.{name}] for this mod alone), at \
                 most to {}, the instance pool's slot size (about {} at this rate), or keep its \
                 matches short",
                size(slot_bytes),
                about(lasts(slot_bytes))
            )
        } else {
            format!(
                "limits.memoryBytes cannot take it further than the instance pool's slot size \
                 ({}): keep its matches short",
                size(slot_bytes)
            )
        };
        lines.push(format!(
            "warning:    the mod's memory grows with game events and is never given back, so at \
             {EVENTS_PER_SECOND} events/s a match faults with `memory limit reached \
             (limits.memoryBytes)` after about {}: {raise}",
            about(lasts(limit))
        ));
    }
    lines
}

/// `352`, `7.5`: a rate in bytes as precise as it is worth.
fn bytes_per_event(bytes: f64) -> String {
    if bytes < 10.0 {
        format!("{bytes:.1}")
    } else {
        format!("{bytes:.0}")
    }
}

/// A long span as a person would round it: `40 s`, `9 min`, `5 h`, `3 days`.
fn about(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 120.0 {
        format!("{secs:.0} s")
    } else if secs < 120.0 * 60.0 {
        format!("{:.0} min", secs / 60.0)
    } else if secs < 48.0 * 3600.0 {
        format!("{:.0} h", secs / 3600.0)
    } else {
        format!("{:.0} days", secs / 86_400.0)
    }
}

/// `check`'s `instances:` line: the core instances one match's instance takes (`instance`) and
/// how many live matches of the mod the default instance `pool` holds at once. The pool is
/// fixed (no configuration key sizes it).
pub fn instances_line(instance: Option<&InstanceUse>, pool: &PoolSize) -> String {
    let Some(used) = instance else {
        return "instances:  not measured (the probe match's instance did not start)".into();
    };
    let holds = pool.holds(used.core_instances, used.memories, used.tables);
    let mut sizes = vec![
        format!("{} core instances", pool.core_instances),
        format!("{} component instances", pool.component_instances),
    ];
    // Named too when one of them is what runs out first.
    if used.memories > 0 && pool.memories / used.memories == holds {
        sizes.push(format!("{} memories", pool.memories));
    }
    if used.tables > 0 && pool.tables / used.tables == holds {
        sizes.push(format!("{} tables", pool.tables));
    }
    format!(
        "instances:  {} core instances per match: the instance pool (fixed: {}) holds {holds} \
         live matches of this mod",
        used.core_instances,
        sizes.join(", ")
    )
}

/// Plays the probe match in `host` (which has the mod loaded and no match): a match of
/// `rules_engine_id` with two players, who arrive and are placed so that it starts, then
/// [`PROBE_WARMUP_EVENTS`] and [`PROBE_EVENTS`] game events of kind [`PROBE_EVENT_KIND`] in
/// turns of 16, 50 ms of virtual time apart. The match's instance's memory is read after every
/// turn ([`ArenaHost::match_memory_bytes`]), and what it took of the instance pool from the
/// pooling allocator's counts. Nothing leaves the process: `check`'s host records results in
/// memory and sends its commands nowhere.
fn probe_match(host: &mut ArenaHost, rules_engine_id: &str) -> MatchProbe {
    let metrics = host.engine().pooling_allocator_metrics();
    let counts = || {
        metrics
            .as_ref()
            .map(|m| (m.core_instances(), m.memories() as u64, m.tables() as u64))
    };
    let before = counts();
    let players: Vec<serde_json::Value> = PROBE_PLAYERS
        .iter()
        .enumerate()
        .map(|(n, uuid)| serde_json::json!({"uuid": uuid, "name": format!("Probe{}", n + 1)}))
        .collect();
    let mut setup = vec![serde_json::json!({
        "type": "match.create", "matchId": PROBE_MATCH, "queueId": "nexori-check",
        "arenaId": "nexori-check", "rulesEngineId": rules_engine_id,
        "expectedPlayers": players,
    })];
    for (n, uuid) in PROBE_PLAYERS.iter().enumerate() {
        setup.push(
            serde_json::json!({"type": "player.arrive", "matchId": PROBE_MATCH,
            "player": uuid, "name": format!("Probe{}", n + 1)}),
        );
    }
    for uuid in PROBE_PLAYERS {
        setup.push(
            serde_json::json!({"type": "player.placed", "matchId": PROBE_MATCH, "player": uuid}),
        );
    }
    for message in setup {
        let kind = message["type"].as_str().unwrap_or_default().to_string();
        let applied = bridge::parse(&message)
            .map_err(|e| e.to_string())
            .and_then(|m| host.apply(m).map_err(|e| e.to_string()));
        if let Err(error) = applied {
            return MatchProbe::not_measured(format!(
                "the probe match's {kind} was refused: {error}"
            ));
        }
        drop(host.take_commands());
    }
    let Some(mut memory) = host.match_memory_bytes(PROBE_MATCH) else {
        return MatchProbe {
            instance: None,
            growth: gone(host, None),
        };
    };
    let instance = before.zip(counts()).map(|(before, now)| {
        let delta = |b: u64, n: u64| u32::try_from(n.saturating_sub(b)).unwrap_or(u32::MAX);
        InstanceUse {
            core_instances: delta(before.0, now.0),
            memories: delta(before.1, now.1),
            tables: delta(before.2, now.2),
        }
    });
    let total = PROBE_WARMUP_EVENTS + PROBE_EVENTS;
    let mut start = memory as u64;
    let mut steps = Vec::new();
    let mut sent = 0u64;
    while sent < total {
        let turn = PROBE_EVENTS_PER_TURN.min(total - sent);
        let events = (0..turn).map(|i| {
            let n = sent + i;
            BridgeMessage::GameEvent(GameEventMessage {
                match_id: PROBE_MATCH.into(),
                kind: PROBE_EVENT_KIND.into(),
                player: uuid::Uuid::parse_str(PROBE_PLAYERS[(n % 2) as usize]).ok(),
                data: Some(format!("{{\"n\":{n}}}")),
            })
        });
        let results = host.apply_turn(events.collect::<Vec<_>>());
        drop(host.take_commands());
        let Some(now) = host.match_memory_bytes(PROBE_MATCH) else {
            return MatchProbe {
                instance,
                growth: gone(host, Some(sent)),
            };
        };
        if let Some((i, Err(error))) = results.into_iter().enumerate().find(|(_, r)| r.is_err()) {
            return MatchProbe {
                instance,
                growth: Growth::NotMeasured(format!(
                    "the probe match refused game event {}: {error}",
                    sent + i as u64 + 1
                )),
            };
        }
        sent += turn;
        if sent <= PROBE_WARMUP_EVENTS {
            start = now as u64;
        } else if now != memory {
            steps.push((sent - PROBE_WARMUP_EVENTS, now as u64));
        }
        memory = now;
        let next = host.now() + PROBE_TURN_MS;
        host.advance_to(next);
    }
    MatchProbe {
        instance,
        growth: Growth::Measured {
            events: PROBE_EVENTS,
            warmup: PROBE_WARMUP_EVENTS,
            start,
            steps,
        },
    }
}

/// Why the probe match has no instance any more, `after` that many game events (`None`: before
/// the first): the fault the fault policy recorded in its `lastError`, or else that it ended.
fn gone(host: &ArenaHost, after: Option<u64>) -> Growth {
    let last_error = lock(host.shared())
        .arena
        .get_any(PROBE_MATCH)
        .map(|m| m.last_error.clone())
        .unwrap_or_default();
    let prefix = format!("{RULES_MOD_FAULT}: ");
    match last_error.strip_prefix(&prefix) {
        Some(fault) => Growth::Faulted {
            after,
            fault: fault.to_string(),
        },
        None => match after {
            None => {
                Growth::NotMeasured("the probe match's instance did not start (see the log)".into())
            }
            Some(n) => Growth::NotMeasured(format!(
                "the probe match ended after {n} of its {} game events",
                PROBE_WARMUP_EVENTS + PROBE_EVENTS
            )),
        },
    }
}

/// `check`'s own host: `config`'s settings, a small instance pool, virtual time, results kept in
/// memory and commands sent nowhere, compiled mods taken from and stored in `cache`.
fn check_host(config: &HostConfig, cache: Option<&Path>) -> anyhow::Result<ArenaHost> {
    let reporter = RecordingReporter::new(config.reporting(), IdGenerator::Random);
    let settings = EngineSettings {
        max_instances: 4,
        ..EngineSettings::default()
    };
    let mut host = ArenaHost::new(
        config.host_settings(),
        HostClock::Virtual(VirtualClock::new(0)),
        Box::new(reporter),
        false,
        &settings,
    )?;
    if let Some(dir) = cache {
        host.set_compile_cache(dir.to_path_buf());
    }
    Ok(host)
}

/// The compile cache of `nexori check` and `nexori simulate`: `dir` (`--cache-dir` or
/// `NEXORI_CACHE_DIR`), else `$XDG_CACHE_HOME/nexori/compiled`, else
/// `$HOME/.cache/nexori/compiled`; `None` with `--no-cache` (`no_cache`) or when neither variable
/// gives an absolute directory. `nexori serve` and `stdio` use `dataDir/compiled` instead.
pub fn cli_cache_dir(
    dir: Option<std::path::PathBuf>,
    no_cache: bool,
) -> Option<std::path::PathBuf> {
    if no_cache {
        return None;
    }
    if dir.is_some() {
        return dir;
    }
    // The XDG base directory spec: a relative path is invalid and to be ignored.
    let absolute = |name: &str| {
        std::env::var_os(name)
            .map(std::path::PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|cache| cache.join("nexori").join("compiled"))
}

/// What a component's `producers` custom sections say about the toolchain that built it, as
/// `nexori check` prints it: the component's own section (`JavaScript (wit-component 0.258.0,
/// ComponentizeJS 0.23.0)`), and when that names no language, what its core modules' sections
/// name together (a Rust build names `Rust (rustc 1.95.0 (…), …)` there; a stripped one keeps
/// only the tools). Each value is `name version` as recorded.
#[derive(Debug, PartialEq, Eq)]
pub struct Toolchain {
    /// The component's own section: `<languages> (<tools>)`, `<tools> (no language named)`, or
    /// `not recorded (no producers section)`; `; sdk <sdks>` when it names one.
    pub component: String,
    /// The core modules' sections merged (a tool the component line names at the same version
    /// left out), when the component names no language and a module has a section.
    pub modules: Option<String>,
    /// The language the mod was written in, and the toolchain that made it a component, as far as
    /// the component tells (see [`language`]): `Python 3.14 (componentize-py)`, `JavaScript
    /// (ComponentizeJS 0.23.0)`, `Rust (wit-bindgen-rust 0.45.0)`, ...
    pub language: String,
}

/// Reads the [`Toolchain`] from a component's (or a core module's) bytes.
pub fn toolchain(bytes: &[u8]) -> Toolchain {
    let Some(Sections {
        producers: sections,
        libraries,
    }) = sections(bytes)
    else {
        return Toolchain {
            component: "unknown (the file could not be read for its producers sections)".into(),
            modules: None,
            language: "unknown (the file could not be read)".into(),
        };
    };
    let language = language(&sections, &libraries);
    let (top, inner): (Vec<&Producers>, Vec<&Producers>) =
        sections.iter().partition(|s| s.depth == 1);
    let component = describe(&top, &[]);
    let modules = if top.iter().any(|s| !s.field("language").is_empty()) || inner.is_empty() {
        None
    } else {
        let known: Vec<&(String, String)> = top.iter().flat_map(|s| s.values()).collect();
        Some(describe(&inner, &known))
    };
    Toolchain {
        component: component.unwrap_or_else(|| "not recorded (no producers section)".into()),
        modules: modules.flatten(),
        language,
    }
}

/// The language a mod was written in, from what the component records of it, first match wins:
///
/// 1. the component's own producers section names a language (componentize-js does): that, with
///    the tools that section names besides wit-component (`JavaScript (ComponentizeJS 0.23.0)`);
/// 2. a core module is CPython's shared library, `libpython3.14.so` (componentize-py links the
///    interpreter dynamically but records no language): `Python 3.14`, with `(componentize-py)`
///    when its runtime library, `componentize_py_runtime`, is linked too;
/// 3. a core module was processed by wit-bindgen-rust (the bindings of a Rust mod, the
///    nexori-sdk's among them; kept in a stripped build): `Rust (wit-bindgen-rust 0.45.0)`, with
///    rustc's version first when that module names it;
/// 4. the languages the core modules name (an unstripped build in another language);
/// 5. else `unknown`.
///
/// For Python, the library names are the evidence rather than strings in the code (a
/// `componentize-py` in an error message could be any mod's text, and moves between versions):
/// they are what the dynamic linking that built the component resolved, in the `dylink.0`
/// sections' `needed` lists (which a `strip` of names and debug sections keeps), and also in the
/// modules' name sections and the component's `component-name` section. The `libpython` name
/// carries the interpreter's version, which is what a mod's code depends on; componentize-py
/// records its own version nowhere in the component.
fn language(sections: &[Producers], libraries: &[String]) -> String {
    let (top, inner): (Vec<&Producers>, Vec<&Producers>) =
        sections.iter().partition(|s| s.depth == 1);
    let names = |sections: &[&Producers], field: &str, skip: &[&str]| {
        let mut names: Vec<String> = Vec::new();
        for (name, version) in sections.iter().flat_map(|s| s.field(field)) {
            let text = if version.is_empty() {
                name.clone()
            } else {
                format!("{name} {version}")
            };
            if !skip.contains(&name.as_str()) && !names.contains(&text) {
                names.push(text);
            }
        }
        names
    };
    let with_tools = |language: String, tools: Vec<String>| {
        if tools.is_empty() {
            language
        } else {
            format!("{language} ({})", tools.join(", "))
        }
    };
    let languages = names(&top, "language", &[]);
    if !languages.is_empty() {
        let tools = names(&top, "processed-by", &["wit-component"]);
        return with_tools(languages.join(", "), tools);
    }
    let python = libraries.iter().find_map(|lib| {
        let version = lib.strip_prefix("libpython")?.strip_suffix(".so")?;
        let is_version = !version.is_empty()
            && version.starts_with(|c: char| c.is_ascii_digit())
            && version.chars().all(|c| c.is_ascii_digit() || c == '.');
        is_version.then(|| format!("Python {version}"))
    });
    if let Some(python) = python {
        let componentize_py = libraries
            .iter()
            .any(|lib| lib.contains("componentize_py_runtime"));
        return if componentize_py {
            format!("{python} (componentize-py)")
        } else {
            python
        };
    }
    let rust = inner.iter().find(|s| {
        s.field("processed-by")
            .iter()
            .any(|(name, _)| name == "wit-bindgen-rust")
    });
    if let Some(rust) = rust {
        let tool = |wanted: &str| {
            rust.field("processed-by")
                .iter()
                .find(|(name, _)| name == wanted)
                .map(|(name, version)| format!("{name} {version}").trim_end().to_string())
        };
        let tools = [tool("rustc"), tool("wit-bindgen-rust")];
        return with_tools("Rust".into(), tools.into_iter().flatten().collect());
    }
    let languages = names(&inner, "language", &[]);
    if !languages.is_empty() {
        return format!("{} (named by its core modules)", languages.join(", "));
    }
    "unknown (neither the component nor its modules name one)".into()
}

/// `sections` merged into one description (see [`Toolchain`]), leaving out `(name, version)`s
/// in `known`; `None` when nothing is left.
fn describe(sections: &[&Producers], known: &[&(String, String)]) -> Option<String> {
    let merged = |field: &str| {
        let mut values: Vec<String> = Vec::new();
        for value @ (name, version) in sections.iter().flat_map(|s| s.field(field)) {
            if known.contains(&value) {
                continue;
            }
            let text = if version.is_empty() {
                name.clone()
            } else {
                format!("{name} {version}")
            };
            if !values.contains(&text) {
                values.push(text);
            }
        }
        values.join(", ")
    };
    let (language, tools, sdk) = (merged("language"), merged("processed-by"), merged("sdk"));
    let mut text = match (language.is_empty(), tools.is_empty()) {
        (false, false) => format!("{language} ({tools})"),
        (false, true) => language,
        (true, false) => format!("{tools} (no language named)"),
        (true, true) if sdk.is_empty() => return None,
        (true, true) => "no language named".into(),
    };
    if !sdk.is_empty() {
        write!(text, "; sdk {sdk}").expect("a String takes any write");
    }
    Some(text)
}

/// One `producers` section: where it is (1 = the component itself, 2 = a module or component
/// in it, ...) and its fields with their `(name, version)` values.
struct Producers {
    depth: usize,
    fields: Vec<(String, Vec<(String, String)>)>,
}

impl Producers {
    fn field(&self, name: &str) -> &[(String, String)] {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&[], |(_, values)| values.as_slice())
    }

    fn values(&self) -> impl Iterator<Item = &(String, String)> {
        self.fields.iter().flat_map(|(_, values)| values)
    }
}

/// What a component's custom sections say about how it was built.
struct Sections {
    /// Every `producers` section, in file order.
    producers: Vec<Producers>,
    /// The names of the libraries its core modules are and link (see [`language`]).
    libraries: Vec<String>,
}

/// Reads the [`Sections`] of a component or module; `None` when the bytes do not parse (the
/// loader has then said what is wrong already). A name or `dylink.0` section that does not parse
/// is skipped: they only add evidence.
fn sections(bytes: &[u8]) -> Option<Sections> {
    let mut sections = Vec::new();
    let mut libraries: Vec<String> = Vec::new();
    let mut library = |name: &str| {
        if !libraries.iter().any(|l| l == name) {
            libraries.push(name.to_string());
        }
    };
    let mut depth = 0;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.ok()? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth -= 1,
            Payload::CustomSection(custom) => {
                let reader = match custom.as_known() {
                    KnownCustom::Producers(reader) => reader,
                    KnownCustom::Dylink0(reader) => {
                        for subsection in reader.into_iter().flatten() {
                            if let Dylink0Subsection::Needed(needed) = subsection {
                                needed.into_iter().for_each(&mut library);
                            }
                        }
                        continue;
                    }
                    KnownCustom::Name(reader) => {
                        for name in reader.into_iter().flatten() {
                            if let Name::Module { name, .. } = name {
                                library(name);
                            }
                        }
                        continue;
                    }
                    KnownCustom::ComponentName(reader) => {
                        for name in reader.into_iter().flatten() {
                            if let ComponentName::CoreModules(names) = name {
                                for naming in names.into_iter().flatten() {
                                    library(naming.name);
                                }
                            }
                        }
                        continue;
                    }
                    _ => continue,
                };
                let mut fields = Vec::new();
                for field in reader {
                    let field = field.ok()?;
                    let values = field
                        .values
                        .into_iter()
                        .map(|v| v.map(|v| (v.name.to_string(), v.version.to_string())))
                        .collect::<Result<Vec<_>, _>>()
                        .ok()?;
                    fields.push((field.name.to_string(), values));
                }
                sections.push(Producers { depth, fields });
            }
            _ => {}
        }
    }
    Some(Sections {
        producers: sections,
        libraries,
    })
}

/// What `check` says of the probe instance against the mod's limits (every match's instance
/// starts the same way): its memory after `init` against `limits.memoryBytes`, the time of
/// instantiating it and running `init` against `limits.callbackDeadlineMs`, and a warning naming
/// the key to raise for each past half its limit. `name` is the mod's, for `[modLimits.<name>]`.
pub fn probe_use(probe: &ProbeUse, limits: &ModLimits, name: &str) -> Vec<String> {
    let memory = probe.memory_bytes;
    let deadline = Duration::from_millis(limits.callback_deadline_ms);
    let mut lines = vec![
        format!(
            "memory:     {} after init (limits.memoryBytes: {})",
            mebibytes(memory),
            size(limits.memory_bytes)
        ),
        format!(
            "init:       {} (limits.callbackDeadlineMs: {} ms)",
            if probe.init_took < Duration::from_millis(1) {
                "under 1 ms".to_string()
            } else {
                duration(probe.init_took)
            },
            limits.callback_deadline_ms
        ),
    ];
    let raise = |key: &str| {
        format!("raise {key} in [limits] (or in [modLimits.{name}] for this mod alone)")
    };
    if memory.saturating_mul(2) > limits.memory_bytes {
        lines.push(format!(
            "warning:    the mod uses more than half of limits.memoryBytes before its first \
             callback: {}, or its matches may fault with `memory limit reached`",
            raise("memoryBytes")
        ));
    }
    if probe.init_took.saturating_mul(2) > deadline {
        lines.push(format!(
            "warning:    init took more than half of limits.callbackDeadlineMs: {}, or its \
             matches may fault with `deadline exceeded` as they start",
            raise("callbackDeadlineMs")
        ));
    }
    lines
}

/// `12.8 MiB`.
fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
}

/// A limit in bytes as it is best said: `64 MiB`, `512 KiB`, `1000 bytes`.
fn size(bytes: u64) -> String {
    if bytes != 0 && bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else if bytes != 0 && bytes.is_multiple_of(1 << 10) {
        format!("{} KiB", bytes >> 10)
    } else {
        format!("{bytes} bytes")
    }
}

/// `compiled in 5.8 s; stored in the compile cache DIR`, `taken from the compile cache DIR in
/// 40 ms`, ...
fn compilation(compilation: &Compilation, cache: Option<&Path>) -> String {
    let took = duration(compilation.took);
    let dir = cache.map_or_else(String::new, |d| d.display().to_string());
    match compilation.source {
        CompileSource::Cache => format!("taken from the compile cache in {took} ({dir})"),
        CompileSource::CompiledAndCached => {
            format!("compiled in {took}; stored in the compile cache ({dir})")
        }
        CompileSource::CompiledCacheUnusable => {
            format!("compiled in {took}; the compile cache {dir} could not be used (see the log)")
        }
        CompileSource::Compiled => format!("compiled in {took} (no compile cache)"),
    }
}

/// `5.8 s`, `40 ms`.
fn duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A producers section: its fields, each with `(name, version)` values.
    type Section<'a> = &'a [(&'a str, &'a [(&'a str, &'a str)])];

    /// A component holding `sections` as producers sections, the first at its top level and
    /// each other in a core module of its own.
    fn component(sections: &[Section]) -> Vec<u8> {
        fn leb(mut n: usize, out: &mut Vec<u8>) {
            loop {
                let byte = (n & 0x7f) as u8;
                n >>= 7;
                if n == 0 {
                    out.push(byte);
                    return;
                }
                out.push(byte | 0x80);
            }
        }
        fn string(s: &str, out: &mut Vec<u8>) {
            leb(s.len(), out);
            out.extend_from_slice(s.as_bytes());
        }
        fn custom(fields: Section) -> Vec<u8> {
            let mut body = Vec::new();
            string("producers", &mut body);
            leb(fields.len(), &mut body);
            for (name, values) in fields {
                string(name, &mut body);
                leb(values.len(), &mut body);
                for (value, version) in *values {
                    string(value, &mut body);
                    string(version, &mut body);
                }
            }
            let mut section = vec![0];
            leb(body.len(), &mut section);
            section.extend(body);
            section
        }
        let mut out = b"\0asm\x0d\0\x01\0".to_vec();
        // wit-component writes the component's own section last, after its modules.
        for (i, fields) in sections
            .iter()
            .enumerate()
            .skip(1)
            .chain([(0, &sections[0])])
        {
            if i == 0 {
                out.extend(custom(fields));
            } else {
                let mut module = b"\0asm\x01\0\0\0".to_vec();
                module.extend(custom(fields));
                out.push(1); // a core module section
                leb(module.len(), &mut out);
                out.extend(module);
            }
        }
        out
    }

    #[test]
    fn the_component_says_its_language() {
        let bytes = component(&[
            &[
                (
                    "processed-by",
                    &[("wit-component", "0.258.0"), ("ComponentizeJS", "0.23.0")],
                ),
                ("language", &[("JavaScript", "")]),
            ],
            &[
                ("language", &[("C11", "")]),
                ("processed-by", &[("clang", "21")]),
            ],
        ]);
        assert_eq!(
            toolchain(&bytes),
            Toolchain {
                component: "JavaScript (wit-component 0.258.0, ComponentizeJS 0.23.0)".into(),
                modules: None,
                language: "JavaScript (ComponentizeJS 0.23.0)".into(),
            }
        );
    }

    #[test]
    fn else_its_modules_say_what_they_can() {
        // A Rust build: the language is in the module.
        let bytes = component(&[
            &[("processed-by", &[("wit-component", "0.245.1")])],
            &[
                ("language", &[("Rust", ""), ("C11", "")]),
                (
                    "processed-by",
                    &[
                        ("rustc", "1.95.0 (17067e9ac 2026-01-01)"),
                        ("wit-bindgen-rust", "0.61.1"),
                    ],
                ),
                ("sdk", &[("nexori-sdk", "0.1.0")]),
            ],
            &[(
                "processed-by",
                &[("wit-component", "0.245.1"), ("wit-component", "0.244.0")],
            )],
        ]);
        assert_eq!(
            toolchain(&bytes),
            Toolchain {
                component: "wit-component 0.245.1 (no language named)".into(),
                modules: Some(
                    "Rust, C11 (rustc 1.95.0 (17067e9ac 2026-01-01), wit-bindgen-rust 0.61.1, \
                     wit-component 0.244.0); sdk nexori-sdk 0.1.0"
                        .into()
                ),
                language: "Rust (rustc 1.95.0 (17067e9ac 2026-01-01), wit-bindgen-rust 0.61.1)"
                    .into(),
            }
        );
        // Modules that add nothing, and no section at all.
        let bare = component(&[
            &[("processed-by", &[("wit-component", "0.245.1")])],
            &[("processed-by", &[("wit-component", "0.245.1")])],
        ]);
        assert_eq!(toolchain(&bare).modules, None);
        assert_eq!(
            toolchain(&bare).language,
            "unknown (neither the component nor its modules name one)"
        );
        assert_eq!(
            toolchain(b"\0asm\x0d\0\x01\0").component,
            "not recorded (no producers section)"
        );
        // A stripped Rust build: the bindings generator still says it.
        let stripped = component(&[
            &[("processed-by", &[("wit-component", "0.245.1")])],
            &[(
                "processed-by",
                &[
                    ("wit-component", "0.244.0"),
                    ("wit-bindgen-rust", "0.45.0"),
                    ("wit-bindgen-c", "0.51.0"),
                ],
            )],
        ]);
        assert_eq!(
            toolchain(&stripped).language,
            "Rust (wit-bindgen-rust 0.45.0)"
        );
    }

    /// A custom section named `name` holding `body`.
    fn custom_section(name: &str, body: &[u8]) -> Vec<u8> {
        let mut content = vec![name.len() as u8];
        content.extend_from_slice(name.as_bytes());
        content.extend_from_slice(body);
        let mut section = vec![0, content.len() as u8];
        assert!(content.len() < 0x80, "one-byte sizes");
        section.extend(content);
        section
    }

    /// A core module whose name section names it `name` and whose `dylink.0` section says it
    /// needs `needed`.
    fn library(name: &str, needed: &[&str]) -> Vec<u8> {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        let mut dylink = vec![2]; // WASM_DYLINK_NEEDED
        let mut list = vec![needed.len() as u8];
        for lib in needed {
            list.push(lib.len() as u8);
            list.extend_from_slice(lib.as_bytes());
        }
        dylink.push(list.len() as u8);
        dylink.extend(list);
        module.extend(custom_section("dylink.0", &dylink));
        let mut names = vec![0, name.len() as u8 + 1, name.len() as u8]; // the module's name
        names.extend_from_slice(name.as_bytes());
        module.extend(custom_section("name", &names));
        module
    }

    #[test]
    fn a_componentize_py_component_is_python_by_its_libraries() {
        // The component and its modules record no language; the WASI adapter module says Rust.
        let mut bytes = component(&[
            &[(
                "processed-by",
                &[
                    ("wit-component", "0.245.1"),
                    ("component-init-transform", "0.2.0"),
                ],
            )],
            &[
                ("language", &[("Rust", "")]),
                (
                    "processed-by",
                    &[("rustc", "1.75.0 (82e1608df 2023-12-21)")],
                ),
            ],
        ]);
        for module in [
            library("libpython3.14.so", &["libc.so"]),
            library(
                "componentize_py_runtime.wasm",
                &["libc.so", "libpython3.14.so"],
            ),
        ] {
            bytes.push(1);
            bytes.push(module.len() as u8);
            bytes.extend(module);
        }
        let toolchain = toolchain(&bytes);
        assert_eq!(toolchain.language, "Python 3.14 (componentize-py)");
        // The lines that were there before stay as they were.
        assert_eq!(
            toolchain.component,
            "wit-component 0.245.1, component-init-transform 0.2.0 (no language named)"
        );
        assert_eq!(
            toolchain.modules.as_deref(),
            Some("Rust (rustc 1.75.0 (82e1608df 2023-12-21))")
        );
        // The interpreter alone (its name only in the `needed` list of another module).
        let mut bytes = component(&[&[("processed-by", &[("wit-component", "0.245.1")])]]);
        let module = library("main", &["libpython3.12.so"]);
        bytes.push(1);
        bytes.push(module.len() as u8);
        bytes.extend(module);
        assert_eq!(super::toolchain(&bytes).language, "Python 3.12");
    }

    #[test]
    fn check_says_what_init_used_and_warns_past_half_a_limit() {
        let limits = ModLimits::default();
        let probe = ProbeUse {
            memory_bytes: 13_369_344,
            init_took: Duration::from_millis(9),
        };
        assert_eq!(
            probe_use(&probe, &limits, "last_standing"),
            [
                "memory:     12.8 MiB after init (limits.memoryBytes: 64 MiB)",
                "init:       9 ms (limits.callbackDeadlineMs: 250 ms)",
            ]
        );
        let probe = ProbeUse {
            memory_bytes: 40 << 20,
            init_took: Duration::from_millis(130),
        };
        assert_eq!(
            probe_use(&probe, &limits, "big"),
            [
                "memory:     40.0 MiB after init (limits.memoryBytes: 64 MiB)",
                "init:       130 ms (limits.callbackDeadlineMs: 250 ms)",
                "warning:    the mod uses more than half of limits.memoryBytes before its first \
                 callback: raise memoryBytes in [limits] (or in [modLimits.big] for this mod \
                 alone), or its matches may fault with `memory limit reached`",
                "warning:    init took more than half of limits.callbackDeadlineMs: raise \
                 callbackDeadlineMs in [limits] (or in [modLimits.big] for this mod alone), or \
                 its matches may fault with `deadline exceeded` as they start",
            ]
        );
        let quick = ProbeUse {
            memory_bytes: 1_114_112,
            init_took: Duration::from_micros(300),
        };
        assert_eq!(
            probe_use(&quick, &limits, "m")[1],
            "init:       under 1 ms (limits.callbackDeadlineMs: 250 ms)"
        );
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(size(512 << 10), "512 KiB");
    }

    #[test]
    fn growth_per_event_is_what_the_mod_used_up_between_its_first_and_last_step() {
        // No page added: 0.
        assert_eq!(growth_per_event(9 << 20, &[], 20_000), 0.0);
        // The TypeScript mod (componentize-js 0.23.0) as measured: its memory grows 2 MiB at a
        // time, every 6 288 events. Sizes before and after would say 315 or 420 bytes; the
        // steps say 333.5, the same in any window.
        let start = 9_502_720;
        let steps = [
            (2_616, 11_599_872),
            (8_904, 13_697_024),
            (15_192, 15_794_176),
        ];
        let rate =
            |steps: &[(u64, u64)], events| format!("{:.1}", growth_per_event(start, steps, events));
        assert_eq!(rate(&steps, 20_000), "333.5");
        assert_eq!(rate(&steps[..2], 10_000), "333.5");
        // One step: the step over all the events.
        assert_eq!(rate(&steps[..1], 10_000), "209.7");
        // A mod that uses 100 bytes per event, growing a 64 KiB page each time it runs out.
        let page = 65_536u64;
        let used = |event: u64| 1_000_000 + 100 * event;
        let mut size = 1_048_576;
        let mut steps = Vec::new();
        for event in 1..=10_000 {
            if used(event) > size {
                size += page;
                steps.push((event, size));
            }
        }
        let rate = growth_per_event(1_048_576, &steps, 10_000);
        assert!((rate - 100.0).abs() < 0.1, "{rate}");
    }

    fn measured(steps: &[(u64, u64)]) -> Growth {
        Growth::Measured {
            events: 20_000,
            warmup: 1_000,
            start: 9_502_720,
            steps: steps.to_vec(),
        }
    }

    #[test]
    fn check_says_how_long_a_growing_mod_lasts_and_warns_under_an_hour() {
        let limits = ModLimits::default();
        let slot = 256 << 20;
        assert_eq!(
            growth_lines(&measured(&[]), &limits, slot, "m"),
            ["growth:     +0 bytes per game event over 20000 events"]
        );
        let ts = measured(&[
            (2_616, 11_599_872),
            (8_904, 13_697_024),
            (15_192, 15_794_176),
        ]);
        // (1 000 + (64 MiB - 9.06 MiB) / 333.5 B) / 320 per s = 543 s.
        assert_eq!(
            growth_lines(&ts, &limits, slot, "last_standing"),
            [
                "growth:     ~334 bytes per game event over 20000 events: at 320 events/s (16 \
                 players at 20 Hz) limits.memoryBytes (64 MiB) lasts about 9 min",
                "warning:    the mod's memory grows with game events and is never given back, so \
                 at 320 events/s a match faults with `memory limit reached \
                 (limits.memoryBytes)` after about 9 min: raise memoryBytes in [limits] (or in \
                 [modLimits.last_standing] for this mod alone), at most to 256 MiB, the \
                 instance pool's slot size (about 40 min at this rate), or keep its matches \
                 short",
            ]
        );
        // At the slot size already: nothing left to raise.
        let at_slot = ModLimits {
            memory_bytes: slot,
            ..ModLimits::default()
        };
        let lines = growth_lines(&ts, &at_slot, slot, "m");
        assert_eq!(
            lines[0],
            "growth:     ~334 bytes per game event over 20000 events: at 320 events/s (16 \
             players at 20 Hz) limits.memoryBytes (256 MiB) lasts about 40 min"
        );
        assert!(
            lines[1].ends_with(
                "after about 40 min: limits.memoryBytes cannot take it further than the \
                 instance pool's slot size (256 MiB): keep its matches short"
            ),
            "{}",
            lines[1]
        );
        // One 64 KiB page over the 20 000 events: 3.3 bytes each, 17 hours; no warning.
        assert_eq!(
            growth_lines(&measured(&[(12_000, 9_568_256)]), &limits, slot, "m"),
            [
                "growth:     ~3.3 bytes per game event over 20000 events: at 320 events/s (16 \
              players at 20 Hz) limits.memoryBytes (64 MiB) lasts about 15 h"
            ]
        );
    }

    #[test]
    fn check_says_when_the_probe_match_faulted_or_could_not_run() {
        let limits = ModLimits::default();
        let faulted = Growth::Faulted {
            after: Some(4_096),
            fault: "trap: unreachable (the mod panicked or aborted): boom".into(),
        };
        let lines = growth_lines(&faulted, &limits, 256 << 20, "m");
        assert_eq!(
            lines[0],
            "growth:     not measured: the mod faulted after 4096 game events of the probe \
             match: trap: unreachable (the mod panicked or aborted): boom"
        );
        assert!(lines[1].starts_with("warning:    the mod faulted in a match"));
        let at_start = Growth::Faulted {
            after: None,
            fault: "init failed: no".into(),
        };
        assert_eq!(
            growth_lines(&at_start, &limits, 256 << 20, "m")[0],
            "growth:     not measured: the mod faulted as the probe match started: init failed: no"
        );
        assert_eq!(
            growth_lines(
                &Growth::NotMeasured(
                    "the probe match ended after 32 of its 21000 game events".into()
                ),
                &limits,
                256 << 20,
                "m"
            ),
            ["growth:     not measured: the probe match ended after 32 of its 21000 game events"]
        );
    }

    #[test]
    fn check_says_how_many_live_matches_of_the_mod_the_pool_holds() {
        let pool = EngineSettings::default().pool();
        let python = InstanceUse {
            core_instances: 14,
            memories: 1,
            tables: 3,
        };
        assert_eq!(
            instances_line(Some(&python), &pool),
            "instances:  14 core instances per match: the instance pool (fixed: 8000 core \
             instances, 1000 component instances) holds 571 live matches of this mod"
        );
        let rust = InstanceUse {
            core_instances: 3,
            memories: 1,
            tables: 1,
        };
        assert_eq!(
            instances_line(Some(&rust), &pool),
            "instances:  3 core instances per match: the instance pool (fixed: 8000 core \
             instances, 1000 component instances) holds 1000 live matches of this mod"
        );
        // Two memories each: the memories run out with the component instances, and are named.
        let two = InstanceUse {
            core_instances: 4,
            memories: 2,
            tables: 1,
        };
        assert!(instances_line(Some(&two), &pool).contains(
            "(fixed: 8000 core instances, 1000 component instances, 2000 memories) holds 1000"
        ),);
        assert_eq!(
            instances_line(None, &pool),
            "instances:  not measured (the probe match's instance did not start)"
        );
    }

    /// The probe match of the TypeScript `last_standing` (which grows 2 MiB at a time, see
    /// above) under a `memoryBytes` that leaves it one step: the fault is said, not a crash.
    #[test]
    fn the_probe_match_says_a_fault_of_the_mod() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../target/nexori-lang-mods/ts/last_standing.wasm");
        let bytes = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}: build it with `cargo xtask build-mods` (which needs Node.js)",
                path.display()
            )
        });
        let mut config = HostConfig::default();
        config.limits.memory_bytes = 10 << 20;
        // The compile cache the cross-language tests share: compiling the mod takes seconds.
        let cache =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-test-cache/compiled");
        let mut host = check_host(&config, Some(&cache)).unwrap();
        host.load_mod("last_standing", &bytes).unwrap();
        let probe = probe_match(&mut host, "last_standing");
        assert_eq!(
            probe.instance.map(|i| i.core_instances),
            Some(4),
            "{probe:?}"
        );
        let Growth::Faulted {
            after: Some(after),
            fault,
        } = &probe.growth
        else {
            panic!("{probe:?}")
        };
        assert_eq!(fault, "memory limit reached (limits.memoryBytes)");
        // At its first step (2 616 events after the warm-up of 1 000 when this was written).
        assert!(*after > 1_000 && *after < 10_000, "{after}");
        let lines = growth_lines(&probe.growth, &config.limits, 256 << 20, "last_standing");
        assert_eq!(
            lines[0],
            format!(
                "growth:     not measured: the mod faulted after {after} game events of the probe \
                 match: memory limit reached (limits.memoryBytes)"
            )
        );
    }

    #[test]
    fn long_spans_read_as_a_person_would_say_them() {
        assert_eq!(about(Duration::from_secs(40)), "40 s");
        assert_eq!(about(Duration::from_secs(543)), "9 min");
        assert_eq!(about(Duration::from_secs(5 * 3600)), "5 h");
        assert_eq!(about(Duration::from_secs(3 * 86_400)), "3 days");
    }

    #[test]
    fn durations_read_as_a_person_would_say_them() {
        assert_eq!(duration(Duration::from_millis(5_840)), "5.8 s");
        assert_eq!(duration(Duration::from_millis(40)), "40 ms");
    }
}
