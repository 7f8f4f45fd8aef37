//! Storage of the sync server behind one trait, [`SyncStore`], so the SQLite backend here and
//! the PostgreSQL backend of issue 13 answer every request the same way (the conformance suite
//! in [`conformance`] runs against each).

mod batch;
mod common;
#[doc(hidden)]
pub mod conformance;
pub mod postgres;
pub mod sqlite;

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use satchel_protocol::Record;
use satchel_protocol::messages::{
    PullRequest, PullResponse, PushRequest, PushResponse, RegisterRequest, RegisterResponse,
};
use satchel_protocol::records::AttemptRecord;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Where the sync state lives: one SQLite file (the default, one server process), or a
/// PostgreSQL database that several server processes share.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite(PathBuf),
    /// A libpq-style URL, `postgres://user:password@host:port/database`.
    Postgres(String),
}

impl Database {
    /// `postgres://…` or `postgresql://…` is PostgreSQL; anything else a SQLite file path.
    pub fn parse(text: &str) -> Database {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            Database::Postgres(text.to_owned())
        } else {
            Database::Sqlite(PathBuf::from(text))
        }
    }

    /// Opens the store, creating and migrating its schema if needed.
    pub async fn open(&self) -> Result<Arc<dyn SyncStore>, StoreError> {
        Ok(match self {
            Database::Sqlite(path) => Arc::new(SqliteStore::open(path).await?),
            Database::Postgres(url) => Arc::new(PostgresStore::connect(url).await?),
        })
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Database {
        Database::Sqlite(path)
    }
}

impl std::str::FromStr for Database {
    type Err = std::convert::Infallible;
    fn from_str(text: &str) -> Result<Database, Self::Err> {
        Ok(Database::parse(text))
    }
}

/// For logs and errors: a PostgreSQL URL without its user and password.
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "{}", path.display()),
            Database::Postgres(url) => match url.split_once("://").zip(url.rsplit_once('@')) {
                Some(((scheme, _), (_, place))) => write!(f, "{scheme}://…@{place}"),
                None => write!(f, "{url}"),
            },
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({self})")
    }
}

/// A device not seen for this long is retired: it stops holding the tombstone horizon back, and
/// if it ever returns, its cursor is below the horizon and it resets (90 days).
pub const DEVICE_RETIRE_AFTER_MS: i64 = 90 * 24 * 3600 * 1000;

/// The storage of the sync protocol. Every method is one transaction: it either takes effect
/// whole or not at all (an `Err` changes nothing), and concurrent calls behave as if run one
/// after another.
///
/// Requests reach the store already authenticated (`learner` comes from a verified token) and
/// already shape-checked (`validate()` of the protocol message); records are validated here,
/// since a bad record is an op outcome, not a failed request. `now_ms` is the server clock,
/// passed in so tests can move time.
///
/// Semantics every backend keeps (tested by [`conformance`]):
/// - **Isolation**: nothing of one learner is ever read, written or revealed through another
///   learner's calls; a device id is scoped to its learner.
/// - **Cursor**: a per-learner counter, incremented in the transaction that changes a record,
///   assigned in commit order (SQLite: the single writer; PostgreSQL: a row lock on the learner
///   row), so a pull never skips a change that commits later with a smaller cursor. A merge that
///   changes nothing takes no cursor.
/// - **Seq**: `device → last applied seq` is updated in the same transaction as the effects.
/// - **Epoch**: random per database, renewed by [`SyncStore::new_epoch`]; every response
///   carries it.
#[async_trait]
pub trait SyncStore: Send + Sync + 'static {
    /// Registers (or re-registers) a device of `learner`, idempotently: the answer's `next_seq`
    /// is the device's last applied seq + 1 (1 for a new device). Updates its name and last-seen
    /// time.
    async fn register_device(
        &self,
        learner: &str,
        request: &RegisterRequest,
        now_ms: i64,
    ) -> Result<RegisterResponse, StoreError>;

    /// Applies a batch of ops in seq order, all in one transaction:
    /// - unknown device → `UnknownDevice`; `request.epoch` set and not the server's →
    ///   `ResetRequired` (nothing applied);
    /// - op seq ≤ last applied → no effect, answered as the op was first (its reply may have
    ///   been lost): `Duplicate` with the `clamped_to` its record got, or the same `Rejected`;
    /// - the first new seq > last + 1 → `SeqGap { expected: last + 1 }` and nothing of the batch
    ///   is applied (batches are consecutive, checked by `PushRequest::validate`);
    /// - an op whose `op_id` was already taken (under another seq, e.g. resent after a reset)
    ///   → `Duplicate` (with its first `clamped_to`, or the same `Rejected`), seq advances;
    /// - a record failing `validate()` → `Rejected` with its code and reason, seq advances;
    /// - otherwise stamps beyond `now_ms + MAX_FUTURE_SKEW_MS` are clamped (reported in
    ///   `clamped_to`), `stored = merge(stored, record)`, seq advances → `Applied`.
    async fn push(
        &self,
        learner: &str,
        request: &PushRequest,
        now_ms: i64,
    ) -> Result<PushResponse, StoreError>;

    /// The next page after `request.cursor`: every record whose last change has a larger cursor,
    /// in cursor order, each once at its merged state, within `request.page_bytes()` of stored
    /// JSON (at least one record). Records the device has pulled through `request.cursor` (for
    /// the tombstone horizon) and its last-seen time. `ResetRequired` when the epoch differs,
    /// the cursor is ahead of the learner's (a server restored from an older copy), or
    /// `0 < cursor < horizon` (tombstones it never saw were purged).
    async fn pull(
        &self,
        learner: &str,
        request: &PullRequest,
        now_ms: i64,
    ) -> Result<PullResponse, StoreError>;

    /// Deletes every tombstone that each of its learner's active devices (seen within
    /// [`DEVICE_RETIRE_AFTER_MS`] of `now_ms`) has pulled past, raising the learner's horizon to
    /// the largest purged cursor.
    async fn purge_tombstones(&self, now_ms: i64) -> Result<PurgeReport, StoreError>;

    /// Every learner's attempts stored `submitted_pending` (the server held no key for their
    /// quiz when they came), as (learner, attempt): what to grade once keys are loaded.
    async fn pending_attempts(&self) -> Result<Vec<(String, AttemptRecord)>, StoreError>;

    /// Merges a record the server made (a grade) into `learner`'s stored one, as a push would:
    /// `stored = merge(stored, record)`, taking the learner's next cursor if that changes
    /// anything, so every device pulls it. Returns whether it changed anything. A record failing
    /// `validate()` is a `Backend` error and changes nothing.
    async fn merge_server_record(&self, learner: &str, record: Record) -> Result<bool, StoreError>;

    /// The database's epoch.
    async fn epoch(&self) -> Result<String, StoreError>;

    /// Gives the database a new random epoch (after restoring a backup) and returns it: every
    /// device then gets `ResetRequired` and runs the reset handshake.
    async fn new_epoch(&self) -> Result<String, StoreError>;

    /// Counts for operators and tests.
    async fn stats(&self) -> Result<StoreStats, StoreError>;
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub learners: u64,
    pub tombstones: u64,
}

/// Totals over the whole database.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreStats {
    pub learners: u64,
    pub devices: u64,
    pub records: u64,
    pub tombstones: u64,
    /// Ops taken (applied or rejected), each once.
    pub ops: u64,
}

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
    ResetRequired(&'static str),
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
