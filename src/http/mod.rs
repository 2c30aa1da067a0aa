//! The HTTP surface: the router and the state every handler shares. Hooks, the stats
//! API, the operational endpoints and the embedded dashboard live in their own modules.

mod api;
pub(crate) mod body;
mod config;
pub mod dashboard;
pub mod error;
pub(crate) mod ops;
pub(crate) mod query;
pub(crate) mod rate_limit;
mod rejected;
pub(crate) mod server;
pub(crate) mod stream;

use std::collections::HashMap;
use std::sync::Arc;

use std::time::Instant;

use axum::http::Method;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use secrecy::SecretString;
use serde::Serialize;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

pub use self::config::{ApiConfig, DashboardConfig, LimitsConfig};
use crate::access::guard::authenticate;
use crate::access::{guard, Listener, Policy};
use crate::intake::Intake;
use crate::model::Stored;
use crate::settings::Config;
use crate::stats::{rfc3339, DeliveryRecord};
use crate::store::Store;
use crate::telemetry::metrics::Metrics;
use crate::verify::github::GithubSignature;
use crate::verify::Verifier;
pub use api::openapi::pretty_json as openapi_json;
use error::ApiError;
pub use rejected::RejectedLog;

/// How many rejected deliveries the delivery log remembers.
const REJECTED_LOG_CAPACITY: usize = 1000;

/// What is known of a delivery so far, for the delivery log if it gets rejected.
#[derive(Default)]
pub(crate) struct Seen {
    pub event: Option<String>,
    pub action: Option<String>,
    pub delivery_id: Option<String>,
    pub hook_id: Option<String>,
    pub size: usize,
    /// Set once the request is authenticated; only then are its names trusted.
    pub verified: bool,
}

/// The answer to an accepted delivery, sent only after it is durably stored.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Ack {
    /// `accepted`, or `duplicate` when this delivery was already stored.
    pub status: Stored,
    pub source: String,
    pub event: String,
    pub delivery_id: String,
    /// GitHub's `ping` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zen: Option<String>,
}

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub intake: Intake,
    /// Checks `/hooks/github` deliveries against the active webhook secrets.
    pub github_verifier: Arc<dyn Verifier>,
    /// Each configured source's scheme, built once with its secrets decoded.
    pub sources: Arc<HashMap<String, Arc<dyn Verifier>>>,
    /// The server each `/submit` key is bound to, once read from the store.
    pub key_bindings: Arc<crate::sources::server_events::bindings::KeyBindings>,
    /// Heartbeat keys' users and users' time zones, once read from the store.
    pub heartbeats: Arc<crate::sources::heartbeats::users::Runtime>,
    /// Page views: sites read, the day's salts, the bot filter, live readers.
    pub pageviews: Arc<crate::sources::pageviews::Runtime>,
    pub metrics: Arc<Metrics>,
    pub rejected: Arc<RejectedLog>,
    pub rate_limits: Arc<rate_limit::RateLimits>,
    /// Who may read what: public flags, configured tokens, the failed-read throttle.
    pub access: Arc<crate::access::Access>,
    /// The sync queue, when this process runs the worker or scheduler.
    pub queue: Option<Arc<dyn crate::queue::Queue>>,
    pub scheduler:
        Option<Arc<std::sync::Mutex<crate::sources::github::reconcile::schedule::SchedulerStatus>>>,
}

impl AppState {
    pub fn new(
        config: Arc<Config>,
        store: Arc<dyn Store>,
        intake: Intake,
        github_secrets: Vec<SecretString>,
        metrics: Arc<Metrics>,
    ) -> AppState {
        let sources = config
            .sources
            .iter()
            .map(|(name, source)| {
                (
                    name.clone(),
                    crate::sources::server_events::hook::verifier(name, source, &store),
                )
            })
            .collect();
        let github_verifier = Arc::new(GithubSignature::new(
            github_secrets,
            config.github.allow_sha1,
        ));
        let rate_limits = Arc::new(rate_limit::RateLimits::from_config(&config));
        let access = Arc::new(crate::access::Access::from_config(&config, metrics.clone()));
        let pageviews = Arc::new(crate::sources::pageviews::Runtime::new(&config.pageviews));
        AppState {
            config,
            store,
            intake,
            github_verifier,
            sources: Arc::new(sources),
            key_bindings: Arc::default(),
            heartbeats: Arc::default(),
            pageviews,
            metrics,
            rejected: Arc::new(RejectedLog::new(REJECTED_LOG_CAPACITY)),
            rate_limits,
            access,
            queue: None,
            scheduler: None,
        }
    }

    /// Answers an intake request: counts and times an acknowledgement, or records a
    /// rejection, and turns either into the response.
    pub(crate) fn finish(
        &self,
        source: &str,
        started: Instant,
        received_at: i64,
        seen: Seen,
        result: Result<Ack, ApiError>,
    ) -> Response {
        match result {
            Ok(ack) => {
                self.metrics
                    .delivery(source, &ack.event, ack.status.as_str());
                self.metrics.ack(source, started.elapsed());
                Json(ack).into_response()
            }
            Err(error) => {
                self.reject(source, received_at, seen, &error);
                error.into_response()
            }
        }
    }

    /// Records a rejected delivery in the metrics, the log and the in-memory delivery log.
    pub(crate) fn reject(&self, source: &str, received_at: i64, seen: Seen, error: &ApiError) {
        // Only authenticated event names become metric labels, so unauthenticated
        // callers cannot mint label values.
        let event_label = match (&seen.event, seen.verified) {
            (Some(event), true) => event.as_str(),
            _ => "unknown",
        };
        self.metrics.delivery(source, event_label, "rejected");
        tracing::info!(
            source,
            code = error.code(),
            delivery_id = seen.delivery_id.as_deref().unwrap_or("-"),
            "delivery rejected"
        );
        self.rejected.push(DeliveryRecord {
            seq: None,
            source: source.to_owned(),
            event: seen.event.unwrap_or_default(),
            action: seen.action,
            delivery_id: seen.delivery_id,
            hook_id: seen.hook_id,
            status: "rejected".into(),
            reason: Some(error.code().to_owned()),
            received_at: rfc3339(received_at),
            size: seen.size as u64,
        });
    }
}

/// Everything, for `listen`: intake, reads by token, operations, the dashboard.
pub fn router(state: AppState) -> Router {
    let api = api::routes().merge(crate::sources::api_routes());
    let reads = reads(&state, crate::sources::routes().nest("/api/v1", api));
    let metrics = guard(
        Policy::Metrics,
        Router::new().route("/metrics", get(ops::metrics)),
    )
    .layer(from_fn_with_state(state.clone(), authenticate));
    let router = Router::new()
        .merge(crate::sources::intake_routes())
        .merge(reads)
        .merge(metrics)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz));
    let router = if state.config.dashboard.enabled {
        router
            .route("/", get(dashboard::index))
            .fallback(dashboard::fallback)
    } else {
        router.fallback(ops::not_found)
    };
    router
        .layer(axum::middleware::map_response(ops::json_errors))
        .layer(Extension(Listener::Private))
        .layer(trace_layer())
        .with_state(state)
}

/// What faces the internet, for `public_listen`: intake, liveness, and the read routes
/// of sources, which serve only what configuration marks public.
pub fn public_router(state: AppState) -> Router {
    let reads = reads(
        &state,
        crate::sources::routes().nest("/api/v1", crate::sources::api_routes()),
    );
    Router::new()
        .merge(crate::sources::intake_routes())
        .merge(reads)
        .route("/healthz", get(ops::healthz))
        .fallback(ops::not_found)
        .layer(axum::middleware::map_response(ops::json_errors))
        .layer(Extension(Listener::Public))
        .layer(trace_layer())
        .with_state(state)
}

/// Read routes behind the access guard, and under the API's CORS policy (the guard
/// inside, so that refusals carry CORS headers and preflights need no token).
fn reads(state: &AppState, routes: Router<AppState>) -> Router<AppState> {
    let routes = routes.layer(from_fn_with_state(state.clone(), authenticate));
    match cors_layer(&state.config.api.cors_origins) {
        Some(cors) => routes.layer(cors),
        None => routes,
    }
}

/// Request spans. A 5xx is logged once, by `ApiError` with its cause and at a level fit
/// for it (a shed `busy` is no error), so the layer's own failure line stays at debug.
fn trace_layer(
) -> TraceLayer<tower_http::classify::SharedClassifier<tower_http::classify::ServerErrorsAsFailures>>
{
    TraceLayer::new_for_http()
        .on_failure(tower_http::trace::DefaultOnFailure::new().level(tracing::Level::DEBUG))
}

/// Lets the configured browser origins read the API (a dashboard hosted elsewhere).
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    if origins.is_empty() {
        return None;
    }
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        // Validated at config load, so every origin is a valid header value.
        AllowOrigin::list(origins.iter().filter_map(|o| o.parse().ok()))
    };
    Some(
        CorsLayer::new()
            .allow_origin(allow)
            .allow_methods([Method::GET, Method::HEAD])
            .allow_headers([axum::http::header::AUTHORIZATION])
            .expose_headers([axum::http::HeaderName::from_static(
                crate::sources::server_events::listing::NEXT_AFTER,
            )])
            .max_age(std::time::Duration::from_secs(3600)),
    )
}
