//! What the component host needs to know: the mods' configuration and limits, the mod file cap,
//! the instance pool's choices and when to pause behind a failing outbox. The `nexori` CLI fills
//! it from its configuration file (docs/limits.md lists every key).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Commands held behind a failing outbox commit before the host pauses, unless
/// [`HostSettings::outbox_max_held_commands`] says otherwise.
pub const DEFAULT_MAX_HELD_COMMANDS: usize = 65_536;

/// The largest mod file unless [`HostSettings::max_mod_file_bytes`] says otherwise.
pub const DEFAULT_MAX_MOD_FILE_BYTES: u64 = 64 << 20;

/// Resource limits applied to every instance of a mod.
///
/// Deserialises from the `limits` table of the configuration file (camelCase keys, each
/// optional), so the CLI does not keep a copy of every field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ModLimits {
    /// Linear memory one instance may grow to.
    pub memory_bytes: u64,
    /// Wall-clock budget of one callback, host calls included.
    pub callback_deadline_ms: u64,
    /// Timers one match's instance may have pending.
    pub max_pending_timers: usize,
    /// Largest `data` of one game command, in bytes.
    pub max_game_command_bytes: usize,
    /// Largest log line, in bytes; longer lines are cut.
    pub max_log_line_bytes: usize,
    /// Largest string argument of an API call (ids, reasons, names); more traps the mod.
    pub max_string_bytes: usize,
    /// Largest customData text handed to `submitFinalMatchResult`; more traps the mod.
    pub max_custom_data_bytes: usize,
    /// Game commands one callback may send; more are refused with an error.
    pub max_game_commands_per_call: u32,
    /// Log lines one callback may write; more are dropped after one warning.
    pub max_log_lines_per_call: u32,
    /// Listener registrations one instance may make (open or closed, the load-time probe
    /// included); more are refused with an error, and a mod whose `init` tries is not loaded.
    /// Default 64.
    pub max_listener_registrations: usize,
}

impl Default for ModLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 64 << 20,
            callback_deadline_ms: 250,
            max_pending_timers: 1024,
            max_game_command_bytes: 64 << 10,
            max_log_line_bytes: 4096,
            max_string_bytes: 64 << 10,
            max_custom_data_bytes: 1 << 20,
            max_game_commands_per_call: 1000,
            max_log_lines_per_call: 1000,
            max_listener_registrations: 64,
        }
    }
}

/// The component host's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct HostSettings {
    /// Per-mod configuration, keyed by mod name, handed to the mod's `init` as JSON text.
    pub mods: BTreeMap<String, Value>,
    /// Limits for every mod without its own entry in `mod_limits`.
    pub limits: ModLimits,
    /// Limits of particular mods, by name.
    pub mod_limits: BTreeMap<String, ModLimits>,
    /// The largest mod file the host reads; a bigger `.wasm` is rejected before it is read.
    pub max_mod_file_bytes: u64,
    /// Whether a finished match's instance slot keeps the pages it dirtied resident for the next
    /// match (see [`crate::wasm::engine::warm_slots`]).
    pub warm_instance_slots: bool,
    /// Commands held behind a failing outbox commit at which the host pauses.
    pub outbox_max_held_commands: usize,
    /// Whether admission snapshots are published (the runtime then tracks what they need).
    pub admission_reporting_usable: bool,
}

impl Default for HostSettings {
    fn default() -> Self {
        Self {
            mods: BTreeMap::new(),
            limits: ModLimits::default(),
            mod_limits: BTreeMap::new(),
            max_mod_file_bytes: DEFAULT_MAX_MOD_FILE_BYTES,
            warm_instance_slots: true,
            outbox_max_held_commands: DEFAULT_MAX_HELD_COMMANDS,
            admission_reporting_usable: false,
        }
    }
}

impl HostSettings {
    /// The JSON text handed to a mod's `init`.
    pub fn mod_config_json(&self, mod_name: &str) -> String {
        self.mods
            .get(mod_name)
            .map_or_else(|| "{}".to_string(), Value::to_string)
    }

    /// The limits of the mod named `mod_name`.
    pub fn limits_for(&self, mod_name: &str) -> &ModLimits {
        self.mod_limits.get(mod_name).unwrap_or(&self.limits)
    }
}
