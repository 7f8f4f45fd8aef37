//! `notes add/list/search/export/delete`.

use anyhow::Result;
use satchel_core::Satchel;
use satchel_core::notes::{NewNote, Note, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;

use super::Out;
use crate::cli::{NoteAddArgs, NotesCommand};
use crate::terminal::safe;
use crate::{format, json};

pub fn run(satchel: &Satchel, out: Out, command: NotesCommand) -> Result<()> {
    let rt = runtime();
    match command {
        NotesCommand::Add(args) => {
            let note = rt.block_on(satchel.add_note(new_note(args)))?;
            out.show(|| json::note(&note), || note_line(&note));
        }
        NotesCommand::List { scope } => {
            let notes = match (scope.lesson, scope.course) {
                (Some(lesson), _) => rt.block_on(satchel.notes_for_lesson(lesson))?,
                (None, course) => rt.block_on(satchel.notes_for_course(course.unwrap_or_default()))?,
            };
            show_list(out, &notes);
        }
        NotesCommand::Search { query, course, limit } => {
            let notes = rt.block_on(satchel.search_notes(query, course, limit))?;
            show_list(out, &notes);
        }
        NotesCommand::Export { course_id } => {
            let markdown = rt.block_on(satchel.export_notes_markdown(course_id))?;
            out.show(
                || serde_json::json!({ "markdown": markdown }),
                || markdown.lines().map(|l| format!("{}\n", safe(l))).collect(),
            );
        }
        NotesCommand::Delete { note_id } => {
            rt.block_on(satchel.delete_note(note_id.clone()))?;
            out.show(
                || serde_json::json!({ "note_id": note_id, "action": "deleted" }),
                || format!("note {} deleted\n", safe(&note_id)),
            );
        }
    }
    Ok(())
}

/// A note at a time range (`--at`), or a highlight of a passage (`--quote`), or a note at the
/// lesson's start when neither is given.
fn new_note(args: NoteAddArgs) -> NewNote {
    let (kind, anchor) = match args.quote {
        Some(quote) => {
            let end = args.start.saturating_add(quote.encode_utf16().count() as i32);
            let anchor =
                NoteAnchor::Text { quote, prefix: args.prefix, suffix: args.suffix, start: args.start, end };
            (NoteKind::Highlight, anchor)
        }
        None => {
            let (start_ms, end_ms) = args.at.unwrap_or((0, 0));
            (NoteKind::Note, NoteAnchor::Time { start_ms, end_ms })
        }
    };
    NewNote { lesson_id: args.lesson, kind, body: args.body, anchor, color: args.color, tags: args.tags }
}

fn show_list(out: Out, notes: &[Note]) {
    out.show(|| json::notes(notes), || notes.iter().map(note_line).collect());
}

fn note_line(note: &Note) -> String {
    let at = match &note.anchor {
        NoteAnchor::Time { start_ms, end_ms } if start_ms == end_ms => format::clock(*start_ms),
        NoteAnchor::Time { start_ms, end_ms } => {
            format!("{}-{}", format::clock(*start_ms), format::clock(*end_ms))
        }
        NoteAnchor::Text { quote, .. } => format!("\"{}\"", safe(quote)),
    };
    let tags: String = note.tags.iter().map(|t| format!(" #{}", safe(t))).collect();
    let orphaned = if note.orphaned { " (passage gone)" } else { "" };
    format!(
        "{} {} {} {at}: {}{tags}{orphaned}\n",
        safe(&note.id),
        safe(&note.lesson_id),
        note.kind.as_str(),
        safe(&note.body)
    )
}
