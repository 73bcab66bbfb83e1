package gg.nexori.bridge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.UUID;

/** {@code player.activity}: input from the player, for AFK detection. */
public record PlayerActivity(UUID player, ActivitySource source) implements BridgeMessage {

    public static final String TYPE = "player.activity";

    public PlayerActivity {
        Json.require(player, "player");
    }

    /** Activity with no source given (the host reads it as {@code PLAYER_INPUT}). */
    public static PlayerActivity of(UUID player) {
        return new PlayerActivity(player, null);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode node = Json.object(TYPE);
        Json.put(node, "player", player);
        Json.put(node, "source", source);
        return node;
    }
}
