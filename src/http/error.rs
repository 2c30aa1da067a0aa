//! The one API error type. Every failure a client can see has a stable `code`, an HTTP
//! status, and a human `message`; internal causes are logged with their source chain
//! and never leaked.

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::intake::IntakeError;
use crate::store::StoreError;
use crate::verify::{AuthError, VerifyError};

/// Seconds a client is asked to wait before retrying when the store is unavailable.
const RETRY_AFTER_SECS: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("missing required header `{0}`")]
    MissingHeader(&'static str),
    #[error("header `{name}` is invalid: {reason}")]
    InvalidHeader { name: &'static str, reason: String },
    #[error("the body is malformed: {0}")]
    MalformedBody(String),
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("content type `{got}` is not supported: send {accepted}")]
    UnsupportedMediaType { got: String, accepted: &'static str },
    #[error("no source named `{0}` is configured")]
    UnknownSource(String),
    #[error("this key may only submit events of server `{key_src}`, not `{src}`")]
    SrcMismatch { key_src: String, src: String },
    #[error("server `{src}` is not one of the servers (`srcs`) of source `{source_name}`")]
    UnknownSrc { source_name: String, src: String },
    #[error("event {position} is invalid: {reason}")]
    InvalidEvent { position: usize, reason: String },
    #[error("xlog line {line} is malformed: {reason}")]
    MalformedXlog { line: usize, reason: String },
    #[error("{0}")]
    NotFound(String),
    #[error("this key sends heartbeats of user `{key_user}`, not `{user}`")]
    UserMismatch { key_user: String, user: String },
    #[error("{got} heartbeats in one request; send at most {max}")]
    TooManyHeartbeats { got: usize, max: usize },
    #[error("the heartbeat is invalid: {0}")]
    InvalidHeartbeat(String),
    #[error(
        "`current` names no one user here: name the user, or read with that user's heartbeats key"
    )]
    CurrentUserUnknown,
    #[error("no site `{0}` is registered here (`reckon sites add {0}`)")]
    UnknownSite(String),
    #[error("origin `{origin}` may not send views of site `{site}` (`reckon sites add {site} --origin ...`)")]
    OriginNotAllowed { site: String, origin: String },
    #[error("uploading logs of site `{0}` needs its token as `Authorization: Bearer ...` (`reckon sites add {0} --token`)")]
    SiteTokenRequired(String),
    #[error("the hit is invalid: {0}")]
    InvalidHit(String),
    #[error("query parameter `{name}` is invalid: {reason}")]
    InvalidQuery { name: &'static str, reason: String },
    /// As `InvalidQuery`, for a parameter named only at run time (by the query parser).
    #[error("query parameter `{name}` is invalid: {reason}")]
    InvalidParameter { name: String, reason: String },
    #[error("method {method} is not allowed here; allowed: {allow}")]
    MethodNotAllowed { method: String, allow: String },
    /// An error answer that carried no body of its own, given one (see `http::errors`).
    #[error("{message}")]
    Status {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error("too many requests; retry in {retry_after} s")]
    RateLimited { retry_after: u64 },
    #[error("the delivery ({bytes} bytes) is larger than the store accepts in one request; nothing was stored")]
    StoreTooLarge { bytes: usize },
    #[error("the store could not commit the delivery; retry later")]
    StoreUnavailable(#[source] Arc<StoreError>),
    #[error("the server is shutting down; retry later")]
    ShuttingDown,
    #[error("the server is reading too many unverified bodies; retry later")]
    Busy,
    #[error("the body did not arrive within {ms} ms")]
    BodyTimeout { ms: u64 },
    #[error("internal error")]
    Internal(#[source] StoreError),
}

/// Every error answer: a stable machine-readable `code` and a human `message`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn invalid_query(name: &'static str, reason: impl Into<String>) -> Self {
        ApiError::InvalidQuery {
            name,
            reason: reason.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Auth(AuthError::KeyWrongSource)
            | ApiError::SrcMismatch { .. }
            | ApiError::UserMismatch { .. }
            | ApiError::UnknownSite(_)
            | ApiError::OriginNotAllowed { .. } => StatusCode::FORBIDDEN,
            ApiError::Auth(_) | ApiError::SiteTokenRequired(_) => StatusCode::UNAUTHORIZED,
            ApiError::MissingHeader(_)
            | ApiError::InvalidHeader { .. }
            | ApiError::MalformedBody(_)
            | ApiError::UnknownSrc { .. }
            | ApiError::InvalidEvent { .. }
            | ApiError::MalformedXlog { .. }
            | ApiError::InvalidQuery { .. }
            | ApiError::InvalidParameter { .. }
            | ApiError::TooManyHeartbeats { .. }
            | ApiError::InvalidHeartbeat(_)
            | ApiError::CurrentUserUnknown
            | ApiError::InvalidHit(_) => StatusCode::BAD_REQUEST,
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Status { status, .. } => *status,
            ApiError::PayloadTooLarge { .. } | ApiError::StoreTooLarge { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::UnsupportedMediaType { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::UnknownSource(_) | ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::StoreUnavailable(_) | ApiError::ShuttingDown | ApiError::Busy => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::BodyTimeout { .. } => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable, documented error code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Auth(AuthError::SignatureMissing) => "signature_missing",
            ApiError::Auth(AuthError::SignatureMalformed) => "signature_malformed",
            ApiError::Auth(AuthError::SignatureMismatch) => "signature_invalid",
            ApiError::Auth(AuthError::TimestampOutOfRange) => "timestamp_out_of_range",
            ApiError::Auth(AuthError::KeyMissing) => "api_key_missing",
            ApiError::Auth(AuthError::KeyInvalid) => "api_key_invalid",
            ApiError::Auth(AuthError::KeyWrongSource) => "api_key_wrong_source",
            ApiError::Auth(AuthError::ReadTokenMissing) => "read_token_missing",
            ApiError::Auth(AuthError::ReadTokenInvalid) => "read_token_invalid",
            ApiError::Auth(AuthError::ReadTokenExpired) => "read_token_expired",
            ApiError::SrcMismatch { .. } => "src_mismatch",
            ApiError::UserMismatch { .. } => "user_mismatch",
            ApiError::TooManyHeartbeats { .. } => "too_many_heartbeats",
            ApiError::InvalidHeartbeat(_) => "invalid_heartbeat",
            ApiError::CurrentUserUnknown => "current_user_unknown",
            ApiError::UnknownSite(_) => "unknown_site",
            ApiError::SiteTokenRequired(_) => "site_token_required",
            ApiError::OriginNotAllowed { .. } => "origin_not_allowed",
            ApiError::InvalidHit(_) => "invalid_hit",
            ApiError::UnknownSrc { .. } => "unknown_src",
            ApiError::InvalidEvent { .. } => "invalid_event",
            ApiError::MalformedXlog { .. } => "malformed_xlog",
            ApiError::MissingHeader(_) => "missing_header",
            ApiError::InvalidHeader { .. } => "invalid_header",
            ApiError::MalformedBody(_) => "malformed_body",
            ApiError::PayloadTooLarge { .. } | ApiError::StoreTooLarge { .. } => {
                "payload_too_large"
            }
            ApiError::RateLimited { .. } => "rate_limited",
            ApiError::UnsupportedMediaType { .. } => "unsupported_media_type",
            ApiError::UnknownSource(_) => "unknown_source",
            ApiError::NotFound(_) => "not_found",
            ApiError::InvalidQuery { .. } | ApiError::InvalidParameter { .. } => "invalid_query",
            ApiError::MethodNotAllowed { .. } => "method_not_allowed",
            ApiError::Status { code, .. } => code,
            ApiError::StoreUnavailable(_) => "store_unavailable",
            ApiError::ShuttingDown => "shutting_down",
            ApiError::Busy => "busy",
            ApiError::BodyTimeout { .. } => "body_timeout",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<IntakeError> for ApiError {
    fn from(error: IntakeError) -> Self {
        match error {
            IntakeError::Closed => ApiError::ShuttingDown,
            IntakeError::Store(e) => ApiError::StoreUnavailable(e),
            IntakeError::TooLarge { bytes } => ApiError::StoreTooLarge { bytes },
        }
    }
}

impl From<VerifyError> for ApiError {
    fn from(error: VerifyError) -> Self {
        match error {
            VerifyError::Auth(e) => ApiError::Auth(e),
            VerifyError::MissingHeader(name) => ApiError::MissingHeader(name),
            VerifyError::InvalidHeader(name) => ApiError::InvalidHeader {
                name,
                reason: "not visible ASCII".into(),
            },
            VerifyError::Store(e) => ApiError::Internal(e),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Internal(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match self {
            // Load shed on purpose, not a failure: under a flood this would fill the log.
            ApiError::Busy => tracing::debug!(code = self.code(), "request shed"),
            _ if status.is_server_error() => {
                tracing::error!(code = self.code(), error = %crate::telemetry::chain(&self), "request failed");
            }
            _ => {}
        }
        let mut response = (
            status,
            Json(ErrorBody {
                code: self.code(),
                message: self.to_string(),
            }),
        )
            .into_response();
        let retry_after = match self {
            ApiError::RateLimited { retry_after } => Some(retry_after),
            _ if status == StatusCode::SERVICE_UNAVAILABLE => Some(RETRY_AFTER_SECS),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
