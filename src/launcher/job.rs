//! Task kinds and how they run: a source declares each kind of work as a `Job` (a
//! `KIND`, its JSON form, and how to run it with its context) and registers it in
//! `Jobs`; the worker and launchers dispatch a queued `(kind, json)` task by its kind.

use std::collections::BTreeMap;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::JobOutcome;
use crate::queue::{EncodeError, Task};

/// One kind of queued work, as crates.io's background jobs are: a name the queue
/// stores, arguments that are the JSON, and how to run it.
#[async_trait]
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The kind the queue stores; it never changes once tasks of it are queued.
    const KIND: &'static str;
    /// What running it needs (clients, the store), given when it is registered.
    type Context: Clone + Send + Sync + 'static;

    /// A short name for logs, metrics and `reckon queue list`; the kind by default.
    fn name(&self) -> String {
        Self::KIND.to_owned()
    }

    /// What the task covers, e.g. `acme/widgets`; nothing by default.
    fn scope(&self) -> String {
        String::new()
    }

    /// Checks a task that came from outside (a queue row, a message, the job binary's
    /// input); the message says what is wrong.
    fn validate(&self) -> Result<(), String> {
        Ok(())
    }

    /// Whether the worker runs it itself rather than through its launcher, e.g.
    /// because it plans more tasks into the queue.
    fn in_worker(&self) -> bool {
        false
    }

    /// Runs it to its end. Never panics on its input: a bad one is `Permanent`.
    async fn run(&self, ctx: &Self::Context) -> JobOutcome;

    /// The task to queue for it.
    fn to_task(&self) -> Result<Task, EncodeError> {
        Task::new(Self::KIND, self)
    }
}

/// A queued task of a registered kind, as logs and listings name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub name: String,
    pub scope: String,
    pub in_worker: bool,
}

type Running = Pin<Box<dyn Future<Output = JobOutcome> + Send>>;

trait Entry: Send + Sync {
    fn describe(&self, payload: &serde_json::Value) -> Result<Described, String>;
    fn run(&self, payload: serde_json::Value) -> Running;
}

struct Registered<J: Job> {
    /// `None`: known (it can be named and checked) but not runnable in this process.
    ctx: Option<J::Context>,
    job: PhantomData<fn() -> J>,
}

fn decode<J: Job>(payload: &serde_json::Value) -> Result<J, String> {
    let job = J::deserialize(payload).map_err(|e| format!("invalid `{}` task: {e}", J::KIND))?;
    job.validate()
        .map_err(|e| format!("invalid `{}` task: {e}", J::KIND))?;
    Ok(job)
}

impl<J: Job> Entry for Registered<J> {
    fn describe(&self, payload: &serde_json::Value) -> Result<Described, String> {
        let job = decode::<J>(payload)?;
        Ok(Described {
            name: job.name(),
            scope: job.scope(),
            in_worker: job.in_worker(),
        })
    }

    fn run(&self, payload: serde_json::Value) -> Running {
        let ctx = self.ctx.clone();
        Box::pin(async move {
            let job = match decode::<J>(&payload) {
                Ok(job) => job,
                Err(e) => return JobOutcome::Permanent(e),
            };
            let Some(ctx) = ctx else {
                return JobOutcome::Retryable {
                    error: format!("this process cannot run `{}` tasks", J::KIND),
                    retry_at: None,
                };
            };
            job.run(&ctx).await
        })
    }
}

/// The registry of task kinds: built once with `register` (runnable here) or `know`
/// (named and checked only), then asked by kind. An unknown kind is a permanent
/// failure of that task, never a panic.
#[derive(Clone, Default)]
pub struct Jobs {
    kinds: BTreeMap<&'static str, Arc<dyn Entry>>,
}

impl Jobs {
    pub fn new() -> Jobs {
        Jobs::default()
    }

    /// Makes `J` runnable here with `ctx`.
    pub fn register<J: Job>(mut self, ctx: J::Context) -> Jobs {
        let entry = Registered::<J> {
            ctx: Some(ctx),
            job: PhantomData,
        };
        self.kinds.insert(J::KIND, Arc::new(entry));
        self
    }

    /// Makes `J` known without a context: its tasks can be named and checked, and
    /// running one here is a retryable failure (another process may run it).
    pub fn know<J: Job>(mut self) -> Jobs {
        let entry = Registered::<J> {
            ctx: None,
            job: PhantomData,
        };
        self.kinds.entry(J::KIND).or_insert(Arc::new(entry));
        self
    }

    /// The registered kinds, in order.
    pub fn kinds(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.keys().copied()
    }

    fn unknown(&self, kind: &str) -> String {
        let known: Vec<_> = self.kinds().collect();
        format!(
            "unknown task kind `{kind}`: no job of that kind is registered (known: {})",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )
    }

    /// Names a task, or says why it can never run (unknown kind, JSON that is not a
    /// task of its kind).
    pub fn describe(&self, task: &Task) -> Result<Described, String> {
        match self.kinds.get(task.kind.as_str()) {
            Some(entry) => entry.describe(&task.payload),
            None => Err(self.unknown(&task.kind)),
        }
    }

    /// Runs a task by its kind.
    pub async fn run(&self, task: &Task) -> JobOutcome {
        match self.kinds.get(task.kind.as_str()) {
            Some(entry) => entry.run(task.payload.clone()).await,
            None => JobOutcome::Permanent(self.unknown(&task.kind)),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Serialize, Deserialize)]
    struct Echo {
        word: String,
    }

    #[async_trait]
    impl Job for Echo {
        const KIND: &'static str = "echo";
        type Context = String;

        fn validate(&self) -> Result<(), String> {
            if self.word.is_empty() {
                return Err("`word` is empty".into());
            }
            Ok(())
        }

        async fn run(&self, ctx: &String) -> JobOutcome {
            JobOutcome::Done(serde_json::json!(format!("{ctx} {}", self.word)))
        }
    }

    #[tokio::test]
    async fn tasks_run_by_kind_and_unknown_kinds_fail_for_good() {
        let jobs = Jobs::new().register::<Echo>("hello".into());
        let task = Echo {
            word: "world".into(),
        }
        .to_task()
        .unwrap();
        assert_eq!(task.kind, "echo");
        assert_eq!(
            jobs.run(&task).await,
            JobOutcome::Done(serde_json::json!("hello world"))
        );
        let unknown = Task {
            kind: "nope".into(),
            payload: task.payload.clone(),
        };
        let JobOutcome::Permanent(error) = jobs.run(&unknown).await else {
            panic!("an unknown kind fails permanently");
        };
        assert!(error.contains("`nope`"), "{error}");
        assert!(jobs.describe(&unknown).unwrap_err().contains("`nope`"));
        let bad = Task::new("echo", &serde_json::json!({"word": ""})).unwrap();
        assert!(matches!(jobs.run(&bad).await, JobOutcome::Permanent(e) if e.contains("empty")));
        let known = Jobs::new().know::<Echo>();
        assert_eq!(known.describe(&task).unwrap().name, "echo");
        assert!(matches!(
            known.run(&task).await,
            JobOutcome::Retryable { .. }
        ));
    }
}
