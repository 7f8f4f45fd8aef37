//! Storage of the sync server behind one trait, [`SyncStore`], so the SQLite backend here and
//! the PostgreSQL backend of issue 13 answer every request the same way (the conformance suite
//! in [`conformance`] runs against each).

pub mod sqlite;

pub use sqlite::SqliteStore;

/// Why a store call failed. The first variants are answers the protocol defines (each maps to
/// an [`ErrorCode`](satchel_protocol::messages::ErrorCode)); `Backend` is a storage failure
/// (answered `internal`, logged, nothing half-applied).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the device is not registered for this learner")]
    UnknownDevice,
    #[error("seq {got} leaves a gap: the server expects seq {expected} next")]
    SeqGap { expected: u64, got: u64 },
    #[error("reset required: {0}")]
    ResetRequired(String),
    #[error("the sync database cannot be opened: {0}")]
    Open(String),
    #[error("storage failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    fn from_join(e: tokio::task::JoinError) -> StoreError {
        StoreError::Backend(format!("a storage task failed: {e}").into())
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        StoreError::Backend(Box::new(e))
    }
}
