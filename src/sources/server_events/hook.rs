//! `POST /hooks/{source}`: the generic door of the server-events source, for any
//! configured source, authenticated as Standard Webhooks (signed, timestamped,
//! deduplicated on `webhook-id`) or with an API key of that one source. Stored raw
//! (JSON, or text as sent), acknowledged after commit.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::http::body;
use crate::http::error::ApiError;
use crate::http::{Ack, AppState, Seen};
use crate::model::{ContentType, Envelope};
use crate::store::Store;
use crate::verify::api_key::{ApiKeyVerifier, Carrier};
use crate::verify::standard::StandardWebhooks;
use crate::verify::{Request, Verified, Verifier};

/// Receives one event from a configured server source.
#[utoipa::path(post, path = "/hooks/{source}", tag = "hooks", operation_id = "receive_source",
    params(
        ("source" = String, Path, description = "a source configured in `sources`"),
        ("webhook-id" = Option<String>, Header, nullable = false, min_length = 1, max_length = 1024,
            description = "Standard Webhooks message id, the dedup key: any string of 1 to 1024 bytes. \
Required when the source uses Standard Webhooks (`auth = \"standard-webhooks\"`); not used by api-key sources."),
        ("webhook-timestamp" = Option<String>, Header, nullable = false, pattern = "^[0-9]+$",
            description = "Standard Webhooks Unix timestamp in seconds. \
Required when the source uses Standard Webhooks; not used by api-key sources."),
        ("webhook-signature" = Option<String>, Header, nullable = false, min_length = 1,
            description = "`v1,<base64 signature>`, several separated by spaces. \
Required when the source uses Standard Webhooks; not used by api-key sources."),
        ("Authorization" = Option<String>, Header, nullable = false,
            description = "`Bearer <API key>`: required for api-key sources, not used by Standard Webhooks sources"),
        ("Idempotency-Key" = Option<String>, Header, nullable = false,
            description = "dedup key for api-key sources"),
    ),
    request_body(content = Object, description = "a JSON object (its `type` names the event), or UTF-8 text (`text/plain`, a `text` event) kept byte for byte", content_type = "application/json"),
    responses(
        (status = 200, body = crate::http::Ack),
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
    body: body::IntakeBody,
) -> Response {
    let started = Instant::now();
    let received_at = chrono::Utc::now().timestamp_millis();
    let sources = state.sources.clone();
    let Some(verifier) = sources.get(&source) else {
        // Not a configured source: nothing to log under, no metric label to mint.
        return ApiError::UnknownSource(source).into_response();
    };
    let mut seen = Seen::default();
    let result = ingest(
        &state,
        &source,
        verifier.as_ref(),
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
    verifier: &dyn Verifier,
    headers: &HeaderMap,
    body: body::IntakeBody,
    received_at: i64,
    seen: &mut Seen,
) -> Result<Ack, ApiError> {
    tracing::Span::current().record("source", source);
    let raw = body::read_limited(headers, body, state.config.limits.max_body_bytes).await?;
    seen.size = raw.len();

    let request = Request {
        headers,
        body: &raw,
        received_at,
    };
    let delivery_id = match verifier.verify(&request).await? {
        Verified::Signed => {
            let id = body::required_header(headers, "webhook-id")?;
            if !crate::verify::standard::id_is_acceptable(id) {
                return Err(ApiError::InvalidHeader {
                    name: "webhook-id",
                    reason: format!(
                        "longer than {} bytes",
                        crate::verify::standard::MAX_ID_BYTES
                    ),
                });
            }
            state
                .rate_limits
                .check(source, "")
                .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
            id.to_owned()
        }
        Verified::Key(key) => {
            state
                .rate_limits
                .check(source, &key.id)
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

    let (payload, content_type, event) = decode(headers, raw)?;
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
        content_type,
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

/// The body as the journal keeps it: a JSON object (its `type` names the event), or
/// UTF-8 text such as log lines, kept byte for byte as a `text` event.
fn decode(headers: &HeaderMap, raw: Vec<u8>) -> Result<(Vec<u8>, ContentType, String), ApiError> {
    let media = body::header(headers, "content-type")?
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase());
    if media.as_deref() == Some("text/plain") {
        let text = String::from_utf8(raw)
            .map_err(|_| ApiError::MalformedBody("a text/plain body must be UTF-8".into()))?;
        return Ok((text.into_bytes(), ContentType::Text, "text".to_owned()));
    }
    let kind = body::body_kind(headers, false).map_err(|e| match e {
        ApiError::UnsupportedMediaType { got, .. } => ApiError::UnsupportedMediaType {
            got,
            accepted: "application/json or text/plain",
        },
        other => other,
    })?;
    let payload = body::json_payload(kind, raw)?;
    let head: Head = serde_json::from_slice(&payload)
        .map_err(|e| ApiError::MalformedBody(format!("invalid JSON: {e}")))?;
    let event = match head.kind {
        Some(serde_json::Value::String(kind)) if !kind.is_empty() && kind.len() <= 128 => kind,
        _ => "event".to_owned(),
    };
    Ok((payload, ContentType::Json, event))
}

/// A random id for deliveries that carry none: such deliveries are never deduplicated.
fn generated_id() -> String {
    format!("gen-{:032x}", rand::random::<u128>())
}

/// The verifier a source's config names: Standard Webhooks with its secrets decoded,
/// or API keys (as `Bearer`) of this source only.
pub fn verifier(
    name: &str,
    config: &crate::sources::SourceConfig,
    store: &Arc<dyn Store>,
) -> Arc<dyn Verifier> {
    match config.auth {
        crate::sources::SourceAuth::StandardWebhooks => Arc::new(StandardWebhooks::new(
            config.secrets.iter(),
            config.tolerance_seconds,
        )),
        crate::sources::SourceAuth::ApiKey => Arc::new(ApiKeyVerifier::new(
            store.clone(),
            Carrier::Bearer,
            Some(name.to_owned()),
        )),
    }
}
