//! `export`, `import-file`: a course from phone to phone as one file, with no network.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use satchel_core::Satchel;
use satchel_core::catalog::RenditionKind;
use satchel_core::ffi::ShareListener;
use satchel_core::runtime::runtime;
use satchel_core::share::ShareProgress;
use serde_json::json;

use super::Out;
use crate::terminal::safe;

/// Progress on stderr, so `--json` output stays one document.
struct Stderr;

impl ShareListener for Stderr {
    fn on_progress(&self, progress: ShareProgress) {
        eprint!("\r{} / {} bytes", progress.bytes_done, progress.bytes_total);
        if progress.bytes_done == progress.bytes_total {
            eprintln!();
        }
    }
}

fn path_text(path: &Path) -> Result<String> {
    path.to_str().map(str::to_owned).with_context(|| format!("{} is not a UTF-8 path", path.display()))
}

pub fn export(
    satchel: &Satchel,
    out: Out,
    course_id: String,
    rendition: RenditionKind,
    path: &Path,
) -> Result<()> {
    let listener: Arc<dyn ShareListener> = Arc::new(Stderr);
    let size = runtime().block_on(satchel.export_course(
        course_id.clone(),
        rendition,
        path_text(path)?,
        Some(listener),
    ))?;
    out.show(
        || json!({"course_id": course_id, "rendition": rendition.as_str(), "path": path_text(path).unwrap_or_default(), "bytes": size}),
        || format!("{} ({}) written to {}: {size} bytes\n", safe(&course_id), rendition.as_str(), safe(&path.display().to_string())),
    );
    Ok(())
}

pub fn import(satchel: &Satchel, out: Out, path: &Path) -> Result<()> {
    let listener: Arc<dyn ShareListener> = Arc::new(Stderr);
    let imported = runtime().block_on(satchel.import_course(path_text(path)?, Some(listener)))?;
    let outcome = &imported.outcome;
    out.show(
        || {
            let mut value = super::catalog::outcome_json(outcome);
            value["blobs_added"] = json!(imported.blobs_added);
            value["blobs_already_present"] = json!(imported.blobs_already_present);
            value
        },
        || {
            format!(
                "{} v{}: {:?}, {} files added, {} already here\n",
                safe(&outcome.course_id),
                outcome.version,
                outcome.status,
                imported.blobs_added,
                imported.blobs_already_present
            )
        },
    );
    Ok(())
}
