//! `cargo bench -p nexori-host --bench host`: what the host costs, measured against the bare
//! thing in the same run (the machines are shared and noisy; ratios travel, absolute numbers do
//! not). Each measurement warms up, then takes the median of repeated runs. The inputs are the
//! project's own: the example mods, Capture The Zone's `player.tick` stream, the reference
//! backend.
//!
//! Needs the example mods: `cargo xtask build-mods`. Without `--bench` (as under `cargo test`)
//! each measurement runs once, briefly, as a smoke test.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use capture_the_zone::CaptureTheZone;
use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::backend::{self, BackendConfig, FaultPlan};
use nexori_host::bridge::{self, BridgeMessage};
use nexori_host::clock::VirtualClock;
use nexori_host::config::HostConfig;
use nexori_host::reporting::outbox::{NewRecord, Outbox};
use nexori_host::reporting::sender::{DurableReporter, ResultSender, SenderSettings};
use nexori_host::reporting::{IdGenerator, RecordingReporter, ResultReporter};
use nexori_host::runtime::custom_data;
use nexori_host::runtime::model::Callback;
use nexori_host::runtime::results::{AcceptedResult, ResultPlayer, payload_hash};
use nexori_host::shared::lock;
use nexori_host::wasm::convert;
use nexori_host::wasm::engine::EngineSettings;
use nexori_host::wasm::instance::{ModInstance, new_store};
use nexori_host::wasm::state::RegistrationPolicy;
use nexori_sdk::native::{Call, ModDriver, RecordingHost};
use serde_json::{Value, json};

const T0: i64 = 1_760_000_000_000;
const PLAYERS: u8 = 16;
const MATCH: &str = "m1";

/// How long to measure: a real run, or a smoke run under `cargo test`.
#[derive(Clone, Copy)]
struct Mode {
    smoke: bool,
}

impl Mode {
    /// `(runs, batch)` for a measurement, shrunk to one short batch in a smoke run.
    fn size(self, runs: usize, batch: usize) -> (usize, usize) {
        if self.smoke {
            (1, batch.min(3))
        } else {
            (runs, batch)
        }
    }
}

/// Median time of one call of `f`, after warming up, over `runs` batches of `batch` calls.
fn median(mode: Mode, runs: usize, batch: usize, mut f: impl FnMut()) -> Duration {
    let (runs, batch) = mode.size(runs, batch);
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

/// Median of `runs` runs of `f`, each timing itself.
fn median_of(mode: Mode, runs: usize, mut f: impl FnMut() -> Duration) -> Duration {
    let (runs, _) = mode.size(runs, 1);
    let mut samples: Vec<Duration> = (0..runs).map(|_| f()).collect();
    samples.sort();
    samples[runs / 2]
}

/// Set for a smoke run, whose figures (debug build, one short batch) mean nothing.
static SMOKE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn verdict(met: bool) -> &'static str {
    if SMOKE.load(std::sync::atomic::Ordering::Relaxed) {
        "smoke run"
    } else if met {
        "met"
    } else {
        "MISSED"
    }
}

fn ratio_row(what: &str, ours: Duration, bare: Duration, target: f64) {
    let ratio = ours.as_secs_f64() / bare.as_secs_f64();
    println!(
        "{what:<62} {ours:>11.2?} vs {bare:>11.2?}  ratio {ratio:>5.2}x (target <= {target}x: {})",
        verdict(ratio <= target)
    );
}

fn rate_row(what: &str, rate: f64, target: f64, unit: &str) {
    println!(
        "{what:<62} {rate:>11.0} {unit}/s (target >= {target}/s: {})",
        verdict(rate >= target)
    );
}

// ------------------------------------------------------------------------------------ the host

fn mods_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/nexori-mods");
    assert!(
        dir.join("capture_the_zone.wasm").is_file(),
        "build the mods first: cargo xtask build-mods"
    );
    dir
}

/// The mod a host runs: its file name and the rules engine id its matches use.
#[derive(Clone, Copy)]
struct Rules {
    module: &'static str,
    rules_engine_id: &'static str,
}

const CAPTURE_THE_ZONE: Rules = Rules {
    module: "capture_the_zone",
    rules_engine_id: "capture_the_zone",
};

/// The `scripted` test mod, which ignores `player.tick`: what the host path costs by itself.
const IGNORES_TICKS: Rules = Rules {
    module: "scripted",
    rules_engine_id: "scripted",
};

thread_local! {
    static RULES: std::cell::Cell<Rules> = const { std::cell::Cell::new(CAPTURE_THE_ZONE) };
}

fn host_with(settings: &EngineSettings) -> ArenaHost {
    let config = HostConfig::default();
    let reporter = RecordingReporter::new(config.clone(), IdGenerator::Seeded(1));
    let mut host = ArenaHost::new(
        config,
        HostClock::Virtual(VirtualClock::new(T0)),
        Box::new(reporter),
        false,
        settings,
    )
    .expect("host");
    let rules = RULES.get();
    let bytes = std::fs::read(mods_dir().join(format!("{}.wasm", rules.module))).unwrap();
    host.load_mod(rules.module, &bytes).unwrap();
    host
}

fn host() -> ArenaHost {
    host_with(&EngineSettings::default())
}

/// An instance of the host's mod for [`MATCH`], with no host around it: the other side of the
/// "bare call" comparisons.
fn bare_instance(host: &ArenaHost) -> ModInstance {
    let loaded = host.mods().next().unwrap();
    let store = new_store(
        host.engine(),
        loaded.info.clone(),
        host.shared().clone(),
        Some(MATCH.into()),
        RegistrationPolicy::Loaded,
    );
    ModInstance::start(&loaded.pre, store).ok().unwrap()
}

/// Player `n` of group `group` (each concurrent match has a group of its own).
fn player_in(group: u16, n: u8) -> String {
    format!("{n:08x}-{group:04x}-4000-8000-000000000000")
}

fn player(n: u8) -> String {
    player_in(0, n)
}

fn message(value: Value) -> BridgeMessage {
    bridge::parse(&value).expect("bridge message")
}

/// A Capture The Zone match of 16 players, created, joined and placed: the start gate is open.
fn start_match(host: &mut ArenaHost, match_id: &str, group: u16) {
    let player = |n| player_in(group, n);
    let expected: Vec<Value> = (1..=PLAYERS)
        .map(|n| json!({"uuid": player(n), "name": format!("P{n}")}))
        .collect();
    host.apply(message(json!({
        "type": "match.create", "matchId": match_id, "queueId": "q", "arenaId": "a",
        "rulesEngineId": RULES.get().rules_engine_id, "externalMatchId": format!("ext-{match_id}"),
        "expectedPlayers": expected,
    })))
    .unwrap();
    for n in 1..=PLAYERS {
        host.apply(message(
            json!({"type": "player.arrive", "matchId": match_id,
                                  "player": player(n), "name": format!("P{n}")}),
        ))
        .unwrap();
    }
    for n in 1..=PLAYERS {
        host.apply(message(
            json!({"type": "player.placed", "matchId": match_id, "player": player(n)}),
        ))
        .unwrap();
    }
}

/// Every player standing in the zone: a contested capture, won at the 300th advance (60.8 s).
fn tick_data(match_id: &str) -> Value {
    json!({"worldName": format!("nexori-match-{match_id}"), "x": 62.0, "y": 90.0, "z": -6.0, "alive": true})
}

fn tick_messages(match_id: &str, group: u16) -> Vec<BridgeMessage> {
    (1..=PLAYERS)
        .map(|n| {
            message(
                json!({"type": "game.event", "matchId": match_id, "kind": "player.tick",
                           "player": player_in(group, n), "data": tick_data(match_id)}),
            )
        })
        .collect()
}

/// The tick stream starts 1 s after `T0`, at 20 Hz.
fn round_at(round: usize) -> i64 {
    T0 + 1_000 + round as i64 * 50
}

fn result_submitted(host: &ArenaHost, match_id: &str) -> bool {
    lock(host.shared())
        .arena
        .get(match_id)
        .is_some_and(|m| m.result_submitted_at > 0)
}

/// One 20 Hz round through the host: time moves on, then the players' ticks arrive together,
/// as one turn (as `nexori serve` takes them from the bridge).
fn host_round(host: &mut ArenaHost, round: usize, ticks: &[BridgeMessage]) {
    host.advance_to(round_at(round));
    for result in host.apply_turn(ticks.iter().cloned()) {
        result.unwrap();
    }
}

// ------------------------------------------------------------------------------------- native

/// The same mod compiled natively, called through the SDK's native path.
struct Native {
    host: RecordingHost,
    driver: ModDriver<CaptureTheZone>,
}

impl Native {
    fn started() -> Self {
        let host = RecordingHost::new();
        host.install();
        host.set_now(T0);
        let mut driver = ModDriver::new();
        driver.init("{}").expect("init");
        let players: Vec<String> = (1..=PLAYERS).map(player).collect();
        let event = |reason: &str| nexori_sdk::MatchLifecycleEvent {
            match_id: MATCH.into(),
            rules_engine_id: "capture_the_zone".into(),
            expected_player_uuids: players.clone(),
            required_result_player_uuids: players.clone(),
            reason: reason.into(),
            event_at_epoch_ms: T0,
            ..Default::default()
        };
        driver.on_match_created(event("MATCH_CREATED"));
        for n in 1..=PLAYERS {
            let arrived = nexori_sdk::PlayerMatchLifecycleEvent {
                match_: event("PLAYER_ARRIVED"),
                player_uuid: player(n),
                player_name: format!("P{n}"),
                ..Default::default()
            };
            driver.on_player_arrived(arrived.clone());
            driver.on_player_placement_confirmed(nexori_sdk::PlayerPlacementLifecycleEvent {
                player: arrived,
                ..Default::default()
            });
        }
        driver.on_match_placement_completed(event("ALL_INITIAL_PLAYERS_PLACED"));
        driver.on_match_start_allowed(event("ALL_INITIAL_PLAYERS_PLACED"));
        Self { host, driver }
    }

    fn ticks() -> Vec<nexori_sdk::GameEvent> {
        let data = tick_data(MATCH).to_string();
        (1..=PLAYERS)
            .map(|n| nexori_sdk::GameEvent {
                match_id: MATCH.into(),
                kind: "player.tick".into(),
                player: Some(player(n)),
                data: Some(data.clone()),
                at_epoch_ms: 0,
            })
            .collect()
    }

    fn round(&mut self, round: usize, ticks: &[nexori_sdk::GameEvent]) {
        self.host.set_now(round_at(round));
        for tick in ticks {
            self.driver.on_game_event(tick.clone());
        }
    }

    fn submitted(&self) -> bool {
        self.host
            .api_calls()
            .iter()
            .any(|call| matches!(call, Call::SubmitFinalMatchResult { .. }))
    }
}

// ------------------------------------------------------------------------------ measurements

fn bench_instantiation(mode: Mode) {
    let host = host();
    let loaded = host.mods().next().unwrap();
    let (pre, info) = (loaded.pre.clone(), loaded.info.clone());
    let engine = host.engine().clone();
    let shared = host.shared().clone();
    let store = || {
        new_store(
            &engine,
            info.clone(),
            shared.clone(),
            Some("m".into()),
            RegistrationPolicy::Loaded,
        )
    };
    let ours = median(mode, 15, 20, || {
        black_box(ModInstance::start(&pre, store()).expect("start"));
    });
    let bare = median(mode, 15, 20, || {
        let mut store = store();
        // The same deadline the host gives (instantiation runs guest start code, which traps
        // on the epoch check of a store without one).
        store.set_epoch_deadline(1_000);
        black_box(pre.instantiate(&mut store).expect("instantiate"));
    });
    ratio_row(
        "match instance: host (store, instantiate, init) vs instantiate",
        ours,
        bare,
        1.5,
    );
}

fn bench_lifecycle_callback(mode: Mode) {
    let mut host = host();
    start_match(&mut host, MATCH, 0);
    let ours = median(mode, 15, 200, || {
        host.deliver_match_callback(MATCH, Callback::MatchPlacementCompleted, "BENCH");
    });
    // The same record, built once, into an instance of its own with no host around it.
    let record = {
        let shared = lock(host.shared());
        let now = shared.now();
        convert::match_event(
            &shared
                .arena
                .get(MATCH)
                .unwrap()
                .lifecycle_event("BENCH", now),
        )
    };
    assert_eq!(record.expected_player_uuids.len(), usize::from(PLAYERS));
    let mut bare = bare_instance(&host);
    let lifecycle = bare.bindings.nexori_minigame_lifecycle_listener();
    let bare = median(mode, 15, 200, || {
        lifecycle
            .call_on_match_placement_completed(&mut bare.store, &record)
            .unwrap();
    });
    ratio_row(
        "lifecycle callback, 16 players: routed + snapshot vs bare call",
        ours,
        bare,
        2.0,
    );
}

fn bench_game_events(mode: Mode) {
    const ROUNDS: usize = 200;
    let events = ROUNDS as u32 * u32::from(PLAYERS);
    let ticks = tick_messages(MATCH, 0);
    let through_host = |rules: Rules| {
        RULES.set(rules);
        let per_event = median_of(mode, 7, || {
            let mut host = host();
            start_match(&mut host, MATCH, 0);
            let start = Instant::now();
            for round in 0..ROUNDS {
                host_round(&mut host, round, &ticks);
            }
            start.elapsed() / events
        });
        RULES.set(CAPTURE_THE_ZONE);
        per_event
    };
    let ours = through_host(CAPTURE_THE_ZONE);
    let native_ticks = Native::ticks();
    let native = median_of(mode, 7, || {
        let mut native = Native::started();
        let start = Instant::now();
        for round in 0..ROUNDS {
            native.round(round, &native_ticks);
        }
        start.elapsed() / events
    });
    ratio_row(
        "player.tick into a 16-player CTZ match, per event: wasm vs native",
        ours,
        native,
        3.0,
    );
    // Not a target: where the time goes. The same stream into a mod that ignores the event is
    // the host's own path (routing, the guest call with its four strings, command flush).
    let floor = through_host(IGNORES_TICKS);
    println!(
        "  of which the host path alone (a mod that ignores player.tick) {:>9.2?}   = {:.2}x native",
        floor,
        floor.as_secs_f64() / native.as_secs_f64()
    );
    // The least any event API can cost: a bare call of an export with no string at all
    // (`timers.on-timer`, which Capture The Zone leaves to the SDK's no-op default).
    let host = host();
    let mut bare = bare_instance(&host);
    let timers = bare.bindings.nexori_minigame_timers();
    let call = median(mode, 15, 2_000, || {
        timers.call_on_timer(&mut bare.store, 1).unwrap();
    });
    println!(
        "  the cheapest guest call (on-timer, no strings, bare instance)  {:>9.2?}   = {:.2}x native",
        call,
        call.as_secs_f64() / native.as_secs_f64()
    );
}

fn bench_whole_match(mode: Mode) {
    let ticks = tick_messages(MATCH, 0);
    let mut rounds = 0;
    let ours = median_of(mode, 5, || {
        // Loading (compiling) the mod is the operator's start-up cost, not the match's.
        let mut host = host();
        let start = Instant::now();
        start_match(&mut host, MATCH, 0);
        rounds = 0;
        while !result_submitted(&host, MATCH) {
            host_round(&mut host, rounds, &ticks);
            rounds += 1;
            assert!(rounds < 2_000, "no capture");
        }
        start.elapsed()
    });
    let native_ticks = Native::ticks();
    let native = median_of(mode, 5, || {
        let start = Instant::now();
        let mut native = Native::started();
        for round in 0..rounds {
            native.round(round, &native_ticks);
        }
        let elapsed = start.elapsed();
        assert!(native.submitted(), "the native match captured too");
        elapsed
    });
    let events = rounds * usize::from(PLAYERS);
    ratio_row(
        &format!("whole CTZ match, 16 players, 20 Hz, {rounds} rounds: wasm vs native"),
        ours,
        native,
        3.0,
    );
    rate_row(
        "  game events through the host in that match",
        events as f64 / ours.as_secs_f64(),
        300_000.0,
        "events",
    );
}

fn custom_data_document() -> String {
    // Just under 32 KiB of JSON in the shape mods send, inside every limit (at most 256
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

fn bench_custom_data(mode: Mode) {
    let text = custom_data_document();
    let ours = median(mode, 31, 50, || {
        black_box(custom_data::parse(Some(black_box(&text))).unwrap());
    });
    let bare = median(mode, 31, 50, || {
        black_box(serde_json::from_slice::<Value>(black_box(text.as_bytes())).unwrap());
    });
    ratio_row(
        &format!(
            "customData, {} B: validate vs serde_json::from_slice::<Value>",
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
        players: (1..=PLAYERS)
            .map(|p| ResultPlayer {
                player_uuid: uuid::Uuid::from_u128(u128::from(n) << 8 | u128::from(p)),
                outcome: if p == 1 { "WIN" } else { "LOSS" }.into(),
                reason: "mid_capture".into(),
            })
            .collect(),
        reason: "capture".into(),
        metadata: vec![],
        custom_data: custom_data::parse(Some(r#"{"mode": "mid_capture", "winner": "P1"}"#))
            .unwrap(),
        payload_hash: String::new(),
        ended_at_epoch_ms: T0,
    };
    r.payload_hash = payload_hash(&r);
    r
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexori-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Results accepted through the durable reporter (duplicate check, body, fsync'd commit), in
/// turns of `per_turn` results each.
/// An outbox and a durable reporter writing to it, in a fresh directory.
fn outbox_reporter() -> (PathBuf, Arc<Outbox>, DurableReporter) {
    let dir = temp_dir("outbox");
    let outbox = Arc::new(Outbox::open(&dir.join("outbox.sqlite")).unwrap());
    let config = HostConfig {
        base_url: "http://127.0.0.1:9".into(),
        server_token: "bench-token".into(),
        result_reporting_enabled: true,
        ..HostConfig::default()
    }
    .normalized();
    let reporter = DurableReporter::new(config, IdGenerator::Seeded(7), outbox.clone(), None);
    (dir, outbox, reporter)
}

fn outbox_rate(mode: Mode, per_turn: usize) -> f64 {
    let total = if mode.smoke { per_turn } else { 2_000 };
    let (dir, outbox, mut reporter) = outbox_reporter();
    let results: Vec<AcceptedResult> = (0..total as u32).map(result).collect();
    let start = Instant::now();
    for turn in results.chunks(per_turn) {
        for r in turn {
            reporter.enqueue(r, T0);
        }
        reporter.commit().expect("the outbox commits");
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    assert_eq!(outbox.enqueued_total().unwrap(), total as i64);
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

/// What group commit does under load: results arrive at `offered` per second, evenly spaced,
/// and each turn commits every result that arrived while the previous commit was syncing (as
/// `nexori serve` does with the bridge messages that wait for a turn). Returns the accepted
/// rate, the mean results per commit and the longest a result waited for its commit.
fn outbox_offered(mode: Mode, offered: f64) -> (f64, f64, Duration) {
    let total = if mode.smoke { 10 } else { 10_000 };
    let (dir, outbox, mut reporter) = outbox_reporter();
    let results: Vec<AcceptedResult> = (0..total as u32).map(result).collect();
    let arrival = |n: usize| Duration::from_secs_f64(n as f64 / offered);
    let (mut next, mut commits, mut longest) = (0, 0, Duration::ZERO);
    let start = Instant::now();
    while next < total {
        let now = start.elapsed();
        let arrived = ((now.as_secs_f64() * offered) as usize + 1).min(total);
        if arrived <= next {
            std::thread::sleep(arrival(next) - now);
            continue;
        }
        for r in &results[next..arrived] {
            reporter.enqueue(r, T0);
        }
        reporter.commit().expect("the outbox commits");
        commits += 1;
        longest = longest.max(start.elapsed() - arrival(next));
        next = arrived;
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    assert_eq!(outbox.enqueued_total().unwrap(), total as i64);
    let _ = std::fs::remove_dir_all(&dir);
    (rate, total as f64 / commits as f64, longest)
}

fn bench_outbox(mode: Mode) {
    // The target: 5 000 results/s offered, every one accepted as it comes.
    let (rate, per_commit, longest) = outbox_offered(mode, 5_000.0);
    rate_row(
        "accept results offered at 5000/s, fsync'd, group commit",
        rate,
        4_950.0,
        "results",
    );
    println!("  {per_commit:.1} results per commit, the longest wait for a commit {longest:.2?}");
    // The headroom: twice that.
    let (rate, per_commit, longest) = outbox_offered(mode, 10_000.0);
    println!(
        "  offered 10000/s: {rate:.0} results/s accepted, {per_commit:.1} per commit, the longest wait {longest:.2?}"
    );
    // The curve behind it: a fixed number of results per commit.
    for per_turn in [1, 2, 8, 32] {
        let rate = outbox_rate(mode, per_turn);
        println!(
            "  {:<60} {rate:>11.0} results/s",
            format!("{per_turn} per commit")
        );
    }
}

fn bench_delivery(mode: Mode) {
    let total = if mode.smoke { 50 } else { 5_000 };
    let dir = temp_dir("delivery");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let token = "bench-token";
    let backend = runtime
        .block_on(backend::start(BackendConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            token: token.into(),
            database: dir.join("backend.sqlite"),
            faults: FaultPlan::none(),
            connections: Default::default(),
        }))
        .unwrap();
    let config = HostConfig {
        base_url: backend.base_url(),
        server_token: token.into(),
        server_id: "5a1e0000-0000-4000-8000-000000000001".into(),
        result_reporting_enabled: true,
        ..HostConfig::default()
    }
    .normalized();
    let outbox = Arc::new(Outbox::open(&dir.join("outbox.sqlite")).unwrap());
    let mut ids = IdGenerator::Seeded(11);
    let records: Vec<NewRecord> = (0..total as u32)
        .map(|n| {
            let r = result(n);
            let id = ids.next_uuid();
            NewRecord::new(&r, &id, &r.body(&id, &config.server_id, T0), T0)
        })
        .collect();
    outbox.insert_pending(&records).unwrap();
    let clock = Arc::new(nexori_host::clock::SystemClock);
    let start = Instant::now();
    let sender =
        ResultSender::start(outbox.clone(), clock, SenderSettings::from_config(&config)).unwrap();
    sender.wake();
    let acknowledged = &sender.stats().acknowledged;
    while acknowledged.load(std::sync::atomic::Ordering::Relaxed) < total as u64 {
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(outbox.depth().unwrap().0, 0);
    let rate = total as f64 / start.elapsed().as_secs_f64();
    rate_row(
        "deliver results to the reference backend over loopback",
        rate,
        5_000.0,
        "results",
    );
    drop(sender);
    drop(backend);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Resident memory of this process, from `/proc/self/statm`.
fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

fn bench_memory(mode: Mode) {
    let matches = if mode.smoke { 10 } else { 1_000 };
    let mut host = host_with(&EngineSettings {
        max_instances: 1_100,
        ..EngineSettings::default()
    });
    // One match first, so that what every match shares (compiled code, pools) is counted once.
    start_match(&mut host, "warm", 0);
    let before = rss_bytes();
    for n in 0..matches {
        let id = format!("m{n}");
        start_match(&mut host, &id, n as u16 + 1);
        for result in host.apply_turn(tick_messages(&id, n as u16 + 1)) {
            result.unwrap();
        }
    }
    let live = lock(host.shared()).arena.match_ids().count();
    assert_eq!(live, matches + 1);
    let per_match = (rss_bytes() - before) as f64 / matches as f64;
    println!(
        "{:<62} {:>11.0} KiB per match (target <= 2048 KiB: {})",
        format!("memory of {matches} live 16-player CTZ matches (RSS)"),
        per_match / 1024.0,
        verdict(per_match <= 2.0 * 1024.0 * 1024.0)
    );
}

/// `-- --profile-host` / `-- --profile-native`: feeds the `player.tick` stream through the
/// host (or the native mod) for 10 s with nothing timed, for `perf record` (see BENCHMARKS.md);
/// `-- --profile-host-path` through the host into the `scripted` mod, which ignores it.
fn profile_loop(native: bool) {
    let native_ticks = Native::ticks();
    let mut host = host();
    let (start, mut round) = (Instant::now(), 0);
    for group in 1.. {
        if start.elapsed() > Duration::from_secs(10) {
            break;
        }
        if native {
            let mut native = Native::started();
            for round in 0..1_000 {
                native.round(round, &native_ticks);
            }
        } else {
            let match_id = format!("p{group}");
            start_match(&mut host, &match_id, group);
            let ticks = tick_messages(&match_id, group);
            for _ in 0..1_000 {
                host_round(&mut host, round, &ticks);
                round += 1;
            }
            host.apply(message(json!({"type": "match.end", "matchId": match_id})))
                .unwrap();
        }
    }
}

/// A measurement: its name (for `-- NAME` filtering) and what runs it.
type Measurement = (&'static str, fn(Mode));

fn main() {
    // The host's own path: the same stream into the mod that ignores it.
    if std::env::args().any(|a| a == "--profile-host-path") {
        RULES.set(IGNORES_TICKS);
        return profile_loop(false);
    }
    for (flag, native) in [("--profile-host", false), ("--profile-native", true)] {
        if std::env::args().any(|a| a == flag) {
            return profile_loop(native);
        }
    }
    // `cargo test` builds benches and runs them without --bench: a quick smoke run only.
    let mode = Mode {
        smoke: !std::env::args().any(|a| a == "--bench"),
    };
    SMOKE.store(mode.smoke, std::sync::atomic::Ordering::Relaxed);
    println!(
        "nexori host benchmarks ({})",
        if mode.smoke { "smoke run" } else { "full run" }
    );
    // `cargo bench -p nexori-host --bench host -- NAME` runs the measurements whose name
    // contains NAME (for profiling one of them).
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let measurements: [Measurement; 8] = [
        ("instantiation", bench_instantiation),
        ("lifecycle_callback", bench_lifecycle_callback),
        ("game_events", bench_game_events),
        ("whole_match", bench_whole_match),
        ("custom_data", bench_custom_data),
        ("outbox", bench_outbox),
        ("delivery", bench_delivery),
        ("memory", bench_memory),
    ];
    for (name, measure) in measurements {
        if only.is_empty() || only.iter().any(|o| name.contains(o.as_str())) {
            measure(mode);
        }
    }
}
