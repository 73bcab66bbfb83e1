//! The orchestrator: loaded mods, their per-match instances, and the loop that feeds runtime
//! events to mods and time to the runtime.
//!
//! Flow: a bridge message (or time passing) changes the [`Arena`](nexori_runtime::Arena); the
//! runtime queues [`RuntimeEvent`]s; [`ArenaHost::pump`] delivers them one by one (callbacks to
//! the owning mod's instance for the match, commands to the game, results to reporting). A mod's
//! API calls during a callback queue further events behind the current one, so callbacks reach a
//! mod in the order the runtime produced them and never re-entrantly.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::bridge::{BridgeMessage, GameEventMessage};
use crate::host_state::{HostState, HostStateHandle, Timers, lock};
use crate::settings::HostSettings;
use crate::wasm::engine::{EngineSettings, EpochTicker, build_engine};
use crate::wasm::instance::{Fault, ModInstance, new_store};
use crate::wasm::loader::{self, LoadError, LoadedMod};
use crate::wasm::mod_dir::{self, Compiler, ModUpdate, ModWatch};
use crate::wasm::registrations::ListenerKind;
use crate::wasm::state::{InstanceState, RegistrationPolicy};
use crate::wasm::{convert, game_event_batch};
use nexori_protocol::commands::GameServerCommand;
use nexori_protocol::trace::{Trace, TraceEntry};
use nexori_reporting::ResultReporter;
use nexori_reporting::admission::AdmissionPublisher;
use nexori_runtime::clock::{SharedClock, VirtualClock};
use nexori_runtime::model::Callback;
use nexori_runtime::{Arena, CallbackPayload, RuntimeEvent, RuntimeSettings};

/// A match's instance and the mod it belongs to.
struct MatchInstance {
    mod_name: String,
    instance: ModInstance,
    batches: game_event_batch::BatchSizer,
}

/// The first wait before a failed outbox commit is tried again; it doubles up to
/// [`COMMIT_RETRY_MAX`] while the commit keeps failing.
const COMMIT_RETRY_FIRST: std::time::Duration = std::time::Duration::from_millis(50);
const COMMIT_RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(1);

/// When a failing outbox commit is tried next.
struct CommitRetry {
    not_before: std::time::Instant,
    backoff: std::time::Duration,
}

/// The host.
pub struct ArenaHost {
    engine: Engine,
    linker: Linker<InstanceState>,
    _ticker: EpochTicker,
    mods: BTreeMap<String, LoadedMod>,
    /// rules engine id → mod name.
    routes: HashMap<String, String>,
    instances: HashMap<String, MatchInstance>,
    /// Matches whose instance faulted: nothing more is delivered to a mod for them.
    faulted: HashSet<String>,
    shared: HostStateHandle,
    virtual_clock: Option<VirtualClock>,
    config: Arc<HostSettings>,
    admission: Option<AdmissionPublisher>,
    /// Where compiled mods are cached, if anywhere.
    compile_cache: Option<std::path::PathBuf>,
    /// The fingerprint (SHA-256, or why it was not read) of each mod file that failed to load,
    /// so a directory scan does not retry (and re-report) the same broken bytes.
    rejected: HashMap<String, String>,
    /// Set while the outbox commit fails: see [`ArenaHost::take_commands`].
    commit_retry: Option<CommitRetry>,
    commit_health: Arc<nexori_reporting::CommitHealth>,
    /// The worker that scans and compiles the mods directory (`nexori serve`).
    mod_watch: Option<ModWatch>,
}

/// The clock an [`ArenaHost`] runs on.
pub enum HostClock {
    /// Real time (`nexori serve`).
    System,
    /// Virtual time that only the host moves (simulations, tests).
    Virtual(VirtualClock),
}

/// Why an [`ArenaHost`] could not be built.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// wasmtime refused the engine configuration.
    #[error("cannot set up wasmtime: {0}")]
    Engine(wasmtime::Error),
    /// The Nexori API could not be added to the linker.
    #[error("cannot link the Nexori API: {0}")]
    Linker(wasmtime::Error),
}

impl ArenaHost {
    /// A host with no mods loaded yet, running on `clock`, reporting through `reporter`,
    /// keeping a trace when `trace` is set.
    ///
    /// # Errors
    ///
    /// [`HostError`] when wasmtime refuses the engine or the linker.
    pub fn new(
        config: HostSettings,
        clock: HostClock,
        reporter: Box<dyn ResultReporter>,
        trace: bool,
        engine_settings: &EngineSettings,
    ) -> Result<Self, HostError> {
        let engine = build_engine(engine_settings).map_err(HostError::Engine)?;
        let linker = loader::linker(&engine).map_err(HostError::Linker)?;
        let (shared_clock, virtual_clock): (SharedClock, _) = match clock {
            HostClock::System => (Arc::new(nexori_runtime::clock::SystemClock), None),
            HostClock::Virtual(v) => (Arc::new(v.clone()), Some(v)),
        };
        let config = Arc::new(config);
        let arena = Arena::new(RuntimeSettings {
            admission_reporting_usable: config.admission_reporting_usable,
        });
        let shared = Arc::new(Mutex::new(HostState {
            arena,
            clock: shared_clock,
            trace: Trace::new(trace),
            reporter,
            timers: Timers::default(),
            outbox: Default::default(),
            config: config.clone(),
        }));
        let ticker = EpochTicker::start(&engine);
        Ok(Self {
            engine,
            linker,
            _ticker: ticker,
            mods: BTreeMap::new(),
            routes: HashMap::new(),
            instances: HashMap::new(),
            faulted: HashSet::new(),
            shared,
            virtual_clock,
            config,
            admission: None,
            compile_cache: None,
            rejected: HashMap::new(),
            commit_retry: None,
            commit_health: Default::default(),
            mod_watch: None,
        })
    }

    /// Caches compiled mods in `dir`, so a restart does not recompile them.
    pub fn set_compile_cache(&mut self, dir: std::path::PathBuf) {
        self.compile_cache = Some(dir);
    }

    /// Publishes admission state through `publisher` from now on.
    pub fn set_admission_publisher(&mut self, publisher: AdmissionPublisher) {
        self.admission = Some(publisher);
    }

    /// Sends every pending admission change now (graceful shutdown).
    pub fn flush_admission(&mut self) {
        let now = self.now();
        if let Some(publisher) = &mut self.admission {
            publisher.flush_all(now);
        }
        self.publish_admission();
    }

    pub fn admission_publisher(&self) -> Option<&AdmissionPublisher> {
        self.admission.as_ref()
    }

    pub fn shared(&self) -> &HostStateHandle {
        &self.shared
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn now(&self) -> i64 {
        lock(&self.shared).now()
    }

    /// Match instances alive now: the instance slots in use (at most
    /// [`EngineSettings::max_instances`]).
    pub fn live_instances(&self) -> usize {
        self.instances.len()
    }

    /// Loaded mods by name.
    pub fn mods(&self) -> impl Iterator<Item = &LoadedMod> {
        self.mods.values()
    }

    /// Loads one mod from bytes. The mod's name comes from its file name.
    pub fn load_mod(&mut self, name: &str, bytes: &[u8]) -> Result<&LoadedMod, LoadError> {
        let prepared = loader::prepare(
            &self.engine,
            &self.linker,
            bytes,
            self.compile_cache.as_deref(),
        )?;
        self.install(name, prepared)
    }

    /// Runs a prepared mod's `init` in a probe instance and, if its registrations are in order,
    /// serves new matches with it.
    fn install(&mut self, name: &str, prepared: loader::Prepared) -> Result<&LoadedMod, LoadError> {
        let taken: HashMap<String, String> = self
            .routes
            .iter()
            .filter(|(_, owner)| owner.as_str() != name)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let loaded = loader::probe(
            &self.engine,
            &self.shared,
            name,
            prepared,
            self.config.mod_config_json(name),
            self.config.limits_for(name).clone(),
            &taken,
        )?;
        // A new version replaces the old for new matches; running matches keep the instance
        // (and so the version) they started with.
        let replaced = self.mods.contains_key(name);
        self.routes.retain(|_, owner| owner.as_str() != name);
        for id in loaded.info.scope.iter() {
            self.routes.insert(id.clone(), name.to_string());
        }
        tracing::info!(
            target: "nexori::mods",
            module = name,
            sha256 = %loaded.info.sha256,
            rules_engine_ids = ?loaded.info.scope,
            "{}",
            if replaced { "mod reloaded; new matches use this version" } else { "mod loaded" }
        );
        self.mods.insert(name.to_string(), loaded);
        Ok(&self.mods[name])
    }

    /// What compiling a mod needs, for [`mod_dir::scan`] on any thread.
    fn compiler(&self) -> Compiler {
        Compiler {
            engine: self.engine.clone(),
            linker: self.linker.clone(),
            cache: self.compile_cache.clone(),
            max_file_bytes: self.config.max_mod_file_bytes,
        }
    }

    /// Mod name → fingerprint of the bytes last loaded or rejected, for [`mod_dir::scan`].
    fn known_mod_files(&self) -> HashMap<String, String> {
        let mut known: HashMap<String, String> = self
            .mods
            .iter()
            .map(|(name, m)| (name.clone(), m.info.sha256.clone()))
            .collect();
        // A rejection is newer than the version still serving (a load clears it).
        known.extend(self.rejected.clone());
        known
    }

    /// Loads every `*.wasm` in `dir`, in name order, and reloads those whose contents changed
    /// since they were loaded (a broken new version is rejected and the loaded one keeps
    /// serving). Mods whose file is gone are unloaded for new matches. One bad mod does not stop
    /// the others; the failures are returned with the file they came from. Everything happens
    /// on this thread: `nexori serve` uses [`watch_mods_dir`](Self::watch_mods_dir) once it runs.
    pub fn load_mods_dir(&mut self, dir: &Path) -> Result<Vec<(String, LoadError)>, LoadError> {
        let mut known = self.known_mod_files();
        let mut updates = Vec::new();
        mod_dir::scan(dir, &self.compiler(), &mut known, |update| {
            updates.push(update);
            true
        })?;
        Ok(updates
            .into_iter()
            .filter_map(|update| self.apply_mod_update(update))
            .collect())
    }

    /// Watches `dir` from a worker thread that scans it every `interval` and reads and compiles
    /// what changed there; [`take_mod_updates`](Self::take_mod_updates) then applies the
    /// results on this thread. Replaces an earlier watch.
    pub fn watch_mods_dir(&mut self, dir: &Path, interval: Duration) -> std::io::Result<()> {
        let watch = ModWatch::start(
            dir.to_path_buf(),
            interval,
            self.compiler(),
            self.known_mod_files(),
        )?;
        self.mod_watch = Some(watch);
        Ok(())
    }

    /// Applies what the watch finished since the last call: removals and failures, and at most
    /// one new mod, whose `init` and registration checks run here (a probe is bounded by the
    /// mod's callback deadline, so a turn holds at most one). Returns the failures with their
    /// file.
    pub fn take_mod_updates(&mut self) -> Vec<(String, LoadError)> {
        let mut failures = Vec::new();
        while let Some(update) = self.mod_watch.as_ref().and_then(ModWatch::try_next) {
            let probed = matches!(update, ModUpdate::Prepared { .. });
            failures.extend(self.apply_mod_update(update));
            if probed {
                break;
            }
        }
        failures
    }

    /// Applies one scan result; a failure comes back with its file.
    fn apply_mod_update(&mut self, update: ModUpdate) -> Option<(String, LoadError)> {
        let (name, path, fingerprint, error) = match update {
            ModUpdate::Removed { name } => {
                self.rejected.remove(&name);
                if self.mods.remove(&name).is_some() {
                    self.routes.retain(|_, owner| owner != &name);
                    tracing::info!(target: "nexori::mods", module = %name, "mod file removed; unloaded for new matches");
                }
                return None;
            }
            ModUpdate::Prepared {
                name,
                path,
                prepared,
            } => {
                let sha = prepared.sha256.clone();
                match self.install(&name, *prepared) {
                    Ok(_) => {
                        self.rejected.remove(&name);
                        return None;
                    }
                    Err(error) => (name, path, sha, error),
                }
            }
            ModUpdate::Failed {
                name,
                path,
                fingerprint,
                error,
            } => (name, path, fingerprint, error),
        };
        tracing::error!(target: "nexori::mods", file = %path, "mod rejected: {error}");
        self.rejected.insert(name, fingerprint);
        Some((path, error))
    }

    /// Applies one message from the game server and delivers what follows from it.
    pub fn apply(&mut self, message: BridgeMessage) -> Result<(), String> {
        let result = {
            let mut shared = lock(&self.shared);
            let now = shared.now();
            let arena = &mut shared.arena;
            match message {
                BridgeMessage::MatchCreate(spec) => arena
                    .create_match(spec, now)
                    .map(|_| ())
                    .map_err(|e| e.to_string()),
                BridgeMessage::PlayerArrive(arrival) => {
                    arena.arrive(arrival, now).map_err(|e| e.to_string())
                }
                BridgeMessage::PlayerPlaced(placed) => {
                    arena.placed(placed, now).map_err(|e| e.to_string())
                }
                BridgeMessage::PlayerActivity { player, source } => {
                    arena.player_activity(player, source, now);
                    Ok(())
                }
                BridgeMessage::PlayerDisconnect { player, reason } => arena
                    .disconnect(player, &reason, now)
                    .map_err(|e| e.to_string()),
                BridgeMessage::MatchEnd { match_id, reason } => arena
                    .end_match(&match_id, &reason, now)
                    .map_err(|e| e.to_string()),
                BridgeMessage::GameEvent(event) => {
                    drop(shared);
                    let mut results = Vec::with_capacity(1);
                    self.deliver_game_events(&mut [event], &mut results);
                    return results.pop().unwrap_or(Ok(()));
                }
                BridgeMessage::Wait => Ok(()),
            }
        };
        lock(&self.shared).flush_commands();
        self.pump();
        result
    }

    /// Most bridge messages a front end (`serve`, `stdio`) takes into one turn, between two
    /// commits and command flushes, so a flood of messages cannot hold back time-driven work
    /// for long.
    pub const MAX_MESSAGES_PER_TURN: usize = 256;

    /// Applies the messages of one turn, in order, with one result per message: the same as
    /// [`apply`](Self::apply) on each, except that `game.event`s that follow one another for
    /// the same match reach a mod built against 1.1.0 in one call (`game-event-batches`).
    pub fn apply_turn(
        &mut self,
        messages: impl IntoIterator<Item = BridgeMessage>,
    ) -> Vec<Result<(), String>> {
        let mut results = Vec::new();
        let mut messages = messages.into_iter().peekable();
        while let Some(message) = messages.next() {
            let BridgeMessage::GameEvent(first) = message else {
                results.push(self.apply(message));
                continue;
            };
            let mut run = vec![first];
            while let Some(BridgeMessage::GameEvent(next)) = messages.peek()
                && next.match_id == run[0].match_id
            {
                let Some(BridgeMessage::GameEvent(next)) = messages.next() else {
                    unreachable!("peeked")
                };
                run.push(next);
            }
            self.deliver_game_events(&mut run, &mut results);
        }
        results
    }

    /// [`apply_turn`](Self::apply_turn) for a turn read off the wire, where some lines may not
    /// have parsed: each `Err` keeps its place and comes back as it went in, so the caller can
    /// answer every line in order.
    pub fn apply_received_turn(
        &mut self,
        received: Vec<Result<BridgeMessage, String>>,
    ) -> Vec<Result<(), String>> {
        let mut messages = Vec::with_capacity(received.len());
        let mut outcomes = Vec::with_capacity(received.len());
        for item in received {
            match item {
                Ok(message) => {
                    messages.push(message);
                    outcomes.push(Ok(()));
                }
                Err(error) => outcomes.push(Err(error)),
            }
        }
        let mut applied = self.apply_turn(messages).into_iter();
        for outcome in &mut outcomes {
            if outcome.is_ok() {
                *outcome = applied.next().unwrap_or(Ok(()));
            }
        }
        outcomes
    }

    /// Delivers `game.event`s for one match (`events[..].match_id` are all equal), pushing one
    /// result per event. Each event is checked against the match as it is when the event's
    /// turn comes, exactly as if it came alone: the mod stops a batch after an event during
    /// which it changed the match, and the rest is checked again once the runtime acted on it.
    fn deliver_game_events(
        &mut self,
        events: &mut [GameEventMessage],
        results: &mut Vec<Result<(), String>>,
    ) {
        let mut next = 0;
        while next < events.len() {
            let checked = {
                let shared = lock(&self.shared);
                let now = shared.now();
                match shared.arena.get(&events[next].match_id) {
                    None => Err(format!("unknown match {:?}", events[next].match_id)),
                    Some(m) => {
                        let refused = events[next..]
                            .iter()
                            .position(|e| e.player.is_some_and(|p| !m.has_player(p)));
                        match refused {
                            Some(0) => Err(format!(
                                "player {} is not part of match {:?}",
                                events[next].player.expect("checked"),
                                m.match_id
                            )),
                            _ => Ok((
                                m.match_id.clone(),
                                next + refused.unwrap_or(events.len() - next),
                                now,
                            )),
                        }
                    }
                }
            };
            match checked {
                Err(error) => {
                    results.push(Err(error));
                    next += 1;
                }
                Ok((match_id, end, now)) => {
                    let handled = self.call_game_events(&match_id, &mut events[next..end], now);
                    results.extend((0..handled).map(|_| Ok(())));
                    next += handled;
                }
            }
            lock(&self.shared).flush_commands();
            self.pump();
        }
    }

    /// Calls the match's instance with the first of `events` (all accepted by the match) and
    /// returns how many it handled, at least one. Without an instance, or after a fault, the
    /// events go nowhere, one at a time, as they would alone.
    fn call_game_events(
        &mut self,
        match_id: &str,
        events: &mut [GameEventMessage],
        now: i64,
    ) -> usize {
        let Some(entry) = self.instances.get(match_id) else {
            return 1;
        };
        let mod_name = entry.mod_name.clone();
        let batches = entry.instance.bindings.batching.is_some();
        let limit = entry.batches.limit();
        let deadline =
            std::time::Duration::from_millis(entry.instance.module().limits.callback_deadline_ms);
        let batch = batches
            .then(|| game_event_batch::build(match_id, events, now, limit))
            .flatten();
        let handled = match batch {
            Some(batch) => {
                let count = batch.events.len();
                let started = std::time::Instant::now();
                let handled = self.call_match(match_id, None, count as u32, |b, s| {
                    b.batching
                        .as_ref()
                        .expect("checked above")
                        .nexori_minigame_game_event_batches()
                        .call_on_game_events(s, &batch)
                });
                // A mod that answers 0, or more than it got, cannot stall or skip the turn.
                let handled = handled.map_or(1, |n| (n as usize).clamp(1, count));
                if let Some(entry) = self.instances.get_mut(match_id) {
                    entry
                        .batches
                        .record(count, handled, started.elapsed(), deadline);
                }
                handled
            }
            None => {
                let event = convert::game_event(&mut events[0], match_id, now);
                self.call_match(match_id, None, 1, |b, s| {
                    b.nexori_minigame_game_events()
                        .call_on_game_event(s, &event)
                });
                1
            }
        };
        let mut shared = lock(&self.shared);
        let labels = format_args!("{{mod=\"{mod_name}\"}}");
        shared.trace.count("nexori_game_event_calls_total", labels);
        shared
            .trace
            .add("nexori_game_events_total", labels, handled as u64);
        handled
    }

    /// Delivers a match-level lifecycle callback for `match_id` with a snapshot taken now, along
    /// the path the runtime's own callbacks take (routing by rulesEngineId, snapshot, trace,
    /// guest call). The benchmarks measure that path with it.
    #[doc(hidden)]
    pub fn deliver_match_callback(&mut self, match_id: &str, callback: Callback, reason: &str) {
        {
            let mut shared = lock(&self.shared);
            let now = shared.now();
            shared
                .arena
                .emit_match_callback(match_id, callback, reason, now);
        }
        self.pump();
    }

    /// Ends a turn: commits the results it accepted (one fsync for all of them) and hands over
    /// the commands it issued, oldest first. Commands only leave the host through here, so
    /// nothing the game server sees can follow from a result that is not durable.
    ///
    /// While the commit fails (disk full, database locked or corrupt) nothing is handed over:
    /// the results stay pending in memory, the commands stay queued in order behind them, the
    /// failure is logged and shown in [`commit_health`](Self::commit_health), and the commit
    /// is tried again after a short back-off. Once it succeeds, everything held goes out.
    pub fn take_commands(&mut self) -> Vec<(i64, GameServerCommand)> {
        let mut shared = lock(&self.shared);
        let held = shared.outbox.len();
        if let Some(retry) = &self.commit_retry
            && std::time::Instant::now() < retry.not_before
        {
            self.commit_health.set_held(held);
            return Vec::new();
        }
        match shared.commit_results() {
            Ok(()) => {
                if self.commit_retry.take().is_some() {
                    tracing::info!(target: "nexori::reporting", held_commands = held, "outbox commit succeeded again; the held commands go out");
                    self.commit_health.recovered();
                }
                shared.outbox.drain(..).collect()
            }
            Err(cause) => {
                let backoff = self.commit_retry.as_ref().map_or(COMMIT_RETRY_FIRST, |r| {
                    (r.backoff * 2).min(COMMIT_RETRY_MAX)
                });
                self.commit_retry = Some(CommitRetry {
                    not_before: std::time::Instant::now() + backoff,
                    backoff,
                });
                self.commit_health.failed(&cause.to_string(), held);
                let paused = if held >= self.config.outbox_max_held_commands {
                    "; the host is paused (outboxMaxHeldCommands reached): it takes no bridge messages and runs no timers until a commit succeeds"
                } else {
                    ""
                };
                tracing::error!(
                    target: "nexori::reporting",
                    results = shared.reporter.uncommitted(),
                    held_commands = held,
                    "outbox commit failing: {cause}; holding the game server's commands back until the results are durable (retry in {} ms){paused}",
                    backoff.as_millis()
                );
                Vec::new()
            }
        }
    }

    /// Whether the host is paused behind a failing outbox commit: the commit keeps failing and
    /// `outboxMaxHeldCommands` commands wait behind it. A front end then takes no bridge
    /// messages and moves no time, only [`take_commands`](Self::take_commands) (which retries
    /// the commit), until this clears; memory stays bounded and nothing is dropped.
    pub fn paused(&self) -> bool {
        self.commit_retry.is_some()
            && lock(&self.shared).outbox.len() >= self.config.outbox_max_held_commands
    }

    /// Whether committing results is failing, shared with `/healthz` and `/metrics`.
    pub fn commit_health(&self) -> Arc<nexori_reporting::CommitHealth> {
        self.commit_health.clone()
    }

    /// The earliest instant at which the runtime or a mod timer has work.
    pub fn next_deadline(&self) -> Option<i64> {
        let shared = lock(&self.shared);
        let admission = self
            .admission
            .as_ref()
            .and_then(AdmissionPublisher::next_deadline);
        [
            shared.arena.next_deadline(),
            shared.timers.next_deadline(),
            admission,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Runs everything due up to `target`, in time order; on a virtual clock the clock moves to
    /// each deadline and finally to `target`.
    pub fn advance_to(&mut self, target: i64) {
        let mut last = i64::MIN;
        let mut spins = 0u32;
        while let Some(at) = self.next_deadline().filter(|at| *at <= target) {
            if at == last {
                spins += 1;
                // A deadline that processing does not consume would spin forever; it is a host
                // bug, and the host must keep serving.
                if spins > 100_000 {
                    tracing::error!(target: "nexori::host", at, "deadline did not advance; skipping ahead");
                    break;
                }
            } else {
                spins = 0;
                last = at;
            }
            if let Some(clock) = &self.virtual_clock {
                clock.set(at);
            }
            let now = self.now();
            self.advance_runtime(now);
            self.fire_due_timers(now);
        }
        if let Some(clock) = &self.virtual_clock {
            clock.set(target);
        }
        let now = self.now();
        self.advance_runtime(now);
        self.fire_due_timers(now);
    }

    fn advance_runtime(&mut self, now: i64) {
        {
            let mut shared = lock(&self.shared);
            shared.arena.advance(now);
            shared.flush_commands();
        }
        self.pump();
    }

    fn fire_due_timers(&mut self, now: i64) {
        loop {
            let due = lock(&self.shared).timers.pop_due(now);
            let Some((id, match_id)) = due else { break };
            self.call_match(&match_id, None, 1, |b, s| {
                b.nexori_minigame_timers().call_on_timer(s, id)
            });
            self.pump();
        }
    }

    /// Delivers queued runtime events until none are left, then lets the admission publisher
    /// send what is due.
    pub fn pump(&mut self) {
        self.deliver_events();
        self.publish_admission();
    }

    /// Applies admission answers and sends due snapshots; each sent body goes into the trace.
    pub fn publish_admission(&mut self) {
        let Some(publisher) = &mut self.admission else {
            return;
        };
        let mut shared = lock(&self.shared);
        let now = shared.now();
        let sent = publisher.tick(&shared.arena, now);
        for snapshot in sent {
            shared.trace.push(TraceEntry::Admission {
                at: now,
                body: snapshot.body,
            });
        }
    }

    fn deliver_events(&mut self) {
        loop {
            let event = lock(&self.shared).arena.next_event();
            let Some(event) = event else { break };
            match event {
                RuntimeEvent::Callback {
                    rules_engine_id,
                    callback,
                    payload,
                } => {
                    self.dispatch_callback(&rules_engine_id, callback, payload);
                }
                RuntimeEvent::Command(command) => lock(&self.shared).send_command(command),
                RuntimeEvent::NexoriResult(result) => {
                    lock(&self.shared).report(&result);
                }
                RuntimeEvent::AdmissionDirty { match_id, reason } => {
                    if let Some(publisher) = &mut self.admission {
                        let now = lock(&self.shared).now();
                        publisher.mark_dirty(&match_id, &reason, now);
                    }
                }
                RuntimeEvent::AdmissionReservationConsumed {
                    match_id,
                    reservation_id,
                } => {
                    if let Some(publisher) = &mut self.admission {
                        publisher.reservation_consumed(&match_id, &reservation_id);
                    }
                }
                RuntimeEvent::PlayerDisconnected {
                    match_id,
                    player,
                    reason,
                    at_epoch_ms,
                    ..
                } => {
                    // Not a Nexori listener, but a callback all the same: the trace shows it.
                    if let Some(entry) = self.instances.get(&match_id) {
                        let mut shared = lock(&self.shared);
                        shared.trace.push(TraceEntry::Callback {
                            at: at_epoch_ms,
                            mod_name: entry.mod_name.clone(),
                            callback: "onPlayerDisconnected",
                            match_id: match_id.clone(),
                            player: Some(player),
                            reason: reason.clone(),
                        });
                    }
                    let player = player.hyphenated().to_string();
                    self.call_match(&match_id, None, 1, |b, s| {
                        b.nexori_minigame_game_events().call_on_player_disconnected(
                            s,
                            &match_id,
                            &player,
                            &reason,
                            at_epoch_ms,
                        )
                    });
                }
            }
        }
    }

    fn dispatch_callback(
        &mut self,
        rules_engine_id: &str,
        callback: Callback,
        payload: CallbackPayload,
    ) {
        let match_id = payload.match_id().to_string();
        let kind = if callback == Callback::PlayerAfkChanged {
            ListenerKind::Afk
        } else {
            ListenerKind::Lifecycle
        };
        tracing::trace!(target: "nexori::host", match_id, callback = callback.as_str(), rules_engine_id, "dispatch");
        // A running match stays with the instance (and mod version) it started with, even if
        // the mod was reloaded or unloaded since; only a new instance follows the routes.
        let mod_name = match self.instances.get(&match_id) {
            Some(entry) => Some(entry.mod_name.clone()),
            None => self.routes.get(rules_engine_id).cloned(),
        };
        if let Some(mod_name) = mod_name
            && !self.faulted.contains(&match_id)
            && self.ensure_instance(&match_id, &mod_name)
        {
            let listens = self.instances[&match_id]
                .instance
                .store
                .data()
                .listens(kind, rules_engine_id);
            if !listens {
                tracing::debug!(target: "nexori::host", match_id, callback = callback.as_str(), "mod does not listen; not delivered");
            } else {
                {
                    let mut shared = lock(&self.shared);
                    let at = shared.now();
                    shared.trace.push(TraceEntry::Callback {
                        at,
                        mod_name: mod_name.clone(),
                        callback: callback.as_str(),
                        match_id: match_id.clone(),
                        player: payload.player(),
                        reason: payload.reason().to_string(),
                    });
                }
                self.call_match(&match_id, Some(&mod_name), 1, |b, s| {
                    call_listener(b, s, callback, &payload)
                });
            }
        }
        if callback == Callback::MatchRuntimeClosed {
            self.instances.remove(&match_id);
            self.faulted.remove(&match_id);
            lock(&self.shared).timers.drop_match(&match_id);
        }
    }

    /// Makes sure the match has an instance of `mod_name`; false if it could not be started
    /// (the match is then faulted).
    fn ensure_instance(&mut self, match_id: &str, mod_name: &str) -> bool {
        if self.instances.contains_key(match_id) {
            return true;
        }
        let Some(loaded) = self.mods.get(mod_name) else {
            return false;
        };
        let store = new_store(
            &self.engine,
            loaded.info.clone(),
            self.shared.clone(),
            Some(match_id.to_string()),
            RegistrationPolicy::Loaded,
        );
        let started = std::time::Instant::now();
        let result = ModInstance::start(&loaded.pre, store);
        {
            let micros = started.elapsed().as_micros() as u64;
            let mut shared = lock(&self.shared);
            shared.trace.add(
                "nexori_instantiation_microseconds_sum",
                format_args!(""),
                micros,
            );
            shared
                .trace
                .count("nexori_instantiation_microseconds_count", format_args!(""));
        }
        match result {
            Ok(instance) => {
                self.instances.insert(
                    match_id.to_string(),
                    MatchInstance {
                        mod_name: mod_name.to_string(),
                        instance,
                        batches: Default::default(),
                    },
                );
                true
            }
            Err(fault) => {
                self.fault(match_id, mod_name, fault);
                false
            }
        }
    }

    /// Calls into the match's instance, if it has one (and it runs `expected_mod`, when given);
    /// a failure faults the match. `callbacks` is how many callbacks the guest call stands for:
    /// the events of a batch, else 1 (see [`ModInstance::call_for`]).
    fn call_match<R>(
        &mut self,
        match_id: &str,
        expected_mod: Option<&str>,
        callbacks: u32,
        f: impl FnOnce(
            &crate::wasm::since_v1_1_0::RulesMod,
            &mut wasmtime::Store<InstanceState>,
        ) -> wasmtime::Result<R>,
    ) -> Option<R> {
        let entry = self.instances.get_mut(match_id)?;
        if expected_mod.is_some_and(|m| m != entry.mod_name) {
            return None;
        }
        match entry.instance.call_for(callbacks, f) {
            Ok(r) => Some(r),
            Err(fault) => {
                let mod_name = entry.mod_name.clone();
                self.fault(match_id, &mod_name, fault);
                None
            }
        }
    }

    /// Contains a fault to its match: drop the instance, tell the operator, apply the policy.
    fn fault(&mut self, match_id: &str, mod_name: &str, fault: Fault) {
        self.instances.remove(match_id);
        self.faulted.insert(match_id.to_string());
        let sha = self
            .mods
            .get(mod_name)
            .map(|m| m.info.sha256.clone())
            .unwrap_or_default();
        tracing::error!(
            target: "nexori::faults",
            module = mod_name,
            sha256 = %&sha[..sha.len().min(12)],
            match_id,
            "rules mod fault: {}\n{}",
            fault.kind,
            fault.detail
        );
        let mut shared = lock(&self.shared);
        let now = shared.now();
        shared.trace.push(TraceEntry::Fault {
            at: now,
            mod_name: mod_name.to_string(),
            match_id: Some(match_id.to_string()),
            error: fault.kind.clone(),
        });
        shared.timers.drop_match(match_id);
        shared.arena.apply_fault_policy(match_id, &fault.kind, now);
    }
}

fn call_listener(
    bindings: &crate::wasm::since_v1_1_0::RulesMod,
    store: &mut wasmtime::Store<InstanceState>,
    callback: Callback,
    payload: &CallbackPayload,
) -> wasmtime::Result<()> {
    let lifecycle = bindings.nexori_minigame_lifecycle_listener();
    match (callback, payload) {
        (Callback::PlayerAfkChanged, CallbackPayload::Afk(e)) => bindings
            .nexori_minigame_afk_listener()
            .call_on_player_afk_changed(store, &convert::afk_event(e)),
        (Callback::PlayerArrived, CallbackPayload::Player(e)) => {
            lifecycle.call_on_player_arrived(store, &convert::player_event(e))
        }
        (Callback::PlayerPlacementConfirmed, CallbackPayload::Placement(e)) => {
            lifecycle.call_on_player_placement_confirmed(store, &convert::placement_event(e))
        }
        (callback, CallbackPayload::Match(e)) => {
            let e = convert::match_event(e);
            match callback {
                Callback::MatchCreated => lifecycle.call_on_match_created(store, &e),
                Callback::MatchPlacementCompleted => {
                    lifecycle.call_on_match_placement_completed(store, &e)
                }
                Callback::MatchStartAllowed => lifecycle.call_on_match_start_allowed(store, &e),
                Callback::MatchCancellationRequested => {
                    lifecycle.call_on_match_cancellation_requested(store, &e)
                }
                Callback::MatchCompleted => lifecycle.call_on_match_completed(store, &e),
                Callback::MatchRuntimeClosed => lifecycle.call_on_match_runtime_closed(store, &e),
                other => Err(wasmtime::format_err!(
                    "callback {other} does not carry a match event"
                )),
            }
        }
        (callback, _) => Err(wasmtime::format_err!(
            "callback {callback} got the wrong payload"
        )),
    }
}
