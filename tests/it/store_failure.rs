//! When the store cannot commit, intake must answer 503 with `Retry-After` and never a
//! 2xx: the sender keeps the delivery and retries. Uses a store whose writes fail.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use reckon::model::{Envelope, WriteOutcome};
use reckon::stats::*;
use reckon::store::sqlite::{SqliteOptions, SqliteStore};
use reckon::store::{
    ApiKeyRecord, Coordination, GithubReadModel, Journal, KeyStore, Progress, Projector,
    RebuildReport, Store, StoreError,
};

use crate::common::{self, SECRET};

/// The SQLite store, with writes failing while `broken` is set. Only `Journal::write_batch`
/// can fail; every other method of the narrow traits forwards to the SQLite store.
pub(crate) struct Flaky {
    pub(crate) inner: SqliteStore,
    pub(crate) broken: AtomicBool,
}

#[async_trait]
impl Journal for Flaky {
    async fn write_batch(&self, batch: Vec<Envelope>) -> Result<Vec<WriteOutcome>, StoreError> {
        if self.broken.load(Ordering::SeqCst) {
            return Err(StoreError::Io {
                path: "reckon.sqlite3".into(),
                source: std::io::Error::other("disk full"),
            });
        }
        self.inner.write_batch(batch).await
    }

    async fn rebuild_projections(
        &self,
        projector: Projector,
        progress: Progress,
    ) -> Result<RebuildReport, StoreError> {
        self.inner.rebuild_projections(projector, progress).await
    }

    async fn stored_dedup_keys(
        &self,
        source: &str,
        keys: &[String],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        self.inner.stored_dedup_keys(source, keys).await
    }

    async fn events(&self, q: &EventsQuery) -> Result<Vec<StoredEvent>, StoreError> {
        self.inner.events(q).await
    }

    async fn event_days(&self, s: Option<&str>, r: TimeRange) -> Result<Vec<DayCount>, StoreError> {
        self.inner.event_days(s, r).await
    }

    async fn deliveries(&self, q: &DeliveryQuery) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.inner.deliveries(q).await
    }
}

#[async_trait]
impl GithubReadModel for Flaky {
    async fn orgs(&self) -> Result<Vec<OrgListItem>, StoreError> {
        self.inner.orgs().await
    }

    async fn org_known(&self, org: &str) -> Result<bool, StoreError> {
        self.inner.org_known(org).await
    }

    async fn org_summary(&self, org: &str) -> Result<Option<OrgSummary>, StoreError> {
        self.inner.org_summary(org).await
    }

    async fn pr_series(&self, f: &PrFilter, i: Interval) -> Result<Vec<SeriesPoint>, StoreError> {
        self.inner.pr_series(f, i).await
    }

    async fn pr_stats(&self, f: &PrFilter, top: usize) -> Result<PrStats, StoreError> {
        self.inner.pr_stats(f, top).await
    }

    async fn repos(&self, org: &str) -> Result<Vec<RepoItem>, StoreError> {
        self.inner.repos(org).await
    }

    async fn org_snapshot(
        &self,
        org: &str,
    ) -> Result<reckon::store::snapshot::OrgSnapshot, StoreError> {
        self.inner.org_snapshot(org).await
    }

    async fn team_stats(&self, org: &str, r: TimeRange) -> Result<Vec<TeamStats>, StoreError> {
        self.inner.team_stats(org, r).await
    }

    async fn team_members(&self, o: &str, t: &str) -> Result<Option<Vec<TeamMember>>, StoreError> {
        self.inner.team_members(o, t).await
    }
}

#[async_trait]
impl KeyStore for Flaky {
    async fn create_api_key(&self, key: ApiKeyRecord) -> Result<(), StoreError> {
        self.inner.create_api_key(key).await
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.inner.api_keys().await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        self.inner.api_key(id).await
    }

    async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        self.inner.revoke_api_key(id).await
    }
}

#[async_trait]
impl Coordination for Flaky {
    async fn state(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.inner.state(key).await
    }

    async fn put_state(&self, key: &str, value: serde_json::Value) -> Result<(), StoreError> {
        self.inner.put_state(key, value).await
    }

    async fn states(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        self.inner.states(prefix, limit).await
    }

    async fn delete_state(&self, key: &str) -> Result<bool, StoreError> {
        self.inner.delete_state(key).await
    }

    async fn try_lock(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<bool, StoreError> {
        self.inner.try_lock(name, holder, ttl_ms).await
    }
}

#[async_trait]
impl Store for Flaky {
    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn size_bytes(&self) -> Result<u64, StoreError> {
        self.inner.size_bytes().await
    }
}

#[tokio::test]
async fn a_failing_store_gets_503_and_retries_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Flaky {
        inner: SqliteStore::open(
            &dir.path().join("reckon.sqlite3"),
            &SqliteOptions::default(),
        )
        .unwrap(),
        broken: AtomicBool::new(true),
    });
    let app = reckon::App::with_store(common::test_config(dir.path()), store.clone())
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(app.serve(listener, std::future::pending()));

    let body = br#"{"zen":"retry me"}"#.to_vec();
    let send = || {
        reqwest::Client::new()
            .post(format!("{base}/hooks/github"))
            .header("content-type", "application/json")
            .header("x-github-event", "ping")
            .header("x-github-delivery", "retry-1")
            .header("x-hub-signature-256", common::sign(SECRET, &body))
            .body(body.clone())
            .send()
    };
    let response = send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "5");
    let error: serde_json::Value = response.json().await.unwrap();
    assert_eq!(error["code"], "store_unavailable");
    let log: serde_json::Value = common::client_with_token(&common::admin_token(dir.path()))
        .get(format!("{base}/api/v1/deliveries?status=accepted"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(log["deliveries"], serde_json::json!([]));

    // The sender retries once the store recovers; the same delivery is then accepted.
    store.broken.store(false, Ordering::SeqCst);
    let ack: serde_json::Value = send().await.unwrap().json().await.unwrap();
    assert_eq!(ack["status"], "accepted");
}
