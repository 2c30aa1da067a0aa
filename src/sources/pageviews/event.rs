//! Plausible's event API, so its published tracker works by changing one URL:
//! `POST /api/event` with a text/plain JSON body `{n, u, d, r, p, h}` (or the long
//! names), answered 202; a hit dropped as a bot gets `x-plausible-dropped: 1`.
//! Also serves a small compatible tracker at `/js/script.js`.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use super::collect::{self, Counted, Incoming, Sender};
use super::hit::Via;
use crate::http::error::ApiError;
use crate::http::{AppState, Seen};

/// Most bytes an event may have (Plausible's props included).
const MAX_EVENT: usize = 16_384;
/// The tracker served at `/js/script.js`.
const SCRIPT: &str = include_str!("script.js");

/// An event as Plausible's tracker sends it: short names or long ones.
#[derive(Debug, Deserialize)]
struct Body {
    #[serde(alias = "name")]
    n: Option<String>,
    #[serde(alias = "url")]
    u: Option<String>,
    #[serde(alias = "domain")]
    d: Option<String>,
    #[serde(alias = "referrer")]
    r: Option<String>,
    #[serde(alias = "props", alias = "m", alias = "meta")]
    p: Option<Value>,
    #[serde(alias = "hash")]
    h: Option<Value>,
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0) != 0,
        Some(Value::String(s)) => matches!(s.as_str(), "1" | "true"),
        _ => false,
    }
}

/// `POST /api/event`: one Plausible event.
#[utoipa::path(post, path = "/api/event", tag = "pageviews", operation_id = "plausible_event",
    request_body(content = Object, description = "`{n, u, d, r, p, h}` or `{name, url, domain, referrer, props}`; `d` may list several domains, comma-separated", content_type = "text/plain"),
    responses(
        (status = 202, description = "counted, or dropped as a bot (`x-plausible-dropped: 1`)"),
        (status = 400, body = crate::http::error::ErrorBody),
        (status = 403, body = crate::http::error::ErrorBody, description = "`unknown_site` or `origin_not_allowed`"),
        (status = 413, body = crate::http::error::ErrorBody),
        (status = 503, body = crate::http::error::ErrorBody),
    ))]
pub async fn event(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let received_at = chrono::Utc::now().timestamp_millis();
    let sender = Sender::of(&state, &headers, collect::peer(request.extensions()));
    let result = async {
        let raw = axum::body::to_bytes(request.into_body(), MAX_EVENT)
            .await
            .map_err(|_| ApiError::PayloadTooLarge { limit: MAX_EVENT })?;
        let body: Body = serde_json::from_slice(&raw)
            .map_err(|e| ApiError::MalformedBody(format!("not a Plausible event: {e}")))?;
        record(&state, body, &sender).await
    }
    .await;
    match result {
        Ok(dropped) => {
            let mut response = (StatusCode::ACCEPTED, "ok").into_response();
            if dropped {
                response
                    .headers_mut()
                    .insert("x-plausible-dropped", HeaderValue::from_static("1"));
            }
            response
        }
        Err(error) => {
            let seen = Seen {
                event: Some("event".into()),
                ..Seen::default()
            };
            state.reject(super::SOURCE, received_at, seen, &error);
            error.into_response()
        }
    }
}

/// Counts the event for each registered domain it names; `true` if it was dropped.
async fn record(state: &AppState, body: Body, sender: &Sender) -> Result<bool, ApiError> {
    let domains = body.d.as_deref().unwrap_or_default();
    let props = match body.p {
        Some(Value::String(s)) => serde_json::from_str(&s).ok(),
        Some(Value::Object(o)) => Some(Value::Object(o)),
        _ => None,
    };
    let incoming = Incoming {
        site: String::new(),
        page: body.u.clone(),
        referrer: body.r.clone(),
        title: None,
        name: body.n.clone(),
        unique: false,
        article: None,
        internal: false,
        hash_routing: truthy(body.h.as_ref()),
        props,
    };
    let mut first_error = None;
    let mut counted = 0;
    let mut dropped = false;
    for domain in domains
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .take(10)
    {
        match collect::site_for(state, domain, sender).await {
            Ok(site) => {
                counted += 1;
                if let Counted::Dropped(_) =
                    collect::count(state, &site, &incoming, sender, Via::Event).await?
                {
                    dropped = true;
                }
            }
            Err(error) => {
                first_error.get_or_insert(error);
            }
        }
    }
    match (counted, first_error) {
        (0, Some(error)) => Err(error),
        (0, None) => Err(ApiError::InvalidHit("no domain: send `d`".into())),
        _ => Ok(dropped),
    }
}

/// `GET /js/script.js`: a small tracker that speaks Plausible's event API.
pub async fn script() -> Response {
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/javascript; charset=utf-8"),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        SCRIPT,
    )
        .into_response()
}
