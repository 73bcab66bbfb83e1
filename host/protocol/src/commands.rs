//! Commands from the host to the game server (see
//! docs/bridge-protocol.md#commands-from-the-host-to-the-game-server). The same values go out over
//! the bridge and into the simulation trace.

use std::fmt;

use serde::{Serialize, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;
use uuid::Uuid;

/// One command for the game server. Serialises as the bridge message, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum GameServerCommand {
    /// A scheduled return to lobby is due.
    #[serde(rename = "player.return", rename_all = "camelCase")]
    Return {
        /// The match.
        match_id: String,
        /// The player.
        player: Uuid,
        /// Why.
        reason: String,
    },
    /// `setPlayerSpectator` changed the player's state.
    #[serde(rename = "player.spectator", rename_all = "camelCase")]
    Spectator {
        /// The match.
        match_id: String,
        /// The player.
        player: Uuid,
        /// Whether the player is now a spectator.
        spectator: bool,
        /// The spectator model to show, if the mod chose one.
        #[serde(skip_serializing_if = "Option::is_none")]
        model_id: Option<String>,
    },
    /// AFK state changed and the HUD should show or hide.
    #[serde(rename = "player.afkHud", rename_all = "camelCase")]
    AfkHud {
        /// The match.
        match_id: String,
        /// The player.
        player: Uuid,
        /// Whether the player is now AFK.
        afk: bool,
    },
    /// The host tells a player something.
    #[serde(rename = "player.message", rename_all = "camelCase")]
    Message {
        /// The match.
        match_id: String,
        /// The player.
        player: Uuid,
        /// What to tell the player.
        text: String,
    },
    /// A mod asked the game to do something.
    #[serde(rename = "game.command", rename_all = "camelCase")]
    Game {
        /// The match.
        match_id: String,
        /// The player.
        #[serde(skip_serializing_if = "Option::is_none")]
        player: Option<Uuid>,
        /// The command's name, as the mod chose it.
        name: String,
        /// The command's JSON data, as the mod wrote it.
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<CommandData>,
    },
}

/// The `data` of a mod's game command: JSON text checked once and passed on as written.
///
/// Mods send a command on many ticks (HUD updates, respawns). The host only has to prove the
/// text is one JSON value and keep the bridge's one-message-per-line framing, so it validates
/// without building a tree and copies the text out unchanged.
#[derive(Clone)]
pub struct CommandData(Box<RawValue>);

impl CommandData {
    /// Checks `text` is one JSON value. Text with line breaks (necessarily whitespace between
    /// tokens: JSON strings cannot hold a raw one) is written compactly so it fits on a line.
    /// Text with `\u` escapes is parsed in full, because checking a raw value does not decode
    /// them, and a lone surrogate would make the line unreadable for any strict JSON reader.
    pub fn parse(text: &str) -> Result<Self, serde_json::Error> {
        let raw: Box<RawValue> = serde_json::from_str(text)?;
        if !raw.get().contains(['\n', '\r']) && !raw.get().contains("\\u") {
            return Ok(Self(raw));
        }
        let value: Value = serde_json::from_str(raw.get())?;
        Ok(Self(serde_json::value::to_raw_value(&value)?))
    }

    /// The JSON text.
    pub fn text(&self) -> &str {
        self.0.get()
    }

    /// The value, parsed (tests and tools; the host itself never needs it).
    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.text()).expect("validated when the command was sent")
    }
}

impl PartialEq for CommandData {
    fn eq(&self, other: &Self) -> bool {
        self.text() == other.text()
    }
}

impl fmt::Debug for CommandData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text())
    }
}

impl Serialize for CommandData {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl GameServerCommand {
    /// The command's `type` on the bridge.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Return { .. } => "player.return",
            Self::Spectator { .. } => "player.spectator",
            Self::AfkHud { .. } => "player.afkHud",
            Self::Message { .. } => "player.message",
            Self::Game { .. } => "game.command",
        }
    }

    /// Appends the command as its bridge line (no newline): the same bytes as its `Serialize`
    /// (`serde_json::to_vec`), written for a fraction of the cost, because a command goes out,
    /// and into the match's log, for many ticks (HUD updates).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        use crate::json::{write_string, write_uuid};
        fn field(out: &mut Vec<u8>, name: &str) {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
        }
        let text = |out: &mut Vec<u8>, name: &str, value: &str| {
            field(out, name);
            write_string(out, value);
        };
        let player = |out: &mut Vec<u8>, player: &Uuid| {
            field(out, "player");
            write_uuid(out, player);
        };
        let flag = |out: &mut Vec<u8>, name: &str, value: bool| {
            field(out, name);
            out.extend_from_slice(if value { b"true" } else { b"false" });
        };
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(self.kind().as_bytes());
        out.push(b'"');
        text(out, "matchId", self.match_id());
        match self {
            Self::Return {
                player: id, reason, ..
            } => {
                player(out, id);
                text(out, "reason", reason);
            }
            Self::Spectator {
                player: id,
                spectator,
                model_id,
                ..
            } => {
                player(out, id);
                flag(out, "spectator", *spectator);
                if let Some(model_id) = model_id {
                    text(out, "modelId", model_id);
                }
            }
            Self::AfkHud {
                player: id, afk, ..
            } => {
                player(out, id);
                flag(out, "afk", *afk);
            }
            Self::Message {
                player: id,
                text: message,
                ..
            } => {
                player(out, id);
                text(out, "text", message);
            }
            Self::Game {
                player: id,
                name,
                data,
                ..
            } => {
                if let Some(id) = id {
                    player(out, id);
                }
                text(out, "name", name);
                if let Some(data) = data {
                    field(out, "data");
                    out.extend_from_slice(data.text().as_bytes());
                }
            }
        }
        out.push(b'}');
    }

    /// [`write_json`](Self::write_json) into a new string: the command's bridge line.
    pub fn to_json_line(&self) -> String {
        let mut out = Vec::with_capacity(128);
        self.write_json(&mut out);
        String::from_utf8(out).expect("written from strings and ASCII")
    }

    /// The match the command is about.
    pub fn match_id(&self) -> &str {
        match self {
            Self::Return { match_id, .. }
            | Self::Spectator { match_id, .. }
            | Self::AfkHud { match_id, .. }
            | Self::Message { match_id, .. }
            | Self::Game { match_id, .. } => match_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_data_passes_compact_text_through_unchanged() {
        let text = r#"{"title":"MID CONTROL","rows":["1. P1 5%"],"x":62.50}"#;
        let data = CommandData::parse(text).unwrap();
        assert_eq!(data.text(), text);
        let command = GameServerCommand::Game {
            match_id: "m1".into(),
            player: None,
            name: "hud.update".into(),
            data: Some(data),
        };
        assert_eq!(
            serde_json::to_string(&command).unwrap(),
            format!(
                r#"{{"type":"game.command","matchId":"m1","name":"hud.update","data":{text}}}"#
            )
        );
    }

    #[test]
    fn commands_are_written_as_their_serialize_writes_them() {
        let player = Uuid::from_u128(0xAAAA_BBBB_0000_4000_8000_0000_0000_0001);
        let odd = "a \"quoted\" \\ tab\t line\n café \u{2028}";
        let data = CommandData::parse(r#"{"title":"MID","rows":["1. P1 5%"],"x":62.50}"#).unwrap();
        let mut commands = Vec::new();
        for match_id in ["m1", odd] {
            let match_id = match_id.to_string();
            commands.extend([
                GameServerCommand::Return {
                    match_id: match_id.clone(),
                    player,
                    reason: odd.into(),
                },
                GameServerCommand::Spectator {
                    match_id: match_id.clone(),
                    player,
                    spectator: true,
                    model_id: None,
                },
                GameServerCommand::Spectator {
                    match_id: match_id.clone(),
                    player,
                    spectator: false,
                    model_id: Some(odd.into()),
                },
                GameServerCommand::AfkHud {
                    match_id: match_id.clone(),
                    player,
                    afk: true,
                },
                GameServerCommand::AfkHud {
                    match_id: match_id.clone(),
                    player,
                    afk: false,
                },
                GameServerCommand::Message {
                    match_id: match_id.clone(),
                    player,
                    text: odd.into(),
                },
                GameServerCommand::Game {
                    match_id: match_id.clone(),
                    player: Some(player),
                    name: "hud.update".into(),
                    data: Some(data.clone()),
                },
                GameServerCommand::Game {
                    match_id,
                    player: None,
                    name: odd.into(),
                    data: None,
                },
            ]);
        }
        for command in &commands {
            assert_eq!(
                command.to_json_line(),
                serde_json::to_string(command).unwrap(),
                "{command:?}"
            );
        }
    }

    #[test]
    fn command_data_with_line_breaks_is_written_on_one_line() {
        let data = CommandData::parse("{\n  \"text\": \"a\\nb\",\r\n  \"n\": 1\n}").unwrap();
        assert_eq!(data.text(), r#"{"text":"a\nb","n":1}"#);
        assert_eq!(data.to_value(), serde_json::json!({"text": "a\nb", "n": 1}));
    }

    #[test]
    fn command_data_escapes_are_decoded_and_lone_surrogates_refused() {
        let data = CommandData::parse(r#"{"t":"caf\u00e9 \ud83d\ude00"}"#).unwrap();
        assert_eq!(data.to_value(), serde_json::json!({"t": "café 😀"}));
        // serde_json's words: "unexpected end of hex escape" (no low surrogate follows).
        assert!(CommandData::parse(r#"{"t":"\ud800"}"#).is_err());
        assert!(CommandData::parse(r#"["\udc00"]"#).is_err());
    }

    #[test]
    fn command_data_that_is_not_one_json_value_is_refused() {
        for bad in ["", "{", "{} {}", "nope", "[1,]"] {
            assert!(CommandData::parse(bad).is_err(), "{bad:?}");
        }
    }
}
