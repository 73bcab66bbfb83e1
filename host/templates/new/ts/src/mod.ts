/**
 * {{name}}: the first player to die loses, everyone else wins.
 *
 * Start here: the callbacks are the `nexori.RulesMod` methods, the Nexori API is the `nexori.*`
 * functions (your editor lists them, typed), and `scenarios/first-blood.json` plays a match
 * through the mod and checks what it did.
 */
import * as nexori from '@nexori/sdk';

/** The rules engine id this mod registers: matches created with it are this mod's. */
const RULES_ENGINE_ID = '{{name}}';

class Mod extends nexori.RulesMod {
  private readonly returnDelaySeconds: number;
  private resolved = false;

  constructor(config: nexori.ModConfig) {
    super(config);
    const unknown = Object.keys(config).filter((key) => key !== 'returnDelaySeconds');
    if (unknown.length > 0) throw new nexori.NexoriError(`invalid mod configuration: unknown field \`${unknown[0]}\``);
    this.returnDelaySeconds = typeof config.returnDelaySeconds === 'number' ? config.returnDelaySeconds : 5;
    nexori.registerMatchLifecycleListener(RULES_ENGINE_ID);
  }

  override onMatchStartAllowed(event: nexori.MatchLifecycleEvent): void {
    nexori.info(`match ${event.matchId} started (${event.reason})`);
  }

  override onGameEvent(event: nexori.GameEvent): void {
    if (event.kind !== 'player.died' || event.player === undefined || this.resolved) return;
    this.resolved = true;
    const requirements = nexori.findMatchResultRequirements(event.matchId);
    if (requirements === undefined) return;
    for (const player of requirements.requiredPlayerUuids) {
      const [outcome, reason]: [nexori.Outcome, string] = player === event.player ? ['loss', 'first_out'] : ['win', 'survived'];
      const result = nexori.setPlayerOutcome(event.matchId, player, outcome, reason);
      if (result.status !== 'updated') nexori.warn(`no outcome for ${player} (${result.status}): ${result.message}`);
    }
    const data = { mode: RULES_ENGINE_ID, firstOutPlayerUuid: event.player };
    const result = nexori.submitFinalMatchResult(event.matchId, 'first_blood', data);
    if (!nexori.isCompleted(result)) {
      nexori.warn(`result not accepted (${result.matchStatus}): ${result.message}`);
      return;
    }
    for (const player of requirements.requiredPlayerUuids) {
      nexori.returnPlayerToLobby(event.matchId, player, this.returnDelaySeconds, 'match_completed');
    }
  }
}

// The component's exports, served by the SDK.
export const { modInit, lifecycleListener, afkListener, gameEvents, timers } = nexori.exportRulesMod(Mod);
