//! `POST /submit`: DCSS-style event submission. A key bound to one source (and to one
//! server, `src`) posts a JSON event, a list of them, or raw xlog lines as text; the
//! answer is an empty 204 once every event is durably stored.

use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::event::{self, DecodeError, ServerEvent};
use crate::http::body;
use crate::http::error::ApiError;
use crate::http::query::ApiQuery;
use crate::http::{AppState, Seen};
use crate::model::{Envelope, Stored};
use crate::sources::{SourceAuth, SourceConfig};
use crate::store::ApiKeyRecord;
use crate::verify::api_key::{ApiKeyVerifier, Carrier};
use crate::verify::Request;

/// The state document that binds a key to the one server it may submit for.
pub fn binding_key(key_id: &str) -> String {
    format!("key-src/{key_id}")
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubmitParams {
    /// For text/plain xlog lines: the events' type, when the lines do not show it
    /// (a `milestone` field makes a milestone, a `ktyp` field a game).
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Stores DCSS events: `{"type", "src", "data"}` (or a list of them), an xlog line as
/// `{"src", "xlog", "file"?, "offset"?}`, or xlog lines as `text/plain` with
/// `X-Xlog-File` and `X-Xlog-Offset`. Lines with a file and offset are stored once.
#[utoipa::path(post, path = "/submit", tag = "server-events", operation_id = "submit",
    params(
        SubmitParams,
        ("Authorization" = String, Header, description = "the key, bare or as `Bearer <key>`"),
        ("X-Xlog-File" = Option<String>, Header, description = "text/plain: the file the lines come from"),
        ("X-Xlog-Offset" = Option<u64>, Header, description = "text/plain: byte offset of the first line in that file"),
        ("X-Xlog-Src" = Option<String>, Header, description = "text/plain: the server; defaults to the key's"),
    ),
    request_body(content = Object, description = "a DCSS event, a list of them, or xlog lines (text/plain)"),
    responses(
        (status = 204, description = "every event is stored"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 413, body = crate::http::error::ErrorBody),
        (status = 415, body = crate::http::error::ErrorBody), (status = 429, body = crate::http::error::ErrorBody),
        (status = 503, body = crate::http::error::ErrorBody),
    ))]
pub async fn submit(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<SubmitParams>,
    headers: HeaderMap,
    body: body::IntakeBody,
) -> Response {
    let started = Instant::now();
    let received_at = chrono::Utc::now().timestamp_millis();
    let mut seen = Seen::default();
    let key = match authenticate(&state, &headers).await {
        Ok(key) => key,
        Err(error) => {
            state.reject("submit", received_at, seen, &error);
            return error.into_response();
        }
    };
    let source = key.source.clone();
    match ingest(&state, &key, params, &headers, body, received_at, &mut seen).await {
        Ok(stored) => {
            for (kind, outcome) in &stored {
                state.metrics.delivery(&source, kind, outcome.as_str());
            }
            state.metrics.ack(&source, started.elapsed());
            StatusCode::NO_CONTENT.into_response()
        }
        Err(error) => {
            state.reject(&source, received_at, seen, &error);
            error.into_response()
        }
    }
}

#[tracing::instrument(name = "submit", skip_all, fields(source = %key.source, key = %key.id))]
async fn ingest(
    state: &AppState,
    key: &ApiKeyRecord,
    params: SubmitParams,
    headers: &HeaderMap,
    body: body::IntakeBody,
    received_at: i64,
    seen: &mut Seen,
) -> Result<Vec<(String, Stored)>, ApiError> {
    let source = key.source.as_str();
    let config = state
        .config
        .sources
        .get(source)
        .filter(|s| s.auth == SourceAuth::ApiKey)
        .ok_or_else(|| ApiError::UnknownSource(source.to_owned()))?;
    state
        .rate_limits
        .check(source, &key.id)
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let bound = bound_src(state, &key.id).await?;
    // Its key is checked already: the body is not charged to the unverified budget.
    let body = body.authenticated();
    let raw = body::read_limited(headers, body, state.config.limits.max_body_bytes).await?;
    seen.size = raw.len();
    seen.verified = true;
    let events = decode(headers, &raw, params.kind.as_deref(), bound.as_deref())?;
    for event in &events {
        check_src(source, config, bound.as_deref(), &event.src)?;
    }
    seen.event = events.first().map(|e| e.kind.clone());
    let size = raw.len() / events.len();
    let kinds: Vec<String> = events.iter().map(|e| e.kind.clone()).collect();
    let envelopes: Vec<Envelope> = events
        .into_iter()
        .map(|e| e.into_envelope(source, received_at, size))
        .collect();
    let outcomes = state.intake.submit_many(envelopes).await?;
    Ok(kinds.into_iter().zip(outcomes).collect())
}

/// The key from `Authorization`, bare (as DCSS servers send it) or as `Bearer`.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<ApiKeyRecord, ApiError> {
    let verifier = ApiKeyVerifier::new(state.store.clone(), Carrier::BearerOrBare, None);
    let request = Request {
        headers,
        body: &[],
        received_at: 0,
    };
    Ok(verifier.key(&request).await?)
}

/// The server a key is bound to (`reckon keys add --src`), if any. A binding never
/// changes once made, so it is read once (a revoked key fails its lookup before this).
async fn bound_src(state: &AppState, key_id: &str) -> Result<Option<String>, ApiError> {
    if let Some(bound) = state.key_bindings.get(key_id) {
        return Ok(bound);
    }
    let doc = state.store.state(&binding_key(key_id)).await?;
    let bound = doc.and_then(|d| d["src"].as_str().map(str::to_owned));
    state.key_bindings.put(key_id, bound.clone());
    Ok(bound)
}

fn decode(
    headers: &HeaderMap,
    raw: &[u8],
    kind: Option<&str>,
    bound: Option<&str>,
) -> Result<Vec<ServerEvent>, ApiError> {
    let media = body::header(headers, "content-type")?.map(|v| {
        v.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    });
    let decoded = match media.as_deref() {
        None | Some("application/json") => event::decode_json(raw, bound),
        Some("text/plain") => {
            let src = body::header(headers, "x-xlog-src")?
                .or(bound)
                .ok_or(ApiError::MissingHeader("X-Xlog-Src"))?;
            let file = body::header(headers, "x-xlog-file")?;
            let offset = body::header(headers, "x-xlog-offset")?
                .map(|v| {
                    v.trim()
                        .parse::<u64>()
                        .map_err(|_| ApiError::InvalidHeader {
                            name: "X-Xlog-Offset",
                            reason: "expected a byte offset (a whole number)".into(),
                        })
                })
                .transpose()?;
            let place = match (file, offset) {
                (Some(file), Some(offset)) => Some((file, offset)),
                (None, None) => None,
                (None, Some(_)) => return Err(ApiError::MissingHeader("X-Xlog-File")),
                (Some(_), None) => return Err(ApiError::MissingHeader("X-Xlog-Offset")),
            };
            event::decode_lines(raw, kind, src, place)
        }
        // curl's default: the body is still the JSON the DCSS design takes.
        Some("application/x-www-form-urlencoded") => event::decode_json(raw, bound),
        Some(_) => {
            return Err(ApiError::UnsupportedMediaType {
                got: body::header(headers, "content-type")?
                    .unwrap_or_default()
                    .to_owned(),
                accepted: "application/json (events) or text/plain (xlog lines)",
            })
        }
    };
    decoded.map_err(|e| match e {
        DecodeError::Event { position, reason } => ApiError::InvalidEvent { position, reason },
        DecodeError::Xlog { line, reason } => ApiError::MalformedXlog { line, reason },
    })
}

/// A key bound to a server submits only for it; a source with `srcs` takes only those.
fn check_src(
    source: &str,
    config: &SourceConfig,
    bound: Option<&str>,
    src: &str,
) -> Result<(), ApiError> {
    if let Some(bound) = bound {
        if bound != src {
            return Err(ApiError::SrcMismatch {
                key_src: bound.to_owned(),
                src: src.to_owned(),
            });
        }
    }
    if !config.srcs.is_empty() && !config.srcs.iter().any(|s| s == src) {
        return Err(ApiError::UnknownSrc {
            source_name: source.to_owned(),
            src: src.to_owned(),
        });
    }
    Ok(())
}
