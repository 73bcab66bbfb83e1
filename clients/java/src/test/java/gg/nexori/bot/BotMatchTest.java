package gg.nexori.bot;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import gg.nexori.bridge.GameCommand;
import gg.nexori.bridge.NexoriBridgeClient;
import gg.nexori.bridge.PlayerReturn;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bot's game rules and bookkeeping, without a host. */
class BotMatchTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Never started: every tick is dropped (and counted), the match still plays. */
    static final NexoriBridgeClient OFFLINE = NexoriBridgeClient.builder().uri("ws://127.0.0.1:9/bridge")
            .listener(new gg.nexori.bridge.BridgeListener() {}).build();

    static BotOptions options(long seed) {
        return BotOptions.builder().players(16).hz(20).seed(seed).deathsPerMinute(30).build();
    }

    /** Positions and alive flags after {@code ticks} ticks. */
    static double[] play(BotMatch m, int ticks, Tally tally) {
        for (int i = 0; i < ticks; i++) {
            m.tick(OFFLINE, tally, true);
        }
        double[] state = new double[m.players().size() * 3];
        for (int i = 0; i < m.players().size(); i++) {
            BotMatch.Player p = m.players().get(i);
            state[3 * i] = p.x;
            state[3 * i + 1] = p.z;
            state[3 * i + 2] = p.alive ? 1 : 0;
        }
        return state;
    }

    @Test
    void aSeedGivesTheSameMovesAndDeaths() {
        Tally a = new Tally();
        Tally b = new Tally();
        double[] first = play(new BotMatch(options(42), "m1", 0), 400, a);
        double[] second = play(new BotMatch(options(42), "m1", 0), 400, b);
        assertArrayEquals(first, second);
        assertEquals(a.deaths, b.deaths);
        assertTrue(a.deaths > 0, "30 deaths a minute per player over 20 s");
        assertEquals(400L * 16, a.ticksDropped, "an unstarted client drops every tick and the bot counts them");
        assertFalse(java.util.Arrays.equals(first, play(new BotMatch(options(43), "m1", 0), 400, new Tally())),
                "another seed plays differently");
    }

    @Test
    void playersWalkInAndOutOfTheZone() {
        BotMatch m = new BotMatch(BotOptions.builder().seed(5).deathsPerMinute(0).build(), "m1", 0);
        int inside = 0;
        int outside = 0;
        Tally tally = new Tally();
        for (int i = 0; i < 1200; i++) {
            m.tick(OFFLINE, tally, true);
            for (BotMatch.Player p : m.players()) {
                double d = Math.hypot(p.x - BotMatch.ZONE_X, p.z - BotMatch.ZONE_Z);
                if (d <= BotMatch.ZONE_RADIUS) {
                    inside++;
                } else {
                    outside++;
                }
            }
        }
        assertTrue(inside > 1200 * 16 / 5 && outside > 1200 * 16 / 5, inside + " in, " + outside + " out");
        assertEquals(0, tally.deaths);
    }

    @Test
    void aDeadPlayerWaitsForForceRespawnAndComesBackAtTheRespawnPoint() throws Exception {
        BotMatch m = new BotMatch(BotOptions.builder().seed(1).deathsPerMinute(600).build(), "m1", 0);
        Tally tally = new Tally();
        BotMatch.Player p = m.players().get(0);
        m.onGameCommand(new GameCommand("m1", p.uuid, "player.setRespawnPoint", JSON.readTree("""
                {"worldName":"NEXORI-MATCH-m1","name":"mid_capture_home","blockX":61,"blockY":85,"blockZ":-7,
                 "x":61.5,"y":85.0,"z":-6.5}""")), 0, tally, true);
        while (p.alive) {
            m.tick(OFFLINE, tally, true);
        }
        m.tick(OFFLINE, tally, true);
        m.tick(OFFLINE, tally, true);
        assertFalse(p.alive, "nobody respawns on their own");
        m.onGameCommand(new GameCommand("m1", p.uuid, "player.forceRespawn", null), 0, tally, true);
        assertTrue(p.alive);
        assertEquals(61.5, p.x);
        assertEquals(-6.5, p.z);
        assertEquals(1, tally.respawnsAtHome);
        assertEquals(0, tally.anomalies, tally.anomalyExamples::toString);

        // Respawning a living player, or one with no respawn point, is not what a server expects.
        m.onGameCommand(new GameCommand("m1", p.uuid, "player.forceRespawn", null), 0, tally, true);
        BotMatch.Player q = m.players().get(1);
        q.alive = false;
        m.onGameCommand(new GameCommand("m1", q.uuid, "player.forceRespawn", null), 0, tally, true);
        assertEquals(2, tally.anomalies);
        assertEquals(List.of(
                "player.forceRespawn for Bot1 of m1, who is alive",
                "player.forceRespawn for Bot2 of m1 before any respawn point"), tally.anomalyExamples);
    }

    @Test
    void theDeathScreenIsTimedFromTheFirstDeadTick() {
        BotMatch m = new BotMatch(BotOptions.builder().seed(1).deathsPerMinute(600).build(), "m1", 0);
        Tally tally = new Tally();
        BotMatch.Player p = m.players().get(0);
        p.deathSentNanos = 1_000_000;
        m.onGameCommand(new GameCommand("m1", p.uuid, "player.setDeathScreen", null), 3_500_000, tally, true);
        m.onGameCommand(new GameCommand("m1", p.uuid, "player.setDeathScreen", null), 9_000_000, tally, true);
        Samples.Summary s = Samples.summarize(List.of(tally.deathToCommand));
        assertEquals(1, s.count(), "a second death screen for the same death is not a sample");
        assertEquals(2500.0, s.percentileMicros(50));
        assertEquals(2, tally.deathScreens);
    }

    @Test
    void theMatchEndsWhenEveryPlayerIsReturned() {
        BotMatch m = new BotMatch(BotOptions.builder().players(2).build(), "m1", 0);
        Tally tally = new Tally();
        m.onReturn(new PlayerReturn("m1", m.players().get(0).uuid, "mid_capture_match_completed"), tally);
        assertFalse(m.ended());
        m.onReturn(new PlayerReturn("m1", m.players().get(0).uuid, "mid_capture_match_completed"), tally);
        m.onReturn(new PlayerReturn("m1", m.players().get(1).uuid, "mid_capture_match_completed"), tally);
        assertTrue(m.ended());
        assertEquals(Map.of("mid_capture_match_completed", 2L), tally.returnReasons);
        assertEquals(List.of("a second player.return for Bot1 of m1"), tally.anomalyExamples);
    }

    @Test
    void onlyTicksThatCrossedTheirMatchsCloseAreForgiven() {
        BotServer server = new BotServer(BotOptions.builder().players(2).build(), 1, false);
        server.tick(true); // launches bot-1-m0-0 (queued: the client is not started)
        BotMatch m = server.liveMatches().get(0);
        String tick = "{\"type\":\"game.event\",\"matchId\":\"bot-1-m0-0\",\"kind\":\"player.tick\",\"data\":{\"x\":";
        // Before the match ended, "unknown match" is a real error.
        server.onError("unknown match \"bot-1-m0-0\"", tick);
        server.tick(true);
        assertEquals(1, server.tally.errors);
        for (BotMatch.Player p : m.players()) {
            server.onReturn(new PlayerReturn("bot-1-m0-0", p.uuid, "mid_capture_match_completed"));
        }
        server.onError("unknown match \"bot-1-m0-0\"", tick); // cut to 256 bytes by the host: not JSON
        server.onError("unknown match \"bot-1-m0-0\"", "{\"type\":\"player.arrive\",\"matchId\":\"bot-1-m0-0\"}");
        server.onError("unknown match \"other\"", tick.replace("bot-1-m0-0", "other"));
        server.tick(true);
        assertEquals(1, server.tally.ticksAfterClose);
        assertEquals(3, server.tally.errors, server.tally.errorExamples::toString);
        server.onError("unknown match \"bot-1-m0-0\"", tick); // after the match left the live set
        server.tick(true);
        assertEquals(2, server.tally.ticksAfterClose);
        assertEquals(1, server.tally.matchesEnded);
        assertTrue(server.done());
    }

    @Test
    void percentilesAreExactRanks() {
        Samples s = new Samples();
        for (int i = 100; i >= 1; i--) {
            s.record(i * 1000L);
        }
        Samples.Summary sum = Samples.summarize(List.of(s, new Samples()));
        assertEquals(100, sum.count());
        assertEquals(50.0, sum.percentileMicros(50));
        assertEquals(99.0, sum.percentileMicros(99));
        assertEquals(100.0, sum.maxMicros());
        assertTrue(Double.isNaN(Samples.summarize(List.of()).percentileMicros(50)));
    }

    @Test
    void prometheusCountersAreSummedOverLabels() {
        Map<String, Double> c = ServeProbe.sumCounters("""
                # HELP nexori_game_events_total game events
                nexori_game_events_total{mod="capture_the_zone"} 1200
                nexori_game_events_total{mod="scripted"} 34
                nexori_game_event_calls_total{mod="capture_the_zone"} 75
                nexori_bridge_errors_total 2
                nexori_game_events_totally_other 9
                """);
        assertEquals(1234.0, c.get("nexori_game_events_total"));
        assertEquals(75.0, c.get("nexori_game_event_calls_total"));
        assertEquals(2.0, c.get("nexori_bridge_errors_total"));
        assertEquals(0.0, c.get("nexori_faults_total"));
    }

    @Test
    void badOptionsNameTheirFlag() {
        assertEquals("--players must be 1..16, got 17",
                assertThrows(IllegalArgumentException.class, () -> BotOptions.parse(new String[] {"--players", "17"}))
                        .getMessage());
        assertEquals("--hz must be an integer, got fast",
                assertThrows(IllegalArgumentException.class, () -> BotOptions.parse(new String[] {"--hz", "fast"}))
                        .getMessage());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> BotOptions.parse(new String[] {"--speed", "1"}))
                .getMessage().startsWith("unknown option --speed\nusage: arena-bot"));
        assertEquals("--warm-up must be shorter than --duration", assertThrows(IllegalArgumentException.class,
                () -> BotOptions.parse(new String[] {"--duration", "10", "--warm-up", "10"})).getMessage());
        BotOptions o = BotOptions.parse(new String[] {"--servers", "50", "--matches-per-server", "4", "--duration",
                "75", "--warm-up", "15", "--serve-pid", "123", "--uri", "ws://127.0.0.1:7421/bridge"});
        assertEquals(64_000, o.offeredEventsPerSecond());
        assertEquals("http://127.0.0.1:7421/metrics", o.metricsUri().toString(), "metrics follow the bridge address");
    }
}
