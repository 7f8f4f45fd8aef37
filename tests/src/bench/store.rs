//! `store_open_migrate_ms`: opening a brand-new store (ownership checks, migrations, WAL, reader)
//! beside raw rusqlite creating the same schema.

use anyhow::Result;
use rusqlite::Connection;
use satchel_core::store::Store;
use satchel_core::store::schema::MIGRATIONS;

use super::report::Row;
use super::{median_time, ms};

const RUNS: usize = 40;

pub fn open_migrate() -> Result<Row> {
    let dir = tempfile::tempdir()?;
    let mut n = 0;
    let ours = median_time(3, RUNS, || {
        n += 1;
        let store = Store::open(dir.path().join(format!("ours-{n}.db")))?;
        store.close()?;
        Ok(())
    })?;
    let raw = median_time(3, RUNS, || {
        n += 1;
        let mut conn = Connection::open(dir.path().join(format!("raw-{n}.db")))?;
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
        let tx = conn.transaction()?;
        for sql in MIGRATIONS {
            tx.execute_batch(sql)?;
        }
        tx.commit()?;
        Ok(())
    })?;
    Ok(Row::at_most(
        "store_open_migrate_ms",
        ms(ours),
        "ms",
        "raw rusqlite: open + WAL + same schema",
        ms(raw),
        2.0,
    ))
}
