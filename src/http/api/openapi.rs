//! The OpenAPI 3.1 document, assembled from the handlers' annotations and the response
//! types themselves, served at `/api/v1/openapi.json` for clients and the dashboard.

use axum::Json;
use utoipa::OpenApi;

use super::{deliveries, events};
use crate::http::ops;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Reckon",
        description = "Webhook ingestion and statistics. Errors are `{\"code\", \"message\"}` with a stable code."
    ),
    paths(
        events::events,
        events::event_days,
        deliveries::deliveries,
        ops::healthz,
        ops::readyz,
        ops::metrics,
    ),
    tags(
        (name = "hooks", description = "Webhook intake"),
        (name = "events", description = "Raw stored events"),
        (name = "deliveries", description = "The delivery log"),
        (name = "ops", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// The whole document: the core routes and every source's.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::sources::openapi());
    doc
}

/// The document as pretty-printed JSON, as `reckon openapi` prints it.
pub fn pretty_json() -> String {
    openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}
