"""Nexori rules mods in Python.

A rules mod decides a minigame: Nexori's arena runtime owns the match (arrivals, placement, the
start gate, AFK, returns to the lobby) and calls the mod's callbacks; the mod answers through the
Nexori API (outcomes, spectators, the final result) and sends game commands. The host runs each
match in its own sandboxed instance of the mod, so module-level state is per match.

A minimal mod (``app.py``)::

    import nexori
    from nexori import Outcome, SetPlayerOutcomeStatus
    from nexori.exports import *  # the component's exports, served by the SDK

    class FirstBlood(nexori.RulesMod):
        def __init__(self, config: dict):
            # Runs once per instance, before any callback: register the rules engine id.
            nexori.register_match_lifecycle_listener("first_blood")

        def on_game_event(self, event: nexori.GameEvent) -> None:
            if event.kind != "player.died" or event.player is None:
                return
            result = nexori.set_player_outcome(event.match_id, event.player, Outcome.LOSS, "first_blood")
            if result.status != SetPlayerOutcomeStatus.UPDATED:
                nexori.warn(f"outcome refused ({result.status.name}): {result.message}")

    nexori.export_rules_mod(FirstBlood)

Build it into a component with componentize-py (``guest-sdk-python/README.md`` has the command).

The records (``MatchLifecycleEvent``, ``SetPlayerOutcomeResult`` ...) and the statuses (``enum.Enum``
classes such as ``SetPlayerOutcomeStatus``) are the ones componentize-py generates from the
``nexori:minigame`` WIT package: this module re-exports them and never redefines them. The API
functions carry the names of Nexori's Java API in snake_case (``setPlayerOutcome`` is
:func:`set_player_outcome`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Optional, Type, Union

from componentize_py_types import Err

from wit_world.imports import api as _api
from wit_world.imports import host as _host
from wit_world.imports import types

# The records, enums and statuses of the WIT package, as generated (never copied by hand).
from wit_world.imports.types import *  # noqa: F401,F403
from wit_world.imports.types import (
    CloseMatchAdmissionReason,
    CloseMatchAdmissionRequest,
    CloseMatchAdmissionResult,
    GameCommand,
    GameEvent,
    LogLevel,
    MatchResultPlayerOutcome,
    SubmitFinalMatchResultRequest,
    SubmitFinalMatchResultResult,
)
from wit_world.imports.api import ListenerRegistration  # noqa: F401
from wit_world.imports.api import (  # noqa: F401  (the API, as generated)
    clear_match_afk_detection_policy,
    clear_player_afk_detection_policy,
    find_active_match_id,
    find_active_match_info,
    find_active_player_uuid,
    find_match_placement_state,
    find_match_resolution_trigger_id,
    find_match_result_requirements,
    find_rules_engine_id,
    set_match_afk_detection_policy,
    set_player_afk,
    set_player_afk_detection_policy,
    set_player_outcome,
    return_player_to_lobby,
)
from wit_world.imports.host import cancel_timer, current_match_id, now_epoch_ms  # noqa: F401

#: ``NexoriMatchResultPlayerOutcome``, by its short name: ``Outcome.WIN``.
Outcome = MatchResultPlayerOutcome


class NexoriError(Exception):
    """A call the host refused, with the host's message (``str(error)``)."""

    @property
    def message(self) -> str:
        """The host's message."""
        return str(self.args[0]) if self.args else ""


def _host_error(err: Err) -> NexoriError:
    return NexoriError(err.value)


# ---------------------------------------------------------------------------- registration


def register_match_lifecycle_listener(rules_engine_id: str) -> ListenerRegistration:
    """Routes the lifecycle callbacks of matches whose ``rulesEngineId`` is ``rules_engine_id``
    to this mod. Call it from ``__init__``.

    Raises :class:`NexoriError` for a blank id or an id another mod registered."""
    try:
        return _api.register_match_lifecycle_listener(rules_engine_id)
    except Err as err:
        raise _host_error(err) from None


def register_afk_activity_listener(rules_engine_id: str) -> ListenerRegistration:
    """Routes :meth:`RulesMod.on_player_afk_changed` for ``rules_engine_id`` to this mod.

    Raises :class:`NexoriError` as :func:`register_match_lifecycle_listener`."""
    try:
        return _api.register_afk_activity_listener(rules_engine_id)
    except Err as err:
        raise _host_error(err) from None


# ---------------------------------------------------------------------------- the match


def set_player_spectator(
    match_id: str,
    player_uuid: str,
    spectator: bool,
    reason: str,
    spectator_model_id: Optional[str] = None,
) -> types.SetPlayerSpectatorResult:
    """``setPlayerSpectator``, both Java overloads: the model id is optional."""
    return _api.set_player_spectator(match_id, player_uuid, spectator, reason, spectator_model_id)


def submit_final_match_result(
    match_id: str, reason: str, custom_data: Union[dict, str, None] = None
) -> SubmitFinalMatchResultResult:
    """``submitFinalMatchResult``: the final result, once every required player has an outcome.

    ``custom_data`` is a JSON-serialisable ``dict`` (or JSON text) that reaches the backend as the
    result's ``customData``; keys keep their order. Check ``result.match_status``
    (``MatchCompletionStatus.ACCEPTED``) before returning players to the lobby::

        result = nexori.submit_final_match_result(match_id, "last_player_standing", {"mode": "ffa"})
        if result.match_status != nexori.MatchCompletionStatus.ACCEPTED:
            nexori.warn(f"result not accepted: {result.message}")

    Raises :class:`NexoriError` when ``custom_data`` cannot be serialised."""
    if custom_data is None or isinstance(custom_data, str):
        text = custom_data
    else:
        try:
            text = json.dumps(custom_data, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as err:
            raise NexoriError(f"customData could not be serialised: {err}") from None
    return _api.submit_final_match_result(SubmitFinalMatchResultRequest(match_id, reason, text))


def close_match_admission(
    match_id: str, reason: CloseMatchAdmissionReason, message: Optional[str] = None
) -> CloseMatchAdmissionResult:
    """``closeMatchAdmission``: stops backfill for a backend-driven match
    (``MATCH_NOT_BACKEND_DRIVEN`` is the normal answer for local matches)."""
    return _api.close_match_admission(CloseMatchAdmissionRequest(match_id, reason, message))


def is_completed(result: SubmitFinalMatchResultResult) -> bool:
    """``True`` when the match is complete after a submit: ``ACCEPTED``, or ``ALREADY_SUBMITTED``
    (complete either way), so it is time to return the players."""
    return result.match_status in (
        types.MatchCompletionStatus.ACCEPTED,
        types.MatchCompletionStatus.ALREADY_SUBMITTED,
    )


# ---------------------------------------------------------------------------- host


def set_timer(delay: Union[int, timedelta]) -> int:
    """Calls :meth:`RulesMod.on_timer` with the returned id after ``delay`` of host time
    (milliseconds, or a ``timedelta``).

    Raises :class:`NexoriError` when the mod has too many pending timers."""
    delay_ms = int(delay.total_seconds() * 1000) if isinstance(delay, timedelta) else int(delay)
    try:
        return _host.set_timer(max(delay_ms, 0))
    except Err as err:
        raise _host_error(err) from None


def send_game_command(
    match_id: str, name: str, data: Any = None, player: Optional[str] = None
) -> None:
    """Asks the game server to do something (``game.command`` on the bridge): ``data`` is
    JSON-serialisable (or ``None``)::

        nexori.send_game_command(match_id, "hud.show", {"text": "3 players left"}, player=uuid)

    Raises :class:`NexoriError` naming what is wrong (a match this mod does not own, data that
    cannot be serialised ...)."""
    if data is None:
        text = None
    else:
        try:
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as err:
            raise NexoriError(
                f"data of game command `{name}` could not be serialised: {err}"
            ) from None
    try:
        _host.send_game_command(GameCommand(match_id, player, name, text))
    except Err as err:
        raise _host_error(err) from None


def log(level: LogLevel, message: str) -> None:
    """A line for the operator's log, tagged by the host with the mod and the match."""
    _host.log(level, message)


def trace(message: str) -> None:
    """Logs ``message`` at ``trace`` level."""
    _host.log(LogLevel.TRACE, message)


def debug(message: str) -> None:
    """Logs ``message`` at ``debug`` level."""
    _host.log(LogLevel.DEBUG, message)


def info(message: str) -> None:
    """Logs ``message`` at ``info`` level."""
    _host.log(LogLevel.INFO, message)


def warn(message: str) -> None:
    """Logs ``message`` at ``warn`` level."""
    _host.log(LogLevel.WARN, message)


def error(message: str) -> None:
    """Logs ``message`` at ``error`` level."""
    _host.log(LogLevel.ERROR, message)


# ---------------------------------------------------------------------------- events


def event_data(event: GameEvent) -> Optional[Any]:
    """The JSON ``data`` of a game event, parsed (``None`` when the game sent none).

    Raises :class:`NexoriError` naming the event kind when the data is not JSON."""
    if event.data is None:
        return None
    try:
        return json.loads(event.data)
    except ValueError as err:
        raise NexoriError(f"data of game event `{event.kind}` is not valid JSON: {err}") from None


@dataclass
class PlayerDisconnectedEvent:
    """A player of the match left the server."""

    match_id: str
    player_uuid: str
    reason: str
    at_epoch_ms: int


class RulesMod:
    """The base class of a rules mod: override the callbacks the mod needs; the others do nothing.

    The constructor is ``mod-init``: it gets the operator's configuration (``config.mods.<name>``,
    parsed from JSON; ``{}`` when none was given) and registers the mod's rules engine ids. An
    exception there rejects the mod at load (or faults the match) with its message. The host
    also constructs the mod once in a load-time instance that only learns the registrations
    (:func:`current_match_id` is ``None`` there).

    An exception raised from a callback faults the match (the host logs the traceback).
    """

    def __init__(self, config: dict) -> None:
        pass

    def on_match_created(self, event: types.MatchLifecycleEvent) -> None:
        """Nexori created the match: create the session; do not start gameplay."""

    def on_player_arrived(self, event: types.PlayerMatchLifecycleEvent) -> None:
        """A player arrived on the arena server for the match."""

    def on_player_placement_confirmed(self, event: types.PlayerPlacementLifecycleEvent) -> None:
        """One player's placement reached its outcome (do not start the match from here)."""

    def on_match_placement_completed(self, event: types.MatchLifecycleEvent) -> None:
        """Every expected initial player was placed."""

    def on_match_start_allowed(self, event: types.MatchLifecycleEvent) -> None:
        """Nexori opened the start gate (also for partial-roster starts): start gameplay here."""

    def on_match_cancellation_requested(self, event: types.MatchLifecycleEvent) -> None:
        """Nexori is cancelling the match before it started: abort setup, cancel timers."""

    def on_match_completed(self, event: types.MatchLifecycleEvent) -> None:
        """Nexori recorded the match as completed. Observe; do not submit results here."""

    def on_match_runtime_closed(self, event: types.MatchLifecycleEvent) -> None:
        """Nexori closed the match's runtime: drop the session."""

    def on_player_afk_changed(self, event: types.PlayerAfkChangedEvent) -> None:
        """A player's AFK state changed (needs :func:`register_afk_activity_listener`)."""

    def on_game_event(self, event: GameEvent) -> None:
        """A ``game.event`` from the game server; see :func:`event_data`."""

    def on_player_disconnected(self, event: PlayerDisconnectedEvent) -> None:
        """A player of the match left the server; recording ``Outcome.DISCONNECTED`` is the mod's
        decision."""

    def on_timer(self, timer_id: int) -> None:
        """A timer set with :func:`set_timer` is due."""


def export_rules_mod(mod_class: Type[RulesMod]) -> Type[RulesMod]:
    """Makes ``mod_class`` the mod this component runs. Call it once, at the end of the module
    componentize-py builds, which must also ``from nexori.exports import *``. Usable as a class
    decorator."""
    if not (isinstance(mod_class, type) and issubclass(mod_class, RulesMod)):
        raise TypeError("export_rules_mod expects a subclass of nexori.RulesMod")
    from . import exports

    exports._driver.mod_class = mod_class
    return mod_class
