//! The embedded store: one SQLite file in WAL mode. A single writer connection takes
//! whole group-commit batches (one fsync each with `synchronous = full`); a small pool
//! of read-only connections answers the stats API without blocking ingest.

mod checkpoint;
mod config;
mod entities;
mod payload;
mod read;
mod rebuild;
mod reconcile;
mod schema;
mod write;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

pub use self::config::{SqliteConfig, Synchronous};
use super::{
    ApiKeyRecord, Coordination, Journal, KeyStore, Progress, Projector, RebuildReport, Store,
    StoreError,
};
use crate::model::{Envelope, WriteOutcome};
use crate::stats::{
    rfc3339, DayCount, DeliveryQuery, DeliveryRecord, EventsQuery, StoredEvent, TimeRange,
};

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub synchronous: Synchronous,
    pub read_pool_size: u32,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            synchronous: Synchronous::Full,
            read_pool_size: 4,
        }
    }
}

/// The one write connection, and the payload encoder only it uses.
struct Writer {
    conn: Connection,
    encoder: payload::Encoder,
}

#[derive(Clone)]
pub struct SqliteStore {
    path: PathBuf,
    writer: Arc<Mutex<Writer>>,
    readers: r2d2::Pool<SqliteConnectionManager>,
    checkpointer: Arc<checkpoint::Checkpointer>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path, options: &SqliteOptions) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        let mut writer = Connection::open(path)?;
        writer.busy_timeout(BUSY_TIMEOUT)?;
        writer.pragma_update(None, "journal_mode", "wal")?;
        writer.pragma_update(
            None,
            "synchronous",
            match options.synchronous {
                Synchronous::Full => "full",
                Synchronous::Normal => "normal",
            },
        )?;
        // Checkpoints normally run on the checkpointer thread; this is only a safety net
        // should it fall behind. The WAL file is trimmed back after it is reset.
        writer.pragma_update(None, "wal_autocheckpoint", 16_384)?;
        writer.pragma_update(None, "journal_size_limit", 64 * 1024 * 1024)?;
        // Inserts walk the dedup and projection indexes at random keys, reading pages
        // SQLite's small cache has dropped: mapped, they are read without a copy.
        writer.pragma_update(None, "mmap_size", WRITER_MMAP_BYTES)?;
        writer.set_prepared_statement_cache_capacity(64);
        schema::migrate(&mut writer, super::source_schema::registered())?;
        let checkpointer = Arc::new(checkpoint::Checkpointer::start(path)?);

        let manager = SqliteConnectionManager::file(path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(|c| c.busy_timeout(BUSY_TIMEOUT));
        let readers = r2d2::Pool::builder()
            .max_size(options.read_pool_size)
            .min_idle(Some(1))
            .build(manager)?;
        Ok(SqliteStore {
            path: path.to_owned(),
            writer: Arc::new(Mutex::new(Writer {
                conn: writer,
                encoder: payload::Encoder::new(),
            })),
            readers,
            checkpointer,
        })
    }

    fn lock_writer(writer: &Mutex<Writer>) -> MutexGuard<'_, Writer> {
        // A panic mid-transaction drops (rolls back) the transaction; the connection
        // itself stays usable.
        writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn with_writer<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Writer) -> Result<T, StoreError> + Send + 'static,
    {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || f(&mut Self::lock_writer(&writer))).await?
    }

    /// Runs `f` in one write transaction on the writer: how source read models that
    /// keep derived tables (rollups) refresh them, serialized with ingest commits.
    pub(crate) async fn with_write_tx<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<T, StoreError> + Send + 'static,
    {
        let out = self
            .with_writer(move |writer| {
                let tx = writer
                    .conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let out = f(&tx)?;
                tx.commit()?;
                Ok(out)
            })
            .await?;
        self.checkpointer.notify();
        Ok(out)
    }

    /// Runs `f` on a read-only connection: how source read models query this store.
    pub(crate) async fn with_reader<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.readers.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            f(&conn)
        })
        .await?
    }

    /// Runs a point read (one row by its key, microseconds) on the calling task when a
    /// reader is free: handing it to the blocking pool costs two thread switches, more
    /// than the read. Falls back to [`Self::with_reader`] when every reader is busy.
    async fn point_read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    {
        match self.readers.try_get() {
            Some(conn) => f(&conn),
            None => self.with_reader(f).await,
        }
    }
}

/// How much of the database file the writer maps for reading.
const WRITER_MMAP_BYTES: i64 = 1024 * 1024 * 1024;

fn key_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        source: r.get(1)?,
        name: r.get(2)?,
        hash: r.get(3)?,
        created_at: rfc3339(r.get(4)?),
        revoked_at: r.get::<_, Option<i64>>(5)?.map(rfc3339),
    })
}

const KEY_COLUMNS: &str = "id, source, name, hash, created_at, revoked_at";

#[async_trait]
impl Journal for SqliteStore {
    async fn write_batch(&self, batch: Vec<Envelope>) -> Result<Vec<WriteOutcome>, StoreError> {
        let outcomes = self
            .with_writer(move |writer| {
                let tx = writer
                    .conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                let outcomes = write::write_batch(&tx, &mut writer.encoder, &batch)?;
                tx.commit()?;
                Ok(outcomes)
            })
            .await?;
        self.checkpointer.notify();
        Ok(outcomes)
    }

    async fn events(&self, query: &EventsQuery) -> Result<Vec<StoredEvent>, StoreError> {
        let query = query.clone();
        self.with_reader(move |c| read::events(c, &query)).await
    }

    async fn event_days(
        &self,
        source: Option<&str>,
        range: TimeRange,
    ) -> Result<Vec<DayCount>, StoreError> {
        let source = source.map(str::to_owned);
        self.with_reader(move |c| read::event_days(c, source.as_deref(), range))
            .await
    }

    async fn deliveries(&self, query: &DeliveryQuery) -> Result<Vec<DeliveryRecord>, StoreError> {
        let query = query.clone();
        self.with_reader(move |c| read::deliveries(c, &query)).await
    }

    async fn rebuild_projections(
        &self,
        projector: Projector,
        progress: Progress,
    ) -> Result<RebuildReport, StoreError> {
        let scratch = rebuild::scratch_path(&self.path);
        let upto: i64 = self
            .with_reader(|c| {
                Ok(c.query_row("SELECT COALESCE(MAX(seq), 0) FROM events", [], |r| r.get(0))?)
            })
            .await?;
        let (pool, path, build_projector) =
            (self.readers.clone(), scratch.clone(), projector.clone());
        let built = tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            let schemas = super::source_schema::registered();
            rebuild::build_scratch(&conn, &path, schemas, upto, &build_projector, &progress)
        })
        .await??;
        let path = scratch.clone();
        let caught_up = self
            .with_writer(move |writer| {
                let conn = &mut writer.conn;
                conn.execute("ATTACH DATABASE ?1 AS rebuild", [path.to_string_lossy()])?;
                let swapped = (|| {
                    let tx =
                        conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                    let caught_up = rebuild::swap_in(
                        &tx,
                        super::source_schema::registered(),
                        upto,
                        &projector,
                    )?;
                    tx.commit()?;
                    Ok::<_, StoreError>(caught_up)
                })();
                conn.execute("DETACH DATABASE rebuild", [])?;
                swapped
            })
            .await;
        rebuild::finish(&scratch);
        Ok(rebuild::report(built, caught_up?))
    }

    async fn stored_dedup_keys(
        &self,
        source: &str,
        keys: &[String],
    ) -> Result<HashSet<String>, StoreError> {
        let (source, keys) = (source.to_owned(), keys.to_vec());
        self.with_reader(move |c| reconcile::stored_dedup_keys(c, &source, &keys))
            .await
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn create_api_key(&self, key: ApiKeyRecord) -> Result<(), StoreError> {
        self.with_writer(move |w| {
            w.conn.execute(
                "INSERT INTO api_keys (id, source, name, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![key.id, key.source, key.name, key.hash, chrono::Utc::now().timestamp_millis()],
            )?;
            Ok(())
        })
        .await
    }

    async fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        self.with_reader(|c| {
            let mut stmt = c.prepare_cached(&format!(
                "SELECT {KEY_COLUMNS} FROM api_keys ORDER BY created_at, id"
            ))?;
            let rows = stmt.query_map([], key_from_row)?;
            Ok(rows.collect::<Result<_, _>>()?)
        })
        .await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let id = id.to_owned();
        self.point_read(move |c| {
            Ok(
                c.prepare_cached(&format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1"))?
                    .query_row([id], key_from_row)
                    .optional()?,
            )
        })
        .await
    }

    async fn revoke_api_key(&self, id: &str) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.with_writer(move |w| {
            let n = w.conn.execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, chrono::Utc::now().timestamp_millis()],
            )?;
            Ok(n == 1)
        })
        .await
    }
}

#[async_trait]
impl Coordination for SqliteStore {
    async fn state(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        let key = key.to_owned();
        self.point_read(move |c| reconcile::state(c, &key)).await
    }

    async fn put_state(&self, key: &str, value: serde_json::Value) -> Result<(), StoreError> {
        let key = key.to_owned();
        self.with_writer(move |w| reconcile::put_state(&w.conn, &key, &value))
            .await
    }

    async fn states(
        &self,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<(String, serde_json::Value)>, StoreError> {
        let prefix = prefix.to_owned();
        self.with_reader(move |c| reconcile::states(c, &prefix, limit))
            .await
    }

    async fn delete_state(&self, key: &str) -> Result<bool, StoreError> {
        let key = key.to_owned();
        self.with_writer(move |w| reconcile::delete_state(&w.conn, &key))
            .await
    }

    async fn try_lock(&self, name: &str, holder: &str, ttl_ms: i64) -> Result<bool, StoreError> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.with_writer(move |w| reconcile::try_lock(&w.conn, &name, &holder, ttl_ms))
            .await
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> super::Backend<'_> {
        super::Backend::Sqlite(self)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with_reader(|c| Ok(c.query_row("SELECT 1", [], |_| Ok(()))?))
            .await
    }

    async fn size_bytes(&self) -> Result<u64, StoreError> {
        let base = self.path.clone();
        tokio::task::spawn_blocking(move || {
            ["", "-wal", "-shm"]
                .iter()
                .map(|suffix| {
                    let mut p = base.clone().into_os_string();
                    p.push(suffix);
                    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
                })
                .sum()
        })
        .await
        .map_err(StoreError::from)
    }
}
