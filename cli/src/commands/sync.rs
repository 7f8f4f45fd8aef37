//! `sync` and `status`: the learner's changes to and from the sync server.
//!
//! The token comes from `--token` or `SATCHEL_SYNC_TOKEN` and lives in this process's memory
//! only, as the core requires of every shell; the CLI has no refresh, so an expired token fails
//! the sync with a network error saying so.

use std::sync::{Arc, Mutex};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use satchel_core::Satchel;
use satchel_core::downloads::NetworkType;
use satchel_core::ffi::SyncListener;
use satchel_core::runtime::runtime;
use satchel_core::sync::{SyncEvent, SyncOutcome, SyncReport, SyncStatus, TokenProvider, state};
use serde_json::json;

use super::Out;
use crate::cli::SyncArgs;
use crate::exit::{CliError, code, unfinished};
use crate::terminal::safe;
use crate::{format, json};

/// The one token the CLI was given.
struct FixedToken(String);

impl TokenProvider for FixedToken {
    fn token(&self) -> Option<String> {
        Some(self.0.clone())
    }

    fn refresh(&self) -> Option<String> {
        None
    }
}

/// A bar of operations sent and received, fed by the core's sync status events; it also keeps
/// the reason of the latest failed attempt (the core retries, then reports only the outcome).
pub struct SyncBar {
    bar: ProgressBar,
    last_error: Mutex<Option<String>>,
}

impl SyncBar {
    pub fn new(pending: i32) -> Arc<SyncBar> {
        let bar = ProgressBar::new(format::bar_units(pending));
        bar.set_style(
            ProgressStyle::with_template("{msg:>12} {bar:40} {pos}/{len} changes")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message("syncing");
        Arc::new(SyncBar { bar, last_error: Mutex::new(None) })
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl SyncListener for SyncBar {
    fn on_event(&self, event: SyncEvent) {
        let mut last_error = self.last_error.lock().unwrap_or_else(|p| p.into_inner());
        match event.status {
            SyncStatus::Syncing { pushed, remaining, .. } => {
                *last_error = None;
                self.bar.set_length(format::bar_units(pushed) + format::bar_units(remaining));
                self.bar.set_position(format::bar_units(pushed));
            }
            SyncStatus::Error { reason, .. } => *last_error = Some(reason),
            SyncStatus::Idle | SyncStatus::Offline => {}
        }
    }
}

/// What one sync did, and why its last failed attempt failed (if one did).
pub struct SyncRun {
    pub report: SyncReport,
    pub last_error: Option<String>,
}

/// Configures sync on `satchel` and runs one sync of at most `max_ms`, with a progress bar.
pub fn sync_once(
    satchel: &Satchel,
    server: &str,
    token: String,
    metered: bool,
    batch: Option<u32>,
    max_ms: i64,
) -> Result<SyncRun> {
    let rt = runtime();
    let sync = satchel.account().sync();
    let mut tuning = sync.tuning();
    // One sync on demand: no periodic timer in a short-lived process.
    tuning.period = None;
    if let Some(batch) = batch {
        tuning.push_batch = batch;
    }
    sync.set_tuning(tuning);
    satchel.set_network(if metered { NetworkType::Metered } else { NetworkType::Unmetered });
    satchel.configure_sync(server.to_owned(), Arc::new(FixedToken(token)))?;
    let pending = rt.block_on(satchel.pending_changes())?;
    let bar = SyncBar::new(pending);
    let subscription = satchel.subscribe_sync(bar.clone());
    let report = rt.block_on(satchel.sync(max_ms));
    subscription.cancel();
    bar.finish();
    let last_error = bar.last_error.lock().unwrap_or_else(|p| p.into_inner()).take();
    Ok(SyncRun { report: report?, last_error })
}

pub fn sync(satchel: &Satchel, out: Out, args: SyncArgs) -> Result<()> {
    let SyncRun { report, last_error } = sync_once(
        satchel,
        &args.server,
        args.token,
        args.metered,
        args.batch,
        args.max_seconds.saturating_mul(1000),
    )?;
    out.show(
        || json::sync_report(&report),
        || {
            let (outcome, reason) = format::sync_outcome(&report.outcome);
            let reason = reason.map(|r| format!(" ({})", safe(r))).unwrap_or_default();
            format!(
                "{outcome}{reason}: {} pushed, {} pulled, {} refused by the server, {} waiting\n",
                report.pushed, report.pulled, report.rejected, report.remaining
            )
        },
    );
    // Out of time while retrying a failing server: say why, as a network failure.
    match &report.outcome {
        SyncOutcome::Finished if report.remaining == 0 => Ok(()),
        SyncOutcome::DeadlineReached | SyncOutcome::Stopped if last_error.is_some() => Err(CliError {
            code: code::NETWORK,
            message: format!("sync failed: {} (gave up at the deadline)", last_error.unwrap_or_default()),
        }
        .into()),
        SyncOutcome::Failed { reason, .. } => {
            Err(CliError { code: code::NETWORK, message: format!("sync failed: {reason}") }.into())
        }
        other => Err(unfinished(format!(
            "sync did not finish ({}), {} changes waiting; run it again",
            format::sync_outcome(other).0,
            report.remaining
        ))),
    }
}

pub fn status(satchel: &Satchel, out: Out) -> Result<()> {
    let rt = runtime();
    let mut event = satchel.sync_status();
    // A fresh process has not synced yet: the last time comes from the database.
    let stored = satchel.account().store().read(state::load).map_err(satchel_core::SatchelError::from)?;
    event.last_synced_at_ms = event.last_synced_at_ms.or(stored.last_synced_at_ms);
    let pending = rt.block_on(satchel.pending_changes())?;
    let rejected = rt.block_on(satchel.rejected_sync_ops())?;
    event.rejected_ops = i32::try_from(rejected.len()).unwrap_or(i32::MAX);
    out.show(
        || {
            json!({
                "sync": json::sync_event(&event), "pending_changes": pending,
                "rejected": rejected.iter().map(json::rejected).collect::<Vec<_>>(),
            })
        },
        || {
            let last = event.last_synced_at_ms.map_or("never".to_owned(), format::utc);
            let mut text = format!("last synced: {last}\nwaiting to sync: {pending} changes\n");
            text += &format!("refused by the server: {}\n", rejected.len());
            for op in &rejected {
                text += &format!(
                    "  {} {} {}: {} ({})\n",
                    safe(&op.op_id),
                    safe(&op.entity_kind),
                    safe(&op.entity_id),
                    safe(&op.reason),
                    safe(&op.code)
                );
            }
            text
        },
    );
    Ok(())
}
