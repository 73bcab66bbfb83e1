"""{{name}}: the first player to die loses, everyone else wins.

Start here: the callbacks are the ``nexori.RulesMod`` methods, the Nexori API is the ``nexori.*``
functions (``help(nexori)`` lists them), and ``scenarios/first-blood.json`` plays a match through
the mod and checks what it did.
"""

import nexori
from nexori import Outcome, SetPlayerOutcomeStatus
from nexori.exports import *  # noqa: F401,F403  (the component's exports, served by the SDK)

# The rules engine id this mod registers: matches created with it are this mod's.
RULES_ENGINE_ID = "{{name}}"


class Mod(nexori.RulesMod):
    def __init__(self, config: dict) -> None:
        unknown = set(config) - {"returnDelaySeconds"}
        if unknown:
            raise nexori.NexoriError(f"invalid mod configuration: unknown field `{sorted(unknown)[0]}`")
        self.return_delay_seconds = int(config.get("returnDelaySeconds", 5))
        self.resolved = False
        nexori.register_match_lifecycle_listener(RULES_ENGINE_ID)

    def on_match_start_allowed(self, event: nexori.MatchLifecycleEvent) -> None:
        nexori.info(f"match {event.match_id} started ({event.reason})")

    def on_game_event(self, event: nexori.GameEvent) -> None:
        if event.kind != "player.died" or event.player is None or self.resolved:
            return
        self.resolved = True
        requirements = nexori.find_match_result_requirements(event.match_id)
        if requirements is None:
            return
        for player in requirements.required_player_uuids:
            outcome, reason = (Outcome.LOSS, "first_out") if player == event.player else (Outcome.WIN, "survived")
            result = nexori.set_player_outcome(event.match_id, player, outcome, reason)
            if result.status != SetPlayerOutcomeStatus.UPDATED:
                nexori.warn(f"no outcome for {player} ({result.status.name}): {result.message}")
        data = {"mode": RULES_ENGINE_ID, "firstOutPlayerUuid": event.player}
        result = nexori.submit_final_match_result(event.match_id, "first_blood", data)
        if not nexori.is_completed(result):
            nexori.warn(f"result not accepted ({result.match_status.name}): {result.message}")
            return
        for player in requirements.required_player_uuids:
            nexori.return_player_to_lobby(event.match_id, player, self.return_delay_seconds, "match_completed")


nexori.export_rules_mod(Mod)
