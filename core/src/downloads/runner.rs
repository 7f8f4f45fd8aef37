//! Running the queue until it is empty, blocked, stopped or out of time.
//!
//! One `run_downloads` at a time per account. It admits queued downloads as the network, the
//! budget and the concurrency limit allow, runs each as a task that fetches its blobs in order,
//! reports progress a few times a second, and saves progress and the data meter once a second.
//! At the deadline (or `stop_downloads`, a network change, pause or cancel) the tasks stop
//! between two chunks; their bytes are on disk and their rows say where they stand, so the next
//! run, in this process or after a kill, carries on.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rusqlite::{OptionalExtension, params};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::delta;
use super::events::{DownloadEvent, DownloadEventKind, PROGRESS_INTERVAL, Rate};
use super::policy::{self, Allowance, NetworkType};
use super::queue::{self, DownloadInfo, DownloadTarget, WorkItem};
use super::transfer::{self, BlobJob, Ending, Progress};
use super::{DownloadService, DownloadState, lock, storage};
use crate::api_int::{stored_count, to_i32, to_i64};
use crate::catalog::{BlobEntry, Encoding, PatchEntry, RenditionKind};
use crate::content::course::{self, LocalFile};
use crate::content::fetch::ContentClient;
use crate::error::{Error, NetworkErrorKind, Result};
use crate::run_loop::{self, Ended};
use crate::runtime::run_blocking;
use crate::time::now_ms;

/// Why `run_downloads` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum RunOutcome {
    /// Nothing is left to download (paused and failed downloads wait for the learner).
    Finished,
    /// Downloads wait for a network the settings allow, or for budget.
    Blocked,
    /// The deadline came first; the rest resumes on the next run.
    DeadlineReached,
    /// `stop_downloads` was called.
    Stopped,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RunSummary {
    pub outcome: RunOutcome,
    /// Downloads that finished during this run.
    pub completed: i32,
    /// Downloads that failed during this run.
    pub failed: i32,
    /// Downloads still to do (queued or waiting).
    pub remaining: i32,
}

/// A download in flight, as the run loop sees it.
struct Live {
    info: DownloadInfo,
    /// Bytes fetched so far, counting what was on disk when it started.
    bytes_done: AtomicU64,
    /// (when, bytes) of the last progress event, and the smoothed rate.
    sampled: std::sync::Mutex<(Instant, u64, Rate)>,
}

/// What the tasks of one run share.
struct Shared {
    /// Metered bytes the budget still allows (i64::MAX without a budget).
    budget_left: AtomicI64,
}

/// Runs downloads until the queue is done or blocked, `deadline` passes, or `stop_downloads`.
pub async fn run_downloads(
    service: &DownloadService,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<RunSummary> {
    let summary = run(service, deadline, None, cancel).await?.0;
    tracing::info!(
        outcome = ?summary.outcome,
        completed = summary.completed,
        failed = summary.failed,
        remaining = summary.remaining,
        "download run ended"
    );
    Ok(summary)
}

/// One run, ended early by `cancel` (the caller went away) as by `stop_run`.
async fn run(
    service: &DownloadService,
    deadline: Instant,
    only: Option<i64>,
    cancel: &CancellationToken,
) -> Result<(RunSummary, HashMap<i64, Error>)> {
    let downloads = service.downloads();
    let locked = tokio::select! {
        // Cancelled first (even when the lock is free), or while another run holds the lock:
        // never start, nor queue up behind it.
        biased;
        _ = cancel.cancelled() => Err(RunOutcome::Stopped),
        waited = tokio::time::timeout_at(deadline.into(), downloads.run_lock.lock()) => {
            waited.map_err(|_| RunOutcome::DeadlineReached)
        }
    };
    let _guard = match locked {
        Ok(guard) => guard,
        Err(outcome) => {
            let remaining = count_remaining(service).await?;
            let remaining = to_i32(remaining);
            return Ok((RunSummary { outcome, completed: 0, failed: 0, remaining }, HashMap::new()));
        }
    };
    // A child: `stop_run` stops this run only, and the caller's cancellation stops it too.
    let run_token = cancel.child_token();
    *lock(&downloads.run_stop) = Some(run_token.clone());
    let result = run_locked(service, deadline, only, &run_token).await;
    *lock(&downloads.run_stop) = None;
    result
}

async fn run_locked(
    service: &DownloadService,
    deadline: Instant,
    only: Option<i64>,
    run_token: &CancellationToken,
) -> Result<(RunSummary, HashMap<i64, Error>)> {
    {
        let service = service.clone();
        run_blocking(move || service.store().write(queue::requeue_orphans)).await?;
    }
    let mut job = QueueJob {
        service,
        only,
        run_token,
        network: service.downloads().network.subscribe(),
        shared: Arc::new(Shared { budget_left: AtomicI64::new(i64::MAX) }),
        lives: HashMap::new(),
        tally: Tally::default(),
        ticker: tokio::time::interval(PROGRESS_INTERVAL),
        ticks: 0,
    };
    let outcome = match run_loop::run(&mut job, deadline, run_token).await? {
        Ended::Done(outcome) => outcome,
        Ended::DeadlineReached => RunOutcome::DeadlineReached,
        Ended::Stopped => RunOutcome::Stopped,
    };
    {
        let service = service.clone();
        run_blocking(move || storage::sweep_superseded(&service)).await?;
    }
    let remaining = count_remaining(service).await?;
    let Tally { completed, failed, errors } = job.tally;
    let (completed, failed, remaining) = (to_i32(completed), to_i32(failed), to_i32(remaining));
    Ok((RunSummary { outcome, completed, failed, remaining }, errors))
}

/// One run of the queue, as the shared run loop drives it.
struct QueueJob<'a> {
    service: &'a DownloadService,
    /// Run only this download (download-now), not the whole queue.
    only: Option<i64>,
    run_token: &'a CancellationToken,
    network: watch::Receiver<NetworkType>,
    shared: Arc<Shared>,
    lives: HashMap<i64, Arc<Live>>,
    tally: Tally,
    ticker: tokio::time::Interval,
    ticks: u64,
}

/// What besides a finished task makes the run act.
enum Signal {
    /// The network changed, or something asked the queue to be looked at again.
    Look,
    /// Time to report progress (and now and then save it).
    Tick,
}

impl run_loop::Job for QueueJob<'_> {
    type Output = (i64, Result<(), Ending>);
    type Done = RunOutcome;
    type Signal = Signal;

    async fn plan(&mut self, tasks: &mut JoinSet<Self::Output>) -> Result<Option<RunOutcome>> {
        let service = self.service;
        let current = *self.network.borrow_and_update();
        let active: HashSet<i64> = self.lives.keys().copied().collect();
        let (picks, allowance) = admit(service, current, &active, self.only, &self.shared).await?;
        if allowance == Allowance::NoNetwork {
            stop_all(service, &self.lives, DownloadState::WaitingForNetwork).await?;
        }
        for info in picks {
            let token = self.run_token.child_token();
            // Held by the task: however the task ends (finished, failed, panicked, aborted),
            // the download stops counting as in flight, so eviction is never blocked by a stale
            // entry.
            let in_flight = service.downloads_handle().mark_active(info.id, token.clone());
            let live = Arc::new(Live {
                bytes_done: AtomicU64::new(stored_count(info.bytes_done)),
                sampled: std::sync::Mutex::new((
                    Instant::now(),
                    stored_count(info.bytes_done),
                    Rate::default(),
                )),
                info,
            });
            self.lives.insert(live.info.id, Arc::clone(&live));
            let service = service.clone();
            let shared = Arc::clone(&self.shared);
            tasks.spawn(async move {
                let _in_flight = in_flight;
                let id = live.info.id;
                (id, download_one(&service, &live, &token, &shared).await)
            });
        }
        if !tasks.is_empty() {
            return Ok(None);
        }
        let remaining = count_remaining(service).await?;
        Ok(Some(if remaining == 0 || self.only.is_some() {
            RunOutcome::Finished
        } else {
            RunOutcome::Blocked
        }))
    }

    async fn settle(
        &mut self,
        joined: std::result::Result<Self::Output, tokio::task::JoinError>,
    ) -> Result<()> {
        self.tally.settle(self.service, &mut self.lives, joined).await
    }

    async fn signal(&mut self) -> Signal {
        let downloads = self.service.downloads();
        tokio::select! {
            _ = self.network.changed() => Signal::Look,
            () = downloads.wake.notified() => Signal::Look,
            _ = self.ticker.tick() => Signal::Tick,
        }
    }

    async fn handle(&mut self, signal: Signal) -> Result<bool> {
        match signal {
            Signal::Look => Ok(true),
            Signal::Tick => {
                self.ticks += 1;
                report_progress(self.service, &self.lives);
                if self.ticks.is_multiple_of(4) {
                    save_progress(self.service, &self.lives).await?;
                }
                Ok(false)
            }
        }
    }
}

/// What the tasks of a run came to.
#[derive(Default)]
struct Tally {
    completed: u32,
    failed: u32,
    errors: HashMap<i64, Error>,
}

impl Tally {
    /// Records how a finished task ended and writes its state.
    async fn settle(
        &mut self,
        service: &DownloadService,
        lives: &mut HashMap<i64, Arc<Live>>,
        joined: std::result::Result<(i64, Result<(), Ending>), tokio::task::JoinError>,
    ) -> Result<()> {
        let (id, ended) = joined.map_err(|e| Error::Internal(format!("a download task failed: {e}")))?;
        let Some(live) = lives.remove(&id) else { return Ok(()) };
        match finish(service, &live, ended).await? {
            Some(Ok(())) => self.completed += 1,
            Some(Err(error)) => {
                self.failed += 1;
                self.errors.insert(id, error);
            }
            None => {}
        }
        Ok(())
    }
}

/// Puts every waiting download in the state the network and budget allow, and starts as many
/// queued ones as there are free slots. Returns the started ones (now `running`) and what the
/// network and settings allow.
async fn admit(
    service: &DownloadService,
    network: NetworkType,
    active: &HashSet<i64>,
    only: Option<i64>,
    shared: &Arc<Shared>,
) -> Result<(Vec<DownloadInfo>, Allowance)> {
    let service2 = service.clone();
    let active = active.clone();
    let shared = Arc::clone(shared);
    let (picked, changed, allowance) = run_blocking(move || {
        let service = service2;
        service.store().write(|tx| {
            let settings = policy::settings(tx)?;
            let used = policy::metered_used(tx, now_ms())? + service.downloads().meter.pending_metered();
            let allowance = policy::allowance(&settings, network, used);
            let mut budget_left = match allowance {
                Allowance::Budget(left) => left,
                _ => u64::MAX,
            };
            shared.budget_left.store(i64::try_from(budget_left).unwrap_or(i64::MAX), Ordering::SeqCst);
            let mut free_slots =
                usize::try_from(settings.max_concurrent_downloads).unwrap_or(1).saturating_sub(active.len());
            let (mut picked, mut changed) = (Vec::new(), Vec::new());
            for (id, state, remaining) in queue::candidates(tx)? {
                if active.contains(&id) || only.is_some_and(|only| only != id) {
                    continue;
                }
                let wanted = match allowance {
                    Allowance::NoNetwork => DownloadState::WaitingForNetwork,
                    Allowance::Budget(_) if remaining > budget_left => DownloadState::WaitingForBudget,
                    Allowance::Budget(_) | Allowance::Unlimited => {
                        budget_left = budget_left.saturating_sub(remaining);
                        DownloadState::Queued
                    }
                };
                if wanted == DownloadState::Queued && free_slots > 0 {
                    free_slots -= 1;
                    if let Some(info) = queue::set_state(tx, id, DownloadState::Running, None)? {
                        changed.push(info.clone());
                        picked.push(info);
                    }
                } else if wanted != state
                    && let Some(info) = queue::set_state(tx, id, wanted, None)?
                {
                    changed.push(info);
                }
            }
            Ok((picked, changed, allowance))
        })
    })
    .await?;
    for info in &changed {
        service.downloads().events().changed(info);
    }
    Ok((picked, allowance))
}

/// Stops every download in flight, leaving it in `state` (the task will not overwrite it).
async fn stop_all(
    service: &DownloadService,
    lives: &HashMap<i64, Arc<Live>>,
    state: DownloadState,
) -> Result<()> {
    if lives.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = lives.keys().copied().collect();
    let service2 = service.clone();
    let changed = run_blocking(move || {
        service2.store().write(|tx| {
            let mut changed = Vec::new();
            for id in ids {
                changed.extend(queue::set_state(tx, id, state, None)?);
            }
            Ok(changed)
        })
    })
    .await?;
    for info in &changed {
        service.downloads().stop(info.id);
        service.downloads().events().changed(info);
    }
    Ok(())
}

/// Writes how a task ended. Returns `Some(Ok)` for done, `Some(Err)` for failed, `None` when it
/// only stopped.
async fn finish(
    service: &DownloadService,
    live: &Arc<Live>,
    ended: Result<(), Ending>,
) -> Result<Option<Result<(), Error>>> {
    let id = live.info.id;
    let bytes_done = live.bytes_done.load(Ordering::Relaxed);
    let service2 = service.clone();
    let (verdict, state, failure) = match ended {
        Ok(()) => (Some(Ok(())), DownloadState::Done, None),
        Err(Ending::Stopped) => (None, DownloadState::Queued, None),
        Err(Ending::OverBudget) => (None, DownloadState::WaitingForBudget, None),
        Err(Ending::Failed(error)) => {
            let text = error.to_string();
            tracing::warn!(download = id, reason = %text, "download failed");
            (Some(Err(error)), DownloadState::Failed, Some(text))
        }
    };
    let (changed, verdict) = run_blocking(move || {
        service2.store().write(|tx| {
            // A course update committed after the last check of the files (and before this
            // transaction) re-queued only finished downloads, not this running one: if the
            // rendition now lists a file the phone lacks, it is not done but queued again.
            let (state, verdict) = if state == DownloadState::Done && queue::lacks_files(tx, id)? {
                tracing::info!(
                    download = id,
                    "the course changed as the download finished; queued for its new files"
                );
                (DownloadState::Queued, None)
            } else {
                (state, verdict)
            };
            let bytes =
                if state == DownloadState::Done { live_total(tx, id)?.max(bytes_done) } else { bytes_done };
            queue::save_progress(tx, id, bytes)?;
            service2.downloads().meter.flush(tx, now_ms())?;
            // Only a download still marked running is ours to move: pause, cancel and network
            // changes wrote their state before stopping us.
            // A cancelled or evicted download has no row any more: nothing to move.
            let running = tx
                .query_row(
                    "SELECT state = ?2 FROM download WHERE id = ?1",
                    params![id, DownloadState::Running],
                    |r| r.get::<_, bool>(0),
                )
                .optional()?
                .unwrap_or(false);
            let changed = if running { queue::set_state(tx, id, state, failure.as_deref())? } else { None };
            Ok((changed, verdict))
        })
    })
    .await?;
    if let Some(info) = changed {
        service.downloads().events().changed(&info);
    }
    Ok(verdict)
}

fn live_total(tx: &rusqlite::Transaction<'_>, id: i64) -> Result<u64> {
    Ok(tx.query_row("SELECT bytes_total FROM download WHERE id = ?1", [id], |r| r.get(0))?)
}

fn report_progress(service: &DownloadService, lives: &HashMap<i64, Arc<Live>>) {
    for live in lives.values() {
        let now = Instant::now();
        let done = live.bytes_done.load(Ordering::Relaxed);
        let mut sampled = lock(&live.sampled);
        let (at, before, mut rate) = *sampled;
        if done == before {
            continue;
        }
        rate.sample(done - before, now.duration_since(at).as_secs_f64());
        *sampled = (now, done, rate);
        let total = stored_count(live.info.bytes_total).max(done);
        service.downloads().events().send(DownloadEvent {
            kind: DownloadEventKind::Progress,
            download_id: live.info.id,
            lesson_id: live.info.lesson_id.clone(),
            rendition: live.info.rendition,
            state: DownloadState::Running,
            bytes_done: to_i64(done),
            bytes_total: to_i64(total),
            bytes_per_second: to_i64(rate.bytes_per_second()),
            eta_ms: rate.eta_ms(total - done).map(to_i64),
            failure: None,
        });
    }
}

async fn save_progress(service: &DownloadService, lives: &HashMap<i64, Arc<Live>>) -> Result<()> {
    let progress: Vec<(i64, u64)> =
        lives.values().map(|l| (l.info.id, l.bytes_done.load(Ordering::Relaxed))).collect();
    let service = service.clone();
    run_blocking(move || {
        service.store().write(|tx| {
            for (id, bytes) in progress {
                queue::save_progress(tx, id, bytes)?;
            }
            service.downloads().meter.flush(tx, now_ms())
        })
    })
    .await
}

async fn count_remaining(service: &DownloadService) -> Result<u32> {
    let service = service.clone();
    run_blocking(move || service.store().read(queue::count_remaining)).await
}

/// Counts arriving bytes for one download: its progress, the data meter and the budget.
struct Counter<'a> {
    service: &'a DownloadService,
    live: &'a Live,
    shared: &'a Shared,
}

impl Progress for Counter<'_> {
    fn arrived(&mut self, bytes: u64) -> std::result::Result<(), Ending> {
        self.live.bytes_done.fetch_add(bytes, Ordering::Relaxed);
        let network = self.service.downloads().network();
        self.service.downloads().meter.add(network, bytes);
        if network == NetworkType::Metered {
            let left =
                self.shared.budget_left.fetch_sub(i64::try_from(bytes).unwrap_or(i64::MAX), Ordering::SeqCst);
            if left != i64::MAX && left <= i64::try_from(bytes).unwrap_or(i64::MAX) {
                return Err(Ending::OverBudget);
            }
        }
        Ok(())
    }
}

/// Fetches every missing file of one lesson rendition; `Ok` once all are verified in the store.
/// A course update during the download changes the rendition's files: then it plans again and
/// fetches what is new (the files it already has stay).
async fn download_one(
    service: &DownloadService,
    live: &Arc<Live>,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> std::result::Result<(), Ending> {
    for _ in 0..3 {
        if fetch_planned(service, live, stop, shared).await? {
            let (service, lesson_id, rendition) =
                (service.clone(), live.info.lesson_id.clone(), live.info.rendition);
            run_blocking(move || delta::reanchor_reading(&service, &lesson_id, rendition)).await?;
            return Ok(());
        }
        tracing::info!(lesson = %live.info.lesson_id, "the rendition changed during its download; planning again");
    }
    Err(Ending::Failed(Error::network(
        NetworkErrorKind::BadReply,
        format!("{}: the course kept changing during the download", live.info.lesson_id),
    )))
}

/// One pass over the files the rendition lists now. `Ok(true)` when the rendition is complete.
async fn fetch_planned(
    service: &DownloadService,
    live: &Arc<Live>,
    stop: &CancellationToken,
    shared: &Arc<Shared>,
) -> std::result::Result<bool, Ending> {
    let lesson_id = live.info.lesson_id.clone();
    let rendition = live.info.rendition;
    let work = {
        let service = service.clone();
        let lesson_id = lesson_id.clone();
        run_blocking(move || {
            service.store().read(|c| queue::work(c, service.content(), &lesson_id, rendition))
        })
        .await?
    };
    let host = work.plan.host()?.to_owned();
    let needed: u64 = work.bytes_to_fetch(service.content());
    {
        let service = service.clone();
        let course_id = live.info.course_id.clone();
        run_blocking(move || storage::ensure_room(&service, &course_id, needed)).await?;
    }
    let client = service.content_client()?;
    let tuning = service.downloads().tuning();
    let fetch = |blob: BlobEntry, dictionary: Option<Arc<Vec<u8>>>| {
        let client = client.clone();
        let tuning = tuning.clone();
        let base_url = host.clone();
        async move {
            let Some(_guard) = lock_missing(service, &blob.hash, stop).await? else { return Ok(()) };
            let job = BlobJob {
                service,
                http: client.http(),
                url: ContentClient::blob_url(&base_url, &blob.hash)?,
                blob: &blob,
                dictionary: dictionary.as_deref().map(Vec::as_slice),
                tuning: &tuning,
                stop,
            };
            transfer::fetch_blob(job, &mut Counter { service, live, shared }).await
        }
    };

    // The patch from the version on the phone, if the blob has one: `Ok(true)` when the blob is
    // in place, `Ok(false)` to fetch it whole (the failure is recorded).
    let try_patch = |blob: BlobEntry, patch: PatchEntry| {
        let client = client.clone();
        let base_url = host.clone();
        async move {
            let Some(_guard) = lock_missing(service, &blob.hash, stop).await? else { return Ok(true) };
            let mut counter = Counter { service, live, shared };
            delta::fetch_patched(service, client.http(), &base_url, &blob, &patch, stop, &mut counter).await
        }
    };
    // Loaded before the first blob that needs it: up front when a whole text blob is due, only
    // on a fallback when every such blob comes as a patch.
    let mut dictionary: Option<Arc<Vec<u8>>> = None;
    let load_dictionary = || async {
        match work.plan.dictionary.clone() {
            Some(entry) => {
                fetch(entry.clone(), None).await?;
                let service = service.clone();
                Ok::<_, Ending>(Some(Arc::new(
                    run_blocking(move || service.content().read(&entry.hash)).await?,
                )))
            }
            None => Ok(None),
        }
    };
    if work.needs_dictionary {
        dictionary = load_dictionary().await?;
    }
    for item in &work.items {
        match item {
            WorkItem::TextPack(pack) => {
                // One lesson at a time fetches and splits a pack: the split deletes the pack,
                // so a second lesson that found the pack in place after its fetch would read a
                // file just removed. The second one waits here, then finds its members in place.
                let unpacking = service.downloads().blob_lock(&format!("unpack {}", pack.blob.hash));
                let _unpacking = tokio::select! {
                    guard = unpacking.lock_owned() => guard,
                    _ = stop.cancelled() => return Err(Ending::Stopped),
                };
                let missing = pack.members.iter().any(|h| !service.content().contains(h));
                if !missing {
                    continue;
                }
                fetch(pack.blob.clone(), None).await?;
                let service = service.clone();
                let pack = pack.clone();
                run_blocking(move || course::unpack_text_pack(service.store(), service.content(), &pack))
                    .await?;
            }
            WorkItem::Blob(blob) => {
                if let Some(patch) = work.patches.get(&blob.hash)
                    && try_patch(blob.clone(), patch.clone()).await?
                {
                    continue;
                }
                if blob.encoding == Encoding::ZstdDict && dictionary.is_none() {
                    dictionary = load_dictionary().await?;
                }
                let dict = (blob.encoding == Encoding::ZstdDict).then(|| dictionary.clone()).flatten();
                fetch(blob.clone(), dict).await?;
            }
        }
    }
    // Files that were already on disk (from another lesson or course) may lack their record.
    let service = service.clone();
    run_blocking(move || {
        let blobs = service.store().read(|c| course::rendition_blobs(c, &lesson_id, rendition))?;
        service.store().write(|tx| {
            for blob in blobs.iter().filter(|b| service.content().contains(&b.hash)) {
                course::record_blob(tx, blob)?;
            }
            Ok(())
        })?;
        Ok(service
            .store()
            .read(|c| course::rendition_files(c, service.content(), &lesson_id, rendition))?
            .is_some())
    })
    .await
    .map_err(Ending::Failed)
}

/// Takes the lock that keeps one transfer per blob; `None` when the blob is in the store already
/// (another download brought it while we waited).
async fn lock_missing(
    service: &DownloadService,
    hash: &str,
    stop: &CancellationToken,
) -> std::result::Result<Option<tokio::sync::OwnedMutexGuard<()>>, Ending> {
    let lock = service.downloads().blob_lock(hash);
    let guard = tokio::select! {
        guard = lock.lock_owned() => guard,
        _ = stop.cancelled() => return Err(Ending::Stopped),
    };
    Ok((!service.content().contains(hash)).then_some(guard))
}

/// Queues one lesson rendition first in line and runs it to the end: the "download this now"
/// button. Returns its verified files, or why it could not finish.
pub async fn download_now(
    service: &DownloadService,
    lesson_id: &str,
    rendition: RenditionKind,
    cancel: &CancellationToken,
) -> Result<Vec<LocalFile>> {
    let id = {
        let service = service.clone();
        let target = DownloadTarget::Lesson { lesson_id: lesson_id.to_owned() };
        run_blocking(move || {
            let info = service.store().write(|tx| {
                // A lesson target queues exactly one download (or fails with NotFound).
                let id = queue::enqueue(tx, service.content(), &target, rendition, i32::MAX)?
                    .into_iter()
                    .next()
                    .ok_or_else(|| Error::Internal("queueing a lesson queued nothing".into()))?;
                queue::info(tx, id)
            })?;
            service.downloads().events().changed(&info);
            Ok(info.id)
        })
        .await?
    };
    let mut error = None;
    if !is_done(service, id).await? {
        let busy = service.downloads().run_lock.try_lock().is_err();
        if busy {
            // A run is going (WorkManager, another screen): it takes this download next, first
            // in line; wait for it to settle rather than for the whole run to end.
            wait_until_settled(service, id, cancel).await?;
        } else {
            let far = Instant::now() + Duration::from_secs(365 * 86_400);
            let (_, mut errors) = run(service, far, Some(id), cancel).await?;
            error = errors.remove(&id);
        }
    }
    let service = service.clone();
    let lesson_id = lesson_id.to_owned();
    run_blocking(move || {
        let info = service.store().read(|c| queue::info(c, id))?;
        match info.state {
            DownloadState::Done => service
                .store()
                .read(|c| course::rendition_files(c, service.content(), &lesson_id, rendition))?
                .ok_or_else(|| Error::Internal("downloaded files went missing".into())),
            DownloadState::WaitingForNetwork => Err(Error::network(
                NetworkErrorKind::NotAllowed,
                "no network that the download settings allow",
            )),
            DownloadState::WaitingForBudget => Err(Error::network(
                NetworkErrorKind::BudgetExhausted,
                "the monthly cellular data budget is used up",
            )),
            _ => Err(error.unwrap_or_else(|| {
                let reason = info.failure.unwrap_or_else(|| "the download did not finish".into());
                Error::network(NetworkErrorKind::Interrupted, reason)
            })),
        }
    })
    .await
}

/// Waits until download `id` is no longer queued or running (the active run finished it, failed
/// it, or a policy or the learner holds it).
async fn wait_until_settled(service: &DownloadService, id: i64, cancel: &CancellationToken) -> Result<()> {
    let mut events = service.downloads().events().subscribe();
    service.downloads().wake();
    loop {
        if cancel.is_cancelled() {
            return Ok(());
        }
        let state = {
            let service = service.clone();
            run_blocking(move || service.store().read(|c| queue::info(c, id))).await?.state
        };
        if !matches!(state, DownloadState::Queued | DownloadState::Running) {
            return Ok(());
        }
        // Re-check on any event for it, and now and then in case the run ended without one.
        // Elapsing is the "now and then": the state is read again either way.
        let _elapsed = tokio::time::timeout(Duration::from_secs(1), async {
            loop {
                let event = events.recv().await;
                if event.download_id == id && event.kind != DownloadEventKind::Progress {
                    break;
                }
            }
        })
        .await;
        if service.downloads().run_lock.try_lock().is_ok() && !is_done(service, id).await? {
            // The run ended before reaching it (deadline, stop): finish it ourselves.
            let far = Instant::now() + Duration::from_secs(365 * 86_400);
            run(service, far, Some(id), cancel).await?;
            return Ok(());
        }
    }
}

async fn is_done(service: &DownloadService, id: i64) -> Result<bool> {
    let service = service.clone();
    run_blocking(move || Ok(service.store().read(|c| queue::info(c, id))?.state == DownloadState::Done)).await
}
