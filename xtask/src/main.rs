//! `cargo xtask`: the project's build tooling.
//!
//! - `cargo xtask demo`: installs the media tools, then runs the release `satchel demo`.
//! - `cargo xtask test`: checks formatting (`cargo fmt --check`) and lints (`cargo clippy
//!   -D warnings`), installs what the tests need, then runs the Rust tests, a bounded
//!   `cargo fuzz` run of each fuzz target, and the Kotlin tests on the JVM against the freshly
//!   built core library.
//! - `cargo xtask kotlin`: only the Kotlin tests (bindings, the sample server, the JVM run).
//! - `cargo xtask bench [FILTER]`: runs the benchmarks and writes `target/bench/results.json`.
//! - `cargo xtask bindings`: generates the Kotlin and Swift bindings into `target/bindings/`.
//! - `cargo xtask mutants [PATH…]`: the mutation check of the domain modules (docs/testing.md);
//!   not part of `cargo xtask test`.

mod bindings;
mod content;
mod demo;
mod fuzz;
mod kotlin;
mod mutants;
mod paths;
mod tools;

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
    /// Install missing tools, then run every Rust, Kotlin/JVM and end-to-end test.
    Test,
    /// Run only the Kotlin/JVM tests against a fresh debug build of the core.
    Kotlin,
    /// Run the benchmarks (optionally only those whose name contains FILTER).
    Bench { filter: Option<String> },
    /// Generate the Kotlin and Swift bindings from a debug build of the core.
    Bindings,
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
        Command::Kotlin => kotlin_only(),
        Command::Bench { filter } => bench(filter),
        Command::Bindings => bindings::generate().map(|_| ()),
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
    // Formatting and lints first: fail loudly before the long test run.
    let phase = Phases::start();
    tools::cargo(&["fmt", "--all", "--check"])?;
    tools::cargo(&["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"])?;
    let phase = phase.done("fmt and clippy");
    let tools = tools::ensure_test_tools()?;
    let phase = phase.done("tools");
    tools::cargo(&["build", "--workspace", "--all-targets"])?;
    tools::cargo(&["test", "--workspace", "--no-fail-fast"])?;
    let phase = phase.done("Rust tests");
    fuzz::run_bounded()?;
    let phase = phase.done("bounded fuzz runs");
    let generated = bindings::generate()?;
    let server = content::serve_sample()?;
    // The Kotlin runner's `N passed, N failed` stays the last line; its time is the rest.
    phase.summary();
    kotlin::run_tests(&tools, &generated, &server)
}

/// How long each phase of `cargo xtask test` took, so the suite's 20-minute budget can be
/// watched: each finished phase prints its time, and the summary sits before the last runner.
struct Phases {
    started: std::time::Instant,
    phase_started: std::time::Instant,
    done: Vec<(&'static str, std::time::Duration)>,
}

impl Phases {
    fn start() -> Phases {
        let now = std::time::Instant::now();
        Phases { started: now, phase_started: now, done: Vec::new() }
    }

    fn done(mut self, name: &'static str) -> Phases {
        let took = self.phase_started.elapsed();
        eprintln!("xtask: {name} took {:.0} s", took.as_secs_f64());
        self.done.push((name, took));
        self.phase_started = std::time::Instant::now();
        self
    }

    fn summary(self) {
        let parts: Vec<String> =
            self.done.iter().map(|(name, took)| format!("{name} {:.0} s", took.as_secs_f64())).collect();
        eprintln!(
            "xtask: {:.0} s so far ({}); the Kotlin tests run last",
            self.started.elapsed().as_secs_f64(),
            parts.join(", ")
        );
    }
}

fn kotlin_only() -> Result<()> {
    let tools = tools::ensure_test_tools()?;
    let generated = bindings::generate()?;
    let server = content::serve_sample()?;
    kotlin::run_tests(&tools, &generated, &server)
}

fn bench(filter: Option<String>) -> Result<()> {
    // The download benches run the reference server and the CLI as child processes.
    tools::ensure_bench_tools()?;
    tools::cargo(&["build", "--profile", "bench", "-p", "satchel-server", "-p", "satchel-cli"])?;
    let out = paths::target_dir().join("bench/results.json");
    let mut args =
        vec!["run", "--profile", "bench", "--quiet", "-p", "satchel-tests", "--bin", "satchel-bench", "--"];
    let out_text = out.to_string_lossy().into_owned();
    args.extend(["--out", out_text.as_str()]);
    if let Some(filter) = filter.as_deref() {
        args.push(filter);
    }
    tools::cargo(&args)
}
