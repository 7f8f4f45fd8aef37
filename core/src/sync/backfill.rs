//! Records for data written before sync existed.
//!
//! A database upgraded from before schema 6 holds progress, attempts, notes, enrolments and the
//! goal, and outbox entries in the old change format. The first open builds each entity's record
//! from its domain row (all of it this device's work) and queues it; queuing coalesces with the
//! entity's old pending entry, which keeps that entry's operation id. Runs once, in the opening
//! transaction.

use rusqlite::Transaction;

use super::{local, state};
use crate::error::Result;
use crate::learning::{goals, progress, quiz};
use crate::notes;

pub(crate) fn run_if_needed(tx: &Transaction<'_>, device_id: &str) -> Result<()> {
    if !state::load(tx)?.needs_backfill {
        return Ok(());
    }
    progress::backfill_records(tx, device_id)?;
    quiz::backfill_records(tx, device_id)?;
    notes::sync::backfill_records(tx, device_id)?;
    goals::backfill_records(tx, device_id)?;
    // An old entry whose entity has no row any more has nothing to send.
    let stale: Vec<(i64, String)> = tx
        .prepare_cached("SELECT seq, change FROM outbox")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (seq, change) in stale {
        if local::parse(&change).is_err() {
            tx.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?.execute([seq])?;
        }
    }
    state::set_backfilled(tx)
}
