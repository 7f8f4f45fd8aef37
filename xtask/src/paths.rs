//! Where things are in the workspace.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().map(PathBuf::from).unwrap_or(manifest_dir)
}

/// Cargo's target directory, honouring `CARGO_TARGET_DIR`.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => workspace_root().join("target"),
    }
}

/// The debug build of the core's shared library (unstripped: bindgen reads its metadata).
pub fn core_cdylib() -> PathBuf {
    target_dir().join("debug").join(format!(
        "{}satchel_core.{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_EXTENSION
    ))
}

/// Where downloaded tools (the Kotlin compiler, the Swift chroot) are kept between runs.
pub fn tools_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("SATCHEL_TOOLS_DIR") {
        return PathBuf::from(dir);
    }
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".cache/satchel"),
        None => target_dir().join("tools"),
    }
}

/// Every file under `dir` (recursively) whose name ends in `.{extension}`, sorted.
pub fn collect_files(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(&path, extension, out)?;
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
    out.sort();
    Ok(())
}
