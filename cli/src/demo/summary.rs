//! The table at the end of the demo: what the day cost and what is left to do.

use anyhow::Result;
use satchel_core::Satchel;
use satchel_core::runtime::runtime;

use crate::format;

/// What the summary needs that the account cannot tell afterwards.
pub struct Day {
    /// Changes that were waiting in the outbox when the learner reconnected.
    pub waiting_before_sync: i32,
    pub seconds: f64,
    pub rendered_s: f64,
    pub packed_s: f64,
    /// The catalog-only mode (no media tools).
    pub catalog_only: bool,
}

pub fn print(phone: &Satchel, day: &Day) -> Result<()> {
    let rt = runtime();
    let usage = rt.block_on(phone.data_usage())?;
    let learned = rt.block_on(phone.learning_summary(0))?;
    let waiting = rt.block_on(phone.pending_changes())?;
    let rows = [
        (
            "data used",
            format!(
                "{} ({} on Wi-Fi, {} on cellular)",
                format::bytes(usage.unmetered_bytes + usage.metered_bytes),
                format::bytes(usage.unmetered_bytes),
                format::bytes(usage.metered_bytes)
            ),
        ),
        ("data saved by lite", format::bytes(usage.saved_by_lite_bytes)),
        ("time learned", format::clock(learned.total_ms)),
        ("waiting to sync", format!("{waiting} changes ({} before reconnecting)", day.waiting_before_sync)),
    ];
    let width = rows.iter().map(|(name, _)| name.len()).max().unwrap_or(0);
    let line = "-".repeat(width + 44);
    println!("\n{line}");
    for (name, value) in rows {
        println!("  {name:<width$}  {value}");
    }
    println!("{line}");
    if day.catalog_only {
        println!("demo took {:.1} s (catalog-only mode)", day.seconds);
    } else if day.rendered_s + day.packed_s > 0.0 {
        println!(
            "demo took {:.1} s: {:.1} s rendering the sample lectures, {:.1} s packing them (cached from now on)",
            day.seconds, day.rendered_s, day.packed_s
        );
    } else {
        println!("demo took {:.1} s (sample course cached)", day.seconds);
    }
    Ok(())
}
