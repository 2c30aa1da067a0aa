//! API-cost benchmark: how many requests a reconcile costs against the GitHub stand-in
//! for a big org, next to the naive baseline of listing every PR, in the same run.
//! Seeds R repos, T teams of M members and N PRs, backfills Reckon (SQLite), then:
//!   1. a reconcile with no drift (the Deliveries API scan counted apart, twice, to show
//!      it is incremental);
//!   2. a reconcile with drift in one repo (which repos' PRs were listed again);
//!   3. the naive approach: list every repo, then every PR of every repo.
//!
//!     cargo bench --bench reconcile_cost -- --repos 1000 --teams 100 --prs 100000

#[path = "common/args.rs"]
mod args;
// The integration tests' GitHub stand-in, of which the benchmark uses a part.
#[allow(dead_code)]
#[path = "../tests/it/github_standin/mod.rs"]
mod github_standin;

use std::sync::Arc;
use std::time::Instant;

use github_standin::{GithubStandin, Hook, World};
use reckon::background::SyncParts;
use reckon::config::SecretList;
use reckon::model::Envelope;
use reckon::settings::Config;
use reckon::sources::github::reconcile::RunOptions;
use reckon::sources::github::sync::TaskSpec;
use reckon::store::sqlite::Synchronous;
use secrecy::SecretString;

const ORG: &str = "bench-org";

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|k| k.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// Journals deliveries as if they had arrived by webhook, so the scan finds them stored.
async fn store_deliveries(parts: &SyncParts, guids: &[String]) {
    let now = chrono::Utc::now().timestamp_millis();
    let batch = guids
        .iter()
        .map(|guid| Envelope {
            source: "github".into(),
            kind: "ping".into(),
            action: None,
            delivery_id: guid.clone(),
            hook_id: Some("1".into()),
            dedup_key: format!("1:{guid}"),
            received_at: now,
            size: 2,
            payload: b"{}".to_vec(),
            content_type: Default::default(),
            writes: Vec::new(),
        })
        .collect();
    parts.ctx.store.write_batch(batch).await.unwrap();
}

fn add_deliveries(standin: &GithubStandin, n: usize) -> Vec<String> {
    let mut w = standin.world();
    (0..n)
        .map(|_| w.record_delivery(1, "push", b"{}".to_vec(), 200).1)
        .collect()
}

#[tokio::main]
async fn main() {
    let repos = args::number("--repos", 1_000);
    let teams = args::number("--teams", 100);
    let members = args::number("--members", 1_000);
    let per_team = args::number("--per-team", 10);
    let prs = args::number("--prs", 100_000);
    println!("reconcile API cost: {repos} repos, {teams} teams of {per_team}, {members} members, {prs} PRs");
    println!("reproduce: cargo bench --bench reconcile_cost -- --repos {repos} --teams {teams} --prs {prs}\n");

    let mut world = World::seed(ORG, repos, teams, members, per_team, prs);
    world.hooks.push(Hook {
        id: 1,
        repo: None,
        url: "https://reckon.example.com/hooks/github".into(),
        secret: "s".into(),
        deliveries: Vec::new(),
    });
    let standin = GithubStandin::start(world).await;
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    config.data_dir = dir.path().to_owned();
    config.sqlite.synchronous = Synchronous::Normal;
    config.github.api.api_url = standin.url.clone();
    config.github.api.token = SecretList::new(vec![SecretString::from("ghp_bench".to_owned())]);
    config.github.api.repo_hooks_per_run = 0;
    config.github.api.webhook_url = Some("https://reckon.example.com/hooks/github".into());
    let store = reckon::open_store(&config).await.unwrap();
    let parts = SyncParts::build(&Arc::new(config), store).await.unwrap();

    let t = Instant::now();
    reckon::sources::github::sync::run(
        &parts.ctx,
        &TaskSpec::Backfill { org: ORG.into() },
        Arc::new(|_, _, _| {}),
    )
    .await
    .unwrap();
    println!(
        "backfill:                       {:>6} requests  {:>7.1} s",
        standin.requests(),
        t.elapsed().as_secs_f64()
    );

    // GitHub keeps 3 days of deliveries; 250 are already there and stored.
    let old = add_deliveries(&standin, 250);
    store_deliveries(&parts, &old).await;
    let run = |dry_run| {
        parts.reconciler.run(
            ORG,
            RunOptions {
                dry_run,
                drain: true,
            },
        )
    };
    let first = run(false).await.unwrap();
    println!(
        "first reconcile (sets cursors): {:>6} requests, deliveries scan {} requests for {} deliveries",
        first.api.requests, first.deliveries.requests, first.deliveries.scanned
    );

    let fresh = add_deliveries(&standin, 20);
    store_deliveries(&parts, &fresh).await;
    standin.clear_log();
    let t = Instant::now();
    let quiet = run(false).await.unwrap();
    let drifting = quiet.checks.iter().filter(|c| c.drift != 0).count();
    assert_eq!(drifting, 0, "no drift expected");
    println!(
        "reconcile, no drift:            {:>6} requests ({} GraphQL)  {:>7.3} s   target <= 40",
        quiet.api.requests,
        quiet.api.graphql,
        t.elapsed().as_secs_f64()
    );
    println!(
        "  deliveries scan (apart):      {:>6} requests for {} new deliveries (incremental from the last run)",
        quiet.deliveries.requests, quiet.deliveries.scanned
    );

    // Drift in one repo: two PRs GitHub has and Reckon never heard of.
    {
        let now = chrono::Utc::now().timestamp_millis();
        let mut w = standin.world();
        for n in 0..2 {
            w.open_pr("repo0042", 10_000 + n, "missed", 10_000, now);
        }
    }
    standin.clear_log();
    let t = Instant::now();
    let drift = run(false).await.unwrap();
    let listed: std::collections::BTreeSet<String> = standin
        .world()
        .log
        .iter()
        .filter(|l| l.path.ends_with("/pulls"))
        .map(|l| l.path.split('/').nth(3).unwrap_or("").to_owned())
        .collect();
    let sync_requests = standin.world().count(|l| l.path.ends_with("/pulls"));
    println!(
        "reconcile, drift in one repo:   {:>6} requests ({} checks before + after the repair, {} PR listing) {:>7.3} s; PRs listed again for: {:?}; drift after: {}",
        drift.api.requests + sync_requests as u64,
        drift.api.requests,
        sync_requests,
        t.elapsed().as_secs_f64(),
        listed,
        drift.checks.iter().filter(|c| c.drift != 0).count()
    );

    // The naive baseline, on a client with no ETag cache.
    let naive = reckon::sources::github::upstream::GithubClient::new(&{
        let mut c = Config::defaults();
        c.github.api.api_url = standin.url.clone();
        c.github.api.token = SecretList::new(vec![SecretString::from("ghp_naive".to_owned())]);
        c.github.api
    })
    .unwrap();
    standin.clear_log();
    let t = Instant::now();
    let all_repos = naive.org_repos(ORG).await.unwrap();
    let mut listed_prs = 0;
    for r in &all_repos {
        let name = r.name.clone().unwrap();
        listed_prs += naive
            .pulls_updated_since(ORG, &name, None, |_| {})
            .await
            .unwrap()
            .len();
    }
    println!(
        "naive: list every PR:           {:>6} requests for {} PRs  {:>7.1} s",
        standin.requests(),
        listed_prs,
        t.elapsed().as_secs_f64()
    );
    println!(
        "\npeak RSS (stand-in, Reckon and the store in one process): {:.0} MiB",
        peak_rss_mib()
    );
}
