//! The completion rules and the played-versus-seeked rule at their exact boundaries, on a real
//! SQLite file holding the sample course.

use std::time::{Duration, Instant};

use super::*;
use crate::catalog::test_support::sample_store as setup;
use crate::store::Store;

const ME: &str = "phone";
/// 372 s long: 90% is 334,800 ms; the end (less the slack) is 371,000 ms.
const VIDEO: &str = "web-basics.what-happens";
const VIDEO_MS: i64 = 372_000;
const READING: &str = "web-basics.reading-urls";
const QUIZ: &str = "web-basics.http-quiz";

/// Plays `VIDEO` from `from_ms` to `to_ms` in steps of 10 s of position every 5 s (2×, a speed
/// players offer), landing exactly on `to_ms`. Returns the last report's progress.
fn play(store: &Store, clock: &StudyClock, t: &mut Instant, from_ms: i64, to_ms: i64) -> LessonProgress {
    let mut position = from_ms;
    let mut last = record_playback_at(store, clock, ME, VIDEO, position, *t).unwrap();
    while position < to_ms {
        position = (position + 10_000).min(to_ms);
        *t += Duration::from_secs(5);
        last = record_playback_at(store, clock, ME, VIDEO, position, *t).unwrap();
    }
    last
}

/// The priority of the newest outbox entry for `lesson`.
fn newest_priority(store: &Store, lesson: &str) -> i64 {
    store
        .read(|c| {
            Ok(c.query_row(
                "SELECT priority FROM outbox WHERE entity_id = ?1 ORDER BY seq DESC LIMIT 1",
                [lesson],
                |r| r.get(0),
            )?)
        })
        .unwrap()
}

#[test]
fn a_video_is_complete_at_exactly_ninety_percent_played() {
    let (_d, store) = setup();
    let clock = StudyClock::default();
    let mut t = Instant::now();
    let short = play(&store, &clock, &mut t, 0, 334_799);
    assert_eq!(short.watched_ms, 334_799);
    assert!(!short.completed);
    let (_d2, store2) = setup();
    let clock2 = StudyClock::default();
    let enough = play(&store2, &clock2, &mut t, 0, 334_800);
    assert_eq!(enough.watched_ms, 334_800);
    assert!(enough.completed);
    assert!(enough.completed_at_ms.is_some());
    assert_eq!((enough.position_ms, enough.furthest_ms), (334_800, 334_800));
}

#[test]
fn reaching_the_end_less_one_second_completes_even_when_seeked() {
    let (_d, store) = setup();
    let clock = StudyClock::default();
    let t = Instant::now();
    let before = record_playback_at(&store, &clock, ME, VIDEO, VIDEO_MS - END_SLACK_MS - 1, t).unwrap();
    assert!(!before.completed);
    assert_eq!(before.watched_ms, 0);
    let at =
        record_playback_at(&store, &clock, ME, VIDEO, VIDEO_MS - END_SLACK_MS, t + Duration::from_secs(90))
            .unwrap();
    assert!(at.completed);
    assert_eq!(at.watched_ms, 0, "a jump after a long pause is not playing");
}

#[test]
fn positions_up_to_a_second_past_the_end_are_clamped_and_beyond_refused() {
    let (_d, store) = setup();
    let clock = StudyClock::default();
    let t = Instant::now();
    let zero = record_playback_at(&store, &clock, ME, VIDEO, 0, t).unwrap();
    assert_eq!((zero.position_ms, zero.completed), (0, false));
    let past = record_playback_at(&store, &clock, ME, VIDEO, VIDEO_MS + END_SLACK_MS, t).unwrap();
    assert_eq!((past.position_ms, past.furthest_ms), (VIDEO_MS, VIDEO_MS));
    let beyond = record_playback_at(&store, &clock, ME, VIDEO, VIDEO_MS + END_SLACK_MS + 1, t);
    assert!(matches!(beyond, Err(Error::InvalidArgument(_))), "{beyond:?}");
    let negative = record_playback_at(&store, &clock, ME, VIDEO, -1, t);
    assert!(matches!(negative, Err(Error::InvalidArgument(_))));
    // Reports of the wrong kind of lesson are refused.
    assert!(matches!(record_playback_at(&store, &clock, ME, READING, 0, t), Err(Error::InvalidArgument(_))));
    assert!(matches!(record_reading(&store, &clock, ME, VIDEO, 0.5), Err(Error::InvalidArgument(_))));
}

#[test]
fn a_forward_move_counts_as_played_up_to_the_fastest_speed_plus_slack() {
    // After 10 s, a move of 10 s × 2.5 + 1.5 s = 26.5 s was played; 1 ms more was a seek.
    for (advance, played) in [(26_500, 26_500), (26_501, 0)] {
        let (_d, store) = setup();
        let clock = StudyClock::default();
        let t = Instant::now();
        record_playback_at(&store, &clock, ME, VIDEO, 1_000, t).unwrap();
        let p = record_playback_at(&store, &clock, ME, VIDEO, 1_000 + advance, t + Duration::from_secs(10))
            .unwrap();
        assert_eq!(p.watched_ms, played, "advance {advance}");
        assert_eq!(p.furthest_ms, 1_000 + advance);
    }
    // Staying put and going back are not playing; the resume position follows the learner.
    let (_d, store) = setup();
    let clock = StudyClock::default();
    let t = Instant::now();
    record_playback_at(&store, &clock, ME, VIDEO, 60_000, t).unwrap();
    let still = record_playback_at(&store, &clock, ME, VIDEO, 60_000, t + Duration::from_secs(5)).unwrap();
    assert_eq!(still.watched_ms, 0);
    let back = record_playback_at(&store, &clock, ME, VIDEO, 20_000, t + Duration::from_secs(10)).unwrap();
    assert_eq!((back.watched_ms, back.position_ms, back.furthest_ms), (0, 20_000, 60_000));
    let on = record_playback_at(&store, &clock, ME, VIDEO, 30_000, t + Duration::from_secs(15)).unwrap();
    assert_eq!(on.watched_ms, 10_000);
}

#[test]
fn learning_time_is_the_counted_gaps() {
    let (_d, store) = setup();
    let clock = StudyClock::default();
    let mut t = Instant::now();
    let p = play(&store, &clock, &mut t, 0, 50_000);
    assert_eq!(p.time_spent_ms, 25_000, "five reports 5 s apart");
    let days = store.read(|c| study_time::per_local_day(c, 0)).unwrap();
    assert_eq!(days.iter().map(|d| d.1).sum::<i64>(), 25_000);
    assert_eq!(store.read(|c| lesson_progress(c, VIDEO)).unwrap().time_spent_ms, 25_000);
}

#[test]
fn a_reading_is_complete_at_exactly_ninety_eight_percent_and_stays_at_its_furthest() {
    let (_d, store) = setup();
    let clock = StudyClock::default();
    let p = record_reading(&store, &clock, ME, READING, 0.979).unwrap();
    assert!(!p.completed);
    let p = record_reading(&store, &clock, ME, READING, 0.5).unwrap();
    assert_eq!(p.scroll_fraction, 0.979, "scrolling back up keeps the furthest point");
    let p = record_reading(&store, &clock, ME, READING, READING_COMPLETE_FRACTION).unwrap();
    assert!(p.completed);
    for bad in [-0.01, 1.01, f64::NAN] {
        assert!(matches!(record_reading(&store, &clock, ME, READING, bad), Err(Error::InvalidArgument(_))));
    }
    assert!(record_reading(&store, &clock, ME, READING, 1.0).is_ok());
    assert!(record_reading(&store, &clock, ME, READING, 0.0).is_ok());
}

#[test]
fn completion_is_sticky_keeps_its_first_time_and_is_sent_first_once() {
    let (_d, store) = setup();
    let clock = StudyClock::default();
    let t = Instant::now();
    let first = record_playback_at(&store, &clock, ME, VIDEO, 10_000, t).unwrap();
    assert_eq!(newest_priority(&store, VIDEO), Priority::Bulk as i64);
    assert!(!first.completed);
    let done = record_playback_at(&store, &clock, ME, VIDEO, VIDEO_MS, t + Duration::from_secs(120)).unwrap();
    assert_eq!(newest_priority(&store, VIDEO), Priority::Urgent as i64, "a completion goes first");
    // Once that entry is frozen for sending, later ticks get an entry of their own.
    store.write(|tx| outbox::freeze(tx, 0, 100, Priority::Bulk)).unwrap();
    let later = record_playback_at(&store, &clock, ME, VIDEO, 0, t + Duration::from_secs(300)).unwrap();
    assert!(later.completed);
    assert_eq!(later.completed_at_ms, done.completed_at_ms);
    assert_eq!(newest_priority(&store, VIDEO), Priority::Bulk as i64, "later ticks are bulk again");

    // A passed quiz marks its lesson complete once; a second pass keeps the first time.
    store.write(|tx| mark_complete(tx, ME, QUIZ, "web-basics")).unwrap();
    let quiz = store.read(|c| lesson_progress(c, QUIZ)).unwrap();
    assert!(quiz.completed);
    let entries = |s: &Store| {
        s.read(|c| {
            Ok(c.query_row("SELECT count(*) FROM outbox WHERE entity_id = ?1", [QUIZ], |r| {
                r.get::<_, i64>(0)
            })?)
        })
        .unwrap()
    };
    let before = entries(&store);
    store.write(|tx| mark_complete(tx, ME, QUIZ, "web-basics")).unwrap();
    assert_eq!(store.read(|c| lesson_progress(c, QUIZ)).unwrap().completed_at_ms, quiz.completed_at_ms);
    assert_eq!(entries(&store), before, "nothing new to send");
}

#[test]
fn an_unstarted_lesson_reads_as_fresh_progress_and_unknown_ones_are_not_found() {
    let (_d, store) = setup();
    let fresh = store.read(|c| lesson_progress(c, VIDEO)).unwrap();
    assert_eq!(
        fresh,
        LessonProgress {
            lesson_id: VIDEO.into(),
            course_id: "web-basics".into(),
            position_ms: 0,
            furthest_ms: 0,
            watched_ms: 0,
            scroll_fraction: 0.0,
            completed: false,
            completed_at_ms: None,
            time_spent_ms: 0,
            updated_at_ms: 0,
        }
    );
    assert!(store.read(|c| lesson_progress(c, "nope")).is_err());
    let clock = StudyClock::default();
    assert!(record_playback_at(&store, &clock, ME, "nope", 0, Instant::now()).is_err());
}

#[test]
fn studying_a_lesson_marks_its_course_as_recently_studied() {
    let (_d, store) = setup();
    let clock = StudyClock::default();
    let p = record_reading(&store, &clock, ME, READING, 0.2).unwrap();
    assert!(p.updated_at_ms > 0);
    let studied: Option<i64> = store
        .read(|c| {
            Ok(c.query_row("SELECT last_studied_at_ms FROM course WHERE id = 'web-basics'", [], |r| {
                r.get(0)
            })?)
        })
        .unwrap();
    assert_eq!(studied, Some(p.updated_at_ms));
}

#[test]
fn progress_made_before_sync_gets_its_records_once_with_a_completion_sent_first() {
    let (_d, store) = setup();
    let clock = StudyClock::default();
    let mut t = Instant::now();
    play(&store, &clock, &mut t, 0, 60_000);
    record_reading(&store, &clock, ME, READING, 1.0).unwrap();
    let load = |lesson: &str| store.read(|c| crate::sync::local::load_progress(c, lesson)).unwrap();
    let (video, reading) = (load(VIDEO).unwrap(), load(READING).unwrap());
    store
        .write(|tx| {
            tx.execute("DELETE FROM sync_record WHERE kind = 'progress'", [])?;
            Ok(tx.execute("DELETE FROM outbox WHERE entity_kind = 'progress'", [])?)
        })
        .unwrap();
    assert!(load(VIDEO).is_none() && load(READING).is_none());

    store.write(|tx| backfill_records(tx, ME)).unwrap();
    let rebuilt = load(VIDEO).expect("a record for the video's progress");
    assert_eq!(rebuilt.lesson_id, video.lesson_id);
    assert_eq!(rebuilt.watched, video.watched, "what was watched is what the record says");
    let done = load(READING).expect("a record for the reading's progress");
    assert_eq!(done.completed_at_ms.is_some(), reading.completed_at_ms.is_some());
    assert!(done.completed_at_ms.is_some());
    assert_eq!(newest_priority(&store, READING), Priority::Urgent as i64, "a completion goes first");
    assert_eq!(newest_priority(&store, VIDEO), Priority::Bulk as i64);

    store.write(|tx| backfill_records(tx, ME)).unwrap();
    assert_eq!(load(VIDEO), Some(rebuilt), "a second backfill changes nothing");
    assert_eq!(load(READING), Some(done));
}
