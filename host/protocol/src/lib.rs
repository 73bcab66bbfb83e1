//! The wire formats Nexori speaks, shared by the host, the reference backend and clients.
//!
//! Owns the bodies of the two backend endpoints (`POST /nexori/results`: [`results`]; the
//! admission snapshot's `payloadHash`: [`payload_hash`]), the commands the host sends a game server
//! ([`commands`]) and the simulation [`trace`]. See `docs/bridge-protocol.md` and
//! `docs/arena-behaviour.md`.
//!
//! Must not depend on any other Nexori crate, nor on wasmtime, tokio, HTTP or SQLite: everything
//! that speaks to the outside links it, so it stays small and quick to build.

#![warn(missing_docs)]

pub mod commands;
pub mod payload_hash;
pub mod results;
pub mod trace;
