//! Beacons: `GET /api/v1/beacon?site=…&p=…` (an image or a fetch) and `POST` for
//! `navigator.sendBeacon`, whose body is text/plain, JSON or form-encoded because it
//! cannot set headers. Answered at once; a refused hit still gets a silent 204.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::collect::{self, Incoming, Sender};
use super::hit::Via;
use crate::http::error::ApiError;
use crate::http::query::ApiQuery;
use crate::http::{AppState, Seen};

/// A transparent 1×1 GIF, for `<img>` beacons.
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];
/// Most bytes a POSTed beacon may have.
const MAX_BEACON: usize = 8192;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BeaconParams {
    /// The site's registered domain.
    site: Option<String>,
    /// The page: a path (`/post/1`) or the full URL.
    p: Option<String>,
    /// The referrer (`document.referrer`).
    r: Option<String>,
    /// The page's title.
    t: Option<String>,
    /// `1` when the client counts this view unique (its first of the page).
    u: Option<String>,
}

impl BeaconParams {
    fn incoming(self) -> Incoming {
        let unique = self
            .u
            .as_deref()
            .is_some_and(|u| matches!(u.trim(), "1" | "true" | "yes"));
        Incoming {
            site: self.site.unwrap_or_default(),
            page: self.p,
            referrer: self.r,
            title: self.t,
            unique,
            ..Incoming::default()
        }
    }
}

/// `GET /api/v1/beacon`: one view.
#[utoipa::path(get, path = "/api/v1/beacon", tag = "pageviews", operation_id = "beacon_get",
    params(BeaconParams),
    responses(
        (status = 204, description = "counted, dropped as a bot, or refused (unknown site or origin, over `pageviews.rate_limit`: see the delivery log)"),
        (status = 200, description = "the same, as a 1×1 GIF when the request accepts `image/*`", content_type = "image/gif"),
        (status = 400, body = crate::http::error::ErrorBody),
        (status = 503, body = crate::http::error::ErrorBody),
    ))]
pub async fn get(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<BeaconParams>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let sender = Sender::of(&state, &headers, collect::peer(request.extensions()));
    answer(&state, params.incoming(), &sender, &headers).await
}

/// `POST /api/v1/beacon`: the same fields as the GET's, as JSON, text/plain JSON, or a
/// form.
#[utoipa::path(post, path = "/api/v1/beacon", tag = "pageviews", operation_id = "beacon_post",
    request_body(content = Object, description = "`{site, p, r, t, u}` as JSON (any content type) or form-encoded"),
    responses(
        (status = 204, description = "counted, dropped as a bot, or refused (see the delivery log)"),
        (status = 400, body = crate::http::error::ErrorBody),
        (status = 413, body = crate::http::error::ErrorBody),
        (status = 503, body = crate::http::error::ErrorBody),
    ))]
pub async fn post(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let sender = Sender::of(&state, &headers, collect::peer(request.extensions()));
    let body = match axum::body::to_bytes(request.into_body(), MAX_BEACON).await {
        Ok(body) => body,
        Err(_) => return ApiError::PayloadTooLarge { limit: MAX_BEACON }.into_response(),
    };
    match parse(&body) {
        Ok(params) => answer(&state, params.incoming(), &sender, &headers).await,
        Err(error) => error.into_response(),
    }
}

/// A POSTed beacon: a JSON object, whatever the content type, or a form.
fn parse(body: &Bytes) -> Result<BeaconParams, ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::MalformedBody("a beacon is UTF-8 text".into()))?
        .trim();
    if text.starts_with('{') {
        #[derive(Deserialize)]
        struct Json {
            site: Option<String>,
            p: Option<String>,
            r: Option<String>,
            t: Option<String>,
            u: Option<serde_json::Value>,
        }
        let j: Json = serde_json::from_str(text)
            .map_err(|e| ApiError::MalformedBody(format!("not a beacon: {e}")))?;
        let u = j.u.map(|u| match u {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        });
        return Ok(BeaconParams {
            site: j.site,
            p: j.p,
            r: j.r,
            t: j.t,
            u,
        });
    }
    serde_urlencoded::from_str(text)
        .map_err(|e| ApiError::MalformedBody(format!("not a beacon: {e}")))
}

async fn answer(
    state: &AppState,
    incoming: Incoming,
    sender: &Sender,
    headers: &HeaderMap,
) -> Response {
    let received_at = chrono::Utc::now().timestamp_millis();
    let result = async {
        let site = collect::site_for(state, &incoming.site, sender).await?;
        collect::count(state, &site, &incoming, sender, Via::Beacon).await
    }
    .await;
    match result {
        Ok(_) => done(headers),
        Err(
            error @ (ApiError::UnknownSite(_)
            | ApiError::OriginNotAllowed { .. }
            | ApiError::RateLimited { .. }),
        ) => {
            let seen = Seen {
                event: Some("beacon".into()),
                ..Seen::default()
            };
            state.reject(super::SOURCE, received_at, seen, &error);
            done(headers)
        }
        Err(error) => error.into_response(),
    }
}

/// 204, or the pixel for image requests; never cached.
fn done(headers: &HeaderMap) -> Response {
    let wants_image = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("image/"));
    let no_store = (header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if wants_image {
        (
            StatusCode::OK,
            [
                no_store,
                (header::CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            ],
            PIXEL,
        )
            .into_response()
    } else {
        (StatusCode::NO_CONTENT, [no_store]).into_response()
    }
}
