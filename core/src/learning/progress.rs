//! Recording progress through lessons, and the completion rules per lesson kind.
//!
//! - video: complete once 90% has actually been played, or playback reached the end;
//! - reading: complete once scrolled to the end;
//! - quiz: complete once passed (see `quiz`).
//!
//! Completion is sticky: nothing a learner does later un-completes a lesson. Every write also
//! records the lesson's new state in the sync outbox, in the same transaction.

use std::time::{Duration, Instant};

use rusqlite::{OptionalExtension, Transaction, params};
use satchel_protocol::Record;
use satchel_protocol::records::{LocalProgress, ProgressRecord};

use super::session::StudyClock;
use super::study_time;
use super::watched::{self, WatchedRanges};
use crate::catalog::{self, LessonKind};
use crate::error::{Error, Result};
use crate::outbox::{self, Priority};
use crate::store::Store;
use crate::sync::local as sync_record;
use crate::time::now_ms;

/// Share of a video that must be played for it to count as complete.
pub const VIDEO_COMPLETE_FRACTION: f64 = 0.9;
/// A position this close to the end counts as "reached the end".
pub const END_SLACK_MS: i64 = 1_000;
/// Scrolled this far through a reading counts as "scrolled to the end" (layout rounding).
pub const READING_COMPLETE_FRACTION: f64 = 0.98;
/// Fastest playback speed players offer; a forward jump faster than this was a seek.
const MAX_PLAYBACK_SPEED: f64 = 2.5;
const POSITION_SLACK_MS: i64 = 1_500;

/// A learner's progress through one lesson.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct LessonProgress {
    pub lesson_id: String,
    pub course_id: String,
    /// Where to resume playback.
    pub position_ms: i64,
    /// The furthest position reached, by playing or seeking.
    pub furthest_ms: i64,
    /// How much of the video was actually played.
    pub watched_ms: i64,
    /// How far a reading was scrolled, 0.0 to 1.0.
    pub scroll_fraction: f64,
    pub completed: bool,
    pub completed_at_ms: Option<i64>,
    /// Learning time spent on this lesson on this device and synced from others.
    pub time_spent_ms: i64,
    pub updated_at_ms: i64,
}

/// Where a report came from.
enum Report {
    Playback { position_ms: i64 },
    Reading { fraction: f64 },
}

/// Records a playback position report for a video lesson.
pub fn record_playback(
    store: &Store,
    clock: &StudyClock,
    device_id: &str,
    lesson_id: &str,
    position_ms: i64,
) -> Result<LessonProgress> {
    record_playback_at(store, clock, device_id, lesson_id, position_ms, Instant::now())
}

/// [`record_playback`] with the report's monotonic time given, for tests and simulations.
pub fn record_playback_at(
    store: &Store,
    clock: &StudyClock,
    device_id: &str,
    lesson_id: &str,
    position_ms: i64,
    now: Instant,
) -> Result<LessonProgress> {
    if position_ms < 0 {
        return Err(Error::invalid(format!("position {position_ms} ms is negative")));
    }
    record(store, clock, device_id, lesson_id, Report::Playback { position_ms }, now)
}

/// Records how far a reading has been scrolled (0.0 = top, 1.0 = end visible).
pub fn record_reading(
    store: &Store,
    clock: &StudyClock,
    device_id: &str,
    lesson_id: &str,
    scroll_fraction: f64,
) -> Result<LessonProgress> {
    if !(0.0..=1.0).contains(&scroll_fraction) {
        return Err(Error::invalid(format!("scroll fraction {scroll_fraction} is not between 0 and 1")));
    }
    record(store, clock, device_id, lesson_id, Report::Reading { fraction: scroll_fraction }, Instant::now())
}

fn record(
    store: &Store,
    clock: &StudyClock,
    device_id: &str,
    lesson_id: &str,
    report: Report,
    now: Instant,
) -> Result<LessonProgress> {
    let gap = clock.gap(lesson_id, now);
    let position_for_clock = match report {
        Report::Playback { position_ms } => position_ms,
        Report::Reading { .. } => 0,
    };
    let progress = store.write(|tx| {
        let facts = catalog::lesson_facts(tx, lesson_id)?;
        let mut row = load_row(tx, lesson_id)?.unwrap_or_else(|| Row::new(lesson_id, &facts.course_id));
        match report {
            Report::Playback { position_ms } => {
                if facts.kind != LessonKind::Video {
                    return Err(Error::invalid(format!("lesson {lesson_id:?} is not a video")));
                }
                let duration = facts.duration_ms.unwrap_or(i64::MAX);
                if position_ms > duration.saturating_add(END_SLACK_MS) {
                    return Err(Error::invalid(format!(
                        "position {position_ms} ms is beyond the lesson's length of {duration} ms"
                    )));
                }
                let position = position_ms.min(duration);
                if let Some(previous) = gap.previous_position_ms
                    && was_played(previous, position, gap.counted)
                {
                    row.watched.add(previous, position);
                }
                row.position_ms = position;
                row.furthest_ms = row.furthest_ms.max(position);
                let played_enough = facts.duration_ms.is_some_and(|d| {
                    d > 0 && row.watched.total() as f64 >= VIDEO_COMPLETE_FRACTION * d as f64
                });
                let reached_end = facts.duration_ms.is_some_and(|d| position >= d - END_SLACK_MS);
                if played_enough || reached_end {
                    row.complete();
                }
            }
            Report::Reading { fraction } => {
                if facts.kind != LessonKind::Reading {
                    return Err(Error::invalid(format!("lesson {lesson_id:?} is not a reading")));
                }
                row.scroll_fraction = row.scroll_fraction.max(fraction);
                if row.scroll_fraction >= READING_COMPLETE_FRACTION {
                    row.complete();
                }
            }
        }
        let counted_ms = duration_ms(gap.counted);
        study_time::add(tx, counted_ms)?;
        save(tx, device_id, &mut row, counted_ms)
    })?;
    clock.record(lesson_id, now, position_for_clock);
    Ok(progress)
}

/// A forward move no faster than the fastest playback speed was played, not seeked.
fn was_played(from_ms: i64, to_ms: i64, elapsed: Duration) -> bool {
    let advanced = to_ms - from_ms;
    advanced > 0
        && advanced as f64 <= duration_ms(elapsed) as f64 * MAX_PLAYBACK_SPEED + POSITION_SLACK_MS as f64
}

fn duration_ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Marks a lesson complete (a passed quiz), keeping any earlier completion time.
pub(crate) fn mark_complete(
    tx: &Transaction<'_>,
    device_id: &str,
    lesson_id: &str,
    course_id: &str,
) -> Result<()> {
    let mut row = load_row(tx, lesson_id)?.unwrap_or_else(|| Row::new(lesson_id, course_id));
    if row.completed_at_ms.is_none() {
        row.complete();
        save(tx, device_id, &mut row, 0)?;
    }
    Ok(())
}

/// Progress of one lesson (a fresh, empty record if the learner has not started it).
pub fn lesson_progress(conn: &rusqlite::Connection, lesson_id: &str) -> Result<LessonProgress> {
    let facts = catalog::lesson_facts(conn, lesson_id)?;
    Ok(load_row(conn, lesson_id)?.unwrap_or_else(|| Row::new(lesson_id, &facts.course_id)).public())
}

/// The stored row, with watched ranges parsed.
struct Row {
    lesson_id: String,
    course_id: String,
    position_ms: i64,
    furthest_ms: i64,
    watched: WatchedRanges,
    scroll_fraction: f64,
    completed_at_ms: Option<i64>,
    time_spent_ms: i64,
    updated_at_ms: i64,
}

impl Row {
    fn new(lesson_id: &str, course_id: &str) -> Row {
        Row {
            lesson_id: lesson_id.to_owned(),
            course_id: course_id.to_owned(),
            position_ms: 0,
            furthest_ms: 0,
            watched: WatchedRanges::default(),
            scroll_fraction: 0.0,
            completed_at_ms: None,
            time_spent_ms: 0,
            updated_at_ms: 0,
        }
    }

    /// The row a record materialises to (time spent: the sum over the learner's devices).
    fn from_record(record: &ProgressRecord) -> Row {
        Row {
            lesson_id: record.lesson_id.clone(),
            course_id: record.course_id.clone(),
            position_ms: record.position_ms.value,
            furthest_ms: record.furthest_ms,
            watched: WatchedRanges::from_ranges(&record.watched),
            scroll_fraction: record.scroll_fraction,
            completed_at_ms: record.completed_at_ms,
            time_spent_ms: record.total_time_ms(),
            updated_at_ms: now_ms(),
        }
    }

    /// The row as this device's contribution to the lesson's record.
    fn local(&self, device_time_ms: i64) -> LocalProgress<'_> {
        LocalProgress {
            position_ms: self.position_ms,
            furthest_ms: self.furthest_ms,
            watched: self.watched.ranges(),
            scroll_fraction: self.scroll_fraction,
            completed_at_ms: self.completed_at_ms,
            device_time_ms,
        }
    }

    fn complete(&mut self) {
        self.completed_at_ms.get_or_insert_with(now_ms);
    }

    fn public(&self) -> LessonProgress {
        LessonProgress {
            lesson_id: self.lesson_id.clone(),
            course_id: self.course_id.clone(),
            position_ms: self.position_ms,
            furthest_ms: self.furthest_ms,
            watched_ms: self.watched.total(),
            scroll_fraction: self.scroll_fraction,
            completed: self.completed_at_ms.is_some(),
            completed_at_ms: self.completed_at_ms,
            time_spent_ms: self.time_spent_ms,
            updated_at_ms: self.updated_at_ms,
        }
    }
}

fn load_row(conn: &rusqlite::Connection, lesson_id: &str) -> Result<Option<Row>> {
    Ok(conn
        .prepare_cached(
            "SELECT course_id, position_ms, furthest_ms, watched, scroll_fraction, completed_at_ms,
                    time_spent_ms, updated_at_ms
             FROM progress WHERE lesson_id = ?1",
        )?
        .query_row([lesson_id], |r| {
            Ok(Row {
                lesson_id: lesson_id.to_owned(),
                course_id: r.get(0)?,
                position_ms: r.get(1)?,
                furthest_ms: r.get(2)?,
                watched: WatchedRanges::from_json(&r.get::<_, String>(3)?),
                scroll_fraction: r.get(4)?,
                completed_at_ms: r.get(5)?,
                time_spent_ms: r.get(6)?,
                updated_at_ms: r.get(7)?,
            })
        })
        .optional()?)
}

/// Folds the row's new local state (and `counted_ms` more learning time on this device) into
/// the lesson's sync record, then stores the row as the record now says, with its outbox entry.
fn save(tx: &Transaction<'_>, device_id: &str, row: &mut Row, counted_ms: i64) -> Result<LessonProgress> {
    let stamp = outbox::stamp(tx, device_id)?;
    let previous = sync_record::load_progress(tx, &row.lesson_id)?;
    let was_complete = previous.as_ref().is_some_and(|r| r.completed_at_ms.is_some());
    let device_time_ms = previous
        .as_ref()
        .map_or(row.time_spent_ms, |r| r.time_by_device.get(device_id).copied().unwrap_or(0))
        .saturating_add(counted_ms);
    let local = row.local(device_time_ms);
    let mut record = match previous {
        Some(mut record) => {
            record.observe_local(stamp.clone(), &local)?;
            record
        }
        None => ProgressRecord::from_local(&row.lesson_id, &row.course_id, stamp.clone(), &local)?,
    };
    record.compact_watched(watched::MAX_RANGES);
    // A completion is what the learner waits to see on their other phone: first on a metered link.
    let priority =
        if !was_complete && record.completed_at_ms.is_some() { Priority::Urgent } else { Priority::Bulk };
    *row = Row::from_record(&record);
    write_row(tx, row)?;
    tx.prepare_cached("UPDATE course SET last_studied_at_ms = ?1 WHERE id = ?2")?
        .execute(params![row.updated_at_ms, row.course_id])?;
    sync_record::save_local(tx, &Record::Progress(record), &stamp, priority)?;
    Ok(row.public())
}

/// Stores a lesson's progress as a record pulled from the server (merged with the local one)
/// says. Nothing goes to the outbox: the server has it.
pub(crate) fn apply_remote(tx: &Transaction<'_>, record: &ProgressRecord) -> Result<()> {
    write_row(tx, &Row::from_record(record))
}

/// Builds the sync records of progress written before sync existed (all of it this device's).
pub(crate) fn backfill_records(tx: &Transaction<'_>, device_id: &str) -> Result<()> {
    let lessons: Vec<String> = tx
        .prepare_cached(
            "SELECT lesson_id FROM progress p WHERE NOT EXISTS
                 (SELECT 1 FROM sync_record r WHERE r.kind = 'progress' AND r.entity_id = p.lesson_id)",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for lesson_id in lessons {
        let Some(row) = load_row(tx, &lesson_id)? else { continue };
        let stamp = outbox::stamp(tx, device_id)?;
        let local = row.local(row.time_spent_ms);
        let record = ProgressRecord::from_local(&row.lesson_id, &row.course_id, stamp.clone(), &local)?;
        let priority = if record.completed_at_ms.is_some() { Priority::Urgent } else { Priority::Bulk };
        sync_record::save_local(tx, &Record::Progress(record), &stamp, priority)?;
    }
    Ok(())
}

fn write_row(tx: &Transaction<'_>, row: &Row) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO progress (lesson_id, course_id, position_ms, furthest_ms, watched, watched_ms,
                               scroll_fraction, completed_at_ms, time_spent_ms, updated_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
         ON CONFLICT (lesson_id) DO UPDATE SET
             position_ms = excluded.position_ms, furthest_ms = excluded.furthest_ms,
             watched = excluded.watched, watched_ms = excluded.watched_ms,
             scroll_fraction = excluded.scroll_fraction, completed_at_ms = excluded.completed_at_ms,
             time_spent_ms = excluded.time_spent_ms, updated_at_ms = excluded.updated_at_ms",
    )?
    .execute(params![
        row.lesson_id,
        row.course_id,
        row.position_ms,
        row.furthest_ms,
        row.watched.to_json(),
        row.watched.total(),
        row.scroll_fraction,
        row.completed_at_ms,
        row.time_spent_ms,
        row.updated_at_ms
    ])?;
    Ok(())
}

#[cfg(test)]
#[path = "progress_tests.rs"]
mod tests;
