package gg.nexori.bridge;

import java.net.URI;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** The WebSocket, behind an interface so tests can drive the client without a network. Internal. */
interface Transport {
    /** Opens a connection; {@code events} receives what arrives on it (from any thread). */
    CompletableFuture<Connection> connect(URI uri, Map<String, String> headers, Events events);

    interface Connection {
        /** Sends one whole text message; at most one send may be outstanding. */
        CompletableFuture<?> sendText(String text);

        /** Starts a graceful close. */
        CompletableFuture<?> sendClose(int code, String reason);

        /** Drops the connection at once. */
        void abort();
    }

    interface Events {
        /** One whole text message. */
        void onText(String text);

        /** The peer closed the connection. */
        void onClose(int code, String reason);

        /** The connection broke. */
        void onError(Throwable error);
    }
}
