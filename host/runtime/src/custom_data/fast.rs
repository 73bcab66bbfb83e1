//! Validation while parsing: the path nearly every customData document takes.
//!
//! One pass over the guest's bytes checks every customData limit
//! (docs/arena-behaviour.md#customdata-rules) and writes the canonical text (D8) as it goes,
//! without building a `Value`: no allocation per key or string, no hashing, no second walk. That is
//! what lets validation cost less than serde_json merely parsing the same bytes into a `Value` (see
//! BENCHMARKS.md).
//!
//! It only ever answers for documents that are valid and plain. Anything else (a syntax error, a
//! limit exceeded, a repeated key, a root that is not an object, an escape it would rather not
//! decode itself) makes it answer `None`, and the caller runs the full parser, which produces the
//! exact error and the exact pruning the reference runtime's behaviour needs. Answering `None`
//! costs time only, so every rule here errs that way; the property tests check that whenever this
//! answers, the answer is the full parser's.

use std::cmp::Ordering;
use std::ops::Range;

use serde_json::Number;
use serde_json::ser::{CompactFormatter, Formatter};

use super::{
    MAX_ARRAY_LENGTH, MAX_BYTES, MAX_DEPTH, MAX_PROPERTIES, MAX_PROPERTY_NAME_LENGTH,
    MAX_STRING_LENGTH, utf16_cmp_bytes, utf16_len_exceeds, write_number, write_str,
};

/// The canonical text of `text` if it is a valid customData object that this pass handles;
/// `None` means "use the full parser".
pub(super) fn canonical(text: &[u8]) -> Option<String> {
    let mut parser = Parser {
        src: text,
        pos: 0,
        out: Vec::with_capacity(text.len().min(MAX_BYTES + 1)),
        properties: 0,
        members: Vec::new(),
        keys: Vec::new(),
        scratch: Vec::new(),
    };
    parser.whitespace();
    if parser.peek()? != b'{' {
        return None;
    }
    parser.object(1)?;
    parser.whitespace();
    if parser.pos != text.len() || parser.out.len() > MAX_BYTES {
        return None;
    }
    // Only UTF-8 went in (checked, or copied from a `&str`), and only UTF-8 came out.
    String::from_utf8(parser.out).ok()
}

/// One member of an object being parsed: its trimmed name (a range of [`Parser::keys`]) and where
/// its `"name":value` text sits in [`Parser::out`].
struct Member {
    key: Range<usize>,
    text: Range<usize>,
    null: bool,
}

struct Parser<'a> {
    src: &'a [u8],
    pos: usize,
    /// The canonical text written so far.
    out: Vec<u8>,
    /// Object members seen in the whole tree (the limit counts them across every object).
    properties: usize,
    /// Members of the objects currently open, innermost last.
    members: Vec<Member>,
    /// Trimmed member names, decoded, back to back.
    keys: Vec<u8>,
    /// Where an object's members are copied while they are put in canonical order.
    scratch: Vec<u8>,
}

/// A string token: either its bytes in the source, when it holds no escape (so the source bytes
/// are its value and, since they hold no `"`, `\` or control character, also its serde_json
/// output), or its decoded value.
enum Token {
    Plain(Range<usize>),
    Decoded(String),
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }

    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        self.whitespace();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// One element at `depth`; answers whether it was `null`.
    fn value(&mut self, depth: usize) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.whitespace();
        match self.peek()? {
            b'{' => self.object(depth).map(|()| false),
            b'[' => self.array(depth).map(|()| false),
            b'"' => {
                let token = self.string()?;
                if utf16_len_exceeds(self.bytes(&token), MAX_STRING_LENGTH) {
                    return None;
                }
                self.write_token(&token);
                Some(false)
            }
            b't' => self.literal(b"true").map(|()| false),
            b'f' => self.literal(b"false").map(|()| false),
            b'n' => self.literal(b"null").map(|()| true),
            b'-' | b'0'..=b'9' => self.number().map(|()| false),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        self.src[self.pos..].starts_with(word).then(|| {
            self.pos += word.len();
            self.out.extend_from_slice(word);
        })
    }

    /// An object at `depth`, opening `{` next. Members are written in the guest's order, then
    /// moved into canonical order if they are not in it already.
    fn object(&mut self, depth: usize) -> Option<()> {
        self.pos += 1;
        self.out.push(b'{');
        let body = self.out.len();
        let first = self.members.len();
        self.items(b'}', |parser, _| parser.member(depth))?;
        self.order_members(first, body)?;
        self.members.truncate(first);
        self.out.push(b'}');
        Some(())
    }

    /// One `"name": value` member of an object at `depth`.
    fn member(&mut self, depth: usize) -> Option<()> {
        self.whitespace();
        if self.peek()? != b'"' {
            return None;
        }
        let name = self.string()?;
        let src = self.src;
        let trimmed = trim(match &name {
            Token::Plain(range) => &src[range.clone()],
            Token::Decoded(s) => s.as_bytes(),
        });
        if trimmed.is_empty() || utf16_len_exceeds(trimmed, MAX_PROPERTY_NAME_LENGTH) {
            return None;
        }
        self.properties += 1;
        if self.properties > MAX_PROPERTIES {
            return None;
        }
        let key = self.keys.len()..self.keys.len() + trimmed.len();
        self.keys.extend_from_slice(trimmed);
        let text_start = self.out.len();
        match &name {
            // A substring of a string with nothing to escape has nothing to escape.
            Token::Plain(_) => {
                self.out.push(b'"');
                self.out.extend_from_slice(trimmed);
                self.out.push(b'"');
            }
            Token::Decoded(_) => write_str(&mut self.out, std::str::from_utf8(trimmed).ok()?),
        }
        self.expect(b':')?;
        self.out.push(b':');
        let null = self.value(depth + 1)?;
        self.members.push(Member {
            key,
            text: text_start..self.out.len(),
            null,
        });
        Some(())
    }

    /// Puts the members `self.members[first..]`, whose text starts at `self.out[body..]`, into
    /// canonical order: names in UTF-16 order, `null` members left out. Gives up on a repeated
    /// name, where which member wins is the full parser's business.
    fn order_members(&mut self, first: usize, body: usize) -> Option<()> {
        let keys = &self.keys;
        let members = &mut self.members[first..];
        let name = |m: &Member| &keys[m.key.clone()];
        let canonical = members
            .windows(2)
            .all(|pair| utf16_cmp_bytes(name(&pair[0]), name(&pair[1])) == Ordering::Less)
            && members.iter().all(|m| !m.null);
        if canonical {
            return Some(());
        }
        members.sort_by(|a, b| utf16_cmp_bytes(name(a), name(b)));
        if members
            .windows(2)
            .any(|pair| name(&pair[0]) == name(&pair[1]))
        {
            return None;
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.out[body..]);
        self.out.truncate(body);
        for (written, member) in members.iter().filter(|m| !m.null).enumerate() {
            if written > 0 {
                self.out.push(b',');
            }
            let text = member.text.start - body..member.text.end - body;
            self.out.extend_from_slice(&self.scratch[text]);
        }
        Some(())
    }

    /// An array at `depth`, opening `[` next.
    fn array(&mut self, depth: usize) -> Option<()> {
        self.pos += 1;
        self.out.push(b'[');
        self.items(b']', |parser, index| {
            if index >= MAX_ARRAY_LENGTH {
                return None;
            }
            parser.value(depth + 1).map(|_| ())
        })?;
        self.out.push(b']');
        Some(())
    }

    /// The comma-separated items of a container whose opening bracket was just read, up to and
    /// including `close`; `item` reads the item at each index and writes its text, and the commas
    /// between them are written here.
    fn items(
        &mut self,
        close: u8,
        mut item: impl FnMut(&mut Self, usize) -> Option<()>,
    ) -> Option<()> {
        self.whitespace();
        if self.peek()? == close {
            self.pos += 1;
            return Some(());
        }
        for index in 0.. {
            item(self, index)?;
            self.whitespace();
            match self.peek()? {
                b',' => self.pos += 1,
                byte if byte == close => {
                    self.pos += 1;
                    break;
                }
                _ => return None,
            }
            if self.out.len() > MAX_BYTES {
                return None;
            }
            self.out.push(b',');
        }
        Some(())
    }

    /// A string token, opening `"` next.
    fn string(&mut self) -> Option<Token> {
        let start = self.pos + 1;
        let rest = &self.src[start..];
        let end = string_end(rest)?;
        match rest[end] {
            b'"' => {
                self.pos = start + end + 1;
                Some(Token::Plain(start..start + end))
            }
            b'\\' => {
                // Escapes are rare in machine-written data: find the closing quote and let
                // serde_json decode the token, so its rules (surrogates included) apply as they are.
                let mut at = start + end;
                loop {
                    match *self.src.get(at)? {
                        b'\\' => at += 2,
                        b'"' => break,
                        _ => at += 1,
                    }
                }
                let decoded = serde_json::from_slice::<String>(&self.src[self.pos..=at]).ok()?;
                self.pos = at + 1;
                Some(Token::Decoded(decoded))
            }
            // A raw control character: not JSON.
            _ => None,
        }
    }

    fn bytes<'t>(&'t self, token: &'t Token) -> &'t [u8] {
        match token {
            Token::Plain(range) => &self.src[range.clone()],
            Token::Decoded(s) => s.as_bytes(),
        }
    }

    fn write_token(&mut self, token: &Token) {
        match token {
            Token::Plain(range) => {
                self.out.push(b'"');
                self.out.extend_from_slice(&self.src[range.clone()]);
                self.out.push(b'"');
            }
            Token::Decoded(s) => write_str(&mut self.out, s),
        }
    }

    /// A number token. Plain integers short enough to fit any integer type are copied as they
    /// are, which is what serde_json's round trip gives; anything else (fractions, exponents, `-0`,
    /// long integers) is read by serde_json itself, so its parsing and formatting rules apply.
    fn number(&mut self) -> Option<()> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        let digits_start = self.pos;
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        let integer_digits = self.pos - digits_start;
        let mut plain = true;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
            plain = false;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
            plain = false;
        }
        let token = &self.src[start..self.pos];
        if plain && integer_digits <= 18 && token != b"-0" {
            self.out.extend_from_slice(token);
        } else if let Some(value) = exact_float(token) {
            // Writing into a Vec cannot fail.
            let _ = CompactFormatter.write_f64(&mut self.out, value);
        } else {
            let number = serde_json::from_slice::<Number>(token).ok()?;
            write_number(&mut self.out, &number);
        }
        Some(())
    }

    fn digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }

    fn required_digits(&mut self) -> Option<()> {
        let start = self.pos;
        self.digits();
        (self.pos > start).then_some(())
    }
}

/// Where the string body `rest` (after its opening quote) first holds a `"`, a `\\` or a control
/// character, eight bytes at a time: string values are most of a typical document.
fn string_end(rest: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut at = 0;
    while let Some(chunk) = rest.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?);
        let quote = word ^ (ONES * u64::from(b'"'));
        let backslash = word ^ (ONES * u64::from(b'\\'));
        // The classic "has a zero byte" test, once per kind; bytes >= 0x80 never match. Only the
        // lowest flagged byte is reliable, and only it is used.
        let found = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | word.wrapping_sub(ONES * 0x20) & !word)
            & HIGH;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    rest[at..]
        .iter()
        .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
        .map(|i| at + i)
}

/// The value of a decimal token when it is exactly representable by Clinger's fast path: at most
/// 15 significant digits (so the digits are an exact `f64`) scaled by a power of ten that is
/// itself exact. One correctly rounded operation then gives the correctly rounded value, which is
/// what serde_json's `float_roundtrip` parser gives too; anything else is left to serde_json.
fn exact_float(token: &[u8]) -> Option<f64> {
    const POW10: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let (negative, token) = match token.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, token),
    };
    let (number, exponent) = match token.iter().position(|&b| b == b'e' || b == b'E') {
        Some(e) => (
            &token[..e],
            std::str::from_utf8(&token[e + 1..])
                .ok()?
                .parse::<i32>()
                .ok()?,
        ),
        None => (token, 0),
    };
    let mut mantissa: u64 = 0;
    let mut digits = 0;
    let mut scale = exponent;
    let mut fraction = false;
    for &b in number {
        if b == b'.' {
            fraction = true;
            continue;
        }
        if digits > 0 || b != b'0' {
            digits += 1;
        }
        if digits > 15 {
            return None;
        }
        mantissa = mantissa * 10 + u64::from(b - b'0');
        if fraction {
            scale = scale.saturating_sub(1);
        }
    }
    let mantissa = mantissa as f64;
    let value = match usize::try_from(scale.unsigned_abs())
        .ok()
        .and_then(|i| POW10.get(i))
    {
        Some(power) if scale >= 0 => mantissa * power,
        Some(power) => mantissa / power,
        None => return None,
    };
    Some(if negative { -value } else { value })
}

/// Java's `String.trim()` on UTF-8 bytes: every byte of a multi-byte character is above 0x20, so
/// trimming bytes trims characters.
fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|&b| b > 0x20).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| b > 0x20)
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The benchmark's document and the host's common case must take this path, not the fallback.
    #[test]
    fn answers_for_plain_documents() {
        let text = r#"{"z": [1, -2, 3.50, 1e2, "s", true, false, {"b": null, "a": {}}], " a ": "x",
                       "m": {"k": "\u00e9\n"}, "n": null}"#;
        assert_eq!(
            canonical(text.as_bytes()).as_deref(),
            Some(r#"{"a":"x","m":{"k":"é\n"},"z":[1,-2,3.5,100.0,"s",true,false,{"a":{}}]}"#)
        );
        assert_eq!(canonical(b" {} ").as_deref(), Some("{}"));
    }

    /// Everything the full parser must decide gets `None`.
    #[test]
    fn leaves_the_rest_to_the_full_parser() {
        for text in [
            "",
            "null",
            "[]",
            "{",
            "{} x",
            r#"{"a":1,}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":1e400}"#,
            r#"{"a":"\ud800"}"#,
            "{\"a\":\"\u{1}\"}",
            r#"{"a":1,"a":2}"#,
            r#"{"a":1," a":2}"#,
            r#"{" ":1}"#,
            r#"{"a":[[[[[[[[1]]]]]]]]}"#,
            r#"{"a":tru}"#,
        ] {
            assert_eq!(canonical(text.as_bytes()), None, "{text}");
        }
    }
}
