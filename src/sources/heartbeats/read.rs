//! Coding time out, in WakaTime's shapes (the status bar's today, summaries per day,
//! stats over a range) and Kodo's (per workspace and file). `{user}` is a name, or
//! `current` for the one user a heartbeats key or a single-user token reads.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::store::{self, Basis, Filter, Slice, TimeQuery};
use super::summary;
use crate::access::{Reader, Resource};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::ApiQuery;
use crate::http::AppState;

/// The longest range one answer covers: ten years of days.
const MAX_DAYS: i64 = 3660;

/// Filters: any dimension narrows every other.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// Only this project (summaries then list its files as `entities`).
    project: Option<String>,
    language: Option<String>,
    editor: Option<String>,
    operating_system: Option<String>,
    machine: Option<String>,
    category: Option<String>,
    branch: Option<String>,
}

impl FilterParams {
    fn filter(&self) -> Filter {
        Filter([
            self.project.clone(),
            self.language.clone(),
            self.editor.clone(),
            self.operating_system.clone(),
            self.machine.clone(),
            self.category.clone(),
            self.branch.clone(),
        ])
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummariesParams {
    /// First day, `YYYY-MM-DD` in the user's time zone.
    #[param(value_type = Option<String>, format = Date)]
    start: Option<String>,
    /// Last day (inclusive), `YYYY-MM-DD`.
    #[param(value_type = Option<String>, format = Date)]
    end: Option<String>,
    /// Instead of start and end (and before them when both are given).
    #[param(value_type = Option<RangeName>, inline)]
    range: Option<String>,
}

/// The named ranges, ending today in the user's time zone (WakaTime's display forms,
/// such as `Last 7 Days`, are taken too).
#[derive(Serialize, ToSchema)]
#[schema(as = CodingRange)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
enum RangeName {
    Today,
    Yesterday,
    #[serde(rename = "last_7_days")]
    Last7Days,
    #[serde(rename = "last_14_days")]
    Last14Days,
    #[serde(rename = "last_30_days")]
    Last30Days,
    ThisWeek,
    LastWeek,
    ThisMonth,
    LastMonth,
    #[serde(rename = "last_6_months")]
    Last6Months,
    LastYear,
    AllTime,
}

/// The user a request names, once the reader may read them.
fn user_of(reader: &Reader, user: &str) -> Result<String, ApiError> {
    let name = reader
        .heartbeats_user(user)
        .ok_or(ApiError::CurrentUserUnknown)?;
    reader.check(&Resource::Heartbeats(name.clone()))?;
    Ok(name)
}

async fn basis(state: &AppState, user: &str) -> Result<Basis, ApiError> {
    super::users::basis(state.store.as_ref(), &state.config.heartbeats, user).await
}

fn reads(state: &AppState) -> Result<&dyn store::HeartbeatStore, ApiError> {
    store::of(state.store.as_ref())
        .ok_or_else(|| ApiError::NotFound("this store keeps no coding time".into()))
}

async fn time(
    state: &AppState,
    user: &str,
    (first, last): (NaiveDate, NaiveDate),
    basis: Basis,
    filter: Filter,
) -> Result<Vec<Slice>, ApiError> {
    let files = filter.0[0].is_some();
    let query = TimeQuery {
        user: user.to_owned(),
        first,
        last,
        basis,
        filter,
        files,
    };
    Ok(reads(state)?.coding_time(&query).await?)
}

/// The first day of the user's heartbeats, for `all_time`.
async fn first_day(
    state: &AppState,
    user: &str,
    basis: Basis,
) -> Result<Option<NaiveDate>, ApiError> {
    let users = reads(state)?.heartbeat_users(Some(user)).await?;
    Ok(users
        .first()
        .map(|u| super::durations::local_day(u.first_ms, basis.tz)))
}

/// A day as `YYYY-MM-DD`, or a range word as the legacy client's `--today` sends
/// (`start=today&end=today`): the first and last day it means.
fn day(
    name: &'static str,
    value: &str,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok((date, date));
    }
    match value {
        "today" | "yesterday" => named_range(value, today, None),
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::invalid_query(name, "expected a day as YYYY-MM-DD, `today` or `yesterday`")
    })
}

/// The days a named range covers, ending today in the user's time zone.
pub fn named_range(
    name: &str,
    today: NaiveDate,
    first: Option<NaiveDate>,
) -> Option<(NaiveDate, NaiveDate)> {
    let name = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
    let back = |days: u64| today.checked_sub_days(Days::new(days));
    let month_start = today.with_day(1)?;
    let week_start = back(u64::from(today.weekday().num_days_from_monday()))?;
    Some(match name.as_str() {
        "today" => (today, today),
        "yesterday" => (back(1)?, back(1)?),
        "last_7_days" => (back(6)?, today),
        "last_14_days" => (back(13)?, today),
        "last_30_days" => (back(29)?, today),
        "this_week" => (week_start, today),
        "last_week" => (
            week_start.checked_sub_days(Days::new(7))?,
            week_start.pred_opt()?,
        ),
        "this_month" => (month_start, today),
        "last_month" => (
            month_start.checked_sub_months(Months::new(1))?,
            month_start.pred_opt()?,
        ),
        "last_6_months" => (today.checked_sub_months(Months::new(6))?.succ_opt()?, today),
        "last_year" | "last_12_months" => (
            today.checked_sub_months(Months::new(12))?.succ_opt()?,
            today,
        ),
        "all_time" => (first.unwrap_or(today).min(today), today),
        _ => return calendar_range(&name),
    })
}

/// `YYYY` or `YYYY-MM` (`YYYY_MM` once normalized).
fn calendar_range(name: &str) -> Option<(NaiveDate, NaiveDate)> {
    let (year, month) = match name.split_once('_') {
        Some((y, m)) if m.len() == 2 => (y, Some(m.parse::<u32>().ok()?)),
        None => (name, None),
        _ => return None,
    };
    let year: i32 = (year.len() == 4).then(|| year.parse().ok()).flatten()?;
    let first = NaiveDate::from_ymd_opt(year, month.unwrap_or(1), 1)?;
    let next = first.checked_add_months(Months::new(if month.is_some() { 1 } else { 12 }))?;
    Some((first, next.pred_opt()?))
}

fn check_span(
    name: &'static str,
    (first, last): (NaiveDate, NaiveDate),
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    if last < first {
        return Err(ApiError::invalid_query(
            name,
            "the range ends before it starts",
        ));
    }
    if (last - first).num_days() >= MAX_DAYS {
        return Err(ApiError::invalid_query(
            name,
            format!("a range covers at most {MAX_DAYS} days"),
        ));
    }
    Ok((first, last))
}

/// Today's coding time, for editors' status bars.
#[utoipa::path(get, path = "/api/v1/users/{user}/statusbar/today", tag = "heartbeats", operation_id = "heartbeats_statusbar_today",
    params(("user" = String, Path, description = "a user, or `current`")),
    responses((status = 200, body = Object, description = "`{data: {grand_total, projects, languages, editors, operating_systems, machines, categories, branches, dependencies, range}}`"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn statusbar(
    State(state): State<AppState>,
    Path(user): Path<String>,
    reader: Reader,
) -> Result<Json<summary::StatusBar>, ApiError> {
    let user = user_of(&reader, &user)?;
    let basis = basis(&state, &user).await?;
    let today = summary::today(basis.tz);
    let slices = time(&state, &user, (today, today), basis, Filter::default()).await?;
    Ok(Json(summary::statusbar(&slices, today, basis.tz)))
}

/// Coding time per day of a range, each day with its top lists.
#[utoipa::path(get, path = "/api/v1/users/{user}/summaries", tag = "heartbeats", operation_id = "heartbeats_summaries",
    params(("user" = String, Path, description = "a user, or `current`"), SummariesParams, FilterParams),
    responses((status = 200, body = Object, description = "`{data: [day...], cumulative_total, daily_average, start, end}`"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn summaries(
    State(state): State<AppState>,
    Path(user): Path<String>,
    reader: Reader,
    ApiQuery(p): ApiQuery<SummariesParams>,
    ApiQuery(filters): ApiQuery<FilterParams>,
) -> Result<Json<summary::Summaries>, ApiError> {
    let user = user_of(&reader, &user)?;
    let basis = basis(&state, &user).await?;
    let days = summary_days(&state, &user, basis, &p).await?;
    let days = check_span("end", days)?;
    let slices = time(&state, &user, days, basis, filters.filter()).await?;
    Ok(Json(summary::summaries(&slices, days.0, days.1, basis.tz)))
}

/// The days a summaries query asks for: `range` first (when given), else `start` and
/// `end`; without `start`, the week ending on `end` (or today).
async fn summary_days(
    state: &AppState,
    user: &str,
    basis: Basis,
    p: &SummariesParams,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let today = summary::today(basis.tz);
    // Checked even when `range` decides, so a bad one is never silently ignored.
    let start = p
        .start
        .as_deref()
        .map(|v| day("start", v, today))
        .transpose()?;
    let end = p.end.as_deref().map(|v| day("end", v, today)).transpose()?;
    if let Some(range) = &p.range {
        let first = if range.contains("all") {
            first_day(state, user, basis).await?
        } else {
            None
        };
        return named_range(range, today, first).ok_or_else(|| {
            ApiError::invalid_query("range", "not a range this API knows (e.g. last_7_days)")
        });
    }
    let last = end.map_or(today, |(_, last)| last);
    let first = match start {
        Some((first, _)) => first,
        // The week that ends on `end`, or today.
        None => last.checked_sub_days(Days::new(6)).unwrap_or(last),
    };
    Ok((first, last))
}

/// Coding time over a named range, with its top lists.
#[utoipa::path(get, path = "/api/v1/users/{user}/stats/{range}", tag = "heartbeats", operation_id = "heartbeats_stats",
    params(("user" = String, Path, description = "a user, or `current`"),
        ("range" = String, Path, description = "`last_7_days`, `last_30_days`, `last_6_months`, `last_year`, `all_time`, `YYYY` or `YYYY-MM`"),
        FilterParams),
    responses((status = 200, body = Object, description = "`{data: {total_seconds, human_readable_total, daily_average, projects, ..., range, start, end, timezone}}`"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn stats(
    State(state): State<AppState>,
    Path((user, range)): Path<(String, String)>,
    reader: Reader,
    ApiQuery(filters): ApiQuery<FilterParams>,
) -> Result<Json<summary::StatsAnswer>, ApiError> {
    let user = user_of(&reader, &user)?;
    let basis = basis(&state, &user).await?;
    let today = summary::today(basis.tz);
    let first = if range.contains("all") {
        first_day(&state, &user, basis).await?
    } else {
        None
    };
    let days = named_range(&range, today, first)
        .ok_or_else(|| ApiError::NotFound(format!("no stats range `{range}`: use last_7_days, last_30_days, last_6_months, last_year, all_time, YYYY or YYYY-MM")))?;
    let days = check_span("range", days)?;
    let mut filter = filters.filter();
    // Stats never split by file: only summaries list a project's files.
    let project = filter.0[0].take();
    let mut slices = time(&state, &user, days, basis, filter).await?;
    if let Some(project) = project {
        slices.retain(|s| s.group.project == project);
    }
    let range = summary::StatsRange {
        name: &range,
        first: days.0,
        last: days.1,
        user: &user,
        tz: basis.tz,
        timeout_minutes: basis.timeout_ms / 60_000,
    };
    Ok(Json(summary::stats(&slices, &range)))
}

/// A user with coding time, as the dashboard lists them.
#[derive(Serialize, ToSchema)]
#[schema(as = HeartbeatUser)]
pub struct UserItem {
    pub name: String,
    pub timezone: String,
    /// The first and the latest heartbeat, RFC 3339.
    pub first_heartbeat_at: String,
    pub last_heartbeat_at: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = HeartbeatUsers)]
pub struct UserList {
    pub users: Vec<UserItem>,
}

/// The users with heartbeats that the reader may read.
#[utoipa::path(get, path = "/api/v1/heartbeats/users", tag = "heartbeats", operation_id = "heartbeats_users",
    responses((status = 200, body = UserList), (status = 401, body = ErrorBody)))]
pub async fn users(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<Json<UserList>, ApiError> {
    let mut users = Vec::new();
    for span in reads(&state)?.heartbeat_users(None).await? {
        if !reader.allows(&Resource::Heartbeats(span.user.clone())) {
            continue;
        }
        let basis = basis(&state, &span.user).await?;
        users.push(UserItem {
            timezone: basis.tz.name().to_owned(),
            first_heartbeat_at: crate::stats::rfc3339(span.first_ms),
            last_heartbeat_at: crate::stats::rfc3339(span.last_ms),
            name: span.user,
        });
    }
    Ok(Json(UserList { users }))
}

/// Kodo-style stats: all time, per workspace, one item per file with its elapsed ms.
#[utoipa::path(get, path = "/api/v1/users/{user}/kodo/stats", tag = "heartbeats", operation_id = "kodo_stats",
    params(("user" = String, Path, description = "a user, or `current`")),
    responses((status = 200, body = Object, description = "`{workspace: [{application, type, identifier, elapsed, language}]}`"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn kodo_stats(
    State(state): State<AppState>,
    Path(user): Path<String>,
    reader: Reader,
) -> Result<Json<Value>, ApiError> {
    let slices = kodo_time(&state, &reader, &user).await?;
    Ok(Json(
        serde_json::to_value(summary::kodo_items(&slices)).unwrap_or_default(),
    ))
}

/// Kodo-style stats per day: `{day: {workspace: [items]}}`.
#[utoipa::path(get, path = "/api/v1/users/{user}/kodo/stats/daily", tag = "heartbeats", operation_id = "kodo_stats_daily",
    params(("user" = String, Path, description = "a user, or `current`")),
    responses((status = 200, body = Object, description = "`{YYYY-MM-DD: {workspace: [{application, type, identifier, elapsed, language}]}}`"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn kodo_daily(
    State(state): State<AppState>,
    Path(user): Path<String>,
    reader: Reader,
) -> Result<Json<Value>, ApiError> {
    let slices = kodo_time(&state, &reader, &user).await?;
    let mut days: std::collections::BTreeMap<String, Vec<Slice>> = Default::default();
    for s in slices {
        days.entry(s.day.to_string()).or_default().push(s);
    }
    let out: serde_json::Map<String, Value> = days
        .into_iter()
        .map(|(day, slices)| {
            (
                day,
                serde_json::to_value(summary::kodo_items(&slices)).unwrap_or_default(),
            )
        })
        .collect();
    Ok(Json(Value::Object(out)))
}

async fn kodo_time(state: &AppState, reader: &Reader, user: &str) -> Result<Vec<Slice>, ApiError> {
    let user = user_of(reader, user)?;
    let basis = basis(state, &user).await?;
    let today = summary::today(basis.tz);
    let first = first_day(state, &user, basis)
        .await?
        .unwrap_or(today)
        .min(today);
    let days = check_span("range", (first, today))?;
    let query = TimeQuery {
        user,
        first: days.0,
        last: days.1,
        basis,
        filter: Filter::default(),
        files: true,
    };
    Ok(reads(state)?.coding_time(&query).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn named_ranges_end_today() {
        let today = d("2026-11-29"); // a Sunday
        assert_eq!(
            named_range("last_7_days", today, None),
            Some((d("2026-11-23"), today))
        );
        assert_eq!(
            named_range("Last 7 Days", today, None),
            Some((d("2026-11-23"), today))
        );
        assert_eq!(
            named_range("this_week", today, None),
            Some((d("2026-11-23"), today))
        );
        assert_eq!(
            named_range("last_week", today, None),
            Some((d("2026-11-16"), d("2026-11-22")))
        );
        assert_eq!(
            named_range("last_month", today, None),
            Some((d("2026-10-01"), d("2026-10-31")))
        );
        assert_eq!(
            named_range("2024", today, None),
            Some((d("2024-01-01"), d("2024-12-31")))
        );
        assert_eq!(
            named_range("2024-02", today, None),
            Some((d("2024-02-01"), d("2024-02-29")))
        );
        assert_eq!(
            named_range("all_time", today, Some(d("2025-01-05"))),
            Some((d("2025-01-05"), today))
        );
        assert_eq!(named_range("fortnight", today, None), None);
    }
}
