//! Server-side grading of graded-quiz attempts as they are pushed.
//!
//! The phone never holds a graded quiz's keys, so it submits the attempt as `submitted_pending`
//! and the server grades it here, before the store merges it: the graded version (a later state)
//! wins the merge and every device pulls it back. A grade for a graded quiz is never taken from
//! a phone: a pushed "graded" attempt is graded again from its answers (so a tampered score
//! counts for nothing), and an attempt at a quiz the server holds keys for is graded even if
//! the phone calls it practice. Without a key the attempt is kept pending (not rejected) and
//! logged, and [`grade_stored`] grades it once the key is loaded (`serve` runs it at start).

use satchel_protocol::Record;
use satchel_protocol::messages::PushRequest;
use satchel_protocol::records::{AttemptRecord, AttemptState, QuizMode};

use super::store::{StoreError, SyncStore};
use crate::grading::AnswerKeys;

/// Grades every gradable attempt in `request` in place. Records that fail validation are left
/// as they are, for the store to reject with the reason.
pub fn grade_push(keys: &AnswerKeys, learner: &str, request: &mut PushRequest) {
    for op in &mut request.ops {
        if let Record::QuizAttempt(attempt) = &mut op.record
            && attempt.validate().is_ok()
        {
            *attempt = grade_attempt(keys, learner, attempt.clone());
        }
    }
}

/// Grades every stored pending attempt that `keys` now cover (keys loaded after the attempts
/// came) and stores the grade, so every device pulls it. Returns how many were graded.
pub async fn grade_stored(store: &dyn SyncStore, keys: &AnswerKeys) -> Result<u32, StoreError> {
    if keys.is_empty() {
        return Ok(0);
    }
    let mut graded = 0;
    for (learner, attempt) in store.pending_attempts().await? {
        let after = grade_attempt(keys, &learner, attempt);
        if after.state == AttemptState::Graded
            && store.merge_server_record(&learner, Record::QuizAttempt(after)).await?
        {
            graded += 1;
        }
    }
    Ok(graded)
}

fn grade_attempt(keys: &AnswerKeys, learner: &str, mut attempt: AttemptRecord) -> AttemptRecord {
    let answers = || attempt.answers.iter().map(|(q, a)| (q.as_str(), a.choice_ids.as_slice()));
    let grade = keys.grade(&attempt.course_id, &attempt.lesson_id, answers());
    if grade.is_some() {
        // The server holds a key: this is a graded quiz, whatever the phone says.
        attempt.mode = QuizMode::Graded;
    }
    if attempt.mode != QuizMode::Graded || attempt.state == AttemptState::InProgress {
        return attempt;
    }
    if attempt.state == AttemptState::Graded {
        attempt.state = AttemptState::SubmittedPending;
        attempt.score_percent = None;
        attempt.passed = None;
        attempt.graded_by_server = false;
    }
    let Some(grade) = grade else {
        tracing::warn!(
            learner,
            lesson = %attempt.lesson_id,
            attempt = %attempt.attempt_id,
            "no answer key loaded for this graded quiz: the attempt stays pending"
        );
        return attempt;
    };
    match attempt.clone().graded_by_server(grade.score_percent, grade.passed) {
        Ok(graded) => {
            tracing::info!(learner, lesson = %graded.lesson_id, score = grade.score_percent, "graded an attempt");
            graded
        }
        Err(error) => {
            tracing::warn!(learner, lesson = %attempt.lesson_id, %error, "attempt could not be graded; kept pending");
            attempt
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use satchel_protocol::records::AnswerRecord;

    use super::*;
    use crate::grading::QuizKey;

    fn keys() -> AnswerKeys {
        let correct = BTreeMap::from([
            ("q1".to_owned(), ["a".to_owned()].into()),
            ("q2".to_owned(), ["b".to_owned()].into()),
        ]);
        AnswerKeys::from_keys([(
            "exam".to_owned(),
            QuizKey { course_id: "c".into(), pass_percent: 50, correct },
        )])
    }

    fn attempt(lesson: &str, mode: QuizMode, state: AttemptState) -> AttemptRecord {
        AttemptRecord {
            attempt_id: "att".into(),
            lesson_id: lesson.into(),
            course_id: "c".into(),
            mode,
            state,
            answers: BTreeMap::from([(
                "q1".into(),
                AnswerRecord { answered_at_ms: 1, choice_ids: vec!["a".into()] },
            )]),
            started_at_ms: 0,
            submitted_at_ms: (state != AttemptState::InProgress).then_some(5),
            score_percent: None,
            passed: None,
            graded_by_server: false,
        }
    }

    #[test]
    fn a_submitted_attempt_is_graded_by_the_server() {
        let graded =
            grade_attempt(&keys(), "l", attempt("exam", QuizMode::Graded, AttemptState::SubmittedPending));
        assert_eq!(graded.state, AttemptState::Graded);
        assert_eq!(
            (graded.score_percent, graded.passed, graded.graded_by_server),
            (Some(50), Some(true), true)
        );
        assert!(graded.validate().is_ok());
    }

    #[test]
    fn without_a_key_it_stays_pending_and_in_progress_is_untouched() {
        let pending = attempt("other", QuizMode::Graded, AttemptState::SubmittedPending);
        assert_eq!(grade_attempt(&keys(), "l", pending.clone()), pending);
        let open = attempt("exam", QuizMode::Graded, AttemptState::InProgress);
        assert_eq!(grade_attempt(&keys(), "l", open.clone()), open);
    }

    #[test]
    fn a_phone_cannot_grade_a_graded_quiz_itself() {
        let mut forged = attempt("exam", QuizMode::Graded, AttemptState::Graded);
        (forged.score_percent, forged.passed, forged.graded_by_server) = (Some(100), Some(true), true);
        let regraded = grade_attempt(&keys(), "l", forged);
        assert_eq!(regraded.score_percent, Some(50));
        // Calling it practice does not help either.
        let mut practice = attempt("exam", QuizMode::Practice, AttemptState::Graded);
        (practice.score_percent, practice.passed) = (Some(100), Some(true));
        let regraded = grade_attempt(&keys(), "l", practice);
        assert_eq!(
            (regraded.mode, regraded.score_percent, regraded.graded_by_server),
            (QuizMode::Graded, Some(50), true)
        );
    }
}
