//! What each sync task does: read GitHub's current list, derive versioned writes, add
//! removals for what Reckon holds and GitHub no longer has, and journal the lot.

use std::collections::BTreeSet;

use super::journal::store_writes;
use super::{Progress, SyncContext, SyncError, TaskReport, TaskSpec};
use crate::model::{self, version, EntityWrite, Membership};
use crate::sources::github::project::{pull_request, repo_write};

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn key(org: &str) -> String {
    org.to_lowercase()
}

pub(super) async fn run(
    ctx: &SyncContext,
    spec: &TaskSpec,
    progress: &Progress,
) -> Result<TaskReport, SyncError> {
    match spec {
        TaskSpec::PullRequests { org, repo, since } => {
            pull_requests(ctx, spec, org, repo, *since, progress).await
        }
        TaskSpec::Repos { org } => repos(ctx, spec, org).await,
        TaskSpec::Teams { org } => teams(ctx, spec, org).await,
        TaskSpec::TeamMembers { org, team } => team_members(ctx, spec, org, team).await,
        TaskSpec::OrgMembers { org } => org_members(ctx, spec, org).await,
        TaskSpec::Backfill { org } => backfill(ctx, org, progress).await,
        TaskSpec::Reconcile { .. } => Err(SyncError::InvalidSpec(
            "reconcile tasks plan into the queue, so the worker runs them, not a job".into(),
        )),
    }
}

async fn write(
    ctx: &SyncContext,
    spec: &TaskSpec,
    writes: Vec<EntityWrite>,
    fetched: u64,
    removed: u64,
) -> Result<TaskReport, SyncError> {
    let written = writes.len() as u64;
    store_writes(ctx.store.as_ref(), spec, writes).await?;
    Ok(TaskReport {
        fetched,
        written,
        removed,
    })
}

async fn pull_requests(
    ctx: &SyncContext,
    spec: &TaskSpec,
    org: &str,
    repo: &str,
    since: Option<i64>,
    progress: &Progress,
) -> Result<TaskReport, SyncError> {
    let mut seen = 0u64;
    let prs = ctx
        .github
        .pulls_updated_since(org, repo, since, |n| {
            seen += n as u64;
            progress("pull_requests", seen, 0);
        })
        .await?;
    let fetched_at = now();
    let mut writes = Vec::with_capacity(prs.len() + 1);
    let mut repo_written = false;
    for pr in &prs {
        let Some(repository) = pr.base.as_ref().and_then(|b| b.repo.as_ref()) else {
            continue;
        };
        if !repo_written {
            writes.extend(repo_write(repository, false, fetched_at));
            repo_written = true;
        }
        let owner = repository
            .owner
            .as_ref()
            .and_then(|o| o.login.as_deref())
            .map_or_else(|| key(org), str::to_lowercase);
        if let Some(pr) = pull_request(&owner, pr, repository) {
            writes.push(EntityWrite::PullRequest(pr));
        }
    }
    write(ctx, spec, writes, prs.len() as u64, 0).await
}

fn deleted_repo(org: &str, id: i64, name: &str, at: i64) -> EntityWrite {
    EntityWrite::Repo(model::Repo {
        id,
        org: key(org),
        name: name.to_owned(),
        full_name: format!("{}/{name}", key(org)),
        private: false,
        archived: false,
        deleted: true,
        version: version(at, 1),
    })
}

async fn repos(ctx: &SyncContext, spec: &TaskSpec, org: &str) -> Result<TaskReport, SyncError> {
    let listed = ctx.github.org_repos(org).await?;
    let fetched_at = now();
    let mut writes: Vec<EntityWrite> = listed
        .iter()
        .filter_map(|r| repo_write(r, false, fetched_at))
        .collect();
    let on_github: BTreeSet<i64> = listed.iter().filter_map(|r| r.id).collect();
    let snapshot = ctx.store.org_snapshot(&key(org)).await?;
    let mut removed = 0;
    for gone in snapshot.repos.iter().filter(|r| !on_github.contains(&r.id)) {
        // Not listed: deleted, transferred, or not visible to this token. Ask by id
        // so only a repo GitHub no longer has is marked deleted.
        match ctx.github.repository_by_id(org, gone.id).await? {
            None => {
                writes.push(deleted_repo(org, gone.id, &gone.name, now()));
                removed += 1;
            }
            Some(found) => writes.extend(repo_write(&found, false, now())),
        }
    }
    write(ctx, spec, writes, listed.len() as u64, removed).await
}

async fn teams(ctx: &SyncContext, spec: &TaskSpec, org: &str) -> Result<TaskReport, SyncError> {
    let listed = ctx.github.org_teams(org).await?;
    let at = now();
    let mut writes: Vec<EntityWrite> = listed
        .iter()
        .filter_map(|t| {
            Some(EntityWrite::Team(model::Team {
                id: t.id?,
                org: key(org),
                slug: t.slug.clone(),
                name: t.name.clone(),
                deleted: false,
                version: version(at, 0),
            }))
        })
        .collect();
    let on_github: BTreeSet<i64> = listed.iter().filter_map(|t| t.id).collect();
    let snapshot = ctx.store.org_snapshot(&key(org)).await?;
    let mut removed = 0;
    for gone in snapshot.teams.iter().filter(|t| !on_github.contains(&t.id)) {
        writes.push(EntityWrite::Team(model::Team {
            id: gone.id,
            org: key(org),
            slug: gone.slug.clone(),
            name: None,
            deleted: true,
            version: version(at, 1),
        }));
        removed += 1;
    }
    write(ctx, spec, writes, listed.len() as u64, removed).await
}

fn member(org: &str, user_id: i64, login: &str, present: bool, at: i64) -> Membership {
    Membership {
        org: key(org),
        user_id,
        login: login.to_owned(),
        present,
        version: version(at, u8::from(!present)),
    }
}

async fn team_members(
    ctx: &SyncContext,
    spec: &TaskSpec,
    org: &str,
    slug: &str,
) -> Result<TaskReport, SyncError> {
    let Some((team_id, listed)) = ctx.github.team_members(org, slug).await? else {
        // The team is gone; the `teams` task marks it deleted.
        return Ok(TaskReport::default());
    };
    let at = now();
    let mut writes: Vec<EntityWrite> = listed
        .iter()
        .map(|m| EntityWrite::TeamMember {
            team_id,
            member: member(org, m.id, &m.login, true, at),
        })
        .collect();
    let on_github: BTreeSet<i64> = listed.iter().map(|m| m.id).collect();
    // Only this team's stored members: no need for the whole org's snapshot.
    let stored = ctx.store.team_members(&key(org), slug).await?;
    let mut removed = 0;
    for gone in stored
        .iter()
        .flatten()
        .filter(|m| !on_github.contains(&m.user_id))
    {
        writes.push(EntityWrite::TeamMember {
            team_id,
            member: member(org, gone.user_id, &gone.login, false, at),
        });
        removed += 1;
    }
    write(ctx, spec, writes, listed.len() as u64, removed).await
}

async fn org_members(
    ctx: &SyncContext,
    spec: &TaskSpec,
    org: &str,
) -> Result<TaskReport, SyncError> {
    let listed = ctx.github.org_members(org).await?;
    let at = now();
    let mut writes: Vec<EntityWrite> = listed
        .iter()
        .filter_map(|u| {
            Some(EntityWrite::OrgMember(member(
                org,
                u.id?,
                u.login.as_deref()?,
                true,
                at,
            )))
        })
        .collect();
    let on_github: BTreeSet<i64> = listed.iter().filter_map(|u| u.id).collect();
    let snapshot = ctx.store.org_snapshot(&key(org)).await?;
    let mut removed = 0;
    for (user, login) in snapshot
        .org_members
        .iter()
        .filter(|(u, _)| !on_github.contains(u))
    {
        writes.push(EntityWrite::OrgMember(member(org, *user, login, false, at)));
        removed += 1;
    }
    write(ctx, spec, writes, listed.len() as u64, removed).await
}

async fn backfill(
    ctx: &SyncContext,
    org: &str,
    progress: &Progress,
) -> Result<TaskReport, SyncError> {
    let mut total = TaskReport::default();
    let org = org.to_owned();
    let steps = [
        TaskSpec::Repos { org: org.clone() },
        TaskSpec::Teams { org: org.clone() },
        TaskSpec::OrgMembers { org: org.clone() },
    ];
    for (i, step) in steps.iter().enumerate() {
        progress(step.kind(), i as u64, steps.len() as u64);
        total.add(&Box::pin(run(ctx, step, progress)).await?);
    }
    progress("org", steps.len() as u64, steps.len() as u64);

    let snapshot = ctx.store.org_snapshot(&key(&org)).await?;
    let teams: Vec<String> = snapshot
        .teams
        .iter()
        .filter_map(|t| t.slug.clone())
        .collect();
    for (i, team) in teams.iter().enumerate() {
        let step = TaskSpec::TeamMembers {
            org: org.clone(),
            team: team.clone(),
        };
        total.add(&Box::pin(run(ctx, &step, progress)).await?);
        progress("teams", i as u64 + 1, teams.len() as u64);
    }

    let repos: Vec<String> = snapshot.repos.iter().map(|r| r.name.clone()).collect();
    let silent: Progress = std::sync::Arc::new(|_, _, _| {});
    for (i, repo) in repos.iter().enumerate() {
        let step = TaskSpec::PullRequests {
            org: org.clone(),
            repo: repo.clone(),
            since: None,
        };
        total.add(&Box::pin(run(ctx, &step, &silent)).await?);
        progress("repos", i as u64 + 1, repos.len() as u64);
    }
    Ok(total)
}
