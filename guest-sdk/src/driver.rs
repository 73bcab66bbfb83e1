//! The per-instance mod state machine shared by the component exports and native drivers.

use crate::types::*;
use crate::{ModConfig, RulesMod, TimerId};

enum State<M> {
    Uninitialized,
    Ready(M),
    Failed(String),
}

/// Owns one mod instance and calls it the way the host calls a component: `init` first, exactly
/// once, then callbacks with SDK types.
///
/// In the component, [`export_rules_mod!`](crate::export_rules_mod) keeps one `ModDriver` per
/// wasm instance and every export goes through it. Natively, tests and benchmarks use it
/// directly to run the same mod logic without wasm (install a [`NativeHost`](crate::native::NativeHost)
/// first so the mod's imports have somewhere to go).
///
/// A callback before a successful `init` is a host bug: it panics (a trap in the component) with
/// a message naming the callback, instead of touching a mod that does not exist.
///
/// ```
/// use nexori_sdk::native::{ModDriver, RecordingHost};
/// use nexori_sdk::{ModConfig, RulesMod, MatchLifecycleEvent};
///
/// struct Counter { created: u32 }
///
/// impl RulesMod for Counter {
///     fn init(_config: ModConfig) -> Result<Self, String> {
///         nexori_sdk::register_match_lifecycle_listener("counter")?;
///         Ok(Counter { created: 0 })
///     }
///     fn on_match_created(&mut self, _event: MatchLifecycleEvent) {
///         self.created += 1;
///     }
/// }
///
/// let host = RecordingHost::new();
/// host.install();
/// let mut driver = ModDriver::<Counter>::new();
/// driver.init("{}").unwrap();
/// driver.on_match_created(MatchLifecycleEvent { match_id: "m1".into(), ..Default::default() });
/// assert_eq!(driver.get().unwrap().created, 1);
/// ```
pub struct ModDriver<M> {
    state: State<M>,
}

impl<M> Default for ModDriver<M> {
    fn default() -> Self {
        Self::new()
    }
}

impl<M> ModDriver<M> {
    /// A driver whose mod is not initialised yet.
    pub const fn new() -> Self {
        ModDriver {
            state: State::Uninitialized,
        }
    }

    /// The mod, once `init` succeeded.
    pub fn get(&self) -> Option<&M> {
        match &self.state {
            State::Ready(m) => Some(m),
            _ => None,
        }
    }

    /// The mod, mutably, once `init` succeeded.
    pub fn get_mut(&mut self) -> Option<&mut M> {
        match &mut self.state {
            State::Ready(m) => Some(m),
            _ => None,
        }
    }

    /// `true` once `init` succeeded.
    pub fn is_ready(&self) -> bool {
        matches!(self.state, State::Ready(_))
    }

    /// The error `init` returned, if it failed.
    pub fn init_error(&self) -> Option<&str> {
        match &self.state {
            State::Failed(message) => Some(message),
            _ => None,
        }
    }

    fn ready(&mut self, callback: &str) -> &mut M {
        match &mut self.state {
            State::Ready(m) => m,
            State::Uninitialized => {
                panic!(
                    "nexori-sdk: `{callback}` was called before `init`; the host must call `init` first"
                )
            }
            State::Failed(message) => {
                panic!("nexori-sdk: `{callback}` was called after `init` failed ({message})")
            }
        }
    }
}

impl<M: RulesMod> ModDriver<M> {
    /// `mod-init.init`: builds the mod from the operator's JSON configuration.
    ///
    /// Errors with `M::init`'s message, or when called a second time (the host calls it once
    /// per instance; a second call would silently replace live state).
    pub fn init(&mut self, config: impl Into<String>) -> Result<(), String> {
        if !matches!(self.state, State::Uninitialized) {
            return Err("nexori-sdk: `init` was already called for this instance".to_string());
        }
        match M::init(ModConfig::new(config)) {
            Ok(m) => {
                self.state = State::Ready(m);
                Ok(())
            }
            Err(message) => {
                self.state = State::Failed(message.clone());
                Err(message)
            }
        }
    }

    /// Calls [`RulesMod::on_match_created`].
    pub fn on_match_created(&mut self, event: MatchLifecycleEvent) {
        self.ready("on_match_created").on_match_created(event)
    }

    /// Calls [`RulesMod::on_player_arrived`].
    pub fn on_player_arrived(&mut self, event: PlayerMatchLifecycleEvent) {
        self.ready("on_player_arrived").on_player_arrived(event)
    }

    /// Calls [`RulesMod::on_player_placement_confirmed`].
    pub fn on_player_placement_confirmed(&mut self, event: PlayerPlacementLifecycleEvent) {
        self.ready("on_player_placement_confirmed")
            .on_player_placement_confirmed(event)
    }

    /// Calls [`RulesMod::on_match_placement_completed`].
    pub fn on_match_placement_completed(&mut self, event: MatchLifecycleEvent) {
        self.ready("on_match_placement_completed")
            .on_match_placement_completed(event)
    }

    /// Calls [`RulesMod::on_match_start_allowed`].
    pub fn on_match_start_allowed(&mut self, event: MatchLifecycleEvent) {
        self.ready("on_match_start_allowed")
            .on_match_start_allowed(event)
    }

    /// Calls [`RulesMod::on_match_cancellation_requested`].
    pub fn on_match_cancellation_requested(&mut self, event: MatchLifecycleEvent) {
        self.ready("on_match_cancellation_requested")
            .on_match_cancellation_requested(event)
    }

    /// Calls [`RulesMod::on_match_completed`].
    pub fn on_match_completed(&mut self, event: MatchLifecycleEvent) {
        self.ready("on_match_completed").on_match_completed(event)
    }

    /// Calls [`RulesMod::on_match_runtime_closed`].
    pub fn on_match_runtime_closed(&mut self, event: MatchLifecycleEvent) {
        self.ready("on_match_runtime_closed")
            .on_match_runtime_closed(event)
    }

    /// Calls [`RulesMod::on_player_afk_changed`].
    pub fn on_player_afk_changed(&mut self, event: PlayerAfkChangedEvent) {
        self.ready("on_player_afk_changed")
            .on_player_afk_changed(event)
    }

    /// Calls [`RulesMod::on_game_event`].
    pub fn on_game_event(&mut self, event: GameEvent) {
        self.ready("on_game_event").on_game_event(event)
    }

    /// Calls [`RulesMod::on_player_disconnected`].
    pub fn on_player_disconnected(&mut self, event: PlayerDisconnectedEvent) {
        self.ready("on_player_disconnected")
            .on_player_disconnected(event)
    }

    /// Calls [`RulesMod::on_timer`].
    pub fn on_timer(&mut self, id: TimerId) {
        self.ready("on_timer").on_timer(id)
    }
}
