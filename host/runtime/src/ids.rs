//! Identifiers as Nexori spells them: player UUIDs (Decision D11) and match ids (Decision D1).

use std::borrow::Cow;

use uuid::Uuid;

pub use crate::custom_data::{java_trim, utf16_len};

/// Parses a player UUID in any case. Surrounding whitespace is not stripped: the reference
/// rejects a padded UUID, and so do we.
pub fn parse_uuid(text: &str) -> Option<Uuid> {
    // `Uuid::try_parse` also takes the braced, urn and simple forms; Java's `UUID.fromString`
    // takes only the hyphenated one, and mods written against Java expect that.
    if text.len() != 36 {
        return None;
    }
    Uuid::try_parse(text).ok()
}

/// The canonical text of a UUID: lowercase and hyphenated.
pub fn uuid_text(uuid: &Uuid) -> String {
    uuid.hyphenated().to_string()
}

/// A match id as stored and looked up (D1): trimmed and lowercased. `None` when blank.
pub fn normalize_match_id(text: &str) -> Option<String> {
    match_key(text).map(Cow::into_owned)
}

/// [`normalize_match_id`] for a lookup: borrows when the id is already normalized, as every id
/// the host hands out is, so looking a match up on each game event allocates nothing.
pub fn match_key(text: &str) -> Option<Cow<'_, str>> {
    let trimmed = java_trim(text);
    if trimmed.is_empty() {
        None
    } else if trimmed
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        Some(Cow::Borrowed(trimmed))
    } else {
        Some(Cow::Owned(trimmed.to_lowercase()))
    }
}

/// Nexori's "normalize optional string": trimmed, blank becomes `""`.
pub fn normalize_text(text: &str) -> String {
    java_trim(text).to_string()
}

/// Whether a rules engine id is acceptable in a launch (docs/arena-behaviour.md#match-creation): at
/// most 64 characters of `[A-Za-z0-9_.-]`. Blank is allowed and reaches no listener.
pub fn is_valid_rules_engine_id(id: &str) -> bool {
    id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_accepted_in_any_case_and_written_lowercase() {
        let uuid = parse_uuid("AAAAAAAA-1111-2222-3333-BBBBBBBBBBBB").unwrap();
        assert_eq!(uuid_text(&uuid), "aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb");
        assert!(parse_uuid(" aaaaaaaa-1111-2222-3333-bbbbbbbbbbbb").is_none());
        assert!(parse_uuid("aaaaaaaa111122223333bbbbbbbbbbbb").is_none());
        assert!(parse_uuid("not-a-uuid").is_none());
    }

    #[test]
    fn match_ids_are_trimmed_and_lowercased() {
        assert_eq!(normalize_match_id("  M1 \t").as_deref(), Some("m1"));
        assert_eq!(normalize_match_id("   "), None);
    }

    #[test]
    fn rules_engine_ids_follow_the_launch_charset() {
        assert!(is_valid_rules_engine_id("capture_the_zone"));
        assert!(is_valid_rules_engine_id("a.b-c_9"));
        assert!(!is_valid_rules_engine_id("has space"));
        assert!(!is_valid_rules_engine_id(&"x".repeat(65)));
    }
}
