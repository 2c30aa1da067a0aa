//! The stats section of the page-views benchmark: every query the dashboard's site page
//! makes, over `--stat-views` views (default 10,000,000) on `--sites` sites (50) and
//! `--days` days (730) up to now, on SQLite through the real `reckon serve`.
//!
//! Sites get views in proportion 1/(rank): the first holds about a fifth of them. Views
//! spread over pages and referrers on skewed (log-uniform) draws, with named sources,
//! entries, client-unique flags and about three views per visitor per day. They are
//! written straight into the read model's table (the journal is not what is measured),
//! after `reckon::open_store` has migrated the file and the sites were registered.
//!
//! Each query runs first cold (the first read rolls up the site's closed days), then
//! `--iterations` times; the baseline is the same query in this process the way stats
//! were read before rollups (`PageviewStore::views` over the range, then
//! `stats::summarize`), `--baseline-iterations` times. Both p50s, and their ratio.

use std::path::Path;
use std::time::Instant;

use chrono::Utc;
use reckon::settings::Config;
use reckon::sources::pageviews::stats::{self, Bucket, Filter, ViewQuery};
use reckon::sources::pageviews::store as reads;
use serde_json::Value;

use super::{admin_token, median, mib, start_reckon, status_kb, stop};

const DAY_MS: i64 = 86_400_000;
const PAGES: f64 = 400.0;
const HOSTS: [(&str, Option<&str>); 12] = [
    ("www.google.com", Some("Google")),
    ("news.ycombinator.com", Some("Hacker News")),
    ("www.bing.com", Some("Bing")),
    ("duckduckgo.com", Some("DuckDuckGo")),
    ("t.co", Some("Twitter")),
    ("www.reddit.com", Some("Reddit")),
    ("lobste.rs", None),
    ("example.org", None),
    ("blog.example.net", None),
    ("github.com", Some("GitHub")),
    ("dev.to", None),
    ("mastodon.social", Some("Mastodon")),
];
/// The target: every query's p50 below this on SQLite.
const TARGET_MS: f64 = 50.0;

pub struct StatsOptions {
    pub views: usize,
    pub sites: usize,
    pub days: i64,
    pub iterations: usize,
    pub baseline_iterations: usize,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Log-uniform in `0..n`: index 0 is the most drawn.
    fn skewed(&mut self, n: f64) -> usize {
        (n.powf(self.unit()) - 1.0) as usize
    }
}

fn site_name(i: usize) -> String {
    format!("site{i:02}.test")
}

/// Views per site: proportional to 1/(rank), summing to `total`.
fn shares(total: usize, sites: usize) -> Vec<usize> {
    let h: f64 = (1..=sites).map(|r| 1.0 / r as f64).sum();
    let mut out: Vec<usize> = (1..=sites)
        .map(|r| (total as f64 / r as f64 / h) as usize)
        .collect();
    out[0] += total - out.iter().sum::<usize>();
    out
}

/// Writes the views day by day, 200,000 per transaction; returns the seconds it took.
fn seed(db: &Path, o: &StatsOptions, end_ms: i64) -> f64 {
    let started = Instant::now();
    let mut c = rusqlite::Connection::open(db).unwrap();
    // The visitor index takes random inserts: without a large cache they go to disk.
    c.execute_batch("PRAGMA synchronous = OFF; PRAGMA cache_size = -4000000")
        .unwrap();
    let shares = shares(o.views, o.sites);
    let first_day = (end_ms - o.days * DAY_MS).div_euclid(DAY_MS);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut written = 0usize;
    let mut tx = c.transaction().unwrap();
    for d in 0..o.days {
        let day_start = (first_day + d) * DAY_MS;
        let day = chrono::DateTime::from_timestamp_millis(day_start)
            .unwrap()
            .format("%Y-%m-%d")
            .to_string();
        for (s, share) in shares.iter().enumerate() {
            // Spread the remainder over the first days so the total is exact.
            let n = share / o.days as usize + usize::from((d as usize) < share % o.days as usize);
            let site = site_name(s);
            let visitors = (n / 3).max(1) as u64;
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO pageviews (source, received_at, day, site, ts_ms, name, via, path,
                         article, referrer, ref_source, entry, is_unique, visitor)
                     VALUES ('pageviews', ?1, ?2, ?3, ?1, 'pageview', 'beacon', ?4, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .unwrap();
            for _ in 0..n {
                let ts = (day_start + (rng.unit() * DAY_MS as f64) as i64).min(end_ms - 1);
                let path = format!("/post-{}", rng.skewed(PAGES));
                let (referrer, mut source) = if rng.unit() < 0.5 {
                    (None, None)
                } else {
                    let (host, source) = HOSTS[rng.skewed(HOSTS.len() as f64)];
                    (Some(host), source)
                };
                if rng.unit() < 0.05 {
                    source = Some("newsletter");
                }
                let entry = referrer.is_some() || rng.unit() < 0.3;
                let visitor = format!(
                    "{:016x}{:016x}",
                    s as u64 * 1_000_003 + d as u64,
                    rng.next() % visitors
                );
                stmt.execute(rusqlite::params![
                    ts,
                    day,
                    site,
                    path,
                    referrer,
                    source,
                    entry,
                    rng.unit() < 0.6,
                    visitor
                ])
                .unwrap();
            }
            written += n;
        }
        if written >= 200_000 || d == o.days - 1 {
            tx.commit().unwrap();
            tx = c.transaction().unwrap();
            written = 0;
        }
        if d % 73 == 72 {
            eprintln!("  seeded {} of {} days", d + 1, o.days);
        }
    }
    tx.commit().unwrap();
    started.elapsed().as_secs_f64()
}

struct Query {
    name: &'static str,
    days: i64,
    bucket: Bucket,
    filter: Filter,
}

fn queries() -> Vec<Query> {
    let q = |name, days, bucket, filter| Query {
        name,
        days,
        bucket,
        filter,
    };
    let page = Filter {
        page: Some("/post-0".into()),
        ..Filter::default()
    };
    let referrer = Filter {
        referrer: Some("www.google.com".into()),
        ..Filter::default()
    };
    let source = Filter {
        source: Some("Hacker News".into()),
        ..Filter::default()
    };
    vec![
        q("2 years, monthly", 730, Bucket::Month, Filter::default()),
        q("7 days, hourly", 7, Bucket::Hour, Filter::default()),
        q("30 days, daily", 30, Bucket::Day, Filter::default()),
        q("30 days, daily, page", 30, Bucket::Day, page.clone()),
        q("90 days, weekly, referrer", 90, Bucket::Week, referrer),
        q("12 months, monthly", 365, Bucket::Month, Filter::default()),
        q("12 months, weekly, page", 365, Bucket::Week, page),
        q("2 years, weekly", 730, Bucket::Week, Filter::default()),
        q("2 years, monthly, source", 730, Bucket::Month, source),
    ]
}

fn url(addr: std::net::SocketAddr, site: &str, q: &Query, now_ms: i64) -> String {
    let from = chrono::DateTime::from_timestamp_millis(now_ms - q.days * DAY_MS)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut url = format!(
        "http://{addr}/api/v1/sites/{site}/stats?from={from}&interval={}",
        serde_json::to_value(q.bucket).unwrap().as_str().unwrap()
    );
    let f = &q.filter;
    for (key, value) in [
        ("page", &f.page),
        ("referrer", &f.referrer),
        ("source", &f.source),
    ] {
        if let Some(v) = value {
            url.push_str(&format!("&{key}={}", v.replace(' ', "%20")));
        }
    }
    url
}

pub async fn run(o: &StatsOptions) {
    println!(
        "\n== stats: {} views on {} sites over {} days, SQLite, through `reckon serve`",
        o.views, o.sites, o.days
    );
    let data = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    config.data_dir = data.path().to_owned();
    let store = reckon::open_store(&config).await.unwrap();
    for s in 0..o.sites {
        reckon::sources::pageviews::sites::add(store.as_ref(), &site_name(s), &[], false, false)
            .await
            .unwrap();
    }
    drop(store);
    let end_ms = Utc::now().timestamp_millis();
    let seconds = seed(&config.sqlite_path(), o, end_ms);
    let bytes = std::fs::metadata(config.sqlite_path()).map_or(0, |m| m.len());
    println!(
        "seeded in {seconds:.1} s; database {:.0} MiB; largest site {} views",
        bytes as f64 / 1048576.0,
        shares(o.views, o.sites)[0]
    );
    let mut reckon = start_reckon("reckon sqlite", data.path(), &[]).await;
    let token = admin_token(data.path());
    let client = reqwest::Client::new();
    let store = reckon::open_store(&config).await.unwrap();
    let raw = reads::of(store.as_ref()).unwrap();
    let sites = [(0, "largest"), (o.sites / 2, "median")];
    println!(
        "\n{:<34} {:>10} {:>9} {:>9} {:>12} {:>8}  target",
        "query (site)", "cold ms", "p50 ms", "p90 ms", "raw p50 ms", "ratio"
    );
    let mut all_pass = true;
    for (s, label) in sites {
        let site = site_name(s);
        for q in queries() {
            let now_ms = Utc::now().timestamp_millis();
            let url = url(reckon.addr, &site, &q, now_ms);
            let mut times = Vec::new();
            let mut first: Option<Value> = None;
            for _ in 0..=o.iterations {
                let t = Instant::now();
                let body: Value = client
                    .get(&url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                times.push(t.elapsed().as_secs_f64() * 1e3);
                assert!(body["totals"]["views"].is_u64(), "{url}: {body}");
                first.get_or_insert(body);
            }
            let cold = times.remove(0);
            let query = ViewQuery {
                site: site.clone(),
                from_ms: now_ms - q.days * DAY_MS,
                to_ms: now_ms + 1,
                filter: q.filter.clone(),
            };
            let labels = q
                .bucket
                .labels(query.from_ms, query.to_ms - 1, 5000)
                .unwrap();
            let mut raw_times = Vec::new();
            let mut raw_summary = None;
            for _ in 0..o.baseline_iterations.max(1) {
                let t = Instant::now();
                let views = raw.views(&query).await.unwrap();
                let summary = stats::summarize(&views, q.bucket, labels.clone(), 10);
                raw_times.push(t.elapsed().as_secs_f64() * 1e3);
                raw_summary = Some(summary);
            }
            // The served totals equal the raw ones (the range starts a few ms apart).
            let served = &first.unwrap()["totals"]["views"];
            let raw_views = raw_summary.unwrap().totals.views;
            assert!(
                served.as_u64().unwrap().abs_diff(raw_views) <= 1,
                "{url}: served {served}, raw {raw_views}"
            );
            let (p50, raw_p50) = (median(times.clone()), median(raw_times));
            times.sort_by(f64::total_cmp);
            let p90 = times[(times.len() * 9 / 10).min(times.len() - 1)];
            let pass = p50 < TARGET_MS;
            all_pass &= pass;
            println!(
                "{:<34} {:>10.1} {:>9.2} {:>9.2} {:>12.1} {:>8.3}  {}",
                format!("{} ({label})", q.name),
                cold,
                p50,
                p90,
                raw_p50,
                p50 / raw_p50,
                if pass { "PASS" } else { "FAIL" }
            );
        }
    }
    let rollups = rusqlite::Connection::open(config.sqlite_path())
        .and_then(|c| {
            c.query_row("SELECT COUNT(*) FROM pageview_rollups", [], |r| {
                r.get::<_, i64>(0)
            })
        })
        .unwrap_or(-1);
    println!(
        "(cold: the first read, which rolls up the site's closed days; ratio: p50 / raw p50, \
         the raw read being views over the range summarized in this process, as before rollups)"
    );
    println!(
        "rollup cells written: {rollups}; reckon peak RSS (VmHWM): {}",
        mib(status_kb(reckon.child.id().unwrap(), "VmHWM"))
    );
    println!(
        "target: every query's p50 below {TARGET_MS} ms on SQLite: {}",
        if all_pass { "PASS" } else { "FAIL" }
    );
    stop(&mut reckon).await;
}
