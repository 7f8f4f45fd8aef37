//! Listeners an app can trust: a snapshot on subscribe, every state change delivered however slow
//! the listener, and listeners that block (waiting for a UI thread) never stalling the transfers
//! or syncs they report on. Against the real reference server on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use satchel_core::Satchel;
use satchel_core::catalog::RenditionKind;
use satchel_core::downloads::{DownloadEvent, DownloadEventKind, DownloadState, DownloadTarget, RunOutcome};
use satchel_core::ffi::{DownloadListener, SyncListener, TaskHandle};
use satchel_core::runtime::runtime;
use satchel_core::sync::{SyncEvent, SyncStatus};
use satchel_tests::sample::{packed_sample, test_public_key};
use satchel_tests::sync_device::{Device, Tokens, VIDEO};
use satchel_tests::sync_server::SyncServer;
use satchel_tests::{ServerProcess, open_account};

/// More blocked listeners than the core has async workers: if a listener ran on a worker, these
/// would take them all and nothing could move.
const BLOCKED_LISTENERS: usize = 3;

/// A listener that records events, optionally sleeping on each or blocking until released.
#[derive(Default)]
struct Recorder<E> {
    events: Mutex<Vec<E>>,
    grew: Condvar,
    delay: Duration,
    gate: Gate,
}

/// Closed until `open`: a listener waiting on it stands for one stuck on a busy UI thread.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    opened: Condvar,
}

impl Gate {
    fn closed() -> Gate {
        Gate { open: Mutex::new(false), opened: Condvar::new() }
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }

    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
    }
}

impl<E: Clone> Recorder<E> {
    fn blocked() -> Arc<Recorder<E>> {
        Arc::new(Recorder {
            events: Mutex::default(),
            grew: Condvar::new(),
            delay: Duration::ZERO,
            gate: Gate::closed(),
        })
    }

    fn lagging(delay: Duration) -> Arc<Recorder<E>> {
        let recorder =
            Recorder { events: Mutex::default(), grew: Condvar::new(), delay, gate: Gate::default() };
        recorder.gate.open();
        Arc::new(recorder)
    }

    fn record(&self, event: E) {
        self.gate.wait();
        std::thread::sleep(self.delay);
        self.events.lock().unwrap().push(event);
        self.grew.notify_all();
    }

    fn events(&self) -> Vec<E> {
        self.events.lock().unwrap().clone()
    }

    /// Waits (at most 30 s) until `done` holds for the events received so far.
    fn wait_for(&self, what: &str, done: impl Fn(&[E]) -> bool) -> Vec<E> {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut events = self.events.lock().unwrap();
        while !done(&events) {
            let left = deadline
                .checked_duration_since(Instant::now())
                .unwrap_or_else(|| panic!("no {what} in 30 s"));
            events = self.grew.wait_timeout(events, left).unwrap().0;
        }
        events.clone()
    }
}

impl DownloadListener for Recorder<DownloadEvent> {
    fn on_event(&self, event: DownloadEvent) {
        self.record(event);
    }
}

impl SyncListener for Recorder<SyncEvent> {
    fn on_event(&self, event: SyncEvent) {
        self.record(event);
    }
}

/// A fresh account that fetched the sample course from the reference server.
fn account() -> (ServerProcess, tempfile::TempDir, Arc<Satchel>) {
    let server = ServerProcess::serve(&packed_sample().unwrap().dir).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let satchel = open_account(dir.path(), vec![test_public_key()]).unwrap();
    runtime().block_on(satchel.fetch_course(server.base_url(), "web-basics".into())).unwrap();
    (server, dir, satchel)
}

fn enqueue_course(satchel: &Satchel) -> Vec<i64> {
    let course = DownloadTarget::Course { course_id: "web-basics".into() };
    runtime()
        .block_on(satchel.enqueue_download(course, RenditionKind::Lite, 0))
        .unwrap()
        .iter()
        .map(|d| d.id)
        .collect()
}

/// Each download's state changes in the order they arrived.
fn states_by_download(events: &[DownloadEvent]) -> HashMap<i64, Vec<DownloadState>> {
    let mut states: HashMap<i64, Vec<DownloadState>> = HashMap::new();
    for event in events.iter().filter(|e| e.kind == DownloadEventKind::StateChanged) {
        states.entry(event.download_id).or_default().push(event.state);
    }
    states
}

/// Where a state comes in a download's life on a good link, to check that none goes back.
fn rank(state: DownloadState) -> u8 {
    match state {
        DownloadState::Queued => 0,
        DownloadState::Running => 1,
        DownloadState::Done => 2,
        _ => 3,
    }
}

fn all_done(ids: &[i64]) -> impl Fn(&[DownloadEvent]) -> bool + '_ {
    move |events| {
        let states = states_by_download(events);
        ids.iter().all(|id| states.get(id).is_some_and(|s| s.last() == Some(&DownloadState::Done)))
    }
}

#[test]
fn blocked_download_listeners_stall_no_transfer_and_then_get_every_state_change() {
    let (_server, _dir, satchel) = account();
    let ids = enqueue_course(&satchel);
    let blocked: Vec<Arc<Recorder<DownloadEvent>>> =
        (0..BLOCKED_LISTENERS).map(|_| Recorder::blocked()).collect();
    let _subscriptions: Vec<Arc<TaskHandle>> =
        blocked.iter().map(|listener| satchel.subscribe_downloads(listener.clone())).collect();

    let summary = runtime().block_on(satchel.run_downloads(60_000)).unwrap();
    assert_eq!(summary.outcome, RunOutcome::Finished, "{summary:?}");
    assert_eq!(
        summary.completed as usize,
        ids.len(),
        "every download finished while the listeners were stuck"
    );
    assert!(blocked.iter().all(|l| l.events().is_empty()), "the listeners were stuck the whole run");

    for listener in &blocked {
        listener.gate.open();
        let events = listener.wait_for("DONE for every download", all_done(&ids));
        // The snapshot comes first: every download's state when the delivery started (the run
        // may have begun by then), and nothing older after it.
        let snapshot = &events[..ids.len()];
        assert!(snapshot.iter().all(|e| e.kind == DownloadEventKind::StateChanged), "{snapshot:?}");
        let mut snapshot_ids: Vec<i64> = snapshot.iter().map(|e| e.download_id).collect();
        snapshot_ids.sort_unstable();
        assert_eq!(snapshot_ids, ids, "one snapshot event per download");
        for (id, states) in states_by_download(&events) {
            assert!(states.is_sorted_by_key(|s| rank(*s)), "download {id} went back: {states:?}");
        }
    }
}

#[test]
fn a_lagging_download_listener_misses_no_state_change_and_gets_coalesced_progress() {
    let (_server, _dir, satchel) = account();
    let ids = enqueue_course(&satchel);
    let lagging = Recorder::lagging(Duration::from_millis(40));
    let _subscription = satchel.subscribe_downloads(lagging.clone());
    let started = Instant::now();
    let summary = runtime().block_on(satchel.run_downloads(60_000)).unwrap();
    let run_took = started.elapsed();
    assert_eq!(summary.completed as usize, ids.len(), "{summary:?}");

    let events = lagging.wait_for("DONE for every download", all_done(&ids));
    for (id, states) in states_by_download(&events) {
        // The first is the snapshot, taken when delivery started: on a busy machine the run may
        // have started the download by then. Every change after it must follow.
        let expected = [DownloadState::Queued, DownloadState::Running, DownloadState::Done];
        let first = states.first().copied().map_or(0, rank);
        let mut rest = states.iter();
        for state in expected.into_iter().filter(|s| rank(*s) >= first) {
            assert!(rest.any(|s| *s == state), "download {id} is missing {state:?} in order: {states:?}");
        }
    }
    // 4 progress events a second per running download at most; the listener takes 40 ms each.
    let progress = events.iter().filter(|e| e.kind == DownloadEventKind::Progress).count();
    let bound = ids.len() + (run_took.as_secs_f64() * 4.0 * 2.0).ceil() as usize;
    assert!(progress <= bound, "{progress} progress events for a {run_took:?} run (bound {bound})");
}

#[test]
fn a_late_subscriber_starts_with_the_state_of_every_download() {
    let (_server, _dir, satchel) = account();
    let ids = enqueue_course(&satchel);
    runtime().block_on(satchel.pause_download(ids[0])).unwrap();
    let listener = Recorder::lagging(Duration::ZERO);
    let _subscription = satchel.subscribe_downloads(listener.clone());
    let events = listener.wait_for("the snapshot", |events| events.len() >= ids.len());
    assert_eq!(events.len(), ids.len(), "one event a download and nothing else: {events:?}");
    let states: HashMap<i64, DownloadState> = events.iter().map(|e| (e.download_id, e.state)).collect();
    assert_eq!(states[&ids[0]], DownloadState::Paused);
    assert!(ids[1..].iter().all(|id| states[id] == DownloadState::Queued), "{states:?}");
}

#[test]
fn a_cancelled_subscription_stops_and_reports_finished() {
    let (_server, _dir, satchel) = account();
    let listener = Recorder::lagging(Duration::ZERO);
    let subscription = satchel.subscribe_downloads(listener.clone());
    subscription.cancel();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !subscription.is_finished() {
        assert!(Instant::now() < deadline, "the delivery did not stop");
        std::thread::sleep(Duration::from_millis(10));
    }
    let before = listener.events().len();
    enqueue_course(&satchel);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(listener.events().len(), before, "no event after cancel");
}

#[test]
fn blocked_sync_listeners_stall_no_sync_and_then_get_its_statuses() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let phone = Device::open("phone").unwrap();
    phone.connect(&server.base_url(), Tokens::new(server.token("amina", 86_400).unwrap())).unwrap();
    phone.play(VIDEO, 0, 120).unwrap();
    let blocked: Vec<Arc<Recorder<SyncEvent>>> =
        (0..BLOCKED_LISTENERS).map(|_| Recorder::blocked()).collect();
    let _subscriptions: Vec<Arc<TaskHandle>> =
        blocked.iter().map(|listener| phone.satchel.subscribe_sync(listener.clone())).collect();

    let report = phone.sync().unwrap();
    assert!(report.pushed > 0, "{report:?}");
    assert_eq!(phone.pending().unwrap(), 0, "the sync finished while the listeners were stuck");

    for listener in &blocked {
        listener.gate.open();
        let events = listener.wait_for("a synced idle status", |events| {
            events.iter().any(|e| e.status == SyncStatus::Idle && e.last_synced_at_ms.is_some())
        });
        assert!(
            events.iter().any(|e| matches!(e.status, SyncStatus::Syncing { .. })),
            "the syncing status is kept (its counts coalesce): {events:?}"
        );
    }
}
