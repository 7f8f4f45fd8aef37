//! Wall-clock helpers. Only for timestamps shown to people or sent to the server; durations are
//! measured with monotonic clocks so a phone whose clock jumps cannot corrupt them.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch; 0 if the clock is set before 1970.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
