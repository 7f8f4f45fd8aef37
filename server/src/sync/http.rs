//! The sync routes (`POST /sync/v1/devices`, `/push`, `/pull`) and what every request goes
//! through, in order: the protocol version header, the bearer token, the learner's rate limit,
//! the body (capped on the wire, zstd-decoded under the same cap, parsed with serde_json's
//! recursion limit), the message's own checks, then the store. Every refusal is an
//! [`ErrorBody`](satchel_protocol::messages::ErrorBody); a panic becomes `internal`.
//!
//! Logs carry the method, path, status, time and learner id, never a header or a body (so never
//! a token or a learner's notes).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use satchel_protocol::codec::{self, ContentEncoding};
use satchel_protocol::messages::{
    ErrorCode, MAX_PULL_REQUEST_BYTES, MAX_PUSH_BYTES, MAX_REGISTER_BYTES, PROTOCOL_HEADER, PROTOCOL_VERSION,
    PullRequest, PushRequest, RegisterRequest, ZSTD_ENCODING,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tower_http::catch_panic::CatchPanicLayer;

use super::error::ApiError;
use super::{SyncService, grade, now_ms};

/// The learner a request was for, left on the response for the access log.
#[derive(Clone)]
struct LearnerTag(String);

/// The sync routes, ready to merge beside the static content.
pub fn routes(service: Arc<SyncService>) -> Router {
    Router::new()
        .route("/sync/v1/devices", post(register))
        .route("/sync/v1/push", post(push))
        .route("/sync/v1/pull", post(pull))
        .with_state(service)
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            tracing::error!("a sync handler panicked");
            ApiError::internal().into_response()
        }))
        .layer(middleware::from_fn(access_log))
}

async fn register(State(service): State<Arc<SyncService>>, headers: HeaderMap, body: Body) -> Response {
    respond(&headers, async {
        let (learner, request): (String, RegisterRequest) =
            admit(&service, &headers, body, MAX_REGISTER_BYTES).await?;
        request.validate()?;
        let response = service.store.register_device(&learner, &request, now_ms()).await?;
        Ok((learner, response))
    })
    .await
}

async fn push(State(service): State<Arc<SyncService>>, headers: HeaderMap, body: Body) -> Response {
    respond(&headers, async {
        let (learner, mut request): (String, PushRequest) =
            admit(&service, &headers, body, MAX_PUSH_BYTES).await?;
        request.validate()?;
        grade::grade_push(&service.answer_keys, &learner, &mut request);
        let response = service.store.push(&learner, &request, now_ms()).await?;
        Ok((learner, response))
    })
    .await
}

async fn pull(State(service): State<Arc<SyncService>>, headers: HeaderMap, body: Body) -> Response {
    respond(&headers, async {
        let (learner, request): (String, PullRequest) =
            admit(&service, &headers, body, MAX_PULL_REQUEST_BYTES).await?;
        request.validate()?;
        let response = service.store.pull(&learner, &request, now_ms()).await?;
        Ok((learner, response))
    })
    .await
}

/// Version, token, rate limit and body of a request, in that order (nothing is read from an
/// unauthenticated client beyond its headers).
async fn admit<T: DeserializeOwned>(
    service: &SyncService,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<(String, T), ApiError> {
    match headers.get(PROTOCOL_HEADER).map(|v| v.to_str().map(str::trim)) {
        Some(Ok(v)) if v == PROTOCOL_VERSION.to_string() => {}
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedVersion,
                format!("this server speaks {PROTOCOL_HEADER}: {PROTOCOL_VERSION}"),
            ));
        }
        None => {
            return Err(ApiError::new(
                ErrorCode::UnsupportedVersion,
                format!("the {PROTOCOL_HEADER} header is missing"),
            ));
        }
    }
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .unwrap_or_default();
    let learner = service.tokens.verify(token, super::auth::now_s())?;
    service.limiter.check(&learner).map_err(ApiError::rate_limited)?;
    let encoding =
        ContentEncoding::from_header(headers.get(header::CONTENT_ENCODING).and_then(|v| v.to_str().ok()))?;
    // The cap applies on the wire first (a declared or streamed length past it stops reading),
    // then again to the decompressed body inside the codec.
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::new(ErrorCode::TooLarge, format!("body is over the limit of {limit} bytes")));
    }
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|e| {
        // axum wraps http-body's `LengthLimitError`; find it by its text anywhere in the chain.
        let mut source: Option<&dyn std::error::Error> = Some(&e);
        let mut too_large = false;
        while let Some(error) = source {
            too_large |= error.to_string().contains("length limit exceeded");
            source = error.source();
        }
        if too_large {
            ApiError::new(ErrorCode::TooLarge, format!("body is over the limit of {limit} bytes"))
        } else {
            ApiError::new(ErrorCode::Malformed, "the body could not be read")
        }
    })?;
    let request = codec::decode(&bytes, encoding, limit)?;
    Ok((learner, request))
}

/// Encodes a handler's answer: zstd when the client accepts it and the body is large enough to
/// gain, plain JSON otherwise.
async fn respond<T: Serialize>(
    headers: &HeaderMap,
    handler: impl Future<Output = Result<(String, T), ApiError>>,
) -> Response {
    let (learner, value) = match handler.await {
        Ok(answer) => answer,
        Err(error) => return error.into_response(),
    };
    let accepts_zstd = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| coding.split(';').next().is_some_and(|c| c.trim().eq_ignore_ascii_case(ZSTD_ENCODING)));
    let encoded = if accepts_zstd {
        codec::encode(&value).map_err(ApiError::from)
    } else {
        serde_json::to_vec(&value)
            .map(|bytes| codec::Encoded { bytes, encoding: ContentEncoding::Identity })
            .map_err(|e| ApiError::new(ErrorCode::Internal, format!("cannot encode the answer: {e}")))
    };
    let mut response = match encoded {
        Ok(encoded) => {
            let mut response = encoded.bytes.into_response();
            if let Some(value) = encoded.encoding.header_value() {
                response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static(value));
            }
            response
        }
        Err(error) => error.into_response(),
    };
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response.extensions_mut().insert(LearnerTag(learner));
    response
}

async fn access_log(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let response = next.run(request).await;
    let learner = response.extensions().get::<LearnerTag>().map_or("-", |t| t.0.as_str());
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        learner,
        "sync request"
    );
    response
}
