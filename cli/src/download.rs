//! `satchel fetch`, `satchel download` and `satchel downloads`: the download queue from a shell.
//!
//! `download` queues its target and runs the queue until it is done, blocked or out of time, with
//! a progress bar on a terminal. Kill it at any moment: running it again resumes every file from
//! the bytes on disk (the crash tests do exactly that).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use satchel_core::Satchel;
use satchel_core::catalog::RenditionKind;
use satchel_core::downloads::{DownloadEvent, DownloadEventKind, DownloadTarget, NetworkType, RunOutcome};
use satchel_core::ffi::DownloadListener;
use satchel_core::runtime::runtime;

use crate::format;
use crate::terminal::safe;

/// What `satchel download` was asked for.
pub struct Request {
    pub target: DownloadTarget,
    pub rendition: RenditionKind,
    pub metered: bool,
    pub max_seconds: u64,
}

/// Keeps the progress bar at the sum of every download's latest byte count.
struct Bar {
    bar: ProgressBar,
    done: Mutex<std::collections::HashMap<i64, u64>>,
}

impl DownloadListener for Bar {
    fn on_event(&self, event: DownloadEvent) {
        if event.kind == DownloadEventKind::Removed {
            return;
        }
        let mut done = self.done.lock().unwrap_or_else(|p| p.into_inner());
        done.insert(event.download_id, event.bytes_done);
        self.bar.set_position(done.values().sum());
    }
}

pub fn run(satchel: &Arc<Satchel>, request: Request) -> Result<()> {
    let rt = runtime();
    satchel.set_network(if request.metered { NetworkType::Metered } else { NetworkType::Unmetered });
    let estimate = rt.block_on(satchel.download_estimate(request.target.clone(), request.rendition))?;
    eprintln!(
        "{} lessons in {:?}: {} to fetch ({} already here)",
        estimate.lessons,
        request.rendition,
        format::bytes(estimate.bytes_to_fetch),
        estimate.lessons_already_downloaded
    );
    let queued = rt.block_on(satchel.enqueue_download(request.target, request.rendition, 0))?;
    let bar = ProgressBar::new(queued.iter().map(|d| d.bytes_total).sum());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let listener = Arc::new(Bar {
        bar: bar.clone(),
        done: Mutex::new(queued.iter().map(|d| (d.id, d.bytes_done)).collect()),
    });
    let _subscription = satchel.subscribe_downloads(listener);
    let summary = rt.block_on(satchel.run_downloads(request.max_seconds.saturating_mul(1000)))?;
    bar.finish_and_clear();
    // Give the last events a moment, then report from the database (the source of truth).
    std::thread::sleep(Duration::from_millis(20));
    let ids: Vec<i64> = queued.iter().map(|d| d.id).collect();
    let downloads = rt.block_on(satchel.list_downloads(None))?;
    for d in downloads.iter().filter(|d| ids.contains(&d.id)) {
        let failure = d.failure.as_deref().map(|f| format!(" ({})", safe(f))).unwrap_or_default();
        println!("{:<40} {:?} {:?}{failure}", safe(&d.lesson_id), d.rendition, d.state);
    }
    println!(
        "{:?}: {} completed, {} failed, {} remaining",
        summary.outcome, summary.completed, summary.failed, summary.remaining
    );
    match summary.outcome {
        RunOutcome::Finished if summary.failed == 0 => Ok(()),
        other => bail!("downloads did not all finish ({other:?})"),
    }
}

/// `satchel downloads`: the queue, one line per lesson rendition.
pub fn list(satchel: &Satchel) -> Result<()> {
    for d in runtime().block_on(satchel.list_downloads(None))? {
        println!(
            "{:>4} {:<40} {:<5} {:<16} {}/{}",
            d.id,
            safe(&d.lesson_id),
            d.rendition.as_str(),
            format!("{:?}", d.state),
            format::bytes(d.bytes_done),
            format::bytes(d.bytes_total)
        );
    }
    Ok(())
}
