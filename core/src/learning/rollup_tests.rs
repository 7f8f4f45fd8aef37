//! Roll-ups on a real SQLite file holding the sample course (three modules of 3, 3 and 2
//! lessons), and the next-lesson rule on its own.

use super::*;
use crate::catalog::test_support::sample_store as setup;
use crate::learning::{StudyClock, progress};

const READING: &str = "web-basics.reading-urls";

#[test]
fn percentages_round_down_and_reach_100_only_when_all_is_done() {
    assert_eq!(percent(0, 0), 0);
    assert_eq!(percent(0, 3), 0);
    assert_eq!(percent(1, 3), 33);
    assert_eq!(percent(2, 3), 66);
    assert_eq!(percent(199, 200), 99);
    assert_eq!(percent(3, 3), 100);
}

fn row(id: &str, done: bool, at: Option<i64>) -> (String, String, bool, Option<i64>) {
    (id.into(), "m".into(), done, at)
}

#[test]
fn the_next_lesson_is_the_last_studied_if_unfinished_else_the_next_unfinished_after_it() {
    assert_eq!(next_lesson(&[row("a", false, None), row("b", false, None)]).as_deref(), Some("a"));
    // Last studied (b) is unfinished: back to it, even though a is unfinished too.
    let lessons = [row("a", false, Some(1)), row("b", false, Some(5)), row("c", false, None)];
    assert_eq!(next_lesson(&lessons).as_deref(), Some("b"));
    // Last studied (b) is done: the next unfinished after it (d), not before it (a).
    let lessons =
        [row("a", false, Some(1)), row("b", true, Some(5)), row("c", true, None), row("d", false, None)];
    assert_eq!(next_lesson(&lessons).as_deref(), Some("d"));
    // Nothing unfinished after it: wrap around to the first unfinished.
    let lessons = [row("a", false, None), row("b", true, Some(5))];
    assert_eq!(next_lesson(&lessons).as_deref(), Some("a"));
    assert_eq!(next_lesson(&[row("a", true, Some(1)), row("b", true, Some(2))]), None);
}

#[test]
fn a_course_rolls_up_its_modules_lessons_and_time() {
    let (_d, store) = setup();
    let fresh = store.read(|c| course_progress(c, "web-basics")).unwrap();
    let totals: Vec<(i32, i32, i32)> =
        fresh.modules.iter().map(|m| (m.completed_lessons, m.total_lessons, m.percent_complete)).collect();
    assert_eq!(totals, [(0, 3, 0), (0, 3, 0), (0, 2, 0)]);
    assert_eq!((fresh.completed_lessons, fresh.percent_complete, fresh.time_spent_ms), (0, 0, 0));
    assert_eq!(fresh.total_lessons, totals.iter().map(|t| t.1).sum::<i32>());
    assert_eq!(fresh.next_lesson_id.as_deref(), Some("web-basics.what-happens"));

    progress::record_reading(&store, &StudyClock::default(), "phone", READING, 1.0).unwrap();
    let after = store.read(|c| course_progress(c, "web-basics")).unwrap();
    assert_eq!(after.completed_lessons, 1);
    assert_eq!(after.modules[0].completed_lessons, 1);
    assert_eq!(after.modules[0].percent_complete, 33);
    assert_eq!(after.modules[1].completed_lessons, 0);
    assert_eq!(after.percent_complete, 12, "1 of 8, rounded down");
    // The reading was the last studied and is done: the next is the lesson after it.
    assert_ne!(after.next_lesson_id.as_deref(), Some(READING));
    assert!(store.read(|c| course_progress(c, "nope")).is_err());
}
