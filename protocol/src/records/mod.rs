//! The synced entities, each a state-based CRDT record: a push or pull carries a whole record,
//! and `merge` is a join (commutative, associative, idempotent). The server keeps
//! `stored = merge(stored, incoming)`, a client keeps `local = merge(local, remote)`, and
//! duplicates, drops, reordering and replays all converge.
//!
//! Each record has a `validate()` the server runs before merging a pushed record: a record that
//! fails is rejected with a [`RecordError`] (its [`RecordError::reject_code`] and text travel
//! back to the app), and nothing is stored.

mod enrollment;
mod note;
mod progress;
mod quiz_attempt;
mod setting;

use serde::{Deserialize, Serialize};

pub use enrollment::EnrollmentRecord;
pub use note::{BodyVersion, BodyVersions, NoteDraft, NoteKind, NoteRecord};
pub use progress::{LocalProgress, ProgressRecord};
pub use quiz_attempt::{AnswerRecord, AttemptRecord, AttemptState, QuizMode};
pub use setting::SettingRecord;

use crate::hlc::{Hlc, HlcError};
use crate::ids::is_safe_id;
use crate::messages::RejectCode;

/// Size limits a record must stay within (checked by `validate`).
pub mod limits {
    /// A note body (each version), in bytes of UTF-8.
    pub const NOTE_TEXT_BYTES: usize = 65_536; // 64 KiB
    /// Tags on one note.
    pub const TAGS: usize = 32;
    /// Characters in one tag.
    pub const TAG_CHARS: usize = 64;
    /// Characters in a note colour name.
    pub const COLOR_CHARS: usize = 32;
    /// A note anchor or a setting value, as JSON bytes.
    pub const JSON_VALUE_BYTES: usize = 16_384; // 16 KiB
    /// Concurrent body versions (revisions) of one note.
    pub const NOTE_HEADS: usize = 256;
    /// Superseded body versions one note remembers.
    pub const NOTE_SUPERSEDED: usize = 65_536;
    /// Watched ranges of one lesson.
    pub const WATCHED_RANGES: usize = 10_000;
    /// Devices with a time counter on one lesson.
    pub const DEVICES: usize = 256;
    /// Answered questions in one attempt.
    pub const ANSWERS: usize = 1_000;
    /// Chosen options in one answer.
    pub const CHOICES: usize = 64;
}

/// What kind of entity a record is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Progress,
    QuizAttempt,
    Note,
    Enrollment,
    Setting,
}

impl EntityKind {
    /// The wire name (also the `kind` tag of [`Record`]).
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Progress => "progress",
            EntityKind::QuizAttempt => "quiz_attempt",
            EntityKind::Note => "note",
            EntityKind::Enrollment => "enrollment",
            EntityKind::Setting => "setting",
        }
    }
}

/// Why a record is refused (by `validate`, or by a local edit helper). The text is safe to send
/// back to the app: it names fields and limits, never the learner's content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("{field} is not a valid id (1-128 bytes of A-Z a-z 0-9 . _ : -)")]
    InvalidId { field: &'static str },
    #[error("{field} is too large: {actual} > {limit}")]
    TooLarge { field: &'static str, actual: usize, limit: usize },
    #[error("{field} {reason}")]
    OutOfRange { field: &'static str, reason: &'static str },
    #[error("{field} holds a bad clock stamp: {source}")]
    BadStamp {
        field: &'static str,
        #[source]
        source: HlcError,
    },
    #[error("inconsistent record: {0}")]
    Inconsistent(&'static str),
    #[error("the clock stamp of a local change must be newer than every stamp in the record")]
    StaleStamp,
    #[error("no such revision")]
    NoSuchRevision,
    #[error("the shown version of a note cannot be dismissed, only other revisions")]
    CannotDismissWinner,
    #[error("not allowed in attempt state {0:?}")]
    WrongState(AttemptState),
}

impl RecordError {
    /// The code a server reports when it rejects an op for this reason.
    pub fn reject_code(&self) -> RejectCode {
        match self {
            RecordError::TooLarge { .. } => RejectCode::TooLarge,
            _ => RejectCode::InvalidRecord,
        }
    }
}

/// Merging two records that are not about the same entity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot merge {left_kind:?} {left_id:?} with {right_kind:?} {right_id:?}")]
pub struct MergeError {
    pub left_kind: EntityKind,
    pub left_id: String,
    pub right_kind: EntityKind,
    pub right_id: String,
}

/// Any synced record, tagged on the wire by `"kind"`.
// Notes are the largest variant (~400 bytes inline vs ~180): records are short-lived values
// moved through merge, so boxing would cost every match more than it saves.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    Progress(ProgressRecord),
    QuizAttempt(AttemptRecord),
    Note(NoteRecord),
    Enrollment(EnrollmentRecord),
    Setting(SettingRecord),
}

impl Record {
    /// The entity this record is about: merge only ever combines records with equal keys.
    pub fn key(&self) -> (EntityKind, &str) {
        match self {
            Record::Progress(r) => (EntityKind::Progress, &r.lesson_id),
            Record::QuizAttempt(r) => (EntityKind::QuizAttempt, &r.attempt_id),
            Record::Note(r) => (EntityKind::Note, &r.note_id),
            Record::Enrollment(r) => (EntityKind::Enrollment, &r.course_id),
            Record::Setting(r) => (EntityKind::Setting, &r.key),
        }
    }

    /// The join of two states of one entity.
    pub fn merge(self, other: Record) -> Result<Record, MergeError> {
        match (self, other) {
            (Record::Progress(a), Record::Progress(b)) if a.lesson_id == b.lesson_id => {
                Ok(Record::Progress(a.merge(b)))
            }
            (Record::QuizAttempt(a), Record::QuizAttempt(b)) if a.attempt_id == b.attempt_id => {
                Ok(Record::QuizAttempt(a.merge(b)))
            }
            (Record::Note(a), Record::Note(b)) if a.note_id == b.note_id => Ok(Record::Note(a.merge(b))),
            (Record::Enrollment(a), Record::Enrollment(b)) if a.course_id == b.course_id => {
                Ok(Record::Enrollment(a.merge(b)))
            }
            (Record::Setting(a), Record::Setting(b)) if a.key == b.key => Ok(Record::Setting(a.merge(b))),
            (a, b) => {
                let ((left_kind, left_id), (right_kind, right_id)) = (a.key(), b.key());
                Err(MergeError {
                    left_kind,
                    left_id: left_id.to_owned(),
                    right_kind,
                    right_id: right_id.to_owned(),
                })
            }
        }
    }

    /// Checks limits and invariants; the server rejects an op whose record fails.
    pub fn validate(&self) -> Result<(), RecordError> {
        match self {
            Record::Progress(r) => r.validate(),
            Record::QuizAttempt(r) => r.validate(),
            Record::Note(r) => r.validate(),
            Record::Enrollment(r) => r.validate(),
            Record::Setting(r) => r.validate(),
        }
    }

    /// The newest clock stamp in the record (attempts carry none: their order is their state).
    /// A client feeds it to [`Hlc::receive`] after a pull so its next local change is newer.
    pub fn max_hlc(&self) -> Option<&Hlc> {
        match self {
            Record::Progress(r) => Some(&r.position_ms.hlc),
            Record::QuizAttempt(_) => None,
            Record::Note(r) => Some(r.max_hlc()),
            Record::Enrollment(r) => Some(&r.unenrolled.hlc),
            Record::Setting(r) => Some(&r.value.hlc),
        }
    }

    /// Lowers every stamp above `limit_wall_ms` to it (keeping them distinct and in order, see
    /// [`crate::hlc::ClampMap`]). Returns whether anything changed. The server does this with
    /// `limit = now + MAX_FUTURE_SKEW_MS` and reports the limit; the pushing client applies
    /// the same clamp to its own copy so both hold the same state.
    pub fn clamp(&mut self, limit_wall_ms: i64) -> bool {
        match self {
            Record::Progress(r) => r.clamp(limit_wall_ms),
            Record::QuizAttempt(_) => false,
            Record::Note(r) => r.clamp(limit_wall_ms),
            Record::Enrollment(r) => r.unenrolled.hlc.clamp_wall(limit_wall_ms),
            Record::Setting(r) => r.value.hlc.clamp_wall(limit_wall_ms),
        }
    }

    /// True for a deleted note: kept as a tombstone until every device has pulled past it.
    pub fn is_tombstone(&self) -> bool {
        matches!(self, Record::Note(r) if r.deleted.value)
    }
}

impl From<ProgressRecord> for Record {
    fn from(r: ProgressRecord) -> Self {
        Record::Progress(r)
    }
}
impl From<AttemptRecord> for Record {
    fn from(r: AttemptRecord) -> Self {
        Record::QuizAttempt(r)
    }
}
impl From<NoteRecord> for Record {
    fn from(r: NoteRecord) -> Self {
        Record::Note(r)
    }
}
impl From<EnrollmentRecord> for Record {
    fn from(r: EnrollmentRecord) -> Self {
        Record::Enrollment(r)
    }
}
impl From<SettingRecord> for Record {
    fn from(r: SettingRecord) -> Self {
        Record::Setting(r)
    }
}

// ---- validation helpers shared by the record kinds ----

pub(crate) fn check_id(field: &'static str, id: &str) -> Result<(), RecordError> {
    if is_safe_id(id) { Ok(()) } else { Err(RecordError::InvalidId { field }) }
}

pub(crate) fn check_stamp(field: &'static str, hlc: &Hlc) -> Result<(), RecordError> {
    hlc.validate().map_err(|source| RecordError::BadStamp { field, source })
}

pub(crate) fn check_time(field: &'static str, ms: i64) -> Result<(), RecordError> {
    if ms >= 0 { Ok(()) } else { Err(RecordError::OutOfRange { field, reason: "must not be negative" }) }
}

pub(crate) fn check_len(field: &'static str, actual: usize, limit: usize) -> Result<(), RecordError> {
    if actual <= limit { Ok(()) } else { Err(RecordError::TooLarge { field, actual, limit }) }
}

/// A JSON value (note anchor, setting) within [`limits::JSON_VALUE_BYTES`].
pub(crate) fn check_json(field: &'static str, value: &serde_json::Value) -> Result<(), RecordError> {
    let bytes = serde_json::to_vec(value)
        .map_err(|_| RecordError::OutOfRange { field, reason: "is not serialisable JSON" })?;
    check_len(field, bytes.len(), limits::JSON_VALUE_BYTES)
}

/// Fails with [`RecordError::StaleStamp`] unless `hlc` is newer than `newest`: a local change
/// stamped older than what the record already holds would silently lose to it.
pub(crate) fn check_fresh(hlc: &Hlc, newest: &Hlc) -> Result<(), RecordError> {
    check_stamp("hlc", hlc)?;
    if hlc > newest { Ok(()) } else { Err(RecordError::StaleStamp) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(wall_ms: i64, device: &str) -> Hlc {
        Hlc { wall_ms, counter: 0, device: device.to_owned() }
    }

    fn note() -> NoteRecord {
        let draft = NoteDraft {
            note_id: "n1".into(),
            lesson_id: "l1".into(),
            course_id: "c1".into(),
            kind: NoteKind::Highlight,
            anchor: json!({"type": "time"}),
            color: None,
            tags: vec![],
            text: String::new(),
        };
        NoteRecord::create(draft, at(5_000, "a"), 1).unwrap()
    }

    fn progress() -> ProgressRecord {
        let local = LocalProgress {
            position_ms: 1,
            furthest_ms: 1,
            watched: &[],
            scroll_fraction: 0.0,
            completed_at_ms: None,
            device_time_ms: 0,
        };
        ProgressRecord::from_local("l1", "c1", at(5_000, "a"), &local).unwrap()
    }

    fn attempt() -> AttemptRecord {
        AttemptRecord {
            attempt_id: "att-1".into(),
            lesson_id: "q1".into(),
            course_id: "c1".into(),
            mode: QuizMode::Practice,
            state: AttemptState::InProgress,
            answers: Default::default(),
            started_at_ms: 1,
            submitted_at_ms: None,
            score_percent: None,
            passed: None,
            graded_by_server: false,
        }
    }

    fn all() -> Vec<Record> {
        vec![
            progress().into(),
            attempt().into(),
            note().into(),
            EnrollmentRecord::new("c1", 1, at(5_000, "a")).unwrap().into(),
            SettingRecord::new("goal", json!(3), at(5_000, "a")).unwrap().into(),
        ]
    }

    #[test]
    fn keys_and_kind_tags_agree() {
        let expected = [
            (EntityKind::Progress, "l1"),
            (EntityKind::QuizAttempt, "att-1"),
            (EntityKind::Note, "n1"),
            (EntityKind::Enrollment, "c1"),
            (EntityKind::Setting, "goal"),
        ];
        for (record, (kind, id)) in all().iter().zip(expected) {
            assert_eq!(record.key(), (kind, id));
            let value = serde_json::to_value(record).unwrap();
            assert_eq!(value["kind"], kind.as_str(), "the record tag is the entity kind's wire name");
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(record.validate(), Ok(()));
        }
        let note = serde_json::to_value(Record::from(note())).unwrap();
        assert_eq!(note["note_kind"], "highlight");
    }

    #[test]
    fn validate_dispatches_to_each_kind() {
        let mut bad = all();
        match &mut bad[0] {
            Record::Progress(r) => r.lesson_id.clear(),
            _ => unreachable!(),
        }
        match &mut bad[1] {
            Record::QuizAttempt(r) => r.attempt_id.clear(),
            _ => unreachable!(),
        }
        match &mut bad[2] {
            Record::Note(r) => r.note_id.clear(),
            _ => unreachable!(),
        }
        match &mut bad[3] {
            Record::Enrollment(r) => r.course_id.clear(),
            _ => unreachable!(),
        }
        match &mut bad[4] {
            Record::Setting(r) => r.key.clear(),
            _ => unreachable!(),
        }
        for record in bad {
            assert!(matches!(record.validate(), Err(RecordError::InvalidId { .. })), "{:?}", record.key());
        }
    }

    #[test]
    fn max_hlc_and_clamp_cover_every_stamped_kind() {
        for mut record in all() {
            let stamped = record.key().0 != EntityKind::QuizAttempt;
            assert_eq!(record.max_hlc().cloned(), stamped.then(|| at(5_000, "a")), "{:?}", record.key());
            assert!(!record.clamp(5_000), "at the limit nothing moves");
            assert_eq!(record.clamp(4_000), stamped);
            if stamped {
                assert_eq!(record.max_hlc().unwrap().wall_ms, 4_000);
            }
            assert_eq!(record.validate(), Ok(()));
        }
    }

    #[test]
    fn only_a_deleted_note_is_a_tombstone() {
        let mut n = note();
        assert!(!Record::from(n.clone()).is_tombstone());
        n.set_deleted(true, at(6_000, "a")).unwrap();
        assert!(Record::from(n).is_tombstone());
        for record in all() {
            assert!(!record.is_tombstone());
        }
    }

    #[test]
    fn reject_codes() {
        assert_eq!(
            RecordError::TooLarge { field: "x", actual: 2, limit: 1 }.reject_code(),
            RejectCode::TooLarge
        );
        assert_eq!(RecordError::InvalidId { field: "x" }.reject_code(), RejectCode::InvalidRecord);
        assert_eq!(RecordError::Inconsistent("x").reject_code(), RejectCode::InvalidRecord);
    }

    #[test]
    fn check_helpers_edges() {
        assert_eq!(check_time("t", 0), Ok(()));
        assert!(check_time("t", -1).is_err());
        assert_eq!(check_len("f", 3, 3), Ok(()));
        assert_eq!(check_len("f", 4, 3), Err(RecordError::TooLarge { field: "f", actual: 4, limit: 3 }));
        assert_eq!(check_fresh(&at(2, "a"), &at(1, "a")), Ok(()));
        assert_eq!(check_fresh(&at(1, "a"), &at(1, "a")), Err(RecordError::StaleStamp));
        assert!(matches!(check_fresh(&at(-1, "a"), &at(-5, "a")), Err(RecordError::BadStamp { .. })));
        let big = json!("x".repeat(limits::JSON_VALUE_BYTES - 2));
        assert_eq!(check_json("v", &big), Ok(()), "exactly at the limit");
        let over = json!("x".repeat(limits::JSON_VALUE_BYTES - 1));
        assert!(check_json("v", &over).is_err());
    }
}
