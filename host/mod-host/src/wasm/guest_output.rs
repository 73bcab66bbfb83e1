//! A mod's WASI stdout and stderr, sent line by line to the host's log, tagged with the mod and
//! the match. A mod that prints without end is cut off after [`MAX_BYTES_PER_INSTANCE`]: one
//! warning says so, and the rest is dropped.
//!
//! The last [`TAIL_BYTES`] written to stderr are also kept (cut off or not), so that when a call
//! traps the fault can say what the mod printed on its way down ([`failure_message`]): a Rust
//! panic's message, a Python exception, the last line of anything else.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Output one instance may write to its log over its lifetime.
pub const MAX_BYTES_PER_INSTANCE: usize = 1 << 20;
/// Longer lines are cut.
const MAX_LINE: usize = 4096;
/// Bytes of stderr kept for [`GuestOutput::written_since`]: enough for a panic message or the end
/// of a Python traceback.
pub const TAIL_BYTES: usize = 8 << 10;
/// The longest message [`failure_message`] returns, in characters.
pub const MAX_MESSAGE_CHARS: usize = 512;

struct State {
    module: String,
    match_id: String,
    stream: &'static str,
    partial: Vec<u8>,
    written: usize,
    cut_off: bool,
    /// The last bytes written, when the stream keeps them (stderr).
    tail: Option<VecDeque<u8>>,
}

impl State {
    fn emit(&self, bytes: &[u8]) {
        let line = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_LINE)]);
        let line = line.trim_end_matches('\r');
        let (module, match_id, stream) = (&self.module, &self.match_id, self.stream);
        if stream == "stderr" {
            tracing::warn!(target: "nexori::mod", module, match_id, stream, "{line}");
        } else {
            tracing::info!(target: "nexori::mod", module, match_id, stream, "{line}");
        }
    }

    fn keep_tail(&mut self, buf: &[u8]) {
        let Some(tail) = &mut self.tail else { return };
        let buf = &buf[buf.len().saturating_sub(TAIL_BYTES)..];
        let excess = (tail.len() + buf.len()).saturating_sub(TAIL_BYTES);
        tail.drain(..excess);
        tail.extend(buf);
    }

    fn write(&mut self, buf: &[u8]) {
        self.keep_tail(buf);
        if self.cut_off {
            return;
        }
        self.written += buf.len();
        if self.written > MAX_BYTES_PER_INSTANCE {
            self.cut_off = true;
            let (module, match_id, stream) = (&self.module, &self.match_id, self.stream);
            tracing::warn!(
                target: "nexori::mod",
                module,
                match_id,
                stream,
                "mod wrote more than {MAX_BYTES_PER_INSTANCE} bytes to {stream}; the rest is dropped"
            );
            return;
        }
        self.partial.extend_from_slice(buf);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            self.emit(&line[..line.len() - 1]);
        }
        if self.partial.len() > MAX_LINE {
            let line = std::mem::take(&mut self.partial);
            self.emit(&line);
        }
    }
}

/// The stdout or stderr of one instance.
#[derive(Clone)]
pub struct GuestOutput {
    state: Arc<Mutex<State>>,
    /// Bytes written over the instance's life (not only those logged): a call notes it when it
    /// starts, without taking the lock.
    position: Arc<AtomicU64>,
}

impl GuestOutput {
    /// The `stream` (`"stdout"` or `"stderr"`; stderr lines are logged at warn, stdout at info)
    /// of an instance of `module`, its lines tagged with `match_id` (`-` for none: the load-time
    /// probe). stderr keeps its last [`TAIL_BYTES`].
    pub fn new(module: &str, match_id: Option<&str>, stream: &'static str) -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                module: module.to_string(),
                match_id: match_id.unwrap_or("-").to_string(),
                stream,
                partial: Vec::new(),
                written: 0,
                cut_off: false,
                tail: (stream == "stderr").then(VecDeque::new),
            })),
            position: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many bytes the instance has written to this stream so far: note it when a call
    /// starts, for [`written_since`](Self::written_since).
    pub fn position(&self) -> u64 {
        self.position.load(Ordering::Acquire)
    }

    /// What was written since `position` (at most the last [`TAIL_BYTES`], from the start of a
    /// line), as text; empty for a stream that keeps no tail.
    pub fn written_since(&self, position: u64) -> String {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let Some(tail) = &state.tail else {
            return String::new();
        };
        let since = self.position().saturating_sub(position);
        let take = tail.len().min(usize::try_from(since).unwrap_or(usize::MAX));
        let bytes: Vec<u8> = tail.range(tail.len() - take..).copied().collect();
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if (take as u64) < since {
            // The window starts inside a line: drop the part.
            text = text
                .split_once('\n')
                .map(|(_, rest)| rest.to_string())
                .unwrap_or_default();
        }
        text
    }
}

/// The message a mod printed to stderr before it trapped (`stderr`, what it wrote during the
/// call), on one line of at most [`MAX_MESSAGE_CHARS`] characters:
///
/// - a Python traceback (componentize-py prints one, then aborts): its last line, the exception
///   (`ValueError: boom`);
/// - a Rust panic (`thread '…' panicked at src/lib.rs:12:5:` and the message on the lines after):
///   `panicked at src/lib.rs:12:5: boom`;
/// - a JavaScript exception (componentize-js's StarlingMonkey prints the error's message, then
///   `Stack:` and the frames indented, then aborts): the message (`boom`; StarlingMonkey prints
///   no error name);
/// - anything else: the last line that names an error or exception, else the last line. A
///   thrown value that is not an `Error` has no stack: StarlingMonkey prints it as source
///   (`"a string"`, `({code:7})`), which is then the last line.
///
/// The runtimes' own notes (Rust's `note: run with RUST_BACKTRACE…`, StarlingMonkey's
/// `Redirecting call to abort() to mozalloc_abort`) are never the message. `None` when the mod
/// printed nothing else.
pub fn failure_message(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr
        .lines()
        .map(|l| l.trim_end())
        .filter(|l| !l.is_empty())
        .collect();
    let indented = |l: &str| l.starts_with(char::is_whitespace);
    let panic = lines
        .iter()
        .rposition(|l| l.starts_with("thread '") && l.contains(" panicked at "));
    // Python: the exception line closes the last traceback.
    let traceback = lines
        .iter()
        .rposition(|l| *l == "Traceback (most recent call last):");
    let message = if let Some(start) = traceback {
        lines[start + 1..]
            .iter()
            .find(|l| !indented(l))
            .map(|l| (*l).to_string())
    } else {
        None
    };
    let message = message.or_else(|| {
        let at = panic?;
        let line = lines[at];
        let from = line.find(" panicked at ")? + 1;
        let head = &line[from..];
        match head.strip_suffix(':') {
            // Rust 1.73 and later: the location ends the line, the message follows.
            Some(location) => {
                let body: Vec<&str> = lines[at + 1..]
                    .iter()
                    .take_while(|l| !is_rust_panic_note(l))
                    .map(|l| l.trim())
                    .collect();
                Some(if body.is_empty() {
                    location.to_string()
                } else {
                    format!("{location}: {}", body.join(" "))
                })
            }
            // Earlier: `panicked at 'message', src/lib.rs:12:5`.
            None => Some(head.to_string()),
        }
    });
    let message = message.or_else(|| javascript_exception(stderr));
    let message = message.or_else(|| {
        let candidates: Vec<&str> = lines
            .iter()
            .copied()
            .filter(|l| !indented(l) && !is_rust_panic_note(l) && !is_runtime_note(l))
            .collect();
        candidates
            .iter()
            .rev()
            .find(|l| names_an_error(l))
            .or(candidates.last())
            .map(|l| (*l).to_string())
    })?;
    Some(one_line(&message, MAX_MESSAGE_CHARS))
}

/// StarlingMonkey's report of an uncaught exception: the lines of the error's message, `Stack:`,
/// the frames (`  onGameEvent@mod.js:175:36`). The message is what the lines just above the last
/// `Stack:` say, up to a blank line (a message may have several lines; a line the mod printed
/// right before throwing joins it). `None` without such a report, or for an empty message.
fn javascript_exception(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().map(str::trim_end).collect();
    let stack = lines.iter().enumerate().rposition(|(i, l)| {
        *l == "Stack:"
            && lines
                .get(i + 1)
                .is_some_and(|frame| frame.starts_with(char::is_whitespace) && frame.contains('@'))
    })?;
    let start = lines[..stack]
        .iter()
        .rposition(|l| l.trim().is_empty())
        .map_or(0, |blank| blank + 1);
    let message = lines[start..stack].join(" ");
    (!message.trim().is_empty()).then_some(message)
}

/// What a language runtime prints on its way down that says nothing about the failure:
/// StarlingMonkey (componentize-js) announcing its abort.
fn is_runtime_note(line: &str) -> bool {
    line == "Redirecting call to abort() to mozalloc_abort" || line == "Stack:"
}

/// The notes Rust's panic handler prints after the message.
fn is_rust_panic_note(line: &str) -> bool {
    line.starts_with("note: run with `RUST_BACKTRACE")
        || line.starts_with("note: Some details are omitted")
        || line.starts_with("stack backtrace:")
}

/// `Error: …`, `TypeError: …`, `error: …`, `… Exception: …`
fn names_an_error(line: &str) -> bool {
    let Some((head, _)) = line.split_once(':') else {
        return false;
    };
    let head = head.trim().to_ascii_lowercase();
    !head.contains(' ') && (head.ends_with("error") || head.ends_with("exception"))
}

/// `text` with control characters and runs of white space turned into single spaces, cut to
/// `max` characters (ending in `…` when cut).
fn one_line(text: &str, max: usize) -> String {
    let mut out = String::new();
    for word in text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.chars().count() > max {
        out = out.chars().take(max - 1).collect();
        out.push('…');
    }
    out
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for GuestOutput {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.write(buf);
        // Under the lock, so `written_since` sees the tail and the position agree.
        self.position.fetch_add(buf.len() as u64, Ordering::Release);
        drop(state);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if !state.partial.is_empty() {
            let line = std::mem::take(&mut state.partial);
            state.emit(&line);
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rust_panic_becomes_one_line() {
        let stderr = "\nthread '<unnamed>' panicked at src/lib.rs:12:5:\nboom\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            failure_message(stderr).as_deref(),
            Some("panicked at src/lib.rs:12:5: boom")
        );
        // A thread id (newer Rust), a message over several lines, a line printed before.
        let stderr = "tick 3\nthread 'main' (1) panicked at src/lib.rs:7:9:\nfirst\n  second\n";
        assert_eq!(
            failure_message(stderr).as_deref(),
            Some("panicked at src/lib.rs:7:9: first second")
        );
        // Before Rust 1.73.
        let stderr = "thread 'main' panicked at 'boom', src/lib.rs:2:5\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(
            failure_message(stderr).as_deref(),
            Some("panicked at 'boom', src/lib.rs:2:5")
        );
    }

    #[test]
    fn a_python_exception_is_the_last_line_of_its_traceback() {
        // componentize-py prints the traceback, then its runtime panics.
        let stderr = "Traceback (most recent call last):\n  File \"/app.py\", line 9, in on_game_event\n    raise ValueError(\"boom\")\nValueError: boom\nthread '<unnamed>' panicked at runtime/src/lib.rs:480:21:\nPython function threw an unexpected exception\nnote: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        assert_eq!(failure_message(stderr).as_deref(), Some("ValueError: boom"));
        // Chained: the last traceback is the one that ended the call.
        let stderr = "Traceback (most recent call last):\n  File \"/app.py\", line 3, in f\nKeyError: 'x'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"/app.py\", line 5, in f\nRuntimeError: lookup failed\n";
        assert_eq!(
            failure_message(stderr).as_deref(),
            Some("RuntimeError: lookup failed")
        );
    }

    #[test]
    fn a_javascript_exception_is_the_message_starlingmonkey_prints() {
        // componentize-js 0.23.0, `throw new Error('boom')` in a callback.
        let report = "boom\nStack:\n  onGameEvent@mod.js:175:36\n  export_gameEvents_1_1_0$onGameEvent@/tmp/x/sources/initializer.js:3301:15\n\nRedirecting call to abort() to mozalloc_abort\n\n";
        assert_eq!(failure_message(report).as_deref(), Some("boom"));
        // A message over two lines, after a line the mod printed before a blank one.
        let stderr = format!("tick 3\n\nfirst line\nsecond line\n{}", &report[5..]);
        assert_eq!(
            failure_message(&stderr).as_deref(),
            Some("first line second line")
        );
        // A runtime error names no error either.
        let stderr = report.replace("boom", "can't access property \"foo\" of null");
        assert_eq!(
            failure_message(&stderr).as_deref(),
            Some("can't access property \"foo\" of null")
        );
        // A thrown value that is not an Error: no stack, printed as source.
        let stderr = "\"a thrown string\"\nRedirecting call to abort() to mozalloc_abort\n\n";
        assert_eq!(
            failure_message(stderr).as_deref(),
            Some("\"a thrown string\"")
        );
        // An empty message: nothing to say.
        let stderr = format!("\n{}", &report[5..]);
        assert_eq!(failure_message(&stderr), None);
    }

    #[test]
    fn otherwise_the_last_line_naming_an_error() {
        let stderr = "Error: boom\n    at onGameEvent (app.js:3:9)\n";
        assert_eq!(failure_message(stderr).as_deref(), Some("Error: boom"));
        let stderr = "TypeError: x is undefined\n@app.js:3:9\n";
        assert_eq!(
            failure_message(stderr).as_deref(),
            Some("TypeError: x is undefined")
        );
        let stderr = "memory allocation of 1048576 bytes failed\n";
        assert_eq!(
            failure_message(stderr).as_deref(),
            Some("memory allocation of 1048576 bytes failed")
        );
        assert_eq!(failure_message(""), None);
        assert_eq!(failure_message("\n  \n"), None);
    }

    #[test]
    fn the_message_is_bounded_and_on_one_line() {
        let long = format!(
            "thread 'x' panicked at a.rs:1:1:\n{}\tend\u{7}\n",
            "é".repeat(1000)
        );
        let message = failure_message(&long).unwrap();
        assert_eq!(message.chars().count(), MAX_MESSAGE_CHARS);
        assert!(message.ends_with('…'));
        assert!(!message.contains(['\n', '\t', '\u{7}']));
    }

    fn write(output: &mut GuestOutput, text: &str) {
        let waker = std::task::Waker::noop();
        let mut cx = Context::from_waker(waker);
        let poll = Pin::new(output).poll_write(&mut cx, text.as_bytes());
        assert!(matches!(poll, Poll::Ready(Ok(n)) if n == text.len()));
    }

    #[test]
    fn stderr_keeps_what_a_call_wrote() {
        let mut stderr = GuestOutput::new("m", None, "stderr");
        write(&mut stderr, "before the call\n");
        let start = stderr.position();
        write(&mut stderr, "during ");
        write(&mut stderr, "the call\n");
        assert_eq!(stderr.written_since(start), "during the call\n");
        assert_eq!(
            stderr.written_since(0),
            "before the call\nduring the call\n"
        );

        // More than the tail holds: the window starts at a line.
        let start = stderr.position();
        for i in 0..1000 {
            write(&mut stderr, &format!("line {i}\n"));
        }
        let text = stderr.written_since(start);
        assert!(text.len() <= TAIL_BYTES);
        assert!(text.starts_with("line "), "{}", &text[..20]);
        assert!(text.ends_with("line 999\n"));

        // stdout keeps nothing.
        let mut stdout = GuestOutput::new("m", None, "stdout");
        write(&mut stdout, "hello\n");
        assert_eq!(stdout.written_since(0), "");
    }
}
