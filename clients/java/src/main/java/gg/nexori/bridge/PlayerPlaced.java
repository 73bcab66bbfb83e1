package gg.nexori.bridge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.UUID;

/** {@code player.placed}: the player's initial placement reached a terminal outcome. */
public record PlayerPlaced(
        String matchId,
        UUID player,
        PlacementOutcome outcome,
        String worldName,
        String instanceTemplateId)
        implements BridgeMessage {

    public static final String TYPE = "player.placed";

    public PlayerPlaced {
        Json.require(matchId, "matchId");
        Json.require(player, "player");
    }

    /** A placement with no outcome given (the host reads it as {@code CONFIRMED}). */
    public static PlayerPlaced of(String matchId, UUID player) {
        return new PlayerPlaced(matchId, player, null, null, null);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode node = Json.object(TYPE);
        node.put("matchId", matchId);
        Json.put(node, "player", player);
        Json.put(node, "outcome", outcome);
        Json.put(node, "worldName", worldName);
        Json.put(node, "instanceTemplateId", instanceTemplateId);
        return node;
    }
}
