package gg.nexori.bridge;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;

/** A transport whose connections the test opens, fails and closes by hand. */
final class FakeTransport implements Transport {
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
        /** Every text handed to sendText, in order. */
        final List<String> sent = new CopyOnWriteArrayList<>();
        final List<CompletableFuture<Object>> pending = new ArrayList<>();
        volatile boolean aborted;
        volatile Integer closeCode;

        @Override
        public synchronized CompletableFuture<?> sendText(String text) {
            long outstanding = pending.stream().filter(f -> !f.isDone()).count();
            if (outstanding > 0) {
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
                CompletableFuture.runAsync(() -> f.complete(null));
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
