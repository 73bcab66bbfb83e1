//! Scenario files and `nexori simulate` (see docs/scenarios.md, docs/bridge-protocol.md#scenario-files
//! and docs/bridge-protocol.md#the-trace-nexori-simulate---json).

pub mod expect;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::config::HostConfig;
use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::bridge::{self, BridgeError, MESSAGE_TYPES};
use nexori_host::host_state::lock;
use nexori_host::wasm::engine::EngineSettings;
use nexori_protocol::trace::TraceEntry;
use nexori_reporting::IdGenerator;
use nexori_runtime::clock::VirtualClock;

use expect::{Expectation, ExpectationOutcome};

pub const DEFAULT_START_EPOCH_MS: i64 = 1_760_000_000_000;
/// The step type of an expectation (docs/scenarios.md#expect): scenario files only.
pub const EXPECT: &str = "expect";
/// The server id of simulations that do not set one.
pub const SIMULATION_SERVER_ID: &str = "00000000-0000-4000-8000-00000000a11e";

/// Why a scenario could not run (exit status 2).
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {error}")]
    Read { path: String, error: String },
    #[error("scenario is not valid JSON: {0}")]
    Json(String),
    #[error("scenario: {0}")]
    Shape(String),
    #[error("scenario step {step}: {error}")]
    Step { step: usize, error: String },
    #[error("{0}")]
    Config(String),
    #[error("mod {file} failed to load: {error}")]
    Mod { file: String, error: String },
    #[error("{0}")]
    Host(String),
}

/// One step of a scenario.
#[derive(Debug, Clone)]
pub struct Step {
    /// Index in the file, as reported in `error` entries.
    pub index: usize,
    pub at: i64,
    pub message: Value,
    /// For an `expect` step, what it expects (the step is not sent to the host).
    pub expect: Option<Expectation>,
}

/// A parsed scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub start_epoch_ms: i64,
    pub config: Map<String, Value>,
    pub steps: Vec<Step>,
}

impl Scenario {
    pub fn from_file(path: &Path) -> Result<Self, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioError::Read {
            path: path.display().to_string(),
            error: e.to_string(),
        })?;
        Self::from_str(&text)
    }

    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str) -> Result<Self, ScenarioError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ScenarioError::Json(e.to_string()))?;
        Self::from_value(value)
    }

    /// Checks the shape: steps are objects with a known `type` and a non-negative integer `at`
    /// (a step without `at` happens when the previous one did). Field errors inside a message
    /// are not checked here: the host reports them as `error` entries when the step runs.
    pub fn from_value(value: Value) -> Result<Self, ScenarioError> {
        let Value::Object(mut root) = value else {
            return Err(ScenarioError::Shape(
                "the file must hold a JSON object".into(),
            ));
        };
        let start_epoch_ms = match root.get("startEpochMs") {
            None | Some(Value::Null) => DEFAULT_START_EPOCH_MS,
            Some(v) => v.as_i64().ok_or_else(|| {
                ScenarioError::Shape("\"startEpochMs\" must be an integer".into())
            })?,
        };
        let config = match root.remove("config") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(c)) => c,
            Some(_) => return Err(ScenarioError::Shape("\"config\" must be an object".into())),
        };
        let Some(Value::Array(raw_steps)) = root.remove("steps") else {
            return Err(ScenarioError::Shape("\"steps\" must be an array".into()));
        };
        let mut steps = Vec::with_capacity(raw_steps.len());
        let mut previous_at = 0;
        for (index, message) in raw_steps.into_iter().enumerate() {
            let at = match message.get("at") {
                None | Some(Value::Null) => previous_at,
                Some(v) => v
                    .as_i64()
                    .filter(|at| *at >= 0)
                    .ok_or_else(|| ScenarioError::Step {
                        step: index,
                        error: "\"at\" must be a non-negative integer".into(),
                    })?,
            };
            if message.get("type").and_then(Value::as_str) == Some(EXPECT) {
                let expect = message
                    .as_object()
                    .map(Expectation::parse)
                    .transpose()
                    .map_err(|error| ScenarioError::Step { step: index, error })?;
                previous_at = at;
                steps.push(Step {
                    index,
                    at,
                    message,
                    expect,
                });
                continue;
            }
            match bridge::parse(&message) {
                Err(BridgeError::UnknownType(t)) => {
                    return Err(ScenarioError::Step {
                        step: index,
                        error: format!(
                            "unknown step type {t:?} (known: {}, {EXPECT})",
                            MESSAGE_TYPES.join(", ")
                        ),
                    });
                }
                Err(
                    e @ (BridgeError::NotAnObject
                    | BridgeError::MissingType
                    | BridgeError::TypeTooLong(_)),
                ) => {
                    return Err(ScenarioError::Step {
                        step: index,
                        error: e.to_string(),
                    });
                }
                _ => {}
            }
            previous_at = at;
            steps.push(Step {
                index,
                at,
                message,
                expect: None,
            });
        }
        // Steps run in `at` order, file order for ties (a stable sort).
        steps.sort_by_key(|s| s.at);
        Ok(Self {
            start_epoch_ms,
            config,
            steps,
        })
    }

    /// The host configuration of this run: simulation defaults (reporting enabled, into the
    /// in-process recorder), overridden by the scenario's `config`.
    pub fn host_config(&self) -> Result<HostConfig, ScenarioError> {
        let mut merged = json!({
            "serverId": SIMULATION_SERVER_ID,
            "baseUrl": "inproc://recorder",
            "serverToken": "simulation",
            "resultReportingEnabled": true,
            "matchStateReportingEnabled": true,
        });
        let obj = merged.as_object_mut().expect("object");
        for (k, v) in &self.config {
            obj.insert(k.clone(), v.clone());
        }
        HostConfig::from_json(merged).map_err(ScenarioError::Config)
    }
}

/// What a simulation produced: the trace and a final snapshot of every match.
#[derive(Debug, Serialize)]
pub struct SimulationOutput {
    pub trace: Vec<TraceEntry>,
    pub matches: BTreeMap<String, Value>,
    /// The outcome of each `expect` step, in the order they ran; left out of the JSON when the
    /// scenario has none, so the output of other scenarios is unchanged.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expectations: Vec<ExpectationOutcome>,
    /// The steps played, so the readable timeline can show each input where it happened. Not
    /// part of the JSON contract.
    #[serde(skip)]
    pub inputs: Vec<Input>,
}

impl SimulationOutput {
    /// The expectations that failed.
    pub fn failed_expectations(&self) -> impl Iterator<Item = &ExpectationOutcome> {
        self.expectations.iter().filter(|e| !e.passed)
    }
}

/// A step as played, for the readable timeline.
#[derive(Debug, Clone)]
pub struct Input {
    /// When it was played, epoch ms.
    pub at: i64,
    /// The number of trace entries before it.
    pub position: usize,
    /// The step as written.
    pub message: Value,
    /// For a `game.event`: where it went.
    pub delivery: Option<Delivery>,
    /// For an `expect` step: its index in [`SimulationOutput::expectations`].
    pub expectation: Option<usize>,
}

/// Where a `game.event` went. The trace has no entry for it (a game event is the most frequent
/// input); the simulation tells it from the host's per-mod game event counter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The mod serving the match got it (`onGameEvent`).
    To(String),
    /// No mod got it, and why.
    Not(String),
}

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub engine: EngineSettings,
    /// Record every match into this sink (`nexori simulate --record`).
    pub record: Option<nexori_recording::MemorySink>,
    /// The compile cache directory (`nexori simulate`'s `--cache-dir`), if any.
    pub compile_cache: Option<std::path::PathBuf>,
}

/// Runs a scenario against the mods in `mods_dir`.
pub fn run(
    scenario: &Scenario,
    mods_dir: &Path,
    options: &RunOptions,
) -> Result<SimulationOutput, ScenarioError> {
    let config = scenario.host_config()?;
    let clock = VirtualClock::new(scenario.start_epoch_ms);
    let reporting = nexori_reporting::setup(
        &config.reporting(),
        std::sync::Arc::new(clock.clone()),
        // Reproducible ids with the in-process recorder; with a real backend, ids must be
        // unique across runs, since the backend remembers them.
        if nexori_reporting::is_http_backend(&config.base_url) {
            IdGenerator::Random
        } else {
            IdGenerator::Seeded(0x4e65_786f_7269)
        },
        None,
        true,
    )
    .map_err(|e| ScenarioError::Host(e.to_string()))?;
    let mut host = ArenaHost::new(
        config.host_settings(),
        HostClock::Virtual(clock),
        reporting.reporter,
        true,
        &options.engine,
    )
    .map_err(|e| ScenarioError::Host(e.to_string()))?;
    if let Some(dir) = &options.compile_cache {
        host.set_compile_cache(dir.clone());
    }
    host.set_admission_publisher(reporting.publisher);
    if let Some(sink) = &options.record {
        host.set_recorder(nexori_host::recording::Recorder::new(
            Box::new(sink.clone()),
            "simulate",
            config.recorded_settings(),
        ));
    }
    let failures = host
        .load_mods_dir(mods_dir)
        .map_err(|e| ScenarioError::Host(e.to_string()))?;
    if let Some((file, error)) = failures.into_iter().next() {
        return Err(ScenarioError::Mod {
            file,
            error: error.to_string(),
        });
    }
    let played = run_steps(&mut host, scenario);
    // With a real backend, give delivery a moment to finish before reporting what happened.
    if let Some(sender) = &reporting.sender {
        sender.wait_idle(std::time::Duration::from_secs(10));
    }
    let mut out = output(&host);
    out.inputs = played.inputs;
    out.expectations = played.expectations;
    Ok(out)
}

/// What [`run_steps`] played: each step with its time and the trace length before it, and the
/// outcome of each `expect` step.
#[derive(Debug, Default)]
pub struct Played {
    pub inputs: Vec<Input>,
    pub expectations: Vec<ExpectationOutcome>,
}

/// Plays the steps on a host that already has its mods.
pub fn run_steps(host: &mut ArenaHost, scenario: &Scenario) -> Played {
    let mut played = Played {
        inputs: Vec::with_capacity(scenario.steps.len()),
        expectations: Vec::new(),
    };
    // The trace entries serialised so far, for expectations (built only when there are any).
    let mut serialised: Vec<Value> = Vec::new();
    for step in &scenario.steps {
        let at = scenario.start_epoch_ms + step.at;
        host.advance_to(at);
        let position = lock(host.shared()).trace.entries().len();
        let mut input = Input {
            at,
            position,
            message: step.message.clone(),
            delivery: None,
            expectation: None,
        };
        if let Some(expectation) = &step.expect {
            let shared = lock(host.shared());
            let entries = shared.trace.entries();
            serialised.extend(
                entries[serialised.len()..]
                    .iter()
                    .map(|e| serde_json::to_value(e).unwrap_or(Value::Null)),
            );
            let (matched, failure) =
                expectation.evaluate(entries, &serialised, scenario.start_epoch_ms);
            input.expectation = Some(played.expectations.len());
            played.expectations.push(ExpectationOutcome {
                step: step.index,
                at,
                description: expectation.description.clone(),
                expectation: expectation.render(),
                passed: failure.is_none(),
                matched,
                failure,
                position,
            });
            played.inputs.push(input);
            continue;
        }
        let parsed = bridge::parse(&step.message);
        let is_game_event = matches!(parsed, Ok(bridge::BridgeMessage::GameEvent(_)));
        let before = is_game_event.then(|| game_events_by_mod(host));
        let result = parsed
            .map_err(|e| e.to_string())
            .and_then(|m| host.apply(m).map_err(|e| e.to_string()));
        if let Some(before) = before {
            input.delivery = Some(delivery(host, &step.message, &before, result.is_ok()));
        }
        // The trace has the commands; nobody reads the bridge outbox in a simulation.
        host.take_commands();
        if let Err(error) = result {
            let mut shared = lock(host.shared());
            let at = shared.now();
            shared.trace.push(TraceEntry::Error {
                at,
                step: Some(step.index),
                error,
            });
        }
        played.inputs.push(input);
    }
    played
}

/// The host's count of game events delivered, per mod.
fn game_events_by_mod(host: &ArenaHost) -> BTreeMap<String, u64> {
    lock(host.shared())
        .trace
        .counters()
        .filter(|(metric, _, _)| *metric == "nexori_game_events_total")
        .map(|(_, labels, value)| {
            let name = labels
                .strip_prefix("{mod=\"")
                .and_then(|l| l.strip_suffix("\"}"))
                .unwrap_or(labels);
            (name.to_string(), value)
        })
        .collect()
}

/// Where the `game.event` just applied went: the mod whose count of delivered events grew, or
/// why none did.
fn delivery(
    host: &ArenaHost,
    message: &Value,
    before: &BTreeMap<String, u64>,
    accepted: bool,
) -> Delivery {
    let after = game_events_by_mod(host);
    if let Some((name, _)) = after
        .iter()
        .find(|(name, n)| before.get(*name).copied().unwrap_or(0) < **n)
    {
        return Delivery::To(name.clone());
    }
    if !accepted {
        return Delivery::Not("refused".into());
    }
    let match_id = message["matchId"]
        .as_str()
        .and_then(nexori_runtime::ids::normalize_match_id)
        .unwrap_or_default();
    let shared = lock(host.shared());
    let entries = shared.trace.entries();
    let faulted = entries.iter().any(
        |entry| matches!(entry, TraceEntry::Fault { match_id: Some(m), .. } if *m == match_id),
    );
    if faulted {
        return Delivery::Not(format!(
            "the mod serving match {match_id} faulted, and gets nothing more for it"
        ));
    }
    let unrouted = entries
        .iter()
        .any(|entry| matches!(entry, TraceEntry::Warning { match_id: m, .. } if *m == match_id));
    if unrouted {
        let rules = shared
            .arena
            .get(&match_id)
            .map(|m| m.rules_engine_id.clone())
            .unwrap_or_default();
        return Delivery::Not(format!(
            "no mod serves match {match_id} (no loaded mod registered rulesEngineId {rules:?})"
        ));
    }
    Delivery::Not(format!("no instance of a mod serves match {match_id}"))
}

/// The trace so far and a snapshot of every match the run created.
pub fn output(host: &ArenaHost) -> SimulationOutput {
    let mut shared = lock(host.shared());
    let now = shared.now();
    let mut matches = BTreeMap::new();
    for m in shared.arena.all_matches() {
        let mut snapshot = serde_json::to_value(m.info()).unwrap_or(Value::Null);
        if let Value::Object(obj) = &mut snapshot {
            obj.insert(
                "placementState".into(),
                serde_json::to_value(m.placement_state()).unwrap_or(Value::Null),
            );
            obj.insert(
                "admission".into(),
                serde_json::to_value(nexori_runtime::admission::evaluate(m, now))
                    .unwrap_or(Value::Null),
            );
        }
        matches.insert(m.match_id.clone(), snapshot);
    }
    SimulationOutput {
        trace: shared.trace.take(),
        matches,
        expectations: Vec::new(),
        inputs: Vec::new(),
    }
}

/// The readable timeline: inputs from the game (`←`) interleaved with the trace, where each
/// `game.event` went, each result's `customData`, each expectation marked ✓ or ✗, and a count of
/// the expectations at the end.
pub fn timeline(output: &SimulationOutput, start: i64) -> Vec<String> {
    let mut lines = Vec::with_capacity(output.trace.len() + 2 * output.inputs.len());
    let mut inputs = output.inputs.iter().peekable();
    for (i, entry) in output.trace.iter().enumerate() {
        while let Some(input) = inputs.next_if(|input| input.position <= i) {
            input_lines(input, output, start, &mut lines);
        }
        lines.push(timeline_line(entry, start));
        if let TraceEntry::Result { body, .. } = entry
            && let Some(custom_data) = body.get("customData")
        {
            json_lines("customData", custom_data, 0, DETAIL_INDENT, &mut lines);
        }
    }
    for input in inputs {
        input_lines(input, output, start, &mut lines);
    }
    if !output.expectations.is_empty() {
        let failed = output.failed_expectations().count();
        lines.push(format!(
            "expectations: {} passed, {failed} failed",
            output.expectations.len() - failed
        ));
    }
    lines
}

/// Where lines that belong to the line above start (under the text after the time).
const DETAIL_INDENT: usize = 14;

/// One step's lines: the input, and where a game event went; or an expectation's outcome.
fn input_lines(input: &Input, output: &SimulationOutput, start: i64, lines: &mut Vec<String>) {
    let rel = relative(input.at, start);
    if let Some(outcome) = input.expectation.and_then(|i| output.expectations.get(i)) {
        let mark = if outcome.passed { '✓' } else { '✗' };
        lines.push(format!(
            "{rel}  {mark} step {}: {}",
            outcome.step,
            outcome.label()
        ));
        if let Some(failure) = &outcome.failure {
            lines.push(format!("{:DETAIL_INDENT$}{failure}", ""));
        }
        return;
    }
    lines.push(input_line(input.at, &input.message, start));
    let message = &input.message;
    let kind = message["kind"].as_str().unwrap_or("");
    match &input.delivery {
        None => {}
        Some(Delivery::To(mod_name)) => {
            let match_id = message["matchId"]
                .as_str()
                .and_then(nexori_runtime::ids::normalize_match_id)
                .unwrap_or_default();
            let player = message["player"]
                .as_str()
                .and_then(|p| uuid::Uuid::parse_str(p).ok())
                .map(|p| format!(", {}", short_uuid(&p)))
                .unwrap_or_default();
            let data = match message.get("data") {
                None | Some(Value::Null) => String::new(),
                Some(data) => format!(" {data}"),
            };
            lines.push(format!(
                "{rel}  {mod_name}.onGameEvent({match_id}{player}) {kind}{data}"
            ));
        }
        Some(Delivery::Not(why)) => {
            lines.push(format!("{rel}  game.event {kind} not delivered: {why}"));
        }
    }
}

/// `key: value` at `indent`, an object one member a line for two levels, deeper values compact.
fn json_lines(key: &str, value: &Value, depth: usize, indent: usize, lines: &mut Vec<String>) {
    match value {
        Value::Object(members) if !members.is_empty() && depth < 2 => {
            lines.push(format!("{:indent$}{key}:", ""));
            for (k, v) in members {
                json_lines(k, v, depth + 1, indent + 2, lines);
            }
        }
        _ => lines.push(format!("{:indent$}{key}: {value}", "")),
    }
}

/// The first eight characters of a UUID and an ellipsis (`aaaaaaaa…`).
fn short_uuid(u: &dyn std::fmt::Display) -> String {
    let s = u.to_string();
    s.get(..8).map(|p| format!("{p}…")).unwrap_or(s)
}

fn input_line(at: i64, message: &Value, start: i64) -> String {
    let mut fields = message.as_object().cloned().unwrap_or_default();
    fields.shift_remove("at");
    let ty = fields
        .shift_remove("type")
        .and_then(|t| t.as_str().map(str::to_string))
        .unwrap_or_default();
    if ty == "wait" {
        return format!("{}  ← (time passes)", relative(at, start));
    }
    format!("{}  ← {ty} {}", relative(at, start), Value::Object(fields))
}

fn relative(at: i64, start: i64) -> String {
    let ms = at - start;
    format!("{:>5}.{:03}s", ms / 1000, (ms % 1000).abs())
}

/// `at` as seconds after `start`, as the timeline writes it (`45.000s`).
pub fn relative_time(at: i64, start: i64) -> String {
    relative(at, start).trim_start().to_string()
}

/// A readable line for one trace entry, with time relative to `start`.
pub fn timeline_line(entry: &TraceEntry, start: i64) -> String {
    let rel = |at: i64| relative(at, start);
    let short = short_uuid;
    match entry {
        TraceEntry::Callback {
            at,
            mod_name,
            callback,
            match_id,
            player,
            reason,
        } => format!(
            "{}  {mod_name}.{callback}({match_id}{}) {reason}",
            rel(*at),
            player
                .map(|p| format!(", {}", short(&p)))
                .unwrap_or_default()
        ),
        TraceEntry::Api {
            at,
            mod_name,
            method,
            match_id,
            player,
            status,
            message,
            backend_report_status,
            ..
        } => {
            format!(
                "{}    {mod_name} → {method}({}{}) = {status}{}{}",
                rel(*at),
                match_id.as_deref().unwrap_or(""),
                player
                    .as_deref()
                    .map(|p| format!(", {}", short(&p)))
                    .unwrap_or_default(),
                backend_report_status
                    .as_deref()
                    .map(|b| format!(" / {b}"))
                    .unwrap_or_default(),
                if message.is_empty() {
                    String::new()
                } else {
                    format!(" — {message}")
                }
            )
        }
        TraceEntry::Result {
            at,
            body,
            backend_report_status,
            ..
        } => format!(
            "{}  RESULT {} reason={} players={} ({backend_report_status})",
            rel(*at),
            body["localMatchId"].as_str().unwrap_or(""),
            body["reason"],
            body["players"]
                .as_array()
                .map(|ps| ps
                    .iter()
                    .map(|p| format!(
                        "{}={}",
                        short(&p["playerUuid"].as_str().unwrap_or("")),
                        p["outcome"].as_str().unwrap_or("")
                    ))
                    .collect::<Vec<_>>()
                    .join(" "))
                .unwrap_or_default()
        ),
        TraceEntry::Admission { at, body } => format!(
            "{}  ADMISSION {} open={} seq={}",
            rel(*at),
            body["matchId"].as_str().unwrap_or(""),
            body["admissionOpen"],
            body["admissionStateSequence"]
        ),
        TraceEntry::Command { at, command } => {
            format!(
                "{}  → game {}",
                rel(*at),
                serde_json::to_string(command).unwrap_or_default()
            )
        }
        TraceEntry::Fault {
            at,
            mod_name,
            match_id,
            error,
        } => {
            format!(
                "{}  FAULT {mod_name} in {}: {error}",
                rel(*at),
                match_id.as_deref().unwrap_or("-")
            )
        }
        TraceEntry::Error { at, step, error } => format!(
            "{}  ERROR{}: {error}",
            rel(*at),
            step.map(|s| format!(" (step {s})")).unwrap_or_default()
        ),
        TraceEntry::Warning {
            at,
            match_id,
            message,
        } => format!("{}  WARNING {match_id}: {message}", rel(*at)),
        TraceEntry::Log {
            at,
            mod_name,
            level,
            message,
            ..
        } => {
            format!("{}    [{level}] {mod_name}: {message}", rel(*at))
        }
    }
}
