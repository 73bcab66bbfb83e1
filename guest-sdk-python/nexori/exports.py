"""The component's exports, served by the SDK: ``from nexori.exports import *`` in the module
componentize-py builds. Each export calls the mod given to :func:`nexori.export_rules_mod`.

componentize-py looks the export classes up by name in that module; the SDK defines them here
once so that a mod never writes them.
"""

from __future__ import annotations

import json
from typing import Optional

from componentize_py_types import Err

from wit_world import exports as _exports
from wit_world.imports import types

__all__ = ["ModInit", "LifecycleListener", "AfkListener", "GameEvents", "Timers"]


class _Driver:
    """One mod per instance: built by ``init``, then called by every export."""

    def __init__(self) -> None:
        self.mod_class = None
        self.mod = None
        self.init_error: Optional[str] = None

    def init(self, config: str) -> None:
        if self.mod is not None or self.init_error is not None:
            raise Err("nexori-sdk: `init` was already called for this instance")
        if self.mod_class is None:
            raise Err(
                "nexori-sdk: no mod class; call nexori.export_rules_mod(YourMod) in the module "
                "componentize-py builds"
            )
        try:
            parsed = json.loads(config)
        except ValueError as err:
            self.init_error = f"the mod's configuration is not valid JSON: {err}"
            raise Err(self.init_error) from None
        try:
            self.mod = self.mod_class(parsed)
        except Exception as err:  # the mod rejects its configuration: the host says why
            from . import NexoriError

            self.init_error = str(err) if isinstance(err, NexoriError) else f"{type(err).__name__}: {err}"
            raise Err(self.init_error) from None

    def ready(self, callback: str):
        if self.mod is None:
            if self.init_error is not None:
                raise RuntimeError(f"nexori-sdk: `{callback}` was called after `init` failed ({self.init_error})")
            raise RuntimeError(f"nexori-sdk: `{callback}` was called before `init`; the host must call `init` first")
        return self.mod


_driver = _Driver()


class ModInit(_exports.ModInit):
    def init(self, config: str) -> None:
        _driver.init(config)


class LifecycleListener(_exports.LifecycleListener):
    def on_match_created(self, event: types.MatchLifecycleEvent) -> None:
        _driver.ready("on_match_created").on_match_created(event)

    def on_player_arrived(self, event: types.PlayerMatchLifecycleEvent) -> None:
        _driver.ready("on_player_arrived").on_player_arrived(event)

    def on_player_placement_confirmed(self, event: types.PlayerPlacementLifecycleEvent) -> None:
        _driver.ready("on_player_placement_confirmed").on_player_placement_confirmed(event)

    def on_match_placement_completed(self, event: types.MatchLifecycleEvent) -> None:
        _driver.ready("on_match_placement_completed").on_match_placement_completed(event)

    def on_match_start_allowed(self, event: types.MatchLifecycleEvent) -> None:
        _driver.ready("on_match_start_allowed").on_match_start_allowed(event)

    def on_match_cancellation_requested(self, event: types.MatchLifecycleEvent) -> None:
        _driver.ready("on_match_cancellation_requested").on_match_cancellation_requested(event)

    def on_match_completed(self, event: types.MatchLifecycleEvent) -> None:
        _driver.ready("on_match_completed").on_match_completed(event)

    def on_match_runtime_closed(self, event: types.MatchLifecycleEvent) -> None:
        _driver.ready("on_match_runtime_closed").on_match_runtime_closed(event)


class AfkListener(_exports.AfkListener):
    def on_player_afk_changed(self, event: types.PlayerAfkChangedEvent) -> None:
        _driver.ready("on_player_afk_changed").on_player_afk_changed(event)


class GameEvents(_exports.GameEvents):
    def on_game_event(self, event: types.GameEvent) -> None:
        _driver.ready("on_game_event").on_game_event(event)

    def on_player_disconnected(self, match_id: str, player_uuid: str, reason: str, at_epoch_ms: int) -> None:
        from . import PlayerDisconnectedEvent

        _driver.ready("on_player_disconnected").on_player_disconnected(
            PlayerDisconnectedEvent(match_id, player_uuid, reason, at_epoch_ms)
        )


class Timers(_exports.Timers):
    def on_timer(self, id: int) -> None:
        _driver.ready("on_timer").on_timer(id)
