//! Notes as sync records: building the record from local edits, materialising records pulled
//! from the server, and the revisions (concurrent edits) the learner can list, restore or
//! dismiss.
//!
//! Each editable field carries its own stamp, so an edit stamps only the fields it changed: a
//! colour changed on the phone and tags changed on the tablet both survive. The text keeps every
//! concurrent version as a head (see `satchel_protocol::records::note`). A note's `orphaned`
//! flag and its re-anchored offsets are worked out on each device against the text it has, so
//! they never travel: a pulled record that leaves the anchor as it was keeps them.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use satchel_protocol::records::{NoteDraft, NoteKind as WireKind, NoteRecord};
use satchel_protocol::{Hlc, Record, RecordError};

use super::{Note, NoteAnchor, NoteKind, SELECT_NOTE, json, kind_text, note_from_row};
use crate::error::{Error, Result};
use crate::outbox::{self, Priority};
use crate::sync::local as sync_record;
use crate::time::now_ms;

/// One version of a note's text.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NoteRevision {
    /// Pass to `restore_note_revision` / `dismiss_note_revision`.
    pub revision_id: String,
    pub text: String,
    /// The device that wrote it.
    pub device_id: String,
    /// When it was written, by that device's clock.
    pub written_at_ms: i64,
    /// The version shown as the note's text (for a deleted note: the text it had).
    pub shown: bool,
}

/// What a local change did to a note.
pub(crate) enum Edit {
    /// Body, colour and tags as the note now holds them.
    Fields,
    Delete,
}

/// The protocol fields of a new note.
pub(crate) fn draft(note: &Note) -> Result<NoteDraft> {
    Ok(NoteDraft {
        note_id: note.id.clone(),
        lesson_id: note.lesson_id.clone(),
        course_id: note.course_id.clone(),
        kind: wire_kind(note.kind),
        anchor: serde_json::to_value(&note.anchor).map_err(|e| Error::Internal(e.to_string()))?,
        color: note.color.clone(),
        tags: note.tags.clone(),
        text: note.body.clone(),
    })
}

/// Folds a local edit of `note` into its record (a new stamp per changed field) and queues it.
pub(crate) fn record_edit(tx: &Transaction<'_>, device_id: &str, note: &Note, edit: Edit) -> Result<()> {
    let mut record = match sync_record::load_note(tx, &note.id)? {
        Some(record) => record,
        None => return Err(Error::Internal(format!("note {:?} has no sync record", note.id))),
    };
    let now = now_ms();
    let mut last: Option<Hlc> = None;
    match edit {
        Edit::Fields => {
            if record.text() != note.body {
                let stamp = outbox::stamp(tx, device_id)?;
                record.edit_body(note.body.clone(), stamp.clone(), now)?;
                last = Some(stamp);
            }
            if record.color.value != note.color {
                let stamp = outbox::stamp(tx, device_id)?;
                record.set_color(note.color.clone(), stamp.clone())?;
                last = Some(stamp);
            }
            if record.tags.value != note.tags {
                let stamp = outbox::stamp(tx, device_id)?;
                record.set_tags(note.tags.clone(), stamp.clone())?;
                last = Some(stamp);
            }
        }
        Edit::Delete => {
            let stamp = outbox::stamp(tx, device_id)?;
            record.set_deleted(true, stamp.clone())?;
            last = Some(stamp);
        }
    }
    match last {
        Some(stamp) => sync_record::save_local(tx, &Record::Note(record), &stamp, Priority::Normal),
        // Nothing changed: nothing to send.
        None => Ok(()),
    }
}

/// Stores a note as a record pulled from the server (merged with the local one, `previous`)
/// says. A record whose anchor this version cannot read (a newer app's kind of anchor) stays in
/// the sync record only, so it is neither lost nor shown broken.
pub(crate) fn apply_remote(
    tx: &Transaction<'_>,
    previous: Option<&NoteRecord>,
    record: &NoteRecord,
) -> Result<()> {
    let anchor: NoteAnchor = match serde_json::from_value(record.anchor.value.clone()) {
        Ok(anchor) => anchor,
        Err(_) => {
            tracing::warn!(note = %record.note_id, "a synced note has an anchor this version cannot read");
            return Ok(());
        }
    };
    let local: Option<(String, bool)> = tx
        .prepare_cached("SELECT anchor, orphaned FROM note WHERE id = ?1")?
        .query_row([&record.note_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (anchor, orphaned) = match local {
        // The anchor did not change: keep where this device found the passage.
        Some(local) if previous.is_some_and(|p| p.anchor == record.anchor) => local,
        _ => (json(&anchor)?, false),
    };
    let updated_at_ms =
        record.winner().map_or(record.created_at_ms, |(_, v)| v.at_ms).max(record.created_at_ms);
    tx.prepare_cached(
        "INSERT INTO note (id, lesson_id, course_id, kind, body, anchor, color, tags, created_at_ms,
                           updated_at_ms, deleted, orphaned)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO UPDATE SET body = excluded.body, anchor = excluded.anchor,
             color = excluded.color, tags = excluded.tags, created_at_ms = excluded.created_at_ms,
             updated_at_ms = excluded.updated_at_ms, deleted = excluded.deleted,
             orphaned = excluded.orphaned",
    )?
    .execute(params![
        record.note_id,
        record.lesson_id,
        record.course_id,
        kind_text(local_kind(record.kind)),
        record.text(),
        anchor,
        record.color.value,
        json(&record.tags.value)?,
        record.created_at_ms,
        updated_at_ms,
        record.deleted.value,
        orphaned
    ])?;
    Ok(())
}

/// Builds the sync records of notes written before sync existed (deleted ones as tombstones).
pub(crate) fn backfill_records(tx: &Transaction<'_>, device_id: &str) -> Result<()> {
    let sql = format!(
        "{SELECT_NOTE} WHERE NOT EXISTS
             (SELECT 1 FROM sync_record r WHERE r.kind = 'note' AND r.entity_id = n.id)"
    );
    let notes: Vec<Note> =
        tx.prepare_cached(&sql)?.query_map([], note_from_row)?.collect::<rusqlite::Result<_>>()?;
    for note in notes {
        let deleted: bool = tx
            .prepare_cached("SELECT deleted FROM note WHERE id = ?1")?
            .query_row([&note.id], |r| r.get(0))?;
        let mut stamp = outbox::stamp(tx, device_id)?;
        let mut record = NoteRecord::create(draft(&note)?, stamp.clone(), note.created_at_ms)?;
        if deleted {
            stamp = outbox::stamp(tx, device_id)?;
            record.set_deleted(true, stamp.clone())?;
        }
        sync_record::save_local(tx, &Record::Note(record), &stamp, Priority::Normal)?;
    }
    Ok(())
}

/// The versions of a note's text besides the shown one, newest first; for a deleted note every
/// version it had, the one it showed first (so its text can be restored).
pub fn revisions(conn: &Connection, note_id: &str) -> Result<Vec<NoteRevision>> {
    let record = sync_record::load_note(conn, note_id)?.ok_or_else(|| Error::not_found("note", note_id))?;
    let shown = record.winner().map(|(hlc, _)| hlc.clone());
    let heads: Vec<_> =
        if record.deleted.value { record.body.heads.iter().rev().collect() } else { record.revisions() };
    Ok(heads
        .into_iter()
        .map(|(hlc, version)| NoteRevision {
            revision_id: hlc.to_string(),
            text: version.text.clone(),
            device_id: hlc.device.clone(),
            written_at_ms: version.at_ms,
            shown: shown.as_ref() == Some(hlc),
        })
        .collect())
}

/// Makes a revision the note's text again (undeleting the note if it was deleted).
pub fn restore_revision(
    tx: &Transaction<'_>,
    device_id: &str,
    note_id: &str,
    revision_id: &str,
) -> Result<Note> {
    change_revisions(tx, device_id, note_id, revision_id, |record, revision, stamp| {
        record.restore_revision(revision, stamp, now_ms())
    })?;
    super::get(tx, note_id)
}

/// Drops a revision the learner does not want (not the shown text).
pub fn dismiss_revision(
    tx: &Transaction<'_>,
    device_id: &str,
    note_id: &str,
    revision_id: &str,
) -> Result<()> {
    change_revisions(tx, device_id, note_id, revision_id, |record, revision, _| {
        record.dismiss_revision(revision)
    })
}

fn change_revisions(
    tx: &Transaction<'_>,
    device_id: &str,
    note_id: &str,
    revision_id: &str,
    change: impl FnOnce(&mut NoteRecord, &Hlc, Hlc) -> Result<(), RecordError>,
) -> Result<()> {
    let previous = sync_record::load_note(tx, note_id)?.ok_or_else(|| Error::not_found("note", note_id))?;
    let revision: Hlc = revision_id.parse().map_err(|_| Error::not_found("note revision", revision_id))?;
    let stamp = outbox::stamp(tx, device_id)?;
    let mut record = previous.clone();
    change(&mut record, &revision, stamp.clone()).map_err(|e| match e {
        RecordError::NoSuchRevision => Error::not_found("note revision", revision_id),
        other => Error::from(other),
    })?;
    apply_remote(tx, Some(&previous), &record)?;
    sync_record::save_local(tx, &Record::Note(record), &stamp, Priority::Normal)
}

/// A course's deleted notes, most recently changed first, with the text they had.
pub fn deleted(conn: &Connection, course_id: &str) -> Result<Vec<Note>> {
    let sql =
        format!("{SELECT_NOTE} WHERE n.course_id = ?1 AND n.deleted = 1 ORDER BY n.updated_at_ms DESC, n.id");
    let notes =
        conn.prepare_cached(&sql)?.query_map([course_id], note_from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(notes)
}

fn wire_kind(kind: NoteKind) -> WireKind {
    match kind {
        NoteKind::Note => WireKind::Note,
        NoteKind::Highlight => WireKind::Highlight,
    }
}

fn local_kind(kind: WireKind) -> NoteKind {
    match kind {
        WireKind::Note => NoteKind::Note,
        WireKind::Highlight => NoteKind::Highlight,
    }
}
