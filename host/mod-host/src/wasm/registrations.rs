//! Listener registrations (`registerMatchLifecycleListener`, `registerAfkActivityListener`).

/// Which listener a registration routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ListenerKind {
    /// `registerMatchLifecycleListener`: the match and player lifecycle callbacks
    /// (`onMatchCreated`, `onPlayerArrived`, ...).
    Lifecycle,
    /// `registerAfkActivityListener`: `onPlayerAfkChanged`.
    Afk,
}

/// The host side of a `listener-registration` handle: an index into the instance's
/// registration list, so `close` stays valid (and idempotent) whatever the guest does with
/// the handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenerRegistration {
    /// The registration's position in the instance's list, counting from 0 in the order made.
    pub index: usize,
}

/// One registration made by an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Which callbacks it routes.
    pub kind: ListenerKind,
    /// The rules engine id it listens for, trimmed: callbacks reach it only for matches whose
    /// `rulesEngineId` equals it exactly (case-sensitive).
    pub rules_engine_id: String,
    /// Whether the mod closed it; a closed registration routes nothing but still counts towards
    /// `maxListenerRegistrations`.
    pub closed: bool,
}
