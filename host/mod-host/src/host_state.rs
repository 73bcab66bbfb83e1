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

/// Timers that mods set with `host.set-timer`, per match.
#[derive(Debug, Default)]
pub struct Timers {
    next_id: u64,
    due: BTreeMap<(i64, u64), String>,
    by_id: HashMap<u64, (i64, String)>,
    per_match: HashMap<String, usize>,
}

impl Timers {
    /// Schedules a timer for `match_id` at `at`, unless the match already has `limit` pending.
    pub fn set(&mut self, match_id: &str, at: i64, limit: usize) -> Result<u64, String> {
        let count = self.per_match.entry(match_id.to_string()).or_default();
        if *count >= limit {
            return Err(format!(
                "too many pending timers: the limit is {limit} per match"
            ));
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

    pub fn pending(&self, match_id: &str) -> usize {
        self.per_match.get(match_id).copied().unwrap_or(0)
    }

    /// Matches with pending timers (for the leak tests and metrics).
    #[doc(hidden)]
    pub fn matches_with_timers(&self) -> usize {
        self.per_match.len()
    }
}

/// The shared state.
pub struct HostState {
    pub arena: Arena,
    pub clock: SharedClock,
    pub trace: Trace,
    pub reporter: Box<dyn ResultReporter>,
    pub timers: Timers,
    /// Commands for the game server, oldest first, with the time they were issued.
    pub outbox: VecDeque<(i64, GameServerCommand)>,
    pub config: Arc<HostSettings>,
}

impl HostState {
    pub fn now(&self) -> i64 {
        self.clock.now_epoch_ms()
    }

    pub fn send_command(&mut self, command: GameServerCommand) {
        let at = self.now();
        self.trace.push_command(at, &command);
        self.outbox.push_back((at, command));
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
