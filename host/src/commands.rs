//! Commands from the host to the game server (bridge-protocol.md, "Commands from the host to
//! the game server"). The same values go out over the bridge and into the simulation trace.

use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// One command for the game server. Serialises as the bridge message, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type")]
pub enum GameServerCommand {
    /// A scheduled return to lobby is due.
    #[serde(rename = "player.return", rename_all = "camelCase")]
    Return {
        match_id: String,
        player: Uuid,
        reason: String,
    },
    /// `setPlayerSpectator` changed the player's state.
    #[serde(rename = "player.spectator", rename_all = "camelCase")]
    Spectator {
        match_id: String,
        player: Uuid,
        spectator: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        model_id: Option<String>,
    },
    /// AFK state changed and the HUD should show or hide.
    #[serde(rename = "player.afkHud", rename_all = "camelCase")]
    AfkHud {
        match_id: String,
        player: Uuid,
        afk: bool,
    },
    /// The host tells a player something.
    #[serde(rename = "player.message", rename_all = "camelCase")]
    Message {
        match_id: String,
        player: Uuid,
        text: String,
    },
    /// A mod asked the game to do something.
    #[serde(rename = "game.command", rename_all = "camelCase")]
    Game {
        match_id: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        player: Option<Uuid>,
        name: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<Value>,
    },
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
