//! `game.event` delivery: the checks a game event passes before it reaches the match's mod, and
//! batching (a mod built against 1.1.0 that exports `game-event-batches` gets a turn's
//! consecutive events for one match in one call; see docs/bridge-protocol.md).

use nexori_runtime::Arena;

use super::{ArenaHost, MessageError};
use crate::bridge::GameEventMessage;
use crate::host_state::lock;
use crate::wasm::{convert, game_event_batch};

/// Which of `events` (all for one match, at least one) the match accepts as one run now: its id
/// and how many events, up to the first whose player is not part of the match. An event is
/// checked against the match as it is when its turn comes, exactly as if it came alone.
///
/// # Errors
///
/// [`MessageError::UnknownMatch`] when there is no such match, [`MessageError::NotInMatch`] when
/// the first event's player is not part of it.
pub(crate) fn accepted_run(
    arena: &Arena,
    events: &[GameEventMessage],
) -> Result<(String, usize), MessageError> {
    let first = &events[0];
    let m = arena
        .get(&first.match_id)
        .ok_or_else(|| MessageError::UnknownMatch(first.match_id.clone()))?;
    let refused = events
        .iter()
        .position(|e| e.player.is_some_and(|p| !m.has_player(p)));
    match (refused, first.player) {
        (Some(0), Some(player)) => Err(MessageError::NotInMatch {
            player,
            match_id: m.match_id.clone(),
        }),
        _ => Ok((m.match_id.clone(), refused.unwrap_or(events.len()))),
    }
}

impl ArenaHost {
    /// Delivers `game.event`s for one match (`events[..].match_id` are all equal), pushing one
    /// result per event. The mod stops a batch after an event during which it changed the
    /// match, and the rest is checked again once the runtime acted on it.
    pub(super) fn deliver_game_events(
        &mut self,
        events: &mut [GameEventMessage],
        results: &mut Vec<Result<(), MessageError>>,
    ) {
        let mut next = 0;
        // Events already in the match's log: a run the mod stopped part-way is checked again,
        // but each event is recorded once.
        let mut recorded = 0;
        while next < events.len() {
            let checked = {
                let mut shared = lock(&self.shared);
                let now = shared.now();
                let checked = accepted_run(&shared.arena, &events[next..])
                    .map(|(id, len)| (id, next + len, now));
                if let (Ok((match_id, end, now)), Some(recorder)) =
                    (&checked, shared.recorder.as_mut())
                    && *end > recorded
                {
                    let from = recorded.max(next);
                    recorder.game_events(match_id, *now, &events[from..*end]);
                    recorded = *end;
                }
                checked
            };
            match checked {
                Err(error) => {
                    results.push(Err(error));
                    next += 1;
                }
                Ok((match_id, end, now)) => {
                    let handled = self.call_game_events(&match_id, &mut events[next..end], now);
                    results.extend((0..handled).map(|_| Ok(())));
                    next += handled;
                }
            }
            lock(&self.shared).flush_commands();
            self.pump();
        }
    }

    /// Calls the match's instance with the first of `events` (all accepted by the match) and
    /// returns how many it handled, at least one. Without an instance, or after a fault, the
    /// events go nowhere, one at a time, as they would alone.
    fn call_game_events(
        &mut self,
        match_id: &str,
        events: &mut [GameEventMessage],
        now: i64,
    ) -> usize {
        let Some(entry) = self.instances.get(match_id) else {
            return 1;
        };
        let mod_name = entry.mod_name.clone();
        let batches = entry.instance.bindings.batching.is_some();
        let limit = entry.batches.limit();
        let deadline =
            std::time::Duration::from_millis(entry.instance.module().limits.callback_deadline_ms);
        let batch = batches
            .then(|| game_event_batch::build(match_id, events, now, limit))
            .flatten();
        let handled = match batch {
            Some(batch) => {
                let count = batch.events.len();
                let started = std::time::Instant::now();
                let handled = self.call_match(match_id, None, count as u32, |b, s| {
                    b.batching
                        .as_ref()
                        .expect("checked above")
                        .nexori_minigame_game_event_batches()
                        .call_on_game_events(s, &batch)
                });
                // A mod that answers 0, or more than it got, cannot stall or skip the turn.
                let handled = handled.map_or(1, |n| (n as usize).clamp(1, count));
                if let Some(entry) = self.instances.get_mut(match_id) {
                    entry
                        .batches
                        .record(count, handled, started.elapsed(), deadline);
                }
                handled
            }
            None => {
                let event = convert::game_event(&mut events[0], match_id, now);
                self.call_match(match_id, None, 1, |b, s| {
                    b.nexori_minigame_game_events()
                        .call_on_game_event(s, &event)
                });
                1
            }
        };
        let mut shared = lock(&self.shared);
        let labels = format_args!("{{mod=\"{mod_name}\"}}");
        shared.trace.count("nexori_game_event_calls_total", labels);
        shared
            .trace
            .add("nexori_game_events_total", labels, handled as u64);
        handled
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::bridge::{BridgeMessage, parse};
    use nexori_runtime::RuntimeSettings;

    const DAVE: &str = "dddddddd-0000-4000-8000-000000000004";
    const EVE: &str = "eeeeeeee-0000-4000-8000-000000000005";

    fn arena_with_dave() -> Arena {
        let mut arena = Arena::new(RuntimeSettings::default());
        let create = json!({"type": "match.create", "matchId": "m1", "rulesEngineId": "ls",
            "expectedPlayers": [{"uuid": DAVE, "name": "Dave"}]});
        let Ok(BridgeMessage::MatchCreate(spec)) = parse(&create) else {
            panic!("match.create parses")
        };
        arena.create_match(spec, 0).expect("created");
        let arrive =
            json!({"type": "player.arrive", "matchId": "m1", "player": DAVE, "name": "Dave"});
        let Ok(BridgeMessage::PlayerArrive(arrival)) = parse(&arrive) else {
            panic!("player.arrive parses")
        };
        arena.arrive(arrival, 1).expect("arrived");
        arena
    }

    fn event(match_id: &str, player: Option<&str>) -> GameEventMessage {
        GameEventMessage {
            match_id: match_id.into(),
            kind: "tick".into(),
            player: player.map(|p| Uuid::parse_str(p).expect("uuid")),
            data: None,
        }
    }

    #[test]
    fn a_run_ends_before_the_first_event_of_a_stranger() {
        let arena = arena_with_dave();
        let events = [
            event("m1", Some(DAVE)),
            event("m1", None),
            event("m1", Some(EVE)),
            event("m1", Some(DAVE)),
        ];
        assert_eq!(accepted_run(&arena, &events), Ok(("m1".to_string(), 2)));
        assert_eq!(
            accepted_run(&arena, &events[..2]),
            Ok(("m1".to_string(), 2))
        );
    }

    #[test]
    fn a_stranger_first_or_an_unknown_match_is_refused_with_the_bridge_message() {
        let arena = arena_with_dave();
        let stranger = accepted_run(&arena, &[event("m1", Some(EVE))]).unwrap_err();
        assert_eq!(
            stranger.to_string(),
            format!("player {EVE} is not part of match \"m1\"")
        );
        let unknown = accepted_run(&arena, &[event("nope", None)]).unwrap_err();
        assert_eq!(unknown.to_string(), "unknown match \"nope\"");
    }
}
