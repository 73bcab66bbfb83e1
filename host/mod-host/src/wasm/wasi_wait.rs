//! WASI waits, refused.
//!
//! Every match runs on the host's one thread, and the epoch deadline only interrupts guest
//! code: a mod that waits inside a host call (`std::thread::sleep`, a
//! `monotonic-clock.subscribe-duration` or `subscribe-instant` followed by `poll` or
//! `pollable.block`) would hold that thread for as long as it asks, however far in the future
//! (wasmtime-wasi waits forever for a deadline it cannot represent). So `wasi:io/poll`'s two
//! waiting functions are shadowed here by versions that never wait: they answer with what is
//! ready now and trap when nothing is, and the match faults like one that loops. A zero-length
//! sleep, `poll` with a zero timeout (wasi-libc adds a zero-duration pollable) and a ready
//! pollable (stdout) keep working.

use std::future::Future;
use std::pin::pin;

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::p2::DynPollable;
use wasmtime_wasi::p2::bindings::io::poll as async_poll;
use wasmtime_wasi::runtime::{poll_noop, with_ambient_tokio_runtime};

/// The `wasi:io/poll` interface as wasmtime-wasi defines it in the linker; older minor versions
/// a mod imports resolve to it.
pub const POLL_INTERFACE: &str = "wasi:io/poll@0.2.12";

/// Why the call traps; the fault reason starts with it.
pub const WAIT_REFUSED: &str = "the mod tried to block in a WASI wait (wasi:io/poll); rules mods must not sleep or wait, use set_timer";

/// Replaces `poll` and `[method]pollable.block` of [`POLL_INTERFACE`] in `linker` (already
/// holding wasmtime-wasi's) with versions that never wait.
///
/// # Errors
///
/// wasmtime's error when `linker` refuses the definitions (e.g. [`POLL_INTERFACE`] is defined in
/// it as something other than an instance).
pub fn refuse_waits<T: WasiView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut poll = linker.instance(POLL_INTERFACE)?;
    poll.func_wrap(
        "poll",
        |mut store, (pollables,): (Vec<Resource<DynPollable>>,)| {
            let table = store.data_mut().ctx().table;
            ready_now(async_poll::Host::poll(table, pollables))?.map(|ready| (ready,))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.block",
        |mut store, (pollable,): (Resource<DynPollable>,)| {
            let table = store.data_mut().ctx().table;
            ready_now(async_poll::HostPollable::block(table, pollable))?
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// The output of `future` if it is ready without waiting, else the refusal.
fn ready_now<F: Future>(future: F) -> wasmtime::Result<F::Output> {
    // The pollables of clocks are tokio timers: they need the runtime wasmtime-wasi uses.
    with_ambient_tokio_runtime(|| {
        let mut future = pin!(future);
        // Twice: a deadline already past yields to tokio once before it is ready.
        for _ in 0..2 {
            if let Some(output) = poll_noop(future.as_mut()) {
                return Ok(output);
            }
        }
        Err(wasmtime::format_err!(WAIT_REFUSED))
    })
}
