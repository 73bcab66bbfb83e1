//! The Nexori component host: runs rules mods (WebAssembly components of the `nexori:minigame`
//! WIT package) against the match runtime.
//!
//! - [`wasm`]: wasmtime plumbing: the engine, loading and compiling mods, one sandboxed instance
//!   per match, the Nexori API as host functions, the WIT versions served;
//! - [`arena_host`]: the orchestrator that feeds bridge messages and time to the runtime and
//!   delivers the runtime's events to the owning mod's instance, with the fault policy;
//! - [`host_state`]: what the orchestrator and every instance share behind one mutex;
//! - [`recording`]: each match's log for replay (`nexori-recording` writes it);
//! - [`bridge`]: the game server's messages, parsed with errors naming the field;
//! - [`settings`]: what the host needs to know, filled by the `nexori` CLI.
//!
//! Depends on `nexori-runtime`, `nexori-protocol` and `nexori-reporting` (through the
//! `ResultReporter` seam). It must not depend on the CLI's configuration file, on HTTP serving
//! or on the reference backend.

// A panic on the host thread stops every match: outside tests, say why a value must be there
// (`expect`) or handle its absence.
#![cfg_attr(not(test), warn(clippy::unwrap_used))]
#![warn(missing_docs)]

pub mod arena_host;
pub mod bridge;
pub mod host_state;
pub mod recording;
pub mod settings;
pub mod wasm;
