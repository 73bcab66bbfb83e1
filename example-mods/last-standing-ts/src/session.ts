/** One Last Standing round: who is alive, who eliminated whom, and the resolution. */
import * as nexori from '@nexori/sdk';

/** Operator configuration (`config.mods.last_standing`). */
export interface Config {
  returnDelaySeconds: number;
  closeAdmissionAtStart: boolean;
  roundTimeLimitSeconds: number;
}

/** The wording of the Rust SDK's `ModConfig::parse`, so operators read one message. */
const invalid = (problem: string): nexori.NexoriError => new nexori.NexoriError(`invalid mod configuration: ${problem}`);

/** Unknown keys and wrong types are rejected, so that a typo fails at load instead of silently using a default. */
export function parseConfig(raw: nexori.ModConfig): Config {
  const config: Config = { returnDelaySeconds: 5, closeAdmissionAtStart: true, roundTimeLimitSeconds: 0 };
  const kinds: Record<string, 'integer' | 'boolean'> = {
    returnDelaySeconds: 'integer',
    closeAdmissionAtStart: 'boolean',
    roundTimeLimitSeconds: 'integer',
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid('the configuration must be a JSON object');
  for (const [key, value] of Object.entries(raw)) {
    const kind = kinds[key];
    if (kind === undefined) {
      throw invalid(`unknown field \`${key}\`, expected one of ${Object.keys(kinds).map((k) => `\`${k}\``).join(', ')}`);
    }
    if (kind === 'boolean' ? typeof value !== 'boolean' : !Number.isInteger(value)) {
      throw invalid(`\`${key}\` must be ${kind === 'boolean' ? 'a boolean' : 'an integer'}`);
    }
    if (key === 'roundTimeLimitSeconds' && (value as number) < 0) throw invalid(`\`${key}\` must not be negative`);
    (config as unknown as Record<string, unknown>)[key] = value;
  }
  return config;
}

interface Player {
  name: string;
  kills: number;
  alive: boolean;
  eliminatedAtEpochMs: number;
}

const newPlayer = (): Player => ({ name: '', kills: 0, alive: false, eliminatedAtEpochMs: 0 });
const canonical = (uuid: string): string => uuid.trim().toLowerCase();
const sorted = (uuids: Iterable<string>): string[] => [...uuids].sort();

export class Session {
  private started = false;
  private resolved = false;
  /** Keyed by lowercase UUID: the host hands UUIDs out lowercase, game data may not. */
  private readonly players = new Map<string, Player>();
  /** Eliminated players, first out first. */
  private readonly eliminations: string[] = [];
  /** Players this mod gave an outcome, so resolution does not overwrite them. */
  private readonly outcomes = new Set<string>();
  private timeLimit: number | undefined;

  constructor(private readonly matchId: string) {}

  alive(): string[] {
    return sorted(this.players.keys()).filter((uuid) => this.players.get(uuid)!.alive);
  }

  private remember(uuid: string, name: string): Player {
    const key = canonical(uuid);
    let player = this.players.get(key);
    if (player === undefined) {
      player = newPlayer();
      this.players.set(key, player);
    }
    if (name !== '') player.name = name;
    return player;
  }

  playerArrived(uuid: string, name: string): void {
    this.remember(uuid, name);
  }

  /** Alive, including backfill players placed after the start; an eliminated player stays out, and nobody joins a resolved round. */
  playerPlaced(uuid: string, name: string): void {
    const player = this.remember(uuid, name);
    if (this.resolved || player.eliminatedAtEpochMs !== 0) return;
    player.alive = true;
    if (this.started) nexori.info(`backfill player ${uuid} joins the round alive`);
  }

  start(config: Config, gateReason: string): void {
    if (this.started) return;
    this.started = true;
    nexori.info(`Last Standing round started (${gateReason}) with ${this.alive().length} players alive`);
    if (config.closeAdmissionAtStart) this.closeAdmission();
    if (config.roundTimeLimitSeconds > 0) {
      try {
        this.timeLimit = nexori.setTimer(config.roundTimeLimitSeconds * 1000);
      } catch (e) {
        nexori.warn(`round time limit disabled: ${(e as Error).message}`);
      }
    }
    // A partial-roster start may leave one player (or none): the round is over already.
    this.checkLastStanding(config);
  }

  private closeAdmission(): void {
    const result = nexori.closeMatchAdmission(this.matchId, 'game-phase-locked', 'Last Standing round started.');
    if (result.status === 'closed' || result.status === 'already-closed') return;
    if (result.status === 'match-not-backend-driven') {
      // Local matches have no backend admission to close.
      nexori.debug(`admission not closed: ${result.message}`);
    } else {
      nexori.warn(`could not close admission (${result.status}): ${result.message}`);
    }
  }

  /** `player.died`: the victim is out (LOSS, then spectator); the killer gets the kill. */
  playerDied(config: Config, event: nexori.GameEvent): void {
    if (event.player === undefined) {
      nexori.warn('player.died without a player');
      return;
    }
    const victim = canonical(event.player);
    if (!this.started || this.resolved) {
      nexori.debug(`player.died for ${victim} ignored: the round is not running`);
      return;
    }
    if (!this.players.get(victim)?.alive) {
      nexori.debug(`player.died for ${victim} ignored: not alive`);
      return;
    }
    let died: unknown;
    try {
      died = nexori.eventData(event);
    } catch (e) {
      nexori.warn(`${(e as Error).message}; no kill credited`);
    }

    this.eliminate(victim, 'loss', 'eliminated');
    const spectator = nexori.setPlayerSpectator(this.matchId, victim, true, 'eliminated_can_watch');
    if (spectator.status !== 'updated') {
      nexori.warn(`could not make ${victim} a spectator (${spectator.status}): ${spectator.message}`);
    }

    const killer = typeof died === 'object' && died !== null ? (died as Record<string, unknown>).killerPlayerUuid : undefined;
    if (typeof killer === 'string') {
      const key = canonical(killer);
      const player = this.players.get(key);
      if (player === undefined) nexori.debug(`killer ${key} is not in the round; no kill credited`);
      else if (key !== victim) player.kills += 1;
    }
    this.checkLastStanding(config);
  }

  /** An alive player left the server: DISCONNECTED, and out of the round. */
  playerDisconnected(config: Config, uuid: string): void {
    const key = canonical(uuid);
    if (this.resolved || !this.players.get(key)?.alive) return;
    this.eliminate(key, 'disconnected', 'disconnected');
    this.checkLastStanding(config);
  }

  private eliminate(uuid: string, outcome: nexori.Outcome, reason: string): void {
    const now = nexori.nowEpochMs();
    const player = this.players.get(uuid);
    if (player !== undefined) {
      player.alive = false;
      player.eliminatedAtEpochMs = now;
    }
    this.eliminations.push(uuid);
    this.setOutcome(uuid, outcome, reason);
  }

  private setOutcome(uuid: string, outcome: nexori.Outcome, reason: string): void {
    const result = nexori.setPlayerOutcome(this.matchId, uuid, outcome, reason);
    if (result.status !== 'updated') nexori.warn(`could not set ${outcome} for ${uuid} (${result.status}): ${result.message}`);
    // Recorded even when refused: retrying at resolution would be refused the same way.
    this.outcomes.add(uuid);
  }

  private checkLastStanding(config: Config): void {
    if (!this.started || this.resolved) return;
    const alive = this.alive();
    if (alive.length <= 1) this.resolve(config, alive, 'last_standing', 'last_player_standing');
  }

  ownsTimer(timerId: number): boolean {
    return this.timeLimit === timerId;
  }

  /** The round time limit ran out: every survivor wins. */
  timeLimitReached(config: Config, timerId: number): void {
    if (!this.ownsTimer(timerId)) return;
    this.timeLimit = undefined;
    if (!this.started || this.resolved) return;
    const survivors = this.alive();
    nexori.info(`round time limit reached with ${survivors.length} survivors`);
    this.resolve(config, survivors, 'survived_time_limit', 'round_time_limit');
  }

  /** Outcomes for everyone required, the final result once, then the returns. */
  private resolve(config: Config, winners: string[], winReason: string, resultReason: string): void {
    this.resolved = true;
    this.cancelTimers();
    for (const winner of winners) this.setOutcome(winner, 'win', winReason);

    // The host's list, not ours: it includes players the mod never saw placed (late, absent,
    // backfill), and every one of them needs an outcome for the submit to pass.
    const requirements = nexori.findMatchResultRequirements(this.matchId);
    const required = requirements !== undefined ? requirements.requiredPlayerUuids.map(canonical) : sorted(this.players.keys());
    // Nexori may already have given outcomes (NO_CONTEST to players who missed the placement
    // window); overwriting those with LOSS would misreport them.
    const decided = new Set(this.outcomes);
    const info = nexori.findActiveMatchInfo(this.matchId);
    for (const state of info?.playerOutcomes ?? []) decided.add(canonical(state.playerUuid));
    for (const uuid of required) {
      if (!decided.has(uuid)) this.setOutcome(uuid, 'loss', 'did_not_finish');
    }

    let result: nexori.SubmitFinalMatchResultResult;
    try {
      result = nexori.submitFinalMatchResult(this.matchId, resultReason, this.resultData(winners, required));
    } catch (e) {
      nexori.error(`final result not submitted: ${(e as Error).message}`);
      return;
    }
    if (!nexori.isCompleted(result)) {
      nexori.warn(`final result not accepted (${result.matchStatus}): ${result.message}`);
      return;
    }
    for (const uuid of required) {
      const returned = nexori.returnPlayerToLobby(this.matchId, uuid, config.returnDelaySeconds, 'match_completed');
      if (returned.status !== 'scheduled') nexori.warn(`could not return ${uuid} (${returned.status}): ${returned.message}`);
    }
  }

  /**
   * `customData`: placements use competition ranking, so tied winners share 1, the last player
   * out comes next, and players who never played share the last place.
   */
  private resultData(winners: string[], required: string[]): object {
    const placements = new Map<string, number>();
    for (const winner of winners) placements.set(winner, 1);
    [...this.eliminations].reverse().forEach((uuid, rank) => placements.set(uuid, winners.length + rank + 1));
    const last = winners.length + this.eliminations.length + 1;
    const players: Record<string, object> = {};
    for (const uuid of sorted(new Set([...this.players.keys(), ...required]))) {
      // Required by the host but never seen by the mod (absent all along): no name, no kills.
      const player = this.players.get(uuid) ?? newPlayer();
      players[uuid] = {
        name: player.name,
        kills: player.kills,
        eliminatedAtEpochMs: player.eliminatedAtEpochMs,
        placement: placements.get(uuid) ?? last,
      };
    }
    return { mode: 'last_standing', winnerPlayerUuid: winners.length === 1 ? winners[0] : null, players };
  }

  private cancelTimers(): void {
    if (this.timeLimit !== undefined) {
      nexori.cancelTimer(this.timeLimit);
      this.timeLimit = undefined;
    }
  }

  /** Drops the round (cancellation or runtime closed): pending timers must not fire into a match that no longer exists. */
  clear(): void {
    this.cancelTimers();
    this.players.clear();
    this.eliminations.length = 0;
    this.outcomes.clear();
    this.started = false;
  }
}
