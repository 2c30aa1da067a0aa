//! Durability: data survives a graceful restart, shutdown finishes in-flight requests,
//! and after `kill -9` under concurrent load every acknowledged delivery is there.

use std::collections::HashSet;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use reckon::config::SecretList;
use reckon::sources::github::webhook_secret::SecretOrigin;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::Notify;

use crate::common::{self, fixtures, TestApp, SECRET};

#[tokio::test]
async fn everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_in(dir.path(), |_| {}).await;
    for (i, f) in fixtures().iter().enumerate() {
        assert_eq!(
            app.github(&f.event, &format!("r-{i}"), &f.body)
                .await
                .status(),
            200
        );
    }
    let before = (
        app.event_count().await,
        app.get_ok("/api/v1/github/orgs/octocoders/summary").await,
        app.get_ok("/api/v1/deliveries?limit=1000").await,
    );
    app.stop().await;

    let app = TestApp::spawn_in(dir.path(), |_| {}).await;
    let after = (
        app.event_count().await,
        app.get_ok("/api/v1/github/orgs/octocoders/summary").await,
        app.get_ok("/api/v1/deliveries?limit=1000").await,
    );
    assert_eq!(before, after);
    // Still deduplicated across the restart.
    let f = &fixtures()[0];
    let ack: Value = app
        .github(&f.event, "r-0", &f.body)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(ack["status"], "duplicate");
    app.stop().await;
}

#[tokio::test]
async fn generated_secret_is_kept_in_the_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let no_secret =
        |c: &mut reckon::settings::Config| c.github.webhook_secret = SecretList::default();
    let mut config = common::test_config(dir.path());
    no_secret(&mut config);
    let app = reckon::App::build(config.clone()).await.unwrap();
    let SecretOrigin::Generated { path, .. } = app.secret_origin() else {
        panic!("first start generates a secret");
    };
    let secret = std::fs::read_to_string(path).unwrap().trim().to_owned();
    assert!(secret.len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the secret file is private to its owner");
    }
    drop(app);
    let app = reckon::App::build(config).await.unwrap();
    assert!(matches!(app.secret_origin(), SecretOrigin::File { .. }));
    assert!(
        !app.secret_origin().describe().contains(&secret),
        "later starts never print it"
    );
}

#[tokio::test]
async fn graceful_shutdown_commits_in_flight_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_in(dir.path(), |_| {}).await;
    let body =
        std::fs::read(common::fixtures_dir().join("pull_request/opened.payload.json")).unwrap();
    let first_ack = Arc::new(Notify::new());
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..64 {
        let request = app.github_request("pull_request", &format!("g-{i}"), &body);
        let (first_ack, acked) = (first_ack.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            if let Ok(r) = request.send().await {
                if r.status() == 200 {
                    acked.lock().unwrap().push(format!("g-{i}"));
                    first_ack.notify_one();
                }
            }
        }));
    }
    // Shut down while most requests are still in flight.
    first_ack.notified().await;
    app.stop().await;
    for task in tasks {
        task.await.unwrap();
    }
    let app = TestApp::spawn_in(dir.path(), |_| {}).await;
    let stored: HashSet<String> = app
        .stored_deliveries()
        .await
        .iter()
        .map(|d| d["delivery_id"].as_str().unwrap().to_owned())
        .collect();
    let acked = acked.lock().unwrap().clone();
    assert!(!acked.is_empty());
    for delivery in acked {
        assert!(
            stored.contains(&delivery),
            "{delivery} was acknowledged but is missing"
        );
    }
}

/// Starts the real binary and returns it with the address it printed.
async fn start_binary(data_dir: &std::path::Path) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_reckon"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("RECKON_GITHUB_WEBHOOK_SECRET", SECRET)
        .env("RECKON_LOG_LEVEL", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if let Some(addr) = line.strip_prefix("reckon is listening on ") {
            let base = addr.trim().to_owned();
            // Keep draining stdout so the child never blocks on a full pipe.
            tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
            return (child, base);
        }
    }
    panic!("reckon serve exited before listening");
}

#[tokio::test]
async fn kill_9_under_load_loses_no_acknowledged_delivery() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = start_binary(dir.path()).await;
    let bodies: Arc<Vec<(String, Vec<u8>)>> = Arc::new(
        fixtures()
            .into_iter()
            .filter(|f| f.event == "pull_request")
            .map(|f| (f.event, f.body))
            .collect(),
    );
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let ack_count = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    const KILL_AFTER: usize = 400;
    let client = reqwest::Client::new();
    let mut workers = Vec::new();
    for w in 0..16 {
        let (client, base, bodies, acked, ack_count, enough) = (
            client.clone(),
            base.clone(),
            bodies.clone(),
            acked.clone(),
            ack_count.clone(),
            enough.clone(),
        );
        workers.push(tokio::spawn(async move {
            for i in 0.. {
                let (event, body) = &bodies[i % bodies.len()];
                let delivery = format!("crash-{w}-{i}");
                let sent = client
                    .post(format!("{base}/hooks/github"))
                    .header("content-type", "application/json")
                    .header("x-github-event", event)
                    .header("x-github-delivery", &delivery)
                    .header("x-hub-signature-256", common::sign(SECRET, body))
                    .body(body.clone())
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 200 => {
                        acked.lock().unwrap().push(delivery);
                        if ack_count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                            enough.notify_one();
                        }
                    }
                    Ok(r) => panic!("unexpected status {}", r.status()),
                    Err(_) => break, // the server is gone
                }
            }
        }));
    }
    enough.notified().await;
    child.start_kill().unwrap(); // SIGKILL
    child.wait().await.unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= KILL_AFTER);

    // The file is consistent, and every acknowledged delivery is in it.
    let conn = rusqlite::Connection::open(dir.path().join("reckon.sqlite3")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    drop(conn);
    let (mut child, base) = start_binary(dir.path()).await;
    let app_view = common::client_with_token(&common::admin_token(dir.path()))
        .get(format!("{base}/api/v1/events/days"))
        .send()
        .await
        .unwrap();
    let days: Value = app_view.json().await.unwrap();
    let total: u64 = days["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["events"].as_u64().unwrap())
        .sum();
    assert!(
        total >= acked.len() as u64,
        "{total} events stored, {} acknowledged",
        acked.len()
    );
    let conn = rusqlite::Connection::open(dir.path().join("reckon.sqlite3")).unwrap();
    let mut stmt = conn.prepare("SELECT delivery_id FROM events").unwrap();
    let stored: HashSet<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let missing: Vec<_> = acked.iter().filter(|d| !stored.contains(*d)).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    println!(
        "kill -9 after {} acks: all {} acknowledged deliveries present ({} stored)",
        KILL_AFTER,
        acked.len(),
        stored.len()
    );
}
