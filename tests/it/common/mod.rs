//! The integration-test harness: starts the real app on port 0 with a real SQLite file
//! in a temp dir, signs requests the way GitHub does, and reads the fixture payloads.
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use reckon::config::SecretList;
use reckon::settings::Config;
use secrecy::SecretString;
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub const SECRET: &str = "It's a Secret to Everybody";

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    /// Sends the admin token (the one the first start issued) with every request that
    /// sets no `Authorization` of its own.
    pub client: reqwest::Client,
    /// Sends no token.
    pub anonymous: reqwest::Client,
    /// The admin token the first start issued.
    pub token: String,
    pub data_dir: PathBuf,
    /// Keeps the temp dir alive for the test unless the test took it over.
    _dir: Option<tempfile::TempDir>,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<Result<(), reckon::Error>>>,
}

pub fn test_config(data_dir: &Path) -> Config {
    let mut config = Config::defaults();
    config.data_dir = data_dir.to_owned();
    config.github.webhook_secret = SecretList::new(vec![SecretString::from(SECRET.to_owned())]);
    config
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(configure: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut app = Self::spawn_in(dir.path(), configure).await;
        app._dir = Some(dir);
        app
    }

    /// Starts on an existing data dir (for restart tests); the caller owns the dir.
    pub async fn spawn_in(data_dir: &Path, configure: impl FnOnce(&mut Config)) -> TestApp {
        let mut config = test_config(data_dir);
        configure(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = reckon::App::build(config).await.expect("app builds");
        let token = admin_token(data_dir);
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.serve(listener, async {
            let _ = rx.await;
        }));
        TestApp {
            addr,
            base: format!("http://{addr}"),
            client: client_with_token(&token),
            anonymous: reqwest::Client::new(),
            token,
            data_dir: data_dir.to_owned(),
            _dir: None,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// Graceful shutdown; returns once every queued delivery is committed.
    pub async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.await.unwrap().expect("clean shutdown");
        }
        self._dir.take()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// POSTs a JSON payload to /hooks/github, signed with [`SECRET`].
    pub async fn github(&self, event: &str, delivery: &str, body: &[u8]) -> reqwest::Response {
        self.github_request(event, delivery, body)
            .send()
            .await
            .unwrap()
    }

    pub fn github_request(
        &self,
        event: &str,
        delivery: &str,
        body: &[u8],
    ) -> reqwest::RequestBuilder {
        self.post_with(github_headers(event, delivery, body), body)
    }

    /// POSTs `body` to /hooks/github with exactly these headers.
    pub fn post_with(
        &self,
        headers: Vec<(&'static str, String)>,
        body: &[u8],
    ) -> reqwest::RequestBuilder {
        let mut request = self
            .client
            .post(self.url("/hooks/github"))
            .body(body.to_vec());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).send().await.unwrap();
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// GETs a path that must answer 200, returning its JSON.
    pub async fn get_ok(&self, path: &str) -> Value {
        let (status, body) = self.get(path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Every stored delivery-log record (accepted and duplicate), newest first.
    pub async fn stored_deliveries(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut path = "/api/v1/deliveries?limit=1000&status=accepted".to_owned();
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let page = self.get_ok(&path).await;
            out.extend(page["deliveries"].as_array().unwrap().iter().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let dups = self
            .get_ok("/api/v1/deliveries?limit=1000&status=duplicate")
            .await;
        out.extend(dups["deliveries"].as_array().unwrap().iter().cloned());
        out
    }

    /// The one UTC day holding stored events (asked of the server, so a test running
    /// across midnight cannot disagree with it).
    pub async fn event_day(&self) -> String {
        let days = self.get_ok("/api/v1/events/days").await;
        let days = days["days"].as_array().unwrap();
        assert_eq!(
            days.len(),
            1,
            "expected events on exactly one day: {days:?}"
        );
        days[0]["day"].as_str().unwrap().to_owned()
    }

    /// Total raw events stored, over every source and day.
    pub async fn event_count(&self) -> u64 {
        let days = self.get_ok("/api/v1/events/days").await;
        days["days"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["events"].as_u64().unwrap())
            .sum()
    }
}

/// The headers GitHub sends with a JSON delivery, signed with [`SECRET`].
/// The admin token a first start on loopback keeps in the data dir.
pub fn admin_token(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join(reckon::access::bootstrap::FILE_NAME))
        .expect("the first start keeps an admin token in the data dir")
        .trim()
        .to_owned()
}

/// A client that sends `token` as its bearer token unless a request sets its own.
pub fn client_with_token(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
    value.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

pub fn github_headers(event: &str, delivery: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    vec![
        ("content-type", "application/json".into()),
        ("x-github-event", event.into()),
        ("x-github-delivery", delivery.into()),
        ("x-github-hook-id", "4242".into()),
        ("x-hub-signature-256", sign(SECRET, body)),
    ]
}

/// `headers` with `name` set to `value` (or removed, for `None`).
pub fn with_header(
    mut headers: Vec<(&'static str, String)>,
    name: &'static str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    headers.retain(|(n, _)| *n != name);
    if let Some(value) = value {
        headers.push((name, value.to_owned()));
    }
    headers
}

pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/github-webhooks")
}

/// One fixture payload: its event (the folder), its file name and its bytes.
pub struct Fixture {
    pub event: String,
    pub name: String,
    pub body: Vec<u8>,
}

/// Every JSON payload under the fixtures folder.
pub fn fixtures() -> Vec<Fixture> {
    let mut out = Vec::new();
    for entry in
        std::fs::read_dir(fixtures_dir()).expect("../shared/fixtures/github-webhooks exists")
    {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let event = dir.file_name().unwrap().to_string_lossy().into_owned();
        for file in std::fs::read_dir(&dir).unwrap() {
            let path = file.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                out.push(Fixture {
                    event: event.clone(),
                    name: path.file_name().unwrap().to_string_lossy().into_owned(),
                    body: std::fs::read(&path).unwrap(),
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.event, &a.name).cmp(&(&b.event, &b.name)));
    out
}

pub fn fixture(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(fixtures_dir().join(path)).unwrap()).unwrap()
}
