//! One push batch in one transaction (see [`SyncStore::push`](crate::sync::store::SyncStore::push)).

use rusqlite::{OptionalExtension, Transaction, params};
use satchel_protocol::Record;
use satchel_protocol::messages::{
    MAX_FUTURE_SKEW_MS, OpResult, Outcome, PROTOCOL_VERSION, PushRequest, PushResponse, RejectCode,
};

use super::{check_epoch, epoch, record_from_json, record_to_json};
use crate::sync::store::StoreError;
use crate::sync::store::common::{merged_if_changed, reject_code_from_text, reject_code_text};

pub(super) fn push(
    tx: &Transaction<'_>,
    learner: &str,
    request: &PushRequest,
    now_ms: i64,
) -> Result<PushResponse, StoreError> {
    let epoch = epoch(tx)?;
    check_epoch(&epoch, request.epoch.as_deref())?;
    let mut last_seq: u64 = tx
        .prepare_cached("SELECT last_seq FROM device WHERE learner_id = ?1 AND device_id = ?2")?
        .query_row(params![learner, request.device_id], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::UnknownDevice)?;
    // Batches are consecutive (PushRequest::validate), so a gap can only be at the first new op.
    if let Some(first_new) = request.ops.iter().find(|op| op.seq > last_seq)
        && first_new.seq != last_seq + 1
    {
        return Err(StoreError::SeqGap { expected: last_seq + 1, got: first_new.seq });
    }
    let mut cursor: u64 = tx
        .prepare_cached("SELECT cursor FROM learner WHERE learner_id = ?1")?
        .query_row([learner], |r| r.get(0))?;
    let clamp_limit = now_ms.saturating_add(MAX_FUTURE_SKEW_MS);
    let mut results = Vec::with_capacity(request.ops.len());
    for op in &request.ops {
        // UUIDs compare case-insensitively; store one spelling.
        let op_id = op.op_id.to_ascii_lowercase();
        if op.seq <= last_seq {
            results.push(answer_again(tx, learner, &op_id, op.seq)?);
            continue;
        }
        last_seq = op.seq;
        if let Some(again) = answer_if_taken(tx, learner, &op_id, op.seq)? {
            results.push(again);
            continue;
        }
        let result = match op.record.validate() {
            Err(error) => OpResult::rejected(op.seq, &error),
            Ok(()) => {
                let mut record = op.record.clone();
                let clamped = record.clamp(clamp_limit);
                if merge_into_store(tx, learner, record, cursor + 1)? {
                    cursor += 1;
                }
                OpResult {
                    seq: op.seq,
                    outcome: Outcome::Applied,
                    clamped_to: clamped.then_some(clamp_limit),
                }
            }
        };
        let (outcome, reason, code) = match &result.outcome {
            Outcome::Rejected { reason, code } => {
                ("rejected", Some(reason.as_str()), Some(reject_code_text(*code)?))
            }
            _ => ("applied", None, None),
        };
        tx.prepare_cached(
            "INSERT INTO op (learner_id, op_id, device_id, seq, outcome, reason, reject_code, clamped_to)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![
            learner,
            op_id,
            request.device_id,
            op.seq,
            outcome,
            reason,
            code,
            result.clamped_to
        ])?;
        results.push(result);
    }
    tx.prepare_cached(
        "UPDATE device SET last_seq = ?3, last_seen_ms = ?4 WHERE learner_id = ?1 AND device_id = ?2",
    )?
    .execute(params![learner, request.device_id, last_seq, now_ms])?;
    tx.prepare_cached("UPDATE learner SET cursor = ?2 WHERE learner_id = ?1")?
        .execute(params![learner, cursor])?;
    Ok(PushResponse {
        protocol: PROTOCOL_VERSION,
        epoch,
        applied_through: last_seq,
        results,
        server_time_ms: now_ms,
    })
}

/// The answer for an op already taken, given again (its first reply may have been lost): a
/// duplicate carrying the clamp its record got, or the same rejection. An op id the server has
/// no row for (an old seq under another id, or a resend after a restore) is a plain duplicate.
fn answer_again(tx: &Transaction<'_>, learner: &str, op_id: &str, seq: u64) -> Result<OpResult, StoreError> {
    Ok(answer_if_taken(tx, learner, op_id, seq)?.unwrap_or(OpResult {
        seq,
        outcome: Outcome::Duplicate,
        clamped_to: None,
    }))
}

fn answer_if_taken(
    tx: &Transaction<'_>,
    learner: &str,
    op_id: &str,
    seq: u64,
) -> Result<Option<OpResult>, StoreError> {
    tx.prepare_cached(
        "SELECT outcome, reason, reject_code, clamped_to FROM op WHERE learner_id = ?1 AND op_id = ?2",
    )?
    .query_row(params![learner, op_id], |r| {
        let outcome: String = r.get(0)?;
        Ok(if outcome == "rejected" {
            let code: Option<String> = r.get(2)?;
            OpResult {
                seq,
                outcome: Outcome::Rejected {
                    code: code.map_or(RejectCode::Other, |c| reject_code_from_text(&c)),
                    reason: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                },
                clamped_to: None,
            }
        } else {
            OpResult { seq, outcome: Outcome::Duplicate, clamped_to: r.get(3)? }
        })
    })
    .optional()
    .map_err(StoreError::from)
}

/// `stored = merge(stored, record)` under `cursor` if that changes anything. Returns whether it
/// did (and so took the cursor).
pub(super) fn merge_into_store(
    tx: &Transaction<'_>,
    learner: &str,
    record: Record,
    cursor: u64,
) -> Result<bool, StoreError> {
    let (kind, entity_id) = record.key();
    let (kind, entity_id) = (kind.as_str(), entity_id.to_owned());
    let stored: Option<String> = tx
        .prepare_cached("SELECT body FROM record WHERE learner_id = ?1 AND kind = ?2 AND entity_id = ?3")?
        .query_row(params![learner, kind, entity_id], |r| r.get(0))
        .optional()?;
    let stored = stored.as_deref().map(record_from_json).transpose()?;
    let Some(merged) = merged_if_changed(stored.as_ref(), record)? else { return Ok(false) };
    tx.prepare_cached(
        "INSERT INTO record (learner_id, kind, entity_id, cursor, tombstone, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (learner_id, kind, entity_id)
         DO UPDATE SET cursor = excluded.cursor, tombstone = excluded.tombstone, body = excluded.body",
    )?
    .execute(params![learner, kind, entity_id, cursor, merged.is_tombstone(), record_to_json(&merged)?])?;
    Ok(true)
}
