//! Manifest parsing and validation, and the signed envelope around it, on arbitrary input.
//!
//! Properties beyond "never panics": whatever validates, serialised again by the core's own
//! types, validates again (nothing in a valid manifest depends on how its JSON was written).
#![no_main]

use libfuzzer_sys::fuzz_target;
use satchel_core::catalog::Manifest;
use satchel_core::content::signed;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(manifest) = Manifest::parse(text) {
        let again = serde_json::to_string(&manifest).expect("a parsed manifest serialises");
        if let Err(e) = Manifest::parse(&again) {
            panic!("a valid manifest no longer validates once re-serialised: {e}\n{again}");
        }
    }
    let _ = signed::open(text, &[]);
});
