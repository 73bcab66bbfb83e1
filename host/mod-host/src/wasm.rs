//! The wasmtime component host: engine set-up, loading, per-match instances and the Nexori
//! API as host functions.

pub mod convert;
pub mod engine;
pub mod game_event_batch;
pub mod guest_output;
pub mod instance;
pub mod loader;
pub mod mod_dir;
pub mod registrations;
pub mod since_v1_1_0;
pub mod state;
pub mod wasi_wait;
