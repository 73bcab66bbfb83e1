package gg.nexori.bridge;

import com.fasterxml.jackson.databind.node.ObjectNode;

/** {@code match.end}: an operator ends the match; {@code reason} may be {@code null} ({@code MATCH_ENDED}). */
public record MatchEnd(String matchId, String reason) implements BridgeMessage {

    public static final String TYPE = "match.end";

    public MatchEnd {
        Json.require(matchId, "matchId");
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode node = Json.object(TYPE);
        node.put("matchId", matchId);
        Json.put(node, "reason", reason);
        return node;
    }
}
