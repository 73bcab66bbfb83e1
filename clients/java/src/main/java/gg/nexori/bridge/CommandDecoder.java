package gg.nexori.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.UUID;

/** Reads one text message from the host and calls the listener. */
final class CommandDecoder {
    enum Kind { COMMAND, ERROR, UNKNOWN }

    private CommandDecoder() {}

    static Kind dispatch(String text, BridgeListener listener) {
        JsonNode node;
        try {
            node = Json.MAPPER.readTree(text);
        } catch (Exception e) {
            node = null;
        }
        if (node == null || !node.isObject()) {
            listener.onUnknownCommand(Json.MAPPER.getNodeFactory().textNode(text));
            return Kind.UNKNOWN;
        }
        String type = node.path("type").isTextual() ? node.get("type").asText() : null;
        try {
            if ("error".equals(type)) {
                JsonNode message = node.get("message");
                String quoted = message == null || message.isNull() ? null
                        : message.isTextual() ? message.asText() : Json.write(message);
                listener.onError(string(node, "error", true), quoted);
                return Kind.ERROR;
            }
            if (type != null) {
                switch (type) {
                    case PlayerReturn.TYPE -> {
                        listener.onReturn(new PlayerReturn(string(node, "matchId", true), uuid(node, "player", true),
                                string(node, "reason", true)));
                        return Kind.COMMAND;
                    }
                    case PlayerSpectator.TYPE -> {
                        listener.onSpectator(new PlayerSpectator(string(node, "matchId", true), uuid(node, "player", true),
                                bool(node, "spectator"), string(node, "modelId", false)));
                        return Kind.COMMAND;
                    }
                    case PlayerAfkHud.TYPE -> {
                        listener.onAfkHud(new PlayerAfkHud(string(node, "matchId", true), uuid(node, "player", true),
                                bool(node, "afk")));
                        return Kind.COMMAND;
                    }
                    case PlayerMessage.TYPE -> {
                        listener.onMessage(new PlayerMessage(string(node, "matchId", true), uuid(node, "player", true),
                                string(node, "text", true)));
                        return Kind.COMMAND;
                    }
                    case GameCommand.TYPE -> {
                        JsonNode data = node.get("data");
                        listener.onGameCommand(new GameCommand(string(node, "matchId", true), uuid(node, "player", false),
                                string(node, "name", true), data == null || data.isNull() ? null : data));
                        return Kind.COMMAND;
                    }
                    default -> { }
                }
            }
        } catch (BadField e) {
            // a known type with unreadable fields: passed on whole, like an unknown one
        }
        listener.onUnknownCommand(node);
        return Kind.UNKNOWN;
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
