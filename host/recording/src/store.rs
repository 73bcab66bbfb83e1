//! The recordings of `nexori serve` and `nexori stdio` in the data directory.
//!
//! The directory holds:
//!
//! - `active/<name>.jsonl`: the log of a live match, plain JSON lines, appended as the match
//!   runs;
//! - `logs/<name>.nxlog`: the log of a match that closed, compressed (`format::compress`);
//! - `mods/<sha256>.wasm`: every mod a kept log was served by, once per SHA-256.
//!
//! `<name>` is `<match id>~<startedAt>~<sha12>`: the match id made safe for a file name
//! (lowercase `[a-z0-9._-]`, anything else `_`, at most 64 characters), the header's
//! `startedAt` and the first 12 hex digits of the mod's SHA-256 (`~<n>` follows when the name
//! was taken). The match id itself is in the header: lookups ([`RecordingStore::find`]) compare
//! the header's `matchId`, not the name.
//!
//! [`DirSink`] writes there: the host copies lines (or compact entries, which the worker renders
//! into lines) into a buffer and hands it to a worker thread every [`HAND_OVER_BYTES`] or
//! [`HAND_OVER_INTERVAL`]; the worker renders, hashes, appends, compresses and prunes
//! ([`Retention`]). When the host was killed, the next [`DirSink::start`] archives what it left
//! in `active/`. [`RecordingStore`] is the read side, for the CLI.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::format::{
    EXTENSION, InputHasher, LineKind, ReadError, begin_record, read_logs, record_line, sha256_hex,
};
use crate::sink::{LogId, RecordSink, Render, SealError};

/// How long [`DirSink::seal`](RecordSink::seal) waits for the worker to make a log durable
/// before it gives up with [`SealError::Timeout`].
pub const SEAL_TIMEOUT: Duration = Duration::from_secs(2);

/// How long dropping a [`DirSink`] waits for its worker to flush every live log.
pub const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// At most this many bytes of lines wait for the worker; a turn that would exceed it is dropped
/// and its logs get a `gap` record (they cannot back a result any more).
pub const MAX_QUEUED_BYTES: usize = 64 << 20;

/// The host's lines go to the writer once this many are waiting at the end of a turn, ...
/// Each hand-over wakes the writer, which costs the host thread 8-12 µs on a VM: at 1 MiB
/// (about 4 000 ticks) that is a few ns a tick. Under light load the interval below comes first.
pub const HAND_OVER_BYTES: usize = 1 << 20;

/// ... or once this long has passed since the last hand-over. Waking the writer on every turn
/// cost the host thread about 30 % per `player.tick` (BENCHMARKS.md, 2026-12-07); a SIGKILL
/// now loses at most this much of a live match's lines (a result's are sealed at once).
pub const HAND_OVER_INTERVAL: Duration = Duration::from_millis(100);

/// [`Retention::max_age_ms`] by default: 14 days.
pub const DEFAULT_MAX_AGE_MS: u64 = 14 * 24 * 60 * 60 * 1000;

/// [`Retention::max_total_bytes`] by default: 2 GiB.
pub const DEFAULT_MAX_TOTAL_BYTES: u64 = 2 << 30;

/// [`Retention::max_log_bytes`] by default: 1 GiB of JSON lines, about three hours of a
/// 16-player, 20 Hz match whose players move (5.4 MiB a minute).
pub const DEFAULT_MAX_LOG_BYTES: u64 = 1 << 30;

/// The worker keeps at most this many active files open (least recently used first closed).
const MAX_OPEN_FILES: usize = 64;

/// The worker writes out what it gathered once this many bytes are pending.
const FLUSH_BYTES: usize = 1 << 20;

/// The zstd level of archived logs.
const ZSTD_LEVEL: i32 = 3;

/// At most this much of a file is read for its header line.
const MAX_HEADER_BYTES: u64 = 4 << 20;

/// The extension of an active log.
const ACTIVE_EXTENSION: &str = "jsonl";

/// The extension of a mod.
const MOD_EXTENSION: &str = "wasm";

/// The extension of a file being written (removed at start when a crash left it).
const TEMP_EXTENSION: &str = "tmp";

/// The `tracing` target of everything here.
const TARGET: &str = "nexori::recording";

/// How long and how much is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Logs older than this are deleted, ms.
    pub max_age_ms: u64,
    /// The oldest logs are deleted while all of them take more than this, bytes.
    pub max_total_bytes: u64,
    /// A live match's log stops at this many bytes of lines, with a `gap` record: a match
    /// that never ends must not fill the disk. Such a log cannot back a result, nor be
    /// replayed.
    pub max_log_bytes: u64,
}

impl Default for Retention {
    /// [`DEFAULT_MAX_AGE_MS`], [`DEFAULT_MAX_TOTAL_BYTES`] and [`DEFAULT_MAX_LOG_BYTES`].
    fn default() -> Self {
        Self {
            max_age_ms: DEFAULT_MAX_AGE_MS,
            max_total_bytes: DEFAULT_MAX_TOTAL_BYTES,
            max_log_bytes: DEFAULT_MAX_LOG_BYTES,
        }
    }
}

/// One line of a turn: which log, whether it is hashed, where it is in the turn's buffer.
#[derive(Debug, Clone)]
struct Entry {
    log: LogId,
    kind: LineKind,
    /// Set for a line the host wrote in a compact form ([`RecordSink::append_compact`]).
    render: Option<Render>,
    range: Range<usize>,
}

impl Entry {
    /// The entry's lines in `buf`: its line, or the lines it renders into `scratch` if it was
    /// written compact.
    fn lines<'a>(
        &self,
        buf: &'a [u8],
        scratch: &'a mut Vec<u8>,
    ) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let bytes = &buf[self.range.clone()];
        let rendered = match self.render {
            Some(render) => {
                scratch.clear();
                render(bytes, scratch);
                // A render that wrote nothing gives no line (never an empty one).
                Some(
                    scratch
                        .split(|b| *b == b'\n')
                        .filter(|line| !line.is_empty()),
                )
            }
            None => None,
        };
        let plain = rendered.is_none().then_some(bytes);
        rendered.into_iter().flatten().chain(plain)
    }
}

/// A turn's buffers, which the writer hands back once it has copied the lines out, so that the
/// host thread reuses warm memory instead of growing fresh buffers after every hand-over.
type Spare = (Vec<u8>, Vec<Entry>);

/// The writer keeps no spare buffers bigger than this (a burst's) for the host.
const MAX_SPARE_BYTES: usize = 4 * HAND_OVER_BYTES;

/// What an [`Entry`] costs in the queue besides its line.
const ENTRY_BYTES: usize = std::mem::size_of::<Entry>();

/// Lines lost from one log: the `at` of the first, and how many.
#[derive(Debug, Clone, Copy)]
struct Lost {
    at: i64,
    lines: usize,
}

impl Lost {
    fn add(this: &mut Option<Self>, at: i64, lines: usize) {
        match this {
            Some(lost) => lost.lines += lines,
            None => *this = Some(Self { at, lines }),
        }
    }
}

/// What the host hands to the worker, in order.
enum Job {
    Open {
        log: LogId,
        header: Vec<u8>,
        sha256: String,
        module: Arc<[u8]>,
    },
    Turn {
        buf: Vec<u8>,
        index: Vec<Entry>,
    },
    /// Lines the host dropped (the queue was full), before anything else of those logs.
    Lost(Vec<(LogId, Lost)>),
    Seal {
        log: LogId,
        reply: SyncSender<Result<String, SealError>>,
    },
    Close(LogId),
    Shutdown,
}

impl Job {
    /// The bytes it holds, as counted against the queue's limit.
    fn cost(&self) -> usize {
        match self {
            Self::Open { header, .. } => header.len(),
            Self::Turn { buf, index } => buf.len() + index.len() * ENTRY_BYTES,
            _ => 0,
        }
    }
}

/// Writes logs into a directory from a worker thread ([module docs](self)).
///
/// The host's side only copies lines: [`append`](RecordSink::append),
/// [`append_with`](RecordSink::append_with) and [`append_compact`](RecordSink::append_compact)
/// add to a buffer, which [`end_turn`](RecordSink::end_turn) hands to the worker without
/// waiting once it holds [`HAND_OVER_BYTES`] or [`HAND_OVER_INTERVAL`] has passed. When the worker
/// falls [`MAX_QUEUED_BYTES`] behind, turns are dropped and their logs get a `gap` record;
/// [`seal`](RecordSink::seal) waits for the worker (at most [`SEAL_TIMEOUT`]). Dropping the
/// sink flushes the live logs to `active/` (they are archived by the next start).
pub struct DirSink {
    dir: PathBuf,
    jobs: Option<Sender<Job>>,
    worker: Option<(JoinHandle<()>, Receiver<()>)>,
    queued: Arc<AtomicUsize>,
    max_queued: usize,
    next_id: u64,
    buf: Vec<u8>,
    index: Vec<Entry>,
    /// Lines dropped and not yet reported to the worker.
    lost: HashMap<LogId, Lost>,
    /// Logs that lost lines: they cannot be sealed.
    broken: HashSet<LogId>,
    /// When the lines last went to the writer.
    handed_over_at: std::time::Instant,
    /// Buffers the writer is done with.
    spares: Receiver<Spare>,
}

impl std::fmt::Debug for DirSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirSink")
            .field("dir", &self.dir)
            .field("queued", &self.queued.load(Ordering::Relaxed))
            .field("broken", &self.broken.len())
            .finish_non_exhaustive()
    }
}

impl DirSink {
    /// Starts the writer for `dir`: creates `active/`, `logs/` and `mods/` there, and the worker
    /// thread, which first archives the logs a killed host left in `active/` and applies
    /// `retention`.
    ///
    /// # Errors
    ///
    /// When the directories cannot be created or the thread cannot be started.
    pub fn start(dir: PathBuf, retention: Retention) -> io::Result<Self> {
        Self::start_with_limits(dir, retention, MAX_QUEUED_BYTES)
    }

    /// [`start`](Self::start) with another limit than [`MAX_QUEUED_BYTES`] on the bytes waiting
    /// for the worker (tests).
    ///
    /// # Errors
    ///
    /// As [`start`](Self::start).
    pub fn start_with_limits(
        dir: PathBuf,
        retention: Retention,
        max_queued_bytes: usize,
    ) -> io::Result<Self> {
        let mut worker = Worker::new(&dir, retention)?;
        let (spare_tx, spares) = mpsc::sync_channel(2);
        worker.spare = Some(spare_tx);
        let queued = Arc::new(AtomicUsize::new(0));
        let (jobs, rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::sync_channel::<()>(1);
        let worker_queued = queued.clone();
        let handle = std::thread::Builder::new()
            .name("nexori-recording".into())
            .spawn(move || {
                // Dropped when the worker ends, however it ends: what the host waits for.
                let _done = done_tx;
                worker.run(&rx, &worker_queued);
            })?;
        Ok(Self {
            dir,
            jobs: Some(jobs),
            worker: Some((handle, done_rx)),
            queued,
            max_queued: max_queued_bytes,
            next_id: 0,
            buf: Vec::new(),
            index: Vec::new(),
            lost: HashMap::new(),
            broken: HashSet::new(),
            handed_over_at: std::time::Instant::now(),
            spares,
        })
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The read side of the same directory.
    pub fn store(&self) -> RecordingStore {
        RecordingStore::new(self.dir.clone())
    }

    /// Sends `job` to the worker, after the losses it has not heard of. False when the worker is
    /// gone.
    fn send(&mut self, job: Job) -> bool {
        let Some(jobs) = &self.jobs else {
            return false;
        };
        if !self.lost.is_empty() {
            let lost = self.lost.drain().collect();
            if jobs.send(Job::Lost(lost)).is_err() {
                return false;
            }
        }
        let cost = job.cost();
        self.queued.fetch_add(cost, Ordering::AcqRel);
        if jobs.send(job).is_err() {
            self.queued.fetch_sub(cost, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Counts `line` of `log` as lost (the worker warns about it once it hears of it).
    fn lose(&mut self, log: LogId, line: &[u8]) {
        self.lost
            .entry(log)
            .or_insert_with(|| Lost {
                at: line_at(line),
                lines: 0,
            })
            .lines += 1;
        self.broken.insert(log);
    }

    /// Appends what `write` writes straight into the turn's buffer.
    fn append_written(
        &mut self,
        log: LogId,
        kind: LineKind,
        render: Option<Render>,
        write: &mut dyn FnMut(&mut Vec<u8>),
    ) {
        let start = self.buf.len();
        write(&mut self.buf);
        if self.buf.len() + (self.index.len() + 1) * ENTRY_BYTES > self.max_queued {
            // Rare: take the line back out and let `append` make room or drop it.
            let written = self.buf.split_off(start);
            let entry = Entry {
                log,
                kind,
                render,
                range: 0..written.len(),
            };
            let mut scratch = Vec::new();
            for line in entry.lines(&written, &mut scratch) {
                self.append(log, kind, line);
            }
            return;
        }
        self.index.push(Entry {
            log,
            kind,
            render,
            range: start..self.buf.len(),
        });
    }

    /// Hands the turn's lines to the worker, or drops them when the queue is full.
    fn hand_over(&mut self) {
        if self.index.is_empty() {
            return;
        }
        self.handed_over_at = std::time::Instant::now();
        let buf = std::mem::take(&mut self.buf);
        let index = std::mem::take(&mut self.index);
        let cost = buf.len() + index.len() * ENTRY_BYTES;
        if self.queued.load(Ordering::Acquire) + cost > self.max_queued {
            let mut scratch = Vec::new();
            for entry in &index {
                for line in entry.lines(&buf, &mut scratch) {
                    self.lose(entry.log, line);
                }
            }
            // Keep the allocations for the next turn.
            self.buf = buf;
            self.buf.clear();
            self.index = index;
            self.index.clear();
            return;
        }
        self.send(Job::Turn { buf, index });
        if let Ok((buf, index)) = self.spares.try_recv() {
            (self.buf, self.index) = (buf, index);
        }
    }
}

impl RecordSink for DirSink {
    fn open(&mut self, header_line: &[u8], sha256: &str, module: &Arc<[u8]>) -> LogId {
        self.next_id += 1;
        let log = LogId(self.next_id);
        self.send(Job::Open {
            log,
            header: header_line.to_vec(),
            sha256: sha256.to_string(),
            module: module.clone(),
        });
        log
    }

    fn append(&mut self, log: LogId, kind: LineKind, line: &[u8]) {
        let cost = |buf: &Vec<u8>, index: &Vec<Entry>| {
            buf.len() + line.len() + (index.len() + 1) * ENTRY_BYTES
        };
        if cost(&self.buf, &self.index) > self.max_queued {
            // The turn alone is too big for the queue: send what is there first.
            self.hand_over();
            if cost(&self.buf, &self.index) > self.max_queued {
                self.lose(log, line);
                return;
            }
        }
        let start = self.buf.len();
        self.buf.extend_from_slice(line);
        self.index.push(Entry {
            log,
            kind,
            render: None,
            range: start..self.buf.len(),
        });
    }

    fn append_with(&mut self, log: LogId, kind: LineKind, write: &mut dyn FnMut(&mut Vec<u8>)) {
        self.append_written(log, kind, None, write);
    }

    fn append_compact(
        &mut self,
        log: LogId,
        kind: LineKind,
        render: Render,
        write: &mut dyn FnMut(&mut Vec<u8>),
    ) {
        self.append_written(log, kind, Some(render), write);
    }

    fn seal(&mut self, log: LogId) -> Result<String, SealError> {
        let fell_behind = || {
            SealError::Broken("the recording writer fell behind and lost lines of the log".into())
        };
        if self.broken.contains(&log) {
            return Err(fell_behind());
        }
        self.hand_over();
        if self.broken.contains(&log) {
            return Err(fell_behind());
        }
        let (reply, answer) = mpsc::sync_channel(1);
        if !self.send(Job::Seal { log, reply }) {
            return Err(SealError::Broken("the recording writer stopped".into()));
        }
        match answer.recv_timeout(SEAL_TIMEOUT) {
            Ok(answer) => answer,
            Err(RecvTimeoutError::Timeout) => Err(SealError::Timeout(
                u64::try_from(SEAL_TIMEOUT.as_millis()).unwrap_or(u64::MAX),
            )),
            Err(RecvTimeoutError::Disconnected) => {
                Err(SealError::Broken("the recording writer stopped".into()))
            }
        }
    }

    fn close(&mut self, log: LogId) {
        self.hand_over();
        self.broken.remove(&log);
        self.send(Job::Close(log));
    }

    fn end_turn(&mut self) {
        if self.buf.len() >= HAND_OVER_BYTES || self.handed_over_at.elapsed() >= HAND_OVER_INTERVAL
        {
            self.hand_over();
        }
    }
}

impl Drop for DirSink {
    fn drop(&mut self) {
        self.hand_over();
        self.send(Job::Shutdown);
        self.jobs = None;
        let Some((handle, done)) = self.worker.take() else {
            return;
        };
        match done.recv_timeout(SHUTDOWN_TIMEOUT) {
            Err(RecvTimeoutError::Timeout) => tracing::warn!(
                target: TARGET,
                dir = %self.dir.display(),
                "the recording writer did not finish within {} s: the last lines of live matches may be lost",
                SHUTDOWN_TIMEOUT.as_secs()
            ),
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                if handle.join().is_err() {
                    tracing::error!(target: TARGET, dir = %self.dir.display(), "the recording writer panicked");
                }
            }
        }
    }
}

/// The `at` of a record line, 0 when it has none.
fn line_at(line: &[u8]) -> i64 {
    if let Some(rest) = line.strip_prefix(b"{\"at\":") {
        let end = rest
            .iter()
            .enumerate()
            .position(|(i, b)| !(b.is_ascii_digit() || (i == 0 && *b == b'-')))
            .unwrap_or(rest.len());
        if let Some(at) = std::str::from_utf8(&rest[..end])
            .ok()
            .and_then(|s| s.parse().ok())
        {
            return at;
        }
    }
    serde_json::from_slice::<Value>(line)
        .ok()
        .and_then(|v| v.get("at").and_then(Value::as_i64))
        .unwrap_or(0)
}

/// A `gap` record line.
fn gap_line(lost: Lost, why: &str) -> Vec<u8> {
    let mut line = Vec::with_capacity(96);
    begin_record(&mut line, lost.at);
    let plural = if lost.lines == 1 { "line" } else { "lines" };
    let text = format!("{why}; {} {plural} lost", lost.lines);
    line.extend_from_slice(b"\"gap\":");
    line.extend_from_slice(&serde_json::to_vec(&text).unwrap_or_default());
    line.push(b'}');
    line
}

/// The part of a log's name for its match id: lowercase `[a-z0-9._-]`, anything else `_`, at
/// most 64 characters.
fn safe_match_id(match_id: &str) -> String {
    let safe: String = match_id
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    if safe.is_empty() { "_".into() } else { safe }
}

/// The first 12 hex digits of a SHA-256, made safe for a file name.
fn sha12(sha256: &str) -> String {
    sha256
        .chars()
        .take(12)
        .map(|c| {
            if c.is_ascii_hexdigit() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The `sha12` part of a log's name (`<match>~<startedAt>~<sha12>[~<n>]`).
fn name_sha12(stem: &str) -> Option<&str> {
    stem.split('~').nth(2)
}

/// Whether `sha256` can name a mod file.
fn is_sha(sha256: &str) -> bool {
    sha256.len() >= 12 && sha256.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A match id made comparable: trimmed, lowercase.
fn match_key(match_id: &str) -> String {
    match_id.trim().to_lowercase()
}

/// The length of a file's complete lines (up to and with its last `\n`).
fn complete_len(file: &mut File) -> io::Result<u64> {
    let mut end = file.metadata()?.len();
    let mut chunk = vec![0; 64 * 1024];
    while end > 0 {
        let start = end.saturating_sub(chunk.len() as u64);
        let n = usize::try_from(end - start).unwrap_or(chunk.len());
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut chunk[..n])?;
        if let Some(i) = chunk[..n].iter().rposition(|b| *b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// Makes a directory's entries durable (a file created or renamed in it).
fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// The path with `.tmp` appended to its name.
fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(TEMP_EXTENSION);
    path.with_file_name(name)
}

/// Writes `bytes` to `path` durably: a temporary file, fsync, rename.
fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let temp = temp_path(path);
    let result = (|| {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

/// Compresses the complete lines of `active` into `archive` (through a temporary file, fsynced,
/// renamed). `Ok(None)` when there is no complete line to keep.
fn compress_file(active: &Path, archive: &Path) -> io::Result<Option<(u64, SystemTime)>> {
    let mut input = File::open(active)?;
    let complete = complete_len(&mut input)?;
    if complete == 0 {
        return Ok(None);
    }
    input.seek(SeekFrom::Start(0))?;
    let temp = temp_path(archive);
    let result = (|| {
        let out = File::create(&temp)?;
        let mut encoder = zstd::stream::write::Encoder::new(BufWriter::new(out), ZSTD_LEVEL)?;
        let copied = io::copy(&mut BufReader::new(input).take(complete), &mut encoder)?;
        if copied != complete {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{} shrank while it was archived", active.display()),
            ));
        }
        let out = encoder
            .finish()?
            .into_inner()
            .map_err(io::IntoInnerError::into_error)?;
        out.sync_all()?;
        let meta = out.metadata()?;
        let modified = meta.modified().unwrap_or_else(|_| SystemTime::now());
        drop(out);
        fs::rename(&temp, archive)?;
        Ok((meta.len(), modified))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result.map(Some)
}

/// A live log, on the worker.
struct Live {
    name: String,
    path: PathBuf,
    sha12: String,
    header: Vec<u8>,
    header_written: bool,
    hasher: InputHasher,
    /// Lines not yet written, each with its newline.
    pending: Vec<u8>,
    dirty: bool,
    file: Option<File>,
    last_used: u64,
    /// Bytes of the active file known complete (a failed write is cut back to it).
    written: u64,
    dir_synced: bool,
    /// Why the log cannot be sealed.
    broken: Option<String>,
    /// Lines that could not be written, reported with a gap line once writing works again.
    io_lost: Option<Lost>,
    error_logged: bool,
    /// Whether the loss of lines the host dropped was logged.
    gap_logged: bool,
    /// Bytes of the log so far, the header and every line with its newline.
    bytes: u64,
    /// Whether the log reached [`Retention::max_log_bytes`]: the lines after are dropped.
    full: bool,
}

/// A compressed log in `logs/`, as retention knows it.
struct Archived {
    path: PathBuf,
    sha12: Option<String>,
    bytes: u64,
    modified: SystemTime,
}

/// The worker thread's state.
struct Worker {
    active: PathBuf,
    logs: PathBuf,
    mods: PathBuf,
    retention: Retention,
    live: HashMap<LogId, Live>,
    dirty: Vec<LogId>,
    pending_bytes: usize,
    open_files: usize,
    tick: u64,
    /// Oldest first.
    archives: Vec<Archived>,
    total_bytes: u64,
    /// SHA-256 → file.
    mods_known: BTreeMap<String, PathBuf>,
    /// Names of active files that could not be archived (their mods are kept).
    stranded: Vec<String>,
    /// Where a turn's emptied buffers go back to the host.
    spare: Option<SyncSender<Spare>>,
    /// Where compact lines are rendered.
    scratch: Vec<u8>,
}

impl Worker {
    fn new(dir: &Path, retention: Retention) -> io::Result<Self> {
        let active = dir.join("active");
        let logs = dir.join("logs");
        let mods = dir.join("mods");
        for sub in [&active, &logs, &mods] {
            fs::create_dir_all(sub)?;
        }
        Ok(Self {
            active,
            logs,
            mods,
            retention,
            live: HashMap::new(),
            dirty: Vec::new(),
            pending_bytes: 0,
            open_files: 0,
            tick: 0,
            archives: Vec::new(),
            total_bytes: 0,
            mods_known: BTreeMap::new(),
            stranded: Vec::new(),
            spare: None,
            scratch: Vec::new(),
        })
    }

    fn run(mut self, jobs: &Receiver<Job>, queued: &AtomicUsize) {
        self.scan();
        self.recover();
        self.prune();
        loop {
            let Ok(job) = jobs.recv() else {
                break;
            };
            if !self.handle(job, queued) {
                break;
            }
            // Whatever else is there is handled before writing: a worker that is behind writes
            // in bigger batches.
            let mut more = true;
            while more {
                match jobs.try_recv() {
                    Ok(job) => {
                        if !self.handle(job, queued) {
                            return self.shutdown();
                        }
                        if self.pending_bytes >= FLUSH_BYTES {
                            self.write_dirty();
                        }
                    }
                    Err(TryRecvError::Empty) => more = false,
                    Err(TryRecvError::Disconnected) => return self.shutdown(),
                }
            }
            self.write_dirty();
        }
        self.shutdown();
    }

    /// False on shutdown.
    fn handle(&mut self, job: Job, queued: &AtomicUsize) -> bool {
        let cost = job.cost();
        let go_on = match job {
            Job::Open {
                log,
                header,
                sha256,
                module,
            } => {
                self.open(log, header, &sha256, &module);
                true
            }
            Job::Turn { mut buf, mut index } => {
                for entry in &index {
                    let log = entry.log;
                    let Some(live) = self.live.get_mut(&log) else {
                        continue;
                    };
                    for line in entry.lines(&buf, &mut self.scratch) {
                        if live.full {
                            continue;
                        }
                        let mut line = line;
                        let gap;
                        let max = self.retention.max_log_bytes;
                        if live.bytes + line.len() as u64 + 1 > max {
                            live.full = true;
                            live.broken.get_or_insert_with(|| {
                                format!("the log reached recording.maxLogBytes ({max} bytes)")
                            });
                            tracing::warn!(target: TARGET, log = %live.name, "the log of a live match reached recording.maxLogBytes ({max} bytes): the rest of the match is not recorded, and its result will carry no input hash");
                            gap = record_line(
                                line_at(line),
                                "gap",
                                &Value::from(format!(
                                    "the log reached its size limit of {max} bytes; the rest of the match is not recorded"
                                )),
                            );
                            line = &gap;
                        } else if entry.kind == LineKind::Input {
                            live.hasher.line(line);
                        }
                        live.bytes += line.len() as u64 + 1;
                        live.pending.extend_from_slice(line);
                        live.pending.push(b'\n');
                        self.pending_bytes += line.len() + 1;
                    }
                    if !live.dirty {
                        live.dirty = true;
                        self.dirty.push(log);
                    }
                }
                if let Some(spare) = &self.spare
                    && buf.capacity() <= MAX_SPARE_BYTES
                {
                    buf.clear();
                    index.clear();
                    // Full: the host has buffers enough; these are freed.
                    let _ = spare.try_send((buf, index));
                }
                true
            }
            Job::Lost(lost) => {
                for (log, lost) in lost {
                    let Some(live) = self.live.get_mut(&log) else {
                        continue;
                    };
                    let line = gap_line(lost, "the recording writer fell behind");
                    live.pending.extend_from_slice(&line);
                    live.pending.push(b'\n');
                    self.pending_bytes += line.len() + 1;
                    live.broken.get_or_insert_with(|| {
                        "the recording writer fell behind and lost lines of the log".into()
                    });
                    if !live.gap_logged {
                        live.gap_logged = true;
                        tracing::warn!(
                            target: TARGET,
                            file = %live.path.display(),
                            lines = lost.lines,
                            "the recording writer fell behind: lines of this match's log were dropped, it cannot back a result"
                        );
                    }
                    if !live.dirty {
                        live.dirty = true;
                        self.dirty.push(log);
                    }
                }
                true
            }
            Job::Seal { log, reply } => {
                let _ = reply.send(self.seal(log));
                true
            }
            Job::Close(log) => {
                self.close(log);
                true
            }
            Job::Shutdown => false,
        };
        queued.fetch_sub(cost, Ordering::AcqRel);
        go_on
    }

    /// Lists `logs/` and `mods/`, removing what a crash left half written.
    fn scan(&mut self) {
        for (dir, wanted) in [(&self.logs, EXTENSION), (&self.mods, MOD_EXTENSION)] {
            let entries = match fs::read_dir(dir) {
                Ok(entries) => entries,
                Err(e) => {
                    tracing::error!(target: TARGET, dir = %dir.display(), error = %e, "cannot list the recordings");
                    continue;
                }
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                if extension == TEMP_EXTENSION {
                    if let Err(e) = fs::remove_file(&path) {
                        tracing::error!(target: TARGET, file = %path.display(), error = %e, "cannot delete a half-written file");
                    }
                    continue;
                }
                if extension != wanted {
                    continue;
                }
                let Some(stem) = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .map(str::to_string)
                else {
                    continue;
                };
                let Ok(meta) = entry.metadata() else {
                    continue;
                };
                if !meta.is_file() {
                    continue;
                }
                if wanted == EXTENSION {
                    self.total_bytes += meta.len();
                    self.archives.push(Archived {
                        sha12: name_sha12(&stem).map(sha12),
                        path,
                        bytes: meta.len(),
                        modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                    });
                } else if is_sha(&stem) {
                    self.mods_known.insert(stem.to_ascii_lowercase(), path);
                }
            }
        }
        self.archives.sort_by_key(|a| a.modified);
    }

    /// Archives what a killed host left in `active/`.
    fn recover(&mut self) {
        let entries = match fs::read_dir(&self.active) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::error!(target: TARGET, dir = %self.active.display(), error = %e, "cannot list the active recordings");
                return;
            }
        };
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().and_then(|e| e.to_str()) == Some(ACTIVE_EXTENSION))
            .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(str::to_string))
            .collect();
        names.sort();
        for name in names {
            tracing::info!(target: TARGET, log = %name, "archiving the log of a match the last run did not close");
            self.archive(&name);
        }
    }

    /// A name no live, active or archived log has.
    fn unique_name(&self, base: &str) -> String {
        let taken = |name: &str| {
            self.live.values().any(|l| l.name == name)
                || self.active_path(name).exists()
                || self.archive_path(name).exists()
        };
        if !taken(base) {
            return base.to_string();
        }
        (2u64..)
            .map(|n| format!("{base}~{n}"))
            .find(|name| !taken(name))
            .unwrap_or_else(|| base.to_string())
    }

    fn active_path(&self, name: &str) -> PathBuf {
        self.active.join(format!("{name}.{ACTIVE_EXTENSION}"))
    }

    fn archive_path(&self, name: &str) -> PathBuf {
        self.logs.join(format!("{name}.{EXTENSION}"))
    }

    fn open(&mut self, log: LogId, header: Vec<u8>, sha256: &str, module: &Arc<[u8]>) {
        let parsed: Value = serde_json::from_slice(&header).unwrap_or(Value::Null);
        let match_id = parsed.get("matchId").and_then(Value::as_str).unwrap_or("");
        let started_at = parsed.get("startedAt").and_then(Value::as_i64).unwrap_or(0);
        let sha12 = sha12(sha256);
        let name = self.unique_name(&format!("{}~{started_at}~{sha12}", safe_match_id(match_id)));
        let mut hasher = InputHasher::default();
        hasher.line(&header);
        let header_bytes = header.len() as u64 + 1;
        let path = self.active_path(&name);
        self.live.insert(
            log,
            Live {
                name,
                path,
                sha12,
                header,
                header_written: false,
                hasher,
                pending: Vec::new(),
                dirty: true,
                file: None,
                last_used: 0,
                written: 0,
                dir_synced: false,
                broken: None,
                io_lost: None,
                error_logged: false,
                gap_logged: false,
                bytes: header_bytes,
                full: false,
            },
        );
        self.dirty.push(log);
        self.write_mod(sha256, module);
    }

    /// Keeps the mod beside the logs, once per SHA-256.
    fn write_mod(&mut self, sha256: &str, module: &Arc<[u8]>) {
        if !is_sha(sha256) {
            tracing::error!(target: TARGET, sha256, "not a SHA-256: the mod is not kept beside its logs");
            return;
        }
        let sha256 = sha256.to_ascii_lowercase();
        let path = self.mods.join(format!("{sha256}.{MOD_EXTENSION}"));
        if path.exists() {
            self.mods_known.insert(sha256, path);
            return;
        }
        match write_atomically(&path, module) {
            Ok(()) => {
                self.mods_known.insert(sha256, path);
            }
            Err(e) => {
                tracing::error!(target: TARGET, file = %path.display(), error = %e, "cannot keep the mod beside its logs");
            }
        }
    }

    /// Makes sure `log`'s active file is open, closing the least recently used one when
    /// [`MAX_OPEN_FILES`] are.
    fn ensure_open(&mut self, log: LogId) -> io::Result<()> {
        self.tick += 1;
        let tick = self.tick;
        let needs_open = self.live.get(&log).is_some_and(|l| l.file.is_none());
        if needs_open
            && self.open_files >= MAX_OPEN_FILES
            && let Some(oldest) = self
                .live
                .values_mut()
                .filter(|l| l.file.is_some())
                .min_by_key(|l| l.last_used)
        {
            oldest.file = None;
            self.open_files -= 1;
        }
        let Some(live) = self.live.get_mut(&log) else {
            return Err(io::Error::other("no such log"));
        };
        live.last_used = tick;
        if live.file.is_none() {
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&live.path)?;
            live.file = Some(file);
            self.open_files += 1;
        }
        Ok(())
    }

    fn write_dirty(&mut self) {
        for log in std::mem::take(&mut self.dirty) {
            self.write(log);
        }
    }

    /// Appends `log`'s pending lines to its active file.
    fn write(&mut self, log: LogId) {
        let Some(live) = self.live.get_mut(&log) else {
            return;
        };
        live.dirty = false;
        if live.pending.is_empty() && live.io_lost.is_none() && live.header_written {
            return;
        }
        let opened = self.ensure_open(log);
        let Some(live) = self.live.get_mut(&log) else {
            return;
        };
        let pending = std::mem::take(&mut live.pending);
        self.pending_bytes = self.pending_bytes.saturating_sub(pending.len());
        let mut bytes = Vec::new();
        if !live.header_written {
            bytes.extend_from_slice(&live.header);
            bytes.push(b'\n');
        }
        if let Some(lost) = live.io_lost {
            bytes.extend_from_slice(&gap_line(lost, "the recording writer could not write"));
            bytes.push(b'\n');
        }
        let data: &[u8] = if bytes.is_empty() {
            &pending
        } else {
            bytes.extend_from_slice(&pending);
            &bytes
        };
        let result = opened.and_then(|()| match &mut live.file {
            Some(file) => file.write_all(data),
            None => Err(io::Error::other("the file is not open")),
        });
        match result {
            Ok(()) => {
                live.written += data.len() as u64;
                live.header_written = true;
                live.io_lost = None;
            }
            Err(e) => {
                // Cut a line written in part, so the next write starts on a line of its own.
                if let Some(file) = live.file.take() {
                    let _ = file.set_len(live.written);
                    self.open_files -= 1;
                }
                let lines = pending.iter().filter(|b| **b == b'\n').count();
                if lines > 0 {
                    let first = pending.split(|b| *b == b'\n').next().unwrap_or_default();
                    Lost::add(&mut live.io_lost, line_at(first), lines);
                }
                Self::failed(live, &e, "cannot write the log");
            }
        }
    }

    /// Marks `live` broken by `e`, logging it once.
    fn failed(live: &mut Live, e: &io::Error, what: &str) {
        if live.broken.is_none() {
            live.broken = Some(format!("{what} {}: {e}", live.path.display()));
        }
        if !live.error_logged {
            live.error_logged = true;
            tracing::error!(target: TARGET, file = %live.path.display(), error = %e, "{what}: the log cannot back a result");
        }
    }

    fn seal(&mut self, log: LogId) -> Result<String, SealError> {
        if !self.live.contains_key(&log) {
            return Err(SealError::Broken(format!("no open log {}", log.0)));
        }
        self.write(log);
        let opened = self.ensure_open(log);
        let Some(live) = self.live.get_mut(&log) else {
            return Err(SealError::Broken(format!("no open log {}", log.0)));
        };
        let synced = opened.and_then(|()| match &live.file {
            Some(file) => file.sync_data(),
            None => Err(io::Error::other("the file is not open")),
        });
        let synced = synced.and_then(|()| {
            if !live.dir_synced {
                sync_dir(&self.active)?;
                live.dir_synced = true;
            }
            Ok(())
        });
        if let Err(e) = synced {
            Self::failed(live, &e, "cannot sync the log");
        }
        match &live.broken {
            Some(why) => Err(SealError::Broken(why.clone())),
            None => Ok(live.hasher.hex()),
        }
    }

    fn close(&mut self, log: LogId) {
        if !self.live.contains_key(&log) {
            return;
        }
        self.write(log);
        let Some(live) = self.live.remove(&log) else {
            return;
        };
        if live.file.is_some() {
            self.open_files -= 1;
        }
        drop(live.file);
        if live.path.exists() {
            self.archive(&live.name);
        }
        self.prune();
    }

    /// Compresses `active/<name>.jsonl` into `logs/`, then deletes it.
    fn archive(&mut self, name: &str) {
        let active = self.active_path(name);
        let archive_name = if self.archive_path(name).exists() {
            self.unique_name(name)
        } else {
            name.to_string()
        };
        let archive = self.archive_path(&archive_name);
        match compress_file(&active, &archive) {
            Ok(Some((bytes, modified))) => {
                if let Err(e) = sync_dir(&self.logs) {
                    tracing::warn!(target: TARGET, dir = %self.logs.display(), error = %e, "cannot sync the directory");
                }
                self.total_bytes += bytes;
                self.archives.push(Archived {
                    path: archive,
                    sha12: name_sha12(&archive_name).map(sha12),
                    bytes,
                    modified,
                });
                // Retention counts on them being oldest first.
                if self
                    .archives
                    .windows(2)
                    .last()
                    .is_some_and(|w| w[0].modified > w[1].modified)
                {
                    self.archives.sort_by_key(|a| a.modified);
                }
            }
            Ok(None) => {
                tracing::warn!(target: TARGET, file = %active.display(), "an active log without a complete line: deleted");
            }
            Err(e) => {
                tracing::error!(target: TARGET, file = %active.display(), archive = %archive.display(), error = %e, "cannot archive the log: it stays in active/ until the next start");
                self.stranded.push(name.to_string());
                return;
            }
        }
        if let Err(e) = fs::remove_file(&active) {
            tracing::error!(target: TARGET, file = %active.display(), error = %e, "cannot delete an archived active log");
        }
    }

    /// Deletes the oldest logs while they are too old or too many bytes, then the mods no log
    /// refers to.
    fn prune(&mut self) {
        let now = SystemTime::now();
        let max_age = Duration::from_millis(self.retention.max_age_ms);
        let mut deleted = 0;
        for archived in &self.archives {
            let age = now.duration_since(archived.modified).unwrap_or_default();
            if age <= max_age && self.total_bytes <= self.retention.max_total_bytes {
                break;
            }
            match fs::remove_file(&archived.path) {
                Ok(()) => {
                    tracing::debug!(target: TARGET, file = %archived.path.display(), "retention deleted a log");
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::error!(target: TARGET, file = %archived.path.display(), error = %e, "retention cannot delete a log");
                }
            }
            self.total_bytes = self.total_bytes.saturating_sub(archived.bytes);
            deleted += 1;
        }
        self.archives.drain(..deleted);

        let referenced: HashSet<&str> = self
            .archives
            .iter()
            .filter_map(|a| a.sha12.as_deref())
            .chain(self.live.values().map(|l| l.sha12.as_str()))
            .chain(self.stranded.iter().filter_map(|n| name_sha12(n)))
            .collect();
        let unreferenced: Vec<String> = self
            .mods_known
            .keys()
            .filter(|sha| !referenced.contains(sha12(sha).as_str()))
            .cloned()
            .collect();
        for sha in unreferenced {
            let Some(path) = self.mods_known.remove(&sha) else {
                continue;
            };
            match fs::remove_file(&path) {
                Ok(()) => {
                    tracing::debug!(target: TARGET, file = %path.display(), "retention deleted a mod no log refers to");
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::error!(target: TARGET, file = %path.display(), error = %e, "retention cannot delete a mod");
                }
            }
        }
    }

    /// The host stops: every pending line goes to its active file, fsynced. Nothing is archived
    /// (those matches did not close; the next start archives them).
    fn shutdown(&mut self) {
        self.write_dirty();
        let logs: Vec<LogId> = self.live.keys().copied().collect();
        for log in logs {
            self.write(log);
            let Some(live) = self.live.get_mut(&log) else {
                continue;
            };
            if let Some(file) = &live.file
                && let Err(e) = file.sync_data()
            {
                Self::failed(live, &e, "cannot sync the log");
            }
        }
        if let Err(e) = sync_dir(&self.active) {
            tracing::warn!(target: TARGET, dir = %self.active.display(), error = %e, "cannot sync the directory");
        }
        self.live.clear();
    }
}

/// Why a log could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The file cannot be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not a log.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: ReadError,
    },
    /// The mod that served the match is gone (retention, or deleted by hand).
    #[error("the mod {sha256} is no longer in {}: pass it with --mod", mods.display())]
    ModMissing {
        /// The mod's SHA-256, from the log's header.
        sha256: String,
        /// The directory it was looked for in (`<dir>/mods`).
        mods: PathBuf,
    },
}

/// The read side of a data directory's recordings ([module docs](self)), for the CLI.
#[derive(Debug, Clone)]
pub struct RecordingStore {
    dir: PathBuf,
}

impl RecordingStore {
    /// The recordings in `dir` (the directory a [`DirSink`] writes to).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The logs of `match_id` (compared with the headers' `matchId`, trimmed and lowercase):
    /// archived `logs/*.nxlog` and live (or left by a killed host) `active/*.jsonl`, newest
    /// first (by `startedAt`, then by modification time). Files that cannot be read are skipped.
    ///
    /// # Errors
    ///
    /// When a directory exists but cannot be listed.
    pub fn find(&self, match_id: &str) -> io::Result<Vec<PathBuf>> {
        let wanted = match_key(match_id);
        let prefix = safe_match_id(match_id);
        let mut found: Vec<(i64, SystemTime, PathBuf)> = Vec::new();
        for (sub, extension) in [("logs", EXTENSION), ("active", ACTIVE_EXTENSION)] {
            let entries = match fs::read_dir(self.dir.join(sub)) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let path = entry?.path();
                if path.extension().and_then(|e| e.to_str()) != Some(extension) {
                    continue;
                }
                // The name starts with the match id made safe for a file name: a cheap way to
                // skip the other matches' logs. The header decides.
                let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
                if let Some((safe, _)) = stem.split_once('~')
                    && safe != prefix
                {
                    continue;
                }
                let Ok(header) = header_of(&path) else {
                    continue;
                };
                if header.get("matchId").and_then(Value::as_str).map(match_key)
                    != Some(wanted.clone())
                {
                    continue;
                }
                let started_at = header.get("startedAt").and_then(Value::as_i64).unwrap_or(0);
                let modified = fs::metadata(&path)
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                found.push((started_at, modified, path));
            }
        }
        found.sort_by_key(|(started_at, modified, _)| std::cmp::Reverse((*started_at, *modified)));
        Ok(found.into_iter().map(|(_, _, path)| path).collect())
    }

    /// The mod whose file has SHA-256 `sha256`, from `mods/`; `None` when it is not there.
    ///
    /// # Errors
    ///
    /// When it cannot be read, or its bytes do not have that SHA-256.
    pub fn mod_bytes(&self, sha256: &str) -> io::Result<Option<Vec<u8>>> {
        let sha256 = sha256.trim().to_ascii_lowercase();
        if !is_sha(&sha256) {
            return Ok(None);
        }
        let path = self
            .dir
            .join("mods")
            .join(format!("{sha256}.{MOD_EXTENSION}"));
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        if sha256_hex(&bytes) != sha256 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} does not have the SHA-256 its name says", path.display()),
            ));
        }
        Ok(Some(bytes))
    }

    /// The log at `path` (compressed or a plain active file) as a self-contained compressed
    /// log: for each log in it, its header, its mod (`{"wasm": ...}`, from `mods/` unless it is
    /// already embedded), its records. A last line cut short is left out.
    ///
    /// # Errors
    ///
    /// [`ExportError`] when the file cannot be read or is not a log, or, when `require_mod`, a
    /// mod is not in `mods/` any more (without `require_mod` the log is exported without it).
    pub fn export(&self, path: &Path, require_mod: bool) -> Result<Vec<u8>, ExportError> {
        let bytes = fs::read(path).map_err(|source| ExportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let logs = read_logs(&bytes).map_err(|source| ExportError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        drop(bytes);
        let mut lines = Vec::new();
        for log in &logs {
            let sha256 = &log.header.module.sha256;
            let kept = match &log.wasm {
                Some(_) => None,
                None => self.mod_bytes(sha256).map_err(|source| ExportError::Io {
                    path: self
                        .dir
                        .join("mods")
                        .join(format!("{sha256}.{MOD_EXTENSION}")),
                    source,
                })?,
            };
            let wasm = log.wasm.as_deref().or(kept.as_deref());
            if wasm.is_none() && require_mod {
                return Err(ExportError::ModMissing {
                    sha256: sha256.clone(),
                    mods: self.dir.join("mods"),
                });
            }
            lines.extend_from_slice(&log.to_lines(wasm));
        }
        Ok(crate::format::compress(&lines))
    }
}

/// The header of a log file (its first line), compressed or not.
fn header_of(path: &Path) -> io::Result<Value> {
    let file = File::open(path)?;
    let mut line = Vec::new();
    if path.extension().and_then(|e| e.to_str()) == Some(EXTENSION) {
        let decoder = zstd::stream::read::Decoder::new(file)?;
        BufReader::new(decoder)
            .take(MAX_HEADER_BYTES)
            .read_until(b'\n', &mut line)?;
    } else {
        BufReader::new(file)
            .take(MAX_HEADER_BYTES)
            .read_until(b'\n', &mut line)?;
    }
    if line.last() != Some(&b'\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no complete header line",
        ));
    }
    serde_json::from_slice(&line).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe() {
        assert_eq!(safe_match_id("  Match/42 é!  "), "match_42___");
        assert_eq!(safe_match_id(""), "_");
        assert_eq!(safe_match_id(&"x".repeat(100)).len(), 64);
        assert_eq!(sha12("ABCDEF0123456789"), "abcdef012345");
        assert_eq!(name_sha12("m~1~abcdef012345~2"), Some("abcdef012345"));
    }

    #[test]
    fn the_at_of_a_line() {
        assert_eq!(line_at(br#"{"at":1234,"in":{}}"#), 1234);
        assert_eq!(line_at(br#"{"at":-5,"in":{}}"#), -5);
        assert_eq!(line_at(br#"{"in":{},"at":7}"#), 7);
        assert_eq!(line_at(b"nonsense"), 0);
    }

    #[test]
    fn gap_lines_read_back() {
        let line = gap_line(Lost { at: 9, lines: 3 }, "the recording writer fell behind");
        assert_eq!(
            line,
            br#"{"at":9,"gap":"the recording writer fell behind; 3 lines lost"}"#
        );
    }
}
