//! Benchmarks for `cargo xtask bench`. Each row is measured beside a peer in the same process, and
//! reported as a ratio: absolute times on a shared 2-core machine mean little, ratios travel.

pub mod catalog;
pub mod content;
pub mod downloads;
pub mod learning;
pub mod report;
pub mod store;
pub mod sync;

use std::time::{Duration, Instant};

/// Median of `runs` timings of `f`, after `warmup` untimed runs.
pub fn median_time(warmup: usize, runs: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..warmup {
        f();
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
