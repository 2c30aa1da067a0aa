//! Page views end to end on the real server: beacons (GET, POST as sendBeacon sends
//! them), Plausible's event API, the live WebSocket (answers, pushes to other readers,
//! and across two replicas on one store), bots dropped and counted, refusals that
//! store nothing, and no IP address or User-Agent anywhere in the data dir.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reckon::sources::pageviews::{salt, sites};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::common::{test_config, TestApp};

const SITE: &str = "blog.test";
const ORIGIN: &str = "https://blog.test";
const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// Registers `domain` on the app's store, as `reckon sites add` does.
async fn add_site(app: &TestApp, domain: &str, public_live: bool) {
    let store = reckon::open_store(&test_config(&app.data_dir))
        .await
        .unwrap();
    sites::add(
        store.as_ref(),
        domain,
        &[format!("https://{domain}")],
        false,
        public_live,
    )
    .await
    .unwrap();
}

async fn beacon(app: &TestApp, query: &str, agent: &str) -> reqwest::Response {
    app.anonymous
        .get(app.url(&format!("/api/v1/beacon?{query}")))
        .header("user-agent", agent)
        .header("origin", ORIGIN)
        .send()
        .await
        .unwrap()
}

async fn event(app: &TestApp, body: Value, agent: &str, origin: &str) -> reqwest::Response {
    app.anonymous
        .post(app.url("/api/event"))
        .header("user-agent", agent)
        .header("origin", origin)
        .header("content-type", "text/plain")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

async fn stats(app: &TestApp, query: &str) -> Value {
    app.get_ok(&format!("/api/v1/sites/{SITE}/stats?{query}"))
        .await
}

#[tokio::test]
async fn beacons_and_plausible_events_are_counted_with_their_referrers() {
    let app = TestApp::spawn().await;
    add_site(&app, SITE, false).await;
    let r = beacon(
        &app,
        "site=blog.test&p=/post-1&r=https://www.google.com/search?q=x&u=1",
        FIREFOX,
    )
    .await;
    assert_eq!(r.status(), 204);
    let r = app
        .anonymous
        .get(app.url("/api/v1/beacon?site=blog.test&p=/post-1"))
        .header("user-agent", CHROME)
        .header("accept", "image/avif,image/webp,image/*,*/*;q=0.8")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/gif");
    assert_eq!(&r.bytes().await.unwrap()[..6], b"GIF89a");
    // sendBeacon: text/plain JSON, and a form.
    for (content_type, body) in [
        (
            "text/plain;charset=UTF-8",
            r#"{"site":"blog.test","p":"https://blog.test/post-2?utm_source=newsletter&x=1","u":1}"#,
        ),
        (
            "application/x-www-form-urlencoded",
            "site=blog.test&p=%2Fpost-2&r=https%3A%2F%2Fblog.test%2Fpost-1",
        ),
    ] {
        let r = app
            .anonymous
            .post(app.url("/api/v1/beacon"))
            .header("user-agent", FIREFOX)
            .header("origin", ORIGIN)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204, "{content_type}");
    }
    // Plausible's tracker, short names; then long names, listing two domains.
    let r = event(&app, json!({"n": "pageview", "u": "https://blog.test/about", "d": SITE, "r": "https://news.ycombinator.com/item?id=1"}), CHROME, ORIGIN).await;
    assert_eq!(r.status(), 202);
    assert!(r.headers().get("x-plausible-dropped").is_none());
    let r = event(&app, json!({"name": "pageview", "url": "https://blog.test/about", "domain": "blog.test,unknown.test", "referrer": null}), CHROME, ORIGIN).await;
    assert_eq!(r.status(), 202);
    let r = event(
        &app,
        json!({"n": "Signup", "u": "https://blog.test/about", "d": SITE, "p": {"plan": "free"}}),
        CHROME,
        ORIGIN,
    )
    .await;
    assert_eq!(r.status(), 202);

    let s = stats(&app, "top=10").await;
    assert_eq!(s["totals"]["views"], 6, "{s}");
    // Client flags: the first beacon's `u=1` and the text/plain beacon's `u: 1`.
    assert_eq!(s["totals"]["uniques"], 2);
    // Two User-Agents from one address: two visitors.
    assert_eq!(s["totals"]["visitors"], 2);
    let names = |list: &str| -> Vec<(String, u64)> {
        s[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().to_owned(),
                    r["views"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        names("pages"),
        [
            ("/about".into(), 2),
            ("/post-1".into(), 2),
            ("/post-2".into(), 2)
        ]
    );
    assert_eq!(
        names("referrers"),
        [
            ("(direct)".into(), 4),
            ("google.com".into(), 1),
            ("news.ycombinator.com".into(), 1)
        ]
    );
    assert_eq!(
        names("sources"),
        [
            ("Google".into(), 1),
            ("Hacker News".into(), 1),
            ("newsletter".into(), 1)
        ]
    );
    // The view from /post-1 to /post-2 is not an entry.
    assert_eq!(s["totals"]["entries"], 5);
    let filtered = stats(&app, "page=/post-1").await;
    assert_eq!(filtered["totals"]["views"], 2);
    let direct = stats(&app, "referrer=(direct)&interval=hour").await;
    assert_eq!(direct["totals"]["views"], 4);
    assert_eq!(direct["series"].as_array().unwrap().len(), 30 * 24 + 1);
    let now = app.get_ok(&format!("/api/v1/sites/{SITE}/now")).await;
    assert_eq!(now["views"], 6);
    assert_eq!(now["visitors"], 2);
}

#[tokio::test]
async fn bots_are_dropped_counted_and_never_viewed() {
    let app = TestApp::spawn().await;
    add_site(&app, SITE, false).await;
    assert_eq!(
        beacon(&app, "site=blog.test&p=/a", GOOGLEBOT)
            .await
            .status(),
        204
    );
    let r = event(&app, json!({"n": "pageview", "u": "https://blog.test/a", "d": SITE}), "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36", ORIGIN).await;
    assert_eq!(r.status(), 202);
    assert_eq!(r.headers()["x-plausible-dropped"], "1");
    let r = app
        .anonymous
        .get(app.url("/api/v1/beacon?site=blog.test&p=/a"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let s = stats(&app, "").await;
    assert_eq!(s["totals"]["views"], 0);
    let dropped: Vec<(String, u64)> = s["dropped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["reason"].as_str().unwrap().to_owned(),
                d["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        dropped,
        [
            ("automated_browser".into(), 1),
            ("bot".into(), 1),
            ("no_user_agent".into(), 1)
        ]
    );
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(r#"source="pageviews",event="bot",outcome="dropped"#),
        "{metrics}"
    );
}

#[tokio::test]
async fn unknown_sites_foreign_origins_and_bad_hits_store_nothing() {
    let app = TestApp::spawn().await;
    add_site(&app, SITE, false).await;
    // Beacons are refused silently, with the reason in the delivery log.
    assert_eq!(
        beacon(&app, "site=nope.test&p=/a", FIREFOX).await.status(),
        204
    );
    let r = app
        .anonymous
        .get(app.url("/api/v1/beacon?site=blog.test&p=/a"))
        .header("user-agent", FIREFOX)
        .header("origin", "https://evil.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let log = app.get_ok("/api/v1/deliveries?status=rejected").await;
    let reasons: Vec<&str> = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["reason"].as_str())
        .collect();
    assert!(
        reasons.contains(&"unknown_site") && reasons.contains(&"origin_not_allowed"),
        "{log}"
    );
    // Events get the error itself.
    let cases = [
        (
            json!({"n": "pageview", "u": "https://x.test/", "d": "nope.test"}),
            ORIGIN,
            403,
            "unknown_site",
        ),
        (
            json!({"n": "pageview", "u": "https://blog.test/", "d": SITE}),
            "https://evil.test",
            403,
            "origin_not_allowed",
        ),
        (
            json!({"n": "pageview", "u": "javascript:alert(1)", "d": SITE}),
            ORIGIN,
            400,
            "invalid_hit",
        ),
        (
            json!({"n": "pageview", "d": SITE}),
            ORIGIN,
            400,
            "invalid_hit",
        ),
        (json!([1, 2]), ORIGIN, 400, "malformed_body"),
    ];
    for (body, origin, status, code) in cases {
        let r = event(&app, body.clone(), FIREFOX, origin).await;
        assert_eq!(r.status(), status, "{body}");
        let answer: Value = r.json().await.unwrap();
        assert_eq!(answer["code"], code, "{body}");
    }
    let r = app
        .anonymous
        .post(app.url("/api/v1/beacon"))
        .header("user-agent", FIREFOX)
        .body(vec![b'x'; 9000])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(stats(&app, "").await["totals"]["views"], 0);
    // Reads need a token for the site, and a missing site is a 404.
    let r = app
        .anonymous
        .get(app.url("/api/v1/sites/blog.test/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, body) = app.get("/api/v1/sites/nope.test/stats").await;
    assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
    let (status, body) = app
        .get("/api/v1/sites/blog.test/stats?interval=hour&from=2020-01-01")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_query"))
    );
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(base: &str) -> Socket {
    connect_as(base, None).await
}

/// A socket to the site's live endpoint, with `token` as `Authorization: Bearer`.
async fn connect_as(base: &str, token: Option<&str>) -> Socket {
    let url = format!("{}/api/v1/live?site={SITE}", base.replacen("http", "ws", 1));
    let mut request = url.into_client_request().unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    request
        .headers_mut()
        .insert("origin", ORIGIN.parse().unwrap());
    request
        .headers_mut()
        .insert("user-agent", FIREFOX.parse().unwrap());
    tokio_tungstenite::connect_async(request).await.unwrap().0
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The next text message, as JSON (a test that waits forever fails by the harness).
async fn next(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a message within 30 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

/// The next push for `article` with at least `views` views.
async fn pushed(socket: &mut Socket, article: &str, views: u64) -> Value {
    loop {
        let m = next(socket).await;
        if m["articleId"] == article && m["views"].as_u64().unwrap_or(0) >= views {
            return m;
        }
    }
}

fn view(article: &str, refreshed: bool) -> Value {
    json!({"message": "views", "articleId": article, "articleTitle": "Post 1",
        "previousPage": "", "currentPage": format!("/{article}"), "refreshed": refreshed,
        "referrer": ""})
}

#[tokio::test]
async fn socket_views_are_answered_and_pushed_to_every_reader() {
    let app = TestApp::spawn().await;
    add_site(&app, SITE, true).await;
    let mut writer = connect(&app.base).await;
    let mut reader = connect(&app.base).await;
    send(&mut writer, view("post-1", false)).await;
    let answer = next(&mut writer).await;
    assert_eq!(
        answer,
        json!({"message": "views", "articleId": "post-1", "views": 1, "uniques": 1})
    );
    send(
        &mut reader,
        json!({"message": "subscribe", "articleId": "post-1"}),
    )
    .await;
    assert_eq!(next(&mut reader).await["views"], 1);
    send(&mut writer, view("post-1", true)).await;
    let push = pushed(&mut reader, "post-1", 2).await;
    assert_eq!(
        push,
        json!({"message": "views", "articleId": "post-1", "views": 2, "uniques": 1})
    );
    // A beacon for the article's path reaches socket readers too (the article is the path).
    send(
        &mut reader,
        json!({"message": "subscribe", "articleId": "/post-9"}),
    )
    .await;
    let _ = next(&mut reader).await;
    assert_eq!(
        beacon(&app, "site=blog.test&p=/post-9", CHROME)
            .await
            .status(),
        204
    );
    assert_eq!(pushed(&mut reader, "/post-9", 1).await["views"], 1);
    // Garbage gets an error message, and the socket stays usable.
    socket_error(&mut writer, "not json", "malformed_body").await;
    socket_error(&mut writer, r#"{"message":"views"}"#, "invalid_hit").await;
    send(&mut writer, view("post-1", true)).await;
    assert_eq!(pushed(&mut writer, "post-1", 3).await["views"], 3);
    // One socket follows a bounded number of articles.
    // It follows post-1 and /post-9 already.
    for i in 0..98 {
        let article = format!("a-{i}");
        send(
            &mut reader,
            json!({"message": "subscribe", "articleId": article}),
        )
        .await;
        assert_eq!(pushed(&mut reader, &article, 0).await["views"], 0);
    }
    socket_error(
        &mut reader,
        r#"{"message":"subscribe","articleId":"one-too-many"}"#,
        "too_many_articles",
    )
    .await;
    // A message far larger than any view closes the socket.
    let huge = json!({"message": "views", "articleId": "x".repeat(20_000)}).to_string();
    let _ = reader.send(Message::Text(huge.into())).await;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), reader.next())
            .await
            .unwrap()
        {
            None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
            Some(Ok(_)) => continue,
        }
    }
    let s = stats(&app, "").await;
    assert_eq!(s["totals"]["views"], 4);
}

async fn socket_error(socket: &mut Socket, text: &str, code: &str) {
    socket
        .send(Message::Text(text.to_owned().into()))
        .await
        .unwrap();
    // Pushes for the articles this socket follows may come first.
    let mut m = next(socket).await;
    while m["message"] == "views" {
        m = next(socket).await;
    }
    assert_eq!(
        (m["message"].as_str(), m["code"].as_str()),
        (Some("error"), Some(code)),
        "{m}"
    );
}

#[tokio::test]
async fn private_live_counts_and_unknown_sites() {
    let app = TestApp::spawn().await;
    add_site(&app, SITE, false).await;
    let mut socket = connect(&app.base).await;
    send(&mut socket, view("post-1", false)).await;
    // Counted, but the counts are not public.
    assert_eq!(
        next(&mut socket).await,
        json!({"message": "views", "articleId": "post-1"})
    );
    let url = format!(
        "{}/api/v1/live?site=nope.test",
        app.base.replacen("http", "ws", 1)
    );
    let err = tokio_tungstenite::connect_async(url).await.unwrap_err();
    match err {
        tokio_tungstenite::tungstenite::Error::Http(response) => assert_eq!(response.status(), 403),
        other => panic!("expected a 403, got {other}"),
    }
    assert_eq!(stats(&app, "").await["totals"]["views"], 1);
}

/// Issues a read token for `scope` straight into the app's store, as `reckon tokens add`.
async fn read_token(app: &TestApp, scope: &str) -> String {
    use reckon::access::token::{self, Tokens};
    let store = reckon::open_store(&test_config(&app.data_dir))
        .await
        .unwrap();
    let new = token::generate("live", [scope.parse().unwrap()].into(), None);
    Tokens::new(store.as_ref())
        .create(&new.record)
        .await
        .unwrap();
    new.token
}

#[tokio::test]
async fn a_read_token_for_the_site_sees_private_live_counts() {
    let app = TestApp::spawn().await;
    add_site(&app, SITE, false).await;
    let mine = read_token(&app, &format!("site:{SITE}")).await;
    let theirs = read_token(&app, "site:other.test").await;
    let mut reader = connect_as(&app.base, Some(&mine)).await;
    send(&mut reader, view("post-1", false)).await;
    assert_eq!(
        next(&mut reader).await,
        json!({"message": "views", "articleId": "post-1", "views": 1, "uniques": 1})
    );
    // A token for another site is just an anonymous reader here.
    let mut stranger = connect_as(&app.base, Some(&theirs)).await;
    send(&mut stranger, view("post-1", true)).await;
    assert_eq!(
        next(&mut stranger).await,
        json!({"message": "views", "articleId": "post-1"})
    );
    // The stranger's view is pushed to the reader with the token.
    pushed(&mut reader, "post-1", 2).await;
}

/// Starts `reckon serve` as its own process on `data_dir`; answers its base URL.
async fn replica(data_dir: &std::path::Path) -> (tokio::process::Child, String) {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--no-scheduler",
            "--data-dir",
        ])
        .arg(data_dir)
        .env("RECKON_GITHUB_WEBHOOK_SECRET", crate::common::SECRET)
        .env("RECKON_LOG_LEVEL", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(addr) = line.strip_prefix("reckon is listening on ") {
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, addr.trim().to_owned());
        }
    }
    panic!("the replica exited before listening");
}

#[tokio::test]
async fn a_view_taken_by_one_replica_is_pushed_by_another() {
    let app = TestApp::spawn().await;
    add_site(&app, SITE, true).await;
    let (_replica, other) = replica(&app.data_dir).await;
    let mut reader = connect(&other).await;
    send(
        &mut reader,
        json!({"message": "subscribe", "articleId": "/shared"}),
    )
    .await;
    assert_eq!(next(&mut reader).await["views"], 0);
    // The view goes to the first replica; the reader is on the second.
    assert_eq!(
        beacon(&app, "site=blog.test&p=/shared", CHROME)
            .await
            .status(),
        204
    );
    assert_eq!(pushed(&mut reader, "/shared", 1).await["views"], 1);
    let mut writer = connect(&app.base).await;
    send(&mut writer, view("shared", false)).await;
    let _ = next(&mut writer).await;
    send(
        &mut reader,
        json!({"message": "subscribe", "articleId": "shared"}),
    )
    .await;
    let _ = pushed(&mut reader, "shared", 1).await;
}

/// Every file under `dir`, as bytes.
pub(crate) fn files(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

#[tokio::test]
async fn no_ip_address_or_user_agent_reaches_the_data_dir() {
    let app =
        TestApp::spawn_with(|c| c.pageviews.client_ip_header = "x-forwarded-for".into()).await;
    add_site(&app, SITE, true).await;
    let agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 ReckonPrivacyProbe/7.7";
    let ip = "203.0.113.77";
    let r = app
        .anonymous
        .get(app.url("/api/v1/beacon?site=blog.test&p=/a?email=someone%40example.com&r=https://www.google.com/search?q=private-words"))
        .header("user-agent", agent)
        .header("origin", ORIGIN)
        .header("x-forwarded-for", format!("10.0.0.1, {ip}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let body = json!({"n": "pageview", "u": "https://blog.test/b", "d": SITE});
    let r = app
        .anonymous
        .post(app.url("/api/event"))
        .header("user-agent", agent)
        .header("origin", ORIGIN)
        .header("x-forwarded-for", ip)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let s = stats(&app, "").await;
    assert_eq!(
        (
            s["totals"]["views"].as_u64(),
            s["totals"]["visitors"].as_u64()
        ),
        (Some(2), Some(1))
    );
    let dir = app.stop().await.unwrap();
    let probes = [
        "ReckonPrivacyProbe",
        ip,
        "private-words",
        "someone@example.com",
        "someone%40example.com",
    ];
    let files = files(dir.path());
    assert!(files.iter().any(|(p, _)| p.ends_with("reckon.sqlite3")));
    for (path, bytes) in &files {
        for probe in probes {
            let found = bytes.windows(probe.len()).any(|w| w == probe.as_bytes());
            assert!(!found, "`{probe}` is in {}", path.display());
        }
    }
}

const DAY_MS: i64 = 86_400_000;

#[tokio::test]
async fn salts_rotate_at_utc_midnight_and_yesterdays_is_destroyed_after_a_visit() {
    let dir = tempfile::tempdir().unwrap();
    let store = reckon::open_store(&test_config(dir.path())).await.unwrap();
    let store = store.as_ref();
    // 2026-03-02T23:50:00Z, then just after midnight, then past the 30-minute visit.
    let evening = 1_772_495_400_000;
    let midnight = evening + 10 * 60_000;
    let salts = salt::Salts::new(30);
    let first = salts.at(store, evening).await.unwrap();
    assert!(first.previous.is_none());
    let hash = first.today.visitor(SITE, "198.51.100.1", FIREFOX);
    assert_eq!(hash.len(), 32);
    assert_eq!(hash, first.today.visitor(SITE, "198.51.100.1", FIREFOX));
    assert_ne!(
        hash,
        first.today.visitor("other.test", "198.51.100.1", FIREFOX)
    );
    // Another replica reads the same salt.
    let other = salt::Salts::new(30);
    assert_eq!(other.at(store, evening).await.unwrap().today, first.today);

    let after = salts.at(store, midnight + 5 * 60_000).await.unwrap();
    assert_ne!(after.today, first.today, "a new day has a new salt");
    assert_ne!(after.today.visitor(SITE, "198.51.100.1", FIREFOX), hash);
    // Yesterday's lives on while a visit begun before midnight may go on...
    assert_eq!(after.previous.as_ref(), Some(&first.today));
    let key = format!("pageviews/salt/{}", salt::utc_day(evening));
    assert!(store.state(&key).await.unwrap().is_some());
    // ...and is destroyed once none can: no hash of that day can be made again.
    let later = other.at(store, midnight + 31 * 60_000).await.unwrap();
    assert!(later.previous.is_none());
    assert_eq!(later.today, after.today);
    assert!(store.state(&key).await.unwrap().is_none());
    let next_week = other.at(store, midnight + 7 * DAY_MS).await.unwrap();
    assert_ne!(next_week.today, after.today);
    let left = store.states("pageviews/salt/", 10).await.unwrap();
    assert_eq!(left.len(), 1, "only today's salt is kept: {left:?}");
}

#[tokio::test]
async fn the_site_stream_pushes_news_to_readers_of_the_site() {
    use reckon::access::token::{self, Tokens};
    let app = TestApp::spawn().await;
    add_site(&app, SITE, false).await;
    let store = reckon::open_store(&test_config(&app.data_dir))
        .await
        .unwrap();
    let other = token::generate("other", vec!["site:other.test".parse().unwrap()], None);
    Tokens::new(store.as_ref())
        .create(&other.record)
        .await
        .unwrap();
    let path = format!("/api/v1/sites/{SITE}/live");
    let r = app.anonymous.get(app.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let r = crate::common::client_with_token(&other.token)
        .get(app.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let mut stream = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert_eq!(
        beacon(&app, "site=blog.test&p=/a", FIREFOX).await.status(),
        204
    );
    let mut seen = String::new();
    events(&mut stream, &mut seen, "event: views", 1).await;
}

#[tokio::test]
async fn the_delivery_log_streams_news_to_admins() {
    let app = TestApp::spawn().await;
    add_site(&app, SITE, false).await;
    let r = app
        .anonymous
        .get(app.url("/api/v1/deliveries/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let mut stream = app
        .client
        .get(app.url("/api/v1/deliveries/live"))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    // A stored hit, then a rejected one: each is news.
    assert_eq!(
        beacon(&app, "site=blog.test&p=/a", FIREFOX).await.status(),
        204
    );
    let mut seen = String::new();
    events(&mut stream, &mut seen, "event: deliveries", 1).await;
    assert_eq!(
        beacon(&app, "site=nope.test&p=/a", FIREFOX).await.status(),
        204
    );
    events(&mut stream, &mut seen, "event: deliveries", 2).await;
}

/// Reads an event stream into `seen` until it holds `count` lines `event`.
async fn events(stream: &mut reqwest::Response, seen: &mut String, event: &str, count: usize) {
    while seen.matches(event).count() < count {
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.chunk())
            .await
            .expect("an event within 30 s")
            .unwrap()
            .expect("the stream is open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn a_client_over_the_rate_limit_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn_with(|c| {
        c.pageviews.rate_limit = Some(reckon::config::RateLimit {
            per_second: 1,
            burst: Some(2),
        });
    })
    .await;
    add_site(&app, SITE, false).await;
    for _ in 0..3 {
        // The third beacon is over the limit: still a silent 204.
        assert_eq!(
            beacon(&app, "site=blog.test&p=/a", FIREFOX).await.status(),
            204
        );
    }
    let body = json!({"n": "pageview", "u": "https://blog.test/b", "d": SITE});
    let r = event(&app, body, FIREFOX, ORIGIN).await;
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "rate_limited");
    let s = stats(&app, "").await;
    assert_eq!(s["totals"]["views"], 2, "{s}");
    let log = app.get_ok("/api/v1/deliveries?status=rejected").await;
    let limited = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["reason"].as_str().is_some_and(|r| r.contains("rate")))
        .count();
    assert_eq!(limited, 2, "{log}");
}
