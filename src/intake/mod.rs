//! Group commit: request handlers submit envelopes and wait; one loop drains whatever
//! has queued up into a single store batch, commits it, and only then answers every
//! waiter. Concurrency raises the batch size instead of the number of fsyncs.

mod config;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

pub use self::config::IntakeConfig;
use crate::model::{Envelope, Stored, WriteOutcome};
use crate::store::{Store, StoreError};
use crate::telemetry::metrics::Metrics;

/// Largest sum of payload bytes committed in one batch.
const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("intake is shutting down")]
    Closed,
    #[error("the store failed to commit the batch")]
    Store(#[source] Arc<StoreError>),
    #[error("the store refused the delivery as too large ({bytes} bytes)")]
    TooLarge { bytes: usize },
}

struct Pending {
    envelope: Envelope,
    reply: oneshot::Sender<Result<Stored, IntakeError>>,
}

/// The handle request handlers submit through. Cheap to clone.
#[derive(Clone)]
pub struct Intake {
    tx: mpsc::Sender<Pending>,
    /// Set while the last commit failed and none has succeeded since (a full disk).
    failing: Arc<AtomicBool>,
}

/// The commit loop; [`IntakeWorker::shutdown`] commits what is queued and stops it.
pub struct IntakeWorker {
    close: Arc<Notify>,
    handle: JoinHandle<()>,
}

impl Intake {
    pub fn start(
        store: Arc<dyn Store>,
        config: &IntakeConfig,
        metrics: Arc<Metrics>,
    ) -> (Intake, IntakeWorker) {
        let (tx, rx) = mpsc::channel(config.queue_capacity);
        let close = Arc::new(Notify::new());
        let failing = Arc::new(AtomicBool::new(false));
        let handle = tokio::spawn(commit_loop(
            rx,
            store,
            config.max_batch,
            metrics,
            close.clone(),
            failing.clone(),
        ));
        (Intake { tx, failing }, IntakeWorker { close, handle })
    }

    /// Resolves once the envelope is durably committed (or found to be a duplicate).
    pub async fn submit(&self, envelope: Envelope) -> Result<Stored, IntakeError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Pending { envelope, reply })
            .await
            .map_err(|_| IntakeError::Closed)?;
        answer.await.map_err(|_| IntakeError::Closed)?
    }

    /// Submits several envelopes at once, so they can share a commit, and resolves once
    /// every one is committed (or found to be a duplicate), with their outcomes in order.
    /// On an error, some of them may be stored: resubmitting them is safe when their
    /// dedup keys are stable.
    pub async fn submit_many(&self, envelopes: Vec<Envelope>) -> Result<Vec<Stored>, IntakeError> {
        let mut answers = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let (reply, answer) = oneshot::channel();
            self.tx
                .send(Pending { envelope, reply })
                .await
                .map_err(|_| IntakeError::Closed)?;
            answers.push(answer);
        }
        let mut outcomes = Vec::with_capacity(answers.len());
        for answer in answers {
            outcomes.push(answer.await.map_err(|_| IntakeError::Closed)??);
        }
        Ok(outcomes)
    }

    /// False once the commit loop has stopped.
    pub fn is_open(&self) -> bool {
        !self.tx.is_closed()
    }

    /// True while the last commit failed and no commit has succeeded since.
    pub fn is_failing(&self) -> bool {
        self.failing.load(Ordering::Relaxed)
    }
}

impl IntakeWorker {
    /// Stops taking new envelopes, commits every queued one, and waits for the loop.
    pub async fn shutdown(self) {
        self.close.notify_one();
        if let Err(error) = self.handle.await {
            tracing::error!(%error, "intake commit loop ended abnormally");
        }
    }
}

async fn commit_loop(
    mut rx: mpsc::Receiver<Pending>,
    store: Arc<dyn Store>,
    max_batch: usize,
    metrics: Arc<Metrics>,
    close: Arc<Notify>,
    failing: Arc<AtomicBool>,
) {
    let mut closing = false;
    loop {
        let first = tokio::select! {
            biased;
            item = rx.recv() => match item {
                Some(item) => item,
                None => break,
            },
            _ = close.notified(), if !closing => {
                closing = true;
                rx.close();
                continue;
            }
        };
        let mut bytes = first.envelope.payload.len();
        let mut batch = vec![first];
        while batch.len() < max_batch && bytes < MAX_BATCH_BYTES {
            match rx.try_recv() {
                Ok(item) => {
                    bytes += item.envelope.payload.len();
                    batch.push(item);
                }
                Err(_) => break,
            }
        }
        let committed = commit(&*store, batch, &metrics).await;
        failing.store(!committed, Ordering::Relaxed);
    }
    tracing::info!("intake commit loop stopped");
}

/// Commits one batch and answers its waiters; false when the store failed.
async fn commit(store: &dyn Store, batch: Vec<Pending>, metrics: &Metrics) -> bool {
    let size = batch.len();
    let (envelopes, replies): (Vec<_>, Vec<_>) =
        batch.into_iter().map(|p| (p.envelope, p.reply)).unzip();
    let started = Instant::now();
    let result = store.write_batch(envelopes).await;
    metrics.observe_batch(size, started.elapsed());
    match result {
        Ok(outcomes) => {
            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                // A waiter that went away (client disconnected) is fine: it is stored.
                let _ = reply.send(match outcome {
                    WriteOutcome::Accepted => Ok(Stored::Accepted),
                    WriteOutcome::Duplicate => Ok(Stored::Duplicate),
                    WriteOutcome::TooLarge { bytes } => Err(IntakeError::TooLarge { bytes }),
                });
            }
            true
        }
        Err(error) => {
            tracing::error!(error = %crate::telemetry::chain(&error), batch = size, "group commit failed");
            let error = Arc::new(error);
            for reply in replies {
                let _ = reply.send(Err(IntakeError::Store(error.clone())));
            }
            false
        }
    }
}
