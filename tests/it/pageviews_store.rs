//! The page-views read model's conformance suite: the same stored hits must read back
//! the same on every backend (views by range and filter, drops by reason, article
//! counts, the view sequence live counters follow, the visit check at midnight).
//! `store_conformance::store_suite!` expands to one named test per case for SQLite and
//! Elasticsearch (the stand-in, or a real cluster with `RECKON_TEST_ELASTICSEARCH_URL`).

use reckon::sources::pageviews::bots::DropReason;
use reckon::sources::pageviews::hit::{Drop, Hit, Via};
use reckon::sources::pageviews::stats::{self, Bucket, Filter, ViewQuery, DIRECT};
use reckon::sources::pageviews::store::{self as reads, ArticleCounts, PageviewStore};
use reckon::store::Store;

/// 2026-03-02T10:00:00Z.
const T0: i64 = 1_772_445_600_000;
const MIN: i64 = 60_000;

fn hit(site: &str, at: i64, path: &str, visitor: &str, referrer: Option<&str>) -> Hit {
    Hit {
        site: site.into(),
        via: Via::Beacon,
        ts_ms: at,
        name: "pageview".into(),
        path: path.into(),
        article: path.into(),
        title: None,
        referrer: referrer.map(str::to_owned),
        source: referrer.map(|r| if r == "google.com" { "Google" } else { r }.to_owned()),
        entry: referrer.is_some(),
        unique: true,
        visitor: visitor.into(),
        props: None,
    }
}

fn pv(store: &dyn Store) -> &dyn PageviewStore {
    reads::of(store).expect("the backend keeps page views")
}

fn query(site: &str, filter: Filter) -> ViewQuery {
    ViewQuery {
        site: site.into(),
        from_ms: T0,
        to_ms: T0 + 24 * 60 * MIN,
        filter,
    }
}

/// Two sites; blog.test has 4 views by 3 visitors, one custom event and one drop.
async fn seed(store: &dyn Store) {
    let mut event = hit("blog.test", T0 + 5 * MIN, "/signup", "v1", None);
    event.name = "Signup".into();
    let hits = [
        hit("blog.test", T0, "/", "v1", Some("google.com")),
        hit("blog.test", T0 + MIN, "/post", "v1", None),
        hit(
            "blog.test",
            T0 + 2 * MIN,
            "/post",
            "v2",
            Some("news.ycombinator.com"),
        ),
        hit("blog.test", T0 + 25 * 60 * MIN, "/post", "v3", None),
        hit("other.test", T0, "/", "v9", None),
        event,
    ];
    let mut envelopes: Vec<_> = hits.iter().map(Hit::envelope).collect();
    envelopes.push(
        Drop {
            site: "blog.test".into(),
            via: Via::Event,
            ts_ms: T0,
            reason: DropReason::Bot,
        }
        .envelope(),
    );
    store.write_batch(envelopes).await.unwrap();
}

pub async fn views_read_back_by_site_range_and_filter(store: &dyn Store) {
    seed(store).await;
    let all = pv(store)
        .views(&query("blog.test", Filter::default()))
        .await
        .unwrap();
    let paths: Vec<_> = all.iter().map(|v| v.path.as_str()).collect();
    // The custom event, the other site and the next day's view are not in it.
    assert_eq!(paths, ["/", "/post", "/post"]);
    assert!(all.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms));
    let post = Filter {
        page: Some("/post".into()),
        ..Filter::default()
    };
    assert_eq!(
        pv(store)
            .views(&query("blog.test", post))
            .await
            .unwrap()
            .len(),
        2
    );
    let direct = Filter {
        referrer: Some(DIRECT.into()),
        ..Filter::default()
    };
    let direct = pv(store).views(&query("blog.test", direct)).await.unwrap();
    assert_eq!(direct.len(), 1);
    assert_eq!(direct[0].referrer, None);
    let google = Filter {
        source: Some("Google".into()),
        ..Filter::default()
    };
    let google = pv(store).views(&query("blog.test", google)).await.unwrap();
    assert_eq!(google.len(), 1);
    assert_eq!(google[0].referrer.as_deref(), Some("google.com"));
}

pub async fn summaries_agree_whatever_the_backend(store: &dyn Store) {
    seed(store).await;
    let mut q = query("blog.test", Filter::default());
    q.to_ms += 24 * 60 * MIN;
    let views = pv(store).views(&q).await.unwrap();
    let labels = Bucket::Day.labels(q.from_ms, q.to_ms - 1, 10).unwrap();
    let s = stats::summarize(&views, Bucket::Day, labels, 10);
    assert_eq!(s.totals.views, 4);
    // v1 and v2 on the first day, v3 on the second.
    assert_eq!(s.totals.visitors, 3);
    assert_eq!(s.totals.entries, 2);
    // 10:00 on day one to 09:59 on day three.
    assert_eq!(s.series.len(), 3);
    assert_eq!(s.series[0].counts.views, 3);
    assert_eq!(s.pages[0].name, "/post");
    assert_eq!(s.pages[0].counts.views, 3);
    let names: Vec<_> = s.sources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Google", "news.ycombinator.com"]);
}

pub async fn views_are_read_by_origin(store: &dyn Store) {
    seed(store).await;
    let mut logged = hit("blog.test", T0 + 3 * MIN, "/post", "v4", None);
    logged.via = Via::Log;
    store.write_batch(vec![logged.envelope()]).await.unwrap();
    let of = |origin| {
        query(
            "blog.test",
            Filter {
                origin,
                ..Filter::default()
            },
        )
    };
    for (origin, want) in [
        (None, 4),
        (Some(stats::Origin::Script), 3),
        (Some(stats::Origin::Log), 1),
    ] {
        let q = of(origin);
        assert_eq!(pv(store).views(&q).await.unwrap().len(), want, "{origin:?}");
        let labels = Bucket::Day.labels(q.from_ms, q.to_ms - 1, 10).unwrap();
        let now_ms = T0 + 100 * 24 * 60 * MIN;
        let s = pv(store)
            .summary(&q, Bucket::Day, labels, 10, now_ms)
            .await
            .unwrap();
        assert_eq!(s.totals.views, want as u64, "{origin:?}");
    }
}

/// An access log imported twice: stored once, read back as log views, on every backend.
pub async fn log_lines_are_stored_once(store: &dyn Store) {
    use reckon::sources::pageviews::logs::{import, input, mask, rules};
    reckon::sources::pageviews::sites::add(store, "logs.test", &[], false, false)
        .await
        .unwrap();
    let config = reckon::settings::Config::defaults();
    let time = chrono::DateTime::from_timestamp_millis(T0)
        .unwrap()
        .format("%d/%b/%Y:%H:%M:%S +0000");
    let agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let text: String = (0..6)
        .map(|i| {
            let status = if i == 5 { 404 } else { 200 };
            format!(
                "192.0.2.{i} - - [{time}] \"GET /p{} HTTP/1.1\" {status} 5 \"-\" \"{agent}\"\n",
                i % 2
            )
        })
        .collect::<String>()
        + "not a line\n";
    // The same request twice in one second: two views, told apart by their order.
    let twice = text.lines().next().unwrap().to_owned() + "\n";
    let text = text + &twice;
    for round in 0..2 {
        let job = import::Job::new(
            store,
            &config,
            "logs.test",
            None,
            rules::Rules::new(false, false),
            mask::Mask::default(),
        )
        .await
        .unwrap();
        let bytes = std::io::Cursor::new(text.clone().into_bytes());
        let inputs: import::Inputs = Box::new(std::iter::once(input::Input::from_reader(
            "test.log".into(),
            Box::new(bytes),
        )));
        let summary = job.run(store, inputs).await.unwrap();
        assert_eq!(summary.read.views, 6);
        assert_eq!(summary.read.unparsed["shape"], 1);
        let want = if round == 0 { (6, 0) } else { (0, 6) };
        assert_eq!((summary.stored, summary.duplicates), want, "round {round}");
    }
    let q = query(
        "logs.test",
        Filter {
            origin: Some(stats::Origin::Log),
            ..Filter::default()
        },
    );
    let views = pv(store).views(&q).await.unwrap();
    assert_eq!(views.len(), 6);
    let visitors: std::collections::BTreeSet<_> = views.iter().map(|v| &v.visitor).collect();
    assert_eq!(visitors.len(), 5, "one visitor per address");
}

pub async fn drops_are_counted_by_reason(store: &dyn Store) {
    seed(store).await;
    let drops = pv(store)
        .drops("blog.test", T0, T0 + 60 * MIN)
        .await
        .unwrap();
    assert_eq!(
        drops.into_iter().collect::<Vec<_>>(),
        [("bot".to_owned(), 1)]
    );
    assert!(pv(store)
        .drops("other.test", T0, T0 + 60 * MIN)
        .await
        .unwrap()
        .is_empty());
}

pub async fn articles_count_every_view_and_the_unique_ones(store: &dyn Store) {
    seed(store).await;
    let mut refreshed = hit("blog.test", T0 + 3 * MIN, "/post", "v2", None);
    refreshed.unique = false;
    store.write_batch(vec![refreshed.envelope()]).await.unwrap();
    let counts = pv(store)
        .article_counts("blog.test", "/post")
        .await
        .unwrap();
    assert_eq!(
        counts,
        ArticleCounts {
            views: 4,
            uniques: 3
        }
    );
    let none = pv(store)
        .article_counts("blog.test", "/nothing")
        .await
        .unwrap();
    assert_eq!(none, ArticleCounts::default());
}

pub async fn live_counters_follow_the_view_sequence(store: &dyn Store) {
    assert_eq!(pv(store).last_view_seq().await.unwrap(), 0);
    seed(store).await;
    let last = pv(store).last_view_seq().await.unwrap();
    assert!(last > 0);
    let all = pv(store).views_after(0, 100).await.unwrap();
    // Views only: the custom event and the drop are not news for counters.
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(all.last().unwrap().seq, last);
    let after_first = pv(store).views_after(all[0].seq, 2).await.unwrap();
    assert_eq!(after_first, all[1..3]);
    store
        .write_batch(vec![hit("blog.test", T0, "/new", "v4", None).envelope()])
        .await
        .unwrap();
    let news = pv(store).views_after(last, 100).await.unwrap();
    assert_eq!(news.len(), 1);
    assert_eq!(
        (news[0].site.as_str(), news[0].article.as_str()),
        ("blog.test", "/new")
    );
}

pub async fn a_visit_is_seen_only_within_its_site_and_window(store: &dyn Store) {
    seed(store).await;
    let seen = |site: &'static str, visitor: &'static str, since: i64| async move {
        pv(store).visitor_seen(site, visitor, since).await.unwrap()
    };
    assert!(seen("blog.test", "v2", T0).await);
    assert!(!seen("blog.test", "v2", T0 + 3 * MIN).await);
    assert!(!seen("other.test", "v2", T0).await);
    assert!(!seen("blog.test", "nobody", 0).await);
}

/// 480 views of two sites over 75 days from 2026-01-20, spread over pages, referrers,
/// sources, entries and visitors by a fixed generator.
async fn seed_months(store: &dyn Store) {
    let t0 = 1_768_867_200_000; // 2026-01-20T00:00:00Z
    let mut state: u64 = 7;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let referrers = [None, Some("google.com"), Some("news.ycombinator.com")];
    let hits: Vec<_> = (0..480)
        .map(|i| {
            let site = if i % 4 == 0 {
                "other.test"
            } else {
                "blog.test"
            };
            let at = t0 + next(75 * 24 * 60) as i64 * MIN;
            let path = format!("/p{}", next(4));
            let visitor = format!("v{}", next(6));
            let mut h = hit(site, at, &path, &visitor, referrers[next(3) as usize]);
            h.unique = next(3) == 0;
            h.entry = next(2) == 0;
            h
        })
        .collect();
    store
        .write_batch(hits.iter().map(Hit::envelope).collect())
        .await
        .unwrap();
}

/// The summary the store answers and the one computed from its raw views.
async fn both(
    store: &dyn Store,
    q: &ViewQuery,
    bucket: Bucket,
    now_ms: i64,
) -> [stats::Summary; 2] {
    let labels = bucket.labels(q.from_ms, q.to_ms - 1, 5000).unwrap();
    let got = pv(store)
        .summary(q, bucket, labels.clone(), 5, now_ms)
        .await
        .unwrap();
    let views = pv(store).views(q).await.unwrap();
    [got, stats::summarize(&views, bucket, labels, 5)]
}

pub async fn summaries_over_months_equal_the_raw_summary(store: &dyn Store) {
    seed_months(store).await;
    let day = 24 * 60 * MIN;
    let t0 = 1_768_867_200_000;
    let filters = [
        Filter::default(),
        Filter {
            page: Some("/p2".into()),
            ..Filter::default()
        },
        Filter {
            referrer: Some(DIRECT.into()),
            ..Filter::default()
        },
        Filter {
            source: Some("Google".into()),
            ..Filter::default()
        },
        Filter {
            page: Some("/p1".into()),
            source: Some("Google".into()),
            ..Filter::default()
        },
    ];
    // Whole days, partial edges across two whole months, and "today" inside the data.
    let ranges = [
        (t0, t0 + 75 * day, t0 + 200 * day),
        (t0 + 7 * 60 * MIN, t0 + 70 * day + 5 * MIN, t0 + 200 * day),
        (t0 + 3 * day, t0 + 80 * day, t0 + 40 * day + 3 * 60 * MIN),
        // From years before the first view.
        (t0 - 900 * day + 5 * MIN, t0 + 60 * day, t0 + 200 * day),
    ];
    for (from_ms, to_ms, now_ms) in ranges {
        for filter in &filters {
            for bucket in [Bucket::Day, Bucket::Week, Bucket::Month] {
                let q = ViewQuery {
                    site: "blog.test".into(),
                    from_ms,
                    to_ms,
                    filter: filter.clone(),
                };
                let [got, want] = both(store, &q, bucket, now_ms).await;
                assert!(want.totals.views > 0, "{q:?}");
                assert_eq!(got, want, "{q:?} {bucket:?}");
            }
        }
        // Hourly series over a week.
        let q = ViewQuery {
            site: "blog.test".into(),
            from_ms,
            to_ms: from_ms + 7 * day,
            filter: Filter::default(),
        };
        let [got, want] = both(store, &q, Bucket::Hour, now_ms).await;
        assert_eq!(got, want, "{q:?} hourly");
    }
}

pub async fn a_late_view_in_a_past_day_is_counted(store: &dyn Store) {
    seed_months(store).await;
    let day = 24 * 60 * MIN;
    let t0 = 1_768_867_200_000;
    let q = ViewQuery {
        site: "blog.test".into(),
        from_ms: t0,
        to_ms: t0 + 75 * day,
        filter: Filter::default(),
    };
    let now_ms = t0 + 200 * day;
    let [before, _] = both(store, &q, Bucket::Month, now_ms).await;
    // Into a day (and month) the first read rolled up, by a visitor new that day.
    let late = hit(
        "blog.test",
        t0 + 20 * day + 60 * MIN,
        "/late",
        "late-visitor",
        None,
    );
    store.write_batch(vec![late.envelope()]).await.unwrap();
    let [after, want] = both(store, &q, Bucket::Month, now_ms).await;
    assert_eq!(after, want);
    assert_eq!(after.totals.views, before.totals.views + 1);
    assert_eq!(after.totals.visitors, before.totals.visitors + 1);
    assert!(after.pages.iter().any(|p| p.name == "/late") || after.pages.len() == 5);
}

crate::store_conformance::store_suite!(
    borrowed:
    summaries_over_months_equal_the_raw_summary,
    a_late_view_in_a_past_day_is_counted,
    views_read_back_by_site_range_and_filter,
    summaries_agree_whatever_the_backend,
    views_are_read_by_origin,
    log_lines_are_stored_once,
    drops_are_counted_by_reason,
    articles_count_every_view_and_the_unique_ones,
    live_counters_follow_the_view_sequence,
    a_visit_is_seen_only_within_its_site_and_window,
);
