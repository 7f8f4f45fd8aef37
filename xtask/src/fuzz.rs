//! The bounded fuzz run inside `cargo xtask test`: each `cargo fuzz` target in `fuzz/` runs for
//! a few seconds, starting from the committed seeds (`fuzz/seeds/<target>`) plus whatever
//! earlier runs found (`fuzz/corpus/<target>`, not committed). cargo-fuzz and the nightly
//! toolchain it needs are installed when missing; if they cannot be, the run fails: a fuzz run
//! that was silently skipped would be a lie. A crash stops the test run with libFuzzer's report
//! and the input saved under `fuzz/artifacts/<target>/`; it becomes a regression test.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::paths;
use crate::tools::run;

const TARGETS: &[&str] = &["manifest", "text_pack", "share_file"];
const SECONDS_PER_TARGET: u32 = 15;

pub fn run_bounded() -> Result<()> {
    ensure_nightly()?;
    ensure_cargo_fuzz()?;
    let root = paths::workspace_root();
    for target in TARGETS {
        let corpus = root.join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus).with_context(|| format!("cannot create {}", corpus.display()))?;
        let seeds = root.join("fuzz/seeds").join(target);
        eprintln!("xtask: fuzzing {target} for {SECONDS_PER_TARGET} s");
        run(rustup_cargo()
            // A smoke run, priced for every CI run: no AddressSanitizer (the fuzzed parsers are
            // safe Rust, where ASan finds nothing a panic would not) and an unoptimised build
            // (2 min instead of 5 for the core on two cores; still ~1,700 inputs/s). libFuzzer's
            // coverage guidance and Rust's own checks (debug assertions, overflow, bounds) stay.
            .args(["+nightly", "fuzz", "run", "--dev", "--sanitizer", "none", "--debug-assertions", target])
            .arg(&corpus)
            .arg(&seeds)
            .args(["--", &format!("-max_total_time={SECONDS_PER_TARGET}")])
            .current_dir(&root))?;
    }
    Ok(())
}

/// `cargo` through rustup (so `+nightly` works), without the variables of the cargo running
/// xtask that would pin the stable toolchain.
fn rustup_cargo() -> Command {
    let mut command = Command::new("cargo");
    for var in ["CARGO", "RUSTC", "RUSTUP_TOOLCHAIN", "RUSTC_WRAPPER"] {
        command.env_remove(var);
    }
    command
}

fn ensure_nightly() -> Result<()> {
    let list = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .context("rustup is needed for the fuzz run")?;
    if String::from_utf8_lossy(&list.stdout).lines().any(|l| l.starts_with("nightly")) {
        return Ok(());
    }
    run(Command::new("rustup").args(["toolchain", "install", "nightly", "--profile", "minimal"]))
        .context("cannot install the nightly toolchain cargo fuzz needs")
}

fn ensure_cargo_fuzz() -> Result<()> {
    let installed =
        |c: &mut Command| c.args(["fuzz", "--version"]).output().is_ok_and(|o| o.status.success());
    if installed(&mut rustup_cargo()) {
        return Ok(());
    }
    run(rustup_cargo().args(["install", "cargo-fuzz", "--locked"])).context("cannot install cargo-fuzz")?;
    if !installed(&mut rustup_cargo()) {
        bail!("cargo fuzz is still missing after installing cargo-fuzz");
    }
    Ok(())
}
