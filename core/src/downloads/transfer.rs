//! One blob over HTTP, resumably.
//!
//! The bytes go to `content/partial/<hash>.part`, appended as they arrive, so whatever arrived
//! before a cut, a stall or a kill is kept. The next attempt asks for the rest with
//! `Range: bytes=N-` and `If-Range: <validator>`: a host whose file changed answers 200 with the
//! whole new file, and we start that blob over rather than splice two versions together.
//!
//! The manifest's stored size is the hard cap on every transfer: nothing ever writes past it,
//! whatever the host says or keeps sending. A partial file already longer than that is dropped
//! before asking. A reply that contradicts the declared size (a Content-Range total or end, or
//! a Content-Length, other than declared) is [`ContentError::HostReply`]: the host is wrong, the
//! bytes on disk are dropped and the blob fails. A well-formed range that merely starts
//! elsewhere than asked drops the bytes on disk and starts the blob over, once; the same from
//! byte 0 is a `HostReply` too. A body running past the cap is cut off there. The hash is
//! checked before the blob is committed; bytes that fail it are thrown away and fetched again a
//! bounded number of times.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_RANGE, ETAG, IF_RANGE, LAST_MODIFIED, RANGE};
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::hashing::RunningHash;
use super::{DownloadService, Tuning, retry};
use crate::catalog::{BlobEntry, Encoding};
use crate::content::ContentError;
use crate::content::store::hex;
use crate::error::{Error, NetworkErrorKind, Result};
use crate::runtime::run_blocking;
use crate::time::now_ms;

/// Why a blob is not in the store yet.
#[derive(Debug)]
pub enum Ending {
    /// Asked to stop (pause, cancel, deadline, network change). The bytes so far are kept.
    Stopped,
    /// The learner's metered budget ran out. The bytes so far are kept.
    OverBudget,
    /// Will not fix itself by trying again now: not on the host, failed its hash too often, disk
    /// full, too many attempts without progress.
    Failed(Error),
}

impl From<Error> for Ending {
    fn from(error: Error) -> Self {
        Ending::Failed(error)
    }
}

/// How an attempt that did not complete the blob went.
enum Miss {
    End(Ending),
    /// Worth another try: the connection broke or stalled, or the host said "later".
    Retry {
        reason: String,
        retry_after: Option<Duration>,
        progressed: bool,
    },
}

impl From<Error> for Miss {
    fn from(error: Error) -> Self {
        Miss::End(Ending::Failed(error))
    }
}

/// What a transfer reports as bytes arrive. Returning `Err` stops the transfer (budget).
pub trait Progress: Send {
    fn arrived(&mut self, bytes: u64) -> std::result::Result<(), Ending>;
}

pub struct BlobJob<'a> {
    pub service: &'a DownloadService,
    pub http: &'a reqwest::Client,
    pub url: Url,
    pub blob: &'a BlobEntry,
    /// The course dictionary, for `zstd-dict` blobs.
    pub dictionary: Option<&'a [u8]>,
    pub tuning: &'a Tuning,
    pub stop: &'a CancellationToken,
}

/// Fetches `job.blob` into the content store, resuming from any bytes on disk, retrying broken
/// connections, and verifying before committing.
pub async fn fetch_blob(job: BlobJob<'_>, progress: &mut dyn Progress) -> std::result::Result<(), Ending> {
    let mut partial = Partial::open(job.service, &job.blob.hash, job.blob.stored_size).await?;
    let mut attempts_without_progress = 0u32;
    loop {
        if job.stop.is_cancelled() {
            return Err(Ending::Stopped);
        }
        let outcome = if partial.len == job.blob.stored_size {
            Ok(())
        } else {
            attempt(&job, &mut partial, progress).await
        };
        match outcome {
            Ok(()) => match commit(&job, &mut partial).await {
                Ok(()) => return Ok(()),
                Err(Ending::Failed(Error::Content(e))) => {
                    let failures = record_verify_failure(job.service, &job.blob.hash).await?;
                    tracing::warn!(hash = %job.blob.hash, failures, "downloaded blob failed verification");
                    if failures >= job.tuning.max_verify_failures {
                        forget(job.service, &job.blob.hash).await?;
                        return Err(Ending::Failed(Error::Content(e)));
                    }
                }
                Err(other) => return Err(other),
            },
            Err(Miss::End(ending)) => return Err(ending),
            Err(Miss::Retry { reason, retry_after, progressed }) => {
                attempts_without_progress = if progressed { 0 } else { attempts_without_progress + 1 };
                tracing::debug!(hash = %job.blob.hash, %reason, progressed, "transfer attempt broke off");
                if attempts_without_progress >= job.tuning.max_attempts_without_progress {
                    return Err(Ending::Failed(Error::network(
                        NetworkErrorKind::Interrupted,
                        format!("{reason} ({attempts_without_progress} attempts in a row without progress)"),
                    )));
                }
                let wait = match retry_after {
                    Some(wait) => wait,
                    None if progressed => Duration::ZERO,
                    None => retry::backoff(
                        attempts_without_progress,
                        job.tuning.backoff_base,
                        job.tuning.backoff_cap,
                    ),
                };
                if !wait.is_zero() {
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = job.stop.cancelled() => return Err(Ending::Stopped),
                    }
                }
            }
        }
    }
}

/// One request: asks for the bytes not on disk yet and appends what arrives.
async fn attempt(
    job: &BlobJob<'_>,
    partial: &mut Partial,
    progress: &mut dyn Progress,
) -> std::result::Result<(), Miss> {
    let declared = job.blob.stored_size;
    let mut request = job.http.get(job.url.clone());
    if partial.len > 0 {
        request = request.header(RANGE, format!("bytes={}-", partial.len));
        if let Some(validator) = &partial.validator {
            request = request.header(IF_RANGE, validator);
        }
    }
    let response = tokio::select! {
        response = request.send() => response,
        _ = job.stop.cancelled() => return Err(Miss::End(Ending::Stopped)),
    };
    let mut response = match response {
        Ok(response) => response,
        Err(e) => return Err(retry_without_progress(network_reason(&e), None)),
    };
    let status = response.status();
    let retry_after = retry::retry_after_header(response.headers(), job.tuning.retry_after_cap);
    match status {
        StatusCode::PARTIAL_CONTENT => {
            let range = response.headers().get(CONTENT_RANGE).and_then(|v| v.to_str().ok());
            let first = match parse_content_range(range) {
                Some((first, last, total))
                    if total == declared && first <= last && last.checked_add(1) == Some(declared) =>
                {
                    first
                }
                _ => {
                    return Err(host_is_wrong(
                        job,
                        partial,
                        format!("Content-Range {range:?} for a blob of {declared} bytes"),
                    )
                    .await);
                }
            };
            if let Some(length) = content_length(&response)
                && length != declared - first
            {
                let problem =
                    format!("Content-Length {length} for the {} bytes from {first}", declared - first);
                return Err(host_is_wrong(job, partial, problem).await);
            }
            if first != partial.len {
                if partial.len == 0 {
                    // Asked for the whole blob, sent a piece of it.
                    let problem = format!("Content-Range {range:?} when the whole blob was asked for");
                    return Err(host_is_wrong(job, partial, problem).await);
                }
                // Some other piece than we asked for: nothing on disk can be matched with it
                // safely, so the blob starts over.
                partial.reset(job.service).await?;
                return Err(retry_without_progress(format!("unexpected Content-Range {range:?}"), None));
            }
        }
        StatusCode::OK => {
            if let Some(length) = content_length(&response)
                && length != declared
            {
                let problem = format!("the host offers {length} bytes for a blob of {declared}");
                return Err(host_is_wrong(job, partial, problem).await);
            }
            // A full body: the host ignored the range or the file changed (If-Range failed).
            partial.reset(job.service).await?;
        }
        StatusCode::RANGE_NOT_SATISFIABLE => {
            partial.reset(job.service).await?;
            return Err(retry_without_progress("416: the host's file is shorter than our part".into(), None));
        }
        StatusCode::NOT_FOUND | StatusCode::GONE => {
            return Err(Miss::End(Ending::Failed(Error::http_status(
                status.as_u16(),
                None,
                format!("blob {} is not on the host (HTTP {})", job.blob.hash, status.as_u16()),
            ))));
        }
        s if s == StatusCode::TOO_MANY_REQUESTS
            || s == StatusCode::REQUEST_TIMEOUT
            || s.is_server_error() =>
        {
            return Err(retry_without_progress(format!("HTTP {}", s.as_u16()), retry_after));
        }
        other => {
            return Err(Miss::End(Ending::Failed(Error::http_status(
                other.as_u16(),
                retry_after,
                format!("HTTP {} for blob {}", other.as_u16(), job.blob.hash),
            ))));
        }
    }
    let validator = validator_of(&response);
    if validator != partial.validator {
        partial.set_validator(job.service, validator).await?;
    }

    let mut progressed = false;
    loop {
        let chunk = tokio::select! {
            chunk = tokio::time::timeout(job.tuning.stall_timeout, response.chunk()) => chunk,
            _ = job.stop.cancelled() => return Err(Miss::End(Ending::Stopped)),
        };
        let bytes = match chunk {
            Ok(Ok(Some(bytes))) => bytes,
            Ok(Ok(None)) => break,
            Ok(Err(e)) => {
                return Err(Miss::Retry { reason: network_reason(&e), retry_after: None, progressed });
            }
            Err(_) => {
                return Err(Miss::Retry {
                    reason: format!("no data for {} s", job.tuning.stall_timeout.as_secs_f32()),
                    retry_after: None,
                    progressed,
                });
            }
        };
        // Never past the declared size, whatever the host keeps sending.
        let room = declared.saturating_sub(partial.len);
        let take = bytes.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        partial.append(&bytes[..take])?;
        if take > 0 {
            progressed = true;
            progress.arrived(take as u64).map_err(Miss::End)?;
        }
        if take < bytes.len() {
            // Longer than declared: keep exactly the declared bytes and let the hash judge them.
            tracing::warn!(hash = %job.blob.hash, "the host sent more bytes than the blob has");
            break;
        }
    }
    if partial.len == declared {
        Ok(())
    } else {
        Err(Miss::Retry {
            reason: format!("the body ended at byte {} of {declared}", partial.len),
            retry_after: None,
            progressed,
        })
    }
}

/// Verifies the complete partial file and moves it (or its decoded form) into the store.
async fn commit(job: &BlobJob<'_>, partial: &mut Partial) -> std::result::Result<(), Ending> {
    partial.file.flush().map_err(Error::from)?;
    let service = job.service.clone();
    let blob = job.blob.clone();
    let path = partial.path.clone();
    let result = match blob.encoding {
        Encoding::Identity => {
            let hash = match partial.hasher.take().and_then(RunningHash::finish) {
                Some(hash) => hash,
                None => {
                    let path = path.clone();
                    run_blocking(move || hash_file(&path)).await?
                }
            };
            if hash != blob.hash {
                partial.reset(job.service).await?;
                return Err(Error::Content(ContentError::HashMismatch {
                    hash: blob.hash.clone(),
                    actual: hash,
                })
                .into());
            }
            run_blocking(move || {
                service.content().adopt(&blob.hash, &path)?;
                finish(&service, &blob)
            })
            .await
        }
        Encoding::Zstd | Encoding::ZstdDict => {
            let dictionary = job.dictionary.map(<[u8]>::to_vec);
            let ingested = run_blocking(move || {
                let file = File::open(&path)?;
                service.content().ingest(&blob, std::io::BufReader::new(file), dictionary.as_deref())?;
                finish(&service, &blob)
            })
            .await;
            if matches!(ingested, Err(Error::Content(_))) {
                partial.reset(job.service).await?;
            }
            ingested
        }
    };
    result.map_err(Ending::Failed)
}

/// Records a committed blob and forgets its partial state, in one transaction.
fn finish(service: &DownloadService, blob: &BlobEntry) -> Result<()> {
    service.store().write(|tx| {
        tx.prepare_cached(
            "INSERT INTO content_blob (hash, size, stored_at_ms) VALUES (?1, ?2, ?3) ON CONFLICT (hash) DO NOTHING",
        )?
        .execute(params![blob.hash, blob.size, now_ms()])?;
        tx.prepare_cached("DELETE FROM partial_blob WHERE hash = ?1")?.execute([&blob.hash])?;
        Ok(())
    })?;
    // Left over only when the blob was decoded into the store rather than moved there.
    remove_if_present(&service.content().partial_path(&blob.hash))
}

async fn record_verify_failure(service: &DownloadService, hash: &str) -> Result<u32> {
    let service = service.clone();
    let hash = hash.to_owned();
    run_blocking(move || {
        service.store().write(|tx| {
            tx.execute(
                "INSERT INTO partial_blob (hash, validator, verify_failures, updated_at_ms) VALUES (?1, NULL, 1, ?2)
                 ON CONFLICT (hash) DO UPDATE SET verify_failures = verify_failures + 1, updated_at_ms = ?2",
                params![hash, now_ms()],
            )?;
            Ok(tx.query_row("SELECT verify_failures FROM partial_blob WHERE hash = ?1", [&hash], |r| r.get(0))?)
        })
    })
    .await
}

/// Drops every trace of a partial blob (its bytes and its row).
pub async fn forget(service: &DownloadService, hash: &str) -> Result<()> {
    let service = service.clone();
    let hash = hash.to_owned();
    run_blocking(move || {
        service.store().write(|tx| {
            tx.execute("DELETE FROM partial_blob WHERE hash = ?1", [&hash])?;
            Ok(())
        })?;
        remove_if_present(&service.content().partial_path(&hash))
    })
    .await
}

/// The bytes of a blob on disk so far, with what we know about them.
struct Partial {
    path: PathBuf,
    file: File,
    len: u64,
    /// The validator (strong ETag or Last-Modified) the bytes came with.
    validator: Option<String>,
    /// SHA-256 of bytes `0..len`, kept current as bytes are appended.
    hasher: Option<RunningHash>,
    hash: String,
    size: u64,
}

impl Partial {
    async fn open(service: &DownloadService, hash: &str, size: u64) -> Result<Partial> {
        let service = service.clone();
        let hash = hash.to_owned();
        run_blocking(move || {
            let path = service.content().partial_path(&hash);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let mut file =
                OpenOptions::new().create(true).read(true).write(true).truncate(false).open(&path)?;
            let mut len = file.seek(SeekFrom::End(0))?;
            let mut validator: Option<String> = service.store().read(|c| {
                Ok(c.prepare_cached("SELECT validator FROM partial_blob WHERE hash = ?1")?
                    .query_row([&hash], |r| r.get(0))
                    .optional()?
                    .flatten())
            })?;
            if len > size {
                // Longer than the blob can be: these bytes are not the blob's, and resuming after
                // them would ask for a range past its end. Start over.
                tracing::warn!(%hash, len, size, "a partial file longer than its blob was dropped");
                file.set_len(0)?;
                file.seek(SeekFrom::Start(0))?;
                len = 0;
                if validator.take().is_some() {
                    service.store().write(|tx| {
                        tx.execute("UPDATE partial_blob SET validator = NULL WHERE hash = ?1", [&hash])?;
                        Ok(())
                    })?;
                }
            }
            // Bytes on disk are worth resuming only with the validator they came with; without one,
            // the hash check at the end still catches a spliced file.
            let hasher = Some(RunningHash::open(&path, len, size)?);
            Ok(Partial { path, file, len, validator, hasher, hash, size })
        })
        .await
    }

    fn append(&mut self, bytes: &[u8]) -> Result<()> {
        // A plain blocking write: it lands in the page cache in microseconds, and a write is
        // never torn by cancellation (cancellation only happens between chunks).
        self.file.write_all(bytes).map_err(storage_error)?;
        self.len += bytes.len() as u64;
        if let Some(hasher) = &mut self.hasher {
            hasher.appended(bytes, self.len);
        }
        Ok(())
    }

    /// Drops the bytes on disk: the blob starts over.
    async fn reset(&mut self, service: &DownloadService) -> Result<()> {
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.len = 0;
        self.hasher = RunningHash::open(&self.path, 0, self.size).ok();
        if self.validator.is_some() {
            self.set_validator(service, None).await?;
        }
        Ok(())
    }

    /// Records the validator of the bytes about to be written (before writing them, so bytes on
    /// disk are never labelled with an older validator than theirs).
    async fn set_validator(&mut self, service: &DownloadService, validator: Option<String>) -> Result<()> {
        let service = service.clone();
        let hash = self.hash.clone();
        let stored = validator.clone();
        run_blocking(move || {
            service.store().write(|tx| {
                tx.execute(
                    "INSERT INTO partial_blob (hash, validator, updated_at_ms) VALUES (?1, ?2, ?3)
                     ON CONFLICT (hash) DO UPDATE SET validator = excluded.validator, updated_at_ms = excluded.updated_at_ms",
                    params![hash, stored, now_ms()],
                )?;
                Ok(())
            })
        })
        .await?;
        self.validator = validator;
        Ok(())
    }
}

/// A strong ETag, else Last-Modified: what If-Range may carry (weak ETags are not allowed there).
fn validator_of(response: &reqwest::Response) -> Option<String> {
    let header =
        |name| response.headers().get(name).and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok());
    match header(ETAG) {
        Some(etag) if !etag.starts_with("W/") => Some(etag.to_owned()),
        _ => header(LAST_MODIFIED).map(str::to_owned),
    }
}

fn content_length(response: &reqwest::Response) -> Option<u64> {
    response.headers().get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// `bytes first-last/total` → (first, last, total).
fn parse_content_range(value: Option<&str>) -> Option<(u64, u64, u64)> {
    let rest = value?.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    Some((first.trim().parse().ok()?, last.trim().parse().ok()?, total.trim().parse().ok()?))
}

/// The host contradicted the manifest: its bytes for this blob cannot be trusted, so they are
/// dropped and the blob fails with a typed error.
async fn host_is_wrong(job: &BlobJob<'_>, partial: &mut Partial, problem: String) -> Miss {
    tracing::warn!(hash = %job.blob.hash, %problem, "the host's reply contradicts the manifest");
    if let Err(e) = partial.reset(job.service).await {
        return Miss::End(Ending::Failed(e));
    }
    Miss::End(Ending::Failed(Error::Content(ContentError::HostReply {
        hash: job.blob.hash.clone(),
        problem,
    })))
}

fn retry_without_progress(reason: String, retry_after: Option<Duration>) -> Miss {
    Miss::Retry { reason, retry_after, progressed: false }
}

fn network_reason(e: &reqwest::Error) -> String {
    crate::http_client::describe(e)
}

fn storage_error(e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::StorageFull {
        Error::NoSpace("the device ran out of space while downloading".into())
    } else {
        Error::Io(e)
    }
}

fn hash_file(path: &std::path::Path) -> Result<String> {
    Ok(hex(&hash_reader(File::open(path)?)?.finalize()))
}

fn hash_reader(mut reader: impl Read) -> Result<Sha256> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(hasher),
            Ok(n) => hasher.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

pub fn remove_if_present(path: &std::path::Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_content_range;

    #[test]
    fn content_range_is_read_strictly() {
        assert_eq!(parse_content_range(Some("bytes 100-199/200")), Some((100, 199, 200)));
        assert_eq!(parse_content_range(Some("bytes */200")), None);
        assert_eq!(parse_content_range(Some("items 1-2/3")), None);
        assert_eq!(parse_content_range(Some("bytes 1-x/3")), None);
        assert_eq!(parse_content_range(None), None);
    }
}

#[cfg(test)]
#[path = "transfer_hostile_tests.rs"]
mod hostile_tests;
