//! GitHub org statistics: the org list, summary counts, repos, and the per-team table.
//! Pull request series and totals live in `pulls`.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{Reader, Resource};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::{self, ApiQuery};
use crate::http::AppState;
use crate::stats::{OrgListItem, OrgSummary, RepoItem, TeamMember, TeamStats};

#[derive(Serialize, ToSchema)]
pub struct OrgsAnswer {
    orgs: Vec<OrgListItem>,
}

/// Orgs Reckon has data for that the caller may read.
#[utoipa::path(get, path = "/api/v1/github/orgs", tag = "github",
    responses((status = 200, body = OrgsAnswer), (status = 401, body = ErrorBody)))]
pub async fn orgs(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<Json<OrgsAnswer>, ApiError> {
    let mut orgs = state.store.orgs().await?;
    orgs.retain(|o| reader.allows(&Resource::GithubOrg(o.org.clone())));
    Ok(Json(OrgsAnswer { orgs }))
}

pub(crate) fn org_not_found(org: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no data for org `{org}` yet: point its webhook at /hooks/github"
    ))
}

/// Fails with 404 unless the store knows the org.
pub(super) async fn known_org(state: &AppState, org: &str) -> Result<String, ApiError> {
    let key = org.to_lowercase();
    if state.store.org_known(&key).await? {
        Ok(key)
    } else {
        Err(org_not_found(org))
    }
}

/// Counts of repos, teams, members, and PRs by state (`closed` = closed unmerged).
#[utoipa::path(get, path = "/api/v1/github/orgs/{org}/summary", tag = "github",
    params(("org" = String, Path, description = "org login, any case")),
    responses((status = 200, body = OrgSummary), (status = 404, body = ErrorBody)))]
pub async fn summary(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Result<Json<OrgSummary>, ApiError> {
    state
        .store
        .org_summary(&org.to_lowercase())
        .await?
        .map(Json)
        .ok_or_else(|| org_not_found(&org))
}

#[derive(Serialize, ToSchema)]
pub struct ReposAnswer {
    org: String,
    repos: Vec<RepoItem>,
}

/// The org's repos (not deleted), with their open PR counts.
#[utoipa::path(get, path = "/api/v1/github/orgs/{org}/repos", tag = "github",
    params(("org" = String, Path, description = "org login, any case")),
    responses((status = 200, body = ReposAnswer), (status = 404, body = ErrorBody)))]
pub async fn repos(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Result<Json<ReposAnswer>, ApiError> {
    let key = known_org(&state, &org).await?;
    let repos = state.store.repos(&key).await?;
    Ok(Json(ReposAnswer { org, repos }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// Start: `YYYY-MM-DD` (UTC) or RFC 3339.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    from: Option<String>,
    /// End: `YYYY-MM-DD` (inclusive) or RFC 3339 (exclusive); after `from`.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamsAnswer {
    org: String,
    from: Option<String>,
    to: Option<String>,
    teams: Vec<TeamStats>,
}

/// Every team: members, PRs opened and merged in the range by its current members,
/// and their median time to merge.
#[utoipa::path(get, path = "/api/v1/github/orgs/{org}/teams", tag = "github",
    params(("org" = String, Path, description = "org login, any case"), RangeParams),
    responses((status = 200, body = TeamsAnswer), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn teams(
    State(state): State<AppState>,
    Path(org): Path<String>,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> Result<Json<TeamsAnswer>, ApiError> {
    let range = query::range(p.from.as_deref(), p.to.as_deref())?;
    let key = known_org(&state, &org).await?;
    let teams = state.store.team_stats(&key, range).await?;
    Ok(Json(TeamsAnswer {
        org,
        from: p.from,
        to: p.to,
        teams,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct TeamMembersAnswer {
    org: String,
    team: String,
    members: Vec<TeamMember>,
}

/// The current members of one team.
#[utoipa::path(get, path = "/api/v1/github/orgs/{org}/teams/{team}/members", tag = "github",
    params(("org" = String, Path, description = "org login, any case"), ("team" = String, Path, description = "team slug")),
    responses((status = 200, body = TeamMembersAnswer), (status = 404, body = ErrorBody)))]
pub async fn team_members(
    State(state): State<AppState>,
    Path((org, team)): Path<(String, String)>,
) -> Result<Json<TeamMembersAnswer>, ApiError> {
    let members = state
        .store
        .team_members(&org.to_lowercase(), &team)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("org `{org}` has no team `{team}`")))?;
    Ok(Json(TeamMembersAnswer { org, team, members }))
}
