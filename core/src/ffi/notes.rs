//! Notes and highlights on the `Satchel` object.

use super::{Satchel, SatchelError};
use crate::api_int::non_negative_u32;
use crate::notes::{self, NewNote, Note};

#[uniffi::export]
impl Satchel {
    pub async fn add_note(&self, note: NewNote) -> Result<Note, SatchelError> {
        self.write(move |tx, device| notes::add(tx, device, note)).await
    }

    /// Replaces a note's text, colour and tags.
    pub async fn update_note(
        &self,
        note_id: String,
        body: String,
        color: Option<String>,
        tags: Vec<String>,
    ) -> Result<Note, SatchelError> {
        self.write(move |tx, device| notes::update(tx, device, &note_id, body, color, tags)).await
    }

    pub async fn delete_note(&self, note_id: String) -> Result<(), SatchelError> {
        self.write(move |tx, device| notes::delete(tx, device, &note_id)).await
    }

    /// A lesson's notes in the order they appear in it.
    pub async fn notes_for_lesson(&self, lesson_id: String) -> Result<Vec<Note>, SatchelError> {
        self.read(move |c| notes::for_lesson(c, &lesson_id)).await
    }

    /// A course's notes in course order.
    pub async fn notes_for_course(&self, course_id: String) -> Result<Vec<Note>, SatchelError> {
        self.read(move |c| notes::for_course(c, &course_id)).await
    }

    /// Full-text search over notes, quotes and tags. Any text is a valid query.
    pub async fn search_notes(
        &self,
        query: String,
        course_id: Option<String>,
        limit: i32,
    ) -> Result<Vec<Note>, SatchelError> {
        let limit = non_negative_u32("limit", limit)?;
        self.read(move |c| notes::search(c, &query, course_id.as_deref(), limit)).await
    }

    /// A course's notes and highlights as Markdown, grouped by module and lesson.
    pub async fn export_notes_markdown(&self, course_id: String) -> Result<String, SatchelError> {
        self.read(move |c| notes::export_markdown(c, &course_id)).await
    }

    /// Re-finds the lesson's highlighted passages in the text the app now shows (after a course
    /// update, say). Notes whose passage is gone are flagged `orphaned`, never dropped.
    pub async fn resolve_text_anchors(
        &self,
        lesson_id: String,
        text: String,
    ) -> Result<Vec<Note>, SatchelError> {
        self.with_account(move |a| a.store().write(|tx| notes::resolve_text_anchors(tx, &lesson_id, &text)))
            .await
    }
}
