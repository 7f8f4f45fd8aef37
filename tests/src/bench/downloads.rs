//! Download benchmarks, each beside a peer in the same run:
//! - `resume_cut_256k_bytes`: bytes received / file size when every connection is cut after
//!   256 KiB, beside aria2c through the same proxy;
//! - `loopback_1g_throughput` and `download_1g_peak_rss_mb`: a 1 GiB file from the reference
//!   server on loopback by `satchel download` (a separate process, so its peak RSS is its own),
//!   beside curl;
//! - `slow_link_lite_lecture_seconds`: the short sample lecture in lite over a 64 kbit/s link
//!   with 300 ms round trips, beside its full rendition over the same link (extrapolated from
//!   30 s of it: the full video would take a quarter of an hour).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use satchel_core::Satchel;
use satchel_core::catalog::RenditionKind;
use satchel_core::downloads::DownloadTarget;
use satchel_core::runtime::runtime;
use sha2::Digest;

use super::report::{Goal, Row};
use crate::fault_proxy::{FaultProxy, Faults};
use crate::sample::{packed_sample, target_dir, test_public_key};
use crate::{ServerProcess, workspace_bin};

const LONG_LECTURE: &str = "web-basics.what-happens";
const SHORT_LECTURE: &str = "web-basics.dns";

/// A fresh account on the bench's publisher key, on an unmetered network.
pub(crate) fn open(dir: &Path) -> Result<Arc<Satchel>> {
    crate::open_account(dir, vec![test_public_key()])
}

/// `resume_cut_256k_bytes`: the long lecture's full video, every connection cut at 256 KiB.
pub fn resume_cut() -> Result<Vec<Row>> {
    let packed = packed_sample()?;
    let server = ServerProcess::serve(&packed.dir)?;
    let proxy = FaultProxy::start(server.addr, Faults::default())?;
    let dir = tempfile::tempdir()?;
    let satchel = open(dir.path())?;
    let rt = runtime();
    rt.block_on(satchel.fetch_course(proxy.base_url(), "web-basics".into())).context("fetch_course")?;
    let target = DownloadTarget::Lesson { lesson_id: LONG_LECTURE.into() };
    let size = rt.block_on(satchel.download_estimate(target.clone(), RenditionKind::Full))?.bytes_to_fetch;
    proxy.set_faults(Faults { cut_after: Some(256 * 1024), ..Faults::default() });
    proxy.reset_counters();
    rt.block_on(satchel.enqueue_download(target, RenditionKind::Full, 0))?;
    let summary = rt.block_on(satchel.run_downloads(600_000)).context("run_downloads")?;
    if summary.completed != 1 {
        bail!("the cut download did not finish: {summary:?}");
    }
    let ours = proxy.reply_bytes() as f64 / size as f64;
    let connections = proxy.connections();

    // aria2c, one connection at a time, retrying forever, resuming (-c) into the same file.
    let video = rt
        .block_on(satchel.playback_source(LONG_LECTURE.into(), RenditionKind::Full))
        .context("playback_source")?
        .files
        .into_iter()
        .find(|f| f.role == "video")
        .context("no video")?;
    let video_size = u64::try_from(video.size)?;
    let hash =
        Path::new(&video.location).file_name().and_then(|n| n.to_str()).context("video path")?.to_owned();
    let url = format!("{}blobs/{}/{hash}", proxy.base_url(), &hash[..2]);
    let peer_dir = tempfile::tempdir()?;
    proxy.reset_counters();
    let status = Command::new("aria2c")
        .args(["--quiet", "-x1", "-s1", "-c", "--max-tries=0", "--retry-wait=0", "--file-allocation=none"])
        .args(["--allow-piece-length-change=true", "--auto-file-renaming=false", "-d"])
        .arg(peer_dir.path())
        .args(["-o", "video", &url])
        .status()
        .context("aria2c is missing: cargo xtask test installs it (apt-get install aria2)")?;
    if !status.success() || std::fs::metadata(peer_dir.path().join("video"))?.len() != video_size {
        bail!("aria2c did not download the file through the cutting proxy");
    }
    let peer = proxy.reply_bytes() as f64 / video_size as f64;
    eprintln!("bench: {connections} connections for our download, {} for aria2c", proxy.connections());
    Ok(vec![Row::new(
        "resume_cut_256k_bytes",
        ours,
        "x",
        "aria2c -c through the same proxy",
        peer,
        Goal::ValueAtMost(1.02),
    )])
}

/// A course with one lesson whose full rendition is a 1 GiB file, signed with the test key.
fn big_course(root: &Path) -> Result<u64> {
    const SIZE: u64 = 1 << 30;
    let mut block = vec![0u8; 1 << 20];
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for b in block.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let tmp = root.join("big.tmp");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
    let mut hasher = sha2_hasher();
    for i in 0..(SIZE >> 20) {
        // Vary each block so the file does not compress or dedupe into nothing.
        block[..8].copy_from_slice(&i.to_le_bytes());
        file.write_all(&block)?;
        hasher.update(&block);
    }
    file.flush()?;
    drop(file);
    let hash = satchel_core::content::store::hex(&hasher.finalize());
    let blob_dir = root.join("blobs").join(&hash[..2]);
    std::fs::create_dir_all(&blob_dir)?;
    std::fs::rename(&tmp, blob_dir.join(&hash))?;
    crate::sample::publish_one_lesson_course(root, "big", "big.lecture", &hash, SIZE)?;
    Ok(SIZE)
}

fn sha2_hasher() -> sha2::Sha256 {
    sha2::Sha256::new()
}

/// Runs a child to the end and returns (wall time, peak RSS in bytes).
///
/// The peak is the child's own `VmHWM`, sampled every few milliseconds until it exits (the
/// high-water mark only grows). Not `wait4`'s `ru_maxrss`: Linux carries the forking parent's
/// high-water mark across `exec` into it, so it would report the bench process's size.
fn measure(command: &mut Command) -> Result<(Duration, u64)> {
    let start = Instant::now();
    let mut child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    let status = loop {
        if let Some(kb) = std::fs::read_to_string(&status_path).ok().as_deref().and_then(vm_hwm_kb) {
            peak = peak.max(kb * 1024);
        }
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(3));
    };
    let elapsed = start.elapsed();
    if !status.success() {
        bail!("{command:?} failed ({status})");
    }
    Ok((elapsed, peak))
}

fn vm_hwm_kb(status: &str) -> Option<u64> {
    status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()
}

/// `loopback_1g_throughput` and `download_1g_peak_rss_mb`.
pub fn loopback_1g() -> Result<Vec<Row>> {
    let root = tempfile::tempdir_in(target_dir())?;
    let size = big_course(root.path())?;
    let server = ServerProcess::serve(root.path())?;
    let satchel_bin = workspace_bin("satchel")?;
    let account = root.path().join("account");
    let status = Command::new(&satchel_bin)
        .args(["fetch", "--account"])
        .arg(&account)
        .args(["--publisher-key", &test_public_key(), &server.base_url(), "big"])
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("satchel fetch failed");
    }
    let hash = std::fs::read_dir(root.path().join("blobs"))?
        .flatten()
        .flat_map(|d| std::fs::read_dir(d.path()).into_iter().flatten().flatten())
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .next()
        .context("no blob")?;
    let url = server.url(&format!("blobs/{}/{hash}", &hash[..2]));

    // Warm the page cache for both, then alternate: curl, ours, curl, ours; keep the best.
    let curl_out = root.path().join("curl.out");
    let curl = || {
        let mut command = Command::new("curl");
        command.args(["-s", "-o"]).arg(&curl_out).arg(&url);
        command
    };
    measure(&mut curl())?;
    let mut ours_best = (Duration::MAX, 0u64);
    let mut curl_best = (Duration::MAX, 0u64);
    for _ in 0..2 {
        let c = measure(&mut curl())?;
        curl_best = (curl_best.0.min(c.0), curl_best.1.max(c.1));
        let _ = std::fs::remove_dir_all(account.join("content"));
        reset_downloads(&account)?;
        let o = measure(Command::new(&satchel_bin).args(["download", "--account"]).arg(&account).args([
            "--lesson",
            "big.lecture",
            "--rendition",
            "full",
        ]))?;
        ours_best = (ours_best.0.min(o.0), ours_best.1.max(o.1));
    }
    let mb_per_s = |d: Duration| size as f64 / 1e6 / d.as_secs_f64();
    Ok(vec![
        Row::new(
            "loopback_1g_throughput",
            mb_per_s(ours_best.0),
            "MB/s",
            "curl -o on the same server",
            mb_per_s(curl_best.0),
            Goal::RatioAtLeast(0.8),
        ),
        Row::new(
            "download_1g_peak_rss_mb",
            ours_best.1 as f64 / 1e6,
            "MB",
            "curl's peak RSS",
            curl_best.1 as f64 / 1e6,
            Goal::ValueAtMost(32.0),
        ),
    ])
}

/// Forgets downloads and content so the next run fetches everything again.
fn reset_downloads(account: &Path) -> Result<()> {
    let conn = rusqlite::Connection::open(account.join("satchel.db"))?;
    conn.execute_batch("DELETE FROM download; DELETE FROM content_blob; DELETE FROM partial_blob;")?;
    Ok(())
}

/// `slow_link_lite_lecture_seconds`.
pub fn slow_link() -> Result<Vec<Row>> {
    let packed = packed_sample()?;
    let server = ServerProcess::serve(&packed.dir)?;
    let proxy = FaultProxy::start(server.addr, Faults::default())?;
    let link = Faults { rate: Some(64_000 / 8), latency: Duration::from_millis(150), ..Faults::default() };
    let rt = runtime();

    let lite_dir = tempfile::tempdir()?;
    let satchel = open(lite_dir.path())?;
    rt.block_on(satchel.fetch_course(proxy.base_url(), "web-basics".into()))?;
    proxy.set_faults(link.clone());
    let start = Instant::now();
    let files = rt.block_on(satchel.download_rendition(SHORT_LECTURE.into(), RenditionKind::Lite))?;
    let lite_seconds = start.elapsed().as_secs_f64();
    if files.is_empty() {
        bail!("no lite files");
    }

    let full_dir = tempfile::tempdir()?;
    let satchel = open(full_dir.path())?;
    proxy.set_faults(Faults::default());
    rt.block_on(satchel.fetch_course(proxy.base_url(), "web-basics".into()))?;
    let target = DownloadTarget::Lesson { lesson_id: SHORT_LECTURE.into() };
    let full_bytes =
        rt.block_on(satchel.download_estimate(target.clone(), RenditionKind::Full))?.bytes_to_fetch;
    proxy.set_faults(link);
    proxy.reset_counters();
    rt.block_on(satchel.enqueue_download(target, RenditionKind::Full, 0))?;
    let window = Duration::from_secs(30);
    let start = Instant::now();
    rt.block_on(satchel.run_downloads(window.as_millis() as i64))?;
    let received = proxy.reply_bytes().max(1);
    let full_seconds = start.elapsed().as_secs_f64() * full_bytes as f64 / received as f64;
    Ok(vec![Row::new(
        "slow_link_lite_lecture_seconds",
        lite_seconds,
        "s",
        "the full rendition (extrapolated from 30 s)",
        full_seconds,
        Goal::RatioAtMost(0.05),
    )])
}
