//! Nexori's match logs (docs/replay.md): what a match took in, recorded so that it can be
//! replayed anywhere and checked against the result it produced.
//!
//! - [`format`](mod@format): the log format, `nexori-match-log/1`, its reader and its input hash;
//! - [`sink`]: the [`RecordSink`] a host writes through, and [`MemorySink`];
//! - [`store`]: [`DirSink`], the recordings of `nexori serve` in the data directory, with
//!   retention, and the lookups and exports of `nexori replay` and `nexori match export`;
//! - [`verify`](mod@verify): checking a log against a reported result.
//!
//! Depends on nothing of Nexori: the host and the reference backend both use it. It must not
//! depend on wasmtime, the runtime or the bridge protocol; a record's payload is JSON here.

#![cfg_attr(not(test), warn(clippy::unwrap_used))]
#![warn(missing_docs)]

pub mod format;
pub mod sink;
pub mod store;
pub mod verify;

pub use format::{FORMAT, Header, LineKind, Log, ModIdentity, Record, RecordKind, read_logs};
pub use sink::{LogId, MemorySink, RecordSink, Render, SealError};
pub use store::{DirSink, Retention};
pub use verify::{Verified, VerifyError, verify};
