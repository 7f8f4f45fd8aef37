//! The packer on the sample course's lectures, against the truth their generator wrote: every
//! slide found, each within 1 s of when it truly appears, a slide shown again stored once; the
//! lectures staged like real ones (a camera still between gestures, its edge off any grid, a
//! window that moves and grows once, builds) included, and their lite rendition within 3%.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use satchel_tests::lite;
use satchel_tests::sample::packed_sample;

/// The lectures staged like real recordings (see their scripts' `@` lines).
const STAGED: [&str; 2] = ["web-basics.clearing-cache", "web-basics.error-pages"];

fn folder(lesson_id: &str) -> &str {
    lesson_id.rsplit('.').next().unwrap()
}

#[test]
fn every_sample_lecture_has_exactly_its_true_slides() {
    let packed = packed_sample().unwrap();
    let lectures: Vec<_> = packed.report.lessons.iter().filter(|l| l.duration_ms.is_some()).collect();
    assert_eq!(lectures.len(), 6, "the sample's lectures");
    for lecture in lectures {
        let truth = lite::truth(&packed.source.join(folder(&lecture.lesson_id))).unwrap();
        let found = lite::timeline(&packed.dir, "web-basics", &lecture.lesson_id).unwrap();
        let matched = lite::compare(&found, &truth).unwrap();
        assert!(
            matched.exact_within(1_000),
            "{}: {matched:?}\nfound {found:?}\ntruth {truth:?}",
            lecture.lesson_id
        );
    }
}

#[test]
fn the_staged_lectures_have_builds_and_a_returning_slide() {
    // The hard cases must be in the sample, or the test above would not be testing them.
    let packed = packed_sample().unwrap();
    let truths: Vec<Vec<lite::TrueSlide>> =
        STAGED.iter().map(|id| lite::truth(&packed.source.join(folder(id))).unwrap()).collect();
    let all = || truths.iter().flat_map(|t| t.windows(2));
    let builds =
        all().filter(|w| w[0].title == w[1].title && w[1].bullets.starts_with(&w[0].bullets)).count();
    assert!(builds >= 3, "builds that add one line: {builds}");
    let returns: usize = truths
        .iter()
        .map(|t| t.iter().enumerate().filter(|(i, s)| t[..*i].iter().any(|p| p.picture == s.picture)).count())
        .sum();
    assert!(returns >= 1, "a slide shown again");
    let script = |id: &str| {
        std::fs::read_to_string(satchel_server::sample::default_source().join(folder(id)).join("script.md"))
            .unwrap()
    };
    assert!(STAGED.iter().all(|id| script(id).contains("@camera-still")), "cameras still between gestures");
    assert!(script(STAGED[1]).contains("@camera-moves"), "a window that moves and grows once");
}

#[test]
fn the_staged_lectures_are_lite_within_three_percent() {
    let packed = packed_sample().unwrap();
    for id in STAGED {
        let report = packed.report.lessons.iter().find(|l| l.lesson_id == id).unwrap();
        let ratio = report.lite as f64 / report.full as f64;
        assert!(ratio <= 0.03, "{id}: lite is {:.2}% of full", ratio * 100.0);
    }
}
