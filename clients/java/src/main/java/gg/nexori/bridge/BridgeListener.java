package gg.nexori.bridge;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What the host tells the game server. Every method has an empty default body: implement only
 * what the plugin handles.
 *
 * <p>Methods are called on the client's own thread (one at a time, in the order the host sent
 * the commands), never on the server's tick thread: hand work over to the tick thread when the
 * game API requires it, and do not block here. An exception thrown by a method is logged and
 * otherwise ignored.
 */
public interface BridgeListener {
    /** {@code player.return}: send the player back to the lobby. */
    default void onReturn(PlayerReturn command) {}

    /** {@code player.spectator}: make the player a spectator (with {@code modelId}) or not. */
    default void onSpectator(PlayerSpectator command) {}

    /** {@code player.afkHud}: show or hide the AFK HUD. */
    default void onAfkHud(PlayerAfkHud command) {}

    /** {@code player.message}: show {@code text} to the player. */
    default void onMessage(PlayerMessage command) {}

    /** {@code game.command}: do what the mod asked ({@code name}, {@code data}). */
    default void onGameCommand(GameCommand command) {}

    /**
     * The host refused a message. {@code error} is the host's text (e.g. {@code unknown match
     * "m9"}); {@code answeredMessage} is the refused message as the host quoted it: compact JSON
     * when it parsed, else the (possibly truncated) text, or {@code null} when absent.
     */
    default void onError(String error, String answeredMessage) {}

    /**
     * A message of a type this client does not know (the protocol is additive), or a known
     * command whose fields could not be read; the whole JSON object is passed on.
     */
    default void onUnknownCommand(JsonNode command) {}

    /** The WebSocket is open; queued lifecycle messages are being sent. */
    default void onConnected() {}

    /**
     * The connection closed or could not be opened. {@link DisconnectReason#willReconnect()} says
     * whether the client tries again.
     */
    default void onDisconnected(DisconnectReason reason) {}
}
