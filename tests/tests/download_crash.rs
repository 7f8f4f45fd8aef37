//! Kill -9 a real downloading process at random moments, a hundred times: the next run always
//! resumes every file from exactly the bytes on disk, nothing unverified is ever in the content
//! store, nothing is shown offline before it is complete, and at the end every file is exact.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

use satchel_core::store::Store;
use satchel_tests::fault_proxy::{FaultProxy, Faults};
use satchel_tests::sample::{packed_sample, test_public_key};
use satchel_tests::{ServerProcess, check_account_after_kill, kill_delays, workspace_bin};

const KILLS: usize = 100;

#[test]
fn killing_the_downloading_process_never_restarts_a_file_or_shows_a_partial_one() {
    let packed = packed_sample().unwrap();
    let server = ServerProcess::serve(&packed.dir).unwrap();
    // Slow enough that a hundred kills land all through the downloads.
    let proxy = FaultProxy::start(server.addr, Faults { rate: Some(400_000), ..Faults::default() }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let account = dir.path().join("acct");
    let satchel = workspace_bin("satchel").unwrap();
    let fetched = Command::new(&satchel)
        .args(["fetch", "--account"])
        .arg(&account)
        .args(["--publisher-key", &test_public_key(), &proxy.base_url(), "web-basics"])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(fetched.success());
    let download = |args: &[&str]| {
        let mut command = Command::new(&satchel);
        command.args(["download", "--account"]).arg(&account).args(args);
        command.stdout(Stdio::null()).stderr(Stdio::null());
        command
    };
    // Two videos and the whole course in lite: ~16 MB, about 40 s at the proxy's rate.
    let targets: [&[&str]; 3] = [
        &["--lesson", "web-basics.dns", "--rendition", "full"],
        &["--lesson", "web-basics.status-codes", "--rendition", "full"],
        &["--course", "web-basics", "--rendition", "lite"],
    ];

    let mut resumed_requests = 0;
    let mut on_disk: HashMap<String, u64> = HashMap::new();
    for (trial, delay) in kill_delays(0x000d_0e71_0ad5, 40, 400).take(KILLS).enumerate() {
        proxy.reset_counters();
        let mut child = download(targets[trial % targets.len()]).spawn().unwrap();
        std::thread::sleep(delay);
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        // What the killed process sent for each blob it already had bytes of: a Range request
        // starting exactly where its file ended. Never from zero.
        for request in proxy.requests() {
            let Some(hash) = request.split_whitespace().nth(1).and_then(|p| p.rsplit('/').next()) else {
                continue;
            };
            if let Some(&len) = on_disk.get(hash).filter(|len| **len > 0) {
                assert!(
                    request.contains(&format!("bytes={len}-")),
                    "trial {trial}: {hash} had {len} bytes on disk but was asked for as {request:?}"
                );
                resumed_requests += 1;
                // Only the first request per blob of this process resumes from the old length.
                on_disk.insert(hash.to_owned(), 0);
            }
        }
        on_disk = partial_lengths(&account);
        check_store(&account, trial);
    }
    assert!(resumed_requests >= 20, "only {resumed_requests} requests resumed a file");

    // Uninterrupted, every download finishes, byte-exact.
    proxy.set_faults(Faults::default());
    for target in targets {
        let status = download(target).status().unwrap();
        assert!(status.success(), "{target:?}");
    }
    let store = Store::open(account.join("satchel.db")).unwrap();
    let states: Vec<String> = store
        .read(|c| {
            Ok(c.prepare("SELECT state FROM download")?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?)
        })
        .unwrap();
    assert!(states.len() >= 8 && states.iter().all(|s| s == "done"), "{states:?}");
    drop(store);
    check_store(&account, KILLS);
    assert!(partial_lengths(&account).values().all(|len| *len == 0), "no partial files left");
}

/// Lengths of the partial files, by blob hash.
fn partial_lengths(account: &Path) -> HashMap<String, u64> {
    let mut lengths = HashMap::new();
    if let Ok(entries) = std::fs::read_dir(account.join("content/partial")) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(hash) = name.strip_suffix(".part") {
                lengths.insert(hash.to_owned(), entry.metadata().map(|m| m.len()).unwrap_or(0));
            }
        }
    }
    lengths
}

/// The database is intact, every stored blob matches its name, and every download marked done
/// has all its files recorded and present.
fn check_store(account: &Path, trial: usize) {
    if let Err(e) = check_account_after_kill(account) {
        panic!("trial {trial}: {e:#}");
    }
    let store = Store::open(account.join("satchel.db")).unwrap();
    let blobs = account.join("content/blobs");
    let missing: Vec<String> = store
        .read(|c| {
            Ok(c.prepare(
                "SELECT d.lesson_id || ' ' || d.rendition || ' ' || rb.hash FROM download d
                 JOIN rendition_blob rb ON rb.lesson_id = d.lesson_id AND rb.rendition = d.rendition
                 WHERE d.state = 'done' AND rb.hash NOT IN (SELECT hash FROM content_blob)",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
        })
        .unwrap();
    assert!(missing.is_empty(), "trial {trial}: done downloads with missing files: {missing:?}");
    let done_files: Vec<String> = store
        .read(|c| {
            Ok(c.prepare(
                "SELECT rb.hash FROM download d
                 JOIN rendition_blob rb ON rb.lesson_id = d.lesson_id AND rb.rendition = d.rendition
                 WHERE d.state = 'done'",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
        })
        .unwrap();
    for hash in done_files {
        assert!(
            blobs.join(&hash[..2]).join(&hash).is_file(),
            "trial {trial}: {hash} of a done download is on disk"
        );
    }
}
