//! Peer sharing end to end: a phone that downloaded a course (from the reference server) exports
//! it to one file; another phone with no network imports it. Every bad file of the issue is a
//! typed error that leaves the importing phone as it was.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use ed25519_dalek::SigningKey;
use satchel_core::SatchelError;
use satchel_core::catalog::RenditionKind;
use satchel_core::downloads::{DownloadState, DownloadTarget, NetworkType};
use satchel_core::ffi::ShareListener;
use satchel_core::runtime::runtime;
use satchel_core::share::ShareProgress;
use satchel_core::share::container::{Reader, Writer};
use satchel_server::pack;
use satchel_tests::ServerProcess;
use satchel_tests::open_account;
use satchel_tests::sample::{target_dir, test_public_key, test_publisher_key};

const COURSE: &str = "shr";
const LESSONS: [&str; 2] = ["shr.one", "shr.two"];

/// Packs a two-reading course under a new directory's `out`. Returns the directory and the
/// readings' texts.
fn packed() -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir_in(target_dir()).unwrap();
    let (src, out) = (dir.path().join("src"), dir.path().join("out"));
    std::fs::create_dir_all(&src).unwrap();
    let texts: Vec<String> = LESSONS
        .iter()
        .map(|id| (0..200).map(|i| format!("{id}: line {i} about resolvers and caches.\n")).collect())
        .collect();
    let lessons: Vec<serde_json::Value> = LESSONS
        .iter()
        .zip(&texts)
        .map(|(id, text)| {
            std::fs::write(src.join(format!("{id}.md")), text).unwrap();
            serde_json::json!({"id": id, "title": "A reading", "kind": "reading", "reading": format!("{id}.md")})
        })
        .collect();
    let course = serde_json::json!({"id": COURSE, "version": 1, "title": "Shared", "modules": [
        {"id": "shr.m", "title": "Module", "lessons": lessons}]});
    std::fs::write(src.join("course.json"), course.to_string()).unwrap();
    pack::pack(&src, &out, &test_publisher_key()).unwrap();
    (dir, texts)
}

/// The packed course, downloaded in the text rendition on a phone and exported. Returns (the
/// packed tree's dir, the shared file, the readings' texts).
fn exported() -> (tempfile::TempDir, PathBuf, Vec<String>) {
    let (dir, texts) = packed();
    let out = dir.path().join("out");
    let server = ServerProcess::serve(&out).unwrap();
    let phone = tempfile::tempdir().unwrap();
    let satchel = open_account(phone.path(), vec![test_public_key()]).unwrap();
    let rt = runtime();
    rt.block_on(satchel.fetch_course(server.base_url(), COURSE.into())).unwrap();
    rt.block_on(satchel.enqueue_download(
        DownloadTarget::Course { course_id: COURSE.into() },
        RenditionKind::Text,
        0,
    ))
    .unwrap();
    let summary = rt.block_on(satchel.run_downloads(60_000)).unwrap();
    let downloads = rt.block_on(satchel.list_downloads(Some(COURSE.into()))).unwrap();
    assert_eq!(summary.completed, 2, "{summary:?}: {downloads:?}");
    let file = dir.path().join("course.satchel");
    let size = rt
        .block_on(satchel.export_course(
            COURSE.into(),
            RenditionKind::Text,
            file.to_string_lossy().into(),
            None,
        ))
        .unwrap();
    assert_eq!(u64::try_from(size).unwrap(), std::fs::metadata(&file).unwrap().len());
    (dir, file, texts)
}

#[derive(Default)]
struct Progress(Mutex<Vec<ShareProgress>>);

impl ShareListener for Progress {
    fn on_progress(&self, progress: ShareProgress) {
        self.0.lock().unwrap().push(progress);
    }
}

#[test]
fn a_course_travels_by_file_to_a_phone_with_no_network() {
    let (_dir, file, texts) = exported();
    let phone = tempfile::tempdir().unwrap();
    let satchel = open_account(phone.path(), vec![test_public_key()]).unwrap();
    satchel.set_network(NetworkType::None);
    let rt = runtime();
    // First an import cut off inside the second blob (a copy interrupted, a card pulled out): a
    // typed error, no course in the catalog, the first blob verified and kept.
    let cut = file.with_extension("cut");
    let mut cut_members = members(&file);
    let claimed = cut_members[2].1.len() as u64;
    cut_members[2].1.truncate(claimed as usize / 2);
    write(&cut, &cut_members, Some((2, claimed)));
    let error = rt.block_on(satchel.import_course(cut.to_string_lossy().into(), None)).unwrap_err();
    assert!(error.to_string().contains("truncated"), "{error}");
    assert!(rt.block_on(satchel.list_courses()).unwrap().is_empty());
    // The whole file then resumes: what verified before is not written again.
    let progress = Arc::new(Progress::default());
    let imported = rt
        .block_on(
            satchel.import_course(
                file.to_string_lossy().into(),
                Some(progress.clone() as Arc<dyn ShareListener>),
            ),
        )
        .unwrap();
    assert_eq!(imported.outcome.course_id, COURSE);
    assert_eq!((imported.blobs_added, imported.blobs_already_present), (1, 1));
    for (lesson, text) in LESSONS.iter().zip(&texts) {
        let files =
            rt.block_on(satchel.rendition_files((*lesson).into(), RenditionKind::Text)).unwrap().unwrap();
        assert_eq!(&std::fs::read_to_string(&files[0].path).unwrap(), text);
    }
    let downloads = rt.block_on(satchel.list_downloads(Some(COURSE.into()))).unwrap();
    // A reading is the same file in every rendition: all three are on the phone now.
    assert_eq!(downloads.len(), 6, "{downloads:?}");
    assert!(downloads.iter().all(|d| d.state == DownloadState::Done), "{downloads:?}");
    let events = progress.0.lock().unwrap().clone();
    assert!(events.len() >= 3, "{events:?}");
    assert!(events.windows(2).all(|w| w[0].bytes_done <= w[1].bytes_done));
    assert_eq!(events.last().unwrap().bytes_done, events.last().unwrap().bytes_total);

    // Importing again (as after an interruption) verifies and skips what is already there.
    let again = rt.block_on(satchel.import_course(file.to_string_lossy().into(), None)).unwrap();
    assert_eq!((again.blobs_added, again.blobs_already_present), (0, 2));
}

#[test]
fn a_verified_file_an_import_killed_before_recording_it_still_counts() {
    let (_dir, file, texts) = exported();
    let phone = tempfile::tempdir().unwrap();
    // What a process killed between moving a verified blob into the store and recording it in
    // the database leaves: the file in place, no record.
    let (name, bytes) = members(&file).into_iter().nth(1).unwrap();
    let hash = name.strip_prefix("blobs/").unwrap();
    let path = phone.path().join("content/blobs").join(&hash[..2]).join(hash);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &bytes).unwrap();

    let satchel = open_account(phone.path(), vec![test_public_key()]).unwrap();
    let rt = runtime();
    let imported = rt.block_on(satchel.import_course(file.to_string_lossy().into(), None)).unwrap();
    assert_eq!((imported.blobs_added, imported.blobs_already_present), (1, 1));
    for (lesson, text) in LESSONS.iter().zip(&texts) {
        let files = rt.block_on(satchel.rendition_files((*lesson).into(), RenditionKind::Text)).unwrap();
        let files = files.unwrap_or_else(|| panic!("{lesson} is not offline"));
        assert_eq!(&std::fs::read_to_string(&files[0].path).unwrap(), text);
    }
}

/// The members of a shared file.
fn members(file: &Path) -> Vec<(String, Vec<u8>)> {
    let mut reader = Reader::new(std::fs::File::open(file).unwrap()).unwrap();
    let mut members = Vec::new();
    while let Some(header) = reader.next_member().unwrap() {
        let mut body = Vec::new();
        reader.body(header.size).read_to_end(&mut body).unwrap();
        members.push((header.name, body));
    }
    members
}

/// A shared file of `members`, each declared at its own size unless `claim` says otherwise.
fn write(path: &Path, members: &[(String, Vec<u8>)], claim: Option<(usize, u64)>) {
    let mut writer = Writer::new(std::fs::File::create(path).unwrap()).unwrap();
    for (i, (name, body)) in members.iter().enumerate() {
        match claim {
            // A header claiming a size the body does not have: the file ends inside it.
            Some((at, size)) if at == i => {
                let mut short = body.as_slice();
                assert!(writer.member(name, size, &mut short).is_err());
                writer.finish().unwrap();
                return;
            }
            _ => writer.member(name, body.len() as u64, &mut body.as_slice()).unwrap(),
        }
    }
    writer.finish().unwrap();
}

fn resign(envelope: &[u8], key: &SigningKey, edit: impl Fn(&mut serde_json::Value)) -> Vec<u8> {
    let envelope: serde_json::Value = serde_json::from_slice(envelope).unwrap();
    let mut payload: serde_json::Value = serde_json::from_str(envelope["payload"].as_str().unwrap()).unwrap();
    edit(&mut payload);
    serde_json::to_vec(&satchel_core::content::signed::sign(payload.to_string(), key)).unwrap()
}

#[test]
fn every_bad_shared_file_is_a_typed_error_and_changes_nothing() {
    let (dir, file, _) = exported();
    let good = members(&file);
    let bad = |name: &str| dir.path().join(name);
    // The phone already holds another course; none of the bad files may change it.
    let phone = tempfile::tempdir().unwrap();
    let satchel = open_account(phone.path(), vec![test_public_key()]).unwrap();
    let rt = runtime();
    rt.block_on(satchel.import_manifest(include_str!("../../cli/sample/course-manifest.json").into()))
        .unwrap();
    let courses_before = rt.block_on(satchel.list_courses()).unwrap();

    // A bad signature: the payload changed after signing.
    let mut tampered = good.clone();
    let mut envelope: serde_json::Value = serde_json::from_slice(&tampered[0].1).unwrap();
    envelope["payload"] = envelope["payload"].as_str().unwrap().replace("Shared", "Sh4red").into();
    tampered[0].1 = serde_json::to_vec(&envelope).unwrap();
    write(&bad("tampered"), &tampered, None);
    // An unknown key: a valid signature by a key the phone does not trust.
    let mut foreign = good.clone();
    foreign[0].1 = resign(&good[0].1, &SigningKey::from_bytes(&[9u8; 32]), |_| {});
    write(&bad("foreign"), &foreign, None);
    // A swapped blob: one member's bytes changed, its size kept.
    let mut swapped = good.clone();
    let last = swapped[1].1.len() - 2;
    swapped[1].1[last] ^= 0x20;
    write(&bad("swapped"), &swapped, None);
    // A member path with `..`.
    let mut traversal = good.clone();
    traversal[1].0 = "blobs/../../../etc/passwd".into();
    write(&bad("traversal"), &traversal, None);
    // A member claiming 10 GB.
    write(&bad("huge"), &good, Some((1, 10 * 1024 * 1024 * 1024)));
    // Truncated: the file cut in half.
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(bad("truncated"), &bytes[..bytes.len() / 2]).unwrap();
    // Not a shared file at all.
    std::fs::write(bad("garbage"), b"PK\x03\x04 not a satchel file").unwrap();

    let integrity = |e: &SatchelError| matches!(e, SatchelError::Integrity { .. });
    for (name, expect) in [
        ("tampered", "does not match"),
        ("foreign", "does not trust"),
        ("swapped", "hash"),
        ("traversal", "not a file of the course"),
        ("huge", "claims 10737418240 bytes"),
        ("truncated", "truncated"),
        ("garbage", "not a Satchel shared course file"),
    ] {
        let error = rt.block_on(satchel.import_course(bad(name).to_string_lossy().into(), None)).unwrap_err();
        assert!(integrity(&error), "{name}: {error:?}");
        assert!(error.to_string().contains(expect), "{name}: {error}");
        assert_eq!(
            rt.block_on(satchel.list_courses()).unwrap(),
            courses_before,
            "{name} changed the catalog"
        );
        let tmp = phone.path().join("content/tmp");
        assert!(!tmp.exists() || std::fs::read_dir(&tmp).unwrap().count() == 0, "{name} left a partial file");
    }
    // Exporting what was not installed signed, or not downloaded, is refused too.
    let error = rt
        .block_on(satchel.export_course(
            "web-basics".into(),
            RenditionKind::Lite,
            bad("refused.satchel").to_string_lossy().into(),
            None,
        ))
        .unwrap_err();
    assert!(matches!(error, SatchelError::InvalidInput { .. }), "{error:?}");
    assert!(!bad("refused.satchel").exists());
}

#[test]
fn a_disk_that_fills_during_import_is_a_typed_error() {
    let (_dir, file, _) = exported();
    // A 1 MB tmpfs holds the account: the core keeps a free-space margin, so the first blob
    // finds no room.
    let mount = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(mount.path())
        .status()
        .unwrap();
    assert!(status.success(), "mount tmpfs (the tests run as root)");
    let result = std::panic::catch_unwind(|| {
        let satchel = open_account(mount.path(), vec![test_public_key()]).unwrap();
        let error =
            runtime().block_on(satchel.import_course(file.to_string_lossy().into(), None)).unwrap_err();
        assert!(matches!(error, SatchelError::Storage { .. }), "{error:?}");
        assert!(runtime().block_on(satchel.list_courses()).unwrap().is_empty());
        satchel.shutdown_blocking().unwrap();
    });
    let _ = std::process::Command::new("umount").arg(mount.path()).status();
    result.unwrap();
}

#[test]
fn the_cli_exports_and_imports_a_course_file() {
    let (dir, texts) = packed();
    let server = ServerProcess::serve(&dir.path().join("out")).unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let key = test_public_key();
    let file = dir.path().join("shared.satchel");
    let file_text = file.to_str().unwrap();
    let run = |account: &Path, args: &[&str]| {
        let out = std::process::Command::new(satchel_tests::workspace_bin("satchel").unwrap())
            .arg("--account")
            .arg(account)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(a.path(), &["fetch", "--publisher-key", &key, &server.base_url(), COURSE]);
    run(a.path(), &["download", "--course", COURSE, "--rendition", "text"]);
    let exported: serde_json::Value =
        serde_json::from_str(&run(a.path(), &["export", COURSE, "--rendition", "text", file_text, "--json"]))
            .unwrap();
    assert_eq!(exported["bytes"].as_u64().unwrap(), std::fs::metadata(&file).unwrap().len());
    drop(server);
    let imported: serde_json::Value =
        serde_json::from_str(&run(b.path(), &["import-file", "--publisher-key", &key, file_text, "--json"]))
            .unwrap();
    assert_eq!(imported["course_id"], COURSE);
    assert_eq!(imported["blobs_added"], 2);
    let satchel = open_account(b.path(), vec![key]).unwrap();
    let files =
        runtime().block_on(satchel.rendition_files(LESSONS[0].into(), RenditionKind::Text)).unwrap().unwrap();
    assert_eq!(std::fs::read_to_string(&files[0].path).unwrap(), texts[0]);
    // Another key than the publisher's: refused with the Integrity exit code, nothing imported.
    let c = tempfile::tempdir().unwrap();
    let other = satchel_server::keys::public_key(&SigningKey::from_bytes(&[5u8; 32]));
    let out = std::process::Command::new(satchel_tests::workspace_bin("satchel").unwrap())
        .arg("--account")
        .arg(c.path())
        .args(["import-file", "--publisher-key", &other, file_text])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not trust"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
