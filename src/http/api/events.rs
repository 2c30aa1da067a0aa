//! Raw stored events: one source's events of one UTC day, paged by cursor, and the
//! number of events per source and day.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::guard::source_resource;
use crate::access::Reader;
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::{self, ApiQuery};
use crate::http::stream::{field, JsonArrayAnswer};
use crate::http::AppState;
use crate::stats::{DayCount, EventsQuery, StoredEvent};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsParams {
    /// `github` or a configured source name.
    source: String,
    /// UTC day, `YYYY-MM-DD`.
    #[param(format = Date)]
    day: String,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,18}$")]
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000, default = json!(crate::http::query::DEFAULT_LIMIT))]
    limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct EventsAnswer {
    source: String,
    day: String,
    events: Vec<StoredEvent>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// Payload bytes one answer gathers before it ends its page (with a `next_cursor`): an
/// answer holds at most this plus one payload (25 MiB at most), whatever `limit` says.
pub const MAX_ANSWER_BYTES: usize = 8 * 1024 * 1024;

/// One source's events of one UTC day, oldest first, with their payloads.
///
/// A page ends at `limit` events or once its payloads reach 8 MiB, whichever comes
/// first; follow `next_cursor` for the rest.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventsParams),
    responses((status = 200, body = EventsAnswer), (status = 400, body = ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<EventsParams>,
) -> Result<JsonArrayAnswer<StoredEvent>, ApiError> {
    let day = chrono::NaiveDate::parse_from_str(&p.day, "%Y-%m-%d")
        .map_err(|_| ApiError::invalid_query("day", "expected a UTC day as YYYY-MM-DD"))?;
    let limit = query::limit(p.limit)?;
    let q = EventsQuery {
        source: p.source.clone(),
        day,
        after: query::cursor(p.cursor.as_deref())?,
        limit,
        max_bytes: MAX_ANSWER_BYTES,
    };
    let events = state.store.events(&q).await?;
    let bytes: usize = events.iter().map(|e| e.payload.get().len()).sum();
    let next_cursor = (events.len() == limit || bytes >= MAX_ANSWER_BYTES)
        .then(|| events.last().map(|e| e.seq.to_string()))
        .flatten();
    // Written event by event (the shape of `EventsAnswer`), not built whole.
    Ok(JsonArrayAnswer {
        head: format!("{},{}", field("source", &p.source), field("day", &p.day)),
        array: "events",
        items: events,
        tail: field("next_cursor", &next_cursor),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DaysParams {
    /// Only this source.
    source: Option<String>,
    /// Start: `YYYY-MM-DD` (UTC) or RFC 3339.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    from: Option<String>,
    /// End: `YYYY-MM-DD` (inclusive) or RFC 3339 (exclusive); after `from`.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DaysAnswer {
    days: Vec<DayCount>,
}

/// Stored events per source and UTC day.
#[utoipa::path(get, path = "/api/v1/events/days", tag = "events", params(DaysParams),
    responses((status = 200, body = DaysAnswer), (status = 400, body = ErrorBody)))]
pub async fn event_days(
    State(state): State<AppState>,
    reader: Reader,
    ApiQuery(p): ApiQuery<DaysParams>,
) -> Result<Json<DaysAnswer>, ApiError> {
    if let Some(source) = &p.source {
        reader.check(&source_resource(source))?;
    }
    let range = query::range(p.from.as_deref(), p.to.as_deref())?;
    let mut days = state.store.event_days(p.source.as_deref(), range).await?;
    days.retain(|d| reader.allows(&source_resource(&d.source)));
    Ok(Json(DaysAnswer { days }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_bounds_are_the_enforced_ones() {
        query::assert_documented_bounds::<EventsParams>(
            "limit",
            query::DEFAULT_LIMIT,
            query::MAX_LIMIT,
        );
        assert_eq!(query::param_schema::<EventsParams>("day")["format"], "date");
    }
}
