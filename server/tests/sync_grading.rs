//! Graded quizzes over HTTP: a submitted attempt is graded by the server and every device
//! pulls the grade back; without a key it stays pending; a phone's own grade never counts.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod support;

use std::collections::{BTreeMap, BTreeSet};

use satchel_protocol::Record;
use satchel_protocol::records::{AnswerRecord, AttemptRecord, AttemptState, QuizMode};
use satchel_server::grading::{AnswerKeys, QuizKey};
use satchel_server::sync::rate_limit::RateLimit;
use support::ops;

fn keys() -> AnswerKeys {
    let correct: BTreeMap<String, BTreeSet<String>> = [("f1", "a"), ("f2", "a"), ("f3", "b")]
        .into_iter()
        .map(|(q, c)| (q.to_owned(), BTreeSet::from([c.to_owned()])))
        .collect();
    AnswerKeys::from_keys([(
        "web-basics.final-quiz".to_owned(),
        QuizKey { course_id: "web-basics".into(), pass_percent: 70, correct },
    )])
}

fn submitted(attempt_id: &str, lesson: &str, answers: &[(&str, &str)]) -> AttemptRecord {
    AttemptRecord {
        attempt_id: attempt_id.into(),
        lesson_id: lesson.into(),
        course_id: "web-basics".into(),
        mode: QuizMode::Graded,
        state: AttemptState::SubmittedPending,
        answers: answers
            .iter()
            .map(|(q, c)| {
                (q.to_string(), AnswerRecord { answered_at_ms: 10, choice_ids: vec![c.to_string()] })
            })
            .collect(),
        started_at_ms: 1,
        submitted_at_ms: Some(20),
        score_percent: None,
        passed: None,
        graded_by_server: false,
    }
}

fn attempt_in(records: &[Record], id: &str) -> AttemptRecord {
    records
        .iter()
        .find_map(|r| match r {
            Record::QuizAttempt(a) if a.attempt_id == id => Some(a.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("attempt {id} not pulled"))
}

#[tokio::test]
async fn a_submitted_attempt_is_graded_by_the_server_and_pulled_by_every_device() {
    let server = support::start_with(RateLimit::default(), keys()).await;
    server.register("amina", "phone").await;
    server.register("amina", "tablet").await;
    let answers = [("f1", "a"), ("f2", "a"), ("f3", "a")];
    let pushed = server
        .push_ok(
            "amina",
            "phone",
            ops(
                1,
                vec![
                    submitted("att-1", "web-basics.final-quiz", &answers).into(),
                    submitted("att-2", "other-course.exam", &answers).into(),
                ],
            ),
        )
        .await;
    assert_eq!(pushed.applied_through, 2, "an attempt without a key is kept, not rejected");
    for device in ["phone", "tablet"] {
        let (records, _) = server.pull_all("amina", device, 0).await;
        let graded = attempt_in(&records, "att-1");
        assert_eq!(graded.state, AttemptState::Graded);
        assert_eq!(
            (graded.score_percent, graded.passed, graded.graded_by_server),
            (Some(66), Some(false), true)
        );
        let pending = attempt_in(&records, "att-2");
        assert_eq!((pending.state, pending.score_percent), (AttemptState::SubmittedPending, None));
    }
}

#[tokio::test]
async fn a_phone_cannot_pass_a_graded_quiz_by_grading_it_itself() {
    let server = support::start_with(RateLimit::default(), keys()).await;
    server.register("amina", "phone").await;
    let mut forged = submitted("att-1", "web-basics.final-quiz", &[("f1", "c")]);
    forged.state = AttemptState::Graded;
    (forged.score_percent, forged.passed, forged.graded_by_server) = (Some(100), Some(true), true);
    server.push_ok("amina", "phone", ops(1, vec![forged.into()])).await;
    let (records, _) = server.pull_all("amina", "phone", 0).await;
    let stored = attempt_in(&records, "att-1");
    assert_eq!((stored.score_percent, stored.passed), (Some(0), Some(false)));
}
