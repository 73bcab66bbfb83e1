//! The customData validator on arbitrary bytes: never panics, validating while parsing gives the
//! same answer as the full parser and walk, and what it accepts stays within the limits and is a
//! fixed point of canonicalisation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexori_runtime::custom_data::{self, CustomData, CustomDataError};
use serde_json::Value;

fn full_path(data: &[u8]) -> Result<CustomData, CustomDataError> {
    custom_data::parse_raw_bytes(Some(data))
        .and_then(|object| custom_data::from_value(Value::Object(object)))
}

fuzz_target!(|data: &[u8]| {
    let parsed = custom_data::parse_bytes(Some(data));
    assert_eq!(parsed, full_path(data));
    if let Ok(cd) = parsed {
        assert!(cd.canonical_json().len() <= custom_data::MAX_BYTES);
        let again = custom_data::parse(Some(cd.canonical_json())).expect("canonical text is valid customData");
        assert_eq!(again.canonical_json(), cd.canonical_json());
    }
});
