//! Operations the server refused for good, and records pulled from the server that this device
//! could not accept, kept for the app to show until dismissed.

use rusqlite::{Connection, Transaction, params};
use satchel_protocol::messages::RejectCode;

use crate::error::Result;
use crate::outbox::OutboxEntry;
use crate::time::now_ms;

/// The code of a pulled record this device could not accept (set aside, not applied).
pub const UNUSABLE_PULLED_RECORD: &str = "unusable_pulled_record";

/// A refused operation, or a pulled record set aside (code [`UNUSABLE_PULLED_RECORD`]; its
/// `op_id` is then `pulled:<epoch>:<cursor>`).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RejectedOp {
    pub op_id: String,
    /// `progress`, `quiz_attempt`, `note`, `enrollment` or `setting`.
    pub entity_kind: String,
    pub entity_id: String,
    /// The server's code: `invalid_record`, `too_large`, `cannot_grade`, or a newer one; or
    /// `unusable_pulled_record` for a record pulled from the server that fails this device's checks.
    pub code: String,
    /// The server's reason, for display and bug reports (never the learner's content).
    pub reason: String,
    pub rejected_at_ms: i64,
}

pub(crate) fn add(
    tx: &Transaction<'_>,
    entry: &OutboxEntry,
    seq: u64,
    code: RejectCode,
    reason: &str,
) -> Result<()> {
    let code = match code {
        RejectCode::InvalidRecord => "invalid_record",
        RejectCode::TooLarge => "too_large",
        RejectCode::CannotGrade => "cannot_grade",
        RejectCode::Other => "other",
    };
    tx.prepare_cached(
        "INSERT INTO sync_rejected (op_id, device_seq, entity_kind, entity_id, change, code, reason, rejected_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (op_id) DO NOTHING",
    )?
    .execute(params![
        entry.op_id,
        seq as i64,
        entry.entity_kind,
        entry.entity_id,
        entry.change,
        code,
        reason.chars().take(500).collect::<String>(),
        now_ms()
    ])?;
    Ok(())
}

/// Sets aside a pulled record this device cannot accept. Pulled again (the same epoch and
/// cursor), it is not listed twice.
pub(crate) fn add_unusable_pull(
    tx: &Transaction<'_>,
    epoch: &str,
    cursor: u64,
    record: &satchel_protocol::Record,
    reason: &str,
) -> Result<()> {
    let (kind, entity_id) = record.key();
    tx.prepare_cached(
        "INSERT INTO sync_rejected (op_id, device_seq, entity_kind, entity_id, change, code, reason, rejected_at_ms)
         VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (op_id) DO NOTHING",
    )?
    .execute(params![
        format!("pulled:{epoch}:{cursor}"),
        kind.as_str(),
        entity_id,
        super::local::encode(record)?,
        UNUSABLE_PULLED_RECORD,
        reason.chars().take(500).collect::<String>(),
        now_ms()
    ])?;
    tracing::warn!(kind = kind.as_str(), cursor, "a pulled record fails validation; set aside");
    Ok(())
}

/// Refused operations, newest first.
pub fn list(conn: &Connection) -> Result<Vec<RejectedOp>> {
    let mut stmt = conn.prepare_cached(
        "SELECT op_id, entity_kind, entity_id, code, reason, rejected_at_ms FROM sync_rejected
         ORDER BY rejected_at_ms DESC, device_seq DESC",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok(RejectedOp {
                op_id: r.get(0)?,
                entity_kind: r.get(1)?,
                entity_id: r.get(2)?,
                code: r.get(3)?,
                reason: r.get(4)?,
                rejected_at_ms: r.get(5)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

pub fn count(conn: &Connection) -> Result<u32> {
    Ok(conn.prepare_cached("SELECT count(*) FROM sync_rejected")?.query_row([], |r| r.get(0))?)
}

/// Forgets a refused operation (the learner has seen it). Unknown ids are fine.
pub fn dismiss(tx: &Transaction<'_>, op_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM sync_rejected WHERE op_id = ?1")?.execute([op_id])?;
    Ok(())
}
