//! Nexori arena runtime as a WebAssembly component host for rules mods.
//!
//! Layers, inside out:
//! - [`runtime`]: the match runtime, a pure state machine on an injected clock (no wasm, no IO);
//! - [`wasm`]: the wasmtime component host: loading mods, one sandboxed instance per match,
//!   routing callbacks by `rulesEngineId`, and the Nexori API as host functions;
//! - [`host`]: the orchestrator that ties the runtime, the mods, timers and reporting together;
//! - front ends: [`bridge`] messages, [`scenario`] files and the simulation [`trace`].

pub mod arena_host;
pub mod bridge;
mod bridge_auth;
pub mod check;
pub mod config;
pub mod demo;
pub mod live;
pub mod scenario;
pub mod serve;
pub mod shared;
pub mod stdio;
pub mod wasm;
