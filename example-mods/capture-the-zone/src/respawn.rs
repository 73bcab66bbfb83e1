//! Death and respawn, as in the Java mod: nobody is eliminated; a dead player is force-respawned
//! after their current penalty, which then grows by `respawnDelayPerDeathMs`; a kill takes
//! `respawnKillRewardMs` off the killer's penalty (floored at 0).
//!
//! Plain state, driven by the victim's own ticks; the session turns what it reports into game
//! commands.

/// One player's respawn state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RespawnState {
    /// The wait before the next forced respawn, in ms.
    pub penalty_ms: i64,
    /// When the pending forced respawn is due, while the player is dead.
    pub due_at: Option<i64>,
    /// The current death has been seen (reset by the next alive tick).
    pub dead: bool,
}

/// What one tick of the player did to their respawn state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TickEffect {
    /// This tick is the first to see the current death: hide the respawn page, apply the kill
    /// reward.
    pub new_death: bool,
    /// The respawn fell due on this tick: force it and tell the player the penalty grew.
    pub force_respawn: bool,
    /// The player came back alive while a respawn was still due (external or early respawn):
    /// the schedule was dropped.
    pub schedule_cleared: bool,
}

impl RespawnState {
    /// Applies one of the player's own ticks at `now`.
    pub fn on_tick(&mut self, alive: bool, now: i64, delay_per_death_ms: i64) -> TickEffect {
        let mut effect = TickEffect::default();
        if alive {
            effect.schedule_cleared = self.due_at.take().is_some();
            self.dead = false;
            return effect;
        }
        if !self.dead {
            self.dead = true;
            self.due_at = Some(now.saturating_add(self.penalty_ms));
            effect.new_death = true;
        }
        if self.due_at.is_some_and(|due| now >= due) {
            self.due_at = None;
            self.penalty_ms = self.penalty_ms.saturating_add(delay_per_death_ms);
            effect.force_respawn = true;
        }
        effect
    }

    /// The killer's reward: the penalty shrinks by `reward_ms`, floored at 0. `true` if it
    /// actually shrank (only then does the killer see the notice).
    pub fn apply_kill_reward(&mut self, reward_ms: i64) -> bool {
        let before = self.penalty_ms;
        self.penalty_ms = before.saturating_sub(reward_ms).max(0);
        self.penalty_ms < before
    }

    /// Time left before the pending forced respawn, if one is pending.
    pub fn remaining_ms(&self, now: i64) -> Option<i64> {
        self.due_at.map(|due| (due - now).max(0))
    }
}

/// A duration in ms as seconds for messages: `3000` → `3`, `1500` → `1.5`.
pub fn seconds_text(ms: i64) -> String {
    if ms % 1000 == 0 {
        (ms / 1000).to_string()
    } else {
        format!("{}", ms as f64 / 1000.0)
    }
}
