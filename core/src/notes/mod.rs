//! Notes and highlights: anchored to a video time range or a text passage, tagged, searchable,
//! exportable. Deleting keeps a tombstone so the deletion syncs and the note never comes back.

mod anchor;
mod export;
mod search;
pub mod sync;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use satchel_protocol::Record;
use satchel_protocol::records::NoteRecord;
use serde::{Deserialize, Serialize};

pub use anchor::{NoteAnchor, reanchor};
pub use search::SafeQuery;
pub use sync::NoteRevision;

use crate::catalog::{self, LessonKind};
use crate::error::{Error, Result};
use crate::outbox::{self, Priority};
use crate::sync::local as sync_record;
use crate::time::now_ms;

/// Limits that keep one note from filling a phone or a sync payload.
pub mod limits {
    pub const BODY_CHARS: usize = 10_000;
    pub const QUOTE_CHARS: usize = 2_000;
    pub const CONTEXT_CHARS: usize = 200;
    pub const TAGS: usize = 20;
    pub const TAG_CHARS: usize = 50;
    pub const COLOR_CHARS: usize = 32;
    pub const SEARCH_RESULTS: u32 = 200;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "lowercase")]
pub enum NoteKind {
    /// The learner's own words, about a moment or a passage.
    Note,
    /// A marked passage or stretch, optionally with a comment.
    Highlight,
}

crate::store::sql_text_enum!(NoteKind { Note => "note", Highlight => "highlight" });

/// What the app passes to create a note.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewNote {
    pub lesson_id: String,
    pub kind: NoteKind,
    pub body: String,
    pub anchor: NoteAnchor,
    pub color: Option<String>,
    pub tags: Vec<String>,
}

/// A note or highlight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, uniffi::Record)]
pub struct Note {
    pub id: String,
    pub lesson_id: String,
    pub course_id: String,
    pub kind: NoteKind,
    pub body: String,
    pub anchor: NoteAnchor,
    pub color: Option<String>,
    pub tags: Vec<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// A text anchor whose passage is no longer in the lesson's text. Kept and shown, never dropped.
    pub orphaned: bool,
}

pub(crate) const SELECT_NOTE: &str =
    "SELECT n.id, n.lesson_id, n.course_id, n.kind, n.body, n.anchor, n.color, n.tags,
                                  n.created_at_ms, n.updated_at_ms, n.orphaned
                           FROM note n";

pub(crate) fn note_from_row(row: &Row<'_>) -> rusqlite::Result<Note> {
    note_from_offset_row(row, 0)
}

/// Creates a note after checking it against its lesson.
pub fn add(tx: &Transaction<'_>, device_id: &str, new: NewNote) -> Result<Note> {
    let facts = catalog::lesson_facts(tx, &new.lesson_id)?;
    check_anchor(&new.anchor, facts.kind, facts.duration_ms)?;
    let body = check_body(new.kind, new.body)?;
    let now = now_ms();
    let note = Note {
        id: uuid::Uuid::now_v7().to_string(),
        lesson_id: new.lesson_id,
        course_id: facts.course_id,
        kind: new.kind,
        body,
        anchor: new.anchor,
        color: check_color(new.color)?,
        tags: check_tags(new.tags)?,
        created_at_ms: now,
        updated_at_ms: now,
        orphaned: false,
    };
    tx.prepare_cached(
        "INSERT INTO note (id, lesson_id, course_id, kind, body, anchor, color, tags, created_at_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        note.id,
        note.lesson_id,
        note.course_id,
        note.kind,
        note.body,
        json(&note.anchor)?,
        note.color,
        json(&note.tags)?,
        note.created_at_ms,
        note.updated_at_ms
    ])?;
    let stamp = outbox::stamp(tx, device_id)?;
    let record = NoteRecord::create(sync::draft(&note)?, stamp.clone(), now)?;
    sync_record::save_local(tx, &Record::Note(record), &stamp, Priority::Normal)?;
    Ok(note)
}

/// Replaces a note's editable fields: its text, colour and tags.
pub fn update(
    tx: &Transaction<'_>,
    device_id: &str,
    id: &str,
    body: String,
    color: Option<String>,
    tags: Vec<String>,
) -> Result<Note> {
    let mut note = get(tx, id)?;
    note.body = check_body(note.kind, body)?;
    note.color = check_color(color)?;
    note.tags = check_tags(tags)?;
    note.updated_at_ms = now_ms();
    tx.prepare_cached("UPDATE note SET body = ?2, color = ?3, tags = ?4, updated_at_ms = ?5 WHERE id = ?1")?
        .execute(params![note.id, note.body, note.color, json(&note.tags)?, note.updated_at_ms])?;
    sync::record_edit(tx, device_id, &note, sync::Edit::Fields)?;
    Ok(note)
}

/// Deletes a note, keeping a tombstone for sync.
pub fn delete(tx: &Transaction<'_>, device_id: &str, id: &str) -> Result<()> {
    let mut note = get(tx, id)?;
    note.updated_at_ms = now_ms();
    tx.prepare_cached("UPDATE note SET deleted = 1, updated_at_ms = ?2 WHERE id = ?1")?
        .execute(params![note.id, note.updated_at_ms])?;
    sync::record_edit(tx, device_id, &note, sync::Edit::Delete)?;
    Ok(())
}

/// A live (not deleted) note.
pub fn get(conn: &Connection, id: &str) -> Result<Note> {
    conn.prepare_cached(&format!("{SELECT_NOTE} WHERE n.id = ?1 AND n.deleted = 0"))?
        .query_row([id], note_from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("note", id))
}

/// ORDER BY for notes within a lesson: by where they point, then by age.
const IN_LESSON_ORDER: &str =
    "coalesce(json_extract(n.anchor, '$.start_ms'), json_extract(n.anchor, '$.start')),
                               n.created_at_ms, n.id";

/// A lesson's live notes, in the order they appear in it.
pub fn for_lesson(conn: &Connection, lesson_id: &str) -> Result<Vec<Note>> {
    catalog::lesson_facts(conn, lesson_id)?;
    let sql = format!("{SELECT_NOTE} WHERE n.lesson_id = ?1 AND n.deleted = 0 ORDER BY {IN_LESSON_ORDER}");
    let notes =
        conn.prepare_cached(&sql)?.query_map([lesson_id], note_from_row)?.collect::<rusqlite::Result<_>>()?;
    Ok(notes)
}

/// A note with the titles of its module and lesson (`None` once the lesson left the course).
type PlacedNote = (Option<String>, Option<String>, Note);

/// A course's live notes with their module and lesson titles, in course order; notes of lessons
/// that left the course come last.
fn placed_in_course(conn: &Connection, course_id: &str) -> Result<Vec<PlacedNote>> {
    let sql = format!(
        "SELECT m.title, l.title, n.id, n.lesson_id, n.course_id, n.kind, n.body, n.anchor, n.color, n.tags,
                n.created_at_ms, n.updated_at_ms, n.orphaned
         FROM note n
         LEFT JOIN lesson l ON l.id = n.lesson_id
         LEFT JOIN module m ON m.id = l.module_id
         WHERE n.course_id = ?1 AND n.deleted = 0
         ORDER BY m.position IS NULL, m.position, l.position, n.lesson_id, {IN_LESSON_ORDER}"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt
        .query_map([course_id], |r| Ok((r.get(0)?, r.get(1)?, note_from_offset_row(r, 2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// `note_from_row` for a row whose note columns start at `offset`.
fn note_from_offset_row(row: &Row<'_>, offset: usize) -> rusqlite::Result<Note> {
    let bad = |e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    };
    Ok(Note {
        id: row.get(offset)?,
        lesson_id: row.get(offset + 1)?,
        course_id: row.get(offset + 2)?,
        kind: row.get(offset + 3)?,
        body: row.get(offset + 4)?,
        anchor: serde_json::from_str(&row.get::<_, String>(offset + 5)?).map_err(bad)?,
        color: row.get(offset + 6)?,
        tags: serde_json::from_str(&row.get::<_, String>(offset + 7)?).map_err(bad)?,
        created_at_ms: row.get(offset + 8)?,
        updated_at_ms: row.get(offset + 9)?,
        orphaned: row.get(offset + 10)?,
    })
}

/// A course's live notes in course order.
pub fn for_course(conn: &Connection, course_id: &str) -> Result<Vec<Note>> {
    catalog::course(conn, course_id)?;
    Ok(placed_in_course(conn, course_id)?.into_iter().map(|(_, _, note)| note).collect())
}

/// The course's notes and highlights as a Markdown document.
pub fn export_markdown(conn: &Connection, course_id: &str) -> Result<String> {
    let course = catalog::course(conn, course_id)?;
    let rows = placed_in_course(conn, course_id)?;
    let placed: Vec<export::Placed<'_>> = rows
        .iter()
        .map(|(module, lesson, note)| export::Placed {
            module_title: module.as_deref(),
            lesson_title: lesson.as_deref(),
            note,
        })
        .collect();
    Ok(export::markdown(&course.title, &placed))
}

/// Searches live notes (text, quoted passage and tags). Any input is safe: a query with no words
/// returns nothing, never an error. Best matches first.
pub fn search(conn: &Connection, query: &str, course_id: Option<&str>, limit: u32) -> Result<Vec<Note>> {
    let Some(query) = SafeQuery::parse(query) else { return Ok(Vec::new()) };
    // Rank and limit inside the index first, then fetch only the notes that made the cut.
    // Tombstoned notes are not in the index (see the note_fts triggers).
    let mut inner = String::from("SELECT rowid FROM note_fts WHERE 1");
    let mut values: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(expr) = &query.match_expr {
        values.push(expr.clone().into());
        inner.push_str(&format!(" AND note_fts MATCH ?{}", values.len()));
    }
    for pattern in &query.like_patterns {
        values.push(pattern.clone().into());
        let n = values.len();
        inner.push_str(&format!(
            " AND (body LIKE ?{n} ESCAPE '\\' OR quote LIKE ?{n} ESCAPE '\\' OR tags LIKE ?{n} ESCAPE '\\')"
        ));
    }
    if let Some(course_id) = course_id {
        values.push(course_id.to_owned().into());
        inner.push_str(&format!(" AND course_id = ?{}", values.len()));
    }
    inner.push_str(if query.match_expr.is_some() { " ORDER BY rank" } else { " ORDER BY rowid DESC" });
    values.push(i64::from(limit.clamp(1, limits::SEARCH_RESULTS)).into());
    inner.push_str(&format!(" LIMIT ?{}", values.len()));

    let ranked: Vec<i64> = conn
        .prepare_cached(&inner)?
        .query_map(rusqlite::params_from_iter(values), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut fetch = conn.prepare_cached(&format!("{SELECT_NOTE} WHERE n.rowid = ?1"))?;
    let mut notes = Vec::with_capacity(ranked.len());
    for rowid in ranked {
        if let Some(note) = fetch.query_row([rowid], note_from_row).optional()? {
            notes.push(note);
        }
    }
    Ok(notes)
}

/// Finds every text-anchored note of a lesson in `text` (the lesson's current text, as the app
/// displays it) and stores where each now sits, or that it is orphaned. Returns the lesson's notes.
///
/// This is local, derived state: each device re-anchors against the text it has, so nothing goes
/// to the outbox.
pub fn resolve_text_anchors(tx: &Transaction<'_>, lesson_id: &str, text: &str) -> Result<Vec<Note>> {
    for mut note in for_lesson(tx, lesson_id)? {
        let NoteAnchor::Text { quote, prefix, suffix, start, end } = &note.anchor else { continue };
        let found = reanchor(text, quote, prefix, suffix, *start);
        let orphaned = found.is_none();
        let (new_start, new_end) = found.unwrap_or((*start, *end));
        if orphaned == note.orphaned && (new_start, new_end) == (*start, *end) {
            continue;
        }
        note.anchor = NoteAnchor::Text {
            quote: quote.clone(),
            prefix: prefix.clone(),
            suffix: suffix.clone(),
            start: new_start,
            end: new_end,
        };
        tx.prepare_cached("UPDATE note SET anchor = ?2, orphaned = ?3 WHERE id = ?1")?.execute(params![
            note.id,
            json(&note.anchor)?,
            orphaned
        ])?;
    }
    for_lesson(tx, lesson_id)
}

pub(crate) fn kind_text(kind: NoteKind) -> &'static str {
    match kind {
        NoteKind::Note => "note",
        NoteKind::Highlight => "highlight",
    }
}

pub(crate) fn json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Internal(format!("cannot encode note: {e}")))
}

fn chars(text: &str) -> usize {
    text.chars().count()
}

fn check_body(kind: NoteKind, body: String) -> Result<String> {
    if chars(&body) > limits::BODY_CHARS {
        return Err(Error::invalid(format!("a note holds at most {} characters", limits::BODY_CHARS)));
    }
    if kind == NoteKind::Note && body.trim().is_empty() {
        return Err(Error::invalid("a note needs some text (a highlight may have none)"));
    }
    Ok(body)
}

fn check_anchor(anchor: &NoteAnchor, kind: LessonKind, duration_ms: Option<i64>) -> Result<()> {
    match anchor {
        NoteAnchor::Time { start_ms, end_ms } => {
            if kind != LessonKind::Video {
                return Err(Error::invalid("a time anchor needs a video lesson"));
            }
            let duration = duration_ms.unwrap_or(i64::MAX);
            if *start_ms < 0 || end_ms < start_ms || *end_ms > duration {
                return Err(Error::invalid(format!(
                    "time range {start_ms}..{end_ms} ms is not within the lesson's 0..{duration} ms"
                )));
            }
        }
        NoteAnchor::Text { quote, prefix, suffix, start, end } => {
            if quote.trim().is_empty() || chars(quote) > limits::QUOTE_CHARS {
                return Err(Error::invalid(format!("a quote has 1 to {} characters", limits::QUOTE_CHARS)));
            }
            if chars(prefix) > limits::CONTEXT_CHARS || chars(suffix) > limits::CONTEXT_CHARS {
                return Err(Error::invalid(format!(
                    "context holds at most {} characters",
                    limits::CONTEXT_CHARS
                )));
            }
            let units = quote.encode_utf16().count();
            if *start < 0 || end < start || usize::try_from(end - start).ok() != Some(units) {
                return Err(Error::invalid(format!(
                    "text offsets {start}..{end} do not span the quote's {units} UTF-16 units"
                )));
            }
        }
    }
    Ok(())
}

fn check_color(color: Option<String>) -> Result<Option<String>> {
    match color.map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()) {
        Some(c) if chars(&c) > limits::COLOR_CHARS => {
            Err(Error::invalid(format!("a colour name has at most {} characters", limits::COLOR_CHARS)))
        }
        other => Ok(other),
    }
}

/// Trims, drops empties and duplicates, keeps the learner's order.
fn check_tags(tags: Vec<String>) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_owned();
        if tag.is_empty() || out.contains(&tag) {
            continue;
        }
        if chars(&tag) > limits::TAG_CHARS {
            return Err(Error::invalid(format!("a tag has at most {} characters", limits::TAG_CHARS)));
        }
        out.push(tag);
    }
    if out.len() > limits::TAGS {
        return Err(Error::invalid(format!("a note has at most {} tags", limits::TAGS)));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
