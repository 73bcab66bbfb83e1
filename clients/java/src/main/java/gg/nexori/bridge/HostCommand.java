package gg.nexori.bridge;

import java.util.UUID;

/**
 * A command from the host to the game server (docs/bridge-protocol.md, "Commands from the host to
 * the game server"). Delivered to the matching {@link BridgeListener} method.
 */
public sealed interface HostCommand permits PlayerReturn, PlayerSpectator, PlayerAfkHud, PlayerMessage, GameCommand {
    /** The command's {@code type} on the wire. */
    String type();

    /** The match the command is about. */
    String matchId();

    /** The player the command is about; {@code null} only for a {@code game.command} without one. */
    UUID player();
}
