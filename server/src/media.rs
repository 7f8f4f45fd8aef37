//! Running the media tools (ffmpeg, ffprobe, espeak-ng) with clear errors when they are missing
//! or fail.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Runs a tool and fails with its stderr.
pub fn run(program: &str, args: &[&str]) -> Result<()> {
    let output =
        Command::new(program).args(args).stdin(Stdio::null()).output().with_context(|| {
            format!("cannot run {program}: is it installed? (cargo xtask test installs it)")
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(6).collect();
        bail!(
            "{program} failed ({}): {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        );
    }
    Ok(())
}

/// Runs ffmpeg quietly, overwriting outputs, with `args` after the common flags.
pub fn ffmpeg(args: &[&str]) -> Result<()> {
    let mut all = vec!["-hide_banner", "-loglevel", "error", "-y"];
    all.extend_from_slice(args);
    run("ffmpeg", &all)
}

/// Runs a tool and returns its stdout bytes.
pub fn output(program: &str, args: &[&str]) -> Result<Vec<u8>> {
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {program}: is it installed?"))?;
    if !output.status.success() {
        // One line, as errors are shown: the tool's lines joined.
        let stderr = String::from_utf8_lossy(&output.stderr);
        bail!(
            "{program} failed ({}): {}",
            output.status,
            stderr.trim().lines().collect::<Vec<_>>().join(" | ")
        );
    }
    Ok(output.stdout)
}

/// A media file's duration in milliseconds, from ffprobe. Fails on unreadable media.
pub fn duration_ms(path: &Path) -> Result<u64> {
    let path_text = path.to_str().context("media path is not UTF-8")?;
    let out = output(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "default=noprint_wrappers=1:nokey=1",
            path_text,
        ],
    )
    .with_context(|| format!("{} is not readable media", path.display()))?;
    let seconds: f64 = String::from_utf8_lossy(&out)
        .trim()
        .parse()
        .with_context(|| format!("{} has no duration: is it a video?", path.display()))?;
    if !seconds.is_finite() || seconds <= 0.0 {
        bail!("{} has no playable duration", path.display());
    }
    Ok((seconds * 1000.0).round() as u64)
}

/// Whether a media file has an audio stream, from ffprobe. Fails on unreadable media.
pub fn has_audio(path: &Path) -> Result<bool> {
    let out = output(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "a",
            "-show_entries",
            "stream=index",
            "-of",
            "csv=p=0",
            path_str(path)?,
        ],
    )
    .with_context(|| format!("{} is not readable media", path.display()))?;
    Ok(!String::from_utf8_lossy(&out).trim().is_empty())
}

pub fn path_str(path: &Path) -> Result<&str> {
    path.to_str().with_context(|| format!("{} is not a UTF-8 path", path.display()))
}
