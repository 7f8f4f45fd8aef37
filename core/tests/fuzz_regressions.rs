//! Every committed fuzz seed and every input a fuzz run ever crashed on (`fuzz/regressions/`),
//! replayed through the same checks as the `manifest` fuzz target, in every `cargo test`.

use std::path::Path;

use satchel_core::catalog::Manifest;
use satchel_core::content::signed;

#[test]
fn manifest_seeds_and_regressions_never_panic_and_round_trip() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut replayed = 0;
    for dir in ["seeds/manifest", "regressions/manifest"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(dir)) else { continue };
        for entry in entries {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap();
            let Ok(text) = std::str::from_utf8(&bytes) else { continue };
            if let Ok(manifest) = Manifest::parse(text) {
                let again = serde_json::to_string(&manifest).unwrap();
                assert!(
                    Manifest::parse(&again).is_ok(),
                    "{} no longer validates re-serialised",
                    path.display()
                );
            }
            let _ = signed::open(text, &[]);
            replayed += 1;
        }
    }
    assert!(replayed >= 3, "the committed seeds are found ({replayed} replayed)");
}
