package gg.nexori.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/**
 * {@code game.command}: a mod asked the game to do something. {@code name} is the mod's own
 * vocabulary; {@code player} and {@code data} (the mod's JSON) are {@code null} when absent.
 */
public record GameCommand(String matchId, UUID player, String name, JsonNode data) implements HostCommand {
    public static final String TYPE = "game.command";

    @Override
    public String type() {
        return TYPE;
    }
}
