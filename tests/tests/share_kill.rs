//! Kill -9 a real `satchel import-file` at random moments: nothing unverified is ever in the
//! content store, the course is never shown before every file it needs is in, and the next
//! import resumes (what was verified before is not written again) and ends with the shared
//! lectures available offline, byte-exact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use satchel_core::catalog::RenditionKind;
use satchel_core::content::store::sha256_hex;
use satchel_core::downloads::DownloadTarget;
use satchel_core::runtime::runtime;
use satchel_core::store::Store;
use satchel_tests::sample::{packed_sample, test_public_key};
use satchel_tests::{ServerProcess, check_account_after_kill, kill_delays, open_account, workspace_bin};

const COURSE: &str = "web-basics";
/// The lectures shared in full: a file of a few megabytes with several members, big enough to
/// kill an import inside and small enough to hash after every kill.
const SHARED_LESSONS: [&str; 2] = ["web-basics.dns", "web-basics.status-codes"];
const KILLS: usize = 25;

/// Two lectures downloaded in full on one phone and the course exported: (phone dir, shared
/// file).
fn exported() -> (tempfile::TempDir, std::path::PathBuf) {
    let packed = packed_sample().unwrap();
    let server = ServerProcess::serve(&packed.dir).unwrap();
    let phone = tempfile::tempdir().unwrap();
    let satchel = open_account(phone.path(), vec![test_public_key()]).unwrap();
    let rt = runtime();
    rt.block_on(satchel.fetch_course(server.base_url(), COURSE.into())).unwrap();
    for lesson in SHARED_LESSONS {
        let target = DownloadTarget::Lesson { lesson_id: lesson.into() };
        rt.block_on(satchel.enqueue_download(target, RenditionKind::Full, 0)).unwrap();
    }
    let summary = rt.block_on(satchel.run_downloads(120_000)).unwrap();
    assert_eq!((summary.failed, summary.remaining), (0, 0), "{summary:?}");
    let file = phone.path().join("course.satchel");
    rt.block_on(satchel.export_course(
        COURSE.into(),
        RenditionKind::Full,
        file.to_string_lossy().into(),
        None,
    ))
    .unwrap();
    (phone, file)
}

fn import(account: &Path, file: &Path) -> Command {
    let mut command = Command::new(workspace_bin("satchel").unwrap());
    command
        .arg("--account")
        .arg(account)
        .args(["import-file", "--json", "--publisher-key", &test_public_key()])
        .arg(file);
    command.stdout(Stdio::piped()).stderr(Stdio::null());
    command
}

/// Files of the shared lectures' full renditions that the catalog lists and the store lacks.
fn missing_files(store: &Store) -> i64 {
    store
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM rendition_blob WHERE lesson_id IN (?1, ?2) AND rendition = 'full'
                 AND hash NOT IN (SELECT hash FROM content_blob)",
                SHARED_LESSONS,
                |r| r.get(0),
            )?)
        })
        .unwrap()
}

/// The database is intact, every stored blob hashes to its name, and a course in the catalog
/// has every file of the shared lectures recorded.
fn check(account: &Path, trial: usize) -> bool {
    if let Err(e) = check_account_after_kill(account) {
        panic!("trial {trial}: {e:#}");
    }
    let store = Store::open(account.join("satchel.db")).unwrap();
    let installed: i64 =
        store.read(|c| Ok(c.query_row("SELECT count(*) FROM course", [], |r| r.get(0))?)).unwrap();
    if installed > 0 {
        assert_eq!(missing_files(&store), 0, "trial {trial}: the course is shown with files missing");
    }
    installed > 0
}

#[test]
fn killing_an_import_never_shows_a_partial_course_and_the_next_one_resumes() {
    let (_phone, file) = exported();
    let size = std::fs::metadata(&file).unwrap().len();
    assert!(size > 1 << 20, "a file big enough to be killed inside: {size} bytes");

    // How long an import takes here, so the kills land all through one.
    let scratch = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let whole = import(scratch.path(), &file).output().unwrap();
    assert!(whole.status.success());
    let took = started.elapsed().as_millis() as u64;
    eprintln!("share_kill: a {size}-byte file imports in {took} ms");
    let whole: serde_json::Value = serde_json::from_slice(&whole.stdout).unwrap();
    let members = whole["blobs_added"].as_i64().unwrap();
    assert!(members >= 4, "{whole}");

    // Kill imports into one account until one finishes, then start again on a new one, so the
    // kills keep landing inside imports; each one that finished after an earlier was killed
    // must have resumed.
    let mut dirs = vec![tempfile::tempdir().unwrap()];
    let (mut killed_inside, mut resumed) = (0, 0);
    let mut killed_before = false;
    for (trial, delay) in kill_delays(0x0054_a2e0_f11e, took / 20, took.max(20)).take(KILLS).enumerate() {
        let account = dirs.last().unwrap().path().join("acct");
        let mut child = import(&account, &file).spawn().unwrap();
        std::thread::sleep(delay);
        let finished = child.try_wait().unwrap().is_some();
        child.kill().unwrap(); // SIGKILL
        let output = child.wait_with_output().unwrap();
        if !check(&account, trial) {
            assert!(
                !finished || !output.status.success(),
                "trial {trial}: an import succeeded without the course"
            );
            killed_inside += 1;
            killed_before = true;
            continue;
        }
        if finished && killed_before {
            let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
            assert_eq!(
                report["blobs_added"].as_i64().unwrap() + report["blobs_already_present"].as_i64().unwrap(),
                members
            );
            if report["blobs_already_present"].as_i64().unwrap() > 0 {
                resumed += 1;
            }
        }
        dirs.push(tempfile::tempdir().unwrap());
        killed_before = false;
    }
    assert!(killed_inside >= 5, "only {killed_inside} kills landed before the course was in");

    // The last account finishes uninterrupted, reusing every verified file the kills left.
    let account = dirs.last().unwrap().path().join("acct");
    let verified_before = std::fs::read_dir(account.join("content/blobs"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|shard| std::fs::read_dir(shard.path()).unwrap().count() as i64)
        .sum::<i64>();
    let last = import(&account, &file).output().unwrap();
    assert!(last.status.success());
    let last: serde_json::Value = serde_json::from_slice(&last.stdout).unwrap();
    let (added, present) =
        (last["blobs_added"].as_i64().unwrap(), last["blobs_already_present"].as_i64().unwrap());
    assert_eq!(added + present, members, "{last}");
    assert_eq!(present, verified_before, "{last}");
    if present > 0 {
        resumed += 1;
    }
    assert!(resumed >= 1, "no import resumed after a kill");
    assert!(check(&account, KILLS), "the course is in after an import that finished");

    // Every lesson is offline in full, byte-exact, as on the phone that shared it.
    let satchel = open_account(&account, vec![test_public_key()]).unwrap();
    let rt = runtime();
    let outline = rt.block_on(satchel.course_outline(COURSE.into())).unwrap();
    let shared: Vec<&str> = outline
        .modules
        .iter()
        .flat_map(|m| &m.lessons)
        .filter(|l| l.renditions.iter().any(|r| r.kind == RenditionKind::Full))
        .map(|l| l.id.as_str())
        .collect();
    assert!(SHARED_LESSONS.iter().all(|l| shared.contains(l)));
    for lesson in shared {
        let files = rt.block_on(satchel.rendition_files(lesson.into(), RenditionKind::Full)).unwrap();
        if !SHARED_LESSONS.contains(&lesson) {
            assert!(files.is_none(), "{lesson} was not shared, yet is offline");
            continue;
        }
        let files = files.unwrap_or_else(|| panic!("{lesson} is not offline after the import"));
        for file in files {
            let name = Path::new(&file.path).file_name().unwrap().to_string_lossy().into_owned();
            assert_eq!(sha256_hex(&std::fs::read(&file.path).unwrap()), name);
        }
    }
}
