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
        deliveries::deliveries_live,
        ops::healthz,
        ops::readyz,
        ops::metrics,
        document,
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
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::access::api::ApiDoc::openapi());
    doc.merge(crate::sources::openapi());
    doc.components
        .get_or_insert_with(Default::default)
        .add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    // A read token, or nothing for what is public.
    doc.security = Some(vec![
        SecurityRequirement::new("bearer", Vec::<String>::new()),
        SecurityRequirement::default(),
    ]);
    doc
}

/// The document as pretty-printed JSON, as `reckon openapi` prints it.
pub fn pretty_json() -> String {
    openapi()
        .to_pretty_json()
        .expect("the OpenAPI document serialises")
}

/// This document: every route, its parameters and answers.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "ops",
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json")))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi())
}
