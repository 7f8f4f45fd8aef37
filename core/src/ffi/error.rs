//! The public error enum and the one place internal errors are mapped onto it.
//!
//! Kotlin sees these as `SatchelException.InvalidInput` etc., Swift as `SatchelError.invalidInput`.
//! The set is small on purpose: an app decides what to show from the variant, and the `reason`
//! text (free of personal data) is for logs and bug reports.

use crate::error::Error;

/// Errors returned across the FFI.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum SatchelError {
    /// The caller passed something unusable: a malformed or invalid manifest, a stale course
    /// version, a value out of range. Nothing was changed.
    #[error("invalid input: {reason}")]
    InvalidInput { reason: String },

    /// The course, lesson or other item asked for does not exist.
    #[error("not found: {reason}")]
    NotFound { reason: String },

    /// The file at the store path is not one this build can open (another app's file, or written
    /// by a newer Satchel). It was left untouched.
    #[error("incompatible store: {reason}")]
    IncompatibleStore { reason: String },

    /// Downloaded content failed verification (bad signature, wrong hash, corrupt data). Nothing
    /// of it was kept; retrying may help if the network corrupted it.
    #[error("integrity: {reason}")]
    Integrity { reason: String },

    /// The network failed or the server's reply was unusable. Nothing was changed.
    #[error("network: {reason}")]
    Network { reason: String },

    /// The disk or database failed (full disk, over the storage quota, I/O error, corruption).
    #[error("storage failure: {reason}")]
    Storage { reason: String },

    /// The `Satchel` instance was closed.
    #[error("this Satchel instance is closed")]
    Closed,

    /// A bug in the core. Please report it with the reason.
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl From<Error> for SatchelError {
    fn from(error: Error) -> Self {
        let reason = error.to_string();
        match error {
            Error::InvalidManifest(_) | Error::StaleManifest { .. } | Error::InvalidArgument(_) => {
                SatchelError::InvalidInput { reason }
            }
            Error::NotFound { .. } => SatchelError::NotFound { reason },
            Error::Content(_) => SatchelError::Integrity { reason },
            Error::Share(crate::share::ShareError::NotShareable { .. }) => {
                SatchelError::InvalidInput { reason }
            }
            Error::Share(_) => SatchelError::Integrity { reason },
            Error::Network(_) | Error::Sync(_) => SatchelError::Network { reason },
            Error::Record(_) => SatchelError::InvalidInput { reason },
            Error::ForeignDatabase(_) | Error::DatabaseTooNew { .. } => {
                SatchelError::IncompatibleStore { reason }
            }
            Error::NoSpace(_) => SatchelError::Storage { reason },
            Error::Sql(_) | Error::Io(_) | Error::Corrupt { .. } => {
                tracing::error!(%reason, "storage failure");
                SatchelError::Storage { reason }
            }
            Error::Closed => SatchelError::Closed,
            Error::Internal(_) | Error::Json(_) => {
                tracing::error!(%reason, "internal error");
                SatchelError::Internal { reason }
            }
        }
    }
}
