//! One push batch in one transaction (see [`SyncStore::push`](crate::sync::store::SyncStore::push)):
//! what the store holds for the batch is read, the [plan](crate::sync::store::batch::plan) made in
//! memory, and its records, ops, device and learner written.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};
use satchel_protocol::Record;
use satchel_protocol::messages::{PushRequest, PushResponse};

use super::{check_epoch, epoch, record_from_json, record_to_json};
use crate::sync::store::StoreError;
use crate::sync::store::batch::{self, Key, Taken, key_of, stored_op_id};
use crate::sync::store::common::merged_if_changed;

pub(super) fn push(
    tx: &Transaction<'_>,
    learner: &str,
    request: &PushRequest,
    now_ms: i64,
) -> Result<PushResponse, StoreError> {
    let epoch = epoch(tx)?;
    check_epoch(&epoch, request.epoch.as_deref())?;
    let last_seq: u64 = tx
        .prepare_cached("SELECT last_seq FROM device WHERE learner_id = ?1 AND device_id = ?2")?
        .query_row(params![learner, request.device_id], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::UnknownDevice)?;
    let cursor: u64 = tx
        .prepare_cached("SELECT cursor FROM learner WHERE learner_id = ?1")?
        .query_row([learner], |r| r.get(0))?;
    let mut taken = HashMap::new();
    let mut stored = HashMap::new();
    for op in &request.ops {
        let op_id = stored_op_id(&op.op_id);
        if let Some(answer) = taken_op(tx, learner, &op_id)? {
            taken.insert(op_id, answer);
        }
        let key = key_of(&op.record);
        if let Some(record) = stored_record(tx, learner, &key)? {
            stored.insert(key, record);
        }
    }
    let plan = batch::plan(request, last_seq, cursor, now_ms, taken, &stored)?;

    for (key, record, cursor) in &plan.changed {
        write_record(tx, learner, key, record, *cursor)?;
    }
    for (op_id, seq, answer) in &plan.taken {
        let (outcome, reason, code, clamped_to) = answer.columns()?;
        tx.prepare_cached(
            "INSERT INTO op (learner_id, op_id, device_id, seq, outcome, reason, reject_code, clamped_to)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            learner,
            op_id,
            request.device_id,
            seq,
            outcome,
            reason,
            code,
            clamped_to
        ])?;
    }
    tx.prepare_cached(
        "UPDATE device SET last_seq = ?3, last_seen_ms = ?4 WHERE learner_id = ?1 AND device_id = ?2",
    )?
    .execute(params![learner, request.device_id, plan.last_seq, now_ms])?;
    tx.prepare_cached("UPDATE learner SET cursor = ?2 WHERE learner_id = ?1")?
        .execute(params![learner, plan.cursor])?;
    Ok(plan.response(epoch, now_ms))
}

/// The answer the server gave the op `op_id` of `learner`, if it took it.
fn taken_op(tx: &Transaction<'_>, learner: &str, op_id: &str) -> Result<Option<Taken>, StoreError> {
    tx.prepare_cached(
        "SELECT outcome, reason, reject_code, clamped_to FROM op WHERE learner_id = ?1 AND op_id = ?2",
    )?
    .query_row(params![learner, op_id], |r| {
        Ok(Taken::from_columns(&r.get::<_, String>(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .optional()
    .map_err(StoreError::from)
}

fn stored_record(
    tx: &Transaction<'_>,
    learner: &str,
    (kind, entity_id): &Key,
) -> Result<Option<Record>, StoreError> {
    let body: Option<String> = tx
        .prepare_cached("SELECT body FROM record WHERE learner_id = ?1 AND kind = ?2 AND entity_id = ?3")?
        .query_row(params![learner, kind, entity_id], |r| r.get(0))
        .optional()?;
    body.as_deref().map(record_from_json).transpose()
}

fn write_record(
    tx: &Transaction<'_>,
    learner: &str,
    (kind, entity_id): &Key,
    record: &Record,
    cursor: u64,
) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO record (learner_id, kind, entity_id, cursor, tombstone, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (learner_id, kind, entity_id)
         DO UPDATE SET cursor = excluded.cursor, tombstone = excluded.tombstone, body = excluded.body",
    )?
    .execute(params![learner, kind, entity_id, cursor, record.is_tombstone(), record_to_json(record)?])?;
    Ok(())
}

/// `stored = merge(stored, record)` under `cursor` if that changes anything (a record the
/// server made, such as a grade). Returns whether it did (and so took the cursor).
pub(super) fn merge_into_store(
    tx: &Transaction<'_>,
    learner: &str,
    record: Record,
    cursor: u64,
) -> Result<bool, StoreError> {
    let key = key_of(&record);
    let stored = stored_record(tx, learner, &key)?;
    let Some(merged) = merged_if_changed(stored.as_ref(), record)? else { return Ok(false) };
    write_record(tx, learner, &key, &merged, cursor)?;
    Ok(true)
}
