//! The store: one backend (SQLite embedded, or Elasticsearch) behind narrow traits, one
//! per job, each with its own conformance suite in `tests/it/` that every backend passes:
//!
//! - [`Journal`] (`journal.rs`): durable batched ingest of envelopes with their entity
//!   writes, the stored events, the delivery log and projection rebuilds;
//! - [`GithubReadModel`] (`sources::github::store`): the GitHub stats and snapshots;
//! - [`KeyStore`] (`keys.rs`): API keys;
//! - [`Coordination`] (`coordination.rs`): state documents and locks.
//!
//! A source declares its own tables and mappings as a [`SourceSchema`]
//! (`source_schema.rs`); the backends migrate and set up those beside their own.
//!
//! [`Store`] is their composition plus the operations (`ping`, `size_bytes`, `backend`);
//! the app holds one `Arc<dyn Store>`, and code that needs one job takes that trait.

pub mod coordination;
pub mod elasticsearch;
pub mod journal;
pub mod keys;
pub mod snapshot;
pub mod source_schema;
pub mod sqlite;

use async_trait::async_trait;

pub use self::coordination::Coordination;
pub use self::journal::{Journal, Progress, Projector, RawEvent, RebuildReport};
pub use self::keys::{ApiKeyRecord, KeyStore};
pub use self::source_schema::{EsJournal, SourceSchema};
pub use crate::sources::github::store::GithubReadModel;

/// A backend's own error, boxed: callers see what failed (`kind`), not which client.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of backend failure a [`StoreError::Backend`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreErrorKind {
    /// No connection to the backend could be had (pool exhausted, cluster unreachable).
    Unavailable,
    /// The backend refused or failed a request.
    Request,
    /// The backend cannot be set up as configured.
    Config,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed; `message` is what users see ("sqlite error"), `source` the
    /// backend's own error.
    #[error("{message}")]
    Backend {
        kind: StoreErrorKind,
        message: &'static str,
        #[source]
        source: BoxError,
    },
    #[error("store i/o error at {path}")]
    Io {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the store task failed")]
    Task(#[from] tokio::task::JoinError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store was written by a newer Reckon (schema version {found}, this build knows {known})")]
    SchemaTooNew { found: i64, known: i64 },
    /// A source's own schema (`source_schema`) is newer than this build knows.
    #[error("the store was written by a newer Reckon (source `{source_name}` schema version {found}, this build knows {known})")]
    SourceSchemaTooNew {
        source_name: String,
        found: i64,
        known: i64,
    },
    /// One delivery of the batch is bigger than the store accepts in one request. Nothing
    /// of the batch is acknowledged; the others can be committed again without it.
    #[error("delivery {position} of the batch ({bytes} bytes as stored) is larger than the store accepts in one request")]
    TooLarge { position: usize, bytes: usize },
    /// Every Elasticsearch writer slot is held by another live process: more processes
    /// write the journal than sequence numbers have room for.
    #[error("too many writers: all {slots} Elasticsearch writer slots are held by other Reckon processes (run at most {slots} replicas against one cluster and index prefix)")]
    TooManyWriters { slots: i64 },
}

impl StoreError {
    /// A backend failure of `kind`, shown as `message`, caused by `source`.
    pub fn backend(
        kind: StoreErrorKind,
        message: &'static str,
        source: impl Into<BoxError>,
    ) -> Self {
        StoreError::Backend {
            kind,
            message,
            source: source.into(),
        }
    }

    /// The kind of a backend failure; `None` for the store's own errors.
    pub fn kind(&self) -> Option<StoreErrorKind> {
        match self {
            StoreError::Backend { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        StoreError::backend(StoreErrorKind::Request, "sqlite error", error)
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(error: r2d2::Error) -> Self {
        StoreError::backend(
            StoreErrorKind::Unavailable,
            "no database connection available",
            error,
        )
    }
}

impl From<elasticsearch::cluster::EsError> for StoreError {
    fn from(error: elasticsearch::cluster::EsError) -> Self {
        let kind = match error {
            elasticsearch::cluster::EsError::Unreachable { .. } => StoreErrorKind::Unavailable,
            _ => StoreErrorKind::Request,
        };
        StoreError::backend(kind, "elasticsearch request failed", error)
    }
}

impl From<elasticsearch::client::ClientError> for StoreError {
    fn from(error: elasticsearch::client::ClientError) -> Self {
        StoreError::backend(
            StoreErrorKind::Config,
            "cannot configure the Elasticsearch client",
            error,
        )
    }
}

/// The concrete backend behind a `Store`, for the read models that sources keep on
/// each backend themselves (see `sources::server_events::store`).
pub enum Backend<'a> {
    Sqlite(&'a sqlite::SqliteStore),
    Elasticsearch(&'a elasticsearch::ElasticsearchStore),
    /// A test double or wrapper with no read models of its own.
    Other,
}

/// The whole store: every narrow trait, and the operations on the backend itself.
#[async_trait]
pub trait Store:
    Journal + GithubReadModel + KeyStore + Coordination + Send + Sync + 'static
{
    /// The backend, for source read models. Wrappers and doubles answer `Backend::Other`.
    fn backend(&self) -> Backend<'_> {
        Backend::Other
    }

    /// Cheap liveness check for `/readyz`.
    async fn ping(&self) -> Result<(), StoreError>;
    /// Bytes the store occupies, for the `reckon_store_size_bytes` metric.
    async fn size_bytes(&self) -> Result<u64, StoreError>;
}
