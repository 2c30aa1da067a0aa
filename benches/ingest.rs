//! Ingest benchmark, in two sections, every target loaded the same way in the same run
//! (rounds alternate between targets, so drift in machine load hits them all, and each
//! ratio is the median of the ratios within a round):
//!
//! - GitHub: N real, correctly signed PR payloads (8–32 KB) with unique delivery ids,
//!   sent at concurrency C to two floors, a bare axum handler that answers 204 and one
//!   that verifies the signature (HMAC-SHA256 of the raw body, constant-time) before
//!   answering 204; to `reckon serve` on SQLite (durable acks on a fresh data dir); and
//!   to `reckon serve` on Elasticsearch where the cluster is a stub that answers every
//!   bulk item instantly, which isolates Reckon's own cost on that path (NDJSON
//!   encoding, batching, response parsing).
//! - `/submit`: N small (~500 B) DCSS milestone events posted as JSON with an API key
//!   (made with `reckon keys add`) to the bare handler and to `reckon serve` on SQLite.
//!
//! Prints acks/s, p50/p99, CPU per ack, peak RSS and the ratios between targets. It
//! never asserts timings: machines differ, so compare the ratios of one run.
//!
//!     cargo bench --bench ingest -- --requests 20000 --concurrency 64 --rounds 3
//!
//! Options: `--section github|submit` runs one section; `--minified` sends the GitHub
//! payloads without whitespace, as GitHub does (the fixtures are pretty-printed);
//! `--baseline PATH` (repeatable) adds another `reckon` binary, say a build of the
//! previous commit, to both sections, so a change is measured against it in the
//! same run; `--against HOST:PORT` only loads an already running server with the GitHub
//! payloads (signed with "bench-secret"), e.g. one under a profiler. `--bare-server`,
//! `--verify-server` and `--es-stub` are the floors and the stub, which the benchmark
//! runs as its own subprocesses.

#[path = "common/args.rs"]
mod args;
#[path = "common/measure.rs"]
mod measure;
#[path = "common/status.rs"]
mod status;

use measure::{cpu_seconds, median};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A cheaply clonable full body for hyper.
type Body = http_body_util::Full<axum::body::Bytes>;

const SECRET: &str = "bench-secret";

struct Options {
    requests: usize,
    concurrency: usize,
    rounds: usize,
    warmup: usize,
    section: Option<String>,
    baselines: Vec<PathBuf>,
    minified: bool,
}

fn options() -> Options {
    let section = text_arg("--section");
    if let Some(s) = &section {
        assert!(
            s == "github" || s == "submit",
            "--section takes github or submit"
        );
    }
    Options {
        requests: args::number("--requests", 20_000),
        concurrency: args::number("--concurrency", 64),
        rounds: args::number("--rounds", 3),
        warmup: args::number("--warmup", 1_000),
        section,
        baselines: text_args("--baseline").map(PathBuf::from).collect(),
        minified: std::env::args().any(|a| a == "--minified"),
    }
}

/// The word after `name` on the command line, if any.
fn text_arg(name: &str) -> Option<String> {
    text_args(name).next()
}

/// The word after each `name` on the command line.
fn text_args(name: &str) -> impl Iterator<Item = String> + '_ {
    let args: Vec<String> = std::env::args().collect();
    let mut words = args.into_iter();
    std::iter::from_fn(move || {
        words.by_ref().find(|a| a == name)?;
        Some(
            words
                .next()
                .unwrap_or_else(|| panic!("{name} takes a value")),
        )
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mode = |flag: &str| args.iter().any(|a| a == flag);
    if mode("--bare-server") {
        return runtime.block_on(serve(bare_app()));
    }
    if mode("--verify-server") {
        return runtime.block_on(serve(verify_app()));
    }
    if mode("--es-stub") {
        return runtime.block_on(serve(es_stub_app()));
    }
    // `cargo bench` passes `--bench`; with no other flags the defaults apply.
    let options = options();
    if let Some(addr) = text_arg("--against") {
        let addr: SocketAddr = addr.parse().expect("--against takes HOST:PORT");
        let batch = Workload::GitHub(payloads(options.minified))
            .requests(&format!("against-{}", std::process::id()), options.requests);
        let result = runtime.block_on(load(addr, Arc::new(batch), options.concurrency));
        println!(
            "{:.0} acks/s, p50 {:?}, p99 {:?}",
            result.per_second, result.p50, result.p99
        );
        return;
    }
    runtime.block_on(run(options));
}

async fn serve(app: axum::Router) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

/// The first floor: handlers that read the body and answer 204, on both paths.
fn bare_app() -> axum::Router {
    async fn no_content(_body: axum::body::Bytes) -> StatusCode {
        StatusCode::NO_CONTENT
    }
    axum::Router::new()
        .route("/hooks/github", axum::routing::post(no_content))
        .route("/submit", axum::routing::post(no_content))
}

/// The second floor: what any correct GitHub receiver must do, nothing more. It checks
/// `X-Hub-Signature-256: sha256=<hex>` over the raw body with the secret, in constant
/// time, then answers 204 (401 on a bad signature).
fn verify_app() -> axum::Router {
    async fn verify(headers: HeaderMap, body: axum::body::Bytes) -> StatusCode {
        let expected = headers
            .get("x-hub-signature-256")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("sha256="))
            .and_then(|v| hex::decode(v).ok());
        let Some(expected) = expected else {
            return StatusCode::UNAUTHORIZED;
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(&body);
        match mac.verify_slice(&expected) {
            Ok(()) => StatusCode::NO_CONTENT,
            Err(_) => StatusCode::UNAUTHORIZED,
        }
    }
    axum::Router::new().route("/hooks/github", axum::routing::post(verify))
}

/// An Elasticsearch that acknowledges everything at once: every bulk item succeeds,
/// no document exists yet, no template or alias is installed yet.
fn es_stub_app() -> axum::Router {
    use axum::http::Uri;
    use serde_json::{json, Value};
    async fn answer(
        method: axum::http::Method,
        uri: Uri,
        body: axum::body::Bytes,
    ) -> (StatusCode, [(&'static str, &'static str); 1], String) {
        let path = uri.path();
        let reply = if path == "/_bulk" {
            let mut items = Vec::new();
            let mut lines = body.split(|b| *b == b'\n').filter(|l| !l.is_empty());
            while let Some(line) = lines.next() {
                let action: Value = serde_json::from_slice(line).unwrap();
                let op = action.as_object().unwrap().keys().next().unwrap().clone();
                if op != "delete" {
                    lines.next();
                }
                items.push(json!({ op: {"status": 201, "result": "created", "_version": 1, "_seq_no": 1, "_primary_term": 1} }));
            }
            json!({"took": 0, "errors": false, "items": items})
        } else if path == "/_mget" {
            let asked: Value = serde_json::from_slice(&body).unwrap();
            let docs: Vec<Value> = asked["docs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| json!({"_index": d["_index"], "_id": d["_id"], "found": false}))
                .collect();
            json!({ "docs": docs })
        } else if method == axum::http::Method::GET
            && (path.starts_with("/_index_template/") || path.starts_with("/_alias/"))
        {
            return (StatusCode::NOT_FOUND, [("content-type", "application/json")], json!({"error": {"type": "resource_not_found_exception", "reason": "missing"}, "status": 404}).to_string());
        } else if path.ends_with("/_search") {
            json!({"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}, "aggregations": {}})
        } else {
            json!({"acknowledged": true})
        };
        (
            StatusCode::OK,
            [("content-type", "application/json")],
            reply.to_string(),
        )
    }
    axum::Router::new().fallback(answer)
}

/// One request ready to send, but for the connection.
struct Request {
    path: &'static str,
    headers: Vec<(&'static str, HeaderValue)>,
    body: Body,
}

/// What a section sends.
enum Workload {
    /// Signed GitHub `pull_request` deliveries to `POST /hooks/github`.
    GitHub(Vec<Vec<u8>>),
    /// DCSS milestone events to `POST /submit`, with this API key.
    Submit { key: String },
}

impl Workload {
    /// `n` requests, each with a delivery id (or event) unique to `prefix`.
    fn requests(&self, prefix: &str, n: usize) -> Vec<Request> {
        let json = HeaderValue::from_static("application/json");
        (0..n)
            .map(|i| match self {
                Workload::GitHub(payloads) => {
                    let body = payloads[i % payloads.len()].clone();
                    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
                    mac.update(&body);
                    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
                    Request {
                        path: "/hooks/github",
                        headers: vec![
                            ("content-type", json.clone()),
                            ("x-github-event", HeaderValue::from_static("pull_request")),
                            ("x-github-delivery", header(&format!("{prefix}-{i}"))),
                            ("x-github-hook-id", HeaderValue::from_static("1")),
                            ("x-hub-signature-256", header(&signature)),
                        ],
                        body: Body::from(body),
                    }
                }
                Workload::Submit { key } => Request {
                    path: "/submit",
                    headers: vec![
                        ("content-type", json.clone()),
                        ("authorization", header(key)),
                    ],
                    body: Body::from(milestone(prefix, i)),
                },
            })
            .collect()
    }
}

fn header(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap()
}

/// The PR fixtures of 8–32 KB, pretty-printed as they are in the fixtures, or
/// minified (no whitespace between tokens), as GitHub sends them.
fn payloads(minify: bool) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/github-webhooks/pull_request");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("fixtures at ../shared")
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .filter(|b| (8 * 1024..=32 * 1024).contains(&b.len()))
        .map(|b| if minify { minified(&b) } else { b })
        .collect();
    out.sort();
    assert!(!out.is_empty());
    out
}

/// The JSON without the whitespace between tokens; keys keep their order.
fn minified(json: &[u8]) -> Vec<u8> {
    let (mut out, mut in_string, mut escaped) = (Vec::new(), false, false);
    for &b in json {
        if in_string {
            (escaped, in_string) = (!escaped && b == b'\\', escaped || b != b'"');
        } else if b.is_ascii_whitespace() {
            continue;
        } else {
            in_string = b == b'"';
        }
        out.push(b);
    }
    out
}

/// A DCSS milestone as a server submits it, about 500 bytes, different for every `i`.
fn milestone(prefix: &str, i: usize) -> Vec<u8> {
    let places = ["D:9", "Lair:3", "Orc:2", "Elf:1", "Vaults:4", "Zot:2"];
    serde_json::to_vec(&serde_json::json!({
        "type": "milestone",
        "src": "cpo",
        "data": {
            "v": "0.31.0", "lv": "0.1",
            "name": format!("Player{}", i % 997), "race": "Deep Elf", "cls": "Wizard",
            "char": "DEWz", "xl": (1 + i % 27).to_string(), "sk": "Conjurations",
            "sklev": "15", "title": "Evoker", "place": places[i % places.len()],
            "br": "D", "lvl": "9", "absdepth": "9", "hp": "85", "mhp": "85",
            "str": "10", "int": "24", "dex": "14", "ac": "5", "ev": "12", "sh": "0",
            "god": "Vehumet", "piety": "120", "gold": "431",
            "start": "20260102010000S", "time": "20260102031000S",
            "dur": (3600 + i % 5000).to_string(), "turn": (12_345 + i).to_string(),
            "type": "uniq",
            "milestone": "killed Sigmund.", "bench": format!("{prefix}-{i}"),
        },
    }))
    .unwrap()
}

struct Server {
    name: String,
    child: Child,
    addr: SocketAddr,
    data: Option<tempfile::TempDir>,
}

async fn spawn(name: &str, mut command: Command, data: Option<tempfile::TempDir>) -> Server {
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
                data,
            };
        }
    }
    panic!("{name} did not start");
}

/// This bench binary in one of its server modes.
async fn start_self(name: &str, mode: &str) -> Server {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.arg(mode);
    spawn(name, command, None).await
}

/// `reckon serve` on a fresh data dir, quiet but for warnings.
fn reckon(binary: &Path, data: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .env("RECKON_GITHUB_WEBHOOK_SECRET", SECRET)
        .env("RECKON_LOG_LEVEL", "warn");
    command
}

fn reckon_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_reckon"))
}

async fn start_reckon(name: &str, binary: &Path) -> Server {
    let data = tempfile::tempdir().unwrap();
    let command = reckon(binary, data.path());
    spawn(name, command, Some(data)).await
}

/// Reckon on the Elasticsearch store, against the instant stub (its own process).
async fn start_reckon_es(stub: &Server) -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut command = reckon(&reckon_bin(), data.path());
    command
        .env("RECKON_STORE", "elasticsearch")
        .env("RECKON_ELASTICSEARCH_URL", format!("http://{}", stub.addr));
    spawn("reckon es (stub)", command, Some(data)).await
}

/// A data dir with an api-key source `dcss` for server `cpo` and a key for it made
/// with the real CLI, as an operator would; each `/submit` server runs on a copy.
async fn submit_template() -> (tempfile::TempDir, String) {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("reckon.toml");
    std::fs::write(
        &config,
        "[sources.dcss]\nauth = \"api-key\"\nsrcs = [\"cpo\"]\n",
    )
    .unwrap();
    let output = Command::new(reckon_bin())
        .arg("--config")
        .arg(&config)
        .arg("--data-dir")
        .arg(data.path())
        .args(["keys", "add", "--source", "dcss", "--src", "cpo"])
        .env("RECKON_LOG_LEVEL", "warn")
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "reckon keys add failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let key = stdout
        .split_whitespace()
        .find(|w| w.starts_with("rk_"))
        .unwrap_or_else(|| panic!("no key in the output of reckon keys add: {stdout}"))
        .trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .to_owned();
    (data, key)
}

/// `binary` serving a copy of the `/submit` template (a baseline must read its schema).
async fn start_reckon_submit(name: &str, binary: &Path, template: &Path) -> Server {
    let data = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(template).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), data.path().join(entry.file_name())).unwrap();
        }
    }
    let mut command = reckon(binary, data.path());
    command.arg("--config").arg(data.path().join("reckon.toml"));
    spawn(name, command, Some(data)).await
}

struct RoundResult {
    per_second: f64,
    cpu_us_per_ack: f64,
    p50: Duration,
    p99: Duration,
    ok: usize,
    /// The first refusal, if any: status and body.
    refused: Option<String>,
}

/// Sends every request over `concurrency` keep-alive HTTP/1 connections.
async fn load(addr: SocketAddr, requests: Arc<Vec<Request>>, concurrency: usize) -> RoundResult {
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
            let mut latencies = Vec::new();
            let mut ok = 0;
            let mut refused = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(r) = requests.get(i) else { break };
                let mut request = hyper::Request::post(r.path).header("host", "bench");
                for (name, value) in &r.headers {
                    request = request.header(*name, value.clone());
                }
                let request = request.body(r.body.clone()).unwrap();
                let t = Instant::now();
                sender.ready().await.unwrap();
                let response = sender.send_request(request).await.unwrap();
                let status = response.status();
                let body = http_body_util::BodyExt::collect(response.into_body())
                    .await
                    .unwrap()
                    .to_bytes();
                latencies.push(t.elapsed());
                if status.is_success() {
                    ok += 1;
                } else if refused.is_none() {
                    refused = Some(format!("{status} {}", String::from_utf8_lossy(&body)));
                }
            }
            (latencies, ok, refused)
        }));
    }
    let mut latencies = Vec::new();
    let mut ok = 0;
    let mut refused = None;
    for w in workers {
        let (l, n, r) = w.await.unwrap();
        latencies.extend(l);
        ok += n;
        refused = refused.or(r);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    RoundResult {
        per_second: ok as f64 / elapsed.as_secs_f64(),
        cpu_us_per_ack: 0.0,
        p50: pct(0.50),
        p99: pct(0.99),
        ok,
        refused,
    }
}

/// Each target's acks/s, round by round.
struct Rates(Vec<Vec<f64>>);

impl Rates {
    /// The median over rounds of target `a`'s rate over target `b`'s in the same round,
    /// so a round slowed down by the machine slows both sides of the ratio.
    fn ratio(&self, a: usize, b: usize) -> f64 {
        median(
            self.0[a]
                .iter()
                .zip(&self.0[b])
                .map(|(a, b)| a / b)
                .collect(),
        )
    }
}

/// Warms every target, then loads them round by round, alternating (each round starts
/// with the next target, so no target always follows the same one), and prints each
/// round and a table of per-target medians.
async fn measure(
    section: &str,
    servers: &[&Server],
    workload: &Workload,
    options: &Options,
) -> Rates {
    for (s, server) in servers.iter().enumerate() {
        let warm = workload.requests(&format!("{section}-warm-{s}"), options.warmup);
        load(server.addr, Arc::new(warm), options.concurrency).await;
    }
    let mut results: Vec<Vec<RoundResult>> = servers.iter().map(|_| Vec::new()).collect();
    for round in 0..options.rounds {
        for k in 0..servers.len() {
            let s = (round + k) % servers.len();
            let server = servers[s];
            let batch = workload.requests(&format!("{section}-r{round}-{s}"), options.requests);
            let pid = server.child.id().unwrap();
            let cpu_before = cpu_seconds(pid);
            let mut result = load(server.addr, Arc::new(batch), options.concurrency).await;
            result.cpu_us_per_ack = (cpu_seconds(pid) - cpu_before) * 1e6 / result.ok as f64;
            assert_eq!(
                result.ok,
                options.requests,
                "{} refused requests, first: {}",
                server.name,
                result.refused.as_deref().unwrap_or("-")
            );
            println!(
                "  round {} {:<22} {:>9.0} acks/s   p50 {:>7.2} ms   p99 {:>7.2} ms   server CPU {:>6.1} us/ack",
                round + 1,
                server.name,
                result.per_second,
                result.p50.as_secs_f64() * 1e3,
                result.p99.as_secs_f64() * 1e3,
                result.cpu_us_per_ack
            );
            results[s].push(result);
        }
    }
    println!();
    println!("medians over rounds:");
    println!(
        "{:<22} {:>10} {:>9} {:>9} {:>13} {:>14}",
        "target", "acks/s", "p50 ms", "p99 ms", "CPU us/ack", "peak RSS MiB"
    );
    for (server, rounds) in servers.iter().zip(&results) {
        let of = |f: fn(&RoundResult) -> f64| median(rounds.iter().map(f).collect());
        let rss =
            status::status_kb(server.child.id().unwrap(), "VmHWM").unwrap_or(0) as f64 / 1024.0;
        println!(
            "{:<22} {:>10.0} {:>9.2} {:>9.2} {:>13.1} {:>14.1}",
            server.name,
            of(|r| r.per_second),
            of(|r| r.p50.as_secs_f64() * 1e3),
            of(|r| r.p99.as_secs_f64() * 1e3),
            of(|r| r.cpu_us_per_ack),
            rss
        );
    }
    Rates(
        results
            .iter()
            .map(|rounds| rounds.iter().map(|r| r.per_second).collect())
            .collect(),
    )
}

/// Bytes in a data dir, per stored event.
fn print_data_dir(server: &Server, events: usize, payload_bytes: f64) {
    let Some(data) = &server.data else { return };
    let stored: u64 = std::fs::read_dir(data.path())
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    println!(
        "{} data dir: {:.1} MiB for {events} events ({:.1} KiB each, payloads average {:.1} KiB)",
        server.name,
        stored as f64 / 1048576.0,
        stored as f64 / 1024.0 / events as f64,
        payload_bytes / 1024.0,
    );
}

fn ratio(what: &str, value: f64) {
    println!("ratio {what} (median of per-round ratios): {value:.2}");
}

async fn run(options: Options) {
    let runs = |section: &str| options.section.as_deref().is_none_or(|s| s == section);
    let events = options.warmup + options.requests * options.rounds;
    println!(
        "ingest benchmark: {} requests x {} rounds at concurrency {} (warmup {})",
        options.requests, options.rounds, options.concurrency, options.warmup
    );
    let mut bare = start_self("bare axum 204", "--bare-server").await;

    if runs("github") {
        let payloads = payloads(options.minified);
        let sizes: Vec<usize> = payloads.iter().map(Vec::len).collect();
        let average = sizes.iter().sum::<usize>() as f64 / sizes.len() as f64;
        println!();
        println!(
            "== POST /hooks/github: {} PR payloads of {}-{} bytes{}",
            payloads.len(),
            sizes.iter().min().unwrap(),
            sizes.iter().max().unwrap(),
            if options.minified { ", minified" } else { "" },
        );
        let mut verify = start_self("verify-only floor", "--verify-server").await;
        let mut stub = start_self("es stub", "--es-stub").await;
        let mut sqlite = start_reckon("reckon sqlite", &reckon_bin()).await;
        let mut es = start_reckon_es(&stub).await;
        let mut baselines = Vec::new();
        for (i, path) in options.baselines.iter().enumerate() {
            baselines.push(start_reckon(&format!("reckon baseline {}", i + 1), path).await);
        }
        let mut servers = vec![&bare, &verify, &sqlite, &es];
        servers.extend(&baselines);
        let rates = measure("github", &servers, &Workload::GitHub(payloads), &options).await;
        for reckon in std::iter::once(&sqlite).chain(&baselines) {
            print_data_dir(reckon, events, average);
        }
        println!();
        ratio("reckon sqlite / bare axum", rates.ratio(2, 0));
        ratio("reckon sqlite / verify-only floor", rates.ratio(2, 1));
        ratio("reckon es (stub) / reckon sqlite", rates.ratio(3, 2));
        for (i, path) in options.baselines.iter().enumerate() {
            let n = i + 1;
            ratio(
                &format!("reckon baseline {n} / verify-only floor"),
                rates.ratio(4 + i, 1),
            );
            ratio(
                &format!("reckon sqlite / reckon baseline {n}"),
                rates.ratio(2, 4 + i),
            );
            println!("  (baseline {n}: {})", path.display());
        }
        for server in [&mut verify, &mut stub, &mut sqlite, &mut es]
            .into_iter()
            .chain(&mut baselines)
        {
            let _ = server.child.start_kill();
        }
    }

    if runs("submit") {
        let (template, key) = submit_template().await;
        let mut reckon = start_reckon_submit("reckon sqlite", &reckon_bin(), template.path()).await;
        let mut baselines = Vec::new();
        for (i, path) in options.baselines.iter().enumerate() {
            let name = format!("reckon baseline {}", i + 1);
            baselines.push(start_reckon_submit(&name, path, template.path()).await);
        }
        let sample = milestone("sample", 0).len();
        println!();
        println!("== POST /submit: DCSS milestone events of about {sample} bytes, one per request, with an API key");
        let workload = Workload::Submit { key };
        let mut servers = vec![&bare, &reckon];
        servers.extend(&baselines);
        let rates = measure("submit", &servers, &workload, &options).await;
        print_data_dir(&reckon, events, sample as f64);
        println!();
        ratio("reckon sqlite /submit / bare axum", rates.ratio(1, 0));
        for (i, path) in options.baselines.iter().enumerate() {
            let n = i + 1;
            ratio(
                &format!("reckon baseline {n} /submit / bare axum"),
                rates.ratio(2 + i, 0),
            );
            ratio(
                &format!("reckon sqlite / reckon baseline {n}"),
                rates.ratio(1, 2 + i),
            );
            println!("  (baseline {n}: {})", path.display());
        }
        for server in std::iter::once(&mut reckon).chain(&mut baselines) {
            let _ = server.child.start_kill();
        }
    }

    println!();
    let mut extra: String = options
        .section
        .iter()
        .map(|s| format!(" --section {s}"))
        .collect();
    if options.minified {
        extra.push_str(" --minified");
    }
    for path in &options.baselines {
        extra.push_str(&format!(" --baseline {}", path.display()));
    }
    println!(
        "reproduce: cargo bench --bench ingest -- --requests {} --concurrency {} --rounds {} --warmup {}{extra}",
        options.requests, options.concurrency, options.rounds, options.warmup,
    );
    let _ = bare.child.start_kill();
}
