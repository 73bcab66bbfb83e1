//! The state every mod instance and the orchestrator share: the runtime, the clock, timers,
//! reporting and the trace. It sits behind one mutex that is never held while a guest runs, so
//! a guest's API call can always take it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::settings::HostSettings;
use nexori_protocol::commands::GameServerCommand;
use nexori_protocol::trace::{Trace, TraceEntry};
use nexori_reporting::{EnqueueOutcome, ResultReporter};
use nexori_runtime::Arena;
use nexori_runtime::clock::SharedClock;
use nexori_runtime::model::MatchCompletionStatus;
use nexori_runtime::results::AcceptedResult;

/// A match asked for more pending timers than its mod's limit allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many pending timers: the limit is {limit} per match")]
pub struct TooManyTimers {
    /// The mod's `limits.maxPendingTimers`.
    pub limit: usize,
}

/// Timers that mods set with `host.set-timer`, per match.
#[derive(Debug, Default)]
pub struct Timers {
    next_id: u64,
    due: BTreeMap<(i64, u64), String>,
    by_id: HashMap<u64, (i64, String)>,
    per_match: HashMap<String, usize>,
}

impl Timers {
    /// Schedules a timer for `match_id` at `at` (epoch ms) and returns its id.
    ///
    /// # Errors
    ///
    /// [`TooManyTimers`] when the match already has `limit` pending (`limits.maxPendingTimers`).
    pub fn set(&mut self, match_id: &str, at: i64, limit: usize) -> Result<u64, TooManyTimers> {
        let count = self.per_match.entry(match_id.to_string()).or_default();
        if *count >= limit {
            return Err(TooManyTimers { limit });
        }
        *count += 1;
        self.next_id += 1;
        let id = self.next_id;
        self.due.insert((at, id), match_id.to_string());
        self.by_id.insert(id, (at, match_id.to_string()));
        Ok(id)
    }

    /// Cancels a timer of `match_id`; another match's timer ids are not this caller's to cancel.
    pub fn cancel(&mut self, match_id: &str, id: u64) -> bool {
        match self.by_id.get(&id) {
            Some((at, owner)) if owner == match_id => {
                let at = *at;
                self.remove(at, id);
                true
            }
            _ => false,
        }
    }

    fn remove(&mut self, at: i64, id: u64) -> Option<String> {
        let match_id = self.due.remove(&(at, id))?;
        self.by_id.remove(&id);
        if let Some(count) = self.per_match.get_mut(&match_id) {
            *count -= 1;
            if *count == 0 {
                self.per_match.remove(&match_id);
            }
        }
        Some(match_id)
    }

    /// When the earliest pending timer is due, epoch ms.
    pub fn next_deadline(&self) -> Option<i64> {
        self.due.keys().next().map(|(at, _)| *at)
    }

    /// The earliest timer due at or before `now`.
    pub fn pop_due(&mut self, now: i64) -> Option<(u64, String)> {
        let &(at, id) = self.due.keys().next()?;
        if at > now {
            return None;
        }
        self.remove(at, id).map(|m| (id, m))
    }

    /// Cancels every timer of `match_id` (its instance faulted or its runtime closed).
    pub fn drop_match(&mut self, match_id: &str) {
        let ids: Vec<(i64, u64)> = self
            .by_id
            .iter()
            .filter(|(_, (_, m))| m == match_id)
            .map(|(id, (at, _))| (*at, *id))
            .collect();
        for (at, id) in ids {
            self.remove(at, id);
        }
    }

    /// Timers `match_id` has pending.
    pub fn pending(&self, match_id: &str) -> usize {
        self.per_match.get(match_id).copied().unwrap_or(0)
    }

    /// Matches with pending timers (for the leak tests and metrics).
    #[doc(hidden)]
    pub fn matches_with_timers(&self) -> usize {
        self.per_match.len()
    }
}

/// The state the orchestrator and every mod instance share.
pub struct HostState {
    /// The match runtime.
    pub arena: Arena,
    /// The host's clock: the only time a mod or the runtime sees.
    pub clock: SharedClock,
    /// What happened (entries in simulations, counters always).
    pub trace: Trace,
    /// Where accepted results go.
    pub reporter: Box<dyn ResultReporter>,
    /// The mods' pending timers.
    pub timers: Timers,
    /// Commands for the game server waiting for the end of the turn (and its outbox commit),
    /// oldest first, with the time they were issued.
    pub commands: VecDeque<(i64, GameServerCommand)>,
    /// The host's settings.
    pub config: Arc<HostSettings>,
}

impl HostState {
    /// The host's clock, epoch ms.
    pub fn now(&self) -> i64 {
        self.clock.now_epoch_ms()
    }

    /// Queues `command` for the game server and records it in the trace.
    pub fn send_command(&mut self, command: GameServerCommand) {
        let at = self.now();
        self.trace.push_command(at, &command);
        self.commands.push_back((at, command));
    }

    /// Sends the commands the last runtime operation issued.
    pub fn flush_commands(&mut self) {
        for command in self.arena.take_commands() {
            self.send_command(command);
        }
    }

    /// Makes the results accepted this turn durable (group commit). `Err` names the cause;
    /// the results stay pending and the next call commits them again.
    pub fn commit_results(&mut self) -> Result<(), nexori_reporting::outbox::StoreError> {
        self.reporter.commit()
    }

    /// Hands an accepted result to reporting and records its body in the trace.
    pub fn report(&mut self, result: &AcceptedResult) -> EnqueueOutcome {
        let at = self.now();
        let outcome = self.reporter.enqueue(result, at);
        self.trace.push(TraceEntry::Result {
            at,
            body: outcome.body.clone(),
            match_status: MatchCompletionStatus::Accepted.as_str().to_string(),
            backend_report_status: outcome.status.as_str().to_string(),
        });
        outcome
    }
}

/// A handle to the shared state.
pub type HostStateHandle = Arc<Mutex<HostState>>;

/// Locks the shared state. A panic while it was held (a host bug) poisons it; the state is
/// still consistent at operation granularity, so keep serving rather than take every match down.
pub fn lock(shared: &HostStateHandle) -> MutexGuard<'_, HostState> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
