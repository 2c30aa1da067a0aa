//! The delivery log: stored deliveries (accepted and duplicate) from the store, merged
//! on the first page with the rejected ones that only live in memory.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::{self, ApiQuery};
use crate::http::AppState;
use crate::stats::{DeliveryQuery, DeliveryRecord};

const STATUSES: [&str; 3] = ["accepted", "duplicate", "rejected"];

// What `status` filters on: the schema of that parameter (the handler checks the string).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
enum DeliveryStatus {
    Accepted,
    Duplicate,
    Rejected,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesParams {
    /// Only this source.
    source: Option<String>,
    /// Only this event type, e.g. `pull_request`.
    event: Option<String>,
    /// `accepted`, `duplicate` or `rejected`.
    #[param(value_type = Option<DeliveryStatus>, inline)]
    status: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^[0-9]{1,18}$")]
    cursor: Option<String>,
    /// Page size, 1 to 1000 (default 50).
    #[param(minimum = 1, maximum = 1000, default = json!(crate::http::query::DEFAULT_LIMIT))]
    limit: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveriesAnswer {
    deliveries: Vec<DeliveryRecord>,
    /// Pass as `cursor` for the next page; null on the last page.
    next_cursor: Option<String>,
}

/// Recent deliveries, newest first.
#[utoipa::path(get, path = "/api/v1/deliveries", tag = "deliveries", params(DeliveriesParams),
    responses((status = 200, body = DeliveriesAnswer), (status = 400, body = ErrorBody)))]
pub async fn deliveries(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<DeliveriesParams>,
) -> Result<Json<DeliveriesAnswer>, ApiError> {
    if let Some(status) = &p.status {
        if !STATUSES.contains(&status.as_str()) {
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
    let mut deliveries = if rejected_only {
        Vec::new()
    } else {
        state.store.deliveries(&q).await?
    };
    let next_cursor = (deliveries.len() == q.limit)
        .then(|| deliveries.last().and_then(|d| d.seq).map(|s| s.to_string()))
        .flatten();
    // Rejected deliveries join the first page only, and only where they fall within it.
    if q.before.is_none() && (q.status.is_none() || rejected_only) {
        let oldest_shown = next_cursor
            .as_ref()
            .and_then(|_| deliveries.last().map(|d| d.received_at.clone()));
        deliveries.extend(
            state
                .rejected
                .matching(&q)
                .into_iter()
                .filter(|r| oldest_shown.as_ref().is_none_or(|o| &r.received_at >= o)),
        );
        // RFC 3339 UTC with fixed precision sorts lexically.
        deliveries.sort_by(|a, b| b.received_at.cmp(&a.received_at));
        deliveries.truncate(q.limit);
    }
    Ok(Json(DeliveriesAnswer {
        deliveries,
        next_cursor,
    }))
}

/// How often the live delivery log looks for news in the store.
const LIVE_POLL: std::time::Duration = std::time::Duration::from_millis(500);

/// What the live delivery log compares: the newest stored delivery and the rejections.
async fn newest(state: &AppState) -> (Option<i64>, u64) {
    let q = DeliveryQuery {
        source: None,
        kind: None,
        status: None,
        before: None,
        limit: 1,
    };
    let stored = match state.store.deliveries(&q).await {
        Ok(page) => page.first().and_then(|d| d.seq),
        Err(error) => {
            tracing::warn!(%error, "live delivery log: cannot read the newest delivery");
            None
        }
    };
    (stored, state.rejected.pushed())
}

/// `GET /api/v1/deliveries/live`: an event stream with an event `deliveries` each time a
/// delivery is stored (by any replica: the store is read) or rejected here, for the
/// delivery log to refresh on instead of polling.
#[utoipa::path(get, path = "/api/v1/deliveries/live", tag = "deliveries",
    responses((status = 200, description = "server-sent events: `deliveries` whenever the log changes", content_type = "text/event-stream"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn deliveries_live(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    use axum::response::IntoResponse;
    let first = newest(&state).await;
    let events = futures_util::stream::unfold((state, first), |(state, last)| async move {
        loop {
            tokio::time::sleep(LIVE_POLL).await;
            let now = newest(&state).await;
            if now != last {
                let event = Event::default().event("deliveries").data("{}");
                return Some((Ok::<_, std::convert::Infallible>(event), (state, now)));
            }
        }
    });
    Sse::new(events)
        .keep_alive(KeepAlive::new().interval(std::time::Duration::from_secs(15)))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_bounds_are_the_enforced_ones() {
        query::assert_documented_bounds::<DeliveriesParams>(
            "limit",
            query::DEFAULT_LIMIT,
            query::MAX_LIMIT,
        );
        let status = query::param_schema::<DeliveriesParams>("status");
        assert_eq!(status["enum"], serde_json::json!(STATUSES));
    }
}
