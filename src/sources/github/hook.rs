//! `POST /hooks/github`: GitHub's headers exactly as GitHub sends them, the signature
//! checked over the raw bytes before anything is parsed, then one durable commit before
//! the 2xx. Every event type is stored; the projected ones also update entities.

use std::time::Instant;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::error::Category;

use crate::http::body;
use crate::http::error::ApiError;
use crate::http::{Ack, AppState, Seen};
use crate::model::Envelope;
use crate::sources::github::payload::Payload;
use crate::verify::Request;

pub use crate::sources::github::SOURCE;

/// Receives one GitHub webhook delivery (JSON or `payload=` form body).
#[utoipa::path(post, path = "/hooks/github", tag = "hooks", operation_id = "receive_github",
    params(
        ("X-GitHub-Event" = String, Header, description = "event type"),
        ("X-GitHub-Delivery" = String, Header, description = "delivery GUID"),
        ("X-GitHub-Hook-ID" = Option<String>, Header, description = "hook id; part of the dedup key"),
        ("X-Hub-Signature-256" = String, Header, description = "sha256=<hex HMAC of the raw body>"),
    ),
    request_body(content = Object, description = "the webhook payload", content_type = "application/json"),
    responses(
        (status = 200, body = crate::http::Ack, description = "stored (or a duplicate of a stored delivery)"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody),
        (status = 413, body = crate::http::error::ErrorBody), (status = 415, body = crate::http::error::ErrorBody),
        (status = 429, body = crate::http::error::ErrorBody),
        (status = 503, body = crate::http::error::ErrorBody),
    ))]
pub async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: body::IntakeBody,
) -> Response {
    let started = Instant::now();
    let received_at = chrono::Utc::now().timestamp_millis();
    let mut seen = Seen::default();
    let result = ingest(&state, &headers, body, received_at, &mut seen).await;
    state.finish(SOURCE, started, received_at, seen, result)
}

#[tracing::instrument(name = "github_delivery", skip_all, fields(event, delivery_id))]
async fn ingest(
    state: &AppState,
    headers: &HeaderMap,
    body: body::IntakeBody,
    received_at: i64,
    seen: &mut Seen,
) -> Result<Ack, ApiError> {
    // What the request claims, for the delivery log should it be rejected.
    let claimed = |name| {
        let value = headers.get(name)?.to_str().ok()?;
        Some(value.chars().take(128).collect::<String>())
    };
    seen.event = claimed("x-github-event");
    seen.delivery_id = claimed("x-github-delivery");
    seen.hook_id = claimed("x-github-hook-id");
    let raw = body::read_limited(headers, body, state.config.limits.max_body_bytes).await?;
    seen.size = raw.len();

    let request = Request {
        headers,
        body: &raw,
        received_at,
    };
    state.github_verifier.verify(&request).await?;
    seen.verified = true;
    state
        .rate_limits
        .check(SOURCE, "")
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;

    let event = body::required_header(headers, "x-github-event")?;
    body::check_token("X-GitHub-Event", event, 64)?;
    let delivery_id = body::required_header(headers, "x-github-delivery")?;
    body::check_token("X-GitHub-Delivery", delivery_id, 128)?;
    let hook_id = body::header(headers, "x-github-hook-id")?.filter(|h| !h.is_empty());
    if let Some(hook_id) = hook_id {
        body::check_token("X-GitHub-Hook-ID", hook_id, 64)?;
    }
    tracing::Span::current()
        .record("event", event)
        .record("delivery_id", delivery_id);

    let kind = body::body_kind(headers, true)?;
    let payload = body::json_payload(kind, raw)?;
    let (payload, decoded) = if payload.len() > LARGE_PAYLOAD {
        tokio::task::spawn_blocking(move || {
            let decoded = decode(&payload);
            (payload, decoded)
        })
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
    } else {
        let decoded = decode(&payload);
        (payload, decoded)
    };
    let decoded = match decoded {
        Ok(decoded) => Some(decoded),
        Err(Undecodable::Malformed(e)) => return Err(e),
        Err(Undecodable::Shape(e)) => {
            // Valid JSON of an unexpected shape: store it raw, project nothing.
            tracing::warn!(error = %e, "payload stored without projection");
            state.metrics.projection_failed();
            None
        }
    };
    let action = decoded.as_ref().and_then(|p| p.action.clone());
    seen.action = action.clone();
    let writes = decoded
        .as_ref()
        .map(|p| crate::sources::github::project(event, p, received_at))
        .unwrap_or_default();
    let zen = decoded.as_ref().and_then(|p| p.zen.clone());

    let envelope = Envelope {
        source: SOURCE.to_owned(),
        kind: event.to_owned(),
        action,
        delivery_id: delivery_id.to_owned(),
        hook_id: hook_id.map(str::to_owned),
        dedup_key: format!("{}:{delivery_id}", hook_id.unwrap_or_default()),
        received_at,
        size: seen.size,
        payload,
        content_type: crate::model::ContentType::Json,
        writes,
    };
    let status = state.intake.submit(envelope).await?;
    tracing::debug!(status = status.as_str(), "delivery committed");
    Ok(Ack {
        status,
        source: SOURCE.to_owned(),
        event: event.to_owned(),
        delivery_id: delivery_id.to_owned(),
        zen,
    })
}

/// Payloads above this size are decoded on the blocking pool, not on an async worker.
const LARGE_PAYLOAD: usize = 1024 * 1024;

enum Undecodable {
    /// Not JSON at all: the delivery is refused.
    Malformed(ApiError),
    /// JSON, but not shaped like the GitHub payloads Reckon projects: stored raw.
    Shape(serde_json::Error),
}

fn decode(payload: &[u8]) -> Result<Payload, Undecodable> {
    match serde_json::from_slice::<Payload>(payload) {
        Ok(decoded) => Ok(decoded),
        Err(e) if matches!(e.classify(), Category::Syntax | Category::Eof) => Err(
            Undecodable::Malformed(ApiError::MalformedBody(format!("invalid JSON: {e}"))),
        ),
        Err(e) => match body::check_json(payload) {
            Ok(()) => Err(Undecodable::Shape(e)),
            Err(malformed) => Err(Undecodable::Malformed(malformed)),
        },
    }
}
