//! Every failure of the sync API as one typed [`ApiError`], answered with the protocol's
//! [`ErrorBody`] and the status its code prescribes — the one place errors become responses.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use satchel_protocol::codec::CodecError;
use satchel_protocol::messages::{ErrorBody, ErrorCode, MessageError};

use super::auth::TokenError;
use super::store::StoreError;

/// A refused request.
#[derive(Debug)]
pub struct ApiError(pub ErrorBody);

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError(ErrorBody::new(code, message))
    }

    pub fn code(&self) -> ErrorCode {
        self.0.code
    }

    pub fn rate_limited(retry_after_s: u32) -> ApiError {
        let mut body = ErrorBody::new(ErrorCode::RateLimited, "too many requests for this learner");
        body.retry_after_s = Some(retry_after_s);
        ApiError(body)
    }

    pub fn internal() -> ApiError {
        ApiError::new(ErrorCode::Internal, "internal error; retry later")
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> ApiError {
        ApiError::new(ErrorCode::Unauthorized, e.to_string())
    }
}

impl From<CodecError> for ApiError {
    fn from(e: CodecError) -> ApiError {
        let code = match e {
            CodecError::TooLarge { .. } => ErrorCode::TooLarge,
            CodecError::Encode(_) => ErrorCode::Internal,
            _ => ErrorCode::Malformed,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<MessageError> for ApiError {
    fn from(e: MessageError) -> ApiError {
        ApiError::new(e.code(), e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::UnknownDevice => ApiError::new(ErrorCode::UnknownDevice, e.to_string()),
            StoreError::SeqGap { expected, .. } => {
                let mut body = ErrorBody::new(ErrorCode::SeqGap, e.to_string());
                body.expected_seq = Some(expected);
                ApiError(body)
            }
            StoreError::ResetRequired(_) => ApiError::new(ErrorCode::ResetRequired, e.to_string()),
            StoreError::Open(_) | StoreError::Backend(_) => {
                // The detail is for the operator's log, not the client.
                tracing::error!(error = %e, "sync storage failed");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body =
            serde_json::to_vec(&self.0).unwrap_or_else(|_| br#"{"code":"internal","message":""}"#.to_vec());
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Some(seconds) = self.0.retry_after_s {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
