//! The sync API of the reference server (issue 10): devices register, push batches of outbox
//! operations and pull merged records in commit order, each learner isolated by a signed token.
//!
//! - [`auth`]: stateless HMAC-signed bearer tokens.
//! - [`store`]: the storage trait, its SQLite backend and the conformance suite every backend runs.
//! - [`http`]: the axum routes, limits and the access log.
//! - [`grade`]: server-side grading of graded-quiz attempts.
//! - [`rate_limit`]: a per-learner token bucket.
//! - [`error`]: every failure as a typed protocol error body.

pub mod auth;
pub mod error;
pub mod grade;
pub mod http;
pub mod rate_limit;
pub mod store;

use std::sync::Arc;
use std::time::Duration;

use auth::TokenKey;
use rate_limit::{RateLimit, RateLimiter};
use store::SyncStore;

use crate::grading::AnswerKeys;

/// How often `serve` purges tombstones every active device has pulled past.
pub const PURGE_EVERY: Duration = Duration::from_secs(3600);

/// Everything a sync request needs: storage, the token key, the limits and the answer keys.
pub struct SyncService {
    pub store: Arc<dyn SyncStore>,
    pub tokens: TokenKey,
    pub limiter: RateLimiter,
    pub answer_keys: AnswerKeys,
}

impl SyncService {
    pub fn new(
        store: Arc<dyn SyncStore>,
        tokens: TokenKey,
        answer_keys: AnswerKeys,
        rate: RateLimit,
    ) -> SyncService {
        SyncService { store, tokens, limiter: RateLimiter::new(rate), answer_keys }
    }
}

/// The server clock in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// Purges tombstones every `every` until the returned task is aborted. Failures are logged and
/// retried at the next tick (a purge is only housekeeping; nothing depends on it running now).
pub fn spawn_purge(store: Arc<dyn SyncStore>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        loop {
            ticks.tick().await;
            match store.purge_tombstones(now_ms()).await {
                Ok(report) if report.tombstones > 0 => {
                    tracing::info!(
                        learners = report.learners,
                        tombstones = report.tombstones,
                        "purged tombstones"
                    )
                }
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "tombstone purge failed"),
            }
        }
    })
}
