//! A mod's WASI stdout and stderr, sent line by line to the host's log, tagged with the mod and
//! the match. A mod that prints without end is cut off after [`MAX_BYTES_PER_INSTANCE`]: one
//! warning says so, and the rest is dropped.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

/// Output one instance may write to its log over its lifetime.
pub const MAX_BYTES_PER_INSTANCE: usize = 1 << 20;
/// Longer lines are cut.
const MAX_LINE: usize = 4096;

struct State {
    module: String,
    match_id: String,
    stream: &'static str,
    partial: Vec<u8>,
    written: usize,
    cut_off: bool,
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

    fn write(&mut self, buf: &[u8]) {
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
pub struct GuestOutput(Arc<Mutex<State>>);

impl GuestOutput {
    /// The `stream` (`"stdout"` or `"stderr"`; stderr lines are logged at warn, stdout at info)
    /// of an instance of `module`, its lines tagged with `match_id` (`-` for none: the load-time
    /// probe).
    pub fn new(module: &str, match_id: Option<&str>, stream: &'static str) -> Self {
        Self(Arc::new(Mutex::new(State {
            module: module.to_string(),
            match_id: match_id.unwrap_or("-").to_string(),
            stream,
            partial: Vec::new(),
            written: 0,
            cut_off: false,
        })))
    }
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
        self.0.lock().unwrap_or_else(|p| p.into_inner()).write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        let mut state = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if !state.partial.is_empty() {
            let line = std::mem::take(&mut state.partial);
            state.emit(&line);
        }
        Poll::Ready(Ok(()))
    }
}
