//! Group commit for the backend's store: no answer leaves before the transaction it reports on is
//! durable, and the transactions of concurrent requests share one fsync.
//!
//! Requests commit with `synchronous=NORMAL` (in WAL mode: written to the log, not yet fsync'd)
//! and take a ticket. Before answering, each waits until its ticket is durable. The first waiter
//! to find no sync under way becomes the leader: it runs one `synchronous=FULL` commit, whose
//! fsync of the log covers every transaction written before it, and marks all the tickets issued
//! up to then as durable; the others wait for it. Under load one fsync answers many requests; an
//! idle backend pays one fsync per request, as before.

use std::sync::{Condvar, Mutex, MutexGuard};

#[derive(Default)]
struct State {
    /// Tickets issued: transactions committed to the log.
    committed: u64,
    /// Every ticket up to this one is durable.
    durable: u64,
    syncing: bool,
}

/// The tickets and the leader election of group commit.
#[derive(Default)]
pub(crate) struct Durability {
    state: Mutex<State>,
    synced: Condvar,
}

impl Durability {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A ticket for a transaction that has just committed to the log. Call it while still holding
    /// the store, so that a sync that starts later covers the transaction.
    pub(crate) fn committed(&self) -> u64 {
        let mut state = self.state();
        state.committed += 1;
        state.committed
    }

    /// Returns once `ticket` is durable, running `sync` (an fsync'd commit) if no one else is.
    /// A failed sync is returned to the leader that ran it; the others try again.
    pub(crate) fn wait<E>(&self, ticket: u64, sync: impl Fn() -> Result<(), E>) -> Result<(), E> {
        let mut state = self.state();
        loop {
            if state.durable >= ticket {
                return Ok(());
            }
            if state.syncing {
                state = self.synced.wait(state).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            state.syncing = true;
            let target = state.committed;
            drop(state);
            let outcome = sync();
            state = self.state();
            state.syncing = false;
            if outcome.is_ok() {
                state.durable = state.durable.max(target);
            }
            self.synced.notify_all();
            outcome?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn one_sync_covers_every_ticket_issued_before_it() {
        let durability = Durability::default();
        let syncs = AtomicU32::new(0);
        let sync = || {
            syncs.fetch_add(1, Ordering::SeqCst);
            Ok::<(), ()>(())
        };
        let tickets: Vec<u64> = (0..5).map(|_| durability.committed()).collect();
        for ticket in tickets {
            durability.wait(ticket, sync).unwrap();
        }
        assert_eq!(syncs.load(Ordering::SeqCst), 1);
        let later = durability.committed();
        durability.wait(later, sync).unwrap();
        assert_eq!(syncs.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_failed_sync_is_not_durable_and_is_tried_again() {
        let durability = Durability::default();
        let ticket = durability.committed();
        assert_eq!(
            durability.wait(ticket, || Err("disk full")),
            Err("disk full")
        );
        durability.wait(ticket, || Ok::<(), &str>(())).unwrap();
    }

    #[test]
    fn concurrent_waiters_all_return_durable() {
        let durability = Arc::new(Durability::default());
        let syncs = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (durability, syncs) = (durability.clone(), syncs.clone());
                std::thread::spawn(move || {
                    for _ in 0..100 {
                        let ticket = durability.committed();
                        durability
                            .wait(ticket, || {
                                syncs.fetch_add(1, Ordering::SeqCst);
                                std::thread::sleep(std::time::Duration::from_micros(200));
                                Ok::<(), ()>(())
                            })
                            .unwrap();
                        assert!(durability.state().durable >= ticket);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(syncs.load(Ordering::SeqCst) <= 800);
    }
}
