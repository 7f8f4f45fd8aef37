//! The SQLite backend of [`SyncStore`](super::SyncStore): one file, WAL, and exactly one writer
//! connection behind a mutex, used from the blocking pool.
//!
//! One writer serialises every transaction, which is what gives each learner's cursor its commit
//! order here: the transaction that takes cursor `n` commits before the one that takes `n + 1`
//! starts, so a reader never sees `n + 1` without `n`.

mod open;
mod pull;
mod push;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use satchel_protocol::Record;
use satchel_protocol::messages::{
    PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse, RegisterRequest, RegisterResponse,
};
use satchel_protocol::records::AttemptRecord;

pub use open::{APPLICATION_ID, LATEST_VERSION, MIGRATIONS};

use super::common::{check_epoch, new_epoch_id, record_from_json, record_to_json};
use super::{DEVICE_RETIRE_AFTER_MS, PurgeReport, StoreError, StoreStats, SyncStore};

/// A sync database in one SQLite file.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.inner.path).finish()
    }
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let path = path.to_path_buf();
        let conn = {
            let path = path.clone();
            tokio::task::spawn_blocking(move || open::open(&path)).await.map_err(StoreError::from_join)??
        };
        Ok(SqliteStore { inner: Arc::new(Inner { path, writer: Mutex::new(conn) }) })
    }

    /// The file this store lives in.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in one IMMEDIATE transaction on the writer, on the blocking pool: committed if
    /// `f` returns `Ok`, rolled back (nothing changed) if it returns `Err` or panics.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // A panic inside `f` unwinds through the transaction's drop (a rollback) before it
            // poisons the lock, so the connection behind a poisoned lock is still consistent.
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
        .map_err(StoreError::from_join)?
    }
}

#[async_trait]
impl SyncStore for SqliteStore {
    async fn register_device(
        &self,
        learner: &str,
        request: &RegisterRequest,
        now_ms: i64,
    ) -> Result<RegisterResponse, StoreError> {
        let (learner, request) = (learner.to_owned(), request.clone());
        self.write(move |tx| {
            tx.prepare_cached("INSERT INTO learner (learner_id) VALUES (?1) ON CONFLICT DO NOTHING")?
                .execute([&learner])?;
            tx.prepare_cached(
                "INSERT INTO device (learner_id, device_id, name, registered_at_ms, last_seen_ms)
                 VALUES (?1, ?2, ?3, ?4, ?4)
                 ON CONFLICT (learner_id, device_id) DO UPDATE SET name = excluded.name, last_seen_ms = ?4",
            )?
            .execute(params![learner, request.device_id, request.device_name, now_ms])?;
            let last_seq: u64 = tx
                .prepare_cached("SELECT last_seq FROM device WHERE learner_id = ?1 AND device_id = ?2")?
                .query_row(params![learner, request.device_id], |r| r.get(0))?;
            Ok(RegisterResponse {
                protocol: PROTOCOL_VERSION,
                epoch: epoch(tx)?,
                next_seq: last_seq + 1,
                server_time_ms: now_ms,
            })
        })
        .await
    }

    async fn push(
        &self,
        learner: &str,
        request: &PushRequest,
        now_ms: i64,
    ) -> Result<PushResponse, StoreError> {
        let (learner, request) = (learner.to_owned(), request.clone());
        self.write(move |tx| push::push(tx, &learner, &request, now_ms)).await
    }

    async fn pull(
        &self,
        learner: &str,
        request: &PullRequest,
        now_ms: i64,
    ) -> Result<PullResponse, StoreError> {
        let (learner, request) = (learner.to_owned(), request.clone());
        self.write(move |tx| pull::pull(tx, &learner, &request, now_ms)).await
    }

    async fn pending_attempts(&self) -> Result<Vec<(String, AttemptRecord)>, StoreError> {
        let rows: Vec<(String, String)> = self
            .write(|tx| {
                let mut statement = tx.prepare_cached(
                    "SELECT learner_id, body FROM record
                     WHERE kind = 'quiz_attempt' AND json_extract(body, '$.state') = 'submitted_pending'
                     ORDER BY learner_id, cursor",
                )?;
                let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await?;
        let mut attempts = Vec::with_capacity(rows.len());
        for (learner, body) in rows {
            if let Record::QuizAttempt(attempt) = record_from_json(&body)? {
                attempts.push((learner, attempt));
            }
        }
        Ok(attempts)
    }

    async fn merge_server_record(&self, learner: &str, record: Record) -> Result<bool, StoreError> {
        record
            .validate()
            .map_err(|e| StoreError::Backend(format!("a server-made record is invalid: {e}").into()))?;
        let learner = learner.to_owned();
        self.write(move |tx| {
            let cursor: u64 = tx
                .prepare_cached("SELECT cursor FROM learner WHERE learner_id = ?1")?
                .query_row([&learner], |r| r.get(0))?;
            let changed = push::merge_into_store(tx, &learner, record, cursor + 1)?;
            if changed {
                tx.prepare_cached("UPDATE learner SET cursor = ?2 WHERE learner_id = ?1")?
                    .execute(params![learner, cursor + 1])?;
            }
            Ok(changed)
        })
        .await
    }

    async fn purge_tombstones(&self, now_ms: i64) -> Result<PurgeReport, StoreError> {
        let learners: Vec<String> = self
            .write(|tx| {
                let mut statement =
                    tx.prepare_cached("SELECT DISTINCT learner_id FROM record WHERE tombstone = 1")?;
                let learners = statement.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
                Ok(learners)
            })
            .await?;
        let mut report = PurgeReport::default();
        // One short transaction per learner: a purge never holds the writer for long.
        for learner in learners {
            let purged = self.write(move |tx| purge_learner(tx, &learner, now_ms)).await?;
            if purged > 0 {
                report.learners += 1;
                report.tombstones += purged;
            }
        }
        Ok(report)
    }

    async fn epoch(&self) -> Result<String, StoreError> {
        self.write(|tx| epoch(tx)).await
    }

    async fn new_epoch(&self) -> Result<String, StoreError> {
        self.write(|tx| {
            let epoch = new_epoch_id()?;
            tx.execute("UPDATE server_meta SET epoch = ?1 WHERE id = 1", [&epoch])?;
            Ok(epoch)
        })
        .await
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        self.write(|tx| {
            let count = |sql: &str| -> Result<u64, StoreError> { Ok(tx.query_row(sql, [], |r| r.get(0))?) };
            Ok(StoreStats {
                learners: count("SELECT count(*) FROM learner")?,
                devices: count("SELECT count(*) FROM device")?,
                records: count("SELECT count(*) FROM record")?,
                tombstones: count("SELECT count(*) FROM record WHERE tombstone = 1")?,
                ops: count("SELECT count(*) FROM op")?,
            })
        })
        .await
    }
}

/// Purges the tombstones of one learner that every active device has pulled past.
fn purge_learner(tx: &Transaction<'_>, learner: &str, now_ms: i64) -> Result<u64, StoreError> {
    let active_since = now_ms.saturating_sub(DEVICE_RETIRE_AFTER_MS);
    let slowest: Option<u64> = tx
        .prepare_cached(
            "SELECT min(pulled_through) FROM device WHERE learner_id = ?1 AND last_seen_ms >= ?2",
        )?
        .query_row(params![learner, active_since], |r| r.get(0))?;
    // No active device: nobody is left to miss a deletion.
    let through = match slowest {
        Some(cursor) => cursor,
        None => tx
            .prepare_cached("SELECT cursor FROM learner WHERE learner_id = ?1")?
            .query_row([learner], |r| r.get(0))?,
    };
    let highest: Option<u64> = tx
        .prepare_cached(
            "SELECT max(cursor) FROM record WHERE learner_id = ?1 AND tombstone = 1 AND cursor <= ?2",
        )?
        .query_row(params![learner, through], |r| r.get(0))?;
    let Some(highest) = highest else { return Ok(0) };
    let purged = tx
        .prepare_cached("DELETE FROM record WHERE learner_id = ?1 AND tombstone = 1 AND cursor <= ?2")?
        .execute(params![learner, through])?;
    tx.prepare_cached("UPDATE learner SET horizon = max(horizon, ?2) WHERE learner_id = ?1")?
        .execute(params![learner, highest])?;
    Ok(purged as u64)
}

fn epoch(conn: &Connection) -> Result<String, StoreError> {
    Ok(conn.prepare_cached("SELECT epoch FROM server_meta WHERE id = 1")?.query_row([], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_new_database_has_an_epoch_that_survives_reopening_and_can_be_renewed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sync.db");
        let first = SqliteStore::open(&path).await.expect("open").epoch().await.expect("epoch");
        assert_eq!(first.len(), 32);
        let store = SqliteStore::open(&path).await.expect("reopen");
        assert_eq!(store.epoch().await.expect("epoch"), first);
        let renewed = store.new_epoch().await.expect("renew");
        assert_ne!(renewed, first);
        assert_eq!(store.epoch().await.expect("epoch"), renewed);
    }

    #[tokio::test]
    async fn foreign_and_newer_databases_are_refused_untouched() {
        let dir = tempfile::tempdir().expect("tempdir");
        let foreign = dir.path().join("foreign.db");
        Connection::open(&foreign).and_then(|c| c.execute_batch("CREATE TABLE t (x)")).expect("foreign");
        assert!(matches!(SqliteStore::open(&foreign).await, Err(StoreError::Open(_))));

        let newer = dir.path().join("newer.db");
        drop(SqliteStore::open(&newer).await.expect("create"));
        Connection::open(&newer)
            .and_then(|c| c.pragma_update(None, "user_version", LATEST_VERSION + 1))
            .expect("bump");
        let error = SqliteStore::open(&newer).await.expect_err("newer refused");
        assert!(error.to_string().contains("schema version"), "{error}");

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "not a database at all, just some text that is long enough").expect("write");
        assert!(SqliteStore::open(&text).await.is_err());
    }
}
