package gg.nexori.bridge;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** {@link Transport} over {@code java.net.http.WebSocket}. */
final class JdkTransport implements Transport {
    /** A command longer than this (in UTF-16 units) breaks the connection; the host's own caps are far lower. */
    static final int MAX_INCOMING_CHARS = 16 * 1024 * 1024;

    private final HttpClient client;
    private final Duration connectTimeout;

    JdkTransport(Duration connectTimeout) {
        this.client = HttpClient.newBuilder().connectTimeout(connectTimeout).build();
        this.connectTimeout = connectTimeout;
    }

    @Override
    public CompletableFuture<Connection> connect(URI uri, Map<String, String> headers, Events events) {
        WebSocket.Builder builder = client.newWebSocketBuilder().connectTimeout(connectTimeout);
        headers.forEach(builder::header);
        return builder.buildAsync(uri, new Listener(events)).thenApply(JdkConnection::new);
    }

    private record JdkConnection(WebSocket ws) implements Connection {
        @Override
        public CompletableFuture<?> sendText(String text) {
            return ws.sendText(text, true);
        }

        @Override
        public CompletableFuture<?> sendClose(int code, String reason) {
            return ws.sendClose(code, reason);
        }

        @Override
        public void abort() {
            ws.abort();
        }
    }

    private static final class Listener implements WebSocket.Listener {
        private final Events events;
        private final StringBuilder partial = new StringBuilder();

        Listener(Events events) {
            this.events = events;
        }

        @Override
        public void onOpen(WebSocket ws) {
            ws.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            if (partial.length() + data.length() > MAX_INCOMING_CHARS) {
                partial.setLength(0);
                ws.abort();
                events.onError(new IllegalStateException("a message from the host is over " + MAX_INCOMING_CHARS + " characters"));
                return null;
            }
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                events.onText(text);
            }
            ws.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
            ws.request(1); // the protocol is text only
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
            events.onClose(statusCode, reason);
            return null;
        }

        @Override
        public void onError(WebSocket ws, Throwable error) {
            events.onError(error);
        }
    }
}
