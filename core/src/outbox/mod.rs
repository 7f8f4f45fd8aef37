//! The durable sync outbox.
//!
//! Every local change a learner makes is appended here *in the same transaction* as the change
//! itself, so the two land together or not at all. Each entry carries what the sync protocol needs
//! as it is: a client-generated operation id (UUIDv7, time-ordered), the entity kind and id, the
//! change as JSON, and a hybrid logical clock stamp.
//!
//! Changes are *states*, not deltas (a progress entry says "position 300 s, watched 280 s", not
//! "+5 s"), so a newer unsent entry for the same entity can replace an older one: a playback hour
//! of ticks leaves one pending entry, not 720. Entries already handed to a sync attempt
//! (`attempts > 0`) are never rewritten, so an operation id the server may have seen always means
//! the same change.

pub mod hlc;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::time::now_ms;
use hlc::Hlc;

/// What kind of entity a change is about (the sync protocol's own kinds and wire names).
pub use satchel_protocol::EntityKind;

/// Whether a newer change may replace an unsent older one for the same entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coalesce {
    /// Replace the pending entry (state-based changes: progress, attempts, notes, settings).
    ReplacePending,
    /// Always append (changes whose history matters).
    Append,
}

/// One pending change, as a sync push will send it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub op_id: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub change: String,
    pub hlc: String,
    pub attempts: u32,
}

/// Stamps and records a change in the caller's transaction. Returns the stamp.
pub fn record<T: Serialize>(
    tx: &Transaction<'_>,
    device_id: &str,
    kind: EntityKind,
    entity_id: &str,
    change: &T,
    coalesce: Coalesce,
) -> Result<Hlc> {
    let change =
        serde_json::to_string(change).map_err(|e| Error::Internal(format!("cannot encode change: {e}")))?;
    let stamp = next_stamp(tx, device_id)?;
    let now = now_ms();
    if coalesce == Coalesce::ReplacePending {
        let replaced = tx
            .prepare_cached(
                "UPDATE outbox SET change = ?1, hlc = ?2, created_at_ms = ?3
                 WHERE seq = (SELECT max(seq) FROM outbox
                              WHERE entity_kind = ?4 AND entity_id = ?5 AND attempts = 0)",
            )?
            .execute(params![change, stamp.to_string(), now, kind.as_str(), entity_id])?;
        if replaced > 0 {
            return Ok(stamp);
        }
    }
    tx.prepare_cached(
        "INSERT INTO outbox (op_id, entity_kind, entity_id, change, hlc, created_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        uuid::Uuid::now_v7().to_string(),
        kind.as_str(),
        entity_id,
        change,
        stamp.to_string(),
        now
    ])?;
    Ok(stamp)
}

/// The next clock stamp for this device, persisted in the same transaction so stamps keep
/// increasing across restarts.
fn next_stamp(tx: &Transaction<'_>, device_id: &str) -> Result<Hlc> {
    let last: Option<String> = tx
        .prepare_cached("SELECT value FROM meta WHERE key = 'hlc'")?
        .query_row([], |r| r.get(0))
        .optional()?;
    let last = last.and_then(|text| text.parse::<Hlc>().ok());
    let next = Hlc::tick(last.as_ref(), now_ms(), device_id);
    tx.prepare_cached(
        "INSERT INTO meta (key, value) VALUES ('hlc', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute([next.to_string()])?;
    Ok(next)
}

/// Every pending entry, oldest first.
pub fn pending(conn: &rusqlite::Connection) -> Result<Vec<OutboxEntry>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, op_id, entity_kind, entity_id, change, hlc, attempts FROM outbox ORDER BY seq",
    )?;
    let entries = stmt
        .query_map([], |r| {
            Ok(OutboxEntry {
                seq: r.get(0)?,
                op_id: r.get(1)?,
                entity_kind: r.get(2)?,
                entity_id: r.get(3)?,
                change: r.get(4)?,
                hlc: r.get(5)?,
                attempts: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(entries)
}
