//! Operational endpoints: liveness, readiness (store and intake), Prometheus metrics,
//! and the JSON 404 for unknown routes.

use axum::extract::State;
use axum::http::{header, StatusCode};
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
}

/// 200 when the store answers and intake is running; 503 otherwise.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, body = Readiness), (status = 503, body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store = state.store.ping().await.is_ok();
    let intake = state.intake.is_open();
    let ready = store && intake;
    let body = Readiness {
        status: if ready { "ready" } else { "not_ready" },
        store: if store { "ok" } else { "unavailable" },
        intake: if intake { "ok" } else { "stopped" },
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
