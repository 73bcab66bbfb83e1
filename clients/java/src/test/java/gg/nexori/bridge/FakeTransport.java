package gg.nexori.bridge;

import java.net.URI;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;

/** A transport whose connections the test opens, fails and closes by hand. */
final class FakeTransport implements Transport {
    /**
     * Completes async sends: one long-lived thread, like a transport's I/O thread. Not
     * CompletableFuture.runAsync: with fewer than 3 CPUs the common pool's parallelism is 1, and
     * then runAsync starts a new Thread per task, which made ConcurrencyTest start 24000 threads
     * and miss its deadline on a loaded machine.
     */
    static final Executor NETWORK = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "fake-network");
        t.setDaemon(true);
        return t;
    });

    final List<Attempt> attempts = new CopyOnWriteArrayList<>();
    /** When set, sends complete at once (for the concurrency test). */
    volatile boolean autoComplete;
    /** When set, sends complete a moment later on another thread. */
    volatile boolean asyncComplete;
    /** When set, sendText blocks until it opens (a stuck network). */
    volatile java.util.concurrent.CountDownLatch blockSends;

    final class Attempt {
        final URI uri;
        final Map<String, String> headers;
        final Events events;
        final CompletableFuture<Connection> future = new CompletableFuture<>();
        final FakeConnection connection = new FakeConnection();

        Attempt(URI uri, Map<String, String> headers, Events events) {
            this.uri = uri;
            this.headers = headers;
            this.events = events;
        }

        void open() {
            future.complete(connection);
        }

        void fail(Throwable t) {
            future.completeExceptionally(t);
        }
    }

    final class FakeConnection implements Connection {
        /** Every text handed to sendText, in order (not copy-on-write: 24000 adds would copy O(n^2)). */
        final List<String> sent = Collections.synchronizedList(new ArrayList<>());
        final List<CompletableFuture<Object>> pending = new ArrayList<>();
        volatile boolean aborted;
        volatile Integer closeCode;

        @Override
        public synchronized CompletableFuture<?> sendText(String text) {
            // Every earlier send was checked the same way, so only the latest can be outstanding:
            // checking it alone is exact, and keeps a send O(1) (the concurrency test makes 24000).
            if (!pending.isEmpty() && !pending.get(pending.size() - 1).isDone()) {
                throw new IllegalStateException("send while another is outstanding");
            }
            java.util.concurrent.CountDownLatch block = blockSends;
            if (block != null) {
                try {
                    block.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            sent.add(text);
            CompletableFuture<Object> f = new CompletableFuture<>();
            if (autoComplete) {
                f.complete(null);
            } else if (asyncComplete) {
                NETWORK.execute(() -> f.complete(null));
            }
            pending.add(f);
            return f;
        }

        /** Completes every outstanding send. */
        synchronized void completeSends() {
            pending.forEach(f -> f.complete(null));
        }

        @Override
        public CompletableFuture<?> sendClose(int code, String reason) {
            closeCode = code;
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public void abort() {
            aborted = true;
        }
    }

    @Override
    public CompletableFuture<Connection> connect(URI uri, Map<String, String> headers, Events events) {
        Attempt a = new Attempt(uri, headers, events);
        attempts.add(a);
        return a.future;
    }

    Attempt last() {
        return attempts.get(attempts.size() - 1);
    }
}
