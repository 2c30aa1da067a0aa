//! Heartbeats benchmark, on the real `reckon serve` (SQLite, port 0, a fresh data dir):
//!
//! - ingest: `--requests` bulk posts of 25 WakaTime heartbeats each, at `--concurrency`
//!   clients with one key each (`Authorization: Basic base64(key)`), per round, to Reckon
//!   and to the bare handler: this binary's own server that parses the same array and
//!   answers the same 202 `responses` shape, without key check, decoding or storing.
//!   Rounds alternate between the two, so drift in machine load hits both; the ratio is
//!   the median of the per-round ratios. Reckon answers only after the commit
//!   (`sqlite.synchronous = full`), so its heartbeats/s are durable ones.
//! - stats: `--heartbeats` heartbeats (default 1,000,000) of `--users` users over two
//!   years ending now, written through the store's journal (not HTTP), then every query
//!   the dashboard makes over HTTP with the admin token, for `--query-users` users:
//!   the first read of each user (which builds its rollups) timed alone, then p50/p99 of
//!   `--iterations` reads after a warm-up, against `GET /api/v1/token` (same server, same
//!   token, timed before and after the queries) as the baseline, and PASS/FAIL against
//!   the 50 ms p50 target. The `store` column is the same read made in this process on
//!   the same database (`HeartbeatStore` directly): what is left is summary and JSON.
//!
//! Prints figures, never asserts timings (but for the target line): machines differ.
//!
//!     cargo bench --bench heartbeats
//!     RECKON_BENCH_HEARTBEATS=20000 cargo bench --bench heartbeats      (a smoke run)
//!     cargo bench --bench heartbeats -- --heartbeats 1000000 --users 20 --requests 2000 \
//!         --concurrency 8 --rounds 3 --iterations 30 --query-users 3
//!
//! `--section ingest|stats` runs one section.

#[path = "common/args.rs"]
mod args;
#[path = "common/measure.rs"]
mod measure;

use measure::{cpu_seconds, median};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode};
use base64::Engine;
use chrono::{Datelike, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;
use reckon::settings::Config;
use reckon::sources::heartbeats::heartbeat::{envelope, Stored};
use reckon::sources::heartbeats::store::{self as hb_store, Basis, Filter, TimeQuery};
use reckon::store::Store;
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

type Body = http_body_util::Full<axum::body::Bytes>;

const DAY_MS: i64 = 86_400_000;
const MINUTE_MS: i64 = 60_000;
/// Heartbeats per bulk request: what WakaTime clients send at most.
const PER_REQUEST: usize = 25;
/// The target of the issue: every dashboard query's p50 under this, on SQLite.
const TARGET_MS: f64 = 50.0;
/// Heartbeats per journal write while seeding.
const SEED_BATCH: usize = 5_000;
const ZONES: [&str; 5] = [
    "Europe/Berlin",
    "America/New_York",
    "UTC",
    "Asia/Tokyo",
    "America/Los_Angeles",
];

struct Options {
    heartbeats: usize,
    users: usize,
    requests: usize,
    concurrency: usize,
    rounds: usize,
    warmup: usize,
    iterations: usize,
    query_users: usize,
    section: Option<String>,
}

fn options() -> Options {
    let scaled = std::env::var("RECKON_BENCH_HEARTBEATS")
        .ok()
        .map(|v| {
            v.replace('_', "")
                .parse()
                .expect("RECKON_BENCH_HEARTBEATS takes a number")
        })
        .unwrap_or(1_000_000);
    let section = text_arg("--section");
    if let Some(s) = &section {
        assert!(
            s == "ingest" || s == "stats",
            "--section takes ingest or stats"
        );
    }
    Options {
        heartbeats: args::number("--heartbeats", scaled),
        users: args::number("--users", 20).max(1),
        requests: args::number("--requests", 2_000),
        concurrency: args::number("--concurrency", 8).max(1),
        rounds: args::number("--rounds", 3).max(1),
        warmup: args::number("--warmup", 200),
        iterations: args::number("--iterations", 30).max(1),
        query_users: args::number("--query-users", 3).max(1),
        section,
    }
}

fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let i = args.iter().position(|a| a == name)?;
    Some(
        args.get(i + 1)
            .unwrap_or_else(|| panic!("{name} takes a value"))
            .clone(),
    )
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if std::env::args().any(|a| a == "--bare-server") {
        return runtime.block_on(serve_bare());
    }
    runtime.block_on(run(options()));
}

// ---------------------------------------------------------------------------------------
// Deterministic data.

/// A small deterministic generator, so every run seeds the same history.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) % below.max(1)
    }

    fn range(&mut self, from: i64, to: i64) -> i64 {
        from + self.next((to - from).max(1) as u64) as i64
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.next(items.len() as u64) as usize]
    }
}

fn user_name(u: usize) -> String {
    format!("dev-{u:02}")
}

fn zone_of(u: usize) -> &'static str {
    ZONES[u % ZONES.len()]
}

const PROJECTS: [(&str, &str); 12] = [
    ("reckon", "Rust"),
    ("dashboard", "TypeScript"),
    ("billing", "Go"),
    ("infra", "HCL"),
    ("ml-pipeline", "Python"),
    ("mobile-app", "Kotlin"),
    ("docs", "Markdown"),
    ("api-gateway", "Go"),
    ("website", "TypeScript"),
    ("scheduler", "Rust"),
    ("etl", "Python"),
    ("ios-app", "Swift"),
];
const SIDE_LANGUAGES: [&str; 4] = ["JSON", "YAML", "Markdown", "Bash"];
const EDITORS: [(&str, &str); 4] = [
    ("vscode", "wakatime/v1.98.0 (linux-6.8.0-x86_64) go1.22.1 vscode/1.89.0 vscode-wakatime/24.5.0"),
    ("vim", "wakatime/13.1.0 (Linux-6.1.0-x86_64-with-glibc2.36) Python3.11.2.final.0 vim/9.0 vim-wakatime/9.0.0"),
    ("intellij", "wakatime/v1.98.0 (darwin-23.4.0-arm64) go1.22.1 IntelliJ/2024.1 intellij-wakatime/15.0.0"),
    ("emacs", "wakatime/v1.98.0 (windows-10.0.19045-amd64) go1.22.1 emacs/29.3 emacs-wakatime/1.0.2"),
];
const CATEGORIES: [&str; 4] = ["coding", "coding", "debugging", "code reviewing"];

/// What one user works on: the same few projects, editors and machines throughout.
struct Profile {
    projects: Vec<(&'static str, &'static str)>,
    editors: Vec<(&'static str, &'static str)>,
    machines: Vec<String>,
}

fn profile(u: usize, rng: &mut Lcg) -> Profile {
    let n = rng.range(3, 7) as usize;
    let start = rng.next(PROJECTS.len() as u64) as usize;
    let projects = (0..n)
        .map(|i| PROJECTS[(start + i * 5) % PROJECTS.len()])
        .collect();
    let e = rng.next(EDITORS.len() as u64) as usize;
    let editors = vec![EDITORS[e], EDITORS[(e + 1) % EDITORS.len()]];
    let machines = (0..rng.range(1, 4))
        .map(|m| format!("{}-{}", ["laptop", "desktop", "devbox"][m as usize], u))
        .collect();
    Profile {
        projects,
        editors,
        machines,
    }
}

/// One WakaTime heartbeat as an editor plugin sends it.
#[allow(clippy::too_many_arguments)]
fn item(
    entity: &str,
    time_ms: i64,
    project: &str,
    branch: &str,
    language: &str,
    category: &str,
    write: bool,
    line: i64,
) -> String {
    json!({
        "entity": entity,
        "type": "file",
        "category": category,
        "time": time_ms as f64 / 1000.0,
        "project": project,
        "branch": branch,
        "language": language,
        "is_write": write,
        "lines": 200 + line % 300,
        "lineno": line,
        "cursorpos": line % 80,
    })
    .to_string()
}

/// Beats of one user: `count` over the 730 days ending at `end`, on working days (and a
/// tenth of weekends), in sessions of beats 1–5 minutes apart, each session on one
/// project, branch, editor and machine. Calls `emit` per heartbeat, in time order per day.
fn user_beats(u: usize, count: usize, end_ms: i64, mut emit: impl FnMut(Stored)) -> Profile {
    let mut rng = Lcg(1_000 + u as u64);
    let p = profile(u, &mut rng);
    let tz: Tz = zone_of(u).parse().unwrap();
    // Day windows of 24 h ending at `end`: the last one ends at `end` itself.
    let worked: Vec<i64> = (0..730)
        .filter(|d| {
            let window_end = end_ms - (729 - d) * DAY_MS;
            let weekday = tz
                .timestamp_millis_opt(window_end - DAY_MS / 2)
                .unwrap()
                .weekday();
            *d == 729 || !matches!(weekday, Weekday::Sat | Weekday::Sun) || rng.next(10) == 0
        })
        .collect();
    let user = user_name(u);
    let mut left = count;
    for (i, d) in worked.iter().enumerate() {
        let days_left = worked.len() - i;
        let mut today = if days_left == 1 {
            left
        } else {
            let average = left / days_left;
            (average / 2 + rng.next((average + 1) as u64) as usize).min(left)
        };
        left -= today;
        let window_end = end_ms - (729 - d) * DAY_MS;
        // Sessions run backwards from near the window's end; the last ends a minute ago.
        let mut t = window_end
            - if *d == 729 {
                MINUTE_MS
            } else {
                rng.range(0, 120) * MINUTE_MS
            };
        // Keep a day inside its 24 h window, however many beats it has.
        let step_max = (20 * 60 * MINUTE_MS / (today.max(1) as i64)).clamp(2_000, 5 * MINUTE_MS);
        while today > 0 {
            let session = (rng.range(10, 60) as usize).min(today);
            today -= session;
            let (project, main_language) = *rng.pick(&p.projects);
            let branch = match rng.next(4) {
                0 | 1 => "main".to_owned(),
                n => format!("feature/{project}-{}", (d / 14 + n as i64) % 9),
            };
            let (_, agent) = *rng.pick(&p.editors);
            let machine = rng.pick(&p.machines).clone();
            let category = *rng.pick(&CATEGORIES);
            for _ in 0..session {
                let side = rng.next(5) == 0;
                let language = if side {
                    *rng.pick(&SIDE_LANGUAGES)
                } else {
                    main_language
                };
                let file = rng.next(30);
                let entity = format!(
                    "/home/{user}/src/{project}/src/mod_{file}.{}",
                    language.to_ascii_lowercase()
                );
                let line = rng.range(1, 900);
                let raw = item(
                    &entity,
                    t,
                    project,
                    &branch,
                    language,
                    category,
                    rng.next(5) == 0,
                    line,
                );
                emit(Stored {
                    user: user.clone(),
                    machine: Some(machine.clone()),
                    user_agent: Some(agent.to_owned()),
                    timezone: Some(zone_of(u).to_owned()),
                    heartbeat: Some(RawValue::from_string(raw).unwrap()),
                    kodo: None,
                });
                t -= rng.range(step_max / 5, step_max);
            }
            t -= rng.range(15, 90) * MINUTE_MS;
        }
    }
    p
}

/// Writes the history straight into the journal, `SEED_BATCH` heartbeats per commit.
/// Returns each user's projects.
async fn seed(store: &dyn Store, o: &Options, end_ms: i64) -> Vec<Vec<String>> {
    let mut projects = Vec::new();
    let mut written = 0usize;
    for u in 0..o.users {
        let count = o.heartbeats / o.users + usize::from(u < o.heartbeats % o.users);
        let mut beats = Vec::with_capacity(count);
        let p = user_beats(u, count, end_ms, |stored| beats.push(stored));
        for chunk in beats.chunks(SEED_BATCH) {
            let batch: Vec<_> = chunk
                .iter()
                .map(|stored| {
                    let hb = stored.decode().expect("a seeded heartbeat decodes");
                    envelope(stored, &hb, hb.time_ms + 2_000)
                })
                .collect();
            written += batch.len();
            store.write_batch(batch).await.unwrap();
        }
        projects.push(
            p.projects
                .iter()
                .map(|(name, _)| (*name).to_owned())
                .collect(),
        );
    }
    assert_eq!(written, o.heartbeats);
    projects
}

// ---------------------------------------------------------------------------------------
// Servers.

/// The bare handler: the same route, reads the body, parses the array and answers the
/// same `responses` shape as Reckon, with no key check, no decoding and no store.
async fn serve_bare() {
    async fn bulk(body: axum::body::Bytes) -> (StatusCode, axum::Json<Value>) {
        let items: Vec<serde_json::Map<String, Value>> = match serde_json::from_slice(&body) {
            Ok(items) => items,
            Err(e) => {
                return (
                    StatusCode::BAD_REQUEST,
                    axum::Json(json!({"error": e.to_string()})),
                )
            }
        };
        let responses: Vec<Value> = items
            .iter()
            .map(|i| {
                json!([{"data": {
                    "id": "hb_0", "entity": i.get("entity"), "type": i.get("type"),
                    "category": i.get("category"), "time": i.get("time"), "project": i.get("project"),
                    "branch": i.get("branch"), "language": i.get("language"),
                    "is_write": i.get("is_write"), "user_id": "bench",
                }}, 201])
            })
            .collect();
        (
            StatusCode::ACCEPTED,
            axum::Json(json!({ "responses": responses })),
        )
    }
    let app = axum::Router::new().route(
        "/api/v1/users/{user}/heartbeats.bulk",
        axum::routing::post(bulk),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

struct Server {
    name: String,
    child: Child,
    addr: SocketAddr,
}

async fn spawn(name: &str, mut command: Command) -> Server {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(rest) = line.split("listening on http://").nth(1) {
            let addr = rest.trim().parse().unwrap();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return Server {
                name: name.to_owned(),
                child,
                addr,
            };
        }
    }
    panic!("{name} did not start");
}

/// The config both this process and `reckon serve` use: the data dir and each seeded
/// user's fixed time zone.
fn config(data: &Path, users: usize) -> (Config, PathBuf) {
    let mut config = Config::defaults();
    config.data_dir = data.to_owned();
    let mut toml = String::new();
    for u in 0..users {
        let name = user_name(u);
        config
            .heartbeats
            .users
            .entry(name.clone())
            .or_default()
            .timezone = Some(zone_of(u).to_owned());
        toml.push_str(&format!(
            "[heartbeats.users.{name}]\ntimezone = \"{}\"\n",
            zone_of(u)
        ));
    }
    let file = data.join("reckon.toml");
    std::fs::write(&file, toml).unwrap();
    (config, file)
}

async fn start_reckon(name: &str, data: &Path, config_file: &Path) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reckon"));
    command
        .arg("--config")
        .arg(config_file)
        .args([
            "serve",
            "--no-scheduler",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data)
        .env("RECKON_LOG_LEVEL", "warn")
        .env("RECKON_GITHUB_WEBHOOK_SECRET", "bench-secret")
        // Not a config key: the server would warn about it.
        .env_remove("RECKON_BENCH_HEARTBEATS");
    spawn(name, command).await
}

// ---------------------------------------------------------------------------------------
// Ingest.

struct Request {
    path: String,
    auth: HeaderValue,
    body: Body,
}

/// `n` bulk requests of 25 heartbeats, round-robin over the keys, every heartbeat unique
/// (1 ms apart from `first_ms` on, counting from `offset`) and within the last day.
fn bulk_requests(
    keys: &[(String, String)],
    n: usize,
    first_ms: i64,
    offset: usize,
) -> Vec<Request> {
    (0..n)
        .map(|i| {
            let (user, key) = &keys[i % keys.len()];
            let items: Vec<Value> = (0..PER_REQUEST)
                .map(|j| {
                    let k = (offset + i * PER_REQUEST + j) as i64;
                    serde_json::from_str(&item(
                        &format!("/home/{user}/src/bench/src/file_{}.rs", k % 40),
                        first_ms + k,
                        "bench",
                        "main",
                        "Rust",
                        "coding",
                        k % 5 == 0,
                        k % 900,
                    ))
                    .unwrap()
                })
                .collect();
            let basic = base64::engine::general_purpose::STANDARD.encode(key);
            Request {
                path: "/api/v1/users/current/heartbeats.bulk".into(),
                auth: HeaderValue::from_str(&format!("Basic {basic}")).unwrap(),
                body: Body::from(serde_json::to_vec(&items).unwrap()),
            }
        })
        .collect()
}

struct LoadResult {
    heartbeats_per_second: f64,
    p50: Duration,
    p99: Duration,
    stored: usize,
    refused: Option<String>,
}

/// Whether `needle` occurs in `hay`, counted.
fn occurrences(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

async fn load(addr: SocketAddr, requests: Arc<Vec<Request>>, concurrency: usize) -> LoadResult {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (requests, next) = (requests.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let (mut latencies, mut stored, mut refused) = (Vec::new(), 0, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(r) = requests.get(i) else { break };
                let request = hyper::Request::post(r.path.as_str())
                    .header("host", "bench")
                    .header("content-type", "application/json")
                    .header("authorization", r.auth.clone())
                    .header("user-agent", EDITORS[0].1)
                    .header("x-machine-name", "bench-box")
                    .body(r.body.clone())
                    .unwrap();
                let t = Instant::now();
                sender.ready().await.unwrap();
                let response = sender.send_request(request).await.unwrap();
                let status = response.status();
                let body = http_body_util::BodyExt::collect(response.into_body())
                    .await
                    .unwrap()
                    .to_bytes();
                latencies.push(t.elapsed());
                let ok = occurrences(&body, b",201]");
                stored += ok;
                if (status != StatusCode::ACCEPTED || ok != PER_REQUEST) && refused.is_none() {
                    refused = Some(format!("{status} {}", String::from_utf8_lossy(&body)));
                }
            }
            (latencies, stored, refused)
        }));
    }
    let (mut latencies, mut stored, mut refused) = (Vec::new(), 0, None);
    for w in workers {
        let (l, n, r) = w.await.unwrap();
        latencies.extend(l);
        stored += n;
        refused = refused.or(r);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    LoadResult {
        heartbeats_per_second: stored as f64 / elapsed.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        stored,
        refused,
    }
}

async fn ingest(o: &Options) {
    println!(
        "\n== ingest: POST /api/v1/users/current/heartbeats.bulk, {PER_REQUEST} heartbeats per request, \
         {} requests x {} rounds at concurrency {} (warmup {})",
        o.requests, o.rounds, o.concurrency, o.warmup
    );
    let data = tempfile::tempdir().unwrap();
    let (config, file) = config(data.path(), 0);
    let store = reckon::open_store(&config).await.unwrap();
    let mut keys = Vec::new();
    for c in 0..o.concurrency {
        let user = format!("ingest-{c}");
        let key = reckon::sources::heartbeats::keys::add(&*store, &user)
            .await
            .unwrap();
        keys.push((user, key));
    }
    drop(store);
    let mut bare = {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.arg("--bare-server");
        spawn("bare handler", command).await
    };
    let mut reckon = start_reckon("reckon sqlite", data.path(), &file).await;
    let servers = [&bare, &reckon];
    // Every heartbeat of the run is unique and within the last day.
    let first_ms = Utc::now().timestamp_millis() - 23 * 3_600_000;
    let mut offset = 0;
    for server in servers {
        let warm = bulk_requests(&keys, o.warmup, first_ms, offset);
        offset += o.warmup * PER_REQUEST;
        load(server.addr, Arc::new(warm), o.concurrency).await;
    }
    let mut results: Vec<Vec<(LoadResult, f64)>> = vec![Vec::new(), Vec::new()];
    for round in 0..o.rounds {
        for k in 0..servers.len() {
            let s = (round + k) % servers.len();
            let server = servers[s];
            let requests = bulk_requests(&keys, o.requests, first_ms, offset);
            offset += o.requests * PER_REQUEST;
            let pid = server.child.id().unwrap();
            let cpu = cpu_seconds(pid);
            let r = load(server.addr, Arc::new(requests), o.concurrency).await;
            let cpu_us = (cpu_seconds(pid) - cpu) * 1e6 / r.stored.max(1) as f64;
            assert_eq!(
                r.stored,
                o.requests * PER_REQUEST,
                "{} refused heartbeats, first: {}",
                server.name,
                r.refused.as_deref().unwrap_or("-")
            );
            println!(
                "  round {} {:<15} {:>9.0} heartbeats/s ({:>6.0} req/s)   p50 {:>7.2} ms   p99 {:>7.2} ms   server CPU {:>6.1} us/heartbeat",
                round + 1,
                server.name,
                r.heartbeats_per_second,
                r.heartbeats_per_second / PER_REQUEST as f64,
                r.p50.as_secs_f64() * 1e3,
                r.p99.as_secs_f64() * 1e3,
                cpu_us,
            );
            results[s].push((r, cpu_us));
        }
    }
    println!("\nmedians over rounds:");
    println!(
        "{:<15} {:>13} {:>9} {:>9} {:>9} {:>17}",
        "target", "heartbeats/s", "req/s", "p50 ms", "p99 ms", "CPU us/heartbeat"
    );
    for (server, rounds) in servers.iter().zip(&results) {
        let of = |f: &dyn Fn(&(LoadResult, f64)) -> f64| median(rounds.iter().map(f).collect());
        let rate = of(&|r| r.0.heartbeats_per_second);
        println!(
            "{:<15} {:>13.0} {:>9.0} {:>9.2} {:>9.2} {:>17.1}",
            server.name,
            rate,
            rate / PER_REQUEST as f64,
            of(&|r| r.0.p50.as_secs_f64() * 1e3),
            of(&|r| r.0.p99.as_secs_f64() * 1e3),
            of(&|r| r.1),
        );
    }
    let ratio = median(
        results[1]
            .iter()
            .zip(&results[0])
            .map(|(r, b)| r.0.heartbeats_per_second / b.0.heartbeats_per_second)
            .collect(),
    );
    println!(
        "ratio reckon sqlite (durable, synchronous=full) / bare handler, heartbeats/s (median of per-round ratios): {ratio:.2}"
    );
    println!(
        "  (bare handler: this binary's axum route that parses the same array and answers the same 202 \
         shape, without key check, decoding or storing)"
    );
    let _ = bare.child.start_kill();
    let _ = reckon.child.start_kill();
    let _ = bare.child.wait().await;
    let _ = reckon.child.wait().await;
}

// ---------------------------------------------------------------------------------------
// Stats.

struct Timing {
    name: String,
    samples: Vec<Duration>,
    store: Vec<Duration>,
    bytes: usize,
}

fn percentile(samples: &[Duration], p: f64) -> f64 {
    let mut s = samples.to_vec();
    s.sort();
    if s.is_empty() {
        return f64::NAN;
    }
    let i = ((s.len() as f64 - 1.0) * p).round() as usize;
    s[i].as_secs_f64() * 1000.0
}

/// One dashboard read: its path per user, and the store read behind it (if one).
struct Query {
    name: &'static str,
    path: PathFn,
    /// The days and filter the handler reads, given today, the user's first day and project.
    store: Option<StoreFn>,
}

type PathFn = Box<dyn Fn(&str, NaiveDate, &str) -> String>;
type StoreFn = Box<dyn Fn(NaiveDate, NaiveDate, &str) -> (NaiveDate, NaiveDate, Filter, bool)>;

fn path(f: impl Fn(&str, NaiveDate, &str) -> String + 'static) -> PathFn {
    Box::new(f)
}

fn reads_of(
    f: impl Fn(NaiveDate, NaiveDate, &str) -> (NaiveDate, NaiveDate, Filter, bool) + 'static,
) -> Option<StoreFn> {
    Some(Box::new(f))
}

fn named(range: &str, today: NaiveDate, first: NaiveDate) -> (NaiveDate, NaiveDate) {
    reckon::sources::heartbeats::read::named_range(range, today, Some(first)).unwrap()
}

fn queries() -> Vec<Query> {
    let plain = |range: &'static str| {
        reads_of(move |today, first, _| {
            let (a, b) = named(range, today, first);
            (a, b, Filter::default(), false)
        })
    };
    vec![
        Query {
            name: "statusbar/today",
            path: path(|u, _, _| format!("/api/v1/users/{u}/statusbar/today")),
            store: plain("today"),
        },
        Query {
            name: "summaries last_7_days",
            path: path(|u, _, _| format!("/api/v1/users/{u}/summaries?range=last_7_days")),
            store: plain("last_7_days"),
        },
        Query {
            name: "summaries last_30_days",
            path: path(|u, _, _| format!("/api/v1/users/{u}/summaries?range=last_30_days")),
            store: plain("last_30_days"),
        },
        Query {
            name: "stats/last_7_days",
            path: path(|u, _, _| format!("/api/v1/users/{u}/stats/last_7_days")),
            store: plain("last_7_days"),
        },
        Query {
            name: "stats/last_30_days",
            path: path(|u, _, _| format!("/api/v1/users/{u}/stats/last_30_days")),
            store: plain("last_30_days"),
        },
        Query {
            name: "stats/last_year",
            path: path(|u, _, _| format!("/api/v1/users/{u}/stats/last_year")),
            store: plain("last_year"),
        },
        Query {
            name: "stats/all_time",
            path: path(|u, _, _| format!("/api/v1/users/{u}/stats/all_time")),
            store: plain("all_time"),
        },
        Query {
            name: "project page (30 d, files)",
            path: path(|u, _, p| {
                format!("/api/v1/users/{u}/summaries?range=last_30_days&project={p}")
            }),
            store: reads_of(|today, first, p| {
                let (a, b) = named("last_30_days", today, first);
                let mut f = Filter::default();
                f.0[0] = Some(p.to_owned());
                (a, b, f, true)
            }),
        },
        Query {
            name: "daily chart, 2 years",
            path: path(|u, today, _| {
                format!(
                    "/api/v1/users/{u}/summaries?start={}&end={today}",
                    today - chrono::Days::new(730)
                )
            }),
            store: reads_of(|today, _, _| {
                (
                    today - chrono::Days::new(730),
                    today,
                    Filter::default(),
                    false,
                )
            }),
        },
        Query {
            name: "heartbeats/users",
            path: path(|_, _, _| "/api/v1/heartbeats/users".to_owned()),
            store: None,
        },
    ]
}

/// A GET with the admin token; the answer's size. Panics unless 200.
async fn get(client: &reqwest::Client, base: &str, token: &str, path: &str) -> usize {
    let response = client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body = response.bytes().await.unwrap();
    assert!(
        status.is_success(),
        "GET {path}: {status} {}",
        String::from_utf8_lossy(&body)
    );
    body.len()
}

async fn get_json(client: &reqwest::Client, base: &str, token: &str, path: &str) -> Value {
    client
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `GET /api/v1/token` with the admin token, `n` times after one warm-up.
async fn baseline_samples(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    n: usize,
) -> Vec<Duration> {
    get(client, base, token, "/api/v1/token").await;
    let mut samples = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        get(client, base, token, "/api/v1/token").await;
        samples.push(t.elapsed());
    }
    samples
}

fn basis_of(u: usize) -> Basis {
    Basis {
        tz: zone_of(u).parse().unwrap(),
        timeout_ms: 10 * MINUTE_MS,
    }
}

async fn stats(o: &Options) {
    println!(
        "\n== stats: {} heartbeats of {} users over 2 years, written through the journal; \
         {} iterations per query after a warm-up, for {} users",
        o.heartbeats,
        o.users,
        o.iterations,
        o.query_users.min(o.users)
    );
    let data = tempfile::tempdir().unwrap();
    let (config, file) = config(data.path(), o.users);
    let store = reckon::open_store(&config).await.unwrap();
    let end_ms = Utc::now().timestamp_millis();
    let seeding = Instant::now();
    let projects = seed(&*store, o, end_ms).await;
    let seconds = seeding.elapsed().as_secs_f64();
    let bytes: u64 = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "seeded in {seconds:.1} s ({:.0} heartbeats/s through write_batch, {SEED_BATCH} per commit); data dir {:.0} MiB",
        o.heartbeats as f64 / seconds,
        bytes as f64 / 1048576.0
    );
    let mut server = start_reckon("reckon sqlite", data.path(), &file).await;
    let base = format!("http://{}", server.addr);
    let token = std::fs::read_to_string(data.path().join("admin-token"))
        .expect("admin-token written at the first loopback start")
        .trim()
        .to_owned();
    let client = reqwest::Client::new();
    let reads = hb_store::of(&*store).expect("SQLite keeps coding time");

    // Spread the timed users over the list: different zones, different projects.
    let step = (o.users / o.query_users.min(o.users)).max(1);
    let timed: Vec<usize> = (0..o.users).step_by(step).take(o.query_users).collect();

    println!(
        "\nfirst read (rollup build) per user, GET statusbar/today on a user never read before:"
    );
    for &u in &timed {
        let t = Instant::now();
        get(
            &client,
            &base,
            &token,
            &format!("/api/v1/users/{}/statusbar/today", user_name(u)),
        )
        .await;
        println!(
            "  {:<8} {:>9.1} ms  ({})",
            user_name(u),
            t.elapsed().as_secs_f64() * 1e3,
            zone_of(u)
        );
    }

    // What the timed reads find, so a fast answer cannot be an empty one.
    let first_user = user_name(timed[0]);
    let all = get_json(
        &client,
        &base,
        &token,
        &format!("/api/v1/users/{first_user}/stats/all_time"),
    )
    .await;
    let today = get_json(
        &client,
        &base,
        &token,
        &format!("/api/v1/users/{first_user}/statusbar/today"),
    )
    .await;
    println!(
        "{first_user}: all time {:.0} h over {} .. {}, {} projects, {} languages; today {}",
        all["data"]["total_seconds"].as_f64().unwrap_or_default() / 3600.0,
        all["data"]["start"].as_str().unwrap_or("?"),
        all["data"]["end"].as_str().unwrap_or("?"),
        all["data"]["projects"].as_array().map_or(0, Vec::len),
        all["data"]["languages"].as_array().map_or(0, Vec::len),
        today["data"]["grand_total"]["text"].as_str().unwrap_or("?"),
    );

    let mut baseline = baseline_samples(&client, &base, &token, o.iterations * 3).await;

    let mut timings = Vec::new();
    for q in queries() {
        let mut timing = Timing {
            name: q.name.to_owned(),
            samples: Vec::new(),
            store: Vec::new(),
            bytes: 0,
        };
        let users: &[usize] = if q.store.is_none() {
            &timed[..1]
        } else {
            &timed
        };
        for &u in users {
            let user = user_name(u);
            let basis = basis_of(u);
            let local_today = Utc::now().with_timezone(&basis.tz).date_naive();
            let project = &projects[u][0];
            let path = (q.path)(&user, local_today, project);
            timing.bytes = get(&client, &base, &token, &path).await; // warm-up
            let n = if q.store.is_none() {
                o.iterations * timed.len()
            } else {
                o.iterations
            };
            for _ in 0..n {
                let t = Instant::now();
                get(&client, &base, &token, &path).await;
                timing.samples.push(t.elapsed());
            }
            let Some(store_side) = &q.store else {
                for _ in 0..n {
                    let t = Instant::now();
                    reads.heartbeat_users(None).await.unwrap();
                    timing.store.push(t.elapsed());
                }
                continue;
            };
            let first = reads.heartbeat_users(Some(&user)).await.unwrap()[0].first_ms;
            let first = reckon::sources::heartbeats::durations::local_day(first, basis.tz);
            let (a, b, filter, files) = store_side(local_today, first, project);
            let query = TimeQuery {
                user: user.clone(),
                first: a,
                last: b,
                basis,
                filter,
                files,
            };
            reads.coding_time(&query).await.unwrap();
            for _ in 0..n {
                let t = Instant::now();
                reads.coding_time(&query).await.unwrap();
                timing.store.push(t.elapsed());
            }
        }
        timings.push(timing);
    }
    baseline.extend(baseline_samples(&client, &base, &token, o.iterations * 3).await);
    let base_p50 = percentile(&baseline, 0.5);

    println!(
        "\n{:<28} {:>9} {:>9} {:>10} {:>11} {:>9}  target p50 < 50 ms",
        "query (HTTP, admin token)", "p50 ms", "p99 ms", "store p50", "p50 / base", "KiB",
    );
    println!(
        "{:<28} {:>9.2} {:>9.2} {:>10} {:>11.1} {:>9}",
        "GET /api/v1/token (base)",
        base_p50,
        percentile(&baseline, 0.99),
        "-",
        1.0,
        "-"
    );
    let mut failed = Vec::new();
    for t in &timings {
        let p50 = percentile(&t.samples, 0.5);
        let pass = p50 < TARGET_MS;
        if !pass {
            failed.push(t.name.clone());
        }
        println!(
            "{:<28} {:>9.2} {:>9.2} {:>10.2} {:>11.1} {:>9.1}  {}",
            t.name,
            p50,
            percentile(&t.samples, 0.99),
            percentile(&t.store, 0.5),
            p50 / base_p50,
            t.bytes as f64 / 1024.0,
            if pass { "PASS" } else { "FAIL" }
        );
    }
    println!(
        "(store p50: the same read in this process through HeartbeatStore::coding_time (or \
         heartbeat_users) on the same database; the rest of p50 is the handler: summary, JSON, HTTP)"
    );
    if failed.is_empty() {
        println!("target: every query's p50 below {TARGET_MS} ms on SQLite: PASS");
    } else {
        println!(
            "target: every query's p50 below {TARGET_MS} ms on SQLite: FAIL ({})",
            failed.join(", ")
        );
    }
    let _ = server.child.start_kill();
    let _ = server.child.wait().await;
    drop(store);
}

async fn run(o: Options) {
    let runs = |section: &str| o.section.as_deref().is_none_or(|s| s == section);
    println!(
        "heartbeats benchmark: {} heartbeats of {} users; ingest {} x {} bulk requests at concurrency {}",
        o.heartbeats, o.users, o.rounds, o.requests, o.concurrency
    );
    if runs("ingest") {
        ingest(&o).await;
    }
    if runs("stats") {
        stats(&o).await;
    }
    let env = if o.heartbeats == 1_000_000 {
        String::new()
    } else {
        format!("RECKON_BENCH_HEARTBEATS={} ", o.heartbeats)
    };
    let section = o
        .section
        .as_ref()
        .map(|s| format!(" --section {s}"))
        .unwrap_or_default();
    println!(
        "\nreproduce: {env}cargo bench --bench heartbeats -- --users {} --requests {} --concurrency {} \
         --rounds {} --warmup {} --iterations {} --query-users {}{section}",
        o.users, o.requests, o.concurrency, o.rounds, o.warmup, o.iterations, o.query_users
    );
}
