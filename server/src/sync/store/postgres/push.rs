//! One push batch in one transaction (see [`SyncStore::push`](crate::sync::store::SyncStore::push))
//! in a fixed number of round trips: the learner lock, one lookup of every op id and one of every
//! record the batch touches, the [plan](crate::sync::store::batch::plan) in memory, then one
//! statement each for records, ops, the device and the learner, pipelined.

use std::collections::HashMap;

use deadpool_postgres::Transaction;
use satchel_protocol::messages::{PushRequest, PushResponse};

use super::{epoch, from_db, lock_learner, set_cursor, stored_records, to_db, upsert_records};
use crate::sync::store::StoreError;
use crate::sync::store::batch::{self, Key, Taken, key_of, stored_op_id};
use crate::sync::store::common::check_epoch;

pub(super) async fn push(
    tx: &Transaction<'_>,
    learner: &str,
    request: &PushRequest,
    now_ms: i64,
) -> Result<PushResponse, StoreError> {
    let epoch = epoch(tx).await?;
    check_epoch(&epoch, request.epoch.as_deref())?;
    // The lock first: the device's last seq is read after it, so no other push of this learner
    // is between that read and this commit.
    let learner_cursor = lock_learner(tx, learner).await?;
    let last_seq =
        device_last_seq(tx, learner, &request.device_id).await?.ok_or(StoreError::UnknownDevice)?;
    let cursor = learner_cursor.ok_or(StoreError::UnknownDevice)?;
    let op_ids: Vec<String> = request.ops.iter().map(|op| stored_op_id(&op.op_id)).collect();
    let keys: Vec<Key> = request.ops.iter().map(|op| key_of(&op.record)).collect();
    let (taken, stored) =
        tokio::try_join!(taken_ops(tx, learner, &op_ids), stored_records(tx, learner, &keys))?;
    let plan = batch::plan(request, last_seq, cursor, now_ms, taken, &stored)?;

    let changed: Vec<(Key, &_, u64)> =
        plan.changed.iter().map(|(key, record, cursor)| (key.clone(), record, *cursor)).collect();
    // Pipelined: PostgreSQL runs them in order on this connection, without waiting for each reply.
    tokio::try_join!(
        upsert_records(tx, learner, &changed),
        insert_ops(tx, learner, &request.device_id, &plan.taken),
        update_device(tx, learner, &request.device_id, plan.last_seq, now_ms),
        set_cursor(tx, learner, plan.cursor),
    )?;
    Ok(plan.response(epoch, now_ms))
}

async fn device_last_seq(
    tx: &Transaction<'_>,
    learner: &str,
    device: &str,
) -> Result<Option<u64>, StoreError> {
    let statement =
        tx.prepare_cached("SELECT last_seq FROM device WHERE learner_id = $1 AND device_id = $2").await?;
    tx.query_opt(&statement, &[&learner, &device]).await?.map(|row| from_db(row.try_get(0)?)).transpose()
}

/// The answers of the ops of `op_ids` this learner's server already took.
async fn taken_ops(
    tx: &Transaction<'_>,
    learner: &str,
    op_ids: &[String],
) -> Result<HashMap<String, Taken>, StoreError> {
    let statement = tx
        .prepare_cached(
            "SELECT op_id, outcome, reason, reject_code, clamped_to FROM op
             WHERE learner_id = $1 AND op_id = ANY($2)",
        )
        .await?;
    let mut taken = HashMap::new();
    for row in tx.query(&statement, &[&learner, &op_ids]).await? {
        let outcome: &str = row.try_get(1)?;
        let answer = Taken::from_columns(outcome, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
        taken.insert(row.try_get(0)?, answer);
    }
    Ok(taken)
}

/// Logs the ops a batch took, in one statement.
async fn insert_ops(
    tx: &Transaction<'_>,
    learner: &str,
    device: &str,
    ops: &[(String, u64, Taken)],
) -> Result<(), StoreError> {
    if ops.is_empty() {
        return Ok(());
    }
    let mut op_ids = Vec::with_capacity(ops.len());
    let mut seqs = Vec::with_capacity(ops.len());
    let mut outcomes = Vec::with_capacity(ops.len());
    let mut reasons = Vec::with_capacity(ops.len());
    let mut codes = Vec::with_capacity(ops.len());
    let mut clamps = Vec::with_capacity(ops.len());
    for (op_id, seq, answer) in ops {
        let (outcome, reason, code, clamped_to) = answer.columns()?;
        op_ids.push(op_id.as_str());
        seqs.push(to_db(*seq)?);
        outcomes.push(outcome);
        reasons.push(reason);
        codes.push(code);
        clamps.push(clamped_to);
    }
    let statement = tx
        .prepare_cached(
            "INSERT INTO op (learner_id, device_id, op_id, seq, outcome, reason, reject_code, clamped_to)
             SELECT $1, $2, * FROM unnest($3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::int8[])",
        )
        .await?;
    tx.execute(&statement, &[&learner, &device, &op_ids, &seqs, &outcomes, &reasons, &codes, &clamps])
        .await?;
    Ok(())
}

async fn update_device(
    tx: &Transaction<'_>,
    learner: &str,
    device: &str,
    last_seq: u64,
    now_ms: i64,
) -> Result<(), StoreError> {
    let statement = tx
        .prepare_cached(
            "UPDATE device SET last_seq = $3, last_seen_ms = $4 WHERE learner_id = $1 AND device_id = $2",
        )
        .await?;
    tx.execute(&statement, &[&learner, &device, &to_db(last_seq)?, &now_ms]).await?;
    Ok(())
}
