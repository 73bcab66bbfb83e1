package gg.nexori.bridge;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.UUID;

/**
 * {@code player.arrive}: a player reached the arena for a match. With an
 * {@code admissionReservationId} it is a backfill arrival. {@code null} optional fields are left out.
 */
public record PlayerArrive(
        String matchId,
        UUID player,
        String name,
        String assignmentId,
        String admissionReservationId,
        Long admissionExpiresAtEpochMs)
        implements BridgeMessage {

    public static final String TYPE = "player.arrive";

    public PlayerArrive {
        Json.require(matchId, "matchId");
        Json.require(player, "player");
    }

    public static PlayerArrive of(String matchId, UUID player) {
        return new PlayerArrive(matchId, player, null, null, null, null);
    }

    public static PlayerArrive of(String matchId, UUID player, String name) {
        return new PlayerArrive(matchId, player, name, null, null, null);
    }

    /** A backfill arrival, admitted by a reservation that expires at {@code expiresAtEpochMs}. */
    public static PlayerArrive backfill(String matchId, UUID player, String name, String reservationId, long expiresAtEpochMs) {
        return new PlayerArrive(matchId, player, name, null, reservationId, expiresAtEpochMs);
    }

    public PlayerArrive withAssignmentId(String v) {
        return new PlayerArrive(matchId, player, name, v, admissionReservationId, admissionExpiresAtEpochMs);
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
        Json.put(node, "name", name);
        Json.put(node, "assignmentId", assignmentId);
        Json.put(node, "admissionReservationId", admissionReservationId);
        Json.put(node, "admissionExpiresAtEpochMs", admissionExpiresAtEpochMs);
        return node;
    }
}
