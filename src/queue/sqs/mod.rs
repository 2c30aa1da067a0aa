//! The queue on Amazon SQS: the message's visibility timeout is the lease (extended by
//! `heartbeat` while a task runs), backoff is a visibility change, and tasks that fail
//! for good move to the dead-letter queue. SQS cannot list or deduplicate, so a ledger
//! in the store keeps each task's record and the claim that deduplicates pending tasks
//! (by kind and canonical JSON).

mod config;
mod ledger;
mod message;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;

pub use self::config::SqsConfig;
pub use self::ledger::{dedup_key, Ledger, TaskRecord};
use self::message::{Body, Delivery};
use super::{
    Enqueued, Failed, Leased, Queue, QueueCounts, QueueError, RetryPolicy, Task, TaskRow, TaskState,
};

/// SQS keeps a message invisible for at most 12 hours; longer waits are re-armed when
/// the message comes back early.
const MAX_VISIBILITY_SECONDS: i64 = 12 * 3600;
/// Messages one `lease` may skip (finished duplicates, not yet due) before it gives up.
const MAX_SKIPS: usize = 32;
/// Dead-letter messages looked through to find one task's copy.
const DLQ_SCAN_ROUNDS: usize = 20;

#[derive(Clone)]
pub struct SqsQueue {
    client: Client,
    queue_url: String,
    dlq_url: String,
    wait_seconds: i32,
    done_retention_ms: i64,
    ledger: Ledger,
    policy: RetryPolicy,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn service<E, R>(what: &str, e: aws_sdk_sqs::error::SdkError<E, R>) -> QueueError
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    QueueError::Service(format!("{what}: {}", crate::aws::error_line(&e)))
}

/// Seconds until `at`, clamped to what SQS accepts as a visibility timeout.
fn visibility_until(at: i64, now: i64) -> i32 {
    ((at - now + 999) / 1000).clamp(0, MAX_VISIBILITY_SECONDS) as i32
}

impl SqsQueue {
    pub fn new(
        client: Client,
        config: &SqsConfig,
        ledger: Ledger,
        policy: RetryPolicy,
    ) -> Result<SqsQueue, QueueError> {
        let missing = |key: &str| QueueError::Service(format!("{key} is not set"));
        Ok(SqsQueue {
            client,
            queue_url: config
                .queue_url
                .clone()
                .ok_or_else(|| missing("sqs.queue_url"))?,
            dlq_url: config
                .dead_letter_queue_url
                .clone()
                .ok_or_else(|| missing("sqs.dead_letter_queue_url"))?,
            wait_seconds: config.receive_wait_seconds,
            done_retention_ms: config.done_retention_hours.saturating_mul(3_600_000) as i64,
            ledger,
            policy,
        })
    }

    async fn send(&self, url: &str, body: &Body) -> Result<(), QueueError> {
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body.to_json())
            .send()
            .await
            .map_err(|e| service("SendMessage", e))?;
        Ok(())
    }

    async fn delete(&self, url: &str, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(|e| service("DeleteMessage", e))?;
        Ok(())
    }

    async fn hide(&self, receipt: &str, seconds: i32) -> Result<(), QueueError> {
        self.client
            .change_message_visibility()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt)
            .visibility_timeout(seconds)
            .send()
            .await
            .map_err(|e| service("ChangeMessageVisibility", e))?;
        Ok(())
    }

    async fn receive(
        &self,
        url: &str,
        visibility: i32,
        max: i32,
    ) -> Result<Vec<Delivery>, QueueError> {
        let out = self
            .client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(max)
            .visibility_timeout(visibility)
            .wait_time_seconds(if url == self.queue_url {
                self.wait_seconds
            } else {
                0
            })
            .send()
            .await
            .map_err(|e| service("ReceiveMessage", e))?;
        Ok(out
            .messages()
            .iter()
            .filter_map(Delivery::from_message)
            .collect())
    }

    /// Adds a record and its claim under the claim's lock; `None` when an identical
    /// task is pending already (its id is returned instead).
    async fn claim_new(&self, spec: &Task) -> Result<Result<TaskRecord, i64>, QueueError> {
        let key = dedup_key(spec);
        self.ledger
            .exclusive(&ledger::claim_lock(&key), || async {
                if let Some(id) = self.ledger.claim(&key).await? {
                    if let Some(existing) = self.ledger.get(id).await? {
                        if existing.pending() && !self.stale(&existing) {
                            return Ok(Err(id));
                        }
                    }
                }
                let record = TaskRecord::new(self.ledger.next_id().await?, spec.clone(), now_ms());
                self.ledger.put(&record).await?;
                self.ledger.set_claim(&key, record.id).await?;
                Ok(Ok(record))
            })
            .await
    }

    /// Every record, oldest first, less finished ones past their retention, which are
    /// deleted on the way: scans are where the ledger is kept small.
    async fn records(&self) -> Result<Vec<TaskRecord>, QueueError> {
        let cutoff = now_ms() - self.done_retention_ms;
        let mut kept = Vec::new();
        for record in self.ledger.all().await? {
            if record.state == TaskState::Done && record.updated_at < cutoff {
                self.ledger.delete(record.id).await?;
            } else {
                kept.push(record);
            }
        }
        Ok(kept)
    }

    /// A lease that expired on the last attempt: SQS's own redrive may have taken the
    /// message to the dead-letter queue, so the claim no longer blocks a new task.
    fn stale(&self, record: &TaskRecord) -> bool {
        record.state == TaskState::Leased
            && record.attempts >= self.policy.max_attempts
            && record.lease_until.is_some_and(|until| until < now_ms())
    }

    /// Moves a task to the dead letters: its record, a copy in the dead-letter queue,
    /// and the message gone from the main queue.
    async fn bury(
        &self,
        mut record: TaskRecord,
        receipt: &str,
        error: String,
    ) -> Result<(), QueueError> {
        let now = now_ms();
        record.state = TaskState::Dead;
        record.last_error = Some(error.clone());
        record.lease_token = None;
        record.updated_at = now;
        self.ledger.put(&record).await?;
        let body = Body::Task {
            id: record.id,
            task: record.task(),
            error: Some(error),
        };
        self.send(&self.dlq_url, &body).await?;
        self.delete(&self.queue_url, receipt).await?;
        self.ledger
            .release_claim(&dedup_key(&record.task()), record.id)
            .await
    }

    /// The record a received message stands for, creating one for a bare task (as
    /// EventBridge Scheduler sends); `None` when the message is to be dropped.
    async fn record_for(&self, delivery: &Delivery) -> Result<Option<TaskRecord>, QueueError> {
        match &delivery.body {
            Body::Task { id, task, .. } => match self.ledger.get(*id).await? {
                Some(record) => Ok(Some(record)),
                // Purged or never recorded (the enqueuer died between the two writes).
                None => {
                    let record = TaskRecord::new(*id, task.clone(), now_ms());
                    self.ledger.put(&record).await?;
                    Ok(Some(record))
                }
            },
            Body::Spec(spec) => match self.claim_new(spec).await? {
                Ok(record) => Ok(Some(record)),
                Err(existing) => {
                    tracing::info!(
                        task = existing,
                        kind = %spec.kind,
                        "scheduled task already pending; dropping the duplicate message"
                    );
                    self.delete(&self.queue_url, &delivery.receipt).await?;
                    Ok(None)
                }
            },
            Body::Unreadable(reason) => {
                tracing::error!(message_id = %delivery.message_id, %reason, "unreadable queue message; moved to the dead-letter queue");
                self.client
                    .send_message()
                    .queue_url(&self.dlq_url)
                    .message_body(delivery.raw.clone())
                    .send()
                    .await
                    .map_err(|e| service("SendMessage", e))?;
                self.delete(&self.queue_url, &delivery.receipt).await?;
                Ok(None)
            }
        }
    }

    /// Takes one received message as a lease, or says why it was skipped.
    async fn take(
        &self,
        delivery: Delivery,
        visibility: Duration,
    ) -> Result<Option<Leased>, QueueError> {
        let Some(mut record) = self.record_for(&delivery).await? else {
            return Ok(None);
        };
        let now = now_ms();
        match record.state {
            TaskState::Done => {
                // A second copy of a finished task (SQS delivers at least once).
                self.delete(&self.queue_url, &delivery.receipt).await?;
                return Ok(None);
            }
            TaskState::Dead => {
                // Redriven from the dead-letter queue by hand: a fresh start.
                record.attempts = 0;
                record.not_before = now;
            }
            TaskState::Leased if record.lease_until.is_some_and(|u| u > now) => {
                // Another copy while a worker holds the task: look again after its lease.
                let until = record.lease_until.unwrap_or(now);
                self.hide(&delivery.receipt, visibility_until(until, now))
                    .await?;
                return Ok(None);
            }
            TaskState::Leased if record.attempts >= self.policy.max_attempts => {
                let error = match &record.last_error {
                    Some(e) => format!("{e}; lease expired: the worker stopped or timed out"),
                    None => "lease expired: the worker stopped or timed out".to_owned(),
                };
                tracing::warn!(
                    task = record.id,
                    attempts = record.attempts,
                    "task dead-lettered after its last lease expired"
                );
                self.bury(record, &delivery.receipt, error).await?;
                return Ok(None);
            }
            _ => {}
        }
        if record.not_before > now {
            // A wait longer than SQS's 12 hours: hide it again until it is due.
            self.hide(&delivery.receipt, visibility_until(record.not_before, now))
                .await?;
            return Ok(None);
        }
        let token = format!("{:016x}", rand::random::<u64>());
        record.state = TaskState::Leased;
        record.attempts += 1;
        record.lease_token = Some(token.clone());
        record.lease_until = Some(now + visibility.as_millis() as i64);
        record.updated_at = now;
        self.ledger.put(&record).await?;
        Ok(Some(Leased {
            id: record.id,
            spec: record.task(),
            attempt: record.attempts,
            token: format!("{token}:{}", delivery.receipt),
        }))
    }

    /// The record behind a lease, if that lease is still the task's current one.
    async fn held(&self, lease: &Leased) -> Result<Option<(TaskRecord, String)>, QueueError> {
        let Some((token, receipt)) = lease.token.split_once(':') else {
            return Ok(None);
        };
        let Some(record) = self.ledger.get(lease.id).await? else {
            return Ok(None);
        };
        let current =
            record.state == TaskState::Leased && record.lease_token.as_deref() == Some(token);
        Ok(current.then(|| (record, receipt.to_owned())))
    }

    /// Deletes this task's copy from the dead-letter queue, looking through a bounded
    /// number of messages and handing the others straight back.
    async fn remove_dead_copy(&self, id: i64) -> Result<bool, QueueError> {
        let mut others = Vec::new();
        let mut found = false;
        for _ in 0..DLQ_SCAN_ROUNDS {
            let batch = self.receive(&self.dlq_url, 30, 10).await?;
            if batch.is_empty() {
                break;
            }
            for delivery in batch {
                if !found && delivery.body.task_id() == Some(id) {
                    self.delete(&self.dlq_url, &delivery.receipt).await?;
                    found = true;
                } else {
                    others.push(delivery.receipt);
                }
            }
            if found {
                break;
            }
        }
        for receipt in others {
            let _ = self
                .client
                .change_message_visibility()
                .queue_url(&self.dlq_url)
                .receipt_handle(receipt)
                .visibility_timeout(0)
                .send()
                .await;
        }
        Ok(found)
    }

    /// Empties the dead-letter queue message by message (PurgeQueue may run only once a
    /// minute); returns how many messages were deleted.
    async fn drain_dead_letters(&self) -> Result<u64, QueueError> {
        let mut n = 0;
        loop {
            let batch = self.receive(&self.dlq_url, 60, 10).await?;
            if batch.is_empty() {
                return Ok(n);
            }
            for delivery in batch {
                self.delete(&self.dlq_url, &delivery.receipt).await?;
                n += 1;
            }
        }
    }
}

#[async_trait]
impl Queue for SqsQueue {
    /// The lease is the message's visibility: `ChangeMessageVisibility` extends both.
    async fn extend(&self, lease: &Leased, visibility: Duration) -> Result<bool, QueueError> {
        let Some((mut record, receipt)) = self.held(lease).await? else {
            return Ok(false);
        };
        let now = now_ms();
        self.hide(
            &receipt,
            visibility.as_secs().min(MAX_VISIBILITY_SECONDS as u64) as i32,
        )
        .await?;
        record.lease_until = Some(now + visibility.as_millis() as i64);
        record.updated_at = now;
        self.ledger.put(&record).await?;
        Ok(true)
    }

    async fn enqueue(&self, spec: &Task) -> Result<Enqueued, QueueError> {
        let record = match self.claim_new(spec).await? {
            Ok(record) => record,
            Err(id) => return Ok(Enqueued { id, added: false }),
        };
        let body = Body::Task {
            id: record.id,
            task: spec.clone(),
            error: None,
        };
        self.send(&self.queue_url, &body).await?;
        Ok(Enqueued {
            id: record.id,
            added: true,
        })
    }

    async fn lease(
        &self,
        _worker: &str,
        visibility: Duration,
    ) -> Result<Option<Leased>, QueueError> {
        let seconds = visibility.as_secs().min(MAX_VISIBILITY_SECONDS as u64) as i32;
        for _ in 0..MAX_SKIPS {
            let Some(delivery) = self.receive(&self.queue_url, seconds, 1).await?.pop() else {
                return Ok(None);
            };
            if let Some(lease) = self.take(delivery, visibility).await? {
                return Ok(Some(lease));
            }
        }
        Ok(None)
    }

    async fn complete(&self, lease: &Leased) -> Result<bool, QueueError> {
        let Some((mut record, receipt)) = self.held(lease).await? else {
            return Ok(false);
        };
        self.delete(&self.queue_url, &receipt).await?;
        record.state = TaskState::Done;
        record.lease_token = None;
        record.updated_at = now_ms();
        self.ledger.put(&record).await?;
        self.ledger
            .release_claim(&dedup_key(&record.task()), record.id)
            .await?;
        Ok(true)
    }

    async fn fail(
        &self,
        lease: &Leased,
        error: &str,
        retryable: bool,
        retry_at: Option<i64>,
    ) -> Result<Failed, QueueError> {
        let Some((mut record, receipt)) = self.held(lease).await? else {
            return Ok(Failed::LeaseLost);
        };
        if !retryable || record.attempts >= self.policy.max_attempts {
            self.bury(record, &receipt, error.to_owned()).await?;
            return Ok(Failed::Dead);
        }
        let now = now_ms();
        let at = (now + self.policy.delay(record.attempts).as_millis() as i64)
            .max(retry_at.unwrap_or(0));
        // Backoff is the message's visibility; the record says when it is really due.
        self.hide(&receipt, visibility_until(at, now)).await?;
        record.state = TaskState::Ready;
        record.not_before = at;
        record.last_error = Some(error.to_owned());
        record.lease_token = None;
        record.updated_at = now;
        self.ledger.put(&record).await?;
        Ok(Failed::RetryAt(at))
    }

    async fn list(
        &self,
        state: Option<TaskState>,
        limit: usize,
    ) -> Result<Vec<TaskRow>, QueueError> {
        Ok(self
            .records()
            .await?
            .iter()
            .filter(|r| state.is_none_or(|s| r.state == s))
            .take(limit)
            .map(TaskRecord::row)
            .collect())
    }

    async fn get(&self, id: i64) -> Result<Option<TaskRow>, QueueError> {
        Ok(self.ledger.get(id).await?.map(|r| r.row()))
    }

    async fn retry(&self, id: i64) -> Result<bool, QueueError> {
        let Some(mut record) = self.ledger.get(id).await? else {
            return Ok(false);
        };
        if record.state != TaskState::Dead {
            return Ok(false);
        }
        self.remove_dead_copy(id).await?;
        let key = dedup_key(&record.task());
        let requeued = self
            .ledger
            .exclusive(&ledger::claim_lock(&key), || async {
                let pending = match self.ledger.claim(&key).await? {
                    Some(other) if other != id => self
                        .ledger
                        .get(other)
                        .await?
                        .is_some_and(|r| r.pending() && !self.stale(&r)),
                    _ => false,
                };
                if pending {
                    // An identical task is already queued: this one is redundant.
                    self.ledger.delete(id).await?;
                    return Ok(false);
                }
                let now = now_ms();
                record.state = TaskState::Ready;
                record.attempts = 0;
                record.not_before = now;
                record.updated_at = now;
                self.ledger.put(&record).await?;
                self.ledger.set_claim(&key, id).await?;
                Ok(true)
            })
            .await?;
        if requeued {
            let body = Body::Task {
                id,
                task: record.task(),
                error: None,
            };
            self.send(&self.queue_url, &body).await?;
        }
        Ok(true)
    }

    async fn purge(&self, state: TaskState) -> Result<u64, QueueError> {
        let mut n = 0;
        for record in self.records().await? {
            if record.state == state && self.ledger.delete(record.id).await? {
                n += 1;
            }
        }
        if state == TaskState::Dead {
            let messages = self.drain_dead_letters().await?;
            tracing::info!(records = n, messages, "dead letters purged");
        }
        Ok(n)
    }

    async fn counts(&self) -> Result<QueueCounts, QueueError> {
        let mut counts = QueueCounts::default();
        for record in self.records().await? {
            counts.add(record.state, 1);
        }
        Ok(counts)
    }
}
