//! A note or highlight. Each field is its own last-writer-wins register, except the body: its
//! concurrent edits are all kept, as revisions the learner can list, restore or dismiss.
//!
//! The body is a set of *heads* (versions nobody has edited on top of yet) and a set of
//! *superseded* stamps (versions some edit replaced). A local edit adds a head and supersedes
//! the head it was made from; merge takes the union of both sets and drops superseded heads.
//! So a version disappears only when an edit that **saw it** replaced it (or the learner
//! dismissed it): two phones editing the same note offline both keep their text, and an edit
//! racing a delete stays restorable.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{RecordError, check_fresh, check_id, check_json, check_len, check_stamp, check_time, limits};
use crate::hlc::{ClampMap, Hlc};
use crate::stamped::Stamped;

/// What the note is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "lowercase")]
pub enum NoteKind {
    /// The learner's own words, about a moment or a passage.
    Note,
    /// A marked passage or stretch, optionally with a comment.
    Highlight,
}

/// One version of a note's text. (Its author is the device in its stamp.)
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyVersion {
    pub text: String,
    /// When it was written, by the writing device's clock (for display only; order is by stamp).
    pub at_ms: i64,
}

/// The versions of a note's text: see the module docs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BodyVersions {
    /// Current versions by stamp. The largest is shown; the others are revisions.
    pub heads: BTreeMap<Hlc, BodyVersion>,
    /// Stamps of versions an edit (or a dismissal) replaced. Kept so that a replica still holding
    /// one of them drops it on merge instead of bringing it back.
    pub superseded: BTreeSet<Hlc>,
}

impl BodyVersions {
    /// A body with one version.
    pub fn new(text: String, hlc: Hlc, at_ms: i64) -> BodyVersions {
        BodyVersions {
            heads: BTreeMap::from([(hlc, BodyVersion { text, at_ms })]),
            superseded: BTreeSet::new(),
        }
    }

    /// Union of heads and of superseded stamps, then superseded heads dropped. Both unions are
    /// joins and the final filter only depends on the united sets, so this is a join.
    pub fn merge(self, other: BodyVersions) -> BodyVersions {
        let mut superseded = self.superseded;
        superseded.extend(other.superseded);
        let mut heads = self.heads;
        for (hlc, version) in other.heads {
            // One stamp, two texts is bad input; keep the larger on every replica.
            heads.entry(hlc).and_modify(|mine| *mine = mine.clone().max(version.clone())).or_insert(version);
        }
        heads.retain(|hlc, _| !superseded.contains(hlc));
        BodyVersions { heads, superseded }
    }

    /// The version shown: the head with the largest stamp.
    pub fn winner(&self) -> Option<(&Hlc, &BodyVersion)> {
        self.heads.last_key_value()
    }

    /// The other heads (concurrent edits), newest first.
    pub fn revisions(&self) -> Vec<(&Hlc, &BodyVersion)> {
        self.heads.iter().rev().skip(1).collect()
    }

    fn max_hlc(&self) -> Option<&Hlc> {
        let head = self.heads.last_key_value().map(|(hlc, _)| hlc);
        head.max(self.superseded.last())
    }
}

/// What an app passes to create a note (the protocol-level fields only: device-local state such
/// as whether a text anchor was found again never travels).
#[derive(Debug, Clone, PartialEq)]
pub struct NoteDraft {
    pub note_id: String,
    pub lesson_id: String,
    pub course_id: String,
    pub kind: NoteKind,
    /// Where the note points: a JSON object with a `"type"` (the core's `NoteAnchor`).
    pub anchor: serde_json::Value,
    pub color: Option<String>,
    pub tags: Vec<String>,
    pub text: String,
}

/// A note or highlight, keyed by `note_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteRecord {
    pub note_id: String,
    pub lesson_id: String,
    pub course_id: String,
    /// On the wire `note_kind`: `kind` is the [`Record`](super::Record) tag.
    #[serde(rename = "note_kind")]
    pub kind: NoteKind,
    /// The earliest creation time any replica saw.
    pub created_at_ms: i64,
    pub anchor: Stamped<serde_json::Value>,
    pub color: Stamped<Option<String>>,
    pub tags: Stamped<Vec<String>>,
    /// Deleted or not, by its own stamp: an edit does not undelete, and a delete does not drop
    /// the text (it stays a head, restorable).
    pub deleted: Stamped<bool>,
    pub body: BodyVersions,
}

impl NoteRecord {
    /// A new note: every field stamped `hlc`.
    pub fn create(draft: NoteDraft, hlc: Hlc, at_ms: i64) -> Result<NoteRecord, RecordError> {
        let record = NoteRecord {
            note_id: draft.note_id,
            lesson_id: draft.lesson_id,
            course_id: draft.course_id,
            kind: draft.kind,
            created_at_ms: at_ms,
            anchor: Stamped::new(draft.anchor, hlc.clone()),
            color: Stamped::new(draft.color, hlc.clone()),
            tags: Stamped::new(draft.tags, hlc.clone()),
            deleted: Stamped::new(false, hlc.clone()),
            body: BodyVersions::new(draft.text, hlc, at_ms),
        };
        record.validate()?;
        Ok(record)
    }

    /// The join of two states of the same note.
    pub fn merge(self, other: NoteRecord) -> NoteRecord {
        NoteRecord {
            // Identity fields are equal for one note; `max` keeps merge order-independent even
            // when a bad client disagrees.
            note_id: self.note_id.max(other.note_id),
            lesson_id: self.lesson_id.max(other.lesson_id),
            course_id: self.course_id.max(other.course_id),
            kind: self.kind.max(other.kind),
            created_at_ms: self.created_at_ms.min(other.created_at_ms),
            anchor: self.anchor.merge(other.anchor),
            color: self.color.merge(other.color),
            tags: self.tags.merge(other.tags),
            deleted: self.deleted.merge(other.deleted),
            body: self.body.merge(other.body),
        }
    }

    /// The text shown (empty only for a malformed record with no head).
    pub fn text(&self) -> &str {
        self.body.winner().map_or("", |(_, v)| v.text.as_str())
    }

    /// The version shown and its stamp.
    pub fn winner(&self) -> Option<(&Hlc, &BodyVersion)> {
        self.body.winner()
    }

    /// The concurrent versions besides the shown one, newest first.
    pub fn revisions(&self) -> Vec<(&Hlc, &BodyVersion)> {
        self.body.revisions()
    }

    /// True when the note is deleted but its text was edited (on a device that had not seen the
    /// delete) after the delete: the app can offer to restore it.
    pub fn edited_after_delete(&self) -> bool {
        self.deleted.value && self.winner().is_some_and(|(hlc, _)| *hlc > self.deleted.hlc)
    }

    /// The newest stamp anywhere in the record.
    pub fn max_hlc(&self) -> &Hlc {
        let fields = [&self.anchor.hlc, &self.color.hlc, &self.tags.hlc, &self.deleted.hlc];
        let newest_field = fields.into_iter().max().unwrap_or(&self.deleted.hlc);
        newest_field.max(self.body.max_hlc().unwrap_or(newest_field))
    }

    /// A local edit of the text: a new head at `hlc` that supersedes the shown version (other
    /// revisions stay). Returns `false`, changing nothing, when the text is unchanged.
    pub fn edit_body(&mut self, text: String, hlc: Hlc, at_ms: i64) -> Result<bool, RecordError> {
        if text == self.text() {
            return Ok(false);
        }
        self.check_local(&hlc, at_ms)?;
        check_text(&text)?;
        check_len("body.superseded", self.body.superseded.len() + 1, limits::NOTE_SUPERSEDED)?;
        if let Some((shown, _)) = self.body.winner() {
            let shown = shown.clone();
            self.body.heads.remove(&shown);
            self.body.superseded.insert(shown);
        }
        self.body.heads.insert(hlc, BodyVersion { text, at_ms });
        Ok(true)
    }

    /// Makes revision `revision` the text again: a new head with its text, superseding every
    /// current head (the learner chose among them). Restoring a deleted note's text also
    /// undeletes it.
    pub fn restore_revision(&mut self, revision: &Hlc, new_hlc: Hlc, at_ms: i64) -> Result<(), RecordError> {
        let text = self.body.heads.get(revision).ok_or(RecordError::NoSuchRevision)?.text.clone();
        self.check_local(&new_hlc, at_ms)?;
        check_len(
            "body.superseded",
            self.body.superseded.len() + self.body.heads.len(),
            limits::NOTE_SUPERSEDED,
        )?;
        let replaced = std::mem::take(&mut self.body.heads);
        self.body.superseded.extend(replaced.into_keys());
        if self.deleted.value {
            self.deleted = Stamped::new(false, new_hlc.clone());
        }
        self.body.heads.insert(new_hlc, BodyVersion { text, at_ms });
        Ok(())
    }

    /// Drops one revision (not the shown version) the learner does not want.
    pub fn dismiss_revision(&mut self, revision: &Hlc) -> Result<(), RecordError> {
        if !self.body.heads.contains_key(revision) {
            return Err(RecordError::NoSuchRevision);
        }
        if self.body.winner().is_some_and(|(shown, _)| shown == revision) {
            return Err(RecordError::CannotDismissWinner);
        }
        check_len("body.superseded", self.body.superseded.len() + 1, limits::NOTE_SUPERSEDED)?;
        self.body.heads.remove(revision);
        self.body.superseded.insert(revision.clone());
        Ok(())
    }

    /// Deletes (or undeletes) the note. The text is kept either way.
    pub fn set_deleted(&mut self, deleted: bool, hlc: Hlc) -> Result<(), RecordError> {
        check_fresh(&hlc, self.max_hlc())?;
        self.deleted = Stamped::new(deleted, hlc);
        Ok(())
    }

    pub fn set_tags(&mut self, tags: Vec<String>, hlc: Hlc) -> Result<(), RecordError> {
        check_fresh(&hlc, self.max_hlc())?;
        check_tags(&tags)?;
        self.tags = Stamped::new(tags, hlc);
        Ok(())
    }

    pub fn set_color(&mut self, color: Option<String>, hlc: Hlc) -> Result<(), RecordError> {
        check_fresh(&hlc, self.max_hlc())?;
        check_color(color.as_deref())?;
        self.color = Stamped::new(color, hlc);
        Ok(())
    }

    pub fn set_anchor(&mut self, anchor: serde_json::Value, hlc: Hlc) -> Result<(), RecordError> {
        check_fresh(&hlc, self.max_hlc())?;
        check_anchor(&anchor)?;
        self.anchor = Stamped::new(anchor, hlc);
        Ok(())
    }

    /// Checks ids, limits, stamps and the body's invariants.
    pub fn validate(&self) -> Result<(), RecordError> {
        check_id("note_id", &self.note_id)?;
        check_id("lesson_id", &self.lesson_id)?;
        check_id("course_id", &self.course_id)?;
        check_time("created_at_ms", self.created_at_ms)?;
        check_stamp("anchor.hlc", &self.anchor.hlc)?;
        check_stamp("color.hlc", &self.color.hlc)?;
        check_stamp("tags.hlc", &self.tags.hlc)?;
        check_stamp("deleted.hlc", &self.deleted.hlc)?;
        check_anchor(&self.anchor.value)?;
        check_color(self.color.value.as_deref())?;
        check_tags(&self.tags.value)?;
        let body = &self.body;
        check_len("body.heads", body.heads.len(), limits::NOTE_HEADS)?;
        check_len("body.superseded", body.superseded.len(), limits::NOTE_SUPERSEDED)?;
        for (hlc, version) in &body.heads {
            check_stamp("body.heads", hlc)?;
            check_time("body.heads at_ms", version.at_ms)?;
            check_text(&version.text)?;
        }
        for hlc in &body.superseded {
            check_stamp("body.superseded", hlc)?;
        }
        let Some((newest_head, _)) = body.winner() else {
            return Err(RecordError::Inconsistent("a note body needs at least one version"));
        };
        if body.heads.keys().any(|hlc| body.superseded.contains(hlc)) {
            return Err(RecordError::Inconsistent("a superseded body version is still a head"));
        }
        // Every edit supersedes only what is older than itself, so the newest body stamp is
        // always a head. A record claiming otherwise would let one push erase text it never saw.
        let newest = body
            .superseded
            .last()
            .map_or(newest_head, |newest_superseded| newest_superseded.max(newest_head));
        if !body.heads.contains_key(newest) {
            return Err(RecordError::Inconsistent("the newest body version is superseded"));
        }
        Ok(())
    }

    /// Lowers every stamp above `limit_wall_ms`, keeping them distinct and in order.
    pub(crate) fn clamp(&mut self, limit_wall_ms: i64) -> bool {
        let fields = [&self.anchor.hlc, &self.color.hlc, &self.tags.hlc, &self.deleted.hlc];
        let stamps = fields.into_iter().chain(self.body.heads.keys()).chain(&self.body.superseded);
        let map = ClampMap::new(stamps, limit_wall_ms);
        if map.is_empty() {
            return false;
        }
        map.apply(&mut self.anchor.hlc);
        map.apply(&mut self.color.hlc);
        map.apply(&mut self.tags.hlc);
        map.apply(&mut self.deleted.hlc);
        let heads = std::mem::take(&mut self.body.heads);
        self.body.heads = heads.into_iter().map(|(hlc, v)| (map.map(&hlc), v)).collect();
        let superseded = std::mem::take(&mut self.body.superseded);
        self.body.superseded = superseded.iter().map(|hlc| map.map(hlc)).collect();
        true
    }

    /// A local change needs a stamp newer than everything in the record and a sane time.
    fn check_local(&self, hlc: &Hlc, at_ms: i64) -> Result<(), RecordError> {
        check_fresh(hlc, self.max_hlc())?;
        check_time("at_ms", at_ms)
    }
}

fn check_text(text: &str) -> Result<(), RecordError> {
    check_len("body text", text.len(), limits::NOTE_TEXT_BYTES)
}

fn check_tags(tags: &[String]) -> Result<(), RecordError> {
    check_len("tags", tags.len(), limits::TAGS)?;
    for tag in tags {
        check_len("tag", tag.chars().count(), limits::TAG_CHARS)?;
        if tag.trim().is_empty() || tag.chars().any(char::is_control) {
            return Err(RecordError::OutOfRange { field: "tag", reason: "must be visible text" });
        }
    }
    Ok(())
}

fn check_color(color: Option<&str>) -> Result<(), RecordError> {
    let Some(color) = color else { return Ok(()) };
    check_len("color", color.chars().count(), limits::COLOR_CHARS)?;
    if color.is_empty() || color.chars().any(char::is_control) {
        return Err(RecordError::OutOfRange { field: "color", reason: "must be visible text" });
    }
    Ok(())
}

fn check_anchor(anchor: &serde_json::Value) -> Result<(), RecordError> {
    if !anchor.get("type").is_some_and(serde_json::Value::is_string) {
        return Err(RecordError::OutOfRange { field: "anchor", reason: "must be an object with a \"type\"" });
    }
    check_json("anchor", anchor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn at(wall_ms: i64, device: &str) -> Hlc {
        Hlc { wall_ms, counter: 0, device: device.to_owned() }
    }

    fn note(text: &str) -> NoteRecord {
        let draft = NoteDraft {
            note_id: "n1".into(),
            lesson_id: "l1".into(),
            course_id: "c1".into(),
            kind: NoteKind::Note,
            anchor: json!({"type": "time", "start_ms": 0, "end_ms": 10}),
            color: None,
            tags: vec![],
            text: text.into(),
        };
        NoteRecord::create(draft, at(100, "a"), 100).unwrap()
    }

    #[test]
    fn concurrent_edits_are_kept_as_revisions() {
        let base = note("draft");
        let mut phone = base.clone();
        let mut tablet = base.clone();
        assert!(phone.edit_body("phone text".into(), at(200, "phone"), 200).unwrap());
        assert!(tablet.edit_body("tablet text".into(), at(300, "tablet"), 300).unwrap());
        let merged = phone.clone().merge(tablet.clone());
        assert_eq!(merged, tablet.merge(phone));
        assert_eq!(merged.text(), "tablet text", "the later edit is shown");
        let revisions = merged.revisions();
        assert_eq!(revisions.len(), 1);
        assert_eq!(revisions[0].1.text, "phone text");
        assert_eq!(*revisions[0].0, at(200, "phone"));
        assert!(!merged.body.heads.values().any(|v| v.text == "draft"), "both edits saw the draft");
        assert_eq!(merged.validate(), Ok(()));
    }

    #[test]
    fn a_sequential_edit_replaces_what_it_saw() {
        let mut a = note("one");
        a.edit_body("two".into(), at(200, "a"), 200).unwrap();
        let mut b = a.clone();
        b.edit_body("three".into(), at(300, "b"), 300).unwrap();
        let merged = a.merge(b);
        assert_eq!(merged.text(), "three");
        assert!(merged.revisions().is_empty());
        assert!(merged.body.superseded.contains(&at(100, "a")));
        assert!(merged.body.superseded.contains(&at(200, "a")));
    }

    #[test]
    fn an_unchanged_text_is_not_an_edit() {
        let mut a = note("same");
        let before = a.clone();
        assert_eq!(a.edit_body("same".into(), at(200, "a"), 200), Ok(false));
        assert_eq!(a, before);
    }

    #[test]
    fn an_edit_racing_a_delete_stays_restorable() {
        let base = note("original");
        let mut deleter = base.clone();
        let mut editor = base.clone();
        deleter.set_deleted(true, at(200, "d")).unwrap();
        editor.edit_body("my late thought".into(), at(300, "e"), 300).unwrap();
        let merged = deleter.clone().merge(editor.clone());
        assert_eq!(merged, editor.merge(deleter));
        assert!(merged.deleted.value, "an edit does not undelete");
        assert_eq!(merged.text(), "my late thought", "the text is kept");
        assert!(merged.edited_after_delete());
        assert!(Record::from(merged.clone()).is_tombstone());

        let mut restored = merged.clone();
        let shown = restored.winner().unwrap().0.clone();
        restored.restore_revision(&shown, at(400, "d"), 400).unwrap();
        assert!(!restored.deleted.value);
        assert_eq!(restored.deleted.hlc, at(400, "d"));
        assert_eq!(restored.text(), "my late thought");
        assert!(!restored.edited_after_delete());
        // Another replica still holding the deleted state converges on the restored one.
        assert_eq!(merged.merge(restored.clone()), restored);
    }

    #[test]
    fn a_delete_after_the_edit_is_not_flagged() {
        let mut n = note("x");
        n.edit_body("y".into(), at(200, "a"), 200).unwrap();
        assert!(!n.edited_after_delete(), "edited, never deleted");
        let mut same_stamp = n.clone();
        same_stamp.deleted = Stamped::new(true, at(200, "a"));
        assert!(!same_stamp.edited_after_delete(), "a delete and an edit in one change are not a race");
        n.set_deleted(true, at(300, "a")).unwrap();
        assert!(!n.edited_after_delete());
        n.set_deleted(false, at(400, "a")).unwrap();
        assert!(!n.edited_after_delete());
    }

    #[test]
    fn restore_supersedes_every_head() {
        let base = note("draft");
        let mut a = base.clone();
        let mut b = base.clone();
        let mut c = base;
        a.edit_body("A".into(), at(200, "a"), 200).unwrap();
        b.edit_body("B".into(), at(300, "b"), 300).unwrap();
        c.edit_body("C".into(), at(250, "c"), 250).unwrap();
        let mut merged = a.clone().merge(b.clone()).merge(c.clone());
        assert_eq!(merged.text(), "B");
        let texts: Vec<&str> = merged.revisions().iter().map(|(_, v)| v.text.as_str()).collect();
        assert_eq!(texts, ["C", "A"], "newest first");
        merged.restore_revision(&at(200, "a"), at(500, "b"), 500).unwrap();
        assert_eq!(merged.text(), "A");
        assert!(merged.revisions().is_empty());
        assert!(!merged.deleted.value);
        assert_eq!(merged.deleted.hlc, at(100, "a"), "not deleted: the delete flag keeps its stamp");
        // Replicas that still hold the old heads converge on the restored text.
        for old in [a, b, c] {
            assert_eq!(old.merge(merged.clone()).text(), "A");
        }
        assert_eq!(merged.validate(), Ok(()));
    }

    #[test]
    fn dismiss_drops_one_revision_everywhere() {
        let base = note("draft");
        let mut a = base.clone();
        let mut b = base;
        a.edit_body("A".into(), at(200, "a"), 200).unwrap();
        b.edit_body("B".into(), at(300, "b"), 300).unwrap();
        let mut merged = a.clone().merge(b.clone());
        assert_eq!(merged.dismiss_revision(&at(300, "b")), Err(RecordError::CannotDismissWinner));
        assert_eq!(merged.dismiss_revision(&at(999, "b")), Err(RecordError::NoSuchRevision));
        merged.dismiss_revision(&at(200, "a")).unwrap();
        assert_eq!(merged.text(), "B");
        assert!(merged.revisions().is_empty());
        assert_eq!(a.merge(merged.clone()), merged, "the dismissed text does not come back");
        assert_eq!(merged.validate(), Ok(()));
    }

    /// A note whose body remembers `count` superseded stamps, all older than its text.
    fn with_superseded(count: usize) -> NoteRecord {
        let mut n = note("x");
        n.body.superseded =
            (0..count).map(|i| Hlc { wall_ms: 1, counter: i as u32, device: "old".into() }).collect();
        n.body.heads.insert(at(90, "b"), BodyVersion { text: "rev".into(), at_ms: 1 });
        if count <= limits::NOTE_SUPERSEDED {
            assert_eq!(n.validate(), Ok(()));
        }
        n
    }

    #[test]
    fn local_changes_stop_at_the_superseded_limit() {
        let limit = limits::NOTE_SUPERSEDED;
        let mut edit = with_superseded(limit - 1);
        edit.edit_body("y".into(), at(200, "a"), 200).unwrap();
        assert_eq!(edit.body.superseded.len(), limit);
        let full = edit.clone();
        assert!(matches!(edit.edit_body("z".into(), at(300, "a"), 300), Err(RecordError::TooLarge { .. })));
        assert_eq!(edit, full);

        let mut dismiss = with_superseded(limit - 1);
        dismiss.dismiss_revision(&at(90, "b")).unwrap();
        let mut dismiss = with_superseded(limit);
        assert!(matches!(dismiss.dismiss_revision(&at(90, "b")), Err(RecordError::TooLarge { .. })));

        // Restore supersedes both heads.
        let mut restore = with_superseded(limit - 2);
        restore.restore_revision(&at(90, "b"), at(200, "a"), 200).unwrap();
        assert_eq!(restore.body.superseded.len(), limit);
        let mut restore = with_superseded(limit - 1);
        assert!(matches!(
            restore.restore_revision(&at(90, "b"), at(200, "a"), 200),
            Err(RecordError::TooLarge { .. })
        ));
        assert!(matches!(
            with_superseded(limit + 1).validate(),
            Err(RecordError::TooLarge { field: "body.superseded", .. })
        ));
    }

    #[test]
    fn restore_of_an_unknown_revision_changes_nothing() {
        let mut n = note("x");
        let before = n.clone();
        assert_eq!(n.restore_revision(&at(1, "z"), at(500, "a"), 5), Err(RecordError::NoSuchRevision));
        assert_eq!(n.restore_revision(&at(100, "a"), at(50, "a"), 5), Err(RecordError::StaleStamp));
        assert_eq!(n, before);
    }

    #[test]
    fn local_changes_need_a_fresh_stamp_and_valid_values() {
        let mut n = note("x");
        n.edit_body("y".into(), at(200, "a"), 200).unwrap();
        let before = n.clone();
        assert_eq!(n.edit_body("z".into(), at(200, "a"), 200), Err(RecordError::StaleStamp));
        assert_eq!(n.set_deleted(true, at(150, "a")), Err(RecordError::StaleStamp));
        assert_eq!(n.set_tags(vec!["t".into()], at(200, "a")), Err(RecordError::StaleStamp));
        assert_eq!(n.set_color(Some("red".into()), at(199, "z")), Err(RecordError::StaleStamp));
        assert_eq!(n.set_anchor(json!({"type": "time"}), at(0, "a")), Err(RecordError::StaleStamp));
        assert!(n.edit_body("z".repeat(limits::NOTE_TEXT_BYTES + 1), at(300, "a"), 300).is_err());
        assert!(n.edit_body("z".into(), at(300, "a"), -1).is_err());
        assert!(n.set_tags(vec!["t".into(); 33], at(300, "a")).is_err());
        assert!(n.set_tags(vec!["x".repeat(65)], at(300, "a")).is_err());
        assert!(n.set_tags(vec![" ".into()], at(300, "a")).is_err());
        assert!(n.set_tags(vec!["a\u{7}".into()], at(300, "a")).is_err());
        assert!(n.set_color(Some("x".repeat(33)), at(300, "a")).is_err());
        assert!(n.set_color(Some(String::new()), at(300, "a")).is_err());
        assert!(n.set_anchor(json!({"start": 1}), at(300, "a")).is_err());
        assert!(n.set_anchor(json!({"type": 3}), at(300, "a")).is_err());
        assert!(n.set_anchor(json!({"type": "text", "quote": "q".repeat(20_000)}), at(300, "a")).is_err());
        assert_eq!(n, before, "refused changes change nothing");

        n.set_tags(vec!["t".into(); 32], at(300, "a")).unwrap();
        n.set_tags(vec!["x".repeat(64)], at(301, "a")).unwrap();
        n.set_color(Some("x".repeat(32)), at(302, "a")).unwrap();
        n.set_color(None, at(303, "a")).unwrap();
        n.set_anchor(json!({"type": "text", "quote": "q"}), at(304, "a")).unwrap();
        n.edit_body("z".repeat(limits::NOTE_TEXT_BYTES), at(305, "a"), 305).unwrap();
        assert_eq!(n.max_hlc(), &at(305, "a"));
        assert_eq!(n.validate(), Ok(()));
        assert_eq!(n.tags.hlc, at(301, "a"));
        assert_eq!(n.color.value, None);
        assert_eq!(n.anchor.value, json!({"type": "text", "quote": "q"}));
    }

    #[test]
    fn fields_merge_by_their_own_stamps() {
        let base = note("x");
        let mut a = base.clone();
        let mut b = base;
        a.set_tags(vec!["from-a".into()], at(200, "a")).unwrap();
        b.set_color(Some("yellow".into()), at(300, "b")).unwrap();
        b.set_tags(vec!["from-b".into()], at(150, "b")).unwrap_err(); // stale: 150 < 300
        let merged = a.merge(b);
        assert_eq!(merged.tags.value, vec!["from-a".to_owned()]);
        assert_eq!(merged.color.value.as_deref(), Some("yellow"));
    }

    #[test]
    fn created_at_is_the_earliest() {
        let a = note("x");
        let mut b = a.clone();
        b.created_at_ms = 50;
        assert_eq!(a.clone().merge(b.clone()).created_at_ms, 50);
        assert_eq!(b.merge(a).created_at_ms, 50);
    }

    #[test]
    fn validate_refuses_broken_bodies() {
        let good = note("x");
        let mut empty = good.clone();
        empty.body.heads.clear();
        assert!(matches!(empty.validate(), Err(RecordError::Inconsistent(_))));
        assert_eq!(empty.text(), "");

        let mut both = good.clone();
        both.body.superseded.insert(at(100, "a"));
        assert!(matches!(both.validate(), Err(RecordError::Inconsistent(_))));

        let mut newest_superseded = good.clone();
        newest_superseded.body.superseded.insert(at(999, "z"));
        assert!(matches!(newest_superseded.validate(), Err(RecordError::Inconsistent(_))));
        let mut older_superseded = good.clone();
        older_superseded.body.superseded.insert(at(99, "z"));
        assert_eq!(older_superseded.validate(), Ok(()));

        let mut bad_stamp = good.clone();
        bad_stamp.body.superseded.insert(Hlc { wall_ms: 5, counter: 0, device: "a b".into() });
        assert!(matches!(bad_stamp.validate(), Err(RecordError::BadStamp { field: "body.superseded", .. })));
        let mut bad_head = good.clone();
        bad_head.body.heads.insert(
            Hlc { wall_ms: -5, counter: 0, device: "a".into() },
            BodyVersion { text: "t".into(), at_ms: 1 },
        );
        assert!(matches!(bad_head.validate(), Err(RecordError::BadStamp { field: "body.heads", .. })));
        let mut bad_time = good.clone();
        bad_time.body.heads.insert(at(50, "a"), BodyVersion { text: "t".into(), at_ms: -1 });
        assert!(bad_time.validate().is_err());
        let mut big = good.clone();
        big.body
            .heads
            .insert(at(50, "a"), BodyVersion { text: "t".repeat(limits::NOTE_TEXT_BYTES + 1), at_ms: 1 });
        assert!(matches!(big.validate(), Err(RecordError::TooLarge { field: "body text", .. })));
        let mut many = good.clone();
        for i in 0..limits::NOTE_HEADS as i64 {
            many.body.heads.insert(at(i, "m"), BodyVersion { text: String::new(), at_ms: 1 });
        }
        assert!(matches!(many.validate(), Err(RecordError::TooLarge { field: "body.heads", .. })));
        many.body.heads.pop_first();
        assert_eq!(many.validate(), Ok(()));

        for (bad, field) in [
            (NoteRecord { note_id: "".into(), ..good.clone() }, "note_id"),
            (NoteRecord { lesson_id: "a/b".into(), ..good.clone() }, "lesson_id"),
            (NoteRecord { course_id: ".".into(), ..good.clone() }, "course_id"),
            (NoteRecord { created_at_ms: -1, ..good.clone() }, "created_at_ms"),
            (
                NoteRecord { anchor: Stamped::new(json!({"type": "t"}), at(-1, "a")), ..good.clone() },
                "anchor.hlc",
            ),
            (NoteRecord { color: Stamped::new(None, at(1, "")), ..good.clone() }, "color.hlc"),
            (NoteRecord { tags: Stamped::new(vec![], at(1, "")), ..good.clone() }, "tags.hlc"),
            (NoteRecord { deleted: Stamped::new(true, at(1, "")), ..good.clone() }, "deleted.hlc"),
            (NoteRecord { anchor: Stamped::new(json!("time"), at(1, "a")), ..good.clone() }, "anchor"),
            (NoteRecord { color: Stamped::new(Some("\n".into()), at(1, "a")), ..good.clone() }, "color"),
            (NoteRecord { tags: Stamped::new(vec!["".into()], at(1, "a")), ..good.clone() }, "tag"),
        ] {
            assert!(bad.validate().unwrap_err().to_string().contains(field), "{field}");
        }
    }

    #[test]
    fn clamp_keeps_two_future_edits_apart() {
        let limit = 10_000;
        let mut n = note("x");
        n.edit_body("first".into(), at(50_000, "fast"), 50_000).unwrap();
        n.edit_body("second".into(), at(60_000, "fast"), 60_000).unwrap();
        n.set_tags(vec!["t".into()], at(70_000, "fast")).unwrap();
        let mut other = note("x");
        other.edit_body("concurrent".into(), at(9_000, "slow"), 9_000).unwrap();
        let mut merged = n.merge(other);
        assert!(merged.clamp(limit));
        assert!(merged.max_hlc().wall_ms <= limit);
        assert_eq!(merged.text(), "second", "order kept");
        assert_eq!(merged.revisions()[0].1.text, "concurrent");
        assert_eq!(merged.body.superseded.len(), 2);
        assert!(merged.tags.hlc > merged.winner().unwrap().0.clone());
        assert_eq!(merged.validate(), Ok(()));
        assert!(!merged.clamp(limit), "a second clamp changes nothing");
        let mut past = note("x");
        assert!(!past.clamp(limit));
    }

    #[test]
    fn wire_form_round_trips() {
        let mut n = note("hello");
        n.edit_body("hello again".into(), at(200, "b"), 200).unwrap();
        let text = serde_json::to_string(&n).unwrap();
        assert!(
            text.contains(r#""heads":{"000000000000000200-000000-b":{"text":"hello again","at_ms":200}}"#),
            "{text}"
        );
        assert!(text.contains(r#""superseded":["000000000000000100-000000-a"]"#), "{text}");
        assert_eq!(serde_json::from_str::<NoteRecord>(&text).unwrap(), n);
    }

    use super::super::Record;
}
