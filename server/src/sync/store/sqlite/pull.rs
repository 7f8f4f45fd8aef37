//! One pull page (see [`SyncStore::pull`](crate::sync::store::SyncStore::pull)).

use rusqlite::{OptionalExtension, Transaction, params};
use satchel_protocol::messages::{PROTOCOL_VERSION, PullRequest, PullResponse, PulledRecord};

use super::{check_epoch, epoch, record_from_json};
use crate::sync::store::StoreError;
use crate::sync::store::common::RECORD_OVERHEAD_BYTES;

pub(super) fn pull(
    tx: &Transaction<'_>,
    learner: &str,
    request: &PullRequest,
    now_ms: i64,
) -> Result<PullResponse, StoreError> {
    let epoch = epoch(tx)?;
    check_epoch(&epoch, request.epoch.as_deref())?;
    let known = tx
        .prepare_cached("SELECT 1 FROM device WHERE learner_id = ?1 AND device_id = ?2")?
        .query_row(params![learner, request.device_id], |_| Ok(()))
        .optional()?
        .is_some();
    if !known {
        return Err(StoreError::UnknownDevice);
    }
    let (learner_cursor, horizon): (u64, u64) = tx
        .prepare_cached("SELECT cursor, horizon FROM learner WHERE learner_id = ?1")?
        .query_row([learner], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if request.cursor > learner_cursor {
        return Err(StoreError::ResetRequired(
            "the cursor is ahead of the server's (the server was restored from an older copy)",
        ));
    }
    if request.cursor > 0 && request.cursor < horizon {
        return Err(StoreError::ResetRequired("the cursor is older than the tombstone horizon"));
    }
    // The device holds everything up to the cursor it sends: that is what holds the horizon.
    tx.prepare_cached(
        "UPDATE device SET pulled_through = ?3, last_seen_ms = ?4 WHERE learner_id = ?1 AND device_id = ?2",
    )?
    .execute(params![learner, request.device_id, request.cursor, now_ms])?;

    let budget = request.page_bytes() as usize;
    let mut used = 0;
    let mut records = Vec::new();
    let mut more = false;
    let mut statement = tx.prepare_cached(
        "SELECT cursor, body FROM record WHERE learner_id = ?1 AND cursor > ?2 ORDER BY cursor",
    )?;
    let mut rows = statement.query(params![learner, request.cursor])?;
    while let Some(row) = rows.next()? {
        let cursor: u64 = row.get(0)?;
        let body: String = row.get(1)?;
        let cost = body.len() + RECORD_OVERHEAD_BYTES;
        // Always at least one record, or a record larger than a page would wedge the device.
        if !records.is_empty() && used + cost > budget {
            more = true;
            break;
        }
        used += cost;
        records.push(PulledRecord { cursor, record: record_from_json(&body)? });
    }
    // A full read sees every change up to the learner's cursor (the write lock is held), so the
    // client may store that even when the last changes were purged tombstones.
    let next_cursor = match records.last() {
        Some(last) if more => last.cursor,
        _ => learner_cursor,
    };
    Ok(PullResponse { protocol: PROTOCOL_VERSION, epoch, records, next_cursor, more, server_time_ms: now_ms })
}
