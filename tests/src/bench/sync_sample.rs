//! The sample course as the sync benches use it: its video lectures, and the wire record of a
//! practice attempt (the devices themselves are `crate::sync_device::Device`, as in the tests).

use anyhow::{Context, Result};
use satchel_protocol::Record;
use satchel_protocol::records::{AnswerRecord, AttemptRecord, AttemptState, QuizMode};

use crate::sync_device::{COURSE, PRACTICE};

/// The sample course's video lectures and their lengths, from the manifest the demo bundles.
pub fn video_lessons() -> Result<Vec<(String, i64)>> {
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(crate::sample_manifest_path())?)?;
    let mut lessons = Vec::new();
    for module in manifest["modules"].as_array().context("a manifest without modules")? {
        for lesson in module["lessons"].as_array().context("a module without lessons")? {
            if lesson["kind"] == "video" {
                let id = lesson["id"].as_str().context("a lesson without an id")?;
                let duration = lesson["duration_ms"].as_i64().context("a video without a duration")?;
                lessons.push((id.to_owned(), duration));
            }
        }
    }
    Ok(lessons)
}

/// A practice attempt on [`PRACTICE`] answered right and graded on the phone, submitted at `at_ms`.
pub fn practice_attempt(attempt_id: &str, at_ms: i64) -> Record {
    let answer = AnswerRecord { answered_at_ms: at_ms, choice_ids: vec!["c".into()] };
    Record::QuizAttempt(AttemptRecord {
        attempt_id: attempt_id.to_owned(),
        lesson_id: PRACTICE.into(),
        course_id: COURSE.into(),
        mode: QuizMode::Practice,
        state: AttemptState::Graded,
        answers: [("q1".to_owned(), answer)].into_iter().collect(),
        started_at_ms: at_ms - 30_000,
        submitted_at_ms: Some(at_ms),
        score_percent: Some(100),
        passed: Some(true),
        graded_by_server: false,
    })
}
