//! Commands leave the host only behind a successful outbox commit, so nothing the game server
//! sees can follow from a result that is not durable (see [`ArenaHost::take_commands`]). While the
//! commit fails the gate holds the commands back, retries with a doubling back-off, reports the
//! failure through [`CommitHealth`], and pauses the host once `outboxMaxHeldCommands` commands
//! wait (docs/limits.md).
//!
//! [`ArenaHost::take_commands`]: super::ArenaHost::take_commands

use std::sync::Arc;
use std::time::{Duration, Instant};

use nexori_protocol::commands::GameServerCommand;
use nexori_reporting::CommitHealth;

use crate::host_state::HostState;

/// The first wait before a failed outbox commit is tried again; it doubles up to
/// [`COMMIT_RETRY_MAX`] while the commit keeps failing.
pub(crate) const COMMIT_RETRY_FIRST: Duration = Duration::from_millis(50);
/// The longest wait between two commit attempts.
pub(crate) const COMMIT_RETRY_MAX: Duration = Duration::from_secs(1);

/// When a failing outbox commit is tried next.
struct CommitRetry {
    not_before: Instant,
    backoff: Duration,
}

/// The gate between a turn's commands and the game server.
pub(crate) struct CommitGate {
    retry: Option<CommitRetry>,
    health: Arc<CommitHealth>,
    /// Commands held at which the host pauses (`outboxMaxHeldCommands`).
    max_held: usize,
}

impl CommitGate {
    pub(crate) fn new(max_held: usize) -> Self {
        Self {
            retry: None,
            health: Arc::default(),
            max_held,
        }
    }

    /// Whether committing is failing, shared with `/healthz` and `/metrics`.
    pub(crate) fn health(&self) -> Arc<CommitHealth> {
        self.health.clone()
    }

    /// Commits the results of the turn and hands over its commands, oldest first; hands over
    /// nothing while the commit fails or its retry is not due at `now`.
    pub(crate) fn take(
        &mut self,
        shared: &mut HostState,
        now: Instant,
    ) -> Vec<(i64, GameServerCommand)> {
        let held = shared.commands.len();
        if self.waiting(now) {
            self.health.set_held(held);
            return Vec::new();
        }
        match shared.commit_results() {
            Ok(()) => {
                if self.retry.take().is_some() {
                    tracing::info!(target: "nexori::reporting", held_commands = held, "outbox commit succeeded again; the held commands go out");
                    self.health.recovered();
                }
                shared.commands.drain(..).collect()
            }
            Err(cause) => {
                let backoff = self.failed(now);
                self.health.failed(&cause.to_string(), held);
                let paused = if self.paused(held) {
                    "; the host is paused (outboxMaxHeldCommands reached): it takes no bridge messages and runs no timers until a commit succeeds"
                } else {
                    ""
                };
                tracing::error!(
                    target: "nexori::reporting",
                    results = shared.reporter.uncommitted(),
                    held_commands = held,
                    "outbox commit failing: {cause}; holding the game server's commands back until the results are durable (retry in {} ms){paused}",
                    backoff.as_millis()
                );
                Vec::new()
            }
        }
    }

    /// Whether a failed commit's retry is not due yet.
    fn waiting(&self, now: Instant) -> bool {
        self.retry.as_ref().is_some_and(|r| now < r.not_before)
    }

    /// Schedules the next attempt after a failure at `now` and returns the wait: the first
    /// failure waits [`COMMIT_RETRY_FIRST`], each further one twice the last, at most
    /// [`COMMIT_RETRY_MAX`].
    fn failed(&mut self, now: Instant) -> Duration {
        let backoff = self.retry.as_ref().map_or(COMMIT_RETRY_FIRST, |r| {
            (r.backoff * 2).min(COMMIT_RETRY_MAX)
        });
        self.retry = Some(CommitRetry {
            not_before: now + backoff,
            backoff,
        });
        backoff
    }

    /// Whether the host is paused with `held` commands waiting: the commit is failing and
    /// `outboxMaxHeldCommands` are held.
    pub(crate) fn paused(&self, held: usize) -> bool {
        self.retry.is_some() && held >= self.max_held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_back_off_doubles_from_50_ms_up_to_one_second() {
        let mut gate = CommitGate::new(10);
        let t0 = Instant::now();
        let waits: Vec<u128> = (0..7).map(|_| gate.failed(t0).as_millis()).collect();
        assert_eq!(waits, [50, 100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn a_retry_is_due_once_its_wait_has_passed() {
        let mut gate = CommitGate::new(10);
        let t0 = Instant::now();
        assert!(!gate.waiting(t0), "nothing failed yet");
        gate.failed(t0);
        assert!(gate.waiting(t0 + Duration::from_millis(49)));
        assert!(!gate.waiting(t0 + Duration::from_millis(50)));
    }

    #[test]
    fn the_host_pauses_only_while_failing_with_the_cap_held() {
        let mut gate = CommitGate::new(3);
        assert!(!gate.paused(5), "a healthy commit never pauses");
        gate.failed(Instant::now());
        assert!(!gate.paused(2));
        assert!(gate.paused(3));
    }
}
