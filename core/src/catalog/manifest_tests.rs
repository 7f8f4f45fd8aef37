//! Manifest validation, rule by rule: every limit at its largest legal value and one past it,
//! every blob and quiz rule, on small manifests built here (fast enough to run per mutant).

use serde_json::{Value, json};

use super::*;

const HASH_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const HASH_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
const HASH_D: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn lesson(id: &str) -> Value {
    json!({"id": id, "title": "A lesson", "kind": "reading"})
}

fn module(id: &str, lessons: Vec<Value>) -> Value {
    json!({"id": id, "title": "A module", "lessons": lessons})
}

/// A format-2 course of one module holding `lessons`.
fn course(lessons: Vec<Value>) -> Value {
    json!({"format": 2, "id": "c", "version": 1, "title": "A course", "modules": [module("m", lessons)]})
}

fn blob(hash: &str, size: u64, stored: u64, encoding: &str) -> Value {
    json!({"hash": hash, "size": size, "stored_size": stored, "media_type": "text/plain",
           "encoding": encoding, "role": "reading"})
}

/// A lesson whose text rendition is the given blobs (its `bytes` their stored sizes' sum).
fn lesson_with_blobs(id: &str, blobs: Vec<Value>) -> Value {
    let bytes: u64 = blobs.iter().map(|b| b["stored_size"].as_u64().unwrap()).sum();
    let mut l = lesson(id);
    l["renditions"] = json!([{"kind": "text", "bytes": bytes, "blobs": blobs}]);
    l
}

fn parse(manifest: &Value) -> Result<Manifest, ManifestError> {
    Manifest::parse(&manifest.to_string())
}

fn accepted(manifest: &Value) {
    if let Err(e) = parse(manifest) {
        panic!("refused: {e}");
    }
}

fn too_large(manifest: &Value) -> (u64, u64) {
    match parse(manifest) {
        Err(ManifestError::TooLarge { actual, limit, .. }) => (actual, limit),
        other => panic!("expected TooLarge, got {other:?}"),
    }
}

fn invalid_blob(manifest: &Value) -> String {
    match parse(manifest) {
        Err(ManifestError::InvalidBlob { problem, .. }) => problem,
        other => panic!("expected InvalidBlob, got {other:?}"),
    }
}

fn invalid_quiz(manifest: &Value) -> String {
    match parse(manifest) {
        Err(ManifestError::InvalidQuiz { problem, .. }) => problem,
        other => panic!("expected InvalidQuiz, got {other:?}"),
    }
}

fn lessons(n: usize) -> Vec<Value> {
    (0..n).map(|i| lesson(&format!("l{i}"))).collect()
}

#[test]
fn the_manifest_size_limit_is_inclusive() {
    let text = course(lessons(1)).to_string();
    // JSON allows trailing whitespace: pad to exactly the limit, then one byte past it.
    let at_limit = format!("{text}{}", " ".repeat(limits::MANIFEST_BYTES - text.len()));
    assert!(Manifest::parse(&at_limit).is_ok());
    let over = format!("{at_limit} ");
    assert!(matches!(
        Manifest::parse(&over),
        Err(ManifestError::TooLarge { actual, limit, .. })
            if actual == limits::MANIFEST_BYTES as u64 + 1 && limit == limits::MANIFEST_BYTES as u64
    ));
    assert_eq!(limits::MANIFEST_BYTES, 8_388_608);
}

#[test]
fn formats_up_to_this_builds_are_read_and_newer_ones_refused() {
    for format in [1, MANIFEST_FORMAT] {
        let mut m = course(lessons(1));
        m["format"] = json!(format);
        accepted(&m);
    }
    let mut m = course(lessons(1));
    m["format"] = json!(MANIFEST_FORMAT + 1);
    assert_eq!(
        parse(&m).unwrap_err(),
        ManifestError::UnsupportedFormat { found: MANIFEST_FORMAT + 1, supported: MANIFEST_FORMAT }
    );
    assert!(matches!(Manifest::parse("{\"id\": 1}"), Err(ManifestError::Malformed(_))));
}

#[test]
fn module_and_lesson_counts_are_limited_inclusively() {
    let modules = |n: usize| {
        let list: Vec<Value> = (0..n).map(|i| module(&format!("m{i}"), vec![])).collect();
        json!({"format": 2, "id": "c", "version": 1, "title": "A course", "modules": list})
    };
    accepted(&modules(limits::MODULES));
    assert_eq!(too_large(&modules(limits::MODULES + 1)), (1_001, 1_000));

    accepted(&course(lessons(limits::LESSONS)));
    assert_eq!(too_large(&course(lessons(limits::LESSONS + 1))), (10_001, 10_000));
    // The lesson limit counts across modules, not per module.
    let mut split = modules(2);
    split["modules"][0]["lessons"] = json!(lessons(limits::LESSONS / 2 + 1));
    let second: Vec<Value> = (0..limits::LESSONS / 2).map(|i| lesson(&format!("k{i}"))).collect();
    split["modules"][1]["lessons"] = json!(second);
    assert_eq!(too_large(&split), (10_001, 10_000));
    assert_eq!(parse(&course(lessons(3))).unwrap().lessons().count(), 3);
}

#[test]
fn links_per_lesson_are_limited_inclusively() {
    let with_links = |n: usize| {
        let mut list = lessons(n + 1);
        list[0]["linked"] = json!((1..=n).map(|i| format!("l{i}")).collect::<Vec<_>>());
        course(list)
    };
    accepted(&with_links(limits::LINKS_PER_LESSON));
    assert_eq!(too_large(&with_links(limits::LINKS_PER_LESSON + 1)), (101, 100));
}

#[test]
fn lesson_durations_are_limited_inclusively() {
    let with_duration = |ms: u64| {
        let mut l = lesson("v");
        l["kind"] = json!("video");
        l["duration_ms"] = json!(ms);
        course(vec![l])
    };
    accepted(&with_duration(limits::DURATION_MS));
    assert_eq!(too_large(&with_duration(limits::DURATION_MS + 1)), (86_400_001, 86_400_000));
    let parsed = parse(&with_duration(372_000)).unwrap();
    assert_eq!(parsed.modules[0].lessons[0].duration_ms, Some(372_000));
}

#[test]
fn text_lengths_are_limited_inclusively_in_characters() {
    // "é" is two bytes: the limits count characters, as the learner sees them.
    let title = |n: usize| {
        let mut m = course(lessons(1));
        m["title"] = json!("é".repeat(n));
        m
    };
    accepted(&title(limits::TITLE_CHARS));
    assert_eq!(too_large(&title(limits::TITLE_CHARS + 1)), (501, 500));
    for (field, at) in [("modules", "title"), ("lessons", "title")] {
        let mut m = course(lessons(1));
        let target =
            if field == "modules" { &mut m["modules"][0] } else { &mut m["modules"][0]["lessons"][0] };
        target[at] = json!("x".repeat(limits::TITLE_CHARS));
        accepted(&m);
        let target =
            if field == "modules" { &mut m["modules"][0] } else { &mut m["modules"][0]["lessons"][0] };
        target[at] = json!("x".repeat(limits::TITLE_CHARS + 1));
        assert_eq!(too_large(&m), (501, 500));
    }
    let description = |n: usize| {
        let mut m = course(lessons(1));
        m["description"] = json!("d".repeat(n));
        m
    };
    accepted(&description(limits::DESCRIPTION_CHARS));
    assert_eq!(too_large(&description(limits::DESCRIPTION_CHARS + 1)), (20_001, 20_000));
    // A description may be empty; titles may not (nor only spaces).
    accepted(&description(0));
    let mut blank = course(lessons(1));
    blank["title"] = json!("   ");
    assert!(matches!(parse(&blank), Err(ManifestError::EmptyTitle { what: "course", .. })));
}

#[test]
fn ids_are_limited_to_a_safe_alphabet_and_length() {
    let with_id = |id: &str| {
        let mut m = course(lessons(1));
        m["modules"][0]["lessons"][0]["id"] = json!(id);
        parse(&m)
    };
    assert!(with_id(&"i".repeat(limits::ID_CHARS)).is_ok());
    assert!(with_id("Az09._-:x").is_ok());
    for bad in ["", ".", "..", "a/b", "a b", "ü", &"i".repeat(limits::ID_CHARS + 1)] {
        assert!(
            matches!(with_id(bad), Err(ManifestError::InvalidId { what: "lesson", .. })),
            "{bad:?} accepted"
        );
    }
    // Dots are fine inside an id, just not as the whole of it.
    assert!(with_id("...").is_ok());
    assert!(with_id(".a").is_ok());
}

#[test]
fn duplicates_and_bad_links_are_named() {
    let mut m = course(lessons(2));
    m["modules"][0]["lessons"][1]["id"] = json!("l0");
    assert_eq!(parse(&m).unwrap_err(), ManifestError::DuplicateId { what: "lesson", id: "l0".into() });

    let mut m = course(lessons(1));
    m["modules"] = json!([module("m", lessons(1)), module("m", vec![])]);
    assert_eq!(parse(&m).unwrap_err(), ManifestError::DuplicateId { what: "module", id: "m".into() });

    let mut m = course(lessons(2));
    m["modules"][0]["lessons"][0]["linked"] = json!(["l1", "l1"]);
    assert_eq!(
        parse(&m).unwrap_err(),
        ManifestError::DuplicateId { what: "linked lecture", id: "l1".into() }
    );
    m["modules"][0]["lessons"][0]["linked"] = json!(["l0"]);
    assert_eq!(parse(&m).unwrap_err(), ManifestError::SelfLink { lesson: "l0".into() });
    m["modules"][0]["lessons"][0]["linked"] = json!(["nowhere"]);
    assert!(matches!(parse(&m), Err(ManifestError::DanglingLink { .. })));
    // A link to a lesson of a later module is fine.
    let mut m = course(lessons(1));
    m["modules"] = json!([module("m1", lessons(1)), module("m2", vec![lesson("later")])]);
    m["modules"][0]["lessons"][0]["linked"] = json!(["later"]);
    accepted(&m);
}

#[test]
fn renditions_are_unique_per_lesson_and_limited_in_size() {
    let with_bytes = |bytes: u64| {
        let mut l = lesson("l");
        l["renditions"] = json!([{"kind": "full", "bytes": bytes}, {"kind": "lite", "bytes": 1}]);
        course(vec![l])
    };
    let parsed = parse(&with_bytes(limits::RENDITION_BYTES)).unwrap();
    let rendition = parsed.modules[0].lessons[0].renditions[0].to_rendition();
    assert_eq!((rendition.kind, rendition.bytes), (RenditionKind::Full, limits::RENDITION_BYTES as i64));
    assert_eq!(too_large(&with_bytes(limits::RENDITION_BYTES + 1)).1, 68_719_476_736);

    let mut l = lesson("l");
    l["renditions"] = json!([{"kind": "lite", "bytes": 1}, {"kind": "lite", "bytes": 2}]);
    assert_eq!(
        parse(&course(vec![l])).unwrap_err(),
        ManifestError::DuplicateRendition { lesson: "l".into(), rendition: "lite" }
    );
}

#[test]
fn sizes_read_as_whole_numbers() {
    let mut l = lesson("l");
    l["renditions"] = json!([{"kind": "full", "bytes": 0}, {"kind": "lite", "bytes": 12_345}]);
    let parsed = parse(&course(vec![l.clone()])).unwrap();
    let bytes: Vec<u64> = parsed.modules[0].lessons[0].renditions.iter().map(|r| r.bytes).collect();
    assert_eq!(bytes, [0, 12_345]);
    // Refused as malformed, the error saying what a size must be.
    for bad in [json!(-1), json!(1.5), json!(9_223_372_036_854_775_808u64)] {
        l["renditions"][1]["bytes"] = bad.clone();
        match parse(&course(vec![l.clone()])) {
            Err(ManifestError::Malformed(text)) => {
                assert!(text.contains("a whole number from 0 to 2^63 - 1"), "{bad}: {text}");
            }
            other => panic!("{bad}: {other:?}"),
        }
    }
    l["renditions"][1]["bytes"] = json!(i64::MAX);
    assert!(matches!(parse(&course(vec![l])), Err(ManifestError::TooLarge { .. })));
}

#[test]
fn an_identity_blob_must_be_stored_at_its_own_size() {
    accepted(&course(vec![lesson_with_blobs("l", vec![blob(HASH_A, 10, 10, "identity")])]));
    let problem = invalid_blob(&course(vec![lesson_with_blobs("l", vec![blob(HASH_A, 11, 10, "identity")])]));
    assert!(problem.contains("sizes differ"), "{problem}");
    // Compressed blobs differ in size, of course.
    accepted(&course(vec![lesson_with_blobs("l", vec![blob(HASH_A, 40, 10, "zstd")])]));
}

#[test]
fn blob_sizes_are_limited_inclusively() {
    let at = limits::RENDITION_BYTES;
    accepted(&course(vec![lesson_with_blobs("l", vec![blob(HASH_A, at, at, "identity")])]));
    for (size, stored) in [(at + 1, at + 1), (at + 1, at), (at, at + 1)] {
        let mut l = lesson_with_blobs("l", vec![blob(HASH_A, size, stored, "zstd")]);
        l["renditions"][0]["bytes"] = json!(stored);
        let problem = invalid_blob(&course(vec![l]));
        assert!(problem.contains("larger than"), "{size}/{stored}: {problem}");
    }
}

#[test]
fn the_compression_ratio_is_limited_inclusively() {
    let ratio = limits::MAX_COMPRESSION_RATIO;
    accepted(&course(vec![lesson_with_blobs("l", vec![blob(HASH_A, 10 * ratio, 10, "zstd")])]));
    let problem =
        invalid_blob(&course(vec![lesson_with_blobs("l", vec![blob(HASH_A, 10 * ratio + 1, 10, "zstd")])]));
    assert!(problem.contains("compression ratio"), "{problem}");
    // An empty stored blob counts as one byte: it may decode to at most `ratio` bytes.
    accepted(&course(vec![lesson_with_blobs("l", vec![blob(HASH_A, ratio, 0, "zstd")])]));
    assert!(
        invalid_blob(&course(vec![lesson_with_blobs("l", vec![blob(HASH_A, ratio + 1, 0, "zstd")])]))
            .contains("compression ratio")
    );
    // The same rule for dictionary-compressed blobs.
    let mut m = course(vec![lesson_with_blobs("l", vec![blob(HASH_A, 10 * ratio + 1, 10, "zstd-dict")])]);
    m["dictionary"] = blob(HASH_D, 100, 100, "identity");
    assert!(invalid_blob(&m).contains("compression ratio"));
    assert_eq!(ratio, 200);
}

#[test]
fn blob_names_must_be_lowercase_hex_sha256() {
    let with_hash = |hash: &str| course(vec![lesson_with_blobs("l", vec![blob(hash, 5, 5, "identity")])]);
    accepted(&with_hash(HASH_D));
    for bad in [&HASH_A[1..], &format!("{HASH_A}a"), &HASH_A.to_uppercase(), &HASH_A.replace('a', "g")] {
        assert!(invalid_blob(&with_hash(bad)).contains("SHA-256"), "{bad}");
    }
}

#[test]
fn roles_and_media_types_are_checked() {
    let with = |field: &str, value: &str| {
        let mut b = blob(HASH_A, 5, 5, "identity");
        b[field] = json!(value);
        course(vec![lesson_with_blobs("l", vec![b])])
    };
    for ok in ["slides/0001.webp", "a.b_c-d", &"r".repeat(limits::ROLE_CHARS)] {
        accepted(&with("role", ok));
    }
    for bad in
        ["", "/etc", "a//b", "a/./b", "../x", "a/..", "a b", "a\\b", &"r".repeat(limits::ROLE_CHARS + 1)]
    {
        assert!(invalid_blob(&with("role", bad)).contains("role"), "{bad:?}");
    }
    accepted(&with("media_type", &"m".repeat(100)));
    for bad in ["", "é", &"m".repeat(101)] {
        assert!(invalid_blob(&with("media_type", bad)).contains("media type"), "{bad:?}");
    }
}

#[test]
fn a_rendition_lists_at_most_the_blob_limit_and_its_bytes_add_up() {
    let with_blobs = |n: usize| {
        let blobs = (0..n).map(|i| blob(&format!("{i:064x}"), 1, 1, "identity")).collect();
        course(vec![lesson_with_blobs("l", blobs)])
    };
    accepted(&with_blobs(limits::BLOBS_PER_RENDITION));
    assert!(invalid_blob(&with_blobs(limits::BLOBS_PER_RENDITION + 1)).contains("more than 2000 files"));

    let mut wrong_total = course(vec![lesson_with_blobs("l", vec![blob(HASH_A, 5, 5, "identity")])]);
    wrong_total["modules"][0]["lessons"][0]["renditions"][0]["bytes"] = json!(6);
    assert!(invalid_blob(&wrong_total).contains("add up"));
}

#[test]
fn dictionary_blobs_need_the_courses_dictionary_which_cannot_need_itself() {
    let dict_blob = blob(HASH_A, 50, 10, "zstd-dict");
    let without = course(vec![lesson_with_blobs("l", vec![dict_blob.clone()])]);
    assert!(invalid_blob(&without).contains("needs a dictionary"));
    for encoding in ["identity", "zstd"] {
        let mut with = without.clone();
        with["dictionary"] = blob(HASH_D, 100, if encoding == "identity" { 100 } else { 40 }, encoding);
        accepted(&with);
    }
    let mut itself = without.clone();
    itself["dictionary"] = blob(HASH_D, 100, 40, "zstd-dict");
    assert!(invalid_blob(&itself).contains("cannot need itself"));
    let mut broken = without;
    broken["dictionary"] = blob("nothex", 100, 100, "identity");
    assert!(invalid_blob(&broken).contains("SHA-256"));
}

#[test]
fn one_hash_has_one_description_everywhere() {
    let twice =
        |a: Value, b: Value| course(vec![lesson_with_blobs("l1", vec![a]), lesson_with_blobs("l2", vec![b])]);
    let base = blob(HASH_A, 50, 10, "zstd");
    accepted(&twice(base.clone(), base.clone()));
    for (field, value) in
        [("size", json!(51)), ("stored_size", json!(11)), ("media_type", json!("text/html"))]
    {
        let mut other = base.clone();
        other[field] = value;
        assert!(
            matches!(parse(&twice(base.clone(), other)), Err(ManifestError::ConflictingBlob { .. })),
            "{field}"
        );
    }
    let mut dict = twice(base.clone(), blob(HASH_A, 50, 10, "zstd-dict"));
    dict["dictionary"] = blob(HASH_D, 100, 100, "identity");
    assert!(matches!(parse(&dict), Err(ManifestError::ConflictingBlob { field: "encoding", .. })));
    // The dictionary counts as a listing too.
    let mut clash = course(vec![lesson_with_blobs("l", vec![blob(HASH_D, 50, 10, "zstd")])]);
    clash["dictionary"] = blob(HASH_D, 100, 100, "identity");
    assert!(matches!(parse(&clash), Err(ManifestError::ConflictingBlob { .. })));
}

#[test]
fn a_text_pack_holds_exactly_its_text_members() {
    let text = |hash: &str, size: u64| blob(hash, size, 4, "zstd");
    let base = course(vec![lesson_with_blobs("l", vec![text(HASH_A, 30), text(HASH_B, 12)])]);
    let with_pack = |members: Vec<&str>, size: u64| {
        let mut m = base.clone();
        m["text_pack"] = json!({"blob": blob(HASH_D, size, 9, "zstd"), "members": members});
        m
    };
    let parsed = parse(&with_pack(vec![HASH_A, HASH_B], 42)).unwrap();
    assert_eq!(parsed.text_pack.unwrap().members.len(), 2);
    assert!(invalid_blob(&with_pack(vec![HASH_A, HASH_B], 43)).contains("add up to 42"));
    assert!(invalid_blob(&with_pack(vec![HASH_A], 42)).contains("add up to 30"));
    assert!(invalid_blob(&with_pack(vec![HASH_A, "f".repeat(64).as_str()], 42)).contains("not a text blob"));
    // The pack cannot hold itself, nor a blob stored as is (media, not text).
    assert!(invalid_blob(&with_pack(vec![HASH_D], 42)).contains("not a text blob"));
    let mut media = course(vec![lesson_with_blobs("l", vec![blob(HASH_A, 30, 30, "identity")])]);
    media["text_pack"] = json!({"blob": blob(HASH_D, 30, 9, "zstd"), "members": [HASH_A]});
    assert!(invalid_blob(&media).contains("not a text blob"));
    // The pack's own blob is checked like any other.
    let mut bomb = base.clone();
    bomb["text_pack"] = json!({"blob": blob(HASH_D, 42, 0, "zstd"), "members": [HASH_A, HASH_B]});
    accepted(&bomb);
    bomb["text_pack"]["blob"]["size"] = json!(100_000);
    bomb["modules"][0]["lessons"][0]["renditions"][0]["blobs"][0]["size"] = json!(99_988);
    assert!(invalid_blob(&bomb).contains("compression ratio"));
}

fn quiz_lesson(mode: &str, questions: Value) -> Value {
    json!({"id": "q", "title": "Quiz", "kind": "quiz", "quiz": {"mode": mode, "questions": questions}})
}

fn question(id: &str, choices: usize, correct: &[&str]) -> Value {
    let choices: Vec<Value> =
        (0..choices).map(|i| json!({"id": format!("c{i}"), "text": "an answer"})).collect();
    json!({"id": id, "prompt": "Which?", "choices": choices, "correct": correct})
}

#[test]
fn quizzes_need_questions_and_only_quiz_lessons_have_them() {
    let practice = quiz_lesson("practice", json!([question("q1", 2, &["c0"])]));
    let parsed = parse(&course(vec![practice.clone()])).unwrap();
    let quiz = parsed.modules[0].lessons[0].quiz.as_ref().unwrap();
    assert_eq!(quiz.pass_percent, 70, "the default pass mark");
    assert!(
        invalid_quiz(&course(vec![json!({"id": "q", "title": "Quiz", "kind": "quiz"})])).contains("needs")
    );
    let mut reading = practice;
    reading["kind"] = json!("reading");
    assert!(invalid_quiz(&course(vec![reading])).contains("only quiz lessons"));
}

#[test]
fn question_and_choice_counts_and_pass_marks_are_limited_inclusively() {
    let questions =
        |n: usize| json!((0..n).map(|i| question(&format!("q{i}"), 2, &["c0"])).collect::<Vec<_>>());
    accepted(&course(vec![quiz_lesson("practice", questions(limits::QUESTIONS))]));
    assert!(
        invalid_quiz(&course(vec![quiz_lesson("practice", questions(limits::QUESTIONS + 1))]))
            .contains("1 to 200")
    );
    assert!(invalid_quiz(&course(vec![quiz_lesson("practice", questions(0))])).contains("1 to 200"));
    accepted(&course(vec![quiz_lesson("practice", questions(1))]));

    for (choices, ok) in [(1, false), (2, true), (limits::CHOICES, true), (limits::CHOICES + 1, false)] {
        let m = course(vec![quiz_lesson("practice", json!([question("q1", choices, &["c0"])]))]);
        if ok {
            accepted(&m);
        } else {
            assert!(invalid_quiz(&m).contains("2 to 20 choices"), "{choices}");
        }
    }
    for (pass, ok) in [(0, true), (100, true), (101, false), (255, false)] {
        let mut l = quiz_lesson("practice", json!([question("q1", 2, &["c0"])]));
        l["quiz"]["pass_percent"] = json!(pass);
        let m = course(vec![l]);
        if ok {
            assert_eq!(parse(&m).unwrap().modules[0].lessons[0].quiz.as_ref().unwrap().pass_percent, pass);
        } else {
            assert!(invalid_quiz(&m).contains("over 100"), "{pass}");
        }
    }
    let prompt = |n: usize| {
        let mut q = question("q1", 2, &["c0"]);
        q["prompt"] = json!("p".repeat(n));
        course(vec![quiz_lesson("practice", json!([q]))])
    };
    accepted(&prompt(limits::PROMPT_CHARS));
    assert_eq!(too_large(&prompt(limits::PROMPT_CHARS + 1)), (2_001, 2_000));
    let choice_text = |n: usize| {
        let mut q = question("q1", 2, &["c0"]);
        q["choices"][1]["text"] = json!("t".repeat(n));
        course(vec![quiz_lesson("practice", json!([q]))])
    };
    accepted(&choice_text(limits::PROMPT_CHARS));
    assert_eq!(too_large(&choice_text(limits::PROMPT_CHARS + 1)), (2_001, 2_000));
}

#[test]
fn a_graded_quiz_never_ships_its_answer_keys_and_a_practice_one_always_does() {
    accepted(&course(vec![quiz_lesson("graded", json!([question("q1", 3, &[])]))]));
    let leaking =
        course(vec![quiz_lesson("graded", json!([question("q1", 3, &[]), question("q2", 3, &["c1"])]))]);
    assert!(invalid_quiz(&leaking).contains("must not publish its answer keys"));
    let keyless =
        course(vec![quiz_lesson("practice", json!([question("q1", 3, &["c0"]), question("q2", 3, &[])]))]);
    assert!(invalid_quiz(&keyless).contains("\"q2\" has no answer key"));
}

#[test]
fn answer_keys_name_real_choices_and_one_unless_multiple() {
    let unknown = course(vec![quiz_lesson("practice", json!([question("q1", 3, &["c0", "c9"])]))]);
    assert!(invalid_quiz(&unknown).contains("unknown choice \"c9\""));
    let several = course(vec![quiz_lesson("practice", json!([question("q1", 3, &["c0", "c1"])]))]);
    assert!(invalid_quiz(&several).contains("several keys"));
    let mut multiple = question("q1", 3, &["c0", "c1"]);
    multiple["multiple"] = json!(true);
    accepted(&course(vec![quiz_lesson("practice", json!([multiple]))]));
    let mut single_multiple = question("q1", 3, &["c2"]);
    single_multiple["multiple"] = json!(true);
    accepted(&course(vec![quiz_lesson("practice", json!([single_multiple]))]));
}

#[test]
fn question_and_choice_ids_are_checked_and_unique() {
    let twice = course(vec![quiz_lesson(
        "practice",
        json!([question("q1", 2, &["c0"]), question("q1", 2, &["c0"])]),
    )]);
    assert_eq!(parse(&twice).unwrap_err(), ManifestError::DuplicateId { what: "question", id: "q1".into() });
    let mut q = question("q1", 2, &["c0"]);
    q["choices"][1]["id"] = json!("c0");
    assert_eq!(
        parse(&course(vec![quiz_lesson("practice", json!([q]))])).unwrap_err(),
        ManifestError::DuplicateId { what: "choice", id: "c0".into() }
    );
    let bad_question = course(vec![quiz_lesson("practice", json!([question("q 1", 2, &["c0"])]))]);
    assert!(matches!(parse(&bad_question), Err(ManifestError::InvalidId { what: "question", .. })));
    let mut q = question("q1", 2, &["c0"]);
    q["choices"][1]["id"] = json!("../c");
    assert!(matches!(
        parse(&course(vec![quiz_lesson("practice", json!([q]))])),
        Err(ManifestError::InvalidId { what: "choice", .. })
    ));
    let mut q = question("q1", 2, &["c0"]);
    q["prompt"] = json!(" ");
    assert!(matches!(
        parse(&course(vec![quiz_lesson("practice", json!([q]))])),
        Err(ManifestError::EmptyTitle { what: "question", .. })
    ));
}

#[test]
fn encodings_read_and_write_their_stored_spelling() {
    for (encoding, text) in
        [(Encoding::Identity, "identity"), (Encoding::Zstd, "zstd"), (Encoding::ZstdDict, "zstd-dict")]
    {
        assert_eq!(Encoding::parse(text), Some(encoding));
        assert_eq!(encoding.as_str(), text);
        assert_eq!(serde_json::to_value(encoding).unwrap(), json!(text));
    }
    assert_eq!(Encoding::parse("gzip"), None);
    assert_eq!(Encoding::parse("Zstd"), None);
}

/// A format-3 course whose text lesson is blob A (stored in 40 bytes), listing `patches`.
fn with_patches(patches: Value) -> Value {
    let mut m = course(vec![lesson_with_blobs("l", vec![blob(HASH_A, 100, 40, "zstd")])]);
    m["format"] = json!(3);
    m["patches"] = patches;
    m
}

#[test]
fn patches_need_format_3_and_produce_a_text_blob_of_the_course_for_less() {
    let patch = |base: &str, result: &str, size: u64| json!({"base": base, "result": result, "size": size});
    let parsed = parse(&with_patches(json!([patch(HASH_B, HASH_A, 39)]))).unwrap();
    assert_eq!(parsed.patches, vec![PatchEntry { base: HASH_B.into(), result: HASH_A.into(), size: 39 }]);
    let mut old_format = with_patches(json!([patch(HASH_B, HASH_A, 9)]));
    old_format["format"] = json!(2);
    assert!(invalid_blob(&old_format).contains("cannot list patches"));
    // Not smaller than the whole blob, empty, or producing something the course does not list.
    assert!(invalid_blob(&with_patches(json!([patch(HASH_B, HASH_A, 40)]))).contains("the whole blob 40"));
    assert!(invalid_blob(&with_patches(json!([patch(HASH_B, HASH_A, 0)]))).contains("is 0 bytes"));
    assert!(invalid_blob(&with_patches(json!([patch(HASH_A, HASH_D, 9)]))).contains("not a text blob"));
    assert!(invalid_blob(&with_patches(json!([patch(HASH_A, HASH_A, 9)]))).contains("into itself"));
    for bad in [&HASH_B[1..], &HASH_B.to_uppercase(), "../../etc/passwd"] {
        assert!(invalid_blob(&with_patches(json!([patch(bad, HASH_A, 9)]))).contains("SHA-256"), "{bad}");
    }
    let twice = with_patches(json!([patch(HASH_B, HASH_A, 9), patch(HASH_B, HASH_A, 9)]));
    assert!(matches!(parse(&twice), Err(ManifestError::DuplicateId { what: "patch", .. })));
    // Sizes are whole numbers like every other size.
    assert!(matches!(
        parse(&with_patches(json!([{"base": HASH_B, "result": HASH_A, "size": 9.0}]))),
        Err(ManifestError::Malformed(_))
    ));
    // A media blob is never patched.
    let mut media = course(vec![lesson_with_blobs("l", vec![blob(HASH_A, 40, 40, "identity")])]);
    media["format"] = json!(3);
    media["patches"] = json!([patch(HASH_B, HASH_A, 9)]);
    assert!(invalid_blob(&media).contains("not a text blob"));
}

#[test]
fn the_patch_count_is_limited_inclusively() {
    let list = |n: usize| -> Value {
        json!(
            (0..n)
                .map(|i| json!({"base": format!("{i:064x}"), "result": HASH_A, "size": 9}))
                .collect::<Vec<_>>()
        )
    };
    accepted(&with_patches(list(limits::PATCHES)));
    assert_eq!(
        too_large(&with_patches(list(limits::PATCHES + 1))),
        (limits::PATCHES as u64 + 1, limits::PATCHES as u64)
    );
}
