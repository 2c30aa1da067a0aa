//! Stats benchmark: how fast the queries behind the dashboard answer on a large org.
//! Seeds a SQLite store with R repos, T teams of M members and N PRs over two years, then
//! times each query the dashboard makes, against `ping` (a pooled `SELECT 1`) measured in
//! the same run as the baseline. Prints p50/p95 per query and the whole overview page.
//!
//!     cargo bench --bench stats -- --prs 100000 --repos 1000 --teams 100 --iterations 30

#[path = "common/args.rs"]
mod args;

use std::sync::Arc;
use std::time::{Duration, Instant};

use reckon::model::{
    version, EntityWrite, Envelope, Membership, Org, PrState, PullRequest, Repo, Team,
};
use reckon::stats::{Interval, PrFilter, TimeRange};
use reckon::store::sqlite::{SqliteOptions, SqliteStore};
use reckon::store::Store;

const DAY: i64 = 86_400_000;
/// 2024-11-25T00:00:00Z: the seeded history runs two years from here.
const START: i64 = 1_732_492_800_000;
const ORG: &str = "bench-org";

struct Options {
    prs: usize,
    repos: usize,
    teams: usize,
    members: usize,
    iterations: usize,
}

fn options() -> Options {
    Options {
        prs: args::number("--prs", 100_000),
        repos: args::number("--repos", 1_000),
        teams: args::number("--teams", 100),
        members: args::number("--members", 10),
        iterations: args::number("--iterations", 30),
    }
}

/// A small deterministic generator, so every run seeds the same org.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) % below
    }
}

fn envelope(n: usize, writes: Vec<EntityWrite>) -> Envelope {
    Envelope {
        source: "github".into(),
        kind: "seed".into(),
        action: None,
        delivery_id: format!("seed-{n}"),
        hook_id: None,
        dedup_key: format!("seed-{n}"),
        received_at: START,
        size: 2,
        payload: b"{}".to_vec(),
        content_type: Default::default(),
        writes,
    }
}

async fn seed(store: &dyn Store, o: &Options) {
    let mut writes = vec![EntityWrite::Org(Org {
        key: ORG.into(),
        login: ORG.into(),
        id: Some(1),
    })];
    for r in 0..o.repos {
        writes.push(EntityWrite::Repo(Repo {
            id: 10_000 + r as i64,
            org: ORG.into(),
            name: format!("repo-{r}"),
            full_name: format!("{ORG}/repo-{r}"),
            private: false,
            archived: false,
            deleted: false,
            version: version(START, 0),
        }));
    }
    let authors = o.teams * o.members * 2;
    for t in 0..o.teams {
        writes.push(EntityWrite::Team(Team {
            id: 20_000 + t as i64,
            org: ORG.into(),
            slug: Some(format!("team-{t}")),
            name: Some(format!("Team {t}")),
            deleted: false,
            version: version(START, 0),
        }));
        for m in 0..o.members {
            let user = (t * o.members + m) as i64;
            writes.push(EntityWrite::TeamMember {
                team_id: 20_000 + t as i64,
                member: Membership {
                    org: ORG.into(),
                    user_id: user,
                    login: format!("user-{user}"),
                    present: true,
                    version: version(START, 0),
                },
            });
        }
    }
    let mut n = 0;
    store.write_batch(vec![envelope(n, writes)]).await.unwrap();
    let mut rng = Lcg(7);
    let mut batch = Vec::new();
    for id in 0..o.prs as i64 {
        let created = START + rng.next(730 * DAY as u64) as i64;
        let author = rng.next(authors as u64) as i64;
        let repo = rng.next(o.repos as u64) as i64;
        let state = match rng.next(10) {
            0..=5 => PrState::Merged,
            6..=7 => PrState::Closed,
            _ => PrState::Open,
        };
        let updated = created + rng.next(5 * DAY as u64) as i64;
        batch.push(EntityWrite::PullRequest(PullRequest {
            id,
            org: ORG.into(),
            repo_id: 10_000 + repo,
            repo: format!("{ORG}/repo-{repo}"),
            number: id,
            title: format!("Change {id}"),
            state,
            draft: false,
            author: format!("user-{author}"),
            author_id: author,
            base_ref: "main".into(),
            labels: vec![],
            requested_reviewers: vec![],
            additions: Some(10),
            deletions: Some(2),
            created_at: created,
            updated_at: updated,
            closed_at: (state != PrState::Open).then_some(updated),
            merged_at: (state == PrState::Merged).then_some(updated),
            version: version(updated, state.rank()),
        }));
        if batch.len() == 5_000 {
            n += 1;
            store
                .write_batch(vec![envelope(n, std::mem::take(&mut batch))])
                .await
                .unwrap();
        }
    }
    n += 1;
    store.write_batch(vec![envelope(n, batch)]).await.unwrap();
}

struct Timing {
    name: &'static str,
    samples: Vec<Duration>,
}

impl Timing {
    fn percentile(&self, p: f64) -> f64 {
        let mut s = self.samples.clone();
        s.sort();
        let i = ((s.len() as f64 - 1.0) * p).round() as usize;
        s[i].as_secs_f64() * 1000.0
    }
}

async fn time<F, Fut>(name: &'static str, iterations: usize, mut f: F) -> Timing
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f().await; // warm the page cache and prepared statements
    let mut samples = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        f().await;
        samples.push(started.elapsed());
    }
    Timing { name, samples }
}

fn main() {
    let o = options();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("reckon.sqlite3"), &SqliteOptions::default())
                .unwrap(),
        );
        println!(
            "stats benchmark: {} PRs over 2 years, {} repos, {} teams of {} members; {} iterations",
            o.prs, o.repos, o.teams, o.members, o.iterations
        );
        let seeding = Instant::now();
        seed(&*store, &o).await;
        println!("seeded in {:.1} s", seeding.elapsed().as_secs_f64());

        let last_90 = TimeRange {
            from: Some(START + 640 * DAY),
            to: Some(START + 730 * DAY),
        };
        let filter = |range: TimeRange, team: Option<&str>| PrFilter {
            org: ORG.into(),
            team: team.map(Into::into),
            range,
            ..Default::default()
        };
        // What the timed queries find, so a fast answer cannot be an empty one.
        let series = store
            .pr_series(&filter(last_90, None), Interval::Week)
            .await
            .unwrap();
        let stats = store.pr_stats(&filter(last_90, None), 10).await.unwrap();
        println!(
            "last 90 days: {} PRs opened and {} merged ({} in the series), median time to merge {:.0} s",
            stats.opened,
            stats.merged,
            series.iter().map(|p| p.opened).sum::<u64>(),
            stats.median_time_to_merge_seconds.unwrap_or_default()
        );
        let n = o.iterations;
        let s = &store;
        let mut seq = 0usize;
        let timings = vec![
            time("ping (baseline)", n, || async { s.ping().await.unwrap() }).await,
            time("summary", n, || async {
                s.org_summary(ORG).await.unwrap();
            })
            .await,
            time("pr stats, 90 days", n, || async {
                s.pr_stats(&filter(last_90, None), 10).await.unwrap();
            })
            .await,
            time("pr stats, all time", n, || async {
                s.pr_stats(&filter(TimeRange::default(), None), 10).await.unwrap();
            })
            .await,
            time("pr series weekly, 90 days", n, || async {
                s.pr_series(&filter(last_90, None), Interval::Week).await.unwrap();
            })
            .await,
            time("pr series weekly, one team", n, || async {
                s.pr_series(&filter(last_90, Some("team-7")), Interval::Week)
                    .await
                    .unwrap();
            })
            .await,
            time("team table, 90 days", n, || async {
                s.team_stats(ORG, last_90).await.unwrap();
            })
            .await,
            time("repos", n, || async {
                s.repos(ORG).await.unwrap();
            })
            .await,
            time("ingest: a delivery with a repository", n, || {
                seq += 1;
                let delivery = envelope(
                    1_000_000 + seq,
                    vec![EntityWrite::Repo(Repo {
                        id: 10_007,
                        org: ORG.into(),
                        name: "repo-7".into(),
                        full_name: format!("{ORG}/repo-7"),
                        private: false,
                        archived: false,
                        deleted: false,
                        version: version(START + seq as i64, 0),
                    })],
                );
                async move {
                    s.write_batch(vec![delivery]).await.unwrap();
                }
            })
            .await,
            time("overview page (3 queries at once)", n, || async {
                let f = filter(last_90, None);
                let (a, b, c) = tokio::join!(
                    s.org_summary(ORG),
                    s.pr_stats(&f, 10),
                    s.pr_series(&f, Interval::Week)
                );
                a.unwrap();
                b.unwrap();
                c.unwrap();
            })
            .await,
        ];
        let baseline = timings[0].percentile(0.5);
        println!("\n{:<36} {:>9} {:>9} {:>12}", "query", "p50 ms", "p95 ms", "p50 / ping");
        for t in &timings {
            println!(
                "{:<36} {:>9.2} {:>9.2} {:>12.0}",
                t.name,
                t.percentile(0.5),
                t.percentile(0.95),
                t.percentile(0.5) / baseline
            );
        }
        println!(
            "\nreproduce: cargo bench --bench stats -- --prs {} --repos {} --teams {} --members {} --iterations {}",
            o.prs, o.repos, o.teams, o.members, o.iterations
        );
    });
}
