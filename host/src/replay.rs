//! `nexori replay` (docs/replay.md): re-runs a recorded match from its log, headless, on a
//! virtual clock, against the mod that served it (or another build), records it again and
//! compares the two logs: the header, then the inputs (with the advances and reporting's
//! answers) in order, and what the match did (commands, the result body, a fault, the close) in
//! order. How the two streams interleave is not compared: a turn's game events may reach the
//! mod in one batched call live and one by one in the replay, which moves a call's commands
//! after the batch's last input.
//!
//! The replay feeds the log's records to a host as its front end did: an `advance` record runs
//! what fell due up to its time, an input is applied at the time it was, and reporting answers
//! the result as the log says it did.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Value, json};

use crate::scenario::{self, SimulationOutput};
use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::bridge;
use nexori_host::recording::Recorder;
use nexori_host::settings::{DEFAULT_MAX_HELD_COMMANDS, HostSettings, ModLimits};
use nexori_host::wasm::engine::EngineSettings;
use nexori_recording::format::sha256_hex;
use nexori_recording::{LineKind, Log, MemorySink, Record, RecordKind};
use nexori_reporting::{EnqueueOutcome, ResultReporter, result_body};
use nexori_runtime::clock::VirtualClock;
use nexori_runtime::model::BackendReportStatus;
use nexori_runtime::results::AcceptedResult;

/// How a replay runs.
#[derive(Default)]
pub struct ReplayOptions {
    /// The engine's settings.
    pub engine: EngineSettings,
    /// The compile cache directory, if any.
    pub compile_cache: Option<PathBuf>,
}

/// Why a log could not be replayed (bad input: `nexori replay` exits 2).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The log says something the replay cannot use.
    #[error("line {line}: {problem}")]
    BadRecord {
        /// 1-based line of the log.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The header's settings cannot be used.
    #[error("the log's header: {0}")]
    BadHeader(String),
    /// The writer lost records: the log is not the whole story.
    #[error("line {line}: the recording has a gap ({why}); it cannot be replayed")]
    Gap {
        /// 1-based line of the gap.
        line: usize,
        /// What the writer said.
        why: String,
    },
    /// The host or the mod could not be set up.
    #[error("{0}")]
    Host(String),
}

/// One line where the replay differs from the recording: the n-th input (or output) of one
/// log is not the n-th of the other.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    /// 1-based line number in the recorded log (the header is line 1), or in the replayed one
    /// when the recording has no such line.
    pub line: usize,
    /// The recorded line; `None` when the replay wrote more.
    pub recorded: Option<String>,
    /// The replayed line; `None` when the replay wrote less.
    pub replayed: Option<String>,
}

/// What a replay found.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replayed {
    /// The match.
    pub match_id: String,
    /// SHA-256 of the mod that ran now.
    pub mod_sha256: String,
    /// SHA-256 of the mod the log was recorded with.
    pub recorded_mod_sha256: String,
    /// Lines of the recorded log (header and records).
    pub recorded_lines: usize,
    /// Whether the recording ends with the match closed; when it does not (the host stopped or
    /// crashed), only the recorded part is compared.
    pub complete: bool,
    /// Lines the replay wrote after the end of an incomplete recording.
    pub beyond_recording: usize,
    /// Where the replay differs, in order (empty: identical).
    pub differences: Vec<Difference>,
    /// The replay's trace and final snapshots, as `nexori simulate --json` has them.
    pub output: SimulationOutput,
}

impl Replayed {
    /// Whether the replay wrote the recorded log again.
    pub fn identical(&self) -> bool {
        self.differences.is_empty()
    }
}

/// Reporting during a replay: answers each result as the log says reporting did (the answer
/// depends on the outbox, which the replay does not have), and builds the body as the host did.
struct ReplayReporter {
    server_id: String,
    answers: VecDeque<Value>,
}

impl ResultReporter for ReplayReporter {
    fn enqueue(&mut self, result: &AcceptedResult, now: i64) -> EnqueueOutcome {
        let answer = self.answers.pop_front().unwrap_or_else(
            || json!({"status": "QUEUED", "message": "Result queued.", "resultId": "replayed"}),
        );
        let text = |key: &str| answer.get(key).and_then(Value::as_str).unwrap_or_default();
        let result_id = text("resultId").to_string();
        EnqueueOutcome {
            status: BackendReportStatus::parse(text("status"))
                .unwrap_or(BackendReportStatus::Queued),
            message: text("message").to_string(),
            body: result_body(result, &result_id, &self.server_id, now),
            result_id,
        }
    }
}

/// The host settings a log's header describes, for a mod named `name`.
fn host_settings(log: &Log) -> Result<HostSettings, ReplayError> {
    let settings = &log.header.settings;
    let limits: ModLimits = match settings.get("limits") {
        Some(limits) => serde_json::from_value(limits.clone())
            .map_err(|e| ReplayError::BadHeader(format!("settings.limits: {e}")))?,
        None => ModLimits::default(),
    };
    let config = settings.get("modConfig").cloned().unwrap_or(json!({}));
    Ok(HostSettings {
        mods: BTreeMap::from([(log.header.module.name.clone(), config)]),
        limits,
        mod_limits: BTreeMap::new(),
        max_mod_file_bytes: u64::MAX,
        warm_instance_slots: false,
        outbox_max_held_commands: DEFAULT_MAX_HELD_COMMANDS,
        admission_reporting_usable: settings
            .get("admissionReportingUsable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// Replays `log` against the mod in `wasm` and compares the new log with it.
///
/// # Errors
///
/// [`ReplayError`] when the log cannot be replayed (bad input), not when the replay differs.
pub fn replay(log: &Log, wasm: &[u8], options: &ReplayOptions) -> Result<Replayed, ReplayError> {
    if let Some(gap) = log.gap() {
        let RecordKind::Gap(why) = &gap.kind else {
            unreachable!("gap() finds gaps")
        };
        return Err(ReplayError::Gap {
            line: gap.line_number,
            why: why.clone(),
        });
    }
    let answers = log
        .records
        .iter()
        .filter_map(|r| match &r.kind {
            RecordKind::Enqueued(answer) => Some(answer.clone()),
            _ => None,
        })
        .collect();
    let reporter = ReplayReporter {
        server_id: log
            .header
            .settings
            .get("serverId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        answers,
    };
    let clock = VirtualClock::new(log.header.started_at);
    let mut host = ArenaHost::new(
        host_settings(log)?,
        HostClock::Virtual(clock),
        Box::new(reporter),
        true,
        &options.engine,
    )
    .map_err(|e| ReplayError::Host(e.to_string()))?;
    if let Some(dir) = &options.compile_cache {
        host.set_compile_cache(dir.clone());
    }
    let sink = MemorySink::new();
    let mut recorder = Recorder::new(Box::new(sink.clone()), &log.header.recorded_by, json!({}));
    recorder.replay_header(log.header_line.clone(), log.header.clone());
    host.set_recorder(recorder);
    host.load_mod(&log.header.module.name, wasm)
        .map_err(|e| ReplayError::Host(format!("the mod does not load: {e}")))?;
    for record in &log.records {
        match &record.kind {
            RecordKind::Advance => host.advance_to(record.at),
            RecordKind::Input(message) => {
                let message = bridge::parse(message).map_err(|e| ReplayError::BadRecord {
                    line: record.line_number,
                    problem: format!("not a bridge message: {e}"),
                })?;
                // A refusal is part of the replay, as it was of the match.
                let _ = host.apply(message);
            }
            _ => {}
        }
        host.take_commands();
    }
    host.advance_to(log.last_at());
    host.take_commands();

    let replayed_logs = sink.logs_in_order();
    let replayed = match replayed_logs.first() {
        Some(memory) => nexori_recording::read_logs(&memory.lines)
            .map_err(|e| ReplayError::Host(format!("the replay wrote a log it cannot read: {e}")))?
            .into_iter()
            .next(),
        None => None,
    };
    let complete = log.is_complete();
    let mut differences = Vec::new();
    let mut beyond_recording = 0;
    let replayed_header = replayed.as_ref().map(|l| l.header_line.as_str());
    if replayed_header != Some(log.header_line.as_str()) {
        differences.push(Difference {
            line: 1,
            recorded: Some(log.header_line.clone()),
            replayed: replayed_header.map(str::to_string),
        });
    }
    let empty = Vec::new();
    let replayed_records = replayed.as_ref().map_or(&empty, |l| &l.records);
    for kind in [LineKind::Input, LineKind::Output] {
        let stream = |records: &'_ [Record]| -> Vec<Record> {
            records
                .iter()
                .filter(|r| r.kind.line_kind() == kind)
                .cloned()
                .collect()
        };
        let (ours, theirs) = (stream(&log.records), stream(replayed_records));
        let compared = if complete {
            ours.len().max(theirs.len())
        } else {
            ours.len()
        };
        beyond_recording += theirs.len().saturating_sub(compared);
        for i in 0..compared {
            let (a, b) = (ours.get(i), theirs.get(i));
            if a.map(|r| &r.line) != b.map(|r| &r.line) {
                differences.push(Difference {
                    line: a.or(b).map_or(0, |r| r.line_number),
                    recorded: a.map(|r| r.line.clone()),
                    replayed: b.map(|r| r.line.clone()),
                });
            }
        }
    }
    differences.sort_by_key(|d| d.line);
    Ok(Replayed {
        match_id: log.header.match_id.clone(),
        mod_sha256: sha256_hex(wasm),
        recorded_mod_sha256: log.header.module.sha256.clone(),
        recorded_lines: 1 + log.records.len(),
        complete,
        beyond_recording,
        differences,
        output: scenario::output(&host),
    })
}

/// The most differences printed in full; the rest are counted.
pub const SHOWN_DIFFERENCES: usize = 5;

/// The readable report of a replay: what ran, then identical, or the differences with the time
/// of each line.
pub fn report(replayed: &Replayed, start: i64) -> Vec<String> {
    let mut out = Vec::new();
    let short = |sha: &str| sha.chars().take(12).collect::<String>();
    out.push(format!(
        "match {}: {} recorded lines{}, mod {}{}",
        replayed.match_id,
        replayed.recorded_lines,
        if replayed.complete {
            ""
        } else {
            " (the recording stops before the match closed: the recorded part is compared)"
        },
        short(&replayed.mod_sha256),
        if replayed.mod_sha256 == replayed.recorded_mod_sha256 {
            " (as recorded)".to_string()
        } else {
            format!(" (recorded with {})", short(&replayed.recorded_mod_sha256))
        }
    ));
    if replayed.identical() {
        out.push(
            "identical: the replay took the recorded inputs and did what the recording did".into(),
        );
    } else {
        out.push(format!(
            "DIFFERENT: {} lines differ",
            replayed.differences.len()
        ));
        for d in replayed.differences.iter().take(SHOWN_DIFFERENCES) {
            let at = d
                .recorded
                .as_deref()
                .or(d.replayed.as_deref())
                .and_then(|l| serde_json::from_str::<Value>(l).ok())
                .and_then(|v| v.get("at").and_then(Value::as_i64));
            out.push(format!(
                "  line {}{}:",
                d.line,
                at.map(|at| format!(" (at {})", scenario::relative_time(at, start)))
                    .unwrap_or_default()
            ));
            out.push(format!(
                "    recorded: {}",
                d.recorded.as_deref().unwrap_or("(nothing)")
            ));
            out.push(format!(
                "    replayed: {}",
                d.replayed.as_deref().unwrap_or("(nothing)")
            ));
        }
        if replayed.differences.len() > SHOWN_DIFFERENCES {
            out.push(format!(
                "  ... and {} more",
                replayed.differences.len() - SHOWN_DIFFERENCES
            ));
        }
    }
    if replayed.beyond_recording > 0 {
        out.push(format!(
            "the replay went on for {} more lines after the recording ends",
            replayed.beyond_recording
        ));
    }
    out
}
