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
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::{Arc, mpsc};
    use std::time::{Duration, Instant};

    /// Every wait in these tests ends by this deadline; a lost wake-up fails instead of hanging.
    const DEADLINE: Duration = Duration::from_secs(10);

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
        assert_eq!(
            durability.state().durable,
            0,
            "a failed sync makes nothing durable"
        );
        let syncs = AtomicU32::new(0);
        durability
            .wait(ticket, || {
                syncs.fetch_add(1, Ordering::SeqCst);
                Ok::<(), &str>(())
            })
            .unwrap();
        assert_eq!(
            syncs.load(Ordering::SeqCst),
            1,
            "the next wait syncs the ticket again"
        );
        assert_eq!(durability.state().durable, ticket);
    }

    /// A sync whose first run (the leader's) is held open until `release` is called, so that a
    /// test can let other requests commit and wait while it runs. Counts every run.
    struct HeldSync {
        syncs: AtomicU32,
        entered: Mutex<mpsc::Sender<()>>,
        release: Mutex<mpsc::Receiver<()>>,
        /// What the held (first) run returns; the others succeed.
        first_fails: bool,
    }

    impl HeldSync {
        fn new(first_fails: bool) -> (Arc<Self>, mpsc::Receiver<()>, mpsc::Sender<()>) {
            let (entered_tx, entered_rx) = mpsc::channel();
            let (release_tx, release_rx) = mpsc::channel();
            let held = Arc::new(Self {
                syncs: AtomicU32::new(0),
                entered: Mutex::new(entered_tx),
                release: Mutex::new(release_rx),
                first_fails,
            });
            (held, entered_rx, release_tx)
        }

        fn run(&self) -> Result<(), &'static str> {
            if self.syncs.fetch_add(1, Ordering::SeqCst) > 0 {
                return Ok(());
            }
            self.entered.lock().unwrap().send(()).unwrap();
            self.release
                .lock()
                .unwrap()
                .recv_timeout(DEADLINE)
                .expect("the test releases the held sync");
            if self.first_fails {
                Err("disk full")
            } else {
                Ok(())
            }
        }

        fn count(&self) -> u32 {
            self.syncs.load(Ordering::SeqCst)
        }
    }

    /// One request that commits and waits on its own thread; its answer comes back on the channel.
    fn request(
        durability: &Arc<Durability>,
        sync: &Arc<HeldSync>,
        answers: &mpsc::Sender<Result<(), &'static str>>,
    ) {
        let (durability, sync, answers) = (durability.clone(), sync.clone(), answers.clone());
        std::thread::spawn(move || {
            let ticket = durability.committed();
            let answer = durability.wait(ticket, || sync.run());
            assert!(answer.is_err() || durability.state().durable >= ticket);
            answers.send(answer).unwrap();
        });
    }

    fn wait_until_committed(durability: &Durability, tickets: u64) {
        let deadline = Instant::now() + DEADLINE;
        while durability.state().committed < tickets {
            assert!(Instant::now() < deadline, "requests did not commit");
            std::thread::yield_now();
        }
    }

    /// Group commit, deterministically: a leader's sync is held open while seven more requests
    /// commit (and wait). They must not start syncs of their own while it runs, and that sync
    /// covers only the leader's ticket (the others committed after it began); so when it ends,
    /// one of them runs one more sync, which covers all seven. Exactly two syncs for eight
    /// requests, whatever the interleaving.
    #[test]
    fn requests_that_commit_during_a_sync_share_the_next_one() {
        let durability = Arc::new(Durability::default());
        let (sync, entered, release) = HeldSync::new(false);
        let (answers_tx, answers) = mpsc::channel();
        request(&durability, &sync, &answers_tx);
        entered.recv_timeout(DEADLINE).expect("the leader syncs");
        for _ in 0..7 {
            request(&durability, &sync, &answers_tx);
        }
        wait_until_committed(&durability, 8);
        assert_eq!(sync.count(), 1, "no second sync while one runs");
        release.send(()).unwrap();
        for _ in 0..8 {
            assert_eq!(answers.recv_timeout(DEADLINE), Ok(Ok(())));
        }
        assert_eq!(sync.count(), 2, "one sync for the leader, one for the rest");
        assert_eq!(durability.state().durable, 8);
    }

    /// The leader's failed sync is its own answer; a request that waited on it runs a sync of its
    /// own and is answered once that one succeeds.
    #[test]
    fn waiters_on_a_failed_sync_run_their_own() {
        let durability = Arc::new(Durability::default());
        let (sync, entered, release) = HeldSync::new(true);
        let (answers_tx, answers) = mpsc::channel();
        request(&durability, &sync, &answers_tx);
        entered.recv_timeout(DEADLINE).expect("the leader syncs");
        request(&durability, &sync, &answers_tx);
        wait_until_committed(&durability, 2);
        release.send(()).unwrap();
        let mut got = [
            answers.recv_timeout(DEADLINE).expect("an answer"),
            answers.recv_timeout(DEADLINE).expect("an answer"),
        ];
        got.sort(); // Ok before Err
        assert_eq!(
            got,
            [Ok(()), Err("disk full")],
            "the leader gets its failure, the waiter its own sync's success"
        );
        assert_eq!(sync.count(), 2);
        assert_eq!(durability.state().durable, 2);
    }

    /// Under contention the guarantee is about correctness, not counts (a scheduler that runs the
    /// threads one after another makes every wait a sync): each answer is durable and no two
    /// syncs ever run at once. The counts are in the deterministic test above.
    #[test]
    fn concurrent_waiters_all_return_durable() {
        let durability = Arc::new(Durability::default());
        let syncing = Arc::new(AtomicBool::new(false));
        let overlaps = Arc::new(AtomicU32::new(0));
        let (done_tx, done) = mpsc::channel();
        for _ in 0..8 {
            let (durability, syncing, overlaps, done_tx) = (
                durability.clone(),
                syncing.clone(),
                overlaps.clone(),
                done_tx.clone(),
            );
            std::thread::spawn(move || {
                for _ in 0..100 {
                    let ticket = durability.committed();
                    durability
                        .wait(ticket, || {
                            if syncing.swap(true, Ordering::SeqCst) {
                                overlaps.fetch_add(1, Ordering::SeqCst);
                            }
                            std::thread::sleep(Duration::from_micros(200));
                            syncing.store(false, Ordering::SeqCst);
                            Ok::<(), ()>(())
                        })
                        .unwrap();
                    assert!(durability.state().durable >= ticket);
                }
                done_tx.send(()).unwrap();
            });
        }
        for _ in 0..8 {
            // A thread that panicked or never woke up fails here instead of hanging the test.
            done.recv_timeout(DEADLINE).expect("every thread finishes");
        }
        assert_eq!(overlaps.load(Ordering::SeqCst), 0, "syncs ran at once");
        assert_eq!(durability.state().durable, 800);
    }
}
