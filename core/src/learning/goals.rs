//! Enrolment, the weekly goal, and the learning summary (today, this week, streak), all computed
//! on the phone from local data.

use rusqlite::{Connection, OptionalExtension, Transaction, params};
use satchel_protocol::Record;
use satchel_protocol::records::{EnrollmentRecord, SettingRecord};

use super::study_time;
use crate::api_int::to_i32;
use crate::catalog;
use crate::error::{Error, Result};
use crate::outbox::{self, Priority};
use crate::store::meta;
use crate::sync::local as sync_record;
use crate::time::now_ms;

/// A day counts towards the goal and the streak with at least this much learning.
pub const STUDY_DAY_MIN_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
const DEFAULT_WEEKLY_GOAL_DAYS: u8 = 3;
/// The synced setting (and `meta` key) of the weekly goal.
pub const WEEKLY_GOAL_KEY: &str = "weekly_goal_days";

/// A course the learner enrolled in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Enrollment {
    pub course_id: String,
    pub enrolled_at_ms: i64,
}

/// How the learner is doing against their goal, computed offline.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LearningSummary {
    pub today_ms: i64,
    /// Monday to today, in the learner's local time.
    pub this_week_ms: i64,
    pub study_days_this_week: i32,
    /// Goal: this many study days a week.
    pub weekly_goal_days: i32,
    pub weekly_goal_met: bool,
    /// Consecutive study days up to today (or up to yesterday, while today is still open).
    pub current_streak_days: i32,
    pub longest_streak_days: i32,
    pub total_ms: i64,
}

/// Enrols in a course; enrolling again changes nothing.
pub fn enroll(tx: &Transaction<'_>, device_id: &str, course_id: &str) -> Result<Enrollment> {
    catalog::course(tx, course_id)?;
    if let Some(existing) = tx
        .prepare_cached("SELECT enrolled_at_ms FROM enrollment WHERE course_id = ?1")?
        .query_row([course_id], |r| r.get(0))
        .optional()?
    {
        return Ok(Enrollment { course_id: course_id.to_owned(), enrolled_at_ms: existing });
    }
    let enrolled_at_ms = now_ms();
    tx.prepare_cached("INSERT INTO enrollment (course_id, enrolled_at_ms) VALUES (?1, ?2)")?
        .execute(params![course_id, enrolled_at_ms])?;
    let stamp = outbox::stamp(tx, device_id)?;
    let mine = EnrollmentRecord::new(course_id, enrolled_at_ms, stamp.clone())?;
    let record = match sync_record::load_enrollment(tx, course_id)? {
        Some(previous) => previous.merge(mine),
        None => mine,
    };
    sync_record::save_local(tx, &Record::Enrollment(record), &stamp, Priority::Normal)?;
    Ok(Enrollment { course_id: course_id.to_owned(), enrolled_at_ms })
}

pub fn enrollments(conn: &Connection) -> Result<Vec<Enrollment>> {
    let mut stmt =
        conn.prepare_cached("SELECT course_id, enrolled_at_ms FROM enrollment ORDER BY enrolled_at_ms")?;
    let rows = stmt
        .query_map([], |r| Ok(Enrollment { course_id: r.get(0)?, enrolled_at_ms: r.get(1)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Sets the weekly goal, in study days per week (1 to 7).
pub fn set_weekly_goal(tx: &Transaction<'_>, device_id: &str, days: u8) -> Result<()> {
    if !(1..=7).contains(&days) {
        return Err(Error::invalid(format!("a weekly goal of {days} days is not between 1 and 7")));
    }
    meta::put(tx, WEEKLY_GOAL_KEY, &days.to_string())?;
    let stamp = outbox::stamp(tx, device_id)?;
    let value = serde_json::json!(days);
    let record = match sync_record::load_setting(tx, WEEKLY_GOAL_KEY)? {
        Some(mut record) => {
            record.set(value, stamp.clone())?;
            record
        }
        None => SettingRecord::new(WEEKLY_GOAL_KEY, value, stamp.clone())?,
    };
    sync_record::save_local(tx, &Record::Setting(record), &stamp, Priority::Normal)?;
    Ok(())
}

/// Builds the sync records of enrolments and the goal set before sync existed.
pub(crate) fn backfill_records(tx: &Transaction<'_>, device_id: &str) -> Result<()> {
    for enrollment in enrollments(tx)? {
        if sync_record::load_enrollment(tx, &enrollment.course_id)?.is_none() {
            let stamp = outbox::stamp(tx, device_id)?;
            let record =
                EnrollmentRecord::new(&enrollment.course_id, enrollment.enrolled_at_ms, stamp.clone())?;
            sync_record::save_local(tx, &Record::Enrollment(record), &stamp, Priority::Normal)?;
        }
    }
    if let Some(days) = meta::get(tx, WEEKLY_GOAL_KEY)?.and_then(|g| g.parse::<u8>().ok())
        && sync_record::load_setting(tx, WEEKLY_GOAL_KEY)?.is_none()
    {
        let stamp = outbox::stamp(tx, device_id)?;
        let record = SettingRecord::new(WEEKLY_GOAL_KEY, serde_json::json!(days), stamp.clone())?;
        sync_record::save_local(tx, &Record::Setting(record), &stamp, Priority::Normal)?;
    }
    Ok(())
}

/// Stores an enrolment as a record pulled from the server (merged with the local one) says.
pub(crate) fn apply_remote_enrollment(tx: &Transaction<'_>, record: &EnrollmentRecord) -> Result<()> {
    if record.unenrolled.value {
        tx.prepare_cached("DELETE FROM enrollment WHERE course_id = ?1")?.execute([&record.course_id])?;
    } else {
        tx.prepare_cached(
            "INSERT INTO enrollment (course_id, enrolled_at_ms) VALUES (?1, ?2)
             ON CONFLICT (course_id) DO UPDATE SET enrolled_at_ms = excluded.enrolled_at_ms",
        )?
        .execute(params![record.course_id, record.enrolled_at_ms])?;
    }
    Ok(())
}

/// Stores a setting pulled from the server. Settings this version does not know stay in their
/// sync record only (a newer app on another device may use them).
pub(crate) fn apply_remote_setting(tx: &Transaction<'_>, record: &SettingRecord) -> Result<()> {
    if record.key == WEEKLY_GOAL_KEY
        && let Some(days) = record.value.value.as_u64().filter(|d| (1..=7).contains(d))
    {
        meta::put(tx, WEEKLY_GOAL_KEY, &days.to_string())?;
    }
    Ok(())
}

/// The learner's summary at `now_ms`, cutting days at the given offset from UTC (the app passes
/// the device's current offset, e.g. +180 for East Africa Time).
pub fn summary(conn: &Connection, now_ms: i64, utc_offset_minutes: i32) -> Result<LearningSummary> {
    if !(-18 * 60..=18 * 60).contains(&utc_offset_minutes) {
        return Err(Error::invalid(format!("UTC offset {utc_offset_minutes} minutes is out of range")));
    }
    let goal: u8 = match meta::get(conn, WEEKLY_GOAL_KEY)? {
        Some(text) => {
            text.parse().map_err(|_| Error::corrupt("weekly goal", format!("{text:?} is not a number")))?
        }
        None => DEFAULT_WEEKLY_GOAL_DAYS,
    };
    let days = study_time::per_local_day(conn, utc_offset_minutes)?;
    Ok(summarize(&days, now_ms, utc_offset_minutes, goal))
}

/// Pure computation over (local day, ms) pairs, sorted by day.
pub fn summarize(days: &[(i64, i64)], now_ms: i64, utc_offset_minutes: i32, goal: u8) -> LearningSummary {
    let today = (now_ms + i64::from(utc_offset_minutes) * 60_000).div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday: Monday-based weekday = (day + 3) mod 7.
    let week_start = today - (today + 3).rem_euclid(7);
    let studied: Vec<i64> = days.iter().filter(|(_, ms)| *ms >= STUDY_DAY_MIN_MS).map(|(d, _)| *d).collect();

    let ms_on =
        |from: i64, to: i64| days.iter().filter(|(d, _)| (from..=to).contains(d)).map(|(_, ms)| ms).sum();
    let study_days_this_week = studied.iter().filter(|d| (week_start..=today).contains(d)).count() as u8;

    let mut longest = 0u32;
    let mut run = 0u32;
    let mut previous: Option<i64> = None;
    for &day in studied.iter().filter(|d| **d <= today) {
        run = if previous == Some(day - 1) { run + 1 } else { 1 };
        longest = longest.max(run);
        previous = Some(day);
    }
    let current = match previous {
        Some(last) if last == today || last == today - 1 => run,
        _ => 0,
    };
    LearningSummary {
        today_ms: ms_on(today, today),
        this_week_ms: ms_on(week_start, today),
        study_days_this_week: i32::from(study_days_this_week),
        weekly_goal_days: i32::from(goal),
        weekly_goal_met: study_days_this_week >= goal,
        current_streak_days: to_i32(current),
        longest_streak_days: to_i32(longest),
        total_ms: days.iter().map(|(_, ms)| ms).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn a_study_day_needs_exactly_a_minute() {
        let day = 20_000;
        let now = day * DAY_MS + 3_600_000;
        let s = summarize(&[(day, STUDY_DAY_MIN_MS - 1)], now, 0, 1);
        assert_eq!((s.study_days_this_week, s.current_streak_days, s.weekly_goal_met), (0, 0, false));
        let s = summarize(&[(day, STUDY_DAY_MIN_MS)], now, 0, 1);
        assert_eq!((s.study_days_this_week, s.current_streak_days, s.weekly_goal_met), (1, 1, true));
        assert_eq!((s.today_ms, s.this_week_ms, s.total_ms), (60_000, 60_000, 60_000));
    }

    #[test]
    fn weeks_start_on_monday_and_the_goal_is_met_at_exactly_its_days() {
        // Day 20_000 (2024-10-04) is a Friday: that week's Monday is day 19_996.
        let monday = 19_996;
        let sunday = monday + 6;
        let now = sunday * DAY_MS + 60_000;
        let all_week: Vec<(i64, i64)> = (monday - 1..=sunday).map(|d| (d, 2 * MIN)).collect();
        let s = summarize(&all_week, now, 0, 7);
        assert_eq!(s.study_days_this_week, 7, "the Sunday before does not count");
        assert!(s.weekly_goal_met);
        assert_eq!(s.this_week_ms, 7 * 2 * MIN);
        assert_eq!(s.total_ms, 8 * 2 * MIN);
        assert_eq!((s.current_streak_days, s.longest_streak_days), (8, 8));
        let s = summarize(&all_week[..7], now, 0, 7);
        assert_eq!(s.study_days_this_week, 6);
        assert!(!s.weekly_goal_met);
        // On Monday itself, only Monday is this week.
        let s = summarize(&all_week, monday * DAY_MS, 0, 1);
        assert_eq!((s.study_days_this_week, s.this_week_ms, s.today_ms), (1, 2 * MIN, 2 * MIN));
    }

    #[test]
    fn local_days_follow_the_utc_offset() {
        // 22:30 UTC on day 20_000 is already day 20_001 at UTC+3, and still day 20_000 at UTC-3.
        let now = 20_000 * DAY_MS + 22 * 3_600_000 + 30 * 60_000;
        let days = [(20_001, 5 * MIN)];
        assert_eq!(summarize(&days, now, 180, 1).today_ms, 5 * MIN);
        assert_eq!(summarize(&days, now, -180, 1).today_ms, 0);
        assert_eq!(summarize(&days, now, 0, 1).today_ms, 0);
    }

    #[test]
    fn streaks_run_to_today_or_yesterday_and_the_longest_is_kept() {
        let today = 20_000;
        let now = today * DAY_MS;
        // A 3-day run long ago, a gap, then a 2-day run ending today.
        let days = [(today - 10, MIN), (today - 9, MIN), (today - 8, MIN), (today - 1, MIN), (today, MIN)];
        let s = summarize(&days, now, 0, 3);
        assert_eq!((s.current_streak_days, s.longest_streak_days), (2, 3));
        // Ending yesterday still counts; days after today (a clock set back) do not.
        let s = summarize(&[(today - 2, MIN), (today - 1, MIN), (today + 1, MIN)], now, 0, 3);
        assert_eq!((s.current_streak_days, s.longest_streak_days), (2, 2));
        assert_eq!(summarize(&[], now, 0, 3).current_streak_days, 0);
    }

    #[test]
    fn the_goal_is_one_to_seven_days_defaults_to_three_and_is_stored() {
        let (_d, store) = crate::catalog::test_support::sample_store();
        assert_eq!(store.read(|c| summary(c, 0, 0)).unwrap().weekly_goal_days, 3);
        for bad in [0, 8] {
            assert!(matches!(
                store.write(|tx| set_weekly_goal(tx, "phone", bad)),
                Err(Error::InvalidArgument(_))
            ));
        }
        for days in [1, 7, 5] {
            store.write(|tx| set_weekly_goal(tx, "phone", days)).unwrap();
            assert_eq!(store.read(|c| summary(c, 0, 0)).unwrap().weekly_goal_days, i32::from(days));
        }
        for offset in [-18 * 60, 18 * 60] {
            assert!(store.read(|c| summary(c, 0, offset)).is_ok());
        }
        for offset in [-18 * 60 - 1, 18 * 60 + 1] {
            assert!(matches!(store.read(|c| summary(c, 0, offset)), Err(Error::InvalidArgument(_))));
        }
        store.write(|tx| meta::put(tx, WEEKLY_GOAL_KEY, "many")).unwrap();
        assert!(matches!(store.read(|c| summary(c, 0, 0)), Err(Error::Corrupt { .. })));
    }

    #[test]
    fn enrolling_twice_keeps_the_first_time() {
        let (_d, store) = crate::catalog::test_support::sample_store();
        assert!(store.read(enrollments).unwrap().is_empty());
        let first = store.write(|tx| enroll(tx, "phone", "web-basics")).unwrap();
        let again = store.write(|tx| enroll(tx, "phone", "web-basics")).unwrap();
        assert_eq!(again, first);
        assert_eq!(store.read(enrollments).unwrap(), [first]);
        assert!(store.write(|tx| enroll(tx, "phone", "nope")).is_err());
    }

    #[test]
    fn streaks_and_weeks_are_counted_in_local_days() {
        // Day 20_000 (2024-10-04) is a Friday.
        let friday = 20_000;
        let now = friday * DAY_MS + 10 * 3_600_000; // Friday 10:00 UTC
        let days = [(friday - 5, 30 * MIN), (friday - 2, 5 * MIN), (friday - 1, 20 * MIN), (friday, 30_000)];
        let s = summarize(&days, now, 0, 3);
        assert_eq!(s.current_streak_days, 2, "Wed+Thu; today has under a minute so far");
        assert_eq!(s.longest_streak_days, 2);
        assert_eq!(s.study_days_this_week, 2, "Mon..Fri: Wed and Thu");
        assert!(!s.weekly_goal_met);
        assert_eq!(s.today_ms, 30_000);
        assert_eq!(s.this_week_ms, 5 * MIN + 20 * MIN + 30_000);

        // Studying a day before yesterday only: the streak is broken.
        let s = summarize(&[(friday - 2, 10 * MIN)], now, 0, 1);
        assert_eq!(s.current_streak_days, 0);
        assert_eq!(s.longest_streak_days, 1);
        assert!(s.weekly_goal_met);
    }

    #[test]
    fn enrolments_and_a_goal_set_before_sync_get_their_records_once() {
        let (_d, store) = crate::catalog::test_support::sample_store();
        let enrolled = store.write(|tx| enroll(tx, "phone", "web-basics")).unwrap();
        store.write(|tx| set_weekly_goal(tx, "phone", 5)).unwrap();
        store
            .write(
                |tx| Ok(tx.execute("DELETE FROM sync_record WHERE kind IN ('enrollment', 'setting')", [])?),
            )
            .unwrap();
        store.write(|tx| backfill_records(tx, "phone")).unwrap();
        let records = || {
            store
                .read(|c| {
                    Ok((
                        sync_record::load_enrollment(c, "web-basics")?,
                        sync_record::load_setting(c, WEEKLY_GOAL_KEY)?,
                    ))
                })
                .unwrap()
        };
        let (enrollment, setting) = records();
        let (enrollment, setting) = (enrollment.unwrap(), setting.unwrap());
        assert_eq!(enrollment.enrolled_at_ms, enrolled.enrolled_at_ms);
        assert!(!enrollment.unenrolled.value);
        assert_eq!(setting.value.value, serde_json::json!(5));
        store.write(|tx| backfill_records(tx, "phone")).unwrap();
        assert_eq!(records(), (Some(enrollment), Some(setting)), "a second backfill changes nothing");
    }
}
