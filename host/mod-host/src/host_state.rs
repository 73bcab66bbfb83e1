//! The state every mod instance and the orchestrator share: the runtime, the clock, timers,
//! reporting and the trace. It sits behind one mutex that is never held while a guest runs, so
//! a guest's API call can always take it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::recording::Recorder;
use crate::settings::HostSettings;
use nexori_protocol::commands::GameServerCommand;
use nexori_protocol::trace::{Trace, TraceEntry};
use nexori_recording::format::{INPUT_LOG_SHA256_KEY, MOD_SHA256_KEY};
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

/// Timers that mods set with `host.set-timer`, per match. Ids count per match, from 1, and are
/// never reused while the match lives: what a mod sees of its timers follows from its own match
/// alone, so a replayed match gets the same ids (docs/replay.md).
#[derive(Debug, Default)]
pub struct Timers {
    /// Orders timers due at the same instant by when they were set.
    next_seq: u64,
    due: BTreeMap<(i64, u64), (String, u64)>,
    by_id: HashMap<(String, u64), (i64, u64)>,
    per_match: HashMap<String, MatchTimers>,
}

/// A match's pending timers and its last id.
#[derive(Debug, Default)]
struct MatchTimers {
    pending: usize,
    last_id: u64,
}

impl Timers {
    /// Schedules a timer for `match_id` at `at` (epoch ms) and returns its id.
    ///
    /// # Errors
    ///
    /// [`TooManyTimers`] when the match already has `limit` pending (`limits.maxPendingTimers`).
    pub fn set(&mut self, match_id: &str, at: i64, limit: usize) -> Result<u64, TooManyTimers> {
        let timers = self.per_match.entry(match_id.to_string()).or_default();
        if timers.pending >= limit {
            return Err(TooManyTimers { limit });
        }
        timers.pending += 1;
        timers.last_id += 1;
        let id = timers.last_id;
        self.next_seq += 1;
        let seq = self.next_seq;
        self.due.insert((at, seq), (match_id.to_string(), id));
        self.by_id.insert((match_id.to_string(), id), (at, seq));
        Ok(id)
    }

    /// Cancels a timer of `match_id`; another match's timers are not this caller's to cancel.
    pub fn cancel(&mut self, match_id: &str, id: u64) -> bool {
        match self.by_id.remove(&(match_id.to_string(), id)) {
            Some(key) => {
                self.due.remove(&key);
                self.one_less(match_id);
                true
            }
            None => false,
        }
    }

    fn one_less(&mut self, match_id: &str) {
        if let Some(timers) = self.per_match.get_mut(match_id) {
            timers.pending = timers.pending.saturating_sub(1);
        }
    }

    /// When the earliest pending timer is due, epoch ms.
    pub fn next_deadline(&self) -> Option<i64> {
        self.due.keys().next().map(|(at, _)| *at)
    }

    /// The earliest timer due at or before `now`: its id and match.
    pub fn pop_due(&mut self, now: i64) -> Option<(u64, String)> {
        let (&(at, _), _) = self.due.first_key_value()?;
        if at > now {
            return None;
        }
        let (_, (match_id, id)) = self.due.pop_first()?;
        self.by_id.remove(&(match_id.clone(), id));
        self.one_less(&match_id);
        Some((id, match_id))
    }

    /// Cancels every timer of `match_id` and forgets its ids (its instance faulted or its
    /// runtime closed).
    pub fn drop_match(&mut self, match_id: &str) {
        if self.per_match.remove(match_id).is_none() {
            return;
        }
        let keys: Vec<(i64, u64)> = self
            .due
            .iter()
            .filter(|(_, (m, _))| m == match_id)
            .map(|(key, _)| *key)
            .collect();
        for key in keys {
            if let Some((m, id)) = self.due.remove(&key) {
                self.by_id.remove(&(m, id));
            }
        }
    }

    /// Timers `match_id` has pending.
    pub fn pending(&self, match_id: &str) -> usize {
        self.per_match.get(match_id).map_or(0, |t| t.pending)
    }

    /// Matches with pending timers (for the leak tests and metrics).
    #[doc(hidden)]
    pub fn matches_with_timers(&self) -> usize {
        self.per_match.values().filter(|t| t.pending > 0).count()
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
    /// Where each match is recorded for replay, when it is (docs/replay.md).
    pub recorder: Option<Recorder>,
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
        if let Some(recorder) = &mut self.recorder {
            recorder.command(at, &command);
        }
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

    /// Hands an accepted result to reporting and records its body in the trace. A recorded
    /// match's result carries the mod's SHA-256 and the hash of the match's inputs so far in its
    /// `metadata` (docs/replay.md#verifiable-results), and its log is durable before it goes.
    pub fn report(&mut self, result: &AcceptedResult) -> EnqueueOutcome {
        let at = self.now();
        let key = result.local_match_id.clone();
        let stamp = self.recorder.as_mut().and_then(|r| r.seal(&key));
        let stamped;
        let result = match stamp {
            Some((mod_sha256, input_hash)) => {
                let mut copy = result.clone();
                copy.metadata.extend([
                    (MOD_SHA256_KEY.to_string(), mod_sha256),
                    (INPUT_LOG_SHA256_KEY.to_string(), input_hash),
                ]);
                copy.payload_hash = nexori_runtime::results::payload_hash(&copy);
                stamped = copy;
                &stamped
            }
            None => result,
        };
        let outcome = self.reporter.enqueue(result, at);
        if let Some(recorder) = &mut self.recorder {
            let answer = serde_json::json!({
                "status": outcome.status.as_str(),
                "message": outcome.message,
                "resultId": outcome.result_id,
            });
            recorder.result(&key, at, &outcome.body, answer);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A match's timer ids follow from its own timers alone (a replayed match gets the same
    /// ids), are never reused while the match lives, and are its own to cancel.
    #[test]
    fn timer_ids_count_per_match_and_are_not_reused() {
        let mut timers = Timers::default();
        assert_eq!(timers.set("a", 100, 8), Ok(1));
        assert_eq!(timers.set("b", 50, 8), Ok(1));
        assert_eq!(timers.set("a", 50, 8), Ok(2));
        assert!(!timers.cancel("b", 2), "b has no timer 2");
        assert_eq!(timers.pop_due(60), Some((1, "b".to_string())));
        assert_eq!(timers.pop_due(60), Some((2, "a".to_string())));
        assert_eq!(timers.pop_due(60), None);
        assert_eq!(
            timers.set("b", 70, 8),
            Ok(2),
            "b's ids go on after its last timer fired"
        );
        assert!(timers.cancel("a", 1));
        assert_eq!(timers.pending("a"), 0);
        assert_eq!(timers.set("a", 10, 8), Ok(3));
        assert_eq!(timers.set("a", 10, 1), Err(TooManyTimers { limit: 1 }));
        timers.drop_match("a");
        assert_eq!(timers.pending("a"), 0);
        assert_eq!(timers.set("a", 10, 8), Ok(1), "a closed match starts over");
        assert_eq!(timers.next_deadline(), Some(10));
        assert_eq!(timers.matches_with_timers(), 2);
    }
}
