//! The SQLite backend of [`SyncStore`](super::SyncStore): one file, WAL, and exactly one writer
//! connection behind a mutex, used from the blocking pool.
//!
//! One writer serialises every transaction, which is what gives each learner's cursor its commit
//! order here: the transaction that takes cursor `n` commits before the one that takes `n + 1`
//! starts, so a reader never sees `n + 1` without `n`.

mod open;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, Transaction, TransactionBehavior};

pub use open::{APPLICATION_ID, LATEST_VERSION, MIGRATIONS};

use super::StoreError;

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

    /// The server epoch now.
    pub async fn current_epoch(&self) -> Result<String, StoreError> {
        self.write(|tx| epoch(tx)).await
    }

    /// Replaces the epoch with a new random one and returns it.
    pub async fn renew_epoch(&self) -> Result<String, StoreError> {
        self.write(|tx| {
            let epoch = open::new_epoch_id()?;
            tx.execute("UPDATE server_meta SET epoch = ?1 WHERE id = 1", [&epoch])?;
            Ok(epoch)
        })
        .await
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
        let first = SqliteStore::open(&path).await.expect("open").current_epoch().await.expect("epoch");
        assert_eq!(first.len(), 32);
        let store = SqliteStore::open(&path).await.expect("reopen");
        assert_eq!(store.current_epoch().await.expect("epoch"), first);
        let renewed = store.renew_epoch().await.expect("renew");
        assert_ne!(renewed, first);
        assert_eq!(store.current_epoch().await.expect("epoch"), renewed);
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
