package gg.nexori.bridge;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * {@code match.create}: a launch context reached this arena server. Build it with
 * {@link #builder(String)}; {@code matchId}, {@code queueId}, {@code arenaId} and
 * {@code rulesEngineId} are required, {@code expectedPlayers} is always written (possibly empty),
 * every other field is left out unless set.
 */
public record MatchCreate(
        String matchId,
        String queueId,
        String arenaId,
        String rulesEngineId,
        String assignmentId,
        String externalMatchId,
        MatchSource matchSource,
        List<ExpectedPlayer> expectedPlayers,
        Integer expectedPlayerCount,
        Integer minimumInitialPlayers,
        Integer initialPlacementWindowSeconds,
        Admission admission,
        AfkDetectionPolicy afkDetectionPolicy)
        implements BridgeMessage {

    public static final String TYPE = "match.create";

    public MatchCreate {
        Json.require(matchId, "matchId");
        Json.require(queueId, "queueId");
        Json.require(arenaId, "arenaId");
        Json.require(rulesEngineId, "rulesEngineId");
        expectedPlayers = List.copyOf(expectedPlayers == null ? List.of() : expectedPlayers);
    }

    public static Builder builder(String matchId) {
        return new Builder(matchId);
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public ObjectNode toJson() {
        ObjectNode node = Json.object(TYPE);
        node.put("matchId", matchId);
        node.put("queueId", queueId);
        node.put("arenaId", arenaId);
        node.put("rulesEngineId", rulesEngineId);
        Json.put(node, "assignmentId", assignmentId);
        Json.put(node, "externalMatchId", externalMatchId);
        Json.put(node, "matchSource", matchSource);
        ArrayNode players = node.putArray("expectedPlayers");
        for (ExpectedPlayer p : expectedPlayers) {
            players.add(p.toJson());
        }
        Json.put(node, "expectedPlayerCount", expectedPlayerCount);
        Json.put(node, "minimumInitialPlayers", minimumInitialPlayers);
        Json.put(node, "initialPlacementWindowSeconds", initialPlacementWindowSeconds);
        if (admission != null) {
            node.set("admission", admission.toJson());
        }
        if (afkDetectionPolicy != null) {
            node.set("afkDetectionPolicy", afkDetectionPolicy.toJson());
        }
        return node;
    }

    /** Builder for {@link MatchCreate}; not thread-safe. */
    public static final class Builder {
        private final String matchId;
        private String queueId;
        private String arenaId;
        private String rulesEngineId;
        private String assignmentId;
        private String externalMatchId;
        private MatchSource matchSource;
        private final List<ExpectedPlayer> expectedPlayers = new ArrayList<>();
        private Integer expectedPlayerCount;
        private Integer minimumInitialPlayers;
        private Integer initialPlacementWindowSeconds;
        private Admission admission;
        private AfkDetectionPolicy afkDetectionPolicy;

        private Builder(String matchId) {
            this.matchId = Objects.requireNonNull(matchId, "matchId");
        }

        public Builder queueId(String v) { this.queueId = v; return this; }
        public Builder arenaId(String v) { this.arenaId = v; return this; }
        public Builder rulesEngineId(String v) { this.rulesEngineId = v; return this; }
        public Builder assignmentId(String v) { this.assignmentId = v; return this; }
        public Builder externalMatchId(String v) { this.externalMatchId = v; return this; }
        public Builder matchSource(MatchSource v) { this.matchSource = v; return this; }
        public Builder expectedPlayer(ExpectedPlayer p) { expectedPlayers.add(Objects.requireNonNull(p)); return this; }
        public Builder expectedPlayer(UUID uuid) { return expectedPlayer(ExpectedPlayer.of(uuid)); }
        public Builder expectedPlayer(UUID uuid, String name) { return expectedPlayer(ExpectedPlayer.of(uuid, name)); }
        public Builder expectedPlayers(List<ExpectedPlayer> ps) { ps.forEach(this::expectedPlayer); return this; }
        public Builder expectedPlayerCount(Integer v) { this.expectedPlayerCount = v; return this; }
        public Builder minimumInitialPlayers(Integer v) { this.minimumInitialPlayers = v; return this; }
        public Builder initialPlacementWindowSeconds(Integer v) { this.initialPlacementWindowSeconds = v; return this; }
        public Builder admission(Admission v) { this.admission = v; return this; }
        public Builder afkDetectionPolicy(AfkDetectionPolicy v) { this.afkDetectionPolicy = v; return this; }

        /** @throws NullPointerException naming the first required field that is not set */
        public MatchCreate build() {
            return new MatchCreate(matchId, queueId, arenaId, rulesEngineId, assignmentId, externalMatchId,
                    matchSource, expectedPlayers, expectedPlayerCount, minimumInitialPlayers,
                    initialPlacementWindowSeconds, admission, afkDetectionPolicy);
        }
    }
}
