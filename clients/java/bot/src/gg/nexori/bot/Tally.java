package gg.nexori.bot;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What one game server saw and did. Owned by that server's tick task (no locking); the run adds
 * the servers' tallies up with {@link #add} once the ticks have stopped.
 */
final class Tally {
    /** Each kind of problem keeps this many examples; the rest are only counted. */
    static final int EXAMPLES = 10;

    long ticksSent;
    long ticksSentInWindow;
    long ticksDropped;
    /** Messages the clients dropped because their queue was full (the bot could not write fast enough). */
    long droppedQueueFull;
    /** The most messages waiting in the clients' queues at once (sampled every 100 ms or less). */
    long maxQueued;
    /** The bot's own CPU time over the window, in clock ticks; -1 when unknown. */
    long botCpuTicks = -1;
    long lifecycleSent;
    long matchesStarted;
    long matchesEnded;
    long deaths;
    long deathsWithKiller;
    long forcedRespawns;
    long respawnsAtHome;
    long respawnPoints;
    long deathScreens;
    long returns;
    long commandsForUnknownMatches;
    /** Ticks answered {@code unknown match} because the host closed the match while they were on the wire. */
    long ticksAfterClose;
    final Map<String, Long> commands = new TreeMap<>();
    final Map<String, Long> returnReasons = new TreeMap<>();
    long anomalies;
    final List<String> anomalyExamples = new ArrayList<>();
    long errors;
    final List<String> errorExamples = new ArrayList<>();
    /** From a player's first dead tick to its {@code player.setDeathScreen}. */
    final Samples deathToCommand = new Samples();
    /** From a player's latest tick to a {@code hud.update} for it. */
    final Samples tickToHud = new Samples();

    /** The worst death-to-command latency per second of the run, in ns (index: seconds since {@link #origin}). */
    final long[] worstBySecond = new long[3600];
    /** When the run started, for {@link #worstBySecond}. */
    long origin;

    void worstPerSecond(long receivedNanos, long latency) {
        int second = (int) ((receivedNanos - origin) / 1_000_000_000L);
        if (second >= 0 && second < worstBySecond.length) {
            worstBySecond[second] = Math.max(worstBySecond[second], latency);
        }
    }

    void command(String name) {
        commands.merge(name, 1L, Long::sum);
    }

    /** Something the host did that a game server would not expect (e.g. a respawn before a respawn point). */
    void anomaly(String what) {
        anomalies++;
        if (anomalyExamples.size() < EXAMPLES) {
            anomalyExamples.add(what);
        }
    }

    /** An error reply from the host. */
    void error(String what) {
        errors++;
        if (errorExamples.size() < EXAMPLES) {
            errorExamples.add(what);
        }
    }

    void add(Tally o) {
        ticksSent += o.ticksSent;
        ticksSentInWindow += o.ticksSentInWindow;
        ticksDropped += o.ticksDropped;
        lifecycleSent += o.lifecycleSent;
        matchesStarted += o.matchesStarted;
        matchesEnded += o.matchesEnded;
        deaths += o.deaths;
        deathsWithKiller += o.deathsWithKiller;
        forcedRespawns += o.forcedRespawns;
        respawnsAtHome += o.respawnsAtHome;
        respawnPoints += o.respawnPoints;
        deathScreens += o.deathScreens;
        returns += o.returns;
        commandsForUnknownMatches += o.commandsForUnknownMatches;
        ticksAfterClose += o.ticksAfterClose;
        for (int i = 0; i < worstBySecond.length; i++) {
            worstBySecond[i] = Math.max(worstBySecond[i], o.worstBySecond[i]);
        }
        o.commands.forEach((k, v) -> commands.merge(k, v, Long::sum));
        o.returnReasons.forEach((k, v) -> returnReasons.merge(k, v, Long::sum));
        anomalies += o.anomalies;
        o.anomalyExamples.stream().limit(EXAMPLES - anomalyExamples.size()).forEach(anomalyExamples::add);
        errors += o.errors;
        o.errorExamples.stream().limit(EXAMPLES - errorExamples.size()).forEach(errorExamples::add);
    }
}
