//! The packager refuses bad course sources with a clear message and a non-zero exit, writing no
//! manifest.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::process::Command;

use satchel_tests::workspace_bin;

fn pack(src: &Path, out: &Path, key: &Path) -> (bool, String) {
    let output = Command::new(workspace_bin("satchel-server").unwrap())
        .arg("pack")
        .arg(src)
        .arg(out)
        .arg("--key")
        .arg(key)
        .output()
        .unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned())
}

fn keygen(dir: &Path) -> std::path::PathBuf {
    let key = dir.join("publisher.key");
    let out = Command::new(workspace_bin("satchel-server").unwrap())
        .arg("keygen")
        .arg("--out")
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success());
    let public = String::from_utf8_lossy(&out.stdout);
    assert_eq!(public.trim().len(), 44, "a base64 ed25519 public key: {public}");
    // Never overwrite a publisher key.
    let again = Command::new(workspace_bin("satchel-server").unwrap())
        .arg("keygen")
        .arg("--out")
        .arg(&key)
        .output()
        .unwrap();
    assert!(!again.status.success());
    key
}

fn write_course(dir: &Path, lessons: serde_json::Value) {
    let course = serde_json::json!({
        "id": "bad", "version": 1, "title": "Bad course",
        "modules": [{ "id": "bad.m", "title": "M", "lessons": lessons }]
    });
    std::fs::write(dir.join("course.json"), course.to_string()).unwrap();
}

#[test]
fn bad_sources_fail_loudly_and_publish_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let key = keygen(dir.path());
    let src = dir.path().join("src");
    std::fs::create_dir_all(&src).unwrap();
    let out = dir.path().join("out");

    let cases: Vec<(serde_json::Value, &str)> = vec![
        (
            serde_json::json!([{ "id": "bad.r", "title": "R", "kind": "reading", "reading": "missing.md" }]),
            "missing",
        ),
        (
            serde_json::json!([{ "id": "bad.r", "title": "R", "kind": "reading", "reading": "../../etc/passwd" }]),
            "inside the course folder",
        ),
        (
            serde_json::json!([{ "id": "bad.v", "title": "V", "kind": "video", "video": "v.mp4" }]),
            "needs a transcript",
        ),
        (
            serde_json::json!([{ "id": "bad.v", "title": "V", "kind": "video", "video": "garbage.mp4", "transcript": "t.vtt" }]),
            "bad.v",
        ),
        (
            serde_json::json!([{ "id": "bad.r", "title": "R", "kind": "reading", "reading": "r.md", "colour": "red" }]),
            "colour",
        ),
    ];
    std::fs::write(src.join("garbage.mp4"), b"this is not a video at all").unwrap();
    std::fs::write(src.join("v.mp4"), b"x").unwrap();
    std::fs::write(src.join("t.vtt"), b"WEBVTT\n").unwrap();
    std::fs::write(src.join("r.md"), b"# R\n").unwrap();
    for (lessons, expected) in cases {
        write_course(&src, lessons.clone());
        let (ok, stderr) = pack(&src, &out, &key);
        assert!(!ok, "{lessons} must fail");
        assert!(stderr.contains(expected), "{lessons}: message should mention {expected:?}: {stderr}");
        assert!(!out.join("courses/bad/manifest.signed.json").exists(), "no manifest is published");
    }

    // Not a course at all.
    std::fs::write(src.join("course.json"), b"{ not json").unwrap();
    let (ok, stderr) = pack(&src, &out, &key);
    assert!(!ok && stderr.contains("course.json"), "{stderr}");

    // A sound source packs.
    write_course(
        &src,
        serde_json::json!([{ "id": "bad.r", "title": "R", "kind": "reading", "reading": "r.md" }]),
    );
    let (ok, stderr) = pack(&src, &out, &key);
    assert!(ok, "{stderr}");
    assert!(out.join("courses/bad/manifest.signed.json").is_file());
}
