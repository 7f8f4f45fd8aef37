//! The download queue: lessons, modules or whole courses in a chosen rendition, fetched blob by
//! blob with HTTP Range so a broken connection or a killed app never starts a file over.
//!
//! What the learner sees is in the `download` table, one row per lesson rendition, with a state
//! (see [`DownloadState`]). The bytes of a blob in flight are in `content/partial/<hash>.part`;
//! a blob reaches the content store only once its hash matches, and a rendition becomes `done`
//! only when every one of its blobs is there. Nothing else needs to survive a kill: starting
//! again resumes every blob from the bytes on disk.
//!
//! Work happens only inside [`runner::run_downloads`], which an app calls with a deadline
//! (foreground, WorkManager, BGTaskScheduler); stopping leaves everything resumable.

mod delta;
pub mod events;
mod hashing;
pub mod policy;
pub mod queue;
pub mod resolve;
pub(crate) mod retry;
pub mod runner;
mod service;
pub mod storage;
mod transfer;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio_util::sync::CancellationToken;

pub use events::{DownloadEvent, DownloadEventKind};
pub use policy::{DataUsage, DownloadSettings, NetworkType};
pub use queue::{DownloadEstimate, DownloadInfo, DownloadTarget};
pub use runner::{RunOutcome, RunSummary};
pub use service::DownloadService;
pub use storage::{EvictionReport, StorageUsage};

/// Where a download stands. Stored as text in `download.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum DownloadState {
    /// Waiting for its turn.
    Queued,
    /// Bytes are moving.
    Running,
    /// Paused by the learner; only `resume` starts it again.
    Paused,
    /// Not allowed on the current network (offline, or cellular with "Wi-Fi only").
    WaitingForNetwork,
    /// Would go over the monthly cellular budget.
    WaitingForBudget,
    /// Stopped for a reason that will not fix itself (see `failure`); `resume` retries.
    Failed,
    /// Every file is on the phone and verified.
    Done,
}

crate::store::sql_text_enum!(DownloadState {
    Queued => "queued",
    Running => "running",
    Paused => "paused",
    WaitingForNetwork => "waiting_network",
    WaitingForBudget => "waiting_budget",
    Failed => "failed",
    Done => "done",
});

/// Knobs for the transfer machinery. The defaults suit a phone on a poor network; tests shorten
/// them.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// A body that delivers nothing for this long is treated as a broken connection.
    pub stall_timeout: Duration,
    /// First backoff step after a failed attempt that made no progress; doubles, with full jitter.
    pub backoff_base: Duration,
    /// Longest wait between attempts that made no progress.
    pub backoff_cap: Duration,
    /// Longest a server's Retry-After is obeyed for (a longer one is cut to this).
    pub retry_after_cap: Duration,
    /// Attempts in a row without a single new byte before a download is failed.
    pub max_attempts_without_progress: u32,
    /// A blob whose bytes fail their hash this many times is failed, not fetched again.
    pub max_verify_failures: u32,
    /// Free space to leave on the device beyond what a download needs.
    pub free_space_margin: u64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            stall_timeout: Duration::from_secs(30),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(300),
            retry_after_cap: Duration::from_secs(900),
            max_attempts_without_progress: 10,
            max_verify_failures: 3,
            free_space_margin: 50 * 1024 * 1024,
        }
    }
}

/// The account's live download machinery (in memory; everything durable is in the database).
pub struct Downloads {
    network: watch::Sender<NetworkType>,
    /// Pokes a running `run_downloads` to look at the queue again (enqueue, resume, settings).
    wake: Notify,
    /// Downloads in flight, each with the token that stops it.
    active: Mutex<HashMap<i64, CancellationToken>>,
    /// Stops the current `run_downloads`, if any.
    run_stop: Mutex<Option<CancellationToken>>,
    run_lock: tokio::sync::Mutex<()>,
    /// Held shared by work that stores blobs outside a run before the catalog lists them
    /// (fetching a course stores its dictionary, importing a shared file stores its files); the
    /// sweep of files no course lists any more takes it exclusively or skips its turn, so it
    /// never removes a file that is about to be listed.
    pub(crate) unlisted_writes: Arc<tokio::sync::RwLock<()>>,
    /// One transfer per blob at a time, even when two downloads share it.
    blob_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    events: events::EventHub,
    meter: policy::Meter,
    tuning: Mutex<Tuning>,
}

impl Default for Downloads {
    fn default() -> Self {
        Downloads {
            network: watch::Sender::new(NetworkType::None),
            wake: Notify::new(),
            active: Mutex::new(HashMap::new()),
            run_stop: Mutex::new(None),
            run_lock: tokio::sync::Mutex::new(()),
            unlisted_writes: Arc::default(),
            blob_locks: Mutex::new(HashMap::new()),
            events: events::EventHub::default(),
            meter: policy::Meter::default(),
            tuning: Mutex::new(Tuning::default()),
        }
    }
}

impl Downloads {
    /// What the shell last reported about the network. `None` until it reports: the core never
    /// spends data it was not told it may.
    pub fn network(&self) -> NetworkType {
        *self.network.borrow()
    }

    /// Records the network the phone is on now; running downloads that the new network does
    /// not allow stop (and wait), waiting ones start when `run_downloads` is active.
    pub fn set_network(&self, network: NetworkType) {
        self.network.send_replace(network);
    }

    /// Follows the reported network (sync starts when the phone reconnects).
    pub fn watch_network(&self) -> watch::Receiver<NetworkType> {
        self.network.subscribe()
    }

    pub fn tuning(&self) -> Tuning {
        lock(&self.tuning).clone()
    }

    /// Replaces the transfer knobs (tests, or an app with unusual needs).
    pub fn set_tuning(&self, tuning: Tuning) {
        *lock(&self.tuning) = tuning;
    }

    /// The data meter downloads and sync both count their bytes on.
    pub(crate) fn meter(&self) -> &policy::Meter {
        &self.meter
    }

    pub fn events(&self) -> &events::EventHub {
        &self.events
    }

    /// Asks the running `run_downloads` (if any) to look at the queue again.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops one download in flight (its state was already written by the caller).
    pub(crate) fn stop(&self, id: i64) {
        if let Some(token) = lock(&self.active).get(&id) {
            token.cancel();
        }
    }

    /// Stops the current `run_downloads` early; everything stays resumable.
    pub fn stop_run(&self) {
        if let Some(token) = lock(&self.run_stop).as_ref() {
            token.cancel();
        }
    }

    /// Stops the current run and waits until it has let go of the queue (its last writes done).
    pub async fn stop_run_and_wait(&self) {
        self.stop_run();
        drop(self.run_lock.lock().await);
    }

    /// Marks download `id` as in flight (stoppable with `token`) until the returned guard drops.
    pub(crate) fn mark_active(self: &Arc<Self>, id: i64, token: CancellationToken) -> InFlight {
        lock(&self.active).insert(id, token);
        InFlight { downloads: Arc::clone(self), id }
    }

    pub(crate) fn is_active(&self, id: i64) -> bool {
        lock(&self.active).contains_key(&id)
    }

    /// The lock keeping one transfer per blob (keyed by its hash), or one split per text pack
    /// (keyed `unpack <hash>`).
    fn blob_lock(&self, hash: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = lock(&self.blob_locks);
        locks.retain(|_, l| Arc::strong_count(l) > 1);
        Arc::clone(locks.entry(hash.to_owned()).or_default())
    }
}

/// A download's entry in `Downloads::active`, removed when this drops.
pub(crate) struct InFlight {
    downloads: Arc<Downloads>,
    id: i64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.downloads.active).remove(&self.id);
    }
}

/// Locks a std mutex, shrugging off poisoning (the data are plain maps and counters).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
