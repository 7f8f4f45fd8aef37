//! Importing manifests and reading the catalog back, including every kind of bad manifest.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use common::SAMPLE_MANIFEST;
use satchel_core::Error;
use satchel_core::catalog::{self, ImportStatus, LessonKind, ManifestError, RenditionKind};
use satchel_core::store::Store;
use serde_json::{Value, json};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    (dir, store)
}

fn sample() -> Value {
    serde_json::from_str(SAMPLE_MANIFEST).unwrap()
}

#[test]
fn the_sample_course_imports_and_reads_back_in_order() {
    let (_dir, store) = store();
    let outcome = catalog::import_manifest(&store, SAMPLE_MANIFEST).unwrap();
    assert_eq!(outcome.status, ImportStatus::Installed);
    assert_eq!((outcome.module_count, outcome.lesson_count), (3, 8));

    let outline = store.read(|c| catalog::course_outline(c, "web-basics")).unwrap();
    let manifest = sample();
    let expected: Vec<Vec<&str>> = manifest["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["lessons"].as_array().unwrap().iter().map(|l| l["id"].as_str().unwrap()).collect())
        .collect();
    let actual: Vec<Vec<&str>> =
        outline.modules.iter().map(|m| m.lessons.iter().map(|l| l.id.as_str()).collect()).collect();
    assert_eq!(actual, expected);

    // Sizes add up from the manifest's renditions.
    let lite_total: i64 = manifest["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["lessons"].as_array().unwrap())
        .flat_map(|l| l["renditions"].as_array().unwrap())
        .filter(|r| r["kind"] == "lite")
        .map(|r| r["bytes"].as_i64().unwrap())
        .sum();
    assert_eq!(outline.course.sizes.lite_bytes, lite_total);
    let module_lite: i64 = outline.modules.iter().map(|m| m.sizes.lite_bytes).sum();
    assert_eq!(module_lite, lite_total);
    assert!(outline.course.sizes.lite_bytes * 20 < outline.course.sizes.full_bytes);

    let dns = store.read(|c| catalog::lesson(c, "web-basics.dns")).unwrap();
    assert_eq!(dns.kind, LessonKind::Video);
    assert_eq!(dns.duration_ms, Some(318_000));
    assert_eq!(
        dns.renditions.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [RenditionKind::Full, RenditionKind::Lite, RenditionKind::Text]
    );

    let courses = store.read(catalog::list_courses).unwrap();
    assert_eq!(courses.len(), 1);
    assert_eq!(courses[0].lesson_count, 8);
    assert_eq!(courses[0].module_count, 3);
}

#[test]
fn linked_lectures_come_in_order_with_offline_availability() {
    let (_dir, store) = store();
    catalog::import_manifest(&store, SAMPLE_MANIFEST).unwrap();
    store
        .write(|tx| {
            Ok(tx.execute(
                "INSERT INTO download (lesson_id, rendition, state, created_at_ms, updated_at_ms)
                 VALUES ('web-basics.status-codes', 'lite', 'done', 0, 0),
                        ('web-basics.dns', 'full', 'running', 0, 0)",
                [],
            )?)
        })
        .unwrap();
    let linked = store.read(|c| catalog::linked_lectures(c, "web-basics.what-happens")).unwrap();
    let ids: Vec<_> = linked.iter().map(|l| l.lesson.id.as_str()).collect();
    assert_eq!(ids, ["web-basics.dns", "web-basics.status-codes"]);
    assert!(linked[0].available_offline.is_empty(), "a running download is not available offline");
    assert_eq!(linked[1].available_offline, [RenditionKind::Lite]);
    assert_eq!(linked[1].module_title, "Talking HTTP");

    let err = store.read(|c| catalog::linked_lectures(c, "no-such-lesson")).unwrap_err();
    assert!(matches!(err, Error::NotFound { kind: "lesson", .. }), "{err:?}");
}

#[test]
fn versions_install_update_and_refuse_to_go_back() {
    let (_dir, store) = store();
    assert_eq!(catalog::import_manifest(&store, SAMPLE_MANIFEST).unwrap().status, ImportStatus::Installed);
    assert_eq!(catalog::import_manifest(&store, SAMPLE_MANIFEST).unwrap().status, ImportStatus::Unchanged);

    let mut v2 = sample();
    v2["version"] = json!(2);
    v2["modules"][0]["lessons"][0]["title"] = json!("What happens when you open a web page");
    v2["modules"][2]["lessons"].as_array_mut().unwrap().pop();
    assert_eq!(catalog::import_manifest(&store, &v2.to_string()).unwrap().status, ImportStatus::Updated);
    let outline = store.read(|c| catalog::course_outline(c, "web-basics")).unwrap();
    assert_eq!(outline.course.version, 2);
    assert_eq!(outline.course.lesson_count, 7);
    assert_eq!(outline.modules[0].lessons[0].title, "What happens when you open a web page");

    let before = store.read(|c| Ok(common::dump(c))).unwrap();
    let err = catalog::import_manifest(&store, SAMPLE_MANIFEST).unwrap_err();
    assert!(matches!(err, Error::StaleManifest { installed: 2, offered: 1, .. }), "{err:?}");
    assert_eq!(store.read(|c| Ok(common::dump(c))).unwrap(), before);
}

/// Applies `edit` to the sample manifest and expects the import to fail without changing a row.
fn assert_rejected(edit: impl FnOnce(&mut Value), check: impl FnOnce(&ManifestError)) {
    let (_dir, store) = store();
    let mut other = sample();
    other["id"] = json!("other-course");
    other["modules"] = json!([{ "id": "other.m1", "title": "Other", "lessons": [
        { "id": "other.l1", "title": "Other lesson", "kind": "reading" }
    ]}]);
    catalog::import_manifest(&store, &other.to_string()).unwrap();
    let before = store.read(|c| Ok(common::dump(c))).unwrap();

    let mut manifest = sample();
    edit(&mut manifest);
    match catalog::import_manifest(&store, &manifest.to_string()) {
        Err(Error::InvalidManifest(e)) => check(&e),
        other => panic!("expected InvalidManifest, got {other:?}"),
    }
    assert_eq!(store.read(|c| Ok(common::dump(c))).unwrap(), before, "the store must be unchanged");
}

#[test]
fn a_manifest_missing_a_field_names_the_field() {
    assert_rejected(
        |m| {
            m["modules"][1]["lessons"][0].as_object_mut().unwrap().remove("title");
        },
        |e| assert!(matches!(e, ManifestError::Malformed(msg) if msg.contains("title")), "{e}"),
    );
}

#[test]
fn duplicate_ids_are_named() {
    assert_rejected(
        |m| m["modules"][1]["lessons"][0]["id"] = json!("web-basics.dns"),
        |e| assert_eq!(e, &ManifestError::DuplicateId { what: "lesson", id: "web-basics.dns".into() }),
    );
    assert_rejected(
        |m| m["modules"][2]["id"] = json!("web-basics.m1"),
        |e| assert_eq!(e, &ManifestError::DuplicateId { what: "module", id: "web-basics.m1".into() }),
    );
    assert_rejected(
        |m| m["modules"][0]["lessons"][0]["renditions"][1]["kind"] = json!("full"),
        |e| assert!(matches!(e, ManifestError::DuplicateRendition { rendition: "full", .. }), "{e}"),
    );
}

#[test]
fn dangling_and_self_links_are_named() {
    assert_rejected(
        |m| m["modules"][0]["lessons"][0]["linked"] = json!(["web-basics.dns", "nowhere"]),
        |e| {
            assert_eq!(
                e,
                &ManifestError::DanglingLink {
                    lesson: "web-basics.what-happens".into(),
                    target: "nowhere".into()
                }
            )
        },
    );
    assert_rejected(
        |m| m["modules"][0]["lessons"][1]["linked"] = json!(["web-basics.dns"]),
        |e| assert_eq!(e, &ManifestError::SelfLink { lesson: "web-basics.dns".into() }),
    );
}

#[test]
fn absurd_sizes_are_refused() {
    assert_rejected(
        |m| m["modules"][0]["lessons"][0]["renditions"][0]["bytes"] = json!(1u64 << 62),
        |e| {
            assert!(
                matches!(e, ManifestError::TooLarge { what, .. } if what.contains("full rendition")),
                "{e}"
            )
        },
    );
    assert_rejected(
        |m| m["modules"][0]["lessons"][0]["duration_ms"] = json!(90_000_000_000u64),
        |e| assert!(matches!(e, ManifestError::TooLarge { what, .. } if what.contains("duration")), "{e}"),
    );
    assert_rejected(
        |m| m["modules"][0]["lessons"][0]["renditions"][0]["bytes"] = json!(-5),
        |e| assert!(matches!(e, ManifestError::Malformed(_)), "{e}"),
    );
    assert_rejected(
        |m| m["title"] = json!("x".repeat(10_000)),
        |e| assert!(matches!(e, ManifestError::TooLarge { .. }), "{e}"),
    );
}

#[test]
fn unsafe_ids_and_empty_titles_are_refused() {
    assert_rejected(
        |m| m["modules"][0]["lessons"][0]["id"] = json!("../../etc/passwd"),
        |e| assert!(matches!(e, ManifestError::InvalidId { what: "lesson", .. }), "{e}"),
    );
    assert_rejected(
        |m| m["id"] = json!(""),
        |e| assert!(matches!(e, ManifestError::InvalidId { what: "course", .. }), "{e}"),
    );
    assert_rejected(
        |m| m["modules"][0]["title"] = json!("   "),
        |e| assert!(matches!(e, ManifestError::EmptyTitle { what: "module", .. }), "{e}"),
    );
}

#[test]
fn ids_owned_by_another_course_are_refused() {
    assert_rejected(
        |m| m["modules"][0]["lessons"][2]["id"] = json!("other.l1"),
        |e| {
            assert!(
                matches!(e, ManifestError::IdTaken { what: "lesson", other_course, .. } if other_course == "other-course"),
                "{e}"
            )
        },
    );
}

#[test]
fn newer_formats_and_non_json_are_refused() {
    assert_rejected(
        |m| m["format"] = json!(99),
        |e| {
            assert_eq!(
                e,
                &ManifestError::UnsupportedFormat { found: 99, supported: catalog::MANIFEST_FORMAT }
            )
        },
    );
    let (_dir, store) = store();
    for text in ["", "not json", "{\"format\": 1", "[1,2,3]", "null", "{\"format\": \"one\"}"] {
        let err = catalog::import_manifest(&store, text).unwrap_err();
        assert!(matches!(err, Error::InvalidManifest(ManifestError::Malformed(_))), "{text:?}: {err:?}");
    }
    assert!(store.read(catalog::list_courses).unwrap().is_empty());
}

#[test]
fn unknown_fields_from_newer_packagers_are_ignored() {
    let (_dir, store) = store();
    let mut m = sample();
    m["publisher_note"] = json!("added in a later format");
    m["modules"][0]["lessons"][0]["thumbnail"] = json!("abc");
    catalog::import_manifest(&store, &m.to_string()).unwrap();
}

#[test]
fn unknown_courses_and_lessons_are_not_found() {
    let (_dir, store) = store();
    assert!(matches!(
        store.read(|c| catalog::course_outline(c, "nope")),
        Err(Error::NotFound { kind: "course", .. })
    ));
    assert!(matches!(
        store.read(|c| catalog::lesson(c, "nope")),
        Err(Error::NotFound { kind: "lesson", .. })
    ));
}

mod properties {
    use proptest::prelude::*;
    use satchel_core::catalog::Manifest;

    proptest! {
        /// Whatever bytes arrive, parsing returns a value or a typed error; it never panics.
        #[test]
        fn parsing_never_panics(text in "\\PC{0,400}") {
            let _ = Manifest::parse(&text);
        }

        /// Truncating a valid manifest anywhere gives an error, never a partial course.
        #[test]
        fn truncated_manifests_are_errors(cut in 0usize..super::SAMPLE_MANIFEST.len() - 2) {
            let text = &super::SAMPLE_MANIFEST[..cut];
            prop_assert!(Manifest::parse(text).is_err());
        }
    }
}
