//! Delayed sync: the client engine that pushes the outbox to the sync server and pulls the
//! learner's changes from their other devices.
//!
//! Every synced entity is a state-based CRDT record (`satchel_protocol::records`) whose merge is
//! a join, so duplicated, dropped, reordered or replayed messages all converge, and a pull can
//! never make the learner's own unsynced write go backwards. The pieces:
//!
//! - [`local`]: each entity's record in `sync_record`, which local writes fold into and pulls
//!   merge into; the domain modules materialise it (`apply_remote` beside each `record`).
//! - the outbox ([`crate::outbox`]): entries frozen with gap-free per-device sequence numbers.
//! - [`engine`]: one sync — register, push batches, pull pages — with backoff, the network
//!   policy, the data meter, deadlines and stop.
//! - [`transport`]: the three API calls, and their HTTP implementation.
//! - [`service`]: triggers (reconnect, foreground, a period, on demand) and status events.
//!
//! Wire format and merge rules: `docs/protocol.md`; how the client uses them: `docs/sync.md`.

mod apply;
pub(crate) mod backfill;
pub mod engine;
pub mod identity;
pub mod local;
mod push;
pub mod rejected;
pub(crate) mod reset;
pub mod service;
pub mod state;
pub mod status;
pub mod transport;

#[cfg(test)]
mod tests;

use std::time::Duration;

use satchel_protocol::messages::ErrorCode;

use crate::error::NetworkErrorKind;

pub use engine::{SyncOutcome, SyncReport};
pub use rejected::RejectedOp;
pub use service::{SyncRuntime, SyncService};
pub use status::{SyncEvent, SyncStatus};

/// Where the app gets the learner's bearer tokens. Implemented by the shell (it holds the
/// sign-in session); the core keeps tokens in memory only, never on disk or in logs.
#[uniffi::export(with_foreign)]
pub trait TokenProvider: Send + Sync {
    /// The current token, or `None` when the learner is signed out (sync then stops).
    fn token(&self) -> Option<String>;
    /// A new token after the server refused the current one; `None` if there is none.
    fn refresh(&self) -> Option<String>;
}

/// Why talking to the sync server failed. The outbox is intact whatever the error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("sync is not configured (call configure_sync first)")]
    NotConfigured,
    #[error("no sync token: the learner needs to sign in")]
    NoToken,
    /// The server refused the token (expired or revoked) and the shell had no fresh one.
    #[error(
        "the sync server refused the token and no new one was given: the learner needs to sign in again ({0})"
    )]
    TokenRefused(String),
    #[error("cannot reach the sync server: {0}")]
    Connect(String),
    /// TLS refused the server's certificate (often the phone's clock is wrong). Not retried
    /// within this sync: waiting does not fix a clock; the next trigger tries again.
    #[error("the sync server's certificate was refused (is the phone's date right?): {0}")]
    Certificate(String),
    #[error("the connection to the sync server broke: {0}")]
    Interrupted(String),
    #[error("the sync server answered HTTP {status} ({code:?}): {message}")]
    Server {
        status: u16,
        code: Option<ErrorCode>,
        message: String,
        retry_after: Option<Duration>,
        expected_seq: Option<u64>,
    },
    /// The reply is not what the protocol says: cut short, not zstd, the wrong shape, or
    /// inconsistent with the request.
    #[error("the sync server's reply is unusable: {0}")]
    Malformed(String),
    #[error("sync failed: {0}")]
    Internal(String),
}

impl SyncError {
    /// The protocol error code, if the server sent one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            SyncError::Server { code, .. } => *code,
            _ => None,
        }
    }

    /// Worth trying again after a wait: network trouble, an overloaded or failing server, or a
    /// reply spoiled on the way.
    pub fn is_transient(&self) -> bool {
        match self {
            SyncError::Connect(_) | SyncError::Interrupted(_) | SyncError::Malformed(_) => true,
            SyncError::Server { status, code, .. } => match code {
                Some(code) => matches!(code.client_action(), satchel_protocol::messages::ClientAction::Retry),
                None => *status == 429 || *status >= 500 || *status == 408,
            },
            SyncError::NotConfigured
            | SyncError::NoToken
            | SyncError::TokenRefused(_)
            | SyncError::Certificate(_)
            | SyncError::Internal(_) => false,
        }
    }

    /// The kind of failure an app acts on (sign in again, wait, report).
    pub fn kind(&self) -> NetworkErrorKind {
        match self {
            SyncError::NotConfigured => NetworkErrorKind::NotConfigured,
            SyncError::NoToken | SyncError::TokenRefused(_) => NetworkErrorKind::SignInRequired,
            _ if self.is_unauthorized() => NetworkErrorKind::SignInRequired,
            SyncError::Connect(_) => NetworkErrorKind::Unreachable,
            SyncError::Certificate(_) => NetworkErrorKind::CertificateRejected,
            SyncError::Interrupted(_) => NetworkErrorKind::Interrupted,
            SyncError::Server { .. } => NetworkErrorKind::HttpStatus,
            SyncError::Malformed(_) => NetworkErrorKind::BadReply,
            SyncError::Internal(_) => NetworkErrorKind::Other,
        }
    }

    /// The server's HTTP status, when it answered with an error.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            SyncError::Server { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn is_unauthorized(&self) -> bool {
        matches!(self, SyncError::Server { status: 401, .. }) || self.code() == Some(ErrorCode::Unauthorized)
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            SyncError::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Knobs of the engine. The defaults suit a phone; tests shorten them.
#[derive(Debug, Clone)]
pub struct SyncTuning {
    /// Ops per push (at most the protocol's 1000).
    pub push_batch: u32,
    /// Bytes per pull page asked for.
    pub pull_page_bytes: u32,
    /// A reply that delivers nothing for this long is a broken connection.
    pub stall_timeout: Duration,
    /// First backoff step; doubles per failure, with full jitter.
    pub backoff_base: Duration,
    pub backoff_cap: Duration,
    /// Longest Retry-After obeyed.
    pub retry_after_cap: Duration,
    /// Failed attempts in a row within one sync before it gives up (the next trigger tries again).
    pub max_attempts: u32,
    /// How often the service syncs while the app runs; `None` for never.
    pub period: Option<Duration>,
    /// Longest a triggered (not app-requested) sync may run.
    pub triggered_run: Duration,
}

impl Default for SyncTuning {
    fn default() -> Self {
        SyncTuning {
            push_batch: 500,
            pull_page_bytes: satchel_protocol::messages::DEFAULT_PULL_PAGE_BYTES,
            stall_timeout: Duration::from_secs(30),
            backoff_base: Duration::from_secs(1),
            backoff_cap: Duration::from_secs(120),
            retry_after_cap: Duration::from_secs(600),
            max_attempts: 6,
            period: Some(Duration::from_secs(15 * 60)),
            triggered_run: Duration::from_secs(120),
        }
    }
}
