package gg.nexori.bot;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** What a run did and measured; {@link #text()} for people, {@link #json()} for scripts. */
public final class BotReport {
    private final BotOptions options;
    final Tally tally;
    final List<BotServer.EndedMatch> ended = new ArrayList<>();
    final List<String> unfinished = new ArrayList<>();
    private final double windowSeconds;
    private final long maxLagNanos;
    private final boolean timedOut;
    private final Throwable failure;
    private final ServeProbe.Reading before;
    private final ServeProbe.Reading after;
    private final long clockTicks;
    final Samples.Summary deathLatency;
    final Samples.Summary hudLatency;

    BotReport(BotOptions options, List<BotServer> servers, Tally tally, long windowNanos, long maxLagNanos,
            boolean timedOut, Throwable failure, ServeProbe.Reading before, ServeProbe.Reading after, long clockTicks) {
        this.options = options;
        this.tally = tally;
        this.windowSeconds = windowNanos / 1e9;
        this.maxLagNanos = maxLagNanos;
        this.timedOut = timedOut;
        this.failure = failure;
        this.before = before;
        this.after = after;
        this.clockTicks = clockTicks;
        List<Samples> deaths = new ArrayList<>();
        List<Samples> huds = new ArrayList<>();
        for (BotServer s : servers) {
            ended.addAll(s.endedMatches());
            for (BotMatch m : s.liveMatches()) {
                long returned = m.players().stream().filter(p -> p.returned).count();
                unfinished.add(m.matchId + " (" + returned + " of " + m.players().size() + " players returned)");
            }
            deaths.add(s.tally.deathToCommand);
            huds.add(s.tally.tickToHud);
        }
        this.deathLatency = Samples.summarize(deaths);
        this.hudLatency = Samples.summarize(huds);
    }

    /** The run was clean: see {@link ArenaBot}. */
    public boolean ok() {
        return failure == null && !timedOut && tally.errors == 0 && tally.anomalies == 0 && tally.ticksDropped == 0
                && tally.droppedQueueFull == 0
                && serveDelta("nexori_faults_total") == 0
                && serveDelta("nexori_bridge_commands_dropped_total") == 0
                && serveDelta("nexori_bridge_slow_reader_disconnects_total") == 0;
    }

    /** Why {@link #ok()} is false, one line each; empty when it is true. */
    public List<String> problems() {
        List<String> p = new ArrayList<>();
        if (failure != null) {
            p.add("a tick task failed: " + failure);
        }
        if (timedOut) {
            p.add("timed out after " + options.timeout().toSeconds() + " s with matches unfinished: " + unfinished);
        }
        if (tally.errors > 0) {
            p.add(tally.errors + " error replies from the host, e.g. " + tally.errorExamples);
        }
        if (tally.anomalies > 0) {
            p.add(tally.anomalies + " unexpected commands, e.g. " + tally.anomalyExamples);
        }
        if (tally.droppedQueueFull > 0) {
            p.add(tally.droppedQueueFull + " messages dropped from full client queues (the bot fell behind)");
        }
        if (tally.ticksDropped > 0) {
            p.add(tally.ticksDropped + " player.tick events dropped by the client (not connected)");
        }
        // Serve's nexori_bridge_errors_total also counts the ticks that crossed a match's close,
        // which the bot tells apart from real errors (above), so it is reported, not judged.
        for (String c : new String[] {"nexori_faults_total",
                "nexori_bridge_commands_dropped_total", "nexori_bridge_slow_reader_disconnects_total"}) {
            if (serveDelta(c) != 0) {
                p.add(c + " rose by " + (long) serveDelta(c) + " during the run");
            }
        }
        return p;
    }

    private double serveDelta(String counter) {
        if (before == null || after == null) {
            return 0;
        }
        return after.counters().getOrDefault(counter, 0.0) - before.counters().getOrDefault(counter, 0.0);
    }

    private double probeSeconds() {
        return (after.nanos() - before.nanos()) / 1e9;
    }

    /** Serve's CPU seconds (user + system) per second of the window. */
    private double serveCpuPerSecond() {
        return (after.cpuTicks() - before.cpuTicks()) / (double) clockTicks / probeSeconds();
    }

    public String text() {
        StringBuilder b = new StringBuilder();
        line(b, "arena-bot: %d servers x %d matches x %d players at %d Hz = %,d player.tick/s offered, seed %d",
                options.servers(), options.matchesPerServer(), options.players(), options.hz(),
                options.offeredEventsPerSecond(), options.seed());
        if (!options.duration().isZero()) {
            line(b, "window: %.1f s after %.1f s of warm-up", windowSeconds, options.warmUp().toMillis() / 1000.0);
        }
        line(b, "sent: %,.0f player.tick/s in the window (%,d), %,d dropped; %,d lifecycle messages; ticks at most %.1f ms behind schedule",
                tally.ticksSentInWindow / windowSeconds, tally.ticksSentInWindow, tally.ticksDropped,
                tally.lifecycleSent, maxLagNanos / 1e6);
        line(b, "bot: %s CPU s per s; client queues at most %,d messages waiting, %,d dropped when full",
                tally.botCpuTicks < 0 ? "unknown" : String.format(Locale.ROOT, "%.3f",
                        tally.botCpuTicks / (double) clockTicks / windowSeconds),
                tally.maxQueued, tally.droppedQueueFull);
        line(b, "matches: %,d started, %,d ended; %,d players returned %s", tally.matchesStarted, tally.matchesEnded,
                tally.returns, tally.returnReasons);
        line(b, "deaths: %,d (%,d by a player); respawn points %,d, death screens %,d, forced respawns %,d (%,d at the respawn point)",
                tally.deaths, tally.deathsWithKiller, tally.respawnPoints, tally.deathScreens, tally.forcedRespawns,
                tally.respawnsAtHome);
        line(b, "commands: %s", tally.commands);
        line(b, "host errors: %,d %s; unexpected: %,d %s; ticks that crossed their match's close: %,d",
                tally.errors, tally.errorExamples, tally.anomalies, tally.anomalyExamples, tally.ticksAfterClose);
        latency(b, "first dead tick -> player.setDeathScreen", deathLatency);
        latency(b, "latest tick -> hud.update", hudLatency);
        line(b, "seconds of the run whose worst death -> setDeathScreen exceeded 50 ms: %s", slowSeconds());
        if (before != null && after != null) {
            double events = serveDelta("nexori_game_events_total");
            if (options.servePid() > 0) {
                double cpu = serveCpuPerSecond();
                line(b, "serve CPU: %.3f s per s (user+sys, /proc/%d/stat), %.2f us per game event handled",
                        cpu, options.servePid(), events > 0 ? cpu * probeSeconds() / events * 1e6 : Double.NaN);
                line(b, "serve RSS: %,d KiB at the end, peak %,d KiB", after.rssKib(), after.hwmKib());
            }
            if (options.metricsUri() != null) {
                line(b, "serve handled: %,.0f game events/s in %,.0f guest calls/s, %,.0f game commands/s; "
                        + "bridge errors %,.0f, faults %,.0f, commands dropped %,.0f, slow-reader disconnects %,.0f",
                        events / probeSeconds(), serveDelta("nexori_game_event_calls_total") / probeSeconds(),
                        serveDelta("nexori_game_commands_total") / probeSeconds(),
                        serveDelta("nexori_bridge_errors_total"), serveDelta("nexori_faults_total"),
                        serveDelta("nexori_bridge_commands_dropped_total"),
                        serveDelta("nexori_bridge_slow_reader_disconnects_total"));
            }
        }
        List<String> problems = problems();
        line(b, problems.isEmpty() ? "clean run" : "NOT CLEAN: " + String.join("; ", problems));
        return b.toString();
    }

    public String json() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("servers", options.servers());
        o.put("matchesPerServer", options.matchesPerServer());
        o.put("players", options.players());
        o.put("hz", options.hz());
        o.put("seed", options.seed());
        o.put("offeredEventsPerSecond", options.offeredEventsPerSecond());
        o.put("windowSeconds", windowSeconds);
        o.put("ticksSentInWindow", tally.ticksSentInWindow);
        o.put("ticksDropped", tally.ticksDropped);
        o.put("maxTickLagMs", maxLagNanos / 1e6);
        o.put("botCpuSecondsPerSecond", tally.botCpuTicks < 0 ? -1 : tally.botCpuTicks / (double) clockTicks / windowSeconds);
        o.put("maxClientQueued", tally.maxQueued);
        o.put("droppedQueueFull", tally.droppedQueueFull);
        o.put("matchesStarted", tally.matchesStarted);
        o.put("matchesEnded", tally.matchesEnded);
        o.put("returns", tally.returns);
        o.put("deaths", tally.deaths);
        o.put("forcedRespawns", tally.forcedRespawns);
        o.put("respawnsAtHome", tally.respawnsAtHome);
        o.set("commands", m.valueToTree(tally.commands));
        o.put("errors", tally.errors);
        o.put("anomalies", tally.anomalies);
        o.put("ticksAfterClose", tally.ticksAfterClose);
        latencyJson(o.putObject("deathToSetDeathScreen"), deathLatency);
        latencyJson(o.putObject("tickToHudUpdate"), hudLatency);
        o.set("slowSeconds", m.valueToTree(slowSeconds()));
        if (before != null && after != null) {
            ObjectNode serve = o.putObject("serve");
            double events = serveDelta("nexori_game_events_total");
            serve.put("seconds", probeSeconds());
            if (options.servePid() > 0) {
                serve.put("cpuSecondsPerSecond", serveCpuPerSecond());
                serve.put("cpuMicrosPerEvent", events > 0 ? serveCpuPerSecond() * probeSeconds() / events * 1e6 : 0);
                serve.put("rssKib", after.rssKib());
                serve.put("peakRssKib", after.hwmKib());
            }
            for (String c : ServeProbe.COUNTERS) {
                serve.put(c, serveDelta(c));
            }
        }
        o.put("ok", ok());
        o.set("problems", m.valueToTree(problems()));
        return o.toPrettyString();
    }

    /** {@code "23 s: 6100 ms"} for each second of the run whose worst latency exceeded 50 ms (at most 20). */
    private List<String> slowSeconds() {
        List<String> slow = new ArrayList<>();
        for (int i = 0; i < tally.worstBySecond.length && slow.size() < 20; i++) {
            if (tally.worstBySecond[i] > 50_000_000L) {
                slow.add(String.format(Locale.ROOT, "%d s: %.0f ms", i, tally.worstBySecond[i] / 1e6));
            }
        }
        return slow;
    }

    private static void latency(StringBuilder b, String what, Samples.Summary s) {
        line(b, "latency, %s: n=%,d p50 %.2f ms p99 %.2f ms max %.2f ms", what, s.count(),
                s.percentileMicros(50) / 1000, s.percentileMicros(99) / 1000, s.maxMicros() / 1000);
    }

    private static void latencyJson(ObjectNode o, Samples.Summary s) {
        o.put("count", s.count());
        if (s.count() > 0) {
            o.put("p50Ms", s.percentileMicros(50) / 1000);
            o.put("p99Ms", s.percentileMicros(99) / 1000);
            o.put("maxMs", s.maxMicros() / 1000);
        }
    }

    private static void line(StringBuilder b, String format, Object... args) {
        b.append(String.format(Locale.ROOT, format, args)).append('\n');
    }
}
