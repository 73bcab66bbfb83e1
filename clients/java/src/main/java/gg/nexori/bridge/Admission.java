package gg.nexori.bridge;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code admission} of {@code match.create}. {@code backfillMode} is a string as on the wire
 * ({@code NONE}, {@code PLACEMENT_ONLY}, {@code ACTIVE_WINDOW}; the host uppercases it and reads
 * blank as {@code NONE}); {@code null} leaves it out.
 */
public record Admission(int capacity, boolean backfillEnabled, String backfillMode, int backfillWindowSeconds) {
    ObjectNode toJson() {
        ObjectNode node = Json.MAPPER.createObjectNode();
        node.put("capacity", capacity);
        node.put("backfillEnabled", backfillEnabled);
        Json.put(node, "backfillMode", backfillMode);
        node.put("backfillWindowSeconds", backfillWindowSeconds);
        return node;
    }
}
