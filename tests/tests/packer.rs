//! The packer on the sample course's lectures, against the truth their generator wrote: every
//! slide found, each within 1 s of when it truly appears, a slide shown again stored once; the
//! lectures staged like real ones (a camera still between gestures, its edge off any grid, a
//! window that moves and grows once, builds) included, and their lite rendition within 3%. Then
//! the edge cases on small made videos: a talking head with no slides, a long silence and a
//! lecture of seconds pack; a video without audio or that does not decode is refused whole.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::{Path, PathBuf};

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

/// A course of one lecture whose video ffmpeg makes from `inputs` (lavfi sources and options),
/// in `dir/src`; returns the source folder.
fn one_lecture(dir: &Path, inputs: &[&str]) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let video = src.join("v.mp4");
    let mut args = vec!["-f", "lavfi", "-i", "color=c=0xf8f5ec:size=640x360:rate=25"];
    args.extend_from_slice(inputs);
    args.extend(["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]);
    args.extend(["-movflags", "+faststart", video.to_str().unwrap()]);
    satchel_server::media::ffmpeg(&args).unwrap();
    std::fs::write(src.join("t.vtt"), "WEBVTT\n\n1\n00:00:00.000 --> 00:00:01.000\nHello.\n").unwrap();
    let course = serde_json::json!({
        "id": "edge", "version": 1, "title": "Edge cases",
        "modules": [{ "id": "edge.m", "title": "M", "lessons": [{
            "id": "edge.talk", "title": "A talk", "kind": "video", "video": "v.mp4", "transcript": "t.vtt" }] }]
    });
    std::fs::write(src.join("course.json"), course.to_string()).unwrap();
    src
}

/// A camera filling the frame (a moving test picture) with a tone, `seconds` long: ffmpeg
/// inputs for [`one_lecture`].
fn talking_head(seconds: &str) -> Vec<&str> {
    let camera = ["-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25"];
    let voice = ["-f", "lavfi", "-i", "sine=f=220:sample_rate=44100"];
    [&camera[..], &voice, &["-map", "1:v", "-map", "2:a", "-t", seconds]].concat()
}

fn pack_into(src: &Path, out: &Path) -> anyhow::Result<satchel_server::pack::PackReport> {
    satchel_server::pack::pack(src, out, &satchel_tests::sample::test_publisher_key())
}

/// The lite rendition's blob roles of the one lecture.
fn lite_roles(out: &Path) -> Vec<String> {
    let manifest = lite::manifest(out, "edge").unwrap();
    manifest["modules"][0]["lessons"][0]["renditions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "lite")
        .flat_map(|r| r["blobs"].as_array().unwrap().iter().map(|b| b["role"].as_str().unwrap().to_owned()))
        .collect()
}

fn lite_audio_ms(out: &Path) -> u64 {
    let audio = lite::lite_blob(&lite::manifest(out, "edge").unwrap(), "edge.talk", "audio").unwrap();
    let hash = audio["hash"].as_str().unwrap();
    satchel_server::media::duration_ms(&out.join("blobs").join(&hash[..2]).join(hash)).unwrap()
}

#[test]
fn a_talking_head_without_slides_is_its_audio_and_one_still() {
    let dir = tempfile::tempdir().unwrap();
    // The whole frame is the camera: a moving picture, no slides.
    let src = one_lecture(dir.path(), &talking_head("12"));
    let out = dir.path().join("out");
    pack_into(&src, &out).unwrap();
    let slides: Vec<String> = lite_roles(&out).into_iter().filter(|r| r.starts_with("slides/")).collect();
    assert_eq!(slides, ["slides/001.webp"], "one still");
    let timeline = lite::timeline(&out, "edge", "edge.talk").unwrap();
    assert_eq!(timeline.len(), 1, "{timeline:?}");
    assert!(lite_audio_ms(&out).abs_diff(12_000) < 500, "the audio is whole");
}

#[test]
fn a_long_silence_and_a_lecture_of_seconds_pack() {
    let dir = tempfile::tempdir().unwrap();
    // 2 s of tone, 20 s of silence, 2 s of tone.
    let src = one_lecture(
        dir.path().join("silence").as_path(),
        &[
            "-f",
            "lavfi",
            "-i",
            "aevalsrc='if(lt(t,2)+gt(t,22),0.3*sin(2*PI*440*t),0)':s=44100:d=24",
            "-t",
            "24",
        ],
    );
    let out = dir.path().join("silence/out");
    pack_into(&src, &out).unwrap();
    assert!(lite_audio_ms(&out).abs_diff(24_000) < 500, "the silence is kept: {} ms", lite_audio_ms(&out));
    assert_eq!(lite::timeline(&out, "edge", "edge.talk").unwrap().len(), 1);

    let src = one_lecture(
        dir.path().join("short").as_path(),
        &["-f", "lavfi", "-i", "sine=f=330:sample_rate=44100", "-t", "3"],
    );
    let out = dir.path().join("short/out");
    let report = pack_into(&src, &out).unwrap();
    assert!(report.lessons[0].duration_ms.unwrap().abs_diff(3_000) < 200);
    assert_eq!(lite::timeline(&out, "edge", "edge.talk").unwrap().len(), 1);
    assert!(lite_audio_ms(&out).abs_diff(3_000) < 500);
}

/// Packing fails with one line naming the lesson, and leaves no manifest and no blob.
fn assert_refused(src: &Path, out: &Path, reason: &str) {
    let error = format!("{:#}", pack_into(src, out).unwrap_err());
    assert!(!error.contains('\n'), "one line: {error}");
    assert!(error.starts_with("lesson \"edge.talk\": "), "names the lesson: {error}");
    assert!(error.contains(reason), "says why ({reason}): {error}");
    assert!(!out.join("courses").exists(), "no manifest");
    let blobs = out.join("blobs");
    assert!(!blobs.exists() || std::fs::read_dir(&blobs).unwrap().next().is_none(), "no blob");
}

#[test]
fn a_video_without_audio_or_that_does_not_decode_is_refused_whole() {
    let dir = tempfile::tempdir().unwrap();
    let src = one_lecture(dir.path().join("mute").as_path(), &["-t", "4"]);
    assert_refused(&src, &dir.path().join("mute/out"), "has no audio track");

    // A whole video cut short: its header still promises 6 s.
    let src = one_lecture(dir.path().join("cut").as_path(), &talking_head("6"));
    let video = src.join("v.mp4");
    let bytes = std::fs::read(&video).unwrap();
    std::fs::write(&video, &bytes[..bytes.len() / 3]).unwrap();
    assert_refused(&src, &dir.path().join("cut/out"), "damaged");

    std::fs::write(&video, b"not a video at all").unwrap();
    assert_refused(&src, &dir.path().join("cut/out"), "unreadable video");
}
