//! Content benchmarks on the real sample course: lite versus full bytes per lecture, the slides
//! found against the truth, the course
//! text with its trained dictionary versus gzip -9 and brotli -q 11 per file (what web servers
//! send), and packing speed versus one plain decode of the same video.

use std::io::Write;
use std::time::Instant;

use anyhow::{Context, Result};
use satchel_core::catalog::Manifest;

use super::report::{Goal, Row};
use crate::lite;
use crate::sample::{PackedSample, packed_sample};

fn manifest(packed: &PackedSample) -> Result<Manifest> {
    let envelope: serde_json::Value = serde_json::from_slice(&std::fs::read(&packed.report.manifest_path)?)?;
    let payload = envelope["payload"].as_str().context("envelope without payload")?;
    Ok(Manifest::parse(payload)?)
}

/// The lite goal: 3% of the full rendition's bytes, on every lecture and together.
const LITE_GOAL: f64 = 0.03;

/// `lite_vs_full_bytes`: for every lecture (the two staged like real recordings among them),
/// and all of them together.
pub fn lite_vs_full() -> Result<Vec<Row>> {
    let packed = packed_sample()?;
    let lectures: Vec<_> = packed.report.lessons.iter().filter(|l| l.duration_ms.is_some()).collect();
    let mut rows = Vec::new();
    let (mut lite, mut full) = (0u64, 0u64);
    for l in &lectures {
        lite += l.lite;
        full += l.full;
        rows.push(Row::new(
            &format!("lite_vs_full_bytes:{}", l.lesson_id),
            l.lite as f64,
            "bytes",
            "the full rendition",
            l.full as f64,
            Goal::RatioAtMost(LITE_GOAL),
        ));
    }
    rows.insert(
        0,
        Row::new(
            "lite_vs_full_bytes",
            lite as f64,
            "bytes",
            "the full renditions",
            full as f64,
            Goal::RatioAtMost(LITE_GOAL),
        ),
    );
    Ok(rows)
}

/// `slides_found_vs_true`: the slides the packer found in every lecture against the truth the
/// generator drew (exactly as many, each showing the right still), and the worst time error.
pub fn slides_found() -> Result<Vec<Row>> {
    let packed = packed_sample()?;
    let (mut found, mut truth, mut worst, mut exact) = (0usize, 0usize, 0u64, true);
    for l in packed.report.lessons.iter().filter(|l| l.duration_ms.is_some()) {
        let folder = packed.source.join(l.lesson_id.rsplit('.').next().unwrap_or_default());
        let matched = lite::compare(
            &lite::timeline(&packed.dir, &packed.report.course_id, &l.lesson_id)?,
            &lite::truth(&folder)?,
        )?;
        println!("slides of {}: {matched:?}", l.lesson_id);
        found += matched.found;
        truth += matched.truth;
        exact &= matched.same_pictures;
        worst = worst.max(matched.worst_error_ms.unwrap_or(u64::MAX));
    }
    Ok(vec![
        Row::new(
            "slides_found_vs_true",
            if exact { found as f64 } else { f64::NAN },
            "count",
            "the true slides (NaN: a lecture's slides do not match)",
            truth as f64,
            Goal::RatioEquals(1.0),
        ),
        Row::new(
            "slides_worst_time_error_ms",
            worst as f64,
            "ms",
            "the truth's times",
            0.0,
            Goal::ValueAtMost(1_000.0),
        ),
    ])
}

/// The course's text files as a web server would hold them (the source WebVTT transcripts and
/// Markdown readings), and what a lite download of the whole course carries for them: the text
/// pack, one solid zstd frame with every lite transcript (compact cues), reading and slide
/// timeline. Lite text needs no dictionary, so none is counted.
fn course_text() -> Result<(Vec<Vec<u8>>, u64)> {
    let packed = packed_sample()?;
    let manifest = manifest(packed)?;
    let ours = manifest.text_pack.as_ref().context("the packed course has no text pack")?.blob.stored_size;
    let source: serde_json::Value =
        serde_json::from_slice(&std::fs::read(packed.source.join("course.json"))?)?;
    let mut files = Vec::new();
    for lesson in source["modules"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["lessons"].as_array().into_iter().flatten())
    {
        for key in ["transcript", "reading"] {
            if let Some(path) = lesson[key].as_str() {
                files.push(std::fs::read(packed.source.join(path))?);
            }
        }
    }
    Ok((files, ours))
}

fn gzip9(data: &[u8]) -> Result<usize> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(data)?;
    Ok(encoder.finish()?.len())
}

fn brotli11(data: &[u8]) -> Result<usize> {
    let mut out = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut out, 4096, 11, 22);
        writer.write_all(data)?;
    }
    Ok(out.len())
}

/// `text_dict_vs_gzip` and `text_vs_brotli`.
pub fn text() -> Result<Vec<Row>> {
    let (texts, ours) = course_text()?;
    let gzip: usize = texts.iter().map(|t| gzip9(t)).sum::<Result<usize>>()?;
    let brotli: usize = texts.iter().map(|t| brotli11(t)).sum::<Result<usize>>()?;
    Ok(vec![
        Row::new(
            "text_dict_vs_gzip",
            ours as f64,
            "bytes",
            "gzip -9 per source file (ours: the lite text pack)",
            gzip as f64,
            Goal::RatioAtMost(0.85),
        ),
        Row::new(
            "text_vs_brotli",
            ours as f64,
            "bytes",
            "brotli -q 11 per file",
            brotli as f64,
            Goal::RatioAtMost(1.0),
        ),
    ])
}

/// `pack_seconds_per_video_minute`: packing the sample course, beside one plain ffmpeg decode of
/// the same videos (the least any packager that looks at the video must do).
pub fn pack_speed() -> Result<Vec<Row>> {
    let packed = packed_sample()?;
    let minutes: f64 =
        packed.report.lessons.iter().filter_map(|l| l.duration_ms).sum::<u64>() as f64 / 60_000.0;
    let started = Instant::now();
    for lesson in packed.report.lessons.iter().filter(|l| l.duration_ms.is_some()) {
        let folder = lesson.lesson_id.rsplit('.').next().unwrap_or_default();
        let video = packed.source.join(folder).join("video.mp4");
        satchel_server::media::run(
            "ffmpeg",
            &["-v", "error", "-i", satchel_server::media::path_str(&video)?, "-f", "null", "-"],
        )?;
    }
    let decode = started.elapsed().as_secs_f64();
    Ok(vec![Row::new(
        "pack_seconds_per_video_minute",
        packed.report.seconds / minutes,
        "s/min",
        "one ffmpeg decode of the same videos",
        decode / minutes,
        Goal::ValueAtMost(20.0),
    )])
}
