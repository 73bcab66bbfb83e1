package gg.nexori.bot;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import gg.nexori.bridge.ExpectedPlayer;
import gg.nexori.bridge.GameCommand;
import gg.nexori.bridge.GameEvent;
import gg.nexori.bridge.MatchCreate;
import gg.nexori.bridge.NexoriBridgeClient;
import gg.nexori.bridge.PlayerArrive;
import gg.nexori.bridge.PlayerPlaced;
import gg.nexori.bridge.PlayerReturn;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * One Capture The Zone match as a game server plays it: players walk in and out of the zone, die
 * and wait dead until the mod respawns them, and leave when the host returns them to the lobby.
 *
 * <p>Inputs to the mod are {@code player.tick} game events with {@code data}
 * {@code {worldName, x, y, z, alive, killerPlayerUuid?}} (docs/capture-the-zone: the port's inputs).
 * The bot obeys the mod's game commands as a server would: {@code player.setRespawnPoint} sets where
 * the player respawns, {@code player.forceRespawn} brings a dead player back there; and the host's
 * {@code player.return} takes the player out of the match. Everything random comes from one
 * {@link SplittableRandom} seeded per match, so a seed gives the same movements and deaths.
 *
 * <p>Not thread-safe: only its game server's tick task touches it.
 */
final class BotMatch {
    /** The zone of Capture The Zone's defaults: centre (62, -6), radius 8, y 84..100. */
    static final double ZONE_X = 62.0;
    static final double ZONE_Z = -6.0;
    static final double ZONE_RADIUS = 8.0;
    /** Everyone walks on this level, inside the zone's vertical band. */
    static final double GROUND_Y = 85.0;
    /** Walking speed, blocks per second. */
    static final double SPEED = 5.0;
    /** A player picks a new destination every 2 to 6 seconds. */
    static final double MIN_LEG_SECONDS = 2.0;
    static final double MAX_LEG_SECONDS = 6.0;

    static final String TICK = "player.tick";
    static final String SET_RESPAWN_POINT = "player.setRespawnPoint";
    static final String SET_DEATH_SCREEN = "player.setDeathScreen";
    static final String FORCE_RESPAWN = "player.forceRespawn";
    static final String HUD_UPDATE = "hud.update";

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    /** One player as the game server knows them. */
    static final class Player {
        final UUID uuid;
        final String name;
        double x;
        double z;
        double targetX;
        double targetZ;
        long retargetAtTick;
        boolean alive = true;
        /** Alive ticks sent since the last (re)spawn: a player is seen alive before dying again. */
        int aliveTicksSent;
        /** The next tick is the first dead one; it names the killer, if any. */
        boolean deathUnreported;
        UUID killer;
        /** When the first dead tick went out, until its {@code player.setDeathScreen} arrives; 0 otherwise. */
        long deathSentNanos;
        long lastTickNanos;
        long previousTickNanos;
        double[] home;
        boolean returned;
        String returnReason;
        int deaths;

        Player(UUID uuid, String name) {
            this.uuid = uuid;
            this.name = name;
        }

        /** The send time of the latest tick that went out before {@code nanos}. */
        long tickBefore(long nanos) {
            return lastTickNanos <= nanos ? lastTickNanos : previousTickNanos;
        }
    }

    final String matchId;
    final String worldName;
    private final BotOptions options;
    private final SplittableRandom random;
    private final List<Player> players = new ArrayList<>();
    private final Map<UUID, Player> byUuid = new HashMap<>();
    private final double deathChancePerTick;
    private final long startedNanos;
    private long tick;
    private int returned;

    BotMatch(BotOptions options, String matchId, long nowNanos) {
        this.options = options;
        this.matchId = matchId;
        this.worldName = "nexori-match-" + matchId;
        this.random = new SplittableRandom(options.seed() ^ mix(matchId));
        this.deathChancePerTick = options.deathsPerMinute() / 60.0 / options.hz();
        this.startedNanos = nowNanos;
        for (int i = 0; i < options.players(); i++) {
            UUID uuid = UUID.nameUUIDFromBytes(("nexori-bot/" + options.seed() + "/" + matchId + "/" + i)
                    .getBytes(StandardCharsets.UTF_8));
            Player p = new Player(uuid, "Bot" + (i + 1));
            // Start on a ring around the zone, outside it.
            double angle = 2 * Math.PI * i / options.players();
            p.x = ZONE_X + 14 * Math.cos(angle);
            p.z = ZONE_Z + 14 * Math.sin(angle);
            p.targetX = p.x;
            p.targetZ = p.z;
            players.add(p);
            byUuid.put(uuid, p);
        }
    }

    List<Player> players() {
        return players;
    }

    Player player(UUID uuid) {
        return byUuid.get(uuid);
    }

    /** Every player has been returned to the lobby. */
    boolean ended() {
        return returned == players.size();
    }

    long startedNanos() {
        return startedNanos;
    }

    /** The launch: {@code match.create}, then every player arrives and is placed in the match world. */
    void launch(NexoriBridgeClient client, Tally tally) {
        MatchCreate.Builder create = MatchCreate.builder(matchId).queueId("bot-queue").arenaId("bot-arena")
                .rulesEngineId(options.rulesEngineId()).externalMatchId("ext-" + matchId);
        for (Player p : players) {
            create.expectedPlayer(ExpectedPlayer.of(p.uuid, p.name));
        }
        client.send(create.build());
        for (Player p : players) {
            client.send(PlayerArrive.of(matchId, p.uuid, p.name));
        }
        for (Player p : players) {
            client.send(new PlayerPlaced(matchId, p.uuid, null, worldName, null));
        }
        tally.lifecycleSent += 1 + 2L * players.size();
        tally.matchesStarted++;
    }

    /** One server tick: every player still in the match moves or dies, and sends its {@code player.tick}. */
    void tick(NexoriBridgeClient client, Tally tally, boolean inWindow) {
        tick++;
        for (Player p : players) {
            if (p.returned) {
                continue;
            }
            if (p.alive) {
                walk(p);
                // The mod sees a death only after an alive tick: one right after a respawn would
                // read as the old death going on, and the player would wait for a respawn forever.
                if (p.aliveTicksSent > 0) {
                    maybeDie(p, tally);
                }
            }
            ObjectNode data = NODES.objectNode();
            data.put("worldName", worldName);
            data.put("x", p.x);
            data.put("y", GROUND_Y);
            data.put("z", p.z);
            data.put("alive", p.alive);
            boolean firstDead = p.deathUnreported;
            if (firstDead && p.killer != null) {
                data.put("killerPlayerUuid", p.killer.toString());
            }
            long now = System.nanoTime();
            if (client.send(new GameEvent(matchId, TICK, p.uuid, data))) {
                p.previousTickNanos = p.lastTickNanos;
                p.lastTickNanos = now;
                tally.ticksSent++;
                if (inWindow) {
                    tally.ticksSentInWindow++;
                }
                if (firstDead) {
                    p.deathUnreported = false;
                    p.deathSentNanos = now;
                }
            } else {
                tally.ticksDropped++;
            }
            if (p.alive) {
                p.aliveTicksSent++;
            }
        }
    }

    private void walk(Player p) {
        if (tick >= p.retargetAtTick) {
            boolean inside = random.nextBoolean();
            double angle = random.nextDouble(2 * Math.PI);
            double radius = inside ? random.nextDouble(ZONE_RADIUS - 2) : random.nextDouble(ZONE_RADIUS + 3, 20);
            p.targetX = ZONE_X + radius * Math.cos(angle);
            p.targetZ = ZONE_Z + radius * Math.sin(angle);
            p.retargetAtTick = tick + Math.round(random.nextDouble(MIN_LEG_SECONDS, MAX_LEG_SECONDS) * options.hz());
        }
        double dx = p.targetX - p.x;
        double dz = p.targetZ - p.z;
        double distance = Math.hypot(dx, dz);
        double step = SPEED / options.hz();
        if (distance <= step) {
            p.x = p.targetX;
            p.z = p.targetZ;
        } else {
            p.x += dx / distance * step;
            p.z += dz / distance * step;
        }
    }

    private void maybeDie(Player p, Tally tally) {
        if (random.nextDouble() >= deathChancePerTick) {
            return;
        }
        p.alive = false;
        p.aliveTicksSent = 0;
        p.deathUnreported = true;
        p.deaths++;
        p.killer = null;
        tally.deaths++;
        if (random.nextDouble() < options.killShare()) {
            List<Player> candidates = new ArrayList<>();
            for (Player o : players) {
                if (o != p && o.alive && !o.returned) {
                    candidates.add(o);
                }
            }
            if (!candidates.isEmpty()) {
                p.killer = candidates.get(random.nextInt(candidates.size())).uuid;
                tally.deathsWithKiller++;
            }
        }
    }

    /** A {@code game.command} of this match, received at {@code receivedNanos}. */
    void onGameCommand(GameCommand c, long receivedNanos, Tally tally, boolean inWindow) {
        tally.command(c.name());
        Player p = c.player() == null ? null : byUuid.get(c.player());
        if (p == null) {
            if (SET_RESPAWN_POINT.equals(c.name()) || FORCE_RESPAWN.equals(c.name())) {
                tally.anomaly(c.name() + " for " + c.player() + ", who is not in match " + matchId);
            }
            return;
        }
        switch (c.name()) {
            case SET_RESPAWN_POINT -> setRespawnPoint(p, c.data(), tally);
            case SET_DEATH_SCREEN -> {
                tally.deathScreens++;
                if (p.deathSentNanos != 0) {
                    if (inWindow) {
                        tally.deathToCommand.record(receivedNanos - p.deathSentNanos);
                        tally.worstPerSecond(receivedNanos, receivedNanos - p.deathSentNanos);
                    }
                    p.deathSentNanos = 0;
                }
            }
            case FORCE_RESPAWN -> forceRespawn(p, tally);
            case HUD_UPDATE -> {
                long sent = p.tickBefore(receivedNanos);
                if (inWindow && sent != 0) {
                    tally.tickToHud.record(receivedNanos - sent);
                }
            }
            default -> { } // messages, HUD removal: counted above
        }
    }

    private void setRespawnPoint(Player p, JsonNode data, Tally tally) {
        tally.respawnPoints++;
        if (data == null || !data.path("x").isNumber() || !data.path("z").isNumber()) {
            tally.anomaly(SET_RESPAWN_POINT + " without x and z: " + data);
            return;
        }
        String world = data.path("worldName").asText("");
        if (!world.equalsIgnoreCase(worldName)) {
            tally.anomaly(SET_RESPAWN_POINT + " for world " + world + " in match " + matchId);
        }
        p.home = new double[] {data.path("x").asDouble(), data.path("y").asDouble(), data.path("z").asDouble()};
    }

    private void forceRespawn(Player p, Tally tally) {
        tally.forcedRespawns++;
        if (p.alive) {
            tally.anomaly(FORCE_RESPAWN + " for " + p.name + " of " + matchId + ", who is alive");
            return;
        }
        p.alive = true;
        p.deathUnreported = false;
        if (p.home == null) {
            tally.anomaly(FORCE_RESPAWN + " for " + p.name + " of " + matchId + " before any respawn point");
            return;
        }
        p.x = p.home[0];
        p.z = p.home[2];
        p.targetX = p.x;
        p.targetZ = p.z;
        tally.respawnsAtHome++;
    }

    /** The host's {@code player.return}: the player leaves the match for the lobby. */
    void onReturn(PlayerReturn r, Tally tally) {
        Player p = byUuid.get(r.player());
        if (p == null) {
            tally.anomaly("player.return for " + r.player() + ", who is not in match " + matchId);
            return;
        }
        if (p.returned) {
            tally.anomaly("a second player.return for " + p.name + " of " + matchId);
            return;
        }
        p.returned = true;
        p.returnReason = r.reason();
        returned++;
        tally.returns++;
        tally.returnReasons.merge(r.reason(), 1L, Long::sum);
    }

    private static long mix(String s) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < s.length(); i++) {
            h = (h ^ s.charAt(i)) * 0x100000001b3L;
        }
        return h;
    }
}
