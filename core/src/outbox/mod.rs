//! The durable sync outbox.
//!
//! Every local change a learner makes is appended here *in the same transaction* as the change
//! itself, so the two land together or not at all. Each entry carries what the sync protocol needs
//! as it is: a client-generated operation id (UUIDv7, time-ordered), the entity kind and id, the
//! change (the entity's whole protocol record, as JSON), and a hybrid logical clock stamp.
//!
//! Changes are *states*, not deltas (a progress entry says "position 300 s, watched 280 s", not
//! "+5 s"), so a newer unsent entry for the same entity replaces an older one: a playback hour of
//! ticks leaves one pending entry, not 720.
//!
//! A push **freezes** entries before sending them: in one transaction each gets the next gap-free
//! per-device sequence number (`device_seq`). A frozen entry is never coalesced or rewritten
//! again, so an operation id and sequence number the server may have seen always mean the same
//! change; later local writes to that entity append a new entry. Because numbers are given at
//! freezing time rather than when the change is written, a metered link can freeze the urgent
//! entries first (see [`Priority`]) without leaving gaps.

pub mod hlc;
pub use satchel_protocol::EntityKind;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::error::{Error, Result};
use crate::store::{clock, meta};
use crate::time::now_ms;
use hlc::Hlc;

/// The `meta` key holding the last clock stamp this device issued.
const HLC_KEY: &str = "hlc";

/// Which entries go first when the link is metered. Stored as 0–2 in `outbox.priority`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// Quiz attempts and lesson completions: what a learner (and a certificate) waits for.
    Urgent = 0,
    /// Notes, enrolment, settings: small and precious.
    Normal = 1,
    /// Playback and reading history: sent on unmetered networks only.
    Bulk = 2,
}

/// One pending change, as a sync push sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub seq: i64,
    pub op_id: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub change: String,
    pub hlc: String,
    pub attempts: u32,
    /// The per-device sequence number, once frozen for sending.
    pub device_seq: Option<u64>,
}

/// The next clock stamp for this device, persisted in the caller's transaction so stamps keep
/// increasing across restarts. Stamp a change with it, then [`enqueue`] the change.
pub fn stamp(tx: &Transaction<'_>, device_id: &str) -> Result<Hlc> {
    let next = Hlc::tick(last_stamp(tx)?.as_ref(), clock::now_ms(tx)?, device_id);
    set_last_stamp(tx, &next)?;
    Ok(next)
}

/// The last stamp this device issued (or received: see `sync`), if any.
pub fn last_stamp(conn: &Connection) -> Result<Option<Hlc>> {
    // A stamp that does not parse means the store is damaged: starting the clock over could stamp
    // new changes below ones already sent, so refuse instead.
    meta::get(conn, HLC_KEY)?
        .map(|text| text.parse::<Hlc>().map_err(|e| Error::corrupt("clock stamp", format!("{text:?}: {e}"))))
        .transpose()
}

/// Replaces the clock's last stamp (after receiving newer stamps, or a server clamp).
pub fn set_last_stamp(tx: &Transaction<'_>, stamp: &Hlc) -> Result<()> {
    meta::put(tx, HLC_KEY, &stamp.to_string())
}

/// Puts an entity's new state in the outbox: replaces its unfrozen entry if there is one (keeping
/// the more urgent priority of the two), else appends a new entry with a fresh operation id.
pub fn enqueue(
    tx: &Transaction<'_>,
    kind: &str,
    entity_id: &str,
    change: &str,
    stamp: &Hlc,
    priority: Priority,
) -> Result<()> {
    let now = now_ms();
    let replaced = tx
        .prepare_cached(
            "UPDATE outbox SET change = ?1, hlc = ?2, created_at_ms = ?3, priority = min(priority, ?4)
             WHERE entity_kind = ?5 AND entity_id = ?6 AND device_seq IS NULL",
        )?
        .execute(params![change, stamp.to_string(), now, priority as i64, kind, entity_id])?;
    if replaced > 0 {
        return Ok(());
    }
    tx.prepare_cached(
        "INSERT INTO outbox (op_id, entity_kind, entity_id, change, hlc, created_at_ms, priority)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        uuid::Uuid::now_v7().to_string(),
        kind,
        entity_id,
        change,
        stamp.to_string(),
        now,
        priority as i64
    ])?;
    Ok(())
}

/// Freezes up to `limit` unfrozen entries of priority `max_priority` or more urgent, most urgent
/// first and oldest first within a priority, numbering them `after + 1, after + 2, …`. Returns the
/// last number given (`after` when nothing was frozen). Call in the transaction that stores it.
pub fn freeze(tx: &Transaction<'_>, after: u64, limit: u32, max_priority: Priority) -> Result<u64> {
    let seqs: Vec<i64> = tx
        .prepare_cached(
            "SELECT seq FROM outbox WHERE device_seq IS NULL AND priority <= ?1
             ORDER BY priority, seq LIMIT ?2",
        )?
        .query_map(params![max_priority as i64, limit], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut last = after;
    let mut number = tx.prepare_cached("UPDATE outbox SET device_seq = ?2 WHERE seq = ?1")?;
    for seq in seqs {
        last += 1;
        number.execute(params![seq, last as i64])?;
    }
    Ok(last)
}

/// Frozen entries in sequence order, at most `limit`: what the next push sends.
pub fn frozen(conn: &Connection, limit: u32) -> Result<Vec<OutboxEntry>> {
    select(conn, "WHERE device_seq IS NOT NULL ORDER BY device_seq LIMIT ?1", params![limit])
}

/// Every entry, frozen ones first (in sequence order), then the rest oldest first.
pub fn pending(conn: &Connection) -> Result<Vec<OutboxEntry>> {
    select(conn, "ORDER BY device_seq IS NULL, device_seq, seq", [])
}

/// How many changes wait for the next sync.
pub fn pending_count(conn: &Connection) -> Result<u32> {
    Ok(counts(conn)?.0)
}

/// Entries waiting, and how many of those are not frozen yet.
pub fn counts(conn: &Connection) -> Result<(u32, u32)> {
    Ok(conn
        .prepare_cached("SELECT count(*), count(*) - count(device_seq) FROM outbox")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

/// Removes the frozen entry numbered `device_seq` (acknowledged, or moved to the rejected list).
pub fn remove_frozen(tx: &Transaction<'_>, device_seq: u64) -> Result<()> {
    tx.prepare_cached("DELETE FROM outbox WHERE device_seq = ?1")?.execute([device_seq as i64])?;
    Ok(())
}

/// Counts a push attempt against the frozen entries (for diagnostics; they are resent as they are).
pub fn note_attempt(tx: &Transaction<'_>, through_seq: u64, error: Option<&str>) -> Result<()> {
    tx.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2
         WHERE device_seq IS NOT NULL AND device_seq <= ?1",
    )?
    .execute(params![through_seq as i64, error])?;
    Ok(())
}

/// Whether the entity has a change not yet acknowledged by the server.
pub fn has_pending(conn: &Connection, kind: &str, entity_id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM outbox WHERE entity_kind = ?1 AND entity_id = ?2 LIMIT 1")?
        .query_row([kind, entity_id], |_| Ok(()))
        .optional()?
        .is_some())
}

fn select(conn: &Connection, tail: &str, params: impl rusqlite::Params) -> Result<Vec<OutboxEntry>> {
    let sql = format!(
        "SELECT seq, op_id, entity_kind, entity_id, change, hlc, attempts, device_seq FROM outbox {tail}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let entries = stmt
        .query_map(params, |r| {
            Ok(OutboxEntry {
                seq: r.get(0)?,
                op_id: r.get(1)?,
                entity_kind: r.get(2)?,
                entity_id: r.get(3)?,
                change: r.get(4)?,
                hlc: r.get(5)?,
                attempts: r.get(6)?,
                device_seq: r.get::<_, Option<i64>>(7)?.map(|s| s as u64),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(entries)
}

#[cfg(test)]
mod tests;
