//! A simulated learner: plays videos, scrolls readings, takes quizzes and writes notes through the
//! same core calls the apps make. Used by the demo and by the crash tests (which kill it at random
//! moments and check the store).

use std::time::{Duration, Instant};

use anyhow::Result;
use satchel_core::Satchel;
use satchel_core::catalog::{Lesson, LessonKind};
use satchel_core::learning::{QuizAttempt, progress};
use satchel_core::notes::{NewNote, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;

/// How often the simulated player reports its position, like a real one.
pub const TICK: Duration = Duration::from_secs(5);

/// Counts of what a study session did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Studied {
    pub ticks: u64,
    pub notes: u64,
    pub quizzes: u64,
}

/// Plays a video lesson from `from_ms` to `to_ms`, one report per tick of simulated time, adding
/// a note every `note_every` ticks (0: none).
pub fn watch(
    satchel: &Satchel,
    lesson: &Lesson,
    from_ms: i64,
    to_ms: i64,
    clock: &mut Instant,
    note_every: u64,
    studied: &mut Studied,
) -> Result<()> {
    let account = satchel.account();
    let mut position = from_ms;
    loop {
        progress::record_playback_at(
            account.store(),
            account.clock(),
            account.device_id(),
            &lesson.id,
            position,
            *clock,
        )?;
        studied.ticks += 1;
        if note_every > 0 && studied.ticks.is_multiple_of(note_every) {
            let note = NewNote {
                lesson_id: lesson.id.clone(),
                kind: NoteKind::Note,
                body: format!("Thought at {}s of {}", position / 1000, lesson.title),
                anchor: NoteAnchor::Time { start_ms: position, end_ms: position },
                color: None,
                tags: vec!["auto".into()],
            };
            runtime().block_on(satchel.add_note(note))?;
            studied.notes += 1;
        }
        if position >= to_ms {
            return Ok(());
        }
        let next = (position + TICK.as_millis() as i64).min(to_ms);
        // Real time advances as far as the video did (the last step may be short).
        *clock += Duration::from_millis((next - position) as u64);
        position = next;
    }
}

/// Scrolls a reading to the end in a few steps.
pub fn read(satchel: &Satchel, lesson: &Lesson, studied: &mut Studied) -> Result<()> {
    for fraction in [0.25, 0.5, 0.75, 1.0] {
        runtime().block_on(satchel.record_reading(lesson.id.clone(), fraction))?;
        studied.ticks += 1;
    }
    Ok(())
}

/// Answers every question with its first `pick(question index)` choice and submits.
pub fn take_quiz(
    satchel: &Satchel,
    lesson: &Lesson,
    pick: impl Fn(usize) -> usize,
    studied: &mut Studied,
) -> Result<QuizAttempt> {
    let rt = runtime();
    let quiz = rt.block_on(satchel.quiz(lesson.id.clone()))?;
    let attempt = rt.block_on(satchel.start_quiz_attempt(lesson.id.clone()))?;
    for (i, question) in quiz.questions.iter().enumerate() {
        let choice = &question.choices[pick(i) % question.choices.len()];
        rt.block_on(satchel.answer_question(
            attempt.id.clone(),
            question.id.clone(),
            vec![choice.id.clone()],
        ))?;
    }
    studied.quizzes += 1;
    Ok(rt.block_on(satchel.submit_quiz_attempt(attempt.id))?)
}

/// Studies a whole course `rounds` times over (0: until killed).
pub fn course(satchel: &Satchel, course_id: &str, rounds: u64) -> Result<Studied> {
    let rt = runtime();
    rt.block_on(satchel.enroll(course_id.to_owned()))?;
    let outline = rt.block_on(satchel.course_outline(course_id.to_owned()))?;
    let mut clock = Instant::now();
    let mut studied = Studied::default();
    let mut round = 0;
    while rounds == 0 || round < rounds {
        for lesson in outline.modules.iter().flat_map(|m| &m.lessons) {
            match lesson.kind {
                LessonKind::Video => {
                    let end = lesson.duration_ms.unwrap_or(60_000);
                    watch(satchel, lesson, 0, end, &mut clock, 10, &mut studied)?;
                }
                LessonKind::Reading => read(satchel, lesson, &mut studied)?,
                LessonKind::Quiz => {
                    take_quiz(satchel, lesson, |i| i + round as usize, &mut studied)?;
                }
            }
            satchel.end_study_session();
            clock += Duration::from_secs(600);
        }
        round += 1;
    }
    Ok(studied)
}
