//! Notes and highlights: creation, editing, tombstones, search, export and re-anchoring.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::SAMPLE_MANIFEST;
use satchel_core::Error;
use satchel_core::catalog;
use satchel_core::notes::{self, NewNote, NoteAnchor, NoteKind};
use satchel_core::outbox;
use satchel_core::store::Store;

const DEVICE: &str = "dev-1";
const VIDEO: &str = "web-basics.what-happens";
const READING: &str = "web-basics.reading-urls";
const READING_TEXT: &str = "A URL has a scheme, a host and a path. The host is looked up with DNS. \
                            Query strings carry parameters after a question mark.";

fn setup() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    catalog::import_manifest(&store, SAMPLE_MANIFEST).unwrap();
    (dir, store)
}

fn utf16_offset(text: &str, needle: &str) -> i32 {
    text[..text.find(needle).unwrap()].encode_utf16().count() as i32
}

fn text_anchor(text: &str, quote: &str) -> NoteAnchor {
    let start = utf16_offset(text, quote);
    let byte = text.find(quote).unwrap();
    let prefix: String = text[..byte].chars().rev().take(20).collect::<Vec<_>>().into_iter().rev().collect();
    let suffix: String = text[byte + quote.len()..].chars().take(20).collect();
    NoteAnchor::Text {
        quote: quote.into(),
        prefix,
        suffix,
        start,
        end: start + quote.encode_utf16().count() as i32,
    }
}

/// A highlight of `quote` in the sample reading.
fn highlight(quote: &str, body: &str, color: Option<&str>) -> NewNote {
    NewNote {
        lesson_id: READING.into(),
        kind: NoteKind::Highlight,
        body: body.into(),
        anchor: text_anchor(READING_TEXT, quote),
        color: color.map(String::from),
        tags: vec![],
    }
}

fn time_note(body: &str, start_ms: i64, tags: &[&str]) -> NewNote {
    NewNote {
        lesson_id: VIDEO.into(),
        kind: NoteKind::Note,
        body: body.into(),
        anchor: NoteAnchor::Time { start_ms, end_ms: start_ms + 10_000 },
        color: None,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

#[test]
fn notes_are_created_edited_and_deleted_with_outbox_entries() {
    let (_d, store) = setup();
    let note = store
        .write(|tx| {
            notes::add(tx, DEVICE, time_note("DNS is the phone book", 60_000, &["dns", "dns", " exam "]))
        })
        .unwrap();
    assert_eq!(note.tags, ["dns", "exam"], "trimmed and deduplicated");
    assert_eq!(note.course_id, "web-basics");

    let edited = store
        .write(|tx| {
            notes::update(
                tx,
                DEVICE,
                &note.id,
                "DNS: names to addresses".into(),
                Some("yellow".into()),
                vec![],
            )
        })
        .unwrap();
    assert_eq!(edited.body, "DNS: names to addresses");
    assert_eq!(edited.color.as_deref(), Some("yellow"));
    assert!(edited.updated_at_ms >= note.updated_at_ms);

    let entries = store.read(outbox::pending).unwrap();
    assert_eq!(entries.len(), 1, "edits of an unsent note coalesce");
    let change: serde_json::Value = serde_json::from_str(&entries[0].change).unwrap();
    let heads = change["body"]["heads"].as_object().unwrap();
    assert_eq!(heads.len(), 1, "an edit replaces the version it was made from: {heads:?}");
    assert_eq!(heads.values().next().unwrap()["text"], "DNS: names to addresses");
    assert_eq!(change["deleted"]["value"], false);

    store.write(|tx| notes::delete(tx, DEVICE, &note.id)).unwrap();
    assert!(store.read(|c| notes::for_lesson(c, VIDEO)).unwrap().is_empty());
    assert!(matches!(store.read(|c| notes::get(c, &note.id)), Err(Error::NotFound { .. })));
    let tombstones: i64 = store
        .read(|c| Ok(c.query_row("SELECT count(*) FROM note WHERE deleted = 1", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(tombstones, 1, "the deletion is kept as a tombstone for sync");
    let change: serde_json::Value =
        serde_json::from_str(&store.read(outbox::pending).unwrap()[0].change).unwrap();
    assert_eq!(change["deleted"]["value"], true);
    assert!(
        store.read(|c| notes::search(c, "phone", None, 10)).unwrap().is_empty(),
        "deleted notes are not found"
    );
}

#[test]
fn notes_are_listed_in_the_order_they_appear() {
    let (_d, store) = setup();
    for (body, at) in [("third", 90_000), ("first", 10_000), ("second", 30_000)] {
        store.write(|tx| notes::add(tx, DEVICE, time_note(body, at, &[]))).unwrap();
    }
    let bodies: Vec<String> =
        store.read(|c| notes::for_lesson(c, VIDEO)).unwrap().into_iter().map(|n| n.body).collect();
    assert_eq!(bodies, ["first", "second", "third"]);
}

#[test]
fn bad_notes_are_typed_errors_that_write_nothing() {
    let (_d, store) = setup();
    let before = store.read(|c| Ok(common::dump(c))).unwrap();
    let mut bad = vec![
        time_note("", 0, &[]),
        time_note(&"x".repeat(10_001), 0, &[]),
        time_note("ok", -5, &[]),
        time_note("ok", 370_000, &[]), // ends past the 372 s video
        time_note("ok", 0, &[&"t".repeat(51)]),
    ];
    let mut on_reading = time_note("ok", 0, &[]);
    on_reading.lesson_id = READING.into();
    bad.push(on_reading);
    let mut wrong_offsets = time_note("ok", 0, &[]);
    wrong_offsets.anchor = NoteAnchor::Text {
        quote: "scheme".into(),
        prefix: String::new(),
        suffix: String::new(),
        start: 5,
        end: 7,
    };
    bad.push(wrong_offsets);
    for note in bad {
        let r = store.write(|tx| notes::add(tx, DEVICE, note.clone()));
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{note:?} gave {r:?}");
    }
    let mut unknown = time_note("ok", 0, &[]);
    unknown.lesson_id = "nope".into();
    assert!(matches!(store.write(|tx| notes::add(tx, DEVICE, unknown)), Err(Error::NotFound { .. })));
    assert_eq!(store.read(|c| Ok(common::dump(c))).unwrap(), before);
}

#[test]
fn search_finds_words_quotes_tags_and_any_script() {
    let (_d, store) = setup();
    let add = |n: NewNote| store.write(|tx| notes::add(tx, DEVICE, n)).unwrap();
    add(time_note("Status codes: 404 means not found", 1_000, &["http"]));
    add(time_note("ዲኤንኤስ ስሞችን ወደ አድራሻ ይቀይራል", 2_000, &["amharic"]));
    add(time_note("域名系统把名字变成地址", 3_000, &[]));
    add(time_note("Café résumé naïve", 4_000, &[]));
    add(highlight("looked up with DNS", "", Some("green")));

    let found = |q: &str| -> Vec<String> {
        store.read(|c| notes::search(c, q, None, 50)).unwrap().into_iter().map(|n| n.body).collect()
    };
    assert_eq!(found("found 404"), ["Status codes: 404 means not found"]);
    assert_eq!(found("STATUS"), ["Status codes: 404 means not found"], "case-insensitive");
    assert_eq!(found("http").len(), 1, "tags are searched");
    assert_eq!(found("looked up").len(), 1, "quoted passages are searched");
    assert_eq!(found("አድራሻ").len(), 1);
    assert_eq!(found("名字"), ["域名系统把名字变成地址"], "two-character CJK words match too");
    assert_eq!(found("cafe resume"), ["Café résumé naïve"], "diacritics do not matter");
    assert!(found("nothing-like-this").is_empty());
    let scoped = store.read(|c| notes::search(c, "404", Some("other-course"), 50)).unwrap();
    assert!(scoped.is_empty());
}

#[test]
fn export_groups_by_module_and_lesson_with_times_and_quotes() {
    let (_d, store) = setup();
    store.write(|tx| notes::add(tx, DEVICE, time_note("Browser asks DNS first", 75_000, &["dns"]))).unwrap();
    store
        .write(|tx| {
            notes::add(
                tx,
                DEVICE,
                highlight("a scheme, a host and a path", "remember for the exam", Some("yellow")),
            )
        })
        .unwrap();
    let md = store.read(|c| notes::export_markdown(c, "web-basics")).unwrap();
    let expected = "# Notes: Web Basics for Support Technicians\n\n## How the web works\n\n\
### What happens when you open a page\n\n**Note** at 01:15–01:25 · #dns\n\nBrowser asks DNS first\n\n\
### Reading a URL\n\n**Highlight** · yellow\n\n> a scheme, a host and a path\n\nremember for the exam\n";
    assert_eq!(md, expected);
}

#[test]
fn highlights_follow_their_passage_and_are_orphaned_not_dropped() {
    let (_d, store) = setup();
    let add = |quote: &str| store.write(|tx| notes::add(tx, DEVICE, highlight(quote, "", None))).unwrap();
    let moved = add("looked up with DNS");
    let removed = add("Query strings carry parameters");
    let outbox_before = store.read(outbox::pending).unwrap();

    let updated = format!(
        "New intro paragraph.\n\n{}",
        READING_TEXT.replace(" Query strings carry parameters after a question mark.", "")
    );
    let notes = store.write(|tx| notes::resolve_text_anchors(tx, READING, &updated)).unwrap();
    assert_eq!(notes.len(), 2, "nothing is dropped");
    let find = |id: &str| notes.iter().find(|n| n.id == id).unwrap().clone();

    let moved = find(&moved.id);
    assert!(!moved.orphaned);
    let NoteAnchor::Text { start, end, .. } = moved.anchor else { panic!() };
    let units: Vec<u16> = updated.encode_utf16().collect();
    assert_eq!(String::from_utf16(&units[start as usize..end as usize]).unwrap(), "looked up with DNS");

    assert!(find(&removed.id).orphaned);
    assert_eq!(
        store.read(outbox::pending).unwrap(),
        outbox_before,
        "re-anchoring is local, not a change to sync"
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Whatever a learner types, search answers with a list, never an error.
        #[test]
        fn any_query_is_safe(query in "\\PC{0,40}|[\"()*:^+\\-{}\\[\\]NEAROR ]{0,20}") {
            let (_d, store) = setup();
            store.write(|tx| notes::add(tx, DEVICE, time_note("quotes \" and (parens) OR NEAR stars*", 0, &[]))).unwrap();
            prop_assert!(store.read(|c| notes::search(c, &query, None, 20)).is_ok());
        }
    }
}
