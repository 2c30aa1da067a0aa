//! The page-views source: which pages of registered sites are read, how often, by how
//! many people and from where, without tracking anyone. Hits come in as beacons,
//! Plausible events or WebSocket views; live counters are pushed back to the page.

pub mod beacon;
pub mod bots;
pub mod collect;
pub mod config;
pub mod cube;
pub mod event;
pub mod hit;
pub mod limit;
pub mod live;
pub mod logs;
pub mod read;
pub mod referrer;
pub mod salt;
pub mod sites;
pub mod stats;
pub mod store;

use std::sync::Arc;

use axum::http::{header, Method};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{Any, CorsLayer};

pub use self::config::PageviewsConfig;
use crate::access::{guard, Policy};
use crate::http::AppState;

/// The source name hits are journaled under.
pub const SOURCE: &str = "pageviews";

/// Whether a stored event is a page view (or a dropped hit).
pub fn owns(source: &str) -> bool {
    source == SOURCE
}

/// What one process keeps for counting: the sites it read, the day's salts, the bot
/// filter and the live readers.
pub struct Runtime {
    pub sites: sites::Sites,
    pub salts: salt::Salts,
    pub bots: bots::BotFilter,
    pub live: Arc<live::Live>,
    /// `pageviews.rate_limit`, if set.
    pub limits: Option<limit::HitLimits>,
}

impl Runtime {
    pub fn new(config: &PageviewsConfig) -> Runtime {
        Runtime {
            sites: sites::Sites::default(),
            salts: salt::Salts::new(config.session_minutes),
            bots: bots::BotFilter::new(),
            live: Arc::new(live::Live::new(
                config.live_poll_ms,
                config.max_live_connections,
            )),
            limits: limit::HitLimits::new(config.rate_limit.as_ref()),
        }
    }
}

/// Hits in, from any page: beacons, Plausible's event API and tracker, and the live
/// WebSocket. Sites' origins are checked per hit, so any origin may ask (CORS).
pub fn intake_routes() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    Router::new()
        .route("/api/v1/beacon", get(beacon::get).post(beacon::post))
        .route("/api/v1/beacon/log", post(logs::upload::upload))
        .route("/api/event", post(event::event))
        .route("/js/script.js", get(event::script))
        .layer(cors)
}

/// The live WebSocket at the root: any page may open it, and a reader's token (when
/// sent) shows private sites' counts.
pub fn routes() -> Router<AppState> {
    guard(
        Policy::Open,
        Router::new().route("/api/v1/live", get(live::socket)),
    )
}

/// The reads under `/api/v1` (the router nests these there).
pub fn api_routes() -> Router<AppState> {
    guard(
        Policy::Listed,
        Router::new()
            .route("/sites", get(read::sites))
            .route("/sites/{site}/stats", get(read::site_stats))
            .route("/sites/{site}/now", get(read::now))
            .route("/sites/{site}/live", get(live::stream)),
    )
}

/// This source's part of the OpenAPI document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(beacon::get, beacon::post, logs::upload::upload, event::event, live::socket, live::stream, read::sites,
        read::site_stats, read::now),
    tags((name = "pageviews", description = "Page views of registered sites: beacons, Plausible's event API, WebSocket views with live counters; no IP or User-Agent stored")),
)]
pub struct ApiDoc;
