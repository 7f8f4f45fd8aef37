//! The CLI shell end to end: real processes, a real account directory on disk.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::Command;

use satchel_tests::{sample_manifest_path, workspace_bin};

fn satchel(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(workspace_bin("satchel").unwrap()).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_demo_shows_the_whole_sample_course() {
    let (ok, stdout, stderr) = satchel(&["demo"]);
    assert!(ok, "demo failed: {stderr}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sample_manifest_path()).unwrap()).unwrap();
    for module in manifest["modules"].as_array().unwrap() {
        assert!(stdout.contains(module["title"].as_str().unwrap()), "module missing from:\n{stdout}");
        for lesson in module["lessons"].as_array().unwrap() {
            assert!(stdout.contains(lesson["title"].as_str().unwrap()), "lesson missing from:\n{stdout}");
        }
    }
    // The real pipeline: the packed sample course from the embedded server, signature checked
    // (cargo xtask test installs the media tools the sample lectures are rendered with).
    assert!(stdout.contains("verified the publisher's signature"), "{stdout}");
    assert!(stdout.contains("imported web-basics v1: 3 modules, 8 lessons (Installed)"), "{stdout}");
    assert!(stdout.contains("Blocked: 3 downloads wait for Wi-Fi, not a byte spent on cellular"), "{stdout}");
    assert!(stdout.contains("3 lessons downloaded and verified in"), "{stdout}");
    assert!(stdout.contains(", 0 B on cellular; lite saved"), "{stdout}");
    assert!(stdout.contains("verified files on the phone"), "{stdout}");
    assert!(stdout.contains("ready to play: speech audio with 8 slides in time and"), "{stdout}");
    assert!(
        stdout.contains("-> What happens when you open a page (How the web works; offline: lite)"),
        "{stdout}"
    );
    let saves = stdout.lines().find(|l| l.starts_with("Lite saves")).expect("lite savings line");
    let percent: f64 = saves.rsplit('(').next().unwrap().split('%').next().unwrap().parse().unwrap();
    assert!(percent <= 5.0, "lite is at most 5% of full: {saves}");
    // The learner's day offline: the whole lecture played.
    let watched = stdout
        .lines()
        .find(|l| l.starts_with("What happens when you open a page: complete · watched"))
        .unwrap_or_else(|| panic!("{stdout}"));
    let times: Vec<&str> =
        watched.split(" · ").nth(1).unwrap().trim_start_matches("watched ").split(" of ").collect();
    assert_eq!(times[0], times[1], "{watched}");
    assert!(stdout.contains("Check yourself: HTTP: 60% (passed) graded on the phone"), "{stdout}");
    assert!(stdout.contains("Final check: submitted; the server grades it on the next sync"), "{stdout}");
    assert!(stdout.contains("course 37% complete (3 of 8 lessons)"), "{stdout}");
    assert!(stdout.contains("> The host is looked up with DNS"), "the export quotes the highlight: {stdout}");
    assert!(stdout.contains("9 changes wait in the outbox for sync"), "{stdout}");
}

#[test]
fn an_account_persists_across_processes() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    let account = account.to_str().unwrap();
    let manifest = sample_manifest_path();

    let (ok, stdout, stderr) = satchel(&["import", "--account", account, manifest.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    assert_eq!(stdout.trim(), "web-basics v1: Installed");

    let (ok, stdout, _) = satchel(&["courses", "--account", account]);
    assert!(ok);
    assert!(
        stdout.starts_with("web-basics  Web Basics for Support Technicians (v1, 3 modules, 8 lessons)"),
        "{stdout}"
    );

    let (ok, stdout, _) = satchel(&["import", "--account", account, manifest.to_str().unwrap()]);
    assert!(ok);
    assert_eq!(stdout.trim(), "web-basics v1: Unchanged");

    let (ok, stdout, _) = satchel(&["outline", "--account", account, "web-basics"]);
    assert!(ok);
    assert!(stdout.contains("3. When things break"), "{stdout}");
}

#[test]
fn a_bad_manifest_fails_loudly_and_leaves_the_account_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    let account = account.to_str().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        r#"{"format": 1, "id": "c", "version": 1, "title": "T", "modules": [
        {"id": "m", "title": "M", "lessons": [{"id": "l", "title": "L", "kind": "podcast"}]}]}"#,
    )
    .unwrap();

    let (ok, _, stderr) = satchel(&["import", "--account", account, bad.to_str().unwrap()]);
    assert!(!ok, "a bad manifest must fail");
    assert!(stderr.contains("invalid input") && stderr.contains("podcast"), "{stderr}");

    let (ok, stdout, _) = satchel(&["courses", "--account", account]);
    assert!(ok);
    assert!(stdout.trim().is_empty(), "nothing imported: {stdout}");
}
