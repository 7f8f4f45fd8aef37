//! The lite rendition's media: speech-quality audio and small slide stills.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::slides::{self, Detection};
use crate::media;

/// How the lite audio is encoded: Opus, mono, with these encoder settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpusSetting {
    /// Target bitrate, kbit/s.
    pub kbps: u32,
    /// libopus application: `voip` tunes for speech, `audio` for music.
    pub application: &'static str,
    /// Audio bandwidth cut-off in Hz (8000 is wideband); `None` lets the encoder choose.
    pub cutoff_hz: Option<u32>,
    /// Frame duration, ms (20 is the default; longer frames spend fewer bits on headers).
    pub frame_ms: f32,
    /// Resample the input to this rate first (16000: wideband speech); `None` keeps it.
    pub input_rate: Option<u32>,
}

impl OpusSetting {
    /// A short name for tables: `10k voip 20ms`.
    pub fn name(&self) -> String {
        let mut name = format!("{}k {} {}ms", self.kbps, self.application, self.frame_ms);
        if let Some(cutoff) = self.cutoff_hz {
            name.push_str(&format!(" cutoff {cutoff}"));
        }
        if let Some(rate) = self.input_rate {
            name.push_str(&format!(" in {rate} Hz"));
        }
        name
    }
}

/// The lite audio's setting: the fewest bytes whose speech intelligibility (STOI against the
/// source audio) stays at 0.95 or more on every sample lecture, as `cargo xtask bench` measures
/// it (row `lite_audio_stoi`; docs/content.md has the table of candidates): 10 kbit/s in 60 ms
/// frames scored 0.957 at worst, where 8 kbit/s fell to 0.946 and the old 20 kbit/s, 0.986, cost
/// more than twice the bytes.
pub const SPEECH_AUDIO: OpusSetting =
    OpusSetting { kbps: 10, application: "voip", cutoff_hz: None, frame_ms: 60.0, input_rate: None };

/// The setting before it was measured: 20 kbit/s, kept as the bench's peer.
pub const OLD_AUDIO: OpusSetting =
    OpusSetting { kbps: 20, application: "voip", cutoff_hz: None, frame_ms: 20.0, input_rate: None };

/// Slide stills are this wide: text stays legible on a phone screen.
pub const SLIDE_WIDTH: u32 = 640;

/// How a slide still is encoded, always as WebP.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StillEncoding {
    /// Lossy WebP at this quality (0-100).
    Lossy(u32),
    /// Lossless WebP of the scaled frame.
    Lossless,
    /// Reduced to this many colours (no dithering), then lossless WebP: text slides are mostly
    /// flat colour, so a small palette keeps every edge sharp in few bytes.
    Palette(u32),
}

impl StillEncoding {
    /// A short name for tables.
    pub fn name(&self) -> String {
        match self {
            StillEncoding::Lossy(quality) => format!("lossy webp q{quality}"),
            StillEncoding::Lossless => "lossless webp".into(),
            StillEncoding::Palette(colours) => format!("{colours}-colour lossless webp"),
        }
    }
}

/// The stills' encoding: the fewest bytes whose OCR character error rate stays within 1 point
/// of the full-resolution frame's, as `cargo xtask bench` measures it (row
/// `slide_ocr_cer_delta`; docs/content.md has the table of candidates): 8 colours read as well
/// as the full frame on the sample's 28 slides at 38% of the bytes of lossy WebP q40.
pub const SLIDE_STILL: StillEncoding = StillEncoding::Palette(8);

/// The encoding before it was measured, kept as the bench's peer.
pub const OLD_STILL: StillEncoding = StillEncoding::Lossy(40);

/// Writes the frame of `video` at `at_ms` as a still `path`, `SLIDE_WIDTH` wide.
pub fn encode_still(video: &Path, at_ms: u64, path: &Path, encoding: StillEncoding) -> Result<()> {
    let at = format!("{:.3}", at_ms as f64 / 1000.0);
    let scale = format!("scale={SLIDE_WIDTH}:-2:flags=area");
    let (filter, codec): (String, Vec<String>) = match encoding {
        StillEncoding::Lossy(quality) => (scale, vec!["-quality".into(), quality.to_string()]),
        StillEncoding::Lossless => (scale, vec!["-lossless".into(), "1".into()]),
        StillEncoding::Palette(colours) => (
            format!(
                "{scale},split[a][b];[a]palettegen=max_colors={colours}:reserve_transparent=0:\
                 stats_mode=single[p];[b][p]paletteuse=dither=none"
            ),
            vec!["-lossless".into(), "1".into()],
        ),
    };
    let mut args =
        vec!["-ss", &at, "-i", media::path_str(video)?, "-frames:v", "1", "-filter_complex", &filter];
    args.extend(["-c:v", "libwebp"]);
    args.extend(codec.iter().map(String::as_str));
    args.extend(["-compression_level", "6", media::path_str(path)?]);
    media::ffmpeg(&args)
}

pub fn audio(video: &Path, out: &Path) -> Result<PathBuf> {
    let path = out.join("audio.ogg");
    encode_audio(video, &path, &SPEECH_AUDIO)?;
    Ok(path)
}

/// Encodes the audio of `video` into the Ogg Opus file `path` with `setting`.
pub fn encode_audio(video: &Path, path: &Path, setting: &OpusSetting) -> Result<()> {
    let bitrate = format!("{}k", setting.kbps);
    let frame = setting.frame_ms.to_string();
    let mut args = vec!["-i", media::path_str(video)?, "-vn", "-ac", "1"];
    let rate;
    if let Some(input_rate) = setting.input_rate {
        rate = input_rate.to_string();
        args.extend(["-ar", rate.as_str()]);
    }
    args.extend(["-c:a", "libopus", "-b:a", &bitrate, "-application", setting.application]);
    args.extend(["-frame_duration", &frame]);
    let cutoff;
    if let Some(hz) = setting.cutoff_hz {
        cutoff = hz.to_string();
        args.extend(["-cutoff", cutoff.as_str()]);
    }
    // Reproducible output: without it the Ogg stream gets a random serial number, so every
    // pack of an unchanged lecture made a new audio blob and a course update refetched every
    // lecture's audio.
    args.extend(["-fflags", "+bitexact", "-flags:a", "+bitexact", media::path_str(path)?]);
    media::ffmpeg(&args)
}

/// Detects the slides and writes one still per distinct slide.
pub fn slides(video: &Path, duration_ms: u64, out: &Path) -> Result<(Detection, Vec<PathBuf>)> {
    let detection = slides::detect(video, duration_ms)?;
    let mut images = Vec::new();
    for (i, at_ms) in detection.image_times_ms.iter().enumerate() {
        let path = out.join(format!("slide-{:03}.webp", i + 1));
        encode_still(video, *at_ms, &path, SLIDE_STILL)?;
        images.push(path);
    }
    Ok((detection, images))
}
