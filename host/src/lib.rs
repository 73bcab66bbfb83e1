//! The `nexori` command line: `serve` (the bridge for a game server), `stdio` (the host as a
//! child process), `simulate` (scenario files), `replay` and `match export` (recorded matches),
//! `check`, `demo`, `backend` and `config`.
//!
//! This crate owns the configuration file ([`config`]) and maps it onto each layer's settings
//! (`nexori_host::settings::HostSettings`, `nexori_reporting::ReportingSettings`); no crate
//! below it knows the file. It wires the layers together: [`live`] runs the component host on
//! real time with durable reporting, [`serve`] and [`stdio`] feed it, [`scenario`] plays scenario
//! files (docs/bridge-protocol.md#scenario-files) on virtual time, [`replay`] re-runs a match
//! from its log (docs/replay.md).

mod bridge_auth;
pub mod check;
pub mod config;
pub mod demo;
pub mod live;
pub mod new_project;
pub mod replay;
pub mod scenario;
pub mod serve;
pub mod stdio;
