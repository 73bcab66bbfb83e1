package gg.nexori.bridge;

/**
 * Why the connection ended.
 *
 * @param code the WebSocket close code, or {@link #NO_CLOSE_CODE} when the connection failed or
 *     broke without a close frame (refused, handshake failed, network error)
 * @param reason the peer's close reason or the error's description
 * @param meaning what the code means for this protocol (e.g. {@code "too slow a reader"})
 * @param willReconnect whether the client schedules another attempt
 */
public record DisconnectReason(int code, String reason, String meaning, boolean willReconnect) {
    /** No close frame was received. */
    public static final int NO_CLOSE_CODE = -1;
    /** The host found a message (or frame) over {@code bridge.maxMessageBytes}. */
    public static final int MESSAGE_TOO_BIG = 1009;
    /** The host found this server too slow a reader; its commands stay queued for its return. */
    public static final int POLICY_TOO_SLOW = 1008;
    /** A newer connection took this server name. The client stops and does not reconnect. */
    public static final int REPLACED = 4000;

    static String meaningOf(int code) {
        return switch (code) {
            case MESSAGE_TOO_BIG -> "a message was over the host's bridge.maxMessageBytes; it was not read";
            case POLICY_TOO_SLOW -> "too slow a reader: commands piled up unread; they stay queued on the host";
            case REPLACED -> "replaced by a newer connection under the same server name; not reconnecting";
            case 1000 -> "normal closure";
            case 1001 -> "the host is going away";
            case 1006, NO_CLOSE_CODE -> "connection lost or not established";
            default -> "closed with code " + code;
        };
    }
}
