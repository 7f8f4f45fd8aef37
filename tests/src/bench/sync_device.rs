//! A learner's device for the sync benches: a real account on a real SQLite file with the sample
//! course imported, talking to a sync server on Wi-Fi with no timers of its own.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use satchel_core::downloads::NetworkType;
use satchel_core::runtime::runtime;
use satchel_core::sync::{SyncTuning, TokenProvider};
use satchel_core::{Satchel, SatchelConfig};
use satchel_protocol::Record;
use satchel_protocol::records::{AnswerRecord, AttemptRecord, AttemptState, QuizMode};

pub struct BenchDevice {
    pub satchel: Arc<Satchel>,
}

impl BenchDevice {
    pub fn open(dir: &Path, name: &str) -> Result<BenchDevice> {
        std::fs::create_dir_all(dir)?;
        let satchel = Satchel::open(
            dir.to_str().context("a non-UTF-8 temp dir")?.to_owned(),
            SatchelConfig { device_name: name.into(), trusted_publisher_keys: vec![] },
        )?;
        let manifest = std::fs::read_to_string(crate::sample_manifest_path())?;
        runtime().block_on(satchel.import_manifest(manifest))?;
        Ok(BenchDevice { satchel })
    }

    /// Points the device at `base_url` with a fixed token; only explicit syncs run.
    pub fn connect(&self, base_url: &str, token: &str) -> Result<()> {
        let account = self.satchel.account();
        account.downloads().set_network(NetworkType::Unmetered);
        account.sync().set_tuning(SyncTuning { period: None, ..SyncTuning::default() });
        self.satchel.configure_sync(base_url.to_owned(), Arc::new(FixedToken(token.to_owned())))?;
        Ok(())
    }
}

struct FixedToken(String);

impl TokenProvider for FixedToken {
    fn token(&self) -> Option<String> {
        Some(self.0.clone())
    }

    fn refresh(&self) -> Option<String> {
        None
    }
}

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

/// The sample course's practice quiz, which the phone grades itself.
pub const QUIZ: &str = "web-basics.http-quiz";

/// A practice attempt on [`QUIZ`] answered right and graded on the phone, submitted at `at_ms`.
pub fn practice_attempt(attempt_id: &str, at_ms: i64) -> Record {
    let answer = AnswerRecord { answered_at_ms: at_ms, choice_ids: vec!["c".into()] };
    Record::QuizAttempt(AttemptRecord {
        attempt_id: attempt_id.to_owned(),
        lesson_id: QUIZ.into(),
        course_id: "web-basics".into(),
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
