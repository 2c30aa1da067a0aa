//! The server-events read model's conformance suite: the same submissions must give the
//! same listings and stats on every backend. `store_conformance::store_suite!` expands to one
//! named test per case for each backend: SQLite, and Elasticsearch (the in-process
//! stand-in, or a real cluster when `RECKON_TEST_ELASTICSEARCH_URL` is set).

use std::collections::BTreeSet;
use std::sync::Arc;

use reckon::model::{Envelope, WriteOutcome};
use reckon::sources::server_events::event::{decode_json, decode_lines, ServerEvent};
use reckon::sources::server_events::store::{self as reads, EventFilter, KeyCount, PlayerCount};
use reckon::stats::TimeRange;
use reckon::store::Store;
use serde_json::{json, Value};

const DAY: i64 = 86_400_000;
/// 2026-03-02T00:00:00Z.
const T0: i64 = 1_772_409_600_000;

fn event(src: &str, body: Value) -> ServerEvent {
    let mut events = decode_json(body.to_string().as_bytes(), Some(src)).unwrap();
    events.remove(0)
}

fn milestone(src: &str, name: &str, kind: &str) -> ServerEvent {
    event(
        src,
        json!({"type": "milestone", "src": src, "data": {"name": name, "type": kind, "milestone": format!("{kind}!"), "time": "20260202101010S"}}),
    )
}

fn game(src: &str, name: &str, ktyp: &str) -> ServerEvent {
    event(
        src,
        json!({"type": "game", "src": src, "data": {"name": name, "ktyp": ktyp, "end": "20260202111111S", "sc": "1234"}}),
    )
}

async fn store_at(
    store: &dyn Store,
    source: &str,
    at: i64,
    events: &[ServerEvent],
) -> Vec<WriteOutcome> {
    let batch: Vec<Envelope> = events.iter().map(|e| e.envelope(source, at, 100)).collect();
    store.write_batch(batch).await.unwrap()
}

fn all(source: &str) -> EventFilter {
    EventFilter {
        source: source.into(),
        range: TimeRange::default(),
        after: None,
        limit: 1000,
    }
}

async fn list(store: &dyn Store, filter: &EventFilter) -> Vec<(i64, i64, String, String, Value)> {
    reads::of(store)
        .expect("the backend keeps server events")
        .server_events(filter)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            (
                e.id,
                e.ts,
                e.kind,
                e.src,
                serde_json::from_str(e.data.get()).unwrap(),
            )
        })
        .collect()
}

pub async fn ids_are_unique_and_increasing(store: Arc<dyn Store>) {
    // Many events in one millisecond, from concurrent writers: no two share an id.
    let mut writers = Vec::new();
    for w in 0..4 {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for b in 0..5 {
                let events: Vec<ServerEvent> = (0..10)
                    .map(|i| milestone("cpo", &format!("p{w}-{b}-{i}"), "uniq"))
                    .collect();
                store_at(&*store, "dcss", T0 + 5, &events).await;
            }
        }));
    }
    for w in writers {
        w.await.unwrap();
    }
    let listed = list(&*store, &all("dcss")).await;
    assert_eq!(listed.len(), 200);
    let ids: Vec<i64> = listed.iter().map(|e| e.0).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids increase: {ids:?}");
    assert!(listed.iter().all(|e| e.1 == T0 + 5));
}

pub async fn a_day_is_half_open_and_in_accepted_order(store: Arc<dyn Store>) {
    store_at(
        &*store,
        "dcss",
        T0 - 1,
        &[milestone("cpo", "before", "uniq")],
    )
    .await;
    store_at(&*store, "dcss", T0, &[milestone("cpo", "first", "uniq")]).await;
    store_at(
        &*store,
        "dcss",
        T0 + DAY - 1,
        &[milestone("cpo", "last", "rune")],
    )
    .await;
    store_at(
        &*store,
        "dcss",
        T0 + DAY,
        &[milestone("cpo", "after", "uniq")],
    )
    .await;
    let day = EventFilter {
        range: TimeRange {
            from: Some(T0),
            to: Some(T0 + DAY),
        },
        ..all("dcss")
    };
    let names: Vec<String> = list(&*store, &day)
        .await
        .into_iter()
        .map(|e| e.4["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["first", "last"]);
}

pub async fn following_has_no_gaps_or_duplicates_while_events_arrive(store: Arc<dyn Store>) {
    let mut seen = Vec::new();
    let mut after = None;
    let mut written = 0;
    for round in 0..12 {
        // Between pages, more events arrive.
        let events: Vec<ServerEvent> = (0..5)
            .map(|i| game("cao", &format!("r{round}-{i}"), "mon"))
            .collect();
        store_at(&*store, "dcss", T0 + round, &events).await;
        written += 5;
        let page = list(
            &*store,
            &EventFilter {
                after,
                limit: 3,
                ..all("dcss")
            },
        )
        .await;
        if let Some(last) = page.last() {
            after = Some(last.0);
        }
        seen.extend(
            page.into_iter()
                .map(|e| e.4["name"].as_str().unwrap().to_owned()),
        );
    }
    loop {
        let page = list(
            &*store,
            &EventFilter {
                after,
                limit: 7,
                ..all("dcss")
            },
        )
        .await;
        let Some(last) = page.last() else { break };
        after = Some(last.0);
        seen.extend(
            page.into_iter()
                .map(|e| e.4["name"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(seen.len(), written, "{seen:?}");
    let unique: BTreeSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), written);
    // In the order they were accepted.
    let expected: Vec<String> = (0..12)
        .flat_map(|r| (0..5).map(move |i| format!("r{r}-{i}")))
        .collect();
    assert_eq!(seen, expected);
}

pub async fn a_line_at_a_known_offset_is_stored_once(store: Arc<dyn Store>) {
    let line = "v=0.25.1:name=Blork:race=Minotaur:cls=Fighter:type=uniq:milestone=killed Sigmund.:time=20260102030405S\n";
    let body = format!("{line}{line}");
    let first = decode_lines(body.as_bytes(), None, "cpo", Some(("milestones", 0))).unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(
        store_at(&*store, "dcss", T0, &first).await,
        [WriteOutcome::Accepted, WriteOutcome::Accepted]
    );
    // The shipper sends the same lines again after a crash: nothing new is stored.
    let again = decode_lines(body.as_bytes(), None, "cpo", Some(("milestones", 0))).unwrap();
    assert_eq!(
        store_at(&*store, "dcss", T0 + 1, &again).await,
        [WriteOutcome::Duplicate, WriteOutcome::Duplicate]
    );
    // The same offset in another server's file is another line.
    let other = decode_lines(line.as_bytes(), None, "cao", Some(("milestones", 0))).unwrap();
    assert_eq!(
        store_at(&*store, "dcss", T0 + 2, &other).await,
        [WriteOutcome::Accepted]
    );
    let listed = list(&*store, &all("dcss")).await;
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0].4["milestone"], "killed Sigmund.");
    assert_eq!(listed[0].2, "milestone");
}

pub async fn sources_are_kept_apart(store: Arc<dyn Store>) {
    store_at(&*store, "dcss", T0, &[milestone("cpo", "a", "uniq")]).await;
    store_at(&*store, "crawl-ci", T0, &[milestone("cpo", "b", "uniq")]).await;
    let a = list(&*store, &all("dcss")).await;
    let b = list(&*store, &all("crawl-ci")).await;
    assert_eq!(a.len(), 1);
    assert_eq!(b.len(), 1);
    assert_eq!(a[0].4["name"], "a");
    let stats = reads::of(&*store)
        .unwrap()
        .server_event_stats("crawl-ci", TimeRange::default(), 10)
        .await
        .unwrap();
    assert_eq!(stats.days.len(), 1);
    assert_eq!(stats.days[0].count, 1);
}

pub async fn data_comes_back_whole(store: Arc<dyn Store>) {
    let data = json!({"name": "Ünïcode ☃", "nested": {"list": [1, 2.5, null, true]}, "place": "D:2", "empty": ""});
    let e = event("cpo", json!({"type": "custom", "src": "cpo", "data": data}));
    store_at(&*store, "dcss", T0, &[e]).await;
    let listed = list(&*store, &all("dcss")).await;
    assert_eq!(listed[0].4, data);
    assert_eq!(listed[0].2, "custom");
    assert_eq!(listed[0].3, "cpo");
}

pub async fn stats_count_days_milestones_games_and_players(store: Arc<dyn Store>) {
    store_at(
        &*store,
        "dcss",
        T0 + 10,
        &[
            milestone("cpo", "ann", "uniq"),
            milestone("cpo", "ann", "uniq"),
            milestone("cpo", "bob", "rune"),
            game("cpo", "ann", "winning"),
            game("cpo", "ann", "mon"),
            game("cpo", "bob", "mon"),
            game("cpo", "bob", "mon"),
        ],
    )
    .await;
    store_at(
        &*store,
        "dcss",
        T0 + DAY + 10,
        &[
            game("cao", "cat", "winning"),
            game("cao", "cat", "winning"),
            game("cao", "bob", "quitting"),
            milestone("cao", "cat", "uniq"),
        ],
    )
    .await;
    // Outside the range asked for below.
    store_at(
        &*store,
        "dcss",
        T0 + 2 * DAY,
        &[game("cao", "dan", "winning")],
    )
    .await;
    let stats = reads::of(&*store)
        .unwrap()
        .server_event_stats(
            "dcss",
            TimeRange {
                from: Some(T0),
                to: Some(T0 + 2 * DAY),
            },
            2,
        )
        .await
        .unwrap();
    let days: Vec<(String, String, String, u64)> = stats
        .days
        .iter()
        .map(|d| (d.day.clone(), d.src.clone(), d.kind.clone(), d.count))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-03-02".into(), "cpo".into(), "game".into(), 4),
            ("2026-03-02".into(), "cpo".into(), "milestone".into(), 3),
            ("2026-03-03".into(), "cao".into(), "game".into(), 3),
            ("2026-03-03".into(), "cao".into(), "milestone".into(), 1),
        ]
    );
    let kc = |k: &str, c: u64| KeyCount {
        key: k.into(),
        count: c,
    };
    assert_eq!(stats.milestones, [kc("uniq", 3), kc("rune", 1)]);
    // Ties go to the key, alphabetically.
    assert_eq!(
        stats.games,
        [kc("mon", 3), kc("winning", 3), kc("quitting", 1)]
    );
    let pc = |n: &str, g: u64, w: u64| PlayerCount {
        name: n.into(),
        games: g,
        wins: w,
    };
    // cat and ann both have 2 games; cat has more wins, so she comes first; top 2 only.
    assert_eq!(stats.top_by_games, [pc("bob", 3, 0), pc("cat", 2, 2)]);
    assert_eq!(stats.top_by_wins, [pc("cat", 2, 2), pc("ann", 2, 1)]);
}

crate::store_conformance::store_suite!(
    shared:
    ids_are_unique_and_increasing,
    a_day_is_half_open_and_in_accepted_order,
    following_has_no_gaps_or_duplicates_while_events_arrive,
    a_line_at_a_known_offset_is_stored_once,
    sources_are_kept_apart,
    data_comes_back_whole,
    stats_count_days_milestones_games_and_players,
);
