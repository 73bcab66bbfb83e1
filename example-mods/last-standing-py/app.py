"""last_standing, in Python: an elimination round. The last player alive wins.

The same rules as the Rust mod in ``example-mods/last-standing`` (the tests compare the two call
for call): listeners registered at start-up for ``last_standing``; players become alive when
their placement is confirmed; the round starts at ``on_match_start_allowed``; ``player.died``
game events (``data`` optionally ``{"killerPlayerUuid": "…"}``) and disconnects eliminate;
when at most one player is alive, every required player gets an outcome, the final result is
submitted once, and players go back to the lobby after it was accepted.

Configuration (JSON, every key optional): ``returnDelaySeconds`` (5), ``closeAdmissionAtStart``
(true), ``roundTimeLimitSeconds`` (0: none; when it runs out, every survivor wins).
"""

import nexori
from nexori.exports import *  # noqa: F401,F403  (the component's exports, served by the SDK)

from session import Config, Session

RULES_ENGINE_ID = "last_standing"


class LastStanding(nexori.RulesMod):
    """The configuration and one session per match the instance serves."""

    def __init__(self, config: dict) -> None:
        self.config = Config.parse(config)
        nexori.register_match_lifecycle_listener(RULES_ENGINE_ID)
        nexori.register_afk_activity_listener(RULES_ENGINE_ID)
        self.sessions: dict[str, Session] = {}

    def session(self, match_id: str) -> Session:
        if match_id not in self.sessions:
            self.sessions[match_id] = Session(match_id)
        return self.sessions[match_id]

    def close_session(self, match_id: str) -> None:
        session = self.sessions.pop(match_id, None)
        if session is not None:
            session.clear()

    def on_match_created(self, event: nexori.MatchLifecycleEvent) -> None:
        nexori.debug(
            f"match {event.match_id} created with {len(event.expected_player_uuids)} expected players"
        )
        self.session(event.match_id)

    def on_player_arrived(self, event: nexori.PlayerMatchLifecycleEvent) -> None:
        self.session(event.match.match_id).player_arrived(event.player_uuid, event.player_name)

    def on_player_placement_confirmed(self, event: nexori.PlayerPlacementLifecycleEvent) -> None:
        player = event.player
        self.session(player.match.match_id).player_placed(player.player_uuid, player.player_name)

    def on_match_start_allowed(self, event: nexori.MatchLifecycleEvent) -> None:
        self.session(event.match_id).start(self.config, event.reason)

    def on_match_cancellation_requested(self, event: nexori.MatchLifecycleEvent) -> None:
        nexori.info(f"match {event.match_id} cancelled by Nexori ({event.reason}); dropping the round")
        self.close_session(event.match_id)

    def on_match_completed(self, event: nexori.MatchLifecycleEvent) -> None:
        nexori.info(f"match {event.match_id} completed ({event.reason})")

    def on_match_runtime_closed(self, event: nexori.MatchLifecycleEvent) -> None:
        self.close_session(event.match_id)

    def on_player_afk_changed(self, event: nexori.PlayerAfkChangedEvent) -> None:
        # AFK players still count as alive: the round only ends by elimination.
        state = "AFK" if event.afk else "active again"
        nexori.info(f"player {event.player_uuid} is {state} ({event.source.name})")

    def on_game_event(self, event: nexori.GameEvent) -> None:
        if event.kind == "player.died":
            self.session(event.match_id).player_died(self.config, event)

    def on_player_disconnected(self, event: nexori.PlayerDisconnectedEvent) -> None:
        self.session(event.match_id).player_disconnected(self.config, event.player_uuid)

    def on_timer(self, timer_id: int) -> None:
        for session in self.sessions.values():
            if session.owns_timer(timer_id):
                session.time_limit_reached(self.config, timer_id)
                return


nexori.export_rules_mod(LastStanding)
