//! Peer sharing: a downloaded course rendition as one file (an SD card, a nearby share), and
//! importing it on another phone with no network.
//!
//! The file (see [`container`]) carries the publisher's signed manifest envelope and every
//! verified blob of the rendition. Nothing in it is trusted: the import opens the envelope with
//! the app's trusted publisher keys and the course's pinned key, refuses a member whose name is
//! not exactly `blobs/<a hash the manifest lists>` or whose size is not the manifest's, verifies
//! each blob's hash while writing it to a temporary file, and commits only verified blobs.
//! A blob already on the phone is skipped, so an interrupted import resumes where it stopped.
//! The catalog changes only once the whole file has been read and verified.

pub mod container;
mod export;
mod import;

use thiserror::Error;

pub use export::export_course;
pub use import::{ImportedCourse, import_course};

/// Why a shared file was refused. Signature and hash failures are [`crate::content::ContentError`]s.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ShareError {
    #[error("not a Satchel shared course file")]
    NotAShareFile,
    #[error("the shared file ends before its end record (truncated)")]
    Truncated,
    #[error("the shared file is malformed: {0}")]
    Malformed(String),
    /// A member name that is not `blobs/<hash>` of this course: a path (`..`, `/`), or a file
    /// the manifest does not list.
    #[error("the shared file holds a member {name:?} that is not a file of the course")]
    UnexpectedMember { name: String },
    /// A member whose size is not the one the signed manifest declares (a 10 GB claim is refused
    /// before a byte of it is read).
    #[error("member {name:?} claims {claimed} bytes; the manifest declares {declared}")]
    SizeMismatch { name: String, claimed: u64, declared: u64 },
    /// Exporting a course that was not installed from a signed manifest, or with no complete
    /// lesson in the rendition.
    #[error("cannot share course {course_id}: {reason}")]
    NotShareable { course_id: String, reason: String },
}

/// How far an export or import has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ShareProgress {
    /// Bytes written (export) or read from the file (import) so far.
    pub bytes_done: i64,
    /// Bytes in all (export: the blobs; import: the file's size).
    pub bytes_total: i64,
}

impl ShareProgress {
    fn of(bytes_done: u64, bytes_total: u64) -> Self {
        use crate::api_int::to_i64;
        ShareProgress { bytes_done: to_i64(bytes_done), bytes_total: to_i64(bytes_total) }
    }
}
