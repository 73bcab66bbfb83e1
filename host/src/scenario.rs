//! Scenario files and `nexori simulate` (see docs/bridge-protocol.md#scenario-files and
//! docs/bridge-protocol.md#the-trace-nexori-simulate---json).

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

pub const DEFAULT_START_EPOCH_MS: i64 = 1_760_000_000_000;
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
            match bridge::parse(&message) {
                Err(BridgeError::UnknownType(t)) => {
                    return Err(ScenarioError::Step {
                        step: index,
                        error: format!(
                            "unknown step type {t:?} (known: {})",
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
            steps.push(Step { index, at, message });
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
    /// The steps played, with their time and the number of trace entries before them, so the
    /// readable timeline can show each input where it happened. Not part of the JSON contract.
    #[serde(skip)]
    pub inputs: Vec<(i64, usize, Value)>,
}

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub engine: EngineSettings,
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
    host.set_admission_publisher(reporting.publisher);
    let failures = host
        .load_mods_dir(mods_dir)
        .map_err(|e| ScenarioError::Host(e.to_string()))?;
    if let Some((file, error)) = failures.into_iter().next() {
        return Err(ScenarioError::Mod {
            file,
            error: error.to_string(),
        });
    }
    let inputs = run_steps(&mut host, scenario);
    // With a real backend, give delivery a moment to finish before reporting what happened.
    if let Some(sender) = &reporting.sender {
        sender.wait_idle(std::time::Duration::from_secs(10));
    }
    let mut out = output(&host);
    out.inputs = inputs;
    Ok(out)
}

/// Plays the steps on a host that already has its mods; returns each step with its time and
/// the trace length before it.
pub fn run_steps(host: &mut ArenaHost, scenario: &Scenario) -> Vec<(i64, usize, Value)> {
    let mut inputs = Vec::with_capacity(scenario.steps.len());
    for step in &scenario.steps {
        host.advance_to(scenario.start_epoch_ms + step.at);
        let position = lock(host.shared()).trace.entries().len();
        inputs.push((
            scenario.start_epoch_ms + step.at,
            position,
            step.message.clone(),
        ));
        let result = bridge::parse(&step.message)
            .map_err(|e| e.to_string())
            .and_then(|m| host.apply(m).map_err(|e| e.to_string()));
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
    }
    inputs
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
        inputs: Vec::new(),
    }
}

/// The readable timeline: inputs from the game (`←`) interleaved with the trace.
pub fn timeline(output: &SimulationOutput, start: i64) -> Vec<String> {
    let mut lines = Vec::with_capacity(output.trace.len() + output.inputs.len());
    let mut inputs = output.inputs.iter().peekable();
    for (i, entry) in output.trace.iter().enumerate() {
        while let Some((at, _, message)) = inputs.next_if(|(_, position, _)| *position <= i) {
            lines.push(input_line(*at, message, start));
        }
        lines.push(timeline_line(entry, start));
    }
    for (at, _, message) in inputs {
        lines.push(input_line(*at, message, start));
    }
    lines
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

/// A readable line for one trace entry, with time relative to `start`.
pub fn timeline_line(entry: &TraceEntry, start: i64) -> String {
    let rel = |at: i64| relative(at, start);
    let short = |u: &dyn std::fmt::Display| {
        let s = u.to_string();
        s.get(..8).map(|p| format!("{p}…")).unwrap_or(s)
    };
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
