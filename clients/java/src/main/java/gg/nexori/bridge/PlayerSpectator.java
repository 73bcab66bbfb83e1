package gg.nexori.bridge;

import java.util.UUID;

/**
 * {@code player.spectator}: the player's spectator state changed; {@code modelId} is {@code null}
 * when the mod chose no model.
 */
public record PlayerSpectator(String matchId, UUID player, boolean spectator, String modelId) implements HostCommand {
    public static final String TYPE = "player.spectator";

    @Override
    public String type() {
        return TYPE;
    }
}
