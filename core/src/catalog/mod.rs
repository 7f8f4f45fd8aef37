//! The course catalog: manifests in, outlines and lessons out.

mod import;
mod manifest;
mod model;
pub mod publisher;
mod queries;

pub use import::{import_manifest, import_parsed};
pub use manifest::{
    BlobEntry, ChoiceEntry, Encoding, LessonEntry, MANIFEST_FORMAT, Manifest, ManifestError, ModuleEntry,
    PATCHES_FORMAT, PatchEntry, QuestionEntry, QuizEntry, RenditionEntry, TextPack, is_sha256_hex, limits,
};
pub use model::*;
pub use queries::{LessonFacts, course, course_outline, lesson, lesson_facts, linked_lectures, list_courses};

/// What the unit tests of the domain modules share.
#[cfg(test)]
pub(crate) mod test_support {
    use crate::store::Store;

    /// A store in a fresh temporary directory holding the sample course the CLI demo uses (keep
    /// the directory alive as long as the store).
    pub(crate) fn sample_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.db")).unwrap();
        super::import_manifest(&store, include_str!("../../../cli/sample/course-manifest.json")).unwrap();
        (dir, store)
    }
}
