//! What every backend shares: the epoch check, the record and reject-code encodings stored in
//! the database, and the page cost of a pulled record. Kept in one place so the backends cannot
//! drift apart in what they answer.

use satchel_protocol::Record;
use satchel_protocol::messages::RejectCode;

use super::StoreError;

/// What each record costs in a pull page beyond its JSON (the cursor and the envelope).
pub(super) const RECORD_OVERHEAD_BYTES: usize = 32;

/// `ResetRequired` when the client knows another epoch (the server was restored and renewed).
pub(super) fn check_epoch(server: &str, client: Option<&str>) -> Result<(), StoreError> {
    match client {
        Some(client) if client != server => {
            Err(StoreError::ResetRequired("the server's epoch changed (it was restored from a backup)"))
        }
        _ => Ok(()),
    }
}

pub(super) fn record_from_json(body: &str) -> Result<Record, StoreError> {
    serde_json::from_str(body)
        .map_err(|e| StoreError::Backend(format!("a stored record is unreadable: {e}").into()))
}

pub(super) fn record_to_json(record: &Record) -> Result<String, StoreError> {
    serde_json::to_string(record)
        .map_err(|e| StoreError::Backend(format!("cannot encode a record: {e}").into()))
}

/// A reject code as stored (its protocol spelling).
pub(super) fn reject_code_text(code: RejectCode) -> Result<String, StoreError> {
    match serde_json::to_value(code) {
        Ok(serde_json::Value::String(text)) => Ok(text),
        other => Err(StoreError::Backend(format!("a reject code that is not a string: {other:?}").into())),
    }
}

/// A stored reject code back to the code; one this build does not know is `Other`.
pub(super) fn reject_code_from_text(text: &str) -> RejectCode {
    serde_json::from_value(serde_json::Value::String(text.to_owned())).unwrap_or(RejectCode::Other)
}

/// `stored.merge(record)`, or `None` when that changes nothing (so takes no cursor).
pub(super) fn merged_if_changed(
    stored: Option<&Record>,
    record: Record,
) -> Result<Option<Record>, StoreError> {
    let Some(stored) = stored else { return Ok(Some(record)) };
    let merged = stored
        .clone()
        .merge(record)
        .map_err(|e| StoreError::Backend(format!("stored record under the wrong key: {e}").into()))?;
    Ok((merged != *stored).then_some(merged))
}

/// A random epoch: 128 bits as hex.
pub(super) fn new_epoch_id() -> Result<String, StoreError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::Open(format!("no randomness from the OS: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
