//! The drift report one reconcile run writes and `GET /api/v1/github/orgs/{org}/drift`
//! serves, and the cursors a run leaves for the next (when each repo last matched,
//! which deliveries were already scanned, which repo hooks are Reckon's).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One comparison: GitHub's number, Reckon's, and `drift = github - reckon`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Check {
    /// `repos`, `teams`, `org_members`, `team_members`, `pull_requests_open`,
    /// `pull_requests_closed`, `pull_requests_merged`, `team_members_outside_org`,
    /// `pull_requests_unknown_repo` or `deliveries`.
    pub check: String,
    /// The org, `repo/{name}`, `team/{slug}` or `hook/{id}`.
    pub scope: String,
    pub github: i64,
    pub reckon: i64,
    pub drift: i64,
}

impl Check {
    pub fn new(check: &str, scope: impl Into<String>, github: i64, reckon: i64) -> Check {
        Check {
            check: check.to_owned(),
            scope: scope.into(),
            github,
            reckon,
            drift: github - reckon,
        }
    }
}

/// A sync task the run planned, and whether it was new to the queue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlannedTask {
    #[schema(value_type = Object)]
    pub task: serde_json::Value,
    /// `false` when an identical task was already pending.
    pub added: bool,
}

/// What the Deliveries API scan found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DeliveryScan {
    /// Hooks of Reckon's whose deliveries were read.
    pub hooks: u64,
    /// Deliveries listed since the last scan (pings excluded).
    pub scanned: u64,
    /// Deliveries that GitHub reports as failed and Reckon does not hold.
    pub failed: u64,
    /// Deliveries GitHub reports as delivered that Reckon does not hold.
    pub missing: u64,
    /// Redeliveries Reckon asked GitHub for.
    pub redelivered: u64,
    /// API requests the scan took (counted apart from the checks).
    pub requests: u64,
    /// Why the scan could not run (e.g. the token lacks `admin:org_hook`); the count
    /// checks still ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// API cost of the run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ApiCost {
    /// Requests the checks took (both passes when a repair ran).
    pub requests: u64,
    pub graphql: u64,
    /// Conditional requests answered 304 (no quota spent).
    pub not_modified: u64,
    /// Times a rate limit made the client pause.
    pub rate_limited: u64,
}

/// The last reconcile of one org.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DriftReport {
    pub org: String,
    pub started_at: String,
    pub finished_at: String,
    /// `ok`, or `failed` with `error`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub dry_run: bool,
    /// The state after the run: after the repair when it drained its tasks.
    pub checks: Vec<Check>,
    /// The drift found before any repair, when it differs from `checks`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub found: Vec<Check>,
    pub tasks: Vec<PlannedTask>,
    pub deliveries: DeliveryScan,
    pub api: ApiCost,
    pub duration_ms: u64,
}

impl DriftReport {
    /// Checks whose drift is not zero.
    pub fn drifting(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.drift != 0)
    }
}

/// Where the next run picks up. Kept per org in the store's state documents.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// Repo id → Unix ms of the last run at which its PR counts matched GitHub's.
    #[serde(default)]
    pub repo_clean: BTreeMap<i64, i64>,
    /// Hook key (`org/{id}` or `repo/{name}/{id}`) → newest delivery id scanned.
    #[serde(default)]
    pub last_delivery: BTreeMap<String, i64>,
    /// Repo name → ids of its hooks that point at Reckon.
    #[serde(default)]
    pub repo_hooks: BTreeMap<String, Vec<i64>>,
    /// Where the round-robin repo hook lookup continues.
    #[serde(default)]
    pub repo_hook_next: usize,
}

pub fn report_key(org: &str) -> String {
    format!("reconcile/{}/report", org.to_lowercase())
}

pub fn cursor_key(org: &str) -> String {
    format!("reconcile/{}/cursor", org.to_lowercase())
}
