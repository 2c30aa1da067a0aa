//! The heartbeats source end to end, on the real service: the real legacy WakaTime client
//! (wakatime 13.1.0, installed by scripts/wakatime-client.sh) sending to the bulk
//! endpoint and reading `--today`; Kodo-style `GET /api/v1/heartbeats?event=`; a scripted
//! 30-day pattern sent three ways (in order, shuffled, shuffled and doubled) whose
//! summaries and stats must equal totals computed here, independently of reckon's code;
//! and bad input (per-item refusals, bad keys, too many items).
//!
//! What 13.1.0 does (see /work/notes/wakatime-client.md): it POSTs its JSON array to
//! `api_url` verbatim (no path is appended), with `Authorization: Basic base64(key)`,
//! `X-Machine-Name` and a `User-Agent` ending in `--plugin`; it sends no `TimeZone` header
//! (its vendored pytz lacks zone data); it counts 201 and 202 as success and reads
//! `responses[i][1]` per item; `--today` always GETs
//! `https://api.wakatime.com/api/v1/users/current/summaries?start=today&end=today`,
//! whatever `api_url` says, so the test runs the client's own `--today` code with only
//! that host rewritten to the app.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc, Weekday};
use serde_json::{json, Value};

use crate::common::{test_config, TestApp};

const MINUTE_MS: i64 = 60_000;
/// The default keystroke timeout: a pause this long or longer ends a stretch.
const TIMEOUT_MS: i64 = 10 * MINUTE_MS;

// ---------------------------------------------------------------------------------------
// Setup: keys are made with the library call the CLI uses, on the store the app will open,
// before the app starts (the harness keeps no store handle).

struct Setup {
    dir: tempfile::TempDir,
    keys: BTreeMap<String, String>,
}

impl Setup {
    async fn new(users: &[&str]) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let config = test_config(dir.path());
        let store = reckon::open_store(&config).await.expect("store opens");
        let mut keys = BTreeMap::new();
        for user in users {
            let key = reckon::sources::heartbeats::keys::add(&*store, user)
                .await
                .expect("key added");
            assert_is_uuid_v4(&key);
            keys.insert((*user).to_owned(), key);
        }
        drop(store);
        Setup { dir, keys }
    }

    async fn app(&self) -> TestApp {
        TestApp::spawn_in(self.dir.path(), |_| {}).await
    }

    fn key(&self, user: &str) -> &str {
        &self.keys[user]
    }
}

fn assert_is_uuid_v4(key: &str) {
    let b = key.as_bytes();
    assert_eq!(b.len(), 36, "{key}");
    for (i, c) in b.iter().enumerate() {
        match i {
            8 | 13 | 18 | 23 => assert_eq!(*c, b'-', "{key}"),
            _ => assert!(c.is_ascii_hexdigit(), "{key}"),
        }
    }
    assert_eq!(
        b[14], b'4',
        "the client refuses keys that are not UUIDv4: {key}"
    );
    assert!(
        matches!(b[19], b'8' | b'9' | b'a' | b'b' | b'A' | b'B'),
        "{key}"
    );
}

fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(key)
    )
}

/// Percent-encodes a query value (enough for base64, dates and plain names).
fn q(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `name -> total seconds in ms` of one list of WakaTime items, leaving out empty ones.
fn items_ms(items: &Value) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for item in items.as_array().unwrap_or(&Vec::new()) {
        let ms = secs_to_ms(&item["total_seconds"]);
        if ms != 0 {
            let name = item["name"].as_str().unwrap().to_owned();
            *out.entry(name).or_insert(0) += ms;
        }
    }
    out
}

fn secs_to_ms(v: &Value) -> i64 {
    (v.as_f64()
        .unwrap_or_else(|| panic!("seconds as a number: {v}"))
        * 1000.0)
        .round() as i64
}

fn lower_keys(m: &BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for (k, v) in m {
        *out.entry(k.to_ascii_lowercase()).or_insert(0) += v;
    }
    out
}

// ---------------------------------------------------------------------------------------
// The real client.

/// The wrapper from scripts/wakatime-client.sh: `RECKON_TEST_WAKATIME_CLIENT`, or the script's
/// answer (it installs wakatime 13.1.0 on first use and reuses it after).
fn wakatime_client() -> PathBuf {
    if let Ok(path) = std::env::var("RECKON_TEST_WAKATIME_CLIENT") {
        return PathBuf::from(path);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/wakatime-client.sh");
    let output = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "scripts/wakatime-client.sh failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let path = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .expect("the script prints the wrapper's path")
        .trim()
        .to_owned();
    PathBuf::from(path)
}

/// The venv's python with the same shim, beside the client wrapper.
fn wakatime_python(client: &Path) -> PathBuf {
    let python = client.with_file_name("reckon-wakatime-python");
    assert!(
        python.exists(),
        "{} is missing: RECKON_TEST_WAKATIME_CLIENT must name the wrapper made by scripts/wakatime-client.sh",
        python.display()
    );
    python
}

/// Runs the client's own `--today` (wakatime.main.execute) with its hard-coded
/// `https://api.wakatime.com/` rewritten to the app, at the HTTP session.
const TODAY_DRIVER: &str = r#"
import sys
base = sys.argv[1]
from wakatime.packages.requests import sessions
_request = sessions.Session.request
def request(self, method, url, *args, **kwargs):
    prefix = "https://api.wakatime.com/"
    if url.startswith(prefix):
        url = base.rstrip("/") + "/" + url[len(prefix):]
    return _request(self, method, url, *args, **kwargs)
sessions.Session.request = request
from wakatime.main import execute
sys.exit(execute(sys.argv[2:]))
"#;

const COUNT_QUEUE: &str = r#"
import os, sqlite3, sys
db = os.path.join(sys.argv[1], ".wakatime.db")
if not os.path.exists(db):
    print(0)
else:
    conn = sqlite3.connect(db)
    have = conn.execute("select count(*) from sqlite_master where name = 'heartbeat_2'").fetchone()[0]
    print(conn.execute("select count(*) from heartbeat_2").fetchone()[0] if have else 0)
"#;

#[tokio::test]
async fn real_wakatime_client_is_accepted_and_counted() {
    let client = wakatime_client();
    let python = wakatime_python(&client);
    let setup = Setup::new(&["ada"]).await;
    let app = setup.app().await;
    let key = setup.key("ada").to_owned();

    // WAKATIME_HOME: the config, the client's log and its offline queue.
    let home = tempfile::tempdir().unwrap();
    // 13.1.0 posts to api_url as it is: point it at the bulk endpoint itself.
    std::fs::write(
        home.path().join(".wakatime.cfg"),
        format!(
            "[settings]\napi_url = {}/api/v1/users/current/heartbeats.bulk\napi_key = {key}\n",
            app.base
        ),
    )
    .unwrap();
    // Files must exist (the client drops heartbeats for missing files); the
    // .wakatime-project file names the project (line 1) and the branch (line 2).
    let work = tempfile::tempdir().unwrap();
    let (a, b) = (work.path().join("a.py"), work.path().join("b.py"));
    std::fs::write(&a, "import os\nprint(os.getcwd())\n").unwrap();
    std::fs::write(&b, "print(1)\n").unwrap();
    std::fs::write(
        work.path().join(".wakatime-project"),
        "reckon-demo\nfeature-x\n",
    )
    .unwrap();

    // Six heartbeats two minutes apart, ending five minutes ago: 5 x 120 s.
    let now_ms = Utc::now().timestamp_millis();
    let t0 = (now_ms - 15 * MINUTE_MS) / 1000; // whole seconds, sent as floats
    let extra: Vec<Value> = (1..6)
        .map(|k| {
            let file = if k % 2 == 0 { &a } else { &b };
            json!({
                "entity": file.to_string_lossy(),
                "time": (t0 + 120 * k) as f64 + 0.25,
                "language": "Python",
                "is_write": k == 3,
            })
        })
        .collect();
    let mut stdin_line = serde_json::to_string(&extra).unwrap();
    stdin_line.push('\n'); // the client reads one line of stdin
    let mut child = tokio::process::Command::new(&client)
        .env("WAKATIME_HOME", home.path())
        .args(["--entity"])
        .arg(&a)
        .args(["--time", &format!("{}.25", t0)])
        .args(["--plugin", "vim/9.0 vim-wakatime/9.0.0"])
        .args(["--language", "Python", "--write"])
        .args(["--hostname", "ada-laptop", "--timeout", "30"])
        .arg("--extra-heartbeats")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the client starts");
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(stdin_line.as_bytes()).await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    let log = std::fs::read_to_string(home.path().join(".wakatime.log")).unwrap_or_default();
    assert_eq!(
        out.status.code(),
        Some(0),
        "the client failed (102 = API error, 104 = auth):\nstdout: {}\nstderr: {}\nlog: {log}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Nothing waits in its offline queue: every item came back 201/202.
    let queued = Command::new(&python)
        .args(["-c", COUNT_QUEUE])
        .arg(home.path())
        .output()
        .unwrap();
    assert!(queued.status.success());
    assert_eq!(
        String::from_utf8_lossy(&queued.stdout).trim(),
        "0",
        "heartbeats were queued offline: {log}"
    );

    // The client sends no time zone, so the user's days are the server default's: a
    // window a day wide on either side holds the stretch wherever that is.
    let today = Utc::now().date_naive();
    let (start, end) = (today - Duration::days(1), today + Duration::days(1));
    let body = app
        .get_ok(&format!(
            "/api/v1/users/ada/summaries?start={start}&end={end}"
        ))
        .await;
    let days = body["data"].as_array().unwrap();
    let mut projects = BTreeMap::new();
    let mut languages = BTreeMap::new();
    let mut editors = BTreeMap::new();
    let mut machines = BTreeMap::new();
    let mut systems = BTreeMap::new();
    let mut branches = BTreeMap::new();
    let mut grand = 0;
    for day in days {
        grand += secs_to_ms(&day["grand_total"]["total_seconds"]);
        for (dim, acc) in [
            ("projects", &mut projects),
            ("languages", &mut languages),
            ("editors", &mut editors),
            ("machines", &mut machines),
            ("operating_systems", &mut systems),
            ("branches", &mut branches),
        ] {
            for (name, ms) in items_ms(&day[dim]) {
                *acc.entry(name).or_insert(0) += ms;
            }
        }
    }
    let total = 5 * 120_000;
    assert_eq!(grand, total, "{body}");
    assert_eq!(
        secs_to_ms(&body["cumulative_total"]["seconds"]),
        total,
        "{body}"
    );
    assert_eq!(
        projects,
        BTreeMap::from([("reckon-demo".to_owned(), total)])
    );
    assert_eq!(languages, BTreeMap::from([("Python".to_owned(), total)]));
    assert_eq!(branches, BTreeMap::from([("feature-x".to_owned(), total)]));
    assert_eq!(machines, BTreeMap::from([("ada-laptop".to_owned(), total)]));
    // From the User-Agent: "wakatime/13.1.0 (Linux-...) Python3.11... vim/9.0 vim-wakatime/9.0.0".
    assert_eq!(
        lower_keys(&editors),
        BTreeMap::from([("vim".to_owned(), total)])
    );
    assert_eq!(
        lower_keys(&systems),
        BTreeMap::from([("linux".to_owned(), total)])
    );

    // `--today`: the client's own text, from the app's answer, is the statusbar's.
    let driver = work.path().join("today.py");
    std::fs::write(&driver, TODAY_DRIVER).unwrap();
    // Through tokio: the app answers on this test's runtime while the client waits.
    let today_out = tokio::process::Command::new(&python)
        .env("WAKATIME_HOME", home.path())
        .arg(&driver)
        .arg(&app.base)
        .args(["--today", "--plugin", "vim/9.0 vim-wakatime/9.0.0"])
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&today_out.stdout).trim().to_owned();
    assert_eq!(
        today_out.status.code(),
        Some(0),
        "--today failed: {printed}\n{}",
        String::from_utf8_lossy(&today_out.stderr)
    );
    let bar = app.get_ok("/api/v1/users/ada/statusbar/today").await;
    let categories = bar["data"]["categories"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let expected = if categories.len() > 1 {
        categories
            .iter()
            .map(|c| {
                format!(
                    "{} {}",
                    c["text"].as_str().unwrap(),
                    c["name"].as_str().unwrap().to_lowercase()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    } else {
        bar["data"]["grand_total"]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(printed, expected, "statusbar: {bar}");
    assert!(!printed.is_empty());

    drop(app.stop().await);
}

// ---------------------------------------------------------------------------------------
// Kodo: GET /api/v1/heartbeats?event=<base64 JSON>.

fn kodo_event(
    workspace: &str,
    file: &str,
    language: &str,
    elapsed_ms: i64,
    epoch_ms: i64,
) -> String {
    let event = json!({
        "application": "vscode",
        "elapsed": elapsed_ms,
        "epoch": epoch_ms,
        "identifier": file,
        "language": language,
        "type": "file",
        "workspace": workspace,
    });
    base64::engine::general_purpose::STANDARD.encode(event.to_string())
}

#[tokio::test]
async fn kodo_style_get_heartbeats_count_their_elapsed_time() {
    let setup = Setup::new(&["kim"]).await;
    let app = setup.app().await;
    let key = setup.key("kim").to_owned();

    // Noon UTC two days ago: the same calendar day in any time zone within ±11 h.
    let day = Utc::now().date_naive() - Duration::days(2);
    let noon = Utc
        .from_utc_datetime(&day.and_hms_opt(12, 0, 0).unwrap())
        .timestamp_millis();
    let events = [
        ("reckon", "src/main.rs", "rust", 30_000, noon),
        ("reckon", "src/main.rs", "rust", 45_000, noon + 60_000),
        ("reckon", "README.md", "markdown", 12_000, noon + 120_000),
        ("notes", "todo.txt", "plaintext", 5_000, noon + 180_000),
    ];
    for (i, (ws, file, lang, elapsed, epoch)) in events.iter().enumerate() {
        let event = q(&kodo_event(ws, file, lang, *elapsed, *epoch));
        let request = if i % 2 == 0 {
            // The key in the query string...
            app.anonymous.get(app.url(&format!(
                "/api/v1/heartbeats?event={event}&api_key={}",
                q(&key)
            )))
        } else {
            // ...or in Authorization.
            app.anonymous
                .get(app.url(&format!("/api/v1/heartbeats?event={event}")))
                .header("authorization", basic(&key))
        };
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status().as_u16(),
            204,
            "{:?}",
            response.text().await
        );
    }
    // A bad key is refused.
    let response = app
        .anonymous
        .get(app.url(&format!(
            "/api/v1/heartbeats?event={}&api_key=not-a-key",
            q(&kodo_event("x", "y", "z", 1, noon))
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);

    let expected = json!({
        "notes": [{"application": "vscode", "type": "file", "identifier": "todo.txt", "elapsed": 5_000, "language": "plaintext"}],
        "reckon": [
            {"application": "vscode", "type": "file", "identifier": "README.md", "elapsed": 12_000, "language": "markdown"},
            {"application": "vscode", "type": "file", "identifier": "src/main.rs", "elapsed": 75_000, "language": "rust"},
        ],
    });
    let stats = app.get_ok("/api/v1/users/kim/kodo/stats").await;
    assert_eq!(sorted_kodo(&stats), expected, "{stats}");
    let daily = app.get_ok("/api/v1/users/kim/kodo/stats/daily").await;
    let daily = daily.as_object().unwrap_or_else(|| panic!("{daily}"));
    assert_eq!(daily.len(), 1, "{daily:?}");
    assert_eq!(sorted_kodo(&daily[&day.to_string()]), expected, "{daily:?}");

    drop(app.stop().await);
}

/// Each workspace's items sorted by identifier, for an order-free comparison.
fn sorted_kodo(stats: &Value) -> Value {
    let mut out = serde_json::Map::new();
    for (ws, items) in stats.as_object().unwrap_or_else(|| panic!("{stats}")) {
        let mut items = items.as_array().unwrap().clone();
        items.sort_by(|a, b| a["identifier"].as_str().cmp(&b["identifier"].as_str()));
        out.insert(ws.clone(), Value::Array(items));
    }
    Value::Object(out)
}

// ---------------------------------------------------------------------------------------
// The 30-day pattern and its independent totals.

/// A small deterministic generator (Knuth's MMIX LCG), so no crate decides the pattern.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len() as u64) as usize]
    }
}

/// What a request says once for all of its heartbeats.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Client {
    /// The name the server should parse from the User-Agent (compared without case).
    editor: &'static str,
    os: &'static str,
    user_agent: &'static str,
    machine: &'static str,
}

const CLIENTS: &[Client] = &[
    Client {
        editor: "vim",
        os: "linux",
        user_agent: "wakatime/13.1.0 (Linux-6.1.0-18-amd64-x86_64-with-glibc2.36) Python3.11.2.final.0 vim/9.0.1378 vim-wakatime/9.0.0",
        machine: "desk",
    },
    Client {
        editor: "vscode",
        os: "linux",
        user_agent: "wakatime/13.1.0 (Linux-6.1.0-18-amd64-x86_64-with-glibc2.36) Python3.11.2.final.0 vscode/1.85.1 vscode-wakatime/4.0.0",
        machine: "desk",
    },
    Client {
        editor: "emacs",
        os: "windows",
        user_agent: "wakatime/13.1.0 (Windows-10-10.0.19045-SP0) Python3.11.7.final.0 emacs/29.1 emacs-wakatime/1.0.2",
        machine: "gaming-pc",
    },
];

#[derive(Clone, Debug)]
struct Beat {
    time_ms: i64,
    entity: String,
    project: &'static str,
    language: &'static str,
    category: &'static str,
    branch: &'static str,
    is_write: bool,
    client: usize,
}

impl Beat {
    fn json(&self) -> Value {
        json!({
            "entity": self.entity,
            "type": "file",
            // Multiples of 250 ms are exact in binary floats: no rounding to argue about.
            "time": self.time_ms as f64 / 1000.0,
            "project": self.project,
            "language": self.language,
            "category": self.category,
            "branch": self.branch,
            "is_write": self.is_write,
            "user_agent": CLIENTS[self.client].user_agent,
        })
    }
}

const PROJECTS: &[(&str, &[&str])] = &[
    ("reckon", &["Rust", "TOML", "Markdown"]),
    ("dashboard", &["TypeScript", "CSS"]),
    ("infra", &["HCL", "Bash"]),
];
const CATEGORIES: &[&str] = &["coding", "debugging", "writing tests", "code reviewing"];
const BRANCHES: &[&str] = &["main", "feature-a", "fix-b"];
/// Pauses inside a session, in ms: around the 10-minute timeout on purpose.
const GAPS_MS: &[i64] = &[
    30_000, 45_250, 60_000, 120_000, 120_500, 300_000, 599_000, 599_750, 600_000, 600_250, 900_000,
    1_800_000,
];

/// Europe/Berlin's UTC offset at an instant, from the EU rule (since 1996): summer time
/// from 01:00 UTC on March's last Sunday to 01:00 UTC on October's last Sunday.
fn berlin_offset_ms(utc_ms: i64) -> i64 {
    let t = DateTime::from_timestamp_millis(utc_ms).unwrap();
    let year = t.year();
    let last_sunday = |month: u32| {
        let mut d = NaiveDate::from_ymd_opt(year, month + 1, 1).unwrap() - Duration::days(1);
        while d.weekday() != Weekday::Sun {
            d -= Duration::days(1);
        }
        Utc.from_utc_datetime(&d.and_hms_opt(1, 0, 0).unwrap())
            .timestamp_millis()
    };
    if utc_ms >= last_sunday(3) && utc_ms < last_sunday(10) {
        2 * 3_600_000
    } else {
        3_600_000
    }
}

fn berlin_date(utc_ms: i64) -> NaiveDate {
    DateTime::from_timestamp_millis(utc_ms + berlin_offset_ms(utc_ms))
        .unwrap()
        .date_naive()
}

/// The UTC instant of a Berlin wall-clock time (the pattern never lands in a DST gap:
/// sessions start between 07:00 and 23:59).
fn berlin_instant(date: NaiveDate, minute_of_day: i64) -> i64 {
    let naive = Utc
        .from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap())
        .timestamp_millis()
        + minute_of_day * MINUTE_MS;
    let guess = naive - berlin_offset_ms(naive);
    naive - berlin_offset_ms(guess)
}

/// Berlin midnights strictly inside (a, b).
fn midnights_between(a: i64, b: i64) -> Vec<i64> {
    let mut out = Vec::new();
    let mut day = berlin_date(a) + Duration::days(1);
    loop {
        let m = berlin_instant(day, 0);
        if m >= b {
            return out;
        }
        if m > a {
            out.push(m);
        }
        day += Duration::days(1);
    }
}

/// The scripted pattern: `days` whole Berlin days ending yesterday.
fn pattern(today: NaiveDate, days: i64) -> Vec<Beat> {
    let mut rng = Lcg(0x5eed_2024);
    let mut beats = Vec::new();
    for d in (1..=days).rev() {
        let date = today - Duration::days(d);
        let mut minute = 7 * 60 + rng.below(120) as i64;
        // Normal sessions start by 20:00 and stop taking beats at 22:00; every fourth day
        // but yesterday then has one more, from 23:30 across midnight (to about 00:18).
        let sessions = 1 + rng.below(3);
        let crossing = d % 4 == 0 && d > 1;
        let late = berlin_instant(date, 22 * 60);
        for s in 0..sessions + u64::from(crossing) {
            let cross = crossing && s == sessions;
            if cross {
                minute = 23 * 60 + 30;
            } else if minute > 20 * 60 {
                continue;
            }
            let mut t = berlin_instant(date, minute) + 250 * rng.below(4) as i64;
            let mut project = rng.below(PROJECTS.len() as u64) as usize;
            let mut client = rng.below(CLIENTS.len() as u64) as usize;
            let mut category = *rng.pick(CATEGORIES);
            let mut branch = *rng.pick(BRANCHES);
            let count = if cross { 25 } else { 4 + rng.below(20) };
            for i in 0..count {
                // Group switches inside a session.
                if i > 0 && rng.below(5) == 0 {
                    match rng.below(4) {
                        0 => project = rng.below(PROJECTS.len() as u64) as usize,
                        1 => client = rng.below(CLIENTS.len() as u64) as usize,
                        2 => category = *rng.pick(CATEGORIES),
                        _ => branch = *rng.pick(BRANCHES),
                    }
                }
                let (name, languages) = PROJECTS[project];
                let language = *rng.pick(languages);
                beats.push(Beat {
                    time_ms: t,
                    entity: format!(
                        "/home/dev/{name}/{}.{}",
                        rng.below(4),
                        language.to_lowercase()
                    ),
                    project: name,
                    language,
                    category,
                    branch,
                    is_write: rng.below(3) == 0,
                    client,
                });
                t += if cross { 120_000 } else { *rng.pick(GAPS_MS) };
                if !cross && t > late {
                    break;
                }
            }
            let end_minute = (t - berlin_instant(date, 0)) / MINUTE_MS;
            minute = end_minute + 20 + rng.below(90) as i64;
        }
    }
    // No two beats share an instant (so "earlier" is never a tie).
    beats.sort_by_key(|b| b.time_ms);
    for w in beats.windows(2) {
        assert!(w[0].time_ms < w[1].time_ms, "the pattern overlaps itself");
    }
    beats
}

/// Totals per day and dimension, in ms: the rules, written here from the spec.
#[derive(Debug, Default, PartialEq)]
struct Expected {
    /// day -> dimension -> name -> ms; the dimension "total" holds the day's total as "".
    days: BTreeMap<NaiveDate, BTreeMap<&'static str, BTreeMap<String, i64>>>,
}

impl Expected {
    fn compute(beats: &[Beat]) -> Expected {
        let mut sorted = beats.to_vec();
        sorted.sort_by_key(|b| b.time_ms);
        let mut out = Expected::default();
        for w in sorted.windows(2) {
            let (earlier, later) = (&w[0], &w[1]);
            let gap = later.time_ms - earlier.time_ms;
            if gap >= TIMEOUT_MS {
                continue;
            }
            // Split the credited stretch at each local midnight.
            let mut cuts = vec![earlier.time_ms];
            cuts.extend(midnights_between(earlier.time_ms, later.time_ms));
            cuts.push(later.time_ms);
            for part in cuts.windows(2) {
                let (from, to) = (part[0], part[1]);
                out.credit(berlin_date(from), earlier, to - from);
            }
        }
        out
    }

    fn credit(&mut self, day: NaiveDate, beat: &Beat, ms: i64) {
        let client = &CLIENTS[beat.client];
        let dims = self.days.entry(day).or_default();
        for (dim, name) in [
            ("total", String::new()),
            ("projects", beat.project.to_owned()),
            ("languages", beat.language.to_owned()),
            ("editors", client.editor.to_owned()),
            ("operating_systems", client.os.to_owned()),
            ("machines", client.machine.to_owned()),
            ("categories", beat.category.to_owned()),
            ("branches", beat.branch.to_owned()),
            (
                // Files, per project (the API lists them under `project=`).
                "entities",
                format!("{}\u{0}{}", beat.project, beat.entity),
            ),
        ] {
            *dims.entry(dim).or_default().entry(name).or_insert(0) += ms;
        }
    }

    fn day(&self, day: NaiveDate, dim: &str) -> BTreeMap<String, i64> {
        self.days
            .get(&day)
            .and_then(|d| d.get(dim))
            .cloned()
            .unwrap_or_default()
    }

    fn all(&self, dim: &str) -> BTreeMap<String, i64> {
        let mut out = BTreeMap::new();
        for dims in self.days.values() {
            for (name, ms) in dims.get(dim).into_iter().flatten() {
                *out.entry(name.clone()).or_insert(0) += ms;
            }
        }
        out
    }
}

/// Sends `beats` in bulks of 25, each bulk to one client (User-Agent, machine), in the
/// order given; every item must come back 201.
async fn send_bulks(app: &TestApp, key: &str, beats: &[Beat], prefix: &str) {
    // Consecutive runs of one client, cut into 25s, keep the given order of the beats.
    let mut bulks: Vec<(usize, Vec<&Beat>)> = Vec::new();
    for beat in beats {
        let joins = bulks
            .last()
            .is_some_and(|(client, bulk)| *client == beat.client && bulk.len() < 25);
        if joins {
            bulks.last_mut().unwrap().1.push(beat);
        } else {
            bulks.push((beat.client, vec![beat]));
        }
    }
    for (client, bulk) in bulks {
        let body = Value::Array(bulk.iter().map(|b| b.json()).collect());
        let response = app
            .anonymous
            .post(app.url(&format!("{prefix}/users/current/heartbeats.bulk")))
            .header("authorization", basic(key))
            .header("content-type", "application/json")
            .header("user-agent", CLIENTS[client].user_agent)
            .header("x-machine-name", CLIENTS[client].machine)
            .header("timezone", "Europe/Berlin")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
        let answer: Value = response.json().await.unwrap();
        let responses = answer["responses"].as_array().unwrap();
        assert_eq!(responses.len(), bulk.len(), "{answer}");
        // 201 for duplicates too: the real client re-queues (and resends forever) any
        // item answered other than 201/202 or 400.
        for r in responses {
            assert_eq!(r[1], 201, "{answer}");
        }
    }
}

fn shuffle<T>(rng: &mut Lcg, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[tokio::test]
async fn thirty_day_pattern_matches_independent_totals() {
    let users = ["in-order", "shuffled", "doubled"];
    let setup = Setup::new(&users).await;
    let app = setup.app().await;

    let today = berlin_date(Utc::now().timestamp_millis());
    // 29 whole days ending yesterday: inside `last_30_days` whether or not it counts today.
    let days = 29;
    let beats = pattern(today, days);
    let expected = Expected::compute(&beats);
    // The pattern does what it claims: gaps of exactly 600 s and of 599 s, and days
    // that begin with time carried over midnight.
    let gaps: Vec<i64> = beats
        .windows(2)
        .map(|w| w[1].time_ms - w[0].time_ms)
        .collect();
    assert!(
        gaps.contains(&600_000) && gaps.contains(&599_000),
        "tune the LCG seed"
    );
    assert!(
        beats
            .windows(2)
            .any(|w| berlin_date(w[0].time_ms) != berlin_date(w[1].time_ms)
                && w[1].time_ms - w[0].time_ms < TIMEOUT_MS),
        "no session crosses midnight"
    );

    let mut rng = Lcg(42);
    // In order, on the main prefix.
    send_bulks(&app, setup.key("in-order"), &beats, "/api/v1").await;
    // Shuffled, on the compat prefix.
    let mut shuffled = beats.clone();
    shuffle(&mut rng, &mut shuffled);
    send_bulks(
        &app,
        setup.key("shuffled"),
        &shuffled,
        "/api/compat/wakatime/v1",
    )
    .await;
    // Shuffled with every heartbeat twice: duplicates count once.
    let mut doubled: Vec<Beat> = beats.iter().chain(beats.iter()).cloned().collect();
    shuffle(&mut rng, &mut doubled);
    send_bulks(&app, setup.key("doubled"), &doubled, "/api/v1").await;

    let first = today - Duration::days(days);
    let last = today - Duration::days(1);
    let case_free = ["editors", "operating_systems"];
    let dims = [
        "projects",
        "languages",
        "editors",
        "operating_systems",
        "machines",
        "categories",
        "branches",
    ];
    for user in users {
        let body = app
            .get_ok(&format!(
                "/api/v1/users/{user}/summaries?start={first}&end={last}"
            ))
            .await;
        let data = body["data"].as_array().unwrap();
        assert_eq!(data.len() as i64, days, "{user}: one entry per day");
        let mut sum = 0;
        for (i, entry) in data.iter().enumerate() {
            let day = first + Duration::days(i as i64);
            assert_eq!(entry["range"]["date"], day.to_string(), "{user}");
            assert_eq!(entry["range"]["timezone"], "Europe/Berlin", "{user}");
            let total = expected.day(day, "total").values().sum::<i64>();
            assert_eq!(
                secs_to_ms(&entry["grand_total"]["total_seconds"]),
                total,
                "{user} {day} total"
            );
            sum += total;
            for dim in dims {
                let (mut got, mut want) = (items_ms(&entry[dim]), expected.day(day, dim));
                if case_free.contains(&dim) {
                    (got, want) = (lower_keys(&got), lower_keys(&want));
                }
                assert_eq!(got, want, "{user} {day} {dim}");
            }
        }
        assert_eq!(
            secs_to_ms(&body["cumulative_total"]["seconds"]),
            sum,
            "{user}"
        );
        // WakaTime averages over the days with time (the others are "holidays"); accept
        // that or all days.
        let average = secs_to_ms(&body["daily_average"]["seconds"]);
        let active = expected.days.len() as i64;
        assert!(
            (average - sum / active).abs() <= 1000 || (average - sum / days).abs() <= 1000,
            "{user}: daily_average {average} ms for {sum} ms over {days} days ({active} active)"
        );

        // Files, under project=reckon, summed over the days.
        let body = app
            .get_ok(&format!(
                "/api/v1/users/{user}/summaries?start={first}&end={last}&project=reckon"
            ))
            .await;
        let mut files = BTreeMap::new();
        for entry in body["data"].as_array().unwrap() {
            for (name, ms) in items_ms(&entry["entities"]) {
                *files.entry(name).or_insert(0) += ms;
            }
        }
        let want: BTreeMap<String, i64> = expected
            .all("entities")
            .into_iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("reckon\u{0}")
                    .map(|file| (file.to_owned(), v))
            })
            .collect();
        assert_eq!(files, want, "{user} entities of reckon");

        // Stats: every day of the pattern lies inside both ranges.
        let all: i64 = expected.all("total").values().sum();
        for range in ["last_30_days", "all_time"] {
            let stats = app
                .get_ok(&format!("/api/v1/users/{user}/stats/{range}"))
                .await;
            let data = &stats["data"];
            assert_eq!(secs_to_ms(&data["total_seconds"]), all, "{user} {range}");
            for dim in dims {
                if data.get(dim).is_none() && dim == "branches" {
                    continue; // WakaTime's stats have no branches
                }
                let (mut got, mut want) = (items_ms(&data[dim]), expected.all(dim));
                if case_free.contains(&dim) {
                    (got, want) = (lower_keys(&got), lower_keys(&want));
                }
                assert_eq!(got, want, "{user} {range} {dim}");
            }
        }
    }

    drop(app.stop().await);
}

// ---------------------------------------------------------------------------------------
// Bad input.

#[tokio::test]
async fn bad_items_keys_and_oversized_bulks_are_refused_precisely() {
    let setup = Setup::new(&["bob"]).await;
    let app = setup.app().await;
    let key = setup.key("bob").to_owned();
    let now = Utc::now().timestamp_millis() as f64 / 1000.0;
    let beat = |entity: Option<&str>, time: f64| {
        let mut b = json!({"type": "file", "time": time, "project": "p", "language": "Rust"});
        if let Some(e) = entity {
            b["entity"] = json!(e);
        }
        b
    };
    let post = |path: &str, auth: Option<String>, body: Value| {
        let mut request = app.anonymous.post(app.url(path));
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request
            .header("content-type", "application/json")
            .header("user-agent", CLIENTS[0].user_agent)
            .body(body.to_string())
            .send()
    };

    // One answer per item, in order: the valid ones 201, the bad ones 400 with a reason.
    let body = json!([
        beat(Some("/a.rs"), now - 600.0),
        beat(None, now - 500.0),
        beat(Some("/b.rs"), now - 2.0 * 365.0 * 86_400.0),
        beat(Some("/c.rs"), now + 2.0 * 3_600.0),
        beat(Some("/d.rs"), now - 400.0),
    ]);
    for prefix in ["/api/v1", "/api/compat/wakatime/v1"] {
        for path in [
            format!("{prefix}/users/current/heartbeats.bulk"),
            format!("{prefix}/users/bob/heartbeats.bulk"),
            format!("{prefix}/heartbeats.bulk"),
        ] {
            let response = post(&path, Some(basic(&key)), body.clone()).await.unwrap();
            assert_eq!(response.status().as_u16(), 202, "{path}");
            let answer: Value = response.json().await.unwrap();
            let r = answer["responses"]
                .as_array()
                .unwrap_or_else(|| panic!("{answer}"));
            let codes: Vec<i64> = r.iter().map(|x| x[1].as_i64().unwrap()).collect();
            assert_eq!(codes, [201, 400, 400, 400, 201], "{path}: {answer}");
            for bad in &r[1..4] {
                let reason = bad[0]["error"].as_str().unwrap_or("");
                assert!(!reason.is_empty(), "{path}: a reason: {answer}");
            }
            assert!(r[0][0]["data"].is_object(), "{answer}");
        }
    }

    // A single heartbeat, with each way of presenting the key.
    for (path, auth) in [
        (
            "/api/v1/users/current/heartbeats".to_owned(),
            Some(basic(&key)),
        ),
        (
            "/api/v1/heartbeats".to_owned(),
            Some(format!("Bearer {key}")),
        ),
        (
            format!("/api/compat/wakatime/v1/users/current/heartbeats?api_key={key}"),
            None,
        ),
    ] {
        let response = post(&path, auth, beat(Some("/e.rs"), now - 300.0))
            .await
            .unwrap();
        assert!(
            matches!(response.status().as_u16(), 201 | 202),
            "{path}: {}",
            response.status()
        );
    }

    // Keys: not a UUID, or an unknown UUID: 401 with a JSON code.
    for bad in ["not-a-key", "00000000-0000-4000-8000-000000000000"] {
        let response = post(
            "/api/v1/users/current/heartbeats.bulk",
            Some(basic(bad)),
            json!([beat(Some("/a.rs"), now)]),
        )
        .await
        .unwrap();
        assert_eq!(response.status().as_u16(), 401, "{bad}");
        let answer: Value = response.json().await.unwrap();
        assert!(answer["code"].is_string(), "{answer}");
        assert!(answer["message"].is_string(), "{answer}");
    }

    // More than the client's 25 per request is fine; more than 1000 is not.
    let many = |n: usize| {
        Value::Array(
            (0..n)
                .map(|i| beat(Some(&format!("/m{i}.rs")), now - 3_000.0 + i as f64 * 0.25))
                .collect(),
        )
    };
    let response = post(
        "/api/v1/users/current/heartbeats.bulk",
        Some(basic(&key)),
        many(26),
    )
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 202);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["responses"].as_array().unwrap().len(), 26);
    let response = post(
        "/api/v1/users/current/heartbeats.bulk",
        Some(basic(&key)),
        many(1001),
    )
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["code"], "too_many_heartbeats", "{answer}");

    drop(app.stop().await);
}
