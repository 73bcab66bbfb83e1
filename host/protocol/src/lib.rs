//! The wire formats Nexori speaks, shared by the host, the reference backend and clients.
//!
//! Owns the bodies of the two backend endpoints (`POST /nexori/results`: [`results`];
//! `POST /nexori/matches/state`: [`admission`], with its `payloadHash`: [`payload_hash`]), the
//! commands the host sends a game server ([`commands`]) and the simulation [`trace`]. See `docs/bridge-protocol.md` and
//! `docs/arena-behaviour.md`.
//!
//! The messages a game server sends are parsed by `nexori_host::bridge`, straight into the
//! runtime's input types: keeping them there is what lets this crate, and the reference backend
//! on top of it, build without the runtime.
//!
//! Must not depend on any other Nexori crate, nor on wasmtime, tokio, HTTP or SQLite: everything
//! that speaks to the outside links it, so it stays small and quick to build.

#![warn(missing_docs)]

pub mod admission;
pub mod commands;
pub mod json;
pub mod payload_hash;
pub mod results;
pub mod trace;
