//! `POST /hooks/{source}` for server sources: Standard Webhooks signatures with
//! timestamps and dedup, and API keys created with the real `reckon keys` CLI, each
//! bound to one source and revocable.

use std::process::Command;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use reckon::config::SecretList;
use reckon::settings::Config;
use reckon::sources::SourceAuth;
use reckon::sources::SourceConfig;
use secrecy::SecretString;
use serde_json::Value;
use sha2::Sha256;

use crate::common::TestApp;

const WHSEC: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn add_sources(config: &mut Config) {
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
    for name in ["game-servers", "billing"] {
        config.sources.insert(
            name.into(),
            SourceConfig {
                auth: SourceAuth::ApiKey,
                secrets: SecretList::default(),
                tolerance_seconds: 300,
                rate_limit: None,
                srcs: Vec::new(),
                public: false,
                read_tokens: SecretList::default(),
            },
        );
    }
}

const SOURCES_TOML: &str = r#"
[sources.ci]
auth = "standard-webhooks"
secrets = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]

[sources.game-servers]
auth = "api-key"

[sources.billing]
auth = "api-key"
"#;

fn standard_signature(id: &str, ts: i64, body: &[u8]) -> String {
    let key = B64.decode(WHSEC.trim_start_matches("whsec_")).unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
}

async fn post_standard(
    app: &TestApp,
    id: &str,
    ts: i64,
    signature: &str,
    body: &[u8],
) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/hooks/ci"))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn standard_webhooks_are_verified_and_deduplicated() {
    let app = TestApp::spawn_with(add_sources).await;
    let now = chrono::Utc::now().timestamp();
    let body = br#"{"type":"build.finished","data":{"id":42,"result":"passed"}}"#;

    let (status, ack) = post_standard(
        &app,
        "msg_1",
        now,
        &standard_signature("msg_1", now, body),
        body,
    )
    .await;
    assert_eq!(status, 200, "{ack}");
    assert_eq!(ack["status"], "accepted");
    assert_eq!(ack["event"], "build.finished");

    // Several signatures in one header: any valid one is enough.
    let sigs = format!("v1,AAAA {}", standard_signature("msg_1", now, body));
    let (status, ack) = post_standard(&app, "msg_1", now, &sigs, body).await;
    assert_eq!((status, ack["status"].as_str()), (200, Some("duplicate")));

    let (status, err) = post_standard(
        &app,
        "msg_2",
        now,
        &standard_signature("msg_2", now, b"{}"),
        body,
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("signature_invalid"))
    );
    let stale = now - 360;
    let (status, err) = post_standard(
        &app,
        "msg_3",
        stale,
        &standard_signature("msg_3", stale, body),
        body,
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("timestamp_out_of_range"))
    );
    // Well past the 300 s tolerance, so a second ticking over mid-test cannot matter.
    let future = now + 360;
    let (status, err) = post_standard(
        &app,
        "msg_4",
        future,
        &standard_signature("msg_4", future, body),
        body,
    )
    .await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("timestamp_out_of_range"))
    );

    let unknown = app
        .client
        .post(app.url("/hooks/nope"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    assert_eq!(
        unknown.json::<Value>().await.unwrap()["code"],
        "unknown_source"
    );

    let days = app.get_ok("/api/v1/events/days?source=ci").await;
    assert_eq!(days["days"][0]["events"], 1);
    let day = days["days"][0]["day"].as_str().unwrap().to_owned();
    let events = app
        .get_ok(&format!("/api/v1/events?source=ci&day={day}"))
        .await;
    assert_eq!(events["events"][0]["kind"], "build.finished");
    assert_eq!(events["events"][0]["payload"]["data"]["id"], 42);
}

pub(crate) fn reckon(
    data_dir: &std::path::Path,
    config: &std::path::Path,
    args: &[&str],
) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_reckon"))
        .arg("--config")
        .arg(config)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RUST_BACKTRACE", "0")
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn post_key(
    app: &TestApp,
    source: &str,
    key: Option<&str>,
    idempotency: Option<&str>,
) -> (u16, Value) {
    let mut request = app
        .anonymous
        .post(app.url(&format!("/hooks/{source}")))
        .header("content-type", "application/json")
        .body(r#"{"type":"player.joined","player":"p1"}"#);
    if let Some(key) = key {
        request = request.header("authorization", format!("Bearer {key}"));
    }
    if let Some(id) = idempotency {
        request = request.header("idempotency-key", id);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

#[tokio::test]
async fn api_keys_from_the_cli_are_bound_to_one_source_and_revocable() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("reckon.toml");
    std::fs::write(&config_file, SOURCES_TOML).unwrap();
    let data = dir.path().join("data");

    let (ok, stdout, stderr) = reckon(
        &data,
        &config_file,
        &["keys", "add", "--source", "game-servers", "--name", "eu-1"],
    );
    assert!(ok, "{stderr}");
    let key = stdout
        .split_whitespace()
        .find(|w| w.starts_with("rk_"))
        .expect("the key is printed")
        .to_owned();
    let (ok, _, stderr) = reckon(&data, &config_file, &["keys", "add", "--source", "ci"]);
    assert!(!ok && stderr.contains("api-key"), "{stderr}");

    let app = TestApp::spawn_in(&data, add_sources).await;
    let (status, ack) = post_key(&app, "game-servers", Some(&key), Some("evt-1")).await;
    assert_eq!(status, 200, "{ack}");
    assert_eq!(ack["event"], "player.joined");
    let (_, ack) = post_key(&app, "game-servers", Some(&key), Some("evt-1")).await;
    assert_eq!(ack["status"], "duplicate");
    // Without an idempotency key every submission is its own event.
    let (_, a) = post_key(&app, "game-servers", Some(&key), None).await;
    let (_, b) = post_key(&app, "game-servers", Some(&key), None).await;
    assert_eq!(
        (a["status"].as_str(), b["status"].as_str()),
        (Some("accepted"), Some("accepted"))
    );

    let (status, err) = post_key(&app, "billing", Some(&key), None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (403, Some("api_key_wrong_source"))
    );
    let (status, err) = post_key(&app, "game-servers", None, None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("api_key_missing"))
    );
    // `/hooks/{source}` takes keys as `Bearer` only (a bare key is for `/submit`).
    let bare = app
        .client
        .post(app.url("/hooks/game-servers"))
        .header("authorization", &key)
        .header("content-type", "application/json")
        .body(r#"{"type":"player.joined"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    let bare: Value = bare.json().await.unwrap();
    assert_eq!(bare["code"], "api_key_missing");
    // Change the last character of the secret, whatever it is.
    let last = if key.ends_with('x') { 'y' } else { 'x' };
    let forged = format!("{}{last}", &key[..key.len() - 1]);
    let (status, err) = post_key(&app, "game-servers", Some(&forged), None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("api_key_invalid"))
    );

    let (ok, listing, _) = reckon(&data, &config_file, &["keys", "list"]);
    assert!(ok && listing.contains("game-servers") && listing.contains("eu-1"));
    assert!(!listing.contains(&key), "keys are never shown again");
    let id = key.trim_start_matches("rk_").split('_').next().unwrap();
    let (ok, _, stderr) = reckon(&data, &config_file, &["keys", "revoke", id]);
    assert!(ok, "{stderr}");
    let (status, err) = post_key(&app, "game-servers", Some(&key), None).await;
    assert_eq!(
        (status, err["code"].as_str()),
        (401, Some("api_key_invalid"))
    );
    assert_eq!(app.event_count().await, 3);
    app.stop().await;
}

#[tokio::test]
async fn rate_limits_apply_per_key_and_per_source() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("reckon.toml");
    std::fs::write(&config_file, SOURCES_TOML).unwrap();
    let data = dir.path().join("data");
    let mut keys = Vec::new();
    for name in ["a", "b"] {
        let (ok, stdout, stderr) = reckon(
            &data,
            &config_file,
            &["keys", "add", "--source", "game-servers", "--name", name],
        );
        assert!(ok, "{stderr}");
        keys.push(
            stdout
                .split_whitespace()
                .find(|w| w.starts_with("rk_"))
                .unwrap()
                .to_owned(),
        );
    }
    // One request per second, bursts of two: the third quick request is refused.
    let limit = reckon::config::RateLimit {
        per_second: 1,
        burst: Some(2),
    };
    let app = TestApp::spawn_in(&data, |c| {
        add_sources(c);
        c.sources.get_mut("game-servers").unwrap().rate_limit = Some(limit);
        c.github.rate_limit = Some(limit);
    })
    .await;
    for expected in [200, 200, 429] {
        let (status, body) = post_key(&app, "game-servers", Some(&keys[0]), None).await;
        assert_eq!(status, expected, "{body}");
    }
    let response = app
        .client
        .post(app.url("/hooks/game-servers"))
        .header("authorization", format!("Bearer {}", keys[0]))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(
        response.json::<Value>().await.unwrap()["code"],
        "rate_limited"
    );
    // Another key of the same source has its own budget.
    let (status, _) = post_key(&app, "game-servers", Some(&keys[1]), None).await;
    assert_eq!(status, 200);
    // GitHub, when limited, is limited per source.
    let body = br#"{"zen":"limited"}"#;
    let statuses: Vec<u16> = github_statuses(&app, body).await;
    assert_eq!(statuses, [200, 200, 429]);
    assert_eq!(app.event_count().await, 5);
}

async fn github_statuses(app: &TestApp, body: &[u8]) -> Vec<u16> {
    let mut out = Vec::new();
    for i in 0..3 {
        out.push(
            app.github("ping", &format!("rl-{i}"), body)
                .await
                .status()
                .as_u16(),
        );
    }
    out
}

#[tokio::test]
async fn the_source_list_names_each_source_with_its_scheme() {
    let app = TestApp::spawn_with(|c| {
        add_sources(c);
        c.sources.get_mut("billing").unwrap().public = true;
    })
    .await;
    let list = app.get_ok("/api/v1/sources").await;
    let sources = list["sources"].as_array().expect("a list of sources");
    let names: Vec<&str> = sources.iter().filter_map(|s| s["name"].as_str()).collect();
    // GitHub first, then the configured sources in name order.
    assert_eq!(names, ["github", "billing", "ci", "game-servers"]);
    let by_name = |name: &str| {
        sources
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("{name} is listed"))
            .clone()
    };
    assert_eq!(
        by_name("github"),
        serde_json::json!({"name": "github", "auth": "github", "server_events": false, "public": false})
    );
    assert_eq!(
        by_name("ci"),
        serde_json::json!({"name": "ci", "auth": "standard-webhooks", "server_events": false, "public": false})
    );
    assert_eq!(
        by_name("game-servers"),
        serde_json::json!({"name": "game-servers", "auth": "api-key", "server_events": true, "public": false})
    );
    assert_eq!(by_name("billing")["public"], true);
    // Without a token, only what is public is listed.
    let anonymous: Value = app
        .anonymous
        .get(app.url("/api/v1/sources"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        anonymous["sources"],
        serde_json::json!([by_name("billing")])
    );
}
