//! The match advance, as the Java mod does it: the throttle and its deltas, progress arithmetic,
//! and the choice of the leader. Pure functions of their inputs, so the arithmetic is tested
//! exactly.

use std::cmp::Ordering;

/// The advance throttle: at most one advance per `interval_ms` of host time.
///
/// The first advance credits exactly `interval_ms / 1000` seconds, however much time really
/// passed since the start; every later one credits `(now − previous) / 1000`, never below 0 and
/// **with no upper cap** (a long stall credits the whole gap, as in the Java mod).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvanceClock {
    interval_ms: i64,
    last_advance_at: Option<i64>,
}

impl AdvanceClock {
    /// A clock that has not advanced yet.
    pub fn new(interval_ms: i64) -> Self {
        AdvanceClock {
            interval_ms,
            last_advance_at: None,
        }
    }

    /// When the previous advance ran, if any.
    pub fn last_advance_at(&self) -> Option<i64> {
        self.last_advance_at
    }

    /// Runs an advance at `now` if the throttle allows it, returning its delta in seconds.
    pub fn try_advance(&mut self, now: i64) -> Option<f64> {
        let delta = match self.last_advance_at {
            None => self.interval_ms as f64 / 1000.0,
            Some(previous) if now - previous < self.interval_ms => return None,
            Some(previous) => ((now - previous) as f64 / 1000.0).max(0.0),
        };
        self.last_advance_at = Some(now);
        Some(delta)
    }
}

/// Adds `delta` seconds to a progress and clamps it to `[0, max]`.
pub fn add_progress(progress: f64, delta: f64, max: f64) -> f64 {
    (progress + delta).clamp(0.0, max)
}

/// Java's `String.compareTo`: UTF-16 code unit order, case-sensitive (uppercase sorts before
/// lowercase; a proper prefix sorts first).
pub fn java_compare(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// The leader among `(name, progress)` entries in insertion order: the highest progress; on a
/// tie, the lexicographically greatest name by [`java_compare`]; on equal names, the first.
/// `None` if there are no entries.
pub fn leader<'a>(entries: impl IntoIterator<Item = (&'a str, f64)>) -> Option<usize> {
    let mut best: Option<(usize, &str, f64)> = None;
    for (index, (name, progress)) in entries.into_iter().enumerate() {
        let better = match best {
            None => true,
            Some((_, best_name, best_progress)) => {
                progress > best_progress
                    || (progress == best_progress
                        && java_compare(name, best_name) == Ordering::Greater)
            }
        };
        if better {
            best = Some((index, name, progress));
        }
    }
    best.map(|(index, _, _)| index)
}
