//! `expect` steps: assertions a scenario makes on the trace so far (docs/scenarios.md#expect).
//!
//! An expectation names one trace kind and a selector, e.g.
//! `{"type": "expect", "api": {"method": "setPlayerOutcome", "status": "UPDATED"}}`. Each key of
//! the selector becomes a [`Check`] on the entry's serialised form (the `--json` trace), so what
//! an author writes is what `--json` shows, with three conveniences: UUIDs compare in any case,
//! `message` and `error` texts match when they contain the given text, and a result's `players`
//! is a map from UUID to outcome. Objects match as subsets, arrays element by element.

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use nexori_protocol::trace::TraceEntry;

/// The trace kinds an expectation can look for, by the key that names them in an `expect` step
/// (the same as the entry's `kind`).
pub const KINDS: &[&str] = &[
    "callback",
    "api",
    "command",
    "result",
    "admission",
    "fault",
    "error",
    "log",
    "warning",
];

/// The keys of an `expect` step besides the kind.
const STEP_KEYS: &[&str] = &["at", "type", "description", "count", "none"];

/// The command types (`type` of a `command` entry).
const COMMAND_TYPES: &[&str] = &[
    "player.return",
    "player.spectator",
    "player.afkHud",
    "player.message",
    "game.command",
];

/// The callbacks the trace records: Nexori's listeners and the host's `onPlayerDisconnected`.
const CALLBACKS: &[&str] = &[
    "onMatchCreated",
    "onPlayerArrived",
    "onPlayerPlacementConfirmed",
    "onMatchPlacementCompleted",
    "onMatchStartAllowed",
    "onMatchCancellationRequested",
    "onMatchCompleted",
    "onMatchRuntimeClosed",
    "onPlayerAfkChanged",
    "onPlayerDisconnected",
];

/// Log levels (`level` of a `log` entry).
const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug"];

/// The fields of a `/nexori/results` body a `result` selector may name (besides `matchId`,
/// `players`, `matchStatus` and `backendReportStatus`).
const RESULT_BODY_KEYS: &[&str] = &[
    "schemaVersion",
    "resultId",
    "sentAtEpochMs",
    "serverId",
    "localMatchId",
    "externalMatchId",
    "assignmentId",
    "assignmentIdsByPlayerUuid",
    "queueId",
    "arenaId",
    "rulesEngineId",
    "reason",
    "metadata",
    "customData",
    "endedAtEpochMs",
];

/// The fields of a `/nexori/matches/state` body an `admission` selector may name.
const ADMISSION_BODY_KEYS: &[&str] = &[
    "schemaVersion",
    "stateUpdateId",
    "admissionStateSequence",
    "payloadHash",
    "sentAtEpochMs",
    "stateExpiresAtEpochMs",
    "reportingServerId",
    "reportingServerConnectionAddress",
    "matchId",
    "externalMatchId",
    "queueId",
    "arenaId",
    "backfillEnabled",
    "backfillMode",
    "backfillWindowSeconds",
    "matchLifecycleStatus",
    "admissionOpen",
    "admissionOpenUntilEpochMs",
    "admissionCapacity",
    "admittedSlotCount",
    "availableAdmissionSlots",
    "initialRosterSize",
    "arrivedInitialPlayerCount",
    "unfilledInitialRosterCount",
    "consumedAdmissionReservationIds",
    "admissionReportingClosed",
    "admissionReportingCloseReason",
    "primaryChangeReason",
    "coalescedChangeReasons",
];

/// What JSON a selector field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Str,
    Bool,
    Int,
    Any,
}

/// The fields of the kinds whose entries are flat (everything but `result` and `admission`).
fn flat_fields(kind: &str) -> &'static [(&'static str, Ty)] {
    use Ty::*;
    match kind {
        "callback" => &[
            ("mod", Str),
            ("callback", Str),
            ("matchId", Str),
            ("player", Str),
            ("reason", Str),
        ],
        "api" => &[
            ("mod", Str),
            ("method", Str),
            ("matchId", Str),
            ("player", Str),
            ("status", Str),
            ("message", Str),
            ("backendReportStatus", Str),
            ("resultId", Str),
            ("result", Any),
        ],
        "command" => &[
            ("type", Str),
            ("matchId", Str),
            ("player", Str),
            ("reason", Str),
            ("spectator", Bool),
            ("modelId", Str),
            ("afk", Bool),
            ("text", Str),
            ("name", Str),
            ("data", Any),
        ],
        "fault" => &[("mod", Str), ("matchId", Str), ("error", Str)],
        "error" => &[("step", Int), ("error", Str)],
        "log" => &[
            ("mod", Str),
            ("matchId", Str),
            ("level", Str),
            ("message", Str),
        ],
        "warning" => &[("matchId", Str), ("message", Str)],
        _ => &[],
    }
}

/// The keys a selector of `kind` may hold, for error messages.
fn known_keys(kind: &str) -> Vec<&'static str> {
    match kind {
        "result" => ["matchId", "players", "matchStatus", "backendReportStatus"]
            .into_iter()
            .chain(RESULT_BODY_KEYS.iter().copied())
            .collect(),
        "admission" => ADMISSION_BODY_KEYS.to_vec(),
        _ => flat_fields(kind).iter().map(|(k, _)| *k).collect(),
    }
}

/// How a check compares.
#[derive(Debug, Clone, PartialEq)]
enum How {
    /// The expected JSON is a subset of the entry's value (see [`first_difference`]).
    Subset,
    /// The entry's text contains the expected text (`message`, `error`).
    Contains,
    /// The result body's `players` holds this player with the expected outcome (a string) or
    /// the expected fields (an object); `null`: the player is not listed.
    Player(Uuid),
}

/// One condition on an entry.
#[derive(Debug, Clone, PartialEq)]
struct Check {
    /// Where the value sits in the serialised entry.
    path: Vec<&'static str>,
    /// The name shown in a failure (`status`, `customData.kills`, `players.<uuid>`).
    label: String,
    expected: Value,
    how: How,
}

/// How many matching entries an expectation wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// At least one (the default).
    AtLeastOne,
    /// Exactly this many (`"count": n`; `"none": true` is `Exactly(0)`).
    Exactly(u64),
}

/// A parsed `expect` step.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    /// The trace kind it looks for (one of [`KINDS`]).
    pub kind: &'static str,
    /// The selector as written, for the rendering.
    pub selector: Map<String, Value>,
    /// The author's `description`.
    pub description: Option<String>,
    pub count: Count,
    /// Whether the step said `"none": true` (rather than `"count": 0`), for the rendering.
    none: bool,
    checks: Vec<Check>,
}

/// The outcome of one expectation, as `--json` writes it in `expectations`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExpectationOutcome {
    /// The step's index in the file (0-based, as in `error` entries).
    pub step: usize,
    /// When it was checked, epoch ms.
    pub at: i64,
    /// The step's `description`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The expectation, rendered: `api {"method":"setPlayerOutcome"}`, `fault {} (none)`.
    pub expectation: String,
    /// Whether it held.
    pub passed: bool,
    /// How many entries so far matched the selector.
    pub matched: usize,
    /// Why it failed, with what was closest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// The number of trace entries before it (where the readable timeline shows it).
    #[serde(skip)]
    pub position: usize,
}

impl ExpectationOutcome {
    /// The description, or else the rendering.
    pub fn label(&self) -> &str {
        self.description.as_deref().unwrap_or(&self.expectation)
    }
}

impl Expectation {
    /// Parses an `expect` step. Errors name the offending key.
    pub fn parse(step: &Map<String, Value>) -> Result<Self, String> {
        let mut kind = None;
        for key in step.keys() {
            if let Some(k) = KINDS.iter().find(|k| **k == key.as_str()) {
                if let Some(first) = kind {
                    return Err(format!(
                        "an expect step checks one kind of entry; it has both {first:?} and {k:?}"
                    ));
                }
                kind = Some(*k);
            } else if !STEP_KEYS.contains(&key.as_str()) {
                return Err(format!(
                    "unknown key {key:?} in an expect step (known: {}, and one of {})",
                    STEP_KEYS.join(", "),
                    KINDS.join(", ")
                ));
            }
        }
        let Some(kind) = kind else {
            return Err(format!(
                "an expect step needs one of {} (the kind of trace entry it looks for)",
                KINDS.join(", ")
            ));
        };
        let description = match step.get("description") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err("\"description\" must be a string".into()),
        };
        let exactly = match step.get("count") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .ok_or("\"count\" must be a non-negative integer")?,
            ),
        };
        let none = match step.get("none") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err("\"none\" must be true or false".into()),
        };
        let count = match (exactly, none) {
            (Some(_), true) => return Err("\"count\" and \"none\" cannot be combined".into()),
            (Some(n), false) => Count::Exactly(n),
            (None, true) => Count::Exactly(0),
            (None, false) => Count::AtLeastOne,
        };
        let Some(Value::Object(selector)) = step.get(kind) else {
            return Err(format!(
                "{kind:?} must be an object of the fields to match (may be empty: {{}})"
            ));
        };
        let checks = checks(kind, selector)?;
        Ok(Self {
            kind,
            selector: selector.clone(),
            description,
            count,
            none,
            checks,
        })
    }

    /// The expectation as text: its kind, its selector as written, and its count.
    pub fn render(&self) -> String {
        let selector = serde_json::to_string(&self.selector).unwrap_or_default();
        let count = match self.count {
            Count::AtLeastOne => String::new(),
            Count::Exactly(0) if self.none => " (none)".into(),
            Count::Exactly(n) => format!(" (count {n})"),
        };
        format!("{} {selector}{count}", self.kind)
    }

    /// Whether `entry` (a serialised trace entry) matches.
    pub fn matches(&self, entry: &Value) -> bool {
        entry["kind"] == self.kind && self.checks.iter().all(|c| c.mismatch(entry).is_none())
    }

    /// Checks the expectation against the trace so far: `entries` and their serialised forms
    /// `json` (same length). `start` is the scenario's start, for times in the failure text.
    pub fn evaluate(
        &self,
        entries: &[TraceEntry],
        json: &[Value],
        start: i64,
    ) -> (usize, Option<String>) {
        let matching: Vec<usize> = (0..json.len())
            .filter(|&i| self.matches(&json[i]))
            .collect();
        let matched = matching.len();
        let passed = match self.count {
            Count::AtLeastOne => matched > 0,
            Count::Exactly(n) => matched as u64 == n,
        };
        if passed {
            return (matched, None);
        }
        let kind = self.kind;
        let failure = match self.count {
            Count::AtLeastOne => self.closest(entries, json, start),
            Count::Exactly(0) => format!(
                "expected no matching {kind} entry, found {matched}: {}",
                listing(&matching, entries, start)
            ),
            Count::Exactly(n) if matched == 0 => format!(
                "expected {n} matching {kind} {}, found 0; {}",
                plural(n, "entry", "entries"),
                self.closest(entries, json, start)
            ),
            Count::Exactly(n) => format!(
                "expected {n} matching {kind} {}, found {matched}: {}",
                plural(n, "entry", "entries"),
                listing(&matching, entries, start)
            ),
        };
        (matched, Some(failure))
    }

    /// "no matching `kind` entry", with the entries of the kind that met the most checks and
    /// what differed in each.
    fn closest(&self, entries: &[TraceEntry], json: &[Value], start: i64) -> String {
        let kind = self.kind;
        let of_kind: Vec<usize> = (0..json.len())
            .filter(|&i| json[i]["kind"] == kind)
            .collect();
        if of_kind.is_empty() {
            return format!("no {kind} entry so far");
        }
        let mismatches: Vec<(usize, Vec<String>)> = of_kind
            .iter()
            .map(|&i| {
                let m = self
                    .checks
                    .iter()
                    .filter_map(|c| c.mismatch(&json[i]))
                    .collect();
                (i, m)
            })
            .collect();
        let fewest = mismatches.iter().map(|(_, m)| m.len()).min().unwrap_or(0);
        let best: Vec<&(usize, Vec<String>)> = mismatches
            .iter()
            .filter(|(_, m)| m.len() == fewest)
            .collect();
        let shown: Vec<String> = best
            .iter()
            .take(SHOWN)
            .map(|(i, m)| format!("{} [{}]", describe(&entries[*i], start), m.join("; ")))
            .collect();
        format!(
            "no matching {kind} entry; closest: {}{}",
            shown.join(" | "),
            more(best.len())
        )
    }
}

/// How many entries a failure lists.
const SHOWN: usize = 3;

fn more(total: usize) -> String {
    if total > SHOWN {
        format!(" (and {} more)", total - SHOWN)
    } else {
        String::new()
    }
}

fn plural(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// The first few of `indices`, described.
fn listing(indices: &[usize], entries: &[TraceEntry], start: i64) -> String {
    let shown: Vec<String> = indices
        .iter()
        .take(SHOWN)
        .map(|&i| describe(&entries[i], start))
        .collect();
    format!("{}{}", shown.join(" | "), more(indices.len()))
}

/// An entry as its timeline line, on one line: `30.000s last_standing → setPlayerOutcome(…)`.
fn describe(entry: &TraceEntry, start: i64) -> String {
    let line = super::timeline_line(entry, start);
    let line = line.trim_start();
    match line.split_once("  ") {
        Some((time, rest)) => format!("{time} {}", rest.trim_start()),
        None => line.to_string(),
    }
}

/// Turns a selector into checks, validating its keys and the types of their values.
fn checks(kind: &'static str, selector: &Map<String, Value>) -> Result<Vec<Check>, String> {
    let mut out = Vec::with_capacity(selector.len());
    for (key, value) in selector {
        let unknown = || {
            format!(
                "unknown key {key:?} in {kind:?} (known: {})",
                known_keys(kind).join(", ")
            )
        };
        let field = |path: Vec<&'static str>, how: How| Check {
            path,
            label: key.clone(),
            expected: value.clone(),
            how,
        };
        match kind {
            "result" => match key.as_str() {
                "players" => out.extend(player_checks(value)?),
                "matchId" => out.push(field(vec!["body", "localMatchId"], How::Subset)),
                "matchStatus" => out.push(field(vec!["matchStatus"], How::Subset)),
                "backendReportStatus" => out.push(field(vec!["backendReportStatus"], How::Subset)),
                other => {
                    let key = RESULT_BODY_KEYS
                        .iter()
                        .find(|k| **k == other)
                        .ok_or_else(unknown)?;
                    out.push(field(vec!["body", key], How::Subset));
                }
            },
            "admission" => {
                let key = ADMISSION_BODY_KEYS
                    .iter()
                    .find(|k| **k == key.as_str())
                    .ok_or_else(unknown)?;
                out.push(field(vec!["body", key], How::Subset));
            }
            _ => {
                let (name, ty) = flat_fields(kind)
                    .iter()
                    .find(|(k, _)| *k == key.as_str())
                    .ok_or_else(unknown)?;
                check_type(kind, key, value, *ty)?;
                check_enum(kind, key, value)?;
                let how = if matches!(*name, "message" | "error") {
                    How::Contains
                } else {
                    How::Subset
                };
                out.push(field(vec![name], how));
            }
        }
        // Match ids are stored trimmed and lowercased; compare the same way.
        if matches!(key.as_str(), "matchId" | "localMatchId")
            && let Some(last) = out.last_mut()
            && let Some(id) = value
                .as_str()
                .and_then(nexori_runtime::ids::normalize_match_id)
        {
            last.expected = Value::String(id);
        }
    }
    Ok(out)
}

fn check_type(kind: &str, key: &str, value: &Value, ty: Ty) -> Result<(), String> {
    let ok = match ty {
        Ty::Str => value.is_string() || value.is_null(),
        Ty::Bool => value.is_boolean() || value.is_null(),
        Ty::Int => value.is_u64() || value.is_null(),
        Ty::Any => true,
    };
    if ok {
        return Ok(());
    }
    let what = match ty {
        Ty::Str => "a string",
        Ty::Bool => "true or false",
        Ty::Int => "a non-negative integer",
        Ty::Any => "any JSON",
    };
    Err(format!("\"{kind}.{key}\" must be {what}"))
}

/// Names that have a fixed set of values are checked, so that a typo cannot make a negative
/// expectation hold by matching nothing.
fn check_enum(kind: &str, key: &str, value: &Value) -> Result<(), String> {
    let Some(text) = value.as_str() else {
        return Ok(());
    };
    let known: &[&str] = match (kind, key) {
        ("callback", "callback") => CALLBACKS,
        ("command", "type") => COMMAND_TYPES,
        ("log", "level") => LOG_LEVELS,
        _ => return Ok(()),
    };
    if known.contains(&text) {
        Ok(())
    } else {
        Err(format!(
            "\"{kind}.{key}\": {text:?} is not one of {}",
            known.join(", ")
        ))
    }
}

/// `"players": {"<uuid>": "WIN" | {"outcome": "WIN", "reason": "…"} | null}`.
fn player_checks(value: &Value) -> Result<Vec<Check>, String> {
    let Value::Object(players) = value else {
        return Err(
            "\"result.players\" must be an object from player UUID to outcome (\"WIN\") or to \
             the fields of the player's line ({\"outcome\": …, \"reason\": …})"
                .into(),
        );
    };
    players
        .iter()
        .map(|(uuid, expected)| {
            let player = Uuid::parse_str(uuid)
                .map_err(|_| format!("\"result.players\": key {uuid:?} is not a UUID"))?;
            if !(expected.is_string() || expected.is_object() || expected.is_null()) {
                return Err(format!(
                    "\"result.players.{uuid}\" must be an outcome string, an object or null"
                ));
            }
            Ok(Check {
                path: vec!["body", "players"],
                label: format!("players.{uuid}"),
                expected: expected.clone(),
                how: How::Player(player),
            })
        })
        .collect()
}

impl Check {
    /// `None` when `entry` meets the check; else what differed, e.g.
    /// `status: expected "UPDATED", seen "PLAYER_MISSING"`.
    fn mismatch(&self, entry: &Value) -> Option<String> {
        let actual = self.path.iter().try_fold(entry, |v, k| v.get(*k));
        match &self.how {
            How::Subset => first_difference(&self.expected, actual, &self.label),
            How::Contains => {
                let expected = self.expected.as_str()?;
                match actual {
                    Some(Value::String(s)) if s.contains(expected) => None,
                    _ => Some(format!(
                        "{}: expected a text containing {}, seen {}",
                        self.label,
                        show(&self.expected),
                        seen(actual)
                    )),
                }
            }
            How::Player(uuid) => {
                let line = actual.and_then(Value::as_array).and_then(|players| {
                    players.iter().find(|p| {
                        p["playerUuid"]
                            .as_str()
                            .and_then(|u| Uuid::parse_str(u).ok())
                            == Some(*uuid)
                    })
                });
                match (&self.expected, line) {
                    (Value::String(_), Some(line)) => first_difference(
                        &self.expected,
                        line.get("outcome"),
                        &format!("{}.outcome", self.label),
                    ),
                    (expected, line) => first_difference(expected, line, &self.label),
                }
            }
        }
    }
}

/// Where `actual` first fails to match `expected`, and how: `None` when it matches.
///
/// - `null` matches an absent value or `null`;
/// - an object matches an object holding at least its members, each matching;
/// - an array matches an array of the same length whose elements match in order;
/// - a string matches the same string, or, when both are UUIDs, the same UUID in any case;
/// - numbers match by value (`1` is `1.0`); `true`/`false` by value.
pub fn first_difference(expected: &Value, actual: Option<&Value>, path: &str) -> Option<String> {
    let differs = || {
        Some(format!(
            "{path}: expected {}, seen {}",
            show(expected),
            seen(actual)
        ))
    };
    let Some(actual) = actual else {
        return if expected.is_null() { None } else { differs() };
    };
    match (expected, actual) {
        (Value::Null, Value::Null) => None,
        (Value::Object(e), Value::Object(a)) => e
            .iter()
            .find_map(|(k, v)| first_difference(v, a.get(k), &format!("{path}.{k}"))),
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (e, a))| first_difference(e, Some(a), &format!("{path}[{i}]"))),
        (Value::String(e), Value::String(a)) => {
            let same = e == a
                || matches!((Uuid::parse_str(e), Uuid::parse_str(a)), (Ok(x), Ok(y)) if x == y);
            if same { None } else { differs() }
        }
        (Value::Number(e), Value::Number(a)) => {
            let same = match (e.as_i64(), a.as_i64(), e.as_u64(), a.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => e.as_f64() == a.as_f64(),
            };
            if same { None } else { differs() }
        }
        (Value::Bool(e), Value::Bool(a)) if e == a => None,
        _ => differs(),
    }
}

/// A JSON value on one line, cut after 80 characters.
fn show(value: &Value) -> String {
    const MAX: usize = 80;
    let text = serde_json::to_string(value).unwrap_or_default();
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn seen(actual: Option<&Value>) -> String {
    actual.map_or_else(|| "nothing".to_string(), show)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(step: Value) -> Result<Expectation, String> {
        Expectation::parse(step.as_object().expect("an object"))
    }

    const ALICE: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const BOB: &str = "bbbbbbbb-0000-4000-8000-000000000002";

    fn api(player: &str, status: &str) -> Value {
        json!({"kind": "api", "at": 0, "mod": "ls", "method": "setPlayerOutcome", "matchId": "m1",
               "player": player, "status": status, "message": "Player is not in the match."})
    }

    fn result() -> Value {
        json!({"kind": "result", "at": 0, "matchStatus": "ACCEPTED", "backendReportStatus": "QUEUED",
               "body": {"localMatchId": "m1", "reason": "last_player_standing",
                        "players": [{"playerUuid": ALICE, "outcome": "WIN", "reason": "last_standing"},
                                    {"playerUuid": BOB, "outcome": "LOSS", "reason": "eliminated"}],
                        "customData": {"mode": "ls", "players": {ALICE: {"kills": 2, "name": "Alice"}},
                                       "order": [BOB, ALICE]}}})
    }

    #[test]
    fn subsets_match_by_member_and_arrays_by_element() {
        let actual = json!({"a": 1, "b": {"c": [1, {"d": "x", "e": true}], "f": null}});
        for (expected, difference) in [
            (json!({}), None),
            (json!({"a": 1.0}), None),
            (json!({"b": {"c": [1, {"d": "x"}]}}), None),
            (json!({"b": {"f": null, "g": null}}), None),
            (json!({"a": 2}), Some("x.a: expected 2, seen 1".to_string())),
            (
                json!({"b": {"c": [1]}}),
                Some("x.b.c: expected [1], seen [1,{\"d\":\"x\",\"e\":true}]".into()),
            ),
            (
                json!({"b": {"c": [1, {"e": false}]}}),
                Some("x.b.c[1].e: expected false, seen true".into()),
            ),
            (
                json!({"z": "q"}),
                Some("x.z: expected \"q\", seen nothing".into()),
            ),
            (
                json!({"a": "1"}),
                Some("x.a: expected \"1\", seen 1".into()),
            ),
        ] {
            assert_eq!(
                first_difference(&expected, Some(&actual), "x"),
                difference,
                "{expected}"
            );
        }
    }

    #[test]
    fn uuids_match_in_any_case_and_match_ids_as_stored() {
        let e = parse(
            json!({"type": "expect", "api": {"player": ALICE.to_uppercase(), "matchId": " M1 "}}),
        )
        .unwrap();
        assert!(e.matches(&api(ALICE, "UPDATED")));
        assert!(!e.matches(&api(BOB, "UPDATED")));
        // A kind only matches its own entries.
        let c = parse(json!({"type": "expect", "callback": {}})).unwrap();
        assert!(!c.matches(&api(ALICE, "UPDATED")));
    }

    #[test]
    fn messages_and_errors_match_by_containment() {
        let e = parse(json!({"type": "expect", "api": {"message": "not in the match"}})).unwrap();
        assert!(e.matches(&api(ALICE, "PLAYER_MISSING")));
        let e = parse(json!({"type": "expect", "api": {"message": "not in a match"}})).unwrap();
        assert!(!e.matches(&api(ALICE, "PLAYER_MISSING")));
        let f = parse(json!({"type": "expect", "fault": {"error": "deadline"}})).unwrap();
        assert!(f.matches(
            &json!({"kind": "fault", "mod": "s", "error": "callback deadline exceeded (250 ms)"})
        ));
    }

    #[test]
    fn results_match_by_match_players_and_custom_data() {
        let r = result();
        for (selector, matches) in [
            (
                json!({"matchId": "M1", "reason": "last_player_standing"}),
                true,
            ),
            (json!({"players": {ALICE: "WIN"}}), true),
            (
                json!({"players": {ALICE.to_uppercase(): {"outcome": "WIN", "reason": "last_standing"}}}),
                true,
            ),
            (
                json!({"players": {"cccccccc-0000-4000-8000-000000000003": null}}),
                true,
            ),
            (
                json!({"customData": {"players": {ALICE: {"kills": 2}}}}),
                true,
            ),
            (
                json!({"customData": {"order": [BOB, ALICE]}, "matchStatus": "ACCEPTED"}),
                true,
            ),
            (json!({"players": {BOB: "WIN"}}), false),
            (json!({"players": {ALICE: null}}), false),
            (
                json!({"customData": {"players": {ALICE: {"kills": 3}}}}),
                false,
            ),
            (json!({"customData": {"order": [ALICE, BOB]}}), false),
            (json!({"backendReportStatus": "ACKNOWLEDGED"}), false),
        ] {
            let e = parse(json!({"type": "expect", "result": selector})).unwrap();
            assert_eq!(e.matches(&r), matches, "{selector}");
        }
    }

    #[test]
    fn mismatches_say_what_was_seen() {
        let e = parse(json!({"type": "expect", "result": {"players": {BOB: "WIN"}, "customData": {"players": {ALICE: {"kills": 3}}}}}))
            .unwrap();
        let differences: Vec<String> = e
            .checks
            .iter()
            .filter_map(|c| c.mismatch(&result()))
            .collect();
        assert_eq!(
            differences,
            [
                format!("players.{BOB}.outcome: expected \"WIN\", seen \"LOSS\""),
                format!("customData.players.{ALICE}.kills: expected 3, seen 2"),
            ]
        );
    }

    #[test]
    fn counts_and_renderings() {
        let e = parse(json!({"type": "expect", "at": 5, "fault": {}, "none": true})).unwrap();
        assert_eq!(e.count, Count::Exactly(0));
        assert_eq!(e.render(), "fault {} (none)");
        let e = parse(json!({"type": "expect", "command": {"type": "player.return"}, "count": 3}))
            .unwrap();
        assert_eq!(e.count, Count::Exactly(3));
        assert_eq!(e.render(), "command {\"type\":\"player.return\"} (count 3)");
        let e =
            parse(json!({"type": "expect", "log": {"level": "info"}, "description": "d"})).unwrap();
        assert_eq!(
            (e.count, e.description.as_deref()),
            (Count::AtLeastOne, Some("d"))
        );
        assert_eq!(e.render(), "log {\"level\":\"info\"}");
    }

    #[test]
    fn malformed_steps_are_named() {
        for (step, error) in [
            (
                json!({"type": "expect", "api": {}, "stauts": "x"}),
                "unknown key \"stauts\" in an expect step (known: at, type, description, count, none, and one of callback, api, command, result, admission, fault, error, log, warning)",
            ),
            (
                json!({"type": "expect"}),
                "an expect step needs one of callback, api, command, result, admission, fault, error, log, warning (the kind of trace entry it looks for)",
            ),
            (
                json!({"type": "expect", "api": {}, "fault": {}}),
                "an expect step checks one kind of entry; it has both \"api\" and \"fault\"",
            ),
            (
                json!({"type": "expect", "api": "setPlayerOutcome"}),
                "\"api\" must be an object of the fields to match (may be empty: {})",
            ),
            (
                json!({"type": "expect", "api": {"stauts": "UPDATED"}}),
                "unknown key \"stauts\" in \"api\" (known: mod, method, matchId, player, status, message, backendReportStatus, resultId, result)",
            ),
            (
                json!({"type": "expect", "api": {"status": 1}}),
                "\"api.status\" must be a string",
            ),
            (
                json!({"type": "expect", "command": {"afk": "yes"}}),
                "\"command.afk\" must be true or false",
            ),
            (
                json!({"type": "expect", "callback": {"callback": "onGameEvent"}}),
                "\"callback.callback\": \"onGameEvent\" is not one of onMatchCreated, onPlayerArrived, onPlayerPlacementConfirmed, onMatchPlacementCompleted, onMatchStartAllowed, onMatchCancellationRequested, onMatchCompleted, onMatchRuntimeClosed, onPlayerAfkChanged, onPlayerDisconnected",
            ),
            (
                json!({"type": "expect", "command": {"type": "player.teleport"}}),
                "\"command.type\": \"player.teleport\" is not one of player.return, player.spectator, player.afkHud, player.message, game.command",
            ),
            (
                json!({"type": "expect", "result": {"winner": "x"}}),
                "unknown key \"winner\" in \"result\" (known: matchId, players, matchStatus, backendReportStatus, schemaVersion, resultId, sentAtEpochMs, serverId, localMatchId, externalMatchId, assignmentId, assignmentIdsByPlayerUuid, queueId, arenaId, rulesEngineId, reason, metadata, customData, endedAtEpochMs)",
            ),
            (
                json!({"type": "expect", "result": {"players": [ALICE]}}),
                "\"result.players\" must be an object from player UUID to outcome (\"WIN\") or to the fields of the player's line ({\"outcome\": …, \"reason\": …})",
            ),
            (
                json!({"type": "expect", "result": {"players": {"alice": "WIN"}}}),
                "\"result.players\": key \"alice\" is not a UUID",
            ),
            (
                json!({"type": "expect", "fault": {}, "count": -1}),
                "\"count\" must be a non-negative integer",
            ),
            (
                json!({"type": "expect", "fault": {}, "count": 0, "none": true}),
                "\"count\" and \"none\" cannot be combined",
            ),
            (
                json!({"type": "expect", "fault": {}, "none": "yes"}),
                "\"none\" must be true or false",
            ),
            (
                json!({"type": "expect", "fault": {}, "description": 3}),
                "\"description\" must be a string",
            ),
        ] {
            assert_eq!(parse(step.clone()).unwrap_err(), error, "{step}");
        }
    }

    #[test]
    fn evaluation_counts_and_tells_what_was_closest() {
        use nexori_protocol::commands::GameServerCommand;
        let alice = Uuid::parse_str(ALICE).unwrap();
        let api = |status: &str| TraceEntry::Api {
            at: 1_500,
            mod_name: "ls".into(),
            method: "setPlayerOutcome",
            match_id: Some("m1".into()),
            player: Some(ALICE.into()),
            status: status.into(),
            message: String::new(),
            backend_report_status: None,
            result_id: None,
            result: None,
        };
        let entries = vec![
            TraceEntry::Callback {
                at: 1_000,
                mod_name: "ls".into(),
                callback: "onMatchCreated",
                match_id: "m1".into(),
                player: None,
                reason: "MATCH_CREATED".into(),
            },
            api("PLAYER_MISSING"),
            TraceEntry::Command {
                at: 2_000,
                command: GameServerCommand::Return {
                    match_id: "m1".into(),
                    player: alice,
                    reason: "done".into(),
                },
            },
        ];
        let json: Vec<Value> = entries
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        let evaluate = |step: Value| parse(step).unwrap().evaluate(&entries, &json, 0);
        assert_eq!(
            evaluate(
                json!({"type": "expect", "callback": {"callback": "onMatchCreated", "matchId": "m1"}})
            ),
            (1, None)
        );
        assert_eq!(
            evaluate(json!({"type": "expect", "api": {"method": "setPlayerOutcome", "status": "UPDATED"}})),
            (0, Some("no matching api entry; closest: 1.500s ls → setPlayerOutcome(m1, aaaaaaaa…) = \
                      PLAYER_MISSING [status: expected \"UPDATED\", seen \"PLAYER_MISSING\"]".into()))
        );
        assert_eq!(
            evaluate(json!({"type": "expect", "fault": {}})),
            (0, Some("no fault entry so far".into()))
        );
        assert_eq!(
            evaluate(json!({"type": "expect", "command": {"player": ALICE}, "none": true})),
            (
                1,
                Some(format!(
                    "expected no matching command entry, found 1: 2.000s → game \
                              {{\"type\":\"player.return\",\"matchId\":\"m1\",\"player\":\"{ALICE}\",\"reason\":\"done\"}}"
                ))
            )
        );
        assert_eq!(
            evaluate(json!({"type": "expect", "command": {"type": "player.return"}, "count": 1})),
            (1, None)
        );
        assert_eq!(
            evaluate(json!({"type": "expect", "callback": {"reason": "MATCH_CREATED"}, "count": 2})),
            (1, Some("expected 2 matching callback entries, found 1: 1.000s ls.onMatchCreated(m1) MATCH_CREATED".into()))
        );
    }

    /// The callback names are the runtime's (and the host's own `onPlayerDisconnected`).
    #[test]
    fn callback_names_are_the_runtimes() {
        for name in &CALLBACKS[..CALLBACKS.len() - 1] {
            let parsed = nexori_runtime::Callback::parse(name).map(|c| c.as_str());
            assert_eq!(parsed, Some(*name));
        }
    }

    /// The key lists follow the bodies the host sends.
    #[test]
    fn body_keys_are_the_bodies_fields() {
        let assignments = std::collections::BTreeMap::new();
        let custom = Map::new();
        let result = nexori_protocol::results::ResultBody {
            result_id: "",
            server_id: "",
            sent_at_epoch_ms: 0,
            local_match_id: "",
            external_match_id: "",
            assignment_id: "",
            assignment_ids_by_player_uuid: &assignments,
            queue_id: "",
            arena_id: "",
            rules_engine_id: "",
            players: &[],
            reason: "",
            metadata: &[],
            custom_data: &custom,
            ended_at_epoch_ms: 0,
        }
        .to_json();
        let mut keys: Vec<&str> = result
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.retain(|k| *k != "players");
        assert_eq!(keys, RESULT_BODY_KEYS);
        let admission = nexori_protocol::admission::SnapshotBody {
            state_update_id: "",
            admission_state_sequence: 0,
            sent_at_epoch_ms: 0,
            state_expires_at_epoch_ms: 0,
            reporting_server_id: "",
            reporting_server_connection_address: "",
            match_id: "",
            external_match_id: "",
            queue_id: "",
            arena_id: "",
            backfill_enabled: false,
            backfill_mode: "",
            backfill_window_seconds: 0,
            match_lifecycle_status: "",
            admission_open: false,
            admission_open_until_epoch_ms: 0,
            admission_capacity: 0,
            admitted_slot_count: 0,
            available_admission_slots: 0,
            initial_roster_size: 0,
            arrived_initial_player_count: 0,
            unfilled_initial_roster_count: 0,
            consumed_admission_reservation_ids: &[],
            admission_reporting_closed: false,
            admission_reporting_close_reason: "",
            primary_change_reason: "",
            coalesced_change_reasons: &[],
        }
        .to_json();
        let keys: Vec<&str> = admission
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ADMISSION_BODY_KEYS);
    }
}
