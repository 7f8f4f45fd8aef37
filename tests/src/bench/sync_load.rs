//! `sync_load_devices`: 1,000 simulated devices of 500 learners (two each) pushing and pulling a
//! day's work at once against real `satchel-server` processes on loopback: on SQLite (one
//! process, its default), on PostgreSQL with one process, and on PostgreSQL with two processes
//! sharing the database (devices spread over them as a load balancer would). Reported: ops
//! applied per second, p50/p99 request latency, the servers' peak RSS, and errors (any non-2xx
//! answer or failed request), with the machine's load average.
//!
//! Each device registers, then runs [`SYNCS`] syncs: one push of [`OPS_PER_PUSH`] ops (progress
//! ticks, notes, quiz attempts, settings, zstd-encoded as the core sends them), then pulls
//! every page from its cursor (its sibling's changes). The generator is a closed loop with at
//! most [`IN_FLIGHT`] requests outstanding (devices queue for a slot, as behind a load
//! balancer's connection limit), so latency is the server's, not the generator's queue. Bounded:
//! [`RUN_LIMIT`] per configuration. The generator shares the machine's two cores with the
//! servers and PostgreSQL.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use satchel_protocol::codec;
use satchel_protocol::messages::{
    Op, PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse, RegisterRequest,
};
use satchel_server::sync::store::conformance::fresh_postgres_schema;
use tokio::sync::Semaphore;

use super::report::{Goal, Row};
use super::sync::{post, record, uuid};
use crate::sync_server::SyncServer;

const LEARNERS: usize = 500;
const DEVICES_PER_LEARNER: usize = 2;
/// Syncs in a device's day (morning, lunch, evening).
const SYNCS: usize = 3;
const OPS_PER_PUSH: usize = 40;
const IN_FLIGHT: usize = 64;
const RUN_LIMIT: Duration = Duration::from_secs(120);
/// The goal for PostgreSQL with one server on two cores.
const GOAL_OPS_PER_S: f64 = 5_000.0;
const GOAL_P99_MS: f64 = 250.0;
/// Our own bound: a server holding 1,000 devices' connections fits a small VM.
const GOAL_RSS_MB: f64 = 256.0;

/// What one configuration measured.
#[derive(Debug, Clone)]
struct Run {
    label: &'static str,
    ops_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The largest peak RSS among its server processes.
    rss_mb: f64,
    errors: usize,
    load: String,
}

pub fn devices() -> Result<Vec<Row>> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let work = tempfile::tempdir()?;
    let day = day_of_work()?;
    let sqlite = run(&runtime, "SQLite, 1 server", work.path(), None, 1, &day)?;
    let pg_one = run(&runtime, "PostgreSQL, 1 server", work.path(), Some(&runtime), 1, &day)?;
    let pg_two = run(&runtime, "PostgreSQL, 2 servers", work.path(), Some(&runtime), 2, &day)?;
    eprintln!(
        "bench: sync_load_devices: {} devices of {LEARNERS} learners, {} ops each, {IN_FLIGHT} requests in flight",
        LEARNERS * DEVICES_PER_LEARNER,
        SYNCS * OPS_PER_PUSH
    );
    for r in [&sqlite, &pg_one, &pg_two] {
        eprintln!(
            "bench:   {:<24} {:>8.0} ops/s  p50 {:>6.1} ms  p99 {:>6.1} ms  RSS {:>6.1} MB  errors {}  load {}",
            r.label, r.ops_per_s, r.p50_ms, r.p99_ms, r.rss_mb, r.errors, r.load
        );
    }
    let errors = (sqlite.errors + pg_one.errors + pg_two.errors) as f64;
    Ok(vec![
        Row::new(
            "sync_load_devices_pg_ops_per_s",
            pg_one.ops_per_s,
            "ops/s",
            "the issue's goal, 5,000 ops/s",
            GOAL_OPS_PER_S,
            Goal::RatioAtLeast(1.0),
        ),
        // PostgreSQL buys several servers, not speed on one machine: it may cost half of SQLite's.
        Row::new(
            "sync_load_devices_pg_vs_sqlite",
            pg_one.ops_per_s,
            "ops/s",
            "SQLite, 1 server, same load",
            sqlite.ops_per_s,
            Goal::RatioAtLeast(0.5),
        ),
        // On two cores a second process cannot add cores; it must not cost throughput either.
        Row::new(
            "sync_load_devices_pg_2_servers",
            pg_two.ops_per_s,
            "ops/s",
            "PostgreSQL, 1 server, same load",
            pg_one.ops_per_s,
            Goal::RatioAtLeast(0.8),
        ),
        Row::new(
            "sync_load_devices_pg_p50_ms",
            pg_one.p50_ms,
            "ms",
            "SQLite, 1 server: p50",
            sqlite.p50_ms,
            Goal::ValueAtMost(GOAL_P99_MS),
        ),
        Row::new(
            "sync_load_devices_pg_p99_ms",
            pg_one.p99_ms,
            "ms",
            "SQLite, 1 server: p99",
            sqlite.p99_ms,
            Goal::ValueAtMost(GOAL_P99_MS),
        ),
        Row::new(
            "sync_load_devices_pg_2_servers_p99_ms",
            pg_two.p99_ms,
            "ms",
            "PostgreSQL, 1 server: p99",
            pg_one.p99_ms,
            Goal::ValueAtMost(GOAL_P99_MS),
        ),
        Row::new(
            "sync_load_devices_pg_server_rss_mb",
            pg_one.rss_mb,
            "MB",
            "SQLite, 1 server: peak RSS",
            sqlite.rss_mb,
            Goal::ValueAtMost(GOAL_RSS_MB),
        ),
        Row::new(
            "sync_load_devices_errors",
            errors,
            "count",
            "requests made, all runs",
            (3 * requests_per_run()) as f64,
            Goal::ValueAtMost(0.0),
        ),
    ])
}

/// Requests one run makes at least (register, pushes, one pull page per sync).
fn requests_per_run() -> usize {
    LEARNERS * DEVICES_PER_LEARNER * (1 + 2 * SYNCS)
}

/// Every device's pushes, made up front so the clock runs over the servers' work only: per
/// device (learner index, device id), its zstd-encoded push bodies.
struct Day {
    devices: Vec<(usize, String, Vec<Vec<u8>>)>,
}

fn day_of_work() -> Result<Day> {
    let base_ms = 1_800_000_000_000i64;
    let mut devices = Vec::with_capacity(LEARNERS * DEVICES_PER_LEARNER);
    for learner in 0..LEARNERS {
        for d in 0..DEVICES_PER_LEARNER {
            let device = format!("l{learner}-d{d}");
            let mut bodies = Vec::with_capacity(SYNCS);
            for sync in 0..SYNCS {
                let ops = (0..OPS_PER_PUSH)
                    .map(|i| {
                        let seq = (sync * OPS_PER_PUSH + i + 1) as u64;
                        let record = record(&device, seq as usize, base_ms + seq as i64 * 5_000)
                            .context("a bench record")?;
                        Ok(Op { op_id: uuid(&device, seq), seq, record })
                    })
                    .collect::<Result<Vec<Op>>>()?;
                let request =
                    PushRequest { protocol: PROTOCOL_VERSION, device_id: device.clone(), epoch: None, ops };
                bodies.push(codec::encode(&request)?.bytes);
            }
            devices.push((learner, device, bodies));
        }
    }
    Ok(Day { devices })
}

/// One configuration: `servers` processes on a fresh database (PostgreSQL when `postgres` is
/// given: the runtime to make its schema on; else SQLite), the whole day pushed and pulled.
fn run(
    runtime: &tokio::runtime::Runtime,
    label: &'static str,
    work: &std::path::Path,
    postgres: Option<&tokio::runtime::Runtime>,
    servers: usize,
    day: &Day,
) -> Result<Run> {
    let state = work.join(label.replace([' ', ','], "-"));
    SyncServer::prepare(&state)?;
    let database = match postgres {
        Some(runtime) => runtime.block_on(fresh_postgres_schema()),
        None => state.join("sync.db").to_string_lossy().into_owned(),
    };
    let processes: Vec<SyncServer> =
        (0..servers).map(|_| SyncServer::serve_database(&state, &database)).collect::<Result<_>>()?;
    let bases: Vec<String> = processes.iter().map(|s| format!("{}sync/v1", s.base_url())).collect();
    let tokens: Vec<String> =
        (0..LEARNERS).map(|l| processes[0].token(&format!("learner-{l}"), 3600)).collect::<Result<_>>()?;

    let outcome = runtime.block_on(async {
        let http = reqwest::Client::builder().pool_max_idle_per_host(IN_FLIGHT).build()?;
        let slots = Arc::new(Semaphore::new(IN_FLIGHT));
        let latencies = Arc::new(Mutex::new(Vec::with_capacity(requests_per_run() * 2)));
        let errors = Arc::new(Mutex::new(Vec::<String>::new()));
        let started = Instant::now();
        let tasks: Vec<_> = day
            .devices
            .iter()
            .enumerate()
            .map(|(i, (learner, device, bodies))| {
                let base = bases[i % bases.len()].clone();
                let token = tokens[*learner].clone();
                let client = Client {
                    http: http.clone(),
                    slots: slots.clone(),
                    latencies: latencies.clone(),
                    errors: errors.clone(),
                    token,
                };
                let (device, bodies) = (device.clone(), bodies.clone());
                tokio::spawn(async move { client.day(&base, &device, bodies).await })
            })
            .collect();
        let all = async {
            for task in tasks {
                task.await?;
            }
            anyhow::Ok(())
        };
        tokio::time::timeout(RUN_LIMIT, all)
            .await
            .with_context(|| format!("{label}: over {RUN_LIMIT:?}"))??;
        let seconds = started.elapsed().as_secs_f64();
        let latencies = std::mem::take(&mut *latencies.lock().unwrap_or_else(|p| p.into_inner()));
        let errors = std::mem::take(&mut *errors.lock().unwrap_or_else(|p| p.into_inner()));
        anyhow::Ok((seconds, latencies, errors))
    })?;
    let (seconds, mut latencies, errors) = outcome;
    let load =
        std::fs::read_to_string("/proc/loadavg")?.split_whitespace().take(3).collect::<Vec<_>>().join(" ");
    if let Some(first) = errors.first() {
        eprintln!("bench: {label}: {} errors, the first: {first}", errors.len());
    }
    let rss_mb = processes.iter().map(|p| p.peak_rss_kb()).collect::<Result<Vec<u64>>>()?.into_iter().max();
    latencies.sort_by(f64::total_cmp);
    let at = |q: f64| {
        latencies.get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
    };
    ensure!(!latencies.is_empty(), "{label}: no request answered");
    let ops = (day.devices.len() * SYNCS * OPS_PER_PUSH) as f64;
    Ok(Run {
        label,
        ops_per_s: ops / seconds,
        p50_ms: at(0.50).copied().unwrap_or(f64::NAN),
        p99_ms: at(0.99).copied().unwrap_or(f64::NAN),
        rss_mb: rss_mb.unwrap_or(0) as f64 / 1024.0,
        errors: errors.len(),
        load,
    })
}

/// One simulated device's connection to the servers.
struct Client {
    http: reqwest::Client,
    slots: Arc<Semaphore>,
    latencies: Arc<Mutex<Vec<f64>>>,
    errors: Arc<Mutex<Vec<String>>>,
    token: String,
}

impl Client {
    /// Register, then each sync: push, pull to the end. A failed request is counted and ends
    /// the device's day (what follows would only fail after it).
    async fn day(&self, base: &str, device: &str, pushes: Vec<Vec<u8>>) {
        if let Err(error) = self.sync_day(base, device, pushes).await {
            self.errors.lock().unwrap_or_else(|p| p.into_inner()).push(format!("{device}: {error:#}"));
        }
    }

    async fn sync_day(&self, base: &str, device: &str, pushes: Vec<Vec<u8>>) -> Result<()> {
        let register = serde_json::to_vec(&RegisterRequest::new(device, "load phone"))?;
        self.request(&format!("{base}/devices"), register, false).await?;
        let mut cursor = 0;
        for body in pushes {
            let answer: PushResponse =
                serde_json::from_slice(&self.request(&format!("{base}/push"), body, true).await?)?;
            ensure!(answer.results.len() == OPS_PER_PUSH, "a push answered {} ops", answer.results.len());
            loop {
                let pull = PullRequest {
                    protocol: PROTOCOL_VERSION,
                    device_id: device.to_owned(),
                    epoch: None,
                    cursor,
                    max_bytes: 0,
                };
                let page: PullResponse = serde_json::from_slice(
                    &self.request(&format!("{base}/pull"), serde_json::to_vec(&pull)?, false).await?,
                )?;
                cursor = page.next_cursor;
                if !page.more {
                    break;
                }
            }
        }
        Ok(())
    }

    /// One request, timed once it has a slot.
    async fn request(&self, url: &str, body: Vec<u8>, zstd: bool) -> Result<Vec<u8>> {
        let _slot = self.slots.acquire().await?;
        let started = Instant::now();
        let answer = post(&self.http, url, &self.token, body, zstd).await?;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        self.latencies.lock().unwrap_or_else(|p| p.into_inner()).push(ms);
        Ok(answer)
    }
}
