//! The customData validator on arbitrary bytes: never panics, and what it accepts stays within
//! the limits and is a fixed point of canonicalisation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexori_host::runtime::custom_data;

fuzz_target!(|data: &[u8]| {
    if let Ok(cd) = custom_data::parse_bytes(Some(data)) {
        assert!(cd.canonical_json().len() <= custom_data::MAX_BYTES);
        let again = custom_data::parse(Some(cd.canonical_json())).expect("canonical text is valid customData");
        assert_eq!(again.canonical_json(), cd.canonical_json());
    }
});
