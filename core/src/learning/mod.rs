//! Learning offline: progress and completion, time spent, roll-ups, goals and streaks, quizzes.
//! Every change is written together with its sync outbox entry, in one transaction.

pub mod goals;
pub mod progress;
pub mod quiz;
pub mod rollup;
pub mod session;
pub mod study_time;
pub mod watched;

pub use goals::{Enrollment, LearningSummary};
pub use progress::LessonProgress;
pub use quiz::{AttemptState, QuestionResult, Quiz, QuizAnswer, QuizAttempt, QuizChoice, QuizQuestion};
pub use rollup::{CourseProgress, ModuleProgress};
pub use session::StudyClock;
