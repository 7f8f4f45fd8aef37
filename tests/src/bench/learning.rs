//! Learning benchmarks: a durable progress tick, note search over 10k notes, and storage growth
//! of an hour of playback.

use std::time::{Duration, Instant};

use anyhow::Result;
use rusqlite::{Connection, params};
use satchel_core::catalog;
use satchel_core::learning::{StudyClock, progress};
use satchel_core::notes::{self, NewNote, NoteAnchor, NoteKind};
use satchel_core::store::Store;
use serde_json::json;

use super::report::{Goal, Row};
use super::{median_time, ms};

const DEVICE: &str = "bench-device";
const HOUR_MS: i64 = 3_600_000;
const TICK_MS: i64 = 5_000;

/// A course with one hour-long lecture.
fn store_with_lecture(dir: &std::path::Path) -> Result<Store> {
    let store = Store::open(dir.join("bench.db"))?;
    let manifest = json!({
        "format": 1, "id": "bench", "version": 1, "title": "Bench",
        "modules": [{ "id": "bench.m", "title": "M", "lessons": [
            { "id": "bench.hour", "title": "An hour", "kind": "video", "duration_ms": HOUR_MS }
        ]}]
    });
    catalog::import_manifest(&store, &manifest.to_string())?;
    Ok(store)
}

/// Opens a raw connection with the store's durability settings, for a fair peer.
fn raw_connection(path: &std::path::Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

fn percentile(mut samples: Vec<Duration>, p: f64) -> Duration {
    samples.sort();
    let index = ((samples.len() as f64 - 1.0) * p).round() as usize;
    samples[index]
}

/// `progress_tick_p99_ms`: 10,000 playback reports (progress row + coalesced outbox entry + study
/// time, one transaction each) beside 10,000 raw single-row autocommit inserts.
pub fn progress_tick() -> Result<Row> {
    const TICKS: i64 = 10_000;
    let dir = tempfile::tempdir()?;
    let store = store_with_lecture(dir.path())?;
    let clock = StudyClock::default();
    let start = Instant::now();
    let mut ours = Vec::with_capacity(TICKS as usize);
    for i in 0..TICKS {
        let position = (i * TICK_MS) % HOUR_MS;
        let at = start + Duration::from_millis((i * TICK_MS) as u64);
        let t = Instant::now();
        progress::record_playback_at(&store, &clock, DEVICE, "bench.hour", position, at)?;
        ours.push(t.elapsed());
    }

    let raw = raw_connection(&dir.path().join("raw.db"))?;
    raw.execute_batch(
        "CREATE TABLE tick (lesson_id TEXT NOT NULL, position_ms INTEGER NOT NULL, at_ms INTEGER NOT NULL)",
    )?;
    let mut stmt = raw.prepare("INSERT INTO tick (lesson_id, position_ms, at_ms) VALUES (?1, ?2, ?3)")?;
    let mut peer = Vec::with_capacity(TICKS as usize);
    for i in 0..TICKS {
        let t = Instant::now();
        stmt.execute(params!["bench.hour", (i * TICK_MS) % HOUR_MS, i])?;
        peer.push(t.elapsed());
    }
    Ok(Row::new(
        "progress_tick_p99_ms",
        ms(percentile(ours, 0.99)),
        "ms",
        "raw SQLite single-row insert (WAL, NORMAL)",
        ms(percentile(peer, 0.99)),
        Goal::ValueAtMost(1.0),
    ))
}

/// Course terms the synthetic notes mention now and then, in several scripts.
const TERMS: &[&str] = &[
    "dns",
    "server",
    "cache",
    "header",
    "status",
    "address",
    "browser",
    "request",
    "reply",
    "timeout",
    "proxy",
    "router",
    "packet",
    "network",
    "password",
    "certificate",
    "https",
    "latency",
    "bandwidth",
    "firewall",
    "ሰላም",
    "ኔትወርክ",
    "域名",
    "服务器",
    "réseau",
    "adresse",
    "página",
    "conexión",
    "ukurasa",
    "mtandao",
];

/// `note_search_10k_median_ms`: searching 10,000 synthetic notes (8–20 words of skewed everyday
/// vocabulary, a third of them mentioning course terms) through the FTS index, beside a naive
/// `LIKE '%word%'` scan of the same notes.
pub fn note_search() -> Result<Row> {
    const NOTES: usize = 10_000;
    let dir = tempfile::tempdir()?;
    let store = store_with_lecture(dir.path())?;
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    // Everyday words: 1,700 pseudo-words with a skewed (Zipf-like) frequency, as in real prose.
    const SYLLABLES: &[&str] = &["ka", "lo", "mi", "ne", "ru", "sa", "te", "vo", "zi", "pa", "do", "fu"];
    let vocabulary: Vec<String> = (0..1_700)
        .map(|i| {
            let mut word = String::new();
            let mut n = i + SYLLABLES.len() * 3;
            while n > 0 {
                word.push_str(SYLLABLES[n % SYLLABLES.len()]);
                n /= SYLLABLES.len();
            }
            word
        })
        .collect();
    store.write(|tx| {
        for i in 0..NOTES {
            let len = 8 + (next() % 13) as usize;
            let mut words: Vec<&str> = (0..len)
                .map(|_| {
                    let u = (next() % 1_000_000) as f64 / 1_000_000.0;
                    vocabulary[(u * u * u * vocabulary.len() as f64) as usize].as_str()
                })
                .collect();
            // About one note in three mentions a course term or two.
            if next() % 3 == 0 {
                for _ in 0..1 + next() % 2 {
                    let at = (next() % words.len() as u64) as usize;
                    words.insert(at, TERMS[(next() % TERMS.len() as u64) as usize]);
                }
            }
            let start_ms = (i as i64 * 300) % (HOUR_MS - 1_000);
            notes::add(
                tx,
                DEVICE,
                NewNote {
                    lesson_id: "bench.hour".into(),
                    kind: NoteKind::Note,
                    body: format!("Note {i}: {}", words.join(" ")),
                    anchor: NoteAnchor::Time { start_ms, end_ms: start_ms + 1_000 },
                    color: None,
                    tags: if i % 10 == 0 { vec![TERMS[i % TERMS.len()].to_owned()] } else { vec![] },
                },
            )?;
        }
        Ok(())
    })?;

    let queries =
        ["certificate firewall", "服务器", "timeout", "ukurasa mtandao", "proxy latency", "adresse"];
    let mut i = 0;
    let ours = median_time(5, 120, || {
        let q = queries[i % queries.len()];
        i += 1;
        let hits = store.read(|c| notes::search(c, q, None, 50))?;
        assert!(!hits.is_empty(), "{q} finds notes");
        Ok(())
    })?;
    let raw = Connection::open(dir.path().join("bench.db"))?;
    let mut j = 0;
    let peer = median_time(5, 120, || {
        let q = queries[j % queries.len()];
        j += 1;
        let words: Vec<String> = q.split_whitespace().map(|w| format!("%{w}%")).collect();
        let sql = format!(
            "SELECT id FROM note WHERE deleted = 0 AND {} ORDER BY updated_at_ms DESC LIMIT 50",
            (1..=words.len()).map(|n| format!("body LIKE ?{n}")).collect::<Vec<_>>().join(" AND ")
        );
        let mut stmt = raw.prepare_cached(&sql)?;
        let hits: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(words.iter()), |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        assert!(!hits.is_empty());
        Ok(())
    })?;
    Ok(Row::new(
        "note_search_10k_median_ms",
        ms(ours),
        "ms",
        "naive LIKE '%word%' scan of the same notes",
        ms(peer),
        Goal::ValueAtMost(5.0),
    ))
}

/// Bytes the database file holds after a checkpoint.
fn db_bytes(conn: &Connection) -> Result<f64> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    Ok((pages * size) as f64)
}

/// `progress_bytes_per_playback_hour`: how much the database grows over an hour of playback
/// reports every 5 s, beside a naive client that appends a progress row and an outbox row per
/// report.
pub fn progress_growth() -> Result<Row> {
    let dir = tempfile::tempdir()?;
    let store = store_with_lecture(dir.path())?;
    let path = dir.path().join("bench.db");
    let probe = Connection::open(&path)?;
    let before = db_bytes(&probe)?;
    let clock = StudyClock::default();
    let start = Instant::now();
    for i in 0..=HOUR_MS / TICK_MS {
        let at = start + Duration::from_millis((i * TICK_MS) as u64);
        progress::record_playback_at(&store, &clock, DEVICE, "bench.hour", (i * TICK_MS).min(HOUR_MS), at)?;
    }
    store.checkpoint()?;
    let ours = db_bytes(&probe)? - before;

    let raw_path = dir.path().join("naive.db");
    let raw = raw_connection(&raw_path)?;
    raw.execute_batch(
        "CREATE TABLE progress_event (id INTEGER PRIMARY KEY, lesson_id TEXT, position_ms INTEGER, at_ms INTEGER);
         CREATE TABLE outbox (id INTEGER PRIMARY KEY, op_id TEXT, body TEXT);",
    )?;
    let naive_before = db_bytes(&raw)?;
    for i in 0..=HOUR_MS / TICK_MS {
        let body = json!({ "lesson_id": "bench.hour", "position_ms": i * TICK_MS, "at_ms": i }).to_string();
        raw.execute(
            "INSERT INTO progress_event (lesson_id, position_ms, at_ms) VALUES ('bench.hour', ?1, ?2)",
            params![i * TICK_MS, i],
        )?;
        raw.execute(
            "INSERT INTO outbox (op_id, body) VALUES (?1, ?2)",
            params![format!("op-{i:020}-{i:016}"), body],
        )?;
    }
    let naive = db_bytes(&raw)? - naive_before;
    Ok(Row::new(
        "progress_bytes_per_playback_hour",
        ours,
        "bytes",
        "naive: a progress row + outbox row per report",
        naive,
        Goal::RatioAtMost(0.1),
    ))
}
