//! Download events for the shells: state changes as they happen, progress at most a few times a
//! second per download (a list row does not need more, and every event crosses the FFI).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::Notify;

use super::{DownloadInfo, DownloadState, lock};
use crate::catalog::RenditionKind;

/// Least time between two progress events of one download.
pub const PROGRESS_INTERVAL: std::time::Duration = std::time::Duration::from_millis(250);

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DownloadEventKind {
    /// Bytes arrived (throttled).
    Progress,
    /// The download moved to another state (queued, running, paused, done…).
    StateChanged,
    /// The download was cancelled or its course's content deleted; the row is gone.
    Removed,
}

/// A snapshot of one download, sent to listeners.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DownloadEvent {
    pub kind: DownloadEventKind,
    pub download_id: i64,
    pub lesson_id: String,
    pub rendition: RenditionKind,
    pub state: DownloadState,
    pub bytes_done: i64,
    pub bytes_total: i64,
    /// Recent transfer rate; 0 when not running.
    pub bytes_per_second: i64,
    /// Milliseconds left at the recent rate (every duration in the API is in ms); `None` when
    /// unknown or not running.
    pub eta_ms: Option<i64>,
    pub failure: Option<String>,
}

impl DownloadEvent {
    pub fn state_changed(info: &DownloadInfo) -> DownloadEvent {
        DownloadEvent {
            kind: DownloadEventKind::StateChanged,
            download_id: info.id,
            lesson_id: info.lesson_id.clone(),
            rendition: info.rendition,
            state: info.state,
            bytes_done: info.bytes_done,
            bytes_total: info.bytes_total,
            bytes_per_second: 0,
            eta_ms: None,
            failure: info.failure.clone(),
        }
    }
}

/// Fans events out to every subscriber, each with its own queue.
///
/// State changes and removals are never dropped, however far a subscriber falls behind: a list
/// must not miss "done". Progress is coalesced instead: a subscriber's queue holds at most one
/// progress event per download (the newest), and a state change supersedes the progress queued
/// before it for the same download. So a slow subscriber costs memory bounded by the number of
/// downloads plus the state changes it has not read, and never blocks a transfer.
#[derive(Default)]
pub struct EventHub {
    subscribers: Mutex<Vec<Weak<Queue>>>,
}

#[derive(Default)]
struct Queue {
    events: Mutex<VecDeque<DownloadEvent>>,
    ready: Notify,
}

impl Queue {
    fn push(&self, event: &DownloadEvent) {
        let mut events = lock(&self.events);
        let same =
            |e: &DownloadEvent| e.download_id == event.download_id && e.kind == DownloadEventKind::Progress;
        if event.kind == DownloadEventKind::Progress {
            if let Some(queued) = events.iter_mut().find(|e| same(e)) {
                *queued = event.clone();
                return;
            }
        } else {
            events.retain(|e| !same(e));
        }
        events.push_back(event.clone());
        drop(events);
        self.ready.notify_one();
    }
}

/// One subscriber's events, in order. Dropping it unsubscribes.
pub struct EventReceiver {
    queue: Arc<Queue>,
}

impl EventReceiver {
    /// The next event, waiting for one.
    pub async fn recv(&mut self) -> DownloadEvent {
        loop {
            if let Some(event) = lock(&self.queue.events).pop_front() {
                return event;
            }
            // `notify_one` stores a permit when nobody waits, so an event pushed between the
            // check above and this wait is not missed.
            self.queue.ready.notified().await;
        }
    }
}

impl EventHub {
    pub fn send(&self, event: DownloadEvent) {
        let mut subscribers = lock(&self.subscribers);
        subscribers.retain(|weak| match weak.upgrade() {
            Some(queue) => {
                queue.push(&event);
                true
            }
            None => false,
        });
    }

    pub fn changed(&self, info: &DownloadInfo) {
        self.send(DownloadEvent::state_changed(info));
    }

    pub fn removed(&self, info: &DownloadInfo) {
        self.send(DownloadEvent { kind: DownloadEventKind::Removed, ..DownloadEvent::state_changed(info) });
    }

    pub fn subscribe(&self) -> EventReceiver {
        let queue = Arc::new(Queue::default());
        lock(&self.subscribers).push(Arc::downgrade(&queue));
        EventReceiver { queue }
    }
}

/// Transfer rate smoothed over the last few seconds (exponentially weighted).
#[derive(Debug, Default, Clone, Copy)]
pub struct Rate {
    bytes_per_second: f64,
}

impl Rate {
    /// Adds `bytes` that arrived over `seconds`.
    pub fn sample(&mut self, bytes: u64, seconds: f64) {
        if seconds <= 0.0 {
            return;
        }
        let current = bytes as f64 / seconds;
        // About a 2-second memory at 4 samples a second.
        self.bytes_per_second =
            if self.bytes_per_second == 0.0 { current } else { 0.8 * self.bytes_per_second + 0.2 * current };
    }

    pub fn bytes_per_second(&self) -> u64 {
        self.bytes_per_second as u64
    }

    /// Time left for `remaining` bytes at the recent rate, whole seconds rounded up, in ms.
    pub fn eta_ms(&self, remaining: u64) -> Option<u64> {
        (self.bytes_per_second >= 1.0)
            .then(|| ((remaining as f64 / self.bytes_per_second).ceil() as u64).saturating_mul(1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::RenditionKind;

    fn event(id: i64, kind: DownloadEventKind, bytes_done: i64) -> DownloadEvent {
        DownloadEvent {
            kind,
            download_id: id,
            lesson_id: format!("l{id}"),
            rendition: RenditionKind::Lite,
            state: DownloadState::Running,
            bytes_done,
            bytes_total: 100,
            bytes_per_second: 0,
            eta_ms: None,
            failure: None,
        }
    }

    fn drain(receiver: &mut EventReceiver) -> Vec<DownloadEvent> {
        std::iter::from_fn(|| lock(&receiver.queue.events).pop_front()).collect()
    }

    #[test]
    fn a_slow_subscriber_gets_every_state_change_and_the_newest_progress() {
        let hub = EventHub::default();
        let mut slow = hub.subscribe();
        for n in 0..10_000i64 {
            hub.send(event(1, DownloadEventKind::StateChanged, n));
            hub.send(event(2, DownloadEventKind::Progress, n));
        }
        let events = drain(&mut slow);
        let changes: Vec<i64> = events
            .iter()
            .filter(|e| e.kind == DownloadEventKind::StateChanged)
            .map(|e| e.bytes_done)
            .collect();
        assert_eq!(changes, (0..10_000).collect::<Vec<_>>(), "no state change lost, in order");
        let progress: Vec<i64> =
            events.iter().filter(|e| e.kind == DownloadEventKind::Progress).map(|e| e.bytes_done).collect();
        assert_eq!(progress, vec![9_999], "progress coalesced to the newest");
    }

    #[test]
    fn a_state_change_supersedes_queued_progress_of_its_download() {
        let hub = EventHub::default();
        let mut receiver = hub.subscribe();
        hub.send(event(1, DownloadEventKind::Progress, 50));
        hub.send(event(1, DownloadEventKind::StateChanged, 100));
        let kinds: Vec<_> = drain(&mut receiver).into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, vec![DownloadEventKind::StateChanged]);
    }

    #[test]
    fn a_dropped_receiver_unsubscribes() {
        let hub = EventHub::default();
        drop(hub.subscribe());
        hub.send(event(1, DownloadEventKind::Progress, 1));
        assert!(lock(&hub.subscribers).is_empty());
    }
}
