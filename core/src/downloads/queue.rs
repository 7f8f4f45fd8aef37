//! The persisted queue: what the learner asked for, and where each download stands.
//!
//! One row per lesson rendition in `download`. Rows are written only here and by the runner;
//! every function takes the caller's transaction so a state change and what caused it commit
//! together.

use std::collections::{HashMap, HashSet};

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::DownloadState;
use crate::api_int::{to_i32, to_i64};
use crate::catalog::{BlobEntry, ImportOutcome, ImportStatus, PatchEntry, RenditionKind, TextPack};
use crate::content::course::{self, Plan};
use crate::content::patch;
use crate::content::store::ContentStore;
use crate::error::{Error, Result};
use crate::time::now_ms;

/// What to download: one lesson, a module or a whole course.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum DownloadTarget {
    Lesson { lesson_id: String },
    Module { module_id: String },
    Course { course_id: String },
}

/// One lesson rendition in the queue.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DownloadInfo {
    pub id: i64,
    pub lesson_id: String,
    pub course_id: String,
    pub rendition: RenditionKind,
    pub state: DownloadState,
    /// Higher runs first.
    pub priority: i32,
    /// Bytes this download has to fetch (what was not on the phone when it was queued).
    pub bytes_total: i64,
    pub bytes_done: i64,
    /// Why it failed or last broke off, for the learner ("not enough storage") and for logs.
    pub failure: Option<String>,
}

/// What a download would cost, shown before it starts.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DownloadEstimate {
    /// Lessons of the target that have the rendition.
    pub lessons: i32,
    /// Lessons whose rendition is already complete on the phone.
    pub lessons_already_downloaded: i32,
    /// Bytes the rendition takes on the host, all lessons together.
    pub bytes_total: i64,
    /// Bytes still to fetch: minus what is on the phone or partly downloaded, counting shared
    /// files (the course's text pack, its dictionary) once.
    pub bytes_to_fetch: i64,
}

/// The lessons of a target that have `rendition`, in course order, with their course.
pub fn lessons_of(
    conn: &Connection,
    target: &DownloadTarget,
    rendition: RenditionKind,
) -> Result<Vec<(String, String)>> {
    let (filter, id, kind) = match target {
        DownloadTarget::Lesson { lesson_id } => ("l.id = ?1", lesson_id, "lesson"),
        DownloadTarget::Module { module_id } => ("l.module_id = ?1", module_id, "module"),
        DownloadTarget::Course { course_id } => ("l.course_id = ?1", course_id, "course"),
    };
    let exists: bool = match target {
        DownloadTarget::Lesson { .. } => {
            conn.query_row("SELECT EXISTS (SELECT 1 FROM lesson WHERE id = ?1)", [id], |r| r.get(0))?
        }
        DownloadTarget::Module { .. } => {
            conn.query_row("SELECT EXISTS (SELECT 1 FROM module WHERE id = ?1)", [id], |r| r.get(0))?
        }
        DownloadTarget::Course { .. } => {
            conn.query_row("SELECT EXISTS (SELECT 1 FROM course WHERE id = ?1)", [id], |r| r.get(0))?
        }
    };
    if !exists {
        return Err(Error::not_found(kind, id.clone()));
    }
    let sql = format!(
        "SELECT l.id, l.course_id FROM lesson l
         JOIN module m ON m.id = l.module_id
         JOIN rendition r ON r.lesson_id = l.id AND r.kind = ?2
         WHERE {filter} ORDER BY m.position, l.position"
    );
    let lessons: Vec<(String, String)> = conn
        .prepare(&sql)?
        .query_map(params![id, rendition], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if lessons.is_empty() {
        return Err(Error::invalid(format!(
            "{kind} {id:?} has no {} rendition to download",
            rendition.as_str()
        )));
    }
    Ok(lessons)
}

/// A file to fetch for a download, in the order they are fetched.
#[derive(Debug, Clone)]
pub enum WorkItem {
    /// The course's solid text pack: brings every lite text member at once.
    TextPack(TextPack),
    Blob(BlobEntry),
}

impl WorkItem {
    pub fn entry(&self) -> &BlobEntry {
        match self {
            WorkItem::TextPack(pack) => &pack.blob,
            WorkItem::Blob(blob) => blob,
        }
    }
}

/// What one lesson rendition still needs fetched.
pub struct Work {
    pub plan: Plan,
    pub items: Vec<WorkItem>,
    /// Whether a fetched blob needs the course dictionary to decode.
    pub needs_dictionary: bool,
    /// For a missing blob whose older version is on the phone: the patch to try first, by the
    /// blob's hash (see [`crate::content::patch`]).
    pub patches: HashMap<String, PatchEntry>,
}

/// The files of a lesson rendition not yet in the content store. A missing blob with a usable
/// patch is fetched as that patch; the course's text pack is fetched only for members that have
/// none (after an update most members are on the phone already, or patch in a few bytes).
pub fn work(
    conn: &Connection,
    content: &ContentStore,
    lesson_id: &str,
    rendition: RenditionKind,
) -> Result<Work> {
    let plan = course::plan(conn, lesson_id, rendition)?;
    let missing: Vec<&BlobEntry> = plan.blobs.iter().filter(|b| !content.contains(&b.hash)).collect();
    let mut patches = HashMap::new();
    for blob in &missing {
        if let Some(found) = patch::usable_patch(conn, content, &plan.course_id, &blob.hash)? {
            patches.insert(blob.hash.clone(), found);
        }
    }
    let mut items = Vec::new();
    let in_pack = |b: &BlobEntry| plan.text_pack.as_ref().is_some_and(|p| p.members.contains(&b.hash));
    let needs_pack = |b: &BlobEntry| in_pack(b) && !patches.contains_key(&b.hash);
    if let Some(pack) = &plan.text_pack
        && missing.iter().any(|b| needs_pack(b))
    {
        items.push(WorkItem::TextPack(pack.clone()));
    }
    let direct: Vec<BlobEntry> = missing.into_iter().filter(|b| !needs_pack(b)).cloned().collect();
    // A patched blob needs no dictionary; one whose patch fails is fetched whole and then loads it.
    let needs_dictionary = direct
        .iter()
        .any(|b| b.encoding == crate::catalog::Encoding::ZstdDict && !patches.contains_key(&b.hash));
    items.extend(direct.into_iter().map(WorkItem::Blob));
    Ok(Work { plan, items, needs_dictionary, patches })
}

impl Work {
    /// Every blob this work fetches, the dictionary included when needed and missing.
    pub fn fetches<'a>(&'a self, content: &'a ContentStore) -> impl Iterator<Item = &'a BlobEntry> + 'a {
        let dictionary =
            self.plan.dictionary.as_ref().filter(|d| self.needs_dictionary && !content.contains(&d.hash));
        dictionary.into_iter().chain(self.items.iter().map(WorkItem::entry))
    }

    /// Bytes fetching `blob` costs: its patch when it has one, else what is left of it on the host.
    pub fn cost(&self, content: &ContentStore, blob: &BlobEntry) -> u64 {
        match self.patches.get(&blob.hash) {
            Some(patch) => patch.size,
            None => blob.stored_size.saturating_sub(partial_len(content, &blob.hash)),
        }
    }

    /// Bytes this work still has to fetch.
    pub fn bytes_to_fetch(&self, content: &ContentStore) -> u64 {
        self.fetches(content).map(|b| self.cost(content, b)).sum()
    }
}

/// Bytes of a blob already on disk in a partial file.
pub fn partial_len(content: &ContentStore, hash: &str) -> u64 {
    std::fs::metadata(content.partial_path(hash)).map(|m| m.len()).unwrap_or(0)
}

/// The size of a target before downloading it.
pub fn estimate(
    conn: &Connection,
    content: &ContentStore,
    target: &DownloadTarget,
    rendition: RenditionKind,
) -> Result<DownloadEstimate> {
    let lessons = lessons_of(conn, target, rendition)?;
    let mut seen = HashSet::new();
    let mut estimate = DownloadEstimate {
        lessons: to_i32(lessons.len()),
        lessons_already_downloaded: 0,
        bytes_total: 0,
        bytes_to_fetch: 0,
    };
    for (lesson_id, _) in &lessons {
        let work = work(conn, content, lesson_id, rendition)?;
        estimate.bytes_total += to_i64(work.plan.blobs.iter().map(|b| b.stored_size).sum::<u64>());
        if work.items.is_empty() {
            estimate.lessons_already_downloaded += 1;
        }
        for blob in work.fetches(content) {
            if seen.insert(blob.hash.clone()) {
                estimate.bytes_to_fetch += to_i64(work.cost(content, blob));
            }
        }
    }
    Ok(estimate)
}

/// Queues every lesson of `target` in `rendition`. A lesson already queued keeps its place (with
/// the higher of the two priorities); a failed or paused one is queued again (asking again is
/// the learner's wish); a done one stays done. Returns the download ids, in course order.
pub fn enqueue(
    tx: &Transaction<'_>,
    content: &ContentStore,
    target: &DownloadTarget,
    rendition: RenditionKind,
    priority: i32,
) -> Result<Vec<i64>> {
    let lessons = lessons_of(tx, target, rendition)?;
    let now = now_ms();
    let mut ids = Vec::with_capacity(lessons.len());
    for (lesson_id, _) in &lessons {
        let work = work(tx, content, lesson_id, rendition)?;
        if !work.items.is_empty() {
            // Refused now rather than failing in the run: nothing to fetch it from.
            work.plan.host()?;
        }
        let total: u64 = work.bytes_to_fetch(content);
        let state = if work.items.is_empty() { DownloadState::Done } else { DownloadState::Queued };
        let id: i64 = tx
            .prepare_cached(
                "INSERT INTO download (lesson_id, rendition, state, priority, bytes_total, bytes_done, created_at_ms, updated_at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?3 = ?7 THEN ?5 ELSE 0 END, ?6, ?6)
                 ON CONFLICT (lesson_id, rendition) DO UPDATE SET
                     priority = MAX(priority, excluded.priority),
                     state = CASE WHEN state IN (?9, ?10) THEN ?8
                                  WHEN state = ?7 AND excluded.state = ?8 THEN ?8
                                  ELSE state END,
                     bytes_total = CASE WHEN state IN (?9, ?10)
                                          OR (state = ?7 AND excluded.state = ?8)
                                        THEN excluded.bytes_total ELSE bytes_total END,
                     bytes_done = CASE WHEN state IN (?9, ?10)
                                         OR (state = ?7 AND excluded.state = ?8)
                                       THEN excluded.bytes_done ELSE bytes_done END,
                     attempts = 0, failure = NULL, updated_at_ms = excluded.updated_at_ms
                 RETURNING id",
            )?
            .query_row(
                params![
                    lesson_id,
                    rendition,
                    state,
                    priority,
                    total,
                    now,
                    DownloadState::Done,
                    DownloadState::Queued,
                    DownloadState::Failed,
                    DownloadState::Paused
                ],
                |r| r.get(0),
            )?;
        ids.push(id);
    }
    Ok(ids)
}

/// Records a lesson rendition whose every file is already verified on the phone (brought by a
/// shared file) as a finished download, so it is listed, kept and evicted like any other.
pub fn record_done(tx: &Transaction<'_>, lesson_id: &str, rendition: RenditionKind) -> Result<()> {
    let now = now_ms();
    tx.prepare_cached(
        "INSERT INTO download (lesson_id, rendition, state, priority, bytes_total, bytes_done, created_at_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, 0, 0, 0, ?4, ?4)
         ON CONFLICT (lesson_id, rendition) DO UPDATE SET
             state = excluded.state, failure = NULL, attempts = 0, updated_at_ms = excluded.updated_at_ms",
    )?
    .execute(params![lesson_id, rendition, DownloadState::Done, now])?;
    Ok(())
}

const SELECT_INFO: &str =
    "SELECT d.id, d.lesson_id, COALESCE(l.course_id, ''), d.rendition, d.state, d.priority,
        d.bytes_total, d.bytes_done, d.failure
    FROM download d LEFT JOIN lesson l ON l.id = d.lesson_id";

fn read_info(r: &rusqlite::Row<'_>) -> rusqlite::Result<DownloadInfo> {
    Ok(DownloadInfo {
        id: r.get(0)?,
        lesson_id: r.get(1)?,
        course_id: r.get(2)?,
        rendition: r.get(3)?,
        state: r.get(4)?,
        priority: r.get(5)?,
        bytes_total: r.get(6)?,
        bytes_done: r.get(7)?,
        failure: r.get(8)?,
    })
}

pub fn info(conn: &Connection, id: i64) -> Result<DownloadInfo> {
    conn.prepare_cached(&format!("{SELECT_INFO} WHERE d.id = ?1"))?
        .query_row([id], read_info)
        .optional()?
        .ok_or_else(|| Error::not_found("download", id.to_string()))
}

/// Every download, optionally of one course: running first, then by priority and age.
pub fn list(conn: &Connection, course_id: Option<&str>) -> Result<Vec<DownloadInfo>> {
    let sql = format!(
        "{SELECT_INFO} WHERE ?1 IS NULL OR l.course_id = ?1
         ORDER BY d.state = ?2, d.state != ?3, d.priority DESC, d.created_at_ms, d.id"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_map(params![course_id, DownloadState::Done, DownloadState::Running], read_info)?
        .collect::<rusqlite::Result<_>>()?)
}

/// Sets a download's state (and failure text), returning its new info if it changed.
pub fn set_state(
    tx: &Transaction<'_>,
    id: i64,
    state: DownloadState,
    failure: Option<&str>,
) -> Result<Option<DownloadInfo>> {
    let changed = tx
        .prepare_cached(
            "UPDATE download SET state = ?2, failure = ?3, updated_at_ms = ?4
             WHERE id = ?1 AND (state != ?2 OR failure IS NOT ?3)",
        )?
        .execute(params![id, state, failure, now_ms()])?;
    Ok(if changed > 0 { Some(info(tx, id)?) } else { None })
}

/// Pauses a download that has not finished. Returns its info if it changed.
pub fn pause(tx: &Transaction<'_>, id: i64) -> Result<Option<DownloadInfo>> {
    let current = info(tx, id)?;
    match current.state {
        DownloadState::Done | DownloadState::Paused => Ok(None),
        _ => set_state(tx, id, DownloadState::Paused, None),
    }
}

/// Queues a paused or failed download again, forgetting its failures.
pub fn resume(tx: &Transaction<'_>, id: i64) -> Result<Option<DownloadInfo>> {
    let current = info(tx, id)?;
    match current.state {
        DownloadState::Paused | DownloadState::Failed => {
            tx.execute("UPDATE download SET attempts = 0 WHERE id = ?1", [id])?;
            tx.execute(
                "UPDATE partial_blob SET verify_failures = 0 WHERE hash IN
                   (SELECT rb.hash FROM rendition_blob rb JOIN download d
                      ON d.lesson_id = rb.lesson_id AND d.rendition = rb.rendition WHERE d.id = ?1)",
                [id],
            )?;
            set_state(tx, id, DownloadState::Queued, None)
        }
        _ => Ok(None),
    }
}

/// Downloads left `running` by a process that died (or a run that ended): queued again, to
/// resume from their bytes. Called when a run starts, when nothing of this account is in flight.
pub fn requeue_orphans(tx: &Transaction<'_>) -> Result<()> {
    let running: Vec<i64> = tx
        .prepare_cached("SELECT id FROM download WHERE state = ?1")?
        .query_map([DownloadState::Running], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in running {
        set_state(tx, id, DownloadState::Queued, None)?;
    }
    Ok(())
}

/// Reacts to a catalog import in its transaction: an update re-queues what it left incomplete.
pub fn after_import(tx: &Transaction<'_>, content: &ContentStore, outcome: &ImportOutcome) -> Result<()> {
    if outcome.status == ImportStatus::Updated {
        requeue_incomplete(tx, content, &outcome.course_id)?;
    }
    Ok(())
}

/// After a course update: a finished download whose rendition now lists a file that is not on
/// the phone is queued again (never shown offline while incomplete). Same transaction as the
/// import. Its size is what the next run fetches for it, counted as `enqueue` counts it
/// ([`Work::bytes_to_fetch`]): a patch's bytes for a file with a patch from one on the phone,
/// the text pack for members without one, the dictionary when a whole text needs it. The
/// budget check weighs this figure, so it must not fall short of what the run moves.
pub fn requeue_incomplete(tx: &Transaction<'_>, content: &ContentStore, course_id: &str) -> Result<()> {
    let done: Vec<(i64, String, RenditionKind)> = tx
        .prepare_cached(
            "SELECT d.id, d.lesson_id, d.rendition FROM download d JOIN lesson l ON l.id = d.lesson_id
             WHERE d.state = ?1 AND l.course_id = ?2",
        )?
        .query_map(params![DownloadState::Done, course_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (id, lesson_id, rendition) in done {
        if !lacks_files(tx, id)? {
            continue;
        }
        let total = work(tx, content, &lesson_id, rendition)?.bytes_to_fetch(content);
        tx.prepare_cached(
            "UPDATE download SET state = ?2, failure = NULL, attempts = 0, bytes_total = ?3,
                    bytes_done = 0, updated_at_ms = ?4
             WHERE id = ?1",
        )?
        .execute(params![id, DownloadState::Queued, to_i64(total), now_ms()])?;
    }
    Ok(())
}

/// Whether download `id`'s rendition lists a file that is not in the content store (a course
/// update changed it).
pub fn lacks_files(tx: &Transaction<'_>, id: i64) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM download d JOIN rendition_blob rb
                              ON rb.lesson_id = d.lesson_id AND rb.rendition = d.rendition
                            WHERE d.id = ?1 AND rb.hash NOT IN (SELECT hash FROM content_blob))",
        )?
        .query_row([id], |r| r.get(0))?)
}

/// The states of a download waiting for its turn (its own, or the network's or budget's).
const WAITING: [DownloadState; 3] =
    [DownloadState::Queued, DownloadState::WaitingForNetwork, DownloadState::WaitingForBudget];

/// How many downloads are still to do: running or waiting.
pub fn count_remaining(conn: &Connection) -> Result<u32> {
    let [queued, network, budget] = WAITING;
    Ok(conn
        .prepare_cached("SELECT count(*) FROM download WHERE state IN (?1, ?2, ?3, ?4)")?
        .query_row(params![queued, network, budget, DownloadState::Running], |r| r.get(0))?)
}

/// The ids of downloads waiting to run (queued or held by a policy), best first.
pub fn candidates(conn: &Connection) -> Result<Vec<(i64, DownloadState, u64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, state, MAX(bytes_total - bytes_done, 0) FROM download
             WHERE state IN (?1, ?2, ?3)
             ORDER BY priority DESC, created_at_ms, id",
        )?
        .query_map(WAITING, |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Saves how far a running download has come.
pub fn save_progress(tx: &Transaction<'_>, id: i64, bytes_done: u64) -> Result<()> {
    tx.prepare_cached("UPDATE download SET bytes_done = ?2, updated_at_ms = ?3 WHERE id = ?1")?
        .execute(params![id, bytes_done, now_ms()])?;
    Ok(())
}
