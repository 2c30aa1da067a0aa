//! Reconciliation end to end: the real service on port 0 receiving signed webhooks from
//! the GitHub stand-in, the real reconciler, queue, worker and sync tasks on a real
//! SQLite file. Each scenario of the issue is one test.

use std::sync::Arc;
use std::time::Duration;

use reckon::background::SyncParts;
use reckon::launcher::{Job, JobLauncher, ProcessLauncher};
use reckon::queue::{Queue, TaskState};
use reckon::settings::Config;
use reckon::sources::github::reconcile::report::DriftReport;
use reckon::sources::github::reconcile::RunOptions;
use reckon::sources::github::sync::TaskSpec;
use reckon::worker::Worker;
use secrecy::SecretString;

use crate::common::{self, TestApp, SECRET};
use crate::github_standin::{GithubStandin, Hook, World};

const ORG: &str = "acme";

fn world() -> World {
    World::seed(ORG, 6, 3, 8, 3, 60)
}

/// The service, with the stand-in as its GitHub and an org hook pointing back at it.
async fn setup(
    world: World,
    configure: impl FnOnce(&mut Config),
) -> (TestApp, GithubStandin, Config) {
    let standin = GithubStandin::start(world).await;
    let mut config_out = None;
    let app = TestApp::spawn_with(|c| {
        c.github.api.api_url = standin.url.clone();
        c.github.api.token =
            reckon::config::SecretList::new(vec![SecretString::from("ghp_test".to_owned())]);
        c.github.api.orgs = vec![ORG.into()];
        c.github.api.secondary_backoff_seconds = 1;
        c.worker.enabled = false;
        c.reconcile.enabled = false;
        c.queue.backoff_seconds = 0;
        configure(c);
        config_out = Some(c.clone());
    })
    .await;
    standin.world().hooks.push(Hook {
        id: 1,
        repo: None,
        url: format!("{}/hooks/github", app.base),
        secret: SECRET.into(),
        deliveries: Vec::new(),
    });
    (app, standin, config_out.unwrap())
}

async fn parts(config: &Config) -> SyncParts {
    let store = reckon::open_store(config).await.unwrap();
    SyncParts::build(&Arc::new(config.clone()), store)
        .await
        .unwrap()
}

async fn reconcile(parts: &SyncParts) -> DriftReport {
    reconcile_org(parts, ORG).await
}

async fn reconcile_org(parts: &SyncParts, org: &str) -> DriftReport {
    parts
        .reconciler
        .run(
            org,
            RunOptions {
                dry_run: false,
                drain: true,
            },
        )
        .await
        .unwrap()
}

fn drifting(report: &DriftReport) -> Vec<(String, String, i64)> {
    report
        .checks
        .iter()
        .filter(|c| c.drift != 0)
        .map(|c| (c.check.clone(), c.scope.clone(), c.drift))
        .collect()
}

fn pulls_listed(standin: &GithubStandin) -> Vec<String> {
    let w = standin.world();
    let mut repos: Vec<String> = w
        .log
        .iter()
        .filter(|l| l.path.ends_with("/pulls"))
        .map(|l| l.path.split('/').nth(3).unwrap().to_owned())
        .collect();
    repos.dedup();
    repos
}

#[tokio::test]
async fn a_fresh_install_backfills_then_shows_zero_drift() {
    let (app, _standin, config) = setup(world(), |_| {}).await;
    let (status, body) = app.get("/api/v1/github/orgs/acme/drift").await;
    assert_eq!(status, 404);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("reckon reconcile --org acme"),
        "{body}"
    );

    let parts = parts(&config).await;
    let report = reconcile(&parts).await;
    assert_eq!(report.tasks.len(), 1);
    assert_eq!(report.tasks[0].task["task"], "backfill");
    assert!(
        report
            .found
            .iter()
            .any(|c| c.check == "pull_requests_open" && c.drift == 20),
        "{:?}",
        report.found
    );
    assert_eq!(
        drifting(&report),
        vec![],
        "after the backfill nothing drifts"
    );

    // The served report has the contract's shape.
    let drift = app.get_ok("/api/v1/github/orgs/ACME/drift").await;
    assert_eq!(drift["org"], "acme");
    assert_eq!(drift["status"], "ok");
    assert!(
        drift["finished_at"].as_str().unwrap().ends_with('Z')
            || drift["finished_at"].as_str().unwrap().contains('+')
    );
    let repos = drift["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "repos")
        .unwrap();
    assert_eq!(
        (
            repos["scope"].clone(),
            repos["github"].clone(),
            repos["reckon"].clone(),
            repos["drift"].clone()
        ),
        ("acme".into(), 6.into(), 6.into(), 0.into())
    );

    // The next run finds nothing, plans nothing, and costs two GraphQL requests.
    let again = reconcile(&parts).await;
    assert!(again.tasks.is_empty());
    assert_eq!(drifting(&again), vec![]);
    assert_eq!((again.api.requests, again.api.graphql), (2, 2));
}

#[tokio::test]
async fn dropped_webhooks_for_one_repo_are_found_and_only_that_repo_is_synced() {
    let (app, standin, config) = setup(world(), |_| {}).await;
    let parts = parts(&config).await;
    reconcile(&parts).await;

    let now = chrono::Utc::now().timestamp_millis();
    // repo0000's new PR arrives by webhook; repo0003's changes are lost on the way.
    let delivered = {
        let mut w = standin.world();
        let pr = w.open_pr("repo0000", 900, "delivered", 10_001, now);
        w.pr_event(&pr, "opened")
    };
    assert_eq!(standin.deliver(1, "pull_request", delivered).await, 200);
    {
        let mut w = standin.world();
        let repo = w.repo("repo0003").id;
        let id = w.open_pr("repo0003", 901, "lost", 10_002, now).id;
        let open = w
            .prs
            .iter()
            .find(|p| p.repo_id == repo && p.state == "open" && p.id != id)
            .unwrap()
            .id;
        let pr = w.pr_mut(open);
        pr.state = "closed".into();
        pr.merged_at = Some(now);
        pr.closed_at = Some(now);
        pr.updated_at = now;
    }
    standin.clear_log();

    let report = reconcile(&parts).await;
    let found: Vec<_> = report
        .found
        .iter()
        .filter(|c| c.drift != 0 && c.scope.starts_with("repo/"))
        .map(|c| (c.check.as_str(), c.scope.as_str(), c.drift))
        .collect();
    // One PR opened and one merged: open count unchanged, merged +1 on GitHub's side.
    assert_eq!(found, vec![("pull_requests_merged", "repo/repo0003", 1)]);
    assert!(
        found.iter().all(|(_, scope, _)| *scope == "repo/repo0003"),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(check, _, d)| *check == "pull_requests_merged" && *d == 1),
        "{found:?}"
    );
    assert_eq!(report.tasks.len(), 1, "{:?}", report.tasks);
    assert_eq!(report.tasks[0].task["task"], "pull_requests");
    assert_eq!(report.tasks[0].task["repo"], "repo0003");
    assert!(
        report.tasks[0].task["since"].as_i64().is_some(),
        "an incremental listing"
    );
    assert_eq!(
        pulls_listed(&standin),
        vec!["repo0003".to_owned()],
        "only that repo's PRs are listed"
    );
    assert_eq!(drifting(&report), vec![], "the drift is back to 0");

    // The dashboard's tests render a report captured here; keep it in step with the API.
    let served = app.get_ok("/api/v1/github/orgs/acme/drift").await;
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("frontend/test/fixtures/drift.json");
    if std::env::var_os("RECKON_WRITE_DRIFT_FIXTURE").is_some() {
        std::fs::write(&fixture, serde_json::to_string_pretty(&served).unwrap()).unwrap();
    }
    let committed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&fixture).unwrap()).unwrap();
    fn shape(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), shape(v))).collect(),
            serde_json::Value::Array(a) => a.first().map(shape).into_iter().collect(),
            serde_json::Value::Number(_) => "number".into(),
            serde_json::Value::String(_) => "string".into(),
            other => other.clone(),
        }
    }
    let mut live = shape(&served);
    let mut frozen = shape(&committed);
    // The scheduler is off here; `null` either way.
    live.as_object_mut().unwrap().remove("scheduler");
    frozen.as_object_mut().unwrap().remove("scheduler");
    assert_eq!(
        live, frozen,
        "frontend/test/fixtures/drift.json is stale: rerun with RECKON_WRITE_DRIFT_FIXTURE=1"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_failed_delivery_is_found_and_redelivered() {
    let (app, standin, config) = setup(world(), |_| {}).await;
    let parts = parts(&config).await;
    reconcile(&parts).await;

    let now = chrono::Utc::now().timestamp_millis();
    let (delivery, guid) = {
        let mut w = standin.world();
        let pr = w.open_pr("repo0001", 902, "failed once", 10_003, now);
        let payload = w.pr_event(&pr, "opened");
        // GitHub tried, Reckon's endpoint was down: 502, never stored.
        w.record_delivery(1, "pull_request", payload, 502)
    };
    let report = reconcile(&parts).await;
    assert_eq!(
        (
            report.deliveries.hooks,
            report.deliveries.failed,
            report.deliveries.redelivered
        ),
        (1, 1, 1),
        "{:?}",
        report.deliveries
    );
    {
        let w = standin.world();
        let redelivered = w.hooks[0]
            .deliveries
            .iter()
            .find(|d| d.redelivery)
            .expect("a redelivery");
        assert_eq!(
            (redelivered.guid.as_str(), redelivered.status_code),
            (guid.as_str(), 200)
        );
        assert!(w.log.iter().any(|l| l
            .path
            .ends_with(&format!("/deliveries/{delivery}/attempts"))));
    }
    let stored = parts
        .ctx
        .store
        .stored_dedup_keys("github", &[format!("1:{guid}")])
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "the redelivery is stored");

    // The next scan is incremental: it sees only the redelivery, which is stored.
    let next = reconcile(&parts).await;
    assert_eq!(
        (
            next.deliveries.scanned,
            next.deliveries.failed,
            next.deliveries.missing,
            next.deliveries.redelivered
        ),
        (1, 0, 0, 0)
    );
    assert_eq!(drifting(&next), vec![]);
    app.stop().await;
}

#[tokio::test]
async fn when_the_quota_runs_out_work_pauses_and_resumes() {
    let mut w = world();
    w.limit = 8;
    w.window_secs = 2;
    // And the very first request meets a secondary limit with Retry-After.
    w.secondary = Some((1, 1));
    let (_app, standin, config) = setup(w, |c| c.github.api.min_remaining = 0).await;
    let parts = parts(&config).await;
    let started = std::time::Instant::now();
    let report = reckon::sources::github::sync::run(
        &parts.ctx,
        &TaskSpec::Backfill { org: ORG.into() },
        reckon::sources::github::sync::log_progress(),
    )
    .await
    .unwrap();
    assert_eq!(report.fetched, 6 + 3 + 8 + 9 + 60);
    let usage = parts.ctx.github.usage();
    assert_eq!(usage.rate_limited, 1, "the secondary limit");
    let w = standin.world();
    assert!(
        w.log.len() > 8,
        "more requests than one window allows: {}",
        w.log.len()
    );
    assert_eq!(
        w.count(|l| l.status == 403),
        1,
        "the client paced itself from the headers and never hit the primary limit"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn a_spent_quota_beyond_the_wait_bound_sends_the_task_back_to_the_queue() {
    let mut w = world();
    w.limit = 2;
    let (_app, _standin, config) = setup(w, |c| {
        c.github.api.min_remaining = 0;
        c.github.api.max_wait_seconds = 0;
    })
    .await;
    let parts = parts(&config).await;
    let queued = parts
        .queue
        .enqueue(&TaskSpec::Backfill { org: ORG.into() }.to_task().unwrap())
        .await
        .unwrap();
    assert!(parts.worker.run_one().await.unwrap());
    let task = parts.queue.get(queued.id).await.unwrap().unwrap();
    assert_eq!(task.state, TaskState::Ready);
    assert!(
        task.last_error.as_deref().unwrap().contains("rate limit"),
        "{:?}",
        task.last_error
    );
    assert!(
        task.not_before > chrono::Utc::now().timestamp_millis() + 3_000_000,
        "retried after the reset, an hour out"
    );
}

#[tokio::test]
async fn a_crashing_job_is_retried_then_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("crashing-job");
    std::fs::write(&script, "#!/bin/sh\nkill -9 $$\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let queue: Arc<dyn Queue> = Arc::new(
        reckon::queue::sqlite::SqliteQueue::open(
            &dir.path().join("queue.sqlite3"),
            reckon::queue::RetryPolicy {
                max_attempts: 2,
                backoff: Duration::ZERO,
            },
        )
        .unwrap(),
    );
    let launcher: Arc<dyn JobLauncher> = Arc::new(ProcessLauncher::new(script, None));
    let worker = Worker::new(queue.clone(), launcher, Duration::from_secs(60));
    let id = queue
        .enqueue(&TaskSpec::Teams { org: ORG.into() }.to_task().unwrap())
        .await
        .unwrap()
        .id;

    assert!(worker.run_one().await.unwrap());
    let task = queue.get(id).await.unwrap().unwrap();
    assert_eq!((task.state, task.attempts), (TaskState::Ready, 1));
    assert!(worker.run_one().await.unwrap());
    let task = queue.get(id).await.unwrap().unwrap();
    assert_eq!((task.state, task.attempts), (TaskState::Dead, 2));
    assert!(task.last_error.unwrap().contains("killed by a signal"));
    assert_eq!(worker.status().dead, 1);
    assert!(!worker.run_one().await.unwrap(), "nothing left to run");
}

#[tokio::test]
async fn a_sync_racing_a_newer_webhook_does_not_regress_it() {
    let (app, standin, config) = setup(world(), |_| {}).await;
    let parts = parts(&config).await;
    reconcile(&parts).await;

    // The PR is merged and the webhook says so...
    let now = chrono::Utc::now().timestamp_millis();
    let (id, stale, event) = {
        let mut w = standin.world();
        let repo = w.repo("repo0003").id;
        let id = w
            .prs
            .iter()
            .find(|p| p.repo_id == repo && p.state == "open")
            .unwrap()
            .id;
        let stale = w.pr_mut(id).clone();
        let pr = w.pr_mut(id);
        pr.state = "closed".into();
        pr.merged_at = Some(now);
        pr.closed_at = Some(now);
        pr.updated_at = now;
        let merged = pr.clone();
        (id, stale, w.pr_event(&merged, "closed"))
    };
    assert_eq!(standin.deliver(1, "pull_request", event).await, 200);
    // ...while a sync read GitHub a moment before the merge.
    *standin.world().pr_mut(id) = stale;
    let before = parts.ctx.store.org_snapshot(ORG).await.unwrap();
    let repo = standin.world().repo("repo0003").id;
    reckon::sources::github::sync::run(
        &parts.ctx,
        &TaskSpec::PullRequests {
            org: ORG.into(),
            repo: "repo0003".into(),
            since: None,
        },
        reckon::sources::github::sync::log_progress(),
    )
    .await
    .unwrap();
    let after = parts.ctx.store.org_snapshot(ORG).await.unwrap();
    assert_eq!(
        after.pull_requests_of(repo),
        before.pull_requests_of(repo),
        "the merged PR stays merged"
    );
    app.stop().await;
}

#[tokio::test]
async fn conditional_requests_answered_304_cost_no_quota() {
    let (_app, standin, config) = setup(World::seed(ORG, 250, 1, 3, 1, 0), |_| {}).await;
    let parts = parts(&config).await;
    let first = parts.ctx.github.org_repos(ORG).await.unwrap();
    let used = standin.world().log.len();
    let second = parts.ctx.github.org_repos(ORG).await.unwrap();
    assert_eq!(first.len(), 250);
    assert_eq!(second.len(), 250);
    let usage = parts.ctx.github.usage();
    assert_eq!(usage.not_modified, 3, "three pages, each a 304");
    let w = standin.world();
    assert_eq!(w.count(|l| l.status == 304), 3);
    assert_eq!(used, 3);
    let budget = usage.budgets.iter().find(|b| b.resource == "core").unwrap();
    assert_eq!(budget.remaining, 5000 - 3, "304s spent nothing");
}

/// Against real GitHub when `RECKON_TEST_GITHUB_TOKEN` and `RECKON_TEST_GITHUB_ORG` are
/// set (`RECKON_TEST_GITHUB_API_URL` for GitHub Enterprise Server): a dry run, a real
/// reconcile that backfills, then a second reconcile that finds no drift. Skipped here,
/// where GitHub cannot be reached.
#[tokio::test]
async fn against_real_github_when_configured() {
    let (Ok(token), Ok(org)) = (
        std::env::var("RECKON_TEST_GITHUB_TOKEN"),
        std::env::var("RECKON_TEST_GITHUB_ORG"),
    ) else {
        eprintln!("skipped: set RECKON_TEST_GITHUB_TOKEN and RECKON_TEST_GITHUB_ORG to run against GitHub");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = common::test_config(dir.path());
    if let Ok(url) = std::env::var("RECKON_TEST_GITHUB_API_URL") {
        config.github.api.api_url = url;
    }
    config.github.api.token = reckon::config::SecretList::new(vec![SecretString::from(token)]);
    config.github.api.repo_hooks_per_run = 0;
    let parts = parts(&config).await;
    let dry = parts
        .reconciler
        .run(
            &org,
            RunOptions {
                dry_run: true,
                drain: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(dry.tasks.len(), 1, "an empty store plans a backfill");
    let report = reconcile_org(&parts, &org).await;
    assert_eq!(report.status, "ok");
    let again = reconcile_org(&parts, &org).await;
    eprintln!(
        "second reconcile: {} requests, drifting: {:?}",
        again.api.requests,
        drifting(&again)
    );
}

/// `reckon serve` with the scheduler and worker on: the cron firing reconciles, the
/// worker backfills, and of two processes on one data dir only one holds the lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_schedules_reconciles_with_one_leader_and_its_worker_repairs() {
    let standin = GithubStandin::start(world()).await;
    let dir = tempfile::tempdir().unwrap();
    let configure = |c: &mut Config| {
        c.github.api.api_url = standin.url.clone();
        c.github.api.token =
            reckon::config::SecretList::new(vec![SecretString::from("ghp_test".to_owned())]);
        c.github.api.orgs = vec![ORG.into()];
        c.reconcile.schedule = vec!["* * * * * *".into()];
        c.worker.poll_interval_ms = 50;
    };
    let one = TestApp::spawn_in(dir.path(), configure).await;
    let two = TestApp::spawn_in(dir.path(), configure).await;

    // Poll (bounded) until a reconcile after the backfill reports zero drift.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let report = loop {
        let (status, body) = one.get("/api/v1/github/orgs/acme/drift").await;
        if status == 200 {
            let clean = body["checks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c["drift"] == 0);
            if clean && body["tasks"].as_array().unwrap().is_empty() {
                break body;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no clean reconcile within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        report["queue"]["done"], 1,
        "the backfill ran once: {report}"
    );

    let leaders: Vec<bool> = {
        let mut out = Vec::new();
        for app in [&one, &two] {
            let body = app.get_ok("/api/v1/github/orgs/acme/drift").await;
            assert!(body["scheduler"]["last_fired_at"].is_string(), "{body}");
            out.push(body["scheduler"]["leader"].as_bool().unwrap());
        }
        out
    };
    assert_eq!(
        leaders.iter().filter(|l| **l).count(),
        1,
        "exactly one scheduler leads: {leaders:?}"
    );

    let mut metrics = String::new();
    for app in [&one, &two] {
        let res = app.client.get(app.url("/metrics")).send().await.unwrap();
        metrics += &res.text().await.unwrap();
    }
    assert!(
        metrics.contains("reckon_reconcile_runs_total{outcome=\"ok\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("reckon_sync_tasks_total{task=\"backfill\",outcome=\"done\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("reckon_sync_queue_tasks{state=\"done\"} 1"),
        "{metrics}"
    );
    one.stop().await;
    two.stop().await;
}

/// A GitHub App instead of a token: the client finds the org's installation with the
/// App's JWT, mints an installation token, and the stand-in accepts only that token on
/// the org's endpoints. (The key is a throwaway generated for this test.)
#[tokio::test]
async fn a_github_app_authenticates_through_the_orgs_installation() {
    let (_app, standin, config) = setup(world(), |c| {
        c.github.api.token = reckon::config::SecretList::default();
        c.github.api.app_id = Some(4242);
        c.github.api.app_private_key_file = Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/it/github_standin/test-app-key.pem"),
        );
    })
    .await;
    let parts = parts(&config).await;
    let report = reconcile(&parts).await;
    assert_eq!(drifting(&report), vec![]);
    let w = standin.world();
    let installation = w
        .log
        .iter()
        .position(|l| l.path == "/orgs/acme/installation")
        .expect("looked up the installation");
    let token = w
        .log
        .iter()
        .position(|l| l.path == "/app/installations/77/access_tokens")
        .expect("minted a token");
    assert!(installation < token);
    assert_eq!(w.count(|l| l.status == 401), 0, "no request was refused");
    let budgets = parts.ctx.github.usage().budgets;
    assert!(
        budgets.iter().all(|b| b.credential == "installation-77"),
        "{budgets:?}"
    );
}

/// A token without `admin:org_hook` cannot read hooks (GitHub answers 404): the counts
/// are still reconciled and the report says why the deliveries scan was skipped.
#[tokio::test]
async fn a_token_without_hook_access_still_reconciles_counts() {
    let mut w = world();
    w.hidden_paths.push("/hooks".into());
    let (_app, _standin, config) = setup(w, |_| {}).await;
    let parts = parts(&config).await;
    let report = reconcile(&parts).await;
    assert_eq!(report.status, "ok");
    assert_eq!(drifting(&report), vec![]);
    let error = report
        .deliveries
        .error
        .expect("the scan says why it was skipped");
    assert!(error.contains("404"), "{error}");
}

/// A run that fails (GitHub answers 500 past the retries) is reported as failed with its
/// error, and the last good checks stay visible.
#[tokio::test]
async fn a_failed_run_is_reported_and_keeps_the_last_checks() {
    let (app, standin, config) = setup(world(), |_| {}).await;
    let parts = parts(&config).await;
    reconcile(&parts).await;
    standin.world().fail_paths.push("/graphql".into());
    let failed = parts
        .reconciler
        .run(
            ORG,
            RunOptions {
                dry_run: false,
                drain: true,
            },
        )
        .await;
    assert!(failed.is_err());
    let served = app.get_ok("/api/v1/github/orgs/acme/drift").await;
    assert_eq!(served["status"], "failed");
    assert!(
        served["error"].as_str().unwrap().contains("500"),
        "{served}"
    );
    assert!(
        !served["checks"].as_array().unwrap().is_empty(),
        "the last good checks are kept"
    );
}

/// A member removed from a team while the webhook was lost: only that team's members are
/// synced, and the removal is written as a versioned absence.
#[tokio::test]
async fn a_lost_team_removal_is_repaired_by_syncing_only_that_team() {
    let (_app, standin, config) = setup(world(), |_| {}).await;
    let parts = parts(&config).await;
    reconcile(&parts).await;
    let removed = standin.world().teams[1].members.remove(0);
    let report = reconcile(&parts).await;
    let found: Vec<_> = report
        .found
        .iter()
        .filter(|c| c.drift != 0)
        .map(|c| (c.check.as_str(), c.scope.as_str(), c.drift))
        .collect();
    assert_eq!(
        found,
        vec![
            ("team_members", "acme", -1),
            ("team_members", "team/team-1", -1)
        ]
    );
    assert_eq!(report.tasks.len(), 1);
    assert_eq!(report.tasks[0].task["task"], "team_members");
    assert_eq!(report.tasks[0].task["team"], "team-1");
    assert_eq!(drifting(&report), vec![]);
    let members = parts
        .ctx
        .store
        .team_members(ORG, "team-1")
        .await
        .unwrap()
        .unwrap();
    assert!(members.iter().all(|m| m.user_id != removed));
}

/// A repo deleted while its webhook was lost: confirmed gone by id, marked deleted, and
/// its PRs are then neither counted nor reported as orphans.
#[tokio::test]
async fn a_repo_deleted_on_github_is_confirmed_and_marked_deleted() {
    let (_app, standin, config) = setup(world(), |_| {}).await;
    let parts = parts(&config).await;
    reconcile(&parts).await;
    let gone = {
        let mut w = standin.world();
        let i = w.repos.iter().position(|r| r.name == "repo0005").unwrap();
        w.repos.remove(i).id
    };
    standin.clear_log();
    let report = reconcile(&parts).await;
    assert!(
        report
            .found
            .iter()
            .any(|c| c.check == "repos" && c.drift == -1),
        "{:?}",
        report.found
    );
    assert_eq!(report.tasks.len(), 1);
    assert_eq!(report.tasks[0].task["task"], "repos");
    assert!(
        standin
            .world()
            .log
            .iter()
            .any(|l| l.path == format!("/repositories/{gone}") && l.status == 404),
        "deletion is confirmed by id before it is written"
    );
    assert_eq!(drifting(&report), vec![]);
    let snapshot = parts.ctx.store.org_snapshot(ORG).await.unwrap();
    assert!(snapshot.deleted_repos.contains(&gone));
}
