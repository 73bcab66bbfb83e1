//! The injected clock. Nothing in the runtime, the timers or the reporting reads the system
//! clock directly, so a whole match can run on virtual time in tests and simulations.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// A source of Unix epoch milliseconds.
pub trait Clock: Send + Sync {
    /// The current time, in Unix epoch milliseconds.
    fn now_epoch_ms(&self) -> i64;
}

/// The wall clock, for `nexori serve` and `nexori stdio`. Reads 0 if the system time is before
/// the epoch.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_epoch_ms(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0)
    }
}

/// A clock that only moves when told to. Shared by handle: clones see the same time.
#[derive(Debug, Clone)]
pub struct VirtualClock(Arc<AtomicI64>);

impl VirtualClock {
    /// A clock standing at `start_epoch_ms` (Unix epoch ms).
    pub fn new(start_epoch_ms: i64) -> Self {
        Self(Arc::new(AtomicI64::new(start_epoch_ms)))
    }

    /// Moves the clock to `epoch_ms`; time never runs backwards.
    pub fn set(&self, epoch_ms: i64) {
        self.0.fetch_max(epoch_ms, Ordering::SeqCst);
    }

    /// Moves the clock forward by `ms` milliseconds; a negative amount is ignored.
    pub fn advance(&self, ms: i64) {
        self.0.fetch_add(ms.max(0), Ordering::SeqCst);
    }
}

impl Clock for VirtualClock {
    fn now_epoch_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A shared clock handle: the one clock the host, its timers and reporting all read.
pub type SharedClock = Arc<dyn Clock>;
