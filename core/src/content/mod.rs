//! Published content: signed manifests, and the verified, content-addressed blob store.
//!
//! Nothing from the network is trusted until checked: a manifest must carry a valid ed25519
//! signature by a publisher key the app was configured with; a blob is decoded with size limits,
//! hashed, and moved into place only when its SHA-256 matches its name.

pub mod course;
pub mod fetch;
pub mod lite;
pub mod manifest_update;
pub mod patch;
pub mod signed;
pub mod store;

use thiserror::Error;

/// Why content was refused. Each names the item, never a learner's data.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ContentError {
    #[error("not a signed manifest: {0}")]
    Unsigned(String),
    #[error("the manifest is signed by a key this app does not trust")]
    UntrustedKey,
    #[error("the manifest's signature does not match its content (tampered or corrupted)")]
    BadSignature,
    #[error("blob {hash}: its bytes hash to {actual}")]
    HashMismatch { hash: String, actual: String },
    #[error("blob {hash}: {actual} bytes where {expected} were declared")]
    SizeMismatch { hash: String, expected: u64, actual: u64 },
    #[error("blob {hash}: decodes past its declared size (decompression bomb?)")]
    Bomb { hash: String },
    #[error("blob {hash}: cannot be decoded: {reason}")]
    Corrupt { hash: String, reason: String },
    #[error("blob {hash} needs the course dictionary, which is missing")]
    MissingDictionary { hash: String },
    /// The host's reply contradicts the manifest (a size or range other than declared): the
    /// host is wrong, and nothing it sent for the blob is kept.
    #[error("blob {hash}: the host's reply cannot be trusted: {problem}")]
    HostReply { hash: String, problem: String },
    /// The course is pinned to the key that first signed it; this manifest is signed by another
    /// key, and no key rotation signed by the pinned key hands the course over to it.
    #[error(
        "course {course_id} is published under another key: a manifest signed by a different key is refused unless the pinned key signed a rotation to it"
    )]
    PublisherChanged { course_id: String },
    /// The course came from a signed manifest; an unsigned import can neither replace nor change it.
    #[error(
        "course {course_id} was installed from a signed manifest: an unsigned import cannot replace or change it"
    )]
    SignedCourse { course_id: String },
    #[error("a key rotation in the envelope is malformed or its signature does not match")]
    BadRotation,
}
