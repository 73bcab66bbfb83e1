package gg.nexori.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;
import java.util.function.Consumer;

/** Reads one text message from the host and calls the listener. */
final class CommandDecoder {
    enum Kind { COMMAND, ERROR, UNKNOWN }

    private CommandDecoder() {}

    /** A decoded message: what kind it is and the listener call it makes (not yet made). */
    record Decoded(Kind kind, Consumer<BridgeListener> call) {
        void deliver(BridgeListener listener) {
            call.accept(listener);
        }
    }

    /** Decodes and calls the listener at once; returns the kind. */
    static Kind dispatch(String text, BridgeListener listener) {
        Decoded d = decode(text);
        d.deliver(listener);
        return d.kind();
    }

    /**
     * Decodes one message without calling the listener, so the caller can count it before the
     * listener runs (a listener that wakes another thread must see the count already updated).
     */
    static Decoded decode(String text) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(text);
        } catch (Exception e) {
            node = null;
        }
        if (node == null || !node.isObject()) {
            JsonNode whole = Json.MAPPER.getNodeFactory().textNode(text);
            return new Decoded(Kind.UNKNOWN, l -> l.onUnknownCommand(whole));
        }
        String type = node.path("type").isTextual() ? node.get("type").asText() : null;
        try {
            if ("error".equals(type)) {
                JsonNode message = node.get("message");
                String quoted = message == null || message.isNull() ? null
                        : message.isTextual() ? message.asText() : Json.write(message);
                String error = string(node, "error", true);
                return new Decoded(Kind.ERROR, l -> l.onError(error, quoted));
            }
            if (type != null) {
                switch (type) {
                    case PlayerReturn.TYPE -> {
                        PlayerReturn c = new PlayerReturn(string(node, "matchId", true), uuid(node, "player", true),
                                string(node, "reason", true));
                        return new Decoded(Kind.COMMAND, l -> l.onReturn(c));
                    }
                    case PlayerSpectator.TYPE -> {
                        PlayerSpectator c = new PlayerSpectator(string(node, "matchId", true), uuid(node, "player", true),
                                bool(node, "spectator"), string(node, "modelId", false));
                        return new Decoded(Kind.COMMAND, l -> l.onSpectator(c));
                    }
                    case PlayerAfkHud.TYPE -> {
                        PlayerAfkHud c = new PlayerAfkHud(string(node, "matchId", true), uuid(node, "player", true),
                                bool(node, "afk"));
                        return new Decoded(Kind.COMMAND, l -> l.onAfkHud(c));
                    }
                    case PlayerMessage.TYPE -> {
                        PlayerMessage c = new PlayerMessage(string(node, "matchId", true), uuid(node, "player", true),
                                string(node, "text", true));
                        return new Decoded(Kind.COMMAND, l -> l.onMessage(c));
                    }
                    case GameCommand.TYPE -> {
                        JsonNode data = node.get("data");
                        GameCommand c = new GameCommand(string(node, "matchId", true), uuid(node, "player", false),
                                string(node, "name", true), data == null || data.isNull() ? null : data);
                        return new Decoded(Kind.COMMAND, l -> l.onGameCommand(c));
                    }
                    default -> { }
                }
            }
        } catch (BadField e) {
            // a known type with unreadable fields: passed on whole, like an unknown one
        }
        JsonNode whole = node;
        return new Decoded(Kind.UNKNOWN, l -> l.onUnknownCommand(whole));
    }

    private static final class BadField extends Exception {
        private static final long serialVersionUID = 1L;

        BadField() {
            super(null, null, false, false);
        }
    }

    private static String string(JsonNode node, String field, boolean required) throws BadField {
        JsonNode v = node.get(field);
        if (v == null || v.isNull()) {
            if (required) {
                throw new BadField();
            }
            return null;
        }
        if (!v.isTextual()) {
            throw new BadField();
        }
        return v.asText();
    }

    private static UUID uuid(JsonNode node, String field, boolean required) throws BadField {
        String s = string(node, field, required);
        if (s == null) {
            return null;
        }
        try {
            return UUID.fromString(s);
        } catch (IllegalArgumentException e) {
            throw new BadField();
        }
    }

    private static boolean bool(JsonNode node, String field) throws BadField {
        JsonNode v = node.get(field);
        if (v == null || !v.isBoolean()) {
            throw new BadField();
        }
        return v.asBoolean();
    }
}
