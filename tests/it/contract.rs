//! The API contract that a fuzz of the OpenAPI document checks: errors name the
//! parameter at fault, every error (405 and unknown routes too) is JSON with a `code`,
//! Standard Webhooks ids are any string, and readiness falls while commits fail.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use reckon::config::SecretList;
use reckon::sources::{SourceAuth, SourceConfig};
use reckon::store::sqlite::{SqliteOptions, SqliteStore};
use secrecy::SecretString;
use serde_json::Value;
use sha2::Sha256;

use crate::common::{self, TestApp, SECRET};
use crate::store_failure::Flaky;

const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

async fn json_of(response: reqwest::Response) -> (u16, reqwest::header::HeaderMap, Value) {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("a {status} answer is not JSON ({e}): {text:?}"));
    (status, headers, body)
}

#[tokio::test]
async fn query_errors_name_the_parameter() {
    let app = TestApp::spawn().await;
    for (path, name) in [
        (
            "/api/v1/events?source=github&day=2026-01-01&limit=abc",
            "limit",
        ),
        ("/api/v1/deliveries?limit=abc", "limit"),
        ("/api/v1/deliveries?limit=-3", "limit"),
        (
            "/api/v1/github/orgs/acme/pulls/series?interval=year",
            "interval",
        ),
        ("/api/v1/github/orgs/acme/pulls/stats?top=many", "top"),
        ("/api/v1/events?day=2026-01-01", "source"),
    ] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["code"], "invalid_query", "{path}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("`{name}`")),
            "{path}: {message} should name `{name}`"
        );
    }
    // Out of the documented bounds: the same parameter, named by the handler.
    let (status, body) = app.get("/api/v1/deliveries?limit=1001").await;
    assert_eq!(status, 400);
    assert!(body["message"].as_str().unwrap().contains("`limit`"));
    // Dates that are not exactly `YYYY-MM-DD` (nor RFC 3339) are refused.
    let (status, body) = app.get("/api/v1/events/days?from=2026-1-5").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("`from`"));
}

#[tokio::test]
async fn every_error_is_json_with_a_code() {
    let app = TestApp::spawn().await;
    // A method a route does not take: 405, JSON, and the `Allow` header kept.
    for (method, path, allow) in [
        (reqwest::Method::DELETE, "/api/v1/events", "GET"),
        (reqwest::Method::POST, "/api/v1/deliveries", "GET"),
        (reqwest::Method::PUT, "/readyz", "GET"),
        (reqwest::Method::GET, "/hooks/github", "POST"),
        (reqwest::Method::PATCH, "/hooks/ci", "POST"),
    ] {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .send()
            .await
            .unwrap();
        let (status, headers, body) = json_of(response).await;
        assert_eq!(status, 405, "{method} {path}: {body}");
        assert_eq!(body["code"], "method_not_allowed", "{method} {path}");
        assert!(body["message"].as_str().unwrap().contains(method.as_str()));
        let allowed = headers["allow"].to_str().unwrap();
        assert!(allowed.contains(allow), "{method} {path}: Allow: {allowed}");
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
    }
    // Unknown routes, with and without a token.
    for client in [&app.client, &app.anonymous] {
        let response = client
            .get(app.url("/api/v1/no/such/route"))
            .send()
            .await
            .unwrap();
        let (status, _, body) = json_of(response).await;
        assert_eq!(status, 404);
        assert_eq!(body["code"], "not_found");
    }
}

fn standard_source(config: &mut reckon::settings::Config) {
    config.sources.insert(
        "ci".into(),
        SourceConfig {
            auth: SourceAuth::StandardWebhooks,
            secrets: SecretList::new(vec![SecretString::from(WHSEC.to_owned())]),
            tolerance_seconds: 300,
            rate_limit: None,
            srcs: Vec::new(),
            public: false,
            read_tokens: SecretList::default(),
        },
    );
}

/// Signs like the official Standard Webhooks libraries: `{id}.{timestamp}.{body}`.
fn sign(id: &str, ts: i64, body: &[u8]) -> String {
    let key = B64.decode(WHSEC.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

async fn post_standard(app: &TestApp, id: &str, body: &[u8]) -> (u16, Value) {
    let ts = chrono::Utc::now().timestamp();
    let response = app
        .anonymous
        .post(app.url("/hooks/ci"))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sign(id, ts, body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(response).await;
    (status, body)
}

#[tokio::test]
async fn standard_webhook_ids_are_any_string() {
    let app = TestApp::spawn_with(standard_source).await;
    let body = br#"{"type":"build.finished","ok":true}"#;
    let long = format!("msg_{}", "x".repeat(196));
    assert_eq!(long.len(), 200);
    for id in ["msg_2K/abc def", long.as_str()] {
        let (status, ack) = post_standard(&app, id, body).await;
        assert_eq!(status, 200, "{id}: {ack}");
        assert_eq!(ack["status"], "accepted", "{id}");
        assert_eq!(ack["delivery_id"], id);
        // The id is the dedup key, kept as sent.
        let (status, ack) = post_standard(&app, id, body).await;
        assert_eq!(status, 200);
        assert_eq!(ack["status"], "duplicate", "{id}");
    }
    let absurd = "x".repeat(reckon::verify::standard::MAX_ID_BYTES + 1);
    let (status, error) = post_standard(&app, &absurd, body).await;
    assert_eq!(status, 400, "{error}");
    assert_eq!(error["code"], "invalid_header");
    assert!(error["message"].as_str().unwrap().contains("webhook-id"));
}

#[tokio::test]
async fn readiness_falls_while_commits_fail() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Flaky {
        inner: SqliteStore::open(
            &dir.path().join("reckon.sqlite3"),
            &SqliteOptions::default(),
        )
        .unwrap(),
        broken: AtomicBool::new(false),
    });
    let app = reckon::App::with_store(common::test_config(dir.path()), store.clone())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app.serve(listener, std::future::pending()));
    let ready = || async {
        let response = reqwest::get(format!("{base}/readyz")).await.unwrap();
        let (status, _, body) = json_of(response).await;
        (status, body)
    };
    let deliver = |id: &'static str| {
        let body = br#"{"zen":"full disk"}"#.to_vec();
        reqwest::Client::new()
            .post(format!("{base}/hooks/github"))
            .header("content-type", "application/json")
            .header("x-github-event", "ping")
            .header("x-github-delivery", id)
            .header("x-hub-signature-256", common::sign(SECRET, &body))
            .body(body)
            .send()
    };

    let (status, body) = ready().await;
    assert_eq!((status, &body["status"]), (200, &Value::from("ready")));
    assert_eq!(body["commits"], "ok");

    // The disk fills: every commit fails, yet the store still answers pings.
    store.broken.store(true, Ordering::SeqCst);
    assert_eq!(deliver("full-1").await.unwrap().status(), 503);
    let (status, body) = ready().await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    assert_eq!(body["store"], "ok");
    assert_eq!(body["commits"], "failing");
    assert!(
        body["reason"].as_str().unwrap().contains("commit"),
        "{body}"
    );

    // Space is freed: the next commit succeeds and readiness comes back.
    store.broken.store(false, Ordering::SeqCst);
    assert_eq!(deliver("full-2").await.unwrap().status(), 200);
    let (status, body) = ready().await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["commits"], "ok");
    assert!(body.get("reason").is_none(), "{body}");
}

#[tokio::test]
async fn the_public_listener_answers_json_errors_too() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path());
    config.public_listen = Some("127.0.0.1:0".into());
    let app = reckon::App::build(config).await.unwrap();
    let private = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public_url = format!("http://{}", public.local_addr().unwrap());
    tokio::spawn(app.serve_on(private, Some(public), std::future::pending()));
    let client = reqwest::Client::new();

    let response = client
        .get(format!("{public_url}/hooks/github"))
        .send()
        .await
        .unwrap();
    let (status, headers, body) = json_of(response).await;
    assert_eq!(status, 405, "{body}");
    assert_eq!(body["code"], "method_not_allowed");
    assert!(headers["allow"].to_str().unwrap().contains("POST"));

    let response = client
        .delete(format!("{public_url}/no/such/route"))
        .send()
        .await
        .unwrap();
    let (status, _, body) = json_of(response).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "not_found");
}
