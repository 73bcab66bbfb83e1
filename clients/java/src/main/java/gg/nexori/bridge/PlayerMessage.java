package gg.nexori.bridge;

import java.util.UUID;

/** {@code player.message}: tell the player {@code text}. */
public record PlayerMessage(String matchId, UUID player, String text) implements HostCommand {
    public static final String TYPE = "player.message";

    @Override
    public String type() {
        return TYPE;
    }
}
