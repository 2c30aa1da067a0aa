//! The core of the API under `/api/v1`: raw events by day, the delivery log, and the
//! OpenAPI document. Each source adds its own routes (see `crate::sources`).

mod deliveries;
mod events;
pub(crate) mod openapi;

use axum::routing::get;
use axum::Router;

use super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events", get(events::events))
        .route("/events/days", get(events::event_days))
        .route("/deliveries", get(deliveries::deliveries))
        .route("/openapi.json", get(openapi::document))
}
