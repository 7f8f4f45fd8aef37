//! The one way a database file is opened: checks that the file is ours, applies pending
//! migrations step by step, and configures the connection.

use std::io::Read;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use super::schema::{APPLICATION_ID, LATEST_VERSION, MIGRATIONS};
use crate::error::{Error, Result};

const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

/// How long a connection waits for another one's lock before giving up. Generous: the only
/// contention is our own reader against our own writer, and an error here loses a learner's tick.
const BUSY_TIMEOUT_MS: u32 = 5_000;

/// Opens (creating if needed) and migrates the writer connection.
pub(super) fn open_writer(path: &Path) -> Result<Connection> {
    refuse_non_sqlite_file(path)?;
    let flags =
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags)?;
    configure(&conn).map_err(not_a_database)?;
    // Check ownership before anything writes to the file: even switching to WAL rewrites its header.
    check_ownership(&conn).map_err(|e| match e {
        Error::Sql(sql) => not_a_database(sql),
        other => other,
    })?;
    // WAL lets the reader run while the writer commits; NORMAL sync in WAL mode survives the app
    // being killed at any point (only an OS crash can lose the last commits, never corrupt).
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(not_a_database)?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "the file system refused WAL mode; readers will wait for writers");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    migrate(&mut conn)?;
    Ok(conn)
}

/// Opens a read-only connection to an already migrated database.
pub(super) fn open_reader(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)?;
    configure(&conn)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS.into()))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// A file that exists, is non-empty and lacks SQLite's header is someone else's: refuse it before
/// SQLite gets a chance to treat it as anything.
fn refuse_non_sqlite_file(path: &Path) -> Result<()> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    let mut header = [0u8; 16];
    let mut read = 0;
    while read < header.len() {
        match file.read(&mut header[read..])? {
            0 => break,
            n => read += n,
        }
    }
    if read == 0 || &header[..read] == SQLITE_HEADER.as_slice() {
        return Ok(());
    }
    Err(Error::ForeignDatabase("the file is not an SQLite database".into()))
}

fn not_a_database(e: rusqlite::Error) -> Error {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => {
            Error::ForeignDatabase("the file is not an SQLite database".into())
        }
        _ => Error::Sql(e),
    }
}

/// Returns the schema version of a database this build may open, or the reason it may not.
fn check_ownership(conn: &Connection) -> Result<u32> {
    let version: u32 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |row| row.get(0))?;
    if version == 0 {
        let objects: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if objects > 0 {
            return Err(Error::ForeignDatabase("the database holds another application's tables".into()));
        }
    } else if app_id != APPLICATION_ID {
        return Err(Error::ForeignDatabase("the database belongs to another application".into()));
    }
    if version > LATEST_VERSION {
        return Err(Error::DatabaseTooNew { found: version, supported: LATEST_VERSION });
    }
    Ok(version)
}

/// Brings the schema to [`LATEST_VERSION`] inside one IMMEDIATE transaction: either every step
/// lands or none does, and a second process opening the same file waits instead of racing us.
fn migrate(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // Checked again under the write lock: another process may have migrated meanwhile.
    let version = check_ownership(&tx)?;
    if version == LATEST_VERSION {
        return Ok(());
    }

    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let to = index as u32 + 1;
        tracing::info!(from = to - 1, to, "migrating store schema");
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", to)?;
    }
    tx.pragma_update(None, "application_id", APPLICATION_ID)?;
    tx.commit()?;
    Ok(())
}
