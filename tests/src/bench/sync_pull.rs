//! `sync_pull_50k_seconds`: a learner's history of 50,000 records (notes and quiz attempts over
//! the sample course) pulled onto a fresh phone through the core's real sync, every page applied
//! and its cursor saved in one transaction. Beside it, the same records' JSON inserted with raw
//! rusqlite in transactions of one page: what the storage alone could do, with no HTTP, zstd,
//! merge or materialising into notes and attempts.

use std::time::Instant;

use anyhow::{Result, ensure};
use rusqlite::{Connection, params};
use satchel_core::runtime::runtime;
use satchel_core::sync::{SyncOutcome, SyncTuning};
use satchel_protocol::codec;
use satchel_protocol::messages::{Op, PROTOCOL_VERSION, PushRequest, RegisterRequest};
use satchel_protocol::records::{NoteDraft, NoteKind, NoteRecord};
use satchel_protocol::{Hlc, Record};

use super::report::{Goal, Row};
use super::sync::{BenchServer, post, uuid};
use super::sync_sample::{practice_attempt, video_lessons};
use crate::sync_device::{COURSE, Device, Tokens};

const RECORDS: usize = 50_000;
const BATCH: usize = 500;
/// Our own goal (the brief sets none): a learner's year of history on a new phone in under ten
/// seconds on this machine, so well under a minute on a cheap phone.
const GOAL_SECONDS: f64 = 10.0;

pub fn pull_50k() -> Result<Row> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server_runtime =
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let dir = tempfile::tempdir()?;
    let server = server_runtime.block_on(BenchServer::start(dir.path()))?;
    let token = server.token("amina")?;
    let lessons: Vec<String> = video_lessons()?.into_iter().map(|(id, _)| id).collect();
    let history = history(&lessons)?;
    let base_url = format!("http://{}/", server.http.addr);
    server_runtime.block_on(upload(&base_url, &token, &history))?;

    let phone = Device::open("new phone")?;
    phone.connect_with(
        &base_url,
        Tokens::new(token.clone()),
        SyncTuning { period: None, ..SyncTuning::default() },
    )?;
    let started = Instant::now();
    let report = runtime().block_on(phone.satchel.sync(300_000))?;
    let ours_s = started.elapsed().as_secs_f64();
    ensure!(report.outcome == SyncOutcome::Finished, "the pull did not finish: {report:?}");
    ensure!(report.pulled as usize >= RECORDS, "pulled {} of {RECORDS}", report.pulled);
    let notes = runtime().block_on(phone.satchel.notes_for_lesson(lessons[0].clone()))?;
    let expected = history.iter().flatten().filter(|op| on_lesson(&op.record, &lessons[0])).count();
    ensure!(
        notes.len() == expected,
        "{} notes on {} after the pull, {expected} expected",
        notes.len(),
        lessons[0]
    );
    eprintln!("bench: pulled {} records in {ours_s:.2} s", report.pulled);

    let raw_s = raw_inserts(dir.path(), &history)?;
    Ok(Row::new(
        "sync_pull_50k_seconds",
        ours_s,
        "s",
        "raw rusqlite inserts of the records, 1 tx/page",
        raw_s,
        Goal::ValueAtMost(GOAL_SECONDS),
    ))
}

fn on_lesson(record: &Record, lesson: &str) -> bool {
    matches!(record, Record::Note(note) if note.lesson_id == lesson)
}

/// Four notes for every quiz attempt, spread over the lectures, as batches of pushes.
fn history(lessons: &[String]) -> Result<Vec<Vec<Op>>> {
    let device = "old-phone";
    let base_ms = 1_800_000_000_000i64;
    let mut batches = Vec::new();
    let mut ops = Vec::with_capacity(BATCH);
    for n in 0..RECORDS {
        let at = base_ms + n as i64 * 60_000;
        let hlc = Hlc { wall_ms: at, counter: 0, device: device.to_owned() };
        let lesson = &lessons[n % lessons.len()];
        let record: Record = if n % 5 == 4 {
            practice_attempt(&format!("attempt-{n}"), at)
        } else {
            let draft = NoteDraft {
                note_id: format!("note-{n}"),
                lesson_id: lesson.clone(),
                course_id: COURSE.into(),
                kind: NoteKind::Note,
                anchor: serde_json::json!({ "type": "time", "start_ms": 10_000, "end_ms": 20_000 }),
                color: None,
                tags: vec!["review".into()],
                text: format!("What the lecturer said about point {n}, to look up again before the exam."),
            };
            NoteRecord::create(draft, hlc, at)?.into()
        };
        let seq = n as u64 + 1;
        ops.push(Op { op_id: uuid(device, seq), seq, record });
        if ops.len() == BATCH {
            batches.push(std::mem::take(&mut ops));
        }
    }
    if !ops.is_empty() {
        batches.push(ops);
    }
    Ok(batches)
}

/// The old phone's pushes, as its sync engine would send them.
async fn upload(base_url: &str, token: &str, history: &[Vec<Op>]) -> Result<()> {
    let http = reqwest::Client::new();
    let base = format!("{base_url}sync/v1");
    let register = serde_json::to_vec(&RegisterRequest::new("old-phone", "old phone"))?;
    post(&http, &format!("{base}/devices"), token, register, false).await?;
    for ops in history {
        let request = PushRequest {
            protocol: PROTOCOL_VERSION,
            device_id: "old-phone".into(),
            epoch: None,
            ops: ops.clone(),
        };
        post(&http, &format!("{base}/push"), token, codec::encode(&request)?.bytes, true).await?;
    }
    Ok(())
}

fn raw_inserts(dir: &std::path::Path, history: &[Vec<Op>]) -> Result<f64> {
    let mut conn = Connection::open(dir.join("raw.db"))?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE record (kind TEXT, entity_id TEXT, body TEXT, PRIMARY KEY (kind, entity_id)) WITHOUT ROWID",
    )?;
    let started = Instant::now();
    for ops in history {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached("INSERT OR REPLACE INTO record VALUES (?1, ?2, ?3)")?;
            for op in ops {
                let (kind, id) = op.record.key();
                insert.execute(params![kind.as_str(), id, serde_json::to_string(&op.record)?])?;
            }
        }
        tx.commit()?;
    }
    Ok(started.elapsed().as_secs_f64())
}
