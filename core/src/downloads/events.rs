//! Download events for the shells: state changes as they happen, progress at most a few times a
//! second per download (a list row does not need more, and every event crosses the FFI).

use super::{DownloadInfo, DownloadState};
use crate::catalog::RenditionKind;
use crate::event_hub::HubEvent;

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

impl HubEvent for DownloadEvent {
    fn progress_key(&self) -> Option<i64> {
        (self.kind == DownloadEventKind::Progress).then_some(self.download_id)
    }

    /// A state change or removal makes the progress queued before it for the same download
    /// stale: a list should not show 90 % after "done".
    fn supersedes_progress_of(&self) -> Option<i64> {
        (self.kind != DownloadEventKind::Progress).then_some(self.download_id)
    }
}

/// Fans download events out to subscribers (see [`crate::event_hub`] for what is kept when a
/// subscriber is slow: every state change and removal, the newest progress per download).
#[derive(Default)]
pub struct EventHub {
    hub: crate::event_hub::EventHub<DownloadEvent>,
}

/// One subscriber's download events, in order. Dropping it unsubscribes.
pub type EventReceiver = crate::event_hub::EventReceiver<DownloadEvent>;

impl EventHub {
    pub fn send(&self, event: DownloadEvent) {
        self.hub.send(event);
    }

    pub fn changed(&self, info: &DownloadInfo) {
        self.send(DownloadEvent::state_changed(info));
    }

    pub fn removed(&self, info: &DownloadInfo) {
        self.send(DownloadEvent { kind: DownloadEventKind::Removed, ..DownloadEvent::state_changed(info) });
    }

    pub fn subscribe(&self) -> EventReceiver {
        self.hub.subscribe()
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

    #[test]
    fn a_slow_subscriber_gets_every_state_change_and_the_newest_progress_per_download() {
        let hub = EventHub::default();
        let slow = hub.subscribe();
        for n in 0..1_000i64 {
            hub.send(event(1, DownloadEventKind::StateChanged, n));
            hub.send(event(2, DownloadEventKind::Progress, n));
            hub.send(event(3, DownloadEventKind::Progress, n));
        }
        let events = slow.drain();
        let changes: Vec<i64> = events
            .iter()
            .filter(|e| e.kind == DownloadEventKind::StateChanged)
            .map(|e| e.bytes_done)
            .collect();
        assert_eq!(changes, (0..1_000).collect::<Vec<_>>(), "no state change lost, in order");
        let progress: Vec<(i64, i64)> = events
            .iter()
            .filter(|e| e.kind == DownloadEventKind::Progress)
            .map(|e| (e.download_id, e.bytes_done))
            .collect();
        assert_eq!(progress, vec![(2, 999), (3, 999)], "progress coalesced to the newest per download");
    }

    #[test]
    fn a_state_change_or_removal_supersedes_queued_progress_of_its_download() {
        let hub = EventHub::default();
        let receiver = hub.subscribe();
        hub.send(event(1, DownloadEventKind::Progress, 50));
        hub.send(event(2, DownloadEventKind::Progress, 50));
        hub.send(event(1, DownloadEventKind::StateChanged, 100));
        hub.send(event(2, DownloadEventKind::Removed, 50));
        let kinds: Vec<_> = receiver.drain().into_iter().map(|e| (e.download_id, e.kind)).collect();
        assert_eq!(kinds, vec![(1, DownloadEventKind::StateChanged), (2, DownloadEventKind::Removed)]);
    }
}
