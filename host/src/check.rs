//! `nexori check`: is this file a rules mod the host will load?

use std::fmt::Write as _;
use std::path::Path;

use crate::config::HostConfig;
use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::wasm::engine::EngineSettings;
use nexori_host::wasm::loader::WIT_PACKAGE;
use nexori_reporting::{IdGenerator, RecordingReporter};
use nexori_runtime::clock::VirtualClock;

/// Loads the file the way the host would (compile, link against the `rules-mod` world, run
/// `init` in a probe instance) and describes it. The error says what is wrong.
pub fn check_file(path: &Path, config_json: Option<&str>) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("cannot read the file: {e}"))?;
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut config = HostConfig::default();
    if let Some(text) = config_json {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| anyhow::anyhow!("--config is not valid JSON: {e}"))?;
        config.mods.insert(name.clone(), value);
    }
    let reporter = RecordingReporter::new(config.reporting(), IdGenerator::Random);
    let settings = EngineSettings {
        max_instances: 4,
        ..EngineSettings::default()
    };
    let mut host = ArenaHost::new(
        config.host_settings(),
        HostClock::Virtual(VirtualClock::new(0)),
        Box::new(reporter),
        false,
        &settings,
    )?;
    let loaded = host.load_mod(&name, &bytes)?;
    let mut out = String::new();
    writeln!(
        out,
        "mod:        {name} ({}, {} KiB)",
        path.display(),
        bytes.len().div_ceil(1024)
    )?;
    writeln!(out, "sha256:     {}", loaded.info.sha256)?;
    writeln!(
        out,
        "world:      nexori:minigame@{} rules-mod — ok",
        loaded.wit_version
    )?;
    if loaded.pre.batches_game_events() {
        writeln!(
            out,
            "events:     a turn's game events in one call (game-event-batches)"
        )?;
    } else if loaded.wit_version == "1.0.0" {
        writeln!(
            out,
            "events:     one call each (built before {WIT_PACKAGE}; rebuild for batches)"
        )?;
    } else {
        // Built against this contract, but exporting only the base world.
        writeln!(
            out,
            "events:     one call each (the mod targets `rules-mod-base`: it does not export \
             `game-event-batches`)"
        )?;
    }
    let ids: Vec<&str> = loaded.info.scope.iter().map(String::as_str).collect();
    writeln!(out, "registers:  {}", ids.join(", "))?;
    writeln!(out, "imports:")?;
    for import in &loaded.imports {
        writeln!(out, "  {import}")?;
    }
    Ok(out)
}
