//! The simulation trace (see docs/bridge-protocol.md#the-trace-nexori-simulate---json): what
//! happened, in order.

use std::fmt;

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use crate::commands::GameServerCommand;

/// One trace entry. Field names are the contract's; do not rename.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TraceEntry {
    /// A lifecycle callback delivered to a mod.
    #[serde(rename_all = "camelCase")]
    Callback {
        /// Host time of the entry, epoch ms.
        at: i64,
        /// The mod, by name.
        #[serde(rename = "mod")]
        mod_name: String,
        /// The callback, by its Java name.
        callback: &'static str,
        /// The match.
        match_id: String,
        /// The player.
        #[serde(skip_serializing_if = "Option::is_none")]
        player: Option<Uuid>,
        /// Why.
        reason: String,
    },
    /// An API call a mod made, with its answer.
    #[serde(rename_all = "camelCase")]
    Api {
        /// Host time of the entry, epoch ms.
        at: i64,
        /// The mod, by name.
        #[serde(rename = "mod")]
        mod_name: String,
        /// The API method, by its Java name.
        method: &'static str,
        /// The match.
        #[serde(skip_serializing_if = "Option::is_none")]
        match_id: Option<String>,
        /// The player.
        #[serde(skip_serializing_if = "Option::is_none")]
        player: Option<String>,
        /// The status the call answered.
        status: String,
        /// The message the call answered (or logged).
        message: String,
        /// How the result stands with the backend.
        #[serde(skip_serializing_if = "Option::is_none")]
        backend_report_status: Option<String>,
        /// The result id given to the submission.
        #[serde(skip_serializing_if = "Option::is_none")]
        result_id: Option<String>,
        /// The answer of a query method (`null` for an empty option).
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
    },
    /// A result body as reported.
    #[serde(rename_all = "camelCase")]
    Result {
        /// Host time of the entry, epoch ms.
        at: i64,
        /// The body as sent.
        body: Value,
        /// The match's completion status.
        match_status: String,
        /// How the result stands with the backend.
        backend_report_status: String,
    },
    /// An admission snapshot as published.
    #[serde(rename_all = "camelCase")]
    Admission {
        /// Host time of the entry, epoch ms.
        at: i64,
        /// The body as sent.
        body: Value,
    },
    /// A command sent to the game server.
    #[serde(rename_all = "camelCase")]
    Command {
        /// Host time of the entry, epoch ms.
        at: i64,
        /// The command, as sent over the bridge.
        #[serde(flatten)]
        command: GameServerCommand,
    },
    /// A mod faulted.
    #[serde(rename_all = "camelCase")]
    Fault {
        /// Host time of the entry, epoch ms.
        at: i64,
        /// The mod, by name.
        #[serde(rename = "mod")]
        mod_name: String,
        /// The match.
        #[serde(skip_serializing_if = "Option::is_none")]
        match_id: Option<String>,
        /// What went wrong.
        error: String,
    },
    /// A step of the input was refused.
    #[serde(rename_all = "camelCase")]
    Error {
        /// Host time of the entry, epoch ms.
        at: i64,
        /// The scenario step that caused it (0-based).
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
        /// What went wrong.
        error: String,
    },
    /// Something the host noticed that is allowed but probably not meant, such as a match whose
    /// `rulesEngineId` no loaded mod registered.
    #[serde(rename_all = "camelCase")]
    Warning {
        /// Host time of the entry, epoch ms.
        at: i64,
        /// The match.
        match_id: String,
        /// What was noticed, and what to do about it.
        message: String,
    },
    /// A line a mod logged.
    #[serde(rename_all = "camelCase")]
    Log {
        /// Host time of the entry, epoch ms.
        at: i64,
        /// The mod, by name.
        #[serde(rename = "mod")]
        mod_name: String,
        /// The match.
        #[serde(skip_serializing_if = "Option::is_none")]
        match_id: Option<String>,
        /// The log level.
        level: &'static str,
        /// The message the call answered (or logged).
        message: String,
    },
}

/// Collects entries when enabled (simulations), and always keeps counters of what happened
/// (the metrics of `nexori serve`).
#[derive(Debug, Default)]
pub struct Trace {
    enabled: bool,
    entries: Vec<TraceEntry>,
    counters: std::collections::BTreeMap<(&'static str, String), u64>,
    /// Label text of the counter being bumped (see [`Trace::add`]).
    scratch: String,
}

impl Trace {
    /// A trace that keeps entries when `enabled`, and counters always.
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            ..Self::default()
        }
    }

    /// Whether entries are kept.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Records `entry` (kept when enabled, counted always).
    pub fn push(&mut self, entry: TraceEntry) {
        match &entry {
            TraceEntry::Callback { callback, .. } => self.count(
                "nexori_callbacks_total",
                format_args!("{{callback=\"{callback}\"}}"),
            ),
            TraceEntry::Fault { mod_name, .. } => self.count(
                "nexori_faults_total",
                format_args!("{{mod=\"{mod_name}\"}}"),
            ),
            TraceEntry::Result {
                backend_report_status,
                ..
            } => self.count(
                "nexori_results_total",
                format_args!("{{backend_report_status=\"{backend_report_status}\"}}"),
            ),
            TraceEntry::Command { command, .. } => self.count_command(command),
            _ => {}
        }
        if self.enabled {
            self.entries.push(entry);
        }
    }

    fn count_command(&mut self, command: &GameServerCommand) {
        self.count(
            "nexori_game_commands_total",
            format_args!("{{type=\"{}\"}}", command.kind()),
        );
    }

    /// Records a command sent to the game server. Commands are the most frequent entry (HUD
    /// updates, respawns), so the command is only copied when the trace keeps entries.
    pub fn push_command(&mut self, at: i64, command: &GameServerCommand) {
        self.count_command(command);
        if self.enabled {
            self.entries.push(TraceEntry::Command {
                at,
                command: command.clone(),
            });
        }
    }

    /// Builds and records an entry only when tracing is on: building some entries (query
    /// answers as JSON) is not free.
    pub fn push_with(&mut self, entry: impl FnOnce() -> TraceEntry) {
        if self.enabled {
            self.entries.push(entry());
        }
    }

    /// Adds one to a counter; `labels` is Prometheus label syntax (`{a="b"}`) or empty.
    pub fn count(&mut self, metric: &'static str, labels: fmt::Arguments<'_>) {
        self.add(metric, labels, 1);
    }

    /// Adds `value` to a counter (sums, e.g. of durations).
    ///
    /// Counters are bumped on every game command and API call, so the labels are written into
    /// a reused buffer and only an unseen counter allocates its key.
    pub fn add(&mut self, metric: &'static str, labels: fmt::Arguments<'_>, value: u64) {
        let mut text = std::mem::take(&mut self.scratch);
        text.clear();
        fmt::write(&mut text, labels).expect("writing to a String cannot fail");
        let key = (metric, text);
        match self.counters.get_mut(&key) {
            Some(counter) => {
                *counter += value;
                self.scratch = key.1;
            }
            None => {
                self.counters.insert(key, value);
            }
        }
    }

    /// Every counter as `(metric, labels, value)`, sorted.
    pub fn counters(&self) -> impl Iterator<Item = (&'static str, &str, u64)> {
        self.counters
            .iter()
            .map(|((metric, labels), value)| (*metric, labels.as_str(), *value))
    }

    /// The entries kept so far.
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// Takes the entries kept so far.
    pub fn take(&mut self) -> Vec<TraceEntry> {
        std::mem::take(&mut self.entries)
    }
}
