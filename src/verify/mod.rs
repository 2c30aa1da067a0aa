//! Authentication of incoming requests, always over the raw body bytes and always
//! constant-time. One `Verifier` trait, one file per scheme: GitHub's HMAC signatures
//! (`github`), Standard Webhooks (`standard`) and hashed API keys (`api_key`).

pub mod api_key;
pub mod github;
pub mod standard;

use async_trait::async_trait;
use axum::http::HeaderMap;

use crate::store::{ApiKeyRecord, StoreError};

/// One request as a verifier sees it: its headers and its raw body, before any parse.
pub struct Request<'a> {
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// When it arrived, Unix milliseconds (for timestamp tolerances).
    pub received_at: i64,
}

/// What a verified request proved about its sender.
#[derive(Debug)]
pub enum Verified {
    /// The body is signed with one of the source's shared secrets.
    Signed,
    /// The sender holds this live API key.
    Key(ApiKeyRecord),
}

/// Why verification failed: the sender's fault (a 4xx), or the key store's (a 503).
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error("missing header `{0}`")]
    MissingHeader(&'static str),
    #[error("header `{0}` is not visible ASCII")]
    InvalidHeader(&'static str),
    #[error("cannot look up the API key")]
    Store(#[from] StoreError),
}

/// An authentication scheme. Each source's route holds the verifier its config names
/// and runs it over the raw request before anything is parsed or stored.
#[async_trait]
pub trait Verifier: Send + Sync {
    /// The scheme, as `GET /api/v1/sources` names it: `github`, `standard-webhooks` or
    /// `api-key`.
    fn scheme(&self) -> &'static str;

    async fn verify(&self, request: &Request<'_>) -> Result<Verified, VerifyError>;
}

/// A header's value, trimmed; `None` when absent. Every scheme and route reads headers
/// through this, so a header of invalid bytes gets one answer everywhere.
pub fn header<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
) -> Result<Option<&'h str>, VerifyError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .map(|s| Some(s.trim()))
            .map_err(|_| VerifyError::InvalidHeader(name)),
    }
}

/// A header that must be present and non-empty.
pub fn required_header<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
) -> Result<&'h str, VerifyError> {
    match header(headers, name)? {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(VerifyError::MissingHeader(name)),
    }
}

/// Why a request failed authentication. Each maps to a stable API error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("the request carries no signature header")]
    SignatureMissing,
    #[error("the signature header is malformed")]
    SignatureMalformed,
    #[error("no active secret produces this signature")]
    SignatureMismatch,
    #[error("the webhook timestamp is missing, malformed or more than the allowed tolerance away from now")]
    TimestampOutOfRange,
    #[error("the request carries no `Authorization: Bearer` API key")]
    KeyMissing,
    #[error("the API key is unknown or revoked")]
    KeyInvalid,
    #[error("the API key belongs to another source")]
    KeyWrongSource,
    #[error("this is not public: send a read token as `Authorization: Bearer <token>` (`reckon tokens add`)")]
    ReadTokenMissing,
    #[error("the read token is unknown or revoked")]
    ReadTokenInvalid,
    #[error("the read token has expired")]
    ReadTokenExpired,
}
