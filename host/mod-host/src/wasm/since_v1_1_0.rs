//! Bindings for `nexori:minigame@1.1.0`, kept thin: the host's logic lives in plain Rust and this
//! module only converts at the boundary.
//!
//! One module serves every 1.x mod. 1.1.0 only adds to 1.0.0, and wasmtime resolves names
//! semver-compatibly in both directions we need: the linker's `…@1.1.0` imports satisfy a 1.0.0
//! mod's `…@1.0.0` imports, and the `…@1.1.0` exports looked up here find a 1.0.0 mod's
//! `…@1.0.0` exports. What 1.1.0 added for mods to export (`game-event-batches`) is bound
//! separately, in [`batching`], and is optional: a mod without it gets one call per game event.
//! A breaking 2.0.0 would get a module of its own beside this one.

// `bindgen!` writes its items (`RulesModBase`, its `*Pre` and `*Indices`, the `nexori` and
// `exports` modules, the WIT types) straight into this module, without docs for all of them, and
// a lint attribute on the macro call has no effect. The hand-written items below are documented.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "rules-mod-base",
    with: {
        "nexori:minigame/api.listener-registration": super::registrations::ListenerRegistration,
    },
    // Every host function may trap, so a guest that abuses the API (oversized strings, ...) is
    // stopped instead of answered.
    imports: { default: trappable },
});

pub use nexori::minigame::{api, host, types};

/// The optional 1.1.0 export: a turn's game events in one call.
pub mod batching {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "game-event-batching",
    });

    pub use exports::nexori::minigame::game_event_batches::{
        BatchedGameEvent, GameEventBatch, TextSpan,
    };
}

use wasmtime::component::InstancePre;

use super::state::InstanceState;

/// A mod's component, linked and with its exports looked up once, at load.
#[derive(Clone)]
pub struct RulesModPre {
    instance_pre: InstancePre<InstanceState>,
    base: RulesModBaseIndices,
    batching: Option<batching::GameEventBatchingIndices>,
}

impl RulesModPre {
    /// Looks up the exports of `instance_pre` (and `game-event-batches` when it has it).
    ///
    /// # Errors
    ///
    /// Fails when the component lacks an export of `rules-mod-base` or one has the wrong type.
    pub fn new(instance_pre: InstancePre<InstanceState>) -> wasmtime::Result<Self> {
        let base = RulesModBaseIndices::new(&instance_pre)?;
        // Absent in 1.0.0 mods; present but ill-typed cannot happen for a component that
        // imports 1.x names, and would only cost the mod its batches.
        let batching = batching::GameEventBatchingIndices::new(&instance_pre).ok();
        Ok(Self {
            instance_pre,
            base,
            batching,
        })
    }

    /// Whether the mod takes a turn's game events in one call (it exports
    /// `game-event-batches`, new in 1.1.0).
    pub fn batches_game_events(&self) -> bool {
        self.batching.is_some()
    }

    /// Instantiates the component in `store` (without calling `init`) and looks its exports up.
    ///
    /// # Errors
    ///
    /// wasmtime's error when instantiation traps, runs out of the store's limits, or the pool has
    /// no free instance slot ([`EngineSettings::max_instances`] live instances).
    ///
    /// [`EngineSettings::max_instances`]: super::engine::EngineSettings::max_instances
    pub fn instantiate(
        &self,
        mut store: impl wasmtime::AsContextMut<Data = InstanceState>,
    ) -> wasmtime::Result<RulesMod> {
        let mut store = store.as_context_mut();
        let instance = self.instance_pre.instantiate(&mut store)?;
        let base = self.base.load(&mut store, &instance)?;
        let batching = match &self.batching {
            Some(indices) => Some(indices.load(&mut store, &instance)?),
            None => None,
        };
        Ok(RulesMod { base, batching })
    }
}

/// A live instance's exports.
pub struct RulesMod {
    base: RulesModBase,
    /// `None` for mods built against 1.0.0.
    pub batching: Option<batching::GameEventBatching>,
}

impl std::ops::Deref for RulesMod {
    type Target = RulesModBase;

    fn deref(&self) -> &RulesModBase {
        &self.base
    }
}
