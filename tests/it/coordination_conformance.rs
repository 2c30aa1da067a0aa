//! The coordination conformance suite (`reckon::store::Coordination`): state documents
//! round-trip, replace, list by prefix and delete; a lock has one holder until it lapses.
//! `coordination_conformance!` expands to one named test per case for each backend.

use reckon::store::Coordination;
use serde_json::json;

/// State documents round-trip and replace, whatever their size.
async fn state_documents_round_trip_and_replace(store: &dyn Coordination) {
    assert_eq!(store.state("reconcile/acme/report").await.unwrap(), None);
    store
        .put_state("reconcile/acme/report", json!({"checks": [1, 2]}))
        .await
        .unwrap();
    store
        .put_state(
            "reconcile/acme/report",
            json!({"checks": [3], "big": "x".repeat(40_000)}),
        )
        .await
        .unwrap();
    let back = store.state("reconcile/acme/report").await.unwrap().unwrap();
    assert_eq!(back["checks"], json!([3]));
    assert_eq!(back["big"].as_str().unwrap().len(), 40_000);
}

async fn a_lock_has_one_holder_until_it_lapses(store: &dyn Coordination) {
    // The scheduler lock: one holder at a time, renewable, free once it lapses.
    assert!(store.try_lock("scheduler", "p1", 80).await.unwrap());
    assert!(!store.try_lock("scheduler", "p2", 60_000).await.unwrap());
    assert!(store.try_lock("scheduler", "p1", 80).await.unwrap());
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(store.try_lock("scheduler", "p2", 60_000).await.unwrap());
    assert!(!store.try_lock("scheduler", "p1", 60_000).await.unwrap());
    assert!(store.try_lock("other", "p1", 60_000).await.unwrap());
}

/// `states` lists exactly the keys under a prefix, in key order, up to the limit, and
/// sees the writes and deletes made just before; locks are never listed.
async fn state_documents_scan_by_prefix(store: &dyn Coordination) {
    assert!(store.states("queue/", 10).await.unwrap().is_empty());
    assert!(!store.delete_state("queue/nothing").await.unwrap());
    // Written out of order; neighbours that share all but the last character.
    for key in [
        "queue/b",
        "queue/a",
        "queue/c/1",
        "queue0",
        "queue",
        "queuf/a",
    ] {
        store.put_state(key, json!({ "k": key })).await.unwrap();
    }
    store.put_state("queue/%_", json!(1)).await.unwrap();
    assert!(store.try_lock("queue", "p1", 60_000).await.unwrap());
    let keys = |list: Vec<(String, serde_json::Value)>| -> Vec<String> {
        list.into_iter().map(|(k, _)| k).collect()
    };
    let all = store.states("queue/", 10).await.unwrap();
    assert_eq!(all[0], ("queue/%_".to_owned(), json!(1)));
    assert_eq!(all[1], ("queue/a".to_owned(), json!({"k": "queue/a"})));
    assert_eq!(
        keys(all),
        ["queue/%_", "queue/a", "queue/b", "queue/c/1"],
        "only the prefix, in key order"
    );
    assert_eq!(
        keys(store.states("queue/", 2).await.unwrap()),
        ["queue/%_", "queue/a"]
    );
    assert!(store.states("queue/", 0).await.unwrap().is_empty());
    assert_eq!(
        keys(store.states("queue/c", 10).await.unwrap()),
        ["queue/c/1"]
    );
    assert_eq!(
        keys(store.states("QUEUE/", 10).await.unwrap()),
        Vec::<String>::new(),
        "prefixes are case-sensitive"
    );
    assert_eq!(
        keys(store.states("queue/_", 10).await.unwrap()),
        Vec::<String>::new(),
        "`_` and `%` are not wildcards"
    );
    // Everything but the lock, whatever the prefix.
    assert_eq!(
        keys(store.states("", 100).await.unwrap()),
        [
            "queue",
            "queue/%_",
            "queue/a",
            "queue/b",
            "queue/c/1",
            "queue0",
            "queuf/a"
        ]
    );

    // Deletes are seen at once, and only the named key goes.
    assert!(store.delete_state("queue/a").await.unwrap());
    assert!(!store.delete_state("queue/a").await.unwrap());
    assert_eq!(store.state("queue/a").await.unwrap(), None);
    assert_eq!(
        keys(store.states("queue/", 10).await.unwrap()),
        ["queue/%_", "queue/b", "queue/c/1"]
    );
    // A replaced document is listed with its new value.
    store.put_state("queue/b", json!("new")).await.unwrap();
    assert_eq!(
        store.states("queue/b", 10).await.unwrap(),
        [("queue/b".to_owned(), json!("new"))]
    );
    // The lock is untouched by all of this.
    assert!(!store.try_lock("queue", "p2", 60_000).await.unwrap());
}

async fn delete_state_says_whether_there_was_a_document(store: &dyn Coordination) {
    assert!(!store.delete_state("cursor/acme").await.unwrap());
    store
        .put_state("cursor/acme", json!({"page": 2}))
        .await
        .unwrap();
    store.put_state("cursor/beta", json!(1)).await.unwrap();
    assert!(store.delete_state("cursor/acme").await.unwrap());
    assert!(!store.delete_state("cursor/acme").await.unwrap());
    assert_eq!(store.state("cursor/acme").await.unwrap(), None);
    assert_eq!(store.state("cursor/beta").await.unwrap(), Some(json!(1)));
    // A deleted key can be written again.
    store.put_state("cursor/acme", json!(3)).await.unwrap();
    assert_eq!(store.state("cursor/acme").await.unwrap(), Some(json!(3)));
}

/// The SQS ledger releases its mutex by renewing it with no time left.
async fn a_holder_releases_its_lock_with_a_zero_ttl(store: &dyn Coordination) {
    assert!(store.try_lock("mutex", "p1", 60_000).await.unwrap());
    assert!(!store.try_lock("mutex", "p2", 60_000).await.unwrap());
    assert!(store.try_lock("mutex", "p1", 0).await.unwrap());
    assert!(store.try_lock("mutex", "p2", 60_000).await.unwrap());
    assert!(!store.try_lock("mutex", "p1", 60_000).await.unwrap());
    // Locks are not state documents.
    assert_eq!(store.state("mutex").await.unwrap(), None);
    assert!(store.states("", 10).await.unwrap().is_empty());
}

crate::store_conformance::store_suite!(
    borrowed:
    state_documents_round_trip_and_replace,
    a_lock_has_one_holder_until_it_lapses,
    state_documents_scan_by_prefix,
    delete_state_says_whether_there_was_a_document,
    a_holder_releases_its_lock_with_a_zero_ttl,
);
