//! Telling this device apart from a copy of it.
//!
//! The device id lives in the database (`meta.device_id`) *and* in a small file beside it in the
//! account directory. A database copied to another phone, or restored from a backup onto this
//! one, arrives without its file (or finds another one): the two disagree, so the account takes
//! a new device id and registers again. Without this, two phones would push under one id and the
//! server would take the second one's operations for duplicates of the first's and drop them.
//!
//! (The shells keep the file out of backups; a copy of the whole directory, file included, is
//! indistinguishable from the original and is not detected.)

use std::io::Write;
use std::path::Path;

use rusqlite::Transaction;

use crate::error::Result;
use crate::store::meta;

/// Name of the file holding the device id, in the account directory.
pub const DEVICE_ID_FILE: &str = "device-id";

/// `meta` key of the id the file was last written with: tells "a database from before the file
/// existed" (no marker: adopt its id) from "a database whose file is missing" (a copy).
const FILE_MARKER_KEY: &str = "device_id_file";

/// What opening found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceIdentity {
    pub device_id: String,
    /// The database was copied or restored: a new id was made and sync must start over with the
    /// server (register, push everything, pull everything).
    pub replaced: bool,
}

/// Settles the device id in the caller's transaction, then (after it commits) the caller must
/// call [`write_file`]. A crash in between only makes the next open choose yet another new id,
/// which is harmless.
pub fn settle(tx: &Transaction<'_>, dir: &Path) -> Result<DeviceIdentity> {
    let in_db = meta::get(tx, "device_id")?;
    let marker = meta::get(tx, FILE_MARKER_KEY)?;
    let in_file = read_file(dir)?;
    let (device_id, replaced) = match (in_db, in_file) {
        (None, _) => (new_id(), false),
        (Some(db), Some(file)) if db == file => return Ok(DeviceIdentity { device_id: db, replaced: false }),
        (Some(db), None) if marker.is_none() => (db, false),
        (Some(_), _) => (new_id(), true),
    };
    meta::put(tx, "device_id", &device_id)?;
    meta::put(tx, FILE_MARKER_KEY, &device_id)?;
    Ok(DeviceIdentity { device_id, replaced })
}

/// Writes the id file (atomically: a temporary file renamed over it, then synced).
pub fn write_file(dir: &Path, device_id: &str) -> Result<()> {
    if read_file(dir)?.as_deref() == Some(device_id) {
        return Ok(());
    }
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(device_id.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(dir.join(DEVICE_ID_FILE)).map_err(|e| e.error)?;
    Ok(())
}

fn read_file(dir: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(dir.join(DEVICE_ID_FILE)) {
        Ok(text) => Ok(Some(text.trim().to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The device's display name for the server's device list (empty if never set).
pub fn device_name(conn: &rusqlite::Connection) -> Result<String> {
    Ok(meta::get(conn, "device_name")?.unwrap_or_default())
}
