//! Starting over with the server, safely: registration, the reset handshake, and the
//! snapshot reset past the tombstone horizon.
//!
//! When the server answers `reset_required`, the client registers again; the epoch in the reply
//! says which case it is:
//!
//! - **Another epoch** (the server was restored from a backup, or is a new one): the server may
//!   lack things this device already sent. Every local record is queued again in full, and the
//!   device pulls from cursor 0. Merge is a join, so sending what the server has is harmless.
//! - **The same epoch** (this device was away so long that deleted notes' tombstones were purged
//!   past its cursor): records already synced are deleted locally, unsynced ones stay queued, and
//!   the device pulls from 0 — so nothing deleted elsewhere comes back, and nothing unsent is lost.
//!
//! A database copied to another phone gets a new device id (`identity`) and the first case.

use rusqlite::{Transaction, params};
use satchel_protocol::messages::RegisterResponse;

use super::state::{self, SyncState};
use super::{SyncError, local};
use crate::error::Result;
use crate::outbox;

/// Settles the outbox and state after the server registered this device.
pub(crate) fn after_register(
    tx: &Transaction<'_>,
    device_id: &str,
    before: &SyncState,
    response: &RegisterResponse,
) -> Result<()> {
    let next_seq = response.next_seq.max(1);
    let frozen: u64 =
        tx.prepare_cached("SELECT count(device_seq) FROM outbox")?.query_row([], |r| r.get(0))?;
    let acknowledged_through = before.last_seq.saturating_sub(frozen);
    // The server forgot ops it acknowledged: it was restored from an older copy (whether or not
    // the operator renewed its epoch). Deleting synced rows would lose what the copy lacks.
    let server_forgot = before.epoch.is_some() && next_seq - 1 < acknowledged_through;
    let epoch_changed = before.epoch.as_ref().is_some_and(|e| *e != response.epoch) || server_forgot;
    if epoch_changed {
        requeue_everything(tx, device_id)?;
        state::set_cursor_only(tx, 0)?;
    } else if before.reset_pending {
        forget_synced(tx)?;
        state::set_cursor_only(tx, 0)?;
    }
    // Frozen entries the server already applied (their reply was lost) are acknowledged; the
    // rest are numbered on from the server's next seq (identical content and op ids).
    if !epoch_changed {
        tx.prepare_cached("DELETE FROM outbox WHERE device_seq IS NOT NULL AND device_seq < ?1")?
            .execute([next_seq as i64])?;
    }
    let last = renumber_frozen(tx, next_seq)?;
    state::set_registered(tx, device_id, &response.epoch, last)
}

/// The server answered `reset_required`: register again before anything else (see module docs).
pub(crate) fn prepare_reset(tx: &Transaction<'_>) -> Result<()> {
    state::set_reset_pending(tx)
}

/// The server expects `expected` next but this device's next frozen op is later: ops it took
/// for acknowledged are missing there. Queue every record again, numbered from `expected`.
pub(crate) fn resequence(tx: &Transaction<'_>, device_id: &str, expected: Option<u64>) -> Result<()> {
    let Some(expected) = expected.filter(|e| *e >= 1) else {
        return Err(SyncError::Malformed("a seq gap without the expected seq".into()).into());
    };
    requeue_everything(tx, device_id)?;
    state::set_last_seq(tx, expected - 1)
}

/// Queues the full state of every local record (unfrozen, coalescing with what is pending) and
/// drops the frozen entries: their content is part of those records.
pub(crate) fn requeue_everything(tx: &Transaction<'_>, device_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM outbox WHERE device_seq IS NOT NULL")?.execute([])?;
    let stamp = outbox::stamp(tx, device_id)?;
    let mut stmt = tx.prepare_cached("SELECT record FROM sync_record ORDER BY kind, entity_id")?;
    let texts: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    for text in texts {
        let record = local::parse(&text)?;
        let (kind, entity_id) = record.key();
        outbox::enqueue(tx, kind.as_str(), entity_id, &text, &stamp, local::priority_of(&record))?;
    }
    Ok(())
}

/// Deletes every record the server already has (no outbox entry) and its domain row. The pull
/// from 0 that follows brings back all that still exists.
fn forget_synced(tx: &Transaction<'_>) -> Result<()> {
    let synced: Vec<(String, String)> = tx
        .prepare_cached(
            "SELECT kind, entity_id FROM sync_record r
             WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.entity_kind = r.kind AND o.entity_id = r.entity_id)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (kind, entity_id) in synced {
        // The domain row each record materialises to. Settings stay: they are values, not rows
        // that could come back from the dead, and the pull restores the newest anyway.
        let domain = match kind.as_str() {
            "progress" => Some("DELETE FROM progress WHERE lesson_id = ?1"),
            "quiz_attempt" => Some("DELETE FROM quiz_attempt WHERE id = ?1"),
            "note" => Some("DELETE FROM note WHERE id = ?1"),
            "enrollment" => Some("DELETE FROM enrollment WHERE course_id = ?1"),
            _ => None,
        };
        if let Some(sql) = domain {
            tx.prepare_cached(sql)?.execute([&entity_id])?;
        }
        tx.prepare_cached("DELETE FROM sync_record WHERE kind = ?1 AND entity_id = ?2")?
            .execute(params![kind, entity_id])?;
    }
    Ok(())
}

/// Numbers the frozen entries `next_seq, next_seq + 1, …` in their order. Returns the last
/// number given (`next_seq - 1` when none are frozen).
fn renumber_frozen(tx: &Transaction<'_>, next_seq: u64) -> Result<u64> {
    let first: Option<i64> =
        tx.prepare_cached("SELECT min(device_seq) FROM outbox")?.query_row([], |r| r.get(0))?;
    let Some(first) = first else { return Ok(next_seq - 1) };
    let seqs: Vec<i64> = tx
        .prepare_cached("SELECT seq FROM outbox WHERE device_seq IS NOT NULL ORDER BY device_seq")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    if first as u64 == next_seq && seqs.len() as u64 == 1 + max_frozen(tx)? - next_seq {
        return Ok(next_seq - 1 + seqs.len() as u64);
    }
    // Two steps, so the unique index never sees two entries with one number.
    tx.prepare_cached("UPDATE outbox SET device_seq = -device_seq WHERE device_seq IS NOT NULL")?
        .execute([])?;
    let mut number = tx.prepare_cached("UPDATE outbox SET device_seq = ?2 WHERE seq = ?1")?;
    let mut last = next_seq - 1;
    for seq in seqs {
        last += 1;
        number.execute(params![seq, last as i64])?;
    }
    Ok(last)
}

fn max_frozen(tx: &Transaction<'_>) -> Result<u64> {
    let max: Option<i64> =
        tx.prepare_cached("SELECT max(device_seq) FROM outbox")?.query_row([], |r| r.get(0))?;
    Ok(max.unwrap_or(0) as u64)
}

/// The database is a copy (see `identity`): this device is new to the server. Forget the
/// server's state and queue every record again under the new id.
pub(crate) fn start_over_as_new_device(tx: &Transaction<'_>, device_id: &str) -> Result<()> {
    state::forget_server(tx)?;
    requeue_everything(tx, device_id)
}
