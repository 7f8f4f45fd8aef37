//! Narration: espeak-ng reads each sentence; the sentences are joined into one track with a
//! pause between slides, and their timings become the WebVTT transcript.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::script::Slide;
use crate::media;

/// Words per minute: a calm lecturing pace.
const SPEECH_RATE: &str = "120";
/// Silence after each slide's narration, before the next slide.
const SLIDE_PAUSE_MS: u64 = 1_500;

/// The joined narration track and where each slide starts.
pub struct Narration {
    pub wav: std::path::PathBuf,
    pub slide_starts_ms: Vec<u64>,
    pub duration_ms: u64,
}

pub fn synthesize(slides: &[Slide], out: &Path) -> Result<Narration> {
    let work = out.join("tts");
    fs::create_dir_all(&work)?;
    let mut samples: Vec<i16> = Vec::new();
    let mut rate = 0u32;
    let mut vtt = String::from("WEBVTT\n");
    let mut slide_starts_ms = Vec::new();
    let mut cue = 0;
    for (s, slide) in slides.iter().enumerate() {
        slide_starts_ms.push(ms(samples.len(), rate.max(1)));
        for sentence in &slide.sentences {
            let wav = work.join(format!("{s:02}-{cue:03}.wav"));
            media::run(
                "espeak-ng",
                &["-v", "en-us", "-s", SPEECH_RATE, "-w", media::path_str(&wav)?, sentence],
            )?;
            let mut reader = hound::WavReader::open(&wav).context("espeak-ng wrote no readable WAV")?;
            let spec = reader.spec();
            if spec.channels != 1 || spec.bits_per_sample != 16 {
                bail!(
                    "espeak-ng wrote {} channels at {} bits; expected mono 16-bit",
                    spec.channels,
                    spec.bits_per_sample
                );
            }
            if rate == 0 {
                rate = spec.sample_rate;
            }
            let start = ms(samples.len(), rate);
            for sample in reader.samples::<i16>() {
                samples.push(sample?);
            }
            let end = ms(samples.len(), rate);
            cue += 1;
            vtt.push_str(&format!("\n{cue}\n{} --> {}\n{sentence}\n", timestamp(start), timestamp(end)));
        }
        samples.extend(std::iter::repeat_n(0, (SLIDE_PAUSE_MS * u64::from(rate) / 1000) as usize));
    }
    let wav = out.join("narration.wav");
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(&wav, spec)?;
    for sample in &samples {
        writer.write_sample(*sample)?;
    }
    writer.finalize()?;
    fs::write(out.join("transcript.vtt"), vtt)?;
    fs::remove_dir_all(&work)?;
    Ok(Narration { wav, slide_starts_ms, duration_ms: ms(samples.len(), rate) })
}

fn ms(samples: usize, rate: u32) -> u64 {
    samples as u64 * 1000 / u64::from(rate)
}

fn timestamp(ms: u64) -> String {
    format!("{:02}:{:02}:{:02}.{:03}", ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000)
}
