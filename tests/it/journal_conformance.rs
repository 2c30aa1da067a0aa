//! The journal's conformance suite (`reckon::store::Journal`): deduplication, the stored
//! events by source and day, the delivery log, stored dedup keys and projection rebuilds.
//! `journal_conformance!` expands to one named test per case for each backend.

use std::sync::Arc;

use reckon::model::ContentType;
use reckon::stats::{DeliveryQuery, EventsQuery, TimeRange};
use reckon::store::Store;
use serde_json::json;

use crate::store_conformance::{duplicates, rebuild_catches_up, seed, seed_with_duplicates};

/// Text payloads: stored byte for byte, served as JSON strings, replayed as bytes.
pub(crate) mod text {
    use std::sync::{Arc, Mutex};

    use reckon::model::{ContentType, Envelope};
    use reckon::stats::EventsQuery;
    use reckon::store::{RawEvent, Store};
    use serde_json::{json, Value};

    /// 2026-03-02T00:00:00Z.
    pub(crate) const T0: i64 = 1_772_409_600_000;
    pub(crate) const LINES: &str =
        "v=0.25:name=Blork::the:ktyp=winning\n\tcafé ✓ \"quoted\" \\ back\n";

    pub(crate) fn envelope(delivery: &str, payload: &[u8], content_type: ContentType) -> Envelope {
        Envelope {
            source: "logs".into(),
            kind: "text".into(),
            action: None,
            delivery_id: delivery.into(),
            hook_id: None,
            dedup_key: delivery.into(),
            received_at: T0,
            size: payload.len(),
            payload: payload.to_vec(),
            content_type,
            writes: Vec::new(),
        }
    }

    pub(crate) fn day_query() -> EventsQuery {
        EventsQuery {
            source: "logs".into(),
            day: chrono::DateTime::from_timestamp_millis(T0)
                .unwrap()
                .date_naive(),
            after: None,
            limit: 10,
            max_bytes: usize::MAX,
        }
    }

    /// Text and JSON side by side: each is served and replayed as it was stored.
    pub(crate) async fn text_and_json_round_trip(store: Arc<dyn Store>) {
        let batch = vec![
            envelope("t-1", LINES.as_bytes(), ContentType::Text),
            envelope("j-1", br#"{"type":"deploy","ok":true}"#, ContentType::Json),
        ];
        store.write_batch(batch).await.unwrap();

        let events = store.events(&day_query()).await.unwrap();
        let served: Vec<Value> = events
            .iter()
            .map(|e| serde_json::to_value(e).unwrap())
            .collect();
        assert_eq!(served.len(), 2);
        assert_eq!(served[0]["payload"], json!(LINES));
        assert_eq!(served[0]["content_type"], "text/plain");
        assert_eq!(served[1]["payload"], json!({"type": "deploy", "ok": true}));
        assert!(served[1].get("content_type").is_none(), "{}", served[1]);

        let replayed: Arc<Mutex<Vec<RawEvent>>> = Arc::default();
        let seen = replayed.clone();
        store
            .rebuild_projections(
                Arc::new(move |event: &RawEvent| {
                    seen.lock().unwrap().push(event.clone());
                    Vec::new()
                }),
                Arc::new(|_, _| {}),
            )
            .await
            .unwrap();
        let replayed = replayed.lock().unwrap();
        let text = replayed
            .iter()
            .find(|e| e.kind == "text" && e.payload.starts_with(b"v="));
        let text = text.expect("the text event is replayed");
        assert_eq!(text.content_type, ContentType::Text);
        assert_eq!(text.payload, LINES.as_bytes());
        let json = replayed
            .iter()
            .find(|e| e.payload.starts_with(b"{"))
            .unwrap();
        assert_eq!(json.content_type, ContentType::Json);
        let json: Value = serde_json::from_slice(&json.payload).unwrap();
        assert_eq!(json, json!({"type": "deploy", "ok": true}));
    }

    /// A duplicate of a text delivery is refused like any other, whatever its bytes.
    pub(crate) async fn text_deliveries_deduplicate(store: Arc<dyn Store>) {
        let first = envelope("t-1", b"one\n", ContentType::Text);
        let again = envelope("t-1", b"two\n", ContentType::Text);
        let outcomes = store.write_batch(vec![first]).await.unwrap();
        let again = store.write_batch(vec![again]).await.unwrap();
        assert_eq!(format!("{outcomes:?}"), "[Accepted]");
        assert_eq!(format!("{again:?}"), "[Duplicate]");
        let events = store.events(&day_query()).await.unwrap();
        assert_eq!(
            serde_json::to_value(&events[0]).unwrap()["payload"],
            "one\n"
        );
    }
}

async fn text_and_json_round_trip(store: Arc<dyn Store>) {
    text::text_and_json_round_trip(store).await;
}

async fn text_deliveries_deduplicate(store: Arc<dyn Store>) {
    text::text_deliveries_deduplicate(store).await;
}

/// A page ends with the payload that reaches `max_bytes`, and always holds one event.
async fn events_page_by_bytes(store: Arc<dyn Store>) {
    let payloads: Vec<String> = (0..5)
        .map(|i| format!(r#"{{"i":{i},"pad":"{}"}}"#, "x".repeat(100 - 16)))
        .collect();
    assert!(payloads.iter().all(|p| p.len() == 100));
    let batch = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| text::envelope(&format!("b-{i}"), p.as_bytes(), ContentType::Json))
        .collect();
    store.write_batch(batch).await.unwrap();
    let page = |after: Option<i64>, max_bytes: usize| {
        let store = store.clone();
        async move {
            let query = EventsQuery {
                after,
                max_bytes,
                ..text::day_query()
            };
            store.events(&query).await.unwrap()
        }
    };
    let first = page(None, 250).await;
    assert_eq!(first.len(), 3, "100 + 100 + 100 reaches 250");
    let rest = page(Some(first[2].seq), 250).await;
    assert_eq!(rest.len(), 2);
    assert_eq!(rest[0].payload.get(), payloads[3]);
    assert_eq!(
        page(None, 1).await.len(),
        1,
        "one event even over the budget"
    );
    assert_eq!(page(None, usize::MAX).await.len(), 5);
}

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
                max_bytes: usize::MAX,
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

crate::store_conformance::store_suite!(
    shared:
    duplicates_are_recorded_and_their_writes_skipped,
    events_page_by_source_and_day,
    events_page_by_bytes,
    the_delivery_log_is_newest_first_filterable_and_paged,
    stored_dedup_keys_are_found_per_source,
    a_rebuild_catches_up_with_events_stored_meanwhile,
    text_and_json_round_trip,
    text_deliveries_deduplicate,
);
