//! `cdylib_stripped_bytes`: the size of the library the phones ship, built with the release
//! profile (size-tuned, LTO, stripped), beside its own machine code (`.text`), which shows how
//! much of it is code and how much unwind tables, constants and relocations.
//!
//! Built for this machine's target (x86_64 Linux): the Android and iOS targets cannot be built
//! here (no NDK, no Xcode), and ARM64 code is of a similar size. Linked as the NDK links it:
//! with LLD (Rust's default linker here), relocations packed (core/build.rs).

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, ensure};

use super::report::{Goal, Row};

/// The goal: 6 MB.
const GOAL_BYTES: f64 = 6_000_000.0;

pub fn stripped() -> Result<Vec<Row>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("bench: building the release library (a few minutes after a change)");
    let status = Command::new(cargo)
        // The cdylib alone: built beside the rlib (`crate-type = ["lib", "cdylib"]`), cargo
        // silently drops LTO for both (rust-lang/cargo#9672), and the library was 27% bigger.
        // The Android build builds it the same way (android/satchel/build.gradle.kts).
        .args(["rustc", "--release", "--quiet", "-p", "satchel-core", "--lib", "--crate-type", "cdylib"])
        .current_dir(&root)
        .status()
        .context("cannot run cargo")?;
    ensure!(status.success(), "the release build failed");
    let library = root.join("target/release/libsatchel_core.so");
    let bytes = std::fs::metadata(&library).with_context(|| format!("no {}", library.display()))?.len();
    let text = text_bytes(&library)?;
    Ok(vec![Row::new(
        "cdylib_stripped_bytes",
        bytes as f64,
        "bytes",
        "its machine code (.text) alone",
        text as f64,
        Goal::ValueAtMost(GOAL_BYTES),
    )])
}

/// The size of the `.text` section, from binutils' `size -A`.
fn text_bytes(library: &Path) -> Result<u64> {
    let out = Command::new("size").arg("-A").arg(library).output().context("cannot run size (binutils)")?;
    ensure!(out.status.success(), "size -A failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next() == Some(".text")).then(|| fields.next()?.parse().ok()).flatten()
        })
        .context("size -A shows no .text section")
}
