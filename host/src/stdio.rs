//! `nexori stdio`: the host on real time, speaking the bridge protocol as JSON lines on stdin
//! and stdout. A game server (or a test) that spawns the host as a child process needs nothing
//! else; results go through the durable outbox in the data directory.
//!
//! Each input line is one bridge message. Each output line is a command for the game server
//! (`player.return`, `game.command`, ...) or `{"type":"error","error":...,"line":N}` for a line
//! the host could not accept. At end of input the host delivers what is pending (up to
//! `--drain-seconds`) and exits.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::arena_host::{ArenaHost, HostClock};
use crate::bridge;
use crate::clock::{SharedClock, SystemClock};
use crate::config::HostConfig;
use crate::reporting::{self, IdGenerator};
use crate::shared::lock;
use crate::wasm::engine::EngineSettings;

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
    let clock: SharedClock = Arc::new(SystemClock);
    let outbox_path = options.data_dir.join("outbox.sqlite");
    let reporting = reporting::setup(
        &options.config,
        clock,
        IdGenerator::Random,
        Some(&outbox_path),
        false,
    )?;
    let mut host = ArenaHost::new(
        options.config.clone(),
        HostClock::System,
        reporting.reporter,
        false,
        &EngineSettings::default(),
    )?;
    host.set_admission_publisher(reporting.publisher);
    for (file, error) in host.load_mods_dir(&options.mods)? {
        anyhow::bail!("mod {file} failed to load: {error}");
    }

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
        match rx.recv_timeout(wait) {
            Ok(line) => {
                line_number += 1;
                if line.trim().is_empty() {
                    continue;
                }
                let result = serde_json::from_str::<Value>(&line)
                    .map_err(|e| format!("not valid JSON: {e}"))
                    .and_then(|v| bridge::parse(&v).map_err(|e| e.to_string()))
                    .and_then(|message| host.apply(message));
                if let Err(error) = result {
                    let mut out = stdout.lock();
                    writeln!(
                        out,
                        "{}",
                        json!({"type": "error", "error": error, "line": line_number})
                    )?;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        let now = host.now();
        host.advance_to(now);
        write_commands(&host, &stdout)?;
    }

    // End of input: keep delivering until nothing is pending, or the drain time is up.
    let deadline = Instant::now() + options.drain;
    if let (Some(sender), Some(outbox)) = (&reporting.sender, &reporting.outbox) {
        while Instant::now() < deadline {
            let now = host.now();
            host.advance_to(now);
            write_commands(&host, &stdout)?;
            let pending = outbox.depth().map(|(pending, ..)| pending).unwrap_or(0);
            if pending == 0 && sender.in_flight() == 0 {
                break;
            }
            sender.wake();
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}

fn write_commands(host: &ArenaHost, stdout: &std::io::Stdout) -> std::io::Result<()> {
    let commands: Vec<_> = lock(host.shared()).outbox.drain(..).collect();
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
