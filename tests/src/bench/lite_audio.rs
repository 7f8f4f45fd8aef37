//! `lite_audio_stoi`: how intelligible the lite audio is, measured, not assumed. Every sample
//! lecture's audio is encoded with candidate Opus settings and scored with STOI (short-time
//! objective intelligibility, Taal et al. 2011; pystoi, from the venv `cargo xtask bench`
//! makes) against the lecture's source audio. The fewest bytes with STOI >= 0.95 on every
//! lecture is the measured choice; the rows check the packer uses it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use satchel_server::media;
use satchel_server::pack::lite::{self, OLD_AUDIO, OpusSetting, SPEECH_AUDIO};

use super::report::{Goal, Row};
use crate::sample::packed_sample;

/// Intelligibility the lite audio must keep on every lecture.
const MIN_STOI: f64 = 0.95;

const fn voip(kbps: u32, frame_ms: f32) -> OpusSetting {
    OpusSetting { kbps, application: "voip", cutoff_hz: None, frame_ms, input_rate: None }
}

/// The candidates: bitrates around the speech range, and at the low end the other knobs (music
/// tuning, a wideband cut-off, 16 kHz input, longer frames).
const CANDIDATES: &[OpusSetting] = &[
    voip(6, 20.0),
    voip(8, 20.0),
    OpusSetting { application: "audio", ..voip(8, 20.0) },
    OpusSetting { cutoff_hz: Some(8_000), ..voip(8, 20.0) },
    OpusSetting { input_rate: Some(16_000), ..voip(8, 20.0) },
    voip(8, 60.0),
    voip(9, 20.0),
    voip(10, 20.0),
    voip(10, 60.0),
    voip(12, 20.0),
    voip(16, 20.0),
    voip(20, 20.0),
];

/// Scores of one setting over the lectures.
struct Scored {
    setting: OpusSetting,
    bytes: u64,
    stoi: Vec<f64>,
}

impl Scored {
    fn worst(&self) -> f64 {
        self.stoi.iter().copied().fold(f64::INFINITY, f64::min)
    }
}

/// Decodes any audio to 16 kHz mono 16-bit WAV, the rate STOI is defined near (pystoi works at
/// 10 kHz and resamples).
fn to_wav(input: &Path, wav: &Path) -> Result<()> {
    media::ffmpeg(&[
        "-i",
        media::path_str(input)?,
        "-vn",
        "-ac",
        "1",
        "-ar",
        "16000",
        "-c:a",
        "pcm_s16le",
        media::path_str(wav)?,
    ])
}

/// STOI of each (reference, degraded) pair, from one run of the pystoi script.
fn stoi(python: &Path, work: &Path, pairs: &[(PathBuf, PathBuf)]) -> Result<Vec<f64>> {
    let script = work.join("stoi.py");
    std::fs::write(&script, include_str!("stoi.py"))?;
    let mut child = Command::new(python)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", python.display()))?;
    let mut input = String::new();
    for (reference, degraded) in pairs {
        input.push_str(&format!("{}\t{}\n", media::path_str(reference)?, media::path_str(degraded)?));
    }
    child.stdin.take().context("no stdin")?.write_all(input.as_bytes())?;
    let output = child.wait_with_output()?;
    if !output.status.success() {
        bail!("the STOI script failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    let scores: Vec<f64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| l.trim().parse())
        .collect::<Result<_, _>>()?;
    if scores.len() != pairs.len() {
        bail!("the STOI script scored {} of {} pairs", scores.len(), pairs.len());
    }
    Ok(scores)
}

/// `lite_audio_stoi` and its peers.
pub fn intelligibility() -> Result<Vec<Row>> {
    let python = PathBuf::from(std::env::var_os("SATCHEL_BENCH_PYTHON").context(
        "SATCHEL_BENCH_PYTHON is not set: run the benchmarks with cargo xtask bench, which makes the venv with pystoi",
    )?);
    let packed = packed_sample()?;
    let videos: Vec<PathBuf> = packed
        .report
        .lessons
        .iter()
        .filter(|l| l.duration_ms.is_some())
        .map(|l| packed.source.join(l.lesson_id.rsplit('.').next().unwrap_or_default()).join("video.mp4"))
        .collect();
    let work = tempfile::tempdir()?;
    let mut references = Vec::new();
    for (i, video) in videos.iter().enumerate() {
        let wav = work.path().join(format!("source-{i}.wav"));
        to_wav(video, &wav)?;
        references.push(wav);
    }
    let mut candidates: Vec<OpusSetting> = CANDIDATES.to_vec();
    for required in [SPEECH_AUDIO, OLD_AUDIO] {
        if !candidates.contains(&required) {
            candidates.push(required);
        }
    }
    let mut pairs = Vec::new();
    let mut scored = Vec::new();
    for (c, setting) in candidates.iter().enumerate() {
        let mut bytes = 0;
        for (i, video) in videos.iter().enumerate() {
            let ogg = work.path().join(format!("c{c}-{i}.ogg"));
            lite::encode_audio(video, &ogg, setting)?;
            bytes += std::fs::metadata(&ogg)?.len();
            let wav = work.path().join(format!("c{c}-{i}.wav"));
            to_wav(&ogg, &wav)?;
            pairs.push((references[i].clone(), wav));
        }
        scored.push(Scored { setting: *setting, bytes, stoi: Vec::new() });
    }
    let scores = stoi(&python, work.path(), &pairs)?;
    for (s, chunk) in scored.iter_mut().zip(scores.chunks(videos.len())) {
        s.stoi = chunk.to_vec();
    }
    println!("lite audio candidates over {} lectures (STOI against the source audio):", videos.len());
    println!("{:<32} {:>10} {:>10} {:>10}", "setting", "bytes", "worst", "mean");
    for s in &scored {
        let mean = s.stoi.iter().sum::<f64>() / s.stoi.len().max(1) as f64;
        println!("{:<32} {:>10} {:>10.4} {:>10.4}", s.setting.name(), s.bytes, s.worst(), mean);
    }
    let chosen = scored
        .iter()
        .filter(|s| s.worst() >= MIN_STOI)
        .min_by_key(|s| s.bytes)
        .context("no candidate keeps STOI >= 0.95 on every lecture")?;
    let of = |setting: OpusSetting| {
        scored.iter().find(|s| s.setting == setting).context("a setting was not scored")
    };
    let (packer, old) = (of(SPEECH_AUDIO)?, of(OLD_AUDIO)?);
    println!(
        "lite audio: measured choice {} ({} kbit/s); the packer uses {} ({} kbit/s)",
        chosen.setting.name(),
        chosen.setting.kbps,
        packer.setting.name(),
        packer.setting.kbps
    );
    let at_least = Goal::RatioAtLeast(MIN_STOI);
    let full = "the full video's audio (1.0 by definition)";
    Ok(vec![
        Row::new("lite_audio_stoi", packer.worst(), "stoi", full, 1.0, at_least),
        Row::new("lite_audio_stoi:opus_20k", old.worst(), "stoi", full, 1.0, at_least),
        Row::new(
            "lite_audio_bytes_vs_20k",
            packer.bytes as f64,
            "bytes",
            "Opus at the old 20 kbit/s",
            old.bytes as f64,
            Goal::RatioAtMost(1.0),
        ),
        Row::new(
            "lite_audio_bytes_vs_measured_choice",
            packer.bytes as f64,
            "bytes",
            "the fewest bytes with STOI >= 0.95",
            chosen.bytes as f64,
            Goal::RatioAtMost(1.0),
        ),
    ])
}
