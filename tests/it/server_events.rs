//! The server-events source end to end, on the real service: DCSS `POST /submit` with
//! keys bound to one server by the real `reckon keys add --src`, xlog lines with offsets,
//! `GET /events?ts_day=`, the follow feed across a restart, read tokens, throttling,
//! stats, and `reckon ship` tailing real files.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use reckon::settings::Config;
use reckon::sources::SourceConfig;
use serde_json::{json, Value};

use crate::common::TestApp;

const DAY_MS: i64 = 86_400_000;

const CONFIG: &str = r#"
[sources.dcss]
auth = "api-key"
srcs = ["cpo", "cao"]
public = true
rate_limit = { per_second = 1, burst = 30 }

[sources.private]
auth = "api-key"
read_tokens = ["reader-token-1"]
"#;

const MILESTONE_LINE: &str = "v=0.31.0:vlong=0.31.0:name=Blork:race=Minotaur:cls=Fighter:char=MiFi:xl=5:place=D::3:god=Okawaru:start=20260102030000S:dur=600:turn=2000:type=uniq:milestone=killed Sigmund.:time=20260102031000S\n";
const GAME_LINE: &str = "v=0.31.0:name=Blork:race=Minotaur:cls=Fighter:xl=5:place=D::3:start=20260102030000S:end=20260102040000S:dur=900:turn=3000:sc=1234:ktyp=mon:killer=an orc:tmsg=slain by an orc\n";

fn sources() -> BTreeMap<String, SourceConfig> {
    use figment::providers::Format;
    figment::Figment::from(figment::providers::Toml::string(CONFIG))
        .extract_inner("sources")
        .expect("the test config parses")
}

fn configure(config: &mut Config) {
    config.sources = sources();
}

struct Setup {
    dir: tempfile::TempDir,
    /// Bound to `cpo`.
    cpo: String,
    /// Bound to no server.
    any: String,
    /// A key of the private source, bound to `cpo`.
    private: String,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("reckon.toml"), CONFIG).unwrap();
        let mut setup = Setup {
            dir,
            cpo: String::new(),
            any: String::new(),
            private: String::new(),
        };
        setup.cpo = setup.key(&["--source", "dcss", "--src", "cpo"]);
        setup.any = setup.key(&["--source", "dcss"]);
        setup.private = setup.key(&["--source", "private", "--src", "cpo"]);
        setup
    }

    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn reckon(&self, args: &[&str]) -> (bool, String, String) {
        let output = Command::new(env!("CARGO_BIN_EXE_reckon"))
            .arg("--config")
            .arg(self.dir.path().join("reckon.toml"))
            .arg("--data-dir")
            .arg(self.data())
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    }

    fn key(&self, args: &[&str]) -> String {
        let mut all = vec!["keys", "add"];
        all.extend_from_slice(args);
        let (ok, stdout, stderr) = self.reckon(&all);
        assert!(ok, "{stderr}");
        stdout
            .split_whitespace()
            .find(|w| w.starts_with("rk_"))
            .expect("the key is printed")
            .to_owned()
    }

    async fn app(&self) -> TestApp {
        TestApp::spawn_in(&self.data(), configure).await
    }
}

async fn submit(app: &TestApp, auth: Option<&str>, body: &Value) -> (u16, String) {
    let mut request = app
        .anonymous
        .post(app.url("/submit"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn submit_lines(
    app: &TestApp,
    key: &str,
    file: Option<(&str, u64)>,
    body: &str,
) -> (u16, String) {
    let mut request = app
        .client
        .post(app.url("/submit"))
        .header("content-type", "text/plain; charset=utf-8")
        .header("authorization", format!("Bearer {key}"))
        .body(body.to_owned());
    if let Some((file, offset)) = file {
        request = request
            .header("x-xlog-file", file)
            .header("x-xlog-offset", offset.to_string());
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn code(body: &str) -> String {
    serde_json::from_str::<Value>(body).unwrap()["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn today() -> i64 {
    let now = chrono::Utc::now().timestamp_millis();
    now - now.rem_euclid(DAY_MS)
}

async fn day(app: &TestApp, ts_day: i64) -> Vec<Value> {
    let (status, body) = app
        .get(&format!("/events?ts_day={ts_day}&source=dcss"))
        .await;
    assert_eq!(status, 200, "{body}");
    body.as_array().unwrap().clone()
}

fn milestone(src: &str, name: &str) -> Value {
    json!({"type": "milestone", "src": src, "data": {
        "v": "0.25-a0", "name": name, "race": "Deep Elf", "cls": "Wizard",
        "time": "20200418093334S", "type": "uniq", "milestone": "killed Blork the orc."
    }})
}

#[tokio::test]
async fn dcss_servers_submit_with_bound_keys_and_read_by_day() {
    let setup = Setup::new();
    let app = setup.app().await;

    // As DCSS servers send it: the key bare in Authorization; 204 with an empty body.
    let (status, body) = submit(&app, Some(&setup.cpo), &milestone("cpo", "first")).await;
    assert_eq!((status, body.as_str()), (204, ""));
    let (status, _) = submit(
        &app,
        Some(&format!("Bearer {}", setup.cpo)),
        &milestone("cpo", "second"),
    )
    .await;
    assert_eq!(status, 204);
    // A list in one request.
    let list = json!([milestone("cao", "third"), milestone("cao", "fourth")]);
    let (status, body) = submit(&app, Some(&setup.any), &list).await;
    assert_eq!(status, 204, "{body}");

    // Refused, each with a stable code, and nothing stored.
    let (status, body) = submit(&app, Some(&setup.cpo), &milestone("cao", "not mine")).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (403, "src_mismatch"),
        "{body}"
    );
    let (status, body) = submit(&app, Some(&setup.any), &milestone("xyz", "unknown")).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (400, "unknown_src"),
        "{body}"
    );
    let no_type = json!({"src": "cpo", "data": {"name": "x"}});
    let (status, body) = submit(&app, Some(&setup.cpo), &no_type).await;
    assert_eq!(
        (status, code(&body).as_str()),
        (400, "invalid_event"),
        "{body}"
    );
    assert!(body.contains("`type` is missing"), "{body}");
    let (status, body) = submit(&app, None, &milestone("cpo", "anon")).await;
    assert_eq!((status, code(&body).as_str()), (401, "api_key_missing"));
    let (status, body) = submit(&app, Some("rk_nope"), &milestone("cpo", "forged")).await;
    assert_eq!((status, code(&body).as_str()), (401, "api_key_invalid"));
    // Another source's key stores into that source, not this one.
    let (status, _) = submit(&app, Some(&setup.private), &milestone("cpo", "elsewhere")).await;
    assert_eq!(status, 204);

    let events = day(&app, today()).await;
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["data"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["first", "second", "third", "fourth"]);
    let first = &events[0];
    assert_eq!(first["type"], "milestone");
    assert_eq!(first["src"], "cpo");
    assert_eq!(first["data"]["milestone"], "killed Blork the orc.");
    assert!(first["ts"].as_i64().unwrap() >= today());
    let ids: Vec<i64> = events
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(day(&app, today() - DAY_MS).await.is_empty());

    let (status, body) = app
        .get(&format!("/events?ts_day={}&source=dcss", today() + 1))
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_query"))
    );
    assert!(body["message"].as_str().unwrap().contains("ts_day"));
    // Near the smallest i64, the start of its day is below it: no overflow, still 400.
    let (status, body) = app
        .get("/events?ts_day=-9223372036828800001&source=dcss")
        .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (status, body) = app.get(&format!("/events?ts_day={}", today())).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_query")),
        "two sources take events: one must be named"
    );
    app.stop().await;
}

#[tokio::test]
async fn xlog_lines_are_parsed_deduplicated_by_offset_and_reported_by_line() {
    let setup = Setup::new();
    let app = setup.app().await;
    let body = format!("{MILESTONE_LINE}{GAME_LINE}");
    let (status, text) = submit_lines(&app, &setup.cpo, Some(("milestones", 0)), &body).await;
    assert_eq!(status, 204, "{text}");
    // Sent again (a shipper that crashed before it saved its place): stored once.
    let (status, _) = submit_lines(&app, &setup.cpo, Some(("milestones", 0)), &body).await;
    assert_eq!(status, 204);
    let second_only = GAME_LINE;
    let (status, _) = submit_lines(
        &app,
        &setup.cpo,
        Some(("milestones", MILESTONE_LINE.len() as u64)),
        second_only,
    )
    .await;
    assert_eq!(status, 204);

    let events = day(&app, today()).await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["type"], "milestone");
    assert_eq!(events[0]["data"]["place"], "D:3", "`::` is a colon");
    assert_eq!(events[0]["data"]["milestone"], "killed Sigmund.");
    assert!(events[0]["data"].get("god").is_some());
    assert_eq!(events[1]["type"], "game");
    assert_eq!(events[1]["data"]["ktyp"], "mon");

    // A malformed second line: the whole request is refused, naming the line.
    let bad = format!("{MILESTONE_LINE}this is not xlog\n");
    let (status, text) = submit_lines(&app, &setup.cpo, Some(("other", 0)), &bad).await;
    assert_eq!(
        (status, code(&text).as_str()),
        (400, "malformed_xlog"),
        "{text}"
    );
    assert!(text.contains("line 2"), "{text}");
    let bad_time = MILESTONE_LINE.replace("time=20260102031000S", "time=20261302031000S");
    let (status, text) = submit_lines(&app, &setup.cpo, None, &bad_time).await;
    assert_eq!(
        (status, code(&text).as_str()),
        (400, "malformed_xlog"),
        "{text}"
    );
    assert_eq!(day(&app, today()).await.len(), 2);

    // One line as JSON, with its place.
    let line =
        json!({"src": "cpo", "xlog": MILESTONE_LINE.trim_end(), "file": "milestones", "offset": 0});
    let (status, _) = submit(&app, Some(&setup.cpo), &line).await;
    assert_eq!(status, 204);
    assert_eq!(
        day(&app, today()).await.len(),
        2,
        "the same place: a duplicate"
    );

    let stats = app.get_ok("/api/v1/sources/dcss/stats").await;
    assert_eq!(stats["milestones"], json!([{"key": "uniq", "count": 1}]));
    assert_eq!(stats["games"], json!([{"key": "mon", "count": 1}]));
    assert_eq!(stats["top_by_games"][0]["name"], "Blork");
    assert_eq!(stats["days"][0]["count"], 1);
    app.stop().await;
}

#[tokio::test]
async fn the_feed_is_followed_by_id_across_a_restart() {
    let setup = Setup::new();
    let app = setup.app().await;
    for i in 0..5 {
        submit(&app, Some(&setup.cpo), &milestone("cpo", &format!("e{i}"))).await;
    }
    let page = app.get_ok("/api/v1/sources/dcss/events?limit=3").await;
    assert_eq!(page["events"].as_array().unwrap().len(), 3);
    let after = page["next_after"].as_str().unwrap().to_owned();
    app.stop().await;

    let app = setup.app().await;
    for i in 5..7 {
        submit(&app, Some(&setup.cpo), &milestone("cpo", &format!("e{i}"))).await;
    }
    let mut names = Vec::new();
    let mut after = after;
    loop {
        let page = app
            .get_ok(&format!(
                "/api/v1/sources/dcss/events?after={after}&limit=2"
            ))
            .await;
        let events = page["events"].as_array().unwrap();
        if events.is_empty() {
            assert_eq!(
                page["next_after"],
                after.as_str(),
                "nothing new: the same cursor"
            );
            break;
        }
        names.extend(
            events
                .iter()
                .map(|e| e["data"]["name"].as_str().unwrap().to_owned()),
        );
        after = page["next_after"].as_str().unwrap().to_owned();
    }
    assert_eq!(names, ["e3", "e4", "e5", "e6"]);
    let (status, body) = app.get("/api/v1/sources/dcss/events?after=banana").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_query"))
    );
    let (status, body) = app.get("/api/v1/sources/nope/events").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_source"))
    );
    app.stop().await;
}

#[tokio::test]
async fn private_sources_are_read_with_a_token() {
    let setup = Setup::new();
    let app = setup.app().await;
    let (status, _) = submit(&app, Some(&setup.private), &milestone("cpo", "secret")).await;
    assert_eq!(status, 204);
    let path = format!("/events?ts_day={}&source=private", today());
    let anonymous = app.anonymous.get(app.url(&path)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(
        anonymous.json::<Value>().await.unwrap()["code"],
        "read_token_missing"
    );
    let wrong = app
        .client
        .get(app.url(&path))
        .bearer_auth("reader-token-2")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        wrong.json::<Value>().await.unwrap()["code"],
        "read_token_invalid"
    );
    for path in [
        path.clone(),
        "/api/v1/sources/private/events".into(),
        "/api/v1/sources/private/stats".into(),
    ] {
        let ok = app
            .client
            .get(app.url(&path))
            .bearer_auth("reader-token-1")
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200, "{path}");
    }
    let anonymous = app
        .anonymous
        .get(app.url("/api/v1/sources/private/stats"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    app.stop().await;
}

#[tokio::test]
async fn each_key_is_throttled_on_its_own() {
    let setup = Setup::new();
    let app = setup.app().await;
    // burst = 30 per key, refilled at 1 a second.
    let mut limited = None;
    for i in 0..40 {
        let (status, body) =
            submit(&app, Some(&setup.cpo), &milestone("cpo", &format!("t{i}"))).await;
        if status == 429 {
            assert_eq!(code(&body), "rate_limited");
            limited = Some(i);
            break;
        }
        assert_eq!(status, 204, "{body}");
    }
    assert!(limited.is_some_and(|i| i >= 30), "{limited:?}");
    let (status, _) = submit(&app, Some(&setup.any), &milestone("cao", "other key")).await;
    assert_eq!(status, 204, "another key has its own budget");
    app.stop().await;
}

#[tokio::test]
async fn keys_are_bound_only_to_configured_servers() {
    let setup = Setup::new();
    let (ok, _, stderr) = setup.reckon(&["keys", "add", "--source", "dcss", "--src", "xyz"]);
    assert!(!ok);
    assert!(stderr.contains("xyz") && stderr.contains("cpo"), "{stderr}");
    let (ok, listing, _) = setup.reckon(&["keys", "list"]);
    assert!(ok);
    assert!(
        listing.contains("SRC") && listing.contains(" cpo "),
        "{listing}"
    );
}

async fn ship(
    setup: &Setup,
    app: &TestApp,
    key: &str,
    state: &Path,
    files: &[&Path],
) -> (bool, String) {
    ship_as(setup, app, "cpo", key, state, files).await
}

/// Runs `reckon ship --once` as its own process, without blocking the test's runtime
/// (which also serves the app).
async fn ship_as(
    setup: &Setup,
    app: &TestApp,
    src: &str,
    key: &str,
    state: &Path,
    files: &[&Path],
) -> (bool, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
        .arg("--config")
        .arg(setup.dir.path().join("reckon.toml"))
        .arg("--data-dir")
        .arg(setup.data())
        .args([
            "ship", "--once", "--src", src, "--key", key, "--url", &app.base, "--state",
        ])
        .arg(state)
        .args(files)
        .args(["--retry-max-ms", "200"])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    (
        output.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[tokio::test]
async fn reckon_ship_tails_files_at_least_once_and_dedup_keeps_it_exactly_once() {
    let setup = Setup::new();
    let app = setup.app().await;
    let files = tempfile::tempdir().unwrap();
    let milestones = files.path().join("milestones");
    let logfile = files.path().join("logfile");
    let state = files.path().join("ship-state.json");
    std::fs::write(&milestones, format!("{MILESTONE_LINE}{MILESTONE_LINE}")).unwrap();
    std::fs::write(&logfile, GAME_LINE).unwrap();

    let (ok, out) = ship(&setup, &app, &setup.cpo, &state, &[&milestones, &logfile]).await;
    assert!(ok, "{out}");
    assert_eq!(day(&app, today()).await.len(), 3);

    // New lines, and a partial one that must wait for its newline.
    let partial = &GAME_LINE[..20];
    std::fs::write(
        &milestones,
        format!("{MILESTONE_LINE}{MILESTONE_LINE}{MILESTONE_LINE}"),
    )
    .unwrap();
    let mut log = std::fs::OpenOptions::new()
        .append(true)
        .open(&logfile)
        .unwrap();
    std::io::Write::write_all(&mut log, partial.as_bytes()).unwrap();
    let (ok, out) = ship(&setup, &app, &setup.cpo, &state, &[&milestones, &logfile]).await;
    assert!(ok, "{out}");
    assert_eq!(day(&app, today()).await.len(), 4);
    std::io::Write::write_all(&mut log, &GAME_LINE.as_bytes()[20..]).unwrap();
    let (ok, out) = ship(&setup, &app, &setup.cpo, &state, &[&milestones, &logfile]).await;
    assert!(ok, "{out}");
    assert_eq!(day(&app, today()).await.len(), 5);

    // The shipper loses its state: it sends everything again, and nothing doubles.
    std::fs::remove_file(&state).unwrap();
    let (ok, out) = ship(&setup, &app, &setup.cpo, &state, &[&milestones, &logfile]).await;
    assert!(ok, "{out}");
    assert_eq!(day(&app, today()).await.len(), 5);

    // A key bound to another server is refused: the shipper stops with the code.
    let (ok, out) = ship_as(
        &setup,
        &app,
        "cao",
        &setup.cpo,
        &files.path().join("other-state"),
        &[&milestones],
    )
    .await;
    assert!(!ok);
    assert!(out.contains("src_mismatch"), "{out}");
    assert_eq!(day(&app, today()).await.len(), 5);
    app.stop().await;
}
