//! `cargo xtask mutants [PATH…]`: the mutation check of the domain modules.
//!
//! cargo-mutants changes the code one small edit at a time (a `>` becomes `>=`, a function
//! returns `Default::default()`, a `&&` becomes `||`) and runs the tests against each change; a
//! change no test notices ("missed") is behaviour nothing pins. This runs it over the modules
//! whose rules a learner depends on (progress, notes, the data budget, manifest limits, the
//! outbox, the clock and the sync merge rules), one package at a time, each mutant against the
//! fast tests that cover its package:
//!
//! - `satchel-core`: the library's own unit tests (`--lib`, so a mutant costs an incremental
//!   build of one test binary and a few seconds of tests). The integration tests in `core/tests/` and the end-to-end tests catch
//!   more, but at a minute a mutant they are too slow to run per mutant; a gap only they close
//!   is found late, which is what this check is for.
//! - `satchel-protocol`: all of the crate's tests, merge-law property tests included.
//!
//! It prints the score per file, caught / (caught + missed), read from each run's
//! `target/mutants/<package>/mutants.out/outcomes.json`. Timeouts (a mutant that made a test
//! hang) and unviable mutants (which do not compile) are shown but count neither way.
//!
//! By default the mutants are made in place, in the working tree, so each build is incremental
//! and nothing is copied. cargo-mutants restores every file after each mutant, but a hard kill
//! (SIGKILL, a power cut) can leave one mutated: so an in-place run refuses to start while the
//! files it mutates have uncommitted changes (`git checkout` then undoes any leftover), and
//! checks they are unchanged afterwards. `--copy` runs in a scratch copy instead (a cold build).
//! Not part of `cargo xtask test`: a full run takes tens of minutes.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::paths;
use crate::tools::run;

/// The domain modules checked when no path is given.
pub const DEFAULT_PATHS: &[&str] = &[
    "core/src/learning/",
    "core/src/notes/",
    "core/src/downloads/policy.rs",
    "core/src/downloads/retry.rs",
    "core/src/catalog/manifest.rs",
    "core/src/content/manifest_update.rs",
    "core/src/outbox/",
    "protocol/src/hlc.rs",
    "protocol/src/lattice.rs",
    "protocol/src/records/",
];

/// A package checked, with the arguments that pick the tests covering it quickly.
struct Package {
    name: &'static str,
    dir: &'static str,
    /// Given to every cargo invocation, the build of each mutant included.
    cargo_args: &'static [&'static str],
    /// Given to the test binaries (after `--`).
    harness_args: &'static [&'static str],
}

const PACKAGES: &[Package] = &[
    Package {
        name: "satchel-core",
        dir: "core/",
        // Only the library's unit tests: linking the ten integration test binaries would cost
        // a minute per mutant.
        cargo_args: &["--lib"],
        // The two slow unit tests (20 s of the library's 25) test transfers and hashing, which
        // no listed module is: skipped, they would only slow every mutant down.
        harness_args: &[
            "--skip",
            "bytes_on_disk_never_exceed_the_declared_size",
            "--skip",
            "the_helper_thread_and_in_place_hashing_agree_with_one_pass",
        ],
    },
    Package { name: "satchel-protocol", dir: "protocol/", cargo_args: &[], harness_args: &[] },
];

/// What `cargo xtask mutants` was asked to do.
pub struct Options {
    /// Files or directories (relative to the workspace root); empty for [`DEFAULT_PATHS`].
    pub paths: Vec<String>,
    /// Seconds one mutant's tests may take before it counts as a timeout.
    pub timeout_s: u32,
    /// Run in a scratch copy of the tree rather than in place.
    pub copy: bool,
    /// Only every N-th mutant, starting at the K-th (`K/N`): an estimate of each score in a
    /// fraction of the time.
    pub shard: Option<String>,
}

pub fn run_check(options: &Options) -> Result<()> {
    ensure_cargo_mutants()?;
    let root = paths::workspace_root();
    let requested: Vec<String> = if options.paths.is_empty() {
        DEFAULT_PATHS.iter().map(|p| (*p).to_owned()).collect()
    } else {
        options.paths.clone()
    };
    let mut by_package: BTreeMap<&'static str, (&Package, Vec<String>)> = BTreeMap::new();
    for path in &requested {
        let path = path.trim_start_matches("./");
        let package = PACKAGES.iter().find(|p| path.starts_with(p.dir)).with_context(|| {
            format!("{path} is not in a package the mutation check covers (core/, protocol/)")
        })?;
        if !root.join(path).exists() {
            bail!("{path} does not exist");
        }
        by_package.entry(package.name).or_insert((package, Vec::new())).1.push(path.to_owned());
    }
    if !options.copy {
        ensure_committed(&root, &requested)?;
    }
    let mut rows = Vec::new();
    for (package, files) in by_package.values() {
        let out = paths::target_dir().join("mutants").join(package.name);
        // cargo-mutants makes `out` but not its parents (a fresh target directory has none).
        std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
        let mut command = cargo_command();
        command.current_dir(&root).args(["mutants", "-p", package.name, "--timeout"]);
        command.arg(options.timeout_s.to_string()).arg("-o").arg(&out);
        for file in files {
            command.arg("--file").arg(glob_for(file));
        }
        if !options.copy {
            command.arg("--in-place");
        }
        if let Some(shard) = &options.shard {
            // Round-robin, so a shard samples every file and every kind of mutant.
            command.args(["--shard", shard, "--sharding", "round-robin"]);
        }
        for arg in package.cargo_args {
            command.arg(format!("--cargo-arg={arg}"));
        }
        // After cargo-mutants' own `--` come cargo test's arguments; after a second `--`, the
        // test binaries'.
        command.args(["--", "--"]).args(package.harness_args);
        eprintln!("xtask: mutating {} ({})", package.name, files.join(", "));
        let status = command.status().with_context(|| format!("cannot start {command:?}"))?;
        // 0: all caught; 2: some missed; 3: some timed out. Anything else is a failed run
        // (usage error, the unmutated tests failing), whose outcomes would mean nothing.
        if !matches!(status.code(), Some(0 | 2 | 3)) {
            bail!("cargo mutants failed for {} ({status})", package.name);
        }
        rows.extend(scores(&out.join("mutants.out/outcomes.json"))?);
    }
    if !options.copy {
        ensure_committed(&root, &requested).context("a mutant was left in the tree")?;
    }
    print_scores(&rows);
    Ok(())
}

/// A directory becomes the glob of the Rust files under it.
fn glob_for(path: &str) -> String {
    if path.ends_with(".rs") { path.to_owned() } else { format!("{}/**/*.rs", path.trim_end_matches('/')) }
}

/// Refuses to mutate files with uncommitted changes: after a hard kill, `git checkout` must be
/// able to undo whatever was left.
fn ensure_committed(root: &Path, paths: &[String]) -> Result<()> {
    let output = Command::new("git")
        .current_dir(root)
        .args(["status", "--porcelain", "--"])
        .args(paths)
        .output()
        .context("git is needed for an in-place mutation run")?;
    if !output.status.success() {
        bail!("git status failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    let changed = String::from_utf8_lossy(&output.stdout);
    if !changed.trim().is_empty() {
        bail!(
            "uncommitted changes in the files to mutate (commit them, or run with --copy):\n{}",
            changed.trim_end()
        );
    }
    Ok(())
}

/// One file's outcome counts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FileScore {
    pub file: String,
    pub caught: u32,
    pub missed: u32,
    pub timeout: u32,
    pub unviable: u32,
}

/// Counts per source file from a cargo-mutants `outcomes.json`.
fn scores(outcomes: &Path) -> Result<Vec<FileScore>> {
    let text =
        std::fs::read_to_string(outcomes).with_context(|| format!("cannot read {}", outcomes.display()))?;
    scores_from_json(&text).with_context(|| format!("cannot understand {}", outcomes.display()))
}

pub fn scores_from_json(text: &str) -> Result<Vec<FileScore>> {
    let json: serde_json::Value = serde_json::from_str(text)?;
    let outcomes = json["outcomes"].as_array().context("no \"outcomes\" list")?;
    let mut by_file: BTreeMap<String, FileScore> = BTreeMap::new();
    for outcome in outcomes {
        // The baseline (the unmutated tree) is a scenario too, given as a plain string.
        let Some(mutant) = outcome["scenario"].get("Mutant") else { continue };
        let file = mutant["file"].as_str().context("a mutant without a file")?.to_owned();
        let entry = by_file.entry(file.clone()).or_insert_with(|| FileScore { file, ..FileScore::default() });
        match outcome["summary"].as_str() {
            Some("CaughtMutant") => entry.caught += 1,
            Some("MissedMutant") => entry.missed += 1,
            Some("Timeout") => entry.timeout += 1,
            Some("Unviable") => entry.unviable += 1,
            other => bail!("unknown outcome {other:?}"),
        }
    }
    Ok(by_file.into_values().collect())
}

fn print_scores(rows: &[FileScore]) {
    println!(
        "{:<44} {:>7} {:>7} {:>7} {:>8} {:>7}",
        "file", "caught", "missed", "timeout", "unviable", "score"
    );
    let mut total = FileScore { file: "total".into(), ..FileScore::default() };
    for row in rows {
        println!("{}", format_row(row));
        total.caught += row.caught;
        total.missed += row.missed;
        total.timeout += row.timeout;
        total.unviable += row.unviable;
    }
    println!("{}", format_row(&total));
    println!("missed mutants: target/mutants/<package>/mutants.out/missed.txt");
}

fn format_row(row: &FileScore) -> String {
    let tested = row.caught + row.missed;
    let score = if tested == 0 {
        "-".to_owned()
    } else {
        format!("{:.0}%", 100.0 * f64::from(row.caught) / f64::from(tested))
    };
    format!(
        "{:<44} {:>7} {:>7} {:>7} {:>8} {:>7}",
        row.file, row.caught, row.missed, row.timeout, row.unviable, score
    )
}

/// The cargo running us (so `cargo mutants` uses the same toolchain).
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// `cargo`, without the variables cargo set for running xtask itself: build scripts that watch
/// them (ring's watches `CARGO_MANIFEST_DIR`) would otherwise rebuild half the dependency tree
/// for every run, and again for the next ordinary build.
fn cargo_command() -> Command {
    let mut command = Command::new(cargo());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if ["CARGO_MANIFEST_", "CARGO_PKG_", "CARGO_BIN_", "CARGO_CRATE_", "CARGO_PRIMARY_"]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        {
            command.env_remove(name.as_ref());
        }
    }
    command
}

fn ensure_cargo_mutants() -> Result<()> {
    let installed =
        || Command::new(cargo()).args(["mutants", "--version"]).output().is_ok_and(|o| o.status.success());
    if installed() {
        return Ok(());
    }
    eprintln!("xtask: installing cargo-mutants");
    run(cargo_command().args(["install", "cargo-mutants", "--locked"]))
        .context("cannot install cargo-mutants")?;
    if !installed() {
        bail!("cargo mutants is still missing after installing cargo-mutants");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_counted_per_file_and_the_baseline_is_skipped() {
        let json = r#"{"outcomes": [
            {"scenario": "Baseline", "summary": "Success"},
            {"scenario": {"Mutant": {"file": "core/src/a.rs"}}, "summary": "CaughtMutant"},
            {"scenario": {"Mutant": {"file": "core/src/a.rs"}}, "summary": "MissedMutant"},
            {"scenario": {"Mutant": {"file": "core/src/b.rs"}}, "summary": "Timeout"},
            {"scenario": {"Mutant": {"file": "core/src/b.rs"}}, "summary": "Unviable"},
            {"scenario": {"Mutant": {"file": "core/src/a.rs"}}, "summary": "CaughtMutant"}
        ]}"#;
        let rows = scores_from_json(json).unwrap();
        assert_eq!(
            rows,
            [
                FileScore { file: "core/src/a.rs".into(), caught: 2, missed: 1, timeout: 0, unviable: 0 },
                FileScore { file: "core/src/b.rs".into(), caught: 0, missed: 0, timeout: 1, unviable: 1 },
            ]
        );
        assert!(format_row(&rows[0]).ends_with("67%"));
        assert!(format_row(&rows[1]).ends_with('-'));
        assert!(
            scores_from_json(r#"{"outcomes": [{"scenario": {"Mutant": {"file": "x"}}, "summary": "?"}]}"#)
                .is_err()
        );
    }

    #[test]
    fn directories_become_globs_and_defaults_map_to_packages() {
        assert_eq!(glob_for("core/src/notes/"), "core/src/notes/**/*.rs");
        assert_eq!(glob_for("core/src/downloads/policy.rs"), "core/src/downloads/policy.rs");
        for path in DEFAULT_PATHS {
            assert!(PACKAGES.iter().any(|p| path.starts_with(p.dir)), "{path}");
            assert!(paths::workspace_root().join(path).exists(), "{path}");
        }
    }
}
