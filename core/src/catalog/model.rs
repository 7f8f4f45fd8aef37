//! Catalog records as the app sees them. Plain data; they cross the FFI as UniFFI records.

use serde::{Deserialize, Serialize};

use crate::store::sql_text_enum;

/// What a lesson is, which decides how it is played and when it counts as complete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "lowercase")]
pub enum LessonKind {
    Video,
    Reading,
    Quiz,
}

/// The forms a lesson can be downloaded in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "lowercase")]
pub enum RenditionKind {
    /// The original video.
    Full,
    /// Speech-quality audio, slide stills and transcript: a few percent of the full bytes.
    Lite,
    /// Transcript and readings only.
    Text,
}

/// How a quiz is graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "lowercase")]
pub enum QuizMode {
    /// Graded on the phone from the answer key; can be retaken freely.
    Practice,
    /// Submitted on sync and graded by the server; the phone never holds the keys.
    Graded,
}

sql_text_enum!(LessonKind { Video => "video", Reading => "reading", Quiz => "quiz" });
sql_text_enum!(RenditionKind { Full => "full", Lite => "lite", Text => "text" });
sql_text_enum!(QuizMode { Practice => "practice", Graded => "graded" });

/// One downloadable form of a lesson and what it costs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Rendition {
    pub kind: RenditionKind,
    /// Bytes on the wire for the whole rendition.
    pub bytes: i64,
}

/// Download size of a group of lessons in each rendition, for "Lite: 2.1 MB · Full: 74 MB".
/// A lesson without a rendition of some kind adds nothing to that kind's total.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct RenditionSizes {
    pub full_bytes: i64,
    pub lite_bytes: i64,
    pub text_bytes: i64,
}

impl RenditionSizes {
    pub(crate) fn add(&mut self, rendition: &Rendition) {
        let slot = match rendition.kind {
            RenditionKind::Full => &mut self.full_bytes,
            RenditionKind::Lite => &mut self.lite_bytes,
            RenditionKind::Text => &mut self.text_bytes,
        };
        *slot = slot.saturating_add(rendition.bytes);
    }
}

/// A course in the learner's catalog.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CourseSummary {
    pub id: String,
    pub title: String,
    pub description: String,
    /// BCP 47 language tag, e.g. "en" or "sw"; empty when the publisher gave none.
    pub language: String,
    /// The publisher's version of the course content.
    pub version: i32,
    pub module_count: i32,
    pub lesson_count: i32,
    pub sizes: RenditionSizes,
}

/// A lesson with what it takes to download it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Lesson {
    pub id: String,
    pub course_id: String,
    pub module_id: String,
    pub title: String,
    pub kind: LessonKind,
    /// Playing time of a video lesson; `None` for readings and quizzes.
    pub duration_ms: Option<i64>,
    pub renditions: Vec<Rendition>,
}

/// A module with its lessons, in course order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ModuleOutline {
    pub id: String,
    pub title: String,
    pub lessons: Vec<Lesson>,
    pub sizes: RenditionSizes,
}

/// The whole structure of a course, in order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CourseOutline {
    pub course: CourseSummary,
    pub modules: Vec<ModuleOutline>,
}

/// A lecture linked from another one, with what of it is on the phone already.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LinkedLecture {
    pub lesson: Lesson,
    pub module_title: String,
    /// Renditions fully downloaded and verified; empty means it needs the network.
    pub available_offline: Vec<RenditionKind>,
}

/// What importing a manifest did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ImportStatus {
    /// The course was not in the catalog before.
    Installed,
    /// An older version was replaced.
    Updated,
    /// The same version was already there; nothing changed.
    Unchanged,
}

/// The result of [`crate::catalog::import_manifest`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportOutcome {
    pub course_id: String,
    pub version: i32,
    pub status: ImportStatus,
    pub module_count: i32,
    pub lesson_count: i32,
}
