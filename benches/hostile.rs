//! Memory under hostile traffic, measured (never asserted) on the real `reckon serve`:
//!
//! - unverified bodies: `--senders` concurrent unsigned 25 MiB posts to `/hooks/github`
//!   from one address, against Reckon with its default limits, with only the shared
//!   budget (the per-client limit lifted), and with both lifted (what every build did
//!   before it had them);
//! - large reads: `--payloads` stored 24 MiB payloads, then `--readers` parallel
//!   `GET /api/v1/events?limit=1000`; the baseline is the same server's peak before the
//!   reads.
//!
//! Prints each server's peak RSS (VmHWM), the answers it gave, and the ratios.
//!
//!     cargo bench --bench hostile -- --senders 50 --payloads 10 --readers 3
//!
//! `--baseline PATH` (repeatable) adds another `reckon` binary to both sections.

#[path = "common/args.rs"]
mod args;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use axum::body::Bytes;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const SECRET: &str = "bench-secret";

/// A named binary and the environment it runs with.
type Target = (String, PathBuf, Vec<(&'static str, String)>);
const MIB: usize = 1024 * 1024;

struct Server {
    child: Child,
    base: String,
    token: String,
    _data: tempfile::TempDir,
}

async fn start(binary: &Path, env: &[(&str, String)]) -> Server {
    let data = tempfile::tempdir().unwrap();
    let mut child = Command::new(binary)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("RECKON_GITHUB_WEBHOOK_SECRET", SECRET)
        .env("RECKON_LOG_LEVEL", "error")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(rest) = line.split("listening on ").nth(1) {
            let base = rest.trim().to_owned();
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            // Builds before read tokens have none; they read without one.
            let token = std::fs::read_to_string(data.path().join("admin-token"))
                .unwrap_or_default()
                .trim()
                .to_owned();
            return Server {
                child,
                base,
                token,
                _data: data,
            };
        }
    }
    panic!("{} did not start", binary.display());
}

fn peak_rss_mib(server: &Server) -> f64 {
    let pid = server.child.id().unwrap_or(0);
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// `senders` unsigned 25 MiB bodies at once; the statuses they got.
async fn unverified(server: &Server, senders: usize) -> BTreeMap<String, usize> {
    let body = Bytes::from(vec![b' '; 25 * MIB - 1024]);
    let client = reqwest::Client::new();
    let sends = (0..senders).map(|i| {
        let request = client
            .post(format!("{}/hooks/github", server.base))
            .header("content-type", "application/json")
            .header("x-github-event", "ping")
            .header("x-github-delivery", format!("hostile-{i}"))
            .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
            .body(body.clone());
        tokio::spawn(async move {
            match request.send().await {
                Ok(r) => r.status().as_u16().to_string(),
                Err(_) => "reset".to_owned(),
            }
        })
    });
    let mut statuses = BTreeMap::new();
    for send in sends.collect::<Vec<_>>() {
        *statuses.entry(send.await.unwrap()).or_default() += 1;
    }
    statuses
}

/// Stores `payloads` signed 24 MiB pings; the day they are on.
async fn store_large(server: &Server, payloads: usize) -> String {
    let client = reqwest::Client::new();
    for i in 0..payloads {
        let body = format!(r#"{{"zen":"{}","i":{i}}}"#, "z".repeat(24 * MIB));
        let response = client
            .post(format!("{}/hooks/github", server.base))
            .header("content-type", "application/json")
            .header("x-github-event", "ping")
            .header("x-github-delivery", format!("large-{i}"))
            .header("x-hub-signature-256", sign(body.as_bytes()))
            .body(body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "storing: {}",
            response.status()
        );
    }
    chrono::Utc::now().date_naive().to_string()
}

/// `readers` parallel first pages of `limit=1000`; the largest answer in bytes.
async fn read_large(server: &Server, day: &str, readers: usize) -> usize {
    let client = reqwest::Client::new();
    let url = format!(
        "{}/api/v1/events?source=github&day={day}&limit=1000",
        server.base
    );
    let reads = (0..readers).map(|_| {
        let mut request = client.get(&url);
        if !server.token.is_empty() {
            request = request.bearer_auth(&server.token);
        }
        tokio::spawn(async move { request.send().await.unwrap().bytes().await.unwrap().len() })
    });
    let mut largest = 0;
    for read in reads.collect::<Vec<_>>() {
        largest = largest.max(read.await.unwrap());
    }
    largest
}

fn binaries() -> Vec<(String, PathBuf)> {
    let args: Vec<String> = std::env::args().collect();
    let mut out = vec![(
        "this build".to_owned(),
        PathBuf::from(env!("CARGO_BIN_EXE_reckon")),
    )];
    for (i, pair) in args.windows(2).enumerate() {
        if pair[0] == "--baseline" {
            out.push((format!("baseline {}", i + 1), PathBuf::from(&pair[1])));
        }
    }
    out
}

#[tokio::main]
async fn main() {
    let senders = args::number("--senders", 50);
    let payloads = args::number("--payloads", 10);
    let readers = args::number("--readers", 3);
    let unbounded = [
        (
            "RECKON_LIMITS_UNVERIFIED_BODY_BYTES",
            (1u64 << 40).to_string(),
        ),
        (
            "RECKON_LIMITS_LARGE_BODIES_PER_CLIENT",
            "1000000".to_owned(),
        ),
    ];
    println!("# unverified bodies: {senders} unsigned 25 MiB posts at once");
    let mut targets: Vec<Target> = Vec::new();
    for (name, binary) in binaries() {
        targets.push((
            format!("{name}, default limits"),
            binary.clone(),
            Vec::new(),
        ));
        if name == "this build" {
            // Every sender here is one address: this leaves the shared budget to act.
            targets.push((
                format!("{name}, budget only"),
                binary.clone(),
                vec![unbounded[1].clone()],
            ));
            targets.push((format!("{name}, budget lifted"), binary, unbounded.to_vec()));
        }
    }
    let mut lifted = 0.0;
    let mut rows = Vec::new();
    for (name, binary, env) in &targets {
        let server = start(binary, env).await;
        let statuses = unverified(&server, senders).await;
        let peak = peak_rss_mib(&server);
        if name.ends_with("budget lifted") {
            lifted = peak;
        }
        rows.push((name.clone(), peak, statuses));
    }
    for (name, peak, statuses) in &rows {
        let ratio = if lifted > 0.0 {
            peak / lifted
        } else {
            f64::NAN
        };
        println!("{name:<36} peak RSS {peak:>8.1} MiB  ({ratio:.2} of the lifted budget)  answers {statuses:?}");
    }

    println!("\n# large reads: {payloads} stored 24 MiB payloads, {readers} parallel GET /api/v1/events?limit=1000");
    for (name, binary) in binaries() {
        let server = start(&binary, &[]).await;
        let day = store_large(&server, payloads).await;
        let before = peak_rss_mib(&server);
        let largest = read_large(&server, &day, readers).await;
        let after = peak_rss_mib(&server);
        println!(
            "{name:<36} peak RSS {before:>8.1} MiB after storing, {after:>8.1} MiB after reading ({:.2}x); largest answer {:.1} MiB",
            after / before.max(1.0),
            largest as f64 / MIB as f64
        );
    }
    println!("\nreproduce: cargo bench --bench hostile -- --senders {senders} --payloads {payloads} --readers {readers}");
}
