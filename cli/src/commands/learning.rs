//! `progress`, `quiz`, `study`: what the learner has done, quizzes, and a simulated learner.

use std::sync::Arc;

use anyhow::Result;
use satchel_core::Satchel;
use satchel_core::learning::{AttemptState, QuizAttempt};
use satchel_core::runtime::runtime;
use serde_json::json;

use super::Out;
use crate::cli::{ProgressArgs, QuizCommand};
use crate::terminal::safe;
use crate::{format, json, study};

pub fn progress(satchel: &Satchel, out: Out, args: ProgressArgs) -> Result<()> {
    let rt = runtime();
    let summary = rt.block_on(satchel.learning_summary(0))?;
    let summary_line = format!(
        "today {} learning · {} of {} study days this week · streak {} day(s) · {} in all\n",
        format::clock(summary.today_ms),
        summary.study_days_this_week,
        summary.weekly_goal_days,
        summary.current_streak_days,
        format::clock(summary.total_ms)
    );
    if let Some(lesson_id) = args.lesson {
        let p = rt.block_on(satchel.lesson_progress(lesson_id))?;
        out.show(
            || json!({ "lesson": json::lesson_progress(&p), "summary": json::summary(&summary) }),
            || {
                format!(
                    "{}: {} · position {} · watched {} · scrolled {:.0}% · {} learning\n",
                    safe(&p.lesson_id),
                    if p.completed { "complete" } else { "in progress" },
                    format::clock(p.position_ms),
                    format::clock(p.watched_ms),
                    p.scroll_fraction * 100.0,
                    format::clock(p.time_spent_ms)
                ) + &summary_line
            },
        );
        return Ok(());
    }
    let course_id = args.course_id.unwrap_or_default();
    let p = rt.block_on(satchel.course_progress(course_id))?;
    out.show(
        || json!({ "course": json::course_progress(&p), "summary": json::summary(&summary) }),
        || {
            let mut text = format!(
                "{}: {}% complete ({} of {} lessons) · next: {} · {} learning\n",
                safe(&p.course_id),
                p.percent_complete,
                p.completed_lessons,
                p.total_lessons,
                p.next_lesson_id.as_deref().map_or("-".into(), safe),
                format::clock(p.time_spent_ms)
            );
            for m in &p.modules {
                text += &format!(
                    "  {:<40} {:>3}% ({} of {})\n",
                    safe(&m.module_id),
                    m.percent_complete,
                    m.completed_lessons,
                    m.total_lessons
                );
            }
            text + &summary_line
        },
    );
    Ok(())
}

pub fn quiz(satchel: &Satchel, out: Out, command: QuizCommand) -> Result<()> {
    let rt = runtime();
    match command {
        QuizCommand::Show { lesson_id } => {
            let quiz = rt.block_on(satchel.quiz(lesson_id))?;
            out.show(
                || json::quiz(&quiz),
                || {
                    let mut text = format!(
                        "{} ({}, pass at {}%)\n",
                        safe(&quiz.lesson_id),
                        quiz.mode.as_str(),
                        quiz.pass_percent
                    );
                    for q in &quiz.questions {
                        let many = if q.multiple_answers { " (one or more)" } else { "" };
                        text += &format!("{}: {}{many}\n", safe(&q.id), safe(&q.prompt));
                        for c in &q.choices {
                            text += &format!("    {}) {}\n", safe(&c.id), safe(&c.text));
                        }
                    }
                    text
                },
            );
        }
        QuizCommand::Take { lesson_id, answers } => {
            let attempt = rt.block_on(satchel.start_quiz_attempt(lesson_id))?;
            for (question, choices) in answers {
                rt.block_on(satchel.answer_question(attempt.id.clone(), question, choices))?;
            }
            let attempt = rt.block_on(satchel.submit_quiz_attempt(attempt.id))?;
            out.show(|| json::attempt(&attempt), || attempt_line(&attempt));
        }
        QuizCommand::Attempts { lesson_id } => {
            let attempts = rt.block_on(satchel.quiz_attempts(lesson_id))?;
            out.show(
                || attempts.iter().map(json::attempt).collect(),
                || attempts.iter().map(attempt_line).collect(),
            );
        }
    }
    Ok(())
}

fn attempt_line(a: &QuizAttempt) -> String {
    let verdict = match (a.state, a.score_percent, a.passed) {
        (AttemptState::Graded, Some(score), passed) => {
            format!("{score}% ({})", if passed == Some(true) { "passed" } else { "not passed" })
        }
        (AttemptState::SubmittedPending, ..) => "submitted; graded by the server on the next sync".into(),
        (AttemptState::InProgress, ..) => "in progress".into(),
        (AttemptState::Graded, None, _) => "graded".into(),
    };
    format!("{} {}: {verdict}\n", safe(&a.id), safe(&a.lesson_id))
}

pub fn study(satchel: &Arc<Satchel>, out: Out, course_id: &str, rounds: u64) -> Result<()> {
    let studied = study::course(satchel, course_id, rounds)?;
    out.show(
        || json!({ "course_id": course_id, "ticks": studied.ticks, "notes": studied.notes, "quizzes": studied.quizzes }),
        || {
            format!(
                "studied {}: {} progress reports, {} notes, {} quizzes\n",
                safe(course_id),
                studied.ticks,
                studied.notes,
                studied.quizzes
            )
        },
    );
    Ok(())
}
