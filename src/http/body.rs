//! Request body handling shared by the hook endpoints: reading the raw bytes under the
//! size limit (answering 413 early from `Content-Length`), header access, and turning
//! JSON or `payload=` form bodies into the JSON payload that gets stored.

use axum::body::Body;
use axum::http::{header, HeaderMap};
use http_body_util::BodyExt;
use serde::Deserialize;

use super::error::ApiError;

/// Most bytes reserved up front from `Content-Length`; a larger body grows the buffer
/// as it arrives, so a false length cannot reserve much.
const RESERVE_MAX: usize = 1024 * 1024;

/// Reads the whole body, or fails with 413 as soon as it exceeds `limit`. The bytes are
/// copied once, from the connection's buffers into the returned `Vec`.
pub async fn read_limited(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let reserve = declared.map_or(0, |n| (n as usize).min(RESERVE_MAX));
    let mut raw = Vec::with_capacity(reserve);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| {
            ApiError::MalformedBody(format!("the body could not be read: {error}"))
        })?;
        if let Ok(data) = frame.into_data() {
            if raw.len() + data.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            raw.extend_from_slice(&data);
        }
    }
    Ok(raw)
}

/// A header as text, or `None` if absent. Non-UTF-8 values are rejected.
pub fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<Option<&'h str>, ApiError> {
    Ok(crate::verify::header(headers, name)?)
}

pub fn required_header<'h>(
    headers: &'h HeaderMap,
    name: &'static str,
) -> Result<&'h str, ApiError> {
    Ok(crate::verify::required_header(headers, name)?)
}

/// An identifier header (delivery ids, event names): 1 to `max` chars of a safe alphabet.
pub fn check_token(name: &'static str, value: &str, max: usize) -> Result<(), ApiError> {
    let ok = !value.is_empty()
        && value.len() <= max
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::InvalidHeader {
            name,
            reason: format!("expected 1 to {max} characters of a-z, A-Z, 0-9, '-', '_', '.', ':'"),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Form,
}

/// The media type of the body; a missing header is taken as JSON.
pub fn body_kind(headers: &HeaderMap, allow_form: bool) -> Result<BodyKind, ApiError> {
    let Some(value) = header(headers, "content-type")? else {
        return Ok(BodyKind::Json);
    };
    let media = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match media.as_str() {
        "application/json" => Ok(BodyKind::Json),
        "application/x-www-form-urlencoded" if allow_form => Ok(BodyKind::Form),
        _ => Err(ApiError::UnsupportedMediaType {
            got: value.to_owned(),
            accepted: if allow_form {
                "application/json or application/x-www-form-urlencoded"
            } else {
                "application/json"
            },
        }),
    }
}

#[derive(Deserialize)]
struct Form {
    payload: String,
}

/// The JSON payload of the body: the body itself, or the `payload` form field.
/// Checks that it is a JSON object; the full parse happens in the caller's decode.
pub fn json_payload(kind: BodyKind, body: Vec<u8>) -> Result<Vec<u8>, ApiError> {
    let payload = match kind {
        BodyKind::Json => body,
        BodyKind::Form => serde_urlencoded::from_bytes::<Form>(&body)
            .map_err(|_| {
                ApiError::MalformedBody(
                    "a form body must carry the JSON in a `payload` field".into(),
                )
            })?
            .payload
            .into_bytes(),
    };
    let first = payload.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(ApiError::MalformedBody(
            "the payload must be a JSON object".into(),
        ));
    }
    Ok(payload)
}

/// Fails with 400 unless `payload` is well-formed JSON.
pub fn check_json(payload: &[u8]) -> Result<(), ApiError> {
    serde_json::from_slice::<serde::de::IgnoredAny>(payload)
        .map(|_| ())
        .map_err(|e| ApiError::MalformedBody(format!("invalid JSON: {e}")))
}
