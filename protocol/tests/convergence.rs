//! A simulated learner with three devices: random local changes through the record helpers,
//! whole-state messages sent between devices in random order, delivered twice, or dropped,
//! clocks skewed by a day and by a year. After a final exchange every device must hold the
//! same records, and nothing a learner did may be missing: every note version not replaced by
//! an edit that saw it, the latest write of every field, the earliest completion, each
//! device's own study time exactly once, the furthest an attempt got.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use satchel_protocol::records::{
    AnswerRecord, AttemptRecord, AttemptState, EnrollmentRecord, LocalProgress, NoteDraft, NoteKind,
    NoteRecord, ProgressRecord, QuizMode, SettingRecord,
};
use satchel_protocol::{EntityKind, Hlc, Record};
use serde_json::json;

const DAY_MS: i64 = 86_400_000;
/// Device clocks: right, a day behind, a year behind.
const CLOCK_OFFSETS: [i64; 3] = [0, -DAY_MS, -365 * DAY_MS];
const START_MS: i64 = 1_800_000_000_000;
/// Device 0 owns the quiz attempt; device 2 stands in for the server that grades it.
const OWNER: usize = 0;
const GRADER: usize = 2;

#[derive(Debug, Clone)]
enum Action {
    Edit { replica: usize, what: u8, n: u8 },
    Send { from: usize, to: usize },
    Deliver { index: usize, keep_copy: bool },
    Drop { index: usize },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        4 => (0..3usize, 0..9u8, any::<u8>()).prop_map(|(replica, what, n)| Action::Edit { replica, what, n }),
        2 => (0..3usize, 0..3usize).prop_map(|(from, to)| Action::Send { from, to }),
        3 => (any::<usize>(), any::<bool>()).prop_map(|(index, keep_copy)| Action::Deliver { index, keep_copy }),
        1 => any::<usize>().prop_map(|index| Action::Drop { index }),
    ]
}

type Key = (EntityKind, String);

struct Replica {
    device: String,
    offset_ms: i64,
    last: Option<Hlc>,
    records: BTreeMap<Key, Record>,
    /// Study time on this device only.
    own_time_ms: i64,
}

impl Replica {
    fn now(&self, global_ms: i64) -> i64 {
        global_ms + self.offset_ms
    }

    fn stamp(&mut self, global_ms: i64) -> Hlc {
        let next = Hlc::tick(self.last.as_ref(), self.now(global_ms), &self.device);
        self.last = Some(next.clone());
        next
    }

    /// Merges a remote record and moves the clock past its stamps (the HLC receive rule), so
    /// the next local change is newer than anything held.
    fn receive(&mut self, record: Record, global_ms: i64) {
        if let Some(remote) = record.max_hlc() {
            let now = self.now(global_ms);
            self.last = Some(Hlc::receive(self.last.as_ref(), remote, now, &self.device));
        }
        let key = (record.key().0, record.key().1.to_owned());
        let merged = match self.records.remove(&key) {
            Some(mine) => mine.merge(record).expect("same key"),
            None => record,
        };
        self.records.insert(key, merged);
    }

    fn note(&mut self) -> Option<&mut NoteRecord> {
        match self.records.get_mut(&(EntityKind::Note, "note-1".to_owned())) {
            Some(Record::Note(n)) => Some(n),
            _ => None,
        }
    }
}

/// What the learner did, to check the final state against.
#[derive(Default)]
struct Truth {
    created_versions: BTreeMap<Hlc, String>,
    superseded: BTreeSet<Hlc>,
    deleted_writes: BTreeMap<Hlc, bool>,
    tag_writes: BTreeMap<Hlc, Vec<String>>,
    setting_writes: BTreeMap<Hlc, serde_json::Value>,
    position_writes: BTreeMap<Hlc, i64>,
    unenrol_writes: BTreeMap<Hlc, bool>,
    completions: Vec<i64>,
    own_time: BTreeMap<String, i64>,
    attempt_state: Option<AttemptState>,
}

fn apply_edit(replica: &mut Replica, index: usize, what: u8, n: u8, global_ms: i64, truth: &mut Truth) {
    let step_text = format!("r{index}-{global_ms}");
    match what {
        0 => {
            if replica.note().is_none() {
                return;
            }
            let hlc = replica.stamp(global_ms);
            let at_ms = replica.now(global_ms).max(0);
            let note = replica.note().unwrap();
            let shown = note.winner().map(|(h, _)| h.clone());
            assert!(note.edit_body(step_text.clone(), hlc.clone(), at_ms).unwrap(), "a new text is an edit");
            truth.superseded.extend(shown);
            truth.created_versions.insert(hlc, step_text);
        }
        1 => {
            if replica.note().is_none() {
                return;
            }
            let hlc = replica.stamp(global_ms);
            replica.note().unwrap().set_deleted(n.is_multiple_of(2), hlc.clone()).unwrap();
            truth.deleted_writes.insert(hlc, n.is_multiple_of(2));
        }
        2 => {
            let Some(note) = replica.note() else { return };
            let heads: Vec<Hlc> = note.body.heads.keys().cloned().collect();
            let was_deleted = note.deleted.value;
            let chosen = heads[usize::from(n) % heads.len()].clone();
            let hlc = replica.stamp(global_ms);
            let at_ms = replica.now(global_ms).max(0);
            let note = replica.note().unwrap();
            let text = note.body.heads[&chosen].text.clone();
            note.restore_revision(&chosen, hlc.clone(), at_ms).unwrap();
            truth.superseded.extend(heads);
            truth.created_versions.insert(hlc.clone(), text);
            if was_deleted {
                truth.deleted_writes.insert(hlc, false);
            }
        }
        3 => {
            let Some(note) = replica.note() else { return };
            let revisions: Vec<Hlc> = note.revisions().iter().map(|(h, _)| (*h).clone()).collect();
            if revisions.is_empty() {
                assert_eq!(
                    note.dismiss_revision(&note.winner().unwrap().0.clone()),
                    Err(satchel_protocol::RecordError::CannotDismissWinner)
                );
                return;
            }
            let chosen = revisions[usize::from(n) % revisions.len()].clone();
            note.dismiss_revision(&chosen).unwrap();
            truth.superseded.insert(chosen);
        }
        4 => {
            if replica.note().is_none() {
                return;
            }
            let hlc = replica.stamp(global_ms);
            let tags = vec![format!("tag-{}", n % 4)];
            replica.note().unwrap().set_tags(tags.clone(), hlc.clone()).unwrap();
            truth.tag_writes.insert(hlc, tags);
        }
        5 => {
            let hlc = replica.stamp(global_ms);
            replica.own_time_ms += 1_000 * (i64::from(n % 7) + 1);
            let completed = n.is_multiple_of(5).then(|| replica.now(global_ms).max(0));
            let position = i64::from(n) * 1_000;
            let watched = [(position, position + 500)];
            let local = LocalProgress {
                position_ms: position,
                furthest_ms: position,
                watched: &watched,
                scroll_fraction: f64::from(n % 11) / 10.0,
                completed_at_ms: completed,
                device_time_ms: replica.own_time_ms,
            };
            let key = (EntityKind::Progress, "lesson-1".to_owned());
            match replica.records.get_mut(&key) {
                Some(Record::Progress(p)) => p.observe_local(hlc.clone(), &local).unwrap(),
                _ => {
                    let p = ProgressRecord::from_local("lesson-1", "course-1", hlc.clone(), &local).unwrap();
                    replica.records.insert(key, p.into());
                }
            }
            truth.position_writes.insert(hlc, position);
            truth.completions.extend(completed);
            truth.own_time.insert(replica.device.clone(), replica.own_time_ms);
        }
        6 => {
            let hlc = replica.stamp(global_ms);
            let value = json!(n % 7 + 1);
            let key = (EntityKind::Setting, "weekly_goal_days".to_owned());
            match replica.records.get_mut(&key) {
                Some(Record::Setting(s)) => s.set(value.clone(), hlc.clone()).unwrap(),
                _ => {
                    let s = SettingRecord::new("weekly_goal_days", value.clone(), hlc.clone()).unwrap();
                    replica.records.insert(key, s.into());
                }
            }
            truth.setting_writes.insert(hlc, value);
        }
        7 => edit_attempt(replica, index, n, global_ms, truth),
        _ => {
            let hlc = replica.stamp(global_ms);
            let key = (EntityKind::Enrollment, "course-1".to_owned());
            let unenrol = n.is_multiple_of(2);
            match replica.records.get_mut(&key) {
                Some(Record::Enrollment(e)) => {
                    e.set_unenrolled(unenrol, hlc.clone()).unwrap();
                    truth.unenrol_writes.insert(hlc, unenrol);
                }
                _ => {
                    let e = EnrollmentRecord::new("course-1", replica.now(global_ms).max(0), hlc.clone())
                        .unwrap();
                    replica.records.insert(key, e.into());
                    truth.unenrol_writes.insert(hlc, false);
                }
            }
        }
    }
}

/// The owner answers and submits; the grader grades a submitted attempt.
fn edit_attempt(replica: &mut Replica, index: usize, n: u8, global_ms: i64, truth: &mut Truth) {
    let key = (EntityKind::QuizAttempt, "attempt-1".to_owned());
    let now = replica.now(global_ms).max(0);
    let Some(Record::QuizAttempt(attempt)) = replica.records.get_mut(&key) else { return };
    if index == OWNER && attempt.state == AttemptState::InProgress {
        if n.is_multiple_of(4) {
            attempt.state = AttemptState::SubmittedPending;
            attempt.submitted_at_ms = Some(now);
        } else {
            let answer = AnswerRecord { answered_at_ms: now, choice_ids: vec![format!("c{}", n % 3)] };
            attempt.answers.insert(format!("q{}", n % 3), answer);
        }
    } else if index == GRADER && attempt.state == AttemptState::SubmittedPending {
        *attempt = attempt.clone().graded_by_server(n % 101, n.is_multiple_of(2)).unwrap();
    }
    assert_eq!(attempt.validate(), Ok(()));
    truth.attempt_state = truth.attempt_state.max(Some(attempt.state));
}

fn initial(truth: &mut Truth) -> Vec<Replica> {
    let mut replicas: Vec<Replica> = CLOCK_OFFSETS
        .iter()
        .zip(["phone", "tablet", "old-phone"])
        .map(|(&offset_ms, device)| Replica {
            device: device.to_owned(),
            offset_ms,
            last: None,
            records: BTreeMap::new(),
            own_time_ms: 0,
        })
        .collect();
    let owner = &mut replicas[OWNER];
    let hlc = owner.stamp(START_MS);
    let draft = NoteDraft {
        note_id: "note-1".into(),
        lesson_id: "lesson-1".into(),
        course_id: "course-1".into(),
        kind: NoteKind::Note,
        anchor: json!({"type": "time", "start_ms": 0, "end_ms": 1000}),
        color: None,
        tags: vec![],
        text: "first".into(),
    };
    let note = NoteRecord::create(draft, hlc.clone(), START_MS).unwrap();
    owner.records.insert((EntityKind::Note, "note-1".into()), note.into());
    truth.created_versions.insert(hlc.clone(), "first".into());
    truth.deleted_writes.insert(hlc.clone(), false);
    truth.tag_writes.insert(hlc, vec![]);
    let attempt = AttemptRecord {
        attempt_id: "attempt-1".into(),
        lesson_id: "quiz-1".into(),
        course_id: "course-1".into(),
        mode: QuizMode::Graded,
        state: AttemptState::InProgress,
        answers: BTreeMap::new(),
        started_at_ms: START_MS,
        submitted_at_ms: None,
        score_percent: None,
        passed: None,
        graded_by_server: false,
    };
    owner.records.insert((EntityKind::QuizAttempt, "attempt-1".into()), attempt.into());
    truth.attempt_state = Some(AttemptState::InProgress);
    replicas
}

fn latest<T: Clone>(writes: &BTreeMap<Hlc, T>) -> Option<T> {
    writes.last_key_value().map(|(_, v)| v.clone())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn three_devices_converge_and_lose_nothing(actions in prop::collection::vec(action(), 1..160)) {
        let mut truth = Truth::default();
        let mut replicas = initial(&mut truth);
        let mut network: Vec<(usize, Vec<Record>)> = Vec::new();
        let mut global_ms = START_MS;

        for action in actions {
            global_ms += 1_000;
            match action {
                Action::Edit { replica, what, n } => {
                    apply_edit(&mut replicas[replica], replica, what, n, global_ms, &mut truth);
                }
                Action::Send { from, to } => {
                    network.push((to, replicas[from].records.values().cloned().collect()));
                }
                Action::Deliver { index, keep_copy } if !network.is_empty() => {
                    let index = index % network.len();
                    let (to, records) = if keep_copy { network[index].clone() } else { network.remove(index) };
                    for record in records {
                        replicas[to].receive(record, global_ms);
                    }
                }
                Action::Drop { index } if !network.is_empty() => {
                    network.remove(index % network.len());
                }
                Action::Deliver { .. } | Action::Drop { .. } => {}
            }
        }

        // The devices finally reconnect: each one's state reaches every other.
        let snapshots: Vec<Vec<Record>> = replicas.iter().map(|r| r.records.values().cloned().collect()).collect();
        for (from, snapshot) in snapshots.iter().enumerate() {
            for (to, replica) in replicas.iter_mut().enumerate() {
                if from != to {
                    for record in snapshot.clone() {
                        replica.receive(record, global_ms);
                    }
                }
            }
        }

        let reference = replicas[0].records.clone();
        for replica in &replicas[1..] {
            prop_assert_eq!(&replica.records, &reference, "device {} differs", replica.device);
        }
        for record in reference.values() {
            prop_assert_eq!(record.validate(), Ok(()), "{:?}", record.key());
        }

        let Some(Record::Note(note)) = reference.get(&(EntityKind::Note, "note-1".to_owned())) else {
            panic!("the note is gone");
        };
        let expected_heads: BTreeMap<Hlc, String> = truth
            .created_versions
            .iter()
            .filter(|(hlc, _)| !truth.superseded.contains(*hlc))
            .map(|(hlc, text)| (hlc.clone(), text.clone()))
            .collect();
        let heads: BTreeMap<Hlc, String> = note.body.heads.iter().map(|(h, v)| (h.clone(), v.text.clone())).collect();
        prop_assert_eq!(heads, expected_heads, "every version kept unless an edit that saw it replaced it");
        prop_assert_eq!(&note.body.superseded, &truth.superseded);
        prop_assert_eq!(Some(note.deleted.value), latest(&truth.deleted_writes));
        prop_assert_eq!(Some(note.tags.value.clone()), latest(&truth.tag_writes));

        match reference.get(&(EntityKind::Progress, "lesson-1".to_owned())) {
            Some(Record::Progress(p)) => {
                prop_assert_eq!(Some(p.position_ms.value), latest(&truth.position_writes));
                prop_assert_eq!(p.completed_at_ms, truth.completions.iter().copied().min());
                prop_assert_eq!(&p.time_by_device, &truth.own_time, "each device's time once");
                prop_assert_eq!(p.total_time_ms(), truth.own_time.values().sum::<i64>());
            }
            None => prop_assert!(truth.position_writes.is_empty()),
            Some(other) => panic!("{other:?}"),
        }
        match reference.get(&(EntityKind::Setting, "weekly_goal_days".to_owned())) {
            Some(Record::Setting(s)) => prop_assert_eq!(Some(s.value.value.clone()), latest(&truth.setting_writes)),
            _ => prop_assert!(truth.setting_writes.is_empty()),
        }
        match reference.get(&(EntityKind::Enrollment, "course-1".to_owned())) {
            Some(Record::Enrollment(e)) => prop_assert_eq!(Some(e.unenrolled.value), latest(&truth.unenrol_writes)),
            _ => prop_assert!(truth.unenrol_writes.is_empty()),
        }
        match reference.get(&(EntityKind::QuizAttempt, "attempt-1".to_owned())) {
            Some(Record::QuizAttempt(a)) => prop_assert_eq!(Some(a.state), truth.attempt_state),
            other => panic!("the attempt is gone: {other:?}"),
        }
    }
}
