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
    #[serde(rename_all = "camelCase")]
    Callback {
        at: i64,
        #[serde(rename = "mod")]
        mod_name: String,
        callback: &'static str,
        match_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        player: Option<Uuid>,
        reason: String,
    },
    #[serde(rename_all = "camelCase")]
    Api {
        at: i64,
        #[serde(rename = "mod")]
        mod_name: String,
        method: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        match_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        player: Option<String>,
        status: String,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        backend_report_status: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        result_id: Option<String>,
        /// The answer of a query method (`null` for an empty option).
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<Value>,
    },
    #[serde(rename_all = "camelCase")]
    Result {
        at: i64,
        body: Value,
        match_status: String,
        backend_report_status: String,
    },
    #[serde(rename_all = "camelCase")]
    Admission { at: i64, body: Value },
    #[serde(rename_all = "camelCase")]
    Command {
        at: i64,
        #[serde(flatten)]
        command: GameServerCommand,
    },
    #[serde(rename_all = "camelCase")]
    Fault {
        at: i64,
        #[serde(rename = "mod")]
        mod_name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        match_id: Option<String>,
        error: String,
    },
    #[serde(rename_all = "camelCase")]
    Error {
        at: i64,
        #[serde(skip_serializing_if = "Option::is_none")]
        step: Option<usize>,
        error: String,
    },
    #[serde(rename_all = "camelCase")]
    Log {
        at: i64,
        #[serde(rename = "mod")]
        mod_name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        match_id: Option<String>,
        level: &'static str,
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
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            ..Self::default()
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

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

    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    pub fn take(&mut self) -> Vec<TraceEntry> {
        std::mem::take(&mut self.entries)
    }
}
