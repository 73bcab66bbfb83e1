//! The admission snapshot `payloadHash` of §4.4, shared by the host's publisher and the
//! reference backend's check: the listed fields in order, the two id lists re-sorted with Java's
//! `CASE_INSENSITIVE_ORDER`, Gson's compact HTML-safe JSON, SHA-256 in lowercase hex.

use std::cmp::Ordering;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

fn sha256_hex(text: &str) -> String {
    crate::runtime::results::hex(&Sha256::digest(text.as_bytes()))
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

/// The payload-hash key order of §4.4 (`reportingServerConnectionAddress` is not part of it in the
/// stored builder; whether a newer builder adds it after `reportingServerId` is unconfirmed, so both
/// variants are tried).
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

/// The §4.4 payload hash of a body (what a conforming host would send); for tests and tooling.
pub fn admission_payload_hash(body: &Map<String, Value>) -> String {
    snapshot_hash(body, false, true)
}
