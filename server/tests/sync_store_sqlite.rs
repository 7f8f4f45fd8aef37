//! The storage conformance suite against the SQLite backend.

satchel_server::sync_store_conformance!(satchel_server::sync::store::conformance::sqlite().await);
