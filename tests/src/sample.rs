//! The sample course, generated and packed once per test run (and cached across runs by a hash
//! of its sources), signed with a fixed test-only publisher key.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use anyhow::{Context, Result};
use ed25519_dalek::SigningKey;
use satchel_server::pack::{self, PackReport};
use satchel_server::sample;

/// A fixed key so packed output is reproducible. Test use only.
pub fn test_publisher_key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

pub fn test_public_key() -> String {
    satchel_server::keys::public_key(&test_publisher_key())
}

/// The generated sample course source folder (lectures rendered with ffmpeg and espeak-ng).
pub fn sample_source() -> Result<PathBuf> {
    let dir = sample::cache_dir().join("sample-course");
    sample::generate(&sample::default_source(), &dir).context("cannot generate the sample course")?;
    Ok(dir)
}

/// The packed sample course.
pub struct PackedSample {
    pub source: PathBuf,
    pub dir: PathBuf,
    pub report: PackReport,
}

/// Packs the sample course once per process into `target/e2e-sample/<pid>`.
pub fn packed_sample() -> Result<&'static PackedSample> {
    static PACKED: OnceLock<PackedSample> = OnceLock::new();
    // Tests run on several threads; one of them packs while the others wait.
    static PACKING: Mutex<()> = Mutex::new(());
    let _guard = PACKING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(packed) = PACKED.get() {
        return Ok(packed);
    }
    let source = sample_source()?;
    let dir = target_dir().join("e2e-sample").join(std::process::id().to_string());
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let report = pack::pack(&source, &dir, &test_publisher_key())?;
    Ok(PACKED.get_or_init(|| PackedSample { source, dir, report }))
}

/// Cargo's target directory, found from the running test binary (world-readable, unlike a
/// temporary directory, so nginx workers can serve from it).
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    exe.ancestors()
        .find(|p| p.file_name().is_some_and(|n| n == "target"))
        .map(Path::to_path_buf)
        .unwrap_or_else(|| std::env::temp_dir().join("satchel-target"))
}

/// A copy of the packed sample course that a test may damage or change (in the target
/// directory, world-readable like the original).
pub fn packed_copy() -> Result<tempfile::TempDir> {
    let packed = packed_sample()?;
    let copy = tempfile::tempdir_in(target_dir())?;
    let status =
        std::process::Command::new("cp").arg("-r").arg(packed.dir.join(".")).arg(copy.path()).status()?;
    anyhow::ensure!(status.success(), "cp -r of the packed sample failed");
    Ok(copy)
}

/// Publishes under `root` a signed course `course_id` with one video lesson `lesson_id` whose
/// full rendition is the blob `hash` of `size` bytes (the caller puts the blob in
/// `root/blobs/`). For tests and benches that need a second course or a very large file.
pub fn publish_one_lesson_course(
    root: &Path,
    course_id: &str,
    lesson_id: &str,
    hash: &str,
    size: u64,
) -> Result<()> {
    let payload = serde_json::json!({
        "format": 2, "id": course_id, "version": 1, "title": "One lecture", "description": "", "language": "en",
        "modules": [{"id": format!("{course_id}.m"), "title": "Module", "lessons": [{
            "id": lesson_id, "title": "A recording", "kind": "video", "duration_ms": 3_600_000,
            "renditions": [{"kind": "full", "bytes": size, "blobs": [{
                "hash": hash, "size": size, "stored_size": size, "media_type": "video/mp4",
                "encoding": "identity", "role": "video"}]}]}]}]
    });
    let envelope = satchel_core::content::signed::sign(payload.to_string(), &test_publisher_key());
    let dir = root.join("courses").join(course_id);
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("manifest.signed.json"), serde_json::to_vec(&envelope)?)?;
    Ok(())
}
