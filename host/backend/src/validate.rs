//! Schema validation of the two request bodies. Every failure names the offending field (JSON path
//! such as `players[1].outcome`) and becomes a `422` answer. Unknown extra fields are allowed and kept
//! in the stored body (forward compatibility).

use std::collections::HashSet;

use serde_json::{Map, Value};

/// A body that does not follow the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaError {
    /// JSON path of the field, `""` for the body itself.
    pub field: String,
    pub message: String,
}

impl SchemaError {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        SchemaError {
            field: field.into(),
            message: message.into(),
        }
    }
}

type Obj = Map<String, Value>;

fn get<'a>(obj: &'a Obj, field: &str, path: &str) -> Result<&'a Value, SchemaError> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(SchemaError::new(path, format!("{path} is required"))),
        Some(v) => Ok(v),
    }
}

fn string<'a>(obj: &'a Obj, field: &str, path: &str) -> Result<&'a str, SchemaError> {
    get(obj, field, path)?
        .as_str()
        .ok_or_else(|| SchemaError::new(path, format!("{path} must be a string")))
}

fn non_blank<'a>(obj: &'a Obj, field: &str, path: &str) -> Result<&'a str, SchemaError> {
    let s = string(obj, field, path)?;
    if s.trim().is_empty() {
        return Err(SchemaError::new(path, format!("{path} must not be blank")));
    }
    Ok(s)
}

fn integer(obj: &Obj, field: &str, path: &str) -> Result<i64, SchemaError> {
    get(obj, field, path)?
        .as_i64()
        .ok_or_else(|| SchemaError::new(path, format!("{path} must be an integer")))
}

fn non_negative(obj: &Obj, field: &str, path: &str) -> Result<i64, SchemaError> {
    let n = integer(obj, field, path)?;
    if n < 0 {
        return Err(SchemaError::new(
            path,
            format!("{path} must not be negative, got {n}"),
        ));
    }
    Ok(n)
}

fn boolean(obj: &Obj, field: &str, path: &str) -> Result<bool, SchemaError> {
    get(obj, field, path)?
        .as_bool()
        .ok_or_else(|| SchemaError::new(path, format!("{path} must be a boolean")))
}

fn object<'a>(obj: &'a Obj, field: &str, path: &str) -> Result<&'a Obj, SchemaError> {
    get(obj, field, path)?
        .as_object()
        .ok_or_else(|| SchemaError::new(path, format!("{path} must be an object")))
}

fn string_map(obj: &Obj, path: &str) -> Result<(), SchemaError> {
    for (k, v) in obj {
        if !v.is_string() {
            let p = format!("{path}.{k}");
            return Err(SchemaError::new(p.clone(), format!("{p} must be a string")));
        }
    }
    Ok(())
}

fn string_array(obj: &Obj, field: &str, path: &str) -> Result<Vec<String>, SchemaError> {
    let arr = get(obj, field, path)?
        .as_array()
        .ok_or_else(|| SchemaError::new(path, format!("{path} must be an array of strings")))?;
    arr.iter()
        .enumerate()
        .map(|(i, v)| {
            v.as_str().map(str::to_owned).ok_or_else(|| {
                let p = format!("{path}[{i}]");
                SchemaError::new(p.clone(), format!("{p} must be a string"))
            })
        })
        .collect()
}

fn schema_version(obj: &Obj) -> Result<(), SchemaError> {
    match get(obj, "schemaVersion", "schemaVersion")?.as_i64() {
        Some(1) => Ok(()),
        Some(v) => Err(SchemaError::new(
            "schemaVersion",
            format!("schemaVersion must be 1, got {v}"),
        )),
        None => Err(SchemaError::new(
            "schemaVersion",
            "schemaVersion must be the integer 1",
        )),
    }
}

fn one_of<'a>(obj: &'a Obj, field: &str, allowed: &[&str]) -> Result<&'a str, SchemaError> {
    let s = string(obj, field, field)?;
    if !allowed.contains(&s) {
        return Err(SchemaError::new(
            field,
            format!("{field} must be one of {}, got {s:?}", allowed.join(", ")),
        ));
    }
    Ok(s)
}

/// Player outcome values accepted in a result.
pub(crate) const OUTCOMES: [&str; 4] = ["WIN", "LOSS", "DISCONNECTED", "NO_CONTEST"];

/// The fields of a valid result body the backend uses.
#[derive(Debug, Clone)]
pub(crate) struct ResultReport {
    pub result_id: String,
    pub sent_at_epoch_ms: i64,
    pub server_id: String,
    pub local_match_id: String,
    pub external_match_id: String,
    pub rules_engine_id: String,
    pub reason: String,
    pub ended_at_epoch_ms: i64,
}

/// Validates a `POST /nexori/results` body (docs/arena-behaviour.md#the-result-body).
///
/// Required: `schemaVersion` = 1; non-blank strings `resultId`, `serverId`, `localMatchId`,
/// `externalMatchId`; strings `assignmentId`, `queueId`, `arenaId`, `rulesEngineId`, `reason`;
/// non-negative integers `sentAtEpochMs`, `endedAtEpochMs`; objects `metadata` (string values) and
/// `customData`; a non-empty `players` array of `{playerUuid (non-blank, unique), outcome (WIN,
/// LOSS, DISCONNECTED, NO_CONTEST), reason (string)}` with at least one `WIN` unless every outcome
/// is `NO_CONTEST` (the host's own rule, docs/arena-behaviour.md#validation).
/// `assignmentIdsByPlayerUuid` is optional (the public docs' example omits it) but must be an
/// object of strings when present.
pub(crate) fn validate_result(obj: &Obj) -> Result<ResultReport, SchemaError> {
    schema_version(obj)?;
    let result_id = non_blank(obj, "resultId", "resultId")?.to_owned();
    let sent_at_epoch_ms = non_negative(obj, "sentAtEpochMs", "sentAtEpochMs")?;
    let server_id = non_blank(obj, "serverId", "serverId")?.to_owned();
    let local_match_id = non_blank(obj, "localMatchId", "localMatchId")?.to_owned();
    let external_match_id = non_blank(obj, "externalMatchId", "externalMatchId")?.to_owned();
    string(obj, "assignmentId", "assignmentId")?;
    if let Some(v) = obj
        .get("assignmentIdsByPlayerUuid")
        .filter(|v| !v.is_null())
    {
        let map = v.as_object().ok_or_else(|| {
            SchemaError::new(
                "assignmentIdsByPlayerUuid",
                "assignmentIdsByPlayerUuid must be an object",
            )
        })?;
        string_map(map, "assignmentIdsByPlayerUuid")?;
    }
    string(obj, "queueId", "queueId")?;
    string(obj, "arenaId", "arenaId")?;
    let rules_engine_id = string(obj, "rulesEngineId", "rulesEngineId")?.to_owned();

    let players_value = get(obj, "players", "players")?;
    let players_arr = players_value
        .as_array()
        .ok_or_else(|| SchemaError::new("players", "players must be an array"))?;
    if players_arr.is_empty() {
        return Err(SchemaError::new("players", "players must not be empty"));
    }
    let mut seen = HashSet::new();
    let mut outcomes = Vec::with_capacity(players_arr.len());
    for (i, p) in players_arr.iter().enumerate() {
        let path = format!("players[{i}]");
        let p = p
            .as_object()
            .ok_or_else(|| SchemaError::new(path.clone(), format!("{path} must be an object")))?;
        let uuid = non_blank(p, "playerUuid", &format!("{path}.playerUuid"))?;
        let outcome_path = format!("{path}.outcome");
        let outcome = string(p, "outcome", &outcome_path)?;
        if !OUTCOMES.contains(&outcome) {
            return Err(SchemaError::new(
                outcome_path.clone(),
                format!(
                    "{outcome_path} must be one of {}, got {outcome:?}",
                    OUTCOMES.join(", ")
                ),
            ));
        }
        string(p, "reason", &format!("{path}.reason"))?;
        if !seen.insert(uuid.trim().to_lowercase()) {
            let up = format!("{path}.playerUuid");
            return Err(SchemaError::new(
                up.clone(),
                format!("{up} {uuid} appears more than once"),
            ));
        }
        outcomes.push(outcome);
    }
    let all_no_contest = outcomes.iter().all(|o| *o == "NO_CONTEST");
    if !all_no_contest && !outcomes.contains(&"WIN") {
        return Err(SchemaError::new(
            "players",
            "players must include at least one WIN outcome unless every player is NO_CONTEST",
        ));
    }

    let reason = string(obj, "reason", "reason")?.to_owned();
    let metadata = object(obj, "metadata", "metadata")?;
    string_map(metadata, "metadata")?;
    object(obj, "customData", "customData")?;
    let ended_at_epoch_ms = non_negative(obj, "endedAtEpochMs", "endedAtEpochMs")?;
    Ok(ResultReport {
        result_id,
        sent_at_epoch_ms,
        server_id,
        local_match_id,
        external_match_id,
        rules_engine_id,
        reason,
        ended_at_epoch_ms,
    })
}

/// `backfillMode` values.
pub(crate) const BACKFILL_MODES: [&str; 3] = ["NONE", "PLACEMENT_ONLY", "ACTIVE_WINDOW"];
/// `matchLifecycleStatus` values.
pub(crate) const LIFECYCLE_STATUSES: [&str; 2] = ["PLACEMENT", "ACTIVE"];

/// The fields of a valid admission-state body.
#[derive(Debug, Clone)]
pub(crate) struct StateSnapshot {
    pub state_update_id: String,
    pub sequence: i64,
    pub sent_at_epoch_ms: i64,
    pub state_expires_at_epoch_ms: i64,
    pub reporting_server_id: String,
    pub connection_address: String,
    pub match_id: String,
    pub external_match_id: String,
    pub queue_id: String,
    pub arena_id: String,
    pub backfill_mode: String,
    pub lifecycle_status: String,
    pub admission_open: bool,
    pub admission_open_until_epoch_ms: i64,
    pub admission_capacity: i64,
    pub admitted_slot_count: i64,
    pub available_admission_slots: i64,
    pub consumed_reservation_ids: Vec<String>,
    pub reporting_closed: bool,
    pub close_reason: String,
}

/// Validates a `POST /nexori/matches/state` body: every field of the documented payload is required
/// with its type; `schemaVersion` = 1; `stateUpdateId`, `reportingServerId` and `matchId` non-blank;
/// counts, times and the sequence are non-negative integers; `backfillMode` is one of NONE,
/// PLACEMENT_ONLY, ACTIVE_WINDOW and `matchLifecycleStatus` one of PLACEMENT, ACTIVE.
/// `externalMatchId` must be a string but may be blank: the match identity then falls back to
/// `reportingServerId + matchId`.
pub(crate) fn validate_snapshot(obj: &Obj) -> Result<StateSnapshot, SchemaError> {
    schema_version(obj)?;
    let state_update_id = non_blank(obj, "stateUpdateId", "stateUpdateId")?.to_owned();
    let sequence = non_negative(obj, "admissionStateSequence", "admissionStateSequence")?;
    string(obj, "payloadHash", "payloadHash")?;
    let sent_at_epoch_ms = non_negative(obj, "sentAtEpochMs", "sentAtEpochMs")?;
    let state_expires_at_epoch_ms =
        non_negative(obj, "stateExpiresAtEpochMs", "stateExpiresAtEpochMs")?;
    let reporting_server_id = non_blank(obj, "reportingServerId", "reportingServerId")?.to_owned();
    let connection_address = string(
        obj,
        "reportingServerConnectionAddress",
        "reportingServerConnectionAddress",
    )?
    .to_owned();
    let match_id = non_blank(obj, "matchId", "matchId")?.to_owned();
    let external_match_id = string(obj, "externalMatchId", "externalMatchId")?.to_owned();
    let queue_id = string(obj, "queueId", "queueId")?.to_owned();
    let arena_id = string(obj, "arenaId", "arenaId")?.to_owned();
    boolean(obj, "backfillEnabled", "backfillEnabled")?;
    let backfill_mode = one_of(obj, "backfillMode", &BACKFILL_MODES)?.to_owned();
    non_negative(obj, "backfillWindowSeconds", "backfillWindowSeconds")?;
    let lifecycle_status = one_of(obj, "matchLifecycleStatus", &LIFECYCLE_STATUSES)?.to_owned();
    let admission_open = boolean(obj, "admissionOpen", "admissionOpen")?;
    let admission_open_until_epoch_ms = non_negative(
        obj,
        "admissionOpenUntilEpochMs",
        "admissionOpenUntilEpochMs",
    )?;
    let admission_capacity = non_negative(obj, "admissionCapacity", "admissionCapacity")?;
    let admitted_slot_count = non_negative(obj, "admittedSlotCount", "admittedSlotCount")?;
    let available_admission_slots =
        non_negative(obj, "availableAdmissionSlots", "availableAdmissionSlots")?;
    non_negative(obj, "initialRosterSize", "initialRosterSize")?;
    non_negative(
        obj,
        "arrivedInitialPlayerCount",
        "arrivedInitialPlayerCount",
    )?;
    non_negative(
        obj,
        "unfilledInitialRosterCount",
        "unfilledInitialRosterCount",
    )?;
    let consumed_reservation_ids = string_array(
        obj,
        "consumedAdmissionReservationIds",
        "consumedAdmissionReservationIds",
    )?;
    let reporting_closed = boolean(obj, "admissionReportingClosed", "admissionReportingClosed")?;
    let close_reason = string(
        obj,
        "admissionReportingCloseReason",
        "admissionReportingCloseReason",
    )?
    .to_owned();
    string(obj, "primaryChangeReason", "primaryChangeReason")?;
    string_array(obj, "coalescedChangeReasons", "coalescedChangeReasons")?;
    Ok(StateSnapshot {
        state_update_id,
        sequence,
        sent_at_epoch_ms,
        state_expires_at_epoch_ms,
        reporting_server_id,
        connection_address,
        match_id,
        external_match_id,
        queue_id,
        arena_id,
        backfill_mode,
        lifecycle_status,
        admission_open,
        admission_open_until_epoch_ms,
        admission_capacity,
        admitted_slot_count,
        available_admission_slots,
        consumed_reservation_ids,
        reporting_closed,
        close_reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result_body() -> Value {
        json!({
            "schemaVersion": 1, "resultId": "r1", "sentAtEpochMs": 1, "serverId": "s", "localMatchId": "m",
            "externalMatchId": "e", "assignmentId": "", "assignmentIdsByPlayerUuid": {}, "queueId": "q",
            "arenaId": "a", "rulesEngineId": "x",
            "players": [{"playerUuid": "u1", "outcome": "WIN", "reason": ""}, {"playerUuid": "u2", "outcome": "LOSS", "reason": ""}],
            "reason": "", "metadata": {}, "customData": {}, "endedAtEpochMs": 1
        })
    }

    #[test]
    fn result_fields() {
        assert!(validate_result(result_body().as_object().unwrap()).is_ok());
        let mut b = result_body();
        b["players"][1]["outcome"] = json!("DRAW");
        assert_eq!(
            validate_result(b.as_object().unwrap()).unwrap_err().field,
            "players[1].outcome"
        );
        let mut b = result_body();
        b.as_object_mut().unwrap().remove("customData");
        assert_eq!(
            validate_result(b.as_object().unwrap()).unwrap_err().field,
            "customData"
        );
        let mut b = result_body();
        b["schemaVersion"] = json!(2);
        assert_eq!(
            validate_result(b.as_object().unwrap()).unwrap_err().field,
            "schemaVersion"
        );
        let mut b = result_body();
        b["players"][0]["outcome"] = json!("LOSS");
        assert_eq!(
            validate_result(b.as_object().unwrap()).unwrap_err().field,
            "players"
        );
        let mut b = result_body();
        b["sentAtEpochMs"] = json!(1.5);
        assert_eq!(
            validate_result(b.as_object().unwrap()).unwrap_err().field,
            "sentAtEpochMs"
        );
    }
}
