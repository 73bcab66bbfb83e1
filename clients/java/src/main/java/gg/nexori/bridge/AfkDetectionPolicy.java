package gg.nexori.bridge;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** {@code afkDetectionPolicy} of {@code match.create}: {@code {enabled, inactivityTimeoutSeconds}}. */
public record AfkDetectionPolicy(boolean enabled, int inactivityTimeoutSeconds) {
    ObjectNode toJson() {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("enabled", enabled);
        node.put("inactivityTimeoutSeconds", inactivityTimeoutSeconds);
        return node;
    }
}
