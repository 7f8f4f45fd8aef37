//! Sync on the `Satchel` object: configuration, syncing, status events, refused operations and
//! note revisions.

use std::sync::Arc;
use std::time::Duration;

use super::delivery::deliver;
use super::{Cancellation, Satchel, SatchelError, TaskHandle};
use crate::api_int::non_negative;
use crate::notes::{self, Note, NoteRevision};
use crate::sync::{RejectedOp, SyncEvent, SyncReport, SyncService, TokenProvider};

/// Receives sync status events. Called on a core thread: hop to the UI thread yourself.
#[uniffi::export(with_foreign)]
pub trait SyncListener: Send + Sync {
    fn on_event(&self, event: SyncEvent);
}

#[uniffi::export]
impl Satchel {
    /// Where the learner's sync server is (`https://…/`; plain HTTP only to loopback) and where
    /// tokens come from. From then on the core syncs on reconnect, on `resume`, periodically while
    /// the app runs, and when asked.
    pub fn configure_sync(
        &self,
        base_url: String,
        tokens: Arc<dyn TokenProvider>,
    ) -> Result<(), SatchelError> {
        Ok(self.account().sync().configure(&base_url, tokens)?)
    }

    /// Syncs now for at most `max_duration_ms` (WorkManager, BGTaskScheduler, a "sync now"
    /// button): pushes local changes, pulls the learner's others. Waits for a running sync first.
    pub async fn sync(&self, max_duration_ms: i64) -> Result<SyncReport, SatchelError> {
        self.sync_cancellable(max_duration_ms, Cancellation::new()).await
    }

    /// `sync` that `cancellation` stops at its next safe point (the Swift shell cancels it when
    /// the awaiting `Task` is cancelled). Dropping the awaited future stops it too.
    pub async fn sync_cancellable(
        &self,
        max_duration_ms: i64,
        cancellation: Arc<Cancellation>,
    ) -> Result<SyncReport, SatchelError> {
        let sync = self.account().sync().clone();
        let max_duration = Duration::from_millis(non_negative("max_duration_ms", max_duration_ms)?);
        Ok(crate::runtime::spawn_cancellable_by(cancellation.token(), |cancel| async move {
            sync.sync(max_duration, &cancel).await
        })
        .await?)
    }

    /// Stops the running sync soon (e.g. an iOS background task expiring). Nothing is lost.
    pub fn stop_sync(&self) {
        self.account().sync().stop();
    }

    /// Asks for a sync in the background, without waiting for it.
    pub fn request_sync(&self) {
        self.account().sync().request();
    }

    /// The app came to the foreground: sync soon.
    pub fn resume(&self) {
        self.account().sync().request();
    }

    /// The latest sync status.
    pub fn sync_status(&self) -> SyncEvent {
        self.account().sync().status()
    }

    /// Subscribes to sync status: the current one at once, then every change (idle, offline and
    /// error are never dropped; "syncing" counts coalesce to the newest when the listener is
    /// slow). Events arrive on a core thread of their own, never one that moves bytes. Freeing
    /// the handle (or `cancel`) stops them.
    pub fn subscribe_sync(&self, listener: Arc<dyn SyncListener>) -> Arc<TaskHandle> {
        let sync = self.account().sync().clone();
        let receiver = sync.subscribe();
        deliver(
            receiver,
            move |receiver| vec![sync.status_snapshot(receiver)],
            move |event| listener.on_event(event),
        )
    }

    /// Operations the server refused for good, newest first.
    pub async fn rejected_sync_ops(&self) -> Result<Vec<RejectedOp>, SatchelError> {
        self.with_sync(SyncService::rejected_ops).await
    }

    /// Removes a refused operation from the list (the learner has seen it).
    pub async fn dismiss_rejected_sync_op(&self, op_id: String) -> Result<(), SatchelError> {
        self.with_sync(move |s| s.dismiss_rejected_op(&op_id)).await
    }

    /// A note's other versions (edits made concurrently on other devices), newest first; for a
    /// deleted note, every version it had.
    pub async fn note_revisions(&self, note_id: String) -> Result<Vec<NoteRevision>, SatchelError> {
        self.read(move |c| notes::sync::revisions(c, &note_id)).await
    }

    /// Makes a revision the note's text (undeleting a deleted note).
    pub async fn restore_note_revision(
        &self,
        note_id: String,
        revision_id: String,
    ) -> Result<Note, SatchelError> {
        self.write(move |tx, device| notes::sync::restore_revision(tx, device, &note_id, &revision_id)).await
    }

    /// Drops a revision the learner does not want.
    pub async fn dismiss_note_revision(
        &self,
        note_id: String,
        revision_id: String,
    ) -> Result<(), SatchelError> {
        self.write(move |tx, device| notes::sync::dismiss_revision(tx, device, &note_id, &revision_id)).await
    }

    /// A course's deleted notes with the text they had, most recent first (restorable with
    /// `note_revisions` + `restore_note_revision`).
    pub async fn deleted_notes(&self, course_id: String) -> Result<Vec<Note>, SatchelError> {
        self.read(move |c| notes::sync::deleted(c, &course_id)).await
    }
}

impl Satchel {
    /// Runs blocking sync work on the core runtime and maps its error for the FFI.
    async fn with_sync<T, F>(&self, f: F) -> Result<T, SatchelError>
    where
        F: FnOnce(&SyncService) -> crate::Result<T> + Send + 'static,
        T: Send + 'static,
    {
        self.with_account(move |account| f(account.sync())).await
    }
}
