//! Where a host writes the logs of its matches: the [`RecordSink`] seam, and [`MemorySink`],
//! which keeps them in memory (`nexori simulate --record`, `nexori replay`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::format::{InputHasher, LineKind, compress, wasm_line};

/// A log a sink has open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LogId(pub u64);

/// Why a log's input hash could not be taken. The result is reported without it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// The writer did not answer in time (a slow or stuck disk).
    #[error("the recording writer did not answer within {0} ms")]
    Timeout(u64),
    /// The log lost records or could not be written.
    #[error("the log cannot back a result: {0}")]
    Broken(String),
}

/// Turns the compact bytes a host wrote ([`RecordSink::append_compact`]) into one line or more,
/// `\n` between two (JSON lines hold no raw line break) and none after the last.
pub type Render = fn(&[u8], &mut Vec<u8>);

/// What a host writes match logs to. The host calls it with its lock held, once per record:
/// implementations copy the line and return; slow work (hashing, compression, disk) belongs
/// elsewhere, except in [`seal`](Self::seal).
pub trait RecordSink: Send {
    /// Starts a log whose first line is `header_line`, for a match served by the mod whose file
    /// is `module` (kept beside the logs so they can be replayed; `sha256` names it).
    fn open(&mut self, header_line: &[u8], sha256: &str, module: &Arc<[u8]>) -> LogId;

    /// Appends one line (no newline) to `log`; `kind` says whether it is hashed.
    fn append(&mut self, log: LogId, kind: LineKind, line: &[u8]);

    /// Appends the line `write` writes (no newline) to the end of the buffer it is given: the
    /// host's hot path (a line per game event), which a sink that buffers lines serves without
    /// building each line elsewhere first and copying it. The default builds it and calls
    /// [`append`](Self::append).
    fn append_with(&mut self, log: LogId, kind: LineKind, write: &mut dyn FnMut(&mut Vec<u8>)) {
        let mut line = Vec::with_capacity(256);
        write(&mut line);
        self.append(log, kind, &line);
    }

    /// Appends the lines that `write` writes in a compact form of the host's own and `render`
    /// turns into lines later: a sink with a writer thread renders them there, off the host's
    /// thread. The host's hottest path (a turn's `game.event`s, one per player per server tick)
    /// then costs it one call and a copy of the events' parts rather than their JSON. The default
    /// renders them at once.
    fn append_compact(
        &mut self,
        log: LogId,
        kind: LineKind,
        render: Render,
        write: &mut dyn FnMut(&mut Vec<u8>),
    ) {
        let mut compact = Vec::with_capacity(256);
        write(&mut compact);
        let mut lines = Vec::with_capacity(compact.len() * 2);
        render(&compact, &mut lines);
        for line in lines.split(|b| *b == b'\n').filter(|line| !line.is_empty()) {
            self.append(log, kind, line);
        }
    }

    /// The input hash of `log` so far, once every line appended before is durable: a result is
    /// reported with it, and the log must outlive a crash after that.
    ///
    /// # Errors
    ///
    /// [`SealError`] when the hash cannot be vouched for; the result then carries none.
    fn seal(&mut self, log: LogId) -> Result<String, SealError>;

    /// Ends `log`: the match closed, or the host stops. Nothing more is appended to it.
    fn close(&mut self, log: LogId);

    /// The host's turn is over: lines appended during it may go to their writer now.
    fn end_turn(&mut self) {}
}

/// One log kept in memory.
#[derive(Debug, Default, Clone)]
pub struct MemoryLog {
    /// The lines, each with its newline.
    pub lines: Vec<u8>,
    /// SHA-256 of the mod that served the match.
    pub sha256: String,
    /// Whether it was closed.
    pub closed: bool,
}

#[derive(Default)]
struct MemoryLogs {
    order: Vec<LogId>,
    logs: HashMap<LogId, (MemoryLog, InputHasher)>,
    mods: HashMap<String, Arc<[u8]>>,
}

/// Keeps logs in memory. Clones share them: the host writes through one, the caller reads the
/// logs through another.
#[derive(Clone, Default)]
pub struct MemorySink(Arc<Mutex<MemoryLogs>>);

impl std::fmt::Debug for MemorySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySink")
            .field("logs", &self.logs().order.len())
            .finish()
    }
}

impl MemorySink {
    /// An empty sink.
    pub fn new() -> Self {
        Self::default()
    }

    fn logs(&self) -> std::sync::MutexGuard<'_, MemoryLogs> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The logs opened so far, in the order they were opened.
    pub fn logs_in_order(&self) -> Vec<MemoryLog> {
        let logs = self.logs();
        logs.order
            .iter()
            .filter_map(|id| logs.logs.get(id).map(|(log, _)| log.clone()))
            .collect()
    }

    /// Every log as one compressed file, each with its mod embedded when `embed_mods`.
    pub fn to_file(&self, embed_mods: bool) -> Vec<u8> {
        let logs = self.logs();
        let mut text = Vec::new();
        for id in &logs.order {
            let Some((log, _)) = logs.logs.get(id) else {
                continue;
            };
            let header_end = log
                .lines
                .iter()
                .position(|b| *b == b'\n')
                .map_or(log.lines.len(), |i| i + 1);
            text.extend_from_slice(&log.lines[..header_end]);
            if embed_mods && let Some(wasm) = logs.mods.get(&log.sha256) {
                text.extend_from_slice(&wasm_line(wasm));
                text.push(b'\n');
            }
            text.extend_from_slice(&log.lines[header_end..]);
        }
        compress(&text)
    }
}

impl RecordSink for MemorySink {
    fn open(&mut self, header_line: &[u8], sha256: &str, module: &Arc<[u8]>) -> LogId {
        let mut logs = self.logs();
        let id = LogId(logs.order.len() as u64 + 1);
        let mut hasher = InputHasher::default();
        hasher.line(header_line);
        let mut lines = header_line.to_vec();
        lines.push(b'\n');
        logs.order.push(id);
        logs.logs.insert(
            id,
            (
                MemoryLog {
                    lines,
                    sha256: sha256.to_string(),
                    closed: false,
                },
                hasher,
            ),
        );
        logs.mods
            .entry(sha256.to_string())
            .or_insert_with(|| module.clone());
        id
    }

    fn append(&mut self, log: LogId, kind: LineKind, line: &[u8]) {
        let mut logs = self.logs();
        if let Some((log, hasher)) = logs.logs.get_mut(&log)
            && !log.closed
        {
            log.lines.extend_from_slice(line);
            log.lines.push(b'\n');
            if kind == LineKind::Input {
                hasher.line(line);
            }
        }
    }

    fn seal(&mut self, log: LogId) -> Result<String, SealError> {
        let logs = self.logs();
        logs.logs
            .get(&log)
            .map(|(_, hasher)| hasher.hex())
            .ok_or_else(|| SealError::Broken(format!("no open log {}", log.0)))
    }

    fn close(&mut self, log: LogId) {
        if let Some((log, _)) = self.logs().logs.get_mut(&log) {
            log.closed = true;
        }
    }
}
