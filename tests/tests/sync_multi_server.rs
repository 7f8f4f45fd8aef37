//! Issue 13, item 4: several stateless servers, one database. Three real `satchel-server`
//! processes on their own loopback ports share one PostgreSQL database and one token secret; a
//! learner's three devices each sync through a different one, and the server one device is
//! pushing through is SIGKILLed mid-push (part of the device's outbox committed, part not). The
//! device then reaches another server, as behind a load balancer. Every device must end up
//! holding every note, and the database every op of every device exactly once.
//!
//! Needs the cluster in `SATCHEL_TEST_POSTGRES_URL` (`cargo xtask test` starts one); fails
//! without it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use satchel_core::notes::{NewNote, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;
use satchel_core::sync::SyncTuning;
use satchel_server::sync::store::conformance::fresh_postgres_schema;
use satchel_tests::sync_device::{COURSE, Device, Tokens, VIDEO, is_finished, quick_tuning};
use satchel_tests::sync_server::SyncServer;

/// Notes written on the device whose server is killed: with small batches, many pushes.
const BIG_OUTBOX_NOTES: usize = 400;
const SMALL_OUTBOX_NOTES: usize = 20;

/// One answer of `psql` (unaligned, tuples only) against the test schema.
fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql").args(["-X", "-q", "-A", "-t", "-d", url, "-c", sql]).output().unwrap();
    assert!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn write_notes(device: &Device, count: usize, tag: &str) {
    for i in 0..count {
        runtime()
            .block_on(device.satchel.add_note(NewNote {
                lesson_id: VIDEO.into(),
                kind: NoteKind::Note,
                body: format!("{tag} note {i}: a request goes to DNS first"),
                anchor: NoteAnchor::Time { start_ms: i as i64 * 100, end_ms: i as i64 * 100 + 50 },
                color: None,
                tags: vec![tag.into()],
            }))
            .unwrap();
    }
}

/// The op ids waiting in a device's outbox.
fn outbox_ops(dir: &Path) -> BTreeSet<String> {
    let db = Connection::open(dir.join("satchel.db")).unwrap();
    let mut statement = db.prepare("SELECT op_id FROM outbox").unwrap();
    statement.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

/// Every note body a device shows.
fn note_bodies(device: &Device) -> BTreeSet<String> {
    runtime()
        .block_on(device.satchel.notes_for_course(COURSE.into()))
        .unwrap()
        .into_iter()
        .map(|n| n.body)
        .collect()
}

fn sync_to_the_end(device: &Device, context: &str) {
    for _ in 0..5 {
        if is_finished(&device.sync().unwrap()) {
            return;
        }
    }
    panic!("{context}: the sync did not finish in 5 runs");
}

#[test]
fn devices_spread_over_three_servers_on_one_postgres_converge_every_op_once_when_one_is_killed_mid_push() {
    let url = runtime().block_on(fresh_postgres_schema());
    let work = tempfile::tempdir().unwrap();
    let state = work.path().join("servers");
    SyncServer::prepare(&state).unwrap();
    let mut servers: Vec<Option<SyncServer>> =
        (0..3).map(|_| Some(SyncServer::serve_database(&state, &url).unwrap())).collect();
    let urls: Vec<String> = servers.iter().map(|s| s.as_ref().unwrap().base_url()).collect();
    let token = servers[0].as_ref().unwrap().token("amina", 3600).unwrap();
    let tuning = SyncTuning { push_batch: 10, max_attempts: 2, ..quick_tuning() };

    let devices: Vec<Device> = (0..3).map(|i| Device::open(&format!("phone-{i}")).unwrap()).collect();
    for (i, device) in devices.iter().enumerate() {
        device.connect_with(&urls[i], Tokens::new(token.clone()), tuning.clone()).unwrap();
        runtime().block_on(device.satchel.enroll(COURSE.into())).unwrap();
        device.play(VIDEO, i as i64 * 60, i as i64 * 60 + 30).unwrap();
        let notes = if i == 0 { BIG_OUTBOX_NOTES } else { SMALL_OUTBOX_NOTES };
        write_notes(device, notes, &format!("phone-{i}"));
    }
    let pushed_by_0 = outbox_ops(devices[0].dir.path());
    let expected: BTreeSet<String> = devices.iter().flat_map(|d| outbox_ops(d.dir.path())).collect();
    assert!(pushed_by_0.len() > BIG_OUTBOX_NOTES);

    // Devices 1 and 2 sync through servers 1 and 2.
    sync_to_the_end(&devices[1], "device 1 through server 1");
    sync_to_the_end(&devices[2], "device 2 through server 2");
    let before: usize = psql(&url, "SELECT count(*) FROM op").parse().unwrap();

    // Device 0 pushes through server 0, which is SIGKILLed once part of the outbox is in.
    let (ops_at_kill, pushing) = std::thread::scope(|scope| {
        let pushing = scope.spawn(|| devices[0].sync());
        let deadline = Instant::now() + Duration::from_secs(60);
        let landed = loop {
            let landed: usize = psql(&url, "SELECT count(*) FROM op").parse().unwrap();
            if landed > before || Instant::now() > deadline {
                break landed - before;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        servers[0].take().unwrap().stop();
        (landed, pushing.join().unwrap())
    });
    let after_kill: usize = psql(&url, "SELECT count(*) FROM op").parse::<usize>().unwrap() - before;
    assert!(ops_at_kill > 0, "the kill came after part of the outbox was committed");
    assert!(
        after_kill < pushed_by_0.len(),
        "the kill came before the whole outbox was committed: {after_kill}"
    );
    assert!(!pushing.as_ref().is_ok_and(is_finished), "the interrupted sync did not finish: {pushing:?}");

    // The load balancer sends device 0 to server 1 now; then every device syncs once more
    // (through another server than before) to pull what the others pushed.
    devices[0].connect_with(&urls[1], Tokens::new(token.clone()), tuning.clone()).unwrap();
    sync_to_the_end(&devices[0], "device 0 through server 1 after the kill");
    devices[1].connect_with(&urls[2], Tokens::new(token.clone()), tuning.clone()).unwrap();
    for (i, device) in devices.iter().enumerate() {
        sync_to_the_end(device, &format!("device {i}, final round"));
    }

    let held: Vec<String> = psql(&url, "SELECT op_id FROM op WHERE learner_id = 'amina' ORDER BY op_id")
        .lines()
        .map(str::to_owned)
        .collect();
    let held_set: BTreeSet<String> = held.iter().cloned().collect();
    assert_eq!(held.len(), held_set.len(), "an op held twice");
    assert_eq!(held_set, expected, "the database holds exactly every device's ops");
    assert_eq!(psql(&url, "SELECT count(*) FROM op WHERE outcome <> 'applied'"), "0", "every op applied");
    let seqs = psql(&url, "SELECT string_agg(last_seq::text, ',' ORDER BY device_id) FROM device");
    let outboxes: usize = devices.iter().map(|d| outbox_ops(d.dir.path()).len()).sum();
    assert_eq!(outboxes, 0, "every outbox drained");

    let bodies: Vec<BTreeSet<String>> = devices.iter().map(note_bodies).collect();
    assert_eq!(bodies[0].len(), BIG_OUTBOX_NOTES + 2 * SMALL_OUTBOX_NOTES, "device 0 holds every note");
    assert!(bodies.iter().all(|b| *b == bodies[0]), "every device holds the same notes");
    println!(
        "{} ops from 3 devices through 3 servers; {ops_at_kill} of device 0's {} in when its server was \
         killed, {after_kill} after; last seqs {seqs}",
        expected.len(),
        pushed_by_0.len()
    );
}
