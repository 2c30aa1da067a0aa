//! Authentication of incoming requests, always over the raw body bytes and always
//! constant-time: GitHub's HMAC signatures, Standard Webhooks, and hashed API keys.

pub mod api_key;
pub mod github;
pub mod standard;

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
    #[error("this source is not public: send `Authorization: Bearer <read token>`")]
    ReadTokenMissing,
    #[error("the read token is not one of this source's `read_tokens`")]
    ReadTokenInvalid,
}
