//! `POST /hooks/{source}`: events from configured server sources, authenticated either
//! as Standard Webhooks (signed, timestamped, deduplicated on `webhook-id`) or with an
//! API key bound to that one source. Stored raw, acknowledged after commit.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::body;
use super::error::ApiError;
use super::{Ack, AppState, Seen, SourceAuthState};
use crate::model::Envelope;
use crate::verify::{api_key, standard, AuthError};

/// Receives one event from a configured server source.
#[utoipa::path(post, path = "/hooks/{source}", tag = "hooks", operation_id = "receive_source",
    params(
        ("source" = String, Path, description = "a source configured in `sources`"),
        ("webhook-id" = Option<String>, Header, description = "Standard Webhooks message id (dedup key)"),
        ("webhook-timestamp" = Option<String>, Header, description = "Standard Webhooks Unix timestamp"),
        ("webhook-signature" = Option<String>, Header, description = "v1,<base64 signature> ..."),
        ("Authorization" = Option<String>, Header, description = "Bearer <API key> for api-key sources"),
        ("Idempotency-Key" = Option<String>, Header, description = "dedup key for api-key sources"),
    ),
    request_body(content = Object, description = "a JSON object; its `type` names the event", content_type = "application/json"),
    responses(
        (status = 200, body = super::Ack),
        (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 404, body = crate::http::error::ErrorBody),
        (status = 413, body = crate::http::error::ErrorBody), (status = 415, body = crate::http::error::ErrorBody),
        (status = 429, body = crate::http::error::ErrorBody),
        (status = 503, body = crate::http::error::ErrorBody),
    ))]
pub async fn receive(
    State(state): State<AppState>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let received_at = chrono::Utc::now().timestamp_millis();
    let sources = state.sources.clone();
    let Some(auth) = sources.get(&source) else {
        // Not a configured source: nothing to log under, no metric label to mint.
        return ApiError::UnknownSource(source).into_response();
    };
    let mut seen = Seen::default();
    let result = ingest(
        &state,
        &source,
        auth,
        &headers,
        body,
        received_at,
        &mut seen,
    )
    .await;
    state.finish(&source, started, received_at, seen, result)
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
}

#[tracing::instrument(name = "source_delivery", skip_all, fields(source, delivery_id))]
async fn ingest(
    state: &AppState,
    source: &str,
    auth: &SourceAuthState,
    headers: &HeaderMap,
    body: Body,
    received_at: i64,
    seen: &mut Seen,
) -> Result<Ack, ApiError> {
    tracing::Span::current().record("source", source);
    let raw = body::read_limited(headers, body, state.config.limits.max_body_bytes).await?;
    seen.size = raw.len();

    let delivery_id = match auth {
        SourceAuthState::StandardWebhooks { keys, tolerance } => {
            let signature = body::header(headers, "webhook-signature")?
                .filter(|s| !s.is_empty())
                .ok_or(AuthError::SignatureMissing)?;
            let id = body::required_header(headers, "webhook-id")?;
            let timestamp = body::required_header(headers, "webhook-timestamp")?;
            let now = received_at / 1000;
            standard::verify(
                keys,
                standard::Headers {
                    id,
                    timestamp,
                    signature,
                },
                &raw,
                now,
                *tolerance,
            )?;
            body::check_token("webhook-id", id, 128)?;
            state
                .rate_limits
                .check(source, "")
                .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
            id.to_owned()
        }
        SourceAuthState::ApiKey => {
            let key_id = check_api_key(state, source, headers).await?;
            state
                .rate_limits
                .check(source, &key_id)
                .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
            match body::header(headers, "idempotency-key")?
                .or(body::header(headers, "webhook-id")?)
                .filter(|v| !v.is_empty())
            {
                Some(id) => {
                    body::check_token("Idempotency-Key", id, 128)?;
                    id.to_owned()
                }
                None => generated_id(),
            }
        }
    };
    seen.verified = true;
    seen.delivery_id = Some(delivery_id.clone());
    tracing::Span::current().record("delivery_id", &delivery_id);

    let payload = body::json_payload(body::body_kind(headers, false)?, raw)?;
    let head: Head = serde_json::from_slice(&payload)
        .map_err(|e| ApiError::MalformedBody(format!("invalid JSON: {e}")))?;
    let event = match head.kind {
        Some(serde_json::Value::String(kind)) if !kind.is_empty() && kind.len() <= 128 => kind,
        _ => "event".to_owned(),
    };
    seen.event = Some(event.clone());

    let envelope = Envelope {
        source: source.to_owned(),
        kind: event.clone(),
        action: None,
        dedup_key: delivery_id.clone(),
        delivery_id: delivery_id.clone(),
        hook_id: None,
        received_at,
        size: seen.size,
        payload,
        writes: Vec::new(),
    };
    let status = state.intake.submit(envelope).await?;
    Ok(Ack {
        status,
        source: source.to_owned(),
        event,
        delivery_id,
        zen: None,
    })
}

/// Checks the bearer key against the store; returns the key's id.
async fn check_api_key(
    state: &AppState,
    source: &str,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    let token = body::header(headers, "authorization")?
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or(AuthError::KeyMissing)?;
    let (id, secret) = api_key::parse(token).ok_or(AuthError::KeyInvalid)?;
    let record = state
        .store
        .api_key(id)
        .await?
        .filter(|k| k.revoked_at.is_none())
        .ok_or(AuthError::KeyInvalid)?;
    if !api_key::matches(secret, &record.hash) {
        return Err(AuthError::KeyInvalid.into());
    }
    if record.source != source {
        return Err(AuthError::KeyWrongSource.into());
    }
    Ok(record.id)
}

/// A random id for deliveries that carry none: such deliveries are never deduplicated.
fn generated_id() -> String {
    format!("gen-{:032x}", rand::random::<u128>())
}

impl SourceAuthState {
    pub fn from_config(config: &crate::sources::SourceConfig) -> SourceAuthState {
        match config.auth {
            crate::sources::SourceAuth::StandardWebhooks => SourceAuthState::StandardWebhooks {
                keys: config
                    .secrets
                    .iter()
                    .filter_map(|s| standard::decode_secret(s).ok())
                    .collect(),
                tolerance: config.tolerance_seconds,
            },
            crate::sources::SourceAuth::ApiKey => SourceAuthState::ApiKey,
        }
    }
}
