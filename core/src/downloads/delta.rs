//! The download side of delta course updates: fetching a blob as a patch from the version on the
//! phone, and re-anchoring highlights once a changed reading is in place.
//!
//! A patch is small (the packager lists only patches smaller than the whole blob), so it is
//! fetched in one request into memory, capped at its declared size, and applied in
//! [`crate::content::patch::apply`]. Any failure of the patch (HTTP, truncated, longer than
//! declared, not applying, wrong result) is recorded and the caller fetches the whole blob with
//! the resumable transfer; only a stop, the budget or the phone's own disk end the blob here.

use tokio_util::sync::CancellationToken;

use super::DownloadService;
use super::transfer::{Ending, Progress};
use crate::catalog::{BlobEntry, PatchEntry, RenditionKind};
use crate::content::course;
use crate::content::fetch::ContentClient;
use crate::content::patch::{self, PatchError};
use crate::error::Error;
use crate::runtime::run_blocking;

/// Tries to bring `blob` onto the phone through `entry`. `Ok(true)`: it is in the store,
/// verified. `Ok(false)`: the patch failed (recorded); fetch the whole blob.
pub(super) async fn fetch_patched(
    service: &DownloadService,
    http: &reqwest::Client,
    base_url: &str,
    blob: &BlobEntry,
    entry: &PatchEntry,
    stop: &CancellationToken,
    progress: &mut dyn Progress,
) -> Result<bool, Ending> {
    let outcome = match download(http, base_url, entry, stop, progress).await? {
        Ok(bytes) => {
            let (service, blob, entry) = (service.clone(), blob.clone(), entry.clone());
            run_blocking(move || patch::apply(service.content(), &blob, &entry, &bytes)).await?
        }
        Err(error) => Err(error),
    };
    match outcome {
        Ok(()) => Ok(true),
        Err(error) => {
            tracing::warn!(reason = %error, "patch failed; fetching the whole blob");
            let service = service.clone();
            run_blocking(move || service.store().write(|tx| patch::record_failure(tx, &error))).await?;
            Ok(false)
        }
    }
}

/// The patch's bytes, at most its declared size. Network trouble is the patch's failure (the
/// whole blob's transfer retries and resumes); a stop or the budget ends the blob.
async fn download(
    http: &reqwest::Client,
    base_url: &str,
    entry: &PatchEntry,
    stop: &CancellationToken,
    progress: &mut dyn Progress,
) -> Result<Result<Vec<u8>, PatchError>, Ending> {
    let failed =
        |reason: String| PatchError::Fetch { base: entry.base.clone(), result: entry.result.clone(), reason };
    let url = ContentClient::patch_url(base_url, &entry.base, &entry.result)?;
    let response = tokio::select! {
        response = http.get(url).send() => response,
        _ = stop.cancelled() => return Err(Ending::Stopped),
    };
    let mut response = match response {
        Ok(response) => response,
        Err(e) => return Ok(Err(failed(e.without_url().to_string()))),
    };
    if !response.status().is_success() {
        return Ok(Err(failed(format!("HTTP {}", response.status().as_u16()))));
    }
    let limit = usize::try_from(entry.size).map_err(|_| Error::Internal("patch size".into()))?;
    let mut body = Vec::with_capacity(limit.min(1 << 20));
    loop {
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk,
            _ = stop.cancelled() => return Err(Ending::Stopped),
        };
        let chunk = match chunk {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(e) => return Ok(Err(failed(e.without_url().to_string()))),
        };
        let room = limit - body.len();
        let take = chunk.len().min(room);
        progress.arrived(take as u64)?;
        body.extend_from_slice(&chunk[..take]);
        if chunk.len() > room {
            return Ok(Err(PatchError::TooLong {
                base: entry.base.clone(),
                result: entry.result.clone(),
                expected: entry.size,
            }));
        }
    }
    Ok(Ok(body))
}

/// Once a reading lesson's rendition is complete, finds its text-anchored notes and highlights
/// in the reading as it now is (after an update, the new text) and stores where each sits, or
/// that it is orphaned. Returns how many are orphaned; each is logged, and the app sees the
/// note's `orphaned` flag.
pub(super) fn reanchor_reading(
    service: &DownloadService,
    lesson_id: &str,
    rendition: RenditionKind,
) -> crate::error::Result<u32> {
    let blobs = service.store().read(|c| course::rendition_blobs(c, lesson_id, rendition))?;
    let Some(reading) = blobs.iter().find(|b| b.role == "reading") else { return Ok(0) };
    let bytes = match service.content().read(&reading.hash) {
        Ok(bytes) => bytes,
        // An update changed the reading since its download finished: the download is queued
        // again (see `runner::finish`), and the notes are placed once the new text is here.
        Err(Error::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(other) => return Err(other),
    };
    let Ok(text) = String::from_utf8(bytes) else {
        tracing::warn!(lesson = lesson_id, "the reading is not UTF-8 text; notes not re-anchored");
        return Ok(0);
    };
    let notes = service.store().write(|tx| crate::notes::resolve_text_anchors(tx, lesson_id, &text))?;
    let orphaned = notes.iter().filter(|n| n.orphaned).count() as u32;
    if orphaned > 0 {
        tracing::warn!(lesson = lesson_id, orphaned, "highlights whose passage left the updated reading");
    }
    Ok(orphaned)
}
