"""One Last Standing round: who is alive, who eliminated whom, and the resolution."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import nexori
from nexori import (
    CloseMatchAdmissionReason,
    CloseMatchAdmissionStatus,
    Outcome,
    ReturnPlayerStatus,
    SetPlayerOutcomeStatus,
    SetPlayerSpectatorStatus,
)


@dataclass(frozen=True)
class Config:
    """Operator configuration (``config.mods.last_standing``)."""

    return_delay_seconds: int = 5
    close_admission_at_start: bool = True
    round_time_limit_seconds: int = 0

    @staticmethod
    def parse(raw: dict) -> "Config":
        """Unknown keys and wrong types are rejected, so that a typo fails at load instead of
        silently using a default."""
        if not isinstance(raw, dict):
            raise Config.invalid("the configuration must be a JSON object")
        keys = {
            "returnDelaySeconds": ("return_delay_seconds", int),
            "closeAdmissionAtStart": ("close_admission_at_start", bool),
            "roundTimeLimitSeconds": ("round_time_limit_seconds", int),
        }
        values = {}
        for key, value in raw.items():
            if key not in keys:
                raise Config.invalid(f"unknown field `{key}`, expected one of {', '.join(f'`{k}`' for k in keys)}")
            name, kind = keys[key]
            # bool is an int in Python: keep the two apart.
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise Config.invalid(f"`{key}` must be {'a boolean' if kind is bool else 'an integer'}")
            if key == "roundTimeLimitSeconds" and value < 0:
                raise Config.invalid(f"`{key}` must not be negative")
            values[name] = value
        return Config(**values)

    @staticmethod
    def invalid(problem: str) -> nexori.NexoriError:
        # The wording of the Rust SDK's `ModConfig::parse`, so operators read one message.
        return nexori.NexoriError(f"invalid mod configuration: {problem}")


@dataclass
class Player:
    name: str = ""
    kills: int = 0
    alive: bool = False
    eliminated_at_epoch_ms: int = 0


def canonical(uuid: str) -> str:
    return uuid.strip().lower()


@dataclass
class Session:
    match_id: str
    started: bool = False
    resolved: bool = False
    # Keyed by lowercase UUID: the host hands UUIDs out lowercase, game data may not.
    players: dict[str, Player] = field(default_factory=dict)
    # Eliminated players, first out first.
    eliminations: list[str] = field(default_factory=list)
    # Players this mod gave an outcome, so resolution does not overwrite them.
    outcomes: set[str] = field(default_factory=set)
    time_limit: Optional[int] = None

    def alive(self) -> list[str]:
        return [uuid for uuid, player in sorted(self.players.items()) if player.alive]

    def remember(self, uuid: str, name: str) -> Player:
        player = self.players.setdefault(canonical(uuid), Player())
        if name:
            player.name = name
        return player

    def player_arrived(self, uuid: str, name: str) -> None:
        self.remember(uuid, name)

    def player_placed(self, uuid: str, name: str) -> None:
        """Alive, including backfill players placed after the start; an eliminated player stays
        out, and nobody joins a resolved round."""
        player = self.remember(uuid, name)
        if self.resolved or player.eliminated_at_epoch_ms != 0:
            return
        player.alive = True
        if self.started:
            nexori.info(f"backfill player {uuid} joins the round alive")

    def start(self, config: Config, gate_reason: str) -> None:
        if self.started:
            return
        self.started = True
        nexori.info(f"Last Standing round started ({gate_reason}) with {len(self.alive())} players alive")
        if config.close_admission_at_start:
            self.close_admission()
        if config.round_time_limit_seconds > 0:
            try:
                self.time_limit = nexori.set_timer(config.round_time_limit_seconds * 1000)
            except nexori.NexoriError as err:
                nexori.warn(f"round time limit disabled: {err}")
        # A partial-roster start may leave one player (or none): the round is over already.
        self.check_last_standing(config)

    def close_admission(self) -> None:
        result = nexori.close_match_admission(
            self.match_id, CloseMatchAdmissionReason.GAME_PHASE_LOCKED, "Last Standing round started."
        )
        if result.status in (CloseMatchAdmissionStatus.CLOSED, CloseMatchAdmissionStatus.ALREADY_CLOSED):
            return
        if result.status == CloseMatchAdmissionStatus.MATCH_NOT_BACKEND_DRIVEN:
            # Local matches have no backend admission to close.
            nexori.debug(f"admission not closed: {result.message}")
        else:
            nexori.warn(f"could not close admission ({result.status.name}): {result.message}")

    def player_died(self, config: Config, event: nexori.GameEvent) -> None:
        """``player.died``: the victim is out (LOSS, then spectator); the killer gets the kill."""
        if event.player is None:
            nexori.warn("player.died without a player")
            return
        victim = canonical(event.player)
        if not self.started or self.resolved:
            nexori.debug(f"player.died for {victim} ignored: the round is not running")
            return
        if not (victim in self.players and self.players[victim].alive):
            nexori.debug(f"player.died for {victim} ignored: not alive")
            return
        try:
            died = nexori.event_data(event)
        except nexori.NexoriError as err:
            nexori.warn(f"{err}; no kill credited")
            died = None

        self.eliminate(victim, Outcome.LOSS, "eliminated")
        spectator = nexori.set_player_spectator(self.match_id, victim, True, "eliminated_can_watch")
        if spectator.status != SetPlayerSpectatorStatus.UPDATED:
            nexori.warn(f"could not make {victim} a spectator ({spectator.status.name}): {spectator.message}")

        killer = died.get("killerPlayerUuid") if isinstance(died, dict) else None
        if isinstance(killer, str):
            killer = canonical(killer)
            if killer not in self.players:
                nexori.debug(f"killer {killer} is not in the round; no kill credited")
            elif killer != victim:
                self.players[killer].kills += 1
        self.check_last_standing(config)

    def player_disconnected(self, config: Config, uuid: str) -> None:
        """An alive player left the server: DISCONNECTED, and out of the round."""
        uuid = canonical(uuid)
        if self.resolved or not (uuid in self.players and self.players[uuid].alive):
            return
        self.eliminate(uuid, Outcome.DISCONNECTED, "disconnected")
        self.check_last_standing(config)

    def eliminate(self, uuid: str, outcome: Outcome, reason: str) -> None:
        now = nexori.now_epoch_ms()
        player = self.players.get(uuid)
        if player is not None:
            player.alive = False
            player.eliminated_at_epoch_ms = now
        self.eliminations.append(uuid)
        self.set_outcome(uuid, outcome, reason)

    def set_outcome(self, uuid: str, outcome: Outcome, reason: str) -> None:
        result = nexori.set_player_outcome(self.match_id, uuid, outcome, reason)
        if result.status != SetPlayerOutcomeStatus.UPDATED:
            nexori.warn(f"could not set {outcome.name} for {uuid} ({result.status.name}): {result.message}")
        # Recorded even when refused: retrying at resolution would be refused the same way.
        self.outcomes.add(uuid)

    def check_last_standing(self, config: Config) -> None:
        if not self.started or self.resolved:
            return
        alive = self.alive()
        if len(alive) <= 1:
            self.resolve(config, alive, "last_standing", "last_player_standing")

    def owns_timer(self, timer_id: int) -> bool:
        return self.time_limit == timer_id

    def time_limit_reached(self, config: Config, timer_id: int) -> None:
        """The round time limit ran out: every survivor wins."""
        if not self.owns_timer(timer_id):
            return
        self.time_limit = None
        if not self.started or self.resolved:
            return
        survivors = self.alive()
        nexori.info(f"round time limit reached with {len(survivors)} survivors")
        self.resolve(config, survivors, "survived_time_limit", "round_time_limit")

    def resolve(self, config: Config, winners: list[str], win_reason: str, result_reason: str) -> None:
        """Outcomes for everyone required, the final result once, then the returns."""
        self.resolved = True
        self.cancel_timers()
        for winner in winners:
            self.set_outcome(winner, Outcome.WIN, win_reason)

        # The host's list, not ours: it includes players the mod never saw placed (late,
        # absent, backfill), and every one of them needs an outcome for the submit to pass.
        requirements = nexori.find_match_result_requirements(self.match_id)
        if requirements is not None:
            required = [canonical(uuid) for uuid in requirements.required_player_uuids]
        else:
            required = sorted(self.players)
        # Nexori may already have given outcomes (NO_CONTEST to players who missed the
        # placement window); overwriting those with LOSS would misreport them.
        decided = set(self.outcomes)
        info = nexori.find_active_match_info(self.match_id)
        if info is not None:
            decided.update(canonical(state.player_uuid) for state in info.player_outcomes)
        for uuid in required:
            if uuid not in decided:
                self.set_outcome(uuid, Outcome.LOSS, "did_not_finish")

        try:
            result = nexori.submit_final_match_result(
                self.match_id, result_reason, self.result_data(winners, required)
            )
        except nexori.NexoriError as err:
            nexori.error(f"final result not submitted: {err}")
            return
        if not nexori.is_completed(result):
            nexori.warn(f"final result not accepted ({result.match_status.name}): {result.message}")
            return
        for uuid in required:
            returned = nexori.return_player_to_lobby(
                self.match_id, uuid, config.return_delay_seconds, "match_completed"
            )
            if returned.status != ReturnPlayerStatus.SCHEDULED:
                nexori.warn(f"could not return {uuid} ({returned.status.name}): {returned.message}")

    def result_data(self, winners: list[str], required: list[str]) -> dict:
        """``customData``: placements use competition ranking, so tied winners share 1, the last
        player out comes next, and players who never played share the last place."""
        placements = {winner: 1 for winner in winners}
        for rank, uuid in enumerate(reversed(self.eliminations)):
            placements[uuid] = len(winners) + rank + 1
        last = len(winners) + len(self.eliminations) + 1
        players = {}
        for uuid in sorted(set(self.players) | set(required)):
            # Required by the host but never seen by the mod (absent all along): no name, no kills.
            player = self.players.get(uuid, Player())
            players[uuid] = {
                "name": player.name,
                "kills": player.kills,
                "eliminatedAtEpochMs": player.eliminated_at_epoch_ms,
                "placement": placements.get(uuid, last),
            }
        return {
            "mode": "last_standing",
            "winnerPlayerUuid": winners[0] if len(winners) == 1 else None,
            "players": players,
        }

    def cancel_timers(self) -> None:
        if self.time_limit is not None:
            nexori.cancel_timer(self.time_limit)
            self.time_limit = None

    def clear(self) -> None:
        """Drops the round (cancellation or runtime closed): pending timers must not fire into a
        match that no longer exists."""
        self.cancel_timers()
        self.players.clear()
        self.eliminations.clear()
        self.outcomes.clear()
        self.started = False
