//! Game event batches (`game-event-batches`, new in 1.1.0): a turn's game events for one match,
//! built for one guest call.
//!
//! Why batches: 16 players at 20 Hz send 16 `player.tick`s per match every 50 ms, and one
//! component call with four strings to lower costs more than a fast mod's whole handling of a
//! tick. A batch puts every string of its events into one `text` and refers to them by span, so
//! it crosses into the mod in three allocations (match id, text, event list) and one call
//! however many events it holds. The event kind, which is nearly always the same within a
//! turn, is written once.

use super::since_v1_1_0::batching::{BatchedGameEvent, GameEventBatch, TextSpan};
use crate::bridge::GameEventMessage;

/// The most events one batch carries.
pub const MAX_EVENTS: usize = 256;

/// The most text one batch carries (an event larger than this travels alone). The batch is
/// copied into the mod's memory in one piece, so it stays small next to any memory limit.
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// A call that takes more than this fraction (1/4) of one callback's deadline makes the next
/// batch a single event.
const SLOW_CALL_FRACTION: u32 = 4;

/// How many events the next batch for one instance may hold.
///
/// A batch is rebuilt from the first unhandled event whenever the mod stops early, so a mod that
/// changes its match on every event would be sent the rest of the turn again and again; and a
/// slow mod would make a batch run long before its deadline, which covers at most
/// [`MAX_DEADLINE_STRETCH`](super::instance::MAX_DEADLINE_STRETCH) callbacks, catches a runaway.
/// So the limit halves towards what the mod handled when it stops early, drops to single events
/// when a call used more than a quarter of one callback's deadline, and doubles back after each
/// call that took everything quickly.
#[derive(Debug, Clone)]
pub struct BatchSizer {
    limit: usize,
}

impl Default for BatchSizer {
    fn default() -> Self {
        Self { limit: MAX_EVENTS }
    }
}

impl BatchSizer {
    /// How many events the next batch may hold: 1 to [`MAX_EVENTS`], [`MAX_EVENTS`] at first.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// After a call that was sent `sent` events and handled `handled` of them in `elapsed`.
    pub fn record(
        &mut self,
        sent: usize,
        handled: usize,
        elapsed: std::time::Duration,
        deadline: std::time::Duration,
    ) {
        self.limit = if elapsed * SLOW_CALL_FRACTION > deadline {
            1
        } else if handled < sent {
            handled.saturating_mul(2)
        } else {
            self.limit.saturating_mul(2)
        }
        .clamp(1, MAX_EVENTS);
    }
}

/// The batch for the first events of `events`, as many as the caps and `limit` allow and at
/// least one. `None` when even the first event's text could not be
/// addressed by a 32-bit span (the caller then delivers it with `on-game-event`).
pub fn build(
    match_id: &str,
    events: &[GameEventMessage],
    at_epoch_ms: i64,
    limit: usize,
) -> Option<GameEventBatch> {
    let limit = limit.clamp(1, MAX_EVENTS);
    let mut text = String::with_capacity(
        events
            .iter()
            .take(limit)
            .map(text_bytes)
            .sum::<usize>()
            .min(MAX_TEXT_BYTES),
    );
    let mut batched = Vec::with_capacity(events.len().min(limit));
    let mut kinds: Vec<(&str, TextSpan)> = Vec::new();
    for event in events.iter().take(limit) {
        let bytes = text_bytes(event);
        let fits = text.len() + bytes <= MAX_TEXT_BYTES;
        if !batched.is_empty() && !fits {
            break;
        }
        if bytes > u32::MAX as usize {
            return None;
        }
        let kind = match kinds.iter().find(|(kind, _)| *kind == event.kind) {
            Some((_, span)) => *span,
            None => {
                let span = push(&mut text, &event.kind);
                kinds.push((&event.kind, span));
                span
            }
        };
        let player = event.player.map(|player| {
            let mut buffer = uuid::Uuid::encode_buffer();
            push(&mut text, player.hyphenated().encode_lower(&mut buffer))
        });
        let data = event.data.as_deref().map(|data| push(&mut text, data));
        batched.push(BatchedGameEvent {
            kind,
            player,
            data,
            at_epoch_ms,
        });
    }
    Some(GameEventBatch {
        match_id: match_id.to_string(),
        text,
        events: batched,
    })
}

/// An upper bound of the text an event adds to a batch.
fn text_bytes(event: &GameEventMessage) -> usize {
    event.kind.len()
        + event.player.map_or(0, |_| uuid::fmt::Hyphenated::LENGTH)
        + event.data.as_ref().map_or(0, String::len)
}

fn push(text: &mut String, part: &str) -> TextSpan {
    // `build` keeps the whole text below 4 GiB, so both fit.
    let span = TextSpan {
        start: text.len() as u32,
        len: part.len() as u32,
    };
    text.push_str(part);
    span
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_batch_limit_follows_what_the_mod_takes_and_how_fast() {
        let deadline = Duration::from_millis(250);
        let fast = Duration::from_micros(30);
        let mut sizer = BatchSizer::default();
        assert_eq!(sizer.limit(), MAX_EVENTS);
        // A mod that changes its match on the first event of each batch.
        sizer.record(16, 1, fast, deadline);
        assert_eq!(sizer.limit(), 2);
        sizer.record(2, 1, fast, deadline);
        assert_eq!(sizer.limit(), 2);
        // Then takes whole batches again.
        sizer.record(2, 2, fast, deadline);
        sizer.record(4, 4, fast, deadline);
        assert_eq!(sizer.limit(), 8);
        // A call that used more than a quarter of one callback's deadline: single events.
        sizer.record(16, 16, Duration::from_millis(70), deadline);
        assert_eq!(sizer.limit(), 1);
        sizer.record(1, 1, Duration::from_millis(62), deadline);
        assert_eq!(sizer.limit(), 2);
        for _ in 0..20 {
            sizer.record(sizer.limit(), sizer.limit(), fast, deadline);
        }
        assert_eq!(sizer.limit(), MAX_EVENTS);
    }

    fn event(kind: &str, player: Option<u128>, data: Option<&str>) -> GameEventMessage {
        GameEventMessage {
            match_id: "m1".to_string(),
            kind: kind.to_string(),
            player: player.map(uuid::Uuid::from_u128),
            data: data.map(str::to_string),
        }
    }

    fn slice(batch: &GameEventBatch, span: TextSpan) -> &str {
        &batch.text[span.start as usize..(span.start + span.len) as usize]
    }

    #[test]
    fn every_string_is_a_span_of_one_text_and_a_repeated_kind_is_written_once() {
        let events = [
            event("player.tick", Some(1), Some(r#"{"x":1}"#)),
            event("player.tick", Some(2), None),
            event("zone.énergie", None, Some("[]")),
        ];
        let batch = build("m1", &events, 42, MAX_EVENTS).unwrap();
        assert_eq!(batch.events.len(), 3);
        assert_eq!(batch.match_id, "m1");
        let read: Vec<(&str, Option<&str>, Option<&str>, i64)> = batch
            .events
            .iter()
            .map(|e| {
                (
                    slice(&batch, e.kind),
                    e.player.map(|p| slice(&batch, p)),
                    e.data.map(|d| slice(&batch, d)),
                    e.at_epoch_ms,
                )
            })
            .collect();
        assert_eq!(
            read,
            [
                (
                    "player.tick",
                    Some("00000000-0000-0000-0000-000000000001"),
                    Some(r#"{"x":1}"#),
                    42
                ),
                (
                    "player.tick",
                    Some("00000000-0000-0000-0000-000000000002"),
                    None,
                    42
                ),
                ("zone.énergie", None, Some("[]"), 42),
            ]
        );
        let (first, second) = (batch.events[0].kind, batch.events[1].kind);
        assert_eq!((first.start, first.len), (second.start, second.len));
        assert_eq!(
            batch.text.matches("player.tick").count(),
            1,
            "{}",
            batch.text
        );
    }

    #[test]
    fn a_batch_stops_at_its_caps_but_always_holds_one_event() {
        let many: Vec<_> = (0..MAX_EVENTS as u128 + 10)
            .map(|n| event("player.tick", Some(n), None))
            .collect();
        let count = |limit| build("m1", &many, 0, limit).unwrap().events.len();
        assert_eq!(count(MAX_EVENTS), MAX_EVENTS);
        assert_eq!(count(3), 3);
        assert_eq!(count(0), 1);

        let half = "x".repeat(MAX_TEXT_BYTES / 2);
        let big = [
            event("a", None, Some(&half)),
            event("b", None, Some(&half)),
            event("c", None, None),
        ];
        let batch = build("m1", &big, 0, MAX_EVENTS).unwrap();
        assert_eq!(
            batch.events.len(),
            1,
            "the second half would pass the text cap"
        );
        assert!(batch.text.len() <= MAX_TEXT_BYTES);

        let huge = "y".repeat(MAX_TEXT_BYTES * 2);
        let alone = [event("big", None, Some(&huge)), event("c", None, None)];
        let batch = build("m1", &alone, 0, MAX_EVENTS).unwrap();
        assert_eq!(
            batch.events.len(),
            1,
            "an event above the cap travels alone"
        );
        assert_eq!(slice(&batch, batch.events[0].data.unwrap()), huge);
    }
}
