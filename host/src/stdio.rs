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

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::arena_host::ArenaHost;
use crate::bridge;
use crate::config::HostConfig;
use crate::live::LiveHost;

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
    let (live, failures) = LiveHost::start(&options.config, &options.data_dir, &options.mods)?;
    if let Some((file, error)) = failures.into_iter().next() {
        anyhow::bail!("mod {file} failed to load: {error}");
    }
    let mut live = live;
    let host = &mut live.host;

    let (tx, rx) = channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });

    let stdout = std::io::stdout();
    let mut line_number = 0usize;
    loop {
        let now = host.now();
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
            if !line.trim().is_empty() {
                numbers.push(line_number);
                messages.push(bridge::parse_line(&line));
            }
        }
        let applied = host.apply_received_turn(messages);
        let mut out = stdout.lock();
        for (line, result) in numbers.into_iter().zip(applied) {
            if let Err(error) = result {
                writeln!(
                    out,
                    "{}",
                    json!({"type": "error", "error": error, "line": line})
                )?;
            }
        }
        drop(out);
        let now = host.now();
        host.advance_to(now);
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
        writeln!(
            out,
            "{}",
            serde_json::to_string(&command).unwrap_or_default()
        )?;
    }
    out.flush()
}
