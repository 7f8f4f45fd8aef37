//! `satchel demo`: a learner's day with the sample course, in a fresh account.
//!
//! Today the day is short: the course arrives, the learner browses it and sees what the lite
//! rendition saves. Each feature that lands adds its step here.

use std::path::PathBuf;

use anyhow::{Context, Result};
use satchel_core::runtime::runtime;
use satchel_core::{Satchel, SatchelConfig};

use crate::format;

/// The sample course's manifest, bundled so the demo needs nothing on disk.
const SAMPLE_MANIFEST: &str = include_str!("../sample/course-manifest.json");

pub fn run(account: Option<PathBuf>) -> Result<()> {
    let temp;
    let dir = match account {
        Some(dir) => dir,
        None => {
            temp = tempfile::tempdir().context("cannot create a temporary account directory")?;
            temp.path().to_path_buf()
        }
    };
    let dir_text = dir.to_str().context("the account path is not valid UTF-8")?.to_owned();
    println!("Satchel demo: a learner's day");
    println!("account: {}", dir.display());

    let satchel = Satchel::open(dir_text, SatchelConfig { device_name: "demo phone".into() })?;
    let rt = runtime();

    println!("\n== The course arrives");
    let outcome = rt.block_on(satchel.import_manifest(SAMPLE_MANIFEST.to_owned()))?;
    println!(
        "imported {} v{}: {} modules, {} lessons ({:?})",
        outcome.course_id, outcome.version, outcome.module_count, outcome.lesson_count, outcome.status
    );

    println!("\n== The learner browses it");
    let outline = rt.block_on(satchel.course_outline(outcome.course_id.clone()))?;
    print!("{}", format::outline(&outline));

    let sizes = &outline.course.sizes;
    if sizes.full_bytes > 0 {
        let ratio = sizes.lite_bytes as f64 / sizes.full_bytes as f64;
        println!(
            "\nLite saves {} of {} ({:.1}% of the full download).",
            format::bytes(sizes.full_bytes.saturating_sub(sizes.lite_bytes)),
            format::bytes(sizes.full_bytes),
            ratio * 100.0
        );
    }

    if let Some(first) = outline.modules.first().and_then(|m| m.lessons.first()) {
        println!("\n== Linked lectures from \"{}\"", first.title);
        for linked in rt.block_on(satchel.linked_lectures(first.id.clone()))? {
            let offline = if linked.available_offline.is_empty() { "needs network" } else { "offline" };
            println!("  -> {} ({}; {offline})", linked.lesson.title, linked.module_title);
        }
    }

    satchel.shutdown()?;
    println!("\nDone.");
    Ok(())
}
