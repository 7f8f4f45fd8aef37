//! `sync_week_bytes` and `sync_week_seconds`: a learner's week offline on one phone (10,000
//! playback ticks, 200 notes, 20 quiz attempts through the core's real API), then one sync to
//! the reference server, counted on the wire (HTTP headers included). Beside it, a naive client
//! that POSTs one JSON object per event to the same server, uncompressed — what an app without
//! an outbox of states would send.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use satchel_core::learning::progress;
use satchel_core::notes::{NewNote, NoteAnchor, NoteKind};
use satchel_core::runtime::runtime;
use satchel_core::sync::{SyncOutcome, SyncTuning};
use satchel_protocol::messages::{Op, PROTOCOL_VERSION, PushRequest, RegisterRequest};
use satchel_protocol::records::{LocalProgress, NoteDraft, NoteKind as WireNoteKind, ProgressRecord};
use satchel_protocol::{Hlc, Record};

use super::report::{Goal, Row};
use super::sync::{BenchServer, post, uuid};
use super::sync_sample::{practice_attempt, video_lessons};
use super::wire_meter::WireMeter;
use crate::sync_device::{COURSE, Device, PRACTICE, Tokens};

const TICKS: usize = 10_000;
const NOTES: usize = 200;
const ATTEMPTS: usize = 20;
/// A playback report every 5 s, in sittings of 10 minutes.
const TICK_MS: i64 = 5_000;
const TICKS_PER_SITTING: usize = 120;

pub fn week() -> Result<Vec<Row>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server_runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let server = server_runtime.block_on(BenchServer::start(dir.path()))?;
    let meter = WireMeter::start(server.http.addr)?;
    let token = server.token("amina")?;
    let lessons = video_lessons()?;

    let phone = Device::open("phone")?;
    study_a_week(&phone, &lessons)?;
    phone.connect_with(
        &meter.base_url(),
        Tokens::new(token.clone()),
        SyncTuning { period: None, ..SyncTuning::default() },
    )?;
    meter.reset();
    let started = Instant::now();
    let report = runtime().block_on(phone.satchel.sync(120_000))?;
    let ours_s = started.elapsed().as_secs_f64();
    ensure!(
        report.outcome == SyncOutcome::Finished && report.remaining == 0,
        "sync did not finish: {report:?}"
    );
    let (up, down) = meter.bytes();
    let ours_bytes = (up + down) as f64;
    eprintln!("bench: week synced in {ours_s:.2} s: {} ops, {up} B up, {down} B down", report.pushed);

    meter.reset();
    let started = Instant::now();
    let events = server_runtime.block_on(naive_week(&meter.base_url(), &token, &lessons))?;
    let naive_s = started.elapsed().as_secs_f64();
    let (naive_up, naive_down) = meter.bytes();
    let naive_bytes = (naive_up + naive_down) as f64;
    eprintln!(
        "bench: naive client sent {events} events in {naive_s:.2} s: {naive_up} B up, {naive_down} B down"
    );
    ensure!(events == TICKS + NOTES + ATTEMPTS, "the naive client sent {events} events");

    Ok(vec![
        Row::new(
            "sync_week_bytes",
            ours_bytes,
            "B",
            "naive client, one JSON POST per event",
            naive_bytes,
            Goal::RatioAtMost(1.0 / 20.0),
        ),
        Row::new(
            "sync_week_seconds",
            ours_s,
            "s",
            "naive client, one JSON POST per event",
            naive_s,
            Goal::ValueAtMost(2.0),
        ),
    ])
}

/// The week, through the same calls the shells make: sittings of playback spread over the
/// video lectures, a note every 50 ticks, a practice quiz every 500.
fn study_a_week(device: &Device, lessons: &[(String, i64)]) -> Result<()> {
    let account = device.satchel.account();
    let mut now = Instant::now();
    let mut position_ms = vec![0i64; lessons.len()];
    for tick in 0..TICKS {
        let lesson = (tick / TICKS_PER_SITTING) % lessons.len();
        let (id, duration_ms) = &lessons[lesson];
        progress::record_playback_at(
            account.store(),
            account.clock(),
            account.device_id(),
            id,
            position_ms[lesson],
            now,
        )?;
        position_ms[lesson] = (position_ms[lesson] + TICK_MS) % duration_ms;
        now += Duration::from_millis(TICK_MS as u64);
        if (tick + 1) % TICKS_PER_SITTING == 0 {
            account.clock().end_session();
        }
        if tick % (TICKS / NOTES) == 0 {
            let note = NewNote {
                lesson_id: id.clone(),
                kind: NoteKind::Note,
                body: note_text(tick),
                anchor: NoteAnchor::Time {
                    start_ms: note_at(position_ms[lesson], *duration_ms),
                    end_ms: note_at(position_ms[lesson], *duration_ms) + 10_000,
                },
                color: None,
                tags: vec!["review".into()],
            };
            runtime().block_on(device.satchel.add_note(note))?;
        }
        if tick % (TICKS / ATTEMPTS) == 0 {
            let attempt = runtime().block_on(device.satchel.start_quiz_attempt(PRACTICE.into()))?;
            runtime().block_on(device.satchel.answer_question(
                attempt.id.clone(),
                "q1".into(),
                vec!["c".into()],
            ))?;
            runtime().block_on(device.satchel.submit_quiz_attempt(attempt.id))?;
        }
    }
    account.clock().end_session();
    Ok(())
}

/// Where a 10-second note starts: at the playhead, or ending at the lecture's end.
fn note_at(position_ms: i64, duration_ms: i64) -> i64 {
    position_ms.min(duration_ms - 10_000)
}

fn note_text(n: usize) -> String {
    format!("Remember this part of the lecture for the exam: point {n}, and look it up again later.")
}

/// The same week sent as one uncompressed JSON POST per event. Returns the events sent.
async fn naive_week(base_url: &str, token: &str, lessons: &[(String, i64)]) -> Result<usize> {
    let http = reqwest::Client::new();
    let base = format!("{base_url}sync/v1");
    let device = "naive-phone";
    let register = serde_json::to_vec(&RegisterRequest::new(device, "naive"))?;
    post(&http, &format!("{base}/devices"), token, register, false).await?;
    let push = format!("{base}/push");
    let start_ms = 1_800_000_000_000i64;
    let mut position_ms = vec![0i64; lessons.len()];
    let mut furthest_ms = vec![0i64; lessons.len()];
    let mut spent_ms = vec![0i64; lessons.len()];
    let mut seq = 0u64;
    let send = |record: Record, seq: u64| {
        let request = PushRequest {
            protocol: PROTOCOL_VERSION,
            device_id: device.to_owned(),
            epoch: None,
            ops: vec![Op { op_id: uuid(device, seq), seq, record }],
        };
        let body = serde_json::to_vec(&request);
        let (http, push) = (http.clone(), push.clone());
        async move { post(&http, &push, token, body?, false).await.map(|_| ()) }
    };
    for tick in 0..TICKS {
        let lesson = (tick / TICKS_PER_SITTING) % lessons.len();
        let (id, duration_ms) = &lessons[lesson];
        let at = start_ms + tick as i64 * TICK_MS;
        let hlc = Hlc { wall_ms: at, counter: 0, device: device.to_owned() };
        furthest_ms[lesson] = furthest_ms[lesson].max(position_ms[lesson]);
        spent_ms[lesson] += TICK_MS;
        let watched = [(0, furthest_ms[lesson])];
        let local = LocalProgress {
            position_ms: position_ms[lesson],
            furthest_ms: furthest_ms[lesson],
            watched: &watched,
            scroll_fraction: 0.0,
            completed_at_ms: None,
            device_time_ms: spent_ms[lesson],
        };
        seq += 1;
        send(ProgressRecord::from_local(id, COURSE, hlc.clone(), &local)?.into(), seq).await?;
        position_ms[lesson] = (position_ms[lesson] + TICK_MS) % duration_ms;
        if tick % (TICKS / NOTES) == 0 {
            let draft = NoteDraft {
                note_id: format!("naive-note-{tick}"),
                lesson_id: id.clone(),
                course_id: COURSE.into(),
                kind: WireNoteKind::Note,
                anchor: serde_json::json!({ "type": "time", "start_ms": note_at(position_ms[lesson], *duration_ms), "end_ms": note_at(position_ms[lesson], *duration_ms) + 10_000 }),
                color: None,
                tags: vec!["review".into()],
                text: note_text(tick),
            };
            seq += 1;
            send(satchel_protocol::records::NoteRecord::create(draft, hlc.clone(), at)?.into(), seq).await?;
        }
        if tick % (TICKS / ATTEMPTS) == 0 {
            let attempt = practice_attempt(&format!("naive-attempt-{tick}"), at);
            seq += 1;
            send(attempt, seq).await.context("a naive quiz attempt")?;
        }
    }
    Ok(seq as usize)
}
