//! Sync end to end: learners' devices (real accounts, real SQLite files) syncing through the
//! reference sync server running as a real process on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use satchel_core::ffi::NetworkErrorKind;
use satchel_core::learning::AttemptState;
use satchel_core::notes::{NewNote, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;
use satchel_core::sync::{SyncOutcome, SyncReport};
use satchel_tests::sync_device::{COURSE, Device, PRACTICE, READING, Tokens, VIDEO, open_account};
use satchel_tests::sync_server::SyncServer;

fn finished(report: &SyncReport) {
    assert_eq!(report.outcome, SyncOutcome::Finished, "{report:?}");
    assert_eq!(report.remaining, 0, "{report:?}");
}

fn time_note(text: &str) -> NewNote {
    NewNote {
        lesson_id: VIDEO.into(),
        kind: NoteKind::Note,
        body: text.into(),
        anchor: NoteAnchor::Time { start_ms: 10_000, end_ms: 20_000 },
        color: None,
        tags: vec!["dns".into()],
    }
}

#[test]
fn two_devices_of_one_learner_converge_on_progress_notes_and_attempts() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let token = server.token("amina", 86_400).unwrap();

    let phone = Device::open("phone").unwrap();
    phone.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    phone.play(VIDEO, 0, 120).unwrap();
    let p = &phone.satchel;
    runtime().block_on(p.record_reading(READING.into(), 1.0)).unwrap();
    let note = runtime().block_on(p.add_note(time_note("DNS turns names into addresses"))).unwrap();
    let attempt = runtime().block_on(p.start_quiz_attempt(PRACTICE.into())).unwrap();
    runtime().block_on(p.answer_question(attempt.id.clone(), "q1".into(), vec!["c".into()])).unwrap();
    let graded = runtime().block_on(p.submit_quiz_attempt(attempt.id.clone())).unwrap();
    runtime().block_on(p.enroll(COURSE.into())).unwrap();
    runtime().block_on(p.set_weekly_goal(5)).unwrap();
    let before = phone.pending().unwrap();
    assert!(before >= 6, "{before} pending");

    let report = phone.sync().unwrap();
    finished(&report);
    assert_eq!(report.pushed, before);
    assert_eq!(phone.pending().unwrap(), 0);

    let tablet = Device::open("tablet").unwrap();
    tablet.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    let report = tablet.sync().unwrap();
    finished(&report);
    assert!(report.pulled >= before, "{report:?}");
    let t = &tablet.satchel;
    let video = runtime().block_on(t.lesson_progress(VIDEO.into())).unwrap();
    let mine = runtime().block_on(p.lesson_progress(VIDEO.into())).unwrap();
    assert_eq!(video.position_ms, mine.position_ms);
    assert_eq!(video.watched_ms, mine.watched_ms);
    assert_eq!(video.time_spent_ms, mine.time_spent_ms);
    assert!(video.time_spent_ms > 0);
    assert!(runtime().block_on(t.lesson_progress(READING.into())).unwrap().completed);
    let notes = runtime().block_on(t.notes_for_lesson(VIDEO.into())).unwrap();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].id, note.id);
    assert_eq!(notes[0].body, note.body);
    let attempts = runtime().block_on(t.quiz_attempts(PRACTICE.into())).unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].state, AttemptState::Graded);
    assert_eq!(attempts[0].score_percent, graded.score_percent);
    assert_eq!(runtime().block_on(t.enrollments()).unwrap().len(), 1);
    assert_eq!(runtime().block_on(t.learning_summary(0)).unwrap().weekly_goal_days, 5);
    assert_eq!(tablet.pending().unwrap(), 0, "pulling queues nothing");

    // The tablet carries on where the phone stopped; its time adds to the phone's, never twice.
    tablet.play(VIDEO, 120, 200).unwrap();
    finished(&tablet.sync().unwrap());
    finished(&phone.sync().unwrap());
    finished(&tablet.sync().unwrap());
    let on_phone = runtime().block_on(p.lesson_progress(VIDEO.into())).unwrap();
    let on_tablet = runtime().block_on(t.lesson_progress(VIDEO.into())).unwrap();
    assert_eq!(on_phone.position_ms, 200_000);
    assert_eq!(without_local_time(on_phone.clone()), without_local_time(on_tablet));
    assert_eq!(on_phone.time_spent_ms, mine.time_spent_ms + 80_000, "{on_phone:?}");
}

/// Progress without the local `updated_at_ms` (when this device last wrote the row).
fn without_local_time(
    mut p: satchel_core::learning::LessonProgress,
) -> satchel_core::learning::LessonProgress {
    p.updated_at_ms = 0;
    p
}

/// Every note the server holds for the learner, as a fresh device pulls them: (id, text, deleted).
fn server_notes(server_url: &str, token: &str) -> Vec<(String, String)> {
    let fresh = Device::open("auditor").unwrap();
    fresh.connect(server_url, Tokens::new(token.to_owned())).unwrap();
    finished(&fresh.sync().unwrap());
    let mut notes: Vec<(String, String)> = runtime()
        .block_on(fresh.satchel.notes_for_course(COURSE.into()))
        .unwrap()
        .into_iter()
        .map(|n| (n.id, n.body))
        .collect();
    notes.sort();
    notes
}

#[test]
fn concurrent_edits_of_a_note_are_kept_as_revisions_and_an_edit_racing_a_delete_survives() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let token = server.token("amina", 86_400).unwrap();
    let phone = Device::open("phone").unwrap();
    let tablet = Device::open("tablet").unwrap();
    phone.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    tablet.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    let (p, t) = (&phone.satchel, &tablet.satchel);
    let note = runtime().block_on(p.add_note(time_note("first words"))).unwrap();
    finished(&phone.sync().unwrap());
    finished(&tablet.sync().unwrap());

    // Both edit offline: the text and the colour on the phone, the tags on the tablet.
    runtime()
        .block_on(p.update_note(
            note.id.clone(),
            "phone's words".into(),
            Some("red".into()),
            vec!["dns".into()],
        ))
        .unwrap();
    runtime()
        .block_on(t.update_note(note.id.clone(), "tablet's words".into(), None, vec!["exam".into()]))
        .unwrap();
    finished(&phone.sync().unwrap());
    finished(&tablet.sync().unwrap());
    finished(&phone.sync().unwrap());
    let on_phone = runtime().block_on(p.notes_for_lesson(VIDEO.into())).unwrap();
    let on_tablet = runtime().block_on(t.notes_for_lesson(VIDEO.into())).unwrap();
    assert_eq!(on_phone.len(), 1);
    assert_eq!(on_phone[0].body, on_tablet[0].body, "one winner everywhere");
    assert_eq!(on_phone[0].tags, ["exam"], "tags: the tablet's later write");
    assert_eq!(on_phone[0].color.as_deref(), Some("red"), "colour: only the phone changed it");
    let revisions = runtime().block_on(p.note_revisions(note.id.clone())).unwrap();
    assert_eq!(revisions.len(), 1, "the losing edit is a revision: {revisions:?}");
    let loser = revisions[0].clone();
    assert_ne!(loser.text, on_phone[0].body);
    assert!(["phone's words", "tablet's words"].contains(&loser.text.as_str()));

    // Restoring the revision makes it the text on every device, with no revisions left.
    let restored =
        runtime().block_on(t.restore_note_revision(note.id.clone(), loser.revision_id.clone())).unwrap();
    assert_eq!(restored.body, loser.text);
    finished(&tablet.sync().unwrap());
    finished(&phone.sync().unwrap());
    assert_eq!(runtime().block_on(p.notes_for_lesson(VIDEO.into())).unwrap()[0].body, loser.text);
    assert!(runtime().block_on(p.note_revisions(note.id.clone())).unwrap().is_empty());

    // An edit racing a delete: the note is deleted, and its edited text is restorable.
    runtime().block_on(p.delete_note(note.id.clone())).unwrap();
    runtime().block_on(t.update_note(note.id.clone(), "edited offline".into(), None, vec![])).unwrap();
    finished(&phone.sync().unwrap());
    finished(&tablet.sync().unwrap());
    finished(&phone.sync().unwrap());
    assert!(runtime().block_on(t.notes_for_lesson(VIDEO.into())).unwrap().is_empty(), "the delete wins");
    let deleted = runtime().block_on(p.deleted_notes(COURSE.into())).unwrap();
    assert_eq!(deleted.len(), 1);
    let texts = runtime().block_on(p.note_revisions(note.id.clone())).unwrap();
    let edited = texts.iter().find(|r| r.text == "edited offline").expect("the racing edit is kept");
    runtime().block_on(p.restore_note_revision(note.id.clone(), edited.revision_id.clone())).unwrap();
    finished(&phone.sync().unwrap());
    finished(&tablet.sync().unwrap());
    let back = runtime().block_on(t.notes_for_lesson(VIDEO.into())).unwrap();
    assert_eq!(back.len(), 1);
    assert_eq!(back[0].body, "edited offline");
}

#[test]
fn three_devices_converge_whatever_the_order() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let token = server.token("amina", 86_400).unwrap();
    let devices: Vec<Device> =
        ["phone", "tablet", "laptop"].iter().map(|n| Device::open(n).unwrap()).collect();
    for (i, device) in devices.iter().enumerate() {
        device.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
        device.play(VIDEO, i as i64 * 60, i as i64 * 60 + 50).unwrap();
        runtime().block_on(device.satchel.add_note(time_note(&format!("note from device {i}")))).unwrap();
    }
    for device in devices.iter().rev() {
        finished(&device.sync().unwrap());
    }
    for device in &devices {
        finished(&device.sync().unwrap());
    }
    let views: Vec<_> = devices
        .iter()
        .map(|d| {
            let progress = runtime().block_on(d.satchel.lesson_progress(VIDEO.into())).unwrap();
            let mut notes: Vec<String> = runtime()
                .block_on(d.satchel.notes_for_lesson(VIDEO.into()))
                .unwrap()
                .into_iter()
                .map(|n| n.body)
                .collect();
            notes.sort();
            (without_local_time(progress), notes)
        })
        .collect();
    assert_eq!(views[0], views[1]);
    assert_eq!(views[1], views[2]);
    assert_eq!(views[0].1.len(), 3);
    assert_eq!(views[0].0.time_spent_ms, 3 * 50_000, "each device's time counted once");
}

#[test]
fn one_fault_at_each_step_still_drains_the_queue_with_no_further_writes() {
    use satchel_tests::fault_proxy::{FaultProxy, Faults};
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let token = server.token("amina", 86_400).unwrap();
    let proxy = FaultProxy::start(server.addr, Faults::default()).unwrap();
    let phone = Device::open("phone").unwrap();
    let tokens = Tokens::new(server.token("amina", 0).unwrap());
    *tokens.next.lock().unwrap() = Some(token.clone());
    phone.connect(&proxy.base_url(), tokens.clone()).unwrap();
    let p = &phone.satchel;
    let write = |text: &str| runtime().block_on(p.add_note(time_note(text))).unwrap();

    // 401: the expired token is refreshed once and the sync goes on.
    write("one");
    finished(&phone.sync().unwrap());
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1);

    // 5xx with Retry-After, then 429: backoff and retry within the same sync.
    write("two");
    proxy.set_faults(Faults { fail_with: vec![503, 429], retry_after: Some(1), ..Faults::default() });
    let started = Instant::now();
    finished(&phone.sync().unwrap());
    assert!(started.elapsed() >= Duration::from_secs(2), "Retry-After was obeyed");

    // The reply lost after the server committed the push: resent identically, a duplicate.
    write("three");
    proxy.set_faults(Faults {
        stall_after: Some(0),
        stall_connections: 1,
        one_request_per_connection: true,
        ..Faults::default()
    });
    proxy.reset_counters();
    finished(&phone.sync().unwrap());
    assert_eq!(pushes(&proxy), 2, "sent again after the lost reply: {:?}", proxy.requests());

    // A malformed reply (a byte flipped in the zstd or JSON body): typed error, retried.
    write("four");
    proxy.set_faults(Faults {
        corrupt_at: Some(200),
        corrupt_connections: 1,
        one_request_per_connection: true,
        ..Faults::default()
    });
    proxy.reset_counters();
    finished(&phone.sync().unwrap());
    assert_eq!(pushes(&proxy), 2, "sent again after the spoiled reply: {:?}", proxy.requests());

    // The server is down: the outbox stays; it drains once it is back. The phone talks to the
    // proxy, which accepts and then drops the connection, so to the phone the link broke (a
    // refused connect of its own would be `Unreachable`).
    proxy.set_faults(Faults::default());
    write("five");
    let addr = server.addr;
    server.stop();
    let report = phone.sync().unwrap();
    assert!(
        matches!(
            report.outcome,
            SyncOutcome::Failed { kind: NetworkErrorKind::Interrupted, http_status: None, .. }
        ),
        "{report:?}"
    );
    assert_eq!(report.remaining, 1);
    assert_eq!(phone.pending().unwrap(), 1);
    let server = SyncServer::serve(state.path(), Some(addr)).unwrap();
    finished(&phone.sync().unwrap());

    let notes: Vec<String> =
        server_notes(&server.base_url(), &token).into_iter().map(|(_, text)| text).collect();
    let mut expected: Vec<String> =
        ["one", "two", "three", "four", "five"].iter().map(|s| s.to_string()).collect();
    expected.sort();
    let mut notes = notes;
    notes.sort();
    assert_eq!(notes, expected, "every note exactly once");
}

/// Pushes the proxy saw.
fn pushes(proxy: &satchel_tests::fault_proxy::FaultProxy) -> usize {
    proxy.requests().iter().filter(|r| r.starts_with("POST /sync/v1/push")).count()
}

#[test]
fn an_expired_token_with_no_fresh_one_fails_asking_to_sign_in_again_and_keeps_the_queue() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let phone = Device::open("phone").unwrap();
    let tokens = Tokens::new(server.token("amina", 0).unwrap());
    phone.connect(&server.base_url(), tokens.clone()).unwrap();
    runtime().block_on(phone.satchel.add_note(time_note("kept"))).unwrap();

    let report = phone.sync().unwrap();
    match &report.outcome {
        SyncOutcome::Failed { kind, reason, .. } => {
            assert_eq!(
                *kind,
                NetworkErrorKind::SignInRequired,
                "the app can ask for a sign-in without the text"
            );
            assert!(reason.contains("refused the token") && reason.contains("sign in again"), "{reason}")
        }
        other => panic!("an expired token fails the sync: {other:?}"),
    }
    assert_eq!(tokens.refreshes.load(Ordering::SeqCst), 1, "asked once for a fresh token");
    assert!(report.remaining >= 1, "the note waits: {report:?}");
    assert!(server_notes(&server.base_url(), &server.token("amina", 3600).unwrap()).is_empty());

    // Signed in again: the same change goes.
    *tokens.current.lock().unwrap() = server.token("amina", 3600).unwrap();
    finished(&phone.sync().unwrap());
    let notes = server_notes(&server.base_url(), &server.token("amina", 3600).unwrap());
    assert_eq!(notes.len(), 1, "{notes:?}");
}

#[test]
fn a_poison_op_mid_queue_is_rejected_listed_and_does_not_wedge_the_queue() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let token = server.token("amina", 86_400).unwrap();
    let phone = Device::open("phone").unwrap();
    phone.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    let p = &phone.satchel;
    runtime().block_on(p.add_note(time_note("before"))).unwrap();
    runtime().block_on(p.record_reading(READING.into(), 0.5)).unwrap();
    runtime().block_on(p.add_note(time_note("after"))).unwrap();
    // Damage the middle entry the way a buggy older build might have written it.
    phone.damage_pending("progress", "scroll_fraction", serde_json::json!(7.5)).unwrap();
    let report = phone.sync().unwrap();
    finished(&report);
    assert_eq!(report.rejected, 1);
    assert_eq!(report.pushed, 2);
    let rejected = runtime().block_on(p.rejected_sync_ops()).unwrap();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].entity_kind, "progress");
    assert_eq!(rejected[0].code, "invalid_record");
    assert_eq!(server_notes(&server.base_url(), &token).len(), 2, "the ops after it went through");
    runtime().block_on(p.dismiss_rejected_sync_op(rejected[0].op_id.clone())).unwrap();
    assert!(runtime().block_on(p.rejected_sync_ops()).unwrap().is_empty());
}

#[test]
fn a_cloned_database_takes_a_new_device_id_and_both_copies_keep_syncing() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let token = server.token("amina", 86_400).unwrap();
    let phone = Device::open("phone").unwrap();
    phone.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    runtime().block_on(phone.satchel.add_note(time_note("written before the copy"))).unwrap();
    finished(&phone.sync().unwrap());
    runtime().block_on(phone.satchel.add_note(time_note("unsent when copied"))).unwrap();
    runtime().block_on(phone.satchel.pause()).unwrap();

    // A backup of the database restored onto a new phone: the file beside it does not come along.
    let copy_dir = tempfile::tempdir().unwrap();
    std::fs::copy(phone.dir.path().join("satchel.db"), copy_dir.path().join("satchel.db")).unwrap();
    let copy = open_account(copy_dir.path(), "new phone").unwrap();
    assert_ne!(copy.device_id(), phone.satchel.device_id(), "a copy is a new device");
    let clock = std::sync::Arc::clone(copy.account().store().clock());
    let copy = Device { satchel: copy, dir: copy_dir, clock };
    copy.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    runtime().block_on(copy.satchel.add_note(time_note("written on the copy"))).unwrap();
    // Reopening the original keeps its id.
    assert_eq!(open_account(phone.dir.path(), "").unwrap().device_id(), phone.satchel.device_id());

    finished(&copy.sync().unwrap());
    runtime().block_on(phone.satchel.add_note(time_note("written on the original"))).unwrap();
    finished(&phone.sync().unwrap());
    finished(&copy.sync().unwrap());
    let mut texts: Vec<String> =
        server_notes(&server.base_url(), &token).into_iter().map(|(_, t)| t).collect();
    texts.sort();
    assert_eq!(
        texts,
        ["unsent when copied", "written before the copy", "written on the copy", "written on the original"],
        "nothing of either copy was taken for a duplicate of the other"
    );
}

/// Copies the server's database files (it is stopped, so they are consistent).
fn copy_db(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let source = Path::new(&format!("{}{suffix}", from.display())).to_path_buf();
        let target = Path::new(&format!("{}{suffix}", to.display())).to_path_buf();
        if source.exists() {
            std::fs::copy(&source, &target).unwrap();
        } else if target.exists() {
            std::fs::remove_file(&target).unwrap();
        }
    }
}

#[test]
fn a_server_restored_from_an_older_copy_gets_back_everything_from_the_devices() {
    for renew_epoch in [true, false] {
        let state = tempfile::tempdir().unwrap();
        let backup = tempfile::tempdir().unwrap();
        let server = SyncServer::create(state.path()).unwrap();
        let addr = server.addr;
        let token = server.token("amina", 86_400).unwrap();
        let phone = Device::open("phone").unwrap();
        phone.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
        runtime().block_on(phone.satchel.add_note(time_note("before the backup"))).unwrap();
        finished(&phone.sync().unwrap());
        server.stop();
        copy_db(&state.path().join("sync.db"), &backup.path().join("sync.db"));

        let server = SyncServer::serve(state.path(), Some(addr)).unwrap();
        runtime().block_on(phone.satchel.add_note(time_note("after the backup, phone"))).unwrap();
        finished(&phone.sync().unwrap());
        let tablet = Device::open("tablet").unwrap();
        tablet.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
        runtime().block_on(tablet.satchel.add_note(time_note("after the backup, tablet"))).unwrap();
        finished(&tablet.sync().unwrap());
        server.stop();

        // The operator restores last night's copy (and, done right, renews the epoch).
        copy_db(&backup.path().join("sync.db"), &state.path().join("sync.db"));
        if renew_epoch {
            let status = std::process::Command::new(satchel_tests::workspace_bin("satchel-server").unwrap())
                .args(["sync-new-epoch", "--sync-db"])
                .arg(state.path().join("sync.db"))
                .stdout(std::process::Stdio::null())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let server = SyncServer::serve(state.path(), Some(addr)).unwrap();
        finished(&phone.sync().unwrap());
        finished(&tablet.sync().unwrap());
        finished(&phone.sync().unwrap());
        let mut texts: Vec<String> =
            server_notes(&server.base_url(), &token).into_iter().map(|(_, t)| t).collect();
        texts.sort();
        assert_eq!(
            texts,
            ["after the backup, phone", "after the backup, tablet", "before the backup"],
            "renewed epoch: {renew_epoch}"
        );
        assert_eq!(runtime().block_on(phone.satchel.notes_for_course(COURSE.into())).unwrap().len(), 3);
    }
}

#[test]
fn a_device_offline_for_400_days_after_tombstone_cleanup_syncs_without_loss_or_resurrection() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let addr = server.addr;
    let token = server.token("amina", 86_400).unwrap();
    let phone = Device::open("phone").unwrap();
    let tablet = Device::open("tablet").unwrap();
    phone.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    tablet.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    let doomed =
        runtime().block_on(phone.satchel.add_note(time_note("deleted while the tablet is away"))).unwrap();
    runtime().block_on(phone.satchel.add_note(time_note("kept"))).unwrap();
    finished(&phone.sync().unwrap());
    finished(&tablet.sync().unwrap());
    assert_eq!(runtime().block_on(tablet.satchel.notes_for_course(COURSE.into())).unwrap().len(), 2);

    // The tablet goes in a drawer; the phone deletes a note; a year and more later the server
    // purges the tombstone (the tablet was retired after 90 days unseen).
    runtime().block_on(phone.satchel.delete_note(doomed.id.clone())).unwrap();
    finished(&phone.sync().unwrap());
    runtime().block_on(tablet.satchel.add_note(time_note("written in the drawer"))).unwrap();
    tablet.play(VIDEO, 0, 60).unwrap();
    server.stop();
    let purged = runtime()
        .block_on(async {
            use satchel_server::sync::store::{SqliteStore, SyncStore};
            let store = SqliteStore::open(&state.path().join("sync.db")).await?;
            store.purge_tombstones(satchel_server::sync::now_ms() + 400 * 86_400_000).await
        })
        .unwrap();
    assert_eq!(purged.tombstones, 1);
    let server = SyncServer::serve(state.path(), Some(addr)).unwrap();

    finished(&tablet.sync().unwrap());
    finished(&phone.sync().unwrap());
    let texts = |d: &Device| {
        let mut t: Vec<String> = runtime()
            .block_on(d.satchel.notes_for_course(COURSE.into()))
            .unwrap()
            .into_iter()
            .map(|n| n.body)
            .collect();
        t.sort();
        t
    };
    assert_eq!(
        texts(&tablet),
        ["kept", "written in the drawer"],
        "the deleted note is gone, the new one kept"
    );
    assert_eq!(texts(&phone), ["kept", "written in the drawer"], "nothing came back from the dead");
    let mut on_server: Vec<String> =
        server_notes(&server.base_url(), &token).into_iter().map(|(_, t)| t).collect();
    on_server.sort();
    assert_eq!(on_server, ["kept", "written in the drawer"]);
    let progress = runtime().block_on(phone.satchel.lesson_progress(VIDEO.into())).unwrap();
    assert_eq!(progress.position_ms, 60_000, "the drawer's progress arrived");
}

#[test]
fn a_pulled_record_the_device_cannot_accept_is_set_aside_listed_and_pulls_go_on() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let token = server.token("amina", 86_400).unwrap();
    let phone = Device::open("phone").unwrap();
    phone.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    runtime().block_on(phone.satchel.record_reading(READING.into(), 0.5)).unwrap();
    finished(&phone.sync().unwrap());

    // The server comes to hold a record that breaks the rules (a server bug, or one whose
    // limits differ from this build's), followed by a good one.
    let db = rusqlite::Connection::open(server.db()).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    let body: String = db
        .query_row("SELECT body FROM record WHERE learner_id = 'amina' AND kind = 'progress'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let mut damaged: serde_json::Value = serde_json::from_str(&body).unwrap();
    damaged["scroll_fraction"] = serde_json::json!(7.5);
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    let cursor: i64 = db
        .query_row(
            "UPDATE learner SET cursor = cursor + 1 WHERE learner_id = 'amina' RETURNING cursor",
            [],
            |r| r.get(0),
        )
        .unwrap();
    db.execute(
        "UPDATE record SET body = ?1, cursor = ?2 WHERE learner_id = 'amina' AND kind = 'progress'",
        rusqlite::params![damaged.to_string(), cursor],
    )
    .unwrap();
    db.execute_batch("COMMIT").unwrap();
    runtime().block_on(phone.satchel.add_note(time_note("after the bad record"))).unwrap();
    finished(&phone.sync().unwrap());

    let tablet = Device::open("tablet").unwrap();
    tablet.connect(&server.base_url(), Tokens::new(token)).unwrap();
    let report = tablet.sync().unwrap();
    finished(&report);
    assert_eq!(report.rejected, 1, "{report:?}");
    let notes = runtime().block_on(tablet.satchel.notes_for_course(COURSE.into())).unwrap();
    assert_eq!(notes.len(), 1, "the record after it arrived");
    let set_aside = runtime().block_on(tablet.satchel.rejected_sync_ops()).unwrap();
    assert_eq!(set_aside.len(), 1, "{set_aside:?}");
    assert_eq!(set_aside[0].code, "unusable_pulled_record");
    assert_eq!((set_aside[0].entity_kind.as_str(), set_aside[0].entity_id.as_str()), ("progress", READING));
    assert_eq!(tablet.satchel.sync_status().rejected_ops, 1);
    // Not pulled again, not listed twice; the device's own progress for it is untouched.
    let again = tablet.sync().unwrap();
    finished(&again);
    assert_eq!((again.pulled, again.rejected), (0, 0), "{again:?}");
    assert_eq!(runtime().block_on(tablet.satchel.rejected_sync_ops()).unwrap().len(), 1);
    assert!(!runtime().block_on(tablet.satchel.lesson_progress(READING.into())).unwrap().completed);
}

#[test]
fn a_graded_quiz_taken_before_its_keys_were_loaded_is_graded_once_they_are() {
    use satchel_server::grading::{GradingFile, QuizKey};
    use satchel_tests::sync_device::GRADED;
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let addr = server.addr;
    let token = server.token("amina", 86_400).unwrap();
    let phone = Device::open("phone").unwrap();
    phone.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    let p = &phone.satchel;
    let attempt = runtime().block_on(p.start_quiz_attempt(GRADED.into())).unwrap();
    for (question, choice) in [("f1", "a"), ("f2", "a"), ("f3", "b")] {
        runtime()
            .block_on(p.answer_question(attempt.id.clone(), question.into(), vec![choice.into()]))
            .unwrap();
    }
    let submitted = runtime().block_on(p.submit_quiz_attempt(attempt.id.clone())).unwrap();
    assert_eq!(submitted.state, AttemptState::SubmittedPending);
    finished(&phone.sync().unwrap());
    let pending = runtime().block_on(p.quiz_attempts(GRADED.into())).unwrap();
    assert_eq!(pending[0].state, AttemptState::SubmittedPending, "no keys: the attempt waits");

    // The operator loads the grading file and restarts the server.
    server.stop();
    let grading = tempfile::tempdir().unwrap();
    let correct = [("f1", "a"), ("f2", "a"), ("f3", "a")]
        .into_iter()
        .map(|(q, c)| (q.to_owned(), [c.to_owned()].into()))
        .collect();
    let key = QuizKey { course_id: COURSE.into(), pass_percent: 70, correct };
    GradingFile { course_id: COURSE.into(), course_version: 1, quizzes: [(GRADED.to_owned(), key)].into() }
        .write(grading.path())
        .unwrap();
    let server = SyncServer::serve_with(state.path(), Some(addr), Some(grading.path())).unwrap();

    let report = phone.sync().unwrap();
    finished(&report);
    assert_eq!(report.pulled, 1, "the grade comes back: {report:?}");
    let graded = runtime().block_on(p.quiz_attempts(GRADED.into())).unwrap();
    assert_eq!(graded.len(), 1);
    assert_eq!(
        (graded[0].state, graded[0].score_percent, graded[0].passed),
        (AttemptState::Graded, Some(66), Some(false))
    );
    let tablet = Device::open("tablet").unwrap();
    tablet.connect(&server.base_url(), Tokens::new(token)).unwrap();
    finished(&tablet.sync().unwrap());
    let on_tablet = runtime().block_on(tablet.satchel.quiz_attempts(GRADED.into())).unwrap();
    assert_eq!(on_tablet[0].score_percent, Some(66));
    // Graded once: a restart grades nothing again.
    server.stop();
    let _server = SyncServer::serve_with(state.path(), Some(addr), Some(grading.path())).unwrap();
    assert_eq!(phone.sync().unwrap().pulled, 0);
}
