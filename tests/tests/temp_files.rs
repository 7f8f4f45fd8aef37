//! The core writes temporary files only inside the account: on older Android the system's
//! temporary directory is /data/local/tmp, outside the app's storage. This binary holds one test,
//! because it points TMPDIR at a directory that does not exist for the whole process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use satchel_core::catalog::RenditionKind;
use satchel_core::downloads::{DownloadState, DownloadTarget, NetworkType, RunOutcome};
use satchel_core::runtime::runtime;
use satchel_core::{Satchel, SatchelConfig};
use satchel_tests::ServerProcess;
use satchel_tests::sample::{packed_sample, target_dir, test_public_key};

#[test]
fn downloads_write_no_file_outside_the_account() {
    // Everything the test itself needs from the system's temporary directory comes first.
    let packed = packed_sample().unwrap();
    let host = ServerProcess::serve(&packed.dir).unwrap();
    let account = tempfile::tempdir_in(target_dir()).unwrap();
    let missing = account.path().with_extension("no-such-tmp");
    // SAFETY: the only test of this binary, and no other thread of it reads the environment
    // now (the core's runtime starts below).
    unsafe { std::env::set_var("TMPDIR", &missing) };
    assert!(tempfile::tempfile().is_err(), "the system's temporary directory is unusable");

    let satchel = Satchel::open_blocking(
        account.path().to_str().unwrap().to_owned(),
        SatchelConfig { device_name: "phone".into(), trusted_publisher_keys: vec![test_public_key()] },
    )
    .unwrap();
    satchel.set_network(NetworkType::Unmetered);
    let rt = runtime();
    rt.block_on(satchel.fetch_course(host.base_url(), "web-basics".into())).unwrap();
    let lesson = DownloadTarget::Lesson { lesson_id: "web-basics.dns".into() };
    for rendition in [RenditionKind::Lite, RenditionKind::Full] {
        rt.block_on(satchel.enqueue_download(lesson.clone(), rendition, 0)).unwrap();
    }
    let summary = rt.block_on(satchel.run_downloads(60_000)).unwrap();
    assert_eq!(summary.outcome, RunOutcome::Finished, "{summary:?}");
    let all = rt.block_on(satchel.list_downloads(None)).unwrap();
    assert!(all.iter().all(|d| d.state == DownloadState::Done), "{all:?}");
    assert!(!missing.exists(), "nothing created the system's temporary directory");
}
