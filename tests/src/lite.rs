//! Reading a packed course's lite slide timeline back, and comparing it with the truth the
//! sample generator wrote (`truth.json`: every slide shown, when, and which picture it is).

use std::path::Path;

use anyhow::{Context, Result, bail};
use serde::Deserialize;

/// One slide shown in a lite timeline: when, and the role of its still (`slides/003.webp`).
#[derive(Debug, Clone, PartialEq)]
pub struct Shown {
    pub at_ms: u64,
    pub image: String,
}

/// One slide of the generator's truth.
#[derive(Debug, Clone, Deserialize)]
pub struct TrueSlide {
    pub at_ms: u64,
    /// Which distinct picture it is: a slide shown again has the number of its first showing.
    pub picture: usize,
    pub title: String,
    pub bullets: Vec<String>,
}

#[derive(Deserialize)]
struct Truth {
    slides: Vec<TrueSlide>,
}

/// The truth of a generated lecture, from its lesson folder in the generated source.
pub fn truth(lesson_dir: &Path) -> Result<Vec<TrueSlide>> {
    let path = lesson_dir.join("truth.json");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(serde_json::from_str::<Truth>(&text)?.slides)
}

fn blob_path(packed: &Path, hash: &str) -> std::path::PathBuf {
    packed.join("blobs").join(&hash[..2]).join(hash)
}

/// A packed course's signed manifest payload.
pub fn manifest(packed: &Path, course_id: &str) -> Result<serde_json::Value> {
    let envelope: serde_json::Value = serde_json::from_slice(&std::fs::read(
        packed.join("courses").join(course_id).join("manifest.signed.json"),
    )?)?;
    Ok(serde_json::from_str(envelope["payload"].as_str().context("envelope without payload")?)?)
}

/// The manifest entry of the blob with `role` in `lesson`'s lite rendition.
pub fn lite_blob(manifest: &serde_json::Value, lesson: &str, role: &str) -> Result<serde_json::Value> {
    manifest["modules"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["lessons"].as_array().into_iter().flatten())
        .filter(|l| l["id"] == lesson)
        .flat_map(|l| l["renditions"].as_array().into_iter().flatten())
        .filter(|r| r["kind"] == "lite")
        .flat_map(|r| r["blobs"].as_array().into_iter().flatten())
        .find(|b| b["role"] == role)
        .cloned()
        .with_context(|| format!("no lite {role} for {lesson}"))
}

/// The lite slide timeline of `lesson`, read from the packed manifest and its timeline blob.
pub fn timeline(packed: &Path, course_id: &str, lesson: &str) -> Result<Vec<Shown>> {
    let manifest = manifest(packed, course_id)?;
    let dictionary = match manifest["dictionary"]["hash"].as_str() {
        Some(hash) => Some(zstd::decode_all(&std::fs::read(blob_path(packed, hash))?[..])?),
        None => None,
    };
    let blob = lite_blob(&manifest, lesson, "slides")?;
    let hash = blob["hash"].as_str().context("a blob without hash")?;
    let size = blob["size"].as_u64().context("a blob without size")? as usize;
    let stored = std::fs::read(blob_path(packed, hash))?;
    let text = match dictionary.as_deref() {
        Some(dict) => zstd::bulk::Decompressor::with_dictionary(dict)?.decompress(&stored, size)?,
        None => zstd::decode_all(&stored[..])?,
    };
    let timeline: serde_json::Value = serde_json::from_slice(&text)?;
    timeline["slides"]
        .as_array()
        .context("a timeline without slides")?
        .iter()
        .map(|s| {
            Ok(Shown {
                at_ms: s["at_ms"].as_u64().context("a slide without at_ms")?,
                image: s["image"].as_str().context("a slide without image")?.to_owned(),
            })
        })
        .collect()
}

/// How a found timeline compares with the truth.
#[derive(Debug, Clone, PartialEq)]
pub struct SlideMatch {
    pub found: usize,
    pub truth: usize,
    /// The largest time error over the slides, paired in order (only when the counts agree).
    pub worst_error_ms: Option<u64>,
    /// Whether each showing uses the same still exactly when the truth shows the same picture.
    pub same_pictures: bool,
}

impl SlideMatch {
    pub fn exact_within(&self, ms: u64) -> bool {
        self.found == self.truth && self.same_pictures && self.worst_error_ms.is_some_and(|e| e <= ms)
    }
}

/// Compares a found timeline with the truth.
pub fn compare(found: &[Shown], truth: &[TrueSlide]) -> Result<SlideMatch> {
    if truth.is_empty() {
        bail!("a truth without slides");
    }
    let counts_agree = found.len() == truth.len();
    let worst_error_ms = counts_agree
        .then(|| found.iter().zip(truth).map(|(f, t)| f.at_ms.abs_diff(t.at_ms)).max().unwrap_or(0));
    // Number the stills by first appearance, as the truth numbers its pictures.
    let mut seen: Vec<&str> = Vec::new();
    let numbered: Vec<usize> = found
        .iter()
        .map(|f| match seen.iter().position(|s| *s == f.image) {
            Some(i) => i,
            None => {
                seen.push(&f.image);
                seen.len() - 1
            }
        })
        .collect();
    let same_pictures = counts_agree && numbered.iter().zip(truth).all(|(n, t)| *n == t.picture);
    Ok(SlideMatch { found: found.len(), truth: truth.len(), worst_error_ms, same_pictures })
}
