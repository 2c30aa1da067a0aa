//! The Deliveries API scan: for each of Reckon's hooks (the org's, and repo hooks found
//! a few repos per run), list deliveries newer than the last scan, find those Reckon
//! does not hold, and ask GitHub to redeliver them, up to a bound per run.

use std::collections::BTreeMap;

use super::report::{Check, Cursor, DeliveryScan};
use crate::sources::github::upstream::rest::{Hook, HookOwner};
use crate::sources::github::upstream::{GithubClient, GithubError};
use crate::store::Journal;

pub struct ScanOptions<'a> {
    /// Which hook URLs are Reckon's: an exact URL, or `None` for "ends in /hooks/github".
    pub webhook_url: Option<&'a str>,
    pub max_redeliveries: u32,
    pub lookback_hours: u32,
    pub repo_hooks_per_run: usize,
    pub dry_run: bool,
}

fn ours(hook: &Hook, url: Option<&str>) -> bool {
    let Some(hook_url) = hook.config.url.as_deref() else {
        return false;
    };
    match url {
        Some(url) => hook_url.trim_end_matches('/') == url.trim_end_matches('/'),
        None => hook_url.trim_end_matches('/').ends_with("/hooks/github"),
    }
}

fn hook_key(owner: &HookOwner, id: i64) -> String {
    match owner {
        HookOwner::Org(_) => format!("org/{id}"),
        HookOwner::Repo(_, repo) => format!("repo/{repo}/{id}"),
    }
}

pub async fn scan(
    github: &GithubClient,
    store: &dyn Journal,
    org: &str,
    repos: &[String],
    cursor: &mut Cursor,
    options: &ScanOptions<'_>,
) -> Result<(DeliveryScan, Vec<Check>), GithubError> {
    let before = github.usage().requests;
    let mut hooks: Vec<(HookOwner, i64)> = github
        .hooks(&HookOwner::Org(org.to_owned()))
        .await?
        .into_iter()
        .filter(|h| ours(h, options.webhook_url))
        .map(|h| (HookOwner::Org(org.to_owned()), h.id))
        .collect();

    // Look up the hooks of a few repos per run, round-robin.
    if !repos.is_empty() && options.repo_hooks_per_run > 0 {
        let start = cursor.repo_hook_next % repos.len();
        let take = options.repo_hooks_per_run.min(repos.len());
        for i in 0..take {
            let repo = &repos[(start + i) % repos.len()];
            let owner = HookOwner::Repo(org.to_owned(), repo.clone());
            match github.hooks(&owner).await {
                Ok(found) => {
                    let ids: Vec<i64> = found
                        .iter()
                        .filter(|h| ours(h, options.webhook_url))
                        .map(|h| h.id)
                        .collect();
                    if ids.is_empty() {
                        cursor.repo_hooks.remove(repo);
                    } else {
                        cursor.repo_hooks.insert(repo.clone(), ids);
                    }
                }
                // No admin rights on this repo's hooks: nothing to scan there.
                Err(e) if matches!(&e, GithubError::Status { status, .. } if status.as_u16() == 404 || status.as_u16() == 403) =>
                    {}
                Err(e) => return Err(e),
            }
        }
        cursor.repo_hook_next = (start + take) % repos.len();
    }
    cursor.repo_hooks.retain(|repo, _| repos.contains(repo));
    for (repo, ids) in &cursor.repo_hooks {
        for id in ids {
            hooks.push((HookOwner::Repo(org.to_owned(), repo.clone()), *id));
        }
    }

    let not_before =
        chrono::Utc::now() - chrono::Duration::hours(i64::from(options.lookback_hours));
    let mut scan = DeliveryScan {
        hooks: hooks.len() as u64,
        ..DeliveryScan::default()
    };
    let mut checks = Vec::new();
    let mut budget = options.max_redeliveries;
    for (owner, hook) in &hooks {
        let key = hook_key(owner, *hook);
        let listed = github
            .deliveries(
                owner,
                *hook,
                cursor.last_delivery.get(&key).copied(),
                not_before,
            )
            .await?;
        if let Some(newest) = listed.iter().map(|d| d.id).max() {
            cursor.last_delivery.insert(key.clone(), newest);
        }
        // The latest attempt per GUID decides; pings are never stored.
        let mut by_guid: BTreeMap<&str, &crate::sources::github::upstream::rest::Delivery> =
            BTreeMap::new();
        for d in listed.iter().filter(|d| d.event != "ping") {
            let entry = by_guid.entry(d.guid.as_str()).or_insert(d);
            if d.id > entry.id {
                *entry = d;
            }
        }
        let keys: Vec<String> = by_guid
            .keys()
            .map(|guid| format!("{hook}:{guid}"))
            .collect();
        let stored = store
            .stored_dedup_keys(crate::sources::github::SOURCE, &keys)
            .await
            .map_err(|e| GithubError::Decode {
                path: "store".into(),
                message: e.to_string(),
            })?;
        let mut held = 0;
        for (guid, delivery) in &by_guid {
            if stored.contains(&format!("{hook}:{guid}")) {
                held += 1;
                continue;
            }
            if delivery.succeeded() {
                scan.missing += 1;
            } else {
                scan.failed += 1;
            }
            if options.dry_run || budget == 0 {
                continue;
            }
            match github.redeliver(owner, *hook, delivery.id).await {
                Ok(()) => {
                    budget -= 1;
                    scan.redelivered += 1;
                    tracing::info!(hook, delivery = delivery.id, guid, event = %delivery.event, "asked github to redeliver");
                }
                Err(e) if !e.retryable() => {
                    tracing::warn!(hook, delivery = delivery.id, error = %e, "github refused a redelivery");
                }
                Err(e) => return Err(e),
            }
        }
        scan.scanned += by_guid.len() as u64;
        checks.push(Check::new(
            "deliveries",
            format!("hook/{hook}"),
            by_guid.len() as i64,
            held,
        ));
    }
    scan.requests = github.usage().requests - before;
    Ok((scan, checks))
}
