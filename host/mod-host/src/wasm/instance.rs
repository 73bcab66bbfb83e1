//! Instances and their lifetime.
//!
//! # Instance lifetime policy
//!
//! - **One instance per match.** A match's instance is created from the mod's pre-instantiated
//!   [`RulesModPre`] when the match's first callback is dispatched (`onMatchCreated`), and is
//!   dropped right after `onMatchRuntimeClosed` was delivered. A mod's state therefore never
//!   leaks from one match into another, and a fault ends exactly one match.
//! - **Probe instance at load.** Loading a mod instantiates it once, calls `init` and records
//!   which rules engine ids it registers; then the probe is dropped.
//! - **`init` runs in every instance**, with the operator's configuration for the mod, before
//!   any callback; the mod registers its listeners there.
//! - **Every guest call has a deadline** ([`ModLimits::callback_deadline_ms`], enforced with
//!   epoch interruption) and memory is bounded by a [`StoreLimits`]. A call that traps, panics,
//!   overruns its deadline or hits the memory limit poisons the instance: the host drops it and
//!   applies the fault policy to its match (see `runtime::faults`).
//!
//! [`ModLimits::callback_deadline_ms`]: crate::settings::ModLimits::callback_deadline_ms
//! [`StoreLimits`]: wasmtime::StoreLimits

use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtxBuilder};

use super::engine::deadline_ticks;
use super::guest_output::{GuestOutput, failure_message};
use super::since_v1_1_0::{RulesMod, RulesModPre};
use super::state::{InstanceState, ModInfo, RegistrationPolicy};
use crate::host_state::{HostStateHandle, lock};
use nexori_runtime::clock::SharedClock;

/// WASI's wall clock, read from the host clock (virtual in simulations).
struct HostWall(SharedClock);

impl HostWallClock for HostWall {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }
    fn now(&self) -> Duration {
        Duration::from_millis(self.0.now_epoch_ms().max(0) as u64)
    }
}

/// WASI's monotonic clock, also from the host clock, so a mod cannot tell virtual time apart.
struct HostMonotonic(SharedClock);

impl HostMonotonicClock for HostMonotonic {
    fn resolution(&self) -> u64 {
        1_000_000
    }
    fn now(&self) -> u64 {
        (self.0.now_epoch_ms().max(0) as u64).saturating_mul(1_000_000)
    }
}

/// The most callbacks' deadlines one guest call gets, however many events its batch holds.
pub const MAX_DEADLINE_STRETCH: u32 = 4;

/// A guest call that failed: the instance cannot be used again.
#[derive(Debug)]
pub struct Fault {
    /// A short kind for outcome reasons: `deadline exceeded`, `memory limit reached`, ... For a
    /// mod that panicked or aborted, it ends in what the mod printed to stderr on its way down
    /// (see [`message`](Self::message)).
    pub kind: String,
    /// The whole error, with the guest backtrace when there is one.
    pub detail: String,
    /// What the mod said about its failure: for an `unreachable` trap (a panic or abort), the
    /// message it wrote to stderr during the call, on one line
    /// ([`failure_message`]).
    pub message: Option<String>,
}

impl Fault {
    /// The fault a failed guest call with `error` is: a deadline overrun (named with
    /// `deadline_ms`, the deadline the call had), a stack overflow, a panic or abort
    /// (`unreachable`), another trap, the memory limit, or any other error, as the `<what>` of
    /// docs/arena-behaviour.md#fault-policy.
    pub fn classify(error: &wasmtime::Error, deadline_ms: u64) -> Self {
        let detail = format!("{error:?}");
        let kind = match error.downcast_ref::<Trap>() {
            // The limit's config key is named, so an author knows what to look up or raise.
            Some(Trap::Interrupt) => {
                format!("deadline exceeded ({deadline_ms} ms, limits.callbackDeadlineMs)")
            }
            Some(Trap::StackOverflow) => "stack overflow".to_string(),
            Some(Trap::UnreachableCodeReached) => {
                "trap: unreachable (the mod panicked or aborted)".to_string()
            }
            Some(trap) => format!(
                "trap: {}",
                trap.to_string().trim_start_matches("wasm trap: ")
            ),
            None if detail.contains("forcing trap when growing memory") => {
                "memory limit reached (limits.memoryBytes)".to_string()
            }
            None => format!("error: {}", error.root_cause()),
        };
        Self {
            kind,
            detail,
            message: None,
        }
    }

    /// [`classify`](Self::classify), and for a panic or abort (an `unreachable` trap) the
    /// message the mod wrote to stderr during the call (`stderr`): `trap: unreachable (the mod
    /// panicked or aborted): panicked at src/lib.rs:12:5: boom`. The limits' faults keep their
    /// text.
    fn of_call(error: &wasmtime::Error, deadline_ms: u64, stderr: impl FnOnce() -> String) -> Self {
        let mut fault = Self::classify(error, deadline_ms);
        if matches!(
            error.downcast_ref::<Trap>(),
            Some(Trap::UnreachableCodeReached)
        ) && let Some(message) = failure_message(&stderr())
        {
            fault.kind = format!("{}: {message}", fault.kind);
            fault.message = Some(message);
        }
        fault
    }

    /// The fault's text for an error message: [`message`](Self::message) (when the mod said
    /// something), then [`detail`](Self::detail).
    pub fn describe(&self) -> String {
        match &self.message {
            Some(message) => format!("{message}\n{}", self.detail),
            None => self.detail.clone(),
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.kind)
    }
}

/// The store's [`StoreLimits`] (`limits.memoryBytes` for each linear memory), noting the size of
/// the largest linear memory it allowed: what the instance uses of the limit (`nexori check`
/// prints it for the probe). Every grow, a memory's creation included, goes through the limiter.
pub struct MeteredLimits {
    limits: StoreLimits,
    largest_memory: usize,
}

impl MeteredLimits {
    /// `limits`, with nothing allowed yet.
    pub fn new(limits: StoreLimits) -> Self {
        Self {
            limits,
            largest_memory: 0,
        }
    }

    /// The size in bytes of the instance's largest linear memory (the limit applies to each):
    /// the most it was allowed to grow to. Memory is never given back, so this is its size now.
    pub fn largest_memory(&self) -> usize {
        self.largest_memory
    }
}

impl ResourceLimiter for MeteredLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if allowed && maximum.is_none_or(|max| desired <= max) {
            self.largest_memory = self.largest_memory.max(desired);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.limits.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

/// Builds a store for one instance: no filesystem, network, environment or arguments, the host
/// clock, random generators from seed 0, and the mod's memory limit.
pub fn new_store(
    engine: &Engine,
    module: Arc<ModInfo>,
    shared: HostStateHandle,
    match_id: Option<String>,
    policy: RegistrationPolicy,
) -> Store<InstanceState> {
    new_seeded_store(engine, module, shared, match_id, policy, 0)
}

/// [`new_store`] whose WASI random generators come from `seed` (a match's, recorded in its log),
/// so that everything the instance can observe follows from the host (docs/replay.md).
pub fn new_seeded_store(
    engine: &Engine,
    module: Arc<ModInfo>,
    shared: HostStateHandle,
    match_id: Option<String>,
    policy: RegistrationPolicy,
    seed: crate::recording::Seed,
) -> Store<InstanceState> {
    let clock = lock(&shared).clock.clone();
    let stderr = GuestOutput::new(&module.name, match_id.as_deref(), "stderr");
    let (secure, insecure, insecure_seed) = crate::recording::generators(seed);
    // No filesystem, network, environment or arguments: the builder grants nothing by default.
    let wasi = WasiCtxBuilder::new()
        .wall_clock(HostWall(clock.clone()))
        .monotonic_clock(HostMonotonic(clock))
        .secure_random(secure)
        .insecure_random(insecure)
        .insecure_random_seed(insecure_seed)
        .stdout(GuestOutput::new(
            &module.name,
            match_id.as_deref(),
            "stdout",
        ))
        .stderr(stderr.clone())
        .build();
    let limits = MeteredLimits::new(
        StoreLimitsBuilder::new()
            .memory_size(module.limits.memory_bytes as usize)
            .instances(32)
            .tables(32)
            .memories(4)
            .trap_on_grow_failure(true)
            .build(),
    );
    let state = InstanceState {
        wasi,
        table: ResourceTable::new(),
        limits,
        module,
        match_id,
        shared,
        registrations: Vec::new(),
        registrations_refused: false,
        policy,
        stderr,
        callbacks_this_call: 1,
        commands_this_call: 0,
        logs_this_call: 0,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limits);
    store.epoch_deadline_trap();
    store
}

/// A live instance of a mod.
pub struct ModInstance {
    /// The instance's store: its WASI context, resource table, limits and host state.
    pub store: Store<InstanceState>,
    /// The mod's exports (`init`, the lifecycle, AFK and game-event interfaces), through which
    /// [`call`](Self::call) reaches the guest.
    pub bindings: RulesMod,
}

impl ModInstance {
    /// Instantiates the mod and runs its `init`.
    ///
    /// # Errors
    ///
    /// The [`Fault`] when instantiation or `init` traps or overruns its deadline; a fault of
    /// kind `init failed: <message>` when `init` returns an error.
    pub fn start(pre: &RulesModPre, mut store: Store<InstanceState>) -> Result<Self, Fault> {
        let deadline = store.data().module.limits.callback_deadline_ms;
        store.set_epoch_deadline(deadline_ticks(deadline));
        let stderr = store.data().stderr.clone();
        let bindings = pre.instantiate(&mut store).map_err(|e| {
            // Nothing was written before: all of stderr is this call's.
            Fault::of_call(&e, deadline, || stderr.written_since(0))
        })?;
        let mut instance = Self { store, bindings };
        let config = instance.store.data().module.config_json.clone();
        let init = instance.call(|b, s| b.nexori_minigame_mod_init().call_init(s, &config))?;
        init.map_err(|message| Fault {
            kind: format!("init failed: {message}"),
            detail: message,
            message: None,
        })?;
        Ok(instance)
    }

    /// Calls into the guest with a fresh deadline.
    ///
    /// # Errors
    ///
    /// The [`Fault`] when `f` traps, overruns the deadline or fails otherwise; the instance must
    /// not be used again.
    pub fn call<R>(
        &mut self,
        f: impl FnOnce(&RulesMod, &mut Store<InstanceState>) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        self.call_for(1, f)
    }

    /// Calls into the guest for `callbacks` callbacks at once (the events of a batch). The
    /// per-callback limits on commands and log lines become the batch's, shared by its events;
    /// the deadline stretches to at most [`MAX_DEADLINE_STRETCH`] callbacks, so a mod that loops
    /// forever in a batch holds the host no more than that before it faults (batches shrink for
    /// a mod whose calls take long, see `game_event_batch::BatchSizer`).
    ///
    /// # Errors
    ///
    /// As [`call`](Self::call).
    pub fn call_for<R>(
        &mut self,
        callbacks: u32,
        f: impl FnOnce(&RulesMod, &mut Store<InstanceState>) -> wasmtime::Result<R>,
    ) -> Result<R, Fault> {
        let callbacks = callbacks.max(1);
        let deadline = self
            .store
            .data()
            .module
            .limits
            .callback_deadline_ms
            .saturating_mul(u64::from(callbacks.min(MAX_DEADLINE_STRETCH)));
        self.store.set_epoch_deadline(deadline_ticks(deadline));
        let data = self.store.data_mut();
        data.callbacks_this_call = callbacks;
        data.commands_this_call = 0;
        data.logs_this_call = 0;
        // Where this call's stderr starts: a lock-free read, the text is only taken on a trap.
        let stderr_start = data.stderr.position();
        f(&self.bindings, &mut self.store).map_err(|e| {
            let stderr = &self.store.data().stderr;
            Fault::of_call(&e, deadline, || stderr.written_since(stderr_start))
        })
    }

    /// The loaded mod this is an instance of.
    pub fn module(&self) -> &Arc<ModInfo> {
        &self.store.data().module
    }

    /// The size in bytes of the instance's largest linear memory, what `limits.memoryBytes`
    /// bounds ([`MeteredLimits::largest_memory`]).
    pub fn memory_bytes(&self) -> usize {
        self.store.data().limits.largest_memory()
    }
}
