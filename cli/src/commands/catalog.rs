//! `import`, `fetch`, `courses`, `outline`: getting courses into the account and browsing them.

use std::path::Path;

use anyhow::{Context, Result};
use satchel_core::Satchel;
use satchel_core::catalog::ImportOutcome;
use satchel_core::runtime::runtime;
use serde_json::json;

use super::Out;
use crate::terminal::safe;
use crate::{format, json};

pub fn import(satchel: &Satchel, out: Out, manifest: &Path) -> Result<()> {
    let text =
        std::fs::read_to_string(manifest).with_context(|| format!("cannot read {}", manifest.display()))?;
    let outcome = runtime().block_on(satchel.import_manifest(text))?;
    show_outcome(out, &outcome);
    Ok(())
}

pub fn fetch(satchel: &Satchel, out: Out, base_url: String, course_id: String) -> Result<()> {
    let outcome = runtime().block_on(satchel.fetch_course(base_url, course_id))?;
    show_outcome(out, &outcome);
    Ok(())
}

/// An import's outcome as JSON (also the start of `import-file`'s).
pub(super) fn outcome_json(outcome: &ImportOutcome) -> serde_json::Value {
    json!({
        "course_id": outcome.course_id, "version": outcome.version,
        "status": format!("{:?}", outcome.status).to_lowercase(),
        "module_count": outcome.module_count, "lesson_count": outcome.lesson_count,
    })
}

fn show_outcome(out: Out, outcome: &ImportOutcome) {
    out.show(
        || outcome_json(outcome),
        || format!("{} v{}: {:?}\n", safe(&outcome.course_id), outcome.version, outcome.status),
    );
}

pub fn courses(satchel: &Satchel, out: Out) -> Result<()> {
    let courses = runtime().block_on(satchel.list_courses())?;
    out.show(
        || courses.iter().map(json::course).collect(),
        || courses.iter().map(|c| format::course_line(c) + "\n").collect(),
    );
    Ok(())
}

pub fn outline(satchel: &Satchel, out: Out, course_id: String) -> Result<()> {
    let outline = runtime().block_on(satchel.course_outline(course_id))?;
    out.show(|| json::outline(&outline), || format::outline(&outline));
    Ok(())
}
