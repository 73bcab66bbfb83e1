package gg.nexori.bot;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * What the bot plays and for how long. Built with {@link #parse} from the command line or with the
 * wither methods in tests; every value is checked, and a wrong one names its flag.
 *
 * @param uri the bridge ({@code ws://HOST:PORT/bridge}); each game server adds {@code ?server=NAME}
 * @param token the bridge token ({@code bridge.token})
 * @param servers game-server connections, each named {@code <prefix>-<n>}
 * @param matchesPerServer matches each game server keeps running at once
 * @param players players per match, all expected, arriving and placed at once
 * @param hz ticks per second per player ({@code player.tick} game events)
 * @param seed movement, deaths and kills come from it, per match
 * @param deathsPerMinute how often an alive player dies, on average
 * @param killShare the share of deaths caused by another player of the match ({@code killerPlayerUuid})
 * @param duration {@code ZERO}: play each slot's match once and stop when all have ended; otherwise
 *     run this long, starting a new match in a slot whose match ended
 * @param warmUp with a duration: measurements cover the run after this much time
 * @param timeout a one-shot run that has not ended by then fails
 * @param prefix game-server names and match ids start with it
 * @param rulesEngineId the rules engine the matches ask for
 * @param servePid {@code nexori serve}'s process id, to read its CPU time and RSS from {@code /proc}; 0 for none
 * @param metricsUri serve's {@code /metrics}, to read what the host handled; {@code null} for none
 * @param tickThreads threads that run the game servers' ticks
 * @param json print the report as JSON
 */
public record BotOptions(
        URI uri,
        String token,
        int servers,
        int matchesPerServer,
        int players,
        int hz,
        long seed,
        double deathsPerMinute,
        double killShare,
        Duration duration,
        Duration warmUp,
        Duration timeout,
        String prefix,
        String rulesEngineId,
        long servePid,
        URI metricsUri,
        int tickThreads,
        boolean json) {

    /** The capture_the_zone mod's rules engine id. */
    public static final String CAPTURE_THE_ZONE = "capture_the_zone";

    static final String USAGE = """
            usage: arena-bot [options]
              --uri URI                 the bridge (default ws://127.0.0.1:7420/bridge)
              --token TOKEN             bridge token (default: $NEXORI_BRIDGE_TOKEN)
              --servers N               game-server connections (default 1)
              --matches-per-server N    matches each server runs at once (default 1)
              --players N               players per match, 1..16 (default 16)
              --hz N                    player.tick events per player per second (default 20)
              --seed N                  movement, deaths and kills (default 1)
              --deaths-per-minute X     per alive player, on average (default 2)
              --kill-share X            share of deaths with a killer, 0..1 (default 0.5)
              --duration SECONDS        run this long, replacing ended matches (default: each match once)
              --warm-up SECONDS         measure after this much of --duration (default 10)
              --timeout SECONDS         a one-shot run fails after this (default 300)
              --prefix NAME             server names and match ids (default bot)
              --rules-engine-id ID      default capture_the_zone
              --serve-pid PID           read serve's CPU time and RSS from /proc
              --metrics URL             serve's /metrics (with --serve-pid: from --uri)
              --tick-threads N          threads running the ticks (default 2)
              --json                    print the report as JSON
              --help                    this text
            """;

    /** A builder with the defaults: one match of 16 players on a local {@code nexori serve}. */
    public static Builder builder() {
        return new Builder();
    }

    public BotOptions {
        check(uri != null && ("ws".equals(uri.getScheme()) || "wss".equals(uri.getScheme())),
                "--uri must be a ws:// or wss:// URI, got " + uri);
        check(servers >= 1 && servers <= 1000, "--servers must be 1..1000, got " + servers);
        check(matchesPerServer >= 1 && matchesPerServer <= 1000,
                "--matches-per-server must be 1..1000, got " + matchesPerServer);
        // The Capture The Zone HUD and the host's launch limits are sized for 16.
        check(players >= 1 && players <= 16, "--players must be 1..16, got " + players);
        check(hz >= 1 && hz <= 100, "--hz must be 1..100, got " + hz);
        check(deathsPerMinute >= 0 && deathsPerMinute <= 600,
                "--deaths-per-minute must be 0..600, got " + deathsPerMinute);
        check(killShare >= 0 && killShare <= 1, "--kill-share must be 0..1, got " + killShare);
        check(!duration.isNegative(), "--duration must not be negative");
        check(!warmUp.isNegative() && (duration.isZero() || warmUp.compareTo(duration) < 0),
                "--warm-up must be shorter than --duration");
        check(timeout.toMillis() > 0, "--timeout must be positive");
        check(prefix != null && prefix.matches("[A-Za-z0-9_.-]{1,32}"),
                "--prefix must be 1..32 of A-Z a-z 0-9 _ . -, got " + prefix);
        check(rulesEngineId != null && !rulesEngineId.isBlank(), "--rules-engine-id must not be blank");
        check(servePid >= 0, "--serve-pid must be a process id");
        check(tickThreads >= 1 && tickThreads <= 64, "--tick-threads must be 1..64, got " + tickThreads);
        if (metricsUri == null && servePid > 0) {
            metricsUri = metricsFor(uri);
        }
    }

    /** The {@code /metrics} URI of the serve whose bridge is {@code bridge}. */
    static URI metricsFor(URI bridge) {
        String scheme = "wss".equals(bridge.getScheme()) ? "https" : "http";
        return URI.create(scheme + "://" + bridge.getAuthority() + "/metrics");
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Offered {@code player.tick} events per second: servers x matches x players x hz. */
    public long offeredEventsPerSecond() {
        return (long) servers * matchesPerServer * players * hz;
    }

    /**
     * Parses the command line.
     *
     * @throws IllegalArgumentException naming the flag that is unknown, lacks a value or has a bad one
     */
    public static BotOptions parse(String[] args) {
        Builder b = builder();
        List<String> rest = new ArrayList<>(List.of(args));
        while (!rest.isEmpty()) {
            String flag = rest.remove(0);
            if ("--json".equals(flag)) {
                b.json(true);
                continue;
            }
            if (rest.isEmpty()) {
                throw new IllegalArgumentException(flag + " needs a value\n" + USAGE);
            }
            String v = rest.remove(0);
            switch (flag) {
                case "--uri" -> b.uri(URI.create(v));
                case "--token" -> b.token(v);
                case "--servers" -> b.servers(integer(flag, v));
                case "--matches-per-server" -> b.matchesPerServer(integer(flag, v));
                case "--players" -> b.players(integer(flag, v));
                case "--hz" -> b.hz(integer(flag, v));
                case "--seed" -> b.seed(longValue(flag, v));
                case "--deaths-per-minute" -> b.deathsPerMinute(decimal(flag, v));
                case "--kill-share" -> b.killShare(decimal(flag, v));
                case "--duration" -> b.duration(seconds(flag, v));
                case "--warm-up" -> b.warmUp(seconds(flag, v));
                case "--timeout" -> b.timeout(seconds(flag, v));
                case "--prefix" -> b.prefix(v);
                case "--rules-engine-id" -> b.rulesEngineId(v);
                case "--serve-pid" -> b.servePid(longValue(flag, v));
                case "--metrics" -> b.metricsUri(URI.create(v));
                case "--tick-threads" -> b.tickThreads(integer(flag, v));
                default -> throw new IllegalArgumentException("unknown option " + flag + "\n" + USAGE);
            }
        }
        return b.build();
    }

    private static int integer(String flag, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be an integer, got " + v);
        }
    }

    private static long longValue(String flag, String v) {
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be an integer, got " + v);
        }
    }

    private static double decimal(String flag, String v) {
        try {
            double d = Double.parseDouble(v);
            if (Double.isFinite(d)) {
                return d;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(flag + " must be a number, got " + v);
    }

    private static Duration seconds(String flag, String v) {
        return Duration.ofMillis(Math.round(decimal(flag, v) * 1000));
    }

    /** Builder for {@link BotOptions}; {@link #build()} checks the values. Not thread-safe. */
    public static final class Builder {
        private URI uri = URI.create("ws://127.0.0.1:7420/bridge");
        private String token = System.getenv("NEXORI_BRIDGE_TOKEN");
        private int servers = 1;
        private int matchesPerServer = 1;
        private int players = 16;
        private int hz = 20;
        private long seed = 1;
        private double deathsPerMinute = 2.0;
        private double killShare = 0.5;
        private Duration duration = Duration.ZERO;
        private Duration warmUp = Duration.ofSeconds(10);
        private Duration timeout = Duration.ofSeconds(300);
        private String prefix = "bot";
        private String rulesEngineId = CAPTURE_THE_ZONE;
        private long servePid;
        private URI metricsUri;
        private int tickThreads = 2;
        private boolean json;

        private Builder() {}

        public Builder uri(URI v) { uri = v; return this; }
        public Builder uri(String v) { return uri(URI.create(v)); }
        public Builder token(String v) { token = v; return this; }
        public Builder servers(int v) { servers = v; return this; }
        public Builder matchesPerServer(int v) { matchesPerServer = v; return this; }
        public Builder players(int v) { players = v; return this; }
        public Builder hz(int v) { hz = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder deathsPerMinute(double v) { deathsPerMinute = v; return this; }
        public Builder killShare(double v) { killShare = v; return this; }
        public Builder duration(Duration v) { duration = v; return this; }
        public Builder warmUp(Duration v) { warmUp = v; return this; }
        public Builder timeout(Duration v) { timeout = v; return this; }
        public Builder prefix(String v) { prefix = v; return this; }
        public Builder rulesEngineId(String v) { rulesEngineId = v; return this; }
        public Builder servePid(long v) { servePid = v; return this; }
        public Builder metricsUri(URI v) { metricsUri = v; return this; }
        public Builder tickThreads(int v) { tickThreads = v; return this; }
        public Builder json(boolean v) { json = v; return this; }

        /** @throws IllegalArgumentException naming the flag whose value is out of range */
        public BotOptions build() {
            // A one-shot run has no measurement window, so its warm-up is irrelevant.
            Duration w = duration.isZero() ? Duration.ZERO : warmUp;
            return new BotOptions(uri, token, servers, matchesPerServer, players, hz, seed, deathsPerMinute,
                    killShare, duration, w, timeout, prefix, rulesEngineId, servePid, metricsUri, tickThreads, json);
        }
    }
}
