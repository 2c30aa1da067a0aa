//! The dashboard as the server delivers it: the embedded build at `/` with caching headers,
//! the JSON 404 for everything else, the switch that turns it off, CORS for a dashboard
//! hosted elsewhere, and the OpenAPI document the dashboard's client is generated from.

use serde_json::Value;

use crate::common::TestApp;

fn dashboard_expected() -> bool {
    std::env::var_os("RECKON_SKIP_DASHBOARD").is_none()
}

#[tokio::test]
async fn serves_the_embedded_dashboard_with_caching_headers() {
    let app = TestApp::spawn().await;
    let index = app.client.get(app.url("/")).send().await.unwrap();
    if !dashboard_expected() {
        assert_eq!(index.status(), 503);
        assert!(index.text().await.unwrap().contains("not built"));
        return;
    }
    assert!(
        reckon::http::dashboard::is_built(),
        "the dashboard was not built into this binary: is npm installed? (build.rs warns why)"
    );
    assert_eq!(index.status(), 200);
    let headers = index.headers().clone();
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let html = index.text().await.unwrap();
    assert!(
        html.contains(r#"<meta name="reckon-api-base" content="" />"#),
        "{html}"
    );

    // Revalidation answers 304 without a body.
    let again = app
        .client
        .get(app.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);

    // Every asset index.html names is served, hashed names cached for good.
    let assets: Vec<&str> = html
        .split('"')
        .filter(|s| s.starts_with("./assets/"))
        .collect();
    assert!(assets.iter().any(|a| a.ends_with(".js")), "{html}");
    assert!(assets.iter().any(|a| a.ends_with(".css")), "{html}");
    for asset in assets {
        let response = app
            .client
            .get(app.url(asset.trim_start_matches('.')))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable"
        );
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(
            kind.contains("javascript") || kind.starts_with("text/css"),
            "{asset}: {kind}"
        );
    }

    // Anything else is still the API's JSON 404, for GET and for other methods.
    let (status, body) = app.get("/assets/nope.js").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let post = app
        .client
        .post(app.url("/index.html"))
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 404);
}

#[tokio::test]
async fn the_dashboard_can_be_switched_off() {
    let app = TestApp::spawn_with(|c| c.dashboard.enabled = false).await;
    let (status, body) = app.get("/").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    assert_eq!(app.get("/healthz").await.0, 200);
}

#[tokio::test]
async fn cors_allows_only_the_configured_origins() {
    let app = TestApp::spawn_with(|c| {
        c.api.cors_origins = vec!["https://stats.example.com".into()];
    })
    .await;
    let get = |origin: &'static str| {
        app.client
            .get(app.url("/api/v1/github/orgs"))
            .header("origin", origin)
            .send()
    };
    let allowed = get("https://stats.example.com").await.unwrap();
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://stats.example.com"
    );
    let other = get("https://evil.example").await.unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/deliveries"))
        .header("origin", "https://stats.example.com")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert!(preflight.headers()["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("GET"));
    // Hooks are never opened to browsers.
    let hook = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/hooks/github"))
        .header("origin", "https://stats.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(hook.headers().get("access-control-allow-origin").is_none());

    let closed = TestApp::spawn().await;
    let response = closed
        .client
        .get(closed.url("/api/v1/github/orgs"))
        .header("origin", "https://stats.example.com")
        .send()
        .await
        .unwrap();
    assert!(response
        .headers()
        .get("access-control-allow-origin")
        .is_none());
}

/// The dashboard's typed client is generated from `frontend/openapi.json`; it must be the
/// document the server serves, or the types lie.
#[tokio::test]
async fn frontend_openapi_json_is_the_served_document() {
    let app = TestApp::spawn().await;
    let served = app.get_ok("/api/v1/openapi.json").await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/frontend/openapi.json");
    let committed: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        served == committed,
        "frontend/openapi.json is stale: run `cargo run -- openapi > frontend/openapi.json && npm --prefix frontend run gen:api`"
    );
    // Operation ids name the generated client's functions, so they must be unique.
    let mut ids: Vec<&str> = served["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let count = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), count, "duplicate operationId in {ids:?}");
}
