//! Reckon: receives webhooks and events, stores them durably, turns them into
//! statistics. `run(config, listener)` starts the whole service, which is what the
//! binary and the integration tests both do.

pub mod access;
pub mod admin;
pub mod aws;
pub mod background;
pub mod cli;
pub mod config;
pub mod http;
pub mod intake;
pub mod launcher;
pub mod model;
pub mod queue;
pub mod settings;
pub mod sources;
pub mod stats;
pub mod store;
pub mod telemetry;
pub mod verify;
pub mod worker;

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::intake::{Intake, IntakeWorker};
use crate::settings::{Config, StoreKind};
use crate::sources::github::webhook_secret::{SecretFileError, SecretOrigin};
use crate::store::elasticsearch::ElasticsearchStore;
use crate::store::sqlite::{SqliteOptions, SqliteStore};
use crate::store::{Store, StoreError};
use crate::telemetry::metrics::Metrics;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot open the store")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretFileError),
    #[error(transparent)]
    Access(#[from] access::bootstrap::BootstrapError),
    #[error("the HTTP server failed")]
    Serve(#[source] std::io::Error),
    #[error("cannot start the worker or scheduler")]
    Background(#[from] background::BackgroundError),
}

/// Opens the configured store backend. On Elasticsearch this also creates any missing
/// templates, indices and aliases, so a first start needs no separate setup step.
pub async fn open_store(config: &Config) -> Result<Arc<dyn Store>, StoreError> {
    match config.store {
        StoreKind::Elasticsearch => {
            let (store, _) = ElasticsearchStore::open(&config.elasticsearch).await?;
            Ok(Arc::new(store))
        }
        StoreKind::Sqlite => {
            let options = SqliteOptions {
                synchronous: config.sqlite.synchronous,
                read_pool_size: config.sqlite.read_pool_size,
            };
            Ok(Arc::new(SqliteStore::open(
                &config.sqlite_path(),
                &options,
            )?))
        }
    }
}

/// A built service, ready to serve: store open, secrets resolved, intake running.
pub struct App {
    state: http::AppState,
    worker: IntakeWorker,
    background: background::Background,
    secret_origin: SecretOrigin,
    admin_token: access::bootstrap::AdminToken,
}

impl App {
    pub async fn build(config: Config) -> Result<App, Error> {
        config.validate()?;
        let store = open_store(&config).await?;
        Self::with_store(config, store).await
    }

    /// Builds the service on a store the caller opened (another backend, or a test's).
    pub async fn with_store(config: Config, store: Arc<dyn Store>) -> Result<App, Error> {
        config.validate()?;
        let (secrets, secret_origin) = sources::github::webhook_secret::resolve(&config)?;
        let admin_token = access::bootstrap::ensure(&config, store.as_ref()).await?;
        let metrics = Arc::new(Metrics::new());
        let (intake, worker) = Intake::start(store.clone(), &config.intake, metrics.clone());
        let config = Arc::new(config);
        let background =
            background::Background::start(&config, store.clone(), metrics.clone()).await?;
        let mut state = http::AppState::new(config, store, intake, secrets, metrics);
        state.queue = background.queue.clone();
        state.scheduler = background.scheduler_status.clone();
        Ok(App {
            state,
            worker,
            background,
            secret_origin,
            admin_token,
        })
    }

    /// Where the GitHub webhook secret came from (and, on first start, the secret).
    pub fn secret_origin(&self) -> &SecretOrigin {
        &self.secret_origin
    }

    /// How readers get in (and, on first start, the admin token).
    pub fn admin_token(&self) -> &access::bootstrap::AdminToken {
        &self.admin_token
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and commits
    /// every queued delivery before returning.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        self.serve_on(listener, None, shutdown).await
    }

    /// Serves everything on `listener` and, when given, what faces the internet on
    /// `public` (`public_listen`), until `shutdown` resolves.
    pub async fn serve_on(
        self,
        listener: TcpListener,
        public: Option<TcpListener>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let addr = listener.local_addr().map_err(Error::Serve)?;
        tracing::info!(%addr, "serving");
        let store = self.state.store.clone();
        // One budget for unverified bodies across both listeners: they share the memory.
        let budget = http::body::BodyBudget::new(&self.state.config.limits);
        let limits = http::server::Limits::from_config(&self.state.config.limits);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let public = public.map(|listener| {
            let router = http::public_router(self.state.clone());
            let mut stopped = stopped.clone();
            let (budget, limits) = (budget.clone(), limits.clone());
            tokio::spawn(async move {
                if let Ok(addr) = listener.local_addr() {
                    tracing::info!(%addr, "serving the public listener");
                }
                let stopped = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                http::server::serve(listener, router, budget, limits, stopped).await;
            })
        });
        let router = http::router(self.state);
        http::server::serve(listener, router, budget, limits, async {
            shutdown.await;
            let _ = stop.send(true);
        })
        .await;
        // Also when the private server stopped on its own.
        let _ = stop.send(true);
        let served = match public {
            Some(task) => task.await.map_err(std::io::Error::other),
            None => Ok(()),
        };
        tracing::info!("http server stopped");
        self.background.shutdown().await;
        self.worker.shutdown().await;
        // Nothing writes any more: the next replica may take this one's writer slot.
        if let store::Backend::Elasticsearch(es) = store.backend() {
            es.release_writer_slot().await;
        }
        served.map_err(Error::Serve)
    }
}

/// Runs the service on `listener` until SIGTERM or Ctrl-C (`public_listen`, when
/// configured, is bound by the binary and served with `App::serve_on`).
pub async fn run(config: Config, listener: TcpListener) -> Result<(), Error> {
    App::build(config)
        .await?
        .serve(listener, shutdown_signal())
        .await
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for sigterm");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("ctrl-c received; shutting down"),
        _ = term => tracing::info!("sigterm received; shutting down"),
    }
}
