//! Page-views benchmark, on the real `reckon serve` (SQLite, port 0, a fresh data dir,
//! one site `bench.test` registered as `reckon sites add` does):
//!
//! - ingest: `--requests` beacon GETs per round (`/api/v1/beacon?site=bench.test&p=/post-N
//!   &r=https://www.google.com/&u=1`, N over 500 paths, browser User-Agents of 50 versions
//!   so visitors vary, `Origin: https://bench.test`) at `--concurrency` keep-alive clients,
//!   to Reckon and to the bare handler: this binary's own axum route that parses the same
//!   query and answers the same 204, without site check, bot check, hashing or storing.
//!   Rounds alternate between the two, so drift in machine load hits both; the ratio is
//!   the median of the per-round ratios, against the line (at least half of the
//!   bare handler's hits/s). Reckon acknowledges a hit only after the SQLite group commit
//!   (`sqlite.synchronous = full`), so its hits/s are durable ones. At the end the stats
//!   API must count exactly as many views as Reckon gave 204s (asserted).
//! - fanout: `--readers` WebSockets on `/api/v1/live` (opened `--open-batch` at a time),
//!   all subscribed to article `post-1` of a `--public-live` site; then `--views` times one
//!   view of `post-1` from another socket, timed from its send until the first and the last
//!   reader has a push with the new count.
//!
//! Prints figures, never asserts timings (the target line says PASS or FAIL): machines
//! differ. Peak RSS is the Reckon child's `VmHWM`.
//!
//!     cargo bench --bench pageviews
//!     cargo bench --bench pageviews -- --requests 2000 --rounds 1 --readers 500 --views 5   (smoke)
//!     cargo bench --bench pageviews -- --requests 20000 --concurrency 64 --rounds 3 \
//!         --readers 10000 --views 20
//!
//! - stats: `--stat-views` views (default 10,000,000) on `--sites` sites over `--days`
//!   days, every dashboard query cold and `--iterations` times, against the raw read in
//!   this process (`benches/pageviews/stats.rs` says how).
//!
//! `--section ingest|fanout|stats` runs one section.

#[path = "common/args.rs"]
mod args;
#[path = "common/measure.rs"]
mod measure;
#[path = "pageviews/stats.rs"]
mod stats;
#[path = "common/status.rs"]
mod status;

use measure::{cpu_seconds, median};
use status::status_kb;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderValue, StatusCode};
use futures_util::{SinkExt, StreamExt};
use reckon::settings::Config;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Body = http_body_util::Empty<axum::body::Bytes>;
type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const SITE: &str = "bench.test";
const ORIGIN: &str = "https://bench.test";
/// Distinct pages the beacons spread over.
const PAGES: usize = 500;
/// Distinct browser versions per User-Agent family (with the 3 families: 150 visitors).
const VERSIONS: usize = 50;
/// The target: Reckon's durable hits/s at least this share of the bare handler's.
const TARGET_RATIO: f64 = 0.5;
/// The article every reader follows.
const ARTICLE: &str = "post-1";
/// Longest wait for one push to reach every reader before the bench gives up.
const PUSH_TIMEOUT: Duration = Duration::from_secs(60);

struct Options {
    requests: usize,
    concurrency: usize,
    rounds: usize,
    warmup: usize,
    readers: usize,
    views: usize,
    open_batch: usize,
    section: Option<String>,
    stats: stats::StatsOptions,
}

fn options() -> Options {
    let section = text_arg("--section");
    if let Some(s) = &section {
        assert!(
            ["ingest", "fanout", "stats"].contains(&s.as_str()),
            "--section takes ingest, fanout or stats"
        );
    }
    Options {
        requests: args::number("--requests", 20_000).max(1),
        concurrency: args::number("--concurrency", 64).max(1),
        rounds: args::number("--rounds", 3).max(1),
        warmup: args::number("--warmup", 500),
        readers: args::number("--readers", 10_000).max(1),
        views: args::number("--views", 20).max(1),
        open_batch: args::number("--open-batch", 200).max(1),
        section,
        stats: stats::StatsOptions {
            views: args::number("--stat-views", 10_000_000).max(1),
            sites: args::number("--sites", 50).max(2),
            days: args::number("--days", 730).max(2) as i64,
            iterations: args::number("--iterations", 20).max(1),
            baseline_iterations: args::number("--baseline-iterations", 3).max(1),
        },
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
// Servers.

/// The bare handler: the same route and query, answered with the same 204, with no site
/// or bot check, no hashing and no store.
async fn serve_bare() {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct Params {
        site: Option<String>,
        p: Option<String>,
        r: Option<String>,
        t: Option<String>,
        u: Option<String>,
    }
    async fn beacon(
        _params: axum::extract::Query<Params>,
    ) -> (StatusCode, [(axum::http::HeaderName, HeaderValue); 1]) {
        (
            StatusCode::NO_CONTENT,
            [(
                axum::http::header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            )],
        )
    }
    let app = axum::Router::new().route("/api/v1/beacon", axum::routing::get(beacon));
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

/// Registers the bench site on a fresh data dir, as `reckon sites add bench.test --origin
/// https://bench.test [--public-live]` does.
async fn add_site(data: &Path, public_live: bool) {
    let mut config = Config::defaults();
    config.data_dir = data.to_owned();
    let store = reckon::open_store(&config).await.unwrap();
    reckon::sources::pageviews::sites::add(
        store.as_ref(),
        SITE,
        &[ORIGIN.to_owned()],
        false,
        public_live,
    )
    .await
    .unwrap();
}

async fn start_reckon(name: &str, data: &Path, env: &[(&str, String)]) -> Server {
    let mut command = Command::new(env!("CARGO_BIN_EXE_reckon"));
    command
        .args([
            "serve",
            "--no-scheduler",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(data)
        .env("RECKON_LOG_LEVEL", "warn")
        .env("RECKON_GITHUB_WEBHOOK_SECRET", "bench-secret");
    for (key, value) in env {
        command.env(key, value);
    }
    spawn(name, command).await
}

fn mib(kb: Option<u64>) -> String {
    kb.map_or("?".into(), |kb| format!("{:.1} MiB", kb as f64 / 1024.0))
}

/// The soft limit on open files of this process (`ulimit -n`), if readable.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

fn admin_token(data: &Path) -> String {
    std::fs::read_to_string(data.join("admin-token"))
        .expect("admin-token written at the first loopback start")
        .trim()
        .to_owned()
}

async fn stop(server: &mut Server) {
    let _ = server.child.start_kill();
    let _ = server.child.wait().await;
}

/// The `p` quantile of `samples`, in ms.
fn percentile(samples: &[Duration], p: f64) -> f64 {
    let mut s = samples.to_vec();
    s.sort();
    if s.is_empty() {
        return f64::NAN;
    }
    let i = ((s.len() as f64 - 1.0) * p).round() as usize;
    s[i].as_secs_f64() * 1e3
}

// ---------------------------------------------------------------------------------------
// Ingest.

const AGENTS: [&str; 3] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.{v}.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{v} Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.{v}",
];

struct Beacon {
    path: String,
    agent: HeaderValue,
}

/// `n` beacons, the `offset`-th of the run first: pages and visitors cycle.
fn beacons(n: usize, offset: usize) -> Vec<Beacon> {
    (offset..offset + n)
        .map(|i| Beacon {
            path: format!(
                "/api/v1/beacon?site={SITE}&p=/post-{}&r=https://www.google.com/&u=1",
                i % PAGES
            ),
            agent: HeaderValue::from_str(
                &AGENTS[i % AGENTS.len()].replace("{v}", &((i / 7) % VERSIONS).to_string()),
            )
            .unwrap(),
        })
        .collect()
}

struct LoadResult {
    hits_per_second: f64,
    p50: f64,
    p99: f64,
    no_content: usize,
    other: Option<String>,
}

async fn load(addr: SocketAddr, beacons: Arc<Vec<Beacon>>, concurrency: usize) -> LoadResult {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..concurrency {
        let (beacons, next) = (beacons.clone(), next.clone());
        workers.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                    .await
                    .unwrap();
            tokio::spawn(conn);
            let (mut latencies, mut no_content, mut other) = (Vec::new(), 0, None);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(b) = beacons.get(i) else { break };
                let request = hyper::Request::get(b.path.as_str())
                    .header("host", SITE)
                    .header("user-agent", b.agent.clone())
                    .header("origin", ORIGIN)
                    .header("accept", "*/*")
                    .body(Body::new())
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
                if status == StatusCode::NO_CONTENT {
                    no_content += 1;
                } else if other.is_none() {
                    other = Some(format!("{status} {}", String::from_utf8_lossy(&body)));
                }
            }
            (latencies, no_content, other)
        }));
    }
    let (mut latencies, mut no_content, mut other) = (Vec::new(), 0, None);
    for w in workers {
        let (l, n, o) = w.await.unwrap();
        latencies.extend(l);
        no_content += n;
        other = other.or(o);
    }
    let elapsed = started.elapsed();
    LoadResult {
        hits_per_second: no_content as f64 / elapsed.as_secs_f64(),
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        no_content,
        other,
    }
}

async fn ingest(o: &Options) {
    println!(
        "\n== ingest: GET /api/v1/beacon, {} requests x {} rounds at concurrency {} (warmup {}), \
         {PAGES} pages, {} User-Agents",
        o.requests,
        o.rounds,
        o.concurrency,
        o.warmup,
        AGENTS.len() * VERSIONS
    );
    let data = tempfile::tempdir().unwrap();
    add_site(data.path(), false).await;
    let mut bare = {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command.arg("--bare-server");
        spawn("bare handler", command).await
    };
    let mut reckon = start_reckon("reckon sqlite", data.path(), &[]).await;
    let servers = [&bare, &reckon];
    let mut offset = 0;
    let mut reckon_204s = 0;
    for (s, server) in servers.iter().enumerate() {
        let warm = load(
            server.addr,
            Arc::new(beacons(o.warmup, offset)),
            o.concurrency,
        )
        .await;
        offset += o.warmup;
        if s == 1 {
            reckon_204s += warm.no_content;
        }
    }
    let mut results: Vec<Vec<(LoadResult, f64)>> = vec![Vec::new(), Vec::new()];
    for round in 0..o.rounds {
        for k in 0..servers.len() {
            let s = (round + k) % servers.len();
            let server = servers[s];
            let batch = Arc::new(beacons(o.requests, offset));
            offset += o.requests;
            let pid = server.child.id().unwrap();
            let cpu = cpu_seconds(pid);
            let r = load(server.addr, batch, o.concurrency).await;
            let cpu_us = (cpu_seconds(pid) - cpu) * 1e6 / r.no_content.max(1) as f64;
            if s == 1 {
                reckon_204s += r.no_content;
            }
            if let Some(other) = &r.other {
                println!(
                    "  {}: {} of {} answers were not 204, first: {other}",
                    server.name,
                    o.requests - r.no_content,
                    o.requests
                );
            }
            println!(
                "  round {} {:<15} {:>9.0} hits/s   p50 {:>7.2} ms   p99 {:>7.2} ms   server CPU {:>6.1} us/hit",
                round + 1,
                server.name,
                r.hits_per_second,
                r.p50,
                r.p99,
                cpu_us,
            );
            results[s].push((r, cpu_us));
        }
    }
    println!("\nmedians over rounds:");
    println!(
        "{:<15} {:>9} {:>9} {:>9} {:>11}",
        "target", "hits/s", "p50 ms", "p99 ms", "CPU us/hit"
    );
    for (server, rounds) in servers.iter().zip(&results) {
        let of = |f: &dyn Fn(&(LoadResult, f64)) -> f64| median(rounds.iter().map(f).collect());
        println!(
            "{:<15} {:>9.0} {:>9.2} {:>9.2} {:>11.1}",
            server.name,
            of(&|r| r.0.hits_per_second),
            of(&|r| r.0.p50),
            of(&|r| r.0.p99),
            of(&|r| r.1),
        );
    }
    let ratio = median(
        results[1]
            .iter()
            .zip(&results[0])
            .map(|(r, b)| r.0.hits_per_second / b.0.hits_per_second)
            .collect(),
    );
    println!(
        "ratio reckon sqlite (durable, synchronous=full) / bare handler, hits/s (median of per-round ratios): {ratio:.2}"
    );
    println!(
        "  (bare handler: this binary's axum route that parses the same query and answers the same 204, \
         without site, origin or bot check, visitor hash or store)"
    );
    println!(
        "target: reckon at least {TARGET_RATIO} of the bare handler's hits/s: {}",
        if ratio >= TARGET_RATIO {
            "PASS"
        } else {
            "FAIL"
        }
    );
    let pid = reckon.child.id().unwrap();
    println!("reckon peak RSS (VmHWM): {}", mib(status_kb(pid, "VmHWM")));

    // Every 204 is a stored view: a refused or dropped hit would be a 204 too.
    let client = reqwest::Client::new();
    let asked = Instant::now();
    let stats: Value = client
        .get(format!(
            "http://{}/api/v1/sites/{SITE}/stats?top=1",
            reckon.addr
        ))
        .bearer_auth(admin_token(data.path()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let asked = asked.elapsed();
    let views = stats["totals"]["views"].as_u64();
    println!(
        "check: stats totals.views {} = 204s reckon gave {reckon_204s} (GET stats?top=1 took {:.1} ms)",
        views.map_or("?".into(), |v| v.to_string()),
        asked.as_secs_f64() * 1e3
    );
    assert_eq!(
        views,
        Some(reckon_204s as u64),
        "every 204 of reckon is a stored view; stats: {stats}"
    );
    stop(&mut bare).await;
    stop(&mut reckon).await;
}

// ---------------------------------------------------------------------------------------
// Fanout.

async fn connect(addr: SocketAddr) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("ws://{addr}/api/v1/live?site={SITE}")
        .into_client_request()
        .unwrap();
    let headers = request.headers_mut();
    headers.insert("origin", HeaderValue::from_static(ORIGIN));
    headers.insert(
        "user-agent",
        HeaderValue::from_static(
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ),
    );
    Ok(tokio_tungstenite::connect_async(request).await?.0)
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

/// The views count of the next `views` message for the article, or `None` when the
/// socket closes.
async fn next_count(socket: &mut Socket) -> Option<u64> {
    while let Some(message) = socket.next().await {
        let text = match message {
            Ok(Message::Text(text)) => text,
            Ok(_) => continue,
            Err(_) => return None,
        };
        let m: Value = serde_json::from_str(&text).ok()?;
        if m["articleId"] == ARTICLE {
            if let Some(views) = m["views"].as_u64() {
                return Some(views);
            }
        }
    }
    None
}

/// Per view count (1-based), how many readers have it.
struct Arrivals {
    have: Vec<AtomicUsize>,
    changed: tokio::sync::Notify,
}

/// One reader: opens, subscribes, waits for its first answer, then records when each
/// new count reaches it. Answers its receive instant per count.
async fn reader(
    addr: SocketAddr,
    views: usize,
    arrivals: Arc<Arrivals>,
    opened: Arc<tokio::sync::Semaphore>,
    failed: Arc<Mutex<Option<String>>>,
) -> Vec<Option<Instant>> {
    let mut seen = vec![None; views + 1];
    let socket = connect(addr).await;
    let mut socket = match socket {
        Ok(socket) => socket,
        Err(error) => {
            failed.lock().unwrap().get_or_insert(error.to_string());
            opened.add_permits(1);
            return seen;
        }
    };
    send(
        &mut socket,
        json!({"message": "subscribe", "articleId": ARTICLE}),
    )
    .await;
    let first = next_count(&mut socket).await;
    opened.add_permits(1);
    let Some(mut last) = first else {
        failed
            .lock()
            .unwrap()
            .get_or_insert("a reader's socket closed before its first answer".into());
        return seen;
    };
    while let Some(count) = next_count(&mut socket).await {
        let at = Instant::now();
        for c in (last + 1)..=count.min(views as u64) {
            seen[c as usize] = Some(at);
            arrivals.have[c as usize].fetch_add(1, Ordering::Relaxed);
            arrivals.changed.notify_one();
        }
        last = last.max(count);
        if last >= views as u64 {
            break;
        }
    }
    // Keep the socket open until the bench is done with every view.
    let _ = socket.next().await;
    seen
}

async fn fanout(o: &Options) {
    println!(
        "\n== fanout: {} WebSocket readers of `{ARTICLE}` (opened {} at a time), {} views from \
         another socket",
        o.readers, o.open_batch, o.views
    );
    let need = o.readers as u64 + 100;
    match open_files_limit() {
        Some(limit) if limit < need => {
            eprintln!(
                "error: the open-file limit is {limit}, and {} readers need at least {need} here \
                 (and in the reckon child): raise it with `ulimit -n {need}` (or more) in the shell \
                 that runs the bench, or pass fewer --readers. Skipping the fanout section.",
                o.readers
            );
            return;
        }
        Some(_) => {}
        None => println!("(cannot read the open-file limit from /proc/self/limits; going on)"),
    }
    let data = tempfile::tempdir().unwrap();
    add_site(data.path(), true).await;
    // Reckon serves at most `pageviews.max_live_connections` (20,000) readers; raise it
    // when more are asked for. HTTP's `limits.max_connections` only counts a socket until
    // its upgrade, and readers open `--open-batch` at a time.
    let mut env = Vec::new();
    if o.readers + 10 > 20_000 {
        env.push((
            "RECKON_PAGEVIEWS_MAX_LIVE_CONNECTIONS",
            (o.readers + 100).to_string(),
        ));
    }
    if o.open_batch + 10 > 1024 {
        env.push((
            "RECKON_LIMITS_MAX_CONNECTIONS",
            (o.open_batch + 100).to_string(),
        ));
    }
    let mut reckon = start_reckon("reckon sqlite", data.path(), &env).await;
    let pid = reckon.child.id().unwrap();
    let rss_before = status_kb(pid, "VmRSS");

    let arrivals = Arc::new(Arrivals {
        have: (0..=o.views).map(|_| AtomicUsize::new(0)).collect(),
        changed: tokio::sync::Notify::new(),
    });
    let failed = Arc::new(Mutex::new(None));
    let opening = Instant::now();
    let permits = Arc::new(tokio::sync::Semaphore::new(0));
    let mut readers = Vec::with_capacity(o.readers);
    // At most `open_batch` readers opening at once: one more starts as each one has its
    // first answer.
    for started in 0..o.readers {
        if started >= o.open_batch {
            permits.acquire().await.unwrap().forget();
        }
        readers.push(tokio::spawn(reader(
            reckon.addr,
            o.views,
            arrivals.clone(),
            permits.clone(),
            failed.clone(),
        )));
    }
    // The last `open_batch` readers have their answers.
    for _ in 0..o.readers.min(o.open_batch) {
        permits.acquire().await.unwrap().forget();
    }
    let open_s = opening.elapsed().as_secs_f64();
    let failure = failed.lock().unwrap().take();
    if let Some(error) = failure {
        eprintln!("error: not every reader could subscribe, first failure: {error}");
        for r in &readers {
            r.abort();
        }
        stop(&mut reckon).await;
        return;
    }
    let rss_open = status_kb(pid, "VmRSS");
    println!(
        "{} readers subscribed in {open_s:.2} s ({:.0}/s); reckon RSS {} before, {} with them \
         ({:.1} KiB per reader)",
        o.readers,
        o.readers as f64 / open_s,
        mib(rss_before),
        mib(rss_open),
        match (rss_before, rss_open) {
            (Some(a), Some(b)) => b.saturating_sub(a) as f64 / o.readers as f64,
            _ => f64::NAN,
        }
    );

    let mut writer = connect(reckon.addr)
        .await
        .expect("the writer's socket opens");
    let mut sent = Vec::with_capacity(o.views);
    let mut to_all = Vec::with_capacity(o.views);
    for k in 1..=o.views {
        let t = Instant::now();
        send(
            &mut writer,
            json!({"message": "views", "articleId": ARTICLE, "articleTitle": "Post 1",
                "previousPage": "", "currentPage": format!("/{ARTICLE}"), "refreshed": k > 1,
                "referrer": ""}),
        )
        .await;
        sent.push(t);
        // The writer's own answer (or a push) with the new count: the view is stored.
        loop {
            match next_count(&mut writer).await {
                Some(count) if count >= k as u64 => break,
                Some(_) => {}
                None => panic!("the writer's socket closed"),
            }
        }
        let deadline = t + PUSH_TIMEOUT;
        while arrivals.have[k].load(Ordering::Relaxed) < o.readers {
            let changed = arrivals.changed.notified();
            if arrivals.have[k].load(Ordering::Relaxed) >= o.readers {
                break;
            }
            if tokio::time::timeout_at(deadline.into(), changed)
                .await
                .is_err()
            {
                break;
            }
        }
        let have = arrivals.have[k].load(Ordering::Relaxed);
        if have < o.readers {
            println!(
                "  view {k}: only {have} of {} readers had the push after {} s; stopping",
                o.readers,
                PUSH_TIMEOUT.as_secs()
            );
            break;
        }
        to_all.push(t.elapsed());
    }
    let peak = status_kb(pid, "VmHWM");
    drop(writer);
    stop(&mut reckon).await;
    let mut first = Vec::new();
    let mut last = Vec::new();
    let mut per_reader: Vec<Vec<Option<Instant>>> = Vec::with_capacity(readers.len());
    for r in readers {
        per_reader.push(r.await.unwrap_or_default());
    }
    for (k, at) in sent.iter().enumerate().take(to_all.len()) {
        let times: Vec<Duration> = per_reader
            .iter()
            .filter_map(|seen| seen.get(k + 1).copied().flatten())
            .map(|t| t.saturating_duration_since(*at))
            .collect();
        if let (Some(min), Some(max)) = (times.iter().min(), times.iter().max()) {
            first.push(*min);
            last.push(*max);
        }
    }
    println!(
        "\n{:<28} {:>9} {:>9} {:>9}   ({} views)",
        "time from sending a view",
        "p50 ms",
        "p99 ms",
        "max ms",
        last.len()
    );
    let row = |name: &str, s: &[Duration]| {
        println!(
            "{:<28} {:>9.2} {:>9.2} {:>9.2}",
            name,
            percentile(s, 0.5),
            percentile(s, 0.99),
            percentile(s, 1.0)
        );
    };
    row("-> first reader", &first);
    row("-> last reader", &last);
    println!(
        "(the view is answered after its commit; the local poller is woken at once, reads the \
         new views, counts the article and pushes to {} readers)",
        o.readers
    );
    println!("reckon peak RSS (VmHWM): {}", mib(peak));
}

async fn run(o: Options) {
    let runs = |section: &str| o.section.as_deref().is_none_or(|s| s == section);
    println!(
        "pageviews benchmark: ingest {} x {} beacons at concurrency {}; fanout {} readers, {} views",
        o.rounds, o.requests, o.concurrency, o.readers, o.views
    );
    if runs("ingest") {
        ingest(&o).await;
    }
    if runs("fanout") {
        fanout(&o).await;
    }
    if runs("stats") {
        stats::run(&o.stats).await;
    }
    let section = o
        .section
        .as_ref()
        .map(|s| format!(" --section {s}"))
        .unwrap_or_default();
    let st = &o.stats;
    println!(
        "\nreproduce: cargo bench --bench pageviews -- --requests {} --concurrency {} --rounds {} \
         --warmup {} --readers {} --views {} --open-batch {} --stat-views {} --sites {} --days {} \
         --iterations {} --baseline-iterations {}{section}",
        o.requests,
        o.concurrency,
        o.rounds,
        o.warmup,
        o.readers,
        o.views,
        o.open_batch,
        st.views,
        st.sites,
        st.days,
        st.iterations,
        st.baseline_iterations
    );
}
