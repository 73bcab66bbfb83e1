package gg.nexori.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Against a real {@code nexori serve}: runs only when the system property {@code nexori.bin}
 * names the binary ({@code NEXORI_BIN=target/debug/nexori clients/java/build.sh}).
 */
@Timeout(120)
class LiveServeTest {
    static final String TOKEN = "live-test-token";
    static Process serve;
    static Path dir;
    static int port;

    /** Collects everything the listener hears. */
    static final class Queue implements BridgeListener {
        final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
        @Override public void onConnected() { events.add("connected"); }
        @Override public void onDisconnected(DisconnectReason r) { events.add(r); }
        @Override public void onError(String error, String message) { events.add(new RecordingListener.Error(error, message)); }
        @Override public void onUnknownCommand(com.fasterxml.jackson.databind.JsonNode c) { events.add(c); }

        <T> T next(Class<T> type, java.util.function.Predicate<T> match) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                Object e = events.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                assertNotNull(e, "timed out waiting for a " + type.getSimpleName());
                if (type.isInstance(e) && match.test(type.cast(e))) {
                    return type.cast(e);
                }
            }
        }
    }

    @BeforeAll
    static void startServe() throws Exception {
        String bin = System.getProperty("nexori.bin", "");
        Assumptions.assumeTrue(!bin.isBlank() && Files.isExecutable(Path.of(bin)),
                "set -Dnexori.bin=/path/to/nexori (NEXORI_BIN for build.sh) to run against nexori serve");
        dir = Files.createTempDirectory("nexori-live");
        Files.createDirectories(dir.resolve("mods"));
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path config = dir.resolve("nexori.toml");
        Files.writeString(config, String.join("\n",
                "modsDir = \"" + dir.resolve("mods") + "\"",
                "dataDir = \"" + dir.resolve("data") + "\"",
                "[bridge]",
                "listen = \"127.0.0.1:" + port + "\"",
                "token = \"" + TOKEN + "\"",
                ""));
        serve = new ProcessBuilder(bin, "serve", "--config", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(dir.resolve("serve.log").toFile())
                .start();
    }

    @AfterAll
    static void stopServe() throws Exception {
        if (serve != null) {
            serve.destroy();
            if (!serve.waitFor(15, TimeUnit.SECONDS)) {
                serve.destroyForcibly();
            }
        }
    }

    static NexoriBridgeClient client(String name, String token, BridgeListener listener) {
        return NexoriBridgeClient.builder().uri("ws://127.0.0.1:" + port).serverName(name).token(token)
                .listener(listener).initialBackoff(Duration.ofMillis(50)).maxBackoff(Duration.ofMillis(250))
                .closeTimeout(Duration.ofSeconds(2)).build();
    }

    static String log() {
        try {
            return Files.readString(dir.resolve("serve.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }

    @Test
    void errorRepliesReachOnError() throws Exception {
        Queue q = new Queue();
        try (NexoriBridgeClient c = client("live-errors", TOKEN, q)) {
            c.start();
            q.next(String.class, "connected"::equals);
            c.send(MatchCreate.builder("live-m1").queueId("q").arenaId("a").rulesEngineId("no-such-engine")
                    .expectedPlayer(UUID.fromString("11111111-1111-1111-1111-111111111111"), "Alice").build());
            c.send(PlayerArrive.of("no-such-match", UUID.fromString("22222222-2222-2222-2222-222222222222")));
            RecordingListener.Error e = q.next(RecordingListener.Error.class,
                    x -> x.answeredMessage() != null && x.answeredMessage().contains("\"player.arrive\""));
            assertEquals("unknown match \"no-such-match\"", e.error(), log());
            assertEquals(Json.MAPPER.readTree("""
                    {"type":"player.arrive","matchId":"no-such-match","player":"22222222-2222-2222-2222-222222222222"}"""),
                    Json.MAPPER.readTree(e.answeredMessage()));
            assertTrue(c.stats().errorReplies() >= 1);
        }
    }

    @Test
    void aBadTokenIsReportedAsHttp401() throws Exception {
        Queue q = new Queue();
        try (NexoriBridgeClient c = client("live-badtoken", "wrong", q)) {
            c.start();
            DisconnectReason r = q.next(DisconnectReason.class, x -> true);
            assertTrue(r.reason().startsWith("HTTP 401"), r.reason());
            assertTrue(r.willReconnect());
        }
    }

    @Test
    void aNewerConnectionUnderTheSameNameStopsTheOlderOne() throws Exception {
        Queue first = new Queue();
        Queue second = new Queue();
        try (NexoriBridgeClient a = client("live-replaced", TOKEN, first);
             NexoriBridgeClient b = client("live-replaced", TOKEN, second)) {
            a.start();
            first.next(String.class, "connected"::equals);
            b.start();
            second.next(String.class, "connected"::equals);
            DisconnectReason r = first.next(DisconnectReason.class, x -> true);
            assertEquals(DisconnectReason.REPLACED, r.code(), r.toString());
            assertFalse(r.willReconnect());
            Thread.sleep(500);
            assertTrue(b.isConnected(), "the newer connection stays");
            assertFalse(a.isConnected());
        }
    }
}
