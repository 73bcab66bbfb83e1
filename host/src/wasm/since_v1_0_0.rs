//! Bindings for `nexori:minigame@1.0.0`. One module per WIT version, kept thin: the host's
//! logic lives in plain Rust and this module only converts at the boundary. A future
//! `nexori:minigame@1.1.0` gets its own module beside this one, and mods built against 1.0.0
//! keep loading.

wasmtime::component::bindgen!({
    path: "../wit",
    world: "rules-mod",
    with: {
        "nexori:minigame/api.listener-registration": super::registrations::ListenerRegistration,
    },
    // Every host function may trap, so a guest that abuses the API (oversized strings, ...) is
    // stopped instead of answered.
    imports: { default: trappable },
});

pub use nexori::minigame::{api, host, types};
