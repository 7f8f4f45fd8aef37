//! Quizzes offline: answers stored the moment they are given, practice quizzes graded on the
//! phone from the published key, graded quizzes kept as submitted-pending until the server
//! grades them on sync.

use std::collections::{BTreeMap, BTreeSet};

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use satchel_protocol::Record;
use satchel_protocol::records::{
    AnswerRecord, AttemptRecord, AttemptState as WireState, QuizMode as WireMode,
};
use serde::{Deserialize, Serialize};

use super::progress;
use crate::catalog::{self, LessonKind, QuestionEntry, QuizMode};
use crate::error::{Error, Result};
use crate::outbox::{self, Priority};
use crate::sync::local as sync_record;
use crate::time::now_ms;

/// A quiz as the learner sees it: no answer keys.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Quiz {
    pub lesson_id: String,
    pub mode: QuizMode,
    pub pass_percent: i32,
    pub questions: Vec<QuizQuestion>,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QuizQuestion {
    pub id: String,
    pub prompt: String,
    pub choices: Vec<QuizChoice>,
    pub multiple_answers: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QuizChoice {
    pub id: String,
    pub text: String,
}

/// Where an attempt stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, uniffi::Enum)]
#[serde(rename_all = "snake_case")]
pub enum AttemptState {
    InProgress,
    /// A graded quiz submitted on the phone, waiting for the server to grade it on sync.
    SubmittedPending,
    Graded,
}

crate::store::sql_text_enum!(AttemptState {
    InProgress => "in_progress",
    SubmittedPending => "submitted_pending",
    Graded => "graded",
});

/// One answer as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, uniffi::Record)]
pub struct QuizAnswer {
    pub question_id: String,
    pub choice_ids: Vec<String>,
    pub answered_at_ms: i64,
}

/// How one question went, for a graded practice attempt.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QuestionResult {
    pub question_id: String,
    pub correct: bool,
    pub correct_choice_ids: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct QuizAttempt {
    pub id: String,
    pub lesson_id: String,
    pub mode: QuizMode,
    pub state: AttemptState,
    pub answers: Vec<QuizAnswer>,
    pub started_at_ms: i64,
    pub submitted_at_ms: Option<i64>,
    pub score_percent: Option<i32>,
    pub passed: Option<bool>,
    /// Per question, once a practice attempt is graded; empty otherwise.
    pub results: Vec<QuestionResult>,
}

struct QuizContent {
    course_id: String,
    mode: QuizMode,
    pass_percent: u8,
    questions: Vec<QuestionEntry>,
}

fn load_content(conn: &Connection, lesson_id: &str) -> Result<QuizContent> {
    let facts = catalog::lesson_facts(conn, lesson_id)?;
    if facts.kind != LessonKind::Quiz {
        return Err(Error::invalid(format!("lesson {lesson_id:?} is not a quiz")));
    }
    let (mode, pass_percent, questions): (QuizMode, u8, String) = conn
        .prepare_cached("SELECT mode, pass_percent, questions FROM quiz WHERE lesson_id = ?1")?
        .query_row([lesson_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| Error::not_found("quiz", lesson_id))?;
    let questions = serde_json::from_str(&questions)
        .map_err(|e| Error::corrupt("quiz", format!("the questions of {lesson_id:?}: {e}")))?;
    Ok(QuizContent { course_id: facts.course_id, mode, pass_percent, questions })
}

/// The questions of a quiz lesson, without answer keys.
pub fn quiz(conn: &Connection, lesson_id: &str) -> Result<Quiz> {
    let content = load_content(conn, lesson_id)?;
    Ok(Quiz {
        lesson_id: lesson_id.to_owned(),
        mode: content.mode,
        pass_percent: i32::from(content.pass_percent),
        questions: content
            .questions
            .into_iter()
            .map(|q| QuizQuestion {
                id: q.id,
                prompt: q.prompt,
                choices: q.choices.into_iter().map(|c| QuizChoice { id: c.id, text: c.text }).collect(),
                multiple_answers: q.multiple,
            })
            .collect(),
    })
}

/// Starts a new attempt.
pub fn start_attempt(tx: &Transaction<'_>, device_id: &str, lesson_id: &str) -> Result<QuizAttempt> {
    let content = load_content(tx, lesson_id)?;
    let row = AttemptRow {
        id: uuid::Uuid::now_v7().to_string(),
        lesson_id: lesson_id.to_owned(),
        course_id: content.course_id.clone(),
        mode: content.mode,
        state: AttemptState::InProgress,
        answers: BTreeMap::new(),
        started_at_ms: now_ms(),
        submitted_at_ms: None,
        score_percent: None,
        passed: None,
    };
    tx.prepare_cached(
        "INSERT INTO quiz_attempt (id, lesson_id, course_id, mode, state, answers, started_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, '{}', ?6)",
    )?
    .execute(params![row.id, row.lesson_id, row.course_id, row.mode, row.state, row.started_at_ms])?;
    row.record(tx, device_id)?;
    Ok(row.public(&content))
}

/// Stores an answer the moment it is given. An empty `choice_ids` clears the answer.
pub fn answer(
    tx: &Transaction<'_>,
    device_id: &str,
    attempt_id: &str,
    question_id: &str,
    choice_ids: Vec<String>,
) -> Result<QuizAttempt> {
    let mut row = AttemptRow::load(tx, attempt_id)?;
    if row.state != AttemptState::InProgress {
        return Err(Error::invalid(format!("attempt {attempt_id:?} was already submitted")));
    }
    let content = load_content(tx, &row.lesson_id)?;
    let question = content
        .questions
        .iter()
        .find(|q| q.id == question_id)
        .ok_or_else(|| Error::invalid(format!("the quiz has no question {question_id:?}")))?;
    let chosen: BTreeSet<&str> = choice_ids.iter().map(String::as_str).collect();
    if chosen.len() != choice_ids.len() {
        return Err(Error::invalid("a choice was given twice"));
    }
    if let Some(unknown) = chosen.iter().find(|c| !question.choices.iter().any(|q| q.id == **c)) {
        return Err(Error::invalid(format!("question {question_id:?} has no choice {unknown:?}")));
    }
    if !question.multiple && chosen.len() > 1 {
        return Err(Error::invalid(format!("question {question_id:?} takes one answer")));
    }
    if choice_ids.is_empty() {
        row.answers.remove(question_id);
    } else {
        let answer = QuizAnswer { question_id: question_id.to_owned(), choice_ids, answered_at_ms: now_ms() };
        row.answers.insert(question_id.to_owned(), answer);
    }
    row.save(tx, device_id)?;
    Ok(row.public(&content))
}

/// Submits an attempt: a practice quiz is graded now (and a pass completes the lesson); a graded
/// quiz waits for the server.
pub fn submit(tx: &Transaction<'_>, device_id: &str, attempt_id: &str) -> Result<QuizAttempt> {
    let mut row = AttemptRow::load(tx, attempt_id)?;
    if row.state != AttemptState::InProgress {
        return Err(Error::invalid(format!("attempt {attempt_id:?} was already submitted")));
    }
    let content = load_content(tx, &row.lesson_id)?;
    row.submitted_at_ms = Some(now_ms());
    match row.mode {
        QuizMode::Practice => {
            let correct = content.questions.iter().filter(|q| is_correct(q, row.answers.get(&q.id))).count();
            let score = (correct * 100 / content.questions.len().max(1)) as u8;
            let passed = score >= content.pass_percent;
            row.state = AttemptState::Graded;
            row.score_percent = Some(score);
            row.passed = Some(passed);
        }
        QuizMode::Graded => row.state = AttemptState::SubmittedPending,
    }
    // The attempt is queued before the completion it earns, so on a metered link (both urgent,
    // oldest first) the server never holds a completion without the pass behind it.
    row.save(tx, device_id)?;
    if row.passed == Some(true) {
        progress::mark_complete(tx, device_id, &row.lesson_id, &row.course_id)?;
    }
    Ok(row.public(&content))
}

/// Every attempt at a quiz, newest first.
pub fn attempts(conn: &Connection, lesson_id: &str) -> Result<Vec<QuizAttempt>> {
    let content = load_content(conn, lesson_id)?;
    let ids: Vec<String> = conn
        .prepare_cached(
            "SELECT id FROM quiz_attempt WHERE lesson_id = ?1 ORDER BY started_at_ms DESC, id DESC",
        )?
        .query_map([lesson_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    ids.iter().map(|id| Ok(AttemptRow::load(conn, id)?.public(&content))).collect()
}

fn is_correct(question: &QuestionEntry, answer: Option<&QuizAnswer>) -> bool {
    let Some(answer) = answer else { return false };
    let given: BTreeSet<&str> = answer.choice_ids.iter().map(String::as_str).collect();
    let key: BTreeSet<&str> = question.correct.iter().map(String::as_str).collect();
    !key.is_empty() && given == key
}

/// The columns of a `quiz_attempt` row, before the JSON ones are parsed.
struct StoredAttempt {
    lesson_id: String,
    course_id: String,
    mode: QuizMode,
    state: AttemptState,
    answers: String,
    started_at_ms: i64,
    submitted_at_ms: Option<i64>,
    score_percent: Option<u8>,
    passed: Option<bool>,
}

struct AttemptRow {
    id: String,
    lesson_id: String,
    course_id: String,
    mode: QuizMode,
    state: AttemptState,
    answers: BTreeMap<String, QuizAnswer>,
    started_at_ms: i64,
    submitted_at_ms: Option<i64>,
    score_percent: Option<u8>,
    passed: Option<bool>,
}

impl AttemptRow {
    fn load(conn: &Connection, attempt_id: &str) -> Result<AttemptRow> {
        let row = conn
            .prepare_cached(
                "SELECT lesson_id, course_id, mode, state, answers, started_at_ms, submitted_at_ms,
                        score_percent, passed
                 FROM quiz_attempt WHERE id = ?1",
            )?
            .query_row([attempt_id], |r| {
                Ok(StoredAttempt {
                    lesson_id: r.get(0)?,
                    course_id: r.get(1)?,
                    mode: r.get(2)?,
                    state: r.get(3)?,
                    answers: r.get(4)?,
                    started_at_ms: r.get(5)?,
                    submitted_at_ms: r.get(6)?,
                    score_percent: r.get(7)?,
                    passed: r.get(8)?,
                })
            })
            .optional()?
            .ok_or_else(|| Error::not_found("quiz attempt", attempt_id))?;
        Ok(AttemptRow {
            id: attempt_id.to_owned(),
            lesson_id: row.lesson_id,
            course_id: row.course_id,
            mode: row.mode,
            state: row.state,
            answers: serde_json::from_str(&row.answers)
                .map_err(|e| Error::corrupt("quiz answers", e.to_string()))?,
            started_at_ms: row.started_at_ms,
            submitted_at_ms: row.submitted_at_ms,
            score_percent: row.score_percent,
            passed: row.passed,
        })
    }

    fn save(&self, tx: &Transaction<'_>, device_id: &str) -> Result<()> {
        let answers = serde_json::to_string(&self.answers)?;
        tx.prepare_cached(
            "UPDATE quiz_attempt SET state = ?2, answers = ?3, submitted_at_ms = ?4, score_percent = ?5, passed = ?6
             WHERE id = ?1",
        )?
        .execute(params![self.id, self.state, answers, self.submitted_at_ms, self.score_percent, self.passed])?;
        self.record(tx, device_id)
    }

    /// Folds the row into the attempt's sync record and queues it. A cleared answer stays in
    /// the record as an empty, newer answer: merge is a join, so a removed entry would come back.
    fn record(&self, tx: &Transaction<'_>, device_id: &str) -> Result<()> {
        let stamp = outbox::stamp(tx, device_id)?;
        let previous = sync_record::load_attempt(tx, &self.id)?;
        let mut answers = previous.as_ref().map(|r| r.answers.clone()).unwrap_or_default();
        let now = now_ms();
        for (question, answer) in answers.iter_mut() {
            if !self.answers.contains_key(question) && !answer.choice_ids.is_empty() {
                *answer = AnswerRecord {
                    answered_at_ms: now.max(answer.answered_at_ms + 1),
                    choice_ids: Vec::new(),
                };
            }
        }
        for (question, answer) in &self.answers {
            let earlier = answers.get(question);
            if earlier.is_some_and(|e| e.choice_ids == answer.choice_ids) {
                continue;
            }
            // Later than the version it replaces, even if the wall clock went back.
            let at = answer.answered_at_ms.max(earlier.map_or(0, |e| e.answered_at_ms + 1));
            answers.insert(
                question.clone(),
                AnswerRecord { answered_at_ms: at, choice_ids: answer.choice_ids.clone() },
            );
        }
        let mine = AttemptRecord {
            attempt_id: self.id.clone(),
            lesson_id: self.lesson_id.clone(),
            course_id: self.course_id.clone(),
            mode: wire_mode(self.mode),
            state: wire_state(self.state),
            answers,
            started_at_ms: self.started_at_ms,
            submitted_at_ms: self.submitted_at_ms,
            score_percent: self.score_percent,
            passed: self.passed,
            graded_by_server: false,
        };
        let record = match previous {
            Some(previous) => previous.merge(mine),
            None => mine,
        };
        sync_record::save_local(tx, &Record::QuizAttempt(record), &stamp, Priority::Urgent)
    }

    fn public(&self, content: &QuizContent) -> QuizAttempt {
        let results = if self.mode == QuizMode::Practice && self.state == AttemptState::Graded {
            content
                .questions
                .iter()
                .map(|q| QuestionResult {
                    question_id: q.id.clone(),
                    correct: is_correct(q, self.answers.get(&q.id)),
                    correct_choice_ids: q.correct.clone(),
                })
                .collect()
        } else {
            Vec::new()
        };
        QuizAttempt {
            id: self.id.clone(),
            lesson_id: self.lesson_id.clone(),
            mode: self.mode,
            state: self.state,
            answers: self.answers.values().cloned().collect(),
            started_at_ms: self.started_at_ms,
            submitted_at_ms: self.submitted_at_ms,
            score_percent: self.score_percent.map(i32::from),
            passed: self.passed,
            results,
        }
    }
}

/// Builds the sync records of attempts made before sync existed.
pub(crate) fn backfill_records(tx: &Transaction<'_>, device_id: &str) -> Result<()> {
    let ids: Vec<String> = tx
        .prepare_cached(
            "SELECT id FROM quiz_attempt a WHERE NOT EXISTS
                 (SELECT 1 FROM sync_record r WHERE r.kind = 'quiz_attempt' AND r.entity_id = a.id)",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        AttemptRow::load(tx, &id)?.record(tx, device_id)?;
    }
    Ok(())
}

/// Stores an attempt as a record pulled from the server (merged with the local one) says. A
/// graded quiz the server passed completes its lesson, as a practice pass does on the phone.
pub(crate) fn apply_remote(tx: &Transaction<'_>, device_id: &str, record: &AttemptRecord) -> Result<()> {
    let answers: BTreeMap<String, QuizAnswer> = record
        .answers
        .iter()
        .filter(|(_, a)| !a.choice_ids.is_empty())
        .map(|(question, a)| {
            let answer = QuizAnswer {
                question_id: question.clone(),
                choice_ids: a.choice_ids.clone(),
                answered_at_ms: a.answered_at_ms,
            };
            (question.clone(), answer)
        })
        .collect();
    let answers = serde_json::to_string(&answers).map_err(|e| Error::Internal(e.to_string()))?;
    let mode = local_mode(record.mode);
    let state =
        serde_json::to_value(local_state(record.state)).map_err(|e| Error::Internal(e.to_string()))?;
    tx.prepare_cached(
        "INSERT INTO quiz_attempt (id, lesson_id, course_id, mode, state, answers, started_at_ms,
                                   submitted_at_ms, score_percent, passed)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, answers = excluded.answers,
             started_at_ms = excluded.started_at_ms, submitted_at_ms = excluded.submitted_at_ms,
             score_percent = excluded.score_percent, passed = excluded.passed",
    )?
    .execute(params![
        record.attempt_id,
        record.lesson_id,
        record.course_id,
        mode,
        state.as_str(),
        answers,
        record.started_at_ms,
        record.submitted_at_ms,
        record.score_percent,
        record.passed
    ])?;
    if record.graded_by_server && record.passed == Some(true) {
        progress::mark_complete(tx, device_id, &record.lesson_id, &record.course_id)?;
    }
    Ok(())
}

fn wire_mode(mode: QuizMode) -> WireMode {
    match mode {
        QuizMode::Practice => WireMode::Practice,
        QuizMode::Graded => WireMode::Graded,
    }
}

fn local_mode(mode: WireMode) -> QuizMode {
    match mode {
        WireMode::Practice => QuizMode::Practice,
        WireMode::Graded => QuizMode::Graded,
    }
}

fn wire_state(state: AttemptState) -> WireState {
    match state {
        AttemptState::InProgress => WireState::InProgress,
        AttemptState::SubmittedPending => WireState::SubmittedPending,
        AttemptState::Graded => WireState::Graded,
    }
}

fn local_state(state: WireState) -> AttemptState {
    match state {
        WireState::InProgress => AttemptState::InProgress,
        WireState::SubmittedPending => AttemptState::SubmittedPending,
        WireState::Graded => AttemptState::Graded,
    }
}

#[cfg(test)]
#[path = "quiz_tests.rs"]
mod tests;
