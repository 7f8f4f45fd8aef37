//! Lite content end to end: the packager's output for the real sample course, served by the
//! reference server and by nginx, fetched and verified by the core; and every kind of bad input.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;

use satchel_core::SatchelError;
use satchel_core::catalog::RenditionKind;
use satchel_core::runtime::runtime;
use satchel_tests::ServerProcess;
use satchel_tests::nginx::Nginx;
use satchel_tests::open_account;
use satchel_tests::sample::{packed_copy, packed_sample, test_public_key};

const LECTURES: [&str; 2] = ["web-basics.what-happens", "web-basics.troubleshooting"];

#[test]
fn lite_lectures_are_under_five_percent_and_capture_every_slide() {
    let packed = packed_sample().unwrap();
    for lecture in LECTURES {
        let report = packed.report.lessons.iter().find(|l| l.lesson_id == lecture).unwrap();
        assert!(report.duration_ms.unwrap() >= 120_000, "{lecture} is a lecture of two minutes or more");
        let ratio = report.lite as f64 / report.full as f64;
        assert!(ratio <= 0.05, "{lecture}: lite is {:.1}% of full", ratio * 100.0);

        // The detected slide changes are the true ones (the camera corner moves all the time).
        let folder = lecture.rsplit('.').next().unwrap();
        let truth: Vec<u64> = serde_json::from_str(
            &std::fs::read_to_string(packed.source.join(folder).join("slides.json")).unwrap(),
        )
        .unwrap();
        let timeline = lite_timeline(&packed.dir, lecture);
        assert_eq!(timeline.len(), truth.len(), "{lecture}: one slide per slide change");
        for (found, expected) in timeline.iter().zip(&truth) {
            assert!(
                found.abs_diff(*expected) <= 1_000,
                "{lecture}: slide at {found} ms, truly at {expected} ms"
            );
        }
    }
}

/// The slide times of a lecture's packed lite timeline.
fn lite_timeline(packed: &Path, lesson: &str) -> Vec<u64> {
    satchel_tests::lite::timeline(packed, "web-basics", lesson).unwrap().iter().map(|s| s.at_ms).collect()
}

/// Fetches the course and a lite lecture and a reading through `base_url`, checking what arrives.
fn fetch_and_check(base_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let satchel = open_account(dir.path(), vec![test_public_key()]).unwrap();
    let rt = runtime();
    let outcome = rt.block_on(satchel.fetch_course(base_url.into(), "web-basics".into())).unwrap();
    assert_eq!(outcome.lesson_count, 10);
    let outline = rt.block_on(satchel.course_outline("web-basics".into())).unwrap();
    assert!(
        outline.course.sizes.lite_bytes * 20 < outline.course.sizes.full_bytes,
        "{:?}",
        outline.course.sizes
    );

    let lecture = LECTURES[0];
    assert_eq!(rt.block_on(satchel.rendition_files(lecture.into(), RenditionKind::Lite)).unwrap(), None);
    let files = rt.block_on(satchel.download_rendition(lecture.into(), RenditionKind::Lite)).unwrap();
    let roles: Vec<&str> = files.iter().map(|f| f.role.as_str()).collect();
    assert!(roles.contains(&"audio") && roles.contains(&"cues") && roles.contains(&"slides"), "{roles:?}");
    assert!(roles.iter().filter(|r| r.starts_with("slides/")).count() >= 5, "{roles:?}");
    let audio = files.iter().find(|f| f.role == "audio").unwrap();
    let probe = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries", "stream=codec_name,channels", "-of", "csv=p=0", &audio.path])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&probe.stdout).trim(), "opus,1", "speech-quality mono Opus");

    // The player's view: audio, slides in time, transcript cues (from the one text pack request).
    let lite = rt.block_on(satchel.lite_lecture(lecture.into())).unwrap().expect("lite lecture is complete");
    assert_eq!(lite.audio_path, audio.path);
    assert!(lite.cues[0].text.starts_with("Welcome to the first lecture"), "{:?}", lite.cues[0]);
    assert!(lite.cues.windows(2).all(|w| w[0].end_ms <= w[1].start_ms), "cues in order");
    let duration =
        packed_sample().unwrap().report.lessons.iter().find(|l| l.lesson_id == lecture).unwrap().duration_ms;
    let last_cue = lite.cues.last().unwrap().end_ms;
    assert!(
        last_cue + 10_000 > i64::try_from(duration.unwrap()).unwrap(),
        "cues run to the end of the lecture: {last_cue} ms"
    );
    assert_eq!(lite.slides.len(), lite_timeline(&packed_sample().unwrap().dir, lecture).len());
    assert!(lite.slides.iter().all(|s| std::path::Path::new(&s.path).is_file()));
    assert_eq!(
        rt.block_on(satchel.rendition_files(lecture.into(), RenditionKind::Lite)).unwrap(),
        Some(files)
    );

    let reading = rt
        .block_on(satchel.download_rendition("web-basics.reading-urls".into(), RenditionKind::Text))
        .unwrap();
    assert!(std::fs::read_to_string(&reading[0].path).unwrap().starts_with("# Reading a URL"));
    satchel.shutdown_blocking().unwrap();
}

#[test]
fn the_core_fetches_and_verifies_from_the_reference_server() {
    let packed = packed_sample().unwrap();
    let server = ServerProcess::serve(&packed.dir).unwrap();
    fetch_and_check(&server.base_url());
}

#[test]
fn the_core_fetches_and_verifies_from_nginx() {
    let packed = packed_sample().unwrap();
    let nginx = Nginx::serve(&packed.dir).unwrap();
    fetch_and_check(&nginx.base_url());
}

/// A copy of the packed course that a test may damage.
fn damaged_copy(edit: impl FnOnce(&Path)) -> tempfile::TempDir {
    let copy = packed_copy().unwrap();
    edit(copy.path());
    copy
}

#[test]
fn tampered_or_untrusted_manifests_are_refused_and_change_nothing() {
    let tampered = damaged_copy(|dir| {
        let path = dir.join("courses/web-basics/manifest.signed.json");
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replacen("Web Basics", "Web Basicz", 1)).unwrap();
    });
    let server = ServerProcess::serve(tampered.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let satchel = open_account(dir.path(), vec![test_public_key()]).unwrap();
    let err = runtime().block_on(satchel.fetch_course(server.base_url(), "web-basics".into())).unwrap_err();
    assert!(matches!(&err, SatchelError::Integrity { reason } if reason.contains("signature")), "{err:?}");
    assert!(runtime().block_on(satchel.list_courses()).unwrap().is_empty());

    let genuine = ServerProcess::serve(&packed_sample().unwrap().dir).unwrap();
    let other_key = satchel_server::keys::public_key(&ed25519_dalek::SigningKey::from_bytes(&[9u8; 32]));
    let dir = tempfile::tempdir().unwrap();
    let stranger = open_account(dir.path(), vec![other_key]).unwrap();
    let err = runtime().block_on(stranger.fetch_course(genuine.base_url(), "web-basics".into())).unwrap_err();
    assert!(
        matches!(&err, SatchelError::Integrity { reason } if reason.contains("does not trust")),
        "{err:?}"
    );
    assert!(runtime().block_on(stranger.list_courses()).unwrap().is_empty());
}

#[test]
fn a_corrupted_blob_is_refused_and_never_stored() {
    let packed = packed_sample().unwrap();
    let lecture = LECTURES[1];
    // Flip one byte in the middle of the lecture's audio on the host.
    let manifest = satchel_tests::lite::manifest(&packed.dir, "web-basics").unwrap();
    let audio = satchel_tests::lite::lite_blob(&manifest, lecture, "audio").unwrap();
    let audio_hash = audio["hash"].as_str().unwrap().to_owned();
    let damaged = damaged_copy(|dir| {
        let path = dir.join(format!("blobs/{}/{audio_hash}", &audio_hash[..2]));
        let mut bytes = std::fs::read(&path).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    });
    let server = ServerProcess::serve(damaged.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let satchel = open_account(dir.path(), vec![test_public_key()]).unwrap();
    runtime().block_on(satchel.fetch_course(server.base_url(), "web-basics".into())).unwrap();
    let err =
        runtime().block_on(satchel.download_rendition(lecture.into(), RenditionKind::Lite)).unwrap_err();
    assert!(matches!(&err, SatchelError::Integrity { reason } if reason.contains(&audio_hash)), "{err:?}");
    assert_eq!(
        runtime().block_on(satchel.rendition_files(lecture.into(), RenditionKind::Lite)).unwrap(),
        None
    );
    let stored = satchel.account().content().blob_path(&audio_hash);
    assert!(!stored.exists(), "a blob that failed its hash is never in the content store");
}

#[test]
fn plain_http_is_refused_except_to_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let satchel = open_account(dir.path(), vec![test_public_key()]).unwrap();
    let err = runtime()
        .block_on(satchel.fetch_course("http://example.org/".into(), "web-basics".into()))
        .unwrap_err();
    assert!(matches!(err, SatchelError::InvalidInput { .. }), "{err:?}");
}
