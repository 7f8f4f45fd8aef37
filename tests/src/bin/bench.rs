//! `satchel-bench [--out FILE] [FILTER]`: runs the benchmarks whose name contains FILTER, prints
//! the table and writes the rows as JSON. Run it through `cargo xtask bench`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use satchel_tests::bench::{self, report::Row};

type Bench = (&'static str, fn() -> Result<Vec<Row>>);

/// Adapts a one-row benchmark.
macro_rules! one {
    ($f:path) => {
        || $f().map(|row| vec![row])
    };
}

const BENCHES: &[Bench] = &[
    ("store_open_migrate_ms", one!(bench::store::open_migrate)),
    ("catalog_outline_ms", one!(bench::catalog::outline)),
    ("manifest_validate_10k_lessons_ms", one!(bench::manifest::validate_10k)),
    ("progress_tick_p99_ms", one!(bench::learning::progress_tick)),
    ("note_search_10k_median_ms", one!(bench::learning::note_search)),
    ("progress_bytes_per_playback_hour", one!(bench::learning::progress_growth)),
    ("lite_vs_full_bytes", bench::content::lite_vs_full),
    ("slides_found_vs_true slides_worst_time_error_ms", bench::content::slides_found),
    ("text_dict_vs_gzip text_vs_brotli", bench::content::text),
    ("pack_seconds_per_video_minute", bench::content::pack_speed),
    ("lite_audio_stoi", bench::lite_audio::intelligibility),
    ("slide_ocr_cer_delta", bench::slide_ocr::legibility),
    ("resume_cut_256k_bytes", bench::downloads::resume_cut),
    ("loopback_1g_throughput download_1g_peak_rss_mb", bench::downloads::loopback_1g),
    ("slow_link_lite_lecture_seconds", bench::downloads::slow_link),
    ("course_update_5pct_bytes", bench::course_update::update),
    ("course_update_edit", bench::edit_kinds::rows),
    ("sync_server_ops_per_s sync_server_ops_vs_powersync", bench::sync::server_ops),
    ("sync_week_bytes sync_week_seconds", bench::sync_week::week),
    ("sync_pull_50k_seconds", one!(bench::sync_pull::pull_50k)),
    ("sync_load_devices", bench::sync_load::devices),
    ("cdylib_stripped_bytes", bench::library_size::stripped),
];

fn main() -> Result<()> {
    let mut out = PathBuf::from("target/bench/results.json");
    let mut filter = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--out" {
            out = PathBuf::from(args.next().context("--out needs a path")?);
        } else {
            filter = Some(arg);
        }
    }
    let mut rows = Vec::new();
    for (name, run) in BENCHES {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        eprintln!("bench: {name}");
        rows.extend(run().with_context(|| format!("benchmark {name} failed"))?);
    }
    bench::report::print(&rows);
    bench::report::write_json(&rows, &out)?;
    println!("wrote {} rows to {}", rows.len(), out.display());
    Ok(())
}
