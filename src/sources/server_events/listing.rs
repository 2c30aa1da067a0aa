//! Reading server events: one UTC day as the DCSS design serves it
//! (`GET /events?ts_day=`), and the incremental feed a consumer follows by id
//! (`GET /api/v1/sources/{source}/events?after=`). Read access is the access guard's.

use axum::extract::{Path, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::store::{self, EventFilter, EventRecord};
use crate::access::{Reader, Resource};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::{self, ApiQuery};
use crate::http::AppState;
use crate::sources::{SourceAuth, SourceConfig};
use crate::stats::TimeRange;

const DAY_MS: i64 = 86_400_000;
/// Most events one `GET /events` answer carries; more are paged with `after`.
const MAX_DAY_PAGE: usize = 10_000;
/// Default and largest page of the follow API.
const DEFAULT_FOLLOW: usize = 100;
const MAX_FOLLOW: usize = 1_000;

/// The header that says a day listing was cut at `MAX_DAY_PAGE`: ask again with
/// `after` set to its value.
pub const NEXT_AFTER: &str = "x-reckon-next-after";

/// The configured server-events source `name`. Who may read it is the access guard's
/// to decide (`Policy::SourcePath`), before this is reached.
pub fn configured<'c>(state: &'c AppState, name: &str) -> Result<&'c SourceConfig, ApiError> {
    state
        .config
        .sources
        .get(name)
        .filter(|s| s.auth == SourceAuth::ApiKey)
        .ok_or_else(|| ApiError::UnknownSource(name.to_owned()))
}

/// The source `GET /events` reads when none is named: the only api-key source, or
/// none at all when no source takes server events (an empty day).
fn default_source(state: &AppState) -> Result<Option<String>, ApiError> {
    let mut names = state
        .config
        .sources
        .iter()
        .filter(|(_, s)| s.auth == SourceAuth::ApiKey)
        .map(|(name, _)| name);
    match (names.next(), names.next()) {
        (Some(name), None) => Ok(Some(name.clone())),
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err(ApiError::invalid_query(
            "source",
            "several sources take server events: name one",
        )),
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DayParams {
    /// The UTC day, as the Unix millisecond it starts at (a multiple of 86400000);
    /// today by default.
    #[param(multiple_of = 86400000)]
    ts_day: Option<i64>,
    /// The source; optional when only one source takes server events.
    source: Option<String>,
    /// Only events after this id (the `X-Reckon-Next-After` of the previous answer).
    #[param(pattern = "^[0-9]{1,18}$")]
    after: Option<String>,
}

/// All events accepted on one UTC day, in the order they were accepted. An answer cut
/// at 10,000 events says where to go on in `X-Reckon-Next-After`.
#[utoipa::path(get, path = "/events", tag = "server-events", operation_id = "events_of_day",
    params(DayParams),
    responses(
        (status = 200, body = Vec<EventRecord>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn day(
    State(state): State<AppState>,
    reader: Reader,
    ApiQuery(p): ApiQuery<DayParams>,
) -> Result<Response, ApiError> {
    let ts_day = p.ts_day.unwrap_or_else(|| {
        let now = chrono::Utc::now().timestamp_millis();
        now - now.rem_euclid(DAY_MS)
    });
    if ts_day.rem_euclid(DAY_MS) != 0 {
        return Err(ApiError::invalid_query(
            "ts_day",
            format!(
                "{ts_day} is not the start of a UTC day: use a multiple of {DAY_MS} (this day starts at {})",
                ts_day.saturating_sub(ts_day.rem_euclid(DAY_MS))
            ),
        ));
    }
    let source = match p.source {
        Some(source) => source,
        None => match default_source(&state)? {
            Some(source) => source,
            None => return Ok(Json(Vec::<EventRecord>::new()).into_response()),
        },
    };
    // The source is named by a query parameter or by default: checked here.
    reader.check(&Resource::Source(source.clone()))?;
    configured(&state, &source)?;
    let filter = EventFilter {
        source,
        range: TimeRange {
            from: Some(ts_day),
            to: Some(ts_day.saturating_add(DAY_MS)),
        },
        after: cursor("after", p.after.as_deref())?,
        limit: MAX_DAY_PAGE,
    };
    let events = read(&state, &filter).await?;
    let next = (events.len() == MAX_DAY_PAGE)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    let mut response = Json(events).into_response();
    if let Some(next) = next {
        response
            .headers_mut()
            .insert(NEXT_AFTER, HeaderValue::from(next));
    }
    Ok(response)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowParams {
    /// The last id you have; omit to start at the beginning.
    #[param(pattern = "^[0-9]{1,18}$")]
    after: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000, default = json!(DEFAULT_FOLLOW))]
    limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ServerEventsPage)]
pub struct FollowAnswer {
    source: String,
    events: Vec<EventRecord>,
    /// Pass as `after` next time: the last id here, or your `after` when there was
    /// nothing new.
    next_after: Option<String>,
}

/// The source's events after an id, oldest first: follow the stream by passing
/// `next_after` back, with no gaps and no duplicates, across restarts.
#[utoipa::path(get, path = "/api/v1/sources/{source}/events", tag = "server-events",
    params(("source" = String, Path, description = "a source configured with auth = \"api-key\""), FollowParams),
    responses(
        (status = 200, body = FollowAnswer),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn follow(
    State(state): State<AppState>,
    Path(source): Path<String>,
    ApiQuery(p): ApiQuery<FollowParams>,
) -> Result<Json<FollowAnswer>, ApiError> {
    configured(&state, &source)?;
    let limit = query::bounded("limit", p.limit, DEFAULT_FOLLOW, MAX_FOLLOW)?;
    let after = cursor("after", p.after.as_deref())?;
    let filter = EventFilter {
        source: source.clone(),
        range: TimeRange::default(),
        after,
        limit,
    };
    let events = read(&state, &filter).await?;
    let next_after = events
        .last()
        .map(|e| e.id)
        .or(after)
        .map(|id| id.to_string());
    Ok(Json(FollowAnswer {
        source,
        events,
        next_after,
    }))
}

async fn read(state: &AppState, filter: &EventFilter) -> Result<Vec<EventRecord>, ApiError> {
    let reads = store::of(&*state.store).ok_or_else(unsupported)?;
    Ok(reads.server_events(filter).await?)
}

/// The store in use keeps no server-events read model (a test double).
pub fn unsupported() -> ApiError {
    ApiError::NotFound("this store keeps no server events".into())
}

fn cursor(name: &'static str, value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ApiError::invalid_query(name, "not an event id this API returned"))
        })
        .transpose()
}

#[cfg(test)]
mod contract_tests {
    use super::*;

    #[test]
    fn documented_bounds_are_the_enforced_ones() {
        crate::http::query::assert_documented_bounds::<FollowParams>(
            "limit",
            DEFAULT_FOLLOW,
            MAX_FOLLOW,
        );
    }
}
