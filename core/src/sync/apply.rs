//! Applying what the server sends: a pulled page merged into the local records and materialised
//! into the domain tables, with the cursor after it, in one transaction.

use rusqlite::Transaction;
use satchel_protocol::Record;
use satchel_protocol::messages::{PROTOCOL_VERSION, PullRequest, PullResponse};

use super::{SyncError, local, push, rejected, state};
use crate::error::Result;
use crate::learning::{goals, progress, quiz};
use crate::notes;

/// The page must answer this request: records in increasing cursor order after the request's
/// cursor, up to `next_cursor`. (Each record's validity is checked as it is applied: one bad
/// record must not fail the page, or the device would ask for the same page forever.)
pub(crate) fn check_page(request: &PullRequest, page: &PullResponse) -> Result<(), SyncError> {
    if page.protocol != PROTOCOL_VERSION {
        return Err(SyncError::Malformed(format!("protocol {} in the reply", page.protocol)));
    }
    if page.next_cursor < request.cursor {
        return Err(SyncError::Malformed("the next cursor is behind the one asked for".into()));
    }
    let mut last = request.cursor;
    for pulled in &page.records {
        if pulled.cursor <= last || pulled.cursor > page.next_cursor {
            return Err(SyncError::Malformed("records out of cursor order".into()));
        }
        last = pulled.cursor;
    }
    if page.more && page.records.is_empty() && page.next_cursor == request.cursor {
        return Err(SyncError::Malformed("an empty page that says more follow".into()));
    }
    Ok(())
}

/// Merges every record of the page into the local state and stores the cursor after it. A
/// record this device cannot accept (it fails validation: a server bug, or a server whose limits
/// differ) is set aside in the rejected list for the app to show, and the rest of the page goes
/// on: the device must not stall on it. Returns how many were set aside.
pub(crate) fn apply_page(tx: &Transaction<'_>, device_id: &str, page: PullResponse) -> Result<u32> {
    let mut set_aside = 0;
    for pulled in page.records {
        if let Err(error) = pulled.record.validate() {
            rejected::add_unusable_pull(tx, &page.epoch, pulled.cursor, &pulled.record, &error.to_string())?;
            set_aside += 1;
            continue;
        }
        merge_remote(tx, device_id, pulled.record)?;
    }
    state::set_cursor(tx, &page.epoch, page.next_cursor)?;
    Ok(set_aside)
}

/// `local ⊔ remote`, stored and materialised. The learner's unsent changes are part of `local`
/// and merge only moves fields forward, so they survive as they are (and stay in the outbox).
pub(crate) fn merge_remote(tx: &Transaction<'_>, device_id: &str, remote: Record) -> Result<()> {
    let (kind, id) = remote.key();
    let previous = local::load(tx, kind, id)?;
    push::raise_clock(tx, device_id, remote.max_hlc())?;
    let merged = match previous.clone() {
        Some(previous) => previous.merge(remote).map_err(|e| SyncError::Malformed(e.to_string()))?,
        None => remote,
    };
    if previous.as_ref() == Some(&merged) {
        return Ok(());
    }
    local::save(tx, &merged)?;
    materialise(tx, device_id, previous.as_ref(), &merged)
}

/// Stores a record's state into its domain table (each domain's `apply_remote`).
pub(crate) fn materialise(
    tx: &Transaction<'_>,
    device_id: &str,
    previous: Option<&Record>,
    record: &Record,
) -> Result<()> {
    match record {
        Record::Progress(r) => progress::apply_remote(tx, r),
        Record::QuizAttempt(r) => quiz::apply_remote(tx, device_id, r),
        Record::Note(r) => {
            let previous = match previous {
                Some(Record::Note(p)) => Some(p),
                _ => None,
            };
            notes::sync::apply_remote(tx, previous, r)
        }
        Record::Enrollment(r) => goals::apply_remote_enrollment(tx, r),
        Record::Setting(r) => goals::apply_remote_setting(tx, r),
    }
}
