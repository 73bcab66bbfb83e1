package gg.nexori.bridge;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.WebSocketHandshakeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.random.RandomGenerator;

/**
 * Client of the {@code nexori serve} WebSocket bridge (docs/bridge-protocol.md).
 *
 * <pre>{@code
 * NexoriBridgeClient client = NexoriBridgeClient.builder()
 *         .uri("ws://127.0.0.1:7420/bridge").serverName("arena-1").token(token)
 *         .listener(myListener).build();
 * client.start();
 * client.send(PlayerArrive.of("m1", uuid));   // from any thread; never blocks
 * client.close();                             // flushes for up to closeTimeout
 * }</pre>
 *
 * <h2>Delivery</h2>
 * <ul>
 *   <li>{@link #send} serialises the message, puts it in one bounded queue and returns; the
 *       client's own thread writes to the socket, one message at a time, in {@code send} order.
 *   <li>While not connected, lifecycle messages (everything but {@code game.event}) stay queued
 *       and go out in order after the next connection; {@code game.event}s are dropped and
 *       counted ({@link BridgeStats#droppedGameEvents()}), including those still queued when the
 *       connection drops.
 *   <li>The queue holds at most {@code maxQueuedMessages} messages and {@code maxQueuedBytes}
 *       bytes; when full, the oldest message is dropped and counted
 *       ({@link BridgeStats#droppedQueueFull()}). {@code send} never waits.
 *   <li>A message whose write had not completed when the connection dropped is sent again after
 *       reconnecting (at least once); the bridge has no acknowledgements, so a message written
 *       just before a drop can still be lost.
 * </ul>
 *
 * <h2>Reconnecting</h2>
 * Exponential backoff with full jitter: attempt {@code n} after a failure waits a uniform random
 * time in {@code [0, min(maxBackoff, initialBackoff * 2^n)]}; a successful connection resets
 * {@code n}. Close code 4000 (replaced by a newer connection under the same server name) stops
 * the client instead: two processes sharing a name would otherwise take the name from each other
 * forever. It is reported with {@code willReconnect == false}; lifecycle messages keep queueing
 * (bounded) and {@link #start()} connects again. 1008 (too slow a reader) and 1009 (message too
 * big; the message being written is dropped, not resent) are reported with their meaning and
 * followed by a normal reconnect.
 */
public final class NexoriBridgeClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NexoriBridgeClient.class.getName());

    private enum State { NEW, CONNECTING, CONNECTED, WAITING, STOPPED, CLOSING, CLOSED }

    private record Outgoing(String text, int bytes, boolean lifecycle) {}

    private final URI connectUri;
    private final Map<String, String> headers;
    private final BridgeListener listener;
    private final Transport transport;
    private final Scheduler scheduler;
    private final ScheduledExecutorService ownedExecutor;
    private final Backoff backoff;
    private final int maxQueuedMessages;
    private final long maxQueuedBytes;
    private final int maxMessageBytes;
    private final long closeTimeoutMillis;

    private final Object lock = new Object();
    // Everything below is guarded by lock.
    private State state = State.NEW;
    private final ArrayDeque<Outgoing> queue = new ArrayDeque<>();
    private long queuedBytes;
    private Transport.Connection connection;
    private Outgoing inFlight;
    private boolean pumpScheduled;
    private long generation;
    private int attempt;
    private Scheduler.Cancellable pendingTask;
    private CompletableFuture<Void> closeFuture;
    private long sent, droppedQueueFull, droppedGameEvents, droppedTooLarge, droppedClosed;
    private long connects, disconnects, commandsReceived, errorReplies;

    private NexoriBridgeClient(Builder b) {
        this.connectUri = bridgeUri(b.uri, b.serverName);
        this.headers = b.token == null || b.token.isEmpty() ? Map.of() : Map.of("Authorization", "Bearer " + b.token);
        this.listener = b.listener;
        this.transport = b.transport != null ? b.transport : new JdkTransport(b.connectTimeout);
        if (b.scheduler != null) {
            this.scheduler = b.scheduler;
            this.ownedExecutor = null;
        } else if (b.executor != null) {
            this.scheduler = Scheduler.of(b.executor);
            this.ownedExecutor = null;
        } else {
            this.ownedExecutor = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "nexori-bridge");
                t.setDaemon(true);
                return t;
            });
            this.scheduler = Scheduler.of(ownedExecutor);
        }
        this.backoff = new Backoff(b.initialBackoff.toMillis(), b.maxBackoff.toMillis(), b.random);
        this.maxQueuedMessages = b.maxQueuedMessages;
        this.maxQueuedBytes = b.maxQueuedBytes;
        this.maxMessageBytes = b.maxMessageBytes;
        this.closeTimeoutMillis = b.closeTimeout.toMillis();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The URI the client connects to ({@code .../bridge?server=NAME}). */
    public URI connectUri() {
        return connectUri;
    }

    /** Connects (asynchronously). Also reconnects a client stopped by close code 4000. */
    public void start() {
        synchronized (lock) {
            if (state != State.NEW && state != State.STOPPED) {
                return;
            }
            state = State.WAITING;
            attempt = 0;
        }
        scheduler.execute(this::connect);
    }

    /**
     * Queues a message for the host and returns at once; thread-safe, never blocks on the network.
     *
     * @return {@code false} when the message was dropped: a {@code game.event} while not
     *     connected, a message over {@code maxMessageBytes}, or any message after {@link #close()}
     */
    public boolean send(BridgeMessage message) {
        String text = Json.write(message.toJson());
        int bytes = utf8Length(text);
        boolean schedule;
        synchronized (lock) {
            if (state == State.CLOSING || state == State.CLOSED) {
                droppedClosed++;
                return false;
            }
            if (bytes > maxMessageBytes) {
                droppedTooLarge++;
                LOG.log(System.Logger.Level.WARNING, "{0} of {1} bytes not sent: the limit is {2}",
                        message.type(), bytes, maxMessageBytes);
                return false;
            }
            boolean connected = state == State.CONNECTED;
            if (!message.isLifecycle() && !connected) {
                droppedGameEvents++;
                return false;
            }
            while (!queue.isEmpty() && (queue.size() >= maxQueuedMessages || queuedBytes + bytes > maxQueuedBytes)) {
                Outgoing dropped = queue.pollFirst();
                queuedBytes -= dropped.bytes;
                droppedQueueFull++;
            }
            queue.addLast(new Outgoing(text, bytes, message.isLifecycle()));
            queuedBytes += bytes;
            schedule = connected && !pumpScheduled && inFlight == null;
            if (schedule) {
                pumpScheduled = true;
            }
        }
        if (schedule) {
            scheduler.execute(this::pump);
        }
        return true;
    }

    /** A snapshot of the counters. */
    public BridgeStats stats() {
        synchronized (lock) {
            return new BridgeStats(sent, queue.size(), queuedBytes, droppedQueueFull, droppedGameEvents,
                    droppedTooLarge, droppedClosed, connects, disconnects, commandsReceived, errorReplies);
        }
    }

    /** Whether the WebSocket is open. */
    public boolean isConnected() {
        synchronized (lock) {
            return state == State.CONNECTED;
        }
    }

    /**
     * Starts a graceful close: no new messages are accepted, the queue is flushed for up to
     * {@code closeTimeout} if connected (a disconnected client does not wait to reconnect), then
     * the WebSocket is closed with 1000. What was left unsent is counted in
     * {@link BridgeStats#droppedClosed()}.
     */
    public CompletableFuture<Void> closeAsync() {
        boolean flush;
        Scheduler.Cancellable cancel;
        synchronized (lock) {
            if (closeFuture != null) {
                return closeFuture;
            }
            closeFuture = new CompletableFuture<>();
            flush = state == State.CONNECTED;
            state = State.CLOSING;
            cancel = pendingTask;
            pendingTask = null;
        }
        if (cancel != null) {
            cancel.cancel();
        }
        if (flush) {
            Scheduler.Cancellable deadline = scheduler.schedule(this::finishClose, closeTimeoutMillis);
            synchronized (lock) {
                pendingTask = deadline;
            }
            scheduler.execute(this::pump);
        } else {
            scheduler.execute(this::finishClose);
        }
        return closeFuture;
    }

    /** {@link #closeAsync()} and waits for it (bounded by {@code closeTimeout} plus a second). */
    @Override
    public void close() {
        CompletableFuture<Void> f = closeAsync();
        try {
            f.get(closeTimeoutMillis + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "bridge client did not close cleanly: {0}", e.toString());
        } finally {
            if (ownedExecutor != null) {
                ownedExecutor.shutdown();
            }
        }
    }

    // ------------------------------------------------------------------ on the client's thread

    private void connect() {
        long gen;
        synchronized (lock) {
            if (state != State.WAITING) {
                return;
            }
            state = State.CONNECTING;
            pendingTask = null;
            gen = ++generation;
        }
        CompletableFuture<Transport.Connection> f;
        try {
            f = transport.connect(connectUri, headers, new Events(gen));
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((c, err) -> scheduler.execute(() -> connectDone(gen, c, err)));
    }

    private void connectDone(long gen, Transport.Connection c, Throwable err) {
        DisconnectReason failure = null;
        synchronized (lock) {
            if (gen != generation || state != State.CONNECTING) {
                if (c != null) {
                    c.abort();
                }
                return;
            }
            if (err != null) {
                disconnects++;
                long delay = scheduleReconnectLocked();
                failure = new DisconnectReason(DisconnectReason.NO_CLOSE_CODE, describe(err),
                        "could not connect; retrying in " + delay + " ms", true);
            } else {
                connection = c;
                state = State.CONNECTED;
                attempt = 0;
                connects++;
                pumpScheduled = true;
            }
        }
        if (failure != null) {
            notifyDisconnected(failure);
        } else {
            safely(listener::onConnected);
            pump();
        }
    }

    /*
     * Writer invariant: while CONNECTED (or CLOSING with a connection), a non-empty queue always
     * has a write in flight (inFlight != null; its sendDone calls pump) or a pump still to run on
     * the client's thread (pumpScheduled, or the direct pump() after connectDone/sendDone). It
     * holds because both sides decide under the lock against the same state: pump polls the queue
     * and sets inFlight in one critical section; send() adds to the queue and checks
     * "pumpScheduled || inFlight != null" in another. A send between sendDone clearing inFlight
     * and the following pump is either taken by that pump (it is already queued) or, if it comes
     * after pump found the queue empty, sees inFlight == null and pumpScheduled == false and
     * schedules a pump itself. (Direct pump() calls also clear pumpScheduled while a scheduled
     * pump may still be queued; that pump then finds nothing to do, which only costs a task.)
     */
    private void pump() {
        Transport.Connection c;
        Outgoing next;
        long gen;
        boolean finish = false;
        synchronized (lock) {
            pumpScheduled = false;
            if ((state != State.CONNECTED && state != State.CLOSING) || connection == null || inFlight != null) {
                return;
            }
            next = queue.pollFirst();
            if (next == null) {
                finish = state == State.CLOSING;
                c = null;
                gen = 0;
            } else {
                queuedBytes -= next.bytes;
                inFlight = next;
                c = connection;
                gen = generation;
            }
        }
        if (finish) {
            finishClose();
            return;
        }
        if (next == null) {
            return;
        }
        CompletableFuture<?> f;
        try {
            f = c.sendText(next.text);
        } catch (RuntimeException e) {
            f = CompletableFuture.failedFuture(e);
        }
        f.whenComplete((r, err) -> scheduler.execute(() -> sendDone(gen, next, err)));
    }

    private void sendDone(long gen, Outgoing message, Throwable err) {
        synchronized (lock) {
            if (inFlight != message || gen != generation) {
                return; // the connection dropped meanwhile; connectionLost took care of it
            }
            if (err == null) {
                inFlight = null;
                sent++;
            }
        }
        if (err != null) {
            // the socket is broken: drop it (the message is requeued) and reconnect
            connectionLost(gen, DisconnectReason.NO_CLOSE_CODE, "send failed: " + describe(err), null);
            return;
        }
        pump();
    }

    private void received(long gen, String text) {
        CommandDecoder.Decoded decoded = CommandDecoder.decode(text);
        // Count before the listener runs: a listener that wakes another thread (which then reads
        // stats()) must not be able to observe the count from before this message. The listener
        // itself is called outside the lock.
        synchronized (lock) {
            if (gen != generation) {
                return;
            }
            if (decoded.kind() == CommandDecoder.Kind.ERROR) {
                errorReplies++;
            } else {
                commandsReceived++;
            }
        }
        try {
            decoded.deliver(listener);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "bridge listener failed", e);
        }
    }

    private void connectionLost(long gen, int code, String reason, Transport.Connection aborting) {
        DisconnectReason report;
        synchronized (lock) {
            if (gen != generation) {
                return;
            }
            if (state == State.CLOSING) {
                connection = null;
                report = null;
            } else if (state == State.CONNECTED || state == State.CONNECTING) {
                disconnects++;
                generation++; // late callbacks of this connection are ignored
                aborting = connection != null ? connection : aborting;
                connection = null;
                if (inFlight != null) {
                    Outgoing message = inFlight;
                    inFlight = null;
                    if (code == DisconnectReason.MESSAGE_TOO_BIG) {
                        droppedTooLarge++; // resending it would only close the connection again
                    } else {
                        requeueLocked(message);
                    }
                }
                for (Iterator<Outgoing> it = queue.iterator(); it.hasNext(); ) {
                    Outgoing o = it.next();
                    if (!o.lifecycle) {
                        it.remove();
                        queuedBytes -= o.bytes;
                        droppedGameEvents++;
                    }
                }
                if (code == DisconnectReason.REPLACED) {
                    state = State.STOPPED;
                    report = new DisconnectReason(code, reason, DisconnectReason.meaningOf(code), false);
                } else {
                    long delay = scheduleReconnectLocked();
                    report = new DisconnectReason(code, reason,
                            DisconnectReason.meaningOf(code) + "; reconnecting in " + delay + " ms", true);
                }
            } else {
                return;
            }
        }
        if (aborting != null) {
            aborting.abort();
        }
        if (report == null) {
            finishClose();
        } else {
            LOG.log(report.willReconnect() ? System.Logger.Level.INFO : System.Logger.Level.WARNING,
                    "bridge connection closed ({0}): {1}: {2}", String.valueOf(report.code()), report.reason(), report.meaning());
            notifyDisconnected(report);
        }
    }

    private void finishClose() {
        Transport.Connection c;
        Scheduler.Cancellable cancel;
        CompletableFuture<Void> done;
        synchronized (lock) {
            if (state == State.CLOSED) {
                return;
            }
            state = State.CLOSED;
            generation++; // late callbacks of the old connection are ignored
            c = connection;
            connection = null;
            droppedClosed += queue.size() + (inFlight != null ? 1 : 0);
            queue.clear();
            queuedBytes = 0;
            inFlight = null;
            cancel = pendingTask;
            pendingTask = null;
            done = closeFuture;
        }
        if (cancel != null) {
            cancel.cancel();
        }
        if (c == null) {
            done.complete(null);
            return;
        }
        CompletableFuture<?> closing;
        try {
            closing = c.sendClose(1000, "game server closing");
        } catch (RuntimeException e) {
            closing = CompletableFuture.failedFuture(e);
        }
        closing.orTimeout(1, TimeUnit.SECONDS).whenComplete((r, err) -> {
            c.abort();
            done.complete(null);
        });
    }

    // ------------------------------------------------------------------ helpers

    /** Schedules the next attempt; returns its delay. Caller holds the lock. */
    private long scheduleReconnectLocked() {
        state = State.WAITING;
        long delay = backoff.delay(attempt);
        attempt = Math.min(attempt + 1, 62);
        pendingTask = scheduler.schedule(this::connect, delay);
        return delay;
    }

    /** Puts a message whose write failed back at the head of the queue. Caller holds the lock. */
    private void requeueLocked(Outgoing message) {
        if (!message.lifecycle) {
            droppedGameEvents++;
            return;
        }
        if (queue.size() >= maxQueuedMessages || queuedBytes + message.bytes > maxQueuedBytes) {
            droppedQueueFull++; // the head is the oldest message: it is the one to drop
            return;
        }
        queue.addFirst(message);
        queuedBytes += message.bytes;
    }

    private void notifyDisconnected(DisconnectReason reason) {
        safely(() -> listener.onDisconnected(reason));
    }

    private static void safely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "bridge listener failed", e);
        }
    }

    static String describe(Throwable err) {
        Throwable e = err;
        while ((e instanceof CompletionException || e instanceof ExecutionException) && e.getCause() != null) {
            e = e.getCause();
        }
        if (e instanceof WebSocketHandshakeException h) {
            int status = h.getResponse().statusCode();
            String why = switch (status) {
                case 401 -> "a valid bridge token is required (check the token)";
                case 400 -> "bad request (is the server name over 128 bytes?)";
                case 404 -> "no bridge at this path (expected /bridge)";
                default -> "the WebSocket upgrade was refused";
            };
            return "HTTP " + status + ": " + why;
        }
        return e.toString();
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch < 0x80) {
                n++;
            } else if (ch < 0x800) {
                n += 2;
            } else if (Character.isHighSurrogate(ch) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else {
                n += 3;
            }
        }
        return n;
    }

    static URI bridgeUri(URI base, String serverName) {
        Objects.requireNonNull(base, "uri");
        String scheme = base.getScheme();
        if (!"ws".equalsIgnoreCase(scheme) && !"wss".equalsIgnoreCase(scheme)) {
            throw new IllegalArgumentException("the bridge URI must be ws:// or wss://, got " + base);
        }
        String path = base.getRawPath();
        if (path == null || path.isEmpty() || path.equals("/")) {
            path = "/bridge";
        }
        StringBuilder s = new StringBuilder(scheme).append("://").append(base.getRawAuthority()).append(path);
        if (serverName != null && !serverName.isBlank()) {
            if (utf8Length(serverName) > 128) {
                throw new IllegalArgumentException("the server name is over 128 bytes");
            }
            s.append("?server=").append(URLEncoder.encode(serverName, StandardCharsets.UTF_8).replace("+", "%20"));
        }
        return URI.create(s.toString());
    }

    private final class Events implements Transport.Events {
        private final long gen;

        Events(long gen) {
            this.gen = gen;
        }

        @Override
        public void onText(String text) {
            scheduler.execute(() -> received(gen, text));
        }

        @Override
        public void onClose(int code, String reason) {
            scheduler.execute(() -> connectionLost(gen, code, reason, null));
        }

        @Override
        public void onError(Throwable error) {
            scheduler.execute(() -> connectionLost(gen, DisconnectReason.NO_CLOSE_CODE, describe(error), null));
        }
    }

    /** Builds a {@link NexoriBridgeClient}; {@code uri} and {@code listener} are required. */
    public static final class Builder {
        private URI uri;
        private String serverName;
        private String token;
        private BridgeListener listener;
        private ScheduledExecutorService executor;
        private RandomGenerator random = RandomGenerator.getDefault();
        private Duration initialBackoff = Duration.ofMillis(500);
        private Duration maxBackoff = Duration.ofSeconds(30);
        private int maxQueuedMessages = 10_000;
        private long maxQueuedBytes = 16L * 1024 * 1024;
        private int maxMessageBytes = 256 * 1024;
        private Duration closeTimeout = Duration.ofSeconds(5);
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Transport transport;
        private Scheduler scheduler;

        private Builder() {}

        /** {@code ws://HOST:PORT} or {@code ws://HOST:PORT/bridge}; the path defaults to {@code /bridge}. */
        public Builder uri(URI uri) { this.uri = uri; return this; }
        public Builder uri(String uri) { return uri(URI.create(uri)); }
        /** The game server's name ({@code ?server=}); at most 128 bytes; blank means {@code default}. */
        public Builder serverName(String name) { this.serverName = name; return this; }
        /** {@code bridge.token}, sent as {@code Authorization: Bearer <token>}. */
        public Builder token(String token) { this.token = token; return this; }
        public Builder listener(BridgeListener listener) { this.listener = listener; return this; }
        /**
         * The executor for the client's work and listener calls. It must be single-threaded; the
         * caller owns it (the client does not shut it down). Default: a daemon thread of its own.
         */
        public Builder executor(ScheduledExecutorService executor) { this.executor = executor; return this; }
        /** The source of backoff jitter. */
        public Builder random(RandomGenerator random) { this.random = Objects.requireNonNull(random); return this; }
        public Builder initialBackoff(Duration d) { this.initialBackoff = d; return this; }
        public Builder maxBackoff(Duration d) { this.maxBackoff = d; return this; }
        /** Messages the queue holds before the oldest is dropped (default 10000). */
        public Builder maxQueuedMessages(int n) { this.maxQueuedMessages = n; return this; }
        /** UTF-8 bytes the queue holds before the oldest is dropped (default 16 MiB). */
        public Builder maxQueuedBytes(long n) { this.maxQueuedBytes = n; return this; }
        /** Longest message sent (default 256 KiB, the host's {@code bridge.maxMessageBytes}). */
        public Builder maxMessageBytes(int n) { this.maxMessageBytes = n; return this; }
        /** How long {@link NexoriBridgeClient#close()} flushes (default 5 s). */
        public Builder closeTimeout(Duration d) { this.closeTimeout = d; return this; }
        public Builder connectTimeout(Duration d) { this.connectTimeout = d; return this; }

        Builder transport(Transport t) { this.transport = t; return this; }
        Builder scheduler(Scheduler s) { this.scheduler = s; return this; }

        public NexoriBridgeClient build() {
            Objects.requireNonNull(uri, "uri");
            Objects.requireNonNull(listener, "listener");
            if (maxQueuedMessages < 1 || maxMessageBytes < 1 || maxQueuedBytes < maxMessageBytes) {
                throw new IllegalArgumentException("need maxQueuedMessages >= 1 and maxQueuedBytes >= maxMessageBytes >= 1");
            }
            return new NexoriBridgeClient(this);
        }
    }
}
