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
