//! A learner's progress in one lesson.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{RecordError, check_fresh, check_id, check_len, check_stamp, check_time, limits};
use crate::hlc::Hlc;
use crate::lattice::{is_normalized, max_f64, max_per_key, min_some, normalize_ranges, union_ranges};
use crate::stamped::Stamped;

/// Progress in one lesson, keyed by `lesson_id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressRecord {
    pub lesson_id: String,
    pub course_id: String,
    /// Where to resume, in milliseconds: the latest write wins (resuming where the learner last
    /// was, on whichever device).
    pub position_ms: Stamped<i64>,
    /// The furthest point reached, in milliseconds: only grows.
    pub furthest_ms: i64,
    /// Played `[start, end)` ranges in milliseconds, sorted and disjoint: the union of what any
    /// device played.
    pub watched: Vec<(i64, i64)>,
    /// How far a reading was scrolled, 0 to 1: only grows.
    pub scroll_fraction: f64,
    /// When the lesson was first completed, on any device: once set it stays set (the earliest
    /// time wins).
    pub completed_at_ms: Option<i64>,
    /// Milliseconds studied, per device id. Each device only raises its own counter, so the
    /// maximum per device is exact and the total is their sum: merging the same state twice, or
    /// one device's counter arriving by two paths, never counts time twice.
    pub time_by_device: BTreeMap<String, i64>,
}

/// What a device knows locally about a lesson, to fold into its record.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalProgress<'a> {
    pub position_ms: i64,
    pub furthest_ms: i64,
    pub watched: &'a [(i64, i64)],
    pub scroll_fraction: f64,
    pub completed_at_ms: Option<i64>,
    /// Time studied on **this device only** (not including time pulled from other devices).
    pub device_time_ms: i64,
}

impl ProgressRecord {
    /// A record holding only this device's local state, stamped `hlc` (whose device is the one
    /// the time counter is filed under).
    pub fn from_local(
        lesson_id: &str,
        course_id: &str,
        hlc: Hlc,
        local: &LocalProgress<'_>,
    ) -> Result<ProgressRecord, RecordError> {
        let record = ProgressRecord {
            lesson_id: lesson_id.to_owned(),
            course_id: course_id.to_owned(),
            time_by_device: BTreeMap::from([(hlc.device.clone(), local.device_time_ms)]),
            position_ms: Stamped::new(local.position_ms, hlc),
            furthest_ms: local.furthest_ms,
            watched: normalize_ranges(local.watched.to_vec()),
            scroll_fraction: local.scroll_fraction,
            completed_at_ms: local.completed_at_ms,
        };
        record.validate()?;
        Ok(record)
    }

    /// Folds this device's newer local state in (an inflation: nothing any device contributed
    /// goes backwards). `hlc` must be newer than the record's position stamp, so the local
    /// position wins; a stale stamp is refused rather than silently losing.
    pub fn observe_local(&mut self, hlc: Hlc, local: &LocalProgress<'_>) -> Result<(), RecordError> {
        check_fresh(&hlc, &self.position_ms.hlc)?;
        let mine = ProgressRecord::from_local(&self.lesson_id, &self.course_id, hlc, local)?;
        *self = self.clone().merge(mine);
        Ok(())
    }

    /// The join of two states of the same lesson.
    pub fn merge(self, other: ProgressRecord) -> ProgressRecord {
        ProgressRecord {
            // Equal for one key; `max` keeps merge deterministic if a bad client disagrees.
            lesson_id: self.lesson_id.max(other.lesson_id),
            course_id: self.course_id.max(other.course_id),
            position_ms: self.position_ms.merge(other.position_ms),
            furthest_ms: self.furthest_ms.max(other.furthest_ms),
            watched: union_ranges(self.watched, other.watched),
            scroll_fraction: max_f64(self.scroll_fraction, other.scroll_fraction),
            completed_at_ms: min_some(self.completed_at_ms, other.completed_at_ms),
            time_by_device: max_per_key(self.time_by_device, other.time_by_device),
        }
    }

    /// Total time studied across devices.
    pub fn total_time_ms(&self) -> i64 {
        self.time_by_device.values().fold(0i64, |sum, ms| sum.saturating_add(*ms))
    }

    /// Milliseconds of the lesson covered by `watched`.
    pub fn watched_ms(&self) -> i64 {
        self.watched.iter().fold(0i64, |sum, (start, end)| sum.saturating_add(end - start))
    }

    /// Keeps `watched` within `max_ranges` by closing the smallest gaps. This only ever adds
    /// coverage (an inflation), so any replica may do it at any time and all still converge;
    /// it is not part of `merge`, which must stay an exact union to be a join.
    pub fn compact_watched(&mut self, max_ranges: usize) {
        let max_ranges = max_ranges.max(1);
        while self.watched.len() > max_ranges {
            let smallest_gap = (0..self.watched.len() - 1)
                .min_by_key(|&i| (self.watched[i + 1].0 - self.watched[i].1, i))
                .unwrap_or(0);
            self.watched[smallest_gap].1 = self.watched[smallest_gap + 1].1;
            self.watched.remove(smallest_gap + 1);
        }
    }

    /// Checks ids, limits and that every value is in range and in canonical form.
    pub fn validate(&self) -> Result<(), RecordError> {
        check_id("lesson_id", &self.lesson_id)?;
        check_id("course_id", &self.course_id)?;
        check_stamp("position_ms.hlc", &self.position_ms.hlc)?;
        check_time("position_ms", self.position_ms.value)?;
        check_time("furthest_ms", self.furthest_ms)?;
        check_len("watched", self.watched.len(), limits::WATCHED_RANGES)?;
        if self.watched.iter().any(|(start, _)| *start < 0) {
            return Err(RecordError::OutOfRange { field: "watched", reason: "must not start before 0" });
        }
        if !is_normalized(&self.watched) {
            return Err(RecordError::Inconsistent("watched ranges must be sorted, disjoint and non-empty"));
        }
        if !(0.0..=1.0).contains(&self.scroll_fraction) {
            return Err(RecordError::OutOfRange {
                field: "scroll_fraction",
                reason: "must be between 0 and 1",
            });
        }
        if let Some(at) = self.completed_at_ms {
            check_time("completed_at_ms", at)?;
        }
        check_len("time_by_device", self.time_by_device.len(), limits::DEVICES)?;
        for (device, ms) in &self.time_by_device {
            check_id("time_by_device device", device)?;
            check_time("time_by_device", *ms)?;
        }
        Ok(())
    }

    /// Lowers the position stamp if it is above `limit_wall_ms`.
    pub(crate) fn clamp(&mut self, limit_wall_ms: i64) -> bool {
        self.position_ms.hlc.clamp_wall(limit_wall_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(wall_ms: i64, device: &str) -> Hlc {
        Hlc { wall_ms, counter: 0, device: device.to_owned() }
    }

    fn local(position_ms: i64, device_time_ms: i64) -> LocalProgress<'static> {
        LocalProgress {
            position_ms,
            furthest_ms: position_ms,
            watched: &[],
            scroll_fraction: 0.0,
            completed_at_ms: None,
            device_time_ms,
        }
    }

    #[test]
    fn observe_local_raises_only_its_own_counter() {
        let mut phone =
            ProgressRecord::from_local("l1", "c1", at(10, "phone"), &local(1_000, 60_000)).unwrap();
        let tablet = ProgressRecord::from_local("l1", "c1", at(20, "tablet"), &local(5_000, 30_000)).unwrap();
        phone = phone.merge(tablet.clone());
        assert_eq!(phone.total_time_ms(), 90_000);
        assert_eq!(phone.position_ms.value, 5_000, "the tablet wrote later");

        phone.observe_local(at(30, "phone"), &local(2_000, 75_000)).unwrap();
        assert_eq!(phone.time_by_device["phone"], 75_000);
        assert_eq!(phone.time_by_device["tablet"], 30_000);
        assert_eq!(phone.total_time_ms(), 105_000);
        assert_eq!(phone.position_ms.value, 2_000);

        // The same state arriving twice, by two paths, adds nothing.
        let twice = phone.clone().merge(phone.clone()).merge(tablet);
        assert_eq!(twice.total_time_ms(), 105_000);
    }

    #[test]
    fn observe_local_refuses_a_stale_stamp() {
        let mut rec = ProgressRecord::from_local("l1", "c1", at(10, "phone"), &local(1_000, 1)).unwrap();
        let before = rec.clone();
        assert_eq!(rec.observe_local(at(10, "phone"), &local(9, 9)), Err(RecordError::StaleStamp));
        assert_eq!(rec.observe_local(at(5, "phone"), &local(9, 9)), Err(RecordError::StaleStamp));
        assert_eq!(rec, before, "a refused change changes nothing");
    }

    #[test]
    fn a_lower_local_counter_never_lowers_the_record() {
        let mut rec = ProgressRecord::from_local("l1", "c1", at(10, "phone"), &local(1_000, 500)).unwrap();
        rec.observe_local(at(11, "phone"), &local(1_000, 100)).unwrap();
        assert_eq!(rec.time_by_device["phone"], 500);
    }

    #[test]
    fn completion_is_sticky_and_earliest() {
        let done = LocalProgress { completed_at_ms: Some(700), ..local(0, 0) };
        let mut rec = ProgressRecord::from_local("l1", "c1", at(10, "a"), &done).unwrap();
        rec.observe_local(at(11, "a"), &local(0, 0)).unwrap();
        assert_eq!(rec.completed_at_ms, Some(700));
        let later = ProgressRecord::from_local(
            "l1",
            "c1",
            at(12, "b"),
            &LocalProgress { completed_at_ms: Some(900), ..local(0, 0) },
        )
        .unwrap();
        assert_eq!(rec.clone().merge(later.clone()).completed_at_ms, Some(700));
        assert_eq!(later.merge(rec).completed_at_ms, Some(700));
    }

    #[test]
    fn merge_takes_each_field_by_its_rule() {
        let a = ProgressRecord {
            lesson_id: "l".into(),
            course_id: "c".into(),
            position_ms: Stamped::new(100, at(5, "a")),
            furthest_ms: 900,
            watched: vec![(0, 10), (50, 60)],
            scroll_fraction: 0.75,
            completed_at_ms: None,
            time_by_device: BTreeMap::from([("a".into(), 10)]),
        };
        let b = ProgressRecord {
            lesson_id: "l".into(),
            course_id: "c".into(),
            position_ms: Stamped::new(200, at(4, "b")),
            furthest_ms: 300,
            watched: vec![(5, 20)],
            scroll_fraction: 0.25,
            completed_at_ms: Some(3),
            time_by_device: BTreeMap::from([("a".into(), 7), ("b".into(), 4)]),
        };
        let m = a.merge(b);
        assert_eq!(m.position_ms.value, 100);
        assert_eq!(m.furthest_ms, 900);
        assert_eq!(m.watched, vec![(0, 20), (50, 60)]);
        assert_eq!(m.watched_ms(), 30);
        assert_eq!(m.scroll_fraction, 0.75);
        assert_eq!(m.completed_at_ms, Some(3));
        assert_eq!(m.time_by_device, BTreeMap::from([("a".into(), 10), ("b".into(), 4)]));
        assert_eq!(m.total_time_ms(), 14);
    }

    #[test]
    fn validate_refuses_bad_values() {
        let good = ProgressRecord::from_local("l1", "c1", at(10, "a"), &local(5, 5)).unwrap();
        assert_eq!(good.validate(), Ok(()));
        let cases: Vec<(ProgressRecord, &str)> = vec![
            (ProgressRecord { lesson_id: "a/b".into(), ..good.clone() }, "lesson_id"),
            (ProgressRecord { course_id: String::new(), ..good.clone() }, "course_id"),
            (ProgressRecord { position_ms: Stamped::new(-1, at(1, "a")), ..good.clone() }, "position_ms"),
            (ProgressRecord { position_ms: Stamped::new(1, at(-1, "a")), ..good.clone() }, "position_ms.hlc"),
            (ProgressRecord { furthest_ms: -1, ..good.clone() }, "furthest_ms"),
            (ProgressRecord { watched: vec![(-5, 3)], ..good.clone() }, "watched"),
            (ProgressRecord { watched: vec![(5, 9), (0, 3)], ..good.clone() }, "watched"),
            (ProgressRecord { watched: vec![(0, 3), (3, 9)], ..good.clone() }, "watched"),
            (
                ProgressRecord { watched: (0..10_001).map(|i| (i * 2, i * 2 + 1)).collect(), ..good.clone() },
                "watched",
            ),
            (ProgressRecord { scroll_fraction: f64::NAN, ..good.clone() }, "scroll_fraction"),
            (ProgressRecord { scroll_fraction: 1.5, ..good.clone() }, "scroll_fraction"),
            (ProgressRecord { scroll_fraction: -0.1, ..good.clone() }, "scroll_fraction"),
            (ProgressRecord { completed_at_ms: Some(-1), ..good.clone() }, "completed_at_ms"),
            (
                ProgressRecord { time_by_device: BTreeMap::from([("a".into(), -1)]), ..good.clone() },
                "time_by_device",
            ),
            (
                ProgressRecord { time_by_device: BTreeMap::from([("a b".into(), 1)]), ..good.clone() },
                "device",
            ),
            (
                ProgressRecord {
                    time_by_device: (0..257).map(|i| (format!("d{i}"), 1)).collect(),
                    ..good.clone()
                },
                "time_by_device",
            ),
        ];
        for (bad, field) in cases {
            let err = bad.validate().unwrap_err();
            assert!(err.to_string().contains(field), "{err} should name {field}");
        }
        // The edges are fine.
        let edges = ProgressRecord {
            watched: (0..10_000).map(|i| (i * 2, i * 2 + 1)).collect(),
            scroll_fraction: 1.0,
            completed_at_ms: Some(0),
            time_by_device: (0..256).map(|i| (format!("d{i}"), 0)).collect(),
            ..good.clone()
        };
        assert_eq!(edges.validate(), Ok(()));
        assert_eq!(ProgressRecord { scroll_fraction: 0.0, ..good }.validate(), Ok(()));
    }

    #[test]
    fn from_local_normalises_and_validates() {
        let watched = [(50, 60), (0, 10), (5, 20)];
        let rec = ProgressRecord::from_local(
            "l",
            "c",
            at(1, "d"),
            &LocalProgress { watched: &watched, ..local(0, 0) },
        )
        .unwrap();
        assert_eq!(rec.watched, vec![(0, 20), (50, 60)]);
        let bad = LocalProgress { scroll_fraction: f64::NAN, ..local(0, 0) };
        assert!(ProgressRecord::from_local("l", "c", at(1, "d"), &bad).is_err());
    }

    #[test]
    fn compact_watched_closes_the_smallest_gaps_and_only_adds() {
        let mut rec = ProgressRecord::from_local("l", "c", at(1, "d"), &local(0, 0)).unwrap();
        rec.watched = vec![(0, 10), (12, 20), (40, 50), (51, 60)];
        rec.compact_watched(2);
        assert_eq!(rec.watched, vec![(0, 20), (40, 60)]);
        rec.compact_watched(0);
        assert_eq!(rec.watched, vec![(0, 60)]);
        rec.compact_watched(5);
        assert_eq!(rec.watched, vec![(0, 60)]);
        // The gap in milliseconds decides, not where the ranges sit.
        rec.watched = vec![(0, 100), (150, 200), (1_000, 1_010), (1_012, 1_020)];
        rec.compact_watched(3);
        assert_eq!(rec.watched, vec![(0, 100), (150, 200), (1_000, 1_020)]);
    }
}
