//! One quiz attempt. Attempts are never deleted and never lost; once submitted they are
//! immutable, and a graded quiz's grade comes from the server.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{RecordError, check_id, check_len, check_time, limits};
use crate::lattice::max_by_canonical;

/// How a quiz is graded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "lowercase")]
pub enum QuizMode {
    /// Graded on the phone from the published key.
    Practice,
    /// Submitted on sync and graded by the server.
    Graded,
}

/// Where an attempt stands. The order is the merge order: a later state always wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum AttemptState {
    InProgress,
    /// A graded quiz submitted on the phone, waiting for the server to grade it.
    SubmittedPending,
    Graded,
}

/// One answer as given. Ordered by time first, so the later answer to a question wins while an
/// attempt is in progress.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerRecord {
    pub answered_at_ms: i64,
    pub choice_ids: Vec<String>,
}

/// A quiz attempt, keyed by `attempt_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttemptRecord {
    pub attempt_id: String,
    pub lesson_id: String,
    pub course_id: String,
    pub mode: QuizMode,
    pub state: AttemptState,
    /// Answers by question id.
    pub answers: BTreeMap<String, AnswerRecord>,
    pub started_at_ms: i64,
    pub submitted_at_ms: Option<i64>,
    pub score_percent: Option<u8>,
    pub passed: Option<bool>,
    /// True when the server graded it (always so for a graded quiz in state `graded`).
    pub graded_by_server: bool,
}

impl AttemptRecord {
    /// The join of two states of one attempt.
    ///
    /// The lattice is "state first": the version in the later state wins as a whole, because
    /// a submitted attempt is immutable (its answers are what was graded). Two versions in the
    /// same state:
    /// - in progress (only the device that started it writes it): answers join per question,
    ///   the later answer winning; the start time is the earliest.
    /// - submitted or graded (immutable, so equal in valid use): a server grade beats a phone's,
    ///   and otherwise the larger version by its JSON text, the same on every replica.
    pub fn merge(self, other: AttemptRecord) -> AttemptRecord {
        match self.state.cmp(&other.state) {
            std::cmp::Ordering::Greater => return self,
            std::cmp::Ordering::Less => return other,
            std::cmp::Ordering::Equal => {}
        }
        if self.state != AttemptState::InProgress {
            return match self.graded_by_server.cmp(&other.graded_by_server) {
                std::cmp::Ordering::Greater => self,
                std::cmp::Ordering::Less => other,
                std::cmp::Ordering::Equal => max_by_canonical(self, other),
            };
        }
        let mut answers = self.answers;
        for (question, answer) in other.answers {
            answers
                .entry(question)
                .and_modify(|mine| *mine = mine.clone().max(answer.clone()))
                .or_insert(answer);
        }
        AttemptRecord {
            // Identity fields are equal for one attempt; `max` keeps a bad client from making
            // merge depend on argument order.
            attempt_id: self.attempt_id.max(other.attempt_id),
            lesson_id: self.lesson_id.max(other.lesson_id),
            course_id: self.course_id.max(other.course_id),
            mode: self.mode.max(other.mode),
            state: self.state,
            answers,
            started_at_ms: self.started_at_ms.min(other.started_at_ms),
            // `None` in valid in-progress attempts; joined anyway so merge is total.
            submitted_at_ms: self.submitted_at_ms.max(other.submitted_at_ms),
            score_percent: self.score_percent.max(other.score_percent),
            passed: self.passed.max(other.passed),
            graded_by_server: self.graded_by_server || other.graded_by_server,
        }
    }

    /// The server's grade for a submitted graded-quiz attempt: the same answers, now `graded`.
    pub fn graded_by_server(mut self, score_percent: u8, passed: bool) -> Result<AttemptRecord, RecordError> {
        if self.mode != QuizMode::Graded || self.state != AttemptState::SubmittedPending {
            return Err(RecordError::WrongState(self.state));
        }
        if score_percent > 100 {
            return Err(RecordError::OutOfRange { field: "score_percent", reason: "must be at most 100" });
        }
        self.state = AttemptState::Graded;
        self.score_percent = Some(score_percent);
        self.passed = Some(passed);
        self.graded_by_server = true;
        Ok(self)
    }

    /// Checks ids, limits and that the fields fit the state.
    pub fn validate(&self) -> Result<(), RecordError> {
        check_id("attempt_id", &self.attempt_id)?;
        check_id("lesson_id", &self.lesson_id)?;
        check_id("course_id", &self.course_id)?;
        check_time("started_at_ms", self.started_at_ms)?;
        check_len("answers", self.answers.len(), limits::ANSWERS)?;
        for (question, answer) in &self.answers {
            check_id("answers question id", question)?;
            check_time("answered_at_ms", answer.answered_at_ms)?;
            check_len("choice_ids", answer.choice_ids.len(), limits::CHOICES)?;
            for choice in &answer.choice_ids {
                check_id("choice_ids", choice)?;
            }
        }
        if let Some(at) = self.submitted_at_ms {
            check_time("submitted_at_ms", at)?;
        }
        if self.score_percent.is_some_and(|s| s > 100) {
            return Err(RecordError::OutOfRange { field: "score_percent", reason: "must be at most 100" });
        }
        let submitted = self.submitted_at_ms.is_some();
        let graded = self.score_percent.is_some() && self.passed.is_some();
        let ungraded = self.score_percent.is_none() && self.passed.is_none();
        let consistent = match self.state {
            AttemptState::InProgress => !submitted && ungraded && !self.graded_by_server,
            AttemptState::SubmittedPending => {
                self.mode == QuizMode::Graded && submitted && ungraded && !self.graded_by_server
            }
            // A practice quiz is graded on the phone; a graded quiz only ever by the server.
            AttemptState::Graded => {
                submitted && graded && (self.mode == QuizMode::Practice || self.graded_by_server)
            }
        };
        if consistent {
            Ok(())
        } else {
            Err(RecordError::Inconsistent("attempt fields do not fit its state and mode"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn attempt(state: AttemptState) -> AttemptRecord {
        let mut a = AttemptRecord {
            attempt_id: "att-1".into(),
            lesson_id: "quiz-1".into(),
            course_id: "c1".into(),
            mode: QuizMode::Graded,
            state: AttemptState::InProgress,
            answers: BTreeMap::from([(
                "q1".into(),
                AnswerRecord { answered_at_ms: 10, choice_ids: vec!["a".into()] },
            )]),
            started_at_ms: 5,
            submitted_at_ms: None,
            score_percent: None,
            passed: None,
            graded_by_server: false,
        };
        if state >= AttemptState::SubmittedPending {
            a.state = AttemptState::SubmittedPending;
            a.submitted_at_ms = Some(20);
        }
        if state == AttemptState::Graded {
            a = a.graded_by_server(80, true).unwrap();
        }
        a
    }

    #[test]
    fn a_later_state_wins_whole() {
        let mut in_progress = attempt(AttemptState::InProgress);
        in_progress
            .answers
            .insert("q2".into(), AnswerRecord { answered_at_ms: 99, choice_ids: vec!["b".into()] });
        let submitted = attempt(AttemptState::SubmittedPending);
        let graded = attempt(AttemptState::Graded);
        assert_eq!(in_progress.clone().merge(submitted.clone()), submitted);
        assert_eq!(submitted.clone().merge(in_progress.clone()), submitted);
        assert_eq!(submitted.clone().merge(graded.clone()), graded);
        assert_eq!(graded.clone().merge(submitted), graded);
        assert_eq!(graded.clone().merge(in_progress), graded, "a late in-progress copy never reopens it");
        assert_eq!(graded.score_percent, Some(80));
    }

    #[test]
    fn in_progress_answers_join_per_question() {
        let mut a = attempt(AttemptState::InProgress);
        let mut b = attempt(AttemptState::InProgress);
        a.answers.insert("q1".into(), AnswerRecord { answered_at_ms: 30, choice_ids: vec!["c".into()] });
        b.answers.insert("q2".into(), AnswerRecord { answered_at_ms: 40, choice_ids: vec!["d".into()] });
        b.started_at_ms = 2;
        let m = a.clone().merge(b.clone());
        assert_eq!(m, b.merge(a));
        assert_eq!(m.answers["q1"].choice_ids, vec!["c".to_owned()], "the later answer");
        assert_eq!(m.answers["q2"].choice_ids, vec!["d".to_owned()]);
        assert_eq!(m.started_at_ms, 2);
        assert_eq!(m.state, AttemptState::InProgress);
    }

    #[test]
    fn in_progress_merge_joins_even_stray_fields() {
        // Valid in-progress attempts have none of these set; merge still joins them so that it
        // stays commutative on bad input.
        let a = AttemptRecord {
            graded_by_server: true,
            score_percent: Some(5),
            ..attempt(AttemptState::InProgress)
        };
        let b = AttemptRecord {
            submitted_at_ms: Some(9),
            passed: Some(true),
            ..attempt(AttemptState::InProgress)
        };
        for m in [a.clone().merge(b.clone()), b.merge(a)] {
            assert!(m.graded_by_server);
            assert_eq!((m.score_percent, m.submitted_at_ms, m.passed), (Some(5), Some(9), Some(true)));
        }
    }

    #[test]
    fn a_server_grade_beats_a_phone_grade_in_the_same_state() {
        let server = attempt(AttemptState::Graded);
        let mut phone = server.clone();
        phone.graded_by_server = false;
        phone.score_percent = Some(100);
        assert_eq!(server.clone().merge(phone.clone()), server);
        assert_eq!(phone.merge(server.clone()), server);
    }

    #[test]
    fn server_grading_needs_a_submitted_graded_quiz() {
        assert_eq!(
            attempt(AttemptState::InProgress).graded_by_server(50, false),
            Err(RecordError::WrongState(AttemptState::InProgress))
        );
        assert_eq!(
            attempt(AttemptState::Graded).graded_by_server(50, false),
            Err(RecordError::WrongState(AttemptState::Graded))
        );
        let mut practice = attempt(AttemptState::SubmittedPending);
        practice.mode = QuizMode::Practice;
        assert!(practice.graded_by_server(50, false).is_err());
        assert!(attempt(AttemptState::SubmittedPending).graded_by_server(101, false).is_err());
        let graded = attempt(AttemptState::SubmittedPending).graded_by_server(100, false).unwrap();
        assert_eq!(
            (graded.score_percent, graded.passed, graded.graded_by_server),
            (Some(100), Some(false), true)
        );
        assert_eq!(graded.validate(), Ok(()));
    }

    #[test]
    fn validate_checks_state_consistency() {
        for state in [AttemptState::InProgress, AttemptState::SubmittedPending, AttemptState::Graded] {
            assert_eq!(attempt(state).validate(), Ok(()), "{state:?}");
        }
        let mut practice_graded = attempt(AttemptState::InProgress);
        practice_graded.mode = QuizMode::Practice;
        practice_graded.state = AttemptState::Graded;
        practice_graded.submitted_at_ms = Some(9);
        practice_graded.score_percent = Some(50);
        practice_graded.passed = Some(false);
        assert_eq!(practice_graded.validate(), Ok(()));

        let inconsistent = [
            AttemptRecord { submitted_at_ms: Some(1), ..attempt(AttemptState::InProgress) },
            AttemptRecord { score_percent: Some(1), ..attempt(AttemptState::InProgress) },
            AttemptRecord { passed: Some(true), ..attempt(AttemptState::InProgress) },
            AttemptRecord { graded_by_server: true, ..attempt(AttemptState::InProgress) },
            AttemptRecord { submitted_at_ms: None, ..attempt(AttemptState::SubmittedPending) },
            AttemptRecord { mode: QuizMode::Practice, ..attempt(AttemptState::SubmittedPending) },
            AttemptRecord { score_percent: Some(1), ..attempt(AttemptState::SubmittedPending) },
            AttemptRecord { passed: Some(true), ..attempt(AttemptState::SubmittedPending) },
            AttemptRecord { graded_by_server: true, ..attempt(AttemptState::SubmittedPending) },
            AttemptRecord { graded_by_server: false, ..attempt(AttemptState::Graded) },
            AttemptRecord { score_percent: None, ..attempt(AttemptState::Graded) },
            AttemptRecord { passed: None, ..attempt(AttemptState::Graded) },
            AttemptRecord { submitted_at_ms: None, ..attempt(AttemptState::Graded) },
        ];
        for bad in inconsistent {
            assert!(matches!(bad.validate(), Err(RecordError::Inconsistent(_))), "{bad:?}");
        }
        let mut bad_range = attempt(AttemptState::Graded);
        bad_range.score_percent = Some(101);
        assert!(matches!(bad_range.validate(), Err(RecordError::OutOfRange { field: "score_percent", .. })));
        let bad_fields = [
            (AttemptRecord { attempt_id: "".into(), ..attempt(AttemptState::InProgress) }, "attempt_id"),
            (AttemptRecord { lesson_id: "x y".into(), ..attempt(AttemptState::InProgress) }, "lesson_id"),
            (AttemptRecord { course_id: "..".into(), ..attempt(AttemptState::InProgress) }, "course_id"),
            (AttemptRecord { started_at_ms: -1, ..attempt(AttemptState::InProgress) }, "started_at_ms"),
            (
                AttemptRecord { submitted_at_ms: Some(-1), ..attempt(AttemptState::SubmittedPending) },
                "submitted_at_ms",
            ),
        ];
        for (bad, field) in bad_fields {
            assert!(bad.validate().unwrap_err().to_string().contains(field), "{field}");
        }
        let mut answers = attempt(AttemptState::InProgress);
        answers.answers.insert("q/x".into(), AnswerRecord { answered_at_ms: 1, choice_ids: vec![] });
        assert!(answers.validate().unwrap_err().to_string().contains("question id"));
        let mut answers = attempt(AttemptState::InProgress);
        answers.answers.insert("q2".into(), AnswerRecord { answered_at_ms: -1, choice_ids: vec![] });
        assert!(answers.validate().unwrap_err().to_string().contains("answered_at_ms"));
        let mut answers = attempt(AttemptState::InProgress);
        answers
            .answers
            .insert("q2".into(), AnswerRecord { answered_at_ms: 1, choice_ids: vec!["a b".into()] });
        assert!(answers.validate().unwrap_err().to_string().contains("choice_ids"));
        let mut answers = attempt(AttemptState::InProgress);
        answers
            .answers
            .insert("q2".into(), AnswerRecord { answered_at_ms: 1, choice_ids: vec!["a".into(); 65] });
        assert!(matches!(answers.validate(), Err(RecordError::TooLarge { field: "choice_ids", .. })));
        let mut answers = attempt(AttemptState::InProgress);
        answers.answers = (0..1_001)
            .map(|i| (format!("q{i}"), AnswerRecord { answered_at_ms: 1, choice_ids: vec![] }))
            .collect();
        assert!(matches!(answers.validate(), Err(RecordError::TooLarge { field: "answers", .. })));
        answers.answers.pop_last();
        assert_eq!(answers.validate(), Ok(()));
    }
}
