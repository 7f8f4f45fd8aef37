//! When to try again: exponential backoff with full jitter, and a server's Retry-After.
//!
//! Full jitter (a uniformly random wait between zero and the exponential step) keeps thousands of
//! phones that lost the same cell tower from reconnecting in lock-step.

use std::time::{Duration, SystemTime};

/// The wait before attempt `failures + 1`, after `failures` (≥ 1) attempts in a row without
/// progress: uniform in `[0, min(cap, base · 2^(failures-1))]`.
pub fn backoff(failures: u32, base: Duration, cap: Duration) -> Duration {
    let step = base.saturating_mul(1u32 << failures.saturating_sub(1).min(20)).min(cap);
    let millis = u64::try_from(step.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(fastrand::u64(0..=millis))
}

/// Parses a Retry-After header: delay-seconds or an HTTP date. Capped at `cap`; a date in the
/// past means "now".
pub fn retry_after(value: &str, now: SystemTime, cap: Duration) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(cap))
}

/// The Retry-After of a reply's headers, if it has a readable one (see [`retry_after`]).
pub fn retry_after_header(headers: &reqwest::header::HeaderMap, cap: Duration) -> Option<Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    retry_after(value, SystemTime::now(), cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_stays_within_the_exponential_envelope() {
        let base = Duration::from_millis(100);
        let cap = Duration::from_secs(5);
        for failures in 1..40 {
            let envelope = base.saturating_mul(1 << (failures - 1).min(20)).min(cap);
            for _ in 0..50 {
                assert!(backoff(failures, base, cap) <= envelope);
            }
        }
        // Jitter: not always the same value.
        let waits: std::collections::HashSet<_> = (0..50).map(|_| backoff(6, base, cap)).collect();
        assert!(waits.len() > 10);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let cap = Duration::from_secs(600);
        assert_eq!(retry_after("7", now, cap), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(" 99999 ", now, cap), Some(cap));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(120));
        assert_eq!(retry_after(&later, now, cap), Some(Duration::from_secs(120)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(120));
        assert_eq!(retry_after(&earlier, now, cap), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now, cap), None);
        assert_eq!(retry_after("-3", now, cap), None);
    }
}
