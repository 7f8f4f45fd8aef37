//! The download queue end to end: the reference server behind a proxy that cuts, stalls,
//! throttles, corrupts and fails connections, and the core downloading through it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use satchel_core::catalog::RenditionKind;
use satchel_core::downloads::{
    DownloadEvent, DownloadEventKind, DownloadSettings, DownloadState, DownloadTarget, NetworkType,
    RunOutcome, Tuning,
};
use satchel_core::ffi::{DownloadListener, StorageErrorKind};
use satchel_core::runtime::runtime;
use satchel_core::{Satchel, SatchelConfig, SatchelError};
use satchel_server::pack::publish::publish_envelope;
use satchel_tests::ServerProcess;
use satchel_tests::fault_proxy::{FaultProxy, Faults};
use satchel_tests::sample::{packed_copy, packed_sample, publish_one_lesson_course, test_public_key};

const SHORT_LECTURE: &str = "web-basics.dns";
const LONG_LECTURE: &str = "web-basics.what-happens";

/// A fresh account that fetched the sample course through a fault proxy in front of `root`.
struct Setup {
    _server: ServerProcess,
    proxy: FaultProxy,
    satchel: Arc<Satchel>,
    dir: tempfile::TempDir,
}

fn setup(root: &Path) -> Setup {
    let server = ServerProcess::serve(root).unwrap();
    let proxy = FaultProxy::start(server.addr, Faults::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let satchel = open(dir.path());
    satchel.set_network(NetworkType::Unmetered);
    runtime().block_on(satchel.fetch_course(proxy.base_url(), "web-basics".into())).unwrap();
    proxy.reset_counters();
    Setup { _server: server, proxy, satchel, dir }
}

fn open(dir: &Path) -> Arc<Satchel> {
    let satchel = Satchel::open_blocking(
        dir.to_str().unwrap().to_owned(),
        SatchelConfig { device_name: "e2e".into(), trusted_publisher_keys: vec![test_public_key()] },
    )
    .unwrap();
    // Fast retries so failure paths finish in test time.
    satchel.account().downloads().set_tuning(Tuning {
        stall_timeout: Duration::from_secs(1),
        backoff_base: Duration::from_millis(20),
        backoff_cap: Duration::from_millis(200),
        ..Tuning::default()
    });
    satchel
}

fn enqueue(satchel: &Satchel, target: DownloadTarget, rendition: RenditionKind) -> Vec<i64> {
    runtime().block_on(satchel.enqueue_download(target, rendition, 0)).unwrap().iter().map(|d| d.id).collect()
}

fn lesson(id: &str) -> DownloadTarget {
    DownloadTarget::Lesson { lesson_id: id.into() }
}

fn run(satchel: &Satchel, max_ms: i64) -> satchel_core::downloads::RunSummary {
    runtime().block_on(satchel.run_downloads(max_ms)).unwrap()
}

fn state(satchel: &Satchel, id: i64) -> (DownloadState, Option<String>) {
    let all = runtime().block_on(satchel.list_downloads(None)).unwrap();
    let info = all.into_iter().find(|d| d.id == id).expect("download row");
    (info.state, info.failure)
}

/// Every file of the rendition is byte-for-byte the host's (decoded) file.
fn assert_byte_exact(satchel: &Satchel, lesson_id: &str, rendition: RenditionKind) {
    let files = runtime()
        .block_on(satchel.rendition_files(lesson_id.into(), rendition))
        .unwrap()
        .unwrap_or_else(|| panic!("{lesson_id} {rendition:?} is complete"));
    for file in files {
        let bytes = std::fs::read(&file.path).unwrap();
        assert_eq!(bytes.len() as i64, file.size, "{}", file.role);
        let name = Path::new(&file.path).file_name().unwrap().to_str().unwrap().to_owned();
        assert_eq!(
            satchel_core::content::store::sha256_hex(&bytes),
            name,
            "{} is the published file",
            file.role
        );
    }
}

fn full_video_size(lesson_id: &str) -> u64 {
    packed_sample().unwrap().report.lessons.iter().find(|l| l.lesson_id == lesson_id).unwrap().full
}

#[test]
fn downloads_complete_byte_exact_when_every_connection_is_cut() {
    let s = setup(&packed_sample().unwrap().dir);
    s.proxy.set_faults(Faults { cut_after: Some(256 * 1024), ..Faults::default() });
    let recorder = Arc::new(Recorder::default());
    let _subscription = s.satchel.subscribe_downloads(recorder.clone());
    let ids =
        enqueue(&s.satchel, DownloadTarget::Course { course_id: "web-basics".into() }, RenditionKind::Lite);
    enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Full);
    let summary = run(&s.satchel, 120_000);
    assert_eq!(summary.outcome, RunOutcome::Finished, "{summary:?}");
    assert_eq!(summary.failed, 0);
    for id in &ids {
        assert_eq!(state(&s.satchel, *id).0, DownloadState::Done);
    }
    assert_byte_exact(&s.satchel, SHORT_LECTURE, RenditionKind::Full);
    assert_byte_exact(&s.satchel, LONG_LECTURE, RenditionKind::Lite);

    // The concurrency limit (2 by default) held, and was used.
    let mut running = std::collections::HashSet::new();
    let mut most = 0;
    for event in recorder.0.lock().unwrap().iter().filter(|e| e.kind == DownloadEventKind::StateChanged) {
        if event.state == DownloadState::Running {
            running.insert(event.download_id);
        } else {
            running.remove(&event.download_id);
        }
        most = most.max(running.len());
    }
    assert_eq!(most, 2, "at most two downloads at once, and two did run together");

    // Resumed, never restarted: every reconnection asked for the rest with If-Range.
    let requests = s.proxy.requests();
    let resumed: Vec<_> = requests.iter().filter(|r| r.contains("bytes=") && r.contains("| \"")).collect();
    assert!(resumed.len() >= 20, "{} resumed requests of {}", resumed.len(), requests.len());
    let video = full_video_size(SHORT_LECTURE);
    let lite: u64 = packed_sample().unwrap().report.lessons.iter().map(|l| l.lite).sum();
    let received = s.proxy.reply_bytes();
    assert!(
        received as f64 <= (video + lite) as f64 * 1.03,
        "{received} bytes received for {} bytes of files",
        video + lite
    );
}

#[test]
fn stalls_errors_with_retry_after_and_a_corrupted_byte_are_survived() {
    let s = setup(&packed_sample().unwrap().dir);
    s.proxy.set_faults(Faults {
        fail_with: vec![503, 429, 500],
        retry_after: Some(1),
        stall_after: Some(300_000),
        stall_connections: 1,
        corrupt_at: Some(200_000),
        corrupt_connections: 1,
        one_request_per_connection: true,
        ..Faults::default()
    });
    let started = std::time::Instant::now();
    let id = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Full)[0];
    let summary = run(&s.satchel, 120_000);
    assert_eq!(summary.outcome, RunOutcome::Finished, "{summary:?}");
    assert_eq!(state(&s.satchel, id), (DownloadState::Done, None));
    assert_byte_exact(&s.satchel, SHORT_LECTURE, RenditionKind::Full);
    // Two Retry-After: 1 answers were honoured.
    assert!(started.elapsed() >= Duration::from_secs(2), "{:?}", started.elapsed());
    // The corrupted copy was thrown away and fetched again whole.
    assert!(
        s.proxy.reply_bytes() > full_video_size(SHORT_LECTURE) + 250_000,
        "{} {:#?}",
        s.proxy.reply_bytes(),
        s.proxy.requests()
    );
}

#[test]
fn a_blob_that_keeps_failing_its_hash_fails_with_a_reason_and_is_never_committed() {
    let s = setup(&packed_sample().unwrap().dir);
    s.proxy.set_faults(Faults {
        corrupt_at: Some(5_000),
        corrupt_connections: 1_000,
        one_request_per_connection: true,
        ..Faults::default()
    });
    let id = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Full)[0];
    let summary = run(&s.satchel, 120_000);
    assert_eq!(summary.failed, 1, "{summary:?}");
    let (state_now, failure) = state(&s.satchel, id);
    assert_eq!(state_now, DownloadState::Failed);
    assert!(failure.as_deref().unwrap_or("").contains("hash"), "{failure:?}");
    assert_eq!(
        runtime().block_on(s.satchel.rendition_files(SHORT_LECTURE.into(), RenditionKind::Full)).unwrap(),
        None
    );
    // Three full copies came and went (bounded), nothing reached the store or stayed partial.
    let video = full_video_size(SHORT_LECTURE);
    assert!(s.proxy.reply_bytes() < video * 4, "{} bytes", s.proxy.reply_bytes());
    let blobs = s.dir.path().join("content/blobs");
    let stored = walk(&blobs).into_iter().filter(|(_, len)| *len == video).count();
    assert_eq!(stored, 0, "the corrupt video is not in the content store");
    let partial: u64 = walk(&s.dir.path().join("content/partial")).iter().map(|(_, l)| l).sum();
    assert_eq!(partial, 0);

    // Once the network behaves, resuming the failed download finishes it.
    s.proxy.set_faults(Faults::default());
    runtime().block_on(s.satchel.resume_download(id)).unwrap();
    run(&s.satchel, 120_000);
    assert_eq!(state(&s.satchel, id).0, DownloadState::Done);
    assert_byte_exact(&s.satchel, SHORT_LECTURE, RenditionKind::Full);
}

#[test]
fn a_host_that_lies_about_a_length_fails_the_download_and_commits_nothing() {
    let copy = packed_copy().unwrap();
    // The host's audio file of the short lecture grows a tail: every reply is longer than the
    // manifest says.
    let audio = blob_path_of(copy.path(), SHORT_LECTURE, "lite", "audio");
    let mut bytes = std::fs::read(&audio).unwrap();
    bytes.extend_from_slice(b"trailing junk");
    std::fs::write(&audio, bytes).unwrap();

    let s = setup(copy.path());
    let id = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Lite)[0];
    let summary = run(&s.satchel, 60_000);
    assert_eq!(summary.failed, 1, "{summary:?}");
    let (state_now, failure) = state(&s.satchel, id);
    assert_eq!(state_now, DownloadState::Failed);
    assert!(failure.as_deref().unwrap_or("").contains("bytes"), "{failure:?}");
    assert_eq!(
        runtime().block_on(s.satchel.rendition_files(SHORT_LECTURE.into(), RenditionKind::Lite)).unwrap(),
        None
    );
}

#[test]
fn a_file_changed_on_the_host_restarts_that_blob_instead_of_splicing() {
    let copy = packed_copy().unwrap();
    let s = setup(copy.path());
    s.proxy.set_faults(Faults { cut_after: Some(1_000_000), ..Faults::default() });
    let id = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Full)[0];
    // Stop after the first cut: part of the video is on disk.
    let stopper = Arc::clone(&s.satchel);
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        stopper.stop_downloads();
    });
    run(&s.satchel, 60_000);
    assert_ne!(state(&s.satchel, id).0, DownloadState::Done);
    // The host replaces the file (same bytes, new modification time: a new ETag).
    let video = blob_path_of(copy.path(), SHORT_LECTURE, "full", "video");
    let bytes = std::fs::read(&video).unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    std::fs::remove_file(&video).unwrap();
    std::fs::write(&video, &bytes).unwrap();
    s.proxy.set_faults(Faults::default());
    s.proxy.reset_counters();
    run(&s.satchel, 60_000);
    assert_eq!(state(&s.satchel, id).0, DownloadState::Done);
    assert_byte_exact(&s.satchel, SHORT_LECTURE, RenditionKind::Full);
    let requests = s.proxy.requests();
    assert!(requests.iter().any(|r| r.contains("bytes=") && r.contains("| \"")), "{requests:?}");
    // The If-Range did not match, so the whole file came again.
    assert!(s.proxy.reply_bytes() >= bytes.len() as u64, "{} bytes", s.proxy.reply_bytes());
}

#[test]
fn the_network_policy_and_the_cellular_budget_hold() {
    let s = setup(&packed_sample().unwrap().dir);
    let id = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Lite)[0];
    let rt = runtime();

    // Offline: nothing moves.
    s.satchel.set_network(NetworkType::None);
    let summary = run(&s.satchel, 10_000);
    assert_eq!(summary.outcome, RunOutcome::Blocked);
    assert_eq!(state(&s.satchel, id).0, DownloadState::WaitingForNetwork);
    // Cellular with the default "Wi-Fi only": nothing moves either.
    s.satchel.set_network(NetworkType::Metered);
    run(&s.satchel, 10_000);
    assert_eq!(state(&s.satchel, id).0, DownloadState::WaitingForNetwork);
    assert_eq!(s.proxy.reply_bytes(), 0, "not a byte on a network the learner did not allow");

    // Cellular allowed, but a budget smaller than the lesson: waits for budget.
    let lite = rt.block_on(s.satchel.download_estimate(lesson(SHORT_LECTURE), RenditionKind::Lite)).unwrap();
    // The lite lecture is tens of kilobytes (10 kbit/s speech, palette stills).
    assert!(lite.bytes_to_fetch > 40_000, "{lite:?}");
    let mut settings = DownloadSettings {
        wifi_only: false,
        monthly_cellular_budget_bytes: Some(lite.bytes_to_fetch / 2),
        ..DownloadSettings::default()
    };
    rt.block_on(s.satchel.set_download_settings(settings.clone())).unwrap();
    run(&s.satchel, 10_000);
    assert_eq!(state(&s.satchel, id).0, DownloadState::WaitingForBudget);
    assert_eq!(s.proxy.reply_bytes(), 0);

    // A budget that fits: it downloads, and the bytes are counted as metered.
    settings.monthly_cellular_budget_bytes = Some(lite.bytes_to_fetch + 50_000);
    rt.block_on(s.satchel.set_download_settings(settings)).unwrap();
    let summary = run(&s.satchel, 60_000);
    assert_eq!(summary.outcome, RunOutcome::Finished, "{summary:?}");
    assert_eq!(state(&s.satchel, id).0, DownloadState::Done);
    let usage = rt.block_on(s.satchel.data_usage()).unwrap();
    assert_eq!(usage.metered_bytes, lite.bytes_to_fetch, "{usage:?}");
    assert_eq!(usage.unmetered_bytes, 0);
    let full = full_video_size(SHORT_LECTURE);
    assert!(u64::try_from(usage.saved_by_lite_bytes).unwrap() > full * 9 / 10, "{usage:?}");

    // A second lesson that does not fit what is left of the budget waits; Wi-Fi releases it.
    let long_lite =
        rt.block_on(s.satchel.download_estimate(lesson(LONG_LECTURE), RenditionKind::Lite)).unwrap();
    assert!(long_lite.bytes_to_fetch > 50_000 + 100_000, "more than the budget left: {long_lite:?}");
    let long = enqueue(&s.satchel, lesson(LONG_LECTURE), RenditionKind::Lite)[0];
    run(&s.satchel, 10_000);
    assert_eq!(state(&s.satchel, long).0, DownloadState::WaitingForBudget);
    s.satchel.set_network(NetworkType::Unmetered);
    run(&s.satchel, 60_000);
    assert_eq!(state(&s.satchel, long).0, DownloadState::Done);
    let usage = rt.block_on(s.satchel.data_usage()).unwrap();
    assert_eq!(usage.metered_bytes, lite.bytes_to_fetch, "metered count unchanged on Wi-Fi");
    assert_eq!(usage.unmetered_bytes, long_lite.bytes_to_fetch, "{usage:?}");
}

#[derive(Default)]
struct Recorder(Mutex<Vec<DownloadEvent>>);

impl DownloadListener for Recorder {
    fn on_event(&self, event: DownloadEvent) {
        self.0.lock().unwrap().push(event);
    }
}

#[test]
fn pause_resume_cancel_and_throttled_progress_events() {
    let s = setup(&packed_sample().unwrap().dir);
    // 1 MB/s: the 6 MB video takes long enough to pause it midway.
    s.proxy.set_faults(Faults { rate: Some(1_000_000), ..Faults::default() });
    let recorder = Arc::new(Recorder::default());
    let subscription = s.satchel.subscribe_downloads(recorder.clone());
    let id = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Full)[0];
    let progress_of = |recorder: &Recorder| -> Vec<DownloadEvent> {
        let events = recorder.0.lock().unwrap();
        events.iter().filter(|e| e.kind == DownloadEventKind::Progress).cloned().collect()
    };
    // Paused once the download is well under way, judged by its own events rather than by a
    // fixed sleep: on a loaded machine the run can take a while to start.
    let pauser = Arc::clone(&s.satchel);
    let watched = Arc::clone(&recorder);
    let run_started = Instant::now();
    let pause = std::thread::spawn(move || {
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let progress = progress_of(&watched);
            if progress.len() >= 4 && progress.last().is_some_and(|e| e.bytes_done > 600_000) {
                break;
            }
            assert!(Instant::now() < until, "no progress in 30 s: {progress:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
        let paused_at = Instant::now();
        runtime().block_on(pauser.pause_download(id)).unwrap();
        paused_at
    });
    let summary = run(&s.satchel, 60_000);
    let running_for = pause.join().unwrap() - run_started;
    assert_eq!(summary.outcome, RunOutcome::Finished, "a paused download waits for the learner: {summary:?}");
    assert_eq!(state(&s.satchel, id).0, DownloadState::Paused);
    let partial =
        u64::try_from(runtime().block_on(s.satchel.storage_usage()).unwrap().partial_bytes).unwrap();
    assert!(partial > 500_000, "the bytes so far are kept: {partial}");

    // Events: progress while running, at most one every 250 ms as docs/downloads.md promises
    // (counted against the time from the run's start to the pause, which only overstates the
    // time the download ran), with a rate and an ETA.
    std::thread::sleep(Duration::from_millis(100));
    let events = recorder.0.lock().unwrap().clone();
    let progress = progress_of(&recorder);
    let most = running_for.as_millis() / 250 + 2;
    assert!(
        progress.len() >= 4 && progress.len() as u128 <= most,
        "{} progress events in {running_for:?} (at most {most})",
        progress.len()
    );
    assert!(progress.windows(2).all(|w| w[0].bytes_done < w[1].bytes_done));
    let last = progress.last().unwrap();
    assert!(last.bytes_per_second > 100_000 && last.bytes_per_second < 2_000_000, "{last:?}");
    assert!(last.eta_ms.is_some_and(|ms| ms % 1000 == 0), "an ETA in ms, whole seconds: {last:?}");
    let states: Vec<_> =
        events.iter().filter(|e| e.kind == DownloadEventKind::StateChanged).map(|e| e.state).collect();
    assert_eq!(states, [DownloadState::Queued, DownloadState::Running, DownloadState::Paused]);

    // Resume: carries on from the bytes on disk.
    s.proxy.set_faults(Faults::default());
    s.proxy.reset_counters();
    runtime().block_on(s.satchel.resume_download(id)).unwrap();
    run(&s.satchel, 60_000);
    assert_eq!(state(&s.satchel, id).0, DownloadState::Done);
    assert!(s.proxy.reply_bytes() < full_video_size(SHORT_LECTURE) - partial + 100_000);
    assert_byte_exact(&s.satchel, SHORT_LECTURE, RenditionKind::Full);

    // Dropping the subscription stops the events.
    drop(subscription);
    let before = recorder.0.lock().unwrap().len();
    let other = enqueue(&s.satchel, lesson(LONG_LECTURE), RenditionKind::Lite)[0];
    // Cancel frees what it had.
    s.proxy.set_faults(Faults { rate: Some(300_000), ..Faults::default() });
    let canceller = Arc::clone(&s.satchel);
    let cancel = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1000));
        runtime().block_on(canceller.cancel_download(other)).unwrap();
    });
    run(&s.satchel, 60_000);
    cancel.join().unwrap();
    assert!(runtime().block_on(s.satchel.list_downloads(None)).unwrap().iter().all(|d| d.id != other));
    assert_eq!(runtime().block_on(s.satchel.storage_usage()).unwrap().partial_bytes, 0);
    assert_eq!(recorder.0.lock().unwrap().len(), before, "no events after the subscription is dropped");
}

#[test]
fn a_dropped_run_stops_at_once_and_the_next_run_is_not_held_up() {
    let s = setup(&packed_sample().unwrap().dir);
    // 1 MB/s: two full videos take far longer than the test waits.
    s.proxy.set_faults(Faults { rate: Some(1_000_000), ..Faults::default() });
    let ids = [
        enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Full)[0],
        enqueue(&s.satchel, lesson(LONG_LECTURE), RenditionKind::Full)[0],
    ];
    // What a cancelled coroutine or Task does to the future it awaits: drops it mid-run.
    let dropped = runtime().block_on(async {
        tokio::time::timeout(Duration::from_millis(1500), s.satchel.run_downloads(600_000)).await
    });
    assert!(dropped.is_err(), "the run was still going when its caller went away");
    let at_drop = s.proxy.reply_bytes();
    assert!(at_drop > 500_000, "it had been downloading: {at_drop} bytes");

    // It stops at its next safe point: nothing left running, the bytes stop.
    let until = Instant::now() + Duration::from_secs(3);
    while ids.iter().any(|&id| state(&s.satchel, id).0 == DownloadState::Running) {
        assert!(Instant::now() < until, "downloads still running 3 s after their run was dropped");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    let settled = s.proxy.reply_bytes();
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!(s.proxy.reply_bytes(), settled, "no bytes move once the run has stopped");
    assert!(settled < at_drop + 1_500_000, "stopped within about a second: {at_drop} → {settled}");
    assert!(ids.iter().all(|&id| state(&s.satchel, id).0 == DownloadState::Queued));

    // The next run gets the run lock at once and carries on from the bytes on disk.
    s.proxy.set_faults(Faults::default());
    let summary = run(&s.satchel, 60_000);
    assert_eq!(summary.outcome, RunOutcome::Finished, "{summary:?}");
    assert_eq!(summary.completed, 2, "{summary:?}");
    for id in ids {
        assert_eq!(state(&s.satchel, id).0, DownloadState::Done);
    }
    assert_byte_exact(&s.satchel, LONG_LECTURE, RenditionKind::Full);
}

#[test]
fn storage_quota_eviction_and_deleting_a_course() {
    let s = setup(&packed_sample().unwrap().dir);
    let rt = runtime();
    enqueue(&s.satchel, DownloadTarget::Course { course_id: "web-basics".into() }, RenditionKind::Lite);
    run(&s.satchel, 60_000);
    let usage = rt.block_on(s.satchel.storage_usage()).unwrap();
    assert!(usage.content_bytes > 400_000, "the whole course in lite: {usage:?}");

    // A quota too small for the full video: failed with a storage reason, nothing evicted
    // while the learner is studying this course.
    rt.block_on(s.satchel.record_playback(LONG_LECTURE.into(), 1_000)).unwrap();
    let quota = usage.content_bytes + 1_000_000;
    rt.block_on(s.satchel.set_download_settings(DownloadSettings {
        storage_quota_bytes: Some(quota),
        ..DownloadSettings::default()
    }))
    .unwrap();
    let id = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Full)[0];
    run(&s.satchel, 60_000);
    let (state_now, failure) = state(&s.satchel, id);
    assert_eq!(state_now, DownloadState::Failed);
    assert!(failure.unwrap_or_default().contains("quota"));
    assert!(rt.block_on(s.satchel.lite_lecture(LONG_LECTURE.into())).unwrap().is_some(), "nothing evicted");

    // Asked to make room while the course is being studied: it stays.
    let report = rt.block_on(s.satchel.evict_downloads(1)).unwrap();
    assert!(report.courses.is_empty(), "{report:?}");
    // Once the learner stops, it is the least recently studied course and goes.
    s.satchel.end_study_session();
    let report = rt.block_on(s.satchel.evict_downloads(1)).unwrap();
    assert_eq!(report.courses, ["web-basics"]);
    assert!(report.bytes_freed >= usage.content_bytes * 9 / 10, "{report:?}");
    assert_eq!(
        rt.block_on(s.satchel.rendition_files(LONG_LECTURE.into(), RenditionKind::Lite)).unwrap(),
        None
    );
    let linked = rt.block_on(s.satchel.linked_lectures("web-basics.dns".into())).unwrap();
    assert!(linked.iter().all(|l| l.available_offline.is_empty()), "{linked:?}");

    // Downloaded again, then deleted on request.
    rt.block_on(s.satchel.set_download_settings(DownloadSettings::default())).unwrap();
    enqueue(&s.satchel, DownloadTarget::Course { course_id: "web-basics".into() }, RenditionKind::Lite);
    run(&s.satchel, 60_000);

    // Deleting the course's content frees it all; the catalog stays.
    let freed = rt.block_on(s.satchel.delete_course_content("web-basics".into())).unwrap();
    assert!(freed >= usage.content_bytes * 9 / 10, "{freed} of {}", usage.content_bytes);
    assert!(rt.block_on(s.satchel.list_downloads(None)).unwrap().is_empty());
    assert_eq!(
        rt.block_on(s.satchel.rendition_files(LONG_LECTURE.into(), RenditionKind::Lite)).unwrap(),
        None
    );
    assert_eq!(rt.block_on(s.satchel.storage_usage()).unwrap().content_bytes, 0);
    assert_eq!(rt.block_on(s.satchel.course_outline("web-basics".into())).unwrap().modules.len(), 4);
}

#[test]
fn playback_streams_until_downloaded_then_plays_the_best_local_rendition() {
    let s = setup(&packed_sample().unwrap().dir);
    let rt = runtime();
    let remote = rt.block_on(s.satchel.playback_source(SHORT_LECTURE.into(), RenditionKind::Full)).unwrap();
    assert!(!remote.offline);
    let video = remote.files.iter().find(|f| f.role == "video").unwrap();
    assert!(video.location.starts_with(&s.proxy.base_url()) && video.usable_directly, "{video:?}");
    // The URL is what a player would stream, and it serves ranges.
    let body = std::process::Command::new("curl")
        .args(["-s", "-r", "0-99", "-o", "/dev/null", "-w", "%{http_code} %{size_download}", &video.location])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&body.stdout), "206 100");

    enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Lite);
    run(&s.satchel, 60_000);
    let local = rt.block_on(s.satchel.playback_source(SHORT_LECTURE.into(), RenditionKind::Full)).unwrap();
    assert!(local.offline);
    assert_eq!(local.rendition, RenditionKind::Lite, "the best downloaded rendition wins over streaming");
    assert!(local.files.iter().all(|f| Path::new(&f.location).is_file()));
}

#[test]
fn a_full_disk_is_a_typed_error_and_the_store_stays_intact() {
    // A 4 MB tmpfs holds the account: the 6 MB video cannot fit.
    let mount = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(mount.path())
        .status()
        .expect("mount is available (tests run as root)");
    assert!(status.success(), "cannot mount a tmpfs (tests need root)");
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(mount.path());

    let server = ServerProcess::serve(&packed_sample().unwrap().dir).unwrap();
    let satchel = open(mount.path());
    satchel.set_network(NetworkType::Unmetered);
    let rt = runtime();
    rt.block_on(satchel.fetch_course(server.base_url(), "web-basics".into())).unwrap();
    let err = rt.block_on(satchel.download_rendition(SHORT_LECTURE.into(), RenditionKind::Full)).unwrap_err();
    assert!(
        matches!(&err, SatchelError::Storage { kind: StorageErrorKind::DiskFull, reason } if reason.contains("free")),
        "{err:?}"
    );

    // The free-space check is a guard, not the only defence: with no margin and the space
    // taken while the download runs, the write itself fails cleanly.
    satchel
        .account()
        .downloads()
        .set_tuning(Tuning { free_space_margin: 0, ..satchel.account().downloads().tuning() });
    let small = rt.block_on(satchel.download_rendition(SHORT_LECTURE.into(), RenditionKind::Lite));
    assert!(small.is_ok(), "the lite lecture fits: {small:?}");
    let filler = mount.path().join("filler");
    let free = rustix_free(mount.path());
    std::fs::write(&filler, vec![0u8; (free.saturating_sub(150_000)) as usize]).unwrap();
    let err = rt.block_on(satchel.download_rendition(LONG_LECTURE.into(), RenditionKind::Lite)).unwrap_err();
    // The app can tell "free some space" from damage without reading the text.
    assert!(matches!(err, SatchelError::Storage { kind: StorageErrorKind::DiskFull, .. }), "{err:?}");
    std::fs::remove_file(&filler).unwrap();
    let ok: String = satchel
        .account()
        .store()
        .read(|c| Ok(c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?))
        .unwrap();
    assert_eq!(ok, "ok");
    assert!(
        rt.block_on(satchel.lite_lecture(SHORT_LECTURE.into())).unwrap().is_some(),
        "earlier downloads intact"
    );
    // With room again, the same download finishes.
    let files = rt.block_on(satchel.download_rendition(LONG_LECTURE.into(), RenditionKind::Lite)).unwrap();
    assert!(!files.is_empty());
    satchel.shutdown_blocking().unwrap();
}

fn rustix_free(path: &Path) -> u64 {
    satchel_core::downloads::storage::free_space(path).unwrap()
}

fn walk(dir: &Path) -> Vec<(std::path::PathBuf, u64)> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                let len = entry.metadata().map(|m| m.len()).unwrap_or(0);
                out.push((path, len));
            }
        }
    }
    out
}

/// The manifest payload of the course on a host tree.
fn host_manifest(root: &Path) -> serde_json::Value {
    let envelope: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("courses/web-basics/manifest.signed.json")).unwrap())
            .unwrap();
    serde_json::from_str(envelope["payload"].as_str().unwrap()).unwrap()
}

/// The manifest entry of a lesson rendition's file with `role`.
fn manifest_blob<'a>(
    manifest: &'a serde_json::Value,
    lesson_id: &str,
    rendition: &str,
    role: &str,
) -> &'a serde_json::Value {
    let lesson = manifest["modules"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["lessons"].as_array().unwrap())
        .find(|l| l["id"] == lesson_id)
        .unwrap();
    let rendition = lesson["renditions"].as_array().unwrap().iter().find(|r| r["kind"] == rendition).unwrap();
    rendition["blobs"].as_array().unwrap().iter().find(|b| b["role"] == role).unwrap()
}

/// The host path of a lesson rendition's file with `role`, from the packed manifest.
fn blob_path_of(root: &Path, lesson_id: &str, rendition: &str, role: &str) -> std::path::PathBuf {
    let manifest = host_manifest(root);
    let hash = manifest_blob(&manifest, lesson_id, rendition, role)["hash"].as_str().unwrap().to_owned();
    root.join(format!("blobs/{}/{hash}", &hash[..2]))
}

#[test]
fn a_course_update_during_a_download_is_followed_and_never_shows_stale_files_offline() {
    let copy = packed_copy().unwrap();
    let s = setup(copy.path());
    let rt = runtime();
    // The lite lecture is downloaded before the update.
    let lite = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Lite)[0];
    run(&s.satchel, 60_000);
    assert_eq!(state(&s.satchel, lite).0, DownloadState::Done);

    // The full video is downloading, slowly, when version 2 of the course is published: the
    // lecture was re-recorded (here: it takes another lecture's files).
    s.proxy.set_faults(Faults { rate: Some(1_500_000), ..Faults::default() });
    // One at a time, so the re-queued lite download waits behind the video and its state can be
    // seen right after the update.
    rt.block_on(s.satchel.set_download_settings(DownloadSettings {
        max_concurrent_downloads: 1,
        ..DownloadSettings::default()
    }))
    .unwrap();
    let full = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Full)[0];
    let runner = Arc::clone(&s.satchel);
    let running = std::thread::spawn(move || runtime().block_on(runner.run_downloads(120_000)).unwrap());
    std::thread::sleep(Duration::from_millis(1500));
    publish_v2(copy.path(), SHORT_LECTURE, "web-basics.status-codes");
    rt.block_on(s.satchel.fetch_course(s.proxy.base_url(), "web-basics".into())).unwrap();
    // The finished lite download no longer matches its rendition: it is queued, not offline.
    assert_eq!(state(&s.satchel, lite).0, DownloadState::Queued);
    assert_eq!(
        rt.block_on(s.satchel.rendition_files(SHORT_LECTURE.into(), RenditionKind::Lite)).unwrap(),
        None
    );
    let summary = running.join().unwrap();
    assert_eq!(summary.failed, 0, "{summary:?}");
    run(&s.satchel, 60_000);

    assert_eq!(state(&s.satchel, full).0, DownloadState::Done);
    assert_eq!(state(&s.satchel, lite).0, DownloadState::Done);
    let video = blob_path_of(copy.path(), SHORT_LECTURE, "full", "video");
    let files =
        rt.block_on(s.satchel.rendition_files(SHORT_LECTURE.into(), RenditionKind::Full)).unwrap().unwrap();
    let local = files.iter().find(|f| f.role == "video").unwrap();
    assert_eq!(Path::new(&local.path).file_name(), video.file_name(), "the version 2 video");
    assert_byte_exact(&s.satchel, SHORT_LECTURE, RenditionKind::Full);
    assert_byte_exact(&s.satchel, SHORT_LECTURE, RenditionKind::Lite);
}

/// Publishes version 2 of the course in `root`: `lesson` gets the video (full) and the audio
/// (lite) of `donor`.
fn publish_v2(root: &Path, lesson_id: &str, donor: &str) {
    let path = root.join("courses/web-basics/manifest.signed.json");
    let mut manifest = host_manifest(root);
    manifest["version"] = serde_json::json!(manifest["version"].as_u64().unwrap() + 1);
    let video = manifest_blob(&manifest, donor, "full", "video").clone();
    let audio = manifest_blob(&manifest, donor, "lite", "audio").clone();
    for module in manifest["modules"].as_array_mut().unwrap() {
        for lesson in module["lessons"].as_array_mut().unwrap() {
            if lesson["id"] != lesson_id {
                continue;
            }
            for rendition in lesson["renditions"].as_array_mut().unwrap() {
                let replacement = match rendition["kind"].as_str().unwrap() {
                    "full" => ("video", &video),
                    "lite" => ("audio", &audio),
                    _ => continue,
                };
                let blobs = rendition["blobs"].as_array_mut().unwrap();
                for blob in blobs.iter_mut() {
                    if blob["role"] == replacement.0 {
                        *blob = replacement.1.clone();
                    }
                }
                let bytes: u64 = blobs.iter().map(|b| b["stored_size"].as_u64().unwrap()).sum();
                rendition["bytes"] = serde_json::json!(bytes);
            }
        }
    }
    let signed = satchel_core::content::signed::sign(
        manifest.to_string(),
        &satchel_tests::sample::test_publisher_key(),
    );
    publish_envelope(path.parent().unwrap(), &serde_json::to_vec(&signed).unwrap()).unwrap();
}

#[test]
fn over_the_quota_the_least_recently_studied_other_course_makes_room() {
    let copy = packed_copy().unwrap();
    let other_size = add_one_lesson_course(copy.path(), "other", 400_000) as i64;
    let s = setup(copy.path());
    let rt = runtime();
    rt.block_on(s.satchel.fetch_course(s.proxy.base_url(), "other".into())).unwrap();
    let other = enqueue(&s.satchel, lesson("other.talk"), RenditionKind::Full)[0];
    run(&s.satchel, 60_000);
    assert_eq!(state(&s.satchel, other).0, DownloadState::Done);

    // Room for the new lecture only if the other course goes.
    let needed = rt
        .block_on(s.satchel.download_estimate(lesson(LONG_LECTURE), RenditionKind::Lite))
        .unwrap()
        .bytes_to_fetch;
    rt.block_on(s.satchel.set_download_settings(DownloadSettings {
        storage_quota_bytes: Some(needed + other_size / 2),
        ..DownloadSettings::default()
    }))
    .unwrap();
    let id = enqueue(&s.satchel, lesson(LONG_LECTURE), RenditionKind::Lite)[0];
    run(&s.satchel, 60_000);
    assert_eq!(state(&s.satchel, id).0, DownloadState::Done);
    assert_byte_exact(&s.satchel, LONG_LECTURE, RenditionKind::Lite);
    assert_eq!(
        rt.block_on(s.satchel.rendition_files("other.talk".into(), RenditionKind::Full)).unwrap(),
        None
    );
    assert!(rt.block_on(s.satchel.list_downloads(Some("other".into()))).unwrap().is_empty());
    let usage = rt.block_on(s.satchel.storage_usage()).unwrap();
    assert!(usage.content_bytes <= needed + other_size / 2, "{usage:?}");
}

/// Adds a signed one-lesson course `id` to a host tree, its full rendition `size` random bytes.
fn add_one_lesson_course(root: &Path, id: &str, size: u64) -> u64 {
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let bytes: Vec<u8> = (0..size)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let hash = satchel_core::content::store::sha256_hex(&bytes);
    std::fs::create_dir_all(root.join("blobs").join(&hash[..2])).unwrap();
    std::fs::write(root.join("blobs").join(&hash[..2]).join(&hash), &bytes).unwrap();
    publish_one_lesson_course(root, id, &format!("{id}.talk"), &hash, size).unwrap();
    size
}

#[test]
fn a_wrong_content_range_fails_typed_and_a_416_starts_the_blob_over_and_both_complete_later() {
    let copy = packed_copy().unwrap();
    let s = setup(copy.path());
    let video_path = blob_path_of(copy.path(), SHORT_LECTURE, "full", "video");
    let video = std::fs::read(&video_path).unwrap();
    let hash = video_path.file_name().unwrap().to_str().unwrap().to_owned();
    let partial = s.dir.path().join(format!("content/partial/{hash}.part"));

    // Part of the video on disk (as a killed download leaves it), then a host that answers the
    // resumed request with a range it was not asked for, past the blob's end: the host is wrong,
    // a typed failure, and the part on disk is dropped.
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, &video[..1_000_000]).unwrap();
    s.proxy.set_faults(Faults { wrong_content_range_connections: 1, ..Faults::default() });
    let id = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Full)[0];
    let summary = run(&s.satchel, 60_000);
    assert_eq!(summary.failed, 1, "{summary:?}");
    let (state_now, failure) = state(&s.satchel, id);
    assert_eq!(state_now, DownloadState::Failed);
    assert!(failure.unwrap_or_default().contains("reply cannot be trusted"));
    assert!(std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) < 1_000_000, "the part was dropped");
    // Resumed, it starts the blob over and completes.
    runtime().block_on(s.satchel.resume_download(id)).unwrap();
    run(&s.satchel, 60_000);
    assert_eq!(state(&s.satchel, id).0, DownloadState::Done);
    assert_byte_exact(&s.satchel, SHORT_LECTURE, RenditionKind::Full);
    let requests = s.proxy.requests();
    assert!(requests[0].contains("bytes=1000000-"), "{requests:?}");
    assert!(
        requests.iter().skip(1).any(|r| r.contains("GET") && r.contains("|  |")),
        "restarted: {requests:?}"
    );

    // A host whose file is shorter than the part on disk answers 416: the part is dropped.
    runtime().block_on(s.satchel.cancel_download(id)).unwrap();
    std::fs::create_dir_all(partial.parent().unwrap()).unwrap();
    std::fs::write(&partial, &video[..1_000_000]).unwrap();
    std::fs::write(&video_path, &video[..500_000]).unwrap();
    s.proxy.set_faults(Faults::default());
    s.proxy.reset_counters();
    let id = enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Full)[0];
    let summary = run(&s.satchel, 60_000);
    assert_eq!(summary.failed, 1, "a host offering the wrong length is a failure: {summary:?}");
    let (state_now, failure) = state(&s.satchel, id);
    assert_eq!(state_now, DownloadState::Failed);
    assert!(failure.unwrap_or_default().contains("offers 500000 bytes"));
    let requests = s.proxy.requests();
    assert!(requests[0].contains("bytes=1000000-"), "the 416 came from resuming: {requests:?}");
    assert!(std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0) < 1_000_000, "the part was dropped");
    // The host is fixed: resuming completes it.
    std::fs::write(&video_path, &video).unwrap();
    runtime().block_on(s.satchel.resume_download(id)).unwrap();
    run(&s.satchel, 60_000);
    assert_eq!(state(&s.satchel, id).0, DownloadState::Done);
    assert_byte_exact(&s.satchel, SHORT_LECTURE, RenditionKind::Full);
}

#[test]
fn download_now_during_a_long_run_is_taken_first_and_returns_without_waiting_for_the_run() {
    let s = setup(&packed_sample().unwrap().dir);
    // The 50 MB video at 2 MB/s keeps a run busy for ~25 s.
    s.proxy.set_faults(Faults { rate: Some(2_000_000), ..Faults::default() });
    enqueue(&s.satchel, lesson(LONG_LECTURE), RenditionKind::Full);
    let runner = Arc::clone(&s.satchel);
    let running = std::thread::spawn(move || runtime().block_on(runner.run_downloads(120_000)).unwrap());
    std::thread::sleep(Duration::from_millis(500));
    let started = std::time::Instant::now();
    let files =
        runtime().block_on(s.satchel.download_rendition(SHORT_LECTURE.into(), RenditionKind::Lite)).unwrap();
    assert!(!files.is_empty());
    assert!(started.elapsed() < Duration::from_secs(10), "waited {:?}", started.elapsed());
    s.satchel.stop_downloads();
    let summary = running.join().unwrap();
    assert_eq!(summary.outcome, RunOutcome::Stopped, "{summary:?}");
    assert_byte_exact(&s.satchel, SHORT_LECTURE, RenditionKind::Lite);
}

/// The run loop failing mid-run (here: the database refuses to save progress, as a full or
/// damaged disk would) still stops and settles every task: the run reports the error, nothing
/// stays marked in flight, and eviction afterwards can remove the course.
#[test]
fn a_run_that_fails_mid_way_shuts_down_cleanly_and_eviction_still_works() {
    let s = setup(&packed_sample().unwrap().dir);
    let rt = runtime();
    enqueue(&s.satchel, lesson(SHORT_LECTURE), RenditionKind::Lite);
    assert_eq!(run(&s.satchel, 60_000).outcome, RunOutcome::Finished);

    // A slow link so the full video is still downloading when progress is first saved (1 s).
    s.proxy.set_faults(Faults { rate: Some(256 * 1024), ..Faults::default() });
    let id = enqueue(&s.satchel, lesson(LONG_LECTURE), RenditionKind::Full)[0];
    let db = rusqlite::Connection::open(s.dir.path().join("satchel.db")).unwrap();
    db.execute_batch(
        "CREATE TRIGGER injected_failure BEFORE UPDATE OF bytes_done ON download
         WHEN NEW.bytes_done > 0 BEGIN SELECT RAISE(ABORT, 'injected failure'); END;",
    )
    .unwrap();
    let started = std::time::Instant::now();
    let err = rt.block_on(s.satchel.run_downloads(120_000)).unwrap_err();
    assert!(
        matches!(err, SatchelError::Storage { kind: StorageErrorKind::Io, ref reason } if reason.contains("injected failure")),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(60), "the failure ended the run");
    db.execute_batch("DROP TRIGGER injected_failure").unwrap();

    // The failed run left no download marked in flight: the course can be evicted.
    let report = rt.block_on(s.satchel.evict_downloads(1)).unwrap();
    assert_eq!(report.courses, ["web-basics"], "{report:?}");
    assert!(runtime().block_on(s.satchel.list_downloads(None)).unwrap().iter().all(|d| d.id != id));
    // And the next run starts normally.
    assert_eq!(run(&s.satchel, 10_000).outcome, RunOutcome::Finished);
}
