//! How the engine talks to a sync server: the [`Transport`] trait (register, push, pull) and
//! its HTTP implementation over reqwest.
//!
//! Bodies are JSON, zstd-compressed when large (`satchel_protocol::codec`). Replies are read with
//! a size cap and a stall timeout, and anything that is not what the protocol says (cut short,
//! not zstd, the wrong shape) is a [`SyncError::Malformed`]: the engine retries later and the
//! outbox stays as it was. Tokens go in the `Authorization` header only and are never logged.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use satchel_protocol::codec::{self, ContentEncoding};
use satchel_protocol::messages::{
    CONTENT_TYPE, ErrorBody, MAX_RESPONSE_BYTES, PROTOCOL_HEADER, PROTOCOL_VERSION, PULL_PATH, PUSH_PATH,
    PullRequest, PullResponse, PushRequest, PushResponse, REGISTER_PATH, RegisterRequest, RegisterResponse,
    ZSTD_ENCODING,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

use super::SyncError;
use crate::content::fetch::check_base_url;
use crate::error::{NetworkErrorKind, Result};

/// The three calls of the sync API. `bytes` adds up the request and response bodies as they
/// cross the network (what the learner's data plan is charged for), failed calls included.
pub trait Transport: Send + Sync {
    fn register(
        &self,
        token: &str,
        request: &RegisterRequest,
        bytes: &AtomicU64,
    ) -> impl Future<Output = Result<RegisterResponse, SyncError>> + Send;

    fn push(
        &self,
        token: &str,
        request: &PushRequest,
        bytes: &AtomicU64,
    ) -> impl Future<Output = Result<PushResponse, SyncError>> + Send;

    fn pull(
        &self,
        token: &str,
        request: &PullRequest,
        bytes: &AtomicU64,
    ) -> impl Future<Output = Result<PullResponse, SyncError>> + Send;
}

/// The sync API over HTTPS (plain HTTP to loopback only, for development).
#[derive(Clone)]
pub struct HttpTransport {
    http: reqwest::Client,
    base: Url,
    /// A reply that delivers nothing for this long is a broken connection.
    stall_timeout: Duration,
    /// Longest Retry-After obeyed.
    retry_after_cap: Duration,
}

impl HttpTransport {
    pub fn new(base_url: &str, stall_timeout: Duration, retry_after_cap: Duration) -> Result<HttpTransport> {
        let base = check_base_url(base_url)?;
        let http = crate::http_client::client(stall_timeout)?;
        Ok(HttpTransport { http, base, stall_timeout, retry_after_cap })
    }

    async fn exchange<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        path: &str,
        token: &str,
        request: &Req,
        bytes: &AtomicU64,
    ) -> Result<Resp, SyncError> {
        let url =
            self.base.join(path).map_err(|e| SyncError::Internal(format!("cannot build a URL: {e}")))?;
        let encoded =
            codec::encode(request).map_err(|e| SyncError::Internal(format!("cannot encode: {e}")))?;
        bytes.fetch_add(encoded.bytes.len() as u64, Ordering::Relaxed);
        let mut builder = self
            .http
            .post(url)
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(reqwest::header::ACCEPT_ENCODING, ZSTD_ENCODING)
            .bearer_auth(token);
        if let Some(encoding) = encoded.encoding.header_value() {
            builder = builder.header(reqwest::header::CONTENT_ENCODING, encoding);
        }
        let mut response = builder.body(encoded.bytes).send().await.map_err(transport_error)?;
        let status = response.status();
        let header = |name: reqwest::header::HeaderName| {
            response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
        };
        let content_encoding = header(reqwest::header::CONTENT_ENCODING);
        let retry_after = header(reqwest::header::RETRY_AFTER)
            .and_then(|v| crate::downloads::retry::retry_after(&v, SystemTime::now(), self.retry_after_cap));
        let mut body = Vec::new();
        loop {
            let chunk = tokio::time::timeout(self.stall_timeout, response.chunk())
                .await
                .map_err(|_| SyncError::Interrupted("the server stopped sending".into()))?
                .map_err(transport_error)?;
            let Some(chunk) = chunk else { break };
            bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(SyncError::Malformed(format!(
                    "the reply is larger than {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        let encoding = ContentEncoding::from_header(content_encoding.as_deref());
        if !status.is_success() {
            // An error without a readable body (a proxy's page, say) is still its status.
            let error: Option<ErrorBody> =
                encoding.as_ref().ok().and_then(|e| codec::decode(&body, *e, MAX_RESPONSE_BYTES).ok());
            let retry_after = retry_after.or_else(|| {
                error
                    .as_ref()
                    .and_then(|e| e.retry_after_s)
                    .map(|s| Duration::from_secs(s.into()).min(self.retry_after_cap))
            });
            return Err(SyncError::Server {
                status: status.as_u16(),
                code: error.as_ref().map(|e| e.code),
                message: error.as_ref().map(|e| e.message.clone()).unwrap_or_default(),
                retry_after,
                expected_seq: error.and_then(|e| e.expected_seq),
            });
        }
        let encoding = encoding.map_err(|e| SyncError::Malformed(e.to_string()))?;
        codec::decode(&body, encoding, MAX_RESPONSE_BYTES).map_err(|e| SyncError::Malformed(e.to_string()))
    }
}

impl Transport for HttpTransport {
    async fn register(
        &self,
        token: &str,
        request: &RegisterRequest,
        bytes: &AtomicU64,
    ) -> Result<RegisterResponse, SyncError> {
        self.exchange(REGISTER_PATH, token, request, bytes).await
    }

    async fn push(
        &self,
        token: &str,
        request: &PushRequest,
        bytes: &AtomicU64,
    ) -> Result<PushResponse, SyncError> {
        self.exchange(PUSH_PATH, token, request, bytes).await
    }

    async fn pull(
        &self,
        token: &str,
        request: &PullRequest,
        bytes: &AtomicU64,
    ) -> Result<PullResponse, SyncError> {
        self.exchange(PULL_PATH, token, request, bytes).await
    }
}

fn transport_error(e: reqwest::Error) -> SyncError {
    // Without the URL: nothing secret is in it, but logs stay short and uniform.
    let text = crate::http_client::describe(&e);
    match crate::http_client::failure_kind(&e) {
        NetworkErrorKind::CertificateRejected => SyncError::Certificate(text),
        NetworkErrorKind::Unreachable => SyncError::Connect(text),
        _ => SyncError::Interrupted(text),
    }
}
