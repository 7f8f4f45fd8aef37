//! A per-learner token bucket kept in memory: enough for one reference server. Several servers
//! behind a load balancer each keep their own buckets (the limit is then per process), which is
//! acceptable for a limit that only protects the server from a runaway client.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many requests a learner may make: `burst` at once, refilled at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    pub burst: f64,
    pub per_second: f64,
}

impl Default for RateLimit {
    /// Generous for a real client (a sync is a handful of requests), tight for a loop gone wrong.
    fn default() -> RateLimit {
        RateLimit { burst: 120.0, per_second: 20.0 }
    }
}

/// Buckets are forgotten once full and idle this long, so memory follows active learners.
const FORGET_AFTER: Duration = Duration::from_secs(600);
/// How many buckets may exist before idle ones are swept.
const SWEEP_ABOVE: usize = 10_000;

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets of every learner seen recently.
pub struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter { limit, buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes one request from `learner`'s bucket; `Err(seconds)` says when to retry.
    pub fn check(&self, learner: &str) -> Result<(), u32> {
        self.check_at(learner, Instant::now())
    }

    fn check_at(&self, learner: &str, now: Instant) -> Result<(), u32> {
        // A poisoned lock only means another request panicked mid-update of a counter: the
        // numbers are still usable, so carry on rather than refuse every learner.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > SWEEP_ABOVE {
            let limit = self.limit;
            buckets.retain(|_, b| {
                now.duration_since(b.at) < FORGET_AFTER || refill(b, limit, now) < limit.burst
            });
        }
        let bucket =
            buckets.entry(learner.to_owned()).or_insert(Bucket { tokens: self.limit.burst, at: now });
        bucket.tokens = refill(bucket, self.limit, now);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Ok(());
        }
        let wait_s = (1.0 - bucket.tokens) / self.limit.per_second.max(f64::MIN_POSITIVE);
        Err(wait_s.ceil().clamp(1.0, 3_600.0) as u32)
    }
}

fn refill(bucket: &Bucket, limit: RateLimit, now: Instant) -> f64 {
    let elapsed = now.duration_since(bucket.at).as_secs_f64();
    (bucket.tokens + elapsed * limit.per_second).min(limit.burst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_waits_for_refill() {
        let limiter = RateLimiter::new(RateLimit { burst: 3.0, per_second: 0.5 });
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check_at("a", t0), Ok(()));
        }
        assert_eq!(limiter.check_at("a", t0), Err(2));
        // Another learner has its own bucket.
        assert_eq!(limiter.check_at("b", t0), Ok(()));
        assert_eq!(limiter.check_at("a", t0 + Duration::from_secs(2)), Ok(()));
    }
}
