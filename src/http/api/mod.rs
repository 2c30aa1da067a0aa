//! The core of the API under `/api/v1`: raw events by day, the delivery log, and the
//! OpenAPI document. Each source adds its own routes (see `crate::sources`).

mod deliveries;
mod events;
pub(crate) mod openapi;

use axum::routing::get;
use axum::Router;

use super::AppState;
use crate::access::{guard, Policy};

pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(guard(
            Policy::SourceQuery,
            Router::new().route("/events", get(events::events)),
        ))
        .merge(guard(
            Policy::Listed,
            Router::new().route("/events/days", get(events::event_days)),
        ))
        .merge(guard(
            Policy::Admin,
            Router::new()
                .route("/deliveries", get(deliveries::deliveries))
                .route("/deliveries/live", get(deliveries::deliveries_live)),
        ))
        .merge(guard(
            Policy::Token,
            Router::new().route("/token", get(crate::access::api::token)),
        ))
        .merge(guard(
            Policy::Open,
            Router::new().route("/openapi.json", get(openapi::document)),
        ))
}
