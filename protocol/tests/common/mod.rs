//! Strategies for arbitrary **valid** records of one key, drawn from small pools of stamps,
//! devices and values so that inputs overlap, tie and collide often.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use satchel_protocol::Hlc;
use satchel_protocol::records::{
    AnswerRecord, AttemptRecord, AttemptState, BodyVersion, BodyVersions, EnrollmentRecord, NoteKind,
    NoteRecord, ProgressRecord, QuizMode, SettingRecord,
};
use satchel_protocol::stamped::Stamped;
use serde_json::json;

pub const DEVICES: [&str; 3] = ["phone", "tablet", "laptop"];

pub fn hlc() -> impl Strategy<Value = Hlc> {
    (0i64..6, 0u32..3, prop::sample::select(DEVICES.to_vec())).prop_map(|(wall_ms, counter, device)| Hlc {
        wall_ms,
        counter,
        device: device.to_owned(),
    })
}

pub fn stamped<T: std::fmt::Debug + Clone + 'static>(values: Vec<T>) -> impl Strategy<Value = Stamped<T>> {
    (prop::sample::select(values), hlc()).prop_map(|(value, hlc)| Stamped { value, hlc })
}

fn ranges() -> impl Strategy<Value = Vec<(i64, i64)>> {
    prop::collection::vec((0i64..40, 1i64..8), 0..5).prop_map(|pairs| {
        let mut set: Vec<(i64, i64)> = pairs.into_iter().map(|(start, len)| (start, start + len)).collect();
        set.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        for (start, end) in set {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    })
}

pub fn progress() -> impl Strategy<Value = ProgressRecord> {
    (
        stamped(vec![0i64, 10, 20, 30]),
        0i64..4,
        ranges(),
        prop::sample::select(vec![0.0f64, 0.25, 0.5, 1.0]),
        prop::option::of(0i64..4),
        prop::collection::btree_map(
            prop::sample::select(DEVICES.to_vec()).prop_map(String::from),
            0i64..5,
            0..3,
        ),
    )
        .prop_map(
            |(position_ms, furthest_ms, watched, scroll_fraction, completed_at_ms, time_by_device)| {
                ProgressRecord {
                    lesson_id: "lesson-1".into(),
                    course_id: "course-1".into(),
                    position_ms,
                    furthest_ms,
                    watched,
                    scroll_fraction,
                    completed_at_ms,
                    time_by_device,
                }
            },
        )
}

pub fn attempt() -> impl Strategy<Value = AttemptRecord> {
    let answers = prop::collection::btree_map(
        prop::sample::select(vec!["q1", "q2", "q3"]).prop_map(String::from),
        (0i64..4, prop::sample::select(vec![vec![], vec!["a".to_owned()], vec!["b".to_owned()]]))
            .prop_map(|(answered_at_ms, choice_ids)| AnswerRecord { answered_at_ms, choice_ids }),
        0..3,
    );
    (
        prop::sample::select(vec![
            AttemptState::InProgress,
            AttemptState::SubmittedPending,
            AttemptState::Graded,
        ]),
        prop::sample::select(vec![QuizMode::Practice, QuizMode::Graded]),
        answers,
        0i64..3,
        0i64..3,
        prop::sample::select(vec![0u8, 50, 100]),
        any::<bool>(),
    )
        .prop_map(|(state, mode, answers, started_at_ms, submitted, score, passed)| {
            // Make the fields fit the state, as validation demands.
            let mode = if state == AttemptState::SubmittedPending { QuizMode::Graded } else { mode };
            let (submitted_at_ms, score_percent, passed, graded_by_server) = match state {
                AttemptState::InProgress => (None, None, None, false),
                AttemptState::SubmittedPending => (Some(submitted), None, None, false),
                AttemptState::Graded => {
                    (Some(submitted), Some(score), Some(passed), mode == QuizMode::Graded)
                }
            };
            AttemptRecord {
                attempt_id: "attempt-1".into(),
                lesson_id: "quiz-1".into(),
                course_id: "course-1".into(),
                mode,
                state,
                answers,
                started_at_ms,
                submitted_at_ms,
                score_percent,
                passed,
                graded_by_server,
            }
        })
}

/// A valid body: at least one head, heads and superseded disjoint, the newest stamp a head.
pub fn body() -> impl Strategy<Value = BodyVersions> {
    (
        prop::collection::btree_set(hlc(), 1..6),
        prop::collection::vec(any::<bool>(), 6),
        prop::collection::vec(prop::sample::select(vec!["a", "b", "c"]), 6),
        0i64..3,
    )
        .prop_map(|(stamps, is_head, texts, at_ms)| {
            let newest = stamps.last().cloned();
            let mut heads = BTreeMap::new();
            let mut superseded = BTreeSet::new();
            for (i, stamp) in stamps.into_iter().enumerate() {
                if is_head[i] || Some(&stamp) == newest.as_ref() {
                    heads.insert(stamp, BodyVersion { text: texts[i].to_owned(), at_ms });
                } else {
                    superseded.insert(stamp);
                }
            }
            BodyVersions { heads, superseded }
        })
}

pub fn note() -> impl Strategy<Value = NoteRecord> {
    (
        0i64..3,
        stamped(vec![
            json!({"type": "time", "start_ms": 0, "end_ms": 5}),
            json!({"type": "text", "quote": "q"}),
        ]),
        stamped(vec![None, Some("yellow".to_owned()), Some("blue".to_owned())]),
        stamped(vec![vec![], vec!["exam".to_owned()], vec!["exam".to_owned(), "todo".to_owned()]]),
        stamped(vec![false, true]),
        body(),
    )
        .prop_map(|(created_at_ms, anchor, color, tags, deleted, body)| NoteRecord {
            note_id: "note-1".into(),
            lesson_id: "lesson-1".into(),
            course_id: "course-1".into(),
            kind: NoteKind::Note,
            created_at_ms,
            anchor,
            color,
            tags,
            deleted,
            body,
        })
}

pub fn enrollment() -> impl Strategy<Value = EnrollmentRecord> {
    (0i64..4, stamped(vec![false, true])).prop_map(|(enrolled_at_ms, unenrolled)| EnrollmentRecord {
        course_id: "course-1".into(),
        enrolled_at_ms,
        unenrolled,
    })
}

pub fn setting() -> impl Strategy<Value = SettingRecord> {
    stamped(vec![json!(1), json!(2), json!({"days": 3}), json!(null)])
        .prop_map(|value| SettingRecord { key: "weekly_goal_days".into(), value })
}
