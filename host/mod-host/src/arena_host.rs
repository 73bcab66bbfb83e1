//! The orchestrator: loaded mods, their per-match instances, and the loop that feeds runtime
//! events to mods and time to the runtime.
//!
//! Flow: a bridge message (or time passing) changes the [`Arena`]; the
//! runtime queues [`RuntimeEvent`](nexori_runtime::RuntimeEvent)s; [`ArenaHost::pump`] delivers them one by one (callbacks to
//! the owning mod's instance for the match, commands to the game, results to reporting). A mod's
//! API calls during a callback queue further events behind the current one, so callbacks reach a
//! mod in the order the runtime produced them and never re-entrantly.
//!
//! The pieces, one module each: `mod_registry` (the loaded mods and which serves each
//! `rulesEngineId`), `match_instances` (each match's instance), `dispatch` (delivering
//! runtime events), `game_events` (checks and batching of `game.event`), `faults` (the fault
//! policy) and `commit_gate` (commands wait for the outbox commit).

mod commit_gate;
mod dispatch;
mod faults;
mod game_events;
mod match_instances;
mod mod_registry;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::bridge::BridgeMessage;
use crate::host_state::{HostState, HostStateHandle, Timers, lock};
use crate::recording::Recorder;
use crate::settings::HostSettings;
use crate::wasm::engine::{EngineSettings, EpochTicker, build_engine};
use crate::wasm::loader::{self, LoadError, LoadedMod};
use crate::wasm::mod_dir::{self, Compiler, ModUpdate, ModWatch};
use crate::wasm::state::InstanceState;
use nexori_protocol::commands::GameServerCommand;
use nexori_protocol::trace::{Trace, TraceEntry};
use nexori_runtime::arrivals::PlayerEventError;
use nexori_runtime::launch::LaunchError;
use nexori_runtime::returns::EndMatchError;
use uuid::Uuid;

use commit_gate::CommitGate;
use match_instances::MatchInstances;
use mod_registry::ModRegistry;
use nexori_reporting::ResultReporter;
use nexori_reporting::admission::AdmissionPublisher;
use nexori_runtime::clock::{SharedClock, VirtualClock};
use nexori_runtime::model::Callback;
use nexori_runtime::{Arena, RuntimeSettings};

/// The host.
pub struct ArenaHost {
    engine: Engine,
    linker: Linker<InstanceState>,
    _ticker: EpochTicker,
    mods: ModRegistry,
    instances: MatchInstances,
    shared: HostStateHandle,
    virtual_clock: Option<VirtualClock>,
    config: Arc<HostSettings>,
    admission: Option<AdmissionPublisher>,
    /// Where compiled mods are cached, if anywhere.
    compile_cache: Option<std::path::PathBuf>,
    /// Holds commands back while the outbox commit fails: see [`ArenaHost::take_commands`].
    commit_gate: CommitGate,
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

/// Why the host refused a message from the game server. The text is the error reply the game
/// server gets (docs/bridge-protocol.md#error-replies).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// `match.create` refused.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// `player.arrive`, `player.placed` or `player.disconnect` refused.
    #[error(transparent)]
    Player(#[from] PlayerEventError),
    /// `match.end` refused.
    #[error(transparent)]
    EndMatch(#[from] EndMatchError),
    /// A `game.event` for a match the host does not have.
    #[error("unknown match {0:?}")]
    UnknownMatch(String),
    /// A `game.event` about a player who is not part of its match.
    #[error("player {player} is not part of match {match_id:?}")]
    NotInMatch {
        /// The player the event named.
        player: Uuid,
        /// The match, as the host knows it.
        match_id: String,
    },
}

/// Why a line a front end received was not applied: it never became a message (`Unread`, with
/// the front end's own reason: not JSON, not UTF-8, ...), or the host refused the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal<E> {
    /// The line did not become a bridge message.
    #[error("{0}")]
    Unread(E),
    /// The host refused the message.
    #[error(transparent)]
    Refused(MessageError),
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
            commands: Default::default(),
            config: config.clone(),
            recorder: None,
        }));
        let ticker = EpochTicker::start(&engine);
        Ok(Self {
            engine,
            linker,
            _ticker: ticker,
            mods: ModRegistry::default(),
            instances: MatchInstances::default(),
            commit_gate: CommitGate::new(config.outbox_max_held_commands),
            shared,
            virtual_clock,
            config,
            admission: None,
            compile_cache: None,
            mod_watch: None,
        })
    }

    /// Caches compiled mods in `dir`, so a restart does not recompile them.
    pub fn set_compile_cache(&mut self, dir: std::path::PathBuf) {
        self.compile_cache = Some(dir);
    }

    /// Records every match whose instance starts from now on (docs/replay.md).
    pub fn set_recorder(&mut self, recorder: Recorder) {
        lock(&self.shared).recorder = Some(recorder);
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

    /// The admission publisher, when admission state is published.
    pub fn admission_publisher(&self) -> Option<&AdmissionPublisher> {
        self.admission.as_ref()
    }

    /// The state the host shares with every instance (runtime, clock, trace, timers, ...).
    pub fn shared(&self) -> &HostStateHandle {
        &self.shared
    }

    /// The wasmtime engine mods are compiled for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The host's clock, epoch ms.
    pub fn now(&self) -> i64 {
        lock(&self.shared).now()
    }

    /// Match instances alive now: the instance slots in use (at most
    /// [`EngineSettings::max_instances`]).
    pub fn live_instances(&self) -> usize {
        self.instances.len()
    }

    /// The size in bytes of the linear memory of the instance serving `match_id` now: its
    /// largest memory, what `limits.memoryBytes` bounds (memory is never given back, so this is
    /// also the most it had). `None` when the match has no live instance: not started yet,
    /// faulted, or closed. For the host's own tools (`nexori check` measures a mod's growth per
    /// game event with it); it is no part of the `nexori:minigame` API, so no mod can read it.
    pub fn match_memory_bytes(&self, match_id: &str) -> Option<usize> {
        let key = nexori_runtime::ids::match_key(match_id)?;
        self.instances
            .get(&key)
            .map(|entry| entry.instance.memory_bytes())
    }

    /// Loaded mods by name.
    pub fn mods(&self) -> impl Iterator<Item = &LoadedMod> {
        self.mods.iter()
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
        let taken = self.mods.taken_by_others(name);
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
        let (sha256, scope) = (loaded.info.sha256.clone(), loaded.info.scope.clone());
        let replaced = self.mods.install(name, loaded);
        tracing::info!(
            target: "nexori::mods",
            module = name,
            sha256 = %sha256,
            rules_engine_ids = ?scope,
            "{}",
            if replaced { "mod reloaded; new matches use this version" } else { "mod loaded" }
        );
        Ok(self.mods.get(name).expect("installed above"))
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

    /// Loads every `*.wasm` in `dir`, in name order, and reloads those whose contents changed
    /// since they were loaded (a broken new version is rejected and the loaded one keeps
    /// serving). Mods whose file is gone are unloaded for new matches. One bad mod does not stop
    /// the others; the failures are returned with the file they came from. Everything happens
    /// on this thread: `nexori serve` uses [`watch_mods_dir`](Self::watch_mods_dir) once it runs.
    pub fn load_mods_dir(&mut self, dir: &Path) -> Result<Vec<(String, LoadError)>, LoadError> {
        let mut known = self.mods.known_files();
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
            self.mods.known_files(),
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
                if self.mods.remove(&name) {
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
                        self.mods.clear_rejection(&name);
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
        self.mods.reject(name, fingerprint);
        Some((path, error))
    }

    /// Applies one message from the game server and delivers what follows from it.
    ///
    /// # Errors
    ///
    /// [`MessageError`] when the runtime refuses the message; nothing changed then.
    pub fn apply(&mut self, message: BridgeMessage) -> Result<(), MessageError> {
        let result = {
            let mut shared = lock(&self.shared);
            let now = shared.now();
            // What a recorded match's log gets: the message (kept before the runtime takes it)
            // and the match it reached (a player's message reaches the player's match).
            let recorded = shared.recorder.is_some().then(|| {
                let key = match &message {
                    BridgeMessage::PlayerActivity { player, .. }
                    | BridgeMessage::PlayerDisconnect { player, .. } => {
                        shared.arena.find_active_match_id(*player)
                    }
                    other => other
                        .match_id()
                        .and_then(nexori_runtime::ids::normalize_match_id),
                };
                (key, message.clone())
            });
            let arena = &mut shared.arena;
            let result = match message {
                BridgeMessage::MatchCreate(spec) => arena
                    .create_match(spec, now)
                    .map(|_| ())
                    .map_err(MessageError::from),
                BridgeMessage::PlayerArrive(arrival) => {
                    arena.arrive(arrival, now).map_err(MessageError::from)
                }
                BridgeMessage::PlayerPlaced(placed) => {
                    arena.placed(placed, now).map_err(MessageError::from)
                }
                BridgeMessage::PlayerActivity { player, source } => {
                    arena.player_activity(player, source, now);
                    Ok(())
                }
                BridgeMessage::PlayerDisconnect { player, reason } => arena
                    .disconnect(player, &reason, now)
                    .map_err(MessageError::from),
                BridgeMessage::MatchEnd { match_id, reason } => arena
                    .end_match(&match_id, &reason, now)
                    .map_err(MessageError::from),
                BridgeMessage::GameEvent(event) => {
                    drop(shared);
                    let mut results = Vec::with_capacity(1);
                    self.deliver_game_events(&mut [event], &mut results);
                    return results.pop().unwrap_or(Ok(()));
                }
                BridgeMessage::Wait => Ok(()),
            };
            if let (Ok(()), Some((Some(key), message)), Some(recorder)) =
                (&result, recorded, shared.recorder.as_mut())
            {
                if matches!(message, BridgeMessage::MatchCreate(_)) {
                    recorder.created(&key, now, &message);
                } else {
                    recorder.input(&key, now, &message);
                }
            }
            result
        };
        lock(&self.shared).flush_commands();
        self.pump();
        if let Some(recorder) = &mut lock(&self.shared).recorder {
            recorder.forget_pending_create();
        }
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
    ) -> Vec<Result<(), MessageError>> {
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
    pub fn apply_received_turn<E>(
        &mut self,
        received: Vec<Result<BridgeMessage, E>>,
    ) -> Vec<Result<(), Refusal<E>>> {
        let mut messages = Vec::with_capacity(received.len());
        let mut outcomes = Vec::with_capacity(received.len());
        for item in received {
            match item {
                Ok(message) => {
                    messages.push(message);
                    outcomes.push(Ok(()));
                }
                Err(error) => outcomes.push(Err(Refusal::Unread(error))),
            }
        }
        let mut applied = self.apply_turn(messages).into_iter();
        for outcome in &mut outcomes {
            if outcome.is_ok() {
                *outcome = applied.next().unwrap_or(Ok(())).map_err(Refusal::Refused);
            }
        }
        outcomes
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
        if let Some(recorder) = &mut shared.recorder {
            recorder.end_turn();
        }
        self.commit_gate
            .take(&mut shared, std::time::Instant::now())
    }

    /// Whether the host is paused behind a failing outbox commit: the commit keeps failing and
    /// `outboxMaxHeldCommands` commands wait behind it. A front end then takes no bridge
    /// messages and moves no time, only [`take_commands`](Self::take_commands) (which retries
    /// the commit), until this clears; memory stays bounded and nothing is dropped.
    pub fn paused(&self) -> bool {
        self.commit_gate.paused(lock(&self.shared).commands.len())
    }

    /// Whether committing results is failing, shared with `/healthz` and `/metrics`.
    pub fn commit_health(&self) -> Arc<nexori_reporting::CommitHealth> {
        self.commit_gate.health()
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
        if let Some(recorder) = &mut lock(&self.shared).recorder {
            recorder.advanced(target);
        }
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
}
