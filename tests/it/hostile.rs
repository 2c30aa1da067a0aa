//! Hostile traffic (issue #12): connections that idle or stall mid-header or mid-body are
//! closed by the server's timeouts, a signed delivery gets through hundreds of slow
//! connections at the connection cap, and unverified bodies share a memory budget.

use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::common::TestApp;

/// The outer bound on any wait for the server, so that a failing test cannot hang.
const DEADLINE: Duration = Duration::from_secs(10);

const MIB: usize = 1024 * 1024;

/// Reads until the server closes the connection (EOF or reset); what it sent before.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    };
    tokio::time::timeout(DEADLINE, read)
        .await
        .expect("the server closes the connection");
    String::from_utf8_lossy(&seen).into_owned()
}

/// Reads one interim `100 Continue`: the handler is reading the body, so it holds its
/// reservation of the budget.
async fn read_continue(stream: &mut TcpStream) {
    let mut seen = Vec::new();
    let read = async {
        let mut byte = [0u8; 1];
        while !seen.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut byte).await.expect("read");
            assert_eq!(n, 1, "closed early: {}", String::from_utf8_lossy(&seen));
            seen.push(byte[0]);
        }
    };
    tokio::time::timeout(DEADLINE, read)
        .await
        .expect("an answer");
    let seen = String::from_utf8_lossy(&seen);
    assert!(seen.starts_with("HTTP/1.1 100 Continue"), "{seen}");
}

/// Opens a connection and sends the head of an unsigned `/hooks/github` delivery that
/// announces `length` bytes and waits for `100 Continue` before sending them.
async fn announce(app: &TestApp, length: usize) -> TcpStream {
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /hooks/github HTTP/1.1\r\nhost: reckon\r\ncontent-type: application/json\r\n\
         x-github-event: ping\r\nx-github-delivery: hostile\r\ncontent-length: {length}\r\n\
         expect: 100-continue\r\nconnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// The status line and the JSON body of a whole (closed) HTTP/1.1 answer.
fn parse(answer: &str) -> (&str, Value) {
    let status = answer.lines().next().unwrap_or_default();
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

#[tokio::test]
async fn idle_and_half_sent_headers_are_closed_by_the_server() {
    let app = TestApp::spawn_with(|c| {
        c.limits.header_timeout_ms = 300;
        c.limits.idle_timeout_ms = 300;
    })
    .await;

    // A connection that never sends a byte.
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    assert_eq!(read_until_closed(&mut silent).await, "");

    // Half a header.
    let mut half = TcpStream::connect(app.addr).await.unwrap();
    half.write_all(b"POST /hooks/github HTTP/1.1\r\nhost: reckon\r\nx-github-")
        .await
        .unwrap();
    read_until_closed(&mut half).await;

    // A keep-alive connection idle after its answer.
    let mut kept = TcpStream::connect(app.addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nhost: reckon\r\n\r\n")
        .await
        .unwrap();
    let answer = read_until_closed(&mut kept).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn a_body_that_stops_midway_is_cut_by_the_body_timeout() {
    let app = TestApp::spawn_with(|c| c.limits.body_timeout_ms = 300).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    stream
        .write_all(
            b"POST /hooks/github HTTP/1.1\r\nhost: reckon\r\ncontent-type: application/json\r\n\
              x-github-event: ping\r\nx-github-delivery: slow\r\ncontent-length: 1000\r\n\r\n{\"zen\":",
        )
        .await
        .unwrap();
    let answer = read_until_closed(&mut stream).await;
    let (status, body) = parse(&answer);
    assert!(status.starts_with("HTTP/1.1 408"), "{answer}");
    assert_eq!(body["code"], "body_timeout", "{answer}");
    assert_eq!(
        app.stored_deliveries().await.len(),
        0,
        "nothing is stored from a cut body"
    );
}

#[tokio::test]
async fn a_signed_delivery_gets_through_500_slow_connections() {
    let app = TestApp::spawn_with(|c| {
        c.limits.max_connections = 20;
        // Long enough that only shedding, not the timeout, makes room.
        c.limits.header_timeout_ms = 60_000;
    })
    .await;
    let mut slow = Vec::new();
    for _ in 0..500 {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream
            .write_all(b"POST /hooks/github HTTP/1.1\r\nhost: reckon\r\n")
            .await
            .unwrap();
        slow.push(stream);
    }
    let body = br#"{"zen":"Keep it logically awesome.","hook_id":4242}"#;
    let response = tokio::time::timeout(DEADLINE, app.github("ping", "through-1", body))
        .await
        .expect("the delivery is answered");
    assert_eq!(response.status(), 200);
    // The oldest slow connection made room for a newer one.
    read_until_closed(&mut slow[0]).await;
    // Slow connections do not hold up a graceful shutdown either.
    tokio::time::timeout(DEADLINE, app.stop())
        .await
        .expect("the app stops with slow connections open");
}

#[tokio::test]
async fn unverified_bodies_share_a_budget_that_answers_busy_and_is_given_back() {
    let app = TestApp::spawn_with(|c| {
        c.limits.unverified_body_bytes = 4 * MIB;
        c.limits.large_bodies_per_client = 100;
    })
    .await;
    // 3 MiB of the 4 are being read.
    let mut holder = announce(&app, 3 * MIB).await;
    read_continue(&mut holder).await;

    // 2 more do not fit: 503 `busy` at once, before any of the body is read.
    let mut refused = announce(&app, 2 * MIB).await;
    let answer = read_until_closed(&mut refused).await;
    let (status, body) = parse(&answer);
    assert!(status.starts_with("HTTP/1.1 503"), "{answer}");
    assert_eq!(body["code"], "busy", "{answer}");
    assert_eq!(header(&answer, "retry-after"), Some("5"), "{answer}");

    // The holder finishes (unsigned: 401) and gives its 3 MiB back.
    let mut padding = vec![b' '; 3 * MIB];
    padding[..2].copy_from_slice(b"{}");
    holder.write_all(&padding).await.unwrap();
    let answer = read_until_closed(&mut holder).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");

    // A signed delivery of 2.5 MiB fits again.
    let filler = "a".repeat(5 * MIB / 2);
    let body = format!(r#"{{"zen":"Design for failure.","hook_id":4242,"filler":"{filler}"}}"#);
    let response = app.github("ping", "after-busy", body.as_bytes()).await;
    assert_eq!(response.status(), 200, "{:?}", response.text().await);
}

#[tokio::test]
async fn one_client_may_send_only_so_many_large_bodies_at_once() {
    let app = TestApp::spawn_with(|c| c.limits.large_bodies_per_client = 2).await;
    let mut first = announce(&app, 2 * MIB).await;
    read_continue(&mut first).await;
    let mut second = announce(&app, 2 * MIB).await;
    read_continue(&mut second).await;

    let mut third = announce(&app, 2 * MIB).await;
    let answer = read_until_closed(&mut third).await;
    let (status, body) = parse(&answer);
    assert!(status.starts_with("HTTP/1.1 429"), "{answer}");
    assert_eq!(body["code"], "rate_limited", "{answer}");
    assert!(header(&answer, "retry-after").is_some(), "{answer}");

    // Small bodies from the same client are not held up.
    let body = br#"{"zen":"Half measures are as bad as nothing at all.","hook_id":4242}"#;
    assert_eq!(app.github("ping", "small-1", body).await.status(), 200);
}
