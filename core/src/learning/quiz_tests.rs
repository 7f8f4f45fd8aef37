//! Offline quizzes on a real SQLite file holding the sample course: answers checked as given,
//! practice grading at the pass mark's edge, graded quizzes left pending, attempts newest first.

use super::*;
use crate::catalog::test_support::sample_store as setup;
use crate::store::Store;

const ME: &str = "phone";
/// Practice, pass mark 60%: q1 key c; q2 a; q3 a+b+d (several answers); q4 a; q5 a.
const PRACTICE: &str = "web-basics.http-quiz";
/// Graded, no keys on the phone: f1, f2 (a/b/c), f3 (a/b).
const GRADED: &str = "web-basics.final-quiz";

fn give(store: &Store, attempt: &str, question: &str, choices: &[&str]) -> Result<QuizAttempt> {
    store.write(|tx| answer(tx, ME, attempt, question, choices.iter().map(|c| (*c).to_owned()).collect()))
}

fn start(store: &Store, lesson: &str) -> QuizAttempt {
    store.write(|tx| start_attempt(tx, ME, lesson)).unwrap()
}

fn submit_now(store: &Store, attempt: &str) -> QuizAttempt {
    store.write(|tx| submit(tx, ME, attempt)).unwrap()
}

fn completed(store: &Store, lesson: &str) -> bool {
    store.read(|c| progress::lesson_progress(c, lesson)).unwrap().completed
}

#[test]
fn the_learner_sees_questions_without_keys() {
    let (_d, store) = setup();
    let q = store.read(|c| quiz(c, PRACTICE)).unwrap();
    assert_eq!((q.mode, q.pass_percent, q.questions.len()), (QuizMode::Practice, 60, 5));
    assert_eq!(q.questions[0].id, "q1");
    assert_eq!(q.questions[0].choices.len(), 4);
    assert!(!q.questions[0].multiple_answers);
    assert!(q.questions[2].multiple_answers);
    assert!(store.read(|c| quiz(c, "web-basics.what-happens")).is_err(), "a video is not a quiz");
    assert!(store.read(|c| quiz(c, "nope")).is_err());
}

#[test]
fn three_of_five_right_is_exactly_the_pass_mark_and_completes_the_lesson() {
    let (_d, store) = setup();
    let a = start(&store, PRACTICE);
    assert_eq!((a.state, a.mode, a.answers.len()), (AttemptState::InProgress, QuizMode::Practice, 0));
    give(&store, &a.id, "q1", &["c"]).unwrap();
    give(&store, &a.id, "q2", &["a"]).unwrap();
    give(&store, &a.id, "q3", &["d", "a", "b"]).unwrap();
    give(&store, &a.id, "q4", &["b"]).unwrap();
    let graded = submit_now(&store, &a.id);
    assert_eq!(graded.state, AttemptState::Graded);
    assert_eq!((graded.score_percent, graded.passed), (Some(60), Some(true)));
    let right: Vec<bool> = graded.results.iter().map(|r| r.correct).collect();
    assert_eq!(right, [true, true, true, false, false]);
    assert_eq!(graded.results[3].correct_choice_ids, ["a"]);
    assert!(graded.submitted_at_ms.is_some());
    assert!(completed(&store, PRACTICE));
}

#[test]
fn two_of_five_fails_and_a_partial_multiple_answer_is_wrong() {
    let (_d, store) = setup();
    let a = start(&store, PRACTICE);
    give(&store, &a.id, "q1", &["c"]).unwrap();
    give(&store, &a.id, "q2", &["a"]).unwrap();
    give(&store, &a.id, "q3", &["a", "b"]).unwrap();
    let graded = submit_now(&store, &a.id);
    assert_eq!((graded.score_percent, graded.passed), (Some(40), Some(false)));
    assert!(!completed(&store, PRACTICE));
    // Nothing answered: zero, not a division by zero or a pass.
    let empty = submit_now(&store, &start(&store, PRACTICE).id);
    assert_eq!((empty.score_percent, empty.passed), (Some(0), Some(false)));
}

#[test]
fn answers_are_checked_as_given_and_an_empty_one_clears() {
    let (_d, store) = setup();
    let a = start(&store, PRACTICE);
    let bad = |q: &str, c: &[&str]| matches!(give(&store, &a.id, q, c), Err(Error::InvalidArgument(_)));
    assert!(bad("q9", &["a"]), "unknown question");
    assert!(bad("q1", &["z"]), "unknown choice");
    assert!(bad("q1", &["a", "b"]), "one answer only");
    assert!(bad("q3", &["a", "a"]), "a choice twice");
    let with = give(&store, &a.id, "q3", &["a", "b"]).unwrap();
    assert_eq!(with.answers.len(), 1);
    assert_eq!(with.answers[0].choice_ids, ["a", "b"]);
    let changed = give(&store, &a.id, "q3", &["d"]).unwrap();
    assert_eq!(changed.answers[0].choice_ids, ["d"]);
    let cleared = give(&store, &a.id, "q3", &[]).unwrap();
    assert!(cleared.answers.is_empty());
    assert!(give(&store, "no-such-attempt", "q1", &["a"]).is_err());
}

#[test]
fn a_submitted_attempt_takes_no_more_answers_and_no_second_submit() {
    let (_d, store) = setup();
    let a = start(&store, PRACTICE);
    submit_now(&store, &a.id);
    assert!(matches!(give(&store, &a.id, "q1", &["c"]), Err(Error::InvalidArgument(_))));
    assert!(matches!(store.write(|tx| submit(tx, ME, &a.id)), Err(Error::InvalidArgument(_))));
}

#[test]
fn a_graded_quiz_waits_for_the_server() {
    let (_d, store) = setup();
    let a = start(&store, GRADED);
    assert_eq!(a.mode, QuizMode::Graded);
    give(&store, &a.id, "f1", &["a"]).unwrap();
    let sent = submit_now(&store, &a.id);
    assert_eq!(sent.state, AttemptState::SubmittedPending);
    assert_eq!((sent.score_percent, sent.passed), (None, None));
    assert!(sent.results.is_empty());
    assert!(!completed(&store, GRADED));
    assert!(matches!(give(&store, &a.id, "f2", &["a"]), Err(Error::InvalidArgument(_))));
}

#[test]
fn attempts_are_listed_newest_first() {
    let (_d, store) = setup();
    let first = start(&store, PRACTICE);
    let second = start(&store, PRACTICE);
    let ids: Vec<String> = store.read(|c| attempts(c, PRACTICE)).unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(ids, [second.id, first.id]);
    assert!(store.read(|c| attempts(c, GRADED)).unwrap().is_empty());
    assert!(store.write(|tx| start_attempt(tx, ME, "web-basics.reading-urls")).is_err());
}

#[test]
fn attempt_states_have_one_spelling() {
    for (state, text) in [
        (AttemptState::InProgress, "in_progress"),
        (AttemptState::SubmittedPending, "submitted_pending"),
        (AttemptState::Graded, "graded"),
    ] {
        assert_eq!(state.as_str(), text);
        assert_eq!(AttemptState::parse(text), Some(state));
        assert_eq!(serde_json::to_value(state).unwrap(), serde_json::json!(text));
    }
}

fn record(store: &Store, attempt: &str) -> satchel_protocol::records::AttemptRecord {
    store.read(|c| sync_record::load_attempt(c, attempt)).unwrap().unwrap()
}

#[test]
fn the_sync_record_restamps_only_what_changed_and_a_clear_is_a_newer_empty_answer() {
    let (_d, store) = setup();
    let a = start(&store, PRACTICE);
    give(&store, &a.id, "q1", &["c"]).unwrap();
    let q1 = record(&store, &a.id).answers["q1"].clone();
    assert_eq!(q1.choice_ids, ["c"]);
    // Answering another question leaves q1's answer, and its time, as they were.
    give(&store, &a.id, "q2", &["a"]).unwrap();
    assert_eq!(record(&store, &a.id).answers["q1"], q1);

    // A clear must be newer than the answer it clears, even when that answer's time is ahead
    // of this phone's clock (another device's, or a clock set back).
    let mut ahead = record(&store, &a.id);
    let future = now_ms() + 3_600_000;
    ahead.answers.get_mut("q1").unwrap().answered_at_ms = future;
    store
        .write(|tx| {
            let stamp = outbox::stamp(tx, ME)?;
            sync_record::save_local(tx, &Record::QuizAttempt(ahead), &stamp, Priority::Urgent)
        })
        .unwrap();
    give(&store, &a.id, "q1", &[]).unwrap();
    let cleared = record(&store, &a.id).answers["q1"].clone();
    assert!(cleared.choice_ids.is_empty());
    assert_eq!(cleared.answered_at_ms, future + 1);
    // An answer already cleared is not cleared again (its time stays).
    give(&store, &a.id, "q3", &["a"]).unwrap();
    assert_eq!(record(&store, &a.id).answers["q1"], cleared);
    // A changed answer is newer than the one it replaces, however far ahead that one's time is.
    give(&store, &a.id, "q1", &["b"]).unwrap();
    let changed = record(&store, &a.id).answers["q1"].clone();
    assert_eq!((changed.choice_ids.as_slice(), changed.answered_at_ms), (&["b".to_owned()][..], future + 2));
}

#[test]
fn attempts_made_before_sync_get_their_records_once() {
    let (_d, store) = setup();
    let a = start(&store, PRACTICE);
    give(&store, &a.id, "q1", &["c"]).unwrap();
    let with_record = record(&store, &a.id);
    store.write(|tx| Ok(tx.execute("DELETE FROM sync_record WHERE kind = 'quiz_attempt'", [])?)).unwrap();
    assert!(store.read(|c| sync_record::load_attempt(c, &a.id)).unwrap().is_none());
    store.write(|tx| backfill_records(tx, ME)).unwrap();
    let rebuilt = record(&store, &a.id);
    assert_eq!(rebuilt.answers["q1"].choice_ids, with_record.answers["q1"].choice_ids);
    let stamp = rebuilt.clone();
    store.write(|tx| backfill_records(tx, ME)).unwrap();
    assert_eq!(record(&store, &a.id), stamp, "a second backfill changes nothing");
}

#[test]
fn a_practice_attempt_shows_no_answer_keys_until_it_is_submitted() {
    let (_d, store) = setup();
    let a = start(&store, PRACTICE);
    assert!(a.results.is_empty());
    let answered = give(&store, &a.id, "q1", &["c"]).unwrap();
    assert!(answered.results.is_empty(), "no keys while the attempt is open");
    assert!(store.read(|c| attempts(c, PRACTICE)).unwrap()[0].results.is_empty());
    assert_eq!(submit_now(&store, &a.id).results.len(), 5);
}

#[test]
fn a_pulled_attempt_shows_the_answers_given_and_only_a_server_pass_completes_the_lesson() {
    let (_d, store) = setup();
    let answers = BTreeMap::from([
        ("f1".to_owned(), AnswerRecord { answered_at_ms: 10, choice_ids: vec!["b".into()] }),
        ("f2".to_owned(), AnswerRecord { answered_at_ms: 11, choice_ids: Vec::new() }),
    ]);
    let pulled = |id: &str, passed: Option<bool>, graded_by_server: bool| AttemptRecord {
        attempt_id: id.into(),
        lesson_id: GRADED.into(),
        course_id: "web-basics".into(),
        mode: WireMode::Graded,
        state: WireState::Graded,
        answers: answers.clone(),
        started_at_ms: 1,
        submitted_at_ms: Some(2),
        score_percent: Some(40),
        passed,
        graded_by_server,
    };
    store.write(|tx| apply_remote(tx, ME, &pulled("a-fail", Some(false), true))).unwrap();
    let shown = store.read(|c| attempts(c, GRADED)).unwrap();
    let f1 = QuizAnswer { question_id: "f1".into(), choice_ids: vec!["b".into()], answered_at_ms: 10 };
    assert_eq!(shown[0].answers, [f1], "a cleared answer (f2) is no answer");
    assert!(!completed(&store, GRADED), "a fail graded by the server completes nothing");
    store.write(|tx| apply_remote(tx, ME, &pulled("a-claim", Some(true), false))).unwrap();
    assert!(!completed(&store, GRADED), "a pass the server did not grade completes nothing");
    store.write(|tx| apply_remote(tx, ME, &pulled("a-pass", Some(true), true))).unwrap();
    assert!(completed(&store, GRADED));
}
