//! The match log format, `nexori-match-log/1` (docs/replay.md#the-log-format).
//!
//! A log is UTF-8 JSON lines, one object per line, compressed with zstd in a file (`.nxlog`):
//!
//! 1. the [`Header`]: which match, which mod (file SHA-256 and WIT version), the random seed and
//!    the settings the mod and runtime saw;
//! 2. optionally `{"wasm":"<base64>"}`, the mod itself (an exported log is self-contained);
//! 3. records, each with the host time `at` (epoch ms) and one of:
//!    - `"in"`: a bridge message the match accepted, as the bridge protocol writes it;
//!    - `"advance": true`: the host ran everything due up to `at` before the next input;
//!    - `"enqueued"`: what reporting answered when the match's result was handed over (status,
//!      message, result id), which the mod sees and which depends on more than this match;
//!    - `"out"` (a command to the game server), `"result"` (the result body as reported),
//!      `"fault"` (the mod faulted, with the reason) and `"closed": true` (the runtime closed
//!      the match): what the match did;
//!    - `"gap"`: the writer lost records here (it fell behind); such a log cannot be replayed.
//!
//! Several logs may follow one another in one file (`nexori simulate --record` of a scenario with
//! several matches): each header starts a new one.
//!
//! The **input hash** of a log is the SHA-256 over the bytes of its header line and of every
//! input, advance and enqueued line, each followed by `\n`, in order ([`InputHasher`]). A result
//! carries the hash of the inputs before it in its `metadata` (`inputLogSha256`), so a log can be
//! checked against a result: change one input and the hash differs ([`verify`](crate::verify::verify)).

use std::borrow::Cow;
use std::io::Read;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The format's name and version, the header's `format`.
pub const FORMAT: &str = "nexori-match-log/1";

/// The file name extension of a compressed log.
pub const EXTENSION: &str = "nxlog";

/// The `metadata` key of a reported result that holds the mod's SHA-256.
pub const MOD_SHA256_KEY: &str = "modSha256";

/// The `metadata` key of a reported result that holds the input hash of its log.
pub const INPUT_LOG_SHA256_KEY: &str = "inputLogSha256";

/// The first line of a log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    /// Always [`FORMAT`].
    pub format: String,
    /// The match, as its `match.create` named it.
    pub match_id: String,
    /// What recorded it: `serve`, `stdio`, `simulate`.
    pub recorded_by: String,
    /// The version of `nexori` that recorded it.
    pub nexori_version: String,
    /// Host time of the match's creation, epoch ms.
    pub started_at: i64,
    /// The mod that served the match.
    #[serde(rename = "mod")]
    pub module: ModIdentity,
    /// The seed of the match's WASI random generators, 32 hex digits.
    pub random_seed: String,
    /// What else the mod and the runtime saw (the mod's configuration and limits, the server's
    /// identity): the host's to write and read.
    pub settings: Value,
}

/// Which mod served a match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModIdentity {
    /// The mod's name (its file name without `.wasm`).
    pub name: String,
    /// SHA-256 of the mod's file, lowercase hex.
    pub sha256: String,
    /// The version of the `nexori:minigame` WIT package it was built against.
    pub wit: String,
}

impl Header {
    /// The header as its log line (no newline).
    pub fn to_line(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a header always serialises")
    }
}

/// Whether a line counts towards the input hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    /// An input, advance or enqueued record: hashed.
    Input,
    /// An output record (`out`, `result`, `fault`, `closed`) or a gap: not hashed.
    Output,
}

/// The running input hash of a log ([module docs](self)).
#[derive(Clone, Default)]
pub struct InputHasher(Sha256);

impl InputHasher {
    /// Adds one hashed line (without its newline).
    pub fn line(&mut self, line: &[u8]) {
        self.0.update(line);
        self.0.update(b"\n");
    }

    /// The hash of the lines so far, lowercase hex.
    pub fn hex(&self) -> String {
        hex(&self.0.clone().finalize())
    }
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 of `bytes`, lowercase hex (a mod file's identity).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// One record of a log, as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The line, as it is in the file (no newline).
    pub line: String,
    /// 1-based line number in its file.
    pub line_number: usize,
    /// Host time, epoch ms.
    pub at: i64,
    /// What it says.
    pub kind: RecordKind,
}

/// What a record says.
#[derive(Debug, Clone, PartialEq)]
pub enum RecordKind {
    /// A bridge message the match accepted.
    Input(Value),
    /// The host ran everything due up to `at`.
    Advance,
    /// Reporting's answer to the match's result.
    Enqueued(Value),
    /// A command to the game server.
    Command(Value),
    /// The result body as reported.
    Result(Value),
    /// The mod faulted.
    Fault(String),
    /// The runtime closed the match.
    Closed,
    /// The writer lost records here.
    Gap(String),
}

impl RecordKind {
    /// Whether the record counts towards the input hash.
    pub fn line_kind(&self) -> LineKind {
        match self {
            Self::Input(_) | Self::Advance | Self::Enqueued(_) => LineKind::Input,
            _ => LineKind::Output,
        }
    }
}

/// One match's log, as read.
#[derive(Debug, Clone)]
pub struct Log {
    /// The header line as it is in the file (its bytes are hashed).
    pub header_line: String,
    /// The header.
    pub header: Header,
    /// The embedded mod, when the log carries it.
    pub wasm: Option<Vec<u8>>,
    /// The records in order.
    pub records: Vec<Record>,
}

/// Why a log could not be read. The text names the line.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not zstd, or the zstd stream is broken.
    #[error("cannot decompress: {0}")]
    Decompress(std::io::Error),
    /// The text is not UTF-8.
    #[error("line {0}: not UTF-8")]
    NotUtf8(usize),
    /// A line is not what the format allows.
    #[error("line {line}: {problem}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: String,
    },
    /// The text is longer than the reader allows ([`decompress_up_to`]); holds the limit.
    #[error("the log decompresses to more than {} MiB of text", .0 >> 20)]
    TooLarge(usize),
    /// No header at all.
    #[error("no log in the file (the first line must be a header with \"format\": \"{FORMAT}\")")]
    Empty,
}

/// zstd's frame magic number, little-endian: a compressed log starts with it.
pub const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The JSON lines of a file: decompressed when it is zstd, borrowed as they are otherwise.
///
/// # Errors
///
/// [`ReadError::Decompress`] when a zstd stream is broken.
pub fn decompress(bytes: &[u8]) -> Result<Cow<'_, [u8]>, ReadError> {
    decompress_up_to(bytes, usize::MAX)
}

/// [`decompress`], refusing a stream that decompresses to more than `limit` bytes (so that a
/// small upload cannot expand to gigabytes).
///
/// # Errors
///
/// [`ReadError::Decompress`] when a zstd stream is broken, [`ReadError::TooLarge`] past `limit`.
pub fn decompress_up_to(bytes: &[u8], limit: usize) -> Result<Cow<'_, [u8]>, ReadError> {
    if !bytes.starts_with(&ZSTD_MAGIC) {
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(8).min(limit));
    zstd::stream::read::Decoder::new(bytes)
        .and_then(|d| {
            d.take((limit as u64).saturating_add(1))
                .read_to_end(&mut out)
        })
        .map_err(ReadError::Decompress)?;
    if out.len() > limit {
        return Err(ReadError::TooLarge(limit));
    }
    Ok(Cow::Owned(out))
}

/// Compresses JSON lines for a file.
pub fn compress(lines: &[u8]) -> Vec<u8> {
    zstd::stream::encode_all(lines, 3).expect("compressing in memory cannot fail")
}

/// Reads every log of a file, compressed or not. A last line without its newline (a write cut
/// short by a crash) is ignored.
///
/// # Errors
///
/// [`ReadError`] naming the line that is not in the format.
pub fn read_logs(bytes: &[u8]) -> Result<Vec<Log>, ReadError> {
    use base64::Engine;
    let text = decompress(bytes)?;
    let complete = match text.iter().rposition(|b| *b == b'\n') {
        Some(end) => &text[..=end],
        None => &text[..0],
    };
    let mut logs: Vec<Log> = Vec::new();
    for (index, raw) in complete.split(|b| *b == b'\n').enumerate() {
        let number = index + 1;
        if raw.is_empty() {
            continue;
        }
        let line = std::str::from_utf8(raw).map_err(|_| ReadError::NotUtf8(number))?;
        let bad = |problem: String| ReadError::Line {
            line: number,
            problem,
        };
        let value: Value = serde_json::from_str(line).map_err(|e| bad(format!("not JSON: {e}")))?;
        let Value::Object(object) = &value else {
            return Err(bad("not a JSON object".into()));
        };
        if object.contains_key("format") {
            let header: Header = serde_json::from_value(value.clone())
                .map_err(|e| bad(format!("not a header: {e}")))?;
            if header.format != FORMAT {
                return Err(bad(format!(
                    "format {:?} is not {FORMAT:?} (a newer nexori wrote it?)",
                    header.format
                )));
            }
            logs.push(Log {
                header_line: line.to_string(),
                header,
                wasm: None,
                records: Vec::new(),
            });
            continue;
        }
        let Some(log) = logs.last_mut() else {
            return Err(bad("a record before any header".into()));
        };
        if let Some(wasm) = object.get("wasm") {
            let text = wasm
                .as_str()
                .ok_or_else(|| bad("\"wasm\" must be base64 text".into()))?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|e| bad(format!("\"wasm\" is not base64: {e}")))?;
            log.wasm = Some(bytes);
            continue;
        }
        let at = object
            .get("at")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("a record needs an integer \"at\"".into()))?;
        let field = |key: &str| object.get(key).cloned();
        let kind = if let Some(message) = field("in") {
            RecordKind::Input(message)
        } else if object.contains_key("advance") {
            RecordKind::Advance
        } else if let Some(answer) = field("enqueued") {
            RecordKind::Enqueued(answer)
        } else if let Some(command) = field("out") {
            RecordKind::Command(command)
        } else if let Some(body) = field("result") {
            RecordKind::Result(body)
        } else if let Some(error) = field("fault") {
            RecordKind::Fault(error.as_str().unwrap_or_default().to_string())
        } else if object.contains_key("closed") {
            RecordKind::Closed
        } else if let Some(why) = field("gap") {
            RecordKind::Gap(why.as_str().unwrap_or_default().to_string())
        } else {
            return Err(bad(
                "a record needs one of \"in\", \"advance\", \"enqueued\", \"out\", \"result\", \"fault\", \"closed\", \"gap\"".into(),
            ));
        };
        log.records.push(Record {
            line: line.to_string(),
            line_number: number,
            at,
            kind,
        });
    }
    if logs.is_empty() {
        return Err(ReadError::Empty);
    }
    Ok(logs)
}

/// The line that embeds a mod (no newline).
pub fn wasm_line(wasm: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let mut line = b"{\"wasm\":\"".to_vec();
    line.extend_from_slice(
        base64::engine::general_purpose::STANDARD
            .encode(wasm)
            .as_bytes(),
    );
    line.extend_from_slice(b"\"}");
    line
}

impl Log {
    /// The log as JSON lines: the header, the mod when `wasm` is given, then the records.
    pub fn to_lines(&self, wasm: Option<&[u8]>) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(self.header_line.as_bytes());
        out.push(b'\n');
        if let Some(wasm) = wasm {
            out.extend_from_slice(&wasm_line(wasm));
            out.push(b'\n');
        }
        for record in &self.records {
            out.extend_from_slice(record.line.as_bytes());
            out.push(b'\n');
        }
        out
    }

    /// The input hash of the header and the inputs before the first record for which `stop`
    /// holds (all of them when none does).
    pub fn input_hash_until(&self, mut stop: impl FnMut(&Record) -> bool) -> String {
        let mut hasher = InputHasher::default();
        hasher.line(self.header_line.as_bytes());
        for record in &self.records {
            if stop(record) {
                break;
            }
            if record.kind.line_kind() == LineKind::Input {
                hasher.line(record.line.as_bytes());
            }
        }
        hasher.hex()
    }

    /// The recorded result bodies, in order.
    pub fn results(&self) -> impl Iterator<Item = (&Record, &Value)> {
        self.records.iter().filter_map(|r| match &r.kind {
            RecordKind::Result(body) => Some((r, body)),
            _ => None,
        })
    }

    /// Whether the log ends with the match closed (it was not cut short by a crash or a stop).
    pub fn is_complete(&self) -> bool {
        self.records
            .iter()
            .any(|r| matches!(r.kind, RecordKind::Closed))
    }

    /// The first gap, if the writer lost records.
    pub fn gap(&self) -> Option<&Record> {
        self.records
            .iter()
            .find(|r| matches!(r.kind, RecordKind::Gap(_)))
    }

    /// The host time of the last record (the header's when there is none).
    pub fn last_at(&self) -> i64 {
        self.records.last().map_or(self.header.started_at, |r| r.at)
    }
}

/// Writes the `at`-prefixed start of a record line: `{"at":<at>,`.
pub fn begin_record(out: &mut Vec<u8>, at: i64) {
    use std::io::Write;
    // Every record starts so, on the hot path of recording: no allocation.
    write!(out, "{{\"at\":{at},").expect("writing to a Vec cannot fail");
}

/// A whole record line for `key` and `value`: `{"at":<at>,"<key>":<value>}`.
pub fn record_line(at: i64, key: &str, value: &Value) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    begin_record(&mut out, at);
    serde_json::to_writer(&mut out, key).expect("writing to a Vec cannot fail");
    out.push(b':');
    serde_json::to_writer(&mut out, value).expect("writing to a Vec cannot fail");
    out.push(b'}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn header(match_id: &str) -> Header {
        Header {
            format: FORMAT.into(),
            match_id: match_id.into(),
            recorded_by: "test".into(),
            nexori_version: "0.1.0".into(),
            started_at: 1_000,
            module: ModIdentity {
                name: "m".into(),
                sha256: "ab".repeat(32),
                wit: "1.1.0".into(),
            },
            random_seed: "0".repeat(32),
            settings: json!({}),
        }
    }

    #[test]
    fn every_record_kind_reads_back_and_only_inputs_are_hashed() {
        let head = header("m1").to_line();
        let lines: Vec<Vec<u8>> = vec![
            head.clone(),
            wasm_line(b"\0asm"),
            record_line(1_000, "advance", &json!(true)),
            record_line(1_000, "in", &json!({"type": "match.end", "matchId": "m1"})),
            record_line(1_001, "out", &json!({"type": "player.return"})),
            record_line(1_002, "result", &json!({"resultId": "r"})),
            record_line(1_002, "enqueued", &json!({"status": "QUEUED"})),
            record_line(1_003, "fault", &json!("boom")),
            record_line(1_004, "closed", &json!(true)),
        ];
        let mut text = lines.join(&b'\n');
        text.extend_from_slice(b"\n{\"at\":5,\"in\""); // cut short by a crash
        let logs = read_logs(&compress(&text)).unwrap();
        assert_eq!(logs.len(), 1);
        let log = &logs[0];
        assert_eq!(log.header, header("m1"));
        assert_eq!(log.wasm.as_deref(), Some(&b"\0asm"[..]));
        let kinds: Vec<_> = log.records.iter().map(|r| (r.line_number, r.at)).collect();
        assert_eq!(
            kinds,
            [
                (3, 1_000),
                (4, 1_000),
                (5, 1_001),
                (6, 1_002),
                (7, 1_002),
                (8, 1_003),
                (9, 1_004)
            ]
        );
        assert!(matches!(log.records[5].kind, RecordKind::Fault(ref e) if e == "boom"));
        assert!(log.is_complete());
        let mut manual = Sha256::new();
        for line in [&lines[0], &lines[2], &lines[3]] {
            manual.update(line);
            manual.update(b"\n");
        }
        assert_eq!(
            log.input_hash_until(|r| matches!(r.kind, RecordKind::Result(_))),
            hex(&manual.finalize())
        );
        let mut without_wasm: Vec<u8> = [&lines[..1], &lines[2..]].concat().join(&b'\n');
        without_wasm.push(b'\n');
        assert_eq!(log.to_lines(None), without_wasm);
    }

    #[test]
    fn a_line_out_of_the_format_is_named() {
        let error = |text: &str| read_logs(text.as_bytes()).unwrap_err().to_string();
        assert_eq!(
            error("{\"at\":1,\"in\":{}}\n"),
            "line 1: a record before any header"
        );
        let head = String::from_utf8(header("m1").to_line()).unwrap();
        assert_eq!(
            error(&format!("{head}\n{{\"in\":{{}}}}\n")),
            "line 2: a record needs an integer \"at\""
        );
        assert_eq!(
            error(&format!("{head}\n{{\"at\":1,\"what\":1}}\n")),
            "line 2: a record needs one of \"in\", \"advance\", \"enqueued\", \"out\", \"result\", \"fault\", \"closed\", \"gap\""
        );
        assert_eq!(
            error(
                &head
                    .replace(FORMAT, "nexori-match-log/9")
                    .to_string()
                    .add_newline()
            ),
            "line 1: format \"nexori-match-log/9\" is not \"nexori-match-log/1\" (a newer nexori wrote it?)"
        );
        assert_eq!(error(""), ReadError::Empty.to_string());
    }

    trait Newline {
        fn add_newline(self) -> String;
    }

    impl Newline for String {
        fn add_newline(self) -> String {
            self + "\n"
        }
    }
}
