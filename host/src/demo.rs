//! `nexori demo`: bundled scenarios played through the example mods, with results and admission
//! snapshots delivered over real HTTP to an embedded reference backend.

use std::io::Write;
use std::path::Path;

use serde_json::Value;

use crate::scenario::{self, RunOptions, Scenario};
use nexori_backend::{self as backend, BackendConfig, FaultPlan};
use nexori_protocol::trace::TraceEntry;

/// The bundled demo scenarios, in the order they are shown.
pub const SCENARIOS: &[(&str, &str)] = &[
    ("last-standing", include_str!("../demo/last-standing.json")),
    (
        "capture-the-zone",
        include_str!("../demo/capture-the-zone.json"),
    ),
    ("shortfall", include_str!("../demo/shortfall.json")),
];

const DEMO_TOKEN: &str = "demo-server-token";

/// Plays every bundled scenario and writes a readable account of each.
pub fn run(mods: &Path, out: &mut dyn Write) -> anyhow::Result<()> {
    if !mods.is_dir() {
        anyhow::bail!(
            "mods directory {} does not exist; build the example mods first with `cargo xtask build-mods`",
            mods.display()
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    let handle = runtime.block_on(backend::start(BackendConfig {
        listen: "127.0.0.1:0".parse()?,
        token: DEMO_TOKEN.into(),
        database: ":memory:".into(),
        faults: FaultPlan::none(),
        connections: Default::default(),
    }))?;
    let base_url = handle.base_url();
    writeln!(
        out,
        "Reference backend listening on {base_url} (results and admission snapshots go there over HTTP)."
    )?;
    for (name, text) in SCENARIOS {
        let value: Value = serde_json::from_str(text)?;
        let title = value["title"].as_str().unwrap_or(name).to_string();
        let mut scenario = Scenario::from_value(value)?;
        scenario
            .config
            .insert("baseUrl".into(), base_url.clone().into());
        scenario
            .config
            .insert("serverToken".into(), DEMO_TOKEN.into());
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
                if let Some(id) = body["resultId"].as_str().filter(|id| !id.is_empty()) {
                    let stored = get_json(&runtime, &format!("{base_url}/api/results/{id}"))?;
                    writeln!(
                        out,
                        "backend stored result {id}: matchRole {}, received at {}",
                        stored["matchRole"], stored["receivedAtEpochMs"]
                    )?;
                }
            }
        }
    }
    let stats = get_json(&runtime, &format!("{base_url}/api/stats"))?;
    writeln!(
        out,
        "\nReference backend totals: {}",
        serde_json::to_string(&stats)?
    )?;
    runtime.block_on(handle.shutdown());
    Ok(())
}

/// What the reference backend's read API answers at `url`.
fn get_json(runtime: &tokio::runtime::Runtime, url: &str) -> reqwest::Result<Value> {
    runtime.block_on(async { reqwest::get(url).await?.json::<Value>().await })
}
