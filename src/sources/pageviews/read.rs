//! Page-view statistics out: the sites a reader may see, and per site the series,
//! totals, top pages, referrers, sources and entry pages of a range (with the same
//! page, referrer and source filters everywhere), the dropped hits, and "now".

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::sites::Site;
use super::stats::{self, Bucket, Counts, Filter, Origin, Summary, ViewQuery};
use crate::access::{Reader, Resource};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::query::{self, ApiQuery};
use crate::http::AppState;

/// Most buckets one series may hold.
const MAX_BUCKETS: usize = 2000;
/// The dashboard's default range: the last 30 days.
const DEFAULT_DAYS: i64 = 30;
/// "Now" is the last five minutes.
const NOW_MS: i64 = 5 * 60_000;
const DEFAULT_TOP: usize = 10;
const MAX_TOP: usize = 100;

fn unavailable(e: crate::store::StoreError) -> ApiError {
    ApiError::StoreUnavailable(std::sync::Arc::new(e))
}

/// The registered site `domain` names, if the reader may read it (else exactly what
/// a missing site answers).
pub async fn readable_site(
    state: &AppState,
    reader: &Reader,
    domain: &str,
) -> Result<Site, ApiError> {
    let missing = || ApiError::NotFound(format!("no site `{domain}` is registered here"));
    let key = super::sites::normalize_domain(domain).ok_or_else(missing)?;
    reader.check(&Resource::Site(key))?;
    state
        .pageviews
        .sites
        .get(state.store.as_ref(), domain)
        .await
        .map_err(unavailable)?
        .ok_or_else(missing)
}

fn reads(state: &AppState) -> Result<&dyn super::store::PageviewStore, ApiError> {
    super::store::of(state.store.as_ref())
        .ok_or_else(|| ApiError::NotFound("this store keeps no page views".into()))
}

#[derive(Serialize, ToSchema)]
pub struct SiteItem {
    pub domain: String,
    pub origins: Vec<String>,
    /// Whether anyone may read its live counters.
    pub public_live: bool,
    /// Whether it has a site token.
    pub token: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SiteList {
    pub sites: Vec<SiteItem>,
}

/// The registered sites the reader may read.
#[utoipa::path(get, path = "/api/v1/sites", tag = "pageviews",
    responses((status = 200, body = SiteList), (status = 401, body = ErrorBody)))]
pub async fn sites(
    State(state): State<AppState>,
    reader: Reader,
) -> Result<Json<SiteList>, ApiError> {
    let sites = super::sites::list(state.store.as_ref())
        .await
        .map_err(unavailable)?
        .into_iter()
        .filter(|s| reader.allows(&Resource::Site(s.domain.clone())))
        .map(|s| SiteItem {
            token: s.token_sha256.is_some(),
            domain: s.domain,
            origins: s.origins,
            public_live: s.public_live,
        })
        .collect();
    Ok(Json(SiteList { sites }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// Start: `YYYY-MM-DD` (UTC) or RFC 3339. Default: 30 days before `to`.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    from: Option<String>,
    /// End: `YYYY-MM-DD` (inclusive) or RFC 3339 (exclusive). Default: now.
    #[param(value_type = Option<crate::http::query::Instant>, inline)]
    to: Option<String>,
    /// Bucket size of the series. Default `day`.
    #[serde(default)]
    #[param(inline)]
    interval: Bucket,
    /// Only views of this page (a path, as listed in `pages`).
    page: Option<String>,
    /// Only views from this referring host; `(direct)` for none.
    referrer: Option<String>,
    /// Only views from this source (e.g. `Google`, or a `utm_source`).
    source: Option<String>,
    /// Only views counted by a script on the page (`script`: beacons, events, live
    /// sockets) or from the web server's access log (`log`). Default: both.
    #[param(inline)]
    origin: Option<Origin>,
    /// Rows per top list (1–100). Default 10.
    #[param(minimum = 1, maximum = 100)]
    top: Option<usize>,
}

#[derive(Serialize, ToSchema)]
pub struct DropCount {
    /// `bot`, `automated_browser` or `no_user_agent`.
    pub reason: String,
    pub count: u64,
}

#[derive(Serialize, ToSchema)]
pub struct SiteStats {
    pub site: String,
    pub from: String,
    pub to: String,
    #[schema(inline)]
    pub interval: Bucket,
    pub page: Option<String>,
    pub referrer: Option<String>,
    pub source: Option<String>,
    #[schema(inline)]
    pub origin: Option<Origin>,
    #[serde(flatten)]
    pub summary: Summary,
    /// Hits dropped in the range (bots, automated browsers), by reason; unfiltered.
    pub dropped: Vec<DropCount>,
}

fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Views and visitors of a site over a range: series, totals and top lists.
#[utoipa::path(get, path = "/api/v1/sites/{site}/stats", tag = "pageviews",
    params(("site" = String, Path, description = "the site's domain"), StatsParams),
    responses((status = 200, body = SiteStats), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn site_stats(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    reader: Reader,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<SiteStats>, ApiError> {
    let site = readable_site(&state, &reader, &domain).await?;
    let range = query::range(p.from.as_deref(), p.to.as_deref())?;
    let to_ms = range
        .to
        .unwrap_or_else(|| chrono::Utc::now().timestamp_millis() + 1);
    let from_ms = range.from.unwrap_or(to_ms - DEFAULT_DAYS * 86_400_000);
    if from_ms >= to_ms {
        return Err(ApiError::invalid_query(
            "from",
            "must be before `to` (default: now)",
        ));
    }
    let top = p.top.unwrap_or(DEFAULT_TOP);
    if !(1..=MAX_TOP).contains(&top) {
        return Err(ApiError::invalid_query("top", "must be between 1 and 100"));
    }
    let labels = p
        .interval
        .labels(from_ms, to_ms - 1, MAX_BUCKETS)
        .ok_or_else(|| {
            ApiError::invalid_query(
                "interval",
                format!("the range holds more than {MAX_BUCKETS} buckets: use a larger interval or a shorter range"),
            )
        })?;
    // An empty filter (`page=`) is no filter, as the dashboard's cleared fields send it.
    let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
    let filter = Filter {
        page: given(&p.page),
        referrer: given(&p.referrer),
        source: given(&p.source),
        origin: p.origin,
    };
    let store = reads(&state)?;
    let query = ViewQuery {
        site: site.domain.clone(),
        from_ms,
        to_ms,
        filter,
    };
    let now_ms = chrono::Utc::now().timestamp_millis();
    let summary = store
        .summary(&query, p.interval, labels, top, now_ms)
        .await
        .map_err(unavailable)?;
    let dropped = store
        .drops(&site.domain, from_ms, to_ms)
        .await
        .map_err(unavailable)?
        .into_iter()
        .map(|(reason, count)| DropCount { reason, count })
        .collect();
    Ok(Json(SiteStats {
        site: site.domain,
        from: rfc3339(from_ms),
        to: rfc3339(to_ms),
        interval: p.interval,
        page: p.page,
        referrer: p.referrer,
        source: p.source,
        origin: p.origin,
        summary,
        dropped,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SiteNow {
    pub site: String,
    /// The start of the window: five minutes ago.
    pub since: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Visitors and views of the last five minutes.
#[utoipa::path(get, path = "/api/v1/sites/{site}/now", tag = "pageviews",
    params(("site" = String, Path, description = "the site's domain")),
    responses((status = 200, body = SiteNow), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn now(
    State(state): State<AppState>,
    Path(domain): Path<String>,
    reader: Reader,
) -> Result<Json<SiteNow>, ApiError> {
    let site = readable_site(&state, &reader, &domain).await?;
    let to_ms = chrono::Utc::now().timestamp_millis() + 1;
    let query = ViewQuery {
        site: site.domain.clone(),
        from_ms: to_ms - NOW_MS,
        to_ms,
        filter: Filter::default(),
    };
    let views = reads(&state)?.views(&query).await.map_err(unavailable)?;
    Ok(Json(SiteNow {
        site: site.domain,
        since: rfc3339(query.from_ms),
        counts: stats::now(&views),
    }))
}
