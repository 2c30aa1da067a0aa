//! Sources declare their own storage (`store::SourceSchema`): here, SQLite data dirs
//! whose `server_events` table came from the old core migration 4 are taken over by the
//! source's own versions, and a dir from a newer Reckon's source schema is refused.

use std::path::Path;

use reckon::sources::server_events::event::decode_json;
use reckon::sources::server_events::store::{self as reads, EventFilter};
use reckon::stats::TimeRange;
use reckon::store::sqlite::{SqliteOptions, SqliteStore};
use reckon::store::{Journal, StoreError};
use serde_json::json;

/// 2026-03-02T00:00:00Z.
const T0: i64 = 1_772_409_600_000;

async fn store_events(store: &SqliteStore, names: &[&str]) {
    let batch = names
        .iter()
        .map(|name| {
            let body = json!({"type": "milestone", "src": "cdo", "data": {"name": name}});
            let mut events = decode_json(body.to_string().as_bytes(), Some("cdo")).unwrap();
            events.remove(0).envelope("dcss", T0, 100)
        })
        .collect();
    store.write_batch(batch).await.unwrap();
}

fn source_versions(path: &Path) -> Vec<(String, i64)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name, version FROM source_schema ORDER BY name")
        .unwrap();
    let rows = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    rows
}

async fn listed(store: &SqliteStore) -> usize {
    let filter = EventFilter {
        source: "dcss".into(),
        range: TimeRange::default(),
        after: None,
        limit: 100,
    };
    reads::of(store)
        .unwrap()
        .server_events(&filter)
        .await
        .unwrap()
        .len()
}

/// A data dir at core schema 6 whose `server_events` table came from core migration 4,
/// before sources tracked their own versions: it opens, records the source at version
/// 1, keeps its rows and takes new ones.
#[tokio::test]
async fn data_dirs_from_core_migration_4_keep_their_server_events() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reckon.sqlite3");
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    assert_eq!(
        source_versions(&path),
        [
            ("heartbeats".to_owned(), 1),
            ("pageviews".to_owned(), 2),
            ("server-events".to_owned(), 1)
        ]
    );
    store_events(&store, &["ann", "bob"]).await;
    drop(store);
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch("DROP TABLE source_schema").unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 6);
    }

    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    assert_eq!(
        source_versions(&path),
        [
            ("heartbeats".to_owned(), 1),
            ("pageviews".to_owned(), 2),
            ("server-events".to_owned(), 1)
        ]
    );
    assert_eq!(listed(&store).await, 2);
    store_events(&store, &["cat"]).await;
    assert_eq!(listed(&store).await, 3);
    drop(store);

    // And opening again changes nothing.
    let store = SqliteStore::open(&path, &SqliteOptions::default()).unwrap();
    assert_eq!(
        source_versions(&path),
        [
            ("heartbeats".to_owned(), 1),
            ("pageviews".to_owned(), 2),
            ("server-events".to_owned(), 1)
        ]
    );
    assert_eq!(listed(&store).await, 3);
}

/// A source schema newer than this build knows is refused, naming the source, and the
/// data dir is left as it was.
#[tokio::test]
async fn newer_source_schemas_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reckon.sqlite3");
    drop(SqliteStore::open(&path, &SqliteOptions::default()).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute(
            "UPDATE source_schema SET version = 9 WHERE name = 'server-events'",
            [],
        )
        .unwrap();

    let err = match SqliteStore::open(&path, &SqliteOptions::default()) {
        Ok(_) => panic!("a newer source schema must be refused"),
        Err(err) => err,
    };
    assert!(
        matches!(
            &err,
            StoreError::SourceSchemaTooNew { source_name, found: 9, known: 1 }
                if source_name == "server-events"
        ),
        "{err:?}"
    );
    let message = err.to_string();
    assert!(message.contains("newer Reckon"), "{message}");
    assert!(message.contains("`server-events`"), "{message}");
    assert_eq!(
        source_versions(&path),
        [
            ("heartbeats".to_owned(), 1),
            ("pageviews".to_owned(), 2),
            ("server-events".to_owned(), 9)
        ]
    );
}
