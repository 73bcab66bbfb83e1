//! Scenario file parsing on arbitrary text: never panics; a parsed scenario's steps are sorted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nexori::scenario::Scenario;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(scenario) = Scenario::from_str(text) {
            assert!(scenario.steps.windows(2).all(|w| w[0].at <= w[1].at));
            let _ = scenario.host_config();
        }
    }
});
