//! The learner's SQLite store: one file per account, one writer connection, one reader.
//!
//! Every access goes through [`Store::read`] or [`Store::write`]. Writes run in an IMMEDIATE
//! transaction that commits when the closure returns `Ok` and rolls back otherwise, so a domain
//! function that fails half-way leaves nothing behind. The store is synchronous on purpose: the
//! FFI layer runs these closures on the core runtime's blocking pool, never on an async thread.

pub mod clock;
pub mod meta;
mod open;
pub mod schema;
mod text_enum;

pub(crate) use text_enum::sql_text_enum;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{Error, Result};
use crate::time::WallClock;

/// File name of the database inside an account directory.
pub const DATABASE_FILE: &str = "satchel.db";

/// An open learner store. Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Store {
    path: PathBuf,
    writer: Mutex<Option<Connection>>,
    reader: Mutex<Option<Connection>>,
    clock: Arc<WallClock>,
}

impl Store {
    /// Opens the store at `path`, creating and migrating it as needed.
    ///
    /// Refuses (with [`Error::ForeignDatabase`] or [`Error::DatabaseTooNew`]) any file it cannot
    /// safely own, and leaves such a file untouched.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with_clock(path, Arc::new(WallClock::system()))
    }

    /// Opens the store like [`Store::open`], telling time by `clock` (see [`clock`]): what its
    /// sync clock stamps are made from.
    pub fn open_with_clock(path: impl AsRef<Path>, clock: Arc<WallClock>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        let writer = open::open_writer(&path)?;
        let reader = open::open_reader(&path)?;
        clock::register(&writer, Arc::clone(&clock))?;
        clock::register(&reader, Arc::clone(&clock))?;
        Ok(Store { path, writer: Mutex::new(Some(writer)), reader: Mutex::new(Some(reader)), clock })
    }

    /// The account's wall clock.
    pub fn clock(&self) -> &Arc<WallClock> {
        &self.clock
    }

    /// Where the database file lives.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the read-only connection. Sees the last committed state.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let guard = lock(&self.reader);
        let conn = guard.as_ref().ok_or(Error::Closed)?;
        f(conn)
    }

    /// Runs `f` in an IMMEDIATE transaction on the single writer connection; commits on `Ok`.
    pub fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut guard = lock(&self.writer);
        let conn = guard.as_mut().ok_or(Error::Closed)?;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Moves the write-ahead log into the main file. Called when the app goes to the background,
    /// so that a suspended app holds no WAL the OS might kill it over.
    pub fn checkpoint(&self) -> Result<()> {
        let guard = lock(&self.writer);
        let conn = guard.as_ref().ok_or(Error::Closed)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// False once [`Store::close`] ran.
    pub fn is_open(&self) -> bool {
        lock(&self.writer).is_some()
    }

    /// Checkpoints and closes both connections. Later calls fail with [`Error::Closed`];
    /// closing twice is harmless.
    pub fn close(&self) -> Result<()> {
        let mut writer = lock(&self.writer);
        let mut reader = lock(&self.reader);
        if let Some(conn) = reader.take() {
            conn.close().map_err(|(_, e)| e)?;
        }
        if let Some(conn) = writer.take() {
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            conn.close().map_err(|(_, e)| e)?;
        }
        Ok(())
    }

    /// True once [`Store::close`] has run.
    pub fn is_closed(&self) -> bool {
        lock(&self.writer).is_none()
    }
}

/// A panic while holding the lock poisons it; the connection itself is still consistent (SQLite
/// rolled back the open transaction when the `Transaction` was dropped), so carry on.
fn lock(mutex: &Mutex<Option<Connection>>) -> MutexGuard<'_, Option<Connection>> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
