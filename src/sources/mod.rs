//! The registry of sources: each source is a folder here that owns its routes, its
//! decoding and projection, its read model on each backend, and its stats handlers.
//! Adding a source means one folder, one line in `routes`, and its dashboard page.
//! Sources with background work register its task kinds here too (`jobs`), and sources
//! with tables or journal indices their `store::SourceSchema` (`SCHEMAS`).

mod config;
pub mod github;
pub mod heartbeats;
pub mod pageviews;
pub mod server_events;

use axum::Router;

pub use self::config::{is_valid_source_name, is_valid_src, SourceAuth, SourceConfig};
use crate::http::AppState;

/// Every source's storage (SQLite migrations and tables, Elasticsearch journals), which
/// the stores migrate and set up beside their own (`store::source_schema`).
pub const SCHEMAS: &[crate::store::SourceSchema] = &[
    server_events::store::SCHEMA,
    heartbeats::store::SCHEMA,
    pageviews::store::SCHEMA,
];

/// Every source's projection of a stored event, for `reckon reindex`: the event's
/// source decides which applies.
pub fn project_stored(event: &crate::store::RawEvent) -> Vec<crate::model::EntityWrite> {
    if github::owns(&event.source) {
        github::project_stored(event)
    } else if heartbeats::owns(&event.source) {
        heartbeats::heartbeat::project_stored(event)
    } else if pageviews::owns(&event.source) {
        pageviews::hit::project_stored(event)
    } else {
        server_events::event::project_stored(event)
    }
}

/// Every source's task kinds, known but without their contexts: enough to name,
/// check and refuse queued tasks (`reckon queue list`, a worker without credentials).
pub fn task_kinds() -> crate::launcher::Jobs {
    crate::launcher::Jobs::new().know::<github::sync::TaskSpec>()
}

/// Every source's task kinds, runnable with their contexts.
pub fn jobs(github: github::sync::SyncJobs) -> crate::launcher::Jobs {
    crate::launcher::Jobs::new().register::<github::sync::TaskSpec>(github)
}

/// Every source's intake routes (webhooks, `/submit`): posted by servers, never opened
/// to browsers, so the router gives them no CORS layer.
pub fn intake_routes() -> Router<AppState> {
    Router::new()
        .merge(github::intake_routes())
        .merge(server_events::intake_routes())
        .merge(heartbeats::intake_routes())
        .merge(pageviews::intake_routes())
}

/// Every source's read routes at the root (such as the DCSS day listing), which
/// browsers may read under the API's CORS policy.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(server_events::routes())
        .merge(heartbeats::routes())
        .merge(pageviews::routes())
}

/// Every source's routes under `/api/v1`, and the list of sources.
pub fn api_routes() -> Router<AppState> {
    Router::new()
        .merge(crate::access::guard(
            crate::access::Policy::Listed,
            Router::new().route("/sources", axum::routing::get(list)),
        ))
        .merge(github::api_routes())
        .merge(server_events::api_routes())
        .merge(heartbeats::api_routes())
        .merge(pageviews::api_routes())
}

/// A source as `GET /api/v1/sources` lists it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SourceItem {
    pub name: String,
    /// `github` (signed GitHub webhooks), `standard-webhooks` or `api-key`.
    pub auth: &'static str,
    /// Whether it takes server events (`POST /submit`, xlog) and serves them by day and
    /// by id.
    pub server_events: bool,
    /// Whether it may be read without a read token (`github`: some of its orgs may be,
    /// see `github.public_orgs`).
    pub public: bool,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct SourceList {
    pub sources: Vec<SourceItem>,
}

/// The configured sources: GitHub, and every `[sources.NAME]` table.
#[utoipa::path(get, path = "/api/v1/sources", tag = "sources",
    responses((status = 200, body = SourceList)))]
pub async fn list(
    axum::extract::State(state): axum::extract::State<AppState>,
    reader: crate::access::Reader,
) -> axum::Json<SourceList> {
    use crate::access::Resource;
    // GitHub is listed to whoever may read some org of it (or all its events).
    let github = (reader.allows(&Resource::GithubEvents)
        || matches!(&reader.grant, crate::access::Grant::Token(t)
            if t.scopes.iter().any(|s| matches!(s, crate::access::Scope::Github(_))))
        || !state.config.github.public_orgs.is_empty())
    .then(|| SourceItem {
        name: github::SOURCE.to_owned(),
        auth: state.github_verifier.scheme(),
        server_events: false,
        public: !state.config.github.public_orgs.is_empty(),
    });
    let configured = state
        .config
        .sources
        .iter()
        .filter(|(name, _)| reader.allows(&Resource::Source((*name).clone())))
        .map(|(name, s)| {
            let auth = state.sources.get(name).map_or("unknown", |v| v.scheme());
            SourceItem {
                name: name.clone(),
                auth,
                server_events: auth == "api-key",
                public: s.public,
            }
        });
    axum::Json(SourceList {
        sources: github.into_iter().chain(configured).collect(),
    })
}

/// Every source's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    let mut doc = github::ApiDoc::openapi();
    doc.merge(RegistryDoc::openapi());
    doc.merge(server_events::ApiDoc::openapi());
    doc.merge(heartbeats::ApiDoc::openapi());
    doc.merge(pageviews::ApiDoc::openapi());
    doc
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(list),
    tags((name = "sources", description = "The configured sources")),
)]
struct RegistryDoc;
