//! What a push batch does, decided in memory from what the store holds, so every backend gives
//! the same answers (see [`SyncStore::push`](super::SyncStore::push)): a backend reads the
//! device's last seq, the learner's cursor, the answers of the batch's op ids it already took
//! and the stored records the batch touches, calls [`plan`], and writes what it returns in the
//! same transaction.

use std::collections::HashMap;

use satchel_protocol::Record;
use satchel_protocol::messages::{
    MAX_FUTURE_SKEW_MS, OpResult, Outcome, PROTOCOL_VERSION, PushRequest, PushResponse, RejectCode,
};

use super::StoreError;
use super::common::{merged_if_changed, reject_code_from_text, reject_code_text};

/// A record's key as stored: (kind, entity id).
pub(super) type Key = (String, String);

pub(super) fn key_of(record: &Record) -> Key {
    let (kind, entity_id) = record.key();
    (kind.as_str().to_owned(), entity_id.to_owned())
}

/// An op id as stored: UUIDs compare case-insensitively, so one spelling.
pub(super) fn stored_op_id(op_id: &str) -> String {
    op_id.to_ascii_lowercase()
}

/// An answer as the op log stores it: outcome (`applied` or `rejected`), reason, reject code,
/// clamp.
pub(super) type OpColumns<'a> = (&'static str, Option<&'a str>, Option<String>, Option<i64>);

/// What the server answered an op it took: given again when the op comes again.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Taken {
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

    /// The answer as the op log stores it.
    pub fn columns(&self) -> Result<OpColumns<'_>, StoreError> {
        Ok(match self {
            Taken::Applied { clamped_to } => ("applied", None, None, *clamped_to),
            Taken::Rejected { code, reason } => {
                ("rejected", Some(reason.as_str()), Some(reject_code_text(*code)?), None)
            }
        })
    }

    /// An answer read back from the op log's columns (see [`Taken::columns`]).
    pub fn from_columns(
        outcome: &str,
        reason: Option<String>,
        code: Option<String>,
        clamped_to: Option<i64>,
    ) -> Taken {
        if outcome == "rejected" {
            Taken::Rejected {
                code: code.as_deref().map_or(RejectCode::Other, reject_code_from_text),
                reason: reason.unwrap_or_default(),
            }
        } else {
            Taken::Applied { clamped_to }
        }
    }

    /// The answer to the op taken again under `seq`: a duplicate carrying the clamp its record
    /// got, or the same rejection.
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

/// What a batch changes and answers.
pub(super) struct Plan {
    pub results: Vec<OpResult>,
    /// The device's last applied seq after the batch.
    pub last_seq: u64,
    /// The learner's cursor after the batch.
    pub cursor: u64,
    /// Records to write, each key once at its latest merged state, with the cursor it took.
    pub changed: Vec<(Key, Record, u64)>,
    /// Ops to log: (stored op id, seq, answer).
    pub taken: Vec<(String, u64, Taken)>,
}

impl Plan {
    /// The answer to the push, once the plan is written under `epoch`.
    pub fn response(self, epoch: String, now_ms: i64) -> PushResponse {
        PushResponse {
            protocol: PROTOCOL_VERSION,
            epoch,
            applied_through: self.last_seq,
            results: self.results,
            server_time_ms: now_ms,
        }
    }
}

/// Plans `request` for a device whose last applied seq is `last_seq`, of a learner at `cursor`.
/// `taken` holds the answers already given to the batch's op ids (by [`stored_op_id`]), `stored`
/// the stored records under the batch's keys. A seq gap refuses the whole batch.
pub(super) fn plan(
    request: &PushRequest,
    mut last_seq: u64,
    mut cursor: u64,
    now_ms: i64,
    mut taken: HashMap<String, Taken>,
    stored: &HashMap<Key, Record>,
) -> Result<Plan, StoreError> {
    // Batches are consecutive (PushRequest::validate), so a gap can only be at the first new op.
    if let Some(first_new) = request.ops.iter().find(|op| op.seq > last_seq)
        && first_new.seq != last_seq + 1
    {
        return Err(StoreError::SeqGap { expected: last_seq + 1, got: first_new.seq });
    }
    let clamp_limit = now_ms.saturating_add(MAX_FUTURE_SKEW_MS);
    let mut results = Vec::with_capacity(request.ops.len());
    let mut new_ops = Vec::new();
    let mut changed: HashMap<Key, (Record, u64)> = HashMap::new();
    for op in &request.ops {
        let op_id = stored_op_id(&op.op_id);
        if op.seq <= last_seq {
            // An op id the server has no row for (an old seq under another id, or a resend
            // after a restore) is a plain duplicate.
            let plain = OpResult { seq: op.seq, outcome: Outcome::Duplicate, clamped_to: None };
            results.push(taken.get(&op_id).map_or(plain, |t| t.answer(op.seq)));
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
                let key = key_of(&record);
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
        taken.insert(op_id.clone(), answer.clone());
        new_ops.push((op_id, op.seq, answer));
        results.push(result);
    }
    let mut changed: Vec<(Key, Record, u64)> =
        changed.into_iter().map(|(key, (record, cursor))| (key, record, cursor)).collect();
    // In cursor order: a backend writing one by one then writes as the ops came.
    changed.sort_by_key(|(_, _, cursor)| *cursor);
    Ok(Plan { results, last_seq, cursor, changed, taken: new_ops })
}
