//! Messages from the game server (see docs/bridge-protocol.md#messages-from-the-game-server),
//! parsed with errors that name the message type and the field.
//!
//! # String limits
//!
//! Every string field has a length cap in UTF-8 bytes, so a game server (or anything that reaches
//! the bridge) cannot make the host keep, copy and log megabytes per id; a longer value refuses
//! the message with an error naming the field and both lengths (`player.arrive: field "matchId":
//! is 5000 bytes; the limit is 128`), without quoting the value.
//!
//! | fields | limit |
//! |---|---|
//! | `type`; ids: `matchId`, `queueId`, `arenaId`, `rulesEngineId`, `assignmentId`, `externalMatchId`, `admissionReservationId`, `worldName`, `instanceTemplateId`; `kind` of `game.event`; player names (`name`); enumerations (`matchSource`, `outcome`, `source`, `admission.backfillMode`); player UUIDs | [`MAX_ID_BYTES`] (128) |
//! | `reason` of `player.disconnect` and `match.end` | [`MAX_REASON_BYTES`] (1024) |
//!
//! The caps are far above any legitimate value (ids are at most a few dozen characters; Nexori's
//! own outcome and result reasons stop at 256 and 512 characters). `game.event`'s `data` is JSON
//! for the mod and has no cap of its own: the size of the whole message bounds it.

use nexori_protocol::json::{write_string, write_uuid};
use serde_json::{Map, Value};
use uuid::Uuid;

use nexori_runtime::arrivals::{Arrival, Placed};
use nexori_runtime::ids::parse_uuid;
use nexori_runtime::launch::{ExpectedPlayer, LaunchAdmission, LaunchSpec};
use nexori_runtime::model::{AfkPolicy, AfkSource, MatchSource, PlacementOutcome};

/// One message from the game server.
#[derive(Debug, Clone, PartialEq)]
pub enum BridgeMessage {
    /// `match.create`: a launch context reached this arena server; the match is created and its
    /// placement window opens (docs/arena-behaviour.md#match-creation). The spec is as sent: the
    /// runtime normalises it.
    MatchCreate(LaunchSpec),
    /// `player.arrive`: a player reached the arena for a match; a backfill arrival when it
    /// carries an `admissionReservationId` (docs/arena-behaviour.md#arrivals-and-backfill).
    PlayerArrive(Arrival),
    /// `player.placed`: the player's initial placement reached a terminal outcome (`CONFIRMED`
    /// unless the message says `FALLBACK`); the player becomes active.
    PlayerPlaced(Placed),
    /// `player.activity`: input from the player, for AFK detection (docs/arena-behaviour.md#afk).
    PlayerActivity {
        /// The player who acted.
        player: Uuid,
        /// `PLAYER_INPUT` (the default) or `INVENTORY_PACKET`; no other source is accepted here.
        source: AfkSource,
    },
    /// `player.disconnect`: the player left the server (docs/arena-behaviour.md#disconnects).
    PlayerDisconnect {
        /// The player who left.
        player: Uuid,
        /// Why, as the game server put it (at most [`MAX_REASON_BYTES`]; `""` when absent); it
        /// becomes the match's `lastError` `Player disconnected: <reason>`.
        reason: String,
    },
    /// `game.event`: a gameplay event for the mod that owns the match.
    GameEvent(GameEventMessage),
    /// `match.end`: an operator ends the match (docs/arena-behaviour.md#manual-end).
    MatchEnd {
        /// The match as sent; the runtime trims and lowercases it when it looks it up.
        match_id: String,
        /// The return reason of every active player (at most [`MAX_REASON_BYTES`]); `""` when
        /// absent, which the runtime reads as `MATCH_ENDED`.
        reason: String,
    },
    /// Scenario files only: lets time pass.
    Wait,
}

/// `game.event`: something that happened in a match, for its mod. The host does not interpret it.
#[derive(Debug, Clone, PartialEq)]
pub struct GameEventMessage {
    /// The match whose mod receives the event, as sent (the runtime normalises it on lookup).
    pub match_id: String,
    /// What happened, in the mod's own vocabulary (`script.call`, a death, ...); required, at
    /// most [`MAX_ID_BYTES`].
    pub kind: String,
    /// The player the event concerns, if any; a player outside the match refuses the event.
    pub player: Option<Uuid>,
    /// `data` as compact JSON text: the host never looks inside it and the mod receives
    /// text, so it is written once, here, rather than on every delivery. Compact `data` on the
    /// bridge is passed on as it arrived (numbers spelled as the game server wrote them);
    /// anything else is parsed and written compact. Either way it is the same JSON value.
    pub data: Option<String>,
}

/// Longest id, name, kind or enumeration value the bridge accepts, in UTF-8 bytes.
pub const MAX_ID_BYTES: usize = 128;
/// Longest `reason` the bridge accepts, in UTF-8 bytes.
pub const MAX_REASON_BYTES: usize = 1024;

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BridgeError {
    /// The text is not JSON; holds the parser's description (line and column).
    #[error("not valid JSON: {0}")]
    Json(String),
    /// The JSON is not an object (an array, a string, ...).
    #[error("message must be a JSON object with a \"type\"")]
    NotAnObject,
    /// The object has no `type` member, or it is not a string.
    #[error("message has no \"type\" string")]
    MissingType,
    /// The `type` is longer than [`MAX_ID_BYTES`]; holds its length in bytes.
    #[error("field \"type\": is {0} bytes; the limit is {MAX_ID_BYTES}")]
    TypeTooLong(usize),
    /// The `type` is none of [`MESSAGE_TYPES`]; holds it.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// A field of a known message is missing, of the wrong JSON type, over its length limit,
    /// not a UUID, not an integer, or not one of its enumeration's values.
    #[error("{ty}: field {field:?}: {problem}")]
    Field {
        /// The message type, e.g. `player.arrive`.
        ty: String,
        /// The field's full path, e.g. `expectedPlayers[0].uuid` or `admission.capacity`.
        field: String,
        /// What is wrong with it, e.g. `is required` or `"nope" is not a UUID`.
        problem: String,
    },
}

/// The known message types.
pub const MESSAGE_TYPES: &[&str] = &[
    "match.create",
    "player.arrive",
    "player.placed",
    "player.activity",
    "player.disconnect",
    "game.event",
    "match.end",
    "wait",
];

struct Fields<'a> {
    ty: &'a str,
    obj: &'a Map<String, Value>,
    /// Where `obj` sits in the message (`admission.`), so errors name nested fields in full.
    path: String,
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl<'a> Fields<'a> {
    fn err(&self, field: &str, problem: impl Into<String>) -> BridgeError {
        BridgeError::Field {
            ty: self.ty.to_string(),
            field: format!("{}{field}", self.path),
            problem: problem.into(),
        }
    }

    /// `text` itself when it fits in `limit` bytes; otherwise an error naming the field.
    fn capped<'t>(&self, field: &str, text: &'t str, limit: usize) -> Result<&'t str, BridgeError> {
        if text.len() > limit {
            return Err(self.err(
                field,
                format!("is {} bytes; the limit is {limit}", text.len()),
            ));
        }
        Ok(text)
    }

    fn nested(&self, field: &str, obj: &'a Map<String, Value>) -> Fields<'a> {
        Fields {
            ty: self.ty,
            obj,
            path: format!("{}{field}.", self.path),
        }
    }

    fn get(&self, field: &str) -> Option<&'a Value> {
        self.obj.get(field).filter(|v| !v.is_null())
    }

    /// An id, name, kind or enumeration value: at most [`MAX_ID_BYTES`].
    fn string(&self, field: &str) -> Result<Option<String>, BridgeError> {
        self.string_up_to(field, MAX_ID_BYTES)
    }

    fn string_up_to(&self, field: &str, limit: usize) -> Result<Option<String>, BridgeError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(self.capped(field, s, limit)?.to_string())),
            Some(other) => {
                Err(self.err(field, format!("expected a string, got {}", describe(other))))
            }
        }
    }

    fn required_string(&self, field: &str) -> Result<String, BridgeError> {
        self.string(field)?
            .ok_or_else(|| self.err(field, "is required"))
    }

    fn uuid_in(&self, field: &str, value: &Value) -> Result<Uuid, BridgeError> {
        match value {
            Value::String(s) => {
                let s = self.capped(field, s, MAX_ID_BYTES)?;
                parse_uuid(s).ok_or_else(|| self.err(field, format!("{s:?} is not a UUID")))
            }
            other => Err(self.err(
                field,
                format!("expected a UUID string, got {}", describe(other)),
            )),
        }
    }

    fn uuid(&self, field: &str) -> Result<Option<Uuid>, BridgeError> {
        self.get(field).map(|v| self.uuid_in(field, v)).transpose()
    }

    fn required_uuid(&self, field: &str) -> Result<Uuid, BridgeError> {
        self.uuid(field)?
            .ok_or_else(|| self.err(field, "is required"))
    }

    fn int_in(&self, field: &str, value: &Value) -> Result<i64, BridgeError> {
        match value {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| {
                    n.as_f64()
                        .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                        .map(|f| f as i64)
                })
                .ok_or_else(|| self.err(field, format!("{n} is not an integer"))),
            other => Err(self.err(
                field,
                format!("expected an integer, got {}", describe(other)),
            )),
        }
    }

    fn int(&self, field: &str) -> Result<Option<i64>, BridgeError> {
        self.get(field).map(|v| self.int_in(field, v)).transpose()
    }

    fn boolean(&self, field: &str) -> Result<Option<bool>, BridgeError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(self.err(
                field,
                format!("expected a boolean, got {}", describe(other)),
            )),
        }
    }

    fn object(&self, field: &str) -> Result<Option<Fields<'a>>, BridgeError> {
        match self.get(field) {
            None => Ok(None),
            Some(Value::Object(obj)) => Ok(Some(self.nested(field, obj))),
            Some(other) => Err(self.err(
                field,
                format!("expected an object, got {}", describe(other)),
            )),
        }
    }

    fn enumeration<T>(
        &self,
        field: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &str,
    ) -> Result<Option<T>, BridgeError> {
        match self.string(field)? {
            None => Ok(None),
            Some(s) => parse(&s)
                .map(Some)
                .ok_or_else(|| self.err(field, format!("{s:?} is not one of {allowed}"))),
        }
    }
}

/// Parses one line of the wire (a JSON text); the error's text is the line the host answers with.
///
/// # Errors
///
/// [`BridgeError::Json`] when `text` is not JSON, else what [`parse`] refuses.
pub fn parse_line(text: &str) -> Result<BridgeMessage, BridgeError> {
    if let Some(event) = game_event_fast(text) {
        return Ok(BridgeMessage::GameEvent(event));
    }
    let value =
        serde_json::from_str::<Value>(text).map_err(|e| BridgeError::Json(e.to_string()))?;
    parse(&value)
}

/// `game.event` is nearly all of the bridge's traffic (a tick per player per server tick), so it
/// is read straight into borrowed fields, `data` kept as the text that arrived, instead of into
/// a `Value` tree whose `data` would then be written out again. Only a message the full parser
/// would accept as it stands takes this path: anything else (another type, a field of the wrong
/// type or over its limit, a repeated field, an escape in a string, whitespace in `data`) gets
/// `None` and goes through [`parse`], which owns the error messages. `null` counts as absent, as
/// there.
fn game_event_fast(text: &str) -> Option<GameEventMessage> {
    #[derive(serde::Deserialize)]
    struct Wire<'a> {
        #[serde(rename = "type")]
        ty: &'a str,
        #[serde(rename = "matchId")]
        match_id: Option<&'a str>,
        kind: Option<&'a str>,
        player: Option<&'a str>,
        #[serde(borrow)]
        data: Option<&'a serde_json::value::RawValue>,
    }
    if !text.contains("\"game.event\"") {
        return None;
    }
    let wire: Wire<'_> = serde_json::from_str(text).ok()?;
    let within = |s: &str| s.len() <= MAX_ID_BYTES;
    if wire.ty != "game.event" {
        return None;
    }
    let match_id = wire.match_id.filter(|s| within(s))?;
    let kind = wire.kind.filter(|s| within(s))?;
    let player = match wire.player {
        None => None,
        Some(p) => Some(parse_uuid(p).filter(|_| within(p))?),
    };
    // Compact as the full path writes it: data with whitespace is left to that path.
    let data = match wire.data {
        None => None,
        Some(raw)
            if raw
                .get()
                .bytes()
                .any(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r')) =>
        {
            return None;
        }
        Some(raw) => Some(raw.get().to_string()),
    };
    Some(GameEventMessage {
        match_id: match_id.to_string(),
        kind: kind.to_string(),
        player,
        data,
    })
}

/// Parses one message: checks every field the message's type has (types, UUIDs, integers,
/// enumerations, the [string limits](crate::bridge#string-limits)); `null` counts as absent.
/// Values are not normalised here: that is the runtime's job.
///
/// # Errors
///
/// [`BridgeError::NotAnObject`], [`BridgeError::MissingType`], [`BridgeError::TypeTooLong`] or
/// [`BridgeError::UnknownType`] for the envelope, [`BridgeError::Field`] naming the first field
/// that is wrong.
pub fn parse(value: &Value) -> Result<BridgeMessage, BridgeError> {
    let obj = value.as_object().ok_or(BridgeError::NotAnObject)?;
    let ty = obj
        .get("type")
        .and_then(Value::as_str)
        .ok_or(BridgeError::MissingType)?;
    if ty.len() > MAX_ID_BYTES {
        return Err(BridgeError::TypeTooLong(ty.len()));
    }
    let f = Fields {
        ty,
        obj,
        path: String::new(),
    };
    Ok(match ty {
        "match.create" => BridgeMessage::MatchCreate(parse_launch(&f)?),
        "player.arrive" => BridgeMessage::PlayerArrive(Arrival {
            match_id: f.required_string("matchId")?,
            player: f.required_uuid("player")?,
            name: f.string("name")?.unwrap_or_default(),
            assignment_id: f.string("assignmentId")?.unwrap_or_default(),
            admission_reservation_id: f.string("admissionReservationId")?.unwrap_or_default(),
            admission_expires_at_epoch_ms: f.int("admissionExpiresAtEpochMs")?.unwrap_or(0),
        }),
        "player.placed" => BridgeMessage::PlayerPlaced(Placed {
            match_id: f.required_string("matchId")?,
            player: f.required_uuid("player")?,
            outcome: f
                .enumeration("outcome", PlacementOutcome::parse, "CONFIRMED, FALLBACK")?
                .unwrap_or(PlacementOutcome::Confirmed),
            world_name: f.string("worldName")?.unwrap_or_default(),
            instance_template_id: f.string("instanceTemplateId")?.unwrap_or_default(),
        }),
        "player.activity" => BridgeMessage::PlayerActivity {
            player: f.required_uuid("player")?,
            source: match f.string("source")?.as_deref() {
                None => AfkSource::PlayerInput,
                Some(s) => match AfkSource::parse(s) {
                    Some(source @ (AfkSource::PlayerInput | AfkSource::InventoryPacket)) => source,
                    _ => {
                        return Err(f.err(
                            "source",
                            format!("{s:?} is not one of PLAYER_INPUT, INVENTORY_PACKET"),
                        ));
                    }
                },
            },
        },
        "player.disconnect" => BridgeMessage::PlayerDisconnect {
            player: f.required_uuid("player")?,
            reason: f
                .string_up_to("reason", MAX_REASON_BYTES)?
                .unwrap_or_default(),
        },
        "game.event" => BridgeMessage::GameEvent(GameEventMessage {
            match_id: f.required_string("matchId")?,
            kind: f.required_string("kind")?,
            player: f.uuid("player")?,
            data: f.get("data").map(Value::to_string),
        }),
        "match.end" => BridgeMessage::MatchEnd {
            match_id: f.required_string("matchId")?,
            reason: f
                .string_up_to("reason", MAX_REASON_BYTES)?
                .unwrap_or_default(),
        },
        "wait" => BridgeMessage::Wait,
        other => return Err(BridgeError::UnknownType(other.to_string())),
    })
}

fn parse_launch(f: &Fields<'_>) -> Result<LaunchSpec, BridgeError> {
    let mut expected_players = Vec::new();
    match f.get("expectedPlayers") {
        None => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let field = format!("expectedPlayers[{i}]");
                let player = match item {
                    Value::Object(obj) => {
                        let p = f.nested(&field, obj);
                        let uuid = p
                            .get("uuid")
                            .ok_or_else(|| f.err(&field, "has no \"uuid\""))?;
                        ExpectedPlayer {
                            uuid: f.uuid_in(&format!("{field}.uuid"), uuid)?,
                            name: p.string("name")?.unwrap_or_default(),
                            assignment_id: p.string("assignmentId")?.unwrap_or_default(),
                        }
                    }
                    // A bare UUID string is accepted too, as in the launch JSON's expectedPlayerUuids.
                    Value::String(_) => ExpectedPlayer {
                        uuid: f.uuid_in(&field, item)?,
                        name: String::new(),
                        assignment_id: String::new(),
                    },
                    other => {
                        return Err(f.err(
                            &field,
                            format!("expected an object, got {}", describe(other)),
                        ));
                    }
                };
                expected_players.push(player);
            }
        }
        Some(other) => {
            return Err(f.err(
                "expectedPlayers",
                format!("expected an array, got {}", describe(other)),
            ));
        }
    }
    let admission = match f.object("admission")? {
        None => None,
        Some(a) => Some(LaunchAdmission {
            capacity: a.int("capacity")?.unwrap_or(0),
            backfill_enabled: a.boolean("backfillEnabled")?.unwrap_or(false),
            backfill_mode: a.string("backfillMode")?.unwrap_or_default(),
            backfill_window_seconds: a.int("backfillWindowSeconds")?.unwrap_or(0),
        }),
    };
    let afk_detection_policy = match f.object("afkDetectionPolicy")? {
        None => None,
        Some(p) => Some(AfkPolicy::normalized(
            p.boolean("enabled")?.unwrap_or(false),
            p.int("inactivityTimeoutSeconds")?
                .unwrap_or(30)
                .clamp(i32::MIN as i64, i32::MAX as i64) as i32,
        )),
    };
    Ok(LaunchSpec {
        match_id: f.required_string("matchId")?,
        queue_id: f.string("queueId")?.unwrap_or_default(),
        arena_id: f.string("arenaId")?.unwrap_or_default(),
        rules_engine_id: f.string("rulesEngineId")?.unwrap_or_default(),
        assignment_id: f.string("assignmentId")?.unwrap_or_default(),
        external_match_id: f.string("externalMatchId")?.unwrap_or_default(),
        match_source: f.enumeration(
            "matchSource",
            MatchSource::parse,
            "LOCAL_FIFO, BACKEND_DRIVEN",
        )?,
        expected_players,
        expected_player_count: f.int("expectedPlayerCount")?,
        minimum_initial_players: f.int("minimumInitialPlayers")?,
        initial_placement_window_seconds: f.int("initialPlacementWindowSeconds")?,
        admission,
        afk_detection_policy,
    })
}

impl BridgeMessage {
    /// The message as the bridge writes it: [`parse`] reads it back as an equal message. Match
    /// logs record inputs this way (docs/replay.md); `game.event`s, the bulk of them, go through
    /// [`write_game_event`] instead.
    pub fn to_json(&self) -> Value {
        use serde_json::json;
        let mut object = Map::new();
        let mut put = |key: &str, value: Value| {
            object.insert(key.to_string(), value);
        };
        let ty = match self {
            Self::MatchCreate(spec) => {
                put("matchId", spec.match_id.clone().into());
                put("queueId", spec.queue_id.clone().into());
                put("arenaId", spec.arena_id.clone().into());
                put("rulesEngineId", spec.rules_engine_id.clone().into());
                put("assignmentId", spec.assignment_id.clone().into());
                put("externalMatchId", spec.external_match_id.clone().into());
                if let Some(source) = spec.match_source {
                    put("matchSource", source.as_str().into());
                }
                let players = spec
                    .expected_players
                    .iter()
                    .map(|p| json!({"uuid": p.uuid, "name": p.name, "assignmentId": p.assignment_id}))
                    .collect();
                put("expectedPlayers", Value::Array(players));
                let optional = [
                    ("expectedPlayerCount", spec.expected_player_count),
                    ("minimumInitialPlayers", spec.minimum_initial_players),
                    (
                        "initialPlacementWindowSeconds",
                        spec.initial_placement_window_seconds,
                    ),
                ];
                for (key, value) in optional {
                    if let Some(value) = value {
                        put(key, value.into());
                    }
                }
                if let Some(a) = &spec.admission {
                    put(
                        "admission",
                        json!({"capacity": a.capacity, "backfillEnabled": a.backfill_enabled,
                            "backfillMode": a.backfill_mode,
                            "backfillWindowSeconds": a.backfill_window_seconds}),
                    );
                }
                if let Some(p) = &spec.afk_detection_policy {
                    put(
                        "afkDetectionPolicy",
                        json!({"enabled": p.enabled,
                            "inactivityTimeoutSeconds": p.inactivity_timeout_seconds}),
                    );
                }
                "match.create"
            }
            Self::PlayerArrive(a) => {
                put("matchId", a.match_id.clone().into());
                put("player", a.player.hyphenated().to_string().into());
                put("name", a.name.clone().into());
                put("assignmentId", a.assignment_id.clone().into());
                put(
                    "admissionReservationId",
                    a.admission_reservation_id.clone().into(),
                );
                put(
                    "admissionExpiresAtEpochMs",
                    a.admission_expires_at_epoch_ms.into(),
                );
                "player.arrive"
            }
            Self::PlayerPlaced(p) => {
                put("matchId", p.match_id.clone().into());
                put("player", p.player.hyphenated().to_string().into());
                put("outcome", p.outcome.as_str().into());
                put("worldName", p.world_name.clone().into());
                put("instanceTemplateId", p.instance_template_id.clone().into());
                "player.placed"
            }
            Self::PlayerActivity { player, source } => {
                put("player", player.hyphenated().to_string().into());
                put("source", source.as_str().into());
                "player.activity"
            }
            Self::PlayerDisconnect { player, reason } => {
                put("player", player.hyphenated().to_string().into());
                put("reason", reason.clone().into());
                "player.disconnect"
            }
            Self::GameEvent(event) => {
                let mut line = Vec::new();
                write_game_event(&mut line, event);
                return serde_json::from_slice(&line).expect("a written game event is JSON");
            }
            Self::MatchEnd { match_id, reason } => {
                put("matchId", match_id.clone().into());
                put("reason", reason.clone().into());
                "match.end"
            }
            Self::Wait => "wait",
        };
        let mut message = Map::new();
        message.insert("type".into(), ty.into());
        message.extend(object);
        Value::Object(message)
    }

    /// The match a message names, when it names one (`player.activity` and `player.disconnect`
    /// name a player, whose match only the runtime knows).
    pub fn match_id(&self) -> Option<&str> {
        match self {
            Self::MatchCreate(spec) => Some(&spec.match_id),
            Self::PlayerArrive(a) => Some(&a.match_id),
            Self::PlayerPlaced(p) => Some(&p.match_id),
            Self::GameEvent(e) => Some(&e.match_id),
            Self::MatchEnd { match_id, .. } => Some(match_id),
            Self::PlayerActivity { .. } | Self::PlayerDisconnect { .. } | Self::Wait => None,
        }
    }
}

/// Writes a `game.event` as the bridge writes it, `data` as the text it arrived as: the hot path
/// of recording (a tick per player per server tick), without building a JSON tree.
pub fn write_game_event(out: &mut Vec<u8>, event: &GameEventMessage) {
    write_game_event_head(out, &event.match_id);
    write_game_event_rest(
        out,
        &event.kind,
        event.player.as_ref(),
        event.data.as_deref(),
    );
}

/// The start of a [`write_game_event`] line, up to its `matchId`.
pub fn write_game_event_head(out: &mut Vec<u8>, match_id: &str) {
    out.extend_from_slice(b"{\"type\":\"game.event\",\"matchId\":");
    write_string(out, match_id);
}

/// The rest of a [`write_game_event`] line after [`write_game_event_head`], from its parts.
pub fn write_game_event_rest(
    out: &mut Vec<u8>,
    kind: &str,
    player: Option<&Uuid>,
    data: Option<&str>,
) {
    out.extend_from_slice(b",\"kind\":");
    write_string(out, kind);
    if let Some(player) = player {
        out.extend_from_slice(b",\"player\":");
        write_uuid(out, player);
    }
    if let Some(data) = data {
        out.extend_from_slice(b",\"data\":");
        out.extend_from_slice(data.as_bytes());
    }
    out.push(b'}');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The fast path for `game.event` takes exactly the messages the full parser accepts as they
    /// stand, and reads them the same (its `data` the same JSON value); every other message falls
    /// back, so errors are the full parser's.
    #[test]
    fn game_events_read_fast_are_read_as_the_full_parser_reads_them() {
        let long = "m".repeat(MAX_ID_BYTES + 1);
        let cases: &[(&str, bool)] = &[
            (
                r#"{"type":"game.event","matchId":"m1","kind":"player.tick","player":"11111111-1111-1111-1111-111111111111","data":{"x":1.5,"y":85,"alive":true,"n":1.0E-4}}"#,
                true,
            ),
            (
                r#"{"matchId":"m1","kind":"k","type":"game.event","extra":[1,{"a":2}]}"#,
                true,
            ),
            (
                r#"{"type":"game.event","matchId":"m1","kind":"k","player":null,"data":null}"#,
                true,
            ),
            (
                r#"{"type":"game.event","matchId":"M1","kind":"k","player":"AAAAAAAA-1111-1111-1111-111111111111","data":"text"}"#,
                true,
            ),
            // Falls back: whitespace in data, an escape, a repeated field, wrong types, limits.
            (
                r#"{"type":"game.event","matchId":"m1","kind":"k","data":{"x": 1}}"#,
                false,
            ),
            (
                r#"{"type":"game.event","matchId":"m\u0031","kind":"k"}"#,
                false,
            ),
            (
                r#"{"type":"game.event","matchId":"m1","matchId":"m2","kind":"k"}"#,
                false,
            ),
            (r#"{"type":"game.event","matchId":"m1","kind":7}"#, false),
            (r#"{"type":"game.event","matchId":"m1"}"#, false),
            (
                r#"{"type":"game.event","matchId":"m1","kind":"k","player":"nope"}"#,
                false,
            ),
            (
                &format!(r#"{{"type":"game.event","matchId":"{long}","kind":"k"}}"#),
                false,
            ),
            (
                r#"{"type":"player.activity","player":"11111111-1111-1111-1111-111111111111","note":"game.event"}"#,
                false,
            ),
            (r#"["game.event"]"#, false),
        ];
        for (text, fast) in cases {
            let full = serde_json::from_str::<Value>(text)
                .map_err(|e| BridgeError::Json(e.to_string()))
                .and_then(|v| parse(&v));
            let quick = game_event_fast(text);
            assert_eq!(quick.is_some(), *fast, "{text}");
            let read = parse_line(text);
            match (&read, &full) {
                (Ok(BridgeMessage::GameEvent(a)), Ok(BridgeMessage::GameEvent(b))) => {
                    assert_eq!(
                        (&a.match_id, &a.kind, a.player),
                        (&b.match_id, &b.kind, b.player),
                        "{text}"
                    );
                    let json = |d: &Option<String>| {
                        d.as_deref()
                            .map(|d| serde_json::from_str::<Value>(d).unwrap())
                    };
                    assert_eq!(json(&a.data), json(&b.data), "{text}");
                }
                _ => assert_eq!(read, full, "{text}"),
            }
        }
        // Compact data is passed on as it arrived.
        let event = game_event_fast(cases[0].0).unwrap();
        assert_eq!(
            event.data.as_deref(),
            Some(r#"{"x":1.5,"y":85,"alive":true,"n":1.0E-4}"#)
        );
    }

    #[test]
    fn errors_name_the_message_and_the_field() {
        let err = parse(&json!({"type": "player.arrive", "matchId": "m1", "player": "nope"}))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"player.arrive: field "player": "nope" is not a UUID"#
        );
        let err = parse(
            &json!({"type": "player.arrive", "player": "11111111-1111-1111-1111-111111111111"}),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"player.arrive: field "matchId": is required"#
        );
        let err = parse(
            &json!({"type": "match.create", "matchId": "m", "expectedPlayers": [{"uuid": 3}]}),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"match.create: field "expectedPlayers[0].uuid": expected a UUID string, got a number"#
        );
        assert_eq!(
            parse(&json!({"type": "nope"})).unwrap_err(),
            BridgeError::UnknownType("nope".into())
        );
        assert_eq!(parse(&json!([1])).unwrap_err(), BridgeError::NotAnObject);
    }

    /// Every string field of every message, with its limit, in a message that parses.
    fn string_fields() -> Vec<(Value, &'static str, usize)> {
        let p = "11111111-1111-1111-1111-111111111111";
        let create = json!({"type": "match.create", "matchId": "m", "queueId": "q", "arenaId": "a",
            "rulesEngineId": "r", "assignmentId": "as", "externalMatchId": "e", "matchSource": "LOCAL_FIFO",
            "expectedPlayers": [{"uuid": p, "name": "Alice", "assignmentId": "as"}],
            "admission": {"capacity": 2, "backfillMode": "ACTIVE_WINDOW"}});
        let arrive = json!({"type": "player.arrive", "matchId": "m", "player": p, "name": "Alice",
            "assignmentId": "as", "admissionReservationId": "res"});
        let placed = json!({"type": "player.placed", "matchId": "m", "player": p, "outcome": "CONFIRMED",
            "worldName": "w", "instanceTemplateId": "t"});
        let activity = json!({"type": "player.activity", "player": p, "source": "PLAYER_INPUT"});
        let disconnect = json!({"type": "player.disconnect", "player": p, "reason": "quit"});
        let event = json!({"type": "game.event", "matchId": "m", "kind": "k", "player": p});
        let end = json!({"type": "match.end", "matchId": "m", "reason": "r"});
        let mut fields = Vec::new();
        for field in [
            "matchId",
            "queueId",
            "arenaId",
            "rulesEngineId",
            "assignmentId",
            "externalMatchId",
            "matchSource",
            "expectedPlayers[0].uuid",
            "expectedPlayers[0].name",
            "expectedPlayers[0].assignmentId",
            "admission.backfillMode",
        ] {
            fields.push((create.clone(), field, MAX_ID_BYTES));
        }
        for field in [
            "matchId",
            "player",
            "name",
            "assignmentId",
            "admissionReservationId",
        ] {
            fields.push((arrive.clone(), field, MAX_ID_BYTES));
        }
        for field in [
            "matchId",
            "player",
            "outcome",
            "worldName",
            "instanceTemplateId",
        ] {
            fields.push((placed.clone(), field, MAX_ID_BYTES));
        }
        fields.push((activity.clone(), "player", MAX_ID_BYTES));
        fields.push((activity, "source", MAX_ID_BYTES));
        fields.push((disconnect.clone(), "player", MAX_ID_BYTES));
        fields.push((disconnect, "reason", MAX_REASON_BYTES));
        for field in ["matchId", "kind", "player"] {
            fields.push((event.clone(), field, MAX_ID_BYTES));
        }
        fields.push((end.clone(), "matchId", MAX_ID_BYTES));
        fields.push((end, "reason", MAX_REASON_BYTES));
        fields
    }

    fn set(message: &mut Value, path: &str, text: String) {
        let mut at = message;
        let mut parts = path.split('.').peekable();
        while let Some(part) = parts.next() {
            let (name, index) = match part.split_once('[') {
                Some((name, i)) => (
                    name,
                    Some(i.trim_end_matches(']').parse::<usize>().unwrap()),
                ),
                None => (part, None),
            };
            at = &mut at[name];
            if let Some(i) = index {
                at = &mut at[i];
            }
            if parts.peek().is_none() {
                *at = Value::String(text);
                return;
            }
        }
    }

    #[test]
    fn every_string_field_has_a_cap_named_in_the_error() {
        for (message, field, limit) in string_fields() {
            assert!(parse(&message).is_ok(), "{message}");
            let ty = message["type"].as_str().unwrap().to_string();
            let mut long = message.clone();
            set(&mut long, field, "x".repeat(limit + 1));
            assert_eq!(
                parse(&long).unwrap_err().to_string(),
                format!(
                    "{ty}: field {field:?}: is {} bytes; the limit is {limit}",
                    limit + 1
                ),
            );
            let mut huge = message.clone();
            set(&mut huge, field, "é".repeat(2500));
            assert_eq!(
                parse(&huge).unwrap_err().to_string(),
                format!("{ty}: field {field:?}: is 5000 bytes; the limit is {limit}"),
                "the value is not quoted"
            );
        }
    }

    #[test]
    fn values_at_the_cap_are_accepted() {
        let id = "m".repeat(MAX_ID_BYTES);
        let reason = "r".repeat(MAX_REASON_BYTES);
        let msg = parse(&json!({"type": "match.end", "matchId": id, "reason": reason})).unwrap();
        assert_eq!(
            msg,
            BridgeMessage::MatchEnd {
                match_id: id.clone(),
                reason
            }
        );
        let msg = parse(
            &json!({"type": "game.event", "matchId": "m", "kind": id, "data": {"x": "y".repeat(10_000)}}),
        );
        assert!(msg.is_ok(), "data has no cap of its own");
        let err = parse(&json!({"type": "t".repeat(5000)})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "field \"type\": is 5000 bytes; the limit is 128"
        );
    }

    #[test]
    fn nested_fields_are_named_by_their_path() {
        let err = parse(
            &json!({"type": "match.create", "matchId": "m", "admission": {"capacity": "two"}}),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"match.create: field "admission.capacity": expected an integer, got a string"#
        );
    }

    #[test]
    fn uuids_are_accepted_in_any_case() {
        let msg = parse(
            &json!({"type": "player.disconnect", "player": "AAAAAAAA-1111-1111-1111-111111111111"}),
        )
        .unwrap();
        let BridgeMessage::PlayerDisconnect { player, .. } = msg else {
            panic!()
        };
        assert_eq!(player.to_string(), "aaaaaaaa-1111-1111-1111-111111111111");
    }

    /// Match logs record messages with `to_json`: every step of the repository's scenario files
    /// (and a message with every optional field) reads back as the message it was.
    #[test]
    fn messages_written_for_a_match_log_read_back_as_themselves() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut steps: Vec<Value> = Vec::new();
        for dir in ["host/demo", "tests/scenarios/last-standing"] {
            for entry in std::fs::read_dir(root.join(dir)).expect("scenario dir") {
                let path = entry.expect("entry").path();
                let text = std::fs::read_to_string(&path).expect("scenario");
                let scenario: Value = serde_json::from_str(&text).expect("JSON");
                steps.extend(scenario["steps"].as_array().cloned().unwrap_or_default());
            }
        }
        steps.push(
            json!({"type": "match.create", "matchId": " M9 ", "queueId": "q",
            "arenaId": "a", "rulesEngineId": "r", "assignmentId": "as", "externalMatchId": "e",
            "matchSource": "BACKEND_DRIVEN", "expectedPlayerCount": 3, "minimumInitialPlayers": 2,
            "initialPlacementWindowSeconds": 30,
            "expectedPlayers": ["aaaaaaaa-1111-1111-1111-111111111111",
                {"uuid": "bbbbbbbb-1111-1111-1111-111111111111", "name": "B", "assignmentId": "x"}],
            "admission": {"capacity": 8, "backfillEnabled": true, "backfillMode": "OPEN",
                "backfillWindowSeconds": 90},
            "afkDetectionPolicy": {"enabled": true, "inactivityTimeoutSeconds": 2}}),
        );
        steps.push(json!({"type": "player.arrive", "matchId": "m", "player": "aaaaaaaa-1111-1111-1111-111111111111",
            "admissionReservationId": "r1", "admissionExpiresAtEpochMs": 99}));
        steps.push(json!({"type": "player.placed", "matchId": "m", "player": "aaaaaaaa-1111-1111-1111-111111111111",
            "outcome": "FALLBACK", "worldName": "w", "instanceTemplateId": "t"}));
        steps.push(
            json!({"type": "player.activity", "player": "aaaaaaaa-1111-1111-1111-111111111111",
            "source": "INVENTORY_PACKET"}),
        );
        steps.push(
            json!({"type": "player.disconnect", "player": "aaaaaaaa-1111-1111-1111-111111111111",
            "reason": "bye \u{e9}"}),
        );
        let mut checked = 0;
        for step in &steps {
            let Ok(message) = parse(step) else { continue };
            let written = message.to_json();
            assert_eq!(
                parse(&written),
                Ok(message.clone()),
                "{step} wrote {written}"
            );
            assert_eq!(
                parse_line(&written.to_string()),
                Ok(message),
                "{written} read as a line"
            );
            checked += 1;
        }
        assert!(checked >= 60, "{checked} messages checked");
    }
}
