//! The download operations, one method each: what the FFI wraps and the CLI calls.
//!
//! [`DownloadService`] holds only the parts downloads need (the store, the content store, the
//! live machinery, the study clock for eviction, the HTTP client and the publisher keys), each
//! behind an `Arc`, so a clone is cheap and can move into a spawned task. Every operation that
//! writes also tells listeners and wakes a running `run_downloads` itself: a caller never has to
//! remember the second and third steps.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::VerifyingKey;
use tokio_util::sync::CancellationToken;

use super::resolve::{self, PlaybackSource};
use super::{
    DataUsage, DownloadEstimate, DownloadInfo, DownloadSettings, DownloadTarget, Downloads, EvictionReport,
    RunSummary, StorageUsage, policy, queue, runner, storage,
};
use crate::catalog::{self, ImportOutcome, Manifest, RenditionKind};
use crate::content::course::{self, LocalFile};
use crate::content::fetch::{ContentClient, LazyClient};
use crate::content::lite::{self, LiteLecture};
use crate::content::store::ContentStore;
use crate::error::Result;
use crate::learning::StudyClock;
use crate::store::Store;
use crate::time::now_ms;

/// Longest `run_downloads` a caller may ask for (a year: "until done").
const LONGEST_RUN: Duration = Duration::from_secs(365 * 86_400);

/// Everything that moves content from a host onto the phone, and manages it there.
#[derive(Clone)]
pub struct DownloadService {
    store: Arc<Store>,
    content: ContentStore,
    downloads: Arc<Downloads>,
    /// Eviction spares the course being studied right now.
    clock: Arc<StudyClock>,
    client: LazyClient,
    trusted_keys: Arc<[VerifyingKey]>,
}

impl DownloadService {
    pub fn new(
        store: Arc<Store>,
        content: ContentStore,
        downloads: Arc<Downloads>,
        clock: Arc<StudyClock>,
        client: LazyClient,
        trusted_keys: Arc<[VerifyingKey]>,
    ) -> DownloadService {
        DownloadService { store, content, downloads, clock, client, trusted_keys }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn content(&self) -> &ContentStore {
        &self.content
    }

    pub fn downloads(&self) -> &Downloads {
        &self.downloads
    }

    /// The shared machinery itself, for guards that outlive a borrow of the service.
    pub(crate) fn downloads_handle(&self) -> &Arc<Downloads> {
        &self.downloads
    }

    pub(crate) fn clock(&self) -> &StudyClock {
        &self.clock
    }

    /// The publisher keys this app trusts.
    pub(crate) fn trusted_keys(&self) -> &[VerifyingKey] {
        &self.trusted_keys
    }

    /// The HTTP client for content, made on first use.
    pub fn content_client(&self) -> Result<ContentClient> {
        self.client.get()
    }

    /// Imports a course manifest (JSON). An update puts finished downloads whose rendition now
    /// lists a missing file back in the queue, in the same transaction.
    pub fn import_manifest(&self, json: &str) -> Result<ImportOutcome> {
        let manifest = Manifest::parse(json)?;
        let outcome = self.store.write(|tx| {
            let outcome =
                catalog::import_parsed(tx, &manifest, None, catalog::publisher::Provenance::Unsigned)?;
            queue::after_import(tx, &self.content, &outcome)?;
            Ok(outcome)
        })?;
        self.downloads.wake();
        Ok(outcome)
    }

    /// Fetches a course's signed manifest from a host, verifies it and imports it (re-queueing
    /// what the update left incomplete, as [`DownloadService::import_manifest`]).
    pub async fn fetch_course(&self, base_url: &str, course_id: &str) -> Result<ImportOutcome> {
        // The dictionary is stored before the course lists it (see `Downloads::unlisted_writes`).
        let _listing = self.downloads.unlisted_writes.read().await;
        let client = self.content_client()?;
        let fetched = course::fetch_manifest(
            &client,
            &self.trusted_keys,
            &self.store,
            &self.content,
            base_url,
            course_id,
        )
        .await?;
        let service = self.clone();
        let base_url = base_url.to_owned();
        let outcome = crate::runtime::run_blocking(move || {
            service.store.write(|tx| {
                let outcome = course::import_fetched(tx, &fetched, &base_url)?;
                queue::after_import(tx, &service.content, &outcome)?;
                Ok(outcome)
            })
        })
        .await?;
        self.downloads.wake();
        Ok(outcome)
    }

    /// What downloading `target` in `rendition` would cost, before starting.
    pub fn estimate(&self, target: &DownloadTarget, rendition: RenditionKind) -> Result<DownloadEstimate> {
        self.store.read(|c| queue::estimate(c, &self.content, target, rendition))
    }

    /// Queues a lesson, module or course and returns the queued downloads.
    pub fn enqueue(
        &self,
        target: &DownloadTarget,
        rendition: RenditionKind,
        priority: i32,
    ) -> Result<Vec<DownloadInfo>> {
        let infos = self.store.write(|tx| {
            let ids = queue::enqueue(tx, &self.content, target, rendition, priority)?;
            ids.into_iter().map(|id| queue::info(tx, id)).collect::<Result<Vec<_>>>()
        })?;
        for info in &infos {
            self.downloads.events().changed(info);
        }
        self.downloads.wake();
        Ok(infos)
    }

    /// Every download (of one course, or all), running first.
    pub fn list(&self, course_id: Option<&str>) -> Result<Vec<DownloadInfo>> {
        self.store.read(|c| queue::list(c, course_id))
    }

    /// Pauses a download; its bytes are kept.
    pub fn pause(&self, id: i64) -> Result<()> {
        if let Some(info) = self.store.write(|tx| queue::pause(tx, id))? {
            self.downloads.stop(id);
            self.downloads.events().changed(&info);
        }
        Ok(())
    }

    /// Queues a paused or failed download again.
    pub fn resume(&self, id: i64) -> Result<()> {
        if let Some(info) = self.store.write(|tx| queue::resume(tx, id))? {
            self.downloads.events().changed(&info);
            self.downloads.wake();
        }
        Ok(())
    }

    /// Cancels a download (or removes a finished one) and frees its bytes nothing else uses.
    pub fn cancel(&self, id: i64) -> Result<()> {
        storage::cancel(self, id)
    }

    /// Downloads for up to `max_duration`, or until `cancel`, then returns with everything
    /// resumable.
    pub async fn run(&self, max_duration: Duration, cancel: &CancellationToken) -> Result<RunSummary> {
        runner::run_downloads(self, Instant::now() + max_duration.min(LONGEST_RUN), cancel).await
    }

    /// Downloads one lesson rendition now, first in line, and returns its verified files.
    /// `cancel` gives up (the download stays queued).
    pub async fn download_now(
        &self,
        lesson_id: &str,
        rendition: RenditionKind,
        cancel: &CancellationToken,
    ) -> Result<Vec<LocalFile>> {
        runner::download_now(self, lesson_id, rendition, cancel).await
    }

    pub fn settings(&self) -> Result<DownloadSettings> {
        self.store.read(policy::settings)
    }

    /// Saves the learner's download settings; a running `run_downloads` applies them at once.
    pub fn set_settings(&self, settings: &DownloadSettings) -> Result<()> {
        self.store.write(|tx| policy::set_settings(tx, settings))?;
        self.downloads.wake();
        Ok(())
    }

    /// Bytes used this month by network type, the budget, and the bytes lite has saved.
    pub fn data_usage(&self) -> Result<DataUsage> {
        self.store.read(|c| policy::data_usage(c, now_ms()))
    }

    pub fn storage_usage(&self) -> Result<StorageUsage> {
        self.store.read(|c| storage::usage(c, &self.content))
    }

    /// Frees at least `bytes` by removing the downloads of the least recently studied courses.
    pub fn evict(&self, bytes: u64) -> Result<EvictionReport> {
        storage::evict(self, bytes, &[])
    }

    /// Deletes everything downloaded for a course; returns the bytes freed.
    pub fn delete_course_content(&self, course_id: &str) -> Result<u64> {
        storage::delete_course_content(self, course_id)
    }

    /// What the player should open: local files when downloaded, remote URLs otherwise.
    pub fn playback_source(&self, lesson_id: &str, preferred: RenditionKind) -> Result<PlaybackSource> {
        self.store.read(|c| resolve::playback_source(c, &self.content, lesson_id, preferred))
    }

    /// The verified local files of a rendition, or `None` unless every one is on the phone.
    pub fn rendition_files(
        &self,
        lesson_id: &str,
        rendition: RenditionKind,
    ) -> Result<Option<Vec<LocalFile>>> {
        self.store.read(|c| course::rendition_files(c, &self.content, lesson_id, rendition))
    }

    /// A downloaded lite lecture ready to play, or `None` until it is fully downloaded.
    pub fn lite_lecture(&self, lesson_id: &str) -> Result<Option<LiteLecture>> {
        self.store.read(|c| lite::lite_lecture(c, &self.content, lesson_id))
    }
}
