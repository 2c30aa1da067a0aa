//! The HTTP API around the stats: health endpoints, JSON errors for bad queries and
//! unknown routes, zero-filled series, and cursor paging of events and deliveries.

use serde_json::{json, Value};

use crate::common::{fixture, TestApp};

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = TestApp::spawn().await;
    assert_eq!(app.get_ok("/healthz").await, json!({"status": "ok"}));
    let ready = app.get_ok("/readyz").await;
    assert_eq!(ready["status"], "ready");
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("openmetrics-text"));
    let text = response.text().await.unwrap();
    assert!(
        text.contains("# TYPE reckon_store_size_bytes gauge"),
        "{text}"
    );
    let size: f64 = text
        .lines()
        .find(|l| l.starts_with("reckon_store_size_bytes "))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    assert!(size > 0.0);
}

#[tokio::test]
async fn errors_are_json_with_stable_codes() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&fixture("pull_request/opened.payload.json")).unwrap();
    assert_eq!(app.github("pull_request", "a-1", &body).await.status(), 200);

    for (path, status, code) in [
        ("/nope", 404, "not_found"),
        ("/api/v1/github/orgs/unknown-org/summary", 404, "not_found"),
        ("/api/v1/github/orgs/codertocat/pulls/series?interval=year", 400, "invalid_query"),
        ("/api/v1/github/orgs/codertocat/pulls/series?from=yesterday", 400, "invalid_query"),
        ("/api/v1/github/orgs/codertocat/pulls/series?from=2026-02-01&to=2026-01-01", 400, "invalid_query"),
        ("/api/v1/github/orgs/codertocat/pulls/series?interval=day&from=2000-01-01&to=2026-01-01", 400, "invalid_query"),
        ("/api/v1/github/orgs/codertocat/teams/none/members", 404, "not_found"),
        ("/api/v1/github/orgs/codertocat/pulls/stats?top=0", 400, "invalid_query"),
        ("/api/v1/github/orgs/codertocat/pulls/stats?top=101", 400, "invalid_query"),
        ("/api/v1/github/orgs/unknown-org/pulls/stats", 404, "not_found"),
        ("/api/v1/github/orgs/unknown-org/repos", 404, "not_found"),
        ("/api/v1/events?source=github", 400, "invalid_query"),
        ("/api/v1/events?source=github&day=2026-13-01", 400, "invalid_query"),
        ("/api/v1/events?source=github&day=2026-01-01&cursor=abc", 400, "invalid_query"),
        ("/api/v1/deliveries?limit=0", 400, "invalid_query"),
        ("/api/v1/deliveries?limit=5000", 400, "invalid_query"),
        ("/api/v1/deliveries?status=bogus", 400, "invalid_query"),
    ] {
        let (got, body) = app.get(path).await;
        assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{path}");
    }
}

#[tokio::test]
async fn series_are_zero_filled_across_the_range() {
    let app = TestApp::spawn().await;
    let body = serde_json::to_vec(&fixture("pull_request/opened.payload.json")).unwrap();
    assert_eq!(app.github("pull_request", "z-1", &body).await.status(), 200);
    // The fixture PR was opened 2019-05-15 (a Wednesday).
    let series = app
        .get_ok("/api/v1/github/orgs/Codertocat/pulls/series?interval=week&from=2019-05-01&to=2019-05-31")
        .await;
    assert_eq!(series["org"], "Codertocat");
    let buckets: Vec<(&str, u64)> = series["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["bucket"].as_str().unwrap(), p["opened"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        buckets,
        [
            ("2019-04-29", 0),
            ("2019-05-06", 0),
            ("2019-05-13", 1),
            ("2019-05-20", 0),
            ("2019-05-27", 0)
        ]
    );
    let by_repo = app
        .get_ok("/api/v1/github/orgs/codertocat/pulls/series?interval=month&repo=Hello-World")
        .await;
    assert_eq!(
        by_repo["series"],
        json!([{"bucket": "2019-05-01", "opened": 1, "merged": 0, "closed": 0}])
    );
    let other_repo = app
        .get_ok("/api/v1/github/orgs/codertocat/pulls/series?interval=month&repo=other")
        .await;
    assert_eq!(other_repo["series"], json!([]));
}

#[tokio::test]
async fn pr_stats_and_repos_from_real_payloads() {
    let app = TestApp::spawn().await;
    for (event, file) in [
        ("repository", "repository/created.payload.json"),
        ("pull_request", "pull_request/opened.payload.json"),
    ] {
        let body = serde_json::to_vec(&fixture(file)).unwrap();
        assert_eq!(app.github(event, event, &body).await.status(), 200);
    }
    let stats = app
        .get_ok("/api/v1/github/orgs/codertocat/pulls/stats?from=2019-05-01&to=2019-05-31&top=5")
        .await;
    assert_eq!(
        (
            &stats["org"],
            &stats["opened"],
            &stats["merged"],
            &stats["closed"]
        ),
        (&json!("codertocat"), &json!(1), &json!(0), &json!(0))
    );
    assert_eq!(stats["median_time_to_merge_seconds"], Value::Null);
    assert_eq!(
        stats["top_repos"],
        json!([{"key": "Codertocat/Hello-World", "opened": 1, "merged": 0}])
    );
    assert_eq!(
        stats["top_authors"],
        json!([{"key": "Codertocat", "opened": 1, "merged": 0}])
    );
    let outside = app
        .get_ok("/api/v1/github/orgs/codertocat/pulls/stats?from=2020-01-01")
        .await;
    assert_eq!(
        (&outside["opened"], &outside["top_repos"]),
        (&json!(0), &json!([]))
    );

    let repos = app.get_ok("/api/v1/github/orgs/Codertocat/repos").await;
    let names: Vec<&str> = repos["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["full_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"Codertocat/Hello-World"), "{repos}");
}

#[tokio::test]
async fn events_and_deliveries_page_with_cursors() {
    let app = TestApp::spawn().await;
    for i in 0..7 {
        let body = serde_json::to_vec(&json!({"zen": format!("z{i}")})).unwrap();
        assert_eq!(
            app.github("ping", &format!("p-{i}"), &body).await.status(),
            200
        );
    }
    let day = app.event_day().await;
    let mut zens = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/events?source=github&day={day}&limit=3");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = app.get_ok(&path).await;
        for e in page["events"].as_array().unwrap() {
            zens.push(e["payload"]["zen"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(zens, ["z0", "z1", "z2", "z3", "z4", "z5", "z6"]);

    let first: Value = app.get_ok("/api/v1/deliveries?limit=4&event=ping").await;
    let ids: Vec<&str> = first["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["delivery_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p-6", "p-5", "p-4", "p-3"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = app
        .get_ok(&format!(
            "/api/v1/deliveries?limit=4&event=ping&cursor={cursor}"
        ))
        .await;
    let ids: Vec<&str> = rest["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["delivery_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["p-2", "p-1", "p-0"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let delivery = &rest["deliveries"][0];
    assert_eq!(delivery["status"], "accepted");
    assert_eq!(delivery["event"], "ping");
    assert!(delivery["size"].as_u64().unwrap() > 0);
    assert!(delivery["received_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        app.get_ok("/api/v1/deliveries?event=push").await["deliveries"],
        json!([])
    );
}

#[tokio::test]
async fn openapi_document_describes_every_route() {
    let app = TestApp::spawn().await;
    let doc = app.get_ok("/api/v1/openapi.json").await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/hooks/github",
        "/hooks/{source}",
        "/api/v1/github/orgs",
        "/api/v1/github/orgs/{org}/summary",
        "/api/v1/github/orgs/{org}/pulls/series",
        "/api/v1/github/orgs/{org}/pulls/stats",
        "/api/v1/github/orgs/{org}/repos",
        "/api/v1/github/orgs/{org}/teams",
        "/api/v1/github/orgs/{org}/teams/{team}/members",
        "/api/v1/events",
        "/api/v1/events/days",
        "/api/v1/deliveries",
        "/healthz",
        "/readyz",
        "/metrics",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    // Every documented GET under /api/v1 and /healthz answers (no stale paths).
    for (path, item) in paths {
        // `/api/v1/heartbeats` is the Kodo-style intake GET: it takes a heartbeats key;
        // the beacon answers 204, the live WebSocket wants an upgrade, and the delivery
        // log's event stream never ends.
        let intake = matches!(
            path.as_str(),
            "/api/v1/events"
                | "/api/v1/heartbeats"
                | "/api/v1/beacon"
                | "/api/v1/live"
                | "/api/v1/deliveries/live"
        );
        if item.get("get").is_some() && !path.contains('{') && !intake {
            let (status, body) = app.get(path).await;
            assert!(
                status == 200 || path == "/metrics",
                "{path}: {status} {body}"
            );
        }
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let summary = &schemas["OrgSummary"]["properties"];
    for field in ["org", "repos", "teams", "members", "pull_requests"] {
        assert!(summary.get(field).is_some(), "OrgSummary.{field}");
    }
    assert!(schemas.contains_key("ErrorBody"));
    assert!(schemas.contains_key("DeliveryRecord"));
}

/// Raw events over large payloads: each answer is streamed, ends its page near 8 MiB of
/// payloads whatever `limit` asks, and the cursor reaches every event once.
#[tokio::test]
async fn event_pages_are_capped_by_bytes_and_streamed() {
    let app = TestApp::spawn().await;
    let mib = 1024 * 1024;
    for i in 0..6 {
        let body = serde_json::to_vec(&json!({"zen": "z".repeat(3 * mib), "i": i})).unwrap();
        assert_eq!(
            app.github("ping", &format!("big-{i}"), &body)
                .await
                .status(),
            200
        );
    }
    let day = app.event_day().await;
    let mut cursor = String::new();
    let mut seen = Vec::new();
    for _ in 0..4 {
        let response = app
            .client
            .get(app.url(&format!(
                "/api/v1/events?source=github&day={day}&limit=1000{cursor}"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response.headers().get("content-length").is_none(),
            "streamed, not built whole"
        );
        let bytes = response.bytes().await.unwrap();
        assert!(
            bytes.len() < 8 * mib + 3 * mib + 64 * 1024,
            "{} bytes",
            bytes.len()
        );
        let page: Value = serde_json::from_slice(&bytes).unwrap();
        seen.extend(
            page["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["payload"]["i"].as_u64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(seen, [0, 1, 2, 3, 4, 5]);
    app.stop().await;
}
