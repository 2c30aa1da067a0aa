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

crate::store_conformance::store_suite!(
    borrowed:
    views_read_back_by_site_range_and_filter,
    summaries_agree_whatever_the_backend,
    drops_are_counted_by_reason,
    articles_count_every_view_and_the_unique_ones,
    live_counters_follow_the_view_sequence,
    a_visit_is_seen_only_within_its_site_and_window,
);
