//! `nexori demo`: bundled scenarios played through the example mods.

use std::io::Write;
use std::path::Path;

use crate::scenario::{self, RunOptions, Scenario};
use crate::trace::TraceEntry;

/// The bundled demo scenarios, in the order they are shown.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("last-standing", include_str!("../demo/last-standing.json")),
    ("shortfall", include_str!("../demo/shortfall.json")),
];

/// Plays every bundled scenario and writes a readable account of each.
pub fn run(mods: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    if !mods.is_dir() {
        anyhow::bail!(
            "mods directory {} does not exist; build the example mods first with `cargo xtask build-mods`",
            mods.display()
        );
    }
    for (name, text) in SCENARIOS {
        let value: serde_json::Value = serde_json::from_str(text)?;
        let title = value["title"].as_str().unwrap_or(name).to_string();
        let scenario = Scenario::from_value(value)?;
        let output = scenario::run(&scenario, mods, &RunOptions::default())?;
        writeln!(out, "\n=== {title} ===\n")?;
        for line in scenario::timeline(&output, scenario.start_epoch_ms) {
            writeln!(out, "{line}")?;
        }
        for entry in &output.trace {
            if let TraceEntry::Result {
                body,
                backend_report_status,
                ..
            } = entry
            {
                writeln!(out, "\nPOST /nexori/results ({backend_report_status}):")?;
                writeln!(out, "{}", serde_json::to_string_pretty(body)?)?;
            }
        }
    }
    Ok(())
}
