//! The detector on synthetic lectures, one hard case each: a camera that moves only now and
//! then, a window edge that cuts through the sampling grid, a window that moves and grows once,
//! builds that add one line, a slide that returns, a lecture that is only a talking head.

use super::*;

/// A rectangle in the source video's pixels (1280×720).
#[derive(Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// A slide of the deck (`id`) with its first `lines` bullet lines shown.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Slide {
    id: usize,
    lines: usize,
}

struct Lecture {
    /// From which sample each slide is shown.
    slides: Vec<(usize, Slide)>,
    /// From which sample the camera window is where.
    camera: Vec<(usize, Rect)>,
    /// Whether the person moves between the previous sample and this one, and by how much.
    motion: fn(usize) -> usize,
    samples: usize,
}

const INK: f64 = 40.0;
const PAPER: f64 = 240.0;

/// The slide's grey level at a sample pixel: a title bar whose length depends on the slide,
/// and bullet lines below it.
fn slide_pixel(slide: Slide, x: usize, y: usize) -> f64 {
    let (fx, fy) = (x as f64 / W as f64, y as f64 / H as f64);
    let title_end = 0.3 + 0.07 * (slide.id % 8) as f64;
    if (0.08..0.14).contains(&fy) && (0.06..title_end).contains(&fx) {
        return INK;
    }
    for line in 0..slide.lines {
        let top = 0.25 + 0.11 * line as f64;
        let end = 0.4 + 0.05 * ((line * 3 + slide.id * 5) % 7) as f64;
        if (top..top + 0.05).contains(&fy) && (0.08..end).contains(&fx) {
            return INK;
        }
    }
    PAPER
}

/// The camera's picture at a pixel: a textured "person" that changes as they move.
fn camera_pixel(x: usize, y: usize, phase: usize) -> f64 {
    ((x * 37 + y * 23 + phase * 61) % 160 + 40) as f64
}

/// The share of sample pixel (x, y) that `r` covers, as an area-averaging scaler sees it.
fn coverage(r: Rect, x: usize, y: usize) -> f64 {
    let (sx, sy) = (1280.0 / W as f64, 720.0 / H as f64);
    let overlap = |a0: f64, a1: f64, b0: f64, b1: f64| (a1.min(b1) - a0.max(b0)).max(0.0) / (a1 - a0);
    overlap(x as f64 * sx, (x + 1) as f64 * sx, r.x, r.x + r.w)
        * overlap(y as f64 * sy, (y + 1) as f64 * sy, r.y, r.y + r.h)
}

fn current<T: Copy>(plan: &[(usize, T)], sample: usize) -> T {
    plan.iter().rev().find(|(from, _)| *from <= sample).map(|(_, v)| *v).unwrap_or(plan[0].1)
}

fn render(lecture: &Lecture) -> Vec<Vec<u8>> {
    let mut phase = 0;
    (0..lecture.samples)
        .map(|t| {
            phase += (lecture.motion)(t);
            let (slide, camera) = (current(&lecture.slides, t), current(&lecture.camera, t));
            let mut frame = vec![0u8; W * H];
            for y in 0..H {
                for x in 0..W {
                    let c = coverage(camera, x, y);
                    let value = (1.0 - c) * slide_pixel(slide, x, y) + c * camera_pixel(x, y, phase);
                    frame[y * W + x] = value.round() as u8;
                }
            }
            frame
        })
        .collect()
}

/// Asserts the detector finds exactly the lecture's slides, each within 1 s, and reuses one
/// image for a slide shown again.
fn assert_finds_the_truth(lecture: &Lecture) {
    let frames = render(lecture);
    let refs: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let found = detect_in_frames(&refs);
    let truth_ms: Vec<u64> =
        lecture.slides.iter().map(|(s, _)| *s as u64 * 1000 / SAMPLES_PER_SECOND).collect();
    let found_ms: Vec<u64> = found.shown.iter().map(|s| s.at_ms).collect();
    assert_eq!(found_ms.len(), truth_ms.len(), "slides found at {found_ms:?}, truly at {truth_ms:?}");
    for (f, t) in found_ms.iter().zip(&truth_ms) {
        assert!(f.abs_diff(*t) <= 1_000, "slide found at {f} ms, truly at {t} ms");
    }
    // The true image of each showing: the first showing of the same slide.
    let mut distinct: Vec<Slide> = Vec::new();
    let truth_images: Vec<usize> = lecture
        .slides
        .iter()
        .map(|(_, slide)| match distinct.iter().position(|d| d == slide) {
            Some(i) => i,
            None => {
                distinct.push(*slide);
                distinct.len() - 1
            }
        })
        .collect();
    let found_images: Vec<usize> = found.shown.iter().map(|s| s.image).collect();
    assert_eq!(found_images, truth_images, "which distinct slide each showing is");
    assert_eq!(found.image_times_ms.len(), distinct.len());
}

const CORNER: Rect = Rect { x: 1000.0, y: 480.0, w: 256.0, h: 192.0 };

fn slides(plan: &[(usize, usize, usize)]) -> Vec<(usize, Slide)> {
    plan.iter().map(|&(at, id, lines)| (at, Slide { id, lines })).collect()
}

#[test]
fn camera_motion_that_comes_and_goes_is_not_a_slide() {
    // Still for 8 s, then a 2 s gesture: motion in a fifth of the samples.
    assert_finds_the_truth(&Lecture {
        slides: slides(&[(0, 0, 3), (30, 1, 3), (60, 2, 2), (90, 3, 3)]),
        camera: vec![(0, CORNER)],
        motion: |t| usize::from(t % 20 >= 16),
        samples: 120,
    });
}

#[test]
fn a_window_edge_off_the_sampling_grid_is_masked() {
    // The window's left and top edges cut slivers off sample pixels (and off any coarser grid),
    // and the person moves often, by varying amounts: the slivers change now and then.
    assert_finds_the_truth(&Lecture {
        slides: slides(&[(0, 0, 3), (24, 1, 2), (50, 2, 3), (80, 3, 1)]),
        camera: vec![(0, Rect { x: 1107.2, y: 590.4, w: 162.8, h: 120.1 })],
        motion: |t| if t % 5 < 2 { 1 + t % 3 } else { 0 },
        samples: 110,
    });
}

#[test]
fn a_window_that_moves_and_grows_once_is_masked_at_both_places() {
    let moved = Rect { x: 24.5, y: 431.2, w: 376.0, h: 282.0 };
    assert_finds_the_truth(&Lecture {
        slides: slides(&[(0, 0, 3), (40, 1, 3), (80, 2, 2), (100, 3, 3)]),
        camera: vec![(0, CORNER), (90, moved)],
        motion: |t| usize::from(t % 10 >= 6),
        samples: 120,
    });
}

#[test]
fn builds_that_add_one_line_are_each_a_slide() {
    assert_finds_the_truth(&Lecture {
        slides: slides(&[(0, 0, 1), (14, 0, 2), (28, 0, 3), (44, 1, 1), (60, 1, 2)]),
        camera: vec![(0, CORNER)],
        motion: |t| usize::from(t % 16 >= 12),
        samples: 80,
    });
}

#[test]
fn a_slide_that_returns_is_stored_once() {
    assert_finds_the_truth(&Lecture {
        slides: slides(&[(0, 0, 3), (20, 1, 3), (40, 2, 3), (60, 1, 3)]),
        camera: vec![(0, CORNER)],
        motion: |_| 1,
        samples: 80,
    });
}

#[test]
fn a_talking_head_is_one_slide() {
    assert_finds_the_truth(&Lecture {
        slides: slides(&[(0, 0, 0)]),
        camera: vec![(0, Rect { x: 0.0, y: 0.0, w: 1280.0, h: 720.0 })],
        motion: |t| usize::from(t % 6 >= 3),
        samples: 60,
    });
}

#[test]
fn a_lecture_of_one_sample_is_one_slide() {
    let frame = vec![200u8; W * H];
    let found = detect_in_frames(&[&frame]);
    assert_eq!(found.shown, [SlideShown { at_ms: 0, image: 0 }]);
    assert_eq!(found.image_times_ms, [0]);
}
