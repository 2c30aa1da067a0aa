//! The heartbeats source: coding time from editor heartbeats. WakaTime clients post
//! them unmodified (bulk or single, under `/api/v1` or `/api/compat/wakatime/v1`),
//! Kodo-style clients send one per GET; reads answer in WakaTime's and Kodo's shapes.

pub mod config;
pub mod durations;
pub mod heartbeat;
pub mod ingest;
pub mod keys;
pub mod read;
pub mod store;
pub mod summary;
pub mod users;

use axum::routing::{get, post};
use axum::Router;

pub use self::config::HeartbeatsConfig;
use crate::access::{guard, Policy};
use crate::http::AppState;

/// The source name heartbeats are journaled under, and their keys are issued for.
pub const SOURCE: &str = "heartbeats";

/// Where WakaTime clients may be pointed (`api_url`): Reckon's API and Wakapi's
/// compatibility prefix.
const PREFIXES: [&str; 2] = ["/api/v1", "/api/compat/wakatime/v1"];

/// Whether a stored event is a heartbeat.
pub fn owns(source: &str) -> bool {
    source == SOURCE
}

/// Heartbeats in, authenticated by key: WakaTime's paths under both prefixes, and the
/// Kodo-style GET.
pub fn intake_routes() -> Router<AppState> {
    let mut routes = Router::new();
    for prefix in PREFIXES {
        routes = routes
            .route(
                &format!("{prefix}/users/{{user}}/heartbeats.bulk"),
                post(ingest::bulk_for),
            )
            .route(
                &format!("{prefix}/users/{{user}}/heartbeats"),
                post(ingest::single_for),
            )
            .route(&format!("{prefix}/heartbeats.bulk"), post(ingest::bulk))
            // The legacy client (13.1.0) posts its bulk to `api_url` verbatim.
            .route(prefix, post(ingest::bulk));
    }
    routes
        .route("/api/v1/heartbeats", get(ingest::kodo).post(ingest::single))
        .route("/api/compat/wakatime/v1/heartbeats", post(ingest::single))
}

/// Coding time out, under `prefix`.
fn reads(prefix: &str) -> Router<AppState> {
    Router::new()
        .route(
            &format!("{prefix}/users/{{user}}/statusbar/today"),
            get(read::statusbar),
        )
        .route(
            &format!("{prefix}/users/{{user}}/summaries"),
            get(read::summaries),
        )
        .route(
            &format!("{prefix}/users/{{user}}/stats/{{range}}"),
            get(read::stats),
        )
}

/// The WakaTime-compatible reads under `/api/compat/wakatime/v1`, at the root.
pub fn routes() -> Router<AppState> {
    guard(Policy::Listed, reads(PREFIXES[1]))
}

/// The reads under `/api/v1` (the router nests these there).
pub fn api_routes() -> Router<AppState> {
    guard(
        Policy::Listed,
        reads("")
            .route("/heartbeats/users", get(read::users))
            .route("/users/{user}/kodo/stats", get(read::kodo_stats))
            .route("/users/{user}/kodo/stats/daily", get(read::kodo_daily)),
    )
}

/// This source's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(ingest::bulk_for, ingest::single_for, ingest::kodo, read::statusbar, read::summaries,
        read::stats, read::users, read::kodo_stats, read::kodo_daily),
    tags((name = "heartbeats", description = "Coding time from editor heartbeats: WakaTime clients unmodified, or a base64 JSON GET")),
)]
pub struct ApiDoc;
