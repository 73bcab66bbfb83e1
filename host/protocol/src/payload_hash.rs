//! The admission snapshot `payloadHash` (docs/arena-behaviour.md#the-snapshot), shared by the
//! host's publisher and the reference backend's check: the listed fields in order, the two id lists
//! re-sorted with Java's `CASE_INSENSITIVE_ORDER`, Gson's compact HTML-safe JSON, SHA-256 in
//! lowercase hex.

use std::cmp::Ordering;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// SHA-256 of `text` in lowercase hex, the form of every Nexori hash.
pub fn sha256_hex(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// Bytes in lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

/// Java `String.CASE_INSENSITIVE_ORDER`: compares UTF-16 code units after upper- then lower-casing
/// each unit.
pub fn java_case_insensitive(a: &str, b: &str) -> Ordering {
    fn fold(unit: u16, upper: bool) -> u16 {
        let Some(c) = char::from_u32(u32::from(unit)) else {
            return unit;
        };
        let mut mapped = if upper {
            c.to_uppercase().collect::<Vec<_>>()
        } else {
            c.to_lowercase().collect()
        };
        match (mapped.len(), mapped.pop()) {
            (1, Some(m)) if (m as u32) <= 0xFFFF => m as u32 as u16,
            _ => unit,
        }
    }
    let ua: Vec<u16> = a.encode_utf16().collect();
    let ub: Vec<u16> = b.encode_utf16().collect();
    for (&x, &y) in ua.iter().zip(ub.iter()) {
        if x == y {
            continue;
        }
        let (xu, yu) = (fold(x, true), fold(y, true));
        if xu == yu {
            continue;
        }
        let (xl, yl) = (fold(xu, false), fold(yu, false));
        if xl != yl {
            return xl.cmp(&yl);
        }
    }
    ua.len().cmp(&ub.len())
}

/// Compact JSON as Gson writes it with its default HTML-safe escaping.
pub fn gson_compact(value: &Value) -> String {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003d"),
            '\'' => out.push_str("\\u0027"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The payload-hash key order (docs/arena-behaviour.md#the-snapshot;
/// `reportingServerConnectionAddress` is not part of it in the stored builder; whether a newer
/// builder adds it after `reportingServerId` is unconfirmed, so both variants are tried).
pub const HASH_KEYS: [&str; 27] = [
    "schemaVersion",
    "stateUpdateId",
    "admissionStateSequence",
    "sentAtEpochMs",
    "stateExpiresAtEpochMs",
    "reportingServerId",
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

/// The hash of a snapshot `body` over its hashed fields; `with_address` keeps
/// `serverConnectionAddress` among them, `html_safe` escapes as Gson's default writer does.
pub fn snapshot_hash(body: &Map<String, Value>, with_address: bool, html_safe: bool) -> String {
    let mut obj = Map::new();
    for key in HASH_KEYS {
        let mut value = body.get(key).cloned().unwrap_or(Value::Null);
        if (key == "consumedAdmissionReservationIds" || key == "coalescedChangeReasons")
            && let Value::Array(items) = &mut value
        {
            items.sort_by(|a, b| {
                java_case_insensitive(a.as_str().unwrap_or(""), b.as_str().unwrap_or(""))
            });
        }
        obj.insert(key.to_owned(), value);
        if with_address && key == "reportingServerId" {
            let address = body
                .get("reportingServerConnectionAddress")
                .cloned()
                .unwrap_or(Value::Null);
            obj.insert("reportingServerConnectionAddress".to_owned(), address);
        }
    }
    let value = Value::Object(obj);
    sha256_hex(&if html_safe {
        gson_compact(&value)
    } else {
        value.to_string()
    })
}

/// The snapshot payload hash (docs/arena-behaviour.md#the-snapshot) of a body (what a conforming
/// host would send); for tests and tooling.
pub fn admission_payload_hash(body: &Map<String, Value>) -> String {
    snapshot_hash(body, false, true)
}

/// Known-answer vectors for the snapshot hash, shared by the publisher's and the backend's tests.
/// The hashes were derived by hand from the canonical text docs/arena-behaviour.md#the-snapshot
/// describes (written out next to each), not with this module.
#[doc(hidden)]
pub mod vectors {
    use serde_json::{Map, Value, json};

    pub fn object(value: Value) -> Map<String, Value> {
        value.as_object().expect("an object").clone()
    }

    /// The example request of Nexori's public admission-state endpoint documentation. Its
    /// `payloadHash` there (8f14c87a…) matches none of the four variants: it is an illustration.
    /// Canonical text (no character needs escaping, so HTML-safe and plain are the same):
    ///
    /// ```text
    /// printf '%s' '{"schemaVersion":1,"stateUpdateId":"0b386f76-2e41-4b35-a4ba-6b0d8dc5a6f2","admissionStateSequence":17,"sentAtEpochMs":1760000000000,"stateExpiresAtEpochMs":1760000030000,"reportingServerId":"25bdb01c-97f2-42d4-998a-4ef7b04d71c3","matchId":"3bb28e1b-b83a-459a-ad13-1961acc7759b","externalMatchId":"backend-match-001","queueId":"capture_zone_queue","arenaId":"capture_zone_arena","backfillEnabled":true,"backfillMode":"ACTIVE_WINDOW","backfillWindowSeconds":60,"matchLifecycleStatus":"ACTIVE","admissionOpen":true,"admissionOpenUntilEpochMs":1760000060000,"admissionCapacity":8,"admittedSlotCount":7,"availableAdmissionSlots":1,"initialRosterSize":6,"arrivedInitialPlayerCount":6,"unfilledInitialRosterCount":0,"consumedAdmissionReservationIds":["reservation-a6d8a0a4"],"admissionReportingClosed":false,"admissionReportingCloseReason":"","primaryChangeReason":"PLAYER_ARRIVED","coalescedChangeReasons":["PLAYER_ARRIVED"]}' | sha256sum
    /// ```
    ///
    /// With `"reportingServerConnectionAddress":"arena.example.com:21918"` inserted after
    /// `reportingServerId` (same command, that member added): [`DOCS_EXAMPLE_WITH_ADDRESS`].
    pub const DOCS_EXAMPLE: &str =
        "ee5cf0b92af20debf766c84c309d4aa57bcfc4b9e7ce0f82572b35f16c560c4b";
    pub const DOCS_EXAMPLE_WITH_ADDRESS: &str =
        "c746d6fce035babef1bdd25cd6247c6c7a7cb5281b7a48f0b81bd8f32ddc44b2";

    pub fn docs_example() -> Map<String, Value> {
        object(json!({
            "schemaVersion": 1,
            "stateUpdateId": "0b386f76-2e41-4b35-a4ba-6b0d8dc5a6f2",
            "admissionStateSequence": 17,
            "payloadHash": "8f14c87ab9f7d1caa3d8f04f89f40fbb02ff4cc33e8bb4d08c1e560c321aa2e9",
            "sentAtEpochMs": 1760000000000_i64,
            "stateExpiresAtEpochMs": 1760000030000_i64,
            "reportingServerId": "25bdb01c-97f2-42d4-998a-4ef7b04d71c3",
            "reportingServerConnectionAddress": "arena.example.com:21918",
            "matchId": "3bb28e1b-b83a-459a-ad13-1961acc7759b",
            "externalMatchId": "backend-match-001",
            "queueId": "capture_zone_queue",
            "arenaId": "capture_zone_arena",
            "backfillEnabled": true,
            "backfillMode": "ACTIVE_WINDOW",
            "backfillWindowSeconds": 60,
            "matchLifecycleStatus": "ACTIVE",
            "admissionOpen": true,
            "admissionOpenUntilEpochMs": 1760000060000_i64,
            "admissionCapacity": 8,
            "admittedSlotCount": 7,
            "availableAdmissionSlots": 1,
            "initialRosterSize": 6,
            "arrivedInitialPlayerCount": 6,
            "unfilledInitialRosterCount": 0,
            "consumedAdmissionReservationIds": ["reservation-a6d8a0a4"],
            "admissionReportingClosed": false,
            "admissionReportingCloseReason": "",
            "primaryChangeReason": "PLAYER_ARRIVED",
            "coalescedChangeReasons": ["PLAYER_ARRIVED"]
        }))
    }

    /// Every rule at once: members out of hash order; Gson's HTML-safe escapes (`=` `<` `>` `&`
    /// `'` and U+2028); a non-ASCII character written as it is; both id lists re-sorted with Java's
    /// `CASE_INSENSITIVE_ORDER`, stably ("Res-A" and "res-a" compare equal and keep their order).
    /// HTML-safe canonical text:
    ///
    /// ```text
    /// printf '%s' '{"schemaVersion":1,"stateUpdateId":"u-2","admissionStateSequence":2,"sentAtEpochMs":1760000000000,"stateExpiresAtEpochMs":1760000030000,"reportingServerId":"25bdb01c-97f2-42d4-998a-4ef7b04d71c3","matchId":"m\u003d2","externalMatchId":"ext\u003c2\u003e","queueId":"capture_zone_queue","arenaId":"capture_zone_arena","backfillEnabled":true,"backfillMode":"ACTIVE_WINDOW","backfillWindowSeconds":60,"matchLifecycleStatus":"ACTIVE","admissionOpen":false,"admissionOpenUntilEpochMs":0,"admissionCapacity":8,"admittedSlotCount":8,"availableAdmissionSlots":0,"initialRosterSize":6,"arrivedInitialPlayerCount":6,"unfilledInitialRosterCount":0,"consumedAdmissionReservationIds":["Res-A","res-a","res-b"],"admissionReportingClosed":true,"admissionReportingCloseReason":"a \u0026 b\u0027s","primaryChangeReason":"café\u2028x","coalescedChangeReasons":["match_started","PLAYER_ARRIVED"]}' | sha256sum
    /// ```
    ///
    /// Plain (no HTML escaping; é and U+2028 as UTF-8 bytes, so the command holds only ASCII):
    ///
    /// ```text
    /// printf '{"schemaVersion":1,"stateUpdateId":"u-2","admissionStateSequence":2,"sentAtEpochMs":1760000000000,"stateExpiresAtEpochMs":1760000030000,"reportingServerId":"25bdb01c-97f2-42d4-998a-4ef7b04d71c3","matchId":"m=2","externalMatchId":"ext<2>","queueId":"capture_zone_queue","arenaId":"capture_zone_arena","backfillEnabled":true,"backfillMode":"ACTIVE_WINDOW","backfillWindowSeconds":60,"matchLifecycleStatus":"ACTIVE","admissionOpen":false,"admissionOpenUntilEpochMs":0,"admissionCapacity":8,"admittedSlotCount":8,"availableAdmissionSlots":0,"initialRosterSize":6,"arrivedInitialPlayerCount":6,"unfilledInitialRosterCount":0,"consumedAdmissionReservationIds":["Res-A","res-a","res-b"],"admissionReportingClosed":true,"admissionReportingCloseReason":"a & b\047s","primaryChangeReason":"caf\303\251\342\200\250x","coalescedChangeReasons":["match_started","PLAYER_ARRIVED"]}' | sha256sum
    /// ```
    ///
    /// The `_WITH_ADDRESS` hashes: the same two commands with
    /// `"reportingServerConnectionAddress":"arena.example.com:21918"` inserted after
    /// `reportingServerId`.
    pub const EDGE_CASES: &str = "f723d78678bc921ed487c650a73f7dfc45c98dc5c2b8211fc8735cb534b5a9bf";
    pub const EDGE_CASES_PLAIN: &str =
        "ba35fe8a7d66ca0146a8a0dd977d089308f77fced5bb74142770e43f0794df6e";
    pub const EDGE_CASES_WITH_ADDRESS: &str =
        "29c620563dc5a0dfbf0f400ce75b0ae76aa844ddabaca142c168ee86d0ca5334";
    pub const EDGE_CASES_WITH_ADDRESS_PLAIN: &str =
        "8c65e3dc5fabb3dd564e1b671e839a63bde28bea6c0120808d0bbefb7a1e0d41";

    pub fn edge_cases() -> Map<String, Value> {
        object(json!({
            "coalescedChangeReasons": ["PLAYER_ARRIVED", "match_started"],
            "schemaVersion": 1,
            "payloadHash": "",
            "stateUpdateId": "u-2",
            "admissionStateSequence": 2,
            "sentAtEpochMs": 1760000000000_i64,
            "stateExpiresAtEpochMs": 1760000030000_i64,
            "reportingServerConnectionAddress": "arena.example.com:21918",
            "reportingServerId": "25bdb01c-97f2-42d4-998a-4ef7b04d71c3",
            "matchId": "m=2",
            "externalMatchId": "ext<2>",
            "queueId": "capture_zone_queue",
            "arenaId": "capture_zone_arena",
            "backfillEnabled": true,
            "backfillMode": "ACTIVE_WINDOW",
            "backfillWindowSeconds": 60,
            "matchLifecycleStatus": "ACTIVE",
            "admissionOpen": false,
            "admissionOpenUntilEpochMs": 0,
            "admissionCapacity": 8,
            "admittedSlotCount": 8,
            "availableAdmissionSlots": 0,
            "initialRosterSize": 6,
            "arrivedInitialPlayerCount": 6,
            "unfilledInitialRosterCount": 0,
            "consumedAdmissionReservationIds": ["res-b", "Res-A", "res-a"],
            "admissionReportingClosed": true,
            "admissionReportingCloseReason": "a & b's",
            "primaryChangeReason": "café\u{2028}x"
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::vectors::*;
    use super::*;

    #[test]
    fn the_hash_of_the_docs_example_is_the_hand_derived_one() {
        let body = docs_example();
        assert_eq!(admission_payload_hash(&body), DOCS_EXAMPLE);
        assert_eq!(snapshot_hash(&body, false, false), DOCS_EXAMPLE);
        assert_eq!(snapshot_hash(&body, true, true), DOCS_EXAMPLE_WITH_ADDRESS);
    }

    #[test]
    fn escaping_order_and_sorting_give_the_hand_derived_hashes() {
        let body = edge_cases();
        assert_eq!(admission_payload_hash(&body), EDGE_CASES);
        assert_eq!(snapshot_hash(&body, false, true), EDGE_CASES);
        assert_eq!(snapshot_hash(&body, false, false), EDGE_CASES_PLAIN);
        assert_eq!(snapshot_hash(&body, true, true), EDGE_CASES_WITH_ADDRESS);
        assert_eq!(
            snapshot_hash(&body, true, false),
            EDGE_CASES_WITH_ADDRESS_PLAIN
        );
    }
}
