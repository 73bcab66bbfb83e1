package gg.nexori.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Every message serialises to exactly the JSON of docs/bridge-protocol.md. */
class MessageJsonTest {
    static final UUID ALICE = UUID.fromString("11111111-1111-1111-1111-111111111111");
    static final UUID BOB = UUID.fromString("2222AAAA-2222-2222-2222-222222222222");

    static void assertJson(String expected, BridgeMessage message) throws Exception {
        JsonNode want = Json.MAPPER.readTree(expected);
        ObjectNode got = message.toJson();
        assertEquals(want, got, () -> "got " + got);
        // the wire text parses to the same tree, with "type" first
        JsonNode wire = Json.MAPPER.readTree(Json.write(got));
        assertEquals(want, wire);
        Iterator<String> names = wire.fieldNames();
        assertEquals("type", names.next());
        assertEquals(message.type(), wire.get("type").asText());
    }

    @Test
    void matchCreateMinimal() throws Exception {
        assertJson("""
                {"type":"match.create","matchId":"m1","queueId":"q","arenaId":"a","rulesEngineId":"scripted",
                 "expectedPlayers":[]}""",
                MatchCreate.builder("m1").queueId("q").arenaId("a").rulesEngineId("scripted").build());
    }

    @Test
    void matchCreateWithTheWholeLaunchContext() throws Exception {
        MatchCreate m = MatchCreate.builder("m1").queueId("q").arenaId("a").rulesEngineId("scripted")
                .assignmentId("as-1").externalMatchId("ext-1").matchSource(MatchSource.BACKEND_DRIVEN)
                .expectedPlayer(ALICE, "Alice")
                .expectedPlayer(new ExpectedPlayer(BOB, null, "as-bob"))
                .expectedPlayerCount(2).minimumInitialPlayers(1).initialPlacementWindowSeconds(30)
                .admission(new Admission(8, true, "ACTIVE_WINDOW", 60))
                .afkDetectionPolicy(new AfkDetectionPolicy(true, 45))
                .build();
        assertJson("""
                {"type":"match.create","matchId":"m1","queueId":"q","arenaId":"a","rulesEngineId":"scripted",
                 "assignmentId":"as-1","externalMatchId":"ext-1","matchSource":"BACKEND_DRIVEN",
                 "expectedPlayers":[{"uuid":"11111111-1111-1111-1111-111111111111","name":"Alice"},
                                    {"uuid":"2222aaaa-2222-2222-2222-222222222222","assignmentId":"as-bob"}],
                 "expectedPlayerCount":2,"minimumInitialPlayers":1,"initialPlacementWindowSeconds":30,
                 "admission":{"capacity":8,"backfillEnabled":true,"backfillMode":"ACTIVE_WINDOW","backfillWindowSeconds":60},
                 "afkDetectionPolicy":{"enabled":true,"inactivityTimeoutSeconds":45}}""", m);
    }

    @Test
    void matchCreateNeedsItsRequiredFields() {
        NullPointerException e = assertThrows(NullPointerException.class,
                () -> MatchCreate.builder("m1").queueId("q").arenaId("a").build());
        assertEquals("rulesEngineId is required", e.getMessage());
    }

    @Test
    void matchCreateCopiesTheExpectedPlayers() {
        var list = new java.util.ArrayList<ExpectedPlayer>();
        list.add(ExpectedPlayer.of(ALICE));
        MatchCreate m = new MatchCreate("m", "q", "a", "r", null, null, null, list, null, null, null, null, null);
        list.clear();
        assertEquals(1, m.expectedPlayers().size());
    }

    @Test
    void playerArrive() throws Exception {
        assertJson("""
                {"type":"player.arrive","matchId":"m1","player":"11111111-1111-1111-1111-111111111111"}""",
                PlayerArrive.of("m1", ALICE));
        assertJson("""
                {"type":"player.arrive","matchId":"m1","player":"11111111-1111-1111-1111-111111111111","name":"Alice"}""",
                PlayerArrive.of("m1", ALICE, "Alice"));
        assertJson("""
                {"type":"player.arrive","matchId":"m1","player":"2222aaaa-2222-2222-2222-222222222222","name":"Bob",
                 "assignmentId":"as-2","admissionReservationId":"res-9","admissionExpiresAtEpochMs":1760000030000}""",
                PlayerArrive.backfill("m1", BOB, "Bob", "res-9", 1760000030000L).withAssignmentId("as-2"));
    }

    @Test
    void playerPlaced() throws Exception {
        assertJson("""
                {"type":"player.placed","matchId":"m1","player":"11111111-1111-1111-1111-111111111111"}""",
                PlayerPlaced.of("m1", ALICE));
        assertJson("""
                {"type":"player.placed","matchId":"m1","player":"11111111-1111-1111-1111-111111111111",
                 "outcome":"FALLBACK","worldName":"arena_world","instanceTemplateId":"tmpl-3"}""",
                new PlayerPlaced("m1", ALICE, PlacementOutcome.FALLBACK, "arena_world", "tmpl-3"));
    }

    @Test
    void playerActivity() throws Exception {
        assertJson("""
                {"type":"player.activity","player":"11111111-1111-1111-1111-111111111111"}""",
                PlayerActivity.of(ALICE));
        assertJson("""
                {"type":"player.activity","player":"11111111-1111-1111-1111-111111111111","source":"INVENTORY_PACKET"}""",
                new PlayerActivity(ALICE, ActivitySource.INVENTORY_PACKET));
    }

    @Test
    void playerDisconnect() throws Exception {
        assertJson("""
                {"type":"player.disconnect","player":"11111111-1111-1111-1111-111111111111"}""",
                new PlayerDisconnect(ALICE, null));
        assertJson("""
                {"type":"player.disconnect","player":"11111111-1111-1111-1111-111111111111","reason":"timed out"}""",
                new PlayerDisconnect(ALICE, "timed out"));
    }

    @Test
    void gameEvent() throws Exception {
        assertJson("""
                {"type":"game.event","matchId":"m1","kind":"zone.enter"}""", GameEvent.of("m1", "zone.enter"));
        ObjectNode data = Json.MAPPER.createObjectNode();
        data.put("zone", "mid").putArray("pos").add(1.5).add(-2).add(64);
        GameEvent e = new GameEvent("m1", "zone.enter", ALICE, data);
        assertJson("""
                {"type":"game.event","matchId":"m1","kind":"zone.enter","player":"11111111-1111-1111-1111-111111111111",
                 "data":{"zone":"mid","pos":[1.5,-2,64]}}""", e);
        // JSON null data is absent, as the host reads it
        assertJson("""
                {"type":"game.event","matchId":"m1","kind":"tick"}""",
                new GameEvent("m1", "tick", null, Json.MAPPER.getNodeFactory().nullNode()));
        assertFalse(e.isLifecycle());
    }

    @Test
    void matchEnd() throws Exception {
        assertJson("""
                {"type":"match.end","matchId":"m1"}""", new MatchEnd("m1", null));
        assertJson("""
                {"type":"match.end","matchId":"m1","reason":"admin ended it"}""", new MatchEnd("m1", "admin ended it"));
        assertTrue(new MatchEnd("m1", null).isLifecycle());
    }

    @Test
    void nonAsciiTextIsWrittenAsUtf8Json() throws Exception {
        String text = Json.write(new PlayerDisconnect(ALICE, "café \uD83D\uDE00 \"quoted\"").toJson());
        assertEquals("café \uD83D\uDE00 \"quoted\"", Json.MAPPER.readTree(text).get("reason").asText());
        assertEquals(text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length, NexoriBridgeClient.utf8Length(text));
    }
}
