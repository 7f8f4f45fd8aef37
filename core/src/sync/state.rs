//! Where this device stands with the sync server: the `sync_state` row.
//!
//! Everything here changes only inside the transaction whose effects it describes (a pulled page
//! and the cursor after it, a frozen batch and the last sequence number), so a kill at any
//! instant leaves a state that matches the data.

use rusqlite::{Connection, Transaction, params};

use crate::error::Result;

/// The `sync_state` row.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncState {
    /// The server database's identity, as it last told us; `None` before the first exchange.
    pub epoch: Option<String>,
    /// How far this device has pulled (a per-learner cursor the server assigns).
    pub cursor: u64,
    /// The last per-device sequence number given to a frozen outbox entry.
    pub last_seq: u64,
    /// The device id the server has registered; `None` (or another id) means register first.
    pub registered_device: Option<String>,
    pub last_synced_at_ms: Option<i64>,
    /// The server asked for a reset; the next registration settles which kind.
    pub reset_pending: bool,
    /// Records of data written before sync existed are still to be built.
    pub needs_backfill: bool,
}

pub fn load(conn: &Connection) -> Result<SyncState> {
    Ok(conn
        .prepare_cached(
            "SELECT epoch, cursor, last_seq, registered_device, last_synced_at_ms, reset_pending, needs_backfill
             FROM sync_state WHERE id = 1",
        )?
        .query_row([], |r| {
            Ok(SyncState {
                epoch: r.get(0)?,
                cursor: r.get::<_, i64>(1)? as u64,
                last_seq: r.get::<_, i64>(2)? as u64,
                registered_device: r.get(3)?,
                last_synced_at_ms: r.get(4)?,
                reset_pending: r.get(5)?,
                needs_backfill: r.get(6)?,
            })
        })?)
}

pub fn set_cursor(tx: &Transaction<'_>, epoch: &str, cursor: u64) -> Result<()> {
    tx.prepare_cached("UPDATE sync_state SET epoch = ?1, cursor = ?2 WHERE id = 1")?
        .execute(params![epoch, cursor as i64])?;
    Ok(())
}

pub fn set_epoch(tx: &Transaction<'_>, epoch: &str) -> Result<()> {
    tx.prepare_cached("UPDATE sync_state SET epoch = ?1 WHERE id = 1")?.execute([epoch])?;
    Ok(())
}

pub fn set_last_seq(tx: &Transaction<'_>, last_seq: u64) -> Result<()> {
    tx.prepare_cached("UPDATE sync_state SET last_seq = ?1 WHERE id = 1")?.execute([last_seq as i64])?;
    Ok(())
}

/// The server registered `device_id` at `epoch`; the last sequence number given is `last_seq`.
pub fn set_registered(tx: &Transaction<'_>, device_id: &str, epoch: &str, last_seq: u64) -> Result<()> {
    tx.prepare_cached(
        "UPDATE sync_state SET registered_device = ?1, epoch = ?2, last_seq = ?3, reset_pending = 0 WHERE id = 1",
    )?
    .execute(params![device_id, epoch, last_seq as i64])?;
    Ok(())
}

/// The server asked for a reset: register again, and let the registration decide which kind.
pub fn set_reset_pending(tx: &Transaction<'_>) -> Result<()> {
    tx.prepare_cached("UPDATE sync_state SET registered_device = NULL, reset_pending = 1 WHERE id = 1")?
        .execute([])?;
    Ok(())
}

pub fn set_cursor_only(tx: &Transaction<'_>, cursor: u64) -> Result<()> {
    tx.prepare_cached("UPDATE sync_state SET cursor = ?1 WHERE id = 1")?.execute([cursor as i64])?;
    Ok(())
}

/// Forgets the server entirely: register again, sequence numbers from the server's next one,
/// pull from cursor 0. Used by the reset handshake and when the device id changed.
pub fn forget_server(tx: &Transaction<'_>) -> Result<()> {
    tx.prepare_cached(
        "UPDATE sync_state SET epoch = NULL, cursor = 0, last_seq = 0, registered_device = NULL WHERE id = 1",
    )?
    .execute([])?;
    Ok(())
}

pub fn set_last_synced(tx: &Transaction<'_>, at_ms: i64) -> Result<()> {
    tx.prepare_cached("UPDATE sync_state SET last_synced_at_ms = ?1 WHERE id = 1")?.execute([at_ms])?;
    Ok(())
}

pub fn set_backfilled(tx: &Transaction<'_>) -> Result<()> {
    tx.prepare_cached("UPDATE sync_state SET needs_backfill = 0 WHERE id = 1")?.execute([])?;
    Ok(())
}

/// The server does not know this device (any more): register again before the next push. The
/// sequence numbers stay; registering tells where the server's stand.
pub fn forget_registration(tx: &Transaction<'_>) -> Result<()> {
    tx.prepare_cached("UPDATE sync_state SET registered_device = NULL WHERE id = 1")?.execute([])?;
    Ok(())
}
