//! Connecting to the PostgreSQL sync database: a connection pool, and the numbered migrations
//! applied in one transaction under an advisory lock, so several servers starting at once
//! against one database migrate it exactly once. A database whose schema is newer than this
//! build, or that holds tables of the same names that are not ours, is refused untouched.

use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::NoTls;

use crate::sync::store::StoreError;
use crate::sync::store::common::new_epoch_id;

/// Every migration, oldest first. Migration `N` takes the schema version from `N - 1` to `N`.
/// Released migrations are frozen: append a file, and ship an upgrade test from the previous
/// version.
pub const MIGRATIONS: &[&str] = &[include_str!("migrations/0001_sync.sql")];

/// The schema version this build writes.
pub const LATEST_VERSION: i32 = MIGRATIONS.len() as i32;

/// The table that marks a schema as a Satchel sync database and holds its version (the role
/// SQLite's `application_id` and `user_version` play).
const VERSION_TABLE: &str = "satchel_sync_schema";

/// The tables the migrations create: finding any of them without [`VERSION_TABLE`] means the
/// schema belongs to another application.
const OUR_TABLES: &[&str] = &["server_meta", "learner", "device", "record", "op"];

/// Connections a server keeps open by default. Every request holds one for one transaction
/// (a few milliseconds), so a handful serve thousands of devices; PostgreSQL's own default
/// limit is 100 connections, shared by every server process.
pub const DEFAULT_POOL_SIZE: usize = 16;

/// How long a request waits for a free connection, and a new connection may take, before the
/// request fails (answered `internal`; the device retries with backoff).
const POOL_TIMEOUT: Duration = Duration::from_secs(10);

/// A pool over `url` (`postgres://user:password@host:port/database?…`, as libpq reads it).
/// Connecting is lazy; [`migrate`] makes the first connection.
pub fn pool(url: &str, size: usize) -> Result<Pool, StoreError> {
    let config: tokio_postgres::Config =
        url.parse().map_err(|e| StoreError::Open(format!("not a PostgreSQL URL: {e}")))?;
    // Said at start, not as a failed connection per request.
    if config.get_ssl_mode() == tokio_postgres::config::SslMode::Require {
        return Err(StoreError::Open(
            "sslmode=require: this build connects to PostgreSQL without TLS; reach the database over \
             a private network, a Unix socket or a tunnel (docs/operations.md)"
                .into(),
        ));
    }
    let manager =
        Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
    Pool::builder(manager)
        .max_size(size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(POOL_TIMEOUT))
        .create_timeout(Some(POOL_TIMEOUT))
        .build()
        .map_err(|e| StoreError::Open(format!("cannot make the connection pool: {e}")))
}

/// Brings the schema on the connection's `search_path` to [`LATEST_VERSION`]; a new one gets a
/// fresh random epoch.
pub async fn migrate(pool: &Pool) -> Result<(), StoreError> {
    let mut client =
        pool.get().await.map_err(|e| StoreError::Open(format!("cannot connect to PostgreSQL: {e}")))?;
    let tx = client.transaction().await?;
    // One migrator per schema at a time; the others wait here, then find it done.
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('satchel-sync:' || current_schema()))", &[]).await?;
    let version = schema_version(&tx).await?;
    if version > LATEST_VERSION {
        return Err(StoreError::Open(format!(
            "the database has schema version {version}; this build knows up to {LATEST_VERSION}"
        )));
    }
    if version == LATEST_VERSION {
        return Ok(());
    }
    if version == 0 {
        tx.batch_execute(&format!("CREATE TABLE {VERSION_TABLE} (id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL); INSERT INTO {VERSION_TABLE} VALUES (1, 0)"))
            .await?;
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let to = index as i32 + 1;
        tracing::info!(from = to - 1, to, "migrating the PostgreSQL sync database");
        tx.batch_execute(sql).await?;
        tx.execute(&format!("UPDATE {VERSION_TABLE} SET version = $1 WHERE id = 1"), &[&to]).await?;
    }
    if version == 0 {
        tx.execute("INSERT INTO server_meta (id, epoch) VALUES (1, $1)", &[&new_epoch_id()?]).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The schema version (0: an empty schema), refusing a schema that holds tables of our names
/// without our version table.
async fn schema_version(tx: &deadpool_postgres::Transaction<'_>) -> Result<i32, StoreError> {
    let exists = |name: &str| format!("to_regclass('{name}') IS NOT NULL");
    let ours: bool = tx.query_one(&format!("SELECT {}", exists(VERSION_TABLE)), &[]).await?.try_get(0)?;
    if ours {
        let row = tx.query_one(&format!("SELECT version FROM {VERSION_TABLE} WHERE id = 1"), &[]).await?;
        return Ok(row.try_get(0)?);
    }
    let any_of_ours = OUR_TABLES.iter().map(|t| exists(t)).collect::<Vec<_>>().join(" OR ");
    let foreign: bool = tx.query_one(&format!("SELECT {any_of_ours}"), &[]).await?.try_get(0)?;
    if foreign {
        return Err(StoreError::Open("the database schema holds another application's tables".into()));
    }
    Ok(0)
}
