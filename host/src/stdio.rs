//! `nexori stdio`: the host on real time, speaking the bridge protocol as JSON lines on stdin
//! and stdout. A game server (or a test) that spawns the host as a child process needs nothing
//! else; results go through the durable outbox in the data directory.
//!
//! Each input line is one bridge message. Each output line is a command for the game server
//! (`player.return`, `game.command`, ...) or `{"type":"error","error":...,"line":N}` for a line
//! the host could not accept (`N` counts every input line, blank ones included). The lines
//! already waiting are taken as one turn, as `nexori serve` does: a match's consecutive game
//! events reach its mod in one call, and the errors of a turn come before its commands. At end
//! of input the host delivers what is pending (up to `--drain-seconds`) and exits.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, SyncSender, sync_channel};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::config::HostConfig;
use crate::live::{LiveHost, turn_time};
use nexori_host::arena_host::ArenaHost;
use nexori_host::bridge;

/// The longest input line taken; the rest of a longer line is skipped and the line refused, so
/// one line without an end cannot take the host's memory.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// An input line, or why it cannot be read as one.
type InputLine = Result<String, LineError>;

/// An input line that is not a bridge message before it is even parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the line is not valid UTF-8 (invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("the line is longer than {limit} bytes")]
    TooLong { limit: usize },
}

/// Reads newline-terminated lines until end of input (or until the host stops listening).
/// A line that is not UTF-8 or is too long is answered as an error, and reading goes on with
/// the next one: one bad line must not end the host's input.
fn read_lines(mut input: impl BufRead, limit: usize, tx: &SyncSender<InputLine>) {
    let mut buf = Vec::new();
    loop {
        buf.clear();
        // The limit, plus room for a "\r\n" ending.
        let read = (&mut input)
            .take(limit as u64 + 2)
            .read_until(b'\n', &mut buf);
        let Ok(n) = read else { break };
        if n == 0 {
            break;
        }
        let ended = buf.last() == Some(&b'\n');
        if ended {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        }
        let line = if buf.len() > limit {
            // Skip to the end of the over-long line, unless it ended already.
            let mut sink = Vec::new();
            let mut skipping = !ended;
            while skipping {
                sink.clear();
                skipping = match (&mut input).take(64 << 10).read_until(b'\n', &mut sink) {
                    Ok(0) | Err(_) => false,
                    Ok(_) => sink.last() != Some(&b'\n'),
                };
            }
            Err(LineError::TooLong { limit })
        } else {
            String::from_utf8(std::mem::take(&mut buf)).map_err(|e| LineError::NotUtf8 {
                offset: e.utf8_error().valid_up_to(),
            })
        };
        if tx.send(line).is_err() {
            break;
        }
    }
}

/// Options of `nexori stdio`.
#[derive(Debug, Clone)]
pub struct StdioOptions {
    pub config: HostConfig,
    pub mods: PathBuf,
    pub data_dir: PathBuf,
    pub drain: Duration,
}

/// Loads a configuration file (TOML, or JSON by extension), or the defaults.
pub fn load_config(path: Option<&Path>) -> anyhow::Result<HostConfig> {
    match path {
        None => Ok(HostConfig::default().normalized()),
        Some(path) => HostConfig::from_file(path).map_err(|e| anyhow::anyhow!(e)),
    }
}

/// Runs until stdin closes.
pub fn run(options: StdioOptions) -> anyhow::Result<()> {
    let (live, failures) =
        LiveHost::start(&options.config, &options.data_dir, &options.mods, "stdio")?;
    if let Some((file, error)) = failures.into_iter().next() {
        anyhow::bail!("mod {file} failed to load: {error}");
    }
    let mut live = live;
    let host = &mut live.host;

    // Bounded: a game server writing faster than the host takes turns is held back by the pipe,
    // not buffered here without end.
    let (tx, rx) = sync_channel::<InputLine>(ArenaHost::MAX_MESSAGES_PER_TURN * 4);
    std::thread::spawn(move || read_lines(std::io::stdin().lock(), MAX_LINE_BYTES, &tx));

    let stdout = std::io::stdout();
    let mut line_number = 0usize;
    loop {
        if host.paused() {
            // Behind a failing outbox commit: read nothing (the pipe pushes back), run nothing.
            std::thread::sleep(Duration::from_millis(50));
            write_commands(host, &stdout)?;
            continue;
        }
        let now = turn_time();
        let wait = host
            .next_deadline()
            .map(|at| Duration::from_millis((at - now).clamp(0, 50) as u64))
            .unwrap_or(Duration::from_millis(50));
        // One turn: this line and whatever else is already waiting (so a match's consecutive
        // game events reach its mod in one call, and the results they bring share a commit).
        let mut lines = Vec::new();
        match rx.recv_timeout(wait) {
            Ok(line) => lines.push(line),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        while !lines.is_empty() && lines.len() < ArenaHost::MAX_MESSAGES_PER_TURN {
            match rx.try_recv() {
                Ok(line) => lines.push(line),
                Err(_) => break,
            }
        }
        let mut numbers = Vec::with_capacity(lines.len());
        let mut messages = Vec::with_capacity(lines.len());
        for line in lines {
            line_number += 1;
            match line {
                Ok(line) if line.trim().is_empty() => {}
                Ok(line) => {
                    numbers.push(line_number);
                    messages.push(bridge::parse_line(&line).map_err(|e| e.to_string()));
                }
                Err(error) => {
                    numbers.push(line_number);
                    messages.push(Err(error.to_string()));
                }
            }
        }
        // One turn, at one time: first what fell due up to now, then the messages.
        host.advance_to(turn_time());
        // What fell due goes out before anything that answers the turn's messages: a match that
        // closed now comes before the error line for a message that came too late for it.
        write_commands(host, &stdout)?;
        let applied = host.apply_received_turn(messages);
        let mut out = stdout.lock();
        for (line, result) in numbers.into_iter().zip(applied) {
            if let Err(error) = result {
                writeln!(
                    out,
                    "{}",
                    json!({"type": "error", "error": error.to_string(), "line": line})
                )?;
            }
        }
        drop(out);
        write_commands(host, &stdout)?;
    }

    // End of input: keep delivering until nothing is pending, or the drain time is up.
    live.drain(Instant::now() + options.drain, |host| {
        write_commands(host, &stdout)
    })?;
    Ok(())
}

fn write_commands(host: &mut ArenaHost, stdout: &std::io::Stdout) -> std::io::Result<()> {
    let commands = host.take_commands();
    if commands.is_empty() {
        return Ok(());
    }
    let mut out = stdout.lock();
    for (_, command) in commands {
        writeln!(out, "{}", command.to_json_line())?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(input: &[u8], limit: usize) -> Vec<InputLine> {
        let (tx, rx) = sync_channel(64);
        read_lines(input, limit, &tx);
        drop(tx);
        rx.into_iter().collect()
    }

    #[test]
    fn a_bad_line_is_answered_and_the_next_one_is_read() {
        let input = b"{\"a\":1}\r\n\xff\xfe{}\nok\n0123456789abcdef\nlast";
        assert_eq!(
            lines_of(input, 8),
            vec![
                Ok("{\"a\":1}".to_string()),
                Err(LineError::NotUtf8 { offset: 0 }),
                Ok("ok".to_string()),
                Err(LineError::TooLong { limit: 8 }),
                Ok("last".to_string()),
            ]
        );
    }

    #[test]
    fn a_line_of_exactly_the_limit_is_taken() {
        assert_eq!(
            lines_of(b"12345678\n12345678\r\n123456789\nok\n123456789", 8),
            vec![
                Ok("12345678".to_string()),
                Ok("12345678".to_string()),
                Err(LineError::TooLong { limit: 8 }),
                Ok("ok".to_string()),
                Err(LineError::TooLong { limit: 8 })
            ]
        );
    }

    #[test]
    fn the_error_names_the_offset() {
        assert_eq!(
            LineError::NotUtf8 { offset: 3 }.to_string(),
            "the line is not valid UTF-8 (invalid byte at offset 3)"
        );
    }
}
