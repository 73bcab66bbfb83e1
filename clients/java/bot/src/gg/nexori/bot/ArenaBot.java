package gg.nexori.bot;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A headless arena: game servers that play Capture The Zone against {@code nexori serve} over the
 * bridge, as a Hytale server with the bridge client would. It is the end-to-end test's game server
 * and the load generator of the {@code nexori serve} measurement (BENCHMARKS.md).
 *
 * <pre>{@code
 * java -cp nexori-bridge-client.jar:nexori-arena-bot.jar:jackson... gg.nexori.bot.ArenaBot \
 *     --servers 50 --matches-per-server 4 --duration 75 --warm-up 15 --serve-pid $(pidof nexori)
 * }</pre>
 *
 * <p>Exit status 0 when the run was clean (no error replies, nothing dropped, nothing unexpected
 * from the host, every match of a one-shot run ended), 1 otherwise, 2 for bad options.
 */
public final class ArenaBot {
    private static final long SECOND = 1_000_000_000L;

    private ArenaBot() {}

    public static void main(String[] args) {
        if (java.util.Arrays.asList(args).contains("--help") || java.util.Arrays.asList(args).contains("-h")) {
            System.out.print(BotOptions.USAGE);
            return;
        }
        BotOptions options;
        try {
            options = BotOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("arena-bot: " + e.getMessage());
            System.exit(2);
            return;
        }
        try {
            BotReport report = run(options, System.err);
            System.out.println(options.json() ? report.json() : report.text());
            System.exit(report.ok() ? 0 : 1);
        } catch (IOException | IllegalStateException e) {
            System.err.println("arena-bot: " + e.getMessage());
            System.exit(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.exit(1);
        }
    }

    /**
     * Plays the run {@code options} describe and reports it; progress lines go to {@code progress}
     * (every 5 s of a run with a duration), or nowhere when it is {@code null}.
     *
     * @throws IllegalStateException when a game server cannot connect within 15 s, naming it and why
     * @throws IOException when serve's {@code /proc} files or {@code /metrics} cannot be read
     */
    public static BotReport run(BotOptions options, java.io.PrintStream progress)
            throws IOException, InterruptedException {
        boolean timed = !options.duration().isZero();
        List<BotServer> servers = new ArrayList<>();
        for (int i = 0; i < options.servers(); i++) {
            servers.add(new BotServer(options, i + 1, timed));
        }
        ServeProbe probe = options.servePid() > 0 || options.metricsUri() != null
                ? new ServeProbe(options.servePid(), options.metricsUri()) : null;
        ScheduledExecutorService ticks = Executors.newScheduledThreadPool(options.tickThreads(), r -> {
            Thread t = new Thread(r, "arena-bot-tick");
            t.setDaemon(true);
            return t;
        });
        try {
            for (BotServer s : servers) {
                s.start();
            }
            for (BotServer s : servers) {
                if (!s.awaitConnected(Duration.ofSeconds(15))) {
                    throw new IllegalStateException("game server " + s.name + " did not connect to "
                            + s.client().connectUri() + " within 15 s"
                            + (s.lastDisconnect() == null ? "" : ": " + s.lastDisconnect().reason()));
                }
            }

            long period = SECOND / options.hz();
            long start = System.nanoTime();
            long windowStart = timed ? start + options.warmUp().toNanos() : start;
            long windowEnd = timed ? start + options.duration().toNanos() : Long.MAX_VALUE;
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<TickTask> tasks = new ArrayList<>();
            for (int i = 0; i < servers.size(); i++) {
                // Spread the servers over the tick period: real servers do not tick in step.
                long phase = period * i / servers.size();
                servers.get(i).tally.origin = start;
                TickTask task = new TickTask(servers.get(i), start + phase, period, windowStart, windowEnd, failure);
                tasks.add(task);
                ticks.scheduleAtFixedRate(task, phase, period, TimeUnit.NANOSECONDS);
            }

            ServeProbe.Reading before = null;
            ServeProbe.Reading after = null;
            long self = ProcessHandle.current().pid();
            long botCpuBefore = -1;
            long botCpuAfter = -1;
            long maxQueued = 0;
            long deadline = start + (timed ? options.duration().toNanos() : options.timeout().toNanos());
            long nextProgress = start + 5 * SECOND;
            boolean timedOut = false;
            while (true) {
                long now = System.nanoTime();
                if (failure.get() != null) {
                    break;
                }
                if (botCpuBefore < 0 && now >= windowStart) {
                    botCpuBefore = ownCpuTicks(self);
                    if (probe != null) {
                        before = probe.read();
                    }
                }
                if (now >= windowStart && now < windowEnd) {
                    // Messages accepted by the clients but not yet written: the bot falling behind.
                    long queued = 0;
                    for (BotServer s : servers) {
                        queued += s.client().stats().queued();
                    }
                    maxQueued = Math.max(maxQueued, queued);
                }
                if (!timed && tasks.stream().allMatch(t -> t.done)) {
                    break;
                }
                if (now >= deadline) {
                    timedOut = !timed;
                    break;
                }
                if (timed && progress != null && now >= nextProgress) {
                    long sent = tasks.stream().mapToLong(t -> t.ticksSent).sum();
                    progress.printf("arena-bot: %3d s  %,d player.tick sent%n", (now - start) / SECOND, sent);
                    nextProgress += 5 * SECOND;
                }
                Thread.sleep(Math.max(1, Math.min(100, (deadline - now) / 1_000_000)));
            }
            if (probe != null) {
                after = probe.read();
            }
            botCpuAfter = ownCpuTicks(self);
            long windowNanos = Math.min(System.nanoTime(), windowEnd) - windowStart;
            ticks.shutdown();
            if (!ticks.awaitTermination(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the tick threads did not stop within 10 s");
            }

            List<CompletableFuture<Void>> closing = new ArrayList<>();
            for (BotServer s : servers) {
                closing.add(s.client().closeAsync());
            }
            CompletableFuture.allOf(closing.toArray(new CompletableFuture<?>[0])).get(15, TimeUnit.SECONDS);

            Tally total = new Tally();
            for (BotServer s : servers) {
                total.droppedQueueFull += s.client().stats().droppedQueueFull();
            }
            total.maxQueued = maxQueued;
            total.botCpuTicks = botCpuBefore < 0 || botCpuAfter < 0 ? -1 : botCpuAfter - botCpuBefore;
            long maxLag = 0;
            for (TickTask t : tasks) {
                total.add(t.server.tally);
                maxLag = Math.max(maxLag, t.maxLagNanos);
            }
            return new BotReport(options, servers, total, windowNanos, maxLag, timedOut, failure.get(),
                    before, after, ServeProbe.clockTicksPerSecond());
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("closing the bridge connections failed: " + e, e);
        } finally {
            ticks.shutdownNow();
            for (BotServer s : servers) {
                s.client().closeAsync();
            }
        }
    }

    /** The bot's own CPU time, to show how much of the machine the load generator took; -1 off Linux. */
    private static long ownCpuTicks(long pid) {
        try {
            return ServeProbe.cpuTicks(pid);
        } catch (IOException e) {
            return -1;
        }
    }

    /** One game server's periodic tick, with the bookkeeping the main thread reads. */
    private static final class TickTask implements Runnable {
        final BotServer server;
        private final long firstNanos;
        private final long period;
        private final long windowStart;
        private final long windowEnd;
        private final AtomicReference<Throwable> failure;
        private long count;
        long maxLagNanos;
        volatile long ticksSent;
        volatile boolean done;

        TickTask(BotServer server, long firstNanos, long period, long windowStart, long windowEnd,
                AtomicReference<Throwable> failure) {
            this.server = server;
            this.firstNanos = firstNanos;
            this.period = period;
            this.windowStart = windowStart;
            this.windowEnd = windowEnd;
            this.failure = failure;
        }

        @Override
        public void run() {
            long now = System.nanoTime();
            // How far behind its schedule this tick runs: a late bot would offer less than it says.
            long lag = now - (firstNanos + count++ * period);
            boolean inWindow = now >= windowStart && now < windowEnd;
            if (inWindow) {
                maxLagNanos = Math.max(maxLagNanos, lag);
            }
            try {
                server.tick(inWindow);
                ticksSent = server.tally.ticksSent;
                done = server.done();
            } catch (RuntimeException | Error e) {
                // A scheduled task that throws is never run again; stop the run and say why.
                failure.compareAndSet(null, e);
                throw e;
            }
        }
    }
}
