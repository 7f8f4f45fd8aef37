//! The course catalog: manifests in, outlines and lessons out.

mod import;
mod manifest;
mod model;
pub mod publisher;
mod queries;

pub use import::{import_manifest, import_parsed};
pub use manifest::{
    BlobEntry, ChoiceEntry, Encoding, LessonEntry, MANIFEST_FORMAT, Manifest, ManifestError, ModuleEntry,
    QuestionEntry, QuizEntry, RenditionEntry, TextPack, limits,
};
pub use model::*;
pub use queries::{LessonFacts, course, course_outline, lesson, lesson_facts, linked_lectures, list_courses};
