//! Wire types of the sync API (protocol version 1), its limits and error codes.
//!
//! Every body is strict (`deny_unknown_fields`): a field this version does not know is a
//! malformed request, not something silently dropped. Evolving the protocol means a new
//! [`PROTOCOL_VERSION`], which the server answers in kind.

use serde::{Deserialize, Serialize};

use crate::ids::is_safe_id;
use crate::records::{Record, RecordError};

/// The protocol version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// Request header carrying the protocol version (`Satchel-Protocol: 1`).
pub const PROTOCOL_HEADER: &str = "Satchel-Protocol";
/// `Content-Encoding` / `Accept-Encoding` value of a zstd body.
pub const ZSTD_ENCODING: &str = "zstd";
/// Content type of every body (compressed or not).
pub const CONTENT_TYPE: &str = "application/json";

/// Paths relative to the sync base URL.
pub const REGISTER_PATH: &str = "sync/v1/devices";
pub const PUSH_PATH: &str = "sync/v1/push";
pub const PULL_PATH: &str = "sync/v1/pull";

/// Most ops in one push.
pub const MAX_OPS_PER_PUSH: usize = 1_000;
/// Largest push body, decoded (after zstd), in bytes.
pub const MAX_PUSH_BYTES: usize = 4_194_304; // 4 MiB
/// Largest register body, decoded, in bytes.
pub const MAX_REGISTER_BYTES: usize = 4_096;
/// Largest pull request body, decoded, in bytes.
pub const MAX_PULL_REQUEST_BYTES: usize = 4_096;
/// Pull page size when the client does not ask for one.
pub const DEFAULT_PULL_PAGE_BYTES: u32 = 262_144; // 256 KiB
/// The server never sends a page larger than this (except a single record that is larger on
/// its own: a page always holds at least one record, or the client could never get past it).
pub const MAX_PULL_PAGE_BYTES: u32 = 1_048_576; // 1 MiB
/// Largest response body a client decodes, in bytes. Bounds a compromised or broken server.
pub const MAX_RESPONSE_BYTES: usize = 16_777_216; // 16 MiB
/// A stamp more than this far ahead of the server clock is clamped to it.
pub const MAX_FUTURE_SKEW_MS: i64 = 3_600_000;
/// Characters in a device name.
pub const MAX_DEVICE_NAME_CHARS: usize = 64;
/// Characters in an epoch id.
pub const MAX_EPOCH_CHARS: usize = 64;

/// `POST sync/v1/devices`: register this device (idempotent: registering again returns the
/// same `next_seq` unless ops arrived since).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub protocol: u32,
    pub device_id: String,
    /// Shown to the learner in a device list ("Amina's phone"). Not an identifier.
    pub device_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterResponse {
    pub protocol: u32,
    /// The server database's epoch.
    pub epoch: String,
    /// The seq the device's next op must carry (last applied + 1).
    pub next_seq: u64,
    pub server_time_ms: i64,
}

/// `POST sync/v1/push`: a batch of ops in seq order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    pub protocol: u32,
    pub device_id: String,
    /// The epoch the client last saw; `None` before its first response.
    pub epoch: Option<String>,
    pub ops: Vec<Op>,
}

/// One outbox entry: a whole record state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Op {
    /// The op's identity (a UUID, in its 36-character text form).
    pub op_id: String,
    /// Gap-free per device, starting at 1.
    pub seq: u64,
    pub record: Record,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushResponse {
    pub protocol: u32,
    pub epoch: String,
    /// The device's last applied seq on the server after this push.
    pub applied_through: u64,
    /// One per op of the request, in order.
    pub results: Vec<OpResult>,
    pub server_time_ms: i64,
}

/// What became of one op.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpResult {
    pub seq: u64,
    pub outcome: Outcome,
    /// Set when the server clamped the record's stamps to this wall time: the client applies
    /// `Record::clamp(clamped_to)` to its own copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clamped_to: Option<i64>,
}

impl OpResult {
    /// The result for an op whose record failed validation (or the server's own checks).
    pub fn rejected(seq: u64, error: &RecordError) -> OpResult {
        OpResult {
            seq,
            outcome: Outcome::Rejected { code: error.reject_code(), reason: error.to_string() },
            clamped_to: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum Outcome {
    /// Merged into the stored record (the seq advanced).
    Applied,
    /// Already applied earlier (seq ≤ last applied): no effect.
    Duplicate,
    /// Permanently refused; the seq still advanced, so the queue moves on. The client moves the
    /// op to its rejected list for the app to show.
    Rejected { code: RejectCode, reason: String },
}

/// Why an op was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    /// The record failed validation (bad id, out-of-range value, broken invariant).
    InvalidRecord,
    /// The record is over a size limit.
    TooLarge,
    /// A graded-quiz attempt the server cannot grade.
    CannotGrade,
    /// A code from a newer server.
    #[serde(other)]
    Other,
}

/// `POST sync/v1/pull`: the next page of changes after `cursor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullRequest {
    pub protocol: u32,
    pub device_id: String,
    pub epoch: Option<String>,
    /// The last cursor the client applied (0 for everything).
    pub cursor: u64,
    /// Page size wanted; the server caps it at [`MAX_PULL_PAGE_BYTES`].
    pub max_bytes: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PullResponse {
    pub protocol: u32,
    pub epoch: String,
    /// Records changed after the request's cursor, in cursor order, each once at its latest
    /// merged state.
    pub records: Vec<PulledRecord>,
    /// The cursor to store once this page is applied (the last record's, or the request's).
    pub next_cursor: u64,
    /// More pages follow.
    pub more: bool,
    pub server_time_ms: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PulledRecord {
    pub cursor: u64,
    pub record: Record,
}

/// Body of every non-2xx response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// For logs and bug reports; never contains learner content or tokens.
    pub message: String,
    /// With `rate_limited` / `unavailable`: also sent as `Retry-After`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u32>,
    /// With `seq_gap`: the seq the server expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<u64>,
}

impl ErrorBody {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
        ErrorBody { code, message: message.into(), retry_after_s: None, expected_seq: None }
    }
}

/// Error codes of the sync API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// Missing, expired or bad token.
    Unauthorized,
    /// The token may not do this.
    Forbidden,
    /// The `Satchel-Protocol` version is not one the server speaks.
    UnsupportedVersion,
    /// The body is not what the protocol says (not JSON, wrong shape, bad seq order…).
    Malformed,
    /// The body is over a size limit.
    TooLarge,
    /// Too many requests: retry after `retry_after_s`.
    RateLimited,
    /// A push whose first new seq is past the server's next one: resend from `expected_seq`.
    SeqGap,
    /// The device is not registered (for this learner).
    UnknownDevice,
    /// The client's epoch, cursor or seq does not fit the server's state: run the reset
    /// handshake.
    ResetRequired,
    /// The server is overloaded or in maintenance: retry after `retry_after_s`.
    Unavailable,
    /// A bug or fault on the server: retry later with back-off.
    Internal,
    /// A code from a newer server: treated like `internal`.
    #[serde(other)]
    Unknown,
}

/// What a client does on an error code (see docs/protocol.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAction {
    /// Ask the shell for a fresh token once, then retry; a second 401 stops until the shell
    /// has a new token.
    RefreshToken,
    /// Stop syncing and report (the app needs an update, or the client has a bug). The outbox
    /// stays intact.
    Stop,
    /// Retry later: after `Retry-After` if given, else exponential back-off with full jitter.
    Retry,
    /// Resend the unacknowledged ops starting at `expected_seq`.
    ResendFromExpected,
    /// Register the device again, then retry.
    Register,
    /// Run the reset handshake.
    Reset,
}

impl ErrorCode {
    /// The HTTP status this code is sent with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::Unauthorized => 401,
            ErrorCode::Forbidden => 403,
            ErrorCode::UnsupportedVersion | ErrorCode::Malformed => 400,
            ErrorCode::TooLarge => 413,
            ErrorCode::RateLimited => 429,
            ErrorCode::SeqGap | ErrorCode::UnknownDevice | ErrorCode::ResetRequired => 409,
            ErrorCode::Unavailable => 503,
            ErrorCode::Internal | ErrorCode::Unknown => 500,
        }
    }

    /// What the client does about it.
    pub fn client_action(self) -> ClientAction {
        match self {
            ErrorCode::Unauthorized => ClientAction::RefreshToken,
            ErrorCode::Forbidden
            | ErrorCode::UnsupportedVersion
            | ErrorCode::Malformed
            | ErrorCode::TooLarge => ClientAction::Stop,
            ErrorCode::RateLimited | ErrorCode::Unavailable | ErrorCode::Internal | ErrorCode::Unknown => {
                ClientAction::Retry
            }
            ErrorCode::SeqGap => ClientAction::ResendFromExpected,
            ErrorCode::UnknownDevice => ClientAction::Register,
            ErrorCode::ResetRequired => ClientAction::Reset,
        }
    }
}

/// A request that is structurally wrong (answered `malformed`, or `too_large` for counts).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    #[error("protocol version {0} in the body does not match {PROTOCOL_VERSION}")]
    WrongVersion(u32),
    #[error("{0} is not a valid id")]
    InvalidId(&'static str),
    #[error("{field} is too large: {actual} > {limit}")]
    TooLarge { field: &'static str, actual: usize, limit: usize },
    #[error("device_name must be visible text of at most 64 characters")]
    BadDeviceName,
    #[error("op_id {0} is not a UUID")]
    BadOpId(usize),
    #[error("ops must carry consecutive seqs starting at 1 or more (op {0})")]
    BadSeq(usize),
    #[error("op_id of op {0} appears twice in the batch")]
    DuplicateOpId(usize),
}

impl MessageError {
    /// The error code a server answers with.
    pub fn code(&self) -> ErrorCode {
        match self {
            MessageError::TooLarge { .. } => ErrorCode::TooLarge,
            MessageError::WrongVersion(_) => ErrorCode::UnsupportedVersion,
            _ => ErrorCode::Malformed,
        }
    }
}

impl RegisterRequest {
    pub fn new(device_id: &str, device_name: &str) -> RegisterRequest {
        RegisterRequest {
            protocol: PROTOCOL_VERSION,
            device_id: device_id.into(),
            device_name: device_name.into(),
        }
    }

    pub fn validate(&self) -> Result<(), MessageError> {
        check_version(self.protocol)?;
        check_device(&self.device_id)?;
        let name = &self.device_name;
        if name.chars().count() > MAX_DEVICE_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(MessageError::BadDeviceName);
        }
        Ok(())
    }
}

impl PushRequest {
    /// Checks the batch's shape: version, device, epoch, op count, op ids, and that seqs are
    /// consecutive. It does **not** validate the records: a bad record is rejected on its own
    /// (its seq still advances), it does not fail the batch.
    pub fn validate(&self) -> Result<(), MessageError> {
        check_version(self.protocol)?;
        check_device(&self.device_id)?;
        check_epoch(self.epoch.as_deref())?;
        if self.ops.len() > MAX_OPS_PER_PUSH {
            return Err(MessageError::TooLarge {
                field: "ops",
                actual: self.ops.len(),
                limit: MAX_OPS_PER_PUSH,
            });
        }
        let mut seen = std::collections::HashSet::with_capacity(self.ops.len());
        for (i, op) in self.ops.iter().enumerate() {
            if !is_uuid(&op.op_id) {
                return Err(MessageError::BadOpId(i));
            }
            if !seen.insert(op.op_id.to_ascii_lowercase()) {
                return Err(MessageError::DuplicateOpId(i));
            }
            let consecutive = match i.checked_sub(1).map(|prev| self.ops[prev].seq) {
                None => op.seq >= 1,
                Some(prev) => prev.checked_add(1) == Some(op.seq),
            };
            if !consecutive {
                return Err(MessageError::BadSeq(i));
            }
        }
        Ok(())
    }
}

impl PullRequest {
    /// Checks version, device and epoch. `max_bytes` is not an error when large: the server
    /// caps it with [`PullRequest::page_bytes`].
    pub fn validate(&self) -> Result<(), MessageError> {
        check_version(self.protocol)?;
        check_device(&self.device_id)?;
        check_epoch(self.epoch.as_deref())
    }

    /// The page size to serve: the asked size within `1..=MAX_PULL_PAGE_BYTES`, the default for 0.
    pub fn page_bytes(&self) -> u32 {
        if self.max_bytes == 0 { DEFAULT_PULL_PAGE_BYTES } else { self.max_bytes.min(MAX_PULL_PAGE_BYTES) }
    }
}

fn check_version(protocol: u32) -> Result<(), MessageError> {
    if protocol == PROTOCOL_VERSION { Ok(()) } else { Err(MessageError::WrongVersion(protocol)) }
}

fn check_device(device_id: &str) -> Result<(), MessageError> {
    if is_safe_id(device_id) { Ok(()) } else { Err(MessageError::InvalidId("device_id")) }
}

fn check_epoch(epoch: Option<&str>) -> Result<(), MessageError> {
    match epoch {
        Some(epoch) if !is_safe_id(epoch) || epoch.len() > MAX_EPOCH_CHARS => {
            Err(MessageError::InvalidId("epoch"))
        }
        _ => Ok(()),
    }
}

/// The 36-character hyphenated UUID text form (any version, either case).
fn is_uuid(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests;
