//! Issue 10, item 5: `satchel sync` SIGKILLed at random points against the reference sync
//! server (a real process), then run again to the end; the server must hold every operation of
//! the device exactly once — none lost, none applied twice, none refused.
//!
//! A large outbox is built once; each trial copies that account directory, so a trial costs one
//! killed sync and one finishing sync. Each trial is a different learner on the same server, so
//! trials cannot see each other's operations. The kill delays come from a seeded generator
//! spread over the measured length of a whole sync; the seed is printed, and
//! `SATCHEL_KILL_SEED=N` replays a run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use rusqlite::Connection;
use satchel_core::notes::{NewNote, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;
use satchel_core::{Satchel, SatchelConfig};
use satchel_tests::sync_server::SyncServer;
use satchel_tests::{kill_delays, sample_manifest_path, workspace_bin};

const TRIALS: usize = 100;
/// Notes in the outbox: each is its own entity, so its own operation.
const NOTES: usize = 200;
/// Operations per push: several requests per sync, so kills land between them as well as
/// inside one.
const BATCH: &str = "20";

/// The account every trial starts from, and the op ids its outbox holds.
fn build_outbox(dir: &Path) -> BTreeSet<String> {
    let satchel = Satchel::open_blocking(
        dir.to_str().unwrap().to_owned(),
        SatchelConfig { device_name: "kill-test phone".into(), trusted_publisher_keys: vec![] },
    )
    .unwrap();
    let rt = runtime();
    let manifest = std::fs::read_to_string(sample_manifest_path()).unwrap();
    rt.block_on(satchel.import_manifest(manifest)).unwrap();
    rt.block_on(satchel.enroll("web-basics".into())).unwrap();
    for position in (0..=60_000).step_by(5_000) {
        rt.block_on(satchel.record_playback("web-basics.what-happens".into(), position)).unwrap();
    }
    for i in 0..NOTES {
        rt.block_on(satchel.add_note(NewNote {
            lesson_id: "web-basics.what-happens".into(),
            kind: NoteKind::Note,
            body: format!("note {i}: the browser asks DNS first"),
            anchor: NoteAnchor::Time { start_ms: i as i64 * 100, end_ms: i as i64 * 100 + 50 },
            color: None,
            tags: vec!["kill".into()],
        }))
        .unwrap();
    }
    satchel.shutdown_blocking().unwrap();
    let db = Connection::open(dir.join("satchel.db")).unwrap();
    let mut stmt = db.prepare("SELECT op_id FROM outbox").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn sync_command(account: &Path, server: &SyncServer, token: &str) -> Command {
    let mut command = Command::new(workspace_bin("satchel").unwrap());
    command
        .arg("--account")
        .arg(account)
        .args(["sync", "--server", &server.base_url(), "--batch", BATCH, "--max-seconds", "60"])
        .env("SATCHEL_SYNC_TOKEN", token)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// What the server holds for `learner`: (op id, seq, outcome) of every op, and the device's
/// last applied seq.
fn server_ops(db: &Path, learner: &str) -> (Vec<(String, i64, String)>, Vec<i64>) {
    let conn = Connection::open(db).unwrap();
    let mut stmt =
        conn.prepare("SELECT op_id, seq, outcome FROM op WHERE learner_id = ?1 ORDER BY seq").unwrap();
    let ops = stmt
        .query_map([learner], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut stmt = conn.prepare("SELECT last_seq FROM device WHERE learner_id = ?1").unwrap();
    let seqs = stmt.query_map([learner], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap();
    (ops, seqs)
}

fn local_outbox(account: &Path) -> i64 {
    let conn = Connection::open(account.join("satchel.db")).unwrap();
    conn.query_row("SELECT count(*) FROM outbox", [], |r| r.get(0)).unwrap()
}

#[test]
fn a_sync_killed_anywhere_delivers_every_operation_exactly_once() {
    let work = tempfile::tempdir().unwrap();
    let server = SyncServer::create(&work.path().join("server")).unwrap();
    let template: PathBuf = work.path().join("template");
    let expected = build_outbox(&template);
    assert!(expected.len() > NOTES, "the outbox holds every note: {}", expected.len());

    // How long one whole sync of that outbox takes here, process start to exit: the median of
    // three, so one slow start on a busy machine does not stretch every kill delay.
    let mut runs: Vec<std::time::Duration> = (0..3)
        .map(|i| {
            let measure = work.path().join(format!("measure-{i}"));
            copy_dir(&template, &measure);
            let token = server.token(&format!("measure-{i}"), 3600).unwrap();
            let started = Instant::now();
            let out = sync_command(&measure, &server, &token).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            started.elapsed()
        })
        .collect();
    runs.sort();
    let whole = runs[1];
    let seed = std::env::var("SATCHEL_KILL_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    println!(
        "{} ops, one sync {} ms; {TRIALS} kills, seed {seed} (SATCHEL_KILL_SEED={seed} replays)",
        expected.len(),
        whole.as_millis()
    );

    let mut delays = kill_delays(seed, 0, (whole.as_millis() as u64).max(1));
    let mut killed_mid_sync = 0;
    let mut finished_before_kill = 0;
    let all = Instant::now();
    for trial in 0..TRIALS {
        let delay = delays.next().unwrap();
        let account = work.path().join(format!("trial-{trial}"));
        copy_dir(&template, &account);
        let learner = format!("kill-{trial}");
        let token = server.token(&learner, 3600).unwrap();

        let mut child = sync_command(&account, &server, &token).spawn().unwrap();
        std::thread::sleep(delay);
        match child.try_wait().unwrap() {
            Some(_) => finished_before_kill += 1,
            None => {
                child.kill().unwrap(); // SIGKILL
                killed_mid_sync += 1;
            }
        }
        child.wait().unwrap();

        let out = sync_command(&account, &server, &token).output().unwrap();
        let context = format!("trial {trial} (seed {seed}, killed after {delay:?})");
        assert!(
            out.status.success(),
            "{context}: the finishing sync failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(local_outbox(&account), 0, "{context}: the outbox drained");

        let (ops, last_seqs) = server_ops(&server.db(), &learner);
        let held: BTreeSet<String> = ops.iter().map(|(id, ..)| id.clone()).collect();
        assert_eq!(held.len(), ops.len(), "{context}: an op held twice");
        assert_eq!(held, expected, "{context}: the server holds exactly the device's ops");
        assert!(ops.iter().all(|(.., outcome)| outcome == "applied"), "{context}: every op applied");
        let seqs: Vec<i64> = ops.iter().map(|(_, seq, _)| *seq).collect();
        assert_eq!(
            seqs,
            (1..=expected.len() as i64).collect::<Vec<_>>(),
            "{context}: seqs gap-free, once each"
        );
        assert_eq!(last_seqs, vec![expected.len() as i64], "{context}: one device, every seq applied");
        std::fs::remove_dir_all(&account).unwrap();
    }
    println!(
        "{killed_mid_sync} killed mid-sync, {finished_before_kill} had finished; {TRIALS} trials in {:.1} s",
        all.elapsed().as_secs_f64()
    );
    assert!(killed_mid_sync >= TRIALS / 2, "most kills land inside a sync: {killed_mid_sync}");
}
