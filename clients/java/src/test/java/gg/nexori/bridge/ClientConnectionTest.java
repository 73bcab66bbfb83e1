package gg.nexori.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The connection logic, driven through a fake transport on virtual time. */
class ClientConnectionTest {
    static final UUID ALICE = UUID.fromString("11111111-1111-1111-1111-111111111111");

    final FakeScheduler scheduler = new FakeScheduler();
    final FakeTransport transport = new FakeTransport();
    final RecordingListener listener = new RecordingListener();

    NexoriBridgeClient client() {
        return client(b -> {});
    }

    NexoriBridgeClient client(java.util.function.Consumer<NexoriBridgeClient.Builder> tweak) {
        NexoriBridgeClient.Builder b = NexoriBridgeClient.builder()
                .uri("ws://127.0.0.1:7420")
                .serverName("arena 1")
                .token("s3cret")
                .listener(listener)
                .random(BackoffTest.MAX)
                .initialBackoff(Duration.ofMillis(100))
                .maxBackoff(Duration.ofMillis(1000))
                .transport(transport)
                .scheduler(scheduler);
        tweak.accept(b);
        return b.build();
    }

    static PlayerArrive arrive(int i) {
        return PlayerArrive.of("m" + i, ALICE);
    }

    static String arriveJson(int i) {
        return "{\"type\":\"player.arrive\",\"matchId\":\"m" + i + "\",\"player\":\"11111111-1111-1111-1111-111111111111\"}";
    }

    /** Opens the latest attempt and lets the client react. */
    void open() {
        transport.last().open();
        scheduler.runDue();
    }

    /** Completes outstanding sends until nothing more goes out. */
    void flush() {
        while (true) {
            FakeTransport.FakeConnection c = transport.last().connection;
            int before = c.sent.size();
            c.completeSends();
            scheduler.runDue();
            if (c.sent.size() == before) {
                return;
            }
        }
    }

    @Test
    void connectsToBridgeWithNameAndBearerToken() {
        NexoriBridgeClient c = client();
        assertEquals(URI.create("ws://127.0.0.1:7420/bridge?server=arena%201"), c.connectUri());
        c.start();
        scheduler.runDue();
        assertEquals(1, transport.attempts.size());
        assertEquals(URI.create("ws://127.0.0.1:7420/bridge?server=arena%201"), transport.last().uri);
        assertEquals(Map.of("Authorization", "Bearer s3cret"), transport.last().headers);
        open();
        assertTrue(c.isConnected());
        assertEquals(List.of(new RecordingListener.Connected()), listener.events);
    }

    @Test
    void bridgeUriRules() {
        assertEquals(URI.create("ws://h:1/bridge"), NexoriBridgeClient.bridgeUri(URI.create("ws://h:1"), null));
        assertEquals(URI.create("ws://h:1/bridge"), NexoriBridgeClient.bridgeUri(URI.create("ws://h:1/"), " "));
        assertEquals(URI.create("wss://h/x/bridge?server=a%26b"),
                NexoriBridgeClient.bridgeUri(URI.create("wss://h/x/bridge?server=old"), "a&b"));
        assertThrows(IllegalArgumentException.class, () -> NexoriBridgeClient.bridgeUri(URI.create("http://h"), "a"));
        assertThrows(IllegalArgumentException.class, () -> NexoriBridgeClient.bridgeUri(URI.create("ws://h"), "x".repeat(129)));
    }

    @Test
    void sendsInOrderOneAtATime() throws Exception {
        NexoriBridgeClient c = client();
        c.start();
        scheduler.runDue();
        open();
        for (int i = 0; i < 5; i++) {
            assertTrue(c.send(arrive(i)));
        }
        scheduler.runDue();
        FakeTransport.FakeConnection conn = transport.last().connection;
        assertEquals(1, conn.sent.size(), "only one send outstanding");
        flush();
        List<String> want = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            want.add(arriveJson(i));
        }
        assertEquals(want, conn.sent);
        assertEquals(5, c.stats().sent());
        assertEquals(0, c.stats().queued());
    }

    @Test
    void lifecycleQueuedWhileDisconnectedAndSentInOrderOnReconnect() {
        NexoriBridgeClient c = client();
        c.start();
        scheduler.runDue();
        // not connected yet: lifecycle queued, game events dropped
        assertTrue(c.send(arrive(0)));
        assertFalse(c.send(GameEvent.of("m0", "tick")));
        assertTrue(c.send(arrive(1)));
        assertEquals(2, c.stats().queued());
        assertEquals(1, c.stats().droppedGameEvents());
        open();
        flush();
        assertEquals(List.of(arriveJson(0), arriveJson(1)), transport.last().connection.sent);

        // connected: events go out; then the connection drops with one send outstanding
        c.send(GameEvent.of("m1", "tick"));
        c.send(arrive(2));
        c.send(GameEvent.of("m1", "tick"));
        c.send(arrive(3));
        scheduler.runDue();
        FakeTransport.FakeConnection first = transport.last().connection;
        assertEquals(3, first.sent.size()); // the first tick is outstanding
        transport.last().events.onClose(1006, "");
        scheduler.runDue();
        // the outstanding tick and the queued tick are dropped, arrive 2 and 3 wait
        assertEquals(3, c.stats().droppedGameEvents());
        assertEquals(2, c.stats().queued());
        c.send(arrive(4));
        assertFalse(c.send(GameEvent.of("m1", "tick")));

        scheduler.advance(100); // backoff ceiling for attempt 0 with MAX jitter
        assertEquals(2, transport.attempts.size());
        open();
        flush();
        assertEquals(List.of(arriveJson(2), arriveJson(3), arriveJson(4)), transport.last().connection.sent);
        assertEquals(2, c.stats().connects());
        assertEquals(1, c.stats().disconnects());
    }

    @Test
    void outstandingLifecycleMessageIsResentFirstAfterReconnect() {
        NexoriBridgeClient c = client();
        c.start();
        scheduler.runDue();
        open();
        c.send(arrive(0));
        c.send(arrive(1));
        scheduler.runDue();
        assertEquals(List.of(arriveJson(0)), transport.last().connection.sent);
        transport.last().events.onError(new IOException("connection reset"));
        scheduler.runDue();
        DisconnectReason r = (DisconnectReason) listener.last();
        assertEquals(DisconnectReason.NO_CLOSE_CODE, r.code());
        assertTrue(r.reason().contains("connection reset"), r.reason());
        assertTrue(r.willReconnect());
        assertTrue(transport.attempts.get(0).connection.aborted);
        // a late completion of the dead connection's send changes nothing
        transport.attempts.get(0).connection.completeSends();
        scheduler.runDue();
        assertEquals(0, c.stats().sent());
        scheduler.advance(100);
        open();
        flush();
        assertEquals(List.of(arriveJson(0), arriveJson(1)), transport.last().connection.sent);
    }

    @Test
    void failedSendDropsTheConnectionAndRequeues() {
        NexoriBridgeClient c = client();
        c.start();
        scheduler.runDue();
        open();
        c.send(arrive(0));
        scheduler.runDue();
        transport.last().connection.pending.get(0).completeExceptionally(new IOException("broken pipe"));
        scheduler.runDue();
        assertFalse(c.isConnected());
        assertTrue(transport.last().connection.aborted);
        assertEquals(1, c.stats().queued());
        scheduler.advance(100);
        open();
        flush();
        assertEquals(List.of(arriveJson(0)), transport.last().connection.sent);
    }

    @Test
    void reconnectDelaysFollowTheBackoffAndResetAfterAConnection() {
        NexoriBridgeClient c = client();
        c.start();
        scheduler.runDue();
        for (int i = 0; i < 6; i++) {
            transport.last().fail(new IOException("refused"));
            scheduler.runDue();
            long delay = scheduler.scheduledDelays.get(scheduler.scheduledDelays.size() - 1);
            scheduler.advance(delay - 1);
            assertEquals(i + 1, transport.attempts.size(), "no attempt before the delay");
            scheduler.advance(1);
            assertEquals(i + 2, transport.attempts.size());
        }
        assertEquals(List.of(100L, 200L, 400L, 800L, 1000L, 1000L), scheduler.scheduledDelays);
        open();
        transport.last().events.onClose(1001, "going away");
        scheduler.runDue();
        assertEquals(100L, scheduler.scheduledDelays.get(6));
        DisconnectReason r = (DisconnectReason) listener.last();
        assertEquals(1001, r.code());
        assertEquals(7, c.stats().disconnects());
        assertEquals(1, c.stats().connects());
    }

    @Test
    void replacedByANewerConnectionStopsWithoutReconnecting() {
        NexoriBridgeClient c = client();
        c.start();
        scheduler.runDue();
        open();
        transport.last().events.onClose(4000, "replaced by a newer connection under the same server name");
        scheduler.runDue();
        DisconnectReason r = (DisconnectReason) listener.last();
        assertEquals(DisconnectReason.REPLACED, r.code());
        assertFalse(r.willReconnect());
        assertTrue(r.meaning().contains("not reconnecting"));
        scheduler.advance(3_600_000);
        assertEquals(1, transport.attempts.size(), "no reconnect storm");
        assertEquals(0, scheduler.pendingTimers());
        // lifecycle messages keep queueing; start() connects again and sends them
        assertTrue(c.send(arrive(7)));
        assertFalse(c.send(GameEvent.of("m7", "tick")));
        c.start();
        scheduler.runDue();
        assertEquals(2, transport.attempts.size());
        open();
        flush();
        assertEquals(List.of(arriveJson(7)), transport.last().connection.sent);
    }

    @Test
    void closeCodes1008And1009AreReportedWithTheirMeaningAndReconnect() {
        NexoriBridgeClient c = client();
        c.start();
        scheduler.runDue();
        open();
        transport.last().events.onClose(1008, "too slow a reader");
        scheduler.runDue();
        DisconnectReason slow = (DisconnectReason) listener.last();
        assertEquals(1008, slow.code());
        assertEquals("too slow a reader", slow.reason());
        assertTrue(slow.meaning().startsWith("too slow a reader"), slow.meaning());
        assertTrue(slow.willReconnect());
        scheduler.advance(100);
        open();
        c.send(arrive(1));
        scheduler.runDue();
        transport.last().events.onClose(1009, "message of 300000 bytes is over the limit of 262144");
        scheduler.runDue();
        DisconnectReason big = (DisconnectReason) listener.last();
        assertEquals(1009, big.code());
        assertTrue(big.meaning().contains("maxMessageBytes"), big.meaning());
        assertTrue(big.willReconnect());
        assertEquals(1, c.stats().droppedTooLarge(), "the message being written is not resent");
        assertEquals(0, c.stats().queued());
        scheduler.advance(100);
        assertEquals(3, transport.attempts.size());
    }

    @Test
    void fullQueueDropsTheOldestAndCountsIt() {
        NexoriBridgeClient c = client(b -> b.maxQueuedMessages(3));
        for (int i = 0; i < 10; i++) {
            assertTrue(c.send(arrive(i)));
        }
        BridgeStats s = c.stats();
        assertEquals(3, s.queued());
        assertEquals(7, s.droppedQueueFull());
        c.start();
        scheduler.runDue();
        open();
        flush();
        assertEquals(List.of(arriveJson(7), arriveJson(8), arriveJson(9)), transport.last().connection.sent);
    }

    @Test
    void queueIsBoundedInBytesToo() {
        int one = NexoriBridgeClient.utf8Length(arriveJson(0));
        NexoriBridgeClient c = client(b -> b.maxMessageBytes(one).maxQueuedBytes(one * 4L + 1));
        for (int i = 0; i < 100_000; i++) {
            c.send(arrive(i % 10));
        }
        BridgeStats s = c.stats();
        assertEquals(4, s.queued());
        assertTrue(s.queuedBytes() <= one * 4L + 1);
        assertEquals(100_000 - 4, s.droppedQueueFull());
    }

    @Test
    void oversizedMessagesAreRefused() {
        NexoriBridgeClient c = client(b -> b.maxMessageBytes(100));
        assertFalse(c.send(new PlayerDisconnect(ALICE, "x".repeat(200))));
        assertTrue(c.send(new PlayerDisconnect(ALICE, "short")));
        assertEquals(1, c.stats().droppedTooLarge());
        assertEquals(1, c.stats().queued());
    }

    @Test
    void commandsAndErrorsReachTheListenerOnlyFromTheCurrentConnection() {
        NexoriBridgeClient c = client();
        c.start();
        scheduler.runDue();
        open();
        transport.last().events.onText("{\"type\":\"player.afkHud\",\"matchId\":\"m1\",\"player\":\"11111111-1111-1111-1111-111111111111\",\"afk\":true}");
        transport.last().events.onText("{\"type\":\"error\",\"error\":\"unknown match \\\"m9\\\"\",\"message\":{\"type\":\"match.end\",\"matchId\":\"m9\"}}");
        scheduler.runDue();
        assertEquals(new PlayerAfkHud("m1", ALICE, true), listener.events.get(1));
        assertEquals(new RecordingListener.Error("unknown match \"m9\"", "{\"type\":\"match.end\",\"matchId\":\"m9\"}"),
                listener.events.get(2));
        assertEquals(1, c.stats().commandsReceived());
        assertEquals(1, c.stats().errorReplies());
        FakeTransport.Attempt old = transport.last();
        old.events.onClose(1006, "");
        scheduler.runDue();
        old.events.onText("{\"type\":\"player.afkHud\",\"matchId\":\"m1\",\"player\":\"11111111-1111-1111-1111-111111111111\",\"afk\":false}");
        scheduler.runDue();
        assertEquals(1, c.stats().commandsReceived(), "a dead connection's late message is ignored");
    }

    @Test
    void aThrowingListenerDoesNotBreakTheClient() {
        BridgeListener bad = new BridgeListener() {
            @Override public void onConnected() { throw new RuntimeException("boom"); }
            @Override public void onAfkHud(PlayerAfkHud c) { throw new RuntimeException("boom"); }
        };
        NexoriBridgeClient c = client(b -> b.listener(bad));
        c.start();
        scheduler.runDue();
        open();
        transport.last().events.onText("{\"type\":\"player.afkHud\",\"matchId\":\"m1\",\"player\":\"11111111-1111-1111-1111-111111111111\",\"afk\":true}");
        scheduler.runDue();
        c.send(arrive(1));
        flush();
        assertEquals(List.of(arriveJson(1)), transport.last().connection.sent);
    }

    @Test
    void closeFlushesTheQueueThenClosesWith1000() throws Exception {
        NexoriBridgeClient c = client();
        c.start();
        scheduler.runDue();
        open();
        c.send(arrive(0));
        c.send(arrive(1));
        CompletableFuture<Void> closed = c.closeAsync();
        assertFalse(c.send(arrive(2)), "nothing accepted after close");
        flush();
        assertTrue(closed.isDone());
        FakeTransport.FakeConnection conn = transport.last().connection;
        assertEquals(List.of(arriveJson(0), arriveJson(1)), conn.sent);
        assertEquals(1000, conn.closeCode);
        assertTrue(conn.aborted);
        assertEquals(1, c.stats().droppedClosed());
        assertEquals(0, scheduler.pendingTimers());
    }

    @Test
    void closeGivesUpFlushingAfterTheTimeout() {
        NexoriBridgeClient c = client(b -> b.closeTimeout(Duration.ofMillis(500)));
        c.start();
        scheduler.runDue();
        open();
        c.send(arrive(0));
        c.send(arrive(1));
        CompletableFuture<Void> closed = c.closeAsync();
        scheduler.runDue();
        assertFalse(closed.isDone());
        scheduler.advance(500); // the host never acknowledges the write
        assertTrue(closed.isDone());
        assertEquals(2, c.stats().droppedClosed());
    }

    @Test
    void closeWhileDisconnectedDoesNotWait() {
        NexoriBridgeClient c = client();
        c.start();
        scheduler.runDue();
        transport.last().fail(new IOException("refused"));
        scheduler.runDue();
        c.send(arrive(0));
        CompletableFuture<Void> closed = c.closeAsync();
        scheduler.runDue();
        assertTrue(closed.isDone());
        assertEquals(1, c.stats().droppedClosed());
        scheduler.advance(60_000);
        assertEquals(1, transport.attempts.size(), "no reconnect after close");
        // a connection that completes after close is dropped at once
        NexoriBridgeClient c2 = client();
        c2.start();
        scheduler.runDue();
        c2.closeAsync();
        scheduler.runDue();
        open();
        assertTrue(transport.last().connection.aborted);
        assertFalse(c2.isConnected());
    }
}
