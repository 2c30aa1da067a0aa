//! Heartbeats in: WakaTime's bulk and single endpoints (answered per item, one entry per
//! heartbeat, in order, so clients re-queue only what failed) and the Kodo-style GET.
//! Every heartbeat is acknowledged only once durably stored; a resend is stored once.

use std::time::Instant;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::heartbeat::{self, Heartbeat, Stored};
use crate::http::body;
use crate::http::error::ApiError;
use crate::http::query::ApiQuery;
use crate::http::{AppState, Seen};
use crate::model::Stored as Outcome;

/// Most heartbeats one bulk request may carry (WakaTime clients send at most 25).
pub const MAX_BULK: usize = 1000;

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KeyParams {
    /// The key, for clients that cannot set `Authorization`.
    api_key: Option<String>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KodoParams {
    /// The heartbeat: base64 of `{"application", "elapsed", "epoch", "identifier",
    /// "language", "type", "workspace"}`.
    event: Option<String>,
    /// The key, for clients that cannot set `Authorization`.
    api_key: Option<String>,
}

/// The sender: a live heartbeats key, and the user it is bound to.
struct Sender {
    key_id: String,
    user: String,
}

async fn sender(
    state: &AppState,
    headers: &HeaderMap,
    query_key: Option<&str>,
    path_user: Option<&str>,
) -> Result<Sender, ApiError> {
    let presented = super::keys::presented(headers, query_key)?;
    let key_id = super::keys::check(state.store.as_ref(), &presented).await?;
    let user = state
        .heartbeats
        .user_of(state.store.as_ref(), &key_id)
        .await?;
    if let Some(named) = path_user.filter(|u| *u != "current" && *u != user) {
        return Err(ApiError::UserMismatch {
            key_user: user,
            user: named.to_owned(),
        });
    }
    Ok(Sender { key_id, user })
}

/// `POST …/users/{user}/heartbeats.bulk`: a JSON array of heartbeats.
#[utoipa::path(post, path = "/api/v1/users/{user}/heartbeats.bulk", tag = "heartbeats", operation_id = "heartbeats_bulk",
    params(("user" = String, Path, description = "`current`, or the key's user"), KeyParams,
        ("Authorization" = String, Header, description = "`Basic base64(key)`, `Bearer <key>` or the bare key")),
    request_body(content = Vec<Object>, description = "WakaTime heartbeats"),
    responses(
        (status = 202, description = "one `[body, status]` entry per heartbeat, in order: 201 stored, 400 refused with the reason"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 413, body = crate::http::error::ErrorBody),
        (status = 503, body = crate::http::error::ErrorBody),
    ))]
pub async fn bulk_for(
    state: State<AppState>,
    Path(user): Path<String>,
    query: ApiQuery<KeyParams>,
    headers: HeaderMap,
    body: body::IntakeBody,
) -> Response {
    receive(state, Some(user), query, headers, body, true).await
}

/// `POST …/heartbeats.bulk`, for clients whose `api_url` names no user.
pub async fn bulk(
    state: State<AppState>,
    query: ApiQuery<KeyParams>,
    headers: HeaderMap,
    body: body::IntakeBody,
) -> Response {
    receive(state, None, query, headers, body, true).await
}

/// `POST …/users/{user}/heartbeats`: one heartbeat (an array is taken as a bulk).
#[utoipa::path(post, path = "/api/v1/users/{user}/heartbeats", tag = "heartbeats", operation_id = "heartbeats_single",
    params(("user" = String, Path, description = "`current`, or the key's user"), KeyParams,
        ("Authorization" = String, Header, description = "`Basic base64(key)`, `Bearer <key>` or the bare key")),
    request_body(content = Object, description = "one WakaTime heartbeat"),
    responses(
        (status = 201, description = "stored: `{\"data\": {...}}`"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody), (status = 503, body = crate::http::error::ErrorBody),
    ))]
pub async fn single_for(
    state: State<AppState>,
    Path(user): Path<String>,
    query: ApiQuery<KeyParams>,
    headers: HeaderMap,
    body: body::IntakeBody,
) -> Response {
    receive(state, Some(user), query, headers, body, false).await
}

/// `POST …/heartbeats`, for clients whose `api_url` names no user.
pub async fn single(
    state: State<AppState>,
    query: ApiQuery<KeyParams>,
    headers: HeaderMap,
    body: body::IntakeBody,
) -> Response {
    receive(state, None, query, headers, body, false).await
}

async fn receive(
    State(state): State<AppState>,
    user: Option<String>,
    ApiQuery(params): ApiQuery<KeyParams>,
    headers: HeaderMap,
    body: body::IntakeBody,
    bulk: bool,
) -> Response {
    let started = Instant::now();
    let received_at = chrono::Utc::now().timestamp_millis();
    let mut seen = Seen::default();
    let result = async {
        let sender = sender(&state, &headers, params.api_key.as_deref(), user.as_deref()).await?;
        let raw = body::read_limited(
            &headers,
            body.authenticated(),
            state.config.limits.max_body_bytes,
        )
        .await?;
        seen.size = raw.len();
        seen.verified = true;
        seen.event = Some("heartbeat".into());
        let (items, was_array) = items(&raw)?;
        let answers = store_items(&state, &sender, &headers, items, received_at).await?;
        Ok::<_, ApiError>((answers, was_array))
    }
    .await;
    match result {
        Ok((answers, was_array)) => {
            state.metrics.ack(super::SOURCE, started.elapsed());
            if bulk || was_array {
                let responses: Vec<Value> = answers
                    .into_iter()
                    .map(|a| match a {
                        Ok(data) => json!([{"data": data}, 201]),
                        Err(reason) => json!([{"error": reason}, 400]),
                    })
                    .collect();
                (
                    StatusCode::ACCEPTED,
                    Json(json!({ "responses": responses })),
                )
                    .into_response()
            } else {
                match answers.into_iter().next() {
                    Some(Ok(data)) => {
                        (StatusCode::CREATED, Json(json!({ "data": data }))).into_response()
                    }
                    Some(Err(reason)) => ApiError::InvalidHeartbeat(reason).into_response(),
                    None => ApiError::MalformedBody("no heartbeat".into()).into_response(),
                }
            }
        }
        Err(error) => {
            state.reject(super::SOURCE, received_at, seen, &error);
            error.into_response()
        }
    }
}

/// The body's heartbeats, and whether it was an array.
fn items(raw: &[u8]) -> Result<(Vec<Box<RawValue>>, bool), ApiError> {
    let value: Box<RawValue> = serde_json::from_slice(raw)
        .map_err(|e| ApiError::MalformedBody(format!("not JSON: {e}")))?;
    if value.get().trim_start().starts_with('[') {
        let items: Vec<Box<RawValue>> = serde_json::from_str(value.get())
            .map_err(|e| ApiError::MalformedBody(e.to_string()))?;
        if items.len() > MAX_BULK {
            return Err(ApiError::TooManyHeartbeats {
                got: items.len(),
                max: MAX_BULK,
            });
        }
        Ok((items, true))
    } else {
        Ok((vec![value], false))
    }
}

/// Why a heartbeat's time is refused: too old or too far in the future.
fn check_time(state: &AppState, hb: &Heartbeat, now: i64) -> Result<(), String> {
    let config = &state.config.heartbeats;
    let oldest = now - i64::from(config.max_age_days) * 86_400_000;
    let latest = now + i64::from(config.max_future_seconds) * 1000;
    if hb.time_ms < oldest {
        return Err(format!(
            "`time` is older than the maximum age of {} days (heartbeats.max_age_days)",
            config.max_age_days
        ));
    }
    if hb.time_ms > latest {
        return Err(format!(
            "`time` is more than {} s in the future (heartbeats.max_future_seconds)",
            config.max_future_seconds
        ));
    }
    Ok(())
}

/// The answer for one stored heartbeat, in WakaTime's shape.
fn data(hb: &Heartbeat) -> Value {
    json!({
        "id": hb.dedup_key(),
        "entity": hb.entity,
        "type": hb.kind,
        "category": hb.category,
        "time": hb.time_ms as f64 / 1000.0,
        "project": hb.project,
        "branch": hb.branch,
        "language": hb.language,
        "is_write": hb.is_write,
        "user_id": hb.user,
    })
}

/// Decodes, checks and stores each item; each answer is the stored heartbeat or why not.
#[tracing::instrument(name = "heartbeats", skip_all, fields(user = %sender.user, key = %sender.key_id, items = items.len()))]
async fn store_items(
    state: &AppState,
    sender: &Sender,
    headers: &HeaderMap,
    items: Vec<Box<RawValue>>,
    received_at: i64,
) -> Result<Vec<Result<Value, String>>, ApiError> {
    let machine = body::header(headers, "x-machine-name")?.map(str::to_owned);
    let user_agent = body::header(headers, "user-agent")?.map(str::to_owned);
    let zone = body::header(headers, "timezone")?.map(str::to_owned);
    let mut answers = Vec::with_capacity(items.len());
    let mut envelopes = Vec::new();
    for item in items {
        let stored = Stored {
            user: sender.user.clone(),
            machine: machine.clone(),
            user_agent: user_agent.clone(),
            timezone: zone.clone(),
            heartbeat: Some(item),
            kodo: None,
        };
        let decoded = stored
            .decode()
            .and_then(|hb| check_time(state, &hb, received_at).map(|()| hb));
        match decoded {
            Ok(hb) => {
                envelopes.push(heartbeat::envelope(&stored, &hb, received_at));
                answers.push(Ok(data(&hb)));
            }
            Err(reason) => answers.push(Err(reason)),
        }
    }
    commit(state, sender, envelopes, zone.as_deref()).await?;
    Ok(answers)
}

async fn commit(
    state: &AppState,
    sender: &Sender,
    envelopes: Vec<crate::model::Envelope>,
    zone: Option<&str>,
) -> Result<(), ApiError> {
    if envelopes.is_empty() {
        return Ok(());
    }
    state
        .rate_limits
        .check(super::SOURCE, &sender.key_id)
        .map_err(|retry_after| ApiError::RateLimited { retry_after })?;
    let outcomes = state.intake.submit_many(envelopes).await?;
    for outcome in outcomes {
        let label = match outcome {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
        };
        state.metrics.delivery(super::SOURCE, "heartbeat", label);
    }
    if let Some(zone) = zone {
        state
            .heartbeats
            .observe_zone(
                state.store.as_ref(),
                &state.config.heartbeats,
                &sender.user,
                zone,
            )
            .await?;
    }
    Ok(())
}

/// `GET /api/v1/heartbeats?event=<base64 JSON>`: a Kodo-style heartbeat that carries
/// its own `elapsed` time. Answers 204 once stored.
#[utoipa::path(get, path = "/api/v1/heartbeats", tag = "heartbeats", operation_id = "kodo_heartbeat",
    params(KodoParams,
        ("Authorization" = Option<String>, Header, description = "the key (bare, `Bearer` or `Basic`), or use `api_key`")),
    responses(
        (status = 204, description = "stored"),
        (status = 400, body = crate::http::error::ErrorBody), (status = 401, body = crate::http::error::ErrorBody),
        (status = 503, body = crate::http::error::ErrorBody),
    ))]
pub async fn kodo(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<KodoParams>,
    headers: HeaderMap,
) -> Response {
    let received_at = chrono::Utc::now().timestamp_millis();
    let mut seen = Seen {
        event: Some("kodo".into()),
        ..Seen::default()
    };
    let result = async {
        let sender = sender(&state, &headers, params.api_key.as_deref(), None).await?;
        seen.verified = true;
        let event = params.event.as_deref().ok_or_else(|| {
            ApiError::invalid_query("event", "required: the heartbeat as base64-encoded JSON")
        })?;
        let bytes = decode_base64(event)
            .ok_or_else(|| ApiError::invalid_query("event", "is not base64"))?;
        seen.size = bytes.len();
        let kodo = serde_json::from_slice::<Box<RawValue>>(&bytes)
            .map_err(|e| ApiError::invalid_query("event", format!("is not JSON: {e}")))?;
        let stored = Stored {
            user: sender.user.clone(),
            machine: body::header(&headers, "x-machine-name")?.map(str::to_owned),
            user_agent: None,
            timezone: None,
            heartbeat: None,
            kodo: Some(kodo),
        };
        let hb = stored
            .decode()
            .and_then(|hb| check_time(&state, &hb, received_at).map(|()| hb))
            .map_err(ApiError::InvalidHeartbeat)?;
        let envelope = heartbeat::envelope(&stored, &hb, received_at);
        commit(&state, &sender, vec![envelope], None).await
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(error) => {
            state.reject(super::SOURCE, received_at, seen, &error);
            error.into_response()
        }
    }
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let text = text.trim();
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|engine| engine.decode(text).ok())
}
