//! Property tests: the customData validator agrees with a straightforward reference
//! implementation of docs/arena-behaviour.md#customdata-rules / D8, and never panics on any text.

use std::cell::Cell;

use nexori_host::bridge::{self, BridgeError, BridgeMessage, GameEventMessage, MESSAGE_TYPES};
use nexori_runtime::arrivals::{Arrival, Placed};
use nexori_runtime::custom_data::{self, CustomDataError};
use nexori_runtime::launch::LaunchSpec;
use nexori_runtime::model::{AfkSource, MatchSource, PlacementOutcome};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The customData rules (docs/arena-behaviour.md#customdata-rules) written as plainly as possible:
/// recursive walk, first violation, then the byte limit on the canonical text.
fn reference(value: &Value) -> Result<String, String> {
    fn utf16(s: &str) -> usize {
        s.encode_utf16().count()
    }
    fn trim(s: &str) -> &str {
        s.trim_matches(|c: char| c <= '\u{20}')
    }
    fn walk(v: &Value, depth: usize, root: bool, props: &mut usize) -> Result<(), String> {
        if depth > 8 {
            return Err("customData exceeds max depth 8.".into());
        }
        match v {
            Value::Null => Ok(()),
            _ if root && !v.is_object() => Err("customData root must be a JSON object.".into()),
            Value::Object(map) => {
                for (k, child) in map {
                    let name = trim(k);
                    if name.is_empty() {
                        return Err("customData property names cannot be blank.".into());
                    }
                    if utf16(name) > 64 {
                        return Err("customData property name exceeds 64 characters.".into());
                    }
                    *props += 1;
                    if *props > 256 {
                        return Err("customData cannot contain more than 256 properties.".into());
                    }
                    walk(child, depth + 1, false, props)?;
                }
                Ok(())
            }
            Value::Array(items) => {
                if items.len() > 128 {
                    return Err("customData arrays cannot contain more than 128 elements.".into());
                }
                items
                    .iter()
                    .try_for_each(|i| walk(i, depth + 1, false, props))
            }
            Value::String(s) if utf16(s) > 1024 => {
                Err("customData string value exceeds 1024 characters.".into())
            }
            _ => Ok(()),
        }
    }
    fn canonical(v: &Value) -> Value {
        match v {
            Value::Object(map) => {
                let mut entries: Vec<(String, &Value)> =
                    map.iter().map(|(k, v)| (trim(k).to_string(), v)).collect();
                // Stable sort by UTF-16 code units; a later duplicate overwrites an earlier one,
                // even when its value is null: the winner is chosen first, and a null winner is
                // then dropped (spec §1: "JSON null stays null (and is then dropped by the
                // serializer)").
                entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
                let mut out = Map::new();
                for (k, v) in entries {
                    out.shift_remove(&k);
                    if !v.is_null() {
                        out.insert(k, canonical(v));
                    }
                }
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
            other => other.clone(),
        }
    }
    let value = if value.is_null() {
        Value::Object(Map::new())
    } else {
        value.clone()
    };
    walk(&value, 1, true, &mut 0)?;
    let text = canonical(&value).to_string();
    if text.len() > 32_768 {
        return Err("customData exceeds 32768 UTF-8 bytes.".into());
    }
    Ok(text)
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]{1,8}",
        " {0,2}[a-zA-Z_]{0,6} {0,2}",
        "[\u{e000}-\u{e010}\u{1f600}-\u{1f610}a]{1,4}",
        "x{60,70}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z<>&'=]{0,12}".prop_map(Value::String),
        "x{1020,1030}".prop_map(Value::String),
        "[a-z\"\\\\\n\t\u{1}\u{7f}é\u{e000}😀]{0,12}".prop_map(Value::String),
        any::<f64>().prop_map(Value::from),
        (-1e6..1e6f64).prop_map(Value::from),
    ];
    leaf.prop_recursive(10, 400, 12, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

fn object() -> impl Strategy<Value = Value> {
    prop::collection::vec((key(), json()), 0..10)
        .prop_map(|members| Value::Object(members.into_iter().collect()))
}

/// The host's path for a document that gets an AFK block: the full parser, then the walk. It never
/// validates while parsing, so it is what `parse`'s one-pass validation must agree with.
fn full_path(text: &str) -> Result<String, String> {
    custom_data::parse_raw(Some(text))
        .and_then(|object| custom_data::from_value(Value::Object(object)))
        .map(|cd| cd.canonical_json().to_string())
        .map_err(|e| e.to_string())
}

fn parsed(text: &str) -> Result<String, String> {
    custom_data::parse(Some(text))
        .map(|cd| cd.canonical_json().to_string())
        .map_err(|e| e.to_string())
}

/// JSON text as people and serializers write it: compact or pretty, sometimes with every
/// non-ASCII character escaped, sometimes with a member repeated.
fn document_text() -> impl Strategy<Value = String> {
    (
        object(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        key(),
        json(),
    )
        .prop_map(|(value, pretty, ascii, repeat, repeated, extra)| {
            let mut text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                value.to_string()
            };
            if ascii {
                text = ascii_escaped(&text);
            }
            if let Some(close) = text.rfind('}')
                && repeat
                && text.len() > 2
            {
                let member = format!(",{}:{}", Value::from(repeated.clone()), extra);
                text.insert_str(close, &member);
                text.insert_str(close, &format!(",{}:{}", Value::from(repeated), 1));
            }
            text
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn validating_while_parsing_agrees_on_numbers(
        number in "-?(0|[1-9][0-9]{0,21})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,3})?"
    ) {
        let text = format!(r#"{{"n": {number}, "a": [{number}]}}"#);
        prop_assert_eq!(parsed(&text), full_path(&text));
    }

    #[test]
    fn validating_while_parsing_agrees_on_token_soup(
        text in "\\{[\\[\\]{}\":,a-z0-9.eE+\\\\ -]{0,60}\\}"
    ) {
        prop_assert_eq!(parsed(&text), full_path(&text));
    }

    #[test]
    fn validator_agrees_with_the_reference(value in prop_oneof![object(), json()]) {
        let ours = custom_data::from_value(value.clone()).map(|cd| cd.canonical_json().to_string()).map_err(|e| e.to_string());
        prop_assert_eq!(ours, reference(&value));
    }

    #[test]
    fn parsing_text_agrees_with_parsing_the_value(value in object()) {
        let text = value.to_string();
        let from_text = custom_data::parse(Some(&text)).map(|cd| cd.canonical_json().to_string()).map_err(|e| e.to_string());
        let from_value = custom_data::from_value(value).map(|cd| cd.canonical_json().to_string()).map_err(|e| e.to_string());
        prop_assert_eq!(from_text, from_value);
    }

    #[test]
    fn any_text_is_answered_without_panicking(text in ".{0,200}") {
        match custom_data::parse(Some(&text)) {
            Ok(cd) => prop_assert!(cd.canonical_json().len() <= 32_768),
            Err(CustomDataError::NotJson(detail)) => prop_assert!(!detail.is_empty()),
            Err(_) => {}
        }
    }

    /// Whatever JSON arrives, the message is answered, and one that is not a message of a known
    /// type gets the error that says which of the four ways it is not.
    #[test]
    fn any_json_is_classified(value in prop_oneof![json(), typed_object()]) {
        let answer = bridge::parse(&value);
        match value.as_object().map(|o| o.get("type")) {
            None => prop_assert_eq!(answer, Err(BridgeError::NotAnObject)),
            Some(Some(Value::String(ty))) if MESSAGE_TYPES.contains(&ty.as_str()) => {
                prop_assert!(!matches!(
                    answer,
                    Err(BridgeError::NotAnObject | BridgeError::MissingType | BridgeError::UnknownType(_))
                ), "{:?}", answer);
            }
            Some(Some(Value::String(ty))) if ty.len() > bridge::MAX_ID_BYTES => {
                prop_assert_eq!(answer, Err(BridgeError::TypeTooLong(ty.len())))
            }
            Some(Some(Value::String(ty))) => {
                prop_assert_eq!(answer, Err(BridgeError::UnknownType(ty.clone())))
            }
            Some(_) => prop_assert_eq!(answer, Err(BridgeError::MissingType)),
        }
    }

    /// A message of each known type, with valid fields (any case for UUIDs and choices, `null`
    /// for an absent optional field, unknown members added) and at most one change: a field of
    /// the wrong kind, or a required field left out. The answer is exactly the message the
    /// fields describe, or the error naming the type, the changed field and the problem.
    #[test]
    fn bridge_messages_parse_to_what_their_fields_say((value, expected) in bridge_message()) {
        prop_assert_eq!(bridge::parse(&value), expected, "{}", value);
    }
}

// ------------------------------------------------------------------- fast path agreement

/// JSON objects the one-pass validation answers for by itself: valid customData (within every
/// limit) without two names that trim to the same one. Keys with blanks around them, members in
/// any order, `null` members, escapes and non-ASCII text are all in.
fn plain_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        (-1e6..1e6f64).prop_map(Value::from),
        "[a-z<>&'=]{0,12}".prop_map(Value::String),
        "[a-z\"\\\\\n\t\u{1}\u{7f}é\u{e000}😀]{0,12}".prop_map(Value::String),
        "x{1000,1024}".prop_map(Value::String),
    ];
    // The root is depth 1 and its members depth 2: six more levels of containers keep every
    // element within depth 8.
    leaf.prop_recursive(6, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            plain_members(inner),
        ]
    })
}

/// An object whose names, once trimmed, are distinct, non-blank and at most 64 UTF-16 units.
fn plain_members(values: impl Strategy<Value = Value>) -> impl Strategy<Value = Value> {
    let name = prop_oneof![
        "[a-z]{1,8}",
        " {0,2}[a-zA-Z_]{1,6} {0,2}",
        "[\u{e000}-\u{e010}\u{1f600}-\u{1f610}a]{1,4}",
        "x{60,64}",
    ];
    prop::collection::vec((name, values), 0..6).prop_map(|members| {
        let mut seen = std::collections::HashSet::new();
        Value::Object(
            members
                .into_iter()
                .filter(|(k, _)| seen.insert(k.trim().to_owned()))
                .collect(),
        )
    })
}

/// `plain_json` objects written as `document_text` writes them (compact or pretty, sometimes
/// every non-ASCII character escaped), with the object itself.
fn plain_document() -> impl Strategy<Value = (Value, String)> {
    (plain_members(plain_json()), any::<bool>(), any::<bool>()).prop_map(
        |(value, pretty, ascii)| {
            let mut text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                value.to_string()
            };
            if ascii {
                text = ascii_escaped(&text);
            }
            (value, text)
        },
    )
}

fn ascii_escaped(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii() {
                c.to_string()
            } else {
                c.encode_utf16(&mut [0; 2])
                    .iter()
                    .map(|unit| format!("\\u{unit:04x}"))
                    .collect()
            }
        })
        .collect()
}

/// Runs `check` on `cases` documents and returns the share the fast path answered for.
fn fast_path_share<T: std::fmt::Debug>(
    strategy: impl Strategy<Value = T>,
    text: impl Fn(&T) -> &str,
    check: impl Fn(&T) -> Result<(), TestCaseError>,
) -> f64 {
    const CASES: u32 = 400;
    let (fast, total) = (Cell::new(0u32), Cell::new(0u32));
    let mut runner = TestRunner::new(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(CASES)
    });
    runner
        .run(&strategy, |case| {
            total.set(total.get() + 1);
            if custom_data::takes_the_fast_path(text(&case)) {
                fast.set(fast.get() + 1);
            }
            check(&case)
        })
        .unwrap();
    f64::from(fast.get()) / f64::from(total.get())
}

/// The fast path's answer must be the full parser's; that only means something for the
/// documents it answers for, so the share is reported. Most of these documents are meant to be
/// refused or to need the full parser (repeated names, limits), so a minority is enough here;
/// `the_fast_path_answers_plain_documents_as_the_reference_does` covers the accepted ones.
#[test]
fn validating_while_parsing_agrees_with_the_full_parser() {
    let share = fast_path_share(
        document_text(),
        |text| text.as_str(),
        |text| {
            prop_assert_eq!(parsed(text), full_path(text));
            Ok(())
        },
    );
    println!(
        "document_text: the fast path answered {:.0}% of the cases",
        share * 100.0
    );
    assert!(share >= 0.05, "the fast path answered only {share}");
}

/// Documents made to be accepted by the fast path: its canonical text is the full parser's and
/// the plain reference's, and it does answer for nearly all of them (the rest, a document
/// that happens to exceed a limit, must agree too).
#[test]
fn the_fast_path_answers_plain_documents_as_the_reference_does() {
    let share = fast_path_share(
        plain_document(),
        |(_, text)| text.as_str(),
        |(value, text)| {
            let expected = reference(value);
            prop_assert_eq!(parsed(text), expected.clone());
            prop_assert_eq!(full_path(text), expected);
            Ok(())
        },
    );
    println!(
        "plain documents: the fast path answered {:.0}% of the cases",
        share * 100.0
    );
    assert!(share >= 0.95, "the fast path answered only {share}");
}

// ------------------------------------------------------------------------ bridge messages

/// Objects with a `type` member of any kind: a known type, an unknown one, or not a string.
fn typed_object() -> impl Strategy<Value = Value> {
    let ty = prop_oneof![
        prop::sample::select(MESSAGE_TYPES).prop_map(Value::from),
        "[a-z.]{0,14}".prop_map(Value::from),
        json(),
    ];
    (object(), ty).prop_map(|(mut object, ty)| {
        object["type"] = ty;
        object
    })
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Text,
    Uuid,
    Int,
    /// A string naming one of `accepted` (trimmed, any case); `refused` parse as names of the
    /// same enum but are not allowed here.
    Choice {
        accepted: &'static [&'static str],
        refused: &'static [&'static str],
    },
    /// Any JSON, kept as text (`game.event`'s `data`).
    Json,
}

struct Field {
    name: &'static str,
    kind: Kind,
    required: bool,
}

const fn field(name: &'static str, kind: Kind, required: bool) -> Field {
    Field {
        name,
        kind,
        required,
    }
}

/// The fields of each message type, as docs/bridge-protocol.md lists them (`match.create`'s nested
/// `expectedPlayers`, `admission` and `afkDetectionPolicy` are left to the unit tests).
fn schema(ty: &str) -> &'static [Field] {
    const OUTCOME: Kind = Kind::Choice {
        accepted: &["CONFIRMED", "FALLBACK"],
        refused: &[],
    };
    const SOURCE: Kind = Kind::Choice {
        accepted: &["PLAYER_INPUT", "INVENTORY_PACKET"],
        refused: &["UNKNOWN", "IDLE_TIMEOUT", "POLICY_CHANGE", "EXTERNAL_API"],
    };
    const MATCH_SOURCE: Kind = Kind::Choice {
        accepted: &["LOCAL_FIFO", "BACKEND_DRIVEN"],
        refused: &[],
    };
    const MATCH_CREATE: &[Field] = &[
        field("matchId", Kind::Text, true),
        field("queueId", Kind::Text, false),
        field("arenaId", Kind::Text, false),
        field("rulesEngineId", Kind::Text, false),
        field("assignmentId", Kind::Text, false),
        field("externalMatchId", Kind::Text, false),
        field("matchSource", MATCH_SOURCE, false),
        field("expectedPlayerCount", Kind::Int, false),
        field("minimumInitialPlayers", Kind::Int, false),
        field("initialPlacementWindowSeconds", Kind::Int, false),
    ];
    const PLAYER_ARRIVE: &[Field] = &[
        field("matchId", Kind::Text, true),
        field("player", Kind::Uuid, true),
        field("name", Kind::Text, false),
        field("assignmentId", Kind::Text, false),
        field("admissionReservationId", Kind::Text, false),
        field("admissionExpiresAtEpochMs", Kind::Int, false),
    ];
    const PLAYER_PLACED: &[Field] = &[
        field("matchId", Kind::Text, true),
        field("player", Kind::Uuid, true),
        field("outcome", OUTCOME, false),
        field("worldName", Kind::Text, false),
        field("instanceTemplateId", Kind::Text, false),
    ];
    const PLAYER_ACTIVITY: &[Field] = &[
        field("player", Kind::Uuid, true),
        field("source", SOURCE, false),
    ];
    const PLAYER_DISCONNECT: &[Field] = &[
        field("player", Kind::Uuid, true),
        field("reason", Kind::Text, false),
    ];
    const GAME_EVENT: &[Field] = &[
        field("matchId", Kind::Text, true),
        field("kind", Kind::Text, true),
        field("player", Kind::Uuid, false),
        field("data", Kind::Json, false),
    ];
    const MATCH_END: &[Field] = &[
        field("matchId", Kind::Text, true),
        field("reason", Kind::Text, false),
    ];
    const WAIT: &[Field] = &[];
    match ty {
        "match.create" => MATCH_CREATE,
        "player.arrive" => PLAYER_ARRIVE,
        "player.placed" => PLAYER_PLACED,
        "player.activity" => PLAYER_ACTIVITY,
        "player.disconnect" => PLAYER_DISCONNECT,
        "game.event" => GAME_EVENT,
        "match.end" => MATCH_END,
        "wait" => WAIT,
        other => panic!("no schema for {other}"),
    }
}

fn valid(kind: Kind) -> BoxedStrategy<Value> {
    match kind {
        Kind::Text => prop_oneof!["[ -~]{0,12}", "[ a-zé😀\u{2028}]{0,6}"]
            .prop_map(Value::from)
            .boxed(),
        Kind::Uuid => (any::<u128>(), any::<bool>())
            .prop_map(|(n, upper)| {
                let text = Uuid::from_u128(n).hyphenated().to_string();
                Value::from(if upper { text.to_uppercase() } else { text })
            })
            .boxed(),
        Kind::Int => prop_oneof![
            any::<i64>().prop_map(Value::from),
            // An integral float is an integer too.
            (-1_000_000i64..1_000_000).prop_map(|n| Value::from(n as f64)),
        ]
        .boxed(),
        Kind::Choice { accepted, .. } => (prop::sample::select(accepted), any::<bool>(), " {0,2}")
            .prop_map(|(name, lower, pad)| {
                let name = if lower {
                    name.to_lowercase()
                } else {
                    name.to_owned()
                };
                Value::from(format!("{pad}{name}{pad}"))
            })
            .boxed(),
        Kind::Json => json().boxed(),
    }
}

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A value of the wrong kind for a field of `kind`, with the problem the answer must name.
fn wrong(kind: Kind) -> BoxedStrategy<(Value, String)> {
    let not_a_string = prop_oneof![
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        Just(json!([1])),
        Just(json!({"a": "b"})),
    ];
    let problem = |prefix: &'static str| {
        move |v: Value| {
            let problem = format!("{prefix}, got {}", describe(&v));
            (v, problem)
        }
    };
    match kind {
        Kind::Text => not_a_string.prop_map(problem("expected a string")).boxed(),
        Kind::Uuid => prop_oneof![
            not_a_string.prop_map(problem("expected a UUID string")),
            // g to z are not hex digits: never a UUID.
            "[g-z -]{0,40}".prop_map(|s| (Value::from(s.clone()), format!("{s:?} is not a UUID"))),
        ]
        .boxed(),
        Kind::Int => prop_oneof![
            prop_oneof![
                any::<bool>().prop_map(Value::from),
                "[0-9]{1,4}".prop_map(Value::from),
                Just(json!([1])),
                Just(json!({"a": 1})),
            ]
            .prop_map(problem("expected an integer")),
            (-1_000_000i64..1_000_000).prop_map(|n| {
                let number = serde_json::Number::from_f64(n as f64 + 0.5).unwrap();
                (
                    Value::from(number.clone()),
                    format!("{number} is not an integer"),
                )
            }),
        ]
        .boxed(),
        Kind::Choice { accepted, refused } => {
            let allowed = accepted.join(", ");
            let mut names: Vec<String> = refused.iter().map(|s| s.to_string()).collect();
            names.push("NOT_ONE".into());
            prop_oneof![
                not_a_string.prop_map(problem("expected a string")),
                (prop::sample::select(names), "[a-z]{0,3}").prop_map(move |(name, suffix)| {
                    let text = if name == "NOT_ONE" {
                        format!("not_{suffix}")
                    } else {
                        name
                    };
                    let problem = format!("{text:?} is not one of {allowed}");
                    (Value::from(text), problem)
                }),
            ]
            .boxed()
        }
        Kind::Json => unreachable!("any JSON is valid data"),
    }
}

#[derive(Debug, Clone)]
enum Change {
    Nothing,
    Wrong {
        field: usize,
        value: Value,
        problem: String,
    },
    /// A required field left out, or sent as `null`.
    Missing {
        field: usize,
        null: bool,
    },
}

fn change(fields: &'static [Field]) -> BoxedStrategy<Change> {
    let mut options: Vec<BoxedStrategy<Change>> = vec![Just(Change::Nothing).boxed()];
    for (i, f) in fields.iter().enumerate() {
        if !matches!(f.kind, Kind::Json) {
            options.push(
                wrong(f.kind)
                    .prop_map(move |(value, problem)| Change::Wrong {
                        field: i,
                        value,
                        problem,
                    })
                    .boxed(),
            );
        }
        if f.required {
            options.push(
                any::<bool>()
                    .prop_map(move |null| Change::Missing { field: i, null })
                    .boxed(),
            );
        }
    }
    Union::new(options).boxed()
}

/// A bridge message and the answer its fields call for.
fn bridge_message() -> impl Strategy<Value = (Value, Result<BridgeMessage, BridgeError>)> {
    prop::sample::select(MESSAGE_TYPES).prop_flat_map(|ty| {
        let fields = schema(ty);
        let values: Vec<BoxedStrategy<Option<Value>>> = fields
            .iter()
            .map(|f| {
                if f.required {
                    valid(f.kind).prop_map(Some).boxed()
                } else {
                    prop_oneof![
                        Just(None),
                        Just(Some(Value::Null)),
                        valid(f.kind).prop_map(Some)
                    ]
                    .boxed()
                }
            })
            .collect();
        let extras = prop::collection::vec(("x_[a-z]{1,6}", json()), 0..3);
        (Just(ty), values, change(fields), extras).prop_map(|(ty, values, change, extras)| {
            let fields = schema(ty);
            let mut message = Map::new();
            message.insert("type".into(), ty.into());
            for (f, value) in fields.iter().zip(values) {
                if let Some(value) = value {
                    message.insert(f.name.into(), value);
                }
            }
            message.extend(extras);
            let error = |field: usize, problem: String| -> Result<BridgeMessage, BridgeError> {
                Err(BridgeError::Field {
                    ty: ty.into(),
                    field: fields[field].name.into(),
                    problem,
                })
            };
            let expected = match change {
                Change::Nothing => Ok(expected_message(ty, &message)),
                Change::Wrong {
                    field,
                    value,
                    problem,
                } => {
                    message.insert(fields[field].name.into(), value);
                    error(field, problem)
                }
                Change::Missing { field, null } => {
                    if null {
                        message.insert(fields[field].name.into(), Value::Null);
                    } else {
                        message.remove(fields[field].name);
                    }
                    error(field, "is required".into())
                }
            };
            (Value::Object(message), expected)
        })
    })
}

/// What a valid message of type `ty` with these members means, written out field by field.
fn expected_message(ty: &str, message: &Map<String, Value>) -> BridgeMessage {
    let get = |name: &str| message.get(name).filter(|v| !v.is_null());
    let text = |name: &str| get(name).map_or(String::new(), |v| v.as_str().unwrap().to_owned());
    let uuid = |name: &str| get(name).map(|v| Uuid::parse_str(v.as_str().unwrap()).unwrap());
    let int =
        |name: &str| get(name).map(|v| v.as_i64().unwrap_or_else(|| v.as_f64().unwrap() as i64));
    let choice = |name: &str| get(name).map(|v| v.as_str().unwrap().trim().to_uppercase());
    match ty {
        "match.create" => BridgeMessage::MatchCreate(LaunchSpec {
            match_id: text("matchId"),
            queue_id: text("queueId"),
            arena_id: text("arenaId"),
            rules_engine_id: text("rulesEngineId"),
            assignment_id: text("assignmentId"),
            external_match_id: text("externalMatchId"),
            match_source: choice("matchSource").map(|s| match s.as_str() {
                "LOCAL_FIFO" => MatchSource::LocalFifo,
                _ => MatchSource::BackendDriven,
            }),
            expected_player_count: int("expectedPlayerCount"),
            minimum_initial_players: int("minimumInitialPlayers"),
            initial_placement_window_seconds: int("initialPlacementWindowSeconds"),
            ..LaunchSpec::default()
        }),
        "player.arrive" => BridgeMessage::PlayerArrive(Arrival {
            match_id: text("matchId"),
            player: uuid("player").unwrap(),
            name: text("name"),
            assignment_id: text("assignmentId"),
            admission_reservation_id: text("admissionReservationId"),
            admission_expires_at_epoch_ms: int("admissionExpiresAtEpochMs").unwrap_or(0),
        }),
        "player.placed" => BridgeMessage::PlayerPlaced(Placed {
            match_id: text("matchId"),
            player: uuid("player").unwrap(),
            outcome: match choice("outcome").as_deref() {
                Some("FALLBACK") => PlacementOutcome::Fallback,
                _ => PlacementOutcome::Confirmed,
            },
            world_name: text("worldName"),
            instance_template_id: text("instanceTemplateId"),
        }),
        "player.activity" => BridgeMessage::PlayerActivity {
            player: uuid("player").unwrap(),
            source: match choice("source").as_deref() {
                Some("INVENTORY_PACKET") => AfkSource::InventoryPacket,
                _ => AfkSource::PlayerInput,
            },
        },
        "player.disconnect" => BridgeMessage::PlayerDisconnect {
            player: uuid("player").unwrap(),
            reason: text("reason"),
        },
        "game.event" => BridgeMessage::GameEvent(GameEventMessage {
            match_id: text("matchId"),
            kind: text("kind"),
            player: uuid("player"),
            data: get("data").map(Value::to_string),
        }),
        "match.end" => BridgeMessage::MatchEnd {
            match_id: text("matchId"),
            reason: text("reason"),
        },
        "wait" => BridgeMessage::Wait,
        other => panic!("no meaning for {other}"),
    }
}
