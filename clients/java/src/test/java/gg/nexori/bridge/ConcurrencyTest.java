package gg.nexori.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** send() from many threads at once, with the client on a real executor. */
@Timeout(30)
class ConcurrencyTest {
    static final UUID ALICE = UUID.fromString("11111111-1111-1111-1111-111111111111");
    final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
    final FakeTransport transport = new FakeTransport();
    final RecordingListener listener = new RecordingListener();

    @AfterEach
    void stop() {
        executor.shutdownNow();
    }

    NexoriBridgeClient client(int maxQueued) {
        return NexoriBridgeClient.builder().uri("ws://127.0.0.1:1").serverName("c").listener(listener)
                .transport(transport).executor(executor).maxQueuedMessages(maxQueued)
                .initialBackoff(Duration.ofMillis(1)).maxBackoff(Duration.ofMillis(2)).build();
    }

    static void awaitTrue(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out");
            Thread.sleep(2);
        }
    }

    static List<Thread> senders(int threads, int each, java.util.function.BiConsumer<Integer, Integer> send) {
        List<Thread> list = new ArrayList<>();
        CountDownLatch go = new CountDownLatch(1);
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < each; i++) {
                    send.accept(thread, i);
                }
            });
            th.start();
            list.add(th);
        }
        go.countDown();
        return list;
    }

    @Test
    void concurrentSendsAllArriveOncePerThreadInOrderOneWriteAtATime() throws Exception {
        transport.asyncComplete = true;
        NexoriBridgeClient c = client(1_000_000);
        c.start();
        awaitTrue(() -> !transport.attempts.isEmpty());
        transport.last().open();
        awaitTrue(c::isConnected);
        int threads = 8, each = 1500;
        for (Thread t : senders(threads, each, (t, i) -> {
            c.send(PlayerArrive.of("t" + t + "-" + i, ALICE));
            c.send(GameEvent.of("t" + t + "-" + i, "tick"));
        })) {
            t.join();
        }
        awaitTrue(() -> c.stats().sent() == 2L * threads * each);
        List<String> sent = transport.last().connection.sent;
        assertEquals(2 * threads * each, sent.size());
        Map<String, Integer> next = new HashMap<>();
        for (String text : sent) {
            var node = Json.MAPPER.readTree(text);
            String[] id = node.get("matchId").asText().split("-");
            String key = id[0] + node.get("type").asText();
            int expected = next.getOrDefault(key, 0);
            assertEquals(expected, Integer.parseInt(id[1]), "order of " + key);
            next.put(key, expected + 1);
        }
        BridgeStats s = c.stats();
        assertEquals(0, s.queued());
        assertEquals(0, s.droppedQueueFull() + s.droppedGameEvents());
    }

    @Test
    void concurrentSendsWhileDisconnectedStayBoundedAndCounted() throws Exception {
        NexoriBridgeClient c = client(100);
        int threads = 8, each = 5000;
        for (Thread t : senders(threads, each, (t, i) -> {
            c.send(PlayerArrive.of("t" + t + "-" + i, ALICE));
            c.send(GameEvent.of("m", "tick"));
        })) {
            t.join();
        }
        BridgeStats s = c.stats();
        assertEquals(100, s.queued());
        assertEquals((long) threads * each - 100, s.droppedQueueFull());
        assertEquals((long) threads * each, s.droppedGameEvents());
    }

    @Test
    void sendNeverWaitsForAStuckNetwork() throws Exception {
        CountDownLatch stuck = new CountDownLatch(1);
        transport.blockSends = stuck;
        NexoriBridgeClient c = client(1000);
        c.start();
        awaitTrue(() -> !transport.attempts.isEmpty());
        transport.last().open();
        awaitTrue(c::isConnected);
        long start = System.nanoTime();
        for (int i = 0; i < 50_000; i++) {
            c.send(PlayerArrive.of("m" + i, ALICE));
        }
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertTrue(millis < 5_000, "send took " + millis + " ms with the network stuck");
        assertTrue(c.stats().queued() <= 1000);
        stuck.countDown();
    }
}
