//! The end of the learner's day: the phone reconnects and syncs to the embedded sync server, and
//! the learner's second device (a fresh account, signed in as the same learner) pulls the same
//! progress, notes and quiz attempts.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use satchel_core::catalog::CourseOutline;
use satchel_core::learning::{AttemptState, QuizAttempt};
use satchel_core::runtime::runtime;
use satchel_core::sync::{SyncOutcome, SyncReport};
use satchel_core::{Satchel, SatchelConfig};

use super::host::Host;
use crate::commands::sync::{SyncRun, sync_once};
use crate::format;
use crate::terminal::safe;

/// The learner's id at the sign-in service.
const LEARNER: &str = "amina-42";
const PRACTICE_QUIZ: &str = "web-basics.http-quiz";
const FINAL_QUIZ: &str = "web-basics.final-quiz";

/// Syncs `phone`; returns its report.
pub fn phone_syncs(phone: &Satchel, host: &Host) -> Result<SyncReport> {
    println!("\n== Back online: the phone syncs");
    let report = sync(phone, host)?;
    println!(
        "pushed {} changes, pulled {}, {} refused by the server, {} waiting",
        report.pushed, report.pulled, report.rejected, report.remaining
    );
    let attempt = latest_attempt(phone, FINAL_QUIZ)?;
    println!("{}", attempt_line("Final check", attempt.as_ref()));
    Ok(report)
}

/// A second device of the same learner: a fresh account gets the course, signs in, syncs, and
/// shows what the phone did.
pub fn second_device_pulls(
    dir: &Path,
    host: &Host,
    content: Content,
    outline: &CourseOutline,
) -> Result<Arc<Satchel>> {
    println!("\n== The learner's tablet signs in");
    let dir_text = dir.to_str().context("the account path is not valid UTF-8")?.to_owned();
    let keys = content.public_key.into_iter().collect();
    let tablet = Satchel::open_blocking(
        dir_text,
        SatchelConfig { device_name: "demo tablet".into(), trusted_publisher_keys: keys },
    )?;
    let rt = runtime();
    match content.manifest {
        Some(manifest) => rt.block_on(tablet.import_manifest(manifest.to_owned()))?,
        None => rt.block_on(tablet.fetch_course(host.base_url.clone(), outline.course.id.clone()))?,
    };
    let report = sync(&tablet, host)?;
    println!("pulled {} records from the sync server", report.pulled);

    let progress = rt.block_on(tablet.course_progress(outline.course.id.clone()))?;
    println!(
        "course {}% complete ({} of {} lessons), {} learning — as on the phone",
        progress.percent_complete,
        progress.completed_lessons,
        progress.total_lessons,
        format::clock(progress.time_spent_ms)
    );
    for note in rt.block_on(tablet.notes_for_course(outline.course.id.clone()))? {
        println!("  note on {}: {}", safe(&note.lesson_id), safe(&note.body));
    }
    let practice = latest_attempt(&tablet, PRACTICE_QUIZ)?;
    println!("{}", attempt_line("Check yourself: HTTP", practice.as_ref()));
    let graded = latest_attempt(&tablet, FINAL_QUIZ)?;
    println!("{}", attempt_line("Final check", graded.as_ref()));
    Ok(tablet)
}

/// Where the second device gets the course from: the bundled manifest (catalog-only mode) or
/// the host, signed by `public_key`.
pub struct Content {
    pub manifest: Option<&'static str>,
    pub public_key: Option<String>,
}

/// Syncs until nothing waits: what a pull brings can queue a change of its own (a graded pass
/// pulled back completes the lesson), which the next round pushes.
fn sync(device: &Satchel, host: &Host) -> Result<SyncReport> {
    let mut total =
        SyncReport { outcome: SyncOutcome::Finished, pushed: 0, pulled: 0, rejected: 0, remaining: 0 };
    for _ in 0..3 {
        let SyncRun { report, last_error } =
            sync_once(device, &host.base_url, host.token(LEARNER)?, false, None, 60_000)?;
        total.pushed += report.pushed;
        total.pulled += report.pulled;
        total.rejected += report.rejected;
        total.remaining = report.remaining;
        if report.outcome != SyncOutcome::Finished {
            let reason = last_error.map(|e| format!(" ({e})")).unwrap_or_default();
            bail!("the sync did not finish: {:?}{reason}", report.outcome);
        }
        if report.remaining == 0 {
            break;
        }
    }
    Ok(total)
}

fn latest_attempt(device: &Satchel, lesson_id: &str) -> Result<Option<QuizAttempt>> {
    Ok(runtime().block_on(device.quiz_attempts(lesson_id.to_owned()))?.into_iter().next())
}

fn attempt_line(title: &str, attempt: Option<&QuizAttempt>) -> String {
    let Some(attempt) = attempt else {
        return format!("{title}: no attempt");
    };
    match (attempt.state, attempt.score_percent) {
        (AttemptState::Graded, Some(score)) => format!(
            "{title}: {score}% ({}), graded",
            if attempt.passed == Some(true) { "passed" } else { "not passed" }
        ),
        (AttemptState::SubmittedPending, _) => format!("{title}: submitted, waiting for the server's grade"),
        _ => format!("{title}: in progress"),
    }
}
