//! The local side of the CRDT: each synced entity's protocol record in `sync_record`.
//!
//! A local write folds the learner's change into the entity's record (an inflation: every field
//! only moves up its own order) and puts the new record in the outbox, in the same transaction
//! as the domain row. A pull merges the server's record into it (`local ⊔ remote`) and the
//! domain module materialises the result. Either way the domain tables are a view of these
//! records plus device-local fields that never travel.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use satchel_protocol::{EntityKind, Hlc, Record};

use crate::error::{Error, Result};
use crate::outbox::{self, Priority};

/// The stored record of an entity, if it has one.
pub fn load(conn: &Connection, kind: EntityKind, entity_id: &str) -> Result<Option<Record>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT record FROM sync_record WHERE kind = ?1 AND entity_id = ?2")?
        .query_row(params![kind.as_str(), entity_id], |r| r.get(0))
        .optional()?;
    text.map(|t| parse(&t)).transpose()
}

/// Parses a stored record; one that does not parse means a damaged store.
pub fn parse(text: &str) -> Result<Record> {
    serde_json::from_str(text).map_err(|e| Error::corrupt("sync record", e.to_string()))
}

pub fn encode(record: &Record) -> Result<String> {
    serde_json::to_string(record).map_err(|e| Error::Internal(format!("cannot encode a sync record: {e}")))
}

/// Stores the entity's record after a local change stamped `stamp`, and queues it for the server.
pub fn save_local(tx: &Transaction<'_>, record: &Record, stamp: &Hlc, priority: Priority) -> Result<()> {
    let text = save(tx, record)?;
    let (kind, entity_id) = record.key();
    outbox::enqueue(tx, kind.as_str(), entity_id, &text, stamp, priority)
}

/// Stores the entity's record (after a merge with the server's). Returns its JSON.
pub fn save(tx: &Transaction<'_>, record: &Record) -> Result<String> {
    let text = encode(record)?;
    let (kind, entity_id) = record.key();
    tx.prepare_cached(
        "INSERT INTO sync_record (kind, entity_id, record) VALUES (?1, ?2, ?3)
         ON CONFLICT (kind, entity_id) DO UPDATE SET record = excluded.record",
    )?
    .execute(params![kind.as_str(), entity_id, text])?;
    Ok(text)
}

/// The wire name of a kind back to the kind.
pub fn kind_from_str(text: &str) -> Option<EntityKind> {
    Some(match text {
        "progress" => EntityKind::Progress,
        "quiz_attempt" => EntityKind::QuizAttempt,
        "note" => EntityKind::Note,
        "enrollment" => EntityKind::Enrollment,
        "setting" => EntityKind::Setting,
        _ => return None,
    })
}

/// How urgent the full state of a record is on a metered link (for re-sending everything).
pub fn priority_of(record: &Record) -> Priority {
    match record {
        Record::QuizAttempt(_) => Priority::Urgent,
        Record::Progress(p) if p.completed_at_ms.is_some() => Priority::Urgent,
        Record::Progress(_) => Priority::Bulk,
        Record::Note(_) | Record::Enrollment(_) | Record::Setting(_) => Priority::Normal,
    }
}

/// Typed loads, one per kind: a stored record of another kind under the key means a damaged store.
macro_rules! typed_load {
    ($name:ident, $kind:ident, $variant:ident, $ty:ty) => {
        pub fn $name(conn: &Connection, entity_id: &str) -> Result<Option<$ty>> {
            match load(conn, EntityKind::$kind, entity_id)? {
                None => Ok(None),
                Some(Record::$variant(record)) => Ok(Some(record)),
                Some(_) => {
                    Err(Error::corrupt("sync record", format!("{entity_id:?} is stored under another kind")))
                }
            }
        }
    };
}

typed_load!(load_progress, Progress, Progress, satchel_protocol::records::ProgressRecord);
typed_load!(load_attempt, QuizAttempt, QuizAttempt, satchel_protocol::records::AttemptRecord);
typed_load!(load_note, Note, Note, satchel_protocol::records::NoteRecord);
typed_load!(load_enrollment, Enrollment, Enrollment, satchel_protocol::records::EnrollmentRecord);
typed_load!(load_setting, Setting, Setting, satchel_protocol::records::SettingRecord);
