package gg.nexori.bridge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.UUID;

/** {@code player.disconnect}: the player left the server; {@code reason} may be {@code null}. */
public record PlayerDisconnect(UUID player, String reason) implements BridgeMessage {

    public static final String TYPE = "player.disconnect";

    public PlayerDisconnect {
        Json.require(player, "player");
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode node = Json.object(TYPE);
        Json.put(node, "player", player);
        Json.put(node, "reason", reason);
        return node;
    }
}
