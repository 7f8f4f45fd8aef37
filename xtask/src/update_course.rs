//! A small text course published in two versions, for the shells' course-update tests: version
//! 1 under `<root>/update-v1/`, and under `<root>/update-v2/` the same tree with version 2 packed
//! over it, as a publisher updates a course (old manifest kept, zstd patches written). Both sit
//! inside the sample server's tree, so the tests reach them at `<content URL>update-v1/` and
//! `<content URL>update-v2/`.
//!
//! The readings are two of the sample course's, each with a sentence the tests highlight. Version
//! 2 inserts a sentence before the first reading's and deletes the second's: one highlight must
//! move, the other be orphaned.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Result, ensure};

use crate::tools;

/// The course id the Kotlin and Swift tests fetch.
pub const COURSE: &str = "shell-update";
const KEPT: &str = "The resolver asks the root servers first.";
const INSERTED: &str = "A sentence new in version two.";
const CUT: &str = "This sentence leaves in version two.";

/// Packs both versions with `server` (the `satchel-server` binary) and `key` under `root`. The
/// readings are two of the sample course's (under `sample`), with the tests' sentences added.
pub fn publish(server: &Path, key: &Path, sample: &Path, root: &Path) -> Result<()> {
    let (source, v1, v2) = (root.join("update-source"), root.join("update-v1"), root.join("update-v2"));
    let readings = [
        std::fs::read_to_string(sample.join("reading-urls/reading.md"))?,
        std::fs::read_to_string(sample.join("headers/reading.md"))?,
    ];
    write_source(&source, &readings, 1)?;
    pack(server, key, &source, &v1)?;
    let status = Command::new("cp").arg("-a").arg(&v1).arg(&v2).status()?;
    ensure!(status.success(), "cp -a {} {} failed", v1.display(), v2.display());
    write_source(&source, &readings, 2)?;
    pack(server, key, &source, &v2)?;
    // The source is not content: a host would not serve it.
    std::fs::remove_dir_all(&source)?;
    Ok(())
}

fn pack(server: &Path, key: &Path, source: &Path, out: &Path) -> Result<()> {
    tools::run(
        Command::new(server).arg("pack").arg(source).arg(out).arg("--key").arg(key).stdout(Stdio::null()),
    )
}

/// Writes course.json and the two readings of `version`.
fn write_source(dir: &Path, readings: &[String; 2], version: u32) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let (alpha, beta) = if version == 1 {
        (with_paragraph(&readings[0], KEPT), with_paragraph(&readings[1], CUT))
    } else {
        (with_paragraph(&readings[0], &format!("{INSERTED} {KEPT}")), readings[1].clone())
    };
    std::fs::write(dir.join("alpha.md"), alpha)?;
    std::fs::write(dir.join("beta.md"), beta)?;
    let lesson = |id: &str, file: &str| serde_json::json!({"id": format!("{COURSE}.{id}"), "title": format!("Reading {id}"), "kind": "reading", "reading": file});
    let course = serde_json::json!({
        "id": COURSE, "version": version, "title": "Shell update test course", "description": "", "language": "en",
        "modules": [{"id": format!("{COURSE}.m"), "title": "Module", "lessons": [lesson("alpha", "alpha.md"), lesson("beta", "beta.md")]}]
    });
    std::fs::write(dir.join("course.json"), serde_json::to_vec_pretty(&course)?)?;
    Ok(())
}

/// `reading` with `marked` as a paragraph of its own after the title.
fn with_paragraph(reading: &str, marked: &str) -> String {
    match reading.split_once("\n\n") {
        Some((title, rest)) if !marked.is_empty() => format!("{title}\n\n{marked}\n\n{rest}"),
        _ => reading.to_owned(),
    }
}
