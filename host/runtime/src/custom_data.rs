//! Validation and canonicalisation of the `customData` object a rules mod attaches to its final
//! match result (docs/arena-behaviour.md#customdata-rules, decision D8).
//!
//! Guests hand `customData` over as JSON text. It is checked against the limits the Java reference
//! runtime applies, in the same depth-first order (so the same document yields the same message),
//! and is then rewritten into one canonical form: the text that is measured against [`MAX_BYTES`],
//! stored, hashed and sent to the backend.
//!
//! Lengths are counted in UTF-16 code units and names are trimmed the way Java's `String.trim()`
//! trims, because that is what the reference measures. Canonical JSON (D8) is compact serde_json
//! output with object members sorted by trimmed key in UTF-16 code-unit order, keys written
//! trimmed, members whose value is `null` dropped, and no HTML escaping. (Gson escapes `<`, `>`,
//! `&`, `=` and `'` as six-byte `\u003c`-style sequences, so a document full of those characters
//! can be within the byte limit here and over it in the reference; every other limit agrees
//! exactly.)
//!
//! Guest text is hostile input: nothing here panics on it, recursion is bounded, and parsing is
//! linear in the length of the text. While parsing, the parts of a document that the validation
//! walk can never reach without having already failed are parsed (so syntax errors are still
//! reported) but not stored; see [`parse_raw`].

use std::cmp::Ordering;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::ser::{CompactFormatter, Formatter};
use serde_json::{Map, Number, Value};

// A JSON string as serde_json writes it: the same writer as the bridge's and the logs'.
use nexori_protocol::json::write_string as write_str;

mod fast;

// The limits are `nexori_vocabulary::limits`, shared with the SDK, which documents them to mod
// authors.

/// Largest canonical text, in UTF-8 bytes, that is accepted (strictly larger fails):
/// [`nexori_vocabulary::limits::CUSTOM_DATA_MAX_BYTES`].
pub const MAX_BYTES: usize = nexori_vocabulary::limits::CUSTOM_DATA_MAX_BYTES;
/// Deepest element allowed; the root object is depth 1 and every member value or array element is
/// one deeper than its container: [`nexori_vocabulary::limits::CUSTOM_DATA_MAX_DEPTH`].
pub const MAX_DEPTH: usize = nexori_vocabulary::limits::CUSTOM_DATA_MAX_DEPTH;
/// Most object members allowed in the whole tree, counted across every object at every depth:
/// [`nexori_vocabulary::limits::CUSTOM_DATA_MAX_PROPERTIES`].
pub const MAX_PROPERTIES: usize = nexori_vocabulary::limits::CUSTOM_DATA_MAX_PROPERTIES;
/// Most elements allowed in any one array:
/// [`nexori_vocabulary::limits::CUSTOM_DATA_MAX_ARRAY_LENGTH`].
pub const MAX_ARRAY_LENGTH: usize = nexori_vocabulary::limits::CUSTOM_DATA_MAX_ARRAY_LENGTH;
/// Longest trimmed property name allowed, in UTF-16 code units:
/// [`nexori_vocabulary::limits::CUSTOM_DATA_PROPERTY_NAME_MAX_CHARS`].
pub const MAX_PROPERTY_NAME_LENGTH: usize =
    nexori_vocabulary::limits::CUSTOM_DATA_PROPERTY_NAME_MAX_CHARS;
/// Longest string value allowed, in UTF-16 code units, measured untrimmed:
/// [`nexori_vocabulary::limits::CUSTOM_DATA_STRING_MAX_CHARS`].
pub const MAX_STRING_LENGTH: usize = nexori_vocabulary::limits::CUSTOM_DATA_STRING_MAX_CHARS;

/// Why `customData` was rejected.
///
/// `Display` is the exact message the API returns to the mod (status `INVALID_RESULT`), so these
/// texts are part of the contract and must match the reference runtime word for word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomDataError {
    /// The guest's text is not JSON; carries serde_json's description of the problem.
    #[error("customData is not valid JSON: {0}")]
    NotJson(String),
    /// Some element sits deeper than [`MAX_DEPTH`].
    #[error("customData exceeds max depth {MAX_DEPTH}.")]
    TooDeep,
    /// The document is JSON, but its root is not an object (or `null`).
    #[error("customData root must be a JSON object.")]
    RootNotObject,
    /// A property name is empty after trimming.
    #[error("customData property names cannot be blank.")]
    BlankPropertyName,
    /// A trimmed property name is longer than [`MAX_PROPERTY_NAME_LENGTH`] UTF-16 code units.
    #[error("customData property name exceeds {MAX_PROPERTY_NAME_LENGTH} characters.")]
    PropertyNameTooLong,
    /// The tree holds more than [`MAX_PROPERTIES`] object members in total.
    #[error("customData cannot contain more than {MAX_PROPERTIES} properties.")]
    TooManyProperties,
    /// An array holds more than [`MAX_ARRAY_LENGTH`] elements.
    #[error("customData arrays cannot contain more than {MAX_ARRAY_LENGTH} elements.")]
    ArrayTooLong,
    /// A string value is longer than [`MAX_STRING_LENGTH`] UTF-16 code units.
    #[error("customData string value exceeds {MAX_STRING_LENGTH} characters.")]
    StringTooLong,
    /// The canonical text is longer than [`MAX_BYTES`] UTF-8 bytes.
    #[error("customData exceeds {MAX_BYTES} UTF-8 bytes.")]
    TooLarge,
}

/// A validated `customData` object in canonical form, held as its canonical JSON text.
///
/// Only the text is kept: it is what was measured against [`MAX_BYTES`] and what is hashed, stored
/// and sent, and the common path ([`parse`] validating while it parses) never builds an object.
/// [`CustomData::to_object`] reads the text back when a caller needs the object.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomData {
    json: String,
}

impl CustomData {
    /// The `{}` that stands in for absent (`None` or `null`) customData.
    pub fn empty() -> Self {
        Self {
            json: String::from("{}"),
        }
    }

    /// The canonical object: keys trimmed and in canonical order, members with `null` values
    /// removed. Read back from the canonical text; serde_json's `float_roundtrip` feature (on in
    /// this workspace) makes writing it out again give that same text.
    pub fn to_object(&self) -> Map<String, Value> {
        // The text was written by this module from a valid document, so it parses.
        serde_json::from_str(&self.json).unwrap_or_default()
    }

    /// The canonical JSON text (D8): what was measured against [`MAX_BYTES`], and what is stored,
    /// hashed and sent to the backend.
    pub fn canonical_json(&self) -> &str {
        &self.json
    }

    /// Whether the canonical object has a member with this (already trimmed) name.
    ///
    /// This looks at the canonical object, where names are trimmed and `null` members are gone. The
    /// "does the mod's customData already contain `nexoriAfk`" test
    /// (docs/arena-behaviour.md#the-nexoriafk-block) is about the exact keys the mod sent, so make
    /// it on the [`parse_raw`] result instead.
    pub fn contains_key(&self, key: &str) -> bool {
        self.to_object().contains_key(key)
    }

    /// The canonical object as a JSON value, for callers that need to own it.
    pub fn into_value(self) -> Value {
        Value::Object(self.to_object())
    }
}

impl Default for CustomData {
    fn default() -> Self {
        Self::empty()
    }
}

/// Parses the guest's customData text, validates it and puts it into canonical form.
///
/// `None` and the JSON text `null` both mean "no customData" and give `{}`, as a null customData
/// does in the reference. Text that serde_json rejects gives [`CustomDataError::NotJson`], except
/// that nesting beyond serde_json's recursion limit (128) gives [`CustomDataError::TooDeep`]: such
/// a document is certainly deeper than [`MAX_DEPTH`], and reporting that is more useful than a
/// parser error. (It is reported even where the walk would have met another violation first, or
/// found a non-object root, since the parser stops before the walk can run.)
///
/// Valid documents are validated while they are parsed, in one pass that writes the canonical text
/// directly (the `fast` module); anything that pass does not vouch for goes through the full
/// parser and walk below, which give the exact error.
///
/// # Errors
///
/// The first [`CustomDataError`] the reference's order meets: [`CustomDataError::NotJson`] for
/// text that is not JSON, [`CustomDataError::RootNotObject`], a violated limit in depth-first
/// member order, and [`CustomDataError::TooLarge`] last, on the canonical text.
pub fn parse(text: Option<&str>) -> Result<CustomData, CustomDataError> {
    if let Some(json) = text.and_then(|text| fast::canonical(text.as_bytes())) {
        return Ok(CustomData { json });
    }
    let hint = text.map_or(0, str::len);
    let object = parse_raw(text)?;
    validate_and_canonicalize(Value::Object(object), hint)
}

/// Whether [`parse`] answers for `text` from its one-pass validation alone, without the full
/// parser. Only for the property tests, which must show that they exercise that pass.
#[doc(hidden)]
pub fn takes_the_fast_path(text: &str) -> bool {
    fast::canonical(text.as_bytes()).is_some()
}

/// Like [`parse`], for guest text that arrives as bytes: text that is not UTF-8 is
/// [`CustomDataError::NotJson`].
///
/// # Errors
///
/// As for [`parse`]; bytes that are not UTF-8 are [`CustomDataError::NotJson`].
pub fn parse_bytes(bytes: Option<&[u8]>) -> Result<CustomData, CustomDataError> {
    if let Some(Ok(text)) = bytes.map(std::str::from_utf8) {
        return parse(Some(text));
    }
    let hint = bytes.map_or(0, <[u8]>::len);
    let object = parse_raw_bytes(bytes)?;
    validate_and_canonicalize(Value::Object(object), hint)
}

/// Parses the guest's customData text into its root object, in the guest's member order, without
/// validating or canonicalising it.
///
/// This is for the host's `nexoriAfk` enrichment (docs/arena-behaviour.md#the-nexoriafk-block): the
/// "mod already sent `nexoriAfk`" check is on the exact keys the mod sent, and validation runs on
/// the enriched object afterwards, through [`from_value`].
///
/// `None` and `null` give an empty object; any other non-object root gives
/// [`CustomDataError::RootNotObject`]; errors are otherwise as for [`parse`].
///
/// So that hostile text cannot make the host store far more than it read, parts the validation walk
/// can never reach without having already failed are parsed (syntax errors there are still
/// reported) but pruned: array elements after the 129th, new members of an object after its 257th,
/// and anything below depth 9 (an element at depth 9 is kept as `null`). Validating a pruned
/// object, with or without members added at the end of the root, gives exactly the same result as
/// validating the full one, and pruning only ever happens to documents that are going to be
/// rejected.
///
/// # Errors
///
/// [`CustomDataError::NotJson`] for text that is not JSON, [`CustomDataError::TooDeep`] for
/// nesting beyond serde_json's recursion limit, [`CustomDataError::RootNotObject`] for a root
/// that is neither an object nor `null`. No limit is checked.
pub fn parse_raw(text: Option<&str>) -> Result<Map<String, Value>, CustomDataError> {
    match text {
        None => Ok(Map::new()),
        Some(text) => read_root(serde_json::Deserializer::from_str(text)),
    }
}

/// [`parse_raw`] for text that arrives as bytes: text that is not UTF-8 is
/// [`CustomDataError::NotJson`].
///
/// # Errors
///
/// As for [`parse_raw`]; bytes that are not UTF-8 are [`CustomDataError::NotJson`].
pub fn parse_raw_bytes(bytes: Option<&[u8]>) -> Result<Map<String, Value>, CustomDataError> {
    match bytes {
        None => Ok(Map::new()),
        Some(bytes) => read_root(serde_json::Deserializer::from_slice(bytes)),
    }
}

/// Validates and canonicalises an already-built value.
///
/// The host needs this because it adds `nexoriAfk` to the mod's object before validation, so that
/// block counts towards every limit (docs/arena-behaviour.md#customdata-rules). `Value::Null` means
/// "no customData" and gives `{}`; any other non-object gives [`CustomDataError::RootNotObject`].
/// Values of any depth are safe: the walk stops at the first element deeper than [`MAX_DEPTH`], and
/// a rejected value is dropped without recursion.
///
/// # Errors
///
/// [`CustomDataError::RootNotObject`] for a root that is neither an object nor `null`, else the
/// first violated limit in depth-first member order, with [`CustomDataError::TooLarge`] last.
pub fn from_value(value: Value) -> Result<CustomData, CustomDataError> {
    validate_and_canonicalize(value, 0)
}

/// Canonical JSON text (D8) of any JSON value.
///
/// Compact; object members sorted by trimmed key in UTF-16 code-unit order and written with trimmed
/// keys, and when several keys trim to the same name the one that sorts last wins (among equal
/// trimmed keys, the one inserted last); members whose value is `null` are dropped, as Gson drops
/// them, while `null`s inside arrays stay; strings are escaped the way serde_json escapes them,
/// which means no HTML escaping. Works iteratively, so any nesting depth is safe. This does not
/// validate anything.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    let mut stack: Vec<Frame<'_>> = Vec::new();
    if let Some(frame) = open(value, &mut out) {
        stack.push(frame);
    }
    while let Some(top) = stack.last_mut() {
        let next = match top {
            Frame::Array { elements, first } => elements.next().inspect(|_| {
                if !std::mem::replace(first, false) {
                    out.push(b',');
                }
            }),
            Frame::Object { members, first } => members.next().map(|(key, value)| {
                if !std::mem::replace(first, false) {
                    out.push(b',');
                }
                write_key(&mut out, key);
                value
            }),
        };
        match next {
            Some(value) => {
                if let Some(frame) = open(value, &mut out) {
                    stack.push(frame);
                }
            }
            None => {
                let close = match top {
                    Frame::Array { .. } => b']',
                    Frame::Object { .. } => b'}',
                };
                out.push(close);
                stack.pop();
            }
        }
    }
    into_string(out)
}

/// Java's `String.trim()`: strips every leading and trailing character `<= U+0020` (ASCII controls
/// and space, but not other Unicode whitespace). Names are trimmed this way because the reference
/// trims them this way.
pub fn java_trim(s: &str) -> &str {
    s.trim_matches(|c: char| c <= '\u{20}')
}

/// Java's `String.length()`: the length in UTF-16 code units, counted without allocating.
///
/// Every UTF-8 sequence is one code unit, except 4-byte sequences (characters above U+FFFF), which
/// are two.
pub fn utf16_len(s: &str) -> usize {
    utf16_len_bytes(s.as_bytes())
}

/// [`utf16_len`] of UTF-8 bytes.
fn utf16_len_bytes(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .map(|&b| usize::from(b & 0xC0 != 0x80) + usize::from(b >= 0xF0))
        .sum()
}

// -------------------------------------------------------------------------------------------------
// Parsing

/// Runs the pruning parser over a whole document and turns its root into an object.
fn read_root<'de, R: serde_json::de::Read<'de>>(
    mut deserializer: serde_json::Deserializer<R>,
) -> Result<Map<String, Value>, CustomDataError> {
    let root = Build::Keep(1)
        .deserialize(&mut deserializer)
        .and_then(|root| deserializer.end().map(|()| root))
        .map_err(json_error)?;
    match root {
        Value::Object(object) => Ok(object),
        Value::Null => Ok(Map::new()),
        _ => Err(CustomDataError::RootNotObject),
    }
}

/// Maps a serde_json error to the message the API returns.
fn json_error(error: serde_json::Error) -> CustomDataError {
    let detail = error.to_string();
    // serde_json stops at 128 levels of nesting; anything that deep is far beyond MAX_DEPTH. The
    // error code is not public, so the message is the only way to recognise it.
    if error.is_syntax() && detail.starts_with("recursion limit exceeded") {
        CustomDataError::TooDeep
    } else {
        CustomDataError::NotJson(detail)
    }
}

/// How the parser treats one JSON element: it builds the same `Value` serde_json would, minus the
/// parts the validation walk cannot reach (see [`parse_raw`]).
///
/// Like [`write_number`], this assumes serde_json is built without its `arbitrary_precision`
/// feature (the workspace does not enable it); the tests that parse numbers would catch a change.
#[derive(Debug, Clone, Copy)]
enum Build {
    /// Store the element; it sits at this depth (root = 1).
    Keep(usize),
    /// Parse the element completely, so its syntax is checked exactly as serde_json checks it, but
    /// store nothing and answer `null`.
    Discard,
}

impl Build {
    /// How to treat a child of this element. Children deeper than `MAX_DEPTH` are discarded; the
    /// container still stores the `null` they produce, which fails the walk's depth check just as
    /// the real value would.
    fn child(self) -> Build {
        match self {
            Build::Keep(depth) if depth < MAX_DEPTH => Build::Keep(depth + 1),
            _ => Build::Discard,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Build {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Build {
    type Value = Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        // serde_json's parser never yields a non-finite float; mirror its own `Value` visitor
        // anyway.
        Ok(Number::from_f64(value).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(match self {
            Build::Keep(_) => Value::String(value.to_owned()),
            Build::Discard => Value::Null,
        })
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(match self {
            Build::Keep(_) => Value::String(value),
            Build::Discard => Value::Null,
        })
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        if let Build::Discard = self {
            while seq.next_element_seed(Build::Discard)?.is_some() {}
            return Ok(Value::Null);
        }
        let child = self.child();
        let mut elements = Vec::new();
        while let Some(element) = seq.next_element_seed(child)? {
            elements.push(element);
            // Keep one element past the limit so the walk still sees the array as too long.
            if elements.len() > MAX_ARRAY_LENGTH {
                while seq.next_element_seed(Build::Discard)?.is_some() {}
                break;
            }
        }
        Ok(Value::Array(elements))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        if let Build::Discard = self {
            // Keys still go through serde_json's full string parser, so bad escapes are still
            // errors.
            while map.next_key::<IgnoredAny>()?.is_some() {
                map.next_value_seed(Build::Discard)?;
            }
            return Ok(Value::Null);
        }
        let child = self.child();
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            // Keep one member past the limit so the walk still fails on it. A repeated key replaces
            // the earlier value in place, as serde_json does, even past the limit: the walk visits
            // it at the earlier spot.
            if object.len() <= MAX_PROPERTIES {
                let value = map.next_value_seed(child)?;
                object.insert(key, value);
            } else if let Some(slot) = object.get_mut(&key) {
                *slot = map.next_value_seed(child)?;
            } else {
                map.next_value_seed(Build::Discard)?;
            }
        }
        Ok(Value::Object(object))
    }
}

// -------------------------------------------------------------------------------------------------
// Validation

/// Validates `value` (docs/arena-behaviour.md#customdata-rules), then canonicalises it. `hint` is a
/// capacity guess for the canonical text.
fn validate_and_canonicalize(value: Value, hint: usize) -> Result<CustomData, CustomDataError> {
    // The root is depth 1, which always passes the depth check; then null is `{}` and anything else
    // but an object is refused.
    let mut members = match value {
        Value::Object(members) => members,
        Value::Null => return Ok(CustomData::empty()),
        other => {
            drop_iteratively(other);
            return Err(CustomDataError::RootNotObject);
        }
    };
    if let Err(error) = (Walk { properties: 0 }).visit_members(&members, 1) {
        drop_iteratively(Value::Object(members));
        return Err(error);
    }
    let mut out = Vec::with_capacity(hint.clamp(2, MAX_BYTES + 1));
    canonicalize_members(&mut members, &mut out);
    if out.len() > MAX_BYTES {
        return Err(CustomDataError::TooLarge);
    }
    drop_iteratively(Value::Object(members));
    Ok(CustomData {
        json: into_string(out),
    })
}

/// State of one validation walk (docs/arena-behaviour.md#customdata-rules): depth-first in member
/// insertion order, first violation wins, with one property counter shared across the whole tree.
struct Walk {
    properties: usize,
}

impl Walk {
    /// Checks one element at `depth`. Recursion is bounded: an element deeper than `MAX_DEPTH`
    /// fails before anything below it is looked at.
    fn visit(&mut self, value: &Value, depth: usize) -> Result<(), CustomDataError> {
        if depth > MAX_DEPTH {
            return Err(CustomDataError::TooDeep);
        }
        match value {
            Value::Object(members) => self.visit_members(members, depth),
            Value::Array(elements) => self.visit_elements(elements, depth),
            Value::String(s) => check_string(s),
            Value::Null | Value::Bool(_) | Value::Number(_) => Ok(()),
        }
    }

    /// Checks the members of an object that sits at `depth` (already depth-checked).
    fn visit_members(
        &mut self,
        members: &Map<String, Value>,
        depth: usize,
    ) -> Result<(), CustomDataError> {
        for (name, child) in members {
            let name = java_trim(name);
            if name.is_empty() {
                return Err(CustomDataError::BlankPropertyName);
            }
            if utf16_len_exceeds(name.as_bytes(), MAX_PROPERTY_NAME_LENGTH) {
                return Err(CustomDataError::PropertyNameTooLong);
            }
            self.properties += 1;
            if self.properties > MAX_PROPERTIES {
                return Err(CustomDataError::TooManyProperties);
            }
            self.visit_child(child, depth + 1)?;
        }
        Ok(())
    }

    /// Checks the elements of an array that sits at `depth` (already depth-checked).
    fn visit_elements(&mut self, elements: &[Value], depth: usize) -> Result<(), CustomDataError> {
        if elements.len() > MAX_ARRAY_LENGTH {
            return Err(CustomDataError::ArrayTooLong);
        }
        for element in elements {
            self.visit_child(element, depth + 1)?;
        }
        Ok(())
    }

    /// [`Walk::visit`] with scalars handled in place: most elements are scalars, and this keeps the
    /// walk from making a call for each of them.
    #[inline]
    fn visit_child(&mut self, value: &Value, depth: usize) -> Result<(), CustomDataError> {
        match value {
            Value::Object(_) | Value::Array(_) => self.visit(value, depth),
            _ if depth > MAX_DEPTH => Err(CustomDataError::TooDeep),
            Value::String(s) => check_string(s),
            _ => Ok(()),
        }
    }
}

/// The string-value check of the walk.
#[inline]
fn check_string(s: &str) -> Result<(), CustomDataError> {
    if utf16_len_exceeds(s.as_bytes(), MAX_STRING_LENGTH) {
        Err(CustomDataError::StringTooLong)
    } else {
        Ok(())
    }
}

/// Whether `s` is longer than `limit` UTF-16 code units, in constant time when the UTF-8 length
/// settles it: a string has at most as many code units as bytes, and at least a third as many.
fn utf16_len_exceeds(utf8: &[u8], limit: usize) -> bool {
    let bytes = utf8.len();
    if bytes <= limit {
        false
    } else if bytes / 3 > limit {
        true
    } else {
        utf16_len_bytes(utf8) > limit
    }
}

/// Drops a value of any depth without recursing, so a rejected, absurdly deep value built by the
/// host cannot overflow the stack (the compiler-generated drop of `Value` recurses once per level).
fn drop_iteratively(value: Value) {
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        match value {
            Value::Array(elements) => pending.extend(elements),
            Value::Object(members) => pending.extend(members.into_iter().map(|(_, child)| child)),
            _ => {}
        }
    }
}

// -------------------------------------------------------------------------------------------------
// Canonical form

/// UTF-16 code-unit order of two strings (Java's `String.compareTo`), without transcoding.
///
/// UTF-8 byte order is code-point order, which agrees with UTF-16 order except between a character
/// in U+E000..=U+FFFF (lead byte 0xEE or 0xEF) and one above U+FFFF (lead byte 0xF0..): in UTF-16
/// the latter starts with a surrogate, 0xD800..=0xDBFF, and so sorts first. The first differing
/// byte is either a lead byte in both strings (the preceding characters are equal) or a
/// continuation byte in both (same lead byte, so same class).
fn utf16_cmp(a: &str, b: &str) -> Ordering {
    utf16_cmp_bytes(a.as_bytes(), b.as_bytes())
}

/// [`utf16_cmp`] of UTF-8 bytes.
fn utf16_cmp_bytes(a: &[u8], b: &[u8]) -> Ordering {
    match a.iter().zip(b).find(|(x, y)| x != y) {
        None => a.len().cmp(&b.len()),
        Some((&x, &y)) => {
            let supplementary = |byte: u8| byte >= 0xF0;
            let upper_bmp = |byte: u8| byte == 0xEE || byte == 0xEF;
            if supplementary(x) && upper_bmp(y) {
                Ordering::Less
            } else if upper_bmp(x) && supplementary(y) {
                Ordering::Greater
            } else {
                x.cmp(&y)
            }
        }
    }
}

/// Whether an object is already canonical: every key trimmed, keys strictly increasing, no `null`
/// values.
fn is_canonical(members: &Map<String, Value>) -> bool {
    let mut previous: Option<&str> = None;
    for (key, value) in members {
        if value.is_null() || java_trim(key).len() != key.len() {
            return false;
        }
        if previous.is_some_and(|previous| utf16_cmp(previous, key) != Ordering::Less) {
            return false;
        }
        previous = Some(key);
    }
    true
}

/// Rewrites a validated value into canonical form and appends its canonical text to `out`, in one
/// pass.
///
/// Only called on validated values, so recursion is at most `MAX_DEPTH` deep. Inlined into the
/// loops below so scalars, most elements, cost no call.
#[inline]
fn canonicalize_in_place(value: &mut Value, out: &mut Vec<u8>) {
    match value {
        Value::Object(members) => canonicalize_members(members, out),
        Value::Array(elements) => canonicalize_elements(elements, out),
        scalar => write_scalar(out, scalar),
    }
}

/// [`canonicalize_in_place`] for an array: order and `null`s are kept.
fn canonicalize_elements(elements: &mut [Value], out: &mut Vec<u8>) {
    out.push(b'[');
    for (index, element) in elements.iter_mut().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        canonicalize_in_place(element, out);
    }
    out.push(b']');
}

/// [`canonicalize_in_place`] for an object. Objects that are already canonical are kept as they are
/// (the common case for machine-written data); others are rebuilt from their own keys and values,
/// moving rather than copying them.
fn canonicalize_members(members: &mut Map<String, Value>, out: &mut Vec<u8>) {
    out.push(b'{');
    if is_canonical(members) {
        for (index, (key, child)) in members.iter_mut().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            write_key(out, key);
            canonicalize_in_place(child, out);
        }
    } else {
        let mut entries: Vec<(String, Value)> = std::mem::take(members)
            .into_iter()
            .map(|(key, child)| (trim_owned(key), child))
            .collect();
        // Stable, so among keys that trim alike the one inserted last stays last and wins below.
        entries.sort_by(|(a, _), (b, _)| utf16_cmp(a, b));
        let mut canonical = Map::with_capacity(entries.len());
        let mut entries = entries.into_iter().peekable();
        while let Some((key, mut child)) = entries.next() {
            let superseded = entries.peek().is_some_and(|(next, _)| *next == key);
            if superseded || child.is_null() {
                continue;
            }
            if !canonical.is_empty() {
                out.push(b',');
            }
            write_key(out, &key);
            canonicalize_in_place(&mut child, out);
            canonical.insert(key, child);
        }
        *members = canonical;
    }
    out.push(b'}');
}

/// Trims a key as [`java_trim`] does, reusing its buffer.
fn trim_owned(mut key: String) -> String {
    let is_trimmed = |c: char| c <= '\u{20}';
    let end = key.trim_end_matches(is_trimmed).len();
    key.truncate(end);
    let start = key.len() - key.trim_start_matches(is_trimmed).len();
    key.drain(..start);
    key
}

/// One open container in [`canonical_json`]'s explicit stack.
enum Frame<'a> {
    Array {
        elements: std::slice::Iter<'a, Value>,
        first: bool,
    },
    Object {
        members: std::vec::IntoIter<(&'a str, &'a Value)>,
        first: bool,
    },
}

/// Writes a scalar, or the opening bracket of a container and returns the frame that walks its
/// children.
fn open<'a>(value: &'a Value, out: &mut Vec<u8>) -> Option<Frame<'a>> {
    match value {
        Value::Array(elements) => {
            out.push(b'[');
            Some(Frame::Array {
                elements: elements.iter(),
                first: true,
            })
        }
        Value::Object(members) => {
            out.push(b'{');
            Some(Frame::Object {
                members: canonical_members(members).into_iter(),
                first: true,
            })
        }
        scalar => {
            write_scalar(out, scalar);
            None
        }
    }
}

/// The members of an object as they appear in canonical text: trimmed keys in UTF-16 order, the
/// last of each run of equal trimmed keys, `null` values left out.
fn canonical_members(members: &Map<String, Value>) -> Vec<(&str, &Value)> {
    let mut entries: Vec<(&str, &Value)> = members
        .iter()
        .map(|(key, value)| (java_trim(key), value))
        .collect();
    entries.sort_by(|(a, _), (b, _)| utf16_cmp(a, b));
    let mut kept = 0;
    for index in 0..entries.len() {
        let (key, value) = entries[index];
        let superseded = entries.get(index + 1).is_some_and(|(next, _)| *next == key);
        if !superseded && !value.is_null() {
            entries[kept] = (key, value);
            kept += 1;
        }
    }
    entries.truncate(kept);
    entries
}

/// Writes `"key":`.
fn write_key(out: &mut Vec<u8>, key: &str) {
    write_str(out, key);
    out.push(b':');
}

/// Writes a scalar exactly as serde_json's compact serializer does, without going through a
/// `Serializer` for each one.
fn write_scalar(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number),
        Value::String(s) => write_str(out, s),
        // Callers write containers themselves and only pass scalars; stay correct regardless.
        Value::Array(_) | Value::Object(_) => {
            out.extend_from_slice(canonical_json(value).as_bytes())
        }
    }
}

/// Writes a number as serde_json's `Serialize for Number` does: integers as integers, floats
/// through the same float formatter (a parsed `Value` never holds a non-finite float; serde_json
/// would write those as `null`).
fn write_number(out: &mut Vec<u8>, number: &Number) {
    let mut formatter = CompactFormatter;
    // Writing into a Vec cannot fail.
    let _ = if let Some(n) = number.as_u64() {
        formatter.write_u64(out, n)
    } else if let Some(n) = number.as_i64() {
        formatter.write_i64(out, n)
    } else {
        match number.as_f64() {
            Some(n) if n.is_finite() => formatter.write_f64(out, n),
            _ => formatter.write_null(out),
        }
    };
}

/// The canonical text as a `String`. serde_json only writes UTF-8, so the lossy path is never
/// taken.
fn into_string(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ok(text: &str) -> CustomData {
        match parse(Some(text)) {
            Ok(data) => data,
            Err(error) => panic!("expected {text:.200} to pass, got {error}"),
        }
    }

    fn err(text: &str) -> CustomDataError {
        match parse(Some(text)) {
            Ok(data) => panic!(
                "expected {text:.200} to fail, got {}",
                data.canonical_json()
            ),
            Err(error) => error,
        }
    }

    fn canonical(text: &str) -> String {
        ok(text).canonical_json().to_owned()
    }

    /// What `parse` must answer, computed the plain way: serde_json's own `Value`, no pruning.
    fn reference(text: &str) -> Result<CustomData, CustomDataError> {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => from_value(value),
            Err(error) => Err(json_error(error)),
        }
    }

    /// `{"a":` + `n` nested objects + `leaf`: the leaf sits at depth `n + 2`.
    fn nested_objects(n: usize, leaf: &str) -> String {
        format!("{}{leaf}{}", r#"{"a":"#.repeat(n + 1), "}".repeat(n + 1))
    }

    fn deep_value(levels: usize) -> Value {
        let mut value = json!(1);
        for _ in 0..levels {
            value = Value::Array(vec![value]);
        }
        value
    }

    fn string_member(key: &str, value: &str) -> String {
        serde_json::to_string(&json!({ key: value })).unwrap()
    }

    fn array_of(len: usize, element: &str) -> String {
        format!("[{}]", vec![element; len].join(","))
    }

    /// An object whose canonical text is exactly `target` bytes: keys `k00`, `k01`, ... with string
    /// values of at most 1000 characters. With `multibyte`, values are mostly `é` (2 bytes, 1
    /// UTF-16 unit).
    fn object_of_canonical_len(target: usize, multibyte: bool) -> Value {
        // Each member costs `"kNN":"` (7) + value + `"` (1) + a comma (1), less one comma overall,
        // plus braces.
        let members = (target - 1).div_ceil(1009);
        let mut remaining = target - 1 - 9 * members;
        let mut object = Map::new();
        for index in 0..members {
            let len = remaining / (members - index);
            remaining -= len;
            let filler = if multibyte {
                format!("{}{}", "é".repeat(len / 2), "x".repeat(len % 2))
            } else {
                "x".repeat(len)
            };
            object.insert(format!("k{index:02}"), Value::String(filler));
        }
        let value = Value::Object(object);
        assert_eq!(canonical_json(&value).len(), target);
        value
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn limits_match_the_reference() {
        assert_eq!(MAX_BYTES, 32_768);
        assert_eq!(MAX_DEPTH, 8);
        assert_eq!(MAX_PROPERTIES, 256);
        assert_eq!(MAX_ARRAY_LENGTH, 128);
        assert_eq!(MAX_PROPERTY_NAME_LENGTH, 64);
        assert_eq!(MAX_STRING_LENGTH, 1024);
    }

    #[test]
    fn messages_are_verbatim() {
        let cases = [
            (CustomDataError::TooDeep, "customData exceeds max depth 8."),
            (
                CustomDataError::RootNotObject,
                "customData root must be a JSON object.",
            ),
            (
                CustomDataError::BlankPropertyName,
                "customData property names cannot be blank.",
            ),
            (
                CustomDataError::PropertyNameTooLong,
                "customData property name exceeds 64 characters.",
            ),
            (
                CustomDataError::TooManyProperties,
                "customData cannot contain more than 256 properties.",
            ),
            (
                CustomDataError::ArrayTooLong,
                "customData arrays cannot contain more than 128 elements.",
            ),
            (
                CustomDataError::StringTooLong,
                "customData string value exceeds 1024 characters.",
            ),
            (
                CustomDataError::TooLarge,
                "customData exceeds 32768 UTF-8 bytes.",
            ),
            (
                CustomDataError::NotJson("detail".into()),
                "customData is not valid JSON: detail",
            ),
        ];
        for (error, message) in cases {
            assert_eq!(error.to_string(), message);
        }
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn absent_or_null_custom_data_is_empty_object() {
        for data in [
            parse(None).unwrap(),
            parse(Some("null")).unwrap(),
            parse(Some(" \n null \t")).unwrap(),
            parse_bytes(None).unwrap(),
            parse_bytes(Some(b"null")).unwrap(),
            from_value(Value::Null).unwrap(),
            CustomData::empty(),
            CustomData::default(),
        ] {
            assert_eq!(data.canonical_json(), "{}");
            assert!(data.to_object().is_empty());
            assert_eq!(data, CustomData::empty());
        }
        assert!(parse_raw(Some("null")).unwrap().is_empty());
        assert!(parse_raw(None).unwrap().is_empty());
        assert_eq!(canonical("{}"), "{}");
    }

    #[test]
    fn non_object_roots_are_refused() {
        for text in [
            "[]",
            "[1,2]",
            "[[[[[1]]]]]",
            "\"text\"",
            "12",
            "-0.5",
            "true",
            "false",
        ] {
            assert_eq!(err(text), CustomDataError::RootNotObject, "{text}");
            assert_eq!(
                parse_raw(Some(text)),
                Err(CustomDataError::RootNotObject),
                "{text}"
            );
        }
        assert_eq!(from_value(json!([1])), Err(CustomDataError::RootNotObject));
        assert_eq!(from_value(json!("x")), Err(CustomDataError::RootNotObject));
        assert_eq!(
            from_value(json!(false)),
            Err(CustomDataError::RootNotObject)
        );
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn text_that_is_not_json_reports_the_parser_error() {
        for text in [
            "",
            "   ",
            "{",
            "{\"a\":}",
            "{\"a\":1,}",
            "{} x",
            "{'a':1}",
            "{\"a\":1e400}",
            "{\"a\":\"\\ud800\"}",
            "{\"a\":\"\\udc00x\"}",
            "{\"\\ud800\":1}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"raw\ncontrol\"}",
        ] {
            let expected = serde_json::from_str::<Value>(text).unwrap_err().to_string();
            match err(text) {
                CustomDataError::NotJson(detail) => assert_eq!(detail, expected, "{text}"),
                other => panic!("{text}: expected NotJson, got {other:?}"),
            }
            let message = err(text).to_string();
            assert!(
                message.starts_with("customData is not valid JSON: "),
                "{message}"
            );
        }
    }

    #[test]
    fn invalid_utf8_is_not_json() {
        for bytes in [
            &b"{\"a\":\"\xff\"}"[..],
            b"{\"\xc3\x28\":1}",
            b"\xef\xbb\xbf{}",
            b"{\"a\":1}\xff",
        ] {
            match parse_bytes(Some(bytes)) {
                Err(CustomDataError::NotJson(_)) => {}
                other => panic!("{bytes:?}: expected NotJson, got {other:?}"),
            }
        }
        assert_eq!(
            parse_bytes(Some("{\"é\":\"ü\"}".as_bytes()))
                .unwrap()
                .canonical_json(),
            "{\"é\":\"ü\"}"
        );
    }

    #[test]
    fn syntax_errors_in_pruned_parts_are_still_reported() {
        let deep_bad = nested_objects(12, "\"\\ud800\"");
        let late_element = format!("{{\"a\":[{},\"\\ud800\"]}}", vec!["0"; 200].join(","));
        let late_member = format!(
            "{{{},\"late\":\"\\ud800\"}}",
            (0..300)
                .map(|i| format!("\"k{i}\":0"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let deep_key = nested_objects(12, "{\"\\udc00\":1}");
        let deep_number = nested_objects(12, "1e999");
        for text in [deep_bad, late_element, late_member, deep_key, deep_number] {
            assert!(
                matches!(err(&text), CustomDataError::NotJson(_)),
                "{text:.80}"
            );
            assert_eq!(parse(Some(&text)), reference(&text));
        }
        // Invalid UTF-8 in a string below depth 8, and past an array's 129th element.
        for text in [nested_objects(12, "\"#\""), long_array("\"#\"", 1000)] {
            let bytes: Vec<u8> = text
                .bytes()
                .map(|b| if b == b'#' { 0xff } else { b })
                .collect();
            assert!(matches!(
                parse_bytes(Some(&bytes)),
                Err(CustomDataError::NotJson(_))
            ));
        }
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn depth_boundary() {
        // A scalar directly in root is depth 2.
        ok(r#"{"a":1}"#);
        // 6 nested objects under root put the leaf at depth 8; 7 put it at 9.
        ok(&nested_objects(6, "1"));
        assert_eq!(err(&nested_objects(7, "1")), CustomDataError::TooDeep);
        // Nulls and empty containers are elements too.
        ok(&nested_objects(6, "null"));
        assert_eq!(err(&nested_objects(7, "null")), CustomDataError::TooDeep);
        ok(&nested_objects(6, "{}"));
        assert_eq!(err(&nested_objects(7, "{}")), CustomDataError::TooDeep);
        ok(&nested_objects(6, "[]"));
        assert_eq!(err(&nested_objects(7, "[]")), CustomDataError::TooDeep);
        // A non-empty container at depth 8 puts its children at 9.
        assert_eq!(err(&nested_objects(6, "[0]")), CustomDataError::TooDeep);
        assert_eq!(
            err(&nested_objects(6, "{\"b\":null}")),
            CustomDataError::TooDeep
        );
        // Arrays add levels the same way: root(1) > array(2) > ... > leaf(2 + arrays).
        ok(&format!("{{\"a\":{}1{}}}", "[".repeat(6), "]".repeat(6)));
        assert_eq!(
            err(&format!("{{\"a\":{}1{}}}", "[".repeat(7), "]".repeat(7))),
            CustomDataError::TooDeep
        );
        assert_eq!(
            err(&format!("{{\"a\":{}null{}}}", "[".repeat(7), "]".repeat(7))),
            CustomDataError::TooDeep
        );
        // from_value walks the same way.
        let passes: Value = serde_json::from_str(&nested_objects(6, "true")).unwrap();
        let fails: Value = serde_json::from_str(&nested_objects(7, "true")).unwrap();
        assert!(from_value(passes).is_ok());
        assert_eq!(from_value(fails), Err(CustomDataError::TooDeep));
    }

    #[test]
    fn hostile_nesting_is_too_deep_without_crashing() {
        let n = 10_000;
        let arrays = format!("{}{}", "[".repeat(n), "]".repeat(n));
        let objects = format!("{}1{}", r#"{"a":"#.repeat(n), "}".repeat(n));
        let unclosed = "[".repeat(n);
        let unclosed_objects = r#"{"a":"#.repeat(n);
        let mixed = format!("{}{}", r#"{"a":["#.repeat(n), "]}".repeat(n));
        for text in [&arrays, &objects, &unclosed, &unclosed_objects, &mixed] {
            assert_eq!(err(text), CustomDataError::TooDeep, "{text:.40}");
        }
        // Just inside serde_json's recursion limit the walk reports it.
        let within = format!("{{\"a\":{}1{}}}", "[".repeat(120), "]".repeat(120));
        assert_eq!(err(&within), CustomDataError::TooDeep);
        assert_eq!(parse(Some(&within)), reference(&within));
        // The pruned raw object keeps the depth-9 element as null and nothing below it.
        let raw = parse_raw(Some(&nested_objects(20, "1"))).unwrap();
        let mut value = &Value::Object(raw);
        for _ in 0..8 {
            value = &value["a"];
        }
        assert_eq!(value, &Value::Null);
        assert_eq!(
            from_value(Value::Object(
                parse_raw(Some(&nested_objects(20, "1"))).unwrap()
            )),
            Err(CustomDataError::TooDeep)
        );
    }

    #[test]
    fn absurdly_deep_values_from_the_host_are_safe() {
        // (Built by hand: `json!` would serialise the deep value recursively.)
        let levels = 200_000;
        let mut object = Map::new();
        object.insert("a".into(), deep_value(levels));
        assert_eq!(
            from_value(Value::Object(object)),
            Err(CustomDataError::TooDeep)
        );
        assert_eq!(
            from_value(deep_value(levels)),
            Err(CustomDataError::RootNotObject)
        );
        // An earlier violation wins, and the deep rest is still dropped without recursion.
        let mut object = Map::new();
        object.insert("a".into(), Value::String("x".repeat(1025)));
        object.insert("b".into(), deep_value(levels));
        assert_eq!(
            from_value(Value::Object(object)),
            Err(CustomDataError::StringTooLong)
        );
        // canonical_json does not recurse either. (Checked after the value is gone: unwinding would
        // drop it recursively.)
        let value = deep_value(levels);
        let text = canonical_json(&value);
        drop_iteratively(value);
        assert_eq!(
            text,
            format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
        );
    }

    // ---------------------------------------------------------------------------------------------

    /// 16 root members, each an object holding its share of the other `total - 16` members.
    fn spread_properties(total: usize) -> String {
        let nested = total - 16;
        let mut root = Map::new();
        for outer in 0..16 {
            let count = nested / 16 + usize::from(outer < nested % 16);
            let inner: Map<String, Value> =
                (0..count).map(|i| (format!("p{i}"), json!(i))).collect();
            root.insert(format!("o{outer}"), Value::Object(inner));
        }
        serde_json::to_string(&root).unwrap()
    }

    #[test]
    fn property_count_boundary() {
        ok(&spread_properties(256));
        assert_eq!(
            err(&spread_properties(257)),
            CustomDataError::TooManyProperties
        );
        // Members of objects inside arrays count; array elements do not.
        let in_arrays = |members: usize| {
            let objects: Vec<Value> = (0..members).map(|i| json!({ "m": i })).collect();
            serde_json::to_string(&json!({ "list": objects })).unwrap()
        };
        ok(&in_arrays(128)); // 1 + 128 members
        let two_lists = |first: usize, second: usize| {
            let a: Vec<Value> = (0..first).map(|i| json!({ "m": i })).collect();
            let b: Vec<Value> = (0..second).map(|i| json!({ "m": i })).collect();
            serde_json::to_string(&json!({ "a": a, "b": b })).unwrap()
        };
        ok(&two_lists(128, 126)); // 2 + 254 = 256
        assert_eq!(
            err(&two_lists(128, 127)),
            CustomDataError::TooManyProperties
        );
        // Null members count even though canonical text drops them.
        let nulls = |count: usize| {
            let members: Vec<String> = (0..count).map(|i| format!("\"n{i}\":null")).collect();
            format!("{{{}}}", members.join(","))
        };
        assert_eq!(canonical(&nulls(256)), "{}");
        assert_eq!(err(&nulls(257)), CustomDataError::TooManyProperties);
        // Keys that trim alike are separate members for the count.
        let alike = |count: usize| {
            let members: Vec<String> = (0..count)
                .map(|i| format!("\"{}a\":{i}", " ".repeat(i)))
                .collect();
            format!("{{{}}}", members.join(","))
        };
        assert_eq!(canonical(&alike(256)), "{\"a\":255}");
        assert_eq!(err(&alike(257)), CustomDataError::TooManyProperties);
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn array_length_boundary() {
        ok(&format!("{{\"a\":{}}}", array_of(128, "0")));
        assert_eq!(
            err(&format!("{{\"a\":{}}}", array_of(129, "0"))),
            CustomDataError::ArrayTooLong
        );
        assert_eq!(
            err(&format!("{{\"a\":{}}}", array_of(129, "null"))),
            CustomDataError::ArrayTooLong
        );
        let inner_ok = array_of(128, "true");
        ok(&format!("{{\"a\":[{inner_ok},{inner_ok}]}}"));
        let inner_bad = array_of(129, "true");
        assert_eq!(
            err(&format!("{{\"a\":[1,{inner_bad}]}}")),
            CustomDataError::ArrayTooLong
        );
        assert_eq!(
            err(&format!("{{\"a\":{}}}", array_of(100_000, "0"))),
            CustomDataError::ArrayTooLong
        );
        // The raw parse keeps one element past the limit and no more.
        let raw = parse_raw(Some(&format!("{{\"a\":{}}}", array_of(10_000, "\"x\"")))).unwrap();
        assert_eq!(
            raw["a"].as_array().map(Vec::len),
            Some(MAX_ARRAY_LENGTH + 1)
        );
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn property_name_length_boundary() {
        let key = |name: &str| format!("{{{}:1}}", serde_json::to_string(name).unwrap());
        ok(&key(&"a".repeat(64)));
        assert_eq!(
            err(&key(&"a".repeat(65))),
            CustomDataError::PropertyNameTooLong
        );
        // Measured after trimming.
        assert_eq!(
            canonical(&key(&format!("  {}\t", "a".repeat(64)))),
            format!("{{\"{}\":1}}", "a".repeat(64))
        );
        // Characters above U+FFFF count 2 each.
        ok(&key(&"😀".repeat(32)));
        assert_eq!(
            err(&key(&format!("{}a", "😀".repeat(32)))),
            CustomDataError::PropertyNameTooLong
        );
        assert_eq!(
            err(&key(&format!("{}😀", "a".repeat(63)))),
            CustomDataError::PropertyNameTooLong
        );
        // Other BMP characters count 1, whatever their UTF-8 length.
        ok(&key(&"é".repeat(64)));
        assert_eq!(
            err(&key(&"é".repeat(65))),
            CustomDataError::PropertyNameTooLong
        );
        ok(&key(&"中".repeat(64)));
        assert_eq!(
            err(&key(&"中".repeat(65))),
            CustomDataError::PropertyNameTooLong
        );
        // Nested names are checked too.
        assert_eq!(
            err(&format!("{{\"o\":{}}}", key(&"b".repeat(65)))),
            CustomDataError::PropertyNameTooLong
        );
    }

    #[test]
    fn blank_property_names() {
        for name in ["", " ", "   ", "\t", "\r\n", "\u{0}", "\u{1f} \u{b}"] {
            let text = format!("{{{}:1}}", serde_json::to_string(name).unwrap());
            assert_eq!(err(&text), CustomDataError::BlankPropertyName, "{name:?}");
        }
        assert_eq!(err(r#"{"a":{"  ":1}}"#), CustomDataError::BlankPropertyName);
        assert_eq!(
            err(r#"{"a":[{"":null}]}"#),
            CustomDataError::BlankPropertyName
        );
        // Java's trim only strips <= U+0020: a no-break space or ideographic space is a name.
        assert_eq!(canonical("{\"\u{a0}\":1}"), "{\"\u{a0}\":1}");
        assert_eq!(canonical("{\" \u{3000} \":1}"), "{\"\u{3000}\":1}");
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn string_length_boundary() {
        let member = |value: &str| string_member("s", value);
        ok(&member(&"x".repeat(1024)));
        assert_eq!(
            err(&member(&"x".repeat(1025))),
            CustomDataError::StringTooLong
        );
        // Untrimmed.
        assert_eq!(
            err(&member(&" ".repeat(1025))),
            CustomDataError::StringTooLong
        );
        ok(&member(&format!(" {} ", "x".repeat(1022))));
        // Characters above U+FFFF count 2 each.
        ok(&member(&"😀".repeat(512)));
        assert_eq!(
            err(&member(&format!("{}x", "😀".repeat(512)))),
            CustomDataError::StringTooLong
        );
        // Three-byte BMP characters count 1.
        ok(&member(&"中".repeat(1024)));
        assert_eq!(
            err(&member(&"中".repeat(1025))),
            CustomDataError::StringTooLong
        );
        ok(&member(&"é".repeat(1024)));
        assert_eq!(
            err(&member(&"é".repeat(1025))),
            CustomDataError::StringTooLong
        );
        // Escapes count as the characters they stand for.
        ok(&format!("{{\"s\":\"{}\"}}", "\\u00e9".repeat(1024)));
        assert_eq!(
            err(&format!("{{\"s\":\"{}\"}}", "\\ud83d\\ude00".repeat(513))),
            CustomDataError::StringTooLong
        );
        // Strings inside arrays are checked; numbers and booleans are not strings.
        assert_eq!(
            err(&format!("{{\"a\":[1,\"{}\"]}}", "x".repeat(1025))),
            CustomDataError::StringTooLong
        );
        ok(&format!("{{\"n\":{}}}", "1".repeat(300)));
        // Keys are not string values.
        assert_eq!(
            err(&string_member(&"k".repeat(1025), "v")),
            CustomDataError::PropertyNameTooLong
        );
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn byte_limit_is_measured_on_canonical_text() {
        for multibyte in [false, true] {
            let at_limit = object_of_canonical_len(MAX_BYTES, multibyte);
            let text = serde_json::to_string(&at_limit).unwrap();
            let data = from_value(at_limit).unwrap();
            assert_eq!(data.canonical_json().len(), MAX_BYTES);
            assert_eq!(ok(&text).canonical_json().len(), MAX_BYTES);

            let over = object_of_canonical_len(MAX_BYTES + 1, multibyte);
            let text = serde_json::to_string(&over).unwrap();
            assert_eq!(from_value(over), Err(CustomDataError::TooLarge));
            assert_eq!(err(&text), CustomDataError::TooLarge);
        }
    }

    #[test]
    fn byte_limit_ignores_what_canonicalisation_removes() {
        // Pretty-printed, with padded keys, escapes and null members: the raw text is far over the
        // limit, the canonical text is exactly at it.
        let at_limit = object_of_canonical_len(MAX_BYTES, false);
        let mut padded = Map::new();
        for (index, (key, value)) in at_limit.as_object().unwrap().iter().enumerate() {
            padded.insert(format!("   {key}   "), value.clone());
            padded.insert(format!("zz{index}"), Value::Null);
        }
        let text = serde_json::to_string_pretty(&padded)
            .unwrap()
            .replace('x', "\\u0078");
        assert!(text.len() > 4 * MAX_BYTES);
        let data = ok(&text);
        assert_eq!(data.canonical_json(), canonical_json(&at_limit));
        assert_eq!(data.canonical_json().len(), MAX_BYTES);
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn first_violation_in_insertion_order_wins() {
        let long = "x".repeat(1025);
        let deep = nested_objects(7, "1");
        let deep_branch = &deep[5..deep.len() - 1];
        assert_eq!(
            err(&format!("{{\"s\":\"{long}\",\"d\":{deep_branch}}}")),
            CustomDataError::StringTooLong
        );
        assert_eq!(
            err(&format!("{{\"d\":{deep_branch},\"s\":\"{long}\"}}")),
            CustomDataError::TooDeep
        );
        // Insertion order, not canonical order.
        let big_array = array_of(129, "0");
        assert_eq!(
            err(&format!("{{\"z\":\"{long}\",\"a\":{big_array}}}")),
            CustomDataError::StringTooLong
        );
        assert_eq!(
            err(&format!("{{\"a\":{big_array},\"z\":\"{long}\"}}")),
            CustomDataError::ArrayTooLong
        );
        // Name checks come before the member's value and before the counter.
        assert_eq!(
            err(&format!("{{\" \":\"{long}\"}}")),
            CustomDataError::BlankPropertyName
        );
        let mut members: Vec<String> = (0..256).map(|i| format!("\"k{i}\":0")).collect();
        members.push("\" \":0".into());
        assert_eq!(
            err(&format!("{{{}}}", members.join(","))),
            CustomDataError::BlankPropertyName
        );
        members.pop();
        members.push(format!("\"{}\":0", "n".repeat(65)));
        assert_eq!(
            err(&format!("{{{}}}", members.join(","))),
            CustomDataError::PropertyNameTooLong
        );
        // The depth check comes before everything else about an element.
        assert_eq!(
            err(&nested_objects(7, &array_of(200, "0"))),
            CustomDataError::TooDeep
        );
        assert_eq!(
            err(&nested_objects(7, &format!("\"{long}\""))),
            CustomDataError::TooDeep
        );
        assert_eq!(
            err(&nested_objects(7, "{\"\":1}")),
            CustomDataError::TooDeep
        );
        // The array length is checked before its elements.
        assert_eq!(
            err(&format!(
                "{{\"a\":[\"{long}\",{}]}}",
                vec!["0"; 128].join(",")
            )),
            CustomDataError::ArrayTooLong
        );
        // Size is only measured after a clean walk.
        let mut big = object_of_canonical_len(2 * MAX_BYTES, false);
        big.as_object_mut()
            .unwrap()
            .insert("last".into(), json!(vec![0; 129]));
        assert_eq!(from_value(big), Err(CustomDataError::ArrayTooLong));
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn keys_are_trimmed_and_sorted() {
        assert_eq!(canonical(r#"{" z-key ":1,"a":2}"#), r#"{"a":2,"z-key":1}"#);
        assert_eq!(
            canonical(
                r#"{ "b" : { "d" : 1 , "c" : [ { "f" : 1 , "e" : 2 } ] } , "a" : [ 3 , 1 ] }"#
            ),
            r#"{"a":[3,1],"b":{"c":[{"e":2,"f":1}],"d":1}}"#
        );
        let data = ok(r#"{" z-key ":1,"a":2}"#);
        assert!(data.contains_key("z-key"));
        assert!(!data.contains_key(" z-key "));
        assert_eq!(data.to_object().keys().collect::<Vec<_>>(), ["a", "z-key"]);
        assert_eq!(data.clone().into_value(), json!({ "a": 2, "z-key": 1 }));
        assert_eq!(
            serde_json::to_string(&data.into_value()).unwrap(),
            r#"{"a":2,"z-key":1}"#
        );
    }

    #[test]
    fn null_members_are_dropped_but_null_elements_stay() {
        assert_eq!(
            canonical(r#"{"a":null,"b":{"c":null},"d":[null,1,null]}"#),
            r#"{"b":{},"d":[null,1,null]}"#
        );
        assert_eq!(
            canonical(r#"{"a":[{"x":null,"y":1}]}"#),
            r#"{"a":[{"y":1}]}"#
        );
        let data = ok(r#"{"a":null}"#);
        assert!(!data.contains_key("a"));
        assert_eq!(data.canonical_json(), "{}");
    }

    #[test]
    fn duplicate_trimmed_keys_keep_the_later_member() {
        assert_eq!(canonical(r#"{"a":1," a":2}"#), r#"{"a":2}"#);
        assert_eq!(canonical(r#"{" a":1,"a":2}"#), r#"{"a":2}"#);
        assert_eq!(
            canonical(r#"{"a ":1,"b":0," a":3,"a":4}"#),
            r#"{"a":4,"b":0}"#
        );
        // The later one wins even when it is null, and then the member is dropped.
        assert_eq!(canonical(r#"{"a":1," a":null}"#), "{}");
        assert_eq!(canonical(r#"{"a":null," a":1}"#), r#"{"a":1}"#);
        // A key repeated verbatim in the text: serde_json keeps the last value at the first
        // position.
        assert_eq!(canonical(r#"{"a":1,"b":2,"a":3}"#), r#"{"a":3,"b":2}"#);
        assert_eq!(
            parse_raw(Some(r#"{"a":1,"b":2,"a":3}"#))
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        // canonical_json agrees.
        let mut object = Map::new();
        object.insert("k".into(), json!(1));
        object.insert(" k".into(), json!(2));
        assert_eq!(canonical_json(&Value::Object(object)), r#"{"k":2}"#);
    }

    /// The proptest regression `value = {"_": "", "_ ": null}` (host/tests/custom_data_props.rs):
    /// the duplicate is resolved first and only then is a `null` winner dropped, as in the Java
    /// reference (spec §1: "JSON null stays null (and is then dropped by the serializer). If two
    /// raw keys trim to the same name, the one later in sorted order wins"). A `null` that wins
    /// therefore removes the member; it is not discarded before the duplicate is resolved.
    ///
    /// Among keys that trim alike, the one written last wins (docs/arena-behaviour.md#customdata-rules,
    /// D8 sorts by trimmed key). For `{"_ ": null, "_": ""}` that keeps `""`, where the reference,
    /// which orders by raw key (`"_"` before `"_ "`), would keep the `null` and give `{}`.
    #[test]
    fn a_null_that_wins_a_duplicate_removes_the_member() {
        let cases = [
            (r#"{"_": "", "_ ": null}"#, "{}"),
            (r#"{"_ ": null, "_": ""}"#, r#"{"_":""}"#),
            (r#"{"_": 1, "_ ": 2}"#, r#"{"_":2}"#),
            (r#"{"_ ": 2, "_": 1}"#, r#"{"_":1}"#),
        ];
        for (text, expected) in cases {
            // The one-pass parser, the full parser, the value path and canonical_json all agree.
            assert_eq!(canonical(text), expected, "parse {text}");
            assert_eq!(
                parse_bytes(Some(text.as_bytes())).unwrap().canonical_json(),
                expected,
                "parse_bytes {text}"
            );
            let value: Value = serde_json::from_str(text).unwrap();
            assert_eq!(
                from_value(value.clone()).unwrap().canonical_json(),
                expected,
                "from_value {text}"
            );
            assert_eq!(canonical_json(&value), expected, "canonical_json {text}");
            let raw = parse_raw(Some(text)).unwrap();
            assert_eq!(
                from_value(Value::Object(raw)).unwrap().canonical_json(),
                expected,
                "parse_raw + from_value {text}"
            );
            assert_eq!(reference(text).unwrap().canonical_json(), expected);
        }
        // The same inside nested objects and arrays.
        assert_eq!(
            canonical(r#"{"o":{"_":"","_ ":null},"a":[{"_ ":null,"_":""}]}"#),
            r#"{"a":[{"_":""}],"o":{}}"#
        );
    }

    #[test]
    fn keys_sort_in_utf16_order_not_byte_order() {
        // U+FF5E is above the surrogates in UTF-16, U+1F600 starts with one: UTF-16 puts the emoji
        // first, UTF-8 byte order would put it last.
        let text = "{\"\u{ff5e}\":1,\"\u{1f600}\":2,\"\u{e000}\":3,\"b\":4,\"\u{7ff}\":5,\"a\":6}";
        assert_eq!(
            canonical(text),
            "{\"a\":6,\"b\":4,\"\u{7ff}\":5,\"\u{1f600}\":2,\"\u{e000}\":3,\"\u{ff5e}\":1}"
        );

        let samples = [
            "",
            "a",
            "ab",
            "b",
            " ",
            "Z",
            "é",
            "\u{7ff}",
            "\u{800}",
            "\u{d7ff}",
            "\u{e000}",
            "\u{efff}",
            "\u{f000}",
            "\u{ffff}",
            "\u{10000}",
            "\u{1f600}",
            "\u{1f601}",
            "\u{10ffff}",
            "a\u{ffff}",
            "a\u{10000}",
            "a\u{10000}b",
            "a\u{e000}",
            "😀a",
            "😀",
            "\u{fffd}",
            "\u{1f600}\u{ff00}",
        ];
        for a in samples {
            for b in samples {
                let expected = a.encode_utf16().cmp(b.encode_utf16());
                assert_eq!(utf16_cmp(a, b), expected, "{a:?} vs {b:?}");
            }
        }
    }

    #[test]
    fn no_html_escaping_and_serde_escapes() {
        assert_eq!(
            canonical(r#"{"h":"<b>&amp;='x'</b>"}"#),
            r#"{"h":"<b>&amp;='x'</b>"}"#
        );
        assert_eq!(canonical(r#"{"<&>":"\u003c\u0026"}"#), r#"{"<&>":"<&"}"#);
        assert_eq!(
            canonical(r#"{"c":"q\"b\\s\/n\n\u0001\u2028é\u00e9"}"#),
            "{\"c\":\"q\\\"b\\\\s/n\\n\\u0001\u{2028}éé\"}"
        );
        assert_eq!(
            canonical(r#"{"n":[1.0,-5,1e2,0.5,12345678901234567890]}"#),
            r#"{"n":[1.0,-5,100.0,0.5,12345678901234567890]}"#
        );
    }

    #[test]
    fn canonical_text_is_stable_and_consistent() {
        let documents = [
            r#"{"b":1,"a":{"y":[{"q":null," p ":2}],"x":null}}"#,
            r#"{"a":1,"b":{"c":2}}"#,
            "{\"\u{1f600}\":[\"<>\"],\" \u{ff5e}\":{},\"m\":[[],[{}]]}",
            r#"{"t":true,"f":false,"z":0}"#,
        ];
        for text in documents {
            let data = ok(text);
            // The text is the serialisation of the stored object...
            assert_eq!(
                serde_json::to_string(&data.to_object()).unwrap(),
                data.canonical_json()
            );
            // ...and what canonical_json makes of the original value.
            let original: Value = serde_json::from_str(text).unwrap();
            assert_eq!(canonical_json(&original), data.canonical_json());
            // Canonicalising again changes nothing.
            assert_eq!(ok(data.canonical_json()), data);
            assert_eq!(from_value(data.clone().into_value()).unwrap(), data);
        }
        // Non-object values are fine for canonical_json.
        assert_eq!(canonical_json(&json!(null)), "null");
        assert_eq!(canonical_json(&json!("<x>")), "\"<x>\"");
        assert_eq!(
            canonical_json(&json!([{"b":1," a":null}, null, []])),
            r#"[{"b":1},null,[]]"#
        );
        assert_eq!(canonical_json(&json!({})), "{}");
    }

    #[test]
    fn scalars_are_written_exactly_as_serde_json_writes_them() {
        let mut strings: Vec<String> = (0u8..0x80)
            .map(|b| format!("a{}b", char::from(b)))
            .collect();
        strings.extend(
            [
                "",
                "\"",
                "\\",
                "/",
                "\u{7f}",
                "\u{80}",
                "\u{2028}\u{2029}",
                "😀",
                "\u{fffd}",
                "<script>",
            ]
            .map(String::from),
        );
        for s in strings {
            let value = Value::String(s);
            assert_eq!(
                canonical_json(&value),
                serde_json::to_string(&value).unwrap(),
                "{value:?}"
            );
            let object = Value::Object(Map::from_iter([(
                value.as_str().unwrap_or_default().to_owned() + "k",
                value.clone(),
            )]));
            assert_eq!(
                canonical_json(&object),
                serde_json::to_string(&object).unwrap(),
                "{object:?}"
            );
        }
        let numbers = [
            json!(0),
            json!(-1),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(i64::MAX),
            json!(0.1),
            json!(-0.0),
            json!(1e-7),
            json!(1e300),
            json!(5e-324),
            json!(f64::MAX),
            json!(123456.789),
            json!(2.0),
        ];
        for number in numbers {
            assert_eq!(
                canonical_json(&number),
                serde_json::to_string(&number).unwrap()
            );
            let text = format!("{{\"n\":{}}}", serde_json::to_string(&number).unwrap());
            assert_eq!(canonical(&text), text);
        }
        for scalar in [json!(true), json!(false), json!(null)] {
            assert_eq!(
                canonical_json(&scalar),
                serde_json::to_string(&scalar).unwrap()
            );
        }
    }

    #[test]
    fn raw_parse_keeps_the_guests_keys_and_order() {
        // The nexoriAfk check (docs/arena-behaviour.md#the-nexoriafk-block) is on the exact keys
        // the mod sent.
        let raw = parse_raw(Some(r#"{"z":1," nexoriAfk ":2,"b":null}"#)).unwrap();
        assert_eq!(raw.keys().collect::<Vec<_>>(), ["z", " nexoriAfk ", "b"]);
        assert!(!raw.contains_key("nexoriAfk"));
        let mut enriched = raw;
        enriched.insert("nexoriAfk".into(), json!({ "schemaVersion": 1 }));
        // Both keys trim to `nexoriAfk`; the one inserted last wins.
        let data = from_value(Value::Object(enriched)).unwrap();
        assert_eq!(
            data.canonical_json(),
            r#"{"nexoriAfk":{"schemaVersion":1},"z":1}"#
        );
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn java_trim_and_utf16_len() {
        assert_eq!(java_trim(" \t\r\n\u{0}\u{1f}a b\u{20}\u{b}"), "a b");
        assert_eq!(java_trim("\u{a0}a\u{3000}"), "\u{a0}a\u{3000}");
        assert_eq!(java_trim("   "), "");
        assert_eq!(java_trim(""), "");
        for s in [
            "",
            "a",
            "é",
            "中",
            "😀",
            "a😀é中\u{10ffff}\u{ffff}",
            &"😀x".repeat(100),
        ] {
            assert_eq!(utf16_len(s), s.encode_utf16().count(), "{s}");
            for limit in [0, 1, 2, 3, 5, 64, 150, 300] {
                assert_eq!(
                    utf16_len_exceeds(s.as_bytes(), limit),
                    s.encode_utf16().count() > limit,
                    "{s} {limit}"
                );
            }
        }
        assert_eq!(trim_owned(" \tab c\n".into()), "ab c");
        assert_eq!(trim_owned("abc".into()), "abc");
        assert_eq!(trim_owned("   ".into()), "");
    }

    // ---------------------------------------------------------------------------------------------

    #[test]
    fn pruning_parser_agrees_with_plain_parsing() {
        let long = "x".repeat(1025);
        let many = |count: usize, value: &str| {
            (0..count)
                .map(|i| format!("\"k{i}\":{value}"))
                .collect::<Vec<_>>()
                .join(",")
        };
        let documents = vec![
            r#"{"a":1}"#.to_owned(),
            format!("{{\"a\":{}}}", array_of(5000, "{\"x\":1}")),
            format!("{{\"a\":{},\"b\":\"{long}\"}}", array_of(129, "0")),
            format!("{{{}}}", many(1000, "1")),
            format!("{{{}}}", many(1000, "null")),
            // A repeated key past the limit still replaces the early value that the walk meets
            // first.
            format!("{{\"k0\":1,{},\"k0\":\"{long}\"}}", many(400, "1")),
            format!(
                "{{\"k5\":1,{},\"k5\":{}}}",
                many(400, "2"),
                nested_objects(9, "1")
            ),
            format!("{{{},\"k3\":{{\" \":1}}}}", many(300, "1")),
            nested_objects(8, &array_of(300, "1")),
            nested_objects(30, "1"),
            nested_objects(6, &array_of(129, &format!("\"{long}\""))),
            format!("{{\"a\":[{},{}]}}", array_of(129, "1"), array_of(50, "2")),
            format!(
                "{{\"a\":{}}}",
                array_of(200, &format!("{{{}}}", many(2, "1")))
            ),
        ];
        for text in &documents {
            assert_eq!(parse(Some(text)), reference(text), "{text:.120}");
            assert_eq!(
                parse_bytes(Some(text.as_bytes())),
                reference(text),
                "{text:.120}"
            );
        }
        // Adding a member at the end of a pruned root validates like adding it to the full root.
        for text in &documents {
            let mut pruned = parse_raw(Some(text)).unwrap();
            let mut full: Map<String, Value> = serde_json::from_str(text).unwrap();
            pruned.insert("nexoriAfk".into(), json!({ "schemaVersion": 1 }));
            full.insert("nexoriAfk".into(), json!({ "schemaVersion": 1 }));
            assert_eq!(
                from_value(Value::Object(pruned)),
                from_value(Value::Object(full)),
                "{text:.120}"
            );
        }
    }

    /// Elements of `{"a":[...]}` repeated to about `bytes` of text.
    fn long_array(element: &str, bytes: usize) -> String {
        let count = bytes / (element.len() + 1);
        format!(
            "{{\"a\":[{}{element}]}}",
            format!("{element},").repeat(count)
        )
    }

    #[test]
    fn huge_inputs_are_linear() {
        const HUGE: usize = 100 << 20;
        let started = std::time::Instant::now();
        // One enormous string: rejected without counting its code units.
        let text = format!("{{\"s\":\"{}\"}}", "x".repeat(HUGE));
        assert_eq!(err(&text), CustomDataError::StringTooLong);
        // Whitespace around a small document.
        let text = format!("{}{{\"ok\":true}}{}", " ".repeat(HUGE), "\n".repeat(1000));
        assert_eq!(ok(&text).canonical_json(), r#"{"ok":true}"#);
        // Millions of elements and members (smaller here only to keep unoptimised test builds
        // quick; see `hundred_megabytes_of_elements`). Arrays are pruned while parsing, so memory
        // stays small.
        assert_eq!(
            err(&long_array("0", 16 << 20)),
            CustomDataError::ArrayTooLong
        );
        assert_eq!(
            err(&long_array(r#"{"b":[1,2,3]}"#, 16 << 20)),
            CustomDataError::ArrayTooLong
        );
        let members: Vec<String> = (0..1_000_000).map(|i| format!("\"{i}\":{i}")).collect();
        assert_eq!(
            err(&format!("{{{}}}", members.join(","))),
            CustomDataError::TooManyProperties
        );
        // Generous: quadratic behaviour on these sizes would take hours.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(120),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    #[ignore = "slow without optimisations; run with --ignored (or in release)"]
    fn hundred_megabytes_of_elements() {
        const HUGE: usize = 100 << 20;
        let started = std::time::Instant::now();
        assert_eq!(err(&long_array("0", HUGE)), CustomDataError::ArrayTooLong);
        assert_eq!(
            err(&long_array(r#"{"b":[1,2,3]}"#, HUGE)),
            CustomDataError::ArrayTooLong
        );
        assert_eq!(
            err(&long_array(r#"{"x":"y"}"#, HUGE)),
            CustomDataError::ArrayTooLong
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(300),
            "{:?}",
            started.elapsed()
        );
    }
}
