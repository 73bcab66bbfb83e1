//! `cargo bench -p nexori-host --bench host`: what the host costs, measured against the bare
//! thing in the same run (the machines are shared and noisy; ratios travel, absolute numbers do
//! not). Every row warms up, then repeats its measurement and reports the median with the range
//! (min-max) of the runs; the two sides of a comparison run in alternation, so a burst of load
//! from a neighbour falls on both, and a ratio is the median of the runs' own ratios. The inputs
//! are the project's own: the example mods, Capture The Zone's `player.tick` stream, the
//! reference backend. The bench build has the mods' optimisation settings (`[profile.bench]` in
//! the root Cargo.toml), so the natively compiled mod is optimised as the wasm one is.
//!
//! Needs the example mods: `cargo xtask build-mods`. Without `--bench` (as under `cargo test`)
//! each measurement runs once, briefly, without warming up, as a smoke test.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use capture_the_zone::CaptureTheZone;
use nexori::config::HostConfig;
use nexori_backend::{self as backend, BackendConfig, FaultPlan};
use nexori_host::arena_host::{ArenaHost, HostClock};
use nexori_host::bridge::{self, BridgeMessage};
use nexori_host::host_state::lock;
use nexori_host::recording::Recorder;
use nexori_host::wasm::convert;
use nexori_host::wasm::engine::EngineSettings;
use nexori_host::wasm::instance::{ModInstance, new_store};
use nexori_host::wasm::state::RegistrationPolicy;
use nexori_recording::{DirSink, LineKind, LogId, RecordSink, Render, Retention, SealError};
use nexori_reporting::outbox::{NewRecord, Outbox};
use nexori_reporting::sender::{DurableReporter, ResultSender, SenderSettings};
use nexori_reporting::{IdGenerator, RecordingReporter, ResultReporter};
use nexori_runtime::clock::VirtualClock;
use nexori_runtime::custom_data;
use nexori_runtime::model::Callback;
use nexori_runtime::results::{AcceptedResult, ResultPlayer, payload_hash};
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

/// The values of one quantity over a row's runs.
struct Runs(Vec<f64>);

impl Runs {
    fn new(mut values: Vec<f64>) -> Self {
        assert!(!values.is_empty(), "a row with no runs");
        values.sort_by(f64::total_cmp);
        Runs(values)
    }

    /// The middle value (rows take an odd number of runs).
    fn median(&self) -> f64 {
        self.0[self.0.len() / 2]
    }

    fn min(&self) -> f64 {
        self.0[0]
    }

    fn max(&self) -> f64 {
        self.0[self.0.len() - 1]
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    /// The same runs, each value through `f`.
    fn map(&self, f: impl Fn(f64) -> f64) -> Runs {
        Runs::new(self.0.iter().copied().map(f).collect())
    }

    /// `median (min-max)` of times in seconds.
    fn time(&self) -> String {
        format!(
            "{:.2?} ({:.2?}-{:.2?})",
            secs(self.median()),
            secs(self.min()),
            secs(self.max())
        )
    }

    /// `median x (min-max)` of ratios.
    fn times(&self) -> String {
        format!(
            "{:.2}x ({:.2}-{:.2})",
            self.median(),
            self.min(),
            self.max()
        )
    }

    /// `median (min-max)` of plain numbers, with `decimals` decimals.
    fn number(&self, decimals: usize) -> String {
        format!(
            "{:.decimals$} ({:.decimals$}-{:.decimals$})",
            self.median(),
            self.min(),
            self.max()
        )
    }
}

fn secs(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds)
}

/// Seconds per call of `f`, over a batch of `batch` calls.
fn per_call(batch: usize, f: &mut impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..batch {
        f();
    }
    start.elapsed().as_secs_f64() / batch as f64
}

/// Seconds per call of `f` over `runs` batches of `batch` calls, after a warm-up batch.
fn measure(mode: Mode, runs: usize, batch: usize, mut f: impl FnMut()) -> Runs {
    let (runs, batch) = mode.size(runs, batch);
    if !mode.smoke {
        per_call(batch, &mut f);
    }
    Runs::new((0..runs).map(|_| per_call(batch, &mut f)).collect())
}

/// Our side and the bare thing over the same runs, and the ratio of each run's pair.
struct Compared {
    ours: Runs,
    bare: Runs,
    ratio: Runs,
}

/// Runs `ours` and `bare` (each returns the figure it measured, in seconds) one after the other,
/// `runs` times, after one warm-up run of each.
fn alternate(
    mode: Mode,
    runs: usize,
    mut ours: impl FnMut() -> f64,
    mut bare: impl FnMut() -> f64,
) -> Compared {
    let (runs, _) = mode.size(runs, 1);
    if !mode.smoke {
        ours();
        bare();
    }
    let (mut o, mut b) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        o.push(ours());
        b.push(bare());
    }
    let ratio = o.iter().zip(&b).map(|(o, b)| o / b).collect();
    Compared {
        ours: Runs::new(o),
        bare: Runs::new(b),
        ratio: Runs::new(ratio),
    }
}

/// [`alternate`] over batches of `batch` calls of each side: seconds per call.
fn compare(
    mode: Mode,
    runs: usize,
    batch: usize,
    mut ours: impl FnMut(),
    mut bare: impl FnMut(),
) -> Compared {
    let (_, batch) = mode.size(runs, batch);
    alternate(
        mode,
        runs,
        || per_call(batch, &mut ours),
        || per_call(batch, &mut bare),
    )
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

/// A target row for a comparison: both sides' medians, the median ratio against `target`, and
/// the ranges on a second line.
fn ratio_row(what: &str, compared: &Compared, target: f64) {
    let ratio = compared.ratio.median();
    println!(
        "{what:<66} {:>9.2?} vs {:>9.2?}  ratio {ratio:>5.2}x (target <= {target}x: {})",
        secs(compared.ours.median()),
        secs(compared.bare.median()),
        verdict(ratio <= target)
    );
    println!(
        "  {} runs: ours {}, compared with {}, ratio {}",
        compared.ratio.len(),
        compared.ours.time(),
        compared.bare.time(),
        compared.ratio.number(2)
    );
}

fn rate_row(what: &str, rate: &Runs, target: f64, unit: &str) {
    println!(
        "{what:<66} {:>11.0} {unit}/s (target >= {target}/s: {})",
        rate.median(),
        verdict(rate.median() >= target)
    );
    println!("  {} runs: {} {unit}/s", rate.len(), rate.number(0));
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

fn host_with(rules: Rules, settings: &EngineSettings) -> ArenaHost {
    let config = HostConfig::default();
    let reporter = RecordingReporter::new(config.reporting(), IdGenerator::Seeded(1));
    let mut host = ArenaHost::new(
        config.host_settings(),
        HostClock::Virtual(VirtualClock::new(T0)),
        Box::new(reporter),
        false,
        settings,
    )
    .expect("host");
    let bytes = std::fs::read(mods_dir().join(format!("{}.wasm", rules.module))).unwrap();
    host.load_mod(rules.module, &bytes).unwrap();
    host
}

/// A host running Capture The Zone.
fn host() -> ArenaHost {
    host_with(CAPTURE_THE_ZONE, &EngineSettings::default())
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

/// A 16-player match of `rules`, created, joined and placed: the start gate is open.
fn start_match(host: &mut ArenaHost, rules: Rules, match_id: &str, group: u16) {
    let player = |n| player_in(group, n);
    let expected: Vec<Value> = (1..=PLAYERS)
        .map(|n| json!({"uuid": player(n), "name": format!("P{n}")}))
        .collect();
    host.apply(message(json!({
        "type": "match.create", "matchId": match_id, "queueId": "q", "arenaId": "a",
        "rulesEngineId": rules.rules_engine_id, "externalMatchId": format!("ext-{match_id}"),
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

/// A player standing in the zone.
fn tick_data(match_id: &str) -> Value {
    json!({"worldName": format!("nexori-match-{match_id}"), "x": 62.0, "y": 90.0, "z": -6.0, "alive": true})
}

/// A player 20 blocks from the zone's centre, outside its 8-block radius.
fn tick_data_outside(match_id: &str) -> Value {
    json!({"worldName": format!("nexori-match-{match_id}"), "x": 82.0, "y": 90.0, "z": -6.0, "alive": true})
}

fn tick_message(match_id: &str, group: u16, n: u8, data: Value) -> BridgeMessage {
    message(
        json!({"type": "game.event", "matchId": match_id, "kind": "player.tick",
                   "player": player_in(group, n), "data": data}),
    )
}

/// Every player standing in the zone: a contested capture, won at the 300th advance (60.8 s).
fn tick_messages(match_id: &str, group: u16) -> Vec<BridgeMessage> {
    (1..=PLAYERS)
        .map(|n| tick_message(match_id, group, n, tick_data(match_id)))
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

/// One turn as `nexori serve` runs it: the messages in order, then the turn's results committed
/// and its commands handed over (left to pile up, they would be work and memory that the served
/// host does not have).
fn host_turn(host: &mut ArenaHost, messages: &[BridgeMessage]) {
    for result in host.apply_turn(messages.iter().cloned()) {
        result.unwrap();
    }
    black_box(host.take_commands());
}

/// One 20 Hz round through the host: time moves on, then the players' ticks arrive together,
/// as one turn.
fn host_round(host: &mut ArenaHost, round: usize, ticks: &[BridgeMessage]) {
    host.advance_to(round_at(round));
    host_turn(host, ticks);
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
    let compared = compare(
        mode,
        15,
        20,
        || {
            black_box(ModInstance::start(&pre, store()).expect("start"));
        },
        || {
            let mut store = store();
            // The same deadline the host gives (instantiation runs guest start code, which
            // traps on the epoch check of a store without one).
            store.set_epoch_deadline(1_000);
            black_box(pre.instantiate(&mut store).expect("instantiate"));
        },
    );
    ratio_row(
        "match instance: host (store, instantiate, init) vs instantiate",
        &compared,
        1.5,
    );
}

fn bench_lifecycle_callback(mode: Mode) {
    let mut host = host();
    start_match(&mut host, CAPTURE_THE_ZONE, MATCH, 0);
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
    let compared = compare(
        mode,
        15,
        200,
        || host.deliver_match_callback(MATCH, Callback::MatchPlacementCompleted, "BENCH"),
        || {
            lifecycle
                .call_on_match_placement_completed(&mut bare.store, &record)
                .unwrap();
        },
    );
    ratio_row(
        "lifecycle callback, 16 players: routed + snapshot vs bare call",
        &compared,
        2.0,
    );
}

fn bench_game_events(mode: Mode) {
    const ROUNDS: usize = 200;
    let events = (ROUNDS * usize::from(PLAYERS)) as f64;
    let ticks = tick_messages(MATCH, 0);
    // Seconds per event of the stream through a fresh host running `rules`.
    let through_host = |rules: Rules| {
        let mut host = host_with(rules, &EngineSettings::default());
        start_match(&mut host, rules, MATCH, 0);
        let start = Instant::now();
        for round in 0..ROUNDS {
            host_round(&mut host, round, &ticks);
        }
        start.elapsed().as_secs_f64() / events
    };
    let native_ticks = Native::ticks();
    let native = || {
        let mut native = Native::started();
        let start = Instant::now();
        for round in 0..ROUNDS {
            native.round(round, &native_ticks);
        }
        start.elapsed().as_secs_f64() / events
    };
    let compared = alternate(mode, 7, || through_host(CAPTURE_THE_ZONE), native);
    ratio_row(
        "player.tick into a 16-player CTZ match, per event: wasm vs native",
        &compared,
        3.0,
    );
    // Not a target: where the time goes. The same stream into a mod that ignores the event is
    // the host's own path (routing, the guest call with its four strings, command flush).
    let floor = alternate(mode, 7, || through_host(IGNORES_TICKS), native);
    println!(
        "  of which the host path alone (a mod that ignores player.tick) {:>9.2?}   = {} native",
        secs(floor.ours.median()),
        floor.ratio.times()
    );
    // The least any event API can cost: a bare call of an export with no string at all
    // (`timers.on-timer`, which Capture The Zone leaves to the SDK's no-op default).
    let host = host();
    let mut bare = bare_instance(&host);
    let timers = bare.bindings.nexori_minigame_timers();
    let call = measure(mode, 15, 2_000, || {
        timers.call_on_timer(&mut bare.store, 1).unwrap();
    });
    let native_median = compared.bare.median();
    println!(
        "  the cheapest guest call (on-timer, no strings, bare instance)  {:>9.2?}   = {} native",
        secs(call.median()),
        call.map(|c| c / native_median).times()
    );
}

fn bench_whole_match(mode: Mode) {
    let ticks = tick_messages(MATCH, 0);
    // The rounds the match took through the host, the same in every run (virtual time).
    let rounds = std::cell::Cell::new(None);
    let ours = || {
        // Loading (compiling) the mod is the operator's start-up cost, not the match's.
        let mut host = host();
        let start = Instant::now();
        start_match(&mut host, CAPTURE_THE_ZONE, MATCH, 0);
        let mut round = 0;
        while !result_submitted(&host, MATCH) {
            host_round(&mut host, round, &ticks);
            round += 1;
            assert!(round < 2_000, "no capture");
        }
        let elapsed = start.elapsed().as_secs_f64();
        let first = rounds.get().unwrap_or(round);
        rounds.set(Some(first));
        assert_eq!(first, round, "the same match in every run");
        elapsed
    };
    let native_ticks = Native::ticks();
    let native = || {
        let rounds = rounds.get().expect("the host's run comes first");
        let start = Instant::now();
        let mut native = Native::started();
        for round in 0..rounds {
            native.round(round, &native_ticks);
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!(native.submitted(), "the native match captured too");
        elapsed
    };
    let compared = alternate(mode, 5, ours, native);
    let rounds = rounds.get().unwrap();
    let events = (rounds * usize::from(PLAYERS)) as f64;
    ratio_row(
        &format!("whole CTZ match, 16 players, 20 Hz, {rounds} rounds: wasm vs native"),
        &compared,
        3.0,
    );
    rate_row(
        "  game events through the host in that match",
        &compared.ours.map(|seconds| events / seconds),
        300_000.0,
        "events",
    );
}

// --------------------------------------------------------------------------------- recording

/// A sink that takes every line (compact ones unrendered, as `DirSink` takes them) into one
/// buffer and forgets it at the end of the turn: what writing the lines costs the host, with
/// nothing handed to a writer.
#[derive(Default)]
struct DropLines {
    next: u64,
    buf: Vec<u8>,
}

impl RecordSink for DropLines {
    fn open(&mut self, _header_line: &[u8], _sha256: &str, _module: &Arc<[u8]>) -> LogId {
        self.next += 1;
        LogId(self.next)
    }

    fn append(&mut self, _log: LogId, _kind: LineKind, line: &[u8]) {
        self.buf.extend_from_slice(line);
    }

    fn append_with(&mut self, _log: LogId, _kind: LineKind, write: &mut dyn FnMut(&mut Vec<u8>)) {
        write(&mut self.buf);
    }

    fn append_compact(
        &mut self,
        _log: LogId,
        _kind: LineKind,
        _render: Render,
        write: &mut dyn FnMut(&mut Vec<u8>),
    ) {
        write(&mut self.buf);
    }

    fn seal(&mut self, _log: LogId) -> Result<String, SealError> {
        Ok(String::new())
    }

    fn close(&mut self, _log: LogId) {}

    fn end_turn(&mut self) {
        black_box(&self.buf);
        self.buf.clear();
    }
}

/// A Capture The Zone host that records its matches through `sink`, as `nexori serve` does
/// (`recordedBy` "serve", the settings serve writes into every header).
fn recording_host(sink: Box<dyn RecordSink>) -> ArenaHost {
    let config = HostConfig::default();
    let mut host = host();
    host.set_recorder(Recorder::new(
        sink,
        "serve",
        json!({
            "serverId": config.server_id,
            "serverConnectionAddress": config.server_connection_address,
            "admissionReportingUsable": false,
        }),
    ));
    host
}

/// CPU time of the calling thread so far, ns (`CLOCK_THREAD_CPUTIME_ID`, exact: the kernel
/// brings the running thread's figure up to date when asked); `None` off 64-bit Linux.
fn own_cpu_ns() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        /// `struct timespec` of 64-bit Linux.
        #[repr(C)]
        struct Timespec {
            tv_sec: i64,
            tv_nsec: i64,
        }
        unsafe extern "C" {
            fn clock_gettime(clock: i32, time: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut time = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: libc's `clock_gettime` (std links libc) writes one `struct timespec`, whose
        // layout on 64-bit Linux is two 64-bit integers, into the valid `time`.
        let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut time) };
        (rc == 0).then(|| time.tv_sec as u64 * 1_000_000_000 + time.tv_nsec as u64)
    }
    #[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
    None
}

/// CPU time of another thread of this process so far, ns: the first field of its `schedstat`,
/// up to date when the thread is not running (the kernel updates it as the thread stops).
/// `None` where the kernel does not keep it.
fn thread_cpu_ns(tid: u32) -> Option<u64> {
    std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The ids of this process's threads named like the recording worker (`nexori-recording`,
/// which the kernel cuts to 15 bytes).
fn recording_threads() -> Vec<u32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter(|task| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|comm| comm.starts_with("nexori-recordin"))
        })
        .filter_map(|task| task.file_name().to_str()?.parse().ok())
        .collect()
}

/// Player `n`'s tick in round `round` of [`record_minute`]: the half of the match that
/// [`memory_run`] puts in the zone (swapping every second), so nobody captures within the
/// minute. `moving`: each player circles at about 2 blocks/s, 3-5 blocks from the zone's centre
/// inside, 19-21 outside, so `x` and `z` are doubles with every digit, as a game server writes a
/// walking player's position; otherwise the bench's fixed positions.
fn minute_tick(group: u16, n: u8, round: usize, moving: bool) -> BridgeMessage {
    let inside = (usize::from(n) + round / 20).is_multiple_of(2);
    if !moving {
        let data = if inside {
            tick_data(MATCH)
        } else {
            tick_data_outside(MATCH)
        };
        return tick_message(MATCH, group, n, data);
    }
    let (t, phase) = (round as f64 * 0.05, f64::from(n) * 0.7);
    let radius = if inside { 4.0 } else { 20.0 } + (t * 0.3 + phase).sin();
    let angle = t * 2.0 / radius + phase;
    let data = json!({
        "worldName": format!("nexori-match-{MATCH}"),
        "x": 62.0 + radius * angle.cos(), "y": 90.0, "z": -6.0 + radius * angle.sin(),
        "alive": true,
    });
    tick_message(MATCH, group, n, data)
}

/// What one recorded minute left on disk, and what it cost the two threads.
struct RecordedMinute {
    /// The archived `.nxlog` (zstd), bytes.
    compressed: u64,
    /// The JSON lines in it, bytes.
    raw: u64,
    /// Lines: the header, inputs (`in`, `advance`), outputs (`out`) and the rest.
    lines: usize,
    inputs: usize,
    outputs: usize,
    /// CPU of the host thread during the play, and of the recording worker over its life
    /// (the play, the close, the archive), ns; `None` without the thread clocks.
    host_cpu_ns: Option<u64>,
    worker_cpu_ns: Option<u64>,
    /// Compressing the JSON lines again (`format::compress`, the archive's zstd level), on
    /// this thread: the part of the worker's time that goes to the archive, about.
    compress_ns: u64,
}

/// `rounds` rounds of a 16-player Capture The Zone match at 20 Hz through a host recording into
/// a [`DirSink`] in a fresh directory, then `match.end`; waits for the worker to archive the log
/// and measures it.
fn record_minute(rounds: usize, moving: bool) -> RecordedMinute {
    let dir = temp_dir(if moving {
        "recording-minute-moving"
    } else {
        "recording-minute"
    });
    let before = recording_threads();
    let sink = DirSink::start(dir.clone(), Retention::default()).expect("the recording directory");
    let mut host = recording_host(Box::new(sink));
    start_match(&mut host, CAPTURE_THE_ZONE, MATCH, 0);
    let ticks: Vec<Vec<BridgeMessage>> = (0..rounds)
        .map(|round| {
            (1..=PLAYERS)
                .map(|n| minute_tick(0, n, round, moving))
                .collect()
        })
        .collect();
    let host_start = own_cpu_ns();
    for (round, ticks) in ticks.iter().enumerate() {
        host_round(&mut host, round, ticks);
    }
    let host_cpu_ns = Option::zip(own_cpu_ns(), host_start).map(|(end, start)| end - start);
    assert!(!result_submitted(&host, MATCH), "nobody captured");
    // The worker names itself once it runs: looked for now, not right after the start.
    let worker = match recording_threads()
        .into_iter()
        .filter(|tid| !before.contains(tid))
        .collect::<Vec<_>>()[..]
    {
        [tid] => Some(tid),
        _ => None,
    };
    host.apply(message(
        json!({"type": "match.end", "matchId": MATCH, "reason": "bench"}),
    ))
    .unwrap();
    black_box(host.take_commands());
    // The worker archives the log once the match closed: far beyond a healthy wait (ms).
    let deadline = Instant::now() + Duration::from_secs(60);
    let archive = loop {
        let archived = std::fs::read_dir(dir.join("logs"))
            .ok()
            .and_then(|entries| {
                entries
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| p.extension().is_some_and(|e| e == "nxlog"))
            });
        if let Some(path) = archived {
            break path;
        }
        assert!(
            Instant::now() < deadline,
            "no archived log in {} 60 s after the match ended",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let worker_cpu_ns = worker.and_then(thread_cpu_ns);
    drop(host);
    let compressed = std::fs::read(&archive).unwrap();
    let raw = nexori_recording::format::decompress(&compressed).unwrap();
    let text = std::str::from_utf8(&raw).unwrap();
    let count = |key: &str| text.lines().filter(|line| line.contains(key)).count();
    let start = Instant::now();
    black_box(nexori_recording::format::compress(&raw));
    let compress_ns = start.elapsed().as_nanos() as u64;
    let minute = RecordedMinute {
        compressed: compressed.len() as u64,
        raw: raw.len() as u64,
        lines: text.lines().count(),
        inputs: count(",\"in\":") + count(",\"advance\":"),
        outputs: count(",\"out\":"),
        host_cpu_ns,
        worker_cpu_ns,
        compress_ns,
    };
    let _ = std::fs::remove_dir_all(&dir);
    minute
}

/// Seconds per event of one run: wall time, and CPU time of the host's thread where known.
type TimedRun = (f64, Option<f64>);

/// What [`interleave`] measured: the wall times compared, the CPU times compared (`None`
/// without a thread clock), and every run's pair in the order they ran (warm-up left out).
type Interleaved = (Compared, Option<Compared>, Vec<[TimedRun; 2]>);

/// `runs` runs (after a warm-up) of `rounds` rounds each into a new match on both `ours` and
/// `bare`, the two matches' rounds interleaved and each round timed on its own side (who goes
/// first alternating), so that both sides meet the same moments of a shared machine: on this
/// VM, runs taken one after the other differed by up to 2x while the sides differ by a few %.
fn interleave(
    mode: Mode,
    runs: usize,
    rounds: usize,
    ours: &mut MatchAfterMatch,
    bare: &mut MatchAfterMatch,
) -> Interleaved {
    let (runs, _) = mode.size(runs, 1);
    if !mode.smoke {
        play_interleaved(rounds, ours, bare);
    }
    let in_order: Vec<[TimedRun; 2]> = (0..runs)
        .map(|_| play_interleaved(rounds, ours, bare))
        .collect();
    let compared = |f: fn(&TimedRun) -> Option<f64>| -> Option<Compared> {
        let o: Vec<f64> = in_order.iter().map(|[o, _]| f(o)).collect::<Option<_>>()?;
        let b: Vec<f64> = in_order.iter().map(|[_, b]| f(b)).collect::<Option<_>>()?;
        Some(Compared {
            ratio: Runs::new(o.iter().zip(&b).map(|(o, b)| o / b).collect()),
            ours: Runs::new(o),
            bare: Runs::new(b),
        })
    };
    let wall = compared(|run| Some(run.0)).expect("always timed");
    (wall, compared(|run| run.1), in_order)
}

/// One run of [`interleave`]: seconds per event on each side.
fn play_interleaved(
    rounds: usize,
    ours: &mut MatchAfterMatch,
    bare: &mut MatchAfterMatch,
) -> [TimedRun; 2] {
    let sides = [ours.begin(), bare.begin()];
    let mut wall = [Duration::ZERO; 2];
    let mut cpu = [Some(0u64); 2];
    for round in 0..rounds {
        for turn in 0..2 {
            let side = (round + turn) % 2;
            let host = if side == 0 { &mut *ours } else { &mut *bare };
            let (cpu_start, start) = (own_cpu_ns(), Instant::now());
            host.round(&sides[side], round);
            wall[side] += start.elapsed();
            cpu[side] = cpu[side]
                .zip(own_cpu_ns().zip(cpu_start))
                .map(|(sum, (end, start))| sum + (end - start));
        }
    }
    ours.finish(&sides[0]);
    bare.finish(&sides[1]);
    let events = (rounds * usize::from(PLAYERS)) as f64;
    [0, 1].map(|side| {
        (
            wall[side].as_secs_f64() / events,
            cpu[side].map(|ns| ns as f64 * 1e-9 / events),
        )
    })
}

/// A host that lives through the runs of a measurement, as `nexori serve` lives through many
/// matches: each run is a new 16-player Capture The Zone match.
struct MatchAfterMatch {
    host: ArenaHost,
    matches: u16,
    /// The `logs/` of its `DirSink`, where it has one.
    archives: Option<PathBuf>,
}

/// A match [`MatchAfterMatch::begin`] started.
struct BenchMatch {
    id: String,
    ticks: Vec<BridgeMessage>,
    first: i64,
}

impl MatchAfterMatch {
    fn new(host: ArenaHost, archives: Option<PathBuf>) -> Self {
        Self {
            host,
            matches: 0,
            archives,
        }
    }

    /// A new 16-player match, created, joined and placed, and `bench_game_events`' stream for
    /// it: every player in the zone.
    fn begin(&mut self) -> BenchMatch {
        self.matches += 1;
        let (group, id) = (self.matches, format!("r{}", self.matches));
        start_match(&mut self.host, CAPTURE_THE_ZONE, &id, group);
        BenchMatch {
            ticks: tick_messages(&id, group),
            first: lock(self.host.shared()).now() + 1_000,
            id,
        }
    }

    /// Round `round` of the stream: time moves on 50 ms, then a turn of 16 ticks ended with
    /// `take_commands` (which ends the recorder's turn).
    fn round(&mut self, game: &BenchMatch, round: usize) {
        self.host.advance_to(game.first + round as i64 * 50);
        host_turn(&mut self.host, &game.ticks);
    }

    /// Ends the match; with a `DirSink`, waits until its log is archived, so that the worker
    /// is idle when the next run starts.
    fn finish(&mut self, game: &BenchMatch) {
        assert!(!result_submitted(&self.host, &game.id), "no capture yet");
        self.host
            .apply(message(json!({"type": "match.end", "matchId": game.id})))
            .unwrap();
        black_box(self.host.take_commands());
        if let Some(logs) = &self.archives {
            let archived = || {
                std::fs::read_dir(logs).map_or(0, |entries| {
                    entries
                        .flatten()
                        .filter(|e| e.path().extension().is_some_and(|e| e == "nxlog"))
                        .count()
                })
            };
            let deadline = Instant::now() + Duration::from_secs(60);
            while archived() < usize::from(self.matches) {
                assert!(Instant::now() < deadline, "no archive 60 s after the match");
                std::thread::sleep(Duration::from_millis(2));
            }
        }
    }
}

fn bench_recording(mode: Mode) {
    // `bench_game_events`'s stream, longer (still short of the capture, at round 1 197), so
    // that a run lasts tens of ms: 16 000 events.
    let rounds = if mode.smoke { 20 } else { 1_000 };
    // More pairs than elsewhere: the difference sought is a few per cent, under the spread
    // of a shared 2-core machine.
    let pairs = 31;
    let dir = temp_dir("recording");
    let mut plain = MatchAfterMatch::new(host(), None);
    let mut recorded = MatchAfterMatch::new(
        recording_host(Box::new(
            DirSink::start(dir.clone(), Retention::default()).expect("the recording directory"),
        )),
        Some(dir.join("logs")),
    );
    let (wall, cpu, in_order) = interleave(mode, pairs, rounds, &mut recorded, &mut plain);
    // The target is on the host thread's CPU: what recording adds to the path each event
    // takes. The wall time also counts the worker taking the other core from whatever else
    // runs on the machine (printed below, with the worker's own CPU in the disk rows).
    let target = cpu.as_ref().unwrap_or(&wall);
    ratio_row(
        "player.tick into a 16-player CTZ match, host thread CPU per event: recorded (DirSink) vs not",
        target,
        1.05,
    );
    println!(
        "  recording adds about {:.0} ns per event (median ratio - 1, times the unrecorded median)",
        (target.ratio.median() - 1.0) * target.bare.median() * 1e9
    );
    let line = |what: &str, compared: &Compared| {
        println!(
            "  {what:<64} {:>9.2?} vs {:>9.2?}   ratio {}",
            secs(compared.ours.median()),
            secs(compared.bare.median()),
            compared.ratio.times()
        );
    };
    line("wall time per event, recorded vs not", &wall);
    let ns = |s: f64| format!("{:.0}", s * 1e9);
    let cpu_ns = |s: Option<f64>| s.map_or("-".into(), ns);
    println!("  each run in order, ns per event, recorded/not: wall | host thread CPU");
    for (n, [(ours_wall, ours_cpu), (bare_wall, bare_cpu)]) in in_order.iter().enumerate() {
        println!(
            "    {:>2}: {}/{} | {}/{}",
            n + 1,
            ns(*ours_wall),
            ns(*bare_wall),
            cpu_ns(*ours_cpu),
            cpu_ns(*bare_cpu)
        );
    }
    drop(recorded);
    let _ = std::fs::remove_dir_all(&dir);
    // The floor of the method: a second host that records nothing, measured against the first
    // the same way. What a ratio above reads beyond this one's spread is recording's.
    let mut control = MatchAfterMatch::new(host(), None);
    let (control_wall, control_cpu, _) = interleave(mode, pairs, rounds, &mut control, &mut plain);
    line(
        "control: another host recording nothing, host CPU",
        control_cpu.as_ref().unwrap_or(&control_wall),
    );
    drop(control);
    // Not a target: the share of building the lines (written into a buffer the sink clears at
    // the end of the turn); the rest is DirSink's index and its hand-over to the worker.
    let mut lines_only = MatchAfterMatch::new(recording_host(Box::<DropLines>::default()), None);
    let (lines_wall, lines_cpu, _) = interleave(mode, pairs, rounds, &mut lines_only, &mut plain);
    line(
        "of which building the lines (no writer), host CPU",
        lines_cpu.as_ref().unwrap_or(&lines_wall),
    );
    drop(lines_only);

    // The disk: a minute of play recorded and archived, three times per stream.
    let (repeats, rounds) = if mode.smoke {
        (1, 20)
    } else {
        (3, MINUTE_OF_ROUNDS)
    };
    let minute_events = rounds * usize::from(PLAYERS);
    for (moving, stream) in [
        (false, "the bench's fixed positions"),
        (true, "players moving (full-precision x, z)"),
    ] {
        let minutes: Vec<RecordedMinute> = (0..repeats)
            .map(|_| record_minute(rounds, moving))
            .collect();
        // The header differs (each match's random seed), so the archives may differ by bytes.
        let compressed = Runs::new(minutes.iter().map(|m| m.compressed as f64).collect());
        let raw = Runs::new(minutes.iter().map(|m| m.raw as f64).collect());
        let m = &minutes[0];
        let per_minute = 60.0 / (rounds as f64 / 20.0);
        println!(
            "{:<66} {:>8.0} KiB/min compressed, {:.0} KiB/min raw ({:.1}x)",
            format!("one 16-player CTZ match at 20 Hz recorded, {stream}"),
            compressed.median() * per_minute / 1024.0,
            raw.median() * per_minute / 1024.0,
            raw.median() / compressed.median(),
        );
        println!(
            "  {} s of play, {minute_events} ticks, {repeats} recordings: archive {} B, JSON lines {} B ({} lines: {} in, {} out); per tick {:.1} B compressed, {:.1} B raw",
            rounds / 20,
            compressed.number(0),
            raw.number(0),
            m.lines,
            m.inputs,
            m.outputs,
            compressed.median() / minute_events as f64,
            raw.median() / minute_events as f64,
        );
        let cpu = |f: fn(&RecordedMinute) -> Option<u64>| -> Option<Runs> {
            let values: Option<Vec<f64>> = minutes
                .iter()
                .map(|m| f(m).map(|ns| ns as f64 / minute_events as f64))
                .collect();
            values.map(Runs::new)
        };
        match (cpu(|m| m.host_cpu_ns), cpu(|m| m.worker_cpu_ns)) {
            (Some(host), Some(worker)) => println!(
                "  CPU per tick, {repeats} recordings: host thread {} ns, recording worker {} ns (its whole life: the lines, the close, the archive)",
                host.number(0),
                worker.number(0)
            ),
            _ => println!("  CPU per thread: no /proc/<tid>/schedstat here"),
        }
        let compress = cpu(|m| Some(m.compress_ns)).expect("always measured");
        println!(
            "  of the worker's, compressing the log (zstd level 3, timed again here): {} ns per tick",
            compress.number(0)
        );
    }
}

/// Just under 32 KiB of JSON in the shape mods send, inside every limit (at most 256
/// properties): per-player stats with a longer text field, no escapes. The best case: nearly
/// every byte is in a string the fast pass copies as it stands.
fn custom_data_plain() -> String {
    let mut players = serde_json::Map::new();
    for i in 0..40 {
        players.insert(
            format!("{i:08x}-0000-4000-8000-000000000000"),
            json!({"playerName": format!("Player {i}"), "progressSeconds": i as f64 * 0.37,
                   "kills": i % 7, "notes": format!("{i} ").repeat(250)}),
        );
    }
    let doc = json!({"mode": "mid_capture", "capturePointId": "mid", "players": players});
    checked_size(doc.to_string())
}

/// The same shape with every string escaped: chat-like notes with quotes, backslashes, tabs
/// and newlines, and `<`, `>` and `é` written as `\u` escapes (as Gson writes HTML characters).
/// Every string token goes through serde_json's decoder and is escaped again on the way out.
fn custom_data_escaped() -> String {
    let mut players = serde_json::Map::new();
    for i in 0..32 {
        let line = format!("[12:{:02}] P{i}: \"gg\" <3 C:\\maps\\mid\tcafé\n", i % 60);
        players.insert(
            format!("{i:08x}-0000-4000-8000-000000000000"),
            json!({"playerName": format!("Player \"{i}\""), "progressSeconds": i as f64 * 0.37,
                   "kills": i % 7, "notes": line.repeat(16)}),
        );
    }
    let doc = json!({"mode": "mid_capture", "capturePointId": "mid", "players": players});
    // Only string values hold these characters.
    let text = doc
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('é', "\\u00e9");
    checked_size(text)
}

/// The plain document with its first member repeated at the end. A repeated name is the full
/// parser's to decide (`fast.rs`, `leaves_the_rest_to_the_full_parser`), and the fast pass
/// meets it only when it closes the root object, after reading everything: the full path's
/// worst case, the fast pass's work thrown away and the document parsed again into a `Value`.
fn custom_data_repeated_key() -> String {
    let plain = custom_data_plain();
    let text = format!(
        "{},\"mode\":\"mid_capture\"}}",
        plain.strip_suffix('}').unwrap()
    );
    assert!(
        text.starts_with("{\"mode\":"),
        "the first member is repeated"
    );
    checked_size(text)
}

fn checked_size(text: String) -> String {
    assert!(
        text.len() > 31_000 && text.len() <= custom_data::MAX_BYTES,
        "{}",
        text.len()
    );
    text
}

/// Escape sequences in a JSON text (each `\` that starts one).
fn escapes(text: &str) -> usize {
    let mut bytes = text.bytes();
    let mut count = 0;
    while let Some(b) = bytes.next() {
        if b == b'\\' {
            count += 1;
            bytes.next();
        }
    }
    count
}

fn bench_custom_data(mode: Mode) {
    for (shape, text) in [
        ("plain", custom_data_plain()),
        ("escape-heavy", custom_data_escaped()),
        ("repeated key", custom_data_repeated_key()),
    ] {
        // Both sides must accept the document, or the row compares an error with a parse.
        custom_data::parse(Some(&text)).expect("a valid customData document");
        let compared = compare(
            mode,
            31,
            50,
            || {
                black_box(custom_data::parse(Some(black_box(&text))).unwrap());
            },
            || {
                black_box(serde_json::from_slice::<Value>(black_box(text.as_bytes())).unwrap());
            },
        );
        ratio_row(
            &format!(
                "customData {shape}, {} B, {} escapes: validate vs from_slice::<Value>",
                text.len(),
                escapes(&text)
            ),
            &compared,
            1.0,
        );
    }
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

/// The first `n` of a run of distinct results, made once and reused (each measurement writes
/// to a fresh outbox, so reusing them is no duplicate).
fn results(pool: &mut Vec<AcceptedResult>, n: usize) -> &[AcceptedResult] {
    while pool.len() < n {
        pool.push(result(pool.len() as u32));
    }
    &pool[..n]
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("nexori-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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
    let reporter = DurableReporter::new(
        config.reporting(),
        IdGenerator::Seeded(7),
        outbox.clone(),
        None,
    );
    (dir, outbox, reporter)
}

/// Results accepted per second through the durable reporter (duplicate check, body, fsync'd
/// commit), in turns of `per_turn` results each.
fn outbox_rate(results: &[AcceptedResult], per_turn: usize) -> f64 {
    let (dir, outbox, mut reporter) = outbox_reporter();
    let start = Instant::now();
    for turn in results.chunks(per_turn) {
        for r in turn {
            reporter.enqueue(r, T0);
        }
        reporter.commit().expect("the outbox commits");
    }
    let rate = results.len() as f64 / start.elapsed().as_secs_f64();
    assert_eq!(outbox.enqueued_total().unwrap(), results.len() as i64);
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

/// The rate the outbox must accept results at: the target, and the rate offered in the row
/// that shows what happens at the target.
const OUTBOX_TARGET_PER_S: f64 = 5_000.0;

/// The longest the 99th percentile of results may wait for their commit at a sustained rate.
/// A turn's commands leave the host only after its commit, so this wait delays them: a fifth
/// of a 20 Hz tick.
const COMMIT_WAIT_BOUND: Duration = Duration::from_millis(10);

/// The share of the offered rate a sustained rate must accept: a run ends with its last
/// commit's wait (up to the bound, 1 % of a 1 s run), so a little under 1.
const ACCEPTED_SHARE: f64 = 0.98;

/// How many seconds of results a step of the offered-rate sweep offers.
const STEP_SECONDS: f64 = 1.0;

/// What group commit does under load: `results` arrive at `offered` per second, evenly spaced,
/// and each turn commits every result that arrived while the previous commit was syncing (as
/// `nexori serve` does with the bridge messages that wait for a turn).
struct Offered {
    offered: f64,
    /// Results per second from the first arrival to the last commit: never more than offered.
    accepted: f64,
    per_commit: f64,
    /// Seconds from a result's arrival to the end of its commit: the 99th percentile, the most.
    p99_wait: f64,
    longest_wait: f64,
}

impl Offered {
    fn run(results: &[AcceptedResult], offered: f64) -> Self {
        let total = results.len();
        let (dir, outbox, mut reporter) = outbox_reporter();
        let arrival = |n: usize| Duration::from_secs_f64(n as f64 / offered);
        let (mut next, mut commits) = (0, 0);
        let mut waits = Vec::with_capacity(total);
        let start = Instant::now();
        while next < total {
            let now = start.elapsed();
            let arrived = ((now.as_secs_f64() * offered) as usize + 1).min(total);
            if arrived <= next {
                std::thread::sleep(arrival(next).saturating_sub(now));
                continue;
            }
            for r in &results[next..arrived] {
                reporter.enqueue(r, T0);
            }
            reporter.commit().expect("the outbox commits");
            commits += 1;
            let done = start.elapsed();
            waits.extend((next..arrived).map(|n| (done - arrival(n)).as_secs_f64()));
            next = arrived;
        }
        let accepted = total as f64 / start.elapsed().as_secs_f64();
        assert_eq!(outbox.enqueued_total().unwrap(), total as i64);
        let _ = std::fs::remove_dir_all(&dir);
        let waits = Runs::new(waits);
        Offered {
            offered,
            accepted,
            per_commit: total as f64 / commits as f64,
            p99_wait: waits.0[(waits.len() * 99).div_ceil(100) - 1],
            longest_wait: waits.max(),
        }
    }

    /// Every result accepted at the offered rate, and 99 % of them within the bound.
    fn sustained(&self) -> bool {
        self.accepted >= ACCEPTED_SHARE * self.offered
            && self.p99_wait <= COMMIT_WAIT_BOUND.as_secs_f64()
    }

    fn describe(&self) -> String {
        format!(
            "{:.0}/s offered: {:.0}/s accepted, {:.1} per commit, waits p99 {:.2?}, longest {:.2?}{}",
            self.offered,
            self.accepted,
            self.per_commit,
            secs(self.p99_wait),
            secs(self.longest_wait),
            if self.sustained() {
                ""
            } else {
                " (not sustained)"
            }
        )
    }
}

/// One sweep of offered rates: the target first, then up by a quarter at a time while the
/// rate is sustained, or down by a fifth at a time (at most three steps) until it is. Returns
/// the highest sustained rate (0 if none was) and every step.
fn sustained_rate(mode: Mode, pool: &mut Vec<AcceptedResult>) -> (f64, Vec<Offered>) {
    let step = |pool: &mut Vec<AcceptedResult>, offered: f64| {
        let n = if mode.smoke {
            10
        } else {
            (offered * STEP_SECONDS) as usize
        };
        Offered::run(results(pool, n), offered)
    };
    let max_steps = if mode.smoke { 1 } else { 16 };
    let at_target = step(pool, OUTBOX_TARGET_PER_S);
    let (factor, up) = if at_target.sustained() {
        (1.25, true)
    } else {
        (0.8, false)
    };
    let mut steps = vec![at_target];
    let mut highest = if up { OUTBOX_TARGET_PER_S } else { 0.0 };
    for k in 1..=max_steps {
        if !up && k > 3 {
            break;
        }
        let offered = OUTBOX_TARGET_PER_S * f64::powi(factor, k);
        let offered = step(pool, offered);
        let sustained = offered.sustained();
        if sustained {
            highest = offered.offered;
        }
        steps.push(offered);
        if sustained != up {
            break;
        }
    }
    (highest, steps)
}

fn bench_outbox(mode: Mode) {
    let runs = mode.size(3, 1).0;
    let mut pool = Vec::new();
    if !mode.smoke {
        // Warm-up: a fifth of a second at the target, not counted.
        Offered::run(results(&mut pool, 1_000), OUTBOX_TARGET_PER_S);
    }
    let sweeps: Vec<(f64, Vec<Offered>)> =
        (0..runs).map(|_| sustained_rate(mode, &mut pool)).collect();
    rate_row(
        &format!(
            "accept results fsync'd, highest offered rate with p99 wait <= {COMMIT_WAIT_BOUND:?}"
        ),
        &Runs::new(sweeps.iter().map(|(highest, _)| *highest).collect()),
        OUTBOX_TARGET_PER_S,
        "results",
    );
    for (run, (_, steps)) in sweeps.iter().enumerate() {
        println!("  sweep {}:", run + 1);
        for step in steps {
            println!("    {}", step.describe());
        }
    }
    // What the target rate looks like (the first step of every sweep). Accepted can only fall
    // short of offered: this line cannot show headroom, the sweep above does.
    let at_target =
        |f: fn(&Offered) -> f64| Runs::new(sweeps.iter().map(|(_, s)| f(&s[0])).collect());
    println!(
        "  at the target, {OUTBOX_TARGET_PER_S}/s offered: {}/s accepted, {} per commit, waits p99 {}, longest {}",
        at_target(|o| o.accepted).number(0),
        at_target(|o| o.per_commit).number(1),
        at_target(|o| o.p99_wait).time(),
        at_target(|o| o.longest_wait).time(),
    );
    // The curve behind it: a fixed number of results per commit, as fast as they go.
    let n = if mode.smoke { 8 } else { 2_000 };
    for per_turn in [1, 2, 8, 32] {
        let rates = Runs::new(
            (0..runs)
                .map(|_| outbox_rate(results(&mut pool, n), per_turn))
                .collect(),
        );
        println!(
            "  {:<64} {} results/s",
            format!("{per_turn} per commit, {runs} runs"),
            rates.number(0)
        );
    }
}

/// Results per second the sender delivers to the reference backend over loopback: `total`
/// results waiting in the outbox, a fresh backend and outbox.
fn delivery_rate(total: usize) -> f64 {
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
            NewRecord::new(
                &r,
                &id,
                &nexori_reporting::result_body(&r, &id, &config.server_id, T0),
                T0,
            )
        })
        .collect();
    outbox.insert_pending(&records).unwrap();
    let clock = Arc::new(nexori_runtime::clock::SystemClock);
    let start = Instant::now();
    let sender = ResultSender::start(
        outbox.clone(),
        clock,
        SenderSettings::from_settings(&config.reporting()),
    )
    .unwrap();
    sender.wake();
    let acknowledged = &sender.stats().acknowledged;
    // Far beyond any healthy run (about a second), so a stuck sender fails the bench.
    let deadline = start + Duration::from_secs(60);
    while acknowledged.load(std::sync::atomic::Ordering::Relaxed) < total as u64 {
        assert!(
            Instant::now() < deadline,
            "{} of {total} results acknowledged after 60 s",
            acknowledged.load(std::sync::atomic::Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let rate = total as f64 / start.elapsed().as_secs_f64();
    assert_eq!(outbox.depth().unwrap().0, 0);
    drop(sender);
    drop(backend);
    let _ = std::fs::remove_dir_all(&dir);
    rate
}

fn bench_delivery(mode: Mode) {
    let (runs, total) = if mode.smoke { (1, 50) } else { (3, 5_000) };
    if !mode.smoke {
        delivery_rate(500);
    }
    rate_row(
        &format!("deliver {total} results to the reference backend over loopback"),
        &Runs::new((0..runs).map(|_| delivery_rate(total)).collect()),
        5_000.0,
        "results",
    );
}

/// Resident memory of this process: `VmRSS` of `/proc/self/status`, which is in KiB, so no
/// page size is assumed. An error, never 0, when it cannot be read: 0 bytes would read as a
/// target met.
fn rss_bytes() -> Result<u64, String> {
    const STATUS: &str = "/proc/self/status";
    let status =
        std::fs::read_to_string(STATUS).map_err(|e| format!("cannot read {STATUS}: {e}"))?;
    let line = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .ok_or_else(|| format!("{STATUS} has no VmRSS line"))?;
    let kib = line
        .trim()
        .strip_suffix("kB")
        .and_then(|n| n.trim().parse::<u64>().ok())
        .ok_or_else(|| format!("{STATUS}: VmRSS is not a number of kB: {line:?}"))?;
    Ok(kib * 1024)
}

/// A minute of play at 20 Hz.
const MINUTE_OF_ROUNDS: usize = 1_200;

/// `--memory-run MATCHES ROUNDS`, in a process of its own (memory a run frees stays with the
/// allocator and would flatter the next run in the same process): `MATCHES` Capture The Zone
/// matches started, then `ROUNDS` rounds of 20 Hz play on the virtual clock, every match's
/// ticks a turn of their own. Half of each match stands in the zone and half outside, swapping
/// every second, so nobody captures within the minute: the matches stay live, the zone
/// contested, progress and HUDs changing. Prints one line for [`bench_memory`]: RSS before the
/// matches, after their first round, after the last, and the seconds the play took.
fn memory_run(matches: usize, rounds: usize) -> Result<(), String> {
    let mut host = host_with(
        CAPTURE_THE_ZONE,
        &EngineSettings {
            max_instances: matches as u32 + 100,
            ..EngineSettings::default()
        },
    );
    // Ticks for both halves of the swap, made before the baseline.
    let ids: Vec<String> = (0..matches).map(|n| format!("m{n}")).collect();
    let ticks: Vec<[Vec<BridgeMessage>; 2]> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| {
            let group = n as u16 + 1;
            let half = |phase: u8| {
                (1..=PLAYERS)
                    .map(|p| {
                        let data = if (p + phase).is_multiple_of(2) {
                            tick_data(id)
                        } else {
                            tick_data_outside(id)
                        };
                        tick_message(id, group, p, data)
                    })
                    .collect()
            };
            [half(0), half(1)]
        })
        .collect();
    // One match first, so that what every match shares (compiled code, pools) is counted once.
    start_match(&mut host, CAPTURE_THE_ZONE, "warm", 0);
    host_round(&mut host, 0, &tick_messages("warm", 0));
    let before = rss_bytes()?;
    for (n, id) in ids.iter().enumerate() {
        start_match(&mut host, CAPTURE_THE_ZONE, id, n as u16 + 1);
    }
    let play = Instant::now();
    let mut after_first = 0;
    for round in 0..rounds {
        host.advance_to(round_at(round));
        for match_ticks in &ticks {
            host_turn(&mut host, &match_ticks[round / 20 % 2]);
        }
        if round == 0 {
            after_first = rss_bytes()?;
        }
    }
    let seconds = play.elapsed().as_secs_f64();
    let after = rss_bytes()?;
    let live = lock(host.shared()).arena.match_ids().count();
    assert_eq!(live, matches + 1, "every match still live");
    assert!(
        ids.iter().all(|id| !result_submitted(&host, id)),
        "nobody captured: the matches are in play"
    );
    println!("memory-run {before} {after_first} {after} {seconds}");
    Ok(())
}

/// Runs [`memory_run`] in a child process, with a deadline far beyond a healthy run's time.
fn memory_child(matches: usize, rounds: usize) -> std::process::Output {
    use std::process::{Command, Stdio};
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--memory-run", &matches.to_string(), &rounds.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the memory measurement");
    let deadline = Instant::now() + Duration::from_secs(600);
    // The child writes one line and, if it fails, a panic message: far less than a pipe holds.
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the memory measurement ran past its 600 s deadline");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn bench_memory(mode: Mode) {
    let (runs, matches, rounds) = if mode.smoke {
        (1, 10, 20)
    } else {
        (3, 1_000, MINUTE_OF_ROUNDS)
    };
    let mut first_round = Vec::new();
    let mut minute = Vec::new();
    let mut play = Vec::new();
    for _ in 0..runs {
        let output = memory_child(matches, rounds);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the memory measurement failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
        let figures: Vec<f64> = stdout
            .lines()
            .find_map(|line| line.strip_prefix("memory-run "))
            .expect("the memory measurement's line")
            .split(' ')
            .map(|f| f.parse().unwrap())
            .collect();
        let [before, after_first, after, seconds] = figures[..] else {
            panic!("four figures: {stdout}")
        };
        first_round.push((after_first - before) / matches as f64 / 1024.0);
        minute.push((after - before) / matches as f64 / 1024.0);
        play.push(seconds);
    }
    let (minute, first_round, play) = (Runs::new(minute), Runs::new(first_round), Runs::new(play));
    println!(
        "{:<66} {:>11.0} KiB per match (target <= 2048 KiB: {})",
        format!(
            "memory of {matches} live 16-player CTZ matches, {} s of play (RSS)",
            rounds / 20
        ),
        minute.median(),
        verdict(minute.median() <= 2_048.0)
    );
    println!(
        "  {runs} runs, each in a process of its own: {} KiB after {} s of play, {} KiB after the first round; the play took {} s",
        minute.number(0),
        rounds / 20,
        first_round.number(0),
        play.number(1)
    );
}

/// `-- --profile-host` / `-- --profile-native`: feeds the `player.tick` stream through the
/// host (or the native mod) for 10 s with nothing timed, for `perf record` (see BENCHMARKS.md);
/// `-- --profile-host-path` through the host into the `scripted` mod, which ignores it;
/// `-- --profile-recorded` through a host recording into a `DirSink`, as `nexori serve` does.
fn profile_loop(rules: Rules, native: bool, recorded: bool) {
    let native_ticks = Native::ticks();
    let dir = temp_dir("profile-recorded");
    let mut host = if recorded {
        recording_host(Box::new(
            DirSink::start(dir.clone(), Retention::default()).expect("the recording directory"),
        ))
    } else {
        host_with(rules, &EngineSettings::default())
    };
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
            start_match(&mut host, rules, &match_id, group);
            let ticks = tick_messages(&match_id, group);
            for _ in 0..1_000 {
                host_round(&mut host, round, &ticks);
                round += 1;
            }
            host.apply(message(json!({"type": "match.end", "matchId": match_id})))
                .unwrap();
        }
    }
    drop(host);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A measurement: its name (for `-- NAME` filtering) and what runs it.
type Measurement = (&'static str, fn(Mode));

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--memory-run") {
        let number = |i: usize| -> usize {
            args.get(at + i)
                .and_then(|n| n.parse().ok())
                .expect("--memory-run MATCHES ROUNDS")
        };
        if let Err(e) = memory_run(number(1), number(2)) {
            eprintln!("memory run: {e}");
            std::process::exit(1);
        }
        return;
    }
    // The host's own path: the same stream into the mod that ignores it.
    if args.iter().any(|a| a == "--profile-host-path") {
        return profile_loop(IGNORES_TICKS, false, false);
    }
    for (flag, native, recorded) in [
        ("--profile-host", false, false),
        ("--profile-native", true, false),
        ("--profile-recorded", false, true),
    ] {
        if args.iter().any(|a| a == flag) {
            return profile_loop(CAPTURE_THE_ZONE, native, recorded);
        }
    }
    // `cargo test` builds benches and runs them without --bench: a quick smoke run only.
    let mode = Mode {
        smoke: !args.iter().any(|a| a == "--bench"),
    };
    SMOKE.store(mode.smoke, std::sync::atomic::Ordering::Relaxed);
    println!(
        "nexori host benchmarks ({})",
        if mode.smoke { "smoke run" } else { "full run" }
    );
    // `cargo bench -p nexori-host --bench host -- NAME` runs the measurements whose name
    // contains NAME (for profiling one of them).
    let only: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let measurements: [Measurement; 9] = [
        ("instantiation", bench_instantiation),
        ("lifecycle_callback", bench_lifecycle_callback),
        ("game_events", bench_game_events),
        ("whole_match", bench_whole_match),
        ("recording", bench_recording),
        ("custom_data", bench_custom_data),
        ("outbox", bench_outbox),
        ("delivery", bench_delivery),
        ("memory", bench_memory),
    ];
    let start = Instant::now();
    for (name, measure) in measurements {
        if only.is_empty() || only.iter().any(|o| name.contains(o.as_str())) {
            measure(mode);
        }
    }
    println!("the measurements took {:.0?}", start.elapsed());
}
