//! Generating the Kotlin and Swift bindings from the built core library (UniFFI library mode).

use std::path::PathBuf;
use std::process::Command;

use anyhow::Result;

use crate::{paths, tools};

/// Output folders of one generation run.
pub struct Generated {
    pub kotlin_dir: PathBuf,
    pub swift_dir: PathBuf,
}

/// Builds the core (debug, unstripped) and generates both bindings into `target/bindings/`, then
/// checks that their public API has no unsigned integers.
pub fn generate() -> Result<Generated> {
    // The whole workspace, so features unify exactly as in `cargo test --workspace` and nothing
    // is rebuilt with a different feature set (a no-op after the test build).
    tools::cargo(&["build", "--workspace", "--all-targets"])?;
    let library = paths::core_cdylib();
    let out = paths::target_dir().join("bindings");
    let bindgen =
        paths::target_dir().join("debug").join(format!("uniffi-bindgen{}", std::env::consts::EXE_SUFFIX));
    let generated = Generated { kotlin_dir: out.join("kotlin"), swift_dir: out.join("swift") };
    for (language, dir) in [("kotlin", &generated.kotlin_dir), ("swift", &generated.swift_dir)] {
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        tools::run(
            Command::new(&bindgen)
                .args(["generate", "--library"])
                .arg(&library)
                .args(["--language", language, "--no-format", "--out-dir"])
                .arg(dir)
                .current_dir(paths::workspace_root()),
        )?;
    }
    crate::api_types::check(&generated.kotlin_dir, &generated.swift_dir)?;
    Ok(generated)
}
