//! Benchmarks for `cargo xtask bench`. Each row is measured beside a peer in the same process, and
//! reported as a ratio: absolute times on a shared 2-core machine mean little, ratios travel.

pub mod catalog;
pub mod content;
pub mod course_update;
pub mod downloads;
pub mod edit_kinds;
pub mod learning;
pub mod library_size;
pub mod lite_audio;
pub mod manifest;
pub mod report;
pub mod slide_ocr;
pub mod store;
pub mod sync;
pub mod sync_load;
pub mod sync_pull;
pub mod sync_sample;
pub mod sync_week;
pub mod wire_meter;

use std::time::{Duration, Instant};

/// Median of `runs` timings of `f`, after `warmup` untimed runs. The first failing run ends the
/// benchmark with its error.
pub fn median_time(
    warmup: usize,
    runs: usize,
    mut f: impl FnMut() -> anyhow::Result<()>,
) -> anyhow::Result<Duration> {
    for _ in 0..warmup {
        f()?;
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        f()?;
        times.push(start.elapsed());
    }
    times.sort();
    times.get(times.len() / 2).copied().ok_or_else(|| anyhow::anyhow!("no timed runs"))
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
