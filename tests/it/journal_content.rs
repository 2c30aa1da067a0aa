//! The journal keeps bytes with a content type (the cases on both backends are in
//! `journal_conformance`): here, the migrations that bring older SQLite data dirs and
//! Elasticsearch clusters along, and text bodies through `POST /hooks/{source}`.

use reckon::model::ContentType;
use reckon::store::elasticsearch::ElasticsearchStore;
use reckon::store::sqlite::{SqliteOptions, SqliteStore};
use reckon::store::Journal;
use serde_json::{json, Value};

use crate::common::TestApp;
use crate::es_standin;
use crate::journal_conformance::text::{day_query, envelope, LINES};

/// A data dir of schema 5 (before content types) opens, migrates, and serves its rows
/// as the JSON they are.
#[tokio::test]
async fn sqlite_data_dirs_before_content_types_migrate() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reckon.sqlite3");
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    store
        .write_batch(vec![envelope("old", br#"{"old":1}"#, ContentType::Json)])
        .await
        .unwrap();
    drop(store);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("ALTER TABLE events DROP COLUMN content_type; PRAGMA user_version = 5;")
            .unwrap();
    }
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 6);
    store
        .write_batch(vec![envelope("new", b"new line\n", ContentType::Text)])
        .await
        .unwrap();
    let events = store.events(&day_query()).await.unwrap();
    let served: Vec<Value> = events
        .iter()
        .map(|e| serde_json::to_value(e).unwrap())
        .collect();
    assert_eq!(served[0]["payload"], json!({"old": 1}));
    assert!(served[0].get("content_type").is_none());
    assert_eq!(served[1]["payload"], "new line\n");
}

/// A cluster set up by the previous template revision: its journal index has no
/// `content_type` (strict mappings would refuse the field). Opening revises the
/// templates and adds the field to the existing index, so text lands in it.
#[tokio::test]
async fn elasticsearch_clusters_before_content_types_gain_the_field() {
    let (standin, config) = es_standin::test_cluster().await;
    let Some(standin) = standin else {
        return; // needs a cluster it may seed with an old layout: the stand-in only
    };
    let url = config.url[0].clone();
    let prefix = config.index_prefix.clone();
    // The previous revision's events template and this month's index, as it made them.
    let template = reckon::store::elasticsearch::layout::template(
        &reckon::store::elasticsearch::layout::Names {
            prefix: prefix.clone(),
        },
        "events",
    );
    let mut old = template.clone();
    old["version"] = json!(1);
    old["template"]["mappings"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("content_type");
    let http = reqwest::Client::new();
    let put = |path: String, body: Value| {
        let http = http.clone();
        let url = url.clone();
        async move {
            let reply = http
                .put(format!("{url}{path}"))
                .json(&body)
                .send()
                .await
                .unwrap();
            assert!(
                reply.status().is_success(),
                "{path}: {}",
                reply.text().await.unwrap()
            );
        }
    };
    put(format!("/_index_template/{prefix}-events-v1"), old).await;
    let month = chrono::Utc::now().format("%Y.%m");
    let index = format!("{prefix}-events-v1-{month}");
    put(format!("/{index}"), json!({})).await;

    let (store, report) = ElasticsearchStore::open(&config).await.unwrap();
    assert!(report
        .templates_written
        .contains(&format!("{prefix}-events-v1")));
    let now = chrono::Utc::now().timestamp_millis();
    let mut text = envelope("t-now", b"a line\n", ContentType::Text);
    text.received_at = now;
    let outcomes = store.write_batch(vec![text]).await.unwrap();
    assert_eq!(format!("{outcomes:?}"), "[Accepted]");
    let docs = standin.docs(&index);
    assert!(
        docs.iter()
            .any(|(_, _, d)| d["content_type"] == "text/plain"),
        "{docs:?}"
    );

    // Opening again finds the revision current and changes nothing.
    let (_, report) = ElasticsearchStore::open(&config).await.unwrap();
    assert!(report.templates_written.is_empty(), "{report:?}");
}

/// `POST /hooks/{source}` takes `text/plain` bodies, stores them as sent, serves them
/// back as text, and refuses text that is not UTF-8.
#[tokio::test]
async fn sources_take_text_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let config_file = dir.path().join("reckon.toml");
    std::fs::write(&config_file, "[sources.logs]\nauth = \"api-key\"\n").unwrap();
    let data = dir.path().join("data");
    let (ok, stdout, stderr) =
        crate::sources::reckon(&data, &config_file, &["keys", "add", "--source", "logs"]);
    assert!(ok, "{stderr}");
    let token = stdout
        .split_whitespace()
        .find(|w| w.starts_with("rk_"))
        .expect("the key is printed")
        .to_owned();
    let app = TestApp::spawn_in(&data, |c| {
        c.sources.insert(
            "logs".into(),
            reckon::sources::SourceConfig {
                auth: reckon::sources::SourceAuth::ApiKey,
                secrets: Default::default(),
                tolerance_seconds: 300,
                rate_limit: None,
                srcs: Vec::new(),
                public: false,
                read_tokens: Default::default(),
            },
        );
    })
    .await;
    let post = |body: Vec<u8>, key: &'static str| {
        app.client
            .post(app.url("/hooks/logs"))
            .bearer_auth(&token)
            .header("content-type", "text/plain; charset=utf-8")
            .header("idempotency-key", key)
            .body(body)
            .send()
    };
    let reply = post(LINES.as_bytes().to_vec(), "l-1").await.unwrap();
    assert_eq!(reply.status(), 200);
    let ack: Value = reply.json().await.unwrap();
    assert_eq!(ack["event"], "text");

    let bad = post(vec![b'o', b'k', 0xff, b'\n'], "l-2").await.unwrap();
    assert_eq!(bad.status(), 400);
    let bad: Value = bad.json().await.unwrap();
    assert_eq!(bad["code"], "malformed_body");

    let day = chrono::Utc::now().date_naive();
    let events = app
        .get_ok(&format!("/api/v1/events?source=logs&day={day}"))
        .await;
    let events = events["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["payload"], json!(LINES));
    assert_eq!(events[0]["content_type"], "text/plain");
}
