//! The stats API under `/api/v1`: org statistics, raw events by day, the delivery log,
//! and the OpenAPI document describing them. Handlers parse and shape; stores compute.

mod deliveries;
mod drift;
mod events;
mod github;
pub(crate) mod openapi;
mod pulls;

use axum::routing::get;
use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/github/orgs", get(github::orgs))
        .route("/github/orgs/{org}/summary", get(github::summary))
        .route("/github/orgs/{org}/repos", get(github::repos))
        .route("/github/orgs/{org}/pulls/series", get(pulls::pr_series))
        .route("/github/orgs/{org}/pulls/stats", get(pulls::pr_stats))
        .route("/github/orgs/{org}/teams", get(github::teams))
        .route("/github/orgs/{org}/drift", get(drift::drift))
        .route(
            "/github/orgs/{org}/teams/{team}/members",
            get(github::team_members),
        )
        .route("/events", get(events::events))
        .route("/events/days", get(events::event_days))
        .route("/deliveries", get(deliveries::deliveries))
        .route("/openapi.json", get(openapi::document))
}
