//! Learning time by wall-clock quarter hour, for daily totals, the weekly goal and the streak.

use rusqlite::{Connection, Transaction, params};

use crate::error::Result;
use crate::time::now_ms;

/// Bucket width: 15 minutes, so local days can be cut at any time-zone offset in use.
pub const BUCKET_MS: i64 = 15 * 60 * 1000;

/// Adds learning time to the current bucket.
pub fn add(tx: &Transaction<'_>, ms: i64) -> Result<()> {
    if ms > 0 {
        tx.prepare_cached(
            "INSERT INTO study_time (bucket, ms) VALUES (?1, ?2)
             ON CONFLICT (bucket) DO UPDATE SET ms = ms + excluded.ms",
        )?
        .execute(params![now_ms().div_euclid(BUCKET_MS), ms])?;
    }
    Ok(())
}

/// Learning time per local day (days since 1970-01-01 in the given offset), oldest first.
pub fn per_local_day(conn: &Connection, utc_offset_minutes: i32) -> Result<Vec<(i64, i64)>> {
    let offset_ms = i64::from(utc_offset_minutes) * 60_000;
    let mut stmt = conn.prepare_cached(
        "SELECT (bucket * ?1 + ?2) / 86400000 AS day, sum(ms)
         FROM study_time GROUP BY day ORDER BY day",
    )?;
    let days = stmt
        .query_map(params![BUCKET_MS, offset_ms], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn quarter_hours_fall_on_local_days_and_nothing_is_stored_for_no_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("s.db")).unwrap();
        store.write(|tx| add(tx, 0)).unwrap();
        assert!(store.read(|c| per_local_day(c, 0)).unwrap().is_empty(), "no row for no time");
        // The last quarter hour of day 20,000 (UTC) and the first of day 20,001.
        let per_day = 96;
        assert_eq!(BUCKET_MS * per_day, 86_400_000);
        store
            .write(|tx| {
                tx.execute(
                    "INSERT INTO study_time (bucket, ms) VALUES (?1, 10), (?2, 20)",
                    [20_000 * per_day + 95, 20_001 * per_day],
                )?;
                Ok(())
            })
            .unwrap();
        assert_eq!(store.read(|c| per_local_day(c, 0)).unwrap(), [(20_000, 10), (20_001, 20)]);
        // At UTC+0:15 both are on day 20,001; at UTC-0:15 both on day 20,000.
        assert_eq!(store.read(|c| per_local_day(c, 15)).unwrap(), [(20_001, 30)]);
        assert_eq!(store.read(|c| per_local_day(c, -15)).unwrap(), [(20_000, 30)]);
        // Time added now lands in today's bucket and adds up.
        store.write(|tx| add(tx, 5)).unwrap();
        store.write(|tx| add(tx, 7)).unwrap();
        let today = crate::time::now_ms().div_euclid(86_400_000);
        assert_eq!(store.read(|c| per_local_day(c, 0)).unwrap().last(), Some(&(today, 12)));
    }
}
