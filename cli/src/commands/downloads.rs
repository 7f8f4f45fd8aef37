//! `download`, `downloads`, `pause`, `resume`, `cancel`: the download queue from a shell.
//!
//! `download` queues its target and runs the queue until it is done, blocked or out of time, with
//! a progress bar on a terminal. Kill it at any moment: running it again resumes every file from
//! the bytes on disk (the crash tests do exactly that).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use satchel_core::Satchel;
use satchel_core::downloads::{DownloadEvent, DownloadEventKind, NetworkType, RunOutcome};
use satchel_core::ffi::DownloadListener;
use satchel_core::runtime::runtime;
use serde_json::json;

use super::Out;
use crate::cli::DownloadArgs;
use crate::exit::unfinished;
use crate::terminal::safe;
use crate::{format, json};

/// Keeps a progress bar at the sum of every download's latest byte count.
pub struct BytesBar {
    bar: ProgressBar,
    done: Mutex<HashMap<i64, i64>>,
}

impl BytesBar {
    /// A byte bar of `total` bytes with `message` before it (hidden when stderr is not a
    /// terminal, as indicatif does by default).
    pub fn new(total: i64, message: &str, done: HashMap<i64, i64>) -> Arc<BytesBar> {
        let bar = ProgressBar::new(format::bar_units(total));
        bar.set_style(
            ProgressStyle::with_template(
                "{msg:>12} {bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.set_message(message.to_owned());
        bar.set_position(format::bar_units(done.values().sum::<i64>()));
        Arc::new(BytesBar { bar, done: Mutex::new(done) })
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl DownloadListener for BytesBar {
    fn on_event(&self, event: DownloadEvent) {
        if event.kind == DownloadEventKind::Removed {
            return;
        }
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        done.insert(event.download_id, event.bytes_done);
        self.bar.set_position(format::bar_units(done.values().sum::<i64>()));
    }
}

pub fn download(satchel: &Arc<Satchel>, out: Out, args: DownloadArgs) -> Result<()> {
    let rt = runtime();
    satchel.set_network(if args.metered { NetworkType::Metered } else { NetworkType::Unmetered });
    let target = args.target.target();
    let estimate = rt.block_on(satchel.download_estimate(target.clone(), args.rendition))?;
    eprintln!(
        "{} lessons in {}: {} to fetch ({} already here)",
        estimate.lessons,
        args.rendition.as_str(),
        format::bytes(estimate.bytes_to_fetch),
        estimate.lessons_already_downloaded
    );
    let queued = rt.block_on(satchel.enqueue_download(target, args.rendition, 0))?;
    let bar = BytesBar::new(
        queued.iter().map(|d| d.bytes_total).sum(),
        "downloading",
        queued.iter().map(|d| (d.id, d.bytes_done)).collect(),
    );
    let subscription = satchel.subscribe_downloads(bar.clone());
    let summary = rt.block_on(satchel.run_downloads(args.max_seconds.saturating_mul(1000)));
    subscription.cancel();
    bar.finish();
    let summary = summary?;
    // Give the last events a moment, then report from the database (the source of truth).
    std::thread::sleep(Duration::from_millis(20));
    let ids: Vec<i64> = queued.iter().map(|d| d.id).collect();
    let downloads: Vec<_> =
        rt.block_on(satchel.list_downloads(None))?.into_iter().filter(|d| ids.contains(&d.id)).collect();
    let outcome = format!("{:?}", summary.outcome);
    out.show(
        || {
            json!({
                "outcome": run_outcome(summary.outcome), "completed": summary.completed, "failed": summary.failed,
                "remaining": summary.remaining,
                "downloads": downloads.iter().map(json::download).collect::<Vec<_>>(),
            })
        },
        || {
            let mut text = String::new();
            for d in &downloads {
                let failure = d.failure.as_deref().map(|f| format!(" ({})", safe(f))).unwrap_or_default();
                text += &format!("{:<40} {:?} {:?}{failure}\n", safe(&d.lesson_id), d.rendition, d.state);
            }
            text + &format!(
                "{outcome}: {} completed, {} failed, {} remaining\n",
                summary.completed, summary.failed, summary.remaining
            )
        },
    );
    match summary.outcome {
        RunOutcome::Finished if summary.failed == 0 => Ok(()),
        other => Err(unfinished(format!(
            "downloads did not all finish ({other:?}, {} failed); run the command again to resume",
            summary.failed
        ))),
    }
}

/// A run's outcome as the JSON word.
fn run_outcome(outcome: RunOutcome) -> &'static str {
    match outcome {
        RunOutcome::Finished => "finished",
        RunOutcome::Blocked => "blocked",
        RunOutcome::DeadlineReached => "deadline_reached",
        RunOutcome::Stopped => "stopped",
    }
}

/// `satchel downloads`: the queue, one line per lesson rendition.
pub fn list(satchel: &Satchel, out: Out, course: Option<String>) -> Result<()> {
    let downloads = runtime().block_on(satchel.list_downloads(course))?;
    out.show(
        || downloads.iter().map(json::download).collect(),
        || {
            downloads
                .iter()
                .map(|d| {
                    format!(
                        "{:>4} {:<40} {:<5} {:<18} {}/{}\n",
                        d.id,
                        safe(&d.lesson_id),
                        d.rendition.as_str(),
                        d.state.as_str(),
                        format::bytes(d.bytes_done),
                        format::bytes(d.bytes_total)
                    )
                })
                .collect()
        },
    );
    Ok(())
}

pub fn pause(satchel: &Satchel, out: Out, id: i64) -> Result<()> {
    runtime().block_on(satchel.pause_download(id))?;
    changed(out, id, "paused", "paused");
    Ok(())
}

pub fn resume(satchel: &Satchel, out: Out, id: i64) -> Result<()> {
    runtime().block_on(satchel.resume_download(id))?;
    changed(out, id, "resumed", "queued again (satchel download runs the queue)");
    Ok(())
}

pub fn cancel(satchel: &Satchel, out: Out, id: i64) -> Result<()> {
    runtime().block_on(satchel.cancel_download(id))?;
    changed(out, id, "cancelled", "cancelled");
    Ok(())
}

/// What `pause`, `resume` and `cancel` did to a download.
fn changed(out: Out, id: i64, action: &str, text: &str) {
    out.show(|| json!({ "download_id": id, "action": action }), || format!("download {id} {text}\n"));
}
