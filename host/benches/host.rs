//! `cargo bench -p nexori-host --bench host`: what the host costs, as ratios against the bare
//! thing measured in the same run (the machines are shared and noisy; ratios travel, absolute
//! numbers do not). Each measurement warms up, then takes the median of repeated runs.
//!
//! Needs the example mods: `cargo xtask build-mods`.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::clock::VirtualClock;
use nexori_host::config::HostConfig;
use nexori_host::reporting::outbox::Outbox;
use nexori_host::reporting::{IdGenerator, RecordingReporter};
use nexori_host::runtime::custom_data;
use nexori_host::runtime::results::{AcceptedResult, ResultPlayer, payload_hash};
use nexori_host::wasm::instance::{ModInstance, new_store};
use nexori_host::wasm::state::RegistrationPolicy;
use serde_json::{Value, json};

/// Median time of one call of `f`, after warming up, over `runs` batches of `batch` calls.
fn median(runs: usize, batch: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..batch {
        f();
    }
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..batch {
                f();
            }
            start.elapsed() / batch as u32
        })
        .collect();
    samples.sort();
    samples[runs / 2]
}

fn report(what: &str, ours: Duration, bare: Duration, target: f64) {
    let ratio = ours.as_secs_f64() / bare.as_secs_f64();
    let verdict = if ratio <= target { "met" } else { "MISSED" };
    println!(
        "{what:<58} {ours:>12.2?} vs {bare:>12.2?}  ratio {ratio:>5.2}× (target ≤ {target}×: {verdict})"
    );
}

fn mods_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods");
    assert!(
        dir.join("capture_the_zone.wasm").is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    dir
}

fn host() -> ArenaHost {
    let config = HostConfig::default();
    let reporter = RecordingReporter::new(config.clone(), IdGenerator::Seeded(1));
    ArenaHost::new(
        config,
        HostClock::Virtual(VirtualClock::new(0)),
        Box::new(reporter),
        false,
        &Default::default(),
    )
    .expect("host")
}

fn bench_instantiation() {
    let mut host = host();
    let bytes = std::fs::read(mods_dir().join("capture_the_zone.wasm")).unwrap();
    let loaded = host.load_mod("capture_the_zone", &bytes).unwrap();
    let (pre, info) = (loaded.pre.clone(), loaded.info.clone());
    let engine = host.engine().clone();
    let shared = host.shared().clone();
    let ours = median(15, 20, || {
        let store = new_store(
            &engine,
            info.clone(),
            shared.clone(),
            Some("m".into()),
            RegistrationPolicy::Loaded,
        );
        black_box(ModInstance::start(&pre, store).ok());
    });
    let bare = median(15, 20, || {
        let mut store = new_store(
            &engine,
            info.clone(),
            shared.clone(),
            Some("m".into()),
            RegistrationPolicy::Loaded,
        );
        black_box(pre.instantiate(&mut store).ok());
    });
    report("match instance (host: instantiate + init)", ours, bare, 1.5);
}

fn custom_data_document() -> String {
    // About 30 KiB of canonical JSON in the shape mods send, inside every limit (at most 256
    // properties): per-player stats with a longer text field.
    let mut players = serde_json::Map::new();
    for i in 0..40 {
        players.insert(
            format!("{i:08x}-0000-4000-8000-000000000000"),
            json!({"playerName": format!("Player {i}"), "progressSeconds": i as f64 * 0.37,
                   "kills": i % 7, "notes": format!("{i} ").repeat(250)}),
        );
    }
    let doc = json!({"mode": "mid_capture", "capturePointId": "mid", "players": players});
    let text = doc.to_string();
    assert!(
        text.len() > 31_000 && text.len() <= 32_768,
        "{}",
        text.len()
    );
    text
}

fn bench_custom_data() {
    let text = custom_data_document();
    let ours = median(31, 50, || {
        black_box(custom_data::parse(Some(black_box(&text))).unwrap());
    });
    let bare = median(31, 50, || {
        black_box(serde_json::from_slice::<Value>(black_box(text.as_bytes())).unwrap());
    });
    report(
        &format!(
            "validate {} B of customData vs serde_json::from_slice",
            text.len()
        ),
        ours,
        bare,
        1.0,
    );
}

fn result(n: u32) -> AcceptedResult {
    let mut r = AcceptedResult {
        local_match_id: format!("m{n}"),
        external_match_id: format!("ext-{n}"),
        assignment_id: String::new(),
        assignment_ids_by_player_uuid: Default::default(),
        queue_id: "q".into(),
        arena_id: "a".into(),
        rules_engine_id: "capture_the_zone".into(),
        players: vec![ResultPlayer {
            player_uuid: uuid::Uuid::from_u128(u128::from(n)),
            outcome: "WIN".into(),
            reason: "won".into(),
        }],
        reason: "done".into(),
        metadata: vec![],
        custom_data: custom_data::parse(Some(r#"{"k": 1}"#)).unwrap(),
        payload_hash: String::new(),
        ended_at_epoch_ms: 0,
    };
    r.payload_hash = payload_hash(&r);
    r
}

fn bench_outbox() {
    let dir = std::env::temp_dir().join(format!("nexori-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let outbox = Arc::new(Outbox::open(&dir.join("outbox.sqlite")).unwrap());
    let results: Vec<AcceptedResult> = (0..500).map(result).collect();
    let start = Instant::now();
    for (i, r) in results.iter().enumerate() {
        let body = r.body(&format!("id-{i}"), "srv", 0);
        outbox.put_pending(r, &format!("id-{i}"), &body, 0).unwrap();
    }
    let rate = results.len() as f64 / start.elapsed().as_secs_f64();
    let verdict = if rate >= 5000.0 { "met" } else { "MISSED" };
    println!(
        "{:<58} {rate:>12.0} results/s (target ≥ 5000/s: {verdict})",
        "accept results into the outbox (fsync per result)"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    // `cargo test` builds benches and runs them with --bench absent: do a quick smoke run only.
    let smoke = !std::env::args().any(|a| a == "--bench");
    println!(
        "nexori host benchmarks ({})",
        if smoke { "smoke run" } else { "full run" }
    );
    bench_custom_data();
    if smoke {
        return;
    }
    bench_instantiation();
    bench_outbox();
}
