//! Operational endpoints: liveness, readiness (store, intake and its last commit),
//! Prometheus metrics, the JSON 404 for unknown routes, and the layer that gives every
//! bodiless error answer (405 above all) a JSON body.

use axum::extract::State;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::ApiError;
use super::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

/// 200 while the process is serving.
#[utoipa::path(get, path = "/healthz", tag = "ops", responses((status = 200, body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health { status: "ok" })
}

#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready` or `not_ready`.
    status: &'static str,
    /// `ok`, or `unavailable`.
    store: &'static str,
    /// `ok`, or `stopped` once shutdown began.
    intake: &'static str,
    /// `ok`, or `failing` while the last commit failed (a full disk, say) and none has
    /// succeeded since.
    commits: &'static str,
    /// Why the server is not ready; absent when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

/// 200 when the store answers, intake is running and its last commit succeeded; 503
/// otherwise, with the reason.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.store.ping().await.is_ok();
    let intake = state.intake.is_open();
    let commits = !state.intake.is_failing();
    let reason = if !store {
        Some("the store does not answer")
    } else if !intake {
        Some("intake has stopped (shutting down)")
    } else if !commits {
        Some("the last commit failed and none has succeeded since")
    } else {
        None
    };
    let ready = reason.is_none();
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        store: if store { "ok" } else { "unavailable" },
        intake: if intake { "ok" } else { "stopped" },
        commits: if commits { "ok" } else { "failing" },
        reason,
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let size = state.store.size_bytes().await?;
    if let Some(queue) = &state.queue {
        if let Ok(counts) = queue.counts().await {
            state.metrics.queue(&counts);
        }
    }
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(size),
    )
        .into_response())
}

/// What an unknown path answers, and what a reader sees of a path it may not read.
pub const NO_SUCH_ENDPOINT: &str = "no such endpoint; see /api/v1/openapi.json";

pub async fn not_found() -> ApiError {
    ApiError::NotFound(NO_SUCH_ENDPOINT.into())
}

/// Gives an error answer that has no body (axum's 405, say) the JSON error body, keeping
/// its headers (`Allow`). Answers with a body of their own pass untouched.
pub async fn json_errors(method: Method, response: Response) -> Response {
    use axum::body::HttpBody;
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    if !is_error
        || response.body().size_hint().exact() != Some(0)
        || response.headers().contains_key(header::CONTENT_TYPE)
    {
        return response;
    }
    let (parts, _) = response.into_parts();
    let error = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed {
            method: method.to_string(),
            allow: parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned(),
        },
        StatusCode::NOT_FOUND => ApiError::NotFound(NO_SUCH_ENDPOINT.into()),
        _ => ApiError::Status {
            status,
            code: if status.is_server_error() {
                "internal"
            } else {
                "bad_request"
            },
            message: status
                .canonical_reason()
                .unwrap_or("request failed")
                .to_owned(),
        },
    };
    let mut answer = error.into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            answer.headers_mut().append(name, value.clone());
        }
    }
    answer
}
