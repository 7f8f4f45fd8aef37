//! Time spent learning, measured with the monotonic clock.
//!
//! The app reports progress every few seconds while a lesson is on screen. The time between two
//! reports for the same lesson counts as learning time, up to [`MAX_TICK_GAP`]: a longer gap means
//! the learner stopped (phone locked, app in the background) and is not counted. `Instant` never
//! jumps, so a phone whose wall clock is corrected by hours cannot add or remove learning time.
//! Lost on a kill: at most one gap, which is never counted twice.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Longest gap between two reports that still counts as continuous study.
pub const MAX_TICK_GAP: Duration = Duration::from_secs(60);

/// What the previous report for the current lesson said.
#[derive(Debug, Clone)]
struct LastTick {
    lesson_id: String,
    at: Instant,
    position_ms: i64,
}

/// What the clock says about a new report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickGap {
    /// Learning time to add: the monotonic gap if it was short enough, else zero.
    pub counted: Duration,
    /// The previous reported position, when the previous report was for the same lesson and
    /// recent enough to be part of the same viewing.
    pub previous_position_ms: Option<i64>,
}

/// The account's study clock. One per open account, in memory only.
#[derive(Debug, Default)]
pub struct StudyClock {
    last: Mutex<Option<LastTick>>,
}

impl StudyClock {
    /// How a report for `lesson_id` at `now` relates to the previous one. Does not record it:
    /// call [`StudyClock::record`] once the report is durably stored.
    pub fn gap(&self, lesson_id: &str, now: Instant) -> TickGap {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        match last.as_ref() {
            Some(tick) if tick.lesson_id == lesson_id => {
                let gap = now.saturating_duration_since(tick.at);
                if gap <= MAX_TICK_GAP {
                    TickGap { counted: gap, previous_position_ms: Some(tick.position_ms) }
                } else {
                    TickGap { counted: Duration::ZERO, previous_position_ms: None }
                }
            }
            _ => TickGap { counted: Duration::ZERO, previous_position_ms: None },
        }
    }

    /// The lesson being studied right now: the one last reported, if that was recent enough to
    /// be the same sitting. Eviction never touches its course.
    pub fn current_lesson(&self, now: Instant) -> Option<String> {
        let last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        last.as_ref()
            .filter(|t| now.saturating_duration_since(t.at) <= MAX_TICK_GAP)
            .map(|t| t.lesson_id.clone())
    }

    pub fn record(&self, lesson_id: &str, now: Instant, position_ms: i64) {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        *last = Some(LastTick { lesson_id: lesson_id.to_owned(), at: now, position_ms });
    }

    /// The learner stopped (player paused, app backgrounded): the next report starts afresh.
    pub fn end_session(&self) {
        *self.last.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_gaps_on_the_same_lesson_count() {
        let clock = StudyClock::default();
        let t0 = Instant::now();
        assert_eq!(clock.gap("a", t0).counted, Duration::ZERO);
        clock.record("a", t0, 0);
        let gap = clock.gap("a", t0 + Duration::from_secs(5));
        assert_eq!(gap.counted, Duration::from_secs(5));
        assert_eq!(gap.previous_position_ms, Some(0));
        assert_eq!(clock.gap("b", t0 + Duration::from_secs(5)).counted, Duration::ZERO);
        assert_eq!(clock.gap("a", t0 + Duration::from_secs(61)).counted, Duration::ZERO);
        clock.end_session();
        assert_eq!(clock.gap("a", t0 + Duration::from_secs(5)).counted, Duration::ZERO);
    }

    #[test]
    fn the_current_lesson_is_the_last_ticked_for_up_to_the_longest_gap() {
        let clock = StudyClock::default();
        let t0 = Instant::now();
        assert_eq!(clock.current_lesson(t0), None);
        clock.record("a", t0, 0);
        assert_eq!(clock.current_lesson(t0).as_deref(), Some("a"));
        assert_eq!(clock.current_lesson(t0 + MAX_TICK_GAP).as_deref(), Some("a"));
        assert_eq!(clock.current_lesson(t0 + MAX_TICK_GAP + Duration::from_millis(1)), None);
        clock.record("b", t0 + Duration::from_secs(1), 0);
        assert_eq!(clock.current_lesson(t0 + Duration::from_secs(2)).as_deref(), Some("b"));
        clock.end_session();
        assert_eq!(clock.current_lesson(t0 + Duration::from_secs(2)), None);
    }
}
