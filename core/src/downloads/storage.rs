//! Room on the phone: free space before a download, the learner's quota, eviction of the least
//! recently studied courses, and deleting a course's content.
//!
//! Blobs are content-addressed and may be shared (two lessons, or two courses, using the same
//! slide or dictionary), so a blob is deleted only when no remaining download needs it.
//! Database rows go first, files second: a kill in between leaves an unreferenced file (wasted
//! space, never a lesson shown offline without its file).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{DownloadService, DownloadState, queue, transfer};
use crate::api_int::{stored_count, to_i64};
use crate::content::store::ContentStore;
use crate::error::{Error, Result};

/// How much room Satchel's content takes, and how much is left.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct StorageUsage {
    /// Verified content on the phone.
    pub content_bytes: i64,
    /// Bytes of downloads in progress.
    pub partial_bytes: i64,
    pub quota_bytes: Option<i64>,
    /// Free space on the device's volume that holds the service.
    pub free_bytes: i64,
}

/// What an eviction removed.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EvictionReport {
    /// Courses whose downloaded content was removed, least recently studied first.
    pub courses: Vec<String>,
    pub bytes_freed: i64,
}

/// Bytes free for an unprivileged writer on the volume holding `path`.
pub fn free_space(path: &std::path::Path) -> Result<u64> {
    let stat = rustix::fs::statvfs(path).map_err(|e| Error::Io(e.into()))?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

pub fn usage(conn: &Connection, content: &ContentStore) -> Result<StorageUsage> {
    let m = measure(conn, content)?;
    Ok(StorageUsage {
        content_bytes: to_i64(m.content),
        partial_bytes: to_i64(m.partial),
        quota_bytes: m.quota.map(to_i64),
        free_bytes: to_i64(m.free),
    })
}

/// [`StorageUsage`] in the core's own unsigned counts, for the room checks.
struct Measured {
    content: u64,
    partial: u64,
    quota: Option<u64>,
    free: u64,
}

fn measure(conn: &Connection, content: &ContentStore) -> Result<Measured> {
    let stored: u64 = conn.query_row("SELECT COALESCE(SUM(size), 0) FROM content_blob", [], |r| r.get(0))?;
    let partial = dir_bytes(&content.root().join("partial"))?;
    std::fs::create_dir_all(content.root())?;
    Ok(Measured {
        content: stored,
        partial,
        quota: super::policy::settings(conn)?.quota(),
        free: free_space(content.root())?,
    })
}

/// Bytes of the files in `dir` (none when it does not exist yet). A file that goes away while
/// it is counted (a blob committed meanwhile) counts as nothing; any other failure is an error.
fn dir_bytes(dir: &std::path::Path) -> Result<u64> {
    let gone = |e: &std::io::Error| e.kind() == std::io::ErrorKind::NotFound;
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if gone(&e) => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let mut total = 0u64;
    for entry in entries {
        match entry?.metadata() {
            Ok(meta) => total = total.saturating_add(meta.len()),
            Err(e) if gone(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(total)
}

/// Makes sure `needed` more bytes fit, for a download of `course_id`: on the device (with the
/// safety margin) and under the quota, evicting other courses if the quota requires it.
pub fn ensure_room(service: &DownloadService, course_id: &str, needed: u64) -> Result<()> {
    let margin = service.downloads().tuning().free_space_margin;
    let usage = service.store().read(|c| measure(c, service.content()))?;
    let free = usage.free;
    if free < needed.saturating_add(margin) {
        return Err(Error::NoSpace(format!(
            "{needed} bytes needed, {free} free on the device (keeping {margin} spare)"
        )));
    }
    let Some(quota) = usage.quota else { return Ok(()) };
    let used = usage.content + usage.partial;
    if used.saturating_add(needed) <= quota {
        return Ok(());
    }
    let to_free = used.saturating_add(needed) - quota;
    let report = evict(service, to_free, &[course_id.to_owned()])?;
    if stored_count(report.bytes_freed) < to_free {
        return Err(Error::QuotaFull(format!(
            "{needed} bytes needed; the storage quota of {quota} bytes is full even after eviction"
        )));
    }
    Ok(())
}

/// Removes the downloaded content of the least recently studied courses until `bytes_to_free`
/// bytes are freed (or nothing more may go). Never touches `protect`, the course being studied
/// right now, or a course with a download in flight.
pub fn evict(service: &DownloadService, bytes_to_free: u64, protect: &[String]) -> Result<EvictionReport> {
    let mut protected: HashSet<String> = protect.iter().cloned().collect();
    let (studying, candidates) = service.store().read(|c| {
        let studying = match service.clock().current_lesson(Instant::now()) {
            Some(lesson) => c
                .query_row("SELECT course_id FROM lesson WHERE id = ?1", [&lesson], |r| r.get::<_, String>(0))
                .optional()?,
            None => None,
        };
        let candidates: Vec<(String, Vec<i64>)> = c
            .prepare(
                "SELECT c.id, group_concat(d.id) FROM course c
                 JOIN lesson l ON l.course_id = c.id
                 JOIN download d ON d.lesson_id = l.id
                 GROUP BY c.id
                 HAVING SUM(d.state = ?1) > 0
                 ORDER BY COALESCE(c.last_studied_at_ms, 0), c.imported_at_ms",
            )?
            .query_map([DownloadState::Done], |r| Ok((r.get(0)?, r.get::<_, String>(1)?)))?
            .map(|row| {
                let (course, ids) = row?;
                let ids = ids
                    .split(',')
                    .map(|id| id.parse().map_err(|_| Error::corrupt("download id", format!("{id:?}"))))
                    .collect::<Result<Vec<i64>>>()?;
                Ok((course, ids))
            })
            .collect::<Result<_>>()?;
        Ok((studying, candidates))
    })?;
    protected.extend(studying);
    let mut courses = Vec::new();
    let mut freed = 0u64;
    for (course_id, download_ids) in candidates {
        if freed >= bytes_to_free {
            break;
        }
        if protected.contains(&course_id) || download_ids.iter().any(|id| service.downloads().is_active(*id))
        {
            continue;
        }
        freed += delete_course_content(service, &course_id)?;
        tracing::info!(course = %course_id, "evicted a course's downloads to make room");
        courses.push(course_id);
    }
    Ok(EvictionReport { courses, bytes_freed: to_i64(freed) })
}

/// Deletes everything downloaded for a course (its downloads, finished or not, and their files)
/// and returns the bytes freed. The course stays in the catalog and can be downloaded again.
pub fn delete_course_content(service: &DownloadService, course_id: &str) -> Result<u64> {
    let infos = service.store().read(|c| queue::list(c, Some(course_id)))?;
    let ids: Vec<i64> = infos.iter().map(|i| i.id).collect();
    for id in &ids {
        service.downloads().stop(*id);
    }
    let (removed, freed) = service.store().write(|tx| {
        let mut hashes: Vec<String> = tx
            .prepare(
                "SELECT DISTINCT rb.hash FROM rendition_blob rb JOIN lesson l ON l.id = rb.lesson_id
                 WHERE l.course_id = ?1",
            )?
            .query_map([course_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        hashes.extend(shared_blob_hashes(tx, course_id)?);
        for id in &ids {
            tx.execute("DELETE FROM download WHERE id = ?1", [id])?;
        }
        release(tx, &hashes)
    })?;
    remove_files(service.content(), &removed)?;
    for info in infos {
        service.downloads().events().removed(&info);
    }
    Ok(freed)
}

/// The course's dictionary and text pack (JSON entries on the course row).
fn shared_blob_hashes(tx: &Transaction<'_>, course_id: &str) -> Result<Vec<String>> {
    let (dictionary, pack): (Option<String>, Option<String>) = tx
        .query_row("SELECT dictionary, text_pack FROM course WHERE id = ?1", [course_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?
        .unwrap_or((None, None));
    // An unreadable entry is an error, not "no shared blobs": skipping it would never free them.
    let mut hashes = Vec::new();
    if let Some(text) = dictionary {
        let entry: crate::catalog::BlobEntry = serde_json::from_str(&text)
            .map_err(|e| Error::corrupt("course dictionary entry", e.to_string()))?;
        hashes.push(entry.hash);
    }
    if let Some(text) = pack {
        let pack: crate::catalog::TextPack = serde_json::from_str(&text)
            .map_err(|e| Error::corrupt("course text pack entry", e.to_string()))?;
        hashes.push(pack.blob.hash);
    }
    Ok(hashes)
}

/// Forgets the blobs among `hashes` that no remaining download needs: their `content_blob` and
/// `partial_blob` rows. Returns the hashes to delete from disk and the bytes that frees.
pub fn release(tx: &Transaction<'_>, hashes: &[String]) -> Result<(Vec<String>, u64)> {
    let mut still_needed = tx.prepare_cached(
        "SELECT EXISTS (
             SELECT 1 FROM rendition_blob rb JOIN download d
               ON d.lesson_id = rb.lesson_id AND d.rendition = rb.rendition
             WHERE rb.hash = ?1)
          OR EXISTS (
             SELECT 1 FROM course c JOIN lesson l ON l.course_id = c.id JOIN download d ON d.lesson_id = l.id
             WHERE instr(c.dictionary, ?1) > 0 OR instr(c.text_pack, ?1) > 0)",
    )?;
    let mut removed = Vec::new();
    let mut freed = 0u64;
    for hash in hashes.iter().collect::<HashSet<_>>() {
        if still_needed.query_row([hash], |r| r.get::<_, bool>(0))? {
            continue;
        }
        freed += forget_blob(tx, hash)?;
        removed.push(hash.clone());
    }
    Ok((removed, freed))
}

/// Deletes a blob's `content_blob` and `partial_blob` rows; returns its verified size (0 if it
/// was only partly downloaded).
fn forget_blob(tx: &Transaction<'_>, hash: &str) -> Result<u64> {
    let size: Option<u64> = tx
        .prepare_cached("DELETE FROM content_blob WHERE hash = ?1 RETURNING size")?
        .query_row([hash], |r| r.get(0))
        .optional()?;
    tx.prepare_cached("DELETE FROM partial_blob WHERE hash = ?1")?.execute([hash])?;
    Ok(size.unwrap_or(0))
}

/// Removes the files no course lists any more: after an update, the earlier version's readings,
/// slides or audio that the new one replaced (kept while a pending patch still starts from
/// them). Without this they would stay on the phone for ever, counted in `content_bytes`, and
/// not even deleting the course would free them. Called at the end of a download run, under
/// its lock, so no transfer is writing; skipped (until the next run) while a course fetch or a
/// file import is storing blobs the catalog does not list yet. Returns the bytes freed.
pub fn sweep_superseded(service: &DownloadService) -> Result<u64> {
    let Ok(_exclusive) = Arc::clone(&service.downloads().unlisted_writes).try_write_owned() else {
        tracing::debug!(
            "a course fetch or a file import is storing files; unlisted files wait for the next run"
        );
        return Ok(0);
    };
    let (removed, freed) = service.store().write(|tx| {
        let unlisted: Vec<String> = tx
            .prepare_cached(
                "SELECT b.hash FROM (SELECT hash FROM content_blob UNION SELECT hash FROM partial_blob) b
                 WHERE NOT EXISTS (SELECT 1 FROM rendition_blob rb WHERE rb.hash = b.hash)
                   AND NOT EXISTS (SELECT 1 FROM course c
                                   WHERE instr(c.dictionary, b.hash) > 0 OR instr(c.text_pack, b.hash) > 0)
                   AND NOT EXISTS (SELECT 1 FROM blob_patch p
                                   WHERE p.base = b.hash AND p.result NOT IN (SELECT hash FROM content_blob))",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut freed = 0;
        for hash in &unlisted {
            freed += forget_blob(tx, hash)?;
        }
        Ok((unlisted, freed))
    })?;
    remove_files(service.content(), &removed)?;
    if !removed.is_empty() {
        tracing::info!(files = removed.len(), bytes = freed, "removed files no course lists any more");
    }
    Ok(freed)
}

/// Deletes the files (verified and partial) of released blobs.
pub fn remove_files(content: &ContentStore, hashes: &[String]) -> Result<()> {
    for hash in hashes {
        content.remove(hash)?;
        transfer::remove_if_present(&content.partial_path(hash))?;
    }
    Ok(())
}

/// Cancels one download: stops it, deletes its row, and frees the bytes (partial and complete)
/// of its files that nothing else needs.
pub fn cancel(service: &DownloadService, id: i64) -> Result<()> {
    service.downloads().stop(id);
    let (info, (removed, _)) = service.store().write(|tx| {
        let info = queue::info(tx, id)?;
        let hashes: Vec<String> = tx
            .prepare_cached("SELECT hash FROM rendition_blob WHERE lesson_id = ?1 AND rendition = ?2")?
            .query_map(params![info.lesson_id, info.rendition], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        tx.execute("DELETE FROM download WHERE id = ?1", [id])?;
        Ok((info, release(tx, &hashes)?))
    })?;
    remove_files(service.content(), &removed)?;
    service.downloads().events().removed(&info);
    Ok(())
}
