//! Convergence under faults, against the real thing: two or three devices of one learner (real
//! accounts on real SQLite files, clocks a day off and one a year off) each behind its own fault
//! proxy to the reference sync server (a real process on loopback), doing random sequences of
//! study, notes (with concurrent edits, restored and dismissed revisions), quiz attempts,
//! enrolment and settings interleaved with syncs whose requests are dropped, duplicated,
//! delivered late behind newer ones, or answered after the server committed with the reply
//! lost. After one fault-free round every device must hold what every other holds and what the
//! server holds, and nothing the learner wrote may be lost or come back from deletion.
//!
//! Cases: `PROPTEST_CASES` (default 32: 15–20 s on a shared 2-core machine), shrinking on
//! (`PROPTEST_MAX_SHRINK_ITERS`, default 24).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use satchel_core::learning::AttemptState;
use satchel_core::notes::{NewNote, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;
use satchel_core::sync::SyncTuning;
use satchel_protocol::Record;
use satchel_tests::fault_proxy::{FaultProxy, Faults, RequestFault};
use satchel_tests::sync_device::{
    COURSE, Device, PRACTICE, READING, SECOND_VIDEO, Tokens, VIDEO, is_finished, quick_tuning,
};
use satchel_tests::sync_server::SyncServer;

const DAY_MS: i64 = 86_400_000;
const YEAR_MS: i64 = 365 * DAY_MS;
const MAX_DEVICES: usize = 3;

/// One thing a device does.
#[derive(Debug, Clone)]
enum Step {
    /// Plays a video for a few 5-second ticks.
    Play {
        device: usize,
        second_video: bool,
        from_s: i64,
        ticks: i64,
    },
    /// Reads the reading to the end (completes it).
    Read {
        device: usize,
    },
    AddNote {
        device: usize,
    },
    /// Edits the `pick`-th note the device shows (if it shows any).
    EditNote {
        device: usize,
        pick: usize,
    },
    DeleteNote {
        device: usize,
        pick: usize,
    },
    /// Restores the `rev`-th version of the `pick`-th note (shown or deleted) that has other
    /// versions on the device.
    RestoreRevision {
        device: usize,
        pick: usize,
        rev: usize,
    },
    /// Dismisses the `rev`-th revision of the `pick`-th shown note that has revisions.
    DismissRevision {
        device: usize,
        pick: usize,
        rev: usize,
    },
    Enroll {
        device: usize,
    },
    /// Every device syncs in turn over a sound link.
    SyncAll,
    /// Every device edits the `pick`-th note it shows, none syncing in between: concurrent
    /// edits, kept as revisions.
    EditEverywhere {
        pick: usize,
    },
    /// Takes the practice quiz, all answers right (it passes, completing the lesson) or not.
    Quiz {
        device: usize,
        right: bool,
    },
    SetGoal {
        device: usize,
        days: u8,
    },
    /// Syncs with these faults on its first requests.
    Sync {
        device: usize,
        faults: Vec<RequestFault>,
    },
}

#[derive(Debug, Clone)]
struct Scenario {
    /// Clock offset of each device (its length is the number of devices).
    clocks: Vec<i64>,
    steps: Vec<Step>,
}

fn fault() -> impl Strategy<Value = RequestFault> {
    prop_oneof![
        3 => Just(RequestFault::Pass),
        2 => Just(RequestFault::Drop),
        2 => Just(RequestFault::LoseReply),
        1 => Just(RequestFault::Duplicate),
        1 => Just(RequestFault::Delay),
        1 => Just(RequestFault::Replay),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    let device = 0..MAX_DEVICES;
    prop_oneof![
        2 => (device.clone(), any::<bool>(), 0..30i64, 1..4i64)
            .prop_map(|(device, second_video, from, ticks)| Step::Play { device, second_video, from_s: from * 10, ticks }),
        1 => device.clone().prop_map(|device| Step::Read { device }),
        3 => device.clone().prop_map(|device| Step::AddNote { device }),
        2 => (device.clone(), 0..4usize).prop_map(|(device, pick)| Step::EditNote { device, pick }),
        1 => (device.clone(), 0..4usize).prop_map(|(device, pick)| Step::DeleteNote { device, pick }),
        2 => (device.clone(), 0..4usize, 0..4usize)
            .prop_map(|(device, pick, rev)| Step::RestoreRevision { device, pick, rev }),
        2 => (device.clone(), 0..4usize, 0..4usize)
            .prop_map(|(device, pick, rev)| Step::DismissRevision { device, pick, rev }),
        1 => (0..4usize).prop_map(|pick| Step::EditEverywhere { pick }),
        1 => Just(Step::SyncAll),
        1 => device.clone().prop_map(|device| Step::Enroll { device }),
        1 => (device.clone(), any::<bool>()).prop_map(|(device, right)| Step::Quiz { device, right }),
        1 => (device.clone(), 1..=7u8).prop_map(|(device, days)| Step::SetGoal { device, days }),
        4 => (device, proptest::collection::vec(fault(), 0..4)).prop_map(|(device, faults)| Step::Sync { device, faults }),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    let day_skew = prop_oneof![Just(-DAY_MS), Just(0), Just(DAY_MS)];
    // One device may be a year off (behind: its stamps lose every tie; ahead: clamped).
    let year = prop_oneof![Just(0), Just(-YEAR_MS), Just(YEAR_MS)];
    (proptest::collection::vec(day_skew, 2..=MAX_DEVICES), year, proptest::collection::vec(step(), 4..32))
        .prop_map(|(mut clocks, year, steps)| {
            let last = clocks.len() - 1;
            if year != 0 {
                clocks[last] = year;
            }
            Scenario { clocks, steps }
        })
}

/// What the learner did, as far as the assertions need it.
#[derive(Default)]
struct Model {
    /// Every text each note ever had, by note id.
    texts: BTreeMap<String, BTreeSet<String>>,
    /// Texts an edit replaced while they were shown on the editing device (they may go).
    superseded: BTreeMap<String, BTreeSet<String>>,
    deleted: BTreeSet<String>,
    /// Notes a revision was restored of (which undeletes them: whether a concurrent delete or
    /// the restore wins is the clocks' call).
    restored: BTreeSet<String>,
    attempts: BTreeSet<String>,
    completed: BTreeSet<String>,
    goals: BTreeSet<i32>,
    enrolled: bool,
    written: u32,
}

/// The fixed parts shared by every case: the server and one proxy per device slot.
struct Rig {
    server: SyncServer,
    proxies: Vec<FaultProxy>,
}

static LEARNERS: AtomicU32 = AtomicU32::new(0);
/// How often the rarer steps found something to act on (printed, to show they ran).
static RESTORES: AtomicU32 = AtomicU32::new(0);
static DISMISSALS: AtomicU32 = AtomicU32::new(0);

#[test]
fn devices_with_faulty_links_and_wrong_clocks_converge_and_lose_nothing() {
    let state = tempfile::tempdir().unwrap();
    let server = SyncServer::create(state.path()).unwrap();
    let proxies =
        (0..MAX_DEVICES).map(|_| FaultProxy::start(server.addr, Faults::default()).unwrap()).collect();
    let rig = Rig { server, proxies };
    let config = Config {
        cases: env_or("PROPTEST_CASES", 32),
        max_shrink_iters: env_or("PROPTEST_MAX_SHRINK_ITERS", 24),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&scenario(), |scenario| {
        run_case(&rig, &scenario).map_err(|e| TestCaseError::fail(format!("{e:#}")))
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    eprintln!(
        "{} cases; revisions restored {}, dismissed {}",
        LEARNERS.load(Ordering::SeqCst),
        RESTORES.load(Ordering::SeqCst),
        DISMISSALS.load(Ordering::SeqCst)
    );
}

fn env_or(name: &str, default: u32) -> u32 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn run_case(rig: &Rig, scenario: &Scenario) -> Result<()> {
    let learner = format!("learner-{}", LEARNERS.fetch_add(1, Ordering::SeqCst));
    let token = rig.server.token(&learner, 86_400)?;
    let tuning = SyncTuning { retry_after_cap: Duration::from_secs(1), ..quick_tuning() };
    let mut devices = Vec::new();
    for (i, offset) in scenario.clocks.iter().enumerate() {
        let device = Device::open_with_clock(&format!("device-{i}"), *offset)?;
        rig.proxies[i].set_faults(Faults::default());
        rig.proxies[i].deliver_held()?;
        device.connect_with(&rig.proxies[i].base_url(), Tokens::new(token.clone()), tuning.clone())?;
        devices.push(device);
    }
    let mut model = Model::default();
    // Every case starts from a note all devices have, so edits and revisions have something to
    // work on early.
    let prologue = [Step::AddNote { device: 0 }, Step::SyncAll];
    for step in prologue.iter().chain(&scenario.steps) {
        perform(rig, &devices, &mut model, step).with_context(|| format!("{step:?}"))?;
    }

    // The links heal: whatever was held back arrives, then everyone syncs twice.
    for proxy in &rig.proxies[..devices.len()] {
        proxy.set_faults(Faults::default());
        proxy.deliver_held()?;
    }
    for round in 0..2 {
        for (i, device) in devices.iter().enumerate() {
            let report = device.sync()?;
            ensure!(is_finished(&report), "final round {round}, device {i}: {report:?}");
        }
    }
    check(rig, &learner, &devices, &model)
}

fn perform(rig: &Rig, devices: &[Device], model: &mut Model, step: &Step) -> Result<()> {
    let n = devices.len();
    let rt = runtime();
    match step {
        Step::Play { device, second_video, from_s, ticks } => {
            let lesson = if *second_video { SECOND_VIDEO } else { VIDEO };
            devices[device % n].play(lesson, *from_s, from_s + (ticks - 1) * 5)?;
        }
        Step::Read { device } => {
            rt.block_on(devices[device % n].satchel.record_reading(READING.into(), 1.0))?;
            model.completed.insert(READING.into());
        }
        Step::AddNote { device } => {
            let text = model.next_text(device % n);
            let note = rt.block_on(devices[device % n].satchel.add_note(NewNote {
                lesson_id: VIDEO.into(),
                kind: NoteKind::Note,
                body: text.clone(),
                anchor: NoteAnchor::Time { start_ms: 1_000, end_ms: 2_000 },
                color: None,
                tags: vec![],
            }))?;
            model.texts.entry(note.id).or_default().insert(text);
        }
        Step::EditNote { device, pick } => {
            let satchel = &devices[device % n].satchel;
            let shown = rt.block_on(satchel.notes_for_course(COURSE.into()))?;
            if let Some(note) = pick_one(&shown, *pick) {
                let text = model.next_text(device % n);
                rt.block_on(satchel.update_note(
                    note.id.clone(),
                    text.clone(),
                    note.color.clone(),
                    note.tags.clone(),
                ))?;
                model.superseded.entry(note.id.clone()).or_default().insert(note.body.clone());
                model.texts.entry(note.id.clone()).or_default().insert(text);
            }
        }
        Step::SyncAll => {
            for device in 0..n {
                perform(rig, devices, model, &Step::Sync { device, faults: vec![] })?;
            }
        }
        Step::EditEverywhere { pick } => {
            for device in 0..n {
                perform(rig, devices, model, &Step::EditNote { device, pick: *pick })?;
            }
        }
        Step::DeleteNote { device, pick } => {
            let satchel = &devices[device % n].satchel;
            let shown = rt.block_on(satchel.notes_for_course(COURSE.into()))?;
            if let Some(note) = pick_one(&shown, *pick) {
                rt.block_on(satchel.delete_note(note.id.clone()))?;
                model.deleted.insert(note.id.clone());
            }
        }
        Step::RestoreRevision { device, pick, rev } => {
            let satchel = &devices[device % n].satchel;
            let mut candidates = Vec::new();
            let shown = rt.block_on(satchel.notes_for_course(COURSE.into()))?;
            let deleted = rt.block_on(satchel.deleted_notes(COURSE.into()))?;
            for note in shown.iter().chain(&deleted) {
                let revisions = rt.block_on(satchel.note_revisions(note.id.clone()))?;
                if !revisions.is_empty() {
                    candidates.push((note.clone(), revisions));
                }
            }
            candidates.sort_by(|a, b| a.0.id.cmp(&b.0.id));
            if let Some((note, revisions)) = pick_one(&candidates, *pick) {
                let chosen = &revisions[rev % revisions.len()];
                rt.block_on(satchel.restore_note_revision(note.id.clone(), chosen.revision_id.clone()))?;
                // Every version the device showed is replaced by the chosen text.
                let gone = model.superseded.entry(note.id.clone()).or_default();
                gone.insert(note.body.clone());
                gone.extend(revisions.iter().map(|r| r.text.clone()));
                // ... and the chosen text is written again: it must stay until replaced again.
                gone.remove(&chosen.text);
                model.restored.insert(note.id.clone());
                RESTORES.fetch_add(1, Ordering::SeqCst);
            }
        }
        Step::DismissRevision { device, pick, rev } => {
            let satchel = &devices[device % n].satchel;
            let mut candidates = Vec::new();
            for note in rt.block_on(satchel.notes_for_course(COURSE.into()))? {
                let revisions = rt.block_on(satchel.note_revisions(note.id.clone()))?;
                if !revisions.is_empty() {
                    candidates.push((note, revisions));
                }
            }
            if let Some((note, revisions)) = pick_one(&candidates, *pick) {
                let chosen = &revisions[rev % revisions.len()];
                rt.block_on(satchel.dismiss_note_revision(note.id.clone(), chosen.revision_id.clone()))?;
                model.superseded.entry(note.id.clone()).or_default().insert(chosen.text.clone());
                DISMISSALS.fetch_add(1, Ordering::SeqCst);
            }
        }
        Step::Enroll { device } => {
            rt.block_on(devices[device % n].satchel.enroll(COURSE.into()))?;
            model.enrolled = true;
        }
        Step::Quiz { device, right } => {
            let satchel = &devices[device % n].satchel;
            let attempt = rt.block_on(satchel.start_quiz_attempt(PRACTICE.into()))?;
            let answers = [("q1", "c"), ("q2", "a"), ("q4", "a"), ("q5", "a")];
            for (question, choice) in answers {
                let choice = if *right { choice } else { "b" };
                rt.block_on(satchel.answer_question(
                    attempt.id.clone(),
                    question.into(),
                    vec![choice.into()],
                ))?;
            }
            let graded = rt.block_on(satchel.submit_quiz_attempt(attempt.id.clone()))?;
            ensure!(graded.state == AttemptState::Graded, "a practice attempt is graded on the phone");
            if graded.passed == Some(true) {
                model.completed.insert(PRACTICE.into());
            }
            model.attempts.insert(attempt.id);
        }
        Step::SetGoal { device, days } => {
            rt.block_on(devices[device % n].satchel.set_weekly_goal(i32::from(*days)))?;
            model.goals.insert(i32::from(*days));
        }
        Step::Sync { device, faults } => {
            let proxy = &rig.proxies[device % n];
            proxy.set_faults(Faults {
                script: faults.clone(),
                one_request_per_connection: true,
                ..Faults::default()
            });
            // Any outcome will do (a sync may give up on a bad link); an error may not.
            devices[device % n].sync()?;
            proxy.set_faults(Faults::default());
        }
    }
    Ok(())
}

fn pick_one<T>(items: &[T], pick: usize) -> Option<&T> {
    (!items.is_empty()).then(|| &items[pick % items.len()])
}

impl Model {
    /// A text no one wrote before.
    fn next_text(&mut self, device: usize) -> String {
        self.written += 1;
        format!("words {} from device {device}", self.written)
    }
}

/// Every record of the learner as the server stores it.
fn server_records(server: &SyncServer, learner: &str) -> Result<BTreeMap<(String, String), Record>> {
    let conn =
        rusqlite::Connection::open_with_flags(server.db(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut statement = conn.prepare("SELECT kind, entity_id, body FROM record WHERE learner_id = ?1")?;
    let rows = statement.query_map([learner], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
    })?;
    let mut records = BTreeMap::new();
    for row in rows {
        let (kind, id, body) = row?;
        records.insert((kind, id), serde_json::from_str(&body)?);
    }
    Ok(records)
}

/// Every record a device holds.
fn device_records(device: &Device) -> Result<BTreeMap<(String, String), Record>> {
    let rows: Vec<(String, String, String)> = device.satchel.account().store().read(|c| {
        let mut statement = c.prepare("SELECT kind, entity_id, record FROM sync_record")?;
        let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    })?;
    let mut records = BTreeMap::new();
    for (kind, id, body) in rows {
        records.insert((kind, id), serde_json::from_str(&body)?);
    }
    Ok(records)
}

/// What a learner sees on a device, without device-local times.
#[derive(Debug, PartialEq)]
struct View {
    /// (id, text, colour, tags) of the notes shown.
    notes: Vec<(String, String, Option<String>, Vec<String>)>,
    deleted: Vec<String>,
    /// Every version each note has (shown, revisions; all of a deleted note's).
    versions: BTreeMap<String, BTreeSet<String>>,
    attempts: Vec<(String, AttemptState, Option<i32>)>,
    /// (lesson, position, watched, time, completed).
    progress: Vec<(String, i64, i64, i64, bool)>,
    goal: i32,
    enrolled: Vec<String>,
}

fn view(device: &Device, note_ids: &BTreeSet<String>) -> Result<View> {
    let rt = runtime();
    let s = &device.satchel;
    let mut notes: Vec<_> = rt
        .block_on(s.notes_for_course(COURSE.into()))?
        .into_iter()
        .map(|n| (n.id, n.body, n.color, n.tags))
        .collect();
    notes.sort();
    let mut deleted: Vec<String> =
        rt.block_on(s.deleted_notes(COURSE.into()))?.into_iter().map(|n| n.id).collect();
    deleted.sort();
    let mut versions = BTreeMap::new();
    for (id, body, ..) in &notes {
        versions.entry(id.clone()).or_insert_with(BTreeSet::new).insert(body.clone());
    }
    for id in note_ids {
        let revisions = rt.block_on(s.note_revisions(id.clone()))?;
        versions
            .entry(id.clone())
            .or_insert_with(BTreeSet::new)
            .extend(revisions.into_iter().map(|r| r.text));
    }
    let mut attempts: Vec<_> = rt
        .block_on(s.quiz_attempts(PRACTICE.into()))?
        .into_iter()
        .map(|a| (a.id, a.state, a.score_percent))
        .collect();
    attempts.sort_by(|a, b| a.0.cmp(&b.0));
    let mut progress = Vec::new();
    for lesson in [VIDEO, SECOND_VIDEO, READING, PRACTICE] {
        let p = rt.block_on(s.lesson_progress(lesson.into()))?;
        progress.push((lesson.to_owned(), p.position_ms, p.watched_ms, p.time_spent_ms, p.completed));
    }
    let goal = rt.block_on(s.learning_summary(0))?.weekly_goal_days;
    let enrolled = rt.block_on(s.enrollments())?.into_iter().map(|e| e.course_id).collect();
    Ok(View { notes, deleted, versions, attempts, progress, goal, enrolled })
}

fn check(rig: &Rig, learner: &str, devices: &[Device], model: &Model) -> Result<()> {
    let on_server = server_records(&rig.server, learner)?;
    for (i, device) in devices.iter().enumerate() {
        ensure!(device.pending()? == 0, "device {i} has changes left to send");
        let rejected = runtime().block_on(device.satchel.rejected_sync_ops())?;
        ensure!(rejected.is_empty(), "device {i}: valid changes were refused: {rejected:?}");
        let held = device_records(device)?;
        if held != on_server {
            let differ: Vec<_> = held
                .keys()
                .chain(on_server.keys())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .filter(|k| held.get(*k) != on_server.get(*k))
                .map(|k| format!("{k:?}:\n  device: {:?}\n  server: {:?}", held.get(k), on_server.get(k)))
                .collect();
            bail!("device {i} holds other records than the server:\n{}", differ.join("\n"));
        }
    }

    let note_ids: BTreeSet<String> = model.texts.keys().cloned().collect();
    let first = view(&devices[0], &note_ids)?;
    for (i, device) in devices.iter().enumerate().skip(1) {
        let other = view(device, &note_ids)?;
        ensure!(other == first, "device {i} shows other things than device 0:\n{other:#?}\n{first:#?}");
    }

    let shown: BTreeSet<&String> = first.notes.iter().map(|n| &n.0).collect();
    let deleted: BTreeSet<&String> = first.deleted.iter().collect();
    for (id, texts) in &model.texts {
        if model.restored.contains(id) {
            ensure!(deleted.contains(id) || shown.contains(id), "note {id} is lost: {first:#?}");
        } else if model.deleted.contains(id) {
            ensure!(
                deleted.contains(id) && !shown.contains(id),
                "note {id} was deleted but is not: {first:#?}"
            );
        } else {
            ensure!(shown.contains(id), "note {id} is lost: {first:#?}");
        }
        let kept = first.versions.get(id).cloned().unwrap_or_default();
        let may_go = model.superseded.get(id).cloned().unwrap_or_default();
        for text in texts.difference(&may_go) {
            ensure!(kept.contains(text), "note {id} lost the text {text:?}: it has {kept:?}");
        }
    }
    ensure!(
        first.notes.len() + first.deleted.len() == model.texts.len(),
        "notes appeared from nowhere: {first:#?}"
    );
    let attempts: BTreeSet<&String> = first.attempts.iter().map(|a| &a.0).collect();
    ensure!(
        attempts == model.attempts.iter().collect(),
        "attempts {attempts:?}, written {:?}",
        model.attempts
    );
    ensure!(first.attempts.iter().all(|a| a.1 == AttemptState::Graded), "{:?}", first.attempts);
    for lesson in &model.completed {
        let done = first.progress.iter().any(|p| &p.0 == lesson && p.4);
        ensure!(done, "{lesson} was completed, and is not: {:?}", first.progress);
    }
    ensure!(
        first.enrolled.is_empty() != model.enrolled,
        "enrolled {:?}, model {}",
        first.enrolled,
        model.enrolled
    );
    if !model.goals.is_empty() {
        ensure!(model.goals.contains(&first.goal), "goal {} was never set ({:?})", first.goal, model.goals);
    }
    Ok(())
}
