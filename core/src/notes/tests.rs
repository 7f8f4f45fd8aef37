//! Notes on a real SQLite file holding the sample course: every input limit at its largest legal
//! value and one past it, editing and deleting, ordering, search limits, re-anchoring.

use super::*;
use crate::catalog::test_support::sample_store as setup;
use crate::store::Store;

const ME: &str = "phone";
/// A video of 372,000 ms.
const VIDEO: &str = "web-basics.what-happens";
const READING: &str = "web-basics.reading-urls";

fn at(start_ms: i64, end_ms: i64) -> NewNote {
    NewNote {
        lesson_id: VIDEO.into(),
        kind: NoteKind::Note,
        body: "a note".into(),
        anchor: NoteAnchor::Time { start_ms, end_ms },
        color: None,
        tags: vec![],
    }
}

fn passage(quote: &str, prefix: &str, suffix: &str, start: i32, end: i32) -> NewNote {
    NewNote {
        lesson_id: READING.into(),
        kind: NoteKind::Highlight,
        body: String::new(),
        anchor: NoteAnchor::Text {
            quote: quote.into(),
            prefix: prefix.into(),
            suffix: suffix.into(),
            start,
            end,
        },
        color: None,
        tags: vec![],
    }
}

fn try_add(store: &Store, new: NewNote) -> Result<Note> {
    store.write(|tx| add(tx, ME, new))
}

fn refused(result: Result<Note>) {
    assert!(matches!(result, Err(Error::InvalidArgument(_))), "{result:?}");
}

#[test]
fn bodies_are_limited_inclusively_and_only_highlights_may_be_empty() {
    let (_d, store) = setup();
    let with_body = |body: String| NewNote { body, ..at(0, 1_000) };
    assert_eq!(
        try_add(&store, with_body("é".repeat(limits::BODY_CHARS))).unwrap().body.chars().count(),
        10_000
    );
    refused(try_add(&store, with_body("é".repeat(limits::BODY_CHARS + 1))));
    refused(try_add(&store, with_body("  \n".into())));
    let highlight = NewNote { kind: NoteKind::Highlight, ..with_body(String::new()) };
    assert_eq!(try_add(&store, highlight).unwrap().kind, NoteKind::Highlight);
    assert_eq!(store.read(|c| for_lesson(c, VIDEO)).unwrap().len(), 2);
}

#[test]
fn time_anchors_stay_within_the_video() {
    let (_d, store) = setup();
    assert!(try_add(&store, at(0, 0)).is_ok());
    assert!(try_add(&store, at(371_000, 372_000)).is_ok());
    refused(try_add(&store, at(-1, 10)));
    refused(try_add(&store, at(5_000, 4_999)));
    refused(try_add(&store, at(0, 372_001)));
    refused(try_add(&store, NewNote { lesson_id: READING.into(), ..at(0, 10) }));
    assert!(try_add(&store, NewNote { lesson_id: "nope".into(), ..at(0, 10) }).is_err());
}

#[test]
fn text_anchors_span_their_quote_in_utf16_units_with_bounded_context() {
    let (_d, store) = setup();
    // "🎓" is two UTF-16 units.
    assert!(try_add(&store, passage("a🎓", "", "", 3, 6)).is_ok());
    refused(try_add(&store, passage("a🎓", "", "", 3, 5)));
    refused(try_add(&store, passage("abc", "", "", -1, 2)));
    refused(try_add(&store, passage("abc", "", "", 3, 2)));
    // An end far below the start is refused, not an overflow of `end - start`.
    refused(try_add(&store, passage("abc", "", "", 1, i32::MIN)));
    refused(try_add(&store, passage(" \t", "", "", 0, 2)));
    let q = |n: usize| "q".repeat(n);
    assert!(try_add(&store, passage(&q(limits::QUOTE_CHARS), "", "", 0, 2_000)).is_ok());
    refused(try_add(&store, passage(&q(limits::QUOTE_CHARS + 1), "", "", 0, 2_001)));
    let c = |n: usize| "c".repeat(n);
    assert!(try_add(&store, passage("abc", &c(200), &c(200), 0, 3)).is_ok());
    refused(try_add(&store, passage("abc", &c(201), "", 0, 3)));
    refused(try_add(&store, passage("abc", "", &c(201), 0, 3)));
    // A transcript is text too: a passage of a video may be highlighted.
    assert!(try_add(&store, NewNote { lesson_id: VIDEO.into(), ..passage("abc", "", "", 0, 3) }).is_ok());
}

#[test]
fn colours_and_tags_are_tidied_and_limited_inclusively() {
    let (_d, store) = setup();
    let with = |color: Option<&str>, tags: Vec<String>| NewNote {
        color: color.map(str::to_owned),
        tags,
        ..at(0, 1)
    };
    let note =
        try_add(&store, with(Some("  yellow "), vec![" b ".into(), "a".into(), "b".into(), "  ".into()]))
            .unwrap();
    assert_eq!(note.color.as_deref(), Some("yellow"));
    assert_eq!(note.tags, ["b", "a"], "trimmed, empties and repeats dropped, order kept");
    assert_eq!(try_add(&store, with(Some("   "), vec![])).unwrap().color, None);
    assert!(try_add(&store, with(Some(&"c".repeat(limits::COLOR_CHARS)), vec![])).is_ok());
    refused(try_add(&store, with(Some(&"c".repeat(limits::COLOR_CHARS + 1)), vec![])));

    let tags = |n: usize| (0..n).map(|i| format!("t{i}")).collect::<Vec<_>>();
    assert_eq!(try_add(&store, with(None, tags(limits::TAGS))).unwrap().tags.len(), 20);
    refused(try_add(&store, with(None, tags(limits::TAGS + 1))));
    // Repeats do not count towards the limit.
    let mut repeated = tags(limits::TAGS);
    repeated.extend(tags(5));
    assert_eq!(try_add(&store, with(None, repeated)).unwrap().tags.len(), 20);
    assert!(try_add(&store, with(None, vec!["x".repeat(limits::TAG_CHARS)])).is_ok());
    refused(try_add(&store, with(None, vec!["x".repeat(limits::TAG_CHARS + 1)])));
}

#[test]
fn edits_replace_the_fields_checked_and_deletes_hide_the_note() {
    let (_d, store) = setup();
    let note = try_add(&store, at(1_000, 2_000)).unwrap();
    let edited = store
        .write(|tx| {
            update(tx, ME, &note.id, "better".into(), Some(" red ".into()), vec!["x".into(), "x".into()])
        })
        .unwrap();
    assert_eq!(
        (edited.body.as_str(), edited.color.as_deref(), edited.tags.clone()),
        ("better", Some("red"), vec!["x".to_owned()])
    );
    assert!(edited.updated_at_ms >= note.updated_at_ms);
    assert_eq!(store.read(|c| get(c, &note.id)).unwrap(), edited);
    let bad = store.write(|tx| update(tx, ME, &note.id, " ".into(), None, vec![]));
    assert!(matches!(bad, Err(Error::InvalidArgument(_))));
    assert_eq!(store.read(|c| get(c, &note.id)).unwrap(), edited, "a refused edit changes nothing");

    store.write(|tx| delete(tx, ME, &note.id)).unwrap();
    assert!(matches!(store.read(|c| get(c, &note.id)), Err(Error::NotFound { .. })));
    assert!(store.read(|c| for_lesson(c, VIDEO)).unwrap().is_empty());
    assert!(store.write(|tx| delete(tx, ME, &note.id)).is_err());
    assert!(store.write(|tx| update(tx, ME, &note.id, "again".into(), None, vec![])).is_err());
}

#[test]
fn notes_come_in_lesson_order_and_course_order() {
    let (_d, store) = setup();
    let late = try_add(&store, at(90_000, 91_000)).unwrap();
    let early = try_add(&store, at(5_000, 6_000)).unwrap();
    let text = try_add(&store, passage("abc", "", "", 10, 13)).unwrap();
    let ids = |notes: Vec<Note>| notes.into_iter().map(|n| n.id).collect::<Vec<_>>();
    assert_eq!(ids(store.read(|c| for_lesson(c, VIDEO)).unwrap()), [early.id.clone(), late.id.clone()]);
    // The video comes before the reading in the course.
    assert_eq!(ids(store.read(|c| for_course(c, "web-basics")).unwrap()), [early.id, late.id, text.id]);
    assert!(store.read(|c| for_course(c, "nope")).is_err());
    assert!(store.read(|c| for_lesson(c, "nope")).is_err());
    let markdown = store.read(|c| export_markdown(c, "web-basics")).unwrap();
    assert!(markdown.contains("Web Basics for Support Technicians"), "{markdown}");
    assert!(markdown.contains("a note"), "{markdown}");
}

#[test]
fn search_finds_live_notes_within_a_course_and_clamps_its_limit() {
    let (_d, store) = setup();
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            try_add(&store, NewNote { body: format!("packet loss {i}"), ..at(i * 1_000, i * 1_000 + 1) })
                .unwrap()
                .id,
        );
    }
    let found = |query: &str, course: Option<&str>, limit: u32| {
        store.read(|c| search(c, query, course, limit)).unwrap().len()
    };
    assert_eq!(found("packet", None, 10), 3);
    assert_eq!(found("packet", Some("web-basics"), 10), 3);
    assert_eq!(found("packet", Some("another-course"), 10), 0);
    assert_eq!(found("packet", None, 0), 1, "a limit of 0 still returns the best match");
    assert_eq!(found("packet", None, 2), 2);
    assert_eq!(found("   ", None, 10), 0, "a query without words finds nothing, without error");
    assert_eq!(found("\"((", None, 10), 0, "operators are just text");
    store.write(|tx| delete(tx, ME, &ids[0])).unwrap();
    assert_eq!(found("packet", None, 10), 2);
}

#[test]
fn search_results_are_capped_at_the_limit() {
    let (_d, store) = setup();
    for i in 0..(limits::SEARCH_RESULTS as i64 + 5) {
        try_add(&store, NewNote { body: format!("route {i}"), ..at(i, i) }).unwrap();
    }
    let n = store.read(|c| search(c, "route", None, u32::MAX)).unwrap().len();
    assert_eq!(n, 200);
}

#[test]
fn re_anchoring_moves_orphans_and_restores_text_anchors_and_leaves_time_anchors_alone() {
    let (_d, store) = setup();
    let text = "DNS turns names into addresses.";
    let note = try_add(&store, passage("names", "turns ", " into", 10, 15)).unwrap();
    let timed = try_add(&store, at(0, 1_000)).unwrap();
    let anchor = |s: &Store| {
        let n = s.read(|c| get(c, &note.id)).unwrap();
        match n.anchor {
            NoteAnchor::Text { start, end, .. } => (start, end, n.orphaned),
            NoteAnchor::Time { .. } => unreachable!(),
        }
    };
    // Still in place: nothing changes.
    store.write(|tx| resolve_text_anchors(tx, READING, text)).unwrap();
    assert_eq!(anchor(&store), (10, 15, false));
    // Moved by an edit before it.
    let notes = store.write(|tx| resolve_text_anchors(tx, READING, &format!("Intro. {text}"))).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(anchor(&store), (17, 22, false));
    // Gone: orphaned, its last offsets kept.
    store.write(|tx| resolve_text_anchors(tx, READING, "Nothing here.")).unwrap();
    assert_eq!(anchor(&store), (17, 22, true));
    // Back again.
    store.write(|tx| resolve_text_anchors(tx, READING, text)).unwrap();
    assert_eq!(anchor(&store), (10, 15, false));
    // Back at the very offsets it was orphaned at: no longer orphaned either.
    store.write(|tx| resolve_text_anchors(tx, READING, "Nothing")).unwrap();
    store.write(|tx| resolve_text_anchors(tx, READING, text)).unwrap();
    assert_eq!(anchor(&store), (10, 15, false));
    assert_eq!(
        store.read(|c| get(c, &timed.id)).unwrap().anchor,
        NoteAnchor::Time { start_ms: 0, end_ms: 1_000 }
    );
}

#[test]
fn kinds_have_one_spelling() {
    for (kind, text) in [(NoteKind::Note, "note"), (NoteKind::Highlight, "highlight")] {
        assert_eq!(kind_text(kind), text);
        assert_eq!(kind.as_str(), text);
        assert_eq!(NoteKind::parse(text), Some(kind));
    }
    assert_eq!(NoteKind::parse("Note"), None);
}

#[test]
fn deleted_notes_are_listed_with_their_text_for_restoring() {
    let (_dir, store) = setup();
    let kept = store.write(|tx| add(tx, ME, at(0, 1000))).unwrap();
    let gone =
        store.write(|tx| add(tx, ME, NewNote { body: "words to keep".into(), ..at(2000, 3000) })).unwrap();
    store.write(|tx| delete(tx, ME, &gone.id)).unwrap();
    let deleted = store.read(|c| sync::deleted(c, "web-basics")).unwrap();
    assert_eq!(deleted.len(), 1, "{deleted:?}");
    assert_eq!(deleted[0].id, gone.id);
    assert_eq!(deleted[0].body, "words to keep");
    assert!(store.read(|c| sync::deleted(c, "another-course")).unwrap().is_empty());
    assert_ne!(kept.id, gone.id);
}

#[test]
fn an_edit_of_colour_and_tags_reaches_the_record_that_syncs() {
    let (_dir, store) = setup();
    let note = store.write(|tx| add(tx, ME, at(0, 1000))).unwrap();
    let load = || store.read(|c| crate::sync::local::load_note(c, &note.id)).unwrap().unwrap();
    let before = load();
    store
        .write(|tx| update(tx, ME, &note.id, note.body.clone(), Some("#ffcc00".into()), vec!["exam".into()]))
        .unwrap();
    let after = load();
    assert_eq!(after.color.value.as_deref(), Some("#ffcc00"));
    assert_eq!(after.tags.value, vec!["exam".to_owned()]);
    assert!(after.color.hlc > before.color.hlc && after.tags.hlc > before.tags.hlc, "both re-stamped");
    assert_eq!(after.body, before.body, "the unchanged text keeps its version and stamp");
}

#[test]
fn a_pulled_record_keeps_where_this_device_found_the_passage_unless_the_anchor_changed() {
    let (_dir, store) = setup();
    let note = try_add(&store, passage("names", "turns ", " into", 10, 15)).unwrap();
    // This device lost the passage: orphaned, which never travels.
    store.write(|tx| resolve_text_anchors(tx, READING, "Nothing here.")).unwrap();
    let previous = store.read(|c| crate::sync::local::load_note(c, &note.id)).unwrap().unwrap();
    let shown = |s: &Store| {
        let n = s.read(|c| get(c, &note.id)).unwrap();
        (n.anchor, n.orphaned, n.body)
    };

    // Another device changed only the text: the anchor this device worked out stays.
    let mut text_edit = previous.clone();
    text_edit.body.heads.values_mut().for_each(|v| v.text = "edited elsewhere".into());
    store.write(|tx| sync::apply_remote(tx, Some(&previous), &text_edit)).unwrap();
    let (anchor, orphaned, body) = shown(&store);
    assert_eq!(body, "edited elsewhere");
    assert!(orphaned, "an unchanged anchor keeps this device's orphaned flag");
    assert!(matches!(anchor, NoteAnchor::Text { start: 10, end: 15, .. }), "{anchor:?}");

    // Another device moved the highlight: the new anchor is taken, and found afresh.
    let moved = NoteAnchor::Text {
        quote: "DNS".into(),
        prefix: String::new(),
        suffix: " turns".into(),
        start: 0,
        end: 3,
    };
    let mut anchor_edit = text_edit.clone();
    anchor_edit.anchor.value = serde_json::to_value(&moved).unwrap();
    store.write(|tx| sync::apply_remote(tx, Some(&text_edit), &anchor_edit)).unwrap();
    let (anchor, orphaned, _) = shown(&store);
    assert_eq!(anchor, moved);
    assert!(!orphaned, "a new anchor is not orphaned until this device looks for it");

    // A record seen for the first time (no previous) is stored as it says.
    let mut fresh = anchor_edit.clone();
    fresh.anchor.value = serde_json::to_value(NoteAnchor::Text {
        quote: "names".into(),
        prefix: "turns ".into(),
        suffix: " into".into(),
        start: 10,
        end: 15,
    })
    .unwrap();
    store.write(|tx| resolve_text_anchors(tx, READING, "Nothing here.")).unwrap();
    store.write(|tx| sync::apply_remote(tx, None, &fresh)).unwrap();
    let (anchor, orphaned, _) = shown(&store);
    assert!(matches!(anchor, NoteAnchor::Text { start: 10, end: 15, .. }), "{anchor:?}");
    assert!(!orphaned);
}

#[test]
fn notes_written_before_sync_get_their_records_once_and_deleted_ones_as_tombstones() {
    let (_dir, store) = setup();
    let kept = try_add(&store, at(0, 1000)).unwrap();
    let gone = try_add(&store, NewNote { body: "gone".into(), ..at(2000, 3000) }).unwrap();
    store.write(|tx| delete(tx, ME, &gone.id)).unwrap();
    let load = |id: &str| store.read(|c| crate::sync::local::load_note(c, id)).unwrap();
    store.write(|tx| Ok(tx.execute("DELETE FROM sync_record WHERE kind = 'note'", [])?)).unwrap();
    assert!(load(&kept.id).is_none() && load(&gone.id).is_none());

    store.write(|tx| sync::backfill_records(tx, ME)).unwrap();
    let kept_record = load(&kept.id).expect("a record for the live note");
    let gone_record = load(&gone.id).expect("a record for the deleted note");
    assert_eq!(kept_record.text(), "a note");
    assert!(!kept_record.deleted.value);
    assert!(gone_record.deleted.value, "a deleted note is backfilled as a tombstone");
    assert_eq!(gone_record.body.heads.values().next().map(|v| v.text.as_str()), Some("gone"));

    store.write(|tx| sync::backfill_records(tx, ME)).unwrap();
    assert_eq!(load(&kept.id), Some(kept_record), "a second backfill changes nothing");
    assert_eq!(load(&gone.id), Some(gone_record));
}

#[test]
fn a_note_reads_back_field_for_field_from_every_query() {
    let (_d, store) = setup();
    let new = NewNote {
        color: Some("yellow".into()),
        tags: vec!["exam".into(), "http".into()],
        body: "status codes matter".into(),
        ..at(1_000, 2_000)
    };
    let added = try_add(&store, new).unwrap();
    assert_eq!((added.lesson_id.as_str(), added.course_id.as_str()), (VIDEO, "web-basics"));
    assert_eq!(store.read(|c| get(c, &added.id)).unwrap(), added);
    let only = std::slice::from_ref(&added);
    assert_eq!(store.read(|c| for_lesson(c, VIDEO)).unwrap(), only);
    // The course query reads the note's columns after the module and lesson titles.
    assert_eq!(store.read(|c| for_course(c, "web-basics")).unwrap(), only);
    assert_eq!(store.read(|c| search(c, "status", None, 10)).unwrap(), only);
}
