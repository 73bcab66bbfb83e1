/**
 * Nexori rules mods in TypeScript.
 *
 * A rules mod decides a minigame: Nexori's arena runtime owns the match (arrivals, placement, the
 * start gate, AFK, returns to the lobby) and calls the mod's callbacks; the mod answers through the
 * Nexori API (outcomes, spectators, the final result) and sends game commands. The host runs each
 * match in its own sandboxed instance of the mod, so module-level state is per match.
 *
 * A minimal mod (`src/mod.ts`):
 *
 * ```ts
 * import * as nexori from '@nexori/sdk';
 *
 * class FirstBlood extends nexori.RulesMod {
 *   constructor(config: nexori.ModConfig) {
 *     super(config);
 *     // Runs once per instance, before any callback: register the rules engine id.
 *     nexori.registerMatchLifecycleListener('first_blood');
 *   }
 *
 *   override onGameEvent(event: nexori.GameEvent): void {
 *     if (event.kind !== 'player.died' || event.player === undefined) return;
 *     const result = nexori.setPlayerOutcome(event.matchId, event.player, 'loss', 'first_blood');
 *     if (result.status !== 'updated') nexori.warn(`outcome refused (${result.status}): ${result.message}`);
 *   }
 * }
 *
 * // The component's exports, served by the SDK.
 * export const { modInit, lifecycleListener, afkListener, gameEvents, timers } =
 *   nexori.exportRulesMod(FirstBlood);
 * ```
 *
 * Build it with `nexori-mod-build src/mod.ts -o first_blood.wasm` (this package's CLI).
 *
 * The records (`MatchLifecycleEvent`, `SetPlayerOutcomeResult` ...) and the statuses (string
 * unions such as `SetPlayerOutcomeStatus`: `'updated' | 'match-missing' | ...`) are the types
 * `jco guest-types` generates from the `nexori:minigame` WIT package; this module re-exports them
 * and never redefines them. The API functions carry the names of Nexori's Java API
 * (`setPlayerOutcome`). Times and timer ids are `number`s (milliseconds since the Unix epoch fit
 * exactly); event records keep the generated `bigint` fields.
 *
 * @packageDocumentation
 */

import * as api from 'nexori:minigame/api@1.1.0';
import * as host from 'nexori:minigame/host@1.1.0';
import type {
  ActiveMatchInfo,
  AfkDetectionPolicy,
  CloseMatchAdmissionReason,
  CloseMatchAdmissionResult,
  GameEvent,
  LogLevel,
  MatchLifecycleEvent,
  MatchPlacementState,
  MatchResultPlayerOutcome,
  MatchResultRequirements,
  PlayerAfkChangedEvent,
  PlayerMatchLifecycleEvent,
  PlayerPlacementLifecycleEvent,
  PlayerUuid,
  ReturnPlayerResult,
  SetAfkDetectionPolicyResult,
  SetPlayerAfkRequest,
  SetPlayerAfkResult,
  SetPlayerOutcomeResult,
  SetPlayerSpectatorResult,
  SubmitFinalMatchResultResult,
} from 'nexori:minigame/types@1.1.0';

/** The records, enums and statuses of the WIT package, as generated (never copied by hand). */
export type * from 'nexori:minigame/types@1.1.0';
/** `NexoriListenerRegistration`: `close()` unregisters. */
export type ListenerRegistration = api.ListenerRegistration;
/** `NexoriMatchResultPlayerOutcome`, by its short name: `'win'`, `'loss'` ... */
export type Outcome = MatchResultPlayerOutcome;
/** The operator's configuration of the mod (`config.mods.<name>`), parsed from JSON. */
export type ModConfig = Record<string, unknown>;

/** A call the host refused, with the host's message. */
export class NexoriError extends Error {
  override name = 'NexoriError';
}

/** Runs a host call whose WIT result is `result<_, string>`, turning the error into a `NexoriError`. */
function hostCall<T>(call: () => T): T {
  try {
    return call();
  } catch (e) {
    const payload = (e as { payload?: unknown }).payload;
    throw new NexoriError(typeof payload === 'string' ? payload : String(e));
  }
}

// ----------------------------------------------------------------------------- registration

/**
 * Routes the lifecycle callbacks of matches whose `rulesEngineId` is `rulesEngineId` to this
 * mod. Call it from the constructor.
 *
 * @throws {NexoriError} for a blank id or an id another mod registered.
 */
export function registerMatchLifecycleListener(rulesEngineId: string): ListenerRegistration {
  return hostCall(() => api.registerMatchLifecycleListener(rulesEngineId));
}

/**
 * Routes {@link RulesMod.onPlayerAfkChanged} for `rulesEngineId` to this mod.
 *
 * @throws {NexoriError} as {@link registerMatchLifecycleListener}.
 */
export function registerAfkActivityListener(rulesEngineId: string): ListenerRegistration {
  return hostCall(() => api.registerAfkActivityListener(rulesEngineId));
}

// ----------------------------------------------------------------------------- lookups

/** `findActiveMatchId`: the active match of a player. */
export function findActiveMatchId(playerUuid: PlayerUuid): string | undefined {
  return api.findActiveMatchId(playerUuid);
}
/** `findActivePlayerUuid`: a UUID or the name of an active, online player (case-insensitive). */
export function findActivePlayerUuid(matchId: string, playerToken: string): PlayerUuid | undefined {
  return api.findActivePlayerUuid(matchId, playerToken);
}
/** `findActiveMatchInfo`: a snapshot of a match this mod owns. */
export function findActiveMatchInfo(matchId: string): ActiveMatchInfo | undefined {
  return api.findActiveMatchInfo(matchId);
}
/** `findRulesEngineId`. */
export function findRulesEngineId(matchId: string): string | undefined {
  return api.findRulesEngineId(matchId);
}
/** `findMatchPlacementState`. */
export function findMatchPlacementState(matchId: string): MatchPlacementState | undefined {
  return api.findMatchPlacementState(matchId);
}
/** `findMatchResultRequirements`: the players who need an outcome before the final result. */
export function findMatchResultRequirements(matchId: string): MatchResultRequirements | undefined {
  return api.findMatchResultRequirements(matchId);
}

// ----------------------------------------------------------------------------- the match

/** `setPlayerOutcome`: `'win'`, `'loss'`, `'disconnected'` or `'no-contest'`, with a reason. */
export function setPlayerOutcome(
  matchId: string,
  playerUuid: PlayerUuid,
  outcome: Outcome,
  reason: string,
): SetPlayerOutcomeResult {
  return api.setPlayerOutcome(matchId, playerUuid, outcome, reason);
}

/** `setPlayerSpectator`, both Java overloads: the model id is optional. */
export function setPlayerSpectator(
  matchId: string,
  playerUuid: PlayerUuid,
  spectator: boolean,
  reason: string,
  spectatorModelId?: string,
): SetPlayerSpectatorResult {
  return api.setPlayerSpectator(matchId, playerUuid, spectator, reason, spectatorModelId);
}

/** `setMatchAfkDetectionPolicy`. */
export function setMatchAfkDetectionPolicy(matchId: string, policy: AfkDetectionPolicy): SetAfkDetectionPolicyResult {
  return api.setMatchAfkDetectionPolicy(matchId, policy);
}
/** `clearMatchAfkDetectionPolicy`. */
export function clearMatchAfkDetectionPolicy(matchId: string): SetAfkDetectionPolicyResult {
  return api.clearMatchAfkDetectionPolicy(matchId);
}
/** `setPlayerAfkDetectionPolicy`. */
export function setPlayerAfkDetectionPolicy(
  matchId: string,
  playerUuid: PlayerUuid,
  policy: AfkDetectionPolicy,
): SetAfkDetectionPolicyResult {
  return api.setPlayerAfkDetectionPolicy(matchId, playerUuid, policy);
}
/** `clearPlayerAfkDetectionPolicy`. */
export function clearPlayerAfkDetectionPolicy(matchId: string, playerUuid: PlayerUuid): SetAfkDetectionPolicyResult {
  return api.clearPlayerAfkDetectionPolicy(matchId, playerUuid);
}
/** `setPlayerAfk`. */
export function setPlayerAfk(request: SetPlayerAfkRequest): SetPlayerAfkResult {
  return api.setPlayerAfk(request);
}

/** `returnPlayerToLobby`, after `delaySeconds`. */
export function returnPlayerToLobby(
  matchId: string,
  playerUuid: PlayerUuid,
  delaySeconds: number,
  reason: string,
): ReturnPlayerResult {
  return api.returnPlayerToLobby(matchId, playerUuid, delaySeconds, reason);
}

/**
 * `submitFinalMatchResult`: the final result, once every required player has an outcome.
 * `customData` (any JSON-serialisable value, usually an object; or JSON text) reaches the backend
 * as the result's `customData`, keys in order. Check {@link isCompleted} before returning players:
 *
 * ```ts
 * const result = nexori.submitFinalMatchResult(matchId, 'last_player_standing', { mode: 'ffa' });
 * if (!nexori.isCompleted(result)) nexori.warn(`result not accepted: ${result.message}`);
 * ```
 *
 * @throws {NexoriError} when `customData` cannot be serialised.
 */
export function submitFinalMatchResult(
  matchId: string,
  reason: string,
  customData?: unknown,
): SubmitFinalMatchResultResult {
  let text: string | undefined;
  if (customData === undefined || typeof customData === 'string') {
    text = customData;
  } else {
    try {
      text = JSON.stringify(customData);
    } catch (e) {
      throw new NexoriError(`customData could not be serialised: ${(e as Error).message}`);
    }
  }
  return api.submitFinalMatchResult({ matchId, reason, customData: text });
}

/** `true` when the match is complete after a submit (`accepted`, or `already-submitted`): time to return the players. */
export function isCompleted(result: SubmitFinalMatchResultResult): boolean {
  return result.matchStatus === 'accepted' || result.matchStatus === 'already-submitted';
}

/** `closeMatchAdmission`: stops backfill (`match-not-backend-driven` is the normal answer for local matches). */
export function closeMatchAdmission(
  matchId: string,
  reason: CloseMatchAdmissionReason,
  message?: string,
): CloseMatchAdmissionResult {
  return api.closeMatchAdmission({ matchId, reason, message });
}

// ----------------------------------------------------------------------------- host

/** The host clock in Unix epoch milliseconds (virtual in simulations: never read `Date.now()` for rules). */
export function nowEpochMs(): number {
  return Number(host.nowEpochMs());
}

/** The match this instance serves; `undefined` in the load-time instance that learns registrations. */
export function currentMatchId(): string | undefined {
  return host.currentMatchId();
}

/**
 * Calls {@link RulesMod.onTimer} with the returned id after `delayMs` of host time.
 *
 * @throws {NexoriError} when the mod has too many pending timers.
 */
export function setTimer(delayMs: number): number {
  return Number(hostCall(() => host.setTimer(BigInt(Math.max(0, Math.floor(delayMs))))));
}

/** Cancels a pending timer; `false` if it was not pending. */
export function cancelTimer(id: number): boolean {
  return host.cancelTimer(BigInt(id));
}

/**
 * Asks the game server to do something (`game.command` on the bridge); `data` is JSON-serialisable.
 *
 * ```ts
 * nexori.sendGameCommand(matchId, 'hud.show', { text: '3 players left' }, playerUuid);
 * ```
 *
 * @throws {NexoriError} naming what is wrong (a match this mod does not own, data that cannot be serialised ...).
 */
export function sendGameCommand(matchId: string, name: string, data?: unknown, player?: PlayerUuid): void {
  let text: string | undefined;
  try {
    text = data === undefined ? undefined : JSON.stringify(data);
  } catch (e) {
    throw new NexoriError(`data of game command \`${name}\` could not be serialised: ${(e as Error).message}`);
  }
  hostCall(() => host.sendGameCommand({ matchId, player, name, data: text }));
}

/** A line for the operator's log, tagged by the host with the mod and the match. */
export function log(level: LogLevel, message: string): void {
  host.log(level, message);
}
/** Logs at `trace` level. */
export const trace = (message: string): void => host.log('trace', message);
/** Logs at `debug` level. */
export const debug = (message: string): void => host.log('debug', message);
/** Logs at `info` level. */
export const info = (message: string): void => host.log('info', message);
/** Logs at `warn` level. */
export const warn = (message: string): void => host.log('warn', message);
/** Logs at `error` level. */
export const error = (message: string): void => host.log('error', message);

// ----------------------------------------------------------------------------- events

/**
 * The JSON `data` of a game event, parsed (`undefined` when the game sent none).
 *
 * @throws {NexoriError} naming the event kind when the data is not JSON.
 */
export function eventData(event: GameEvent): unknown {
  if (event.data === undefined) return undefined;
  try {
    return JSON.parse(event.data);
  } catch (e) {
    throw new NexoriError(`data of game event \`${event.kind}\` is not valid JSON: ${(e as Error).message}`);
  }
}

/** A player of the match left the server. */
export interface PlayerDisconnectedEvent {
  matchId: string;
  playerUuid: PlayerUuid;
  reason: string;
  atEpochMs: number;
}

/**
 * The base class of a rules mod: override the callbacks the mod needs; the others do nothing.
 *
 * The constructor is `mod-init`: it gets the operator's configuration (`config.mods.<name>`,
 * parsed; `{}` when none was given) and registers the mod's rules engine ids. An exception there
 * rejects the mod at load (or faults the match) with its message. The host also constructs the mod
 * once in a load-time instance that only learns the registrations ({@link currentMatchId} is
 * `undefined` there). An exception thrown from a callback faults the match.
 */
export abstract class RulesMod {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars
  constructor(config: ModConfig) {}
  /** Nexori created the match: create the session; do not start gameplay. */
  onMatchCreated(_event: MatchLifecycleEvent): void {}
  /** A player arrived on the arena server for the match. */
  onPlayerArrived(_event: PlayerMatchLifecycleEvent): void {}
  /** One player's placement reached its outcome (do not start the match from here). */
  onPlayerPlacementConfirmed(_event: PlayerPlacementLifecycleEvent): void {}
  /** Every expected initial player was placed. */
  onMatchPlacementCompleted(_event: MatchLifecycleEvent): void {}
  /** Nexori opened the start gate (also for partial-roster starts): start gameplay here. */
  onMatchStartAllowed(_event: MatchLifecycleEvent): void {}
  /** Nexori is cancelling the match before it started: abort setup, cancel timers. */
  onMatchCancellationRequested(_event: MatchLifecycleEvent): void {}
  /** Nexori recorded the match as completed. Observe; do not submit results here. */
  onMatchCompleted(_event: MatchLifecycleEvent): void {}
  /** Nexori closed the match's runtime: drop the session. */
  onMatchRuntimeClosed(_event: MatchLifecycleEvent): void {}
  /** A player's AFK state changed (needs {@link registerAfkActivityListener}). */
  onPlayerAfkChanged(_event: PlayerAfkChangedEvent): void {}
  /** A `game.event` from the game server; see {@link eventData}. */
  onGameEvent(_event: GameEvent): void {}
  /** A player of the match left the server; recording `'disconnected'` is the mod's decision. */
  onPlayerDisconnected(_event: PlayerDisconnectedEvent): void {}
  /** A timer set with {@link setTimer} is due. */
  onTimer(_timerId: number): void {}
}

/** The component's exports, as componentize-js looks them up (one object per exported interface). */
export interface RulesModExports {
  modInit: { init(config: string): void };
  lifecycleListener: {
    onMatchCreated(event: MatchLifecycleEvent): void;
    onPlayerArrived(event: PlayerMatchLifecycleEvent): void;
    onPlayerPlacementConfirmed(event: PlayerPlacementLifecycleEvent): void;
    onMatchPlacementCompleted(event: MatchLifecycleEvent): void;
    onMatchStartAllowed(event: MatchLifecycleEvent): void;
    onMatchCancellationRequested(event: MatchLifecycleEvent): void;
    onMatchCompleted(event: MatchLifecycleEvent): void;
    onMatchRuntimeClosed(event: MatchLifecycleEvent): void;
  };
  afkListener: { onPlayerAfkChanged(event: PlayerAfkChangedEvent): void };
  gameEvents: {
    onGameEvent(event: GameEvent): void;
    onPlayerDisconnected(matchId: string, playerUuid: PlayerUuid, reason: string, atEpochMs: bigint): void;
  };
  timers: { onTimer(id: bigint): void };
}

/**
 * Makes `Mod` the mod this component runs. Export what it returns from the module you build:
 *
 * ```ts
 * export const { modInit, lifecycleListener, afkListener, gameEvents, timers } = nexori.exportRulesMod(MyMod);
 * ```
 */
export function exportRulesMod(Mod: new (config: ModConfig) => RulesMod): RulesModExports {
  let mod: RulesMod | undefined;
  let initError: string | undefined;
  const ready = (callback: string): RulesMod => {
    if (mod !== undefined) return mod;
    throw new Error(
      initError !== undefined
        ? `nexori-sdk: \`${callback}\` was called after \`init\` failed (${initError})`
        : `nexori-sdk: \`${callback}\` was called before \`init\`; the host must call \`init\` first`,
    );
  };
  return {
    modInit: {
      init(config: string): void {
        if (mod !== undefined || initError !== undefined) {
          throw 'nexori-sdk: `init` was already called for this instance';
        }
        let parsed: ModConfig;
        try {
          parsed = JSON.parse(config) as ModConfig;
        } catch (e) {
          initError = `the mod's configuration is not valid JSON: ${(e as Error).message}`;
          throw initError;
        }
        try {
          mod = new Mod(parsed);
        } catch (e) {
          // The mod rejects its configuration (or a registration failed): the host says why.
          initError = e instanceof NexoriError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
          throw initError;
        }
      },
    },
    lifecycleListener: {
      onMatchCreated: (event) => ready('onMatchCreated').onMatchCreated(event),
      onPlayerArrived: (event) => ready('onPlayerArrived').onPlayerArrived(event),
      onPlayerPlacementConfirmed: (event) => ready('onPlayerPlacementConfirmed').onPlayerPlacementConfirmed(event),
      onMatchPlacementCompleted: (event) => ready('onMatchPlacementCompleted').onMatchPlacementCompleted(event),
      onMatchStartAllowed: (event) => ready('onMatchStartAllowed').onMatchStartAllowed(event),
      onMatchCancellationRequested: (event) =>
        ready('onMatchCancellationRequested').onMatchCancellationRequested(event),
      onMatchCompleted: (event) => ready('onMatchCompleted').onMatchCompleted(event),
      onMatchRuntimeClosed: (event) => ready('onMatchRuntimeClosed').onMatchRuntimeClosed(event),
    },
    afkListener: {
      onPlayerAfkChanged: (event) => ready('onPlayerAfkChanged').onPlayerAfkChanged(event),
    },
    gameEvents: {
      onGameEvent: (event) => ready('onGameEvent').onGameEvent(event),
      onPlayerDisconnected: (matchId, playerUuid, reason, atEpochMs) =>
        ready('onPlayerDisconnected').onPlayerDisconnected({
          matchId,
          playerUuid,
          reason,
          atEpochMs: Number(atEpochMs),
        }),
    },
    timers: {
      onTimer: (id) => ready('onTimer').onTimer(Number(id)),
    },
  };
}
