//! The storage conformance suite against the PostgreSQL backend, each test in a fresh schema of
//! the cluster named by `SATCHEL_TEST_POSTGRES_URL` (`cargo xtask test` starts one). Without
//! it, every test here fails: a backend is never reported tested when it did not run.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

satchel_server::sync_store_conformance!(satchel_server::sync::store::conformance::postgres().await);

use satchel_server::sync::store::conformance::fresh_postgres_schema;
use satchel_server::sync::store::postgres::LATEST_VERSION;
use satchel_server::sync::store::{PostgresStore, StoreError, SyncStore};

/// A plain connection to the schema of `url`, for arranging what a test needs.
async fn raw(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(connection);
    client
}

#[tokio::test]
async fn servers_starting_together_migrate_once_and_share_one_epoch_that_can_be_renewed() {
    let url = fresh_postgres_schema().await;
    let (a, b, c) = tokio::join!(
        PostgresStore::connect(&url),
        PostgresStore::connect(&url),
        PostgresStore::connect(&url)
    );
    let (a, b, c) = (a.unwrap(), b.unwrap(), c.unwrap());
    let epoch = a.epoch().await.unwrap();
    assert_eq!(epoch.len(), 32);
    assert_eq!((b.epoch().await.unwrap(), c.epoch().await.unwrap()), (epoch.clone(), epoch.clone()));
    let renewed = b.new_epoch().await.unwrap();
    assert_ne!(renewed, epoch);
    assert_eq!(a.epoch().await.unwrap(), renewed, "every server sees the new epoch at once");
    let version: i32 =
        raw(&url).await.query_one("SELECT version FROM satchel_sync_schema", &[]).await.unwrap().get(0);
    assert_eq!(version, LATEST_VERSION);
}

#[tokio::test]
async fn foreign_and_newer_schemas_are_refused_untouched() {
    let foreign = fresh_postgres_schema().await;
    raw(&foreign).await.batch_execute("CREATE TABLE learner (x INTEGER)").await.unwrap();
    let refused = PostgresStore::connect(&foreign).await;
    assert!(matches!(refused, Err(StoreError::Open(_))), "{refused:?}");
    let tables: i64 = raw(&foreign)
        .await
        .query_one("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "nothing was created beside the foreign table");

    let newer = fresh_postgres_schema().await;
    drop(PostgresStore::connect(&newer).await.unwrap());
    raw(&newer)
        .await
        .execute("UPDATE satchel_sync_schema SET version = $1", &[&(LATEST_VERSION + 1)])
        .await
        .unwrap();
    let error = PostgresStore::connect(&newer).await.expect_err("newer refused");
    assert!(error.to_string().contains("schema version"), "{error}");

    let unreachable = PostgresStore::connect("postgres://nobody@127.0.0.1:1/none").await;
    assert!(matches!(unreachable, Err(StoreError::Open(_))), "{unreachable:?}");
    assert!(matches!(PostgresStore::connect("postgres://bad url:x").await, Err(StoreError::Open(_))));
    let tls = PostgresStore::connect("postgres://nobody@127.0.0.1:1/none?sslmode=require").await;
    assert!(matches!(&tls, Err(StoreError::Open(m)) if m.contains("without TLS")), "{tls:?}");
}
