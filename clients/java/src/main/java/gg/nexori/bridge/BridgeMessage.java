package gg.nexori.bridge;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A message from the game server to the host (docs/bridge-protocol.md, "Messages from the game
 * server"). Each implementation serialises to exactly the JSON the host parses; absent optional
 * fields are left out.
 */
public sealed interface BridgeMessage
        permits MatchCreate, PlayerArrive, PlayerPlaced, PlayerActivity, PlayerDisconnect, GameEvent, MatchEnd {

    /** The message's {@code type} on the wire, e.g. {@code "player.arrive"}. */
    String type();

    /** The message as a JSON object, {@code type} first. */
    ObjectNode toJson();

    /**
     * Whether the client queues this message while disconnected (every message but
     * {@code game.event}, which is dropped and counted instead).
     */
    default boolean isLifecycle() {
        return true;
    }
}
