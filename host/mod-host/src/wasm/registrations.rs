//! Listener registrations (`registerMatchLifecycleListener`, `registerAfkActivityListener`).

/// Which listener a registration routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListenerKind {
    Lifecycle,
    Afk,
}

/// The host side of a `listener-registration` handle: an index into the instance's
/// registration list, so `close` stays valid (and idempotent) whatever the guest does with
/// the handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerRegistration {
    pub index: usize,
}

/// One registration made by an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    pub kind: ListenerKind,
    pub rules_engine_id: String,
    pub closed: bool,
}
