//! The API keys' conformance suite (`reckon::store::KeyStore`): keys are found by id with
//! their hash, listed, and revoked once. `keys_conformance!` expands to one named test
//! per case for each backend.

use reckon::store::{ApiKeyRecord, KeyStore};

fn key(id: &str, source: &str, name: Option<&str>) -> ApiKeyRecord {
    ApiKeyRecord {
        id: id.into(),
        source: source.into(),
        name: name.map(Into::into),
        hash: id.as_bytes().to_vec(),
        created_at: String::new(),
        revoked_at: None,
    }
}

async fn a_key_is_found_by_id_and_revoked_once(store: &dyn KeyStore) {
    // API keys.
    let key = ApiKeyRecord {
        id: "abcdefghijkl".into(),
        source: "ci".into(),
        name: Some("runner".into()),
        hash: vec![1, 2, 3],
        created_at: String::new(),
        revoked_at: None,
    };
    store.create_api_key(key).await.unwrap();
    let got = store.api_key("abcdefghijkl").await.unwrap().unwrap();
    assert_eq!(
        (got.source.as_str(), got.hash.as_slice()),
        ("ci", &[1u8, 2, 3][..])
    );
    assert!(store.revoke_api_key("abcdefghijkl").await.unwrap());
    assert!(!store.revoke_api_key("abcdefghijkl").await.unwrap());
    assert!(store
        .api_key("abcdefghijkl")
        .await
        .unwrap()
        .unwrap()
        .revoked_at
        .is_some());
    assert_eq!(store.api_keys().await.unwrap().len(), 1);
}

async fn revoking_is_idempotent_and_a_revoked_key_is_no_longer_live(store: &dyn KeyStore) {
    store
        .create_api_key(key("key-one-0001", "ci", None))
        .await
        .unwrap();
    store
        .create_api_key(key("key-two-0002", "ci", None))
        .await
        .unwrap();
    assert!(!store.revoke_api_key("no-such-key").await.unwrap());
    assert!(store.revoke_api_key("key-one-0001").await.unwrap());
    for _ in 0..2 {
        assert!(
            !store.revoke_api_key("key-one-0001").await.unwrap(),
            "a revoked key is not live: revoking it again changes nothing"
        );
    }
    let revoked = store.api_key("key-one-0001").await.unwrap().unwrap();
    let revoked_at = revoked.revoked_at.clone().expect("revoked");
    // A second revoke keeps the first revocation time.
    assert!(!store.revoke_api_key("key-one-0001").await.unwrap());
    assert_eq!(
        store
            .api_key("key-one-0001")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        Some(revoked_at)
    );
    // The other key is untouched, and revoking it works once too.
    assert_eq!(
        store
            .api_key("key-two-0002")
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );
    assert!(store.revoke_api_key("key-two-0002").await.unwrap());
    assert!(!store.revoke_api_key("key-two-0002").await.unwrap());
    // Revoked keys are still listed, as revoked.
    let listed = store.api_keys().await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|k| k.revoked_at.is_some()));
}

async fn keys_are_listed_with_their_source_name_and_hash(store: &dyn KeyStore) {
    assert!(store.api_keys().await.unwrap().is_empty());
    assert!(store.api_key("key-none-000").await.unwrap().is_none());
    store
        .create_api_key(key("key-ci-00001", "ci", Some("runner")))
        .await
        .unwrap();
    store
        .create_api_key(key("key-srv-0001", "server-events", None))
        .await
        .unwrap();
    let mut listed = store.api_keys().await.unwrap();
    listed.sort_by(|a, b| a.id.cmp(&b.id));
    let seen: Vec<_> = listed
        .iter()
        .map(|k| {
            (
                k.id.as_str(),
                k.source.as_str(),
                k.name.as_deref(),
                k.hash.as_slice(),
                k.revoked_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "key-ci-00001",
                "ci",
                Some("runner"),
                &b"key-ci-00001"[..],
                false
            ),
            (
                "key-srv-0001",
                "server-events",
                None,
                &b"key-srv-0001"[..],
                false
            ),
        ]
    );
    assert!(
        listed.iter().all(|k| !k.created_at.is_empty()),
        "the store sets the creation time"
    );
}

crate::store_conformance::store_suite!(
    borrowed:
    a_key_is_found_by_id_and_revoked_once,
    revoking_is_idempotent_and_a_revoked_key_is_no_longer_live,
    keys_are_listed_with_their_source_name_and_hash,
);
