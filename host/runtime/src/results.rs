//! Final result submission (docs/arena-behaviour.md#results): validation in the reference's order,
//! and the payload hash that makes re-submission idempotent. The `/nexori/results` body itself is
//! `nexori_protocol::results`.

use serde_json::Value;
use uuid::Uuid;

use super::custom_data::{self, CustomData};
use super::match_state::Match;
use super::messages::*;
use super::model::*;
use super::{Arena, Callback};
use crate::ids::{java_trim, utf16_len};
use nexori_protocol::payload_hash::sha256_hex;
pub use nexori_protocol::results::ResultPlayer;

// The result limits are shared with the SDK, which documents them to mod authors.

/// Longest result reason, in UTF-16 code units after trimming:
/// [`nexori_vocabulary::limits::RESULT_REASON_MAX_CHARS`].
pub const MAX_REASON: usize = nexori_vocabulary::limits::RESULT_REASON_MAX_CHARS;
/// Most metadata entries a (Nexori-made) result may carry:
/// [`nexori_vocabulary::limits::RESULT_METADATA_MAX_ENTRIES`].
pub const MAX_METADATA_ENTRIES: usize = nexori_vocabulary::limits::RESULT_METADATA_MAX_ENTRIES;
/// Longest metadata key, in UTF-16 code units after trimming:
/// [`nexori_vocabulary::limits::RESULT_METADATA_KEY_MAX_CHARS`].
pub const MAX_METADATA_KEY: usize = nexori_vocabulary::limits::RESULT_METADATA_KEY_MAX_CHARS;
/// Longest metadata value, in UTF-16 code units after trimming:
/// [`nexori_vocabulary::limits::RESULT_METADATA_VALUE_MAX_CHARS`].
pub const MAX_METADATA_VALUE: usize = nexori_vocabulary::limits::RESULT_METADATA_VALUE_MAX_CHARS;

/// What a result says before validation (Nexori-made results carry metadata; mods' never do).
#[derive(Debug, Clone, PartialEq)]
pub struct ResultDraft {
    /// The result's reason, raw (trimmed during validation).
    pub reason: String,
    /// `(key, value)` pairs, raw (trimmed and sorted by key during validation).
    pub metadata: Vec<(String, String)>,
    /// The customData object, validated and canonicalised during recording.
    pub custom_data: Value,
}

/// A validated result of one match: everything the backend receives except the ids and times
/// of the sending attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedResult {
    /// The match id as stored (`localMatchId`, the hash's `matchId`).
    pub local_match_id: String,
    /// The backend's id for the match; `""` makes reporting answer `EXTERNAL_MATCH_MISSING`.
    pub external_match_id: String,
    /// The launch's assignment id.
    pub assignment_id: String,
    /// Non-blank per-player assignment ids from the launch and arrivals, sorted by UUID.
    pub assignment_ids_by_player_uuid: std::collections::BTreeMap<Uuid, String>,
    /// The launch's queue id.
    pub queue_id: String,
    /// The launch's arena id.
    pub arena_id: String,
    /// The match's rules engine id.
    pub rules_engine_id: String,
    /// One entry per required player, in required order (D2), with the outcome's Java name and
    /// the stored reason.
    pub players: Vec<ResultPlayer>,
    /// The result's reason, trimmed (may be `""`).
    pub reason: String,
    /// Sorted by key.
    pub metadata: Vec<(String, String)>,
    /// The canonical customData (D8), `nexoriAfk` included when it was added.
    pub custom_data: CustomData,
    /// SHA-256 (lowercase hex) from [`payload_hash`]: what makes a re-submission "the same".
    pub payload_hash: String,
    /// When the result was accepted (epoch ms), sent as `endedAtEpochMs`.
    pub ended_at_epoch_ms: i64,
}

impl AcceptedResult {
    pub(crate) fn accepted_at(mut self, now: i64) -> Self {
        self.ended_at_epoch_ms = now;
        self
    }
}

fn validate_metadata(metadata: &[(String, String)]) -> Result<Vec<(String, String)>, String> {
    if metadata.len() > MAX_METADATA_ENTRIES {
        return Err("Result metadata cannot contain more than 32 entries.".into());
    }
    let mut out = Vec::with_capacity(metadata.len());
    for (key, value) in metadata {
        let key = java_trim(key);
        let value = java_trim(value);
        if key.is_empty() {
            return Err("Result metadata keys cannot be blank.".into());
        }
        if utf16_len(key) > MAX_METADATA_KEY {
            return Err("Result metadata key exceeds 64 characters.".into());
        }
        if utf16_len(value) > MAX_METADATA_VALUE {
            return Err("Result metadata value exceeds 512 characters.".into());
        }
        out.push((key.to_string(), value.to_string()));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// `validateFinalResult` (docs/arena-behaviour.md#validation), in order: reason, metadata,
/// (customData already validated by the caller), required players, their outcomes, the winner rule.
pub(crate) fn validate(
    m: &Match,
    reason: &str,
    metadata: &[(String, String)],
    custom_data: CustomData,
) -> Result<AcceptedResult, String> {
    let reason = java_trim(reason);
    if utf16_len(reason) > MAX_REASON {
        return Err("Result reason exceeds 512 characters.".into());
    }
    let metadata = validate_metadata(metadata)?;
    let required = m.required_players();
    if required.is_empty() {
        return Err("Match has no required players to resolve.".into());
    }
    let mut players = Vec::with_capacity(required.len());
    for uuid in &required {
        let Some(record) = m.outcomes.get(uuid) else {
            return Err(format!("Result is missing required player outcome {uuid}."));
        };
        players.push(ResultPlayer {
            player_uuid: *uuid,
            outcome: record.outcome.as_str().to_string(),
            reason: record.reason.clone(),
        });
    }
    if let Some(unexpected) = m.outcomes.keys().find(|uuid| !required.contains(uuid)) {
        return Err(format!(
            "Result contains unexpected player outcome {unexpected}."
        ));
    }
    let all_no_contest = required
        .iter()
        .all(|u| m.outcomes[u].outcome == Outcome::NoContest);
    let has_win = required
        .iter()
        .any(|u| m.outcomes[u].outcome == Outcome::Win);
    if !has_win && !all_no_contest {
        return Err("Final match result must include at least one WIN outcome unless all players are NO_CONTEST.".into());
    }
    let mut accepted = AcceptedResult {
        local_match_id: m.match_id.clone(),
        external_match_id: m.external_match_id.clone(),
        assignment_id: m.assignment_id.clone(),
        assignment_ids_by_player_uuid: m.assignment_ids.clone(),
        queue_id: m.queue_id.clone(),
        arena_id: m.arena_id.clone(),
        rules_engine_id: m.rules_engine_id.clone(),
        players,
        reason: reason.to_string(),
        metadata,
        custom_data,
        payload_hash: String::new(),
        ended_at_epoch_ms: 0,
    };
    accepted.payload_hash = payload_hash(&accepted);
    Ok(accepted)
}

/// docs/arena-behaviour.md#payload-hash: SHA-256 over the lines that define "the same result".
/// Timestamps are left out so an identical re-submission is idempotent.
pub fn payload_hash(r: &AcceptedResult) -> String {
    let mut text = String::with_capacity(256 + r.custom_data.canonical_json().len());
    for (key, value) in [
        ("matchId", &r.local_match_id),
        ("queueId", &r.queue_id),
        ("arenaId", &r.arena_id),
        ("externalMatchId", &r.external_match_id),
        ("rulesEngineId", &r.rules_engine_id),
        ("reason", &r.reason),
    ] {
        text.push_str(key);
        text.push('=');
        text.push_str(value);
        text.push('\n');
    }
    let mut players: Vec<&ResultPlayer> = r.players.iter().collect();
    players.sort_by_key(|p| p.player_uuid);
    for p in players {
        text.push_str(&format!(
            "player={}|{}|{}\n",
            p.player_uuid, p.outcome, p.reason
        ));
    }
    for (k, v) in &r.metadata {
        text.push_str(&format!("metadata={k}|{v}\n"));
    }
    text.push_str("customData=");
    text.push_str(r.custom_data.canonical_json());
    text.push('\n');
    sha256_hex(&text)
}

/// What the runtime decided about a submission; the host completes it with the backend plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Submission {
    /// Accepted locally: report it and answer with the reporting outcome.
    Accepted(Box<AcceptedResult>),
    /// Not accepted; the answer is final.
    Rejected(SubmitResult),
}

impl Arena {
    /// `submitFinalMatchResult` up to local completion (docs/arena-behaviour.md#results).
    /// `custom_data` is the guest's JSON text.
    pub fn submit_final_match_result(
        &mut self,
        match_id: &str,
        reason: &str,
        custom_data: Option<&str>,
        now: i64,
    ) -> Submission {
        use MatchCompletionStatus as S;
        let id = match self.live_match_id(match_id) {
            Ok(id) => id,
            Err(message) => {
                return Submission::Rejected(SubmitResult::rejected(S::MatchMissing, message));
            }
        };
        // With AFK rows to report, customData is parsed raw first so that enrichment
        // (docs/arena-behaviour.md#the-nexoriafk-block) sees the mod's exact keys and the
        // `nexoriAfk` block counts towards every limit; otherwise it is validated while it is
        // parsed.
        let parsed = if self.offers_afk_report(&id) {
            custom_data::parse_raw(custom_data).and_then(|object| {
                custom_data::from_value(self.enrich_with_afk_report(
                    &id,
                    Value::Object(object),
                    now,
                ))
            })
        } else {
            custom_data::parse(custom_data)
        };
        let m = self.matches.get(&id).expect("present");
        let custom_data = match parsed {
            Ok(cd) => cd,
            Err(e) => {
                return Submission::Rejected(SubmitResult::rejected(
                    S::InvalidResult,
                    e.to_string(),
                ));
            }
        };
        let accepted = match validate(m, reason, &[], custom_data) {
            Ok(accepted) => accepted,
            Err(message) => {
                return Submission::Rejected(SubmitResult::rejected(S::InvalidResult, message));
            }
        };
        if m.result_submitted_at > 0 {
            let same = m.result_hash == accepted.payload_hash;
            return Submission::Rejected(SubmitResult {
                match_status: S::AlreadySubmitted,
                backend_report_status: if same {
                    BackendReportStatus::AlreadySubmitted
                } else {
                    BackendReportStatus::DuplicateConflict
                },
                result_id: String::new(),
                message: if same {
                    RESULT_ALREADY_SUBMITTED.into()
                } else {
                    "Match already has a different submitted result.".into()
                },
            });
        }
        if m.is_completed() {
            return Submission::Rejected(SubmitResult::rejected(
                S::InvalidResult,
                RESULT_ALREADY_SUBMITTED,
            ));
        }
        let m = self.matches.get_mut(&id).expect("present");
        m.completed_at = now;
        m.result_submitted_at = now;
        m.result_hash = accepted.payload_hash.clone();
        if !accepted.reason.is_empty() {
            m.last_error = accepted.reason.clone();
        }
        self.freeze_afk_report(&id);
        self.mark_admission_dirty(&id, "MATCH_COMPLETED");
        self.emit_match_callback(&id, Callback::MatchCompleted, "MATCH_COMPLETED", now);
        // A runtime that holds nobody (D14: nobody ever came) has nothing left to wait for.
        self.close_runtime_if_empty(&id, now);
        Submission::Accepted(Box::new(accepted.accepted_at(now)))
    }
}
