package gg.nexori.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** stats() already counts a command or error reply when its listener call runs. */
class StatsBeforeListenerTest {
    @Test
    void aListenerSeesItsOwnMessageCounted() {
        FakeTransport transport = new FakeTransport();
        FakeScheduler scheduler = new FakeScheduler();
        AtomicReference<NexoriBridgeClient> client = new AtomicReference<>();
        List<String> seen = new ArrayList<>();
        BridgeListener listener = new BridgeListener() {
            @Override public void onAfkHud(PlayerAfkHud c) {
                seen.add("commands=" + client.get().stats().commandsReceived());
            }
            @Override public void onError(String error, String message) {
                seen.add("errors=" + client.get().stats().errorReplies());
            }
        };
        NexoriBridgeClient c = NexoriBridgeClient.builder().uri("ws://127.0.0.1:1").serverName("s")
                .listener(listener).transport(transport).scheduler(scheduler).build();
        client.set(c);
        c.start();
        scheduler.runDue();
        transport.last().open();
        scheduler.runDue();
        transport.last().events.onText("{\"type\":\"player.afkHud\",\"matchId\":\"m1\",\"player\":\"11111111-1111-1111-1111-111111111111\",\"afk\":true}");
        transport.last().events.onText("{\"type\":\"error\",\"error\":\"unknown match \\\"m9\\\"\",\"message\":{\"type\":\"match.end\",\"matchId\":\"m9\"}}");
        scheduler.runDue();
        assertEquals(List.of("commands=1", "errors=1"), seen);
    }
}
