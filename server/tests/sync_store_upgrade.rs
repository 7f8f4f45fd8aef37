//! Every frozen old sync database upgrades to exactly what a fresh one looks like, keeping its
//! learners, devices, records and op history.
//!
//! When a migration is added, freeze the previous version: dump a database of the last release
//! (schema and a few rows) to `fixtures/sync_schema_vN.sql` and add it to `FIXTURES`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use rusqlite::Connection;
use satchel_protocol::messages::{Op, OpResult, Outcome, PROTOCOL_VERSION, PushRequest, RejectCode};
use satchel_server::sync::store::{SqliteStore, SyncStore};

/// (version, frozen SQL of a database at that version with sample rows).
const FIXTURES: &[(u32, &str)] = &[(1, include_str!("fixtures/sync_schema_v1.sql"))];

const GOAL: &str = r#"{"kind":"setting","key":"weekly_goal_days","value":{"value":4,"hlc":"000001800000000000-000000-phone-1"}}"#;

fn schema(path: &std::path::Path) -> Vec<(String, String, Option<String>)> {
    let conn = Connection::open(path).unwrap();
    let mut statement = conn
        .prepare(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .unwrap();
    let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap();
    rows.collect::<Result<_, _>>().unwrap()
}

#[tokio::test]
async fn every_frozen_version_upgrades_to_the_fresh_schema_and_keeps_answering_its_ops() {
    let dir = tempfile::tempdir().unwrap();
    let fresh = dir.path().join("fresh.db");
    drop(SqliteStore::open(&fresh).await.unwrap());
    for (version, sql) in FIXTURES {
        let path = dir.path().join(format!("v{version}.db"));
        Connection::open(&path).unwrap().execute_batch(sql).unwrap();
        let store = SqliteStore::open(&path).await.unwrap();
        assert_eq!(schema(&path), schema(&fresh), "schema after upgrading from v{version}");
        let stats = store.stats().await.unwrap();
        assert_eq!(stats.ops, 2, "v{version}: op history kept");

        // Ops taken before the upgrade, sent again: the applied one is a duplicate (no clamp was
        // recorded then), the rejected one is refused again with its reason.
        let record = serde_json::from_str(GOAL).unwrap();
        let resend = PushRequest {
            protocol: PROTOCOL_VERSION,
            device_id: "phone-1".into(),
            epoch: Some(store.epoch().await.unwrap()),
            ops: vec![
                Op { op_id: "0190f2c4-7b1e-7c3a-9d2e-1f2a3b4c5d70".into(), seq: 1, record },
                Op {
                    op_id: "0190f2c4-7b1e-7c3a-9d2e-1f2a3b4c5d71".into(),
                    seq: 2,
                    record: serde_json::from_str(GOAL).unwrap(),
                },
            ],
        };
        let response = store.push("amina", &resend, 1_800_000_100_000).await.unwrap();
        assert_eq!(response.applied_through, 2);
        assert_eq!(response.results[0], OpResult { seq: 1, outcome: Outcome::Duplicate, clamped_to: None });
        assert_eq!(
            response.results[1].outcome,
            Outcome::Rejected {
                code: RejectCode::Other,
                reason: "scroll fraction 7.5 is not between 0 and 1".into()
            },
            "a rejection recorded before reject codes were kept comes back as `other`"
        );
    }
}
