//! The GitHub source: signed webhooks in (`hook`), the projection of the few payload
//! fields Reckon keeps (`payload`, `project`), the rules both store backends merge those
//! writes by (`merge`), the org statistics API (`api`), and the reconcile side that
//! keeps those numbers true against GitHub's own API (`upstream`, `reconcile`, `sync`,
//! and the `admin` subcommands that drive them).

pub mod admin;
pub mod api;
mod config;
pub mod hook;
pub mod merge;
pub mod payload;
pub mod project;
pub mod reconcile;
pub mod store;
pub mod sync;
pub mod upstream;
pub mod webhook_secret;

pub use project::project;

use axum::routing::post;
use axum::Router;

pub use self::config::{GithubApiConfig, GithubConfig};
use crate::http::AppState;
use crate::model::EntityWrite;
use crate::store::RawEvent;

/// The source name GitHub deliveries are stored under.
pub const SOURCE: &str = "github";

/// Whether a stored event belongs to this slice: a webhook delivery or a sync envelope.
pub fn owns(source: &str) -> bool {
    source == SOURCE || source == sync::SOURCE
}

/// The entity writes of a stored event, as intake derived them when it arrived: GitHub
/// events are decoded and projected, sync envelopes give back their writes; payloads of
/// another shape and other sources, none.
pub fn project_stored(event: &RawEvent) -> Vec<EntityWrite> {
    if event.source == sync::SOURCE {
        return sync::project_stored(event);
    }
    if event.source != SOURCE {
        return Vec::new();
    }
    serde_json::from_slice::<payload::Payload>(&event.payload)
        .map(|p| project(&event.kind, &p, event.received_at))
        .unwrap_or_default()
}

/// The webhook route, at the root where GitHub's hook settings point.
pub fn intake_routes() -> Router<AppState> {
    Router::new().route("/hooks/github", post(hook::receive))
}

/// The org statistics under `/api/v1`.
pub fn api_routes() -> Router<AppState> {
    api::routes()
}

/// This source's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        hook::receive,
        api::orgs::orgs,
        api::orgs::summary,
        api::orgs::repos,
        api::pulls::pr_series,
        api::pulls::pr_stats,
        api::orgs::teams,
        api::orgs::team_members,
        api::drift::drift,
    ),
    tags((name = "github", description = "GitHub org statistics")),
)]
pub struct ApiDoc;
