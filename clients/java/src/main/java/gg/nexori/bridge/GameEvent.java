package gg.nexori.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.UUID;

/**
 * {@code game.event}: a gameplay event for the mod that owns the match. {@code player} and
 * {@code data} (any JSON) may be {@code null}. The client serialises it when
 * {@link NexoriBridgeClient#send} is called, so mutating {@code data} afterwards has no effect.
 * Not queued while disconnected: dropped and counted.
 */
public record GameEvent(String matchId, String kind, UUID player, JsonNode data) implements BridgeMessage {

    public static final String TYPE = "game.event";

    public GameEvent {
        Json.require(matchId, "matchId");
        Json.require(kind, "kind");
    }

    public static GameEvent of(String matchId, String kind) {
        return new GameEvent(matchId, kind, null, null);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public boolean isLifecycle() {
        return false;
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode node = Json.object(TYPE);
        node.put("matchId", matchId);
        node.put("kind", kind);
        Json.put(node, "player", player);
        Json.put(node, "data", data);
        return node;
    }
}
