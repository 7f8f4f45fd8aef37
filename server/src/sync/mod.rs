//! The sync API of the reference server (issue 10): devices register, push batches of outbox
//! operations and pull merged records in commit order, each learner isolated by a signed token.
//!
//! - [`auth`]: stateless HMAC-signed bearer tokens.
//! - [`store`]: the storage trait, its SQLite backend and the conformance suite every backend runs.
//! - [`rate_limit`]: a per-learner token bucket.

pub mod auth;
pub mod rate_limit;
pub mod store;
