//! `POST /hooks/github` against the real server: every real fixture payload, both body
//! encodings, ping, duplicates, secret rotation, and every kind of bad input, which
//! must get its documented error and change nothing.

use reckon::config::SecretList;
use secrecy::SecretString;
use serde_json::Value;

use crate::common::{self, fixtures, github_headers, sign, with_header, TestApp, SECRET};

#[tokio::test]
async fn every_fixture_payload_is_accepted_and_stored() {
    let app = TestApp::spawn().await;
    let fixtures = fixtures();
    assert!(
        fixtures.len() > 250,
        "expected the full fixture set, found {}",
        fixtures.len()
    );
    for (i, f) in fixtures.iter().enumerate() {
        let response = app.github(&f.event, &format!("fixture-{i}"), &f.body).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "{}/{}: {body}", f.event, f.name);
        assert_eq!(body["status"], "accepted", "{}/{}", f.event, f.name);
    }
    assert_eq!(app.event_count().await, fixtures.len() as u64);
    let metrics = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains(
        r#"reckon_deliveries_total{source="github",event="pull_request",outcome="accepted"}"#
    ));
    assert!(metrics.contains("reckon_ack_duration_seconds_bucket"));
    assert!(metrics.contains("reckon_group_commit_batch_size_count"));
    assert!(metrics.contains("reckon_store_size_bytes"));
}

#[tokio::test]
async fn form_encoded_bodies_are_accepted() {
    let app = TestApp::spawn().await;
    let payload =
        std::fs::read_to_string(common::fixtures_dir().join("pull_request/opened.payload.json"))
            .unwrap();
    let body = serde_urlencoded::to_string([("payload", payload.as_str())]).unwrap();
    let response = app
        .client
        .post(app.url("/hooks/github"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-github-event", "pull_request")
        .header("x-github-delivery", "form-1")
        .header("x-hub-signature-256", sign(SECRET, body.as_bytes()))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let summary = app.get_ok("/api/v1/github/orgs/Codertocat/summary").await;
    assert_eq!(summary["pull_requests"]["open"], 1);
    // The stored payload is the JSON itself, not the form encoding.
    let day = app.event_day().await;
    let events = app
        .get_ok(&format!("/api/v1/events?source=github&day={day}"))
        .await;
    assert_eq!(events["events"][0]["payload"]["action"], "opened");
}

#[tokio::test]
async fn ping_is_answered_and_stored() {
    let app = TestApp::spawn().await;
    let body = std::fs::read(common::fixtures_dir().join("ping/payload.json")).unwrap();
    let response = app.github("ping", "ping-1", &body).await;
    assert_eq!(response.status(), 200);
    let ack: Value = response.json().await.unwrap();
    assert_eq!(ack["status"], "accepted");
    assert!(ack["zen"].as_str().is_some_and(|z| !z.is_empty()));
    assert_eq!(app.event_count().await, 1);
}

#[tokio::test]
async fn duplicates_are_acknowledged_recorded_and_not_reprojected() {
    let app = TestApp::spawn().await;
    let mut opened = common::fixture("pull_request/opened.payload.json");
    let first = serde_json::to_vec(&opened).unwrap();
    assert_eq!(
        app.github("pull_request", "dup-1", &first).await.status(),
        200
    );

    // Same hook and delivery id, different content: a duplicate, so the (newer-looking)
    // content must not be projected.
    opened["pull_request"]["state"] = "closed".into();
    opened["pull_request"]["closed_at"] = "2030-01-01T00:00:00Z".into();
    opened["pull_request"]["updated_at"] = "2030-01-01T00:00:00Z".into();
    let second = serde_json::to_vec(&opened).unwrap();
    let response = app.github("pull_request", "dup-1", &second).await;
    assert_eq!(response.status(), 200);
    let ack: Value = response.json().await.unwrap();
    assert_eq!(ack["status"], "duplicate");

    let summary = app.get_ok("/api/v1/github/orgs/codertocat/summary").await;
    assert_eq!(summary["pull_requests"]["open"], 1);
    assert_eq!(summary["pull_requests"]["closed"], 0);
    assert_eq!(app.event_count().await, 1);
    let log = app.get_ok("/api/v1/deliveries?status=duplicate").await;
    assert_eq!(log["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(log["deliveries"][0]["delivery_id"], "dup-1");

    // The same delivery id under another hook is a different delivery.
    let other_hook = with_header(
        github_headers("pull_request", "dup-1", &first),
        "x-github-hook-id",
        Some("777"),
    );
    let response = app.post_with(other_hook, &first).send().await.unwrap();
    let ack: Value = response.json().await.unwrap();
    assert_eq!(ack["status"], "accepted");
}

#[tokio::test]
async fn any_active_secret_verifies_during_rotation() {
    let app = TestApp::spawn_with(|c| {
        c.github.webhook_secret = SecretList::new(vec![
            SecretString::from("new-secret".to_owned()),
            SecretString::from(SECRET.to_owned()),
        ]);
    })
    .await;
    let body = br#"{"zen":"rotation"}"#;
    assert_eq!(app.github("ping", "rot-1", body).await.status(), 200);
    let response = app
        .client
        .post(app.url("/hooks/github"))
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .header("x-github-delivery", "rot-2")
        .header("x-hub-signature-256", sign("new-secret", body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// Sends a request and checks it was refused with `status` and `code`.
async fn assert_rejected(request: reqwest::RequestBuilder, status: u16, code: &str) {
    let response = request.send().await.unwrap();
    assert_eq!(response.status().as_u16(), status, "expected {code}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    let app = TestApp::spawn_with(|c| c.limits.max_body_bytes = 64 * 1024).await;
    let body =
        std::fs::read(common::fixtures_dir().join("pull_request/opened.payload.json")).unwrap();
    let h = |delivery: &str| github_headers("pull_request", delivery, &body);
    let send = |headers, body: &[u8]| app.post_with(headers, body);

    // 401: no signature, wrong signature, malformed signature, wrong secret.
    assert_rejected(
        send(with_header(h("bad-1"), "x-hub-signature-256", None), &body),
        401,
        "signature_missing",
    )
    .await;
    assert_rejected(
        send(
            with_header(
                h("bad-2"),
                "x-hub-signature-256",
                Some(&sign(SECRET, b"other body")),
            ),
            &body,
        ),
        401,
        "signature_invalid",
    )
    .await;
    assert_rejected(
        send(
            with_header(h("bad-3"), "x-hub-signature-256", Some("sha256=not-hex")),
            &body,
        ),
        401,
        "signature_malformed",
    )
    .await;
    assert_rejected(
        send(
            with_header(
                h("bad-4"),
                "x-hub-signature-256",
                Some(&sign("wrong secret", &body)),
            ),
            &body,
        ),
        401,
        "signature_invalid",
    )
    .await;
    // SHA-1 is refused unless allowed.
    let sha1_only = with_header(
        with_header(h("bad-5"), "x-hub-signature-256", None),
        "x-hub-signature",
        Some("sha1=0000000000000000000000000000000000000000"),
    );
    assert_rejected(send(sha1_only, &body), 401, "signature_missing").await;

    // 400: missing headers, malformed bodies.
    assert_rejected(
        send(with_header(h("bad-6"), "x-github-event", None), &body),
        400,
        "missing_header",
    )
    .await;
    assert_rejected(
        send(with_header(h("bad-7"), "x-github-delivery", None), &body),
        400,
        "missing_header",
    )
    .await;
    assert_rejected(send(h("bad id with spaces"), &body), 400, "invalid_header").await;
    for broken in [
        &b"{\"action\": \"opened\""[..],
        b"[1, 2, 3]",
        b"not json",
        b"{} trailing",
    ] {
        assert_rejected(
            app.github_request("pull_request", "bad-8", broken),
            400,
            "malformed_body",
        )
        .await;
    }
    let form = b"other=1";
    let form_headers = with_header(
        github_headers("pull_request", "bad-9", form),
        "content-type",
        Some("application/x-www-form-urlencoded"),
    );
    assert_rejected(send(form_headers, form), 400, "malformed_body").await;

    // 413: over the configured limit, with and without a Content-Length.
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(70 * 1024));
    assert_rejected(
        app.github_request("pull_request", "bad-9", big.as_bytes()),
        413,
        "payload_too_large",
    )
    .await;
    let (status, response) = chunked_post(&app, "bad-10", big.as_bytes()).await;
    assert_eq!(status, 413, "{response}");
    assert!(response.contains("payload_too_large"), "{response}");

    // 415: content types GitHub never sends.
    assert_rejected(
        send(
            with_header(h("bad-11"), "content-type", Some("text/plain")),
            &body,
        ),
        415,
        "unsupported_media_type",
    )
    .await;

    // Nothing was stored, and the delivery log shows each rejection with its reason.
    assert_eq!(app.event_count().await, 0);
    assert!(app.stored_deliveries().await.is_empty());
    assert_eq!(
        app.get("/api/v1/github/orgs/codertocat/summary").await.0,
        404
    );
    let log = app
        .get_ok("/api/v1/deliveries?status=rejected&limit=100")
        .await;
    let rejected = log["deliveries"].as_array().unwrap();
    assert_eq!(rejected.len(), 16);
    assert!(rejected
        .iter()
        .all(|d| d["status"] == "rejected" && d["reason"].is_string()));
    assert!(rejected.iter().any(|d| d["reason"] == "payload_too_large"));
}

#[tokio::test]
async fn sha1_signatures_are_accepted_when_allowed() {
    use hmac::{Hmac, KeyInit, Mac};
    let app = TestApp::spawn_with(|c| c.github.allow_sha1 = true).await;
    let body = br#"{"zen":"legacy"}"#;
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    let response = app
        .client
        .post(app.url("/hooks/github"))
        .header("content-type", "application/json")
        .header("x-github-event", "ping")
        .header("x-github-delivery", "sha1-1")
        .header(
            "x-hub-signature",
            format!("sha1={}", hex::encode(mac.finalize().into_bytes())),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// POSTs a signed body with chunked transfer encoding (no Content-Length) over a raw
/// connection, so the server must enforce the limit while streaming.
async fn chunked_post(app: &TestApp, delivery: &str, body: &[u8]) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST /hooks/github HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: {delivery}\r\n\
         X-Hub-Signature-256: {}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.addr,
        sign(SECRET, body)
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for chunk in body.chunks(16 * 1024) {
        let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), chunk, b"\r\n"].concat();
        // The server may answer and close before the whole body is sent.
        if stream.write_all(&framed).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test]
async fn multi_megabyte_payloads_are_accepted_and_projected() {
    let app = TestApp::spawn().await;
    let mut payload = common::fixture("pull_request/opened.payload.json");
    payload["pull_request"]["body"] = "x".repeat(3 * 1024 * 1024).into();
    let body = serde_json::to_vec(&payload).unwrap();
    let response = app.github("pull_request", "big-1", &body).await;
    assert_eq!(response.status(), 200);
    let summary = app.get_ok("/api/v1/github/orgs/codertocat/summary").await;
    assert_eq!(summary["pull_requests"]["open"], 1);
    let day = app.event_day().await;
    let events = app
        .get_ok(&format!("/api/v1/events?source=github&day={day}"))
        .await;
    assert_eq!(
        events["events"][0]["payload"]["pull_request"]["body"]
            .as_str()
            .map(str::len),
        Some(3 * 1024 * 1024)
    );
}
