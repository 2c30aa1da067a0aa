//! The stats API under `/api/v1`: org summaries, PR series, per-team tables, raw events
//! by day, and the delivery log. Handlers only parse and shape; the store computes.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::error::ApiError;
use super::query::{self, ApiQuery};
use super::AppState;
use crate::stats::{
    DeliveryQuery, EventsQuery, Interval, PrFilter, SeriesPoint, TeamStats, TimeRange,
};

/// Most buckets one series answer may hold.
const MAX_BUCKETS: usize = 2000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/github/orgs", get(orgs))
        .route("/github/orgs/{org}/summary", get(summary))
        .route("/github/orgs/{org}/pulls/series", get(pr_series))
        .route("/github/orgs/{org}/teams", get(teams))
        .route("/github/orgs/{org}/teams/{team}/members", get(team_members))
        .route("/events", get(events))
        .route("/events/days", get(event_days))
        .route("/deliveries", get(deliveries))
}

async fn orgs(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "orgs": state.store.orgs().await? })))
}

fn org_not_found(org: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no data for org `{org}` yet: point its webhook at /hooks/github"
    ))
}

async fn summary(
    State(state): State<AppState>,
    Path(org): Path<String>,
) -> Result<Json<crate::stats::OrgSummary>, ApiError> {
    let key = org.to_lowercase();
    state
        .store
        .org_summary(&key)
        .await?
        .map(Json)
        .ok_or_else(|| org_not_found(&org))
}

#[derive(Deserialize)]
struct SeriesParams {
    #[serde(default)]
    interval: Interval,
    from: Option<String>,
    to: Option<String>,
    team: Option<String>,
    repo: Option<String>,
    author: Option<String>,
}

#[derive(Serialize)]
struct SeriesAnswer {
    org: String,
    interval: Interval,
    from: Option<String>,
    to: Option<String>,
    team: Option<String>,
    repo: Option<String>,
    author: Option<String>,
    series: Vec<SeriesPoint>,
}

async fn pr_series(
    State(state): State<AppState>,
    Path(org): Path<String>,
    ApiQuery(p): ApiQuery<SeriesParams>,
) -> Result<Json<SeriesAnswer>, ApiError> {
    let key = org.to_lowercase();
    let range = query::range(p.from.as_deref(), p.to.as_deref())?;
    if state.store.org_summary(&key).await?.is_none() {
        return Err(org_not_found(&org));
    }
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

#[derive(Deserialize)]
struct RangeParams {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Serialize)]
struct TeamsAnswer {
    org: String,
    from: Option<String>,
    to: Option<String>,
    teams: Vec<TeamStats>,
}

async fn teams(
    State(state): State<AppState>,
    Path(org): Path<String>,
    ApiQuery(p): ApiQuery<RangeParams>,
) -> Result<Json<TeamsAnswer>, ApiError> {
    let key = org.to_lowercase();
    let range = query::range(p.from.as_deref(), p.to.as_deref())?;
    if state.store.org_summary(&key).await?.is_none() {
        return Err(org_not_found(&org));
    }
    let teams = state.store.team_stats(&key, range).await?;
    Ok(Json(TeamsAnswer {
        org,
        from: p.from,
        to: p.to,
        teams,
    }))
}

async fn team_members(
    State(state): State<AppState>,
    Path((org, team)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let members = state
        .store
        .team_members(&org.to_lowercase(), &team)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("org `{org}` has no team `{team}`")))?;
    Ok(Json(
        json!({ "org": org, "team": team, "members": members }),
    ))
}

#[derive(Deserialize)]
struct EventsParams {
    source: String,
    day: String,
    cursor: Option<String>,
    limit: Option<usize>,
}

async fn events(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<EventsParams>,
) -> Result<Json<Value>, ApiError> {
    let day = chrono::NaiveDate::parse_from_str(&p.day, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid_query("day", "expected a UTC day as YYYY-MM-DD"))?;
    let limit = query::limit(p.limit)?;
    let q = EventsQuery {
        source: p.source.clone(),
        day,
        after: query::cursor(p.cursor.as_deref())?,
        limit,
    };
    let events = state.store.events(&q).await?;
    let next_cursor = (events.len() == limit)
        .then(|| events.last().map(|e| e.seq.to_string()))
        .flatten();
    Ok(Json(json!({
        "source": p.source,
        "day": p.day,
        "events": events,
        "next_cursor": next_cursor,
    })))
}

#[derive(Deserialize)]
struct DaysParams {
    source: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

async fn event_days(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<DaysParams>,
) -> Result<Json<Value>, ApiError> {
    let range = query::range(p.from.as_deref(), p.to.as_deref())?;
    let days = state.store.event_days(p.source.as_deref(), range).await?;
    Ok(Json(json!({ "days": days })))
}

#[derive(Deserialize)]
struct DeliveriesParams {
    source: Option<String>,
    event: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<usize>,
}

async fn deliveries(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<DeliveriesParams>,
) -> Result<Json<Value>, ApiError> {
    if let Some(status) = &p.status {
        if !["accepted", "duplicate", "rejected"].contains(&status.as_str()) {
            return Err(ApiError::invalid_query(
                "status",
                "expected accepted, duplicate or rejected",
            ));
        }
    }
    let q = DeliveryQuery {
        source: p.source,
        kind: p.event,
        status: p.status,
        before: query::cursor(p.cursor.as_deref())?,
        limit: query::limit(p.limit)?,
    };
    let rejected_only = q.status.as_deref() == Some("rejected");
    let stored = if rejected_only {
        Vec::new()
    } else {
        state.store.deliveries(&q).await?
    };
    let next_cursor = (stored.len() == q.limit)
        .then(|| stored.last().and_then(|d| d.seq).map(|s| s.to_string()))
        .flatten();
    // Rejected deliveries live in memory and only join the first page.
    let include_rejected = q.before.is_none() && (q.status.is_none() || rejected_only);
    let mut items = stored;
    if include_rejected {
        let oldest_shown = if next_cursor.is_some() {
            items.last().map(|d| d.received_at.clone())
        } else {
            None
        };
        items.extend(
            state
                .rejected
                .matching(&q)
                .into_iter()
                .map(|(_, r)| r)
                .filter(|r| oldest_shown.as_ref().is_none_or(|o| &r.received_at >= o)),
        );
        // RFC 3339 UTC with fixed precision sorts lexically.
        items.sort_by(|a, b| b.received_at.cmp(&a.received_at));
        items.truncate(q.limit);
    }
    Ok(Json(
        json!({ "deliveries": items, "next_cursor": next_cursor }),
    ))
}
