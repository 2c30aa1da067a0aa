//! The AWS side against moto's server and a small ECS stand-in: the SQS queue with its
//! dead letters and store ledger, the ECS launcher's exit-code contract, the worker
//! running EventBridge-scheduled reconciles from SQS, `reckon queue` on SQS, config
//! and (with `RECKON_TEST_AWS_TF_OUTPUTS`) what `terraform/moto` created. The AWS
//! config keys are tested with the rest of the config, in `src/config/`.

use std::sync::Arc;
use std::time::Duration;

use reckon::aws::AwsConfig;
use reckon::launcher::ecs::EcsConfig;
use reckon::launcher::Job;
use reckon::launcher::{Attempt, EcsLauncher, JobLauncher, JobOutcome};
use reckon::queue::sqs::{Ledger, SqsConfig, SqsQueue};
use reckon::queue::QueueBackend;
use reckon::queue::Task;
use reckon::queue::{Queue, RetryPolicy, TaskState};
use reckon::sources::github::sync::TaskSpec;
use reckon::store::sqlite::{SqliteOptions, SqliteStore};
use reckon::store::Store;
use reckon::worker::Worker;

use crate::common;
use crate::ecs_stub::{self, EcsStub, Script};
use crate::github_standin;
use crate::moto::{self, Aws};

fn teams(org: &str) -> Task {
    TaskSpec::Teams { org: org.into() }.to_task().unwrap()
}

/// Which GitHub sync task a row is (`teams`, `reconcile`, ...).
fn sync_task(row: &reckon::queue::TaskRow) -> &str {
    assert_eq!(row.spec.kind, TaskSpec::KIND);
    row.spec.payload["task"].as_str().unwrap_or_default()
}

fn sqlite_store(dir: &std::path::Path) -> Arc<dyn Store> {
    let options = SqliteOptions {
        synchronous: reckon::store::sqlite::Synchronous::Normal,
        read_pool_size: 2,
    };
    Arc::new(SqliteStore::open(&dir.join("reckon.sqlite3"), &options).unwrap())
}

async fn sqs_queue(
    aws: &Aws,
    store: Arc<dyn Store>,
    max_attempts: u32,
) -> (SqsQueue, String, String) {
    let (url, dlq) = aws.queues(10).await;
    let config = SqsConfig {
        queue_url: Some(url.clone()),
        dead_letter_queue_url: Some(dlq.clone()),
        receive_wait_seconds: 0,
        done_retention_hours: 168,
    };
    let policy = RetryPolicy {
        max_attempts,
        backoff: Duration::ZERO,
    };
    let queue = SqsQueue::new(aws.sqs().await, &config, Ledger::new(store), policy).unwrap();
    (queue, url, dlq)
}

fn ecs_config() -> EcsConfig {
    EcsConfig {
        cluster: Some(ecs_stub::CLUSTER.into()),
        task_definition: Some("reckon-job".into()),
        container: ecs_stub::CONTAINER.into(),
        launch_type: "FARGATE".into(),
        subnets: vec!["subnet-0a1b2c".into()],
        security_groups: vec!["sg-0a1b2c".into()],
        assign_public_ip: false,
        deadline_seconds: 60,
        poll_interval_ms: 10,
    }
}

async fn ecs_launcher(stub: &EcsStub, config: EcsConfig) -> EcsLauncher {
    let sdk = reckon::aws::loader(&AwsConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(stub.url.clone()),
    })
    .credentials_provider(aws_sdk_ecs::config::Credentials::new(
        "testing", "testing", None, None, "stub",
    ))
    .load()
    .await;
    EcsLauncher::new(aws_sdk_ecs::Client::new(&sdk), config)
}

const FIRST: Attempt = Attempt { task: 7, number: 1 };

#[tokio::test]
async fn ecs_exit_codes_decide_the_outcome() {
    let stub = EcsStub::start(vec![
        Script::Exit(0),
        Script::Exit(75),
        Script::Exit(65),
        Script::Exit(137),
        Script::NoExit("CannotPullContainerError: pull access denied"),
        Script::FailToStart("RESOURCE:MEMORY"),
    ])
    .await;
    let launcher = ecs_launcher(&stub, ecs_config()).await;
    let mut outcomes = Vec::new();
    for task in 1..=6 {
        outcomes.push(
            launcher
                .launch(&teams("acme"), Attempt { task, number: 1 })
                .await,
        );
    }
    assert!(
        matches!(outcomes[0], JobOutcome::Done(_)),
        "{:?}",
        outcomes[0]
    );
    assert!(
        matches!(&outcomes[1], JobOutcome::Retryable { error, .. } if error.contains("exited 75")),
        "{:?}",
        outcomes[1]
    );
    assert!(
        matches!(outcomes[2], JobOutcome::Permanent(_)),
        "{:?}",
        outcomes[2]
    );
    assert!(
        matches!(&outcomes[3], JobOutcome::Retryable { error, .. } if error.contains("crash")),
        "{:?}",
        outcomes[3]
    );
    assert!(
        matches!(&outcomes[4], JobOutcome::Retryable { error, .. } if error.contains("CannotPullContainerError")),
        "{:?}",
        outcomes[4]
    );
    assert!(
        matches!(&outcomes[5], JobOutcome::Retryable { error, .. } if error.contains("RESOURCE:MEMORY")),
        "{:?}",
        outcomes[5]
    );

    // Each job got its spec, the subnets, and a token naming task and attempt.
    let started = stub.started();
    assert_eq!(started.len(), 5, "the failed start started nothing");
    assert_eq!(started[0].client_token, "reckon-1-1");
    assert_eq!(started[0].subnets, vec!["subnet-0a1b2c".to_owned()]);
    let spec: TaskSpec = serde_json::from_str(started[0].spec.as_deref().unwrap()).unwrap();
    assert_eq!(spec.to_task().unwrap(), teams("acme"));
}

#[tokio::test]
async fn a_retried_dispatch_does_not_start_a_second_task() {
    let stub = EcsStub::start(vec![Script::Exit(0), Script::Exit(0)]).await;
    let launcher = ecs_launcher(&stub, ecs_config()).await;
    launcher.launch(&teams("acme"), FIRST).await;
    launcher.launch(&teams("acme"), FIRST).await;
    assert_eq!(
        stub.started().len(),
        1,
        "same task and attempt: one ECS task"
    );
    launcher
        .launch(&teams("acme"), Attempt { task: 7, number: 2 })
        .await;
    assert_eq!(stub.started().len(), 2, "a new attempt is a new ECS task");
}

#[tokio::test]
async fn a_job_past_its_deadline_is_stopped_and_retried() {
    let stub = EcsStub::start(vec![Script::NeverStops]).await;
    let launcher = ecs_launcher(
        &stub,
        EcsConfig {
            deadline_seconds: 1,
            ..ecs_config()
        },
    )
    .await;
    let outcome = launcher.launch(&teams("acme"), FIRST).await;
    assert!(
        matches!(&outcome, JobOutcome::Retryable { error, .. } if error.contains("deadline")),
        "{outcome:?}"
    );
    assert_eq!(stub.stopped(), vec![stub.started()[0].arn.clone()]);
}

#[tokio::test]
async fn what_ecs_rejects_is_a_retryable_start_failure() {
    let stub = EcsStub::start(vec![]).await;
    let wrong_cluster = EcsConfig {
        cluster: Some("nope".into()),
        ..ecs_config()
    };
    let outcome = ecs_launcher(&stub, wrong_cluster)
        .await
        .launch(&teams("acme"), FIRST)
        .await;
    assert!(
        matches!(&outcome, JobOutcome::Retryable { error, .. } if error.contains("ClusterNotFoundException")),
        "{outcome:?}"
    );
    assert!(stub.started().is_empty());
}

#[tokio::test]
async fn worker_runs_sqs_tasks_on_ecs_and_retries_by_exit_code() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let (queue, _, dlq) = sqs_queue(&aws, sqlite_store(dir.path()), 3).await;
    let queue: Arc<dyn Queue> = Arc::new(queue);
    let stub = EcsStub::start(vec![Script::Exit(75), Script::Exit(0), Script::Exit(65)]).await;
    let launcher = Arc::new(ecs_launcher(&stub, ecs_config()).await);
    let worker = Worker::new(queue.clone(), launcher, Duration::from_secs(60));

    let id = queue.enqueue(&teams("acme")).await.unwrap().id;
    assert!(worker.run_one().await.unwrap());
    let row = queue.get(id).await.unwrap().unwrap();
    assert_eq!(
        (row.state, row.attempts),
        (TaskState::Ready, 1),
        "exit 75 retries"
    );
    assert!(worker.run_one().await.unwrap());
    assert_eq!(queue.get(id).await.unwrap().unwrap().state, TaskState::Done);
    let tokens: Vec<_> = stub.started().into_iter().map(|s| s.client_token).collect();
    assert_eq!(
        tokens,
        vec![format!("reckon-{id}-1"), format!("reckon-{id}-2")]
    );

    // Exit 65: dead at once, with a copy in the dead-letter queue.
    let other = queue.enqueue(&teams("widgets")).await.unwrap().id;
    assert!(worker.run_one().await.unwrap());
    assert_eq!(
        queue.get(other).await.unwrap().unwrap().state,
        TaskState::Dead
    );
    let dead = aws.peek(&dlq).await;
    assert_eq!(dead.len(), 1);
    assert!(
        dead[0].contains("widgets") && dead[0].contains("exit 65"),
        "{}",
        dead[0]
    );
    assert!(!worker.run_one().await.unwrap(), "nothing else is due");
}

#[tokio::test]
async fn sqs_queue_extends_leases_expires_finished_records_and_survives_a_lost_one() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path());
    let (queue, url, _) = sqs_queue(&aws, store.clone(), 3).await;
    let id = queue.enqueue(&teams("acme")).await.unwrap().id;
    let lease = queue
        .lease("w1", Duration::from_secs(1))
        .await
        .unwrap()
        .unwrap();
    // Extending keeps the message hidden past its first visibility timeout.
    assert!(queue.extend(&lease, Duration::from_secs(60)).await.unwrap());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(queue
        .lease("w2", Duration::from_secs(60))
        .await
        .unwrap()
        .is_none());
    assert!(queue.complete(&lease).await.unwrap());
    assert!(
        !queue.extend(&lease, Duration::from_secs(60)).await.unwrap(),
        "a finished lease cannot be extended"
    );

    // Finished tasks leave the ledger after `sqs.done_retention_hours` (a week here).
    let ledger = Ledger::new(store.clone());
    let mut old = ledger.get(id).await.unwrap().unwrap();
    assert_eq!(old.state, TaskState::Done);
    old.updated_at -= 169 * 3_600_000;
    ledger.put(&old).await.unwrap();
    assert_eq!(queue.counts().await.unwrap().done, 0);
    assert!(
        ledger.get(id).await.unwrap().is_none(),
        "the expired record is deleted"
    );

    // A message whose record is gone (purged, or its enqueuer died) is recorded again;
    // this one is as Reckon wrote them before kinds, so it is a GitHub sync task.
    let sqs = aws.sqs().await;
    let body = serde_json::json!({"id": id + 100, "spec": teams("gone").payload}).to_string();
    sqs.send_message()
        .queue_url(&url)
        .message_body(body)
        .send()
        .await
        .unwrap();
    let lease = queue
        .lease("w1", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((lease.id, lease.spec.clone()), (id + 100, teams("gone")));
    assert!(queue.complete(&lease).await.unwrap());

    // An unreadable message goes to the dead letters instead of blocking the queue.
    sqs.send_message()
        .queue_url(&url)
        .message_body("[\"nonsense\"]")
        .send()
        .await
        .unwrap();
    assert!(queue
        .lease("w1", Duration::from_secs(60))
        .await
        .unwrap()
        .is_none());

    // A bare task no job reads is a task that fails for good: the worker dead-letters
    // it with the reason, without launching it, and the queue moves on.
    struct NeverLaunched;
    #[async_trait::async_trait]
    impl JobLauncher for NeverLaunched {
        async fn launch(&self, task: &Task, _: Attempt) -> JobOutcome {
            panic!("a task that can never run was launched: {task:?}");
        }
    }
    sqs.send_message()
        .queue_url(&url)
        .message_body("{\"task\": \"nonsense\"}")
        .send()
        .await
        .unwrap();
    let worker = Worker::new(
        Arc::new(queue.clone()),
        Arc::new(NeverLaunched),
        Duration::from_secs(60),
    );
    assert!(worker.run_one().await.unwrap());
    let dead = queue.list(Some(TaskState::Dead), 10).await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    let error = dead[0].last_error.as_deref().unwrap_or_default();
    assert!(error.contains("invalid `github-sync` task"), "{error}");
    assert!(queue
        .lease("w1", Duration::from_secs(60))
        .await
        .unwrap()
        .is_none());
}

/// EventBridge Scheduler's message (a bare spec with the firing time) is leased from
/// SQS by the worker, which reconciles against GitHub and queues the repair there too.
#[tokio::test]
async fn a_scheduled_reconcile_from_sqs_plans_and_repairs() {
    let aws = Aws::start();
    let standin =
        github_standin::GithubStandin::start(github_standin::World::seed("acme", 3, 2, 4, 2, 10))
            .await;
    let dir = tempfile::tempdir().unwrap();
    let (url, dlq) = aws.queues(10).await;
    let mut config = common::test_config(dir.path());
    config.github.api.api_url = standin.url.clone();
    config.github.api.token =
        reckon::config::SecretList::new(vec![secrecy::SecretString::from("ghp_test".to_owned())]);
    config.github.api.orgs = vec!["acme".into()];
    config.reconcile.enabled = false;
    config.queue.backend = QueueBackend::Sqs;
    config.queue.backoff_seconds = 0;
    config.sqs.queue_url = Some(url.clone());
    config.sqs.dead_letter_queue_url = Some(dlq);
    config.sqs.receive_wait_seconds = 0;
    config.aws = aws.config();
    // moto's fixed credentials, as the SDK's default chain reads them, are in the
    // environment: `Aws::start` put them there (see `moto::sdk_default_chain_credentials`).
    config.validate().unwrap();
    let store = reckon::open_store(&config).await.unwrap();
    let parts = reckon::background::SyncParts::build(&Arc::new(config), store.clone())
        .await
        .unwrap();

    let scheduled = r#"{"task":"reconcile","org":"acme","scheduled_at":"2026-11-29T07:07:00Z"}"#;
    let sqs = aws.sqs().await;
    sqs.send_message()
        .queue_url(&url)
        .message_body(scheduled)
        .send()
        .await
        .unwrap();
    // SQS delivers at least once: a second copy of the firing reconciles again, and
    // the repair both runs plan is queued once, since the first is still pending.
    sqs.send_message()
        .queue_url(&url)
        .message_body(scheduled)
        .send()
        .await
        .unwrap();

    assert!(
        parts.worker.run_one().await.unwrap(),
        "the scheduled reconcile ran"
    );
    let tasks = parts.queue.list(None, 100).await.unwrap();
    let kinds: Vec<_> = tasks.iter().map(|t| (sync_task(t), t.state)).collect();
    assert!(kinds.contains(&("reconcile", TaskState::Done)), "{kinds:?}");
    assert!(
        kinds.contains(&("backfill", TaskState::Ready)),
        "an unknown org is backfilled: {kinds:?}"
    );

    // The worker drains what was planned.
    while parts.worker.run_one().await.unwrap() {}
    let tasks = parts.queue.list(None, 100).await.unwrap();
    assert_eq!(
        tasks.iter().filter(|t| sync_task(t) == "reconcile").count(),
        2,
        "{tasks:?}"
    );
    assert_eq!(
        tasks.iter().filter(|t| sync_task(t) == "backfill").count(),
        1,
        "{tasks:?}"
    );
    assert!(
        tasks.iter().all(|t| t.state == TaskState::Done),
        "{tasks:?}"
    );
    assert!(store.org_known("acme").await.unwrap());

    // The next firing finds nothing to repair.
    let next = scheduled.replace("07:07", "08:07");
    sqs.send_message()
        .queue_url(&url)
        .message_body(next)
        .send()
        .await
        .unwrap();
    assert!(parts.worker.run_one().await.unwrap());
    let report = reckon::sources::github::reconcile::last_report(store.as_ref(), "acme")
        .await
        .unwrap()
        .unwrap();
    assert!(
        report.checks.iter().all(|c| c.drift == 0),
        "{:?}",
        report.checks
    );
    assert!(
        !parts.worker.run_one().await.unwrap(),
        "no repair was planned"
    );
}

/// `reckon queue list|retry|purge` on SQS, through the real binary.
#[tokio::test]
async fn reckon_queue_commands_work_on_sqs() {
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let store = sqlite_store(dir.path());
    let (queue, url, dlq) = sqs_queue(&aws, store.clone(), 3).await;
    let done = queue.enqueue(&teams("acme")).await.unwrap().id;
    let lease = queue
        .lease("w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    queue.complete(&lease).await.unwrap();
    let dead = queue.enqueue(&teams("widgets")).await.unwrap().id;
    let lease = queue
        .lease("w", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    queue
        .fail(&lease, "bad credentials", false, None)
        .await
        .unwrap();
    drop(store);

    let run = |args: &[&str]| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_reckon"));
        // Only what is set here: other tests in this binary change RECKON_* variables.
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(args)
            .env("RECKON_DATA_DIR", dir.path())
            .env("RECKON_QUEUE_BACKEND", "sqs")
            .env("RECKON_QUEUE_MAX_ATTEMPTS", "3")
            .env("RECKON_SQS_QUEUE_URL", &url)
            .env("RECKON_SQS_DEAD_LETTER_QUEUE_URL", &dlq)
            .env("RECKON_AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("RECKON_LOG_LEVEL", "warn");
        if let Some(endpoint) = &aws.endpoint {
            command.env("RECKON_AWS_ENDPOINT_URL", endpoint);
        }
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let list = run(&["queue", "list"]);
    assert!(
        list.starts_with("0 ready, 0 leased, 1 done, 1 dead"),
        "{list}"
    );
    assert!(list.contains("bad credentials"), "{list}");
    assert_eq!(
        run(&["queue", "retry", "--dead"]).trim(),
        "1 of 1 tasks queued again"
    );
    assert!(run(&["queue", "list", "--state", "ready"]).contains(&format!("{dead:<6} ready")));
    assert!(
        aws.peek(&dlq).await.is_empty(),
        "the dead-letter copy is gone"
    );
    assert_eq!(
        run(&["queue", "purge", "--state", "done"]).trim(),
        "purged 1 done tasks"
    );
    let json: serde_json::Value = serde_json::from_str(&run(&["queue", "list", "--json"])).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 1);
    assert_ne!(json[0]["id"], done);
}

/// What `terraform/moto/apply.sh` created on moto, used by Reckon as deployed: the
/// queue with its redrive policy, and RunTask of the jobs task definition. Runs when
/// `RECKON_TEST_AWS_TF_OUTPUTS` names the outputs file (scripts/test.sh sets it).
#[tokio::test]
async fn terraform_created_resources_serve_reckon() {
    let Ok(path) = std::env::var("RECKON_TEST_AWS_TF_OUTPUTS") else {
        eprintln!("skipped: set RECKON_TEST_AWS_TF_OUTPUTS (scripts/test.sh applies terraform/moto and sets it)");
        return;
    };
    let outputs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let out = |name: &str| outputs[name]["value"].clone();
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let config = SqsConfig {
        queue_url: out("queue_url").as_str().map(str::to_owned),
        dead_letter_queue_url: out("dlq_url").as_str().map(str::to_owned),
        receive_wait_seconds: 0,
        done_retention_hours: 168,
    };
    let policy = RetryPolicy {
        max_attempts: 2,
        backoff: Duration::ZERO,
    };
    let queue = SqsQueue::new(
        aws.sqs().await,
        &config,
        Ledger::new(sqlite_store(dir.path())),
        policy,
    )
    .unwrap();

    // The queue's redrive policy points at the dead-letter queue Reckon writes to.
    let attrs = aws
        .sqs()
        .await
        .get_queue_attributes()
        .queue_url(config.queue_url.as_deref().unwrap())
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::All)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap();
    let redrive = &attrs[&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy];
    assert!(
        redrive.contains(out("dlq_arn").as_str().unwrap_or("-dlq")),
        "{redrive}"
    );

    let id = queue.enqueue(&teams("acme")).await.unwrap().id;
    let lease = queue
        .lease("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        queue.fail(&lease, "no", false, None).await.unwrap(),
        reckon::queue::Failed::Dead
    );
    assert_eq!(
        aws.peek(config.dead_letter_queue_url.as_deref().unwrap())
            .await
            .len(),
        1
    );
    assert!(queue.retry(id).await.unwrap());
    let lease = queue
        .lease("w", Duration::from_secs(30))
        .await
        .unwrap()
        .unwrap();
    assert!(queue.complete(&lease).await.unwrap());

    // RunTask of the jobs task definition on the created cluster, polled until moto
    // reports it stopped. moto reports every task as exiting 0; the exit-code mapping
    // is tested against the ECS stand-in.
    let strings = |v: serde_json::Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    let ecs = EcsConfig {
        cluster: out("ecs_cluster_arn").as_str().map(str::to_owned),
        task_definition: out("jobs_task_definition_arn").as_str().map(str::to_owned),
        container: out("jobs_container_name")
            .as_str()
            .unwrap_or("reckon-job")
            .to_owned(),
        subnets: strings(out("subnet_ids")),
        security_groups: strings(out("security_group_ids")),
        deadline_seconds: 60,
        poll_interval_ms: 100,
        ..ecs_config()
    };
    let sdk = match &aws.endpoint {
        Some(moto) => {
            let fixed = moto::ecs_string_fix(moto).await;
            let ecs = aws_sdk_ecs::config::Builder::from(&aws.sdk().await).endpoint_url(fixed);
            aws_sdk_ecs::Client::from_conf(ecs.build())
        }
        None => aws_sdk_ecs::Client::new(&aws.sdk().await),
    };
    let launcher = EcsLauncher::new(sdk, ecs);
    let outcome = launcher
        .launch(
            &teams("acme"),
            Attempt {
                task: id,
                number: 1,
            },
        )
        .await;
    assert!(matches!(outcome, JobOutcome::Done(_)), "{outcome:?}");
}

/// A job that runs past its lease: the worker's heartbeats keep the message hidden,
/// so no other worker takes the task meanwhile.
#[tokio::test]
async fn the_worker_extends_a_long_task_lease() {
    struct Slow {
        queue: Arc<dyn Queue>,
        stolen: Arc<std::sync::Mutex<Option<bool>>>,
    }
    #[async_trait::async_trait]
    impl JobLauncher for Slow {
        async fn launch(&self, _: &Task, _: Attempt) -> JobOutcome {
            // Longer than the 2 s lease the worker took.
            tokio::time::sleep(Duration::from_millis(3500)).await;
            let lease = self
                .queue
                .lease("thief", Duration::from_secs(60))
                .await
                .unwrap();
            *self.stolen.lock().unwrap() = Some(lease.is_some());
            JobOutcome::Done(Default::default())
        }
    }
    let aws = Aws::start();
    let dir = tempfile::tempdir().unwrap();
    let (queue, _, _) = sqs_queue(&aws, sqlite_store(dir.path()), 3).await;
    let queue: Arc<dyn Queue> = Arc::new(queue);
    let stolen = Arc::new(std::sync::Mutex::new(None));
    let launcher = Arc::new(Slow {
        queue: queue.clone(),
        stolen: stolen.clone(),
    });
    let worker = Worker::new(queue.clone(), launcher, Duration::from_secs(2));
    let id = queue.enqueue(&teams("acme")).await.unwrap().id;
    assert!(worker.run_one().await.unwrap());
    assert_eq!(
        *stolen.lock().unwrap(),
        Some(false),
        "the lease was extended"
    );
    let row = queue.get(id).await.unwrap().unwrap();
    assert_eq!((row.state, row.attempts), (TaskState::Done, 1));
}
