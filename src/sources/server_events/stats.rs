//! The server-events stats: events per day, server and type; milestones by type; games
//! by outcome; the players with the most games and the most wins. Served to the
//! dashboard's server-events page.

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::listing::{configured, unsupported};
use super::store::{self, EventStats};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::{self, ApiQuery};
use crate::http::AppState;

/// Default and largest number of players per list.
const DEFAULT_TOP: usize = 10;
const MAX_TOP: usize = 100;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Start: `YYYY-MM-DD` (UTC) or RFC 3339.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    from: Option<String>,
    /// End: `YYYY-MM-DD` (inclusive) or RFC 3339 (exclusive); after `from`.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    to: Option<String>,
    /// Players per list, 1 to 100 (default 10).
    #[param(minimum = 1, maximum = 100, default = json!(DEFAULT_TOP))]
    top: Option<usize>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ServerEventStatsAnswer)]
pub struct StatsAnswer {
    source: String,
    #[serde(flatten)]
    stats: EventStats,
}

/// Counts over the source's events accepted in a time range (all time by default).
#[utoipa::path(get, path = "/api/v1/sources/{source}/stats", tag = "server-events",
    params(("source" = String, Path, description = "a source configured with auth = \"api-key\""), StatsParams),
    responses(
        (status = 200, body = StatsAnswer),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
    ))]
pub async fn stats(
    State(state): State<AppState>,
    Path(source): Path<String>,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<StatsAnswer>, ApiError> {
    configured(&state, &source)?;
    let range = query::range(p.from.as_deref(), p.to.as_deref())?;
    let top = query::bounded("top", p.top, DEFAULT_TOP, MAX_TOP)?;
    let reads = store::of(&*state.store).ok_or_else(unsupported)?;
    let stats = reads.server_event_stats(&source, range, top).await?;
    Ok(Json(StatsAnswer { source, stats }))
}

#[cfg(test)]
mod contract_tests {
    use super::*;

    #[test]
    fn documented_bounds_are_the_enforced_ones() {
        crate::http::query::assert_documented_bounds::<StatsParams>("top", DEFAULT_TOP, MAX_TOP);
    }
}
