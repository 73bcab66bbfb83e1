package gg.nexori.bridge;

import java.util.UUID;

/** {@code player.afkHud}: AFK state changed; show ({@code afk}) or hide the AFK HUD. */
public record PlayerAfkHud(String matchId, UUID player, boolean afk) implements HostCommand {
    public static final String TYPE = "player.afkHud";

    @Override
    public String type() {
        return TYPE;
    }
}
