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

use crate::bridge::{BridgeMessage, GameEventMessage, write_game_event};
use nexori_protocol::commands::GameServerCommand;
use nexori_recording::format::{FORMAT, Header, LineKind, ModIdentity, begin_record, record_line};
use nexori_recording::sink::{LogId, RecordSink};

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
    line: Vec<u8>,
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
            line: Vec::with_capacity(512),
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
        self.line.clear();
        begin_record(&mut self.line, at);
        self.line.extend_from_slice(b"\"advance\":true}");
        self.sink.append(id, LineKind::Input, &self.line);
        Some(id)
    }

    /// A message other than `game.event` that `match_key`'s match accepted at `at`.
    pub(crate) fn input(&mut self, match_key: &str, at: i64, message: &BridgeMessage) {
        if let Some(id) = self.before_input(match_key) {
            let line = record_line(at, "in", &message.to_json());
            self.sink.append(id, LineKind::Input, &line);
        }
    }

    /// `game.event`s the match accepted at `at`: the hot path, written without a JSON tree.
    pub(crate) fn game_events(&mut self, match_key: &str, at: i64, events: &[GameEventMessage]) {
        let Some(id) = self.before_input(match_key) else {
            return;
        };
        for event in events {
            self.line.clear();
            begin_record(&mut self.line, at);
            self.line.extend_from_slice(b"\"in\":");
            write_game_event(&mut self.line, event);
            self.line.push(b'}');
            self.sink.append(id, LineKind::Input, &self.line);
        }
    }

    /// A command for the game server.
    pub(crate) fn command(&mut self, at: i64, command: &GameServerCommand) {
        let Some(log) = self.logs.get(command.match_id()) else {
            return;
        };
        let id = log.id;
        self.line.clear();
        begin_record(&mut self.line, at);
        self.line.extend_from_slice(b"\"out\":");
        serde_json::to_writer(&mut self.line, command).expect("writing to a Vec cannot fail");
        self.line.push(b'}');
        self.sink.append(id, LineKind::Output, &self.line);
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
            self.line.clear();
            begin_record(&mut self.line, at);
            self.line.extend_from_slice(b"\"closed\":true}");
            self.sink.append(log.id, LineKind::Output, &self.line);
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
