//! Ingest benchmark: N real, correctly signed PR payloads (8–32 KB) with unique
//! delivery ids, sent at concurrency C, in the same run, to a bare axum handler that
//! answers 204, to `reckon serve` on SQLite (durable acks on a fresh data dir), and to
//! `reckon serve` on Elasticsearch where the cluster is a stub that answers every bulk
//! item instantly, which isolates Reckon's own cost on that path (NDJSON encoding,
//! batching, response parsing). Prints acks/s, p50/p99, CPU per ack, peak RSS, ratios.
//!
//!     cargo bench --bench ingest -- --requests 20000 --concurrency 64 --rounds 3

#[path = "common/args.rs"]
mod args;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
}

fn options() -> Options {
    Options {
        requests: args::number("--requests", 20_000),
        concurrency: args::number("--concurrency", 64),
        rounds: args::number("--rounds", 3),
        warmup: args::number("--warmup", 1_000),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    if args.iter().any(|a| a == "--bare-server") {
        runtime.block_on(bare_server());
        return;
    }
    if args.iter().any(|a| a == "--es-stub") {
        runtime.block_on(es_stub());
        return;
    }
    // `cargo bench` passes `--bench`; with no other flags the defaults apply.
    let options = options();
    // `--against ADDR` loads an already running server (signed with "bench-secret"),
    // e.g. one under a profiler.
    if let Some(addr) = args
        .iter()
        .position(|a| a == "--against")
        .and_then(|i| args.get(i + 1))
    {
        let addr: SocketAddr = addr.parse().expect("--against takes HOST:PORT");
        let batch = Arc::new(requests(
            &format!("against-{}", std::process::id()),
            options.requests,
            &payloads(),
        ));
        let result = runtime.block_on(load(addr, batch, options.concurrency));
        println!(
            "{:.0} acks/s, p50 {:?}, p99 {:?}",
            result.per_second, result.p50, result.p99
        );
        return;
    }
    runtime.block_on(run(options));
}

/// The baseline: an axum handler that reads the body and answers 204.
async fn bare_server() {
    let app = axum::Router::new().route(
        "/hooks/github",
        axum::routing::post(|_body: axum::body::Bytes| async {
            axum::http::StatusCode::NO_CONTENT
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

/// An Elasticsearch that acknowledges everything at once: every bulk item succeeds,
/// no document exists yet, no template or alias is installed yet.
async fn es_stub() {
    use axum::http::{StatusCode, Uri};
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
    let app = axum::Router::new().fallback(answer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    println!("listening on http://{}", listener.local_addr().unwrap());
    axum::serve(listener, app).await.unwrap();
}

struct Request {
    delivery: String,
    body: Body,
    signature: String,
}

fn payloads() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures/github-webhooks/pull_request");
    let mut out: Vec<Vec<u8>> = std::fs::read_dir(dir)
        .expect("fixtures at ../shared")
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .filter(|b| (8 * 1024..=32 * 1024).contains(&b.len()))
        .collect();
    out.sort();
    assert!(!out.is_empty());
    out
}

fn requests(prefix: &str, n: usize, payloads: &[Vec<u8>]) -> Vec<Request> {
    (0..n)
        .map(|i| {
            let body = payloads[i % payloads.len()].clone();
            let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
            mac.update(&body);
            Request {
                delivery: format!("{prefix}-{i}"),
                signature: format!("sha256={}", hex::encode(mac.finalize().into_bytes())),
                body: Body::from(body),
            }
        })
        .collect()
}

struct Server {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
    _data: Option<tempfile::TempDir>,
}

async fn spawn(
    name: &'static str,
    mut command: Command,
    data: Option<tempfile::TempDir>,
) -> Server {
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
                name,
                child,
                addr,
                _data: data,
            };
        }
    }
    panic!("{name} did not start");
}

async fn start_reckon() -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_reckon"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("RECKON_GITHUB_WEBHOOK_SECRET", SECRET)
        .env("RECKON_LOG_LEVEL", "warn");
    spawn("reckon sqlite", command, Some(data)).await
}

/// Reckon on the Elasticsearch store, against the instant stub (its own process).
async fn start_reckon_es(stub: &Server) -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_reckon"));
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("RECKON_STORE", "elasticsearch")
        .env("RECKON_ELASTICSEARCH_URL", format!("http://{}", stub.addr))
        .env("RECKON_GITHUB_WEBHOOK_SECRET", SECRET)
        .env("RECKON_LOG_LEVEL", "warn");
    spawn("reckon es (stub)", command, Some(data)).await
}

async fn start_es_stub() -> Server {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.arg("--es-stub");
    spawn("es stub", command, None).await
}

async fn start_bare() -> Server {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.arg("--bare-server");
    spawn("bare axum 204", command, None).await
}

/// User + system CPU seconds a process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are 14th and 15th.
    let rest = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

struct RoundResult {
    per_second: f64,
    cpu_us_per_ack: f64,
    p50: Duration,
    p99: Duration,
    ok: usize,
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
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(r) = requests.get(i) else { break };
                let request = hyper::Request::post("/hooks/github")
                    .header("host", "bench")
                    .header("content-type", "application/json")
                    .header("x-github-event", "pull_request")
                    .header("x-github-delivery", &r.delivery)
                    .header("x-github-hook-id", "1")
                    .header("x-hub-signature-256", &r.signature)
                    .body(r.body.clone())
                    .unwrap();
                let t = Instant::now();
                sender.ready().await.unwrap();
                let response = sender.send_request(request).await.unwrap();
                let status = response.status();
                http_body_util::BodyExt::collect(response.into_body())
                    .await
                    .unwrap();
                latencies.push(t.elapsed());
                if status.is_success() {
                    ok += 1;
                }
            }
            (latencies, ok)
        }));
    }
    let mut latencies = Vec::new();
    let mut ok = 0;
    for w in workers {
        let (l, n) = w.await.unwrap();
        latencies.extend(l);
        ok += n;
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
    }
}

async fn run(options: Options) {
    let payloads = payloads();
    let sizes: Vec<usize> = payloads.iter().map(Vec::len).collect();
    println!(
        "ingest benchmark: {} requests x {} rounds at concurrency {}, {} PR payloads of {}-{} bytes",
        options.requests,
        options.rounds,
        options.concurrency,
        payloads.len(),
        sizes.iter().min().unwrap(),
        sizes.iter().max().unwrap()
    );
    let mut stub = start_es_stub().await;
    let es = start_reckon_es(&stub).await;
    let mut servers = [start_bare().await, start_reckon().await, es];
    let mut results: Vec<Vec<RoundResult>> = vec![Vec::new(), Vec::new(), Vec::new()];
    for (s, server) in servers.iter().enumerate() {
        let warm = Arc::new(requests(&format!("warm-{s}"), options.warmup, &payloads));
        load(server.addr, warm, options.concurrency).await;
    }
    // Alternate the targets round by round so drift in machine load hits both.
    for round in 0..options.rounds {
        for (s, server) in servers.iter().enumerate() {
            let batch = Arc::new(requests(
                &format!("r{round}-{s}"),
                options.requests,
                &payloads,
            ));
            let pid = server.child.id().unwrap();
            let cpu_before = cpu_seconds(pid);
            let mut result = load(server.addr, batch, options.concurrency).await;
            result.cpu_us_per_ack = (cpu_seconds(pid) - cpu_before) * 1e6 / result.ok as f64;
            assert_eq!(
                result.ok, options.requests,
                "{} refused requests",
                server.name
            );
            println!(
                "  round {} {:<18} {:>9.0} acks/s   p50 {:>7.2} ms   p99 {:>7.2} ms   server CPU {:>6.1} us/ack",
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
    println!(
        "{:<18} {:>12} {:>10} {:>10} {:>14}",
        "target", "acks/s", "p50 ms", "p99 ms", "peak RSS MiB"
    );
    let mut medians = Vec::new();
    for (server, rounds) in servers.iter_mut().zip(&mut results) {
        rounds.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
        let median = &rounds[rounds.len() / 2];
        let rss = peak_rss_kib(server.child.id().unwrap()) as f64 / 1024.0;
        println!(
            "{:<18} {:>12.0} {:>10.2} {:>10.2} {:>14.1}",
            server.name,
            median.per_second,
            median.p50.as_secs_f64() * 1e3,
            median.p99.as_secs_f64() * 1e3,
            rss
        );
        medians.push(median.per_second);
    }
    if let Some(data) = &servers[1]._data {
        let stored: u64 = std::fs::read_dir(data.path())
            .unwrap()
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum();
        let deliveries = options.warmup + options.requests * options.rounds;
        println!(
            "reckon data dir: {:.1} MiB for {deliveries} deliveries ({:.1} KiB each, payloads average {:.1} KiB)",
            stored as f64 / 1048576.0,
            stored as f64 / 1024.0 / deliveries as f64,
            sizes.iter().sum::<usize>() as f64 / 1024.0 / sizes.len() as f64,
        );
    }
    println!();
    println!(
        "ratio reckon sqlite / bare axum (median round): {:.2}",
        medians[1] / medians[0]
    );
    println!(
        "ratio reckon es (stub) / reckon sqlite (median round): {:.2}",
        medians[2] / medians[1]
    );
    println!(
        "reproduce: cargo bench --bench ingest -- --requests {} --concurrency {} --rounds {}",
        options.requests, options.concurrency, options.rounds
    );
    for server in &mut servers {
        let _ = server.child.start_kill();
    }
    let _ = stub.child.start_kill();
}
