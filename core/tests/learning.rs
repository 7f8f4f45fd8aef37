//! Progress, completion, roll-ups, goals and quizzes, each checked together with its outbox entry.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use common::SAMPLE_MANIFEST;
use satchel_core::Error;
use satchel_core::catalog;
use satchel_core::learning::{AttemptState, StudyClock, goals, progress, quiz, rollup};
use satchel_core::outbox;
use satchel_core::store::Store;

const DEVICE: &str = "dev-1";
const VIDEO: &str = "web-basics.what-happens"; // 372 s
const READING: &str = "web-basics.reading-urls";
const PRACTICE: &str = "web-basics.http-quiz";
const GRADED: &str = "web-basics.final-quiz";

fn setup() -> (tempfile::TempDir, Store, StudyClock) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    catalog::import_manifest(&store, SAMPLE_MANIFEST).unwrap();
    (dir, store, StudyClock::default())
}

/// Plays `from..to` seconds with a report every 5 s of real (simulated) time.
fn play(store: &Store, clock: &StudyClock, t: &mut Instant, lesson: &str, from_s: i64, to_s: i64) {
    let mut s = from_s;
    while s <= to_s {
        progress::record_playback_at(store, clock, DEVICE, lesson, s * 1000, *t).unwrap();
        *t += Duration::from_secs(5);
        s += 5;
    }
}

fn latest_outbox_change(store: &Store, kind: &str, id: &str) -> serde_json::Value {
    let entries = store.read(outbox::pending).unwrap();
    let entry =
        entries.iter().rev().find(|e| e.entity_kind == kind && e.entity_id == id).expect("outbox entry");
    serde_json::from_str(&entry.change).unwrap()
}

#[test]
fn watching_ninety_percent_completes_a_video_and_seeking_does_not_count() {
    let (_d, store, clock) = setup();
    let mut t = Instant::now();
    play(&store, &clock, &mut t, VIDEO, 0, 120);
    // Seek to 300 s: a jump, not watching.
    let p = progress::record_playback_at(&store, &clock, DEVICE, VIDEO, 300_000, t).unwrap();
    assert!(!p.completed);
    assert_eq!(p.watched_ms, 120_000);
    assert_eq!(p.furthest_ms, 300_000);

    t += Duration::from_secs(5);
    play(&store, &clock, &mut t, VIDEO, 120, 330);
    let p = store.read(|c| progress::lesson_progress(c, VIDEO)).unwrap();
    assert!(!p.completed, "330 of 372 s is under 90%: {p:?}");
    play(&store, &clock, &mut t, VIDEO, 335, 340);
    let p = store.read(|c| progress::lesson_progress(c, VIDEO)).unwrap();
    assert!(p.watched_ms >= 335_000 && p.completed, "{p:?}");
    assert!(p.time_spent_ms > 0);

    // Sticky: going back to the start does not un-complete.
    t += Duration::from_secs(120);
    let p = progress::record_playback_at(&store, &clock, DEVICE, VIDEO, 0, t).unwrap();
    assert!(p.completed);
    assert_eq!(p.position_ms, 0);

    let change = latest_outbox_change(&store, "progress", VIDEO);
    assert_eq!(change["kind"], "progress", "the outbox holds the lesson's sync record");
    assert_eq!(change["position_ms"]["value"], 0);
    assert!(change["completed_at_ms"].is_i64());
}

#[test]
fn reaching_the_end_completes_a_video() {
    let (_d, store, clock) = setup();
    let p = progress::record_playback(&store, &clock, DEVICE, VIDEO, 371_500).unwrap();
    assert!(p.completed);
}

#[test]
fn ticks_coalesce_into_one_pending_outbox_entry_per_lesson() {
    let (_d, store, clock) = setup();
    let mut t = Instant::now();
    play(&store, &clock, &mut t, VIDEO, 0, 300);
    let entries = store.read(outbox::pending).unwrap();
    assert_eq!(entries.iter().filter(|e| e.entity_id == VIDEO).count(), 1, "{entries:?}");

    // Once an entry is frozen for a push (numbered) it is never rewritten: a new one follows.
    store.write(|tx| Ok(tx.execute("UPDATE outbox SET device_seq = 1", [])?)).unwrap();
    play(&store, &clock, &mut t, VIDEO, 305, 310);
    let entries = store.read(outbox::pending).unwrap();
    let for_video: Vec<_> = entries.iter().filter(|e| e.entity_id == VIDEO).collect();
    assert_eq!(for_video.len(), 2);
    assert!(for_video[0].hlc < for_video[1].hlc, "clock stamps increase");
    assert_ne!(for_video[0].op_id, for_video[1].op_id);
}

#[test]
fn time_is_counted_only_for_short_gaps() {
    let (_d, store, clock) = setup();
    let t = Instant::now();
    progress::record_playback_at(&store, &clock, DEVICE, VIDEO, 0, t).unwrap();
    progress::record_playback_at(&store, &clock, DEVICE, VIDEO, 5_000, t + Duration::from_secs(5)).unwrap();
    // Ten minutes later (phone locked): the gap is not learning time.
    let p = progress::record_playback_at(&store, &clock, DEVICE, VIDEO, 10_000, t + Duration::from_secs(605))
        .unwrap();
    assert_eq!(p.time_spent_ms, 5_000);
    clock.end_session();
    let p = progress::record_playback_at(&store, &clock, DEVICE, VIDEO, 15_000, t + Duration::from_secs(610))
        .unwrap();
    assert_eq!(p.time_spent_ms, 5_000, "a new session starts at zero");
    let summary = store.read(|c| goals::summary(c, satchel_core::time::now_ms(), 0)).unwrap();
    assert_eq!(summary.total_ms, 5_000);
}

#[test]
fn a_reading_completes_when_scrolled_to_the_end() {
    let (_d, store, clock) = setup();
    assert!(!progress::record_reading(&store, &clock, DEVICE, READING, 0.5).unwrap().completed);
    let p = progress::record_reading(&store, &clock, DEVICE, READING, 1.0).unwrap();
    assert!(p.completed);
    assert_eq!(progress::record_reading(&store, &clock, DEVICE, READING, 0.1).unwrap().scroll_fraction, 1.0);
}

#[test]
fn bad_progress_reports_are_typed_errors_that_write_nothing() {
    let (_d, store, clock) = setup();
    let before = store.read(|c| Ok(common::dump(c))).unwrap();
    let invalid = |r: Result<_, Error>| assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    invalid(progress::record_playback(&store, &clock, DEVICE, VIDEO, -1));
    invalid(progress::record_playback(&store, &clock, DEVICE, VIDEO, 372_000 + 60_000));
    invalid(progress::record_playback(&store, &clock, DEVICE, READING, 1_000));
    invalid(progress::record_reading(&store, &clock, DEVICE, READING, 1.5));
    invalid(progress::record_reading(&store, &clock, DEVICE, READING, f64::NAN));
    invalid(progress::record_reading(&store, &clock, DEVICE, VIDEO, 0.5));
    let r = progress::record_playback(&store, &clock, DEVICE, "no-such-lesson", 0);
    assert!(matches!(r, Err(Error::NotFound { kind: "lesson", .. })), "{r:?}");
    assert_eq!(store.read(|c| Ok(common::dump(c))).unwrap(), before);
}

#[test]
fn course_rollup_counts_modules_and_picks_the_next_lesson() {
    let (_d, store, clock) = setup();
    let p = store.read(|c| rollup::course_progress(c, "web-basics")).unwrap();
    assert_eq!((p.completed_lessons, p.total_lessons, p.percent_complete), (0, 8, 0));
    assert_eq!(p.next_lesson_id.as_deref(), Some(VIDEO));

    progress::record_playback(&store, &clock, DEVICE, VIDEO, 372_000).unwrap();
    let p = store.read(|c| rollup::course_progress(c, "web-basics")).unwrap();
    assert_eq!((p.completed_lessons, p.percent_complete), (1, 12));
    assert_eq!(p.modules[0].completed_lessons, 1);
    assert_eq!(p.modules[0].percent_complete, 33);
    assert_eq!(p.next_lesson_id.as_deref(), Some("web-basics.dns"), "the lesson after the one just finished");

    // Started but unfinished: resume it.
    progress::record_reading(&store, &clock, DEVICE, READING, 0.3).unwrap();
    let p = store.read(|c| rollup::course_progress(c, "web-basics")).unwrap();
    assert_eq!(p.next_lesson_id.as_deref(), Some(READING));
}

#[test]
fn practice_quizzes_are_graded_on_the_phone_and_a_pass_completes_the_lesson() {
    let (_d, store, _clock) = setup();
    let q = store.read(|c| quiz::quiz(c, PRACTICE)).unwrap();
    assert_eq!(q.questions.len(), 5);
    assert!(q.questions[2].multiple_answers);

    let attempt = store.write(|tx| quiz::start_attempt(tx, DEVICE, PRACTICE)).unwrap();
    let answers = [("q1", vec!["c"]), ("q2", vec!["a"]), ("q3", vec!["d", "a", "b"]), ("q4", vec!["b"])];
    for (question, choices) in answers {
        let choices = choices.into_iter().map(String::from).collect();
        store.write(|tx| quiz::answer(tx, DEVICE, &attempt.id, question, choices)).unwrap();
    }
    // Answers are durable before submission, and pending in the outbox.
    let change = latest_outbox_change(&store, "quiz_attempt", &attempt.id);
    assert_eq!(change["answers"]["q3"]["choice_ids"], serde_json::json!(["d", "a", "b"]));

    let graded = store.write(|tx| quiz::submit(tx, DEVICE, &attempt.id)).unwrap();
    assert_eq!(graded.state, AttemptState::Graded);
    assert_eq!(graded.score_percent, Some(60), "3 of 5: q4 wrong, q5 unanswered");
    assert_eq!(graded.passed, Some(true));
    assert_eq!(graded.results.iter().filter(|r| r.correct).count(), 3);
    assert!(store.read(|c| progress::lesson_progress(c, PRACTICE)).unwrap().completed);

    let again = store.write(|tx| quiz::answer(tx, DEVICE, &attempt.id, "q5", vec!["a".into()]));
    assert!(matches!(again, Err(Error::InvalidArgument(_))), "{again:?}");
    assert_eq!(store.read(|c| quiz::attempts(c, PRACTICE)).unwrap().len(), 1);
}

#[test]
fn graded_quizzes_wait_for_the_server() {
    let (_d, store, _clock) = setup();
    let attempt = store.write(|tx| quiz::start_attempt(tx, DEVICE, GRADED)).unwrap();
    store.write(|tx| quiz::answer(tx, DEVICE, &attempt.id, "f1", vec!["a".into()])).unwrap();
    let submitted = store.write(|tx| quiz::submit(tx, DEVICE, &attempt.id)).unwrap();
    assert_eq!(submitted.state, AttemptState::SubmittedPending);
    assert_eq!(submitted.score_percent, None);
    assert!(submitted.results.is_empty());
    assert!(!store.read(|c| progress::lesson_progress(c, GRADED)).unwrap().completed);
    let change = latest_outbox_change(&store, "quiz_attempt", &attempt.id);
    assert_eq!(change["state"], "submitted_pending");
    assert!(change["submitted_at_ms"].is_i64());
}

#[test]
fn bad_quiz_answers_are_typed_errors_that_write_nothing() {
    let (_d, store, _clock) = setup();
    let attempt = store.write(|tx| quiz::start_attempt(tx, DEVICE, PRACTICE)).unwrap();
    let before = store.read(|c| Ok(common::dump(c))).unwrap();
    let cases: [(&str, Vec<&str>); 4] =
        [("q99", vec!["a"]), ("q1", vec!["z"]), ("q1", vec!["a", "b"]), ("q3", vec!["a", "a"])];
    for (question, choices) in cases {
        let choices = choices.into_iter().map(String::from).collect();
        let r = store.write(|tx| quiz::answer(tx, DEVICE, &attempt.id, question, choices));
        assert!(matches!(r, Err(Error::InvalidArgument(_))), "{question}: {r:?}");
    }
    let r = store.write(|tx| quiz::answer(tx, DEVICE, "no-attempt", "q1", vec!["a".into()]));
    assert!(matches!(r, Err(Error::NotFound { .. })), "{r:?}");
    let r = store.write(|tx| quiz::start_attempt(tx, DEVICE, VIDEO));
    assert!(matches!(r, Err(Error::InvalidArgument(_))), "{r:?}");
    assert_eq!(store.read(|c| Ok(common::dump(c))).unwrap(), before);
}

#[test]
fn enrolment_and_the_weekly_goal_go_through_the_outbox() {
    let (_d, store, _clock) = setup();
    let first = store.write(|tx| goals::enroll(tx, DEVICE, "web-basics")).unwrap();
    let again = store.write(|tx| goals::enroll(tx, DEVICE, "web-basics")).unwrap();
    assert_eq!(first, again);
    assert!(matches!(store.write(|tx| goals::enroll(tx, DEVICE, "nope")), Err(Error::NotFound { .. })));
    store.write(|tx| goals::set_weekly_goal(tx, DEVICE, 5)).unwrap();
    assert!(matches!(
        store.write(|tx| goals::set_weekly_goal(tx, DEVICE, 8)),
        Err(Error::InvalidArgument(_))
    ));
    let summary = store.read(|c| goals::summary(c, satchel_core::time::now_ms(), 180)).unwrap();
    assert_eq!(summary.weekly_goal_days, 5);
    let kinds: Vec<String> =
        store.read(outbox::pending).unwrap().into_iter().map(|e| e.entity_kind).collect();
    assert_eq!(kinds, ["enrollment", "setting"]);
}

#[test]
fn a_write_that_fails_after_its_change_leaves_no_outbox_entry() {
    let (_d, store, _clock) = setup();
    let result: Result<(), Error> = store.write(|tx| {
        goals::enroll(tx, DEVICE, "web-basics")?;
        Err(Error::Internal("crash after the change and its outbox entry".into()))
    });
    assert!(result.is_err());
    assert!(store.read(goals::enrollments).unwrap().is_empty());
    assert!(store.read(outbox::pending).unwrap().is_empty());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Play { lesson: usize, position_s: i64, gap_s: u64 },
        Read { fraction: f64 },
        Quiz { correct: bool },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..4, 0i64..500, 0u64..90).prop_map(|(lesson, position_s, gap_s)| Op::Play {
                lesson,
                position_s,
                gap_s
            }),
            (0.0f64..=1.0).prop_map(|fraction| Op::Read { fraction }),
            any::<bool>().prop_map(|correct| Op::Quiz { correct }),
        ]
    }

    const VIDEOS: [&str; 4] = [
        "web-basics.what-happens",
        "web-basics.dns",
        "web-basics.status-codes",
        "web-basics.troubleshooting",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Under any sequence of reports, roll-ups stay within 0..=100 and never go down.
        #[test]
        fn rollups_are_bounded_and_monotonic(ops in proptest::collection::vec(op(), 1..60)) {
            let (_d, store, clock) = setup();
            let mut t = Instant::now();
            let mut last_course = 0i32;
            let mut last_modules = [0i32; 3];
            for op in ops {
                match op {
                    Op::Play { lesson, position_s, gap_s } => {
                        t += Duration::from_secs(gap_s);
                        // Positions past the end are refused; that is fine here.
                        let _ = progress::record_playback_at(&store, &clock, DEVICE, VIDEOS[lesson], position_s * 1000, t);
                    }
                    Op::Read { fraction } => {
                        progress::record_reading(&store, &clock, DEVICE, READING, fraction).unwrap();
                    }
                    Op::Quiz { correct } => {
                        let a = store.write(|tx| quiz::start_attempt(tx, DEVICE, PRACTICE)).unwrap();
                        let key: [(&str, &[&str]); 5] =
                            [("q1", &["c"]), ("q2", &["a"]), ("q3", &["a", "b", "d"]), ("q4", &["a"]), ("q5", &["a"])];
                        for (q, right) in key {
                            let picks: Vec<String> =
                                if correct { right.iter().map(|c| c.to_string()).collect() } else { vec!["b".into()] };
                            store.write(|tx| quiz::answer(tx, DEVICE, &a.id, q, picks)).unwrap();
                        }
                        store.write(|tx| quiz::submit(tx, DEVICE, &a.id)).unwrap();
                    }
                }
                let p = store.read(|c| rollup::course_progress(c, "web-basics")).unwrap();
                prop_assert!(p.percent_complete <= 100);
                prop_assert!(p.percent_complete >= last_course);
                for (m, last) in p.modules.iter().zip(last_modules.iter_mut()) {
                    prop_assert!(m.percent_complete <= 100 && m.percent_complete >= *last);
                    *last = m.percent_complete;
                }
                last_course = p.percent_complete;
            }
        }
    }
}

#[test]
fn a_damaged_clock_stamp_is_an_error_not_a_reset_clock() {
    let (_d, store, clock) = setup();
    let t = Instant::now();
    progress::record_playback_at(&store, &clock, DEVICE, VIDEO, 0, t).unwrap();
    store.write(|tx| Ok(tx.execute("UPDATE meta SET value = 'not a stamp' WHERE key = 'hlc'", [])?)).unwrap();
    let before = store.read(outbox::pending).unwrap();
    let err = progress::record_playback_at(&store, &clock, DEVICE, VIDEO, 5_000, t).unwrap_err();
    assert!(matches!(err, Error::Corrupt { what: "clock stamp", .. }), "{err:?}");
    assert_eq!(store.read(outbox::pending).unwrap(), before, "nothing was written");
}
