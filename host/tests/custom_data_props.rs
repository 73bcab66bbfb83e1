//! Property tests: the customData validator agrees with a straightforward reference
//! implementation of §1 / D8, and never panics on any text.

use nexori_host::runtime::custom_data::{self, CustomDataError};
use proptest::prelude::*;
use serde_json::{Map, Value};

/// §1 written as plainly as possible: recursive walk, first violation, then the byte limit on
/// the canonical text.
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
                let mut entries: Vec<(String, &Value)> = map
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (trim(k).to_string(), v))
                    .collect();
                // Stable sort by UTF-16 code units; a later duplicate overwrites an earlier one.
                entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
                let mut out = Map::new();
                for (k, v) in entries {
                    out.shift_remove(&k);
                    out.insert(k, canonical(v));
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
                text = text
                    .chars()
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
                    .collect();
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
    fn validating_while_parsing_agrees_with_the_full_parser(text in document_text()) {
        prop_assert_eq!(parsed(&text), full_path(&text));
    }

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

    #[test]
    fn any_bridge_message_is_answered_without_panicking(text in "[\\[\\]{}\":,a-zA-Z0-9. -]{0,120}") {
        if let Ok(value) = serde_json::from_str::<Value>(&text) {
            let _ = nexori_host::bridge::parse(&value);
        }
    }
}
