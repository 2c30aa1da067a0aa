//! Request body handling shared by the hook endpoints: reading the raw bytes under the
//! size limit (answering 413 early from `Content-Length`) and under the shared budget for
//! unverified bodies, header access, and turning JSON or `payload=` form bodies into the
//! JSON payload that gets stored.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{header, HeaderMap};
use http_body_util::BodyExt;
use serde::Deserialize;

use super::config::LimitsConfig;
use super::error::ApiError;
use super::server::BodyTimedOut;

/// Most bytes reserved up front from `Content-Length`; a larger body grows the buffer
/// as it arrives, so a false length cannot reserve much.
const RESERVE_MAX: usize = 1024 * 1024;

/// Bodies larger than this count against `limits.large_bodies_per_client`.
const LARGE_BODY: usize = 1024 * 1024;

/// Seconds a client sending too many large bodies at once is asked to wait.
const LARGE_RETRY_AFTER_SECS: u64 = 5;

/// The memory every body being read before its sender is verified shares
/// (`limits.unverified_body_bytes`), and how many large bodies each client IP is
/// sending (`limits.large_bodies_per_client`). One per process, for every listener.
pub struct BodyBudget {
    capacity: usize,
    used: AtomicUsize,
    large_per_client: usize,
    large: Mutex<HashMap<IpAddr, usize>>,
}

impl BodyBudget {
    pub fn new(limits: &LimitsConfig) -> Arc<BodyBudget> {
        Arc::new(BodyBudget {
            capacity: limits.unverified_body_bytes,
            used: AtomicUsize::new(0),
            large_per_client: limits.large_bodies_per_client,
            large: Mutex::new(HashMap::new()),
        })
    }

    fn reserve(&self, bytes: usize) -> bool {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes)
                    .filter(|total| *total <= self.capacity)
            })
            .is_ok()
    }

    fn release(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::AcqRel);
    }

    fn take_large(&self, client: IpAddr) -> bool {
        let mut large = self.large.lock().unwrap_or_else(PoisonError::into_inner);
        let count = large.entry(client).or_insert(0);
        if *count >= self.large_per_client {
            return false;
        }
        *count += 1;
        true
    }

    fn give_large(&self, client: IpAddr) {
        let mut large = self.large.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = large.get_mut(&client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                large.remove(&client);
            }
        }
    }
}

/// What one body holds of the budget: bytes, and perhaps its client's large-body slot.
/// Given back when the read ends, however it ends.
struct Reservation {
    budget: Arc<BodyBudget>,
    client: Option<IpAddr>,
    bytes: usize,
    large: bool,
}

impl Reservation {
    /// Grows the reservation to `total` bytes: 429 when the client already sends its
    /// share of large bodies, 503 `busy` when the budget is spent.
    fn grow_to(&mut self, total: usize) -> Result<(), ApiError> {
        if total > LARGE_BODY && !self.large {
            if let Some(client) = self.client {
                if !self.budget.take_large(client) {
                    tracing::debug!(%client, "too many large bodies from one client");
                    return Err(ApiError::RateLimited {
                        retry_after: LARGE_RETRY_AFTER_SECS,
                    });
                }
                self.large = true;
            }
        }
        if total > self.bytes {
            if !self.budget.reserve(total - self.bytes) {
                tracing::debug!(bytes = total, "unverified body budget spent");
                return Err(ApiError::Busy);
            }
            self.bytes = total;
        }
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
        if let (true, Some(client)) = (self.large, self.client) {
            self.budget.give_large(client);
        }
    }
}

/// An intake request's body, with the budget it is read under and the client's IP
/// (both set per request by the server; absent, the body is read unbudgeted).
pub struct IntakeBody {
    body: Body,
    budget: Option<Arc<BodyBudget>>,
    client: Option<IpAddr>,
}

impl IntakeBody {
    /// The sender is already authenticated: its body is not charged to the budget for
    /// unverified bodies.
    pub fn authenticated(mut self) -> IntakeBody {
        self.budget = None;
        self
    }
}

impl<S: Send + Sync> FromRequest<S> for IntakeBody {
    type Rejection = Infallible;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let extensions = request.extensions();
        let client = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let budget = extensions.get::<Arc<BodyBudget>>().cloned();
        Ok(IntakeBody {
            body: request.into_body(),
            budget,
            client,
        })
    }
}

/// Reads the whole body, or fails with 413 as soon as it exceeds `limit`, 503 `busy` or
/// 429 when the budget for unverified bodies refuses it (reading nothing more), 408 when
/// it does not arrive in time. The bytes are copied once, into the returned `Vec`.
pub async fn read_limited(
    headers: &HeaderMap,
    body: IntakeBody,
    limit: usize,
) -> Result<Vec<u8>, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut reservation = body.budget.map(|budget| Reservation {
        budget,
        client: body.client,
        bytes: 0,
        large: false,
    });
    if let (Some(reservation), Some(declared)) = (&mut reservation, declared) {
        // Below `limit`, so it fits in a usize.
        reservation.grow_to(declared as usize)?;
    }
    let reserve = declared.map_or(0, |n| (n as usize).min(RESERVE_MAX));
    let mut raw = Vec::with_capacity(reserve);
    let mut body = body.body;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(read_error)?;
        if let Ok(data) = frame.into_data() {
            let total = raw.len() + data.len();
            if total > limit {
                return Err(ApiError::PayloadTooLarge { limit });
            }
            if let Some(reservation) = &mut reservation {
                reservation.grow_to(total)?;
            }
            raw.extend_from_slice(&data);
        }
    }
    Ok(raw)
}

pub(crate) fn read_error(error: axum::Error) -> ApiError {
    match error.into_inner().downcast::<BodyTimedOut>() {
        Ok(timed_out) => ApiError::BodyTimeout { ms: timed_out.ms },
        Err(error) => ApiError::MalformedBody(format!("the body could not be read: {error}")),
    }
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
