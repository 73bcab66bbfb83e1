//! Write Nexori rules mods in plain Rust.
//!
//! A rules mod is a WebAssembly component (world `nexori:minigame/rules-mod`) that the Nexori
//! host loads to run the rules of a game mode: it learns about matches through lifecycle
//! callbacks and game events, and decides outcomes through the narrow `NexoriMinigameApi`. This
//! crate hides the generated bindings behind:
//!
//! - [`RulesMod`]: one trait with `init` and a default no-op method per callback;
//! - typed functions for every import: the Nexori API ([`set_player_outcome`],
//!   [`submit_final_match_result`], ...; nullable forms in [`raw`]) and host services
//!   ([`now_epoch_ms`], [`set_timer`], [`send_game_command`], [`info!`], ...);
//! - SDK-owned [types] that derive `serde::Serialize` in Nexori's JSON spelling, and the
//!   [`limits`] the host checks what a mod sends against;
//! - [`export_rules_mod!`], the one line that turns the type into the component's exports;
//! - [`native`] (every target but wasm): the same API answered by a host you install, plus a
//!   driver for the exports, so mods are unit-tested with `cargo test` and benchmarked natively.
//!
//! # A minimal mod
//!
//! ```
//! use nexori_sdk::{GameEvent, MatchLifecycleEvent, ModConfig, Outcome, RulesMod};
//!
//! /// Operator configuration; every field has a default, so `{}` is valid.
//! #[derive(serde::Deserialize)]
//! #[serde(default, rename_all = "camelCase")]
//! struct Config {
//!     rules_engine_id: String,
//! }
//!
//! impl Default for Config {
//!     fn default() -> Self {
//!         Config { rules_engine_id: "first_to_score".into() }
//!     }
//! }
//!
//! struct FirstToScore {
//!     started: bool,
//! }
//!
//! impl RulesMod for FirstToScore {
//!     fn init(config: ModConfig) -> Result<Self, String> {
//!         let config: Config = config.parse()?;
//!         nexori_sdk::register_match_lifecycle_listener(&config.rules_engine_id)?;
//!         Ok(FirstToScore { started: false })
//!     }
//!
//!     fn on_match_start_allowed(&mut self, event: MatchLifecycleEvent) {
//!         nexori_sdk::info!("match {} started", event.match_id);
//!         self.started = true;
//!     }
//!
//!     fn on_game_event(&mut self, event: GameEvent) {
//!         let (true, "player.scored", Some(scorer)) = (self.started, event.kind.as_str(), &event.player) else {
//!             return;
//!         };
//!         let Some(required) = nexori_sdk::find_match_result_requirements(&event.match_id) else {
//!             return;
//!         };
//!         for uuid in &required.required_player_uuids {
//!             let outcome = if uuid == scorer { Outcome::Win } else { Outcome::Loss };
//!             nexori_sdk::set_player_outcome(&event.match_id, uuid, outcome, "first_score");
//!         }
//!         let custom_data = serde_json::json!({ "mode": "first_to_score", "scorer": scorer });
//!         match nexori_sdk::submit_final_match_result(&event.match_id, "scored", &custom_data) {
//!             Ok(result) if result.is_completed() => {
//!                 for uuid in &required.required_player_uuids {
//!                     nexori_sdk::return_player_to_lobby(&event.match_id, uuid, 5, "match_completed");
//!                 }
//!             }
//!             Ok(result) => nexori_sdk::warn!("result rejected: {}", result.message),
//!             Err(err) => nexori_sdk::error!("{err}"),
//!         }
//!         self.started = false;
//!     }
//! }
//!
//! nexori_sdk::export_rules_mod!(FirstToScore);
//! ```
//!
//! Build it as a component with `cargo build --target wasm32-wasip2` (or `cargo component
//! build`); the crate needs `crate-type = ["cdylib", "rlib"]` (`rlib` for native tests). The
//! example also uses `serde` (with `derive`) and `serde_json` as the mod's own dependencies.
//!
//! # Design
//!
//! One trait with default methods rather than a trait per WIT interface: a component has exactly
//! one export of each interface, so whatever the mod registers (several rules engine ids, AFK or
//! not) arrives at one receiver anyway. A single `impl RulesMod` with only the callbacks the mod
//! uses is the shortest correct mod; listener *registration* stays explicit (the functions
//! above, returning a [`ListenerRegistration`]) because it is what routes matches to the mod.
//!
//! Callbacks take `&mut self`: each wasm instance serves one match and the host never calls an
//! instance re-entrantly, so the mod owns its state without `RefCell`s of its own.
//! [`export_rules_mod!`] keeps the instance in a `thread_local!` slot, creates it in `init` and
//! traps with a clear message if the host calls a callback before a successful `init`.
//!
//! Game logic should take the host time from [`now_epoch_ms`] (virtual in simulations), never
//! from the system clock.
#![warn(missing_docs)]
// `native` does not exist on wasm, but the docs describe it on every target.
#![cfg_attr(target_arch = "wasm32", allow(rustdoc::broken_intra_doc_links))]

mod api;
mod driver;
mod host;
mod host_calls;
mod memcmp;
mod small_alloc;

// Not with wasm threads (`atomics`): the free lists assume one thread.
#[cfg(all(
    target_arch = "wasm32",
    not(target_feature = "atomics"),
    feature = "small-object-allocator"
))]
#[global_allocator]
static ALLOCATOR: small_alloc::SmallObjectAllocator = small_alloc::SmallObjectAllocator::new();
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
pub mod raw;
pub mod types;
#[cfg(target_arch = "wasm32")]
mod wasm;

use core::fmt;

pub use api::*;
pub use host::{
    TimerId, cancel_timer, current_match_id, log, now_epoch_ms, send_game_command, set_timer,
    set_timer_ms,
};
pub use types::*;

/// The limits the host enforces on what a mod sends (reason lengths, `customData` size and
/// shape), shared with the host through the `nexori-vocabulary` crate.
#[doc(inline)]
pub use nexori_vocabulary::limits;

/// A rules mod: built once per instance by [`init`](Self::init), then called back for the matches
/// whose rules engine ids it registered.
///
/// Every callback has a no-op default; implement the ones the mod needs. The lifecycle callbacks
/// and their advice follow `NexoriMatchLifecycleListener`; they arrive only for ids registered
/// with [`register_match_lifecycle_listener`], and `on_player_afk_changed` only for ids
/// registered with [`register_afk_activity_listener`]. Game events, disconnects and timers
/// arrive for the match the instance serves.
///
/// See the [crate example](crate#a-minimal-mod).
pub trait RulesMod: Sized + 'static {
    /// Builds the mod from the operator's configuration (JSON text; `{}` when none was given) and
    /// registers its listeners. The host calls it once per instance, before anything else, and
    /// also in a load-time instance that only learns the registrations
    /// ([`current_match_id`] is `None` there).
    ///
    /// An error rejects the mod (at load) or faults the match; SDK errors convert with `?`.
    fn init(config: ModConfig) -> Result<Self, String>;

    /// Nexori created the local match runtime. Create the mode's session; do not start gameplay.
    fn on_match_created(&mut self, event: MatchLifecycleEvent) {
        let _ = event;
    }

    /// A player was associated with the match after arriving on the arena server. Add them to
    /// the session; do not start gameplay.
    fn on_player_arrived(&mut self, event: PlayerMatchLifecycleEvent) {
        let _ = event;
    }

    /// One player's initial placement reached a terminal outcome (per player: do not start the
    /// match from here).
    fn on_player_placement_confirmed(&mut self, event: PlayerPlacementLifecycleEvent) {
        let _ = event;
    }

    /// Every expected initial player was placed. Useful for readiness; prefer
    /// [`on_match_start_allowed`](Self::on_match_start_allowed) to start.
    fn on_match_placement_completed(&mut self, event: MatchLifecycleEvent) {
        let _ = event;
    }

    /// Nexori opened the start gate: start gameplay here. Also fires for partial-roster starts
    /// after the placement window closed with enough players.
    fn on_match_start_allowed(&mut self, event: MatchLifecycleEvent) {
        let _ = event;
    }

    /// Nexori is cancelling the match before it started (placement shortfall). Abort setup,
    /// cancel timers, clean local state; Nexori handles the no-contest result.
    fn on_match_cancellation_requested(&mut self, event: MatchLifecycleEvent) {
        let _ = event;
    }

    /// Nexori recorded the match as completed (usually after the mod's accepted submit).
    /// Observe or log; do not submit results from here.
    fn on_match_completed(&mut self, event: MatchLifecycleEvent) {
        let _ = event;
    }

    /// Nexori closed the local runtime. Drop the session's memory.
    fn on_match_runtime_closed(&mut self, event: MatchLifecycleEvent) {
        let _ = event;
    }

    /// A player's AFK state changed (needs [`register_afk_activity_listener`]).
    fn on_player_afk_changed(&mut self, event: PlayerAfkChangedEvent) {
        let _ = event;
    }

    /// A `game.event` from the game server (deaths, captures, ...); the host does not interpret
    /// it. See [`GameEvent::data_as`].
    ///
    /// The host hands the SDK a turn's events for a match in one call (`game-event-batches`)
    /// and the SDK calls this once per event, in order. After an event during which the mod
    /// changed its match through the API (anything but the `find_*` lookups), the SDK returns
    /// the rest of the batch to the host, which delivers it once the runtime has acted on the
    /// change: `on_match_completed` after a result, for example, comes before the next event,
    /// as if every event had come alone.
    fn on_game_event(&mut self, event: GameEvent) {
        let _ = event;
    }

    /// A player of the match left the server. The runtime keeps the player required for the
    /// result: recording [`Outcome::Disconnected`] (or not) is the mod's decision.
    fn on_player_disconnected(&mut self, event: PlayerDisconnectedEvent) {
        let _ = event;
    }

    /// A timer set with [`set_timer`] is due.
    fn on_timer(&mut self, id: TimerId) {
        let _ = id;
    }
}

/// The operator's configuration of the mod: JSON text, `{}` when none was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModConfig {
    json: String,
}

impl Default for ModConfig {
    fn default() -> Self {
        ModConfig::new("{}")
    }
}

impl ModConfig {
    /// Wraps configuration text (tests and native drivers; the host's text arrives through
    /// [`RulesMod::init`]).
    pub fn new(json: impl Into<String>) -> Self {
        ModConfig { json: json.into() }
    }

    /// The text as the host passed it.
    pub fn as_str(&self) -> &str {
        &self.json
    }

    /// Deserializes the configuration into the mod's own type. Blank text counts as `{}`, so a
    /// struct with `#[serde(default)]` gets its defaults when the operator configured nothing.
    ///
    /// ```
    /// #[derive(serde::Deserialize, Debug, PartialEq)]
    /// #[serde(default, rename_all = "camelCase")]
    /// struct Config { return_delay_seconds: i32, close_admission_at_start: bool }
    ///
    /// impl Default for Config {
    ///     fn default() -> Self { Config { return_delay_seconds: 5, close_admission_at_start: true } }
    /// }
    ///
    /// let config: Config = nexori_sdk::ModConfig::new(r#"{"returnDelaySeconds": 10}"#).parse()?;
    /// assert_eq!(config, Config { return_delay_seconds: 10, close_admission_at_start: true });
    /// # Ok::<(), nexori_sdk::Error>(())
    /// ```
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, Error> {
        let text = if self.json.trim().is_empty() {
            "{}"
        } else {
            &self.json
        };
        serde_json::from_str(text)
            .map_err(|err| Error::new(format!("invalid mod configuration: {err}")))
    }
}

/// An error from the host (registration, timers, game commands) or from the SDK (serialisation,
/// configuration). Converts into `String` so `?` works in [`RulesMod::init`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    message: String,
}

impl Error {
    /// An error with this message.
    pub fn new(message: impl Into<String>) -> Self {
        Error {
            message: message.into(),
        }
    }

    /// The message (the host's text for host errors).
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl From<Error> for String {
    fn from(error: Error) -> Self {
        error.message
    }
}

/// Exports a [`RulesMod`] type as the component's implementation of world `rules-mod`.
///
/// Use it once, at the top level of the mod's crate:
///
/// ```
/// # use nexori_sdk::{ModConfig, RulesMod};
/// struct MyMod;
/// impl RulesMod for MyMod {
///     fn init(_config: ModConfig) -> Result<Self, String> {
///         nexori_sdk::register_match_lifecycle_listener("my_mode")?;
///         Ok(MyMod)
///     }
/// }
/// nexori_sdk::export_rules_mod!(MyMod);
/// ```
///
/// On wasm it keeps one instance of the type per wasm instance in a `thread_local!` (created by
/// `init`; a callback before a successful `init` traps with a message naming it) and invokes
/// wit-bindgen's `export!` in the mod's crate, which is where the exported functions and the
/// component-type section must live. On other targets it only checks that the type implements
/// [`RulesMod`]: drive the mod with [`native::ModDriver`] there.
#[macro_export]
macro_rules! export_rules_mod {
    ($mod_type:ty $(,)?) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __NexoriSlot;

            impl $crate::__private::Slot for __NexoriSlot {
                type Mod = $mod_type;

                fn with_driver<R>(f: impl FnOnce(&mut $crate::__private::ModDriver<$mod_type>) -> R) -> R {
                    ::std::thread_local! {
                        static DRIVER: ::core::cell::RefCell<$crate::__private::ModDriver<$mod_type>> =
                            const { ::core::cell::RefCell::new($crate::__private::ModDriver::new()) };
                    }
                    $crate::__private::with_driver(&DRIVER, f)
                }
            }

            type __NexoriExports = $crate::__private::Exports<__NexoriSlot>;
            $crate::__private::wit::export!(__NexoriExports with_types_in $crate::__private::wit);
        };

        #[cfg(not(target_arch = "wasm32"))]
        const _: () = {
            fn __nexori_assert_rules_mod<M: $crate::RulesMod>() {}
            let _ = __nexori_assert_rules_mod::<$mod_type>;
        };
    };
}

/// Implementation details of [`export_rules_mod!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::driver::ModDriver;
    #[cfg(target_arch = "wasm32")]
    pub use crate::wasm::{Exports, Slot, wit};

    /// Borrows the slot's driver for one export call.
    pub fn with_driver<M, R>(
        key: &'static std::thread::LocalKey<core::cell::RefCell<ModDriver<M>>>,
        f: impl FnOnce(&mut ModDriver<M>) -> R,
    ) -> R {
        key.with(|cell| {
            // Component instances are never re-entered, so a failed borrow is a host bug (or a
            // panic unwound through a previous call); say so instead of a bare BorrowMutError.
            let mut driver = cell
                .try_borrow_mut()
                .expect("nexori-sdk: the mod was re-entered while a callback was running");
            f(&mut driver)
        })
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
