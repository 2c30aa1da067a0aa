//! The Elasticsearch client against a local stand-in that records what it receives:
//! every request carries only headers OpenSearch and Elasticsearch 7.10–8.x all take,
//! credentials go where the config says, node URLs are used round-robin, and an API
//! key meant for OpenSearch (which has none) stops the start with the key named.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, Uri};
use axum::Router;
use reckon::settings::Config;
use reckon::store::elasticsearch::client;
use secrecy::SecretString;

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
}

/// Starts a stand-in node answering `{}` to everything; returns its URL and its log.
async fn node() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let app = Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, _body: Bytes| {
            let log = log.clone();
            async move {
                log.lock().unwrap().push(Seen {
                    method,
                    path: uri.path().to_owned(),
                    headers,
                });
                (
                    [("content-type", "application/json")],
                    r#"{"took":1,"errors":false,"items":[]}"#,
                )
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

fn config(urls: Vec<String>) -> Config {
    let mut config = Config::defaults();
    config.elasticsearch.url = urls;
    config
}

#[tokio::test]
async fn sends_only_headers_every_supported_cluster_accepts() {
    let (url, seen) = node().await;
    let mut config = config(vec![url]);
    config.elasticsearch.username = Some("reckon".into());
    config.elasticsearch.password = Some(SecretString::from("s3cret"));
    let es = client::build(&config.elasticsearch).unwrap();
    es.ping().send().await.unwrap();
    es.bulk(elasticsearch::BulkParts::None)
        .body(vec![
            elasticsearch::http::request::JsonBody::new(
                serde_json::json!({"index": {"_index": "x", "_id": "1"}}),
            ),
            elasticsearch::http::request::JsonBody::new(serde_json::json!({"a": 1})),
        ])
        .send()
        .await
        .unwrap();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        // No `compatible-with` vendor media types: OpenSearch and 7.10 answer those 406.
        assert_eq!(
            header("content-type").as_deref(),
            Some("application/json"),
            "{request:?}"
        );
        assert_eq!(
            header("accept").as_deref(),
            Some("application/json"),
            "{request:?}"
        );
        assert!(header("x-elastic-client-meta").is_none(), "{request:?}");
        // Basic auth, base64 of `reckon:s3cret`.
        assert_eq!(
            header("authorization").as_deref(),
            Some("Basic cmVja29uOnMzY3JldA==")
        );
    }
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("HEAD", "/")
    );
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("POST", "/_bulk")
    );
}

#[tokio::test]
async fn api_keys_in_either_form() {
    let (url, seen) = node().await;
    for (key, expected) in [
        // `id:key` is encoded by the client; the encoded form is sent as given.
        ("abc:xyz", "ApiKey YWJjOnh5eg=="),
        ("YWJjOnh5eg==", "ApiKey YWJjOnh5eg=="),
    ] {
        let mut config = config(vec![url.clone()]);
        config.elasticsearch.api_key = Some(SecretString::from(key));
        client::build(&config.elasticsearch)
            .unwrap()
            .ping()
            .send()
            .await
            .unwrap();
        let last = seen.lock().unwrap().last().unwrap().clone();
        assert_eq!(last.headers["authorization"], expected);
    }
}

#[tokio::test]
async fn several_nodes_take_turns() {
    let (a, seen_a) = node().await;
    let (b, seen_b) = node().await;
    let es = client::build(&config(vec![a, b]).elasticsearch).unwrap();
    for _ in 0..4 {
        es.ping().send().await.unwrap();
    }
    assert_eq!(seen_a.lock().unwrap().len(), 2);
    assert_eq!(seen_b.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_bad_ca_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config(vec!["https://127.0.0.1:9200".into()]);
    config.elasticsearch.ca_cert = Some(dir.path().join("missing.pem"));
    let err = client::build(&config.elasticsearch)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("elasticsearch.ca_cert") && err.contains("missing.pem"),
        "{err}"
    );
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    config.elasticsearch.ca_cert = Some(garbage);
    let err = client::build(&config.elasticsearch)
        .unwrap_err()
        .to_string();
    assert!(err.contains("no usable PEM"), "{err}");
}

/// OpenSearch has no API keys (fine-grained access control has internal users): a
/// configured `api_key` stops the start with an error naming it and what to use.
#[tokio::test]
async fn an_api_key_is_refused_at_start_when_the_cluster_is_opensearch() {
    use crate::es_standin::{Options, StandIn};
    use reckon::store::elasticsearch::ElasticsearchStore;
    let (_standin, url) = StandIn::start_with(Options {
        opensearch: true,
        ..Options::default()
    })
    .await;
    let mut config = config(vec![url]).elasticsearch;
    config.api_key = Some(SecretString::from("id:key"));
    let err = ElasticsearchStore::open(&config).await.err().unwrap();
    let chain = reckon::telemetry::chain(&err);
    for needle in [
        "elasticsearch.api_key",
        "OpenSearch 2.13.0",
        "elasticsearch.username",
        "elasticsearch.password",
    ] {
        assert!(chain.contains(needle), "{needle}: {chain}");
    }
    // A username and password are what OpenSearch takes.
    config.api_key = None;
    config.username = Some("reckon".into());
    config.password = Some(SecretString::from("s3cret"));
    ElasticsearchStore::open(&config).await.unwrap();
    // And an API key is fine on Elasticsearch.
    let (_standin, url) = StandIn::start().await;
    let mut config = self::config(vec![url]).elasticsearch;
    config.api_key = Some(SecretString::from("id:key"));
    ElasticsearchStore::open(&config).await.unwrap();
}

/// A cluster that refuses the API key (OpenSearch's security plugin answers 401 to a
/// scheme it does not know) gets an error naming the key and what to use instead.
#[tokio::test]
async fn a_refused_api_key_is_named_with_what_to_use_instead() {
    use reckon::store::elasticsearch::ElasticsearchStore;
    let app = Router::new().fallback(|| async {
        (
            axum::http::StatusCode::UNAUTHORIZED,
            [("www-authenticate", "Basic realm=\"OpenSearch Security\"")],
            "Unauthorized",
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut config = config(vec![url]).elasticsearch;
    config.api_key = Some(SecretString::from("id:key"));
    let err = ElasticsearchStore::open(&config).await.err().unwrap();
    let chain = reckon::telemetry::chain(&err);
    assert!(
        chain.contains("refused elasticsearch.api_key") && chain.contains("elasticsearch.username"),
        "{chain}"
    );
}
