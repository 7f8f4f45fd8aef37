//! The command line: global options and one subcommand per core operation.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use satchel_core::catalog::RenditionKind;
use satchel_core::downloads::DownloadTarget;

#[derive(Parser)]
#[command(name = "satchel", version, about = "Offline-first learning, from the command line")]
pub struct Cli {
    /// The account directory (one learner's database and content). Default: under the
    /// platform's data directory.
    #[arg(long, global = true, env = "SATCHEL_ACCOUNT", value_name = "DIR")]
    pub account: Option<PathBuf>,
    /// Print listings and reports as JSON (one document on stdout) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// A learner's day, end to end, with the sample course (in a fresh temporary account unless
    /// --account is given).
    Demo {
        /// Fail if the media tools are missing instead of running the catalog-only mode.
        #[arg(long)]
        require_media: bool,
    },
    #[command(flatten)]
    Account(AccountCommand),
}

/// The commands that work on the account `--account` names.
#[derive(Subcommand)]
pub enum AccountCommand {
    /// Import a course manifest (JSON file) into the account.
    Import { manifest: PathBuf },
    /// Fetch a course's signed manifest from a content host.
    Fetch {
        /// A publisher key (base64 ed25519) the manifest must be signed with.
        #[arg(long = "publisher-key", required = true)]
        publisher_keys: Vec<String>,
        base_url: String,
        course_id: String,
    },
    /// Write a downloaded course rendition to one shared file (for an SD card or a nearby share).
    Export {
        course_id: String,
        #[arg(long, default_value = "lite", value_parser = parse_rendition)]
        rendition: RenditionKind,
        /// The file to write (it appears only when complete).
        path: PathBuf,
    },
    /// Import a shared course file, with no network: its publisher signature must be by one of
    /// the given keys, and every file must match its hash.
    ImportFile {
        /// A publisher key (base64 ed25519) the course must be signed with.
        #[arg(long = "publisher-key", required = true)]
        publisher_keys: Vec<String>,
        path: PathBuf,
    },
    /// List the courses in the account.
    Courses,
    /// A course's modules and lessons with download sizes.
    Outline { course_id: String },
    /// Queue a lesson, module or course for download and run the queue until it is done.
    /// Killed, it resumes where it stopped when run again.
    Download(DownloadArgs),
    /// The download queue.
    Downloads {
        /// Only this course's downloads.
        #[arg(long)]
        course: Option<String>,
    },
    /// Pause a queued or running download.
    Pause { download_id: i64 },
    /// Resume a paused or failed download (queued again; `download` runs the queue).
    Resume { download_id: i64 },
    /// Cancel a download and delete its partial file.
    Cancel { download_id: i64 },
    /// A course's progress roll-up (or one lesson's progress) and the learning summary.
    Progress(ProgressArgs),
    /// Notes and highlights.
    #[command(subcommand)]
    Notes(NotesCommand),
    /// Quizzes: show the questions, take an attempt, list attempts.
    #[command(subcommand)]
    Quiz(QuizCommand),
    /// Show the download settings, or change some: Wi-Fi only, cellular budget, storage quota.
    Settings(SettingsArgs),
    /// Data used this month (and saved by lite) and storage used.
    Usage,
    /// Free space: evict least recently studied courses, or delete one course's content.
    Evict(EvictArgs),
    /// Sync with the learner's sync server: push local changes, pull the others.
    Sync(SyncArgs),
    /// Sync status: last synced, changes waiting, operations the server refused.
    Status,
    /// Simulate a learner studying a course: playback reports, readings, quizzes, notes.
    Study {
        course_id: String,
        /// How many times to go through the course; 0 studies until interrupted.
        #[arg(long, default_value_t = 1)]
        rounds: u64,
    },
}

#[derive(Args)]
pub struct DownloadArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// full, lite or text.
    #[arg(long, default_value = "lite", value_parser = parse_rendition)]
    pub rendition: RenditionKind,
    /// Pretend to be on a metered (cellular) network, so the settings and budget apply.
    #[arg(long)]
    pub metered: bool,
    /// Stop after this many seconds, leaving everything resumable.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(i64).range(0..))]
    pub max_seconds: i64,
}

/// Exactly one of a lesson, a module or a course.
#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct TargetArgs {
    #[arg(long)]
    pub lesson: Option<String>,
    #[arg(long)]
    pub module: Option<String>,
    #[arg(long)]
    pub course: Option<String>,
}

impl TargetArgs {
    pub fn target(self) -> DownloadTarget {
        match (self.lesson, self.module, self.course) {
            (Some(lesson_id), _, _) => DownloadTarget::Lesson { lesson_id },
            (_, Some(module_id), _) => DownloadTarget::Module { module_id },
            (_, _, course_id) => DownloadTarget::Course { course_id: course_id.unwrap_or_default() },
        }
    }
}

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct ProgressArgs {
    /// The course to roll up.
    pub course_id: Option<String>,
    /// One lesson's progress instead.
    #[arg(long)]
    pub lesson: Option<String>,
}

#[derive(Subcommand)]
pub enum NotesCommand {
    /// Add a note (anchored to a time range of a video) or a highlight (a quoted passage).
    Add(NoteAddArgs),
    /// A lesson's or a course's notes.
    List {
        #[command(flatten)]
        scope: NoteScope,
    },
    /// Full-text search over notes, quotes and tags (any text is a valid query).
    Search {
        query: String,
        #[arg(long)]
        course: Option<String>,
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i32).range(0..))]
        limit: i32,
    },
    /// A course's notes as Markdown.
    Export { course_id: String },
    /// Delete a note.
    Delete { note_id: String },
}

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct NoteScope {
    #[arg(long)]
    pub lesson: Option<String>,
    #[arg(long)]
    pub course: Option<String>,
}

#[derive(Args)]
pub struct NoteAddArgs {
    #[arg(long)]
    pub lesson: String,
    /// The note's text.
    #[arg(long, default_value = "")]
    pub body: String,
    /// The time range in a video it is about, in seconds: `80` or `80-95`.
    #[arg(long, value_name = "SECONDS[-SECONDS]", value_parser = parse_time_range, conflicts_with = "quote")]
    pub at: Option<(i64, i64)>,
    /// The highlighted passage of a reading (makes a highlight).
    #[arg(long)]
    pub quote: Option<String>,
    /// The text just before the passage (helps re-find it after the text changes).
    #[arg(long, default_value = "", requires = "quote")]
    pub prefix: String,
    /// The text just after the passage.
    #[arg(long, default_value = "", requires = "quote")]
    pub suffix: String,
    /// Where the passage starts in the reading, in UTF-16 code units.
    #[arg(long, default_value_t = 0, requires = "quote")]
    pub start: i32,
    #[arg(long)]
    pub color: Option<String>,
    /// A tag (repeat for several).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
}

#[derive(Subcommand)]
pub enum QuizCommand {
    /// A quiz's questions and choices.
    Show { lesson_id: String },
    /// Take an attempt: answer the questions given and submit (practice quizzes are graded at
    /// once, graded ones on the next sync).
    Take {
        lesson_id: String,
        /// `QUESTION=CHOICE[,CHOICE]` (repeat per question).
        #[arg(long = "answer", value_name = "QUESTION=CHOICES", value_parser = parse_answer)]
        answers: Vec<(String, Vec<String>)>,
    },
    /// The attempts at a quiz, newest first.
    Attempts { lesson_id: String },
}

#[derive(Args)]
pub struct SettingsArgs {
    /// Download only on Wi-Fi (`true`) or on any network (`false`).
    #[arg(long, value_name = "BOOL")]
    pub wifi_only: Option<bool>,
    /// The monthly cellular data budget in bytes, or `none`.
    #[arg(long, value_name = "BYTES|none", value_parser = parse_limit)]
    pub budget: Option<Limit>,
    /// The storage quota for downloaded content in bytes, or `none`.
    #[arg(long, value_name = "BYTES|none", value_parser = parse_limit)]
    pub quota: Option<Limit>,
    /// How many files download at once.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..=16))]
    pub max_concurrent: Option<i32>,
}

/// A byte limit that can be switched off.
#[derive(Clone, Copy)]
pub struct Limit(pub Option<i64>);

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct EvictArgs {
    /// Evict least recently studied courses until this many bytes are free.
    #[arg(long, value_parser = clap::value_parser!(i64).range(0..))]
    pub bytes: Option<i64>,
    /// Delete one course's downloaded content.
    #[arg(long)]
    pub course: Option<String>,
}

#[derive(Args)]
pub struct SyncArgs {
    /// The sync server (https://…/, or http:// on loopback).
    #[arg(long, env = "SATCHEL_SYNC_URL", value_name = "URL")]
    pub server: String,
    /// The learner's bearer token (from the sign-in service; `satchel-server sync-token`).
    /// Prefer the environment variable: arguments are visible to other users.
    #[arg(long, env = "SATCHEL_SYNC_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Give up after this many seconds (what is done stays done; run again to go on).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(i64).range(0..))]
    pub max_seconds: i64,
    /// Pretend to be on a metered (cellular) network: the Wi-Fi-only setting and the budget apply.
    #[arg(long)]
    pub metered: bool,
    /// Operations per push request (smaller batches lose less to a flaky link).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub batch: Option<u32>,
}

fn parse_rendition(text: &str) -> Result<RenditionKind, String> {
    match text {
        "full" => Ok(RenditionKind::Full),
        "lite" => Ok(RenditionKind::Lite),
        "text" => Ok(RenditionKind::Text),
        other => Err(format!("{other:?} is not full, lite or text")),
    }
}

fn parse_limit(text: &str) -> Result<Limit, String> {
    if text == "none" {
        return Ok(Limit(None));
    }
    text.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(|n| Limit(Some(n)))
        .ok_or_else(|| format!("{text:?} is not a byte count or none"))
}

fn parse_time_range(text: &str) -> Result<(i64, i64), String> {
    let seconds = |s: &str| {
        s.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).map(|v| (v * 1000.0) as i64)
    };
    let range = match text.split_once('-') {
        Some((a, b)) => seconds(a).zip(seconds(b)),
        None => seconds(text).map(|a| (a, a)),
    };
    match range {
        Some((start, end)) if start <= end => Ok((start, end)),
        _ => Err(format!("{text:?} is not SECONDS or SECONDS-SECONDS (start before end)")),
    }
}

fn parse_answer(text: &str) -> Result<(String, Vec<String>), String> {
    let (question, choices) =
        text.split_once('=').ok_or_else(|| format!("{text:?} is not QUESTION=CHOICE[,CHOICE]"))?;
    let choices: Vec<String> =
        choices.split(',').map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned).collect();
    if question.trim().is_empty() || choices.is_empty() {
        return Err(format!("{text:?} is not QUESTION=CHOICE[,CHOICE]"));
    }
    Ok((question.trim().to_owned(), choices))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ranges_and_answers_parse_or_say_why_not() {
        assert_eq!(parse_time_range("80"), Ok((80_000, 80_000)));
        assert_eq!(parse_time_range("80-95.5"), Ok((80_000, 95_500)));
        assert!(parse_time_range("95-80").is_err());
        assert!(parse_time_range("-3").is_err());
        assert!(parse_time_range("soon").is_err());
        assert_eq!(parse_answer("q1=a, b"), Ok(("q1".into(), vec!["a".into(), "b".into()])));
        assert!(parse_answer("q1=").is_err());
        assert!(parse_answer("q1").is_err());
        assert!(parse_limit("none").is_ok_and(|l| l.0.is_none()));
        assert!(parse_limit("-1").is_err());
    }
}
