package gg.nexori.bridge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.UUID;

/** One entry of {@code match.create}'s {@code expectedPlayers}: {@code {uuid, name?, assignmentId?}}. */
public record ExpectedPlayer(UUID uuid, String name, String assignmentId) {
    public ExpectedPlayer {
        Json.require(uuid, "expectedPlayers[].uuid");
    }

    public static ExpectedPlayer of(UUID uuid) {
        return new ExpectedPlayer(uuid, null, null);
    }

    public static ExpectedPlayer of(UUID uuid, String name) {
        return new ExpectedPlayer(uuid, name, null);
    }

    ObjectNode toJson() {
        ObjectNode node = Json.MAPPER.createObjectNode();
        Json.put(node, "uuid", uuid);
        Json.put(node, "name", name);
        Json.put(node, "assignmentId", assignmentId);
        return node;
    }
}
