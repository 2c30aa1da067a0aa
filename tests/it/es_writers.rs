//! Several Reckon processes writing one Elasticsearch store: each holds its own writer
//! slot, so their sequence numbers (the cursors followers pass back) never collide, a
//! writer beyond the slots is refused by name, and cursor reads stay behind the settle
//! window so an event numbered earlier but landing later is not skipped.

use std::collections::{BTreeSet, HashSet};

use reckon::model::{ContentType, Envelope};
use reckon::stats::EventsQuery;
use reckon::store::elasticsearch::{slot_of, ElasticsearchConfig, ElasticsearchStore};
use reckon::store::{Journal, StoreError};

use crate::es_standin::{self, StandIn};

/// 2026-03-02T00:00:00Z.
const T0: i64 = 1_772_409_600_000;

fn envelope(delivery: &str, received_at: i64) -> Envelope {
    let payload = format!(r#"{{"delivery":"{delivery}"}}"#).into_bytes();
    Envelope {
        source: "logs".into(),
        kind: "line".into(),
        action: None,
        delivery_id: delivery.into(),
        hook_id: None,
        dedup_key: delivery.into(),
        received_at,
        size: payload.len(),
        payload,
        content_type: ContentType::Json,
        writes: Vec::new(),
    }
}

fn day_of(ms: i64) -> chrono::NaiveDate {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .date_naive()
}

async fn open(config: &ElasticsearchConfig) -> ElasticsearchStore {
    ElasticsearchStore::open(config).await.unwrap().0
}

/// Writes `batches` batches of ten deliveries named `{name}-{n}`, all received in the
/// same millisecond.
async fn write_many(store: &ElasticsearchStore, name: &str, batches: usize) {
    for b in 0..batches {
        let batch = (0..10)
            .map(|i| envelope(&format!("{name}-{}", b * 10 + i), T0))
            .collect();
        store.write_batch(batch).await.unwrap();
    }
}

/// Every event of the day, followed page by page with `after` as a consumer does.
async fn follow(store: &ElasticsearchStore, day: chrono::NaiveDate) -> Vec<(i64, String)> {
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let query = EventsQuery {
            source: "logs".into(),
            day,
            after,
            limit: 7,
            max_bytes: usize::MAX,
        };
        let page = store.events(&query).await.unwrap();
        let Some(last) = page.last() else {
            return seen;
        };
        after = Some(last.seq);
        seen.extend(page.into_iter().map(|e| (e.seq, e.delivery_id)));
    }
}

/// Two replicas numbering events in the same millisecond: every seq is unique, each
/// replica's seqs carry its own slot, and a follower paging with `after` sees them all.
#[tokio::test]
async fn two_replicas_in_the_same_millisecond_never_share_a_sequence_number() {
    let (_standin, config) = es_standin::test_cluster().await;
    let (a, b) = tokio::join!(open(&config), open(&config));
    tokio::join!(write_many(&a, "a", 20), write_many(&b, "b", 20));

    let seen = follow(&a, day_of(T0)).await;
    assert_eq!(seen.len(), 400, "a follower sees every event once");
    let seqs: HashSet<i64> = seen.iter().map(|(seq, _)| *seq).collect();
    assert_eq!(seqs.len(), 400, "no two events share a seq");
    let slots = |prefix: &str| -> BTreeSet<i64> {
        seen.iter()
            .filter(|(_, d)| d.starts_with(prefix))
            .map(|(seq, _)| slot_of(*seq))
            .collect()
    };
    let (slots_a, slots_b) = (slots("a-"), slots("b-"));
    assert_eq!(slots_a.len(), 1, "{slots_a:?}");
    assert_eq!(slots_b.len(), 1, "{slots_b:?}");
    assert_ne!(slots_a, slots_b, "each replica holds its own slot");
    assert!(
        seen.iter().all(|(seq, _)| seq / 2048 >= T0),
        "seqs keep the millisecond scale"
    );
}

/// 64 replicas hold every slot: the 65th opens (to read) but its writes are refused
/// with an error that says why, until a replica stops (releasing its slot) or is
/// dropped (its renewal task releases it).
#[tokio::test]
async fn a_writer_beyond_the_last_slot_is_refused_until_one_comes_free() {
    let (_standin, url) = StandIn::start().await;
    let mut config = reckon::settings::Config::defaults().elasticsearch;
    config.url = vec![url];
    config.index_prefix = "rk".into();
    config.follow_settle_ms = 0;
    let mut writers = Vec::new();
    for _ in 0..64 {
        writers.push(open(&config).await);
    }
    let extra = open(&config).await;
    let err = extra
        .write_batch(vec![envelope("late", T0)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::TooManyWriters { slots: 64 }),
        "{err:?}"
    );
    assert!(err.to_string().contains("too many writers"), "{err}");

    // A replica shutting down gives its slot back; the next write takes it.
    let stopping = writers.remove(0);
    stopping.release_writer_slot().await;
    extra.write_batch(vec![envelope("late", T0)]).await.unwrap();
    // Every slot is held again, so the stopped one cannot write, until a replica is
    // dropped: its renewal task releases the slot.
    let err = stopping
        .write_batch(vec![envelope("later", T0)])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::TooManyWriters { .. }), "{err:?}");
    drop(writers.remove(0));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match stopping.write_batch(vec![envelope("later", T0)]).await {
            Ok(_) => break,
            Err(StoreError::TooManyWriters { .. }) if std::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the dropped replica's slot was not freed: {e:?}"),
        }
    }
}

/// With a settle window, cursor reads leave out events numbered within it (they may
/// have company still in flight from another replica) and show older ones.
#[tokio::test]
async fn cursor_reads_stay_behind_the_settle_window() {
    let (_standin, mut config) = es_standin::test_cluster().await;
    config.follow_settle_ms = 60_000;
    let store = open(&config).await;
    let now = chrono::Utc::now().timestamp_millis();
    let old = now - 120_000;
    store.write_batch(vec![envelope("old", old)]).await.unwrap();
    store.write_batch(vec![envelope("new", now)]).await.unwrap();
    let days: BTreeSet<_> = [day_of(old), day_of(now)].into();
    let mut seen = Vec::new();
    for day in &days {
        seen.extend(follow(&store, *day).await.into_iter().map(|(_, d)| d));
    }
    assert_eq!(seen, ["old"], "the event within the window waits");

    config.follow_settle_ms = 0;
    let unsettled = open(&config).await;
    let mut seen = Vec::new();
    for day in &days {
        seen.extend(follow(&unsettled, *day).await.into_iter().map(|(_, d)| d));
    }
    assert_eq!(seen, ["old", "new"], "no window: everything written");
}
