//! The merge laws, on arbitrary valid records of one key: commutative, associative, idempotent
//! (so any delivery order, duplicates and replays converge), the result still valid, plus the
//! properties a learner relies on: no note text lost unless an edit that saw it replaced it,
//! completion sticky, study time never counted twice, attempts never going backwards.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

mod common;

use proptest::prelude::*;
use satchel_protocol::Record;
use satchel_protocol::records::{AttemptState, NoteRecord, ProgressRecord};

/// The three join laws and closure for one record kind, through `Record::merge` (which also
/// checks the key) and the kind's own merge.
macro_rules! join_laws {
    ($name:ident, $strategy:expr) => {
        mod $name {
            use super::*;

            proptest! {
                #![proptest_config(ProptestConfig::with_cases(400))]

                #[test]
                fn commutative(a in $strategy, b in $strategy) {
                    prop_assert_eq!(a.clone().merge(b.clone()), b.merge(a));
                }

                #[test]
                fn associative(a in $strategy, b in $strategy, c in $strategy) {
                    let left = a.clone().merge(b.clone()).merge(c.clone());
                    let right = a.merge(b.merge(c));
                    prop_assert_eq!(left, right);
                }

                #[test]
                fn idempotent(a in $strategy) {
                    prop_assert_eq!(a.clone().merge(a.clone()), a);
                }

                #[test]
                fn absorbs_what_it_already_holds(a in $strategy, b in $strategy) {
                    let ab = a.clone().merge(b.clone());
                    prop_assert_eq!(ab.clone().merge(a), ab.clone());
                    prop_assert_eq!(ab.clone().merge(b), ab);
                }

                #[test]
                fn valid_in_valid_out(a in $strategy, b in $strategy) {
                    prop_assert_eq!(a.validate(), Ok(()));
                    prop_assert_eq!(b.validate(), Ok(()));
                    let merged = Record::from(a.clone()).merge(Record::from(b.clone())).unwrap();
                    prop_assert_eq!(merged.validate(), Ok(()));
                    prop_assert_eq!(merged, Record::from(a.merge(b)));
                }

                #[test]
                fn survives_the_wire(a in $strategy) {
                    let record = Record::from(a);
                    let text = serde_json::to_string(&record).unwrap();
                    prop_assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), record);
                }
            }
        }
    };
}

join_laws!(progress, common::progress());
join_laws!(quiz_attempt, common::attempt());
join_laws!(note, common::note());
join_laws!(enrollment, common::enrollment());
join_laws!(setting, common::setting());

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Every body version present in any input survives the merge unless some input says an
    /// edit (or a dismissal) superseded it; and nothing appears that no input had.
    #[test]
    fn no_note_text_is_lost(inputs in prop::collection::vec(common::note(), 1..5)) {
        let superseded: std::collections::BTreeSet<_> =
            inputs.iter().flat_map(|n| n.body.superseded.iter().cloned()).collect();
        let merged = inputs.iter().cloned().reduce(NoteRecord::merge).unwrap();
        for input in &inputs {
            for (stamp, version) in &input.body.heads {
                if superseded.contains(stamp) {
                    prop_assert!(!merged.body.heads.contains_key(stamp), "a superseded version came back");
                } else {
                    let kept = merged.body.heads.get(stamp);
                    prop_assert!(kept.is_some(), "version {} was lost", stamp);
                    // Same stamp, same text in valid use; with bad input the larger text is kept.
                    prop_assert!(kept.unwrap() >= version);
                }
            }
        }
        for stamp in merged.body.heads.keys() {
            prop_assert!(inputs.iter().any(|n| n.body.heads.contains_key(stamp)));
        }
        prop_assert_eq!(&merged.body.superseded, &superseded);
        prop_assert!(merged.winner().is_some(), "a merged note always has text to show");
    }

    /// Each field takes the later stamp, whatever the order of merging.
    #[test]
    fn note_fields_are_last_writer_wins(a in common::note(), b in common::note()) {
        let m = a.clone().merge(b.clone());
        let newer = |x: &satchel_protocol::Hlc, y: &satchel_protocol::Hlc| if x >= y { x.clone() } else { y.clone() };
        prop_assert_eq!(&m.deleted.hlc, &newer(&a.deleted.hlc, &b.deleted.hlc));
        prop_assert_eq!(&m.tags.hlc, &newer(&a.tags.hlc, &b.tags.hlc));
        prop_assert_eq!(&m.color.hlc, &newer(&a.color.hlc, &b.color.hlc));
        prop_assert_eq!(&m.anchor.hlc, &newer(&a.anchor.hlc, &b.anchor.hlc));
        if a.deleted.hlc > b.deleted.hlc {
            prop_assert_eq!(m.deleted.value, a.deleted.value);
        }
        prop_assert_eq!(m.created_at_ms, a.created_at_ms.min(b.created_at_ms));
        prop_assert!(m.max_hlc() >= a.max_hlc() && m.max_hlc() >= b.max_hlc());
    }

    /// Once any input is completed, the merge is, at the earliest completion time.
    #[test]
    fn completion_is_sticky(inputs in prop::collection::vec(common::progress(), 1..5)) {
        let merged = inputs.iter().cloned().reduce(ProgressRecord::merge).unwrap();
        let earliest = inputs.iter().filter_map(|p| p.completed_at_ms).min();
        prop_assert_eq!(merged.completed_at_ms, earliest);
    }

    /// Per-device counters: the merge holds each device's maximum, so merging a record with
    /// itself, or receiving it twice by different paths, never adds time.
    #[test]
    fn time_is_never_counted_twice(a in common::progress(), b in common::progress()) {
        let merged = a.clone().merge(b.clone());
        for device in a.time_by_device.keys().chain(b.time_by_device.keys()) {
            let most = a.time_by_device.get(device).max(b.time_by_device.get(device)).copied();
            prop_assert_eq!(merged.time_by_device.get(device).copied(), most);
        }
        prop_assert_eq!(merged.time_by_device.len(), a.time_by_device.keys().chain(b.time_by_device.keys()).collect::<std::collections::BTreeSet<_>>().len());
        prop_assert_eq!(merged.clone().merge(a.clone()).total_time_ms(), merged.total_time_ms());
        prop_assert_eq!(a.clone().merge(a.clone()).total_time_ms(), a.total_time_ms());
        prop_assert!(merged.total_time_ms() <= a.total_time_ms() + b.total_time_ms());
        prop_assert!(merged.total_time_ms() >= a.total_time_ms().max(b.total_time_ms()));
    }

    /// Progress fields that only grow never shrink, watched time is the union, and the
    /// position is the later write.
    #[test]
    fn progress_only_moves_forward(a in common::progress(), b in common::progress()) {
        let m = a.clone().merge(b.clone());
        prop_assert_eq!(m.furthest_ms, a.furthest_ms.max(b.furthest_ms));
        prop_assert_eq!(m.scroll_fraction, a.scroll_fraction.max(b.scroll_fraction));
        prop_assert!(m.watched_ms() >= a.watched_ms().max(b.watched_ms()));
        prop_assert!(m.watched_ms() <= a.watched_ms() + b.watched_ms());
        for t in 0..50 {
            let covers = |w: &[(i64, i64)]| w.iter().any(|&(s, e)| s <= t && t < e);
            prop_assert_eq!(covers(&m.watched), covers(&a.watched) || covers(&b.watched), "ms {}", t);
        }
        let later = if a.position_ms.hlc >= b.position_ms.hlc { &a } else { &b };
        prop_assert_eq!(&m.position_ms.hlc, &later.position_ms.hlc);
        if a.position_ms.hlc != b.position_ms.hlc {
            prop_assert_eq!(m.position_ms.value, later.position_ms.value);
        }
    }

    /// An attempt never moves back a state, and a submitted attempt's answers are those of the
    /// version in the highest state.
    #[test]
    fn attempts_never_go_backwards(a in common::attempt(), b in common::attempt()) {
        let m = a.clone().merge(b.clone());
        prop_assert_eq!(m.state, a.state.max(b.state));
        if a.state > b.state {
            prop_assert_eq!(&m, &a);
        }
        if m.state == AttemptState::InProgress {
            for (question, answer) in a.answers.iter().chain(&b.answers) {
                prop_assert!(m.answers.get(question).is_some_and(|kept| kept >= answer));
            }
            prop_assert_eq!(m.started_at_ms, a.started_at_ms.min(b.started_at_ms));
        } else {
            prop_assert!(m == a || m == b, "a submitted attempt is one version, not a mix");
        }
    }

    /// Clamping keeps a valid note valid, lowers every stamp to the limit, and is idempotent.
    #[test]
    fn clamping_a_note_keeps_it_valid(n in common::note(), limit in 0i64..6) {
        let mut record = Record::from(n.clone());
        let changed = record.clamp(limit);
        prop_assert_eq!(record.validate(), Ok(()));
        prop_assert!(record.max_hlc().unwrap().wall_ms <= limit);
        prop_assert_eq!(changed, n.max_hlc().wall_ms > limit);
        let Record::Note(clamped) = &record else { unreachable!() };
        prop_assert_eq!(clamped.body.heads.len(), n.body.heads.len(), "no two versions collapse");
        prop_assert_eq!(clamped.body.superseded.len(), n.body.superseded.len());
        let mut again = record.clone();
        prop_assert!(!again.clamp(limit));
        prop_assert_eq!(again, record);
    }
}

#[test]
fn merging_different_entities_is_an_error() {
    use satchel_protocol::Hlc;
    use satchel_protocol::records::{EnrollmentRecord, SettingRecord};
    let hlc = Hlc { wall_ms: 1, counter: 0, device: "d".into() };
    let c1 = Record::from(EnrollmentRecord::new("c1", 1, hlc.clone()).unwrap());
    let c2 = Record::from(EnrollmentRecord::new("c2", 1, hlc.clone()).unwrap());
    let setting = Record::from(SettingRecord::new("c1", serde_json::json!(1), hlc).unwrap());
    let err = c1.clone().merge(c2).unwrap_err();
    assert_eq!((err.left_id.as_str(), err.right_id.as_str()), ("c1", "c2"));
    let err = c1.clone().merge(setting).unwrap_err();
    assert_eq!(err.left_kind, satchel_protocol::EntityKind::Enrollment);
    assert_eq!(err.right_kind, satchel_protocol::EntityKind::Setting);
    assert!(err.to_string().contains("c1"));
    assert_eq!(c1.clone().merge(c1.clone()).unwrap(), c1);
}

proptest! {
    /// Every kind refuses to merge two different ids of its own kind, and any two kinds.
    #[test]
    fn every_kind_checks_the_key(
        progress in common::progress(),
        attempt in common::attempt(),
        note in common::note(),
        enrollment in common::enrollment(),
        setting in common::setting(),
    ) {
        let mut other_progress = progress.clone();
        other_progress.lesson_id = "lesson-2".into();
        let mut other_attempt = attempt.clone();
        other_attempt.attempt_id = "attempt-2".into();
        let mut other_note = note.clone();
        other_note.note_id = "note-2".into();
        let mut other_enrollment = enrollment.clone();
        other_enrollment.course_id = "course-2".into();
        let mut other_setting = setting.clone();
        other_setting.key = "other".into();
        let same: Vec<Record> =
            vec![progress.into(), attempt.into(), note.into(), enrollment.into(), setting.into()];
        let others: Vec<Record> = vec![
            other_progress.into(),
            other_attempt.into(),
            other_note.into(),
            other_enrollment.into(),
            other_setting.into(),
        ];
        for (i, a) in same.iter().enumerate() {
            prop_assert!(a.clone().merge(a.clone()).is_ok());
            prop_assert!(a.clone().merge(others[i].clone()).is_err(), "{:?}", a.key());
            prop_assert!(others[i].clone().merge(a.clone()).is_err());
            for (j, b) in same.iter().enumerate() {
                if i != j {
                    prop_assert!(a.clone().merge(b.clone()).is_err());
                }
            }
        }
    }
}
