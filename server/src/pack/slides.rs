//! Finding slide changes in a lecture video while ignoring the instructor's camera window.
//!
//! The video is sampled at 2 frames a second as small 128×72 grey images. A pixel that changes
//! in most of a few consecutive samples is live motion: a slide changes once and then holds,
//! while a person moves for a while even when they move only now and then. Live pixels are
//! grouped into regions and each region is masked as a box, a little larger than the motion
//! seen in it, so the still parts of a camera window (the wall behind the person) and the
//! blurred edge of the window, wherever it lies, are masked too. A camera that moves or changes
//! size leaves a region at each place. A change of enough unmasked pixels that holds is a slide
//! change. This needs no knowledge of the layout, and a slide that returns later is recognised
//! and stored once.

use std::path::Path;

use anyhow::{Result, bail};

use crate::media;

const SAMPLES_PER_SECOND: u64 = 2;
const W: usize = 128;
const H: usize = 72;
/// Grey-level difference for a pixel to count as changed (video coding noise stays below).
const PIXEL_CHANGED: u8 = 12;
/// A pixel changing in `MOTION_CHANGES` of `MOTION_WINDOW` consecutive sample pairs (3 s) is
/// live motion: a slide change changes a pixel once (twice with a transition), and slides are
/// shown for longer than that. A person's gesture of a second or more does it.
const MOTION_CHANGES: usize = 3;
const MOTION_WINDOW: usize = 6;
/// So is a pixel changing in `BUSY_CHANGES` of `BUSY_WINDOW` pairs (30 s): small movements
/// spread out in time, more often than any slide changes one place.
const BUSY_CHANGES: usize = 6;
const BUSY_WINDOW: usize = 60;
/// Live pixels closer than this (in sample pixels) belong to one region.
const REGION_JOIN: usize = 3;
/// A region's box grows by this many pixels plus `REGION_GROW_SHARE` of its size on each side,
/// to cover the still parts and the edge of the window the motion was seen in.
const REGION_MARGIN: usize = 2;
const REGION_GROW_SHARE: f64 = 0.1;
/// Unmasked pixels that must change, and stay changed, for a slide change. A slide build that
/// adds one line of text changes hundreds; stray coding noise, a few.
const SLIDE_CHANGED_PIXELS: usize = 12;
/// Samples after a change at which it must still hold (a passing pointer does not).
const SETTLE_SAMPLES: usize = 2;
/// Sampling rounds at the ends: a whole video decodes to its duration within this.
const DECODE_SLACK_MS: u64 = 1_000;
/// Two slides closer than this are one (a transition).
const MIN_SLIDE_MS: u64 = 1_500;

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

/// Detects the slides of `video`, which lasts `duration_ms` by its container. A video that
/// decodes to much less than that is damaged, and refused rather than half packed.
pub fn detect(video: &Path, duration_ms: u64) -> Result<Detection> {
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
    let decoded_ms = frames.len() as u64 * 1000 / SAMPLES_PER_SECOND;
    if frames.is_empty() || decoded_ms + DECODE_SLACK_MS < duration_ms * 9 / 10 {
        bail!(
            "{} decodes to {:.1} s of its {:.1} s: the video is damaged",
            video.display(),
            decoded_ms as f64 / 1000.0,
            duration_ms as f64 / 1000.0
        );
    }
    Ok(detect_in_frames(&frames))
}

/// Pixels that differ between two frames, outside the mask.
fn changed_pixels(a: &[u8], b: &[u8], mask: &[bool]) -> usize {
    a.iter().zip(b).zip(mask).filter(|((x, y), masked)| !**masked && x.abs_diff(**y) > PIXEL_CHANGED).count()
}

/// Pixels that show live motion somewhere in the video.
fn live_pixels(frames: &[&[u8]]) -> Vec<bool> {
    let mut live = vec![false; W * H];
    for (p, slot) in live.iter_mut().enumerate() {
        let changes: Vec<bool> =
            frames.windows(2).map(|pair| pair[0][p].abs_diff(pair[1][p]) > PIXEL_CHANGED).collect();
        *slot = changes_within(&changes, MOTION_CHANGES, MOTION_WINDOW)
            || changes_within(&changes, BUSY_CHANGES, BUSY_WINDOW);
    }
    live
}

/// Whether some `window` consecutive pairs (all of them, if fewer) hold `count` changes. A
/// running count: this runs for every pixel over the whole lecture.
fn changes_within(changes: &[bool], count: usize, window: usize) -> bool {
    let window = window.min(changes.len());
    if window < count {
        return false;
    }
    let mut inside = changes[..window].iter().filter(|c| **c).count();
    if inside >= count {
        return true;
    }
    for end in window..changes.len() {
        inside = inside + usize::from(changes[end]) - usize::from(changes[end - window]);
        if inside >= count {
            return true;
        }
    }
    false
}

/// A box of sample pixels, bounds inclusive.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Region {
    x0: usize,
    y0: usize,
    x1: usize,
    y1: usize,
}

impl Region {
    fn grown(self) -> Region {
        let grow = |len: usize| REGION_MARGIN + (len as f64 * REGION_GROW_SHARE).ceil() as usize;
        let (gx, gy) = (grow(self.x1 - self.x0 + 1), grow(self.y1 - self.y0 + 1));
        Region {
            x0: self.x0.saturating_sub(gx),
            y0: self.y0.saturating_sub(gy),
            x1: (self.x1 + gx).min(W - 1),
            y1: (self.y1 + gy).min(H - 1),
        }
    }

    fn overlaps(&self, other: &Region) -> bool {
        self.x0 <= other.x1 && other.x0 <= self.x1 && self.y0 <= other.y1 && other.y0 <= self.y1
    }

    fn union(&self, other: &Region) -> Region {
        Region {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }
}

/// Groups live pixels into regions (pixels within `REGION_JOIN` of each other), grows each
/// region's box and merges boxes that overlap.
fn motion_regions(live: &[bool]) -> Vec<Region> {
    let mut seen = vec![false; W * H];
    let mut regions: Vec<Region> = Vec::new();
    for start in 0..W * H {
        if !live[start] || seen[start] {
            continue;
        }
        seen[start] = true;
        let mut region = Region { x0: start % W, y0: start / W, x1: start % W, y1: start / W };
        let mut stack = vec![start];
        while let Some(p) = stack.pop() {
            let (x, y) = (p % W, p / W);
            region = region.union(&Region { x0: x, y0: y, x1: x, y1: y });
            for ny in y.saturating_sub(REGION_JOIN)..=(y + REGION_JOIN).min(H - 1) {
                for nx in x.saturating_sub(REGION_JOIN)..=(x + REGION_JOIN).min(W - 1) {
                    let q = ny * W + nx;
                    if live[q] && !seen[q] {
                        seen[q] = true;
                        stack.push(q);
                    }
                }
            }
        }
        regions.push(region.grown());
    }
    // Merging can make a box overlap one it did not before: repeat until nothing merges.
    loop {
        let mut merged: Vec<Region> = Vec::new();
        for region in &regions {
            match merged.iter_mut().find(|m| m.overlaps(region)) {
                Some(m) => *m = m.union(region),
                None => merged.push(*region),
            }
        }
        if merged.len() == regions.len() {
            return merged;
        }
        regions = merged;
    }
}

/// The mask of everything that is not slide: the boxes around live motion.
fn motion_mask(frames: &[&[u8]]) -> Vec<bool> {
    let mut mask = vec![false; W * H];
    for r in motion_regions(&live_pixels(frames)) {
        for y in r.y0..=r.y1 {
            mask[y * W + r.x0..=y * W + r.x1].iter_mut().for_each(|m| *m = true);
        }
    }
    mask
}

pub fn detect_in_frames(frames: &[&[u8]]) -> Detection {
    let mask = motion_mask(frames);
    let ms_of = |index: usize| index as u64 * 1000 / SAMPLES_PER_SECOND;
    let last_frame = frames.len().saturating_sub(1);
    let mut starts = vec![0usize];
    for i in 0..last_frame {
        let changed = changed_pixels(frames[i], frames[i + 1], &mask) >= SLIDE_CHANGED_PIXELS;
        let holds = || {
            changed_pixels(frames[i], frames[(i + 1 + SETTLE_SAMPLES).min(last_frame)], &mask)
                >= SLIDE_CHANGED_PIXELS
        };
        let last = *starts.last().unwrap_or(&0);
        if changed && ms_of(i + 1) - ms_of(last) >= MIN_SLIDE_MS && holds() {
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
            .position(|&d| changed_pixels(frames[d], frames[pick], &mask) < SLIDE_CHANGED_PIXELS)
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
mod tests;
