//! The sync operations the FFI wraps, and what sets syncs off: the app asking, the phone
//! reconnecting, the app coming to the foreground, and a period while it runs.
//!
//! [`Sync`] is the account's live machinery (in memory: configuration, status, the running
//! sync's stop token); [`SyncService`] holds it with the store and downloads' network and meter,
//! each behind an `Arc`, so a clone moves into a spawned task. One sync runs at a time; a
//! trigger during a sync is remembered and served after it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::engine::{Engine, SyncOutcome, SyncReport};
use super::status::{StatusHub, SyncEvent};
use super::transport::HttpTransport;
use super::{RejectedOp, SyncError, SyncTuning, TokenProvider, rejected};
use crate::downloads::{Downloads, NetworkType};
use crate::error::Result;
use crate::event_hub::EventReceiver;
use crate::store::Store;

/// Longest `sync` a caller may ask for (a year: "until done").
const LONGEST_RUN: Duration = Duration::from_secs(365 * 86_400);

struct Config {
    transport: HttpTransport,
    tokens: Arc<dyn TokenProvider>,
}

/// The account's live sync machinery.
pub struct SyncRuntime {
    config: Mutex<Option<Arc<Config>>>,
    status: Arc<StatusHub>,
    run_lock: tokio::sync::Mutex<()>,
    /// Stops the running sync, if any.
    running: Mutex<Option<CancellationToken>>,
    trigger: Notify,
    /// The background task serving triggers; ends when configuration is replaced.
    scheduler: Mutex<Option<tokio::task::AbortHandle>>,
    tuning: Mutex<SyncTuning>,
}

impl Default for SyncRuntime {
    fn default() -> Self {
        SyncRuntime {
            config: Mutex::new(None),
            status: Arc::new(StatusHub::default()),
            run_lock: tokio::sync::Mutex::new(()),
            running: Mutex::new(None),
            trigger: Notify::new(),
            scheduler: Mutex::new(None),
            tuning: Mutex::new(SyncTuning::default()),
        }
    }
}

impl SyncRuntime {
    /// Stops serving triggers and the running sync (the account is closing).
    pub fn shutdown(&self) {
        if let Some(task) = lock(&self.scheduler).take() {
            task.abort();
        }
        if let Some(stop) = lock(&self.running).as_ref() {
            stop.cancel();
        }
    }
}

/// Everything sync needs of an account.
#[derive(Clone)]
pub struct SyncService {
    store: Arc<Store>,
    device_id: Arc<str>,
    downloads: Arc<Downloads>,
    sync: Arc<SyncRuntime>,
}

impl SyncService {
    pub fn new(
        store: Arc<Store>,
        device_id: Arc<str>,
        downloads: Arc<Downloads>,
        sync: Arc<SyncRuntime>,
    ) -> SyncService {
        SyncService { store, device_id, downloads, sync }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Stops serving triggers and the running sync (the account is closing).
    pub fn shutdown(&self) {
        self.sync.shutdown();
    }

    /// `shutdown`, then waits until the running sync (if any) has stopped and written its state.
    pub async fn shutdown_and_wait(&self) {
        self.shutdown();
        drop(self.sync.run_lock.lock().await);
    }

    /// Where to sync and how to get tokens. Starts serving triggers (reconnect, foreground, the
    /// period); replaces an earlier configuration.
    pub fn configure(&self, base_url: &str, tokens: Arc<dyn TokenProvider>) -> Result<()> {
        let tuning = self.tuning();
        let transport = HttpTransport::new(base_url, tuning.stall_timeout, tuning.retry_after_cap)?;
        *lock(&self.sync.config) = Some(Arc::new(Config { transport, tokens }));
        let service = self.clone();
        let task = crate::runtime::runtime().spawn(async move { service.serve_triggers().await });
        if let Some(previous) = lock(&self.sync.scheduler).replace(task.abort_handle()) {
            previous.abort();
        }
        Ok(())
    }

    /// Syncs now, for at most `max_duration` (for WorkManager and BGTaskScheduler), or until
    /// `cancel`. Waits for a sync already running to end first.
    pub async fn sync(&self, max_duration: Duration, cancel: &CancellationToken) -> Result<SyncReport> {
        let deadline = Instant::now() + max_duration.min(LONGEST_RUN);
        let Some(config) = lock(&self.sync.config).clone() else {
            return Err(SyncError::NotConfigured.into());
        };
        let _one_at_a_time = tokio::select! {
            // Cancelled first (even when no sync runs), or while another sync runs: never start,
            // nor queue up behind it.
            biased;
            _ = cancel.cancelled() => return self.stopped_report().await,
            guard = self.sync.run_lock.lock() => guard,
        };
        // A child: `stop` stops this sync only, and the caller's cancellation stops it too.
        let stop = cancel.child_token();
        *lock(&self.sync.running) = Some(stop.clone());
        let store = Arc::clone(&self.store);
        let device_name =
            crate::runtime::run_blocking(move || store.read(crate::sync::identity::device_name)).await?;
        let engine = Engine {
            store: Arc::clone(&self.store),
            device_id: Arc::clone(&self.device_id),
            device_name,
            transport: config.transport.clone(),
            tokens: Arc::clone(&config.tokens),
            downloads: Arc::clone(&self.downloads),
            tuning: self.tuning(),
            stop,
            status: Arc::clone(&self.sync.status),
        };
        let report = engine.run(deadline).await;
        *lock(&self.sync.running) = None;
        report
    }

    /// What a sync cancelled before it started reports.
    async fn stopped_report(&self) -> Result<SyncReport> {
        let store = Arc::clone(&self.store);
        let remaining =
            crate::runtime::run_blocking(move || store.read(crate::outbox::pending_count)).await?;
        let remaining = crate::api_int::to_i32(remaining);
        Ok(SyncReport { outcome: SyncOutcome::Stopped, pushed: 0, pulled: 0, rejected: 0, remaining })
    }

    /// Stops the running sync soon; everything stays resumable.
    pub fn stop(&self) {
        if let Some(stop) = lock(&self.sync.running).as_ref() {
            stop.cancel();
        }
    }

    /// Asks for a sync in the background (the app came to the foreground, or wants one now
    /// without waiting for it). Nothing happens until `configure`.
    pub fn request(&self) {
        self.sync.trigger.notify_one();
    }

    /// The latest status.
    pub fn status(&self) -> SyncEvent {
        self.sync.status.latest()
    }

    /// The stream of the next statuses.
    pub fn subscribe(&self) -> EventReceiver<SyncEvent> {
        self.sync.status.subscribe()
    }

    /// The latest status, after dropping what `receiver` queued before it (see
    /// [`StatusHub::snapshot`]).
    pub fn status_snapshot(&self, receiver: &EventReceiver<SyncEvent>) -> SyncEvent {
        self.sync.status.snapshot(receiver)
    }

    pub fn tuning(&self) -> SyncTuning {
        lock(&self.sync.tuning).clone()
    }

    /// Replaces the engine's knobs (tests, or an app with unusual needs); applies from the next
    /// sync (the transport's timeouts from the next `configure`).
    pub fn set_tuning(&self, tuning: SyncTuning) {
        *lock(&self.sync.tuning) = tuning;
    }

    pub fn rejected_ops(&self) -> Result<Vec<RejectedOp>> {
        self.store.read(rejected::list)
    }

    pub fn dismiss_rejected_op(&self, op_id: &str) -> Result<()> {
        self.store.write(|tx| rejected::dismiss(tx, op_id))
    }

    /// Serves triggers until the configuration is replaced: a request, the network coming back,
    /// or the period passing.
    async fn serve_triggers(&self) {
        let mut network = self.downloads.watch_network();
        loop {
            let period = self.tuning().period;
            tokio::select! {
                _ = self.sync.trigger.notified() => {}
                changed = network.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if *network.borrow_and_update() == NetworkType::None {
                        continue;
                    }
                }
                _ = sleep_or_never(period) => {}
            }
            let run = self.tuning().triggered_run;
            // Owned by the service, not by a caller that could go away: `stop` and closing end it.
            match self.sync(run, &CancellationToken::new()).await {
                Ok(report) => {
                    if let SyncOutcome::Failed { reason, .. } = &report.outcome {
                        tracing::info!(%reason, "a triggered sync failed");
                    }
                }
                Err(error) => tracing::warn!(%error, "a triggered sync could not run"),
            }
        }
    }
}

async fn sleep_or_never(period: Option<Duration>) {
    match period {
        Some(period) => tokio::time::sleep(period).await,
        None => std::future::pending().await,
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}
