//! The core's rich internal error type.
//!
//! Domain modules return [`enum@Error`]; the FFI layer maps it, in one place
//! (`ffi::error`), to the small public `SatchelError`. Messages here never carry personal data
//! (no note text, no file paths under the learner's home), only ids from published course content
//! and counts.

use std::time::Duration;

use thiserror::Error;

/// Shorthand used throughout the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong inside the core.
#[derive(Debug, Error)]
pub enum Error {
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),

    #[error("file system error: {0}")]
    Io(#[from] std::io::Error),

    /// A value could not be encoded as JSON (a bug), or JSON the core did not write was refused.
    /// Stored JSON that reads back wrong is [`Error::Corrupt`] instead.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),

    /// The file at the store path exists but is not a Satchel database (another app's SQLite file,
    /// or not SQLite at all). We refuse to touch it rather than wipe a learner's data.
    #[error("the file at the store path is not a Satchel database: {0}")]
    ForeignDatabase(String),

    /// The database was written by a newer Satchel; opening it with older code could corrupt it.
    #[error("the database is at schema version {found}, newer than this build supports ({supported})")]
    DatabaseTooNew { found: u32, supported: u32 },

    #[error("invalid course manifest: {0}")]
    InvalidManifest(#[from] crate::catalog::ManifestError),

    /// Published content failed verification: signature, hash, size or decoding.
    #[error("content failed verification: {0}")]
    Content(#[from] crate::content::ContentError),

    /// A shared course file was refused (see [`crate::share::ShareError`]); nothing of it that
    /// did not verify was kept.
    #[error("shared course file: {0}")]
    Share(#[from] crate::share::ShareError),

    /// The network failed or the server answered with something unusable. `kind`, `status` and
    /// `retry_after` reach the app as they are, so it can act without parsing `message`.
    #[error("network: {message}")]
    Network { kind: NetworkErrorKind, status: Option<u16>, retry_after: Option<Duration>, message: String },

    /// An import of a manifest older than the version already in the catalog.
    #[error("course {course_id} is already at version {installed}; refusing to go back to {offered}")]
    StaleManifest { course_id: String, installed: u32, offered: u32 },

    /// Not enough room on the device.
    #[error("not enough storage: {0}")]
    NoSpace(String),

    /// The learner's storage quota for downloads is full, even after evicting what may go.
    #[error("storage quota: {0}")]
    QuotaFull(String),

    /// A value the caller passed is out of range or does not fit the item it is about.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    #[error("no {kind} with id {id:?}")]
    NotFound { kind: &'static str, id: String },

    /// A synced record refused a change (over a protocol limit, or a stale clock stamp).
    #[error("sync record: {0}")]
    Record(#[from] satchel_protocol::RecordError),

    /// Sync with the server failed (see [`crate::sync::SyncError`]); the outbox is intact.
    #[error("sync: {0}")]
    Sync(#[from] crate::sync::SyncError),

    /// Something the core wrote earlier reads back wrong (a damaged database or file). Never
    /// "repaired" by resetting it: that could lose or reorder a learner's changes.
    #[error("stored {what} is unreadable: {reason}")]
    Corrupt { what: &'static str, reason: String },

    #[error("the store has been closed")]
    Closed,

    /// A background task panicked or was cancelled; the operation did not complete.
    #[error("internal error: {0}")]
    Internal(String),
}

/// What kind of network failure an [`Error::Network`] is: what an app needs to decide what to
/// show and whether to try again, without parsing text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum NetworkErrorKind {
    /// The network the phone is on may not be used now: offline, or cellular with "Wi-Fi only".
    NotAllowed,
    /// The month's cellular data budget is used up.
    BudgetExhausted,
    /// The host could not be reached (no route, DNS, refused, a TLS handshake that failed for
    /// another reason than its certificate).
    Unreachable,
    /// The host's TLS certificate was refused. On a learner's phone this is most often a wrong
    /// date and time (a certificate looks expired or not yet valid): ask them to check the
    /// phone's clock. Otherwise a network (hotel Wi-Fi, a proxy) intercepts HTTPS.
    CertificateRejected,
    /// The connection broke, stalled or timed out before the reply was complete.
    Interrupted,
    /// The host answered with an HTTP error status (see `http_status`, and `retry_after_ms`).
    HttpStatus,
    /// The reply is not what it should be: too long, not text, or not what the protocol says.
    BadReply,
    /// The sync server needs the learner to sign in (no token, or the token was refused).
    SignInRequired,
    /// Sync was never configured, or the HTTP client could not be set up.
    NotConfigured,
    /// Anything else (a bug on one side): worth reporting.
    Other,
}

impl Error {
    /// A network failure of `kind`.
    pub(crate) fn network(kind: NetworkErrorKind, message: impl Into<String>) -> Self {
        Error::Network { kind, status: None, retry_after: None, message: message.into() }
    }

    /// A host's HTTP error status.
    pub(crate) fn http_status(
        status: u16,
        retry_after: Option<Duration>,
        message: impl Into<String>,
    ) -> Self {
        Error::Network {
            kind: NetworkErrorKind::HttpStatus,
            status: Some(status),
            retry_after,
            message: message.into(),
        }
    }

    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        Error::InvalidArgument(reason.into())
    }

    pub(crate) fn corrupt(what: &'static str, reason: impl Into<String>) -> Self {
        Error::Corrupt { what, reason: reason.into() }
    }

    pub(crate) fn not_found(kind: &'static str, id: impl Into<String>) -> Self {
        Error::NotFound { kind, id: id.into() }
    }
}
