//! The account's wall clock, reachable from inside a transaction.
//!
//! Clock stamps are made deep inside domain writes that hold only a transaction, so the store
//! registers its [`WallClock`] on its connections as the SQL function `satchel_now_ms()`: code
//! holding a connection reads the account's time, not the process's, with no global state.

use std::sync::Arc;

use rusqlite::Connection;
use rusqlite::functions::FunctionFlags;

use crate::error::Result;
use crate::time::WallClock;

const FUNCTION: &str = "satchel_now_ms";

/// Makes `satchel_now_ms()` on `conn` read `clock`.
pub(super) fn register(conn: &Connection, clock: Arc<WallClock>) -> rusqlite::Result<()> {
    // Not DETERMINISTIC: SQLite must call it each time, as time moves.
    conn.create_scalar_function(FUNCTION, 0, FunctionFlags::SQLITE_UTF8, move |_| Ok(clock.now_ms()))
}

/// The account's wall-clock time (milliseconds since the Unix epoch), read through `conn`.
pub fn now_ms(conn: &Connection) -> Result<i64> {
    Ok(conn.prepare_cached("SELECT satchel_now_ms()")?.query_row([], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

    use super::*;
    use crate::store::Store;

    #[test]
    fn clock_stamps_follow_the_store_clock_not_the_systems() {
        let dir = tempfile::tempdir().unwrap();
        let year = 365 * 86_400_000;
        let clock = Arc::new(WallClock::offset_by(year));
        let store = Store::open_with_clock(dir.path().join("s.db"), Arc::clone(&clock)).unwrap();
        let stamp = store.write(|tx| crate::outbox::stamp(tx, "device-a")).unwrap();
        let ahead = stamp.wall_ms - crate::time::now_ms();
        assert!((year - 5_000..=year).contains(&ahead), "{ahead}");
        // Read through either connection, and moved while open.
        clock.set_offset_ms(0);
        let now = store.read(now_ms).unwrap();
        assert!((now - crate::time::now_ms()).abs() < 5_000);
    }
}
