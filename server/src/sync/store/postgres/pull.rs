//! One pull page (see [`SyncStore::pull`](crate::sync::store::SyncStore::pull)).

use deadpool_postgres::Transaction;
use satchel_protocol::messages::{PROTOCOL_VERSION, PullRequest, PullResponse, PulledRecord};

use super::{epoch, from_db, to_db};
use crate::sync::store::StoreError;
use crate::sync::store::common::{RECORD_OVERHEAD_BYTES, check_epoch, record_from_json};

/// Rows read for one page at most: a page of the smallest records is still bounded in memory
/// and time, and the device asks for the rest.
const PAGE_ROWS: i64 = 4096;

pub(super) async fn pull(
    tx: &Transaction<'_>,
    learner: &str,
    request: &PullRequest,
    now_ms: i64,
) -> Result<PullResponse, StoreError> {
    let epoch = epoch(tx).await?;
    check_epoch(&epoch, request.epoch.as_deref())?;
    // The learner's committed cursor, read before the records: every change up to it has
    // committed (see the module docs), so reading only up to it never skips one.
    let statement = tx
        .prepare_cached(
            "SELECT l.cursor, l.horizon FROM device d JOIN learner l ON l.learner_id = d.learner_id
             WHERE d.learner_id = $1 AND d.device_id = $2",
        )
        .await?;
    let row =
        tx.query_opt(&statement, &[&learner, &request.device_id]).await?.ok_or(StoreError::UnknownDevice)?;
    let (learner_cursor, horizon) = (from_db(row.try_get(0)?)?, from_db(row.try_get(1)?)?);
    if request.cursor > learner_cursor {
        return Err(StoreError::ResetRequired(
            "the cursor is ahead of the server's (the server was restored from an older copy)",
        ));
    }
    if request.cursor > 0 && request.cursor < horizon {
        return Err(StoreError::ResetRequired("the cursor is older than the tombstone horizon"));
    }
    let (from, through) = (to_db(request.cursor)?, to_db(learner_cursor)?);
    let (acknowledge, read) = tokio::try_join!(
        tx.prepare_cached(
            "UPDATE device SET pulled_through = $3, last_seen_ms = $4 WHERE learner_id = $1 AND device_id = $2",
        ),
        tx.prepare_cached(
            "SELECT cursor, body FROM record WHERE learner_id = $1 AND cursor > $2 AND cursor <= $3
             ORDER BY cursor LIMIT $4",
        ),
    )?;
    // The device holds everything up to the cursor it sends: that is what holds the horizon.
    let acknowledge_params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
        [&learner, &request.device_id, &from, &now_ms];
    let read_params: [&(dyn tokio_postgres::types::ToSql + Sync); 4] =
        [&learner, &from, &through, &PAGE_ROWS];
    let (_, rows) =
        tokio::try_join!(tx.execute(&acknowledge, &acknowledge_params), tx.query(&read, &read_params))?;

    let budget = request.page_bytes() as usize;
    let mut used = 0;
    let mut records = Vec::new();
    let mut more = rows.len() as i64 == PAGE_ROWS;
    for row in &rows {
        let body: &str = row.try_get(1)?;
        let cost = body.len() + RECORD_OVERHEAD_BYTES;
        // Always at least one record, or a record larger than a page would wedge the device.
        if !records.is_empty() && used + cost > budget {
            more = true;
            break;
        }
        used += cost;
        records.push(PulledRecord { cursor: from_db(row.try_get(0)?)?, record: record_from_json(body)? });
    }
    let next_cursor = match records.last() {
        Some(last) if more => last.cursor,
        _ => learner_cursor,
    };
    Ok(PullResponse { protocol: PROTOCOL_VERSION, epoch, records, next_cursor, more, server_time_ms: now_ms })
}
