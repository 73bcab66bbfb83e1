//! Hashes the backend computes: the result content fingerprint (for duplicate and conflict
//! detection) and an independent re-computation of an admission snapshot's `payloadHash`
//! (docs/arena-behaviour.md#the-snapshot), reported for debugging but never used to reject a
//! snapshot.

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub use nexori_protocol::payload_hash::admission_payload_hash;
pub(crate) use nexori_protocol::payload_hash::snapshot_hash;
#[cfg(test)]
use nexori_protocol::payload_hash::{gson_compact, java_case_insensitive};

fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// `value` with every object's keys sorted (recursively).
fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let mut out = Map::new();
            for k in keys {
                out.insert(k.clone(), canonical(&map[k]));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// Fingerprint of what a result *says*: SHA-256 of the canonical JSON (keys sorted, players sorted by
/// `playerUuid`) of the body without the per-attempt or per-sender fields `resultId`,
/// `sentAtEpochMs`, `endedAtEpochMs` and `serverId`. Two results with the same fingerprint report the
/// same outcome of the same match.
pub(crate) fn result_fingerprint(body: &Map<String, Value>) -> String {
    let mut content = body.clone();
    for volatile in ["resultId", "sentAtEpochMs", "endedAtEpochMs", "serverId"] {
        content.remove(volatile);
    }
    if let Some(Value::Array(players)) = content.get_mut("players") {
        players.sort_by(|a, b| {
            let ka = a
                .get("playerUuid")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase();
            let kb = b
                .get("playerUuid")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_lowercase();
            ka.cmp(&kb)
        });
    }
    sha256_hex(&canonical(&Value::Object(content)).to_string())
}

/// Result of re-computing a snapshot's `payloadHash`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum PayloadHashCheck {
    /// Equal to the documented hash (docs/arena-behaviour.md#the-snapshot).
    Matches,
    /// Equal to the documented hash computed without Gson's HTML-safe escaping (the same unless a
    /// hashed string contains `<`, `>`, `&`, `=`, `'`, U+2028 or U+2029).
    MatchesWithoutHtmlEscaping,
    /// Equal to the documented hash with `reportingServerConnectionAddress` added after
    /// `reportingServerId`.
    MatchesWithConnectionAddress,
    /// Both variations above.
    MatchesWithConnectionAddressWithoutHtmlEscaping,
    /// Neither variant (informational only: the snapshot is still processed).
    Mismatch,
}

impl PayloadHashCheck {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PayloadHashCheck::Matches => "MATCHES",
            PayloadHashCheck::MatchesWithoutHtmlEscaping => "MATCHES_WITHOUT_HTML_ESCAPING",
            PayloadHashCheck::MatchesWithConnectionAddress => "MATCHES_WITH_CONNECTION_ADDRESS",
            PayloadHashCheck::MatchesWithConnectionAddressWithoutHtmlEscaping => {
                "MATCHES_WITH_CONNECTION_ADDRESS_WITHOUT_HTML_ESCAPING"
            }
            PayloadHashCheck::Mismatch => "MISMATCH",
        }
    }
}

/// Re-computes the snapshot hash and compares it (case-insensitively) with the body's `payloadHash`.
pub(crate) fn check_payload_hash(body: &Map<String, Value>) -> PayloadHashCheck {
    let sent = body
        .get("payloadHash")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_lowercase();
    [
        (false, true, PayloadHashCheck::Matches),
        (false, false, PayloadHashCheck::MatchesWithoutHtmlEscaping),
        (true, true, PayloadHashCheck::MatchesWithConnectionAddress),
        (
            true,
            false,
            PayloadHashCheck::MatchesWithConnectionAddressWithoutHtmlEscaping,
        ),
    ]
    .into_iter()
    .find(|(address, html_safe, _)| sent == snapshot_hash(body, *address, *html_safe))
    .map_or(PayloadHashCheck::Mismatch, |(_, _, check)| check)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gson_escaping() {
        assert_eq!(
            gson_compact(&json!({"a": "<x=&'>"})),
            r#"{"a":"\u003cx\u003d\u0026\u0027\u003e"}"#
        );
    }

    #[test]
    fn case_insensitive_sort() {
        let mut v = vec!["b", "A", "a", "C"];
        v.sort_by(|a, b| java_case_insensitive(a, b));
        assert_eq!(v, vec!["A", "a", "b", "C"]);
    }

    #[test]
    fn fingerprint_ignores_volatile_fields_and_order() {
        let a = json!({"resultId": "1", "sentAtEpochMs": 1, "players": [{"playerUuid": "b"}, {"playerUuid": "a"}], "reason": "x"});
        let b = json!({"reason": "x", "resultId": "2", "sentAtEpochMs": 2, "players": [{"playerUuid": "a"}, {"playerUuid": "b"}]});
        assert_eq!(
            result_fingerprint(a.as_object().unwrap()),
            result_fingerprint(b.as_object().unwrap())
        );
        let c = json!({"reason": "y", "players": [{"playerUuid": "a"}, {"playerUuid": "b"}]});
        assert_ne!(
            result_fingerprint(a.as_object().unwrap()),
            result_fingerprint(c.as_object().unwrap())
        );
    }

    /// Known answer, derived by hand: the canonical text of the body below without `resultId`,
    /// `sentAtEpochMs`, `endedAtEpochMs` and `serverId`, keys sorted at every level, players
    /// sorted by lowercased `playerUuid` (their own case kept), no HTML escaping:
    ///
    /// ```text
    /// printf '%s' '{"customData":{"a":{"b":[3,{"c":5,"d":4}],"y":2},"z":1},"externalMatchId":"ext-1","localMatchId":"m1","players":[{"outcome":"WIN","playerUuid":"aaaaaaaa-0000-4000-8000-000000000000","reason":"<won>"},{"outcome":"LOSS","playerUuid":"BBBBBBBB-0000-4000-8000-000000000000","reason":""}],"reason":"done","schemaVersion":1}' | sha256sum
    /// ```
    #[test]
    fn fingerprint_known_answer() {
        let body = json!({"schemaVersion": 1, "resultId": "r-1", "sentAtEpochMs": 5, "serverId": "s",
            "localMatchId": "m1", "externalMatchId": "ext-1",
            "players": [
                {"playerUuid": "BBBBBBBB-0000-4000-8000-000000000000", "outcome": "LOSS", "reason": ""},
                {"playerUuid": "aaaaaaaa-0000-4000-8000-000000000000", "outcome": "WIN", "reason": "<won>"}
            ],
            "reason": "done", "customData": {"z": 1, "a": {"y": 2, "b": [3, {"d": 4, "c": 5}]}},
            "endedAtEpochMs": 9});
        assert_eq!(
            result_fingerprint(body.as_object().unwrap()),
            "14b3a077bba5b3be3d3b86668c3f71ae1d0e62e4ff682a686db96e7bba9a51f4"
        );
    }

    /// The backend recognises each variant by the hand-derived hashes of
    /// `nexori_protocol::payload_hash::vectors` (the publisher's tests pin the same values).
    #[test]
    fn payload_hash_variants() {
        use nexori_protocol::payload_hash::vectors::*;
        let mut body = edge_cases();
        for (hash, expected) in [
            (EDGE_CASES, PayloadHashCheck::Matches),
            (
                EDGE_CASES_PLAIN,
                PayloadHashCheck::MatchesWithoutHtmlEscaping,
            ),
            (
                EDGE_CASES_WITH_ADDRESS,
                PayloadHashCheck::MatchesWithConnectionAddress,
            ),
            (
                EDGE_CASES_WITH_ADDRESS_PLAIN,
                PayloadHashCheck::MatchesWithConnectionAddressWithoutHtmlEscaping,
            ),
            // Compared case-insensitively.
            (&EDGE_CASES.to_uppercase(), PayloadHashCheck::Matches),
        ] {
            body["payloadHash"] = Value::from(hash);
            assert_eq!(check_payload_hash(&body), expected, "{hash}");
        }
        body["payloadHash"] = Value::from("abc");
        assert_eq!(check_payload_hash(&body), PayloadHashCheck::Mismatch);
        // The docs' own example hash is an illustration: it matches no variant.
        assert_eq!(
            check_payload_hash(&docs_example()),
            PayloadHashCheck::Mismatch
        );
        let mut docs = docs_example();
        docs["payloadHash"] = Value::from(DOCS_EXAMPLE);
        assert_eq!(check_payload_hash(&docs), PayloadHashCheck::Matches);
        // Reservation ids are hashed sorted case-insensitively, whatever the body order.
        let mut reordered = edge_cases();
        reordered["consumedAdmissionReservationIds"] = json!(["Res-A", "res-a", "res-b"]);
        assert_eq!(admission_payload_hash(&reordered), EDGE_CASES);
    }
}
