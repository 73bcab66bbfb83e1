//! The simulation trace (bridge-protocol.md, "The trace"): what happened, in order.

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

/// Collects entries when enabled (simulations); otherwise only counts on `tracing` logs.
#[derive(Debug, Default)]
pub struct Trace {
    enabled: bool,
    entries: Vec<TraceEntry>,
}

impl Trace {
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            entries: Vec::new(),
        }
    }

    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    pub fn push(&mut self, entry: TraceEntry) {
        if self.enabled {
            self.entries.push(entry);
        }
    }

    /// Builds and records an entry only when tracing is on: building some entries (query
    /// answers as JSON) is not free.
    pub fn push_with(&mut self, entry: impl FnOnce() -> TraceEntry) {
        if self.enabled {
            self.entries.push(entry());
        }
    }

    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    pub fn take(&mut self) -> Vec<TraceEntry> {
        std::mem::take(&mut self.entries)
    }
}
