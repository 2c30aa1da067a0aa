//! Pull request statistics of one org: the time series for charts, and the totals with
//! median time to merge and the busiest repos and authors. Both take the same filters.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::orgs::known_org;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::{self, ApiQuery};
use crate::http::AppState;
use crate::stats::{Interval, PrFilter, PrStats, SeriesPoint, TimeRange};

/// Most buckets one series answer may hold.
const MAX_BUCKETS: usize = 2000;
/// Default and largest number of top repos and authors.
const DEFAULT_TOP: usize = 10;
const MAX_TOP: usize = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SeriesParams {
    /// Bucket size; weeks start on Monday. Default `week`.
    #[serde(default)]
    interval: Interval,
    /// Start: `YYYY-MM-DD` (UTC) or RFC 3339.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    from: Option<String>,
    /// End: `YYYY-MM-DD` (inclusive) or RFC 3339 (exclusive); after `from`.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
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
pub struct StatsParams {
    /// Start: `YYYY-MM-DD` (UTC) or RFC 3339.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    from: Option<String>,
    /// End: `YYYY-MM-DD` (inclusive) or RFC 3339 (exclusive); after `from`.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    to: Option<String>,
    /// Only PRs whose author is currently a member of this team (slug).
    team: Option<String>,
    /// Only PRs of this repo (`name` or `owner/name`).
    repo: Option<String>,
    /// Only PRs by this login.
    author: Option<String>,
    /// How many top repos and authors, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100, default = json!(DEFAULT_TOP))]
    top: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct StatsAnswer {
    org: String,
    from: Option<String>,
    to: Option<String>,
    team: Option<String>,
    repo: Option<String>,
    author: Option<String>,
    #[serde(flatten)]
    stats: PrStats,
}

/// PRs opened, merged and closed (unmerged) in the range, the median time to merge,
/// and the most active repos and authors.
#[utoipa::path(get, path = "/api/v1/github/orgs/{org}/pulls/stats", tag = "github",
    params(("org" = String, Path, description = "org login, any case"), StatsParams),
    responses((status = 200, body = StatsAnswer), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn pr_stats(
    State(state): State<AppState>,
    Path(org): Path<String>,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<StatsAnswer>, ApiError> {
    let range = query::range(p.from.as_deref(), p.to.as_deref())?;
    let top = query::bounded("top", p.top, DEFAULT_TOP, MAX_TOP)?;
    let key = known_org(&state, &org).await?;
    let filter = PrFilter {
        org: key,
        team: p.team.clone(),
        repo: p.repo.clone(),
        author: p.author.clone(),
        range,
    };
    let stats = state.store.pr_stats(&filter, top).await?;
    Ok(Json(StatsAnswer {
        org,
        from: p.from,
        to: p.to,
        team: p.team,
        repo: p.repo,
        author: p.author,
        stats,
    }))
}

#[cfg(test)]
mod contract_tests {
    use super::*;

    #[test]
    fn documented_bounds_are_the_enforced_ones() {
        crate::http::query::assert_documented_bounds::<StatsParams>("top", DEFAULT_TOP, MAX_TOP);
    }
}
