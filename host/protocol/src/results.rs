//! The `POST /nexori/results` body (docs/arena-behaviour.md#the-result-body): its fields, in the
//! order Nexori sends them.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

/// The body's schema version.
pub const SCHEMA_VERSION: i64 = 1;

/// One player line of a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultPlayer {
    /// The player.
    pub player_uuid: Uuid,
    /// The backend outcome string (`WIN`, `LOSS`, ...).
    pub outcome: String,
    /// Why the player got this outcome.
    pub reason: String,
}

/// Everything one sending attempt of a result puts in its body, borrowed from whoever holds the
/// result.
#[derive(Debug, Clone, Copy)]
pub struct ResultBody<'a> {
    /// A fresh id per sending attempt (`""` before one is assigned).
    pub result_id: &'a str,
    /// The arena server's id.
    pub server_id: &'a str,
    /// When this attempt is sent.
    pub sent_at_epoch_ms: i64,
    /// The match id as the arena knows it.
    pub local_match_id: &'a str,
    /// The matchmaker's match id.
    pub external_match_id: &'a str,
    /// The matchmaker's assignment.
    pub assignment_id: &'a str,
    /// Per-player assignments.
    pub assignment_ids_by_player_uuid: &'a BTreeMap<Uuid, String>,
    /// The queue the match came from.
    pub queue_id: &'a str,
    /// The arena the match was played in.
    pub arena_id: &'a str,
    /// The rules engine that decided it.
    pub rules_engine_id: &'a str,
    /// The player lines.
    pub players: &'a [ResultPlayer],
    /// Why the match ended.
    pub reason: &'a str,
    /// Metadata, sorted by key.
    pub metadata: &'a [(String, String)],
    /// The mod's `customData` object.
    pub custom_data: &'a Map<String, Value>,
    /// When the match ended.
    pub ended_at_epoch_ms: i64,
}

impl ResultBody<'_> {
    /// The body as JSON, members in Nexori's order.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("schemaVersion".into(), SCHEMA_VERSION.into());
        body.insert("resultId".into(), self.result_id.into());
        body.insert("sentAtEpochMs".into(), self.sent_at_epoch_ms.into());
        body.insert("serverId".into(), self.server_id.into());
        body.insert("localMatchId".into(), self.local_match_id.into());
        body.insert("externalMatchId".into(), self.external_match_id.into());
        body.insert("assignmentId".into(), self.assignment_id.into());
        body.insert(
            "assignmentIdsByPlayerUuid".into(),
            Value::Object(
                self.assignment_ids_by_player_uuid
                    .iter()
                    .map(|(k, v)| (k.hyphenated().to_string(), Value::String(v.clone())))
                    .collect(),
            ),
        );
        body.insert("queueId".into(), self.queue_id.into());
        body.insert("arenaId".into(), self.arena_id.into());
        body.insert("rulesEngineId".into(), self.rules_engine_id.into());
        body.insert(
            "players".into(),
            // A struct of strings and a UUID: serialising it cannot fail.
            serde_json::to_value(self.players).unwrap_or(Value::Null),
        );
        body.insert("reason".into(), self.reason.into());
        body.insert(
            "metadata".into(),
            Value::Object(
                self.metadata
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        );
        body.insert("customData".into(), Value::Object(self.custom_data.clone()));
        body.insert("endedAtEpochMs".into(), self.ended_at_epoch_ms.into());
        Value::Object(body)
    }
}
