//! Every frozen old schema upgrades to exactly what a fresh database looks like, keeping its data.
//!
//! When a migration is added, freeze the previous version: dump a database created by the last
//! release (schema and a few rows, including pending outbox entries) to
//! `fixtures/schema_vN.sql` and add it to `FIXTURES`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use rusqlite::Connection;
use satchel_core::store::Store;

/// (version, frozen SQL of a database at that version with sample rows).
const FIXTURES: &[(u32, &str)] = &[
    (1, include_str!("fixtures/schema_v1.sql")),
    (2, include_str!("fixtures/schema_v2.sql")),
    (3, include_str!("fixtures/schema_v3.sql")),
    (4, include_str!("fixtures/schema_v4.sql")),
    (5, include_str!("fixtures/schema_v5.sql")),
    (6, include_str!("fixtures/schema_v6.sql")),
];

#[test]
fn every_frozen_version_upgrades_to_the_fresh_schema() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = Store::open(dir.path().join("fresh.db")).unwrap();
    let fresh_schema = fresh.read(|c| Ok(common::schema(c))).unwrap();

    for (version, sql) in FIXTURES {
        let path = dir.path().join(format!("v{version}.db"));
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(sql).unwrap();
        let outbox_before: Vec<String> = outbox(&conn);
        let downloads_before = downloads(&conn);
        assert!(!outbox_before.is_empty(), "fixture v{version} must hold pending outbox entries");
        drop(conn);

        let upgraded = Store::open(&path).unwrap();
        let upgraded_schema = upgraded.read(|c| Ok(common::schema(c))).unwrap();
        assert_eq!(upgraded_schema, fresh_schema, "schema after upgrading from v{version}");
        let outbox_after = upgraded.read(|c| Ok(outbox(c))).unwrap();
        assert_eq!(outbox_after, outbox_before, "pending outbox entries survive the upgrade from v{version}");
        let downloads_after = upgraded.read(|c| Ok(downloads(c))).unwrap();
        assert_eq!(downloads_after, downloads_before, "download records survive the upgrade from v{version}");
        let courses: i64 =
            upgraded.read(|c| Ok(c.query_row("SELECT count(*) FROM course", [], |r| r.get(0))?)).unwrap();
        assert!(courses > 0, "catalog rows survive the upgrade from v{version}");
    }
}

/// (lesson, rendition, state) of every download record.
fn downloads(conn: &Connection) -> Vec<(String, String, String)> {
    conn.prepare("SELECT lesson_id, rendition, state FROM download ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn outbox(conn: &Connection) -> Vec<String> {
    conn.prepare("SELECT op_id, entity_kind, entity_id, change, hlc FROM outbox ORDER BY seq")
        .unwrap()
        .query_map([], |r| {
            Ok(format!(
                "{} {} {} {} {}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A course fetched from a signed manifest before publisher pins existed (schema 4) has no pin
/// yet; its source URL still marks it as signed, so an unsigned import cannot replace it.
#[test]
fn a_course_fetched_before_pins_existed_refuses_unsigned_imports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v4.db");
    Connection::open(&path).unwrap().execute_batch(include_str!("fixtures/schema_v4.sql")).unwrap();
    let store = Store::open(&path).unwrap();
    let before = store.read(|c| Ok(common::dump(c))).unwrap();
    let mut newer: serde_json::Value = serde_json::from_str(common::SAMPLE_MANIFEST).unwrap();
    newer["version"] = serde_json::json!(7);
    let err = satchel_core::catalog::import_manifest(&store, &newer.to_string()).unwrap_err();
    assert!(
        matches!(err, satchel_core::Error::Content(satchel_core::content::ContentError::SignedCourse { .. })),
        "{err:?}"
    );
    assert_eq!(store.read(|c| Ok(common::dump(c))).unwrap(), before);
}

/// A database from before sync opened as an account: every pending change becomes its entity's
/// sync record, keeping the operation id it was queued under, and nothing else is queued.
#[test]
fn pending_changes_from_before_sync_become_records_under_their_op_ids() {
    let dir = tempfile::tempdir().unwrap();
    let conn = Connection::open(dir.path().join("satchel.db")).unwrap();
    conn.execute_batch(include_str!("fixtures/schema_v4.sql")).unwrap();
    let before: Vec<(String, String, String)> = conn
        .prepare("SELECT op_id, entity_kind, entity_id FROM outbox ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    drop(conn);

    let account = satchel_core::account::Account::open(dir.path(), "", &[]).unwrap();
    let after = account.store().read(satchel_core::outbox::pending).unwrap();
    let mut ids: Vec<(String, String, String)> =
        after.iter().map(|e| (e.op_id.clone(), e.entity_kind.clone(), e.entity_id.clone())).collect();
    ids.sort();
    let mut expected = before.clone();
    expected.sort();
    assert_eq!(ids, expected);
    for entry in &after {
        let record: satchel_protocol::Record = serde_json::from_str(&entry.change).unwrap();
        assert_eq!(record.key().0.as_str(), entry.entity_kind);
        assert_eq!(record.key().1, entry.entity_id);
        record.validate().unwrap();
    }
    let records: i64 = account
        .store()
        .read(|c| Ok(c.query_row("SELECT count(*) FROM sync_record", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(records as usize, before.len());
    // Opening again changes nothing.
    drop(account);
    let again = satchel_core::account::Account::open(dir.path(), "", &[]).unwrap();
    assert_eq!(again.store().read(satchel_core::outbox::pending).unwrap(), after);
}
