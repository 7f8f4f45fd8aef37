//! One push batch in one transaction (see [`SyncStore::push`](crate::sync::store::SyncStore::push)),
//! with the same answers as the SQLite backend but a fixed number of round trips: the learner
//! lock, one lookup of every op id and one of every record the batch touches, the merge in
//! memory, then one statement each for records, ops, the device and the learner.

use std::collections::HashMap;

use deadpool_postgres::Transaction;
use satchel_protocol::Record;
use satchel_protocol::messages::{
    MAX_FUTURE_SKEW_MS, OpResult, Outcome, PROTOCOL_VERSION, PushRequest, PushResponse, RejectCode,
};

use super::{Key, epoch, from_db, key_of, lock_learner, set_cursor, stored_records, to_db, upsert_records};
use crate::sync::store::StoreError;
use crate::sync::store::common::{check_epoch, merged_if_changed, reject_code_from_text, reject_code_text};

/// What the server answered an op it took: given again when the op comes again.
#[derive(Clone)]
enum Taken {
    Applied { clamped_to: Option<i64> },
    Rejected { code: RejectCode, reason: String },
}

impl Taken {
    /// What to answer again for an op first answered `result`.
    fn of(result: &OpResult) -> Taken {
        match &result.outcome {
            Outcome::Rejected { code, reason } => Taken::Rejected { code: *code, reason: reason.clone() },
            _ => Taken::Applied { clamped_to: result.clamped_to },
        }
    }

    fn answer(&self, seq: u64) -> OpResult {
        match self {
            Taken::Applied { clamped_to } => {
                OpResult { seq, outcome: Outcome::Duplicate, clamped_to: *clamped_to }
            }
            Taken::Rejected { code, reason } => OpResult {
                seq,
                outcome: Outcome::Rejected { code: *code, reason: reason.clone() },
                clamped_to: None,
            },
        }
    }
}

/// The op rows a batch adds, as columns for one `unnest` insert.
#[derive(Default)]
struct NewOps {
    op_ids: Vec<String>,
    seqs: Vec<i64>,
    outcomes: Vec<&'static str>,
    reasons: Vec<Option<String>>,
    codes: Vec<Option<String>>,
    clamps: Vec<Option<i64>>,
}

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
    let mut last_seq =
        device_last_seq(tx, learner, &request.device_id).await?.ok_or(StoreError::UnknownDevice)?;
    let mut cursor = learner_cursor.ok_or(StoreError::UnknownDevice)?;
    // Batches are consecutive (PushRequest::validate), so a gap can only be at the first new op.
    if let Some(first_new) = request.ops.iter().find(|op| op.seq > last_seq)
        && first_new.seq != last_seq + 1
    {
        return Err(StoreError::SeqGap { expected: last_seq + 1, got: first_new.seq });
    }
    // UUIDs compare case-insensitively; store one spelling.
    let op_ids: Vec<String> = request.ops.iter().map(|op| op.op_id.to_ascii_lowercase()).collect();
    let keys: Vec<Key> = request.ops.iter().map(|op| key_of(&op.record)).collect();
    let (mut taken, stored) =
        tokio::try_join!(taken_ops(tx, learner, &op_ids), stored_records(tx, learner, &keys))?;

    let clamp_limit = now_ms.saturating_add(MAX_FUTURE_SKEW_MS);
    let mut results = Vec::with_capacity(request.ops.len());
    let mut new_ops = NewOps::default();
    // Each key's latest merged state in this batch and the cursor it took.
    let mut changed: HashMap<Key, (Record, u64)> = HashMap::new();
    for ((op, op_id), key) in request.ops.iter().zip(op_ids).zip(keys) {
        if op.seq <= last_seq {
            // An op id the server has no row for (an old seq under another id, or a resend
            // after a restore) is a plain duplicate.
            let again = taken
                .get(&op_id)
                .map_or(OpResult { seq: op.seq, outcome: Outcome::Duplicate, clamped_to: None }, |t| {
                    t.answer(op.seq)
                });
            results.push(again);
            continue;
        }
        last_seq = op.seq;
        if let Some(again) = taken.get(&op_id) {
            results.push(again.answer(op.seq));
            continue;
        }
        let result = match op.record.validate() {
            Err(error) => OpResult::rejected(op.seq, &error),
            Ok(()) => {
                let mut record = op.record.clone();
                let clamped = record.clamp(clamp_limit);
                let current = changed.get(&key).map(|(record, _)| record).or_else(|| stored.get(&key));
                if let Some(merged) = merged_if_changed(current, record)? {
                    cursor += 1;
                    changed.insert(key, (merged, cursor));
                }
                OpResult {
                    seq: op.seq,
                    outcome: Outcome::Applied,
                    clamped_to: clamped.then_some(clamp_limit),
                }
            }
        };
        let answer = Taken::of(&result);
        new_ops.add(&op_id, op.seq, &answer)?;
        taken.insert(op_id, answer);
        results.push(result);
    }

    let changed: Vec<(Key, &Record, u64)> =
        changed.iter().map(|(key, (record, cursor))| (key.clone(), record, *cursor)).collect();
    // Pipelined: PostgreSQL runs them in order on this connection, without waiting for each reply.
    tokio::try_join!(
        upsert_records(tx, learner, &changed),
        insert_ops(tx, learner, &request.device_id, &new_ops),
        update_device(tx, learner, &request.device_id, last_seq, now_ms),
        set_cursor(tx, learner, cursor),
    )?;
    Ok(PushResponse {
        protocol: PROTOCOL_VERSION,
        epoch,
        applied_through: last_seq,
        results,
        server_time_ms: now_ms,
    })
}

impl NewOps {
    fn add(&mut self, op_id: &str, seq: u64, answer: &Taken) -> Result<(), StoreError> {
        self.op_ids.push(op_id.to_owned());
        self.seqs.push(to_db(seq)?);
        match answer {
            Taken::Applied { clamped_to } => {
                self.outcomes.push("applied");
                self.reasons.push(None);
                self.codes.push(None);
                self.clamps.push(*clamped_to);
            }
            Taken::Rejected { code, reason } => {
                self.outcomes.push("rejected");
                self.reasons.push(Some(reason.clone()));
                self.codes.push(Some(reject_code_text(*code)?));
                self.clamps.push(None);
            }
        }
        Ok(())
    }
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
        let outcome: String = row.try_get(1)?;
        let answer = if outcome == "rejected" {
            let code: Option<String> = row.try_get(3)?;
            Taken::Rejected {
                code: code.as_deref().map_or(RejectCode::Other, reject_code_from_text),
                reason: row.try_get::<_, Option<String>>(2)?.unwrap_or_default(),
            }
        } else {
            Taken::Applied { clamped_to: row.try_get(4)? }
        };
        taken.insert(row.try_get(0)?, answer);
    }
    Ok(taken)
}

async fn insert_ops(
    tx: &Transaction<'_>,
    learner: &str,
    device: &str,
    ops: &NewOps,
) -> Result<(), StoreError> {
    if ops.op_ids.is_empty() {
        return Ok(());
    }
    let statement = tx
        .prepare_cached(
            "INSERT INTO op (learner_id, device_id, op_id, seq, outcome, reason, reject_code, clamped_to)
             SELECT $1, $2, * FROM unnest($3::text[], $4::int8[], $5::text[], $6::text[], $7::text[], $8::int8[])",
        )
        .await?;
    tx.execute(
        &statement,
        &[&learner, &device, &ops.op_ids, &ops.seqs, &ops.outcomes, &ops.reasons, &ops.codes, &ops.clamps],
    )
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
