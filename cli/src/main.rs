//! `satchel`: the desktop shell over Satchel's core, for demos, scripting and tests.
//!
//! It drives the same `Satchel` object the Android and iOS apps get through UniFFI, so whatever
//! works here works there.

mod demo;
mod download;
mod format;
mod sample_host;
mod study;
mod terminal;

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use satchel_core::catalog::RenditionKind;
use satchel_core::downloads::DownloadTarget;
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
    /// Fetch a course's signed manifest from a content host into an account.
    Fetch {
        #[arg(long)]
        account: PathBuf,
        /// A publisher key (base64 ed25519) the manifest must be signed with.
        #[arg(long = "publisher-key", required = true)]
        publisher_keys: Vec<String>,
        base_url: String,
        course_id: String,
    },
    /// Queue a lesson, module or course for download and run the queue until it is done.
    /// Killed, it resumes where it stopped when run again.
    Download {
        #[arg(long)]
        account: PathBuf,
        #[command(flatten)]
        target: TargetArgs,
        /// full, lite or text.
        #[arg(long, default_value = "lite", value_parser = parse_rendition)]
        rendition: RenditionKind,
        /// Pretend to be on a metered (cellular) network, so the settings and budget apply.
        #[arg(long)]
        metered: bool,
        /// Stop after this many seconds, leaving everything resumable.
        #[arg(long, default_value_t = 3600)]
        max_seconds: u64,
    },
    /// List the download queue.
    Downloads {
        #[arg(long)]
        account: PathBuf,
    },
    /// Print a course's outline with download sizes.
    Outline {
        #[arg(long)]
        account: PathBuf,
        course_id: String,
    },
}

/// Exactly one of a lesson, a module or a course.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
struct TargetArgs {
    #[arg(long)]
    lesson: Option<String>,
    #[arg(long)]
    module: Option<String>,
    #[arg(long)]
    course: Option<String>,
}

impl TargetArgs {
    fn target(self) -> DownloadTarget {
        match (self.lesson, self.module, self.course) {
            (Some(lesson_id), _, _) => DownloadTarget::Lesson { lesson_id },
            (_, Some(module_id), _) => DownloadTarget::Module { module_id },
            (_, _, course_id) => DownloadTarget::Course { course_id: course_id.unwrap_or_default() },
        }
    }
}

fn parse_rendition(text: &str) -> Result<RenditionKind, String> {
    match text {
        "full" => Ok(RenditionKind::Full),
        "lite" => Ok(RenditionKind::Lite),
        "text" => Ok(RenditionKind::Text),
        other => Err(format!("{other:?} is not full, lite or text")),
    }
}

fn main() -> std::process::ExitCode {
    match run(Cli::parse().command) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Error texts can quote a manifest or a host's reply: escaped like any content.
            eprintln!("Error: {}", terminal::safe(&format!("{error:#}")));
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Demo { account } => demo::run(account),
        Command::Import { account, manifest } => {
            let json = std::fs::read_to_string(&manifest)
                .with_context(|| format!("cannot read {}", manifest.display()))?;
            let satchel = open(&account)?;
            let outcome = runtime().block_on(satchel.import_manifest(json))?;
            println!("{} v{}: {:?}", terminal::safe(&outcome.course_id), outcome.version, outcome.status);
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
        Command::Fetch { account, publisher_keys, base_url, course_id } => {
            let satchel = open_with_keys(&account, publisher_keys)?;
            let outcome = runtime().block_on(satchel.fetch_course(base_url, course_id))?;
            println!("{} v{}: {:?}", terminal::safe(&outcome.course_id), outcome.version, outcome.status);
            Ok(satchel.shutdown()?)
        }
        Command::Download { account, target, rendition, metered, max_seconds } => {
            let satchel = open(&account)?;
            let request = download::Request { target: target.target(), rendition, metered, max_seconds };
            let result = download::run(&satchel, request);
            satchel.shutdown()?;
            result
        }
        Command::Downloads { account } => {
            let satchel = open(&account)?;
            download::list(&satchel)?;
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
    open_with_keys(account, Vec::new())
}

fn open_with_keys(account: &std::path::Path, keys: Vec<String>) -> Result<std::sync::Arc<Satchel>> {
    let dir = account.to_str().context("the account path is not valid UTF-8")?;
    Ok(Satchel::open(
        dir.to_owned(),
        SatchelConfig { device_name: "satchel-cli".into(), trusted_publisher_keys: keys },
    )?)
}
