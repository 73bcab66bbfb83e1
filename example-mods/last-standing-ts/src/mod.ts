/**
 * last_standing, in TypeScript: an elimination round. The last player alive wins.
 *
 * The same rules as the Rust mod in `example-mods/last-standing` (the tests compare the two call
 * for call): listeners registered at start-up for `last_standing`; players become alive when
 * their placement is confirmed; the round starts at `onMatchStartAllowed`; `player.died` game
 * events (`data` optionally `{"killerPlayerUuid": "…"}`) and disconnects eliminate; when at most
 * one player is alive, every required player gets an outcome, the final result is submitted
 * once, and players go back to the lobby after it was accepted.
 *
 * Configuration (JSON, every key optional): `returnDelaySeconds` (5), `closeAdmissionAtStart`
 * (true), `roundTimeLimitSeconds` (0: none; when it runs out, every survivor wins).
 */
import * as nexori from '@nexori/sdk';

import { Session, parseConfig, type Config } from './session.js';

const RULES_ENGINE_ID = 'last_standing';

class LastStanding extends nexori.RulesMod {
  private readonly config: Config;
  private readonly sessions = new Map<string, Session>();

  constructor(config: nexori.ModConfig) {
    super(config);
    this.config = parseConfig(config);
    nexori.registerMatchLifecycleListener(RULES_ENGINE_ID);
    nexori.registerAfkActivityListener(RULES_ENGINE_ID);
  }

  private session(matchId: string): Session {
    let session = this.sessions.get(matchId);
    if (session === undefined) {
      session = new Session(matchId);
      this.sessions.set(matchId, session);
    }
    return session;
  }

  private closeSession(matchId: string): void {
    this.sessions.get(matchId)?.clear();
    this.sessions.delete(matchId);
  }

  override onMatchCreated(event: nexori.MatchLifecycleEvent): void {
    nexori.debug(`match ${event.matchId} created with ${event.expectedPlayerUuids.length} expected players`);
    this.session(event.matchId);
  }

  override onPlayerArrived(event: nexori.PlayerMatchLifecycleEvent): void {
    this.session(event.match.matchId).playerArrived(event.playerUuid, event.playerName);
  }

  override onPlayerPlacementConfirmed(event: nexori.PlayerPlacementLifecycleEvent): void {
    const player = event.player;
    this.session(player.match.matchId).playerPlaced(player.playerUuid, player.playerName);
  }

  override onMatchStartAllowed(event: nexori.MatchLifecycleEvent): void {
    this.session(event.matchId).start(this.config, event.reason);
  }

  override onMatchCancellationRequested(event: nexori.MatchLifecycleEvent): void {
    nexori.info(`match ${event.matchId} cancelled by Nexori (${event.reason}); dropping the round`);
    this.closeSession(event.matchId);
  }

  override onMatchCompleted(event: nexori.MatchLifecycleEvent): void {
    nexori.info(`match ${event.matchId} completed (${event.reason})`);
  }

  override onMatchRuntimeClosed(event: nexori.MatchLifecycleEvent): void {
    this.closeSession(event.matchId);
  }

  override onPlayerAfkChanged(event: nexori.PlayerAfkChangedEvent): void {
    // AFK players still count as alive: the round only ends by elimination.
    nexori.info(`player ${event.playerUuid} is ${event.afk ? 'AFK' : 'active again'} (${event.source})`);
  }

  override onGameEvent(event: nexori.GameEvent): void {
    if (event.kind === 'player.died') this.session(event.matchId).playerDied(this.config, event);
  }

  override onPlayerDisconnected(event: nexori.PlayerDisconnectedEvent): void {
    this.session(event.matchId).playerDisconnected(this.config, event.playerUuid);
  }

  override onTimer(timerId: number): void {
    for (const session of this.sessions.values()) {
      if (session.ownsTimer(timerId)) {
        session.timeLimitReached(this.config, timerId);
        return;
      }
    }
  }
}

// The component's exports, served by the SDK.
export const { modInit, lifecycleListener, afkListener, gameEvents, timers } = nexori.exportRulesMod(LastStanding);
