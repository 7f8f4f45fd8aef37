//! `satchel demo`: a learner's day with the sample course, in a fresh account.
//!
//! The course arrives from the embedded host, the learner browses it, downloads a module in lite
//! on Wi-Fi, studies offline (a lecture with a note, a reading with a highlight, two quizzes),
//! reconnects and syncs; then the learner's second device pulls the same progress, notes and
//! attempts. It installs nothing: `cargo xtask demo` installs the media tools first. Without
//! them it runs in a clearly labelled catalog-only mode (no lecture to download).

mod host;
mod reconnect;
mod summary;

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use satchel_core::catalog::{CourseOutline, Lesson, RenditionKind};
use satchel_core::downloads::{DownloadTarget, NetworkType};
use satchel_core::learning::AttemptState;
use satchel_core::notes::{NewNote, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;
use satchel_core::{Satchel, SatchelConfig};

use crate::commands::downloads::BytesBar;
use crate::format;
use crate::study::{self, Studied};
use crate::terminal::safe;

/// The text of the sample reading, as the app would display it once downloaded.
const READING_TEXT: &str = "A URL has three parts you will meet every day: a scheme, a host and a path. \
The scheme says how to talk to the server, usually https. The host is looked up with DNS to find \
the server's address. The path says which page or file you want.";

/// The sample course's manifest, bundled so the catalog-only mode needs nothing on disk.
const SAMPLE_MANIFEST: &str = include_str!("../../sample/course-manifest.json");

/// Runs the demo in `account` (a fresh temporary one if `None`). With `require_media`, missing
/// media tools are an error instead of the catalog-only mode.
pub fn run(account: Option<PathBuf>, require_media: bool) -> Result<()> {
    let started = Instant::now();
    let temp = tempfile::tempdir().context("cannot create a temporary directory")?;
    let dir = account.unwrap_or_else(|| temp.path().join("phone"));
    let dir_text = dir.to_str().context("the account path is not valid UTF-8")?.to_owned();
    println!("Satchel demo: a learner's day");
    println!("account: {}", dir.display());

    let packed = if host::media_tools_available() {
        Some(host::prepare_sample()?)
    } else if require_media {
        bail!(
            "ffmpeg, ffprobe and espeak-ng are needed to render the sample lectures; `cargo xtask demo` installs them"
        );
    } else {
        println!(
            "\n*** DEGRADED MODE: catalog only ***\n\
             ffmpeg and espeak-ng are not installed, so the sample lectures cannot be rendered: no\n\
             lite download, no slides, no audio. Run `cargo xtask demo`, which installs them, for the\n\
             whole day."
        );
        None
    };
    let host = host::start(
        packed.as_ref().map(|p| p.dir.as_path()),
        packed.as_ref().and_then(|p| p.grading.clone()),
    )?;
    let public_key = packed.as_ref().map(|p| p.public_key.clone());
    let config = SatchelConfig {
        device_name: "demo phone".into(),
        trusted_publisher_keys: public_key.iter().cloned().collect(),
    };
    let satchel = Satchel::open_blocking(dir_text, config)?;
    let rt = runtime();

    println!("\n== The course arrives");
    let outcome = match &packed {
        Some(_) => {
            let outcome = rt.block_on(satchel.fetch_course(host.base_url.clone(), "web-basics".into()))?;
            println!(
                "fetched the signed manifest from {} and verified the publisher's signature",
                host.base_url
            );
            outcome
        }
        None => rt.block_on(satchel.import_manifest(SAMPLE_MANIFEST.to_owned()))?,
    };
    println!(
        "imported {} v{}: {} modules, {} lessons ({:?})",
        safe(&outcome.course_id),
        outcome.version,
        outcome.module_count,
        outcome.lesson_count,
        outcome.status
    );

    println!("\n== The learner browses it");
    let outline = rt.block_on(satchel.course_outline(outcome.course_id.clone()))?;
    print!("{}", format::outline(&outline));

    let sizes = &outline.course.sizes;
    if sizes.full_bytes > 0 {
        let ratio = sizes.lite_bytes as f64 / sizes.full_bytes as f64;
        println!(
            "\nLite saves {} of {} ({:.1}% of the full download).",
            format::bytes(sizes.full_bytes.saturating_sub(sizes.lite_bytes)),
            format::bytes(sizes.full_bytes),
            ratio * 100.0
        );
    }

    if packed.is_some() {
        download_first_module(&satchel, &outline)?;
        show_lite_lecture(&satchel, &outline)?;
    }

    let second = lesson(&outline, "web-basics.dns")?;
    println!("\n== Linked lectures from \"{}\"", safe(&second.title));
    for linked in rt.block_on(satchel.linked_lectures(second.id.clone()))? {
        let offline = if linked.available_offline.is_empty() {
            "needs network".to_owned()
        } else {
            let kinds: Vec<&str> = linked.available_offline.iter().map(|k| k.as_str()).collect();
            format!("offline: {}", kinds.join(", "))
        };
        println!("  -> {} ({}; {offline})", safe(&linked.lesson.title), safe(&linked.module_title));
    }

    study_day(&satchel, &outline)?;

    let waiting_before_sync = rt.block_on(satchel.pending_changes())?;
    reconnect::phone_syncs(&satchel, &host)?;
    let content = reconnect::Content { manifest: packed.is_none().then_some(SAMPLE_MANIFEST), public_key };
    let tablet = reconnect::second_device_pulls(&temp.path().join("tablet"), &host, content, &outline)?;
    tablet.shutdown_blocking()?;

    let day = summary::Day {
        waiting_before_sync,
        seconds: started.elapsed().as_secs_f64(),
        rendered_s: packed.as_ref().map_or(0.0, |p| p.rendered_s),
        packed_s: packed.as_ref().map_or(0.0, |p| p.packed_s),
        catalog_only: packed.is_none(),
    };
    summary::print(&satchel, &day)?;
    satchel.shutdown_blocking()?;
    if packed.is_none() {
        println!("\n(DEGRADED MODE: catalog only. `cargo xtask demo` shows the whole day.)");
    }
    println!("\nDone.");
    Ok(())
}

/// The first lecture as the phone now holds it: verified files and what the lite player gets.
fn show_lite_lecture(satchel: &Satchel, outline: &CourseOutline) -> Result<()> {
    let rt = runtime();
    let first = lesson(outline, "web-basics.what-happens")?;
    let files = rt
        .block_on(satchel.rendition_files(first.id.clone(), RenditionKind::Lite))?
        .context("the first lecture is downloaded")?;
    let bytes: i64 = files.iter().map(|f| f.size).sum();
    let full = first.renditions.iter().find(|r| r.kind == RenditionKind::Full).map_or(0, |r| r.bytes);
    println!(
        "{} verified files on the phone: {} (the full video is {})",
        files.len(),
        format::bytes(bytes),
        format::bytes(full)
    );
    if let Some(lite) = rt.block_on(satchel.lite_lecture(first.id.clone()))? {
        println!(
            "ready to play: speech audio with {} slides in time and {} transcript cues",
            lite.slides.len(),
            lite.cues.len()
        );
        if let Some(cue) = lite.cues.first() {
            println!("  {} \"{}\"", format::clock(cue.start_ms), safe(&cue.text));
        }
    }
    Ok(())
}

/// The download queue on a learner's day: queued on the bus (cellular, "Wi-Fi only" on), held
/// until Wi-Fi, then downloaded; data used and saved by lite.
fn download_first_module(satchel: &Arc<Satchel>, outline: &CourseOutline) -> Result<()> {
    let rt = runtime();
    let module = outline.modules.first().context("the course has no module")?;
    let target = DownloadTarget::Module { module_id: module.id.clone() };
    let estimate = rt.block_on(satchel.download_estimate(target.clone(), RenditionKind::Lite))?;
    println!(
        "\n== On the bus (cellular, \"Wi-Fi only\" on): queueing \"{}\" in lite, {} lessons, {}",
        safe(&module.title),
        estimate.lessons,
        format::bytes(estimate.bytes_to_fetch)
    );
    satchel.set_network(NetworkType::Metered);
    rt.block_on(satchel.enqueue_download(target, RenditionKind::Lite, 0))?;
    let summary = rt.block_on(satchel.run_downloads(60_000))?;
    println!(
        "{:?}: {} downloads wait for Wi-Fi, not a byte spent on cellular",
        summary.outcome, summary.remaining
    );

    println!("\n== Home on Wi-Fi: the queue runs");
    satchel.set_network(NetworkType::Unmetered);
    let started = Instant::now();
    let queued = rt.block_on(satchel.list_downloads(Some(outline.course.id.clone())))?;
    let bar = BytesBar::new(
        queued.iter().map(|d| d.bytes_total).sum(),
        "downloading",
        queued.iter().map(|d| (d.id, d.bytes_done)).collect(),
    );
    let subscription = satchel.subscribe_downloads(bar.clone());
    let summary = rt.block_on(satchel.run_downloads(10 * 60_000));
    subscription.cancel();
    bar.finish();
    let summary = summary?;
    let usage = rt.block_on(satchel.data_usage())?;
    println!(
        "{} lessons downloaded and verified in {:.1} s: {} on Wi-Fi, {} on cellular; lite saved {}",
        summary.completed,
        started.elapsed().as_secs_f64(),
        format::bytes(usage.unmetered_bytes),
        format::bytes(usage.metered_bytes),
        format::bytes(usage.saved_by_lite_bytes)
    );
    Ok(())
}

fn lesson<'a>(outline: &'a CourseOutline, id: &str) -> Result<&'a Lesson> {
    outline
        .modules
        .iter()
        .flat_map(|m| &m.lessons)
        .find(|l| l.id == id)
        .with_context(|| format!("no lesson {id}"))
}

/// The learner studies offline: a lecture with notes, a reading with a highlight, two quizzes.
fn study_day(satchel: &Satchel, outline: &CourseOutline) -> Result<()> {
    let rt = runtime();
    let course_id = outline.course.id.clone();
    rt.block_on(satchel.enroll(course_id.clone()))?;
    rt.block_on(satchel.set_weekly_goal(3))?;
    let mut clock = Instant::now();
    let mut studied = Studied::default();

    println!("\n== Offline on the bus: the first lecture");
    let lecture = lesson(outline, "web-basics.what-happens")?;
    let end = lecture.duration_ms.unwrap_or(0) as i64;
    study::watch(satchel, lecture, 0, 95_000, &mut clock, 0, &mut studied)?;
    rt.block_on(satchel.add_note(NewNote {
        lesson_id: lecture.id.clone(),
        kind: NoteKind::Note,
        body: "The browser asks DNS for the address before anything else.".into(),
        anchor: NoteAnchor::Time { start_ms: 80_000, end_ms: 95_000 },
        color: None,
        tags: vec!["dns".into(), "exam".into()],
    }))?;
    study::watch(satchel, lecture, 95_000, end, &mut clock, 0, &mut studied)?;
    satchel.end_study_session();
    let p = rt.block_on(satchel.lesson_progress(lecture.id.clone()))?;
    println!(
        "{}: {} · watched {} of {} · {} learning",
        safe(&lecture.title),
        if p.completed { "complete" } else { "in progress" },
        format::clock(p.watched_ms),
        format::clock(end),
        format::clock(p.time_spent_ms)
    );

    println!("\n== A reading, with a highlight");
    let reading = lesson(outline, "web-basics.reading-urls")?;
    let quote = "The host is looked up with DNS";
    let start =
        READING_TEXT.find(quote).map(|b| READING_TEXT[..b].encode_utf16().count()).unwrap_or(0) as i32;
    rt.block_on(satchel.add_note(NewNote {
        lesson_id: reading.id.clone(),
        kind: NoteKind::Highlight,
        body: "Same DNS as in the lecture.".into(),
        anchor: NoteAnchor::Text {
            quote: quote.into(),
            prefix: "usually https. ".into(),
            suffix: " to find".into(),
            start,
            end: start + quote.encode_utf16().count() as i32,
        },
        color: Some("yellow".into()),
        tags: vec!["dns".into()],
    }))?;
    study::read(satchel, reading, &mut studied)?;
    println!("{}: highlighted \"{quote}\", scrolled to the end", safe(&reading.title));

    println!("\n== Quizzes");
    let practice = lesson(outline, "web-basics.http-quiz")?;
    let graded = study::take_quiz(satchel, practice, |i| [2, 0, 0, 1, 0][i % 5], &mut studied)?;
    println!(
        "{}: {}% ({}) graded on the phone",
        safe(&practice.title),
        graded.score_percent.unwrap_or(0),
        if graded.passed == Some(true) { "passed" } else { "not passed" }
    );
    let final_quiz = lesson(outline, "web-basics.final-quiz")?;
    let pending = study::take_quiz(satchel, final_quiz, |_| 0, &mut studied)?;
    let state = match pending.state {
        AttemptState::SubmittedPending => "submitted; the server grades it on the next sync",
        AttemptState::Graded => "graded",
        AttemptState::InProgress => "in progress",
    };
    println!("{}: {state}", safe(&final_quiz.title));

    println!("\n== Where the learner stands");
    let progress = rt.block_on(satchel.course_progress(course_id.clone()))?;
    println!(
        "course {}% complete ({} of {} lessons) · next: {}",
        progress.percent_complete,
        progress.completed_lessons,
        progress.total_lessons,
        progress
            .next_lesson_id
            .as_deref()
            .and_then(|id| lesson(outline, id).ok())
            .map_or(Cow::Borrowed("-"), |l| safe(&l.title))
    );
    for (module, m) in outline.modules.iter().zip(&progress.modules) {
        println!("  {:<24} {:>3}%", safe(&module.title), m.percent_complete);
    }
    let summary = rt.block_on(satchel.learning_summary(0))?;
    println!(
        "today {} learning · {} of {} study days this week · streak {} day(s)",
        format::clock(summary.today_ms),
        summary.study_days_this_week,
        summary.weekly_goal_days,
        summary.current_streak_days
    );

    println!("\n== Searching notes for \"dns\"");
    for note in rt.block_on(satchel.search_notes("dns".into(), None, 10))? {
        println!("  - {}", safe(&note.body));
    }

    println!("\n== Notes exported as Markdown");
    for line in rt.block_on(satchel.export_notes_markdown(course_id))?.lines() {
        println!("{}", safe(line));
    }

    let waiting = rt.block_on(satchel.pending_changes())?;
    println!(
        "\n{} progress reports, {} quiz attempts recorded offline; {waiting} changes wait in the outbox for sync.",
        studied.ticks, studied.quizzes
    );
    Ok(())
}
