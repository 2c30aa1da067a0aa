//! Prometheus metrics with a registry per app instance, so several apps can run in one
//! process (as the tests do). Rendered in the text exposition format at `/metrics`.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub source: String,
    pub event: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SourceLabels {
    pub source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TaskLabels {
    pub task: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StateLabels {
    pub state: String,
}

pub struct Metrics {
    registry: Registry,
    sync_tasks: Family<TaskLabels, Counter>,
    reconcile_runs: Family<OutcomeLabels, Counter>,
    queue_tasks: Family<StateLabels, Gauge>,
    deliveries: Family<DeliveryLabels, Counter>,
    ack_seconds: Family<SourceLabels, Histogram>,
    batch_size: Histogram,
    commit_seconds: Histogram,
    projection_failures: Counter,
    store_size: Gauge,
    read_refusals: Family<ReasonLabels, Counter>,
}

const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("reckon");
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "deliveries",
            "Webhook deliveries by source, event and outcome (accepted, duplicate, rejected)",
            deliveries.clone(),
        );
        let ack_seconds = Family::<SourceLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(LATENCY_BUCKETS)
        });
        registry.register_with_unit(
            "ack_duration",
            "Time from receiving a delivery to acknowledging it after a durable commit",
            Unit::Seconds,
            ack_seconds.clone(),
        );
        let batch_size = Histogram::new([
            1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0,
        ]);
        registry.register(
            "group_commit_batch_size",
            "Deliveries committed per group-commit transaction",
            batch_size.clone(),
        );
        let commit_seconds = Histogram::new(LATENCY_BUCKETS);
        registry.register_with_unit(
            "group_commit_duration",
            "Time to write and commit one group-commit batch",
            Unit::Seconds,
            commit_seconds.clone(),
        );
        let projection_failures = Counter::default();
        registry.register(
            "projection_failures",
            "Deliveries stored raw whose payload could not be decoded for projection",
            projection_failures.clone(),
        );
        let store_size = Gauge::default();
        registry.register_with_unit(
            "store_size",
            "Bytes the store occupies on disk",
            Unit::Bytes,
            store_size.clone(),
        );
        let sync_tasks = Family::<TaskLabels, Counter>::default();
        registry.register(
            "sync_tasks",
            "Sync task attempts by task and outcome (done, retry, dead)",
            sync_tasks.clone(),
        );
        let reconcile_runs = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "reconcile_runs",
            "Scheduled reconcile runs of one org by outcome (ok, failed)",
            reconcile_runs.clone(),
        );
        let queue_tasks = Family::<StateLabels, Gauge>::default();
        registry.register(
            "sync_queue_tasks",
            "Sync tasks in the queue by state, sampled at scrape",
            queue_tasks.clone(),
        );
        let read_refusals = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "read_refusals",
            "Refused reads by reason (token_missing, token_invalid, token_expired, out_of_scope)",
            read_refusals.clone(),
        );
        Metrics {
            read_refusals,
            registry,
            sync_tasks,
            reconcile_runs,
            queue_tasks,
            deliveries,
            ack_seconds,
            batch_size,
            commit_seconds,
            projection_failures,
            store_size,
        }
    }

    pub fn delivery(&self, source: &str, event: &str, outcome: &str) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                source: source.to_owned(),
                event: event.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn ack(&self, source: &str, elapsed: Duration) {
        self.ack_seconds
            .get_or_create(&SourceLabels {
                source: source.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    pub fn observe_batch(&self, size: usize, elapsed: Duration) {
        self.batch_size.observe(size as f64);
        self.commit_seconds.observe(elapsed.as_secs_f64());
    }

    pub fn sync_task(&self, task: &str, outcome: &str) {
        self.sync_tasks
            .get_or_create(&TaskLabels {
                task: task.to_owned(),
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    pub fn reconcile_run(&self, ok: bool) {
        self.reconcile_runs
            .get_or_create(&OutcomeLabels {
                outcome: if ok { "ok" } else { "failed" }.to_owned(),
            })
            .inc();
    }

    /// Sets the queue gauges; called just before rendering.
    pub fn queue(&self, counts: &crate::queue::QueueCounts) {
        for (state, n) in [
            ("ready", counts.ready),
            ("leased", counts.leased),
            ("done", counts.done),
            ("dead", counts.dead),
        ] {
            self.queue_tasks
                .get_or_create(&StateLabels {
                    state: state.to_owned(),
                })
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    /// One refused read; `reason` is one of a fixed few, never caller input.
    pub fn read_refused(&self, reason: &'static str) {
        self.read_refusals
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    pub fn projection_failed(&self) {
        self.projection_failures.inc();
    }

    /// Renders every metric; `store_size` is sampled by the caller just before.
    pub fn render(&self, store_size: u64) -> String {
        self.store_size
            .set(i64::try_from(store_size).unwrap_or(i64::MAX));
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}
