//! Progress, goals and quizzes on the `Satchel` object.

use super::{Satchel, SatchelError};
use crate::api_int::to_i32;
use crate::error::Error;
use crate::learning::{
    CourseProgress, Enrollment, LearningSummary, LessonProgress, Quiz, QuizAttempt, goals, progress, quiz,
    rollup,
};
use crate::outbox;
use crate::time::now_ms;

#[uniffi::export]
impl Satchel {
    /// Reports the player's position in a video lesson. Call every few seconds while playing:
    /// the time between reports counts as learning time, and only positions reached by playing
    /// (not seeking) count towards "watched 90%".
    pub async fn record_playback(
        &self,
        lesson_id: String,
        position_ms: i64,
    ) -> Result<LessonProgress, SatchelError> {
        self.with_account(move |a| {
            progress::record_playback(a.store(), a.clock(), a.device_id(), &lesson_id, position_ms)
        })
        .await
    }

    /// Reports how far a reading is scrolled (0.0 top, 1.0 end visible). Call on scroll and every
    /// few seconds while the reading is on screen.
    pub async fn record_reading(
        &self,
        lesson_id: String,
        scroll_fraction: f64,
    ) -> Result<LessonProgress, SatchelError> {
        self.with_account(move |a| {
            progress::record_reading(a.store(), a.clock(), a.device_id(), &lesson_id, scroll_fraction)
        })
        .await
    }

    /// The learner stopped (player paused, lesson closed, app backgrounded): the next report
    /// starts a new stretch of learning time.
    pub fn end_study_session(&self) {
        self.account().clock().end_session();
    }

    pub async fn lesson_progress(&self, lesson_id: String) -> Result<LessonProgress, SatchelError> {
        self.read(move |c| progress::lesson_progress(c, &lesson_id)).await
    }

    /// Percent complete per module and course, the next lesson, and time spent.
    pub async fn course_progress(&self, course_id: String) -> Result<CourseProgress, SatchelError> {
        self.read(move |c| rollup::course_progress(c, &course_id)).await
    }

    /// Enrols in a course (idempotent).
    pub async fn enroll(&self, course_id: String) -> Result<Enrollment, SatchelError> {
        self.write(move |tx, device| goals::enroll(tx, device, &course_id)).await
    }

    pub async fn enrollments(&self) -> Result<Vec<Enrollment>, SatchelError> {
        self.read(goals::enrollments).await
    }

    /// Sets the weekly goal in study days (1–7).
    pub async fn set_weekly_goal(&self, days_per_week: i32) -> Result<(), SatchelError> {
        let days = u8::try_from(days_per_week)
            .map_err(|_| Error::invalid(format!("a weekly goal of {days_per_week} days is out of range")))?;
        self.write(move |tx, device| goals::set_weekly_goal(tx, device, days)).await
    }

    /// Today, this week, the goal and the streak, with days cut at the device's current UTC
    /// offset (e.g. `TimeZone.getDefault().getOffset(now) / 60000` on Android).
    pub async fn learning_summary(&self, utc_offset_minutes: i32) -> Result<LearningSummary, SatchelError> {
        self.read(move |c| goals::summary(c, now_ms(), utc_offset_minutes)).await
    }

    /// A quiz's questions (never its answer keys).
    pub async fn quiz(&self, lesson_id: String) -> Result<Quiz, SatchelError> {
        self.read(move |c| quiz::quiz(c, &lesson_id)).await
    }

    pub async fn start_quiz_attempt(&self, lesson_id: String) -> Result<QuizAttempt, SatchelError> {
        self.write(move |tx, device| quiz::start_attempt(tx, device, &lesson_id)).await
    }

    /// Stores an answer as soon as it is given; an empty list clears it.
    pub async fn answer_question(
        &self,
        attempt_id: String,
        question_id: String,
        choice_ids: Vec<String>,
    ) -> Result<QuizAttempt, SatchelError> {
        self.write(move |tx, device| quiz::answer(tx, device, &attempt_id, &question_id, choice_ids)).await
    }

    /// Practice quizzes are graded at once; graded quizzes wait for the server (state
    /// `SubmittedPending`).
    pub async fn submit_quiz_attempt(&self, attempt_id: String) -> Result<QuizAttempt, SatchelError> {
        self.write(move |tx, device| quiz::submit(tx, device, &attempt_id)).await
    }

    /// Attempts at a quiz, newest first.
    pub async fn quiz_attempts(&self, lesson_id: String) -> Result<Vec<QuizAttempt>, SatchelError> {
        self.read(move |c| quiz::attempts(c, &lesson_id)).await
    }

    /// How many local changes wait in the outbox for the next sync.
    pub async fn pending_changes(&self) -> Result<i32, SatchelError> {
        self.read(|c| outbox::pending_count(c).map(to_i32)).await
    }
}
