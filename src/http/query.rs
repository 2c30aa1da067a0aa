//! Query-string parsing for the stats API: a typed extractor whose failures are API
//! errors naming the parameter, and the date/range/limit/cursor conventions shared by
//! every endpoint.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use chrono::{DateTime, Days, NaiveDate};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::stats::TimeRange;

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 1000;

/// Like `axum::extract::Query`, but a bad parameter is a JSON `invalid_query` error.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_urlencoded::from_str(query)
            .map(ApiQuery)
            .map_err(|e| ApiError::InvalidQuery {
                name: "query",
                reason: e.to_string(),
            })
    }
}

/// `YYYY-MM-DD` (a UTC day) or an RFC 3339 instant, as Unix milliseconds.
/// With `end_of_day`, a bare date means the instant after that day ends, so that
/// `to=2026-11-22` includes all of the 22nd.
pub fn instant(name: &'static str, value: &str, end_of_day: bool) -> Result<i64, ApiError> {
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let date = if end_of_day {
            date.checked_add_days(Days::new(1))
                .ok_or_else(|| ApiError::invalid_query(name, "date out of range"))?
        } else {
            date
        };
        return Ok(date
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
            .timestamp_millis());
    }
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.timestamp_millis())
        .map_err(|_| ApiError::invalid_query(name, "expected YYYY-MM-DD or an RFC 3339 time"))
}

pub fn range(from: Option<&str>, to: Option<&str>) -> Result<TimeRange, ApiError> {
    let range = TimeRange {
        from: from.map(|v| instant("from", v, false)).transpose()?,
        to: to.map(|v| instant("to", v, true)).transpose()?,
    };
    if let (Some(f), Some(t)) = (range.from, range.to) {
        if f >= t {
            return Err(ApiError::invalid_query("to", "must be after `from`"));
        }
    }
    Ok(range)
}

pub fn limit(value: Option<usize>) -> Result<usize, ApiError> {
    bounded("limit", value, DEFAULT_LIMIT, MAX_LIMIT)
}

/// A count parameter (`limit`, `top`, ...): `default` when absent, else 1 to `max`.
pub fn bounded(
    name: &'static str,
    value: Option<usize>,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match value.unwrap_or(default) {
        n if (1..=max).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid_query(name, format!("must be 1 to {max}"))),
    }
}

/// Cursors are opaque to clients; today they carry a sequence number.
pub fn cursor(value: Option<&str>) -> Result<Option<i64>, ApiError> {
    value
        .map(|v| {
            v.parse::<i64>()
                .ok()
                .filter(|n| *n >= 0)
                .ok_or_else(|| ApiError::invalid_query("cursor", "not a cursor this API returned"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_instants() {
        assert_eq!(instant("from", "1970-01-02", false).unwrap(), 86_400_000);
        assert_eq!(instant("to", "1970-01-01", true).unwrap(), 86_400_000);
        assert_eq!(
            instant("from", "1970-01-01T00:00:01Z", false).unwrap(),
            1000
        );
        assert!(instant("from", "yesterday", false).is_err());
        assert!(range(Some("2026-02-01"), Some("2026-01-01")).is_err());
    }
}
