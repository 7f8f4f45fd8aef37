//! Private answer keys of graded quizzes.
//!
//! A graded quiz publishes its questions without keys (the manifest validation refuses keys in
//! a graded quiz), so a learner cannot read them off the phone. The content team writes the keys
//! beside the quiz, `quiz.keys.json` next to `quiz.json`; `satchel-server pack` checks them
//! against the questions and writes them to a grading file *outside* the published tree;
//! `satchel-server serve --grading DIR` loads every grading file in DIR and grades submitted
//! attempts on sync.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use satchel_core::catalog::QuizEntry;
use serde::{Deserialize, Serialize};

/// What a content team writes beside a graded quiz: the correct choice ids of every question.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeysSource {
    pub correct: BTreeMap<String, Vec<String>>,
}

/// The key of one graded quiz as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuizKey {
    pub course_id: String,
    pub pass_percent: u8,
    /// Every question of the quiz, with its correct choice ids.
    pub correct: BTreeMap<String, BTreeSet<String>>,
}

/// A grading file: the keys of one course's graded quizzes, by lesson id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradingFile {
    pub course_id: String,
    pub course_version: u32,
    pub quizzes: BTreeMap<String, QuizKey>,
}

/// How a set of answers scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grade {
    pub score_percent: u8,
    pub passed: bool,
}

/// The path of the keys file of a quiz file: `quiz.json` → `quiz.keys.json`.
pub fn keys_path(quiz: &Path) -> PathBuf {
    let stem = quiz.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    quiz.with_file_name(format!("{stem}.keys.json"))
}

/// Reads and checks the keys of `quiz` (the published questions) from `path`: every question
/// keyed, only known choices, one choice for a single-answer question.
pub fn read_keys(path: &Path, course_id: &str, quiz: &QuizEntry) -> Result<QuizKey> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let source: KeysSource =
        serde_json::from_str(&text).with_context(|| format!("{} is not a quiz keys file", path.display()))?;
    let mut correct = BTreeMap::new();
    for question in &quiz.questions {
        let Some(keys) = source.correct.get(&question.id) else {
            bail!("{}: question {:?} has no key", path.display(), question.id);
        };
        let keys: BTreeSet<String> = keys.iter().cloned().collect();
        if keys.is_empty() || (!question.multiple && keys.len() > 1) {
            bail!(
                "{}: question {:?} needs {} correct choice",
                path.display(),
                question.id,
                if question.multiple { "at least one" } else { "exactly one" }
            );
        }
        if let Some(unknown) = keys.iter().find(|k| !question.choices.iter().any(|c| &&c.id == k)) {
            bail!("{}: question {:?} has no choice {unknown:?}", path.display(), question.id);
        }
        correct.insert(question.id.clone(), keys);
    }
    if let Some(extra) = source.correct.keys().find(|id| !quiz.questions.iter().any(|q| &q.id == *id)) {
        bail!("{}: the quiz has no question {extra:?}", path.display());
    }
    Ok(QuizKey { course_id: course_id.to_owned(), pass_percent: quiz.pass_percent, correct })
}

impl GradingFile {
    /// Writes the file atomically as `DIR/<course_id>.grading.json`, readable by its owner only
    /// (it holds answer keys).
    pub fn write(&self, dir: &Path) -> Result<PathBuf> {
        fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join(format!("{}.grading.json", self.course_id));
        let tmp = dir.join(format!(".{}.grading.json.tmp", self.course_id));
        let mut file = crate::private_file::create(&tmp, false)?;
        std::io::Write::write_all(&mut file, &serde_json::to_vec_pretty(self)?)?;
        file.sync_all()?;
        fs::rename(&tmp, &path)?;
        Ok(path)
    }
}

/// Every loaded quiz key, by lesson id.
#[derive(Debug, Clone, Default)]
pub struct AnswerKeys {
    by_lesson: HashMap<String, QuizKey>,
}

impl AnswerKeys {
    /// Loads every `*.grading.json` in `dir`. A lesson keyed twice (two courses claiming one
    /// lesson id) is refused: grading against the wrong key would be worse than not grading.
    pub fn load_dir(dir: &Path) -> Result<AnswerKeys> {
        let mut keys = AnswerKeys::default();
        let entries =
            fs::read_dir(dir).with_context(|| format!("cannot read the grading folder {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            if !path.to_string_lossy().ends_with(".grading.json") {
                continue;
            }
            let text =
                fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let file: GradingFile = serde_json::from_str(&text)
                .with_context(|| format!("{} is not a grading file", path.display()))?;
            for (lesson, key) in file.quizzes {
                if keys.by_lesson.contains_key(&lesson) {
                    bail!("{}: lesson {lesson:?} is keyed by two grading files", path.display());
                }
                keys.by_lesson.insert(lesson, key);
            }
        }
        Ok(keys)
    }

    /// Keys from already built quiz keys (tests, benches).
    pub fn from_keys(keys: impl IntoIterator<Item = (String, QuizKey)>) -> AnswerKeys {
        AnswerKeys { by_lesson: keys.into_iter().collect() }
    }

    pub fn len(&self) -> usize {
        self.by_lesson.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_lesson.is_empty()
    }

    /// Grades `answers` (question id → chosen choice ids) of an attempt at `lesson_id` of
    /// `course_id`, or `None` when no key is loaded for that quiz. The rule is the phone's for
    /// practice quizzes: a question is right when the chosen set equals the key; the score is
    /// the percentage of right questions, rounded down.
    pub fn grade<'a>(
        &self,
        course_id: &str,
        lesson_id: &str,
        answers: impl IntoIterator<Item = (&'a str, &'a [String])>,
    ) -> Option<Grade> {
        let key = self.by_lesson.get(lesson_id).filter(|k| k.course_id == course_id)?;
        let answers: HashMap<&str, BTreeSet<&str>> =
            answers.into_iter().map(|(q, c)| (q, c.iter().map(String::as_str).collect())).collect();
        let right = key
            .correct
            .iter()
            .filter(|(question, correct)| {
                answers
                    .get(question.as_str())
                    .is_some_and(|given| given.iter().copied().eq(correct.iter().map(String::as_str)))
            })
            .count();
        let score_percent = (right * 100 / key.correct.len().max(1)) as u8;
        Some(Grade { score_percent, passed: score_percent >= key.pass_percent })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> AnswerKeys {
        let correct = [("q1", vec!["a"]), ("q2", vec!["b", "c"]), ("q3", vec!["a"])]
            .into_iter()
            .map(|(q, c)| (q.to_owned(), c.into_iter().map(str::to_owned).collect()))
            .collect();
        AnswerKeys::from_keys([(
            "l1".to_owned(),
            QuizKey { course_id: "c".into(), pass_percent: 60, correct },
        )])
    }

    fn grade(answers: &[(&str, &[&str])]) -> Option<Grade> {
        let owned: Vec<(&str, Vec<String>)> =
            answers.iter().map(|(q, c)| (*q, c.iter().map(|s| s.to_string()).collect())).collect();
        keys().grade("c", "l1", owned.iter().map(|(q, c)| (*q, c.as_slice())))
    }

    #[test]
    fn a_question_is_right_only_with_exactly_the_keyed_choices() {
        assert_eq!(
            grade(&[("q1", &["a"]), ("q2", &["c", "b"])]),
            Some(Grade { score_percent: 66, passed: true })
        );
        assert_eq!(
            grade(&[("q1", &["a"]), ("q2", &["b"])]),
            Some(Grade { score_percent: 33, passed: false })
        );
        assert_eq!(grade(&[]), Some(Grade { score_percent: 0, passed: false }));
        assert_eq!(
            grade(&[("q1", &["a"]), ("q2", &["b", "c"]), ("q3", &["a"]), ("nope", &["x"])]),
            Some(Grade { score_percent: 100, passed: true })
        );
    }

    #[test]
    fn no_key_means_no_grade() {
        assert_eq!(keys().grade("c", "other", std::iter::empty()), None);
        assert_eq!(keys().grade("other-course", "l1", std::iter::empty()), None);
    }
}
