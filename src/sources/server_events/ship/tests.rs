//! `reckon ship` against a stand-in `/submit` on 127.0.0.1:0 that records every request
//! and answers from a script (204 once the script runs out).

use std::collections::VecDeque;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use clap::Parser;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};

use super::*;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Recorded {
    file: String,
    offset: u64,
    src: Option<String>,
    auth: String,
    content_type: String,
    body: String,
}

#[derive(Debug, Clone)]
enum Reply {
    Status(u16),
    RetryAfter(u16, &'static str),
    Error(u16, &'static str, &'static str),
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<Recorded>>,
    script: Mutex<VecDeque<Reply>>,
    /// Answer every request that the script does not cover with this status.
    fallback: Mutex<Option<u16>>,
    seen: Mutex<Option<mpsc::UnboundedSender<Recorded>>>,
}

struct StandIn {
    url: reqwest::Url,
    shared: Arc<Shared>,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| v.to_str().unwrap().to_owned())
}

async fn submit(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let recorded = Recorded {
        file: header(&headers, "x-xlog-file").unwrap_or_default(),
        offset: header(&headers, "x-xlog-offset").map_or(u64::MAX, |o| o.parse().unwrap()),
        src: header(&headers, "x-xlog-src"),
        auth: header(&headers, "authorization").unwrap_or_default(),
        content_type: header(&headers, "content-type").unwrap_or_default(),
        body: String::from_utf8(body.to_vec()).unwrap(),
    };
    shared.requests.lock().unwrap().push(recorded.clone());
    if let Some(seen) = shared.seen.lock().unwrap().as_ref() {
        let _ = seen.send(recorded);
    }
    let reply = shared.script.lock().unwrap().pop_front();
    let fallback = *shared.fallback.lock().unwrap();
    let status = |code| StatusCode::from_u16(code).unwrap();
    match reply {
        Some(Reply::Status(code)) => status(code).into_response(),
        Some(Reply::RetryAfter(code, after)) => {
            (status(code), [("retry-after", after)]).into_response()
        }
        Some(Reply::Error(code, error_code, message)) => {
            let body = serde_json::json!({"code": error_code, "message": message});
            (status(code), axum::Json(body)).into_response()
        }
        None => status(fallback.unwrap_or(204)).into_response(),
    }
}

impl StandIn {
    async fn start() -> Self {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/submit", post(submit))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        StandIn {
            url: reqwest::Url::parse(&format!("http://{addr}")).unwrap(),
            shared,
        }
    }

    fn script(&self, replies: &[Reply]) {
        self.shared
            .script
            .lock()
            .unwrap()
            .extend(replies.iter().cloned());
    }

    fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Every request from now on, as it arrives.
    fn watch(&self) -> mpsc::UnboundedReceiver<Recorded> {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.shared.seen.lock().unwrap() = Some(tx);
        rx
    }

    fn args(&self, dir: &Path, files: &[&str]) -> ShipArgs {
        ShipArgs {
            src: Some("cpo".into()),
            key: SecretString::from("k-123"),
            url: self.url.clone(),
            files: files.iter().map(|f| dir.join(f)).collect(),
            state: dir.join("state.json"),
            batch_bytes: 256 * 1024,
            batch_lines: 1000,
            poll_ms: 5,
            once: true,
            timeout_secs: 5,
            retry_base_ms: 1,
            retry_max_ms: 4,
        }
    }
}

/// A logfile line for a game that ended at second `n`.
fn game(n: u32) -> String {
    format!(
        "v=0.25-a0:vlong=0.25-a0-544-g1b6a1b3:vsavrv=Git::0.25-a0-544-g1b6a1b3:name=P{n}:\
         race=Minotaur:cls=Fighter:char=MiFi:xl=3:place=D::2:god=:start=20200418093000S:\
         sc=27:ktyp=mon:killer=an orc:end=202004180935{:02}S\n",
        n % 60
    )
}

fn milestone(n: u32) -> String {
    format!(
        "v=0.25-a0:name=P{n}:char=MiFi:place=D::2:start=20200418093000S:\
         time=202004180933{:02}S:type=uniq:milestone=killed Blork the orc.\n",
        n % 60
    )
}

fn key_of(name: &str, first_line: &str) -> String {
    let hash = hex::encode(Sha256::digest(first_line.as_bytes()));
    format!("{name}@{}", &hash[..12])
}

fn append(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

/// Rewrites a file in place (same inode).
fn rewrite(path: &Path, text: &str) {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    file.write_all(text.as_bytes()).unwrap();
}

async fn ship_once(args: ShipArgs) -> ShipReport {
    run(args, std::future::pending()).await.unwrap()
}

fn saved_state(dir: &Path) -> StateFile {
    state::load(&dir.join("state.json")).unwrap()
}

fn saved_entry(dir: &Path, name: &str) -> PathState {
    let path = std::path::absolute(dir.join(name)).unwrap();
    saved_state(dir).files[&*path.to_string_lossy()].clone()
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Recorded>) -> Recorded {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a request within 10 s")
        .unwrap()
}

#[tokio::test]
async fn ships_complete_lines_with_the_wire_headers() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (one, two, three) = (game(1), game(2), game(3));
    let partial = &three[..40];
    std::fs::write(dir.path().join("logfile"), format!("{one}{two}{partial}")).unwrap();

    let report = ship_once(server.args(dir.path(), &["logfile"])).await;

    let key = key_of("logfile", &one);
    assert_eq!(
        server.requests(),
        [Recorded {
            file: key.clone(),
            offset: 0,
            src: Some("cpo".into()),
            auth: "Bearer k-123".into(),
            content_type: "text/plain; charset=utf-8".into(),
            body: format!("{one}{two}"),
        }]
    );
    let expected = ShipReport {
        lines: 2,
        bytes: (one.len() + two.len()) as u64,
        batches: 1,
        files: 1,
        retries: 0,
        interrupted: false,
    };
    assert_eq!(report, expected);
    let entry = saved_entry(dir.path(), "logfile").current.unwrap();
    assert_eq!(
        (entry.key, entry.offset),
        (key, (one.len() + two.len()) as u64)
    );
}

#[tokio::test]
async fn a_partial_line_waits_until_it_is_complete() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("milestones");
    let (one, two) = (milestone(1), milestone(2));
    let (head, tail) = two.split_at(25);
    std::fs::write(&path, format!("{one}{head}")).unwrap();
    ship_once(server.args(dir.path(), &["milestones"])).await;
    ship_once(server.args(dir.path(), &["milestones"])).await;
    assert_eq!(server.requests().len(), 1);

    append(&path, tail);
    let report = ship_once(server.args(dir.path(), &["milestones"])).await;

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].file, key_of("milestones", &one));
    assert_eq!(requests[1].offset, one.len() as u64);
    assert_eq!(requests[1].body, two);
    assert_eq!((report.lines, report.batches), (1, 1));
}

#[tokio::test]
async fn waits_for_a_complete_first_line_before_shipping() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logfile");
    let one = game(1);
    std::fs::write(&path, &one[..30]).unwrap();

    let report = ship_once(server.args(dir.path(), &["logfile"])).await;
    assert_eq!(report, ShipReport::default());
    assert!(server.requests().is_empty());

    append(&path, &one[30..]);
    ship_once(server.args(dir.path(), &["logfile"])).await;
    let requests = server.requests();
    assert_eq!((requests.len(), requests[0].offset), (1, 0));
    assert_eq!(requests[0].file, key_of("logfile", &one));
}

#[tokio::test]
async fn resumes_across_restarts_from_the_state_file() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logfile");
    let lines: Vec<String> = (1..=4).map(game).collect();
    std::fs::write(&path, format!("{}{}", lines[0], lines[1])).unwrap();
    ship_once(server.args(dir.path(), &["logfile"])).await;

    let again = ship_once(server.args(dir.path(), &["logfile"])).await;
    assert_eq!(again.batches, 0);
    assert_eq!(server.requests().len(), 1);

    append(&path, &format!("{}{}", lines[2], lines[3]));
    let report = ship_once(server.args(dir.path(), &["logfile"])).await;
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].offset, (lines[0].len() + lines[1].len()) as u64);
    assert_eq!(requests[1].body, format!("{}{}", lines[2], lines[3]));
    assert_eq!(requests[1].file, requests[0].file);
    assert_eq!(report.lines, 2);
    let total: usize = lines.iter().map(String::len).sum();
    let entry = saved_entry(dir.path(), "logfile").current.unwrap();
    assert_eq!(entry.offset, total as u64);
}

#[tokio::test]
async fn batches_carry_the_offset_of_their_first_line() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let lines: Vec<String> = (1..=5).map(game).chain(["\n".to_owned()]).collect();
    let content = lines.concat();
    std::fs::write(dir.path().join("logfile"), &content).unwrap();
    let mut args = server.args(dir.path(), &["logfile"]);
    args.batch_lines = 2;

    let report = ship_once(args).await;

    let requests = server.requests();
    let offsets: Vec<u64> = requests.iter().map(|r| r.offset).collect();
    let starts = |i: usize| lines[..i].iter().map(String::len).sum::<usize>() as u64;
    assert_eq!(offsets, [0, starts(2), starts(4)]);
    assert_eq!(requests[1].body, format!("{}{}", lines[2], lines[3]));
    assert_eq!(
        requests.iter().map(|r| r.body.as_str()).collect::<String>(),
        content
    );
    assert_eq!((report.lines, report.batches, report.files), (6, 3, 1));
}

#[tokio::test]
async fn batch_bytes_split_batches_and_a_long_line_goes_alone() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let long = format!("name=Long:ktyp=mon:tmsg={}\n", "x".repeat(500));
    let content = format!("{}{}{long}{}", game(1), game(2), game(3));
    std::fs::write(dir.path().join("logfile"), &content).unwrap();
    let mut args = server.args(dir.path(), &["logfile"]);
    args.batch_bytes = game(1).len() * 2;

    ship_once(args).await;

    let bodies: Vec<String> = server.requests().into_iter().map(|r| r.body).collect();
    assert_eq!(bodies, [format!("{}{}", game(1), game(2)), long, game(3)]);
}

#[tokio::test]
async fn truncation_restarts_at_zero_with_a_new_key() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logfile");
    std::fs::write(&path, format!("{}{}{}", game(1), game(2), game(3))).unwrap();
    ship_once(server.args(dir.path(), &["logfile"])).await;

    rewrite(&path, &game(9));
    ship_once(server.args(dir.path(), &["logfile"])).await;

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1].offset, 0);
    assert_eq!(requests[1].file, key_of("logfile", &game(9)));
    assert_ne!(requests[1].file, requests[0].file);
    assert_eq!(requests[1].body, game(9));
}

#[tokio::test]
async fn a_rewritten_first_line_restarts_at_zero_even_when_longer() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logfile");
    std::fs::write(&path, game(1)).unwrap();
    ship_once(server.args(dir.path(), &["logfile"])).await;

    let content = format!("{}{}{}", game(7), game(8), game(9));
    rewrite(&path, &content);
    ship_once(server.args(dir.path(), &["logfile"])).await;

    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        (requests[1].offset, requests[1].body.as_str()),
        (0, content.as_str())
    );
    assert_eq!(requests[1].file, key_of("logfile", &game(7)));
}

#[cfg(unix)]
#[tokio::test]
async fn rotation_while_stopped_ships_the_rest_of_the_old_file_first() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logfile");
    let (one, two, three, fresh) = (game(1), game(2), game(3), game(10));
    std::fs::write(&path, format!("{one}{two}")).unwrap();
    ship_once(server.args(dir.path(), &["logfile"])).await;

    append(&path, &three);
    std::fs::rename(&path, dir.path().join("logfile.1")).unwrap();
    std::fs::write(&path, &fresh).unwrap();
    let report = ship_once(server.args(dir.path(), &["logfile"])).await;

    let requests = server.requests();
    let old_key = key_of("logfile", &one);
    let new_key = key_of("logfile", &fresh);
    let sent: Vec<(&str, u64, &str)> = requests[1..]
        .iter()
        .map(|r| (r.file.as_str(), r.offset, r.body.as_str()))
        .collect();
    let expected = [
        (
            old_key.as_str(),
            (one.len() + two.len()) as u64,
            three.as_str(),
        ),
        (new_key.as_str(), 0, fresh.as_str()),
    ];
    assert_eq!(sent, expected);
    assert_eq!((report.files, report.lines), (2, 2));
    let entry = saved_entry(dir.path(), "logfile");
    assert!(entry.draining.is_empty());
    assert_eq!(entry.current.unwrap().key, new_key);
}

#[cfg(unix)]
#[tokio::test]
async fn rotation_while_running_drains_the_old_handle_then_ships_the_new_file() {
    let server = StandIn::start().await;
    let mut seen = server.watch();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logfile");
    let (one, two, fresh) = (game(1), game(2), game(20));
    std::fs::write(&path, &one).unwrap();
    let mut args = server.args(dir.path(), &["logfile"]);
    args.once = false;
    let (stop, stopped) = oneshot::channel::<()>();
    let shipping = tokio::spawn(run(args, async move {
        let _ = stopped.await;
    }));
    assert_eq!(next(&mut seen).await.body, one);

    // The old file gets one more line, is rotated away and even deleted: only the
    // shipper's open handle still reaches it.
    append(&path, &two);
    std::fs::rename(&path, dir.path().join("logfile.1")).unwrap();
    std::fs::remove_file(dir.path().join("logfile.1")).unwrap();
    let staged = dir.path().join(".logfile.new");
    std::fs::write(&staged, &fresh).unwrap();
    std::fs::rename(&staged, &path).unwrap();

    let old = next(&mut seen).await;
    let new = next(&mut seen).await;
    stop.send(()).unwrap();
    let report = shipping.await.unwrap().unwrap();

    assert_eq!(
        (old.file.as_str(), old.offset, old.body.as_str()),
        (
            key_of("logfile", &one).as_str(),
            one.len() as u64,
            two.as_str()
        )
    );
    assert_eq!(
        (new.file.as_str(), new.offset, new.body.as_str()),
        (key_of("logfile", &fresh).as_str(), 0, fresh.as_str())
    );
    assert!(report.interrupted);
    assert_eq!((report.batches, report.files), (3, 2));
    let entry = saved_entry(dir.path(), "logfile");
    assert_eq!(entry.current.unwrap().offset, fresh.len() as u64);
}

#[tokio::test]
async fn retries_resend_exactly_the_same_batch() {
    let server = StandIn::start().await;
    server.script(&[
        Reply::Status(500),
        Reply::RetryAfter(429, "0"),
        Reply::Status(503),
        Reply::Status(408),
    ]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("logfile"),
        format!("{}{}", game(1), game(2)),
    )
    .unwrap();

    let report = ship_once(server.args(dir.path(), &["logfile"])).await;

    let requests = server.requests();
    assert_eq!(requests.len(), 5);
    assert!(requests.iter().all(|r| *r == requests[0]), "{requests:#?}");
    assert_eq!((report.batches, report.retries, report.lines), (1, 4, 2));
    let entry = saved_entry(dir.path(), "logfile").current.unwrap();
    assert_eq!(entry.offset, (game(1).len() + game(2).len()) as u64);
}

#[tokio::test]
async fn a_refusal_stops_with_the_code_and_keeps_the_offset() {
    let server = StandIn::start().await;
    server.script(&[Reply::Error(
        403,
        "src_mismatch",
        "this key belongs to the server cxc",
    )]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logfile");
    std::fs::write(&path, game(1)).unwrap();
    let mut args = server.args(dir.path(), &["logfile"]);
    args.batch_lines = 1;
    append(&path, &game(2));

    let error = run(args, std::future::pending()).await.unwrap_err();

    match &error {
        ShipError::Refused {
            status: 403,
            code: Some(code),
            offset: 0,
            ..
        } => assert_eq!(code, "src_mismatch"),
        other => panic!("unexpected error {other:?}"),
    }
    let message = error.to_string();
    assert!(message.contains("HTTP 403 src_mismatch"), "{message}");
    assert!(message.contains("belongs to the server cxc"), "{message}");
    assert_eq!(
        server.requests().len(),
        1,
        "nothing after the refused batch"
    );
    let entry = saved_entry(dir.path(), "logfile").current.unwrap();
    assert_eq!(entry.offset, 0);

    // Once the operator fixes it, the same lines go again.
    ship_once(server.args(dir.path(), &["logfile"])).await;
    let requests = server.requests();
    assert_eq!(
        (requests[1].offset, &requests[1].body),
        (0, &format!("{}{}", game(1), game(2)))
    );
}

#[tokio::test]
async fn a_refusal_without_json_still_says_what_came_back() {
    let server = StandIn::start().await;
    server.script(&[Reply::Status(404)]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("logfile"), game(1)).unwrap();
    let error = run(
        server.args(dir.path(), &["logfile"]),
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(
            error,
            ShipError::Refused {
                status: 404,
                code: None,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn missing_files_are_waited_for_not_errors() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("logfile"), game(1)).unwrap();

    let report = ship_once(server.args(dir.path(), &["milestones", "logfile"])).await;
    assert_eq!((report.batches, report.files), (1, 1));

    std::fs::write(dir.path().join("milestones"), milestone(1)).unwrap();
    let report = ship_once(server.args(dir.path(), &["milestones", "logfile"])).await;
    assert_eq!((report.batches, report.files), (1, 1));
    assert_eq!(
        server.requests()[1].file,
        key_of("milestones", &milestone(1))
    );
}

#[tokio::test]
async fn shutdown_while_retrying_stops_and_keeps_the_state() {
    let server = StandIn::start().await;
    *server.shared.fallback.lock().unwrap() = Some(500);
    let mut seen = server.watch();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("logfile"), game(1)).unwrap();
    let mut args = server.args(dir.path(), &["logfile"]);
    args.once = false;
    let (stop, stopped) = oneshot::channel::<()>();
    let shipping = tokio::spawn(run(args, async move {
        let _ = stopped.await;
    }));
    for _ in 0..3 {
        next(&mut seen).await;
    }
    stop.send(()).unwrap();
    let report = shipping.await.unwrap().unwrap();

    assert!(report.interrupted);
    assert_eq!(report.batches, 0);
    let entry = saved_entry(dir.path(), "logfile").current.unwrap();
    assert_eq!(entry.offset, 0);
}

#[tokio::test]
async fn a_fired_shutdown_sends_nothing() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("logfile"), game(1)).unwrap();
    let mut args = server.args(dir.path(), &["logfile"]);
    args.once = false;
    let report = run(args, std::future::ready(())).await.unwrap();
    assert!(report.interrupted);
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn state_of_unwatched_paths_is_kept() {
    let server = StandIn::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("logfile"), game(1)).unwrap();
    std::fs::write(dir.path().join("milestones"), milestone(1)).unwrap();
    ship_once(server.args(dir.path(), &["logfile", "milestones"])).await;
    append(&dir.path().join("logfile"), &game(2));
    ship_once(server.args(dir.path(), &["logfile"])).await;
    assert_eq!(saved_state(dir.path()).files.len(), 2);
}

#[test]
fn the_command_line_has_documented_defaults() {
    #[derive(clap::Parser)]
    struct Cli {
        #[command(flatten)]
        ship: ShipArgs,
    }
    let cli = Cli::try_parse_from([
        "ship",
        "--src",
        "cpo",
        "--key",
        "secret-key",
        "--url",
        "https://reckon.example",
        "logfile",
        "milestones",
    ])
    .unwrap();
    let args = cli.ship;
    assert_eq!(
        args.files,
        [PathBuf::from("logfile"), PathBuf::from("milestones")]
    );
    assert_eq!(args.state, PathBuf::from("reckon-ship-state.json"));
    assert_eq!((args.batch_bytes, args.batch_lines), (256 * 1024, 1000));
    assert_eq!((args.poll_ms, args.once), (1000, false));
    assert!(
        !format!("{args:?}").contains("secret-key"),
        "the key never prints"
    );
    let missing = Cli::try_parse_from(["ship", "--key", "k", "--url", "http://x"]);
    assert!(missing.is_err(), "FILE is required");
    let zero = Cli::try_parse_from([
        "ship",
        "--key",
        "k",
        "--url",
        "http://x",
        "--batch-lines",
        "0",
        "f",
    ]);
    assert!(zero.is_err());
}

#[tokio::test]
async fn a_non_http_url_is_refused_before_anything_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let server = StandIn::start().await;
    let mut args = server.args(dir.path(), &["logfile"]);
    args.url = reqwest::Url::parse("ftp://reckon.example").unwrap();
    let error = run(args, std::future::pending()).await.unwrap_err();
    assert!(matches!(error, ShipError::Url { .. }), "{error:?}");
}

/// `reckon ship` may be spawned onto the runtime.
#[allow(dead_code)]
fn run_is_send(
    args: ShipArgs,
) -> impl std::future::Future<Output = Result<ShipReport, ShipError>> + Send {
    run(args, std::future::pending())
}
