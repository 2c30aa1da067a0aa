//! GitHub org statistics: the org list, summary counts, the PR time series and the
//! per-team table.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::{self, ApiQuery};
use crate::http::AppState;
use crate::stats::{
    Interval, OrgListItem, OrgSummary, PrFilter, SeriesPoint, TeamMember, TeamStats, TimeRange,
};

/// Most buckets one series answer may hold.
const MAX_BUCKETS: usize = 2000;

#[derive(Serialize, ToSchema)]
pub struct OrgsAnswer {
    orgs: Vec<OrgListItem>,
}

/// Orgs Reckon has data for.
#[utoipa::path(get, path = "/api/v1/github/orgs", tag = "github",
    responses((status = 200, body = OrgsAnswer)))]
pub async fn orgs(State(state): State<AppState>) -> Result<Json<OrgsAnswer>, ApiError> {
    Ok(Json(OrgsAnswer {
        orgs: state.store.orgs().await?,
    }))
}

fn org_not_found(org: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no data for org `{org}` yet: point its webhook at /hooks/github"
    ))
}

/// Fails with 404 unless the store knows the org.
async fn known_org(state: &AppState, org: &str) -> Result<String, ApiError> {
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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesParams {
    /// Bucket size; weeks start on Monday. Default `week`.
    #[serde(default)]
    interval: Interval,
    /// Start: `YYYY-MM-DD` (UTC) or RFC 3339.
    from: Option<String>,
    /// End: `YYYY-MM-DD` (inclusive) or RFC 3339 (exclusive).
    to: Option<String>,
    /// Only PRs whose author is currently a member of this team (slug).
    team: Option<String>,
    /// Only PRs of this repo (`name` or `owner/name`).
    repo: Option<String>,
    /// Only PRs by this login.
    author: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SeriesAnswer {
    org: String,
    interval: Interval,
    from: Option<String>,
    to: Option<String>,
    team: Option<String>,
    repo: Option<String>,
    author: Option<String>,
    series: Vec<SeriesPoint>,
}

/// PRs opened, merged and closed (unmerged) per time bucket, zero-filled.
#[utoipa::path(get, path = "/api/v1/github/orgs/{org}/pulls/series", tag = "github",
    params(("org" = String, Path, description = "org login, any case"), SeriesParams),
    responses((status = 200, body = SeriesAnswer), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pr_series(
    State(state): State<AppState>,
    Path(org): Path<String>,
    ApiQuery(p): ApiQuery<SeriesParams>,
) -> Result<Json<SeriesAnswer>, ApiError> {
    let range = query::range(p.from.as_deref(), p.to.as_deref())?;
    let key = known_org(&state, &org).await?;
    let filter = PrFilter {
        org: key,
        team: p.team.clone(),
        repo: p.repo.clone(),
        author: p.author.clone(),
        range,
    };
    let points = state.store.pr_series(&filter, p.interval).await?;
    let series = zero_fill(points, p.interval, range)?;
    Ok(Json(SeriesAnswer {
        org,
        interval: p.interval,
        from: p.from,
        to: p.to,
        team: p.team,
        repo: p.repo,
        author: p.author,
        series,
    }))
}

/// Adds empty buckets so charts get an even axis: across the requested range, or
/// between the first and last bucket with data when the range is open.
fn zero_fill(
    points: Vec<SeriesPoint>,
    interval: Interval,
    range: TimeRange,
) -> Result<Vec<SeriesPoint>, ApiError> {
    let bucket_ms = |label: &str| query::instant("bucket", label, false).ok();
    let first = range
        .from
        .or_else(|| points.first().and_then(|p| bucket_ms(&p.bucket)));
    let last = range
        .to
        .map(|t| t - 1)
        .or_else(|| points.last().and_then(|p| bucket_ms(&p.bucket)));
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(points);
    };
    let labels = interval.buckets(first, last, MAX_BUCKETS).ok_or_else(|| {
        ApiError::invalid_query(
            "interval",
            format!("the range holds more than {MAX_BUCKETS} buckets: use a larger interval or a shorter range"),
        )
    })?;
    let mut by_label: std::collections::HashMap<String, SeriesPoint> =
        points.into_iter().map(|p| (p.bucket.clone(), p)).collect();
    Ok(labels
        .into_iter()
        .map(|bucket| {
            by_label.remove(&bucket).unwrap_or(SeriesPoint {
                bucket,
                opened: 0,
                merged: 0,
                closed: 0,
            })
        })
        .collect())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// Start: `YYYY-MM-DD` (UTC) or RFC 3339.
    from: Option<String>,
    /// End: `YYYY-MM-DD` (inclusive) or RFC 3339 (exclusive).
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
