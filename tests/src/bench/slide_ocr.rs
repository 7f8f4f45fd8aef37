//! `slide_ocr_cer_delta`: whether the lite slide stills stay legible, measured with real OCR.
//! Every distinct slide of every sample lecture is taken from the full video at full resolution
//! and as a lite still in each candidate encoding at the same width; tesseract reads each, and
//! the character error rate against the slide's true text (from the generator's truth) is
//! compared: the still may lose at most 1 point against the full-resolution frame.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};
use satchel_server::media;
use satchel_server::pack::lite::{self, OLD_STILL, SLIDE_STILL, StillEncoding};

use super::report::{Goal, Row};
use crate::lite::{TrueSlide, truth};
use crate::sample::packed_sample;

/// The most CER the still may add to the full frame's.
const MAX_CER_DELTA: f64 = 0.01;

/// The candidates, all at the lite width.
const CANDIDATES: &[StillEncoding] = &[
    StillEncoding::Lossy(40),
    StillEncoding::Lossy(75),
    StillEncoding::Lossless,
    StillEncoding::Palette(8),
    StillEncoding::Palette(16),
    StillEncoding::Palette(32),
];

/// tesseract's text of an image (converted to PNG first, which every tesseract build reads).
fn ocr(image: &Path, work: &Path) -> Result<String> {
    let png = work.join("ocr-input.png");
    media::ffmpeg(&["-i", media::path_str(image)?, media::path_str(&png)?])?;
    let output = Command::new("tesseract")
        .arg(&png)
        .args(["-", "--psm", "3"])
        .output()
        .context("cannot run tesseract: cargo xtask bench installs tesseract-ocr")?;
    if !output.status.success() {
        bail!("tesseract failed on {}: {}", image.display(), String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn levenshtein(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// A line without the bullet glyph OCR reads as `*`, `+` or `¢`, and its outer spaces.
fn text_of(line: &str) -> Vec<char> {
    line.trim().trim_start_matches(|c: char| !c.is_alphanumeric()).trim().chars().collect()
}

/// Character errors of the OCR text against the slide's lines (title and bullets): each true
/// line is matched with the OCR line nearest to it, so the footer and the camera window's
/// picture, which the truth does not list, cost nothing. Returns (errors, true characters).
fn char_errors(slide: &TrueSlide, ocr_text: &str) -> (usize, usize) {
    let read: Vec<Vec<char>> = ocr_text.lines().map(text_of).filter(|l| !l.is_empty()).collect();
    let mut errors = 0;
    let mut chars = 0;
    for line in std::iter::once(&slide.title).chain(&slide.bullets) {
        let truth = text_of(line);
        chars += truth.len();
        errors += read.iter().map(|r| levenshtein(&truth, r)).min().unwrap_or(truth.len()).min(truth.len());
    }
    (errors, chars)
}

struct Scored {
    encoding: StillEncoding,
    bytes: u64,
    errors: usize,
}

/// `slide_ocr_cer_delta` and its peers.
pub fn legibility() -> Result<Vec<Row>> {
    let packed = packed_sample()?;
    let work = tempfile::tempdir()?;
    let mut candidates = CANDIDATES.to_vec();
    for required in [SLIDE_STILL, OLD_STILL] {
        if !candidates.contains(&required) {
            candidates.push(required);
        }
    }
    let mut scored: Vec<Scored> =
        candidates.iter().map(|e| Scored { encoding: *e, bytes: 0, errors: 0 }).collect();
    let (mut full_errors, mut chars, mut stills) = (0usize, 0usize, 0usize);
    for lesson in packed.report.lessons.iter().filter(|l| l.duration_ms.is_some()) {
        let folder = packed.source.join(lesson.lesson_id.rsplit('.').next().unwrap_or_default());
        let video = folder.join("video.mp4");
        let slides = truth(&folder)?;
        // Each distinct picture once, a second into its first showing (past any transition).
        let mut done = Vec::new();
        for slide in &slides {
            if done.contains(&slide.picture) {
                continue;
            }
            done.push(slide.picture);
            stills += 1;
            let at_ms = slide.at_ms + 1_000;
            let full = work.path().join("full.png");
            let at = format!("{:.3}", at_ms as f64 / 1000.0);
            media::ffmpeg(&[
                "-ss",
                &at,
                "-i",
                media::path_str(&video)?,
                "-frames:v",
                "1",
                media::path_str(&full)?,
            ])?;
            let (errors, n) = char_errors(slide, &ocr(&full, work.path())?);
            full_errors += errors;
            chars += n;
            for s in &mut scored {
                let still = work.path().join("still.webp");
                lite::encode_still(&video, at_ms, &still, s.encoding)?;
                s.bytes += std::fs::metadata(&still)?.len();
                s.errors += char_errors(slide, &ocr(&still, work.path())?).0;
            }
        }
    }
    let cer = |errors: usize| errors as f64 / chars.max(1) as f64;
    let full_cer = cer(full_errors);
    println!(
        "slide stills: {stills} slides, {chars} characters; OCR CER of the full-resolution frames {full_cer:.4}"
    );
    println!("{:<28} {:>10} {:>8} {:>8}", "encoding", "bytes", "cer", "delta");
    for s in &scored {
        println!(
            "{:<28} {:>10} {:>8.4} {:>8.4}",
            s.encoding.name(),
            s.bytes,
            cer(s.errors),
            cer(s.errors) - full_cer
        );
    }
    let chosen = scored
        .iter()
        .filter(|s| cer(s.errors) - full_cer <= MAX_CER_DELTA)
        .min_by_key(|s| s.bytes)
        .context("no still encoding stays within 1 point of the full frame's OCR")?;
    let of = |encoding: StillEncoding| scored.iter().find(|s| s.encoding == encoding).context("not scored");
    let (packer, old) = (of(SLIDE_STILL)?, of(OLD_STILL)?);
    println!(
        "slide stills: measured choice {}; the packer uses {}",
        chosen.encoding.name(),
        packer.encoding.name()
    );
    Ok(vec![
        Row::new(
            "slide_ocr_cer_delta",
            cer(packer.errors) - full_cer,
            "cer",
            "tesseract on the full-resolution frame (its CER)",
            full_cer,
            Goal::ValueAtMost(MAX_CER_DELTA),
        ),
        Row::new(
            "slide_still_bytes_vs_lossy_webp",
            packer.bytes as f64,
            "bytes",
            "lossy WebP q40, the old stills",
            old.bytes as f64,
            Goal::RatioAtMost(1.0),
        ),
        Row::new(
            "slide_still_bytes_vs_measured_choice",
            packer.bytes as f64,
            "bytes",
            "the fewest bytes within 1 CER point",
            chosen.bytes as f64,
            Goal::RatioAtMost(1.0),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_count_edits_against_the_nearest_line() {
        let slide = TrueSlide {
            at_ms: 0,
            picture: 0,
            title: "Clearing the cache".into(),
            bullets: vec!["Try a private window".into()],
        };
        assert_eq!(char_errors(&slide, "Clearing the cache\n* Try a private window\nfooter 1/2\n"), (0, 38));
        assert_eq!(char_errors(&slide, "Clearing tho cache\n¢ Try a privale window\n"), (2, 38));
        assert_eq!(char_errors(&slide, ""), (38, 38), "nothing read: every character is an error");
    }
}
