//! `pack` keeps graded quizzes' answer keys out of the published tree and writes them to a
//! private grading file that `serve --grading` loads.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::fs;
use std::path::Path;

use ed25519_dalek::SigningKey;
use satchel_server::grading::AnswerKeys;
use satchel_server::pack::{self, PackOptions};
use serde_json::json;

fn write_course(dir: &Path, keys: Option<serde_json::Value>) {
    let course = json!({
        "id": "tiny", "version": 3, "title": "Tiny",
        "modules": [{ "id": "tiny.m1", "title": "M1", "lessons": [
            { "id": "tiny.exam", "title": "Exam", "kind": "quiz", "quiz": "exam/quiz.json" }
        ]}]
    });
    let quiz = json!({
        "mode": "graded", "pass_percent": 50,
        "questions": [
            { "id": "q1", "prompt": "One?", "choices": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}] },
            { "id": "q2", "prompt": "Two?", "multiple": true,
              "choices": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}, {"id": "c", "text": "C"}] }
        ]
    });
    fs::create_dir_all(dir.join("exam")).expect("mkdir");
    fs::write(dir.join("course.json"), course.to_string()).expect("course.json");
    fs::write(dir.join("exam/quiz.json"), quiz.to_string()).expect("quiz.json");
    if let Some(keys) = keys {
        fs::write(dir.join("exam/quiz.keys.json"), keys.to_string()).expect("keys");
    }
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[9u8; 32])
}

#[test]
fn graded_keys_go_to_a_private_file_outside_the_published_tree() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    write_course(&src, Some(json!({ "correct": { "q1": ["b"], "q2": ["a", "c"] } })));
    let out = tmp.path().join("www");
    let report = pack::pack(&src, &out, &key()).expect("pack");

    let grading = report.grading_path.expect("a grading file");
    assert_eq!(grading, tmp.path().join("www.grading").join("tiny.grading.json"));
    assert!(!grading.starts_with(&out), "answer keys must not be published");
    // Nothing published mentions the keys.
    let manifest = fs::read_to_string(&report.manifest_path).expect("manifest");
    assert!(!manifest.contains("correct"), "{manifest}");

    let keys = AnswerKeys::load_dir(grading.parent().expect("dir")).expect("load");
    let answers = [("q1", vec!["b".to_owned()]), ("q2", vec!["c".to_owned()])];
    let grade =
        keys.grade("tiny", "tiny.exam", answers.iter().map(|(q, c)| (*q, c.as_slice()))).expect("keyed");
    assert_eq!((grade.score_percent, grade.passed), (50, true));
}

#[test]
fn grading_out_is_honoured() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    write_course(&src, Some(json!({ "correct": { "q1": ["a"], "q2": ["b"] } })));
    let options = PackOptions { grading_out: Some(tmp.path().join("private")), ..PackOptions::default() };
    let report = pack::pack_with(&src, &tmp.path().join("www"), &key(), &options).expect("pack");
    assert_eq!(report.grading_path, Some(tmp.path().join("private").join("tiny.grading.json")));
}

#[test]
fn a_graded_quiz_without_keys_still_packs_with_no_grading_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let src = tmp.path().join("src");
    write_course(&src, None);
    let report = pack::pack(&src, &tmp.path().join("www"), &key()).expect("pack");
    assert_eq!(report.grading_path, None);
    assert!(!tmp.path().join("www.grading").exists());
}

#[test]
fn bad_keys_are_refused_with_the_reason() {
    for (keys, expected) in [
        (json!({ "correct": { "q1": ["a"] } }), "has no key"),
        (json!({ "correct": { "q1": ["z"], "q2": ["a"] } }), "no choice"),
        (json!({ "correct": { "q1": ["a", "b"], "q2": ["a"] } }), "exactly one"),
        (json!({ "correct": { "q1": ["a"], "q2": ["a"], "q9": ["a"] } }), "no question"),
        (json!({ "keys": {} }), "not a quiz keys file"),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let src = tmp.path().join("src");
        write_course(&src, Some(keys));
        let error = pack::pack(&src, &tmp.path().join("www"), &key()).expect_err("bad keys");
        assert!(format!("{error:#}").contains(expected), "{error:#} should say {expected:?}");
    }
}
