//! `sync_server_ops_per_s`: ops one server process applies per second, pushed over real HTTP on
//! loopback by clients in the same process — realistic batches (progress ticks, notes, quiz
//! attempts, settings; 500 ops each, zstd-encoded as the client sends them) from several
//! learners at once. Beside it, the same rows inserted with raw rusqlite, one transaction per
//! batch (what the storage alone could do without the protocol: HTTP, auth, JSON, validation,
//! merge, op log), and PowerSync's published 2,000–4,000 ops/s as the stated goal.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use rusqlite::{Connection, params};
use satchel_protocol::codec;
use satchel_protocol::messages::{Op, PROTOCOL_VERSION, PushRequest, PushResponse, RegisterRequest};
use satchel_protocol::records::{
    AnswerRecord, AttemptRecord, AttemptState, LocalProgress, NoteDraft, NoteKind, NoteRecord,
    ProgressRecord, QuizMode, SettingRecord,
};
use satchel_protocol::{Hlc, Record};
use satchel_server::grading::AnswerKeys;
use satchel_server::serve;
use satchel_server::sync::SyncService;
use satchel_server::sync::auth::{self, TokenKey};
use satchel_server::sync::rate_limit::RateLimit;
use satchel_server::sync::store::SqliteStore;

use super::report::{Goal, Row};

const LEARNERS: usize = 4;
const BATCHES_PER_LEARNER: usize = 10;
const OPS_PER_BATCH: usize = 500;
/// The top of PowerSync's published range of sustained writes per second.
const POWERSYNC_OPS_PER_S: f64 = 4_000.0;

pub fn server_ops() -> Result<Vec<Row>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let batches: Vec<Vec<Vec<Op>>> =
        (0..LEARNERS).map(|l| learner_batches(&format!("device-{l}"))).collect::<Result<_>>()?;
    let total_ops = (LEARNERS * BATCHES_PER_LEARNER * OPS_PER_BATCH) as f64;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let ours = runtime.block_on(push_over_http(&batches))?;
    let raw = raw_inserts(&batches)?;
    let ours_per_s = total_ops / ours;
    let raw_per_s = total_ops / raw;
    Ok(vec![
        Row::new(
            "sync_server_ops_per_s",
            ours_per_s,
            "ops/s",
            "raw rusqlite inserts, same rows, 1 tx/batch",
            raw_per_s,
            Goal::RatioAtLeast(0.05),
        ),
        Row::new(
            "sync_server_ops_vs_powersync",
            ours_per_s,
            "ops/s",
            "PowerSync published 4,000 ops/s",
            POWERSYNC_OPS_PER_S,
            Goal::RatioAtLeast(1.0),
        ),
    ])
}

/// Seconds to push every batch: learners in parallel, each device's batches in order.
async fn push_over_http(batches: &[Vec<Vec<Op>>]) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let server = BenchServer::start(dir.path()).await?;
    let (service, key) = (server.service.clone(), server.key.clone());
    let base = format!("http://{}/sync/v1", server.http.addr);
    let http = reqwest::Client::new();

    // Encoded up front, as a client's outbox batch is: the server's work is what is timed.
    let mut bodies = Vec::new();
    for (l, learner_batches) in batches.iter().enumerate() {
        let device = format!("device-{l}");
        let token = key.mint(&format!("learner-{l}"), auth::now_s() + 3600)?;
        let register = serde_json::to_vec(&RegisterRequest::new(&device, "bench"))?;
        post(&http, &format!("{base}/devices"), &token, register, false).await?;
        let encoded = learner_batches
            .iter()
            .map(|ops| {
                let request = PushRequest {
                    protocol: PROTOCOL_VERSION,
                    device_id: device.clone(),
                    epoch: None,
                    ops: ops.clone(),
                };
                Ok(codec::encode(&request)?.bytes)
            })
            .collect::<Result<Vec<_>>>()?;
        bodies.push((token, encoded));
    }
    let started = Instant::now();
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|(token, encoded)| {
            let (http, url) = (http.clone(), format!("{base}/push"));
            tokio::spawn(async move {
                for body in encoded {
                    let answer: PushResponse =
                        serde_json::from_slice(&post(&http, &url, &token, body, true).await?)?;
                    ensure!(answer.results.len() == OPS_PER_BATCH, "a short answer");
                }
                anyhow::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let seconds = started.elapsed().as_secs_f64();
    let stats = service.store.stats().await?;
    ensure!(stats.ops as usize == LEARNERS * BATCHES_PER_LEARNER * OPS_PER_BATCH, "ops lost: {stats:?}");
    Ok(seconds)
}

/// The reference sync server in this process, over a fresh SQLite file in `dir`, with no rate
/// limit (the benches measure work, not the limiter).
pub(super) struct BenchServer {
    pub service: Arc<SyncService>,
    pub key: TokenKey,
    pub http: serve::Background,
}

impl BenchServer {
    pub async fn start(dir: &std::path::Path) -> Result<BenchServer> {
        let store = SqliteStore::open(&dir.join("sync.db")).await?;
        let key = TokenKey::from_bytes(&[3u8; 32])?;
        let unlimited = RateLimit { burst: 1e9, per_second: 1e9 };
        let service =
            Arc::new(SyncService::new(Arc::new(store), key.clone(), AnswerKeys::default(), unlimited));
        std::fs::create_dir_all(dir.join("www"))?;
        let app = serve::router_with_sync(dir.join("www"), service.clone());
        let http = serve::spawn_router(app, "127.0.0.1:0".parse()?).await?;
        Ok(BenchServer { service, key, http })
    }

    /// A token for `learner`, valid for an hour.
    pub fn token(&self, learner: &str) -> Result<String> {
        self.key.mint(learner, auth::now_s() + 3600)
    }
}

pub(super) async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: Vec<u8>,
    zstd: bool,
) -> Result<Vec<u8>> {
    let mut request = http.post(url).header("Satchel-Protocol", "1").bearer_auth(token).body(body);
    if zstd {
        request = request.header("Content-Encoding", "zstd");
    }
    let response = request.send().await?;
    let status = response.status();
    let bytes = response.bytes().await?.to_vec();
    ensure!(status.is_success(), "{url}: {status} {}", String::from_utf8_lossy(&bytes));
    Ok(bytes)
}

/// Seconds to insert the same records with raw rusqlite, one transaction per batch.
fn raw_inserts(batches: &[Vec<Vec<Op>>]) -> Result<f64> {
    let dir = tempfile::tempdir()?;
    let mut conn = Connection::open(dir.path().join("raw.db"))?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE record (learner_id TEXT, kind TEXT, entity_id TEXT, cursor INTEGER, body TEXT,
         PRIMARY KEY (learner_id, kind, entity_id)) WITHOUT ROWID",
    )?;
    let started = Instant::now();
    let mut cursor = 0u64;
    for (l, learner_batches) in batches.iter().enumerate() {
        for ops in learner_batches {
            let tx = conn.transaction()?;
            {
                let mut insert =
                    tx.prepare_cached("INSERT OR REPLACE INTO record VALUES (?1, ?2, ?3, ?4, ?5)")?;
                for op in ops {
                    cursor += 1;
                    let (kind, id) = op.record.key();
                    let body = serde_json::to_string(&op.record)?;
                    insert.execute(params![l as i64, kind.as_str(), id, cursor, body])?;
                }
            }
            tx.commit()?;
        }
    }
    Ok(started.elapsed().as_secs_f64())
}

/// A learner's week as batches: mostly progress ticks over a few lessons, some notes, a few
/// quiz attempts and settings.
fn learner_batches(device: &str) -> Result<Vec<Vec<Op>>> {
    let base_ms = 1_800_000_000_000i64;
    let mut batches = Vec::new();
    let mut seq = 0u64;
    for _ in 0..BATCHES_PER_LEARNER {
        let mut ops = Vec::with_capacity(OPS_PER_BATCH);
        for _ in 0..OPS_PER_BATCH {
            seq += 1;
            let record =
                record(device, seq as usize, base_ms + seq as i64 * 5_000).context("a bench record")?;
            ops.push(Op { op_id: uuid(device, seq), seq, record });
        }
        batches.push(ops);
    }
    Ok(batches)
}

pub(super) fn record(device: &str, n: usize, at: i64) -> Result<Record> {
    let hlc = Hlc { wall_ms: at, counter: 0, device: device.to_owned() };
    Ok(match n % 20 {
        0..=13 => {
            let watched = [(0, (n as i64 % 600) * 1000)];
            let local = LocalProgress {
                position_ms: (n as i64 % 600) * 1000,
                furthest_ms: (n as i64 % 600) * 1000,
                watched: &watched,
                scroll_fraction: 0.0,
                completed_at_ms: None,
                device_time_ms: n as i64 * 5_000,
            };
            ProgressRecord::from_local(&format!("lesson-{}", n % 12), "course", hlc, &local)?.into()
        }
        14..=17 => NoteRecord::create(
            NoteDraft {
                note_id: format!("{device}-note-{n}"),
                lesson_id: format!("lesson-{}", n % 12),
                course_id: "course".into(),
                kind: NoteKind::Note,
                anchor: serde_json::json!({ "type": "time", "start_ms": 1000, "end_ms": 2000 }),
                color: None,
                tags: vec!["review".into()],
                text: format!("A note about what the lecture said at this point, number {n}."),
            },
            hlc,
            at,
        )?
        .into(),
        18 => Record::QuizAttempt(AttemptRecord {
            attempt_id: format!("{device}-attempt-{n}"),
            lesson_id: "quiz".into(),
            course_id: "course".into(),
            mode: QuizMode::Practice,
            state: AttemptState::Graded,
            answers: (0..5)
                .map(|q| (format!("q{q}"), AnswerRecord { answered_at_ms: at, choice_ids: vec!["a".into()] }))
                .collect::<BTreeMap<_, _>>(),
            started_at_ms: at - 60_000,
            submitted_at_ms: Some(at),
            score_percent: Some(80),
            passed: Some(true),
            graded_by_server: false,
        }),
        _ => SettingRecord::new("weekly_goal_minutes", serde_json::json!(n % 300), hlc)?.into(),
    })
}

/// A deterministic UUID-shaped op id.
pub(super) fn uuid(device: &str, seq: u64) -> String {
    let tag = device.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
    format!("{tag:08x}-0000-4000-8000-{seq:012x}")
}
