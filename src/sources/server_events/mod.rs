//! The server-events source: game and CI servers that post event feeds. It takes
//! DCSS-style `POST /submit` events and raw xlog lines from keys bound to one server,
//! serves them by day (`GET /events?ts_day=`) and by cursor, and keeps their stats.

pub mod bindings;
pub mod event;
pub mod hook;
pub mod listing;
pub mod ship;
pub mod stats;
pub mod store;
pub mod submit;
pub mod xlog;

use axum::routing::{get, post};
use axum::Router;

use crate::access::{guard, Policy};
use crate::http::AppState;

/// Submission, at the root like the DCSS design it replaces, and the generic
/// `/hooks/{source}` of every configured source.
pub fn intake_routes() -> Router<AppState> {
    Router::new()
        .route("/submit", post(submit::submit))
        .route("/hooks/{source}", post(hook::receive))
}

/// The DCSS day listing, at the root like the design it replaces.
pub fn routes() -> Router<AppState> {
    guard(
        Policy::Listed,
        Router::new().route("/events", get(listing::day)),
    )
}

/// Following a source's events, and their stats, under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    guard(
        Policy::SourcePath,
        Router::new()
            .route("/sources/{source}/events", get(listing::follow))
            .route("/sources/{source}/stats", get(stats::stats)),
    )
}

/// This source's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(hook::receive, submit::submit, listing::day, listing::follow, stats::stats),
    tags((name = "server-events", description = "Game and CI server events: DCSS /submit, xlog lines, days and the follow feed")),
)]
pub struct ApiDoc;
