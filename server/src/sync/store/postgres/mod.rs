//! The PostgreSQL backend of [`SyncStore`](super::SyncStore), for operators who outgrow one
//! machine: several stateless `satchel-server` processes share one database.
//!
//! Built on `tokio-postgres` with a `deadpool-postgres` pool (chosen over sqlx: a smaller
//! dependency tree and build, no query macros or offline metadata, and explicit pipelining of
//! the few statements a request needs; prepared statements are cached per connection).
//!
//! Every method is one READ COMMITTED transaction. Commit order of a learner's cursor comes from
//! the learner row: every transaction that gives out cursors first locks it
//! (`SELECT … FOR NO KEY UPDATE`) and raises it before committing, so the transaction that takes
//! cursor `n + 1` cannot start giving out cursors before the one that took `n` has committed. A
//! pull reads the learner's committed cursor `C` first and then only records with cursors up to
//! `C`: all of those have committed, so a pull never skips a change that commits later with a
//! smaller cursor (a plain sequence would allow exactly that). `NO KEY UPDATE` rather than
//! `UPDATE` so registering a device (a foreign-key check on the learner row) never waits on a
//! push.

mod open;
mod pull;
mod push;

use std::collections::HashMap;

use async_trait::async_trait;
use deadpool_postgres::{Pool, Transaction};
use satchel_protocol::Record;
use satchel_protocol::messages::{
    PROTOCOL_VERSION, PullRequest, PullResponse, PushRequest, PushResponse, RegisterRequest, RegisterResponse,
};
use satchel_protocol::records::AttemptRecord;

pub use open::{DEFAULT_POOL_SIZE, LATEST_VERSION, MIGRATIONS};

use super::batch::{Key, key_of};
use super::common::{merged_if_changed, new_epoch_id, record_from_json, record_to_json};
use super::{DEVICE_RETIRE_AFTER_MS, PurgeReport, StoreError, StoreStats, SyncStore};

/// A sync database in PostgreSQL, reached through a pool of connections.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
}

impl std::fmt::Debug for PostgresStore {
    // Never the URL: it may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("pool", &self.pool.status()).finish()
    }
}

impl PostgresStore {
    /// Connects to `url` with [`DEFAULT_POOL_SIZE`] connections and migrates its schema.
    pub async fn connect(url: &str) -> Result<PostgresStore, StoreError> {
        PostgresStore::connect_with(url, DEFAULT_POOL_SIZE).await
    }

    /// Connects with at most `pool_size` connections and migrates the schema on the URL's
    /// `search_path` (`?options=-csearch_path%3Dname` picks one).
    pub async fn connect_with(url: &str, pool_size: usize) -> Result<PostgresStore, StoreError> {
        let pool = open::pool(url, pool_size)?;
        open::migrate(&pool).await?;
        Ok(PostgresStore { pool })
    }

    /// A pooled connection.
    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool.get().await.map_err(|e| StoreError::Backend(Box::new(e)))
    }
}

/// Runs `$body` (a block giving a `Result`) in one transaction on a pooled connection of
/// `$store`, bound to `$tx`, and gives the body's value; an error returns from the enclosing
/// function. Committed when the body gives `Ok`, rolled back otherwise (also
/// when the request's future is dropped, or the server dies: PostgreSQL aborts an open
/// transaction whose connection closes). A macro, not a closure-taking method: the futures of
/// async closures cannot be shown to be `Send`, which the trait's futures must be.
macro_rules! in_transaction {
    ($store:expr, |$tx:ident| $body:block) => {{
        let mut client = $store.client().await?;
        let $tx = client.transaction().await?;
        let value: Result<_, StoreError> = async { $body }.await;
        let value = value?;
        $tx.commit().await?;
        value
    }};
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> StoreError {
        StoreError::Backend(Box::new(e))
    }
}

/// A protocol number (cursor, seq) as PostgreSQL's BIGINT.
fn to_db(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Backend(format!("{value} does not fit a BIGINT").into()))
}

/// A BIGINT read back as a protocol number.
fn from_db(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value)
        .map_err(|_| StoreError::Backend(format!("a negative counter {value} is stored").into()))
}

async fn epoch(tx: &Transaction<'_>) -> Result<String, StoreError> {
    let statement = tx.prepare_cached("SELECT epoch FROM server_meta WHERE id = 1").await?;
    Ok(tx.query_one(&statement, &[]).await?.try_get(0)?)
}

/// Locks the learner row (the cursor's commit order, see the module docs) and returns its
/// cursor; `None` when the learner has never registered.
async fn lock_learner(tx: &Transaction<'_>, learner: &str) -> Result<Option<u64>, StoreError> {
    let statement =
        tx.prepare_cached("SELECT cursor FROM learner WHERE learner_id = $1 FOR NO KEY UPDATE").await?;
    tx.query_opt(&statement, &[&learner]).await?.map(|row| from_db(row.try_get(0)?)).transpose()
}

async fn set_cursor(tx: &Transaction<'_>, learner: &str, cursor: u64) -> Result<(), StoreError> {
    let statement = tx.prepare_cached("UPDATE learner SET cursor = $2 WHERE learner_id = $1").await?;
    tx.execute(&statement, &[&learner, &to_db(cursor)?]).await?;
    Ok(())
}

/// The stored records of `learner` under `keys`, in one query.
async fn stored_records(
    tx: &Transaction<'_>,
    learner: &str,
    keys: &[Key],
) -> Result<HashMap<Key, Record>, StoreError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let (kinds, ids): (Vec<&str>, Vec<&str>) = keys.iter().map(|(k, e)| (k.as_str(), e.as_str())).unzip();
    let statement = tx
        .prepare_cached(
            "SELECT r.kind, r.entity_id, r.body FROM record r
             JOIN unnest($2::text[], $3::text[]) AS k (kind, entity_id)
               ON r.kind = k.kind AND r.entity_id = k.entity_id
             WHERE r.learner_id = $1",
        )
        .await?;
    let mut stored = HashMap::new();
    for row in tx.query(&statement, &[&learner, &kinds, &ids]).await? {
        let body: String = row.try_get(2)?;
        stored.insert((row.try_get(0)?, row.try_get(1)?), record_from_json(&body)?);
    }
    Ok(stored)
}

/// Writes merged records with their new cursors, in one statement.
async fn upsert_records(
    tx: &Transaction<'_>,
    learner: &str,
    changed: &[(Key, &Record, u64)],
) -> Result<(), StoreError> {
    if changed.is_empty() {
        return Ok(());
    }
    let mut kinds = Vec::with_capacity(changed.len());
    let mut ids = Vec::with_capacity(changed.len());
    let mut cursors = Vec::with_capacity(changed.len());
    let mut tombstones = Vec::with_capacity(changed.len());
    let mut bodies = Vec::with_capacity(changed.len());
    for ((kind, entity_id), record, cursor) in changed {
        kinds.push(kind.as_str());
        ids.push(entity_id.as_str());
        cursors.push(to_db(*cursor)?);
        tombstones.push(record.is_tombstone());
        bodies.push(record_to_json(record)?);
    }
    let statement = tx
        .prepare_cached(
            "INSERT INTO record (learner_id, kind, entity_id, cursor, tombstone, body)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int8[], $5::bool[], $6::text[])
             ON CONFLICT (learner_id, kind, entity_id)
             DO UPDATE SET cursor = excluded.cursor, tombstone = excluded.tombstone, body = excluded.body",
        )
        .await?;
    tx.execute(&statement, &[&learner, &kinds, &ids, &cursors, &tombstones, &bodies]).await?;
    Ok(())
}

#[async_trait]
impl SyncStore for PostgresStore {
    async fn register_device(
        &self,
        learner: &str,
        request: &RegisterRequest,
        now_ms: i64,
    ) -> Result<RegisterResponse, StoreError> {
        Ok(in_transaction!(self, |tx| {
            let add_learner = tx
                .prepare_cached("INSERT INTO learner (learner_id) VALUES ($1) ON CONFLICT DO NOTHING")
                .await?;
            tx.execute(&add_learner, &[&learner]).await?;
            let add_device = tx
                .prepare_cached(
                    "INSERT INTO device (learner_id, device_id, name, registered_at_ms, last_seen_ms)
                     VALUES ($1, $2, $3, $4, $4)
                     ON CONFLICT (learner_id, device_id) DO UPDATE SET name = excluded.name, last_seen_ms = $4
                     RETURNING last_seq",
                )
                .await?;
            let row = tx
                .query_one(&add_device, &[&learner, &request.device_id, &request.device_name, &now_ms])
                .await?;
            let last_seq = from_db(row.try_get(0)?)?;
            Ok(RegisterResponse {
                protocol: PROTOCOL_VERSION,
                epoch: epoch(&tx).await?,
                next_seq: last_seq + 1,
                server_time_ms: now_ms,
            })
        }))
    }

    async fn push(
        &self,
        learner: &str,
        request: &PushRequest,
        now_ms: i64,
    ) -> Result<PushResponse, StoreError> {
        Ok(in_transaction!(self, |tx| { push::push(&tx, learner, request, now_ms).await }))
    }

    async fn pull(
        &self,
        learner: &str,
        request: &PullRequest,
        now_ms: i64,
    ) -> Result<PullResponse, StoreError> {
        Ok(in_transaction!(self, |tx| { pull::pull(&tx, learner, request, now_ms).await }))
    }

    async fn purge_tombstones(&self, now_ms: i64) -> Result<PurgeReport, StoreError> {
        let learners: Vec<String> = in_transaction!(self, |tx| {
            let rows = tx.query("SELECT DISTINCT learner_id FROM record WHERE tombstone", &[]).await?;
            rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
        });
        let mut report = PurgeReport::default();
        // One short transaction per learner: a purge never holds a learner's lock for long.
        for learner in learners {
            let purged = in_transaction!(self, |tx| { purge_learner(&tx, &learner, now_ms).await });
            if purged > 0 {
                report.learners += 1;
                report.tombstones += purged;
            }
        }
        Ok(report)
    }

    async fn pending_attempts(&self) -> Result<Vec<(String, AttemptRecord)>, StoreError> {
        Ok(in_transaction!(self, |tx| {
            let rows = tx
                .query(
                    "SELECT learner_id, body FROM record
                     WHERE kind = 'quiz_attempt' AND body::jsonb ->> 'state' = 'submitted_pending'
                     ORDER BY learner_id, cursor",
                    &[],
                )
                .await?;
            let mut attempts = Vec::with_capacity(rows.len());
            for row in rows {
                let body: String = row.try_get(1)?;
                if let Record::QuizAttempt(attempt) = record_from_json(&body)? {
                    attempts.push((row.try_get(0)?, attempt));
                }
            }
            Ok(attempts)
        }))
    }

    async fn merge_server_record(&self, learner: &str, record: Record) -> Result<bool, StoreError> {
        record
            .validate()
            .map_err(|e| StoreError::Backend(format!("a server-made record is invalid: {e}").into()))?;
        Ok(in_transaction!(self, |tx| {
            let cursor = lock_learner(&tx, learner)
                .await?
                .ok_or_else(|| StoreError::Backend("a server-made record for an unknown learner".into()))?;
            let key = key_of(&record);
            let stored = stored_records(&tx, learner, std::slice::from_ref(&key)).await?;
            let Some(merged) = merged_if_changed(stored.get(&key), record)? else { return Ok(false) };
            upsert_records(&tx, learner, &[(key, &merged, cursor + 1)]).await?;
            set_cursor(&tx, learner, cursor + 1).await?;
            Ok(true)
        }))
    }

    async fn epoch(&self) -> Result<String, StoreError> {
        Ok(in_transaction!(self, |tx| { epoch(&tx).await }))
    }

    async fn new_epoch(&self) -> Result<String, StoreError> {
        Ok(in_transaction!(self, |tx| {
            let epoch = new_epoch_id()?;
            tx.execute("UPDATE server_meta SET epoch = $1 WHERE id = 1", &[&epoch]).await?;
            Ok(epoch)
        }))
    }

    async fn stats(&self) -> Result<StoreStats, StoreError> {
        Ok(in_transaction!(self, |tx| {
            let row = tx
                .query_one(
                    "SELECT (SELECT count(*) FROM learner), (SELECT count(*) FROM device),
                            (SELECT count(*) FROM record), (SELECT count(*) FROM record WHERE tombstone),
                            (SELECT count(*) FROM op)",
                    &[],
                )
                .await?;
            let count = |i: usize| -> Result<u64, StoreError> { from_db(row.try_get(i)?) };
            Ok(StoreStats {
                learners: count(0)?,
                devices: count(1)?,
                records: count(2)?,
                tombstones: count(3)?,
                ops: count(4)?,
            })
        }))
    }
}

/// Purges the tombstones of one learner that every active device has pulled past.
async fn purge_learner(tx: &Transaction<'_>, learner: &str, now_ms: i64) -> Result<u64, StoreError> {
    let Some(cursor) = lock_learner(tx, learner).await? else { return Ok(0) };
    let active_since = now_ms.saturating_sub(DEVICE_RETIRE_AFTER_MS);
    let slowest: Option<i64> = tx
        .query_one(
            "SELECT min(pulled_through) FROM device WHERE learner_id = $1 AND last_seen_ms >= $2",
            &[&learner, &active_since],
        )
        .await?
        .try_get(0)?;
    // No active device: nobody is left to miss a deletion.
    let through = slowest.unwrap_or(to_db(cursor)?);
    let purged = tx
        .query_one(
            "WITH gone AS (
                 DELETE FROM record WHERE learner_id = $1 AND tombstone AND cursor <= $2 RETURNING cursor
             )
             SELECT count(*), max(cursor) FROM gone",
            &[&learner, &through],
        )
        .await?;
    let (count, highest): (i64, Option<i64>) = (purged.try_get(0)?, purged.try_get(1)?);
    let Some(highest) = highest else { return Ok(0) };
    tx.execute(
        "UPDATE learner SET horizon = GREATEST(horizon, $2) WHERE learner_id = $1",
        &[&learner, &highest],
    )
    .await?;
    from_db(count)
}
