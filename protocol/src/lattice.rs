//! Small joins the records are built from. Each is commutative, associative and idempotent on
//! its own, so a record whose fields each merge with one of these is a join too.

use std::collections::BTreeMap;

use serde::Serialize;

/// The earlier of two optional times; a `Some` always beats `None`. This is what makes
/// completion sticky: once any replica has seen a lesson completed, every merge keeps it so.
pub fn min_some(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

/// The larger of two floats by IEEE total order, so that merge is deterministic even for the
/// values `f64::max` treats loosely (`-0.0` vs `0.0`). Validation keeps NaN out.
pub fn max_f64(a: f64, b: f64) -> f64 {
    if a.total_cmp(&b).is_ge() { a } else { b }
}

/// Per-key maximum. For per-device counters: each device only ever raises its own entry, so
/// the maximum is that device's latest count and merging the same record twice adds nothing.
pub fn max_per_key<V: Ord + Copy>(mut a: BTreeMap<String, V>, b: BTreeMap<String, V>) -> BTreeMap<String, V> {
    for (key, value) in b {
        a.entry(key).and_modify(|mine| *mine = (*mine).max(value)).or_insert(value);
    }
    a
}

/// Sorts and merges `[start, end)` ranges: drops empty ones, joins overlapping and touching
/// ones. The result is the canonical form of the set of covered milliseconds.
pub fn normalize_ranges(mut ranges: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    ranges.retain(|(start, end)| end > start);
    ranges.sort_unstable();
    let mut merged: Vec<(i64, i64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// True when `ranges` is already in [`normalize_ranges`] form.
pub fn is_normalized(ranges: &[(i64, i64)]) -> bool {
    ranges.iter().all(|(start, end)| end > start) && ranges.windows(2).all(|w| w[1].0 > w[0].1)
}

/// The union of two range sets, normalised.
pub fn union_ranges(a: Vec<(i64, i64)>, b: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    let mut all = a;
    all.extend(b);
    normalize_ranges(all)
}

/// A total order on any serialisable value, for breaking ties that valid input never has (two
/// different values under one clock stamp): comparing the JSON text picks the same side on
/// every replica, so merge stays a join even on bad input.
pub fn canonical<T: Serialize>(value: &T) -> String {
    // Serialising plain data (no maps with non-string keys) into a String cannot fail; an empty
    // string would still be a deterministic tie-break.
    serde_json::to_string(value).unwrap_or_default()
}

/// The larger of two values by [`canonical`] text.
pub fn max_by_canonical<T: Serialize + PartialEq>(a: T, b: T) -> T {
    if a == b || canonical(&a) >= canonical(&b) { a } else { b }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_some_keeps_any_completion() {
        assert_eq!(min_some(None, None), None);
        assert_eq!(min_some(Some(5), None), Some(5));
        assert_eq!(min_some(None, Some(5)), Some(5));
        assert_eq!(min_some(Some(5), Some(3)), Some(3));
        assert_eq!(min_some(Some(3), Some(5)), Some(3));
    }

    #[test]
    fn max_f64_is_total() {
        assert_eq!(max_f64(0.25, 0.5), 0.5);
        assert_eq!(max_f64(0.5, 0.25), 0.5);
        assert!(max_f64(-0.0, 0.0).is_sign_positive());
        assert!(max_f64(0.0, -0.0).is_sign_positive());
    }

    #[test]
    fn max_per_key_never_adds() {
        let a = BTreeMap::from([("x".to_owned(), 5), ("y".to_owned(), 1)]);
        let b = BTreeMap::from([("x".to_owned(), 3), ("z".to_owned(), 2)]);
        let merged = max_per_key(a.clone(), b);
        assert_eq!(merged, BTreeMap::from([("x".to_owned(), 5), ("y".to_owned(), 1), ("z".to_owned(), 2)]));
        assert_eq!(max_per_key(a.clone(), a.clone()), a);
    }

    #[test]
    fn ranges_normalise() {
        assert_eq!(
            normalize_ranges(vec![(5, 9), (0, 2), (2, 3), (8, 12), (20, 20), (30, 25)]),
            vec![(0, 3), (5, 12)]
        );
        assert_eq!(normalize_ranges(vec![(0, 10), (2, 3)]), vec![(0, 10)]);
        assert!(is_normalized(&[(0, 3), (5, 12)]));
        assert!(is_normalized(&[]));
        assert!(!is_normalized(&[(0, 3), (3, 12)]), "touching ranges are one range");
        assert!(!is_normalized(&[(5, 12), (0, 3)]));
        assert!(!is_normalized(&[(4, 4)]));
        assert_eq!(union_ranges(vec![(0, 3)], vec![(1, 5), (7, 8)]), vec![(0, 5), (7, 8)]);
    }

    #[test]
    fn canonical_breaks_ties_the_same_way_both_ways() {
        assert_eq!(max_by_canonical("b", "a"), "b");
        assert_eq!(max_by_canonical("a", "b"), "b");
        assert_eq!(max_by_canonical(1, 1), 1);
    }
}
