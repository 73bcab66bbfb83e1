package gg.nexori.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Host JSON (as docs/bridge-protocol.md and host/protocol/src/commands.rs write it) reaches the right method. */
class CommandDispatchTest {
    static final UUID ALICE = UUID.fromString("11111111-1111-1111-1111-111111111111");

    static Object dispatchOne(String json, CommandDecoder.Kind kind) {
        RecordingListener l = new RecordingListener();
        assertEquals(kind, CommandDecoder.dispatch(json, l));
        assertEquals(1, l.events.size(), () -> "events: " + l.events);
        return l.events.get(0);
    }

    @Test
    void playerReturn() {
        assertEquals(new PlayerReturn("m1", ALICE, "MATCH_ENDED"), dispatchOne("""
                {"type":"player.return","matchId":"m1","player":"11111111-1111-1111-1111-111111111111","reason":"MATCH_ENDED"}""",
                CommandDecoder.Kind.COMMAND));
    }

    @Test
    void playerSpectator() {
        assertEquals(new PlayerSpectator("m1", ALICE, true, "ghost"), dispatchOne("""
                {"type":"player.spectator","matchId":"m1","player":"11111111-1111-1111-1111-111111111111","spectator":true,"modelId":"ghost"}""",
                CommandDecoder.Kind.COMMAND));
        assertEquals(new PlayerSpectator("m1", ALICE, false, null), dispatchOne("""
                {"type":"player.spectator","matchId":"m1","player":"11111111-1111-1111-1111-111111111111","spectator":false}""",
                CommandDecoder.Kind.COMMAND));
    }

    @Test
    void playerAfkHud() {
        assertEquals(new PlayerAfkHud("m1", ALICE, true), dispatchOne("""
                {"type":"player.afkHud","matchId":"m1","player":"11111111-1111-1111-1111-111111111111","afk":true}""",
                CommandDecoder.Kind.COMMAND));
    }

    @Test
    void playerMessage() {
        assertEquals(new PlayerMessage("m1", ALICE, "You missed the placement window."), dispatchOne("""
                {"type":"player.message","matchId":"m1","player":"11111111-1111-1111-1111-111111111111","text":"You missed the placement window."}""",
                CommandDecoder.Kind.COMMAND));
    }

    @Test
    void gameCommandWithAndWithoutPlayerAndData() throws Exception {
        // the literal from host/protocol/src/commands.rs's test
        GameCommand c = (GameCommand) dispatchOne("""
                {"type":"game.command","matchId":"m1","name":"hud.update","data":{"title":"MID CONTROL","rows":["1. P1 5%"],"x":62.50}}""",
                CommandDecoder.Kind.COMMAND);
        assertEquals("m1", c.matchId());
        assertEquals(null, c.player());
        assertEquals("hud.update", c.name());
        assertEquals(Json.MAPPER.readTree("{\"title\":\"MID CONTROL\",\"rows\":[\"1. P1 5%\"],\"x\":62.50}"), c.data());
        assertEquals(new GameCommand("m1", ALICE, "respawn", null), dispatchOne("""
                {"type":"game.command","matchId":"m1","player":"11111111-1111-1111-1111-111111111111","name":"respawn"}""",
                CommandDecoder.Kind.COMMAND));
    }

    @Test
    void errorReplyQuotingTheMessageAsJson() {
        // the example of docs/bridge-protocol.md#error-replies
        assertEquals(new RecordingListener.Error("player.arrive: field \"player\": \"nope\" is not a UUID",
                        "{\"type\":\"player.arrive\",\"matchId\":\"m1\",\"player\":\"nope\"}"),
                dispatchOne("""
                        {"type": "error", "error": "player.arrive: field \\"player\\": \\"nope\\" is not a UUID",
                         "message": {"type": "player.arrive", "matchId": "m1", "player": "nope"}}""",
                        CommandDecoder.Kind.ERROR));
    }

    @Test
    void errorReplyQuotingTheMessageAsText() {
        assertEquals(new RecordingListener.Error("not valid JSON: expected value at line 1 column 1", "nope{"),
                dispatchOne("""
                        {"type":"error","error":"not valid JSON: expected value at line 1 column 1","message":"nope{"}""",
                        CommandDecoder.Kind.ERROR));
        assertEquals(new RecordingListener.Error("unknown match \"m9\"", "{\"type\":\"game.event\"…"),
                dispatchOne("""
                        {"type":"error","error":"unknown match \\"m9\\"","message":"{\\"type\\":\\"game.event\\"…",
                         "messageTruncated":true,"messageBytes":5000}""",
                        CommandDecoder.Kind.ERROR));
    }

    @Test
    void unknownTypesAndUnreadableCommandsGoToOnUnknownCommand() throws Exception {
        for (String json : List.of(
                "{\"type\":\"player.teleport\",\"matchId\":\"m1\",\"x\":1}",
                "{\"type\":\"player.return\",\"matchId\":\"m1\",\"player\":\"not-a-uuid\",\"reason\":\"r\"}",
                "{\"type\":\"player.afkHud\",\"matchId\":\"m1\",\"player\":\"11111111-1111-1111-1111-111111111111\"}",
                "{\"matchId\":\"m1\"}")) {
            assertEquals(new RecordingListener.Unknown(Json.MAPPER.readTree(json)),
                    dispatchOne(json, CommandDecoder.Kind.UNKNOWN), json);
        }
        assertEquals(new RecordingListener.Unknown(Json.MAPPER.getNodeFactory().textNode("not json")),
                dispatchOne("not json", CommandDecoder.Kind.UNKNOWN));
    }

    @Test
    void defaultListenerIgnoresEverything() {
        BridgeListener nothing = new BridgeListener() {};
        CommandDecoder.dispatch("{\"type\":\"player.afkHud\",\"matchId\":\"m1\",\"player\":\"11111111-1111-1111-1111-111111111111\",\"afk\":false}", nothing);
        CommandDecoder.dispatch("{\"type\":\"x\"}", nothing);
        nothing.onConnected();
        nothing.onDisconnected(new DisconnectReason(1000, "", "", false));
    }
}
