//! The lite rendition's media: speech-quality audio and small slide stills.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::slides::{self, Detection};
use crate::media;

/// Opus, mono, speech tuning: clear speech at a fraction of the video's audio bitrate.
pub const AUDIO_BITRATE: &str = "20k";
/// Slide stills: 640 px wide, WebP. Text stays legible on a phone screen.
const SLIDE_WIDTH: u32 = 640;
const SLIDE_QUALITY: &str = "40";

pub fn audio(video: &Path, out: &Path) -> Result<PathBuf> {
    let path = out.join("audio.ogg");
    media::ffmpeg(&[
        "-i",
        media::path_str(video)?,
        "-vn",
        "-ac",
        "1",
        "-c:a",
        "libopus",
        "-b:a",
        AUDIO_BITRATE,
        "-application",
        "voip",
        // Reproducible output: without it the Ogg stream gets a random serial number, so every
        // pack of an unchanged lecture made a new audio blob and a course update refetched
        // every lecture's audio.
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        media::path_str(&path)?,
    ])?;
    Ok(path)
}

/// Detects the slides and writes one still per distinct slide.
pub fn slides(video: &Path, out: &Path) -> Result<(Detection, Vec<PathBuf>)> {
    let detection = slides::detect(video)?;
    let mut images = Vec::new();
    for (i, at_ms) in detection.image_times_ms.iter().enumerate() {
        let path = out.join(format!("slide-{:03}.webp", i + 1));
        media::ffmpeg(&[
            "-ss",
            &format!("{:.3}", *at_ms as f64 / 1000.0),
            "-i",
            media::path_str(video)?,
            "-frames:v",
            "1",
            "-vf",
            &format!("scale={SLIDE_WIDTH}:-2"),
            "-c:v",
            "libwebp",
            "-quality",
            SLIDE_QUALITY,
            "-compression_level",
            "6",
            media::path_str(&path)?,
        ])?;
        images.push(path);
    }
    Ok((detection, images))
}
