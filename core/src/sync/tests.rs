//! The local parts of sync on real SQLite files: freezing and numbering, the metered priority
//! order, applying remote records of every kind, pending changes surviving a pull, the resets.

use std::time::{Duration, Instant};

use satchel_protocol::Hlc;
use satchel_protocol::messages::RegisterResponse;
use satchel_protocol::records::{
    AttemptRecord, AttemptState, EnrollmentRecord, LocalProgress, NoteDraft, NoteKind as WireKind,
    NoteRecord, ProgressRecord, QuizMode, SettingRecord,
};

use super::{apply, local, reset, state};
use crate::learning::{StudyClock, goals, progress, quiz};
use crate::notes::{self, NewNote, NoteAnchor, NoteKind};
use crate::outbox::{self, Priority};
use crate::store::Store;

const ME: &str = "phone";
const VIDEO: &str = "web-basics.what-happens";
const READING: &str = "web-basics.reading-urls";
const PRACTICE: &str = "web-basics.http-quiz";
const GRADED: &str = "web-basics.final-quiz";

fn setup() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("s.db")).unwrap();
    crate::catalog::import_manifest(&store, include_str!("../../../cli/sample/course-manifest.json"))
        .unwrap();
    (dir, store)
}

fn play(store: &Store, from_s: i64, to_s: i64) {
    let clock = StudyClock::default();
    let mut t = Instant::now();
    for s in (from_s..=to_s).step_by(5) {
        progress::record_playback_at(store, &clock, ME, VIDEO, s * 1000, t).unwrap();
        t += Duration::from_secs(5);
    }
}

fn note(store: &Store, text: &str) -> notes::Note {
    let new = NewNote {
        lesson_id: VIDEO.into(),
        kind: NoteKind::Note,
        body: text.into(),
        anchor: NoteAnchor::Time { start_ms: 0, end_ms: 1000 },
        color: None,
        tags: vec![],
    };
    store.write(|tx| notes::add(tx, ME, new)).unwrap()
}

fn other(wall_ms: i64) -> Hlc {
    Hlc { wall_ms, counter: 0, device: "tablet".into() }
}

/// (kind, entity, device_seq) of every outbox entry, in the order a push sends them.
fn queue(store: &Store) -> Vec<(String, String, Option<u64>)> {
    store
        .read(outbox::pending)
        .unwrap()
        .into_iter()
        .map(|e| (e.entity_kind, e.entity_id, e.device_seq))
        .collect()
}

#[test]
fn freezing_numbers_entries_gap_free_most_urgent_first_and_bulk_waits_on_metered() {
    let (_d, store) = setup();
    play(&store, 0, 30); // bulk progress
    let n = note(&store, "a note"); // normal
    store.write(|tx| quiz::start_attempt(tx, ME, PRACTICE).map(|_| ())).unwrap(); // urgent
    store.write(|tx| goals::enroll(tx, ME, "web-basics").map(|_| ())).unwrap(); // normal
    progress::record_reading(&store, &StudyClock::default(), ME, READING, 1.0).unwrap(); // a completion

    // Metered: only attempts, completions, notes and enrolment, numbered from 1 with no gap.
    let last = store.write(|tx| outbox::freeze(tx, 0, 100, Priority::Normal)).unwrap();
    assert_eq!(last, 4);
    let q = queue(&store);
    let frozen: Vec<_> = q.iter().filter(|e| e.2.is_some()).map(|e| (e.0.as_str(), e.2.unwrap())).collect();
    assert_eq!(frozen, [("quiz_attempt", 1), ("progress", 2), ("note", 3), ("enrollment", 4)]);
    assert_eq!(q.iter().find(|e| e.1 == VIDEO).unwrap().2, None, "bulk progress waits for Wi-Fi");

    // Frozen entries are never rewritten: a later edit of the note appends a new entry.
    store.write(|tx| notes::update(tx, ME, &n.id, "edited".into(), None, vec![]).map(|_| ())).unwrap();
    let for_note: Vec<_> = queue(&store).into_iter().filter(|e| e.1 == n.id).collect();
    assert_eq!(for_note.len(), 2);
    assert_eq!(for_note[0].2, Some(3));
    assert_eq!(for_note[1].2, None);

    // On Wi-Fi the rest follows, numbered on.
    let last = store.write(|tx| outbox::freeze(tx, 4, 100, Priority::Bulk)).unwrap();
    assert_eq!(last, 6);
    let seqs: Vec<u64> = queue(&store).iter().filter_map(|e| e.2).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn a_pull_never_moves_the_learners_unsent_changes_back() {
    let (_d, store) = setup();
    play(&store, 100, 160);
    let n = note(&store, "my latest words");
    let before = store.read(|c| progress::lesson_progress(c, VIDEO)).unwrap();

    // The tablet's older state: an earlier position, other watched stretches, its own time.
    let theirs = ProgressRecord::from_local(
        VIDEO,
        "web-basics",
        other(1_000),
        &LocalProgress {
            position_ms: 10_000,
            furthest_ms: 300_000,
            watched: &[(0, 50_000)],
            scroll_fraction: 0.0,
            completed_at_ms: None,
            device_time_ms: 7_000,
        },
    )
    .unwrap();
    store
        .write(|tx| {
            apply::merge_remote(tx, ME, theirs.into())?;
            let mut old = local::load_note(tx, &n.id)?.unwrap();
            old.body =
                satchel_protocol::records::BodyVersions::new("older words".into(), other(1_000), 1_000);
            apply::merge_remote(tx, ME, old.into())
        })
        .unwrap();

    let after = store.read(|c| progress::lesson_progress(c, VIDEO)).unwrap();
    assert_eq!(after.position_ms, before.position_ms, "my later position wins");
    assert_eq!(after.furthest_ms, 300_000);
    assert_eq!(after.watched_ms, before.watched_ms + 50_000, "watched stretches are united");
    assert_eq!(after.time_spent_ms, before.time_spent_ms + 7_000, "their time adds, mine is not doubled");
    let shown = store.read(|c| notes::get(c, &n.id)).unwrap();
    assert_eq!(shown.body, "my latest words");
    let revisions = store.read(|c| notes::sync::revisions(c, &n.id)).unwrap();
    assert_eq!(revisions.len(), 1, "the concurrent text is a revision");
    assert_eq!(revisions[0].text, "older words");
    assert!(!revisions[0].shown, "the revision is not the text shown");
    assert_eq!(queue(&store).len(), 2, "my changes are still queued, as they were");

    // Dismissing it drops it from the shown list and from the record that syncs.
    store.write(|tx| notes::sync::dismiss_revision(tx, ME, &n.id, &revisions[0].revision_id)).unwrap();
    assert!(store.read(|c| notes::sync::revisions(c, &n.id)).unwrap().is_empty());
    assert_eq!(store.read(|c| notes::get(c, &n.id)).unwrap().body, "my latest words");
    let record = store.read(|c| local::load_note(c, &n.id)).unwrap().unwrap();
    assert!(record.revisions().is_empty(), "the stored record, which syncs, lost the revision too");
}

#[test]
fn remote_records_of_every_kind_materialise_into_their_tables() {
    let (_d, store) = setup();
    let progress_record = ProgressRecord::from_local(
        READING,
        "web-basics",
        other(5_000),
        &LocalProgress {
            position_ms: 0,
            furthest_ms: 0,
            watched: &[],
            scroll_fraction: 1.0,
            completed_at_ms: Some(4_000),
            device_time_ms: 60_000,
        },
    )
    .unwrap();
    let draft = NoteDraft {
        note_id: "n-1".into(),
        lesson_id: VIDEO.into(),
        course_id: "web-basics".into(),
        kind: WireKind::Highlight,
        anchor: serde_json::json!({"type": "time", "start_ms": 0, "end_ms": 500}),
        color: Some("green".into()),
        tags: vec!["exam".into()],
        text: "from the tablet".into(),
    };
    let note_record = NoteRecord::create(draft, other(5_001), 5_001).unwrap();
    let attempt = AttemptRecord {
        attempt_id: "a-1".into(),
        lesson_id: GRADED.into(),
        course_id: "web-basics".into(),
        mode: QuizMode::Graded,
        state: AttemptState::Graded,
        answers: Default::default(),
        started_at_ms: 1,
        submitted_at_ms: Some(2),
        score_percent: Some(100),
        passed: Some(true),
        graded_by_server: true,
    };
    let enrollment = EnrollmentRecord::new("web-basics", 3_000, other(5_002)).unwrap();
    let goal = SettingRecord::new(goals::WEEKLY_GOAL_KEY, serde_json::json!(6), other(5_003)).unwrap();
    store
        .write(|tx| {
            for record in
                [progress_record.into(), note_record.into(), attempt.into(), enrollment.into(), goal.into()]
            {
                apply::merge_remote(tx, ME, record)?;
            }
            Ok(())
        })
        .unwrap();

    let reading = store.read(|c| progress::lesson_progress(c, READING)).unwrap();
    assert!(reading.completed);
    assert_eq!(reading.completed_at_ms, Some(4_000));
    assert_eq!(reading.time_spent_ms, 60_000);
    let shown = store.read(|c| notes::get(c, "n-1")).unwrap();
    assert_eq!(
        (shown.body.as_str(), shown.kind, shown.color.as_deref()),
        ("from the tablet", NoteKind::Highlight, Some("green"))
    );
    let attempts = store.read(|c| quiz::attempts(c, GRADED)).unwrap();
    assert_eq!(attempts[0].score_percent, Some(100));
    assert!(
        store.read(|c| progress::lesson_progress(c, GRADED)).unwrap().completed,
        "a server pass completes"
    );
    assert_eq!(store.read(goals::enrollments).unwrap()[0].enrolled_at_ms, 3_000);
    assert_eq!(store.read(|c| goals::summary(c, 0, 0)).unwrap().weekly_goal_days, 6);
    // Only the completion this device derived from the server's grade is queued.
    let q = queue(&store);
    assert_eq!(q.len(), 1, "{q:?}");
    assert_eq!(q[0].1, GRADED);
}

#[test]
fn a_snapshot_reset_deletes_only_synced_rows_and_a_restored_server_gets_everything_again() {
    let (_d, store) = setup();
    let synced = note(&store, "already on the server");
    store
        .write(|tx| {
            let last = outbox::freeze(tx, 0, 100, Priority::Bulk)?;
            state::set_registered(tx, ME, "epoch-1", last)?;
            state::set_cursor(tx, "epoch-1", 7)?;
            outbox::remove_frozen(tx, 1)
        })
        .unwrap();
    let unsynced = note(&store, "not sent yet");
    let register = |epoch: &str, next_seq: u64| RegisterResponse {
        protocol: 1,
        epoch: epoch.into(),
        next_seq,
        server_time_ms: 0,
    };

    // Past the tombstone horizon (same epoch, the server has our seq 1).
    store
        .write(|tx| {
            reset::prepare_reset(tx)?;
            let before = state::load(tx)?;
            reset::after_register(tx, ME, &before, &register("epoch-1", 2))
        })
        .unwrap();
    assert!(
        store.read(|c| notes::get(c, &synced.id)).is_err(),
        "the synced note goes (the pull brings it back)"
    );
    assert!(store.read(|c| local::load_note(c, &synced.id)).unwrap().is_none());
    assert_eq!(store.read(|c| notes::get(c, &unsynced.id)).unwrap().body, "not sent yet");
    let st = store.read(state::load).unwrap();
    assert_eq!((st.cursor, st.last_seq, st.registered_device.as_deref()), (0, 1, Some(ME)));
    assert_eq!(queue(&store).len(), 1);

    // A restored server that forgot our ops: every record is queued again, from its next seq.
    store.write(|tx| state::set_cursor(tx, "epoch-1", 9)).unwrap();
    let kept = note(&store, "another");
    store
        .write(|tx| outbox::freeze(tx, 1, 100, Priority::Bulk).and_then(|l| state::set_last_seq(tx, l)))
        .unwrap();
    store.write(|tx| outbox::remove_frozen(tx, 2).and_then(|_| outbox::remove_frozen(tx, 3))).unwrap();
    assert!(queue(&store).is_empty());
    store
        .write(|tx| {
            reset::prepare_reset(tx)?;
            let before = state::load(tx)?;
            reset::after_register(tx, ME, &before, &register("epoch-2", 1))
        })
        .unwrap();
    let q = queue(&store);
    let ids: Vec<&str> = q.iter().map(|e| e.1.as_str()).collect();
    assert!(ids.contains(&kept.id.as_str()) && ids.contains(&unsynced.id.as_str()), "{q:?}");
    let st = store.read(state::load).unwrap();
    assert_eq!((st.cursor, st.last_seq, st.epoch.as_deref()), (0, 0, Some("epoch-2")));
}
