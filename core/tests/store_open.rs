//! Opening the store: creation, reopening, and refusing files it must not touch.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use satchel_core::Error;
use satchel_core::store::Store;
use satchel_core::store::schema::{APPLICATION_ID, LATEST_VERSION};

fn file_bytes(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).expect("read test file")
}

#[test]
fn a_fresh_store_is_at_the_latest_version_in_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let (version, app_id, mode, fks) = store
        .read(|conn| {
            Ok((
                conn.query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))?,
                conn.query_row("PRAGMA application_id", [], |r| r.get::<_, i32>(0))?,
                conn.query_row("PRAGMA journal_mode", [], |r| r.get::<_, String>(0))?,
                conn.query_row("PRAGMA foreign_keys", [], |r| r.get::<_, bool>(0))?,
            ))
        })
        .unwrap();
    assert_eq!(version, LATEST_VERSION);
    assert_eq!(app_id, APPLICATION_ID);
    assert_eq!(mode, "wal");
    assert!(fks, "foreign keys must be enforced");
}

#[test]
fn data_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    let store = Store::open(&path).unwrap();
    store.write(|tx| Ok(tx.execute("INSERT INTO meta (key, value) VALUES ('k', 'v')", [])?)).unwrap();
    store.close().unwrap();
    assert!(matches!(store.read(|_| Ok(())), Err(Error::Closed)));
    assert!(matches!(store.write(|_| Ok(())), Err(Error::Closed)));
    store.close().expect("closing twice is harmless");

    let store = Store::open(&path).unwrap();
    let value: String =
        store.read(|c| Ok(c.query_row("SELECT value FROM meta WHERE key = 'k'", [], |r| r.get(0))?)).unwrap();
    assert_eq!(value, "v");
}

#[test]
fn a_failed_write_rolls_back_everything_it_did() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    let result: Result<(), Error> = store.write(|tx| {
        tx.execute("INSERT INTO meta (key, value) VALUES ('a', '1')", [])?;
        Err(Error::Internal("fail half-way".into()))
    });
    assert!(result.is_err());
    let count: i64 = store.read(|c| Ok(c.query_row("SELECT count(*) FROM meta", [], |r| r.get(0))?)).unwrap();
    assert_eq!(count, 0);
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    std::fs::write(&path, b"my thesis draft, definitely not a database\n".repeat(100)).unwrap();
    let before = file_bytes(&path);
    let err = Store::open(&path).err().expect("must refuse");
    assert!(matches!(err, Error::ForeignDatabase(_)), "{err:?}");
    assert!(file_bytes(&path) == before, "the refused file must be left byte for byte as it was");
}

#[test]
fn another_apps_sqlite_database_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('Amina');")
            .unwrap();
    }
    let before = file_bytes(&path);
    let err = Store::open(&path).err().expect("must refuse");
    assert!(matches!(err, Error::ForeignDatabase(_)), "{err:?}");
    assert!(file_bytes(&path) == before, "the refused file must be left byte for byte as it was");

    // Same with a versioned database under another application id.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch("PRAGMA user_version = 1;").unwrap();
    drop(conn);
    let err = Store::open(&path).err().expect("must refuse");
    assert!(matches!(err, Error::ForeignDatabase(_)), "{err:?}");
}

#[test]
fn a_database_from_a_newer_satchel_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    Store::open(&path).unwrap().close().unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!("PRAGMA user_version = {};", LATEST_VERSION + 1)).unwrap();
    }
    let before = file_bytes(&path);
    match Store::open(&path) {
        Err(Error::DatabaseTooNew { found, supported }) => {
            assert_eq!(found, LATEST_VERSION + 1);
            assert_eq!(supported, LATEST_VERSION);
        }
        other => panic!("expected DatabaseTooNew, got {:?}", other.err()),
    }
    assert!(file_bytes(&path) == before, "the refused file must be left byte for byte as it was");
}

#[test]
fn an_empty_file_is_treated_as_a_new_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.db");
    std::fs::write(&path, b"").unwrap();
    let store = Store::open(&path).unwrap();
    assert!(!store.is_closed());
}
