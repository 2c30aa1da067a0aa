//! The journal's conformance suite (`reckon::store::Journal`): deduplication, the stored
//! events by source and day, the delivery log, stored dedup keys and projection rebuilds.
//! `journal_conformance!` expands to one named test per case for each backend.

use std::sync::Arc;

use reckon::stats::{DeliveryQuery, EventsQuery, TimeRange};
use reckon::store::Store;
use serde_json::json;

use crate::store_conformance::{duplicates, rebuild_catches_up, seed, seed_with_duplicates};

async fn duplicates_are_recorded_and_their_writes_skipped(store: Arc<dyn Store>) {
    seed(&*store).await;
    duplicates(&*store).await;
}

async fn events_page_by_source_and_day(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    // Raw events by source and day, paged by cursor.
    let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .events(&EventsQuery {
                source: "github".into(),
                day,
                after,
                limit: 4,
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        after = Some(page.last().unwrap().seq);
        seen.extend(page.into_iter().map(|e| e.delivery_id));
    }
    assert_eq!(seen, ["d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9"]);
    let days = store.event_days(None, TimeRange::default()).await.unwrap();
    assert_eq!(
        serde_json::to_value(&days).unwrap(),
        json!([
            {"source": "github", "day": "2026-03-02", "events": 9},
            {"source": "ci", "day": "2026-03-03", "events": 1},
            {"source": "github", "day": "2026-03-03", "events": 1},
        ])
    );
}

async fn the_delivery_log_is_newest_first_filterable_and_paged(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    // The delivery log: newest first, filterable, paged.
    let q = |status: Option<&str>, before, limit| DeliveryQuery {
        status: status.map(Into::into),
        before,
        limit,
        ..Default::default()
    };
    let log = store.deliveries(&q(None, None, 100)).await.unwrap();
    assert_eq!(log.len(), 13);
    assert_eq!(log[0].source, "ci");
    let dups = store
        .deliveries(&q(Some("duplicate"), None, 100))
        .await
        .unwrap();
    assert_eq!(
        dups.iter()
            .map(|d| d.delivery_id.clone().unwrap())
            .collect::<Vec<_>>(),
        ["x1", "d1"]
    );
    let page = store.deliveries(&q(None, None, 5)).await.unwrap();
    let next = store
        .deliveries(&q(None, page.last().unwrap().seq, 100))
        .await
        .unwrap();
    assert_eq!(page.len() + next.len(), 13);
}

/// Stored dedup keys are found, others not, and only under their own source.
async fn stored_dedup_keys_are_found_per_source(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    let found = store
        .stored_dedup_keys("github", &["1:d1".to_owned(), "1:never-sent".to_owned()])
        .await
        .unwrap();
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["1:d1".to_owned()]
    );
    assert!(store
        .stored_dedup_keys("other-source", &["1:d1".to_owned()])
        .await
        .unwrap()
        .is_empty());
}

/// Rebuilding the projections from the journal gives the same answers, and an event
/// stored while the rebuild runs is applied when it swaps in.
async fn a_rebuild_catches_up_with_events_stored_meanwhile(store: Arc<dyn Store>) {
    seed_with_duplicates(&*store).await;
    rebuild_catches_up(&store, "acme").await;
}

/// One named test per case, for one backend.
macro_rules! journal_conformance {
    ($backend:ident, $open:path, [$($case:ident),* $(,)?]) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $case() {
                    let subject = $open().await;
                    super::$case(subject.store.clone()).await;
                }
            )*
        }
    };
    ($($case:ident),* $(,)?) => {
        journal_conformance!(sqlite_backend, crate::store_conformance::sqlite, [$($case),*]);
        journal_conformance!(elasticsearch_backend, crate::store_conformance::elasticsearch, [$($case),*]);
    };
}

journal_conformance!(
    duplicates_are_recorded_and_their_writes_skipped,
    events_page_by_source_and_day,
    the_delivery_log_is_newest_first_filterable_and_paged,
    stored_dedup_keys_are_found_per_source,
    a_rebuild_catches_up_with_events_stored_meanwhile,
);
