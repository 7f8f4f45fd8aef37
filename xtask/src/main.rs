//! `cargo xtask`: the project's build tooling.
//!
//! - `cargo xtask demo`: installs the media tools, then runs the release `satchel demo`.
//! - `cargo xtask test`: checks formatting (`cargo fmt --check`) and lints (`cargo clippy
//!   -D warnings`), installs what the tests need, then runs the Rust tests, a bounded
//!   `cargo fuzz` run of each fuzz target, the Kotlin tests on the JVM and the Swift tests (in a
//!   Debian 13 chroot made in the background meanwhile) against the freshly built core library;
//!   ends with a table of each phase's wall time.
//! - `cargo xtask kotlin`: only the Kotlin tests (bindings, the sample server, the JVM run).
//! - `cargo xtask swift`: only the Swift tests (the chroot, bindings, the sample server, XCTest).
//! - `cargo xtask packaging`: the Kotlin tests, then the packaging checks: the Android manifest
//!   and Gradle build, the split debug info, the keep rules through ProGuard.
//! - `cargo xtask bench [FILTER]`: runs the benchmarks and writes `target/bench/results.json`.
//! - `cargo xtask bindings`: generates the Kotlin and Swift bindings into `target/bindings/`.
//! - `cargo xtask mutants [PATH…]`: the mutation check of the domain modules (docs/testing.md);
//!   not part of `cargo xtask test`.

mod api_types;
mod apt_mirror;
mod bench_venv;
mod bindings;
mod content;
mod demo;
mod doc_samples;
mod fuzz;
mod kotlin;
mod mountinfo;
mod mutants;
mod native_symbols;
mod packaging;
mod paths;
mod phases;
mod postgres;
mod proguard;
mod shell_mirrors;
mod swift;
mod swift_chroot;
mod tools;
mod update_course;

use phases::Phases;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Install the media tools, then run a learner's day with the release CLI.
    Demo,
    /// Install missing tools, then run every Rust, Kotlin/JVM, Swift and end-to-end test.
    Test,
    /// Run only the Kotlin/JVM tests against a fresh debug build of the core.
    Kotlin,
    /// Run only the Swift (XCTest) tests, in a Debian 13 chroot, against a debug build of the core.
    Swift,
    /// Run the Kotlin tests, then the packaging checks (manifest, Gradle, split debug info, ProGuard).
    Packaging,
    /// Run the benchmarks (optionally only those whose name contains FILTER).
    Bench { filter: Option<String> },
    /// Generate the Kotlin and Swift bindings from a debug build of the core.
    Bindings,
    /// Start a throwaway PostgreSQL cluster on loopback for manual test runs (Ctrl-C stops it).
    Postgres,
    /// Run cargo-mutants over the domain modules (or the given files and directories) and print
    /// the score per file.
    Mutants {
        /// Files or directories under core/ or protocol/; the domain modules when none.
        paths: Vec<String>,
        /// Seconds one mutant's tests may run before it counts as a timeout.
        #[arg(long, default_value_t = 60)]
        timeout: u32,
        /// Mutate a scratch copy of the tree (a cold build) instead of the working tree.
        #[arg(long)]
        copy: bool,
        /// Test only every N-th mutant starting at the K-th (e.g. `0/4`): an estimate.
        #[arg(long, value_name = "K/N")]
        shard: Option<String>,
    },
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().command {
        Command::Demo => demo::run(),
        Command::Test => test(),
        Command::Kotlin => kotlin_only().map(|_| ()),
        Command::Swift => swift_only(),
        Command::Packaging => kotlin_only().and_then(|compiled| packaging::check(&compiled)),
        Command::Bench { filter } => bench(filter),
        Command::Bindings => bindings::generate().map(|_| ()),
        Command::Postgres => postgres_only(),
        Command::Mutants { paths, timeout, copy, shard } => {
            mutants::run_check(&mutants::Options { paths, timeout_s: timeout, copy, shard })
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn test() -> Result<()> {
    let mut phases = Phases::start();
    let outcome = test_phases(&mut phases);
    eprint!("{}", phases.table());
    outcome
}

fn test_phases(phases: &mut Phases) -> Result<()> {
    // Cheap checks first: fail loudly before the long test run.
    shell_mirrors::check()?;
    tools::ensure_apt_packages(swift_chroot::HOST_PACKAGES)?;
    // The Swift toolchain's download and unpacking overlap the Rust build and tests.
    let chroot = swift_chroot::ensure_in_background();
    tools::cargo(&["fmt", "--all", "--check"])?;
    tools::cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    phases.done("fmt and clippy");
    let tools = tools::ensure_test_tools()?;
    phases.done("tools");
    tools::cargo(&["build", "--workspace", "--all-targets"])?;
    // The sync store's PostgreSQL tests run against a throwaway cluster (stopped when dropped).
    let cluster = postgres::Cluster::start(postgres::Durability::Throwaway)?;
    cluster.cargo(&["test", "--workspace", "--no-fail-fast"])?;
    drop(cluster);
    phases.done("Rust build and tests");
    fuzz::run_bounded()?;
    phases.done("bounded fuzz runs");
    let generated = bindings::generate()?;
    let server = content::serve_sample()?;
    phases.done("bindings and sample server");
    let compiled = kotlin::run_tests(&tools, &generated, &server)?;
    phases.done("Kotlin tests");
    packaging::check(&compiled)?;
    phases.done("packaging checks");
    let chroot = chroot.join()?;
    let how = if chroot.built_now { "made in the background" } else { "reused" };
    phases.beside("Swift chroot set-up", chroot.took, format!("{how}, beside the phases above"));
    phases.done("waiting for the Swift chroot");
    swift::run_tests(&chroot, &generated, &server)?;
    phases.done("Swift build and tests");
    Ok(())
}

fn postgres_only() -> Result<()> {
    let cluster = postgres::Cluster::start(postgres::Durability::Throwaway)?;
    println!("export {}={}", postgres::URL_VAR, cluster.url);
    cluster.wait()
}

fn kotlin_only() -> Result<kotlin::Compiled> {
    let tools = tools::ensure_test_tools()?;
    let generated = bindings::generate()?;
    let server = content::serve_sample()?;
    kotlin::run_tests(&tools, &generated, &server)
}

fn swift_only() -> Result<()> {
    shell_mirrors::check()?;
    tools::ensure_apt_packages(swift_chroot::HOST_PACKAGES)?;
    let chroot = swift_chroot::ensure()?;
    // The sample course is rendered with the test tools (ffmpeg, espeak-ng).
    tools::ensure_test_tools()?;
    let generated = bindings::generate()?;
    let server = content::serve_sample()?;
    swift::run_tests(&chroot, &generated, &server)
}

fn bench(filter: Option<String>) -> Result<()> {
    // The download benches run the reference server and the CLI as child processes.
    tools::ensure_bench_tools()?;
    // The lite audio bench measures intelligibility with pystoi from this venv.
    let python = bench_venv::ensure()?;
    tools::cargo(&["build", "--profile", "bench", "-p", "satchel-server", "-p", "satchel-cli"])?;
    let out = paths::target_dir().join("bench/results.json");
    let mut args =
        vec!["run", "--profile", "bench", "--quiet", "-p", "satchel-tests", "--bin", "satchel-bench", "--"];
    let out_text = out.to_string_lossy().into_owned();
    args.extend(["--out", out_text.as_str()]);
    if let Some(filter) = filter.as_deref() {
        args.push(filter);
    }
    // The sync load bench compares SQLite with PostgreSQL (a cluster as durable as SQLite's WAL).
    let cluster = postgres::Cluster::start(postgres::Durability::LikeSqliteNormal)?;
    let url = std::ffi::OsString::from(&cluster.url);
    tools::cargo_with_env(
        &args,
        &[("SATCHEL_BENCH_PYTHON", python.as_os_str()), (postgres::URL_VAR, url.as_os_str())],
    )
}
