//! The wasmtime engine, set up for a multi-tenant host.
//!
//! - The **pooling allocator** pre-reserves slots for instances, memories and tables, so
//!   creating a match's instance is a few page-table operations instead of mmap calls, and the
//!   number of live instances is bounded by configuration rather than by luck.
//! - **Warm slots stay resident** ([`warm_slots`], unless `warmInstanceSlots = false`): when a match ends, the pages its instance
//!   dirtied (up to [`KEEP_RESIDENT_BYTES`] per memory) are reset in place, found with Linux's
//!   `PAGEMAP_SCAN` (kernel 6.7+), instead of being handed back to the kernel. The next match of
//!   the same mod reuses the slot without a page fault per touched page: creating a match's
//!   instance (store, instantiate, `init`) went from 28 µs to 9 µs. The cost is that memory a
//!   finished match used stays resident, at most that much per slot. Only where the scan is
//!   available and no swap is configured: the scan resets dirty pages that are *present*, so a
//!   dirty page swapped out would keep the previous match's bytes for the next one, and on
//!   older kernels the fallback clears the whole 1 MiB on every drop.
//! - **`concurrency_support(false)`**: mods are synchronous; the store skips the bookkeeping of
//!   component-model async.
//! - **Profiling**: with `NEXORI_WASM_PERFMAP` set, wasmtime writes `/tmp/perf-<pid>.map`, so
//!   `perf report` names mod functions (`wasm[0]::function[N]`, or the Rust names when the mod
//!   keeps its name section) instead of anonymous JIT addresses.
//! - **Epoch interruption**: a background thread bumps the engine's epoch every
//!   [`EPOCH_TICK`]; each guest call gets a deadline in ticks, so a mod that loops forever is
//!   trapped within its callback budget, whatever it does.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy,
};

/// How often the epoch advances: the resolution of callback deadlines.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Dirty memory kept resident per linear memory slot when its instance is dropped. A Capture The
/// Zone match touches about 200 KiB; a mod that touches more has the rest released as before.
pub const KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// Sizing of the engine.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Component instances alive at once (one per live match, plus load-time probes).
    pub max_instances: u32,
    /// The most linear memory one instance can ever have; per-mod limits sit below this.
    pub max_memory_bytes: u64,
    /// Whether dropped instances may keep their dirty pages resident (`warmInstanceSlots`);
    /// they do only where [`warm_slots`] also says the system allows it.
    pub warm_instance_slots: bool,
}

impl EngineSettings {
    /// The default sizing with the operator's choices from `settings`.
    pub fn from_settings(settings: &crate::settings::HostSettings) -> Self {
        Self {
            warm_instance_slots: settings.warm_instance_slots,
            ..Self::default()
        }
    }

    /// Whether the engine keeps dirty pages resident: asked for, and possible here.
    pub fn keeps_warm_slots(&self) -> bool {
        self.warm_instance_slots && warm_slots()
    }
}

impl Default for EngineSettings {
    fn default() -> Self {
        // 1 000 matches at once fits this machine class comfortably: the pool reserves address
        // space, not memory, and pages are only committed when touched.
        Self {
            max_instances: 1_000,
            max_memory_bytes: 256 << 20,
            warm_instance_slots: true,
        }
    }
}

/// What the pooling allocator holds at once, all instances together, and what one component
/// instance (a match's instance) may take of it. Fixed by [`EngineSettings`]: no configuration
/// key changes it. A component instance takes as many core instances, memories and tables as
/// its component instantiates (a Rust `wasm32-wasip2` mod 3 core instances, a componentize-py
/// one 14, see `nexori check`), so how many live matches fit depends on the mod.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSize {
    /// Component instances: one per live match (and load-time probe).
    pub component_instances: u32,
    /// Core (module) instances of all component instances together.
    pub core_instances: u32,
    /// The most core instances one component instance may have.
    pub core_instances_per_component: u32,
    /// Linear memories of all instances together.
    pub memories: u32,
    /// The most linear memories one component instance may have.
    pub memories_per_component: u32,
    /// Tables of all instances together.
    pub tables: u32,
    /// The most tables one component instance may have.
    pub tables_per_component: u32,
    /// The size of a linear memory's slot: no memory grows beyond it, whatever
    /// `limits.memoryBytes` says.
    pub memory_slot_bytes: u64,
}

impl PoolSize {
    /// How many component instances that each take `core_instances`, `memories` and `tables`
    /// fit in the pool at once (the least of what each resource allows).
    pub fn holds(&self, core_instances: u32, memories: u32, tables: u32) -> u32 {
        let fit = |total: u32, each: u32| total.checked_div(each).unwrap_or(u32::MAX);
        self.component_instances
            .min(fit(self.core_instances, core_instances))
            .min(fit(self.memories, memories))
            .min(fit(self.tables, tables))
    }
}

impl EngineSettings {
    /// The pool [`build_engine`] sizes for these settings: per component instance of
    /// [`max_instances`](Self::max_instances), 8 core instances, 2 memories and 8 tables (a Rust
    /// `wasm32-wasip2` component is a handful of core instances, the program and WASI shims,
    /// with one memory; the rest is headroom for mods built by other toolchains), at most 16, 2
    /// and 8 in one component instance.
    pub fn pool(&self) -> PoolSize {
        PoolSize {
            component_instances: self.max_instances,
            core_instances: self.max_instances * 8,
            core_instances_per_component: 16,
            memories: self.max_instances * 2,
            memories_per_component: 2,
            tables: self.max_instances * 8,
            tables_per_component: 8,
            memory_slot_bytes: self.max_memory_bytes,
        }
    }
}

/// Builds the engine.
///
/// # Errors
///
/// wasmtime's error when the configuration is refused or the pooling allocator's reservation
/// fails (e.g. not enough address space under a low `ulimit -v`).
pub fn build_engine(settings: &EngineSettings) -> wasmtime::Result<Engine> {
    let mut pool = PoolingAllocationConfig::default();
    let size = settings.pool();
    pool.total_component_instances(size.component_instances)
        .total_core_instances(size.core_instances)
        .max_core_instances_per_component(size.core_instances_per_component)
        .total_memories(size.memories)
        .max_memories_per_component(size.memories_per_component)
        .total_tables(size.tables)
        .max_tables_per_component(size.tables_per_component)
        .max_memory_size(size.memory_slot_bytes as usize);
    let warm = settings.keeps_warm_slots();
    tracing::debug!(
        target: "nexori::host",
        warm,
        configured = settings.warm_instance_slots,
        "warm instance slots (keep resident, PAGEMAP_SCAN)"
    );
    if warm {
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(KEEP_RESIDENT_BYTES / 16)
            .pagemap_scan(Enabled::Yes);
    }

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .concurrency_support(false)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    if std::env::var_os("NEXORI_WASM_PERFMAP").is_some() {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    Engine::new(&config)
}

/// Whether dropped instances keep their dirty pages resident (see the module docs): the kernel
/// has `PAGEMAP_SCAN`, and `/proc/swaps` lists no swap area (zram included), so no dirty page of
/// a finished match can be out of memory when its slot is reset. Swap turned on while the host
/// runs is not noticed: restart the host after `swapon`.
pub fn warm_slots() -> bool {
    let no_swap = std::fs::read_to_string("/proc/swaps")
        .is_ok_and(|swaps| swaps.lines().skip(1).all(|line| line.trim().is_empty()));
    no_swap && PoolingAllocationConfig::is_pagemap_scan_available()
}

/// Advances an engine's epoch until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts the `nexori-epoch` thread, which bumps `engine`'s epoch every [`EPOCH_TICK`] until
    /// the ticker is dropped or the engine is gone (it holds only a weak reference).
    ///
    /// # Panics
    ///
    /// If the operating system cannot spawn the thread.
    pub fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let engine = engine.weak();
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("nexori-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    match engine.upgrade() {
                        Some(engine) => engine.increment_epoch(),
                        None => break,
                    }
                }
            })
            .expect("spawn the epoch thread");
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Epoch ticks for a deadline of `ms` milliseconds (at least one tick).
pub fn deadline_ticks(ms: u64) -> u64 {
    (ms / EPOCH_TICK.as_millis() as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::HostSettings;

    #[test]
    fn warm_instance_slots_false_turns_reuse_off() {
        let settings = EngineSettings::from_settings(&HostSettings {
            warm_instance_slots: false,
            ..HostSettings::default()
        });
        assert!(!settings.warm_instance_slots);
        assert!(!settings.keeps_warm_slots());
        build_engine(&settings).expect("an engine without warm slots");

        let settings = EngineSettings::from_settings(&HostSettings::default());
        assert!(settings.warm_instance_slots, "on by default");
        assert_eq!(settings.keeps_warm_slots(), warm_slots());
    }

    #[test]
    fn the_default_pool_holds_as_many_matches_as_a_mod_instantiates_core_instances_for() {
        let pool = EngineSettings::default().pool();
        assert_eq!(pool.core_instances, 8_000);
        assert_eq!(pool.memory_slot_bytes, 256 << 20);
        // A Rust mod (3 core instances), a componentize-js one (4), a componentize-py one (14).
        assert_eq!(pool.holds(3, 1, 1), 1_000);
        assert_eq!(pool.holds(4, 1, 2), 1_000);
        assert_eq!(pool.holds(14, 1, 4), 571);
        assert_eq!(pool.holds(2, 2, 8), 1_000);
        assert_eq!(pool.holds(1, 1, 0), 1_000);
    }
}
