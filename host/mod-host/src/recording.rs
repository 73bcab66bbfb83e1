//! Recording each match so that it can be replayed (docs/replay.md): the host writes, per match,
//! the inputs that reached it with their host times, the values it handed the mod that follow
//! from more than those inputs, and what the match did, in the `nexori-match-log/1` format of
//! `nexori-recording`.
//!
//! What makes a match a function of its log:
//! - **time** is the host clock, which moves only with the front end's turns (`advance_to`) and
//!   stands still during a turn, so a mod's clock reads follow from the recorded times; an
//!   `advance` record says where a turn ran due work before the match's next input;
//! - **random**: each match's WASI generators are seeded from the seed in the log's header;
//! - **timer ids** count per match;
//! - **reporting's answer** to the result (its status and id depend on the outbox) is recorded.
//!
//! A log starts when the match's instance starts (a match no mod serves is not recorded) and
//! ends when its runtime closes.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::bridge::{
    BridgeMessage, GameEventMessage, write_game_event_head, write_game_event_rest,
};
use nexori_protocol::commands::GameServerCommand;
use nexori_recording::format::{FORMAT, Header, LineKind, ModIdentity, begin_record, record_line};
use nexori_recording::sink::{LogId, RecordSink};
use uuid::Uuid;

/// One match's open log.
struct MatchLog {
    id: LogId,
    /// The host's advance count when the match last had an input.
    advance_seen: u64,
    mod_sha256: String,
}

/// What the host records, for [`HostState`](crate::host_state::HostState).
pub struct Recorder {
    sink: Box<dyn RecordSink>,
    recorded_by: String,
    /// What the result body and the runtime saw of the host beyond the mod's own settings
    /// (`serverId`, ...), written into every header's settings.
    host_settings: Value,
    logs: HashMap<String, MatchLog>,
    /// Bumped by every `advance_to`, with its target.
    advance_count: u64,
    advance_at: i64,
    /// A `match.create` accepted in this `apply`, waiting for the match's instance (and so its
    /// log) to start.
    pending_create: Option<(String, i64, Vec<u8>)>,
    /// Replay: the header each match's log must start with, by match key.
    replay_headers: HashMap<String, (String, Header)>,
}

/// The seed of a match's random generators, its log header's `randomSeed`.
pub type Seed = u128;

impl Recorder {
    /// Records through `sink`; `recorded_by` names the front end (`serve`, `stdio`, `simulate`)
    /// and `host_settings` joins every header's `settings`.
    pub fn new(sink: Box<dyn RecordSink>, recorded_by: &str, host_settings: Value) -> Self {
        Self {
            sink,
            recorded_by: recorded_by.to_string(),
            host_settings,
            logs: HashMap::new(),
            advance_count: 0,
            advance_at: 0,
            pending_create: None,
            replay_headers: HashMap::new(),
        }
    }

    /// Replay: the log of the match `header` names starts with `header_line`, and the match's
    /// random generators get its seed.
    pub fn replay_header(&mut self, header_line: String, header: Header) {
        if let Some(key) = nexori_runtime::ids::normalize_match_id(&header.match_id) {
            self.replay_headers.insert(key, (header_line, header));
        }
    }

    /// The host ran everything due up to `at`.
    pub(crate) fn advanced(&mut self, at: i64) {
        self.advance_count += 1;
        self.advance_at = at;
    }

    /// The seed for a match's generators: the replayed log's, else a fresh one.
    pub(crate) fn seed_for(&self, match_key: &str) -> Seed {
        self.replay_headers
            .get(match_key)
            .and_then(|(_, header)| u128::from_str_radix(&header.random_seed, 16).ok())
            .unwrap_or_else(fresh_seed)
    }

    /// A `match.create` was accepted; its line waits for the log.
    pub(crate) fn created(&mut self, match_key: &str, at: i64, message: &BridgeMessage) {
        let line = record_line(at, "in", &message.to_json());
        self.pending_create = Some((match_key.to_string(), at, line));
    }

    /// Drops a `match.create` whose match got no instance (no mod serves it).
    pub(crate) fn forget_pending_create(&mut self) {
        self.pending_create = None;
    }

    /// The match's instance started: its log begins, with the `match.create` that made it.
    pub(crate) fn open(
        &mut self,
        match_key: &str,
        module: ModIdentity,
        settings: Value,
        seed: Seed,
        wasm: &Arc<[u8]>,
    ) {
        let pending = self.pending_create.take_if(|(key, ..)| key == match_key);
        let started_at = pending.as_ref().map_or(self.advance_at, |(_, at, _)| *at);
        let header_line = match self.replay_headers.get(match_key) {
            Some((line, _)) => line.clone().into_bytes(),
            None => {
                let mut all = self.host_settings.clone();
                if let (Value::Object(all), Value::Object(own)) = (&mut all, settings) {
                    all.extend(own);
                }
                Header {
                    format: FORMAT.to_string(),
                    match_id: match_key.to_string(),
                    recorded_by: self.recorded_by.clone(),
                    nexori_version: env!("CARGO_PKG_VERSION").to_string(),
                    started_at,
                    module: module.clone(),
                    random_seed: format!("{seed:032x}"),
                    settings: all,
                }
                .to_line()
            }
        };
        let id = self.sink.open(&header_line, &module.sha256, wasm);
        self.logs.insert(
            match_key.to_string(),
            MatchLog {
                id,
                // The `match.create` gets its `advance` record.
                advance_seen: self.advance_count.wrapping_sub(1),
                mod_sha256: module.sha256,
            },
        );
        if let Some((_, _, line)) = pending {
            self.before_input(match_key);
            self.sink.append(id, LineKind::Input, &line);
        }
    }

    /// Before a match's first input since the host last advanced: an `advance` record.
    fn before_input(&mut self, match_key: &str) -> Option<LogId> {
        let log = self.logs.get_mut(match_key)?;
        if log.advance_seen == self.advance_count {
            return Some(log.id);
        }
        log.advance_seen = self.advance_count;
        let id = log.id;
        let at = self.advance_at;
        self.sink.append_with(id, LineKind::Input, &mut |out| {
            begin_record(out, at);
            out.extend_from_slice(b"\"advance\":true}");
        });
        Some(id)
    }

    /// A message other than `game.event` that `match_key`'s match accepted at `at`.
    pub(crate) fn input(&mut self, match_key: &str, at: i64, message: &BridgeMessage) {
        if let Some(id) = self.before_input(match_key) {
            let line = record_line(at, "in", &message.to_json());
            self.sink.append(id, LineKind::Input, &line);
        }
    }

    /// `game.event`s the match accepted at `at`: the hot path. They go to the sink at once, in
    /// their compact form ([`encode_game_events`]), which the recording writer renders.
    pub(crate) fn game_events(&mut self, match_key: &str, at: i64, events: &[GameEventMessage]) {
        if events.is_empty() {
            return;
        }
        let Some(id) = self.before_input(match_key) else {
            return;
        };
        self.sink
            .append_compact(id, LineKind::Input, render_game_events, &mut |out| {
                encode_game_events(out, at, events);
            });
    }

    /// A command for the game server.
    pub(crate) fn command(&mut self, at: i64, command: &GameServerCommand) {
        let Some(log) = self.logs.get(command.match_id()) else {
            return;
        };
        let id = log.id;
        self.sink.append_with(id, LineKind::Output, &mut |out| {
            begin_record(out, at);
            out.extend_from_slice(b"\"out\":");
            command.write_json(out);
            out.push(b'}');
        });
    }

    /// The match's input hash and mod, for its result's metadata; `None` when the match has no
    /// log or the log cannot vouch for it (logged).
    pub(crate) fn seal(&mut self, match_key: &str) -> Option<(String, String)> {
        let log = self.logs.get(match_key)?;
        match self.sink.seal(log.id) {
            Ok(hash) => Some((log.mod_sha256.clone(), hash)),
            Err(error) => {
                tracing::error!(target: "nexori::recording", match_id = match_key, "the result goes without its input hash: {error}");
                None
            }
        }
    }

    /// The result body as reported, and reporting's answer (which the mod sees).
    pub(crate) fn result(&mut self, match_key: &str, at: i64, body: &Value, answer: Value) {
        let Some(log) = self.logs.get(match_key) else {
            return;
        };
        let id = log.id;
        self.sink
            .append(id, LineKind::Output, &record_line(at, "result", body));
        self.sink
            .append(id, LineKind::Input, &record_line(at, "enqueued", &answer));
    }

    /// The match's mod faulted.
    pub(crate) fn fault(&mut self, match_key: &str, at: i64, error: &str) {
        if let Some(log) = self.logs.get(match_key) {
            let line = record_line(at, "fault", &json!(error));
            self.sink.append(log.id, LineKind::Output, &line);
        }
    }

    /// The match's runtime closed: its log ends.
    pub(crate) fn closed(&mut self, match_key: &str, at: i64) {
        if let Some(log) = self.logs.remove(match_key) {
            self.sink.append_with(log.id, LineKind::Output, &mut |out| {
                begin_record(out, at);
                out.extend_from_slice(b"\"closed\":true}");
            });
            self.sink.close(log.id);
        }
    }

    /// The turn is over.
    pub(crate) fn end_turn(&mut self) {
        self.sink.end_turn();
    }

    /// Open logs (matches being recorded).
    pub fn open_logs(&self) -> usize {
        self.logs.len()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.sink.end_turn();
    }
}

/// A seed from the operating system's generator.
pub(crate) fn fresh_seed() -> Seed {
    use rand::TryRng;
    let mut bytes = [0u8; 16];
    // Without the OS generator, a clock-derived seed still differs per match; the log keeps it.
    if rand::rngs::SysRng.try_fill_bytes(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        return nanos;
    }
    u128::from_le_bytes(bytes)
}

/// The generators of a match's WASI random interfaces, all from its seed: `secure` and
/// `insecure` are ChaCha20 streams (a fixed algorithm, so a log replays the same with a later
/// build), and `insecure-seed` is drawn from the same seed.
pub(crate) fn generators(seed: Seed) -> (rand::rngs::ChaCha20Rng, rand::rngs::ChaCha20Rng, u128) {
    use rand::{Rng, SeedableRng};
    let mut key = [0u8; 32];
    key[..16].copy_from_slice(&seed.to_le_bytes());
    let mut master = rand::rngs::ChaCha20Rng::from_seed(key);
    let mut derived = || {
        let mut k = [0u8; 32];
        master.fill_bytes(&mut k);
        rand::rngs::ChaCha20Rng::from_seed(k)
    };
    let secure = derived();
    let mut insecure = derived();
    let insecure_seed = (u128::from(insecure.next_u64()) << 64) | u128::from(insecure.next_u64());
    let insecure = derived();
    (secure, insecure, insecure_seed)
}

/// Writes `game.event`s accepted at `at` in the compact form the host's thread hands the sink:
/// `at` (8 bytes, little-endian), then per event its `matchId` and `kind` (each a 4-byte
/// little-endian length and the text), the player (a 0 byte, or 1 and its 16 bytes) and `data`
/// (a 0 byte, or 1, a length and the text). About half the bytes of their lines, and no JSON.
pub(crate) fn encode_game_events(out: &mut Vec<u8>, at: i64, events: &[GameEventMessage]) {
    let text = |out: &mut Vec<u8>, text: &str| {
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        out.extend_from_slice(text.as_bytes());
    };
    out.extend_from_slice(&at.to_le_bytes());
    for event in events {
        text(out, &event.match_id);
        text(out, &event.kind);
        match event.player {
            Some(player) => {
                out.push(1);
                out.extend_from_slice(player.as_bytes());
            }
            None => out.push(0),
        }
        match &event.data {
            Some(data) => {
                out.push(1);
                text(out, data);
            }
            None => out.push(0),
        }
    }
}

/// The lines of the `game.event`s [`encode_game_events`] wrote, `\n` between two: each
/// `{"at":…,"in":{"type":"game.event",…}}`, the message as the bridge writes it
/// ([`crate::bridge::write_game_event`]).
///
/// # Panics
///
/// On bytes `encode_game_events` did not write: the sink hands back exactly what it was given.
pub(crate) fn render_game_events(compact: &[u8], out: &mut Vec<u8>) {
    const WRITTEN_BY_ENCODE: &str = "compact game events are written by encode_game_events";
    fn text(bytes: &[u8]) -> (&str, &[u8]) {
        let (len, rest) = bytes.split_first_chunk::<4>().expect(WRITTEN_BY_ENCODE);
        let (text, rest) = rest.split_at(u32::from_le_bytes(*len) as usize);
        (std::str::from_utf8(text).expect(WRITTEN_BY_ENCODE), rest)
    }
    let (at, mut rest) = compact.split_first_chunk::<8>().expect(WRITTEN_BY_ENCODE);
    let at = i64::from_le_bytes(*at);
    let mut first = true;
    while !rest.is_empty() {
        let (match_id, after) = text(rest);
        let (kind, after) = text(after);
        let (player, after) = match after.split_first() {
            Some((1, after)) => {
                let (id, after) = after.split_first_chunk::<16>().expect(WRITTEN_BY_ENCODE);
                (Some(Uuid::from_bytes(*id)), after)
            }
            Some((_, after)) => (None, after),
            None => panic!("{WRITTEN_BY_ENCODE}"),
        };
        let (data, after) = match after.split_first() {
            Some((1, after)) => {
                let (data, after) = text(after);
                (Some(data), after)
            }
            Some((_, after)) => (None, after),
            None => panic!("{WRITTEN_BY_ENCODE}"),
        };
        rest = after;
        if !first {
            out.push(b'\n');
        }
        first = false;
        begin_record(out, at);
        out.extend_from_slice(b"\"in\":");
        write_game_event_head(out, match_id);
        write_game_event_rest(out, kind, player.as_ref(), data);
        out.push(b'}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compact form renders to exactly the lines the events' JSON makes, whatever the events
    /// hold: the writer thread's lines are the ones the host would have written itself.
    #[test]
    fn compact_game_events_render_to_their_lines() {
        let player = Uuid::from_u128(0xAAAA_BBBB_0000_4000_8000_0000_0000_0001);
        let odd = "a \"quoted\" \\ tab\t café 😀 \u{2028}";
        let event = |match_id: &str, kind: &str, player: Option<Uuid>, data: Option<&str>| {
            GameEventMessage {
                match_id: match_id.into(),
                kind: kind.into(),
                player,
                data: data.map(str::to_string),
            }
        };
        let runs = [
            (
                1_700_000_000_123,
                vec![
                    event(
                        "m1",
                        "player.tick",
                        Some(player),
                        Some(r#"{"x":62.5,"alive":true}"#),
                    ),
                    event("M1", "k", None, Some(r#""text""#)),
                    event("m1", "", Some(player), None),
                ],
            ),
            (-5, vec![event(odd, odd, None, None)]),
            (i64::MAX, vec![event("", "", None, Some("[]"))]),
        ];
        for (at, events) in runs {
            let mut compact = Vec::new();
            encode_game_events(&mut compact, at, &events);
            let mut lines = Vec::new();
            render_game_events(&compact, &mut lines);
            let expected: Vec<String> = events
                .iter()
                .map(|event| {
                    let message = BridgeMessage::GameEvent(event.clone()).to_json();
                    format!("{{\"at\":{at},\"in\":{message}}}")
                })
                .collect();
            assert_eq!(String::from_utf8(lines).unwrap(), expected.join("\n"));
        }
    }
}
