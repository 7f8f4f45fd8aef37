//! The course catalog: manifests in, outlines and lessons out.

mod import;
mod manifest;
mod model;
mod queries;

pub use import::{import_manifest, import_parsed};
pub use manifest::{MANIFEST_FORMAT, Manifest, ManifestError, limits};
pub use model::*;
pub use queries::{course, course_outline, lesson, linked_lectures, list_courses};
