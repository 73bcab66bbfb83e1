//! AFK detection, policies, `setPlayerAfk` and the `customData.nexoriAfk` report
//! (docs/arena-behaviour.md#afk, docs/arena-behaviour.md#the-nexoriafk-block).
//!
//! Detection runs on the injected clock: instead of checking idleness on every server tick, a
//! tracked player's AFK timeout is a deadline (`last activity + timeout`) that
//! [`Arena::advance`] honours exactly, so the transition time does not depend on tick rate.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use uuid::Uuid;

use super::match_state::Match;
use super::model::*;
use super::{Arena, CallbackPayload, PlayerCheck, RuntimeEvent};
use crate::ids::normalize_match_id;
use nexori_protocol::commands::GameServerCommand;

const INVALID_POLICY: &str = "AFK detection policy request and policy must be non-null.";

/// Detection state of one tracked player.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfkTracker {
    /// The last activity (epoch ms): input, arrival, a return from AFK or a policy change that
    /// restarted the timer. The timeout falls due at this + `timeout_ms`.
    pub last_activity: i64,
    /// Whether the player is AFK now.
    pub afk: bool,
    /// Set by `setPlayerAfk`; kept even while detection is disabled.
    pub external: bool,
    /// Whether the AFK HUD is showing (`player.afkHud`), so that becoming active hides it.
    pub hud_shown: bool,
    /// The effective policy's timeout, `None` while detection is disabled.
    pub timeout_ms: Option<i64>,
}

/// One row of the `nexoriAfk` report: a player with at least one transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfkRow {
    /// The player (`playerUuid`).
    pub player: Uuid,
    /// The last known non-blank name (`playerName`); `""` if none was ever seen.
    pub name: String,
    /// Whether the player is AFK now (`currentlyAfk`).
    pub currently_afk: bool,
    /// Milliseconds of closed AFK spans; the report's `totalAfkMs` adds the open span up to the
    /// submission.
    pub closed_afk_ms: i64,
    /// Transitions into AFK (`afkCount`).
    pub afk_count: i64,
    /// Start of the open AFK span (epoch ms, `currentStartedAtEpochMs`); 0 when not AFK.
    pub current_started_at: i64,
    /// Idle time of the latest transition, in ms (`lastIdleMs`).
    pub last_idle_ms: i64,
    /// The distinct sources of the player's transitions, in first-seen order (`sources`).
    pub sources: Vec<AfkSource>,
}

/// AFK state of one match.
#[derive(Debug, Clone, Default)]
pub struct MatchAfk {
    /// The policy of `setMatchAfkDetectionPolicy`, normalised; `None` when never set or
    /// cleared, leaving the launch's policy in force.
    pub match_override: Option<AfkPolicy>,
    /// Policies of `setPlayerAfkDetectionPolicy`, normalised; they win over the match override
    /// and go when the player leaves the match.
    pub player_overrides: HashMap<Uuid, AfkPolicy>,
    /// Detection state per player: kept for players in the match while their detection is
    /// enabled, and for anyone a transition touched (`setPlayerAfk` works with detection
    /// disabled); removed when the player leaves the match.
    pub trackers: BTreeMap<Uuid, AfkTracker>,
    /// In order of each player's first transition.
    pub rows: Vec<AfkRow>,
    /// The report of the accepted result, reproduced on re-submission until a new transition.
    pub frozen_report: Option<Value>,
    /// The report last offered to a submission, frozen if that submission is accepted.
    offered_report: Option<Value>,
}

impl MatchAfk {
    /// The earliest AFK timeout (epoch ms) among tracked players who are not AFK and have
    /// detection enabled.
    pub fn next_deadline(&self) -> Option<i64> {
        self.trackers
            .values()
            .filter(|t| !t.afk)
            .filter_map(|t| t.timeout_ms.map(|ms| t.last_activity + ms))
            .min()
    }

    /// The players who are AFK now, sorted (`afkPlayerUuids` of the match info).
    pub fn afk_players(&self) -> Vec<Uuid> {
        self.trackers
            .iter()
            .filter(|(_, t)| t.afk)
            .map(|(p, _)| *p)
            .collect()
    }

    fn effective_policy(&self, launch: AfkPolicy, player: Uuid) -> AfkPolicy {
        self.player_overrides
            .get(&player)
            .or(self.match_override.as_ref())
            .copied()
            .unwrap_or(launch)
    }

    /// The `nexoriAfk` block (schemaVersion 1) as of `now`.
    fn report(&self, match_id: &str, now: i64) -> Value {
        let players: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let open = if r.currently_afk {
                    (now - r.current_started_at).max(0)
                } else {
                    0
                };
                json!([
                    r.player.hyphenated().to_string(),
                    r.name,
                    r.currently_afk,
                    r.closed_afk_ms + open,
                    r.afk_count,
                    if r.currently_afk {
                        r.current_started_at
                    } else {
                        0
                    },
                    r.last_idle_ms,
                    r.sources.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
                ])
            })
            .collect();
        json!({
            "schemaVersion": 1,
            "matchId": match_id,
            "playerFields": ["playerUuid", "playerName", "currentlyAfk", "totalAfkMs", "afkCount",
                             "currentStartedAtEpochMs", "lastIdleMs", "sources"],
            "players": players,
        })
    }
}

/// `setPlayerAfk`'s request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetPlayerAfk {
    /// The match id as the mod passed it; blank answers `INVALID_REQUEST`.
    pub match_id: String,
    /// The player; `None` when the mod's text was not a UUID, which answers `INVALID_REQUEST`.
    pub player: Option<Uuid>,
    /// The state to set: AFK (`true`) or active.
    pub afk: bool,
    /// Whether becoming AFK shows the AFK HUD (`player.afkHud`); becoming active hides it if it
    /// was shown, whatever this says.
    pub show_hud: bool,
}

impl Arena {
    fn effective_timeout(m: &Match, player: Uuid) -> Option<i64> {
        let policy = m.afk.effective_policy(m.launch_afk_policy, player);
        policy.enabled.then(|| policy.timeout_ms())
    }

    /// A player entered the match: the detector's "first tick" sets their last activity.
    pub(crate) fn start_afk_tracking(&mut self, match_id: &str, player: Uuid, now: i64) {
        let Some(m) = self.matches.get_mut(match_id) else {
            return;
        };
        let timeout_ms = Self::effective_timeout(m, player);
        match m.afk.trackers.get_mut(&player) {
            Some(t) => t.last_activity = now,
            None if timeout_ms.is_some() => {
                m.afk.trackers.insert(
                    player,
                    AfkTracker {
                        last_activity: now,
                        afk: false,
                        external: false,
                        hud_shown: false,
                        timeout_ms,
                    },
                );
            }
            None => {}
        }
    }

    /// A player left the match: their AFK state and override go, an open AFK span is closed in
    /// the report (no transition is dispatched: the player is gone).
    pub(crate) fn stop_afk_tracking(&mut self, match_id: &str, player: Uuid, now: i64) {
        let Some(m) = self.matches.get_mut(match_id) else {
            return;
        };
        m.afk.player_overrides.remove(&player);
        if m.afk.trackers.remove(&player).is_some_and(|t| t.afk)
            && let Some(row) = m.afk.rows.iter_mut().find(|r| r.player == player)
        {
            row.closed_afk_ms += (now - row.current_started_at).max(0);
            row.currently_afk = false;
            row.current_started_at = 0;
        }
    }

    /// Input from a player (`player.activity`, source `PLAYER_INPUT` or `INVENTORY_PACKET`):
    /// resets the idle timer, and makes an AFK player active again with that source. Players
    /// outside matches are ignored: activity is high-volume and carries no match id.
    pub fn player_activity(&mut self, player: Uuid, source: AfkSource, now: i64) {
        let Some(match_id) = self.players.get(&player).and_then(|p| p.match_id.clone()) else {
            return;
        };
        let Some(m) = self.matches.get_mut(&match_id) else {
            return;
        };
        let Some(tracker) = m.afk.trackers.get_mut(&player) else {
            return;
        };
        let idle = now - tracker.last_activity;
        tracker.last_activity = now;
        if tracker.afk {
            let show_hud = tracker.hud_shown;
            self.afk_transition(&match_id, player, false, source, idle, show_hud, now);
        }
    }

    /// Marks players AFK whose idle time reached their timeout (inclusive).
    pub(crate) fn run_afk_timeouts(&mut self, match_id: &str, now: i64) {
        let Some(m) = self.matches.get(match_id) else {
            return;
        };
        let due: Vec<(Uuid, i64)> = m
            .afk
            .trackers
            .iter()
            .filter(|(_, t)| !t.afk && t.timeout_ms.is_some_and(|ms| now - t.last_activity >= ms))
            .map(|(p, t)| (*p, now - t.last_activity))
            .collect();
        for (player, idle) in due {
            self.afk_transition(
                match_id,
                player,
                true,
                AfkSource::IdleTimeout,
                idle,
                true,
                now,
            );
        }
    }

    /// Records one AFK transition: tracker, report row, the mod's callback and the HUD.
    #[allow(clippy::too_many_arguments)]
    fn afk_transition(
        &mut self,
        match_id: &str,
        player: Uuid,
        afk: bool,
        source: AfkSource,
        idle_ms: i64,
        show_hud: bool,
        now: i64,
    ) {
        let name = {
            let Some(m) = self.matches.get(match_id) else {
                return;
            };
            self.player_name(m, player)
        };
        let m = self.matches.get_mut(match_id).expect("present");
        let timeout_ms = Self::effective_timeout(m, player);
        let tracker = m.afk.trackers.entry(player).or_insert(AfkTracker {
            last_activity: now,
            afk: false,
            external: false,
            hud_shown: false,
            timeout_ms,
        });
        tracker.afk = afk;
        tracker.external = afk && source == AfkSource::ExternalApi;
        let hud_was_shown = tracker.hud_shown;
        tracker.hud_shown = afk && show_hud;
        if !afk {
            tracker.last_activity = now;
        }
        m.afk.frozen_report = None;
        let row = match m.afk.rows.iter().position(|r| r.player == player) {
            Some(i) => &mut m.afk.rows[i],
            None => {
                m.afk.rows.push(AfkRow {
                    player,
                    name: String::new(),
                    currently_afk: false,
                    closed_afk_ms: 0,
                    afk_count: 0,
                    current_started_at: 0,
                    last_idle_ms: 0,
                    sources: Vec::new(),
                });
                m.afk.rows.last_mut().expect("just pushed")
            }
        };
        if !name.is_empty() {
            row.name = name.clone();
        }
        if afk && !row.currently_afk {
            row.afk_count += 1;
            row.current_started_at = now;
        } else if !afk && row.currently_afk {
            row.closed_afk_ms += (now - row.current_started_at).max(0);
            row.current_started_at = 0;
        }
        row.currently_afk = afk;
        row.last_idle_ms = idle_ms;
        if !row.sources.contains(&source) {
            row.sources.push(source);
        }
        let event = PlayerAfkChangedEvent {
            match_id: m.match_id.clone(),
            queue_id: m.queue_id.clone(),
            arena_id: m.arena_id.clone(),
            rules_engine_id: m.rules_engine_id.clone(),
            player_uuid: player,
            player_name: name,
            afk,
            changed_at_epoch_ms: now,
            idle_ms,
            source,
        };
        let rules_engine_id = m.rules_engine_id.clone();
        self.emit(RuntimeEvent::Callback {
            rules_engine_id,
            callback: Callback::PlayerAfkChanged,
            payload: CallbackPayload::Afk(event),
        });
        if (afk && show_hud) || (!afk && hud_was_shown) {
            self.emit_command(GameServerCommand::AfkHud {
                match_id: match_id.to_string(),
                player,
                afk,
            });
        }
    }

    /// `setPlayerAfk` (docs/arena-behaviour.md#afk): works with detection disabled; clearing
    /// restarts the idle timer.
    pub fn set_player_afk(&mut self, request: SetPlayerAfk, now: i64) -> SetPlayerAfkResult {
        use SetPlayerAfkStatus as S;
        if normalize_match_id(&request.match_id).is_none() || request.player.is_none() {
            return SetPlayerAfkResult::new(
                S::InvalidRequest,
                "Request, match id and player UUID must be valid.",
            );
        }
        let (id, player) = match self.check_player_update(&request.match_id, request.player, true) {
            Ok(ok) => ok,
            Err((check, message)) => return SetPlayerAfkResult::new(check.status(), message),
        };
        let current = self.matches[&id]
            .afk
            .trackers
            .get(&player)
            .is_some_and(|t| t.afk);
        if current == request.afk {
            return SetPlayerAfkResult::new(S::Unchanged, "");
        }
        let idle = self.matches[&id]
            .afk
            .trackers
            .get(&player)
            .map_or(0, |t| (now - t.last_activity).max(0));
        let show_hud = request.show_hud;
        self.afk_transition(
            &id,
            player,
            request.afk,
            AfkSource::ExternalApi,
            idle,
            show_hud,
            now,
        );
        SetPlayerAfkResult::new(S::Updated, "")
    }

    /// `set/clearMatchAfkDetectionPolicy` and `set/clearPlayerAfkDetectionPolicy`: stores or
    /// clears a match-wide (`player` = `None`) or per-player policy override and applies the new
    /// effective policy to the affected players.
    ///
    /// `player` is `Some(None)` when the mod's player text was not a UUID (`PLAYER_MISSING`).
    /// `policy` is `None` to clear (`CLEARED`), `Some(None)` for a null policy
    /// (`INVALID_POLICY`), else the policy to set (normalised here; `UPDATED`).
    pub fn set_afk_policy(
        &mut self,
        match_id: &str,
        player: Option<Option<Uuid>>,
        policy: Option<Option<AfkPolicy>>,
        now: i64,
    ) -> SetAfkPolicyResult {
        use SetAfkPolicyStatus as S;
        // `policy`: None = clear; Some(None) = a null policy.
        if let Some(None) = policy {
            return SetAfkPolicyResult::new(S::InvalidPolicy, INVALID_POLICY);
        }
        let checked = match player {
            None => self
                .live_match_id(match_id)
                .map_err(|m| (PlayerCheck::MatchMissing, m))
                .and_then(|id| {
                    if self.matches[&id].is_completed() {
                        Err((
                            PlayerCheck::Completed,
                            super::messages::RESULT_ALREADY_SUBMITTED,
                        ))
                    } else {
                        Ok((id, None))
                    }
                }),
            Some(p) => self
                .check_player_update(match_id, p, true)
                .map(|(id, p)| (id, Some(p))),
        };
        let (id, target) = match checked {
            Ok(ok) => ok,
            Err((check, message)) => return SetAfkPolicyResult::new(check.status(), message),
        };
        let policy = policy
            .flatten()
            .map(|p| AfkPolicy::normalized(p.enabled, p.inactivity_timeout_seconds));
        let m = self.matches.get_mut(&id).expect("checked");
        let affected: Vec<Uuid> = match target {
            Some(p) => vec![p],
            None => m.all_players().into_iter().collect(),
        };
        let before: Vec<AfkPolicy> = affected
            .iter()
            .map(|p| m.afk.effective_policy(m.launch_afk_policy, *p))
            .collect();
        match (target, policy) {
            (Some(p), Some(policy)) => {
                m.afk.player_overrides.insert(p, policy);
            }
            (Some(p), None) => {
                m.afk.player_overrides.remove(&p);
            }
            (None, policy) => m.afk.match_override = policy,
        }
        for (player, before) in affected.into_iter().zip(before) {
            self.apply_afk_policy_change(&id, player, before, now);
        }
        SetAfkPolicyResult::new(
            if policy.is_some() {
                S::Updated
            } else {
                S::Cleared
            },
            "",
        )
    }

    /// docs/arena-behaviour.md#afk: unchanged → nothing; disabled → drop the state (an AFK player
    /// becomes active with source `POLICY_CHANGE`) unless the player is externally AFK; enabled →
    /// restart the timer.
    fn apply_afk_policy_change(
        &mut self,
        match_id: &str,
        player: Uuid,
        before: AfkPolicy,
        now: i64,
    ) {
        let Some(m) = self.matches.get_mut(match_id) else {
            return;
        };
        let after = m.afk.effective_policy(m.launch_afk_policy, player);
        if after == before {
            return;
        }
        let in_match = self
            .players
            .get(&player)
            .is_some_and(|p| p.match_id.as_deref() == Some(match_id));
        let m = self.matches.get_mut(match_id).expect("present");
        if after.enabled {
            match m.afk.trackers.get_mut(&player) {
                Some(t) => {
                    t.timeout_ms = Some(after.timeout_ms());
                    t.last_activity = now;
                }
                None if in_match => {
                    m.afk.trackers.insert(
                        player,
                        AfkTracker {
                            last_activity: now,
                            afk: false,
                            external: false,
                            hud_shown: false,
                            timeout_ms: Some(after.timeout_ms()),
                        },
                    );
                }
                None => {}
            }
            return;
        }
        let Some(t) = m.afk.trackers.get_mut(&player) else {
            return;
        };
        t.timeout_ms = None;
        if t.external {
            return;
        }
        let (was_afk, idle, hud) = (t.afk, now - t.last_activity, t.hud_shown);
        if was_afk {
            self.afk_transition(
                match_id,
                player,
                false,
                AfkSource::PolicyChange,
                idle,
                hud,
                now,
            );
        }
        if let Some(m) = self.matches.get_mut(match_id) {
            m.afk.trackers.remove(&player);
        }
    }

    /// Whether a result submitted now gets a `nexoriAfk` block
    /// (docs/arena-behaviour.md#the-nexoriafk-block), which means its customData must be enriched
    /// before it is validated. Forgets the report offered to an earlier submission either way.
    pub(crate) fn offers_afk_report(&mut self, match_id: &str) -> bool {
        self.matches.get_mut(match_id).is_some_and(|m| {
            m.afk.offered_report = None;
            !m.afk.rows.is_empty()
        })
    }

    /// docs/arena-behaviour.md#the-nexoriafk-block: adds `nexoriAfk` to a submission's customData
    /// when the match saw an AFK transition and the mod did not send that key itself.
    pub(crate) fn enrich_with_afk_report(
        &mut self,
        match_id: &str,
        mut custom_data: Value,
        now: i64,
    ) -> Value {
        let Some(m) = self.matches.get_mut(match_id) else {
            return custom_data;
        };
        m.afk.offered_report = None;
        if m.afk.rows.is_empty() {
            return custom_data;
        }
        let Value::Object(map) = &mut custom_data else {
            return custom_data;
        };
        if map.contains_key("nexoriAfk") {
            return custom_data;
        }
        let report = m
            .afk
            .frozen_report
            .clone()
            .unwrap_or_else(|| m.afk.report(&m.match_id, now));
        m.afk.offered_report = Some(report.clone());
        map.insert("nexoriAfk".to_string(), report);
        custom_data
    }

    /// The submission was accepted: its AFK report is what a re-submission must reproduce.
    pub(crate) fn freeze_afk_report(&mut self, match_id: &str) {
        if let Some(m) = self.matches.get_mut(match_id)
            && let Some(report) = m.afk.offered_report.take()
        {
            m.afk.frozen_report = Some(report);
        }
    }
}
