package gg.nexori.bot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The arena bot plays one short Capture The Zone match (16 players at 20 Hz, dying and respawning)
 * against real {@code nexori serve} and {@code nexori backend} processes, and the result is checked
 * where the operator would see it: in the reference backend. Runs only when {@code nexori.bin}
 * names the binary and {@code nexori.mods} holds {@code capture_the_zone.wasm}
 * ({@code NEXORI_BIN=target/debug/nexori clients/java/build.sh}).
 */
@Timeout(180)
class ArenaBotEndToEndTest {
    static final String BRIDGE_TOKEN = "e2e-bridge";
    static final String BACKEND_TOKEN = "e2e-backend";
    static final String SERVER_ID = "8d7c3a4e-0000-4000-8000-0000000000e2";
    static final double CAPTURE_SECONDS = 3.0;
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    static Process backend;
    static Process serve;
    static Path dir;
    static int backendPort;
    static int bridgePort;

    @BeforeAll
    static void startProcesses() throws Exception {
        String bin = System.getProperty("nexori.bin", "");
        Assumptions.assumeTrue(!bin.isBlank() && Files.isExecutable(Path.of(bin)),
                "set -Dnexori.bin=/path/to/nexori (NEXORI_BIN for build.sh) to run against nexori serve");
        Path mod = Path.of(System.getProperty("nexori.mods", ""), "capture_the_zone.wasm");
        assertTrue(Files.isRegularFile(mod), mod + " is missing: run cargo xtask build-mods, or set NEXORI_MODS");

        dir = Files.createTempDirectory("nexori-bot-e2e");
        Files.createDirectories(dir.resolve("mods"));
        Files.copy(mod, dir.resolve("mods/capture_the_zone.wasm"));
        backendPort = freePort();
        bridgePort = freePort();
        backend = new ProcessBuilder(bin, "backend", "--listen", "127.0.0.1:" + backendPort,
                "--token", BACKEND_TOKEN, "--db", dir.resolve("backend.sqlite").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("backend.log").toFile()).start();
        Path config = dir.resolve("nexori.toml");
        Files.writeString(config, String.join("\n",
                "serverId = \"" + SERVER_ID + "\"",
                "modsDir = \"" + dir.resolve("mods") + "\"",
                "dataDir = \"" + dir.resolve("data") + "\"",
                "baseUrl = \"http://127.0.0.1:" + backendPort + "\"",
                "serverToken = \"" + BACKEND_TOKEN + "\"",
                "resultReportingEnabled = true",
                "[bridge]",
                "listen = \"127.0.0.1:" + bridgePort + "\"",
                "token = \"" + BRIDGE_TOKEN + "\"",
                "[mods.capture_the_zone]",
                "captureSecondsToWin = " + CAPTURE_SECONDS,
                "returnDelaySeconds = 1",
                ""));
        serve = new ProcessBuilder(bin, "serve", "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("serve.log").toFile()).start();
        awaitHealthy("http://127.0.0.1:" + backendPort + "/healthz", backend, "backend.log");
        awaitHealthy("http://127.0.0.1:" + bridgePort + "/healthz", serve, "serve.log");
    }

    @AfterAll
    static void stopProcesses() throws Exception {
        for (Process p : new Process[] {serve, backend}) {
            if (p != null) {
                p.destroy();
                if (!p.waitFor(15, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
    }

    @Test
    void aShortCaptureTheZoneMatchEndsWithItsResultAtTheBackend() throws Exception {
        BotOptions options = BotOptions.builder()
                .uri("ws://127.0.0.1:" + bridgePort + "/bridge").token(BRIDGE_TOKEN)
                .players(16).hz(20).seed(7).deathsPerMinute(20).killShare(0.5)
                .timeout(Duration.ofSeconds(90)).prefix("e2e")
                .metricsUri(URI.create("http://127.0.0.1:" + bridgePort + "/metrics"))
                .build();
        BotReport report = ArenaBot.run(options, null);
        System.out.print("ArenaBotEndToEndTest: " + report.text());
        String context = report.text() + "\n--- serve.log (tail)\n" + tail("serve.log");

        // The game server's side: a clean run, every player sent home by the host.
        assertEquals(List.of(), report.problems(), context);
        assertEquals(1, report.tally.matchesEnded, context);
        assertEquals(1, report.ended.size(), context);
        BotServer.EndedMatch match = report.ended.get(0);
        assertEquals("e2e-1-m0-0", match.matchId(), context);
        assertEquals(16, report.tally.returns, context);
        assertEquals(Map.of("mid_capture_match_completed", 16L), report.tally.returnReasons, context);
        // Each player's first tick after the start sets their home; every respawn the mod forced
        // put a dead player back there; the kill/death stream went through.
        assertEquals(16, report.tally.respawnPoints, context);
        assertTrue(report.tally.deaths >= 5, "deaths " + report.tally.deaths + "\n" + context);
        assertTrue(report.tally.deathsWithKiller >= 1, context);
        // Every death the mod saw got its death screen, each answering that player's first dead tick
        // (a death after the capture gets none: the mod ignores a resolved match's ticks).
        assertTrue(report.tally.deathScreens >= 1 && report.tally.deathScreens <= report.tally.deaths, context);
        assertEquals(report.tally.deathScreens, report.deathLatency.count(), context);
        assertTrue(report.tally.forcedRespawns >= 1, context);
        assertEquals(report.tally.forcedRespawns, report.tally.respawnsAtHome, context);
        assertTrue(report.tally.commands.getOrDefault("hud.update", 0L) >= 16, context);

        // The operator's side: the result the reference backend stored.
        JsonNode body = resultBody("ext-" + match.matchId());
        assertEquals(1, body.path("schemaVersion").asInt(), body.toPrettyString());
        assertEquals(SERVER_ID, body.path("serverId").asText());
        assertEquals(match.matchId(), body.path("localMatchId").asText());
        assertEquals("capture_the_zone", body.path("rulesEngineId").asText());
        assertEquals("mid_capture_point_captured", body.path("reason").asText());

        Map<String, String> outcomes = new TreeMap<>();
        String winner = null;
        for (JsonNode p : body.path("players")) {
            outcomes.put(p.path("playerUuid").asText(), p.path("outcome").asText() + " " + p.path("reason").asText());
            if ("WIN".equals(p.path("outcome").asText())) {
                winner = p.path("playerUuid").asText();
            }
        }
        Set<String> botPlayers = new HashSet<>();
        match.players().forEach(p -> botPlayers.add(p.uuid.toString()));
        assertEquals(botPlayers, outcomes.keySet(), body.toPrettyString());
        assertNotNull(winner, body.toPrettyString());
        assertEquals(15, outcomes.values().stream().filter("LOSS mid_capture_loss"::equals).count(), body.toPrettyString());
        assertEquals("WIN mid_capture_win", outcomes.get(winner));

        JsonNode custom = body.path("customData");
        assertEquals("mid_capture", custom.path("mode").asText(), custom.toPrettyString());
        assertEquals(winner, custom.path("winnerPlayerUuid").asText());
        assertEquals(16, custom.path("participantCount").asInt());
        assertEquals(CAPTURE_SECONDS, custom.path("captureSecondsToWin").asDouble(), 1e-9);
        JsonNode progress = custom.path("playerCaptureProgress");
        assertEquals(16, progress.size(), custom.toPrettyString());
        assertEquals(CAPTURE_SECONDS, progress.path(winner).path("progressSeconds").asDouble(), 1e-6);
        assertEquals(100.0, progress.path(winner).path("progressPercent").asDouble(), 1e-6);
        for (BotMatch.Player p : match.players()) {
            JsonNode row = progress.path(p.uuid.toString());
            assertEquals(p.name, row.path("playerName").asText(), custom.toPrettyString());
            assertTrue(row.path("progressSeconds").asDouble() <= CAPTURE_SECONDS + 1e-9, custom.toPrettyString());
        }
    }

    /** The stored body of the one result for {@code externalMatchId}, waiting up to 30 s for delivery. */
    static JsonNode resultBody(String externalMatchId) throws Exception {
        String base = "http://127.0.0.1:" + backendPort;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            JsonNode list = get(base + "/api/results?externalMatchId=" + externalMatchId).path("results");
            if (list.size() == 1) {
                assertEquals(0, list.get(0).path("duplicateMismatchCount").asInt(), list.toPrettyString());
                return get(base + "/api/results/" + list.get(0).path("resultId").asText()).path("body");
            }
            assertEquals(0, list.size(), "more than one result for " + externalMatchId + ": " + list.toPrettyString());
            assertTrue(System.nanoTime() < deadline, "no result for " + externalMatchId + " at the backend within 30 s\n"
                    + tail("serve.log") + "\n--- backend.log\n" + tail("backend.log"));
            Thread.sleep(100);
        }
    }

    static JsonNode get(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), url + ": " + r.body());
        return JSON.readTree(r.body());
    }

    static void awaitHealthy(String url, Process process, String log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            assertTrue(process.isAlive(), log + " exited " + "\n" + tail(log));
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(100);
        }
        throw new AssertionError(url + " not healthy within 60 s\n" + tail(log));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    static String tail(String log) {
        try {
            List<String> lines = Files.readAllLines(dir.resolve(log));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
