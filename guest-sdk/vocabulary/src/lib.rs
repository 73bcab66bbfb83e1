//! The small vocabulary the Nexori host and its rules mods share: the Java constant names of the
//! enums both sides have ([`names`]), the limits the host enforces on what a mod sends
//! ([`limits`]), and the rule by which the host reads a constant name ([`parse_java_name`]).
//!
//! The host's match runtime (`nexori-runtime`) and the guest SDK (`nexori-sdk`) both build their
//! enums and checks from these items, so there is one copy of each to keep right rather than
//! two that can drift apart.
//!
//! This crate is compiled into every mod. It must depend on nothing (not even `std`: it is
//! `no_std`) and hold only what both sides genuinely have in common: enums only one side has keep
//! their names there.
#![no_std]
#![warn(missing_docs)]

pub mod limits;
pub mod names;

/// Finds `text` among `names` by the host's rule and returns its index: surrounding whitespace is
/// trimmed ([`str::trim`], i.e. Unicode white space), then names are compared ignoring ASCII case.
/// `None` when no name matches, blank text included.
///
/// With one of the [`names`] tables the index is the constant's position in WIT declaration
/// order, which is also the position of the matching Rust variant on either side.
///
/// ```
/// use nexori_vocabulary::{names, parse_java_name};
///
/// assert_eq!(parse_java_name(names::MATCH_RESULT_PLAYER_OUTCOME, " no_contest\n"), Some(3));
/// assert_eq!(parse_java_name(names::MATCH_RESULT_PLAYER_OUTCOME, "TIE"), None);
/// ```
pub fn parse_java_name(names: &[&str], text: &str) -> Option<usize> {
    let text = text.trim();
    names
        .iter()
        .position(|name| text.eq_ignore_ascii_case(name))
}

/// Whether `java_name` is the Rust variant name `variant` (UpperCamelCase) spelled as a Java
/// constant (SCREAMING_SNAKE_CASE): `NoContest` and `NO_CONTEST`, `Win` and `WIN`.
///
/// A `const fn`, so that the host's and the SDK's enum macros, which take a variant's name from
/// its position in a [`names`] table, can check at compile time that the positions line up.
///
/// ```
/// use nexori_vocabulary::is_java_name_of;
///
/// assert!(is_java_name_of("MATCH_NOT_BACKEND_DRIVEN", "MatchNotBackendDriven"));
/// assert!(!is_java_name_of("LOSS", "Win"));
/// ```
pub const fn is_java_name_of(java_name: &str, variant: &str) -> bool {
    let java = java_name.as_bytes();
    let rust = variant.as_bytes();
    let (mut j, mut r) = (0, 0);
    while r < rust.len() {
        let c = rust[r];
        if c.is_ascii_uppercase() && r > 0 {
            if j >= java.len() || java[j] != b'_' {
                return false;
            }
            j += 1;
        }
        if j >= java.len() || java[j] != c.to_ascii_uppercase() {
            return false;
        }
        j += 1;
        r += 1;
    }
    r > 0 && j == java.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["WIN", "LOSS", "NO_CONTEST"];

    #[test]
    fn parse_finds_the_exact_name() {
        assert_eq!(parse_java_name(NAMES, "WIN"), Some(0));
        assert_eq!(parse_java_name(NAMES, "LOSS"), Some(1));
        assert_eq!(parse_java_name(NAMES, "NO_CONTEST"), Some(2));
    }

    #[test]
    fn parse_trims_surrounding_white_space() {
        assert_eq!(parse_java_name(NAMES, " WIN "), Some(0));
        assert_eq!(parse_java_name(NAMES, "\tLOSS\r\n"), Some(1));
        // `str::trim` trims Unicode white space, not only ASCII.
        assert_eq!(parse_java_name(NAMES, "\u{3000}NO_CONTEST\u{a0}"), Some(2));
        // Only the ends: inner white space is part of the name.
        assert_eq!(parse_java_name(NAMES, "NO _CONTEST"), None);
    }

    #[test]
    fn parse_ignores_ascii_case() {
        assert_eq!(parse_java_name(NAMES, "win"), Some(0));
        assert_eq!(parse_java_name(NAMES, "No_Contest"), Some(2));
        assert_eq!(parse_java_name(NAMES, " loss "), Some(1));
        // Only ASCII case: a capital I with a dot above (U+0130) is not `I`.
        assert_eq!(parse_java_name(&["WIN"], "W\u{130}N"), None);
    }

    #[test]
    fn parse_rejects_unknown_and_empty_text() {
        assert_eq!(parse_java_name(NAMES, "TIE"), None);
        assert_eq!(parse_java_name(NAMES, "WINNER"), None);
        assert_eq!(parse_java_name(NAMES, "NO-CONTEST"), None);
        assert_eq!(parse_java_name(NAMES, ""), None);
        assert_eq!(parse_java_name(NAMES, "   "), None);
        assert_eq!(parse_java_name(&[], "WIN"), None);
    }

    #[test]
    fn parse_returns_the_first_of_equal_names() {
        assert_eq!(parse_java_name(&["A", "a"], "a"), Some(0));
    }

    #[test]
    fn java_names_of_variants() {
        assert!(is_java_name_of("WIN", "Win"));
        assert!(is_java_name_of("NO_CONTEST", "NoContest"));
        assert!(is_java_name_of("EXTERNAL_API", "ExternalApi"));
        assert!(!is_java_name_of("WIN", "Loss"));
        assert!(!is_java_name_of("NOCONTEST", "NoContest"));
        assert!(!is_java_name_of("NO_CONTEST_", "NoContest"));
        assert!(!is_java_name_of("NO_CONTES", "NoContest"));
        assert!(!is_java_name_of("win", "Win"));
        assert!(!is_java_name_of("", ""));
    }

    /// Every table holds distinct SCREAMING_SNAKE_CASE names (so the index `parse_java_name`
    /// returns is the only one that matches, whatever the case).
    #[test]
    fn tables_hold_distinct_java_constant_names() {
        use names::*;
        let tables = [
            PLAYER_PLACEMENT_OUTCOME,
            AFK_ACTIVITY_SOURCE,
            SET_AFK_DETECTION_POLICY_STATUS,
            SET_PLAYER_AFK_STATUS,
            MATCH_RESULT_PLAYER_OUTCOME,
            SET_PLAYER_OUTCOME_STATUS,
            SET_PLAYER_SPECTATOR_STATUS,
            RETURN_PLAYER_STATUS,
            MATCH_COMPLETION_STATUS,
            BACKEND_REPORT_STATUS,
            CLOSE_MATCH_ADMISSION_REASON,
            CLOSE_MATCH_ADMISSION_STATUS,
        ];
        for table in tables {
            assert!(!table.is_empty());
            for (i, name) in table.iter().enumerate() {
                assert!(
                    !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'),
                    "{name}"
                );
                assert_eq!(parse_java_name(table, name), Some(i), "{name}");
            }
        }
    }
    /// Each table is its WIT enum of `wit/types.wit`, case for case in declaration order
    /// (`no-contest` is `NO_CONTEST`).
    #[test]
    fn tables_follow_the_wit_enums() {
        use names::*;
        const WIT: &str = include_str!("../../../wit/types.wit");
        let tables: [(&str, &[&str]); 12] = [
            ("player-placement-outcome", PLAYER_PLACEMENT_OUTCOME),
            ("afk-activity-source", AFK_ACTIVITY_SOURCE),
            (
                "set-afk-detection-policy-status",
                SET_AFK_DETECTION_POLICY_STATUS,
            ),
            ("set-player-afk-status", SET_PLAYER_AFK_STATUS),
            ("match-result-player-outcome", MATCH_RESULT_PLAYER_OUTCOME),
            ("set-player-outcome-status", SET_PLAYER_OUTCOME_STATUS),
            ("set-player-spectator-status", SET_PLAYER_SPECTATOR_STATUS),
            ("return-player-status", RETURN_PLAYER_STATUS),
            ("match-completion-status", MATCH_COMPLETION_STATUS),
            ("backend-report-status", BACKEND_REPORT_STATUS),
            ("close-match-admission-reason", CLOSE_MATCH_ADMISSION_REASON),
            ("close-match-admission-status", CLOSE_MATCH_ADMISSION_STATUS),
        ];
        for (wit_name, table) in tables {
            let mut lines = WIT.lines().map(str::trim);
            assert!(
                lines.any(|line| line
                    .strip_prefix("enum ")
                    .and_then(|l| l.strip_suffix(" {"))
                    == Some(wit_name)),
                "enum {wit_name} is not in wit/types.wit"
            );
            let mut cases = lines
                .filter(|line| !line.is_empty() && !line.starts_with("//"))
                .take_while(|line| *line != "}")
                .map(|line| line.trim_end_matches(','));
            for name in table {
                let case = cases
                    .next()
                    .unwrap_or_else(|| panic!("{wit_name}: no case for {name}"));
                assert!(
                    case.len() == name.len()
                        && case.bytes().zip(name.bytes()).all(|(c, n)| if c == b'-' {
                            n == b'_'
                        } else {
                            c.to_ascii_uppercase() == n
                        }),
                    "{wit_name}: case `{case}` is not {name}"
                );
            }
            assert_eq!(
                cases.next(),
                None,
                "{wit_name} has more cases than the table"
            );
        }
    }
}
