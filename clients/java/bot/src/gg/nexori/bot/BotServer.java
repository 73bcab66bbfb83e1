package gg.nexori.bot;

import gg.nexori.bridge.BridgeListener;
import gg.nexori.bridge.DisconnectReason;
import gg.nexori.bridge.GameCommand;
import gg.nexori.bridge.HostCommand;
import gg.nexori.bridge.NexoriBridgeClient;
import gg.nexori.bridge.PlayerAfkHud;
import gg.nexori.bridge.PlayerMessage;
import gg.nexori.bridge.PlayerReturn;
import gg.nexori.bridge.PlayerSpectator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One game server: a bridge connection and the matches it runs. The client's listener only
 * queues what the host sends, stamped with the time it arrived; the server's tick task applies it
 * before moving the players, as a plugin hands commands over to the server's tick thread.
 */
final class BotServer implements BridgeListener {
    /** What the listener hands to the tick task. */
    private record Received(long nanos, HostCommand command, String error, String answered) {}

    /** A match that ended, kept for the report (one-shot runs and tests). */
    record EndedMatch(String matchId, List<BotMatch.Player> players) {}

    private static final Pattern UNKNOWN_MATCH = Pattern.compile("unknown match \"(.*)\"");
    private static final Pattern GAME_EVENT = Pattern.compile("^\\{\"type\":\"game\\.event\"");

    final String name;
    private final BotOptions options;
    private final NexoriBridgeClient client;
    private final ConcurrentLinkedQueue<Received> inbox = new ConcurrentLinkedQueue<>();
    private final CountDownLatch connected = new CountDownLatch(1);
    private volatile DisconnectReason lastDisconnect;
    private final BotMatch[] slots;
    private final int[] generations;
    private final Map<String, BotMatch> live = new HashMap<>();
    private final List<EndedMatch> ended = new ArrayList<>();
    /** Ids of the latest ended matches, to recognise ticks that crossed their close. */
    private final java.util.Set<String> recentlyEnded = java.util.Collections.newSetFromMap(
            new java.util.LinkedHashMap<String, Boolean>() {
                private static final long serialVersionUID = 1L;

                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
                    return size() > 1024;
                }
            });
    /** Matches are replaced when they end (a run with a duration), or each slot plays once. */
    private final boolean replace;
    final Tally tally = new Tally();

    BotServer(BotOptions options, int index, boolean replace) {
        this.options = options;
        this.name = options.prefix() + "-" + index;
        this.replace = replace;
        this.slots = new BotMatch[options.matchesPerServer()];
        this.generations = new int[options.matchesPerServer()];
        this.client = NexoriBridgeClient.builder().uri(options.uri()).serverName(name).token(options.token())
                .listener(this).initialBackoff(Duration.ofMillis(100)).maxBackoff(Duration.ofSeconds(2))
                .closeTimeout(Duration.ofSeconds(5)).build();
    }

    void start() {
        client.start();
    }

    boolean awaitConnected(Duration timeout) throws InterruptedException {
        return connected.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    DisconnectReason lastDisconnect() {
        return lastDisconnect;
    }

    NexoriBridgeClient client() {
        return client;
    }

    /**
     * One server tick: apply what the host sent, launch matches into free slots, then tick every
     * match. {@code inWindow} says whether the measurement window is open.
     */
    void tick(boolean inWindow) {
        drain(inWindow);
        long now = System.nanoTime();
        for (int i = 0; i < slots.length; i++) {
            BotMatch m = slots[i];
            if (m != null && m.ended()) {
                live.remove(m.matchId);
                if (!replace) {
                    // Kept for the report of a one-shot run; a run with a duration replaces
                    // matches for as long as it lasts and only counts them.
                    ended.add(new EndedMatch(m.matchId, m.players()));
                }
                recentlyEnded.add(m.matchId);
                tally.matchesEnded++;
                slots[i] = null;
                if (!replace) {
                    generations[i] = -1; // played its match
                }
            }
            if (slots[i] == null && generations[i] >= 0) {
                String id = name + "-m" + i + "-" + generations[i]++;
                m = new BotMatch(options, id, now);
                slots[i] = m;
                live.put(id, m);
                m.launch(client, tally);
                continue; // placed this tick; its players tick from the next one
            }
            if (m != null) {
                m.tick(client, tally, inWindow);
            }
        }
    }

    /** Every slot has played its match (one-shot runs). */
    boolean done() {
        for (int i = 0; i < slots.length; i++) {
            if (slots[i] != null || generations[i] >= 0 && !replace) {
                return false;
            }
        }
        return true;
    }

    List<BotMatch> liveMatches() {
        return new ArrayList<>(live.values());
    }

    List<EndedMatch> endedMatches() {
        return ended;
    }

    private void drain(boolean inWindow) {
        Received r;
        while ((r = inbox.poll()) != null) {
            if (r.error != null) {
                if (crossedTheClose(r.error, r.answered)) {
                    tally.ticksAfterClose++;
                } else {
                    tally.error(r.error + " (answering " + r.answered + ")");
                }
                continue;
            }
            HostCommand c = r.command;
            BotMatch m = live.get(c.matchId());
            if (m == null) {
                tally.commandsForUnknownMatches++;
                continue;
            }
            if (c instanceof GameCommand g) {
                m.onGameCommand(g, r.nanos, tally, inWindow);
            } else if (c instanceof PlayerReturn ret) {
                tally.command(PlayerReturn.TYPE);
                m.onReturn(ret, tally);
            } else {
                tally.command(c.type());
            }
        }
    }

    /**
     * A {@code player.tick} the bot sent before it learnt that the host had closed the match (the
     * last {@code player.return} and the tick crossed on the wire): the host answers {@code unknown
     * match}, as it would a real server's, and nothing is wrong.
     */
    private boolean crossedTheClose(String error, String answered) {
        // The host names the match in its reason; a long message is quoted cut to 256 bytes, so
        // its type is read from the text rather than parsed.
        Matcher unknown = UNKNOWN_MATCH.matcher(error);
        if (answered == null || !unknown.matches() || !GAME_EVENT.matcher(answered).find()) {
            return false;
        }
        String matchId = unknown.group(1);
        BotMatch m = live.get(matchId);
        return m != null && m.ended() || recentlyEnded.contains(matchId);
    }

    // Listener methods run on the client's thread: stamp and queue only.

    private void received(HostCommand c) {
        inbox.add(new Received(System.nanoTime(), c, null, null));
    }

    @Override public void onReturn(PlayerReturn c) { received(c); }
    @Override public void onSpectator(PlayerSpectator c) { received(c); }
    @Override public void onAfkHud(PlayerAfkHud c) { received(c); }
    @Override public void onMessage(PlayerMessage c) { received(c); }
    @Override public void onGameCommand(GameCommand c) { received(c); }

    @Override
    public void onError(String error, String answeredMessage) {
        inbox.add(new Received(System.nanoTime(), null, error, answeredMessage));
    }

    @Override
    public void onConnected() {
        connected.countDown();
    }

    @Override
    public void onDisconnected(DisconnectReason reason) {
        lastDisconnect = reason;
    }
}
