//! The parts of a video a learner actually played, as a small set of disjoint ranges.
//!
//! Seeking forward does not add a range, so "watched 90%" means watched, not skipped to.

use serde::{Deserialize, Serialize};

/// More ranges than this are merged across their smallest gaps, to bound the row size of a
/// lecture watched in many scattered pieces.
pub const MAX_RANGES: usize = 64;

/// Sorted, disjoint, non-empty `[start, end)` ranges in milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WatchedRanges(Vec<(i64, i64)>);

impl WatchedRanges {
    /// Parses the stored JSON; anything unreadable counts as nothing watched rather than failing a
    /// learner's tick.
    pub fn from_json(text: &str) -> WatchedRanges {
        let mut ranges: WatchedRanges = serde_json::from_str(text).unwrap_or_default();
        ranges.normalize();
        ranges
    }

    /// Ranges from a sync record (any order, any count: normalised and capped here).
    pub fn from_ranges(ranges: &[(i64, i64)]) -> WatchedRanges {
        let mut ranges = WatchedRanges(ranges.to_vec());
        ranges.normalize();
        ranges
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.0).unwrap_or_else(|_| "[]".into())
    }

    /// Adds `[start, end)`, merging with neighbours.
    pub fn add(&mut self, start: i64, end: i64) {
        if end > start {
            self.0.push((start, end));
            self.normalize();
        }
    }

    /// Total milliseconds covered.
    pub fn total(&self) -> i64 {
        self.0.iter().map(|(s, e)| e - s).sum()
    }

    pub fn ranges(&self) -> &[(i64, i64)] {
        &self.0
    }

    fn normalize(&mut self) {
        self.0.retain(|(s, e)| e > s);
        self.0.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(self.0.len());
        for &(start, end) in &self.0 {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        while merged.len() > MAX_RANGES {
            // Close the smallest gap: a slight over-count beats an unbounded row.
            let Some(i) = (0..merged.len() - 1).min_by_key(|&i| merged[i + 1].0 - merged[i].1) else { break };
            merged[i].1 = merged[i + 1].1;
            merged.remove(i + 1);
        }
        self.0 = merged;
    }
}

#[cfg(test)]
mod tests {
    use super::WatchedRanges;
    use proptest::prelude::*;

    #[test]
    fn overlapping_and_touching_ranges_merge() {
        let mut w = WatchedRanges::default();
        w.add(0, 5_000);
        w.add(10_000, 15_000);
        w.add(4_000, 10_000);
        assert_eq!(w.ranges(), &[(0, 15_000)]);
        assert_eq!(w.total(), 15_000);
        assert_eq!(WatchedRanges::from_json(&w.to_json()), w);
        assert_eq!(WatchedRanges::from_json("garbage").total(), 0);
    }

    #[test]
    fn touching_ranges_merge_and_empty_or_reversed_ones_are_ignored() {
        let mut w = WatchedRanges::default();
        w.add(10, 20);
        w.add(20, 30);
        assert_eq!(w.ranges(), &[(10, 30)]);
        w.add(31, 31);
        w.add(50, 40);
        assert_eq!(w.ranges(), &[(10, 30)]);
        w.add(31, 32);
        assert_eq!(w.ranges(), &[(10, 30), (31, 32)], "a 1 ms gap is still a gap");
        w.add(0, 100);
        assert_eq!((w.ranges(), w.total()), (&[(0, 100)][..], 100));
        assert_eq!(w.to_json(), "[[0,100]]");
    }

    #[test]
    fn records_ranges_are_normalised_in_any_order() {
        let w = WatchedRanges::from_ranges(&[(50, 60), (0, 10), (5, 20), (70, 70), (90, 80)]);
        assert_eq!(w.ranges(), &[(0, 20), (50, 60)]);
        assert_eq!(w.total(), 30);
        assert_eq!(WatchedRanges::from_json("[[50,60],[0,10]]").ranges(), &[(0, 10), (50, 60)]);
    }

    #[test]
    fn over_the_cap_the_smallest_gaps_close_first() {
        // MAX_RANGES + 1 ranges of 10 ms, 100 ms apart except one 5 ms gap after the third.
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        let mut start = 0;
        for i in 0..=super::MAX_RANGES {
            ranges.push((start, start + 10));
            start += if i == 2 { 15 } else { 110 };
        }
        let w = WatchedRanges::from_ranges(&ranges);
        assert_eq!(w.ranges().len(), super::MAX_RANGES);
        assert_eq!(w.ranges()[2], (220, 245), "the third and fourth ranges merged across the 5 ms gap");
        assert_eq!(w.ranges()[1], (110, 120));
        assert_eq!(w.total(), 10 * (super::MAX_RANGES as i64 + 1) + 5);
        // Exactly at the cap nothing merges.
        let at_cap = WatchedRanges::from_ranges(&ranges[..super::MAX_RANGES]);
        assert_eq!(at_cap.ranges().len(), super::MAX_RANGES);
        assert_eq!(at_cap.total(), 10 * super::MAX_RANGES as i64);
    }

    proptest! {
        /// The total never exceeds the span covered and never shrinks as ranges are added.
        #[test]
        fn total_is_monotonic_and_bounded(adds in proptest::collection::vec((0i64..600_000, 0i64..20_000), 0..300)) {
            let mut w = WatchedRanges::default();
            let mut last = 0;
            for (start, len) in adds {
                w.add(start, start + len);
                let total = w.total();
                prop_assert!(total >= last);
                prop_assert!(total <= 620_000);
                prop_assert!(w.ranges().len() <= super::MAX_RANGES);
                prop_assert!(w.ranges().windows(2).all(|p| p[0].1 < p[1].0));
                last = total;
            }
        }
    }
}
