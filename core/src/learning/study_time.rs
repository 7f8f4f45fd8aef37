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
