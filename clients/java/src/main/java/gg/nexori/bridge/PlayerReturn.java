package gg.nexori.bridge;

import java.util.UUID;

/** {@code player.return}: a scheduled return to lobby is due; send the player back to the lobby. */
public record PlayerReturn(String matchId, UUID player, String reason) implements HostCommand {
    public static final String TYPE = "player.return";

    @Override
    public String type() {
        return TYPE;
    }
}
