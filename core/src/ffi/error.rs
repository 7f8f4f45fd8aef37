//! The public error enum and the one place internal errors are mapped onto it.
//!
//! Kotlin sees these as `SatchelException.InvalidInput` etc., Swift as `SatchelError.invalidInput`.
//! The set is small on purpose: an app decides what to show from the variant, and the `reason`
//! text (free of personal data) is for logs and bug reports.

use crate::error::Error;
pub use crate::error::NetworkErrorKind;
use crate::sync::SyncError;

/// What kind of storage failure a [`SatchelError::Storage`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum StorageErrorKind {
    /// The device is (nearly) out of space: free some, then retry.
    DiskFull,
    /// The learner's storage quota for downloads is full even after evicting what may go.
    QuotaFull,
    /// Something Satchel wrote earlier reads back wrong (a damaged file or database).
    Corrupt,
    /// Another file-system or database error.
    Io,
}

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

    /// The network failed or the server's reply was unusable. Nothing was changed. `kind` says
    /// what to tell the learner and whether waiting helps; `http_status` is the host's status
    /// when it answered with an error, and `retry_after_ms` how long it asked to wait.
    #[error("network ({kind:?}): {reason}")]
    Network { kind: NetworkErrorKind, http_status: Option<i32>, retry_after_ms: Option<i64>, reason: String },

    /// The disk or database failed. `kind` tells a full disk or quota (free space, then retry)
    /// from damage or an I/O error (report it).
    #[error("storage failure ({kind:?}): {reason}")]
    Storage { kind: StorageErrorKind, reason: String },

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
            Error::Network { kind, status, retry_after, .. } => SatchelError::Network {
                kind,
                http_status: status.map(i32::from),
                retry_after_ms: retry_after.map(millis),
                reason,
            },
            Error::Sync(ref sync) => sync_error(sync, reason),
            Error::Record(_) => SatchelError::InvalidInput { reason },
            Error::ForeignDatabase(_) | Error::DatabaseTooNew { .. } => {
                SatchelError::IncompatibleStore { reason }
            }
            Error::NoSpace(_) => SatchelError::Storage { kind: StorageErrorKind::DiskFull, reason },
            Error::QuotaFull(_) => SatchelError::Storage { kind: StorageErrorKind::QuotaFull, reason },
            Error::Corrupt { .. } => {
                tracing::error!(%reason, "storage failure");
                SatchelError::Storage { kind: StorageErrorKind::Corrupt, reason }
            }
            Error::Sql(ref e) => {
                tracing::error!(%reason, "storage failure");
                let kind = match e.sqlite_error_code() {
                    Some(rusqlite::ErrorCode::DiskFull) => StorageErrorKind::DiskFull,
                    Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase) => {
                        StorageErrorKind::Corrupt
                    }
                    _ => StorageErrorKind::Io,
                };
                SatchelError::Storage { kind, reason }
            }
            Error::Io(ref e) => {
                tracing::error!(%reason, "storage failure");
                let kind = if e.kind() == std::io::ErrorKind::StorageFull {
                    StorageErrorKind::DiskFull
                } else {
                    StorageErrorKind::Io
                };
                SatchelError::Storage { kind, reason }
            }
            Error::Closed => SatchelError::Closed,
            Error::Internal(_) | Error::Json(_) => {
                tracing::error!(%reason, "internal error");
                SatchelError::Internal { reason }
            }
        }
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Sync's failures as network errors with the kind an app acts on: sign in again, wait, or
/// report.
fn sync_error(error: &SyncError, reason: String) -> SatchelError {
    if let SyncError::Internal(_) = error {
        tracing::error!(%reason, "internal sync error");
        return SatchelError::Internal { reason };
    }
    SatchelError::Network {
        kind: error.kind(),
        http_status: error.http_status().map(i32::from),
        retry_after_ms: error.retry_after().map(millis),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn network(error: Error) -> (NetworkErrorKind, Option<i32>, Option<i64>) {
        match SatchelError::from(error) {
            SatchelError::Network { kind, http_status, retry_after_ms, .. } => {
                (kind, http_status, retry_after_ms)
            }
            other => panic!("not a network error: {other:?}"),
        }
    }

    fn storage(error: Error) -> StorageErrorKind {
        match SatchelError::from(error) {
            SatchelError::Storage { kind, .. } => kind,
            other => panic!("not a storage error: {other:?}"),
        }
    }

    #[test]
    fn an_http_status_and_its_retry_after_reach_the_app_as_numbers() {
        let error = Error::http_status(503, Some(Duration::from_secs(7)), "HTTP 503 for /x");
        assert_eq!(network(error), (NetworkErrorKind::HttpStatus, Some(503), Some(7_000)));
        let sync = SyncError::Server {
            status: 429,
            code: None,
            message: "slow down".into(),
            retry_after: Some(Duration::from_millis(1_500)),
            expected_seq: None,
        };
        assert_eq!(network(Error::Sync(sync)), (NetworkErrorKind::HttpStatus, Some(429), Some(1_500)));
    }

    #[test]
    fn each_sync_failure_has_the_kind_an_app_acts_on() {
        let cases = [
            (SyncError::NoToken, NetworkErrorKind::SignInRequired),
            (SyncError::TokenRefused("expired".into()), NetworkErrorKind::SignInRequired),
            (SyncError::NotConfigured, NetworkErrorKind::NotConfigured),
            (SyncError::Connect("refused".into()), NetworkErrorKind::Unreachable),
            (SyncError::Certificate("expired".into()), NetworkErrorKind::CertificateRejected),
            (SyncError::Interrupted("reset".into()), NetworkErrorKind::Interrupted),
            (SyncError::Malformed("not zstd".into()), NetworkErrorKind::BadReply),
        ];
        for (error, kind) in cases {
            assert_eq!(network(Error::Sync(error.clone())), (kind, None, None), "{error:?}");
        }
        assert!(matches!(
            SatchelError::from(Error::Sync(SyncError::Internal("bug".into()))),
            SatchelError::Internal { .. }
        ));
    }

    #[test]
    fn download_policy_failures_say_which_rule_held_them() {
        let kind = |k| network(Error::network(k, "x")).0;
        assert_eq!(kind(NetworkErrorKind::NotAllowed), NetworkErrorKind::NotAllowed);
        assert_eq!(kind(NetworkErrorKind::BudgetExhausted), NetworkErrorKind::BudgetExhausted);
    }

    #[test]
    fn a_full_disk_is_told_apart_from_a_full_quota_damage_and_other_io() {
        assert_eq!(storage(Error::NoSpace("1 byte free".into())), StorageErrorKind::DiskFull);
        assert_eq!(storage(Error::QuotaFull("quota".into())), StorageErrorKind::QuotaFull);
        assert_eq!(storage(Error::corrupt("goal", "not a number")), StorageErrorKind::Corrupt);
        let enospc = std::io::Error::from(std::io::ErrorKind::StorageFull);
        assert_eq!(storage(Error::Io(enospc)), StorageErrorKind::DiskFull);
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(storage(Error::Io(denied)), StorageErrorKind::Io);
        let full =
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL), None);
        assert_eq!(storage(Error::Sql(full)), StorageErrorKind::DiskFull);
        let corrupt =
            rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT), None);
        assert_eq!(storage(Error::Sql(corrupt)), StorageErrorKind::Corrupt);
        assert_eq!(storage(Error::Sql(rusqlite::Error::QueryReturnedNoRows)), StorageErrorKind::Io);
    }
}
