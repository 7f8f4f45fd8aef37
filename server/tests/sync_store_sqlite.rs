//! The storage conformance suite against the SQLite backend.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

satchel_server::sync_store_conformance!(satchel_server::sync::store::conformance::sqlite().await);
