//! Opening the sync database: refuse a file that is not ours or is newer than this build, apply
//! the numbered migrations in one IMMEDIATE transaction, configure WAL.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::sync::store::StoreError;
use crate::sync::store::common::new_epoch_id;

/// Marks the file as a Satchel sync database (`PRAGMA application_id`), ASCII "StSy", so neither
/// a phone store nor a foreign database is ever migrated over.
pub const APPLICATION_ID: i32 = 0x5374_5379;

/// Every migration, oldest first. Migration `N` takes `user_version` from `N - 1` to `N`.
/// Released migrations are frozen: append a file, and ship a frozen fixture of the previous
/// version with an upgrade test.
pub const MIGRATIONS: &[&str] =
    &[include_str!("migrations/0001_sync.sql"), include_str!("migrations/0002_op_answers.sql")];

/// The schema version this build writes.
pub const LATEST_VERSION: u32 = MIGRATIONS.len() as u32;

/// A write waiting on another process's lock (an operator's `sync-new-epoch` while serving)
/// waits this long before failing.
const BUSY_TIMEOUT_MS: u64 = 5_000;

/// Opens (creating if needed) and migrates the one writer connection; a new database gets a
/// fresh random epoch.
pub fn open(path: &Path) -> Result<Connection, StoreError> {
    let flags =
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.set_prepared_statement_cache_capacity(64);
    check_ownership(&conn)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "the file system refused WAL mode");
    }
    // NORMAL in WAL mode: a killed server loses nothing committed; only an OS crash may lose the
    // last commits, which clients then resend (their ops are still in their outboxes).
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn check_ownership(conn: &Connection) -> Result<u32, StoreError> {
    let version: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |row| row.get(0))?;
    if version == 0 {
        let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if objects > 0 {
            return Err(StoreError::Open("the database holds another application's tables".into()));
        }
    } else if app_id != APPLICATION_ID {
        return Err(StoreError::Open("the database is not a Satchel sync database".into()));
    }
    if version > LATEST_VERSION {
        return Err(StoreError::Open(format!(
            "the database has schema version {version}; this build knows up to {LATEST_VERSION}"
        )));
    }
    Ok(version)
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Again under the write lock: another process may have migrated meanwhile.
    let version = check_ownership(&tx)?;
    if version == LATEST_VERSION {
        return Ok(());
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let to = index as u32 + 1;
        tracing::info!(from = to - 1, to, "migrating the sync database");
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", to)?;
    }
    if version == 0 {
        tx.execute("INSERT INTO server_meta (id, epoch) VALUES (1, ?1)", [new_epoch_id()?])?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}
