//! Finding slide changes in a lecture video while ignoring the instructor's camera window.
//!
//! The video is sampled at 2 frames a second as tiny 64×36 grey images, cut into an 8×6 grid of
//! cells. Cells that change in most samples are live motion (the camera window, wherever it is)
//! and are masked out; a change in the remaining cells is a slide change. This needs no
//! knowledge of the layout, and a slide that returns later is recognised and stored once.

use std::path::Path;

use anyhow::{Result, bail};

use crate::media;

const SAMPLES_PER_SECOND: u64 = 2;
const W: usize = 64;
const H: usize = 36;
const CELL_W: usize = 8;
const CELL_H: usize = 6;
const COLS: usize = W / CELL_W;
const ROWS: usize = H / CELL_H;
/// Mean absolute grey difference for a cell to count as changed.
const CELL_CHANGED: f64 = 4.0;
/// A cell changing in more than this share of samples is live motion, not slides.
const MOTION_SHARE: f64 = 0.3;
/// Two slides closer than this are one (a transition or a build-up).
const MIN_SLIDE_MS: u64 = 1_500;
/// Below this masked difference two slide frames show the same slide.
const SAME_SLIDE: f64 = 1.5;

/// One detected slide: when it appears and which distinct slide image it is.
#[derive(Debug, Clone, PartialEq)]
pub struct SlideShown {
    pub at_ms: u64,
    /// Index into the distinct slides (a slide shown twice has one image).
    pub image: usize,
}

/// Detected slides and, per distinct slide, the time of a good frame to take its picture from.
#[derive(Debug, Clone)]
pub struct Detection {
    pub shown: Vec<SlideShown>,
    pub image_times_ms: Vec<u64>,
}

pub fn detect(video: &Path) -> Result<Detection> {
    let raw = media::output(
        "ffmpeg",
        &[
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            media::path_str(video)?,
            "-vf",
            &format!("fps={SAMPLES_PER_SECOND},scale={W}:{H}:flags=area,format=gray"),
            "-f",
            "rawvideo",
            "-",
        ],
    )?;
    let frames: Vec<&[u8]> = raw.chunks_exact(W * H).collect();
    if frames.is_empty() {
        bail!("{} has no video frames", video.display());
    }
    Ok(detect_in_frames(&frames))
}

fn cell_diffs(a: &[u8], b: &[u8]) -> [f64; COLS * ROWS] {
    let mut out = [0.0; COLS * ROWS];
    for (cell, slot) in out.iter_mut().enumerate() {
        let (cx, cy) = (cell % COLS, cell / COLS);
        let mut sum = 0u32;
        for y in cy * CELL_H..(cy + 1) * CELL_H {
            for x in cx * CELL_W..(cx + 1) * CELL_W {
                sum += u32::from(a[y * W + x].abs_diff(b[y * W + x]));
            }
        }
        *slot = f64::from(sum) / (CELL_W * CELL_H) as f64;
    }
    out
}

fn masked_difference(a: &[u8], b: &[u8], motion: &[bool]) -> f64 {
    let diffs = cell_diffs(a, b);
    let kept: Vec<f64> = diffs.iter().zip(motion).filter(|(_, m)| !**m).map(|(d, _)| *d).collect();
    kept.iter().copied().fold(0.0, f64::max)
}

pub fn detect_in_frames(frames: &[&[u8]]) -> Detection {
    let pairs: Vec<[f64; COLS * ROWS]> = frames.windows(2).map(|p| cell_diffs(p[0], p[1])).collect();
    let motion: Vec<bool> = (0..COLS * ROWS)
        .map(|cell| {
            let changed = pairs.iter().filter(|d| d[cell] > CELL_CHANGED).count();
            !pairs.is_empty() && changed as f64 / pairs.len() as f64 > MOTION_SHARE
        })
        .collect();

    let ms_of = |index: usize| index as u64 * 1000 / SAMPLES_PER_SECOND;
    let mut starts = vec![0usize];
    for (i, diffs) in pairs.iter().enumerate() {
        let changed = diffs.iter().zip(&motion).any(|(d, m)| !m && *d > CELL_CHANGED);
        let last = *starts.last().unwrap_or(&0);
        if changed && ms_of(i + 1) - ms_of(last) >= MIN_SLIDE_MS {
            starts.push(i + 1);
        }
    }

    // A representative frame per slide: a little after it appears, once any transition settled.
    let mut distinct: Vec<usize> = Vec::new();
    let mut image_times_ms = Vec::new();
    let mut shown = Vec::new();
    for (n, &start) in starts.iter().enumerate() {
        let end = starts.get(n + 1).copied().unwrap_or(frames.len());
        let pick = (start + 1).min(end.saturating_sub(1)).max(start);
        let image = match distinct
            .iter()
            .position(|&d| masked_difference(frames[d], frames[pick], &motion) < SAME_SLIDE)
        {
            Some(existing) => existing,
            None => {
                distinct.push(pick);
                image_times_ms.push(ms_of(pick));
                distinct.len() - 1
            }
        };
        shown.push(SlideShown { at_ms: ms_of(start), image });
    }
    Detection { shown, image_times_ms }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames of a "slide" (a flat level with a bar whose position encodes the slide) and a
    /// noisy camera corner.
    fn frame(slide: u8, t: usize) -> Vec<u8> {
        let mut f = vec![200u8; W * H];
        for x in 4..60 {
            f[(4 + usize::from(slide) * 4) * W + x] = 20;
            f[(5 + usize::from(slide) * 4) * W + x] = 20;
        }
        for y in 26..36 {
            for x in 48..64 {
                f[y * W + x] = ((x * 31 + y * 17 + t * 53) % 251) as u8;
            }
        }
        f
    }

    #[test]
    fn slide_changes_are_found_and_camera_motion_is_not() {
        // Slides 0,1,2 then 1 again, 10 s each.
        let plan = [0u8, 1, 2, 1];
        let frames: Vec<Vec<u8>> = (0..80).map(|i| frame(plan[i / 20], i)).collect();
        let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let d = detect_in_frames(&refs);
        let at: Vec<u64> = d.shown.iter().map(|s| s.at_ms).collect();
        assert_eq!(at, [0, 10_000, 20_000, 30_000]);
        let images: Vec<usize> = d.shown.iter().map(|s| s.image).collect();
        assert_eq!(images, [0, 1, 2, 1], "the returning slide reuses its image");
        assert_eq!(d.image_times_ms.len(), 3);
    }
}
