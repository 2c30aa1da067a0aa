//! Serves the dashboard that `build.rs` built from `frontend/` and embedded in the binary:
//! `index.html` at `/`, hashed assets cached for a year, ETags everywhere. A binary built
//! without npm answers `/` with a page that says how to get the dashboard.

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use rust_embed::Embed;

#[derive(Embed)]
#[folder = "$OUT_DIR/dashboard"]
struct Assets;

/// Whether this binary carries a built dashboard.
pub fn is_built() -> bool {
    Assets::get("index.html").is_some()
}

const NOT_BUILT: &str = "<!doctype html><meta charset=utf-8><title>Reckon</title>\
<h1>The dashboard is not built into this binary</h1>\
<p>Reckon builds it from <code>frontend/</code> with npm while compiling. Install Node.js 20 or newer, \
then rebuild: <code>cargo run --release -- serve</code>.</p>\
<p>The API works without it: <a href=\"/api/v1/openapi.json\">/api/v1/openapi.json</a>.</p>";

/// `GET /`: the dashboard, or how to get it.
pub async fn index(headers: HeaderMap) -> Response {
    match Assets::get("index.html") {
        Some(file) => asset_response("index.html", file, &headers),
        None => (StatusCode::SERVICE_UNAVAILABLE, Html(NOT_BUILT)).into_response(),
    }
}

/// Every other path: an embedded file for `GET`/`HEAD`, else the JSON 404.
pub async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if (method == Method::GET || method == Method::HEAD) && !path.is_empty() {
        if let Some(file) = Assets::get(path) {
            return asset_response(path, file, &headers);
        }
    }
    super::ops::not_found().await.into_response()
}

fn asset_response(path: &str, file: rust_embed::EmbeddedFile, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    // Vite puts a content hash in every name under assets/, so those never change.
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (
            [(header::CONTENT_TYPE, file.metadata.mimetype().to_owned())],
            file.data,
        )
            .into_response()
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
