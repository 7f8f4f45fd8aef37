//! `satchel-bench [--out FILE] [FILTER]`: runs the benchmarks whose name contains FILTER, prints
//! the table and writes the rows as JSON. Run it through `cargo xtask bench`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use satchel_tests::bench::{self, report::Row};

type Bench = (&'static str, fn() -> Result<Row>);

const BENCHES: &[Bench] = &[
    ("store_open_migrate_ms", bench::store::open_migrate),
    ("catalog_outline_ms", bench::catalog::outline),
    ("progress_tick_p99_ms", bench::learning::progress_tick),
    ("note_search_10k_median_ms", bench::learning::note_search),
    ("progress_bytes_per_playback_hour", bench::learning::progress_growth),
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
        rows.push(run().with_context(|| format!("benchmark {name} failed"))?);
    }
    bench::report::print(&rows);
    bench::report::write_json(&rows, &out)?;
    println!("wrote {} rows to {}", rows.len(), out.display());
    Ok(())
}
