//! The download queue, policies, storage and events on the `Satchel` object.

use std::sync::Arc;
use std::time::Duration;

use super::delivery::deliver;
use super::{Cancellation, Satchel, SatchelError, TaskHandle};
use crate::api_int::{non_negative, to_i64};
use crate::catalog::RenditionKind;
use crate::downloads::events::EventReceiver;
use crate::downloads::resolve::PlaybackSource;
use crate::downloads::{
    DataUsage, DownloadEstimate, DownloadEvent, DownloadInfo, DownloadService, DownloadSettings,
    DownloadTarget, EvictionReport, NetworkType, RunSummary, StorageUsage,
};

/// Receives download events. Called on a core thread: hop to the UI thread yourself.
#[uniffi::export(with_foreign)]
pub trait DownloadListener: Send + Sync {
    fn on_event(&self, event: DownloadEvent);
}

#[uniffi::export]
impl Satchel {
    /// What downloading `target` in `rendition` would cost, before starting.
    pub async fn download_estimate(
        &self,
        target: DownloadTarget,
        rendition: RenditionKind,
    ) -> Result<DownloadEstimate, SatchelError> {
        self.with_downloads(move |d| d.estimate(&target, rendition)).await
    }

    /// Queues a lesson, module or course in `rendition` (higher `priority` runs first) and
    /// returns the queued downloads. Bytes move only inside `run_downloads`.
    pub async fn enqueue_download(
        &self,
        target: DownloadTarget,
        rendition: RenditionKind,
        priority: i32,
    ) -> Result<Vec<DownloadInfo>, SatchelError> {
        self.with_downloads(move |d| d.enqueue(&target, rendition, priority)).await
    }

    /// Every download (of one course, or all), running first.
    pub async fn list_downloads(&self, course_id: Option<String>) -> Result<Vec<DownloadInfo>, SatchelError> {
        self.with_downloads(move |d| d.list(course_id.as_deref())).await
    }

    /// Pauses a download; only `resume_download` starts it again. Its bytes are kept.
    pub async fn pause_download(&self, download_id: i64) -> Result<(), SatchelError> {
        self.with_downloads(move |d| d.pause(download_id)).await
    }

    /// Queues a paused or failed download again.
    pub async fn resume_download(&self, download_id: i64) -> Result<(), SatchelError> {
        self.with_downloads(move |d| d.resume(download_id)).await
    }

    /// Cancels a download (or removes a finished one) and frees its bytes that nothing else uses.
    pub async fn cancel_download(&self, download_id: i64) -> Result<(), SatchelError> {
        self.with_downloads(move |d| d.cancel(download_id)).await
    }

    /// Downloads for up to `max_duration_ms`, then returns with everything resumable: call it
    /// from a foreground service, WorkManager or a BGProcessingTask. Returns early when nothing
    /// more can be done now. One run at a time; a second call waits for the first.
    pub async fn run_downloads(&self, max_duration_ms: i64) -> Result<RunSummary, SatchelError> {
        self.run_downloads_cancellable(max_duration_ms, Cancellation::new()).await
    }

    /// `run_downloads` that `cancellation` stops at its next safe point (the Swift shell cancels
    /// it when the awaiting `Task` is cancelled). Dropping the awaited future stops it too.
    pub async fn run_downloads_cancellable(
        &self,
        max_duration_ms: i64,
        cancellation: Arc<Cancellation>,
    ) -> Result<RunSummary, SatchelError> {
        let max_duration_ms = non_negative("max_duration_ms", max_duration_ms)?;
        self.spawn_downloads_by(cancellation.token(), move |d, cancel| async move {
            d.run(Duration::from_millis(max_duration_ms), &cancel).await
        })
        .await
    }

    /// Stops the current `run_downloads` soon (between two chunks), e.g. from an iOS background
    /// task's expiration handler. Everything stays resumable.
    pub fn stop_downloads(&self) {
        self.account().downloads().stop_run();
    }

    /// Tells the core which network the phone is on now. Until the first call the core assumes
    /// none and downloads nothing.
    pub fn set_network(&self, network: NetworkType) {
        self.account().downloads().set_network(network);
    }

    pub async fn download_settings(&self) -> Result<DownloadSettings, SatchelError> {
        self.with_downloads(DownloadService::settings).await
    }

    /// Saves the learner's download settings; a running `run_downloads` applies them at once.
    pub async fn set_download_settings(&self, settings: DownloadSettings) -> Result<(), SatchelError> {
        self.with_downloads(move |d| d.set_settings(&settings)).await
    }

    /// Bytes used this month by network type, the budget, and the bytes lite has saved.
    pub async fn data_usage(&self) -> Result<DataUsage, SatchelError> {
        self.with_downloads(DownloadService::data_usage).await
    }

    /// Space taken by content and partial downloads, the quota and the device's free space.
    pub async fn storage_usage(&self) -> Result<StorageUsage, SatchelError> {
        self.with_downloads(DownloadService::storage_usage).await
    }

    /// Frees at least `bytes` by removing the downloads of the least recently studied courses
    /// (never the one being studied, never one downloading).
    pub async fn evict_downloads(&self, bytes: i64) -> Result<EvictionReport, SatchelError> {
        let bytes = non_negative("bytes", bytes)?;
        self.with_downloads(move |d| d.evict(bytes)).await
    }

    /// Deletes everything downloaded for a course; returns the bytes freed.
    pub async fn delete_course_content(&self, course_id: String) -> Result<i64, SatchelError> {
        self.with_downloads(move |d| d.delete_course_content(&course_id).map(to_i64)).await
    }

    /// What the player should open: the best downloaded rendition's local files, else the
    /// remote URLs of `preferred` for streaming.
    pub async fn playback_source(
        &self,
        lesson_id: String,
        preferred: RenditionKind,
    ) -> Result<PlaybackSource, SatchelError> {
        self.with_downloads(move |d| d.playback_source(&lesson_id, preferred)).await
    }

    /// Subscribes to download events. First a snapshot: one `StateChanged` event with the
    /// current state of every download; then every state change and removal as it happens, and
    /// progress a few times a second (coalesced per download when the listener is slow). Events
    /// arrive on a core thread of their own, never one that moves bytes: a slow or blocked
    /// listener delays only its own events. They stop when the returned handle is cancelled or
    /// freed.
    pub fn subscribe_downloads(&self, listener: Arc<dyn DownloadListener>) -> Arc<TaskHandle> {
        let receiver = self.account().downloads().events().subscribe();
        let service = self.account().download_service().clone();
        deliver(receiver, move |receiver| snapshot(&service, receiver), move |event| listener.on_event(event))
    }
}

/// The current state of every download, read after dropping the events queued before it.
fn snapshot(service: &DownloadService, receiver: &EventReceiver) -> Vec<DownloadEvent> {
    receiver.discard_queued();
    match service.list(None) {
        Ok(downloads) => downloads.iter().map(DownloadEvent::state_changed).collect(),
        Err(error) => {
            // The live events still follow; a list that cannot be read shows its own error.
            tracing::warn!(%error, "no download snapshot for a new subscriber");
            Vec::new()
        }
    }
}
