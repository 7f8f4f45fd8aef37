//! Download events for the shells: state changes as they happen, progress at most a few times a
//! second per download (a list row does not need more, and every event crosses the FFI).

use tokio::sync::broadcast;

use super::{DownloadInfo, DownloadState};
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
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Recent transfer rate; 0 when not running.
    pub bytes_per_second: u64,
    /// Seconds left at the recent rate; `None` when unknown or not running.
    pub eta_seconds: Option<u64>,
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
            eta_seconds: None,
            failure: info.failure.clone(),
        }
    }
}

/// Fans events out to every subscriber. A subscriber that falls behind loses the oldest
/// progress events, never blocks a transfer.
pub struct EventHub {
    sender: broadcast::Sender<DownloadEvent>,
}

impl Default for EventHub {
    fn default() -> Self {
        EventHub { sender: broadcast::Sender::new(256) }
    }
}

impl EventHub {
    pub fn send(&self, event: DownloadEvent) {
        // No subscribers is fine.
        let _ = self.sender.send(event);
    }

    pub fn changed(&self, info: &DownloadInfo) {
        self.send(DownloadEvent::state_changed(info));
    }

    pub fn removed(&self, info: &DownloadInfo) {
        self.send(DownloadEvent { kind: DownloadEventKind::Removed, ..DownloadEvent::state_changed(info) });
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DownloadEvent> {
        self.sender.subscribe()
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

    pub fn eta_seconds(&self, remaining: u64) -> Option<u64> {
        (self.bytes_per_second >= 1.0).then(|| (remaining as f64 / self.bytes_per_second).ceil() as u64)
    }
}
