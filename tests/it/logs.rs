//! Access logs end to end: a real nginx (Debian's) writes a `combined` log of requests
//! this test sends; the real `reckon logs import` counts it into a site, and the stats
//! API must give the numbers this test computes itself. Importing again, or an
//! overlapping tail, adds nothing; no full address or User-Agent reaches the data dir;
//! and on the pages-only part of the log, Reckon's GoAccess-definition visitors and
//! per-page hits equal GoAccess 1.7's own, with crawlers counted and then ignored.
//! `RECKON_TEST_NGINX` and `RECKON_TEST_GOACCESS` name the binaries (default: on PATH).

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::common::{test_config, TestApp};

const SITE: &str = "logs.test";
const FIREFOX: &str =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 LogProbe/3.3";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const CURL: &str = "curl/8.5.0";
const PAGES: [&str; 3] = ["/", "/a.html", "/post/1/"];
const ADDRESSES: [&str; 5] = [
    "203.0.113.5",
    "203.0.113.6",
    "198.51.100.7",
    "2001:db8:1:2::5",
    "2001:db8:1:3::6",
];

/// A real nginx on a loopback port, logging `combined` into its folder; killed on drop.
struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn binary(variable: &str, name: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .or_else(|| {
            ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/usr/local/sbin"]
                .iter()
                .map(|d| Path::new(d).join(name))
                .find(|p| p.exists())
        })
        .unwrap_or_else(|| {
            panic!("{name} is needed: `apt-get install {name}` (scripts/test.sh does) or set {variable}")
        })
}

impl Nginx {
    fn start() -> Nginx {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (file, body) in [
            ("www/index.html", "home"),
            ("www/a.html", "a"),
            ("www/post/1/index.html", "post"),
            ("www/s/app.css", "body{}"),
            ("www/img/x.png", "png"),
        ] {
            let path = root.join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, body).unwrap();
        }
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let d = root.display();
        let conf = format!(
            "daemon off; master_process off; worker_processes 1; pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 64; }}
http {{
  access_log {d}/access.log combined;
  client_body_temp_path {d}/tmp; proxy_temp_path {d}/tmp; fastcgi_temp_path {d}/tmp;
  uwsgi_temp_path {d}/tmp; scgi_temp_path {d}/tmp;
  set_real_ip_from 127.0.0.1; real_ip_header X-Forwarded-For; if_modified_since before;
  server {{
    listen 127.0.0.1:{port};
    root {d}/www;
    location = /old {{ return 301 /a.html; }}
  }}
}}
"
        );
        std::fs::write(root.join("nginx.conf"), conf).unwrap();
        let child = Command::new(binary("RECKON_TEST_NGINX", "nginx"))
            .arg("-c")
            .arg(root.join("nginx.conf"))
            .arg("-p")
            .arg(root)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let nginx = Nginx { child, port, dir };
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return nginx;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!(
            "nginx did not listen: {}",
            std::fs::read_to_string(nginx.dir.path().join("error.log")).unwrap_or_default()
        );
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("access.log")
    }
}

/// One request the test sent, with what it expects of it.
struct Sent {
    address: &'static str,
    agent: Option<&'static str>,
    path: String,
    view: bool,
}

struct Traffic {
    client: reqwest::Client,
    base: String,
    sent: Vec<Sent>,
    skipped: BTreeMap<&'static str, u64>,
}

impl Traffic {
    async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        address: &'static str,
        agent: Option<&'static str>,
        headers: &[(&str, &str)],
    ) {
        let mut request = self
            .client
            .request(method.clone(), format!("{}{path}", self.base))
            .header("x-forwarded-for", address);
        if let Some(agent) = agent {
            request = request.header("user-agent", agent);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let status = request.send().await.unwrap().status().as_u16();
        let asset = path.ends_with(".css") || path.ends_with(".png");
        let reason = if method != reqwest::Method::GET {
            Some("method")
        } else if status == 301 {
            Some("redirect")
        } else if !(200..300).contains(&status) && status != 304 {
            Some("status")
        } else if asset {
            Some("asset")
        } else if agent.is_none() {
            Some("no_user_agent")
        } else if agent == Some(GOOGLEBOT) || agent == Some(CURL) {
            Some("bot")
        } else {
            None
        };
        if let Some(reason) = reason {
            *self.skipped.entry(reason).or_default() += 1;
        }
        self.sent.push(Sent {
            address,
            agent,
            path: path.to_owned(),
            view: reason.is_none(),
        });
    }
}

/// The real `reckon` on `data_dir`: its stdout, once it succeeded.
fn reckon_out(data_dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_reckon"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("RECKON_LOG_LEVEL", "warn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "reckon {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn reckon(data_dir: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&reckon_out(data_dir, args)).unwrap_or(Value::Null)
}

fn goaccess(log: &Path, ignore_crawlers: bool) -> Value {
    let report = log.with_extension(format!("{ignore_crawlers}.json"));
    let mut command = Command::new(binary("RECKON_TEST_GOACCESS", "goaccess"));
    command
        .arg(log)
        .arg("--log-format=COMBINED")
        .arg("--no-global-config")
        .arg("-o")
        .arg(&report);
    if ignore_crawlers {
        command.arg("--ignore-crawlers");
    }
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "goaccess: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&std::fs::read(report).unwrap()).unwrap()
}

/// GoAccess's requests panel as (URL, hits).
fn goaccess_pages(report: &Value) -> BTreeMap<String, u64> {
    report["requests"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["data"].as_str().unwrap().to_owned(),
                r["hits"]["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn reckon_pages(summary: &Value) -> BTreeMap<String, u64> {
    summary["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_owned(), p[1].as_u64().unwrap()))
        .collect()
}

/// Pages-only traffic first (the part GoAccess reads too), then everything else.
async fn send_traffic(nginx: &Nginx) -> (Traffic, usize) {
    let mut t = Traffic {
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: format!("http://127.0.0.1:{}", nginx.port),
        sent: Vec::new(),
        skipped: BTreeMap::new(),
    };
    let agents = [FIREFOX, CHROME, GOOGLEBOT];
    let referrers = [
        "https://www.google.com/",
        "https://news.ycombinator.com/item?id=1",
    ];
    for i in 0..60 {
        let referrer = [("referer", referrers[i % 2])];
        let headers: &[(&str, &str)] = if i % 3 == 0 { &[] } else { &referrer };
        let (address, agent, page) = (ADDRESSES[i % 5], agents[(i / 5) % 3], PAGES[i % 3]);
        t.send(reqwest::Method::GET, page, address, Some(agent), headers)
            .await;
    }
    let pages_only = t.sent.len();
    use reqwest::Method;
    t.send(Method::GET, "/s/app.css", ADDRESSES[0], Some(FIREFOX), &[])
        .await;
    t.send(Method::GET, "/img/x.png", ADDRESSES[3], Some(CHROME), &[])
        .await;
    t.send(Method::GET, "/missing", ADDRESSES[1], Some(FIREFOX), &[])
        .await;
    t.send(Method::GET, "/old", ADDRESSES[2], Some(CHROME), &[])
        .await;
    t.send(Method::HEAD, "/", ADDRESSES[2], Some(CHROME), &[])
        .await;
    t.send(Method::POST, "/a.html", ADDRESSES[0], Some(FIREFOX), &[])
        .await;
    let modified = [("if-modified-since", "Tue, 01 Jan 2999 00:00:00 GMT")];
    t.send(
        Method::GET,
        "/a.html",
        ADDRESSES[4],
        Some(FIREFOX),
        &modified,
    )
    .await;
    t.send(Method::GET, "/", ADDRESSES[1], Some(CURL), &[])
        .await;
    t.send(Method::GET, "/post/1/", ADDRESSES[3], None, &[])
        .await;
    t.send(
        Method::GET,
        "/a.html?utm_source=newsletter",
        ADDRESSES[0],
        Some(CHROME),
        &[],
    )
    .await;
    // A TLS handshake sent to the plain-HTTP port: nginx logs its bytes as the request.
    let mut probe = std::net::TcpStream::connect(("127.0.0.1", nginx.port)).unwrap();
    probe
        .write_all(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n")
        .unwrap();
    let mut answer = Vec::new();
    let _ = std::io::Read::read_to_end(&mut probe, &mut answer);
    (t, pages_only)
}

#[tokio::test]
async fn a_real_nginx_log_is_counted_once_and_matches_goaccess() {
    let nginx = Nginx::start();
    let (traffic, pages_only) = send_traffic(&nginx).await;
    let log = nginx.log();
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.len(),
        traffic.sent.len() + 1,
        "one line per request and the probe:\n{text}"
    );

    let data = tempfile::tempdir().unwrap();
    let store = reckon::open_store(&test_config(data.path())).await.unwrap();
    reckon::sources::pageviews::sites::add(store.as_ref(), SITE, &[], false, false)
        .await
        .unwrap();
    drop(store);

    let log_arg = log.to_str().unwrap();
    let first = reckon(
        data.path(),
        &["logs", "import", "--site", SITE, "--json", log_arg],
    );
    let views: Vec<&Sent> = traffic.sent.iter().filter(|s| s.view).collect();
    let bots = traffic.skipped.get("bot").copied().unwrap_or(0)
        + traffic.skipped.get("no_user_agent").copied().unwrap_or(0);
    assert_eq!(first["format"], "combined");
    assert_eq!(first["views"].as_u64(), Some(views.len() as u64));
    assert_eq!(first["unparsed"]["request"], 1, "{first}");
    assert_eq!(
        first["unparsed_lines"][0][1],
        lines.len(),
        "the probe is the last line"
    );
    let skipped: BTreeMap<String, u64> = serde_json::from_value(first["skipped"].clone()).unwrap();
    let expected: BTreeMap<String, u64> = traffic
        .skipped
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
    assert_eq!(skipped, expected);
    assert_eq!(first["stored"].as_u64(), Some(views.len() as u64 + bots));
    assert_eq!(first["duplicates"], 0);

    // The same file again, then an overlapping tail: nothing new.
    let again = reckon(
        data.path(),
        &["logs", "import", "--site", SITE, "--json", log_arg],
    );
    assert_eq!(
        (again["stored"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), first["stored"].as_u64())
    );
    let tail = data.path().join("tail.log.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(lines[lines.len() / 2..].join("\n").as_bytes())
        .unwrap();
    std::fs::write(&tail, gz.finish().unwrap()).unwrap();
    let overlap = reckon(
        data.path(),
        &[
            "logs",
            "import",
            "--site",
            SITE,
            "--json",
            tail.to_str().unwrap(),
        ],
    );
    assert_eq!(overlap["stored"], 0, "{overlap}");
    assert!(overlap["duplicates"].as_u64().unwrap() > 0);

    // The stats API counts the views, their pages and visitors.
    let app = TestApp::spawn_in(data.path(), |_| {}).await;
    let stats = app
        .get_ok(&format!("/api/v1/sites/{SITE}/stats?top=20"))
        .await;
    assert_eq!(
        stats["totals"]["views"].as_u64(),
        Some(views.len() as u64),
        "{stats}"
    );
    let visitors: BTreeSet<(&str, Option<&str>)> =
        views.iter().map(|s| (s.address, s.agent)).collect();
    assert_eq!(
        stats["totals"]["visitors"].as_u64(),
        Some(visitors.len() as u64)
    );
    let mut per_page: BTreeMap<String, u64> = BTreeMap::new();
    for s in &views {
        let path = s.path.split('?').next().unwrap().to_owned();
        *per_page.entry(path).or_default() += 1;
    }
    let api_pages: BTreeMap<String, u64> = stats["pages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["views"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(api_pages, per_page);
    let dir = app.stop().await;
    drop(dir);

    // No full address and no User-Agent anywhere in the data dir.
    let mut probes: Vec<&str> = ADDRESSES.to_vec();
    probes.extend(["LogProbe", "Googlebot", CURL]);
    for (path, bytes) in crate::pageviews::files(data.path()) {
        for probe in &probes {
            assert!(
                !bytes.windows(probe.len()).any(|w| w == probe.as_bytes()),
                "{probe} found in {}",
                path.display()
            );
        }
    }

    // GoAccess on the pages-only part: the same visitors and per-page hits.
    let pages_log = data.path().join("pages.log");
    std::fs::write(&pages_log, lines[..pages_only].join("\n") + "\n").unwrap();
    let pages_arg = pages_log.to_str().unwrap();
    for ignore_crawlers in [false, true] {
        let theirs = goaccess(&pages_log, ignore_crawlers);
        let mut args = vec!["logs", "check", "--json", "--top", "100", pages_arg];
        if !ignore_crawlers {
            args.push("--count-bots");
        }
        let ours = reckon(data.path(), &args);
        assert_eq!(
            ours["visitors_ip_date_agent"], theirs["general"]["unique_visitors"],
            "crawlers ignored: {ignore_crawlers}"
        );
        assert_eq!(
            reckon_pages(&ours),
            goaccess_pages(&theirs),
            "crawlers ignored: {ignore_crawlers}"
        );
    }
}

/// A `combined` line of now, from `address` with `agent`.
fn combined_line(address: &str, path: &str, status: u16, agent: &str) -> String {
    let time = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000");
    format!(
        r#"{address} - - [{time}] "GET {path} HTTP/1.1" {status} 10 "https://www.google.com/" "{agent}""#
    )
}

async fn upload(
    app: &TestApp,
    query: &str,
    token: Option<&str>,
    body: reqwest::Body,
) -> (u16, Value) {
    let mut request = app
        .anonymous
        .post(app.url(&format!("/api/v1/beacon/log{query}")))
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Uploads `text` with `Transfer-Encoding: chunked` in 100-byte chunks (no length).
async fn chunked_upload(app: &TestApp, query: &str, token: &str, text: &str) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /api/v1/beacon/log{query} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    for chunk in text.as_bytes().chunks(100) {
        tcp.write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await
            .unwrap();
        tcp.write_all(chunk).await.unwrap();
        tcp.write_all(b"\r\n").await.unwrap();
    }
    tcp.write_all(b"0\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).await.unwrap();
    let status = answer[9..12].parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

#[tokio::test]
async fn an_uploaded_log_is_counted_once_and_a_refused_upload_stores_nothing() {
    let app = TestApp::spawn_with(|c| c.pageviews.logs.max_upload_bytes = 64 * 1024).await;
    let store = reckon::open_store(&test_config(&app.data_dir))
        .await
        .unwrap();
    let added = reckon::sources::pageviews::sites::add(store.as_ref(), SITE, &[], true, false)
        .await
        .unwrap();
    drop(store);
    let token = added
        .split_whitespace()
        .find(|w| w.starts_with("rks_"))
        .unwrap()
        .to_owned();
    let mut lines = Vec::new();
    for i in 0..90 {
        let agent = if i % 10 == 9 {
            GOOGLEBOT
        } else {
            [FIREFOX, CHROME][i % 2]
        };
        let path = ["/", "/a", "/s/app.js", "/b"][i % 4];
        lines.push(combined_line(ADDRESSES[i % 5], path, 200, agent));
    }
    lines.push("\u{16}\u{3} not a log line".to_owned());
    let text = lines.join("\n");
    let views = (0..90).filter(|i| i % 10 != 9 && i % 4 != 2).count() as u64;
    let bots = (0..90).filter(|i| i % 10 == 9 && i % 4 != 2).count() as u64;

    let refusals = [
        ("?site=logs.test", None, 401, "site_token_required"),
        (
            "?site=logs.test",
            Some("rks_wrong"),
            401,
            "site_token_required",
        ),
        ("?site=nope.test", Some(token.as_str()), 403, "unknown_site"),
        ("", Some(token.as_str()), 400, "invalid_query"),
        (
            "?site=logs.test&format=nope",
            Some(token.as_str()),
            400,
            "invalid_query",
        ),
    ];
    for (query, token, status, code) in refusals {
        let (got, body) = upload(&app, query, token, text.clone().into()).await;
        assert_eq!(
            (got, body["code"].as_str()),
            (status, Some(code)),
            "{query}"
        );
    }
    let big = "x".repeat(65 * 1024);
    let (got, body) = upload(&app, "?site=logs.test", Some(&token), big.into()).await;
    assert_eq!(
        (got, body["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let stats = app.get_ok(&format!("/api/v1/sites/{SITE}/stats")).await;
    assert_eq!(stats["totals"]["views"], 0, "refused uploads store nothing");

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    let (got, first) = upload(
        &app,
        "?site=logs.test",
        Some(&token),
        gz.finish().unwrap().into(),
    )
    .await;
    assert_eq!(got, 200, "{first}");
    assert_eq!(
        (first["views"].as_u64(), first["stored"].as_u64()),
        (Some(views), Some(views + bots))
    );
    assert_eq!(first["unparsed_lines"][0][1], 91);
    assert_eq!(first["skipped"]["asset"], 22);
    // The same lines again, streamed in small chunks with no length: nothing new.
    let (got, again) = chunked_upload(&app, "?site=logs.test&format=combined", &token, &text).await;
    assert_eq!(got, 200, "{again}");
    assert_eq!(
        (again["stored"].as_u64(), again["duplicates"].as_u64()),
        (Some(0), Some(views + bots))
    );
    let stats = app.get_ok(&format!("/api/v1/sites/{SITE}/stats")).await;
    assert_eq!(stats["totals"]["views"].as_u64(), Some(views));

    // One view from a script on the page: the stats tell the two origins apart.
    let r = app
        .anonymous
        .get(app.url(&format!("/api/v1/beacon?site={SITE}&p=/a")))
        .header("user-agent", FIREFOX)
        .header("origin", "https://logs.test")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    for (origin, want) in [
        ("", views + 1),
        ("&origin=script", 1),
        ("&origin=log", views),
    ] {
        let stats = app
            .get_ok(&format!("/api/v1/sites/{SITE}/stats?top=5{origin}"))
            .await;
        assert_eq!(stats["totals"]["views"].as_u64(), Some(want), "{origin}");
    }
    let (status, _) = app
        .get(&format!("/api/v1/sites/{SITE}/stats?origin=beacon"))
        .await;
    assert_eq!(status, 400);
}

/// `reckon logs follow --once` with its state file in `data`.
fn follow_once(data: &Path, log: &Path) -> String {
    let log = log.to_str().unwrap();
    reckon_out(data, &["logs", "follow", "--once", "--site", SITE, log])
}

fn append(path: &Path, lines: &[String]) {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    for line in lines {
        writeln!(file, "{line}").unwrap();
    }
}

#[tokio::test]
async fn a_followed_log_is_counted_across_rotation_truncation_and_restarts() {
    let data = tempfile::tempdir().unwrap();
    let store = reckon::open_store(&test_config(data.path())).await.unwrap();
    reckon::sources::pageviews::sites::add(store.as_ref(), SITE, &[], false, false)
        .await
        .unwrap();
    drop(store);
    let log = data.path().join("access.log");
    let batch = |n: usize, page: &str| -> Vec<String> {
        (0..n)
            .map(|i| combined_line(ADDRESSES[i % 5], &format!("{page}{i}"), 200, FIREFOX))
            .collect()
    };
    // Nothing there yet: the follow waits for the file.
    assert!(follow_once(data.path(), &log).contains("followed 0 lines"));
    append(&log, &batch(10, "/one/"));
    assert!(follow_once(data.path(), &log).contains("stored 10 new"));
    // A restart goes on where it stopped: only the new lines are read.
    append(&log, &batch(5, "/two/"));
    assert!(follow_once(data.path(), &log).contains("followed 5 lines"));
    // Rotation: the rest of the old file, then the new one.
    append(&log, &batch(3, "/three/"));
    std::fs::rename(&log, data.path().join("access.log.1")).unwrap();
    append(&log, &batch(4, "/four/"));
    let rotated = follow_once(data.path(), &log);
    assert!(
        rotated.contains("followed 7 lines") && rotated.contains("stored 7 new"),
        "{rotated}"
    );
    // Truncation (copytruncate): the file is read again from its start.
    std::fs::write(&log, "").unwrap();
    append(&log, &batch(2, "/five/"));
    let truncated = follow_once(data.path(), &log);
    assert!(truncated.contains("stored 2 new"), "{truncated}");
    // A lost state file re-reads the file, and the journal's dedup stores nothing again.
    std::fs::remove_dir_all(data.path().join("logs-follow")).unwrap();
    let again = follow_once(data.path(), &log);
    assert!(again.contains("stored 0 new, 2 already stored"), "{again}");

    let app = TestApp::spawn_in(data.path(), |_| {}).await;
    let stats = app.get_ok(&format!("/api/v1/sites/{SITE}/stats")).await;
    assert_eq!(stats["totals"]["views"], 24);
    app.stop().await;
}
