//! One sync: register if needed, push the outbox in batches, pull pages until there are no
//! more — within a deadline, stoppable, inside the learner's network policy and data budget.
//!
//! Every state change lands in one SQLite transaction with what it describes (a batch frozen
//! with its sequence numbers; acknowledged ops removed; a pulled page applied with the cursor
//! after it), so a kill at any point resumes from exactly there: an op once frozen is sent again
//! identically until acknowledged, and the server's per-device sequence makes the resend a no-op.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use satchel_protocol::messages::{
    ErrorCode, MAX_OPS_PER_PUSH, PROTOCOL_VERSION, PullRequest, RegisterRequest,
};
use tokio_util::sync::CancellationToken;

use super::status::{StatusHub, SyncEvent, SyncStatus};
use super::transport::Transport;
use super::{SyncError, SyncTuning, TokenProvider, apply, push, rejected, reset, state};
use crate::api_int::to_i32;
use crate::downloads::policy::{self, Allowance, NetworkType};
use crate::downloads::{Downloads, retry};
use crate::error::{Error, NetworkErrorKind, Result};
use crate::outbox::{self, Priority};
use crate::runtime::run_blocking;
use crate::store::Store;
use crate::time::now_ms;

/// Why a sync returned.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SyncOutcome {
    /// Everything allowed was pushed and everything new pulled.
    Finished,
    /// Offline, or the network or budget the learner allows does not cover what is left.
    Blocked,
    /// The deadline came first; the rest goes next time.
    DeadlineReached,
    /// `stop_sync` was called.
    Stopped,
    /// The server or network kept failing, or refused for good (signed out, app too old).
    /// Retried on the next trigger; the outbox is intact. `kind` and `http_status` say what to
    /// do (e.g. `SignInRequired`); `reason` is for logs.
    Failed { kind: NetworkErrorKind, http_status: Option<i32>, reason: String },
}

impl SyncOutcome {
    fn failed(error: &SyncError) -> Self {
        SyncOutcome::Failed {
            kind: error.kind(),
            http_status: error.http_status().map(i32::from),
            reason: error.to_string(),
        }
    }
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    pub outcome: SyncOutcome,
    /// Operations the server acknowledged.
    pub pushed: i32,
    /// Records pulled and applied.
    pub pulled: i32,
    /// Operations the server refused, and pulled records this device could not accept (both
    /// now in the rejected list).
    pub rejected: i32,
    /// Local changes still waiting to be sent.
    pub remaining: i32,
}

/// What one sync needs. Cheap to build; every part is shared.
pub struct Engine<T: Transport> {
    pub store: Arc<Store>,
    pub device_id: Arc<str>,
    pub device_name: String,
    pub transport: T,
    pub tokens: Arc<dyn TokenProvider>,
    pub downloads: Arc<Downloads>,
    pub tuning: SyncTuning,
    pub stop: CancellationToken,
    pub status: Arc<StatusHub>,
}

/// Counts of one sync so far.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Tally {
    pub pushed: u32,
    pub pulled: u32,
    pub rejected: u32,
}

/// How a pass ended without an error.
enum Pass {
    Done,
    /// Held back by the network policy or budget (what is left waits for a better network).
    Blocked,
}

/// Why waiting ended early.
enum Interrupt {
    Deadline,
    Stopped,
}

impl<T: Transport> Engine<T> {
    /// Runs one sync until done, blocked, failed, stopped or `deadline`.
    pub async fn run(&self, deadline: Instant) -> Result<SyncReport> {
        let mut tally = Tally::default();
        let mut failures = 0u32;
        let mut resets = 0u32;
        let mut token: Option<String> = None;
        let mut refreshed = false;
        let outcome = loop {
            if self.stop.is_cancelled() {
                break SyncOutcome::Stopped;
            }
            if Instant::now() >= deadline {
                break SyncOutcome::DeadlineReached;
            }
            if self.allowance().await?.1 == Allowance::NoNetwork {
                break SyncOutcome::Blocked;
            }
            let current = match &token {
                Some(t) => t.clone(),
                None => match self.ask_token(false).await? {
                    Some(t) => {
                        token = Some(t.clone());
                        t
                    }
                    None => break SyncOutcome::failed(&SyncError::NoToken),
                },
            };
            let result = tokio::select! {
                result = self.pass(&current, &mut tally, deadline) => result,
                _ = self.stop.cancelled() => break SyncOutcome::Stopped,
                _ = tokio::time::sleep_until(deadline.into()) => break SyncOutcome::DeadlineReached,
            };
            let error = match result {
                Ok(Pass::Done) => break SyncOutcome::Finished,
                Ok(Pass::Blocked) => break SyncOutcome::Blocked,
                Err(Error::Sync(error)) => error,
                Err(other) => return Err(other),
            };
            tracing::info!(%error, "sync attempt failed");
            if error.is_unauthorized() {
                if refreshed {
                    break SyncOutcome::failed(&error);
                }
                refreshed = true;
                token = self.ask_token(true).await?;
                if token.is_none() {
                    break SyncOutcome::failed(&SyncError::TokenRefused(error.to_string()));
                }
                continue;
            }
            match error.code() {
                Some(ErrorCode::ResetRequired) if resets < 2 => {
                    resets += 1;
                    self.reset().await?;
                    continue;
                }
                Some(ErrorCode::SeqGap) if resets < 2 => {
                    resets += 1;
                    let expected = match &error {
                        SyncError::Server { expected_seq, .. } => *expected_seq,
                        _ => None,
                    };
                    self.resequence(expected).await?;
                    continue;
                }
                Some(ErrorCode::UnknownDevice) if resets < 2 => {
                    resets += 1;
                    self.write(state::forget_registration).await?;
                    continue;
                }
                _ => {}
            }
            if !error.is_transient() {
                break SyncOutcome::failed(&error);
            }
            failures += 1;
            if failures >= self.tuning.max_attempts {
                break SyncOutcome::failed(&error);
            }
            self.publish(SyncStatus::Error { kind: error.kind(), reason: error.to_string() }).await?;
            let wait = error.retry_after().unwrap_or_else(|| {
                retry::backoff(failures, self.tuning.backoff_base, self.tuning.backoff_cap)
            });
            match self.wait(wait, deadline).await {
                Ok(()) => {}
                Err(Interrupt::Deadline) => break SyncOutcome::DeadlineReached,
                Err(Interrupt::Stopped) => break SyncOutcome::Stopped,
            }
        };
        self.finish(outcome, tally).await
    }

    /// Register, push everything allowed, pull everything new.
    async fn pass(&self, token: &str, tally: &mut Tally, deadline: Instant) -> Result<Pass> {
        self.ensure_registered(token).await?;
        let mut held_back = false;
        loop {
            let (network, allowance) = self.allowance().await?;
            let max_priority = match network {
                NetworkType::Metered => Priority::Normal,
                _ => Priority::Bulk,
            };
            let budget = match allowance {
                Allowance::NoNetwork => return Ok(Pass::Blocked),
                Allowance::Budget(left) => Some(left),
                Allowance::Unlimited => None,
            };
            let batch = self.tuning.push_batch.clamp(1, MAX_OPS_PER_PUSH as u32);
            let bytes = AtomicU64::new(0);
            let round = push::round(self, token, batch, max_priority, budget, network, &bytes).await;
            self.count_bytes(network, &bytes);
            match round? {
                push::Round::Sent { acknowledged, rejected } => {
                    tally.pushed += acknowledged;
                    tally.rejected += rejected;
                    self.progress(tally).await?;
                }
                push::Round::Empty => break,
                push::Round::OverBudget => {
                    held_back = true;
                    break;
                }
            }
            if Instant::now() >= deadline {
                return Ok(Pass::Done);
            }
        }
        if network_holds_back_bulk(self).await? {
            held_back = true;
        }
        loop {
            let (network, allowance) = self.allowance().await?;
            let page = match allowance {
                Allowance::NoNetwork => return Ok(Pass::Blocked),
                Allowance::Budget(left) if left < 4096 => return Ok(Pass::Blocked),
                Allowance::Budget(left) => {
                    self.tuning.pull_page_bytes.min(u32::try_from(left / 2).unwrap_or(u32::MAX))
                }
                Allowance::Unlimited => self.tuning.pull_page_bytes,
            };
            let bytes = AtomicU64::new(0);
            let more = self.pull_page(token, page.max(1024), tally, network, &bytes).await;
            self.count_bytes(network, &bytes);
            if !more? {
                break;
            }
            self.progress(tally).await?;
        }
        if held_back {
            return Ok(Pass::Blocked);
        }
        self.write(|tx| state::set_last_synced(tx, crate::store::clock::now_ms(tx)?)).await?;
        Ok(Pass::Done)
    }

    async fn ensure_registered(&self, token: &str) -> Result<()> {
        let current = self.read(state::load).await?;
        if current.registered_device.as_deref() == Some(&*self.device_id) {
            return Ok(());
        }
        let request = RegisterRequest::new(&self.device_id, &self.device_name);
        let bytes = AtomicU64::new(0);
        let response = self.transport.register(token, &request, &bytes).await;
        self.count_bytes(self.downloads.network(), &bytes);
        let response = response?;
        if response.protocol != PROTOCOL_VERSION {
            return Err(SyncError::Malformed(format!("protocol {} in the reply", response.protocol)).into());
        }
        let device = Arc::clone(&self.device_id);
        self.write(move |tx| reset::after_register(tx, &device, &current, &response)).await
    }

    /// Pulls one page and applies it with the cursor after it, in one transaction. Returns
    /// whether more pages follow.
    async fn pull_page(
        &self,
        token: &str,
        max_bytes: u32,
        tally: &mut Tally,
        network: NetworkType,
        bytes: &AtomicU64,
    ) -> Result<bool> {
        let current = self.read(state::load).await?;
        let request = PullRequest {
            protocol: PROTOCOL_VERSION,
            device_id: self.device_id.to_string(),
            epoch: current.epoch.clone(),
            cursor: current.cursor,
            max_bytes,
        };
        let response = self.transport.pull(token, &request, bytes).await;
        // On the meter before the transaction below flushes it.
        self.count_bytes(network, bytes);
        let response = response?;
        apply::check_page(&request, &response)?;
        let more = response.more;
        let count = response.records.len() as u32;
        let device = Arc::clone(&self.device_id);
        let downloads = Arc::clone(&self.downloads);
        let set_aside = self
            .write(move |tx| {
                let set_aside = apply::apply_page(tx, &device, response)?;
                downloads.meter().flush(tx, now_ms())?;
                Ok(set_aside)
            })
            .await?;
        tally.pulled += count - set_aside;
        tally.rejected += set_aside;
        tracing::debug!(records = count, set_aside, more, "pulled a page");
        Ok(more)
    }

    /// The reset handshake (see `reset`).
    async fn reset(&self) -> Result<()> {
        self.write(reset::prepare_reset).await
    }

    async fn resequence(&self, expected: Option<u64>) -> Result<()> {
        let device = Arc::clone(&self.device_id);
        self.write(move |tx| reset::resequence(tx, &device, expected)).await
    }

    async fn finish(&self, outcome: SyncOutcome, tally: Tally) -> Result<SyncReport> {
        // Bytes of the last exchange (or a failed one) are still in memory: store them, so the
        // data usage the app shows after a sync is exact.
        let downloads = Arc::clone(&self.downloads);
        self.write(move |tx| downloads.meter().flush(tx, now_ms())).await?;
        let (remaining, _) = self.read(outbox::counts).await?;
        let status = match &outcome {
            SyncOutcome::Finished | SyncOutcome::DeadlineReached | SyncOutcome::Stopped => SyncStatus::Idle,
            SyncOutcome::Blocked => SyncStatus::Offline,
            SyncOutcome::Failed { kind, reason, .. } => {
                SyncStatus::Error { kind: *kind, reason: reason.clone() }
            }
        };
        self.publish(status).await?;
        tracing::info!(
            ?outcome,
            pushed = tally.pushed,
            pulled = tally.pulled,
            rejected = tally.rejected,
            remaining,
            "sync ended"
        );
        Ok(SyncReport {
            outcome,
            pushed: to_i32(tally.pushed),
            pulled: to_i32(tally.pulled),
            rejected: to_i32(tally.rejected),
            remaining: to_i32(remaining),
        })
    }

    async fn progress(&self, tally: &Tally) -> Result<()> {
        let (remaining, _) = self.read(outbox::counts).await?;
        let (pushed, pulled, remaining) = (to_i32(tally.pushed), to_i32(tally.pulled), to_i32(remaining));
        self.publish(SyncStatus::Syncing { pushed, pulled, remaining }).await
    }

    pub(crate) async fn publish(&self, status: SyncStatus) -> Result<()> {
        let (last_synced_at_ms, rejected_ops) =
            self.read(|c| Ok((state::load(c)?.last_synced_at_ms, rejected::count(c)?))).await?;
        let rejected_ops = to_i32(rejected_ops);
        self.status.publish(SyncEvent { status, last_synced_at_ms, rejected_ops });
        Ok(())
    }

    /// The network now and what the learner's settings and budget allow on it (downloads'
    /// rules exactly, counting what downloads and sync already used this month).
    async fn allowance(&self) -> Result<(NetworkType, Allowance)> {
        let network = self.downloads.network();
        let pending = self.downloads.meter().pending_metered();
        let (settings, used) =
            self.read(|c| Ok((policy::settings(c)?, policy::metered_used(c, now_ms())?))).await?;
        Ok((network, policy::allowance(&settings, network, used + pending)))
    }

    /// Moves the bytes `bytes` counted onto the data meter (taking them, so counting twice adds
    /// nothing twice).
    pub(crate) fn count_bytes(&self, network: NetworkType, bytes: &AtomicU64) {
        self.downloads.meter().add(network, bytes.swap(0, Ordering::Relaxed));
    }

    async fn ask_token(&self, refresh: bool) -> Result<Option<String>> {
        let tokens = Arc::clone(&self.tokens);
        // A foreign call may block (a keychain, a network refresh): off the async workers.
        run_blocking(move || Ok(if refresh { tokens.refresh() } else { tokens.token() }))
            .await
            .map(|t| t.filter(|t| !t.is_empty()))
    }

    async fn wait(&self, wait: Duration, deadline: Instant) -> Result<(), Interrupt> {
        let until = (Instant::now() + wait).min(deadline);
        tokio::select! {
            _ = tokio::time::sleep_until(until.into()) => {
                if Instant::now() >= deadline { Err(Interrupt::Deadline) } else { Ok(()) }
            }
            _ = self.stop.cancelled() => Err(Interrupt::Stopped),
        }
    }

    pub(crate) async fn read<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&rusqlite::Connection) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        run_blocking(move || store.read(f)).await
    }

    pub(crate) async fn write<R, F>(&self, f: F) -> Result<R>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<R> + Send + 'static,
        R: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        run_blocking(move || store.write(f)).await
    }
}

/// On a metered network, bulk progress waits for Wi-Fi: is any waiting?
async fn network_holds_back_bulk<T: Transport>(engine: &Engine<T>) -> Result<bool> {
    if engine.downloads.network() != NetworkType::Metered {
        return Ok(false);
    }
    let (_, unfrozen) = engine.read(outbox::counts).await?;
    Ok(unfrozen > 0)
}
