package gg.nexori.bridge;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Records every callback as an object, in order. */
class RecordingListener implements BridgeListener {
    record Error(String error, String answeredMessage) {}
    record Unknown(JsonNode command) {}
    record Connected() {}

    final List<Object> events = new CopyOnWriteArrayList<>();

    @Override public void onReturn(PlayerReturn c) { events.add(c); }
    @Override public void onSpectator(PlayerSpectator c) { events.add(c); }
    @Override public void onAfkHud(PlayerAfkHud c) { events.add(c); }
    @Override public void onMessage(PlayerMessage c) { events.add(c); }
    @Override public void onGameCommand(GameCommand c) { events.add(c); }
    @Override public void onError(String error, String answered) { events.add(new Error(error, answered)); }
    @Override public void onUnknownCommand(JsonNode c) { events.add(new Unknown(c)); }
    @Override public void onConnected() { events.add(new Connected()); }
    @Override public void onDisconnected(DisconnectReason r) { events.add(r); }

    Object last() {
        return events.get(events.size() - 1);
    }

    <T> List<T> of(Class<T> type) {
        return events.stream().filter(type::isInstance).map(type::cast).toList();
    }
}
