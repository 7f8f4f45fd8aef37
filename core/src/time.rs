//! Wall-clock time. Only for timestamps shown to people or sent to the server; durations are
//! measured with monotonic clocks so a phone whose clock jumps cannot corrupt them.
//!
//! [`WallClock`] is the account's clock: the one its sync clock stamps (HLC) are read from. It is
//! the system clock unless the account was opened with an offset (tests and demos of a phone whose
//! clock is a day or a year off); it is owned by the account's [`Store`](crate::store::Store), so
//! two accounts in one process can disagree about the time, as two phones do.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch by the system clock; 0 if the clock is set before 1970.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// An account's wall clock: the system clock shifted by an offset (0 for a real phone).
#[derive(Debug, Default)]
pub struct WallClock {
    offset_ms: AtomicI64,
}

impl WallClock {
    /// The system clock as it is.
    pub fn system() -> WallClock {
        WallClock::default()
    }

    /// A clock `offset_ms` ahead of the system's (behind when negative): a phone set wrong.
    pub fn offset_by(offset_ms: i64) -> WallClock {
        WallClock { offset_ms: AtomicI64::new(offset_ms) }
    }

    /// Milliseconds since the Unix epoch by this clock; never negative.
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.offset_ms()).max(0)
    }

    pub fn offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Moves the clock (a learner fixing their phone's time, or a test stepping through skews).
    pub fn set_offset_ms(&self, offset_ms: i64) {
        self.offset_ms.store(offset_ms, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_clock_runs_that_far_from_the_system_one_and_never_before_1970() {
        let day = 86_400_000;
        let clock = WallClock::offset_by(day);
        let gap = clock.now_ms() - now_ms();
        assert!((day - 1_000..=day).contains(&gap), "{gap}");
        clock.set_offset_ms(i64::MIN);
        assert_eq!(clock.now_ms(), 0);
        assert!((WallClock::system().now_ms() - now_ms()).abs() < 1_000);
    }
}
