//! What the sync engine promises about *when* and *how much* it syncs, end to end against the
//! reference server: the metered-link priority order, the shared data meter and monthly budget,
//! the triggers (reconnect, foreground, the period, on demand) and the Wi-Fi-only setting, the
//! status events through the subscription handle, and the server's clamp of a far-future clock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use satchel_core::catalog::RenditionKind;
use satchel_core::downloads::{DownloadSettings, DownloadTarget, NetworkType, RunOutcome};
use satchel_core::ffi::{NetworkErrorKind, SyncListener};
use satchel_core::notes::{NewNote, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;
use satchel_core::sync::{SyncEvent, SyncOutcome, SyncStatus, SyncTuning};
use satchel_core::{Satchel, SatchelConfig};
use satchel_protocol::Record;
use satchel_tests::ServerProcess;
use satchel_tests::fault_proxy::{FaultProxy, Faults};
use satchel_tests::sample::{publish_one_lesson_course, test_public_key};
use satchel_tests::sync_device::{
    COURSE, Device, PRACTICE, READING, Tokens, VIDEO, is_finished, quick_tuning,
};
use satchel_tests::sync_server::SyncServer;

fn note(text: &str) -> NewNote {
    NewNote {
        lesson_id: VIDEO.into(),
        kind: NoteKind::Note,
        body: text.into(),
        anchor: NoteAnchor::Time { start_ms: 1_000, end_ms: 2_000 },
        color: None,
        tags: vec![],
    }
}

fn add_note(device: &Device, text: &str) -> String {
    runtime().block_on(device.satchel.add_note(note(text))).unwrap().id
}

/// Passes the practice quiz (an attempt, and the lesson's completion).
fn pass_quiz(device: &Device) {
    let s = &device.satchel;
    let attempt = runtime().block_on(s.start_quiz_attempt(PRACTICE.into())).unwrap();
    for (question, choice) in [("q1", "c"), ("q2", "a"), ("q4", "a"), ("q5", "a")] {
        runtime()
            .block_on(s.answer_question(attempt.id.clone(), question.into(), vec![choice.into()]))
            .unwrap();
    }
    assert_eq!(runtime().block_on(s.submit_quiz_attempt(attempt.id)).unwrap().passed, Some(true));
}

fn set_settings(device: &Device, wifi_only: bool, budget: Option<i64>) {
    let settings =
        DownloadSettings { wifi_only, monthly_cellular_budget_bytes: budget, ..DownloadSettings::default() };
    runtime().block_on(device.satchel.set_download_settings(settings)).unwrap();
}

/// (kind, entity id) of the learner's records on the server, in the order they were stored.
fn server_order(server: &SyncServer, learner: &str) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open_with_flags(server.db(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut statement =
        conn.prepare("SELECT kind, entity_id FROM record WHERE learner_id = ?1 ORDER BY cursor").unwrap();
    statement
        .query_map([learner], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn server_record(server: &SyncServer, learner: &str, kind: &str, id: &str) -> Record {
    let conn = rusqlite::Connection::open_with_flags(server.db(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let body: String = conn
        .query_row(
            "SELECT body FROM record WHERE learner_id = ?1 AND kind = ?2 AND entity_id = ?3",
            [learner, kind, id],
            |r| r.get(0),
        )
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

fn device_record(device: &Device, kind: &str, id: &str) -> Record {
    let (kind, id) = (kind.to_owned(), id.to_owned());
    let body: String = device
        .satchel
        .account()
        .store()
        .read(move |c| {
            Ok(c.query_row(
                "SELECT record FROM sync_record WHERE kind = ?1 AND entity_id = ?2",
                [kind, id],
                |r| r.get(0),
            )?)
        })
        .unwrap();
    serde_json::from_str(&body).unwrap()
}

/// Waits up to 10 s for `done`.
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < until, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn on_a_metered_link_attempts_and_completions_go_first_notes_next_and_history_waits_for_wifi() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let device = Device::open("phone").unwrap();
    // One op per push, so the server's commit order is the order the engine sent them in.
    let tuning = SyncTuning { push_batch: 1, ..quick_tuning() };
    // Metered from the start: switching to it after connecting would be a reconnect, whose
    // background sync could push the attempt before it is submitted and so reorder what we check.
    let tokens = Tokens::new(server.token("amina", 86_400).unwrap());
    device.connect_on(NetworkType::Metered, &server.base_url(), tokens, tuning).unwrap();
    set_settings(&device, false, None);

    // Written in the "wrong" order: history and notes before what the learner waits for.
    device.play(VIDEO, 0, 30).unwrap();
    let note_id = add_note(&device, "written first");
    runtime().block_on(device.satchel.set_weekly_goal(4)).unwrap();
    pass_quiz(&device);
    runtime().block_on(device.satchel.record_reading(READING.into(), 1.0)).unwrap();

    let report = device.sync().unwrap();
    assert_eq!(report.outcome, SyncOutcome::Blocked, "history waits for Wi-Fi: {report:?}");
    assert_eq!(report.remaining, 1, "{report:?}");
    let order = server_order(&server, "amina");
    let kinds: Vec<(&str, &str)> = order.iter().map(|(k, i)| (k.as_str(), i.as_str())).collect();
    assert_eq!(kinds.len(), 5, "{kinds:?}");
    assert_eq!(kinds[0].0, "quiz_attempt", "{kinds:?}");
    let urgent: Vec<_> = kinds[1..3].to_vec();
    assert!(urgent.contains(&("progress", PRACTICE)) && urgent.contains(&("progress", READING)), "{kinds:?}");
    let normal: Vec<_> = kinds[3..].to_vec();
    assert!(
        normal.contains(&("note", note_id.as_str())) && normal.iter().any(|k| k.0 == "setting"),
        "{kinds:?}"
    );
    assert!(!kinds.contains(&("progress", VIDEO)), "bulk history stayed on the phone: {kinds:?}");

    let usage = runtime().block_on(device.satchel.data_usage()).unwrap();
    assert!(usage.metered_bytes > 0, "sync's bytes are on the data meter: {usage:?}");
    assert_eq!(usage.unmetered_bytes, 0, "{usage:?}");

    device.satchel.set_network(NetworkType::Unmetered);
    let report = device.sync().unwrap();
    assert!(is_finished(&report), "{report:?}");
    assert!(server_order(&server, "amina").iter().any(|(k, i)| k == "progress" && i == VIDEO));
    let after = runtime().block_on(device.satchel.data_usage()).unwrap();
    assert_eq!(after.metered_bytes, usage.metered_bytes, "nothing more on the metered count");
    assert!(after.unmetered_bytes > 0, "{after:?}");
}

#[test]
fn the_monthly_budget_stops_sync_as_it_stops_downloads_and_both_count_on_one_meter() {
    // A course fetched from a host (downloads need one), with one lecture to download.
    let content = tempfile::tempdir().unwrap();
    let blob = vec![7u8; 50_000];
    let hash = satchel_core::content::store::sha256_hex(&blob);
    std::fs::create_dir_all(content.path().join("blobs").join(&hash[..2])).unwrap();
    std::fs::write(content.path().join("blobs").join(&hash[..2]).join(&hash), &blob).unwrap();
    publish_one_lesson_course(content.path(), "metered", "metered.talk", &hash, blob.len() as u64).unwrap();
    let host = ServerProcess::serve(content.path()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config =
        SatchelConfig { device_name: "phone".into(), trusted_publisher_keys: vec![test_public_key()] };
    let satchel = Satchel::open_blocking(dir.path().to_str().unwrap().to_owned(), config).unwrap();
    satchel.set_network(NetworkType::Unmetered);
    runtime().block_on(satchel.fetch_course(host.base_url(), "metered".into())).unwrap();
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    satchel.account().sync().set_tuning(quick_tuning());
    satchel.configure_sync(server.base_url(), Tokens::new(server.token("amina", 86_400).unwrap())).unwrap();
    let write_note = |text: &str| {
        let mut new = note(text);
        new.lesson_id = "metered.talk".into();
        runtime().block_on(satchel.add_note(new)).unwrap();
    };
    let usage = || runtime().block_on(satchel.data_usage()).unwrap();
    let set_budget = |budget: i64| {
        let settings = DownloadSettings {
            wifi_only: false,
            monthly_cellular_budget_bytes: Some(budget),
            ..DownloadSettings::default()
        };
        runtime().block_on(satchel.set_download_settings(settings)).unwrap();
    };

    set_budget(1_000_000);
    satchel.set_network(NetworkType::Metered);
    for i in 0..5 {
        write_note(&format!("note {i}"));
    }
    assert!(is_finished(&runtime().block_on(satchel.sync(30_000)).unwrap()));
    let spent = usage().metered_bytes;
    assert!(spent > 0, "sync's bytes are on the meter");

    // The month's budget is what sync already spent: sync stops, and so do downloads.
    set_budget(spent);
    write_note("waits for budget");
    let report = runtime().block_on(satchel.sync(30_000)).unwrap();
    assert_eq!(report.outcome, SyncOutcome::Blocked, "{report:?}");
    assert_eq!((report.pushed, report.remaining), (0, 1), "{report:?}");
    assert_eq!(satchel.sync_status().status, SyncStatus::Offline);
    let target = DownloadTarget::Lesson { lesson_id: "metered.talk".into() };
    runtime().block_on(satchel.enqueue_download(target, RenditionKind::Full, 0)).unwrap();
    let run = runtime().block_on(satchel.run_downloads(5_000)).unwrap();
    assert_eq!(run.outcome, RunOutcome::Blocked, "the bytes sync spent count against downloads: {run:?}");
    assert_eq!(usage().metered_bytes, spent, "nothing moved");

    // More budget: the download and the note both go, on the same count.
    set_budget(spent + 200_000);
    let run = runtime().block_on(satchel.run_downloads(30_000)).unwrap();
    assert_eq!(run.outcome, RunOutcome::Finished, "{run:?}");
    let with_download = usage().metered_bytes;
    assert!(with_download >= spent + blob.len() as i64, "{with_download}");
    assert!(is_finished(&runtime().block_on(satchel.sync(30_000)).unwrap()));
    assert!(usage().metered_bytes > with_download);
    assert_eq!(runtime().block_on(satchel.pending_changes()).unwrap(), 0);
}

#[test]
fn reconnect_foreground_the_period_and_a_request_each_start_a_sync_and_wifi_only_holds() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let device = Device::open("phone").unwrap();
    let tokens = Tokens::new(server.token("amina", 86_400).unwrap());
    device.connect(&server.base_url(), tokens.clone()).unwrap();
    let synced = |device: &Device| device.pending().unwrap() == 0;

    // With no trigger, nothing syncs (the period is off in the tests' tuning).
    add_note(&device, "waits");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(device.pending().unwrap(), 1, "no sync without a trigger");

    // The shell reports the network coming back.
    device.satchel.set_network(NetworkType::None);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(device.pending().unwrap(), 1, "losing the network starts nothing");
    device.satchel.set_network(NetworkType::Unmetered);
    eventually("the reconnect synced", || synced(&device));

    // The app comes to the foreground.
    add_note(&device, "foreground");
    device.satchel.resume();
    eventually("resume synced", || synced(&device));

    // The app asks.
    add_note(&device, "on demand");
    device.satchel.request_sync();
    eventually("request_sync synced", || synced(&device));

    // Wi-Fi only (the default) on a metered network: nothing goes, whatever asks.
    device.satchel.set_network(NetworkType::Metered);
    add_note(&device, "on cellular");
    device.satchel.request_sync();
    device.satchel.resume();
    eventually("the status says offline", || device.satchel.sync_status().status == SyncStatus::Offline);
    assert_eq!(device.pending().unwrap(), 1, "Wi-Fi only held the note back");
    device.satchel.set_network(NetworkType::Unmetered);
    eventually("Wi-Fi synced", || synced(&device));

    // The period, while the app runs.
    device
        .satchel
        .account()
        .sync()
        .set_tuning(SyncTuning { period: Some(Duration::from_millis(300)), ..quick_tuning() });
    device.satchel.configure_sync(server.base_url(), tokens).unwrap();
    add_note(&device, "periodic");
    eventually("the period synced", || synced(&device));
    assert_eq!(server_order(&server, "amina").len(), 5);
}

/// Collects the events a subscription delivers.
#[derive(Default)]
struct Collect(Mutex<Vec<SyncEvent>>);

impl SyncListener for Collect {
    fn on_event(&self, event: SyncEvent) {
        self.0.lock().unwrap().push(event);
    }
}

impl Collect {
    fn events(&self) -> Vec<SyncEvent> {
        self.0.lock().unwrap().clone()
    }
}

#[test]
fn status_events_say_idle_syncing_offline_error_and_rejected_and_the_handle_stops_them() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let proxy = FaultProxy::start(server.addr, Faults::default()).unwrap();
    let device = Device::open("phone").unwrap();
    let tuning = SyncTuning { push_batch: 1, max_attempts: 2, ..quick_tuning() };
    device
        .connect_with(&proxy.base_url(), Tokens::new(server.token("amina", 86_400).unwrap()), tuning)
        .unwrap();
    let listener = Arc::new(Collect::default());
    let handle = device.satchel.subscribe_sync(listener.clone());
    eventually("the current status arrives at once", || !listener.events().is_empty());
    let first = &listener.events()[0];
    assert_eq!((&first.status, first.last_synced_at_ms, first.rejected_ops), (&SyncStatus::Idle, None, 0));

    // Idle → syncing, with progress → idle, with the time.
    for i in 0..3 {
        add_note(&device, &format!("note {i}"));
    }
    let before = satchel_core::time::now_ms();
    assert!(is_finished(&device.sync().unwrap()));
    eventually("idle with a last-synced time", || {
        listener
            .events()
            .last()
            .is_some_and(|e| e.status == SyncStatus::Idle && e.last_synced_at_ms.is_some())
    });
    let events = listener.events();
    let progress: Vec<(i32, i32)> = events
        .iter()
        .filter_map(|e| match e.status {
            SyncStatus::Syncing { pushed, remaining, .. } => Some((pushed, remaining)),
            _ => None,
        })
        .collect();
    assert!(progress.len() >= 3, "one progress event per push at least: {events:?}");
    assert!(progress.windows(2).all(|w| w[0].0 <= w[1].0), "pushed only grows: {progress:?}");
    assert!(progress.contains(&(3, 0)), "{progress:?}");
    assert!(events.last().unwrap().last_synced_at_ms.unwrap() >= before);

    // Offline.
    device.satchel.set_network(NetworkType::None);
    assert_eq!(device.sync().unwrap().outcome, SyncOutcome::Blocked);
    eventually("offline", || listener.events().last().is_some_and(|e| e.status == SyncStatus::Offline));
    device.satchel.set_network(NetworkType::Unmetered);

    // An error, with its reason, keeping the last-synced time.
    add_note(&device, "meets a failing server");
    proxy.set_faults(Faults { fail_with: vec![503; 4], ..Faults::default() });
    assert!(matches!(device.sync().unwrap().outcome, SyncOutcome::Failed { .. }));
    eventually("an error", || {
        matches!(listener.events().last().map(|e| &e.status), Some(SyncStatus::Error { .. }))
    });
    let error = listener.events().last().cloned().unwrap();
    let SyncStatus::Error { kind, reason } = &error.status else { unreachable!() };
    assert!(reason.contains("503"), "{reason}");
    assert_eq!(*kind, NetworkErrorKind::HttpStatus, "the app can tell a failing server without the text");
    assert!(error.last_synced_at_ms.is_some());
    proxy.set_faults(Faults::default());

    // A refused op is counted in the events.
    device.damage_pending("note", "course_id", serde_json::json!("not an id!")).unwrap();
    let report = device.sync().unwrap();
    assert_eq!(report.rejected, 1, "{report:?}");
    eventually("one rejected op", || {
        listener.events().last().is_some_and(|e| e.rejected_ops == 1 && e.status == SyncStatus::Idle)
    });

    // Cancelling the handle stops delivery.
    handle.cancel();
    let seen = listener.events().len();
    add_note(&device, "after the handle");
    assert!(is_finished(&device.sync().unwrap()));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(listener.events().len(), seen, "no events after cancel");
    assert!(handle.is_finished());
    drop(handle);
    assert_eq!(device.satchel.sync_status().status, SyncStatus::Idle, "the status itself goes on");
}

#[test]
fn a_clock_a_year_ahead_is_clamped_by_the_server_and_the_device_holds_the_clamped_state() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let token = server.token("amina", 86_400).unwrap();
    let ahead = Device::open_with_clock("ahead", 365 * 86_400_000).unwrap();
    let right = Device::open("right").unwrap();
    ahead.connect(&server.base_url(), Tokens::new(token.clone())).unwrap();
    right.connect(&server.base_url(), Tokens::new(token)).unwrap();

    let note_id = add_note(&ahead, "from a phone set a year ahead");
    runtime().block_on(ahead.satchel.set_weekly_goal(6)).unwrap();
    let sent_at = satchel_core::time::now_ms();
    assert!(is_finished(&ahead.sync().unwrap()));
    let limit = satchel_core::time::now_ms() + satchel_protocol::messages::MAX_FUTURE_SKEW_MS;
    let stored = server_record(&server, "amina", "note", &note_id);
    let wall = stored.max_hlc().unwrap().wall_ms;
    assert!(wall <= limit && wall >= sent_at, "the server clamped to its now + 1 h: {wall}");
    assert_eq!(device_record(&ahead, "note", &note_id), stored, "the phone holds what the server holds");
    // Its own clock is never lowered (stamps it gave unsent changes must stay below its next
    // ones): while the phone is a year ahead, each of its pushes is clamped again.
    let clock = ahead.satchel.account().store().read(satchel_core::outbox::last_stamp).unwrap().unwrap();
    assert!(Some(&clock) >= stored.max_hlc(), "{clock:?}");

    // A change made later on a phone with the right time wins, as it should.
    assert!(is_finished(&right.sync().unwrap()));
    runtime().block_on(right.satchel.set_weekly_goal(2)).unwrap();
    let shown = runtime().block_on(right.satchel.notes_for_course(COURSE.into())).unwrap();
    runtime()
        .block_on(right.satchel.update_note(note_id.clone(), "corrected".into(), None, shown[0].tags.clone()))
        .unwrap();
    assert!(is_finished(&right.sync().unwrap()));
    assert!(is_finished(&ahead.sync().unwrap()));
    let notes = runtime().block_on(ahead.satchel.notes_for_course(COURSE.into())).unwrap();
    assert_eq!(notes[0].body, "corrected");
    assert_eq!(runtime().block_on(ahead.satchel.learning_summary(0)).unwrap().weekly_goal_days, 2);
    assert!(runtime().block_on(ahead.satchel.note_revisions(note_id)).unwrap().is_empty());
}
