//! Who may read what, over every route of the OpenAPI document: anonymous, a token in
//! scope, a token for something else, an expired and a revoked token, and the admin
//! token. A route missing from the matrix fails `every_route_answers_each_reader_as_its_policy_says`.
//! Also: the public listener, `/metrics`, the failed-read throttle, and the first start.

use std::collections::BTreeSet;

use reckon::access::token::{self, Tokens};
use reckon::access::Scope;
use reckon::config::SecretList;
use reckon::settings::Config;
use reckon::sources::{SourceAuth, SourceConfig};
use serde_json::Value;

use crate::common::{client_with_token, fixture, TestApp};

fn source(public: bool) -> SourceConfig {
    SourceConfig {
        auth: SourceAuth::ApiKey,
        secrets: SecretList::default(),
        tolerance_seconds: 300,
        rate_limit: None,
        srcs: Vec::new(),
        public,
        read_tokens: SecretList::default(),
    }
}

fn configure(config: &mut Config) {
    config.sources.insert("vault".into(), source(false));
    config.sources.insert("open".into(), source(true));
}

/// Issues a token straight into the app's store (the CLI does the same; see
/// `tokens_from_the_cli_read_until_revoked`).
async fn issue(app: &TestApp, scopes: &[&str], expired: bool, revoked: bool) -> String {
    let mut config = crate::common::test_config(&app.data_dir);
    configure(&mut config);
    let store = reckon::open_store(&config).await.unwrap();
    let expires_at = expired.then(|| chrono::Utc::now() - chrono::Duration::seconds(1));
    let scopes = scopes.iter().map(|s| s.parse::<Scope>().unwrap()).collect();
    let new = token::generate("matrix", scopes, expires_at);
    let tokens = Tokens::new(store.as_ref());
    tokens.create(&new.record).await.unwrap();
    if revoked {
        assert!(tokens.revoke(&new.record.id).await.unwrap());
    }
    new.token
}

/// What a route reads, which decides each reader's answer.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Posted by senders; not a read.
    Intake,
    /// Outside the guard: health.
    Health,
    /// Anyone; a bad token is still refused.
    Open,
    /// Lists filtered to the reader.
    Listed,
    /// One resource: `scope` reads it, `other` does not.
    Resource {
        scope: &'static str,
        other: &'static str,
    },
    /// Any live token.
    Token,
    /// An endless stream (server-sent events): its policy is checked in
    /// `pageviews::the_site_stream_pushes_news_to_readers_of_the_site` and
    /// `pageviews::the_delivery_log_streams_news_to_admins`.
    Stream,
}

const ORG: Kind = Kind::Resource {
    scope: "github:octocoders",
    other: "github:someone-else",
};
const DRIFT: Kind = Kind::Resource {
    scope: "admin",
    other: "github:someone-else",
};
const VAULT: Kind = Kind::Resource {
    scope: "source:vault",
    other: "source:open",
};
const ADA: Kind = Kind::Resource {
    scope: "heartbeats:ada",
    other: "heartbeats:bob",
};
const SITE: Kind = Kind::Resource {
    scope: "site:blog.test",
    other: "site:other.test",
};
const ADMIN: Kind = Kind::Resource {
    scope: "admin",
    other: "github:*",
};

/// Every route of the OpenAPI document: (method, template, a concrete path, kind).
fn matrix() -> Vec<(&'static str, &'static str, &'static str, Kind)> {
    vec![
        ("post", "/hooks/github", "", Kind::Intake),
        ("post", "/hooks/{source}", "", Kind::Intake),
        ("post", "/submit", "", Kind::Intake),
        ("post", "/api/v1/users/{user}/heartbeats", "", Kind::Intake),
        (
            "post",
            "/api/v1/users/{user}/heartbeats.bulk",
            "",
            Kind::Intake,
        ),
        ("get", "/api/v1/heartbeats", "", Kind::Intake),
        ("get", "/api/v1/beacon", "", Kind::Intake),
        ("post", "/api/v1/beacon", "", Kind::Intake),
        // Authenticated by the site's own token (`logs::` tests it).
        ("post", "/api/v1/beacon/log", "", Kind::Intake),
        ("post", "/api/event", "", Kind::Intake),
        // The live WebSocket: any page may open it (`pageviews::` tests what it shows).
        ("get", "/api/v1/live", "", Kind::Intake),
        ("get", "/api/v1/sites", "/api/v1/sites", Kind::Listed),
        (
            "get",
            "/api/v1/sites/{site}/stats",
            "/api/v1/sites/blog.test/stats?from=2026-01-01&to=2026-01-31",
            SITE,
        ),
        (
            "get",
            "/api/v1/sites/{site}/now",
            "/api/v1/sites/blog.test/now",
            SITE,
        ),
        ("get", "/api/v1/sites/{site}/live", "", Kind::Stream),
        (
            "get",
            "/api/v1/heartbeats/users",
            "/api/v1/heartbeats/users",
            Kind::Listed,
        ),
        (
            "get",
            "/api/v1/users/{user}/statusbar/today",
            "/api/v1/users/ada/statusbar/today",
            ADA,
        ),
        (
            "get",
            "/api/v1/users/{user}/summaries",
            "/api/v1/users/ada/summaries?range=last_7_days",
            ADA,
        ),
        (
            "get",
            "/api/v1/users/{user}/stats/{range}",
            "/api/v1/users/ada/stats/last_30_days",
            ADA,
        ),
        (
            "get",
            "/api/v1/users/{user}/kodo/stats",
            "/api/v1/users/ada/kodo/stats",
            ADA,
        ),
        (
            "get",
            "/api/v1/users/{user}/kodo/stats/daily",
            "/api/v1/users/ada/kodo/stats/daily",
            ADA,
        ),
        ("get", "/healthz", "/healthz", Kind::Health),
        ("get", "/readyz", "/readyz", Kind::Health),
        ("get", "/metrics", "/metrics", ADMIN),
        (
            "get",
            "/api/v1/openapi.json",
            "/api/v1/openapi.json",
            Kind::Open,
        ),
        ("get", "/api/v1/token", "/api/v1/token", Kind::Token),
        ("get", "/api/v1/sources", "/api/v1/sources", Kind::Listed),
        (
            "get",
            "/api/v1/github/orgs",
            "/api/v1/github/orgs",
            Kind::Listed,
        ),
        (
            "get",
            "/api/v1/events/days",
            "/api/v1/events/days",
            Kind::Listed,
        ),
        ("get", "/api/v1/deliveries", "/api/v1/deliveries", ADMIN),
        ("get", "/api/v1/deliveries/live", "", Kind::Stream),
        (
            "get",
            "/api/v1/events",
            "/api/v1/events?source=vault&day=2026-01-01",
            VAULT,
        ),
        ("get", "/events", "/events?source=vault", VAULT),
        (
            "get",
            "/api/v1/sources/{source}/events",
            "/api/v1/sources/vault/events",
            VAULT,
        ),
        (
            "get",
            "/api/v1/sources/{source}/stats",
            "/api/v1/sources/vault/stats",
            VAULT,
        ),
        (
            "get",
            "/api/v1/github/orgs/{org}/summary",
            "/api/v1/github/orgs/octocoders/summary",
            ORG,
        ),
        (
            "get",
            "/api/v1/github/orgs/{org}/repos",
            "/api/v1/github/orgs/octocoders/repos",
            ORG,
        ),
        (
            "get",
            "/api/v1/github/orgs/{org}/teams",
            "/api/v1/github/orgs/octocoders/teams",
            ORG,
        ),
        (
            "get",
            "/api/v1/github/orgs/{org}/teams/{team}/members",
            "/api/v1/github/orgs/octocoders/teams/github/members",
            ORG,
        ),
        (
            "get",
            "/api/v1/github/orgs/{org}/pulls/series",
            "/api/v1/github/orgs/octocoders/pulls/series",
            ORG,
        ),
        (
            "get",
            "/api/v1/github/orgs/{org}/pulls/stats",
            "/api/v1/github/orgs/octocoders/pulls/stats",
            ORG,
        ),
        (
            "get",
            "/api/v1/github/orgs/{org}/drift",
            "/api/v1/github/orgs/octocoders/drift",
            DRIFT,
        ),
    ]
}

async fn get(client: &reqwest::Client, app: &TestApp, path: &str) -> (u16, Value) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn code(body: &Value) -> &str {
    body["code"].as_str().unwrap_or("")
}

/// An answer without what depends on the second it was read in: a site's "now" window
/// starts five minutes before the request.
fn steady(body: &Value) -> Value {
    let mut body = body.clone();
    if let Some(fields) = body.as_object_mut() {
        fields.remove("since");
    }
    body
}

/// The same path naming something that does not exist.
fn elsewhere(path: &str) -> String {
    path.replace("octocoders", "no-such-org")
        .replace("vault", "no-such-source")
        .replace("/users/ada/", "/users/no-such-user/")
        .replace("blog.test", "no-such-site.test")
}

/// A 404 that says nothing more than a 404 for something that does not exist.
fn same_404(real: &Value, missing: &Value) -> bool {
    let message = |v: &Value| {
        v["message"]
            .as_str()
            .unwrap_or("")
            .replace("octocoders", "X")
            .replace("no-such-org", "X")
            .replace("vault", "X")
            .replace("no-such-source", "X")
    };
    code(real) == code(missing) && message(real) == message(missing)
}

async fn seeded() -> TestApp {
    // The matrix fails reads on purpose; the throttle has its own test.
    let app = TestApp::spawn_with(|c| {
        configure(c);
        c.access.failed_reads_per_minute = 100_000;
    })
    .await;
    let store = reckon::open_store(&crate::common::test_config(&app.data_dir))
        .await
        .unwrap();
    reckon::sources::pageviews::sites::add(store.as_ref(), "blog.test", &[], false, false)
        .await
        .unwrap();
    for (event, file) in [
        ("team", "team/created.payload.json"),
        ("membership", "membership/added.payload.json"),
    ] {
        let body = serde_json::to_vec(&fixture(file)).unwrap();
        assert_eq!(
            app.github(event, &format!("m-{event}"), &body)
                .await
                .status(),
            200
        );
    }
    app
}

#[tokio::test]
async fn every_route_answers_each_reader_as_its_policy_says() {
    let app = seeded().await;
    let served = app.get_ok("/api/v1/openapi.json").await;
    let documented: BTreeSet<(String, String)> = served["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .filter(|m| !matches!(m.as_str(), "parameters" | "summary" | "description"))
                .map(move |m| (m.clone(), path.clone()))
        })
        .collect();
    let listed: BTreeSet<(String, String)> = matrix()
        .iter()
        .map(|(m, t, _, _)| (m.to_string(), t.to_string()))
        .collect();
    assert_eq!(
        documented, listed,
        "every documented route is in the matrix, and only those"
    );

    let admin = &app.client;
    let anonymous = &app.anonymous;
    for (_, template, path, kind) in matrix() {
        let (expired, revoked, scope, other) = match kind {
            Kind::Intake | Kind::Stream => continue,
            Kind::Resource { scope, other } => (
                issue(&app, &[scope], true, false).await,
                issue(&app, &[scope], false, true).await,
                issue(&app, &[scope], false, false).await,
                issue(&app, &[other], false, false).await,
            ),
            _ => (
                issue(&app, &["github:octocoders"], true, false).await,
                issue(&app, &["github:octocoders"], false, true).await,
                issue(&app, &["github:octocoders"], false, false).await,
                issue(&app, &["source:open"], false, false).await,
            ),
        };
        let (scope, other) = (client_with_token(&scope), client_with_token(&other));
        let (admin_status, admin_body) = get(admin, &app, path).await;
        let anon = get(anonymous, &app, path).await;
        let expired = get(&client_with_token(&expired), &app, path).await;
        let revoked = get(&client_with_token(&revoked), &app, path).await;
        let in_scope = get(&scope, &app, path).await;
        let out = get(&other, &app, path).await;
        let at = |who: &str| format!("{template} ({path}) as {who}");
        if kind == Kind::Health {
            for (status, _) in [&anon, &expired, &revoked, &in_scope, &out] {
                assert_eq!(*status, 200, "{}", at("anyone"));
            }
            continue;
        }
        assert_eq!(
            (expired.0, code(&expired.1)),
            (401, "read_token_expired"),
            "{}",
            at("expired")
        );
        assert_eq!(
            (revoked.0, code(&revoked.1)),
            (401, "read_token_invalid"),
            "{}",
            at("revoked")
        );
        match kind {
            Kind::Open | Kind::Listed => {
                for (who, (status, body)) in [
                    ("anonymous", &anon),
                    ("in scope", &in_scope),
                    ("other", &out),
                ] {
                    assert_eq!(*status, 200, "{}: {body}", at(who));
                }
                assert_eq!(admin_status, 200, "{}", at("admin"));
            }
            Kind::Token => {
                assert_eq!(
                    (anon.0, code(&anon.1)),
                    (401, "read_token_missing"),
                    "{}",
                    at("anonymous")
                );
                for (who, (status, body)) in [("in scope", &in_scope), ("other", &out)] {
                    assert_eq!(*status, 200, "{}: {body}", at(who));
                }
                assert_eq!(admin_body["name"], "admin (first start)");
            }
            Kind::Resource { .. } => {
                assert_eq!(
                    (anon.0, code(&anon.1)),
                    (401, "read_token_missing"),
                    "{}",
                    at("anonymous")
                );
                // Drift has no report before a reconcile: the handler's own 404.
                let served = if template.ends_with("/drift") {
                    404
                } else {
                    200
                };
                assert_eq!(admin_status, served, "{}: {admin_body}", at("admin"));
                assert_eq!(
                    (in_scope.0, steady(&in_scope.1)),
                    (admin_status, steady(&admin_body)),
                    "{}",
                    at("in scope")
                );
                assert_eq!(out.0, 404, "{}: {}", at("other"), out.1);
                // Out of scope says no more than "there is no such thing".
                if template != "/metrics" {
                    let missing = get(&other, &app, &elsewhere(path)).await;
                    assert!(
                        same_404(&out.1, &missing.1),
                        "{}: {} vs {}",
                        at("other"),
                        out.1,
                        missing.1
                    );
                }
            }
            Kind::Intake | Kind::Health | Kind::Stream => unreachable!(),
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn lists_show_only_what_the_reader_may_read() {
    let app = seeded().await;
    let body = serde_json::to_vec(&fixture("pull_request/opened.payload.json")).unwrap();
    assert_eq!(
        app.github("pull_request", "m-pr", &body).await.status(),
        200
    );
    let orgs = |v: Value| -> Vec<String> {
        v["orgs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["org"].as_str().unwrap().to_owned())
            .collect()
    };
    let names = |v: Value| -> Vec<String> {
        v["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        orgs(app.get_ok("/api/v1/github/orgs").await),
        ["codertocat", "octocoders"]
    );
    let one = client_with_token(&issue(&app, &["github:OctoCoders"], false, false).await);
    assert_eq!(
        orgs(get(&one, &app, "/api/v1/github/orgs").await.1),
        ["octocoders"]
    );
    assert_eq!(
        names(get(&one, &app, "/api/v1/sources").await.1),
        ["github", "open"]
    );
    assert_eq!(
        orgs(get(&app.anonymous, &app, "/api/v1/github/orgs").await.1),
        Vec::<String>::new()
    );
    assert_eq!(
        names(get(&app.anonymous, &app, "/api/v1/sources").await.1),
        ["open"]
    );
    // Raw GitHub payloads span every org: only `github:*` reads them.
    let (status, _) = get(&one, &app, "/api/v1/events/days?source=github").await;
    assert_eq!(status, 404);
    let days = get(&one, &app, "/api/v1/events/days").await.1;
    assert_eq!(days["days"], serde_json::json!([]), "{days}");
    let all = client_with_token(&issue(&app, &["github:*"], false, false).await);
    // With nothing public, a list without a token is a 401, not an empty list.
    let closed = TestApp::spawn().await;
    let (status, body) = get(&closed.anonymous, &closed, "/api/v1/github/orgs").await;
    assert_eq!((status, code(&body)), (401, "read_token_missing"));
    closed.stop().await;
    let days = get(&all, &app, "/api/v1/events/days?source=github").await.1;
    assert_eq!(days["days"][0]["events"], 3, "{days}");
    app.stop().await;
}

#[tokio::test]
async fn public_things_are_read_without_a_token_and_failed_reads_are_throttled() {
    let app = TestApp::spawn_with(|c| {
        configure(c);
        c.github.public_orgs = vec!["OctoCoders".into()];
        c.access.failed_reads_per_minute = 3;
    })
    .await;
    for path in [
        "/api/v1/sources/open/stats",
        "/events?source=open",
        "/api/v1/github/orgs/octocoders/teams",
    ] {
        let (status, body) = get(&app.anonymous, &app, path).await;
        assert!(
            status == 200 || code(&body) == "not_found",
            "{path}: {status} {body}"
        );
        assert_ne!(status, 401, "{path}");
    }
    let bad = client_with_token("rkt_aaaaaaaaaaaa_guessing");
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(get(&bad, &app, "/api/v1/sources").await.0);
    }
    assert_eq!(answers, [401, 401, 401, 429, 429]);
    // The metrics count each refusal, and the throttle does not touch good tokens.
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
        metrics.contains(r#"reckon_read_refusals_total{reason="token_invalid"} 5"#),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_public_listener_serves_only_intake_health_and_public_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::common::test_config(dir.path());
    configure(&mut config);
    config.public_listen = Some("127.0.0.1:0".into());
    let app = reckon::App::build(config).await.unwrap();
    let private = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (private_url, public_url) = (
        format!("http://{}", private.local_addr().unwrap()),
        format!("http://{}", public.local_addr().unwrap()),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.serve_on(private, Some(public), async {
        let _ = stopped.await;
    }));
    let token = crate::common::admin_token(dir.path());
    let admin = client_with_token(&token);
    let status = |client: &reqwest::Client, url: String| {
        let request = client.get(url);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // Private routes are not there, whatever token comes with them.
    for path in [
        "/metrics",
        "/api/v1/deliveries",
        "/api/v1/token",
        "/api/v1/openapi.json",
        "/api/v1/events/days",
        "/api/v1/sources/vault/events",
        "/api/v1/github/orgs/octocoders/summary",
        "/",
    ] {
        assert_eq!(
            status(&admin, format!("{public_url}{path}")).await,
            404,
            "{path}"
        );
    }
    assert_eq!(status(&admin, format!("{public_url}/healthz")).await, 200);
    assert_eq!(
        status(&admin, format!("{public_url}/api/v1/sources/open/events")).await,
        200
    );
    // Intake is there: an unsigned delivery is refused as unsigned, not as unknown.
    let unsigned = reqwest::Client::new()
        .post(format!("{public_url}/hooks/github"))
        .header("x-github-event", "ping")
        .header("x-github-delivery", "p-1")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    // The private listener serves metrics without a token now that it is private.
    assert_eq!(
        status(&reqwest::Client::new(), format!("{private_url}/metrics")).await,
        200
    );
    assert_eq!(
        status(
            &reqwest::Client::new(),
            format!("{private_url}/api/v1/deliveries")
        )
        .await,
        401
    );
    assert_eq!(
        status(&admin, format!("{private_url}/api/v1/deliveries")).await,
        200
    );
    stop.send(()).unwrap();
    served.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_first_start_issues_an_admin_token_and_a_public_address_needs_one() {
    let app = TestApp::spawn().await;
    let file = app.data_dir.join(reckon::access::bootstrap::FILE_NAME);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let token = app.token.clone();
    let dir = app.stop().await.unwrap();
    // A restart keeps the same token.
    let app = TestApp::spawn_in(dir.path(), |_| {}).await;
    assert_eq!(app.token, token);
    app.stop().await;

    // On a public address with no token, it refuses to start and says what to do.
    let fresh = tempfile::tempdir().unwrap();
    let mut config = crate::common::test_config(fresh.path());
    config.listen = "0.0.0.0:8080".into();
    let error = match reckon::App::build(config.clone()).await {
        Ok(_) => panic!("started on a public address with no token"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("reckon tokens add"), "{error}");
    // A configured admin token is a way in.
    config.access.admin_tokens = SecretList::new(vec!["x".repeat(40).into()]);
    let app = reckon::App::build(config)
        .await
        .expect("starts with a configured token");
    assert!(app.admin_token().describe().contains("access.admin_tokens"));
}

/// Runs the real binary's `reckon tokens` on `data_dir`, with logs at debug level.
fn tokens_cli(data_dir: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("tokens")
        .args(args)
        .env("RECKON_LOG_LEVEL", "debug")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.success(), text(&out.stdout), text(&out.stderr))
}

#[tokio::test]
async fn tokens_from_the_cli_read_until_revoked() {
    let app = seeded().await;
    let (ok, out, log) = tokens_cli(
        &app.data_dir,
        &[
            "add",
            "--name",
            "ci",
            "--scope",
            "github:octocoders",
            "--expires-in",
            "30d",
        ],
    );
    assert!(ok, "{out}");
    let token = out
        .split_whitespace()
        .find(|w| w.starts_with("rkt_"))
        .expect("the token is printed")
        .to_owned();
    assert!(!log.contains(&token), "a debug log shows the token: {log}");
    let id = token.split('_').nth(1).unwrap().to_owned();
    assert!(out.contains(&format!("created token {id}")), "{out}");
    let reader = client_with_token(&token);
    let info = get(&reader, &app, "/api/v1/token").await.1;
    assert_eq!(
        (info["id"].as_str(), info["name"].as_str()),
        (Some(id.as_str()), Some("ci"))
    );
    assert_eq!(info["scopes"], serde_json::json!(["github:octocoders"]));
    assert!(info["expires_at"].is_string(), "{info}");
    assert_eq!(
        get(&reader, &app, "/api/v1/github/orgs/octocoders/summary")
            .await
            .0,
        200
    );

    let (ok, list, _) = tokens_cli(&app.data_dir, &["list"]);
    assert!(
        ok && list.contains(&id) && list.contains("github:octocoders"),
        "{list}"
    );
    assert!(!list.contains(&token), "the list never shows a token");
    let (ok, out, _) = tokens_cli(&app.data_dir, &["revoke", &id]);
    assert!(ok, "{out}");
    let (status, body) = get(&reader, &app, "/api/v1/github/orgs/octocoders/summary").await;
    assert_eq!(
        (status, code(&body)),
        (401, "read_token_invalid"),
        "revoked from the next request on"
    );
    let (ok, _, err) = tokens_cli(&app.data_dir, &["revoke", &id]);
    assert!(!ok && err.contains("no live token"), "{err}");
    let (ok, _, err) = tokens_cli(&app.data_dir, &["add", "--name", "x", "--scope", "repo:x"]);
    assert!(!ok && err.contains("is not a scope"), "{err}");
    app.stop().await;
}

/// The real binary at debug level, read with good, bad and scoped tokens and posted to
/// with API keys: no token, key or secret ever reaches its log.
#[tokio::test]
async fn no_token_or_key_reaches_the_log_at_debug_level() {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("RECKON_LOG_LEVEL", "debug"),
        ("RECKON_GITHUB_WEBHOOK_SECRET", crate::common::SECRET),
        ("RECKON_SOURCES__DCSS__AUTH", "api-key"),
    ];
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
            .arg("--data-dir")
            .arg(dir.path())
            .args(args)
            .envs(env)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = String::from_utf8_lossy(&out.stdout).into_owned();
        out.split_whitespace()
            .find(|w| w.starts_with("rk"))
            .map(str::to_owned)
            .unwrap_or_default()
    };
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .envs(env)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let log = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text).await;
        text
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut base = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(addr) = line.strip_prefix("reckon is listening on ") {
            base = addr.trim().to_owned();
            break;
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let admin = crate::common::admin_token(dir.path());
    let scoped = cli(&["tokens", "add", "--name", "log", "--scope", "source:dcss"]);
    let key = cli(&["keys", "add", "--source", "dcss"]);
    let guess = "rkt_abcdefghijkl_NotTheRightSecretAtAllXXXXXXXXXXXXXXXXXXXXX";
    let wrong_key = "rk_abcdefghijkl_NotTheRightKeyEitherXXXXXXXXXXXXXXXXXXXXXX";
    let http = reqwest::Client::new();
    for (token, path) in [
        (admin.as_str(), "/api/v1/deliveries"),
        (scoped.as_str(), "/api/v1/sources/dcss/events"),
        (scoped.as_str(), "/api/v1/deliveries"),
        (guess, "/api/v1/sources"),
    ] {
        let _ = http
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
    }
    for k in [key.as_str(), wrong_key] {
        let _ = http
            .post(format!("{base}/submit"))
            .header("authorization", k)
            .header("content-type", "application/json")
            .body(r#"{"src":"cpo","type":"milestone","data":{"name":"x"}}"#)
            .send()
            .await
            .unwrap();
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let log = log.await.unwrap();
    assert!(
        log.contains("read refused"),
        "the log was captured at debug level: {log}"
    );
    let secret_of = |t: &str| t.rsplit('_').next().unwrap().to_owned();
    for secret in [
        &admin,
        &scoped,
        &key,
        guess,
        wrong_key,
        crate::common::SECRET,
    ] {
        assert!(!secret.is_empty());
        assert!(!log.contains(secret), "the log shows a secret");
        if secret.starts_with("rk") {
            assert!(
                !log.contains(&secret_of(secret)),
                "the log shows a secret's secret part"
            );
        }
    }
}

/// A configured admin token may be any 32+ characters, such as a UUID: the shape of a
/// heartbeats key. It still reads as the admin token it is.
#[tokio::test]
async fn a_configured_token_shaped_like_a_heartbeats_key_reads_as_configured() {
    // A first start issues the data dir's own admin token, which the harness reads.
    let dir = TestApp::spawn().await.stop().await.unwrap();
    let token = "0f8fad5b-d9cb-469f-a165-70867728950e";
    let app = TestApp::spawn_in(dir.path(), |c| {
        c.access.admin_tokens = SecretList::new(vec![token.to_owned().into()]);
    })
    .await;
    let reply = client_with_token(token)
        .get(format!("{}/api/v1/token", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let body: Value = reply.json().await.unwrap();
    assert_eq!(body["name"], "access.admin_tokens[0]", "{body}");
    app.stop().await;
}
