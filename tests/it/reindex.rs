//! `reckon reindex` on the embedded store: projections wiped and tampered with are rebuilt
//! from the journal by the real binary while the server keeps taking deliveries, and the
//! API then answers exactly like a twin server that never lost anything.

use serde_json::{json, Value};

use crate::common::{fixture, fixtures, TestApp};

/// A PR delivery made from the real `pull_request.opened` fixture.
fn pr_delivery(id: i64, state: &str, day: u32) -> Vec<u8> {
    let mut body = fixture("pull_request/opened.payload.json");
    let pr = &mut body["pull_request"];
    let at = format!("2026-02-{day:02}T10:00:00Z");
    pr["id"] = json!(id);
    pr["number"] = json!(id);
    pr["created_at"] = json!("2026-02-01T09:00:00Z");
    pr["updated_at"] = json!(at);
    pr["state"] = json!(if state == "open" { "open" } else { "closed" });
    pr["merged"] = json!(state == "merged");
    pr["merged_at"] = if state == "merged" {
        json!(at)
    } else {
        Value::Null
    };
    pr["closed_at"] = if state == "open" {
        Value::Null
    } else {
        json!(at)
    };
    body["action"] = json!(if state == "open" { "opened" } else { "closed" });
    serde_json::to_vec(&body).unwrap()
}

/// Everything the API says about every org.
async fn answers(app: &TestApp) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let orgs = app.get_ok("/api/v1/github/orgs").await;
    out.push(("orgs".into(), orgs.clone()));
    for org in orgs["orgs"].as_array().unwrap() {
        let org = org["org"].as_str().unwrap();
        for path in [
            format!("/api/v1/github/orgs/{org}/summary"),
            format!("/api/v1/github/orgs/{org}/repos"),
            format!("/api/v1/github/orgs/{org}/teams"),
            format!("/api/v1/github/orgs/{org}/pulls/stats"),
            format!("/api/v1/github/orgs/{org}/pulls/series?interval=month"),
        ] {
            let answer = app.get_ok(&path).await;
            out.push((path, answer));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reindex_rebuilds_tampered_projections_while_serving() {
    let app = TestApp::spawn().await;
    let twin = TestApp::spawn().await;
    for (n, f) in fixtures().into_iter().enumerate() {
        for target in [&app, &twin] {
            let status = target
                .github(&f.event, &format!("f-{n}"), &f.body)
                .await
                .status();
            assert_eq!(status, 200, "{}/{}", f.event, f.name);
        }
    }
    let before = answers(&app).await;
    assert_eq!(before, answers(&twin).await);

    // Lose and corrupt the projections, as a bug in an older Reckon might have.
    let db = app.data_dir.join("reckon.sqlite3");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "DELETE FROM pull_requests; DELETE FROM team_members; UPDATE repos SET name = 'tampered';",
        )
        .unwrap();
    }
    assert_ne!(answers(&app).await, before);

    // Reindex with the real binary while deliveries keep arriving at both servers.
    let reindex = tokio::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args(["reindex", "--data-dir"])
        .arg(&app.data_dir)
        .env("RUST_BACKTRACE", "0")
        .env("RECKON_LOG_LEVEL", "warn")
        .output();
    let deliveries = async {
        for i in 0..60 {
            let state = ["open", "merged", "closed"][i % 3];
            let body = pr_delivery(9_000 + i as i64 / 2, state, 2 + (i % 20) as u32);
            for target in [&app, &twin] {
                let status = target
                    .github("pull_request", &format!("live-{i}"), &body)
                    .await
                    .status();
                assert_eq!(status, 200);
            }
        }
    };
    let (output, ()) = tokio::join!(reindex, deliveries);
    let output = output.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("rebuilt the projections from"), "{stdout}");

    assert_eq!(answers(&app).await, answers(&twin).await);
    assert!(!app.data_dir.join("reckon.sqlite3.rebuild").exists());
}
