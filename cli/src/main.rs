//! `satchel`: the desktop shell over Satchel's core, for demos, scripting and tests.
//!
//! It drives the same `Satchel` object the Android and iOS apps get through UniFFI, so whatever
//! works here works there.

mod demo;
mod format;
mod sample_host;
mod study;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use satchel_core::runtime::runtime;
use satchel_core::{Satchel, SatchelConfig};

#[derive(Parser)]
#[command(name = "satchel", version, about = "Offline-first learning, from the command line")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// A learner's day, end to end, with a sample course in a fresh temporary account.
    Demo {
        /// Keep the account in this directory instead of a temporary one.
        #[arg(long)]
        account: Option<PathBuf>,
    },
    /// Import a course manifest (JSON) into an account.
    Import {
        #[arg(long)]
        account: PathBuf,
        manifest: PathBuf,
    },
    /// List the courses in an account.
    Courses {
        #[arg(long)]
        account: PathBuf,
    },
    /// Simulate a learner studying a course: playback reports, readings, quizzes, notes.
    Study {
        #[arg(long)]
        account: PathBuf,
        course_id: String,
        /// How many times to go through the course; 0 studies until interrupted.
        #[arg(long, default_value_t = 1)]
        rounds: u64,
    },
    /// Print a course's outline with download sizes.
    Outline {
        #[arg(long)]
        account: PathBuf,
        course_id: String,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Demo { account } => demo::run(account),
        Command::Import { account, manifest } => {
            let json = std::fs::read_to_string(&manifest)
                .with_context(|| format!("cannot read {}", manifest.display()))?;
            let satchel = open(&account)?;
            let outcome = runtime().block_on(satchel.import_manifest(json))?;
            println!("{} v{}: {:?}", outcome.course_id, outcome.version, outcome.status);
            Ok(satchel.shutdown()?)
        }
        Command::Courses { account } => {
            let satchel = open(&account)?;
            for course in runtime().block_on(satchel.list_courses())? {
                println!("{}", format::course_line(&course));
            }
            Ok(satchel.shutdown()?)
        }
        Command::Study { account, course_id, rounds } => {
            let satchel = open(&account)?;
            let studied = study::course(&satchel, &course_id, rounds)?;
            println!(
                "studied {course_id}: {} progress reports, {} notes, {} quizzes",
                studied.ticks, studied.notes, studied.quizzes
            );
            Ok(satchel.shutdown()?)
        }
        Command::Outline { account, course_id } => {
            let satchel = open(&account)?;
            let outline = runtime().block_on(satchel.course_outline(course_id))?;
            print!("{}", format::outline(&outline));
            Ok(satchel.shutdown()?)
        }
    }
}

fn open(account: &std::path::Path) -> Result<std::sync::Arc<Satchel>> {
    let dir = account.to_str().context("the account path is not valid UTF-8")?;
    Ok(Satchel::open(
        dir.to_owned(),
        SatchelConfig { device_name: "satchel-cli".into(), ..Default::default() },
    )?)
}
